//! An in-process HTTP/1.1 server on 127.0.0.1 for what a real Swift will not do on demand:
//! 401s, 5xx bursts, truncated or stalled answers. Each test gives it a handler.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What the fake does with a request.
pub enum Action {
    /// A complete answer.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announces `length` bytes, sends `body` (shorter), then closes the connection.
    Truncate {
        status: u16,
        headers: Vec<(String, String)>,
        length: usize,
        body: Vec<u8>,
    },
    /// Sends the head and part of the body, then waits without sending more.
    StallBody {
        headers: Vec<(String, String)>,
        length: usize,
        sent: Vec<u8>,
        wait: Duration,
    },
    /// Waits before answering at all.
    StallHead(Duration),
    /// Closes the connection without an answer (the request was handled; its answer is lost).
    Close,
}

impl Action {
    pub fn status(status: u16) -> Action {
        Action::Respond {
            status,
            headers: vec![],
            body: vec![],
        }
    }
    pub fn json(status: u16, body: serde_json::Value) -> Action {
        Action::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

pub type Handler = dyn Fn(&Request) -> Action + Send + Sync;

/// A running fake server; it stops with the test process.
pub struct Fake {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Fake {
    pub fn start(handler: Arc<Handler>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let log = requests.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let handler = handler.clone();
                let log = log.clone();
                thread::spawn(move || serve(conn, handler, log));
            }
        });
        Fake { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn count(&self, method: &str, path_start: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_start))
            .count()
    }

    /// The last request with `method`.
    pub fn last(&self, method: &str) -> Request {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .rfind(|r| r.method == method)
            .cloned()
            .expect("a request with that method")
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn head(status: u16, headers: &[(String, String)], length: usize) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status} X\r\nContent-Length: {length}\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn serve(conn: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    let mut writer = conn.try_clone().expect("clone socket");
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(&mut reader) {
        log.lock().unwrap().push(req.clone());
        let no_body = req.method == "HEAD";
        match handler(&req) {
            Action::Respond {
                status,
                headers,
                body,
            } => {
                let mut out = head(status, &headers, body.len());
                if !no_body {
                    out.extend_from_slice(&body);
                }
                if writer.write_all(&out).is_err() {
                    return;
                }
            }
            Action::Truncate {
                status,
                headers,
                length,
                body,
            } => {
                let mut out = head(status, &headers, length);
                out.extend_from_slice(&body);
                let _ = writer.write_all(&out);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::StallBody {
                headers,
                length,
                sent,
                wait,
            } => {
                let mut out = head(200, &headers, length);
                out.extend_from_slice(&sent);
                let _ = writer.write_all(&out);
                thread::sleep(wait);
                return;
            }
            Action::StallHead(wait) => {
                thread::sleep(wait);
                return;
            }
            Action::Close => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

/// A v3 Keystone answer whose catalog points object-store at `swift_url` in RegionOne.
pub fn v3_token_answer(token: &str, swift_url: &str) -> Action {
    let body = serde_json::json!({"token": {
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "catalog": [{"type": "object-store", "name": "swift", "endpoints": [
            {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": swift_url}
        ]}]
    }});
    Action::Respond {
        status: 201,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Subject-Token".into(), token.into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// An `openstack://` URL for Keystone v3 on the fake, with fast retries.
pub fn v3_url(fake: &Fake, container: &str, password: &str, extra: &str) -> String {
    format!(
        "openstack://{container}/pre?auth-username=u&auth-password={password}&openstack-tenant-name=p&openstack-domain-name=Default&openstack-authuri={}&retry-delay=10ms{extra}",
        fake.url("/v3")
    )
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
