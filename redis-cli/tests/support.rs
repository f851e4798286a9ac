//! A real `redis-server` on a free loopback port, and the two clients under comparison.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const REAL_SERVER: &str = "/usr/bin/redis-server";
pub(crate) const REAL_CLI: &str = "/usr/bin/redis-cli";

/// Our binary, built with this test.
pub(crate) fn our_cli() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"))
}

/// False (after printing why) when real Redis is not installed and we are not in CI; under
/// `CI=true` a missing binary fails the test.
pub(crate) fn real_redis_available(test: &str) -> bool {
    let present = Path::new(REAL_SERVER).exists() && Path::new(REAL_CLI).exists();
    if !present {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: {REAL_SERVER} and {REAL_CLI} are required under CI=true");
        }
        println!("skipping {test}: {REAL_SERVER} or {REAL_CLI} is not installed");
    }
    present
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A real Redis server, killed on drop.
pub(crate) struct RealServer {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
}

impl RealServer {
    pub(crate) fn start(name: &str) -> RealServer {
        let dir = std::env::temp_dir().join(format!("redis-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for attempt in 0..5 {
            let port = free_port();
            let child = Command::new(REAL_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--enable-debug-command", "yes"])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let mut server = RealServer {
                child,
                port,
                dir: dir.clone(),
            };
            if server.wait_ready() {
                return server;
            }
            let _ = server.child.kill();
            let _ = server.child.wait();
            eprintln!("redis-server did not start on port {port} (attempt {attempt})");
        }
        panic!("could not start redis-server");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(reply) = self.raw(&[&["PING"]]) {
                if reply.starts_with(b"+PONG") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends commands and returns the bytes of their replies.
    pub(crate) fn raw(&self, commands: &[&[&str]]) -> std::io::Result<Vec<u8>> {
        let bytes: Vec<Vec<Vec<u8>>> = commands
            .iter()
            .map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect())
            .collect();
        self.raw_bytes(&bytes)
    }

    pub(crate) fn raw_bytes(&self, commands: &[Vec<Vec<u8>>]) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut out = Vec::new();
        for cmd in commands {
            common::resp::encode_command(cmd, &mut out);
        }
        stream.write_all(&out)?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let mut replies = 0;
        while replies < commands.len() {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            replies = 0;
            let mut at = 0;
            while let Ok(Some((_, len))) = common::resp::Frame::parse(&got[at..]) {
                at += len;
                replies += 1;
            }
        }
        Ok(got)
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one client run printed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) stdout: Vec<u8>,
    pub(crate) code: Option<i32>,
}

/// Runs `bin` with `args`, feeding `stdin`, with extra environment variables.
pub(crate) fn run_cli(bin: &Path, args: &[String], stdin: &[u8], env: &[(String, String)]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("REDISCLI_AUTH")
        .env_remove("FAKETTY")
        .env("REDISCLI_HISTFILE", "/dev/null")
        .env("REDISCLI_RCFILE", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn a client");
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    // A hung client must not hang the test: kill it after a while.
    let pid = child.id() as libc::pid_t;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = std::sync::Arc::clone(&done);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(15));
        if !watched.load(std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: kill(2) on the pid of a child we have not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let output = child.wait_with_output().expect("client output");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = feeder.join();
    Run {
        stdout: output.stdout,
        code: output.status.code(),
    }
}
