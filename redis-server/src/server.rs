//! The server's shared state, the listeners, the cron and shutdown.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use common::config::Config;
use common::keyspace::Keyspace;
use tokio::sync::Notify;

use crate::commands::Registry;
use crate::connection::ClientInfo;
use crate::counters::Striped;
use crate::log::Logger;
use crate::slowlog::SlowLog;

/// Shards per database: enough that two cores rarely meet on one lock, few enough that
/// whole-database commands (DBSIZE, KEYS) stay cheap.
pub(crate) const SHARDS_PER_DB: usize = 256;

/// Configuration values read on every command, copied out of [`Config`] when it changes.
pub(crate) struct HotConfig {
    pub proto_max_bulk_len: AtomicU64,
    pub client_query_buffer_limit: AtomicU64,
    pub maxclients: AtomicU64,
    /// `maxmemory-clients` in bytes (a percentage resolved against `maxmemory`); 0: off.
    pub client_eviction_limit: AtomicU64,
    pub timeout_secs: AtomicI64,
    pub hz: AtomicU64,
    pub active_expire_effort: AtomicU64,
    pub slowlog_log_slower_than: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// Members a set may have and stay `intset` encoded (`set-max-intset-entries`).
    pub set_max_intset_entries: AtomicU64,
    pub latency_tracking: AtomicBool,
    /// `latency-monitor-threshold` in milliseconds; 0 turns the latency monitor off.
    pub latency_monitor_threshold: AtomicU64,
    /// The `lazyfree-lazy-*` options, read on every deletion they govern.
    pub lazyfree_lazy_eviction: AtomicBool,
    pub lazyfree_lazy_expire: AtomicBool,
    pub lazyfree_lazy_server_del: AtomicBool,
    pub lazyfree_lazy_user_del: AtomicBool,
    pub lazyfree_lazy_user_flush: AtomicBool,
    pub latency_percentiles: RwLock<Vec<f64>>,
    pub hash_max_listpack_entries: AtomicU64,
    pub hash_max_listpack_value: AtomicU64,
    /// `list-max-listpack-size` and `list-compress-depth`: node limits of new lists.
    pub list_max_listpack_size: AtomicI64,
    pub list_compress_depth: AtomicU64,
    pub zset_max_listpack_entries: AtomicU64,
    pub zset_max_listpack_value: AtomicU64,
    pub min_replicas_to_write: AtomicU64,
    pub min_replicas_max_lag: AtomicU64,
    /// `maxmemory` in bytes, 0 for no limit.
    pub maxmemory: AtomicU64,
    /// `client-output-buffer-limit` by [`OutputClass`].
    pub output_limits: RwLock<[common::config::OutputBufferLimit; 3]>,
    pub stream_node_max_bytes: AtomicU64,
    pub stream_node_max_entries: AtomicU64,
    /// Longest sparse HyperLogLog string before it turns dense (`hll-sparse-max-bytes`).
    pub hll_sparse_max_bytes: AtomicU64,
    /// `notify-keyspace-events` as bits (see notify.rs); 0 publishes nothing.
    pub notify_keyspace_events: std::sync::atomic::AtomicU32,
    /// `tracking-table-max-keys` (0: no limit).
    pub tracking_table_max_keys: AtomicU64,
}

