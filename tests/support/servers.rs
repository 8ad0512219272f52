//! Real servers a test owns: a second Swift proxy or a second Keystone, started from the test
//! bed's own configuration (same rings, storage, database and keys) on a free port of
//! 127.0.0.1, with a few settings changed. A test may kill and restart them without
//! disturbing the shared test bed. They are killed when dropped.

#![allow(dead_code)] // not every test binary uses every part

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::real::var;

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it right after) that no
/// other caller in this process was given, so two servers of tests running at once never get
/// the same one: a port is released between this call and the server's bind, and again while a
/// killed proxy is down, and the kernel may hand it out again meanwhile (a fresh-clone run once
/// gave one port to a test's proxy and another test's Keystone, and the proxy's requests
/// reached Keystone).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return port;
        }
    }
}

/// True once `url` answers 200.
fn answers(url: &str) -> bool {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    client
        .get(url)
        .send()
        .is_ok_and(|r| r.status().is_success())
}

fn wait_until_up(url: &str, child: &mut Child, log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(url) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} ended ({status}) before answering: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not answer {url} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `text` with the value of every `key = ...` line replaced (the line is added to
/// `section` when it has none).
fn set_option(text: &str, section: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    let mut in_section = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if in_section && !done {
                out.push_str(&format!("{key} = {value}\n"));
                done = true;
            }
            in_section = trimmed.trim_end() == format!("[{section}]");
        }
        let is_key = trimmed
            .split_once('=')
            .is_some_and(|(k, _)| k.trim() == key);
        if is_key && in_section {
            out.push_str(&format!("{key} = {value}\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !done {
        if !in_section {
            out.push_str(&format!("[{section}]\n"));
        }
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("osd-{tag}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Swift proxy of the test bed's rings and storage on its own port.
pub struct OwnProxy {
    pub port: u16,
    conf: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

impl OwnProxy {
    /// Starts a proxy configured like the test bed's RegionOne proxy, with `changes`
    /// (`(section, key, value)`) applied, and waits until it answers.
    pub fn start(changes: &[(&str, &str, &str)]) -> OwnProxy {
        let swift_dir = format!("{}/etc/swift", var("OSD_STATE_DIR"));
        let mut text = std::fs::read_to_string(format!("{swift_dir}/proxy-server-1.conf"))
            .expect("the test bed's proxy configuration");
        let port = free_port();
        text = set_option(&text, "DEFAULT", "bind_port", &port.to_string());
        for (section, key, value) in changes {
            text = set_option(&text, section, key, value);
        }
        let dir = scratch_dir("proxy");
        let conf = dir.join("proxy-server.conf");
        std::fs::write(&conf, text).unwrap();
        let mut p = OwnProxy {
            port,
            conf,
            log: dir.join("proxy.log"),
            child: None,
        };
        p.restart();
        p
    }

    /// `127.0.0.1:<port>`.
    pub fn hostport(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the proxy again (after [`OwnProxy::kill`]) and waits until it answers.
    pub fn restart(&mut self) {
        let swift_dir = format!("{}/etc/swift", var("OSD_STATE_DIR"));
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/openstack/swift_server.py"
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new("/usr/bin/python3")
            .args([script, &swift_dir, "proxy"])
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("python3 runs the Swift proxy");
        let url = format!("http://127.0.0.1:{}/healthcheck", self.port);
        wait_until_up(&url, &mut child, &self.log, "the test's Swift proxy");
        self.child = Some(child);
    }

    /// SIGKILL: the proxy dies at once, in the middle of whatever it was doing.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OwnProxy {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Keystone of the test bed's database and keys on its own port, with its own token
/// lifetime. Tokens it issues are valid everywhere in the test bed (same fernet keys) until
/// they expire.
pub struct OwnKeystone {
    pub port: u16,
    pub log: PathBuf,
    child: Child,
}

impl OwnKeystone {
    /// Starts Keystone with tokens that live `expiration` seconds, and waits until it answers.
    pub fn start(expiration: u32) -> OwnKeystone {
        let state = var("OSD_STATE_DIR");
        let text = std::fs::read_to_string(format!("{state}/keystone/keystone.conf"))
            .expect("the test bed's keystone.conf");
        let text = set_option(&text, "token", "expiration", &expiration.to_string());
        let dir = scratch_dir("keystone");
        let conf = dir.join("keystone.conf");
        std::fs::write(&conf, text).unwrap();
        let port = free_port();
        let log = dir.join("keystone.log");
        let uwsgi = ["/usr/bin/uwsgi", "/usr/bin/uwsgi-core"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("uwsgi (the test bed installs it)");
        let out = std::fs::File::create(&log).unwrap();
        let mut child = Command::new(uwsgi)
            .args(["--plugin", "python3,http", "--http"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--http-keepalive", "--http-auto-chunked", "--socket"])
            .arg(dir.join("keystone.sock"))
            .args([
                "--chmod-socket=600",
                "--wsgi-file",
                "/usr/bin/keystone-wsgi-public",
                "--need-app",
                "--master",
                "--processes",
                "1",
                "--die-on-term",
                "--buffer-size",
                "65535",
                "--env",
            ])
            .arg(format!("OS_KEYSTONE_CONFIG_FILES={}", conf.display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("uwsgi runs Keystone");
        let url = format!("http://127.0.0.1:{port}/v3");
        wait_until_up(&url, &mut child, &log, "the test's Keystone");
        OwnKeystone { port, log, child }
    }

    /// Its v3 URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.port)
    }

    /// How many tokens it was asked for (`POST /v3/auth/tokens` lines of its request log),
    /// not counting those Keystone failed with a 5xx: those are Keystone's own failures (its
    /// SQLite database, shared with the test bed's Keystone, can answer "database is locked"),
    /// which the library retries, and a retry is the same request, not another token asked for.
    /// uwsgi writes a request's line after its answer, so the count is read until it stays the
    /// same for 200 ms.
    pub fn token_requests(&self) -> usize {
        let count = || {
            std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("POST /v3/auth/tokens") && !l.contains("(HTTP/1.1 5"))
                .count()
        };
        let mut last = count();
        loop {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let now = count();
            if now == last {
                return now;
            }
            last = now;
        }
    }
}

impl Drop for OwnKeystone {
    fn drop(&mut self) {
        // uwsgi's master and workers form a process group of their own.
        // SAFETY: kill(2) on the group this test started.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
