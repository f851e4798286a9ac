//! `redis.call` and `redis.pcall`: a command run from a script, and its reply converted to Lua
//! values by Redis's rules.
//!
//! Both are plain Lua C functions over the VM's own stack rather than mlua callbacks: a short
//! script is mostly its one call, and mlua's argument handles (a registry-like slot per
//! string), its protected frames and its error values were a tenth of such a run.
//!
//! What makes that sound is the shape of [`call`]: Lua reports errors (its own, or the
//! `error` these functions raise) by `longjmp`, which must never skip a Rust frame that owns
//! something to drop. So the work that owns things (reading the arguments into the reused
//! command buffer, running the command) is done and finished first, inside `catch_unwind`,
//! touching the Lua stack only with calls that cannot raise; then the reply is pushed by
//! functions whose frames hold only integers, slices and raw pointers; the error, if any, is
//! raised last.

use std::ffi::c_int;

use common::resp::{OwnedCommand, ReplyBuffer};
use mlua::ffi;

use super::lua::{
    COUNTED, CallState, MAX_REPLY_DEPTH, ScriptCallError, error_code, take_current_run,
};
use crate::dispatch;

/// `redis.call`: raises the error reply of a failed command.
pub(super) unsafe extern "C-unwind" fn redis_call(lua: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function, with `lua` its state; see `call`.
    unsafe { call(lua, true) }
}

/// `redis.pcall`: returns the error reply of a failed command as an error table.
pub(super) unsafe extern "C-unwind" fn redis_pcall(lua: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function, with `lua` its state; see `call`.
    unsafe { call(lua, false) }
}

/// The command and the reply of a `redis.call`: kept by the engine from one run to the next,
/// so that a call allocates neither.
pub(crate) struct CallScratch {
    command: OwnedCommand,
    reply: ReplyBuffer,
}

impl Default for CallScratch {
    fn default() -> Self {
        CallScratch {
            command: OwnedCommand::default(),
            reply: ReplyBuffer::new(common::resp::Protocol::Resp2),
        }
    }
}

impl CallScratch {
    /// What is kept for the next run: buffers a large reply grew are let go.
    pub(crate) fn kept(self) -> Self {
        const KEPT: usize = 64 << 10;
        if self.reply.capacity() > KEPT || self.command.capacity() > KEPT {
            CallScratch::default()
        } else {
            self
        }
    }
}

/// The refusal when a `redis` library call has no arguments.
pub(super) const NO_ARGUMENTS: &str =
    "ERR Please specify at least one argument for this redis lib call";
/// The refusal when an argument is neither a string nor a number.
pub(super) const BAD_ARGUMENT: &str =
    "ERR Lua redis lib command arguments must be strings or integers";

/// A Lua number as Redis turns it into a command argument: `%.17g`.
pub(super) fn number_argument(n: f64, out: &mut Vec<u8>) {
    common::number::write_g17(n, out);
}

/// What a call came to. Its text is in the run's scratch reply buffer.
#[derive(Clone, Copy)]
enum Outcome {
    /// The command ran: the buffer holds its reply (an error reply starts with `-`).
    Ran,
    /// Refused before running: the buffer holds the message. `counted`: already in
    /// errorstats (the error table carries that mark, as Redis's does).
    Refused { counted: bool },
}

