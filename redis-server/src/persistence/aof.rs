//! The append-only file, as Redis 7.0 keeps it: a folder (`appenddirname`) holding a base file
//! (an RDB preamble), incremental files of propagated commands, and a manifest naming them
//! (formats in `common::aof`).
//!
//! Writes reach the AOF through the replication feed ([`AofBuffer`]): a connection writes the
//! pending bytes before it sends its replies, and with `appendfsync always` syncs them first,
//! so nothing acknowledged is lost by a crash. A rewrite (BGREWRITEAOF) snapshots the keyspace
//! under the exclusive gate, switches new writes to a fresh incremental file at that instant,
//! and writes the new base on a thread; the manifest then retires the old files.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::child::{Kind, WriterChild};
use super::rdb::Pacer;

use common::aof::manifest::{self, Manifest};
use common::aof::reader::{Commands, Item, has_rdb_preamble};
use common::aof::rewrite;
use common::keyspace::{Locked, SnapshotJob};
use common::resp::{ArgList, ReplyBuffer};

use crate::server::{Server, unix_ms};

/// Bytes for the AOF not yet written, with the AOF's own database selection (it differs from
/// the replication stream's: each starts from its own snapshot).
#[derive(Debug, Default)]
pub(crate) struct AofBuffer {
    pending: Vec<u8>,
    /// The database the file last selected; `None` forces a SELECT.
    db: Option<usize>,
    /// `aof-timestamp-enabled`: a `#TS:<unix>` line whenever the second changes.
    pub timestamps: bool,
    last_timestamp: i64,
}

impl AofBuffer {
    pub(crate) fn feed(&mut self, db: usize, command: &[u8]) {
        if self.timestamps {
            let now = unix_ms() / 1000;
            if now != self.last_timestamp {
                self.last_timestamp = now;
                common::aof::writer::push_timestamp(&mut self.pending, now);
            }
        }
        if self.db != Some(db) {
            crate::propagate::push_select(&mut self.pending, db);
            self.db = Some(db);
        }
        self.pending.extend_from_slice(command);
    }

    /// Bytes waiting to be written (INFO `aof_buffer_length`).
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fsync {
    Always,
    EverySec,
    No,
}

/// The AOF's state (INFO persistence), shared with the rewrite thread.
pub(crate) struct Aof {
    /// `appendonly yes` (INFO `aof_enabled`), from the moment it is asked for.
    pub enabled: AtomicBool,
    /// CONFIG SET appendonly yes or BGREWRITEAOF waiting for the cron.
    pub rewrite_scheduled: AtomicBool,
    /// CONFIG SET appendonly yes with nothing in the way: the cron starts the rewrite at its
    /// next tick, and INFO already reports it in progress (Redis forks at once).
    pub starting: AtomicBool,
    pub rewrite_in_progress: AtomicBool,
    /// `appendonly yes` at run time, until its first rewrite succeeds (Redis's
    /// `AOF_WAIT_REWRITE`): writes go to a temporary incremental file outside the manifest.
    waiting_rewrite: AtomicBool,
    /// The writer child `appendonly yes` starts at once (Redis forks in CONFIG SET), for the
    /// rewrite the cron then begins.
    early_child: Mutex<Option<WriterChild>>,
    files: Mutex<Option<Files>>,
    rewrite_started: Mutex<Option<Instant>>,
    /// The running rewrite's RDB preamble being taken, for its progress in INFO.
    rewrite_job: Mutex<Option<Arc<SnapshotJob>>>,
    /// INFO `aof_last_cow_size`: what the last rewrite's snapshot copied for writers.
    pub last_cow_bytes: AtomicU64,
    pub last_rewrite_secs: AtomicI64,
    pub last_rewrite_ok: AtomicBool,
    pub rewrites: AtomicU64,
    pub consecutive_failures: AtomicU64,
    pub last_write_ok: AtomicBool,
    /// Size of the base at the last rewrite, and of everything now (for auto-rewrite).
    pub base_size: AtomicU64,
    pub current_size: AtomicU64,
    last_fsync_ms: AtomicI64,
    /// Set to make a running rewrite give up (`appendonly no`).
    cancel: AtomicBool,
    /// A finished rewrite's outcome, for the cron to collect.
    finished: Mutex<Option<Result<Vec<String>, String>>>,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to wait before each write of pending commands.
    pub flush_sleep_us: AtomicU64,
    /// The back-off after repeated rewrite failures.
    limit: Mutex<RewriteLimit>,
}

/// Failed rewrites in a row after which the cron backs off.
const LIMIT_THRESHOLD: u64 = 3;
const LIMIT_MAX_MINUTES: i64 = 60;

#[derive(Debug, Default)]
struct RewriteLimit {
    delay_minutes: i64,
    /// Unix seconds before which the cron starts no rewrite; 0 when not waiting.
    next_time: i64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            enabled: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            starting: AtomicBool::new(false),
            rewrite_in_progress: AtomicBool::new(false),
            waiting_rewrite: AtomicBool::new(false),
            early_child: Mutex::new(None),
            files: Mutex::new(None),
            rewrite_started: Mutex::new(None),
            rewrite_job: Mutex::new(None),
            last_cow_bytes: AtomicU64::new(0),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
            rewrites: AtomicU64::new(0),
            consecutive_failures: AtomicU64::new(0),
            last_write_ok: AtomicBool::new(true),
            base_size: AtomicU64::new(0),
            current_size: AtomicU64::new(0),
            last_fsync_ms: AtomicI64::new(0),
            cancel: AtomicBool::new(false),
            finished: Mutex::new(None),
            flush_sleep_us: AtomicU64::new(0),
            limit: Mutex::new(RewriteLimit::default()),
        }
    }
}

