//! A soak on the real test bed: 8 threads share one destination for a bounded time
//! (`OSD_SOAK_SECONDS`, default 20; `make soak` runs it longer) doing mixed put, get, list,
//! delete and rename, small objects and segmented ones, while the relay resets connections at
//! random. Every operation must succeed or fail with a precise status; at the end,
//! python-swiftclient must find every object reported stored with its MD5, and every object
//! a failed operation touched either as it was before or as the operation would have left it.
//!
//! Each thread owns its names, so what each name may hold is known exactly: a set of
//! possibilities (absent, or an MD5), one after a success, more after a failure.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openstack_dest::log::{self, Level};
use openstack_dest::{Destination, ErrorKind};
use support::fake::md5_hex;
use support::real::{
    destination_via, inventory, orphan_segments, swift_hostport, testbed, unique_container,
};
use support::relay::Relay;

const THREADS: usize = 8;
const NAMES_PER_THREAD: usize = 5;
/// Objects over this are segmented (a few segments each).
const SEGMENT: usize = 96 * 1024;

/// What a name may hold: None for absent, Some(MD5).
type Maybe = BTreeSet<Option<String>>;

#[derive(Default)]
struct Counts {
    ops: BTreeMap<&'static str, usize>,
    failures: BTreeMap<String, usize>,
    /// Gets, deletes and renames of a name that held nothing (an answer, not a failure).
    not_found: usize,
}

impl Counts {
    fn op(&mut self, op: &'static str, r: &Result<(), openstack_dest::Error>) {
        *self.ops.entry(op).or_default() += 1;
        if let Err(e) = r {
            *self
                .failures
                .entry(format!("{op}: {:?}", e.kind()))
                .or_default() += 1;
        }
    }
}

/// The failures a reset may cause once the retries are spent.
fn precise(op: &str, e: &openstack_dest::Error) {
    let ok = matches!(
        e.kind(),
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Server
    ) || (op == "get" && e.kind() == ErrorKind::Integrity);
    assert!(ok, "{op} failed with an imprecise status: {e}");
}

fn one(x: Option<String>) -> Maybe {
    BTreeSet::from([x])
}

fn worker(
    d: &Destination,
    t: usize,
    until: Instant,
    counts: &Mutex<Counts>,
) -> Vec<(String, Maybe)> {
    let mut rng = fastrand::Rng::with_seed(t as u64 * 7919 + 1);
    let names: Vec<String> = (0..NAMES_PER_THREAD)
        .map(|i| format!("t{t}/o{i}"))
        .collect();
    let mut may: Vec<Maybe> = vec![one(None); NAMES_PER_THREAD];
    while Instant::now() < until {
        let i = rng.usize(..NAMES_PER_THREAD);
        let name = &names[i];
        match rng.u32(..100) {
            0..=34 => {
                let size = if rng.bool() {
                    rng.usize(..16 * 1024)
                } else {
                    rng.usize(SEGMENT..4 * SEGMENT)
                };
                let data: Vec<u8> = (0..size).map(|_| rng.u8(..)).collect();
                let md5 = md5_hex(&data);
                let r = d.put_bytes(name, &data);
                counts.lock().unwrap().op("put", &r);
                match r {
                    Ok(()) => may[i] = one(Some(md5)),
                    Err(e) => {
                        precise("put", &e);
                        may[i].insert(Some(md5));
                    }
                }
            }
            35..=59 => {
                let r = d.get_bytes(name);
                let status = match &r {
                    Err(e) if e.kind() != ErrorKind::NotFound => Err(e.clone()),
                    _ => Ok(()),
                };
                counts.lock().unwrap().op("get", &status);
                match r {
                    Ok(data) => {
                        let got = Some(md5_hex(&data));
                        assert!(
                            may[i].contains(&got),
                            "get {name}: {got:?} is none of {:?}",
                            may[i]
                        );
                        may[i] = one(got);
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        assert!(
                            may[i].contains(&None),
                            "get {name}: not found, but {:?}",
                            may[i]
                        );
                        counts.lock().unwrap().not_found += 1;
                        may[i] = one(None);
                    }
                    Err(e) => precise("get", &e),
                }
            }
            60..=69 => {
                let r = d.list_with(
                    &openstack_dest::ListOptions {
                        prefix: format!("t{t}/"),
                        recursive: true,
                    },
                    |e| {
                        assert!(
                            names.contains(&e.name),
                            "listed a name never used: {}",
                            e.name
                        );
                        true
                    },
                );
                counts.lock().unwrap().op("list", &r);
                if let Err(e) = r {
                    precise("list", &e);
                }
            }
            70..=84 => {
                let r = d.delete(name);
                let status = match &r {
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                    other => other.clone(),
                };
                counts.lock().unwrap().op("delete", &status);
                match r {
                    Ok(()) => may[i] = one(None),
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        assert!(
                            may[i].contains(&None),
                            "delete {name}: not found, but {:?}",
                            may[i]
                        );
                        counts.lock().unwrap().not_found += 1;
                        may[i] = one(None);
                    }
                    Err(e) => {
                        precise("delete", &e);
                        may[i].insert(None);
                    }
                }
            }
            _ => {
                let j = (i + 1 + rng.usize(..NAMES_PER_THREAD - 1)) % NAMES_PER_THREAD;
                let r = d.rename(name, &names[j]);
                let status = match &r {
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                    other => other.clone(),
                };
                counts.lock().unwrap().op("rename", &status);
                let present: Maybe = may[i].iter().filter(|m| m.is_some()).cloned().collect();
                match r {
                    Ok(()) => {
                        assert!(!present.is_empty(), "rename {name}: it was never stored");
                        may[j] = present;
                        may[i] = one(None);
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        assert!(
                            may[i].contains(&None),
                            "rename {name}: not found, but {:?}",
                            may[i]
                        );
                        counts.lock().unwrap().not_found += 1;
                        may[i] = one(None);
                    }
                    Err(e) => {
                        precise("rename", &e);
                        may[j].extend(present);
                        may[i].insert(None);
                    }
                }
            }
        }
    }
    names.into_iter().zip(may).collect()
}