/// # Safety
/// `lua` is the state of a C function call made by Lua: its arguments are the stack, and it
/// has LUA_MINSTACK free slots. Every frame from here to the `longjmp` that a Lua error makes
/// is free of values that need dropping when a Lua call that may raise is made:
/// - `take_current_run` hands out the run's state as a raw pointer (no guard);
/// - `prepare` owns things, but calls only Lua functions that cannot raise (`lua_gettop`,
///   `lua_type`, `lua_tolstring` on strings, `lua_tonumber`), and its panics are caught here;
/// - `push_outcome` and `push_reply` hold integers, slices and raw pointers only;
/// - `lua_error` comes last, with nothing alive in this frame but integers and pointers.
///
/// The scratch reply is read through the run's pointer after `prepare` returned: the state
/// lives in `Vm::run`'s frame for the whole run, and while it is taken out of `CURRENT_RUN`
/// nothing else can reach it; it is put back before the error is raised. If pushing the reply
/// raises (only an allocation failure can), it stays taken until the run ends, and later
/// calls in that run report that they run outside one, as after any such failure.
unsafe fn call(lua: *mut ffi::lua_State, raise: bool) -> c_int {
    // SAFETY: the caller's contract, as detailed above.
    unsafe {
        let Some(run) = take_current_run() else {
            push_error_table(
                lua,
                b"ERR redis.call/pcall can only be called inside a script invocation",
                false,
            );
            ffi::lua_error(lua);
        };
        let state = &mut *run.as_ptr();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(lua, state)))
                .unwrap_or_else(|_| {
                    state.scratch.reply.clear();
                    state
                        .scratch
                        .reply
                        .extend_raw(b"ERR the command panicked while a script ran it");
                    Outcome::Refused { counted: false }
                });
        let is_error = push_outcome(lua, outcome, state.scratch.reply.as_bytes());
        run.put_back();
        if raise && is_error {
            ffi::lua_error(lua);
        }
        1
    }
}

/// Reads the call's arguments and runs the command unless the script's own checks refuse it.
///
/// # Safety
/// `lua` is the state of the running call (see [`call`]).
unsafe fn prepare(lua: *mut ffi::lua_State, state: &mut CallState<'_, '_>) -> Outcome {
    let mut command = std::mem::take(&mut state.scratch.command);
    // SAFETY: the caller's `lua`; `read_arguments` makes only calls that cannot raise.
    let read = unsafe { read_arguments(lua, &mut command) };
    // The arguments are copied: their stack slots are the reply's (a call with thousands of
    // arguments would leave no room to push it).
    // SAFETY: the caller's `lua`; lowering the top to the call's base cannot raise.
    unsafe { ffi::lua_settop(lua, 0) };
    let outcome = match read {
        Ok(()) => run(state, &command),
        Err(msg) => refuse(state, msg, false),
    };
    state.scratch.command = command;
    outcome
}

/// Fills `command` with the call's arguments (strings as they are, numbers as Redis turns
/// them into arguments), or returns why it cannot.
///
/// # Safety
/// `lua` is the state of a running C function call. Only `lua_gettop`, `lua_type`,
/// `lua_tonumber` and `lua_tolstring` (on a string: no conversion, no allocation) are called,
/// none of which raises.
unsafe fn read_arguments(
    lua: *mut ffi::lua_State,
    command: &mut OwnedCommand,
) -> Result<(), &'static str> {
    // SAFETY: the caller's contract; indices are within `1..=top`; a string's pointer and
    // length stay valid while it is on the stack, and it is copied before this returns.
    unsafe {
        let top = ffi::lua_gettop(lua);
        if top == 0 {
            return Err(NO_ARGUMENTS);
        }
        command.clear();
        for i in 1..=top {
            match ffi::lua_type(lua, i) {
                ffi::LUA_TSTRING => {
                    let mut len = 0;
                    let data = ffi::lua_tolstring(lua, i, &mut len);
                    command.push(std::slice::from_raw_parts(data.cast::<u8>(), len));
                }
                ffi::LUA_TNUMBER => {
                    let n = ffi::lua_tonumber(lua, i);
                    command.push_with(|out| number_argument(n, out));
                }
                _ => return Err(BAD_ARGUMENT),
            }
        }
        Ok(())
    }
}

/// Puts `msg` in the scratch reply as the call's refusal.
fn refuse(state: &mut CallState<'_, '_>, msg: &str, counted: bool) -> Outcome {
    let reply = &mut state.scratch.reply;
    reply.clear();
    reply.extend_raw(msg.as_bytes());
    Outcome::Refused { counted }
}