/// The open folder: its manifest and the incremental file being appended to.
struct Files {
    manifest: Manifest,
    /// The incremental file being appended to; `None` while AOF is off (a BGREWRITEAOF then
    /// only writes a new base).
    incr: Option<File>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn fsync_policy(server: &Server) -> Fsync {
    match server.config().get_str("appendfsync").unwrap_or("everysec") {
        "always" => Fsync::Always,
        "no" => Fsync::No,
        _ => Fsync::EverySec,
    }
}

fn folder(server: &Server) -> (PathBuf, String) {
    folder_in(&server.config())
}

fn folder_in(config: &common::config::Config) -> (PathBuf, String) {
    let dir = PathBuf::from(config.get_str("appenddirname").unwrap_or("appendonlydir"));
    let prefix = config
        .get_str("appendfilename")
        .unwrap_or("appendonly.aof")
        .to_owned();
    (dir, prefix)
}

fn write_manifest(dir: &Path, prefix: &str, manifest: &Manifest) -> Result<(), String> {
    let tmp = dir.join(manifest::temp_manifest_name(prefix));
    let path = dir.join(manifest::manifest_name(prefix));
    let written = std::fs::write(&tmp, manifest.to_bytes())
        .and_then(|()| File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &path));
    written.map_err(|e| {
        format!(
            "Can't persist the AOF manifest file {}: {e}",
            path.display()
        )
    })
}

fn open_append(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))
}

