//! `cmsgpack`: MessagePack as lua-cmsgpack 0.4 writes and reads it (`pack`, `unpack`,
//! `unpack_one`, `unpack_limit`). Tables whose keys are exactly 1..n are arrays, other tables
//! maps; tables nested 16 deep are written as nil (so a table containing itself packs);
//! numbers that are whole and fit 64 bits are integers, others a float when no precision is
//! lost, else a double. Decoding is iterative and bounded by Lua's C-stack limit, as the
//! library's own `luaL_checkstack` calls bound it.

use mlua::{Lua, Table, Value, Variadic};

use super::{MAX_C_STACK, MAX_OUTPUT, arg_error, check_integer, check_string, error, opt_integer};

/// Tables nested this deep are packed as nil.
const MAX_NESTING: usize = 16;

const TOO_MANY_RESULTS: &str =
    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let s = check_string(lua, &args, 0)?;
            unpack(lua, &s.as_bytes(), 0, 0)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let offset = opt_integer(lua, &args, 1, 0)?;
            let s = check_string(lua, &args, 0)?;
            unpack(lua, &s.as_bytes(), 1, offset)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let limit = check_integer(lua, &args, 1)?;
            let offset = opt_integer(lua, &args, 2, 0)?;
            let s = check_string(lua, &args, 0)?;
            unpack(lua, &s.as_bytes(), limit, offset)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    if args.is_empty() {
        return Err(arg_error(lua, 0, "MessagePack pack needs input."));
    }
    // The library first makes room for a copy of every argument on Lua's C stack.
    if args.len() * 2 > MAX_C_STACK {
        return Err(arg_error(
            lua,
            0,
            "Too many arguments for MessagePack pack.",
        ));
    }
    let mut out = Vec::new();
    for v in args {
        encode(v, &mut out, 0)?;
    }
    lua.create_string(out)
}

fn too_large() -> mlua::Error {
    mlua::Error::RuntimeError("MessagePack pack output too large".into())
}

