//! From a parsed command to its reply: lookup, the generic gates every command passes (unknown
//! command, arity, authentication, protected commands, CLIENT PAUSE), locking, the call, and
//! the bookkeeping only the call does (stats, errors, slowlog, MONITOR).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use common::command_table::{self, CommandSpec, Flag};
use common::keyspace::Gate;
use common::keyspace::Intent;
use common::resp::{ArgList, ReplyBuffer};

use crate::blocking::{Waiter, WaiterState};
use crate::commands::scripting::ScriptWrites;
use crate::commands::{Args, CommandContext, CommandEntry, CommandError, Locking};
use crate::connection::{Client, ReplyMode};
use crate::server::{PauseKind, Server, unix_ms, unix_us};
use std::sync::Arc;

/// The shared keyspace gate, kept from one command to the next of a synchronous batch so that
/// a pipeline pays for it once. Dropped at the end of the batch, never held across a wait.
#[derive(Default)]
pub(crate) struct HeldGate<'s> {
    gate: Option<Gate<'s>>,
    /// On a connection worker: commands that run a script are handed to the script thread,
    /// and no gate is waited for while a script holds it.
    on_worker: bool,
}

impl HeldGate<'_> {
    /// For a batch run on a connection worker thread.
    pub(crate) fn on_worker() -> Self {
        HeldGate {
            gate: None,
            on_worker: true,
        }
    }
}

/// How many pipelined commands, and at most how many of their keys, one look-ahead warms.
const LOOKAHEAD_COMMANDS: usize = 16;
const LOOKAHEAD_KEYS: usize = 32;

/// Warms the cache for the keys of the next pipelined commands at the front of `input`, so
/// that their lookups' cache misses overlap instead of stalling one command after another
/// (on a large keyspace those misses were a quarter of a `GET`). Returns how many bytes the
/// commands it looked at span; a hint only: it changes nothing, and skips the work when the
/// gate is not free or fewer than two commands are complete.
pub(crate) fn prefetch_ahead<'s>(
    server: &'s Server,
    held: &mut HeldGate<'s>,
    db: usize,
    parser: &mut common::resp::RequestParser,
    input: &[u8],
    limits: &common::resp::RequestLimits,
) -> usize {
    let mut keys: smallvec::SmallVec<[std::ops::Range<usize>; LOOKAHEAD_KEYS]> =
        smallvec::SmallVec::new();
    let mut used = 0;
    let mut commands = 0;
    parser.reset();
    while commands < LOOKAHEAD_COMMANDS && keys.len() < LOOKAHEAD_KEYS {
        let frame = &input[used..];
        let Ok(common::resp::Parsed::Command { consumed }) = parser.parse(frame, limits) else {
            break;
        };
        let args = parser.args(frame);
        let spec = args
            .get(0)
            .and_then(|name| command_table::lookup_line(name, args.get(1)));
        // A batch ends on the worker at a command for the engine: what follows runs on the
        // script thread, long after any warming done here (it was a sixth of the worker's
        // time under pipelined EVALSHA).
        if held.on_worker
            && spec.is_some_and(|spec| crate::commands::scripting::uses_engine(spec, None))
        {
            break;
        }
        // Only a command with one fixed key is warmed here: one with several warms them itself
        // as it locks them (`lock_keys_warm`), and warming them here too only doubled the work.
        if let Some(spec) = spec
            && arity_ok(spec, args.len())
            && let Some(key) =
                command_table::sole_key_position(spec, args.len()).and_then(|i| args.get(i))
        {
            // Inline commands' arguments live in the parser, not in `input`: skipped.
            let start = (key.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
            if start <= input.len() && key.len() <= input.len() - start {
                keys.push(start..start + key.len());
            }
        }
        used += consumed;
        commands += 1;
    }
    parser.reset();
    if commands < 2 || keys.is_empty() || !held.on_worker {
        return used;
    }
    if held.gate.is_none() {
        held.gate = server.keyspace.try_shared();
    }
    let Some(gate) = &held.gate else {
        return used;
    };
    let named: smallvec::SmallVec<[&[u8]; LOOKAHEAD_KEYS]> =
        keys.iter().map(|range| &input[range.clone()]).collect();
    drop(
        server
            .keyspace
            .lock_keys_warm(gate, db, &named, Intent::Read),
    );
    used
}

/// The gate a command runs under.
enum Acquired<'s> {
    /// None: an `allow-busy` command while a script runs.
    Free,
    /// The shared gate, kept in the batch's [`HeldGate`].
    Held,
    Exclusive(Gate<'s>),
}

/// What became of a command.
pub(crate) enum Dispatched {
    /// Executed (or rejected with an error reply).
    Done,
    /// Held back by CLIENT PAUSE until about this instant; run it again then.
    Paused(Instant),
    /// Blocked on keys: the reply comes through the waiter (or its timeout).
    Blocked(Arc<Waiter>),
    /// Runs a script: not run here; run it again on the script thread.
    Offload,
}

fn has_flag(spec: &CommandSpec, flag: Flag) -> bool {
    spec.flags.contains(&flag)
}

/// `'a' 'b' ` as Redis lists the first arguments of an unknown command (at most ~128 bytes).
fn args_preview(args: ArgList<'_>) -> String {
    let mut out = String::new();
    for arg in args.iter().skip(1) {
        if out.len() >= 128 {
            break;
        }
        let room = 128 - out.len();
        let text = String::from_utf8_lossy(&arg[..arg.len().min(room)]);
        out.push('\'');
        out.push_str(&text);
        out.push_str("' ");
    }
    out
}

/// Resolves the command (and subcommand) named by `args`, or the error Redis rejects it with.
fn resolve(server: &Server, args: ArgList<'_>) -> Result<&'static CommandSpec, CommandError> {
    let name = args.get(0).unwrap_or_default();
    let Some(spec) = server.registry.lookup(name) else {
        return Err(CommandError::err(format!(
            "unknown command '{}', with args beginning with: {}",
            String::from_utf8_lossy(&name[..name.len().min(128)]),
            args_preview(args)
        )));
    };
    if !command_table::has_subcommands(spec) {
        return Ok(spec);
    }
    let Some(sub_name) = args.get(1) else {
        // A container with a handler of its own (COMMAND) runs bare, as Redis runs it.
        if server.registry.entry(spec).is_some() {
            return Ok(spec);
        }
        return Err(CommandError::WrongArity(spec.name.to_owned()));
    };
    command_table::lookup_subcommand(spec, sub_name).ok_or_else(|| {
        CommandError::err(format!(
            "unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&sub_name[..sub_name.len().min(128)]),
            spec.name.to_ascii_uppercase()
        ))
    })
}

/// Resolves a command a script calls, with the arity check dispatch does for clients.
pub(crate) fn resolve_for_script(
    server: &Server,
    args: ArgList<'_>,
) -> Result<&'static CommandSpec, crate::commands::scripting::ScriptCallError> {
    resolve_entry_for_script(server, args).map(|entry| entry.spec)
}

/// [`resolve_for_script`], giving the command's registry entry.
pub(crate) fn resolve_entry_for_script<'s>(
    server: &'s Server,
    args: ArgList<'_>,
) -> Result<&'s CommandEntry, crate::commands::scripting::ScriptCallError> {
    use crate::commands::scripting::ScriptCallError;
    let spec = resolve(server, args).map_err(|_| ScriptCallError::Unknown)?;
    let Some(entry) = server.registry.entry(spec) else {
        return Err(ScriptCallError::Unknown);
    };
    if !arity_ok(spec, args.len()) {
        return Err(ScriptCallError::Arity(spec));
    }
    Ok(entry)
}

