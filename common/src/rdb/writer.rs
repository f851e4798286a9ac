//! Encoding: values, key-value records and whole files, as Redis 7.0 writes them.
//!
//! A value is written in the encoding Redis 7.0 picks for the encoding it has in memory:
//! - strings: integer-encoded when they are a short canonical integer fitting 32 bits,
//!   LZF-compressed when longer than 20 bytes and `rdbcompression` is on (and it pays);
//! - lists: `LIST_QUICKLIST_2`, one packed listpack per quicklist node;
//! - sets: the intset bytes (`SET_INTSET`) or the members (`SET`);
//! - hashes: the listpack bytes (`HASH_LISTPACK`) or field/value pairs (`HASH`); a hash with
//!   field TTLs takes Redis 7.4's types: `HASH_LISTPACK_EX` (field, value, expiry triplets) or
//!   `HASH_METADATA` (relative expiry, field, value), each after the soonest expiry;
//! - sorted sets: the listpack bytes (`ZSET_LISTPACK`) or members with binary scores
//!   (`ZSET_2`).
//!
//! Streams are added by extending [`object_type`] and [`write_object`] with their encoding.

use super::{RDB_VERSION, RDB_VERSION_FIELD_TTLS, crc64, kind, opcode};
use crate::encoding::listpack::{Listpack, LpValue};
use crate::encoding::lzf;
use crate::keyspace::Entry;
use crate::number::{format_i64, parse_i64};
use crate::value::Value;
use crate::value::hash::HashValue;
use crate::value::set::SetValue;
use crate::value::sorted_set::ZSetValue;
use crate::value::string::StrRef;

/// Appends an RDB length.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0x80);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends `n` in the integer string encodings when it fits 32 bits; false otherwise.
fn write_encoded_int(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.extend_from_slice(&[0xc0, v as u8]);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xc1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xc2);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends an integer as a string (`rdbSaveLongLongAsStringObject`).
pub fn write_int_string(out: &mut Vec<u8>, n: i64) {
    if !write_encoded_int(out, n) {
        let mut buf = [0u8; 20];
        let digits = format_i64(n, &mut buf);
        write_len(out, digits.len() as u64);
        out.extend_from_slice(digits);
    }
}

