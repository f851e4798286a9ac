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
        encode_command(&mut self.bytes, args);
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

/// Appends `*N\r\n$len\r\narg\r\n...`, the form replicas and the AOF read.
pub(crate) fn encode_command<'a>(out: &mut Vec<u8>, args: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut num = itoa_buf();
    out.push(b'*');
    out.extend_from_slice(format_len(&mut num, args.len()));
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        out.extend_from_slice(format_len(&mut num, arg.len()));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

fn format_len(buf: &mut [u8; 20], n: usize) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

thread_local! {
    static UNIT: RefCell<Unit> = RefCell::new(Unit::default());
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
        .config()
        .get_bool("lazyfree-lazy-expire")
        .unwrap_or(false);
    deletion(server, db, key, lazy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_encoded_as_resp_arrays() {
        let mut out = Vec::new();
        encode_command(&mut out, [&b"SET"[..], b"k", b""].into_iter());
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        let mut buf = itoa_buf();
        assert_eq!(format_len(&mut buf, 1234567), b"1234567");
        assert_eq!(format_len(&mut buf, 0), b"0");
    }
}
