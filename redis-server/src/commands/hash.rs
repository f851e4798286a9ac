//! Group `hash`: HSET, HGET, HDEL, HSCAN... on hash values (`common::value::hash`).

use common::encoding::listpack::LpValue;
use common::glob::glob_match;
use common::keyspace::{Entry, Shard};
use common::long_double::LongDouble;
use common::number::parse_i64;
use common::resp::{Protocol, ReplyBuffer};
use common::value::Value;
use common::value::hash::{HashLimits, HashValue};

use crate::effects::Event;

use super::args::is;
use super::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("hset", hset);
    r.add("hmset", hmset);
    r.add("hsetnx", hsetnx);
    r.add("hget", hget);
    r.add("hmget", hmget);
    r.add("hdel", hdel);
    r.add("hexists", hexists);
    r.add("hlen", hlen);
    r.add("hstrlen", hstrlen);
    r.add("hgetall", hgetall);
    r.add("hkeys", hkeys);
    r.add("hvals", hvals);
    r.add("hincrby", hincrby);
    r.add("hincrbyfloat", hincrbyfloat);
    r.add("hrandfield", hrandfield);
    r.add("hscan", hscan);
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

/// The hash in `entry`, or WRONGTYPE.
fn as_hash(entry: &Entry) -> Result<&HashValue, CommandError> {
    match entry.value() {
        Value::Hash(h) => Ok(h),
        _ => Err(CommandError::WrongType),
    }
}

/// A counted read lookup of a hash (Redis's `lookupKeyRead` + `checkType`).
fn read<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s HashValue>, CommandError> {
    shard.lookup_read(key, now).map(as_hash).transpose()
}

/// Runs `op` on the hash at `key` for writing, creating an empty one when the key is missing;
/// a created hash is stored only if `op` left something in it.
fn write_or_create<R>(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    op: impl FnOnce(&mut HashValue, HashLimits) -> Result<R, CommandError>,
) -> Result<R, CommandError> {
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let limits = ctx.server.hot.hash_limits();
    let shard = ctx.db.shard(key);
    match shard.get_mut(key, now) {
        Some(entry) => match entry.value_mut() {
            Value::Hash(h) => {
                let result = op(h, limits);
                h.shrink_to_fit();
                result
            }
            _ => Err(CommandError::WrongType),
        },
        None => {
            let mut h = HashValue::new();
            let result = op(&mut h, limits)?;
            if !h.is_empty() {
                h.shrink_to_fit();
                shard.insert(Entry::collection(key, Value::Hash(Box::new(h)), lru));
            }
            Ok(result)
        }
    }
}

