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
    r.add("hexpire", hexpire);
    r.add("hpexpire", hpexpire);
    r.add("hexpireat", hexpireat);
    r.add("hpexpireat", hpexpireat);
    r.add("httl", httl);
    r.add("hpttl", hpttl);
    r.add("hexpiretime", hexpiretime);
    r.add("hpexpiretime", hpexpiretime);
    r.add("hpersist", hpersist);
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
        h.set_keep_ttl(field, common::number::format_i64(sum, &mut buf), limits);
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
        h.set_keep_ttl(field, text.as_bytes(), limits);
        Ok(text)
    })?;
    ctx.wrote(Event::Hash, "hincrbyfloat", key);
    // Replicas get the result, so float formatting cannot make them diverge.
    ctx.rewrite_arg(0, b"HSET");
    ctx.rewrite_arg(3, text.as_bytes());
    ctx.reply.bulk(text.as_bytes());
    Ok(())
}

/// Negative HRANDFIELD counts above this are refused when the client has no hard output
/// buffer limit: Redis would build a reply of that many picks in memory. With a limit, the
/// reply stops where the limit closes the client, as Redis's does.
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
    // Picks with repeats end where the client's output limit would close it.
    let room = if count < 0 { ctx.reply_room() } else { None };
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
    let mut rng = common::fast_rng::fast_rng();
    let size = hash.len();
    if count == 0 {
        reply.empty_array();
    } else if count < 0 || count == 1 {
        // Picks with repeats, in random order.
        let picks = count.unsigned_abs();
        if room.is_none() && picks > MAX_REPEATED_PICKS {
            return Err(CommandError::err("value is out of range"));
        }
        // With `limit` bytes of replies the client is over its output limit (room counts
        // from the replies already pending): the rest would never be sent.
        let limit = room.unwrap_or(usize::MAX);
        reply.array(picks as usize * pair_len);
        hash.random_pairs(picks, &mut rng, |field, value| {
            emit(reply, field, value);
            reply.len() < limit
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
    match hash.and_then(|h| h.random_pair(&mut common::fast_rng::fast_rng())) {
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

// ---------------------------------------------------------------------------------------------
// Field expiry (Redis 7.4)
// ---------------------------------------------------------------------------------------------

/// The largest field expiry time, in Unix ms, the commands accept (7.4's
/// `HFE_MAX_ABS_TIME_MSEC`: a quarter of the 48-bit range its buckets store).
const MAX_FIELD_EXPIRE_MS: i64 = 0x0000_FFFF_FFFF_FFFF >> 2;

/// Replies of HEXPIRE and friends for one field.
const NO_FIELD: i64 = -2;
const NO_TTL: i64 = -1;
const CONDITION_NOT_MET: i64 = 0;
const SET: i64 = 1;
const DELETED: i64 = 2;

/// The unit a time argument or reply is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// What a time is counted from: now (HEXPIRE, HTTL) or the Unix epoch (HEXPIREAT,
/// HEXPIRETIME).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Now,
    Epoch,
}

/// HEXPIRE's optional condition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    /// Only fields without a TTL.
    Nx,
    /// Only fields with a TTL.
    Xx,
    /// Only to a later time (a field without a TTL never expires, so never).
    Gt,
    /// Only to an earlier time (any time is earlier than none).
    Lt,
}

impl Condition {
    fn parse(arg: &[u8]) -> Option<Condition> {
        [
            ("nx", Condition::Nx),
            ("xx", Condition::Xx),
            ("gt", Condition::Gt),
            ("lt", Condition::Lt),
        ]
        .into_iter()
        .find(|(word, _)| is(arg, word))
        .map(|(_, c)| c)
    }

    /// Whether a field whose expiry is `current` may get `new`.
    fn allows(self, current: Option<i64>, new: i64) -> bool {
        match (self, current) {
            (Condition::Always, _) => true,
            (Condition::Nx, current) => current.is_none(),
            (Condition::Xx | Condition::Gt, None) => false,
            (Condition::Xx, Some(_)) => true,
            (Condition::Gt, Some(at)) => new > at,
            (Condition::Lt, None) => true,
            (Condition::Lt, Some(at)) => new < at,
        }
    }
}

fn hexpire(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_fields(ctx, Unit::Seconds, Base::Now)
}

fn hpexpire(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_fields(ctx, Unit::Millis, Base::Now)
}

fn hexpireat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_fields(ctx, Unit::Seconds, Base::Epoch)
}

fn hpexpireat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_fields(ctx, Unit::Millis, Base::Epoch)
}

