//! Host callbacks that come back into the library, against the real Keystone and Swift of the
//! test bed: a log sink that uses the destination whose call is logging. Nothing is logged while
//! the library holds a lock, so this cannot wait forever. One test: the sink is process-wide.

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
    let inner = inner.lock().unwrap();
    assert_eq!(inner.as_slice(), ["Ok(())"], "the sink's own calls");
    dest.get().unwrap().delete_container(false).unwrap();
}
