//! Group `bitmap`: string values read and written as arrays of bits (SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP) or of small integers at bit offsets (BITFIELD, BITFIELD_RO).

use std::sync::atomic::Ordering::Relaxed;

use common::keyspace::{Entry, Shard};
use common::number::parse_i64;
use common::value::bitmap::{self, BitOp, Overflow};
use common::value::string::{IntBuf, StrRef};

use super::args::is;
use super::{Args, CommandContext, CommandError, Registry};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("setbit", setbit);
    r.add("getbit", getbit);
    r.add("bitcount", bitcount);
    r.add("bitpos", bitpos);
    r.add("bitop", bitop);
    r.add("bitfield", bitfield);
    r.add("bitfield_ro", bitfield_ro);
}

const OFFSET_ERROR: &str = "bit offset is not an integer or out of range";
const BIT_ERROR: &str = "bit is not an integer or out of range";
const TYPE_ERROR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// `SETBIT key offset 0|1`: replies with the bit's old value.
fn setbit(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let offset = parse_offset(ctx.args.next_bytes()?, None, max_bytes(ctx))?;
    let on = match parse_i64(ctx.args.next_bytes()?) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CommandError::err(BIT_ERROR)),
    };
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let (bytes, grown) = writable_bits(ctx.db.shard(key), key, offset, now, lru)?;
    let old = bitmap::set_bit(bytes, offset, on);
    if grown || old != on {
        ctx.wrote(Event::String, "setbit", key);
    }
    ctx.reply.integer(i64::from(old));
    Ok(())
}

/// `GETBIT key offset`.
fn getbit(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let offset = parse_offset(ctx.args.next_bytes()?, None, max_bytes(ctx))?;
    let now = ctx.now_ms;
    let bit = match ctx.db.shard(key).lookup_read(key, now) {
        None => false,
        Some(entry) => {
            let mut buf = IntBuf::default();
            bitmap::get_bit(string_of(entry)?.bytes(&mut buf), offset)
        }
    };
    ctx.reply.integer(i64::from(bit));
    Ok(())
}

/// `BITCOUNT key [start end [BYTE | BIT]]`.
fn bitcount(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    // A missing key counts 0 before any argument is looked at, as in Redis.
    let Some(entry) = ctx.db.shard(key).lookup_read(key, now) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut buf = IntBuf::default();
    let bytes = string_of(entry)?.bytes(&mut buf);
    let args = &mut ctx.args;
    let range = match args.remaining() {
        0 => whole(bytes.len()),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            if start < 0 && end < 0 && start > end {
                ctx.reply.integer(0);
                return Ok(());
            }
            let unit = Unit::parse(args.next_opt())?;
            bit_range(bytes.len(), start, end, unit)
        }
        _ => return Err(CommandError::Syntax),
    };
    let count = range.map_or(0, |(first, last)| bitmap::count_range(bytes, first, last));
    ctx.reply.integer(i64::try_from(count).unwrap_or(i64::MAX));
    Ok(())
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]`.
fn bitpos(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let bit = match ctx.args.next_i64()? {
        0 => false,
        1 => true,
        _ => return Err(CommandError::err("The bit argument must be 1 or 0.")),
    };
    let now = ctx.now_ms;
    // A missing key is an endless run of zeros.
    let Some(entry) = ctx.db.shard(key).lookup_read(key, now) else {
        ctx.reply.integer(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut buf = IntBuf::default();
    let bytes = string_of(entry)?.bytes(&mut buf);
    let args = &mut ctx.args;
    let (range, end_given) = match args.remaining() {
        0 => (whole(bytes.len()), false),
        1..=3 => {
            let start = args.next_i64()?;
            // Redis checks the unit word before it parses the end.
            let unit = Unit::parse(args.get(5))?;
            match args.next_opt() {
                Some(end) => {
                    let end = parse_i64(end).ok_or(CommandError::NotInteger)?;
                    (bit_range(bytes.len(), start, end, unit), true)
                }
                None => (bit_range(bytes.len(), start, -1, unit), false),
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match bitmap::position(bytes, bit, first, last) {
            Some(pos) => i64::try_from(pos).unwrap_or(i64::MAX),
            // No 1 in range; no 0 either: without an explicit end the string counts as
            // padded with zeros, so the first bit past the range answers.
            None if bit || end_given => -1,
            None => i64::try_from(last + 1).unwrap_or(i64::MAX),
        },
    };
    ctx.reply.integer(pos);
    Ok(())
}

/// `BITOP AND | OR | XOR | NOT destkey key [key ...]`: replies with the result's length.
fn bitop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let op_name = ctx.args.next_bytes()?;
    let op = [
        ("and", BitOp::And),
        ("or", BitOp::Or),
        ("xor", BitOp::Xor),
        ("not", BitOp::Not),
    ]
    .into_iter()
    .find(|(name, _)| is(op_name, name))
    .map(|(_, op)| op)
    .ok_or(CommandError::Syntax)?;
    let dest = ctx.args.next_key()?;
    if op == BitOp::Not && ctx.args.remaining() != 1 {
        return Err(CommandError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let now = ctx.now_ms;
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(ctx.args.remaining());
    for key in ctx.args.rest() {
        let bytes = match ctx.db.shard(key).lookup_read(key, now) {
            None => Vec::new(),
            Some(entry) => {
                let mut buf = IntBuf::default();
                string_of(entry)?.bytes(&mut buf).to_vec()
            }
        };
        sources.push(bytes);
    }
    let views: Vec<&[u8]> = sources.iter().map(Vec::as_slice).collect();
    let result = bitmap::bitop(op, &views);
    let len = result.len();
    let lru = ctx.lru();
    if result.is_empty() {
        // As Redis's dbDelete: a destination whose time has come is deleted, not expired.
        if ctx.db.shard(dest).remove(dest).is_some() {
            ctx.wrote(Event::Generic, "del", dest);
        }
    } else {
        ctx.set_key(dest, Entry::raw_string(dest, &result, lru));
        ctx.wrote(Event::String, "set", dest);
    }
    ctx.reply.integer(i64::try_from(len).unwrap_or(i64::MAX));
    Ok(())
}

/// `BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment |
/// OVERFLOW WRAP | SAT | FAIL] ...`.
fn bitfield(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bitfield_generic(ctx, Access::ReadWrite)
}

