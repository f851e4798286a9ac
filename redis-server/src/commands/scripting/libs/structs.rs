//! `struct`: Roberto Ierusalimschy's library for packing and unpacking binary records
//! (`struct.pack`, `struct.unpack`, `struct.size`), with its format language, its default of
//! native (little-endian) order and no alignment, and its error texts.
//!
//! Format: `>` `<` byte order, `![n]` maximum alignment, `x` a zero byte, `b B h H l L T i[n]
//! I[n]` integers (lower case signed), `f d` floats, `c[n]` n chars (`c0`: the whole string
//! when packing, the previous number's length when unpacking), `s` a zero-terminated string.

use mlua::{Lua, Table, Value, Variadic};

use super::{MAX_C_STACK, arg_error, check_number, check_string, error, opt_integer, to_number};

/// The largest integer an `i`/`I` option may declare.
const MAX_INT_SIZE: usize = 32;
/// The default of `!` (alignment of a double on x86-64).
const MAX_ALIGN: usize = 8;

pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?,
    )?;
    t.raw_set(
        "size",
        lua.create_function(|lua, args: Variadic<Value>| size(lua, &args))?,
    )?;
    Ok(t)
}

/// Byte order and maximum alignment, changed by the format as it goes.
struct Header {
    big: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            big: false,
            align: 1,
        }
    }
}

/// A cursor over a format string (which, being a C string, ends at its first zero byte).
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl<'a> Format<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Format {
            fmt: &bytes[..end],
            pos: 0,
        }
    }

    fn next(&mut self) -> Option<u8> {
        let b = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// The number that follows an option, or `default`.
    fn number(&mut self, lua: &Lua, default: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut n: usize = 0;
        while let Some(&d) = self.fmt.get(self.pos).filter(|d| d.is_ascii_digit()) {
            let d = usize::from(d - b'0');
            if n > i32::MAX as usize / 10 || n * 10 > i32::MAX as usize - d {
                return Err(error(lua, "integral size overflow"));
            }
            n = n * 10 + d;
            self.pos += 1;
        }
        Ok(n)
    }

    /// The size of option `opt` (reading its count), 0 for options that take no room.
    fn size(&mut self, lua: &Lua, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(lua, 1)?,
            b'i' | b'I' => {
                let n = self.number(lua, 4)?;
                if n > MAX_INT_SIZE {
                    return Err(error(
                        lua,
                        format!("integral size {n} is larger than limit of {MAX_INT_SIZE}"),
                    ));
                }
                n
            }
            _ => 0,
        })
    }

    /// Options that change the header (`>`, `<`, `!n`, space); anything else is invalid.
    fn control(&mut self, lua: &Lua, opt: u8, h: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.big = true,
            b'<' => h.big = false,
            b'!' => {
                let a = self.number(lua, MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(error(lua, format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                return Err(arg_error(
                    lua,
                    1,
                    format!("invalid format option '{}'", char::from(opt)),
                ));
            }
        }
        Ok(())
    }
}

/// Padding that aligns an item of `size` at offset `len` (chars are never aligned).
fn padding(len: u64, h: &Header, opt: u8, size: usize) -> u64 {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align) as u64;
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8], big: bool) {
    if big {
        out.extend(bytes.iter().rev());
    } else {
        out.extend_from_slice(bytes);
    }
}

