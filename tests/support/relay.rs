//! A TCP relay on 127.0.0.1 in front of a real server (the test bed's Swift proxy) that can
//! break the connection on demand: reset it after N bytes in either direction, stall it,
//! truncate an answer, reset at random ("chaos"), and add latency or a bandwidth limit for
//! every client alike. It relays bytes without parsing HTTP; a fault is armed when the bytes
//! a client sends contain a trigger (such as `PUT /v1/AUTH_x/c/name `), and counts its N bytes
//! from there.
//!
//! Each connection has a reader and a writer thread per direction, joined by a channel of 8
//! chunks (so a stall reaches the sender once the buffers are full): the reader stamps each
//! chunk with the time it arrived, the writer delivers it `latency` later and at most at
//! `rate`, and applies the faults of its direction.

#![allow(dead_code)] // not every test binary uses every part

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which way bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the client to the server (a request and its body).
    Up,
    /// From the server to the client (an answer and its body).
    Down,
}

/// What happens once `after` bytes have gone the fault's way since its trigger.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Both connections end with a TCP reset.
    Reset { after: u64 },
    /// Nothing moves that way for `pause`, then the bytes flow again.
    Stall { after: u64, pause: Duration },
    /// The connection ends cleanly (FIN) in the middle: a short answer or body.
    Truncate { after: u64 },
}

impl Fault {
    fn after(&self) -> u64 {
        match *self {
            Fault::Reset { after } | Fault::Stall { after, .. } | Fault::Truncate { after } => {
                after
            }
        }
    }
}

struct Rule {
    trigger: Vec<u8>,
    dir: Dir,
    /// None: only counted (see [`Relay::watch`]).
    fault: Option<Fault>,
    times: usize,
    seen: usize,
}

/// Random resets: each request (seen by its `HTTP/1.1` request line) is, one time in `one_in`,
/// reset after a random number of bytes below `within`, in a random direction.
#[derive(Clone, Copy)]
struct Chaos {
    one_in: u32,
    within: u64,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    chaos: Mutex<Option<Chaos>>,
    latency: Mutex<Duration>,
    /// Bytes per second each way, shared by all connections (one link); 0 for no limit.
    rate: AtomicU64,
    /// When each direction's link is free again ([Up, Down]).
    link_free: [Mutex<Option<Instant>>; 2],
    fired: AtomicUsize,
    connections: AtomicUsize,
    stop: AtomicBool,
}

/// A running relay; it stops accepting when dropped (connections in progress finish).
pub struct Relay {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Listens on a free port of 127.0.0.1 and relays every connection to `upstream`
    /// (`host:port`, loopback only).
    pub fn start(upstream: &str) -> Relay {
        Relay::start_on(0, upstream)
    }

    /// [`Relay::start`] on `port` of 127.0.0.1 (0: a free one).
    pub fn start_on(port: u16, upstream: &str) -> Relay {
        let upstream: SocketAddr = upstream.parse().expect("upstream is host:port");
        assert!(
            upstream.ip().is_loopback(),
            "the relay only reaches loopback"
        );
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))
                else {
                    continue; // the client sees its connection closed, as with a dead server
                };
                s.connections.fetch_add(1, Ordering::SeqCst);
                Connection::spawn(client, server, s.clone());
            }
        });
        Relay { addr, shared }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Arms `fault` in direction `dir` for the next `times` requests whose bytes contain
    /// `trigger` (compared ignoring ASCII case, as HTTP header names are).
    pub fn on(&self, trigger: &str, dir: Dir, fault: Fault, times: usize) {
        self.add(trigger, dir, Some(fault), times);
    }

    /// Counts the requests whose bytes contain `trigger` (see [`Relay::seen`]).
    pub fn watch(&self, trigger: &str) {
        self.add(trigger, Dir::Up, None, usize::MAX);
    }

    /// How often `trigger` (of [`Relay::on`] or [`Relay::watch`]) was seen.
    pub fn seen(&self, trigger: &str) -> usize {
        let rules = self.shared.rules.lock().unwrap();
        let t = trigger.as_bytes();
        rules
            .iter()
            .filter(|r| r.trigger.eq_ignore_ascii_case(t))
            .map(|r| r.seen)
            .sum()
    }

    fn add(&self, trigger: &str, dir: Dir, fault: Option<Fault>, times: usize) {
        self.shared.rules.lock().unwrap().push(Rule {
            trigger: trigger.as_bytes().to_vec(),
            dir,
            fault,
            times,
            seen: 0,
        });
    }

    /// Resets one request in `one_in` at random, within its first `within` bytes either way.
    pub fn chaos(&self, one_in: u32, within: u64) {
        *self.shared.chaos.lock().unwrap() = Some(Chaos { one_in, within });
    }

    /// Ends random resets.
    pub fn calm(&self) {
        *self.shared.chaos.lock().unwrap() = None;
    }

    /// Delivers every chunk `latency` after it arrived, each way (a round trip gains twice it).
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Limits each direction to `bytes_per_second`, all connections together (0: no limit).
    pub fn set_rate(&self, bytes_per_second: u64) {
        self.shared.rate.store(bytes_per_second, Ordering::SeqCst);
    }

    /// How many faults have taken effect.
    pub fn fired(&self) -> usize {
        self.shared.fired.load(Ordering::SeqCst)
    }

    /// How many armed faults have not been triggered yet.
    pub fn pending(&self) -> usize {
        let rules = self.shared.rules.lock().unwrap();
        rules
            .iter()
            .filter(|r| r.fault.is_some())
            .map(|r| r.times)
            .sum()
    }

    /// How many client connections were relayed.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accepting thread
    }
}

