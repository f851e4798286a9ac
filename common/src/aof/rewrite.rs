//! The AOF base written as commands (`aof-use-rdb-preamble no`), as Redis's
//! `rewriteAppendOnlyFileRio` writes it: `FUNCTION LOAD` per library, `SELECT` per non-empty
//! database, then per key the commands that rebuild it — `SET`; `RPUSH`, `SADD`, `ZADD`
//! (scores as `%.17g`) and `HMSET` in batches of [`ITEMS_PER_CMD`]; a stream as `XADD` per
//! entry, `XSETID` with its counters, `XGROUP CREATE` per group, `XCLAIM ... FORCE` per
//! pending entry and `XGROUP CREATECONSUMER` for consumers with none — and `PEXPIREAT` for a
//! key with a TTL (`HPEXPIREAT` per field for hash field TTLs, as Redis 7.4 writes them).

use std::ops::ControlFlow;

use crate::encoding::listpack::LpValue;
use crate::keyspace::Entry;
use crate::number::{format_i64, write_g17};
use crate::value::Value;
use crate::value::stream::{StreamId, StreamValue};
use crate::value::string::StrRef;

/// Elements one variadic command carries at most (`AOF_REWRITE_ITEMS_PER_CMD`).
pub const ITEMS_PER_CMD: usize = 64;

fn header(out: &mut Vec<u8>, args: usize) {
    let mut buf = [0u8; 20];
    out.push(b'*');
    out.extend_from_slice(format_i64(args as i64, &mut buf));
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    let mut buf = [0u8; 20];
    out.push(b'$');
    out.extend_from_slice(format_i64(s.len() as i64, &mut buf));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn bulk_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    bulk(out, format_i64(n, &mut buf));
}

fn bulk_lp(out: &mut Vec<u8>, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => bulk_int(out, n),
        LpValue::Str(s) => bulk(out, s),
    }
}

fn bulk_id(out: &mut Vec<u8>, id: StreamId) {
    bulk(out, id.to_string().as_bytes());
}

fn bulk_double(out: &mut Vec<u8>, d: f64) {
    let mut text = Vec::with_capacity(24);
    write_g17(d, &mut text);
    bulk(out, &text);
}

/// `SELECT <db>`.
pub fn select(out: &mut Vec<u8>, db: usize) {
    header(out, 2);
    bulk(out, b"SELECT");
    bulk_int(out, db as i64);
}

/// `FUNCTION LOAD <code>`.
pub fn function_load(out: &mut Vec<u8>, code: &[u8]) {
    header(out, 3);
    bulk(out, b"FUNCTION");
    bulk(out, b"LOAD");
    bulk(out, code);
}

/// Writes variadic commands `<cmd> <key> item...`, starting a new command every
/// [`ITEMS_PER_CMD`] items, each item `width` arguments long.
struct Batches<'a> {
    out: &'a mut Vec<u8>,
    cmd: &'static [u8],
    key: &'a [u8],
    width: usize,
    remaining: usize,
    in_cmd: usize,
}

impl<'a> Batches<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        cmd: &'static [u8],
        key: &'a [u8],
        width: usize,
        items: usize,
    ) -> Self {
        Batches {
            out,
            cmd,
            key,
            width,
            remaining: items,
            in_cmd: 0,
        }
    }

    /// The buffer to write the next item's arguments into (after the command's head when the
    /// item starts a command). `None` once every announced item is written (a value that
    /// yields more than its length says stops there rather than write a malformed command).
    fn item(&mut self) -> Option<&mut Vec<u8>> {
        if self.remaining == 0 {
            return None;
        }
        if self.in_cmd == 0 {
            let items = self.remaining.min(ITEMS_PER_CMD);
            header(self.out, 2 + items * self.width);
            bulk(self.out, self.cmd);
            bulk(self.out, self.key);
        }
        self.remaining -= 1;
        self.in_cmd = (self.in_cmd + 1) % ITEMS_PER_CMD;
        Some(self.out)
    }

    /// Items announced but not yet written (zero once a value is done).
    fn left(&self) -> usize {
        self.remaining
    }
}

/// The commands that rebuild `entry`, then its `PEXPIREAT` when `expire_ms` is set.
pub fn key(out: &mut Vec<u8>, entry: &Entry, expire_ms: Option<i64>) {
    let key = entry.key();
    match entry.value() {
        Value::Embstr | Value::Raw | Value::Int(_) => {
            header(out, 3);
            bulk(out, b"SET");
            bulk(out, key);
            match entry.as_str() {
                Some(StrRef::Int(n)) => bulk_int(out, n),
                Some(StrRef::Bytes(b)) => bulk(out, b),
                None => bulk(out, b""),
            }
        }
        Value::List(l) => {
            let mut b = Batches::new(out, b"RPUSH", key, 1, l.len());
            l.quicklist().walk(0, false, |v| match b.item() {
                Some(out) => {
                    bulk_lp(out, v);
                    ControlFlow::Continue(())
                }
                None => ControlFlow::Break(()),
            });
            debug_assert_eq!(b.left(), 0);
        }
        Value::Set(s) => {
            let mut b = Batches::new(out, b"SADD", key, 1, s.len());
            let mut buf = [0u8; 20];
            s.for_each(|m| {
                if let Some(out) = b.item() {
                    bulk(out, m.bytes(&mut buf));
                }
            });
            debug_assert_eq!(b.left(), 0);
        }
        Value::ZSet(z) => {
            let mut b = Batches::new(out, b"ZADD", key, 2, z.len());
            z.for_each(|m, score| {
                if let Some(out) = b.item() {
                    bulk_double(out, score);
                    bulk(out, m);
                }
            });
            debug_assert_eq!(b.left(), 0);
        }
        Value::Hash(h) => {
            let mut b = Batches::new(out, b"HMSET", key, 2, h.len());
            for (f, v) in h.iter() {
                let Some(out) = b.item() else { break };
                bulk_lp(out, f);
                bulk_lp(out, v);
            }
            debug_assert_eq!(b.left(), 0);
            if h.volatile_fields() > 0 {
                for (f, _, ttl) in h.iter_with_ttls() {
                    if ttl == 0 {
                        continue;
                    }
                    header(out, 6);
                    bulk(out, b"HPEXPIREAT");
                    bulk(out, key);
                    bulk_int(out, ttl);
                    bulk(out, b"FIELDS");
                    bulk(out, b"1");
                    bulk_lp(out, f);
                }
            }
        }
        Value::Stream(s) => stream(out, key, s),
    }
    if let Some(at) = expire_ms {
        header(out, 3);
        bulk(out, b"PEXPIREAT");
        bulk(out, key);
        bulk_int(out, at);
    }
}

