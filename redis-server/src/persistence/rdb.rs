//! RDB snapshots on disk: SAVE, BGSAVE, save points, SHUTDOWN's final save, DEBUG RELOAD,
//! and loading `dir`/`dbfilename` at start-up.
//!
//! Snapshot design (no fork): [`begin_snapshot`], under the exclusive gate, records the
//! header facts (aux fields, key counts, the eviction clock) and marks every shard pending,
//! in O(shards); each shard is then copied before anything may change it and encoded off its
//! lock (`common::keyspace::snapshot`), so the image is one instant of the dataset exactly as
//! Redis's fork gives, while clients go on. [`PendingSnapshot::complete`] does that on a
//! background thread (BGSAVE, AOF rewrite, replica full sync) and assembles the file;
//! [`PendingSnapshot::complete_in`] does it under the gate (SAVE). Memory grows by the size of
//! the file (plus copies not yet encoded) while a snapshot runs, where a fork costs only the
//! pages written meanwhile. The file goes to `temp-<pid>.rdb` first, as in Redis.
//!
//! A background save reports through [`RdbStatus`]; the cron collects the result (Redis's
//! `checkChildrenDone`), then updates LASTSAVE, the dirty counter and the log.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::child::{Kind, WriterChild, wait_key_delay};

use common::keyspace::{
    Entry, EvictionInfo, Keyspace, Locked, SnapshotJob, SnapshotOptions, lru_clock,
};
use common::rdb::reader::{self, Limits, Object, Record};
use common::rdb::writer::RdbWriter;

use crate::server::{MemoryStats, Server, unix_ms};

/// How long after a failed background save the save points may try again.
const BGSAVE_RETRY_DELAY_SECS: i64 = 5;
/// Bytes the encoder gathers before handing them to the file.
const WRITE_CHUNK: usize = 1 << 20;
/// Bytes written between two syncs with `rdb-save-incremental-fsync yes`.
const AUTOSYNC_BYTES: usize = 4 << 20;

/// The state INFO persistence reports, shared with the background save thread.
#[derive(Debug)]
pub(crate) struct RdbStatus {
    pub bgsave_in_progress: AtomicBool,
    pub bgsave_scheduled: AtomicBool,
    pub last_bgsave_ok: AtomicBool,
    pub last_bgsave_time_sec: AtomicI64,
    pub last_bgsave_try_unix: AtomicI64,
    pub saves: AtomicU64,
    pub last_load_keys_loaded: AtomicU64,
    pub last_load_keys_expired: AtomicU64,
    /// INFO `dump_payload_sanitizations`: listpacks and intsets RESTORE checked deeply while
    /// `sanitize-dump-payload` asked for it.
    pub dump_payload_sanitizations: AtomicU64,
    /// SHUTDOWN has already done (or declined) the final save.
    pub final_save_done: AtomicBool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and loaded files go unchecked.
    pub skip_checksum_validation: AtomicBool,
    /// A dataset is being loaded (start-up, DEBUG LOADAOF): clients get `-LOADING` for the
    /// commands not flagged `loading`, and INFO reports the load.
    pub loading: AtomicBool,
    /// Unix seconds the load started, and the bytes it reads (INFO `loading_*`).
    pub loading_start_unix: AtomicI64,
    pub loading_total_bytes: AtomicU64,
    pub loading_loaded_bytes: AtomicU64,
    /// INFO `total_forks`: writer children started (see `persistence::child`).
    pub forks: AtomicU64,
    /// INFO `rdb_last_cow_size`: what the last background save copied for writers.
    pub last_cow_bytes: AtomicU64,
    /// Set to make a running background save give up (SHUTDOWN, DEBUG RELOAD).
    cancel: AtomicBool,
    running: Mutex<Option<Running>>,
    finished: Mutex<Option<Result<(), String>>>,
}

#[derive(Debug)]
struct Running {
    started: Instant,
    /// The dirty counter when the snapshot was taken.
    dirty: u64,
    /// The Unix time (seconds) of the snapshot.
    taken_unix: i64,
    /// The snapshot being taken, for its progress (INFO's `current_save_keys_*`, `*_cow_*`).
    job: Arc<SnapshotJob>,
}

/// A running save's progress as INFO reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SaveProgress {
    pub keys_total: u64,
    pub keys_processed: u64,
    /// Bytes the snapshot copied because clients wrote to shards before it got there.
    pub cow_bytes: u64,
}

impl SaveProgress {
    pub(crate) fn of(job: &SnapshotJob) -> SaveProgress {
        SaveProgress {
            keys_total: job.keys(),
            keys_processed: job.visited(),
            cow_bytes: job.copied_for_writers(),
        }
    }
}

impl Default for RdbStatus {
    fn default() -> Self {
        RdbStatus {
            bgsave_in_progress: AtomicBool::new(false),
            bgsave_scheduled: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_time_sec: AtomicI64::new(-1),
            last_bgsave_try_unix: AtomicI64::new(0),
            saves: AtomicU64::new(0),
            last_load_keys_loaded: AtomicU64::new(0),
            loading: AtomicBool::new(false),
            loading_start_unix: AtomicI64::new(0),
            loading_total_bytes: AtomicU64::new(0),
            loading_loaded_bytes: AtomicU64::new(0),
            forks: AtomicU64::new(0),
            last_cow_bytes: AtomicU64::new(0),
            last_load_keys_expired: AtomicU64::new(0),
            dump_payload_sanitizations: AtomicU64::new(0),
            final_save_done: AtomicBool::new(false),
            skip_checksum_validation: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            running: Mutex::new(None),
            finished: Mutex::new(None),
        }
    }
}

impl RdbStatus {
    /// The running background save's progress, if one runs.
    pub(crate) fn progress(&self) -> Option<SaveProgress> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|r| SaveProgress::of(&r.job))
    }

    /// Seconds the running background save has taken so far, or -1.
    pub(crate) fn current_bgsave_secs(&self) -> i64 {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(-1, |r| r.started.elapsed().as_secs() as i64)
    }
}

