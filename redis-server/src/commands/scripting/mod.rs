//! Group `scripting`: EVAL and the script cache (eval.rs), FCALL and libraries of functions
//! (functions.rs), the Lua VM and its conversions (lua.rs) and the libraries Redis loads into
//! it (libs/).
//!
//! A script runs under the exclusive keyspace gate, so it is atomic as in Redis; every
//! `redis.call` runs through dispatch on a fresh view of that gate. While one runs, [`Busy`]
//! tells dispatch to keep other clients waiting (asynchronously) and, past
//! `busy-reply-threshold`, to answer them BUSY; SCRIPT KILL and FUNCTION KILL reach the script
//! through a Lua hook.

mod call;
mod eval;
mod functions;
mod libs;
mod lua;

pub(crate) use lua::ScriptCallError;

use std::collections::HashMap;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};

use common::command_table::{self, CommandSpec, Group};
use common::resp::{ArgList, OwnedCommand};
use std::time::{Duration, Instant};

use super::Registry;
use super::{CommandError, Locking};
use crate::workers::Inbox;

pub(super) fn register(r: &mut Registry) {
    r.add_with("eval", eval::eval, Locking::Exclusive);
    r.add_with("evalsha", eval::evalsha, Locking::Exclusive);
    r.add_with("eval_ro", eval::eval_ro, Locking::Exclusive);
    r.add_with("evalsha_ro", eval::evalsha_ro, Locking::Exclusive);
    r.add_sub("script", "load", eval::script_load);
    r.add_sub("script", "exists", eval::script_exists);
    r.add_sub("script", "flush", eval::script_flush);
    r.add_sub("script", "kill", eval::script_kill);
    r.add_sub("script", "help", eval::script_help);
    r.add_with("fcall", functions::fcall, Locking::Exclusive);
    r.add_with("fcall_ro", functions::fcall_ro, Locking::Exclusive);
    r.add_sub("function", "load", functions::function_load);
    r.add_sub("function", "list", functions::function_list);
    r.add_sub("function", "delete", functions::function_delete);
    r.add_sub("function", "flush", functions::function_flush);
    r.add_sub("function", "stats", functions::function_stats);
    r.add_sub("function", "kill", functions::function_kill);
    r.add_sub("function", "help", functions::function_help);
    r.add_sub("function", "dump", functions::function_dump);
    r.add_sub("function", "restore", functions::function_restore);
}

/// Script flags (`#!lua flags=...` for EVAL, `flags={...}` for functions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScriptFlags {
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

impl ScriptFlags {
    /// Sets the flag named `name`; false for an unknown name.
    fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }

    /// The names set, in Redis's order.
    fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.no_writes {
            out.push("no-writes");
        }
        if self.allow_oom {
            out.push("allow-oom");
        }
        if self.allow_stale {
            out.push("allow-stale");
        }
        if self.no_cluster {
            out.push("no-cluster");
        }
        if self.allow_cross_slot_keys {
            out.push("allow-cross-slot-keys");
        }
        out
    }
}

/// What is running now, for BUSY, SCRIPT KILL and FUNCTION STATS.
///
/// A run's start and end touch only atomics (the command line of an FCALL aside): every run
/// of a short script pays for them, and a mutex here was a fortieth of such a run.
pub(crate) struct Busy {
    /// True while a script or function runs: dispatch reads it before taking the gate. On a
    /// cache line of its own: every command on every worker reads it, and the script thread
    /// writes the fields below on every run.
    active: ActiveFlag,
    kill: AtomicBool,
    pub(crate) wrote: AtomicBool,
    /// The running script's "Slow script detected" line is in the log.
    slow_logged: AtomicBool,
    /// When the running script started, as nanoseconds after `epoch` plus one; 0 while none
    /// runs.
    started: AtomicU64,
    epoch: Instant,
    /// The running run is an FCALL: `function` holds its command line (the buffer is
    /// reused from one FCALL to the next).
    calls_function: AtomicBool,
    function: Mutex<OwnedCommand>,
}

#[repr(align(64))]
#[derive(Default)]
struct ActiveFlag(AtomicBool);

