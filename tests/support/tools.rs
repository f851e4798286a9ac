//! Real Redis's binaries (the interop rule) and running processes with a time limit.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs real Redis.
const DEBIAN_BIN: &str = "/usr/bin";

/// True when `CI=true`: then a missing real-Redis binary fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Real Redis's `name` (`redis-server`, `redis-cli`, `redis-benchmark`): `/usr/bin/<name>`,
/// else the first on `PATH`. When missing: panics under `CI=true`, otherwise prints a skip line
/// and returns `None` (the caller returns).
pub fn real_binary(name: &str) -> Option<PathBuf> {
    let debian = Path::new(DEBIAN_BIN).join(name);
    let found = if debian.is_file() {
        Some(debian)
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
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

/// Runs a command to completion with a time limit, feeding it `stdin`.
pub fn run(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    let label = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {label}: {e}"));
    let input = stdin.to_vec();
    let mut pipe = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(pipe) = pipe.as_mut() {
            let _ = pipe.write_all(&input);
        }
    });
    let output = wait_with_timeout(child, timeout, &label);
    let _ = writer.join();
    output
}

/// Waits for `child` (stdout and stderr piped) while draining its pipes; kills it and panics
/// after `timeout`.
pub fn wait_with_timeout(mut child: Child, timeout: Duration, label: &str) -> Output {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = out.join().unwrap_or_default();
                let stderr = err.join().unwrap_or_default();
                panic!(
                    "{label} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
            }
        }
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}