/// The text of the MISCONF error (after its code).
pub(crate) const MISCONF: &str = "Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Whether write commands (and PING) are refused because the last background save failed
/// (`stop-writes-on-bgsave-error` with save points configured).
pub(crate) fn writes_denied(server: &Server) -> bool {
    if server.rdb.last_bgsave_ok.load(Relaxed) {
        return false;
    }
    let config = server.config();
    config
        .get_bool("stop-writes-on-bgsave-error")
        .unwrap_or(true)
        && !config.save_params().is_empty()
}

/// One instant of the keyspace, encoded as a whole RDB file.
pub(crate) struct Snapshot {
    bytes: Vec<u8>,
    keys: u64,
    taken_ms: i64,
    dirty: u64,
}

impl Snapshot {
    /// The encoded file, kept.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The encoded file.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many keys it holds.
    pub(crate) fn keys(&self) -> u64 {
        self.keys
    }
}

/// What a save needs from the configuration, read once.
#[derive(Debug, Clone)]
pub(crate) struct SaveOptions {
    pub filename: String,
    pub compress: bool,
    pub checksum: bool,
    /// `rdb-key-save-delay`: microseconds a save spends per key (the suite slows saves down
    /// with it); a background save waits that long in total before writing.
    pub key_delay_us: i64,
    /// The snapshot is an AOF base (aux `aof-base` 1).
    pub aof_base: bool,
    /// `rdb-save-incremental-fsync`.
    pub incremental_fsync: bool,
}

impl SaveOptions {
    pub(crate) fn from_server(server: &Server) -> SaveOptions {
        let config = server.config();
        SaveOptions {
            filename: config
                .get_str("dbfilename")
                .unwrap_or("dump.rdb")
                .to_owned(),
            compress: config.get_bool("rdbcompression").unwrap_or(true),
            checksum: config.get_bool("rdbchecksum").unwrap_or(true),
            key_delay_us: config.get_int("rdb-key-save-delay").unwrap_or(0),
            aof_base: false,
            incremental_fsync: config
                .get_bool("rdb-save-incremental-fsync")
                .unwrap_or(true),
        }
    }
}

/// The encoding thresholds values load with.
pub(crate) fn limits(server: &Server) -> Limits {
    let hot = &server.hot;
    let limit = |v: &AtomicU64| usize::try_from(v.load(Relaxed)).unwrap_or(usize::MAX);
    Limits {
        hash: hot.hash_limits(),
        zset: common::value::sorted_set::Limits {
            max_entries: limit(&hot.zset_max_listpack_entries),
            max_value: limit(&hot.zset_max_listpack_value),
        },
        set_max_intset_entries: limit(&hot.set_max_intset_entries),
        list_max_listpack_size: hot.list_max_listpack_size.load(Relaxed) as i32,
        list_compress_depth: limit(&hot.list_compress_depth),
    }
}

/// A snapshot started at one instant whose shards are still being captured.
pub(crate) struct PendingSnapshot {
    job: Arc<SnapshotJob>,
    keyspace: Arc<Keyspace>,
    /// The header (magic, aux fields, function libraries), not yet taken.
    writer: RdbWriter,
    taken_ms: i64,
    dirty: u64,
}

impl std::fmt::Debug for PendingSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSnapshot")
            .field("job", &self.job)
            .field("taken_ms", &self.taken_ms)
            .finish_non_exhaustive()
    }
}

impl Drop for PendingSnapshot {
    /// A snapshot given up before it completed (its thread could not start) stops capturing.
    fn drop(&mut self) {
        self.keyspace.complete_snapshot(&self.job, |_| false);
    }
}

impl PendingSnapshot {
    /// The dirty counter at the snapshot's instant.
    pub(crate) fn dirty(&self) -> u64 {
        self.dirty
    }

    /// Unix milliseconds of the snapshot's instant.
    pub(crate) fn taken_ms(&self) -> i64 {
        self.taken_ms
    }

    /// Captures the shards nobody touched yet, one at a time and without the gate (call it
    /// on a thread of its own), then assembles the file. `None` once `cancel` is set.
    pub(crate) fn complete(self, cancel: Option<&AtomicBool>) -> Option<Snapshot> {
        self.complete_with(|_| !cancel.is_some_and(|c| c.load(Relaxed)))
    }

    /// [`PendingSnapshot::complete`], asking `keep_going` after each shard (with the entries
    /// it held) whether to go on.
    pub(crate) fn complete_with(self, keep_going: impl FnMut(usize) -> bool) -> Option<Snapshot> {
        let _yielding = crate::workers::BackgroundPriority::lower();
        let done = self.keyspace.complete_snapshot(&self.job, keep_going);
        if done { self.assemble() } else { None }
    }

    /// The snapshot being taken.
    pub(crate) fn job(&self) -> Arc<SnapshotJob> {
        Arc::clone(&self.job)
    }

    /// Captures every remaining shard now, through `view` (the exclusive gate is held: SAVE).
    pub(crate) fn complete_in(self, view: &mut Locked<'_>) -> Snapshot {
        view.complete_snapshot(&self.job);
        self.assemble()
            .expect("a snapshot completed under the gate has every shard")
    }

    /// The header, then per database SELECTDB/RESIZEDB and its shards' records in order, then
    /// EOF and the CRC64 over all of it. Each shard's image is freed as it is copied.
    fn assemble(mut self) -> Option<Snapshot> {
        let mut bytes = Vec::new();
        for db in 0..self.job.databases() {
            let (keys, volatile) = self.job.counts(db);
            if keys == 0 {
                continue;
            }
            self.writer.select_db(db, keys, volatile);
            let w = &mut self.writer;
            let complete = self.job.take_images(db, |image| {
                bytes.extend_from_slice(&w.take_before(&image));
                bytes.extend_from_slice(&image);
            });
            if !complete {
                return None;
            }
        }
        bytes.extend_from_slice(&self.writer.take());
        let writer = std::mem::replace(&mut self.writer, RdbWriter::new(false, false));
        bytes.extend_from_slice(&writer.finish());
        Some(Snapshot {
            bytes,
            keys: self.job.keys(),
            taken_ms: self.taken_ms,
            dirty: self.dirty,
        })
    }
}

