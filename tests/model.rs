//! A stateful model of the object lifecycle against the real Swift of the test bed.
//!
//! Random histories of puts (bytes, files, streams; small and segmented; the same file with the
//! same contents and modification time again and again, on purpose), overwrites, renames in
//! every direction, deletes, metadata and expiry changes, gets, listings and sweeps, over a few
//! names in two containers that share one segment container; some steps go through a relay that
//! resets connections at random, some are cancelled by their progress callback, some run in a
//! child process killed with SIGKILL at a random moment. After every step python-swiftclient
//! (tests/openstack/inventory.py), not the library, reads every object back whole: each must be
//! one of the contents the model allows (a failed or killed step allows the old and the new),
//! never a mix, never broken; after a sweep no segment of that container is an orphan.
//!
//! A failing history is shrunk (steps removed while it still fails) and printed; keep it in
//! `regressions()`. With `OSD_MODEL_OUTAGE_NODE=N` (a test bed started with `OSD_REPLICAS=3`),
//! storage node N is stopped for 10 s every 25 s while the histories run: the library's own reads
//! that come back stale (a replica that missed writes) are counted and reported, not failed, and
//! the run reports the retries and 503s the library logged. `OSD_MODEL_SECONDS` bounds the run (default 60; `make soak` runs longer),
//! `OSD_MODEL_SEED` replays one seed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openstack_dest::{Destination, ErrorKind, PutOptions, ReadOnce, Rewindable};
use support::fake::md5_hex;
use support::real::{account_path, testbed, unique_container, var, Testbed};
use support::relay::Relay;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
/// The segment size of every destination: objects above it are Static Large Objects.
const SEGMENT: &str = "1MiB";
/// The names each container holds.
const NAMES: [&str; 3] = ["a", "b", "d/e"];

/// One step of a history.
#[derive(Clone, Debug)]
enum Op {
    /// Uploads file `file` of the pool (fixed contents and modification time).
    PutFile { c: usize, name: usize, file: usize },
    /// Uploads `len` bytes of `seed` from memory.
    PutBytes {
        c: usize,
        name: usize,
        len: usize,
        seed: u64,
    },
    /// Uploads `len` bytes of `seed` as a stream, rewindable or not, size known or not.
    PutStream {
        c: usize,
        name: usize,
        len: usize,
        seed: u64,
        rewind: bool,
        sized: bool,
    },
    /// Renames `from` to `to`.
    Rename { c: usize, from: usize, to: usize },
    /// Deletes the name.
    Delete { c: usize, name: usize },
    /// Deletes several names at once (a bit mask of `NAMES`).
    DeleteMany { c: usize, names: u8 },
    /// Sets metadata and an expiry a day away, or removes the expiry.
    Expiry { c: usize, name: usize, set: bool },
    /// Reads the name back through the library.
    Get { c: usize, name: usize },
    /// Lists the container through the library.
    List { c: usize },
    /// Sweeps the container's orphan segments with no grace period.
    Sweep { c: usize },
    /// Uploads file `file`, cancelled by its progress callback after `at` bytes.
    CancelPut {
        c: usize,
        name: usize,
        file: usize,
        at: u64,
    },
    /// Uploads file `file` in a child process killed after `after_ms`.
    KillPut {
        c: usize,
        name: usize,
        file: usize,
        after_ms: u64,
    },
    /// The step through the relay that resets connections at random.
    Faulty(Box<Op>),
}

/// What the library logged during the run: retries, and answers of HTTP 503.
static RETRIES: AtomicU64 = AtomicU64::new(0);
static UNAVAILABLE: AtomicU64 = AtomicU64::new(0);
/// Reads through the library that came back stale during node outages.
static STALE: AtomicU64 = AtomicU64::new(0);

/// Whether storage nodes go down during the run (then stale reads are counted, not failed).
fn outages() -> bool {
    std::env::var_os("OSD_MODEL_OUTAGE_NODE").is_some()
}

