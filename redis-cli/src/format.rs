//! How redis-cli prints a reply: the tty style (`(integer) 1`, `1) "a"`), raw, CSV and JSON.
//!
//! Pure functions from a [`Frame`] to bytes; no I/O. Redis 7.0.15's redis-cli has no case for
//! big numbers and attributes (it stops with "Unknown reply type"), so neither do we: those
//! give [`UnknownType`] carrying hiredis's type number, which the caller reports the same way.

use common::number;
use common::resp::Frame;

/// The output styles of `--raw`, `--no-raw`, `--csv`, `--json` and `--quoted-json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// The tty style, the default when stdout is a terminal.
    Standard,
    Raw,
    Csv,
    Json,
    QuotedJson,
}

/// A reply type redis-cli 7.0.15 cannot print; the number is hiredis's `REDIS_REPLY_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UnknownType(pub(crate) u8);

/// hiredis's type numbers for the two types redis-cli does not print.
const REPLY_ATTR: u8 = 11;
const REPLY_BIGNUM: u8 = 13;

/// Formats one reply as redis-cli does at the top level. `verbatim` is redis-cli's raw
/// printing of INFO, CLIENT LIST and the like in every mode; `cmd_delim` ends a raw reply.
pub(crate) fn reply(
    frame: &Frame,
    mode: Output,
    verbatim: bool,
    mb_delim: &[u8],
    cmd_delim: &[u8],
) -> Result<Vec<u8>, UnknownType> {
    let mut out = Vec::new();
    if verbatim {
        raw(frame, mb_delim, &mut out)?;
        return Ok(out);
    }
    match mode {
        Output::Standard => tty(frame, b"", &mut out)?,
        Output::Raw => {
            raw(frame, mb_delim, &mut out)?;
            out.extend_from_slice(cmd_delim);
        }
        Output::Csv => {
            csv(frame, &mut out)?;
            out.push(b'\n');
        }
        Output::Json | Output::QuotedJson => {
            json(frame, mode == Output::QuotedJson, &mut out)?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// A pushed message outside pub/sub mode: `invalidate` has its own tty line.
pub(crate) fn push(
    frame: &Frame,
    mode: Output,
    mb_delim: &[u8],
    cmd_delim: &[u8],
) -> Result<Vec<u8>, UnknownType> {
    if mode == Output::Standard {
        if let Some(keys) = invalidated_keys(frame) {
            let mut out = b"-> invalidate: ".to_vec();
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                out.push(b'\'');
                out.extend_from_slice(key);
                out.push(b'\'');
            }
            out.push(b'\n');
            return Ok(out);
        }
    }
    reply(frame, mode, false, mb_delim, cmd_delim)
}

fn invalidated_keys(frame: &Frame) -> Option<Vec<&[u8]>> {
    let Frame::Push(items) = frame else {
        return None;
    };
    let [Frame::Bulk(kind), Frame::Array(keys)] = items.as_slice() else {
        return None;
    };
    if !kind.starts_with(b"invalidate") {
        return None;
    }
    keys.iter()
        .map(|k| match k {
            Frame::Bulk(k) => Some(k.as_slice()),
            _ => None,
        })
        .collect()
}

/// The text of a double as the server sent it (Redis writes `%.17g`, and `inf`/`-inf`).
fn double_text(d: f64, out: &mut Vec<u8>) {
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
    } else if d.is_nan() {
        out.extend_from_slice(b"nan");
    } else {
        number::write_g17(d, out);
    }
}

/// Text up to the first NUL: redis-cli prints error texts as C strings in CSV and JSON.
fn c_string(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul])
}

/// `sdscatrepr`: a double-quoted string with C escapes, `\xHH` for unprintable bytes.
pub(crate) fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// True when the tty style spreads `frame` over several lines (a map value then starts on a
/// line of its own).
fn is_multiline(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => match items.as_slice() {
            [] => false,
            [only] => is_multiline(only),
            _ => true,
        },
        Frame::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, value)] => is_multiline(value),
            _ => true,
        },
        _ => false,
    }
}

