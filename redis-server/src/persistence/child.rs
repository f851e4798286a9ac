//! The child process a background save or AOF rewrite writes its file through. Redis forks
//! a child that writes `temp-<pid>.rdb` (or `temp-rewriteaof-bg-<pid>.aof`); here the
//! snapshot is taken by threads, and the file is written by a child process started from our
//! own binary (`redis-server --persistence-writer-child DIR KIND INCREMENTAL_FSYNC
//! [OOM_SCORE]`), which reads the bytes on its standard input, writes the temp file named after
//! its own pid and syncs it. The parent renames the file only when the child exits with
//! success, so a child killed midway (`kill -9`, as the test suite does) fails the save or
//! rewrite as in Redis, and INFO `total_forks` counts the children. With `oom-score-adj` on,
//! the child first takes the background-child class's score, as Redis's forked child does.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::rdb::RdbStatus;

/// The first argument that makes `redis-server` a writer child.
pub(crate) const WRITER_CHILD_FLAG: &str = "--persistence-writer-child";

/// What the child writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Rdb,
    AofRewrite,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Rdb => "rdb",
            Kind::AofRewrite => "aof",
        }
    }

    fn temp_name(self, pid: u32) -> String {
        match self {
            Kind::Rdb => format!("temp-{pid}.rdb"),
            Kind::AofRewrite => format!("temp-rewriteaof-bg-{pid}.aof"),
        }
    }
}

/// The binary to start the child from. On Linux `/proc/self/exe` names the running image even
/// after a package upgrade replaced or deleted the file on disk (where the path
/// `current_exe` returns would start the new binary, or nothing).
fn own_executable() -> std::io::Result<PathBuf> {
    let running = Path::new("/proc/self/exe");
    if running.exists() {
        return Ok(running.to_path_buf());
    }
    std::env::current_exe()
}

/// A running writer child. In this crate's unit tests the executable is the test harness,
/// not `redis-server`, so there the file is written in-process instead (the integration
/// tests cover the child).
pub(crate) struct WriterChild {
    writer: Writer,
    dir: PathBuf,
    kind: Kind,
}

enum Writer {
    Process(Child),
    /// `id` names the temp file in place of a child's pid (unique in the process).
    InProcess {
        incremental_fsync: bool,
        id: u32,
    },
}

/// Ids of in-process writers.
static IN_PROCESS_IDS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl WriterChild {
    /// Starts the child (counted in `status.forks`); its file goes to `dir`.
    pub(crate) fn spawn(
        status: &RdbStatus,
        dir: &Path,
        kind: Kind,
        incremental_fsync: bool,
        oom_score: Option<i32>,
    ) -> std::io::Result<WriterChild> {
        let writer = if cfg!(test) {
            Writer::InProcess {
                incremental_fsync,
                id: std::process::id()
                    .wrapping_mul(1000)
                    .wrapping_add(IN_PROCESS_IDS.fetch_add(1, Relaxed)),
            }
        } else {
            let mut command = Command::new(own_executable()?);
            command
                .arg(WRITER_CHILD_FLAG)
                .arg(dir)
                .arg(kind.arg())
                .arg(if incremental_fsync { "1" } else { "0" });
            if let Some(score) = oom_score {
                command.arg(score.to_string());
            }
            Writer::Process(
                command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()?,
            )
        };
        if let Writer::Process(child) = &writer {
            // It copies a whole file: on a small box it must yield to connection workers.
            crate::workers::lower_priority(child.id());
        }
        status.forks.fetch_add(1, Relaxed);
        Ok(WriterChild {
            writer,
            dir: dir.to_owned(),
            kind,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        match &self.writer {
            Writer::Process(child) => child.id(),
            Writer::InProcess { id, .. } => *id,
        }
    }

    pub(crate) fn temp_path(&self) -> PathBuf {
        self.dir.join(self.kind.temp_name(self.pid()))
    }

    /// How the child ended, if it did.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        match &mut self.writer {
            Writer::Process(child) => child.try_wait().ok().flatten(),
            Writer::InProcess { .. } => None,
        }
    }

    /// [`wait_key_delay`] while the child runs: when `cancelled` says so the child is killed
    /// and `cancelled_error` returned; when the child dies, its failure.
    pub(crate) fn wait_key_delay(
        mut self,
        keys: u64,
        delay_us: i64,
        cancelled: impl Fn() -> bool,
        cancelled_error: &str,
    ) -> Result<Self, String> {
        match self.delay_keys(keys, delay_us, cancelled) {
            Ok(()) => Ok(self),
            Err(Some(status)) => Err(self.failed(status)),
            Err(None) => {
                self.abandon();
                Err(cancelled_error.to_owned())
            }
        }
    }

    /// [`wait_key_delay`] while the child runs, keeping it: `Err(Some(status))` when the
    /// child died meanwhile, `Err(None)` when `cancelled` said stop.
    pub(crate) fn delay_keys(
        &mut self,
        keys: u64,
        delay_us: i64,
        cancelled: impl Fn() -> bool,
    ) -> Result<(), Option<ExitStatus>> {
        let mut exited = None;
        if wait_key_delay(keys, delay_us, || {
            exited = self.exited();
            cancelled() || exited.is_some()
        }) {
            Ok(())
        } else {
            Err(exited)
        }
    }

    /// The child exited early with `status`: removes its file and returns Redis's words.
    pub(crate) fn failed(self, status: ExitStatus) -> String {
        let _ = std::fs::remove_file(self.temp_path());
        child_failure(self.kind, status)
    }

    /// Stops the child (if still running) and removes its file.
    pub(crate) fn abandon(mut self) {
        if let Writer::Process(child) = &mut self.writer {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.temp_path());
    }

    /// Hands the child the bytes and waits for it: the temp file's path once it is written
    /// and synced, or Redis's words for the failure (the file is removed).
    pub(crate) fn finish(mut self, bytes: &[u8]) -> Result<PathBuf, String> {
        let path = self.temp_path();
        let failure = match &mut self.writer {
            Writer::InProcess {
                incremental_fsync, ..
            } => match write_temp(&path, bytes, *incremental_fsync) {
                Ok(()) => return Ok(path),
                Err(e) => format!("Write error saving DB on disk: {e}"),
            },
            Writer::Process(child) => {
                let written = match child.stdin.take() {
                    Some(mut stdin) => stdin.write_all(bytes),
                    None => Ok(()),
                };
                match child.wait() {
                    Ok(status) if status.success() && written.is_ok() => return Ok(path),
                    Ok(status) => child_failure(self.kind, status),
                    Err(e) => format!("Waiting for the background child: {e}"),
                }
            }
        };
        let _ = std::fs::remove_file(&path);
        Err(failure)
    }
}

