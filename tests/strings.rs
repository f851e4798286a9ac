//! The string family: SET and its options, GET*, counters, ranges, multi-key forms.

use tests::TestServer;

#[test]
fn set_then_get_returns_the_value_byte_for_byte() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    let binary: &[u8] = b"a\x00b\r\n\xff";
    assert_eq!(c.cmd_raw(&[b"SET".as_slice(), b"bin", binary]), b"+OK\r\n");
    assert_eq!(c.cmd_raw(&["GET", "bin"]), b"$6\r\na\x00b\r\n\xff\r\n");
    assert_eq!(c.cmd(&["SET", "empty", ""]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "empty"]), "$0\r\n\r\n");
}

#[test]
fn set_nx_xx_get_and_keepttl_follow_redis() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["SET", "k", "1", "NX"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "2", "NX"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "other", "2", "XX"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "3", "XX", "GET"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["SET", "new", "x", "GET"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "4", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "5", "KEEPTTL"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["SET", "k", "6"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        c.cmd(&["SET", "k", "v", "NX", "XX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "10", "PX", "10"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
}

#[test]
fn counters_increment_and_reject_non_integers() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["INCR", "n"]), ":1\r\n");
    assert_eq!(c.cmd(&["INCRBY", "n", "41"]), ":42\r\n");
    assert_eq!(c.cmd(&["DECR", "n"]), ":41\r\n");
    assert_eq!(c.cmd(&["DECRBY", "n", "-9"]), ":50\r\n");
    assert_eq!(c.cmd(&["SET", "s", "abc"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.cmd(&["SET", "max", "9223372036854775807"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["INCR", "max"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "10.5"]), "$4\r\n10.5\r\n");
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "0.1"]), "$4\r\n10.6\r\n");
    // Redis prints the long double sum with %.17Lf then trims zeros.
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "f", "5.0e3"]),
        "$22\r\n5010.60000000000000009\r\n"
    );
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "s", "1"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
}

#[test]
fn append_strlen_and_ranges_work_on_bytes() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["APPEND", "k", "Hello"]), ":5\r\n");
    assert_eq!(c.cmd(&["APPEND", "k", " World"]), ":11\r\n");
    assert_eq!(c.cmd(&["STRLEN", "k"]), ":11\r\n");
    assert_eq!(c.cmd(&["STRLEN", "missing"]), ":0\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "k", "0", "4"]), "$5\r\nHello\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "k", "-5", "-1"]), "$5\r\nWorld\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "k", "5", "1"]), "$0\r\n\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "k", "6", "Redis"]), ":11\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$11\r\nHello Redis\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "pad", "3", "x"]), ":4\r\n");
    assert_eq!(c.cmd_raw(&["GET", "pad"]), b"$4\r\n\x00\x00\x00x\r\n");
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "536870912", "x"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn mset_mget_and_msetnx_handle_many_keys() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["MGET", "a", "missing", "b"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
    );
    assert_eq!(c.cmd(&["MSETNX", "a", "x", "c", "3"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "c"]), ":0\r\n");
    assert_eq!(c.cmd(&["MSETNX", "c", "3", "d", "4"]), ":1\r\n");
    assert_eq!(
        c.cmd(&["MSET", "a"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        c.cmd(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
}

#[test]
fn getset_getdel_getex_and_setnx_return_the_old_value() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["SETNX", "k", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SETNX", "k", "2"]), ":0\r\n");
    assert_eq!(c.cmd(&["GETSET", "k", "3"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "50"]), "$1\r\n3\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":50\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST"]), "$1\r\n3\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["GETDEL", "k"]), "$1\r\n3\r\n");
    assert_eq!(c.cmd(&["GETDEL", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SETEX", "k", "10", "v"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["PSETEX", "k", "0", "v"]),
        "-ERR invalid expire time in 'psetex' command\r\n"
    );
    assert_eq!(
        c.cmd(&["SETEX", "k", "-1", "v"]),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
}

#[test]
fn lcs_finds_the_longest_common_subsequence() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(c.cmd(&["LCS", "key1", "key2"]), "$6\r\nmytext\r\n");
    assert_eq!(c.cmd(&["LCS", "key1", "key2", "LEN"]), ":6\r\n");
    assert_eq!(
        c.cmd(&[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN"
        ]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
}

#[test]
fn resp3_replies_use_resp3_types_for_strings() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(c.cmd(&["SET", "k", "1.5"]), "+OK\r\n");
    assert_eq!(c.cmd(&["INCRBYFLOAT", "k", "1"]), "$3\r\n2.5\r\n");
}
