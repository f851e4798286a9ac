//! The replica side: REPLICAOF, the sync (snapshot and partial), the applied stream, ROLE and
//! INFO on a replica, promotion; against our own master and against real Redis 7.0.15.

use std::time::{Duration, Instant};

use tests::{RealRedis, TestServer};

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn info_field(server: &TestServer, name: &str) -> String {
    let info = server.connect().cmd(&["INFO", "replication"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
        .unwrap_or_default()
}

fn link_up(replica: &TestServer) -> bool {
    info_field(replica, "master_link_status") == "up"
}

fn replicate(replica: &TestServer, master_port: u16) {
    let port = master_port.to_string();
    assert_eq!(
        replica.connect().cmd(&["REPLICAOF", "127.0.0.1", &port]),
        "+OK\r\n"
    );
    wait_until("the link", || link_up(replica));
}

/// Every type reaches the replica by the snapshot, and later writes by the stream.
fn check_full_and_streamed(master: &TestServer, replica: &TestServer) {
    let mut m = master.connect();
    m.cmd(&["SET", "s", "v"]);
    m.cmd(&["SET", "ttl", "v", "EX", "1000"]);
    m.cmd(&["RPUSH", "l", "a", "b", "c"]);
    m.cmd(&["HSET", "h", "f", "1", "g", "2"]);
    m.cmd(&["SADD", "set", "x", "y"]);
    m.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    m.cmd(&["XADD", "st", "1-1", "f", "v"]);
    m.cmd(&["SELECT", "2"]);
    m.cmd(&["SET", "db2", "yes"]);
    replicate(replica, master.port());
    let mut r = replica.connect();
    assert_eq!(r.cmd(&["GET", "s"]), "$1\r\nv\r\n");
    assert_eq!(
        r.cmd(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(r.cmd(&["HGET", "h", "g"]), "$1\r\n2\r\n");
    assert_eq!(r.cmd(&["SCARD", "set"]), ":2\r\n");
    assert_eq!(r.cmd(&["ZSCORE", "z", "b"]), "$1\r\n2\r\n");
    assert_eq!(r.cmd(&["XLEN", "st"]), ":1\r\n");
    // Set with EX 1000: TTL rounds to the nearest second, so a quick sync still reads 1000.
    let ttl = r.cmd(&["TTL", "ttl"]);
    let secs: i64 = ttl.trim_start_matches(':').trim_end().parse().unwrap_or(-1);
    assert!((990..=1000).contains(&secs), "{ttl:?}");
    assert_eq!(r.cmd(&["SELECT", "2"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "db2"]), "$3\r\nyes\r\n");
    // The stream: writes, a transaction, a script's effects.
    m.cmd(&["SELECT", "0"]);
    m.cmd(&["INCR", "counter"]);
    m.cmd(&["MULTI"]);
    m.cmd(&["INCR", "counter"]);
    m.cmd(&["LPUSH", "l", "z"]);
    m.cmd(&["EXEC"]);
    m.cmd(&["EVAL", "redis.call('set','ev','1') return 1", "0"]);
    let mut r = replica.connect();
    wait_until("the stream", || r.cmd(&["GET", "ev"]) == "$1\r\n1\r\n");
    assert_eq!(r.cmd(&["GET", "counter"]), "$1\r\n2\r\n");
    assert_eq!(r.cmd(&["LLEN", "l"]), ":4\r\n");
    assert_eq!(
        r.cmd(&["SET", "k", "v"]),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    let role = r.cmd(&["ROLE"]);
    let port = master.port().to_string();
    assert!(
        role.starts_with(&format!(
            "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$9\r\nconnected\r\n:"
        )),
        "{role}"
    );
    wait_until("equal offsets", || {
        info_field(master, "master_repl_offset") == info_field(replica, "master_repl_offset")
    });
    assert_eq!(info_field(replica, "role"), "slave");
    assert_eq!(
        info_field(master, "master_replid"),
        info_field(replica, "master_replid")
    );
}

#[test]
fn our_replica_of_our_master() {
    let master = TestServer::start();
    let replica = TestServer::start();
    check_full_and_streamed(&master, &replica);
    let mut r = replica.connect();
    let port = master.port().to_string();
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &port]),
        "+OK Already connected to specified master\r\n"
    );
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", "nan"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    // A killed link continues where it stopped.
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    master.connect().cmd(&["SET", "after-kill", "1"]);
    assert!(
        replica.wait_for_log(
            "Successful partial resynchronization with master",
            Duration::from_secs(20)
        ),
        "{}",
        replica.log()
    );
    wait_until("the write after the kill", || {
        r.cmd(&["GET", "after-kill"]) == "$1\r\n1\r\n"
    });
    // Promotion: a new id, the old one kept as replid2.
    let old_id = info_field(&replica, "master_replid");
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(info_field(&replica, "role"), "master");
    assert_eq!(info_field(&replica, "master_replid2"), old_id);
    assert_ne!(info_field(&replica, "master_replid"), old_id);
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert!(r.cmd(&["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n:"));
    // The old master follows the promoted replica, continuing through replid2.
    let new_port = replica.port().to_string();
    let mut m = master.connect();
    assert_eq!(m.cmd(&["REPLICAOF", "127.0.0.1", &new_port]), "+OK\r\n");
    wait_until("the old master's link", || link_up(&master));
    wait_until("the promoted master's write", || {
        m.cmd(&["GET", "k"]) == "$1\r\nv\r\n"
    });
    assert!(
        master
            .log()
            .contains("Successful partial resynchronization with master")
    );
}

#[test]
fn stale_data_and_expiry_on_a_replica() {
    let replica = TestServer::start();
    let mut r = replica.connect();
    r.cmd(&["SET", "k", "v"]);
    r.cmd(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    // Nothing listens on this port: the link stays down.
    let port = tests::free_port().to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["GET", "k"]),
        "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    );
    assert!(
        r.cmd(&["INFO", "replication"])
            .contains("master_link_status:down")
    );
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn keys_expire_on_the_master_first() {
    let master = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let replica = TestServer::start();
    let mut m = master.connect();
    assert_eq!(m.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    replicate(&replica, master.port());
    m.cmd(&["SET", "e", "v", "PX", "300"]);
    let mut r = replica.connect();
    wait_until("the key", || r.cmd(&["DBSIZE"]) == ":1\r\n");
    std::thread::sleep(Duration::from_millis(500));
    // Logically expired on the replica, but kept until the master's DEL.
    assert_eq!(r.cmd(&["GET", "e"]), "$-1\r\n");
    assert_eq!(r.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(m.cmd(&["GET", "e"]), "$-1\r\n");
    wait_until("the master's DEL", || r.cmd(&["DBSIZE"]) == ":0\r\n");
}

#[test]
fn our_replica_of_real_redis_and_real_replica_of_ours() {
    let Some(real_master) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    real_master
        .connect()
        .cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    check_full_and_streamed(&real_master, &ours);
    // Chained: a real replica of our replica gets the real master's stream.
    let Some(real_replica) = RealRedis::start() else {
        return;
    };
    replicate(&real_replica, ours.port());
    real_master.connect().cmd(&["SET", "chained", "yes"]);
    let mut rr = real_replica.connect();
    wait_until("the chained write", || {
        rr.cmd(&["GET", "chained"]) == "$3\r\nyes\r\n"
    });
    assert_eq!(rr.cmd(&["GET", "counter"]), "$1\r\n2\r\n");
    wait_until("equal offsets", || {
        info_field(&real_master, "master_repl_offset")
            == info_field(&real_replica, "master_repl_offset")
    });
}

/// `min-replicas-to-write` counts the replicas that acknowledged within the allowed lag.
#[test]
fn min_replicas_to_write_counts_acknowledging_replicas() {
    let master = TestServer::start();
    let replica = TestServer::start();
    let mut m = master.connect();
    m.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "10"]);
    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(
        m.cmd(&["SET", "k", "v"]),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    replicate(&replica, master.port());
    wait_until("an acknowledgement", || {
        info_field(&master, "min_slaves_good_slaves") == "1"
    });
    assert_eq!(m.cmd(&["SET", "k", "v"]), "+OK\r\n");
    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "2"]);
    assert_eq!(
        m.cmd(&["SET", "k", "v"]),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    assert_eq!(m.cmd(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn a_replica_serves_clients_while_it_loads_its_masters_data_set() {
    let master = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut m = master.connect();
    assert_eq!(
        m.cmd(&["DEBUG", "POPULATE", "20000", "key", "100"]),
        "+OK\r\n"
    );
    // 20000 keys at 100 us each: two seconds of loading, with pauses every kilobyte.
    let replica = TestServer::with_args(&[
        "--key-load-delay",
        "100",
        "--loading-process-events-interval-bytes",
        "1024",
    ]);
    let mut r = replica.connect();
    let port = master.port().to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    let loading = || {
        let info = replica.connect().cmd(&["INFO", "persistence"]);
        info.lines().any(|l| l == "loading:1")
    };
    wait_until("the replica to load", loading);
    assert_eq!(
        r.cmd(&["GET", "key:1"]),
        "-LOADING Redis is loading the dataset in memory\r\n"
    );
    wait_until("the load to end", || !loading());
    assert_eq!(r.cmd(&["DBSIZE"]), ":20000\r\n");
    assert!(r.cmd(&["GET", "key:1"]).starts_with("$100\r\nvalue:1"));
}
