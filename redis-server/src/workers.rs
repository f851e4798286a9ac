//! Connection worker threads: one single-threaded tokio runtime per thread, each with its own
//! epoll and timers, and new connections dealt to them round-robin.
//!
//! Why not one multi-threaded runtime: with work stealing, readiness wake-ups landed on the
//! worker that polled the reactor, so at `redis-benchmark -P 16 -c 50` one worker served most
//! clients and the server used one core of two (measured with /proc stat ticks).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tokio::runtime::{Builder, Handle};

pub(crate) struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `n` worker threads, each running its own runtime until the process exits.
    pub(crate) fn start(n: usize) -> std::io::Result<Workers> {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n.max(1) {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(
                    move || match Builder::new_current_thread().enable_all().build() {
                        Ok(runtime) => {
                            let _ = tx.send(Ok(runtime.handle().clone()));
                            runtime.block_on(std::future::pending::<()>());
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    },
                )?;
            let handle = rx
                .recv()
                .map_err(|_| std::io::Error::other("worker thread ended at start-up"))??;
            handles.push(handle);
        }
        Ok(Workers {
            handles,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `task` on the next worker in turn.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let i = self.next.fetch_add(1, Relaxed) % self.handles.len();
        self.handles[i].spawn(task);
    }
}

/// Niceness of threads that work in the background for the whole keyspace (BGSAVE,
/// BGREWRITEAOF): on a box with few cores they must yield to connection workers, or a
/// client's request waits a scheduler slice behind them.
const BACKGROUND_NICENESS: libc::c_int = 10;

/// Lowers the calling thread's scheduling priority to [`BACKGROUND_NICENESS`] (Linux sets
/// niceness per thread); best effort, as Redis's own background priorities are.
pub(crate) fn lower_this_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid takes nothing and touches no memory of ours.
    lower_priority(unsafe { libc::gettid() } as u32);
}

/// Lowers the priority of thread or process `id` (a writer child) to [`BACKGROUND_NICENESS`].
/// Niceness 10 rather than SCHED_IDLE or 19: those measured a little better for a client's
/// p99 during BGSAVE here, but get almost no CPU on a saturated server (weights 3 and 15
/// against 1024), and a snapshot that never finishes also starves replicas' full syncs.
pub(crate) fn lower_priority(id: u32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes plain integers and touches no memory of ours; any value is
    // valid (a failure is reported through the return value, ignored here: best effort).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, id as libc::id_t, BACKGROUND_NICENESS);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn background_threads_run_nicer_and_leave_others_alone() {
        // SAFETY: as in lower_this_thread_priority; getpriority only reads an integer.
        let niceness =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = niceness();
        let lowered = std::thread::spawn(move || {
            super::lower_this_thread_priority();
            niceness()
        })
        .join()
        .expect("thread ran");
        assert_eq!(lowered, (before + super::BACKGROUND_NICENESS).min(19));
        assert_eq!(niceness(), before);
    }
}
