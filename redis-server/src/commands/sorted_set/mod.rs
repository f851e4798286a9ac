//! Group `sorted-set`: commands on sorted sets (`Value::ZSet`, encodings in
//! `common::value::sorted_set`).
//!
//! - `mod.rs`: single-member commands (ZADD, ZINCRBY, ZSCORE, ZRANK, ZREM...), ZSCAN and
//!   ZRANDMEMBER, and the lookup and reply helpers the others share;
//! - `range`: ZRANGE and its legacy forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*;
//! - `store`: ZUNION, ZINTER, ZDIFF (and their STORE forms), ZINTERCARD;
//! - `pop`: ZPOPMIN/ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP.

mod pop;
mod range;
mod store;

use std::sync::atomic::Ordering::Relaxed;

use common::glob::glob_match;
use common::keyspace::{Entry, Locked};
use common::number::{parse_f64, write_g17};
use common::resp::{Protocol, ReplyBuffer};
use common::value::Value;
use common::value::sorted_set::{AddFlags, AddOutcome, Limits, ZSetValue};
use rand::Rng;

use super::args::is;
use super::{CommandContext, CommandError, Registry};
use crate::effects::Event;
use crate::server::Server;

pub(super) fn register(r: &mut Registry) {
    r.add("zadd", zadd);
    r.add("zincrby", zincrby);
    r.add("zcard", zcard);
    r.add("zscore", zscore);
    r.add("zmscore", zmscore);
    r.add("zrank", zrank);
    r.add("zrevrank", zrevrank);
    r.add("zrem", zrem);
    r.add("zscan", zscan);
    r.add("zrandmember", zrandmember);
    range::register(r);
    store::register(r);
    pop::register(r);
}

/// The `zset-max-listpack-*` thresholds in force.
pub(super) fn limits(server: &Server) -> Limits {
    let hot = &server.hot;
    Limits {
        max_entries: usize::try_from(hot.zset_max_listpack_entries.load(Relaxed))
            .unwrap_or(usize::MAX),
        max_value: usize::try_from(hot.zset_max_listpack_value.load(Relaxed)).unwrap_or(usize::MAX),
    }
}