/// Starts a snapshot of every database through `view`, which must sit under the exclusive
/// gate: records the header and the key counts, and marks every shard for capture. Cheap
/// (one lock per shard); complete it with [`PendingSnapshot::complete`] or
/// [`PendingSnapshot::complete_in`]. A snapshot already running is completed first.
pub(crate) fn begin_snapshot(
    server: &Server,
    view: &mut Locked<'_>,
    opts: &SaveOptions,
) -> PendingSnapshot {
    let lru = server
        .config()
        .get_str("maxmemory-policy")
        .unwrap_or_default()
        .contains("lru");
    let access = server.keyspace.access_policy();
    let taken_ms = unix_ms();
    let eviction = if lru {
        EvictionInfo::Idle {
            clock: lru_clock(taken_ms),
        }
    } else if access.lfu {
        EvictionInfo::Freq {
            policy: access,
            now_ms: taken_ms,
        }
    } else {
        EvictionInfo::None
    };
    let job = view.begin_snapshot(SnapshotOptions {
        compress: opts.compress,
        eviction,
    });
    // Redis 7.0's version unless a hash has field TTLs (see `writer::version_for`).
    let version = if job.has_field_ttls() {
        common::rdb::RDB_VERSION_FIELD_TTLS
    } else {
        common::rdb::RDB_VERSION
    };
    let w = header(server, opts, version, taken_ms, true);
    PendingSnapshot {
        job,
        keyspace: Arc::clone(&server.keyspace),
        writer: w,
        taken_ms,
        dirty: server.dirty.load(Relaxed),
    }
}

/// A file's start, as Redis 7.0 writes it: the AUX fields, then every function library when
/// `functions`.
fn header(
    server: &Server,
    opts: &SaveOptions,
    version: u16,
    taken_ms: i64,
    functions: bool,
) -> RdbWriter {
    let mut w = RdbWriter::with_version(opts.compress, opts.checksum, version);
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes());
    w.aux_int("redis-bits", 64);
    w.aux_int("ctime", taken_ms / 1000);
    w.aux_int("used-mem", MemoryStats::read().allocated as i64);
    w.aux_int("aof-base", i64::from(opts.aof_base));
    if functions {
        for code in server.scripting.library_codes() {
            w.function(&code);
        }
    }
    w
}

/// A file with no keys: the header and, when `functions`, every function library; what a
/// replica that filtered the data out (`REPLCONF rdb-filter-only`) is sent.
pub(crate) fn without_data(server: &Server, opts: &SaveOptions, functions: bool) -> Vec<u8> {
    let mut w = header(server, opts, common::rdb::RDB_VERSION, unix_ms(), functions);
    let mut bytes = w.take();
    bytes.extend_from_slice(&w.finish());
    bytes
}

/// A whole snapshot taken now, in the foreground, through `view` (exclusive gate).
pub(crate) fn take_snapshot(
    server: &Server,
    view: &mut Locked<'_>,
    opts: &SaveOptions,
) -> Snapshot {
    begin_snapshot(server, view, opts).complete_in(view)
}

/// Writes `snapshot` to `temp-<tag>.rdb`, syncs it and renames it over the configured file.
fn write_file(
    snapshot: &Snapshot,
    opts: &SaveOptions,
    tag: &str,
    cancel: Option<&AtomicBool>,
    writer: Option<WriterChild>,
) -> Result<(), String> {
    const CANCELLED: &str = "Write error saving DB on disk: save cancelled";
    let cancelled = || cancel.is_some_and(|c| c.load(Relaxed));
    if let Some(writer) = writer {
        // A background save was slowed down while its shards were visited.
        if cancelled() {
            writer.abandon();
            return Err(CANCELLED.into());
        }
        let tmp = writer.finish(&snapshot.bytes)?;
        return std::fs::rename(&tmp, &opts.filename).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("Write error saving DB on disk: {e}")
        });
    }
    let tmp = format!("temp-{tag}.rdb");
    let file = std::fs::File::create(&tmp).map_err(|e| {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        format!("Failed opening the temp RDB file {tmp} (in server root dir {cwd}) for saving: {e}")
    })?;
    // The file exists while a slowed-down save runs, as Redis writes it key by key.
    if !wait_key_delay(snapshot.keys, opts.key_delay_us, cancelled) {
        let _ = std::fs::remove_file(&tmp);
        return Err(CANCELLED.into());
    }
    let mut out = std::io::BufWriter::with_capacity(WRITE_CHUNK, file);
    // `rdb-save-incremental-fsync`: a sync every 4 MB (`REDIS_AUTOSYNC_BYTES`), so the
    // kernel never holds a whole snapshot of dirty pages.
    let step = if opts.incremental_fsync {
        AUTOSYNC_BYTES
    } else {
        usize::MAX
    };
    let written = snapshot
        .bytes
        .chunks(step)
        .try_for_each(|chunk| {
            out.write_all(chunk)?;
            out.flush()?;
            if opts.incremental_fsync {
                out.get_ref().sync_data()?;
            }
            Ok(())
        })
        .and_then(|()| out.get_ref().sync_all())
        .and_then(|()| std::fs::rename(&tmp, &opts.filename));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Write error saving DB on disk: {e}"));
    }
    Ok(())
}

/// A foreground save (SAVE, SHUTDOWN, DEBUG RELOAD, FLUSHALL with save points): `view` is
/// under the exclusive gate. Logs as Redis does; on success resets the dirty counter.
pub(crate) fn save(server: &Server, view: &mut Locked<'_>) -> Result<(), String> {
    let opts = SaveOptions::from_server(server);
    let snapshot = take_snapshot(server, view, &opts);
    match write_file(
        &snapshot,
        &opts,
        &std::process::id().to_string(),
        None,
        None,
    ) {
        Ok(()) => {
            server.log.notice("DB saved on disk");
            saved(server, &snapshot);
            server.rdb.last_bgsave_ok.store(true, Relaxed);
            Ok(())
        }
        Err(e) => {
            server.log.warning(&e);
            Err(e)
        }
    }
}

