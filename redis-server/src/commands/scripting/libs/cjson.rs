//! `cjson`: JSON encoding and decoding of Lua values, as lua-cjson does it (tables with keys
//! 1..n are arrays, other tables objects; `cjson.null` for JSON null; `/` escaped).

use std::cell::Cell;

use mlua::{LightUserData, Lua, Table, Value};

thread_local! {
    static ENCODE_MAX_DEPTH: Cell<usize> = const { Cell::new(1000) };
    static DECODE_MAX_DEPTH: Cell<usize> = const { Cell::new(1000) };
    static ENCODE_INVALID_NUMBERS: Cell<bool> = const { Cell::new(false) };
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("null", null())?;
    t.raw_set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode(&v, &mut out, 1).map_err(|e| located(lua, e))?;
            lua.create_string(out)
        })?,
    )?;
    t.raw_set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut d = Decoder {
                lua,
                s: &bytes,
                pos: 0,
            };
            let decoded = d.value(1).and_then(|v| {
                d.ws();
                if d.pos == d.s.len() {
                    Ok(v)
                } else {
                    Err(d.error("the end"))
                }
            });
            decoded.map_err(|e| located(lua, e))
        })?,
    )?;
    t.raw_set(
        "encode_max_depth",
        lua.create_function(|_, n: Option<usize>| {
            if let Some(n) = n {
                ENCODE_MAX_DEPTH.with(|c| c.set(n));
            }
            Ok(ENCODE_MAX_DEPTH.with(Cell::get))
        })?,
    )?;
    t.raw_set(
        "decode_max_depth",
        lua.create_function(|_, n: Option<usize>| {
            if let Some(n) = n {
                DECODE_MAX_DEPTH.with(|c| c.set(n));
            }
            Ok(DECODE_MAX_DEPTH.with(Cell::get))
        })?,
    )?;
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(|_, v: Option<bool>| {
            if let Some(v) = v {
                ENCODE_INVALID_NUMBERS.with(|c| c.set(v));
            }
            Ok(ENCODE_INVALID_NUMBERS.with(Cell::get))
        })?,
    )?;
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(|_, v: Option<bool>| Ok(v.unwrap_or(true)))?,
    )?;
    Ok(t)
}

/// A library error gets the caller's position, as `luaL_error` gives it.
fn located(lua: &Lua, e: mlua::Error) -> mlua::Error {
    match e {
        mlua::Error::RuntimeError(msg) => super::error(lua, msg),
        other => other,
    }
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

fn encode_number(n: f64, out: &mut Vec<u8>) -> mlua::Result<()> {
    if !n.is_finite() {
        if !ENCODE_INVALID_NUMBERS.with(Cell::get) {
            return Err(mlua::Error::runtime(
                "Cannot serialise number: must not be NaN or Inf",
            ));
        }
        out.extend_from_slice(if n.is_nan() {
            b"nan"
        } else if n > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return Ok(());
    }
    out.extend_from_slice(crate::commands::scripting::lua::lua_number_text(n).as_bytes());
    Ok(())
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: usize) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => encode_number(*n as f64, out)?,
        Value::Number(n) => encode_number(*n, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth > ENCODE_MAX_DEPTH.with(Cell::get) {
                return Err(mlua::Error::runtime(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            let mut max = 0usize;
            let mut count = 0usize;
            let mut is_array = true;
            for pair in t.pairs::<Value, Value>() {
                let (k, _) = pair?;
                count += 1;
                match k {
                    Value::Integer(i) if i >= 1 => max = max.max(i as usize),
                    Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
                    _ => is_array = false,
                }
            }
            if is_array && max > count * 2 && max > 10 {
                return Err(mlua::Error::runtime(
                    "Cannot serialise table: excessively sparse array",
                ));
            }
            if is_array && count > 0 {
                out.push(b'[');
                for i in 1..=max {
                    if i > 1 {
                        out.push(b',');
                    }
                    encode(&t.raw_get::<Value>(i)?, out, depth + 1)?;
                }
                out.push(b']');
            } else if is_array {
                out.extend_from_slice(b"{}");
            } else {
                out.push(b'{');
                let mut first = true;
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    match &k {
                        Value::String(s) => encode_string(&s.as_bytes(), out),
                        Value::Integer(n) => {
                            let mut text = Vec::new();
                            encode_number(*n as f64, &mut text)?;
                            encode_string(&text, out);
                        }
                        Value::Number(n) => {
                            let mut text = Vec::new();
                            encode_number(*n, &mut text)?;
                            encode_string(&text, out);
                        }
                        _ => {
                            return Err(mlua::Error::runtime(
                                "Cannot serialise table: table key must be a number or string",
                            ));
                        }
                    }
                    out.push(b':');
                    encode(&v, out, depth + 1)?;
                }
                out.push(b'}');
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            )));
        }
    }
    Ok(())
}

