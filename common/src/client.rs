//! A small async RESP client (tokio) for the tools and the tests.
//!
//! Commands go out as multibulk requests; replies come back as [`Frame`] values. Each reply is
//! scanned once as its bytes arrive ([`FrameScanner`]) and built once it is complete.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

use crate::resp::{Frame, FrameScanner, encode_command};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// A connection to a Redis server.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    /// Received bytes; `buf[start..]` is not consumed yet.
    buf: Vec<u8>,
    start: usize,
    scanner: FrameScanner,
    /// Reused for encoding commands.
    out: Vec<u8>,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        Ok(Client::from_stream(stream))
    }

    /// Wraps a connected stream.
    pub fn from_stream(stream: TcpStream) -> Client {
        // Commands are small and answered one by one: don't let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        Client {
            stream,
            buf: Vec::new(),
            start: 0,
            scanner: FrameScanner::new(),
            out: Vec::new(),
        }
    }

    /// Sends a command and reads its reply.
    pub async fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args).await?;
        self.read_frame().await
    }

    /// Writes one multibulk command (the reply is read with [`Client::read_frame`]).
    pub async fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.out.clear();
        encode_command(args, &mut self.out);
        self.stream.write_all(&self.out).await
    }

    /// Writes bytes as they are (inline commands, pipelines, malformed input for tests).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads the next reply. A malformed reply is an `InvalidData` error; a connection closed
    /// before a whole reply arrived is `UnexpectedEof`.
    pub async fn read_frame(&mut self) -> io::Result<Frame> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(len) = self.scanner.scan(pending)? {
                let Some((frame, parsed)) = Frame::parse(&pending[..len])? else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "reply scanned as complete but parsed as partial",
                    ));
                };
                debug_assert_eq!(parsed, len);
                self.consume(len);
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    fn consume(&mut self, len: usize) {
        self.start += len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Reads more bytes, compacting the buffer first when the consumed part dominates.
    async fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old_len = self.buf.len();
        self.buf.resize(old_len + READ_CHUNK, 0);
        let read = self.stream.read(&mut self.buf[old_len..]).await;
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
                "connection closed by the server",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that reads `expect` bytes, then writes `reply` in small pieces and closes.
    async fn canned_server(expect: Vec<u8>, reply: Vec<u8>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = vec![0u8; expect.len()];
            socket.read_exact(&mut got).await.unwrap();
            assert_eq!(got, expect);
            for piece in reply.chunks(3) {
                socket.write_all(piece).await.unwrap();
                socket.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn command_round_trip_with_replies_in_pieces() {
        let reply = b"+OK\r\n*2\r\n$1\r\na\r\n_\r\n:7\r\n".to_vec();
        let expect = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".to_vec();
        let addr = canned_server(expect, reply).await;
        let mut client = Client::connect(addr).await.unwrap();
        assert_eq!(
            client.command(&["SET", "k", "v"]).await.unwrap(),
            Frame::Simple(b"OK".to_vec())
        );
        assert_eq!(
            client.read_frame().await.unwrap(),
            Frame::Array(vec![Frame::Bulk(b"a".to_vec()), Frame::Null])
        );
        assert_eq!(client.read_frame().await.unwrap(), Frame::Integer(7));
        let err = client.read_frame().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn raw_sends_and_bad_replies() {
        let addr = canned_server(b"PING\r\n".to_vec(), b"?bad\r\n".to_vec()).await;
        let mut client = Client::connect(addr).await.unwrap();
        client.send_raw(b"PING\r\n").await.unwrap();
        let err = client.read_frame().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn a_large_reply_arrives_whole() {
        let mut reply = Vec::new();
        let big = Frame::Array(
            (0..5000)
                .map(|i| Frame::Bulk(format!("value-{i}").into_bytes()))
                .collect(),
        );
        big.write(&mut reply);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = reply.clone();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = [0u8; 21];
            socket.read_exact(&mut got).await.unwrap();
            socket.write_all(&sent).await.unwrap();
        });
        let mut client = Client::connect(addr).await.unwrap();
        assert_eq!(client.command(&["KEYS", "*"]).await.unwrap(), big);
    }
}
