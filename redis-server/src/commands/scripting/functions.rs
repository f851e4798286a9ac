//! FCALL, FCALL_RO and FUNCTION LOAD/LIST/DELETE/FLUSH/STATS/KILL/HELP: libraries of Lua
//! functions, loaded with `#!lua name=<library>` and `redis.register_function`.

use std::collections::BTreeMap;

use mlua::{Lua, Value, Variadic};

use super::eval::{Access, execute, keys_and_args};
use super::lua::{Invocation, Passing};
use super::{Engine, ScriptFlags};
use crate::commands::args::is;
use crate::commands::{CommandContext, CommandError};

/// One registered function.
struct Function {
    /// In the Lua registry, not as a handle: see `Script::func`.
    callback: mlua::RegistryKey,
    flags: ScriptFlags,
    description: Option<Vec<u8>>,
}

/// One library: its code and functions.
struct Library {
    code: Vec<u8>,
    functions: BTreeMap<String, Function>,
}

/// Every loaded library, and which library each function belongs to.
#[derive(Default)]
pub(crate) struct Libraries {
    libraries: BTreeMap<String, Library>,
    /// Function names ignore case, as Redis's dict of functions does: lowercase name →
    /// (library, name as registered). Looked up by every FCALL; nothing lists it in order.
    owner: std::collections::HashMap<String, (String, String), foldhash::quality::RandomState>,
}

impl Libraries {
    /// Every library's code, ordered by library name.
    pub(super) fn codes(&self) -> Vec<Vec<u8>> {
        self.libraries.values().map(|l| l.code.clone()).collect()
    }

    /// The flags of the function named `name` (any case), if loaded.
    pub(super) fn function_flags(&self, name: &str) -> Option<ScriptFlags> {
        let (lib, function) = self.owner.get(&name.to_ascii_lowercase())?;
        Some(self.libraries.get(lib)?.functions.get(function)?.flags)
    }

    pub(super) fn function_count(&self) -> usize {
        self.owner.len()
    }

    fn remove(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.keys() {
            self.owner.remove(&f.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// A function of `library` that another library of this set already registers.
    fn taken_function<'l>(&self, library: &'l Library) -> Option<&'l String> {
        library
            .functions
            .keys()
            .find(|f| self.owner.contains_key(&f.to_ascii_lowercase()))
    }

    /// Adds every library of `other`. A library already loaded fails the join, or with
    /// `replace` is replaced; a function another library registers fails it. On failure
    /// nothing changes.
    fn join(&mut self, other: Libraries, replace: bool) -> Result<(), CommandError> {
        let mut replaced = Vec::new();
        let mut failure = None;
        for name in other.libraries.keys() {
            if self.libraries.contains_key(name) {
                if !replace {
                    failure = Some(format!("Library {name} already exists"));
                    break;
                }
                if let Some(old) = self.remove(name) {
                    replaced.push((name.clone(), old));
                }
            }
        }
        if failure.is_none() {
            failure = other
                .libraries
                .values()
                .find_map(|library| self.taken_function(library))
                .map(|taken| format!("Function {taken} already exists"));
        }
        if let Some(msg) = failure {
            for (name, old) in replaced {
                self.insert(name, old);
            }
            return Err(CommandError::err(msg));
        }
        for (name, library) in other.libraries {
            self.insert(name, library);
        }
        Ok(())
    }

    fn insert(&mut self, name: String, lib: Library) {
        for f in lib.functions.keys() {
            self.owner
                .insert(f.to_ascii_lowercase(), (name.clone(), f.clone()));
        }
        self.libraries.insert(name, lib);
    }
}

const NAME_RULE: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads the `#!<engine> name=<lib>` line (split with quotes as `sdssplitargs` does).
fn library_name(code: &[u8]) -> Result<String, CommandError> {
    if !code.starts_with(b"#!") {
        return Err(CommandError::err("Missing library metadata"));
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(CommandError::err("Invalid library metadata"));
    };
    let parts = match common::config::split_args(&code[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err(CommandError::err("Invalid library metadata")),
    };
    let engine = parts[0].get(2..).unwrap_or_default();
    let mut name: Option<&[u8]> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(CommandError::err(
                    "Invalid metadata value, name argument was given multiple times",
                ));
            }
            name = Some(&part[5..]);
            continue;
        }
        return Err(CommandError::err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        )));
    }
    let Some(name) = name else {
        return Err(CommandError::err("Library name was not given"));
    };
    if !valid_name(name) {
        return Err(CommandError::err(NAME_RULE));
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(CommandError::err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(engine)
        )));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// The string value of a Lua argument (numbers become their text, as `lua_tostring` does).
