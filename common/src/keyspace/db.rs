//! The keyspace: databases split into shards by hash slot, each shard behind its own lock.
//!
//! Locking protocol (DESIGN.md "Execution"):
//! 1. Every access first takes the keyspace *gate*: shared for a single command, exclusive for
//!    MULTI/EXEC, scripts and commands that touch more than their declared keys. An exclusive
//!    holder runs alone, so a transaction is atomic exactly as in Redis.
//! 2. Then the shards of the command's keys are locked in ascending order through a
//!    [`Locked`] view (no deadlock between two multi-key commands). Under the exclusive gate a
//!    view locks shards lazily, in any order, since nobody else holds any.
//!
//! Every shard lock is taken in one place, `Keyspace::lock_at`, which is also where a snapshot
//! in progress captures a shard before anything can change it (see [`super::snapshot`]).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::access::AccessPolicy;
use super::shard::Shard;
use super::snapshot::{SnapshotJob, SnapshotOptions};
use crate::cluster_slot::{SLOTS, key_slot};

/// One database: its shards, indexed by `slot >> shift`, made when the database is first
/// locked. Sixteen databases of 256 shards cost 1.8 MB before a single key: most servers use
/// one or two, and Redis starts at under 1 MB. Passes over every database (the expiry cycle,
/// INFO, eviction sampling, snapshots) skip one that was never made: it holds nothing.
pub struct Db {
    shards: std::sync::OnceLock<DbShards>,
}

struct DbShards {
    locks: Box<[Mutex<Shard>]>,
    /// Per shard: the running snapshot has not captured it yet. Set and cleared only while
    /// holding the shard's lock, and read right after taking it, so a relaxed load suffices;
    /// when no snapshot runs it is the whole cost snapshots add to a lock.
    pending: Box<[AtomicBool]>,
}

impl Db {
    fn new() -> Db {
        Db {
            shards: std::sync::OnceLock::new(),
        }
    }