fn arity_ok(spec: &CommandSpec, argc: usize) -> bool {
    let arity = spec.arity;
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    }
}

/// Runs one command and appends its reply (unless CLIENT REPLY says otherwise).
pub(crate) fn execute<'s>(
    server: &'s Server,
    client: &mut Client,
    args: ArgList<'_>,
    reply: &mut ReplyBuffer,
    held: &mut HeldGate<'s>,
) -> Dispatched {
    let tracking = server.tracking.live();
    if tracking {
        // Redis keeps the tracking table in size before each command; what it invalidates
        // goes out ahead of the command's reply.
        let mut sink = crate::pubsub::SelfSink::of(client, reply);
        server.tracking.enforce_limit(server, Some(&mut sink));
    }
    let reply_start = reply.len();
    let outcome = run(server, client, args, reply, held);
    if let Dispatched::Paused(_) | Dispatched::Offload = outcome {
        // Not run yet: CLIENT REPLY SKIP still applies to it when it runs.
        return outcome;
    }
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => reply.truncate(reply_start),
        ReplyMode::Skip => client.reply_mode = ReplyMode::SkipThis,
        ReplyMode::SkipThis => {
            reply.truncate(reply_start);
            client.reply_mode = ReplyMode::On;
        }
    }
    if tracking || server.tracking.live() {
        after_command_tracking(server, client, args, reply);
    }
    outcome
}

/// Client-side caching after a command replied: the invalidations it caused for its own
/// client and for BCAST clients, then CLIENT CACHING's one-command lifetime (which a CLIENT
/// command or an open MULTI keeps going, as in Redis).
fn after_command_tracking(
    server: &Server,
    client: &mut Client,
    args: ArgList<'_>,
    reply: &mut ReplyBuffer,
) {
    server.tracking.after_command(server, client, reply);
    let flags = &client.info.tracking_flags;
    if flags.load(Relaxed) & crate::tracking::flags::CACHING != 0
        && client.multi.is_none()
        && !args
            .get(0)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"client"))
    {
        flags.fetch_and(!crate::tracking::flags::CACHING, Relaxed);
    }
}

fn reject(
    server: &Server,
    reply: &mut ReplyBuffer,
    entry: Option<&CommandEntry>,
    e: &CommandError,
) {
    if let Some(entry) = entry {
        entry.record_rejected();
    }
    server.stats.count_error(e.code());
    reply.error(e.to_string().as_bytes());
}

/// Refuses a command after its lookup, as Redis's `rejectCommand` does: the error, and a
/// pending MULTI flagged; an EXEC refused this way discards its transaction and says why.
fn reject_command(
    server: &Server,
    client: &mut Client,
    reply: &mut ReplyBuffer,
    entry: &CommandEntry,
    e: CommandError,
) {
    abort_transaction(client);
    let spec = entry.spec;
    if spec.container.is_none() && spec.name == "exec" && client.multi.take().is_some() {
        client.info.multi_queued.store(-1, Relaxed);
        client.unwatch_all(server);
        let e = CommandError::Prefixed(
            "EXECABORT",
            format!("Transaction discarded because of: {e}"),
        );
        reject(server, reply, Some(entry), &e);
        return;
    }
    reject(server, reply, Some(entry), &e);
}

/// Whether the command (for EXEC: any queued command) carries `flag`.
fn command_has(spec: &CommandSpec, client: &Client, flag: Flag) -> bool {
    if spec.container.is_none() && spec.name == "exec" {
        return client.multi.as_ref().is_some_and(|multi| {
            multi.queued.iter().any(|command| {
                command_table::lookup(command.args().get(0).unwrap_or_default())
                    .is_some_and(|queued| has_flag(queued, flag))
            })
        });
    }
    has_flag(spec, flag)
}

/// Whether a load in progress refuses the command: it lacks the `loading` flag, or it is an
/// EXEC with a queued command that lacks it (Redis's `is_denyloading_command`).
fn denied_while_loading(spec: &CommandSpec, client: &Client) -> bool {
    if !has_flag(spec, Flag::Loading) {
        return true;
    }
    spec.container.is_none()
        && spec.name == "exec"
        && client.multi.as_ref().is_some_and(|multi| {
            multi.queued.iter().any(|command| {
                command_table::lookup(command.args().get(0).unwrap_or_default())
                    .is_some_and(|queued| !has_flag(queued, Flag::Loading))
            })
        })
}

