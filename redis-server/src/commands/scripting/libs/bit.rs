//! `bit`: LuaBitOp's 32-bit operations (tobit, tohex, bnot, band, bor, bxor, shifts, rotates,
//! bswap), with its rule for turning a Lua number into a 32-bit integer.

use mlua::{Lua, Table, Value, Variadic};

use super::check_number;

/// LuaBitOp's normalisation: round to the nearest integer and keep the low 32 bits.
fn tobit(n: f64) -> i32 {
    // Adding 2^52 + 2^51 puts the integer part in the low mantissa bits.
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn arg(lua: &Lua, args: &Variadic<Value>, i: usize) -> mlua::Result<i32> {
    check_number(lua, args, i).map(tobit)
}

pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "tobit",
        lua.create_function(|lua, a: Variadic<Value>| arg(lua, &a, 0))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(|lua, a: Variadic<Value>| Ok(!arg(lua, &a, 0)?))?,
    )?;
    let fold = |op: fn(i32, i32) -> i32| {
        move |lua: &Lua, a: Variadic<Value>| {
            let mut acc = arg(lua, &a, 0)?;
            for i in 1..a.len() {
                acc = op(acc, arg(lua, &a, i)?);
            }
            Ok(acc)
        }
    };
    t.raw_set("band", lua.create_function(fold(|a, b| a & b))?)?;
    t.raw_set("bor", lua.create_function(fold(|a, b| a | b))?)?;
    t.raw_set("bxor", lua.create_function(fold(|a, b| a ^ b))?)?;
    let shift = |op: fn(i32, u32) -> i32| {
        move |lua: &Lua, a: Variadic<Value>| {
            Ok(op(arg(lua, &a, 0)?, (arg(lua, &a, 1)? & 31) as u32))
        }
    };
    t.raw_set(
        "lshift",
        lua.create_function(shift(|a, n| ((a as u32) << n) as i32))?,
    )?;
    t.raw_set(
        "rshift",
        lua.create_function(shift(|a, n| ((a as u32) >> n) as i32))?,
    )?;
    t.raw_set("arshift", lua.create_function(shift(|a, n| a >> n))?)?;
    t.raw_set(
        "rol",
        lua.create_function(shift(|a, n| (a as u32).rotate_left(n) as i32))?,
    )?;
    t.raw_set(
        "ror",
        lua.create_function(shift(|a, n| (a as u32).rotate_right(n) as i32))?,
    )?;
    t.raw_set(
        "bswap",
        lua.create_function(|lua, a: Variadic<Value>| Ok(arg(lua, &a, 0)?.swap_bytes()))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|lua, a: Variadic<Value>| {
            let x = arg(lua, &a, 0)?;
            let n = if a.len() > 1 { arg(lua, &a, 1)? } else { 8 };
            let upper = n < 0;
            let digits = n.unsigned_abs().min(8) as usize;
            let text = if upper {
                format!("{:08X}", x as u32)
            } else {
                format!("{:08x}", x as u32)
            };
            Ok(text[8 - digits..].to_owned())
        })?,
    )?;
    Ok(t)
}
