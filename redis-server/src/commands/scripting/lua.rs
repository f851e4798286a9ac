//! The Lua VM scripts and functions run in: the sandbox Redis 7.0 builds around Lua 5.1
//! (read-only globals and libraries, no file or OS access), the `redis` library, and the
//! conversions between Lua values and RESP replies.

use std::sync::Arc;
use std::time::Instant;

use common::resp::{OwnedCommand, Protocol, ReplyBuffer};
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value, Variadic};

use super::Busy;
use crate::commands::CommandError;
use crate::connection::Client;
use crate::dispatch;
use crate::log::Level;
use crate::server::Server;

/// Replies nested deeper than this answer "reached lua stack limit", as Redis does when Lua's
/// stack runs out (a table that contains itself); a command's reply nested deeper is cut short.
pub(super) const MAX_REPLY_DEPTH: usize = 1000;

/// How long a library's code may run in FUNCTION LOAD (Redis's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Builds the sandbox. Runs once with the real globals `G` and the private table `P` (hooks the
/// Rust side fills in). Everything the user sees goes through read-only proxies; user chunks run
/// with `env` as their globals.
const SANDBOX: &str = r#"
local G, P = ...
local rawget, rawset, setmetatable, getmetatable, error, tostring, type, select =
      rawget, rawset, setmetatable, getmetatable, error, tostring, type, select
local pcall, xpcall, loadstring, load, setfenv, getfenv, unpack =
      pcall, xpcall, loadstring, load, setfenv, getfenv, unpack
local protected = setmetatable({}, {__mode = 'k'})
local function readonly() error('Attempt to modify a readonly table', 2) end
local locked_meta = setmetatable({}, {__newindex = readonly, __metatable = false})
protected[locked_meta] = true
local function protect(t)
  local proxy = setmetatable({}, {__index = t, __newindex = readonly, __metatable = locked_meta})
  protected[proxy] = true
  return proxy
end
P.protect = protect
local env = {}
local env_meta = {__index = G, __newindex = readonly, __metatable = locked_meta}
setmetatable(env, env_meta)
protected[env] = true
P.env = env
local function pack_kill(ok, ...)
  if not ok then
    if P.killed() then error((...), 0) end
    return ok, P.unwrap((...))
  end
  return ok, ...
end
rawset(G, 'pcall', function(...) return pack_kill(pcall(...)) end)
rawset(G, 'xpcall', function(...) return pack_kill(xpcall(...)) end)
rawset(G, 'setmetatable', function(t, mt)
  if protected[t] then error('Attempt to modify a readonly table', 2) end
  return setmetatable(t, mt)
end)
rawset(G, 'rawset', function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 2) end
  return rawset(t, k, v)
end)
rawset(G, 'getfenv', function(...)
  local e = getfenv(...)
  if e == G then return env end
  return e
end)
rawset(G, 'setfenv', function(f, e)
  if protected[e] and e ~= env then error('Attempt to modify a readonly table', 2) end
  return setfenv(f, e)
end)
rawset(G, 'loadstring', function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  local f, e = loadstring(s, name)
  if f then setfenv(f, env) end
  return f, e
end)
rawset(G, 'load', function(fn, name)
  local f, e = load(fn, name)
  if f then setfenv(f, env) end
  return f, e
end)
for _, name in ipairs({'print', 'dofile', 'loadfile', 'require', 'module', 'package', 'os', 'io', 'debug'}) do
  rawset(G, name, nil)
end
local redis = G.redis
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack', 'redis'}) do
  local lib = rawget(G, name)
  if lib then rawset(G, name, protect(lib)) end
end
local load_api = {
  register_function = function(...) return P.register_raw(...) end,
  log = function() end,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
  LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}
local load_redis = setmetatable({}, {
  __index = function(_, k)
    local v = load_api[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = readonly,
  __metatable = locked_meta,
})
protected[load_redis] = true
-- While a library loads, its globals hold only the load-time `redis` API, as in Redis 7.0.
local load_globals = setmetatable({}, {
  __index = function(_, k)
    if k == 'redis' then return load_redis end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = readonly,
  __metatable = locked_meta,
})
protected[load_globals] = true
P.begin_load = function() env_meta.__index = load_globals end
P.end_load = function() env_meta.__index = G end
rawset(G, '_G', env)
setmetatable(G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = readonly,
  __metatable = locked_meta,
})
P.run0 = function(handler, f) return xpcall(f, handler) end
"#;