fn lua_text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(n) => Some(n.to_string().into_bytes()),
        Value::Number(n) => Some(super::lua::lua_number_text(*n).into_bytes()),
        _ => None,
    }
}

/// Reads one `redis.register_function` call.
fn registration(lua: &Lua, args: Variadic<Value>) -> Result<(Vec<u8>, Function), &'static str> {
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return Err(
                    "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
                );
            };
            let mut name = None;
            let mut callback = None;
            let mut flags = ScriptFlags::default();
            let mut description = None;
            for pair in t.pairs::<Value, Value>() {
                let Ok((k, v)) = pair else {
                    return Err("ERR unknown argument given to redis.register_function");
                };
                let key = lua_text(&k).unwrap_or_default();
                match &key[..] {
                    b"function_name" => match lua_text(&v) {
                        Some(n) => name = Some(n),
                        None => {
                            return Err(
                                "ERR function_name argument given to redis.register_function must be a string",
                            );
                        }
                    },
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => {
                            return Err(
                                "ERR callback argument given to redis.register_function must be a function",
                            );
                        }
                    },
                    b"description" => match lua_text(&v) {
                        Some(d) => description = Some(d),
                        None => {
                            return Err(
                                "ERR description argument given to redis.register_function must be a string",
                            );
                        }
                    },
                    b"flags" => {
                        let Value::Table(list) = v else {
                            return Err(
                                "ERR flags argument to redis.register_function must be a table representing function flags",
                            );
                        };
                        for flag in list.sequence_values::<Value>() {
                            let ok = flag
                                .ok()
                                .and_then(|f| lua_text(&f))
                                .is_some_and(|f| flags.set(&f));
                            if !ok {
                                return Err("ERR unknown flag given");
                            }
                        }
                    }
                    _ => return Err("ERR unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return Err("ERR redis.register_function must get a function name argument");
            };
            let Some(callback) = callback else {
                return Err("ERR redis.register_function must get a callback argument");
            };
            (name, callback, flags, description)
        }
        2 => {
            let Some(name) = lua_text(&args[0]) else {
                return Err("ERR first argument to redis.register_function must be a string");
            };
            let Value::Function(callback) = &args[1] else {
                return Err("ERR second argument to redis.register_function must be a function");
            };
            (name, callback.clone(), ScriptFlags::default(), None)
        }
        _ => return Err("ERR wrong number of arguments to redis.register_function"),
    };
    if !valid_name(&name) {
        return Err(
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        );
    }
    let callback = lua
        .create_registry_value(callback)
        .map_err(|_| "ERR Lua out of memory")?;
    Ok((
        name,
        Function {
            callback,
            flags,
            description,
        },
    ))
}

pub(super) fn function_load(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut replace = false;
    let code = loop {
        let arg = ctx.args.next_bytes()?;
        if ctx.args.is_empty() {
            break arg;
        }
        if is(arg, "replace") {
            replace = true;
        } else {
            return Err(CommandError::err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(arg)
            )));
        }
    };
    let name = ctx.server.scripting.load_library(code, replace)?;
    ctx.dirty(1);
    ctx.reply.bulk(name.as_bytes());
    Ok(())
}

/// Loads one library's code into `engine` (FUNCTION LOAD's checks and errors): its name.
fn load_code(engine: &mut Engine, code: &[u8], replace: bool) -> Result<String, CommandError> {
    let name = library_name(code)?;
    if engine.libraries.libraries.contains_key(&name) && !replace {
        return Err(CommandError::err(format!(
            "Library '{name}' already exists"
        )));
    }
    let library = create_library(engine, code)?.1;
    let old = engine.libraries.remove(&name);
    if let Some(taken) = engine.libraries.taken_function(&library) {
        let err = CommandError::err(format!("Function {taken} already exists"));
        if let Some(old) = old {
            engine.libraries.insert(name, old);
        }
        return Err(err);
    }
    engine.libraries.insert(name.clone(), library);
    Ok(name)
}