/// Runs `command` as the script's client unless the script's own checks refuse it.
fn run(state: &mut CallState<'_, '_>, command: &OwnedCommand) -> Outcome {
    // Refused by the script's own checks: counted as Redis's `scriptCall` counts it, on the
    // command when known.
    let rejected = |state: &mut CallState<'_, '_>,
                    msg: &str,
                    spec: Option<&'static common::command_table::CommandSpec>| {
        state.server.stats.count_error(error_code(msg));
        if let Some(entry) = spec.and_then(|spec| state.server.registry.entry(spec)) {
            entry.record_rejected();
        }
        refuse(state, msg, true)
    };
    let server = state.server;
    let argv = command.args();
    let entry = match dispatch::resolve_entry_for_script(server, argv) {
        Ok(entry) => entry,
        Err(ScriptCallError::Unknown) => {
            return rejected(state, "ERR Unknown Redis command called from script", None);
        }
        Err(ScriptCallError::Arity(_)) => {
            return rejected(
                state,
                "ERR Wrong number of args calling Redis command from script",
                None,
            );
        }
    };
    let spec = entry.spec;
    use common::command_table::Flag;
    use std::sync::atomic::Ordering::Relaxed;
    if spec.flags.contains(&Flag::Noscript) {
        return rejected(
            state,
            "ERR This Redis command is not allowed from script",
            Some(spec),
        );
    }
    let writes = spec.flags.contains(&Flag::Write);
    // As in Redis, a read-only script may not run a may-replicate command (PUBLISH) either:
    // that keeps such scripts runnable under CLIENT PAUSE WRITE.
    if state.read_only && (writes || spec.flags.contains(&Flag::MayReplicate)) {
        return rejected(
            state,
            "ERR Write commands are not allowed from read-only scripts.",
            Some(spec),
        );
    }
    // As Redis: past maxmemory (as it stood when the script started), a script without
    // `allow-oom` may not run a deny-oom command until it has written.
    if state.oom_at_start
        && !state.allow_oom
        && spec.flags.contains(&Flag::Denyoom)
        && !state.busy.wrote.load(Relaxed)
    {
        return rejected(
            state,
            "OOM command not allowed when used memory > 'maxmemory'.",
            Some(spec),
        );
    }
    // As Redis, these state checks stop only a script's first write: once it has written,
    // failing it halfway on a changed server state would leave half its effects.
    if writes && !state.busy.wrote.load(Relaxed) {
        if crate::persistence::rdb::writes_denied(server) {
            let misconf = format!("MISCONF {}", crate::persistence::rdb::MISCONF);
            return rejected(state, &misconf, Some(spec));
        }
        if server.too_few_replicas() {
            return rejected(
                state,
                "NOREPLICAS Not enough good replicas to write.",
                Some(spec),
            );
        }
    }
    if writes {
        state.busy.mark_wrote();
    }
    if let Err(denied) =
        crate::acl::check(server, &state.client, spec, argv, crate::acl::Context::Lua)
    {
        let msg = format!("ERR {}", crate::acl::script_error(denied));
        return refuse(state, &msg, false);
    }
    let Some(view) = state.view.sibling(state.client.db) else {
        return refuse(state, "ERR script run outside the exclusive gate", false);
    };
    let reply = &mut state.scratch.reply;
    reply.clear();
    reply.set_protocol(state.resp);
    state.client.protocol = state.resp;
    // Each call's time starts now, not where the run or the last call left the clock: the
    // Lua code in between is the script's time, not the command's (INFO commandstats).
    state.client.clock.next_start = std::time::Instant::now();
    dispatch::run_entry_with_view(server, &mut state.client, argv, reply, entry, view);
    Outcome::Ran
}