/// The size of the folder's file named `name` (0 if it is gone).
fn file_len(dir: &Path, name: &[u8]) -> u64 {
    let path = dir.join(String::from_utf8_lossy(name).as_ref());
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

impl Aof {
    /// Writes what the feed holds for the AOF; with `appendfsync always`, syncs it too. Called
    /// before replies go out, so an acknowledged write is in the file.
    pub(crate) fn flush(&self, server: &Server) {
        if !self.enabled.load(Relaxed) {
            return;
        }
        let mut files = lock(&self.files);
        let Some(incr) = files.as_mut().and_then(|f| f.incr.as_mut()) else {
            return;
        };
        let pending = match server.feed.lock().aof.as_mut() {
            Some(buffer) if !buffer.pending.is_empty() => std::mem::take(&mut buffer.pending),
            _ => return,
        };
        let sleep_us = self.flush_sleep_us.load(Relaxed);
        if sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(sleep_us));
        }
        let written = incr.write_all(&pending);
        self.last_write_ok.store(written.is_ok(), Relaxed);
        if let Err(e) = written {
            server
                .log
                .warning(&format!("Error writing to the AOF file: {e}"));
            return;
        }
        self.current_size.fetch_add(pending.len() as u64, Relaxed);
        let skip_sync = self.rewrite_in_progress.load(Relaxed)
            && server
                .config()
                .get_bool("no-appendfsync-on-rewrite")
                .unwrap_or(false);
        if fsync_policy(server) == Fsync::Always && !skip_sync {
            if let Err(e) = incr.sync_data() {
                self.last_write_ok.store(false, Relaxed);
                server
                    .log
                    .warning(&format!("Can't persist the AOF file on disk (fsync): {e}"));
            }
        }
    }

    /// Flushes and syncs everything (shutdown, appendonly no).
    pub(crate) fn flush_and_sync(&self, server: &Server) {
        self.flush(server);
        if let Some(incr) = lock(&self.files).as_mut().and_then(|f| f.incr.as_mut()) {
            let _ = incr.sync_data();
        }
    }

    /// Once per cron tick: the everysec fsync, starting a scheduled rewrite, collecting a
    /// finished one, and the automatic rewrite by growth.
    pub(crate) fn cron(&self, server: &Server) {
        self.collect_rewrite(server);
        let enabled = self.enabled.load(Relaxed);
        if enabled {
            self.flush(server);
            let now = unix_ms();
            if fsync_policy(server) == Fsync::EverySec
                && now - self.last_fsync_ms.load(Relaxed) >= 1000
            {
                self.last_fsync_ms.store(now, Relaxed);
                if let Some(incr) = lock(&self.files).as_mut().and_then(|f| f.incr.as_mut()) {
                    let _ = incr.sync_data();
                }
            }
        }
        if self.rewrite_in_progress.load(Relaxed) || server.rdb.bgsave_in_progress.load(Relaxed) {
            return;
        }
        // A scheduled BGREWRITEAOF runs whether or not AOF is on; it and the automatic one
        // wait while repeated failures hold rewrites back.
        let start = if self.starting.load(Relaxed) {
            true
        } else if self.rewrite_scheduled.load(Relaxed) {
            !self.rewrite_limited(server)
        } else if enabled {
            match self.growth(server) {
                Some(growth) if !self.rewrite_limited(server) => {
                    server.log.notice(&format!(
                        "Starting automatic rewriting of AOF on {growth}% growth"
                    ));
                    true
                }
                _ => false,
            }
        } else {
            false
        };
        if start {
            let gate = server.keyspace.exclusive();
            let mut view = server.keyspace.lock_lazily(&gate, 0);
            if let Err(e) = start_rewrite(server, &mut view) {
                server.log.warning(&e);
            }
        }
    }

    /// After [`LIMIT_THRESHOLD`] failures in a row, rewrites by the cron wait 1, 2, 4 ... up
    /// to 60 minutes between attempts (Redis's `aofRewriteLimited`).
    fn rewrite_limited(&self, server: &Server) -> bool {
        let mut limit = lock(&self.limit);
        if self.consecutive_failures.load(Relaxed) < LIMIT_THRESHOLD {
            *limit = RewriteLimit::default();
            return false;
        }
        let now = unix_ms() / 1000;
        if limit.next_time != 0 {
            if now < limit.next_time {
                return true;
            }
            limit.next_time = 0;
            return false;
        }
        limit.delay_minutes = if limit.delay_minutes == 0 {
            1
        } else {
            (limit.delay_minutes * 2).min(LIMIT_MAX_MINUTES)
        };
        limit.next_time = now + limit.delay_minutes * 60;
        server.log.warning(&format!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            limit.delay_minutes
        ));
        true
    }

    /// The growth in percent past `auto-aof-rewrite-percentage`, when the AOF is past
    /// `auto-aof-rewrite-min-size`.
    fn growth(&self, server: &Server) -> Option<i64> {
        if lock(&self.files).is_none() {
            return None;
        }
        let config = server.config();
        let percent = config.get_int("auto-aof-rewrite-percentage").unwrap_or(100);
        let min_size = config
            .get_int("auto-aof-rewrite-min-size")
            .unwrap_or(64 << 20);
        let size = self.current_size.load(Relaxed);
        let base = self.base_size.load(Relaxed).max(1);
        if percent <= 0 || (size as i64) < min_size {
            return None;
        }
        let growth = (size.saturating_sub(base) * 100 / base) as i64;
        (growth >= percent).then_some(growth)
    }

    /// The running rewrite's progress, when it takes an RDB preamble.
    pub(crate) fn progress(&self) -> Option<super::rdb::SaveProgress> {
        lock(&self.rewrite_job)
            .as_deref()
            .map(super::rdb::SaveProgress::of)
    }

    fn collect_rewrite(&self, server: &Server) {
        let Some(result) = lock(&self.finished).take() else {
            return;
        };
        let started = lock(&self.rewrite_started).take();
        if let Some(started) = started {
            self.last_rewrite_secs
                .store(started.elapsed().as_secs() as i64, Relaxed);
        }
        let job = lock(&self.rewrite_job).take();
        self.last_cow_bytes
            .store(job.map_or(0, |job| job.copied_for_writers()), Relaxed);
        self.rewrite_in_progress.store(false, Relaxed);
        match result {
            Ok(lines) => {
                for line in lines {
                    server.log.notice(&line);
                }
                self.rewrites.fetch_add(1, Relaxed);
                self.consecutive_failures.store(0, Relaxed);
                self.last_rewrite_ok.store(true, Relaxed);
                server
                    .log
                    .notice("Background AOF rewrite terminated with success");
                server
                    .log
                    .notice("Background AOF rewrite finished successfully");
            }
            Err(e) => {
                self.consecutive_failures.fetch_add(1, Relaxed);
                self.last_rewrite_ok.store(false, Relaxed);
                server.log.warning(&e);
                server
                    .log
                    .warning("Background AOF rewrite terminated with error");
                if self.waiting_rewrite.load(Relaxed) {
                    self.drop_temp_incr(server);
                }
            }
        }
    }

    /// A rewrite for `appendonly yes` failed: what the temporary incremental file gathered
    /// goes (the next rewrite's base will hold it), and the cron tries again.
    fn drop_temp_incr(&self, server: &Server) {
        let (dir, prefix) = folder(server);
        let mut files = lock(&self.files);
        let mut state = server.feed.lock();
        state.aof = None;
        server.feed.refresh_active(&state);
        drop(state);
        if let Some(open) = files.as_mut() {
            open.incr = None;
        }
        drop(files);
        let name = temp_incr_name(&prefix);
        server.log.notice(&format!(
            "Removing the temp incr aof file {name} in the background"
        ));
        let _ = std::fs::remove_file(dir.join(&name));
        self.rewrite_scheduled.store(true, Relaxed);
    }

    /// Seconds the running rewrite has taken (INFO `aof_current_rewrite_time_sec`).
    pub(crate) fn current_rewrite_secs(&self) -> i64 {
        lock(&self.rewrite_started)
            .map(|s| s.elapsed().as_secs() as i64)
            .unwrap_or(-1)
    }
}

/// CONFIG SET aof-timestamp-enabled: the next write to the AOF follows it.
pub(crate) fn set_timestamps(server: &Server, on: bool) {
    if let Some(buffer) = server.feed.lock().aof.as_mut() {
        buffer.timestamps = on;
    }
}

/// Stops a running rewrite and waits for its thread (Redis's `killAppendOnlyChild`): the
/// temporary file is removed and the attempt counts as neither success nor failure.
fn kill_rewrite(server: &Server) {
    let aof = &server.aof;
    if !aof.rewrite_in_progress.load(Relaxed) {
        return;
    }
    server.log.notice(&format!(
        "Killing running AOF rewrite child: {}",
        std::process::id()
    ));
    aof.cancel.store(true, Relaxed);
    while lock(&aof.finished).is_none() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    *lock(&aof.finished) = None;
    *lock(&aof.rewrite_started) = None;
    *lock(&aof.rewrite_job) = None;
    aof.rewrite_in_progress.store(false, Relaxed);
    aof.cancel.store(false, Relaxed);
}