/// Reads `FIELDS numfields field...` from the cursor, `numfields` refused with `count_error`
/// when not a positive integer; the fields.
fn fields_block<'a>(
    ctx: &mut CommandContext<'a>,
    count_error: &'static str,
) -> Result<Vec<&'a [u8]>, CommandError> {
    if !ctx.args.next_opt().is_some_and(|a| is(a, "fields")) {
        return Err(CommandError::err(
            "Mandatory argument FIELDS is missing or not at the right position",
        ));
    }
    let count = ctx
        .args
        .next_opt()
        .and_then(parse_i64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| CommandError::err(count_error))?;
    if count as u64 != ctx.args.remaining() as u64 {
        return Err(CommandError::err(
            "The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(ctx.args.rest().collect())
}

/// A counted write lookup of the hash at `key` (`lookupKeyWrite` + `checkType`): whether it
/// exists.
fn hash_exists_for_write(ctx: &mut CommandContext<'_>, key: &[u8]) -> Result<bool, CommandError> {
    let now = ctx.now_ms;
    match ctx.db.shard(key).get_mut(key, now) {
        None => Ok(false),
        Some(e) => as_hash(e).map(|_| true),
    }
}

/// Replies `n` times `value`: what the field commands answer for a missing key.
fn reply_each(reply: &mut ReplyBuffer, n: usize, value: i64) {
    reply.array(n);
    for _ in 0..n {
        reply.integer(value);
    }
}

/// `HEXPIRE key time [NX|XX|GT|LT] FIELDS numfields field...` and its variants. Checks in
/// Redis 7.4's order: the key's type, the time, the condition, the fields block.
fn expire_fields(ctx: &mut CommandContext<'_>, unit: Unit, base: Base) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let exists = hash_exists_for_write(ctx, key)?;
    let mut at = ctx.args.next_i64()?;
    let invalid = CommandError::InvalidExpireTime(ctx.command.spec.name);
    if at < 0 {
        return Err(CommandError::err("invalid expire time, must be >= 0"));
    }
    if unit == Unit::Seconds {
        if at > MAX_FIELD_EXPIRE_MS / 1000 {
            return Err(invalid);
        }
        at *= 1000;
    }
    let base_ms = match base {
        Base::Now => ctx.now_ms,
        Base::Epoch => 0,
    };
    if at > MAX_FIELD_EXPIRE_MS - base_ms {
        return Err(invalid);
    }
    at += base_ms;
    let condition = match ctx.args.peek().and_then(Condition::parse) {
        Some(c) => {
            ctx.args.next_opt();
            c
        }
        None => Condition::Always,
    };
    let fields = fields_block(ctx, "Parameter `numFields` should be greater than 0")?;
    if !exists {
        reply_each(ctx.reply, fields.len(), NO_FIELD);
        return Ok(());
    }
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let Some(Value::Hash(h)) = shard.get_mut(key, now).map(Entry::value_mut) else {
        reply_each(ctx.reply, fields.len(), NO_FIELD);
        return Ok(());
    };
    ctx.reply.array(fields.len());
    let (mut updated, mut deleted) = (Vec::new(), Vec::new());
    for field in &fields {
        let result = if !h.contains(field) {
            NO_FIELD
        } else if !condition.allows(h.field_ttl(field), at) {
            CONDITION_NOT_MET
        } else if at <= now {
            h.remove(field);
            deleted.push(*field);
            DELETED
        } else {
            h.set_field_ttl(field, at);
            updated.push(*field);
            SET
        };
        ctx.reply.integer(result);
    }
    let emptied = h.is_empty();
    let min = h.min_field_ttl();
    if emptied {
        shard.remove(key);
    } else {
        h.shrink_to_fit();
        if let Some(min) = min {
            shard.note_field_expiry(key, min);
        }
    }
    if updated.is_empty() && deleted.is_empty() {
        return Ok(());
    }
    ctx.dirty((updated.len() + deleted.len()) as u64);
    ctx.modified(key);
    if emptied {
        ctx.notify(Event::Hash, "hdel", key);
        ctx.notify(Event::Generic, "del", key);
    } else {
        let event = if deleted.is_empty() {
            "hexpire"
        } else {
            "hdel"
        };
        ctx.notify(Event::Hash, event, key);
    }
    propagate_field_expiry(ctx, key, at, condition, &updated, &deleted);
    Ok(())
}

/// What HEXPIRE and friends propagate, as Redis 7.4 rewrites them: `HDEL key field` for each
/// field a past time deleted, then `HPEXPIREAT key <unix ms> [condition] FIELDS n field...`
/// naming only the fields whose TTL was set (nothing when there are none).
fn propagate_field_expiry(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    at: i64,
    condition: Condition,
    updated: &[&[u8]],
    deleted: &[&[u8]],
) {
    for field in deleted {
        ctx.also_propagate(&[b"HDEL", key, field]);
    }
    if updated.is_empty() {
        ctx.prevent_propagation();
        return;
    }
    // The condition word as the client sent it (the argument after the time).
    let condition_arg = ctx.args.get(3);
    let mut at_buf = [0u8; 20];
    let mut n_buf = [0u8; 20];
    let mut args: Vec<&[u8]> = Vec::with_capacity(updated.len() + 6);
    args.extend_from_slice(&[
        b"HPEXPIREAT",
        key,
        common::number::format_i64(at, &mut at_buf),
    ]);
    if condition != Condition::Always
        && let Some(word) = condition_arg
    {
        args.push(word);
    }
    args.push(b"FIELDS");
    args.push(common::number::format_i64(updated.len() as i64, &mut n_buf));
    args.extend_from_slice(updated);
    ctx.propagate_as(&args);
}

fn httl(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    field_ttls(ctx, Unit::Seconds, Base::Now)
}

fn hpttl(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    field_ttls(ctx, Unit::Millis, Base::Now)
}

fn hexpiretime(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    field_ttls(ctx, Unit::Seconds, Base::Epoch)
}

fn hpexpiretime(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    field_ttls(ctx, Unit::Millis, Base::Epoch)
}

/// `HTTL key FIELDS numfields field...` and its variants: per field -2 (no such field), -1
/// (no TTL) or the time. Seconds round up, as 7.4's do (even HEXPIRETIME's).
fn field_ttls(ctx: &mut CommandContext<'_>, unit: Unit, base: Base) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    read(ctx.db.shard(key), key, now)?;
    let fields = fields_block(ctx, "Number of fields must be a positive integer")?;
    let hash = match ctx.db.shard(key).peek(key, now).map(Entry::value) {
        Some(Value::Hash(h)) => Some(h),
        _ => None,
    };
    let Some(hash) = hash else {
        reply_each(ctx.reply, fields.len(), NO_FIELD);
        return Ok(());
    };
    let base_ms = match base {
        Base::Now => now,
        Base::Epoch => 0,
    };
    ctx.reply.array(fields.len());
    for field in &fields {
        let reply = match (hash.contains(field), hash.field_ttl(field)) {
            (false, _) => NO_FIELD,
            (true, None) => NO_TTL,
            (true, Some(at)) => match unit {
                Unit::Seconds => (at + 999 - base_ms) / 1000,
                Unit::Millis => at - base_ms,
            },
        };
        ctx.reply.integer(reply);
    }
    Ok(())
}

/// `HPERSIST key FIELDS numfields field...`: per field -2 (no such field), -1 (no TTL) or 1
/// (TTL removed).
fn hpersist(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let exists = hash_exists_for_write(ctx, key)?;
    let fields = fields_block(ctx, "Number of fields must be a positive integer")?;
    let now = ctx.now_ms;
    let hash = match ctx.db.shard(key).get_mut(key, now).map(Entry::value_mut) {
        Some(Value::Hash(h)) if exists => Some(h),
        _ => None,
    };
    let Some(h) = hash else {
        reply_each(ctx.reply, fields.len(), NO_FIELD);
        return Ok(());
    };
    ctx.reply.array(fields.len());
    let mut changed = false;
    for field in &fields {
        let reply = if !h.contains(field) {
            NO_FIELD
        } else if h.persist_field(field) {
            changed = true;
            SET
        } else {
            NO_TTL
        };
        ctx.reply.integer(reply);
    }
    if changed {
        ctx.notify(Event::Hash, "hpersist", key);
        ctx.modified(key);
        ctx.dirty(1);
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

    /// Redis produces the picks until the client is over its hard output limit (the
    /// connection then closes); with no limit a count this large is refused.
    #[test]
    fn hrandfield_repeats_stop_at_the_output_limit() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "b"]);
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-999999999"]),
            "-ERR value is out of range\r\n"
        );
        assert_eq!(
            c.text(&[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 1000000 0 0"
            ]),
            "+OK\r\n"
        );
        let reply = c.run(&["HRANDFIELD", "h", "-999999999"]);
        let header = b"*999999999\r\n";
        assert!(reply.starts_with(header));
        assert!(
            (1_000_000..1_000_010).contains(&reply.len()),
            "{}",
            reply.len()
        );
        assert!(
            reply[header.len()..]
                .chunks(7)
                .all(|pick| pick.starts_with(b"$1\r\na\r\n"))
        );
        // Small counts are whole as ever.
        assert_eq!(
            c.text(&["HRANDFIELD", "h", "-2"]),
            "*2\r\n$1\r\na\r\n$1\r\na\r\n"
        );
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

#[cfg(test)]
mod field_expiry_tests {
    use crate::commands::testkit::TestClient;

    fn ints(values: &[i64]) -> String {
        let mut out = format!("*{}\r\n", values.len());
        for v in values {
            out.push_str(&format!(":{v}\r\n"));
        }
        out
    }

    fn sleep_ms(ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }

    #[test]
    fn argument_errors_in_redis_order() {
        let mut c = TestClient::new();
        c.text(&["SET", "s", "x"]);
        c.text(&["HSET", "h", "a", "1"]);
        let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        assert_eq!(
            c.text(&["HEXPIRE", "s", "x", "FIELDS", "1", "a"]),
            wrongtype
        );
        assert_eq!(c.text(&["HTTL", "s", "x", "1", "a"]), wrongtype);
        assert_eq!(c.text(&["HPERSIST", "s", "x", "1", "a"]), wrongtype);
        assert_eq!(
            c.text(&["HEXPIRE", "h", "10", "FIELDS", "1"]),
            "-ERR wrong number of arguments for 'hexpire' command\r\n"
        );
        assert_eq!(
            c.text(&["HTTL", "h", "FIELDS", "1"]),
            "-ERR wrong number of arguments for 'httl' command\r\n"
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "x", "FIELDS", "1", "a"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "-1", "FIELDS", "1", "a"]),
            "-ERR invalid expire time, must be >= 0\r\n"
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "70368744177", "FIELDS", "1", "a"]),
            "-ERR invalid expire time in 'hexpire' command\r\n"
        );
        assert_eq!(
            c.text(&["HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"]),
            "-ERR invalid expire time in 'hpexpireat' command\r\n"
        );
        assert_eq!(
            c.text(&["HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "a"]),
            ints(&[1])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "10", "XY", "FIELDS", "1", "a"]),
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n"
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "10", "NX", "1", "a", "b"]),
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n"
        );
        for n in ["0", "-1", "x"] {
            assert_eq!(
                c.text(&["HEXPIRE", "h", "10", "fields", n, "a"]),
                "-ERR Parameter `numFields` should be greater than 0\r\n"
            );
            assert_eq!(
                c.text(&["HPTTL", "h", "FIELDS", n, "a"]),
                "-ERR Number of fields must be a positive integer\r\n"
            );
            assert_eq!(
                c.text(&["HPERSIST", "h", "FIELDS", n, "a"]),
                "-ERR Number of fields must be a positive integer\r\n"
            );
        }
        for cmd in [
            &["HEXPIRE", "h", "10", "FIELDS", "2", "a"][..],
            &["HEXPIRE", "h", "10", "FIELDS", "1", "a", "b"],
            &["HTTL", "h", "FIELDS", "2", "a"],
            &["HPERSIST", "h", "FIELDS", "1", "a", "b"],
        ] {
            assert_eq!(
                c.text(cmd),
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
                "{cmd:?}"
            );
        }
    }

    #[test]
    fn missing_keys_answer_no_field_for_each() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["HEXPIRE", "nokey", "10", "FIELDS", "2", "a", "b"]),
            ints(&[-2, -2])
        );
        assert_eq!(c.text(&["HTTL", "nokey", "FIELDS", "1", "a"]), ints(&[-2]));
        assert_eq!(
            c.text(&["HPERSIST", "nokey", "FIELDS", "1", "a"]),
            ints(&[-2])
        );
        assert_eq!(c.text(&["EXISTS", "nokey"]), ":0\r\n");
    }

    #[test]
    fn conditions_and_replies() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(
            c.text(&["HEXPIRE", "h", "100", "XX", "FIELDS", "2", "a", "zz"]),
            ints(&[0, -2])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "100", "GT", "FIELDS", "1", "a"]),
            ints(&[0])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"]),
            ints(&[1])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "200", "NX", "FIELDS", "1", "a"]),
            ints(&[0])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "50", "GT", "FIELDS", "1", "a"]),
            ints(&[0])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "200", "gt", "FIELDS", "1", "a"]),
            ints(&[1])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "300", "LT", "FIELDS", "2", "a", "b"]),
            ints(&[0, 1])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "150", "XX", "FIELDS", "2", "a", "c"]),
            ints(&[1, 0])
        );
        assert_eq!(
            c.text(&["HTTL", "h", "FIELDS", "4", "a", "b", "c", "zz"]),
            ints(&[150, 300, -1, -2])
        );
        assert_eq!(
            c.text(&["HEXPIRE", "h", "0", "FIELDS", "2", "c", "c"]),
            ints(&[2, -2])
        );
        assert_eq!(c.text(&["HLEN", "h"]), ":2\r\n");
        assert_eq!(
            c.text(&["HPEXPIREAT", "h", "1", "FIELDS", "2", "a", "b"]),
            ints(&[2, 2])
        );
        assert_eq!(c.text(&["EXISTS", "h"]), ":0\r\n");
    }

    #[test]
    fn ttl_readers_and_units() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        let at_ms: i64 = 4_000_000_000_123;
        assert_eq!(
            c.text(&["HPEXPIREAT", "h", &at_ms.to_string(), "FIELDS", "1", "a"]),
            ints(&[1])
        );
        assert_eq!(
            c.text(&["HPEXPIRETIME", "h", "FIELDS", "2", "a", "b"]),
            ints(&[at_ms, -1])
        );
        // Seconds round up, as 7.4's do.
        assert_eq!(
            c.text(&["HEXPIRETIME", "h", "FIELDS", "1", "a"]),
            ints(&[4_000_000_001])
        );
        c.text(&["HEXPIREAT", "h", "4000000000", "FIELDS", "1", "b"]);
        assert_eq!(
            c.text(&["HPEXPIRETIME", "h", "FIELDS", "1", "b"]),
            ints(&[4_000_000_000_000])
        );
        c.text(&["HPEXPIRE", "h", "100000", "FIELDS", "1", "a"]);
        let reply = c.text(&["HPTTL", "h", "FIELDS", "1", "a"]);
        let ms: i64 = reply
            .trim_start_matches("*1\r\n:")
            .trim_end()
            .parse()
            .unwrap();
        assert!((99_000..=100_000).contains(&ms), "{reply}");
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[100]));
    }

    #[test]
    fn hpersist_and_overwrites() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2", "n", "5"]);
        c.text(&["HEXPIRE", "h", "100", "FIELDS", "3", "a", "b", "n"]);
        assert_eq!(
            c.text(&["HPERSIST", "h", "FIELDS", "3", "a", "a", "zz"]),
            ints(&[1, -1, -2])
        );
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]));
        // HSET drops a field's TTL; HINCRBY keeps it.
        c.text(&["HSET", "h", "b", "3"]);
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "b"]), ints(&[-1]));
        c.text(&["HINCRBY", "h", "n", "1"]);
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "n"]), ints(&[100]));
        c.text(&["HINCRBYFLOAT", "h", "n", "1.5"]);
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "n"]), ints(&[100]));
        assert_eq!(c.text(&["HGET", "h", "n"]), "$3\r\n7.5\r\n");
        // HDEL of a volatile field forgets its TTL.
        c.text(&["HDEL", "h", "n"]);
        c.text(&["HSET", "h", "n", "1"]);
        assert_eq!(c.text(&["HTTL", "h", "FIELDS", "1", "n"]), ints(&[-1]));
    }

    #[test]
    fn encoding_and_listpackex_field_order() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
        c.text(&["HEXPIRE", "h", "200", "FIELDS", "1", "c"]);
        c.text(&["HEXPIRE", "h", "100", "FIELDS", "1", "b"]);
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "h"]),
            "$10\r\nlistpackex\r\n"
        );
        // Volatile fields first, soonest first, then the others.
        assert_eq!(
            c.text(&["HKEYS", "h"]),
            "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"
        );
        c.text(&["HPERSIST", "h", "FIELDS", "1", "b"]);
        assert_eq!(
            c.text(&["HKEYS", "h"]),
            "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(c.text(&["HGET", "h", "b"]), "$1\r\n2\r\n");
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "h"]),
            "$10\r\nlistpackex\r\n"
        );

        let mut t = TestClient::with_config(&[("hash-max-listpack-entries", "2")]);
        t.text(&["HSET", "t", "a", "1", "b", "2", "c", "3"]);
        t.text(&["HEXPIRE", "t", "100", "FIELDS", "1", "a"]);
        assert_eq!(t.text(&["OBJECT", "ENCODING", "t"]), "$9\r\nhashtable\r\n");
        assert_eq!(t.text(&["HTTL", "t", "FIELDS", "1", "a"]), ints(&[100]));
        t.text(&["HSET", "v", "a", "1"]);
        t.text(&["HEXPIRE", "v", "100", "FIELDS", "1", "a"]);
        t.text(&["HSET", "v", "b", "2", "c", "3"]);
        assert_eq!(t.text(&["OBJECT", "ENCODING", "v"]), "$9\r\nhashtable\r\n");
        assert_eq!(t.text(&["HTTL", "v", "FIELDS", "1", "a"]), ints(&[100]));
    }

    #[test]
    fn field_expiry_effects() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        c.assert_effects(
            &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "b"],
            &["h:hexpire:h"],
            2,
        );
        c.assert_effects(&["HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"], &[], 0);
        c.assert_effects(&["HEXPIRE", "nokey", "100", "FIELDS", "1", "a"], &[], 0);
        c.assert_effects(
            &["HEXPIRE", "h", "0", "FIELDS", "2", "a", "c"],
            &["h:hdel:h"],
            2,
        );
        c.assert_effects(&["HPERSIST", "h", "FIELDS", "1", "b"], &["h:hpersist:h"], 1);
        c.assert_effects(&["HPERSIST", "h", "FIELDS", "1", "b"], &[], 0);
        c.assert_effects(&["HTTL", "h", "FIELDS", "1", "b"], &[], 0);
        c.assert_effects(
            &["HPEXPIREAT", "h", "1", "FIELDS", "1", "b"],
            &["h:hdel:h", "g:del:h"],
            1,
        );
    }

    #[test]
    fn lazy_expiry_on_reads_and_writes() {
        let mut c = TestClient::new();
        c.text(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "2", "a", "b"]);
        sleep_ms(5);
        c.assert_effects(&["HGET", "h", "a"], &["h:hexpired:h"], 0);
        assert_eq!(c.text(&["HGET", "h", "a"]), "$-1\r\n");
        assert_eq!(c.text(&["HLEN", "h"]), ":1\r\n");
        assert_eq!(c.text(&["HGETALL", "h"]), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "1", "c"]);
        sleep_ms(5);
        c.assert_effects(&["HLEN", "h"], &["h:hexpired:h", "g:del:h"], 0);
        assert_eq!(c.text(&["EXISTS", "h"]), ":0\r\n");

        // A write sees the hash without its expired fields.
        c.text(&["HSET", "w", "a", "1"]);
        c.text(&["HPEXPIRE", "w", "1", "FIELDS", "1", "a"]);
        sleep_ms(5);
        c.assert_effects(
            &["HSET", "w", "b", "2"],
            &["h:hexpired:w", "g:del:w", "h:hset:w"],
            1,
        );
        assert_eq!(c.text(&["HGETALL", "w"]), "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        for cmd in [
            &["HEXISTS", "w", "b"][..],
            &["HSTRLEN", "w", "b"],
            &["HRANDFIELD", "w"],
            &["HSCAN", "w", "0"],
            &["TYPE", "w"],
        ] {
            // The field gets its 1 ms last, so no command but `cmd` can find it expired.
            c.text(&["HSET", "w", "keep", "1"]);
            c.text(&["HPEXPIRE", "w", "1", "FIELDS", "1", "b"]);
            sleep_ms(5);
            c.assert_effects(cmd, &["h:hexpired:w"], 0);
            assert_eq!(c.text(&["HEXISTS", "w", "b"]), ":0\r\n", "{cmd:?}");
            c.text(&["HSET", "w", "b", "2"]);
        }
    }

    #[test]
    fn rename_copy_and_dump_keep_field_ttls() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        c.text(&["HEXPIREAT", "h", "4000000000", "FIELDS", "1", "a"]);
        c.text(&["RENAME", "h", "r"]);
        assert_eq!(
            c.text(&["HEXPIRETIME", "r", "FIELDS", "2", "a", "b"]),
            ints(&[4_000_000_000, -1])
        );
        c.text(&["COPY", "r", "c"]);
        assert_eq!(
            c.text(&["HEXPIRETIME", "c", "FIELDS", "1", "a"]),
            ints(&[4_000_000_000])
        );
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "c"]),
            "$10\r\nlistpackex\r\n"
        );
        c.text(&["MOVE", "c", "1"]);
        c.text(&["SELECT", "1"]);
        assert_eq!(
            c.text(&["HEXPIRETIME", "c", "FIELDS", "1", "a"]),
            ints(&[4_000_000_000])
        );
        c.text(&["SELECT", "0"]);

        let dump = c.run(&["DUMP", "r"]);
        // A bulk string: `$<len>\r\n`, type 25 first, version 12 in the footer.
        let body_at = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
        let payload = &dump[body_at..dump.len() - 2];
        assert_eq!(payload[0], 25);
        assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[12, 0]);
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"x", b"0"];
        args.push(payload);
        assert_eq!(c.run_bytes(&args), b"+OK\r\n");
        assert_eq!(
            c.text(&["HEXPIRETIME", "x", "FIELDS", "2", "a", "b"]),
            ints(&[4_000_000_000, -1])
        );
        assert_eq!(c.text(&["HGET", "x", "b"]), "$1\r\n2\r\n");

        // Without field TTLs, DUMP stays what 7.0 writes.
        c.text(&["HSET", "p", "a", "1"]);
        let dump = c.run(&["DUMP", "p"]);
        let body_at = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
        let payload = &dump[body_at..dump.len() - 2];
        assert_eq!(payload[0], 16);
        assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[10, 0]);
    }

    /// The stream since the last call, SELECTs left out and current Unix ms times as `T`.
    fn stream(c: &mut TestClient) -> Vec<String> {
        c.stream_without_times()
    }

    #[test]
    fn field_expiry_propagates_as_redis_7_4_rewrites_it() {
        let mut c = TestClient::new();
        c.start_stream();
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
        stream(&mut c);
        for cmd in [
            &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "nofield"][..],
            &["HPEXPIRE", "h", "100000", "nx", "FIELDS", "2", "a", "b"],
            &["HEXPIREAT", "h", "40000000000", "FIELDS", "1", "c"],
            &[
                "HPEXPIREAT",
                "h",
                "40000000000123",
                "GT",
                "FIELDS",
                "1",
                "c",
            ],
            &["HPEXPIREAT", "h", "1", "GT", "FIELDS", "1", "c"],
            &["HEXPIRE", "nokey", "100", "FIELDS", "1", "a"],
            &["HPERSIST", "h", "FIELDS", "2", "c", "d"],
            &["HPERSIST", "h", "FIELDS", "1", "d"],
        ] {
            c.text(cmd);
        }
        assert_eq!(
            stream(&mut c),
            [
                "HPEXPIREAT h T FIELDS 1 a",
                "HPEXPIREAT h T nx FIELDS 1 b",
                "HPEXPIREAT h 40000000000000 FIELDS 1 c",
                "HPEXPIREAT h 40000000000123 GT FIELDS 1 c",
                "HPERSIST h FIELDS 2 c d",
            ]
        );
        // A past time deletes: HDELs, and no HPEXPIREAT when no TTL was set.
        c.text(&["HPEXPIREAT", "h", "1", "FIELDS", "2", "c", "nofield"]);
        c.text(&["HPEXPIREAT", "h", "1", "FIELDS", "2", "d", "b"]);
        assert_eq!(
            stream(&mut c),
            ["HDEL h c", "MULTI", "HDEL h d", "HDEL h b", "EXEC"]
        );
        c.text(&["HSET", "h", "x", "1"]);
        c.text(&["HPEXPIREAT", "h", "4000000000000", "FIELDS", "1", "x"]);
        stream(&mut c);
        c.text(&["HEXPIRE", "h", "0", "FIELDS", "2", "a", "x"]);
        assert_eq!(stream(&mut c), ["MULTI", "HDEL h a", "HDEL h x", "EXEC"]);
    }

    #[test]
    fn expired_fields_propagate_as_hdels() {
        let mut c = TestClient::new();
        c.text(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        c.start_stream();
        c.text(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "1", "a"]);
        stream(&mut c);
        sleep_ms(5);
        // A read that finds a field expired propagates its deletion alone.
        c.assert_effects(&["HGET", "h", "b"], &["h:hexpired:h"], 0);
        assert_eq!(stream(&mut c), ["HDEL h a"]);
        // A write: the deletions and the write, as one transaction.
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "2", "b", "c"]);
        stream(&mut c);
        sleep_ms(5);
        c.assert_effects(
            &["HSET", "h", "d", "4"],
            &["h:hexpired:h", "g:del:h", "h:hset:h"],
            1,
        );
        assert_eq!(
            stream(&mut c),
            ["MULTI", "HDEL h b", "HDEL h c", "HSET h d 4", "EXEC"]
        );
    }

    #[test]
    fn active_expiry_removes_fields_of_untouched_hashes() {
        let mut c = TestClient::new();
        c.text(&["HSET", "h", "a", "1", "b", "2"]);
        c.text(&["HPEXPIRE", "h", "1", "FIELDS", "2", "a", "b"]);
        sleep_ms(5);
        let server = c.server.clone();
        let gate = server.keyspace.shared();
        let mut expired = 0;
        server
            .keyspace
            .for_each_shard(&gate, 0, common::keyspace::Intent::Write, |shard| {
                expired += shard
                    .active_expire_fields(crate::server::unix_ms(), 20, 100)
                    .expired;
                let drained: Vec<_> = shard.drain_fields_expired().collect();
                if !drained.is_empty() {
                    assert_eq!(drained.len(), 1);
                    assert_eq!(&*drained[0].key, b"h");
                    assert_eq!(drained[0].fields.len(), 2);
                    assert!(drained[0].emptied);
                }
            });
        drop(gate);
        assert_eq!(expired, 2);
        assert_eq!(c.text(&["DBSIZE"]), ":0\r\n");
    }
}
