//! One blocking connection to the server over TCP or a Unix socket, with TLS on top when
//! `--tls` asks for it.
//!
//! redis-cli waits for each reply before doing anything else, reads stdin and the terminal
//! synchronously, and `-s` needs a Unix socket, so this is blocking std I/O rather than the
//! async `common::client`; the protocol is the same `common::resp` ([`FrameScanner`] finds a
//! reply's end once, [`Frame::parse`] builds it).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use common::resp::{Frame, FrameScanner, encode_command};
use common::tls::rustls::{ClientConfig, ClientConnection};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// Where to connect.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Tcp { host: String, port: u16 },
    Unix(String),
}

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<Tls>),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
            Stream::Tls(t) => t.write_all(buf),
        }
    }

    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tls(t) => Stream::Tls(Box::new(Tls {
                session: Arc::clone(&t.session),
                socket: t.socket.try_clone()?,
            })),
        })
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tls(t) => t.socket.set_read_timeout(timeout),
        }
    }
}

/// `--tls` and its flags, given once by `main`.
static TLS_OPTIONS: OnceLock<common::tls::ClientOptions> = OnceLock::new();
/// The client context, made on the first connection (as redis-cli makes its `SSL_CTX`).
static TLS_CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();

/// Makes every later connection speak TLS with these options.
pub(crate) fn enable_tls(options: common::tls::ClientOptions) {
    let _ = TLS_OPTIONS.set(options);
}

/// A failed TLS set-up or handshake, which redis-cli reports as "Could not negotiate a TLS
/// connection: ...".
#[derive(Debug)]
pub(crate) struct TlsError(pub(crate) String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn tls_error(text: impl Into<String>) -> io::Error {
    io::Error::other(TlsError(text.into()))
}

/// The TLS negotiation failure inside `e`, if that is what it is.
pub(crate) fn tls_failure(e: &io::Error) -> Option<&str> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>())
        .map(|t| t.0.as_str())
}

/// A TLS session over a plain socket. Reads and writes use their own socket handles and
/// hold the session's lock only to move bytes in or out of it, so `--pipe` can write on one
/// thread while another waits for replies.
#[derive(Debug)]
struct Tls {
    session: Arc<Mutex<ClientConnection>>,
    socket: Stream,
}

