//! EVAL, EVALSHA, their `_RO` forms, and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP.

use common::resp::Protocol;

use super::lua::{CallState, Invocation, Passing};
use super::{Engine, Script, ScriptFlags};
use crate::commands::args::is;
use crate::commands::{CommandContext, CommandError};
use crate::connection::Client;

/// Whether the command names the script by its body or by its SHA1.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Body,
    Sha,
}

/// Whether the command is one of the `_RO` forms.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    ReadWrite,
    ReadOnly,
}

pub(super) fn eval(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    run(ctx, By::Body, Access::ReadWrite)
}

pub(super) fn evalsha(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    run(ctx, By::Sha, Access::ReadWrite)
}

pub(super) fn eval_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    run(ctx, By::Body, Access::ReadOnly)
}

pub(super) fn evalsha_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    run(ctx, By::Sha, Access::ReadOnly)
}

/// The keys and the other arguments of a script call, in one list.
pub(super) struct KeysAndArgs<'a> {
    all: Vec<&'a [u8]>,
    numkeys: usize,
}

impl<'a> KeysAndArgs<'a> {
    pub(super) fn keys(&self) -> &[&'a [u8]] {
        &self.all[..self.numkeys]
    }

    pub(super) fn argv(&self) -> &[&'a [u8]] {
        &self.all[self.numkeys..]
    }
}

/// Splits `numkeys key... arg...` as EVAL and FCALL read it.
pub(super) fn keys_and_args<'a>(
    ctx: &mut CommandContext<'a>,
) -> Result<KeysAndArgs<'a>, CommandError> {
    let numkeys = ctx.args.next_i64()?;
    let all: Vec<&[u8]> = ctx.args.rest().collect();
    if numkeys > all.len() as i64 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CommandError::err("Number of keys can't be negative"));
    }
    Ok(KeysAndArgs {
        all,
        numkeys: numkeys as usize,
    })
}

/// What INFO `used_memory_scripts` adds per cached script beyond its body.
const SCRIPT_OVERHEAD: usize = 40;

fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// Reads a `#!lua [flags=a,b]` first line; `None` without a shebang.
pub(super) fn shebang_flags(body: &[u8]) -> Result<Option<ScriptFlags>, CommandError> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let line = &body[..line_end];
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or_default();
    if engine != b"#!lua" {
        return Err(CommandError::err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(line)
        )));
    }
    let mut flags = ScriptFlags::default();
    for part in parts {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(CommandError::err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            )));
        };
        for flag in list.split(|&b| b == b',').filter(|f| !f.is_empty()) {
            if !flags.set(flag) {
                return Err(CommandError::err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(flag)
                )));
            }
        }
    }
    Ok(Some(flags))
}

/// Compiles `body` into the cache (if new); returns its SHA1.
fn load(engine: &mut Engine, body: &[u8]) -> Result<String, CommandError> {
    let sha = sha1_hex(body);
    if engine.scripts.contains_key(&sha) {
        return Ok(sha);
    }
    let flags = shebang_flags(body)?;
    // The shebang line stays as a comment, so line numbers match Redis's.
    let source: std::borrow::Cow<'_, [u8]> = if flags.is_some() {
        let mut s = b"--".to_vec();
        s.extend_from_slice(&body[2..]);
        s.into()
    } else {
        body.into()
    };
    let func = engine.vm.compile("@user_script", &source).map_err(|msg| {
        CommandError::err(format!("Error compiling script (new function): {msg}"))
    })?;
    let func = engine
        .vm
        .lua
        .create_registry_value(func)
        .map_err(|e| CommandError::err(e.to_string()))?;
    engine.script_bytes += body.len() + SCRIPT_OVERHEAD;
    engine.scripts.insert(
        sha.clone(),
        Script {
            func,
            flags: flags.unwrap_or_default(),
            shebang: flags.is_some(),
        },
    );
    Ok(sha)
}

fn run(ctx: &mut CommandContext<'_>, by: By, access: Access) -> Result<(), CommandError> {
    // Shown before the commands the script runs (the command table hides it from dispatch's
    // own feed, which comes after).
    crate::dispatch::feed_monitors(ctx.server, ctx.client, ctx.command.spec, ctx.args.list());
    let script_arg = ctx.args.next_bytes()?;
    let split = keys_and_args(ctx)?;
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        let mut lowered = [0u8; 40];
        let sha = match by {
            By::Body => {
                let sha = load(engine, script_arg)?;
                lowered.copy_from_slice(sha.as_bytes());
                sha_key(&lowered)
            }
            By::Sha => sha_key(ascii_lowercase_sha(script_arg, &mut lowered)),
        };
        let engine = &*engine;
        let Some((sha, script)) = sha.and_then(|sha| engine.scripts.get_key_value(sha)) else {
            return Err(CommandError::Prefixed(
                "NOSCRIPT",
                "No matching script. Please use EVAL.".into(),
            ));
        };
        if script.shebang && !script.flags.no_writes && access == Access::ReadOnly {
            return Err(CommandError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        if script.shebang {
            refuse_before_running(ctx, script.flags)?;
        }
        let flags = if script.shebang {
            script.flags
        } else {
            ScriptFlags::default()
        };
        let read_only = access == Access::ReadOnly || script.flags.no_writes;
        engine.count_run();
        execute(
            ctx,
            engine,
            &script.func,
            Invocation {
                keys: split.keys(),
                args: split.argv(),
                passing: Passing::Globals,
            },
            RunMode {
                read_only,
                allow_oom: flags.allow_oom,
            },
            sha,
            None,
        )
    })
}

