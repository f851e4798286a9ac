//! INFO: the server's state and statistics, section by section, as Redis 7.0.15 prints them.
//!
//! Fields this server cannot fill honestly are left out rather than faked: the Lua and
//! function memory figures (no scripting yet), `used_memory_overhead`/`used_memory_dataset`
//! (Redis's overhead model does not map onto our tables), `gcc_version`, `atomicvar_api` and
//! `redis_build_id` (not a C build), the `*_main_thread` CPU figures (no single main thread),
//! the reply buffer resize counters, and the whole `latencystats` section (no per-command
//! latency histograms yet).

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use crate::commands::{CommandContext, CommandError, Registry};
use crate::server::{Metric, Server, page_size, unix_us};
use crate::{OUR_VERSION, REDIS_VERSION};

pub(super) fn register(r: &mut Registry) {
    r.add("info", info);
}

/// The sections in the order Redis prints them; `default` selects those marked so.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
    ("latencystats", true),
];

/// Which sections a request asks for.
struct Selection {
    all: bool,
    wanted: Vec<&'static str>,
}

impl Selection {
    fn parse<'a>(args: impl Iterator<Item = &'a [u8]>) -> Selection {
        let mut sel = Selection {
            all: false,
            wanted: Vec::new(),
        };
        let mut any = false;
        for arg in args {
            any = true;
            if arg.eq_ignore_ascii_case(b"default") {
                sel.add_defaults();
            } else if arg.eq_ignore_ascii_case(b"all") || arg.eq_ignore_ascii_case(b"everything") {
                // With no modules, `everything` adds nothing to `all`.
                sel.all = true;
            } else if arg.eq_ignore_ascii_case(b"module_list") {
                sel.add("modules");
            } else if let Some((name, _)) = SECTIONS
                .iter()
                .find(|(name, _)| arg.eq_ignore_ascii_case(name.as_bytes()))
            {
                sel.add(name);
            }
        }
        if !any {
            sel.add_defaults();
        }
        sel
    }

    fn add(&mut self, name: &'static str) {
        if !self.wanted.contains(&name) {
            self.wanted.push(name);
        }
    }

    fn add_defaults(&mut self) {
        for (name, default) in SECTIONS {
            if *default {
                self.add(name);
            }
        }
    }

    fn includes(&self, name: &str) -> bool {
        self.all || self.wanted.contains(&name)
    }
}