fn saved(server: &Server, snapshot: &Snapshot) {
    let _ = server
        .dirty
        .fetch_update(Relaxed, Relaxed, |d| Some(d.saturating_sub(snapshot.dirty)));
    server
        .lastsave_unix
        .store(snapshot.taken_ms / 1000, Relaxed);
    server.rdb.saves.fetch_add(1, Relaxed);
}

/// Starts a background save of a snapshot begun now through `view` (exclusive gate): the
/// shards are captured and the file written on a thread while clients go on.
/// `Err` when one is already running.
pub(crate) fn start_bgsave(server: &Server, view: &mut Locked<'_>) -> Result<(), String> {
    let status = &server.rdb;
    if status
        .bgsave_in_progress
        .compare_exchange(false, true, Relaxed, Relaxed)
        .is_err()
    {
        return Err("Background save already in progress".into());
    }
    status.bgsave_scheduled.store(false, Relaxed);
    status.cancel.store(false, Relaxed);
    let opts = SaveOptions::from_server(server);
    let pending = begin_snapshot(server, view, &opts);
    let now_unix = pending.taken_ms() / 1000;
    status.last_bgsave_try_unix.store(now_unix, Relaxed);
    *status
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(Running {
        started: Instant::now(),
        dirty: pending.dirty(),
        taken_unix: now_unix,
        job: pending.job(),
    });
    let shared = Arc::clone(&server.rdb);
    let tag = format!("bg-{}", std::process::id());
    // The child is there before the reply, as Redis's forked child is. The file goes to
    // the working directory (`dir`), where `dbfilename` is.
    let oom_score = crate::oom::child_score(&server.config());
    let writer = match WriterChild::spawn(
        &server.rdb,
        Path::new("."),
        Kind::Rdb,
        opts.incremental_fsync,
        oom_score,
    ) {
        Ok(writer) => writer,
        Err(e) => return Err(not_started(server, &e)),
    };
    let child_pid = writer.pid();
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            crate::workers::lower_this_thread_priority();
            let mut writer = writer;
            let cancelled = || shared.cancel.load(Relaxed);
            let mut child_exit = None;
            // `rdb-key-save-delay` slows the visit itself, shard by shard, as Redis's child
            // slows down key by key: shards stay uncaptured for longer, and writers meanwhile
            // make the snapshot copy them, as they make a fork copy pages.
            let snapshot = pending.complete_with(|entries| {
                match writer.delay_keys(entries as u64, opts.key_delay_us, cancelled) {
                    Ok(()) => !cancelled(),
                    Err(exited) => {
                        child_exit = exited;
                        false
                    }
                }
            });
            let result = match (snapshot, child_exit) {
                (Some(snapshot), _) => {
                    write_file(&snapshot, &opts, &tag, Some(&shared.cancel), Some(writer))
                }
                (None, Some(status)) => Err(writer.failed(status)),
                (None, None) => {
                    writer.abandon();
                    Err("Write error saving DB on disk: save cancelled".into())
                }
            };
            *shared
                .finished
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(result);
        });
    if let Err(e) = spawned {
        return Err(not_started(server, &e));
    }
    server
        .log
        .notice(&format!("Background saving started by pid {child_pid}"));
    Ok(())
}

/// A background save that could not start (no writer child, no thread): it counts as a
/// failed save, as Redis's failed fork does; returns the error to reply.
fn not_started(server: &Server, e: &std::io::Error) -> String {
    let status = &server.rdb;
    status.bgsave_in_progress.store(false, Relaxed);
    *status
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = None;
    status.last_bgsave_ok.store(false, Relaxed);
    let msg = format!("Can't save in background: fork: {e}");
    server.log.warning(&msg);
    msg
}

/// Collects a finished background save (Redis's `backgroundSaveDoneHandler`).
fn collect_bgsave(server: &Server) {
    let status = &server.rdb;
    let Some(result) = status
        .finished
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        return;
    };
    let running = status
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(run) = &running {
        status
            .last_bgsave_time_sec
            .store(run.started.elapsed().as_secs() as i64, Relaxed);
        status
            .last_cow_bytes
            .store(run.job.copied_for_writers(), Relaxed);
    }
    match result {
        Ok(()) => {
            server.log.notice("DB saved on disk");
            server
                .log
                .notice("Background saving terminated with success");
            if let Some(run) = running {
                let _ = server
                    .dirty
                    .fetch_update(Relaxed, Relaxed, |d| Some(d.saturating_sub(run.dirty)));
                server.lastsave_unix.store(run.taken_unix, Relaxed);
            }
            server.rdb.saves.fetch_add(1, Relaxed);
            status.last_bgsave_ok.store(true, Relaxed);
        }
        Err(e) => {
            server.log.warning(&e);
            server.log.warning("Background saving error");
            status.last_bgsave_ok.store(false, Relaxed);
        }
    }
    status.bgsave_in_progress.store(false, Relaxed);
}

/// Marks a load in progress until dropped (INFO `loading:1`, `-LOADING` for clients).
pub(crate) struct Loading<'a> {
    status: &'a RdbStatus,
}

impl<'a> Loading<'a> {
    pub(crate) fn start(status: &'a RdbStatus, total_bytes: u64) -> Loading<'a> {
        status.loading_start_unix.store(unix_ms() / 1000, Relaxed);
        status.loading_total_bytes.store(total_bytes, Relaxed);
        status.loading_loaded_bytes.store(0, Relaxed);
        status.loading.store(true, Relaxed);
        Loading { status }
    }
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.status.loading.store(false, Relaxed);
    }
}

/// Stops a running background save and waits for its thread (SHUTDOWN, DEBUG RELOAD).
pub(crate) fn kill_bgsave(server: &Server) {
    let status = &server.rdb;
    if !status.bgsave_in_progress.load(Relaxed) {
        return;
    }
    status.cancel.store(true, Relaxed);
    while status
        .finished
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_none()
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    *status
        .finished
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = None;
    *status
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = None;
    status.bgsave_in_progress.store(false, Relaxed);
    status.cancel.store(false, Relaxed);
}

