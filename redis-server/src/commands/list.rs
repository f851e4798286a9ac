//! Group `list`: commands on list values (`common::value::list`), blocking ones included.

use crate::blocking::{parse_timeout, timeout_reply};
use crate::effects::Event;
use crate::propagate::Targets;
use std::time::Instant;

use common::encoding::listpack::LpValue;
use common::keyspace::{Entry, Shard};
use common::resp::ReplyBuffer;
use common::value::Value;
use common::value::list::{End, ListValue, PosQuery};

use super::args::is;
use super::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("lpush", lpush);
    r.add("rpush", rpush);
    r.add("lpushx", lpushx);
    r.add("rpushx", rpushx);
    r.add("lpop", lpop);
    r.add("rpop", rpop);
    r.add("llen", llen);
    r.add("lindex", lindex);
    r.add("linsert", linsert);
    r.add("lrange", lrange);
    r.add("lrem", lrem);
    r.add("lset", lset);
    r.add("ltrim", ltrim);
    r.add("lpos", lpos);
    r.add("lmove", lmove);
    r.add("rpoplpush", rpoplpush);
    r.add("lmpop", lmpop);
    r.add("blpop", blpop);
    r.add("brpop", brpop);
    r.add("blmove", blmove);
    r.add("brpoplpush", brpoplpush);
    r.add("blmpop", blmpop);
}

/// What a push does when the key is absent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IfMissing {
    Create,
    Skip,
}

/// The list at `key` for reading.
fn read_list<'a>(
    shard: &'a mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a ListValue>, CommandError> {
    match shard.get(key, now) {
        None => Ok(None),
        Some(e) => match e.value() {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// The list at `key` for writing.
fn write_list<'a>(
    shard: &'a mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a mut ListValue>, CommandError> {
    match shard.get_mut(key, now) {
        None => Ok(None),
        Some(e) => match e.value_mut() {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// A new empty list with the configured node limits.
fn new_list(ctx: &CommandContext<'_>) -> ListValue {
    use std::sync::atomic::Ordering::Relaxed;
    let fill = ctx.server.hot.list_max_listpack_size.load(Relaxed);
    let depth = ctx.server.hot.list_compress_depth.load(Relaxed);
    ListValue::new(
        fill.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        usize::try_from(depth).unwrap_or(usize::MAX),
    )
}

/// Pushes `values` at `end` of `key`, creating the list if allowed; the new length, or
/// `None` when the key is absent and may not be created.
fn push_values<'v>(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    end: End,
    values: impl Iterator<Item = &'v [u8]>,
    if_missing: IfMissing,
) -> Result<Option<usize>, CommandError> {
    let now = ctx.now_ms;
    if let Some(list) = write_list(ctx.db.shard(key), key, now)? {
        for v in values {
            list.push(end, v);
        }
        let len = list.len();
        ctx.signal_ready(key);
        return Ok(Some(len));
    }
    if if_missing == IfMissing::Skip {
        return Ok(None);
    }
    let mut list = new_list(ctx);
    for v in values {
        list.push(end, v);
    }
    let len = list.len();
    let lru = ctx.lru();
    ctx.db
        .shard(key)
        .insert(Entry::collection(key, Value::List(Box::new(list)), lru));
    ctx.signal_ready(key);
    Ok(Some(len))
}

fn push(ctx: &mut CommandContext<'_>, end: End, if_missing: IfMissing) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let pushed = ctx.args.remaining();
    let values = ctx.args.rest();
    let len = match push_values(ctx, key, end, values, if_missing)? {
        Some(len) => {
            ctx.dirty(pushed as u64);
            ctx.modified(key);
            ctx.notify(Event::List, push_event(end), key);
            len
        }
        None => 0,
    };
    ctx.reply.integer(len as i64);
    Ok(())
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// What popping `count` elements from `end` of `key` leaves behind (`emptied`: the key was
/// deleted), as for LPOP, LMPOP and a served BLMPOP.
fn popped(ctx: &mut CommandContext<'_>, key: &[u8], end: End, count: usize, emptied: bool) {
    ctx.notify(Event::List, pop_event(end), key);
    if emptied {
        ctx.notify(Event::Generic, "del", key);
    }
    ctx.modified(key);
    ctx.dirty(count as u64);
}

fn lpush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    push(ctx, End::Head, IfMissing::Create)
}

fn rpush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    push(ctx, End::Tail, IfMissing::Create)
}

fn lpushx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    push(ctx, End::Head, IfMissing::Skip)
}

fn rpushx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    push(ctx, End::Tail, IfMissing::Skip)
}