/// `appendonly no` at run time: a running rewrite is stopped, what is pending is written and
/// synced, and the feed stops feeding the AOF.
pub(crate) fn stop(server: &Server) {
    let aof = &server.aof;
    kill_rewrite(server);
    if let Some(child) = lock(&aof.early_child).take() {
        child.abandon();
    }
    aof.flush_and_sync(server);
    let mut state = server.feed.lock();
    state.aof = None;
    server.feed.refresh_active(&state);
    drop(state);
    *lock(&aof.files) = None;
    aof.enabled.store(false, Relaxed);
    aof.waiting_rewrite.store(false, Relaxed);
    aof.rewrite_scheduled.store(false, Relaxed);
    aof.starting.store(false, Relaxed);
    server
        .log
        .notice("Background append only file rewriting stopped");
}

/// `appendonly yes` at run time: a rewrite creates the files; the cron starts it, with the
/// writer child started here (it is there before the reply, as Redis's fork is). `config`
/// is the one being applied (its lock is held).
pub(crate) fn start(server: &Server, config: &common::config::Config) {
    server.aof.enabled.store(true, Relaxed);
    server.aof.waiting_rewrite.store(true, Relaxed);
    if server.rdb.bgsave_in_progress.load(Relaxed) {
        server.aof.rewrite_scheduled.store(true, Relaxed);
        return;
    }
    server.aof.starting.store(true, Relaxed);
    let (dir, _) = folder_in(config);
    if std::fs::create_dir_all(&dir).is_ok() {
        if let Ok(child) = spawn_writer(server, config, &dir) {
            *lock(&server.aof.early_child) = Some(child);
        }
    }
}

/// Starts a rewrite's writer child, writing into `dir`.
fn spawn_writer(
    server: &Server,
    config: &common::config::Config,
    dir: &Path,
) -> std::io::Result<WriterChild> {
    let incremental_fsync = config
        .get_bool("aof-rewrite-incremental-fsync")
        .unwrap_or(true);
    let oom_score = crate::oom::child_score(config);
    WriterChild::spawn(
        &server.rdb,
        dir,
        Kind::AofRewrite,
        incremental_fsync,
        oom_score,
    )
}

impl Aof {
    /// INFO `aof_rewrite_in_progress`: running, or about to start for `appendonly yes`.
    pub(crate) fn rewrite_reported_in_progress(&self) -> bool {
        self.rewrite_in_progress.load(Relaxed) || self.starting.load(Relaxed)
    }
}

/// BGREWRITEAOF and the cron: snapshots through `view` (exclusive gate), switches writes to a
/// new incremental file, and writes the new base on a thread.
pub(crate) fn start_rewrite(server: &Server, view: &mut Locked<'_>) -> Result<(), String> {
    let aof = &server.aof;
    if aof
        .rewrite_in_progress
        .compare_exchange(false, true, Relaxed, Relaxed)
        .is_err()
    {
        return Err("Background append only file rewriting already in progress".into());
    }
    aof.rewrite_scheduled.store(false, Relaxed);
    aof.starting.store(false, Relaxed);
    crate::propagate::forget_unheard_expiries(server, view);
    let pending_base = take_base(server, view);
    let switched = switch_incr(server);
    if let Err(e) = switched {
        aof.rewrite_in_progress.store(false, Relaxed);
        return Err(e);
    }
    let (dir, prefix) = folder(server);
    let shared = Arc::clone(&server.aof);
    let config = server.config();
    let disable_gc = config.get_bool("aof-disable-auto-gc").unwrap_or(false);
    let key_delay_us = config.get_int("rdb-key-save-delay").unwrap_or(0);
    // The child is there before the reply, as Redis's forked child is.
    let early = lock(&aof.early_child).take();
    let spawned = match early {
        Some(child) => Ok(child),
        None => spawn_writer(server, &config, &dir),
    };
    drop(config);
    let writer = match spawned {
        Ok(writer) => writer,
        Err(e) => {
            aof.rewrite_in_progress.store(false, Relaxed);
            return Err(format!(
                "Can't rewrite append only file in background: fork: {e}"
            ));
        }
    };
    *lock(&aof.rewrite_started) = Some(Instant::now());
    *lock(&aof.rewrite_job) = pending_base.job();
    server.log.notice(&format!(
        "Background append only file rewriting started by pid {}",
        writer.pid()
    ));
    let spawned = std::thread::Builder::new()
        .name("aofrw".into())
        .spawn(move || {
            crate::workers::lower_this_thread_priority();
            let options = BaseOptions {
                disable_gc,
                key_delay_us,
            };
            let result = match pending_base.complete() {
                Some(base) => write_base(&shared, &dir, &prefix, &base, writer, options),
                None => {
                    writer.abandon();
                    Err("the snapshot was cancelled".into())
                }
            };
            *lock(&shared.finished) = Some(result);
        });
    if let Err(e) = spawned {
        aof.rewrite_in_progress.store(false, Relaxed);
        return Err(format!(
            "Can't rewrite append only file in background: fork: {e}"
        ));
    }
    Ok(())
}

/// A new base: an RDB image (`aof-use-rdb-preamble yes`, the default) or the commands that
/// rebuild the dataset (`no`, a `.base.aof` file).
pub(crate) enum Base {
    Rdb(crate::persistence::rdb::Snapshot),
    Commands { bytes: Vec<u8>, keys: u64 },
}

impl Base {
    fn bytes(&self) -> &[u8] {
        match self {
            Base::Rdb(snapshot) => snapshot.bytes(),
            Base::Commands { bytes, .. } => bytes,
        }
    }

    fn keys(&self) -> u64 {
        match self {
            Base::Rdb(snapshot) => snapshot.keys(),
            Base::Commands { keys, .. } => *keys,
        }
    }

    fn is_rdb(&self) -> bool {
        matches!(self, Base::Rdb(_))
    }
}

