//! `redis-check-rdb`'s walk over an RDB file: the `[offset N]` lines, the key counts and the
//! first error, as Redis 7.0.15 prints them. Values are decoded with
//! [`super::reader::Reader`]; this module only adds the checker's bookkeeping (what it
//! was doing, which key and type) around it.

use std::io::{self, Write};

use super::reader::{Limits, Object, Reader};
use super::{RDB_VERSION, RdbError, RdbErrorKind, crc64, opcode};

/// The phase names Redis prints after `While doing:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doing {
    Start,
    ReadType,
    ReadExpire,
    ReadKey,
    ReadObjectValue,
    CheckSum,
    ReadLen,
    ReadAux,
    ReadFunctions,
}

impl Doing {
    fn name(self) -> &'static str {
        match self {
            Doing::Start => "start",
            Doing::ReadType => "read-type",
            Doing::ReadExpire => "read-expire",
            Doing::ReadKey => "read-key",
            Doing::ReadObjectValue => "read-object-value",
            Doing::CheckSum => "check-sum",
            Doing::ReadLen => "read-len",
            Doing::ReadAux => "read-aux",
            Doing::ReadFunctions => "read-functions",
        }
    }
}

/// Redis 7.0's names for the value types it can print (`rdb_type_string`); later types,
/// including 7.0's own stream type 19, print as `unknown`.
pub fn rdb_type_name(ty: u8) -> &'static str {
    const NAMES: [&str; 19] = [
        "string",
        "list-linked",
        "set-hashtable",
        "zset-v1",
        "hash-hashtable",
        "zset-v2",
        "module-value",
        "",
        "",
        "hash-zipmap",
        "list-ziplist",
        "set-intset",
        "zset-ziplist",
        "hash-ziplist",
        "quicklist",
        "stream",
        "hash-listpack",
        "zset-listpack",
        "quicklist-v2",
    ];
    NAMES.get(usize::from(ty)).copied().unwrap_or("unknown")
}

/// Value types an RDB 10 file may hold (`rdbIsObjectType` in 7.0).
fn is_object_type(ty: u8) -> bool {
    ty <= 7 || (9..=19).contains(&ty)
}

/// One key as the checker saw it, for `--format json` and `--memory-report`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub db: u64,
    pub key: Vec<u8>,
    /// The RDB type byte.
    pub rdb_type: u8,
    /// `TYPE`'s name for the value.
    pub value_type: &'static str,
    /// Bytes the key takes in the file: expire and LRU/LFU opcodes, type, key and value.
    pub serialized_bytes: usize,
    /// String length in bytes, or the number of elements (list items, set members, hash
    /// fields, sorted set members, stream entries).
    pub elements: u64,
    /// Absolute Unix time in milliseconds.
    pub expire_ms: Option<i64>,
}

/// How the walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file is sane; the RDB ends at this offset (an AOF tail may follow).
    Ok { end: usize },
    /// An error was reported.
    Error,
}

/// The checker's state (`rdbstate` in Redis).
struct State {
    keys: u64,
    expires: u64,
    already_expired: u64,
    doing: Doing,
    key: Option<Vec<u8>>,
    // Redis zero-initialises its state, so before the first key it reports type 0.
    key_type: Option<u8>,
}

/// Where the message of an error comes from.
enum Failure {
    /// Input ended (or a value failed to load): Redis's `Unexpected EOF reading RDB file`.
    Eof(usize),
    /// A message of its own, at an offset.
    Message(usize, String),
}

fn from_rdb_error(e: &RdbError) -> Failure {
    match e.kind {
        // Redis's loader returns NULL for both, and the checker reports either as EOF.
        RdbErrorKind::Truncated | RdbErrorKind::EmptyKey => Failure::Eof(e.offset),
        _ => Failure::Message(e.offset, e.kind.to_string()),
    }
}

/// C's `atoi` over the four version digits.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n = 0i64;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        n = n * 10 + i64::from(d - b'0');
        i += 1;
    }
    if neg { -n } else { n }
}

