//! Streams in RDB (`RDB_TYPE_STREAM_LISTPACKS*`): the listpack nodes as they are, keyed by
//! their 128-bit big-endian master ID, then the stream's counters, then every consumer group
//! with its pending entries and consumers. Redis 7.0 writes type 19; types 15 (before 7.0)
//! and 21 (7.2, consumers gain an active time) are read too.

use std::collections::{BTreeMap, BTreeSet};

use super::reader::Reader;
use super::writer::{write_len, write_string};
use super::{RdbError, RdbErrorKind, kind};
use crate::encoding::listpack::{Iter, Listpack};
use crate::value::stream::{
    Consumer, ConsumerGroup, INVALID_ENTRIES_READ, Meta, PendingEntry, StreamId, StreamValue,
};

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// Appends `s` in Redis 7.0's `RDB_TYPE_STREAM_LISTPACKS_2` layout (type byte not included).
pub fn write_stream(out: &mut Vec<u8>, s: &StreamValue, compress: bool) {
    write_len(out, s.node_count() as u64);
    for (id, lp) in s.nodes() {
        write_string(out, &StreamValue::encode_id(*id), compress);
        write_string(out, lp.as_bytes(), compress);
    }
    let meta = &s.meta;
    write_len(out, meta.length);
    write_id(out, meta.last_id);
    write_id(out, meta.first_id);
    write_id(out, meta.max_deleted_entry_id);
    write_len(out, meta.entries_added);
    write_len(out, s.groups.len() as u64);
    for (name, group) in &s.groups {
        write_string(out, name, compress);
        write_id(out, group.last_id);
        // An unknown count (-1) is stored as Redis stores it: as a 64-bit length.
        write_len(out, group.entries_read as u64);
        write_len(out, group.pel.len() as u64);
        for (id, pending) in &group.pel {
            out.extend_from_slice(&StreamValue::encode_id(*id));
            out.extend_from_slice(&pending.delivery_time.to_le_bytes());
            write_len(out, pending.delivery_count);
        }
        write_len(out, group.consumers.len() as u64);
        for (name, consumer) in &group.consumers {
            write_string(out, name, compress);
            out.extend_from_slice(&consumer.seen_time.to_le_bytes());
            write_len(out, consumer.pel.len() as u64);
            for id in &consumer.pel {
                out.extend_from_slice(&StreamValue::encode_id(*id));
            }
        }
    }
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId::new(r.read_len()?, r.read_len()?))
}

fn read_raw_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    let raw = r.read_bytes(16)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(raw);
    Ok(StreamValue::decode_id(&a))
}

/// `STREAM_ITEM_FLAG_SAMEFIELDS`: the entry uses the master entry's field names.
const SAME_FIELDS: i64 = 2;

/// Checks a node's entries as Redis's deep stream check does: the master entry (count,
/// deleted count, field names, a zero terminator), then every entry (flags, ID deltas, its own
/// field names unless it shares the master's, values, and a back count that matches), and
/// nothing after the last one. Stream commands walk nodes trusting this layout.
fn node_is_well_formed(lp: &Listpack) -> bool {
    fn int(it: &mut Iter<'_>) -> Option<i64> {
        it.next().and_then(|v| v.as_i64())
    }
    fn skip(it: &mut Iter<'_>, n: i64) -> bool {
        n >= 0 && (0..n).all(|_| it.next().is_some())
    }
    let mut it = lp.iter();
    let (Some(live), Some(deleted), Some(master_fields)) =
        (int(&mut it), int(&mut it), int(&mut it))
    else {
        return false;
    };
    if !skip(&mut it, master_fields) || int(&mut it) != Some(0) {
        return false;
    }
    let Some(mut entries) = live.checked_add(deleted) else {
        return false;
    };
    while entries > 0 {
        entries -= 1;
        let Some(flags) = int(&mut it) else {
            return false;
        };
        if int(&mut it).is_none() || int(&mut it).is_none() {
            return false;
        }
        let mut fields = master_fields;
        let mut extra = 3;
        if flags & SAME_FIELDS == 0 {
            fields = match int(&mut it) {
                Some(n) => n,
                None => return false,
            };
            if !skip(&mut it, fields) {
                return false;
            }
            extra += fields + 1;
        }
        if !skip(&mut it, fields) || int(&mut it) != fields.checked_add(extra) {
            return false;
        }
    }
    it.next().is_none()
}

