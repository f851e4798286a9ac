//! A raw RESP connection: bytes out, one reply's bytes back.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::resp::{Frame, FrameScanner, encode_command};

/// How long a reply may take before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// Why no whole reply could be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing complete arrived in time; carries what did arrive.
    Timeout(Vec<u8>),
    /// The server closed the connection; carries the bytes of an unfinished reply.
    Closed(Vec<u8>),
    /// The bytes are not RESP.
    Invalid(Vec<u8>),
    /// The socket failed (a reset, for example).
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Timeout(b) => write!(f, "timed out; received {:?}", show(b)),
            ReadError::Closed(b) => write!(f, "connection closed; pending {:?}", show(b)),
            ReadError::Invalid(b) => write!(f, "not RESP: {:?}", show(b)),
            ReadError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// Bytes as text for assert messages (lossy; at most 2 KiB).
pub fn show(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(2048)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if cut.len() < bytes.len() {
        text.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    text
}

/// One client connection to a server under test.
pub struct Conn {
    stream: Stream,
    /// Received bytes not yet returned as a reply.
    buf: Vec<u8>,
    scanner: FrameScanner,
    timeout: Duration,
}

impl Conn {
    /// Connects over TCP to 127.0.0.1:`port`.
    pub fn tcp(port: u16) -> io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Conn::from_stream(Stream::Tcp(stream)))
    }

    /// Connects to a Unix socket.
    pub fn unix(path: &Path) -> io::Result<Conn> {
        Ok(Conn::from_stream(Stream::Unix(UnixStream::connect(path)?)))
    }

    fn from_stream(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            scanner: FrameScanner::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Changes how long [`Conn::read_reply`] waits.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Writes bytes as they are (inline commands, pipelines, malformed input).
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes)
            .unwrap_or_else(|e| panic!("writing {:?}: {e}", show(bytes)));
    }

    /// Writes bytes, reporting a failure (the server may have closed the connection).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Writes one command as a multibulk request.
    pub fn send_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send(&out);
    }

    /// Sends a command and returns its reply's exact bytes as text (lossy only for bytes that
    /// are not UTF-8, which [`Conn::cmd_raw`] keeps).
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> String {
        String::from_utf8_lossy(&self.cmd_raw(args)).into_owned()
    }

    /// Sends a command and returns its reply's exact bytes.
    pub fn cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.send_cmd(args);
        self.read_reply()
    }

    /// Sends a command and returns its reply parsed.
    pub fn frame<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        let raw = self.cmd_raw(args);
        match Frame::parse(&raw) {
            Ok(Some((frame, _))) => frame,
            other => panic!("reply {:?} did not parse: {other:?}", show(&raw)),
        }
    }

    /// Sends an inline command line (`\r\n` is added) and returns the reply as text.
    pub fn inline(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.read_text()
    }

    /// Reads the next reply as text; panics when none arrives in time.
    pub fn read_text(&mut self) -> String {
        String::from_utf8_lossy(&self.read_reply()).into_owned()
    }

    /// Reads exactly one reply and returns its bytes; panics when none arrives in time.
    pub fn read_reply(&mut self) -> Vec<u8> {
        let timeout = self.timeout;
        self.try_read_reply(timeout)
            .unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// Reads exactly one reply within `timeout`.
    pub fn try_read_reply(&mut self, timeout: Duration) -> Result<Vec<u8>, ReadError> {
        let deadline = Instant::now() + timeout;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.scanner.scan(&self.buf) {
                Ok(Some(len)) => {
                    self.scanner = FrameScanner::new();
                    let rest = self.buf.split_off(len);
                    return Ok(std::mem::replace(&mut self.buf, rest));
                }
                Ok(None) => {}
                Err(_) => return Err(ReadError::Invalid(std::mem::take(&mut self.buf))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::Timeout(self.buf.clone()));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(ReadError::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed(std::mem::take(&mut self.buf))),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::Timeout(self.buf.clone()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Asserts that nothing arrives within `wait` (and the connection stays open).
    pub fn assert_silent(&mut self, wait: Duration) {
        match self.try_read_reply(wait) {
            Err(ReadError::Timeout(b)) if b.is_empty() => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }

    /// Reads until the server closes the connection and returns every byte that arrived
    /// (a reset counts as closed); panics if it stays open past the timeout.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + self.timeout;
        let mut out = std::mem::take(&mut self.buf);
        self.scanner = FrameScanner::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the server did not close the connection; received {:?}",
                show(&out)
            );
            self.stream
                .set_read_timeout(Some(left))
                .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
            match self.stream.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return out,
            }
        }
    }
}
