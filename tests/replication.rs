//! The replication stream over TCP: a raw replica attaches with SYNC, as the Redis test
//! suite's `attach_to_replication_stream` does, and reads what the master propagates. The
//! same commands are sent to real Redis, whose stream ours must match (times aside).

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tests::{RealRedis, TestServer};

/// A replica link: the snapshot skipped, the commands that follow parsed.
struct ReplicaLink {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl ReplicaLink {
    fn attach(port: u16) -> ReplicaLink {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        std::io::Write::write_all(&mut stream, b"SYNC\r\n").unwrap();
        let mut link = ReplicaLink {
            stream,
            buf: Vec::new(),
        };
        // Newlines keep the link alive while the snapshot is made; then `$<len>\r\n<rdb>`.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            while link.buf.first() == Some(&b'\n') {
                link.buf.remove(0);
            }
            if link.buf.first() == Some(&b'$')
                && let Some(end) = link.buf.windows(2).position(|w| w == b"\r\n")
            {
                let len: usize = std::str::from_utf8(&link.buf[1..end])
                    .unwrap()
                    .parse()
                    .unwrap();
                if link.buf.len() >= end + 2 + len {
                    link.buf.drain(..end + 2 + len);
                    return link;
                }
            }
            assert!(Instant::now() < deadline, "no snapshot after SYNC");
            link.fill(Duration::from_millis(200));
        }
    }

    fn fill(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => panic!("the master closed the replica link"),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => false,
        }
    }

    /// Every command received until the link stays quiet for a while, PINGs left out.
    fn commands(&mut self) -> Vec<String> {
        // Generous: on a loaded machine a server may pause longer than a scheduler slice.
        while self.fill(Duration::from_millis(1000)) {}
        let mut out = Vec::new();
        let mut rest = &self.buf[..];
        let line = |rest: &mut &[u8]| -> usize {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = std::str::from_utf8(&rest[1..end]).unwrap().parse().unwrap();
            *rest = &rest[end + 2..];
            n
        };
        while !rest.is_empty() {
            let argc = line(&mut rest);
            let mut args = Vec::new();
            for _ in 0..argc {
                let len = line(&mut rest);
                args.push(normalize(&String::from_utf8_lossy(&rest[..len])));
                rest = &rest[len + 2..];
            }
            let command = args.join(" ");
            if command != "PING" {
                out.push(command);
            }
        }
        self.buf.clear();
        out
    }
}

/// A Unix time in ms (13 digits, alone or starting a stream ID) becomes `T`.
fn normalize(arg: &str) -> String {
    let digits = arg.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 13 && (arg.len() == 13 || arg.as_bytes()[13] == b'-') {
        format!("T{}", &arg[13..])
    } else {
        arg.to_owned()
    }
}

const COMMANDS: &[&[&str]] = &[
    &["SET", "a", "1", "EX", "100"],
    &["EXPIRE", "a", "100"],
    &["GETEX", "a", "PERSIST"],
    &["GETDEL", "a"],
    &["SETEX", "b", "10", "v"],
    &["GETSET", "b", "w"],
    &["INCRBYFLOAT", "f", "1.5"],
    &["HINCRBYFLOAT", "h", "x", "2.5"],
    &["RPUSH", "l", "a", "b", "c"],
    &["LMPOP", "1", "l", "LEFT", "COUNT", "5"],
    &["ZADD", "z", "1", "a", "2", "b"],
    &["BZPOPMAX", "z", "0"],
    &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
    &["XADD", "s", "MAXLEN", "~", "5", "*", "f", "v"],
    &["XGROUP", "CREATE", "s", "grp", "0"],
    &["XREADGROUP", "GROUP", "grp", "c", "STREAMS", "s", ">"],
    &["SELECT", "1"],
    &[
        "EVAL",
        "redis.call('set','k','v') redis.call('del','k') return 1",
        "0",
    ],
    &["MULTI"],
    &["SADD", "set", "a"],
    &["SPOP", "set"],
    &["EXEC"],
    &["EXPIRE", "nokey", "10"],
];

fn stream_of(port: u16) -> Vec<String> {
    let mut client = tests::Conn::tcp(port).unwrap();
    let mut link = ReplicaLink::attach(port);
    for command in COMMANDS {
        client.cmd(command);
    }
    link.commands()
}

#[test]
fn a_raw_replica_reads_every_write_rewritten_as_redis_propagates_it() {
    let server = TestServer::start();
    let ours = stream_of(server.port());
    let expected = [
        "SELECT 0",
        "SET a 1 PXAT T",
        "PEXPIREAT a T",
        "PERSIST a",
        "DEL a",
        "SET b v PXAT T",
        "SET b w",
        "SET f 1.5 KEEPTTL",
        "HSET h x 2.5",
        "RPUSH l a b c",
        "LPOP l 3",
        "ZADD z 1 a 2 b",
        "ZPOPMAX z",
        "zadd g 3479099956230698 Palermo",
        "XADD s MAXLEN = 1 T-0 f v",
        "XGROUP CREATE s grp 0",
        "XCLAIM s grp c 0 T-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID T-0",
        "SELECT 1",
        "MULTI",
        "set k v",
        "del k",
        "EXEC",
        "MULTI",
        "SADD set a",
        "SREM set a",
        "EXEC",
    ];
    assert_eq!(ours, expected);
    if let Some(real) = RealRedis::start() {
        assert_eq!(ours, stream_of(real.port()), "ours against real Redis");
    }
}

