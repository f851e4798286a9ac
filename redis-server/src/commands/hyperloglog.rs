//! Group `hyperloglog`: PFADD, PFCOUNT and PFMERGE over HyperLogLogs kept in string values, and
//! the debugging commands PFDEBUG and PFSELFTEST. The representation, the hashing and the
//! estimator live in `common::value::hyperloglog`.

use std::sync::atomic::Ordering::Relaxed;

use common::keyspace::Entry;
use common::value::hyperloglog::{self as hll, Encoding, HllError, REGISTERS, Registers};
use common::value::string::StrRef;

use super::args::is;
use super::{CommandContext, CommandError, Registry};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("pfadd", pfadd);
    r.add("pfcount", pfcount);
    r.add("pfmerge", pfmerge);
    r.add("pfdebug", pfdebug);
    r.add("pfselftest", pfselftest);
}

impl From<HllError> for CommandError {
    fn from(e: HllError) -> Self {
        match e {
            HllError::NotHll => CommandError::Prefixed(
                "WRONGTYPE",
                "Key is not a valid HyperLogLog string value.".into(),
            ),
            HllError::Corrupt => {
                CommandError::Prefixed("INVALIDOBJ", "Corrupted HLL object detected".into())
            }
        }
    }
}

/// The bytes of an HLL value and their encoding: the usual WRONGTYPE for a non-string, the
/// HyperLogLog one for a string without a valid HLL header (integer-encoded strings included).
fn hll_of(entry: &Entry) -> Result<(&[u8], Encoding), CommandError> {
    match entry.as_str() {
        None => Err(CommandError::WrongType),
        Some(StrRef::Int(_)) => Err(HllError::NotHll.into()),
        Some(StrRef::Bytes(bytes)) => Ok((bytes, hll::encoding(bytes)?)),
    }
}

fn sparse_max_bytes(ctx: &CommandContext<'_>) -> usize {
    usize::try_from(ctx.server.hot.hll_sparse_max_bytes.load(Relaxed)).unwrap_or(usize::MAX)
}

/// Union registers, zeroed.
fn empty_registers() -> Box<Registers> {
    Box::new([0; REGISTERS])
}