fn encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    if out.len() > MAX_OUTPUT {
        return Err(too_large());
    }
    match v {
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => encode_int(*n, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => encode_table(t, out, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// A whole number that fits 64 bits is an integer; otherwise a float when that loses
/// nothing, else a double.
fn encode_number(n: f64, out: &mut Vec<u8>) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && (-TWO_63..TWO_63).contains(&n) {
        encode_int(n as i64, out);
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    match n {
        0..=127 => out.push(n as u8),
        128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => out.push(n as i8 as u8),
        -128..=-33 => out.extend_from_slice(&[0xd0, n as i8 as u8]),
        -32768..=-129 => {
            out.push(0xd1);
            out.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            out.push(0xd2);
            out.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_header(n: usize, fix: u8, wide16: u8, wide32: u8, out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// The length when the table's keys are exactly the numbers 1..n (each a whole number that
/// fits a C int), else `None`.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0usize, 0usize);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if n <= 0.0 || n.fract() != 0.0 || n > f64::from(i32::MAX) {
            return Ok(None);
        }
        max = max.max(n as usize);
        count += 1;
    }
    Ok((max == count).then_some(count))
}

fn encode_table(t: &Table, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    if let Some(len) = array_len(t)? {
        encode_header(len, 0x90, 0xdc, 0xdd, out);
        for i in 1..=len {
            encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
        }
        return Ok(());
    }
    let mut len = 0;
    for pair in t.pairs::<Value, Value>() {
        pair?;
        len += 1;
    }
    encode_header(len, 0x80, 0xde, 0xdf, out);
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        encode(&k, out, level + 1)?;
        encode(&v, out, level + 1)?;
    }
    Ok(())
}

/// `unpack` (limit and offset 0: every value), `unpack_one` (limit 1) and `unpack_limit`:
/// with a limit or an offset, the first result is the offset after the last value read, or
/// -1 at the end of the input.
fn unpack(lua: &Lua, s: &[u8], limit: i64, offset: i64) -> mlua::Result<Variadic<Value>> {
    let len = s.len();
    if offset < 0 || limit < 0 {
        // The library prints the input's length where it means the limit.
        return Err(error(
            lua,
            format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32, len as i32
            ),
        ));
    }
    if offset as u64 > len as u64 {
        return Err(error(
            lua,
            format!(
                "Start offset {} greater than input length {}.",
                offset as i32, len as i32
            ),
        ));
    }
    let all = limit == 0 && offset == 0;
    let limit = if all { i64::from(i32::MAX) } else { limit };
    let mut d = Decoder {
        lua,
        s,
        pos: offset as usize,
        // The one argument left on the stack.
        used: 1,
    };
    let mut out = Vec::new();
    while d.pos < len && (out.len() as i64) < limit {
        let v = d.value()?;
        out.push(v);
        d.used += 1;
    }
    if !all {
        let next = if d.pos == len { -1 } else { d.pos as i64 };
        out.insert(0, Value::Integer(next));
    }
    Ok(Variadic::from_iter(out))
}

/// A container being filled.
enum Open {
    Array {
        t: Table,
        next: usize,
        left: usize,
    },
    Map {
        t: Table,
        key: Option<Value>,
        left: usize,
    },
}

struct Decoder<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    /// The stack slots the C library would hold now (results and open containers): Lua 5.1
    /// caps them at 8000, which bounds both the results and the nesting.
    used: usize,
}

enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

impl<'a> Decoder<'a> {
    fn missing(&self) -> mlua::Error {
        error(self.lua, "Missing bytes in input.")
    }

    fn take(&mut self, n: usize) -> mlua::Result<&'a [u8]> {
        let s = self.s;
        match s.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.missing()),
        }
    }

    fn be(&mut self, n: usize) -> mlua::Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn string(&mut self, len: usize) -> mlua::Result<Item> {
        let bytes = self.take(len)?;
        Ok(Item::Value(Value::String(self.lua.create_string(bytes)?)))
    }

    /// Reads one item's header (and the whole of a scalar). A short input fails the whole
    /// unpack, so nothing needs to be given back.
    fn item(&mut self) -> mlua::Result<Item> {
        if self.used + 1 > MAX_C_STACK {
            return Err(error(self.lua, TOO_MANY_RESULTS));
        }
        let first = self.be(1)? as u8;
        let number = |n: f64| Ok(Item::Value(Value::Number(n)));
        match first {
            0xcc => number(self.be(1)? as f64),
            0xd0 => number(f64::from(self.be(1)? as u8 as i8)),
            0xcd => number(self.be(2)? as f64),
            0xd1 => number(f64::from(self.be(2)? as u16 as i16)),
            0xce => number(self.be(4)? as f64),
            0xd2 => number(f64::from(self.be(4)? as u32 as i32)),
            // Pushed as a signed integer: values past 2^63 come out negative.
            0xcf | 0xd3 => number(self.be(8)? as i64 as f64),
            0xc0 => Ok(Item::Value(Value::Nil)),
            0xc3 => Ok(Item::Value(Value::Boolean(true))),
            0xc2 => Ok(Item::Value(Value::Boolean(false))),
            0xca => number(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => number(f64::from_bits(self.be(8)?)),
            0xd9 => {
                let len = self.be(1)? as usize;
                self.string(len)
            }
            0xda => {
                let len = self.be(2)? as usize;
                self.string(len)
            }
            0xdb => {
                let len = self.be(4)? as usize;
                self.string(len)
            }
            0xdc => Ok(Item::Array(self.be(2)? as usize)),
            0xdd => Ok(Item::Array(self.be(4)? as usize)),
            0xde => Ok(Item::Map(self.be(2)? as usize)),
            0xdf => Ok(Item::Map(self.be(4)? as usize)),
            0x00..=0x7f => number(f64::from(first)),
            0xe0..=0xff => number(f64::from(first as i8)),
            0xa0..=0xbf => self.string(usize::from(first & 0x1f)),
            0x90..=0x9f => Ok(Item::Array(usize::from(first & 0x0f))),
            0x80..=0x8f => Ok(Item::Map(usize::from(first & 0x0f))),
            _ => Err(error(self.lua, "Bad data format in input.")),
        }
    }

    /// Decodes one whole value, containers with an explicit stack.
    fn value(&mut self) -> mlua::Result<Value> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            let mut v = match self.item()? {
                Item::Value(v) => v,
                Item::Array(left) => {
                    let t = self.lua.create_table()?;
                    self.used += 1;
                    if self.used + 1 > MAX_C_STACK {
                        return Err(error(
                            self.lua,
                            "stack overflow (in function mp_decode_to_lua_array)",
                        ));
                    }
                    if left == 0 {
                        self.used -= 1;
                        Value::Table(t)
                    } else {
                        // The index pushed before each element.
                        self.used += 1;
                        open.push(Open::Array { t, next: 1, left });
                        continue;
                    }
                }
                Item::Map(left) => {
                    let t = self.lua.create_table()?;
                    if left == 0 {
                        Value::Table(t)
                    } else {
                        self.used += 1;
                        open.push(Open::Map { t, key: None, left });
                        continue;
                    }
                }
            };
            // Hand the value to the containers it completes.
            loop {
                let Some(mut top) = open.pop() else {
                    return Ok(v);
                };
                let complete = match &mut top {
                    Open::Array { t, next, left } => {
                        t.raw_set(*next, v)?;
                        *next += 1;
                        *left -= 1;
                        *left == 0
                    }
                    Open::Map { t, key, left } => match key.take() {
                        None => {
                            *key = Some(v);
                            self.used += 1;
                            false
                        }
                        Some(k) => {
                            match &k {
                                Value::Nil => {
                                    return Err(mlua::Error::RuntimeError(
                                        "table index is nil".into(),
                                    ));
                                }
                                Value::Number(n) if n.is_nan() => {
                                    return Err(mlua::Error::RuntimeError(
                                        "table index is NaN".into(),
                                    ));
                                }
                                _ => {}
                            }
                            t.raw_set(k, v)?;
                            self.used -= 1;
                            *left -= 1;
                            *left == 0
                        }
                    },
                };
                if !complete {
                    open.push(top);
                    break;
                }
                v = match top {
                    Open::Array { t, .. } => {
                        self.used -= 2;
                        Value::Table(t)
                    }
                    Open::Map { t, .. } => {
                        self.used -= 1;
                        Value::Table(t)
                    }
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn eval(c: &mut TestClient, script: &str) -> Vec<u8> {
        c.run(&["EVAL", script, "0"])
    }

    #[test]
    fn cmsgpack_encodes_as_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            eval(
                &mut c,
                "return cmsgpack.pack(1, 'a', true, nil, {1,2}, {a=1}, 0.5, 0.1, -33, 200, 70000, -3000000000, 2^63)"
            ),
            b"$49\r\n\x01\xa1a\xc3\xc0\x92\x01\x02\x81\xa1a\x01\xca\x3f\x00\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\xd0\xdf\xcc\xc8\xce\x00\x01\x11\x70\xd3\xff\xff\xff\xff\x4d\x2f\xa2\x00\xca\x5f\x00\x00\x00\r\n"
        );
        // A table that contains itself is cut at 16 levels.
        assert_eq!(
            eval(&mut c, "local a = {} a[1] = a return #cmsgpack.pack(a)"),
            b":17\r\n"
        );
    }

    #[test]
    fn cmsgpack_decodes_with_the_librarys_limits_and_errors() {
        let mut c = TestClient::new();
        assert_eq!(
            eval(
                &mut c,
                "return {cmsgpack.unpack(cmsgpack.pack({1,2,{x='y'}}, -5, 'str'))}"
            ),
            b"*3\r\n*3\r\n:1\r\n:2\r\n*0\r\n:-5\r\n$3\r\nstr\r\n"
        );
        assert_eq!(
            eval(&mut c, "return {cmsgpack.unpack_limit('abc', 2, 1)}"),
            b"*3\r\n:-1\r\n:98\r\n:99\r\n"
        );
        assert_eq!(
            eval(&mut c, "return {cmsgpack.unpack_one('abc', 1)}"),
            b"*2\r\n:2\r\n:98\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                "return #{cmsgpack.unpack(string.rep('\\001', 7000))}"
            ),
            b":7000\r\n"
        );
        let errors = [
            ("cmsgpack.unpack('\\193')", "Bad data format in input."),
            (
                "cmsgpack.unpack('\\221\\255\\255\\255\\255')",
                "Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack(string.rep('\\145', 5000))",
                "stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "cmsgpack.unpack_one('abc', -1)",
                "Invalid request to unpack with offset of -1 and limit of 3.",
            ),
            (
                "cmsgpack.unpack_one('abc', 5)",
                "Start offset 5 greater than input length 3.",
            ),
            (
                "cmsgpack.pack()",
                "bad argument #0 to 'pack' (MessagePack pack needs input.)",
            ),
        ];
        for (call, msg) in errors {
            let reply =
                String::from_utf8_lossy(&eval(&mut c, &format!("return {call}"))).into_owned();
            assert!(
                reply.starts_with(&format!("-ERR user_script:1: {msg} script: ")),
                "{call}: {reply}"
            );
        }
        assert!(
            eval(&mut c, "return cmsgpack.unpack('\\129\\192\\001')")
                .starts_with(b"-ERR table index is nil script: ")
        );
    }
}