/// The cron's persistence step: collect a finished background save, then start a scheduled
/// one or one a save point asks for.
pub(crate) fn cron(server: &Server) {
    let status = &server.rdb;
    collect_bgsave(server);
    if status.bgsave_in_progress.load(Relaxed) {
        return;
    }
    let now = unix_ms() / 1000;
    let mut reason = None;
    if status.bgsave_scheduled.load(Relaxed) {
        reason = Some(String::new());
    } else {
        let dirty = server.dirty.load(Relaxed);
        let lastsave = server.lastsave_unix.load(Relaxed);
        let retry_ok = status.last_bgsave_ok.load(Relaxed)
            || now - status.last_bgsave_try_unix.load(Relaxed) > BGSAVE_RETRY_DELAY_SECS;
        for p in server.config().save_params() {
            if dirty >= p.changes as u64 && now - lastsave > p.seconds && retry_ok {
                reason = Some(format!(
                    "{} changes in {} seconds. Saving...",
                    p.changes, p.seconds
                ));
                break;
            }
        }
    }
    let Some(reason) = reason else {
        return;
    };
    if !reason.is_empty() {
        server.log.notice(&reason);
    }
    let gate = server.keyspace.exclusive();
    let mut view = server.keyspace.lock_lazily(&gate, 0);
    let _ = start_bgsave(server, &mut view);
}

/// Paces a load: sleeps `key-load-delay` after each key and, at start-up, lets clients in
/// every `loading-process-events-interval-bytes` bytes (Redis's `processEventsWhileBlocked`
/// while loading). The start-up loader owns the exclusive gate here and lets it go for a
/// moment at each such point: commands waiting for the gate run then (those not flagged
/// `loading` are refused with LOADING anyway), never seeing a key half inserted. A load run
/// by a command (DEBUG RELOAD) or by a replica's sync holds a gate it cannot let go: only the
/// key delay applies.
pub(crate) struct Pacer<'k> {
    server: &'k Server,
    /// The exclusive gate, when this pacer may let it go.
    gate: Option<common::keyspace::Gate<'k>>,
    interval: u64,
    key_delay: i64,
    /// Bytes of the files already loaded before the current one (AOF base and incr files).
    before: u64,
    /// Where the next pause is due, counted over every file.
    next_pause: u64,
}

/// How long the start-up loader leaves the gate free at each pause: long enough for a worker
/// waiting on it to get in.
const LOADING_EVENTS_WINDOW: Duration = Duration::from_micros(200);

impl<'k> Pacer<'k> {
    /// For a load under a gate held by someone else: only `key-load-delay` applies.
    pub(crate) fn held(server: &'k Server) -> Pacer<'k> {
        Pacer::new(server, None)
    }

    /// For the start-up load, which owns `gate` (the exclusive one) and lets clients in.
    pub(crate) fn owning(server: &'k Server, gate: common::keyspace::Gate<'k>) -> Pacer<'k> {
        Pacer::new(server, Some(gate))
    }

    fn new(server: &'k Server, gate: Option<common::keyspace::Gate<'k>>) -> Pacer<'k> {
        let config = server.config();
        let interval = config
            .get_int("loading-process-events-interval-bytes")
            .unwrap_or(2 << 20)
            .max(0) as u64;
        Pacer {
            server,
            gate,
            interval,
            key_delay: config.get_int("key-load-delay").unwrap_or(0),
            before: 0,
            next_pause: interval,
        }
    }

    /// A view under this pacer's gate (lazily locking), or none when it holds no gate.
    pub(crate) fn view(&self, db: usize) -> Option<Locked<'k>> {
        self.gate
            .as_ref()
            .map(|gate| self.server.keyspace.lock_lazily(gate, db))
    }

    /// The next file starts: what the previous one read counts towards the next pause.
    pub(crate) fn next_file(&mut self, previous_len: u64) {
        self.before += previous_len;
    }

    /// `key-load-delay` after a key: microseconds to sleep; a negative -N sleeps 1 µs once in
    /// N keys on average (Redis's `debugDelay`).
    fn after_key(&self) {
        let usec = match self.key_delay {
            0 => return,
            d if d > 0 => d as u64,
            d => {
                let draw =
                    rand::Rng::random_range(&mut common::fast_rng::fast_rng(), 0..d.unsigned_abs());
                u64::from(draw == 0)
            }
        };
        if usec > 0 {
            std::thread::sleep(Duration::from_micros(usec));
        }
    }

    /// The load reached byte `at` of the current file: lets clients in when a pause is due.
    /// `view` is the loader's view, emptied of its shard locks and remade under the gate
    /// taken again.
    pub(crate) fn progress(&mut self, view: &mut Locked<'k>, at: usize) {
        let done = self.before + at as u64;
        self.server.rdb.loading_loaded_bytes.store(done, Relaxed);
        if self.interval == 0 || done < self.next_pause {
            return;
        }
        self.next_pause = (done / self.interval + 1) * self.interval;
        let Some(gate) = self.gate.take() else {
            return;
        };
        // The shard locks go first, then the gate.
        *view = self.server.keyspace.view_without_gate(view.db());
        drop(gate);
        if self.server.shutdown_asap.load(Relaxed) {
            exit_while_loading(self.server);
        }
        // Commands that run on this (the script) thread: DEBUG, flagged `loading`.
        crate::commands::scripting::run_queued_jobs();
        std::thread::sleep(LOADING_EVENTS_WINDOW);
        let gate = self.server.keyspace.exclusive();
        *view = self.server.keyspace.lock_lazily(&gate, view.db());
        self.gate = Some(gate);
    }
}

