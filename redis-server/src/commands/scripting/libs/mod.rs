//! The libraries Redis loads into its Lua VM besides Lua's own: `cjson`, `bit`, `struct`,
//! `cmsgpack`; and the argument checks and error texts of Lua's auxiliary library
//! (`luaL_check*`, `luaL_error`, `luaL_argerror`) they share.

mod bit;
mod cjson;
mod cmsgpack;
mod structs;

use mlua::{Lua, Table, Value};

/// Adds every library to `globals`.
pub(super) fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("bit", bit::open(lua)?)?;
    globals.raw_set("cjson", cjson::open(lua)?)?;
    globals.raw_set("struct", structs::open(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::open(lua)?)?;
    Ok(())
}

/// How many stack slots a C function may use in Lua 5.1 (`LUAI_MAXCSTACK`): the bound on
/// results and nesting that `luaL_checkstack` enforces.
const MAX_C_STACK: usize = 8000;

/// Upper bound of any string a library builds (`proto-max-bulk-len`'s default): a table
/// that contains itself many times would otherwise make the output grow exponentially.
const MAX_OUTPUT: usize = 512 * 1024 * 1024;

/// `luaL_where(L, 1)`: `chunk:line: ` of the Lua code that called the library function, empty
/// when a C function (such as `pcall`) called it.
fn position(lua: &Lua) -> String {
    let Some(frame) = lua.inspect_stack(1) else {
        return String::new();
    };
    let line = frame.curr_line();
    if line <= 0 {
        return String::new();
    }
    match frame.source().short_src {
        Some(src) => format!("{src}:{line}: "),
        None => String::new(),
    }
}

/// `luaL_error`: the message with the caller's position.
fn error(lua: &Lua, msg: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}{msg}", position(lua)))
}

/// The name the running library function was called by, as Lua's `getinfo` finds it.
fn called_name(lua: &Lua) -> String {
    lua.inspect_stack(0)
        .and_then(|frame| frame.names().name.map(|n| n.into_owned()))
        .unwrap_or_else(|| "?".to_owned())
}

/// `luaL_argerror`: `bad argument #n to 'name' (msg)`.
fn arg_error(lua: &Lua, n: usize, msg: impl std::fmt::Display) -> mlua::Error {
    error(
        lua,
        format!("bad argument #{n} to '{}' ({msg})", called_name(lua)),
    )
}

/// Lua's own type name of a value (`luaL_typename`).
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

fn type_error(lua: &Lua, args: &[Value], i: usize, expected: &str) -> mlua::Error {
    arg_error(
        lua,
        i + 1,
        format!("{expected} expected, got {}", type_name(args.get(i))),
    )
}

/// A number, or a string Lua can read as one (`lua_tonumber`).
fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(n)) => Some(*n),
        Some(Value::Integer(n)) => Some(*n as f64),
        Some(v @ Value::String(_)) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `luaL_checknumber` of argument `i` (0-based).
fn check_number(lua: &Lua, args: &[Value], i: usize) -> mlua::Result<f64> {
    to_number(lua, args.get(i)).ok_or_else(|| type_error(lua, args, i, "number"))
}

/// `luaL_checkinteger`: the number truncated toward zero.
fn check_integer(lua: &Lua, args: &[Value], i: usize) -> mlua::Result<i64> {
    check_number(lua, args, i).map(|n| n as i64)
}

/// `luaL_optinteger`: `default` when the argument is absent or nil.
fn opt_integer(lua: &Lua, args: &[Value], i: usize, default: i64) -> mlua::Result<i64> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, i),
    }
}

/// `luaL_checklstring`: a string, or a number in Lua's text.
fn check_string(lua: &Lua, args: &[Value], i: usize) -> mlua::Result<mlua::String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Number(_) | Value::Integer(_))) => lua
            .coerce_string(v.clone())?
            .ok_or_else(|| type_error(lua, args, i, "string")),
        _ => Err(type_error(lua, args, i, "string")),
    }
}
