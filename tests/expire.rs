//! Expiry over time: lazily on access, and actively by the cron without any access.

use std::time::{Duration, Instant};

use tests::TestServer;

#[test]
fn expired_key_is_gone_on_access() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "50"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-2\r\n");
}

#[test]
fn active_expiry_removes_keys_nobody_touches() {
    let server = TestServer::start();
    let mut c = server.connect();
    for i in 0..100 {
        assert_eq!(
            c.cmd(&["SET", &format!("k{i}"), "v", "PX", "100"]),
            "+OK\r\n"
        );
    }
    c.cmd(&["SET", "forever", "v"]);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    // DBSIZE does not expire keys itself: only the active cycle can have removed them.
    loop {
        let size = c.cmd(&["DBSIZE"]);
        if size == ":1\r\n" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "DBSIZE still {size:?} 3 s after the keys expired"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(c.cmd(&["GET", "forever"]), "$1\r\nv\r\n");
}

#[test]
fn set_without_ttl_clears_an_existing_expiry() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "k", "v", "PX", "100"]);
    c.cmd(&["SET", "k", "w"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nw\r\n");
}

/// Redis 7.4's hash-field expiry: the cron removes due fields of hashes nobody touches,
/// publishing `hexpired` and, with the last field, `del`.
#[test]
fn active_expiry_removes_hash_fields_nobody_touches() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut sub = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Egh"]),
        "+OK\r\n"
    );
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:hexpired"]);
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:del"]);
    c.cmd(&["HSET", "gone", "a", "1", "b", "2"]);
    c.cmd(&["HSET", "kept", "a", "1", "b", "2"]);
    assert_eq!(
        c.cmd(&["HPEXPIRE", "gone", "50", "FIELDS", "2", "a", "b"]),
        "*2\r\n:1\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd(&["HPEXPIRE", "kept", "50", "FIELDS", "1", "a"]),
        "*1\r\n:1\r\n"
    );
    let start = Instant::now();
    // DBSIZE looks at no hash: only the active cycle can have removed the fields.
    loop {
        if c.cmd(&["DBSIZE"]) == ":1\r\n" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "hash fields not expired 3 s after their time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(sub.read_text());
    }
    let hexpired = |key: &str| {
        format!(
            "*3\r\n$7\r\nmessage\r\n$23\r\n__keyevent@0__:hexpired\r\n${}\r\n{key}\r\n",
            key.len()
        )
    };
    let del = "*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:del\r\n$4\r\ngone\r\n".to_string();
    assert!(events.contains(&hexpired("gone")), "{events:?}");
    assert!(events.contains(&hexpired("kept")), "{events:?}");
    let at = |e: &String| events.iter().position(|x| x == e).unwrap();
    assert!(at(&del) > at(&hexpired("gone")), "{events:?}");
    assert_eq!(c.cmd(&["HGETALL", "kept"]), "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
}