/// `PFADD key [element ...]`: 1 when the key was created or a register changed, else 0.
fn pfadd(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut elements = ctx.args;
    let max_bytes = sparse_max_bytes(ctx);
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let mut updated = 0u64;
    match shard.get_mut(key, now) {
        None => {
            let mut value = hll::new_sparse();
            for element in elements.rest() {
                updated += u64::from(hll::add(&mut value, element, max_bytes)?);
            }
            updated += 1;
            hll::invalidate_cache(&mut value);
            shard.insert(Entry::raw_string(key, &value, lru));
        }
        Some(entry) => {
            let (_, encoding) = hll_of(entry)?;
            // Written values are raw strings, as Redis unshares them first.
            let bytes = entry.raw_bytes_mut(0);
            match encoding {
                // 12 KB: updated where it lies.
                Encoding::Dense => {
                    for element in elements.rest() {
                        updated += u64::from(hll::dense_add(bytes, element));
                    }
                    if updated > 0 {
                        hll::invalidate_cache(bytes);
                    }
                }
                // Small, and may change length or turn dense: edited in a copy, stored once.
                Encoding::Sparse => {
                    let mut value = bytes.to_vec();
                    let mut result = Ok(());
                    for element in elements.rest() {
                        match hll::add(&mut value, element, max_bytes) {
                            Ok(changed) => updated += u64::from(changed),
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    if updated > 0 {
                        if result.is_ok() {
                            hll::invalidate_cache(&mut value);
                        }
                        // Like Redis, registers raised before a corruption was found stay.
                        entry.set_raw(&value);
                    }
                    result?;
                }
            }
        }
    }
    if updated > 0 {
        ctx.modified(key);
        ctx.notify(Event::String, "pfadd", key);
        ctx.dirty(updated);
    }
    ctx.reply.integer(i64::from(updated > 0));
    Ok(())
}

/// `PFCOUNT key [key ...]`: the estimate for one key (cached in its header), or for the union
/// of several.
fn pfcount(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 1 {
        return pfcount_union(ctx);
    }
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let found = shard.get_mut(key, now).map(cardinality);
    shard.count_lookup(found.is_some());
    let Some(found) = found else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let (card, refreshed) = found?;
    if refreshed {
        // Storing the estimate changed the string: replicas and WATCH must see it.
        ctx.modified(key);
        ctx.dirty(1);
    }
    ctx.reply.integer(card);
    Ok(())
}

/// The cardinality of one HLL value, from its header cache or computed and cached; true
/// when it was computed.
fn cardinality(entry: &mut Entry) -> Result<(i64, bool), CommandError> {
    hll_of(entry)?;
    let bytes = entry.raw_bytes_mut(0);
    if let Some(card) = hll::cached_cardinality(bytes) {
        // The stale bit is clear, so the value fits.
        return Ok((card as i64, false));
    }
    let card = hll::count(bytes)?;
    hll::set_cached_cardinality(bytes, card);
    Ok((card as i64, true))
}

/// PFCOUNT of several keys: the estimate of their union; missing keys count as empty.
fn pfcount_union(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let mut max = empty_registers();
    for key in ctx.args.rest() {
        if let Some(entry) = ctx.db.shard(key).lookup_read(key, now) {
            let (bytes, _) = hll_of(entry)?;
            hll::merge_into(&mut max, bytes)?;
        }
    }
    ctx.reply.integer(hll::count_registers(&max) as i64);
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`: the union of the sources and the destination, stored in
/// the destination (dense as soon as one input is).
fn pfmerge(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dest = ctx.args.next_key()?;
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let max_bytes = sparse_max_bytes(ctx);
    let mut max = empty_registers();
    let mut dense = false;
    for key in std::iter::once(dest).chain(ctx.args.rest()) {
        if let Some(entry) = ctx.db.shard(key).lookup_read(key, now) {
            let (bytes, encoding) = hll_of(entry)?;
            dense |= encoding == Encoding::Dense;
            hll::merge_into(&mut max, bytes)?;
        }
    }
    let shard = ctx.db.shard(dest);
    match shard.get_mut(dest, now) {
        None => {
            let mut value = hll::new_sparse();
            hll::store_union(&mut value, &max, dense, max_bytes)?;
            hll::invalidate_cache(&mut value);
            shard.insert(Entry::raw_string(dest, &value, lru));
        }
        Some(entry) => {
            // The loop above read the destination too, so it is a valid HLL.
            let (_, encoding) = hll_of(entry)?;
            let bytes = entry.raw_bytes_mut(0);
            if encoding == Encoding::Dense {
                hll::store_union_dense(bytes, &max);
                hll::invalidate_cache(bytes);
            } else {
                let mut value = bytes.to_vec();
                hll::store_union(&mut value, &max, dense, max_bytes)?;
                hll::invalidate_cache(&mut value);
                entry.set_raw(&value);
            }
        }
    }
    // Redis names the event after PFADD: a merge is a mass add.
    ctx.wrote(Event::String, "pfadd", dest);
    ctx.reply.ok();
    Ok(())
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`.
fn pfdebug(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let sub = ctx.args.next_bytes()?;
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    // The key is looked up before the subcommand is: a missing key wins over a bad name.
    let Some(entry) = ctx.db.shard(key).get_mut(key, now) else {
        return Err(CommandError::err("The specified key does not exist"));
    };
    let (_, encoding) = hll_of(entry)?;
    let bytes = entry.raw_bytes_mut(0);
    let converted = if is(sub, "getreg") || is(sub, "todense") {
        let converted = encoding == Encoding::Sparse;
        if converted {
            let value = hll::sparse_to_dense(bytes)?;
            entry.set_raw(&value);
        }
        if is(sub, "getreg") {
            let Some(StrRef::Bytes(dense)) = entry.as_str() else {
                return Err(HllError::NotHll.into());
            };
            let registers = &dense[hll::HEADER_LEN..];
            ctx.reply.array(REGISTERS);
            for index in 0..REGISTERS {
                ctx.reply
                    .integer(i64::from(hll::dense_register(registers, index)));
            }
        } else {
            ctx.reply.integer(i64::from(converted));
        }
        converted
    } else if is(sub, "decode") {
        if encoding != Encoding::Sparse {
            return Err(CommandError::err("HLL encoding is not sparse"));
        }
        ctx.reply.bulk(hll::decode_sparse(bytes).as_bytes());
        false
    } else if is(sub, "encoding") {
        ctx.reply.simple(encoding.name().as_bytes());
        false
    } else {
        return Err(CommandError::err(format!(
            "Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    };
    if converted {
        // The new encoding must reach replicas, as Redis forces.
        ctx.dirty(1);
    }
    Ok(())
}

/// `PFSELFTEST`: OK, or the first failed check.
fn pfselftest(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let max_bytes = sparse_max_bytes(ctx);
    hll::self_test(&mut rand::rng(), max_bytes).map_err(|f| CommandError::err(f.to_string()))?;
    ctx.reply.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    const NOT_HLL: &str = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    const CORRUPT: &str = "-INVALIDOBJ Corrupted HLL object detected\r\n";

    fn get(c: &mut TestClient, key: &str) -> Vec<u8> {
        let reply = c.run(&["GET", key]);
        let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
        reply[start..reply.len() - 2].to_vec()
    }

    #[test]
    fn pfadd_creates_and_reports_changes() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["PFADD", "h"]), ":1\r\n");
        assert_eq!(
            get(&mut c, "h"),
            b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff"
        );
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h"]), "$3\r\nraw\r\n");
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":0\r\n");
        assert_eq!(c.text(&["PFADD", "h", "a", "b", "c"]), ":1\r\n");
        assert_eq!(c.text(&["PFADD", "h", "a", "b", "c"]), ":0\r\n");
        assert_eq!(c.text(&["PFADD", "h", ""]), ":1\r\n");
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":4\r\n");
        assert_eq!(c.text(&["PFADD", "h"]), ":0\r\n");
    }

    #[test]
    fn pfcount_caches_and_pfadd_invalidates() {
        let mut c = TestClient::new();
        c.run(&["PFADD", "h", "a", "b", "c"]);
        assert_eq!(get(&mut c, "h")[15], 0x80);
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":3\r\n");
        assert_eq!(&get(&mut c, "h")[8..16], b"\x03\0\0\0\0\0\0\0");
        c.run(&["PFADD", "h", "a", "b", "c"]);
        assert_eq!(get(&mut c, "h")[15], 0);
        c.run(&["PFADD", "h", "1", "2", "3"]);
        assert_eq!(get(&mut c, "h")[15], 0x80);
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":6\r\n");
        // A cached value is answered as it is, even a made-up one.
        c.run(&["SETRANGE", "h", "8", "\x2a"]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":42\r\n");
        assert_eq!(c.text(&["PFCOUNT", "nokey"]), ":0\r\n");
    }

    #[test]
    fn dense_and_sparse_give_the_same_counts() {
        let mut c = TestClient::new();
        c.run(&["PFADD", "d"]);
        assert_eq!(c.text(&["PFDEBUG", "TODENSE", "d"]), ":1\r\n");
        assert_eq!(c.text(&["PFDEBUG", "todense", "d"]), ":0\r\n");
        assert_eq!(c.text(&["PFDEBUG", "encoding", "d"]), "+dense\r\n");
        assert_eq!(c.text(&["STRLEN", "d"]), ":12304\r\n");
        let elements: Vec<String> = (0..300).map(|i| format!("x{i}")).collect();
        let mut args = vec!["PFADD", "s"];
        args.extend(elements.iter().map(String::as_str));
        c.run(&args);
        args[1] = "d";
        c.run(&args);
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "s"]), "+sparse\r\n");
        assert_eq!(c.text(&["PFCOUNT", "s"]), c.text(&["PFCOUNT", "d"]));
    }

    #[test]
    fn sparse_turns_dense_at_the_configured_size() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "SET", "hll-sparse-max-bytes", "30"]),
            "+OK\r\n"
        );
        c.run(&["PFADD", "h", "a", "b"]);
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
        c.run(&["PFADD", "h", "c", "d", "e", "f", "g", "h"]);
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "h"]), "+dense\r\n");
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":8\r\n");
    }

    #[test]
    fn pfmerge_and_pfcount_union() {
        let mut c = TestClient::new();
        c.run(&["PFADD", "a", "1", "2", "3"]);
        c.run(&["PFADD", "b", "2", "3", "4"]);
        c.run(&["PFADD", "c", "3", "4", "5"]);
        assert_eq!(c.text(&["PFCOUNT", "a", "b", "c", "nokey"]), ":5\r\n");
        assert_eq!(c.text(&["PFMERGE", "m", "a", "b", "c"]), "+OK\r\n");
        assert_eq!(c.text(&["PFCOUNT", "m"]), ":5\r\n");
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "m"]), "+sparse\r\n");
        // The destination's own registers count, and a dense input makes it dense.
        c.run(&["PFADD", "d", "6"]);
        c.run(&["PFDEBUG", "TODENSE", "d"]);
        assert_eq!(c.text(&["PFMERGE", "m", "d"]), "+OK\r\n");
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "m"]), "+dense\r\n");
        assert_eq!(c.text(&["PFCOUNT", "m"]), ":6\r\n");
        assert_eq!(c.text(&["PFMERGE", "empty"]), "+OK\r\n");
        assert_eq!(c.text(&["PFCOUNT", "empty"]), ":0\r\n");
    }

    #[test]
    fn type_errors() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "bar"]);
        c.run(&["SET", "n", "1234567890123456789"]);
        c.run(&["LPUSH", "l", "x"]);
        let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        assert_eq!(c.text(&["PFADD", "s", "1"]), NOT_HLL);
        assert_eq!(c.text(&["PFADD", "n", "1"]), NOT_HLL);
        assert_eq!(c.text(&["PFADD", "l", "1"]), wrongtype);
        assert_eq!(c.text(&["PFCOUNT", "s"]), NOT_HLL);
        assert_eq!(c.text(&["PFCOUNT", "l"]), wrongtype);
        assert_eq!(c.text(&["PFCOUNT", "nokey", "s"]), NOT_HLL);
        assert_eq!(c.text(&["PFMERGE", "x", "s"]), NOT_HLL);
        assert_eq!(c.text(&["PFMERGE", "s", "x"]), NOT_HLL);
        assert_eq!(c.text(&["EXISTS", "x"]), ":0\r\n");
    }

    #[test]
    fn corruption_is_detected() {
        let mut c = TestClient::new();
        c.run(&["PFADD", "h", "a", "b", "c"]);
        c.run(&["APPEND", "h", "hello"]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), CORRUPT);
        assert_eq!(c.text(&["PFCOUNT", "h", "h"]), CORRUPT);
        assert_eq!(c.text(&["PFDEBUG", "GETREG", "h"]), CORRUPT);
        c.run(&["DEL", "h"]);
        c.run(&["PFADD", "h", "a"]);
        c.run(&["SETRANGE", "h", "0", "0123"]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), NOT_HLL);
        c.run(&["DEL", "h"]);
        c.run(&["PFADD", "h", "a"]);
        c.run(&["SETRANGE", "h", "4", "x"]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), NOT_HLL);
        c.run(&["SETRANGE", "h", "4", "\0"]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), NOT_HLL);
    }

    #[test]
    fn pfdebug_subcommands() {
        let mut c = TestClient::new();
        c.run(&["PFADD", "h", "a", "b", "c"]);
        assert_eq!(
            c.text(&["PFDEBUG", "DECODE", "h"]),
            "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"
        );
        assert_eq!(
            c.text(&["PFDEBUG", "foo", "h"]),
            "-ERR Unknown PFDEBUG subcommand 'foo'\r\n"
        );
        assert_eq!(
            c.text(&["PFDEBUG", "foo", "nokey"]),
            "-ERR The specified key does not exist\r\n"
        );
        let regs = c.run(&["PFDEBUG", "GETREG", "h"]);
        assert!(regs.starts_with(b"*16384\r\n:0\r\n"));
        assert_eq!(regs.iter().filter(|&&b| b == b':').count(), 16384);
        assert_eq!(c.text(&["PFDEBUG", "ENCODING", "h"]), "+dense\r\n");
        assert_eq!(
            c.text(&["PFDEBUG", "DECODE", "h"]),
            "-ERR HLL encoding is not sparse\r\n"
        );
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":3\r\n");
    }

    #[test]
    fn values_copied_from_redis_work() {
        // Redis 7.0.15: PFADD h 0 1 ... 9, PFCOUNT h, GET h.
        let mut c = TestClient::new();
        let value: &[u8] = b"HYLL\x01\0\0\0\n\0\0\0\0\0\0\0A\xee\x84H#\x80SQ\x80L\xe0\x80@\x92\x80H\xca\x8cCs\x80B\xd7\x80B\x12\x8c@\xcf\x84C\"";
        c.run_bytes(&[b"SET", b"h", value]);
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":10\r\n");
        assert_eq!(c.text(&["PFADD", "h", "9"]), ":0\r\n");
        assert_eq!(c.text(&["PFADD", "h", "10"]), ":1\r\n");
        assert_eq!(c.text(&["PFCOUNT", "h"]), ":11\r\n");
    }
}