impl HotConfig {
    fn from_config(config: &Config) -> HotConfig {
        let hot = HotConfig {
            proto_max_bulk_len: AtomicU64::new(0),
            client_query_buffer_limit: AtomicU64::new(0),
            maxclients: AtomicU64::new(0),
            client_eviction_limit: AtomicU64::new(0),
            timeout_secs: AtomicI64::new(0),
            hz: AtomicU64::new(0),
            active_expire_effort: AtomicU64::new(0),
            slowlog_log_slower_than: AtomicI64::new(0),
            slowlog_max_len: AtomicU64::new(0),
            set_max_intset_entries: AtomicU64::new(0),
            latency_tracking: AtomicBool::new(true),
            latency_monitor_threshold: AtomicU64::new(0),
            lazyfree_lazy_eviction: AtomicBool::new(false),
            lazyfree_lazy_expire: AtomicBool::new(false),
            lazyfree_lazy_server_del: AtomicBool::new(false),
            lazyfree_lazy_user_del: AtomicBool::new(false),
            lazyfree_lazy_user_flush: AtomicBool::new(false),
            latency_percentiles: RwLock::new(Vec::new()),
            notify_keyspace_events: std::sync::atomic::AtomicU32::new(0),
            output_limits: RwLock::new(config.client_output_buffer_limits()),
            maxmemory: AtomicU64::new(0),
            min_replicas_to_write: AtomicU64::new(0),
            min_replicas_max_lag: AtomicU64::new(0),
            hll_sparse_max_bytes: AtomicU64::new(3000),
            hash_max_listpack_entries: AtomicU64::new(0),
            hash_max_listpack_value: AtomicU64::new(0),
            list_max_listpack_size: AtomicI64::new(-2),
            list_compress_depth: AtomicU64::new(0),
            zset_max_listpack_entries: AtomicU64::new(128),
            zset_max_listpack_value: AtomicU64::new(64),
            stream_node_max_bytes: AtomicU64::new(4096),
            stream_node_max_entries: AtomicU64::new(100),
            tracking_table_max_keys: AtomicU64::new(1_000_000),
        };
        hot.reload(config);
        hot
    }

    /// Copies every hot value out of `config`.
    pub(crate) fn reload(&self, config: &Config) {
        let int = |name: &str| config.get_int(name).unwrap_or(0);
        self.proto_max_bulk_len
            .store(int("proto-max-bulk-len") as u64, Relaxed);
        self.client_query_buffer_limit
            .store(int("client-query-buffer-limit") as u64, Relaxed);
        self.maxclients.store(int("maxclients") as u64, Relaxed);
        self.client_eviction_limit.store(
            crate::connection::eviction::limit(int("maxmemory-clients"), int("maxmemory") as u64),
            Relaxed,
        );
        self.zset_max_listpack_entries
            .store(int("zset-max-listpack-entries") as u64, Relaxed);
        self.zset_max_listpack_value
            .store(int("zset-max-listpack-value") as u64, Relaxed);
        self.stream_node_max_bytes
            .store(int("stream-node-max-bytes").max(0) as u64, Relaxed);
        self.stream_node_max_entries
            .store(int("stream-node-max-entries").max(0) as u64, Relaxed);
        self.timeout_secs.store(int("timeout"), Relaxed);
        self.tracking_table_max_keys
            .store(int("tracking-table-max-keys").max(0) as u64, Relaxed);
        self.hz.store(int("hz").clamp(1, 500) as u64, Relaxed);
        self.active_expire_effort
            .store(int("active-expire-effort").clamp(1, 10) as u64, Relaxed);
        self.slowlog_log_slower_than
            .store(int("slowlog-log-slower-than"), Relaxed);
        self.slowlog_max_len
            .store(int("slowlog-max-len") as u64, Relaxed);
        self.hash_max_listpack_entries
            .store(int("hash-max-listpack-entries") as u64, Relaxed);
        self.hash_max_listpack_value
            .store(int("hash-max-listpack-value") as u64, Relaxed);
        self.list_max_listpack_size
            .store(int("list-max-listpack-size"), Relaxed);
        self.list_compress_depth
            .store(int("list-compress-depth").max(0) as u64, Relaxed);
        self.hll_sparse_max_bytes
            .store(int("hll-sparse-max-bytes").max(0) as u64, Relaxed);
        self.latency_tracking
            .store(config.get_bool("latency-tracking").unwrap_or(true), Relaxed);
        self.latency_monitor_threshold
            .store(int("latency-monitor-threshold").max(0) as u64, Relaxed);
        for (flag, name) in self.lazyfree_options() {
            flag.store(config.get_bool(name).unwrap_or(false), Relaxed);
        }
        *self
            .latency_percentiles
            .write()
            .unwrap_or_else(PoisonError::into_inner) =
            config.latency_tracking_info_percentiles().to_vec();
        self.maxmemory.store(int("maxmemory") as u64, Relaxed);
        self.min_replicas_to_write
            .store(int("min-replicas-to-write").max(0) as u64, Relaxed);
        self.min_replicas_max_lag
            .store(int("min-replicas-max-lag").max(0) as u64, Relaxed);
        self.notify_keyspace_events
            .store(config.notify_keyspace_events(), Relaxed);
        *self
            .output_limits
            .write()
            .unwrap_or_else(PoisonError::into_inner) = config.client_output_buffer_limits();
        self.set_max_intset_entries
            .store(int("set-max-intset-entries").max(0) as u64, Relaxed);
    }