/// Whether CLIENT PAUSE WRITE holds the command back: it may write or replicate, as a script's
/// declared flags say for EVAL and FCALL, or as any command queued for an EXEC does (Redis's
/// `is_may_replicate_command`). `None` when only the engine knows and `on_worker` has none.
fn may_replicate(
    server: &Server,
    spec: &CommandSpec,
    client: &Client,
    args: &ArgList<'_>,
    on_worker: bool,
) -> Option<bool> {
    let one =
        |spec: &CommandSpec, args: &ArgList<'_>| match crate::commands::scripting::script_writes(
            server, spec, args, on_worker,
        ) {
            ScriptWrites::Declared(writes) => Some(writes),
            ScriptWrites::NeedsEngine => None,
            ScriptWrites::Undeclared => {
                Some(has_flag(spec, Flag::Write) || has_flag(spec, Flag::MayReplicate))
            }
        };
    if spec.container.is_some() || spec.name != "exec" {
        return one(spec, args);
    }
    let Some(multi) = &client.multi else {
        return Some(false);
    };
    let mut known = true;
    for command in &multi.queued {
        let args = command.args();
        let Some(spec) = command_table::lookup_line(args.get(0).unwrap_or_default(), args.get(1))
        else {
            continue;
        };
        match one(spec, &args) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => known = false,
        }
    }
    known.then_some(false)
}

fn run<'s>(
    server: &'s Server,
    client: &mut Client,
    args: ArgList<'_>,
    reply: &mut ReplyBuffer,
    held: &mut HeldGate<'s>,
) -> Dispatched {
    let spec = match resolve(server, args) {
        Ok(spec) => spec,
        Err(e) => {
            client.set_last_command(None);
            abort_transaction(client);
            reject(server, reply, None, &e);
            return Dispatched::Done;
        }
    };
    let Some(entry) = server.registry.entry(spec) else {
        client.set_last_command(None);
        abort_transaction(client);
        reject(
            server,
            reply,
            None,
            &CommandError::err(format!("unknown command '{}'", spec.name)),
        );
        return Dispatched::Done;
    };
    // As Redis, CLIENT LIST names a known command even when a gate then rejects it.
    client.set_last_command(Some(spec));
    if !arity_ok(spec, args.len()) {
        abort_transaction(client);
        reject(
            server,
            reply,
            Some(entry),
            &CommandError::WrongArity(entry.full_name.clone()),
        );
        return Dispatched::Done;
    }
    if has_flag(spec, Flag::Protected) {
        let local = client.info.is_unix
            || client.info.addr.starts_with("127.0.0.1:")
            || client.info.addr.starts_with("[::1]:");
        let allowed = server.config().allows("enable-debug-command", local);
        if !allowed {
            abort_transaction(client);
            reject(
                server,
                reply,
                Some(entry),
                &CommandError::err(format!(
                    "{} command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
                    spec.name.to_ascii_uppercase()
                )),
            );
            return Dispatched::Done;
        }
    }
    // Redis's order: existence, arity, protected commands, then authentication.
    if !client.authenticated && !has_flag(spec, Flag::NoAuth) {
        abort_transaction(client);
        reject(server, reply, Some(entry), &CommandError::NoAuth);
        return Dispatched::Done;
    }
    let context = if client.multi.is_some() {
        crate::acl::Context::Multi
    } else {
        crate::acl::Context::Toplevel
    };
    if let Err(denied) = crate::acl::check(server, client, spec, args, context) {
        reject_command(
            server,
            client,
            reply,
            entry,
            crate::acl::noperm_error(spec, denied),
        );
        return Dispatched::Done;
    }
    // In RESP2 a subscribed connection carries messages; only these commands fit in it.
    if client.protocol == common::resp::Protocol::Resp2
        && client.subscriptions.is_some()
        && client.info.is_subscriber()
        && !allowed_while_subscribed(spec)
    {
        abort_transaction(client);
        reject(
            server,
            reply,
            Some(entry),
            &CommandError::err(format!(
                "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                entry.full_name
            )),
        );
        return Dispatched::Done;
    }
    let maxmemory = server.hot.maxmemory.load(Relaxed);
    if maxmemory > 0
        && evict_before(server, client, reply, held) == crate::evict::Outcome::Fail
        && refused_on_oom(spec, client)
    {
        let e = CommandError::Prefixed(
            "OOM",
            "command not allowed when used memory > 'maxmemory'.".into(),
        );
        reject_command(server, client, reply, entry, e);
        return Dispatched::Done;
    }
    // Writes (and PING) stop while the last background save failed, as Redis's MISCONF.
    if crate::persistence::rdb::writes_denied(server)
        && (command_has(spec, client, Flag::Write)
            || (spec.container.is_none() && spec.name == "ping"))
    {
        let e = CommandError::Prefixed("MISCONF", crate::persistence::rdb::MISCONF.into());
        reject_command(server, client, reply, entry, e);
        return Dispatched::Done;
    }
    // With no replicas at all (replication is not built), `min-replicas-to-write` refuses
    // every write, exactly as Redis does when too few replicas are connected.
    if server.too_few_replicas() && command_has(spec, client, Flag::Write) {
        let e = CommandError::Prefixed("NOREPLICAS", "Not enough good replicas to write.".into());
        reject_command(server, client, reply, entry, e);
        return Dispatched::Done;
    }
    // A replica: its master's stream (and the AOF) is obeyed; others may not write, nor,
    // while the link is down and stale data is not served, run non-`stale` commands.
    if server.replica.is_replica() && !client.unrestricted {
        if command_has(spec, client, Flag::Write)
            && crate::replication::replica::refuses_writes(server)
        {
            let e = CommandError::Prefixed(
                "READONLY",
                "You can't write against a read only replica.".into(),
            );
            reject_command(server, client, reply, entry, e);
            return Dispatched::Done;
        }
        if crate::replication::replica::serves_no_stale_data(server) && denies_stale(spec, client) {
            let e = CommandError::Prefixed(
                "MASTERDOWN",
                "Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
            );
            reject_command(server, client, reply, entry, e);
            return Dispatched::Done;
        }
    }
    // While a dataset loads, only the commands flagged `loading` run (the loader's own
    // client excepted).
    if server.rdb.loading.load(Relaxed)
        && !client.unrestricted
        && denied_while_loading(spec, client)
    {
        let e = CommandError::Prefixed("LOADING", "Redis is loading the dataset in memory".into());
        reject_command(server, client, reply, entry, e);
        return Dispatched::Done;
    }
    // One atomic load when no script runs; see `script_busy`.
    let mut gate_free = false;
    if server.scripting.busy.is_active() {
        match script_busy(server, spec) {
            Busy::Run => {}
            Busy::RunWithoutGate => gate_free = true,
            Busy::Wait(until) => {
                held.gate = None;
                // A command for the engine queues on the script thread behind the running
                // script instead: waking every such waiter at each script's end cost more
                // than the queue. While it waits there, the worker answers it BUSY once the
                // running script passes the threshold (connection/io.rs).
                let queued = client.multi.as_ref().map(|m| &m.queued[..]);
                if held.on_worker && crate::commands::scripting::uses_engine(spec, queued) {
                    return Dispatched::Offload;
                }
                return Dispatched::Paused(until);
            }
            Busy::Reject(e) => {
                reject_command(server, client, reply, entry, e);
                return Dispatched::Done;
            }
        }
    }
    if let Some((kind, until)) = server.clients_paused() {
        let held_back = match kind {
            PauseKind::All => Some(true),
            PauseKind::Write => may_replicate(server, spec, client, &args, held.on_worker),
        };
        match held_back {
            Some(true) => return Dispatched::Paused(until),
            Some(false) => {}
            // The script's flags are known on the script thread: decide there.
            None => {
                held.gate = None;
                return Dispatched::Offload;
            }
        }
    }
    if client.multi.is_some() && !runs_outside_the_queue(spec) {
        if has_flag(spec, Flag::NoMulti) {
            abort_transaction(client);
            reject(
                server,
                reply,
                Some(entry),
                &CommandError::err("Command not allowed inside a transaction"),
            );
            return Dispatched::Done;
        }
        if let Some(multi) = &mut client.multi {
            multi.queued.push(args.to_owned_command());
            client
                .info
                .multi_queued
                .store(multi.queued.len() as i64, Relaxed);
        }
        reply.simple(b"QUEUED");
        return Dispatched::Done;
    }
    let queued = client.multi.as_ref().map(|m| &m.queued[..]);
    let script = !gate_free && crate::commands::scripting::runs_script(spec, queued);
    if held.on_worker && crate::commands::scripting::uses_engine(spec, queued) {
        held.gate = None;
        return Dispatched::Offload;
    }
    // Claimed before the gate is taken: from here on other clients wait without blocking.
    let busy = &*server.scripting.busy;
    if script && !busy.claim() {
        held.gate = None;
        return busy_outcome(server, reply, entry);
    }
    let acquired = if gate_free {
        Some(Acquired::Free)
    } else {
        acquire(server, entry.locking, held)
    };
    let Some(acquired) = acquired else {
        return busy_outcome(server, reply, entry);
    };
    let waiter = call(server, client, args, reply, entry, held, acquired);
    if script {
        busy.release();
        server.pause.changed.notify_waiters();
    }
    match waiter {
        Some(waiter) => Dispatched::Blocked(waiter),
        None => Dispatched::Done,
    }
}

