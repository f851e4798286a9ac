//! Decoding: RDB files of versions 1 to 12 and `RESTORE` payloads.
//!
//! [`Reader`] walks a byte slice; [`Reader::read_object`] turns one serialized value of any
//! type into an [`Object`], converting retired encodings (zipmap, ziplist, linked lists) and
//! choosing the in-memory encoding from [`Limits`] as Redis 7.0's `rdbLoadObject` does.
//! [`load`] walks a whole file and hands each record to a callback.
//!
//! Hashes with field TTLs (Redis 7.4's `HASH_METADATA` and `HASH_LISTPACK_EX`) load as plain
//! hashes: our hashes cannot carry a TTL per field, so fields already expired are dropped and
//! the others lose their TTL.

use std::borrow::Cow;
use std::collections::HashSet;

use super::legacy::{ziplist_for_each, zipmap_for_each};
use super::{
    MAX_READ_VERSION, RDB_VERSION, RDB_VERSION_FIELD_TTLS, RdbError, RdbErrorKind, crc64, kind,
    opcode,
};
use crate::encoding::intset::IntSet;
use crate::encoding::listpack::{Listpack, LpValue};
use crate::encoding::lzf;
use crate::keyspace::dict::Dict;
use crate::number::{format_i64, parse_strtod};
use crate::value::Value;
use crate::value::hash::{HashLimits, HashValue};
use crate::value::list::{End, ListValue};
use crate::value::set::SetValue;
use crate::value::sorted_set::{Limits as ZSetLimits, ZSetValue};

/// The encoding thresholds loaded values are converted at (the server's current config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub hash: HashLimits,
    pub zset: ZSetLimits,
    pub set_max_intset_entries: usize,
    pub list_max_listpack_size: i32,
    pub list_compress_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hash: HashLimits::default(),
            zset: ZSetLimits::default(),
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
        }
    }
}

/// A loaded value: a string (whose encoding the keyspace picks) or a collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    String(Vec<u8>),
    Value(Value),
}

/// LZF never expands more than this (a 3-byte back reference yields at most 264 bytes).
const LZF_MAX_RATIO: usize = 90;

/// A cursor over RDB bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Listpacks and intsets checked entry by entry so far (Redis counts these in INFO's
    /// `dump_payload_sanitizations` when `sanitize-dump-payload` asks for deep checks; this
    /// reader always checks deeply).
    validated: u64,
}

fn err<T>(offset: usize, kind: RdbErrorKind) -> Result<T, RdbError> {
    Err(RdbError::new(offset, kind))
}

