//! RDB persistence of our server across restarts: SHUTDOWN and SIGTERM save when save points
//! are configured, the next start loads the file and logs as Redis does, and a corrupt file
//! stops the start-up with the offset.

use std::time::Duration;

use tests::TestServer;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn shutdown_saves_and_the_next_start_loads_the_keys() {
    let mut first = TestServer::with_args(&["--save", "3600 1"]);
    let mut c = first.connect();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["SET", "t", "x", "EX", "1000"]), "+OK\r\n");
    c.send_cmd(&["SHUTDOWN"]);
    assert!(first.wait_exit(WAIT).success());
    assert!(first.log().contains("DB saved on disk"), "{}", first.log());

    let dir = first.dir().to_string_lossy().into_owned();
    let mut second = TestServer::with_args(&["--dir", &dir]);
    let mut c = second.connect();
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    let ttl: i64 = c.cmd(&["TTL", "t"])[1..].trim().parse().unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    let log = second.log();
    assert!(
        log.contains("Loading RDB produced by version 7.0.15"),
        "{log}"
    );
    assert!(
        log.contains("Done loading RDB, keys loaded: 3, keys expired: 0."),
        "{log}"
    );
    assert!(log.contains("DB loaded from disk: "), "{log}");

    // SIGTERM with save points saves too.
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", "3600 1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "after"]), "+OK\r\n");
    assert!(second.terminate(WAIT).success());
    let third = TestServer::with_args(&["--dir", &dir]);
    assert_eq!(third.connect().cmd(&["GET", "k"]), "$5\r\nafter\r\n");
}

#[test]
fn a_corrupt_rdb_stops_the_start_up() {
    let dir = tests::TempDir::new();
    let mut file = b"REDIS0010".to_vec();
    file.extend_from_slice(&[0xfe, 0x00, 0x00, 0x01, b'k', 0xc3, 0x05]);
    std::fs::write(dir.path().join("dump.rdb"), &file).unwrap();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let (_tmp, out) = TestServer::builder()
        .args(&["--dir", &dir_arg])
        .run_to_exit(WAIT);
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Internal error in RDB reading offset"),
        "{text}"
    );
}

#[test]
fn hash_field_ttls_survive_a_restart_from_the_aof() {
    let mut first = TestServer::with_args(&["--appendonly", "yes"]);
    let mut c = first.connect();
    assert_eq!(
        c.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3"]),
        ":3\r\n"
    );
    assert_eq!(
        c.cmd(&["HEXPIRE", "h", "1000", "FIELDS", "1", "a"]),
        "*1\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd(&["HPEXPIREAT", "h", "40000000000000", "FIELDS", "1", "b"]),
        "*1\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd(&["HPEXPIREAT", "h", "1", "FIELDS", "1", "c"]),
        "*1\r\n:2\r\n"
    );
    assert!(first.terminate(WAIT).success());

    let dir = first.dir().to_string_lossy().into_owned();
    let second = TestServer::with_args(&["--dir", &dir, "--appendonly", "yes"]);
    let mut c = second.connect();
    let ttls = c.cmd(&["HTTL", "h", "FIELDS", "3", "a", "b", "c"]);
    let lines: Vec<&str> = ttls.split("\r\n").collect();
    let a: i64 = lines[1][1..].parse().unwrap();
    assert!((990..=1000).contains(&a), "{ttls}");
    assert_eq!(
        c.cmd(&["HPEXPIRETIME", "h", "FIELDS", "2", "b", "c"]),
        "*2\r\n:40000000000000\r\n:-2\r\n"
    );
    assert_eq!(c.cmd(&["HLEN", "h"]), ":2\r\n");
}

fn info_field(c: &mut tests::Conn, section: &str, name: &str) -> String {
    let info = c.cmd(&["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_owned()
}

/// The snapshot is one instant: writes that follow BGSAVE in the same pipeline (so they run
/// while its shards are still being captured) do not reach the file.
#[test]
fn writes_during_a_bgsave_do_not_reach_the_saved_file() {
    const KEYS: usize = 100_000;
    let first = TestServer::start();
    let mut c = first.connect();
    let mut fill = Vec::new();
    for batch in 0..KEYS / 1000 {
        let mut args = vec!["MSET".to_owned()];
        for i in batch * 1000..(batch + 1) * 1000 {
            args.push(format!("k:{i}"));
            args.push(format!("old:{i}"));
        }
        common::resp::encode_command(&args, &mut fill);
    }
    c.send(&fill);
    for _ in 0..KEYS / 1000 {
        assert_eq!(c.read_text(), "+OK\r\n");
    }
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RPUSH", "list", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");

    let mut burst = Vec::new();
    common::resp::encode_command(&["BGSAVE"], &mut burst);
    let mut replies = 1;
    for i in (0..KEYS).step_by(97) {
        let key = format!("k:{i}");
        match i % 3 {
            0 => common::resp::encode_command(&["SET", key.as_str(), "new"], &mut burst),
            1 => common::resp::encode_command(&["DEL", key.as_str()], &mut burst),
            _ => common::resp::encode_command(&["SET", &format!("added:{i}"), "x"], &mut burst),
        }
        replies += 1;
    }
    for cmd in [
        &["SELECT", "3"][..],
        &["LPUSH", "list", "z"],
        &["SET", "k:1", "db3"],
    ] {
        common::resp::encode_command(cmd, &mut burst);
        replies += 1;
    }
    c.send(&burst);
    assert_eq!(c.read_text(), "+Background saving started\r\n");
    for _ in 1..replies {
        c.read_reply();
    }
    let deadline = std::time::Instant::now() + WAIT;
    while info_field(&mut c, "persistence", "rdb_bgsave_in_progress") != "0" {
        assert!(std::time::Instant::now() < deadline, "BGSAVE never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );

    let dir = first.dir().to_string_lossy().into_owned();
    let second = TestServer::with_args(&["--dir", &dir]);
    let mut c = second.connect();
    assert_eq!(c.cmd(&["DBSIZE"]), format!(":{KEYS}\r\n"));
    for i in (0..KEYS).step_by(97) {
        let want = format!("old:{i}");
        assert_eq!(
            c.cmd(&["GET", &format!("k:{i}")]),
            format!("${}\r\n{want}\r\n", want.len())
        );
        assert_eq!(c.cmd(&["EXISTS", &format!("added:{i}")]), ":0\r\n");
    }
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(
        c.cmd(&["LRANGE", "list", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
}
