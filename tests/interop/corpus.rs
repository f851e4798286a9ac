//! The differential corpus: deterministic commands run in order against fresh real Redis and
//! ours, compared reply by reply, byte for byte.

use std::time::Duration;

use tests::{Conn, RealRedis, TestServer, show};

/// One command per line, split on spaces; `""` is an empty argument. Deterministic only: no
/// TIME, no INFO values, no client ids, no multi-key KEYS/SCAN orders.
const CORPUS: &str = r#"
PING
PING hello
ECHO hello
ECHO ""
SET k v
GET k
GET missing
SET k v2 NX
SET k v3 XX
SET k v4 XX GET
SET other x NX GET
SET k v EX 0
SET k v PX -5
SET k v EX notanumber
SET k v NX XX
SET k v KEEPTTL EX 10
SET k v BADOPT
SET k v EX 100
TTL k
PTTL missing
SET k v KEEPTTL
TTL k
GETEX k PERSIST
TTL k
GETEX k EX 50 PX 50
GETEX missing
GETDEL k
GETDEL k
SETNX n 10
SETNX n 11
INCR n
INCRBY n 5
DECR n
DECRBY n 3
INCRBY n notanumber
INCRBY n 9223372036854775807
SET big 9223372036854775807
INCR big
DECRBY n -9223372036854775808
SET neg -9223372036854775808
DECR neg
INCRBYFLOAT f 1.5
INCRBYFLOAT f 0.1
INCRBYFLOAT f -1.6
INCRBYFLOAT f 1e3
INCRBYFLOAT f nan
INCRBYFLOAT f inf
SET fl 3.0
INCRBYFLOAT fl 1
SET s hello
INCR s
INCRBYFLOAT s 1
APPEND s " world"
APPEND s2 abc
STRLEN s
STRLEN missing
GETRANGE s 0 4
GETRANGE s -5 -1
GETRANGE s 100 200
GETRANGE s 3 1
GETRANGE missing 0 -1
SETRANGE s 6 REDIS
GET s
SETRANGE pad 5 x
GET pad
SETRANGE s -1 x
SETRANGE empty 0 ""
EXISTS empty
SUBSTR s 0 2
MSET a 1 b 2 c 3
MSET a
MGET a b c missing
MSETNX a 9 d 4
MSETNX d 4 e 5
GETSET a 10
GETSET newkey 1
SETEX ex 100 v
SETEX ex 0 v
SETEX ex -10 v
PSETEX pex 100000 v
PSETEX pex 0 v
LCS a b
SET lcs1 ohmytext
SET lcs2 mynewtext
LCS lcs1 lcs2
LCS lcs1 lcs2 LEN
LCS lcs1 lcs2 IDX
LCS lcs1 lcs2 IDX MINMATCHLEN 4 WITHMATCHLEN
LCS lcs1 lcs2 LEN IDX
OBJECT ENCODING a
OBJECT ENCODING s
OBJECT ENCODING missing
OBJECT ENCODING lcs1
OBJECT REFCOUNT lcs1
OBJECT BADSUB x
EXISTS a b missing a
TYPE a
TYPE missing
DEL a missing
UNLINK b c
TOUCH d e missing
EXPIRE d 100
TTL d
EXPIRE d 50 GT
EXPIRE d 50 LT
EXPIRE d 60 NX
EXPIRE d 60 XX
EXPIRE d 60 NX XX
EXPIRE d 60 GT LT
EXPIRE d abc
EXPIRE missing 10
PEXPIRE d 100000
TTL d
EXPIREAT d 4102444800
EXPIRETIME d
PEXPIRETIME d
EXPIRETIME missing
PEXPIREAT d 4102444800000
PERSIST d
PERSIST d
PERSIST missing
EXPIRE e -1
EXISTS e
RENAME missing x
RENAME d d2
RENAME d2 d2
RENAMENX d2 n
RENAMENX d2 d3
COPY d3 d4
COPY d3 d4
COPY d3 d4 REPLACE
COPY d3 d4 DB 5
COPY d3 d4 DB 16
COPY d3 d3
MOVE d3 5
MOVE d4 5
MOVE d4 0
MOVE d4 abc
SELECT 5
DBSIZE
GET d3
SELECT 16
SELECT -1
SELECT x
SWAPDB 0 5
DBSIZE
SWAPDB 0 5
SWAPDB 0 16
SWAPDB a 0
KEYS newk*
KEYS nomatch*
SCAN 0 MATCH newk*
SCAN 0 TYPE list
SCAN x
SCAN 0 COUNT 0
SCAN 0 BADOPT 1
FLUSHDB
DBSIZE
RANDOMKEY
SET only 1
RANDOMKEY
FLUSHALL SYNC
FLUSHALL BADOPT
DBSIZE
CONFIG GET maxmemory
CONFIG GET maxmemory-policy
CONFIG GET save
CONFIG GET appendonly
CONFIG GET nosuchparam
CONFIG SET nosuchparam 1
CONFIG SET maxmemory abc
CONFIG SET hz 20
CONFIG GET hz
CONFIG SET hz 10
CONFIG SET maxmemory 0
CONFIG SET hz 500
CONFIG SET loglevel nope
CONFIG BADSUB
CONFIG
COMMAND INFO get set mset nosuch
COMMAND INFO del expire scan
COMMAND INFO config|get client|kill
COMMAND GETKEYS MSET a 1 b 2
COMMAND GETKEYS GET
COMMAND GETKEYS nosuch
COMMAND GETKEYS SET k v
COMMAND DOCS nosuch
SLOWLOG BADSUB
SLOWLOG GET abc
CLIENT SETNAME corpus
CLIENT GETNAME
CLIENT SETNAME "bad name"
CLIENT BADSUB
CLIENT KILL 1.2.3.4:5
CLIENT NO-EVICT maybe
AUTH foo
AUTH a b
DEBUG SLEEP 0
GET
SET k
NOSUCHCOMMAND a b
LASTSAVE nope
DBSIZE extra
ECHO a b
QUIT extra
"#;