#[test]
fn soak_with_random_resets() {
    let Some(_) = testbed() else { return };
    let seconds: u64 = std::env::var("OSD_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let c = unique_container("soak");
    let relay = Relay::start(&swift_hostport());
    let segment = SEGMENT.to_string();
    let opts = [
        ("number-of-retries", "6"),
        ("retry-delay", "50ms"),
        ("openstack-segment-size", segment.as_str()),
        ("openstack-segment-threads", "2"),
    ];
    let d = destination_via(&relay.url(), None, &c, &opts);
    let retries = Arc::new(AtomicUsize::new(0));
    let r = retries.clone();
    log::set_sink(
        Some(Arc::new(move |level: Level, m: &str| {
            if level == Level::Warn && m.contains("retrying in") {
                r.fetch_add(1, Ordering::Relaxed);
            }
        })),
        Level::Warn,
    );
    // One request in four is reset, somewhere in its first 128 KiB either way.
    relay.chaos(4, 128 * 1024);
    let counts = Mutex::new(Counts::default());
    let until = Instant::now() + Duration::from_secs(seconds);
    let expected: Vec<(String, Maybe)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (d, counts) = (&d, &counts);
                s.spawn(move || worker(d, t, until, counts))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    relay.calm();
    log::set_sink(None, Level::Error);

    let held = inventory(&c);
    let mut verified = 0;
    for (name, maybe) in &expected {
        let found = held.get(name).map(|(_, md5)| md5.clone());
        assert!(
            maybe.contains(&found),
            "{name}: Swift holds {found:?}, but the operations allow only {maybe:?}"
        );
        verified += found.is_some() as usize;
    }
    let names: BTreeSet<&String> = expected.iter().map(|(n, _)| n).collect();
    for name in held.keys() {
        assert!(
            names.contains(name),
            "Swift holds an object never named: {name}"
        );
    }
    let counts = counts.into_inner().unwrap();
    let total: usize = counts.ops.values().sum();
    let failed: usize = counts.failures.values().sum();
    let (segments, orphans) = orphan_segments(&c);
    eprintln!(
        "soak: {seconds} s, {THREADS} threads, {total} operations {:?}; {} connections, {} resets injected, {} retries; {} not found; {failed} failed {:?}; {verified} objects verified by python-swiftclient ({} names, {} certain); {segments} segments in {c}_segments, {} not used by any manifest",
        counts.ops,
        relay.connections(),
        relay.fired(),
        retries.load(Ordering::Relaxed),
        counts.not_found,
        counts.failures,
        expected.len(),
        expected.iter().filter(|(_, m)| m.len() == 1).count(),
        orphans.len(),
    );
    assert!(relay.fired() > 0, "the relay injected no fault");
    assert!(total > THREADS, "the soak did almost nothing");
}