/// Appends a string (`rdbSaveRawString`): as an integer when it is one, compressed when
/// `compress` and it is longer than 20 bytes and LZF saves more than 4 bytes, else plain.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11
        && let Some(n) = parse_i64(s)
    {
        let mut buf = [0u8; 20];
        if format_i64(n, &mut buf) == s && write_encoded_int(out, n) {
            return;
        }
    }
    if compress
        && s.len() > 20
        && let Some(packed) = lzf::compress(s, s.len() - 4)
    {
        out.push(0xc3);
        write_len(out, packed.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&packed);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The type byte Redis 7.0 writes for a value in its current encoding.
pub fn object_type(value: &Value) -> u8 {
    match value {
        Value::Embstr | Value::Raw | Value::Int(_) => kind::STRING,
        Value::List(_) => kind::LIST_QUICKLIST_2,
        Value::Set(s) => match **s {
            SetValue::IntSet(_) => kind::SET_INTSET,
            SetValue::HashTable(_) => kind::SET,
        },
        Value::Hash(h) => match (h.is_listpack(), h.volatile_fields() > 0) {
            (true, false) => kind::HASH_LISTPACK,
            (false, false) => kind::HASH,
            (true, true) => kind::HASH_LISTPACK_EX,
            (false, true) => kind::HASH_METADATA,
        },
        Value::ZSet(z) => match **z {
            ZSetValue::Listpack(_) => kind::ZSET_LISTPACK,
            ZSetValue::Skiplist(_) => kind::ZSET_2,
        },
        Value::Stream(_) => kind::STREAM_LISTPACKS_2,
    }
}

/// Appends the value of `entry` (without its type byte) in the encoding [`object_type`] names.
pub fn write_object(out: &mut Vec<u8>, entry: &Entry, compress: bool) {
    match entry.value() {
        Value::Embstr | Value::Raw | Value::Int(_) => match entry.as_str() {
            Some(StrRef::Int(n)) => write_int_string(out, n),
            Some(StrRef::Bytes(b)) => write_string(out, b, compress),
            None => write_string(out, b"", compress),
        },
        Value::List(l) => {
            let ql = l.quicklist();
            write_len(out, ql.node_count() as u64);
            for lp in ql.node_listpacks() {
                // QUICKLIST_NODE_CONTAINER_PACKED: the node is a listpack.
                write_len(out, 2);
                write_string(out, lp.as_bytes(), compress);
            }
        }
        Value::Set(s) => match &**s {
            SetValue::IntSet(is) => write_string(out, is.as_bytes(), compress),
            SetValue::HashTable(_) => {
                write_len(out, s.len() as u64);
                let mut buf = [0u8; 20];
                s.for_each(|m| write_string(out, m.bytes(&mut buf), compress));
            }
        },
        Value::Hash(h) => write_hash(out, h, compress),
        Value::ZSet(z) => match &**z {
            ZSetValue::Listpack(lp) => write_string(out, lp.as_bytes(), compress),
            ZSetValue::Skiplist(_) => {
                write_len(out, z.len() as u64);
                // Redis writes from the highest score down, so loading inserts at the head.
                let mut pairs = Vec::with_capacity(z.len());
                z.for_each(|m, s| pairs.push((m.to_vec(), s)));
                for (m, s) in pairs.iter().rev() {
                    write_string(out, m, compress);
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
        },
        Value::Stream(s) => super::stream::write_stream(out, s, compress),
    }
}

/// A hash in the layout [`object_type`] names for it (Redis 7.4's `rdbSaveObject` for the
/// field-TTL types: the soonest expiry first; in `HASH_METADATA` each field's expiry is
/// relative to it, plus one, so that 0 can mean "none").
fn write_hash(out: &mut Vec<u8>, h: &HashValue, compress: bool) {
    let min = h.min_field_ttl();
    match (h.pair_listpack(), min) {
        (Some(lp), None) => write_string(out, lp.as_bytes(), compress),
        (None, None) => {
            write_len(out, h.len() as u64);
            let (mut fb, mut vb) = ([0u8; 20], [0u8; 20]);
            for (f, v) in h.iter() {
                write_string(out, lp_bytes(&f, &mut fb), compress);
                write_string(out, lp_bytes(&v, &mut vb), compress);
            }
        }
        (Some(_), Some(min)) => {
            out.extend_from_slice(&min.to_le_bytes());
            let mut lp = Listpack::new();
            lp.reserve(h.allocated_bytes(1));
            for (f, v, ttl) in h.iter_with_ttls() {
                for x in [f, v] {
                    match x {
                        LpValue::Int(n) => lp.push_back_int(n),
                        LpValue::Str(s) => lp.push_back(s),
                    }
                }
                lp.push_back_int(ttl);
            }
            write_string(out, lp.as_bytes(), compress);
        }
        (None, Some(min)) => {
            out.extend_from_slice(&min.to_le_bytes());
            write_len(out, h.len() as u64);
            let (mut fb, mut vb) = ([0u8; 20], [0u8; 20]);
            for (f, v, ttl) in h.iter_with_ttls() {
                let relative = if ttl == 0 { 0 } else { ttl - min + 1 };
                write_len(out, relative as u64);
                write_string(out, lp_bytes(&f, &mut fb), compress);
                write_string(out, lp_bytes(&v, &mut vb), compress);
            }
        }
    }
}

/// The RDB version a file or payload holding `value` must declare: Redis 7.0's own (10)
/// unless it is a hash with field TTLs, whose types (24, 25) only 7.4's version 12 defines.
/// Files without such hashes stay exactly what 7.0 writes and reads; one with them is
/// refused by 7.0 on the version, rather than on an unknown type halfway through.
pub fn version_for(value: &Value) -> u16 {
    match value {
        Value::Hash(h) if h.volatile_fields() > 0 => RDB_VERSION_FIELD_TTLS,
        _ => RDB_VERSION,
    }
}

fn lp_bytes<'a>(v: &crate::encoding::listpack::LpValue<'a>, buf: &'a mut [u8; 20]) -> &'a [u8] {
    match *v {
        crate::encoding::listpack::LpValue::Str(s) => s,
        crate::encoding::listpack::LpValue::Int(n) => format_i64(n, buf),
    }
}

/// The payload `DUMP` replies with: type, value, the RDB version (2 bytes) and the CRC64 of
/// all that (8 bytes), both little-endian. Redis always compresses here when it pays.
pub fn dump_payload(entry: &Entry) -> Vec<u8> {
    let mut out = vec![object_type(entry.value())];
    write_object(&mut out, entry, true);
    out.extend_from_slice(&version_for(entry.value()).to_le_bytes());
    let crc = crc64::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Appends one key-value record (what [`RdbWriter::key_value`] writes) to `out`.
pub fn write_key_value(
    out: &mut Vec<u8>,
    entry: &Entry,
    expire_ms: Option<i64>,
    eviction: Eviction,
    compress: bool,
) {
    if let Some(at) = expire_ms {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    match eviction {
        Eviction::None => {}
        Eviction::Idle(secs) => {
            out.push(opcode::IDLE);
            write_len(out, secs);
        }
        Eviction::Freq(f) => {
            out.push(opcode::FREQ);
            out.push(f);
        }
    }
    out.push(object_type(entry.value()));
    write_string(out, entry.key(), compress);
    write_object(out, entry, compress);
}

/// The eviction metadata a record carries: Redis writes `IDLE` under an LRU
/// `maxmemory-policy`, `FREQ` under an LFU one, neither otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    None,
    /// Seconds since the key was last used.
    Idle(u64),
    /// The LFU counter.
    Freq(u8),
}

/// Builds a whole RDB file. Bytes accumulate in a buffer that the caller may drain at any
/// point with [`RdbWriter::take`] (to stream a large snapshot to disk); the checksum covers
/// everything written.
#[derive(Debug)]
pub struct RdbWriter {
    buf: Vec<u8>,
    crc: u64,
    compress: bool,
    checksum: bool,
}

impl RdbWriter {
    /// A writer that has written the header (`REDIS0010`). `compress` is `rdbcompression`,
    /// `checksum` is `rdbchecksum` (when off, the footer holds zero).
    pub fn new(compress: bool, checksum: bool) -> RdbWriter {
        RdbWriter::with_version(compress, checksum, RDB_VERSION)
    }

    /// [`RdbWriter::new`] declaring `version` (see [`version_for`]: 12 when the snapshot
    /// holds a hash with field TTLs).
    pub fn with_version(compress: bool, checksum: bool, version: u16) -> RdbWriter {
        let mut w = RdbWriter {
            buf: Vec::with_capacity(64 * 1024),
            crc: 0,
            compress,
            checksum,
        };
        w.buf
            .extend_from_slice(format!("REDIS{version:04}").as_bytes());
        w
    }

    /// Bytes written since the last [`RdbWriter::take`].
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Hands over the bytes written so far.
    pub fn take(&mut self) -> Vec<u8> {
        if self.checksum {
            self.crc = crc64::update(self.crc, &self.buf);
        }
        std::mem::take(&mut self.buf)
    }

    /// An `AUX` field with a string value.
    pub fn aux(&mut self, key: &str, value: &[u8]) {
        self.buf.push(opcode::AUX);
        write_string(&mut self.buf, key.as_bytes(), false);
        write_string(&mut self.buf, value, false);
    }

    /// An `AUX` field with an integer value (written as its decimal text, which the string
    /// encoder turns back into an integer encoding when it fits).
    pub fn aux_int(&mut self, key: &str, value: i64) {
        let mut buf = [0u8; 20];
        let text = format_i64(value, &mut buf).to_vec();
        self.aux(key, &text);
    }

    /// A function library (`FUNCTION2`): its code.
    pub fn function(&mut self, code: &[u8]) {
        self.buf.push(opcode::FUNCTION2);
        write_string(&mut self.buf, code, self.compress);
    }

    /// `SELECTDB` and `RESIZEDB` before a database's keys.
    pub fn select_db(&mut self, db: usize, keys: usize, volatile: usize) {
        self.buf.push(opcode::SELECTDB);
        write_len(&mut self.buf, db as u64);
        self.buf.push(opcode::RESIZEDB);
        write_len(&mut self.buf, keys as u64);
        write_len(&mut self.buf, volatile as u64);
    }

    /// One key with its value, expiry (absolute Unix milliseconds) and eviction metadata.
    pub fn key_value(&mut self, entry: &Entry, expire_ms: Option<i64>, eviction: Eviction) {
        write_key_value(&mut self.buf, entry, expire_ms, eviction, self.compress);
    }

    /// Hands over the bytes written so far (as [`RdbWriter::take`]) and counts `bytes`, records
    /// encoded elsewhere with [`write_key_value`], in the checksum: the caller places them in
    /// the stream right after the bytes returned.
    pub fn take_before(&mut self, bytes: &[u8]) -> Vec<u8> {
        let taken = self.take();
        if self.checksum {
            self.crc = crc64::update(self.crc, bytes);
        }
        taken
    }

    /// Writes `EOF` and the checksum; returns the bytes not yet taken.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(opcode::EOF);
        let crc = if self.checksum {
            crc64::update(self.crc, &self.buf)
        } else {
            0
        };
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, s, compress);
        out
    }

    #[test]
    fn lengths_use_the_shortest_form() {
        let enc = |n: u64| {
            let mut v = Vec::new();
            write_len(&mut v, n);
            v
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(63), [63]);
        assert_eq!(enc(64), [0x40, 64]);
        assert_eq!(enc(16383), [0x7f, 0xff]);
        assert_eq!(enc(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn strings_take_integer_encodings_when_canonical() {
        assert_eq!(string(b"12", false), [0xc0, 12]);
        assert_eq!(string(b"-129", false), [0xc1, 0x7f, 0xff]);
        assert_eq!(string(b"100000", false), [0xc2, 0xa0, 0x86, 0x01, 0x00]);
        assert_eq!(string(b"012", false), [3, b'0', b'1', b'2']);
        assert_eq!(string(b"+1", false), [2, b'+', b'1']);
        // Beyond 32 bits: plain text.
        assert_eq!(string(b"4294967296", false)[0], 10);
    }

    #[test]
    fn long_repetitive_strings_are_compressed_only_when_asked() {
        let s = vec![b'a'; 100];
        let packed = string(&s, true);
        assert_eq!(packed[0], 0xc3);
        assert!(packed.len() < 20);
        assert_eq!(string(&s, false).len(), 102);
        // Short strings are never compressed.
        assert_eq!(string(&[b'a'; 20], true)[0], 20);
    }

    #[test]
    fn empty_file_is_header_eof_and_checksum() {
        let w = RdbWriter::new(true, true);
        let bytes = w.finish();
        assert_eq!(&bytes[..9], b"REDIS0010");
        assert_eq!(bytes[9], 0xff);
        let crc = crc64::crc64(&bytes[..10]);
        assert_eq!(bytes[10..], crc.to_le_bytes());
        let unchecked = RdbWriter::new(true, false).finish();
        assert_eq!(unchecked[10..], [0; 8]);
    }

    #[test]
    fn dump_payload_of_a_small_string_matches_redis() {
        // DUMP of "bar" in Redis 7.0.15.
        let e = Entry::string(b"foo", b"bar", 0);
        let payload = dump_payload(&e);
        assert_eq!(&payload[..6], b"\x00\x03bar\x0a");
        assert_eq!(payload.len(), 1 + 4 + 2 + 8);
    }
}
