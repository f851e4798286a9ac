//! Streams: entries with increasing IDs, each a list of field-value pairs, plus consumer groups.
//!
//! Storage follows Redis 7.0's `t_stream.c`: entries live in listpack nodes kept in an ordered
//! map keyed by the ID of the node's first entry (Redis's rax). A node starts with a master
//! entry, `count deleted num-fields field... 0`, and each entry is
//! `flags ms-delta seq-delta [num-fields] [field] value ... lp-count`: the deltas are relative
//! to the node key, and with the SAMEFIELDS flag the field names are those of the master entry
//! and are omitted. Deleting an entry only sets its DELETED flag and moves one from `count` to
//! `deleted`; a node whose `count` drops to zero is removed. A new node starts when the last one
//! reaches `stream-node-max-bytes` or `stream-node-max-entries` (live and deleted).
//!
//! Consumer groups keep their pending entries (PEL) in an ordered map, each naming its
//! consumer; each consumer keeps the set of IDs it owns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::encoding::listpack::{Listpack, LpValue};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Redis never lets a listpack reach 1 GiB (`STREAM_LISTPACK_MAX_SIZE`).
const LISTPACK_MAX_SIZE: usize = 1 << 30;
/// What a new node reserves up front (`STREAM_LISTPACK_MAX_PRE_ALLOCATE`).
const MAX_PREALLOCATE: usize = 4096;
/// A group's `entries_read` when it is not known (`SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A stream entry ID, `<ms>-<seq>`, ordered by ms then seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, `None` past the maximum (`streamIncrID`).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, `None` before 0-0 (`streamDecrID`).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An ID as a client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    /// False for `<ms>-*` (only where it is accepted).
    pub seq_given: bool,
}

/// How [`parse_id`] treats its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSyntax {
    /// The sequence when only `<ms>` is given.
    pub missing_seq: u64,
    /// Refuses `-` and `+`.
    pub strict: bool,
    /// Accepts `<ms>-*` (XADD).
    pub seq_wildcard: bool,
}

impl IdSyntax {
    /// Strict, sequence 0 when missing: what most commands take.
    pub const STRICT: IdSyntax = IdSyntax {
        missing_seq: 0,
        strict: true,
        seq_wildcard: false,
    };
}

/// C's `strtoull` over a whole string (leading spaces, a sign, then digits to the end), as
/// Redis's `string2ull` falls back to it: a negative decimal that fits `i64` is refused.
fn string_to_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::number::parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { n.wrapping_neg() } else { n })
}

/// Parses a stream ID argument (`streamGenericParseIDOrReply`): `-`, `+` (unless strict),
/// `<ms>`, `<ms>-<seq>`, and `<ms>-*` when allowed. `None` is "Invalid stream ID".
pub fn parse_id(arg: &[u8], syntax: IdSyntax) -> Option<ParsedId> {
    if arg.len() > 127 {
        return None;
    }
    // Redis reads the argument as a C string.
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    let plain = |id| {
        Some(ParsedId {
            id,
            seq_given: true,
        })
    };
    match arg {
        b"-" | b"+" if syntax.strict => return None,
        b"-" => return plain(StreamId::MIN),
        b"+" => return plain(StreamId::MAX),
        _ => {}
    }
    match arg.iter().position(|&b| b == b'-') {
        None => plain(StreamId::new(string_to_u64(arg)?, syntax.missing_seq)),
        Some(dash) => {
            let ms = string_to_u64(&arg[..dash])?;
            let seq_part = &arg[dash + 1..];
            if syntax.seq_wildcard && seq_part == b"*" {
                return Some(ParsedId {
                    id: StreamId::new(ms, 0),
                    seq_given: false,
                });
            }
            plain(StreamId::new(ms, string_to_u64(seq_part)?))
        }
    }
}

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`; 0 = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// Which ID XADD uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock, `now_ms`.
    Auto(u64),
    /// `<ms>-*`.
    Ms(u64),
    /// `<ms>-<seq>`.
    Exact(StreamId),
}

/// Why XADD refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one.
    IdTooSmall,
    /// The fields and values together pass 1 GiB.
    TooLarge,
}

/// How XADD/XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// Stream-wide counters and edge IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    /// Live entries.
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry (0-0 when empty).
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
}

impl Meta {
    /// Whether a deleted entry may lie within `start..=end` (`streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The logical read counter of `id`, when it can be known
    /// (`streamEstimateDistanceFromFirstEverEntry`); `None` when it cannot.
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.length);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// A group's lag: entries not yet delivered to it, `None` when unknown.
    pub fn lag(&self, group: &ConsumerGroup) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(Some(group.last_id), None)
        {
            return Some(self.entries_added as i64 - group.entries_read);
        }
        self.estimate_distance(group.last_id)
            .map(|read| self.entries_added as i64 - read as i64)
    }
}