/// What persistence needs from the libraries: an RDB file or an AOF base saves every
/// library's code, and loading one loads each code back as FUNCTION LOAD would. Loading
/// reaches the engine, so it runs on the script thread (start-up, DEBUG RELOAD, a replica's
/// full sync); the codes are read from what the engine published, on any thread.
impl super::Scripting {
    /// The code of every loaded library, in name order.
    pub(crate) fn library_codes(&self) -> Vec<Vec<u8>> {
        self.published_libraries().codes
    }

    /// Loads one library from its code, as FUNCTION LOAD (REPLACE when `replace`) does: its
    /// name, or FUNCTION LOAD's error.
    pub(crate) fn load_library(&self, code: &[u8], replace: bool) -> Result<String, CommandError> {
        self.with_engine(|engine| {
            let name = load_code(engine, code, replace)?;
            self.publish_libraries(&engine.libraries);
            Ok(name)
        })
    }

    /// Drops every library (the flush before DEBUG RELOAD loads a file).
    pub(crate) fn flush_libraries(&self) {
        let _ = self.with_engine(|engine| {
            engine.libraries = Libraries::default();
            self.publish_libraries(&engine.libraries);
            Ok(())
        });
    }
}

/// Compiles a library's code and runs it to collect its functions: its name and the library.
fn create_library(engine: &Engine, code: &[u8]) -> Result<(String, Library), CommandError> {
    let name = library_name(code)?;
    let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
    let mut source = b"--".to_vec();
    source.extend_from_slice(&code[2..end]);
    source.extend_from_slice(&code[end..]);
    let chunk = engine
        .vm
        .compile("@user_function", &source)
        .map_err(|msg| CommandError::err(format!("Error compiling function: {msg}")))?;
    let mut functions: BTreeMap<String, Function> = BTreeMap::new();
    let mut register = |lua: &Lua, args: Variadic<Value>| -> mlua::Result<(bool, Value)> {
        match registration(lua, args) {
            Ok((fname, f)) => {
                let fname = String::from_utf8_lossy(&fname).into_owned();
                if functions.contains_key(&fname) {
                    return Ok((
                        false,
                        Value::String(
                            lua.create_string("ERR Function already exists in the library")?,
                        ),
                    ));
                }
                functions.insert(fname, f);
                Ok((true, Value::Nil))
            }
            Err(msg) => Ok((false, Value::String(lua.create_string(msg)?))),
        }
    };
    let loaded = engine.vm.load_library(&chunk, &mut register);
    if let Err(msg) = loaded {
        return Err(CommandError::err(format!(
            "Error registering functions: {msg}"
        )));
    }
    if functions.is_empty() {
        return Err(CommandError::err("No functions registered"));
    }
    Ok((
        name,
        Library {
            code: code.to_vec(),
            functions,
        },
    ))
}

/// FUNCTION DUMP: every library's code, each after a `FUNCTION2` opcode as in an RDB file,
/// then the RDB version and the CRC64 of it all (the footer of a key's DUMP).
pub(super) fn function_dump(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    use common::rdb::{RDB_VERSION, crc64, opcode, writer};
    let compress = ctx
        .server
        .config()
        .get_bool("rdbcompression")
        .unwrap_or(true);
    let mut out = Vec::new();
    for code in ctx.server.scripting.published_libraries().codes {
        out.push(opcode::FUNCTION2);
        writer::write_string(&mut out, &code, compress);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    ctx.reply.bulk(&out);
    Ok(())
}

/// How FUNCTION RESTORE treats the libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RestorePolicy {
    /// Fail when a library of the payload is already loaded (the default).
    Append,
    /// Libraries of the payload replace loaded ones of the same name.
    Replace,
    /// Every loaded library goes first.
    Flush,
}

