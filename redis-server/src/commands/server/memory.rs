//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
//!
//! [`Overhead`] is the one account of where memory goes: MEMORY STATS and DOCTOR print it,
//! INFO memory takes its used, peak and client figures from it.

use std::sync::atomic::Ordering::Relaxed;

use common::number::parse_i64;

use crate::commands::args::is;
use crate::commands::{CommandContext, CommandError, Locking, Registry, reply_help};
use crate::server::{MemoryStats, Server};

pub(super) fn register(r: &mut Registry) {
    r.add_sub("memory", "usage", usage);
    r.add_sub_with("memory", "stats", stats, Locking::Exclusive);
    r.add_sub_with("memory", "doctor", doctor, Locking::Exclusive);
    r.add_sub("memory", "malloc-stats", malloc_stats);
    r.add_sub("memory", "purge", purge);
    r.add_sub("memory", "help", help);
}

/// Where the server's memory goes (Redis's `getMemoryOverheadData`), in bytes.
pub(crate) struct Overhead {
    /// The allocator's figures; `mem.allocated` is INFO `used_memory`.
    pub mem: MemoryStats,
    pub peak: u64,
    pub startup: u64,
    /// Query and output buffers of the clients.
    pub clients_normal: u64,
    /// The EVAL script cache and the function libraries.
    pub lua_caches: u64,
    pub functions_caches: u64,
    /// Per non-empty database: (index, keys, key table bytes, expiry table bytes).
    pub dbs: Vec<(usize, u64, u64, u64)>,
}

impl Overhead {
    /// The figures that need no keyspace walk (INFO memory); `dbs` is left empty.
    pub(crate) fn without_keyspace(server: &Server) -> Overhead {
        let mem = MemoryStats::read();
        let used = mem.allocated;
        // The cron updates the peak from time to time; never show it below the current figure.
        let peak = server.stats.peak_memory.fetch_max(used, Relaxed).max(used);
        // What client eviction counts (`ClientInfo::memory`), for the clients it may evict.
        let clients_normal = server
            .client_list()
            .iter()
            .filter(|c| {
                !matches!(
                    c.details().kind,
                    crate::connection::ClientKind::Replica | crate::connection::ClientKind::Monitor
                )
            })
            .map(|c| c.memory() as u64)
            .sum();
        let (_, scripts_bytes) = server.scripting.cached_scripts();
        let (_, _, functions_bytes) = server.scripting.function_counts();
        Overhead {
            mem,
            peak,
            startup: server.startup_memory,
            clients_normal,
            lua_caches: scripts_bytes as u64,
            functions_caches: functions_bytes as u64,
            dbs: Vec::new(),
        }
    }

    /// Every figure, walking the databases' tables.
    fn collect(ctx: &mut CommandContext<'_>) -> Overhead {
        let mut overhead = Overhead::without_keyspace(ctx.server);
        for db in 0..ctx.server.keyspace.databases() {
            let (mut keys, mut main, mut expires) = (0u64, 0u64, 0u64);
            ctx.db.for_each_shard_read(db, |shard| {
                keys += shard.len() as u64;
                let (m, e) = shard.table_overhead();
                main += m as u64;
                expires += e as u64;
            });
            if keys > 0 {
                overhead.dbs.push((db, keys, main, expires));
            }
        }
        overhead
    }

    fn used(&self) -> u64 {
        self.mem.allocated
    }

    fn total(&self) -> u64 {
        self.startup
            + self.clients_normal
            + self.lua_caches
            + self.functions_caches
            + self.dbs.iter().map(|d| d.2 + d.3).sum::<u64>()
    }

    fn keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.1).sum()
    }

    /// Used memory beyond the start-up figure (at least 1).
    fn net_usage(&self) -> u64 {
        self.used().saturating_sub(self.startup).max(1)
    }

    fn dataset(&self) -> u64 {
        self.used().saturating_sub(self.total())
    }
}

