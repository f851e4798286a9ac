//! Reply frames as a client sees them (redis-cli, redis-benchmark, tests): parsing RESP2/RESP3
//! replies and encoding them back.
//!
//! Parsing is bounded: nesting deeper than [`MAX_DEPTH`] is an error (no stack overflow on
//! `*1\r\n*1\r\n...`), and no vector is sized from a declared length beyond what the received
//! bytes can hold.

use std::fmt;

use crate::number;

/// Deepest nesting of aggregates accepted (Redis's replies nest a handful of levels).
pub const MAX_DEPTH: usize = 128;

/// One reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Vec<u8>),
    /// `-CODE text` (also RESP3 `!<len>` blob errors)
    Error(Vec<u8>),
    /// `:n`
    Integer(i64),
    /// `$<len>` string
    Bulk(Vec<u8>),
    /// The null bulk `$-1`, the null array `*-1` and RESP3 `_`: redis-cli shows all as `(nil)`.
    Null,
    /// `*`
    Array(Vec<Frame>),
    /// RESP3 `%`
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~`
    Set(Vec<Frame>),
    /// RESP3 `>`
    Push(Vec<Frame>),
    /// RESP3 `,`
    Double(f64),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(` (the digits as sent)
    BigNumber(Vec<u8>),
    /// RESP3 `=` (`txt:`, `mkd:` ...)
    Verbatim { format: [u8; 3], text: Vec<u8> },
    /// RESP3 `|`: attributes and the reply they describe
    Attribute {
        attrs: Vec<(Frame, Frame)>,
        value: Box<Frame>,
    },
}