/// A pending (delivered, not acknowledged) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Box<[u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Unix ms of the last time the consumer read or claimed.
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
    /// Entries the group has read ([`INVALID_ENTRIES_READ`] when unknown).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates consumer `name` seen at `now`; false if it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.into(),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Looks up consumer `name`, creating it if needed, and marks it seen at `now`. Returns
    /// whether it was created.
    pub fn touch_consumer(&mut self, name: &[u8], now: i64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => self.create_consumer(name, now),
        }
    }

    /// Deletes consumer `name` and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }

    /// Acknowledges `id`; false if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Records the delivery of `id` to `consumer` (which exists): a new pending entry, or an
    /// existing one handed to this consumer with its count reset to 1.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: i64) {
        if let Some(old) = self.pel.get(&id).map(|p| p.consumer.clone())
            && let Some(c) = self.consumers.get_mut(&old)
        {
            c.pel.remove(&id);
        }
        self.pel.insert(
            id,
            PendingEntry {
                delivery_time: now,
                delivery_count: 1,
                consumer: consumer.into(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Gives pending entry `id` to `consumer` (which exists), as XCLAIM does.
    pub fn transfer(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(p) = self.pel.get_mut(&id) else {
            return;
        };
        if *p.consumer != *consumer {
            let old = std::mem::replace(&mut p.consumer, consumer.into());
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// One entry read from a node: its ID and where its fields are.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    lp: &'a Listpack,
    /// First master field (for SAMEFIELDS entries).
    master_fields: Option<usize>,
    /// First field (or value, for SAMEFIELDS entries).
    fields: Option<usize>,
    numfields: usize,
    same: bool,
    deleted: bool,
    flags_pos: usize,
}

impl<'a> EntryRef<'a> {
    pub fn numfields(&self) -> usize {
        self.numfields
    }

    /// The field-value pairs, in order.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            lp: self.lp,
            master: if self.same { self.master_fields } else { None },
            pos: self.fields,
            left: self.numfields,
        }
    }
}

/// The pairs of one entry.
pub struct Fields<'a> {
    lp: &'a Listpack,
    master: Option<usize>,
    pos: Option<usize>,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let lp = self.lp;
        match self.master {
            Some(m) => {
                let v = self.pos?;
                self.master = lp.next(m);
                self.pos = lp.next(v);
                Some((lp.get(m), lp.get(v)))
            }
            None => {
                let f = self.pos?;
                let v = lp.next(f)?;
                self.pos = lp.next(v);
                Some((lp.get(f), lp.get(v)))
            }
        }
    }
}

fn int_at(lp: &Listpack, pos: Option<usize>) -> i64 {
    pos.and_then(|p| lp.get(p).as_i64()).unwrap_or(0)
}

/// The master entry: (live count, deleted count, master field count, first master field,
/// first entry).
fn master(lp: &Listpack) -> (i64, i64, usize, Option<usize>, Option<usize>) {
    let count_pos = lp.first();
    let deleted_pos = count_pos.and_then(|p| lp.next(p));
    let nf_pos = deleted_pos.and_then(|p| lp.next(p));
    let numfields = usize::try_from(int_at(lp, nf_pos)).unwrap_or(0);
    let first_field = nf_pos.and_then(|p| lp.next(p));
    let mut p = nf_pos;
    for _ in 0..=numfields {
        p = p.and_then(|x| lp.next(x));
    }
    // `p` is on the master terminator.
    let first_entry = p.and_then(|x| lp.next(x));
    (
        int_at(lp, count_pos),
        int_at(lp, deleted_pos),
        numfields,
        first_field,
        first_entry,
    )
}