/// An error table raised from Rust (`redis.call` and friends): Lua sees it as an error value,
/// the message handler and `pcall` turn it back into `{err=...}`.
#[derive(Debug, Clone)]
pub(crate) struct Raised {
    pub msg: String,
    /// Already counted in errorstats where it happened (a command's error): Redis's
    /// `ignore_error_stats_update`.
    pub counted: bool,
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Raised {}

/// The error-table field that marks an error already counted in errorstats.
pub(super) const COUNTED: &std::ffi::CStr = c"ignore_error_stats_update";

fn raise(msg: impl Into<String>) -> mlua::Error {
    mlua::Error::external(Raised {
        msg: msg.into(),
        counted: false,
    })
}

/// `{err=msg}`, marked when already counted.
fn error_table(lua: &Lua, msg: &str, counted: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", msg)?;
    if counted {
        t.raw_set(COUNTED, true)?;
    }
    Ok(t)
}

fn find_raised(e: &mlua::Error) -> Option<Raised> {
    match e {
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<Raised>().cloned(),
        mlua::Error::CallbackError { cause, .. } => find_raised(cause),
        mlua::Error::WithContext { cause, .. } => find_raised(cause),
        _ => None,
    }
}

/// Turns a `(ok, value)` pair from the raw functions into a value or a raised error table.
fn raised_or(result: (bool, Value)) -> mlua::Result<Value> {
    match result {
        (true, v) => Ok(v),
        (false, Value::Table(t)) => Err(mlua::Error::external(Raised {
            msg: t
                .raw_get::<Option<String>>("err")
                .ok()
                .flatten()
                .unwrap_or_default(),
            counted: matches!(t.raw_get::<Value>(COUNTED), Ok(Value::Boolean(true))),
        })),
        (false, Value::String(s)) => {
            Err(raise(String::from_utf8_lossy(&s.as_bytes()).into_owned()))
        }
        (false, _) => Err(raise("ERR unknown error")),
    }
}

/// A Lua error as Redis reports it: `{err=..., source=..., line=...}`.
pub(crate) struct ScriptError {
    pub msg: String,
    pub location: Option<(String, i64)>,
    /// Counted in errorstats already (see [`Raised::counted`]).
    pub counted: bool,
}

impl ScriptError {
    /// An error with neither a location nor an errorstats count.
    fn plain(msg: impl Into<String>) -> Self {
        ScriptError {
            msg: msg.into(),
            location: None,
            counted: false,
        }
    }
}

/// The keys and arguments a run gets, and how they reach its code.
#[derive(Clone, Copy)]
pub(crate) struct Invocation<'a> {
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    pub passing: Passing,
}

/// How a run's keys and arguments reach its code: both as tables of byte strings.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passing {
    /// An EVAL script: the KEYS and ARGV globals.
    Globals,
    /// A registered function: its two parameters.
    Parameters,
}

/// Receives each `redis.register_function` call of a library load: `(ok, error text)`.
pub(crate) type Registrar<'r> =
    dyn FnMut(&Lua, Variadic<Value>) -> mlua::Result<(bool, Value)> + 'r;

/// The Lua state and the handles into it that every run needs.
pub(crate) struct Vm {
    pub lua: Lua,
    /// While a library loads: when its code has run too long (Redis's 500 ms).
    load_deadline: Arc<std::sync::Mutex<Option<Instant>>>,
    globals: Table,
    private: Table,
    env: Table,
    handler: Function,
    run0: Function,
    /// The heap's size after the last garbage collection step (see [`Vm::gc_step`]).
    heap_after_gc: std::cell::Cell<usize>,
}

/// What `redis.call` reaches while a script runs.
pub(crate) struct CallState<'s, 'v> {
    pub server: &'s Server,
    pub view: &'v common::keyspace::Locked<'s>,
    pub client: Client,
    /// EVAL_RO, FCALL_RO or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// Used memory was past `maxmemory` when the script started.
    pub oom_at_start: bool,
    /// The script's `allow-oom` flag.
    pub allow_oom: bool,
    /// `redis.setresp`: the protocol command replies are converted from.
    pub resp: Protocol,
    pub busy: &'s Busy,
    /// The script's name as Redis logs it: the SHA1 of an EVAL, a function's name.
    pub name: &'v str,
    /// The buffers of the `redis.call` in progress, reused by every call of every run.
    pub scratch: super::call::CallScratch,
}

thread_local! {
    /// The [`CallState`] of the run in progress on this thread, while [`Vm::run`] is on the
    /// stack and no `redis.*` callback holds it; null otherwise.
    static CURRENT_RUN: std::cell::Cell<*mut ()> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Holds a run's state in [`CURRENT_RUN`] until dropped, then puts back what was there.
///
/// Why not `Lua::scope`: scoped callbacks are made and destroyed on every run (five userdata,
/// their registry slots and their garbage), a large share of a short script's cost. The
/// callbacks are made once instead and find the run here.
struct CurrentRun<'r> {
    previous: *mut (),
    /// The installed state is exclusively borrowed for as long as this guard lives.
    _state: std::marker::PhantomData<&'r mut ()>,
}

impl<'r> CurrentRun<'r> {
    fn install<'s, 'v>(state: &'r mut CallState<'s, 'v>) -> CurrentRun<'r> {
        let ptr = (state as *mut CallState<'s, 'v>).cast::<()>();
        CurrentRun {
            previous: CURRENT_RUN.with(|current| current.replace(ptr)),
            _state: std::marker::PhantomData,
        }
    }
}

impl Drop for CurrentRun<'_> {
    fn drop(&mut self) {
        CURRENT_RUN.with(|current| current.set(self.previous));
    }
}