/// A command that met a running (or starting) script: it waits, or is answered BUSY.
fn busy_outcome(server: &Server, reply: &mut ReplyBuffer, entry: &CommandEntry) -> Dispatched {
    match script_busy(server, entry.spec) {
        Busy::Wait(until) => Dispatched::Paused(until),
        Busy::Reject(e) => {
            reject(server, reply, Some(entry), &e);
            Dispatched::Done
        }
        Busy::Run | Busy::RunWithoutGate => {
            Dispatched::Paused(Instant::now() + std::time::Duration::from_millis(1))
        }
    }
}

/// Takes the gate `locking` asks for. On a worker it never blocks while a script has claimed
/// the gate (`None`: the command must wait for the script asynchronously).
fn acquire<'s>(
    server: &'s Server,
    locking: Locking,
    held: &mut HeldGate<'s>,
) -> Option<Acquired<'s>> {
    let keyspace = &server.keyspace;
    let polite = |take: &dyn Fn() -> Option<Gate<'s>>| loop {
        if let Some(gate) = take() {
            return Some(gate);
        }
        if server.scripting.busy.is_active() {
            return None;
        }
        std::thread::yield_now();
    };
    match locking {
        Locking::Keys if held.gate.is_some() => Some(Acquired::Held),
        Locking::Keys => {
            let gate = if held.on_worker {
                polite(&|| keyspace.try_shared())?
            } else {
                keyspace.shared()
            };
            held.gate = Some(gate);
            Some(Acquired::Held)
        }
        Locking::Exclusive => {
            // Never wait for the exclusive gate while holding the shared one.
            held.gate = None;
            let gate = if held.on_worker {
                polite(&|| keyspace.try_exclusive())?
            } else {
                keyspace.exclusive()
            };
            Some(Acquired::Exclusive(gate))
        }
    }
}

/// Evicts keys before a command while memory is over `maxmemory`, as Redis's
/// `processCommand` does. Never while a script runs or clients are paused (Redis's
/// `isSafeToPerformEvictions`). Runs under the shared gate, before the command's own shard
/// locks: the gate this connection holds, or one taken for the purpose (never waited for on
/// a worker, where a waiting script must not be blocked: then memory is only checked).
fn evict_before<'s>(
    server: &'s Server,
    client: &Client,
    reply: &mut ReplyBuffer,
    held: &mut HeldGate<'s>,
) -> crate::evict::Outcome {
    if server.scripting.busy.is_active() || server.pause.current().is_some() {
        return crate::evict::Outcome::Ok;
    }
    let mut sink = crate::pubsub::SelfSink::of(client, reply);
    if let Some(gate) = &held.gate {
        return crate::evict::perform(server, gate, Some(&mut sink));
    }
    let gate = if held.on_worker {
        server.keyspace.try_shared()
    } else {
        Some(server.keyspace.shared())
    };
    match gate {
        Some(gate) => crate::evict::perform(server, &gate, Some(&mut sink)),
        None if crate::server::MemoryStats::allocated_now()
            > server.hot.maxmemory.load(Relaxed) =>
        {
            crate::evict::Outcome::Fail
        }
        None => crate::evict::Outcome::Ok,
    }
}