    fn lazyfree_options(&self) -> [(&AtomicBool, &'static str); 5] {
        [
            (&self.lazyfree_lazy_eviction, "lazyfree-lazy-eviction"),
            (&self.lazyfree_lazy_expire, "lazyfree-lazy-expire"),
            (&self.lazyfree_lazy_server_del, "lazyfree-lazy-server-del"),
            (&self.lazyfree_lazy_user_del, "lazyfree-lazy-user-del"),
            (&self.lazyfree_lazy_user_flush, "lazyfree-lazy-user-flush"),
        ]
    }

    /// Whether the `lazyfree-lazy-*` option `name` is on.
    pub(crate) fn lazyfree(&self, name: &str) -> bool {
        self.lazyfree_options()
            .iter()
            .find(|(_, n)| *n == name)
            .is_some_and(|(flag, _)| flag.load(Relaxed))
    }

    /// The hash encoding thresholds in force.
    pub(crate) fn hash_limits(&self) -> common::value::hash::HashLimits {
        let limit = |v: &AtomicU64| usize::try_from(v.load(Relaxed)).unwrap_or(usize::MAX);
        common::value::hash::HashLimits {
            max_entries: limit(&self.hash_max_listpack_entries),
            max_value: limit(&self.hash_max_listpack_value),
        }
    }

    /// The stream node limits in force.
    pub(crate) fn stream_limits(&self) -> common::value::stream::NodeLimits {
        let limit = |v: &AtomicU64| usize::try_from(v.load(Relaxed)).unwrap_or(usize::MAX);
        common::value::stream::NodeLimits {
            max_bytes: limit(&self.stream_node_max_bytes),
            max_entries: limit(&self.stream_node_max_entries),
        }
    }
}

/// Server-wide counters for INFO.
#[derive(Default)]
pub(crate) struct Stats {
    pub total_connections_received: AtomicU64,
    /// `total_commands_processed`, striped: every command on every core adds to it.
    commands_processed: Striped<1>,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Bytes of the replication stream sent to replicas.
    pub net_repl_output_bytes: AtomicU64,
    pub expired_keys: AtomicU64,
    /// Keys deleted by maxmemory eviction (INFO `evicted_keys`).
    pub evicted_keys: AtomicU64,
    /// Clients closed by `maxmemory-clients` (INFO `evicted_clients`).
    pub evicted_clients: AtomicU64,
    pub expired_stale_perc: AtomicU64,
    pub expire_cycle_cpu_milliseconds: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub client_query_buffer_limit_disconnections: AtomicU64,
    /// Times the active expiry cycle stopped because it ran out of time.
    pub expired_time_cap_reached_count: AtomicU64,
    /// Socket reads and writes that moved data (`total_reads_processed`,
    /// `total_writes_processed`).
    pub total_reads_processed: AtomicU64,
    pub total_writes_processed: AtomicU64,
    /// `errorstat_<CODE>` counters.
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// The `instantaneous_*` samplers, fed by the cron.
    pub instantaneous: Mutex<Instantaneous>,
    /// The highest `used_memory` seen (INFO `used_memory_peak`); RESETSTAT keeps it, as Redis does.
    pub peak_memory: AtomicU64,
}

impl Stats {
    pub(crate) fn count_command(&self) {
        self.commands_processed.add(0, 1);
    }