/// Every entry of a node, deleted ones included, in order.
fn decode_node(key: StreamId, lp: &Listpack) -> Vec<EntryRef<'_>> {
    let (count, deleted, master_nf, master_fields, mut p) = master(lp);
    let mut out = Vec::with_capacity(usize::try_from(count + deleted).unwrap_or(0).min(1024));
    while let Some(flags_pos) = p {
        let flags = int_at(lp, Some(flags_pos));
        let ms_pos = lp.next(flags_pos);
        let seq_pos = ms_pos.and_then(|x| lp.next(x));
        let id = StreamId::new(
            key.ms.wrapping_add(int_at(lp, ms_pos) as u64),
            key.seq.wrapping_add(int_at(lp, seq_pos) as u64),
        );
        let same = flags & FLAG_SAMEFIELDS != 0;
        let mut q = seq_pos.and_then(|x| lp.next(x));
        let (numfields, skip) = if same {
            (master_nf, master_nf)
        } else {
            let nf = usize::try_from(int_at(lp, q)).unwrap_or(0);
            q = q.and_then(|x| lp.next(x));
            (nf, nf * 2)
        };
        let fields = q;
        for _ in 0..skip {
            q = q.and_then(|x| lp.next(x));
        }
        // `q` is on lp-count.
        p = q.and_then(|x| lp.next(x));
        out.push(EntryRef {
            id,
            lp,
            master_fields,
            fields,
            numfields,
            same,
            deleted: flags & FLAG_DELETED != 0,
            flags_pos,
        });
    }
    out
}

/// Live entries of a range, in order or reversed.
pub struct Range<'a> {
    nodes: Box<dyn Iterator<Item = (&'a StreamId, &'a Listpack)> + 'a>,
    current: std::vec::IntoIter<EntryRef<'a>>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    done: bool,
}

impl<'a> Range<'a> {
    fn new(nodes: &'a NodeMap, start: StreamId, end: StreamId, rev: bool) -> Range<'a> {
        let iter: Box<dyn Iterator<Item = (&'a StreamId, &'a Listpack)> + 'a> = if start > end {
            Box::new(std::iter::empty())
        } else if rev {
            Box::new(nodes.up_to(end).rev())
        } else {
            Box::new(nodes.from(start))
        };
        Range {
            nodes: iter,
            current: Vec::new().into_iter(),
            start,
            end,
            rev,
            done: false,
        }
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            match self.current.next() {
                Some(e) => {
                    if e.deleted {
                        continue;
                    }
                    if self.rev {
                        if e.id > self.end {
                            continue;
                        }
                        if e.id < self.start {
                            self.done = true;
                            return None;
                        }
                    } else {
                        if e.id < self.start {
                            continue;
                        }
                        if e.id > self.end {
                            self.done = true;
                            return None;
                        }
                    }
                    return Some(e);
                }
                None => match self.nodes.next() {
                    Some((key, lp)) => {
                        let mut entries = decode_node(*key, lp);
                        if self.rev {
                            entries.reverse();
                        }
                        self.current = entries.into_iter();
                    }
                    None => self.done = true,
                },
            }
        }
        None
    }
}

/// The listpack nodes of a stream, ordered by master ID. Entries are appended at the tail and
/// trimmed from the head, so a double-ended array fits: 40 bytes a node where a B-tree (whose
/// leaves stay about half full under appends) takes twice that, and a 1M-entry stream must
/// not outweigh Redis's radix tree. Growth is by an eighth, not doubling, to bound the slack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeMap {
    nodes: std::collections::VecDeque<(StreamId, Listpack)>,
}

