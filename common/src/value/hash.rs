//! Hash values (Redis's "Hash API" of `t_hash.c`): field → value maps in one of two encodings.
//!
//! - `listpack`: a [`SmallHash`], field, value, field, value... in insertion order in one
//!   exact-size allocation, while the hash has at most `hash-max-listpack-entries` fields and
//!   no field or value is longer than `hash-max-listpack-value` bytes. Redis keeps a real
//!   listpack there; ours drops the per-element encoding byte and back-length (a varint
//!   length and the bytes are enough to walk forward), which is what makes 100k small hashes
//!   no bigger than Redis's. RDB, DUMP and DEBUG get a real [`Listpack`] built on demand.
//! - `hashtable`: a [`Dict`] of [`HashPair`]s (field and value in one allocation), whose
//!   reverse-binary cursor keeps HSCAN's guarantee while the table resizes.
//!
//! A hash converts from `listpack` to `hashtable` at Redis 7.0's thresholds and never back.
//!
//! Field TTLs (Redis 7.4's hash-field expiry) live in a side structure, [`VolatileHash`],
//! allocated only when a field first gets one: a hash without field TTLs is exactly the
//! 7.0 value. A `listpack` hash with TTLs reports `listpackex`, as 7.4's does, and keeps
//! 7.4's field order: fields with a TTL first, soonest first, then the rest.
//! Elements are read as [`LpValue`], the type listpack readers share.

use std::collections::{BTreeSet, HashMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;

use crate::encoding::listpack::{Listpack, LpValue, SAFETY_SIZE};
use crate::keyspace::dict::{Dict, DictItem};

/// The conversion thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for HashLimits {
    /// Redis 7.0's built-in defaults.
    fn default() -> Self {
        HashLimits {
            max_entries: 512,
            max_value: 64,
        }
    }
}

/// One field and its value, stored back to back in one allocation.
pub struct HashPair {
    bytes: Box<[u8]>,
    field_len: usize,
}

impl HashPair {
    fn new(field: &[u8], value: &[u8]) -> HashPair {
        let mut bytes = Vec::with_capacity(field.len() + value.len());
        bytes.extend_from_slice(field);
        bytes.extend_from_slice(value);
        HashPair {
            bytes: bytes.into_boxed_slice(),
            field_len: field.len(),
        }
    }

    pub fn field(&self) -> &[u8] {
        &self.bytes[..self.field_len]
    }

    pub fn value(&self) -> &[u8] {
        &self.bytes[self.field_len..]
    }
}

impl DictItem for HashPair {
    fn key(&self) -> &[u8] {
        self.field()
    }
}

// ---------------------------------------------------------------------------------------------
// SmallHash: the `listpack` encoding
// ---------------------------------------------------------------------------------------------

/// Bytes of the pair count that starts a non-empty [`SmallHash`].
const COUNT_SIZE: usize = 4;

/// Appends `n` as a LEB128 varint (1 byte below 128).
fn write_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// The element at `pos`: its bytes and where the next one starts.
fn read_element(bytes: &[u8], mut pos: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = *bytes.get(pos)?;
        pos += 1;
        len |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = pos.checked_add(len)?;
    Some((bytes.get(pos..end)?, end))
}

/// Where one pair sits in a [`SmallHash`].
#[derive(Clone, Copy)]
struct PairAt {
    /// The field's length prefix.
    start: usize,
    /// The value's length prefix.
    value: usize,
    /// The value's bytes.
    value_bytes: usize,
    /// One past the value.
    end: usize,
}

/// A small hash in one exact-size allocation: the number of pairs (u32, little-endian), then
/// field, value, field, value..., each as a varint length and its bytes. Empty, it holds no
/// allocation at all.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SmallHash {
    bytes: Box<[u8]>,
}

/// The pairs of a [`SmallHash`], in order.
pub struct SmallIter<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for SmallIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (field, at) = read_element(self.bytes, self.pos)?;
        let (value, end) = read_element(self.bytes, at)?;
        self.pos = end;
        Some((field, value))
    }
}