/// `a / b` as Redis's float ratios print it, 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn signed(a: u64, b: u64) -> i64 {
    a as i64 - b as i64
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `MEMORY STATS`: Redis 7.0's fields, in its order.
fn stats(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let o = Overhead::collect(ctx);
    let mem = o.mem;
    let reply = &mut *ctx.reply;
    reply.map(27 + o.dbs.len());
    for (name, value) in [
        ("peak.allocated", o.peak),
        ("total.allocated", o.used()),
        ("startup.allocated", o.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", o.clients_normal),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", o.lua_caches),
        ("functions.caches", o.functions_caches),
    ] {
        reply.bulk(name.as_bytes());
        reply.integer(as_i64(value));
    }
    for &(db, _, main, expires) in &o.dbs {
        reply.bulk(format!("db.{db}").as_bytes());
        reply.map(3);
        reply.bulk(b"overhead.hashtable.main");
        reply.integer(as_i64(main));
        reply.bulk(b"overhead.hashtable.expires");
        reply.integer(as_i64(expires));
        reply.bulk(b"overhead.hashtable.slot-to-keys");
        reply.integer(0);
    }
    let keys = o.keys();
    reply.bulk(b"overhead.total");
    reply.integer(as_i64(o.total()));
    reply.bulk(b"keys.count");
    reply.integer(as_i64(keys));
    reply.bulk(b"keys.bytes-per-key");
    reply.integer(as_i64(o.net_usage().checked_div(keys).unwrap_or(0)));
    reply.bulk(b"dataset.bytes");
    reply.integer(as_i64(o.dataset()));
    reply.bulk(b"dataset.percentage");
    reply.double(f64::from(
        (o.dataset() as f32) * 100.0 / o.net_usage() as f32,
    ));
    reply.bulk(b"peak.percentage");
    reply.double(f64::from((o.used() as f32) * 100.0 / o.peak.max(1) as f32));
    for (name, value) in [
        ("allocator.allocated", mem.allocated),
        ("allocator.active", mem.active),
        ("allocator.resident", mem.resident),
    ] {
        reply.bulk(name.as_bytes());
        reply.integer(as_i64(value));
    }
    for (name, num, den) in [
        ("allocator-fragmentation", mem.active, mem.allocated),
        ("allocator-rss", mem.resident, mem.active),
        ("rss-overhead", mem.process_rss, mem.resident),
    ] {
        reply.bulk(format!("{name}.ratio").as_bytes());
        reply.double(f64::from(ratio(num, den) as f32));
        reply.bulk(format!("{name}.bytes").as_bytes());
        reply.integer(signed(num, den));
    }
    reply.bulk(b"fragmentation");
    reply.double(f64::from(ratio(mem.process_rss, o.used()) as f32));
    reply.bulk(b"fragmentation.bytes");
    reply.integer(signed(mem.process_rss, o.used()));
    Ok(())
}

const MB: u64 = 1024 * 1024;

/// `MEMORY DOCTOR`: Redis's report on the same figures as MEMORY STATS.
fn doctor(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let o = Overhead::collect(ctx);
    let clients = ctx.server.client_list().len().max(1) as u64;
    let (scripts, _) = ctx.server.scripting.cached_scripts();
    let report = doctor_report(&o, clients, scripts);
    ctx.reply.verbatim(b"txt", report.as_bytes());
    Ok(())
}

fn doctor_report(o: &Overhead, clients: u64, cached_scripts: usize) -> String {
    let mem = o.mem;
    let used = o.used();
    let over = |num: u64, den: u64, limit: f64| {
        ratio(num, den) > limit && num.saturating_sub(den) > 10 * MB
    };
    let mut issues: Vec<&str> = Vec::new();
    let empty = used < 5 * MB;
    if !empty {
        if ratio(o.peak, used) > 1.5 {
            issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if over(mem.process_rss, used, 1.4) {
            issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n");
        }
        if over(mem.active, mem.allocated, 1.1) {
            issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
        }
        if over(mem.resident, mem.active, 1.1) {
            issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        }
        if over(mem.process_rss, mem.resident, 1.1) {
            issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
        }
        if o.clients_normal / clients > 200 * 1024 {
            issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
        }
        if cached_scripts > 1000 {
            issues.push(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n");
        }
    }
    if empty {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_owned();
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_owned();
    }
    let mut out =
        "Sam, I detected a few issues in this Redis instance memory implants:\n\n".to_owned();
    for issue in issues {
        out.push_str(issue);
    }
    out.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    out
}

/// `MEMORY MALLOC-STATS`: jemalloc's own statistics text.
fn malloc_stats(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let text = jemalloc_stats_text();
    ctx.reply.verbatim(b"txt", &text);
    Ok(())
}

fn jemalloc_stats_text() -> Vec<u8> {
    unsafe extern "C" fn append(opaque: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `opaque` is the `Vec<u8>` passed below, alive for the whole call, and
        // jemalloc hands a NUL-terminated string.
        let (out, text) = unsafe {
            (
                &mut *(opaque as *mut Vec<u8>),
                std::ffi::CStr::from_ptr(text),
            )
        };
        out.extend_from_slice(text.to_bytes());
    }
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `out`, which outlives the call; a null options
    // pointer asks for the default report.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            (&mut out as *mut Vec<u8>).cast(),
            std::ptr::null(),
        );
    }
    out
}