/// Splits a corpus line into arguments (`""` is an empty one, `"x y"` one with a space).
fn args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap();
            out.push(quoted[..end].to_owned());
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// Every reply of the corpus, in order; a reply that never came is shown as `<...>`.
fn replies(conn: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        conn.send_cmd(&args(line));
        match conn.try_read_reply(Duration::from_secs(5)) {
            Ok(reply) => out.push(show(&reply)),
            Err(e) => {
                out.push(format!("<{e}>"));
                break;
            }
        }
    }
    out
}

#[test]
fn corpus_replies_match_real_redis_byte_for_byte() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let expected = replies(&mut real.connect());
    let got = replies(&mut ours.connect());
    let lines: Vec<&str> = CORPUS.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 150, "corpus has {} commands", lines.len());
    let mut mismatches = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let want = expected.get(i).map_or("<none>", String::as_str);
        let have = got.get(i).map_or("<none>", String::as_str);
        if want != have {
            mismatches.push(format!("#{i} {line}\n   real: {want:?}\n   ours: {have:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} replies differ from real Redis:\n{}",
        mismatches.len(),
        lines.len(),
        mismatches.join("\n")
    );
}

#[test]
fn resp3_corpus_replies_match_real_redis() {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let run = |server: &TestServer| {
        let mut c = server.connect();
        // HELLO's reply holds the client id: compare only what follows.
        let _ = c.cmd(&["HELLO", "3"]);
        let script: &[&[&str]] = &[
            &["GET", "missing"],
            &["SET", "k", "v"],
            &["GET", "k"],
            &["MGET", "k", "missing"],
            &["INCRBYFLOAT", "f", "1.5"],
            &["EXISTS", "k"],
            &["CONFIG", "GET", "maxmemory"],
            &["COMMAND", "INFO", "get"],
            &["LCS", "k", "k", "IDX"],
            &["SCAN", "0", "MATCH", "k"],
            &["OBJECT", "ENCODING", "missing"],
            &["SET", "k", "x", "NX", "GET"],
            &["SET", "k", "v", "EX", "0"],
        ];
        script.iter().map(|cmd| c.cmd(cmd)).collect::<Vec<_>>()
    };
    assert_eq!(run(&ours), run(&real));
}