impl NodeMap {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&StreamId, &Listpack)> {
        self.nodes.iter().map(|(k, v)| (k, v))
    }

    /// The index of the last node whose master ID is at most `id`.
    fn floor(&self, id: StreamId) -> Option<usize> {
        self.nodes.partition_point(|(k, _)| *k <= id).checked_sub(1)
    }

    /// The nodes that may hold IDs from `start` on, in order.
    fn from(&self, start: StreamId) -> impl DoubleEndedIterator<Item = (&StreamId, &Listpack)> {
        let first = self.floor(start).unwrap_or(0);
        self.nodes.range(first..).map(|(k, v)| (k, v))
    }

    /// The nodes whose master ID is at most `end`, in order.
    fn up_to(&self, end: StreamId) -> impl DoubleEndedIterator<Item = (&StreamId, &Listpack)> {
        let stop = self.nodes.partition_point(|(k, _)| *k <= end);
        self.nodes.range(..stop).map(|(k, v)| (k, v))
    }

    fn floor_mut(&mut self, id: StreamId) -> Option<(StreamId, &mut Listpack)> {
        let i = self.floor(id)?;
        self.nodes.get_mut(i).map(|(k, v)| (*k, v))
    }

    fn last_mut(&mut self) -> Option<(StreamId, &mut Listpack)> {
        self.nodes.back_mut().map(|(k, v)| (*k, v))
    }

    fn first_mut(&mut self) -> Option<(StreamId, &mut Listpack)> {
        self.nodes.front_mut().map(|(k, v)| (*k, v))
    }

    fn pop_first(&mut self) {
        self.nodes.pop_front();
        if self.nodes.capacity() > 16 && self.nodes.len() < self.nodes.capacity() / 2 {
            self.nodes
                .shrink_to(self.nodes.len() + self.nodes.len() / 8);
        }
    }

    /// Appends a node whose master ID is above every other's.
    fn push_last(&mut self, id: StreamId, lp: Listpack) -> &mut Listpack {
        debug_assert!(self.nodes.back().is_none_or(|(k, _)| *k < id));
        if self.nodes.len() == self.nodes.capacity() {
            self.nodes.reserve_exact((self.nodes.len() / 8).max(4));
        }
        self.nodes.push_back((id, lp));
        &mut self.nodes.back_mut().expect("just pushed").1
    }

    fn remove(&mut self, id: StreamId) {
        if let Ok(i) = self.nodes.binary_search_by(|(k, _)| k.cmp(&id)) {
            self.nodes.remove(i);
        }
    }
}

impl FromIterator<(StreamId, Listpack)> for NodeMap {
    fn from_iter<I: IntoIterator<Item = (StreamId, Listpack)>>(iter: I) -> Self {
        let mut nodes: Vec<(StreamId, Listpack)> = iter.into_iter().collect();
        nodes.sort_by_key(|(k, _)| *k);
        nodes.dedup_by_key(|(k, _)| *k);
        NodeMap {
            nodes: nodes.into(),
        }
    }
}