fn reply_value(reply: &mut ReplyBuffer, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => reply.bulk_i64(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

/// Replies with up to `count` elements popped from `end` of the list at `key` (an array, or
/// `[key, array]` when `with_key`), deleting the key when emptied. The list must exist.
fn pop_range(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    end: End,
    count: usize,
    with_key: bool,
) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let Some(list) = write_list(ctx.db.shard(key), key, now)? else {
        return Ok(());
    };
    let n = count.min(list.len());
    if with_key {
        ctx.reply.array(2);
        ctx.reply.bulk(key);
    }
    ctx.reply.array(n);
    for _ in 0..n {
        if let Some(v) = list.pop(end) {
            ctx.reply.bulk(&v);
        }
    }
    let emptied = list.is_empty();
    if emptied {
        ctx.db.shard(key).remove(key);
    }
    popped(ctx, key, end, n, emptied);
    if with_key {
        // LMPOP and BLMPOP reach replicas as the pop they made.
        propagate_pop(ctx, key, end, Some(n));
    }
    Ok(())
}

/// Propagates a pop as `LPOP|RPOP key [count]`, also when it serves a blocked client (which
/// counts no change of its own).
fn propagate_pop(ctx: &mut CommandContext<'_>, key: &[u8], end: End, count: Option<usize>) {
    let name: &[u8] = match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    };
    match count {
        Some(n) => ctx.propagate_as(&[name, key, n.to_string().as_bytes()]),
        None => ctx.propagate_as(&[name, key]),
    }
    if ctx.client.serving_blocked {
        ctx.force_propagation(Targets::ALL);
    }
}

/// Propagates a BLMOVE or BRPOPLPUSH that moved an element as LMOVE or RPOPLPUSH.
fn propagate_move(ctx: &mut CommandContext<'_>, src: &[u8], dst: &[u8], from: End, to: End) {
    let serving = ctx.client.serving_blocked;
    if ctx.command.spec.name == "brpoplpush" {
        ctx.propagate_as(&[b"RPOPLPUSH", src, dst]);
    } else if serving {
        // Served later, the directions are spelled as Redis spells them.
        let word = |end| -> &'static [u8] {
            match end {
                End::Head => b"left",
                End::Tail => b"right",
            }
        };
        ctx.propagate_as(&[b"LMOVE", src, dst, word(from), word(to)]);
    } else {
        let (a, b) = (ctx.args.get(3), ctx.args.get(4));
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        ctx.propagate_as(&[b"LMOVE", src, dst, a, b]);
    }
    if serving {
        ctx.force_propagation(Targets::ALL);
    }
}

fn pop(ctx: &mut CommandContext<'_>, end: End) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    if ctx.args.remaining() > 1 {
        return Err(CommandError::WrongArity(
            ctx.command.full_name.to_ascii_lowercase(),
        ));
    }
    let count = match ctx.args.next_opt() {
        Some(arg) => Some(positive(arg, "value is out of range, must be positive")?),
        None => None,
    };
    let now = ctx.now_ms;
    let Some(list) = write_list(ctx.db.shard(key), key, now)? else {
        match count {
            Some(_) => ctx.reply.null_array(),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => ctx.reply.empty_array(),
        Some(n) => pop_range(ctx, key, end, n, false)?,
        None => {
            if let Some(v) = list.pop(end) {
                ctx.reply.bulk(&v);
            }
            let emptied = list.is_empty();
            if emptied {
                ctx.db.shard(key).remove(key);
            }
            popped(ctx, key, end, 1, emptied);
        }
    }
    Ok(())
}

fn lpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    pop(ctx, End::Head)
}

fn rpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    pop(ctx, End::Tail)
}