/// A base as taken under the gate: an RDB snapshot still being captured, or the commands.
enum PendingBase {
    Rdb(crate::persistence::rdb::PendingSnapshot),
    Commands(Base),
}

impl PendingBase {
    /// The snapshot an RDB preamble is being taken from.
    fn job(&self) -> Option<Arc<SnapshotJob>> {
        match self {
            PendingBase::Rdb(pending) => Some(pending.job()),
            PendingBase::Commands(_) => None,
        }
    }

    /// The finished base; `None` if its snapshot was cancelled.
    fn complete(self) -> Option<Base> {
        match self {
            PendingBase::Rdb(pending) => pending.complete(None).map(Base::Rdb),
            PendingBase::Commands(base) => Some(base),
        }
    }
}

/// Takes the dataset through `view` (exclusive gate) in the form `aof-use-rdb-preamble` asks:
/// an RDB preamble is begun here and captured in the background, as BGSAVE's is.
fn take_base(server: &Server, view: &mut Locked<'_>) -> PendingBase {
    let config = server.config();
    let preamble = config.get_bool("aof-use-rdb-preamble").unwrap_or(true);
    let timestamps = config.get_bool("aof-timestamp-enabled").unwrap_or(false);
    drop(config);
    if preamble {
        let mut opts = crate::persistence::rdb::SaveOptions::from_server(server);
        opts.aof_base = true;
        return PendingBase::Rdb(crate::persistence::rdb::begin_snapshot(server, view, &opts));
    }
    let mut out = Vec::new();
    let mut keys = 0u64;
    if timestamps {
        common::aof::writer::push_timestamp(&mut out, unix_ms() / 1000);
    }
    for code in server.scripting.library_codes() {
        rewrite::function_load(&mut out, &code);
    }
    for db in 0..server.keyspace.databases() {
        let mut len = 0;
        view.for_each_shard(db, |shard| len += shard.len());
        if len == 0 {
            continue;
        }
        rewrite::select(&mut out, db);
        view.for_each_shard(db, |shard| {
            shard.for_each(|entry| {
                let expire = if entry.is_volatile() {
                    shard.expire_at(entry.key())
                } else {
                    None
                };
                rewrite::key(&mut out, entry, expire);
                keys += 1;
            });
        });
    }
    PendingBase::Commands(Base::Commands { bytes: out, keys })
}

/// How the rewrite thread writes the base.
#[derive(Debug, Clone, Copy)]
struct BaseOptions {
    disable_gc: bool,
    /// `rdb-key-save-delay` (microseconds per key; the suite slows rewrites down with it).
    key_delay_us: i64,
}

/// The incremental file written while `appendonly yes` waits for its first rewrite.
fn temp_incr_name(prefix: &str) -> String {
    format!("temp-{prefix}.incr")
}

/// Opens the next incremental file and makes it the one written from now on (under the feed
/// lock, so no write lands in between); opens the folder when the AOF is just being turned on.
fn switch_incr(server: &Server) -> Result<(), String> {
    let aof = &server.aof;
    let enabled = aof.enabled.load(Relaxed);
    let (dir, prefix) = folder(server);
    let mut files = lock(&aof.files);
    let mut state = server.feed.lock();
    if let Some(buffer) = state.aof.as_mut() {
        let pending = std::mem::take(&mut buffer.pending);
        // With no file open, what is pending is in the base just taken.
        if let Some(incr) = files.as_mut().and_then(|f| f.incr.as_mut()) {
            incr.write_all(&pending)
                .and_then(|()| incr.sync_data())
                .map_err(|e| format!("Error writing to the AOF file: {e}"))?;
        }
    }
    let mut manifest = match files.take() {
        Some(open) => open.manifest,
        None => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                format!(
                    "Can't open or create append-only dir {}: {e}",
                    dir.display()
                )
            })?;
            let path = dir.join(manifest::manifest_name(&prefix));
            match std::fs::read(&path) {
                Ok(bytes) => Manifest::parse(&bytes).map_err(|e| e.to_string())?,
                Err(_) => Manifest::new(),
            }
        }
    };
    let incr = if enabled {
        let name = if aof.waiting_rewrite.load(Relaxed) {
            // Until the first rewrite succeeds, a file the manifest does not name.
            let name = temp_incr_name(&prefix);
            File::create(dir.join(&name))
                .map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
            name
        } else {
            manifest.new_incr(&prefix)
        };
        let incr = open_append(&dir.join(&name))?;
        if !aof.waiting_rewrite.load(Relaxed) {
            write_manifest(&dir, &prefix, &manifest)?;
        }
        server.log.notice(&format!(
            "Creating AOF incr file {name} on background rewrite"
        ));
        Some(incr)
    } else {
        None
    };
    *files = Some(Files { manifest, incr });
    if enabled {
        let timestamps = server
            .config()
            .get_bool("aof-timestamp-enabled")
            .unwrap_or(false);
        let buffer = state.aof.get_or_insert_with(AofBuffer::default);
        buffer.db = None;
        buffer.timestamps = timestamps;
        server.feed.refresh_active(&state);
    }
    Ok(())
}