/// Bytes up to the first NUL, as `%s` prints a C string.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// Checks `data` as `redis-check-rdb` does, printing to `out` (the `Checking RDB file` line
/// included) and handing every key read to `on_key`.
pub fn check(
    data: &[u8],
    name: &[u8],
    now_ms: i64,
    out: &mut dyn Write,
    on_key: &mut dyn FnMut(&KeyInfo) -> io::Result<()>,
) -> io::Result<Outcome> {
    out.write_all(b"[offset 0] Checking RDB file ")?;
    out.write_all(name)?;
    out.write_all(b"\n")?;
    let mut st = State {
        keys: 0,
        expires: 0,
        already_expired: 0,
        doing: Doing::Start,
        key: None,
        key_type: Some(0),
    };
    let result = walk(data, now_ms, &mut st, out, on_key)?;
    match result {
        Ok(end) => {
            writeln!(out, "[offset {end}] \\o/ RDB looks OK! \\o/")?;
            show_info(&st, out)?;
            Ok(Outcome::Ok { end })
        }
        Err(failure) => {
            let (offset, msg) = match failure {
                Failure::Eof(at) => (at, "Unexpected EOF reading RDB file".to_string()),
                Failure::Message(at, msg) => (at, msg),
            };
            writeln!(out, "--- RDB ERROR DETECTED ---")?;
            writeln!(out, "[offset {offset}] {msg}")?;
            writeln!(out, "[additional info] While doing: {}", st.doing.name())?;
            if let Some(key) = &st.key {
                out.write_all(b"[additional info] Reading key '")?;
                out.write_all(c_str(key))?;
                out.write_all(b"'\n")?;
            }
            if let Some(ty) = st.key_type {
                writeln!(
                    out,
                    "[additional info] Reading type {ty} ({})",
                    rdb_type_name(ty)
                )?;
            }
            show_info(&st, out)?;
            Ok(Outcome::Error)
        }
    }
}

fn show_info(st: &State, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "[info] {} keys read", st.keys)?;
    writeln!(out, "[info] {} expires", st.expires)?;
    writeln!(out, "[info] {} already expired", st.already_expired)
}

fn elements(object: &Object) -> u64 {
    use crate::value::Value;
    let n = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    match object {
        Object::String(s) => n(s.len()),
        Object::Value(v) => match v {
            Value::Embstr | Value::Raw | Value::Int(_) => 0,
            Value::Set(s) => n(s.len()),
            Value::Hash(h) => n(h.len()),
            Value::List(l) => n(l.len()),
            Value::ZSet(z) => n(z.len()),
            Value::Stream(s) => s.len(),
        },
    }
}

fn value_type(object: &Object) -> &'static str {
    match object {
        Object::String(_) => "string",
        Object::Value(v) => v.value_type().name(),
    }
}

