//! Blocking requests on reqwest's async client: the calling thread reads an upload's body and
//! waits for answers, while one background thread per client runs the connections (what
//! `reqwest::blocking` does too). Doing it here lets a body move in 256 KiB chunks instead of
//! reqwest::blocking's 8 KiB ones: each chunk crosses to the connection thread once, so a
//! large upload costs a fraction of the wake-ups and the hashing of the next chunk overlaps
//! the sending of the last.
//!
//! Timeouts: a request's timeout bounds sending it (its body included) and waiting for the
//! answer's head, and each read of the answer's body. Within it, an upload also ends when the
//! server takes none of its body, or sends no answer after the body's end, for the client's
//! read/write timeout: a stalled upload is given up after that, not only at its deadline.

use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::future::Either;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH};
use reqwest::{Method, StatusCode};

/// Bytes an upload's body is read in and handed over at a time.
const BODY_CHUNK: usize = super::CHUNK;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// reqwest (hyper, the connection, TLS) failed.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// No answer within the request's timeout.
    #[error("no answer within {} s", .0.as_secs_f64())]
    TimedOut(Duration),
    /// Reading the body to send failed (the source or a callback; the caller knows which).
    #[error("reading the body to send failed: {0}")]
    Body(io::Error),
}

/// The background thread that runs a client's connections; it ends when the last client and
/// answer using it are gone.
struct Core {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Core {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// A pooled HTTP client used from blocking code.
#[derive(Clone)]
pub(crate) struct Client {
    inner: reqwest::Client,
    core: Arc<Core>,
    timeout: Duration,
}

impl Client {
    /// Builds the client of `builder` on a new background thread; `timeout` is the default
    /// request timeout (see the module's doc).
    pub(crate) fn build(
        builder: reqwest::ClientBuilder,
        timeout: Duration,
    ) -> Result<Client, SendError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SendError::Body)?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("openstack-dest-http".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                })
            })
            .map_err(SendError::Body)?;
        let inner = {
            let _entered = handle.enter();
            builder.build()?
        };
        Ok(Client {
            inner,
            core: Arc::new(Core {
                handle,
                stop: Some(stop),
                thread: Some(thread),
            }),
            timeout,
        })
    }

    /// A request of `method` to `url`.
    pub(crate) fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            inner: self.inner.request(method, url.as_ref()),
            timeout: None,
            body: None,
        }
    }

    /// A POST to `url`.
    pub(crate) fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }
}

/// The body of a request: read on the calling thread as it is sent.
pub(crate) struct Body {
    reader: Box<dyn Read + Send>,
    len: Option<u64>,
}

impl Body {
    /// A body of exactly `len` bytes from `reader`, sent with `Content-Length`.
    pub(crate) fn sized(reader: impl Read + Send + 'static, len: u64) -> Body {
        Body {
            reader: Box::new(reader),
            len: Some(len),
        }
    }

    /// A body of unknown length, sent chunked.
    pub(crate) fn new(reader: impl Read + Send + 'static) -> Body {
        Body {
            reader: Box::new(reader),
            len: None,
        }
    }
}

/// A request being built.
pub(crate) struct RequestBuilder {
    client: Client,
    inner: reqwest::RequestBuilder,
    timeout: Option<Duration>,
    body: Option<Body>,
}

impl RequestBuilder {
    /// Adds a header.
    pub(crate) fn header<K, V>(mut self, name: K, value: V) -> RequestBuilder
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.inner = self.inner.header(name, value);
        self
    }

    /// Replaces the client's default timeout for this request.
    pub(crate) fn timeout(mut self, timeout: Duration) -> RequestBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// A JSON body (small, sent whole).
    pub(crate) fn json<T: serde::Serialize + ?Sized>(mut self, json: &T) -> RequestBuilder {
        self.inner = self.inner.json(json);
        self
    }

    /// A body read from a reader as it is sent.
    pub(crate) fn body(mut self, body: Body) -> RequestBuilder {
        self.body = Some(body);
        self
    }

    /// Sends the request and waits for the answer's head.
    pub(crate) fn send(self) -> Result<Response, SendError> {
        let RequestBuilder {
            client,
            mut inner,
            timeout,
            body,
        } = self;
        let timeout = timeout.unwrap_or(client.timeout);
        let handle = client.core.handle.clone();
        let answer = match body {
            None => {
                let pending = inner.send();
                handle
                    .block_on(async { tokio::time::timeout(timeout, pending).await })
                    .map_err(|_| SendError::TimedOut(timeout))
                    .and_then(|r| r.map_err(SendError::Http))
            }
            Some(Body { mut reader, len }) => {
                let (tx, rx) = tokio::sync::mpsc::channel(2);
                if let Some(len) = len {
                    inner = inner.header(CONTENT_LENGTH, len);
                }
                let aborted = Arc::new(AtomicBool::new(false));
                let pending = inner
                    .body(reqwest::Body::wrap(ChannelBody {
                        rx,
                        len,
                        aborted: aborted.clone(),
                    }))
                    .send();
                // The request runs on the connection thread; the body is read here, between
                // short waits on the runtime, never inside one: a host's read or progress
                // callback may then call the library again (a runtime cannot be entered twice).
                let request =
                    handle.spawn(async move { tokio::time::timeout(timeout, pending).await });
                let mut request = Request {
                    running: Some(request),
                    timeout,
                };
                let outcome = pump(
                    &handle,
                    &mut *reader,
                    len,
                    tx,
                    &aborted,
                    client.timeout,
                    &mut request,
                );
                match outcome {
                    Pumped::Answer(answer) => answer,
                    Pumped::Failed(e) => Err(SendError::Body(e)),
                    // The whole body went: the answer comes within the stall time.
                    Pumped::Sent => request.wait(&handle, Some(client.timeout)),
                }
            }
        };
        let resp = answer?;
        Ok(Response {
            status: resp.status(),
            headers: resp.headers().clone(),
            inner: resp,
            pending: Bytes::new(),
            timeout,
            core: client.core,
        })
    }
}