/// The tty style. `prefix` is the indentation of the lines after the first in an aggregate.
fn tty(frame: &Frame, prefix: &[u8], out: &mut Vec<u8>) -> Result<(), UnknownType> {
    match frame {
        Frame::Error(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(c_string(e));
            out.push(b'\n');
        }
        Frame::Simple(s) => {
            out.extend_from_slice(c_string(s));
            out.push(b'\n');
        }
        Frame::Integer(n) => out.extend_from_slice(format!("(integer) {n}\n").as_bytes()),
        Frame::Double(d) => {
            out.extend_from_slice(b"(double) ");
            double_text(*d, out);
            out.push(b'\n');
        }
        Frame::Bulk(s) => {
            repr(s, out);
            out.push(b'\n');
        }
        Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Null => out.extend_from_slice(b"(nil)\n"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let (empty, sep) = match frame {
                Frame::Array(_) => (&b"(empty array)\n"[..], b')'),
                Frame::Set(_) => (&b"(empty set)\n"[..], b'~'),
                _ => (&b"(empty push)\n"[..], b')'),
            };
            if items.is_empty() {
                out.extend_from_slice(empty);
                return Ok(());
            }
            let (width, inner) = index_layout(items.len(), prefix);
            for (i, item) in items.iter().enumerate() {
                index(out, if i == 0 { b"" } else { prefix }, i + 1, width, sep);
                tty(item, &inner, out)?;
            }
        }
        Frame::Map(pairs) => {
            if pairs.is_empty() {
                out.extend_from_slice(b"(empty hash)\n");
                return Ok(());
            }
            let (width, inner) = index_layout(pairs.len(), prefix);
            for (i, (key, value)) in pairs.iter().enumerate() {
                index(out, if i == 0 { b"" } else { prefix }, i + 1, width, b'#');
                tty(key, &inner, out)?;
                out.pop();
                out.extend_from_slice(b" => ");
                if is_multiline(value) {
                    out.push(b'\n');
                    out.extend_from_slice(&inner);
                }
                tty(value, &inner, out)?;
            }
        }
        Frame::BigNumber(_) => return Err(UnknownType(REPLY_BIGNUM)),
        Frame::Attribute { .. } => return Err(UnknownType(REPLY_ATTR)),
    }
    Ok(())
}

/// The width of the largest index and the prefix of the nested lines (`prefix` plus that
/// width and two spaces).
fn index_layout(count: usize, prefix: &[u8]) -> (usize, Vec<u8>) {
    let width = count.to_string().len();
    let mut inner = prefix.to_vec();
    inner.resize(prefix.len() + width + 2, b' ');
    (width, inner)
}

fn index(out: &mut Vec<u8>, prefix: &[u8], n: usize, width: usize, sep: u8) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(format!("{n:>width$}").as_bytes());
    out.push(sep);
    out.push(b' ');
}

/// The raw style: bare strings, aggregates joined by `mb_delim`, map pairs by a space.
fn raw(frame: &Frame, mb_delim: &[u8], out: &mut Vec<u8>) -> Result<(), UnknownType> {
    match frame {
        Frame::Null => {}
        Frame::Error(s) | Frame::Simple(s) | Frame::Bulk(s) => {
            out.extend_from_slice(s);
            if matches!(frame, Frame::Error(_)) {
                out.push(b'\n');
            }
        }
        Frame::Verbatim { text, .. } => out.extend_from_slice(text),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => double_text(*d, out),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(item, mb_delim, out)?;
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(key, mb_delim, out)?;
                out.push(b' ');
                raw(value, mb_delim, out)?;
            }
        }
        Frame::BigNumber(_) => return Err(UnknownType(REPLY_BIGNUM)),
        Frame::Attribute { .. } => return Err(UnknownType(REPLY_ATTR)),
    }
    Ok(())
}

/// CSV: quoted strings, aggregates (maps too) flattened with commas.
fn csv(frame: &Frame, out: &mut Vec<u8>) -> Result<(), UnknownType> {
    match frame {
        Frame::Error(e) => {
            out.extend_from_slice(b"ERROR,");
            repr(c_string(e), out);
        }
        Frame::Simple(s) | Frame::Bulk(s) | Frame::Verbatim { text: s, .. } => repr(s, out),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => double_text(*d, out),
        Frame::Null => out.extend_from_slice(b"NULL"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(item, out)?;
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(key, out)?;
                out.push(b',');
                csv(value, out)?;
            }
        }
        Frame::BigNumber(_) => return Err(UnknownType(REPLY_BIGNUM)),
        Frame::Attribute { .. } => return Err(UnknownType(REPLY_ATTR)),
    }
    Ok(())
}