/// Stops storage node `node` for 10 s every 25 s until `stop`; returns how often.
fn run_outages(node: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u32> {
    std::thread::spawn(move || {
        let testbed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openstack/testbed.sh");
        let bash = |args: &[&str]| {
            let ok = std::process::Command::new("bash")
                .arg(testbed)
                .args(args)
                .env("OSD_REPLICAS", "3")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "testbed.sh {args:?} failed");
        };
        let nap = |secs: u64| {
            for _ in 0..secs * 10 {
                if stop.load(Ordering::SeqCst) {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            true
        };
        let mut count = 0;
        while nap(15) {
            bash(&["node-stop", &node]);
            count += 1;
            nap(10);
            bash(&["start"]);
        }
        count
    })
}

/// What a name may hold: each element a content, or `None` for absent.
type Allowed = Vec<Option<Arc<Vec<u8>>>>;

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// The pool of files: small, two segments and a bit, three segments; each with a fixed
/// modification time, so an upload of it again is "the same file".
fn file_sizes() -> [usize; 3] {
    [300 * KIB, 2 * MIB + 7, 3 * MIB]
}

struct World {
    containers: [String; 2],
    segc: String,
    direct: Vec<Destination>,
    faulty: Vec<Destination>,
    relay: Relay,
    /// A relay limited to 4 MiB/s for the uploads that are killed, so a kill can fall anywhere.
    slow: Relay,
    dir: PathBuf,
    files: Vec<(PathBuf, Arc<Vec<u8>>)>,
    model: BTreeMap<(usize, usize), Allowed>,
    /// What the last history did, for the report.
    stats: Stats,
}

#[derive(Default, Debug, Clone, Copy)]
struct Stats {
    histories: u64,
    steps: u64,
    faulty: u64,
    cancels: u64,
    kills: u64,
    sweeps: u64,
    swept: u64,
    /// The most orphan segments (and marks) seen after a step.
    orphans_seen: u64,
}

fn url(c: &str, segc: &str) -> String {
    format!(
        "{}&openstack-segment-size={SEGMENT}&openstack-segment-container={segc}&openstack-segment-threads=2&number-of-retries=2&retry-delay=20ms",
        Testbed.v3(c, "", &var("OSD_REGION1"))
    )
}

impl World {
    fn new(tag: &str) -> World {
        let c1 = unique_container(&format!("{tag}1"));
        let c2 = unique_container(&format!("{tag}2"));
        let segc = format!("{c1}_seg");
        let relay = Relay::start(&support::real::swift_hostport());
        let slow = Relay::start(&support::real::swift_hostport());
        slow.set_rate(4 * MIB as u64);
        let mut direct = Vec::new();
        let mut faulty = Vec::new();
        for c in [&c1, &c2] {
            let d = Destination::open(&url(c, &segc)).unwrap();
            d.create_container().unwrap();
            direct.push(d);
            let storage = format!("{}{}", relay.url(), account_path(c));
            let f = Destination::open_with(
                &url(c, &segc),
                [("openstack-storage-url", storage.as_str())],
            )
            .unwrap();
            faulty.push(f);
        }
        let dir = std::env::temp_dir().join(unique_container(tag));
        std::fs::create_dir_all(&dir).unwrap();
        let files = file_sizes()
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let path = dir.join(format!("file{i}"));
                let data = payload(n, 1000 + i as u64);
                std::fs::write(&path, &data).unwrap();
                let f = std::fs::File::options().write(true).open(&path).unwrap();
                f.set_modified(
                    std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64),
                )
                .unwrap();
                (path, Arc::new(data))
            })
            .collect();
        let mut model = BTreeMap::new();
        for c in 0..2 {
            for n in 0..NAMES.len() {
                model.insert((c, n), vec![None]);
            }
        }
        World {
            containers: [c1, c2],
            segc,
            direct,
            faulty,
            relay,
            slow,
            dir,
            files,
            model,
            stats: Stats::default(),
        }
    }

    fn finish(self) {
        for d in &self.direct {
            let _ = d.delete_container(true);
        }
        let seg = Destination::open(&url(&self.segc, &format!("{}x", self.segc))).unwrap();
        let _ = seg.delete_container(true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    fn allowed(&self, c: usize, n: usize) -> Allowed {
        self.model[&(c, n)].clone()
    }

    fn set(&mut self, c: usize, n: usize, allowed: Allowed) {
        let mut unique: Allowed = Vec::new();
        for a in allowed {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        self.model.insert((c, n), unique);
    }

    /// Runs `op`; returns a complaint when what the library said contradicts the model.
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        self.stats.steps += 1;
        let (op, faulty) = match op {
            Op::Faulty(inner) => {
                self.stats.faulty += 1;
                self.relay.chaos(3, 200_000);
                (inner.as_ref(), true)
            }
            other => (other, false),
        };
        let result = self.run(op, faulty);
        if faulty {
            self.relay.calm();
        }
        result
    }

    fn run(&mut self, op: &Op, faulty: bool) -> Result<(), String> {
        macro_rules! dest {
            ($c:expr) => {
                if faulty {
                    &self.faulty[$c]
                } else {
                    &self.direct[$c]
                }
            };
        }
        match *op {
            Op::PutFile { c, name, file } => {
                let (path, data) = self.files[file].clone();
                let r = dest!(c).put_file(NAMES[name], &path);
                self.after_put(c, name, data, r, faulty)
            }
            Op::PutBytes { c, name, len, seed } => {
                let data = Arc::new(payload(len, seed));
                let r = dest!(c).put_bytes(NAMES[name], &data);
                self.after_put(c, name, data, r, faulty)
            }
            Op::PutStream {
                c,
                name,
                len,
                seed,
                rewind,
                sized,
            } => {
                let data = Arc::new(payload(len, seed));
                let cursor = std::io::Cursor::new(data.as_ref().clone());
                let source: Box<dyn openstack_dest::UploadSource> = if rewind {
                    Box::new(Rewindable::new(cursor).unwrap())
                } else {
                    Box::new(ReadOnce(cursor))
                };
                let size = sized.then_some(len as u64);
                let r = dest!(c)
                    .put_stream(NAMES[name], source, size, None)
                    .map(|_| ());
                self.after_put(c, name, data, r, faulty)
            }
            Op::Rename { c, from, to } => {
                let (old_from, old_to) = (self.allowed(c, from), self.allowed(c, to));
                let r = dest!(c).rename(NAMES[from], NAMES[to]);
                match r {
                    Ok(()) if from == to => {}
                    Ok(()) => {
                        if old_from.iter().all(Option::is_none) {
                            return Err(format!("renaming a missing {} succeeded", NAMES[from]));
                        }
                        let present: Allowed =
                            old_from.iter().filter(|a| a.is_some()).cloned().collect();
                        self.set(c, to, present);
                        self.set(c, from, vec![None]);
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound && !faulty => {
                        if old_from.iter().any(Option::is_some) && !old_from.contains(&None) {
                            return Err(format!("renaming {} that exists: {e}", NAMES[from]));
                        }
                        self.set(c, from, vec![None]);
                    }
                    Err(e) => {
                        if !faulty && e.kind() != ErrorKind::NotFound {
                            return Err(format!("rename failed without a fault: {e}"));
                        }
                        // The copy may or may not be made, the source may or may not be gone.
                        let mut to_allowed = old_to;
                        to_allowed.extend(old_from.iter().cloned());
                        let mut from_allowed = old_from;
                        from_allowed.push(None);
                        self.set(c, to, to_allowed);
                        self.set(c, from, from_allowed);
                    }
                }
                Ok(())
            }
            Op::Delete { c, name } => {
                let old = self.allowed(c, name);
                match dest!(c).delete(NAMES[name]) {
                    Ok(()) => self.set(c, name, vec![None]),
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        if !old.contains(&None) {
                            return Err(format!("deleting {}: {e}", NAMES[name]));
                        }
                        self.set(c, name, vec![None]);
                    }
                    Err(e) if faulty => {
                        let mut a = old;
                        a.push(None);
                        self.set(c, name, a);
                        let _ = e;
                    }
                    Err(e) => return Err(format!("delete failed without a fault: {e}")),
                }
                Ok(())
            }
            Op::DeleteMany { c, names } => {
                let chosen: Vec<usize> =
                    (0..NAMES.len()).filter(|n| names & (1 << n) != 0).collect();
                let list: Vec<&str> = chosen.iter().map(|n| NAMES[*n]).collect();
                match dest!(c).delete_many(&list) {
                    Ok(report) => {
                        for n in &chosen {
                            match report.failures.iter().find(|(f, _)| f == NAMES[*n]) {
                                None => self.set(c, *n, vec![None]),
                                Some((_, e)) if faulty => {
                                    let _ = e;
                                    let mut a = self.allowed(c, *n);
                                    a.push(None);
                                    self.set(c, *n, a);
                                }
                                Some((_, e)) => {
                                    return Err(format!(
                                        "delete_many of {} failed without a fault: {e}",
                                        NAMES[*n]
                                    ))
                                }
                            }
                        }
                    }
                    Err(e) if faulty => {
                        let _ = e;
                        for n in &chosen {
                            let mut a = self.allowed(c, *n);
                            a.push(None);
                            self.set(c, *n, a);
                        }
                    }
                    Err(e) => return Err(format!("delete_many failed without a fault: {e}")),
                }
                Ok(())
            }
            Op::Expiry { c, name, set } => {
                let opts = if set {
                    PutOptions::new()
                        .meta("step", "expiry")
                        .delete_after(Duration::from_secs(86400))
                } else {
                    PutOptions::new().no_expiry()
                };
                match dest!(c).update_metadata(NAMES[name], &opts) {
                    Ok(()) => {
                        let old = self.allowed(c, name);
                        if old.iter().all(Option::is_none) {
                            return Err(format!(
                                "an expiry on a missing {} succeeded",
                                NAMES[name]
                            ));
                        }
                        let present = old.into_iter().filter(Option::is_some).collect();
                        self.set(c, name, present);
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        let old = self.allowed(c, name);
                        if !old.contains(&None) {
                            return Err(format!("expiry of {}: {e}", NAMES[name]));
                        }
                        self.set(c, name, vec![None]);
                    }
                    Err(e) if faulty => {
                        let _ = e;
                    }
                    Err(e) => return Err(format!("expiry failed without a fault: {e}")),
                }
                Ok(())
            }
            Op::Get { c, name } => {
                let allowed = self.allowed(c, name);
                match dest!(c).get_bytes(NAMES[name]) {
                    Ok(got) => {
                        if !allowed.iter().any(|a| a.as_deref() == Some(&got)) && outages() {
                            STALE.fetch_add(1, Ordering::SeqCst);
                            return Ok(());
                        }
                        if !allowed.iter().any(|a| a.as_deref() == Some(&got)) {
                            return Err(format!(
                                "get {} gave {} bytes (MD5 {}), none of the allowed contents",
                                NAMES[name],
                                got.len(),
                                md5_hex(&got)
                            ));
                        }
                        let got = allowed
                            .into_iter()
                            .find(|a| a.as_deref() == Some(&got))
                            .unwrap();
                        self.set(c, name, vec![got]);
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        if !allowed.contains(&None) && outages() {
                            STALE.fetch_add(1, Ordering::SeqCst);
                            return Ok(());
                        }
                        if !allowed.contains(&None) {
                            return Err(format!("get {}: {e}", NAMES[name]));
                        }
                        self.set(c, name, vec![None]);
                    }
                    Err(e) if faulty => {
                        let _ = e;
                    }
                    Err(e) => {
                        return Err(format!("get {} failed without a fault: {e}", NAMES[name]))
                    }
                }
                Ok(())
            }
            Op::List { c } => {
                let mut names = BTreeSet::new();
                let r = dest!(c).list_with(
                    &openstack_dest::ListOptions {
                        prefix: String::new(),
                        recursive: true,
                    },
                    |e| {
                        names.insert(e.name.clone());
                        true
                    },
                );
                match r {
                    Ok(_) if outages() => {}
                    Ok(_) => {
                        for (n, name) in NAMES.iter().enumerate() {
                            let a = self.allowed(c, n);
                            let listed = names.contains(*name);
                            if listed && a.iter().all(Option::is_none) {
                                return Err(format!("{name} is listed but should be absent"));
                            }
                            if !listed && !a.contains(&None) {
                                return Err(format!("{name} is not listed"));
                            }
                        }
                        if let Some(other) = names.iter().find(|n| !NAMES.contains(&n.as_str())) {
                            return Err(format!("the listing has {other}, which nothing put"));
                        }
                    }
                    Err(e) if faulty => {
                        let _ = e;
                    }
                    Err(e) => return Err(format!("list failed without a fault: {e}")),
                }
                Ok(())
            }
            Op::Sweep { c } => {
                self.stats.sweeps += 1;
                // With nodes going down, listings lag: a grace covers a manifest not yet listed.
                let grace = Duration::from_secs(if outages() { 120 } else { 0 });
                match dest!(c).sweep_segments(grace) {
                    Ok(r) => self.stats.swept += r.removed,
                    Err(e) if faulty => {
                        let _ = e;
                    }
                    Err(e) => return Err(format!("sweep failed without a fault: {e}")),
                }
                Ok(())
            }
            Op::CancelPut { c, name, file, at } => {
                self.stats.cancels += 1;
                let (path, data) = self.files[file].clone();
                let r = dest!(c).put_file_with(
                    NAMES[name],
                    &path,
                    Some(Box::new(move |done, _| done < at)),
                );
                match r {
                    Err(e) if e.kind() == ErrorKind::Cancelled => Ok(()),
                    other => self.after_put(c, name, data, other, faulty),
                }
            }
            Op::KillPut {
                c,
                name,
                file,
                after_ms,
            } => {
                self.stats.kills += 1;
                let (path, data) = self.files[file].clone();
                let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "model_child", "--nocapture", "--test-threads=1"])
                    .env(
                        "OSD_MODEL_CHILD_URL",
                        format!(
                            "{}&openstack-storage-url={}{}",
                            url(&self.containers[c], &self.segc),
                            self.slow.url(),
                            account_path(&self.containers[c])
                        ),
                    )
                    .env("OSD_MODEL_CHILD_NAME", NAMES[name])
                    .env("OSD_MODEL_CHILD_FILE", &path)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(Duration::from_millis(after_ms));
                let _ = child.kill();
                let status = child.wait().unwrap();
                let mut a = self.allowed(c, name);
                if status.success() {
                    a = vec![Some(data)];
                } else {
                    a.push(Some(data));
                }
                self.set(c, name, a);
                Ok(())
            }
            Op::Faulty(_) => unreachable!("a fault is applied once"),
        }
    }

    fn after_put(
        &mut self,
        c: usize,
        name: usize,
        data: Arc<Vec<u8>>,
        r: openstack_dest::Result<()>,
        faulty: bool,
    ) -> Result<(), String> {
        match r {
            Ok(()) => self.set(c, name, vec![Some(data)]),
            Err(e) if faulty || e.kind() == ErrorKind::Cancelled => {
                let mut a = self.allowed(c, name);
                a.push(Some(data));
                self.set(c, name, a);
            }
            Err(e) => return Err(format!("put {} failed without a fault: {e}", NAMES[name])),
        }
        Ok(())
    }

    /// Compares what Swift holds (by python-swiftclient) with the model; narrows the model to
    /// what was found. `swept`: the container whose orphans must be gone.
    fn check(&mut self, swept: Option<usize>) -> Result<(), String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openstack/inventory.py");
        // The inventory itself may meet a busy test bed: that is not the library's failure.
        let mut tries = 0;
        let out = loop {
            let out = std::process::Command::new("/usr/bin/python3")
                .arg(script)
                .arg("--state")
                .args(&self.containers)
                .args(["--segments", &self.segc])
                .args(["--names", &NAMES.join(",")])
                .output()
                .expect("python3 runs the inventory");
            tries += 1;
            if out.status.success() {
                break out;
            }
            if tries == 4 {
                panic!(
                    "the inventory failed 4 times: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_secs(3));
        };
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let orphans = v["orphans"].as_array().map_or(0, |a| a.len() as u64);
        self.stats.orphans_seen = self.stats.orphans_seen.max(orphans);
        for c in 0..2 {
            let objects = &v["objects"][&self.containers[c]];
            for n in 0..NAMES.len() {
                let allowed = self.allowed(c, n);
                let found = &objects[NAMES[n]];
                let hit = if found.is_null() {
                    if !allowed.contains(&None) {
                        return Err(format!(
                            "{}/{} is gone; allowed: {}",
                            c,
                            NAMES[n],
                            describe(&allowed)
                        ));
                    }
                    None
                } else if let Some(e) = found.get("error") {
                    return Err(format!("{}/{} is broken: {e}", c, NAMES[n]));
                } else {
                    let (bytes, md5) = (
                        found["bytes"].as_u64().unwrap(),
                        found["md5"].as_str().unwrap(),
                    );
                    match allowed.iter().find(|a| {
                        a.as_ref().is_some_and(|d| d.len() as u64 == bytes && md5_hex(d) == md5)
                    }) {
                        Some(a) => a.clone(),
                        None => {
                            return Err(format!(
                                "{}/{} holds {bytes} bytes (MD5 {md5}), none of the allowed contents: {}",
                                c,
                                NAMES[n],
                                describe(&allowed)
                            ))
                        }
                    }
                };
                self.set(c, n, vec![hit]);
            }
            // On a cluster of several replicas a listing may lag: objects are asked by name.
            if let Some(other) = objects
                .as_object()
                .unwrap()
                .keys()
                .find(|k| !NAMES.contains(&k.as_str()) && !outages())
            {
                return Err(format!("container {c} holds {other}, which nothing put"));
            }
        }
        if let Some(c) = swept.filter(|_| !outages()) {
            let own = format!("{}/{}/", self.segc, self.containers[c]);
            let left: Vec<&str> = v["orphans"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|o| o.as_str())
                .filter(|o| o.starts_with(&own))
                .collect();
            if !left.is_empty() {
                return Err(format!("after a sweep of {c}, orphans remain: {left:?}"));
            }
        }
        Ok(())
    }
}

