//! Debian's real `redis-benchmark` against our server: every test runs to the end, no errors.

use std::process::Command;
use std::time::Duration;

use tests::{TestServer, tools};

fn run_benchmark(extra: &[&str]) {
    let Some(bin) = tools::real_binary("redis-benchmark") else {
        return;
    };
    let server = TestServer::start();
    let port = server.port().to_string();
    let out = tools::run(
        Command::new(bin)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-t",
                "set,get,incr,mset",
                "-n",
                "2000",
                "-q",
            ])
            .args(extra),
        b"",
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        out.status
    );
    // `-q` rewrites a progress line with `\r` and ends each test with its final line.
    let finals: Vec<&str> = stdout
        .split(['\n', '\r'])
        .filter(|l| l.contains("requests per second"))
        .collect();
    for test in ["SET:", "GET:", "INCR:", "MSET (10 keys):"] {
        assert!(
            finals.iter().any(|l| l.starts_with(test)),
            "no result for {test}\n{stdout}\n{stderr}"
        );
    }
    assert!(
        !stdout.contains("ERR") && !stderr.contains("Error"),
        "{stdout}\n{stderr}"
    );
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["EXISTS", "key:__rand_int__", "counter:__rand_int__"]),
        ":2\r\n"
    );
}

#[test]
fn redis_benchmark_runs_set_get_incr_mset_without_errors() {
    run_benchmark(&[]);
}

#[test]
fn redis_benchmark_pipelined_16_runs_without_errors() {
    run_benchmark(&["-P", "16"]);
}
