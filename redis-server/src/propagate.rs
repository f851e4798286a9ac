//! Propagation: the writes of one execution unit, in the order they were made, handed to the
//! replication stream ([`crate::replication::Feed`]: replicas, the backlog, the AOF).
//!
//! An execution unit is a top-level command with everything it runs: the queue of an EXEC,
//! the commands of a script, the keys a lookup found expired. Redis's `call()` gathers them in
//! `server.also_propagate` and propagates them when the outermost call returns, wrapped in
//! MULTI/EXEC when there is more than one. Here the unit is per thread: a unit never leaves
//! the thread it started on (handlers are synchronous, and a script's commands run as the
//! script's own client on the script thread that runs the script), and its commands may run
//! as different clients, so the unit cannot live in a client.
//!
//! The unit is flushed while the command still holds its shard locks (or the exclusive gate),
//! so two writes to one key reach the stream in the order they were made on any core.

use std::cell::RefCell;

use common::resp::encode_command_from;

use crate::server::Server;

/// Where an operation goes (Redis's PROPAGATE_AOF / PROPAGATE_REPL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Targets {
    pub aof: bool,
    pub repl: bool,
}

impl Targets {
    pub(crate) const ALL: Targets = Targets {
        aof: true,
        repl: true,
    };
    /// PUBLISH: replicas get it, the AOF does not.
    pub(crate) const REPL: Targets = Targets {
        aof: false,
        repl: true,
    };
}

/// One operation of a unit, its command encoded as a RESP array in [`Unit::bytes`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op {
    pub db: usize,
    pub targets: Targets,
    start: usize,
    end: usize,
}

/// The operations an execution unit produced so far.
#[derive(Debug, Default)]
pub(crate) struct Unit {
    depth: u32,
    ops: Vec<Op>,
    bytes: Vec<u8>,
    /// Set for the active expiry cycle and eviction: their deletions are not a transaction.
    no_multi: bool,
}

impl Unit {
    /// The operations and the bytes their ranges index.
    pub(crate) fn ops(&self) -> impl Iterator<Item = (Op, &[u8])> + '_ {
        self.ops
            .iter()
            .map(|op| (*op, &self.bytes[op.start..op.end]))
    }

    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }

    fn push<'a>(
        &mut self,
        db: usize,
        targets: Targets,
        args: impl ExactSizeIterator<Item = &'a [u8]>,
    ) {
        let start = self.bytes.len();
        encode_command_from(args, &mut self.bytes);
        self.ops.push(Op {
            db,
            targets,
            start,
            end: self.bytes.len(),
        });
    }

    fn clear(&mut self) {
        self.ops.clear();
        self.bytes.clear();
        self.no_multi = false;
        // Keep a normal buffer around, not the one a huge write left behind.
        if self.bytes.capacity() > 1 << 20 {
            self.bytes = Vec::new();
        }
    }
}

/// Appends `SELECT <db>`, which the replication stream and the AOF each emit when the next
/// command is for another database than their last.
pub(crate) fn push_select(out: &mut Vec<u8>, db: usize) {
    let db_text = db.to_string();
    encode_command_from([&b"SELECT"[..], db_text.as_bytes()].into_iter(), out);
}