/// What the request of an upload ends with: the answer, or the whole exchange's timeout.
type Exchange = Result<reqwest::Result<reqwest::Response>, tokio::time::error::Elapsed>;

/// The request of an upload, running on the connection thread; aborted when dropped before it
/// finished (a body that failed to read, a stalled server).
struct Request {
    running: Option<tokio::task::JoinHandle<Exchange>>,
    /// The whole exchange's timeout.
    timeout: Duration,
}

impl Request {
    /// Waits (on `handle`, up to `limit` when given) for the answer.
    fn wait(
        &mut self,
        handle: &tokio::runtime::Handle,
        limit: Option<Duration>,
    ) -> Result<reqwest::Response, SendError> {
        let Some(running) = self.running.as_mut() else {
            return Err(SendError::Body(io::Error::other(
                "the request ended without an answer",
            )));
        };
        let joined = match limit {
            None => handle.block_on(running),
            Some(limit) => {
                match handle.block_on(async { tokio::time::timeout(limit, running).await }) {
                    Ok(joined) => joined,
                    Err(_) => return Err(SendError::TimedOut(limit)),
                }
            }
        };
        self.answer(joined)
    }

    /// The answer of the finished request.
    fn answer(
        &mut self,
        joined: Result<Exchange, tokio::task::JoinError>,
    ) -> Result<reqwest::Response, SendError> {
        self.running = None;
        match joined {
            Ok(Ok(answer)) => answer.map_err(SendError::Http),
            Ok(Err(_)) => Err(SendError::TimedOut(self.timeout)),
            Err(e) => Err(SendError::Body(io::Error::other(e))),
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.abort();
        }
    }
}

/// How the body of an upload went.
enum Pumped {
    /// All of it went to the connection.
    Sent,
    /// The server answered before it had all of it (a refusal), or the exchange timed out.
    Answer(Result<reqwest::Response, SendError>),
    /// Reading it failed, or the server took none of it for the stall time.
    Failed(io::Error),
}

/// Reads `reader` on the calling thread, outside the runtime, into chunks for the connection
/// thread: up to `len` bytes when known. Each chunk is handed over in a short wait on the
/// runtime, which also sees an early answer. On a failed read, or when the connection takes no
/// chunk for `stall`, it sets `aborted` before it lets go of the channel, so the body ends with
/// an error and the request is aborted rather than ended early (a chunked body that simply
/// ended would be a complete, truncated object).
fn pump(
    handle: &tokio::runtime::Handle,
    reader: &mut (dyn Read + Send),
    len: Option<u64>,
    tx: tokio::sync::mpsc::Sender<Bytes>,
    aborted: &AtomicBool,
    stall: Duration,
    request: &mut Request,
) -> Pumped {
    let mut buffers = Recycled::default();
    let mut sent = 0u64;
    let fail = |e: io::Error| {
        aborted.store(true, Ordering::SeqCst);
        Pumped::Failed(e)
    };
    loop {
        let want = match len {
            Some(len) => (len - sent).min(BODY_CHUNK as u64) as usize,
            None => BODY_CHUNK,
        };
        if want == 0 {
            return Pumped::Sent;
        }
        let mut buf = buffers.take();
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => return Pumped::Sent,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(e),
        };
        sent += n as u64;
        buf.truncate(n);
        let chunk = buf.freeze();
        buffers.lend(chunk.clone());
        let Some(running) = request.running.as_mut() else {
            return Pumped::Sent;
        };
        let step = handle.block_on(async {
            let send = std::pin::pin!(tokio::time::timeout(stall, tx.send(chunk)));
            match futures_util::future::select(send, running).await {
                Either::Left((sent, _)) => Either::Left(sent),
                Either::Right((joined, _)) => Either::Right(joined),
            }
        });
        match step {
            Either::Left(Ok(Ok(()))) => {}
            // The request ended: its answer tells how.
            Either::Left(Ok(Err(_))) => return Pumped::Answer(request.wait(handle, None)),
            Either::Left(Err(_)) => {
                return fail(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the server took none of the body for {} s",
                        stall.as_secs_f64()
                    ),
                ))
            }
            Either::Right(joined) => return Pumped::Answer(request.answer(joined)),
        }
    }
}