    pub(crate) fn total_commands_processed(&self) -> u64 {
        self.commands_processed.get(0)
    }

    pub(crate) fn count_error(&self, code: &str) {
        self.total_error_replies.fetch_add(1, Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        // Redis stops tracking new error codes past 128 to bound memory.
        if let Some(n) = errors.get_mut(code) {
            *n += 1;
        } else if errors.len() < 128 {
            errors.insert(code.to_owned(), 1);
        }
    }

    pub(crate) fn reset(&self) {
        self.commands_processed.reset();
        for counter in [
            &self.total_connections_received,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.net_repl_output_bytes,
            &self.expired_keys,
            &self.evicted_keys,
            &self.evicted_clients,
            &self.expired_stale_perc,
            &self.expire_cycle_cpu_milliseconds,
            &self.total_error_replies,
            &self.unexpected_error_replies,
            &self.client_query_buffer_limit_disconnections,
            &self.expired_time_cap_reached_count,
            &self.total_reads_processed,
            &self.total_writes_processed,
        ] {
            counter.store(0, Relaxed);
        }
        self.errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        *self
            .instantaneous
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instantaneous::starting_at(unix_ms());
    }

    /// Takes one sample of each `instantaneous_*` metric, at most every 100 ms (Redis's
    /// `serverCron` period for them). The cron calls this.
    pub(crate) fn sample_instantaneous(&self, now_ms: i64) {
        let mut inst = self
            .instantaneous
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now_ms - inst.last_sample_ms < Instantaneous::PERIOD_MS {
            return;
        }
        inst.last_sample_ms = now_ms;
        let readings = [
            self.total_commands_processed(),
            self.net_input_bytes.load(Relaxed),
            self.net_output_bytes.load(Relaxed),
        ];
        for (metric, reading) in inst.metrics.iter_mut().zip(readings) {
            metric.track(now_ms, reading);
        }
    }

    /// The mean of the recent samples of `metric`, per second.
    pub(crate) fn instantaneous(&self, metric: Metric) -> u64 {
        self.instantaneous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .metrics[metric as usize]
            .mean()
    }
}

/// What the `instantaneous_*` INFO fields sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    Commands = 0,
    NetInput = 1,
    NetOutput = 2,
}

/// Samples kept per metric: the mean of the last 16 readings, 100 ms apart, as in Redis.
const METRIC_SAMPLES: usize = 16;

#[derive(Debug, Clone, Copy)]
struct InstantMetric {
    samples: [u64; METRIC_SAMPLES],
    next: usize,
    last_time_ms: i64,
    last_reading: u64,
}

impl InstantMetric {
    fn starting_at(now_ms: i64) -> InstantMetric {
        InstantMetric {
            samples: [0; METRIC_SAMPLES],
            next: 0,
            last_time_ms: now_ms,
            last_reading: 0,
        }
    }

    fn track(&mut self, now_ms: i64, reading: u64) {
        let elapsed = now_ms - self.last_time_ms;
        let delta = reading.saturating_sub(self.last_reading);
        self.samples[self.next] = if elapsed > 0 {
            delta.saturating_mul(1000) / elapsed as u64
        } else {
            0
        };
        self.next = (self.next + 1) % METRIC_SAMPLES;
        self.last_time_ms = now_ms;
        self.last_reading = reading;
    }

    fn mean(&self) -> u64 {
        self.samples.iter().sum::<u64>() / METRIC_SAMPLES as u64
    }
}

/// The `instantaneous_*` samplers.
#[derive(Debug)]
pub(crate) struct Instantaneous {
    metrics: [InstantMetric; 3],
    last_sample_ms: i64,
}

impl Instantaneous {
    const PERIOD_MS: i64 = 100;