/// Whether a command is refused while memory is over `maxmemory` and nothing can be evicted: commands flagged `denyoom`, an EXEC whose queue holds one, and
/// anything queued inside MULTI (queueing itself takes memory), as Redis decides it.
/// A command without the `stale` flag (for EXEC: any queued one).
fn denies_stale(spec: &CommandSpec, client: &Client) -> bool {
    if spec.container.is_none() && spec.name == "exec" {
        return client.multi.as_ref().is_some_and(|multi| {
            multi.queued.iter().any(|command| {
                command_table::lookup(command.args().get(0).unwrap_or_default())
                    .is_some_and(|queued| !has_flag(queued, Flag::Stale))
            })
        });
    }
    !has_flag(spec, Flag::Stale)
}

fn refused_on_oom(spec: &CommandSpec, client: &Client) -> bool {
    let top_level = |name: &str| spec.container.is_none() && spec.name == name;
    if client.multi.is_some()
        && !["exec", "discard", "quit", "reset"]
            .into_iter()
            .any(top_level)
    {
        return true;
    }
    command_has(spec, client, Flag::Denyoom)
}

fn allowed_while_subscribed(spec: &CommandSpec) -> bool {
    spec.container.is_none()
        && matches!(
            spec.name,
            "ping"
                | "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "quit"
                | "reset"
        )
}

/// What a command does while a script runs.
enum Busy {
    Run,
    /// An `allow-busy` command (SCRIPT KILL, FUNCTION STATS...): runs at once, without the
    /// keyspace gate the script holds.
    RunWithoutGate,
    /// Wait (asynchronously, like CLIENT PAUSE) until about then, or until the script ends.
    Wait(Instant),
    Reject(CommandError),
}

/// While a script runs, other clients never block a thread on the gate it holds: they wait
/// asynchronously, and once it has run past `busy-reply-threshold` they are answered BUSY.
fn script_busy(server: &Server, spec: &CommandSpec) -> Busy {
    let busy = &server.scripting.busy;
    let Some(running) = busy.running() else {
        if !busy.is_active() {
            return Busy::Run;
        }
        if has_flag(spec, Flag::AllowBusy) {
            return Busy::RunWithoutGate;
        }
        // Claimed by a script about to start (or between the scripts of an EXEC).
        return Busy::Wait(Instant::now() + std::time::Duration::from_millis(5));
    };
    if has_flag(spec, Flag::AllowBusy) {
        return Busy::RunWithoutGate;
    }
    let threshold = crate::commands::scripting::Scripting::threshold(&server.config());
    let busy_at = running.started + threshold;
    let now = Instant::now();
    if now < busy_at {
        // Re-checked often enough to notice the end even if a wake-up were missed.
        return Busy::Wait(busy_at.min(now + std::time::Duration::from_millis(100)));
    }
    let kill = if running.function.is_some() {
        "FUNCTION KILL"
    } else {
        "SCRIPT KILL"
    };
    Busy::Reject(CommandError::Prefixed(
        "BUSY",
        format!("Redis is busy running a script. You can only call {kill} or SHUTDOWN NOSAVE."),
    ))
}

/// Inside MULTI, these run at once instead of being queued.
fn runs_outside_the_queue(spec: &CommandSpec) -> bool {
    spec.container.is_none()
        && matches!(
            spec.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        )
}

/// A command refused while queueing makes EXEC answer EXECABORT.
fn abort_transaction(client: &mut Client) {
    if let Some(multi) = &mut client.multi {
        multi.aborted = true;
    }
}

/// How a command run inside another command's locks ended.
pub(crate) enum Ran {
    Done,
    /// A blocking command that found nothing (only when re-run to serve a waiter).
    StillBlocked,
}

/// Runs one command with a view the caller holds under the exclusive gate (EXEC's queue, a
/// served waiter): the handler, its stats and its error reply, without taking any lock.
pub(crate) fn run_with_view<'v>(
    server: &'v Server,
    client: &'v mut Client,
    args: ArgList<'v>,
    reply: &'v mut ReplyBuffer,
    view: common::keyspace::Locked<'v>,
) -> Ran {
    let entry = match resolve(server, args) {
        Ok(spec) => server.registry.entry(spec),
        Err(e) => {
            reject(server, reply, None, &e);
            return Ran::Done;
        }
    };
    let Some(entry) = entry else {
        return Ran::Done;
    };
    run_entry_with_view(server, client, args, reply, entry, view)
}

/// [`run_with_view`] for a command already resolved to its `entry` (a script's call).
pub(crate) fn run_entry_with_view<'v>(
    server: &'v Server,
    client: &'v mut Client,
    args: ArgList<'v>,
    reply: &'v mut ReplyBuffer,
    entry: &'v CommandEntry,
    view: common::keyspace::Locked<'v>,
) -> Ran {
    // EXEC's commands and a script's calls go on from the clock of the command that runs
    // them (one clock read each, as for any command); a served waiter's clock is from its
    // last batch, so it reads the time afresh.
    let chained = client.in_exec && !client.serving_blocked;
    let (started, now_ms) = if chained {
        let started = client.clock.next_start;
        (started, client.clock.unix_ms_at(started))
    } else {
        (Instant::now(), unix_ms())
    };
    let result = run_handler(server, client, args, reply, entry, view, now_ms);
    track_read(server, client, entry.spec, args);
    if client.pending_block.take().is_some() {
        return Ran::StillBlocked;
    }
    let finished = Instant::now();
    if chained {
        client.clock.next_start = finished;
    }
    let duration = finished.duration_since(started);
    account(server, entry, duration, result, reply);
    // A served waiter is filed as its original command when it is finally served (Redis's
    // updateStatsOnUnblock); EXEC's commands and a script's calls are not filed apart.
    if client.serving_blocked {
        let duration_us = duration.as_micros() as u64;
        slowlog_if_slow(server, client, entry.spec, args, duration_us, now_ms);
    }
    // EXEC's commands and a script's calls are shown as they run; a served waiter was shown
    // when it first ran.
    if !client.serving_blocked {
        feed_monitors_unless_hidden(server, client, entry.spec, args);
    }
    Ran::Done
}

