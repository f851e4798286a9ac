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
