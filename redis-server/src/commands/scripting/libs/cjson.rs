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
                expected: "value",
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
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            if let Some(n) = depth_arg(lua, &args)? {
                ENCODE_MAX_DEPTH.with(|c| c.set(n));
            }
            Ok(ENCODE_MAX_DEPTH.with(Cell::get))
        })?,
    )?;
    t.raw_set(
        "decode_max_depth",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            if let Some(n) = depth_arg(lua, &args)? {
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

/// The optional depth of `encode_max_depth` / `decode_max_depth`: 1 to 2^31-1.
fn depth_arg(lua: &Lua, args: &[Value]) -> mlua::Result<Option<usize>> {
    match args.first() {
        None | Some(Value::Nil) => Ok(None),
        Some(_) => {
            let n = super::check_integer(lua, args, 0)?;
            if (1..=i64::from(i32::MAX)).contains(&n) {
                Ok(Some(n as usize))
            } else {
                Err(super::arg_error(
                    lua,
                    1,
                    "expected integer between 1 and 2147483647",
                ))
            }
        }
    }
}

/// Lua's name of a value's type.
fn lua_type_name(v: &Value) -> &'static str {
    super::type_name(Some(v))
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
                        other => {
                            return Err(mlua::Error::runtime(format!(
                                "Cannot serialise {}: table key must be a number or string",
                                lua_type_name(other)
                            )));
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
                lua_type_name(other)
            )));
        }
    }
    Ok(())
}

struct Decoder<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    /// What the string being read stands for, for its errors.
    expected: &'static str,
}

/// lua-cjson's test for numbers JSON does not allow (a leading `+` or zero, hex, `inf`,
/// `nan`), which it still decodes.
fn looks_like_invalid_number(s: &[u8]) -> bool {
    let p = match s.first() {
        Some(b'+') => return true,
        Some(b'-') => &s[1..],
        _ => s,
    };
    match p.first() {
        Some(b'0') => matches!(p.get(1), Some(b'x' | b'X' | b'0'..=b'9')),
        Some(c) if *c <= b'9' => false,
        _ => {
            let head = p.get(..3).unwrap_or_default();
            head.eq_ignore_ascii_case(b"inf") || head.eq_ignore_ascii_case(b"nan")
        }
    }
}

/// The number `strtod` reads at the start of `s` and how many bytes it used; `None` when it
/// reads nothing.
fn strtod_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let (negative, mut i) = match s.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let sign = |n: f64| if negative { -n } else { n };
    let rest = &s[i..];
    let starts = |word: &[u8]| {
        rest.get(..word.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(word))
    };
    if starts(b"infinity") {
        return Some((sign(f64::INFINITY), i + 8));
    }
    if starts(b"inf") {
        return Some((sign(f64::INFINITY), i + 3));
    }
    if starts(b"nan") {
        return Some((sign(f64::NAN), i + 3));
    }
    let digits = |from: usize, hex: bool| {
        s[from..]
            .iter()
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count()
    };
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' && rest[2].is_ascii_hexdigit()
    {
        i += 2;
        let n = digits(i, true);
        let mut value = 0f64;
        for &b in &s[i..i + n] {
            value = value * 16.0 + f64::from(char::from(b).to_digit(16).unwrap_or(0));
        }
        return Some((sign(value), i + n));
    }
    let start = i;
    let int = digits(i, false);
    i += int;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        frac = digits(i + 1, false);
        if int + frac > 0 {
            i += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = digits(j, false);
        if exp > 0 {
            i = j + exp;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).ok()?;
    let n: f64 = text.parse().ok()?;
    Some((sign(n), i))
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
                        let k = self.string("object key string")?;
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
            b'"' => Ok(Value::String(self.string("value")?)),
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
            b'-' | b'0'..=b'9' => self.number(),
            _ if looks_like_invalid_number(&self.s[self.pos..]) => self.number(),
            _ => Err(self.error("value")),
        }
    }

    /// A number as `strtod` reads it (lua-cjson also takes hex, `inf` and `nan`).
    fn number(&mut self) -> mlua::Result<Value> {
        match strtod_prefix(&self.s[self.pos..]) {
            Some((n, used)) => {
                self.pos += used;
                Ok(Value::Number(n))
            }
            None => Err(self.token_error("value", "invalid number", self.pos)),
        }
    }

    /// `Expected <expected> but found <found> at character <at + 1>`.
    fn token_error(&self, expected: &str, found: &str, at: usize) -> mlua::Error {
        mlua::Error::runtime(format!(
            "Expected {expected} but found {found} at character {}",
            at + 1
        ))
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
        self.token_error(self.expected, "invalid unicode escape code", at)
    }

    /// A string token where `expected` was wanted (for the error's text).
    fn string(&mut self, expected: &'static str) -> mlua::Result<mlua::String> {
        self.expected = expected;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.token_error(expected, "unexpected end of string", self.pos));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.token_error(
                            expected,
                            "unexpected end of string",
                            self.pos,
                        ));
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
                        b'"' | b'\\' | b'/' => out.push(e),
                        _ => {
                            return Err(self.token_error(
                                expected,
                                "invalid escape code",
                                self.pos - 2,
                            ));
                        }
                    }
                }
                b => out.push(b),
            }
        }
        self.lua.create_string(out)
    }
}