fn info(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let selection = Selection::parse(ctx.args.rest());
    let text = render(ctx, &selection);
    ctx.reply.verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn render(ctx: &mut CommandContext<'_>, selection: &Selection) -> String {
    let mut out = String::new();
    for (name, _) in SECTIONS {
        if !selection.includes(name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match *name {
            "server" => server_section(ctx.server, &mut out),
            "clients" => clients_section(ctx.server, &mut out),
            "memory" => memory_section(ctx.server, &mut out),
            "persistence" => persistence_section(ctx.server, &mut out),
            "stats" => stats_section(ctx, &mut out),
            "replication" => replication_section(ctx.server, &mut out),
            "cpu" => cpu_section(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats_section(ctx.server, &mut out),
            "errorstats" => errorstats_section(ctx.server, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "latencystats" => latencystats_section(ctx.server, &mut out),
            _ => keyspace_section(ctx, &mut out),
        }
    }
    out
}

/// Appends `name:value\r\n` lines.
macro_rules! fields {
    ($out:expr, $($name:literal => $value:expr),* $(,)?) => {
        $( let _ = write!($out, concat!($name, ":{}\r\n"), $value); )*
    };
}

fn server_section(server: &Server, out: &mut String) {
    let uptime = server.uptime().as_secs();
    let config = server.config();
    let configured_hz = config.get_int("hz").unwrap_or(10);
    let unix_now_s = unix_us() / 1_000_000;
    out.push_str("# Server\r\n");
    fields!(out,
        "redis_version" => REDIS_VERSION,
        "rust_redis_version" => OUR_VERSION,
        "redis_git_sha1" => "00000000",
        "redis_git_dirty" => 0,
        "redis_mode" => "standalone",
        "os" => os_name(),
        "arch_bits" => usize::BITS,
        "monotonic_clock" => "POSIX clock_gettime",
        "multiplexing_api" => MULTIPLEXING_API,
        "process_id" => std::process::id(),
        "process_supervised" => "no",
        "run_id" => server.run_id,
        "tcp_port" => server.tcp_port.load(Relaxed),
        "server_time_usec" => unix_us(),
        "uptime_in_seconds" => uptime,
        "uptime_in_days" => uptime / 86_400,
        "hz" => server.hot.hz.load(Relaxed),
        "configured_hz" => configured_hz,
        // Redis's 24-bit LRU clock in seconds.
        "lru_clock" => unix_now_s & 0xFF_FFFF,
        "executable" => server.executable,
        "config_file" => server.config_file.as_deref().unwrap_or(""),
        "io_threads_active" => 0,
    );
}

#[cfg(target_os = "linux")]
const MULTIPLEXING_API: &str = "epoll";
#[cfg(not(target_os = "linux"))]
const MULTIPLEXING_API: &str = "kqueue";

/// `sysname release machine` from uname(2).
fn os_name() -> String {
    // SAFETY: utsname is plain data; zeroed is a valid value for it.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a valid, writable utsname.
    if unsafe { libc::uname(&mut name) } != 0 {
        return String::new();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&name.sysname),
        field(&name.release),
        field(&name.machine)
    )
}

fn clients_section(server: &Server, out: &mut String) {
    let clients = server.client_list();
    let max_in = clients
        .iter()
        .map(|c| c.query_buffer.load(Relaxed))
        .max()
        .unwrap_or(0);
    let max_out = clients
        .iter()
        .map(|c| c.output_memory.load(Relaxed))
        .max()
        .unwrap_or(0);
    let gauges = &server.gauges;
    out.push_str("# Clients\r\n");
    fields!(out,
        "connected_clients" => server.connected_clients.load(Relaxed),
        "cluster_connections" => 0,
        "maxclients" => server.hot.maxclients.load(Relaxed),
        "client_recent_max_input_buffer" => max_in,
        "client_recent_max_output_buffer" => max_out,
        "blocked_clients" => server.blocking.blocked_clients() + server.pause.postponed.load(Relaxed),
        "tracking_clients" => server.tracking.clients(),
        "clients_in_timeout_table" => gauges.clients_in_timeout_table.load(Relaxed),
    );
}

/// Redis's `bytesToHuman`: `123B`, `1.50K`, `2.00M` ...
pub(crate) fn bytes_to_human(n: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut scale = 1024u64;
    for unit in UNITS {
        if n / scale < 1024 {
            return format!("{:.2}{unit}", n as f64 / scale as f64);
        }
        scale *= 1024;
    }
    format!("{n}B")
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn system_memory() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages > 0 {
        pages as u64 * page_size()
    } else {
        0
    }
}

fn memory_section(server: &Server, out: &mut String) {
    let overhead = super::memory::Overhead::without_keyspace(server);
    let mem = overhead.mem;
    let used = mem.allocated;
    let peak = overhead.peak;
    let (maxmemory, policy) = {
        let config = server.config();
        (
            config.get_int("maxmemory").unwrap_or(0).max(0) as u64,
            config
                .get_str("maxmemory-policy")
                .unwrap_or("noeviction")
                .to_owned(),
        )
    };
    let clients_memory = overhead.clients_normal;
    // The replicas' share of the replication buffer is what it holds beyond the backlog size.
    let (repl_buffer, backlog_size) = server.feed.buffer_memory();
    // A replica killed a moment ago is gone for this count, though its task may still be
    // winding down.
    let has_replicas = server
        .client_list()
        .iter()
        .any(|c| !c.is_killed() && c.details().kind == crate::connection::ClientKind::Replica);
    let (clients_slaves, repl_backlog) = if has_replicas && repl_buffer > backlog_size {
        (repl_buffer - backlog_size, backlog_size)
    } else {
        (0, repl_buffer)
    };
    let total_system = system_memory();
    let signed = |a: u64, b: u64| a as i64 - b as i64;
    // EVAL and functions share one Lua VM here: its memory is reported under eval.
    let lua = server.scripting.used_memory_lua() as u64;
    let (scripts, scripts_bytes) = server.scripting.cached_scripts();
    let (libraries, functions, functions_bytes) = server.scripting.function_counts();
    out.push_str("# Memory\r\n");
    fields!(out,
        "used_memory" => used,
        "used_memory_human" => bytes_to_human(used),
        "used_memory_rss" => mem.process_rss,
        "used_memory_rss_human" => bytes_to_human(mem.process_rss),
        "used_memory_peak" => peak,
        "used_memory_peak_human" => bytes_to_human(peak),
        "used_memory_peak_perc" => format!("{:.2}%", ratio(used, peak) * 100.0),
        "used_memory_startup" => server.startup_memory,
        "allocator_allocated" => mem.allocated,
        "allocator_active" => mem.active,
        "allocator_resident" => mem.resident,
        "total_system_memory" => total_system,
        "total_system_memory_human" => bytes_to_human(total_system),
        "used_memory_lua" => lua,
        "used_memory_vm_eval" => lua,
        "used_memory_lua_human" => bytes_to_human(lua),
        "used_memory_scripts_eval" => scripts_bytes,
        "number_of_cached_scripts" => scripts,
        "number_of_functions" => functions,
        "number_of_libraries" => libraries,
        "used_memory_vm_functions" => 0,
        "used_memory_vm_total" => lua,
        "used_memory_vm_total_human" => bytes_to_human(lua),
        "used_memory_functions" => functions_bytes,
        "used_memory_scripts" => scripts_bytes + functions_bytes,
        "used_memory_scripts_human" => bytes_to_human((scripts_bytes + functions_bytes) as u64),
        "maxmemory" => maxmemory,
        "maxmemory_human" => bytes_to_human(maxmemory),
        "maxmemory_policy" => policy,
        "allocator_frag_ratio" => format!("{:.2}", ratio(mem.active, mem.allocated)),
        "allocator_frag_bytes" => signed(mem.active, mem.allocated),
        "allocator_rss_ratio" => format!("{:.2}", ratio(mem.resident, mem.active)),
        "allocator_rss_bytes" => signed(mem.resident, mem.active),
        "rss_overhead_ratio" => format!("{:.2}", ratio(mem.process_rss, mem.resident)),
        "rss_overhead_bytes" => signed(mem.process_rss, mem.resident),
        "mem_fragmentation_ratio" => format!("{:.2}", ratio(mem.process_rss, used)),
        "mem_fragmentation_bytes" => signed(mem.process_rss, used),
        "mem_not_counted_for_evict" => crate::evict::not_counted(server),
        "mem_replication_backlog" => repl_backlog,
        "mem_total_replication_buffers" => repl_buffer,
        "mem_clients_slaves" => clients_slaves,
        "mem_clients_normal" => clients_memory,
        "mem_cluster_links" => 0,
        "mem_aof_buffer" => 0,
        "mem_allocator" => "jemalloc-5.3.0",
        "active_defrag_running" => 0,
        "lazyfree_pending_objects" => server.lazyfree.pending(),
        "lazyfreed_objects" => server.lazyfree.freed(),
    );
}

/// Copy-on-write here is what a running snapshot copied because clients wrote to shards it
/// had not captured yet (see `common::keyspace::snapshot`); it is always current, so its age
/// is 0 and its peak is itself.
fn persistence_section(server: &Server, out: &mut String) {
    let aof = &server.aof;
    let save = server
        .rdb
        .progress()
        .or_else(|| aof.progress())
        .unwrap_or_default();
    let fork_perc = if save.keys_total > 0 {
        format!(
            "{:.2}",
            save.keys_processed as f64 * 100.0 / save.keys_total as f64
        )
    } else {
        "0.00".to_owned()
    };
    out.push_str("# Persistence\r\n");
    fields!(out,
        "loading" => u8::from(server.rdb.loading.load(Relaxed)),
        "async_loading" => 0,
        "current_cow_peak" => save.cow_bytes,
        "current_cow_size" => save.cow_bytes,
        "current_cow_size_age" => 0,
        "current_fork_perc" => fork_perc,
        "current_save_keys_processed" => save.keys_processed,
        "current_save_keys_total" => save.keys_total,
        "rdb_changes_since_last_save" => server.dirty.load(Relaxed),
        "rdb_bgsave_in_progress" => u8::from(server.rdb.bgsave_in_progress.load(Relaxed)),
        "rdb_last_save_time" => server.lastsave_unix.load(Relaxed),
        "rdb_last_bgsave_status" => if server.rdb.last_bgsave_ok.load(Relaxed) { "ok" } else { "err" },
        "rdb_last_bgsave_time_sec" => server.rdb.last_bgsave_time_sec.load(Relaxed),
        "rdb_current_bgsave_time_sec" => server.rdb.current_bgsave_secs(),
        "rdb_saves" => server.rdb.saves.load(Relaxed),
        "rdb_last_cow_size" => server.rdb.last_cow_bytes.load(Relaxed),
        "rdb_last_load_keys_expired" => server.rdb.last_load_keys_expired.load(Relaxed),
        "rdb_last_load_keys_loaded" => server.rdb.last_load_keys_loaded.load(Relaxed),
        "aof_enabled" => u8::from(aof.enabled.load(Relaxed)),
        "aof_rewrite_in_progress" => u8::from(aof.rewrite_reported_in_progress()),
        "aof_rewrite_scheduled" => u8::from(aof.rewrite_scheduled.load(Relaxed)),
        "aof_last_rewrite_time_sec" => aof.last_rewrite_secs.load(Relaxed),
        "aof_current_rewrite_time_sec" => aof.current_rewrite_secs(),
        "aof_last_bgrewrite_status" => if aof.last_rewrite_ok.load(Relaxed) { "ok" } else { "err" },
        "aof_rewrites" => aof.rewrites.load(Relaxed),
        "aof_rewrites_consecutive_failures" => aof.consecutive_failures.load(Relaxed),
        "aof_last_write_status" => if aof.last_write_ok.load(Relaxed) { "ok" } else { "err" },
        "aof_last_cow_size" => aof.last_cow_bytes.load(Relaxed),
        "module_fork_in_progress" => 0,
        "module_fork_last_cow_size" => 0,
    );
    if server.rdb.loading.load(Relaxed) {
        let started = server.rdb.loading_start_unix.load(Relaxed);
        let total = server.rdb.loading_total_bytes.load(Relaxed);
        let loaded = server.rdb.loading_loaded_bytes.load(Relaxed);
        let (perc, remaining) = if total > 0 {
            (
                loaded as f64 / total as f64 * 100.0,
                total.saturating_sub(loaded),
            )
        } else {
            (0.0, 0)
        };
        let elapsed = (crate::server::unix_ms() / 1000 - started).max(0) as u64;
        let eta = if elapsed == 0 {
            1
        } else {
            elapsed.saturating_mul(remaining) / (loaded + 1)
        };
        fields!(out,
            "loading_start_time" => started,
            "loading_total_bytes" => total,
            "loading_rdb_used_mem" => 0,
            "loading_loaded_bytes" => loaded,
            "loading_loaded_perc" => format!("{perc:.2}"),
            "loading_eta_seconds" => eta,
        );
    }
    if aof.enabled.load(Relaxed) {
        let buffered = server.feed.lock().aof.as_ref().map_or(0, |b| b.len());
        fields!(out,
            "aof_current_size" => aof.current_size.load(Relaxed),
            "aof_base_size" => aof.base_size.load(Relaxed),
            "aof_pending_rewrite" => u8::from(aof.rewrite_scheduled.load(Relaxed)),
            "aof_buffer_length" => buffered,
            "aof_pending_bio_fsync" => 0,
            "aof_delayed_fsync" => 0,
        );
    }
}

/// Keyspace hits and misses: the shards count their read lookups.
fn lookup_stats(ctx: &mut CommandContext<'_>) -> (u64, u64) {
    let (mut hits, mut misses) = (0, 0);
    for db in 0..ctx.server.keyspace.databases() {
        ctx.db.for_each_shard_read(db, |shard| {
            let (h, m) = shard.lookup_stats();
            hits += h;
            misses += m;
        });
    }
    (hits, misses)
}

fn stats_section(ctx: &mut CommandContext<'_>, out: &mut String) {
    let (hits, misses) = lookup_stats(ctx);
    let server = ctx.server;
    let stats = &server.stats;
    let (exceeded_total, exceeded_now) = server.evictor.exceeded_times();
    let (pubsub_channels, pubsub_patterns, pubsubshard_channels) = server.pubsub.counts();
    let (tracking_keys, tracking_items, tracking_prefixes) = server.tracking.totals();
    let kbps = |metric| format!("{:.2}", stats.instantaneous(metric) as f64 / 1024.0);
    out.push_str("# Stats\r\n");
    fields!(out,
        "total_connections_received" => stats.total_connections_received.load(Relaxed),
        "total_commands_processed" => stats.total_commands_processed(),
        "instantaneous_ops_per_sec" => stats.instantaneous(Metric::Commands),
        "total_net_input_bytes" => stats.net_input_bytes.load(Relaxed),
        "total_net_output_bytes" => stats.net_output_bytes.load(Relaxed),
        "total_net_repl_input_bytes" => 0,
        "total_net_repl_output_bytes" => stats.net_repl_output_bytes.load(Relaxed),
        "instantaneous_input_kbps" => kbps(Metric::NetInput),
        "instantaneous_output_kbps" => kbps(Metric::NetOutput),
        "instantaneous_input_repl_kbps" => "0.00",
        "instantaneous_output_repl_kbps" => "0.00",
        "rejected_connections" => stats.rejected_connections.load(Relaxed),
        "sync_full" => 0,
        "sync_partial_ok" => 0,
        "sync_partial_err" => 0,
        "expired_keys" => stats.expired_keys.load(Relaxed),
        "expired_stale_perc" => format!("{:.2}", stats.expired_stale_perc.load(Relaxed) as f64),
        "expired_time_cap_reached_count" => stats.expired_time_cap_reached_count.load(Relaxed),
        "expire_cycle_cpu_milliseconds" => stats.expire_cycle_cpu_milliseconds.load(Relaxed),
        "evicted_keys" => stats.evicted_keys.load(Relaxed),
        "evicted_clients" => stats.evicted_clients.load(Relaxed),
        "total_eviction_exceeded_time" => exceeded_total,
        "current_eviction_exceeded_time" => exceeded_now,
        "keyspace_hits" => hits,
        "keyspace_misses" => misses,
        "pubsub_channels" => pubsub_channels,
        "pubsub_patterns" => pubsub_patterns,
        "pubsubshard_channels" => pubsubshard_channels,
        "latest_fork_usec" => 0,
        "total_forks" => server.rdb.forks.load(Relaxed),
        "migrate_cached_sockets" => 0,
        "slave_expires_tracked_keys" => 0,
        "active_defrag_hits" => 0,
        "active_defrag_misses" => 0,
        "active_defrag_key_hits" => 0,
        "active_defrag_key_misses" => 0,
        "total_active_defrag_time" => 0,
        "current_active_defrag_time" => 0,
        "tracking_total_keys" => tracking_keys,
        "tracking_total_items" => tracking_items,
        "tracking_total_prefixes" => tracking_prefixes,
        "unexpected_error_replies" => stats.unexpected_error_replies.load(Relaxed),
        "total_error_replies" => stats.total_error_replies.load(Relaxed),
        "dump_payload_sanitizations" => server.rdb.dump_payload_sanitizations.load(Relaxed),
        "total_reads_processed" => stats.total_reads_processed.load(Relaxed),
        "total_writes_processed" => stats.total_writes_processed.load(Relaxed),
        "io_threaded_reads_processed" => 0,
        "io_threaded_writes_processed" => 0,
    );
}

/// Replication: the role, the link to our master when a replica, our replicas, the ids and
/// the backlog.
fn replication_section(server: &Server, out: &mut String) {
    let config = server.config();
    let backlog_size = config.get_int("repl-backlog-size").unwrap_or(0);
    let priority = config.get_int("replica-priority").unwrap_or(100);
    let read_only = i64::from(config.get_bool("replica-read-only").unwrap_or(true));
    let announced = i64::from(config.get_bool("replica-announced").unwrap_or(true));
    let min_replicas = config.get_int("min-replicas-to-write").unwrap_or(0) > 0
        && config.get_int("min-replicas-max-lag").unwrap_or(0) > 0;
    drop(config);
    let replid = server.replid();
    let now = crate::server::unix_ms();
    out.push_str("# Replication\r\n");
    let link = server.replica.lock();
    let (replid2, second_offset) = (link.replid2.clone(), link.second_offset);
    match &link.master {
        None => {
            fields!(out, "role" => "master");
        }
        Some((host, port)) => {
            use crate::replication::replica::Status;
            let connected = link.status == Status::Connected;
            let has_master = link.master_client.is_some();
            let secs = |ms: i64| (now - ms).max(0) / 1000;
            fields!(out,
                "role" => "slave",
                "master_host" => host,
                "master_port" => port,
                "master_link_status" => if connected { "up" } else { "down" },
                "master_last_io_seconds_ago" => match link.last_io_ms {
                    Some(ms) if has_master => secs(ms),
                    _ => -1,
                },
                "master_sync_in_progress" => i64::from(link.status == Status::Transfer),
                "slave_read_repl_offset" => link.read_offset.map_or(1, |o| o as i64),
                "slave_repl_offset" => link.applied_offset.map_or(1, |o| o as i64),
            );
            if link.status == Status::Transfer {
                let (size, read) = (link.transfer_size as i64, link.transfer_read as i64);
                let perc = if size > 0 {
                    read as f64 / size as f64 * 100.0
                } else {
                    0.0
                };
                fields!(out,
                    "master_sync_total_bytes" => size,
                    "master_sync_read_bytes" => read,
                    "master_sync_left_bytes" => size - read,
                    "master_sync_perc" => format!("{perc:.2}"),
                    "master_sync_last_io_seconds_ago" => secs(link.transfer_last_io_ms),
                );
            }
            if !connected {
                fields!(out, "master_link_down_since_seconds" => if link.down_since_ms > 0 {
                    secs(link.down_since_ms)
                } else {
                    -1
                });
            }
            fields!(out,
                "slave_priority" => priority,
                "slave_read_only" => read_only,
                "replica_announced" => announced,
            );
        }
    }
    drop(link);
    let good =
        min_replicas.then(|| server.good_replicas(server.hot.min_replicas_max_lag.load(Relaxed)));
    let state = server.feed.lock();
    fields!(out, "connected_slaves" => state.replicas.len());
    if let Some(good) = good {
        fields!(out, "min_slaves_good_slaves" => good);
    }
    for (i, replica) in state.replicas.values().enumerate() {
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state=online,offset={},lag={}\r\n",
            replica.ip,
            replica.listening_port,
            replica.acked,
            (now - replica.last_ack_ms).max(0) / 1000
        );
    }
    let (active, first_byte, histlen) = match &state.backlog {
        Some(backlog) => (1, backlog.start + 1, backlog.len()),
        None => (0, 0, 0),
    };
    fields!(out,
        "master_failover_state" => "no-failover",
        "master_replid" => replid,
        "master_replid2" => replid2,
        "master_repl_offset" => state.offset,
        "second_repl_offset" => second_offset,
        "repl_backlog_active" => active,
        "repl_backlog_size" => backlog_size,
        "repl_backlog_first_byte_offset" => first_byte,
        "repl_backlog_histlen" => histlen,
    );
}

fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: rusage is plain data; zeroed is a valid value for it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return ("0.000000".into(), "0.000000".into());
    }
    let time = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (time(ru.ru_stime), time(ru.ru_utime))
}

