//! Connections: TCP or a Unix socket behind one stream type, the reply reader that counts
//! replies by scanning them (no frames are built on the hot path), and the CONFIG GET the
//! report header shows.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use common::resp::{Frame, FrameError, FrameScanner, encode_command};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::options::Target;

/// Bytes a read may fill at least; the buffer grows for larger replies.
const MIN_READ: usize = 16 * 1024;

/// Why a run stops early. `Display` writes Redis's messages.
#[derive(Debug)]
pub(crate) enum BenchError {
    Connect {
        target: String,
        source: io::Error,
    },
    /// An error reply to a benchmarked command.
    Server(Vec<u8>),
    /// An error reply while authenticating for CONFIG GET.
    Node {
        target: String,
        message: Vec<u8>,
    },
    Io(io::Error),
    /// A message printed as it is.
    Fatal(String),
    Closed,
    Protocol(FrameError),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Connect { target, source } => {
                write!(
                    f,
                    "Could not connect to Redis at {target}: {}",
                    os_text(source)
                )
            }
            BenchError::Server(msg) => {
                write!(f, "Error from server: {}", String::from_utf8_lossy(msg))
            }
            BenchError::Node { target, message } => write!(
                f,
                "Node {target} replied with error:\n{}",
                String::from_utf8_lossy(message)
            ),
            BenchError::Io(e) => write!(f, "Error: {}", os_text(e)),
            BenchError::Fatal(message) => f.write_str(message),
            BenchError::Closed => f.write_str("Error: Server closed the connection"),
            BenchError::Protocol(e) => write!(f, "Error: Protocol error: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

/// An OS error as C's `strerror` prints it (without Rust's " (os error N)").
fn os_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// A connected stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    pub(crate) async fn connect(target: &Target) -> Result<Stream, BenchError> {
        let failed = |source| BenchError::Connect {
            target: target.to_string(),
            source,
        };
        match target {
            Target::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(failed)?;
                // Requests are small and each waits for its reply: Nagle would only delay them.
                stream.set_nodelay(true).map_err(failed)?;
                match crate::tls::get() {
                    None => Ok(Stream::Tcp(stream)),
                    Some(tls) => {
                        let name = crate::tls::server_name(host).map_err(BenchError::Fatal)?;
                        let stream = tls.connector.connect(name, stream).await.map_err(|e| {
                            BenchError::Fatal(format!("Could not negotiate a TLS connection: {e}"))
                        })?;
                        Ok(Stream::Tls(Box::new(stream)))
                    }
                }
            }
            Target::Unix(path) => Ok(Stream::Unix(
                UnixStream::connect(path).await.map_err(failed)?,
            )),
        }
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) -> Result<(), BenchError> {
        self.write_all(bytes).await.map_err(BenchError::Io)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Received bytes of one connection; `buf[start..end]` is not consumed yet.
#[derive(Debug)]
pub(crate) struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    scanner: FrameScanner,
}

impl Inbox {
    pub(crate) fn new() -> Inbox {
        Inbox {
            buf: vec![0; 4 * MIN_READ],
            start: 0,
            end: 0,
            scanner: FrameScanner::new(),
        }
    }

    /// Reads until `count` more replies are complete and returns when their first bytes
    /// arrived (the latency ends there: scanning is the client's time, not the server's).
    /// An error reply stops the run, as in Redis.
    pub(crate) async fn replies(
        &mut self,
        stream: &mut Stream,
        count: usize,
    ) -> Result<Instant, BenchError> {
        self.replies_with(stream, count, |_, error| {
            Err(BenchError::Server(error_text(error)))
        })
        .await
    }