impl SmallHash {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self.bytes.get(..COUNT_SIZE) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held.
    pub fn allocated_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn iter(&self) -> SmallIter<'_> {
        SmallIter {
            bytes: &self.bytes,
            pos: COUNT_SIZE,
        }
    }

    fn set_len(bytes: &mut [u8], n: usize) {
        if let Some(count) = bytes.get_mut(..COUNT_SIZE) {
            count.copy_from_slice(&(n as u32).to_le_bytes());
        }
    }

    /// Where the pair of `field` is.
    fn find(&self, field: &[u8]) -> Option<PairAt> {
        let mut pos = COUNT_SIZE;
        loop {
            let (f, value) = read_element(&self.bytes, pos)?;
            let (v, end) = read_element(&self.bytes, value)?;
            if f == field {
                return Some(PairAt {
                    start: pos,
                    value,
                    value_bytes: end - v.len(),
                    end,
                });
            }
            pos = end;
        }
    }

    /// Where the pair at index `n` starts (the end when `n` is the length).
    fn offset_of(&self, n: usize) -> usize {
        let mut pos = COUNT_SIZE;
        for _ in 0..n {
            match read_element(&self.bytes, pos).and_then(|(_, at)| read_element(&self.bytes, at)) {
                Some((_, end)) => pos = end,
                None => break,
            }
        }
        pos.min(self.bytes.len())
            .max(COUNT_SIZE.min(self.bytes.len()))
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let at = self.find(field)?;
        self.bytes.get(at.value_bytes..at.end)
    }

    /// The pair at index `n`.
    pub fn nth(&self, n: usize) -> Option<(&[u8], &[u8])> {
        let mut it = self.iter();
        it.pos = self.offset_of(n);
        it.next()
    }

    /// Bytes of the encoding besides its allocation's bookkeeping (for the 1 GiB bound).
    fn data_len(&self) -> usize {
        self.bytes.len()
    }

    /// Rebuilds the bytes with `bytes[from..to]` replaced by `insert`'s pairs, and the count
    /// changed by `delta`: one exact-size allocation, as Redis reallocates its listpack.
    fn splice(&mut self, from: usize, to: usize, insert: &[(&[u8], &[u8])], count: usize) {
        let add: usize = insert
            .iter()
            .map(|(f, v)| varint_size(f.len()) + f.len() + varint_size(v.len()) + v.len())
            .sum();
        let old = std::mem::take(&mut self.bytes);
        let (from, to) = if old.is_empty() {
            (COUNT_SIZE, COUNT_SIZE)
        } else {
            (from, to)
        };
        let total = COUNT_SIZE.max(old.len()) - (to - from) + add;
        let mut out = Vec::with_capacity(total);
        match old.get(..from) {
            Some(head) if !old.is_empty() => out.extend_from_slice(head),
            _ => out.extend_from_slice(&[0; COUNT_SIZE]),
        }
        for (f, v) in insert {
            write_varint(&mut out, f.len());
            out.extend_from_slice(f);
            write_varint(&mut out, v.len());
            out.extend_from_slice(v);
        }
        if let Some(tail) = old.get(to..) {
            out.extend_from_slice(tail);
        }
        if count == 0 {
            out.clear();
        } else {
            Self::set_len(&mut out, count);
        }
        self.bytes = out.into_boxed_slice();
    }

    /// Sets `field` to `value`; true when the field is new (added last).
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(at) if at.end - at.value_bytes == value.len() => {
                if let Some(dst) = self.bytes.get_mut(at.value_bytes..at.end) {
                    dst.copy_from_slice(value);
                }
                false
            }
            Some(at) => {
                let n = self.len();
                let mut out = Vec::with_capacity(
                    self.bytes.len() - (at.end - at.value) + varint_size(value.len()) + value.len(),
                );
                out.extend_from_slice(&self.bytes[..at.value]);
                write_varint(&mut out, value.len());
                out.extend_from_slice(value);
                out.extend_from_slice(&self.bytes[at.end..]);
                Self::set_len(&mut out, n);
                self.bytes = out.into_boxed_slice();
                false
            }
            None => {
                let (n, end) = (self.len(), self.bytes.len());
                self.splice(end, end, &[(field, value)], n + 1);
                true
            }
        }
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let Some(at) = self.find(field) else {
            return false;
        };
        let n = self.len();
        self.splice(at.start, at.end, &[], n - 1);
        true
    }

    /// Moves `field` and its value to pair index `rank`, or to the end.
    fn move_pair(&mut self, field: &[u8], rank: Option<usize>) {
        let Some(at) = self.find(field) else {
            return;
        };
        let value = self.bytes[at.value_bytes..at.end].to_vec();
        let n = self.len();
        self.splice(at.start, at.end, &[], n);
        let to = match rank {
            Some(r) if r < n - 1 => self.offset_of(r),
            _ => self.bytes.len(),
        };
        self.splice(to, to, &[(field, &value)], n);
    }

    /// The pairs as a real listpack (RDB, DUMP), integers stored as integers.
    pub fn to_listpack(&self) -> Listpack {
        let mut lp = Listpack::new();
        lp.reserve(self.bytes.len() + 2 * self.len());
        for (f, v) in self.iter() {
            lp.push_back(f);
            lp.push_back(v);
        }
        lp
    }

    /// The pairs of a listpack of fields and values (an odd last element is dropped).
    pub fn from_listpack(lp: &Listpack) -> SmallHash {
        let mut out = vec![0; COUNT_SIZE];
        let (mut fb, mut vb) = ([0u8; 20], [0u8; 20]);
        let mut it = lp.iter();
        let mut n = 0;
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            for x in [lp_bytes(&f, &mut fb), lp_bytes(&v, &mut vb)] {
                write_varint(&mut out, x.len());
                out.extend_from_slice(x);
            }
            n += 1;
        }
        if n == 0 {
            return SmallHash::default();
        }
        Self::set_len(&mut out, n);
        SmallHash {
            bytes: out.into_boxed_slice(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HashValue
// ---------------------------------------------------------------------------------------------

/// A hash, in Redis's encodings. Two variants keep it 16 bytes (the small hash's boxed slice,
/// the other's pointer in its length's place), so the box a key holds is a 16-byte block.
pub enum HashValue {
    /// `listpack`.
    Listpack(SmallHash),
    /// `hashtable`, or any hash with field TTLs.
    Large(Box<LargeHash>),
}

/// The encodings that are not a plain small hash.
pub enum LargeHash {
    Table(Dict<HashPair>),
    /// A hash some of whose fields have (or had) a TTL.
    Volatile(VolatileHash),
}

/// What a [`HashValue`] holds, borrowed.
enum View<'a> {
    Small(&'a SmallHash),
    Table(&'a Dict<HashPair>),
    Volatile(&'a VolatileHash),
}

/// What a [`HashValue`] holds, borrowed for writing.
enum ViewMut<'a> {
    Small(&'a mut SmallHash),
    Table(&'a mut Dict<HashPair>),
    Volatile(&'a mut VolatileHash),
}

/// A hash with field TTLs: the fields in their usual encoding (never volatile itself) and
/// each volatile field's expiry time.
#[derive(Clone)]
pub struct VolatileHash {
    fields: HashValue,
    ttls: FieldTtls,
}

impl VolatileHash {
    fn set_ttl(&mut self, field: &[u8], at: i64) {
        self.ttls.remove(field);
        let rank = self.ttls.count_before(at);
        self.ttls.insert(field, at);
        if let HashValue::Listpack(s) = &mut self.fields {
            s.move_pair(field, Some(rank));
        }
    }
}

/// Expiry times (Unix ms) of the fields that have one, by field and by time.
#[derive(Clone, Default, PartialEq)]
struct FieldTtls {
    by_field: HashMap<Box<[u8]>, i64>,
    by_time: BTreeSet<(i64, Box<[u8]>)>,
}

impl FieldTtls {
    fn get(&self, field: &[u8]) -> Option<i64> {
        self.by_field.get(field).copied()
    }

    /// Sets `field`'s time; its previous one.
    fn insert(&mut self, field: &[u8], at: i64) -> Option<i64> {
        let old = self.remove(field);
        self.by_field.insert(field.into(), at);
        self.by_time.insert((at, field.into()));
        old
    }

    fn remove(&mut self, field: &[u8]) -> Option<i64> {
        let at = self.by_field.remove(field)?;
        self.by_time.remove(&(at, Box::from(field)));
        Some(at)
    }

    fn min(&self) -> Option<i64> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Fields whose time is strictly before `at`.
    fn count_before(&self, at: i64) -> usize {
        self.by_time.range(..(at, Box::from(&b""[..]))).count()
    }

    fn len(&self) -> usize {
        self.by_field.len()
    }

    /// Heap bytes: each field's name is held twice, plus a map slot and a tree slot.
    fn allocated_bytes(&self) -> usize {
        self.by_field
            .keys()
            .map(|f| 2 * f.len() + 2 * std::mem::size_of::<(Box<[u8]>, i64)>() + 16)
            .sum()
    }
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::new()
    }
}

/// Writes an element's bytes, printing an integer into `buf`.
fn lp_bytes<'a: 'b, 'b>(v: &LpValue<'a>, buf: &'b mut [u8; 20]) -> &'b [u8] {
    match *v {
        LpValue::Str(s) => s,
        LpValue::Int(n) => crate::number::format_i64(n, buf),
    }
}

fn str_pair<'a>((f, v): (&'a [u8], &'a [u8])) -> (LpValue<'a>, LpValue<'a>) {
    (LpValue::Str(f), LpValue::Str(v))
}

impl HashValue {
    fn view(&self) -> View<'_> {
        match self {
            HashValue::Listpack(s) => View::Small(s),
            HashValue::Large(l) => match &**l {
                LargeHash::Table(d) => View::Table(d),
                LargeHash::Volatile(v) => View::Volatile(v),
            },
        }
    }

    fn view_mut(&mut self) -> ViewMut<'_> {
        match self {
            HashValue::Listpack(s) => ViewMut::Small(s),
            HashValue::Large(l) => match &mut **l {
                LargeHash::Table(d) => ViewMut::Table(d),
                LargeHash::Volatile(v) => ViewMut::Volatile(v),
            },
        }
    }

    /// Heap bytes held, estimated from `samples` fields (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        match self.view() {
            View::Small(s) => s.allocated_bytes(),
            View::Table(d) => {
                std::mem::size_of::<LargeHash>() + d.allocated_bytes(samples, |p| p.bytes.len())
            }
            View::Volatile(v) => {
                std::mem::size_of::<LargeHash>()
                    + v.fields.allocated_bytes(samples)
                    + v.ttls.allocated_bytes()
            }
        }
    }

    /// An empty hash, `listpack`-encoded.
    pub fn new() -> HashValue {
        HashValue::Listpack(SmallHash::default())
    }

    /// A `listpack` hash of the fields and values of `lp` (RDB, RESTORE).
    pub fn from_listpack(lp: &Listpack) -> HashValue {
        HashValue::Listpack(SmallHash::from_listpack(lp))
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self.view() {
            View::Small(_) => "listpack",
            View::Table(_) => "hashtable",
            View::Volatile(v) => match v.fields {
                HashValue::Listpack(_) => "listpackex",
                HashValue::Large(_) => "hashtable",
            },
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self.view() {
            View::Small(s) => s.len(),
            View::Table(d) => d.len(),
            View::Volatile(v) => v.fields.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash as the listpack RDB writes, when it is `listpack`-encoded without field TTLs.
    pub fn as_listpack(&self) -> Option<Listpack> {
        match self {
            HashValue::Listpack(s) => Some(s.to_listpack()),
            HashValue::Large(_) => None,
        }
    }

    /// True for a `listpack` or `listpackex` hash (one [`pair_listpack`](Self::pair_listpack)
    /// would build).
    pub fn is_listpack(&self) -> bool {
        match self.view() {
            View::Small(_) => true,
            View::Volatile(v) => v.fields.is_listpack(),
            View::Table(_) => false,
        }
    }

    /// The field/value listpack of a `listpack` or `listpackex` hash.
    pub fn pair_listpack(&self) -> Option<Listpack> {
        match self.view() {
            View::Small(s) => Some(s.to_listpack()),
            View::Volatile(v) => v.fields.pair_listpack(),
            View::Table(_) => None,
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match self.view() {
            View::Small(s) => s.get(field).map(LpValue::Str),
            View::Table(d) => d.get(field).map(|p| LpValue::Str(p.value())),
            View::Volatile(v) => v.fields.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to `hashtable` before a write of these arguments when one is longer than
    /// `max_value`, or the listpack could not take them all (`hashTypeTryConversion`).
    pub fn try_conversion<'a>(
        &mut self,
        args: impl IntoIterator<Item = &'a [u8]>,
        limits: HashLimits,
    ) {
        let s = match self.view_mut() {
            ViewMut::Small(s) => s,
            ViewMut::Volatile(v) => return v.fields.try_conversion(args, limits),
            ViewMut::Table(_) => return,
        };
        let mut sum = 0usize;
        for arg in args {
            if arg.len() > limits.max_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(arg.len());
        }
        if s.data_len().saturating_add(sum) > SAFETY_SIZE {
            self.convert();
        }
    }

    /// Sets `field` to `value`, dropping any TTL the field had (as 7.4's HSET does); true when
    /// the field is new (`hashTypeSet`). Converts to `hashtable` first when either is too long
    /// for a listpack, and after adding when the hash has more than `max_entries` fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if let ViewMut::Volatile(v) = self.view_mut()
            && v.ttls.remove(field).is_some()
        {
            // A field losing its TTL moves behind the volatile ones in a listpack.
            v.fields.remove(field);
            v.fields.set(field, value, limits);
            return false;
        }
        self.set_keep_ttl(field, value, limits)
    }

    /// Sets `field` to `value` keeping its TTL (HINCRBY, HINCRBYFLOAT); true when new.
    pub fn set_keep_ttl(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if let ViewMut::Volatile(v) = self.view_mut() {
            return v.fields.set_keep_ttl(field, value, limits);
        }
        if matches!(self, HashValue::Listpack(_))
            && (field.len() > limits.max_value || value.len() > limits.max_value)
        {
            self.convert();
        }
        match self.view_mut() {
            ViewMut::Small(s) => {
                let inserted = s.set(field, value);
                if s.len() > limits.max_entries {
                    self.convert();
                }
                inserted
            }
            ViewMut::Table(d) => d.insert(HashPair::new(field, value)).is_none(),
            ViewMut::Volatile(v) => v.fields.set_keep_ttl(field, value, limits),
        }
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.view_mut() {
            ViewMut::Small(s) => s.remove(field),
            ViewMut::Table(d) => {
                let removed = d.remove(field).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
            ViewMut::Volatile(v) => {
                v.ttls.remove(field);
                v.fields.remove(field)
            }
        }
    }

    /// Kept for callers that trim after a write: a small hash is always exact-size.
    pub fn shrink_to_fit(&mut self) {}

    /// Converts a `listpack` hash to `hashtable` (`hashTypeConvertListpack`).
    pub fn convert(&mut self) {
        let s = match self.view_mut() {
            ViewMut::Small(s) => s,
            ViewMut::Volatile(v) => return v.fields.convert(),
            ViewMut::Table(_) => return,
        };
        let mut d = Dict::new();
        for (f, v) in s.iter() {
            d.insert(HashPair::new(f, v));
        }
        while d.rehash(100) {}
        *self = HashValue::Large(Box::new(LargeHash::Table(d)));
    }

    /// Every field and value, in the encoding's order (insertion order for a listpack).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (LpValue<'_>, LpValue<'_>)> + '_> {
        match self.view() {
            View::Small(s) => Box::new(s.iter().map(str_pair)),
            View::Table(d) => Box::new(d.iter().map(|p| str_pair((p.field(), p.value())))),
            View::Volatile(v) => v.fields.iter(),
        }
    }

    /// One HSCAN call: calls `f` on the fields and values it returns and gives the next cursor.
    /// A listpack returns everything with cursor 0; a table visits buckets from `cursor` until
    /// `count` fields and values (counted separately, as Redis does) were seen, the scan ends,
    /// or `count * 10` more buckets were visited.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self.view() {
            View::Small(s) => {
                for (field, value) in s.iter() {
                    f(field, value);
                }
                0
            }
            View::Table(d) => {
                let count = count.saturating_mul(2);
                let mut max_iterations = count.saturating_mul(10);
                let mut seen = 0usize;
                let mut cursor = cursor;
                loop {
                    cursor = d.scan(cursor, |p| {
                        f(p.field(), p.value());
                        seen += 2;
                    });
                    if cursor == 0 || max_iterations == 0 || seen >= count {
                        return cursor;
                    }
                    max_iterations -= 1;
                }
            }
            View::Volatile(v) => v.fields.scan(cursor, count, f),
        }
    }

    /// A random field and its value, or `None` when empty.
    pub fn random_pair(&self, rng: &mut impl Rng) -> Option<(LpValue<'_>, LpValue<'_>)> {
        match self.view() {
            View::Small(s) => {
                let n = s.len();
                if n == 0 {
                    return None;
                }
                s.nth(rng.random_range(0..n)).map(str_pair)
            }
            View::Table(d) => d.fair_random(rng).map(|p| str_pair((p.field(), p.value()))),
            View::Volatile(v) => v.fields.random_pair(rng),
        }
    }

    /// Calls `f` on `count` random pairs, repeats allowed (HRANDFIELD with a negative count).
    /// `f` returns false to stop early.
    pub fn random_pairs(
        &self,
        count: u64,
        rng: &mut impl Rng,
        mut f: impl FnMut(LpValue<'_>, LpValue<'_>) -> bool,
    ) {
        match self.view() {
            View::Small(s) => {
                // One walk, then cheap picks (a seek per pick would be O(n)).
                let pairs: Vec<_> = s.iter().collect();
                if pairs.is_empty() {
                    return;
                }
                for _ in 0..count {
                    let (field, value) = pairs[rng.random_range(0..pairs.len())];
                    if !f(LpValue::Str(field), LpValue::Str(value)) {
                        return;
                    }
                }
            }
            View::Table(d) => {
                for _ in 0..count {
                    let Some(p) = d.fair_random(rng) else {
                        return;
                    };
                    if !f(LpValue::Str(p.field()), LpValue::Str(p.value())) {
                        return;
                    }
                }
            }
            View::Volatile(v) => v.fields.random_pairs(count, rng, f),
        }
    }

    /// `count` distinct random pairs, `count` below the hash's size (HRANDFIELD with a
    /// positive count).
    pub fn random_distinct_pairs(
        &self,
        count: usize,
        rng: &mut impl Rng,
    ) -> Vec<(LpValue<'_>, LpValue<'_>)> {
        let size = self.len();
        match self.view() {
            View::Volatile(v) => v.fields.random_distinct_pairs(count, rng),
            // A big table and few picks: pick at random and skip repeats.
            View::Table(d) if count.saturating_mul(3) <= size => {
                let mut seen: HashSet<&[u8]> = HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some(p) = d.fair_random(rng) else {
                        break;
                    };
                    if seen.insert(p.field()) {
                        out.push(str_pair((p.field(), p.value())));
                    }
                }
                out
            }
            // Otherwise a partial shuffle of every pair.
            _ => {
                let mut pairs: Vec<_> = self.iter().collect();
                let (picked, _) = pairs.partial_shuffle(rng, count);
                picked.to_vec()
            }
        }
    }
}

/// Field TTLs (Redis 7.4's hash-field expiry).
impl HashValue {
    /// The expiry time (Unix ms) of `field`, if it has one.
    pub fn field_ttl(&self, field: &[u8]) -> Option<i64> {
        match self.view() {
            View::Volatile(v) => v.ttls.get(field),
            _ => None,
        }
    }

    /// The soonest field expiry time, if any field has one.
    pub fn min_field_ttl(&self) -> Option<i64> {
        match self.view() {
            View::Volatile(v) => v.ttls.min(),
            _ => None,
        }
    }

    /// Number of fields with a TTL.
    pub fn volatile_fields(&self) -> usize {
        match self.view() {
            View::Volatile(v) => v.ttls.len(),
            _ => 0,
        }
    }

    /// True when the hash carries the field-TTL side structure (encoded `listpackex` when a
    /// listpack; saved with Redis 7.4's RDB types).
    pub fn is_volatile(&self) -> bool {
        matches!(self.view(), View::Volatile(_))
    }

    /// Gives the existing `field` the expiry time `at` (Unix ms); false when there is no
    /// such field. The field-TTL side structure is allocated on first use. In a listpack the
    /// field moves to its place in expiry order.
    pub fn set_field_ttl(&mut self, field: &[u8], at: i64) -> bool {
        if !self.contains(field) {
            return false;
        }
        if let ViewMut::Volatile(v) = self.view_mut() {
            v.set_ttl(field, at);
            return true;
        }
        let mut v = VolatileHash {
            fields: std::mem::take(self),
            ttls: FieldTtls::default(),
        };
        v.set_ttl(field, at);
        *self = HashValue::Large(Box::new(LargeHash::Volatile(v)));
        true
    }

    /// Removes `field`'s TTL; true when it had one. In a listpack the field moves behind the
    /// volatile ones.
    pub fn persist_field(&mut self, field: &[u8]) -> bool {
        let ViewMut::Volatile(v) = self.view_mut() else {
            return false;
        };
        if v.ttls.remove(field).is_none() {
            return false;
        }
        if let HashValue::Listpack(s) = &mut v.fields {
            s.move_pair(field, None);
        }
        true
    }

    /// Removes the fields whose time is at or before `now_ms`, at most `max` of them,
    /// soonest first, appending their names to `gone` (each is propagated as an HDEL); how
    /// many went.
    pub fn expire_fields(&mut self, now_ms: i64, max: usize, gone: &mut Vec<Box<[u8]>>) -> usize {
        let ViewMut::Volatile(v) = self.view_mut() else {
            return 0;
        };
        let mut n = 0;
        while n < max {
            match v.ttls.by_time.first() {
                Some((at, _)) if *at <= now_ms => {}
                _ => break,
            }
            let Some((_, field)) = v.ttls.by_time.pop_first() else {
                break;
            };
            v.ttls.by_field.remove(&field);
            v.fields.remove(&field);
            gone.push(field);
            n += 1;
        }
        n
    }

    /// Every field, its value and its expiry time (0 for none), in the encoding's order.
    pub fn iter_with_ttls(&self) -> impl Iterator<Item = (LpValue<'_>, LpValue<'_>, i64)> + '_ {
        self.iter().map(move |(f, v)| {
            let ttl = match (self.view(), f) {
                (View::Volatile(h), LpValue::Str(s)) => h.ttls.get(s),
                (View::Volatile(h), LpValue::Int(n)) => {
                    let mut buf = [0u8; 20];
                    h.ttls.get(crate::number::format_i64(n, &mut buf))
                }
                _ => None,
            };
            (f, v, ttl.unwrap_or(0))
        })
    }
}