/// A reply that is not valid RESP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A type byte RESP does not define.
    UnknownType(u8),
    /// A length that is not a number, or is negative where only `-1` (null) is allowed.
    InvalidLength,
    /// An integer reply that is not a 64-bit number.
    InvalidInteger,
    /// A double reply that is not a number.
    InvalidDouble,
    /// A boolean other than `t` or `f`.
    InvalidBoolean,
    /// A verbatim string without its `xxx:` format.
    InvalidVerbatim,
    /// A string not followed by `\r\n`.
    MissingCrlf,
    /// Aggregates nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::UnknownType(b) => {
                write!(
                    f,
                    "Protocol error, got {:?} as reply type byte",
                    char::from(*b)
                )
            }
            FrameError::InvalidLength => f.write_str("Protocol error: invalid length"),
            FrameError::InvalidInteger => f.write_str("Protocol error: invalid integer"),
            FrameError::InvalidDouble => f.write_str("Protocol error: invalid double"),
            FrameError::InvalidBoolean => f.write_str("Protocol error: invalid boolean"),
            FrameError::InvalidVerbatim => f.write_str("Protocol error: invalid verbatim string"),
            FrameError::MissingCrlf => f.write_str("Protocol error: string not ended by CRLF"),
            FrameError::TooDeep => f.write_str("Protocol error: replies nested too deep"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<FrameError> for std::io::Error {
    fn from(e: FrameError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// The first line at `pos` (without `\r\n`) and the offset after it; `None` if incomplete.
fn line(input: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = input.get(pos..)?;
    let mut from = 0;
    loop {
        let cr = from + rest.get(from..)?.iter().position(|&b| b == b'\r')?;
        match rest.get(cr + 1) {
            None => return None,
            Some(b'\n') => return Some((&rest[..cr], pos + cr + 2)),
            Some(_) => from = cr + 1,
        }
    }
}

/// A length header: `Ok(None)` for `-1`.
fn length(text: &[u8]) -> Result<Option<usize>, FrameError> {
    match number::parse_i64(text) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => usize::try_from(n)
            .map(Some)
            .map_err(|_| FrameError::InvalidLength),
        _ => Err(FrameError::InvalidLength),
    }
}

/// `len` bytes at `pos` followed by `\r\n`: the bytes and the offset after them.
fn blob(input: &[u8], pos: usize, len: usize) -> Result<Option<(&[u8], usize)>, FrameError> {
    let end = pos.checked_add(len).ok_or(FrameError::InvalidLength)?;
    if input.len() < end.saturating_add(2) {
        return Ok(None);
    }
    if &input[end..end + 2] != b"\r\n" {
        return Err(FrameError::MissingCrlf);
    }
    Ok(Some((&input[pos..end], end + 2)))
}

/// Elements that `remaining` input bytes can hold at most (each takes at least 3 bytes).
fn capacity_for(declared: usize, remaining: usize) -> usize {
    declared.min(remaining / 3)
}

fn parse_double(text: &[u8]) -> Result<f64, FrameError> {
    match text {
        b"inf" | b"+inf" => Ok(f64::INFINITY),
        b"-inf" => Ok(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Ok(f64::NAN),
        _ => std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(FrameError::InvalidDouble),
    }
}

/// Parses one frame at `pos`: the frame and the offset after it, `None` if incomplete.
fn parse_at(input: &[u8], pos: usize, depth: usize) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(&kind) = input.get(pos) else {
        return Ok(None);
    };
    let Some((text, next)) = line(input, pos + 1) else {
        return Ok(None);
    };
    let frame = match kind {
        b'+' => Frame::Simple(text.to_vec()),
        b'-' => Frame::Error(text.to_vec()),
        b':' => Frame::Integer(number::parse_i64(text).ok_or(FrameError::InvalidInteger)?),
        b'_' => Frame::Null,
        b',' => Frame::Double(parse_double(text)?),
        b'#' => match text {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(FrameError::InvalidBoolean),
        },
        b'(' => Frame::BigNumber(text.to_vec()),
        b'$' | b'!' | b'=' => {
            let Some(len) = length(text)? else {
                return Ok(Some((Frame::Null, next)));
            };
            let Some((bytes, after)) = blob(input, next, len)? else {
                return Ok(None);
            };
            let frame = match kind {
                b'$' => Frame::Bulk(bytes.to_vec()),
                b'!' => Frame::Error(bytes.to_vec()),
                _ => match bytes {
                    [a, b, c, b':', text @ ..] => Frame::Verbatim {
                        format: [*a, *b, *c],
                        text: text.to_vec(),
                    },
                    _ => return Err(FrameError::InvalidVerbatim),
                },
            };
            return Ok(Some((frame, after)));
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let Some(declared) = length(text)? else {
                return Ok(Some((Frame::Null, next)));
            };
            let count = element_count(kind, declared)?;
            if depth >= MAX_DEPTH && count > 0 {
                return Err(FrameError::TooDeep);
            }
            // An attribute's last element, the value it describes, is read separately.
            let count = if kind == b'|' { count - 1 } else { count };
            let mut items = Vec::with_capacity(capacity_for(count, input.len() - next));
            let mut at = next;
            for _ in 0..count {
                let Some((item, after)) = parse_at(input, at, depth + 1)? else {
                    return Ok(None);
                };
                items.push(item);
                at = after;
            }
            let frame = match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                b'>' => Frame::Push(items),
                b'%' => Frame::Map(into_pairs(items)),
                _ => {
                    let Some((value, after)) = parse_at(input, at, depth + 1)? else {
                        return Ok(None);
                    };
                    at = after;
                    Frame::Attribute {
                        attrs: into_pairs(items),
                        value: Box::new(value),
                    }
                }
            };
            return Ok(Some((frame, at)));
        }
        other => return Err(FrameError::UnknownType(other)),
    };
    Ok(Some((frame, next)))
}

/// Elements an aggregate header announces: maps count keys and values, and an attribute also
/// the value it describes (so `|0` nests like any aggregate).
fn element_count(kind: u8, declared: usize) -> Result<usize, FrameError> {
    let count = match kind {
        b'%' => declared.checked_mul(2),
        b'|' => declared.checked_mul(2).and_then(|n| n.checked_add(1)),
        _ => Some(declared),
    };
    count.ok_or(FrameError::InvalidLength)
}

fn into_pairs(items: Vec<Frame>) -> Vec<(Frame, Frame)> {
    let mut pairs = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(k), Some(v)) = (items.next(), items.next()) {
        pairs.push((k, v));
    }
    pairs
}

