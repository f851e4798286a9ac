//! HyperLogLog strings move between real Redis and ours with GET and SET: the same elements
//! give the same bytes on both, and either server counts the other's values exactly alike.

use common::resp::Frame;
use tests::{Conn, RealRedis, TestServer, show};

/// Adds `elements` in batches of 100, as a client would.
fn pfadd(conn: &mut Conn, key: &str, elements: &[String]) {
    for batch in elements.chunks(100) {
        let mut args = vec!["PFADD".to_owned(), key.to_owned()];
        args.extend(batch.iter().cloned());
        let reply = conn.cmd(&args);
        assert!(reply.starts_with(':'), "PFADD replied {reply:?}");
    }
}

fn get(conn: &mut Conn, key: &str) -> Vec<u8> {
    match conn.frame(&["GET", key]) {
        Frame::Bulk(bytes) => bytes,
        other => panic!("GET {key} replied {other:?}"),
    }
}

fn set(conn: &mut Conn, key: &str, value: &[u8]) {
    let reply = conn.cmd_raw(&[b"SET", key.as_bytes(), value]);
    assert_eq!(reply, b"+OK\r\n", "{}", show(&reply));
}

/// Element sets that end sparse, near the sparse limit, and dense.
fn element_sets() -> Vec<(&'static str, Vec<String>)> {
    let make = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect();
    vec![
        ("tiny", make("t", 3)),
        ("small", make("s", 100)),
        ("near_limit", make("n", 1200)),
        ("dense", make("d", 20_000)),
        ("large", make("l", 200_000)),
    ]
}

#[test]
fn hll_bytes_and_counts_match_real_redis_both_ways() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let (mut r, mut o) = (real.connect(), ours.connect());
    for (name, elements) in element_sets() {
        pfadd(&mut r, name, &elements);
        pfadd(&mut o, name, &elements);
        let (real_bytes, our_bytes) = (get(&mut r, name), get(&mut o, name));
        assert!(
            real_bytes == our_bytes,
            "{name}: the same elements built different strings"
        );

        // Real Redis's value, counted here; ours, counted there.
        let copy = format!("{name}_copy");
        set(&mut o, &copy, &real_bytes);
        set(&mut r, &copy, &our_bytes);
        let want = r.cmd(&["PFCOUNT", name]);
        assert!(want.starts_with(':'), "{name}: real PFCOUNT {want:?}");
        assert_eq!(o.cmd(&["PFCOUNT", &copy]), want, "{name} counted by us");
        assert_eq!(r.cmd(&["PFCOUNT", &copy]), want, "{name} counted by Redis");
        // Both cached the estimate in the header alike, and keep adding alike.
        assert!(
            get(&mut o, &copy) == get(&mut r, &copy),
            "{name}: cached header"
        );
        let more = vec!["extra-1".to_owned(), "extra-2".to_owned()];
        pfadd(&mut r, &copy, &more);
        pfadd(&mut o, &copy, &more);
        assert!(
            get(&mut o, &copy) == get(&mut r, &copy),
            "{name}: after PFADD"
        );
        assert_eq!(
            o.cmd(&["PFDEBUG", "ENCODING", &copy]),
            r.cmd(&["PFDEBUG", "ENCODING", &copy]),
            "{name}: encoding"
        );
    }

    // Unions: PFCOUNT of several keys and PFMERGE, sparse and dense inputs mixed.
    for (cmd, keys) in [
        ("PFCOUNT", &["tiny", "small", "near_limit"][..]),
        ("PFCOUNT", &["small", "dense", "missing"][..]),
        ("PFMERGE", &["merged_sparse", "tiny", "small"][..]),
        ("PFMERGE", &["merged_dense", "near_limit", "large"][..]),
    ] {
        let mut args = vec![cmd];
        args.extend_from_slice(keys);
        assert_eq!(o.cmd(&args), r.cmd(&args), "{args:?}");
    }
    for key in ["merged_sparse", "merged_dense"] {
        assert!(get(&mut o, key) == get(&mut r, key), "{key} bytes");
        assert_eq!(o.cmd(&["PFCOUNT", key]), r.cmd(&["PFCOUNT", key]), "{key}");
    }
}

#[test]
fn damaged_hll_strings_get_the_same_errors_as_real_redis() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let (mut r, mut o) = (real.connect(), ours.connect());
    let script: &[&[&str]] = &[
        &["PFADD", "h", "a", "b", "c"],
        &["APPEND", "h", "hello"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h", "h"],
        &["PFADD", "h", "zzz"],
        &["PFDEBUG", "TODENSE", "h"],
        &["DEL", "h"],
        &["PFADD", "h", "a"],
        &["SETRANGE", "h", "0", "0123"],
        &["PFCOUNT", "h"],
        &["PFMERGE", "x", "h"],
        &["SET", "s", "plain"],
        &["PFADD", "s", "a"],
        &["RPUSH", "l", "a"],
        &["PFCOUNT", "l"],
        &["PFDEBUG", "NOPE", "missing"],
        &["PFDEBUG", "NOPE", "x"],
        &["PFDEBUG", "DECODE", "x"],
        &["PFMERGE", "only"],
        &["PFCOUNT", "only"],
        &["INFO", "errorstats"],
    ];
    for cmd in script {
        assert_eq!(o.cmd(cmd), r.cmd(cmd), "{cmd:?}");
    }
}