/// `BITFIELD_RO key [GET type offset] ...`.
fn bitfield_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bitfield_generic(ctx, Access::ReadOnly)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

fn bitfield_generic(ctx: &mut CommandContext<'_>, access: Access) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let max = max_bytes(ctx);
    let ops = FieldOp::parse_all(&mut ctx.args, max)?;
    let writes = ops.iter().any(|op| op.kind != FieldKind::Get);
    let now = ctx.now_ms;
    if !writes {
        let entry = ctx.db.shard(key).lookup_read(key, now);
        let mut buf = IntBuf::default();
        let bytes = match entry {
            None => &[][..],
            Some(entry) => string_of(entry)?.bytes(&mut buf),
        };
        ctx.reply.array(ops.len());
        for op in &ops {
            ctx.reply.integer(op.get(bytes));
        }
        return Ok(());
    }
    if access == Access::ReadOnly {
        return Err(CommandError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let highest = ops
        .iter()
        .filter(|op| op.kind != FieldKind::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max()
        .unwrap_or(0);
    let lru = ctx.lru();
    let (bytes, grown) = writable_bits(ctx.db.shard(key), key, highest, now, lru)?;
    let mut changes = 0;
    ctx.reply.array(ops.len());
    for op in &ops {
        match op.apply(bytes) {
            Applied::Read(value) => ctx.reply.integer(value),
            Applied::Written { reply, changed } => {
                if grown || changed {
                    changes += 1;
                }
                ctx.reply.integer(reply);
            }
            Applied::Failed => ctx.reply.null(),
        }
    }
    if changes > 0 {
        ctx.modified(key);
        ctx.notify(Event::String, "setbit", key);
        ctx.dirty(changes);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// BITFIELD operations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One GET, SET or INCRBY of a BITFIELD, with the OVERFLOW in force when it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldOp {
    kind: FieldKind,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// What one operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Read(i64),
    Written {
        reply: i64,
        changed: bool,
    },
    /// OVERFLOW FAIL stopped it.
    Failed,
}

impl FieldOp {
    /// Reads every operation, checking them all before any runs (as Redis does).
    fn parse_all(args: &mut Args<'_>, max_bytes: u64) -> Result<Vec<FieldOp>, CommandError> {
        let mut ops = Vec::new();
        let mut overflow = Overflow::Wrap;
        while let Some(word) = args.next_opt() {
            let remaining = args.remaining();
            let kind = if is(word, "get") && remaining >= 2 {
                FieldKind::Get
            } else if is(word, "set") && remaining >= 3 {
                FieldKind::Set(0)
            } else if is(word, "incrby") && remaining >= 3 {
                FieldKind::IncrBy(0)
            } else if is(word, "overflow") && remaining >= 1 {
                let name = args.next_bytes()?;
                overflow = [
                    ("wrap", Overflow::Wrap),
                    ("sat", Overflow::Sat),
                    ("fail", Overflow::Fail),
                ]
                .into_iter()
                .find(|(n, _)| is(name, n))
                .map(|(_, o)| o)
                .ok_or_else(|| CommandError::err("Invalid OVERFLOW type specified"))?;
                continue;
            } else {
                return Err(CommandError::Syntax);
            };
            let (signed, bits) = parse_type(args.next_bytes()?)?;
            let offset = parse_offset(args.next_bytes()?, Some(bits), max_bytes)?;
            let kind = match kind {
                FieldKind::Get => FieldKind::Get,
                FieldKind::Set(_) => FieldKind::Set(args.next_i64()?),
                FieldKind::IncrBy(_) => FieldKind::IncrBy(args.next_i64()?),
            };
            ops.push(FieldOp {
                kind,
                signed,
                bits,
                offset,
                overflow,
            });
        }
        Ok(ops)
    }

    /// The field's value in `bytes` (zeros past the end).
    fn get(&self, bytes: &[u8]) -> i64 {
        if self.signed {
            bitmap::get_signed(bytes, self.offset, self.bits)
        } else {
            // At most 63 bits wide, so it fits.
            bitmap::get_unsigned(bytes, self.offset, self.bits) as i64
        }
    }

    /// Runs the operation on a string already grown to hold the field. SET replies with the
    /// old value, INCRBY with the new one.
    fn apply(&self, bytes: &mut [u8]) -> Applied {
        let (amount, is_set) = match self.kind {
            FieldKind::Get => return Applied::Read(self.get(bytes)),
            FieldKind::Set(v) => (v, true),
            FieldKind::IncrBy(v) => (v, false),
        };
        let old = self.get(bytes);
        let new = if self.signed {
            let (base, incr) = if is_set { (amount, 0) } else { (old, amount) };
            bitmap::add_signed(base, incr, self.bits, self.overflow)
        } else {
            // A SET value is taken as unsigned, so a negative one is out of range.
            let (base, incr) = if is_set {
                (amount as u64, 0)
            } else {
                (old as u64, amount)
            };
            bitmap::add_unsigned(base, incr, self.bits, self.overflow).map(|v| v as i64)
        };
        let Some(new) = new else {
            return Applied::Failed;
        };
        bitmap::set_unsigned(bytes, self.offset, self.bits, new as u64);
        Applied::Written {
            reply: if is_set { old } else { new },
            changed: old != new,
        }
    }
}

/// `i1`..`i64` or `u1`..`u63`: (signed, bits).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let error = || CommandError::err(TYPE_ERROR);
    let (signed, rest) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(error()),
    };
    // Redis reads the width as a C string: it ends at the first NUL byte.
    let digits = rest.split(|b| *b == 0).next().unwrap_or_default();
    let bits = parse_i64(digits).ok_or_else(error)?;
    let widest = if signed { 64 } else { 63 };
    match u32::try_from(bits) {
        Ok(bits) if (1..=widest).contains(&bits) => Ok((signed, bits)),
        _ => Err(error()),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A bit offset: a non-negative integer whose byte lies below `proto-max-bulk-len`. With
/// `field_bits` (BITFIELD), `#N` means the N-th field of that width.
fn parse_offset(arg: &[u8], field_bits: Option<u32>, max_bytes: u64) -> Result<u64, CommandError> {
    let error = || CommandError::err(OFFSET_ERROR);
    let (digits, multiplier) = match (arg.split_first(), field_bits) {
        (Some((b'#', rest)), Some(bits)) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies in 64 bits and lets it wrap; the range check below then judges the
    // wrapped value.
    let offset = parse_i64(digits)
        .ok_or_else(error)?
        .wrapping_mul(multiplier);
    let offset = u64::try_from(offset).map_err(|_| error())?;
    if offset >> 3 >= max_bytes {
        return Err(error());
    }
    Ok(offset)
}

/// Byte or bit indexes for BITCOUNT and BITPOS ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Byte,
    Bit,
}

impl Unit {
    fn parse(word: Option<&[u8]>) -> Result<Unit, CommandError> {
        match word {
            None => Ok(Unit::Byte),
            Some(w) if is(w, "byte") => Ok(Unit::Byte),
            Some(w) if is(w, "bit") => Ok(Unit::Bit),
            Some(_) => Err(CommandError::Syntax),
        }
    }
}

/// Every bit of a `len`-byte string, as an inclusive bit range; `None` when empty.
fn whole(len: usize) -> Option<(u64, u64)> {
    (len > 0).then(|| (0, len as u64 * 8 - 1))
}

/// The inclusive bit range `start..=end` names in a `len`-byte string (negative indexes count
/// from the end, both ends clamped), or `None` when it is empty. Byte indexes cover whole
/// bytes.
fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => len as i64 * 8,
    };
    let from_end = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let start = from_end(start);
    let end = from_end(end).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start * 8, end * 8 + 7),
        Unit::Bit => (start, end),
    })
}

