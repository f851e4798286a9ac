//! The server family: INFO, CONFIG, COMMAND, SLOWLOG, MONITOR, DBSIZE, TIME, DEBUG.

use std::time::Duration;

use common::resp::Frame;
use tests::TestServer;

#[test]
fn info_has_redis_sections_and_fields() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["SET", "t", "v", "EX", "100"]);
    let all = c.cmd(&["INFO"]);
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert!(
            all.contains(&format!("{section}\r\n")),
            "INFO lacks {section}"
        );
    }
    assert!(all.contains("redis_version:7.0.15\r\n"), "{all}");
    assert!(
        all.contains(&format!("tcp_port:{}\r\n", server.port())),
        "{all}"
    );
    let keyspace = c.cmd(&["INFO", "keyspace"]);
    assert!(
        keyspace.contains("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl="),
        "{keyspace}"
    );
    let clients = c.cmd(&["INFO", "clients"]);
    assert!(clients.contains("connected_clients:1\r\n"), "{clients}");
    assert!(!clients.contains("# Server"), "{clients}");
    assert_eq!(c.cmd(&["INFO", "nosuchsection"]), "$0\r\n\r\n");
}

#[test]
fn info_stats_count_commands_and_keyspace_hits() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["GET", "nope"]);
    let stats = c.cmd(&["INFO", "stats"]);
    assert!(stats.contains("keyspace_hits:1\r\n"), "{stats}");
    assert!(stats.contains("keyspace_misses:1\r\n"), "{stats}");
    let cmdstats = c.cmd(&["INFO", "commandstats"]);
    assert!(cmdstats.contains("cmdstat_get:calls=2,"), "{cmdstats}");
}

#[test]
fn config_get_and_set_round_trip() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "client-query-buffer-limit"]),
        "*2\r\n$25\r\nclient-query-buffer-limit\r\n$10\r\n1073741824\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "10mb"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "client-query-buffer-limit"]),
        "*2\r\n$25\r\nclient-query-buffer-limit\r\n$8\r\n10485760\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "lots"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
    );
    let Frame::Array(items) = c.frame(&["CONFIG", "GET", "maxmemory*"]) else {
        panic!("CONFIG GET did not reply an array")
    };
    assert!(items.len() >= 6 && items.len() % 2 == 0, "{items:?}");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{}\r\n",
            server.port().to_string().len(),
            server.port()
        )
    );
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
}

#[test]
fn command_count_and_info_describe_commands() {
    let server = TestServer::start();
    let mut c = server.connect();
    let Frame::Integer(count) = c.frame(&["COMMAND", "COUNT"]) else {
        panic!("COMMAND COUNT is not an integer")
    };
    assert!(count >= 60, "COMMAND COUNT {count}");
    assert_eq!(
        c.cmd(&["COMMAND", "INFO", "get"]),
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    );
    assert_eq!(c.cmd(&["COMMAND", "INFO", "nosuch"]), "*1\r\n$-1\r\n");
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
}

/// A blocked command is filed when it is finally served, as the command its client sent
/// (after the EXEC that served it).
#[test]
fn slowlog_files_a_served_blocked_command_as_sent() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let mut waiter = server.connect();
    waiter.send_cmd(&["BLPOP", "l", "0"]);
    while !c
        .cmd(&["INFO", "clients"])
        .contains("blocked_clients:1\r\n")
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    c.cmd(&["MULTI"]);
    c.cmd(&["LPUSH", "l", "foo"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["EXEC"]);
    assert_eq!(waiter.read_text(), "*2\r\n$1\r\nl\r\n$3\r\nfoo\r\n");
    let Frame::Array(entries) = c.frame(&["SLOWLOG", "GET", "1"]) else {
        panic!("SLOWLOG GET is not an array")
    };
    let Frame::Array(entry) = &entries[0] else {
        panic!("entry {entries:?}")
    };
    let args: Vec<_> = ["BLPOP", "l", "0"]
        .iter()
        .map(|a| Frame::Bulk(a.as_bytes().to_vec()))
        .collect();
    assert_eq!(entry[3], Frame::Array(args));
}