impl Default for Busy {
    fn default() -> Self {
        Busy {
            active: ActiveFlag::default(),
            kill: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            slow_logged: AtomicBool::new(false),
            started: AtomicU64::new(0),
            epoch: Instant::now(),
            calls_function: AtomicBool::new(false),
            function: Mutex::new(OwnedCommand::default()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub started: Instant,
    /// The command line of an FCALL (its second argument names the function as called);
    /// `None` for EVAL.
    pub function: Option<OwnedCommand>,
}

impl Busy {
    fn function(&self) -> MutexGuard<'_, OwnedCommand> {
        self.function.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True while a script runs (one atomic load: the fast path of every command).
    pub(crate) fn is_active(&self) -> bool {
        self.active.0.load(SeqCst)
    }

    /// When the running script started, if one runs.
    fn started(&self) -> Option<Instant> {
        match self.started.load(Acquire) {
            0 => None,
            mark => Some(self.epoch + Duration::from_nanos(mark - 1)),
        }
    }

    /// The run in progress, if one runs.
    pub(crate) fn running(&self) -> Option<Running> {
        let started = self.started()?;
        let function = if self.calls_function.load(Acquire) {
            Some(self.function().clone())
        } else {
            None
        };
        Some(Running { started, function })
    }

    /// Claims the right to run scripts before the keyspace gate is taken, so that no other
    /// client blocks a thread on the gate a script holds: they see the claim and wait
    /// asynchronously. False when another run holds it.
    pub(crate) fn claim(&self) -> bool {
        self.active
            .0
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_ok()
    }

    /// Gives the claim back (after the gate is released).
    pub(crate) fn release(&self) {
        self.active.0.store(false, SeqCst);
    }

    /// A script starts under the claim; true when it had to take the claim itself (a caller
    /// that did not go through dispatch), and so must release it at the end.
    /// `started`: when the command that runs it started.
    fn begin(&self, function: Option<ArgList<'_>>, started: Instant) -> bool {
        // Dispatch claimed it already for a client's command: a load sees that without the
        // locked compare-exchange.
        let own = !self.is_active() && self.claim();
        if let Some(args) = function {
            let mut line = self.function();
            line.clear();
            for arg in args.iter() {
                line.push(arg);
            }
            self.calls_function.store(true, Release);
        }
        self.kill.store(false, Relaxed);
        self.wrote.store(false, Relaxed);
        self.slow_logged.store(false, Relaxed);
        let since_epoch = started.saturating_duration_since(self.epoch).as_nanos();
        let mark = u64::try_from(since_epoch).unwrap_or(u64::MAX - 1) + 1;
        self.started.store(mark, Release);
        own
    }

    /// Logs, once per run, that the running script passed `threshold` (Redis's warning as
    /// it enters the timed-out state, when other clients start getting BUSY).
    pub(crate) fn log_if_slow(&self, log: &crate::log::Logger, threshold: Duration, name: &str) {
        if self.slow_logged.load(Relaxed) {
            return;
        }
        let Some(running) = self.running() else {
            return;
        };
        let elapsed = running.started.elapsed();
        if elapsed < threshold {
            return;
        }
        self.slow_logged.store(true, Relaxed);
        let kill = if running.function.is_some() {
            "FUNCTION KILL"
        } else {
            "SCRIPT KILL"
        };
        log.warning(&format!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {kill} command. Script name is: {name}.",
            elapsed.as_millis()
        ));
    }

    fn end(&self, own: bool) {
        self.started.store(0, Release);
        self.calls_function.store(false, Release);
        self.kill.store(false, Relaxed);
        if own {
            self.release();
        }
    }

    /// True while a script runs that started at least `threshold` ago: other clients are
    /// answered BUSY.
    pub(crate) fn timed_out(&self, threshold: Duration) -> bool {
        self.started()
            .is_some_and(|started| started.elapsed() >= threshold)
    }

    pub(crate) fn kill_requested(&self) -> bool {
        self.kill.load(Relaxed)
    }

    pub(crate) fn mark_wrote(&self) {
        self.wrote.store(true, Relaxed);
    }
}

/// Whether running `spec` runs a script: EVAL and FCALL and their forms, and an EXEC whose
/// queue holds one. These claim [`Busy`] and run on the script thread.
pub(crate) fn runs_script(spec: &CommandSpec, queued: Option<&[OwnedCommand]>) -> bool {
    any_queued(spec, queued, &|spec| {
        spec.group == Group::Scripting
            && spec.container.is_none()
            && matches!(
                spec.name,
                "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
            )
    })
}

/// What a script command's flags say about writing, as CLIENT PAUSE WRITE asks (Redis's
/// evalGetCommandFlags and fcallGetCommandFlags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptWrites {
    /// Not a script command, or a script without declared flags (or not loaded): the
    /// command's own flags decide.
    Undeclared,
    /// The script or function declared its flags: it may write unless `no-writes`.
    Declared(bool),
    /// Only the engine knows (EVALSHA, FCALL), and this thread has none.
    NeedsEngine,
}

/// What the flags of the script `args` runs say about writing. `on_worker`: this thread has
/// no engine.
pub(crate) fn script_writes(
    server: &crate::server::Server,
    spec: &CommandSpec,
    args: &ArgList<'_>,
    on_worker: bool,
) -> ScriptWrites {
    if spec.container.is_some() {
        return ScriptWrites::Undeclared;
    }
    let Some(target) = args.get(1) else {
        return ScriptWrites::Undeclared;
    };
    let declared = |flags: ScriptFlags| ScriptWrites::Declared(!flags.no_writes);
    match spec.name {
        // A cached script's flags are those of its shebang line.
        "eval" | "eval_ro" => match eval::shebang_flags(target) {
            Ok(Some(flags)) => declared(flags),
            _ => ScriptWrites::Undeclared,
        },
        "evalsha" | "evalsha_ro" if target.len() != 40 => ScriptWrites::Undeclared,
        "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro" if on_worker => ScriptWrites::NeedsEngine,
        "evalsha" | "evalsha_ro" => {
            let sha = String::from_utf8_lossy(target).to_ascii_lowercase();
            let found = server.scripting.with_engine(|engine| {
                Ok(engine
                    .scripts
                    .get(&sha)
                    .filter(|script| script.shebang)
                    .map(|script| script.flags))
            });
            found
                .ok()
                .flatten()
                .map_or(ScriptWrites::Undeclared, declared)
        }
        "fcall" | "fcall_ro" => {
            let name = String::from_utf8_lossy(target);
            let found = server
                .scripting
                .with_engine(|engine| Ok(engine.libraries.function_flags(&name)));
            found
                .ok()
                .flatten()
                .map_or(ScriptWrites::Undeclared, declared)
        }
        _ => ScriptWrites::Undeclared,
    }
}

/// Whether running `spec` reaches the engine, which lives on the script thread: the commands
/// that run scripts, the SCRIPT and FUNCTION subcommands that read or change what is loaded,
/// DEBUG (RELOAD loads functions), and an EXEC whose queue holds one of these. SCRIPT KILL,
/// FUNCTION KILL and FUNCTION STATS stay off it: they must answer while a script runs there.
pub(crate) fn uses_engine(spec: &CommandSpec, queued: Option<&[OwnedCommand]>) -> bool {
    // The group first: most commands are told apart by an enum, not by their names.
    any_queued(spec, queued, &|spec| match (spec.group, spec.container) {
        (Group::Server, None) => spec.name == "debug",
        (Group::Scripting, None) => matches!(
            spec.name,
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
        ),
        (Group::Scripting, Some("script")) => matches!(spec.name, "load" | "exists" | "flush"),
        (Group::Scripting, Some("function")) => {
            matches!(spec.name, "load" | "list" | "delete" | "flush" | "restore")
        }
        _ => false,
    })
}

/// `test` of `spec`, or of any command an EXEC would run.
fn any_queued(
    spec: &CommandSpec,
    queued: Option<&[OwnedCommand]>,
    test: &dyn Fn(&CommandSpec) -> bool,
) -> bool {
    if let Some(queue) = queued
        && spec.group == Group::Transactions
        && spec.name == "exec"
    {
        return queue.iter().any(|command| {
            let args = command.args();
            command_table::lookup_line(args.get(0).unwrap_or_default(), args.get(1))
                .is_some_and(test)
        });
    }
    test(spec)
}

type Job = crate::workers::Delivery;

/// How many times the script thread polls for a job before it sleeps.
const SPIN_POLLS: u32 = 2000;

/// Results the script thread holds back at most before handing them over. Measured under
/// pipelined EVALSHA from 50 clients: 32 let the threads take turns (see [`MAX_HOLD`]), 4
/// woke the worker too often; 8 gave the most throughput.
const MAX_HELD_RESULTS: usize = 8;

/// How long the first result held back waits at most for the jobs run after it. Holding
/// results until the queue ran dry made the two threads take turns: the connection worker
/// waited for the whole queue's replies while the script thread ran it, then the script
/// thread waited for the next requests while the worker wrote those replies and read them
/// (measured under pipelined EVALSHA: a fifth of both threads' time idle, and the machine
/// too). Handed back in slices, the worker's I/O overlaps the runs that follow.
const MAX_HOLD: Duration = Duration::from_micros(200);

/// The next job, or `None` once every sender is gone. Under a stream of script batches the
/// next one usually arrives within microseconds: polling for it a while costs less than
/// sleeping and being woken (measured: the sleep/wake pair was a sixth of the thread's time).
fn next_job(jobs: &mpsc::Receiver<Job>) -> Option<Job> {
    for _ in 0..SPIN_POLLS {
        match jobs.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    jobs.recv().ok()
}

/// On the script thread, from a long job (the start-up load, between two of its steps): runs
/// the jobs queued behind it now and hands their results back, as Redis serves clients while
/// it loads. Elsewhere, does nothing.
pub(crate) fn run_queued_jobs() {
    loop {
        let taken = QUEUE.with(|queue| {
            queue
                .try_borrow()
                .ok()
                .and_then(|queue| queue.as_ref().and_then(|rx| rx.try_recv().ok()))
        });
        let Some(job) = taken else {
            break;
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
    hand_back_held();
}

thread_local! {
    /// On the script thread: the queue of jobs it serves.
    static QUEUE: std::cell::RefCell<Option<mpsc::Receiver<Job>>> =
        const { std::cell::RefCell::new(None) };
    /// On the script thread: results made and not yet handed back (see [`hand_back`]).
    static HELD_RESULTS: std::cell::RefCell<Option<Vec<HeldResult>>> =
        const { std::cell::RefCell::new(None) };
    /// On the script thread: when the oldest of the held results was made.
    static HELD_SINCE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Hands a job's result back (`deliver` wakes the connection that waits for it). On the
/// script thread this waits for the jobs queued behind it, up to [`MAX_HOLD`], or until
/// [`hand_back_held`] (a long script's hook): waking a connection worker for every job
/// preempted this thread at each wake (a sixth of its time), where one wake per slice of
/// the queue does.
fn hand_back(inbox: Option<Inbox>, deliver: Job) {
    let deliver = HELD_RESULTS.with(|held| match held.borrow_mut().as_mut() {
        Some(held) => {
            if held.is_empty() {
                HELD_SINCE.with(|since| since.set(Some(Instant::now())));
            }
            held.push((inbox, deliver));
            None
        }
        None => Some(deliver),
    });
    if let Some(deliver) = deliver {
        deliver();
    }
}

/// A result held back, with the inbox of the worker that waits for it (`None` when it waits
/// elsewhere).
type HeldResult = (Option<Inbox>, Job);

/// Hands back every result the script thread holds: those for one connection worker in one
/// delivery to its inbox.
pub(crate) fn hand_back_held() {
    let held = HELD_RESULTS.with(|held| held.borrow_mut().as_mut().map(std::mem::take));
    HELD_SINCE.with(|since| since.set(None));
    let mut batches: Vec<(Inbox, Vec<Job>)> = Vec::new();
    for (inbox, deliver) in held.into_iter().flatten() {
        let Some(inbox) = inbox else {
            deliver();
            continue;
        };
        match batches.iter_mut().find(|(to, _)| to.same(&inbox)) {
            Some((_, batch)) => batch.push(deliver),
            None => batches.push((inbox, vec![deliver])),
        }
    }
    for (inbox, batch) in batches {
        inbox.deliver(batch);
    }
}

/// The script thread's loop: runs jobs in arrival order, handing their results back when
/// the queue runs dry, when too many are held, or when the oldest has waited long enough.
fn serve_jobs(jobs: mpsc::Receiver<Job>) {
    HELD_RESULTS.with(|held| *held.borrow_mut() = Some(Vec::new()));
    QUEUE.with(|queue| *queue.borrow_mut() = Some(jobs));
    loop {
        // The queue is borrowed only while taking a job: a job may run those queued behind
        // it ([`run_queued_jobs`]).
        let taken = QUEUE.with(|queue| queue.borrow().as_ref().map(mpsc::Receiver::try_recv));
        let job = match taken {
            Some(Ok(job)) => job,
            Some(Err(mpsc::TryRecvError::Empty)) => {
                hand_back_held();
                let next = QUEUE.with(|queue| queue.borrow().as_ref().and_then(next_job));
                match next {
                    Some(job) => job,
                    None => break,
                }
            }
            Some(Err(mpsc::TryRecvError::Disconnected)) | None => break,
        };
        // A job that panics loses its own result (its waiter sees the sender dropped), not
        // the held results of others, nor the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let held = HELD_RESULTS.with(|held| held.borrow().as_ref().map_or(0, Vec::len));
        let held_since = HELD_SINCE.with(std::cell::Cell::get);
        if held >= MAX_HELD_RESULTS || held_since.is_some_and(|at| at.elapsed() >= MAX_HOLD) {
            hand_back_held();
        }
    }
    hand_back_held();
}

/// The script thread's stack: converting a reply nested to the 1000-level limit recurses, as
/// do Lua's own C calls, and an unoptimized build spends far more per frame than 2 MiB allow.
const SCRIPT_STACK: usize = 64 << 20;

/// The thread scripts run on. A script may run for long (`while true do end`), and a
/// connection worker serves many clients: on a worker it would starve them all, and a SCRIPT
/// KILL sent by one of them could never arrive. Batches that run a script come here in
/// arrival order, which also keeps runs from contending for the engine.
#[derive(Default)]
pub(crate) struct ScriptThread {
    jobs: OnceLock<Option<mpsc::Sender<Job>>>,
}

impl ScriptThread {
    fn sender(&self) -> Option<&mpsc::Sender<Job>> {
        let slot = self.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let started = std::thread::Builder::new()
                .name("scripts".into())
                .stack_size(SCRIPT_STACK)
                .spawn(move || serve_jobs(rx));
            started.ok().map(|_| tx)
        });
        slot.as_ref()
    }

    /// Runs `f` on the script thread and waits (asynchronously) for its result. Runs it here
    /// when the thread could not be started. `None` only if `f` panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let inbox = Inbox::of_this_thread();
        self.submit(Box::new(move || {
            let result = f();
            hand_back(
                inbox,
                Box::new(move || {
                    let _ = tx.send(result);
                }),
            );
        }));
        rx.await.ok()
    }

    /// Queues `job` for the script thread; runs it here when the thread could not be started.
    fn submit(&self, job: Job) {
        match self.sender() {
            Some(jobs) => {
                if let Err(mpsc::SendError(job)) = jobs.send(job) {
                    job();
                }
            }
            None => job(),
        }
    }
}

/// The scripting engine's shared state, one per server.
///
/// The engine itself (the Lua VM and what lives in it) is not here: it is owned by the thread
/// that runs scripts, in a thread-local (see [`Scripting::with_engine`]), so the VM needs no
/// lock around each of its calls. In the server that thread is always the script thread:
/// every command that reaches the engine is sent there ([`uses_engine`]). Other threads read
/// what the engine publishes here.
pub(crate) struct Scripting {
    pub(crate) busy: Arc<Busy>,
    pub(crate) thread: ScriptThread,
    /// Bytes the Lua VM holds, cached scripts and their bytes, as of the last engine call.
    lua_memory: AtomicUsize,
    scripts: AtomicUsize,
    script_bytes: AtomicUsize,
    /// The loaded function libraries as other threads see them (FUNCTION STATS and DUMP while
    /// a script runs, snapshots).
    libraries: Mutex<PublishedLibraries>,
}

/// What other threads may know of the loaded libraries.
#[derive(Default, Clone)]
pub(crate) struct PublishedLibraries {
    pub functions: usize,
    /// Every library's code, ordered by library name.
    pub codes: Vec<Vec<u8>>,
}

/// A cached EVAL script.
struct Script {
    /// The compiled chunk, kept in the Lua registry: a `Function` handle would hold one of the
    /// VM's ~8000 reference slots for as long as the script is cached, and the 8000th
    /// SCRIPT LOAD would then fail inside mlua (taking the script thread's job down).
    func: mlua::RegistryKey,
    flags: ScriptFlags,
    /// Started with `#!`: flags govern it, not the compatibility defaults.
    shebang: bool,
}

pub(crate) struct Engine {
    vm: lua::Vm,
    /// By SHA1, looked up by every EVALSHA (a seeded fast hash: SipHash was a sixtieth of a
    /// short script's run).
    scripts: HashMap<String, Script, foldhash::quality::RandomState>,
    /// Bytes of the cached scripts' bodies, as INFO `used_memory_scripts` counts them.
    script_bytes: usize,
    libraries: functions::Libraries,
    runs: std::cell::Cell<u64>,
    /// The buffers of `redis.call`, from one run to the next.
    call_scratch: std::cell::Cell<call::CallScratch>,
}

/// The engine of each server whose scripts this thread runs, keyed by that server's [`Busy`]
/// (one server per thread outside tests; a dropped server's engine is dropped when found).
type Engines = Vec<(std::sync::Weak<Busy>, Option<Engine>)>;

thread_local! {
    static ENGINES: std::cell::RefCell<Engines> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    pub(crate) fn new() -> Scripting {
        Scripting {
            busy: Arc::new(Busy::default()),
            thread: ScriptThread::default(),
            lua_memory: AtomicUsize::new(0),
            scripts: AtomicUsize::new(0),
            script_bytes: AtomicUsize::new(0),
            libraries: Mutex::new(PublishedLibraries::default()),
        }
    }

    /// Runs `f` with this server's engine on the calling thread, making it on first use, then
    /// publishes the engine's figures. Commands reach it only on the script thread; a second
    /// call from inside `f` (which nothing does: scripts may not call SCRIPT or FUNCTION) is
    /// refused rather than deadlocked.
    pub(crate) fn with_engine<R>(
        &self,
        f: impl FnOnce(&mut Engine) -> Result<R, CommandError>,
    ) -> Result<R, CommandError> {
        ENGINES.with(|engines| {
            let mut engines = engines
                .try_borrow_mut()
                .map_err(|_| CommandError::err("The Lua engine is in use"))?;
            engines.retain(|(owner, _)| owner.strong_count() > 0);
            let me = Arc::as_ptr(&self.busy);
            let at = match engines.iter().position(|(owner, _)| owner.as_ptr() == me) {
                Some(at) => at,
                None => {
                    engines.push((Arc::downgrade(&self.busy), Engine::new(self.busy.clone())));
                    engines.len() - 1
                }
            };
            let engine = engines[at].1.as_mut().ok_or_else(no_engine)?;
            let result = f(engine);
            self.lua_memory.store(engine.vm.lua.used_memory(), Relaxed);
            self.scripts.store(engine.scripts.len(), Relaxed);
            self.script_bytes.store(engine.script_bytes, Relaxed);
            result
        })
    }

    /// Makes `libraries` what other threads see.
    fn publish_libraries(&self, libraries: &functions::Libraries) {
        *self
            .libraries
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = PublishedLibraries {
            functions: libraries.function_count(),
            codes: libraries.codes(),
        };
    }

    /// The loaded libraries, readable from any thread.
    pub(crate) fn published_libraries(&self) -> PublishedLibraries {
        self.libraries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Bytes the Lua VM uses (INFO `used_memory_lua`).
    pub(crate) fn used_memory_lua(&self) -> usize {
        self.lua_memory.load(Relaxed)
    }

    /// Cached scripts and the bytes of their bodies (INFO `number_of_cached_scripts`,
    /// `used_memory_scripts`).
    pub(crate) fn cached_scripts(&self) -> (usize, usize) {
        (self.scripts.load(Relaxed), self.script_bytes.load(Relaxed))
    }

    /// (libraries, functions, bytes of library code) for INFO.
    pub(crate) fn function_counts(&self) -> (usize, usize, usize) {
        let libraries = self
            .libraries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (
            libraries.codes.len(),
            libraries.functions,
            libraries.codes.iter().map(Vec::len).sum(),
        )
    }

    /// How long other clients wait before they are answered BUSY (`busy-reply-threshold`).
    pub(crate) fn threshold(config: &common::config::Config) -> Duration {
        Duration::from_millis(
            config
                .get_int("busy-reply-threshold")
                .unwrap_or(5000)
                .max(0) as u64,
        )
    }
}

impl Engine {
    fn new(busy: Arc<Busy>) -> Option<Engine> {
        let vm = lua::Vm::new(busy).ok()?;
        Some(Engine {
            vm,
            scripts: HashMap::default(),
            script_bytes: 0,
            libraries: functions::Libraries::default(),
            runs: std::cell::Cell::new(0),
            call_scratch: Default::default(),
        })
    }

    /// Counts a run; every 50 runs steps Lua's garbage collector, as Redis does.
    fn count_run(&self) {
        let runs = self.runs.get() + 1;
        self.runs.set(runs);
        if runs % 50 == 0 {
            self.vm.gc_step();
        }
    }
}

/// The error when the Lua VM could not be created.
fn no_engine() -> CommandError {
    CommandError::err("Lua engine is not available")
}

#[cfg(test)]
mod hand_back_tests {
    use super::*;
    use crate::commands::testkit::TestClient;

    #[test]
    fn results_are_held_until_handed_back_and_a_long_script_hands_them_back() {
        let mut c = TestClient::new();
        // This thread plays the script thread (TestClient runs scripts on the caller's).
        HELD_RESULTS.with(|held| *held.borrow_mut() = Some(Vec::new()));
        let delivered = Arc::new(AtomicUsize::new(0));
        let deliver = |delivered: &Arc<AtomicUsize>| -> Job {
            let delivered = delivered.clone();
            Box::new(move || {
                delivered.fetch_add(1, SeqCst);
            })
        };
        hand_back(None, deliver(&delivered));
        assert_eq!(c.text(&["EVAL", "return 1", "0"]), ":1\r\n");
        assert_eq!(delivered.load(SeqCst), 0, "held while jobs run");
        // The hook (every 100k instructions) hands back what a long script would hold up.
        assert_eq!(
            c.text(&["EVAL", "for i = 1, 300000 do end return 2", "0"]),
            ":2\r\n"
        );
        assert_eq!(delivered.load(SeqCst), 1);
        hand_back(None, deliver(&delivered));
        hand_back_held();
        assert_eq!(delivered.load(SeqCst), 2);
        HELD_RESULTS.with(|held| *held.borrow_mut() = None);
        // Off the script thread a result is handed back at once.
        hand_back(None, deliver(&delivered));
        assert_eq!(delivered.load(SeqCst), 3);
    }
}

#[cfg(test)]
mod placement_tests {
    use super::*;

    fn spec(line: &[&str]) -> &'static CommandSpec {
        let second = line.get(1).map(|s| s.as_bytes());
        command_table::lookup_line(line[0].as_bytes(), second).expect("a command")
    }

    #[test]
    fn commands_that_reach_the_engine_are_told_apart() {
        for line in [
            &["EVALSHA"][..],
            &["fcall_ro"],
            &["SCRIPT", "LOAD"],
            &["FUNCTION", "RESTORE"],
            &["DEBUG", "RELOAD"],
        ] {
            assert!(uses_engine(spec(line), None), "{line:?}");
        }
        for line in [
            &["GET"][..],
            &["SCRIPT", "KILL"],
            &["FUNCTION", "STATS"],
            &["FUNCTION", "KILL"],
            &["EXEC"],
        ] {
            assert!(!uses_engine(spec(line), None), "{line:?}");
        }
        assert!(runs_script(spec(&["EVAL"]), None));
        assert!(!runs_script(spec(&["SCRIPT", "LOAD"]), None));
        let queue = [
            OwnedCommand::from_args([b"SET".as_slice(), b"k", b"v"]),
            OwnedCommand::from_args([b"script".as_slice(), b"load", b"return 1"]),
        ];
        assert!(uses_engine(spec(&["EXEC"]), Some(&queue)));
        assert!(!runs_script(spec(&["EXEC"]), Some(&queue)));
    }
}