/// Pushes what the call returns: the converted reply, or the refusal's error table. True when
/// that is an error.
///
/// # Safety
/// `lua` is the state of a running C function call with LUA_MINSTACK free slots. This frame
/// and those it calls hold nothing that needs dropping (a raised allocation failure skips
/// them).
unsafe fn push_outcome(lua: *mut ffi::lua_State, outcome: Outcome, bytes: &[u8]) -> bool {
    // SAFETY: the caller's contract.
    unsafe {
        match outcome {
            Outcome::Refused { counted } => {
                push_error_table(lua, bytes, counted);
                true
            }
            Outcome::Ran => {
                let mut pos = 0;
                push_reply(lua, bytes, &mut pos, 0);
                bytes.first() == Some(&b'-')
            }
        }
    }
}

/// Pushes `{err = msg}`, marked as counted when it is.
///
/// # Safety
/// As [`push_outcome`]: a call's state with two free slots, nothing to drop in this frame.
unsafe fn push_error_table(lua: *mut ffi::lua_State, msg: &[u8], counted: bool) {
    // SAFETY: the caller's contract; the table is fresh, without a metatable.
    unsafe {
        ffi::lua_createtable(lua, 0, 2);
        set_field(lua, c"err", |lua| push_bytes(lua, msg));
        if counted {
            set_field(lua, COUNTED, |lua| ffi::lua_pushboolean(lua, 1));
        }
    }
}

/// Sets field `name` of the table on top of the stack to what `push` pushes.
///
/// # Safety
/// A table is on top of `lua`'s stack, with two free slots above it; `push` pushes one value.
unsafe fn set_field(
    lua: *mut ffi::lua_State,
    name: &std::ffi::CStr,
    push: impl FnOnce(*mut ffi::lua_State),
) {
    // SAFETY: the caller's contract; raw sets invoke no metamethod.
    unsafe {
        ffi::lua_pushstring(lua, name.as_ptr());
        push(lua);
        ffi::lua_rawset(lua, -3);
    }
}