/// A fault armed on one connection, at an absolute offset of its direction.
struct Armed {
    dir: Dir,
    at: u64,
    fault: Fault,
}

struct Connection {
    client: TcpStream,
    server: TcpStream,
    shared: Arc<Shared>,
    armed: Mutex<Vec<Armed>>,
    /// Bytes delivered each way so far ([Up, Down]).
    delivered: [AtomicU64; 2],
    dead: AtomicBool,
}

enum Chunk {
    Data(Instant, Vec<u8>),
    End,
}

impl Connection {
    fn spawn(client: TcpStream, server: TcpStream, shared: Arc<Shared>) {
        for s in [&client, &server] {
            let _ = s.set_nodelay(true);
            let _ = s.set_write_timeout(Some(Duration::from_secs(120)));
        }
        let c = Arc::new(Connection {
            client,
            server,
            shared,
            armed: Mutex::new(Vec::new()),
            delivered: [AtomicU64::new(0), AtomicU64::new(0)],
            dead: AtomicBool::new(false),
        });
        for dir in [Dir::Up, Dir::Down] {
            // Bounded: a stalled writer stops the reader too, so the sender feels it.
            let (tx, rx) = mpsc::sync_channel(8);
            let (r, w) = (c.clone(), c.clone());
            std::thread::spawn(move || r.read_side(dir, tx));
            std::thread::spawn(move || w.write_side(dir, rx));
        }
    }

    fn source(&self, dir: Dir) -> &TcpStream {
        match dir {
            Dir::Up => &self.client,
            Dir::Down => &self.server,
        }
    }

    fn sink(&self, dir: Dir) -> &TcpStream {
        match dir {
            Dir::Up => &self.server,
            Dir::Down => &self.client,
        }
    }

    fn read_side(&self, dir: Dir, tx: mpsc::SyncSender<Chunk>) {
        let mut buf = vec![0u8; 256 * 1024];
        let mut tail: Vec<u8> = Vec::new(); // the last bytes read, for triggers across reads
        let mut read_total = 0u64;
        loop {
            let n = match self.source(dir).read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if dir == Dir::Up {
                self.arm(&tail, &buf[..n], read_total);
                tail.extend_from_slice(&buf[..n]);
                let keep = tail.len().saturating_sub(512);
                tail.drain(..keep);
            }
            read_total += n as u64;
            if tx
                .send(Chunk::Data(Instant::now(), buf[..n].to_vec()))
                .is_err()
            {
                return;
            }
        }
        let _ = tx.send(Chunk::End);
    }

    /// Arms the rules and chaos resets that the client's new bytes `new` (after `tail`, at
    /// offset `offset` of the request stream) trigger.
    fn arm(&self, tail: &[u8], new: &[u8], offset: u64) {
        let mut window = tail.to_vec();
        window.extend_from_slice(new);
        let start = offset - tail.len() as u64; // offset of window[0]
        let found = |needle: &[u8]| -> Option<u64> {
            // Only matches that end in the new bytes: older ones armed already.
            (0..=window.len().saturating_sub(needle.len()))
                .find(|&i| {
                    i + needle.len() > tail.len()
                        && window[i..i + needle.len()].eq_ignore_ascii_case(needle)
                })
                .map(|i| start + i as u64)
        };
        let down_now = self.delivered[1].load(Ordering::SeqCst);
        let mut armed = self.armed.lock().unwrap();
        for rule in self.shared.rules.lock().unwrap().iter_mut() {
            if let Some(at) = found(&rule.trigger) {
                rule.seen += 1;
                if rule.times == 0 {
                    continue;
                }
                rule.times -= 1;
                let Some(fault) = rule.fault else { continue };
                let base = if rule.dir == Dir::Up { at } else { down_now };
                armed.push(Armed {
                    dir: rule.dir,
                    at: base.saturating_add(fault.after()),
                    fault,
                });
            }
        }
        if let Some(chaos) = *self.shared.chaos.lock().unwrap() {
            if let Some(at) = found(b" HTTP/1.1\r\n") {
                if fastrand::u32(..chaos.one_in.max(1)) == 0 {
                    let dir = if fastrand::bool() { Dir::Up } else { Dir::Down };
                    let base = if dir == Dir::Up { at } else { down_now };
                    armed.push(Armed {
                        dir,
                        at: base + fastrand::u64(..chaos.within.max(1)),
                        fault: Fault::Reset { after: 0 },
                    });
                }
            }
        }
    }