/// A shutdown signal or SHUTDOWN while the start-up load runs: exit without saving, as
/// Redis's `prepareForShutdown` does while loading.
pub(crate) fn exit_while_loading(server: &Server) -> ! {
    server.log.warning("User requested shutdown...");
    let config = server.config();
    let pidfile = config.get_str("pidfile").unwrap_or("");
    if !pidfile.is_empty() {
        server.log.notice("Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    let unixsocket = config.get_str("unixsocket").unwrap_or("");
    if !unixsocket.is_empty() {
        server.log.notice("Removing the unix socket file.");
        let _ = std::fs::remove_file(unixsocket);
    }
    server.log.warning("Redis is now ready to exit, bye bye...");
    std::process::exit(0)
}

/// What a load did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Loaded {
    pub keys: u64,
    pub expired: u64,
    /// Collections without elements, skipped.
    pub empty_skipped: u64,
    /// Where the RDB ended in the bytes given (an AOF's commands may follow).
    pub end: usize,
}

/// Loads RDB `data` into the keyspace through `view` (exclusive gate). `merge`: a key already
/// present is replaced instead of failing the load.
pub(crate) fn load_bytes<'k>(
    server: &'k Server,
    view: &mut Locked<'k>,
    data: &[u8],
    merge: bool,
) -> Result<Loaded, String> {
    load_paced(server, view, data, merge, &mut Pacer::held(server))
}

/// [`load_bytes`], paced by `pacer` (which may let the gate go between keys).
pub(crate) fn load_paced<'k>(
    server: &'k Server,
    view: &mut Locked<'k>,
    data: &[u8],
    merge: bool,
    pacer: &mut Pacer<'k>,
) -> Result<Loaded, String> {
    let limits = limits(server);
    let now = unix_ms();
    let clock = lru_clock(now);
    let databases = server.keyspace.databases();
    let verify = server.config().get_bool("rdbchecksum").unwrap_or(true)
        && !server.rdb.skip_checksum_validation.load(Relaxed);
    let mut loaded = Loaded::default();
    let mut fatal = None;
    let result = reader::load_tracked(data, &limits, now, verify, |record, at| {
        let is_key = matches!(record, Record::Key(_));
        match record {
            Record::Aux { key, value } => {
                let value = String::from_utf8_lossy(&value);
                match &key[..] {
                    b"redis-ver" => server
                        .log
                        .notice(&format!("Loading RDB produced by version {value}")),
                    b"ctime" => {
                        let age = value.parse::<i64>().map_or(0, |t| now / 1000 - t).max(0);
                        server.log.notice(&format!("RDB age {age} seconds"));
                    }
                    b"used-mem" => {
                        let mb = value.parse::<f64>().unwrap_or(0.0) / (1024.0 * 1024.0);
                        server
                            .log
                            .notice(&format!("RDB memory usage when created {mb:.2} Mb"));
                    }
                    _ => {}
                }
            }
            Record::ResizeDb { .. } => {}
            Record::EmptyKey { key, .. } => {
                loaded.empty_skipped += 1;
                if loaded.empty_skipped <= 10 {
                    server.log.warning(&format!(
                        "rdbLoadObject skipping empty key: {}",
                        String::from_utf8_lossy(&key)
                    ));
                }
            }
            // A library loads as FUNCTION LOAD would (REPLACE only when merging); a name
            // already taken fails the load, as in Redis.
            Record::Function(code) => {
                if let Err(e) = server.scripting.load_library(&code, merge) {
                    let text = match e {
                        crate::commands::CommandError::Err(text) => text,
                        other => other.to_string(),
                    };
                    fatal = Some(format!("Failed loading library, {text}"));
                    return Err(common::rdb::RdbError::new(
                        0,
                        common::rdb::RdbErrorKind::BadLength,
                    ));
                }
            }
            Record::Key(k) => {
                if k.db >= databases {
                    fatal = Some(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {databases} databases. Exiting\n"
                    ));
                    return Err(common::rdb::RdbError::new(
                        0,
                        common::rdb::RdbErrorKind::BadLength,
                    ));
                }
                // A replica keeps them: its master's DEL follows.
                if k.expire_ms.is_some_and(|at| at < now) && !server.replica.is_replica() {
                    loaded.expired += 1;
                    pacer.after_key();
                    pacer.progress(view, at);
                    return Ok(());
                }
                let lru = match k.idle {
                    Some(idle) => clock.wrapping_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
                    None => clock,
                };
                let entry = match k.object {
                    Object::String(bytes) => Entry::string(&k.key, &bytes, lru),
                    Object::Value(v) => Entry::collection(&k.key, v, lru),
                };
                let shard = view.shard_in(k.db, &k.key);
                if shard.insert(entry).is_some() && !merge {
                    server.log.warning("Duplicated key found in RDB file");
                    return Err(common::rdb::RdbError::new(
                        0,
                        common::rdb::RdbErrorKind::Duplicate("keys"),
                    ));
                }
                if let Some(at) = k.expire_ms {
                    shard.set_expire(&k.key, at);
                }
                loaded.keys += 1;
            }
        }
        if is_key {
            pacer.after_key();
        }
        pacer.progress(view, at);
        Ok(())
    });
    match result {
        Ok(summary) => {
            if summary.checksum_disabled && summary.version >= 5 {
                server
                    .log
                    .warning("RDB file was saved with checksum disabled: no check performed.");
            }
            server.rdb.last_load_keys_loaded.store(loaded.keys, Relaxed);
            server
                .rdb
                .last_load_keys_expired
                .store(loaded.expired, Relaxed);
            loaded.end = summary.end;
            Ok(loaded)
        }
        Err(e) => Err(fatal.unwrap_or_else(|| match e.kind {
            common::rdb::RdbErrorKind::Checksum { expected, actual } => {
                server.log.warning(&format!(
                    "Wrong RDB checksum expected: ({expected:x}) but got ({actual:x}). Aborting now."
                ));
                "Internal error in RDB reading offset 0, function at rdb.c:0 -> RDB CRC error"
                    .to_owned()
            }
            common::rdb::RdbErrorKind::Truncated => {
                server
                    .log
                    .warning("Short read or OOM loading DB. Unrecoverable error, aborting now.");
                format!(
                    "Internal error in RDB reading offset {}, function at rdb.c:0 -> Unexpected EOF reading RDB file",
                    e.offset
                )
            }
            kind => format!(
                "Internal error in RDB reading offset {}, function at rdb.c:0 -> {kind}",
                e.offset
            ),
        })),
    }
}

