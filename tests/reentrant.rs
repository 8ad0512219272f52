//! Host callbacks that come back into the library, against the real Keystone and Swift of the
//! test bed: a log sink that uses the destination whose call is logging (nothing is logged while
//! the library holds a lock, so this cannot wait forever), and the progress and read callbacks of
//! an upload that use the destination they are uploading to (an upload's body is read outside
//! the HTTP runtime, so a nested request can wait on it). One test: the sink is process-wide.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use openstack_dest::log::{self, Level};
use openstack_dest::Destination;
use support::real::{testbed, unique_container, var};

#[test]
fn a_log_sink_may_use_the_destination_that_is_logging() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("reentrant");
    let dest: Arc<OnceLock<Destination>> = Arc::default();
    let inner: Arc<Mutex<Vec<String>>> = Arc::default();
    let (d2, i2) = (dest.clone(), inner.clone());
    log::set_sink(
        Some(Arc::new(move |_: Level, line: &str| {
            // The line that says the destination authenticated: use it again from here (the
            // token it just got, and a request to the account).
            if line.contains("authenticated") {
                if let Some(d) = d2.get() {
                    let outcome = d.session().and_then(|_| d.quota()).map(|_| ());
                    i2.lock().unwrap().push(format!("{outcome:?}"));
                }
            }
        })),
        Level::Debug,
    );
    let (done, finished) = mpsc::channel();
    let d3 = dest.clone();
    let url = tb.v3(&c, "", &var("OSD_REGION1"));
    std::thread::spawn(move || {
        let d = d3.get_or_init(|| Destination::open(&url).unwrap());
        let outcome = d.create_container();
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(outcome) => outcome.unwrap(),
        // The sink is left in place: removing it would wait for the call that hangs.
        Err(_) => panic!(
            "the destination hung: its log sink could not use it (a lock held while logging)"
        ),
    }
    log::set_sink(None, Level::Error);
    assert_eq!(
        inner.lock().unwrap().as_slice(),
        ["Ok(())"],
        "the sink's own calls"
    );

    // An upload whose progress and read callbacks use the same destination.
    let d = Arc::new(Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap());
    d.put_bytes("first", b"one").unwrap();
    let nested: Arc<Mutex<Vec<String>>> = Arc::default();
    let (d4, n4) = (d.clone(), nested.clone());
    let once = std::sync::atomic::AtomicBool::new(false);
    let progress = move |done: u64, _: Option<u64>| {
        if done > 0 && !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let got = d4.get_bytes("first").map(|b| b.len());
            n4.lock().unwrap().push(format!("progress: {got:?}"));
        }
        true
    };
    struct Reader {
        d: Arc<Destination>,
        left: usize,
        seen: Arc<Mutex<Vec<String>>>,
    }
    impl std::io::Read for Reader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 1 << 20 {
                let got = self.d.stat("first").map(|e| e.size);
                self.seen.lock().unwrap().push(format!("read: {got:?}"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(b'x');
            self.left -= n;
            Ok(n)
        }
    }
    let reader = Reader {
        d: d.clone(),
        left: 1 << 20,
        seen: nested.clone(),
    };
    let (done, finished) = mpsc::channel();
    let d5 = d.clone();
    std::thread::spawn(move || {
        let outcome = d5.put_stream(
            "second",
            Box::new(openstack_dest::ReadOnce(reader)),
            Some(1 << 20),
            Some(Box::new(progress)),
        );
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(outcome) => assert_eq!(outcome.unwrap(), 1 << 20),
        Err(_) => panic!("an upload whose callbacks use its destination hung"),
    }
    assert_eq!(
        nested.lock().unwrap().as_slice(),
        ["read: Ok(Some(3))", "progress: Ok(3)"],
        "the callbacks' own calls"
    );
    assert_eq!(d.stat("second").unwrap().size, Some(1 << 20));
    d.delete("first").unwrap();
    d.delete("second").unwrap();
    dest.get().unwrap().delete_container(false).unwrap();
}
