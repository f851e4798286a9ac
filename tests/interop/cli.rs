//! Debian's real `redis-cli` against our server: the same stdout as against real Redis.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use tests::{RealRedis, TestServer, tools};

const TIMEOUT: Duration = Duration::from_secs(60);

fn cli(bin: &Path, port: u16, args: &[&str], stdin: &[u8]) -> Output {
    let port = port.to_string();
    tools::run(
        Command::new(bin)
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args),
        stdin,
        TIMEOUT,
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Invocations whose output must be identical against both servers, run in order.
const SESSION: &[&[&str]] = &[
    &["SET", "k", "v"],
    &["GET", "k"],
    &["--no-raw", "GET", "k"],
    &["--raw", "GET", "k"],
    &["GET", "missing"],
    &["--no-raw", "GET", "missing"],
    &["INCR", "n"],
    &["--no-raw", "INCR", "n"],
    &["MSET", "a", "1", "b", "2"],
    &["MGET", "a", "b", "c"],
    &["--no-raw", "MGET", "a", "b", "c"],
    &["--no-raw", "SET", "k", "v", "EX", "0"],
    &["SET", "k", "v", "EX", "0"],
    &["--no-raw", "NOSUCH", "x"],
    &["ECHO", "a b"],
    &["--no-raw", "ECHO", "line\nbreak"],
    &["-n", "2", "SET", "x", "y"],
    &["-n", "2", "GET", "x"],
    &["--no-raw", "KEYS", "k*"],
    &["--no-raw", "EXISTS", "k", "a"],
    &["TYPE", "k"],
    &["--no-raw", "COMMAND", "INFO", "get"],
    &["--no-raw", "CONFIG", "GET", "maxmemory"],
    &["-3", "--no-raw", "GET", "missing"],
    &["-3", "--no-raw", "CONFIG", "GET", "maxmemory"],
    &["--no-raw", "DBSIZE"],
    &["-r", "3", "INCR", "n"],
    &["--csv", "MGET", "a", "b"],
];

#[test]
fn redis_cli_one_shot_commands_print_the_same_as_against_real_redis() {
    let Some(bin) = tools::real_binary("redis-cli") else {
        return;
    };
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    assert_eq!(
        stdout(&cli(&bin, ours.port(), &["SET", "k", "v"], b"")),
        "OK\n"
    );
    assert_eq!(stdout(&cli(&bin, ours.port(), &["GET", "k"], b"")), "v\n");
    assert_eq!(
        stdout(&cli(&bin, ours.port(), &["--no-raw", "GET", "k"], b"")),
        "\"v\"\n"
    );
    let mut mismatches = Vec::new();
    for args in SESSION {
        let want = stdout(&cli(&bin, real.port(), args, b""));
        let have = stdout(&cli(&bin, ours.port(), args, b""));
        if want != have {
            mismatches.push(format!(
                "redis-cli {}\n   real: {want:?}\n   ours: {have:?}",
                args.join(" ")
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "redis-cli output differs:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn redis_cli_pipe_mass_inserts_10000_keys_without_errors() {
    let Some(bin) = tools::real_binary("redis-cli") else {
        return;
    };
    let ours = TestServer::start();
    let mut input = Vec::new();
    for i in 0..10_000 {
        common::resp::encode_command(
            &["SET", &format!("key:{i}"), &format!("value:{i}")],
            &mut input,
        );
    }
    let out = cli(&bin, ours.port(), &["--pipe"], &input);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("errors: 0, replies: 10000"), "{text}");
    let mut c = ours.connect();
    assert_eq!(c.cmd(&["DBSIZE"]), ":10000\r\n");
    assert_eq!(c.cmd(&["GET", "key:9999"]), "$10\r\nvalue:9999\r\n");
}

#[test]
fn redis_cli_scan_with_pattern_lists_the_same_keys_as_real_redis() {
    let Some(bin) = tools::real_binary("redis-cli") else {
        return;
    };
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let listed = |server: &TestServer| {
        let mut c = server.connect();
        for i in 0..300 {
            c.cmd(&["SET", &format!("user:{i}"), "x"]);
            c.cmd(&["SET", &format!("order:{i}"), "y"]);
        }
        let text = stdout(&cli(
            &bin,
            server.port(),
            &["--scan", "--pattern", "user:1*"],
            b"",
        ));
        let mut keys: Vec<String> = text.lines().map(str::to_owned).collect();
        keys.sort();
        keys
    };
    let from_ours = listed(&ours);
    assert_eq!(from_ours.len(), 111, "{from_ours:?}");
    assert_eq!(from_ours, listed(&real));
}