/// Loads `dbfilename` at start-up, logging as Redis does. A missing file is no error.
pub(crate) fn load_at_startup(server: &Server) -> Result<(), String> {
    let filename = server
        .config()
        .get_str("dbfilename")
        .unwrap_or("dump.rdb")
        .to_owned();
    let data = match std::fs::read(&filename) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let started = Instant::now();
    let _loading = Loading::start(&server.rdb, data.len() as u64);
    let mut pacer = Pacer::owning(server, server.keyspace.exclusive());
    let Some(mut view) = pacer.view(0) else {
        return Err("Loading the dataset failed".to_owned());
    };
    let loaded = load_paced(server, &mut view, &data, false, &mut pacer);
    drop(view);
    drop(pacer);
    let loaded = loaded.map_err(|e| {
        server.log.warning(&e);
        if e.starts_with("Internal error in RDB reading") {
            // As Redis does, the checker's report on the file follows, on standard output.
            let mut out = std::io::stdout().lock();
            let _ = common::rdb::check::check(
                &data,
                filename.as_bytes(),
                unix_ms(),
                &mut out,
                &mut |_| Ok(()),
            );
        }
        "Terminating server after rdb file reading failure.".to_owned()
    })?;
    if loaded.empty_skipped > 0 {
        server.log.warning(&format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded.keys, loaded.expired, loaded.empty_skipped
        ));
    } else {
        server.log.notice(&format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded.keys, loaded.expired
        ));
    }
    server.log.notice(&format!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Reads `dbfilename` into the keyspace (DEBUG RELOAD).
pub(crate) fn load_file<'k>(
    server: &'k Server,
    view: &mut Locked<'k>,
    merge: bool,
) -> Result<Loaded, String> {
    let filename = SaveOptions::from_server(server).filename;
    let data = std::fs::read(&filename).map_err(|e| format!("Fatal error loading the DB: {e}"))?;
    load_bytes(server, view, &data, merge)
}

/// Empties every database through `view` (exclusive gate), and drops the function libraries
/// (Redis's `emptyData` of every database, before DEBUG RELOAD loads the file).
pub(crate) fn flush_all(server: &Server, view: &mut Locked<'_>) {
    server.scripting.flush_libraries();
    for db in 0..server.keyspace.databases() {
        view.for_each_shard(db, |shard| drop(shard.clear()));
    }
}

