//! Group `set`: SADD and the other commands on set values (`intset` or `hashtable` encoded).
//!
//! The encoding rules live in `common::value::set`; this file parses arguments, finds keys and
//! writes replies, as Redis's `t_set.c` "Set Commands" do.

use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;

use common::glob::glob_match;
use common::keyspace::{Entry, Shard};
use common::number::parse_i64;
use common::resp::ReplyBuffer;
use common::value::Value;
use common::value::set::{OwnedMember, SetValue};
use common::value::string::StrRef;
use rand::Rng;

use crate::effects::Event;

use super::generic::parse_cursor;
use super::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("sadd", sadd);
    r.add("srem", srem);
    r.add("smove", smove);
    r.add("sismember", sismember);
    r.add("smismember", smismember);
    r.add("scard", scard);
    r.add("smembers", smembers);
    r.add("spop", spop);
    r.add("srandmember", srandmember);
    r.add("sinter", sinter);
    r.add("sintercard", sintercard);
    r.add("sinterstore", sinterstore);
    r.add("sunion", sunion);
    r.add("sunionstore", sunionstore);
    r.add("sdiff", sdiff);
    r.add("sdiffstore", sdiffstore);
    r.add("sscan", sscan);
}

/// `set-max-intset-entries`, read live.
fn max_intset(ctx: &CommandContext<'_>) -> usize {
    usize::try_from(ctx.server.hot.set_max_intset_entries.load(Relaxed)).unwrap_or(usize::MAX)
}