/// Files the command in the SLOWLOG when it took at least `slowlog-log-slower-than`.
fn slowlog_if_slow(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
    duration_us: u64,
    now_ms: i64,
) {
    let threshold = server.hot.slowlog_log_slower_than.load(Relaxed);
    if threshold < 0 || duration_us < threshold as u64 || has_flag(spec, Flag::SkipSlowlog) {
        return;
    }
    let name = client
        .info
        .name()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .unwrap_or_default();
    server.slowlog.push(
        logged_args(spec, args).into_iter(),
        duration_us,
        now_ms / 1000,
        client.info.addr.clone(),
        name,
        server.hot.slowlog_max_len.load(Relaxed) as usize,
    );
}

/// What every executed command leaves behind: commandstats, latencystats, the total, and for
/// a failure its error reply and errorstats.
fn account(
    server: &Server,
    entry: &CommandEntry,
    duration: std::time::Duration,
    result: Result<(), CommandError>,
    reply: &mut ReplyBuffer,
) {
    if server.hot.latency_tracking.load(Relaxed) {
        entry.latency.record(duration.as_nanos() as u64);
    }
    entry.record_call(duration);
    server.stats.count_command();
    if let Err(e) = result {
        entry.record_failed();
        server.stats.count_error(e.code());
        reply.error(e.to_string().as_bytes());
    }
}

/// Locks what the command needs, runs its handler, and does the bookkeeping.
fn call<'s>(
    server: &'s Server,
    client: &mut Client,
    args: ArgList<'_>,
    reply: &mut ReplyBuffer,
    entry: &CommandEntry,
    held: &mut HeldGate<'s>,
    acquired: Acquired<'s>,
) -> Option<Arc<Waiter>> {
    let spec = entry.spec;
    let started = client.clock.next_start;
    let now_ms = client.clock.unix_ms_at(started);
    let keyspace = &server.keyspace;
    match acquired {
        Acquired::Free => held.gate = None,
        Acquired::Held if held.gate.is_none() => held.gate = Some(keyspace.shared()),
        _ => {}
    }
    let result = match (&acquired, &held.gate) {
        (Acquired::Exclusive(gate), _) => {
            let view = keyspace.lock_lazily(gate, client.db);
            run_handler(server, client, args, reply, entry, view, now_ms)
        }
        (Acquired::Free, _) | (Acquired::Held, None) => {
            let view = keyspace.view_without_gate(client.db);
            run_handler(server, client, args, reply, entry, view, now_ms)
        }
        (Acquired::Held, Some(gate)) => {
            let intent = if has_flag(spec, Flag::Write) {
                Intent::Write
            } else {
                Intent::Read
            };
            let sole_key =
                command_table::sole_key_position(spec, args.len()).and_then(|i| args.get(i));
            let view = match sole_key {
                Some(key) => keyspace.lock_key(gate, client.db, key, intent),
                None => lock_for(keyspace, gate, client.db, spec, args, intent),
            };
            run_handler(server, client, args, reply, entry, view, now_ms)
        }
    };
    drop(acquired);
    track_read(server, client, spec, args);
    let finished = Instant::now();
    client.clock.next_start = finished;
    let duration = finished.duration_since(started);
    let duration_us = duration.as_micros() as u64;
    // A command that blocks is counted once, when it is finally served (Redis's
    // updateStatsOnUnblock), not also for the call that blocked it.
    if client.pending_block.is_none() {
        account(server, entry, duration, result, reply);
        let event = if has_flag(spec, Flag::Fast) {
            "fast-command"
        } else {
            "command"
        };
        server.latency_sample(event, duration_us / 1000);
    }
    client.info.commands_processed.fetch_add(1, Relaxed);

    slowlog_if_slow(server, client, spec, args, duration_us, now_ms);

    feed_monitors_unless_hidden(server, client, spec, args);

    if server.blocking.has_delete_waiters() {
        // Redis signals a stream key as ready when it is deleted or overwritten, so that
        // XREADGROUP clients blocked on it get an error: find the keys that stopped holding
        // a stream.
        held.gate = None;
        let gone = streams_gone(server, now_ms);
        client.ready_keys.extend(gone);
    }
    if !client.ready_keys.is_empty() {
        let ready = std::mem::take(&mut client.ready_keys);
        if server.blocking.has_waiters() {
            // Serving re-runs other clients' commands on any key: alone, under the exclusive
            // gate, never waited for while holding the shared one.
            held.gate = None;
            serve_blocked(server, ready);
        }
    }
    let request = client.pending_block.take()?;
    {
        let waiter = Arc::new(Waiter {
            client: client.info.clone(),
            db: client.db,
            protocol: client.protocol,
            keys: request.keys,
            command: request.rewritten.unwrap_or_else(|| args.to_owned_command()),
            deadline: request.deadline,
            timeout_reply: request.timeout_reply,
            wake_on_delete: request.wake_on_delete,
            state: std::sync::Mutex::new(WaiterState::Waiting),
            done: tokio::sync::Notify::new(),
        });
        server.blocking.add(waiter.clone());
        // Another client may have written one of the keys (or deleted a stream) between this
        // handler's look and the filing of the waiter: look once more, under the exclusive
        // gate, so no wakeup is lost.
        held.gate = None;
        let keys = waiter.keys.iter().map(|k| (waiter.db, k.clone())).collect();
        serve_blocked(server, keys);
        Some(waiter)
    }
}

/// A view with the shards of every key the command's specs name locked (for a command whose
/// key is not simply one fixed argument).
fn lock_for<'s>(
    keyspace: &'s common::keyspace::Keyspace,
    gate: &Gate<'s>,
    db: usize,
    spec: &CommandSpec,
    args: ArgList<'_>,
    intent: Intent,
) -> common::keyspace::Locked<'s> {
    let arg = |i| args.get(i).unwrap_or_default();
    match command_table::key_positions_by(spec, args.len(), arg) {
        Ok(keys) => {
            let named = || keys.iter().filter_map(|i| args.get(i));
            if keys.len() > 1 {
                let named: smallvec::SmallVec<[&[u8]; 16]> = named().collect();
                keyspace.lock_keys_warm(gate, db, &named, intent)
            } else {
                keyspace.lock_keys_for(gate, db, named(), intent)
            }
        }
        // Arguments that defeat the key specs are the handler's to reject; it gets a view with
        // the keys the specs that could be read name (`PFMERGE dest`).
        Err(_) => {
            let keys = command_table::partial_key_positions_by(spec, args.len(), arg);
            keyspace.lock_keys(gate, db, keys.iter().filter_map(|i| args.get(i)))
        }
    }
}

