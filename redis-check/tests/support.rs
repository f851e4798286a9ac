//! Real Redis for the interop tests: finding its binaries (failing under `CI=true` when they
//! are missing, skipping otherwise), a server that writes RDB and AOF files, and running
//! both checkers on the same file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `/usr/bin/<name>` or the first on `PATH`; panics under `CI=true` when missing, else prints
/// `skipped:` and returns `None`.
pub(crate) fn real_binary(name: &str) -> Option<PathBuf> {
    let debian = Path::new("/usr/bin").join(name);
    let found = if debian.is_file() {
        Some(debian)
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    if found.is_none() {
        assert!(
            !in_ci(),
            "{name} (real Redis 7.0.15) is not installed and CI=true: `apt-get install -y redis-server redis-tools`"
        );
        eprintln!("skipped: {name} (real Redis) is not installed");
    }
    found
}

/// A directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "redis-check-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    for _ in 0..200 {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as usize
            ^ std::process::id() as usize;
        let port = 20000 + (seed % 10000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000-30000");
}

/// A real `redis-server` writing into `dir`; killed on drop.
pub(crate) struct RealServer {
    child: Child,
    conn: TcpStream,
}

impl RealServer {
    pub(crate) fn start(binary: &Path, dir: &Path, extra: &[&str]) -> RealServer {
        let port = free_port();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(["--save", "", "--daemonize", "no", "--bind", "127.0.0.1"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let conn = loop {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
                break c;
            }
            assert!(Instant::now() < deadline, "real redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        RealServer { child, conn }
    }

    /// Sends one command and returns the first line of the reply (enough for these tests:
    /// every command used replies with a single line or a bulk string we do not need).
    pub(crate) fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.conn.write_all(&req).unwrap();
        read_reply(&mut self.conn)
    }

    pub(crate) fn run(&mut self, args: &[&str]) -> Vec<u8> {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.cmd(&bytes)
    }

    pub(crate) fn shutdown(mut self) {
        let _ = self.run(&["SHUTDOWN", "NOSAVE"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_line(c: &mut TcpStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if c.read(&mut b).unwrap_or(0) == 0 {
            break;
        }
        line.push(b[0]);
    }
    line
}

/// Reads one whole reply and returns its first line.
fn read_reply(c: &mut TcpStream) -> Vec<u8> {
    let first = read_line(c);
    skip_rest(c, &first);
    first
}

fn skip_rest(c: &mut TcpStream, first: &[u8]) {
    if first.len() < 3 {
        return;
    }
    let n: i64 = std::str::from_utf8(&first[1..first.len().saturating_sub(2)])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    match first.first() {
        Some(b'$') if n >= 0 => {
            let mut body = vec![0u8; n as usize + 2];
            c.read_exact(&mut body).unwrap();
        }
        Some(b'*') => {
            for _ in 0..n.max(0) {
                let line = read_line(c);
                skip_rest(c, &line);
            }
        }
        _ => {}
    }
}

/// Runs a checker with `stdin`, with a time limit.
pub(crate) fn run_tool(binary: &Path, args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let _ = pipe.write_all(stdin);
    drop(pipe);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{} {args:?} did not finish in 60s", binary.display()))
        .unwrap()
}