/// The state of the run in progress on this thread, taken out of [`CURRENT_RUN`] until
/// [`TakenRun::put_back`]: for the raw `redis.call`, whose frames must not hold a guard with
/// a destructor (see `call.rs`). Nothing else can reach the state meanwhile.
pub(super) struct TakenRun(std::ptr::NonNull<CallState<'static, 'static>>);

impl TakenRun {
    /// The state. Valid until the run ends: the installing [`CurrentRun`] outlives every
    /// Lua call made during the run.
    pub(super) fn as_ptr(&self) -> *mut CallState<'static, 'static> {
        self.0.as_ptr()
    }

    pub(super) fn put_back(self) {
        CURRENT_RUN.with(|current| current.set(self.0.as_ptr().cast()));
    }
}

/// Takes the run in progress out of [`CURRENT_RUN`]; `None` outside a run (or while another
/// callback holds it).
pub(super) fn take_current_run() -> Option<TakenRun> {
    let ptr = CURRENT_RUN.with(|current| current.replace(std::ptr::null_mut()));
    std::ptr::NonNull::new(ptr.cast()).map(TakenRun)
}

/// Runs `f` on the state of the run in progress on this thread; `None` outside a run, or
/// while another callback of the same run holds it (nothing a script does nests them).
fn with_current_run<R>(f: impl for<'s, 'v> FnOnce(&mut CallState<'s, 'v>) -> R) -> Option<R> {
    /// Puts the run back even if `f` unwinds.
    struct PutBack(Option<TakenRun>);
    impl Drop for PutBack {
        fn drop(&mut self) {
            if let Some(run) = self.0.take() {
                run.put_back();
            }
        }
    }
    // Taken out while `f` runs, so that no second reference to the state can be made.
    let run = PutBack(Some(take_current_run()?));
    let ptr = run.0.as_ref()?.as_ptr();
    // SAFETY: a taken run's pointer was set by `CurrentRun::install` from a `&mut CallState`
    // that the installing `CurrentRun` guard keeps exclusively borrowed; the guard resets the
    // slot when dropped, which happens before that borrow ends, so the state is alive here.
    // The slot is per thread and the state was installed by this thread. It was taken out of
    // the slot, so this is the only reference to it until `run` puts it back. `f` is generic
    // over the state's lifetimes, so no reference it holds can outlive this call.
    let state = unsafe { &mut *ptr.cast::<CallState<'_, '_>>() };
    Some(f(state))
}