/// The chunk buffers of one upload's body, used again once the connection has written them:
/// a body is read straight into the buffer the connection sends, with no copy and no new
/// allocation per chunk. At most [`Recycled::KEPT`] are lent at a time (the channel's two, the
/// one being written, the one being read).
#[derive(Default)]
struct Recycled {
    lent: std::collections::VecDeque<Bytes>,
}

impl Recycled {
    const KEPT: usize = 4;

    /// A buffer of [`BODY_CHUNK`] bytes: the oldest lent one when the connection is done with
    /// it, else a new one.
    fn take(&mut self) -> BytesMut {
        if let Some(oldest) = self.lent.pop_front() {
            match oldest.try_into_mut() {
                Ok(mut buf) => {
                    // Its bytes were written before: only a shorter last chunk's tail is zeroed.
                    buf.resize(BODY_CHUNK, 0);
                    return buf;
                }
                Err(still_lent) if self.lent.len() + 1 < Self::KEPT => {
                    self.lent.push_front(still_lent)
                }
                Err(_) => {}
            }
        }
        BytesMut::zeroed(BODY_CHUNK)
    }

    /// Keeps a handle on a chunk handed to the connection, to use its buffer again.
    fn lend(&mut self, chunk: Bytes) {
        self.lent.push_back(chunk);
    }
}

/// An upload's body as the connection thread sees it: the chunks the calling thread sends.
struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    len: Option<u64>,
    /// Set by the calling thread before it gives up: the end of the chunks is then an error.
    aborted: Arc<AtomicBool>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(http_body::Frame::data(chunk)))),
            Poll::Ready(None) if self.aborted.load(Ordering::SeqCst) => Poll::Ready(Some(Err(
                io::Error::other("the upload was given up before the end of its body"),
            ))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.len {
            Some(len) => http_body::SizeHint::with_exact(len),
            None => http_body::SizeHint::default(),
        }
    }
}

/// An answer whose head has arrived; its body is read with [`Read`] (or whole).
pub(crate) struct Response {
    status: StatusCode,
    headers: HeaderMap,
    inner: reqwest::Response,
    /// Received, not yet read.
    pending: Bytes,
    timeout: Duration,
    core: Arc<Core>,
}

impl Response {
    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body's length, when the answer says it.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// The whole body (small answers: listings, manifests, Keystone's JSON).
    pub(crate) fn bytes(mut self) -> Result<Bytes, SendError> {
        let mut out = BytesMut::from(&self.pending[..]);
        self.pending = Bytes::new();
        loop {
            match self.next_chunk().map_err(SendError::Body)? {
                Some(b) => out.extend_from_slice(&b),
                None => return Ok(out.freeze()),
            }
        }
    }

    /// The body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, SendError> {
        let body = self.bytes()?;
        serde_json::from_slice(&body)
            .map_err(|e| SendError::Body(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// The next piece of the body as it arrives (None at its end), within the timeout: the
    /// connection's own buffer, without a copy. Mixes with [`Read`] (what `read` left comes
    /// first).
    pub(crate) fn read_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if !self.pending.is_empty() {
            return Ok(Some(std::mem::take(&mut self.pending)));
        }
        loop {
            match self.next_chunk()? {
                Some(b) if b.is_empty() => continue,
                other => return Ok(other),
            }
        }
    }

    /// The next piece of the body as it arrives (None at its end), within the timeout.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        let handle = self.core.handle.clone();
        let timeout = self.timeout;
        let chunk = self.inner.chunk();
        match handle.block_on(async { tokio::time::timeout(timeout, chunk).await }) {
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no data for {} s", timeout.as_secs_f64()),
            )),
            Ok(Err(e)) => Err(io::Error::other(e)),
            Ok(Ok(chunk)) => Ok(chunk),
        }
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.next_chunk()? {
                Some(b) => self.pending = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        let _ = self.pending.split_to(n);
        Ok(n)
    }
}