/// The set an entry holds; `WRONGTYPE` for any other value.
fn as_set(entry: &Entry) -> Result<&SetValue, CommandError> {
    match entry.value() {
        Value::Set(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

fn as_set_mut(entry: &mut Entry) -> Result<&mut SetValue, CommandError> {
    match entry.value_mut() {
        Value::Set(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

/// A read lookup (counted in INFO) of a key that must hold a set if it exists.
fn read_set<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s SetValue>, CommandError> {
    shard.lookup_read(key, now).map(as_set).transpose()
}

fn reply_member(reply: &mut ReplyBuffer, m: StrRef<'_>) {
    match m {
        StrRef::Int(n) => reply.bulk_i64(n),
        StrRef::Bytes(b) => reply.bulk(b),
    }
}

/// A member as the bytes a command names it by.
fn member_bytes(m: StrRef<'_>) -> Box<[u8]> {
    match m {
        StrRef::Int(n) => n.to_string().into_bytes().into(),
        StrRef::Bytes(b) => b.into(),
    }
}

/// SADD key member [member ...]
fn sadd(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let members = ctx.args;
    let (max, now, lru) = (max_intset(ctx), ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let mut added = 0;
    match shard.get_mut(key, now) {
        Some(entry) => {
            let set = as_set_mut(entry)?;
            for m in members.clone().rest() {
                added += usize::from(set.add(m, max));
            }
        }
        None => {
            let mut set = SetValue::for_member(members.peek().unwrap_or_default());
            for m in members.clone().rest() {
                added += usize::from(set.add(m, max));
            }
            shard.insert(Entry::collection(key, Value::Set(Box::new(set)), lru));
        }
    }
    if added > 0 {
        ctx.modified(key);
        ctx.notify(Event::Set, "sadd", key);
        ctx.dirty(added as u64);
    }
    ctx.reply.integer(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let members = ctx.args.rest();
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let Some(entry) = shard.get_mut(key, now) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let set = as_set_mut(entry)?;
    let mut removed = 0;
    let mut emptied = false;
    for m in members {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if emptied {
        shard.remove(key);
    }
    if removed > 0 {
        ctx.modified(key);
        ctx.notify(Event::Set, "srem", key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.dirty(removed as u64);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let member = ctx.args.next_bytes()?;
    let (max, now, lru) = (max_intset(ctx), ctx.now_ms, ctx.lru());
    let src_is_set = match ctx.db.shard(src).get_mut(src, now) {
        None => {
            ctx.reply.integer(0);
            return Ok(());
        }
        Some(entry) => matches!(entry.value(), Value::Set(_)),
    };
    let dst_exists = match ctx.db.shard(dst).get_mut(dst, now) {
        None => false,
        Some(entry) => {
            if !matches!(entry.value(), Value::Set(_)) {
                return Err(CommandError::WrongType);
            }
            true
        }
    };
    if !src_is_set {
        return Err(CommandError::WrongType);
    }
    let src_shard = ctx.db.shard(src);
    let Some(set) = src_shard.get_mut(src, now).map(as_set_mut).transpose()? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    if src == dst {
        let found = set.contains(member);
        ctx.reply.integer(i64::from(found));
        return Ok(());
    }
    if !set.remove(member) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let emptied = set.is_empty();
    if emptied {
        src_shard.remove(src);
    }
    let dst_shard = ctx.db.shard(dst);
    let added = if dst_exists {
        dst_shard
            .get_mut(dst, now)
            .map(as_set_mut)
            .transpose()?
            .is_some_and(|set| set.add(member, max))
    } else {
        let mut set = SetValue::for_member(member);
        set.add(member, max);
        dst_shard.insert(Entry::collection(dst, Value::Set(Box::new(set)), lru));
        true
    };
    ctx.notify(Event::Set, "srem", src);
    if emptied {
        ctx.notify(Event::Generic, "del", src);
    }
    ctx.modified(src);
    ctx.dirty(1);
    if added {
        ctx.wrote(Event::Set, "sadd", dst);
    }
    ctx.reply.integer(1);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let member = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let found = read_set(ctx.db.shard(key), key, now)?.is_some_and(|s| s.contains(member));
    ctx.reply.integer(i64::from(found));
    Ok(())
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let members = ctx.args;
    let now = ctx.now_ms;
    let set = read_set(ctx.db.shard(key), key, now)?;
    ctx.reply.array(members.remaining());
    for m in members.clone().rest() {
        ctx.reply
            .integer(i64::from(set.is_some_and(|s| s.contains(m))));
    }
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let len = read_set(ctx.db.shard(key), key, now)?.map_or(0, SetValue::len);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// SMEMBERS key: Redis serves it as a one-key SINTER.
fn smembers(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let set = read_set(ctx.db.shard(key), key, now)?;
    match set {
        None => ctx.reply.set(0),
        Some(set) => {
            ctx.reply.set(set.len());
            set.for_each(|m| reply_member(ctx.reply, m));
        }
    }
    Ok(())
}

/// A count that must be 0 or more; Redis names the range in both failure cases.
fn positive_count(arg: &[u8]) -> Result<u64, CommandError> {
    parse_i64(arg)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| CommandError::err("value is out of range, must be positive"))
}

/// SPOP key [count]
fn spop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let count = match ctx.args.remaining() {
        0 => None,
        1 => Some(positive_count(ctx.args.next_bytes()?)?),
        _ => return Err(CommandError::Syntax),
    };
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let Some(entry) = shard.get_mut(key, now) else {
        match count {
            None => ctx.reply.null(),
            Some(_) => ctx.reply.set(0),
        }
        return Ok(());
    };
    let set = as_set_mut(entry)?;
    let mut rng = common::fast_rng::fast_rng();
    let propagating = ctx.server.feed.is_active();
    let mut popped: Vec<Box<[u8]>> = Vec::new();
    let Some(count) = count else {
        // A stored set is never empty.
        if let Some(m) = set.pop_random(&mut rng) {
            reply_member(ctx.reply, m.as_ref());
            if propagating {
                popped.push(member_bytes(m.as_ref()));
            }
        }
        let emptied = set.is_empty();
        if emptied {
            shard.remove(key);
        }
        ctx.notify(Event::Set, "spop", key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.modified(key);
        ctx.dirty(1);
        // The member chosen at random, so replicas remove the same one.
        if let Some(m) = popped.first() {
            ctx.propagate_as(&[b"SREM", key, m]);
        }
        return Ok(());
    };
    if count == 0 {
        ctx.reply.set(0);
        return Ok(());
    }
    let size = set.len();
    if count >= size as u64 {
        // The whole set goes.
        ctx.reply.set(size);
        set.for_each(|m| reply_member(ctx.reply, m));
        shard.remove(key);
        ctx.notify(Event::Set, "spop", key);
        ctx.dirty(size as u64);
        ctx.notify(Event::Generic, "del", key);
        ctx.modified(key);
        ctx.propagate_as(&[b"DEL", key]);
        return Ok(());
    }
    let count = count as usize;
    let remaining = size - count;
    ctx.reply.set(count);
    if remaining * 5 > count {
        // Few to take: pop them one by one.
        for _ in 0..count {
            if let Some(m) = set.pop_random(&mut rng) {
                reply_member(ctx.reply, m.as_ref());
                if propagating {
                    popped.push(member_bytes(m.as_ref()));
                }
            }
        }
    } else {
        // Few to keep: move the survivors into a fresh set and hand back the rest.
        let mut kept = set.empty_like();
        for _ in 0..remaining {
            if let Some(m) = set.pop_random(&mut rng) {
                kept.add_ref(m.as_ref(), usize::MAX);
            }
        }
        set.for_each(|m| {
            reply_member(ctx.reply, m);
            if propagating {
                popped.push(member_bytes(m));
            }
        });
        *set = kept;
    }
    ctx.notify(Event::Set, "spop", key);
    ctx.dirty(count as u64);
    ctx.modified(key);
    // One SREM per member taken, as Redis propagates SPOP with a count.
    ctx.prevent_propagation();
    for m in &popped {
        ctx.also_propagate(&[b"SREM", key, m]);
    }
    Ok(())
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let count = match ctx.args.remaining() {
        0 => None,
        1 => {
            let n = ctx.args.next_i64()?;
            if n == i64::MIN {
                return Err(CommandError::err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            Some(n)
        }
        _ => return Err(CommandError::Syntax),
    };
    let now = ctx.now_ms;
    let set = read_set(ctx.db.shard(key), key, now)?;
    let mut rng = common::fast_rng::fast_rng();
    let Some(count) = count else {
        match set.and_then(|s| s.random(&mut rng)) {
            Some(m) => reply_member(ctx.reply, m),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let Some(set) = set.filter(|_| count != 0) else {
        ctx.reply.empty_array();
        return Ok(());
    };
    let size = set.len();
    if count < 0 || count == 1 {
        // Repeats allowed: every pick samples the whole set. The reply grows as Redis's does,
        // one member at a time, with nothing allocated up front.
        let n = count.unsigned_abs();
        ctx.reply.array(usize::try_from(n).unwrap_or(usize::MAX));
        for _ in 0..n {
            if let Some(m) = set.random(&mut rng) {
                reply_member(ctx.reply, m);
            }
        }
        return Ok(());
    }
    let count = count as u64;
    if count >= size as u64 {
        ctx.reply.array(size);
        set.for_each(|m| reply_member(ctx.reply, m));
        return Ok(());
    }
    let count = count as usize;
    ctx.reply.array(count);
    if count * 3 <= size {
        // Few wanted: sample and skip repeats.
        let mut seen: HashSet<(bool, u64)> = HashSet::with_capacity(count);
        while seen.len() < count {
            let Some(m) = set.random(&mut rng) else {
                break;
            };
            let id = match m {
                StrRef::Int(n) => (false, n as u64),
                StrRef::Bytes(b) => (true, b.as_ptr() as u64),
            };
            if seen.insert(id) {
                reply_member(ctx.reply, m);
            }
        }
    } else {
        // Most of the set wanted: one pass, taking each member with probability
        // (still wanted / still unseen), which picks every subset of `count` alike.
        let mut wanted = count;
        let mut unseen = size;
        set.for_each(|m| {
            if wanted > 0 && rng.random_range(0..unseen) < wanted {
                reply_member(ctx.reply, m);
                wanted -= 1;
            }
            unseen -= 1;
        });
    }
    Ok(())
}

/// The sets named by `keys`, looked up once each as Redis does: `None` for a missing key,
/// `WRONGTYPE` if any key holds another type.
fn set_sizes(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
) -> Result<Vec<Option<usize>>, CommandError> {
    let now = ctx.now_ms;
    let mut sizes = Vec::with_capacity(keys.len());
    for key in keys {
        sizes.push(read_set(ctx.db.shard(key), key, now)?.map(SetValue::len));
    }
    Ok(sizes)
}

/// Runs `f` on the set at `key` (already checked to be a set, or missing).
fn with_set<R>(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    f: impl FnOnce(&SetValue) -> R,
) -> Option<R> {
    let now = ctx.now_ms;
    match ctx.db.shard(key).peek(key, now).map(Entry::value) {
        Some(Value::Set(s)) => Some(f(s)),
        _ => None,
    }
}

/// What a set operation does with its result.
#[derive(Clone, Copy)]
enum Output<'a> {
    /// Reply with the members.
    Reply,
    /// Reply with the number of members, at most `limit` (0: no limit).
    Count { limit: u64 },
    /// Store the result at the key (deleting it when empty) and reply with its size.
    Store(&'a [u8]),
}

/// The members shared by every set; missing keys are empty sets. Members come out in the order
/// of the smallest set (the first of the smallest, on a tie), as Redis replies them.
fn intersection(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
) -> Result<Vec<OwnedMember>, CommandError> {
    let sizes = set_sizes(ctx, keys)?;
    let Some(sizes) = sizes.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(Vec::new());
    };
    let Some((first, _)) = sizes.iter().enumerate().min_by_key(|(_, len)| **len) else {
        return Ok(Vec::new());
    };
    let mut members = with_set(ctx, keys[first], SetValue::members).unwrap_or_default();
    let mut order: Vec<usize> = (0..keys.len()).filter(|&i| i != first).collect();
    order.sort_by_key(|&i| sizes[i]);
    for i in order {
        if members.is_empty() {
            break;
        }
        if keys[i] == keys[first] {
            continue;
        }
        with_set(ctx, keys[i], |set| {
            members.retain(|m| set.contains_ref(m.as_ref()));
        });
    }
    Ok(members)
}

fn sinter_generic(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
    output: Output<'_>,
) -> Result<(), CommandError> {
    let members = intersection(ctx, keys)?;
    match output {
        Output::Reply => {
            ctx.reply.set(members.len());
            for m in &members {
                reply_member(ctx.reply, m.as_ref());
            }
        }
        Output::Count { limit } => {
            let n = members.len() as u64;
            ctx.reply
                .integer(if limit == 0 { n } else { n.min(limit) } as i64);
        }
        Output::Store(dst) => {
            let max = max_intset(ctx);
            let mut result = SetValue::new_intset();
            for m in &members {
                result.add_ref(m.as_ref(), max);
            }
            store(ctx, dst, result, "sinterstore");
        }
    }
    Ok(())
}

/// Writes a *STORE result: replaces `dst` whatever it held (dropping its TTL), or deletes it
/// when the result is empty; replies with the result's size. `event` names the command in
/// the keyspace event of a stored result.
fn store(ctx: &mut CommandContext<'_>, dst: &[u8], result: SetValue, event: &str) {
    let lru = ctx.lru();
    let len = result.len();
    if len == 0 {
        if ctx.db.shard(dst).remove(dst).is_some() {
            ctx.wrote(Event::Generic, "del", dst);
        }
    } else {
        ctx.set_key(
            dst,
            Entry::collection(dst, Value::Set(Box::new(result)), lru),
        );
        ctx.wrote(Event::Set, event, dst);
    }
    ctx.reply.integer(len as i64);
}

/// SINTER key [key ...]
fn sinter(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sinter_generic(ctx, &keys, Output::Reply)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sinter_generic(ctx, &keys, Output::Store(dst))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let numkeys = parse_i64(ctx.args.next_bytes()?)
        .filter(|n| *n >= 1)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))?;
    if numkeys > ctx.args.remaining() as i64 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let mut keys = Vec::with_capacity(numkeys as usize);
    for _ in 0..numkeys {
        keys.push(ctx.args.next_key()?);
    }
    let mut limit = 0;
    while let Some(opt) = ctx.args.next_opt() {
        if opt.eq_ignore_ascii_case(b"limit") && !ctx.args.is_empty() {
            limit = parse_i64(ctx.args.next_bytes()?)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    sinter_generic(ctx, &keys, Output::Count { limit })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION/SDIFF and their STORE forms, building the result as Redis does (an intset that
/// converts when it must), so the stored encoding matches.
fn sunion_diff(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
    op: SetOp,
    output: Output<'_>,
) -> Result<(), CommandError> {
    let sizes = set_sizes(ctx, keys)?;
    let max = max_intset(ctx);
    let mut result = SetValue::new_intset();
    let first_exists = sizes.first().is_some_and(Option::is_some);
    let same_set = first_exists && keys.iter().skip(1).any(|k| *k == keys[0]);
    match op {
        SetOp::Union => {
            for (key, size) in keys.iter().zip(&sizes) {
                if size.is_some() {
                    with_set(ctx, key, |set| {
                        set.for_each(|m| {
                            result.add_ref(m, max);
                        })
                    });
                }
            }
        }
        SetOp::Diff if !first_exists || same_set => {}
        SetOp::Diff => {
            let first_len = sizes[0].unwrap_or(0) as u64;
            let existing = sizes.iter().flatten().count() as u64;
            let total: u64 = sizes.iter().flatten().map(|n| *n as u64).sum();
            // Redis's choice between its two algorithms; they can leave the result in
            // different encodings, so it is made the same way here.
            let check_each = first_len * existing / 2 <= total;
            if check_each {
                let mut members = with_set(ctx, keys[0], SetValue::members).unwrap_or_default();
                for (key, size) in keys.iter().zip(&sizes).skip(1) {
                    if size.is_some() && !members.is_empty() {
                        with_set(ctx, key, |set| {
                            members.retain(|m| !set.contains_ref(m.as_ref()));
                        });
                    }
                }
                for m in &members {
                    result.add_ref(m.as_ref(), max);
                }
            } else {
                for (i, (key, size)) in keys.iter().zip(&sizes).enumerate() {
                    if size.is_none() {
                        continue;
                    }
                    with_set(ctx, key, |set| {
                        set.for_each(|m| {
                            if i == 0 {
                                result.add_ref(m, max);
                            } else {
                                result.remove_ref(m);
                            }
                        })
                    });
                    if result.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    match output {
        Output::Store(dst) => {
            let event = match op {
                SetOp::Union => "sunionstore",
                SetOp::Diff => "sdiffstore",
            };
            store(ctx, dst, result, event);
        }
        _ => {
            ctx.reply.set(result.len());
            result.for_each(|m| reply_member(ctx.reply, m));
        }
    }
    Ok(())
}

/// SUNION key [key ...]
fn sunion(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sunion_diff(ctx, &keys, SetOp::Union, Output::Reply)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sunion_diff(ctx, &keys, SetOp::Union, Output::Store(dst))
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sunion_diff(ctx, &keys, SetOp::Diff, Output::Reply)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    let keys: Vec<&[u8]> = ctx.args.rest().collect();
    sunion_diff(ctx, &keys, SetOp::Diff, Output::Store(dst))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let cursor =
        parse_cursor(ctx.args.next_bytes()?).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let now = ctx.now_ms;
    let Some(set) = read_set(ctx.db.shard(key), key, now)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.empty_array();
        return Ok(());
    };
    // Options are read only once the key is known to be a set, as Redis reads them.
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    while let Some(arg) = ctx.args.next_opt() {
        if ctx.args.is_empty() {
            return Err(CommandError::Syntax);
        }
        if arg.eq_ignore_ascii_case(b"count") {
            let n = ctx.args.next_i64()?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if arg.eq_ignore_ascii_case(b"match") {
            let p = ctx.args.next_bytes()?;
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut found: Vec<OwnedMember> = Vec::new();
    let mut collect = |m: StrRef<'_>| {
        let mut buf = [0u8; 20];
        if pattern.is_none_or(|p| glob_match(p, m.bytes(&mut buf), false)) {
            found.push(match m {
                StrRef::Int(n) => OwnedMember::Int(n),
                StrRef::Bytes(b) => OwnedMember::Bytes(b.into()),
            });
        }
    };
    let mut next = cursor;
    let mut visited = 0usize;
    // Redis stops after `count` members are collected (before filtering) or after ten
    // times `count` bucket visits, whichever comes first.
    let mut iterations = count.saturating_mul(10);
    loop {
        next = set.scan(next, |m| {
            visited += 1;
            collect(m);
        });
        if next == 0 || iterations == 0 || visited >= count {
            break;
        }
        iterations -= 1;
    }
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(found.len());
    for m in &found {
        reply_member(ctx.reply, m.as_ref());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn set_writes_report_their_effects() {
        let mut c = TestClient::new();
        c.assert_effects(&["SADD", "s", "a", "b"], &["s:sadd:s"], 2);
        c.assert_effects(&["SADD", "s", "a"], &[], 0);
        c.assert_effects(&["SREM", "s", "zz"], &[], 0);
        c.assert_effects(&["SREM", "nos", "a"], &[], 0);
        c.assert_effects(&["SMOVE", "s", "s", "a"], &[], 0);
        c.assert_effects(&["SMOVE", "s", "d", "zz"], &[], 0);
        c.assert_effects(&["SMOVE", "s", "d", "a"], &["s:srem:s", "s:sadd:d"], 2);
        c.run(&["SADD", "d", "b"]);
        // The member was already in the destination: only the source changed.
        c.assert_effects(&["SMOVE", "s", "d", "b"], &["s:srem:s", "g:del:s"], 1);
        c.run(&["SADD", "s", "1", "2", "3"]);
        c.assert_effects(&["SPOP", "s", "0"], &[], 0);
        c.assert_effects(&["SPOP", "nos", "2"], &[], 0);
        c.assert_effects(&["SPOP", "s", "2"], &["s:spop:s"], 2);
        c.assert_effects(&["SPOP", "s"], &["s:spop:s", "g:del:s"], 1);
        c.run(&["SADD", "s", "1", "2"]);
        c.assert_effects(&["SPOP", "s", "5"], &["s:spop:s", "g:del:s"], 2);
        c.run(&["SADD", "x", "1", "2"]);
        c.assert_effects(&["SUNIONSTORE", "dst", "x"], &["s:sunionstore:dst"], 1);
        c.assert_effects(&["SINTERSTORE", "dst", "x", "nos"], &["g:del:dst"], 1);
        c.assert_effects(&["SINTERSTORE", "dst", "x", "nos"], &[], 0);
        c.assert_effects(&["SINTERSTORE", "dst", "x", "x"], &["s:sinterstore:dst"], 1);
        c.assert_effects(&["SDIFFSTORE", "dst", "x", "x"], &["g:del:dst"], 1);
        c.assert_effects(&["SDIFFSTORE", "dst", "x", "nos"], &["s:sdiffstore:dst"], 1);
        c.assert_effects(&["SREM", "x", "1", "2", "3"], &["s:srem:x", "g:del:x"], 2);
    }

    const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    fn sadd_range(c: &mut TestClient, key: &str, range: std::ops::Range<i32>) {
        let members: Vec<String> = range.map(|i| i.to_string()).collect();
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(String::as_str));
        c.run(&args);
    }

    /// The members of an array or set reply, sorted.
    fn members(reply: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(reply);
        let mut out: Vec<String> = text
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.starts_with('$') && !l.is_empty())
            .map(str::to_owned)
            .collect();
        out.sort();
        out
    }

    #[test]
    fn sadd_scard_sismember_smismember_smembers() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SADD", "s", "3", "1", "2", "1"]), ":3\r\n");
        assert_eq!(c.text(&["SADD", "s", "2", "4"]), ":1\r\n");
        assert_eq!(c.text(&["SCARD", "s"]), ":4\r\n");
        assert_eq!(c.text(&["SCARD", "none"]), ":0\r\n");
        assert_eq!(c.text(&["SISMEMBER", "s", "4"]), ":1\r\n");
        assert_eq!(c.text(&["SISMEMBER", "s", "5"]), ":0\r\n");
        assert_eq!(c.text(&["SISMEMBER", "none", "5"]), ":0\r\n");
        assert_eq!(
            c.text(&["SMISMEMBER", "s", "1", "9", "4"]),
            "*3\r\n:1\r\n:0\r\n:1\r\n"
        );
        assert_eq!(
            c.text(&["SMISMEMBER", "none", "a", "b"]),
            "*2\r\n:0\r\n:0\r\n"
        );
        // An intset replies in ascending order.
        assert_eq!(
            c.text(&["SMEMBERS", "s"]),
            "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
        );
        assert_eq!(c.text(&["SMEMBERS", "none"]), "*0\r\n");
        assert_eq!(c.text(&["TYPE", "s"]), "+set\r\n");
        assert_eq!(
            c.text(&["SMISMEMBER", "s"]),
            "-ERR wrong number of arguments for 'smismember' command\r\n"
        );
    }

    #[test]
    fn wrongtype_on_non_set_keys() {
        let mut c = TestClient::new();
        c.run(&["SET", "str", "x"]);
        c.run(&["SADD", "s", "a"]);
        for args in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SCARD", "str"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SMEMBERS", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "2"],
            &["SINTER", "s", "none", "str"],
            &["SINTERCARD", "2", "none", "str"],
            &["SUNION", "s", "str"],
            &["SDIFF", "none", "str"],
            &["SDIFFSTORE", "d", "s", "str"],
            &["SMOVE", "str", "s", "a"],
            &["SMOVE", "s", "str", "a"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(c.text(args), WRONGTYPE, "{args:?}");
        }
        // SMOVE from a missing source answers 0 before looking at the destination.
        assert_eq!(c.text(&["SMOVE", "none", "str", "a"]), ":0\r\n");
    }

    #[test]
    fn encodings_follow_the_intset_rules() {
        let mut c = TestClient::new();
        c.run(&["SADD", "s", "1", "-5", "9223372036854775807"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "s"]), "$6\r\nintset\r\n");
        c.run(&["SADD", "s", "abc"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
        c.run(&["SREM", "s", "abc"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
        // Not integers by string2ll's rules.
        for m in ["01", "+1", " 1", "9223372036854775808", "1.0"] {
            c.run(&["DEL", "t"]);
            c.run(&["SADD", "t", m]);
            assert_eq!(
                c.text(&["OBJECT", "ENCODING", "t"]),
                "$9\r\nhashtable\r\n",
                "{m}"
            );
        }
        sadd_range(&mut c, "big", 0..512);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "big"]), "$6\r\nintset\r\n");
        assert_eq!(c.text(&["SADD", "big", "512"]), ":1\r\n");
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "big"]),
            "$9\r\nhashtable\r\n"
        );
        assert_eq!(c.text(&["SCARD", "big"]), ":513\r\n");
        assert_eq!(c.text(&["SISMEMBER", "big", "511"]), ":1\r\n");
    }

    #[test]
    fn set_max_intset_entries_is_live() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "SET", "set-max-intset-entries", "2"]),
            "+OK\r\n"
        );
        c.run(&["SADD", "t", "1", "2"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "t"]), "$6\r\nintset\r\n");
        c.run(&["SADD", "t", "3"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "t"]), "$9\r\nhashtable\r\n");
        c.run(&["CONFIG", "SET", "set-max-intset-entries", "0"]);
        c.run(&["SADD", "z", "1"]);
        assert_eq!(c.text(&["OBJECT", "ENCODING", "z"]), "$9\r\nhashtable\r\n");
    }

    #[test]
    fn srem_deletes_emptied_sets() {
        let mut c = TestClient::new();
        c.run(&["SADD", "s", "a", "b", "c"]);
        assert_eq!(c.text(&["SREM", "s", "a", "x", "a"]), ":1\r\n");
        assert_eq!(c.text(&["SREM", "none", "a"]), ":0\r\n");
        assert_eq!(c.text(&["SREM", "s", "b", "c", "d"]), ":2\r\n");
        assert_eq!(c.text(&["EXISTS", "s"]), ":0\r\n");
        c.run(&["SADD", "i", "1", "2"]);
        assert_eq!(c.text(&["SREM", "i", "1", "2"]), ":2\r\n");
        assert_eq!(c.text(&["EXISTS", "i"]), ":0\r\n");
    }

    #[test]
    fn smove_moves_and_creates() {
        let mut c = TestClient::new();
        c.run(&["SADD", "src", "a", "b"]);
        c.run(&["SADD", "dst", "1", "2"]);
        assert_eq!(c.text(&["SMOVE", "src", "dst", "a"]), ":1\r\n");
        assert_eq!(
            c.text(&["OBJECT", "ENCODING", "dst"]),
            "$9\r\nhashtable\r\n"
        );
        assert_eq!(c.text(&["SMOVE", "src", "dst", "zz"]), ":0\r\n");
        assert_eq!(c.text(&["SMOVE", "src", "new", "b"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "src"]), ":0\r\n");
        assert_eq!(c.text(&["SMEMBERS", "new"]), "*1\r\n$1\r\nb\r\n");
        assert_eq!(c.text(&["SMOVE", "dst", "dst", "1"]), ":1\r\n");
        assert_eq!(c.text(&["SMOVE", "dst", "dst", "9"]), ":0\r\n");
        c.run(&["SADD", "ints", "5"]);
        assert_eq!(c.text(&["SMOVE", "ints", "fresh", "5"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "fresh"]), "$6\r\nintset\r\n");
    }

    #[test]
    fn spop_without_and_with_count() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SPOP", "none"]), "$-1\r\n");
        assert_eq!(c.text(&["SPOP", "none", "3"]), "*0\r\n");
        c.run(&["SADD", "s", "a"]);
        assert_eq!(c.text(&["SPOP", "s"]), "$1\r\na\r\n");
        assert_eq!(c.text(&["EXISTS", "s"]), ":0\r\n");
        sadd_range(&mut c, "i", 0..20);
        assert_eq!(c.text(&["SPOP", "i", "0"]), "*0\r\n");
        let popped = members(&c.run(&["SPOP", "i", "5"]));
        assert_eq!(popped.len(), 5);
        assert_eq!(c.text(&["SCARD", "i"]), ":15\r\n");
        // Taking nearly everything keeps the rest intact and distinct.
        let popped2 = members(&c.run(&["SPOP", "i", "14"]));
        assert_eq!(popped2.len(), 14);
        assert!(popped.iter().all(|m| !popped2.contains(m)));
        assert_eq!(c.text(&["SCARD", "i"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
        assert_eq!(members(&c.run(&["SPOP", "i", "10"])).len(), 1);
        assert_eq!(c.text(&["EXISTS", "i"]), ":0\r\n");
        for bad in ["-1", "abc"] {
            assert_eq!(
                c.text(&["SPOP", "s", bad]),
                "-ERR value is out of range, must be positive\r\n"
            );
        }
        assert_eq!(c.text(&["SPOP", "s", "1", "2"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn spop_count_on_hashtable_covers_both_strategies() {
        let mut c = TestClient::new();
        let names: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        let mut args = vec!["SADD", "h"];
        args.extend(names.iter().map(String::as_str));
        c.run(&args);
        let a = members(&c.run(&["SPOP", "h", "10"]));
        let b = members(&c.run(&["SPOP", "h", "85"]));
        let rest = members(&c.run(&["SMEMBERS", "h"]));
        assert_eq!((a.len(), b.len(), rest.len()), (10, 85, 5));
        let mut all: Vec<String> = a.into_iter().chain(b).chain(rest).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 100);
    }

    #[test]
    fn srandmember_counts() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SRANDMEMBER", "none"]), "$-1\r\n");
        assert_eq!(c.text(&["SRANDMEMBER", "none", "5"]), "*0\r\n");
        assert_eq!(c.text(&["SRANDMEMBER", "none", "-5"]), "*0\r\n");
        c.run(&["SADD", "s", "a", "b", "c"]);
        assert_eq!(c.text(&["SRANDMEMBER", "s", "0"]), "*0\r\n");
        assert_eq!(members(&c.run(&["SRANDMEMBER", "s", "3"])), ["a", "b", "c"]);
        assert_eq!(
            members(&c.run(&["SRANDMEMBER", "s", "100"])),
            ["a", "b", "c"]
        );
        let two = members(&c.run(&["SRANDMEMBER", "s", "2"]));
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        assert_eq!(members(&c.run(&["SRANDMEMBER", "s", "-10"])).len(), 10);
        assert!(c.text(&["SRANDMEMBER", "s"]).starts_with("$1\r\n"));
        assert_eq!(
            c.text(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
        );
        assert_eq!(
            c.text(&["SRANDMEMBER", "s", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["SRANDMEMBER", "s", "1", "2"]),
            "-ERR syntax error\r\n"
        );
        sadd_range(&mut c, "i", 0..100);
        let few = members(&c.run(&["SRANDMEMBER", "i", "10"]));
        let mut dedup = few.clone();
        dedup.dedup();
        assert_eq!((few.len(), dedup.len()), (10, 10));
        let many = members(&c.run(&["SRANDMEMBER", "i", "90"]));
        let mut dedup = many.clone();
        dedup.dedup();
        assert_eq!((many.len(), dedup.len()), (90, 90));
    }

    #[test]
    fn sinter_sintercard_sinterstore() {
        let mut c = TestClient::new();
        c.run(&["SADD", "a", "1", "2", "3", "4"]);
        c.run(&["SADD", "b", "2", "3", "4", "5", "x"]);
        c.run(&["SADD", "c", "3", "4", "9"]);
        assert_eq!(
            c.text(&["SINTER", "a", "b", "c"]),
            "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"
        );
        assert_eq!(c.text(&["SINTER", "a", "none"]), "*0\r\n");
        assert_eq!(c.text(&["SINTERCARD", "3", "a", "b", "c"]), ":2\r\n");
        assert_eq!(
            c.text(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]),
            ":2\r\n"
        );
        assert_eq!(
            c.text(&["SINTERCARD", "2", "a", "b", "limit", "0"]),
            ":3\r\n"
        );
        assert_eq!(c.text(&["SINTERCARD", "2", "a", "none"]), ":0\r\n");
        assert_eq!(c.text(&["SINTERSTORE", "d", "a", "b"]), ":3\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "d"]), "$6\r\nintset\r\n");
        assert_eq!(members(&c.run(&["SMEMBERS", "d"])), ["2", "3", "4"]);
        // An empty result deletes the destination, whatever it held.
        c.run(&["SET", "str", "v"]);
        assert_eq!(c.text(&["SINTERSTORE", "str", "a", "none"]), ":0\r\n");
        assert_eq!(c.text(&["EXISTS", "str"]), ":0\r\n");
        c.run(&["SET", "str", "v"]);
        c.run(&["EXPIRE", "str", "100"]);
        assert_eq!(c.text(&["SINTERSTORE", "str", "a"]), ":4\r\n");
        assert_eq!(c.text(&["TYPE", "str"]), "+set\r\n");
        assert_eq!(c.text(&["TTL", "str"]), ":-1\r\n");
    }

    #[test]
    fn sintercard_argument_errors() {
        let mut c = TestClient::new();
        c.run(&["SADD", "s", "a"]);
        for (args, err) in [
            (
                &["SINTERCARD", "0", "s"][..],
                "numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "abc", "s"],
                "numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "-1", "s"],
                "numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "2", "s"],
                "Number of keys can't be greater than number of args",
            ),
            (
                &["SINTERCARD", "1", "s", "LIMIT", "-1"],
                "LIMIT can't be negative",
            ),
            (
                &["SINTERCARD", "1", "s", "LIMIT", "x"],
                "LIMIT can't be negative",
            ),
            (&["SINTERCARD", "1", "s", "LIMIT"], "syntax error"),
            (&["SINTERCARD", "1", "s", "foo", "1"], "syntax error"),
        ] {
            assert_eq!(c.text(args), format!("-ERR {err}\r\n"), "{args:?}");
        }
        assert_eq!(c.text(&["SINTERCARD", "1", "s", "LIMIT", "1"]), ":1\r\n");
    }

    #[test]
    fn sunion_and_sdiff() {
        let mut c = TestClient::new();
        c.run(&["SADD", "a", "1", "2", "3"]);
        c.run(&["SADD", "b", "3", "4"]);
        assert_eq!(
            c.text(&["SUNION", "a", "none", "b"]),
            "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
        );
        assert_eq!(
            c.text(&["SDIFF", "a", "b", "none"]),
            "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        );
        assert_eq!(c.text(&["SDIFF", "none", "a"]), "*0\r\n");
        assert_eq!(c.text(&["SDIFF", "a", "a"]), "*0\r\n");
        assert_eq!(c.text(&["SUNIONSTORE", "u", "a", "b"]), ":4\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "u"]), "$6\r\nintset\r\n");
        assert_eq!(c.text(&["SDIFFSTORE", "u", "b", "a"]), ":1\r\n");
        assert_eq!(c.text(&["SMEMBERS", "u"]), "*1\r\n$1\r\n4\r\n");
        assert_eq!(c.text(&["SDIFFSTORE", "u", "none", "a"]), ":0\r\n");
        assert_eq!(c.text(&["EXISTS", "u"]), ":0\r\n");
        c.run(&["SET", "str", "x"]);
        assert_eq!(c.text(&["SUNIONSTORE", "str", "none"]), ":0\r\n");
        assert_eq!(c.text(&["EXISTS", "str"]), ":0\r\n");
    }

    #[test]
    fn store_results_take_the_encoding_redis_gives_them() {
        let mut c = TestClient::new();
        sadd_range(&mut c, "a", 0..600);
        sadd_range(&mut c, "b", 0..150);
        sadd_range(&mut c, "c", 150..250);
        sadd_range(&mut c, "b2", 0..550);
        // Redis's second diff algorithm goes through a 600-member temporary: hashtable.
        assert_eq!(c.text(&["SDIFFSTORE", "d", "a", "b", "c"]), ":350\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "d"]), "$9\r\nhashtable\r\n");
        // The first one adds only the 50 survivors: intset.
        assert_eq!(c.text(&["SDIFFSTORE", "d2", "a", "b2"]), ":50\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "d2"]), "$6\r\nintset\r\n");
        assert_eq!(c.text(&["SINTERSTORE", "d3", "a", "b2"]), ":550\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "d3"]), "$9\r\nhashtable\r\n");
    }

    #[test]
    fn sscan_intset_whole_and_hashtable_by_cursor() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SSCAN", "none", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
        // Options are not read for a missing key.
        assert_eq!(
            c.text(&["SSCAN", "none", "0", "COUNT", "0"]),
            "*2\r\n$1\r\n0\r\n*0\r\n"
        );
        sadd_range(&mut c, "i", 0..30);
        let reply = c.text(&["SSCAN", "i", "7", "COUNT", "1"]);
        assert!(reply.starts_with("*2\r\n$1\r\n0\r\n*30\r\n"), "{reply}");
        assert_eq!(
            c.text(&["SSCAN", "i", "0", "MATCH", "2?"]),
            "*2\r\n$1\r\n0\r\n*10\r\n$2\r\n20\r\n$2\r\n21\r\n$2\r\n22\r\n$2\r\n23\r\n$2\r\n24\r\n$2\r\n25\r\n$2\r\n26\r\n$2\r\n27\r\n$2\r\n28\r\n$2\r\n29\r\n"
        );
        assert_eq!(c.text(&["SSCAN", "i", "x"]), "-ERR invalid cursor\r\n");
        assert_eq!(
            c.text(&["SSCAN", "i", "0", "COUNT", "0"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["SSCAN", "i", "0", "COUNT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["SSCAN", "i", "0", "TYPE", "string"]),
            "-ERR syntax error\r\n"
        );
        let names: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let mut args = vec!["SADD", "h"];
        args.extend(names.iter().map(String::as_str));
        c.run(&args);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_owned();
        let mut calls = 0;
        loop {
            let reply = c.text(&["SSCAN", "h", &cursor, "COUNT", "20"]);
            let mut lines = reply.split("\r\n").skip(2);
            cursor = lines.next().unwrap().to_owned();
            seen.extend(lines.filter(|l| l.starts_with('m')).map(str::to_owned));
            calls += 1;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert!(calls > 10);
    }

    #[test]
    fn resp3_replies_use_set_types() {
        let mut c = TestClient::new();
        c.run(&["HELLO", "3"]);
        c.run(&["SADD", "s", "1", "2"]);
        assert_eq!(c.text(&["SMEMBERS", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(c.text(&["SUNION", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(c.text(&["SINTER", "s", "none"]), "~0\r\n");
        assert_eq!(c.text(&["SPOP", "none", "2"]), "~0\r\n");
        assert_eq!(c.text(&["SPOP", "s", "0"]), "~0\r\n");
        assert_eq!(c.text(&["SPOP", "none"]), "_\r\n");
        assert_eq!(c.text(&["SRANDMEMBER", "none"]), "_\r\n");
        assert_eq!(c.text(&["SRANDMEMBER", "none", "2"]), "*0\r\n");
        assert!(c.text(&["SRANDMEMBER", "s", "-2"]).starts_with("*2\r\n"));
        assert_eq!(c.text(&["SMISMEMBER", "s", "1", "5"]), "*2\r\n:1\r\n:0\r\n");
    }
}