impl Vm {
    pub(crate) fn new(busy: Arc<Busy>) -> mlua::Result<Vm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::new(),
        )?;
        let globals = lua.globals();
        super::libs::register(&lua, &globals)?;
        let redis = lua.create_table()?;
        redis.raw_set("REDIS_VERSION", crate::REDIS_VERSION)?;
        redis.raw_set("REDIS_VERSION_NUM", redis_version_num())?;
        for (name, level) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
        ] {
            redis.raw_set(name, level)?;
        }
        for (name, value) in [
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.raw_set(name, value)?;
        }
        redis.raw_set(
            "error_reply",
            lua.create_function(|lua, v: Value| {
                let Value::String(s) = v else {
                    return Err(mlua::Error::runtime("wrong number or type of arguments"));
                };
                let t = lua.create_table()?;
                // A message without a code keeps its first word as the code.
                let bytes = s.as_bytes();
                let text = if bytes.starts_with(b"-") {
                    error_text(&bytes)
                } else {
                    let mut dashed = b"-".to_vec();
                    dashed.extend_from_slice(&bytes);
                    error_text(&dashed)
                };
                t.raw_set("err", text)?;
                Ok(t)
            })?,
        )?;
        redis.raw_set(
            "status_reply",
            lua.create_function(|lua, v: Value| {
                let Value::String(s) = v else {
                    return Err(mlua::Error::runtime("wrong number or type of arguments"));
                };
                let t = lua.create_table()?;
                t.raw_set("ok", s)?;
                Ok(t)
            })?,
        )?;
        redis.raw_set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
        redis.raw_set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
        redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        globals.raw_set("redis", redis.clone())?;

        let private = lua.create_table()?;
        let killed = busy.clone();
        private.raw_set(
            "killed",
            lua.create_function(move |_, ()| Ok(killed.kill_requested()))?,
        )?;
        private.raw_set(
            "unwrap",
            lua.create_function(|lua, v: Value| match v {
                Value::Error(e) => match find_raised(&e) {
                    Some(r) => Ok(Value::Table(error_table(lua, &r.msg, r.counted)?)),
                    None => Ok(Value::String(lua.create_string(error_message(&e))?)),
                },
                other => Ok(other),
            })?,
        )?;
        redis.raw_set(
            "set_repl",
            lua.create_function(|lua, a: Variadic<Value>| {
                let (ok, msg) = set_repl(lua, a)?;
                if ok { Ok(()) } else { Err(raise(msg)) }
            })?,
        )?;
        redis.raw_set(
            "sha1hex",
            lua.create_function(|lua, a: Variadic<Value>| raised_or(sha1hex(lua, a)?))?,
        )?;
        Self::register_run_api(&lua, &redis)?;
        lua.load(SANDBOX)
            .set_name("=redis_sandbox")
            .call::<()>((globals.clone(), private.clone()))?;
        let env: Table = private.raw_get("env")?;
        let handler = lua.create_function(error_handler)?;
        let run0: Function = private.raw_get("run0")?;
        let hook_busy = busy;
        let load_deadline: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
        let hook_deadline = load_deadline.clone();
        lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                // A long script must not hold back the replies of the batches run before it.
                super::hand_back_held();
                with_current_run(|state| {
                    let threshold = super::Scripting::threshold(&state.server.config());
                    state
                        .busy
                        .log_if_slow(&state.server.log, threshold, state.name);
                });
                if hook_busy.kill_requested() {
                    return Err(mlua::Error::runtime(
                        "ERR Script killed by user with SCRIPT KILL...",
                    ));
                }
                let deadline = *hook_deadline
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if deadline.is_some_and(|at| Instant::now() > at) {
                    return Err(raise("ERR FUNCTION LOAD timeout"));
                }
                Ok(mlua::VmState::Continue)
            },
        );
        Ok(Vm {
            heap_after_gc: std::cell::Cell::new(lua.used_memory()),
            load_deadline,
            lua,
            globals,
            private,
            env,
            handler,
            run0,
        })
    }

    /// `redis.call`, `pcall`, `setresp`, `log` and `acl_check_cmd`, made once: they reach the
    /// run in progress through [`with_current_run`], and outside a run answer that they need
    /// one.
    fn register_run_api(lua: &Lua, redis: &Table) -> mlua::Result<()> {
        let outside = |msg: &'static str| move || raise(msg);
        // SAFETY: both are Lua C functions written for that contract (see `call.rs`).
        let (call, pcall) = unsafe {
            (
                lua.create_c_function(super::call::redis_call)?,
                lua.create_c_function(super::call::redis_pcall)?,
            )
        };
        redis.raw_set("call", call)?;
        redis.raw_set("pcall", pcall)?;
        let setresp_outside =
            outside("ERR redis.setresp can only be called inside a script invocation");
        redis.raw_set(
            "setresp",
            lua.create_function(move |_, args: Variadic<Value>| {
                with_current_run(|state| {
                    if args.len() != 1 {
                        return Err(raise("ERR redis.setresp() requires one argument."));
                    }
                    let version = match &args[0] {
                        Value::Integer(n) => *n as f64,
                        Value::Number(n) => *n,
                        _ => 0.0,
                    };
                    if version == 2.0 {
                        state.resp = Protocol::Resp2;
                    } else if version == 3.0 {
                        state.resp = Protocol::Resp3;
                    } else {
                        return Err(raise("ERR RESP version must be 2 or 3."));
                    }
                    Ok(())
                })
                .ok_or_else(&setresp_outside)?
            })?,
        )?;
        let log_outside = outside("ERR redis.log can only be called inside a script invocation");
        redis.raw_set(
            "log",
            lua.create_function(move |lua, args: Variadic<Value>| {
                let result = with_current_run(|state| log(lua, state.server, args))
                    .ok_or_else(&log_outside)??;
                raised_or(result)
            })?,
        )?;
        let acl_outside =
            outside("ERR redis.acl_check_cmd can only be called inside a script invocation");
        redis.raw_set(
            "acl_check_cmd",
            lua.create_function(move |lua, args: Variadic<Value>| {
                let result = with_current_run(|state| acl_check_cmd(lua, state, args))
                    .ok_or_else(&acl_outside)??;
                raised_or(result)
            })?,
        )?;
        Ok(())
    }

    /// Compiles a user chunk (named `@user_script`, Redis's name) with the sandbox as globals.
    pub(crate) fn compile(&self, name: &str, body: &[u8]) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(name)
            .set_mode(mlua::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Runs a library's code with the load-time `redis` API (`register_function`, `log`),
    /// `register` receiving each registration. Returns the error table's text on failure.
    pub(crate) fn load_library(
        &self,
        chunk: &Function,
        register: &mut Registrar<'_>,
    ) -> Result<(), String> {
        let outcome = self.lua.scope(|scope| {
            let raw = scope.create_function_mut(|lua, args: Variadic<Value>| {
                raised_or(register(lua, args)?)
            })?;
            self.private.raw_set("register_raw", raw)?;
            let begin: Function = self.private.raw_get("begin_load")?;
            let end: Function = self.private.raw_get("end_load")?;
            self.set_load_deadline(Some(Instant::now() + LOAD_TIMEOUT));
            begin.call::<()>(())?;
            let result: mlua::Result<MultiValue> =
                self.run0.call((self.handler.clone(), chunk.clone()));
            self.set_load_deadline(None);
            end.call::<()>(())?;
            let mut values = result?.into_iter();
            let ok = matches!(values.next(), Some(Value::Boolean(true)));
            if ok {
                Ok(Ok(()))
            } else {
                Ok(Err(script_error(values.next().unwrap_or(Value::Nil)).msg))
            }
        });
        if let Ok(outside) = self.lua.create_function(|_, _: MultiValue| {
            Err::<(), _>(raise(
                "ERR redis.register_function can only be called on FUNCTION LOAD command",
            ))
        }) {
            let _ = self.private.raw_set("register_raw", outside);
        }
        match outcome {
            Ok(r) => r,
            Err(e) => Err(format!("ERR {}", error_message(&e))),
        }
    }

    fn set_load_deadline(&self, at: Option<Instant>) {
        *self
            .load_deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    #[allow(dead_code)]
    fn globals(&self) -> &Table {
        &self.globals
    }

    /// Runs `callee` (a compiled script or function held in the registry) under the error
    /// handler, `redis.call` wired to `state`. Writes the reply (converted with `state.resp`'s
    /// rules) to `reply`, or returns the error.
    ///
    /// The whole run is one protected call on the VM's own stack: the KEYS and ARGV tables,
    /// the callee and the call under the handler. Through mlua's handles (a registry slot per
    /// table and function, a protected call and two fresh C closures per step) a short
    /// script's run cost a fifth more, half of it in the garbage those steps left.
    pub(crate) fn run(
        &self,
        state: &mut CallState<'_, '_>,
        callee: &mlua::RegistryKey,
        invocation: Invocation<'_>,
        reply: &mut ReplyBuffer,
    ) -> Result<Vec<ReplyError>, ScriptError> {
        use mlua::ffi;
        use std::ffi::c_int;
        let Invocation {
            keys,
            args,
            passing,
        } = invocation;
        let (Ok(nkeys), Ok(nargs)) = (c_int::try_from(keys.len()), c_int::try_from(args.len()))
        else {
            return Err(ScriptError::plain("ERR too many arguments"));
        };
        let as_globals = passing == Passing::Globals;
        let installed = CurrentRun::install(state);
        // SAFETY: `exec_raw` runs the closure inside a protected call on this VM's main state,
        // the handler (its one argument) at index 1, with at least LUA_MINSTACK (20) free
        // slots; the closure uses at most four more at once (the callee and two tables and a
        // string, or a global's name, its table and a string). Every `rawseti` index is within
        // `1..=n` for an `n` that fits a `c_int` (checked above). The strings are copied by Lua
        // before the pushes return, so no borrowed bytes outlive the call. `callee` is a live
        // registry key of this VM (the engine owns it for the run), so `rawgeti` pushes the
        // function it holds. The user code runs under `lua_pcall`, which catches every Lua
        // error it raises (a callback's error, the hook's kill, an allocation failure) and
        // leaves one value, the result or the handler's error table. An allocation failure
        // while building the tables unwinds to `exec_raw`'s own protected call through this
        // closure's frame, which owns nothing that needs dropping (it borrows slices and holds
        // integers). The closure leaves `ok, value` as its results; the globals are set with
        // raw sets, so the read-only metatable is not invoked.
        let called = unsafe {
            self.lua.exec_raw::<(bool, Value)>(&self.handler, |lua| {
                let push_array = |items: &[&[u8]], n: c_int| {
                    ffi::lua_createtable(lua, n, 0);
                    for (i, item) in (1..=n).zip(items) {
                        ffi::lua_pushlstring(lua, item.as_ptr().cast(), item.len());
                        ffi::lua_rawseti_(lua, -2, i);
                    }
                };
                if as_globals {
                    for (name, items, n) in [(c"KEYS", keys, nkeys), (c"ARGV", args, nargs)] {
                        ffi::lua_pushstring(lua, name.as_ptr());
                        push_array(items, n);
                        ffi::lua_rawset(lua, ffi::LUA_GLOBALSINDEX);
                    }
                }
                ffi::lua_rawgeti_(lua, ffi::LUA_REGISTRYINDEX, callee.id());
                let passed = if as_globals {
                    0
                } else {
                    push_array(keys, nkeys);
                    push_array(args, nargs);
                    2
                };
                let status = ffi::lua_pcall(lua, passed, 1, 1);
                ffi::lua_pushboolean(lua, c_int::from(status == ffi::LUA_OK));
                ffi::lua_replace(lua, 1);
            })
        };
        drop(installed);
        match called {
            Ok((true, value)) => {
                let mut seen = Vec::new();
                lua_to_reply(&value, reply, state.resp, 0, &mut seen);
                Ok(seen)
            }
            Ok((false, value)) => Err(script_error(value)),
            Err(e) => Err(ScriptError::plain(format!("ERR {}", error_message(&e)))),
        }
    }

    /// Steps the garbage collector by twice the garbage made since the last step (called
    /// every 50 runs, when Redis steps it by a fixed 50 KB).
    ///
    /// A fixed step of 50 KB finishes a whole collection cycle (marking every live object)
    /// whenever the runs made less garbage than that, which short scripts always do: a
    /// twelfth of a one-command script's run went to re-marking the same live heap. Paced by
    /// the heap's growth instead, the collector keeps up with what runs leave behind; at
    /// twice the growth, a cycle ends every quarter of the live heap's size in garbage, so
    /// the heap stays near its live size (at once the growth it floated a third above it).
    pub(crate) fn gc_step(&self) {
        let used = self.lua.used_memory();
        // The collector also runs by itself (and SCRIPT FLUSH collects everything): growth
        // counts from the smallest size seen since the last step.
        let base = self.heap_after_gc.get().min(used);
        self.heap_after_gc.set(base);
        let grown = used - base;
        if grown >= 1024 {
            let _ = self.lua.gc_step_kbytes((grown / 512) as std::ffi::c_int);
            self.heap_after_gc.set(self.lua.used_memory());
        }
    }

    /// Frees what dropped scripts and functions held (their registry entries, then every
    /// unreachable object), as Redis's SCRIPT FLUSH frees them with the whole VM.
    pub(crate) fn release_dropped(&self) {
        self.lua.expire_registry_values();
        let _ = self.lua.gc_collect();
    }
}

fn redis_version_num() -> i64 {
    let mut parts = crate::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major << 16) | (minor << 8) | patch
}