/// After a read-only command: its keys are remembered for a tracking client.
fn track_read(server: &Server, client: &mut Client, spec: &CommandSpec, args: ArgList<'_>) {
    if server.tracking.live() && has_flag(spec, Flag::Readonly) {
        crate::tracking::after_read(server, client, spec, args);
    }
}

/// A blocked command that timed out (or was unblocked) counts as one call then, as Redis's
/// updateStatsOnUnblock counts it.
pub(crate) fn count_unblocked(
    server: &Server,
    command: &common::resp::OwnedCommand,
    error_code: Option<&str>,
) {
    if let Ok(spec) = resolve(server, command.args())
        && let Some(entry) = server.registry.entry(spec)
    {
        entry.record_call(std::time::Duration::ZERO);
        server.stats.count_command();
        if let Some(code) = error_code {
            entry.record_failed();
            server.stats.count_error(code);
        }
    }
}

/// Keys XREADGROUP clients wait on that no longer hold a stream.
fn streams_gone(server: &Server, now_ms: i64) -> Vec<(usize, Box<[u8]>)> {
    let keys = server.blocking.delete_waiter_keys();
    if keys.is_empty() {
        return keys;
    }
    let gate = server.keyspace.exclusive();
    keys.into_iter()
        .filter(|(db, key)| {
            let mut view = server.keyspace.lock_lazily(&gate, *db);
            !matches!(
                view.shard(key).peek(key, now_ms).map(|e| e.value()),
                Some(common::value::Value::Stream(_))
            )
        })
        .collect()
}

/// Re-runs the commands of clients blocked on `ready` keys, first blocked first served, until
/// no served command makes further keys ready.
fn serve_blocked(server: &Server, ready: Vec<(usize, Box<[u8]>)>) {
    let gate = server.keyspace.exclusive();
    let mut queue: std::collections::VecDeque<(usize, Box<[u8]>)> = ready.into();
    while let Some((db, key)) = queue.pop_front() {
        for waiter in server.blocking.waiters(db, &key) {
            let mut client = Client::new(waiter.client.clone(), true);
            client.db = waiter.db;
            client.protocol = waiter.protocol;
            client.serving_blocked = true;
            let mut reply = ReplyBuffer::new(waiter.protocol);
            let view = server.keyspace.lock_lazily(&gate, client.db);
            let ran = run_with_view(server, &mut client, waiter.command.args(), &mut reply, view);
            if let Ran::StillBlocked = ran {
                // Still nothing for it (another waiter took it): it keeps its place.
                continue;
            }
            // Invalidations the served command caused for its own client follow its reply.
            server.tracking.after_command(server, &client, &mut reply);
            server.blocking.serve(&waiter, reply.take());
            queue.extend(client.ready_keys.drain(..));
        }
    }
}

/// Runs a handler with its view already locked.
fn run_handler<'v>(
    server: &'v Server,
    client: &'v mut Client,
    args: ArgList<'v>,
    reply: &'v mut ReplyBuffer,
    entry: &'v CommandEntry,
    view: common::keyspace::Locked<'v>,
    now_ms: i64,
) -> Result<(), CommandError> {
    let first_arg = if entry.spec.container.is_some() { 2 } else { 1 };
    let mut ctx = CommandContext {
        server,
        client,
        reply,
        args: Args::new(args, first_arg),
        db: view,
        now_ms,
        command: entry,
        propagation: Default::default(),
    };
    crate::propagate::enter();
    let result = (entry.handler)(&mut ctx);
    ctx.flush_key_events();
    ctx.propagate_call();
    // Still under the command's locks: the unit reaches the stream in key order.
    crate::propagate::leave(server);
    result
}

/// Sends `+<time> [<db> <addr>] "arg" ...` to every MONITOR client.
/// Shows the command to MONITOR clients, unless its flags hide it (`skip-monitor`, and admin
/// commands, too dangerous to show).
fn feed_monitors_unless_hidden(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
) {
    if server.has_monitors.load(Relaxed)
        && !has_flag(spec, Flag::SkipMonitor)
        && !has_flag(spec, Flag::Admin)
    {
        feed_monitors(server, client, spec, args);
    }
}

/// Shows the command to MONITOR clients as `<time> [<db> <address>] "arg" ...`; a script's
/// calls show `lua` as their address. EVAL and FCALL (hidden by their flags) call this
/// themselves before they run, so that their script's commands follow them.
pub(crate) fn feed_monitors(
    server: &Server,
    client: &Client,
    client_spec: &CommandSpec,
    args: ArgList<'_>,
) {
    if !server.has_monitors.load(Relaxed) {
        return;
    }
    let us = unix_us();
    let mut line =
        format!("+{}.{:06} [{} ", us / 1_000_000, us % 1_000_000, client.db).into_bytes();
    if client.script_read.is_some() {
        line.extend_from_slice(b"lua");
    } else if client.info.is_unix {
        line.extend_from_slice(b"unix:");
        line.extend_from_slice(client.info.laddr.as_bytes());
    } else {
        line.extend_from_slice(client.info.addr.as_bytes());
    }
    line.push(b']');
    for arg in logged_args(client_spec, args) {
        line.push(b' ');
        line.extend_from_slice(&common::config::repr(arg));
    }
    line.extend_from_slice(b"\r\n");
    let monitors = server
        .monitors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for monitor in monitors.iter() {
        // A monitor whose task has ended is removed when it unregisters.
        let _ = monitor.push.send(line.clone());
    }
}

const REDACTED: &[u8] = b"(redacted)";

/// The arguments as the slow log and MONITOR show them: secrets replaced by `(redacted)`
/// where Redis's handlers redact them (AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2, CONFIG
/// SET of a sensitive directive, every argument of ACL SETUSER).
fn logged_args<'a>(spec: &CommandSpec, args: ArgList<'a>) -> Vec<&'a [u8]> {
    let mut out: Vec<&'a [u8]> = args.iter().collect();
    for i in redacted_positions(spec.container, spec.name, &out) {
        if let Some(arg) = out.get_mut(i) {
            *arg = REDACTED;
        }
    }
    out
}