    /// The first fault of `dir` due within the next `len` bytes: (bytes before it, fault).
    fn due(&self, dir: Dir, len: usize) -> Option<(usize, Fault)> {
        let done = self.delivered[dir as usize].load(Ordering::SeqCst);
        let mut armed = self.armed.lock().unwrap();
        let i = armed
            .iter()
            .enumerate()
            .filter(|(_, a)| a.dir == dir && a.at < done + len as u64)
            .min_by_key(|(_, a)| a.at)
            .map(|(i, _)| i)?;
        let a = armed.remove(i);
        Some((a.at.saturating_sub(done) as usize, a.fault))
    }

    fn write_side(&self, dir: Dir, rx: mpsc::Receiver<Chunk>) {
        let out = self.sink(dir);
        while let Ok(chunk) = rx.recv() {
            let (arrived, mut data) = match chunk {
                Chunk::Data(t, d) => (t, d),
                Chunk::End => {
                    if !self.dead.load(Ordering::SeqCst) {
                        let _ = out.shutdown(Shutdown::Write);
                    }
                    return;
                }
            };
            let latency = *self.shared.latency.lock().unwrap();
            if let Some(wait) = (arrived + latency).checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            while !data.is_empty() {
                if self.dead.load(Ordering::SeqCst) {
                    return;
                }
                let (now, fault) = match self.due(dir, data.len()) {
                    Some((before, fault)) => (before, Some(fault)),
                    None => (data.len(), None),
                };
                if !self.deliver(dir, &data[..now]) {
                    return;
                }
                data.drain(..now);
                match fault {
                    None => {}
                    Some(Fault::Stall { pause, .. }) => {
                        self.shared.fired.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(pause);
                    }
                    Some(Fault::Reset { .. }) => {
                        self.shared.fired.fetch_add(1, Ordering::SeqCst);
                        self.kill(true);
                        return;
                    }
                    Some(Fault::Truncate { .. }) => {
                        self.shared.fired.fetch_add(1, Ordering::SeqCst);
                        self.kill(false);
                        return;
                    }
                }
            }
        }
    }

    /// Writes `data` at the rate limit, counting it delivered; false when the peer is gone.
    fn deliver(&self, dir: Dir, data: &[u8]) -> bool {
        let rate = self.shared.rate.load(Ordering::SeqCst);
        let piece = if rate == 0 {
            data.len().max(1)
        } else {
            (rate as usize / 100).clamp(1, 64 * 1024) // at most about 10 ms of the link
        };
        for part in data.chunks(piece) {
            if rate > 0 {
                // Take the link for this part's time after whoever has it now.
                let cost = Duration::from_secs_f64(part.len() as f64 / rate as f64);
                let done = {
                    let mut free = self.shared.link_free[dir as usize].lock().unwrap();
                    let now = Instant::now();
                    let start = free.filter(|f| *f > now).unwrap_or(now);
                    *free = Some(start + cost);
                    start + cost
                };
                if let Some(wait) = done.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            if self.sink(dir).write_all(part).is_err() {
                return false;
            }
            self.delivered[dir as usize].fetch_add(part.len() as u64, Ordering::SeqCst);
        }
        true
    }

    /// Ends both connections: with a reset (`reset`) or a clean close. Readers blocked on
    /// either socket wake up, and the sockets close when the last thread lets go of them.
    fn kill(&self, reset: bool) {
        self.dead.store(true, Ordering::SeqCst);
        for s in [&self.client, &self.server] {
            if reset {
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: a valid socket and a linger struct of the size given.
                unsafe {
                    libc::setsockopt(
                        s.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        &linger as *const libc::linger as *const libc::c_void,
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                let _ = s.shutdown(Shutdown::Read);
            } else {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}