/// A length, or the special string encoding that stands in its place.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            validated: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Listpacks and intsets validated so far.
    pub fn validated(&self) -> u64 {
        self.validated
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn fail<T>(&self, kind: RdbErrorKind) -> Result<T, RdbError> {
        err(self.pos, kind)
    }

    pub fn read_u8(&mut self) -> Result<u8, RdbError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or(RdbError::new(self.pos, RdbErrorKind::Truncated))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if n > self.remaining() {
            return self.fail(RdbErrorKind::Truncated);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let s = self.read_bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// An 8-byte little-endian millisecond time.
    pub fn read_ms(&mut self) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    fn read_len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let first = self.read_u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => {
                let lo = self.read_u8()?;
                Len::Plain(u64::from(first & 0x3f) << 8 | u64::from(lo))
            }
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.read_array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.read_array()?)),
                _ => return err(self.pos - 1, RdbErrorKind::BadLength),
            },
            _ => Len::Encoded(first & 0x3f),
        })
    }

    /// A length (`rdbLoadLen`).
    pub fn read_len(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.read_len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => err(at, RdbErrorKind::BadLength),
        }
    }

    /// A length that must fit memory; it still bounds nothing by itself (callers read
    /// elements one by one).
    fn read_usize(&mut self) -> Result<usize, RdbError> {
        let at = self.pos;
        usize::try_from(self.read_len()?).or(err(at, RdbErrorKind::BadLength))
    }

    /// A string in any of its encodings (plain, integer, LZF).
    pub fn read_string(&mut self) -> Result<Cow<'a, [u8]>, RdbError> {
        let at = self.pos;
        match self.read_len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).or(err(at, RdbErrorKind::Truncated))?;
                Ok(Cow::Borrowed(self.read_bytes(n)?))
            }
            Len::Encoded(enc) => {
                let n = match enc {
                    0 => i64::from(self.read_u8()? as i8),
                    1 => i64::from(i16::from_le_bytes(self.read_array()?)),
                    2 => i64::from(i32::from_le_bytes(self.read_array()?)),
                    3 => return self.read_lzf(at).map(Cow::Owned),
                    _ => return err(at, RdbErrorKind::BadLength),
                };
                let mut buf = [0u8; 20];
                Ok(Cow::Owned(format_i64(n, &mut buf).to_vec()))
            }
        }
    }

    fn read_lzf(&mut self, at: usize) -> Result<Vec<u8>, RdbError> {
        let clen = self.read_usize()?;
        let len = self.read_usize()?;
        let packed = self.read_bytes(clen)?;
        if len == 0 || len > clen.saturating_mul(LZF_MAX_RATIO) {
            return err(at, RdbErrorKind::BadLzf);
        }
        lzf::decompress(packed, len).ok_or(RdbError::new(at, RdbErrorKind::BadLzf))
    }

    /// A score as text with a one-byte length (`ZSET`, version 1 scores).
    fn read_text_double(&mut self) -> Result<f64, RdbError> {
        let at = self.pos;
        match self.read_u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.read_bytes(usize::from(n))?;
                parse_strtod(text).ok_or(RdbError::new(at, RdbErrorKind::BadDouble))
            }
        }
    }

    fn read_binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.read_array()?))
    }

    /// A value of type `ty` (the byte before the key). `now_ms` decides which 7.4 hash
    /// fields have expired.
    pub fn read_object(
        &mut self,
        ty: u8,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Object, RdbError> {
        let start = self.pos;
        let value = match ty {
            kind::STRING => return Ok(Object::String(self.read_string()?.into_owned())),
            kind::LIST => self.read_linked_list(limits)?,
            kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => self.read_quicklist(ty, limits)?,
            kind::LIST_ZIPLIST => {
                let zl = self.read_string()?;
                let mut list = new_list(limits);
                ziplist_for_each(&zl, |v| list.push(End::Tail, &lp_text(v)))
                    .or(err(start, RdbErrorKind::Corrupt("List ziplist")))?;
                Value::List(Box::new(list))
            }
            kind::SET | kind::SET_LISTPACK | kind::SET_INTSET => self.read_set(ty, limits)?,
            kind::ZSET | kind::ZSET_2 => self.read_skiplist(ty, limits)?,
            kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
                let blob = self.read_string()?;
                let lp = pairs_listpack(
                    &blob,
                    ty == kind::ZSET_ZIPLIST,
                    start,
                    if ty == kind::ZSET_ZIPLIST {
                        "Zset ziplist"
                    } else {
                        "Zset listpack"
                    },
                )?;
                self.validated += u64::from(ty == kind::ZSET_LISTPACK);
                let mut z = ZSetValue::Listpack(lp);
                if z.len() > limits.zset.max_entries {
                    z.convert_to_skiplist();
                }
                Value::ZSet(Box::new(z))
            }
            kind::HASH => self.read_hash_table(limits)?,
            kind::HASH_ZIPMAP => {
                let zm = self.read_string()?;
                let mut lp = Listpack::new();
                let mut seen = HashSet::new();
                let mut dup = false;
                let mut maxlen = 0;
                zipmap_for_each(&zm, |f, v| {
                    dup |= !seen.insert(f.to_vec());
                    maxlen = maxlen.max(f.len()).max(v.len());
                    lp.push_back(f);
                    lp.push_back(v);
                })
                .or(err(start, RdbErrorKind::Corrupt("Zipmap")))?;
                // Redis's zipmap check refuses a zipmap without entries.
                if lp.is_empty() {
                    return err(start, RdbErrorKind::Corrupt("Zipmap"));
                }
                if dup {
                    return err(start, RdbErrorKind::Duplicate("hash fields"));
                }
                let mut h = HashValue::from_listpack(&lp);
                if h.len() > limits.hash.max_entries || maxlen > limits.hash.max_value {
                    h.convert();
                }
                Value::Hash(Box::new(h))
            }
            kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
                let blob = self.read_string()?;
                let lp = pairs_listpack(
                    &blob,
                    ty == kind::HASH_ZIPLIST,
                    start,
                    if ty == kind::HASH_ZIPLIST {
                        "Hash ziplist"
                    } else {
                        "Hash listpack"
                    },
                )?;
                self.validated += u64::from(ty == kind::HASH_LISTPACK);
                let mut h = HashValue::from_listpack(&lp);
                if h.len() > limits.hash.max_entries {
                    h.convert();
                }
                Value::Hash(Box::new(h))
            }
            kind::HASH_METADATA | kind::HASH_METADATA_PRE_GA => {
                self.read_hash_metadata(ty, limits, now_ms)?
            }
            kind::HASH_LISTPACK_EX | kind::HASH_LISTPACK_EX_PRE_GA => {
                self.read_hash_listpack_ex(ty, limits, now_ms)?
            }
            kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 | kind::STREAM_LISTPACKS_3 => {
                Value::Stream(Box::new(super::stream::read_stream(self, ty)?))
            }
            kind::MODULE_PRE_GA | kind::MODULE_2 => {
                return err(start, RdbErrorKind::UnsupportedType("module"));
            }
            other => return err(start.saturating_sub(1), RdbErrorKind::UnknownType(other)),
        };
        if collection_len(&value) == 0 {
            return err(start, RdbErrorKind::EmptyKey);
        }
        Ok(Object::Value(value))
    }

    fn read_linked_list(&mut self, limits: &Limits) -> Result<Value, RdbError> {
        let n = self.read_len()?;
        let mut list = new_list(limits);
        for _ in 0..n {
            let s = self.read_string()?;
            list.push(End::Tail, &s);
        }
        Ok(Value::List(Box::new(list)))
    }

    fn read_quicklist(&mut self, ty: u8, limits: &Limits) -> Result<Value, RdbError> {
        let nodes = self.read_len()?;
        let mut list = new_list(limits);
        for _ in 0..nodes {
            let at = self.pos;
            let container = if ty == kind::LIST_QUICKLIST_2 {
                self.read_len()?
            } else {
                2
            };
            if container != 1 && container != 2 {
                return err(at, RdbErrorKind::Corrupt("Quicklist"));
            }
            let blob = self.read_string()?;
            if blob.is_empty() {
                return err(at, RdbErrorKind::Corrupt("Quicklist"));
            }
            if container == 1 {
                // A plain node: one large element.
                list.push(End::Tail, &blob);
            } else if ty == kind::LIST_QUICKLIST_2 {
                let lp = Listpack::from_bytes(blob.into_owned())
                    .or(err(at, RdbErrorKind::Corrupt("Listpack")))?;
                self.validated += 1;
                list.append_listpack(lp);
            } else {
                let mut lp = Listpack::new();
                ziplist_for_each(&blob, |v| match v {
                    LpValue::Int(n) => lp.push_back_int(n),
                    LpValue::Str(s) => lp.push_back(s),
                })
                .or(err(at, RdbErrorKind::Corrupt("Ziplist")))?;
                list.append_listpack(lp);
            }
        }
        Ok(Value::List(Box::new(list)))
    }

    fn read_set(&mut self, ty: u8, limits: &Limits) -> Result<Value, RdbError> {
        let start = self.pos;
        let max = limits.set_max_intset_entries;
        let mut set = SetValue::new_intset();
        let dup = || err(start, RdbErrorKind::Duplicate("set members"));
        match ty {
            kind::SET_INTSET => {
                let blob = self.read_string()?;
                let is = IntSet::from_bytes(&blob)
                    .filter(|is| !is.is_empty())
                    .ok_or(RdbError::new(start, RdbErrorKind::Corrupt("Intset")))?;
                self.validated += 1;
                if is.len() <= max {
                    set = SetValue::IntSet(is);
                } else {
                    set = SetValue::HashTable(Dict::new());
                    let mut buf = [0u8; 20];
                    for v in is.iter() {
                        set.add(format_i64(v, &mut buf), max);
                    }
                }
            }
            kind::SET_LISTPACK => {
                let blob = self.read_string()?;
                let lp = Listpack::from_bytes(blob.into_owned())
                    .or(err(start, RdbErrorKind::Corrupt("Set listpack")))?;
                for v in lp.iter() {
                    if !set.add(&lp_text(v), max) {
                        return dup();
                    }
                }
            }
            _ => {
                let n = self.read_len()?;
                if n > max as u64 {
                    set = SetValue::HashTable(Dict::new());
                }
                for _ in 0..n {
                    let m = self.read_string()?;
                    if !set.add(&m, max) {
                        return dup();
                    }
                }
            }
        }
        Ok(Value::Set(Box::new(set)))
    }

    fn read_skiplist(&mut self, ty: u8, limits: &Limits) -> Result<Value, RdbError> {
        let start = self.pos;
        let n = self.read_len()?;
        let mut z = ZSetValue::new_skiplist();
        let mut maxlen = 0;
        for _ in 0..n {
            let at = self.pos;
            let member = self.read_string()?;
            let score = if ty == kind::ZSET_2 {
                self.read_binary_double()?
            } else {
                self.read_text_double()?
            };
            if score.is_nan() {
                return err(at, RdbErrorKind::BadDouble);
            }
            if z.score(&member).is_some() {
                return err(start, RdbErrorKind::Duplicate("zset members"));
            }
            maxlen = maxlen.max(member.len());
            z.set(&member, score, limits.zset);
        }
        z.shrink_if_fits(limits.zset, maxlen);
        Ok(Value::ZSet(Box::new(z)))
    }

    fn read_hash_table(&mut self, limits: &Limits) -> Result<Value, RdbError> {
        let start = self.pos;
        let n = self.read_len()?;
        let mut h = HashValue::new();
        if n > limits.hash.max_entries as u64 {
            h.convert();
        }
        for _ in 0..n {
            let f = self.read_string()?;
            let v = self.read_string()?;
            if !h.set(&f, &v, limits.hash) {
                return err(start, RdbErrorKind::Duplicate("hash fields"));
            }
        }
        Ok(Value::Hash(Box::new(h)))
    }

    fn read_hash_metadata(
        &mut self,
        ty: u8,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Value, RdbError> {
        let start = self.pos;
        let min_expire = if ty == kind::HASH_METADATA {
            self.read_ms()?
        } else {
            0
        };
        let n = self.read_len()?;
        let mut h = HashValue::new();
        if n > limits.hash.max_entries as u64 {
            h.convert();
        }
        let mut seen = HashSet::new();
        for _ in 0..n {
            let at = self.pos;
            let ttl = self.read_len()?;
            let expire_at = match (ttl, ty) {
                (0, _) => 0,
                (t, kind::HASH_METADATA) => {
                    let rel = i64::try_from(t).or(err(at, RdbErrorKind::BadLength))?;
                    min_expire.saturating_add(rel - 1)
                }
                (t, _) => i64::try_from(t).or(err(at, RdbErrorKind::BadLength))?,
            };
            let f = self.read_string()?;
            let v = self.read_string()?;
            if !seen.insert(f.to_vec()) {
                return err(start, RdbErrorKind::Duplicate("hash fields"));
            }
            if expire_at != 0 && expire_at <= now_ms {
                continue;
            }
            h.set(&f, &v, limits.hash);
            if expire_at != 0 {
                h.set_field_ttl(&f, expire_at);
            }
        }
        Ok(Value::Hash(Box::new(h)))
    }

    fn read_hash_listpack_ex(
        &mut self,
        ty: u8,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Value, RdbError> {
        let start = self.pos;
        if ty == kind::HASH_LISTPACK_EX {
            self.read_ms()?;
        }
        let blob = self.read_string()?;
        let lp = Listpack::from_bytes(blob.into_owned())
            .or(err(start, RdbErrorKind::Corrupt("Hash listpack")))?;
        if lp.len() % 3 != 0 {
            return err(start, RdbErrorKind::Corrupt("Hash listpack"));
        }
        let mut h = HashValue::new();
        if lp.len() / 3 > limits.hash.max_entries {
            h.convert();
        }
        let mut seen = HashSet::new();
        let mut it = lp.iter();
        while let (Some(f), Some(v), Some(ttl)) = (it.next(), it.next(), it.next()) {
            let f = lp_text(f);
            if !seen.insert(f.to_vec()) {
                return err(start, RdbErrorKind::Duplicate("hash fields"));
            }
            let expire_at = ttl.as_i64().unwrap_or(0);
            if expire_at != 0 && expire_at <= now_ms {
                continue;
            }
            h.set(&f, &lp_text(v), limits.hash);
            if expire_at != 0 {
                h.set_field_ttl(&f, expire_at);
            }
        }
        Ok(Value::Hash(Box::new(h)))
    }
}

fn new_list(limits: &Limits) -> ListValue {
    ListValue::new(limits.list_max_listpack_size, limits.list_compress_depth)
}

fn collection_len(v: &Value) -> usize {
    match v {
        Value::List(l) => l.len(),
        Value::Set(s) => s.len(),
        Value::Hash(h) => h.len(),
        Value::ZSet(z) => z.len(),
        // An empty stream is a valid value (XADD then XDEL, XGROUP CREATE MKSTREAM).
        Value::Embstr | Value::Raw | Value::Int(_) | Value::Stream(_) => 1,
    }
}

fn lp_text(v: LpValue<'_>) -> Cow<'_, [u8]> {
    match v {
        LpValue::Str(s) => Cow::Borrowed(s),
        LpValue::Int(n) => {
            let mut buf = [0u8; 20];
            Cow::Owned(format_i64(n, &mut buf).to_vec())
        }
    }
}

/// A listpack of pairs (hash field/value, zset member/score) from a ziplist or listpack blob,
/// checked for structure, an even count and duplicate first elements. `what` names the
/// encoding as Redis's integrity messages do ("Hash ziplist").
fn pairs_listpack(
    blob: &[u8],
    ziplist: bool,
    at: usize,
    what: &'static str,
) -> Result<Listpack, RdbError> {
    let corrupt = RdbError::new(at, RdbErrorKind::Corrupt(what));
    let lp = if ziplist {
        let mut lp = Listpack::new();
        ziplist_for_each(blob, |v| match v {
            LpValue::Int(n) => lp.push_back_int(n),
            LpValue::Str(s) => lp.push_back(s),
        })
        .or(Err(corrupt.clone()))?;
        lp
    } else {
        Listpack::from_bytes(blob.to_vec()).or(Err(corrupt.clone()))?
    };
    if lp.len() % 2 != 0 {
        return Err(corrupt);
    }
    let mut seen = HashSet::new();
    for (i, v) in lp.iter().enumerate() {
        if i % 2 == 0 && !seen.insert(lp_text(v).into_owned()) {
            // Redis's ziplist conversion reports duplicates as a failed integrity check; a
            // listpack's duplicates are what its conversion to a table trips over.
            return Err(if ziplist {
                corrupt
            } else {
                RdbError::new(at, RdbErrorKind::DupElements(what))
            });
        }
    }
    if lp.is_empty() {
        return err(at, RdbErrorKind::EmptyKey);
    }
    Ok(lp)
}

/// Checks a `RESTORE` payload's footer as Redis 7.0 does: a version no newer than ours and
/// a matching CRC64 (skipped when `verify_crc` is false).
pub fn verify_dump_payload(payload: &[u8], verify_crc: bool) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    // Redis 7.0's limit, except for the hash field-TTL types, which exist from version 12 on
    // (what our DUMP writes for them).
    let field_ttls = matches!(payload[0], kind::HASH_METADATA | kind::HASH_LISTPACK_EX);
    if version > RDB_VERSION && !(field_ttls && version <= RDB_VERSION_FIELD_TTLS) {
        return false;
    }
    if !verify_crc {
        return true;
    }
    let crc = crc64::crc64(&payload[..payload.len() - 8]);
    crc.to_le_bytes() == footer[2..]
}

/// Decodes a `RESTORE` payload (already verified) into its value.
pub fn read_dump_payload(payload: &[u8], limits: &Limits, now_ms: i64) -> Result<Object, RdbError> {
    read_dump_payload_counted(payload, limits, now_ms).map(|(object, _)| object)
}

/// [`read_dump_payload`], also telling how many listpacks and intsets were validated.
pub fn read_dump_payload_counted(
    payload: &[u8],
    limits: &Limits,
    now_ms: i64,
) -> Result<(Object, u64), RdbError> {
    let body = &payload[..payload.len().saturating_sub(10)];
    let mut r = Reader::new(body);
    let ty = r.read_u8()?;
    let object = r.read_object(ty, limits, now_ms)?;
    Ok((object, r.validated()))
}

/// One record of a file, as [`load`] hands it over.
#[derive(Debug)]
pub enum Record<'a> {
    /// An `AUX` field (`redis-ver`, `ctime`, `repl-id`, ...).
    Aux {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
    },
    /// `RESIZEDB`: how many keys (and keys with a TTL) the current database will get.
    ResizeDb { db: usize, keys: u64, volatile: u64 },
    /// A function library's code (`FUNCTION2`).
    Function(Cow<'a, [u8]>),
    /// A key, its value, and what came before it.
    Key(KeyRecord),
    /// A collection with no elements, skipped (Redis logs its name).
    EmptyKey { db: usize, key: Vec<u8> },
}

/// A key as stored in the file.
#[derive(Debug)]
pub struct KeyRecord {
    pub db: usize,
    pub key: Vec<u8>,
    pub object: Object,
    /// Absolute Unix time in milliseconds.
    pub expire_ms: Option<i64>,
    /// Seconds idle (`IDLE`).
    pub idle: Option<u64>,
    /// LFU counter (`FREQ`).
    pub freq: Option<u8>,
}

/// What [`load`] learned beyond the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadSummary {
    pub version: u16,
    /// Collections that held no element (skipped, as Redis skips them).
    pub empty_keys_skipped: u64,
    /// The footer checksum was zero: the file was written with `rdbchecksum no`.
    pub checksum_disabled: bool,
    /// The offset just past the file's end (EOF opcode and checksum): where an AOF's
    /// commands start after an RDB preamble.
    pub end: usize,
}