/// Reads a stream value of type `ty` (any of the three stream layouts).
pub fn read_stream(r: &mut Reader<'_>, ty: u8) -> Result<StreamValue, RdbError> {
    let corrupt = |at: usize| RdbError::new(at, RdbErrorKind::Corrupt("Stream"));
    let node_count = r.read_len()?;
    let mut nodes = Vec::new();
    let mut previous: Option<StreamId> = None;
    for _ in 0..node_count {
        let at = r.offset();
        let key = r.read_string()?;
        let key: [u8; 16] = key.as_ref().try_into().map_err(|_| corrupt(at))?;
        let id = StreamValue::decode_id(&key);
        if previous.is_some_and(|p| p >= id) {
            return Err(corrupt(at));
        }
        previous = Some(id);
        let at = r.offset();
        let blob = r.read_string()?.into_owned();
        let lp = Listpack::from_bytes(blob)
            .map_err(|_| RdbError::new(at, RdbErrorKind::Corrupt("Stream listpack")))?;
        if !node_is_well_formed(&lp) {
            return Err(RdbError::new(at, RdbErrorKind::Corrupt("Stream listpack")));
        }
        if lp.first().is_none() {
            // Redis refuses an empty node ("Empty listpack inside stream").
            return Err(corrupt(at));
        }
        nodes.push((id, lp));
    }
    let had_nodes = !nodes.is_empty();
    let mut stream = StreamValue::from_parts(nodes, Meta::default(), BTreeMap::new());
    let length = r.read_len()?;
    let last_id = read_id(r)?;
    let (first_id, max_deleted_entry_id, entries_added) = if ty == kind::STREAM_LISTPACKS {
        if length == 0 && had_nodes {
            return Err(corrupt(r.offset()));
        }
        // Before 7.0 these were not stored: the first ID is the first live entry's.
        let first = stream
            .range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map(|e| e.id);
        (first.unwrap_or(StreamId::MIN), StreamId::MIN, length)
    } else {
        (read_id(r)?, read_id(r)?, r.read_len()?)
    };
    stream.meta = Meta {
        length,
        last_id,
        first_id,
        max_deleted_entry_id,
        entries_added,
    };
    let meta = &stream.meta;
    let group_count = r.read_len()?;
    for _ in 0..group_count {
        let at = r.offset();
        let name: Box<[u8]> = r.read_string()?.into_owned().into();
        let group_last = read_id(r)?;
        let entries_read = if ty == kind::STREAM_LISTPACKS {
            // Not stored before 7.0: estimated from the group's position, as Redis does.
            meta.estimate_distance(group_last)
                .map_or(INVALID_ENTRIES_READ, |n| n as i64)
        } else {
            r.read_len()? as i64
        };
        let mut group = ConsumerGroup::new(group_last, entries_read);
        let pel_count = r.read_len()?;
        for _ in 0..pel_count {
            let id = read_raw_id(r)?;
            let delivery_time = r.read_ms()?;
            let delivery_count = r.read_len()?;
            let pending = PendingEntry {
                delivery_time,
                delivery_count,
                consumer: Box::default(),
            };
            if group.pel.insert(id, pending).is_some() {
                return Err(RdbError::new(
                    at,
                    RdbErrorKind::Duplicate("stream PEL entry"),
                ));
            }
        }
        let consumer_count = r.read_len()?;
        for _ in 0..consumer_count {
            let at = r.offset();
            let consumer_name: Box<[u8]> = r.read_string()?.into_owned().into();
            let seen_time = r.read_ms()?;
            if ty == kind::STREAM_LISTPACKS_3 {
                // 7.2's active time: we keep only the seen time.
                r.read_ms()?;
            }
            let mut pel = BTreeSet::new();
            let owned = r.read_len()?;
            for _ in 0..owned {
                let id = read_raw_id(r)?;
                // Every consumer's pending ID must be in the group's PEL, owned once.
                let Some(pending) = group.pel.get_mut(&id) else {
                    return Err(corrupt(at));
                };
                if !pending.consumer.is_empty() || !pel.insert(id) {
                    return Err(corrupt(at));
                }
                pending.consumer = consumer_name.clone();
            }
            let consumer = Consumer { seen_time, pel };
            if group.consumers.insert(consumer_name, consumer).is_some() {
                return Err(RdbError::new(
                    at,
                    RdbErrorKind::Duplicate("stream consumer"),
                ));
            }
        }
        // A pending entry nobody owns cannot be claimed or acknowledged consistently.
        if group.pel.values().any(|p| p.consumer.is_empty()) {
            return Err(corrupt(at));
        }
        if stream.groups.insert(name, group).is_some() {
            return Err(RdbError::new(
                at,
                RdbErrorKind::Duplicate("stream consumer group"),
            ));
        }
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::stream::{NewId, NodeLimits};

    fn sample() -> StreamValue {
        let mut s = StreamValue::new();
        let limits = NodeLimits {
            max_bytes: 4096,
            max_entries: 2,
        };
        for i in 1..=5u64 {
            let v = i.to_string();
            s.append(
                &[b"f", v.as_bytes()],
                NewId::Exact(StreamId::new(i, 0)),
                limits,
            )
            .unwrap();
        }
        let mut group = ConsumerGroup::new(StreamId::new(2, 0), 2);
        for id in [StreamId::new(1, 0), StreamId::new(2, 0)] {
            group.pel.insert(
                id,
                PendingEntry {
                    delivery_time: 1000,
                    delivery_count: 1,
                    consumer: b"alice".as_slice().into(),
                },
            );
        }
        group.consumers.insert(
            b"alice".as_slice().into(),
            Consumer {
                seen_time: 1000,
                pel: [StreamId::new(1, 0), StreamId::new(2, 0)].into(),
            },
        );
        s.groups.insert(b"g".as_slice().into(), group);
        s
    }

    #[test]
    fn streams_round_trip_with_groups() {
        let s = sample();
        let mut out = Vec::new();
        write_stream(&mut out, &s, true);
        let mut r = Reader::new(&out);
        let back = read_stream(&mut r, kind::STREAM_LISTPACKS_2).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(back, s);
    }

    #[test]
    fn nodes_are_checked_entry_by_entry() {
        let s = sample();
        assert!(s.nodes().all(|(_, lp)| node_is_well_formed(lp)));
        // Master entry: 1 live, 0 deleted, 1 field "f", terminator; then one entry sharing
        // the master's fields: flags, ms and seq deltas, the value, and its back count.
        let node = |back_count: i64, extra: bool| {
            let mut lp = Listpack::new();
            for n in [1, 0, 1] {
                lp.push_back_int(n);
            }
            lp.push_back(b"f");
            for n in [0, SAME_FIELDS, 0, 0] {
                lp.push_back_int(n);
            }
            lp.push_back(b"v");
            lp.push_back_int(back_count);
            if extra {
                lp.push_back(b"x");
            }
            lp
        };
        assert!(node_is_well_formed(&node(4, false)));
        assert!(!node_is_well_formed(&node(5, false)));
        assert!(!node_is_well_formed(&node(4, true)));
        assert!(!node_is_well_formed(&Listpack::new()));
    }

    #[test]
    fn truncated_or_inconsistent_streams_are_refused() {
        let s = sample();
        let mut out = Vec::new();
        write_stream(&mut out, &s, false);
        for cut in 0..out.len() {
            let mut r = Reader::new(&out[..cut]);
            assert!(
                read_stream(&mut r, kind::STREAM_LISTPACKS_2).is_err(),
                "cut {cut}"
            );
        }
    }
}