/// The library codes of a FUNCTION DUMP payload (footer already verified), in order. The
/// pre-release `FUNCTION` record (name, engine, optional description, code) becomes the
/// `#!<engine> name=<name>` form.
fn payload_libraries(payload: &[u8]) -> Result<Vec<Vec<u8>>, CommandError> {
    use common::rdb::{opcode, reader::Reader};
    let body = &payload[..payload.len().saturating_sub(10)];
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        let ty = r
            .read_u8()
            .map_err(|_| CommandError::err("can not read data type"))?;
        let failed = |what: &str| CommandError::err(format!("Failed loading {what}"));
        match ty {
            opcode::FUNCTION2 => {
                let code = r.read_string().map_err(|_| failed("library payload"))?;
                codes.push(code.into_owned());
            }
            opcode::FUNCTION_PRE_GA => {
                let name = r.read_string().map_err(|_| failed("library name"))?;
                let engine = r.read_string().map_err(|_| failed("engine name"))?;
                let has_description = r
                    .read_len()
                    .map_err(|_| failed("library description indicator"))?;
                if has_description != 0 {
                    r.read_string().map_err(|_| failed("library description"))?;
                }
                let blob = r.read_string().map_err(|_| failed("library blob"))?;
                let mut code = b"#!".to_vec();
                code.extend_from_slice(&engine);
                code.extend_from_slice(b" name=");
                code.extend_from_slice(&name);
                code.push(b'\n');
                code.extend_from_slice(&blob);
                codes.push(code);
            }
            _ => return Err(CommandError::err("given type is not a function")),
        }
    }
    Ok(codes)
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
pub(super) fn function_restore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let payload = ctx.args.next_bytes()?;
    let policy = match ctx.args.next_opt() {
        _ if ctx.args.remaining() > 0 => {
            let sub = String::from_utf8_lossy(ctx.args.get(1).unwrap_or_default()).into_owned();
            return Err(CommandError::err(format!(
                "unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP."
            )));
        }
        None => RestorePolicy::Append,
        Some(p) if is(p, "append") => RestorePolicy::Append,
        Some(p) if is(p, "replace") => RestorePolicy::Replace,
        Some(p) if is(p, "flush") => RestorePolicy::Flush,
        Some(_) => {
            return Err(CommandError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    };
    if !common::rdb::reader::verify_dump_payload(payload, true) {
        return Err(CommandError::err(
            "DUMP payload version or checksum are wrong",
        ));
    }
    let codes = payload_libraries(payload)?;
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        // The payload's libraries first make a set of their own, with the same checks as loading.
        let mut restored = Libraries::default();
        for code in &codes {
            let (name, library) = create_library(engine, code)?;
            if restored.libraries.contains_key(&name) {
                return Err(CommandError::err(format!(
                    "Library '{name}' already exists"
                )));
            }
            if let Some(taken) = restored.taken_function(&library) {
                return Err(CommandError::err(format!(
                    "Function {taken} already exists"
                )));
            }
            restored.insert(name, library);
        }
        if policy == RestorePolicy::Flush {
            engine.libraries = restored;
        } else {
            engine
                .libraries
                .join(restored, policy == RestorePolicy::Replace)?;
        }
        server.scripting.publish_libraries(&engine.libraries);
        ctx.dirty(1);
        ctx.reply.ok();
        Ok(())
    })
}

pub(super) fn function_delete(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = String::from_utf8_lossy(ctx.args.next_bytes()?).into_owned();
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        if engine.libraries.remove(&name).is_none() {
            return Err(CommandError::err("Library not found"));
        }
        server.scripting.publish_libraries(&engine.libraries);
        ctx.dirty(1);
        ctx.reply.ok();
        Ok(())
    })
}

pub(super) fn function_flush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 1 {
        return Err(CommandError::err(
            "unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        ));
    }
    match ctx.args.next_opt() {
        None => {}
        Some(mode) if is(mode, "sync") || is(mode, "async") => {}
        Some(_) => {
            return Err(CommandError::err(
                "FUNCTION FLUSH only supports SYNC|ASYNC option",
            ));
        }
    }
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        engine.libraries = Libraries::default();
        engine.vm.release_dropped();
        server.scripting.publish_libraries(&engine.libraries);
        Ok(())
    })?;
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