/// The final save of a shutdown that SHUTDOWN did not already handle (a signal): saves when
/// save points are configured.
pub(crate) fn save_on_exit(server: &Server) {
    kill_bgsave(server);
    if server.rdb.final_save_done.load(Relaxed) || server.config().save_params().is_empty() {
        return;
    }
    server
        .log
        .notice("Saving the final RDB snapshot before exiting.");
    let gate = server.keyspace.exclusive();
    let mut view = server.keyspace.lock_lazily(&gate, 0);
    if save(server, &mut view).is_err() {
        server
            .log
            .warning("Error trying to save the DB, can't exit.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::TestClient;

    /// A client whose server saves to its own file in the test's working folder; the file is
    /// removed when the guard drops.
    struct Saving {
        c: TestClient,
        file: String,
    }

    impl Saving {
        fn new(name: &str, extra: &[(&str, &str)]) -> Saving {
            let file = format!("test-{name}-{}.rdb", std::process::id());
            let mut options = vec![("dbfilename", file.as_str())];
            options.extend_from_slice(extra);
            Saving {
                c: TestClient::with_config(&options),
                file,
            }
        }
    }

    impl Drop for Saving {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.file);
        }
    }

    fn info_field(c: &mut TestClient, name: &str) -> String {
        let info = c.text(&["INFO", "persistence"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn save_then_debug_reload_keeps_every_type_and_ttl() {
        let mut s = Saving::new("reload", &[("enable-debug-command", "yes")]);
        let c = &mut s.c;
        c.run(&["SET", "str", "hello"]);
        c.run(&["SET", "num", "42"]);
        c.run(&["RPUSH", "list", "a", "b"]);
        c.run(&["SADD", "set", "1", "x"]);
        c.run(&["HSET", "hash", "f", "v"]);
        c.run(&["ZADD", "zset", "1.5", "m"]);
        c.run(&["SET", "ttl", "v", "EX", "1000"]);
        c.run(&["SELECT", "5"]);
        c.run(&["SET", "other", "db"]);
        c.run(&["SELECT", "0"]);
        let digest = c.text(&["DEBUG", "DIGEST"]);
        assert_ne!(info_field(c, "rdb_changes_since_last_save"), "0");
        assert_eq!(c.text(&["SAVE"]), "+OK\r\n");
        assert_eq!(info_field(c, "rdb_changes_since_last_save"), "0");
        assert_eq!(info_field(c, "rdb_saves"), "1");
        assert_eq!(c.text(&["DEBUG", "RELOAD"]), "+OK\r\n");
        assert_eq!(c.text(&["DEBUG", "DIGEST"]), digest);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "num"]), "$3\r\nint\r\n");
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "set"]),
            "$9\r\nhashtable\r\n"
        );
        let ttl: i64 = c.text(&["TTL", "ttl"])[1..].trim().parse().unwrap();
        assert!(ttl > 990);
        assert_eq!(info_field(c, "rdb_last_load_keys_loaded"), "8");
        // NOSAVE NOFLUSH MERGE: the file's keys come back over the current ones.
        c.run(&["SET", "str", "changed"]);
        c.run(&["SET", "extra", "kept"]);
        assert_eq!(
            c.text(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["GET", "str"]), "$5\r\nhello\r\n");
        assert_eq!(c.text(&["GET", "extra"]), "$4\r\nkept\r\n");
        // NOFLUSH without MERGE fails on the first duplicate.
        assert_eq!(
            c.text(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]),
            "-ERR Error trying to load the RDB dump\r\n"
        );
        assert_eq!(
            c.text(&["DEBUG", "RELOAD", "bogus"]),
            "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
        );
    }

    #[test]
    fn function_libraries_are_saved_and_loaded_back() {
        let mut s = Saving::new("functions", &[("enable-debug-command", "yes")]);
        let c = &mut s.c;
        let code = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 42 end)";
        assert_eq!(c.text(&["FUNCTION", "LOAD", code]), "$5\r\nmylib\r\n");
        let listed = c.text(&["FUNCTION", "LIST", "WITHCODE"]);
        assert_eq!(c.text(&["DEBUG", "RELOAD"]), "+OK\r\n");
        assert_eq!(c.text(&["FUNCTION", "LIST", "WITHCODE"]), listed);
        assert_eq!(c.text(&["FCALL", "myfunc", "0"]), ":42\r\n");
        let data = std::fs::read(&s.file).unwrap();
        let mut codes = Vec::new();
        reader::load(&data, &Limits::default(), 0, true, |r| {
            if let Record::Function(code) = r {
                codes.push(code.into_owned());
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(codes, vec![code.as_bytes().to_vec()]);
        // Loading over a library of the same name fails, unless merging.
        assert_eq!(
            c.text(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]),
            "-ERR Error trying to load the RDB dump\r\n"
        );
        assert_eq!(
            c.text(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["FUNCTION", "LIST", "WITHCODE"]), listed);
        // A plain reload drops libraries the file does not hold.
        c.run(&["FUNCTION", "FLUSH"]);
        c.run(&["SAVE"]);
        assert_eq!(c.text(&["FUNCTION", "LOAD", code]), "$5\r\nmylib\r\n");
        assert_eq!(c.text(&["DEBUG", "RELOAD", "NOSAVE"]), "+OK\r\n");
        assert_eq!(c.text(&["FUNCTION", "LIST"]), "*0\r\n");
    }

    #[test]
    fn bgsave_runs_in_the_background_and_the_cron_collects_it() {
        let mut s = Saving::new("bgsave", &[]);
        let c = &mut s.c;
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.text(&["BGSAVE"]), "+Background saving started\r\n");
        let server = Arc::clone(&c.server);
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.rdb.bgsave_in_progress.load(Relaxed) {
            assert!(Instant::now() < deadline, "bgsave never finished");
            std::thread::sleep(Duration::from_millis(5));
            cron(&server);
        }
        assert_eq!(info_field(c, "rdb_last_bgsave_status"), "ok");
        assert_eq!(info_field(c, "rdb_changes_since_last_save"), "0");
        let data = std::fs::read(&s.file).unwrap();
        let mut keys = Vec::new();
        reader::load(&data, &Limits::default(), 0, true, |r| {
            if let Record::Key(k) = r {
                keys.push(k.key);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(keys, vec![b"k".to_vec()]);
    }

    #[test]
    fn a_slowed_bgsave_reports_its_progress_and_what_writers_made_it_copy() {
        let mut s = Saving::new("progress", &[]);
        let c = &mut s.c;
        for i in 0..2000 {
            c.run(&["SET", &format!("key{i}"), &"A".repeat(100)]);
        }
        assert_eq!(info_field(c, "current_save_keys_total"), "0");
        c.run(&["CONFIG", "SET", "rdb-key-save-delay", "500"]);
        assert_eq!(c.text(&["BGSAVE"]), "+Background saving started\r\n");
        assert_eq!(info_field(c, "current_save_keys_total"), "2000");
        // A second of delay in all: early on, most shards still wait for the visitor.
        for i in 0..16 {
            c.run(&["SETRANGE", &format!("key{i}"), "0", "B"]);
        }
        let cow: u64 = info_field(c, "current_cow_size").parse().unwrap();
        assert!(
            cow > 4096,
            "writers made the snapshot copy only {cow} bytes"
        );
        let server = Arc::clone(&c.server);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut processed = 0;
        while server.rdb.bgsave_in_progress.load(Relaxed) {
            assert!(Instant::now() < deadline, "bgsave never finished");
            let now: u64 = info_field(c, "current_save_keys_processed")
                .parse()
                .unwrap();
            assert!(now >= processed && now <= 2000, "{processed} then {now}");
            processed = now;
            std::thread::sleep(Duration::from_millis(20));
            cron(&server);
        }
        assert!(processed > 0, "no progress was ever reported");
        assert_eq!(info_field(c, "rdb_last_cow_size"), cow.to_string());
        assert_eq!(info_field(c, "current_cow_size"), "0");
    }

    #[test]
    fn bgsave_inside_multi_is_scheduled() {
        let mut s = Saving::new("scheduled", &[]);
        let c = &mut s.c;
        c.run(&["MULTI"]);
        c.run(&["BGSAVE"]);
        assert_eq!(c.text(&["EXEC"]), "*1\r\n+Background saving scheduled\r\n");
        assert!(c.server.rdb.bgsave_scheduled.load(Relaxed));
    }

    #[test]
    fn a_failed_bgsave_stops_writes_while_save_points_exist() {
        let mut s = Saving::new("misconf", &[("save", "3600 1")]);
        let c = &mut s.c;
        c.server.rdb.last_bgsave_ok.store(false, Relaxed);
        let reply = c.text(&["SET", "k", "v"]);
        assert!(
            reply.starts_with("-MISCONF Redis is configured to save RDB snapshots"),
            "{reply}"
        );
        assert!(c.text(&["PING"]).starts_with("-MISCONF"));
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        c.run(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
        assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
    }

    #[test]
    fn a_corrupt_file_is_refused_with_its_offset() {
        let s = Saving::new("corrupt", &[]);
        std::fs::write(&s.file, b"REDIS0010\xfe\x00\x00\x05").unwrap();
        let err = load_at_startup(&s.c.server).unwrap_err();
        assert_eq!(err, "Terminating server after rdb file reading failure.");
        let gate = s.c.server.keyspace.exclusive();
        let mut view = s.c.server.keyspace.lock_lazily(&gate, 0);
        let data = std::fs::read(&s.file).unwrap();
        let err = load_bytes(&s.c.server, &mut view, &data, false).unwrap_err();
        assert!(err.contains("offset"), "{err}");
    }
}