    fn starting_at(now_ms: i64) -> Instantaneous {
        Instantaneous {
            metrics: [InstantMetric::starting_at(now_ms); 3],
            last_sample_ms: now_ms,
        }
    }
}

impl Default for Instantaneous {
    fn default() -> Self {
        Instantaneous::starting_at(unix_ms())
    }
}

/// Current values other families keep up to date for INFO (not statistics: RESETSTAT leaves
/// them alone).
#[derive(Default)]
pub(crate) struct Gauges {
    /// Blocked clients with a timeout.
    pub clients_in_timeout_table: AtomicU64,
}

/// What jemalloc and the kernel say about our memory, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MemoryStats {
    /// Bytes the program has allocated (Redis's `used_memory`).
    pub allocated: u64,
    /// Bytes in the allocator's active pages.
    pub active: u64,
    /// Bytes of physical memory the allocator holds.
    pub resident: u64,
    /// The process's resident set size.
    pub process_rss: u64,
}

impl MemoryStats {
    /// Bytes allocated now (INFO `used_memory`), for the `maxmemory` check.
    pub(crate) fn allocated_now() -> u64 {
        use tikv_jemalloc_ctl::{epoch, stats};
        let _ = epoch::advance();
        live_bytes(stats::allocated::read().unwrap_or(0) as u64)
    }

    /// Reads fresh figures (advancing jemalloc's statistics epoch first).
    pub(crate) fn read() -> MemoryStats {
        use tikv_jemalloc_ctl::{epoch, stats};
        // Statistics are cached per epoch; a failure leaves the previous epoch's figures.
        let _ = epoch::advance();
        let allocated = live_bytes(stats::allocated::read().unwrap_or(0) as u64);
        let active = stats::active::read().unwrap_or(0) as u64;
        let resident = stats::resident::read().unwrap_or(0) as u64;
        MemoryStats {
            allocated,
            active,
            resident,
            process_rss: process_rss().unwrap_or(resident),
        }
    }
}

/// Bytes the program holds: jemalloc's `stats.allocated` minus what the threads' caches
/// hold. Freed small objects wait in a thread's cache (and a thread refills its cache in
/// batches) while still counted as allocated, which would make `used_memory` swing by
/// hundreds of KB and eviction overshoot, where Redis's own counter is exact.
fn live_bytes(allocated: u64) -> u64 {
    // SAFETY: the name is NUL-terminated and this statistic is a size_t.
    let cached =
        unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"stats.arenas.4096.tcache_bytes\0") };
    allocated.saturating_sub(cached.unwrap_or(0) as u64)
}

/// The bytes the allocator really takes for a request of `bytes` (its size class), as
/// Redis's `zmalloc_size` reports for a buffer.
pub(crate) fn allocation_size(bytes: usize) -> usize {
    if bytes == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size class; it touches no memory.
    let real = unsafe { tikv_jemalloc_sys::nallocx(bytes, 0) };
    if real == 0 { bytes } else { real }
}

/// The size of a memory page.
pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

/// Resident set size from `/proc/self/statm` (Linux); `None` elsewhere.
fn process_rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// Which commands CLIENT PAUSE holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseKind {
    /// Only commands that may write (and EVAL/PUBLISH-like ones).
    Write,
    All,
}

/// CLIENT PAUSE state.
#[derive(Default)]
pub(crate) struct Pause {
    /// True while a pause may be in force: every command reads it, so it is a plain atomic and
    /// the lock is taken only when it is set.
    active: AtomicBool,
    state: Mutex<Option<(PauseKind, Instant)>>,
    /// Woken on CLIENT UNPAUSE and when a pause is replaced.
    pub changed: Notify,
    /// Clients whose command waits for the pause to end: Redis counts them in INFO
    /// `blocked_clients`.
    pub postponed: AtomicUsize,
}

impl Pause {
    pub(crate) fn pause(&self, kind: PauseKind, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // A new pause never shortens or weakens the current one (Redis keeps the stricter).
        let merged = match *state {
            Some((old_kind, old_until)) if old_until > Instant::now() => {
                let kind = if old_kind == PauseKind::All || kind == PauseKind::All {
                    PauseKind::All
                } else {
                    PauseKind::Write
                };
                (kind, until.max(old_until))
            }
            _ => (kind, until),
        };
        *state = Some(merged);
        self.active.store(true, Relaxed);
        self.changed.notify_waiters();
    }