/// Which arguments Redis 7.0 redacts, following each command's own parsing up to where it
/// would stop with an error.
fn redacted_positions(container: Option<&str>, name: &str, args: &[&[u8]]) -> Vec<usize> {
    let is = |i: usize, word: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    };
    let mut out = Vec::new();
    match (container, name) {
        (None, "auth") if args.len() <= 3 => out.extend(1..args.len()),
        (None, "hello") => {
            if let Some(ver) = args.get(1) {
                if !matches!(common::number::parse_i64(ver), Some(2 | 3)) {
                    return out;
                }
            }
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if is(j, "auth") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if is(j, "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        (None, "migrate") => {
            let mut j = 6;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if is(j, "copy") || is(j, "replace") {
                    j += 1;
                } else if is(j, "auth") && more >= 1 {
                    out.push(j + 1);
                    j += 2;
                } else if is(j, "auth2") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else {
                    break;
                }
            }
        }
        (Some("acl"), "setuser") => out.extend(2..args.len()),
        (Some("config"), "set") if args.len() % 2 == 0 => {
            for pair in (2..args.len()).step_by(2) {
                let sensitive = common::config::lookup(args[pair])
                    .is_some_and(|d| d.flags.contains(common::config::Flags::SENSITIVE));
                if sensitive {
                    out.push(pair + 1);
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(command: &[&str]) -> Vec<usize> {
        let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
        let lower = command[0].to_ascii_lowercase();
        match lower.as_str() {
            "config" | "acl" => redacted_positions(
                Some(if lower == "acl" { "acl" } else { "config" }),
                &command[1].to_ascii_lowercase(),
                &args,
            ),
            name => redacted_positions(None, name, &args),
        }
    }

    /// CLIENT PAUSE WRITE holds back what may write or replicate: scripts by their declared
    /// flags (EVAL, EVALSHA, FCALL) and EXEC by its queue, as Redis does.
    #[test]
    fn pause_write_holds_scripts_by_their_flags() {
        use crate::commands::testkit::TestClient;
        let mut c = TestClient::new();
        let ro = "#!lua flags=no-writes\nreturn 1";
        let sha = c.text(&["SCRIPT", "LOAD", ro]);
        let sha = sha.lines().nth(1).unwrap_or_default().to_owned();
        let lib = "#!lua name=l\nredis.register_function{function_name='f', callback=function() return 2 end, flags={'no-writes'}}\nredis.register_function('w', function() return 3 end)";
        assert_eq!(c.text(&["FUNCTION", "LOAD", lib]), "$1\r\nl\r\n");
        let mut writer = TestClient::connect(&c.server);
        assert_eq!(writer.text(&["MULTI"]), "+OK\r\n");
        assert_eq!(writer.text(&["SET", "k", "v"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        assert_eq!(c.text(&["EVAL", ro, "0"]), ":1\r\n");
        assert_eq!(c.text(&["EVALSHA", &sha, "0"]), ":1\r\n");
        assert_eq!(c.text(&["FCALL", "f", "0"]), ":2\r\n");
        assert_eq!(c.text(&["EVAL", "return 1", "0"]), "(paused)");
        assert_eq!(c.text(&["EVAL", "#!lua\nreturn 1", "0"]), "(paused)");
        assert_eq!(c.text(&["FCALL", "w", "0"]), "(paused)");
        assert_eq!(c.text(&["PUBLISH", "ch", "m"]), "(paused)");
        assert_eq!(c.text(&["MULTI"]), "+OK\r\n");
        assert_eq!(c.text(&["EVAL", ro, "0"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["GET", "k"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["EXEC"]), "*2\r\n:1\r\n$-1\r\n");
        assert_eq!(writer.text(&["EXEC"]), "(paused)");
        c.server.pause.unpause();
        assert_eq!(writer.text(&["EXEC"]), "*1\r\n+OK\r\n");
    }

    /// Nothing expires while clients are paused: keys whose time has come read as absent but
    /// stay (DBSIZE counts them, INFO `expired_keys` does not move) until the pause ends.
    #[test]
    fn keys_do_not_expire_during_a_pause() {
        use crate::commands::testkit::TestClient;
        let expired = |c: &mut TestClient| {
            let info = c.text(&["INFO", "stats"]);
            info.lines()
                .find_map(|l| l.strip_prefix("expired_keys:"))
                .unwrap_or_default()
                .to_owned()
        };
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SET", "k", "v", "PX", "1"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["EXISTS", "k"]), ":0\r\n");
        assert_eq!(c.text(&["DBSIZE"]), ":1\r\n");
        assert_eq!(expired(&mut c), "0");
        assert_eq!(c.text(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["DBSIZE"]), ":0\r\n");
        assert_eq!(expired(&mut c), "1");
    }

    #[test]
    fn secrets_are_redacted_as_redis_does() {
        assert_eq!(redacted(&["auth", "pw"]), [1]);
        assert_eq!(redacted(&["AUTH", "user", "pw"]), [1, 2]);
        assert_eq!(redacted(&["auth", "a", "b", "c"]), Vec::<usize>::new());
        assert_eq!(
            redacted(&["hello", "3", "auth", "default", "xx", "setname", "n"]),
            [3, 4]
        );
        assert_eq!(
            redacted(&["hello", "3", "setname", "n", "AUTH", "u", "p"]),
            [5, 6]
        );
        assert_eq!(
            redacted(&["hello", "4", "auth", "u", "p"]),
            Vec::<usize>::new()
        );
        assert_eq!(
            redacted(&["hello", "3", "foo", "auth", "u", "p"]),
            Vec::<usize>::new()
        );
        assert_eq!(
            redacted(&["migrate", "h", "1", "k", "0", "10", "COPY", "AUTH", "pw"]),
            [8]
        );
        assert_eq!(
            redacted(&["migrate", "h", "1", "k", "0", "10", "AUTH2", "u", "pw"]),
            [7, 8]
        );
        assert_eq!(
            redacted(&[
                "config",
                "set",
                "requirepass",
                "x",
                "hz",
                "5",
                "masterauth",
                "y"
            ]),
            [3, 7]
        );
        assert_eq!(redacted(&["get", "auth"]), Vec::<usize>::new());
        assert_eq!(redacted(&["acl", "setuser", "u", ">pw"]), [2, 3]);
    }
}