/// The string at `key` made `raw` and at least long enough to hold bit `offset` (created as
/// zeros when missing). Also says whether it was created or grew.
fn writable_bits<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    offset: u64,
    now_ms: i64,
    lru: u32,
) -> Result<(&'s mut [u8], bool), CommandError> {
    let needed = usize::try_from(offset / 8 + 1).map_err(|_| CommandError::StringTooLong)?;
    let old_len = match shard.get_mut(key, now_ms) {
        None => None,
        Some(entry) => Some(string_of(entry)?.len()),
    };
    if old_len.is_none() {
        shard.insert(Entry::raw_string(key, b"", lru));
    }
    let entry = shard
        .get_mut(key, now_ms)
        .expect("the key was just found or inserted");
    let bytes = entry.raw_bytes_mut(needed);
    let grown = old_len != Some(bytes.len());
    Ok((bytes, grown))
}

/// The entry's string value, or WRONGTYPE.
fn string_of(entry: &Entry) -> Result<StrRef<'_>, CommandError> {
    entry.as_str().ok_or(CommandError::WrongType)
}

/// `proto-max-bulk-len`: bit offsets must fall in a string no longer than this.
fn max_bytes(ctx: &CommandContext<'_>) -> u64 {
    ctx.server.hot.proto_max_bulk_len.load(Relaxed)
}

