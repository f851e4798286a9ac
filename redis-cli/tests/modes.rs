//! Special modes against a real server.

use std::process::Command;

use crate::support::{RealServer, our_cli, real_redis_available};

#[test]
fn rdb_and_functions_rdb_save_the_snapshot_the_server_sends() {
    if !real_redis_available("rdb_and_functions_rdb_save_the_snapshot_the_server_sends") {
        return;
    }
    let server = RealServer::start("rdb");
    let port = server.port.to_string();
    let set = Command::new(our_cli())
        .args(["-p", &port, "SET", "saved", "value"])
        .output()
        .unwrap();
    assert!(set.status.success());
    for (flag, name) in [("--rdb", "all.rdb"), ("--functions-rdb", "functions.rdb")] {
        let file = server.dir.join(name);
        let out = Command::new(our_cli())
            .args(["-p", &port, flag])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flag}: {stderr}");
        assert!(stderr.contains("sending REPLCONF rdb-only 1"), "{stderr}");
        assert!(
            stderr.contains("Transfer finished with success"),
            "{stderr}"
        );
        let bytes = std::fs::read(&file).unwrap();
        assert!(bytes.starts_with(b"REDIS0010"), "{flag}: not an RDB file");
        let has_key = bytes.windows(5).any(|w| w == b"saved");
        assert_eq!(has_key, flag == "--rdb", "{flag}: key presence");
    }
}

