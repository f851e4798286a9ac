//! FUNCTION DUMP payloads move between real Redis and ours: each server restores the other's
//! dump (APPEND fails on a loaded library, REPLACE and FLUSH succeed) and then runs its
//! functions.

use common::resp::Frame;
use tests::{Conn, RealRedis, TestServer, show};

const LIBRARIES: [&str; 2] = [
    "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 'a reply long enough to be worth compressing, compressing' end)",
    "#!lua name=other\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes'}, description='two'}",
];

fn load(conn: &mut Conn) {
    assert_eq!(conn.cmd_raw(&["FUNCTION", "FLUSH"]), b"+OK\r\n");
    for code in LIBRARIES {
        let reply = conn.cmd_raw(&["FUNCTION", "LOAD", code]);
        assert!(reply.starts_with(b"$"), "{}", show(&reply));
    }
}

fn dump(conn: &mut Conn) -> Vec<u8> {
    match conn.frame(&["FUNCTION", "DUMP"]) {
        Frame::Bulk(bytes) => bytes,
        other => panic!("FUNCTION DUMP replied {other:?}"),
    }
}

fn restore(conn: &mut Conn, payload: &[u8], policy: &[u8]) -> Vec<u8> {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", payload];
    if !policy.is_empty() {
        args.push(policy);
    }
    conn.cmd_raw(&args)
}

fn calls(conn: &mut Conn) -> (Vec<u8>, Vec<u8>) {
    (
        conn.cmd_raw(&["FCALL", "myfunc", "0"]),
        conn.cmd_raw(&["FCALL", "f2", "0"]),
    )
}

#[test]
fn function_dumps_restore_on_the_other_server() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let (mut r, mut o) = (real.connect(), ours.connect());
    load(&mut r);
    load(&mut o);
    let expected = calls(&mut r);
    let (from_real, from_ours) = (dump(&mut r), dump(&mut o));
    assert_eq!(from_real.len(), from_ours.len(), "dump sizes differ");
    for (conn, payload) in [(&mut o, &from_real), (&mut r, &from_ours)] {
        let append = restore(conn, payload, b"");
        assert!(
            append.starts_with(b"-ERR Library ") && append.ends_with(b" already exists\r\n"),
            "{}",
            show(&append)
        );
        assert_eq!(restore(conn, payload, b"REPLACE"), b"+OK\r\n");
        assert_eq!(conn.cmd_raw(&["FUNCTION", "FLUSH"]), b"+OK\r\n");
        assert_eq!(restore(conn, payload, b"FLUSH"), b"+OK\r\n");
        assert_eq!(calls(conn), expected);
    }
    // A corrupt payload is refused alike.
    let mut bad = from_real.clone();
    bad[1] ^= 1;
    assert_eq!(restore(&mut r, &bad, b""), restore(&mut o, &bad, b""));
}

/// FUNCTION LIST WITHCODE on `conn`, one library at a time (real Redis lists them in its
/// dict's random order), the bytes of each reply.
fn listing(conn: &mut Conn) -> Vec<Vec<u8>> {
    ["mylib", "other"]
        .iter()
        .map(|name| conn.cmd_raw(&["FUNCTION", "LIST", "LIBRARYNAME", name, "WITHCODE"]))
        .collect()
}

#[test]
fn libraries_saved_in_an_rdb_load_on_the_other_server() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let mut r = real.connect();
    load(&mut r);
    let want = listing(&mut r);
    assert_eq!(r.cmd_raw(&["SAVE"]), b"+OK\r\n");
    let dir = real.dir().to_string_lossy().into_owned();
    let ours = TestServer::builder().args(&["--dir", &dir]).start();
    let mut o = ours.connect();
    assert_eq!(listing(&mut o), want, "real's RDB loaded by ours");
    assert_eq!(calls(&mut o), calls(&mut r));

    // Ours saves them (after a change) and real Redis loads that file.
    assert_eq!(o.cmd_raw(&["FUNCTION", "DELETE", "other"]), b"+OK\r\n");
    let want = listing(&mut o);
    assert_eq!(o.cmd_raw(&["SAVE"]), b"+OK\r\n");
    let Some(builder) = RealRedis::builder() else {
        return;
    };
    // Ours runs in real's folder, so its SAVE replaced real's file there.
    let second = builder.args(&["--dir", &dir]).start();
    let mut s = second.connect();
    assert_eq!(listing(&mut s), want, "our RDB loaded by real Redis");
    assert_eq!(
        s.cmd_raw(&["FCALL", "myfunc", "0"]),
        o.cmd_raw(&["FCALL", "myfunc", "0"])
    );
}