impl Clone for HashValue {
    /// A copy in the same encoding (COPY keeps it, as `hashTypeDup` does).
    fn clone(&self) -> Self {
        match self {
            HashValue::Listpack(s) => HashValue::Listpack(s.clone()),
            HashValue::Large(l) => HashValue::Large(l.clone()),
        }
    }
}

impl Clone for LargeHash {
    fn clone(&self) -> Self {
        match self {
            LargeHash::Table(d) => {
                let mut copy = Dict::new();
                for p in d.iter() {
                    copy.insert(HashPair::new(p.field(), p.value()));
                }
                while copy.rehash(100) {}
                LargeHash::Table(copy)
            }
            LargeHash::Volatile(v) => LargeHash::Volatile(v.clone()),
        }
    }
}

impl PartialEq for HashValue {
    /// Same encoding and the same fields with the same values and TTLs, in any order.
    fn eq(&self, other: &Self) -> bool {
        if self.encoding_name() != other.encoding_name() || self.len() != other.len() {
            return false;
        }
        self.iter().all(|(field, value)| {
            let (mut fb, mut vb, mut ob) = ([0u8; 20], [0u8; 20], [0u8; 20]);
            let value = lp_bytes(&value, &mut vb);
            let field = lp_bytes(&field, &mut fb);
            other
                .get(field)
                .is_some_and(|o| lp_bytes(&o, &mut ob) == value)
                && self.field_ttl(field) == other.field_ttl(field)
        })
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        let mut map = f.debug_map();
        for (field, value) in self.iter() {
            map.entry(
                &String::from_utf8_lossy(lp_bytes(&field, &mut a)),
                &String::from_utf8_lossy(lp_bytes(&value, &mut b)),
            );
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashMap;

    fn bytes(v: LpValue<'_>) -> Vec<u8> {
        v.to_vec()
    }

    fn small() -> HashLimits {
        HashLimits {
            max_entries: 4,
            max_value: 8,
        }
    }

    #[test]
    fn set_get_remove_in_listpack() {
        let mut h = HashValue::new();
        assert!(h.set(b"a", b"1", small()));
        assert!(h.set(b"b", b"two", small()));
        assert!(!h.set(b"a", b"10", small()));
        assert_eq!(h.encoding_name(), "listpack");
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"a"), Some(LpValue::Str(b"10")));
        assert_eq!(h.get(b"b"), Some(LpValue::Str(b"two")));
        assert_eq!(h.get(b"two"), None, "values are not fields");
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
        let pairs: Vec<_> = h.iter().map(|(f, v)| (bytes(f), bytes(v))).collect();
        assert_eq!(pairs, vec![(b"b".to_vec(), b"two".to_vec())]);
    }