fn describe(allowed: &Allowed) -> String {
    allowed
        .iter()
        .map(|a| match a {
            None => "absent".to_string(),
            Some(d) => format!("{} bytes (MD5 {})", d.len(), md5_hex(d)),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A random step.
fn random_op(rng: &mut fastrand::Rng) -> Op {
    let c = rng.usize(..2);
    let name = rng.usize(..NAMES.len());
    let size = |rng: &mut fastrand::Rng| match rng.u8(..3) {
        0 => rng.usize(..64 * KIB),
        1 => rng.usize(MIB - 2..MIB + 3),
        _ => rng.usize(MIB..3 * MIB),
    };
    let op = match rng.u8(..100) {
        0..=21 => Op::PutFile {
            c,
            name,
            file: rng.usize(..3),
        },
        22..=31 => Op::PutBytes {
            c,
            name,
            len: size(rng),
            seed: rng.u64(..4),
        },
        32..=39 => Op::PutStream {
            c,
            name,
            len: size(rng),
            seed: rng.u64(..4),
            rewind: rng.bool(),
            sized: rng.bool(),
        },
        40..=53 => Op::Rename {
            c,
            from: name,
            to: rng.usize(..NAMES.len()),
        },
        54..=59 => Op::Delete { c, name },
        60..=63 => Op::DeleteMany {
            c,
            names: rng.u8(1..8),
        },
        64..=69 => Op::Expiry {
            c,
            name,
            set: rng.bool(),
        },
        70..=76 => Op::Get { c, name },
        77..=79 => Op::List { c },
        80..=85 => Op::Sweep { c },
        86..=92 => Op::CancelPut {
            c,
            name,
            file: rng.usize(1..3),
            at: rng.u64(..3 * MIB as u64),
        },
        _ => Op::KillPut {
            c,
            name,
            file: rng.usize(1..3),
            after_ms: rng.u64(300..1500),
        },
    };
    if rng.u8(..100) < 15 && !matches!(op, Op::KillPut { .. }) {
        Op::Faulty(Box::new(op))
    } else {
        op
    }
}

/// Runs `history` on new containers; the index of the failing step and why, if one fails.
fn run_history(history: &[Op], stats: &mut Stats) -> Option<(usize, String)> {
    let mut w = World::new("model");
    let mut failure = None;
    for (i, op) in history.iter().enumerate() {
        // After a sweep that went without faults, no orphan of that container may remain.
        let swept = match op {
            Op::Sweep { c } => Some(*c),
            _ => None,
        };
        if let Err(e) = w.apply(op).and_then(|()| w.check(swept)) {
            failure = Some((i, e));
            break;
        }
    }
    let s = w.stats;
    stats.histories += 1;
    stats.steps += s.steps;
    stats.faulty += s.faulty;
    stats.cancels += s.cancels;
    stats.kills += s.kills;
    stats.sweeps += s.sweeps;
    stats.swept += s.swept;
    stats.orphans_seen = stats.orphans_seen.max(s.orphans_seen);
    w.finish();
    failure
}

/// The shortest history found (by removing steps) that still fails.
fn shrink(mut history: Vec<Op>, budget: Duration) -> (Vec<Op>, String) {
    let start = Instant::now();
    let mut stats = Stats::default();
    let (end, mut why) =
        run_history(&history, &mut stats).unwrap_or((history.len(), "flaky".into()));
    history.truncate(end + 1);
    let mut i = 0;
    while i < history.len() && start.elapsed() < budget {
        let mut shorter = history.clone();
        shorter.remove(i);
        match run_history(&shorter, &mut stats) {
            Some((end, w)) => {
                shorter.truncate(end + 1);
                history = shorter;
                why = w;
            }
            None => i += 1,
        }
    }
    (history, why)
}

/// Histories that once failed, kept as regression tests: add each one found.
fn regressions() -> Vec<Vec<Op>> {
    Vec::new()
}

#[test]
fn random_histories_of_the_object_lifecycle_match_the_model() {
    let Some(_) = testbed() else { return };
    let seconds: u64 = std::env::var("OSD_MODEL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let fixed_seed: Option<u64> = std::env::var("OSD_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let mut stats = Stats::default();
    openstack_dest::log::set_sink(
        Some(Arc::new(|_, line: &str| {
            if line.contains("retrying in") {
                RETRIES.fetch_add(1, Ordering::SeqCst);
            }
            if line.contains("HTTP 503") {
                UNAVAILABLE.fetch_add(1, Ordering::SeqCst);
            }
        })),
        openstack_dest::log::Level::Warn,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let outage = std::env::var("OSD_MODEL_OUTAGE_NODE")
        .ok()
        .map(|node| run_outages(node, stop.clone()));
    for history in regressions() {
        if let Some((i, why)) = run_history(&history, &mut stats) {
            panic!("regression history failed at step {i}: {why}\n{history:#?}");
        }
    }
    let start = Instant::now();
    let mut seed = fixed_seed.unwrap_or_else(|| fastrand::u64(..));
    loop {
        let mut rng = fastrand::Rng::with_seed(seed);
        let len = rng.usize(6..16);
        let history: Vec<Op> = (0..len).map(|_| random_op(&mut rng)).collect();
        if let Some((i, why)) = run_history(&history, &mut stats) {
            eprintln!("model: seed {seed} failed at step {i}: {why}; shrinking");
            let (small, why) = shrink(history, Duration::from_secs(300));
            panic!("model: seed {seed} fails: {why}\nshortest history found:\n{small:#?}");
        }
        if fixed_seed.is_some() || start.elapsed() > Duration::from_secs(seconds) {
            break;
        }
        seed = fastrand::u64(..);
    }
    stop.store(true, Ordering::SeqCst);
    let stopped = outage.map(|h| h.join().unwrap());
    if let Some(n) = stopped {
        eprintln!(
            "model: storage node {} stopped and started {n} times; the library saw {} stale reads",
            std::env::var("OSD_MODEL_OUTAGE_NODE").unwrap_or_default(),
            STALE.load(Ordering::SeqCst)
        );
    }
    eprintln!(
        "model: the library logged {} retries and {} answers of HTTP 503",
        RETRIES.load(Ordering::SeqCst),
        UNAVAILABLE.load(Ordering::SeqCst)
    );
    eprintln!(
        "model: {} histories, {} steps ({} through resets, {} cancels, {} kills, {} sweeps removing {} objects; at most {} orphans at once) in {:.0?}: every state matched",
        stats.histories,
        stats.steps,
        stats.faulty,
        stats.cancels,
        stats.kills,
        stats.sweeps,
        stats.swept,
        stats.orphans_seen,
        start.elapsed()
    );
}

/// The child process of [`Op::KillPut`]: uploads one file and is killed part-way. A no-op
/// when not started as such.
#[test]
fn model_child() {
    let (Ok(url), Ok(name), Ok(file)) = (
        std::env::var("OSD_MODEL_CHILD_URL"),
        std::env::var("OSD_MODEL_CHILD_NAME"),
        std::env::var("OSD_MODEL_CHILD_FILE"),
    ) else {
        return;
    };
    // Through the parent's slow relay, so that the kill falls anywhere in the upload.
    let d = Destination::open(&url).unwrap();
    d.put_file(&name, std::path::Path::new(&file)).unwrap();
}
