//! The replication stream and the master side of replication.
//!
//! - [`Feed`] (here): every propagated write in order, with the SELECTs between databases,
//!   kept in the backlog for replicas (and, once AOF is on, appended to the AOF buffer).
//! - [`master`]: SYNC, PSYNC and REPLCONF, and the task that streams to one replica.
//!
//! The stream is shared: replicas read it from their own offsets, so a write is copied once
//! into the backlog whatever the number of replicas. A replica that falls further behind than
//! the backlog holds (at most `client-output-buffer-limit replica`'s hard limit beyond
//! `repl-backlog-size`) is disconnected, as Redis disconnects a replica over its output limit.

pub(crate) mod master;
pub(crate) mod replica;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::propagate::{Targets, Unit};

const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

/// The ordered stream of propagated writes.
#[derive(Default)]
pub(crate) struct Feed {
    /// Someone listens (a backlog exists or AOF is on): one load decides whether a write
    /// needs any propagation work at all.
    active: AtomicBool,
    state: Mutex<FeedState>,
    /// Woken after every append, for the replica tasks.
    pub(crate) appended: tokio::sync::Notify,
    /// When the replication cron last sent replicas a PING (Unix ms).
    pub(crate) last_ping_ms: std::sync::atomic::AtomicI64,
}

#[derive(Default)]
pub(crate) struct FeedState {
    /// Bytes ever written to the replication stream (INFO `master_repl_offset`).
    pub offset: u64,
    pub backlog: Option<Backlog>,
    /// The database the replication stream last selected; `None` forces a SELECT (a new
    /// replica may have loaded a snapshot in any database).
    repl_db: Option<usize>,
    pub replicas: BTreeMap<u64, Replica>,
    /// Unix ms when the last replica left (for `repl-backlog-ttl`).
    pub no_replicas_since_ms: Option<i64>,
    /// The AOF buffer, while AOF is on.
    pub aof: Option<crate::persistence::aof::AofBuffer>,
    /// This server is a replica: its own writes do not reach its replicas, which get the
    /// master's stream as it came ([`Feed::forward`]).
    pub is_replica: bool,
}

/// What the master knows of one connected replica (INFO `slaveN`).
#[derive(Debug, Clone)]
pub(crate) struct Replica {
    pub ip: String,
    pub listening_port: u16,
    /// Next stream offset to send it.
    pub sent: u64,
    /// What it acknowledged (REPLCONF ACK).
    pub acked: u64,
    pub last_ack_ms: i64,
}

/// The stream's recent past, for replicas to read from their own offsets.
#[derive(Debug)]
pub(crate) struct Backlog {
    buf: Vec<u8>,
    /// Bytes of `buf` before this index are already dropped (compacted lazily).
    head: usize,
    /// Stream offset of `buf[head]`.
    pub start: u64,
    /// `repl-backlog-size`.
    pub size: usize,
    /// How far beyond `size` bytes are kept for a slow replica before it is given up.
    pub replica_limit: usize,
}

impl Backlog {
    fn new(start: u64, size: usize, replica_limit: usize) -> Backlog {
        Backlog {
            buf: Vec::new(),
            head: 0,
            start,
            size: size.max(1),
            replica_limit,
        }
    }

    /// Memory the stream's buffer takes (Redis's `repl_buffer_mem`): the backlog and what
    /// slow replicas still have to read, shared.
    pub(crate) fn memory(&self) -> usize {
        crate::server::allocation_size(self.buf.capacity())
    }