/// # Safety
/// One free slot on `lua`'s stack.
unsafe fn push_bytes(lua: *mut ffi::lua_State, bytes: &[u8]) {
    // SAFETY: the caller's contract; Lua copies the bytes before this returns.
    unsafe {
        ffi::lua_pushlstring(lua, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Wraps the value on top of the stack as `{name = value}` (Redis's tables for status
/// replies, doubles, sets, maps...).
///
/// # Safety
/// A value on top of `lua`'s stack, with three free slots above it.
unsafe fn wrap_top(lua: *mut ffi::lua_State, name: &std::ffi::CStr) {
    // SAFETY: the caller's contract; the value is moved under the new table, set with a raw
    // set on a fresh table.
    unsafe {
        ffi::lua_createtable(lua, 0, 1);
        ffi::lua_insert(lua, -2);
        ffi::lua_pushstring(lua, name.as_ptr());
        ffi::lua_insert(lua, -2);
        ffi::lua_rawset(lua, -3);
    }
}

/// The end of the line starting at `pos` (the index of its `\r\n`).
fn line_end(bytes: &[u8], pos: usize) -> Option<usize> {
    bytes
        .get(pos..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| pos + i)
}

/// Pushes the RESP2 or RESP3 reply at `pos` of `bytes` as Redis converts a command's reply
/// for a script, and moves `pos` past it. Pushes exactly one value (nil for a truncated or
/// unknown frame).
///
/// # Safety
/// As [`push_outcome`]. Recursion is bounded by [`MAX_REPLY_DEPTH`], and each level checks
/// for stack room first.
unsafe fn push_reply(lua: *mut ffi::lua_State, bytes: &[u8], pos: &mut usize, depth: usize) {
    // SAFETY: the caller's contract. Every push below is preceded by enough free slots: three
    // checked here for this level (a table, a key, a value), at most two more for the wraps.
    unsafe {
        if depth > MAX_REPLY_DEPTH || ffi::lua_checkstack(lua, 5) == 0 {
            ffi::lua_pushnil(lua);
            return;
        }
        let (Some(&kind), Some(end)) = (bytes.get(*pos), line_end(bytes, *pos + 1)) else {
            ffi::lua_pushnil(lua);
            return;
        };
        let line = &bytes[*pos + 1..end];
        *pos = end + 2;
        let int = || common::number::parse_i64(line).unwrap_or(0);
        match kind {
            b'+' => {
                push_bytes(lua, line);
                wrap_top(lua, c"ok");
            }
            b'-' => push_error_table(lua, line, true),
            b':' => ffi::lua_pushnumber(lua, int() as f64),
            b'$' | b'=' => {
                let Ok(len) = usize::try_from(int()) else {
                    ffi::lua_pushboolean(lua, 0);
                    return;
                };
                let start = (*pos).min(bytes.len());
                let stop = start.saturating_add(len).min(bytes.len());
                *pos = stop.saturating_add(2).min(bytes.len());
                let body = &bytes[start..stop];
                if kind == b'$' {
                    push_bytes(lua, body);
                    return;
                }
                let (format, text) = if body.len() >= 4 {
                    (&body[..3], &body[4..])
                } else {
                    (&b"txt"[..], body)
                };
                ffi::lua_createtable(lua, 0, 2);
                set_field(lua, c"format", |lua| push_bytes(lua, format));
                set_field(lua, c"string", |lua| push_bytes(lua, text));
                wrap_top(lua, c"verbatim_string");
            }
            b'*' | b'>' | b'~' => {
                let Ok(n) = usize::try_from(int()) else {
                    ffi::lua_pushboolean(lua, 0);
                    return;
                };
                let set = kind == b'~';
                let (narr, nrec) = if set { (0, n) } else { (n, 0) };
                let hint = |n: usize| c_int::try_from(n.min(1 << 16)).unwrap_or(0);
                ffi::lua_createtable(lua, hint(narr), hint(nrec));
                for i in 0..n {
                    push_reply(lua, bytes, pos, depth + 1);
                    if set {
                        ffi::lua_pushboolean(lua, 1);
                        raw_set_unless_nil_key(lua);
                    } else {
                        ffi::lua_rawseti_(lua, -2, c_int::try_from(i + 1).unwrap_or(c_int::MAX));
                    }
                }
                if set {
                    wrap_top(lua, c"set");
                }
            }
            b'%' | b'|' => {
                let n = usize::try_from(int()).unwrap_or(0);
                ffi::lua_createtable(lua, 0, c_int::try_from(n.min(1 << 16)).unwrap_or(0));
                for _ in 0..n {
                    push_reply(lua, bytes, pos, depth + 1);
                    push_reply(lua, bytes, pos, depth + 1);
                    raw_set_unless_nil_key(lua);
                }
                if kind == b'|' {
                    // Attributes are dropped: the reply they describe follows.
                    ffi::lua_pop(lua, 1);
                    push_reply(lua, bytes, pos, depth);
                } else {
                    wrap_top(lua, c"map");
                }
            }
            b'_' => ffi::lua_pushnil(lua),
            b'#' => ffi::lua_pushboolean(lua, c_int::from(line == b"t")),
            b',' => {
                let d = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| match s {
                        "inf" => Some(f64::INFINITY),
                        "-inf" => Some(f64::NEG_INFINITY),
                        "nan" => Some(f64::NAN),
                        _ => s.parse().ok(),
                    })
                    .unwrap_or(0.0);
                ffi::lua_pushnumber(lua, d);
                wrap_top(lua, c"double");
            }
            b'(' => {
                push_bytes(lua, line);
                wrap_top(lua, c"big_number");
            }
            _ => ffi::lua_pushnil(lua),
        }
    }
}

/// Sets `table[key] = value` for the table, key and value on top of the stack (popping the
/// key and value), unless the key is nil or NaN, which a table cannot hold: those pairs are
/// dropped.
///
/// # Safety
/// A table, a key and a value on top of `lua`'s stack.
unsafe fn raw_set_unless_nil_key(lua: *mut ffi::lua_State) {
    // SAFETY: the caller's contract; the key is checked first, so the raw set cannot raise
    // for it (only an allocation failure can).
    unsafe {
        let key_is_nan =
            ffi::lua_type(lua, -2) == ffi::LUA_TNUMBER && ffi::lua_tonumber(lua, -2).is_nan();
        if ffi::lua_isnil(lua, -2) != 0 || key_is_nan {
            ffi::lua_pop(lua, 2);
        } else {
            ffi::lua_rawset(lua, -3);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn eval(c: &mut TestClient, script: &str, keys: &[&str]) -> String {
        let numkeys = keys.len().to_string();
        let mut args = vec!["EVAL", script, &numkeys];
        args.extend_from_slice(keys);
        c.text(&args)
    }

    #[test]
    fn replies_reach_the_script_as_redis_converts_them() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "f", "v"]);
        c.text(&["SADD", "s", "a"]);
        c.text(&["ZADD", "z", "1.5", "m"]);
        c.text(&["SET", "str", "text"]);
        // RESP2: status tables, numbers, false for nil, flat arrays.
        assert_eq!(
            eval(&mut c, "return redis.call('set', 'x', 'y').ok", &[]),
            "$2\r\nOK\r\n"
        );
        assert_eq!(
            eval(&mut c, "return type(redis.call('incr', 'n'))", &[]),
            "$6\r\nnumber\r\n"
        );
        assert_eq!(
            eval(&mut c, "return tostring(redis.call('get', 'nope'))", &[]),
            "$5\r\nfalse\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                "return redis.call('zrange', 'z', 0, -1, 'withscores')",
                &[]
            ),
            "*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n"
        );
        // RESP3: maps, sets, doubles and nulls in Redis's tables.
        let resp3 = |body: &str| format!("redis.setresp(3) {body}");
        assert_eq!(
            eval(
                &mut c,
                &resp3("return redis.call('hgetall', 'h').map.f"),
                &[]
            ),
            "$1\r\nv\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                &resp3("return tostring(redis.call('smembers', 's').set.a)"),
                &[]
            ),
            "$4\r\ntrue\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                &resp3("return tostring(redis.call('zscore', 'z', 'm').double)"),
                &[]
            ),
            "$3\r\n1.5\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                &resp3("return tostring(redis.call('get', 'nope'))"),
                &[]
            ),
            "$3\r\nnil\r\n"
        );
        // A command's error: a counted error table for pcall, raised by call.
        assert_eq!(
            eval(&mut c, "return redis.pcall('incr', 'str').err", &[]),
            "$43\r\nERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            eval(&mut c, "return redis.call('incr', 'str')", &[]),
            "-ERR value is not an integer or out of range script: e6c7e3b0f4fa8ec366e629aeb8b53c3943db848c, on @user_script:1.\r\n"
        );
        // Refused by the script's own checks, before running.
        assert_eq!(
            eval(&mut c, "return redis.pcall('nosuchcommand').err", &[]),
            "$44\r\nERR Unknown Redis command called from script\r\n"
        );
        assert_eq!(
            eval(&mut c, "return redis.pcall().err", &[]),
            "$64\r\nERR Please specify at least one argument for this redis lib call\r\n"
        );
        assert_eq!(
            eval(&mut c, "return redis.pcall('get', {}).err", &[]),
            "$63\r\nERR Lua redis lib command arguments must be strings or integers\r\n"
        );
    }

    #[test]
    fn arguments_are_strings_or_numbers_as_redis_formats_them() {
        let mut c = TestClient::new();
        assert_eq!(
            eval(
                &mut c,
                "redis.call('set', KEYS[1], 3.5) return redis.call('get', KEYS[1])",
                &["k"]
            ),
            "$3\r\n3.5\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                "redis.call('set', KEYS[1], 10) return redis.call('get', KEYS[1])",
                &["k"]
            ),
            "$2\r\n10\r\n"
        );
        // More arguments than Lua's C stack leaves room for once the reply is pushed.
        assert_eq!(
            eval(
                &mut c,
                "local a = {} for i = 1, 7999 do a[i] = 'x' end return redis.call('rpush', 'l', unpack(a))",
                &[]
            ),
            ":7999\r\n"
        );
    }
}