/// A non-negative integer argument; `msg` (as `ERR msg`) when it is not one.
fn positive(arg: &[u8], msg: &str) -> Result<usize, CommandError> {
    common::number::parse_i64(arg)
        .filter(|n| *n >= 0)
        .map(|n| n as usize)
        .ok_or_else(|| CommandError::err(msg))
}

/// An integer in `1..` ; `msg` otherwise.
fn at_least_one(arg: &[u8], msg: &str) -> Result<usize, CommandError> {
    positive(arg, msg)?
        .checked_sub(1)
        .map(|n| n + 1)
        .ok_or_else(|| CommandError::err(msg))
}

fn llen(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let len = read_list(ctx.db.shard(key), key, now)?.map_or(0, ListValue::len);
    ctx.reply.integer(len as i64);
    Ok(())
}

fn lindex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let Some(list) = read_list(ctx.db.shard(key), key, now)? else {
        ctx.reply.null();
        return Ok(());
    };
    let index = ctx.args.next_i64()?;
    match list.index(index) {
        Some(v) => ctx.reply.bulk(&v),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn linsert(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let where_ = ctx.args.next_bytes()?;
    let after = if is(where_, "after") {
        true
    } else if is(where_, "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let pivot = ctx.args.next_bytes()?;
    let value = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let Some(list) = write_list(ctx.db.shard(key), key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    if list.insert(pivot, value, after) {
        ctx.reply.integer(list.len() as i64);
        ctx.wrote(Event::List, "linsert", key);
    } else {
        ctx.reply.integer(-1);
    }
    Ok(())
}

fn lrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let start = ctx.args.next_i64()?;
    let end = ctx.args.next_i64()?;
    let now = ctx.now_ms;
    let Some(list) = read_list(ctx.db.shard(key), key, now)? else {
        ctx.reply.empty_array();
        return Ok(());
    };
    match list.range_bounds(start, end) {
        None => ctx.reply.empty_array(),
        Some((s, e)) => {
            let reply = &mut *ctx.reply;
            reply.array(e - s + 1);
            list.for_range(s, e - s + 1, false, |v| reply_value(reply, v));
        }
    }
    Ok(())
}

fn lrem(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let count = ctx.args.next_i64()?;
    let value = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let Some(list) = write_list(ctx.db.shard(key), key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let removed = list.remove(value, count);
    let emptied = list.is_empty();
    if emptied {
        ctx.db.shard(key).remove(key);
    }
    if removed > 0 {
        ctx.dirty(removed as u64);
        ctx.modified(key);
        ctx.notify(Event::List, "lrem", key);
    }
    if emptied {
        ctx.notify(Event::Generic, "del", key);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

fn lset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let Some(list) = write_list(ctx.db.shard(key), key, now)? else {
        return Err(CommandError::NoSuchKey);
    };
    let index = ctx.args.next_i64()?;
    let value = ctx.args.next_bytes()?;
    if !list.set(index, value) {
        return Err(CommandError::err("index out of range"));
    }
    ctx.wrote(Event::List, "lset", key);
    ctx.reply.ok();
    Ok(())
}

fn ltrim(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let start = ctx.args.next_i64()?;
    let end = ctx.args.next_i64()?;
    let now = ctx.now_ms;
    if let Some(list) = write_list(ctx.db.shard(key), key, now)? {
        let before = list.len();
        list.trim(start, end);
        let trimmed = before - list.len();
        let emptied = list.is_empty();
        if emptied {
            ctx.db.shard(key).remove(key);
        }
        // Redis reports a trim even when it removed nothing (it then counts no change).
        ctx.notify(Event::List, "ltrim", key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.modified(key);
        ctx.dirty(trimmed as u64);
    }
    ctx.reply.ok();
    Ok(())
}

fn lpos(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let element = ctx.args.next_bytes()?;
    let mut query = PosQuery {
        rank: 1,
        count: 1,
        maxlen: 0,
    };
    let mut with_count = false;
    while let Some(opt) = ctx.args.next_opt() {
        let value = ctx.args.peek();
        match value {
            Some(v) if is(opt, "rank") => {
                ctx.args.next_opt();
                let rank = common::number::parse_i64(v).ok_or(CommandError::NotInteger)?;
                if rank == 0 {
                    return Err(CommandError::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
                query.rank = rank;
            }
            Some(v) if is(opt, "count") => {
                ctx.args.next_opt();
                query.count = positive(v, "COUNT can't be negative")?;
                with_count = true;
            }
            Some(v) if is(opt, "maxlen") => {
                ctx.args.next_opt();
                query.maxlen = positive(v, "MAXLEN can't be negative")?;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    if !with_count {
        query.count = 1;
    }
    let now = ctx.now_ms;
    let Some(list) = read_list(ctx.db.shard(key), key, now)? else {
        if with_count {
            ctx.reply.empty_array();
        } else {
            ctx.reply.null();
        }
        return Ok(());
    };
    let found = list.positions(element, query);
    if with_count {
        ctx.reply.array(found.len());
        for i in found {
            ctx.reply.integer(i as i64);
        }
    } else {
        match found.first() {
            Some(&i) => ctx.reply.integer(i as i64),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// `LEFT` or `RIGHT`.
fn parse_end(arg: &[u8]) -> Result<End, CommandError> {
    if is(arg, "left") {
        Ok(End::Head)
    } else if is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(CommandError::Syntax)
    }
}

/// Moves one element from `from` of `src` to `to` of `dst`; `None` when `src` is absent.
fn move_element(
    ctx: &mut CommandContext<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, CommandError> {
    let now = ctx.now_ms;
    let serving = ctx.client.serving_blocked;
    if crate::blocking::waited(write_list(ctx.db.shard(src), src, now), serving)?.is_none() {
        return Ok(None);
    }
    // The destination's type is checked before anything moves.
    write_list(ctx.db.shard(dst), dst, now)?;
    let Some(list) = write_list(ctx.db.shard(src), src, now)? else {
        return Ok(None);
    };
    let Some(value) = list.pop(from) else {
        return Ok(None);
    };
    let mut emptied = false;
    if src == dst {
        list.push(to, &value);
        ctx.signal_ready(dst);
    } else {
        emptied = list.is_empty();
        if emptied {
            ctx.db.shard(src).remove(src);
        }
        push_values(
            ctx,
            dst,
            to,
            std::iter::once(value.as_slice()),
            IfMissing::Create,
        )?;
    }
    // Redis reports the push before the pop.
    ctx.modified(dst);
    ctx.notify(Event::List, push_event(to), dst);
    ctx.notify(Event::List, pop_event(from), src);
    if emptied {
        ctx.notify(Event::Generic, "del", src);
    }
    // Serving a blocked BLMOVE, Redis counts no change and leaves the source's WATCHers be
    // (the push that woke it did both).
    if !ctx.client.serving_blocked {
        ctx.modified(src);
        ctx.dirty(1);
    }
    Ok(Some(value))
}

fn lmove(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let from = parse_end(ctx.args.next_bytes()?)?;
    let to = parse_end(ctx.args.next_bytes()?)?;
    match move_element(ctx, src, dst, from, to)? {
        Some(v) => ctx.reply.bulk(&v),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn rpoplpush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    match move_element(ctx, src, dst, End::Tail, End::Head)? {
        Some(v) => ctx.reply.bulk(&v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// LMPOP/BLMPOP's `numkeys key... LEFT|RIGHT [COUNT n]`.
fn parse_mpop<'a>(
    ctx: &mut CommandContext<'a>,
) -> Result<(Vec<&'a [u8]>, End, usize), CommandError> {
    let numkeys = at_least_one(ctx.args.next_bytes()?, "numkeys should be greater than 0")?;
    if numkeys >= ctx.args.remaining() {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<&[u8]> = (0..numkeys).filter_map(|_| ctx.args.next_opt()).collect();
    let end = parse_end(ctx.args.next_bytes()?)?;
    let mut count = None;
    while let Some(opt) = ctx.args.next_opt() {
        match ctx.args.peek() {
            Some(v) if count.is_none() && is(opt, "count") => {
                ctx.args.next_opt();
                count = Some(at_least_one(v, "count should be greater than 0")?);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok((keys, end, count.unwrap_or(1)))
}

/// Pops from the first non-empty list of `keys`, replying `[key, [elements]]`; false when
/// every list is absent.
fn mpop_first(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<bool, CommandError> {
    let now = ctx.now_ms;
    let serving = ctx.client.serving_blocked;
    for &key in keys {
        let list = crate::blocking::waited(write_list(ctx.db.shard(key), key, now), serving)?;
        if list.is_some_and(|l| !l.is_empty()) {
            pop_range(ctx, key, end, count, true)?;
            return Ok(true);
        }
    }
    Ok(false)
}

fn lmpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let (keys, end, count) = parse_mpop(ctx)?;
    if !mpop_first(ctx, &keys, end, count)? {
        ctx.reply.null_array();
    }
    Ok(())
}

fn block_on(ctx: &mut CommandContext<'_>, keys: &[&[u8]], deadline: Option<Instant>, bulk: bool) {
    let reply = timeout_reply(ctx.reply.protocol(), bulk);
    ctx.block(
        keys.iter().map(|k| Box::from(*k)).collect(),
        deadline,
        reply,
    );
}

fn bpop(ctx: &mut CommandContext<'_>, end: End) -> Result<(), CommandError> {
    let argc = ctx.args.argc();
    let keys: Vec<&[u8]> = (1..argc - 1).filter_map(|i| ctx.args.get(i)).collect();
    let timeout = ctx.args.get(argc - 1).unwrap_or_default();
    let deadline = parse_timeout(timeout, Instant::now())?;
    let now = ctx.now_ms;
    let serving = ctx.client.serving_blocked;
    for &key in &keys {
        let Some(list) = crate::blocking::waited(write_list(ctx.db.shard(key), key, now), serving)?
        else {
            continue;
        };
        let Some(v) = list.pop(end) else {
            continue;
        };
        let emptied = list.is_empty();
        if emptied {
            ctx.db.shard(key).remove(key);
        }
        if ctx.client.serving_blocked {
            // Redis counts no change and signals no WATCHers when serving a blocked BLPOP:
            // the push that woke it did both.
            ctx.notify(Event::List, pop_event(end), key);
            if emptied {
                ctx.notify(Event::Generic, "del", key);
            }
        } else {
            popped(ctx, key, end, 1, emptied);
        }
        propagate_pop(ctx, key, end, None);
        ctx.reply.array(2);
        ctx.reply.bulk(key);
        ctx.reply.bulk(&v);
        return Ok(());
    }
    block_on(ctx, &keys, deadline, false);
    Ok(())
}

fn blpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bpop(ctx, End::Head)
}

fn brpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bpop(ctx, End::Tail)
}

fn bmove(
    ctx: &mut CommandContext<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    deadline: Option<Instant>,
) -> Result<(), CommandError> {
    match move_element(ctx, src, dst, from, to)? {
        Some(v) => {
            propagate_move(ctx, src, dst, from, to);
            ctx.reply.bulk(&v);
        }
        None => block_on(ctx, &[src], deadline, true),
    }
    Ok(())
}

fn blmove(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let from = parse_end(ctx.args.next_bytes()?)?;
    let to = parse_end(ctx.args.next_bytes()?)?;
    let deadline = parse_timeout(ctx.args.next_bytes()?, Instant::now())?;
    bmove(ctx, src, dst, from, to, deadline)
}

fn brpoplpush(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let deadline = parse_timeout(ctx.args.next_bytes()?, Instant::now())?;
    bmove(ctx, src, dst, End::Tail, End::Head, deadline)
}

fn blmpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let timeout = ctx.args.next_bytes()?;
    let (keys, end, count) = parse_mpop(ctx)?;
    let deadline = parse_timeout(timeout, Instant::now())?;
    if !mpop_first(ctx, &keys, end, count)? {
        block_on(ctx, &keys, deadline, false);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn push_pop_len_range() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
        assert_eq!(c.text(&["LPUSH", "l", "z"]), ":4\r\n");
        assert_eq!(c.text(&["LLEN", "l"]), ":4\r\n");
        assert_eq!(
            c.text(&["LRANGE", "l", "0", "-1"]),
            "*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(c.text(&["LRANGE", "l", "5", "10"]), "*0\r\n");
        assert_eq!(c.text(&["LRANGE", "nokey", "0", "-1"]), "*0\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
        assert_eq!(c.text(&["TYPE", "l"]), "+list\r\n");
        assert_eq!(c.text(&["LPOP", "l"]), "$1\r\nz\r\n");
        assert_eq!(c.text(&["RPOP", "l", "2"]), "*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
        assert_eq!(c.text(&["LPOP", "l", "0"]), "*0\r\n");
        assert_eq!(c.text(&["LPOP", "l", "5"]), "*1\r\n$1\r\na\r\n");
        assert_eq!(c.text(&["EXISTS", "l"]), ":0\r\n");
        assert_eq!(c.text(&["LPOP", "l"]), "$-1\r\n");
        assert_eq!(c.text(&["LPOP", "l", "0"]), "*-1\r\n");
        assert_eq!(
            c.text(&["LPOP", "l", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(
            c.text(&["LPOP", "l", "1", "2"]),
            "-ERR wrong number of arguments for 'lpop' command\r\n"
        );
        assert_eq!(c.text(&["LPUSHX", "l", "a"]), ":0\r\n");
        assert_eq!(c.text(&["SET", "s", "x"]), "+OK\r\n");
        assert_eq!(
            c.text(&["LPUSH", "s", "a"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(
            c.text(&["LLEN", "s"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
    }

    #[test]
    fn index_set_insert_rem_trim() {
        let mut c = TestClient::new();
        c.text(&["RPUSH", "l", "a", "b", "c", "b", "1"]);
        assert_eq!(c.text(&["LINDEX", "l", "-1"]), "$1\r\n1\r\n");
        assert_eq!(c.text(&["LINDEX", "l", "9"]), "$-1\r\n");
        assert_eq!(
            c.text(&["LINDEX", "l", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["LSET", "l", "0", "A"]), "+OK\r\n");
        assert_eq!(
            c.text(&["LSET", "l", "9", "A"]),
            "-ERR index out of range\r\n"
        );
        assert_eq!(c.text(&["LSET", "x", "0", "A"]), "-ERR no such key\r\n");
        assert_eq!(c.text(&["LINSERT", "l", "BEFORE", "c", "x"]), ":6\r\n");
        assert_eq!(c.text(&["LINSERT", "l", "after", "zz", "x"]), ":-1\r\n");
        assert_eq!(c.text(&["LINSERT", "nokey", "after", "zz", "x"]), ":0\r\n");
        assert_eq!(
            c.text(&["LINSERT", "l", "middle", "zz", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(c.text(&["LREM", "l", "0", "b"]), ":2\r\n");
        assert_eq!(
            c.text(&["LRANGE", "l", "0", "-1"]),
            "*4\r\n$1\r\nA\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\n1\r\n"
        );
        assert_eq!(c.text(&["LTRIM", "l", "1", "-2"]), "+OK\r\n");
        assert_eq!(
            c.text(&["LRANGE", "l", "0", "-1"]),
            "*2\r\n$1\r\nx\r\n$1\r\nc\r\n"
        );
        assert_eq!(c.text(&["LTRIM", "l", "5", "1"]), "+OK\r\n");
        assert_eq!(c.text(&["EXISTS", "l"]), ":0\r\n");
    }

    #[test]
    fn lpos_options_and_errors() {
        let mut c = TestClient::new();
        c.text(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(c.text(&["LPOS", "l", "c"]), ":2\r\n");
        assert_eq!(c.text(&["LPOS", "l", "c", "RANK", "-1"]), ":7\r\n");
        assert_eq!(
            c.text(&["LPOS", "l", "c", "COUNT", "0"]),
            "*3\r\n:2\r\n:6\r\n:7\r\n"
        );
        assert_eq!(
            c.text(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "1"]),
            "*0\r\n"
        );
        assert_eq!(c.text(&["LPOS", "l", "x"]), "$-1\r\n");
        assert_eq!(c.text(&["LPOS", "nokey", "x", "COUNT", "1"]), "*0\r\n");
        assert_eq!(
            c.text(&["LPOS", "l", "c", "RANK", "0"]),
            "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
        );
        assert_eq!(
            c.text(&["LPOS", "l", "c", "COUNT", "-1"]),
            "-ERR COUNT can't be negative\r\n"
        );
        assert_eq!(
            c.text(&["LPOS", "l", "c", "MAXLEN", "-1"]),
            "-ERR MAXLEN can't be negative\r\n"
        );
        assert_eq!(c.text(&["LPOS", "l", "c", "RANK"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn list_writes_report_their_effects() {
        let mut c = TestClient::new();
        c.assert_effects(&["RPUSH", "l", "a", "b", "c"], &["l:rpush:l"], 3);
        c.assert_effects(&["LPUSHX", "nol", "a"], &[], 0);
        c.assert_effects(
            &["LMOVE", "l", "l", "LEFT", "RIGHT"],
            &["l:rpush:l", "l:lpop:l"],
            1,
        );
        c.assert_effects(
            &["LMOVE", "l", "d", "RIGHT", "LEFT"],
            &["l:lpush:d", "l:rpop:l"],
            1,
        );
        c.assert_effects(&["RPOPLPUSH", "l", "d"], &["l:lpush:d", "l:rpop:l"], 1);
        c.assert_effects(
            &["RPOPLPUSH", "l", "d"],
            &["l:lpush:d", "l:rpop:l", "g:del:l"],
            1,
        );
        c.assert_effects(&["LMOVE", "nol", "d", "LEFT", "LEFT"], &[], 0);
        c.assert_effects(&["LINSERT", "d", "BEFORE", "zz", "x"], &[], 0);
        c.assert_effects(&["LINSERT", "d", "BEFORE", "b", "x"], &["l:linsert:d"], 1);
        c.assert_effects(&["LSET", "d", "0", "y"], &["l:lset:d"], 1);
        c.assert_effects(&["LREM", "d", "0", "nomatch"], &[], 0);
        // LTRIM reports itself even when it trims nothing.
        c.assert_effects(&["LTRIM", "d", "0", "-1"], &["l:ltrim:d"], 0);
        c.assert_effects(&["LTRIM", "d", "1", "0"], &["l:ltrim:d", "g:del:d"], 4);
        c.assert_effects(&["LTRIM", "nol", "0", "1"], &[], 0);
        c.run(&["RPUSH", "l", "a", "b", "c"]);
        c.assert_effects(&["LPOP", "l", "0"], &[], 0);
        c.assert_effects(&["LPOP", "l"], &["l:lpop:l"], 1);
        c.assert_effects(&["RPOP", "l", "5"], &["l:rpop:l", "g:del:l"], 2);
        c.assert_effects(&["LMPOP", "2", "nol", "l", "LEFT"], &[], 0);
        c.run(&["RPUSH", "l", "a", "b", "a"]);
        c.assert_effects(
            &["LMPOP", "1", "l", "RIGHT", "COUNT", "2"],
            &["l:rpop:l"],
            2,
        );
        c.assert_effects(&["LREM", "l", "0", "a"], &["l:lrem:l", "g:del:l"], 1);
        c.run(&["RPUSH", "l", "a"]);
        c.assert_effects(&["BLPOP", "l", "0"], &["l:lpop:l", "g:del:l"], 1);
    }

    #[test]
    fn served_blocking_pops_report_as_redis_does() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let mut m = TestClient::connect(&a.server);
        let mut p = TestClient::connect(&a.server);
        a.run(&["BLPOP", "bl", "0"]);
        b.run(&["BLMOVE", "bm", "dst", "RIGHT", "LEFT", "0"]);
        m.run(&["BLMPOP", "0", "1", "bp", "LEFT", "COUNT", "5"]);
        // Serving BLPOP and BLMOVE counts no change of its own; serving BLMPOP does.
        p.assert_effects(
            &["LPUSH", "bl", "a"],
            &["l:lpush:bl", "l:lpop:bl", "g:del:bl"],
            1,
        );
        p.assert_effects(
            &["RPUSH", "bm", "a", "b"],
            &["l:rpush:bm", "l:lpush:dst", "l:rpop:bm"],
            2,
        );
        p.assert_effects(
            &["RPUSH", "bp", "a", "b"],
            &["l:rpush:bp", "l:lpop:bp", "g:del:bp"],
            4,
        );
        assert!(a.served().is_some() && b.served().is_some() && m.served().is_some());
    }

    #[test]
    fn lmove_rpoplpush_lmpop() {
        let mut c = TestClient::new();
        c.text(&["RPUSH", "a", "1", "2", "3"]);
        assert_eq!(c.text(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), "$1\r\n1\r\n");
        assert_eq!(c.text(&["RPOPLPUSH", "a", "b"]), "$1\r\n3\r\n");
        assert_eq!(
            c.text(&["LRANGE", "b", "0", "-1"]),
            "*2\r\n$1\r\n3\r\n$1\r\n1\r\n"
        );
        assert_eq!(c.text(&["RPOPLPUSH", "a", "a"]), "$1\r\n2\r\n");
        assert_eq!(c.text(&["LMOVE", "none", "b", "LEFT", "RIGHT"]), "$-1\r\n");
        assert_eq!(
            c.text(&["LMOVE", "a", "b", "UP", "RIGHT"]),
            "-ERR syntax error\r\n"
        );
        c.text(&["SET", "s", "x"]);
        assert_eq!(
            c.text(&["LMOVE", "a", "s", "LEFT", "RIGHT"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(c.text(&["LLEN", "a"]), ":1\r\n");
        assert_eq!(
            c.text(&["LMPOP", "2", "none", "b", "RIGHT", "COUNT", "5"]),
            "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n1\r\n$1\r\n3\r\n"
        );
        assert_eq!(c.text(&["LMPOP", "1", "none", "LEFT"]), "*-1\r\n");
        assert_eq!(
            c.text(&["LMPOP", "0", "a", "LEFT"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            c.text(&["LMPOP", "1", "a", "LEFT", "COUNT", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(
            c.text(&["LMPOP", "5", "a", "LEFT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn blocking_pops_are_served_in_arrival_order() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let mut p = TestClient::connect(&a.server);
        assert_eq!(a.text(&["BLPOP", "k1", "k2", "0"]), "(blocked)");
        assert_eq!(b.text(&["BRPOP", "k2", "0"]), "(blocked)");
        assert_eq!(p.text(&["RPUSH", "k2", "x", "y"]), ":2\r\n");
        assert_eq!(a.served().unwrap(), "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n");
        assert_eq!(b.served().unwrap(), "*2\r\n$2\r\nk2\r\n$1\r\ny\r\n");
        assert_eq!(p.text(&["EXISTS", "k2"]), ":0\r\n");
        p.text(&["RPUSH", "k3", "v"]);
        assert_eq!(
            p.text(&["BLPOP", "k3", "0"]),
            "*2\r\n$2\r\nk3\r\n$1\r\nv\r\n"
        );
        assert_eq!(
            p.text(&["BLPOP", "k3", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            p.text(&["BLPOP", "k3", "x"]),
            "-ERR timeout is not a float or out of range\r\n"
        );
    }

    #[test]
    fn blmove_wakes_waiters_of_its_destination() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let mut p = TestClient::connect(&a.server);
        assert_eq!(
            a.text(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]),
            "(blocked)"
        );
        assert_eq!(
            b.text(&["BLMPOP", "0", "1", "dst", "LEFT", "COUNT", "2"]),
            "(blocked)"
        );
        assert_eq!(p.text(&["LPUSH", "src", "v"]), ":1\r\n");
        assert_eq!(a.served().unwrap(), "$1\r\nv\r\n");
        assert_eq!(b.served().unwrap(), "*2\r\n$3\r\ndst\r\n*1\r\n$1\r\nv\r\n");
        assert_eq!(p.text(&["EXISTS", "src", "dst"]), ":0\r\n");
    }

    #[test]
    fn a_waited_key_that_turns_into_another_type_keeps_the_client_blocked() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        assert_eq!(a.text(&["BLPOP", "list", "0"]), "(blocked)");
        b.run(&["MULTI"]);
        b.run(&["LPUSH", "list", "a"]);
        b.run(&["DEL", "list"]);
        b.run(&["SET", "list", "foo"]);
        b.run(&["EXEC"]);
        assert_eq!(a.served(), None);
        b.run(&["DEL", "list"]);
        b.run(&["LPUSH", "list", "b"]);
        assert_eq!(
            a.served().as_deref(),
            Some("*2\r\n$4\r\nlist\r\n$1\r\nb\r\n")
        );
    }
}
