//! Our redis-benchmark against the real one, both driving a real Redis 7.0 server: the same
//! `-q`/`--csv`/report layouts, and the commands land (keys, values, pipelining, databases).
//! Without /usr/bin/redis-server (and redis-benchmark) the tests print a line and pass,
//! unless CI=true, where they fail.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::resp::{Frame, encode_command};

const OURS: &str = env!("CARGO_BIN_EXE_redis-benchmark");
const REAL_SERVER: &str = "/usr/bin/redis-server";
const REAL_BENCHMARK: &str = "/usr/bin/redis-benchmark";

/// A real redis-server on a free port, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// `None` (after saying so) when real Redis is not installed outside CI.
    fn start() -> Option<Server> {
        if !Path::new(REAL_SERVER).exists() || !Path::new(REAL_BENCHMARK).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{REAL_SERVER} or {REAL_BENCHMARK} is missing under CI=true");
            }
            println!("skipped: {REAL_SERVER} or {REAL_BENCHMARK} is not installed");
            return None;
        }
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(REAL_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut server = Server { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Frame::Simple(pong)) = server.try_command(&["PING"]) {
                    if pong == b"PONG" {
                        return Some(server);
                    }
                }
                if server.child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("redis-server did not start");
    }

    fn try_command(&self, args: &[&str]) -> std::io::Result<Frame> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        let mut out = Vec::new();
        encode_command(args, &mut out);
        stream.write_all(&out)?;
        let mut got = Vec::new();
        loop {
            if let Ok(Some((frame, _))) = Frame::parse(&got) {
                return Ok(frame);
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got.extend_from_slice(&chunk[..n]);
        }
    }

    fn command(&self, args: &[&str]) -> Frame {
        self.try_command(args).unwrap()
    }

    fn flush(&self) {
        self.command(&["FLUSHALL"]);
        self.command(&["CONFIG", "RESETSTAT"]);
    }

    /// `calls=N` of a command in INFO commandstats (0 when never called).
    fn calls(&self, command: &str) -> u64 {
        let Frame::Bulk(info) = self.command(&["INFO", "commandstats"]) else {
            panic!("INFO did not reply a bulk");
        };
        let info = String::from_utf8(info).unwrap();
        let prefix = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
    }

    fn run(&self, bin: &str, args: &[&str]) -> String {
        self.run_with_stdin(bin, args, b"")
    }

    fn run_with_stdin(&self, bin: &str, args: &[&str], stdin: &[u8]) -> String {
        let mut child = Command::new(bin)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{bin} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The final text of each line (what a terminal shows after `\r` redraws), digits
/// collapsed, so two runs with different timings compare equal when their layout does.
fn layout(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| line.rsplit('\r').next().unwrap_or("").trim_start())
        .map(|line| {
            let mut out = String::new();
            for c in line.chars() {
                if c.is_ascii_digit() {
                    if !out.ends_with('9') {
                        out.push('9');
                    }
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

fn bulk(frame: Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(v) => v,
        other => panic!("not a bulk: {other:?}"),
    }
}

#[test]
fn quiet_lines_match_real_redis_benchmark() {
    let Some(server) = Server::start() else {
        return;
    };
    let args = [
        "-q",
        "-n",
        "2000",
        "-c",
        "10",
        "-t",
        "ping,set,get,lrange_100,mset",
    ];
    let real = layout(&server.run(REAL_BENCHMARK, &args));
    let ours = layout(&server.run(OURS, &args));
    assert_eq!(ours, real);
    assert_eq!(ours[0], "PING_INLINE: 9.9 requests per second, p9=9.9 msec");
}

#[test]
fn csv_matches_real_redis_benchmark() {
    let Some(server) = Server::start() else {
        return;
    };
    let args = [
        "--csv",
        "-n",
        "2000",
        "-c",
        "10",
        "-t",
        "set,get,lpush,lrange_300,mset",
    ];
    let real = server.run(REAL_BENCHMARK, &args);
    let ours = server.run(OURS, &args);
    assert_eq!(ours.lines().next(), real.lines().next());
    assert_eq!(layout(&ours), layout(&real));
    assert_eq!(
        ours.lines()
            .map(|l| l.split(',').next().unwrap())
            .collect::<Vec<_>>(),
        [
            "\"test\"",
            "\"SET\"",
            "\"GET\"",
            "\"LPUSH\"",
            "\"LPUSH (needed to benchmark LRANGE)\"",
            "\"LRANGE_300 (first 300 elements)\"",
            "\"MSET (10 keys)\""
        ]
    );
}

#[test]
fn full_suite_runs_redis_tests_in_order_then_xadd() {
    let Some(server) = Server::start() else {
        return;
    };
    let args = ["-q", "-n", "100", "-c", "10"];
    server.flush();
    let real = layout(&server.run(REAL_BENCHMARK, &args));
    server.flush();
    let mut ours = layout(&server.run(OURS, &args));
    let xadd = ours.iter().position(|l| l.starts_with("XADD: ")).unwrap();
    ours.remove(xadd);
    assert_eq!(ours, real);
    // Redis's own full-suite counts (tests/integration/redis-benchmark.tcl), plus XADD.
    for (command, calls) in [
        ("ping", 200),
        ("set", 100),
        ("lpush", 200),
        ("lrange", 400),
        ("mset", 100),
        ("xadd", 100),
    ] {
        assert_eq!(server.calls(command), calls, "{command}");
    }
}

#[test]
fn full_report_layout_matches_real_redis_benchmark() {
    let Some(server) = Server::start() else {
        return;
    };
    let args = ["-n", "3000", "-c", "10", "-t", "get"];
    let real = layout(&server.run(REAL_BENCHMARK, &args));
    let ours = layout(&server.run(OURS, &args));
    // Header and summary lines are fixed; the distributions' row counts depend on timing.
    let header = |l: &[String]| l.iter().take(10).cloned().collect::<Vec<_>>();
    assert_eq!(header(&ours), header(&real));
    assert_eq!(ours[..].last(), real[..].last());
    for heading in [
        "Cumulative distribution of latencies:",
        "Summary:",
        "  latency summary (msec):",
    ] {
        assert!(ours.iter().any(|l| l == heading.trim_start()), "{heading}");
    }
    // Column padding follows the digits of each figure (a 10 ms max is one wider than a 9 ms
    // one), so the summary is compared word by word.
    let words = |l: &[String]| {
        l.iter()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(&ours[ours.len() - 4..]),
        words(&real[real.len() - 4..]),
        "summary block differs"
    );
}

#[test]
fn random_keys_and_values_land_like_redis() {
    let Some(server) = Server::start() else {
        return;
    };
    server.flush();
    server.run(
        REAL_BENCHMARK,
        &["-q", "-t", "set", "-n", "1000", "-r", "10"],
    );
    let real_value = bulk(server.command(&["GET", "key:000000000003"]));
    server.flush();
    server.run(
        OURS,
        &["-q", "-t", "set", "-n", "1000", "-r", "10", "--seed", "1"],
    );
    assert_eq!(server.command(&["DBSIZE"]), Frame::Integer(10));
    assert_eq!(
        bulk(server.command(&["GET", "key:000000000000"])),
        real_value
    );
    assert_eq!(server.calls("set"), 1000);
    server.flush();
    server.run(OURS, &["-q", "-t", "set,get", "-n", "100"]);
    assert_eq!(server.command(&["DBSIZE"]), Frame::Integer(1));
    assert_eq!(
        bulk(server.command(&["GET", "key:__rand_int__"])),
        real_value
    );
    server.flush();
    server.run(
        OURS,
        &["-q", "-t", "set", "-n", "10", "-c", "5", "--dbnum", "3"],
    );
    // One SELECT per connection, before its first request.
    assert_eq!(server.calls("select"), 5);
    let keyspace = String::from_utf8(bulk(server.command(&["INFO", "keyspace"]))).unwrap();
    assert!(keyspace.contains("db3:keys=1,"), "{keyspace}");
    assert_eq!(
        server.command(&["DBSIZE"]),
        Frame::Integer(0),
        "db 0 stays empty"
    );
}

#[test]
fn pipelining_and_custom_commands_send_exact_counts() {
    let Some(server) = Server::start() else {
        return;
    };
    server.flush();
    server.run(
        OURS,
        &["-q", "-P", "5", "-c", "10", "-n", "10010", "-t", "set,get"],
    );
    assert_eq!((server.calls("set"), server.calls("get")), (10010, 10010));
    server.flush();
    server.run(
        OURS,
        &["-q", "-c", "5", "-n", "150", "INCRBYFLOAT", "mykey", "10.0"],
    );
    assert_eq!(bulk(server.command(&["GET", "mykey"])), b"1500");
    server.flush();
    let out = server.run_with_stdin(OURS, &["-q", "-n", "10", "-x", "SET", "fromstdin"], b"v\0x");
    assert!(out.starts_with("SET fromstdin: "), "{out}");
    assert_eq!(bulk(server.command(&["GET", "fromstdin"])), b"v\0x");
    server.flush();
    server.run(
        OURS,
        &[
            "-q",
            "-n",
            "100",
            "-r",
            "1000",
            "--threads",
            "2",
            "lpush",
            "l",
            "__rand_int__",
        ],
    );
    assert_eq!(server.command(&["LLEN", "l"]), Frame::Integer(100));
}

#[test]
fn rps_holds_its_rate_and_json_is_written() {
    let Some(server) = Server::start() else {
        return;
    };
    let json = std::env::temp_dir().join(format!("bench-{}.json", std::process::id()));
    let out = server.run(
        OURS,
        &[
            "-q",
            "-t",
            "get",
            "-c",
            "4",
            "--rps",
            "2000",
            "--duration",
            "1",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let rps: f64 = out
        .split_once(": ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((1800.0..=2200.0).contains(&rps), "{out}");
    let doc = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    assert!(doc.contains("\"test\": \"GET\""), "{doc}");
    assert!(doc.contains("\"rps_target\": 2000.000"), "{doc}");
}
