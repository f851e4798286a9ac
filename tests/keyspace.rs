//! The generic family: DEL EXISTS EXPIRE TTL SCAN KEYS RENAME COPY MOVE SELECT SWAPDB FLUSHALL...

use common::resp::Frame;
use tests::TestServer;

/// The keys of a `KEYS`/`SCAN` page, sorted.
fn sorted_names(frame: &Frame) -> Vec<String> {
    let Frame::Array(items) = frame else {
        panic!("not an array: {frame:?}")
    };
    let mut names: Vec<String> = items
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    names.sort();
    names
}

#[test]
fn del_exists_and_unlink_count_keys() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(c.cmd(&["EXISTS", "a", "a", "missing"]), ":2\r\n");
    assert_eq!(c.cmd(&["DEL", "a", "missing"]), ":1\r\n");
    assert_eq!(c.cmd(&["UNLINK", "b", "c"]), ":2\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(c.cmd(&["TYPE", "a"]), "+none\r\n");
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(c.cmd(&["TYPE", "s"]), "+string\r\n");
    assert_eq!(c.cmd(&["TOUCH", "s", "nope"]), ":1\r\n");
}

#[test]
fn expire_ttl_and_persist_report_redis_codes() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["TTL", "missing"]), ":-2\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "missing", "10"]), ":0\r\n");
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "GT"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "LT"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "60", "NX"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "60", "XX"]), ":1\r\n");
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "60", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.cmd(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(c.cmd(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "4102444800000"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":4102444800\r\n");
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), ":4102444800000\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "-1"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn keys_and_scan_match_glob_patterns() {
    let server = TestServer::start();
    let mut c = server.connect();
    for i in 0..50 {
        c.cmd(&["SET", &format!("user:{i}"), "x"]);
        c.cmd(&["SET", &format!("item:{i}"), "y"]);
    }
    let keys = sorted_names(&c.frame(&["KEYS", "user:1*"]));
    let mut expected: Vec<String> = std::iter::once("user:1".to_owned())
        .chain((10..20).map(|i| format!("user:{i}")))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);

    let mut seen = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let Frame::Array(page) = c.frame(&["SCAN", &cursor, "MATCH", "item:*", "COUNT", "7"])
        else {
            panic!("SCAN did not reply an array")
        };
        let [Frame::Bulk(next), keys] = &page[..] else {
            panic!("SCAN page {page:?}")
        };
        seen.extend(sorted_names(keys));
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50);
    assert!(seen.iter().all(|k| k.starts_with("item:")));
    let Frame::Array(page) = c.frame(&["SCAN", "0", "TYPE", "list", "COUNT", "1000"]) else {
        panic!("SCAN did not reply an array")
    };
    assert_eq!(page[1], Frame::Array(Vec::new()));
    assert_eq!(c.cmd(&["SCAN", "abc"]), "-ERR invalid cursor\r\n");
}

#[test]
fn rename_and_renamenx_move_values_and_ttls() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["RENAME", "missing", "x"]), "-ERR no such key\r\n");
    c.cmd(&["SET", "a", "1", "EX", "100"]);
    assert_eq!(c.cmd(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "b"]), ":100\r\n");
    assert_eq!(c.cmd(&["GET", "b"]), "$1\r\n1\r\n");
    c.cmd(&["SET", "c", "3"]);
    assert_eq!(c.cmd(&["RENAMENX", "b", "c"]), ":0\r\n");
    assert_eq!(c.cmd(&["RENAMENX", "b", "d"]), ":1\r\n");
    assert_eq!(c.cmd(&["RENAME", "d", "d"]), "+OK\r\n");
}

#[test]
fn copy_and_move_work_across_databases() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "src", "v"]);
    assert_eq!(c.cmd(&["COPY", "src", "dst"]), ":1\r\n");
    assert_eq!(c.cmd(&["COPY", "src", "dst"]), ":0\r\n");
    assert_eq!(c.cmd(&["COPY", "src", "dst", "REPLACE"]), ":1\r\n");
    assert_eq!(c.cmd(&["COPY", "src", "dst", "DB", "3"]), ":1\r\n");
    assert_eq!(c.cmd(&["MOVE", "src", "3"]), ":1\r\n");
    assert_eq!(c.cmd(&["MOVE", "dst", "3"]), ":0\r\n");
    assert_eq!(
        c.cmd(&["MOVE", "dst", "0"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["MGET", "src", "dst"]),
        "*2\r\n$1\r\nv\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        c.cmd(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["SELECT", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
}

#[test]
fn swapdb_flushdb_and_flushall_act_on_whole_databases() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "in0", "a"]);
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["MSET", "in1", "b", "also1", "c"]);
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "in0"]), "$1\r\na\r\n");
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(c.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    c.cmd(&["SELECT", "0"]);
    assert_eq!(c.cmd(&["DBSIZE"]), ":2\r\n");
    assert_eq!(c.cmd(&["FLUSHALL", "SYNC"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(c.cmd(&["RANDOMKEY"]), "$-1\r\n");
}

#[test]
fn object_and_dump_describe_values() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "n", "12345"]);
    c.cmd(&["SET", "s", "short"]);
    c.cmd(&["SET", "l", &"x".repeat(50)]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), "$6\r\nembstr\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), "$3\r\nraw\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "missing"]), "$-1\r\n");
    assert_eq!(c.cmd(&["OBJECT", "REFCOUNT", "s"]), ":1\r\n");
}