/// The rewrite thread: the new base goes to a temporary file, is synced and renamed, and the
/// manifest retires the incremental files the base now covers.
fn write_base(
    aof: &Aof,
    dir: &Path,
    prefix: &str,
    base: &Base,
    writer: WriterChild,
    options: BaseOptions,
) -> Result<Vec<String>, String> {
    let mut log = Vec::new();
    let writer = writer.wait_key_delay(
        base.keys(),
        options.key_delay_us,
        || aof.cancel.load(Relaxed),
        "AOF rewrite cancelled",
    )?;
    let bytes = base.bytes();
    let tmp = writer.finish(bytes)?;
    let mut files = lock(&aof.files);
    let Some(open) = files.as_mut() else {
        // AOF was turned off meanwhile.
        let _ = std::fs::remove_file(&tmp);
        return Err("AOF was disabled during the rewrite".into());
    };
    let mut manifest = open.manifest.clone();
    let name = manifest.new_base(prefix, base.is_rdb());
    std::fs::rename(&tmp, dir.join(&name)).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF base file {} into {name}: {e}",
            tmp.display()
        )
    })?;
    log.push(format!(
        "Successfully renamed the temporary AOF base file {} into {name}",
        tmp.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let enabled = open.incr.is_some();
    if enabled && aof.waiting_rewrite.load(Relaxed) {
        // The temporary incremental file becomes the folder's first one.
        let temp = temp_incr_name(prefix);
        let incr_name = manifest.new_incr(prefix);
        if let Err(e) = std::fs::rename(dir.join(&temp), dir.join(&incr_name)) {
            let _ = std::fs::remove_file(dir.join(&name));
            return Err(format!(
                "Error trying to rename the temporary AOF incr file {} into {}: {e}",
                dir.join(&temp).display(),
                dir.join(&incr_name).display()
            ));
        }
        log.push(format!(
            "Successfully renamed the temporary AOF incr file {temp} into {incr_name}"
        ));
    }
    manifest.mark_rewritten_incr_as_history(enabled);
    write_manifest(dir, prefix, &manifest)?;
    aof.waiting_rewrite.store(false, Relaxed);
    if !options.disable_gc {
        delete_history(dir, prefix, &mut manifest, |line| log.push(line))?;
    }
    aof.base_size.store(bytes.len() as u64, Relaxed);
    let incr_size = manifest.last_incr().map(|n| file_len(dir, n)).unwrap_or(0);
    aof.current_size
        .store(bytes.len() as u64 + incr_size, Relaxed);
    open.manifest = manifest;
    if !enabled {
        // AOF is off: the folder is left as the rewrite made it, and nothing stays open.
        *files = None;
    }
    Ok(log)
}

/// Deletes the history files and rewrites the manifest without them (`aofDelHistoryFiles`);
/// `log` gets Redis's line for each.
fn delete_history(
    dir: &Path,
    prefix: &str,
    manifest: &mut Manifest,
    mut log: impl FnMut(String),
) -> Result<(), String> {
    if manifest.history.is_empty() {
        return Ok(());
    }
    for old in manifest.take_history() {
        let old = String::from_utf8_lossy(&old).into_owned();
        log(format!("Removing the history file {old} in the background"));
        let _ = std::fs::remove_file(dir.join(&old));
    }
    write_manifest(dir, prefix, manifest)
}

/// CONFIG SET aof-disable-auto-gc no: the history kept meanwhile goes now, as in Redis.
/// `config` is the one being applied (its lock is held).
pub(crate) fn auto_gc_enabled(server: &Server, config: &common::config::Config) {
    let (dir, prefix) = folder_in(config);
    let mut files = lock(&server.aof.files);
    if let Some(open) = files.as_mut() {
        if let Err(e) = delete_history(&dir, &prefix, &mut open.manifest, |line| {
            server.log.notice(&line);
        }) {
            server.log.warning(&e);
        }
    }
}

/// Start-up with `appendonly yes`: loads the folder the manifest names (or upgrades a single
/// legacy file, or creates the folder), then opens the incremental file for appending.
pub(crate) fn load_at_startup(server: &Server) -> Result<(), String> {
    let aof = &server.aof;
    aof.enabled.store(true, Relaxed);
    let (dir, prefix) = folder(server);
    let manifest_path = dir.join(manifest::manifest_name(&prefix));
    let legacy = PathBuf::from(&prefix);
    let started = Instant::now();
    let _loading = crate::persistence::rdb::Loading::start(&server.rdb, 0);
    resume_interrupted_upgrade(server, &dir, &prefix, &manifest_path, &legacy)?;
    let mut manifest = if manifest_path.exists() {
        let bytes = std::fs::read(&manifest_path).map_err(|e| {
            format!(
                "Can't open the AOF manifest {}: {e}",
                manifest_path.display()
            )
        })?;
        let manifest = Manifest::parse(&bytes).map_err(|e| e.to_string())?;
        let total: u64 = manifest
            .files_to_load()
            .map(|f| file_len(&dir, &f.file_name))
            .sum();
        server.rdb.loading_total_bytes.store(total, Relaxed);
        let mut pacer = Pacer::owning(server, server.keyspace.exclusive());
        let mut view = pacer
            .view(0)
            .ok_or_else(|| "Loading the dataset failed".to_owned())?;
        load_files(server, &mut view, &dir, &prefix, &manifest, &mut pacer)?;
        manifest
    } else if legacy.exists() {
        // A single `appendonly.aof` from before Redis 7.0: load it, then move it into the
        // folder as the base.
        {
            server
                .rdb
                .loading_total_bytes
                .store(file_len(Path::new("."), prefix.as_bytes()), Relaxed);
            let mut pacer = Pacer::owning(server, server.keyspace.exclusive());
            let mut view = pacer
                .view(0)
                .ok_or_else(|| "Loading the dataset failed".to_owned())?;
            load_one(server, &mut view, &legacy, true, &prefix, &mut pacer)?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {e}",
                dir.display()
            )
        })?;
        std::fs::rename(&legacy, dir.join(&prefix))
            .map_err(|e| format!("Error trying to rename the legacy AOF file: {e}"))?;
        let mut manifest = Manifest::new();
        manifest.base = Some(manifest::AofInfo {
            file_name: prefix.clone().into_bytes(),
            file_seq: 1,
            file_type: manifest::FileType::Base,
        });
        manifest.curr_base_seq = 1;
        server.log.notice(&format!(
            "Successfully migrated an old-style AOF into the AOF directory {}.",
            dir.display()
        ));
        manifest
    } else {
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {e}",
                dir.display()
            )
        })?;
        // A fresh folder gets its base now (the keyspace is empty at start-up).
        let mut manifest = Manifest::new();
        let pending = {
            let gate = server.keyspace.exclusive();
            let mut view = server.keyspace.lock_lazily(&gate, 0);
            take_base(server, &mut view)
        };
        let base = pending
            .complete()
            .ok_or_else(|| "The AOF base snapshot was cancelled".to_owned())?;
        let name = manifest.new_base(&prefix, base.is_rdb());
        std::fs::write(dir.join(&name), base.bytes())
            .map_err(|e| format!("Can't create the AOF base file {name}: {e}"))?;
        server
            .log
            .notice(&format!("Creating AOF base file {name} on server start"));
        manifest
    };
    if manifest.files_to_load().next().is_some() && manifest_path.exists() {
        server.log.notice(&format!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        ));
    }
    let incr_name = match manifest.last_incr() {
        Some(name) => String::from_utf8_lossy(name).into_owned(),
        None => {
            let name = manifest.new_incr(&prefix);
            server
                .log
                .notice(&format!("Creating AOF incr file {name} on server start"));
            name
        }
    };
    write_manifest(&dir, &prefix, &manifest)?;
    let incr = open_append(&dir.join(&incr_name))?;
    let total: u64 = manifest
        .files_to_load()
        .map(|f| file_len(&dir, &f.file_name))
        .sum();
    let base = manifest
        .base
        .as_ref()
        .map(|b| file_len(&dir, &b.file_name))
        .unwrap_or(0);
    aof.current_size.store(total, Relaxed);
    aof.base_size.store(base, Relaxed);
    *lock(&aof.files) = Some(Files {
        manifest,
        incr: Some(incr),
    });
    let timestamps = server
        .config()
        .get_bool("aof-timestamp-enabled")
        .unwrap_or(false);
    let mut state = server.feed.lock();
    state.aof = Some(AofBuffer {
        timestamps,
        ..AofBuffer::default()
    });
    server.feed.refresh_active(&state);
    Ok(())
}

