//! RDB files and DUMP payloads exchanged with real Redis 7.0.15: every type, in its small and
//! big encodings, written by one server and read by the other with identical contents.

use common::resp::Frame;
use tests::{Conn, RealRedis, TestServer};

/// Fills the connected server with every type in each of its encodings, some with a TTL, in
/// databases 0 and 3.
pub(super) fn populate(c: &mut Conn) {
    let long_text = "abcdefghij".repeat(30);
    let noise: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let big_element = "x".repeat(10_000);
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut add = |args: &[&[u8]]| cmds.push(args.iter().map(|a| a.to_vec()).collect());
    add(&[b"SET", b"s:int", b"12345"]);
    add(&[b"SET", b"s:neg", b"-7"]);
    add(&[b"SET", b"s:i64", b"-9223372036854775808"]);
    add(&[b"SET", b"s:bigint", b"123456789012345"]);
    add(&[b"SET", b"s:short", b"hello"]);
    add(&[b"SET", b"s:leadingzero", b"0123"]);
    add(&[b"SET", b"s:empty", b""]);
    add(&[b"SET", b"s:long", long_text.as_bytes()]);
    add(&[b"SET", b"s:noise", &noise]);
    add(&[b"SET", b"s:ttl", b"v", b"PX", b"100000000"]);
    add(&[b"RPUSH", b"l:small", b"a", b"b", b"1", b"-2", b"3.5"]);
    add(&[
        b"RPUSH",
        b"l:bigelem",
        b"head",
        big_element.as_bytes(),
        b"tail",
    ]);
    add(&[
        b"SADD",
        b"set:int",
        b"1",
        b"2",
        b"-3",
        b"100000",
        b"9000000000",
    ]);
    add(&[b"SADD", b"set:str", b"a", b"b", b"c", b"1"]);
    add(&[b"HSET", b"h:small", b"f1", b"v1", b"f2", b"2", b"f3", b""]);
    add(&[b"HSET", b"h:longval", b"f", long_text.as_bytes()]);
    add(&[
        b"ZADD", b"z:small", b"1.5", b"a", b"-inf", b"b", b"+inf", b"c", b"3", b"d",
    ]);
    add(&[b"ZADD", b"z:longmember", b"1", long_text.as_bytes()]);
    add(&[b"EXPIRE", b"h:small", b"100000"]);
    for i in 0..1000 {
        let n = i.to_string();
        let e = format!("element-{i}");
        add(&[b"RPUSH", b"l:big", e.as_bytes()]);
        add(&[b"SADD", b"set:bigint", n.as_bytes()]);
        add(&[b"HSET", b"h:big", e.as_bytes(), n.as_bytes()]);
        if i < 300 {
            let score = format!("{}", f64::from(i) / 7.0);
            add(&[b"ZADD", b"z:big", score.as_bytes(), e.as_bytes()]);
            add(&[b"SADD", b"set:bigstr", e.as_bytes()]);
        }
    }
    add(&[b"SELECT", b"3"]);
    add(&[b"SET", b"db3:key", b"in three"]);
    add(&[b"RPUSH", b"db3:list", b"x"]);
    add(&[b"SELECT", b"0"]);
    for cmd in &cmds {
        let reply = c.cmd(cmd);
        assert!(
            !reply.starts_with('-'),
            "{:?} -> {reply}",
            String::from_utf8_lossy(&cmd[0])
        );
    }
}

fn bulk_text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Integer(n) => n.to_string(),
        Frame::Null => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

fn texts(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items.iter().map(bulk_text).collect(),
        other => vec![bulk_text(&other)],
    }
}

/// The contents of `key` as order-independent text: type, encoding, TTL presence, elements.
pub(super) fn describe_key(c: &mut Conn, key: &[u8]) -> String {
    let ty = bulk_text(&c.frame(&[&b"TYPE"[..], key]));
    let enc = bulk_text(&c.frame(&[&b"OBJECT"[..], b"ENCODING", key]));
    let ttl = match c.frame(&[&b"PTTL"[..], key]) {
        Frame::Integer(n) if n > 0 => "ttl",
        _ => "persistent",
    };
    let content = match ty.as_str() {
        "string" => vec![bulk_text(&c.frame(&[&b"GET"[..], key]))],
        "list" => texts(c.frame(&[&b"LRANGE"[..], key, b"0", b"-1"])),
        "set" => {
            let mut m = texts(c.frame(&[&b"SMEMBERS"[..], key]));
            m.sort();
            m
        }
        "hash" => {
            let flat = texts(c.frame(&[&b"HGETALL"[..], key]));
            let mut pairs: Vec<String> = flat.chunks(2).map(|p| p.join("=")).collect();
            pairs.sort();
            pairs
        }
        "zset" => texts(c.frame(&[&b"ZRANGE"[..], key, b"0", b"-1", b"WITHSCORES"])),
        other => vec![format!("unexpected type {other}")],
    };
    format!(
        "{} {ty} {enc} {ttl} [{}]",
        String::from_utf8_lossy(key),
        content.join(",")
    )
}

