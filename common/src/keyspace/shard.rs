//! One shard: the keys of a range of hash slots in one database, with their expiries.

use super::dict::{Dict, DictItem};
use super::entry::Entry;
use crate::value::Value;

/// A key's expiry time, kept apart from the key (as Redis keeps its `expires` dict), so that
/// keys without a TTL pay nothing and the active cycle samples only volatile keys.
#[derive(Debug)]
pub(crate) struct Expiry {
    key: Box<[u8]>,
    at_ms: i64,
}

impl DictItem for Expiry {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

/// Converts a millisecond clock to the seconds clock entries keep for LRU.
pub fn lru_clock(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

/// The keys of one shard.
///
/// `repr(C)` keeps the fields set at every lock and the event flag read after every command at
/// the front, in the cache line the lock's own word shares, so a multi-key command's clean-up
/// does not miss the cache once per shard.
#[derive(Default)]
#[repr(C)]
pub struct Shard {
    /// How accesses are recorded in entries (set by the keyspace each time it locks the shard).
    pub(crate) access: super::access::AccessPolicy,
    /// What lookups do with keys whose time has come (set by the keyspace at each lock).
    pub(crate) expiry: super::db::ExpiryMode,
    pub(crate) record_created: bool,
    /// While set (`lazyfree-lazy-expire`), expired values worth a background free are kept
    /// in `expired_values` for the caller to hand to its lazyfree thread.
    pub(crate) lazy_expire: bool,
    /// Set when one of the event queues (`expired`, `created`, `fields_expired`,
    /// `expired_values`) may hold something; cleared by [`Shard::settle_events`].
    events: bool,
    /// Read lookups that found / did not find their key (INFO `keyspace_hits/misses`). Counted
    /// here, under the shard's lock, rather than in shared atomics every core would contend on.
    hits: u64,
    misses: u64,
    main: Dict<Entry>,
    expires: Dict<Expiry>,
    /// Where the active expiry cycle resumes its scan of `expires`.
    expire_cursor: u64,
    /// Keys removed because their time had come, since the caller last drained them (for
    /// notifications and propagation as DEL).
    expired: Vec<Box<[u8]>>,
    /// Total keys expired here, lazily or actively (INFO `expired_keys`).
    expired_total: u64,
    /// Keys created since the caller last drained them, recorded only while `record_created`
    /// (keyspace "new" events are asked for).
    created: Vec<Box<[u8]>>,
    /// Hashes with field TTLs (Redis 7.4's `hexpires`): each key with a time at or before
    /// its soonest field expiry, so that lookups and the active cycle find due fields without
    /// walking every hash. A record may be early (a TTL removed since), never late.
    hexpires: Dict<Expiry>,
    hexpire_cursor: u64,
    /// Hashes that lost fields to their TTLs since the caller last drained them (for
    /// `hexpired` / `del` events and HDEL propagation).
    fields_expired: Vec<FieldsExpired>,
    /// Total fields expired here (INFO `expired_subkeys`).
    expired_fields_total: u64,
    expired_values: Vec<Entry>,
}

/// Fields of one hash removed because their time had come (Redis 7.4's hash-field expiry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsExpired {
    pub key: Box<[u8]>,
    /// The fields, soonest first: each is propagated as `HDEL key field`.
    pub fields: Vec<Box<[u8]>>,
    /// The hash went with its last field (a `del` event).
    pub emptied: bool,
}

/// What one run of the active expiry cycle did in one shard.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireCycleStats {
    pub sampled: usize,
    pub expired: usize,
}