/// Field TTLs survive a save and reload; the file declares RDB 12 only while a hash has one.
#[test]
fn hash_field_ttls_survive_debug_reload() {
    let server = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = server.connect();
    let header = || {
        let file = std::fs::read(server.dir().join("dump.rdb")).unwrap();
        String::from_utf8_lossy(&file[..9]).into_owned()
    };
    c.cmd(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(header(), "REDIS0010");
    c.cmd(&["HEXPIREAT", "h", "4000000000", "FIELDS", "1", "a"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(header(), "REDIS0012");
    assert_eq!(
        c.cmd(&["HEXPIRETIME", "h", "FIELDS", "2", "a", "b"]),
        "*2\r\n:4000000000\r\n:-1\r\n"
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "h"]), "$10\r\nlistpackex\r\n");
    c.cmd(&["HPERSIST", "h", "FIELDS", "1", "a"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(header(), "REDIS0010");
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
}

/// A plain SET, MSET or RENAME over a key whose time has come reports the key expired before it is set
/// (Redis's lookupKeyWrite), while one in a database without any TTL reports only the set:
/// they look the key up only when something could have expired.
#[test]
fn writes_over_an_expired_key_report_the_expiry_first() {
    let server = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "E$gx"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    let mut sub = server.connect();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut next_event = || {
        let message = sub.read_reply();
        let text = String::from_utf8_lossy(&message).into_owned();
        let event = text.split("\r\n").nth(6).unwrap_or_default().to_owned();
        let key = text.split("\r\n").nth(8).unwrap_or_default().to_owned();
        format!("{event} {key}")
    };
    assert_eq!(c.cmd(&["SET", "plain", "v"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:set plain");
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "1"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:set k");
    assert_eq!(next_event(), "__keyevent@0__:expire k");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.cmd(&["SET", "k", "w"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:expired k");
    assert_eq!(next_event(), "__keyevent@0__:set k");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nw\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    // MSET too, key by key.
    assert_eq!(c.cmd(&["SET", "m", "v", "PX", "1"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:set m");
    assert_eq!(next_event(), "__keyevent@0__:expire m");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.cmd(&["MSET", "plain", "x", "m", "y"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:set plain");
    assert_eq!(next_event(), "__keyevent@0__:expired m");
    assert_eq!(next_event(), "__keyevent@0__:set m");
    assert_eq!(c.cmd(&["TTL", "m"]), ":-1\r\n");
    // And RENAME's target.
    assert_eq!(c.cmd(&["SET", "t", "v", "PX", "1"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:set t");
    assert_eq!(next_event(), "__keyevent@0__:expire t");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.cmd(&["RENAME", "plain", "t"]), "+OK\r\n");
    assert_eq!(next_event(), "__keyevent@0__:expired t");
    assert_eq!(next_event(), "__keyevent@0__:rename_from plain");
    assert_eq!(next_event(), "__keyevent@0__:rename_to t");
}

/// Commands that store into a destination look it up for writing first, as Redis's do: a
/// destination whose time has come is reported expired before the store's own event. An
/// empty result deletes the destination as it finds it, so that one is reported deleted.
#[test]
fn stores_over_an_expired_destination_report_the_expiry_first() {
    let server = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    c.cmd(&["SADD", "s", "a", "b"]);
    c.cmd(&["SET", "b", "ab"]);
    c.cmd(&["RPUSH", "l", "3", "1", "2"]);
    c.cmd(&["ZADD", "z", "1", "a"]);
    c.cmd(&["GEOADD", "g", "13", "38", "m"]);
    let mut sub = server.connect();
    sub.cmd(&["SUBSCRIBE", "__keyspace@0__:dst"]);
    let stores: &[(&[&str], &str)] = &[
        (&["BITOP", "OR", "dst", "b"], "expired"),
        (&["ZUNIONSTORE", "dst", "1", "z"], "expired"),
        (&["ZINTERSTORE", "dst", "1", "z"], "expired"),
        (&["ZDIFFSTORE", "dst", "1", "z"], "expired"),
        (&["ZRANGESTORE", "dst", "z", "0", "-1"], "expired"),
        (
            &[
                "GEOSEARCHSTORE",
                "dst",
                "g",
                "FROMLONLAT",
                "13",
                "38",
                "BYRADIUS",
                "10",
                "km",
            ],
            "expired",
        ),
        (&["SUNIONSTORE", "dst", "s"], "expired"),
        (&["SINTERSTORE", "dst", "s"], "expired"),
        (&["SDIFFSTORE", "dst", "s"], "expired"),
        (&["SORT", "l", "STORE", "dst"], "expired"),
        (&["COPY", "s", "dst", "REPLACE"], "expired"),
        (&["LMOVE", "l", "dst", "LEFT", "LEFT"], "expired"),
        (&["SETEX", "dst", "100", "x"], "expired"),
        (&["MSETNX", "dst", "x"], "expired"),
        (&["BITOP", "AND", "dst", "nokey"], "del"),
        (&["SUNIONSTORE", "dst", "nokey"], "del"),
    ];
    let mut report = Vec::new();
    for (store, _) in stores {
        c.cmd(&["SET", "dst", "v", "PX", "1"]);
        sub.read_reply(); // set
        sub.read_reply(); // expire
        std::thread::sleep(Duration::from_millis(15));
        c.cmd(store);
        let first = String::from_utf8_lossy(&sub.read_reply()).into_owned();
        let event = first.split("\r\n").nth(6).unwrap_or_default().to_owned();
        report.push(format!("{}: {event}", store[0]));
        if event == "del" {
            continue;
        }
        // The rest of this store's events.
        c.cmd(&["DEL", "dst"]);
        loop {
            let message = String::from_utf8_lossy(&sub.read_reply()).into_owned();
            if message.contains("\r\ndel\r\n") {
                break;
            }
        }
    }
    let expected: Vec<String> = stores
        .iter()
        .map(|(store, event)| format!("{}: {event}", store[0]))
        .collect();
    assert_eq!(report, expected);
}
