//! The libraries Redis loads into its Lua VM besides Lua's own: `cjson`, `bit`.

mod bit;
mod cjson;

use mlua::{Lua, Table};

/// Adds every library to `globals`.
pub(super) fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("bit", bit::open(lua)?)?;
    globals.raw_set("cjson", cjson::open(lua)?)?;
    Ok(())
}