    pub(crate) fn unpause(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.active.store(false, Relaxed);
        self.changed.notify_waiters();
    }

    /// The current pause, if one is in force.
    pub(crate) fn current(&self) -> Option<(PauseKind, Instant)> {
        if !self.active.load(Relaxed) {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let current = state.filter(|(_, until)| *until > Instant::now());
        if current.is_none() {
            *state = None;
            self.active.store(false, Relaxed);
        }
        current
    }
}

/// The classes of `client-output-buffer-limit`, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputClass {
    Normal = 0,
    // 1 is the replica class, for replication.
    Pubsub = 2,
}

/// What a listening port speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `port`.
    Tcp = 0,
    /// `tls-port`.
    Tls = 1,
}

/// Replaces the listeners of a transport with ones on a new port (0: none), keeping the old
/// ones when binding fails; the error is logged already. Set by `main` once the workers run.
/// The binds and backlog come from the configuration given (the one being set).
pub(crate) type Rebind = Box<dyn Fn(&Config, Transport, u16) -> Result<(), String> + Send + Sync>;

/// Everything the connections share.
pub(crate) struct Server {
    pub keyspace: Arc<Keyspace>,
    pub config: RwLock<Config>,
    pub hot: HotConfig,
    pub registry: Registry,
    pub stats: Stats,
    /// maxmemory eviction: policy, sampling pool, timing.
    pub evictor: crate::evict::Evictor,
    pub log: Logger,
    pub slowlog: SlowLog,
    /// LATENCY's event samples.
    pub latency_monitor: crate::latency_monitor::LatencyMonitor,
    /// The background thread that frees big values and flushed databases.
    pub lazyfree: crate::lazyfree::LazyFree,
    pub pause: Pause,
    /// Connected clients by id (CLIENT LIST order).
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    /// What the connected clients use together (see `connection::eviction`).
    pub clients_memory: AtomicUsize,
    /// Clients in MONITOR mode; `has_monitors` lets dispatch skip the lock when there are none.
    pub monitors: Mutex<Vec<Arc<ClientInfo>>>,
    pub has_monitors: AtomicBool,
    pub started: Instant,
    pub started_unix_ms: i64,
    pub run_id: String,
    pub executable: String,
    pub config_file: Option<String>,
    pub tcp_port: AtomicU64,
    pub lastsave_unix: AtomicI64,
    /// RDB saving and loading state (INFO persistence), shared with the background save.
    pub rdb: Arc<crate::persistence::rdb::RdbStatus>,
    /// Changes since the last save (Redis's `server.dirty`, INFO `rdb_changes_since_last_save`):
    /// write handlers add the number of changes they made.
    pub dirty: AtomicU64,
    /// The replication id (INFO `master_replid`).
    pub replid: Mutex<String>,
    /// `used_memory` once start-up was done (INFO `used_memory_startup`).
    pub startup_memory: u64,
    pub gauges: Gauges,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    /// Keys clients WATCH.
    pub watches: crate::watch::Watches,
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching: the tracking table and BCAST prefixes.
    pub tracking: crate::tracking::Tracking,
    /// Users, the ACL log.
    pub acl: crate::acl::Acl,
    pub active_expire_enabled: AtomicBool,
    /// DEBUG PAUSE-CRON: the cron skips its work while set.
    pub cron_paused: AtomicBool,
    /// Turns true on SHUTDOWN or a signal; the accept loops and connections watch it.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    pub shutting_down: AtomicBool,
    /// A SIGTERM/SIGINT asked for a shutdown that has not been carried out yet (the cron
    /// does it; SHUTDOWN ABORT takes it back).
    pub shutdown_asap: AtomicBool,
    /// `server-threads` actually used.
    pub threads: usize,
    /// The Lua engine, the script cache and function libraries.
    pub scripting: crate::commands::scripting::Scripting,
    /// The replication stream: propagated writes for replicas and the AOF.
    pub feed: crate::replication::Feed,
    /// This server as a replica (REPLICAOF): the master, the link's state.
    pub replica: crate::replication::replica::Link,
    /// The append-only file (shared with its rewrite thread).
    pub aof: Arc<crate::persistence::aof::Aof>,
    /// The TLS contexts (`tls-*` directives).
    pub tls: crate::tls::Tls,
    /// CONFIG SET `port` / `tls-port`: rebinds the listeners.
    pub rebind: OnceLock<Rebind>,
}