/// Real 7.0 has no hash-field expiry: the stream expected is Redis 7.4's (t_hash.c).
#[test]
fn hash_field_expiry_reaches_a_raw_replica_as_redis_7_4_propagates_it() {
    let server = TestServer::start();
    let mut client = tests::Conn::tcp(server.port()).unwrap();
    let mut link = ReplicaLink::attach(server.port());
    for command in [
        &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"][..],
        &["HEXPIRE", "h", "100", "FIELDS", "3", "a", "nofield", "b"],
        &["HPEXPIRE", "h", "100000", "XX", "FIELDS", "2", "a", "c"],
        &["HPEXPIREAT", "h", "1", "FIELDS", "1", "b"],
        &["HPERSIST", "h", "FIELDS", "1", "a"],
        &["HPEXPIRE", "h", "1", "FIELDS", "1", "c"],
    ] {
        client.cmd(command);
    }
    // The cron's cycle finds `c` due; a read finds `d` due.
    std::thread::sleep(Duration::from_millis(300));
    client.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    client.cmd(&["HPEXPIRE", "h", "1", "FIELDS", "1", "d"]);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(client.cmd(&["HGET", "h", "d"]), "$-1\r\n");
    assert_eq!(
        link.commands(),
        [
            "SELECT 0",
            "HSET h a 1 b 2 c 3 d 4",
            "HPEXPIREAT h T FIELDS 2 a b",
            "HPEXPIREAT h T XX FIELDS 1 a",
            "HDEL h b",
            "HPERSIST h FIELDS 1 a",
            "HPEXPIREAT h T FIELDS 1 c",
            "HDEL h c",
            "HPEXPIREAT h T FIELDS 1 d",
            "HDEL h d",
        ]
    );
}

/// The first line of a full sync's payload, after `REPLCONF capa eof` and SYNC.
fn payload_header(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // SYNC must not follow a reply still pending: REPLCONF's `+OK` is read first.
    std::io::Write::write_all(&mut stream, b"REPLCONF capa eof\r\n").unwrap();
    let mut ok = [0u8; 5];
    stream.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    std::io::Write::write_all(&mut stream, b"SYNC\r\n").unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    // Newlines while the snapshot is made, then the header.
    loop {
        stream.read_exact(&mut byte).unwrap();
        seen.push(byte[0]);
        if seen.ends_with(b"\r\n") {
            let line = String::from_utf8_lossy(&seen[..seen.len() - 2]).into_owned();
            seen.clear();
            if line.starts_with('$') {
                return line;
            }
        } else if seen == b"\n" {
            seen.clear();
        }
    }
}

/// `repl-diskless-sync yes` ends the payload with a 40-byte marker (`$EOF:<mark>`) for a
/// replica that reads one; `no` sends its length, as real Redis does.
#[test]
fn a_full_sync_frames_its_payload_as_repl_diskless_sync_says() {
    let ours = TestServer::start();
    let real = RealRedis::start();
    let ports = std::iter::once(ours.port()).chain(real.as_ref().map(|r| r.port()));
    for port in ports {
        let mut c = tests::Conn::tcp(port).unwrap();
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
        c.cmd(&["CONFIG", "SET", "repl-diskless-sync", "yes"]);
        let header = payload_header(port);
        assert!(
            header.starts_with("$EOF:") && header.len() == 5 + 40,
            "port {port}: {header:?}"
        );
        c.cmd(&["CONFIG", "SET", "repl-diskless-sync", "no"]);
        let header = payload_header(port);
        assert!(
            header[1..].parse::<usize>().is_ok_and(|n| n > 0),
            "port {port}: {header:?}"
        );
    }
}

/// `redis-cli --functions-rdb` asks for the functions alone (`REPLCONF rdb-only 1`,
/// `rdb-filter-only functions`): the file holds the library and no key, and the link closes.
#[test]
fn a_functions_only_snapshot_holds_no_keys() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "k", "v"]);
    let library = "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", library]), "$4\r\nlib1\r\n");
    let dir = tests::TempDir::new();
    let file = dir.path().join("functions.rdb");
    let out = std::process::Command::new(tests::sibling_binary("redis-cli"))
        .args(["-p", &server.port().to_string(), "--functions-rdb"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Transfer finished with success"),
        "{stderr}"
    );
    let rdb = std::fs::read(&file).unwrap();
    let holds = |needle: &[u8]| rdb.windows(needle.len()).any(|w| w == needle);
    assert!(holds(b"register_function"), "the library is in the file");
    assert!(!holds(b"\x00\x01k\x01v"), "no key is");
    assert_eq!(
        c.cmd(&["REPLCONF", "rdb-filter-only", "keys"]),
        "-ERR Unsupported rdb-filter-only option: keys\r\n"
    );
}

/// A connection that became a replica is one for CLIENT LIST (flag `S`) and CLIENT KILL TYPE,
/// which closes its link.
#[test]
fn client_kill_type_replica_closes_a_replica_link() {
    let server = TestServer::start();
    let mut link = ReplicaLink::attach(server.port());
    let mut c = server.connect();
    let listed = c.cmd(&["CLIENT", "LIST", "TYPE", "replica"]);
    assert!(listed.contains(" flags=S "), "{listed}");
    assert_eq!(c.cmd(&["CLIENT", "KILL", "TYPE", "slave"]), ":1\r\n");
    link.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    assert!(
        link.stream.read_to_end(&mut rest).is_ok(),
        "the link ends, not times out"
    );
    // Unregistered as its task ends, just after the socket closes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.cmd(&["CLIENT", "LIST", "TYPE", "replica"]) != "$0\r\n\r\n" {
        assert!(Instant::now() < deadline, "the replica is still listed");
        std::thread::sleep(Duration::from_millis(20));
    }
}
