//! One worker pool for the segments of a transfer (uploads and downloads alike): items taken
//! in order by `openstack-segment-threads` workers, progress of all of them reported on the
//! calling thread, the first failure or a cancel stopping every worker.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use super::types::Progress;
use crate::error::{Error, ErrorKind, Result};
use crate::http::retry::{watch_waits, Watching};
use crate::lock::Recover;

/// `progress` made askable during waits before another try: the callback returned records
/// what it last reported, and while the guard lives, this thread's waits call the host's
/// callback again with those figures (every quarter second), so that false cancels a wait too.
pub(crate) fn watched(progress: Option<Progress>) -> (Option<Progress>, Option<Watching>) {
    let Some(progress) = progress else {
        return (None, None);
    };
    let state = Arc::new(Mutex::new((progress, 0u64, None::<u64>)));
    let recorder = state.clone();
    let lent: Progress = Box::new(move |done, total| {
        let mut s = recorder.lock().recover();
        s.1 = done;
        s.2 = total;
        (s.0)(done, total)
    });
    let guard = watch_waits(Rc::new(move || {
        let mut s = state.lock().recover();
        let (done, total) = (s.1, s.2);
        (s.0)(done, total)
    }));
    (Some(lent), Some(guard))
}

/// What a worker's item reports through: its bytes as they go, and whether to stop.
pub(crate) struct Lane {
    tx: mpsc::Sender<i64>,
    abort: Arc<AtomicBool>,
}

impl Lane {
    /// A progress callback for one transfer of the item: its bytes so far (it may start again
    /// from 0 on a retry); it says stop once the pool is stopping.
    pub(crate) fn progress(&self) -> Progress {
        let (tx, abort) = (self.tx.clone(), self.abort.clone());
        let mut last = 0u64;
        Box::new(move |done, _| {
            let _ = tx.send(done as i64 - last as i64);
            last = done;
            !abort.load(Ordering::SeqCst)
        })
    }

    /// Counts `bytes` done without a transfer (a segment already stored).
    pub(crate) fn skip(&self, bytes: u64) {
        let _ = self.tx.send(bytes as i64);
    }
}

/// Runs `work(index, lane)` for every index below `count`, `threads` at a time, and returns
/// the results in index order. `progress` sees the bytes of all items against `total`, on the
/// calling thread; when it returns false the run stops with the error `cancelled` makes. The
/// first failure stops every worker (a cancel it causes elsewhere is not the cause).
pub(crate) fn run_indexed<T: Send>(
    count: usize,
    threads: usize,
    total: u64,
    mut progress: Option<Progress>,
    cancelled: impl FnOnce() -> Error,
    work: impl Fn(usize, &Lane) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let abort = Arc::new(AtomicBool::new(false));
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    let (tx, rx) = mpsc::channel::<i64>();
    let mut stopped = false;
    std::thread::scope(|scope| {
        for _ in 0..threads.min(count).max(1) {
            let lane = Lane {
                tx: tx.clone(),
                abort: abort.clone(),
            };
            let (next, failure, results, work) = (&next, &failure, &results, &work);
            scope.spawn(move || {
                // A worker's wait before another try asks the calling thread (which asks the
                // host's progress callback) and stops when the pool does.
                let (tx, abort) = (lane.tx.clone(), lane.abort.clone());
                let _watch = watch_waits(Rc::new(move || {
                    let _ = tx.send(0);
                    !abort.load(Ordering::SeqCst)
                }));
                work_until_done(&lane, next, count, failure, results, work)
            });
        }
        drop(tx);
        let mut done: i64 = 0;
        for delta in rx {
            done += delta;
            if stopped {
                continue;
            }
            if let Some(p) = progress.as_mut() {
                if !p(done.max(0) as u64, Some(total)) {
                    stopped = true;
                    abort.store(true, Ordering::SeqCst);
                }
            }
        }
    });
    if stopped {
        return Err(cancelled());
    }
    if let Some(e) = failure.into_inner().recover() {
        return Err(e);
    }
    results
        .into_inner()
        .recover()
        .into_iter()
        .map(|r| {
            r.ok_or_else(|| {
                Error::new(
                    ErrorKind::Server,
                    "a segment was not transferred (no error was recorded)",
                )
            })
        })
        .collect()
}

/// One worker: takes the next index until none is left, the pool stops, or its item fails.
fn work_until_done<T>(
    lane: &Lane,
    next: &AtomicUsize,
    count: usize,
    failure: &Mutex<Option<Error>>,
    results: &Mutex<Vec<Option<T>>>,
    work: &(impl Fn(usize, &Lane) -> Result<T> + Sync),
) {
    loop {
        if lane.abort.load(Ordering::SeqCst) {
            return;
        }
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= count {
            return;
        }
        match work(i, lane) {
            Ok(r) => results.lock().recover()[i] = Some(r),
            Err(e) => {
                lane.abort.store(true, Ordering::SeqCst);
                let mut f = failure.lock().recover();
                if f.is_none() || e.kind() != ErrorKind::Cancelled {
                    f.get_or_insert(e);
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_and_the_first_failure_stops_the_rest() {
        let seen = Mutex::new(Vec::new());
        let out = run_indexed(
            10,
            3,
            10,
            None,
            || Error::new(ErrorKind::Cancelled, "c"),
            |i, lane| {
                lane.skip(1);
                seen.lock().unwrap().push(i);
                Ok(i * 2)
            },
        )
        .unwrap();
        assert_eq!(out, (0..10).map(|i| i * 2).collect::<Vec<_>>());
        let e = run_indexed(
            100,
            2,
            0,
            None,
            || Error::new(ErrorKind::Cancelled, "c"),
            |i, _| {
                if i == 3 {
                    Err(Error::new(ErrorKind::Network, "boom"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        // A progress callback that says stop cancels the run.
        let stop: Progress = Box::new(|done, _| done < 3);
        let e = run_indexed(
            50,
            2,
            50,
            Some(stop),
            || Error::new(ErrorKind::Cancelled, "stopped"),
            |_, lane| {
                lane.skip(1);
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
    }
}