impl Frame {
    /// Parses the frame at the start of `input`: the frame and its length in bytes, or `None` if
    /// `input` holds only part of it.
    pub fn parse(input: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        parse_at(input, 0, 0)
    }

    /// Appends the frame's RESP encoding (RESP3 for the RESP3 types; [`Frame::Null`] as `$-1`,
    /// valid in both protocols).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => line_to(out, b'+', s),
            Frame::Error(s) => line_to(out, b'-', s),
            Frame::Integer(n) => header_to(out, b':', *n as i128),
            Frame::Bulk(s) => {
                header_to(out, b'$', s.len() as i128);
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Null => out.extend_from_slice(b"$-1\r\n"),
            Frame::Array(items) => items_to(out, b'*', items),
            Frame::Set(items) => items_to(out, b'~', items),
            Frame::Push(items) => items_to(out, b'>', items),
            Frame::Map(pairs) => pairs_to(out, b'%', pairs),
            Frame::Double(d) => {
                out.push(b',');
                number::write_g17(*d, out);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(digits) => line_to(out, b'(', digits),
            Frame::Verbatim { format, text } => {
                header_to(out, b'=', text.len() as i128 + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Attribute { attrs, value } => {
                pairs_to(out, b'|', attrs);
                value.write(out);
            }
        }
    }

    /// The frame's encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
}

fn header_to(out: &mut Vec<u8>, prefix: u8, n: i128) {
    out.push(prefix);
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn line_to(out: &mut Vec<u8>, prefix: u8, text: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn items_to(out: &mut Vec<u8>, prefix: u8, items: &[Frame]) {
    header_to(out, prefix, items.len() as i128);
    for item in items {
        item.write(out);
    }
}

fn pairs_to(out: &mut Vec<u8>, prefix: u8, pairs: &[(Frame, Frame)]) {
    header_to(out, prefix, pairs.len() as i128);
    for (k, v) in pairs {
        k.write(out);
        v.write(out);
    }
}

/// Appends a command as a multibulk request (`*<n>\r\n$<len>\r\n<arg>\r\n...`), the form
/// clients send and the replication stream and the AOF carry.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    encode_command_from(args.iter().map(AsRef::as_ref), out);
}

/// [`encode_command`] for arguments that are not in a slice (a parsed request's).
pub fn encode_command_from<'a>(args: impl ExactSizeIterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    header_to(out, b'*', args.len() as i128);
    for arg in args {
        header_to(out, b'$', arg.len() as i128);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Finds where a frame ends without building it, resuming where the previous call stopped, so
/// a reply arriving in many reads is scanned once (then [`Frame::parse`] builds it).
#[derive(Debug, Default)]
pub struct FrameScanner {
    /// Offset of the next unscanned element.
    pos: usize,
    /// Elements still expected by each open aggregate, innermost last.
    open: Vec<usize>,
}

impl FrameScanner {
    /// A scanner at the start of a frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// The length of the frame at the start of `input` once it is complete; `None` while it is
    /// not. `input` must start with the same bytes on every call until the frame is complete;
    /// then the scanner starts over for the next frame.
    pub fn scan(&mut self, input: &[u8]) -> Result<Option<usize>, FrameError> {
        if self.pos > input.len() {
            *self = Self::default();
        }
        loop {
            let Some(&kind) = input.get(self.pos) else {
                return Ok(None);
            };
            let Some((text, next)) = line(input, self.pos + 1) else {
                return Ok(None);
            };
            let mut opened = 0;
            let after = match kind {
                b'+' | b'-' | b'(' | b'_' => next,
                b':' => {
                    number::parse_i64(text).ok_or(FrameError::InvalidInteger)?;
                    next
                }
                b',' => {
                    parse_double(text)?;
                    next
                }
                b'#' => match text {
                    b"t" | b"f" => next,
                    _ => return Err(FrameError::InvalidBoolean),
                },
                b'$' | b'!' | b'=' => match length(text)? {
                    None => next,
                    Some(len) => match blob(input, next, len)? {
                        None => return Ok(None),
                        Some((bytes, _)) if kind == b'=' && bytes.get(3) != Some(&b':') => {
                            return Err(FrameError::InvalidVerbatim);
                        }
                        Some((_, after)) => after,
                    },
                },
                b'*' | b'~' | b'>' | b'%' | b'|' => {
                    if let Some(declared) = length(text)? {
                        opened = element_count(kind, declared)?;
                    }
                    next
                }
                other => return Err(FrameError::UnknownType(other)),
            };
            self.pos = after;
            if opened > 0 {
                if self.open.len() >= MAX_DEPTH {
                    return Err(FrameError::TooDeep);
                }
                self.open.push(opened);
                continue;
            }
            // One element is complete: close every aggregate it completes.
            loop {
                let Some(remaining) = self.open.last_mut() else {
                    let len = self.pos;
                    *self = Self::default();
                    return Ok(Some(len));
                };
                *remaining -= 1;
                if *remaining > 0 {
                    break;
                }
                self.open.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_whole(input: &[u8]) -> Frame {
        let (frame, len) = Frame::parse(input).unwrap().unwrap();
        assert_eq!(len, input.len());
        frame
    }

    #[test]
    fn every_type_parses() {
        assert_eq!(parse_whole(b"+OK\r\n"), Frame::Simple(b"OK".to_vec()));
        assert_eq!(parse_whole(b"-ERR x\r\n"), Frame::Error(b"ERR x".to_vec()));
        assert_eq!(parse_whole(b":-5\r\n"), Frame::Integer(-5));
        assert_eq!(
            parse_whole(b"$3\r\na\rb\r\n"),
            Frame::Bulk(b"a\rb".to_vec())
        );
        assert_eq!(parse_whole(b"$-1\r\n"), Frame::Null);
        assert_eq!(parse_whole(b"*-1\r\n"), Frame::Null);
        assert_eq!(parse_whole(b"_\r\n"), Frame::Null);
        assert_eq!(
            parse_whole(b"*2\r\n:1\r\n$1\r\nx\r\n"),
            Frame::Array(vec![Frame::Integer(1), Frame::Bulk(b"x".to_vec())])
        );
        assert_eq!(
            parse_whole(b"%1\r\n+k\r\n#t\r\n"),
            Frame::Map(vec![(Frame::Simple(b"k".to_vec()), Frame::Boolean(true))])
        );
        assert_eq!(
            parse_whole(b"~1\r\n,1.5\r\n"),
            Frame::Set(vec![Frame::Double(1.5)])
        );
        assert_eq!(
            parse_whole(b">1\r\n,-inf\r\n"),
            Frame::Push(vec![Frame::Double(f64::NEG_INFINITY)])
        );
        assert_eq!(parse_whole(b"(123\r\n"), Frame::BigNumber(b"123".to_vec()));
        assert_eq!(
            parse_whole(b"=9\r\ntxt:hello\r\n"),
            Frame::Verbatim {
                format: *b"txt",
                text: b"hello".to_vec()
            }
        );
        assert_eq!(parse_whole(b"!3\r\nERR\r\n"), Frame::Error(b"ERR".to_vec()));
        assert_eq!(
            parse_whole(b"|1\r\n+a\r\n:1\r\n:2\r\n"),
            Frame::Attribute {
                attrs: vec![(Frame::Simple(b"a".to_vec()), Frame::Integer(1))],
                value: Box::new(Frame::Integer(2)),
            }
        );
    }

    #[test]
    fn partial_frames_are_incomplete_and_bad_ones_errors() {
        let input = b"*2\r\n$5\r\nhello\r\n%1\r\n:1\r\n:2\r\n";
        for end in 0..input.len() {
            assert_eq!(Frame::parse(&input[..end]), Ok(None), "at {end}");
        }
        assert_eq!(Frame::parse(b"?x\r\n"), Err(FrameError::UnknownType(b'?')));
        assert_eq!(Frame::parse(b"$1\r\nab\r\n"), Err(FrameError::MissingCrlf));
        assert_eq!(Frame::parse(b"*-2\r\n"), Err(FrameError::InvalidLength));
        assert_eq!(Frame::parse(b":x\r\n"), Err(FrameError::InvalidInteger));
        assert_eq!(Frame::parse(b"#x\r\n"), Err(FrameError::InvalidBoolean));
        assert_eq!(
            Frame::parse(b"=2\r\nab\r\n"),
            Err(FrameError::InvalidVerbatim)
        );
        // A declared huge array with nothing behind it reserves nothing and waits.
        assert_eq!(Frame::parse(b"*4000000000\r\n"), Ok(None));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = b"*1\r\n".repeat(100_000);
        assert_eq!(Frame::parse(&deep), Err(FrameError::TooDeep));
        assert_eq!(FrameScanner::new().scan(&deep), Err(FrameError::TooDeep));
        let attributes = b"|0\r\n".repeat(100_000);
        assert_eq!(Frame::parse(&attributes), Err(FrameError::TooDeep));
        assert_eq!(
            FrameScanner::new().scan(&attributes),
            Err(FrameError::TooDeep)
        );
        let mut ok = b"*1\r\n".repeat(MAX_DEPTH);
        ok.extend_from_slice(b":1\r\n");
        assert!(Frame::parse(&ok).unwrap().is_some());
    }

    #[test]
    fn frames_encode_back() {
        let frame = Frame::Array(vec![
            Frame::Simple(b"OK".to_vec()),
            Frame::Null,
            Frame::Map(vec![(Frame::Bulk(b"k".to_vec()), Frame::Double(0.1))]),
            Frame::Attribute {
                attrs: vec![],
                value: Box::new(Frame::Boolean(false)),
            },
            Frame::Verbatim {
                format: *b"txt",
                text: b"x".to_vec(),
            },
        ]);
        let bytes = frame.to_bytes();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "*5\r\n+OK\r\n$-1\r\n%1\r\n$1\r\nk\r\n,0.10000000000000001\r\n|0\r\n#f\r\n\
             =5\r\ntxt:x\r\n"
        );
        assert_eq!(parse_whole(&bytes), frame);
        let mut cmd = Vec::new();
        encode_command(&["SET", "k", ""], &mut cmd);
        assert_eq!(cmd, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn the_scanner_agrees_with_the_parser_across_reads() {
        let input = b"|1\r\n+a\r\n*0\r\n*3\r\n%0\r\n|0\r\n:1\r\n*1\r\n$2\r\nhi\r\n+next\r\n";
        let first = Frame::parse(input).unwrap().unwrap().1;
        let mut scanner = FrameScanner::new();
        for end in 0..first {
            assert_eq!(scanner.scan(&input[..end]), Ok(None), "at {end}");
        }
        assert_eq!(scanner.scan(input), Ok(Some(first)));
        assert_eq!(scanner.scan(&input[first..]), Ok(Some(7)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn random_bytes_never_panic_and_scanner_matches_parser(
            input in proptest::collection::vec(prop_oneof![
                Just(b'*'), Just(b'$'), Just(b'%'), Just(b'|'), Just(b'\r'), Just(b'\n'),
                Just(b'1'), Just(b'2'), Just(b'0'), Just(b':'), Just(b'+'), Just(b'-'), any::<u8>(),
            ], 0..200),
        ) {
            let parsed = Frame::parse(&input);
            let scanned = FrameScanner::new().scan(&input);
            match (&parsed, &scanned) {
                (Ok(Some((_, len))), Ok(Some(scan_len))) => prop_assert_eq!(len, scan_len),
                (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
                _ => prop_assert!(false, "parse {:?} scan {:?}", parsed, scanned),
            }
        }
    }
}