impl Server {
    /// The current replication id.
    pub(crate) fn replid(&self) -> String {
        self.replid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: Config,
        config_file: Option<String>,
        executable: String,
        log: Logger,
        threads: usize,
    ) -> Server {
        let databases = config.get_int("databases").unwrap_or(16).max(1) as usize;
        let hot = HotConfig::from_config(&config);
        let now_ms = unix_ms();
        let server = Server {
            keyspace: Arc::new(Keyspace::new(databases, SHARDS_PER_DB)),
            registry: Registry::new(),
            stats: Stats::default(),
            evictor: crate::evict::Evictor::new(),
            slowlog: SlowLog::default(),
            latency_monitor: crate::latency_monitor::LatencyMonitor::default(),
            lazyfree: crate::lazyfree::LazyFree::default(),
            pause: Pause::default(),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            clients_memory: AtomicUsize::new(0),
            monitors: Mutex::new(Vec::new()),
            has_monitors: AtomicBool::new(false),
            started: Instant::now(),
            started_unix_ms: now_ms,
            run_id: random_hex(40),
            executable,
            config_file,
            tcp_port: AtomicU64::new(config.get_int("port").unwrap_or(6379) as u64),
            lastsave_unix: AtomicI64::new(now_ms / 1000),
            rdb: Arc::default(),
            dirty: AtomicU64::new(0),
            replid: Mutex::new(random_hex(40)),
            startup_memory: MemoryStats::read().allocated,
            gauges: Gauges::default(),
            blocking: crate::blocking::Blocking::default(),
            watches: crate::watch::Watches::default(),
            pubsub: crate::pubsub::PubSub::default(),
            tracking: crate::tracking::Tracking::default(),
            acl: crate::acl::Acl::default(),
            active_expire_enabled: AtomicBool::new(true),
            cron_paused: AtomicBool::new(false),
            shutdown: tokio::sync::watch::Sender::new(false),
            shutting_down: AtomicBool::new(false),
            shutdown_asap: AtomicBool::new(false),
            threads,
            scripting: crate::commands::scripting::Scripting::new(),
            feed: crate::replication::Feed::default(),
            replica: crate::replication::replica::Link::default(),
            aof: Arc::default(),
            tls: crate::tls::Tls::default(),
            rebind: OnceLock::new(),
            config: RwLock::new(config),
            hot,
            log,
        };
        server.acl.sync_requirepass(&server.config());
        server.evictor.reload(&server.keyspace, &server.config());
        server
            .keyspace
            .set_lazy_expire(server.hot.lazyfree_lazy_expire.load(Relaxed));
        server
            .keyspace
            .set_record_created(crate::notify::wants(&server, crate::effects::Event::New));
        server
    }

    /// Whether an output buffer of `pending` bytes breaks `class`'s limit: over the hard limit,
    /// or over the soft limit for longer than its seconds (`soft_since` remembers when it
    /// went over; Redis closes only on a later check, once that time has passed).
    pub(crate) fn output_limit_exceeded(
        &self,
        class: OutputClass,
        pending: u64,
        soft_since: &AtomicI64,
    ) -> bool {
        let limit = self
            .hot
            .output_limits
            .read()
            .unwrap_or_else(PoisonError::into_inner)[class as usize];
        if limit.hard_bytes > 0 && pending >= limit.hard_bytes {
            return true;
        }
        if limit.soft_bytes == 0 || pending < limit.soft_bytes {
            soft_since.store(0, Relaxed);
            return false;
        }
        let now = unix_ms();
        let since = soft_since.load(Relaxed);
        if since == 0 {
            soft_since.store(now, Relaxed);
            return false;
        }
        now - since > limit.soft_seconds * 1000
    }