#[test]
fn slowlog_records_commands_over_the_threshold() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), "+OK\r\n");
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), ":3\r\n");
    // Newest first: SLOWLOG LEN itself, then GET.
    let Frame::Array(entries) = c.frame(&["SLOWLOG", "GET", "2"]) else {
        panic!("SLOWLOG GET is not an array")
    };
    assert_eq!(entries.len(), 2);
    let Frame::Array(entry) = &entries[1] else {
        panic!("entry {entries:?}")
    };
    assert_eq!(entry.len(), 6);
    assert_eq!(
        entry[3],
        Frame::Array(vec![
            Frame::Bulk(b"GET".to_vec()),
            Frame::Bulk(b"k".to_vec())
        ])
    );
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]),
        "+OK\r\n"
    );
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), ":1\r\n");
}

#[test]
fn monitor_streams_commands_from_other_connections() {
    let server = TestServer::start();
    let mut monitor = server.connect();
    assert_eq!(monitor.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = server.connect();
    c.cmd(&["SET", "k", "hello world"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["GET", "k"]);
    let first = monitor.read_text();
    let second = monitor.read_text();
    let third = monitor.read_text();
    for (line, tail) in [
        (&first, "[0 127.0.0.1:"),
        // Redis shows SELECT with the database it switched to.
        (&second, "[2 127.0.0.1:"),
        (&third, "[2 127.0.0.1:"),
    ] {
        assert!(line.starts_with('+'), "{line}");
        assert!(line.contains(tail), "{line}");
    }
    assert!(
        first.ends_with("] \"SET\" \"k\" \"hello world\"\r\n"),
        "{first}"
    );
    assert!(second.ends_with("] \"SELECT\" \"2\"\r\n"), "{second}");
    assert!(third.ends_with("] \"GET\" \"k\"\r\n"), "{third}");
    monitor.assert_silent(Duration::from_millis(100));
}

/// As Redis shows them: a script right before the commands it runs (`lua` as their address),
/// EXEC's commands as they run and EXEC after them, a blocked command once.
#[test]
fn monitor_shows_scripts_transactions_and_blocked_commands_in_order() {
    let server = TestServer::start();
    let mut monitor = server.connect();
    assert_eq!(monitor.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = server.connect();
    c.cmd(&["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    let mut pusher = server.connect();
    c.send_cmd(&["BLPOP", "q", "5"]);
    std::thread::sleep(Duration::from_millis(100));
    pusher.cmd(&["RPUSH", "q", "x"]);
    assert_eq!(c.read_text(), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    let expected = [
        "] \"EVAL\" \"return redis.call('set', KEYS[1], 'v')\" \"1\" \"k\"\r\n",
        " lua] \"set\" \"k\" \"v\"\r\n",
        "] \"MULTI\"\r\n",
        "] \"INCR\" \"n\"\r\n",
        "] \"EXEC\"\r\n",
        "] \"BLPOP\" \"q\" \"5\"\r\n",
        "] \"RPUSH\" \"q\" \"x\"\r\n",
    ];
    for tail in expected {
        let line = monitor.read_text();
        assert!(line.ends_with(tail), "{line:?} should end with {tail:?}");
    }
    monitor.assert_silent(Duration::from_millis(100));
}

#[test]
fn dbsize_time_and_lastsave_answer() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    let Frame::Array(time) = c.frame(&["TIME"]) else {
        panic!("TIME is not an array")
    };
    assert_eq!(time.len(), 2);
    assert!(matches!(c.frame(&["LASTSAVE"]), Frame::Integer(_)));
}

#[test]
fn debug_is_refused_unless_enabled() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["DEBUG", "SLEEP", "0"]),
        "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n"
    );
    let enabled = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut d = enabled.connect();
    assert_eq!(d.cmd(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
    d.cmd(&["SET", "k", "v"]);
    let object = d.cmd(&["DEBUG", "OBJECT", "k"]);
    assert!(object.starts_with("+Value at:"), "{object}");
    assert!(object.contains(" encoding:embstr "), "{object}");
}