/// `arg` lowercased into `buf` when it has a SHA1's length (scripts are cached by lowercase
/// hex); an empty slice otherwise, which names no script.
fn ascii_lowercase_sha<'b>(arg: &[u8], buf: &'b mut [u8; 40]) -> &'b [u8] {
    if arg.len() != buf.len() {
        return &[];
    }
    for (to, from) in buf.iter_mut().zip(arg) {
        *to = from.to_ascii_lowercase();
    }
    &buf[..]
}

/// The cache key a 40-byte SHA1 text stands for; `None` for anything else.
fn sha_key(sha: &[u8]) -> Option<&str> {
    std::str::from_utf8(sha).ok().filter(|sha| sha.len() == 40)
}

/// What a run may do.
#[derive(Clone, Copy)]
pub(super) struct RunMode {
    /// EVAL_RO, FCALL_RO or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// The `allow-oom` flag.
    pub allow_oom: bool,
}

/// Used memory is past `maxmemory`.
fn over_maxmemory(ctx: &CommandContext<'_>) -> bool {
    let maxmemory = ctx
        .server
        .hot
        .maxmemory
        .load(std::sync::atomic::Ordering::Relaxed);
    maxmemory > 0 && crate::server::MemoryStats::allocated_now() > maxmemory
}

/// A script or function with flags and without `allow-oom` (or `no-writes`) is refused
/// whole past `maxmemory`, as Redis refuses a deny-oom command.
/// Likewise a script that may write is refused whole while the last background save failed
/// (`stop-writes-on-bgsave-error`) or `min-replicas-to-write` refuses writes.
pub(super) fn refuse_before_running(
    ctx: &CommandContext<'_>,
    flags: ScriptFlags,
) -> Result<(), CommandError> {
    if !flags.no_writes && crate::persistence::rdb::writes_denied(ctx.server) {
        return Err(CommandError::Prefixed(
            "MISCONF",
            "Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into(),
        ));
    }
    if !flags.allow_oom && !flags.no_writes && over_maxmemory(ctx) {
        return Err(CommandError::Prefixed(
            "OOM",
            "command not allowed when used memory > 'maxmemory'.".into(),
        ));
    }
    if !flags.no_writes && ctx.server.too_few_replicas() {
        return Err(CommandError::Prefixed(
            "NOREPLICAS",
            "Not enough good replicas to write.".into(),
        ));
    }
    Ok(())
}

/// Runs a compiled script or function for `ctx`'s client and writes its reply.
pub(super) fn execute(
    ctx: &mut CommandContext<'_>,
    engine: &Engine,
    callee: &mlua::RegistryKey,
    invocation: Invocation<'_>,
    mode: RunMode,
    funcname: &str,
    function: Option<common::resp::ArgList<'_>>,
) -> Result<(), CommandError> {
    let busy = &*ctx.server.scripting.busy;
    let client = Client::for_script(ctx.client);
    let mut state = CallState {
        server: ctx.server,
        view: &ctx.db,
        client,
        read_only: mode.read_only,
        oom_at_start: over_maxmemory(ctx),
        allow_oom: mode.allow_oom,
        resp: Protocol::Resp2,
        busy,
        name: funcname.strip_prefix("f_").unwrap_or(funcname),
        scratch: engine.call_scratch.take(),
    };
    let own = busy.begin(function, ctx.client.clock.next_start);
    let result = engine.vm.run(&mut state, callee, invocation, ctx.reply);
    busy.end(own);
    engine.call_scratch.set(state.scratch.kept());
    if own {
        ctx.server.pause.changed.notify_waiters();
    }
    let ready = std::mem::take(&mut state.client.ready_keys);
    ctx.client.ready_keys.extend(ready);
    let read = state.client.script_read == Some(true);
    crate::tracking::after_script(
        ctx.server,
        ctx.client,
        ctx.command.spec,
        ctx.args.list(),
        read,
    );
    // Errorstats as Redis keeps them: an error a command already counted is not counted
    // again when the script passes it on, but the script's call still failed.
    match result {
        Ok(errors) => {
            for e in &errors {
                if !e.counted {
                    ctx.server.stats.count_error(&e.code);
                }
            }
            if !errors.is_empty() {
                ctx.command.record_failed();
            }
            Ok(())
        }
        Err(e) if e.counted => {
            let text = e.into_command_error(funcname).to_string();
            ctx.reply.error(text.as_bytes());
            ctx.command.record_failed();
            Ok(())
        }
        Err(e) => Err(e.into_command_error(funcname)),
    }
}