    /// Like [`Inbox::replies`], but hands each error reply (its index among the `count`
    /// and its bytes) to `on_error`, which decides whether the run goes on. RESP3 pushes
    /// (client-side caching invalidations) are skipped: they answer no request.
    pub(crate) async fn replies_with(
        &mut self,
        stream: &mut Stream,
        count: usize,
        mut on_error: impl FnMut(usize, &[u8]) -> Result<(), BenchError>,
    ) -> Result<Instant, BenchError> {
        let mut first = None;
        let mut got = 0;
        loop {
            while got < count {
                let pending = &self.buf[self.start..self.end];
                match self.scanner.scan(pending) {
                    Ok(Some(len)) => {
                        match pending.first() {
                            Some(b'-' | b'!') => on_error(got, &pending[..len])?,
                            Some(b'>') => {
                                self.start += len;
                                continue;
                            }
                            _ => {}
                        }
                        self.start += len;
                        got += 1;
                    }
                    Ok(None) => break,
                    Err(e) => return Err(BenchError::Protocol(e)),
                }
            }
            if got == count {
                break;
            }
            self.make_room();
            let n = stream
                .read(&mut self.buf[self.end..])
                .await
                .map_err(BenchError::Io)?;
            if n == 0 {
                return Err(BenchError::Closed);
            }
            first.get_or_insert_with(Instant::now);
            self.end += n;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(first.unwrap_or_else(Instant::now))
    }

    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.end >= MIN_READ {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < MIN_READ {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
    }
}

/// The text of an error reply (without the `-` and CRLF).
pub(crate) fn error_text(frame: &[u8]) -> Vec<u8> {
    match Frame::parse(frame) {
        Ok(Some((Frame::Error(msg), _))) => msg,
        _ => frame.trim_ascii_end().get(1..).unwrap_or_default().to_vec(),
    }
}

/// The `save` and `appendonly` settings shown in the full report.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServerConfig {
    pub(crate) save: String,
    pub(crate) appendonly: String,
}

/// Fetches the settings over a fresh connection, authenticating first when asked. `Ok(None)`
/// when the server does not answer them (Redis then warns and goes on); an authentication
/// error is fatal, as in Redis.
pub(crate) async fn server_config(
    target: &Target,
    auth: Option<Vec<u8>>,
) -> Result<Option<ServerConfig>, BenchError> {
    let mut stream = Stream::connect(target).await?;
    let mut pending = Vec::new();
    if let Some(auth) = auth {
        stream.send(&auth).await?;
        if let Frame::Error(message) = read_frame(&mut stream, &mut pending).await? {
            return Err(BenchError::Node {
                target: target.to_string(),
                message,
            });
        }
    }
    let mut out = Vec::new();
    encode_command(&[&b"CONFIG"[..], b"GET", b"save"], &mut out);
    encode_command(&[&b"CONFIG"[..], b"GET", b"appendonly"], &mut out);
    stream.send(&out).await?;
    let mut values = Vec::new();
    for _ in 0..2 {
        match read_frame(&mut stream, &mut pending).await? {
            Frame::Array(items) if items.len() >= 2 => values.push(match &items[1] {
                Frame::Bulk(v) | Frame::Simple(v) => String::from_utf8_lossy(v).into_owned(),
                _ => String::new(),
            }),
            Frame::Error(message) if message.starts_with(b"NOAUTH") => {
                return Err(BenchError::Node {
                    target: target.to_string(),
                    message,
                });
            }
            _ => return Ok(None),
        }
    }
    let appendonly = values.pop().unwrap_or_default();
    let save = values.pop().unwrap_or_default();
    Ok(Some(ServerConfig { save, appendonly }))
}

pub(crate) async fn read_frame(
    stream: &mut Stream,
    pending: &mut Vec<u8>,
) -> Result<Frame, BenchError> {
    loop {
        match Frame::parse(pending) {
            Ok(Some((frame, len))) => {
                pending.drain(..len);
                return Ok(frame);
            }
            Ok(None) => {}
            Err(e) => return Err(BenchError::Protocol(e)),
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(BenchError::Io)?;
        if n == 0 {
            return Err(BenchError::Closed);
        }
        pending.extend_from_slice(&chunk[..n]);
    }
}