/// An upgrade cut short between writing the manifest and moving the old file: the manifest
/// names the old `appendfilename` as its only file, which is still beside the folder. The
/// move is finished (Redis's third case for `aofUpgradePrepare`).
fn resume_interrupted_upgrade(
    server: &Server,
    dir: &Path,
    prefix: &str,
    manifest_path: &Path,
    legacy: &Path,
) -> Result<(), String> {
    if !legacy.exists() || !manifest_path.exists() {
        return Ok(());
    }
    let Ok(bytes) = std::fs::read(manifest_path) else {
        return Ok(());
    };
    let Ok(manifest) = Manifest::parse(&bytes) else {
        return Ok(());
    };
    let names_legacy = manifest
        .base
        .as_ref()
        .is_some_and(|b| b.file_name == prefix.as_bytes());
    if names_legacy && manifest.incr.is_empty() && !dir.join(prefix).exists() {
        std::fs::rename(legacy, dir.join(prefix))
            .map_err(|e| format!("Error trying to rename the legacy AOF file: {e}"))?;
        server.log.notice(&format!(
            "Successfully migrated an old-style AOF into the AOF directory {}.",
            dir.display()
        ));
    }
    Ok(())
}

fn load_files<'k>(
    server: &'k Server,
    view: &mut Locked<'k>,
    dir: &Path,
    prefix: &str,
    manifest: &Manifest,
    pacer: &mut Pacer<'k>,
) -> Result<(), String> {
    let files: Vec<_> = manifest.files_to_load().collect();
    let count = files.len();
    for (i, info) in files.into_iter().enumerate() {
        let name = String::from_utf8_lossy(&info.file_name).into_owned();
        let path = dir.join(&name);
        let started = Instant::now();
        load_one(server, view, &path, i + 1 == count, prefix, pacer)?;
        pacer.next_file(file_len(dir, &info.file_name));
        let kind = if info.file_type == manifest::FileType::Base {
            "base"
        } else {
            "incr"
        };
        server.log.notice(&format!(
            "DB loaded from {kind} file {name}: {:.3} seconds",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

/// Marks this thread as loading (nothing expires) until dropped.
struct LoadingGuard;

impl LoadingGuard {
    fn start() -> LoadingGuard {
        common::keyspace::set_loading(true);
        LoadingGuard
    }
}

impl Drop for LoadingGuard {
    fn drop(&mut self) {
        common::keyspace::set_loading(false);
    }
}

/// Loads one file: its RDB preamble if it has one, then its commands. A tail cut short in the
/// last file is truncated away when `aof-load-truncated yes`; anything else stops the start.
/// `view` holds the exclusive gate: the commands run under it, as Redis runs them on its fake
/// client (a MULTI's commands are queued here, then EXEC runs them).
fn load_one<'k>(
    server: &'k Server,
    view: &mut Locked<'k>,
    path: &Path,
    last: bool,
    prefix: &str,
    pacer: &mut Pacer<'k>,
) -> Result<(), String> {
    let display = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let data = std::fs::read(path).map_err(|e| {
        // C's strerror text, without Rust's " (os error N)".
        let text = e.to_string();
        let text = text
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_owned();
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("The append log file {display} doesn't exist: {text}")
        } else {
            format!("Fatal error: can't open the append log file {display} for reading: {text}")
        }
    })?;
    let mut pos = 0;
    if has_rdb_preamble(&data) {
        server.log.notice("Reading RDB base file on AOF loading...");
        // A view of its own, whose shard locks go before the commands take theirs.
        let Some(mut preamble) = view.sibling(0) else {
            return Err("AOF loading outside the exclusive gate".into());
        };
        let loaded =
            crate::persistence::rdb::load_paced(server, &mut preamble, &data, false, pacer)?;
        drop(preamble);
        pos = loaded.end;
        if pos < data.len() {
            server.log.notice("Reading the remaining AOF tail...");
        }
    }
    let _loading = LoadingGuard::start();
    let (info, _pushes) =
        crate::connection::ClientInfo::new(u64::MAX, String::new(), String::new(), -1, false);
    let mut client = crate::connection::Client::new(info, true);
    client.unrestricted = true;
    let mut reply = ReplyBuffer::new(client.protocol);
    let mut good = pos;
    // Where the open MULTI of the file started: a transaction cut short is dropped whole.
    let mut multi_start = None;
    let mut commands = Commands::at(&data, pos);
    let failure = loop {
        match commands.next() {
            None => break None,
            Some(Ok(Item::Annotation { end, .. })) => good = end,
            Some(Ok(Item::Command { start, end, args })) => {
                let ranges: Vec<std::ops::Range<usize>> = args
                    .iter()
                    .map(|a| {
                        let at = a.as_ptr() as usize - data.as_ptr() as usize;
                        at..at + a.len()
                    })
                    .collect();
                let list = ArgList::new(&data, &ranges);
                let name = args.first().copied().unwrap_or_default();
                if common::command_table::lookup(name).is_none() {
                    return Err(format!(
                        "Unknown command '{}' reading the append only file {display}",
                        String::from_utf8_lossy(name)
                    ));
                }
                let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
                if is("multi") {
                    multi_start = Some(start);
                }
                match &mut client.multi {
                    Some(multi) if !is("exec") && !is("discard") && !is("multi") => {
                        multi.queued.push(list.to_owned_command());
                    }
                    _ => {
                        if let Some(sibling) = view.sibling(client.db) {
                            let _ = crate::dispatch::run_with_view(
                                server,
                                &mut client,
                                list,
                                &mut reply,
                                sibling,
                            );
                        }
                    }
                }
                reply.clear();
                if client.multi.is_none() {
                    multi_start = None;
                }
                good = end;
                pacer.progress(view, end);
            }
            Some(Err(e)) => break Some(e),
        }
    };
    let truncated_at = match failure {
        None if multi_start.is_none() => return Ok(()),
        None => good,
        Some(e) if e.is_truncated() => good,
        Some(e) => {
            return Err(format!(
                "Bad file format reading the append only file {display}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest> (offset {})",
                e.offset
            ));
        }
    };
    let truncate_to = multi_start.unwrap_or(truncated_at);
    let allowed = server
        .config()
        .get_bool("aof-load-truncated")
        .unwrap_or(true);
    if !last || !allowed {
        return Err(format!(
            "Unexpected end of file reading the append only file {display}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <{}>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
            manifest::manifest_name(prefix)
        ));
    }
    if multi_start.is_some() {
        server
            .log
            .warning("Revert incomplete MULTI/EXEC transaction in AOF file");
        client.multi = None;
    }
    server.log.warning(&format!(
        "!!! Warning: short read while loading the AOF file {display}!!!"
    ));
    server.log.warning(&format!(
        "!!! Truncating the AOF {display} at offset {truncate_to} !!!"
    ));
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("Error truncating the AOF file {display}: {e}"))?;
    file.set_len(truncate_to as u64)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("Error truncating the AOF file {display}: {e}"))?;
    server.log.warning(&format!(
        "AOF {display} loaded anyway because aof-load-truncated is enabled"
    ));
    Ok(())
}