/// A JSON string: `--json` escapes as RFC 7159 and passes other bytes through; `--quoted-json`
/// takes the `sdscatrepr` form and doubles its backslashes, so the output is ASCII.
fn json_string(s: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted {
        let mut tmp = Vec::with_capacity(s.len() + 2);
        repr(s, &mut tmp);
        for b in tmp {
            if b == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                out.push(b);
            }
        }
        return;
    }
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn json(frame: &Frame, quoted: bool, out: &mut Vec<u8>) -> Result<(), UnknownType> {
    match frame {
        Frame::Error(e) => {
            out.extend_from_slice(b"error:");
            json_string(c_string(e), quoted, out);
        }
        Frame::Simple(s) | Frame::Bulk(s) | Frame::Verbatim { text: s, .. } => {
            json_string(s, quoted, out)
        }
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => double_text(*d, out),
        Frame::Null => out.extend_from_slice(b"null"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json(item, quoted, out)?;
            }
            out.push(b']');
        }
        Frame::Map(pairs) => {
            out.push(b'{');
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match key {
                    Frame::Error(_)
                    | Frame::Simple(_)
                    | Frame::Bulk(_)
                    | Frame::Verbatim { .. } => json(key, quoted, out)?,
                    // JSON keys are strings: other types are written, then quoted unless
                    // they already start with a quote.
                    _ => {
                        let mut text = Vec::new();
                        json(key, quoted, &mut text)?;
                        if text.first() == Some(&b'"') {
                            out.extend_from_slice(&text);
                        } else {
                            out.push(b'"');
                            out.extend_from_slice(&text);
                            out.push(b'"');
                        }
                    }
                }
                out.push(b':');
                json(value, quoted, out)?;
            }
            out.push(b'}');
        }
        Frame::BigNumber(_) => return Err(UnknownType(REPLY_BIGNUM)),
        Frame::Attribute { .. } => return Err(UnknownType(REPLY_ATTR)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(s.as_bytes().to_vec())
    }

    fn show(frame: &Frame, mode: Output) -> String {
        String::from_utf8(reply(frame, mode, false, b"\n", b"\n").unwrap()).unwrap()
    }

    #[test]
    fn nested_arrays_indent_under_their_index() {
        let frame = Frame::Array(vec![
            bulk("a"),
            Frame::Array(vec![Frame::Integer(1), Frame::Null]),
            Frame::Array(vec![]),
        ]);
        assert_eq!(
            show(&frame, Output::Standard),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n3) (empty array)\n"
        );
        let wide = Frame::Array((0..10).map(Frame::Integer).collect());
        assert!(show(&wide, Output::Standard).starts_with(" 1) (integer) 0\n"));
    }

    #[test]
    fn maps_put_multiline_values_on_their_own_line() {
        let frame = Frame::Map(vec![
            (bulk("k"), bulk("v")),
            (bulk("l"), Frame::Array(vec![bulk("x"), bulk("y")])),
        ]);
        assert_eq!(
            show(&frame, Output::Standard),
            "1# \"k\" => \"v\"\n2# \"l\" => \n   1) \"x\"\n   2) \"y\"\n"
        );
        assert_eq!(show(&frame, Output::Raw), "k v\nl x\ny\n");
        assert_eq!(show(&frame, Output::Csv), "\"k\",\"v\",\"l\",\"x\",\"y\"\n");
        assert_eq!(
            show(&frame, Output::Json),
            "{\"k\":\"v\",\"l\":[\"x\",\"y\"]}\n"
        );
    }

    #[test]
    fn strings_escape_per_style() {
        let s = Frame::Bulk(b"a\"\x01\xff\n".to_vec());
        assert_eq!(show(&s, Output::Standard), "\"a\\\"\\x01\\xff\\n\"\n");
        assert_eq!(
            reply(&s, Output::Json, false, b"\n", b"\n").unwrap(),
            b"\"a\\\"\\u0001\xff\\n\"\n"
        );
        assert_eq!(
            show(&s, Output::QuotedJson),
            "\"a\\\\\"\\\\x01\\\\xff\\\\n\"\n"
        );
    }

    #[test]
    fn big_numbers_are_unknown_as_in_redis_cli() {
        let big = Frame::BigNumber(b"1".to_vec());
        assert_eq!(
            reply(&big, Output::Raw, false, b"\n", b"\n"),
            Err(UnknownType(13))
        );
    }
}