fn stream(out: &mut Vec<u8>, key: &[u8], s: &StreamValue) {
    if !s.is_empty() {
        for entry in s.range(StreamId::MIN, StreamId::MAX, false) {
            header(out, 3 + entry.numfields() * 2);
            bulk(out, b"XADD");
            bulk(out, key);
            bulk_id(out, entry.id);
            for (f, v) in entry.fields() {
                bulk_lp(out, f);
                bulk_lp(out, v);
            }
        }
    } else {
        // An empty stream: XADD then trim it all away.
        header(out, 7);
        for arg in [b"XADD".as_slice(), key, b"MAXLEN", b"0", b"0-1", b"x", b"y"] {
            bulk(out, arg);
        }
    }
    header(out, 7);
    bulk(out, b"XSETID");
    bulk(out, key);
    bulk_id(out, s.meta.last_id);
    bulk(out, b"ENTRIESADDED");
    bulk_int(out, i64::try_from(s.meta.entries_added).unwrap_or(i64::MAX));
    bulk(out, b"MAXDELETEDID");
    bulk_id(out, s.meta.max_deleted_entry_id);
    for (name, group) in &s.groups {
        header(out, 7);
        bulk(out, b"XGROUP");
        bulk(out, b"CREATE");
        bulk(out, key);
        bulk(out, name);
        bulk_id(out, group.last_id);
        bulk(out, b"ENTRIESREAD");
        bulk_int(out, group.entries_read);
        for (consumer, state) in &group.consumers {
            if state.pel.is_empty() {
                header(out, 5);
                for arg in [b"XGROUP".as_slice(), b"CREATECONSUMER", key, name, consumer] {
                    bulk(out, arg);
                }
                continue;
            }
            for id in &state.pel {
                let Some(pending) = group.pel.get(id) else {
                    continue;
                };
                header(out, 12);
                bulk(out, b"XCLAIM");
                bulk(out, key);
                bulk(out, name);
                bulk(out, consumer);
                bulk(out, b"0");
                bulk_id(out, *id);
                bulk(out, b"TIME");
                bulk_int(out, pending.delivery_time);
                bulk(out, b"RETRYCOUNT");
                bulk_int(
                    out,
                    i64::try_from(pending.delivery_count).unwrap_or(i64::MAX),
                );
                bulk(out, b"JUSTID");
                bulk(out, b"FORCE");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::reader::{Commands, Item};

    fn commands(bytes: &[u8]) -> Vec<Vec<String>> {
        Commands::at(bytes, 0)
            .map(|item| match item.unwrap() {
                Item::Command { args, .. } => args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
                Item::Annotation { .. } => panic!("annotation"),
            })
            .collect()
    }

    #[test]
    fn strings_with_ttl_and_functions() {
        let mut out = Vec::new();
        function_load(&mut out, b"#!lua name=l\n");
        select(&mut out, 3);
        key(&mut out, &Entry::string(b"k", b"v", 0), Some(1234));
        key(&mut out, &Entry::string(b"n", b"42", 0), None);
        assert_eq!(
            commands(&out),
            vec![
                vec!["FUNCTION", "LOAD", "#!lua name=l\n"],
                vec!["SELECT", "3"],
                vec!["SET", "k", "v"],
                vec!["PEXPIREAT", "k", "1234"],
                vec!["SET", "n", "42"],
            ]
        );
    }

    #[test]
    fn batches_hold_at_most_64_items() {
        let mut batches = Vec::new();
        for items in [1usize, 64, 65, 130] {
            let mut out = Vec::new();
            let mut b = Batches::new(&mut out, b"RPUSH", b"l", 1, items);
            for i in 0..items {
                bulk_int(b.item().unwrap(), i as i64);
            }
            assert!(b.item().is_none());
            let cmds = commands(&out);
            let sizes: Vec<usize> = cmds.iter().map(|c| c.len() - 2).collect();
            assert_eq!(sizes.iter().sum::<usize>(), items);
            batches.push(sizes);
        }
        assert_eq!(
            batches,
            vec![vec![1], vec![64], vec![64, 1], vec![64, 64, 2]]
        );
    }
}