    #[test]
    fn small_hash_is_one_exact_allocation_and_round_trips_a_listpack() {
        let mut s = SmallHash::default();
        assert_eq!(s.allocated_bytes(), 0);
        let long = vec![b'x'; 300];
        assert!(s.set(b"f0", b"v0000001"));
        assert!(s.set(b"long", &long));
        assert!(s.set(b"n", b"-12"));
        // Count, then a length byte and the bytes for each element; 300 takes two.
        assert_eq!(s.allocated_bytes(), 4 + 3 + 9 + 5 + 302 + 2 + 4);
        assert!(!s.set(b"f0", b"v0000002"), "same length: in place");
        assert!(!s.set(b"long", b"short"));
        assert_eq!(s.get(b"long"), Some(&b"short"[..]));
        assert_eq!(s.get(b"f0"), Some(&b"v0000002"[..]));
        assert_eq!(s.nth(2), Some((&b"n"[..], &b"-12"[..])));
        assert_eq!(s.nth(3), None);
        let lp = s.to_listpack();
        assert_eq!(lp.len(), 6);
        assert_eq!(lp.iter().nth(5), Some(LpValue::Int(-12)));
        assert!(SmallHash::from_listpack(&lp) == s);
        s.move_pair(b"n", Some(0));
        let order: Vec<_> = s.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order, [b"n".to_vec(), b"f0".to_vec(), b"long".to_vec()]);
        s.move_pair(b"n", None);
        assert_eq!(s.nth(2), Some((&b"n"[..], &b"-12"[..])));
        for f in [&b"f0"[..], b"long", b"n"] {
            assert!(s.remove(f));
        }
        assert!(s.is_empty());
        assert_eq!(s.allocated_bytes(), 0);
    }

    #[test]
    fn integer_fields_are_found_by_their_text() {
        let mut h = HashValue::new();
        h.set(b"10", b"x", small());
        assert_eq!(h.get(b"10"), Some(LpValue::Str(b"x")));
        assert_eq!(h.get(b"010"), None);
    }

    #[test]
    fn converts_on_too_many_entries() {
        let mut h = HashValue::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", small());
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f4", b"v", small());
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert_eq!(h.get(format!("f{i}").as_bytes()), Some(LpValue::Str(b"v")));
        }
    }

    #[test]
    fn converts_on_long_field_or_value() {
        let mut h = HashValue::new();
        h.set(b"a", b"12345678", small());
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"a", b"123456789", small());
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"a"), Some(LpValue::Str(b"123456789")));

        let mut h = HashValue::new();
        h.set(b"a", b"1", small());
        h.try_conversion([b"b".as_slice(), b"123456789"], small());
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"a"), Some(LpValue::Str(b"1")));
    }

    #[test]
    fn table_scan_sees_every_field_while_growing() {
        let mut h = HashValue::new();
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), b"v", HashLimits::default());
        }
        h.convert();
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut next = 100;
        loop {
            cursor = h.scan(cursor, 5, |f, _| {
                seen.insert(f.to_vec());
            });
            for _ in 0..20 {
                h.set(format!("f{next}").as_bytes(), b"v", HashLimits::default());
                next += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("f{i}").as_bytes()), "missed f{i}");
        }
    }

    #[test]
    fn listpack_scan_returns_everything_at_once() {
        let mut h = HashValue::new();
        h.set(b"a", b"1", small());
        h.set(b"b", b"x", small());
        let mut out = Vec::new();
        let cursor = h.scan(0, 1, |f, v| out.push((f.to_vec(), v.to_vec())));
        assert_eq!(cursor, 0);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], (b"a".to_vec(), b"1".to_vec()));
    }

    #[test]
    fn random_picks_cover_both_encodings() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for convert in [false, true] {
            let mut h = HashValue::new();
            for i in 0..30 {
                h.set(
                    format!("f{i}").as_bytes(),
                    format!("v{i}").as_bytes(),
                    HashLimits::default(),
                );
            }
            if convert {
                h.convert();
            }
            let (f, v) = h.random_pair(&mut rng).unwrap();
            assert_eq!(bytes(v)[1..], bytes(f)[1..]);
            let mut n = 0;
            h.random_pairs(100, &mut rng, |f, v| {
                assert_eq!(bytes(v)[1..], bytes(f)[1..]);
                n += 1;
                true
            });
            assert_eq!(n, 100);
            for count in [1, 5, 20, 29] {
                let picks = h.random_distinct_pairs(count, &mut rng);
                let distinct: HashSet<_> = picks.iter().map(|(f, _)| bytes(*f)).collect();
                assert_eq!(distinct.len(), count);
            }
        }
    }

    #[test]
    fn clone_and_eq_keep_the_encoding() {
        let mut h = HashValue::new();
        h.set(b"a", b"1", small());
        let copy = h.clone();
        assert_eq!(copy, h);
        let mut t = h.clone();
        t.convert();
        assert_ne!(t, h);
        assert_eq!(t.clone(), t);
        let m: HashMap<_, _> = t.iter().map(|(f, v)| (bytes(f), bytes(v))).collect();
        assert_eq!(m.get(b"a".as_slice()), Some(&b"1".to_vec()));
    }

    #[test]
    fn field_ttls_cost_nothing_until_used() {
        // Two variants of one pointer and a length: the box a key holds is a 16-byte block.
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
        let mut h = HashValue::new();
        h.set(b"a", b"1", small());
        let plain = h.allocated_bytes(0);
        assert!(!h.is_volatile());
        assert!(!h.set_field_ttl(b"zz", 10), "no such field");
        assert!(!h.is_volatile());
        assert_eq!(h.allocated_bytes(0), plain);
    }

    #[test]
    fn listpackex_orders_fields_by_expiry_and_expires_soonest_first() {
        let mut h = HashValue::new();
        for f in [b"a", b"b", b"c", b"d"] {
            h.set(f, b"v", HashLimits::default());
        }
        h.set_field_ttl(b"c", 300);
        h.set_field_ttl(b"a", 100);
        h.set_field_ttl(b"d", 300);
        assert_eq!(h.encoding_name(), "listpackex");
        let order = |h: &HashValue| -> Vec<Vec<u8>> { h.iter().map(|(f, _)| bytes(f)).collect() };
        assert_eq!(order(&h), [b"a", b"d", b"c", b"b"].map(|f| f.to_vec()));
        assert_eq!(h.min_field_ttl(), Some(100));
        assert_eq!(h.volatile_fields(), 3);
        let ttls: Vec<i64> = h.iter_with_ttls().map(|(_, _, t)| t).collect();
        assert_eq!(ttls, [100, 300, 300, 0]);
        assert!(h.persist_field(b"d"));
        assert!(!h.persist_field(b"d"));
        assert_eq!(order(&h), [b"a", b"c", b"b", b"d"].map(|f| f.to_vec()));
        // HSET drops the TTL; a keep-TTL write does not.
        h.set_keep_ttl(b"c", b"w", HashLimits::default());
        assert_eq!(h.field_ttl(b"c"), Some(300));
        h.set(b"a", b"w", HashLimits::default());
        assert_eq!(h.field_ttl(b"a"), None);
        assert_eq!(order(&h), [b"c", b"b", b"d", b"a"].map(|f| f.to_vec()));
        let mut gone = Vec::new();
        assert_eq!(h.expire_fields(299, usize::MAX, &mut gone), 0);
        assert_eq!(h.expire_fields(300, usize::MAX, &mut gone), 1);
        assert_eq!(gone, [Box::from(&b"c"[..])]);
        assert_eq!(h.len(), 3);
        assert_eq!(h.min_field_ttl(), None);
        let copy = h.clone();
        assert_eq!(copy, h);
    }

    #[test]
    fn table_keeps_ttls_across_conversion_and_removal() {
        let mut h = HashValue::new();
        h.set(b"a", b"1", small());
        h.set_field_ttl(b"a", 50);
        for i in 0..5 {
            h.set(format!("f{i}").as_bytes(), b"v", small());
        }
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.field_ttl(b"a"), Some(50));
        h.set_field_ttl(b"f1", 20);
        assert_eq!(h.expire_fields(30, 1, &mut Vec::new()), 1);
        assert!(!h.contains(b"f1"));
        assert!(h.remove(b"a"));
        assert_eq!(h.volatile_fields(), 0);
        let mut other = h.clone();
        other.set_field_ttl(b"f2", 10);
        assert_ne!(other, h);
    }
}
