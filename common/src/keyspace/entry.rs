//! One key and its value, in as few bytes as we can.
//!
//! Layout (40 bytes plus one allocation): the key and, for strings, the string's bytes share
//! one boxed slice; a 32-bit word holds the key length and the "has an expiry" bit; another
//! holds the LRU clock; the [`Value`] says how to read the rest. Measured against Redis 7.0's
//! dictEntry + robj + sds key (about 130 bytes RSS per small string key), this is about 100.

use super::dict::DictItem;
use crate::value::Value;
use crate::value::string::{StrEncoding, StrRef, choose_encoding};

const VOLATILE_BIT: u32 = 1 << 31;

/// The largest key or string we store: Redis's 512 MB `proto-max-bulk-len` default is far below.
pub const MAX_KEY_LEN: usize = (VOLATILE_BIT - 1) as usize;

/// A key, its value, its access clock, and whether it has an expiry (kept in the shard's expires).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key followed by the string bytes for string values.
    kv: Box<[u8]>,
    key_len_and_flags: u32,
    /// Seconds clock of the last access (OBJECT IDLETIME, LRU eviction).
    lru: u32,
    value: Value,
}

impl DictItem for Entry {
    fn key(&self) -> &[u8] {
        Entry::key(self)
    }
}

fn concat(key: &[u8], tail: &[u8]) -> Box<[u8]> {
    let mut kv = Vec::with_capacity(key.len() + tail.len());
    kv.extend_from_slice(key);
    kv.extend_from_slice(tail);
    kv.into_boxed_slice()
}

impl Entry {
    /// A string entry, encoded as Redis encodes a string a client sets.
    pub fn string(key: &[u8], bytes: &[u8], lru: u32) -> Entry {
        match choose_encoding(bytes) {
            StrEncoding::Int(n) => Entry::int(key, n, lru),
            StrEncoding::Embstr => Entry::with_tail(key, bytes, Value::Embstr, lru),
            StrEncoding::Raw => Entry::with_tail(key, bytes, Value::Raw, lru),
        }
    }

    /// A string entry that keeps `raw` encoding (the result of APPEND, SETRANGE, SETBIT...).
    pub fn raw_string(key: &[u8], bytes: &[u8], lru: u32) -> Entry {
        Entry::with_tail(key, bytes, Value::Raw, lru)
    }

    /// A string entry that is never integer-encoded: `embstr` up to 44 bytes, `raw` above (Redis's
    /// `createStringObject`, which INCRBYFLOAT results go through).
    pub fn plain_string(key: &[u8], bytes: &[u8], lru: u32) -> Entry {
        let value = if bytes.len() <= crate::value::string::EMBSTR_MAX {
            Value::Embstr
        } else {
            Value::Raw
        };
        Entry::with_tail(key, bytes, value, lru)
    }

    /// An integer-encoded string (INCR and friends).
    pub fn int(key: &[u8], n: i64, lru: u32) -> Entry {
        Entry::with_tail(key, &[], Value::Int(n), lru)
    }

    /// An entry holding a collection (list, hash, set, sorted set, stream): only the key lives
    /// in the shared allocation; the collection sits behind the value's own box.
    pub fn collection(key: &[u8], value: Value, lru: u32) -> Entry {
        debug_assert!(!value.is_string(), "strings are built with Entry::string");
        Entry::with_tail(key, &[], value, lru)
    }

    fn with_tail(key: &[u8], tail: &[u8], value: Value, lru: u32) -> Entry {
        Entry {
            kv: concat(key, tail),
            key_len_and_flags: key.len() as u32 & !VOLATILE_BIT,
            lru,
            value,
        }
    }

    fn key_len(&self) -> usize {
        (self.key_len_and_flags & !VOLATILE_BIT) as usize
    }

    pub fn key(&self) -> &[u8] {
        &self.kv[..self.key_len()]
    }

    /// Bytes this entry holds: itself, its key and string bytes, and its value's heap
    /// (collections estimated from `samples` elements, all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        std::mem::size_of::<Entry>() + self.kv.len() + self.value.allocated_bytes(samples)
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn value_mut(&mut self) -> &mut Value {
        &mut self.value
    }

    pub fn is_volatile(&self) -> bool {
        self.key_len_and_flags & VOLATILE_BIT != 0
    }

    pub(crate) fn set_volatile(&mut self, volatile: bool) {
        if volatile {
            self.key_len_and_flags |= VOLATILE_BIT;
        } else {
            self.key_len_and_flags &= !VOLATILE_BIT;
        }
    }

    pub fn lru(&self) -> u32 {
        self.lru
    }