thread_local! {
    static UNIT: RefCell<Unit> = RefCell::new(Unit::default());
    /// On a replica: the master's bytes of the command being applied, forwarded to our own
    /// replicas when its unit is flushed (under the same locks), see [`forward_at_flush`].
    static FORWARD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A replica applying its master's stream: `bytes` (the unit being applied, as the master
/// sent it) reach our replicas when the command's unit is flushed, while it holds its locks.
pub(crate) fn forward_at_flush(bytes: Vec<u8>) {
    FORWARD.with_borrow_mut(|f| *f = bytes);
}

/// What [`forward_at_flush`] staged and no flush forwarded (the command did not run).
pub(crate) fn take_forward() -> Vec<u8> {
    FORWARD.with_borrow_mut(std::mem::take)
}

/// A command starts running (at any depth).
pub(crate) fn enter() {
    UNIT.with_borrow_mut(|unit| unit.depth += 1);
}

/// A command finished; when it was the outermost one, its unit goes to the stream. Call it
/// while the command's locks are still held.
pub(crate) fn leave(server: &Server) {
    let flush = UNIT.with_borrow_mut(|unit| {
        unit.depth = unit.depth.saturating_sub(1);
        unit.depth == 0 && !unit.ops.is_empty()
    });
    if flush {
        flush_unit(server);
    }
    let outermost = UNIT.with_borrow(|unit| unit.depth == 0);
    if outermost {
        let forward = take_forward();
        if !forward.is_empty() {
            server.feed.forward(&forward);
        }
    }
}

/// Drops what the running unit has gathered: the commands DEBUG LOADAOF replays from the
/// files are not propagated again.
pub(crate) fn discard_unit() {
    UNIT.with_borrow_mut(Unit::clear);
}

/// Records an operation of the running unit (Redis's `alsoPropagate`). Outside any command
/// (the expiry cycle, eviction) it is propagated at once, on its own.
pub(crate) fn push<'a>(
    server: &Server,
    db: usize,
    targets: Targets,
    args: impl ExactSizeIterator<Item = &'a [u8]>,
) {
    let alone = UNIT.with_borrow_mut(|unit| {
        unit.push(db, targets, args);
        if unit.depth == 0 {
            unit.no_multi = true;
        }
        unit.depth == 0
    });
    if alone {
        flush_unit(server);
    }
}

fn flush_unit(server: &Server) {
    UNIT.with_borrow_mut(|unit| {
        // A transaction only when several operations make one unit: a single command is
        // atomic as it is (Redis's propagatePendingCommands).
        let wrap = unit.ops.len() > 1 && !unit.no_multi;
        server.feed.append(unit, wrap);
        unit.clear();
    });
}

/// The deletion of a key whose time had come, or that eviction chose: DEL, or UNLINK when the
/// matching `lazyfree-lazy-*` option is on, as Redis's `propagateDeletion`.
pub(crate) fn deletion(server: &Server, db: usize, key: &[u8], lazy: bool) {
    let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    push(server, db, Targets::ALL, [name, key].into_iter());
}

/// A key removed because its time had come, lazily or by the expiry cycle.
pub(crate) fn expired(server: &Server, db: usize, key: &[u8]) {
    let lazy = server
        .hot
        .lazyfree_lazy_expire
        .load(std::sync::atomic::Ordering::Relaxed);
    deletion(server, db, key, lazy);
}

/// Fields of a hash removed because their time had come, lazily or by the expiry cycle: one
/// `HDEL key field` each, as Redis 7.4's `propagateHashFieldDeletion` (the key's own removal
/// with its last field is not propagated: the last HDEL removes it on the other side).
pub(crate) fn fields_expired(server: &Server, db: usize, key: &[u8], fields: &[Box<[u8]>]) {
    for field in fields {
        push(
            server,
            db,
            Targets::ALL,
            [&b"HDEL"[..], key, field].into_iter(),
        );
    }
}