    /// Bytes held (INFO `repl_backlog_histlen`).
    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    fn end(&self) -> u64 {
        self.start + self.len() as u64
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops what no one needs: past `size`, unless a replica still reads it (and then only
    /// up to `replica_limit` more).
    fn trim(&mut self, oldest_reader: Option<u64>) {
        let len = self.len();
        let mut keep = self.size;
        if let Some(oldest) = oldest_reader {
            let behind = usize::try_from(self.end().saturating_sub(oldest)).unwrap_or(usize::MAX);
            keep = keep.max(behind.min(self.size.saturating_add(self.replica_limit)));
        }
        if len <= keep {
            return;
        }
        let drop = len - keep;
        self.head += drop;
        self.start += drop as u64;
        if self.head > self.buf.len() / 2 && self.head > 64 * 1024 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    /// Up to `max` bytes from stream offset `from`; `None` if they were already dropped.
    fn read(&self, from: u64, max: usize) -> Option<&[u8]> {
        if from < self.start || from > self.end() {
            return None;
        }
        let at = self.head + (from - self.start) as usize;
        let to = self.buf.len().min(at.saturating_add(max));
        Some(&self.buf[at..to])
    }
}

/// What reading the stream for a replica found.
pub(crate) enum Read {
    Bytes(Vec<u8>),
    Nothing,
    /// The replica fell behind what the backlog keeps.
    TooFarBehind,
}

impl Feed {
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Relaxed)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Recomputes whether anyone listens; call after adding or removing a listener.
    pub(crate) fn refresh_active(&self, state: &FeedState) {
        self.active
            .store(state.backlog.is_some() || state.aof.is_some(), Relaxed);
    }

    /// Appends a unit's operations, wrapped in MULTI/EXEC when `wrap`.
    pub(crate) fn append(&self, unit: &Unit, wrap: bool) {
        if !self.is_active() || unit.len() == 0 {
            return;
        }
        let mut state = self.lock();
        let mut last_db = 0;
        let mut first = true;
        for (op, bytes) in unit.ops() {
            if first && wrap {
                state.write(op.db, Targets::ALL, MULTI);
            }
            first = false;
            state.write(op.db, op.targets, bytes);
            last_db = op.db;
        }
        if wrap {
            state.write(last_db, Targets::ALL, EXEC);
        }
        let wake = !state.replicas.is_empty();
        state.trim();
        drop(state);
        if wake {
            self.appended.notify_waiters();
        }
    }

    /// Tests: a backlog with no replica, so the stream can be read back with
    /// [`take_test_stream`](Self::take_test_stream).
    #[cfg(test)]
    pub(crate) fn attach_test_backlog(&self) {
        let mut state = self.lock();
        state.ensure_backlog(64 << 20, 0);
        self.refresh_active(&state);
    }

    /// Tests: the commands appended since the last call (SELECTs included), each as its
    /// arguments joined by spaces.
    #[cfg(test)]
    pub(crate) fn take_test_stream(&self) -> Vec<String> {
        let mut state = self.lock();
        let Some(backlog) = &mut state.backlog else {
            return Vec::new();
        };
        let bytes = backlog.buf[backlog.head..].to_vec();
        backlog.start += bytes.len() as u64;
        backlog.head = backlog.buf.len();
        drop(state);
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        let line = |rest: &mut &[u8]| -> usize {
            let end = rest.windows(2).position(|w| w == b"\r\n").expect("CRLF");
            let n = std::str::from_utf8(&rest[1..end])
                .expect("utf8")
                .parse()
                .expect("len");
            *rest = &rest[end + 2..];
            n
        };
        while !rest.is_empty() {
            let argc = line(&mut rest);
            let mut args = Vec::with_capacity(argc);
            for _ in 0..argc {
                let len = line(&mut rest);
                args.push(String::from_utf8_lossy(&rest[..len]).into_owned());
                rest = &rest[len + 2..];
            }
            out.push(args.join(" "));
        }
        out
    }

    /// A replica: appends the master's stream as it came, with the master's offsets.
    pub(crate) fn forward(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut state = self.lock();
        if let Some(backlog) = &mut state.backlog {
            backlog.push(bytes);
        }
        state.offset += bytes.len() as u64;
        let wake = !state.replicas.is_empty();
        state.trim();
        drop(state);
        if wake {
            self.appended.notify_waiters();
        }
    }

    /// Redis's replication cron PING, so replicas can tell a live master from a dead link.
    pub(crate) fn ping_replicas(&self) {
        let mut state = self.lock();
        if state.replicas.is_empty() || state.is_replica {
            return;
        }
        state.write_repl_raw(PING);
        state.trim();
        drop(state);
        self.appended.notify_waiters();
    }

    /// The replication buffer's memory and the backlog size it is meant to hold (for INFO
    /// memory and what eviction leaves out).
    pub(crate) fn buffer_memory(&self) -> (usize, usize) {
        let state = self.lock();
        state
            .backlog
            .as_ref()
            .map_or((0, 0), |b| (b.memory(), b.size))
    }

    /// Reads for the replica `id` from its offset, at most `max` bytes.
    pub(crate) fn read_for(&self, id: u64, max: usize) -> Read {
        let mut state = self.lock();
        let Some(from) = state.replicas.get(&id).map(|r| r.sent) else {
            return Read::TooFarBehind;
        };
        let bytes = match state.backlog.as_ref().map(|b| b.read(from, max)) {
            Some(Some(bytes)) => bytes.to_vec(),
            _ => return Read::TooFarBehind,
        };
        if bytes.is_empty() {
            return Read::Nothing;
        }
        if let Some(replica) = state.replicas.get_mut(&id) {
            replica.sent += bytes.len() as u64;
        }
        state.trim();
        Read::Bytes(bytes)
    }
}

impl FeedState {
    fn write(&mut self, db: usize, targets: Targets, bytes: &[u8]) {
        if targets.repl && self.backlog.is_some() && !self.is_replica {
            if self.repl_db != Some(db) {
                let mut select = Vec::with_capacity(32);
                crate::propagate::push_select(&mut select, db);
                self.write_repl_raw(&select);
                self.repl_db = Some(db);
            }
            self.write_repl_raw(bytes);
        }
        if targets.aof
            && let Some(aof) = &mut self.aof
        {
            aof.feed(db, bytes);
        }
    }

    fn write_repl_raw(&mut self, bytes: &[u8]) {
        if let Some(backlog) = &mut self.backlog {
            backlog.push(bytes);
            self.offset += bytes.len() as u64;
        }
    }

    fn trim(&mut self) {
        let oldest = self.replicas.values().map(|r| r.sent).min();
        if let Some(backlog) = &mut self.backlog {
            backlog.trim(oldest);
        }
    }

    /// The next write selects its database again (a new master's first write).
    pub(crate) fn forget_selected_db(&mut self) {
        self.repl_db = None;
    }

    /// Makes sure a backlog exists (the first replica creates it) and that the next write
    /// selects its database.
    pub(crate) fn ensure_backlog(&mut self, size: usize, replica_limit: usize) {
        match &mut self.backlog {
            Some(backlog) => {
                backlog.size = size.max(1);
                backlog.replica_limit = replica_limit;
            }
            None => self.backlog = Some(Backlog::new(self.offset, size, replica_limit)),
        }
        self.repl_db = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_keeps_its_size_and_what_replicas_still_read() {
        let mut b = Backlog::new(0, 10, 100);
        b.push(b"0123456789abcdef");
        b.trim(None);
        assert_eq!((b.start, b.len()), (6, 10));
        assert_eq!(b.read(6, 4), Some(&b"6789"[..]));
        assert_eq!(b.read(5, 4), None);
        assert_eq!(b.read(16, 4), Some(&b""[..]));
        assert_eq!(b.read(17, 4), None);
        b.push(b"ghijklmnop");
        b.trim(Some(8));
        assert_eq!((b.start, b.len()), (8, 18));
        // Past the replica limit the slow reader is given up.
        b.push(&[b'x'; 200]);
        b.trim(Some(8));
        assert_eq!(b.len(), 110);
    }
}