/// Reads a whole RDB file, passing each record to `sink` (which may stop the load with an
/// error). `verify_checksum` is `rdbchecksum`.
pub fn load(
    data: &[u8],
    limits: &Limits,
    now_ms: i64,
    verify_checksum: bool,
    mut sink: impl FnMut(Record<'_>) -> Result<(), RdbError>,
) -> Result<LoadSummary, RdbError> {
    load_tracked(data, limits, now_ms, verify_checksum, |record, _| {
        sink(record)
    })
}

/// [`load`], also telling `sink` the offset just past each record (how far the load got, for
/// a loader that serves clients every so many bytes).
pub fn load_tracked(
    data: &[u8],
    limits: &Limits,
    now_ms: i64,
    verify_checksum: bool,
    mut sink: impl FnMut(Record<'_>, usize) -> Result<(), RdbError>,
) -> Result<LoadSummary, RdbError> {
    let mut r = Reader::new(data);
    let magic = r.read_bytes(9).or(err(0, RdbErrorKind::BadMagic))?;
    if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
        return err(0, RdbErrorKind::BadMagic);
    }
    let version = magic[5..]
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    if !(1..=MAX_READ_VERSION).contains(&version) {
        return err(5, RdbErrorKind::UnsupportedVersion(version));
    }
    let mut summary = LoadSummary {
        version,
        ..LoadSummary::default()
    };
    let mut db = 0usize;
    let mut expire_ms = None;
    let mut idle = None;
    let mut freq = None;
    loop {
        let at = r.offset();
        let ty = r.read_u8()?;
        match ty {
            opcode::EXPIRETIME => {
                let secs = u32::from_le_bytes(r.read_array()?);
                expire_ms = Some(i64::from(secs) * 1000);
            }
            opcode::EXPIRETIME_MS => expire_ms = Some(r.read_ms()?),
            opcode::IDLE => idle = Some(r.read_len()?),
            opcode::FREQ => freq = Some(r.read_u8()?),
            opcode::SELECTDB => db = r.read_usize()?,
            opcode::RESIZEDB => {
                let keys = r.read_len()?;
                let volatile = r.read_len()?;
                sink(Record::ResizeDb { db, keys, volatile }, r.offset())?;
            }
            opcode::SLOT_INFO => {
                r.read_len()?;
                r.read_len()?;
                r.read_len()?;
            }
            opcode::AUX => {
                let key = r.read_string()?;
                let value = r.read_string()?;
                sink(Record::Aux { key, value }, r.offset())?;
            }
            opcode::FUNCTION2 => {
                let code = r.read_string()?;
                sink(Record::Function(code), r.offset())?;
            }
            opcode::FUNCTION_PRE_GA => {
                return err(at, RdbErrorKind::UnsupportedType("pre-release function"));
            }
            opcode::MODULE_AUX => {
                return err(at, RdbErrorKind::UnsupportedType("module auxiliary data"));
            }
            opcode::EOF => break,
            _ => {
                let key = r.read_string()?.into_owned();
                let record = match r.read_object(ty, limits, now_ms) {
                    Ok(object) => Some(KeyRecord {
                        db,
                        key,
                        object,
                        expire_ms: expire_ms.take(),
                        idle: idle.take(),
                        freq: freq.take(),
                    }),
                    Err(RdbError {
                        kind: RdbErrorKind::EmptyKey,
                        ..
                    }) => {
                        summary.empty_keys_skipped += 1;
                        expire_ms = None;
                        idle = None;
                        freq = None;
                        sink(Record::EmptyKey { db, key }, r.offset())?;
                        None
                    }
                    Err(e) => return Err(e),
                };
                if let Some(rec) = record {
                    sink(Record::Key(rec), r.offset())?;
                }
            }
        }
    }
    if version >= 5 {
        let at = r.offset();
        let computed = crc64::crc64(&data[..at]);
        let stored = u64::from_le_bytes(r.read_array()?);
        if stored == 0 {
            summary.checksum_disabled = true;
        } else if verify_checksum && stored != computed {
            return err(
                at,
                RdbErrorKind::Checksum {
                    expected: stored,
                    actual: computed,
                },
            );
        }
    }
    summary.end = r.offset();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Entry;
    use crate::rdb::legacy::tests::{build_ziplist, build_zipmap};
    use crate::rdb::writer::{self, Eviction, RdbWriter};
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn entries() -> Vec<Entry> {
        let l = limits();
        let mut out = vec![
            Entry::string(b"s:int", b"12345", 0),
            Entry::string(b"s:big-int", b"123456789012", 0),
            Entry::string(b"s:short", b"hello", 0),
            Entry::string(b"s:long", &[b'z'; 200], 0),
            Entry::string(b"s:empty", b"", 0),
        ];
        let mut small_list = ListValue::new(-2, 0);
        let mut big_list = ListValue::new(-2, 1);
        for i in 0..5 {
            small_list.push(End::Tail, format!("e{i}").as_bytes());
        }
        for i in 0..3000 {
            big_list.push(End::Tail, format!("element-{i}").as_bytes());
        }
        out.push(Entry::collection(
            b"l:small",
            Value::List(Box::new(small_list)),
            0,
        ));
        out.push(Entry::collection(
            b"l:big",
            Value::List(Box::new(big_list)),
            0,
        ));
        let mut iset = SetValue::new_intset();
        let mut hset = SetValue::new_intset();
        for i in 0..10 {
            iset.add(format!("{i}").as_bytes(), 512);
            hset.add(format!("m{i}").as_bytes(), 512);
        }
        out.push(Entry::collection(b"set:int", Value::Set(Box::new(iset)), 0));
        out.push(Entry::collection(b"set:ht", Value::Set(Box::new(hset)), 0));
        let mut small_h = HashValue::new();
        let mut big_h = HashValue::new();
        for i in 0..5 {
            small_h.set(
                format!("f{i}").as_bytes(),
                format!("{i}").as_bytes(),
                l.hash,
            );
        }
        for i in 0..1000 {
            big_h.set(
                format!("f{i}").as_bytes(),
                format!("v{i}").as_bytes(),
                l.hash,
            );
        }
        out.push(Entry::collection(
            b"h:small",
            Value::Hash(Box::new(small_h)),
            0,
        ));
        out.push(Entry::collection(b"h:big", Value::Hash(Box::new(big_h)), 0));
        let mut small_z = ZSetValue::new_listpack();
        let mut big_z = ZSetValue::new_listpack();
        for i in 0..5 {
            small_z.set(format!("m{i}").as_bytes(), f64::from(i) * 1.5, l.zset);
        }
        for i in 0..500 {
            big_z.set(format!("m{i}").as_bytes(), f64::from(i) / 3.0, l.zset);
        }
        big_z.set(b"inf", f64::INFINITY, l.zset);
        out.push(Entry::collection(
            b"z:small",
            Value::ZSet(Box::new(small_z)),
            0,
        ));
        out.push(Entry::collection(b"z:big", Value::ZSet(Box::new(big_z)), 0));
        out
    }

    fn same(entry: &Entry, object: &Object) {
        match object {
            Object::String(s) => {
                let mut buf = [0u8; 20];
                assert_eq!(entry.as_str().unwrap().bytes(&mut buf), &s[..]);
            }
            Object::Value(Value::List(l)) => {
                let Value::List(want) = entry.value() else {
                    panic!("not a list")
                };
                assert!(l.to_vecs() == want.to_vecs());
            }
            Object::Value(v) => {
                assert!(
                    v == entry.value(),
                    "{:?}",
                    String::from_utf8_lossy(entry.key())
                );
                assert_eq!(v.encoding_name(), entry.value().encoding_name());
            }
        }
    }

    #[test]
    fn every_type_round_trips_through_a_file() {
        for compress in [true, false] {
            let es = entries();
            let mut w = RdbWriter::new(compress, true);
            w.aux("redis-ver", b"7.0.15");
            w.aux_int("redis-bits", 64);
            w.select_db(0, es.len(), 1);
            for (i, e) in es.iter().enumerate() {
                let exp = (i == 0).then_some(4_000_000_000_000);
                w.key_value(e, exp, Eviction::None);
            }
            w.select_db(3, 1, 0);
            w.key_value(&es[2], None, Eviction::Idle(5));
            let first = w.take();
            let mut file = first;
            file.extend_from_slice(&w.finish());
            let mut got = Vec::new();
            let mut aux = Vec::new();
            let summary = load(&file, &limits(), 0, true, |rec| {
                match rec {
                    Record::Key(k) => got.push(k),
                    Record::Aux { key, value } => aux.push((key.into_owned(), value.into_owned())),
                    _ => {}
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(summary.version, 10);
            assert_eq!(aux[1], (b"redis-bits".to_vec(), b"64".to_vec()));
            assert_eq!(got.len(), es.len() + 1);
            for (e, k) in es.iter().zip(&got) {
                assert_eq!(e.key(), &k.key[..]);
                same(e, &k.object);
            }
            assert_eq!(got[0].expire_ms, Some(4_000_000_000_000));
            assert_eq!(got[1].expire_ms, None);
            assert_eq!(
                (got.last().unwrap().db, got.last().unwrap().idle),
                (3, Some(5))
            );

            // Any flipped byte is caught by the checksum (or the structure), never a panic.
            let mut bad = file.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x55;
            assert!(load(&bad, &limits(), 0, true, |_| Ok(())).is_err());
        }
    }

    #[test]
    fn dump_payloads_round_trip() {
        for e in entries() {
            let p = writer::dump_payload(&e);
            assert!(verify_dump_payload(&p, true));
            let obj = read_dump_payload(&p, &limits(), 0).unwrap();
            same(&e, &obj);
            let mut bad = p.clone();
            bad[1] ^= 1;
            assert!(!verify_dump_payload(&bad, true));
        }
        // A newer version is refused even with a good checksum.
        let mut p = writer::dump_payload(&Entry::string(b"k", b"v", 0));
        let n = p.len();
        p[n - 10] = 11;
        let crc = crc64::crc64(&p[..n - 8]);
        p[n - 8..].copy_from_slice(&crc.to_le_bytes());
        assert!(!verify_dump_payload(&p, true));
    }

    fn object(ty: u8, body: &[u8]) -> Result<Object, RdbError> {
        let mut r = Reader::new(body);
        r.read_object(ty, &limits(), 1000)
    }

    fn blob(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        writer::write_string(&mut out, bytes, false);
        out
    }

    #[test]
    fn legacy_encodings_load_and_convert() {
        // List ziplist.
        let zl = build_ziplist(&[LpValue::Str(b"a"), LpValue::Int(5)]);
        let Object::Value(Value::List(l)) = object(kind::LIST_ZIPLIST, &blob(&zl)).unwrap() else {
            panic!()
        };
        assert_eq!(l.to_vecs(), vec![b"a".to_vec(), b"5".to_vec()]);
        // Quicklist of ziplists.
        let mut body = vec![2];
        body.extend(blob(&zl));
        body.extend(blob(&build_ziplist(&[LpValue::Str(b"c")])));
        let Object::Value(Value::List(l)) = object(kind::LIST_QUICKLIST, &body).unwrap() else {
            panic!()
        };
        assert_eq!(l.len(), 3);
        // Hash zipmap, small and over the value limit.
        let zm = build_zipmap(&[(b"f", b"v"), (b"g", b"w")]);
        let Object::Value(Value::Hash(h)) = object(kind::HASH_ZIPMAP, &blob(&zm)).unwrap() else {
            panic!()
        };
        assert_eq!((h.len(), h.encoding_name()), (2, "listpack"));
        let long = [b'x'; 100];
        let zm = build_zipmap(&[(b"f", &long)]);
        let Object::Value(Value::Hash(h)) = object(kind::HASH_ZIPMAP, &blob(&zm)).unwrap() else {
            panic!()
        };
        assert_eq!(h.encoding_name(), "hashtable");
        // Hash and zset ziplists; duplicates refused.
        let zl = build_ziplist(&[LpValue::Str(b"f"), LpValue::Int(1)]);
        let Object::Value(Value::Hash(h)) = object(kind::HASH_ZIPLIST, &blob(&zl)).unwrap() else {
            panic!()
        };
        assert_eq!(h.get(b"f").map(|v| v.to_vec()), Some(b"1".to_vec()));
        let zl = build_ziplist(&[LpValue::Str(b"m"), LpValue::Str(b"1.5")]);
        let Object::Value(Value::ZSet(z)) = object(kind::ZSET_ZIPLIST, &blob(&zl)).unwrap() else {
            panic!()
        };
        assert_eq!(z.score(b"m"), Some(1.5));
        let dup = build_ziplist(&[
            LpValue::Str(b"m"),
            LpValue::Int(1),
            LpValue::Str(b"m"),
            LpValue::Int(2),
        ]);
        // Redis reports a ziplist's duplicates as a failed integrity check.
        assert_eq!(
            object(kind::ZSET_ZIPLIST, &blob(&dup)).unwrap_err().kind,
            RdbErrorKind::Corrupt("Zset ziplist")
        );
        assert_eq!(
            RdbErrorKind::Corrupt("Zset ziplist").to_string(),
            "Zset ziplist integrity check failed."
        );
        // Version-1 zset with text scores, inf and a member set.
        let mut body = vec![2];
        body.extend(blob(b"a"));
        body.extend([3, b'2', b'.', b'5']);
        body.extend(blob(b"b"));
        body.push(254);
        let Object::Value(Value::ZSet(z)) = object(kind::ZSET, &body).unwrap() else {
            panic!()
        };
        assert_eq!(
            (z.score(b"a"), z.score(b"b")),
            (Some(2.5), Some(f64::INFINITY))
        );
        // Linked list, set (with duplicate refused), empty set skipped.
        let mut body = vec![2];
        body.extend(blob(b"x"));
        body.extend(blob(b"x"));
        assert!(object(kind::SET, &body).is_err());
        assert_eq!(
            object(kind::SET, &[0]).unwrap_err().kind,
            RdbErrorKind::EmptyKey
        );
        assert!(matches!(
            object(kind::LIST, &body).unwrap(),
            Object::Value(Value::List(_))
        ));
    }

    #[test]
    fn set_listpacks_of_redis_7_2_become_intsets_or_tables() {
        let build = |members: &[&[u8]]| {
            let mut lp = Listpack::new();
            for m in members {
                lp.push_back(m);
            }
            blob(lp.as_bytes())
        };
        let Object::Value(Value::Set(s)) =
            object(kind::SET_LISTPACK, &build(&[b"1", b"2"])).unwrap()
        else {
            panic!()
        };
        assert_eq!((s.len(), s.encoding_name()), (2, "intset"));
        let Object::Value(Value::Set(s)) =
            object(kind::SET_LISTPACK, &build(&[b"a", b"2"])).unwrap()
        else {
            panic!()
        };
        assert_eq!((s.len(), s.encoding_name()), (2, "hashtable"));
        assert!(matches!(
            object(kind::SET_LISTPACK, &build(&[b"a", b"a"]))
                .unwrap_err()
                .kind,
            RdbErrorKind::Duplicate(_)
        ));
    }

    #[test]
    fn hash_field_ttls_drop_expired_fields() {
        // HASH_METADATA (TTLs relative to the minimum, plus one): min expire 500, field a
        // expires at 500 (gone at 1000), b at 2000 (kept), c has none.
        let mut body = 500i64.to_le_bytes().to_vec();
        body.push(3);
        body.push(1);
        body.extend(blob(b"a"));
        body.extend(blob(b"1"));
        writer::write_len(&mut body, 1501);
        body.extend(blob(b"b"));
        body.extend(blob(b"2"));
        body.push(0);
        body.extend(blob(b"c"));
        body.extend(blob(b"3"));
        let Object::Value(Value::Hash(h)) = object(kind::HASH_METADATA, &body).unwrap() else {
            panic!()
        };
        assert_eq!(h.len(), 2);
        assert!(!h.contains(b"a") && h.contains(b"b") && h.contains(b"c"));
        assert_eq!(h.field_ttl(b"b"), Some(2000));
        assert_eq!(h.field_ttl(b"c"), None);
        // HASH_LISTPACK_EX: triples.
        let mut lp = Listpack::new();
        for (f, v, t) in [
            (&b"a"[..], &b"1"[..], 10i64),
            (b"b", b"2", 0),
            (b"c", b"3", 5000),
        ] {
            lp.push_back(f);
            lp.push_back(v);
            lp.push_back_int(t);
        }
        let mut body = 10i64.to_le_bytes().to_vec();
        body.extend(blob(lp.as_bytes()));
        let Object::Value(Value::Hash(h)) = object(kind::HASH_LISTPACK_EX, &body).unwrap() else {
            panic!()
        };
        assert_eq!(h.len(), 2);
        assert!(!h.contains(b"a"));
        assert_eq!(h.field_ttl(b"c"), Some(5000));
        assert_eq!(h.field_ttl(b"b"), None);
        assert_eq!(h.encoding_name(), "listpackex");
    }

    /// A hash with field TTLs DUMPs in Redis 7.4's layouts (`rdbSaveObject`, RDB 12): the
    /// soonest expiry as 8 little-endian bytes, then for `HASH_LISTPACK_EX` a listpack of
    /// field, value, absolute expiry (0 for none) triplets in expiry order, and for
    /// `HASH_METADATA` the count, then per field its expiry relative to the soonest plus one
    /// (0 for none), the field and the value.
    #[test]
    fn hashes_with_field_ttls_dump_in_redis_7_4_layout_and_round_trip() {
        let l = limits();
        let mut h = HashValue::new();
        h.set(b"a", b"1", l.hash);
        h.set(b"b", b"x", l.hash);
        h.set_field_ttl(b"b", 5000);
        let e = Entry::collection(b"k", Value::Hash(Box::new(h.clone())), 0);
        let p = writer::dump_payload(&e);
        assert_eq!(p[0], kind::HASH_LISTPACK_EX);
        assert_eq!(&p[1..9], &5000i64.to_le_bytes());
        let mut lp = Listpack::new();
        lp.push_back(b"b");
        lp.push_back(b"x");
        lp.push_back_int(5000);
        lp.push_back(b"a");
        lp.push_back(b"1");
        lp.push_back_int(0);
        let mut expected = vec![kind::HASH_LISTPACK_EX];
        expected.extend_from_slice(&5000i64.to_le_bytes());
        expected.extend(blob(lp.as_bytes()));
        expected.extend_from_slice(&12u16.to_le_bytes());
        assert_eq!(&p[..p.len() - 8], &expected[..]);
        assert!(verify_dump_payload(&p, true));
        let Object::Value(Value::Hash(back)) = read_dump_payload(&p, &l, 0).unwrap() else {
            panic!()
        };
        assert_eq!(*back, h);

        let mut t = h.clone();
        t.convert();
        t.set_field_ttl(b"a", 7000);
        let e = Entry::collection(b"k", Value::Hash(Box::new(t.clone())), 0);
        let p = writer::dump_payload(&e);
        assert_eq!(p[0], kind::HASH_METADATA);
        let mut r = Reader::new(&p[1..]);
        assert_eq!(r.read_ms().unwrap(), 5000);
        assert_eq!(r.read_len().unwrap(), 2);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let rel = r.read_len().unwrap();
            let f = r.read_string().unwrap().to_vec();
            r.read_string().unwrap();
            seen.push((f, rel));
        }
        seen.sort();
        assert_eq!(seen, vec![(b"a".to_vec(), 2001), (b"b".to_vec(), 1)]);
        let Object::Value(Value::Hash(mut back)) = read_dump_payload(&p, &l, 0).unwrap() else {
            panic!()
        };
        // Small enough for a listpack on load, as 7.4 loads it.
        assert_eq!(back.encoding_name(), "listpackex");
        back.convert();
        assert_eq!(*back, t);
        // Past field times are dropped on load, as 7.4 does on a master.
        let Object::Value(Value::Hash(back)) = read_dump_payload(&p, &l, 6000).unwrap() else {
            panic!()
        };
        assert_eq!(back.len(), 1);
        assert!(back.contains(b"a"));

        // A whole file with such a hash declares version 12.
        let mut w = RdbWriter::with_version(false, true, writer::version_for(e.value()));
        w.key_value(&e, None, Eviction::None);
        let file = w.finish();
        assert_eq!(&file[..9], b"REDIS0012");
        let mut loaded = 0;
        load(&file, &l, 0, true, |_| {
            loaded += 1;
            Ok(())
        })
        .unwrap();
        assert!(loaded >= 1);
    }

    #[test]
    fn modules_and_unknown_types_are_refused() {
        assert_eq!(
            object(kind::MODULE_2, &[0]).unwrap_err().kind,
            RdbErrorKind::UnsupportedType("module")
        );
        assert!(matches!(
            object(99, &[0]).unwrap_err().kind,
            RdbErrorKind::UnknownType(99)
        ));
    }

    #[test]
    fn lzf_lengths_are_bounded_before_allocating() {
        // Claims 2^40 bytes from 2 compressed bytes.
        let body = [0xc3, 2, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            object(kind::STRING, &body).unwrap_err().kind,
            RdbErrorKind::BadLzf
        );
        // A set claiming 2^60 members with two bytes of data.
        let body = [0x81, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, b'a'];
        assert_eq!(
            object(kind::SET, &body).unwrap_err().kind,
            RdbErrorKind::Truncated
        );
    }

    #[test]
    fn files_need_the_magic_and_a_known_version() {
        let ok = |b: &[u8]| load(b, &limits(), 0, true, |_| Ok(()));
        assert_eq!(
            ok(b"REDIX0010\xff").unwrap_err().kind,
            RdbErrorKind::BadMagic
        );
        assert_eq!(
            ok(b"REDIS0013\xff").unwrap_err().kind,
            RdbErrorKind::UnsupportedVersion(13)
        );
        // Version 4 has no checksum footer.
        assert_eq!(ok(b"REDIS0004\xff").unwrap().version, 4);
        // A zero checksum means "not computed".
        let mut f = b"REDIS0009\xff".to_vec();
        f.extend([0; 8]);
        assert!(ok(&f).unwrap().checksum_disabled);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(ty in 0u8..30, body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = object(ty, &body);
            let mut file = b"REDIS0010".to_vec();
            file.extend_from_slice(&body);
            let _ = load(&file, &limits(), 0, true, |_| Ok(()));
        }

        #[test]
        fn mutated_files_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let es = entries();
            let mut w = RdbWriter::new(true, false);
            w.select_db(0, es.len(), 0);
            for e in es.iter().take(12) {
                if e.key() != b"l:big" && e.key() != b"h:big" {
                    w.key_value(e, None, Eviction::None);
                }
            }
            let mut file = w.finish();
            let n = file.len();
            for (at, b) in flips {
                file[at % n] = b;
            }
            let _ = load(&file, &limits(), 0, false, |_| Ok(()));
        }
    }
}