fn cpu_section(out: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (sys_children, user_children) = rusage(libc::RUSAGE_CHILDREN);
    out.push_str("# CPU\r\n");
    fields!(out,
        "used_cpu_sys" => sys,
        "used_cpu_user" => user,
        "used_cpu_sys_children" => sys_children,
        "used_cpu_user_children" => user_children,
    );
}

/// Redis replaces the characters that would break INFO's `name:value` lines.
fn info_safe(name: &str) -> String {
    name.replace(['#', ':', '\n', '\r'], "_")
}

fn commandstats_section(server: &Server, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    let mut rows: Vec<(&str, u64, u64, u64, u64)> = server
        .registry
        .entries()
        .map(|e| {
            (
                e.full_name.as_str(),
                e.calls(),
                e.usec(),
                e.rejected_calls(),
                e.failed_calls(),
            )
        })
        .filter(|(_, calls, _, rejected, failed)| calls + rejected + failed > 0)
        .collect();
    rows.sort_unstable_by_key(|row| row.0);
    for (name, calls, usec, rejected, failed) in rows {
        // Redis divides as C floats; a float keeps the same two decimals at these magnitudes.
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f32 / calls as f32
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            info_safe(name)
        );
    }
}

fn latencystats_section(server: &Server, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    if !server.hot.latency_tracking.load(Relaxed) {
        return;
    }
    let percentiles = server
        .hot
        .latency_percentiles
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let mut rows: Vec<(&str, String)> = server
        .registry
        .entries()
        .filter_map(|e| {
            let values = e.latency.percentiles(&percentiles)?;
            Some((
                e.full_name.as_str(),
                crate::latency::format_percentiles(&percentiles, &values),
            ))
        })
        .collect();
    rows.sort_unstable();
    for (name, line) in rows {
        let _ = write!(
            out,
            "latency_percentiles_usec_{}:{line}\r\n",
            info_safe(name)
        );
    }
}