/// The text of an error table made from `s` as Redis's `luaPushErrorBuff` does: `-CODE msg`
/// keeps its code, anything else gets `ERR `; trailing line ends go.
pub(crate) fn error_text(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    let (code, msg) = match s.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code.to_owned(), msg.to_owned()),
            None => ("ERR".to_owned(), rest.to_owned()),
        },
        None => ("ERR".to_owned(), s.into_owned()),
    };
    format!("{code} {}", msg.trim_end_matches(['\r', '\n']))
}

fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(msg) => msg.clone(),
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::MemoryError(msg) => msg.clone(),
        other => other.to_string(),
    }
}

/// The message handler every run is called under: turns any error into Redis's error table,
/// with the position of the user code that raised it.
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            if let Value::Error(e) = &other {
                if let Some(r) = find_raised(e) {
                    return locate(lua, error_table(lua, &r.msg, r.counted)?);
                }
            }
            let msg = match other {
                Value::Error(e) => {
                    let text = error_message(&e);
                    if text.starts_with("ERR ") {
                        text
                    } else {
                        format!("ERR {text}")
                    }
                }
                Value::String(s) => format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())),
                Value::Integer(n) => format!("ERR {n}"),
                Value::Number(n) => format!("ERR {n}"),
                Value::Nil => "ERR nil".to_owned(),
                Value::Boolean(b) => format!("ERR {b}"),
                v => format!("ERR {}", v.type_name()),
            };
            error_table(lua, &msg, false)?
        }
    };
    locate(lua, table)
}

