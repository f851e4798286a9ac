//! The REPL driven through a pseudo-terminal: prompts, replies, SELECT and MULTI in the
//! prompt, `not connected>`, help, and the history file.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::support::{RealServer, our_cli, real_redis_available};

/// A child process on the slave side of a pty; we hold the master.
struct Pty {
    child: Child,
    master: File,
    output: Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

fn open_pty() -> (File, OwnedFd) {
    // SAFETY: plain libc calls on a descriptor we own; every result is checked.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0, "grantpt");
        assert_eq!(libc::unlockpt(master), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(slave >= 0, "open the pty slave");
        let mut size: libc::winsize = std::mem::zeroed();
        size.ws_row = 40;
        size.ws_col = 200;
        libc::ioctl(slave, libc::TIOCSWINSZ, &size);
        (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    }
}

impl Pty {
    fn spawn(args: &[String], env: &[(&str, &str)]) -> Pty {
        let (master, slave) = open_pty();
        let mut cmd = Command::new(our_cli());
        cmd.args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .env("TERM", "xterm")
            .env("REDISCLI_RCFILE", "/dev/null")
            .env_remove("REDISCLI_AUTH");
        for (k, v) in env {
            cmd.env(k, v);
        }
        // SAFETY: setsid and ioctl are async-signal-safe; the pty becomes the controlling
        // terminal, so Ctrl-C typed into it raises SIGINT in the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let mut reader = master.try_clone().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            child,
            master,
            output: rx,
            seen: Vec::new(),
        }
    }

    /// Waits until `text` has appeared since the last match; returns what came before it.
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(at) = find(&self.seen, text.as_bytes()) {
                let before = String::from_utf8_lossy(&self.seen[..at]).into_owned();
                self.seen.drain(..at + text.len());
                return before;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => {
                    // Answer a cursor position query, as a terminal would.
                    if find(&chunk, b"\x1b[6n").is_some() {
                        let _ = self.master.write_all(b"\x1b[1;1R");
                    }
                    self.seen.extend_from_slice(&chunk);
                }
                Err(_) => panic!(
                    "timed out waiting for {text:?}; got {:?}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }

    fn send(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
        self.master.write_all(b"\r").unwrap();
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("redis-cli did not exit");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.master.as_raw_fd();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn repl_prompt_follows_select_and_multi() {
    if !real_redis_available("repl_prompt_follows_select_and_multi") {
        return;
    }
    let server = RealServer::start("repl-prompt");
    let port = server.port;
    let history = server.dir.join("history");
    let history_path = history.display().to_string();
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", history_path.as_str())],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt);
    pty.send("set greeting \"hello world\"");
    pty.expect("OK");
    pty.expect(&prompt);
    pty.send("get greeting");
    pty.expect("\"hello world\"");
    pty.send("rpush l a b");
    pty.expect("(integer) 2");
    pty.send("lrange l 0 -1");
    pty.expect("1) \"a\"");
    pty.expect("2) \"b\"");
    pty.send("select 2");
    pty.expect("OK");
    let prompt2 = format!("127.0.0.1:{port}[2]> ");
    pty.expect(&prompt2);
    pty.send("multi");
    let tx = format!("127.0.0.1:{port}[2](TX)> ");
    pty.expect(&tx);
    pty.send("incr n");
    pty.expect("QUEUED");
    pty.send("exec");
    pty.expect("1) (integer) 1");
    pty.expect(&prompt2);
    pty.send("auth nopass");
    pty.expect("(error)");
    pty.send("nosuchcmd");
    pty.expect("(error) ERR unknown command");
    pty.send("quit");
    assert_eq!(pty.wait_exit(), Some(0));
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("get greeting"), "{saved}");
    assert!(!saved.contains("auth nopass"), "{saved}");
}

#[test]
fn repl_shows_not_connected_and_help() {
    if !real_redis_available("repl_shows_not_connected_and_help") {
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", "/dev/null")],
    );
    pty.expect("not connected> ");
    pty.send("help get");
    pty.expect("summary:");
    pty.expect("not connected> ");
    pty.send("ping");
    pty.expect(&format!(
        "Could not connect to Redis at 127.0.0.1:{port}: Connection refused"
    ));
    pty.expect("not connected> ");
    pty.send("exit");
    assert_eq!(pty.wait_exit(), Some(0));
}

#[test]
fn repl_reconnects_after_the_server_drops_the_connection() {
    if !real_redis_available("repl_reconnects_after_the_server_drops_the_connection") {
        return;
    }
    let server = RealServer::start("repl-reconnect");
    let port = server.port;
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", "/dev/null")],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt);
    pty.send("client setname victim");
    pty.expect("OK");
    server
        .raw(&[&["CLIENT", "KILL", "SKIPME", "no", "ID", "0"]])
        .unwrap();
    let killed = server.raw(&[&["CLIENT", "LIST"]]).unwrap();
    let list = String::from_utf8_lossy(&killed);
    let id = list
        .lines()
        .find(|l| l.contains("name=victim"))
        .and_then(|l| l.split(' ').next())
        .and_then(|f| f.strip_prefix("id="))
        .unwrap()
        .to_string();
    server.raw(&[&["CLIENT", "KILL", "ID", &id]]).unwrap();
    pty.send("ping");
    // The first attempt finds the connection gone; the prompt says so and the next command
    // connects again.
    pty.expect("not connected> ");
    pty.send("ping");
    pty.expect("PONG");
    pty.send("quit");
    assert_eq!(pty.wait_exit(), Some(0));
}

#[test]
fn repl_streams_subscribe_until_ctrl_c() {
    if !real_redis_available("repl_streams_subscribe_until_ctrl_c") {
        return;
    }
    let server = RealServer::start("repl-subscribe");
    let port = server.port;
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", "/dev/null")],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt);
    pty.send("subscribe news");
    pty.expect("Reading messages... (press Ctrl-C to quit)");
    pty.expect("3) (integer) 1");
    server.raw(&[&["PUBLISH", "news", "hello"]]).unwrap();
    pty.expect("1) \"message\"");
    pty.expect("3) \"hello\"");
    pty.master.write_all(b"\x03").unwrap();
    pty.expect(&prompt);
    pty.send("ping");
    pty.expect("PONG");
    pty.send("quit");
    assert_eq!(pty.wait_exit(), Some(0));
}

#[test]
fn repl_streams_monitor_until_ctrl_c() {
    if !real_redis_available("repl_streams_monitor_until_ctrl_c") {
        return;
    }
    let server = RealServer::start("repl-monitor");
    let port = server.port;
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", "/dev/null")],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt);
    pty.send("monitor");
    pty.expect("OK");
    server.raw(&[&["SET", "watched", "v 1"]]).unwrap();
    // MONITOR lines print raw: `<time> [0 127.0.0.1:port] "SET" "watched" "v 1"`.
    pty.expect("\"SET\" \"watched\" \"v 1\"");
    server.raw(&[&["DEL", "watched"]]).unwrap();
    pty.expect("\"DEL\" \"watched\"");
    pty.master.write_all(b"\x03").unwrap();
    pty.expect(&prompt);
    pty.send("ping");
    pty.expect("PONG");
    pty.send("quit");
    assert_eq!(pty.wait_exit(), Some(0));
}

#[test]
fn repl_hints_help_groups_completion_and_discard() {
    if !real_redis_available("repl_hints_help_groups_completion_and_discard") {
        return;
    }
    let server = RealServer::start("repl-hints");
    let port = server.port;
    let mut pty = Pty::spawn(
        &["-p".to_string(), port.to_string()],
        &[("REDISCLI_HISTFILE", "/dev/null")],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.expect(&prompt);
    // The hint after a command name lists its arguments from COMMAND DOCS, in grey.
    pty.master.write_all(b"incrby ").unwrap();
    pty.expect("\x1b[0;90;49mkey increment\x1b[0m");
    // ... and drops the arguments already typed.
    pty.master.write_all(b"counter ").unwrap();
    pty.expect("\x1b[0;90;49mincrement\x1b[0m");
    pty.send("5");
    pty.expect("(integer) 5");
    pty.expect(&prompt);
    // On a terminal help is in colour, as redis-cli prints it.
    pty.send("help @hyperloglog");
    pty.expect("  \x1b[1mPFADD\x1b[0m \x1b[90mkey [element [element ...]]\x1b[0m\r\r\n");
    pty.expect(
        "  \x1b[33msummary:\x1b[0m Adds the specified elements to the specified HyperLogLog.",
    );
    pty.expect("  \x1b[33msince:\x1b[0m 2.8.9");
    pty.expect(&prompt);
    pty.send("help incrby");
    pty.expect("  \x1b[1mINCRBY\x1b[0m \x1b[90mkey increment\x1b[0m");
    pty.expect("  \x1b[33mgroup:\x1b[0m string");
    pty.expect(&prompt);
    // Tab completes a command name (to its name as the help table spells it).
    pty.master.write_all(b"hgetal\t").unwrap();
    pty.expect("HGETALL");
    pty.send(" nohash");
    pty.expect("(empty array)");
    pty.expect(&prompt);
    pty.send("multi");
    pty.expect(&format!("127.0.0.1:{port}(TX)> "));
    pty.send("discard");
    pty.expect("OK");
    pty.expect(&prompt);
    pty.send("quit");
    assert_eq!(pty.wait_exit(), Some(0));
}