    /// True when `min-replicas-to-write` refuses writes: a master with fewer replicas than
    /// that whose last acknowledgement is at most `min-replicas-max-lag` seconds old.
    /// The CLIENT PAUSE in force, if any. Keeps the keyspace's expiry hold in step with it:
    /// Redis expires (and evicts) nothing while clients are paused.
    pub(crate) fn clients_paused(&self) -> Option<(PauseKind, Instant)> {
        let current = self.pause.current();
        if current.is_none() && self.keyspace.expiry_held() {
            self.keyspace.hold_expiry(false);
        }
        current
    }

    pub(crate) fn too_few_replicas(&self) -> bool {
        let wanted = self.hot.min_replicas_to_write.load(Relaxed);
        let max_lag = self.hot.min_replicas_max_lag.load(Relaxed);
        if wanted == 0 || max_lag == 0 || self.replica.is_replica() {
            return false;
        }
        (self.good_replicas(max_lag) as u64) < wanted
    }

    /// Replicas whose last acknowledgement is at most `max_lag` seconds old (Redis's
    /// `repl_good_slaves_count`, counted in whole seconds as Redis does).
    pub(crate) fn good_replicas(&self, max_lag: u64) -> usize {
        let now_secs = unix_ms() / 1000;
        self.feed
            .lock()
            .replicas
            .values()
            .filter(|r| (now_secs - r.last_ack_ms / 1000).max(0) as u64 <= max_lag)
            .count()
    }

    /// Records a latency monitor sample of `latency_ms` for `event` if it is a spike.
    pub(crate) fn latency_sample(&self, event: &str, latency_ms: u64) {
        let threshold = self.hot.latency_monitor_threshold.load(Relaxed);
        self.latency_monitor.record(threshold, event, latency_ms);
    }

    /// Records the time since `started` for `event` if it is a spike.
    pub(crate) fn latency_since(&self, event: &str, started: Instant) {
        if self.hot.latency_monitor_threshold.load(Relaxed) != 0 {
            self.latency_sample(event, started.elapsed().as_millis() as u64);
        }
    }

    pub(crate) fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn config_mut(&self) -> std::sync::RwLockWriteGuard<'_, Config> {
        self.config.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register_client(&self, info: Arc<ClientInfo>) {
        self.connected_clients.fetch_add(1, Relaxed);
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(info.id, info);
    }

    pub(crate) fn unregister_client(&self, id: u64) {
        self.connected_clients.fetch_sub(1, Relaxed);
        let removed = self
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(info) = removed {
            // Pushes that still reach it must not count it again.
            info.killed.store(true, Relaxed);
            crate::connection::eviction::forget(self, &info);
        }
        let mut monitors = self.monitors.lock().unwrap_or_else(PoisonError::into_inner);
        monitors.retain(|m| m.id != id);
        self.has_monitors.store(!monitors.is_empty(), Relaxed);
    }

    /// A snapshot of the connected clients, in id order.
    pub(crate) fn client_list(&self) -> Vec<Arc<ClientInfo>> {
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn add_monitor(&self, info: Arc<ClientInfo>) {
        let mut monitors = self.monitors.lock().unwrap_or_else(PoisonError::into_inner);
        if !monitors.iter().any(|m| m.id == info.id) {
            monitors.push(info);
        }
        self.has_monitors.store(true, Relaxed);
    }

    /// Asks every task to stop; the caller exits once connections are closed.
    pub(crate) fn request_shutdown(&self) {
        self.shutting_down.store(true, Relaxed);
        self.shutdown.send_replace(true);
    }

    pub(crate) fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The cron's statistics step: the `instantaneous_*` samples and the memory peak.
    pub(crate) fn cron_stats(&self) {
        self.stats.sample_instantaneous(unix_ms());
        self.stats
            .peak_memory
            .fetch_max(MemoryStats::read().allocated, Relaxed);
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Microseconds since the Unix epoch.
pub(crate) fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `len` random lowercase hex digits (run ids).
pub(crate) fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}