/// Adds the source and line of the innermost user code on the stack to an error table.
fn locate(lua: &Lua, table: Table) -> mlua::Result<Table> {
    let mut level = 1;
    while let Some(frame) = lua.inspect_stack(level) {
        let source = frame.source();
        let internal =
            source.what == "C" || source.source.as_deref().is_none_or(|s| s.starts_with('='));
        if !internal {
            if let Some(src) = source.source.as_deref() {
                table.raw_set("source", src)?;
                table.raw_set("line", frame.curr_line())?;
            }
            break;
        }
        level += 1;
        if level > 64 {
            break;
        }
    }
    Ok(table)
}

fn script_error(value: Value) -> ScriptError {
    match value {
        Value::Table(t) => {
            let msg = match t.raw_get::<Value>("err") {
                Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                _ => "ERR unknown error".to_owned(),
            };
            let source: Option<String> = t.raw_get("source").ok().flatten();
            let line: Option<i64> = t.raw_get("line").ok().flatten();
            ScriptError {
                msg,
                location: source.zip(line),
                counted: matches!(t.raw_get::<Value>(COUNTED), Ok(Value::Boolean(true))),
            }
        }
        Value::String(s) => {
            ScriptError::plain(format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())))
        }
        _ => ScriptError::plain("ERR execution failure"),
    }
}

impl ScriptError {
    /// The error reply of a failed run: `<msg> script: <name>, on <source>:<line>.`
    pub(crate) fn into_command_error(self, funcname: &str) -> CommandError {
        let text = match self.location {
            Some((source, line)) => format!("{} script: {funcname}, on {source}:{line}.", self.msg),
            None => self.msg,
        };
        CommandError::Script(text)
    }
}

fn set_repl(_: &Lua, args: Variadic<Value>) -> mlua::Result<(bool, &'static str)> {
    if args.len() != 1 {
        return Ok((false, "ERR redis.set_repl() requires two arguments."));
    }
    let flags = match &args[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => -1,
    };
    if !(0..=3).contains(&flags) {
        return Ok((
            false,
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ));
    }
    Ok((true, ""))
}