/// Before a new listener (a replica, the AOF) starts from a snapshot taken through `view`
/// (exclusive gate): keys expired while nobody listened are counted now, so none of them is
/// propagated as a DEL later, when the key may exist again.
pub(crate) fn forget_unheard_expiries(server: &Server, view: &mut common::keyspace::Locked<'_>) {
    for db in 0..server.keyspace.databases() {
        view.for_each_shard(db, |shard| {
            crate::notify::keys_expired(server, db, shard.drain_expired());
            for expired in shard.drain_fields_expired() {
                crate::notify::hash_fields_expired(server, db, &expired.key, expired.emptied, None);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_are_resp_arrays() {
        let mut out = Vec::new();
        push_select(&mut out, 12);
        assert_eq!(out, b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n");
    }
}

/// What each command family propagates, checked against the stream real Redis 7.0.15 sends
/// a replica for the same commands.
#[cfg(test)]
mod stream_tests {
    use crate::commands::testkit::TestClient;

    /// A client whose writes are recorded.
    fn recorded() -> TestClient {
        let mut c = TestClient::new();
        c.start_stream();
        c
    }

    /// Runs `commands`; returns the stream without SELECTs, every current Unix time in ms
    /// (13 digits, alone or starting a stream ID) replaced by `T`.
    fn stream_of(c: &mut TestClient, commands: &[&[&str]]) -> Vec<String> {
        c.stream();
        for command in commands {
            c.run(command);
        }
        c.stream_without_times()
    }

    #[test]
    fn strings_and_expires() {
        let mut c = recorded();
        let got = stream_of(
            &mut c,
            &[
                &["SET", "a", "1"],
                &["EXPIRE", "a", "100"],
                &["PEXPIRE", "a", "200000", "GT"],
                &["EXPIREAT", "a", "1"],
                &["SET", "a", "1"],
                &["EXPIRE", "a", "-5"],
                &["EXPIRE", "nokey", "100"],
                &["SET", "b", "1", "EX", "100"],
                &["SET", "b", "1", "PX", "100000"],
                &["SET", "b", "1", "EXAT", "99999999999"],
                &["SET", "b", "1", "GET"],
                &["SET", "b", "2", "GET", "EX", "100"],
                &["SET", "b", "2", "KEEPTTL", "GET"],
                &["SET", "b", "3", "NX"],
                &["SETEX", "c", "100", "v"],
                &["PSETEX", "c", "100000", "v"],
                &["GETEX", "c", "EX", "100"],
                &["GETEX", "c", "PERSIST"],
                &["GETEX", "c", "PERSIST"],
                &["GETEX", "c"],
                &["GETEX", "c", "EXAT", "1"],
                &["SET", "c", "v"],
                &["GETDEL", "c"],
                &["GETDEL", "c"],
                &["GETSET", "d", "v"],
                &["HINCRBYFLOAT", "h", "f", "1.5"],
                &["SET", "e", "1"],
                &["PEXPIREAT", "e", "1"],
                &["SETNX", "f", "1"],
                &["SETNX", "f", "1"],
                &["MSETNX", "f", "1", "g", "2"],
                &["GETEX", "nokey", "EX", "10"],
                &["SETRANGE", "s", "0", ""],
                &["SETRANGE", "s", "0", "ab"],
                &["APPEND", "s", ""],
                &["INCRBY", "i", "0"],
            ],
        );
        let expected = [
            "SET a 1",
            "PEXPIREAT a T",
            "PEXPIREAT a T GT",
            "DEL a",
            "SET a 1",
            "DEL a",
            "SET b 1 PXAT T",
            "SET b 1 PXAT T",
            "SET b 1 PXAT 99999999999000",
            "SET b 1",
            "SET b 2 PXAT T",
            "SET b 2 KEEPTTL",
            "SET c v PXAT T",
            "SET c v PXAT T",
            "PEXPIREAT c T",
            "PERSIST c",
            "DEL c",
            "SET c v",
            "DEL c",
            "SET d v",
            "HSET h f 1.5",
            "SET e 1",
            "DEL e",
            "SETNX f 1",
            "SETRANGE s 0 ab",
            "APPEND s ",
            "INCRBY i 0",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn lists_sorted_sets_and_geo() {
        let mut c = recorded();
        let got = stream_of(
            &mut c,
            &[
                &["RPUSH", "l", "a", "b", "c", "d"],
                &["LMPOP", "2", "nol", "l", "LEFT", "COUNT", "10"],
                &["RPUSH", "l", "a", "b", "c", "d"],
                &["LMPOP", "1", "l", "RIGHT"],
                &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"],
                &["BLPOP", "l", "0"],
                &["RPUSH", "l", "a", "b"],
                &["BRPOP", "nol", "l", "0"],
                &["BLMOVE", "l", "l2", "LEFT", "RIGHT", "0"],
                &["RPUSH", "l", "a", "b"],
                &["BRPOPLPUSH", "l", "l2", "0"],
                &["LMOVE", "l2", "l", "left", "LEFT"],
                &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
                &["ZMPOP", "1", "z", "MIN", "COUNT", "5"],
                &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
                &["BZPOPMIN", "z", "0"],
                &["BZPOPMAX", "z", "0"],
                &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
                &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "1"],
                &["ZPOPMIN", "z", "5"],
                &[
                    "GEOADD",
                    "g",
                    "CH",
                    "13.361389",
                    "38.115556",
                    "Palermo",
                    "15.087269",
                    "37.502669",
                    "Catania",
                ],
                &["GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo"],
            ],
        );
        let expected = [
            "RPUSH l a b c d",
            "LPOP l 4",
            "RPUSH l a b c d",
            "RPOP l 1",
            "LPOP l 2",
            "LPOP l",
            "RPUSH l a b",
            "RPOP l",
            "LMOVE l l2 LEFT RIGHT",
            "RPUSH l a b",
            "RPOPLPUSH l l2",
            "LMOVE l2 l left LEFT",
            "ZADD z 1 a 2 b 3 c",
            "ZPOPMIN z 3",
            "ZADD z 1 a 2 b 3 c",
            "ZPOPMIN z",
            "ZPOPMAX z",
            "ZADD z 1 a 2 b 3 c",
            "ZPOPMAX z 1",
            "ZPOPMIN z 5",
            "zadd g CH 3479099956230698 Palermo 3479447370796909 Catania",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn streams() {
        let mut c = recorded();
        let got = stream_of(
            &mut c,
            &[
                &["XADD", "s", "1-1", "f", "v"],
                &["XADD", "s", "5-*", "f", "v"],
                &["XADD", "s", "MINID", "~", "3", "10-*", "f", "v"],
                &["XGROUP", "CREATE", "s", "g", "0"],
                &["XADD", "s", "100-1", "f", "v"],
                &["XADD", "s", "100-2", "f", "v"],
                &["XADD", "s", "100-3", "f", "v"],
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c1",
                    "COUNT",
                    "2",
                    "STREAMS",
                    "s",
                    ">",
                ],
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c2",
                    "NOACK",
                    "STREAMS",
                    "s",
                    ">",
                ],
                &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"],
                &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"],
                &["XCLAIM", "s", "g", "c3", "0", "100-1", "JUSTID"],
                &["XAUTOCLAIM", "s", "g", "c4", "0", "0", "JUSTID"],
                &["XDEL", "s", "100-2"],
                &["XAUTOCLAIM", "s", "g", "c4", "0", "0"],
                &["XACK", "s", "g", "100-1"],
                &["XCLAIM", "s", "g", "c3", "0", "1-1", "LASTID", "999-0"],
                &["XCLAIM", "s", "g", "c3", "0", "1-1", "LASTID", "1000-0"],
                &["XGROUP", "CREATECONSUMER", "s", "g", "c9"],
                &["XGROUP", "DELCONSUMER", "s", "g", "c9"],
                &["XSETID", "s", "2000-0"],
                &["XADD", "t", "MAXLEN", "~", "1", "*", "f", "v"],
                &["XTRIM", "t", "MAXLEN", "~", "0"],
                &["XTRIM", "t", "MAXLEN", "=", "0"],
            ],
        );
        let expected = [
            "XADD s 1-1 f v",
            "XADD s 5-0 f v",
            "XADD s MINID = 1-1 10-0 f v",
            "XGROUP CREATE s g 0",
            "XADD s 100-1 f v",
            "XADD s 100-2 f v",
            "XADD s 100-3 f v",
            "MULTI",
            "XCLAIM s g c1 0 1-1 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
            "XCLAIM s g c1 0 5-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 5-0",
            "EXEC",
            "MULTI",
            "XGROUP CREATECONSUMER s g c2",
            "XGROUP SETID s g 100-3 ENTRIESREAD 6",
            "EXEC",
            "MULTI",
            "XCLAIM s g c4 0 1-1 TIME T RETRYCOUNT 2 FORCE JUSTID LASTID 100-3",
            "XCLAIM s g c4 0 5-0 TIME T RETRYCOUNT 2 FORCE JUSTID LASTID 100-3",
            "EXEC",
            "XDEL s 100-2",
            "MULTI",
            "XCLAIM s g c4 0 1-1 TIME T RETRYCOUNT 3 FORCE JUSTID LASTID 100-3",
            "XCLAIM s g c4 0 5-0 TIME T RETRYCOUNT 3 FORCE JUSTID LASTID 100-3",
            "EXEC",
            "XCLAIM s g c3 0 1-1 TIME T RETRYCOUNT 4 FORCE JUSTID LASTID 999-0",
            "XCLAIM s g c3 0 1-1 TIME T RETRYCOUNT 5 FORCE JUSTID LASTID 1000-0",
            "XGROUP CREATECONSUMER s g c9",
            "XGROUP DELCONSUMER s g c9",
            "XSETID s 2000-0",
            "XADD t MAXLEN = 1 T-0 f v",
            "XTRIM t MAXLEN = 0",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn scripts_transactions_and_the_rest() {
        let mut c = recorded();
        let got = stream_of(
            &mut c,
            &[
                &[
                    "EVAL",
                    "redis.call('set','x','1'); redis.call('incr','x'); return 1",
                    "0",
                ],
                &["EVAL", "redis.call('set','x','1'); return 1", "0"],
                &["EVAL", "return redis.call('get','x')", "0"],
                &["SCRIPT", "LOAD", "return 1"],
                &["SCRIPT", "FLUSH"],
                &[
                    "FUNCTION",
                    "LOAD",
                    "#!lua name=lib\nredis.register_function('f', function(keys, args) redis.call('set','fk','1') return 1 end)",
                ],
                &["FCALL", "f", "0"],
                &["FUNCTION", "DELETE", "lib"],
                &["FUNCTION", "FLUSH"],
                &["RPUSH", "sl", "3", "1", "2"],
                &["SORT", "sl", "STORE", "sd"],
                &["SORT", "nosl", "STORE", "sd"],
                &["SORT", "nosl", "STORE", "sd"],
                &["SPOP", "noset"],
                &["SADD", "set", "a"],
                &["SPOP", "set"],
                &["SADD", "set", "a", "b"],
                &["SPOP", "set", "5"],
                &["HSET", "h", "a", "1"],
                &["HINCRBYFLOAT", "h", "a", "1e3"],
                &["INCRBYFLOAT", "n", "1.5"],
                &["MULTI"],
                &["SET", "m", "1"],
                &["INCR", "m"],
                &["EXEC"],
                &["MULTI"],
                &["GET", "m"],
                &["EXEC"],
                &["MULTI"],
                &["SET", "m", "1"],
                &["EXEC"],
            ],
        );
        let expected = [
            "MULTI",
            "set x 1",
            "incr x",
            "EXEC",
            "set x 1",
            "FUNCTION LOAD #!lua name=lib\nredis.register_function('f', function(keys, args) redis.call('set','fk','1') return 1 end)",
            "set fk 1",
            "FUNCTION DELETE lib",
            "FUNCTION FLUSH",
            "RPUSH sl 3 1 2",
            "SORT sl STORE sd",
            "SORT nosl STORE sd",
            "SADD set a",
            "SREM set a",
            "SADD set a b",
            "DEL set",
            "HSET h a 1",
            "HSET h a 1001",
            "SET n 1.5 KEEPTTL",
            "MULTI",
            "SET m 1",
            "INCR m",
            "EXEC",
            "SET m 1",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn blocked_clients_served_later() {
        let mut c = recorded();
        c.run(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        let blocked: [&[&str]; 7] = [
            &["BLPOP", "l", "0"],
            &["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"],
            &["BRPOPLPUSH", "l2", "l", "0"],
            &["BLMOVE", "l3", "l", "RIGHT", "LEFT", "0"],
            &["BZPOPMIN", "z", "0"],
            &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "3"],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        ];
        let mut waiters = Vec::new();
        for command in blocked {
            let mut w = TestClient::connect(&c.server);
            assert_eq!(w.text(command), "(blocked)", "{command:?}");
            waiters.push(w);
        }
        let got = stream_of(
            &mut c,
            &[
                &["RPUSH", "l", "a", "b", "c"],
                &["RPUSH", "l", "a", "b", "c"],
                &["RPUSH", "l2", "x"],
                &["RPUSH", "l3", "y"],
                &["ZADD", "z", "1", "a"],
                &["ZADD", "z", "1", "a", "2", "b"],
                &["XADD", "s", "1-1", "f", "v"],
            ],
        );
        let expected = [
            "RPUSH l a b c",
            "LPOP l",
            "RPOP l 2",
            "RPUSH l a b c",
            "RPUSH l2 x",
            "RPOPLPUSH l2 l",
            "RPUSH l3 y",
            "LMOVE l3 l right left",
            "ZADD z 1 a",
            "ZPOPMIN z",
            "ZADD z 1 a 2 b",
            "ZPOPMAX z 2",
            "XADD s 1-1 f v",
            "XCLAIM s g c 0 1-1 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
        ];
        assert_eq!(got, expected);
        for w in &mut waiters {
            assert!(w.served().is_some());
        }
    }

    #[test]
    fn deletions_follow_the_lazyfree_options() {
        let mut c = TestClient::with_config(&[
            ("lazyfree-lazy-user-del", "yes"),
            ("lazyfree-lazy-expire", "yes"),
        ]);
        c.start_stream();
        let got = stream_of(
            &mut c,
            &[
                &["SET", "a", "1"],
                &["GETDEL", "a"],
                &["SET", "a", "1"],
                &["EXPIRE", "a", "0"],
                &["SET", "a", "1"],
                &["GETEX", "a", "PXAT", "1"],
                &["SET", "a", "1"],
                &["PEXPIREAT", "a", "1"],
            ],
        );
        let expected = [
            "SET a 1", "UNLINK a", "SET a 1", "UNLINK a", "SET a 1", "UNLINK a", "SET a 1",
            "UNLINK a",
        ];
        assert_eq!(got, expected);
        // An absolute time in the future is propagated as sent.
        let got = stream_of(
            &mut c,
            &[&["SET", "b", "1"], &["PEXPIREAT", "b", "99999999999999"]],
        );
        assert_eq!(got, ["SET b 1", "PEXPIREAT b 99999999999999"]);
    }

    #[test]
    fn restore_propagates_an_absolute_ttl() {
        let mut c = recorded();
        c.run(&["SET", "k", "v"]);
        let dump = c.run(&["DUMP", "k"]);
        let start = dump.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
        let payload = &dump[start..dump.len() - 2];
        c.stream();
        c.run_bytes(&[b"RESTORE", b"r", b"100000", payload]);
        c.run_bytes(&[b"RESTORE", b"r", b"0", payload, b"REPLACE"]);
        c.run_bytes(&[b"RESTORE", b"r", b"1", payload, b"REPLACE", b"ABSTTL"]);
        c.run_bytes(&[b"RESTORE", b"r", b"1", payload, b"REPLACE", b"ABSTTL"]);
        let got: Vec<String> = c
            .stream()
            .into_iter()
            .filter(|l| !l.starts_with("SELECT"))
            .map(|l| {
                let args: Vec<&str> = l.split(' ').take(3).collect();
                match args.get(2) {
                    Some(t) if t.len() == 13 => format!("{} T", args[..2].join(" ")),
                    _ => args.join(" "),
                }
            })
            .collect();
        assert_eq!(got, ["RESTORE r T", "RESTORE r 0", "DEL r"]);
        c.run_bytes(&[b"RESTORE", b"q", b"100000", payload]);
        let line = c.stream().pop().unwrap_or_default();
        assert!(line.ends_with(" ABSTTL"), "{line}");
        let ttl: i64 = line
            .split(' ')
            .nth(2)
            .unwrap_or_default()
            .parse()
            .unwrap_or(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        assert!(ttl > now + 90_000, "{line}");
    }
}