    /// The shards, made on first use.
    fn shards(&self, count: usize) -> &DbShards {
        self.shards.get_or_init(|| DbShards {
            locks: (0..count).map(|_| Mutex::new(Shard::new())).collect(),
            pending: (0..count).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    /// The shards if the database was ever locked.
    fn made(&self) -> Option<&DbShards> {
        self.shards.get()
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A handler never panics while holding a shard (no unwrap on input); if one ever did, the
    // shard's data is still structurally sound, so keep serving it.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every database of the server.
pub struct Keyspace {
    dbs: Box<[Db]>,
    shard_shift: u32,
    gate: RwLock<()>,
    /// Shards record the keys they create (for keyspace "new" events) while this is set.
    record_created: std::sync::atomic::AtomicBool,
    /// Shards keep big expired values for a background free while this is set.
    lazy_expire: std::sync::atomic::AtomicBool,
    /// The [`AccessPolicy`] entries follow, packed; handed to each shard as it is locked.
    access: std::sync::atomic::AtomicU64,
    /// Set while this server is a replica: keys whose time has come are hidden from readers
    /// but kept until the master's DEL (see [`ExpiryMode`]).
    replica: std::sync::atomic::AtomicBool,
    /// Set while clients are paused: keys whose time has come are hidden from readers but
    /// kept, as Redis expires nothing during a pause.
    expiry_held: std::sync::atomic::AtomicBool,
    /// The snapshot shards marked pending are captured into.
    snapshot: Mutex<Option<Arc<SnapshotJob>>>,
}

/// Whether a view may change the shards it locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Write,
    /// Only reads (a command without the `write` flag, a prefetch): a running snapshot need
    /// not capture the shard first, and lookups hide expired keys rather than remove them.
    Read,
}

/// What a lookup does with a key whose time has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiryMode {
    /// A master: the key is removed (and reported for propagation as a DEL).
    #[default]
    Remove,
    /// A replica's own clients: the key looks absent, but stays until the master deletes it.
    Hide,
    /// A replica applying its master's stream: the key is there until the master says not.
    Keep,
}

thread_local! {
    /// True on a thread while it applies the master's stream (see [`ExpiryMode::Keep`]).
    static APPLYING_MASTER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as applying (or no longer applying) the master's stream.
pub fn set_applying_master(on: bool) {
    APPLYING_MASTER.with(|a| a.set(on));
}

thread_local! {
    /// True on a thread while it replays an AOF: as in Redis, nothing expires while loading
    /// (a key given a past time stays, with that time, until the load is over).
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as replaying (or no longer replaying) an AOF.
pub fn set_loading(on: bool) {
    LOADING.with(|l| l.set(on));
}

/// True while the calling thread replays an AOF.
pub fn loading() -> bool {
    LOADING.with(std::cell::Cell::get)
}

/// Proof that the caller holds the gate, shared or exclusive.
pub enum Gate<'a> {
    Shared(RwLockReadGuard<'a, ()>),
    Exclusive(RwLockWriteGuard<'a, ()>),
}

impl Gate<'_> {
    pub fn is_exclusive(&self) -> bool {
        matches!(self, Gate::Exclusive(_))
    }
}

/// Entries a background snapshot may hold copied but not yet encoded (see
/// [`Keyspace::complete_snapshot`]): about 50 MB of small strings.
pub const SNAPSHOT_COPY_AHEAD: usize = 1 << 19;

/// The position of a SCAN over a whole database: which shard, and the cursor inside it.
/// The shard index sits in the top bits so that cursors stay opaque decimal numbers.
const SCAN_SHARD_SHIFT: u32 = 48;

impl Keyspace {
    /// `shards_per_db` is rounded to a power of two between 1 and 16384.
    pub fn new(databases: usize, shards_per_db: usize) -> Keyspace {
        let shards = shards_per_db.clamp(1, SLOTS).next_power_of_two();
        let shard_shift = (SLOTS / shards).trailing_zeros();
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            shard_shift,
            gate: RwLock::new(()),
            record_created: std::sync::atomic::AtomicBool::new(false),
            lazy_expire: std::sync::atomic::AtomicBool::new(false),
            access: std::sync::atomic::AtomicU64::new(AccessPolicy::default().pack()),
            replica: std::sync::atomic::AtomicBool::new(false),
            expiry_held: std::sync::atomic::AtomicBool::new(false),
            snapshot: Mutex::new(None),
        }
    }

    /// Turns recording of created keys on or off (see [`Locked::drain_created`]).
    pub fn set_record_created(&self, on: bool) {
        self.record_created
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Turns on or off keeping big expired values for a background free
    /// (`lazyfree-lazy-expire`; see [`Shard::drain_expired_values`]).
    pub fn set_lazy_expire(&self, on: bool) {
        self.lazy_expire
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Turns replica expiry on or off (see [`ExpiryMode`]).
    pub fn set_replica(&self, on: bool) {
        self.replica.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Holds or releases expiry (see `expiry_held`).
    pub fn hold_expiry(&self, on: bool) {
        self.expiry_held
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn expiry_held(&self) -> bool {
        self.expiry_held.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How lookups on this thread treat keys whose time has come.
    pub fn expiry_mode(&self) -> ExpiryMode {
        if loading() {
            ExpiryMode::Keep
        } else if !self.replica.load(std::sync::atomic::Ordering::Relaxed) && !self.expiry_held() {
            ExpiryMode::Remove
        } else if APPLYING_MASTER.with(std::cell::Cell::get) {
            ExpiryMode::Keep
        } else {
            ExpiryMode::Hide
        }
    }

    /// Sets how entries record accesses from now on (the maxmemory policy and LFU tuning).
    pub fn set_access_policy(&self, policy: AccessPolicy) {
        self.access
            .store(policy.pack(), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn access_policy(&self) -> AccessPolicy {
        AccessPolicy::unpack(self.access.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Locks shard `index` of `db`, handing it the current access policy and whether to
    /// record the keys it creates. The only way to a shard: a shard a running snapshot has
    /// not captured yet is captured here, before the caller can change it.
    fn lock_at(&self, db: usize, index: usize) -> MutexGuard<'_, Shard> {
        self.lock_with(db, index, Intent::Write)
    }

    /// [`Keyspace::lock_at`], for `intent`: a reader leaves a shard the snapshot still lacks
    /// uncaptured (copying it cost a `GET` up to a millisecond during BGSAVE) and, since it
    /// must not change it, only hides the keys whose time has come instead of removing them.
    fn lock_with(&self, db: usize, index: usize, intent: Intent) -> MutexGuard<'_, Shard> {
        let shards = self.dbs[db].shards(self.shards_per_db());
        let mut guard = lock(&shards.locks[index]);
        let uncaptured = shards.pending[index].load(Relaxed);
        if uncaptured && intent == Intent::Write {
            self.capture(db, index, &guard, true);
        }
        guard.access = self.access_policy();
        guard.expiry = match self.expiry_mode() {
            ExpiryMode::Remove if uncaptured && intent == Intent::Read => ExpiryMode::Hide,
            mode => mode,
        };
        guard.record_created = self
            .record_created
            .load(std::sync::atomic::Ordering::Relaxed);
        guard.lazy_expire = self.lazy_expire.load(std::sync::atomic::Ordering::Relaxed);
        guard
    }

    /// Copies the locked shard into the running snapshot and clears its mark (`for_writer`:
    /// see [`SnapshotJob::capture`]).
    #[cold]
    fn capture(&self, db: usize, index: usize, shard: &Shard, for_writer: bool) {
        if let Some(job) = self.running_snapshot() {
            job.capture(db, index, shard, for_writer);
        }
        self.dbs[db].shards(self.shards_per_db()).pending[index].store(false, Relaxed);
    }

    fn running_snapshot(&self) -> Option<Arc<SnapshotJob>> {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a snapshot has started and is neither complete nor cancelled.
    pub fn snapshot_running(&self) -> bool {
        self.running_snapshot().is_some()
    }

    /// Forgets `job` as the running snapshot (it is complete or cancelled).
    fn end_snapshot(&self, job: &SnapshotJob) {
        let mut running = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        if running
            .as_ref()
            .is_some_and(|r| std::ptr::eq(Arc::as_ptr(r), job))
        {
            *running = None;
        }
    }

    /// Completes `job` in the background: locks every shard in turn (one at a time, so without
    /// the gate), which captures those nobody touched yet, and encodes each off its lock.
    /// Copying runs up to [`SNAPSHOT_COPY_AHEAD`] entries ahead of encoding: while shards are
    /// pending, clients that touch them pay their copy, so the sooner none is, the better.
    /// After each shard, `keep_going` hears how many entries it held (a slowed-down save
    /// sleeps there: `rdb-key-save-delay`). Returns false, leaving the job cancelled, as soon
    /// as `keep_going` says so; true when every shard is captured.
    pub fn complete_snapshot(
        &self,
        job: &SnapshotJob,
        mut keep_going: impl FnMut(usize) -> bool,
    ) -> bool {
        let shards = self.shards_per_db();
        let slots = self.dbs.len().min(job.databases()) * shards;
        let at = |slot: usize| (slot / shards, slot % shards);
        let (mut encoded, mut ahead, mut passed) = (0, 0usize, 0usize);
        for slot in 0..slots {
            if job.is_cancelled() || !keep_going(passed) {
                job.cancel();
                self.end_snapshot(job);
                return false;
            }
            let (db, index) = at(slot);
            // A database never made was empty when the snapshot began (one made since
            // started uncaptured-free: its shards were never marked).
            if let Some(made) = self.dbs[db].made() {
                let guard = lock(&made.locks[index]);
                if made.pending[index].load(Relaxed) {
                    self.capture(db, index, &guard, false);
                }
            }
            passed = job.copied_len(db, index);
            job.note_visited(passed);
            ahead += passed;
            while ahead > SNAPSHOT_COPY_AHEAD && encoded <= slot {
                let (db, index) = at(encoded);
                ahead = ahead.saturating_sub(job.encode_copies(db, index));
                encoded += 1;
            }
        }
        self.end_snapshot(job);
        for slot in encoded..slots {
            if !keep_going(0) {
                job.cancel();
                return false;
            }
            let (db, index) = at(slot);
            job.encode_copies(db, index);
        }
        true
    }

    /// Runs `f` on shard `index` of `db`, locked for `intent` and for the call only. The
    /// caller holds the gate and no other shard lock (the eviction cycle samples shards this
    /// way).
    pub fn with_shard_at<R>(
        &self,
        _gate: &Gate<'_>,
        db: usize,
        index: usize,
        intent: Intent,
        f: impl FnOnce(&mut Shard) -> R,
    ) -> R {
        f(&mut self.lock_with(db, index, intent))
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Whether database `db` was ever locked (one that was not holds no key).
    pub fn is_made(&self, db: usize) -> bool {
        self.dbs[db].made().is_some()
    }

    pub fn shards_per_db(&self) -> usize {
        SLOTS >> self.shard_shift
    }

    /// The shard holding `key`.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        usize::from(key_slot(key)) >> self.shard_shift
    }

    pub fn shared(&self) -> Gate<'_> {
        Gate::Shared(self.gate.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn exclusive(&self) -> Gate<'_> {
        Gate::Exclusive(self.gate.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// The shared gate if no one holds it exclusively right now.
    pub fn try_shared(&self) -> Option<Gate<'_>> {
        match self.gate.try_read() {
            Ok(guard) => Some(Gate::Shared(guard)),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(Gate::Shared(p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The exclusive gate if no one holds the gate right now.
    pub fn try_exclusive(&self) -> Option<Gate<'_>> {
        match self.gate.try_write() {
            Ok(guard) => Some(Gate::Exclusive(guard)),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(Gate::Exclusive(p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// A view of database `db` with the shards of `keys` locked, in ascending order.
    pub fn lock_keys<'a, 'k>(
        &'a self,
        gate: &Gate<'a>,
        db: usize,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> Locked<'a> {
        self.lock_keys_for(gate, db, keys, Intent::Write)
    }

    /// [`Keyspace::lock_keys`] for `intent` (a command that only reads: [`Intent::Read`]).
    pub fn lock_keys_for<'a, 'k>(
        &'a self,
        gate: &Gate<'a>,
        db: usize,
        keys: impl IntoIterator<Item = &'k [u8]>,
        intent: Intent,
    ) -> Locked<'a> {
        self.lock_shards(gate, db, keys.into_iter().map(|k| self.shard_of(k)), intent)
    }

    /// [`Keyspace::lock_keys_for`] of one key: no list of shards to sort.
    pub fn lock_key<'a>(
        &'a self,
        gate: &Gate<'a>,
        db: usize,
        key: &[u8],
        intent: Intent,
    ) -> Locked<'a> {
        let index = self.shard_of(key);
        let mut view = self.view_under(gate, db);
        view.guards
            .push(db, index, self.lock_with(db, index, intent));
        view
    }

    /// [`Keyspace::lock_keys`] for `intent` that also warms the cache for the keys' lookups
    /// (see `Locked::prefetch_placed`), finding each key's shard once for both: a key's slot is
    /// a CRC16 of it, and a 10-key MSET computed it five times per key.
    pub fn lock_keys_warm<'a>(
        &'a self,
        gate: &Gate<'a>,
        db: usize,
        keys: &[&[u8]],
        intent: Intent,
    ) -> Locked<'a> {
        let placed: smallvec::SmallVec<[(usize, &[u8]); 16]> =
            keys.iter().map(|k| (self.shard_of(k), *k)).collect();
        let mut view = self.lock_shards(gate, db, placed.iter().map(|p| p.0), intent);
        view.prefetch_placed(&placed);
        view
    }

    fn lock_shards<'a>(
        &'a self,
        gate: &Gate<'a>,
        db: usize,
        indices: impl IntoIterator<Item = usize>,
        intent: Intent,
    ) -> Locked<'a> {
        // Sixteen inline: an MSET of ten keys spilled eight to the heap on every call.
        let mut indices: smallvec::SmallVec<[usize; 16]> = indices.into_iter().collect();
        indices.sort_unstable();
        indices.dedup();
        let mut view = self.view_under(gate, db);
        // Room for them all at once: growing the list shard by shard reallocated twice per
        // MSET of ten keys.
        view.guards
            .spill
            .reserve(indices.len().saturating_sub(view.guards.inline.len()));
        for index in indices {
            view.guards
                .push(db, index, self.lock_with(db, index, intent));
        }
        view
    }

    /// A view that locks shards as it touches them; only sound under the exclusive gate.
    pub fn lock_lazily<'a>(&'a self, gate: &Gate<'a>, db: usize) -> Locked<'a> {
        self.view_under(gate, db)
    }

    /// A view holding no shard yet, under `gate`: under the exclusive one it may lock shards
    /// as it touches them.
    fn view_under<'a>(&'a self, gate: &Gate<'a>, db: usize) -> Locked<'a> {
        Locked {
            keyspace: self,
            db,
            guards: Guards::new(),
            lazy: gate.is_exclusive(),
        }
    }

    /// A view holding no lock, for the few commands that run while a script holds the
    /// exclusive gate (SCRIPT KILL, FUNCTION STATS): they touch no key. Should one touch a
    /// key, its shard is locked on the spot.
    pub fn view_without_gate(&self, db: usize) -> Locked<'_> {
        Locked {
            keyspace: self,
            db,
            guards: Guards::new(),
            lazy: false,
        }
    }

    /// Runs `f` on each shard of `db` in turn, locking one at a time for `intent` (background
    /// jobs such as the cron; the caller holds the shared gate). [`Intent::Read`] also suits
    /// a pass that changes a table's layout but none of its entries (rehashing, shrinking):
    /// a running snapshot copies entries, not buckets, so such a pass need not make it
    /// capture the shard first.
    pub fn for_each_shard(
        &self,
        _gate: &Gate<'_>,
        db: usize,
        intent: Intent,
        mut f: impl FnMut(&mut Shard),
    ) {
        if !self.is_made(db) {
            return;
        }
        for index in 0..self.shards_per_db() {
            f(&mut self.lock_with(db, index, intent));
        }
    }
}

/// One held shard lock: (database, shard index, guard).
type Held<'a> = (usize, usize, MutexGuard<'a, Shard>);

/// The shard locks a view holds: two inline (most commands touch one or two shards), the rest
/// spilled. Not a SmallVec: a view must stay covariant in its lifetime so that EXEC can hand
/// short-lived views to the commands it runs, and SmallVec's associated-type storage is not.
struct Guards<'a> {
    inline: [Option<Held<'a>>; 2],
    spill: Vec<Held<'a>>,
}

impl<'a> Guards<'a> {
    fn new() -> Self {
        Guards {
            inline: [None, None],
            spill: Vec::new(),
        }
    }

    fn find(&self, db: usize, index: usize) -> Option<usize> {
        let held = |(d, i, _): &Held<'a>| *d == db && *i == index;
        if let Some(pos) = self
            .inline
            .iter()
            .position(|slot| slot.as_ref().is_some_and(held))
        {
            return Some(pos);
        }
        self.spill.iter().position(held).map(|pos| pos + 2)
    }

    fn push(&mut self, db: usize, index: usize, guard: MutexGuard<'a, Shard>) -> usize {
        for (pos, slot) in self.inline.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = Some((db, index, guard));
                return pos;
            }
        }
        self.spill.push((db, index, guard));
        self.spill.len() + 1
    }

    fn shard_mut(&mut self, pos: usize) -> &mut Shard {
        let held = match pos {
            0 | 1 => self.inline[pos].as_mut(),
            _ => self.spill.get_mut(pos - 2),
        };
        &mut held.expect("positions come from find or push").2
    }

    fn held(&self) -> impl Iterator<Item = &Held<'a>> {
        self.inline.iter().flatten().chain(self.spill.iter())
    }

    fn held_mut(&mut self) -> impl Iterator<Item = &mut Held<'a>> {
        self.inline
            .iter_mut()
            .flatten()
            .chain(self.spill.iter_mut())
    }

    /// The held shards whose event queues may hold something.
    fn with_events(&mut self) -> impl Iterator<Item = &mut Held<'a>> {
        self.held_mut()
            .filter(|(_, _, shard)| shard.may_have_events())
    }

    /// Swaps the contents of the shards at two positions (SWAPDB).
    fn swap_contents(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let mut taken = std::mem::take(self.shard_mut(a));
        std::mem::swap(self.shard_mut(b), &mut taken);
        *self.shard_mut(a) = taken;
    }
}

/// The shards a command may touch, locked. Handlers reach keys only through this view.
pub struct Locked<'a> {
    keyspace: &'a Keyspace,
    db: usize,
    guards: Guards<'a>,
    lazy: bool,
}

impl<'a> Locked<'a> {
    /// The selected database.
    pub fn db(&self) -> usize {
        self.db
    }

    /// Switches the database later calls of [`Locked::shard`] use (SELECT inside MULTI).
    pub fn select(&mut self, db: usize) {
        self.db = db;
    }

    /// Another lazily-locking view of database `db`, for the commands of a transaction run
    /// under the exclusive gate this view was made under. `None` outside the exclusive gate.
    pub fn sibling(&self, db: usize) -> Option<Locked<'a>> {
        self.lazy.then(|| Locked {
            keyspace: self.keyspace,
            db,
            guards: Guards::new(),
            lazy: true,
        })
    }

    pub fn keyspace(&self) -> &'a Keyspace {
        self.keyspace
    }

    fn position(&mut self, db: usize, index: usize) -> usize {
        if let Some(pos) = self.guards.find(db, index) {
            return pos;
        }
        // Outside the exclusive gate every shard was locked up front from the command's key
        // specs; reaching here means a command touched an undeclared key. Locking it now is
        // still correct as long as no other thread holds it while waiting for ours, which the
        // ascending order of up-front locks makes rare; debug builds flag it.
        debug_assert!(
            self.lazy,
            "shard {index} of db {db} touched without being declared"
        );
        self.guards
            .push(db, index, self.keyspace.lock_at(db, index))
    }

    /// True when a held shard may have queued events (expired keys or fields, created keys):
    /// without any, there is nothing to drain.
    pub fn may_have_events(&self) -> bool {
        self.guards
            .held()
            .any(|(_, _, shard)| shard.may_have_events())
    }

    /// Hands `f` (database, key) for every key the held shards expired since they were last
    /// drained (lazy expiry during this command), oldest first.
    pub fn drain_expired(&mut self, mut f: impl FnMut(usize, Box<[u8]>)) {
        for (db, _, shard) in self.guards.with_events() {
            for key in shard.drain_expired() {
                f(*db, key);
            }
        }
    }

    /// Hands `f` the values of expired keys the held shards kept for a background free.
    pub fn drain_expired_values(&mut self, mut f: impl FnMut(super::entry::Entry)) {
        for (_, _, shard) in self.guards.with_events() {
            for entry in shard.drain_expired_values() {
                f(entry);
            }
        }
    }

    /// Hands `f` (database, what went) for every hash the held shards expired fields of since
    /// they were last drained, oldest first.
    pub fn drain_fields_expired(&mut self, mut f: impl FnMut(usize, super::FieldsExpired)) {
        for (db, _, shard) in self.guards.with_events() {
            for expired in shard.drain_fields_expired() {
                f(*db, expired);
            }
        }
    }

    /// Hands `f` (database, key) for every key the held shards created since they were last
    /// drained, oldest first.
    pub fn drain_created(&mut self, mut f: impl FnMut(usize, Box<[u8]>)) {
        for (db, _, shard) in self.guards.with_events() {
            for key in shard.drain_created() {
                f(*db, key);
            }
        }
    }

    /// Clears the event flags of held shards whose queues were all drained.
    pub fn settle_events(&mut self) {
        for (_, _, shard) in self.guards.with_events() {
            shard.settle_events();
        }
    }

    /// Warms the cache for lookups of `placed` keys (with their shard indices) in the
    /// selected database, whose shards this view holds: each stage of the lookup runs over
    /// every key before the next, so their cache misses overlap (a multi-key command would
    /// otherwise wait for them one by one).
    fn prefetch_placed(&mut self, placed: &[(usize, &[u8])]) {
        use super::dict::PrefetchStage;
        let db = self.db;
        let mut targets: smallvec::SmallVec<[(usize, u64); 16]> = smallvec::SmallVec::new();
        for &(index, key) in placed {
            if let Some(pos) = self.guards.find(db, index) {
                let hash = self.guards.shard_mut(pos).lookup_hash(key);
                targets.push((pos, hash));
            }
        }
        for stage in PrefetchStage::ALL {
            for &(pos, hash) in &targets {
                self.guards.shard_mut(pos).prefetch(hash, stage);
            }
        }
    }

    /// The shard of `key` in the selected database.
    pub fn shard(&mut self, key: &[u8]) -> &mut Shard {
        let db = self.db;
        self.shard_in(db, key)
    }

    /// The shard of `key` in database `db` (MOVE, COPY ... DB).
    pub fn shard_in(&mut self, db: usize, key: &[u8]) -> &mut Shard {
        let index = self.keyspace.shard_of(key);
        let pos = self.position(db, index);
        self.guards.shard_mut(pos)
    }

    /// Runs `f` on every shard of database `db`, in ascending order. Shards this view already
    /// holds are reused; others are locked for the call only (or kept, under the exclusive gate).
    pub fn for_each_shard(&mut self, db: usize, mut f: impl FnMut(&mut Shard)) {
        if !self.keyspace.is_made(db) {
            return;
        }
        let shards = self.keyspace.shards_per_db();
        for index in 0..shards {
            if let Some(pos) = self.guards.find(db, index) {
                f(self.guards.shard_mut(pos));
            } else if self.lazy {
                let pos = self.position(db, index);
                f(self.guards.shard_mut(pos));
            } else {
                f(&mut self.keyspace.lock_at(db, index));
            }
        }
    }

    /// Runs `f` on every shard of database `db`, in ascending order, to read: shards this
    /// view holds are reused, others are locked for reading ([`Intent::Read`]) for the call
    /// only, so that a running snapshot need not capture them first (INFO and DBSIZE pass
    /// over every shard).
    pub fn for_each_shard_read(&mut self, db: usize, mut f: impl FnMut(&Shard)) {
        if !self.keyspace.is_made(db) {
            return;
        }
        for index in 0..self.keyspace.shards_per_db() {
            match self.guards.find(db, index) {
                Some(pos) => f(self.guards.shard_mut(pos)),
                None => f(&self.keyspace.lock_with(db, index, Intent::Read)),
            }
        }
    }

    /// Number of keys in database `db` (expired keys not yet removed included, as Redis counts).
    pub fn dbsize(&mut self, db: usize) -> usize {
        let mut n = 0;
        self.for_each_shard_read(db, |s| n += s.len());
        n
    }

    /// One SCAN step over database `db`: calls `f` on the keys of at least one bucket and
    /// returns the next cursor, 0 when done. `f` returns how many keys it accepted; the step
    /// ends once `count` keys were accepted or the shard's scan is over.
    pub fn scan(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(&mut Shard, &[u8]) -> bool,
    ) -> u64 {
        let shards = self.keyspace.shards_per_db() as u64;
        let mut shard = cursor >> SCAN_SHARD_SHIFT;
        let mut inner = cursor & ((1 << SCAN_SHARD_SHIFT) - 1);
        if shard >= shards || !self.keyspace.is_made(db) {
            return 0;
        }
        let mut accepted = 0;
        let mut visits = 0usize;
        let mut keys: Vec<Box<[u8]>> = Vec::new();
        loop {
            let index = shard as usize;
            let pos = if let Some(pos) = self.guards.find(db, index) {
                Some(pos)
            } else if self.lazy {
                Some(self.position(db, index))
            } else {
                None
            };
            let mut temp;
            let s: &mut Shard = match pos {
                Some(pos) => self.guards.shard_mut(pos),
                None => {
                    temp = self.keyspace.lock_at(db, index);
                    &mut temp
                }
            };
            if s.is_empty() {
                // An empty shard costs no bucket visit: small databases answer in one call.
                shard += 1;
                inner = 0;
                if shard >= shards {
                    return 0;
                }
                continue;
            }
            keys.clear();
            inner = s.scan(inner, |e| keys.push(e.key().into()));
            for key in &keys {
                if f(s, key) {
                    accepted += 1;
                }
            }
            visits += 1;
            if inner == 0 {
                shard += 1;
                if shard >= shards {
                    return 0;
                }
            }
            // Redis bounds one call by count*10 bucket visits so a sparse table answers fast.
            if accepted >= count || visits >= count.saturating_mul(10).max(10) {
                return (shard << SCAN_SHARD_SHIFT) | inner;
            }
        }
    }

    /// Runs `f` on shard `index` of database `db`: a shard this view holds is reused; others
    /// are locked for the call only (or kept, under the exclusive gate).
    pub fn with_shard<R>(&mut self, db: usize, index: usize, f: impl FnOnce(&mut Shard) -> R) -> R {
        if let Some(pos) = self.guards.find(db, index) {
            f(self.guards.shard_mut(pos))
        } else if self.lazy {
            let pos = self.position(db, index);
            f(self.guards.shard_mut(pos))
        } else {
            f(&mut self.keyspace.lock_at(db, index))
        }
    }

    /// A random key of database `db` whose time has not come (RANDOMKEY), or `None` when the
    /// database is empty. A shard is picked in proportion to its size, so every key is equally
    /// likely; expired keys drawn on the way are removed, as Redis's lookup would.
    pub fn random_key(
        &mut self,
        db: usize,
        now_ms: i64,
        rng: &mut impl rand::Rng,
    ) -> Option<Box<[u8]>> {
        if !self.keyspace.is_made(db) {
            return None;
        }
        let shards = self.keyspace.shards_per_db();
        let mut sizes = vec![0usize; shards];
        // Another client may empty the picked shard between reading the sizes and locking it;
        // bound those retries so a busy server cannot keep this command spinning.
        for _ in 0..64 {
            let mut total = 0usize;
            for (index, size) in sizes.iter_mut().enumerate() {
                *size = self.with_shard(db, index, |s| s.len());
                total += *size;
            }
            if total == 0 {
                return None;
            }
            let mut pick = rng.random_range(0..total);
            let index = sizes.iter().position(|&n| {
                if pick < n {
                    true
                } else {
                    pick -= n;
                    false
                }
            })?;
            let found = self.with_shard(db, index, |s| {
                // Every expired draw removes a key, so this ends.
                loop {
                    let key: Box<[u8]> = s.random_key(rng)?.key().into();
                    if !s.expire_if_needed(&key, now_ms) {
                        return Some(key);
                    }
                }
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Starts a point-in-time snapshot of every database; requires the exclusive gate, and
    /// costs one lock per shard. A snapshot still running is completed first (only one runs
    /// at a time). Shards this view holds are captured now, since its command may go on
    /// changing them; the rest are marked pending. Finish with
    /// [`Keyspace::complete_snapshot`] (in the background) or [`Locked::complete_snapshot`].
    pub fn begin_snapshot(&mut self, options: SnapshotOptions) -> Arc<SnapshotJob> {
        debug_assert!(self.lazy, "a snapshot starts under the exclusive gate");
        let keyspace = self.keyspace;
        let shards = keyspace.shards_per_db();
        let databases = keyspace.databases();
        // Counting locks every shard, which also captures whatever a previous snapshot still
        // lacks (shards this view holds never are pending: locking captured them).
        let mut counts = vec![(0usize, 0usize); databases];
        let mut field_ttls = false;
        for (db, count) in counts.iter_mut().enumerate() {
            if !keyspace.is_made(db) {
                continue;
            }
            for index in 0..shards {
                self.with_shard_unkept(db, index, |s| {
                    count.0 += s.len();
                    count.1 += s.volatile_len();
                    field_ttls = field_ttls || s.has_field_ttls();
                });
            }
        }
        let job = Arc::new(SnapshotJob::new(
            options,
            shards,
            counts.into_boxed_slice(),
            field_ttls,
        ));
        *keyspace
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&job));
        for db in 0..databases {
            // Never made: nothing to capture. If made while the snapshot runs, its shards
            // start unmarked, and what is written there is after the snapshot's instant.
            let Some(made) = keyspace.dbs[db].made() else {
                continue;
            };
            for index in 0..shards {
                if let Some(pos) = self.guards.find(db, index) {
                    job.capture(db, index, self.guards.shard_mut(pos), false);
                } else {
                    let _guard = lock(&made.locks[index]);
                    made.pending[index].store(true, Relaxed);
                }
            }
        }
        job
    }

    /// Completes `job` in the foreground (SAVE), through this view: every shard not captured
    /// yet is captured now.
    pub fn complete_snapshot(&mut self, job: &SnapshotJob) {
        for db in 0..self.keyspace.databases().min(job.databases()) {
            if !self.keyspace.is_made(db) {
                continue;
            }
            for index in 0..self.keyspace.shards_per_db() {
                self.with_shard_unkept(db, index, |_| ());
                job.encode_copies(db, index);
            }
        }
        self.keyspace.end_snapshot(job);
    }

    /// Runs `f` on shard `index` of `db`: reused when this view holds it, else locked for the
    /// call only, even under the exclusive gate (a whole-keyspace pass need not keep them).
    fn with_shard_unkept(&mut self, db: usize, index: usize, f: impl FnOnce(&Shard)) {
        match self.guards.find(db, index) {
            Some(pos) => f(self.guards.shard_mut(pos)),
            None => f(&self.keyspace.lock_at(db, index)),
        }
    }

    /// Swaps the contents of two databases (SWAPDB); requires the exclusive gate.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        for index in 0..self.keyspace.shards_per_db() {
            let pa = self.position(a, index);
            let pb = self.position(b, index);
            self.guards.swap_contents(pa, pb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::entry::Entry;
    use std::collections::HashSet;

    #[test]
    fn a_warmed_view_holds_every_key_s_shard() {
        let ks = Keyspace::new(1, 16);
        let gate = ks.shared();
        let keys: Vec<Vec<u8>> = (0..40).map(|i| format!("k{i}").into_bytes()).collect();
        let named: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let mut view = ks.lock_keys_warm(&gate, 0, &named, Intent::Write);
        for key in &named {
            view.shard(key).insert(Entry::string(key, b"v", 0));
        }
        drop(view);
        let mut view = ks.lock_keys_warm(&gate, 0, &named, Intent::Read);
        for key in &named {
            assert!(view.shard(key).get(key, 0).is_some());
        }
    }

    #[test]
    fn keys_land_in_their_slot_range_shard() {
        let ks = Keyspace::new(16, 16);
        assert_eq!(ks.shards_per_db(), 16);
        assert_eq!(ks.shard_of(b"foo"), 12182 >> 10);
        assert_eq!(ks.shard_of(b"{foo}bar"), ks.shard_of(b"foo"));
    }

    #[test]
    fn scan_visits_every_key_across_shards() {
        let ks = Keyspace::new(2, 8);
        let gate = ks.shared();
        for i in 0..1000 {
            let key = format!("key:{i}");
            let mut view = ks.lock_keys(&gate, 0, [key.as_bytes()]);
            view.shard(key.as_bytes())
                .insert(Entry::string(key.as_bytes(), b"v", 0));
        }
        let mut view = ks.lock_keys(&gate, 0, std::iter::empty());
        assert_eq!(view.dbsize(0), 1000);
        assert_eq!(view.dbsize(1), 0);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = view.scan(0, cursor, 10, |_, k| seen.insert(k.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn random_key_skips_and_removes_expired_keys() {
        let ks = Keyspace::new(1, 4);
        let gate = ks.shared();
        let mut rng = rand::rng();
        for i in 0..20 {
            let key = format!("gone:{i}");
            let mut view = ks.lock_keys(&gate, 0, [key.as_bytes()]);
            let s = view.shard(key.as_bytes());
            s.insert(Entry::string(key.as_bytes(), b"v", 0));
            s.set_expire(key.as_bytes(), 50);
        }
        let mut view = ks.lock_keys(&gate, 0, std::iter::empty());
        assert!(view.random_key(0, 10, &mut rng).is_some());
        assert_eq!(view.random_key(0, 100, &mut rng), None);
        assert_eq!(view.dbsize(0), 0);
    }

    #[test]
    fn swapdb_under_the_exclusive_gate() {
        let ks = Keyspace::new(2, 4);
        let gate = ks.exclusive();
        let mut view = ks.lock_lazily(&gate, 0);
        view.shard(b"a").insert(Entry::string(b"a", b"1", 0));
        view.swap_dbs(0, 1);
        assert_eq!(view.dbsize(0), 0);
        assert_eq!(view.dbsize(1), 1);
        assert!(view.shard_in(1, b"a").get(b"a", 0).is_some());
    }
}
