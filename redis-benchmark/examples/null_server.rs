//! The least a server can do: answers every command with a fixed reply and does nothing else.
//! It measures the benchmark client's own ceiling on a machine: a server can at best match
//! what this one gets from `redis-benchmark` (see `tools/client-ceiling.sh`).
//!
//! `null_server PORT [ok|bulk|int|array100]`: `+OK`, a 3-byte bulk (`xxx`, what
//! redis-benchmark's values are), an integer, or an array of 100 such bulks (LRANGE_100) for
//! every command. A command is counted by the `*` that starts
//! its multibulk header at the start of a line; redis-benchmark's keys and values hold none.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| std::io::Error::other("usage: null_server PORT [ok|bulk|int|array100]"))?;
    let reply: Vec<u8> = match args.next().as_deref() {
        Some("bulk") => b"$3\r\nxxx\r\n".to_vec(),
        Some("int") => b":12345\r\n".to_vec(),
        Some("array100") => {
            let mut array = b"*100\r\n".to_vec();
            (0..100).for_each(|_| array.extend_from_slice(b"$3\r\nxxx\r\n"));
            array
        }
        _ => b"+OK\r\n".to_vec(),
    };
    let reply: &'static [u8] = reply.leak();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (mut socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            tokio::spawn(async move {
                let mut input = vec![0u8; 64 << 10];
                let mut output = Vec::with_capacity(64 << 10);
                let mut line_start = true;
                loop {
                    let n = match socket.read(&mut input).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    output.clear();
                    for &byte in &input[..n] {
                        if byte == b'*' && line_start {
                            output.extend_from_slice(reply);
                        }
                        line_start = byte == b'\n';
                    }
                    if socket.write_all(&output).await.is_err() {
                        return;
                    }
                }
            });
        }
    })
}
