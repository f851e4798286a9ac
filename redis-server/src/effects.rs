//! What a write leaves behind besides the data: the change counter (`dirty`, INFO
//! `rdb_changes_since_last_save`), WATCH and client-side-caching invalidation of the keys it
//! modified, and keyspace notifications. Every write command reaches them through the three
//! [`CommandContext`] methods below, as Redis's commands call `server.dirty++`,
//! `signalModifiedKey` and `notifyKeyspaceEvent`.
//!
//! [`CommandContext`]: crate::commands::CommandContext

use std::sync::atomic::Ordering::Relaxed;

use crate::commands::CommandContext;
use crate::propagate::{self, Targets};
use crate::pubsub::SelfSink;
use crate::watch::Touch;

/// The classes of keyspace events, one bit per letter of `notify-keyspace-events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Event {
    /// `g`: DEL, EXPIRE, RENAME... (type-independent).
    Generic = 1 << 2,
    /// `$`
    String = 1 << 3,
    /// `l`
    List = 1 << 4,
    /// `s`
    Set = 1 << 5,
    /// `h`
    Hash = 1 << 6,
    /// `z`
    ZSet = 1 << 7,
    /// `x`: a key expired.
    Expired = 1 << 8,
    /// `e`: maxmemory evicted a key.
    Evicted = 1 << 9,
    /// `t`
    Stream = 1 << 10,
    /// `n`: a key was created (not part of `A`).
    New = 1 << 14,
    // Not emitted yet: `m` (keymiss).
}

impl Event {
    /// The class's letter in `notify-keyspace-events`.
    #[cfg(test)]
    pub(crate) fn letter(self) -> char {
        match self {
            Event::Generic => 'g',
            Event::String => '$',
            Event::List => 'l',
            Event::Set => 's',
            Event::Hash => 'h',
            Event::ZSet => 'z',
            Event::Expired => 'x',
            Event::Evicted => 'e',
            Event::Stream => 't',
            Event::New => 'n',
        }
    }
}

/// How the running command itself is propagated (Redis's `call()` flags and the argv a
/// handler rewrote).
#[derive(Debug, Default)]
pub(crate) struct CallPropagation {
    dirtied: bool,
    prevented: bool,
    forced: Option<Targets>,
    rewritten: Option<Vec<Box<[u8]>>>,
}