/// `MEMORY PURGE`: flushes this thread's cache and returns every arena's unused dirty pages
/// to the system, as Redis does with jemalloc.
fn purge(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let control = |name: &[u8]| {
        // SAFETY: the names are NUL-terminated; both controls take no old or new value, so
        // every pointer is null and every length 0.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        }
    };
    control(b"thread.tcache.flush\0");
    if control(b"arena.4096.purge\0") != 0 {
        return Err(CommandError::err("Error purging dirty pages"));
    }
    ctx.reply.ok();
    Ok(())
}

/// Redis samples five elements of a collection unless told otherwise.
const DEFAULT_SAMPLES: usize = 5;

/// `MEMORY USAGE key [SAMPLES count]`: the bytes the key, its value and its bookkeeping hold;
/// collections are measured on `count` elements (0: all) and scaled, as Redis estimates.
fn usage(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut samples = DEFAULT_SAMPLES;
    while let Some(word) = ctx.args.next_opt() {
        if is(word, "samples") && !ctx.args.is_empty() {
            let n = parse_i64(ctx.args.next_bytes()?).ok_or(CommandError::NotInteger)?;
            samples = usize::try_from(n).map_err(|_| CommandError::Syntax)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms;
    match ctx.db.shard(key).memory_usage(key, now, samples) {
        Some(bytes) => ctx.reply.integer(i64::try_from(bytes).unwrap_or(i64::MAX)),
        None => ctx.reply.null(),
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

fn help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(ctx, MEMORY_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn bytes(c: &mut TestClient, args: &[&str]) -> i64 {
        let reply = c.text(args);
        reply
            .strip_prefix(':')
            .and_then(|r| r.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("not an integer: {reply:?}"))
    }

    #[test]
    fn usage_grows_with_the_value_and_follows_redis_errors() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["MEMORY", "USAGE", "missing"]), "$-1\r\n");
        c.run(&["SET", "small", "v"]);
        c.run(&["SET", "big", &"x".repeat(10_000)]);
        let small = bytes(&mut c, &["MEMORY", "USAGE", "small"]);
        let big = bytes(&mut c, &["MEMORY", "USAGE", "big"]);
        assert!(small > 0 && big > small + 10_000 - 64, "{small} {big}");
        for i in 0..200 {
            c.run(&["HSET", "h", &format!("field{i}"), &"v".repeat(100)]);
        }
        let all = bytes(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]);
        assert!(all > 200 * 100, "{all}");
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES", "-1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn stats_doctor_malloc_stats_purge() {
        let mut c = TestClient::new();
        c.run(&["SET", "a", "1"]);
        c.run(&["SELECT", "3"]);
        c.run(&["SET", "b", "1"]);
        let stats = c.text(&["MEMORY", "STATS"]);
        // 27 fields plus db.0 and db.3, as a RESP2 flat array.
        assert!(
            stats.starts_with("*58\r\n$14\r\npeak.allocated\r\n:"),
            "{stats}"
        );
        for field in [
            "total.allocated",
            "functions.caches",
            "$4\r\ndb.0\r\n*6\r\n$23\r\noverhead.hashtable.main",
            "db.3",
            "keys.count\r\n:2\r\n",
            "dataset.percentage",
            "allocator-fragmentation.ratio",
            "$19\r\nfragmentation.bytes\r\n:",
        ] {
            assert!(stats.contains(field), "{field}: {stats}");
        }
        let doctor = c.text(&["MEMORY", "DOCTOR"]);
        assert!(doctor.contains("Sam"), "{doctor}");
        let malloc = c.text(&["MEMORY", "MALLOC-STATS"]);
        assert!(malloc.contains("jemalloc"), "{malloc}");
        assert_eq!(c.text(&["MEMORY", "PURGE"]), "+OK\r\n");
        assert_eq!(
            c.text(&["MEMORY", "STATS", "x"]),
            "-ERR wrong number of arguments for 'memory|stats' command\r\n"
        );
    }

    #[test]
    fn doctor_texts() {
        use super::*;
        let o = |allocated: u64, peak: u64| Overhead {
            mem: MemoryStats {
                allocated,
                active: allocated,
                resident: allocated,
                process_rss: allocated,
            },
            peak,
            startup: 0,
            clients_normal: 0,
            lua_caches: 0,
            functions_caches: 0,
            dbs: Vec::new(),
        };
        assert!(
            doctor_report(&o(1 << 20, 1 << 20), 1, 0).starts_with("Hi Sam, this instance is empty")
        );
        assert_eq!(
            doctor_report(&o(100 << 20, 100 << 20), 1, 0),
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        );
        let peak = doctor_report(&o(100 << 20, 200 << 20), 1, 0);
        assert!(peak.starts_with("Sam, I detected a few issues in this Redis instance memory implants:\n\n * Peak memory:"));
        assert!(peak.ends_with("I'm here to keep you safe, Sam. I want to help you.\n"));
    }
}