#[cfg(test)]
mod tests {

    #[test]
    fn bitmap_writes_report_their_effects() {
        let mut c = crate::commands::testkit::TestClient::new();
        c.assert_effects(&["SETBIT", "b", "7", "1"], &["$:setbit:b"], 1);
        c.assert_effects(&["SETBIT", "b", "7", "1"], &[], 0);
        c.assert_effects(&["SETBIT", "b", "7", "0"], &["$:setbit:b"], 1);
        c.assert_effects(&["SETBIT", "b", "100", "0"], &["$:setbit:b"], 1);
        c.assert_effects(
            &[
                "BITFIELD", "b", "SET", "u8", "0", "5", "SET", "u8", "8", "0", "GET", "u8", "0",
            ],
            &["$:setbit:b"],
            1,
        );
        c.assert_effects(&["BITFIELD", "b", "SET", "u8", "0", "5"], &[], 0);
        c.assert_effects(
            &[
                "BITFIELD", "nb", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10",
            ],
            &[],
            0,
        );
        c.assert_effects(&["BITOP", "AND", "dest", "b", "nokey"], &["$:set:dest"], 1);
        c.assert_effects(&["BITOP", "OR", "dest", "nokey"], &["g:del:dest"], 1);
        c.assert_effects(&["BITOP", "OR", "dest", "nokey"], &[], 0);
    }
    use super::*;
    use crate::commands::testkit::TestClient;