/// Every key of databases 0 and 3, described.
pub(super) fn describe(c: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "3"] {
        c.cmd(&["SELECT", db]);
        let mut keys = match c.frame(&["KEYS", "*"]) {
            Frame::Array(items) => items
                .into_iter()
                .map(|f| match f {
                    Frame::Bulk(b) => b,
                    other => panic!("KEYS gave {other:?}"),
                })
                .collect::<Vec<_>>(),
            other => panic!("KEYS gave {other:?}"),
        };
        keys.sort();
        for k in keys {
            out.push(format!("db{db} {}", describe_key(c, &k)));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

pub(super) fn assert_same(what: &str, want: &[String], got: &[String]) {
    assert!(
        want.len() >= 20,
        "{what}: the dataset is missing: {want:#?}"
    );
    assert_eq!(
        want.len(),
        got.len(),
        "{what}: key counts differ\nwant {want:#?}\ngot {got:#?}"
    );
    for (w, g) in want.iter().zip(got) {
        assert_eq!(w, g, "{what}");
    }
}

#[test]
fn rdb_written_by_real_redis_loads_with_identical_contents() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let mut rc = real.connect();
    populate(&mut rc);
    assert_eq!(rc.cmd(&["SAVE"]), "+OK\r\n");
    let want = describe(&mut rc);
    let dir = real.dir().to_string_lossy().into_owned();
    let ours = TestServer::builder().args(&["--dir", &dir]).start();
    let got = describe(&mut ours.connect());
    assert_same("real's RDB loaded by ours", &want, &got);
    assert!(
        ours.log()
            .contains("Loading RDB produced by version 7.0.15"),
        "{}",
        ours.log()
    );
}

#[test]
fn rdb_written_by_us_loads_in_real_redis_with_identical_contents() {
    if RealRedis::builder().is_none() {
        return;
    }
    let ours = TestServer::start();
    let mut oc = ours.connect();
    populate(&mut oc);
    let want = describe(&mut oc);
    let dir = ours.dir().to_string_lossy().into_owned();
    for compression in ["yes", "no"] {
        assert_eq!(
            oc.cmd(&["CONFIG", "SET", "rdbcompression", compression]),
            "+OK\r\n"
        );
        assert_eq!(oc.cmd(&["SAVE"]), "+OK\r\n");
        let Some(builder) = RealRedis::builder() else {
            return;
        };
        let real = builder.args(&["--dir", &dir]).start();
        let got = describe(&mut real.connect());
        assert_same("our RDB loaded by real Redis", &want, &got);
    }
}

#[test]
fn dump_payloads_restore_across_servers() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let (mut rc, mut oc) = (real.connect(), ours.connect());
    populate(&mut rc);
    populate(&mut oc);
    let keys = match rc.frame(&["KEYS", "*"]) {
        Frame::Array(items) => items,
        other => panic!("KEYS gave {other:?}"),
    };
    for key in keys {
        let Frame::Bulk(key) = key else {
            panic!("key {key:?}")
        };
        cross_restore(&mut rc, &mut oc, &key, "real→ours");
        cross_restore(&mut oc, &mut rc, &key, "ours→real");
    }
}

/// DUMPs `key` on `from`, RESTOREs it as `copy:key` on `to`, and compares the two.
fn cross_restore(from: &mut Conn, to: &mut Conn, key: &[u8], label: &str) {
    let copy = [b"copy:".as_slice(), key].concat();
    let Frame::Bulk(payload) = from.frame(&[&b"DUMP"[..], key]) else {
        panic!("DUMP {key:?} failed")
    };
    let reply = to.cmd(&[&b"RESTORE"[..], &copy, b"0", &payload]);
    assert_eq!(reply, "+OK\r\n", "{label} {}", String::from_utf8_lossy(key));
    // RESTORE with TTL 0 makes a persistent key: compare everything else.
    let strip = |d: String, name: &[u8]| {
        d.replacen(&*String::from_utf8_lossy(name), "", 1)
            .replace(" ttl ", " persistent ")
    };
    let want = strip(describe_key(from, key), key);
    let got = strip(describe_key(to, &copy), &copy);
    assert_eq!(want, got, "{label}");
    to.cmd(&[&b"DEL"[..], &copy]);
}
