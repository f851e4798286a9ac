//! maxmemory eviction (Redis's `evict.c`): before a command runs, and from the cron, while used
//! memory is over `maxmemory`, keys chosen by `maxmemory-policy` are deleted. LRU, LFU and TTL
//! policies sample `maxmemory-samples` keys per database into a pool of the 16 best candidates
//! and evict the best; the random policies take a random key. `maxmemory-eviction-tenacity`
//! bounds the time one call may spend; the cron carries on where it stopped.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::config::Config;
use common::keyspace::{AccessPolicy, Gate, Intent, Keyspace, Shard, lru_clock};
use rand::Rng;

use crate::effects::Event;
use crate::pubsub::SelfSink;
use crate::server::{MemoryStats, Server, unix_ms};
use crate::watch::Touch;

/// Candidates kept between calls, as Redis's `EVPOOL_SIZE`.
const POOL_SIZE: usize = 16;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl Policy {
    fn from_name(name: &str) -> Policy {
        match name {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];

    fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    pub(crate) fn is_lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    fn is_random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// What one eviction call achieved (Redis's `EVICT_OK`, `EVICT_RUNNING`, `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Under the limit (now or already).
    Ok,
    /// Out of time with memory still over: the cron goes on; the command may run.
    Running,
    /// Nothing could be evicted: commands that grow memory are refused.
    Fail,
}

/// One candidate of the pool: a higher score is a better victim.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// The pool of candidates, best last, at most [`POOL_SIZE`] long.
#[derive(Debug, Default)]
struct Pool(Vec<Candidate>);

impl Pool {
    fn offer(&mut self, candidate: Candidate) {
        let pool = &mut self.0;
        if pool
            .iter()
            .any(|c| c.db == candidate.db && c.key == candidate.key)
        {
            return;
        }
        let k = pool
            .iter()
            .take_while(|c| c.score < candidate.score)
            .count();
        if pool.len() < POOL_SIZE {
            pool.insert(k, candidate);
        } else if k > 0 {
            // Full: the worst candidate makes room.
            pool.remove(0);
            pool.insert(k - 1, candidate);
        }
    }

    fn take_best(&mut self) -> Option<Candidate> {
        self.0.pop()
    }
}

#[derive(Default)]
struct State {
    pool: Pool,
    next_db: usize,
    /// Since when memory has stayed over the limit (`current_eviction_exceeded_time`).
    exceeded_since: Option<Instant>,
    total_exceeded: Duration,
}

/// The eviction settings and state shared by every thread.
pub(crate) struct Evictor {
    policy: AtomicU8,
    samples: AtomicU64,
    tenacity: AtomicU64,
    state: Mutex<State>,
}

impl Evictor {
    pub(crate) fn new() -> Evictor {
        Evictor {
            policy: AtomicU8::new(Policy::NoEviction as u8),
            samples: AtomicU64::new(5),
            tenacity: AtomicU64::new(10),
            state: Mutex::new(State::default()),
        }
    }

    /// Copies the eviction directives out of `config`; entries follow LFU under LFU policies.
    pub(crate) fn reload(&self, keyspace: &Keyspace, config: &Config) {
        let policy = Policy::from_name(config.get_str("maxmemory-policy").unwrap_or_default());
        self.policy.store(policy as u8, Relaxed);
        let int = |name: &str, default: i64| config.get_int(name).unwrap_or(default);
        self.samples
            .store(int("maxmemory-samples", 5).max(1) as u64, Relaxed);
        self.tenacity.store(
            int("maxmemory-eviction-tenacity", 10).clamp(0, 100) as u64,
            Relaxed,
        );
        keyspace.set_access_policy(AccessPolicy {
            lfu: policy.is_lfu(),
            log_factor: int("lfu-log-factor", 10).clamp(0, i64::from(i32::MAX)) as u32,
            decay_time: int("lfu-decay-time", 1).clamp(0, i64::from(i32::MAX)) as u32,
        });
    }

    pub(crate) fn policy(&self) -> Policy {
        let n = usize::from(self.policy.load(Relaxed));
        Policy::ALL.get(n).copied().unwrap_or(Policy::NoEviction)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// INFO's (`total_eviction_exceeded_time`, `current_eviction_exceeded_time`) in ms.
    pub(crate) fn exceeded_times(&self) -> (u64, u64) {
        let state = self.state();
        let current = state.exceeded_since.map_or(Duration::ZERO, |s| s.elapsed());
        (
            (state.total_exceeded + current).as_millis() as u64,
            current.as_millis() as u64,
        )
    }

    pub(crate) fn reset_stats(&self) {
        self.state().total_exceeded = Duration::ZERO;
    }
}

/// Time one call may evict for, in microseconds (`None`: no limit).
fn time_limit_us(tenacity: u64) -> Option<u64> {
    match tenacity {
        0..=10 => Some(50 * tenacity),
        11..=99 => Some((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64),
        _ => None,
    }
}

/// The shards of each database holding keys the policy may evict, found once per call.
struct Occupied(Vec<Vec<usize>>);

impl Occupied {
    fn scan(keyspace: &Keyspace, gate: &Gate<'_>, allkeys: bool) -> Occupied {
        let shards = keyspace.shards_per_db();
        let dbs = (0..keyspace.databases())
            .map(|db| {
                // A database never made holds nothing (and sampling must not make it).
                let shards = if keyspace.is_made(db) { shards } else { 0 };
                (0..shards)
                    .filter(|&index| {
                        keyspace.with_shard_at(gate, db, index, Intent::Read, |s| {
                            eligible(s, allkeys) > 0
                        })
                    })
                    .collect()
            })
            .collect();
        Occupied(dbs)
    }
}

fn eligible(shard: &Shard, allkeys: bool) -> usize {
    if allkeys {
        shard.len()
    } else {
        shard.volatile_len()
    }
}

/// A random key of shard `index` the policy may evict, with its score.
fn sample(
    shard: &Shard,
    policy: Policy,
    now_ms: i64,
    rng: &mut impl Rng,
) -> Option<(Box<[u8]>, u64)> {
    let (key, expire) = if policy.allkeys() {
        (shard.random_key(rng)?.key(), None)
    } else {
        let (key, at) = shard.random_volatile(rng)?;
        (key, Some(at))
    };
    let score = match policy {
        Policy::VolatileTtl => u64::MAX - expire.unwrap_or(0).max(0) as u64,
        _ if policy.is_random() => 0,
        _ => {
            let entry = shard.peek_stored(key)?;
            if policy.is_lfu() {
                255 - u64::from(shard.access_policy().frequency(entry.lru(), now_ms))
            } else {
                u64::from(lru_clock(now_ms).wrapping_sub(entry.lru()))
            }
        }
    };
    Some((key.into(), score))
}

/// Picks the next victim, or `None` when no key may be evicted.
fn pick<R: Rng>(
    keyspace: &Keyspace,
    gate: &Gate<'_>,
    state: &mut State,
    occupied: &mut Occupied,
    policy: Policy,
    samples: usize,
    rng: &mut R,
) -> Option<(usize, Box<[u8]>)> {
    let now = unix_ms();
    let dbs = occupied.0.len();
    // Draws a random key from a random occupied shard of `db`, forgetting emptied shards.
    let mut draw = |db: usize, rng: &mut R| -> Option<(Box<[u8]>, u64)> {
        let shards = &mut occupied.0[db];
        while !shards.is_empty() {
            let i = rng.random_range(0..shards.len());
            let found = keyspace.with_shard_at(gate, db, shards[i], Intent::Read, |s| {
                sample(s, policy, now, rng)
            });
            if found.is_some() {
                return found;
            }
            shards.swap_remove(i);
        }
        None
    };
    if policy.is_random() {
        for _ in 0..dbs {
            state.next_db = (state.next_db + 1) % dbs;
            let db = state.next_db;
            if let Some((key, _)) = draw(db, rng) {
                return Some((db, key));
            }
        }
        return None;
    }
    loop {
        let mut any = false;
        for db in 0..dbs {
            for _ in 0..samples {
                let Some((key, score)) = draw(db, rng) else {
                    break;
                };
                any = true;
                state.pool.offer(Candidate { score, db, key });
            }
        }
        if !any {
            return None;
        }
        if let Some(best) = state.pool.take_best() {
            return Some((best.db, best.key));
        }
    }
}

/// Bytes this thread has allocated minus bytes it freed (jemalloc's exact per-thread counters).
fn thread_net_allocated() -> Option<i64> {
    use tikv_jemalloc_ctl::thread::{allocatedp, deallocatedp};
    let allocated = allocatedp::read().ok()?.get();
    let freed = deallocatedp::read().ok()?.get();
    Some(allocated as i64 - freed as i64)
}

/// Evicts keys while memory is over `maxmemory`, as Redis's `performEvictions`. The caller
/// holds `gate` (shared or exclusive) and no shard lock; `sink` is the client about to run a
/// command, whose own invalidations and messages precede its reply.
pub(crate) fn perform(
    server: &Server,
    gate: &Gate<'_>,
    sink: Option<&mut SelfSink<'_>>,
) -> Outcome {
    let limit = server.hot.maxmemory.load(Relaxed);
    if limit == 0 {
        return Outcome::Ok;
    }
    let used = || MemoryStats::allocated_now().saturating_sub(not_counted(server));
    perform_with(server, gate, sink, limit, used, true)
}

/// Memory `maxmemory` does not count (Redis's `freeMemoryGetNotCountedMemory`): what the
/// replication buffer holds beyond the backlog size, the replicas' share of it, so that a
/// slow replica's growing buffer does not evict the keys whose writes fill it.
pub(crate) fn not_counted(server: &Server) -> u64 {
    if !server.feed.is_active() {
        return 0;
    }
    let (buffer, backlog_size) = server.feed.buffer_memory();
    buffer.saturating_sub(backlog_size) as u64
}

fn perform_with(
    server: &Server,
    gate: &Gate<'_>,
    sink: Option<&mut SelfSink<'_>>,
    limit: u64,
    used: impl Fn() -> u64,
    thread_counters: bool,
) -> Outcome {
    let evictor = &server.evictor;
    let mut state = evictor.state();
    let started = Instant::now();
    let outcome = evict(
        server,
        gate,
        &mut state,
        sink,
        (limit, &used, thread_counters),
    );
    server.latency_since("eviction-cycle", started);
    match outcome {
        Outcome::Ok => {
            if let Some(since) = state.exceeded_since.take() {
                state.total_exceeded += since.elapsed();
            }
        }
        Outcome::Running | Outcome::Fail => {
            state.exceeded_since.get_or_insert_with(Instant::now);
        }
    }
    outcome
}

fn evict(
    server: &Server,
    gate: &Gate<'_>,
    state: &mut State,
    mut sink: Option<&mut SelfSink<'_>>,
    (limit, used, thread_counters): (u64, &dyn Fn() -> u64, bool),
) -> Outcome {
    let mem = used();
    if mem <= limit {
        return Outcome::Ok;
    }
    let policy = server.evictor.policy();
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let to_free = (mem - limit) as i64;
    let time_limit = time_limit_us(server.evictor.tenacity.load(Relaxed));
    let samples = server.evictor.samples.load(Relaxed).clamp(1, 1 << 16) as usize;
    let started = Instant::now();
    let keyspace = &server.keyspace;
    let mut occupied = Occupied::scan(keyspace, gate, policy.allkeys());
    let mut rng = common::fast_rng::fast_rng();
    let mut freed = 0i64;
    let mut evicted = 0u64;
    while freed < to_free {
        let Some((db, key)) = pick(
            keyspace,
            gate,
            state,
            &mut occupied,
            policy,
            samples,
            &mut rng,
        ) else {
            return Outcome::Fail;
        };
        let before = thread_net_allocated().filter(|_| thread_counters);
        let removed =
            keyspace.with_shard_at(gate, db, keyspace.shard_of(&key), Intent::Write, |s| {
                let present = s
                    .peek_stored(&key)
                    .is_some_and(|e| policy.allkeys() || e.is_volatile());
                let deleting = Instant::now();
                let lazy = server.hot.lazyfree_lazy_eviction.load(Relaxed);
                let removed = match present.then(|| s.remove(&key)).flatten() {
                    Some(entry) if lazy => {
                        server.lazyfree.free_entry(entry);
                        true
                    }
                    Some(entry) => {
                        drop(entry);
                        true
                    }
                    None => false,
                };
                server.latency_since("eviction-del", deleting);
                if removed && server.feed.is_active() {
                    // Under the shard's lock, so the deletion keeps its place among the writes.
                    crate::propagate::deletion(server, db, &key, lazy);
                }
                removed
            });
        if !removed {
            continue;
        }
        match (before, thread_net_allocated()) {
            (Some(b), Some(a)) => freed += b - a,
            _ => freed = (mem as i64) - used() as i64,
        }
        evicted += 1;
        key_evicted(server, db, &key, sink.as_deref_mut());
        if evicted % 16 == 0 {
            // The per-thread count misses frees other threads make for us: look again.
            if used() <= limit {
                return Outcome::Ok;
            }
            if time_limit.is_some_and(|us| started.elapsed().as_micros() as u64 > us) {
                return Outcome::Running;
            }
        }
    }
    Outcome::Ok
}

/// An evicted key: counted, WATCHers and caching clients told, the "evicted" event published.
fn key_evicted(server: &Server, db: usize, key: &[u8], mut sink: Option<&mut SelfSink<'_>>) {
    server.stats.evicted_keys.fetch_add(1, Relaxed);
    server.watches.touch(db, key, Touch::Modified);
    server
        .tracking
        .key_invalidated_now(server, key, sink.as_deref_mut());
    crate::notify::keyspace_event(server, Event::Evicted, "evicted", key, db, sink);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::TestClient;

    fn candidate(score: u64, key: &str) -> Candidate {
        Candidate {
            score,
            db: 0,
            key: key.as_bytes().into(),
        }
    }

    #[test]
    fn pool_keeps_the_best_sixteen_best_last() {
        let mut pool = Pool::default();
        for i in 0..40u64 {
            // Scores in a scrambled order.
            let score = (i * 17) % 40;
            pool.offer(candidate(score, &format!("k{score}")));
        }
        pool.offer(candidate(39, "k39"));
        assert_eq!(pool.0.len(), POOL_SIZE);
        let scores: Vec<u64> = pool.0.iter().map(|c| c.score).collect();
        assert_eq!(scores, (24..40).collect::<Vec<_>>());
        // Worse than everything in a full pool: not taken.
        pool.offer(candidate(1, "low"));
        assert_eq!(pool.0[0].score, 24);
        assert_eq!(pool.take_best().unwrap().key.as_ref(), b"k39");
    }

    #[test]
    fn tenacity_sets_the_time_limit() {
        assert_eq!(time_limit_us(0), Some(0));
        assert_eq!(time_limit_us(10), Some(500));
        assert_eq!(time_limit_us(11), Some(575));
        assert_eq!(time_limit_us(100), None);
    }

    /// Memory as a function of the number of keys, so the test does not depend on what other
    /// tests allocate.
    fn run(c: &TestClient, limit_keys: u64) -> Outcome {
        let server = &c.server;
        let gate = server.keyspace.shared();
        let keys = || {
            let mut n = 0;
            for db in 0..server.keyspace.databases() {
                server
                    .keyspace
                    .for_each_shard(&gate, db, Intent::Read, |s| n += s.len() as u64);
            }
            n
        };
        perform_with(
            server,
            &gate,
            None,
            limit_keys * 1000,
            || keys() * 1000,
            false,
        )
    }

    #[test]
    fn every_policy_evicts_down_to_the_limit() {
        for policy in [
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            // Debug builds are slow: no time limit, so one call reaches the limit.
            let mut c = TestClient::with_config(&[
                ("maxmemory-policy", policy),
                ("maxmemory-eviction-tenacity", "100"),
            ]);
            for i in 0..50 {
                assert_eq!(c.text(&["SET", &format!("k{i}"), "v"]), "+OK\r\n");
                assert_eq!(
                    c.text(&["SETEX", &format!("t{i}"), &format!("{}", 1000 + i), "v"]),
                    "+OK\r\n"
                );
            }
            assert_eq!(run(&c, 60), Outcome::Ok, "{policy}");
            assert_eq!(c.text(&["DBSIZE"]), ":60\r\n", "{policy}");
            if policy.starts_with("volatile") {
                // Only keys with a TTL went, and once they are all gone nothing can be done.
                assert_eq!(c.text(&["EXISTS", "k7"]), ":1\r\n");
                assert_eq!(run(&c, 10), Outcome::Fail, "{policy}");
                assert_eq!(c.text(&["DBSIZE"]), ":50\r\n");
            }
            if policy == "volatile-ttl" {
                assert_eq!(c.text(&["EXISTS", "t0"]), ":0\r\n");
            }
            assert!(c.text(&["INFO", "stats"]).contains("evicted_keys:"));
        }
    }

    #[test]
    fn lru_evicts_idle_keys_first() {
        let mut c = TestClient::with_config(&[
            ("maxmemory-policy", "allkeys-lru"),
            ("maxmemory-samples", "10"),
            ("maxmemory-eviction-tenacity", "100"),
        ]);
        for i in 0..20 {
            c.run(&["SET", &format!("k{i}"), "v"]);
        }
        {
            let gate = c.server.keyspace.shared();
            let now = unix_ms();
            for i in 0..10 {
                let key = format!("k{i}");
                let mut view = c.server.keyspace.lock_keys(&gate, 0, [key.as_bytes()]);
                let entry = view.shard(key.as_bytes()).get_mut(key.as_bytes(), now);
                entry.unwrap().touch(lru_clock(now - 1_000_000));
            }
        }
        assert_eq!(run(&c, 15), Outcome::Ok);
        let recent = (10..20)
            .filter(|i| c.text(&["EXISTS", &format!("k{i}")]) == ":1\r\n")
            .count();
        assert!(recent >= 8, "{recent}");
    }

    #[test]
    fn evictions_notify_and_count() {
        let mut c = TestClient::with_config(&[("maxmemory-policy", "allkeys-random")]);
        c.run(&["SET", "foo", "bar"]);
        crate::notify::test_log::take();
        assert_eq!(run(&c, 0), Outcome::Ok);
        assert_eq!(crate::notify::test_log::take(), vec!["e:evicted:foo"]);
        assert_eq!(c.server.stats.evicted_keys.load(Relaxed), 1);
        let info = c.text(&["INFO", "stats"]);
        assert!(info.contains("evicted_keys:1\r\n"), "{info}");
    }

    #[test]
    fn writes_go_on_under_a_small_maxmemory() {
        // A limit a little above what the process uses now: writes of big values keep
        // succeeding because older keys make room.
        let mut c = TestClient::with_config(&[("maxmemory-policy", "allkeys-random")]);
        let value = "x".repeat(500_000);
        let limit = MemoryStats::allocated_now() + 16_000_000;
        c.server.hot.maxmemory.store(limit, Relaxed);
        for i in 0..100 {
            assert_eq!(c.text(&["SET", &format!("k{i}"), &value]), "+OK\r\n");
        }
        assert!(c.server.stats.evicted_keys.load(Relaxed) > 0);
        c.server.hot.maxmemory.store(0, Relaxed);
    }

    #[test]
    fn volatile_policy_without_volatile_keys_refuses_writes() {
        let mut c = TestClient::with_config(&[("maxmemory-policy", "volatile-lru")]);
        c.run(&["SET", "k", "v"]);
        c.server.hot.maxmemory.store(1, Relaxed);
        assert_eq!(
            c.text(&["SET", "k2", "v"]),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$1\r\nv\r\n");
        c.server.hot.maxmemory.store(0, Relaxed);
    }
}
