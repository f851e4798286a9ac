//! Append-only folders exchanged with real Redis 7.0.15: written by one server (a base from
//! BGREWRITEAOF, with an RDB preamble and as commands, then an incremental file) and loaded by
//! the other with identical contents.

use std::time::{Duration, Instant};

use tests::{Conn, RealRedis, TestServer};

use super::rdb::{assert_same, describe, populate};

const LIBRARY: &str =
    "#!lua name=aoflib\nredis.register_function('aoffunc', function(keys, args) return 7 end)";

/// What [`populate`] leaves out: a stream with a consumer group, a pending entry and an idle
/// consumer; a deleted entry; an empty stream with a group; a function library.
fn populate_more(c: &mut Conn) {
    let cmds: &[&[&str]] = &[
        &["XADD", "st", "1-1", "a", "1"],
        &["XADD", "st", "2-1", "b", "2", "c", "3"],
        &["XADD", "st", "3-1", "a", "4"],
        &["XDEL", "st", "3-1"],
        &["XGROUP", "CREATE", "st", "g1", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "st",
            ">",
        ],
        &["XGROUP", "CREATECONSUMER", "st", "g1", "bob"],
        &["XADD", "empty", "MAXLEN", "0", "5-5", "x", "y"],
        &["XGROUP", "CREATE", "empty", "g", "$"],
        &["FUNCTION", "LOAD", LIBRARY],
    ];
    for cmd in cmds {
        let reply = c.cmd(cmd);
        assert!(!reply.starts_with('-'), "{cmd:?} -> {reply}");
    }
}

/// Writes made after the rewrite, so that they live in the incremental file.
fn write_after_rewrite(c: &mut Conn) {
    for cmd in [
        &["SET", "after", "rewrite"][..],
        &["RPUSH", "l:small", "pushed-after"],
        &["DEL", "s:short"],
        &["XADD", "st", "9-9", "late", "entry"],
        &["PEXPIREAT", "s:int", "99999999999999"],
    ] {
        let reply = c.cmd(cmd);
        assert!(!reply.starts_with('-'), "{cmd:?} -> {reply}");
    }
}

/// The streams and functions of [`populate_more`], as text that does not depend on time.
fn describe_more(c: &mut Conn) -> Vec<String> {
    [
        &["XRANGE", "st", "-", "+"][..],
        &["XINFO", "GROUPS", "st"],
        &["XPENDING", "st", "g1"],
        &["XINFO", "CONSUMERS", "st", "g1"],
        &["XLEN", "empty"],
        &["XINFO", "GROUPS", "empty"],
        &["FUNCTION", "LIST", "WITHCODE"],
        &["FCALL", "aoffunc", "0"],
    ]
    .iter()
    .map(|cmd| {
        let reply = String::from_utf8_lossy(&c.cmd_raw(cmd)).into_owned();
        // Consumers' idle times vary: the value after `idle` is left out.
        let mut parts = Vec::new();
        let mut skip = false;
        for part in reply.split("\r\n") {
            if !std::mem::take(&mut skip) {
                parts.push(part);
            }
            skip = part == "idle";
        }
        let reply = parts.join("|");
        format!("{cmd:?} {reply}")
    })
    .collect()
}

fn info_field(c: &mut Conn, name: &str) -> String {
    let info = c.cmd(&["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// BGREWRITEAOF, then waits until it has finished successfully.
fn rewrite(c: &mut Conn) {
    let reply = c.cmd(&["BGREWRITEAOF"]);
    assert!(reply.starts_with('+'), "{reply}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if info_field(c, "aof_rewrite_in_progress") == "0"
            && info_field(c, "aof_rewrite_scheduled") == "0"
            && info_field(c, "aof_rewrites") != "0"
        {
            break;
        }
        assert!(Instant::now() < deadline, "the rewrite never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(c, "aof_last_bgrewrite_status"), "ok");
}

/// The folder's file names, sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Fills `c`'s server (AOF on), rewrites, writes more; returns what it holds.
fn write_folder(c: &mut Conn) -> (Vec<String>, Vec<String>) {
    populate(c);
    populate_more(c);
    rewrite(c);
    write_after_rewrite(c);
    (describe(c), describe_more(c))
}

fn check_base(dir: &std::path::Path, preamble: &str, who: &str) {
    let names = files(dir);
    let base = names
        .iter()
        .find(|n| n.contains(".base."))
        .unwrap_or_else(|| panic!("{who}: no base in {names:?}"));
    let bytes = std::fs::read(dir.join("appendonlydir").join(base)).unwrap();
    if preamble == "yes" {
        assert!(base.ends_with(".base.rdb"), "{who}: {names:?}");
        assert!(bytes.starts_with(b"REDIS"), "{who}: {base}");
    } else {
        assert!(base.ends_with(".base.aof"), "{who}: {names:?}");
        assert!(bytes.starts_with(b"*"), "{who}: {base}");
    }
}

#[test]
fn aof_written_by_real_redis_loads_with_identical_contents() {
    for preamble in ["yes", "no"] {
        let Some(builder) = RealRedis::builder() else {
            return;
        };
        // `always`: with `everysec` real Redis may hold writes back for up to two seconds
        // while an earlier fsync is slow (a loaded disk), and ours would read a short file.
        let real = builder
            .args(&[
                "--appendonly",
                "yes",
                "--aof-use-rdb-preamble",
                preamble,
                "--appendfsync",
                "always",
            ])
            .start();
        let mut rc = real.connect();
        let (want, want_more) = write_folder(&mut rc);
        check_base(real.dir(), preamble, "real");
        let dir = real.dir().to_string_lossy().into_owned();
        let ours = TestServer::builder()
            .args(&["--dir", &dir, "--appendonly", "yes"])
            .start();
        let mut oc = ours.connect();
        let what = format!("real's AOF (preamble {preamble}) loaded by ours");
        assert_same(&what, &want, &describe(&mut oc));
        assert_eq!(want_more, describe_more(&mut oc), "{what}");
    }
}

#[test]
fn aof_written_by_us_loads_in_real_redis_with_identical_contents() {
    for preamble in ["yes", "no"] {
        if RealRedis::builder().is_none() {
            return;
        }
        let ours = TestServer::builder()
            .args(&["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
            .start();
        let mut oc = ours.connect();
        let (want, want_more) = write_folder(&mut oc);
        check_base(ours.dir(), preamble, "ours");
        let dir = ours.dir().to_string_lossy().into_owned();
        let Some(builder) = RealRedis::builder() else {
            return;
        };
        let real = builder
            .args(&["--dir", &dir, "--appendonly", "yes"])
            .start();
        let mut rc = real.connect();
        let what = format!("our AOF (preamble {preamble}) loaded by real Redis");
        assert_same(&what, &want, &describe(&mut rc));
        assert_eq!(want_more, describe_more(&mut rc), "{what}");
    }
}