fn errorstats_section(server: &Server, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    let errors = server
        .stats
        .errors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (code, count) in errors.iter() {
        let _ = write!(out, "errorstat_{}:count={count}\r\n", info_safe(code));
    }
}

fn keyspace_section(ctx: &mut CommandContext<'_>, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for db in 0..ctx.server.keyspace.databases() {
        let (mut keys, mut expires) = (0usize, 0usize);
        ctx.db.for_each_shard_read(db, |shard| {
            keys += shard.len();
            expires += shard.volatile_len();
        });
        if keys > 0 || expires > 0 {
            // avg_ttl is an estimate Redis keeps from its expiry sampling; we keep none.
            let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    /// The `name:value` of `field` in an INFO reply, if present.
    fn field(info: &str, name: &str) -> Option<String> {
        info.split("\r\n")
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .map(str::to_owned)
    }

    fn headers(info: &str) -> Vec<&str> {
        info.split("\r\n")
            .filter_map(|line| line.strip_prefix("# "))
            .collect()
    }

    #[test]
    fn latencystats_track_every_command_until_resetstat() {
        let mut c = TestClient::new();
        c.run(&["SET", "a", "b"]);
        c.run(&["CLIENT", "ID"]);
        let info = c.text(&["INFO", "latencystats"]);
        let set = field(&info, "latency_percentiles_usec_set").unwrap();
        assert!(
            set.starts_with("p50=") && set.contains(",p99=") && set.contains(",p99.9="),
            "{set}"
        );
        assert!(field(&info, "latency_percentiles_usec_client|id").is_some());
        assert_eq!(
            c.text(&[
                "CONFIG",
                "SET",
                "latency-tracking-info-percentiles",
                "0.0 50.0 100.0"
            ]),
            "+OK\r\n"
        );
        let info = c.text(&["INFO", "latencystats"]);
        let set = field(&info, "latency_percentiles_usec_set").unwrap();
        assert!(set.starts_with("p0=") && set.contains(",p100="), "{set}");
        c.run(&["CONFIG", "RESETSTAT"]);
        let info = c.text(&["INFO", "latencystats"]);
        assert_eq!(field(&info, "latency_percentiles_usec_set"), None);
        c.run(&["CONFIG", "SET", "latency-tracking", "no"]);
        c.run(&["SET", "a", "b"]);
        assert_eq!(
            field(
                &c.text(&["INFO", "latencystats"]),
                "latency_percentiles_usec_set"
            ),
            None
        );
    }

    #[test]
    fn default_sections_in_redis_order() {
        let mut c = TestClient::new();
        let info = c.text(&["INFO"]);
        assert!(info.starts_with('$'));
        assert_eq!(
            headers(&info),
            [
                "Server",
                "Clients",
                "Memory",
                "Persistence",
                "Stats",
                "Replication",
                "CPU",
                "Modules",
                "Errorstats",
                "Cluster",
                "Keyspace",
                "Latencystats"
            ]
        );
        assert_eq!(headers(&c.text(&["INFO", "default"])), headers(&info));
        assert!(!info.contains("rejected_calls"));
        let all = c.text(&["INFO", "all"]);
        assert!(all.contains("# Commandstats\r\n"));
        assert!(all.contains("rejected_calls"));
        assert_eq!(headers(&c.text(&["INFO", "everything"])).len(), 13);
    }

    #[test]
    fn section_selection() {
        let mut c = TestClient::new();
        let cpu = c.text(&["INFO", "cpu"]);
        assert_eq!(headers(&cpu), ["CPU"]);
        assert!(cpu.contains("used_cpu_user:"));
        assert!(!cpu.contains("used_memory"));
        assert_eq!(c.text(&["INFO", "sentinel"]), "$0\r\n\r\n");
        assert!(c.text(&["INFO", "commandSTATS"]).contains("rejected_calls"));
        // Two sections, each once, in Redis's order whatever the request's.
        let two = c.text(&["INFO", "keyspace", "cpu", "CPU", "cpu"]);
        assert_eq!(headers(&two), ["CPU", "Keyspace"]);
        let cpu_all = c.text(&["INFO", "cpu", "all"]);
        assert_eq!(cpu_all.matches("used_cpu_user_children").count(), 1);
        assert!(cpu_all.contains("master_repl_offset"));
        let cpu_default = c.text(&["INFO", "cpu", "default"]);
        assert!(cpu_default.contains("used_memory"));
        assert!(!cpu_default.contains("rejected_calls"));
        // Sections are separated by one empty line, and the text ends with a field line.
        assert!(two.contains("\r\n\r\n# Keyspace\r\n"));
    }

    #[test]
    fn server_fields() {
        let mut c = TestClient::new();
        let info = c.text(&["INFO", "server"]);
        let lines: Vec<&str> = info.split("\r\n").collect();
        assert_eq!(lines[1], "# Server");
        assert_eq!(lines[2], "redis_version:7.0.15");
        assert!(lines[3].starts_with("rust_redis_version:"));
        assert_eq!(field(&info, "redis_mode").as_deref(), Some("standalone"));
        assert_eq!(field(&info, "arch_bits").as_deref(), Some("64"));
        assert_eq!(field(&info, "tcp_port").as_deref(), Some("6379"));
        assert_eq!(field(&info, "hz").as_deref(), Some("10"));
        assert_eq!(field(&info, "configured_hz").as_deref(), Some("10"));
        assert_eq!(field(&info, "run_id").map(|r| r.len()), Some(40));
        assert_eq!(field(&info, "uptime_in_days").as_deref(), Some("0"));
        assert!(field(&info, "os").is_some_and(|os| !os.is_empty()));
        assert!(field(&info, "executable").is_some());
        assert_eq!(field(&info, "config_file").as_deref(), Some(""));
    }

    #[test]
    fn memory_and_persistence_fields() {
        let mut c = TestClient::with_config(&[("maxmemory", "100mb")]);
        let info = c.text(&["INFO", "memory", "persistence"]);
        let used: u64 = field(&info, "used_memory").unwrap().parse().unwrap();
        assert!(used > 0);
        assert!(
            field(&info, "used_memory_rss")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 0
        );
        assert_eq!(field(&info, "maxmemory").as_deref(), Some("104857600"));
        assert_eq!(field(&info, "maxmemory_human").as_deref(), Some("100.00M"));
        assert_eq!(
            field(&info, "mem_allocator").as_deref(),
            Some("jemalloc-5.3.0")
        );
        assert_eq!(field(&info, "loading").as_deref(), Some("0"));
        assert_eq!(field(&info, "aof_enabled").as_deref(), Some("0"));
        assert_eq!(field(&info, "rdb_bgsave_in_progress").as_deref(), Some("0"));
        let lastsave = c.text(&["LASTSAVE"]);
        assert_eq!(
            format!(":{}\r\n", field(&info, "rdb_last_save_time").unwrap()),
            lastsave
        );
    }

    #[test]
    fn human_sizes_as_redis_prints_them() {
        use super::bytes_to_human;
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(990_408), "967.20K");
        assert_eq!(bytes_to_human(12_517_376), "11.94M");
        assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
    }

    #[test]
    fn stats_commandstats_and_errorstats() {
        let mut c = TestClient::new();
        c.run(&["PING"]);
        c.run(&["PING"]);
        c.run(&["PING", "a", "b"]);
        c.run(&["NOSUCH"]);
        let info = c.text(&["INFO", "commandstats", "errorstats", "stats"]);
        // PING checks its own arity, so a bad call counts as called and failed, as in Redis.
        let ping = field(&info, "cmdstat_ping").unwrap();
        assert!(ping.starts_with("calls=3,usec="), "{ping}");
        assert!(ping.ends_with(",rejected_calls=0,failed_calls=1"), "{ping}");
        assert_eq!(field(&info, "errorstat_ERR").as_deref(), Some("count=2"));
        assert_eq!(field(&info, "total_error_replies").as_deref(), Some("2"));
        // INFO itself is counted only once it has run.
        assert_eq!(
            field(&info, "total_commands_processed").as_deref(),
            Some("3")
        );
        assert_eq!(
            field(&info, "instantaneous_ops_per_sec").as_deref(),
            Some("0")
        );
        assert_eq!(field(&info, "evicted_keys").as_deref(), Some("0"));
        let again = c.text(&["INFO", "commandstats"]);
        assert!(
            field(&again, "cmdstat_info")
                .unwrap()
                .starts_with("calls=1,")
        );
        assert!(
            c.text(&["CONFIG", "GET", "x"]).starts_with("*0")
                && field(&c.text(&["INFO", "commandstats"]), "cmdstat_config|get").is_some()
        );
    }

    #[test]
    fn replication_and_cpu_fields() {
        let mut c = TestClient::new();
        let info = c.text(&["INFO", "replication", "cpu", "cluster"]);
        assert_eq!(field(&info, "role").as_deref(), Some("master"));
        assert_eq!(field(&info, "connected_slaves").as_deref(), Some("0"));
        assert_eq!(field(&info, "master_replid").map(|r| r.len()), Some(40));
        assert_eq!(field(&info, "master_repl_offset").as_deref(), Some("0"));
        assert_eq!(
            field(&info, "repl_backlog_size").as_deref(),
            Some("1048576")
        );
        assert_eq!(field(&info, "cluster_enabled").as_deref(), Some("0"));
        let sys = field(&info, "used_cpu_sys").unwrap();
        assert_eq!(sys.split('.').nth(1).map(str::len), Some(6));
    }

    #[test]
    fn keyspace_lines_and_lookup_counts() {
        let mut c = TestClient::new();
        assert_eq!(field(&c.text(&["INFO", "keyspace"]), "db0"), None);
        let now = c.server.keyspace.databases();
        assert!(now >= 2);
        {
            let ks = &c.server.keyspace;
            let gate = ks.shared();
            let mut view = ks.lock_keys(&gate, 1, [b"a".as_slice(), b"b".as_slice()]);
            view.shard(b"a")
                .insert(common::keyspace::Entry::string(b"a", b"1", 0));
            view.shard(b"b")
                .insert(common::keyspace::Entry::string(b"b", b"2", 0));
            view.shard(b"b").set_expire(b"b", i64::MAX);
            view.shard(b"a").lookup_read(b"a", 0);
            view.shard(b"a").lookup_read(b"zz", 0);
        }
        let info = c.text(&["INFO", "keyspace", "stats"]);
        assert_eq!(
            field(&info, "db1").as_deref(),
            Some("keys=2,expires=1,avg_ttl=0")
        );
        assert_eq!(field(&info, "keyspace_hits").as_deref(), Some("1"));
        assert_eq!(field(&info, "keyspace_misses").as_deref(), Some("1"));
    }

    #[test]
    fn resp3_replies_a_verbatim_string() {
        let mut c = TestClient::new();
        c.client.set_protocol(common::resp::Protocol::Resp3);
        let reply = c.text(&["INFO", "cluster"]);
        assert_eq!(reply, "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
    }
}