fn reply_element(reply: &mut ReplyBuffer, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => reply.bulk_i64(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

fn element_len(v: LpValue<'_>) -> usize {
    match v {
        LpValue::Str(s) => s.len(),
        LpValue::Int(n) => {
            let mut buf = [0u8; 20];
            common::number::format_i64(n, &mut buf).len()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// What HSET and HMSET answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetReply {
    /// HSET: the number of new fields.
    Created,
    /// HMSET: OK.
    Ok,
}

fn hset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    set_fields(ctx, SetReply::Created)
}

fn hmset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    set_fields(ctx, SetReply::Ok)
}

/// `HSET key field value [field value ...]`: pairs only, checked before the key is looked at.
fn set_fields(ctx: &mut CommandContext<'_>, reply: SetReply) -> Result<(), CommandError> {
    if ctx.args.argc() % 2 == 1 {
        return Err(CommandError::WrongArity(ctx.command.full_name.clone()));
    }
    let key = ctx.args.next_key()?;
    let pairs: Vec<&[u8]> = ctx.args.rest().collect();
    let created = write_or_create(ctx, key, |h, limits| {
        h.try_conversion(pairs.iter().copied(), limits);
        Ok(pairs
            .chunks_exact(2)
            .filter(|pair| h.set(pair[0], pair[1], limits))
            .count())
    })?;
    // Every pair counts as a change, new field or not.
    ctx.dirty((pairs.len() / 2) as u64);
    ctx.modified(key);
    ctx.notify(Event::Hash, "hset", key);
    match reply {
        SetReply::Created => ctx.reply.integer(created as i64),
        SetReply::Ok => ctx.reply.ok(),
    }
    Ok(())
}

fn hsetnx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    let value = ctx.args.next_bytes()?;
    let set = write_or_create(ctx, key, |h, limits| {
        if h.contains(field) {
            return Ok(false);
        }
        h.try_conversion([field, value], limits);
        h.set(field, value, limits);
        Ok(true)
    })?;
    if set {
        ctx.wrote(Event::Hash, "hset", key);
    }
    ctx.reply.integer(i64::from(set));
    Ok(())
}

fn hget(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    match read(ctx.db.shard(key), key, now)?.and_then(|h| h.get(field)) {
        Some(v) => reply_element(ctx.reply, v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// HMGET: a missing key reads as an empty hash.
fn hmget(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let hash = read(ctx.db.shard(key), key, now)?;
    ctx.reply.array(ctx.args.remaining());
    for field in ctx.args.rest() {
        match hash.and_then(|h| h.get(field)) {
            Some(v) => reply_element(ctx.reply, v),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// HDEL: the key goes with its last field.
fn hdel(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let Some(entry) = shard.get_mut(key, now) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let Value::Hash(h) = entry.value_mut() else {
        return Err(CommandError::WrongType);
    };
    let mut deleted = 0u64;
    for field in ctx.args.rest() {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    if emptied {
        shard.remove(key);
    } else {
        h.shrink_to_fit();
    }
    if deleted > 0 {
        ctx.modified(key);
        ctx.notify(Event::Hash, "hdel", key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.dirty(deleted);
    }
    ctx.reply.integer(deleted as i64);
    Ok(())
}

fn hexists(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let found = read(ctx.db.shard(key), key, now)?.is_some_and(|h| h.contains(field));
    ctx.reply.integer(i64::from(found));
    Ok(())
}

fn hlen(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let len = read(ctx.db.shard(key), key, now)?.map_or(0, HashValue::len);
    ctx.reply.integer(len as i64);
    Ok(())
}

fn hstrlen(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let len = read(ctx.db.shard(key), key, now)?
        .and_then(|h| h.get(field))
        .map_or(0, element_len);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// Which halves of each pair HGETALL, HKEYS and HVALS return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

fn hgetall(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    get_all(ctx, Parts::Both)
}

fn hkeys(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    get_all(ctx, Parts::Fields)
}

fn hvals(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    get_all(ctx, Parts::Values)
}

/// HGETALL answers a map (an empty one for a missing key), HKEYS and HVALS an array.
fn get_all(ctx: &mut CommandContext<'_>, parts: Parts) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let hash = read(ctx.db.shard(key), key, now)?;
    let len = hash.map_or(0, HashValue::len);
    if parts == Parts::Both {
        ctx.reply.map(len);
    } else {
        ctx.reply.array(len);
    }
    for (field, value) in hash.into_iter().flat_map(HashValue::iter) {
        if parts != Parts::Values {
            reply_element(ctx.reply, field);
        }
        if parts != Parts::Fields {
            reply_element(ctx.reply, value);
        }
    }
    Ok(())
}

fn hincrby(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    let increment = ctx.args.next_i64()?;
    let sum = write_or_create(ctx, key, |h, limits| {
        let current = match h.get(field) {
            None => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| CommandError::err("hash value is not an integer"))?,
        };
        let sum = current
            .checked_add(increment)
            .ok_or(CommandError::IncrOverflow)?;
        let mut buf = [0u8; 20];
        h.set(field, common::number::format_i64(sum, &mut buf), limits);
        Ok(sum)
    })?;
    ctx.wrote(Event::Hash, "hincrby", key);
    ctx.reply.integer(sum);
    Ok(())
}

fn hincrbyfloat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let field = ctx.args.next_bytes()?;
    // Redis computes in an x87 `long double` and stores the printed sum, as INCRBYFLOAT does.
    let increment = LongDouble::parse(ctx.args.next_bytes()?).ok_or(CommandError::NotFloat)?;
    if !increment.is_finite() {
        return Err(CommandError::err("value is NaN or Infinity"));
    }
    let text = write_or_create(ctx, key, |h, limits| {
        let current = match h.get(field) {
            None => LongDouble::from_i64(0),
            Some(LpValue::Int(n)) => LongDouble::from_i64(n),
            Some(LpValue::Str(s)) => LongDouble::parse(s)
                .ok_or_else(|| CommandError::err("hash value is not a float"))?,
        };
        let sum = current + increment;
        if !sum.is_finite() {
            return Err(CommandError::IncrNanOrInfinity);
        }
        let text = sum.to_human();
        h.set(field, text.as_bytes(), limits);
        Ok(text)
    })?;
    ctx.wrote(Event::Hash, "hincrbyfloat", key);
    // Replicas get the result, so float formatting cannot make them diverge.
    ctx.rewrite_arg(0, b"HSET");
    ctx.rewrite_arg(3, text.as_bytes());
    ctx.reply.bulk(text.as_bytes());
    Ok(())
}

/// Negative HRANDFIELD counts above this are refused: Redis would build a reply of that many
/// picks in memory (limited only by the client output buffer, unlimited by default).
const MAX_REPEATED_PICKS: u64 = 1 << 26;

/// `HRANDFIELD key [count [WITHVALUES]]`.
fn hrandfield(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let Some(count_arg) = ctx.args.next_opt() else {
        return random_field(ctx, key);
    };
    let count = parse_i64(count_arg).ok_or(CommandError::NotInteger)?;
    if count == i64::MIN {
        return Err(CommandError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with_values = match ctx.args.next_opt() {
        None => false,
        Some(arg) if is(arg, "withvalues") && ctx.args.is_empty() => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    let now = ctx.now_ms;
    let Some(hash) = read(ctx.db.shard(key), key, now)? else {
        ctx.reply.empty_array();
        return Ok(());
    };
    let reply = &mut *ctx.reply;
    let nested = with_values && reply.protocol() == Protocol::Resp3;
    let pair_len = if with_values && !nested { 2 } else { 1 };
    let emit = |reply: &mut ReplyBuffer, field: LpValue<'_>, value: LpValue<'_>| {
        if nested {
            reply.array(2);
        }
        reply_element(reply, field);
        if with_values {
            reply_element(reply, value);
        }
    };
    let mut rng = rand::rng();
    let size = hash.len();
    if count == 0 {
        reply.empty_array();
    } else if count < 0 || count == 1 {
        // Picks with repeats, in random order.
        let picks = count.unsigned_abs();
        if picks > MAX_REPEATED_PICKS {
            return Err(CommandError::err("value is out of range"));
        }
        reply.array(picks as usize * pair_len);
        hash.random_pairs(picks, &mut rng, |field, value| {
            emit(reply, field, value);
            true
        });
    } else if count as u64 >= size as u64 {
        // The whole hash.
        reply.array(size * pair_len);
        for (field, value) in hash.iter() {
            emit(reply, field, value);
        }
    } else {
        let count = count as usize;
        reply.array(count * pair_len);
        for (field, value) in hash.random_distinct_pairs(count, &mut rng) {
            emit(reply, field, value);
        }
    }
    Ok(())
}

/// HRANDFIELD without a count: one field, or null.
fn random_field(ctx: &mut CommandContext<'_>, key: &[u8]) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let hash = read(ctx.db.shard(key), key, now)?;
    match hash.and_then(|h| h.random_pair(&mut rand::rng())) {
        Some((field, _)) => reply_element(ctx.reply, field),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`: the cursor is checked first, the options
/// only once the key is known to hold a hash (as Redis's `scanGenericCommand` does).
fn hscan(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let cursor = super::generic::parse_cursor(ctx.args.next_bytes()?)
        .ok_or_else(|| CommandError::err("invalid cursor"))?;
    let now = ctx.now_ms;
    let Some(hash) = read(ctx.db.shard(key), key, now)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.empty_array();
        return Ok(());
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    while let Some(arg) = ctx.args.next_opt() {
        if ctx.args.is_empty() {
            return Err(CommandError::Syntax);
        }
        if is(arg, "count") {
            let n = ctx.args.next_i64()?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(arg, "match") {
            let p = ctx.args.next_bytes()?;
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = hash.scan(cursor, count, |field, value| {
        if pattern.is_none_or(|p| glob_match(p, field, false)) {
            found.push(field.to_vec());
            found.push(value.to_vec());
        }
    });
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(found.len());
    for item in &found {
        ctx.reply.bulk(item);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn hash_writes_report_their_effects() {
        let mut c = TestClient::new();
        c.assert_effects(&["HSET", "h", "a", "1", "b", "2"], &["h:hset:h"], 2);
        c.assert_effects(&["HSET", "h", "a", "1"], &["h:hset:h"], 1);
        c.assert_effects(&["HMSET", "h", "a", "3"], &["h:hset:h"], 1);
        c.assert_effects(&["HSETNX", "h", "a", "1"], &[], 0);
        c.assert_effects(&["HSETNX", "h", "c", "1"], &["h:hset:h"], 1);
        c.assert_effects(&["HINCRBY", "h", "n", "1"], &["h:hincrby:h"], 1);
        c.assert_effects(&["HINCRBYFLOAT", "h", "f", "1.5"], &["h:hincrbyfloat:h"], 1);
        c.assert_effects(&["HINCRBY", "h", "a", "x"], &[], 0);
        c.assert_effects(&["HDEL", "h", "zz"], &[], 0);
        c.assert_effects(&["HDEL", "h", "a", "zz", "b"], &["h:hdel:h"], 2);
        c.assert_effects(&["HDEL", "nokey", "a"], &[], 0);
        c.assert_effects(&["HDEL", "h", "c", "n", "f"], &["h:hdel:h", "g:del:h"], 3);
    }

    #[test]
    fn hset_counts_new_fields_and_hget_reads_them() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["HSET", "h", "a", "1", "b", "x"]), ":2\r\n");
        assert_eq!(c.text(&["HSET", "h", "a", "2", "c", "y"]), ":1\r\n");
        assert_eq!(c.text(&["HGET", "h", "a"]), "$1\r\n2\r\n");
        assert_eq!(c.text(&["HGET", "h", "zz"]), "$-1\r\n");
        assert_eq!(c.text(&["HGET", "nokey", "a"]), "$-1\r\n");
        assert_eq!(c.text(&["HMSET", "h", "d", "4"]), "+OK\r\n");
        assert_eq!(c.text(&["HLEN", "h"]), ":4\r\n");
        assert_eq!(c.text(&["HLEN", "nokey"]), ":0\r\n");
        assert_eq!(c.text(&["TYPE", "h"]), "+hash\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
        assert_eq!(
            c.text(&["HMGET", "h", "a", "nope", "b"]),
            "*3\r\n$1\r\n2\r\n$-1\r\n$1\r\nx\r\n"
        );
        assert_eq!(
            c.text(&["HMGET", "nokey", "a", "b"]),
            "*2\r\n$-1\r\n$-1\r\n"
        );
    }

    #[test]
    fn arity_and_type_errors() {
        let mut c = TestClient::new();
        c.text(&["SET", "s", "x"]);
        assert_eq!(
            c.text(&["HSET", "s", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'hset' command\r\n"
        );
        assert_eq!(
            c.text(&["HMSET", "s", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'hmset' command\r\n"
        );
        let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        for cmd in [
            &["HSET", "s", "a", "1"][..],
            &["HGET", "s", "a"],
            &["HMGET", "s", "a"],
            &["HDEL", "s", "a"],
            &["HLEN", "s"],
            &["HGETALL", "s"],
            &["HINCRBY", "s", "a", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "3", "WITHVALUES"],
            &["HSCAN", "s", "0", "COUNT", "0"],
        ] {
            assert_eq!(c.text(cmd), wrongtype, "{cmd:?}");
        }
    }

    #[test]
    fn hdel_removes_the_key_with_its_last_field() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        assert_eq!(c.text(&["HDEL", "h", "a", "a", "zz"]), ":1\r\n");
        assert_eq!(c.text(&["HEXISTS", "h", "a"]), ":0\r\n");
        assert_eq!(c.text(&["HEXISTS", "h", "b"]), ":1\r\n");
        assert_eq!(c.text(&["HDEL", "h", "b", "c"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "h"]), ":0\r\n");
        assert_eq!(c.text(&["HDEL", "h", "b"]), ":0\r\n");
    }

    #[test]
    fn hsetnx_and_hstrlen() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["HSETNX", "h", "a", "-123"]), ":1\r\n");
        assert_eq!(c.text(&["HSETNX", "h", "a", "x"]), ":0\r\n");
        assert_eq!(c.text(&["HGET", "h", "a"]), "$4\r\n-123\r\n");
        assert_eq!(c.text(&["HSTRLEN", "h", "a"]), ":4\r\n");
        assert_eq!(c.text(&["HSTRLEN", "h", "b"]), ":0\r\n");
        assert_eq!(c.text(&["HSTRLEN", "nokey", "b"]), ":0\r\n");
    }

    #[test]
    fn getall_keys_vals_in_both_protocols() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "x"]);
        assert_eq!(
            c.text(&["HGETALL", "h"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\nx\r\n"
        );
        assert_eq!(c.text(&["HKEYS", "h"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(c.text(&["HVALS", "h"]), "*2\r\n$1\r\n1\r\n$1\r\nx\r\n");
        assert_eq!(c.text(&["HGETALL", "nokey"]), "*0\r\n");
        c.text(&["HELLO", "3"]);
        assert_eq!(
            c.text(&["HGETALL", "h"]),
            "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\nx\r\n"
        );
        assert_eq!(c.text(&["HGETALL", "nokey"]), "%0\r\n");
        assert_eq!(c.text(&["HKEYS", "nokey"]), "*0\r\n");
        assert_eq!(c.text(&["HGET", "nokey", "a"]), "_\r\n");
    }

    #[test]
    fn hincrby_and_its_errors() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["HINCRBY", "h", "n", "5"]), ":5\r\n");
        assert_eq!(c.text(&["HINCRBY", "h", "n", "-7"]), ":-2\r\n");
        c.text(&["HSET", "h", "s", "abc", "big", "9223372036854775807"]);
        assert_eq!(
            c.text(&["HINCRBY", "h", "s", "1"]),
            "-ERR hash value is not an integer\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBY", "h", "big", "1"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBY", "h", "n", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBY", "new", "n", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["EXISTS", "new"]), ":0\r\n");
    }

    #[test]
    fn hincrbyfloat_as_redis_prints_it() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "f", "10.5"]),
            "$4\r\n10.5\r\n"
        );
        assert_eq!(c.text(&["HINCRBYFLOAT", "h", "f", "0.1"]), "$4\r\n10.6\r\n");
        c.text(&["HSET", "h", "i", "3", "s", "abc", "inf", "inf"]);
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "i", "1.5e3"]),
            "$4\r\n1503\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "s", "1"]),
            "-ERR hash value is not a float\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "i", "inf"]),
            "-ERR value is NaN or Infinity\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "i", "nan"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            c.text(&["HINCRBYFLOAT", "h", "inf", "1"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
    }

    #[test]
    fn encoding_converts_at_the_thresholds() {
        let mut c = TestClient::with_config(&[
            ("hash-max-listpack-entries", "2"),
            ("hash-max-listpack-value", "4"),
        ]);
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
        c.text(&["HSET", "h", "c", "3"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
        c.text(&["HSET", "v", "a", "12345"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "v"]), "$9\r\nhashtable\r\n");
        c.text(&["HSET", "f", "a", "1"]);
        c.text(&["HINCRBYFLOAT", "f", "a", "0.0001"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "f"]), "$9\r\nhashtable\r\n");
        assert_eq!(c.text(&["HGET", "f", "a"]), "$6\r\n1.0001\r\n");
        assert_eq!(c.text(&["COPY", "h", "h2"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h2"]), "$9\r\nhashtable\r\n");
        assert_eq!(c.text(&["HGET", "h2", "c"]), "$1\r\n3\r\n");
    }

    #[test]
    fn hrandfield_shapes() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["HRANDFIELD", "nokey"]), "$-1\r\n");
        assert_eq!(c.text(&["HRANDFIELD", "nokey", "5"]), "*0\r\n");
        c.text(&["HSET", "h", "a", "1"]);
        assert_eq!(c.text(&["HRANDFIELD", "h"]), "$1\r\na\r\n");
        assert_eq!(c.text(&["HRANDFIELD", "h", "0"]), "*0\r\n");
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "5", "withvalues"]),
            "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-9223372036854775808"]),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
        );
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"]),
            "-ERR value is out of range\r\n"
        );
        assert_eq!(
            c.text(&["HRANDFIELD", "nokey", "1", "WITHVALUE"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        c.text(&["HELLO", "3"]);
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
            "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(c.text(&["HRANDFIELD", "nokey"]), "_\r\n");
    }

    #[test]
    fn hrandfield_distinct_counts() {
        let mut c = TestClient::new();
        let mut args = vec!["HSET".to_string(), "big".to_string()];
        for i in 0..600 {
            args.push(format!("f{i}"));
            args.push(format!("{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        c.text(&args);
        c.text(&["HSET", "small", "a", "1", "b", "2", "c", "3", "d", "4"]);
        for key in ["big", "small"] {
            for count in ["1", "2", "3", "100"] {
                let reply = c.text(&["HRANDFIELD", key, count]);
                let n: usize = count.parse().unwrap();
                let len = if key == "small" { n.min(4) } else { n };
                assert!(reply.starts_with(&format!("*{len}\r\n")), "{key} {count}");
                let fields: std::collections::HashSet<_> = reply
                    .split("\r\n")
                    .filter(|l| !l.starts_with(['*', '$']))
                    .collect();
                assert_eq!(fields.len(), len + 1, "{key} {count}: {reply}"); // + the final ""
            }
        }
    }

    #[test]
    fn hscan_listpack_and_table() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["HSCAN", "nokey", "0", "COUNT", "0"]),
            "*2\r\n$1\r\n0\r\n*0\r\n"
        );
        assert_eq!(c.text(&["HSCAN", "nokey", "x"]), "-ERR invalid cursor\r\n");
        c.text(&["HSET", "h", "a", "1", "b", "2", "ab", "3"]);
        assert_eq!(
            c.text(&["HSCAN", "h", "0", "MATCH", "a*"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            c.text(&["HSCAN", "h", "0", "COUNT", "0"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["HSCAN", "h", "0", "TYPE", "string"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["HSCAN", "h", "0", "MATCH"]),
            "-ERR syntax error\r\n"
        );

        let mut args = vec!["HSET".to_string(), "big".to_string()];
        for i in 0..1000 {
            args.push(format!("f{i}"));
            args.push(format!("v{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        c.text(&args);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let reply = c.text(&["HSCAN", "big", &cursor, "COUNT", "50"]);
            let lines: Vec<&str> = reply.split("\r\n").collect();
            cursor = lines[2].to_string();
            for pair in lines[4..].chunks(4) {
                if pair.len() == 4 {
                    assert_eq!(&pair[1][1..], &pair[3][1..]);
                    seen.insert(pair[1].to_string());
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