fn sha1hex(lua: &Lua, args: Variadic<Value>) -> mlua::Result<(bool, Value)> {
    if args.len() != 1 {
        return Ok((
            false,
            Value::String(lua.create_string("ERR wrong number of arguments")?),
        ));
    }
    let bytes = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(n) => n.to_string().into_bytes(),
        Value::Number(n) => lua_number_text(*n).into_bytes(),
        _ => Vec::new(),
    };
    let hex = sha1_smol::Sha1::from(&bytes).digest().to_string();
    Ok((true, Value::String(lua.create_string(hex)?)))
}

fn log(lua: &Lua, server: &Server, args: Variadic<Value>) -> mlua::Result<(bool, Value)> {
    let err = |s: &str| Ok((false, Value::String(lua.create_string(s)?)));
    if args.len() < 2 {
        return err("ERR redis.log() requires two arguments or more.");
    }
    let level = match &args[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => return err("ERR First argument must be a number (log level)."),
    };
    let level = match level {
        0 => Level::Debug,
        1 => Level::Verbose,
        2 => Level::Notice,
        3 => Level::Warning,
        _ => return err("ERR Invalid debug level."),
    };
    let mut msg = String::new();
    for (i, v) in args.iter().skip(1).enumerate() {
        if i > 0 {
            msg.push(' ');
        }
        match v {
            Value::String(s) => msg.push_str(&String::from_utf8_lossy(&s.as_bytes())),
            Value::Integer(n) => msg.push_str(&n.to_string()),
            Value::Number(n) => msg.push_str(&lua_number_text(*n)),
            _ => {}
        }
    }
    server.log.log(level, &msg);
    Ok((true, Value::Nil))
}

/// The errorstats code of an error text as Redis takes it: the first word when a space comes
/// within 32 bytes, else `ERR`.
pub(crate) fn error_code(text: &str) -> &str {
    let head = &text.as_bytes()[..text.len().min(32)];
    match head.iter().position(|&b| b == b' ') {
        Some(0) | None => "ERR",
        Some(i) => &text[..i],
    }
}

/// Lua's own `%.14g` text of a number.
pub(crate) fn lua_number_text(n: f64) -> String {
    format_g(n, 14)
}

/// C's `%.<precision>g`: the shorter of fixed and scientific notation for `precision`
/// significant digits, trailing zeros dropped.
pub(crate) fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if exp < -4 || exp >= p as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{n:.decimals$}"))
    }
}

/// The arguments of a `redis` library call as a command line, or the error table to raise
/// (the same rules and texts as `redis.call`'s, in `call.rs`).
fn lua_args_to_command(lua: &Lua, args: &[Value]) -> mlua::Result<Result<OwnedCommand, Value>> {
    let fail = |msg: &str| -> mlua::Result<Result<OwnedCommand, Value>> {
        Ok(Err(Value::Table(error_table(lua, msg, false)?)))
    };
    if args.is_empty() {
        return fail(super::call::NO_ARGUMENTS);
    }
    let mut command = OwnedCommand::default();
    for arg in args {
        match arg {
            Value::String(s) => command.push(&s.as_bytes()),
            Value::Integer(n) => {
                command.push_with(|out| super::call::number_argument(*n as f64, out))
            }
            Value::Number(n) => command.push_with(|out| super::call::number_argument(*n, out)),
            _ => return fail(super::call::BAD_ARGUMENT),
        }
    }
    Ok(Ok(command))
}

/// `redis.acl_check_cmd`: whether the script's user may run a command line (arity is not
/// checked, and a refusal is not logged).
fn acl_check_cmd(
    lua: &Lua,
    state: &CallState<'_, '_>,
    args: Variadic<Value>,
) -> mlua::Result<(bool, Value)> {
    let command = match lua_args_to_command(lua, &args)? {
        Ok(command) => command,
        Err(error) => return Ok((false, error)),
    };
    let argv = command.args();
    let spec = match dispatch::resolve_for_script(state.server, argv) {
        Ok(spec) | Err(ScriptCallError::Arity(spec)) => spec,
        Err(ScriptCallError::Unknown) => {
            let msg = "ERR Invalid command passed to redis.acl_check_cmd()";
            return Ok((false, Value::Table(error_table(lua, msg, false)?)));
        }
    };
    Ok((
        true,
        Value::Boolean(crate::acl::permitted(
            state.server,
            &state.client,
            spec,
            argv,
        )),
    ))
}