#[test]
fn replica_mode_prints_the_commands_the_master_propagates() {
    if !real_redis_available("replica_mode_prints_the_commands_the_master_propagates") {
        return;
    }
    let server = RealServer::start("replica");
    let port = server.port.to_string();
    let cli = |args: &[&str]| {
        Command::new(our_cli())
            .args(["-p", &port])
            .args(args)
            .output()
            .unwrap()
    };
    cli(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    let replica = Command::new(our_cli())
        .args(["-p", &port, "--replica"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The handshake, the payload and the one-second pause before the ACK.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    cli(&["SET", "propagated", "value"]);
    std::thread::sleep(std::time::Duration::from_millis(1000));
    cli(&["CLIENT", "KILL", "TYPE", "replica"]);
    let out = replica.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("\"SET\",\"propagated\",\"value\""),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("Logging commands from master"), "{stderr}");
    assert!(stderr.contains("Server closed the connection"), "{stderr}");
}

/// Runs a client that loops forever, keeping what it printed to stdout before `wait` ended
/// (stdout is a pipe: our client writes every line at once; the real one would buffer).
fn run_for(args: &[&str], wait: std::time::Duration) -> (String, String) {
    let mut child = Command::new(our_cli())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(wait);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// True when `line` is `fields` numbers (integers, the `avg` with two decimals) joined by `sep`.
fn numbers(line: &str, sep: char, fields: usize) -> bool {
    let parts: Vec<&str> = line.split(sep).collect();
    parts.len() == fields
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

#[test]
fn latency_prints_one_report_per_output_style_and_exits() {
    if !real_redis_available("latency_prints_one_report_per_output_style_and_exits") {
        return;
    }
    let server = RealServer::start("latency");
    let port = server.port.to_string();
    for (flag, check) in [
        (
            "--raw",
            Box::new(|l: &str| numbers(l, ' ', 4)) as Box<dyn Fn(&str) -> bool>,
        ),
        ("--csv", Box::new(|l: &str| numbers(l, ',', 4))),
        (
            "--json",
            Box::new(|l: &str| {
                l.starts_with("{\"min\": ") && l.contains(", \"avg\": ") && l.ends_with('}')
            }),
        ),
    ] {
        let start = std::time::Instant::now();
        let out = Command::new(our_cli())
            .args(["-p", &port, "--latency", flag, "-i", "0.3"])
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{flag}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{flag}: {stdout:?}");
        assert!(check(lines[0]), "{flag}: {stdout:?}");
        assert!(
            elapsed >= std::time::Duration::from_millis(300),
            "{elapsed:?}"
        );
    }
    let quoted = Command::new(our_cli())
        .args(["-p", &port, "--latency", "--quoted-json", "-i", "0.1"])
        .output()
        .unwrap();
    assert!(quoted.status.success() && quoted.stdout.is_empty());
}

#[test]
fn latency_history_reports_every_sample_and_each_window() {
    if !real_redis_available("latency_history_reports_every_sample_and_each_window") {
        return;
    }
    let server = RealServer::start("latency-history");
    let port = server.port.to_string();
    let (stdout, _) = run_for(
        &["-p", &port, "--latency-history", "--raw", "-i", "0.2"],
        std::time::Duration::from_millis(900),
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() > 5, "{stdout:?}");
    assert!(numbers(lines[0], ' ', 4), "{stdout:?}");
    assert!(lines[0].ends_with(" 1"), "the first sample: {stdout:?}");
    // A window ends with its range after its last sample (on a line of its own here: every
    // sample ends its line outside a terminal).
    let window = lines
        .iter()
        .position(|l| l.starts_with(" -- "))
        .expect("a window");
    assert!(lines[window].ends_with(" seconds range"), "{stdout:?}");
    assert!(numbers(lines[window - 1], ' ', 4), "{stdout:?}");
    assert!(
        lines[window + 1].ends_with(" 1"),
        "counts restart: {stdout:?}"
    );
    // On a terminal the line is redrawn in place.
    let (tty, _) = run_for(
        &["-p", &port, "--latency", "--no-raw"],
        std::time::Duration::from_millis(300),
    );
    assert!(tty.starts_with("\x1b[0G\x1b[2Kmin: "), "{tty:?}");
    assert!(tty.contains(" samples)\x1b[0G\x1b[2Kmin: "), "{tty:?}");
}

#[test]
fn latency_dist_draws_the_legend_then_a_spectrum_per_interval() {
    if !real_redis_available("latency_dist_draws_the_legend_then_a_spectrum_per_interval") {
        return;
    }
    let server = RealServer::start("latency-dist");
    let port = server.port.to_string();
    let (stdout, _) = run_for(
        &["-p", &port, "--latency-dist", "--mono", "-i", "0.2"],
        std::time::Duration::from_millis(1000),
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 10, "{stdout:?}");
    assert_eq!(lines[0], "---------------------------------------------");
    assert_eq!(lines[1], ". - * #          .01 .125 .25 .5 milliseconds");
    assert_eq!(lines[5], "K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds");
    assert!(lines[6].starts_with("From 0 to 100%: \x1b[48;5;0m \x1b[48;5;233m "));
    assert!(
        lines[6].ends_with("\x1b[48;5;253m \x1b[0m"),
        "--mono: {:?}",
        lines[6]
    );
    assert_eq!(lines[7], lines[0]);
    let spectrum = lines[8];
    assert!(
        spectrum.starts_with("\x1b[38;5;0m\x1b[48;5;"),
        "{spectrum:?}"
    );
    assert!(spectrum.ends_with("m?\x1b[0m"), "{spectrum:?}");
    assert_eq!(
        spectrum.matches("\x1b[48;5;").count(),
        31,
        "one cell per bucket"
    );
}

#[test]
fn stat_prints_the_header_and_a_line_per_interval() {
    if !real_redis_available("stat_prints_the_header_and_a_line_per_interval") {
        return;
    }
    let server = RealServer::start("stat");
    server
        .raw(&[
            &["SET", "a", "1"],
            &["SELECT", "3"],
            &["SET", "b", "2"],
            &["SET", "c", "3"],
        ])
        .unwrap();
    let port = server.port.to_string();
    let (stdout, _) = run_for(
        &["-p", &port, "--stat", "-i", "0.1"],
        std::time::Duration::from_millis(700),
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 4, "{stdout:?}");
    assert_eq!(
        lines[0],
        "------- data ------ --------------------- load -------------------- - child -"
    );
    assert_eq!(
        lines[1],
        "keys       mem      clients blocked requests            connections          "
    );
    for line in &lines[2..] {
        // keys (every database), memory, clients, blocked, requests (+delta), connections.
        assert!(line.starts_with("3          "), "{line:?}");
        let mem = line[11..19].trim_end();
        assert!(mem.ends_with('K') || mem.ends_with('M'), "{line:?}");
        assert_eq!(&line[19..28], " 1       ", "{line:?}");
        assert_eq!(&line[28..36], "0       ", "{line:?}");
        assert!(line[36..55].contains(" (+"), "{line:?}");
    }
    assert!(
        lines[2][36..55].contains(" (+0)"),
        "the first delta is 0: {:?}",
        lines[2]
    );
    assert!(
        lines[3][36..55].contains(" (+1)"),
        "one INFO since: {:?}",
        lines[3]
    );
}

#[test]
fn intrinsic_latency_runs_for_the_given_seconds_without_a_server() {
    let start = std::time::Instant::now();
    let out = Command::new(our_cli())
        .args(["-p", "1", "--intrinsic-latency", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(start.elapsed() >= std::time::Duration::from_secs(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Max latency so far: "), "{stdout}");
    assert!(lines[0].ends_with(" microseconds."), "{stdout}");
    let n = lines.len();
    assert_eq!(lines[n - 3], "", "{stdout}");
    assert!(
        lines[n - 2].contains(" total runs (avg latency: "),
        "{stdout}"
    );
    assert!(lines[n - 2].ends_with(" nanoseconds per run)."), "{stdout}");
    assert!(lines[n - 1].starts_with("Worst run took "), "{stdout}");
    assert!(
        lines[n - 1].ends_with("x longer than the average latency."),
        "{stdout}"
    );
}

#[test]
fn hotkeys_under_lfu_match_real_redis_cli() {
    if !real_redis_available("hotkeys_under_lfu_match_real_redis_cli") {
        return;
    }
    let server = RealServer::start("hotkeys");
    let port = server.port.to_string();
    let mut setup: Vec<Vec<&str>> = vec![vec!["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]];
    let keys: Vec<String> = (0..40).map(|i| format!("hot:{i}")).collect();
    for key in &keys {
        setup.push(vec!["SET", key, "v"]);
    }
    // One read lifts a fresh key's counter from 5 to 6, deterministically.
    for key in keys.iter().step_by(7) {
        setup.push(vec!["GET", key]);
    }
    let setup: Vec<&[&str]> = setup.iter().map(Vec::as_slice).collect();
    server.raw(&setup).unwrap();
    for args in [&["--hotkeys"][..], &["--hotkeys", "--pattern", "hot:1*"]] {
        let run = |bin: &std::path::Path| {
            let out = Command::new(bin)
                .args(["-p", &port])
                .args(args)
                .output()
                .unwrap();
            (out.stdout, out.status.code())
        };
        let real = run(std::path::Path::new(crate::support::REAL_CLI));
        let ours = run(&our_cli());
        assert_eq!(
            String::from_utf8_lossy(&ours.0),
            String::from_utf8_lossy(&real.0),
            "{args:?}"
        );
        assert_eq!(ours.1, real.1);
        assert!(String::from_utf8_lossy(&ours.0).contains("hot key found with counter: 6\t"));
    }
}

#[test]
fn rdb_from_a_disk_based_master_and_to_stdout() {
    if !real_redis_available("rdb_from_a_disk_based_master_and_to_stdout") {
        return;
    }
    let server = RealServer::start("rdb-disk");
    server
        .raw(&[
            &["SET", "saved", "value"],
            &["CONFIG", "SET", "repl-diskless-sync", "no"],
        ])
        .unwrap();
    let port = server.port.to_string();
    let file = server.dir.join("disk.rdb");
    let out = Command::new(our_cli())
        .args(["-p", &port, "--rdb"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(" bytes to '"), "{stderr}");
    assert!(
        stderr.ends_with("Transfer finished with success.\n"),
        "{stderr}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"REDIS0010") && bytes.windows(5).any(|w| w == b"saved"));
    let out = Command::new(our_cli())
        .args(["-p", &port, "--rdb", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.starts_with(b"REDIS0010"));
    assert_eq!(out.stdout.len(), bytes.len());
}