pub(super) fn script_load(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let body = ctx.args.next_bytes()?;
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        let sha = load(engine, body)?;
        ctx.reply.bulk(sha.as_bytes());
        Ok(())
    })
}

pub(super) fn script_exists(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let shas: Vec<&[u8]> = ctx.args.rest().collect();
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        ctx.reply.array(shas.len());
        for sha in shas {
            let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
            ctx.reply
                .integer(i64::from(engine.scripts.contains_key(&sha)));
        }
        Ok(())
    })
}

pub(super) fn script_flush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    match ctx.args.next_opt() {
        None => {}
        Some(mode) if is(mode, "sync") || is(mode, "async") => {}
        Some(_) => {
            return Err(CommandError::err(
                "SCRIPT FLUSH only support SYNC|ASYNC option",
            ));
        }
    }
    if !ctx.args.is_empty() {
        return Err(CommandError::err(
            "SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    ctx.server.scripting.with_engine(|engine| {
        engine.scripts.clear();
        engine.script_bytes = 0;
        engine.vm.release_dropped();
        Ok(())
    })?;
    ctx.reply.ok();
    Ok(())
}

/// SCRIPT KILL and FUNCTION KILL: `eval` says which of the two asks.
pub(super) fn kill(ctx: &mut CommandContext<'_>, eval: bool) -> Result<(), CommandError> {
    let busy = &ctx.server.scripting.busy;
    let Some(running) = busy.running() else {
        return Err(CommandError::Prefixed(
            "NOTBUSY",
            "No scripts in execution right now.".into(),
        ));
    };
    if busy.wrote.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(CommandError::Prefixed(
            "UNKILLABLE",
            "Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into(),
        ));
    }
    let is_eval = running.function.is_none();
    if eval && !is_eval {
        return Err(CommandError::Prefixed(
            "BUSY",
            "Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
                .into(),
        ));
    }
    if !eval && is_eval {
        return Err(CommandError::Prefixed(
            "BUSY",
            "Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
                .into(),
        ));
    }
    busy.kill.store(true, std::sync::atomic::Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

pub(super) fn script_kill(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    kill(ctx, true)
}

pub(super) fn script_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    crate::commands::reply_help(
        ctx,
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn keys_and_argv_are_fresh_byte_string_tables_each_run() {
        let mut c = TestClient::new();
        let script = "local n = #KEYS .. ',' .. #ARGV \
            KEYS[9] = 'x' ARGV.extra = 1 \
            return {n, KEYS[1], ARGV[1], ARGV[2]}";
        assert_eq!(
            c.text(&["EVAL", script, "1", "k\0\r\n", "", "a\x01"]),
            "*4\r\n$3\r\n1,2\r\n$4\r\nk\0\r\n\r\n$0\r\n\r\n$2\r\na\x01\r\n"
        );
        // What the last run put in its tables is gone.
        assert_eq!(
            c.text(&[
                "EVAL",
                "return {#KEYS, #ARGV, tostring(KEYS[9]), tostring(ARGV.extra)}",
                "0"
            ]),
            "*4\r\n:0\r\n:0\r\n$3\r\nnil\r\n$3\r\nnil\r\n"
        );
    }

    fn used_memory_lua(c: &mut TestClient) -> usize {
        let info = c.text(&["INFO", "memory"]);
        info.lines()
            .find_map(|line| line.strip_prefix("used_memory_lua:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn short_runs_keep_the_lua_heap_near_its_live_size_even_after_a_flush() {
        let mut c = TestClient::new();
        // A run that leaves a large heap behind, collected by steps made at that size...
        let big = "local t = {} for i = 1, 20000 do t[i] = i end return 1";
        for _ in 0..100 {
            assert_eq!(c.text(&["EVAL", big, "0"]), ":1\r\n");
        }
        // ...then SCRIPT FLUSH collects everything. The garbage of the short runs that follow
        // is collected as it is made (Redis's suite: "EVAL does not leak in the Lua stack"
        // wants the heap under 100 KB after 10000 of them).
        assert_eq!(c.text(&["SCRIPT", "FLUSH"]), "+OK\r\n");
        let live = used_memory_lua(&mut c);
        for _ in 0..10_000 {
            let reply = c.text(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "x"]);
            assert!(reply.starts_with(':'), "{reply}");
        }
        let used = used_memory_lua(&mut c);
        assert!(
            used < live + (4 << 10),
            "used_memory_lua {used}, {live} after the flush"
        );
    }

    #[test]
    fn eval_converts_replies_and_reports_errors_as_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["EVAL", "return {1, 'a', 3.9, {ok='fine'}}", "0"]),
            "*4\r\n:1\r\n$1\r\na\r\n:3\r\n+fine\r\n"
        );
        assert_eq!(
            c.text(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "k"]),
            ":1\r\n"
        );
        assert_eq!(
            c.text(&["EVAL", "return a", "0"]),
            "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\r\n"
        );
        assert_eq!(
            c.text(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]),
            "-NOSCRIPT No matching script. Please use EVAL.\r\n"
        );
        assert_eq!(
            c.text(&["EVAL_RO", "return redis.call('set', 'a', 'b')", "0"]),
            "-ERR Write commands are not allowed from read-only scripts. script: 1ec5c8569e0cb2caa15ae94d564a56e22a60ce3e, on @user_script:1.\r\n"
        );
        // PUBLISH may replicate: refused to read-only scripts too (Redis 7.0.15's texts).
        assert_eq!(
            c.text(&["EVAL_RO", "return redis.call('publish','ch','msg')", "0"]),
            "-ERR Write commands are not allowed from read-only scripts. script: 182a3b6a9baccb64fbda951faab9575c9707d126, on @user_script:1.\r\n"
        );
        assert_eq!(
            c.text(&[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('publish','ch','msg')",
                "0"
            ]),
            "-ERR Write commands are not allowed from read-only scripts. script: bb53f4ccb58fffefa1919429607e0679686c3d81, on @user_script:2.\r\n"
        );
        assert_eq!(
            c.text(&["EVAL", "return redis.call('publish','ch','msg')", "0"]),
            ":0\r\n"
        );
    }

    #[test]
    fn too_few_replicas_refuse_writing_scripts_but_not_reads() {
        let mut c = TestClient::new();
        c.run(&["SET", "x", "v"]);
        c.run(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
        let get = "return redis.call('get','x')";
        assert_eq!(c.text(&["EVAL", get, "1", "x"]), "$1\r\nv\r\n");
        let flagged = format!("#!lua flags=no-writes\n{get}");
        assert_eq!(c.text(&["EVAL", &flagged, "1", "x"]), "$1\r\nv\r\n");
        let writer = format!("#!lua\n{get}");
        assert!(
            c.text(&["EVAL", &writer, "1", "x"])
                .starts_with("-NOREPLICAS ")
        );
        let set = "return redis.call('set','x','1')";
        assert!(c.text(&["EVAL", set, "1", "x"]).starts_with("-NOREPLICAS "));
    }
    #[test]
    fn a_failed_bgsave_refuses_writing_scripts_before_their_first_write() {
        let mut c = TestClient::new();
        c.run(&["SET", "x", "v"]);
        c.run(&["CONFIG", "SET", "save", "3600 1"]);
        c.server
            .rdb
            .last_bgsave_ok
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let get = "return redis.call('get','x')";
        assert_eq!(c.text(&["EVAL", get, "1", "x"]), "$1\r\nv\r\n");
        let flagged = format!("#!lua flags=no-writes\n{get}");
        assert_eq!(c.text(&["EVAL", &flagged, "1", "x"]), "$1\r\nv\r\n");
        let writer = format!("#!lua\n{get}");
        assert_eq!(
            c.text(&["EVAL", &writer, "1", "x"]),
            "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.\r\n"
        );
        let set = "return redis.call('set','x','1')";
        let reply = c.text(&["EVAL", set, "1", "x"]);
        assert!(
            reply.starts_with("-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify"),
            "{reply}"
        );
        assert_eq!(c.text(&["GET", "x"]), "$1\r\nv\r\n");
    }
    #[test]
    fn more_scripts_than_the_vm_has_reference_slots_stay_runnable() {
        let mut c = TestClient::new();
        // mlua's handles share about 8000 slots: cached scripts must not hold one each.
        for i in 0..8200 {
            let body = format!("return {i}");
            assert_eq!(c.text(&["SCRIPT", "LOAD", &body]).len(), 47, "script {i}");
        }
        let sha = c.text(&["SCRIPT", "LOAD", "return 8100"]);
        let sha = sha.lines().nth(1).unwrap_or_default().to_owned();
        assert_eq!(c.text(&["EVALSHA", &sha, "0"]), ":8100\r\n");
        assert_eq!(c.text(&["EVAL", "return 'fresh'", "0"]), "$5\r\nfresh\r\n");
    }
}