struct Decoder<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    /// lua-cjson's parse error, naming the token found where `expected` was wanted.
    fn error(&self, expected: &str) -> mlua::Error {
        let mut at = self.pos;
        while self
            .s
            .get(at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            at += 1;
        }
        let found = match self.s.get(at) {
            None => "T_END",
            Some(b'{') => "T_OBJ_BEGIN",
            Some(b'}') => "T_OBJ_END",
            Some(b'[') => "T_ARR_BEGIN",
            Some(b']') => "T_ARR_END",
            Some(b'"') => "T_STRING",
            Some(b':') => "T_COLON",
            Some(b',') => "T_COMMA",
            Some(b'-' | b'0'..=b'9') if at != self.pos || expected != "value" => "T_NUMBER",
            Some(b't' | b'f')
                if self.s[at..].starts_with(b"true") || self.s[at..].starts_with(b"false") =>
            {
                "T_BOOLEAN"
            }
            Some(b'n') if self.s[at..].starts_with(b"null") => "T_NULL",
            _ => "invalid token",
        };
        mlua::Error::runtime(format!(
            "Expected {expected} but found {found} at character {}",
            at + 1
        ))
    }

    fn ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> mlua::Result<Value> {
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return Err(self.error("value"));
        };
        match c {
            b'{' | b'[' => {
                if depth > DECODE_MAX_DEPTH.with(Cell::get) {
                    return Err(mlua::Error::runtime(format!(
                        "Found too many nested data structures ({depth}) at character {}",
                        self.pos + 1
                    )));
                }
                self.pos += 1;
                let t = self.lua.create_table()?;
                let close = if c == b'{' { b'}' } else { b']' };
                self.ws();
                if self.s.get(self.pos) == Some(&close) {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                let mut i = 1;
                loop {
                    if c == b'{' {
                        self.ws();
                        if self.s.get(self.pos) != Some(&b'"') {
                            return Err(self.error("object key string"));
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.s.get(self.pos) != Some(&b':') {
                            return Err(self.error("colon"));
                        }
                        self.pos += 1;
                        let v = self.value(depth + 1)?;
                        t.raw_set(k, v)?;
                    } else {
                        let v = self.value(depth + 1)?;
                        t.raw_set(i, v)?;
                        i += 1;
                    }
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(&b) if b == close => {
                            self.pos += 1;
                            return Ok(Value::Table(t));
                        }
                        _ if c == b'{' => return Err(self.error("comma or object end")),
                        _ => return Err(self.error("comma or array end")),
                    }
                }
            }
            b'"' => Ok(Value::String(self.string()?)),
            b't' if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            b'f' if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            b'n' if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            _ => {
                let start = self.pos;
                while self.s.get(self.pos).is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.pos += 1;
                }
                std::str::from_utf8(&self.s[start..self.pos])
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .map(Value::Number)
                    .ok_or_else(|| {
                        self.pos = start;
                        self.error("value")
                    })
            }
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> mlua::Result<u32> {
        let start = self.pos;
        let hex = self.s.get(self.pos..self.pos + 4).unwrap_or_default();
        let code = std::str::from_utf8(hex)
            .ok()
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.bad_escape(start))?;
        self.pos += 4;
        Ok(code)
    }

    fn bad_escape(&self, at: usize) -> mlua::Error {
        mlua::Error::runtime(format!(
            "Expected value but found invalid unicode escape code at character {}",
            at + 1
        ))
    }

    fn string(&mut self) -> mlua::Result<mlua::String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.error("string end"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.error("escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'u' => {
                            let start = self.pos - 2;
                            let mut code = self.hex4()?;
                            if (0xd800..0xdc00).contains(&code)
                                && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err(self.bad_escape(start));
                                }
                                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                            }
                            let Some(ch) = char::from_u32(code) else {
                                return Err(self.bad_escape(start));
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                b => out.push(b),
            }
        }
        self.lua.create_string(out)
    }
}