/// Why a script's command was refused before running.
pub(crate) enum ScriptCallError {
    Unknown,
    /// The command exists but not with this many arguments.
    Arity(&'static common::command_table::CommandSpec),
}

fn sanitized(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

/// An error reply a script's result holds, for errorstats.
pub(crate) struct ReplyError {
    pub code: String,
    /// Counted where it happened (see [`Raised::counted`]).
    pub counted: bool,
}

/// Writes a Lua value as a reply, with Redis's rules (`luaReplyToRedisReply`).
pub(crate) fn lua_to_reply(
    value: &Value,
    reply: &mut ReplyBuffer,
    script_resp: Protocol,
    depth: usize,
    seen: &mut Vec<ReplyError>,
) {
    if depth > MAX_REPLY_DEPTH {
        seen.push(ReplyError {
            code: "ERR".into(),
            counted: false,
        });
        reply.error(b"ERR reached lua stack limit");
        return;
    }
    match value {
        Value::String(s) => reply.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp == Protocol::Resp2 {
                if *b {
                    reply.integer(1);
                } else {
                    reply.null();
                }
            } else {
                reply.boolean(*b);
            }
        }
        Value::Integer(n) => reply.integer(*n),
        Value::Number(n) => reply.integer(truncate(*n)),
        Value::Table(t) => table_to_reply(t, reply, script_resp, depth, seen),
        _ => reply.null(),
    }
}

/// C's `(long long)` of a double on x86-64: out of range (or NaN) gives the smallest integer.
fn truncate(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

fn table_to_reply(
    t: &Table,
    reply: &mut ReplyBuffer,
    script_resp: Protocol,
    depth: usize,
    seen: &mut Vec<ReplyError>,
) {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let bytes = e.as_bytes();
        seen.push(ReplyError {
            code: error_code(&String::from_utf8_lossy(&bytes)).to_owned(),
            counted: matches!(t.raw_get::<Value>(COUNTED), Ok(Value::Boolean(true))),
        });
        reply.error(&bytes);
        return;
    }
    if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
        reply.simple(&sanitized(&ok.as_bytes()));
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return reply.double(d),
        Ok(Value::Integer(d)) => return reply.double(d as f64),
        _ => {}
    }
    if let Ok(Value::String(n)) = t.raw_get::<Value>("big_number") {
        reply.big_number(&sanitized(&n.as_bytes()));
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            let f = format.as_bytes();
            let mut fmt = [b' '; 3];
            for (d, s) in fmt.iter_mut().zip(f.iter()) {
                *d = *s;
            }
            reply.verbatim(&fmt, &text.as_bytes());
            return;
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> =
            map.pairs::<Value, Value>().filter_map(Result::ok).collect();
        reply.map(pairs.len());
        for (k, v) in &pairs {
            lua_to_reply(k, reply, script_resp, depth + 1, seen);
            lua_to_reply(v, reply, script_resp, depth + 1, seen);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = set
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| k)
            .collect();
        reply.set(keys.len());
        for k in &keys {
            lua_to_reply(k, reply, script_resp, depth + 1, seen);
        }
        return;
    }
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
        i += 1;
    }
    reply.array(items.len());
    for v in &items {
        lua_to_reply(v, reply, script_resp, depth + 1, seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::TestClient;

    /// A run's state for `server`, as `eval::execute` builds it.
    fn with_state(server: &Server, f: impl FnOnce(&mut CallState<'_, '_>)) {
        let gate = server.keyspace.exclusive();
        let view = server.keyspace.lock_lazily(&gate, 0);
        let (info, _pushes) =
            crate::connection::ClientInfo::new(1, String::new(), String::new(), -1, false);
        let mut state = CallState {
            server,
            view: &view,
            client: Client::new(info, true),
            read_only: false,
            oom_at_start: false,
            allow_oom: false,
            resp: Protocol::Resp2,
            busy: &server.scripting.busy,
            name: "test",
            scratch: crate::commands::scripting::call::CallScratch::default(),
        };
        f(&mut state);
    }

    #[test]
    fn the_run_state_is_reachable_only_while_installed_and_never_twice() {
        let c = TestClient::new();
        assert!(with_current_run(|_| ()).is_none(), "no run installed");
        with_state(&c.server, |state| {
            let installed = CurrentRun::install(state);
            let nested = with_current_run(|outer| {
                outer.resp = Protocol::Resp3;
                // Taken out while a callback holds it: a nested callback finds nothing.
                with_current_run(|_| ()).is_none()
            });
            assert_eq!(nested, Some(true));
            // Put back once the callback is done.
            assert_eq!(with_current_run(|s| s.resp), Some(Protocol::Resp3));
            drop(installed);
            assert!(with_current_run(|_| ()).is_none(), "removed with the guard");
        });
    }

    #[test]
    fn redis_call_after_a_run_reports_that_it_needs_one() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k"]),
            "+OK\r\n"
        );
        let server = c.server.clone();
        server
            .scripting
            .with_engine(|engine| {
                let f = engine
                    .vm
                    .compile(
                        "@user_script",
                        b"local ok, e = pcall(redis.call, 'get', 'k') return {ok, e.err}",
                    )
                    .map_err(crate::commands::CommandError::err)?;
                // Called directly, outside `Vm::run`: the call finds no run, and raises
                // Redis's error table.
                let (ok, e): (bool, String) = f
                    .call::<Table>(())
                    .and_then(|t| Ok((t.raw_get(1)?, t.raw_get(2)?)))
                    .expect("a table");
                assert!(!ok);
                assert_eq!(
                    e,
                    "ERR redis.call/pcall can only be called inside a script invocation"
                );
                Ok(())
            })
            .expect("engine");
    }
}