    pub fn touch(&mut self, lru: u32) {
        // The clock ticks once a second: skip the store when it would not change anything, so
        // that reads on one core do not dirty a cache line another core is about to read.
        if self.lru != lru {
            self.lru = lru;
        }
    }

    /// The string content, or `None` when the value is not a string.
    pub fn as_str(&self) -> Option<StrRef<'_>> {
        match self.value {
            Value::Embstr | Value::Raw => Some(StrRef::Bytes(&self.kv[self.key_len()..])),
            Value::Int(n) => Some(StrRef::Int(n)),
            _ => None,
        }
    }

    /// Replaces the value with a string set by a client (SET semantics for the encoding).
    pub fn set_string(&mut self, bytes: &[u8]) {
        let replacement = Entry::string(self.key(), bytes, self.lru);
        self.replace_value_from(replacement);
    }

    /// Replaces the value with an integer-encoded string.
    pub fn set_int(&mut self, n: i64) {
        if self.kv.len() != self.key_len() {
            self.kv = self.key().into();
        }
        self.value = Value::Int(n);
    }

    /// Replaces the value with a raw string (the result of an in-place edit).
    pub fn set_raw(&mut self, bytes: &[u8]) {
        let replacement = Entry::raw_string(self.key(), bytes, self.lru);
        self.replace_value_from(replacement);
    }

    fn replace_value_from(&mut self, other: Entry) {
        let volatile = self.is_volatile();
        *self = other;
        self.set_volatile(volatile);
    }

    /// Appends to a string value in place; the value becomes `raw`. Returns the new length.
    /// The caller has checked the value is a string.
    pub fn append(&mut self, tail: &[u8]) -> usize {
        let key_len = self.key_len();
        let mut kv = std::mem::take(&mut self.kv).into_vec();
        if let Value::Int(n) = self.value {
            let mut buf = [0u8; 20];
            kv.extend_from_slice(crate::number::format_i64(n, &mut buf));
        }
        kv.extend_from_slice(tail);
        self.kv = kv.into_boxed_slice();
        self.value = Value::Raw;
        self.kv.len() - key_len
    }

    /// Mutable access to a `raw` string's bytes, converting the value to `raw` first and
    /// growing it with zero bytes to at least `min_len` (SETRANGE, SETBIT).
    pub fn raw_bytes_mut(&mut self, min_len: usize) -> &mut [u8] {
        let key_len = self.key_len();
        let mut kv = std::mem::take(&mut self.kv).into_vec();
        if let Value::Int(n) = self.value {
            let mut buf = [0u8; 20];
            kv.extend_from_slice(crate::number::format_i64(n, &mut buf));
        }
        if kv.len() - key_len < min_len {
            kv.resize(key_len + min_len, 0);
        }
        self.kv = kv.into_boxed_slice();
        self.value = Value::Raw;
        &mut self.kv[key_len..]
    }

    /// The same value under another key (RENAME, COPY, MOVE keep the value's encoding).
    pub fn with_key(&self, key: &[u8]) -> Entry {
        Entry {
            kv: concat(key, &self.kv[self.key_len()..]),
            key_len_and_flags: key.len() as u32,
            lru: self.lru,
            value: self.value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_small() {
        assert!(std::mem::size_of::<Entry>() <= 40);
    }

    #[test]
    fn strings_keep_their_bytes_after_the_key() {
        let mut e = Entry::string(b"k", b"hello", 0);
        assert_eq!(e.key(), b"k");
        assert_eq!(e.value().encoding_name(), "embstr");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello")));
        assert_eq!(e.append(b" world"), 11);
        assert_eq!(e.value().encoding_name(), "raw");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello world")));
        e.set_int(5);
        assert_eq!(e.as_str(), Some(StrRef::Int(5)));
        assert_eq!(e.append(b"0"), 2);
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"50")));
        let bytes = e.raw_bytes_mut(4);
        bytes[3] = b'x';
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"50\0x")));
        let moved = e.with_key(b"other");
        assert_eq!(moved.key(), b"other");
        assert_eq!(moved.as_str(), Some(StrRef::Bytes(b"50\0x")));
    }

    #[test]
    fn plain_strings_are_never_int_encoded() {
        assert_eq!(
            Entry::plain_string(b"k", b"3000", 0)
                .value()
                .encoding_name(),
            "embstr"
        );
        let long = [b'1'; 45];
        assert_eq!(
            Entry::plain_string(b"k", &long, 0).value().encoding_name(),
            "raw"
        );
    }

    #[test]
    fn volatile_bit_survives_value_changes() {
        let mut e = Entry::string(b"key", b"1", 0);
        e.set_volatile(true);
        e.set_string(b"some text");
        assert!(e.is_volatile());
        assert_eq!(e.key(), b"key");
    }
}