/// A stream value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamValue {
    nodes: NodeMap,
    pub meta: Meta,
    pub groups: BTreeMap<Box<[u8]>, ConsumerGroup>,
}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue::default()
    }

    /// A stream rebuilt from its stored parts (RDB, RESTORE): nodes keyed by master ID, in
    /// any order.
    pub fn from_parts(
        nodes: impl IntoIterator<Item = (StreamId, Listpack)>,
        meta: Meta,
        groups: BTreeMap<Box<[u8]>, ConsumerGroup>,
    ) -> StreamValue {
        StreamValue {
            nodes: nodes.into_iter().collect(),
            meta,
            groups,
        }
    }

    /// The 16-byte big-endian form Redis keys nodes and PEL entries by.
    pub fn encode_id(id: StreamId) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&id.ms.to_be_bytes());
        out[8..].copy_from_slice(&id.seq.to_be_bytes());
        out
    }

    pub fn decode_id(raw: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&raw[..8]);
        seq.copy_from_slice(&raw[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }

    pub fn len(&self) -> u64 {
        self.meta.length
    }

    pub fn is_empty(&self) -> bool {
        self.meta.length == 0
    }

    /// Listpack nodes (XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes as (master ID, listpack), in order (RDB, memory accounting).
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Listpack)> {
        self.nodes.iter()
    }

    /// Bytes of the listpacks, allocation included.
    /// Heap bytes held (MEMORY USAGE): the node array, every node's listpack, and the
    /// consumer groups with their pending entries, groups estimated from `samples` (all
    /// when 0).
    pub fn memory_bytes(&self, samples: usize) -> usize {
        let nodes = self.nodes.nodes.capacity() * std::mem::size_of::<(StreamId, Listpack)>()
            + self
                .nodes
                .iter()
                .map(|(_, lp)| lp.allocated_bytes())
                .sum::<usize>();
        let groups = crate::value::sampled_bytes(
            self.groups.iter(),
            self.groups.len(),
            samples,
            |(n, g)| {
                let pending = std::mem::size_of::<(StreamId, PendingEntry)>() + 8;
                let consumers: usize = g
                    .consumers
                    .iter()
                    .map(|(c, cons)| {
                        c.len() + std::mem::size_of::<Consumer>() + cons.pel.len() * 24
                    })
                    .sum();
                n.len() + std::mem::size_of::<ConsumerGroup>() + g.pel.len() * pending + consumers
            },
        );
        nodes + groups
    }

    pub fn allocated_bytes(&self) -> usize {
        self.nodes.iter().map(|(_, lp)| lp.as_bytes().len()).sum()
    }

    /// Live entries with `start <= id <= end`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        Range::new(&self.nodes, start, end, rev)
    }

    /// Whether live entry `id` exists.
    pub fn exists(&self, id: StreamId) -> bool {
        self.range(id, id, false).next().is_some()
    }

    /// The ID of the last live entry (`streamLastValidID`).
    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true)
            .next()
            .map(|e| e.id)
    }

    /// The first (or last) entry ID, deleted ones counted unless `skip_tombstones`
    /// (`streamGetEdgeID`); MAX (first) or MIN (last) when there is none.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let mut nodes: Box<dyn Iterator<Item = (&StreamId, &Listpack)>> = if first {
            Box::new(self.nodes.iter())
        } else {
            Box::new(self.nodes.iter().rev())
        };
        nodes
            .find_map(|(k, lp)| {
                let mut entries = decode_node(*k, lp);
                if !first {
                    entries.reverse();
                }
                entries
                    .into_iter()
                    .find(|e| !(skip_tombstones && e.deleted))
                    .map(|e| e.id)
            })
            .unwrap_or(if first { StreamId::MAX } else { StreamId::MIN })
    }

    /// Appends an entry of `pairs` (field, value, field, value...) (`streamAppendItem`).
    pub fn append(
        &mut self,
        pairs: &[&[u8]],
        id: NewId,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let last = self.meta.last_id;
        let id = match id {
            NewId::Auto(now) => {
                if now > last.ms {
                    StreamId::new(now, 0)
                } else {
                    last.incr().unwrap_or(StreamId::MIN)
                }
            }
            NewId::Ms(ms) => {
                if ms == last.ms {
                    if last.seq == u64::MAX {
                        return Err(AppendError::IdTooSmall);
                    }
                    StreamId::new(ms, last.seq + 1)
                } else {
                    StreamId::new(ms, 0)
                }
            }
            NewId::Exact(id) => id,
        };
        if id <= last {
            return Err(AppendError::IdTooSmall);
        }
        let total: usize = pairs.iter().map(|p| p.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let numfields = pairs.len() / 2;
        let mut max_bytes = limits.max_bytes;
        if max_bytes == 0 || max_bytes > LISTPACK_MAX_SIZE {
            max_bytes = LISTPACK_MAX_SIZE;
        }

        let mut tail = self.nodes.last_mut();
        if let Some((_, lp)) = &mut tail {
            let full = if lp.bytes_len() + total >= max_bytes {
                true
            } else if limits.max_entries > 0 {
                let (count, deleted, ..) = master(lp);
                (count + deleted) as u64 >= limits.max_entries as u64
            } else {
                false
            };
            if full {
                lp.shrink_to_fit();
                tail = None;
            }
        }
        let (master_id, lp, same) = match tail {
            Some((master_id, lp)) => {
                let (count, _, master_nf, master_fields, _) = master(lp);
                let mut same = master_nf == numfields;
                if same {
                    let mut p = master_fields;
                    for field in pairs.iter().step_by(2) {
                        match p {
                            Some(pos) if lp.get(pos).eq_bytes_exact(field) => p = lp.next(pos),
                            _ => {
                                same = false;
                                break;
                            }
                        }
                    }
                }
                if let Some(first) = lp.first() {
                    lp.replace_int(first, count + 1);
                }
                (master_id, lp, same)
            }
            None => {
                let mut lp = Listpack::new();
                let prealloc = if limits.max_bytes > 0 && limits.max_bytes < MAX_PREALLOCATE {
                    limits.max_bytes
                } else {
                    MAX_PREALLOCATE
                };
                lp.reserve(prealloc);
                lp.push_back_int(1);
                lp.push_back_int(0);
                lp.push_back_int(numfields as i64);
                for field in pairs.iter().step_by(2) {
                    lp.push_back(field);
                }
                lp.push_back_int(0);
                let lp = self.nodes.push_last(id, lp);
                (id, lp, true)
            }
        };
        let flags = if same { FLAG_SAMEFIELDS } else { 0 };
        lp.push_back_int(flags);
        lp.push_back_int(id.ms.wrapping_sub(master_id.ms) as i64);
        lp.push_back_int(id.seq.wrapping_sub(master_id.seq) as i64);
        if !same {
            lp.push_back_int(numfields as i64);
        }
        for pair in pairs.chunks_exact(2) {
            if !same {
                lp.push_back(pair[0]);
            }
            lp.push_back(pair[1]);
        }
        let lp_count = if same {
            numfields + 3
        } else {
            numfields * 2 + 4
        };
        lp.push_back_int(lp_count as i64);

        self.meta.length += 1;
        self.meta.entries_added += 1;
        self.meta.last_id = id;
        if self.meta.length == 1 {
            self.meta.first_id = id;
        }
        Ok(id)
    }

    /// Marks live entry `id` deleted (`streamDeleteItem`); false if there is none. Does not
    /// update `first_id` or `max_deleted_entry_id` (see [`StreamValue::delete_ids`]).
    fn delete(&mut self, id: StreamId) -> bool {
        let Some((key, lp)) = self.nodes.floor_mut(id) else {
            return false;
        };
        let Some(flags_pos) = decode_node(key, lp)
            .into_iter()
            .find(|e| e.id == id && !e.deleted)
            .map(|e| e.flags_pos)
        else {
            return false;
        };
        let flags = lp.get(flags_pos).as_i64().unwrap_or(0);
        let (count, deleted, ..) = master(lp);
        if count == 1 {
            self.nodes.remove(key);
        } else {
            // The flags keep their one-byte size, so earlier positions stay valid.
            lp.replace_int(flags_pos, flags | FLAG_DELETED);
            if let Some(p) = lp.first() {
                let p = lp.replace_int(p, count - 1);
                if let Some(d) = lp.next(p) {
                    lp.replace_int(d, deleted + 1);
                }
            }
        }
        self.meta.length -= 1;
        true
    }

    /// XDEL: deletes the live entries among `ids`, keeping the first and max-deleted IDs.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.meta.first_id {
                    first_deleted = true;
                }
                if id > self.meta.max_deleted_entry_id {
                    self.meta.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.meta.length == 0 {
                self.meta.first_id = StreamId::MIN;
            } else if first_deleted {
                self.meta.first_id = self.edge_id(true, true);
            }
        }
        deleted
    }

    /// Trims from the head (`streamTrim`). `approx` removes whole nodes only; `limit` (0 =
    /// none) caps the entries removed. Returns how many were removed.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let Trim::MaxLen(max) = trim
                && self.meta.length <= max
            {
                break;
            }
            let Some((key, lp)) = self.nodes.first_mut() else {
                break;
            };
            let (entries, marked, ..) = master(lp);
            let entries = entries as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match trim {
                Trim::MaxLen(max) => self.meta.length - entries >= max,
                Trim::MinId(min) => {
                    let last = decode_node(key, lp).last().map(|e| e.id);
                    last.is_some_and(|last| last < min)
                }
            };
            if remove_node {
                self.nodes.pop_first();
                self.meta.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let targets: Vec<(usize, i64, StreamId)> = decode_node(key, lp)
                .into_iter()
                .map(|e| (e.flags_pos, i64::from(e.deleted), e.id))
                .collect();
            let mut from_node = 0u64;
            for (pos, was_deleted, id) in targets {
                let stop = match trim {
                    Trim::MaxLen(max) => self.meta.length <= max,
                    Trim::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                if was_deleted == 0 {
                    let flags = lp.get(pos).as_i64().unwrap_or(0);
                    lp.replace_int(pos, flags | FLAG_DELETED);
                    from_node += 1;
                    self.meta.length -= 1;
                }
            }
            deleted += from_node;
            if let Some(p) = lp.first() {
                let p = lp.replace_int(p, (entries - from_node) as i64);
                if let Some(d) = lp.next(p) {
                    lp.replace_int(d, marked + from_node as i64);
                }
            }
            break;
        }
        if self.meta.length == 0 {
            self.meta.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.meta.first_id = self.edge_id(true, true);
        }
        deleted
    }

    /// Serves a consumer group read of new entries after `after` (XREADGROUP `>`): each entry
    /// returned advances the group's last ID and read counter and, unless `noack`, becomes
    /// pending for `consumer` (which exists). `count` 0 is unlimited.
    pub fn read_group(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        after: StreamId,
        count: usize,
        noack: bool,
        now: i64,
    ) -> Vec<EntryRef<'_>> {
        let meta = self.meta;
        let Some(g) = self.groups.get_mut(group) else {
            return Vec::new();
        };
        let Some(start) = after.incr() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in Range::new(&self.nodes, start, StreamId::MAX, false) {
            if e.id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ
                    && !meta.range_has_tombstones(Some(e.id), None)
                {
                    g.entries_read += 1;
                } else if meta.entries_added > 0 {
                    g.entries_read = meta
                        .estimate_distance(e.id)
                        .map_or(INVALID_ENTRIES_READ, |d| d as i64);
                }
                g.last_id = e.id;
            }
            if !noack {
                g.deliver(e.id, consumer, now);
            }
            out.push(e);
            if count > 0 && out.len() == count {
                break;
            }
        }
        out
    }

    /// The entry `id` if it is live.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }
}