    /// OBJECT ENCODING of the key, read straight from the keyspace.
    fn encoding(c: &TestClient, key: &str) -> Option<&'static str> {
        let ks = &c.server.keyspace;
        let gate = ks.shared();
        let mut view = ks.lock_keys(&gate, 0, [key.as_bytes()]);
        view.shard(key.as_bytes())
            .peek(key.as_bytes(), crate::server::unix_ms())
            .map(|e| e.value().encoding_name())
    }

    fn dirty(c: &TestClient) -> u64 {
        c.server.dirty.load(Relaxed)
    }

    const OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";
    const TYPE: &str = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
    const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    const SYNTAX: &str = "-ERR syntax error\r\n";
    const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

    #[test]
    fn setbit_and_getbit() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SETBIT", "k", "7", "1"]), ":0\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$1\r\n\x01\r\n");
        assert_eq!(c.text(&["SETBIT", "k", "7", "0"]), ":1\r\n");
        assert_eq!(c.text(&["SETBIT", "k", "17", "1"]), ":0\r\n");
        assert_eq!(c.text(&["STRLEN", "k"]), ":3\r\n");
        assert_eq!(c.text(&["GETBIT", "k", "17"]), ":1\r\n");
        assert_eq!(c.text(&["GETBIT", "k", "16"]), ":0\r\n");
        assert_eq!(c.text(&["GETBIT", "k", "100000"]), ":0\r\n");
        assert_eq!(c.text(&["GETBIT", "nokey", "0"]), ":0\r\n");
        assert_eq!(encoding(&c, "k"), Some("raw"));
        // Integer-encoded strings are read as their digits and become raw when written.
        c.run(&["SET", "n", "1"]);
        assert_eq!(c.text(&["GETBIT", "n", "2"]), ":1\r\n");
        assert_eq!(c.text(&["GETBIT", "n", "7"]), ":1\r\n");
        assert_eq!(c.text(&["SETBIT", "n", "6", "1"]), ":0\r\n");
        assert_eq!(c.text(&["GET", "n"]), "$1\r\n3\r\n");
        assert_eq!(encoding(&c, "n"), Some("raw"));
    }

    #[test]
    fn setbit_and_getbit_errors() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SETBIT", "k", "4294967296", "1"]), OFFSET);
        assert_eq!(c.text(&["SETBIT", "k", "-1", "1"]), OFFSET);
        assert_eq!(c.text(&["SETBIT", "k", "x", "5"]), OFFSET);
        let bit = "-ERR bit is not an integer or out of range\r\n";
        assert_eq!(c.text(&["SETBIT", "k", "0", "2"]), bit);
        assert_eq!(c.text(&["SETBIT", "k", "0", "x"]), bit);
        assert_eq!(c.text(&["SETBIT", "k", "0", "-1"]), bit);
        assert_eq!(c.text(&["GETBIT", "k", "#1"]), OFFSET);
        assert_eq!(c.text(&["EXISTS", "k"]), ":0\r\n");
        c.run(&["SADD", "s", "a"]);
        assert_eq!(c.text(&["SETBIT", "s", "0", "1"]), WRONGTYPE);
        assert_eq!(c.text(&["GETBIT", "s", "0"]), WRONGTYPE);
        // The offset is judged against proto-max-bulk-len.
        let mut small = TestClient::with_config(&[("proto-max-bulk-len", "1mb")]);
        assert_eq!(small.text(&["SETBIT", "k", "8388607", "1"]), ":0\r\n");
        assert_eq!(small.text(&["SETBIT", "k", "8388608", "1"]), OFFSET);
    }

    #[test]
    fn setbit_counts_dirty_only_for_changes() {
        let mut c = TestClient::new();
        let before = dirty(&c);
        c.run(&["SETBIT", "k", "0", "0"]);
        assert_eq!(dirty(&c), before + 1, "created");
        c.run(&["SETBIT", "k", "0", "0"]);
        assert_eq!(dirty(&c), before + 1, "unchanged");
        c.run(&["SETBIT", "k", "0", "1"]);
        assert_eq!(dirty(&c), before + 2, "changed");
        c.run(&["SETBIT", "k", "100", "0"]);
        assert_eq!(dirty(&c), before + 3, "grown");
    }

    #[test]
    fn bitcount_ranges() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "foobar"]);
        assert_eq!(c.text(&["BITCOUNT", "s"]), ":26\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "0", "0"]), ":4\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "1", "1"]), ":6\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "1", "1", "BYTE"]), ":6\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "5", "30", "bit"]), ":17\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "-2", "-1"]), ":7\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "-1", "-2"]), ":0\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "-1", "-2", "foo"]), ":0\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "100", "200"]), ":0\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "-100", "100"]), ":26\r\n");
        assert_eq!(c.text(&["BITCOUNT", "s", "-7", "-3", "BIT"]), ":3\r\n");
        assert_eq!(c.text(&["BITCOUNT", "nokey"]), ":0\r\n");
        assert_eq!(c.text(&["BITCOUNT", "nokey", "a", "b"]), ":0\r\n");
        c.run(&["SET", "n", "-1"]);
        assert_eq!(c.text(&["BITCOUNT", "n"]), ":7\r\n");
    }

    #[test]
    fn bitcount_errors() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "foobar"]);
        assert_eq!(c.text(&["BITCOUNT", "s", "0"]), SYNTAX);
        assert_eq!(c.text(&["BITCOUNT", "s", "0", "-1", "foo"]), SYNTAX);
        assert_eq!(c.text(&["BITCOUNT", "s", "0", "-1", "bit", "x"]), SYNTAX);
        assert_eq!(c.text(&["BITCOUNT", "s", "a", "1"]), NOT_INT);
        c.run(&["SADD", "set", "a"]);
        assert_eq!(c.text(&["BITCOUNT", "set"]), WRONGTYPE);
    }

    #[test]
    fn bitpos_rules() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["BITPOS", "nokey", "0"]), ":0\r\n");
        assert_eq!(c.text(&["BITPOS", "nokey", "1"]), ":-1\r\n");
        assert_eq!(c.text(&["BITPOS", "nokey", "0", "x", "y", "z"]), ":0\r\n");
        c.run_bytes(&[b"SET", b"k", b"\xff\xf0\x00"]);
        assert_eq!(c.text(&["BITPOS", "k", "0"]), ":12\r\n");
        assert_eq!(c.text(&["BITPOS", "k", "1", "2"]), ":-1\r\n");
        assert_eq!(c.text(&["BITPOS", "k", "1", "1"]), ":8\r\n");
        assert_eq!(c.text(&["BITPOS", "k", "0", "0", "-1", "bit"]), ":12\r\n");
        assert_eq!(c.text(&["BITPOS", "k", "1", "7", "15", "BIT"]), ":7\r\n");
        c.run_bytes(&[b"SET", b"ones", b"\xff\xff\xff"]);
        // A clear bit past the end, unless an end was given.
        assert_eq!(c.text(&["BITPOS", "ones", "0"]), ":24\r\n");
        assert_eq!(c.text(&["BITPOS", "ones", "0", "1"]), ":24\r\n");
        assert_eq!(c.text(&["BITPOS", "ones", "0", "0", "-1"]), ":-1\r\n");
        assert_eq!(c.text(&["BITPOS", "ones", "0", "3", "bit"]), NOT_INT);
        assert_eq!(
            c.text(&["BITPOS", "ones", "0", "3", "10", "bit"]),
            ":-1\r\n"
        );
        assert_eq!(c.text(&["BITPOS", "ones", "0", "10"]), ":-1\r\n");
        assert_eq!(c.text(&["BITPOS", "ones", "1", "-1"]), ":16\r\n");
    }

    #[test]
    fn bitpos_errors() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "foobar"]);
        assert_eq!(
            c.text(&["BITPOS", "s", "2"]),
            "-ERR The bit argument must be 1 or 0.\r\n"
        );
        assert_eq!(c.text(&["BITPOS", "s", "x"]), NOT_INT);
        assert_eq!(c.text(&["BITPOS", "s", "1", "0", "y", "z"]), SYNTAX);
        assert_eq!(c.text(&["BITPOS", "s", "1", "x", "y", "z"]), NOT_INT);
        assert_eq!(c.text(&["BITPOS", "s", "1", "0", "y", "bit"]), NOT_INT);
        assert_eq!(c.text(&["BITPOS", "s", "1", "0", "1", "bit", "1"]), SYNTAX);
        c.run(&["SADD", "set", "a"]);
        assert_eq!(c.text(&["BITPOS", "set", "1"]), WRONGTYPE);
    }

    #[test]
    fn bitop_operations() {
        let mut c = TestClient::new();
        c.run_bytes(&[b"SET", b"a", b"\xff\x0f\xaa"]);
        c.run_bytes(&[b"SET", b"b", b"\x0f"]);
        assert_eq!(c.text(&["BITOP", "AND", "d", "a", "b"]), ":3\r\n");
        assert_eq!(c.run(&["GET", "d"]), b"$3\r\n\x0f\x00\x00\r\n");
        assert_eq!(c.text(&["BITOP", "or", "d", "a", "b", "nokey"]), ":3\r\n");
        assert_eq!(c.run(&["GET", "d"]), b"$3\r\n\xff\x0f\xaa\r\n");
        assert_eq!(c.text(&["BITOP", "XOR", "d", "a", "b"]), ":3\r\n");
        assert_eq!(c.run(&["GET", "d"]), b"$3\r\n\xf0\x0f\xaa\r\n");
        assert_eq!(c.text(&["BITOP", "NOT", "d", "a"]), ":3\r\n");
        assert_eq!(c.run(&["GET", "d"]), b"$3\r\n\x00\xf0\x55\r\n");
        assert_eq!(encoding(&c, "d"), Some("raw"));
        // Integer-encoded sources are read as their digits.
        c.run(&["SET", "n", "1"]);
        assert_eq!(c.text(&["BITOP", "NOT", "d", "n"]), ":1\r\n");
        assert_eq!(c.run(&["GET", "d"]), b"$1\r\n\xce\r\n");
        // The result replaces the destination and its TTL.
        c.run(&["EXPIRE", "d", "100"]);
        assert_eq!(c.text(&["BITOP", "OR", "d", "d"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "d"]), ":-1\r\n");
        // An empty result deletes the destination.
        assert_eq!(c.text(&["BITOP", "AND", "d", "nokey", "nokey2"]), ":0\r\n");
        assert_eq!(c.text(&["EXISTS", "d"]), ":0\r\n");
        // Long inputs go through the word-at-a-time path.
        let long = vec![0x5au8; 100];
        c.run_bytes(&[b"SET", b"l", &long]);
        assert_eq!(c.text(&["BITOP", "XOR", "d", "l", "l", "l"]), ":100\r\n");
        assert_eq!(c.text(&["BITCOUNT", "d"]), ":400\r\n");
    }

    #[test]
    fn bitop_errors() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "foobar"]);
        assert_eq!(c.text(&["BITOP", "foo", "d", "s"]), SYNTAX);
        assert_eq!(
            c.text(&["BITOP", "NOT", "d", "s", "s"]),
            "-ERR BITOP NOT must be called with a single source key.\r\n"
        );
        assert_eq!(
            c.text(&["BITOP", "NOT", "d"]),
            "-ERR wrong number of arguments for 'bitop' command\r\n"
        );
        c.run(&["SADD", "set", "a"]);
        assert_eq!(c.text(&["BITOP", "AND", "d", "s", "set"]), WRONGTYPE);
        assert_eq!(c.text(&["EXISTS", "d"]), ":0\r\n");
    }

    #[test]
    fn bitfield_get_set_incrby() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0"]),
            "*2\r\n:0\r\n:-100\r\n"
        );
        assert_eq!(
            c.text(&["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"]),
            "*2\r\n:156\r\n:255\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2",
                "102", "1"
            ]),
            "*2\r\n:1\r\n:1\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "set", "u8", "#1", "170", "get", "u8", "8", "get", "u4", "#3"
            ]),
            "*3\r\n:0\r\n:170\r\n:10\r\n"
        );
        assert_eq!(c.text(&["BITFIELD", "k"]), "*0\r\n");
        assert_eq!(
            c.text(&["BITFIELD_RO", "k", "GET", "u8", "0"]),
            "*1\r\n:255\r\n"
        );
        assert_eq!(c.text(&["BITFIELD_RO", "nokey"]), "*0\r\n");
        assert_eq!(
            c.text(&["BITFIELD", "nokey", "GET", "i64", "0"]),
            "*1\r\n:0\r\n"
        );
        assert_eq!(c.text(&["EXISTS", "nokey"]), ":0\r\n");
        // `#N` offsets multiply in 64 bits and wrap, as Redis's do.
        assert_eq!(
            c.text(&["BITFIELD", "k", "GET", "u8", "#2305843009213693952"]),
            "*1\r\n:255\r\n"
        );
        assert_eq!(
            c.text(&["BITFIELD", "k", "GET", "u8", "#1152921504606846976"]),
            OFFSET
        );
    }

    #[test]
    fn bitfield_overflow_modes() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "SET", "u8", "0", "250", "INCRBY", "u8", "0", "10"
            ]),
            "*2\r\n:0\r\n:4\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-10", "SET", "u8", "0",
                "-1"
            ]),
            "*2\r\n:0\r\n:0\r\n"
        );
        assert_eq!(
            c.text(&["BITFIELD", "k", "GET", "u8", "0"]),
            "*1\r\n:255\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "overflow", "wrap",
                "incrby", "u8", "0", "1"
            ]),
            "*2\r\n$-1\r\n:0\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD", "k", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1", "OVERFLOW",
                "SAT", "INCRBY", "i8", "0", "-1000"
            ]),
            "*3\r\n:0\r\n:-128\r\n:-128\r\n"
        );
        assert_eq!(
            c.text(&[
                "BITFIELD",
                "k",
                "SET",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1"
            ]),
            "*2\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n"
        );
        // A FAIL on a new key still creates it, zero-filled.
        assert_eq!(
            c.text(&["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"]),
            "*1\r\n$-1\r\n"
        );
        assert_eq!(c.run(&["GET", "f"]), b"$1\r\n\x00\r\n");
    }

    #[test]
    fn bitfield_errors() {
        let mut c = TestClient::new();
        for ty in ["u0", "i65", "u64", "x8", "u08", ""] {
            assert_eq!(c.text(&["BITFIELD", "k", "GET", ty, "0"]), TYPE, "{ty}");
        }
        assert_eq!(c.text(&["BITFIELD", "k", "GET", "u8", "x"]), OFFSET);
        assert_eq!(c.text(&["BITFIELD", "k", "GET", "u8", "#"]), OFFSET);
        assert_eq!(c.text(&["BITFIELD", "k", "GET", "u8", "#-1"]), OFFSET);
        assert_eq!(
            c.text(&["BITFIELD", "k", "GET", "u8", "4294967296"]),
            OFFSET
        );
        assert_eq!(c.text(&["BITFIELD", "k", "SET", "u8", "0", "x"]), NOT_INT);
        assert_eq!(c.text(&["BITFIELD", "k", "GET"]), SYNTAX);
        assert_eq!(c.text(&["BITFIELD", "k", "SET", "u8", "0"]), SYNTAX);
        assert_eq!(c.text(&["BITFIELD", "k", "foo", "u8", "0"]), SYNTAX);
        assert_eq!(c.text(&["BITFIELD", "k", "OVERFLOW"]), SYNTAX);
        assert_eq!(
            c.text(&["BITFIELD", "k", "OVERFLOW", "foo"]),
            "-ERR Invalid OVERFLOW type specified\r\n"
        );
        let ro = "-ERR BITFIELD_RO only supports the GET subcommand\r\n";
        assert_eq!(c.text(&["BITFIELD_RO", "k", "SET", "u8", "0", "1"]), ro);
        assert_eq!(
            c.text(&[
                "BITFIELD_RO",
                "k",
                "GET",
                "u8",
                "0",
                "INCRBY",
                "u8",
                "0",
                "1"
            ]),
            ro
        );
        c.run(&["SADD", "l", "a"]);
        assert_eq!(c.text(&["BITFIELD", "l", "GET", "u8", "0"]), WRONGTYPE);
        assert_eq!(c.text(&["BITFIELD", "l", "SET", "u8", "0", "1"]), WRONGTYPE);
        // Argument errors come before the type check.
        assert_eq!(c.text(&["BITFIELD", "l", "GET", "u64", "0"]), TYPE);
        assert_eq!(c.text(&["EXISTS", "k"]), ":0\r\n");
    }

    #[test]
    fn bitfield_counts_dirty_per_change() {
        let mut c = TestClient::new();
        let before = dirty(&c);
        c.run(&[
            "BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "0",
        ]);
        assert_eq!(dirty(&c), before + 2, "created: every write counts");
        c.run(&[
            "BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "1",
        ]);
        assert_eq!(dirty(&c), before + 3, "only the changed field");
        c.run(&["BITFIELD", "k", "GET", "u8", "0"]);
        assert_eq!(dirty(&c), before + 3);
    }

    #[test]
    fn parse_type_reads_widths() {
        assert_eq!(parse_type(b"i64"), Ok((true, 64)));
        assert_eq!(parse_type(b"u63"), Ok((false, 63)));
        assert_eq!(parse_type(b"u1"), Ok((false, 1)));
        assert_eq!(parse_type(b"i8\0junk"), Ok((true, 8)));
        assert!(parse_type(b"i-1").is_err());
        assert!(parse_type(b"I8").is_err());
    }

    #[test]
    fn bit_ranges_clamp_like_redis() {
        assert_eq!(bit_range(3, 0, -1, Unit::Byte), Some((0, 23)));
        assert_eq!(bit_range(3, -1, -1, Unit::Byte), Some((16, 23)));
        assert_eq!(bit_range(3, 5, 100, Unit::Bit), Some((5, 23)));
        assert_eq!(bit_range(3, 3, 5, Unit::Byte), None);
        assert_eq!(bit_range(0, 0, -1, Unit::Bit), None);
        assert_eq!(whole(0), None);
    }
}