pub(super) fn function_list(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut pattern: Option<&[u8]> = None;
    let mut with_code = false;
    while let Some(arg) = ctx.args.next_opt() {
        if is(arg, "withcode") && !with_code {
            with_code = true;
        } else if is(arg, "libraryname") && pattern.is_none() {
            match ctx.args.next_opt() {
                Some(p) => pattern = Some(p),
                None => return Err(CommandError::err("library name argument was not given")),
            }
        } else {
            return Err(CommandError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(arg)
            )));
        }
    }
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        let libraries = &engine.libraries;
        let shown: Vec<(&String, &Library)> = libraries
            .libraries
            .iter()
            .filter(|(name, _)| {
                pattern.is_none_or(|p| common::glob::glob_match(p, name.as_bytes(), false))
            })
            .collect();
        ctx.reply.array(shown.len());
        for (name, lib) in shown {
            ctx.reply.map(if with_code { 4 } else { 3 });
            ctx.reply.bulk(b"library_name");
            ctx.reply.bulk(name.as_bytes());
            ctx.reply.bulk(b"engine");
            ctx.reply.bulk(b"LUA");
            ctx.reply.bulk(b"functions");
            ctx.reply.array(lib.functions.len());
            for (fname, f) in &lib.functions {
                ctx.reply.map(3);
                ctx.reply.bulk(b"name");
                ctx.reply.bulk(fname.as_bytes());
                ctx.reply.bulk(b"description");
                match &f.description {
                    Some(d) => ctx.reply.bulk(d),
                    None => ctx.reply.null(),
                }
                ctx.reply.bulk(b"flags");
                let names = f.flags.names();
                ctx.reply.set(names.len());
                // Status replies, as Redis's functionListReplyFlags sends them.
                for n in names {
                    ctx.reply.simple(n.as_bytes());
                }
            }
            if with_code {
                ctx.reply.bulk(b"library_code");
                ctx.reply.bulk(&lib.code);
            }
        }
        Ok(())
    })
}

pub(super) fn function_stats(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let published = ctx.server.scripting.published_libraries();
    let (libs, funcs) = (published.codes.len(), published.functions);
    ctx.reply.map(2);
    ctx.reply.bulk(b"running_script");
    match ctx
        .server
        .scripting
        .busy
        .running()
        .and_then(|r| r.function.map(|f| (r.started, f)))
    {
        Some((started, command)) => {
            let command = command.args();
            ctx.reply.map(3);
            ctx.reply.bulk(b"name");
            ctx.reply
                .bulk(String::from_utf8_lossy(command.get(1).unwrap_or_default()).as_bytes());
            ctx.reply.bulk(b"command");
            ctx.reply.array(command.len());
            for arg in command.iter() {
                ctx.reply.bulk(arg);
            }
            ctx.reply.bulk(b"duration_ms");
            ctx.reply.integer(started.elapsed().as_millis() as i64);
        }
        None => ctx.reply.null(),
    }
    ctx.reply.bulk(b"engines");
    ctx.reply.map(1);
    ctx.reply.bulk(b"LUA");
    ctx.reply.map(2);
    ctx.reply.bulk(b"libraries_count");
    ctx.reply.integer(libs as i64);
    ctx.reply.bulk(b"functions_count");
    ctx.reply.integer(funcs as i64);
    Ok(())
}

pub(super) fn function_kill(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    super::eval::kill(ctx, false)
}

pub(super) fn fcall(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    call(ctx, Access::ReadWrite)
}

pub(super) fn fcall_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    call(ctx, Access::ReadOnly)
}

