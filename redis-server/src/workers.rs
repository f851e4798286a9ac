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
                            runtime.block_on(serve_inbox());
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

/// Work another thread hands to a connection worker (results the script thread made).
pub(crate) type Delivery = Box<dyn FnOnce() + Send>;

thread_local! {
    /// On a connection worker: where other threads send it deliveries.
    static INBOX: std::cell::OnceCell<Inbox> = const { std::cell::OnceCell::new() };
}

/// A connection worker's inbox: deliveries sent together run on the worker together, for one
/// wake of its runtime. Each wake from another thread is a write to the runtime's eventfd;
/// waking every waiting connection from the script thread cost one per result (a twentieth
/// of that thread's time under pipelined EVALSHA).
#[derive(Clone)]
pub(crate) struct Inbox(tokio::sync::mpsc::UnboundedSender<Vec<Delivery>>);

impl Inbox {
    /// The calling thread's inbox: `None` off the connection workers.
    pub(crate) fn of_this_thread() -> Option<Inbox> {
        INBOX.with(|inbox| inbox.get().cloned())
    }

    /// Runs `batch` on the inbox's worker (here, if that worker is gone).
    pub(crate) fn deliver(&self, batch: Vec<Delivery>) {
        if let Err(unsent) = self.0.send(batch) {
            for delivery in unsent.0 {
                delivery();
            }
        }
    }

    /// Both are the same worker's.
    pub(crate) fn same(&self, other: &Inbox) -> bool {
        self.0.same_channel(&other.0)
    }
}

/// A worker's runtime runs this until the process exits: it opens the inbox and runs what
/// arrives there.
async fn serve_inbox() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Delivery>>();
    INBOX.with(|inbox| inbox.set(Inbox(tx)).ok());
    while let Some(batch) = rx.recv().await {
        for delivery in batch {
            delivery();
        }
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

/// Lowers the priority of thread or process `id` (a writer child) to [`BACKGROUND_NICENESS`]
/// and asks for [`BACKGROUND_SLICE_NS`] as its scheduler slice.
/// Niceness 10 rather than SCHED_IDLE or 19: those measured a little better for a client's
/// p99 during BGSAVE here, but get almost no CPU on a saturated server (weights 3 and 15
/// against 1024), and a snapshot that never finishes also starves replicas' full syncs.
pub(crate) fn lower_priority(id: u32) {
    #[cfg(target_os = "linux")]
    {
        if set_fair_slice(id, BACKGROUND_NICENESS, BACKGROUND_SLICE_NS).is_err() {
            // SAFETY: setpriority takes plain integers and touches no memory of ours; any
            // value is valid (a failure is reported through the return value, ignored here:
            // best effort).
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, id as libc::id_t, BACKGROUND_NICENESS);
            }
        }
    }
}

/// The calling thread's priority lowered as [`lower_priority`] does while this lives (a pool
/// thread that runs a snapshot for a replica's full sync, then goes back to other work).
pub(crate) struct BackgroundPriority {
    #[cfg(target_os = "linux")]
    tid: u32,
    #[cfg(target_os = "linux")]
    old: libc::c_int,
}

impl BackgroundPriority {
    pub(crate) fn lower() -> Option<BackgroundPriority> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: gettid has no preconditions; getpriority only reads this thread's nice
            // value (errno tells a failure from a legitimate -1).
            let (tid, old) = unsafe {
                let tid = libc::gettid() as u32;
                *libc::__errno_location() = 0;
                let old = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
                if old == -1 && *libc::__errno_location() != 0 {
                    return None;
                }
                (tid, old)
            };
            let lowered = (old + BACKGROUND_NICENESS).min(19);
            set_fair_slice(tid, lowered, BACKGROUND_SLICE_NS).ok()?;
            Some(BackgroundPriority { tid, old })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }
}

impl Drop for BackgroundPriority {
    fn drop(&mut self) {
        // Back to the old niceness and the default slice (0 asks for it). Raising the
        // priority again may be refused without privileges, which only leaves this pool
        // thread nicer than before.
        #[cfg(target_os = "linux")]
        let _ = set_fair_slice(self.tid, self.old, 0);
    }
}

/// The slice background threads ask for. Linux's EEVDF scheduler (6.6 and later) lets a
/// running task finish its slice before a woken one preempts it, whatever their niceness:
/// with the default (about 3 ms here) a connection worker woken by a client waited behind
/// the snapshot thread for up to that long, which was most of a BGSAVE's slow requests.
/// 0.1 ms is the shortest slice the kernel accepts.
#[cfg(target_os = "linux")]
const BACKGROUND_SLICE_NS: u64 = 100_000;

/// `struct sched_attr` as `sched_setattr(2)` takes it (its first version, 48 bytes).
#[cfg(target_os = "linux")]
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// Puts thread `id` in the normal class at niceness `nice` with a slice of `slice_ns` (0: the
/// default; kernels before 6.12 ignore the slice and apply the niceness only).
#[cfg(target_os = "linux")]
fn set_fair_slice(id: u32, nice: libc::c_int, slice_ns: u64) -> std::io::Result<()> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: 0,
        nice,
        priority: 0,
        runtime: slice_ns,
        deadline: 0,
        period: 0,
    };
    // SAFETY: sched_setattr reads `size` bytes from the pointer, and `attr` is a live,
    // initialized repr(C) struct of exactly that size laid out as the kernel's
    // sched_attr (VER0); the kernel keeps no reference to it after the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            id as libc::pid_t,
            &attr as *const SchedAttr,
            0u32,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
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