/// C's conversion of a double to a 64-bit integer on x86-64: out of range (or NaN) gives the
/// smallest integer.
fn c_i64(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// C's conversion of a non-negative double to an unsigned 64-bit integer on x86-64 (2^64 and
/// beyond give 0).
fn c_u64(n: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n < TWO_63 {
        c_i64(n) as u64
    } else {
        (c_i64(n - TWO_63) as u64) ^ (1 << 63)
    }
}

/// A number to pack. `pack` keeps a nil on the stack after its arguments, so the first
/// missing one is reported as a nil.
fn pack_number(lua: &Lua, args: &[Value], i: usize) -> mlua::Result<f64> {
    if i == args.len() {
        return Err(arg_error(lua, i + 1, "number expected, got nil"));
    }
    check_number(lua, args, i)
}

fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    let fmt = check_string(lua, args, 0)?;
    let fmt = fmt.as_bytes();
    let mut fmt = Format::new(&fmt);
    let mut h = Header::default();
    let mut arg = 1;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next() {
        let size = fmt.size(lua, opt)?;
        let pad = padding(out.len() as u64, &h, opt, size);
        out.resize(out.len() + pad as usize, 0);
        match opt {
            o if is_integer_option(o) => {
                let n = pack_number(lua, args, arg)?;
                arg += 1;
                let value = if n < 0.0 { c_i64(n) as u64 } else { c_u64(n) };
                // Beyond 8 bytes an integer is zero-extended.
                let mut bytes = [0u8; MAX_INT_SIZE];
                bytes[..8].copy_from_slice(&value.to_le_bytes());
                put_bytes(&mut out, &bytes[..size], h.big);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = pack_number(lua, args, arg)? as f32;
                arg += 1;
                put_bytes(&mut out, &n.to_le_bytes(), h.big);
            }
            b'd' => {
                let n = pack_number(lua, args, arg)?;
                arg += 1;
                put_bytes(&mut out, &n.to_le_bytes(), h.big);
            }
            b'c' | b's' => {
                let s = check_string(lua, args, arg)?;
                arg += 1;
                let s = s.as_bytes();
                let take = if size == 0 { s.len() } else { size };
                if s.len() < take {
                    // Redis's struct names the argument after the string.
                    return Err(arg_error(lua, arg + 1, "string too short"));
                }
                if out.len() + take > super::MAX_OUTPUT {
                    return Err(error(lua, "string length overflow"));
                }
                out.extend_from_slice(&s[..take]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(lua, opt, &mut h)?,
        }
    }
    lua.create_string(out)
}

/// Reads an integer of `size` bytes (only the low 8 survive) with sign extension when signed.
fn get_integer(bytes: &[u8], big: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: &u8| l = (l << 8) | u64::from(*b);
    if big {
        bytes.iter().for_each(&mut push);
    } else {
        bytes.iter().rev().for_each(&mut push);
    }
    if !signed {
        return l as f64;
    }
    // The sign bit's position, as the machine's shift takes it (modulo 64).
    let shift = ((bytes.len() as u32) * 8).wrapping_sub(1) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<Variadic<Value>> {
    let fmt = check_string(lua, args, 0)?;
    let data = check_string(lua, args, 1)?;
    let data = data.as_bytes();
    let fmt = fmt.as_bytes();
    let start = opt_integer(lua, args, 2, 1)?;
    // The offset is unsigned: a negative one wraps and is then too far.
    let mut pos = start as u64;
    if pos == 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let ld = data.len() as u64;
    let mut fmt = Format::new(&fmt);
    let mut h = Header::default();
    let mut out: Vec<Value> = Vec::new();
    let fits = |pos: u64, size: u64| size <= ld && pos <= ld - size;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(lua, opt)? as u64;
        pos = pos.wrapping_add(padding(pos, &h, opt, size as usize));
        if !fits(pos, size) {
            return Err(arg_error(lua, 2, "data string too short"));
        }
        if args.len() + out.len() + 2 > MAX_C_STACK {
            return Err(error(lua, "stack overflow (too many results)"));
        }
        let at = pos as usize;
        match opt {
            o if is_integer_option(o) => {
                let bytes = &data[at..at + size as usize];
                out.push(Value::Number(get_integer(
                    bytes,
                    h.big,
                    o.is_ascii_lowercase(),
                )));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[at..at + 4]);
                if h.big {
                    b.reverse();
                }
                out.push(Value::Number(f64::from(f32::from_le_bytes(b))));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[at..at + 8]);
                if h.big {
                    b.reverse();
                }
                out.push(Value::Number(f64::from_le_bytes(b)));
            }
            b'c' => {
                if size == 0 {
                    let previous = out.last().and_then(|v| to_number(lua, Some(v)));
                    let Some(n) = previous else {
                        return Err(error(lua, "format 'c0' needs a previous size"));
                    };
                    out.pop();
                    size = n as u64;
                    if !fits(pos, size) {
                        return Err(arg_error(lua, 2, "data string too short"));
                    }
                }
                let s = lua.create_string(&data[at..at + size as usize])?;
                out.push(Value::String(s));
            }
            b's' => {
                let Some(len) = data[at..].iter().position(|&b| b == 0) else {
                    return Err(error(lua, "unfinished string in data"));
                };
                out.push(Value::String(lua.create_string(&data[at..at + len])?));
                size = len as u64 + 1;
            }
            _ => fmt.control(lua, opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    Ok(Variadic::from_iter(out))
}

fn size(lua: &Lua, args: &[Value]) -> mlua::Result<i64> {
    let fmt = check_string(lua, args, 0)?;
    let fmt = fmt.as_bytes();
    let mut fmt = Format::new(&fmt);
    let mut h = Header::default();
    let mut pos: u64 = 0;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(lua, opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(lua, opt, &mut h)?;
        }
        pos = pos.wrapping_add(size as u64);
    }
    Ok(pos as i64)
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn eval(c: &mut TestClient, script: &str) -> String {
        c.text(&["EVAL", script, "0"])
    }

    #[test]
    fn struct_packs_unpacks_and_sizes_as_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.run(&["EVAL", "return struct.pack('>i4<h!4bi', 1, -2, 3, 4)", "0"]),
            b"$12\r\n\x00\x00\x00\x01\xfe\xff\x03\x00\x04\x00\x00\x00\r\n"
        );
        assert_eq!(
            eval(
                &mut c,
                "return {struct.unpack('>i4<h!4bi', struct.pack('>i4<h!4bi', 1, -2, 3, 4))}"
            ),
            "*5\r\n:1\r\n:-2\r\n:3\r\n:4\r\n:13\r\n"
        );
        assert_eq!(
            eval(&mut c, "return {struct.unpack('bc0', '\\003abcdef')}"),
            "*2\r\n$3\r\nabc\r\n:5\r\n"
        );
        assert_eq!(eval(&mut c, "return struct.size('!4bi')"), ":8\r\n");
        assert_eq!(
            eval(&mut c, "return struct.pack('z')"),
            "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: e1609934105e09f0f9875aca64d1574a895df820, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut c, "return struct.pack('i')"),
            "-ERR user_script:1: bad argument #2 to 'pack' (number expected, got nil) script: 63b299178a495d059d925846f3a5f58587cb30c9, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut c, "return struct.pack('i99999999999')"),
            "-ERR user_script:1: integral size overflow script: d415a6ecef40fefc4324da11e1c4ce0fbfd1ed36, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut c, "return struct.unpack('i4', 'ab')"),
            "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: 949ee49db07ed6027a5414161022ae84757a7ac2, on @user_script:1.\r\n"
        );
    }
}