impl Tls {
    fn handshake(mut socket: Stream, host: &str) -> io::Result<Tls> {
        let Some(options) = TLS_OPTIONS.get() else {
            return Err(tls_error("TLS is not enabled"));
        };
        let config = TLS_CONFIG
            .get_or_init(|| common::tls::client_config(options).map(Arc::new))
            .clone()
            // hiredis's words come before any detail.
            .map_err(|e| tls_error(e.split(": ").next().unwrap_or_default()))?;
        let name = options.server_name(host).map_err(tls_error)?;
        let mut session = ClientConnection::new(config, name)
            .map_err(|e| tls_error(format!("Failed to create SSL object: {e}")))?;
        // Replies and pipelined input are bounded by the caller, not by the session.
        session.set_buffer_limit(None);
        let mut io = Plain(&mut socket);
        while session.is_handshaking() {
            session
                .complete_io(&mut io)
                .map_err(|e| tls_error(e.to_string()))?;
        }
        while session.wants_write() {
            session.write_tls(&mut io)?;
        }
        Ok(Tls {
            session: Arc::new(Mutex::new(session)),
            socket,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClientConnection> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Small enough that one chunk's plaintext fits rustls's receive buffer.
        let mut chunk = [0u8; 8 * 1024];
        loop {
            match self.lock().reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
            // No plaintext yet: wait for records without holding the session.
            let n = self.socket.read(&mut chunk)?;
            let mut records = &chunk[..n];
            let mut session = self.lock();
            loop {
                let fed = session.read_tls(&mut records)?;
                session.process_new_packets().map_err(|e| match e {
                    // hiredis sees the server's alert as the connection closing.
                    common::tls::rustls::Error::AlertReceived(_) => {
                        io::Error::new(io::ErrorKind::UnexpectedEof, "Server closed the connection")
                    }
                    e => io::Error::new(io::ErrorKind::InvalidData, e),
                })?;
                if fed == 0 || records.is_empty() {
                    break;
                }
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut records = Vec::with_capacity(buf.len() + 64);
        {
            let mut session = self.lock();
            session.writer().write_all(buf)?;
            while session.wants_write() {
                session.write_tls(&mut records)?;
            }
        }
        self.socket.write_all(&records)
    }
}

/// A plain socket as `std::io` wants it, for the handshake.
struct Plain<'a>(&'a mut Stream);

impl Read for Plain<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Plain<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The write half of a connection, for `--pipe` (which writes while another thread reads).
#[derive(Debug)]
pub(crate) struct Writer(Stream);

impl Writer {
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
}

/// A connection: commands go out as multibulk requests, replies come back as frames.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: Stream,
    /// Received bytes; `buf[start..]` is not consumed yet.
    buf: Vec<u8>,
    start: usize,
    scanner: FrameScanner,
    out: Vec<u8>,
}

/// An error as hiredis words it (`strerror` text, without Rust's "(os error N)").
pub(crate) fn describe(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return "Server closed the connection".to_string();
    }
    if let Some(code) = e.raw_os_error() {
        return strerror(code);
    }
    let text = e.to_string();
    match text.strip_prefix("failed to lookup address information: ") {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// The C library's message for an errno value.
pub(crate) fn strerror(code: i32) -> String {
    let text = io::Error::from_raw_os_error(code).to_string();
    match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

impl Connection {
    pub(crate) fn connect(target: &Target) -> io::Result<Connection> {
        let stream = match target {
            Target::Tcp { host, port } => {
                let mut last = None;
                let mut found = None;
                for addr in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect(addr) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let stream = match (found, last) {
                    (Some(s), _) => s,
                    (None, Some(e)) => return Err(e),
                    (None, None) => {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            "Name or service not known",
                        ));
                    }
                };
                let _ = stream.set_nodelay(true);
                Stream::Tcp(stream)
            }
            Target::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        };
        let stream = if TLS_OPTIONS.get().is_some() {
            let host = match target {
                Target::Tcp { host, .. } => host.as_str(),
                Target::Unix(_) => "localhost",
            };
            Stream::Tls(Box::new(Tls::handshake(stream, host)?))
        } else {
            stream
        };
        Ok(Connection {
            stream,
            buf: Vec::new(),
            start: 0,
            scanner: FrameScanner::new(),
            out: Vec::new(),
        })
    }

    /// Sends one command.
    pub(crate) fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.out.clear();
        encode_command(args, &mut self.out);
        self.stream.write_all(&self.out)
    }

    /// Sends several commands in one write (a pipeline); their replies follow in order.
    pub(crate) fn send_all<A: AsRef<[u8]>>(&mut self, commands: &[Vec<A>]) -> io::Result<()> {
        self.out.clear();
        for args in commands {
            encode_command(args, &mut self.out);
        }
        self.stream.write_all(&self.out)
    }

    /// Sends a command and reads its reply.
    pub(crate) fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args)?;
        self.read_reply()
    }

    /// Sets how long a read may wait (`None`: forever); a read that times out is `WouldBlock`
    /// or `TimedOut` and loses nothing.
    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    /// A second handle on the socket for writing.
    pub(crate) fn writer(&self) -> io::Result<Writer> {
        Ok(Writer(self.stream.try_clone()?))
    }

    /// The next reply, if one is already buffered.
    pub(crate) fn buffered_reply(&mut self) -> io::Result<Option<Frame>> {
        let pending = &self.buf[self.start..];
        let Some(len) = self.scanner.scan(pending)? else {
            return Ok(None);
        };
        let Some((frame, _)) = Frame::parse(&pending[..len])? else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "reply scanned as complete but parsed as partial",
            ));
        };
        self.start += len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// Reads the next reply.
    pub(crate) fn read_reply(&mut self) -> io::Result<Frame> {
        loop {
            if let Some(frame) = self.buffered_reply()? {
                return Ok(frame);
            }
            self.fill()?;
        }
    }

    /// One line (without its `\r\n` or `\n`) of a raw stream, such as a SYNC payload header.
    pub(crate) fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = self.buf[self.start..].iter().position(|&b| b == b'\n') {
                let line = self.buf[self.start..self.start + end].to_vec();
                self.start += end + 1;
                let line = line.strip_suffix(b"\r").map(<[u8]>::to_vec).unwrap_or(line);
                return Ok(line);
            }
            self.fill()?;
        }
    }

    /// The next raw bytes, at most `max`: from what is buffered, else from one read; the
    /// rest stays buffered (a SYNC payload may share a read with the commands after it).
    pub(crate) fn read_raw(&mut self, max: usize) -> io::Result<Vec<u8>> {
        if self.start >= self.buf.len() {
            self.fill()?;
        }
        let end = self.buf.len().min(self.start.saturating_add(max));
        let bytes = self.buf[self.start..end].to_vec();
        self.start = end;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(bytes)
    }

    /// Reads more bytes from the socket.
    pub(crate) fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old_len = self.buf.len();
        self.buf.resize(old_len + READ_CHUNK, 0);
        let read = self.stream.read(&mut self.buf[old_len..]);
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(old_len);
                return Err(e);
            }
        };
        self.buf.truncate(old_len + n);
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Server closed the connection",
            ));
        }
        Ok(())
    }
}