trait ExactEq {
    fn eq_bytes_exact(&self, b: &[u8]) -> bool;
}

impl ExactEq for LpValue<'_> {
    /// Byte equality as `memcmp` after `lpGet` (an integer compares as its decimal text).
    fn eq_bytes_exact(&self, b: &[u8]) -> bool {
        match *self {
            LpValue::Str(s) => s == b,
            LpValue::Int(_) => self.to_vec() == b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(
        s: &mut StreamValue,
        ms: u64,
        seq: u64,
        pairs: &[&str],
    ) -> Result<StreamId, AppendError> {
        let pairs: Vec<&[u8]> = pairs.iter().map(|p| p.as_bytes()).collect();
        s.append(
            &pairs,
            NewId::Exact(StreamId::new(ms, seq)),
            NodeLimits::default(),
        )
    }

    fn ids(s: &StreamValue, rev: bool) -> Vec<String> {
        s.range(StreamId::MIN, StreamId::MAX, rev)
            .map(|e| e.id.to_string())
            .collect()
    }

    #[test]
    fn parses_ids_as_redis_does() {
        let strict = IdSyntax::STRICT;
        assert_eq!(
            parse_id(b"1-2", strict).map(|p| p.id),
            Some(StreamId::new(1, 2))
        );
        assert_eq!(
            parse_id(b"5", strict).map(|p| p.id),
            Some(StreamId::new(5, 0))
        );
        assert_eq!(parse_id(b"-", strict), None);
        assert_eq!(parse_id(b"-1", strict), None);
        assert_eq!(parse_id(b"1-", strict), None);
        assert_eq!(
            parse_id(b"+5", strict).map(|p| p.id),
            Some(StreamId::new(5, 0))
        );
        let loose = IdSyntax {
            missing_seq: u64::MAX,
            strict: false,
            seq_wildcard: false,
        };
        assert_eq!(parse_id(b"+", loose).map(|p| p.id), Some(StreamId::MAX));
        assert_eq!(
            parse_id(b"7", loose).map(|p| p.id),
            Some(StreamId::new(7, u64::MAX))
        );
        let xadd = IdSyntax {
            seq_wildcard: true,
            ..IdSyntax::STRICT
        };
        assert_eq!(
            parse_id(b"9-*", xadd),
            Some(ParsedId {
                id: StreamId::new(9, 0),
                seq_given: false
            })
        );
        assert_eq!(parse_id(b"9-*", strict), None);
    }

    #[test]
    fn appends_ranges_and_deletes() {
        let mut s = StreamValue::new();
        for i in 1..=250 {
            add(&mut s, i, 0, &["f", &i.to_string()]).unwrap();
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.node_count(), 3);
        assert_eq!(add(&mut s, 5, 0, &["a", "b"]), Err(AppendError::IdTooSmall));
        let e = s.get(StreamId::new(120, 0)).unwrap();
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(pairs, vec![(b"f".to_vec(), b"120".to_vec())]);
        assert_eq!(s.delete_ids(&[StreamId::new(1, 0), StreamId::new(1, 0)]), 1);
        assert_eq!(s.meta.first_id, StreamId::new(2, 0));
        assert_eq!(s.meta.max_deleted_entry_id, StreamId::new(1, 0));
        assert_eq!(ids(&s, false).len(), 249);
        assert_eq!(ids(&s, true)[0], "250-0");
        let r: Vec<String> = s
            .range(StreamId::new(99, 0), StreamId::new(102, 0), true)
            .map(|e| e.id.to_string())
            .collect();
        assert_eq!(r, ["102-0", "101-0", "100-0", "99-0"]);
    }

    #[test]
    fn different_fields_are_stored_in_full() {
        let mut s = StreamValue::new();
        add(&mut s, 1, 0, &["a", "1", "b", "2"]).unwrap();
        add(&mut s, 2, 0, &["x", "10", "y", "20", "z", "30"]).unwrap();
        add(&mut s, 3, 0, &["a", "3", "b", "4"]).unwrap();
        let all: Vec<Vec<Vec<u8>>> = s
            .range(StreamId::MIN, StreamId::MAX, false)
            .map(|e| {
                e.fields()
                    .flat_map(|(f, v)| [f.to_vec(), v.to_vec()])
                    .collect()
            })
            .collect();
        assert_eq!(
            all[1],
            [
                b"x".to_vec(),
                b"10".to_vec(),
                b"y".to_vec(),
                b"20".to_vec(),
                b"z".to_vec(),
                b"30".to_vec()
            ]
        );
        assert_eq!(
            all[2],
            [b"a".to_vec(), b"3".to_vec(), b"b".to_vec(), b"4".to_vec()]
        );
    }

    #[test]
    fn trims_exactly_and_by_whole_nodes() {
        let mut s = StreamValue::new();
        for i in 1..=250 {
            add(&mut s, i, 0, &["f", "v"]).unwrap();
        }
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(140), true, 0), 100);
        assert_eq!(s.trim(Trim::MaxLen(100), false, 0), 50);
        assert_eq!(s.len(), 100);
        assert_eq!(s.meta.first_id, StreamId::new(151, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(200, 0)), false, 0), 49);
        assert_eq!(ids(&s, false)[0], "200-0");
    }

    #[test]
    fn groups_track_reads_and_lag() {
        let mut s = StreamValue::new();
        for i in 1..=3 {
            add(&mut s, i, 0, &["f", "v"]).unwrap();
        }
        s.groups.insert(
            b"g".as_slice().into(),
            ConsumerGroup::new(StreamId::MIN, INVALID_ENTRIES_READ),
        );
        assert_eq!(s.meta.lag(&s.groups[b"g".as_slice()]), Some(3));
        s.groups
            .get_mut(b"g".as_slice())
            .unwrap()
            .touch_consumer(b"c", 0);
        let got = s.read_group(b"g", b"c", StreamId::MIN, 2, false, 10).len();
        assert_eq!(got, 2);
        let g = &s.groups[b"g".as_slice()];
        assert_eq!(g.entries_read, 2);
        assert_eq!(g.pel.len(), 2);
        assert_eq!(s.meta.lag(g), Some(1));
        let g = s.groups.get_mut(b"g".as_slice()).unwrap();
        assert!(g.ack(StreamId::new(1, 0)));
        assert_eq!(g.delete_consumer(b"c"), Some(1));
        assert!(g.pel.is_empty());
    }
}
