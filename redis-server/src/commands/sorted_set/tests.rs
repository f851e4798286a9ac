//! Sorted-set commands through the dispatcher; every expected reply was recorded from Redis
//! 7.0.15.

use crate::commands::testkit::TestClient;

#[test]
fn zadd_options_errors_and_single_member_reads() {
    let mut c = TestClient::new();
    assert_eq!(
        c.text(&["zadd", "z", "1", "a", "2", "b", "3", "c"]),
        ":3\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "z", "ch", "10", "a", "11", "b", "1", "zz"]),
        ":3\r\n"
    );
    assert_eq!(c.text(&["zadd", "z", "gt", "5", "a"]), ":0\r\n");
    assert_eq!(c.text(&["zadd", "z", "lt", "5", "a"]), ":0\r\n");
    assert_eq!(c.text(&["zadd", "z", "nx", "incr", "1", "a"]), "$-1\r\n");
    assert_eq!(c.text(&["zadd", "z", "incr", "0.5", "a"]), "$3\r\n5.5\r\n");
    assert_eq!(c.text(&["zadd", "nokey", "xx", "1", "a"]), ":0\r\n");
    assert_eq!(
        c.text(&["zadd", "nokey", "xx", "incr", "1", "a"]),
        "$-1\r\n"
    );
    assert_eq!(c.text(&["exists", "nokey"]), ":0\r\n");
    assert_eq!(
        c.text(&["zadd", "z", "nx", "xx", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "z", "gt", "lt", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "z", "incr", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "z", "nan", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "z", "1", "a", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.text(&["zadd", "q", "1", "-0"]), ":1\r\n");
    assert_eq!(c.text(&["zadd", "q", "incr", "+inf", "x"]), "$3\r\ninf\r\n");
    assert_eq!(
        c.text(&["zadd", "q", "incr", "-inf", "x"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(c.text(&["zincrby", "z", "1.5", "new"]), "$3\r\n1.5\r\n");
    assert_eq!(
        c.text(&["zincrby", "z", "x", "new"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(c.text(&["zscore", "z", "new"]), "$3\r\n1.5\r\n");
    assert_eq!(
        c.text(&["zmscore", "z", "a", "nope"]),
        "*2\r\n$3\r\n5.5\r\n$-1\r\n"
    );
    assert_eq!(c.text(&["zrank", "z", "a"]), ":3\r\n");
    assert_eq!(c.text(&["zrevrank", "z", "a"]), ":1\r\n");
    assert_eq!(c.text(&["zrank", "z", "nope"]), "$-1\r\n");
    assert_eq!(c.text(&["zcard", "z"]), ":5\r\n");
    assert_eq!(c.text(&["zcard", "nokey"]), ":0\r\n");
    assert_eq!(c.text(&["set", "s", "v"]), "+OK\r\n");
    assert_eq!(
        c.text(&["zadd", "s", "1", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        c.text(&["zscore", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let mut c = TestClient::new();
    assert_eq!(
        c.text(&[
            "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"
        ]),
        ":5\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "0", "-1", "withscores"]),
        "*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "-2", "-1"]),
        "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "1", "2", "rev"]),
        "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        c.text(&["zrevrange", "z", "0", "1", "withscores"]),
        "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "(1", "3", "byscore", "withscores"]),
        "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "3", "(1", "byscore", "rev"]),
        "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"]),
        "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        c.text(&["zrangebyscore", "z", "-inf", "+inf", "limit", "-1", "1"]),
        "*0\r\n"
    );
    assert_eq!(
        c.text(&["zrangebyscore", "z", "-inf", "+inf", "limit", "1", "-1"]),
        "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
    );
    assert_eq!(
        c.text(&[
            "zrevrangebyscore",
            "z",
            "+inf",
            "-inf",
            "limit",
            "0",
            "2",
            "withscores"
        ]),
        "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"
    );
    assert_eq!(
        c.text(&["zrangebyscore", "z", "(", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.text(&["zrangebyscore", "z", "a", "b"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(c.text(&["zcount", "z", "(1", "3"]), ":2\r\n");
    assert_eq!(
        c.text(&["zcount", "z", "a", "1"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "0", "-1", "limit", "0", "1"]),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "[a", "[b", "bylex", "withscores"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        c.text(&["zrangebyscore", "z", "1", "2", "rev"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.text(&["zremrangebyscore", "z", "-inf", "(2"]), ":1\r\n");
    assert_eq!(c.text(&["zremrangebyrank", "z", "-1", "-1"]), ":1\r\n");
    assert_eq!(
        c.text(&["zrange", "z", "0", "-1"]),
        "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d"]),
        ":4\r\n"
    );
    assert_eq!(
        c.text(&["zrangebylex", "l", "[b", "(d"]),
        "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        c.text(&["zrevrangebylex", "l", "+", "-", "limit", "1", "2"]),
        "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "l", "[c", "-", "bylex", "rev"]),
        "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"
    );
    assert_eq!(c.text(&["zlexcount", "l", "(a", "+"]), ":3\r\n");
    assert_eq!(
        c.text(&["zlexcount", "l", "a", "+"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(c.text(&["zremrangebylex", "l", "-", "[b"]), ":2\r\n");
    assert_eq!(
        c.text(&["zrange", "l", "0", "-1"]),
        "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"
    );
    assert_eq!(c.text(&["zrangestore", "dst", "l", "0", "0"]), ":1\r\n");
    assert_eq!(
        c.text(&["zrange", "dst", "0", "-1", "withscores"]),
        "*2\r\n$1\r\nc\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        c.text(&["zrangestore", "dst", "nokey", "0", "-1"]),
        ":0\r\n"
    );
    assert_eq!(c.text(&["exists", "dst"]), ":0\r\n");
    assert_eq!(
        c.text(&["zrangestore", "dst", "l", "0", "-1", "withscores"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.text(&["zrem", "l", "c", "d", "x"]), ":2\r\n");
    assert_eq!(c.text(&["exists", "l"]), ":0\r\n");
}

#[test]
fn union_inter_diff_and_intercard() {
    let mut c = TestClient::new();
    assert_eq!(
        c.text(&["zadd", "a", "1", "x", "2", "y", "3", "z"]),
        ":3\r\n"
    );
    assert_eq!(
        c.text(&["zadd", "b", "10", "y", "20", "z", "30", "w"]),
        ":3\r\n"
    );
    assert_eq!(
        c.text(&["zunion", "2", "a", "b", "withscores"]),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(
        c.text(&[
            "zunion",
            "2",
            "a",
            "b",
            "weights",
            "2",
            "3",
            "aggregate",
            "max",
            "withscores"
        ]),
        "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$2\r\n30\r\n$1\r\nz\r\n$2\r\n60\r\n$1\r\nw\r\n$2\r\n90\r\n"
    );
    assert_eq!(
        c.text(&["zinter", "2", "a", "b", "aggregate", "min", "withscores"]),
        "*4\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        c.text(&["zdiff", "2", "a", "b", "withscores"]),
        "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
    assert_eq!(c.text(&["zunionstore", "dst", "2", "a", "b"]), ":4\r\n");
    assert_eq!(
        c.text(&["zrange", "dst", "0", "-1", "withscores"]),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(c.text(&["zinterstore", "dst", "2", "a", "nokey"]), ":0\r\n");
    assert_eq!(c.text(&["exists", "dst"]), ":0\r\n");
    assert_eq!(c.text(&["zintercard", "2", "a", "b"]), ":2\r\n");
    assert_eq!(
        c.text(&["zintercard", "2", "a", "b", "limit", "1"]),
        ":1\r\n"
    );
    assert_eq!(
        c.text(&["zintercard", "2", "a", "b", "limit", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(
        c.text(&["zunion", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zunion' command\r\n"
    );
    assert_eq!(
        c.text(&["zunionstore", "dst", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"
    );
    assert_eq!(c.text(&["zunion", "3", "a", "b"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.text(&["zunion", "2", "a", "b", "weights", "1", "x"]),
        "-ERR weight value is not a float\r\n"
    );
    assert_eq!(
        c.text(&["zdiff", "2", "a", "b", "aggregate", "sum"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.text(&["set", "s", "v"]), "+OK\r\n");
    assert_eq!(
        c.text(&["zunion", "2", "a", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn pops_and_non_blocking_paths_of_blocking_pops() {
    let mut c = TestClient::new();
    assert_eq!(
        c.text(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
        ":4\r\n"
    );
    assert_eq!(c.text(&["zpopmin", "z"]), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        c.text(&["zpopmax", "z", "2"]),
        "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(c.text(&["zpopmin", "z", "0"]), "*0\r\n");
    assert_eq!(
        c.text(&["zpopmin", "z", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(c.text(&["zpopmin", "z", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(c.text(&["zpopmin", "nokey"]), "*0\r\n");
    assert_eq!(
        c.text(&["zmpop", "2", "nokey", "z", "max", "count", "10"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(c.text(&["exists", "z"]), ":0\r\n");
    assert_eq!(c.text(&["zmpop", "1", "z", "min"]), "*-1\r\n");
    assert_eq!(
        c.text(&["zmpop", "0", "z", "min"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        c.text(&["zmpop", "1", "z", "min", "count", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(c.text(&["zmpop", "2", "z", "min"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.text(&["bzpopmin", "nokey", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        c.text(&["bzpopmin", "nokey", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        c.text(&["bzmpop", "0", "0", "z", "min"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(c.text(&["zadd", "z", "1", "a"]), ":1\r\n");
    assert_eq!(
        c.text(&["bzpopmax", "nokey", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(c.text(&["zadd", "z", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(
        c.text(&["bzmpop", "0", "1", "z", "min", "count", "3"]),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
}

#[test]
fn resp3_shapes() {
    let mut c = TestClient::new();
    c.text(&["HELLO", "3"]);
    assert_eq!(c.text(&["zadd", "z", "1", "a", "2.5", "b"]), ":2\r\n");
    assert_eq!(c.text(&["zscore", "z", "b"]), ",2.5\r\n");
    assert_eq!(
        c.text(&["zrange", "z", "0", "-1", "withscores"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(
        c.text(&["zrange", "z", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(c.text(&["zpopmin", "z"]), "*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(c.text(&["zadd", "z", "1", "a"]), ":1\r\n");
    assert_eq!(
        c.text(&["zpopmin", "z", "1"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(c.text(&["zadd", "z", "1", "a"]), ":1\r\n");
    assert_eq!(
        c.text(&["zmpop", "1", "z", "max"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(c.text(&["zmpop", "1", "nokey", "max"]), "_\r\n");
    assert_eq!(c.text(&["zmscore", "z", "a", "x"]), "*2\r\n,1\r\n_\r\n");
    assert_eq!(c.text(&["zrandmember", "nokey"]), "_\r\n");
    assert_eq!(
        c.text(&["zscan", "z", "0"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        c.text(&["zunion", "1", "z", "withscores"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
}

#[test]
fn encodings_follow_the_listpack_limits() {
    let mut c = TestClient::new();
    c.text(&["ZADD", "z", "1", "a"]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "z"]), "$8\r\nlistpack\r\n");
    assert_eq!(c.text(&["TYPE", "z"]), "+zset\r\n");
    let long = "x".repeat(65);
    c.text(&["ZADD", "z", "2", &long]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");
    c.text(&["CONFIG", "SET", "zset-max-ziplist-entries", "2"]);
    c.text(&["ZADD", "y", "1", "a", "2", "b"]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "y"]), "$8\r\nlistpack\r\n");
    c.text(&["ZADD", "y", "3", "c"]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "y"]), "$8\r\nskiplist\r\n");
    // Stored results take the compact encoding when they fit.
    c.text(&["ZUNIONSTORE", "u", "1", "y"]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "u"]), "$8\r\nskiplist\r\n");
    c.text(&["ZRANGESTORE", "r", "y", "0", "1"]);
    assert_eq!(c.text(&["OBJECT", "ENCODING", "r"]), "$8\r\nlistpack\r\n");
    assert_eq!(
        c.text(&["ZRANGE", "y", "0", "-1", "WITHSCORES"]),
        "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
}

#[test]
fn digest_copy_and_rename_keep_the_set() {
    let mut c = TestClient::with_config(&[("enable-debug-command", "yes")]);
    c.text(&["ZADD", "z", "1", "a", "2.5", "b"]);
    // Recorded from Redis 7.0.15 for the same set.
    let digest = c.text(&["DEBUG", "DIGEST-VALUE", "z"]);
    assert_eq!(digest, DIGEST_Z);
    c.text(&["COPY", "z", "z2"]);
    assert_eq!(c.text(&["DEBUG", "DIGEST-VALUE", "z2"]), DIGEST_Z);
    c.text(&["RENAME", "z2", "z3"]);
    assert_eq!(
        c.text(&["ZRANGE", "z3", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
}

#[test]
fn blocked_pop_is_served_by_a_later_zadd() {
    let mut a = TestClient::new();
    let mut b = TestClient::connect(&a.server);
    assert_eq!(a.text(&["BZPOPMIN", "k1", "k2", "0"]), "(blocked)");
    assert_eq!(b.text(&["ZADD", "k2", "5", "m", "7", "n"]), ":2\r\n");
    assert_eq!(
        a.served().as_deref(),
        Some("*3\r\n$2\r\nk2\r\n$1\r\nm\r\n$1\r\n5\r\n")
    );
    assert_eq!(
        a.text(&["BZMPOP", "0", "1", "k3", "MAX", "COUNT", "2"]),
        "(blocked)"
    );
    b.text(&["ZUNIONSTORE", "k3", "1", "k2"]);
    assert_eq!(
        a.served().as_deref(),
        Some("*2\r\n$2\r\nk3\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n7\r\n")
    );
    assert_eq!(b.text(&["EXISTS", "k3"]), ":0\r\n");
}

#[test]
fn zscan_walks_a_skiplist_set_by_cursor() {
    let mut c = TestClient::new();
    for i in 0..200 {
        c.text(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    let mut cursor = "0".to_owned();
    let mut seen = 0;
    loop {
        let reply = c.text(&["ZSCAN", "z", &cursor, "COUNT", "50"]);
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_owned();
        seen += lines.iter().filter(|l| l.starts_with('m')).count();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen, 200);
}

const DIGEST_Z: &str = "*1\r\n+c45c5b051acd64070e5ed1a949939d5145f806c5\r\n";

#[test]
fn digest_of_a_skiplist_set_matches_redis() {
    let mut c = TestClient::with_config(&[("enable-debug-command", "yes")]);
    let long = "a".repeat(111);
    c.text(&["ZADD", "big", "1", &long, "2", "b", "-0", "c", "1e300", "d"]);
    assert_eq!(
        c.text(&["DEBUG", "DIGEST-VALUE", "big"]),
        "*1\r\n+2e0ac00fe4361159e6aaa56762fbe0f38f5fff29\r\n"
    );
}

#[test]
fn sorted_set_writes_report_their_effects() {
    let mut c = TestClient::new();
    c.assert_effects(&["ZADD", "z", "1", "a", "2", "b"], &["z:zadd:z"], 2);
    c.assert_effects(&["ZADD", "z", "1", "a"], &[], 0);
    c.assert_effects(&["ZADD", "z", "CH", "5", "a", "3", "c"], &["z:zadd:z"], 2);
    c.assert_effects(&["ZADD", "z", "XX", "1", "nomember"], &[], 0);
    c.assert_effects(&["ZADD", "nz", "XX", "1", "a"], &[], 0);
    c.assert_effects(&["ZINCRBY", "z", "1", "a"], &["z:zincr:z"], 1);
    c.assert_effects(&["ZADD", "z", "INCR", "1", "a"], &["z:zincr:z"], 1);
    c.assert_effects(&["ZADD", "z", "NX", "INCR", "1", "a"], &[], 0);
    c.assert_effects(&["ZREM", "z", "zz"], &[], 0);
    c.assert_effects(&["ZREM", "z", "b"], &["z:zrem:z"], 1);
    c.assert_effects(&["ZREMRANGEBYRANK", "z", "100", "200"], &[], 0);
    c.assert_effects(
        &["ZREMRANGEBYSCORE", "z", "0", "3"],
        &["z:zremrangebyscore:z"],
        1,
    );
    c.assert_effects(
        &["ZREMRANGEBYLEX", "z", "-", "+"],
        &["z:zremrangebylex:z", "g:del:z"],
        1,
    );
    c.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    c.assert_effects(&["ZPOPMIN", "z", "0"], &[], 0);
    c.assert_effects(&["ZPOPMIN", "nz"], &[], 0);
    c.assert_effects(&["ZPOPMAX", "z", "2"], &["z:zpopmax:z"], 2);
    c.assert_effects(
        &["ZMPOP", "1", "z", "MIN", "COUNT", "5"],
        &["z:zpopmin:z", "g:del:z"],
        1,
    );
    c.run(&["ZADD", "x", "1", "a"]);
    c.assert_effects(&["ZUNIONSTORE", "d", "1", "x"], &["z:zunionstore:d"], 1);
    c.assert_effects(&["ZINTERSTORE", "d", "2", "x", "nz"], &["g:del:d"], 1);
    c.assert_effects(&["ZINTERSTORE", "d", "2", "x", "nz"], &[], 0);
    c.assert_effects(&["ZINTERSTORE", "d", "1", "x"], &["z:zinterstore:d"], 1);
    c.assert_effects(&["ZDIFFSTORE", "d", "1", "x"], &["z:zdiffstore:d"], 1);
    c.assert_effects(
        &["ZRANGESTORE", "d2", "x", "0", "-1"],
        &["z:zrangestore:d2"],
        1,
    );
    c.assert_effects(&["ZRANGESTORE", "d2", "nz", "0", "-1"], &["g:del:d2"], 1);
    c.assert_effects(&["ZRANGESTORE", "d2", "x", "5", "6"], &[], 0);
    c.assert_effects(
        &["ZREMRANGEBYRANK", "x", "0", "-1"],
        &["z:zremrangebyrank:x", "g:del:x"],
        1,
    );
}

#[test]
fn served_blocking_zset_pops_count_as_plain_pops() {
    let mut a = TestClient::new();
    let mut b = TestClient::connect(&a.server);
    let mut p = TestClient::connect(&a.server);
    a.run(&["BZPOPMIN", "bz", "0"]);
    b.run(&["BZMPOP", "0", "1", "bzm", "MAX", "COUNT", "5"]);
    p.assert_effects(
        &["ZADD", "bz", "1", "a", "2", "b"],
        &["z:zadd:bz", "z:zpopmin:bz"],
        3,
    );
    p.assert_effects(
        &["ZADD", "bzm", "1", "a", "2", "b"],
        &["z:zadd:bzm", "z:zpopmax:bzm", "g:del:bzm"],
        4,
    );
    assert!(a.served().is_some() && b.served().is_some());
}
