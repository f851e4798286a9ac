//! The server cron: the active expiry cycle (`hz`, `active-expire-effort`), incremental
//! rehashing of the keyspace tables (`activerehashing`), and client-side caching upkeep.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::keyspace::Intent;

use crate::server::{Server, unix_ms};

/// Tuning derived from `active-expire-effort` (1..=10), as Redis derives it.
struct Effort {
    keys_per_loop: usize,
    /// Stop sampling a shard once at most this percentage of sampled keys had expired.
    acceptable_stale_percent: usize,
    /// Share of one cron period the cycle may use.
    cpu_percent: u32,
}

impl Effort {
    fn new(effort: u64) -> Effort {
        let e = effort.clamp(1, 10) as usize - 1;
        Effort {
            keys_per_loop: 20 + 20 / 4 * e,
            acceptable_stale_percent: 10 - e,
            cpu_percent: 25 + 2 * e as u32,
        }
    }
}

/// Hash fields one shard's step may expire (Redis 7.4's `hashTypeDbActiveExpire` quota).
const FIELDS_PER_CYCLE: usize = 1000;

/// Runs the cron until shutdown.
pub(crate) async fn run_cron(server: Arc<Server>) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let hz = server.hot.hz.load(Relaxed).max(1);
        let period = Duration::from_micros(1_000_000 / hz);
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
        let server = server.clone();
        // The cycle takes shard locks and may run for milliseconds: keep it off the
        // tokio workers' cooperative budget.
        let _ = tokio::task::spawn_blocking(move || cron_step(&server, period)).await;
    }
}

fn cron_step(server: &Server, period: Duration) {
    if server.cron_paused.load(Relaxed) {
        return;
    }
    server.cron_stats();
    crate::persistence::rdb::cron(server);
    // A replica waits for its master's DEL (Redis runs only expireSlaveKeys there).
    // Nor does anything expire while clients are paused.
    let paused = server.clients_paused().is_some();
    if server.active_expire_enabled.load(Relaxed) && !server.replica.is_replica() && !paused {
        active_expire_cycle(server, period);
    }
    // Redis's eviction timer: carries on evicting after a command ran out of time, or after
    // CONFIG SET lowered maxmemory.
    if server.hot.maxmemory.load(Relaxed) > 0 && !paused && !server.scripting.busy.is_active() {
        let gate = server.keyspace.shared();
        crate::evict::perform(server, &gate, None);
    }
    let rehash = server.config().get_bool("activerehashing").unwrap_or(true);
    let keyspace = &server.keyspace;
    let gate = keyspace.shared();
    for db in 0..keyspace.databases() {
        // Draining queues and rehashing change no entry (see `Keyspace::for_each_shard`).
        keyspace.for_each_shard(&gate, db, Intent::Read, |shard| {
            report_expired(server, db, shard);
            report_fields_expired(server, db, shard);
            // Commands report created keys themselves; drop what a config change left behind.
            shard.drain_created();
            if rehash {
                shard.cron(Duration::from_micros(100));
            }
        });
    }
    drop(gate);
    server.tracking.cron(server);
    crate::replication::master::cron(server);
    server.aof.cron(server);
}

/// Counts and announces the keys `shard` expired since the last report, and propagates their
/// DELs while the shard is still locked: a later write to the same key must follow the DEL
/// in the stream.
fn report_expired(server: &Server, db: usize, shard: &mut common::keyspace::Shard) {
    for entry in shard.drain_expired_values() {
        server.lazyfree.free_entry(entry);
    }
    if server.feed.is_active() {
        let keys: Vec<Box<[u8]>> = shard.drain_expired().collect();
        for key in &keys {
            crate::propagate::expired(server, db, key);
        }
        crate::notify::keys_expired(server, db, keys.into_iter());
    } else {
        crate::notify::keys_expired(server, db, shard.drain_expired());
    }
}

/// Announces the hash fields `shard` expired since the last report, and propagates their
/// HDELs while the shard is still locked (as [`report_expired`] does for keys).
fn report_fields_expired(server: &Server, db: usize, shard: &mut common::keyspace::Shard) {
    let propagating = server.feed.is_active();
    for expired in shard.drain_fields_expired() {
        if propagating {
            crate::propagate::fields_expired(server, db, &expired.key, &expired.fields);
        }
        crate::notify::hash_fields_expired(server, db, &expired.key, expired.emptied, None);
    }
}

fn active_expire_cycle(server: &Server, period: Duration) {
    let effort = Effort::new(server.hot.active_expire_effort.load(Relaxed));
    let budget = period * effort.cpu_percent / 100;
    let started = Instant::now();
    let keyspace = &server.keyspace;
    let gate = keyspace.shared();
    let mut sampled_total = 0usize;
    let mut expired_total = 0usize;
    'dbs: for db in 0..keyspace.databases() {
        if !keyspace.is_made(db) {
            continue;
        }
        let mut out_of_time = false;
        for index in 0..keyspace.shards_per_db() {
            // Most shards of most servers hold nothing that can expire: look first under a
            // read lock, which a running snapshot does not make copy the shard.
            let volatile = keyspace.with_shard_at(&gate, db, index, Intent::Read, |shard| {
                shard.volatile_len() > 0 || shard.volatile_hashes() > 0
            });
            if !volatile {
                continue;
            }
            keyspace.with_shard_at(&gate, db, index, Intent::Write, |shard| {
                if shard.volatile_hashes() > 0 {
                    // Redis 7.4 gives hash fields their own quota per cycle.
                    shard.active_expire_fields(unix_ms(), effort.keys_per_loop, FIELDS_PER_CYCLE);
                    report_fields_expired(server, db, shard);
                }
                if shard.volatile_len() == 0 {
                    return;
                }
                loop {
                    let stats = shard.active_expire(unix_ms(), effort.keys_per_loop);
                    if stats.expired > 0 && server.feed.is_active() {
                        report_expired(server, db, shard);
                    } else {
                        for entry in shard.drain_expired_values() {
                            server.lazyfree.free_entry(entry);
                        }
                    }
                    sampled_total += stats.sampled;
                    expired_total += stats.expired;
                    if stats.sampled == 0
                        || stats.expired * 100 <= stats.sampled * effort.acceptable_stale_percent
                    {
                        break;
                    }
                    if started.elapsed() >= budget {
                        out_of_time = true;
                        break;
                    }
                }
            });
            if out_of_time {
                break;
            }
        }
        if out_of_time {
            server
                .stats
                .expired_time_cap_reached_count
                .fetch_add(1, Relaxed);
            break 'dbs;
        }
    }
    if let Some(stale_percent) = (expired_total * 100).checked_div(sampled_total) {
        server
            .stats
            .expired_stale_perc
            .store(stale_percent as u64, Relaxed);
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    server
        .stats
        .expire_cycle_cpu_milliseconds
        .fetch_add(elapsed_ms, Relaxed);
    server.latency_sample("expire-cycle", elapsed_ms);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::commands::testkit::TestClient;

    #[test]
    fn the_cycle_propagates_expired_fields_as_hdels_each_alone() {
        let mut c = TestClient::new();
        c.start_stream();
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "2", "a", "b"]);
        c.stream();
        std::thread::sleep(Duration::from_millis(5));
        super::active_expire_cycle(&c.server, Duration::from_millis(100));
        let stream: Vec<String> = c
            .stream()
            .into_iter()
            .filter(|l| !l.starts_with("SELECT "))
            .collect();
        assert_eq!(stream, ["HDEL h a", "HDEL h b"]);
        assert_eq!(c.text(&["EXISTS", "h"]), ":0\r\n");
    }
}