/// A read lookup (counted in keyspace hits/misses): the sorted set, `None` when the key is
/// missing, WRONGTYPE for another type.
pub(super) fn read<'a>(
    db: &'a mut Locked<'_>,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a ZSetValue>, CommandError> {
    match db.shard(key).lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value() {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// A write lookup: the sorted set to modify, `None` when the key is missing.
fn write<'a>(
    db: &'a mut Locked<'_>,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut ZSetValue>, CommandError> {
    match db.shard(key).get_mut(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value_mut() {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// Deletes `key` if its sorted set became empty (emptied collections do not stay); true when
/// it did.
pub(super) fn delete_if_empty(db: &mut Locked<'_>, key: &[u8], now_ms: i64) -> bool {
    let shard = db.shard(key);
    let empty = match shard.peek(key, now_ms).map(Entry::value) {
        Some(Value::ZSet(z)) => z.is_empty(),
        _ => false,
    };
    if empty {
        shard.remove(key);
    }
    empty
}

/// Stores `z` at `key`, replacing whatever was there (and its TTL).
pub(super) fn store_value(ctx: &mut CommandContext<'_>, key: &[u8], z: ZSetValue) {
    let lru = ctx.lru();
    ctx.set_key(key, Entry::collection(key, Value::ZSet(Box::new(z)), lru));
    ctx.signal_ready(key);
}

/// Writes one member with its score (`withscores`) as ZRANGE does: RESP2 flat, RESP3 a pair.
fn reply_member(reply: &mut ReplyBuffer, member: &[u8], score: f64, withscores: bool) {
    if withscores && reply.protocol() == Protocol::Resp3 {
        reply.array(2);
    }
    reply.bulk(member);
    if withscores {
        reply.double(score);
    }
}

/// The array header for `n` members as ZRANGE replies them.
fn reply_members_len(reply: &mut ReplyBuffer, n: usize, withscores: bool) {
    if withscores && reply.protocol() == Protocol::Resp2 {
        reply.array(n * 2);
    } else {
        reply.array(n);
    }
}

/// How ZADD and ZINCRBY differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddMode {
    Add,
    Incr,
}

fn zadd(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    add(ctx, AddMode::Add)
}

fn zincrby(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    add(ctx, AddMode::Incr)
}

fn add(ctx: &mut CommandContext<'_>, mode: AddMode) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut flags = AddFlags {
        incr: mode == AddMode::Incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    while let Some(arg) = ctx.args.peek() {
        let flag = if is(arg, "nx") {
            &mut flags.nx
        } else if is(arg, "xx") {
            &mut flags.xx
        } else if is(arg, "ch") {
            &mut ch
        } else if is(arg, "incr") {
            &mut flags.incr
        } else if is(arg, "gt") {
            &mut flags.gt
        } else if is(arg, "lt") {
            &mut flags.lt
        } else {
            break;
        };
        *flag = true;
        ctx.args.next_opt();
    }
    let rest: Vec<&[u8]> = ctx.args.rest().collect();
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(CommandError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if [flags.gt, flags.lt, flags.nx]
        .iter()
        .filter(|f| **f)
        .count()
        > 1
    {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && rest.len() > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks_exact(2) {
        let score = parse_f64(pair[0]).ok_or(CommandError::NotFloat)?;
        pairs.push((score, pair[1]));
    }
    let limits = limits(ctx.server);
    let now = ctx.now_ms;
    let lru = ctx.lru();
    let shard = ctx.db.shard(key);
    let exists = match shard.get_mut(key, now) {
        Some(e) if !matches!(e.value(), Value::ZSet(_)) => return Err(CommandError::WrongType),
        Some(_) => true,
        None => false,
    };
    let mut added = 0;
    let mut updated = 0;
    let mut last: Option<f64> = None;
    let mut nan = false;
    if exists || !flags.xx {
        if !exists {
            // Redis sizes a new set by its first member only.
            let z = ZSetValue::with_hint(0, pairs[0].1.len(), limits);
            shard.insert(Entry::collection(key, Value::ZSet(Box::new(z)), lru));
        }
        if let Some(Value::ZSet(z)) = shard.get_mut(key, now).map(Entry::value_mut) {
            for (score, member) in &pairs {
                match z.add(member, *score, flags, limits) {
                    AddOutcome::Added(s) => {
                        added += 1;
                        last = Some(s);
                    }
                    AddOutcome::Updated(s) => {
                        updated += 1;
                        last = Some(s);
                    }
                    AddOutcome::Unchanged(s) => last = Some(s),
                    AddOutcome::Skipped => {}
                    AddOutcome::NotANumber => {
                        nan = true;
                        break;
                    }
                }
            }
        }
        delete_if_empty(&mut ctx.db, key, now);
    }
    if added + updated > 0 {
        ctx.signal_ready(key);
        // A NaN midway fails the command: Redis then reports the changes made so far but
        // leaves them out of `dirty`.
        if !nan {
            ctx.dirty((added + updated) as u64);
        }
        ctx.modified(key);
        let event = if flags.incr { "zincr" } else { "zadd" };
        ctx.notify(Event::ZSet, event, key);
    }
    if nan {
        return Err(CommandError::err("resulting score is not a number (NaN)"));
    }
    if flags.incr {
        match last {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    } else {
        ctx.reply.integer(if ch { added + updated } else { added });
    }
    Ok(())
}

fn zcard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let n = read(&mut ctx.db, key, ctx.now_ms)?.map_or(0, ZSetValue::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

fn zscore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let member = ctx.args.next_bytes()?;
    match read(&mut ctx.db, key, ctx.now_ms)?.and_then(|z| z.score(member)) {
        Some(s) => ctx.reply.double(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let z = read(&mut ctx.db, key, ctx.now_ms)?;
    let members: Vec<&[u8]> = ctx.args.rest().collect();
    ctx.reply.array(members.len());
    for m in members {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    rank(ctx, false)
}

fn zrevrank(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    rank(ctx, true)
}

fn rank(ctx: &mut CommandContext<'_>, rev: bool) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let member = ctx.args.next_bytes()?;
    let Some(z) = read(&mut ctx.db, key, ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    match z.rank(member) {
        Some((r, _)) => {
            let r = if rev { z.len() - 1 - r } else { r };
            ctx.reply.integer(r as i64);
        }
        None => ctx.reply.null(),
    }
    Ok(())
}

fn zrem(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let members: Vec<&[u8]> = ctx.args.rest().collect();
    let Some(z) = write(&mut ctx.db, key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in members {
        if z.remove(m) {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    let emptied = delete_if_empty(&mut ctx.db, key, now);
    if deleted > 0 {
        ctx.notify(Event::ZSet, "zrem", key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.modified(key);
        ctx.dirty(deleted as u64);
    }
    ctx.reply.integer(deleted);
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack set comes back whole with
/// cursor 0; a skiplist set is walked in score order, the cursor being the next rank.
fn zscan(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let cursor = super::generic::parse_cursor(ctx.args.next_bytes()?)
        .ok_or_else(|| CommandError::err("invalid cursor"))?;
    let now = ctx.now_ms;
    let Some(z) = read(&mut ctx.db, key, now)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let mut count: usize = 10;
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
    let len = z.len();
    let (lo, hi, next) = match z {
        ZSetValue::Listpack(_) => (0, len.saturating_sub(1), 0),
        ZSetValue::Skiplist(_) => {
            let lo = usize::try_from(cursor).unwrap_or(usize::MAX);
            let end = lo.saturating_add(count);
            let next = if end >= len { 0 } else { end as u64 };
            (lo, end.saturating_sub(1), next)
        }
    };
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    if len > 0 {
        z.for_each_in_ranks(lo, hi, false, |m, s| {
            if pattern.is_none_or(|p| glob_match(p, m, false)) {
                found.push((m.to_vec(), s));
            }
        });
    }
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(found.len() * 2);
    let mut text = Vec::with_capacity(24);
    for (m, s) in &found {
        ctx.reply.bulk(m);
        text.clear();
        write_g17(*s, &mut text);
        ctx.reply.bulk(&text);
    }
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]].
fn zrandmember(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let Some(count_arg) = ctx.args.next_opt() else {
        let Some(z) = read(&mut ctx.db, key, now)? else {
            ctx.reply.null();
            return Ok(());
        };
        let pick = common::fast_rng::fast_rng().random_range(0..z.len());
        match z.at_rank(pick) {
            Some((m, _)) => ctx.reply.bulk(&m),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let n = common::number::parse_i64(count_arg).ok_or(CommandError::NotInteger)?;
    let withscores = match ctx.args.next_opt() {
        None => false,
        Some(arg) if is(arg, "withscores") && ctx.args.is_empty() => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    if n == i64::MIN {
        return Err(CommandError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return Err(CommandError::err("value is out of range"));
    }
    let Some(z) = read(&mut ctx.db, key, now)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let size = z.len();
    let count = n.unsigned_abs();
    if count == 0 {
        ctx.reply.array(0);
        return Ok(());
    }
    let mut rng = common::fast_rng::fast_rng();
    let reply = &mut *ctx.reply;
    if n < 0 || count == 1 {
        // With repetition (or one member): pick independently every time.
        let pairs = z.pairs();
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        reply_members_len(reply, count, withscores);
        for _ in 0..count {
            let (m, s) = &pairs[rng.random_range(0..pairs.len())];
            reply_member(reply, m, *s, withscores);
        }
        return Ok(());
    }
    let pairs = z.pairs();
    if count >= size as u64 {
        reply_members_len(reply, size, withscores);
        for (m, s) in &pairs {
            reply_member(reply, m, *s, withscores);
        }
        return Ok(());
    }
    let picks = rand::seq::index::sample(&mut rng, size, count as usize);
    reply_members_len(reply, picks.len(), withscores);
    for i in picks {
        let (m, s) = &pairs[i];
        reply_member(reply, m, *s, withscores);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