impl Shard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys, including expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.main.len()
    }

    pub fn is_empty(&self) -> bool {
        self.main.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    pub fn expired_total(&self) -> u64 {
        self.expired_total
    }

    /// Bytes of bookkeeping the key table and the expiry table hold (MEMORY STATS's
    /// `overhead.hashtable.main` / `.expires`): their bucket arrays and entry headers.
    pub fn table_overhead(&self) -> (usize, usize) {
        let ptr = std::mem::size_of::<usize>();
        let main = self.main.buckets() * ptr + self.main.len() * std::mem::size_of::<Entry>();
        let expires =
            self.expires.buckets() * ptr + self.expires.len() * std::mem::size_of::<Expiry>();
        (main, expires)
    }

    /// Values of expired keys kept for a background free (see `lazy_expire`).
    pub fn drain_expired_values(&mut self) -> std::vec::Drain<'_, Entry> {
        self.expired_values.drain(..)
    }

    /// Drops an expired entry here, or keeps it for the caller's lazyfree thread.
    fn release_expired(&mut self, entry: Entry) {
        if self.lazy_expire && entry.value().is_worth_lazy_free() {
            self.expired_values.push(entry);
            self.events = true;
        }
    }

    /// Keys expired since the last call, oldest first.
    pub fn drain_expired(&mut self) -> std::vec::Drain<'_, Box<[u8]>> {
        self.expired.drain(..)
    }

    /// The key's expiry in Unix milliseconds, if it has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).map(|e| e.at_ms)
    }

    fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        matches!(self.expire_at(key), Some(at) if at <= now_ms)
    }

    /// Removes `key` if its time has come, else the fields of its hash whose time has come;
    /// true if the key went.
    /// On a replica the key is not removed: true means it is to be treated as absent
    /// ([`ExpiryMode::Hide`](super::db::ExpiryMode)), and the master's stream sees every key.
    pub fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        match self.expiry {
            super::db::ExpiryMode::Remove => {}
            super::db::ExpiryMode::Hide => return self.is_expired(key, now_ms),
            super::db::ExpiryMode::Keep => return false,
        }
        if !self.hexpires.is_empty() && !self.is_expired(key, now_ms) {
            self.expire_fields_if_needed(key, now_ms, usize::MAX);
            return false;
        }
        if self.expires.is_empty() || !self.is_expired(key, now_ms) {
            return false;
        }
        if let Some(entry) = self.remove(key) {
            self.release_expired(entry);
        }
        self.expired.push(key.into());
        self.events = true;
        self.expired_total += 1;
        true
    }

    /// Looks a key up for reading, expiring it first if its time has come, and updates its
    /// access clock.
    pub fn get(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        self.get_mut(key, now_ms).map(|e| &*e)
    }

    /// The hash under which [`Shard::prefetch`] finds `key`.
    pub fn lookup_hash(&self, key: &[u8]) -> u64 {
        self.main.hash_key(key)
    }

    /// Warms the cache for a coming lookup of the key hashed to `hash` (one stage).
    pub fn prefetch(&self, hash: u64, stage: super::dict::PrefetchStage) {
        self.main.prefetch(hash, stage);
    }

    /// A read lookup as Redis counts it in INFO: touches the key and counts a hit or a miss.
    pub fn lookup_read(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        if self.expire_if_needed(key, now_ms) && self.hides_expired() {
            self.misses += 1;
            return None;
        }
        let access = self.access;
        let Shard {
            main, hits, misses, ..
        } = self;
        match main.get_mut(key) {
            Some(entry) => {
                *hits += 1;
                Self::touch(access, entry, now_ms);
                Some(entry)
            }
            None => {
                *misses += 1;
                None
            }
        }
    }

    /// A counted read lookup that leaves the access clock alone (OBJECT, TYPE-like peeks).
    pub fn lookup_read_notouch(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        if self.expire_if_needed(key, now_ms) && self.hides_expired() {
            self.misses += 1;
            return None;
        }
        let Shard {
            main, hits, misses, ..
        } = self;
        let entry = main.get(key);
        if entry.is_some() {
            *hits += 1;
        } else {
            *misses += 1;
        }
        entry
    }

    fn touch(access: super::access::AccessPolicy, entry: &mut Entry, now_ms: i64) {
        if access.lfu {
            let word = access.accessed(entry.lru(), now_ms, &mut crate::fast_rng::fast_rng());
            entry.touch(word);
        } else {
            entry.touch(lru_clock(now_ms));
        }
    }

    /// How this shard's entries record accesses.
    pub fn access_policy(&self) -> super::access::AccessPolicy {
        self.access
    }

    /// Counts one read lookup's outcome.
    pub fn count_lookup(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
    }

    /// (keyspace hits, keyspace misses) counted in this shard.
    pub fn lookup_stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    pub fn reset_lookup_stats(&mut self) {
        self.hits = 0;
        self.misses = 0;
    }

    /// Looks a key up for writing (expiring it first), updating its access clock.
    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now_ms) && self.hides_expired() {
            return None;
        }
        let access = self.access;
        let entry = self.main.get_mut(key)?;
        Self::touch(access, entry, now_ms);
        Some(entry)
    }

    /// Looks a key up without touching its access clock (OBJECT, TTL-free introspection).
    pub fn peek(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        if self.expire_if_needed(key, now_ms) && self.hides_expired() {
            return None;
        }
        self.main.get(key)
    }

    /// True when a key whose time has come stays stored but looks absent (a replica).
    fn hides_expired(&self) -> bool {
        self.expiry == super::db::ExpiryMode::Hide
    }

    /// Looks a key up as stored: no expiry check, no access-clock update (DEBUG OBJECT and
    /// DEBUG DIGEST-VALUE see logically expired keys, as Redis's do).
    pub fn peek_stored(&self, key: &[u8]) -> Option<&Entry> {
        self.main.get(key)
    }

    /// Bytes `key` holds here (MEMORY USAGE): its entry and value, its place in the table,
    /// and its expiry record if it has one. `None` when the key does not exist.
    pub fn memory_usage(&mut self, key: &[u8], now_ms: i64, samples: usize) -> Option<usize> {
        let entry = self.peek(key, now_ms)?;
        let expiry = if entry.is_volatile() {
            std::mem::size_of::<Expiry>() + key.len() + Dict::<Expiry>::item_overhead()
        } else {
            0
        };
        Some(entry.allocated_bytes(samples) + Dict::<Entry>::item_overhead() + expiry)
    }

    /// True when no key and no hash field here has a time to live: then no lookup in this
    /// shard can expire (or hide) anything, so a write that replaces a key whatever it holds
    /// need not look first.
    pub fn has_no_expiries(&self) -> bool {
        self.expires.is_empty() && self.hexpires.is_empty()
    }

    pub fn contains(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.peek(key, now_ms).is_some()
    }

    /// Stores `entry` with no expiry, replacing any previous value and TTL (SET semantics).
    pub fn insert(&mut self, mut entry: Entry) -> Option<Entry> {
        entry.set_volatile(false);
        self.track_field_ttls(&entry);
        let key: Option<Box<[u8]>> = self.record_created.then(|| entry.key().into());
        let Some(old) = self.main.insert(entry) else {
            self.note_created(key);
            return None;
        };
        if old.is_volatile() {
            self.expires.remove(old.key());
        }
        Some(old)
    }

    /// Stores `entry`, keeping the previous key's expiry if there was one (SET KEEPTTL,
    /// SETRANGE-style overwrites).
    pub fn insert_keep_ttl(&mut self, mut entry: Entry) -> Option<Entry> {
        let had_ttl = self.main.get(entry.key()).is_some_and(Entry::is_volatile);
        entry.set_volatile(had_ttl);
        self.track_field_ttls(&entry);
        let key: Option<Box<[u8]>> = self.record_created.then(|| entry.key().into());
        let old = self.main.insert(entry);
        if old.is_none() {
            self.note_created(key);
        }
        old
    }

    fn note_created(&mut self, key: Option<Box<[u8]>>) {
        if let Some(key) = key {
            self.created.push(key);
            self.events = true;
        }
    }

    /// Whether an event queue may hold something (a cheap check before draining them).
    pub fn may_have_events(&self) -> bool {
        self.events
    }

    /// Clears the event flag once every queue is empty.
    pub fn settle_events(&mut self) {
        self.events = !(self.expired.is_empty()
            && self.created.is_empty()
            && self.fields_expired.is_empty()
            && self.expired_values.is_empty());
    }

    /// Keys created since the last call (while recording was on), oldest first.
    pub fn drain_created(&mut self) -> std::vec::Drain<'_, Box<[u8]>> {
        self.created.drain(..)
    }

    /// Removes a key and its expiry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.main.remove(key)?;
        if !self.hexpires.is_empty() {
            self.hexpires.remove(key);
        }
        if entry.is_volatile() {
            self.expires.remove(key);
        }
        Some(entry)
    }

    /// Sets the expiry of an existing key; false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        let Some(entry) = self.main.get_mut(key) else {
            return false;
        };
        entry.set_volatile(true);
        if let Some(e) = self.expires.get_mut(key) {
            e.at_ms = at_ms;
        } else {
            self.expires.insert(Expiry {
                key: key.into(),
                at_ms,
            });
        }
        true
    }

    /// Removes the expiry of a key; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let Some(entry) = self.main.get_mut(key) else {
            return false;
        };
        if !entry.is_volatile() {
            return false;
        }
        entry.set_volatile(false);
        self.expires.remove(key);
        true
    }

    /// Removes every key, returning the old contents so the caller may free them elsewhere.
    pub fn clear(&mut self) -> Shard {
        let old = std::mem::take(self);
        // Lookup statistics describe the server, not the keys: FLUSHALL keeps them.
        (self.hits, self.misses) = (old.hits, old.misses);
        self.access = old.access;
        self.lazy_expire = old.lazy_expire;
        old
    }

    /// One step of the active expiry cycle: samples up to `max_samples` volatile keys from where
    /// the last step stopped and removes the expired ones.
    pub fn active_expire(&mut self, now_ms: i64, max_samples: usize) -> ExpireCycleStats {
        let mut stats = ExpireCycleStats::default();
        if self.expires.is_empty() {
            return stats;
        }
        let mut due: Vec<Box<[u8]>> = Vec::new();
        // A bucket may hold several keys; stop after the bucket that crosses the budget.
        while stats.sampled < max_samples {
            self.expire_cursor = self.expires.scan(self.expire_cursor, |e| {
                stats.sampled += 1;
                if e.at_ms <= now_ms {
                    due.push(e.key.clone());
                }
            });
            if self.expire_cursor == 0 {
                break;
            }
        }
        for key in due {
            if let Some(entry) = self.remove(&key) {
                self.release_expired(entry);
                stats.expired += 1;
                self.expired_total += 1;
                self.expired.push(key);
                self.events = true;
            }
        }
        stats
    }

    /// Records (or forgets) `entry`'s soonest field expiry as it is stored.
    fn track_field_ttls(&mut self, entry: &Entry) {
        let min = match entry.value() {
            Value::Hash(h) => h.min_field_ttl(),
            _ => None,
        };
        match min {
            Some(at) => self.set_field_expiry(entry.key(), at),
            None => {
                if !self.hexpires.is_empty() {
                    self.hexpires.remove(entry.key());
                }
            }
        }
    }

    fn set_field_expiry(&mut self, key: &[u8], at_ms: i64) {
        if let Some(e) = self.hexpires.get_mut(key) {
            e.at_ms = at_ms;
        } else {
            self.hexpires.insert(Expiry {
                key: key.into(),
                at_ms,
            });
        }
    }

    /// A field of the hash at `key` got the expiry `at_ms` (HEXPIRE and friends): lookups
    /// and the active cycle will expire it in time.
    pub fn note_field_expiry(&mut self, key: &[u8], at_ms: i64) {
        match self.hexpires.get(key) {
            Some(e) if e.at_ms <= at_ms => {}
            _ => self.set_field_expiry(key, at_ms),
        }
    }

    /// Number of hashes with field TTLs (or that had some, not yet looked at since).
    pub fn volatile_hashes(&self) -> usize {
        self.hexpires.len()
    }

    /// True when some hash here has a field with a TTL (a snapshot then needs RDB 12).
    pub fn has_field_ttls(&self) -> bool {
        let mut found = false;
        self.hexpires.for_each(|e| {
            found = found
                || matches!(self.main.get(&e.key).map(Entry::value),
                    Some(Value::Hash(h)) if h.volatile_fields() > 0);
        });
        found
    }

    /// Removes up to `max` fields of the hash at `key` whose time has come, and the key if
    /// that empties it; true when the key went. Records what went for the caller's events.
    fn expire_fields_if_needed(&mut self, key: &[u8], now_ms: i64, max: usize) -> bool {
        match self.hexpires.get(key) {
            Some(e) if e.at_ms <= now_ms => {}
            _ => return false,
        }
        let mut fields = Vec::new();
        let (expired, empty, next) = match self.main.get_mut(key).map(Entry::value_mut) {
            Some(Value::Hash(h)) => {
                let n = h.expire_fields(now_ms, max, &mut fields);
                if n > 0 {
                    h.shrink_to_fit();
                }
                (n, h.is_empty(), h.min_field_ttl())
            }
            _ => (0, false, None),
        };
        match next {
            Some(at) if !empty => self.set_field_expiry(key, at),
            _ => {
                self.hexpires.remove(key);
            }
        }
        if expired == 0 {
            return false;
        }
        self.expired_fields_total += expired as u64;
        if empty {
            self.remove(key);
        }
        self.events = true;
        self.fields_expired.push(FieldsExpired {
            key: key.into(),
            fields,
            emptied: empty,
        });
        empty
    }

    /// Hashes that lost fields to their TTLs since the last call, oldest first.
    pub fn drain_fields_expired(&mut self) -> std::vec::Drain<'_, FieldsExpired> {
        self.fields_expired.drain(..)
    }

    /// Total hash fields expired here (INFO `expired_subkeys`).
    pub fn expired_fields_total(&self) -> u64 {
        self.expired_fields_total
    }

    /// One step of the active expiry of hash fields: visits hashes with field TTLs from where
    /// the last step stopped until `max_samples` were looked at, removing at most
    /// `max_fields` due fields in all.
    pub fn active_expire_fields(
        &mut self,
        now_ms: i64,
        max_samples: usize,
        max_fields: usize,
    ) -> ExpireCycleStats {
        let mut stats = ExpireCycleStats::default();
        if self.hexpires.is_empty() {
            return stats;
        }
        let mut due: Vec<Box<[u8]>> = Vec::new();
        while stats.sampled < max_samples {
            self.hexpire_cursor = self.hexpires.scan(self.hexpire_cursor, |e| {
                stats.sampled += 1;
                if e.at_ms <= now_ms {
                    due.push(e.key.clone());
                }
            });
            if self.hexpire_cursor == 0 {
                break;
            }
        }
        let before = self.expired_fields_total;
        for key in due {
            let left = max_fields.saturating_sub((self.expired_fields_total - before) as usize);
            if left == 0 {
                break;
            }
            self.expire_fields_if_needed(&key, now_ms, left);
        }
        stats.expired = (self.expired_fields_total - before) as usize;
        stats
    }

    /// Calls `f` on every key (expired or not; callers filter with [`Shard::expire_at`]).
    pub fn for_each(&self, f: impl FnMut(&Entry)) {
        self.main.for_each(f);
    }

    /// One SCAN step over this shard's keys.
    pub fn scan(&self, cursor: u64, f: impl FnMut(&Entry)) -> u64 {
        self.main.scan(cursor, f)
    }

    /// A random key (possibly expired: the caller checks).
    pub fn random_key(&self, rng: &mut impl rand::Rng) -> Option<&Entry> {
        self.main.random(rng)
    }

    /// A random key with an expiry and its expiry time (volatile eviction policies).
    pub fn random_volatile(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], i64)> {
        self.expires.random(rng).map(|e| (&e.key[..], e.at_ms))
    }

    /// Housekeeping from the server's cron: shrink sparse tables, rehash for a bounded time.
    pub fn cron(&mut self, rehash_budget: std::time::Duration) {
        self.main.shrink_if_needed();
        self.expires.shrink_if_needed();
        self.hexpires.shrink_if_needed();
        self.main.rehash_for(rehash_budget);
        self.expires.rehash_for(rehash_budget);
    }

    /// Buckets in the main and expires tables (DEBUG HTSTATS-like introspection).
    pub fn table_sizes(&self) -> (usize, usize) {
        (self.main.buckets(), self.expires.buckets())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::string::StrRef;

    #[test]
    fn event_flag_stays_up_until_every_queue_is_drained() {
        let mut s = Shard::default();
        assert!(!s.may_have_events());
        s.record_created = true;
        s.insert(Entry::string(b"k", b"v", 0));
        assert!(s.may_have_events());
        s.settle_events();
        assert!(s.may_have_events(), "created key not drained yet");
        assert_eq!(s.drain_created().count(), 1);
        s.settle_events();
        assert!(!s.may_have_events());
    }

    #[test]
    fn lazy_expiry_removes_and_records_the_key() {
        let mut s = Shard::new();
        s.insert(Entry::string(b"a", b"1", 0));
        assert!(s.set_expire(b"a", 1000));
        assert_eq!(s.expire_at(b"a"), Some(1000));
        assert!(s.get(b"a", 999).is_some());
        assert!(s.get(b"a", 1000).is_none());
        assert_eq!(s.len(), 0);
        assert_eq!(s.volatile_len(), 0);
        assert_eq!(
            s.drain_expired().collect::<Vec<_>>(),
            vec![Box::from(&b"a"[..])]
        );
        assert_eq!(s.expired_total(), 1);
    }

    #[test]
    fn set_replaces_ttl_and_keepttl_keeps_it() {
        let mut s = Shard::new();
        s.insert(Entry::string(b"a", b"1", 0));
        s.set_expire(b"a", 5000);
        s.insert_keep_ttl(Entry::string(b"a", b"2", 0));
        assert_eq!(s.expire_at(b"a"), Some(5000));
        s.insert(Entry::string(b"a", b"3", 0));
        assert_eq!(s.expire_at(b"a"), None);
        assert_eq!(s.volatile_len(), 0);
        assert_eq!(s.get(b"a", 0).unwrap().as_str(), Some(StrRef::Int(3)));
        assert!(!s.persist(b"a"));
        s.set_expire(b"a", 10);
        assert!(s.persist(b"a"));
        assert!(s.get(b"a", 100).is_some());
    }

    #[test]
    fn active_expiry_finds_due_keys() {
        let mut s = Shard::new();
        for i in 0..100 {
            let key = format!("k{i}");
            s.insert(Entry::string(key.as_bytes(), b"v", 0));
            s.set_expire(key.as_bytes(), if i % 2 == 0 { 10 } else { 10_000 });
        }
        let mut expired = 0;
        for _ in 0..20 {
            expired += s.active_expire(100, 20).expired;
        }
        assert_eq!(expired, 50);
        assert_eq!(s.len(), 50);
        assert_eq!(s.volatile_len(), 50);
    }

    fn hash_with_ttl(key: &[u8], at: i64) -> Entry {
        let mut h = crate::value::hash::HashValue::new();
        let limits = crate::value::hash::HashLimits::default();
        h.set(b"a", b"1", limits);
        h.set(b"b", b"2", limits);
        h.set_field_ttl(b"a", at);
        Entry::collection(key, Value::Hash(Box::new(h)), 0)
    }

    #[test]
    fn lookups_expire_due_hash_fields() {
        let mut s = Shard::new();
        s.insert(hash_with_ttl(b"h", 100));
        assert_eq!(s.volatile_hashes(), 1);
        assert!(s.has_field_ttls());
        assert!(s.get(b"h", 99).is_some());
        assert_eq!(s.drain_fields_expired().count(), 0);
        let Some(Value::Hash(h)) = s.get(b"h", 100).map(Entry::value) else {
            panic!()
        };
        assert_eq!(h.len(), 1);
        assert_eq!(
            s.drain_fields_expired().collect::<Vec<_>>(),
            vec![FieldsExpired {
                key: Box::from(&b"h"[..]),
                fields: vec![Box::from(&b"a"[..])],
                emptied: false
            }]
        );
        assert_eq!(s.volatile_hashes(), 0);
        assert_eq!(s.expired_fields_total(), 1);
        // Removing or replacing the key forgets its record.
        s.insert(hash_with_ttl(b"h", 100));
        s.insert(Entry::string(b"h", b"x", 0));
        assert_eq!(s.volatile_hashes(), 0);
        s.insert(hash_with_ttl(b"h", 100));
        s.remove(b"h");
        assert_eq!(s.volatile_hashes(), 0);
    }

    #[test]
    fn active_field_expiry_deletes_emptied_hashes() {
        let mut s = Shard::new();
        for i in 0..10 {
            let key = format!("h{i}");
            s.insert(hash_with_ttl(key.as_bytes(), 10));
            if let Some(Value::Hash(h)) = s.get_mut(key.as_bytes(), 0).map(Entry::value_mut) {
                h.set_field_ttl(b"b", 20);
            }
            s.note_field_expiry(key.as_bytes(), 10);
        }
        let mut expired = 0;
        for _ in 0..10 {
            expired += s.active_expire_fields(15, 20, 1000).expired;
        }
        assert_eq!(expired, 10);
        assert_eq!(s.len(), 10);
        assert_eq!(s.volatile_hashes(), 10);
        for _ in 0..10 {
            expired += s.active_expire_fields(25, 20, 1000).expired;
        }
        assert_eq!(expired, 20);
        assert_eq!(s.len(), 0);
        let drained: Vec<_> = s.drain_fields_expired().collect();
        assert_eq!(drained.len(), 20);
        assert_eq!(drained.iter().filter(|e| e.emptied).count(), 10);
        assert!(drained.iter().all(|e| e.fields.len() == 1));
    }
}