impl CommandContext<'_> {
    /// Counts `n` changes toward the next save point; a command that made any is propagated
    /// (to replicas and the AOF) when it ends, as Redis's `call()` decides by `server.dirty`.
    pub(crate) fn dirty(&mut self, n: u64) {
        if n > 0 {
            self.server.dirty.fetch_add(n, Relaxed);
            self.propagation.dirtied = true;
        }
    }

    /// Propagates this command as `args` instead of as it was sent (Redis's
    /// `rewriteClientCommandVector`): relative times become absolute, random choices become
    /// the elements chosen.
    pub(crate) fn propagate_as(&mut self, args: &[&[u8]]) {
        if self.server.feed.is_active() {
            self.propagation.rewritten = Some(args.iter().map(|a| Box::from(*a)).collect());
        }
    }

    /// Propagates this command with argument `index` (0 is the command name) replaced by
    /// `value`, or appended when `index` is one past the end (Redis's
    /// `rewriteClientCommandArgument`); earlier rewrites are kept.
    pub(crate) fn rewrite_arg(&mut self, index: usize, value: &[u8]) {
        if !self.server.feed.is_active() {
            return;
        }
        let args = self.propagation.rewritten.get_or_insert_with(|| {
            self.args
                .list()
                .iter()
                .map(Box::from)
                .collect::<Vec<Box<[u8]>>>()
        });
        match index.cmp(&args.len()) {
            std::cmp::Ordering::Less => args[index] = Box::from(value),
            std::cmp::Ordering::Equal => args.push(Box::from(value)),
            std::cmp::Ordering::Greater => {}
        }
    }

    /// DEL, or UNLINK when the `lazyfree-lazy-*` option `option` is on: what a deletion is
    /// propagated as.
    pub(crate) fn deletion_command(&self, option: &str) -> &'static [u8] {
        if self.server.hot.lazyfree(option) {
            b"UNLINK"
        } else {
            b"DEL"
        }
    }

    /// Propagates `args` (in the selected database) now, before this command's own form
    /// (Redis's `alsoPropagate`).
    pub(crate) fn also_propagate(&mut self, args: &[&[u8]]) {
        if self.server.feed.is_active() {
            let db = self.db.db();
            propagate::push(self.server, db, Targets::ALL, args.iter().copied());
        }
    }

    /// This command is not propagated itself (what it did goes out through
    /// [`also_propagate`](Self::also_propagate), or needs nothing).
    pub(crate) fn prevent_propagation(&mut self) {
        self.propagation.prevented = true;
    }

    /// Propagates this command even if it changed nothing (FLUSHALL on an empty server;
    /// PUBLISH, to replicas only).
    pub(crate) fn force_propagation(&mut self, targets: Targets) {
        self.propagation.forced = Some(targets);
    }

    /// After the handler: the command itself joins the unit if it changed something.
    pub(crate) fn propagate_call(&mut self) {
        if !self.server.feed.is_active() {
            return;
        }
        let call = std::mem::take(&mut self.propagation);
        let spec = self.command.spec;
        // EXEC's queued commands are propagated one by one, never EXEC itself.
        if call.prevented || (spec.container.is_none() && spec.name == "exec") {
            return;
        }
        let targets = match (call.dirtied, call.forced) {
            (true, _) => Targets::ALL,
            (false, Some(forced)) => forced,
            (false, None) => return,
        };
        let db = self.client.db;
        match &call.rewritten {
            Some(args) => propagate::push(self.server, db, targets, args.iter().map(|a| &**a)),
            None => propagate::push(self.server, db, targets, self.args.list().iter()),
        }
    }

    /// `key` (in the selected database) was modified: WATCHers of it fail their EXEC and
    /// clients caching it are told to drop it. Call it once per modified key.
    pub(crate) fn modified(&mut self, key: &[u8]) {
        let db = self.db.db();
        self.modified_in(db, key);
    }

    /// [`modified`](Self::modified) for a key of database `db` (MOVE, COPY ... DB).
    pub(crate) fn modified_in(&mut self, db: usize, key: &[u8]) {
        self.flush_key_events();
        self.server.watches.touch(db, key, Touch::Modified);
        let tracking = &self.server.tracking;
        if tracking.live() {
            let id = self.client.info.id;
            let mut sink = SelfSink::of(self.client, self.reply);
            tracking.key_modified(self.server, key, Some(id), Some(&mut sink));
        }
    }

    /// Every key of the keyspace may have changed (FLUSHDB, FLUSHALL): clients caching keys
    /// are told to drop them all.
    pub(crate) fn flushed(&mut self) {
        let tracking = &self.server.tracking;
        if tracking.live() {
            let mut sink = SelfSink::of(self.client, self.reply);
            tracking.flushed(self.server, Some(&mut sink));
        }
    }

    /// Publishes keyspace event `event` (Redis's event name: "set", "lpush", "del"...) of
    /// class `class` for `key`, when `notify-keyspace-events` asks for it.
    pub(crate) fn notify(&mut self, class: Event, event: &str, key: &[u8]) {
        let db = self.db.db();
        self.notify_in(db, class, event, key);
    }

    /// [`notify`](Self::notify) for a key of database `db` (MOVE, COPY ... DB).
    pub(crate) fn notify_in(&mut self, db: usize, class: Event, event: &str, key: &[u8]) {
        self.flush_key_events();
        let mut sink = SelfSink::of(self.client, self.reply);
        crate::notify::keyspace_event(self.server, class, event, key, db, Some(&mut sink));
    }

    /// Stores `entry` at `key` in place of whatever it held (and its TTL), as Redis's `setKey`:
    /// the key is looked up for writing first, so one whose time has come is expired, and
    /// reported so, before the store's own events.
    pub(crate) fn set_key(&mut self, key: &[u8], entry: common::keyspace::Entry) {
        let now = self.now_ms;
        let shard = self.db.shard(key);
        // Returns at once in a shard without TTLs.
        shard.expire_if_needed(key, now);
        shard.insert(entry);
    }

    /// The common case of a write: one change, `key` modified, one event.
    pub(crate) fn wrote(&mut self, class: Event, event: &str, key: &[u8]) {
        self.dirty(1);
        self.modified(key);
        self.notify(class, event, key);
    }

    /// Reports what this command's lookups and inserts did to the keyspace so far: keys found
    /// expired (counted in `expired_keys`, touched for WATCH, notified "expired") and keys
    /// created (notified "new"). Redis does this inside the lookup and `dbAdd`; doing it
    /// before every later effect keeps Redis's order of events.
    pub(crate) fn flush_key_events(&mut self) {
        // Most commands find nothing expired and create nothing: one look over the held shards
        // instead of one per kind of event (a tenth of an MSET of ten keys).
        if !self.db.may_have_events() {
            return;
        }
        let server = self.server;
        let propagating = server.feed.is_active();
        if propagating
            || server.watches.active()
            || crate::notify::wants(server, Event::Expired)
            || server.tracking.live()
        {
            let mut sink = SelfSink::of(self.client, self.reply);
            self.db.drain_expired(|db, key| {
                crate::notify::key_expired(server, db, &key, Some(&mut sink));
                if propagating {
                    propagate::expired(server, db, &key);
                }
            });
        } else {
            // Counted now, as Redis counts in the lookup: INFO right after must show it.
            let mut expired = 0;
            self.db.drain_expired(|_, _| expired += 1);
            if expired > 0 {
                server.stats.expired_keys.fetch_add(expired, Relaxed);
            }
        }
        self.db
            .drain_expired_values(|entry| server.lazyfree.free_entry(entry));
        {
            let mut sink = SelfSink::of(self.client, self.reply);
            self.db.drain_fields_expired(|db, expired| {
                if propagating {
                    propagate::fields_expired(server, db, &expired.key, &expired.fields);
                }
                let (key, emptied) = (&expired.key, expired.emptied);
                crate::notify::hash_fields_expired(server, db, key, emptied, Some(&mut sink));
            });
        }
        if crate::notify::wants(server, Event::New) {
            let mut sink = SelfSink::of(self.client, self.reply);
            self.db.drain_created(|db, key| {
                crate::notify::keyspace_event(server, Event::New, "new", &key, db, Some(&mut sink));
            });
        }
        self.db.settle_events();
    }
}
