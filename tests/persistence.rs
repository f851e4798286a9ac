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

/// What one writer leaves behind: the values the server acknowledged, and the one command
/// that may have been applied without its reply arriving.
#[derive(Default)]
struct Acked {
    values: Vec<(String, String)>,
    in_flight: Option<(String, String)>,
}

/// One writer on its own connection: INCR on its counter, then SET of a key picked by the
/// count, over and over, until the connection dies.
fn writer(port: u16, id: usize, start: i64) -> Acked {
    let mut acked = Acked::default();
    let Ok(mut conn) = tests::Conn::tcp(port) else {
        return acked;
    };
    let counter = format!("ctr:{id}");
    let mut count = start;
    loop {
        acked.in_flight = Some((counter.clone(), (count + 1).to_string()));
        let mut req = Vec::new();
        common::resp::encode_command(&["INCR", counter.as_str()], &mut req);
        if conn.try_send(&req).is_err() {
            return acked;
        }
        let Ok(reply) = conn.try_read_reply(WAIT) else {
            return acked;
        };
        assert_eq!(reply, format!(":{}\r\n", count + 1).into_bytes());
        count += 1;
        acked.values.push((counter.clone(), count.to_string()));
        let key = format!("k:{id}:{}", count % 10);
        let value = format!("v{count}");
        acked.in_flight = Some((key.clone(), value.clone()));
        let mut req = Vec::new();
        common::resp::encode_command(&["SET", key.as_str(), value.as_str()], &mut req);
        if conn.try_send(&req).is_err() {
            return acked;
        }
        let Ok(reply) = conn.try_read_reply(WAIT) else {
            return acked;
        };
        assert_eq!(reply, b"+OK\r\n");
        acked.values.push((key, value));
    }
}

/// A small xorshift generator: the kill moments need no quality, only variety.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `appendonly yes` with `appendfsync always`: every acknowledged write survives `kill -9` at
/// a random moment, 20 times over on the same folder (a torn last command is truncated on
/// load). A key may also hold the one write in flight when the server died.
#[test]
fn acknowledged_writes_survive_kill_9() {
    const WRITERS: usize = 4;
    const ROUNDS: usize = 20;
    let dir = tests::TempDir::new();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    let mut known: std::collections::HashMap<String, String> = Default::default();
    let mut maybe: Vec<(String, String)> = Vec::new();
    let mut total_acked = 0;
    for round in 0..=ROUNDS {
        let mut server = TestServer::with_args(&[
            "--dir",
            &dir_arg,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        let mut c = server.connect();
        // Every key written so far holds its acknowledged value, or the value in flight.
        let mut keys: Vec<&String> = known.keys().chain(maybe.iter().map(|(k, _)| k)).collect();
        keys.sort();
        keys.dedup();
        let mut actual = std::collections::HashMap::new();
        for key in keys {
            let reply = c.cmd(&["GET", key]);
            let value = reply.split("\r\n").nth(1).map(str::to_owned);
            let value = if reply.starts_with("$-1") {
                None
            } else {
                value
            };
            let ok = value.as_ref() == known.get(key)
                || maybe
                    .iter()
                    .any(|(k, v)| k == key && Some(v) == value.as_ref());
            assert!(
                ok,
                "round {round} (seed {seed}): {key} holds {value:?}, acknowledged {:?}, in flight {maybe:?}",
                known.get(key)
            );
            if let Some(v) = value {
                actual.insert(key.clone(), v);
            }
        }
        known = actual;
        maybe.clear();
        if round == ROUNDS {
            break;
        }
        let port = server.port();
        let writers: Vec<_> = (0..WRITERS)
            .map(|id| {
                let start = known
                    .get(&format!("ctr:{id}"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                std::thread::spawn(move || writer(port, id, start))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + rng.below(180)));
        let pid = server.pid().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        server.wait_exit(WAIT);
        for handle in writers {
            let acked = handle.join().unwrap();
            total_acked += acked.values.len();
            for (k, v) in acked.values {
                known.insert(k, v);
            }
            maybe.extend(acked.in_flight);
        }
    }
    assert!(total_acked > ROUNDS * WRITERS, "only {total_acked} writes");
}

/// Starts a server on the folder of `dir` that loads slowly (`key-load-delay`), serving
/// clients every KB of the file. The harness returns once PING answers, `-LOADING` included.
fn slow_loader(dir: &str) -> TestServer {
    TestServer::builder()
        .args(&[
            "--dir",
            dir,
            "--key-load-delay",
            "100",
            "--loading-process-events-interval-bytes",
            "1024",
        ])
        .start_loading()
}

#[test]
fn clients_are_served_while_the_dataset_loads() {
    let mut first = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = first.connect();
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdbcompression", "no"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", "20000", "key", "1000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    assert!(first.wait_exit(WAIT).success());
    let dir = first.dir().to_string_lossy().into_owned();

    // The harness's start returns once PING answers: the load is under way.
    let second = slow_loader(&dir);
    let mut c = second.connect();
    assert_eq!(info_field(&mut c, "persistence", "loading"), "1");
    assert_eq!(
        c.cmd(&["GET", "key:1"]),
        "-LOADING Redis is loading the dataset in memory\r\n"
    );
    // PING lacks the `loading` flag in Redis 7.0 too.
    assert_eq!(
        c.cmd(&["PING"]),
        "-LOADING Redis is loading the dataset in memory\r\n"
    );
    assert_eq!(c.cmd(&["ECHO", "x"]), "$1\r\nx\r\n");
    let loaded: u64 = info_field(&mut c, "persistence", "loading_loaded_bytes")
        .parse()
        .unwrap();
    let total: u64 = info_field(&mut c, "persistence", "loading_total_bytes")
        .parse()
        .unwrap();
    assert!(loaded < total && total > 20_000_000, "{loaded} of {total}");
    // Clients come and go while it loads; those that leave are freed.
    let others: Vec<_> = (0..5).map(|_| second.connect()).collect();
    for mut other in others {
        assert_eq!(other.cmd(&["CLIENT", "ID"]).as_bytes()[0], b':');
    }
    let deadline = std::time::Instant::now() + WAIT;
    while info_field(&mut c, "clients", "connected_clients") != "1" {
        assert!(std::time::Instant::now() < deadline, "clients not freed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "persistence", "loading"), "1");
    assert!(!second.log().contains("Ready to accept connections"));

    // Then the data, once loaded.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while info_field(&mut c, "persistence", "loading") != "0" {
        assert!(std::time::Instant::now() < deadline, "still loading");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(c.cmd(&["GET", "key:1"]).starts_with("$1000\r\nvalue:1"));
    assert_eq!(c.cmd(&["DBSIZE"]), ":20000\r\n");
    // Logged just after the loading state ends (as Redis logs it after stopLoading).
    while !second.log().contains("Ready to accept connections") {
        assert!(std::time::Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(second);

    // SIGTERM while loading: the server exits at once, without saving.
    let mut third = slow_loader(&dir);
    assert!(third.terminate(WAIT).success());
    let log = third.log();
    assert!(
        log.contains("Received shutdown signal during loading, scheduling shutdown."),
        "{log}"
    );
    assert!(!log.contains("Ready to accept connections"), "{log}");

    // SHUTDOWN while loading never saves the half-loaded dataset.
    let mut fourth = slow_loader(&dir);
    fourth.connect().send_cmd(&["SHUTDOWN", "SAVE"]);
    assert!(fourth.wait_exit(WAIT).success());
    let log = fourth.log();
    assert!(log.contains("User requested shutdown..."), "{log}");
    assert!(!log.contains("DB saved on disk"), "{log}");
}