/// The walk proper; the outer `io::Result` is for `out`, the inner one is the verdict.
fn walk(
    data: &[u8],
    now_ms: i64,
    st: &mut State,
    out: &mut dyn Write,
    on_key: &mut dyn FnMut(&KeyInfo) -> io::Result<()>,
) -> io::Result<Result<usize, Failure>> {
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => return Ok(Err(from_rdb_error(&e))),
            }
        };
    }
    let mut r = Reader::new(data);
    let Ok(magic) = r.read_bytes(9) else {
        return Ok(Err(Failure::Eof(0)));
    };
    if &magic[..5] != b"REDIS" {
        return Ok(Err(Failure::Message(
            9,
            "Wrong signature trying to load DB from file".into(),
        )));
    }
    let version = atoi(&magic[5..]);
    if !(1..=i64::from(RDB_VERSION)).contains(&version) {
        return Ok(Err(Failure::Message(
            9,
            format!("Can't handle RDB format version {version}"),
        )));
    }
    let limits = Limits::default();
    let mut db: u64 = 0;
    let mut expire: Option<i64> = None;
    // Where the current key's opcodes (expire, LRU, LFU) began.
    let mut key_start: Option<usize> = None;
    loop {
        st.doing = Doing::ReadType;
        let at = r.offset();
        let ty = tri!(r.read_u8());
        match ty {
            opcode::EXPIRETIME => {
                st.doing = Doing::ReadExpire;
                let b = tri!(r.read_bytes(4));
                let secs = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                expire = Some(i64::from(secs) * 1000);
                key_start.get_or_insert(at);
            }
            opcode::EXPIRETIME_MS => {
                st.doing = Doing::ReadExpire;
                expire = Some(tri!(r.read_ms()));
                key_start.get_or_insert(at);
            }
            opcode::FREQ => {
                tri!(r.read_u8());
                key_start.get_or_insert(at);
            }
            opcode::IDLE => {
                tri!(r.read_len());
                key_start.get_or_insert(at);
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                st.doing = Doing::ReadLen;
                db = tri!(r.read_len());
                writeln!(out, "[offset {}] Selecting DB ID {db}", r.offset())?;
            }
            opcode::RESIZEDB => {
                st.doing = Doing::ReadLen;
                tri!(r.read_len());
                tri!(r.read_len());
            }
            opcode::AUX => {
                st.doing = Doing::ReadAux;
                let key = tri!(r.read_string());
                let value = tri!(r.read_string());
                write!(out, "[offset {}] AUX FIELD ", r.offset())?;
                out.write_all(c_str(&key))?;
                out.write_all(b" = '")?;
                out.write_all(c_str(&value))?;
                out.write_all(b"'\n")?;
            }
            opcode::MODULE_AUX => {
                return Ok(Err(Failure::Message(
                    r.offset(),
                    "module auxiliary data is not supported".into(),
                )));
            }
            opcode::FUNCTION2 => {
                st.doing = Doing::ReadFunctions;
                if r.read_string().is_err() {
                    return Ok(Err(Failure::Message(
                        r.offset(),
                        "Failed loading library, Failed loading library payload".into(),
                    )));
                }
            }
            opcode::FUNCTION_PRE_GA => {
                st.doing = Doing::ReadFunctions;
                return Ok(Err(Failure::Message(
                    r.offset(),
                    "Failed loading library, pre-release function libraries are not supported"
                        .into(),
                )));
            }
            _ => {
                if !is_object_type(ty) {
                    return Ok(Err(Failure::Message(
                        r.offset(),
                        format!("Invalid object type: {ty}"),
                    )));
                }
                st.key_type = Some(ty);
                st.doing = Doing::ReadKey;
                let key = tri!(r.read_string()).into_owned();
                st.key = Some(key);
                st.keys += 1;
                st.doing = Doing::ReadObjectValue;
                let object = tri!(r.read_object(ty, &limits, now_ms));
                if let Some(e) = expire {
                    if e < now_ms {
                        st.already_expired += 1;
                    }
                    st.expires += 1;
                }
                let key = st.key.take().unwrap_or_default();
                let start = key_start.take().unwrap_or(at);
                on_key(&KeyInfo {
                    db,
                    key,
                    rdb_type: ty,
                    value_type: value_type(&object),
                    serialized_bytes: r.offset() - start,
                    elements: elements(&object),
                    expire_ms: expire.take(),
                })?;
                st.key_type = None;
            }
        }
    }
    if version >= 5 {
        st.doing = Doing::CheckSum;
        let expected = crc64::crc64(&data[..r.offset()]);
        let b = tri!(r.read_bytes(8));
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        let stored = u64::from_le_bytes(raw);
        if stored == 0 {
            writeln!(
                out,
                "[offset {}] RDB file was saved with checksum disabled: no check performed.",
                r.offset()
            )?;
        } else if stored != expected {
            return Ok(Err(Failure::Message(r.offset(), "RDB CRC error".into())));
        } else {
            writeln!(out, "[offset {}] Checksum OK", r.offset())?;
        }
    }
    Ok(Ok(r.offset()))
}