/// DEBUG LOADAOF: writes what is pending, empties the dataset (functions too), and loads the
/// folder the manifest on disk names, through `view` (exclusive gate). Redis exits when the
/// files cannot be loaded; so does this.
pub(crate) fn debug_loadaof<'k>(server: &'k Server, view: &mut Locked<'k>) {
    if server.aof.enabled.load(Relaxed) {
        server.aof.flush_and_sync(server);
    }
    if let Some(mut flushing) = view.sibling(0) {
        crate::persistence::rdb::flush_all(server, &mut flushing);
    }
    let (dir, prefix) = folder(server);
    let path = dir.join(manifest::manifest_name(&prefix));
    let manifest = match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes).map_err(|e| e.to_string()),
        Err(_) => Ok(Manifest::new()),
    };
    let _loading = crate::persistence::rdb::Loading::start(&server.rdb, 0);
    let loaded = manifest.and_then(|manifest| {
        if manifest.files_to_load().next().is_none() {
            return Ok(());
        }
        load_files(
            server,
            view,
            &dir,
            &prefix,
            &manifest,
            &mut Pacer::held(server),
        )
    });
    if let Err(e) = loaded {
        server.log.warning(&e);
        std::process::exit(1);
    }
    server.dirty.store(0, Relaxed);
    server
        .log
        .warning("Append Only File loaded by DEBUG LOADAOF");
}