fn call(ctx: &mut CommandContext<'_>, access: Access) -> Result<(), CommandError> {
    // Shown before the commands the function runs, as for EVAL.
    crate::dispatch::feed_monitors(ctx.server, ctx.client, ctx.command.spec, ctx.args.list());
    let name = String::from_utf8_lossy(ctx.args.next_bytes()?);
    let server = ctx.server;
    server.scripting.with_engine(|engine| {
        let engine = &*engine;
        let lowered: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name.to_ascii_lowercase().into()
        } else {
            (*name).into()
        };
        let Some((lib_name, fn_name)) = engine.libraries.owner.get(&*lowered) else {
            return Err(CommandError::err("Function not found"));
        };
        let split = keys_and_args(ctx).map_err(|e| match e {
            CommandError::NotInteger => CommandError::err("Bad number of keys provided"),
            other => other,
        })?;
        let Some(function) = engine
            .libraries
            .libraries
            .get(lib_name)
            .and_then(|lib| lib.functions.get(fn_name))
        else {
            return Err(CommandError::err("Function not found"));
        };
        if !function.flags.no_writes && access == Access::ReadOnly {
            return Err(CommandError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        super::eval::refuse_before_running(ctx, function.flags)?;
        let flags = function.flags;
        let read_only = access == Access::ReadOnly || function.flags.no_writes;
        engine.count_run();
        // FUNCTION STATS shows the command line while the function runs.
        let command = ctx.args.list();
        execute(
            ctx,
            engine,
            &function.callback,
            Invocation {
                keys: split.keys(),
                args: split.argv(),
                passing: Passing::Parameters,
            },
            super::eval::RunMode {
                read_only,
                allow_oom: flags.allow_oom,
            },
            &name,
            Some(command),
        )
    })
}

pub(super) fn function_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    crate::commands::reply_help(
        ctx,
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    const LIB: &str =
        "#!lua name=mylib\nredis.register_function('myfunc', function() return 'hello' end)";

    fn dump(c: &mut TestClient) -> Vec<u8> {
        let reply = c.run(&["FUNCTION", "DUMP"]);
        let header = reply.iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
        reply[header..reply.len() - 2].to_vec()
    }

    #[test]
    fn function_dump_and_restore_follow_their_policies() {
        let mut c = TestClient::new();
        // No library: the payload is only the footer.
        assert_eq!(dump(&mut c).len(), 10);
        assert_eq!(c.text(&["FUNCTION", "LOAD", LIB]), "$5\r\nmylib\r\n");
        let payload = dump(&mut c);
        assert_eq!(payload[0], common::rdb::opcode::FUNCTION2);
        let restore = |c: &mut TestClient, policy: &[&[u8]]| {
            let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
            args.extend_from_slice(policy);
            String::from_utf8_lossy(&c.run_bytes(&args)).into_owned()
        };
        assert_eq!(
            restore(&mut c, &[]),
            "-ERR Library mylib already exists\r\n"
        );
        assert_eq!(restore(&mut c, &[b"replace"]), "+OK\r\n");
        assert_eq!(c.text(&["FUNCTION", "DELETE", "mylib"]), "+OK\r\n");
        assert_eq!(restore(&mut c, &[b"APPEND"]), "+OK\r\n");
        assert_eq!(restore(&mut c, &[b"FLUSH"]), "+OK\r\n");
        assert_eq!(c.text(&["FCALL", "myfunc", "0"]), "$5\r\nhello\r\n");
        assert_eq!(
            restore(&mut c, &[b"bad"]),
            "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n"
        );
        assert_eq!(
            c.text(&["FUNCTION", "RESTORE", "garbage-payload"]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        // A well-formed payload that holds something else than functions.
        let mut other = vec![0u8, 1, b'x'];
        other.extend_from_slice(&common::rdb::RDB_VERSION.to_le_bytes());
        let crc = common::rdb::crc64::crc64(&other);
        other.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            String::from_utf8_lossy(&c.run_bytes(&[b"FUNCTION", b"RESTORE", &other])),
            "-ERR given type is not a function\r\n"
        );
    }

    #[test]
    fn acl_check_cmd_answers_for_the_scripts_user() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["EVAL", "return redis.acl_check_cmd('set','xx',1)", "0"]),
            ":1\r\n"
        );
        assert!(
            c.text(&["EVAL", "return redis.acl_check_cmd('nosuch')", "0"])
                .starts_with("-ERR Invalid command passed to redis.acl_check_cmd() script: ")
        );
    }
    #[test]
    fn more_functions_than_the_vm_has_reference_slots_stay_callable() {
        let mut c = TestClient::new();
        for i in 0..8200 {
            let code = format!(
                "#!lua name=lib{i}\nredis.register_function('f{i}', function() return {i} end)"
            );
            assert_eq!(
                c.text(&["FUNCTION", "LOAD", &code]),
                format!("${}\r\nlib{i}\r\n", format!("lib{i}").len())
            );
        }
        assert_eq!(c.text(&["FCALL", "f8199", "0"]), ":8199\r\n");
    }
}
