//! Value types and their encodings, named as `TYPE` and `OBJECT ENCODING` name them.
//!
//! A string's bytes live in its keyspace entry, right after the key (one allocation per key, as
//! Redis's `embstr` keeps object and bytes together); the [`Value`] says how to read them.
//! Collection types (with the collections issue) hold their data behind a `Box`, so a `Value`
//! stays two words.

pub mod bitmap;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod set;
pub mod sorted_set;
pub mod stream;
pub mod string;

use set::SetValue;

/// The heap bytes of `len` items, estimated from the first `samples` of them (all when 0) as
/// Redis's MEMORY USAGE does: their sum scaled to the whole.
pub fn sampled_bytes<I: Iterator>(
    items: I,
    len: usize,
    samples: usize,
    mut heap: impl FnMut(I::Item) -> usize,
) -> usize {
    let limit = if samples == 0 { len } else { samples.min(len) };
    if limit == 0 {
        return 0;
    }
    let mut seen = 0usize;
    let mut sum = 0usize;
    for item in items.take(limit) {
        sum += heap(item);
        seen += 1;
    }
    if seen == 0 {
        return 0;
    }
    sum.saturating_mul(len) / seen
}

/// What a key holds, and in which encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string of at most [`string::EMBSTR_MAX`] bytes, stored after the key.
    Embstr,
    /// A longer string, or one modified in place (APPEND, SETRANGE), stored after the key.
    Raw,
    /// A string holding a decimal integer that round-trips through `i64`.
    Int(i64),
    /// A set, `intset` or `hashtable` encoded.
    Set(Box<SetValue>),
    /// A hash, `listpack` or `hashtable`.
    Hash(Box<hash::HashValue>),
    /// A list (always a quicklist in Redis 7.0).
    List(Box<list::ListValue>),
    /// A sorted set (`listpack` or `skiplist`).
    ZSet(Box<sorted_set::ZSetValue>),
    /// A stream (always `stream` encoded: listpack nodes in a radix tree).
    Stream(Box<stream::StreamValue>),
}

/// The types `TYPE` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

impl ValueType {
    /// The name `TYPE` and `SCAN ... TYPE` use.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Hash => "hash",
            ValueType::Stream => "stream",
        }
    }

    /// Parses a type name as `SCAN ... TYPE` accepts it (case-insensitively).
    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        [
            ValueType::String,
            ValueType::List,
            ValueType::Set,
            ValueType::ZSet,
            ValueType::Hash,
            ValueType::Stream,
        ]
        .into_iter()
        .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Free effort above which Redis frees a value on its lazyfree thread.
pub const LAZYFREE_THRESHOLD: usize = 64;

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Embstr | Value::Raw | Value::Int(_) => ValueType::String,
            Value::Set(_) => ValueType::Set,
            Value::Hash(_) => ValueType::Hash,
            Value::List(_) => ValueType::List,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Embstr => "embstr",
            Value::Raw => "raw",
            Value::Int(_) => "int",
            Value::Set(s) => s.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::List(_) => "quicklist",
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(_) => "stream",
        }
    }

    /// Heap bytes the value holds outside its keyspace entry (strings live in the entry),
    /// collections estimated from `samples` elements (all when 0), for MEMORY USAGE.
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        match self {
            Value::Embstr | Value::Raw | Value::Int(_) => 0,
            Value::Set(s) => std::mem::size_of::<SetValue>() + s.allocated_bytes(samples),
            Value::Hash(h) => std::mem::size_of::<hash::HashValue>() + h.allocated_bytes(samples),
            Value::List(l) => std::mem::size_of::<list::ListValue>() + l.allocated_bytes(samples),
            Value::ZSet(z) => {
                std::mem::size_of::<sorted_set::ZSetValue>() + z.allocated_bytes(samples)
            }
            Value::Stream(s) => {
                std::mem::size_of::<stream::StreamValue>() + s.memory_bytes(samples)
            }
        }
    }

    /// How many allocations freeing the value takes, as Redis's `lazyfreeGetFreeEffort`
    /// estimates it: quicklist nodes, hashtable entries, skiplist nodes, stream nodes plus
    /// consumer groups times the first group's pending entries; 1 for everything else.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::List(l) => l.quicklist().node_count(),
            Value::Set(s) if s.encoding_name() == "hashtable" => s.len(),
            Value::ZSet(z) if z.encoding_name() == "skiplist" => z.len(),
            Value::Hash(h) if h.encoding_name() == "hashtable" => h.len(),
            Value::Stream(s) => {
                let groups = s
                    .groups
                    .values()
                    .next()
                    .map_or(0, |first| s.groups.len() * (1 + first.pel.len()));
                s.node_count() + groups
            }
            _ => 1,
        }
    }

    /// Whether freeing the value is worth a background thread (effort above Redis's
    /// `LAZYFREE_THRESHOLD`).
    pub fn is_worth_lazy_free(&self) -> bool {
        self.free_effort() > LAZYFREE_THRESHOLD
    }

    /// True for the string encodings, whose bytes follow the key.
    pub fn is_string(&self) -> bool {
        self.value_type() == ValueType::String
    }
}