/// Writes `bytes` to `path` and syncs it (every [`AUTOSYNC_BYTES`] with `incremental`).
fn write_temp(path: &Path, bytes: &[u8], incremental: bool) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    if incremental {
        for chunk in bytes.chunks(AUTOSYNC_BYTES) {
            f.write_all(chunk)?;
            f.sync_data()?;
        }
    } else {
        f.write_all(bytes)?;
    }
    f.sync_all()
}

/// Waits out `rdb-key-save-delay` (`delay_us` per key, for `keys` keys: how the suite slows
/// a save or rewrite down), asking `interrupted` every millisecond; false when it said stop.
pub(crate) fn wait_key_delay(
    keys: u64,
    delay_us: i64,
    mut interrupted: impl FnMut() -> bool,
) -> bool {
    if delay_us <= 0 {
        return true;
    }
    let total = Duration::from_micros(delay_us as u64)
        .saturating_mul(u32::try_from(keys).unwrap_or(u32::MAX));
    let until = Instant::now() + total;
    while Instant::now() < until {
        if interrupted() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1).min(total));
    }
    true
}

/// Redis's words for a child that did not succeed.
pub(crate) fn child_failure(kind: Kind, status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    let what = match kind {
        Kind::Rdb => "Background saving",
        Kind::AofRewrite => "Background AOF rewrite",
    };
    match status.signal() {
        Some(sig) => format!("{what} terminated by signal {sig}"),
        None => format!("{what} terminated with error"),
    }
}

/// Bytes written between two syncs with incremental fsync on (`REDIS_AUTOSYNC_BYTES`).
const AUTOSYNC_BYTES: usize = 4 << 20;

/// The writer child's whole life: `args` are DIR KIND INCREMENTAL_FSYNC [OOM_SCORE]. Exit
/// status 0 once the file is written and synced.
pub(crate) fn writer_child_main(args: &[String]) -> ExitCode {
    let (Some(dir), Some(kind), Some(incremental)) = (args.first(), args.get(1), args.get(2))
    else {
        return ExitCode::from(1);
    };
    if let Some(score) = args.get(3).and_then(|s| s.parse().ok()) {
        // Like Redis's child, one that cannot set its score logs it and still writes.
        if let Err(line) = crate::oom::set_own_score(score) {
            eprintln!("{line}");
        }
    }
    let kind = if kind == "rdb" {
        Kind::Rdb
    } else {
        Kind::AofRewrite
    };
    let path = Path::new(dir).join(kind.temp_name(std::process::id()));
    let mut bytes = Vec::new();
    let done = std::io::stdin()
        .read_to_end(&mut bytes)
        .and_then(|_| write_temp(&path, &bytes, incremental == "1"));
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error writing {}: {e}", path.display());
            let _ = std::fs::remove_file(&path);
            ExitCode::from(1)
        }
    }
}
