//! ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms BZPOPMIN, BZPOPMAX, BZMPOP.

use crate::blocking::{parse_timeout, timeout_reply};
use crate::effects::Event;
use std::time::Instant;

use common::resp::Protocol;
use common::value::Value;

use super::super::args::is;
use super::{CommandContext, CommandError, Registry, delete_if_empty};

pub(super) fn register(r: &mut Registry) {
    r.add("zpopmin", zpopmin);
    r.add("zpopmax", zpopmax);
    r.add("zmpop", zmpop);
    r.add("bzpopmin", bzpopmin);
    r.add("bzpopmax", bzpopmax);
    r.add("bzmpop", bzmpop);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Min,
    Max,
}

/// How a pop replies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// ZPOPMIN/ZPOPMAX: flat `member score ...`, or pairs in RESP3 when a count was given.
    Plain { nested: bool },
    /// BZPOPMIN/BZPOPMAX: flat `key member score`.
    WithKey,
    /// ZMPOP/BZMPOP: `key [[member score] ...]`.
    KeyAndPairs,
}

fn zpopmin(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    zpop(ctx, End::Min)
}

fn zpopmax(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    zpop(ctx, End::Max)
}

fn zpop(ctx: &mut CommandContext<'_>, end: End) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let count = match ctx.args.next_opt() {
        None => None,
        Some(arg) => {
            if !ctx.args.is_empty() {
                return Err(CommandError::Syntax);
            }
            let n = common::number::parse_i64(arg).ok_or(CommandError::NotInteger)?;
            if n < 0 {
                return Err(CommandError::err("value is out of range, must be positive"));
            }
            Some(n as u64)
        }
    };
    let nested = count.is_some() && ctx.reply.protocol() == Protocol::Resp3;
    if pop_first(ctx, &[key], end, count, Shape::Plain { nested })? {
        return Ok(());
    }
    ctx.reply.array(0);
    Ok(())
}

/// Pops from the first of `keys` holding a sorted set and replies; false (nothing replied)
/// when none does. WRONGTYPE stops the search at the first key of another type.
fn pop_first(
    ctx: &mut CommandContext<'_>,
    keys: &[&[u8]],
    end: End,
    count: Option<u64>,
    shape: Shape,
) -> Result<bool, CommandError> {
    let now = ctx.now_ms;
    for &key in keys {
        let popped = match ctx.db.shard(key).get_mut(key, now) {
            None => continue,
            Some(e) => match e.value_mut() {
                Value::ZSet(z) => {
                    if count == Some(0) {
                        ctx.reply.array(0);
                        return Ok(true);
                    }
                    let n = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
                    z.pop(n, end == End::Max)
                }
                // A waiter being served skips a key that no longer holds a sorted set.
                _ if ctx.client.serving_blocked => continue,
                _ => return Err(CommandError::WrongType),
            },
        };
        let emptied = delete_if_empty(&mut ctx.db, key, now);
        // Served or not, a blocked pop counts as the plain pop does.
        if !popped.is_empty() {
            ctx.dirty(popped.len() as u64);
            let event = match end {
                End::Min => "zpopmin",
                End::Max => "zpopmax",
            };
            ctx.notify(Event::ZSet, event, key);
            ctx.modified(key);
        }
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        // ZMPOP and the blocking pops reach replicas as the plain pop they made.
        let name = ctx.command.spec.name;
        if name != "zpopmin" && name != "zpopmax" {
            let plain: &[u8] = match end {
                End::Min => b"ZPOPMIN",
                End::Max => b"ZPOPMAX",
            };
            match count {
                None => ctx.propagate_as(&[plain, key]),
                Some(_) => ctx.propagate_as(&[plain, key, popped.len().to_string().as_bytes()]),
            }
        }
        let reply = &mut *ctx.reply;
        match shape {
            Shape::Plain { nested: false } => reply.array(popped.len() * 2),
            Shape::Plain { nested: true } => reply.array(popped.len()),
            Shape::WithKey => {
                reply.array(popped.len() * 2 + 1);
                reply.bulk(key);
            }
            Shape::KeyAndPairs => {
                reply.array(2);
                reply.bulk(key);
                reply.array(popped.len());
            }
        }
        let nested = matches!(shape, Shape::Plain { nested: true } | Shape::KeyAndPairs);
        for (m, s) in &popped {
            if nested {
                reply.array(2);
            }
            reply.bulk(m);
            reply.double(*s);
        }
        return Ok(true);
    }
    Ok(false)
}

/// ZMPOP's and BZMPOP's tail: `numkeys key ... MIN|MAX [COUNT count]`.
fn parse_mpop<'a>(ctx: &mut CommandContext<'a>) -> Result<(Vec<&'a [u8]>, End, u64), CommandError> {
    let numkeys = ctx.args.next_i64();
    let numkeys = match numkeys {
        Ok(n) if n >= 1 => n as u64,
        Ok(_) | Err(CommandError::NotInteger) => {
            return Err(CommandError::err("numkeys should be greater than 0"));
        }
        Err(e) => return Err(e),
    };
    if numkeys >= ctx.args.remaining() as u64 {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<&[u8]> = (0..numkeys)
        .map(|_| ctx.args.next_key())
        .collect::<Result<_, _>>()?;
    let where_ = ctx.args.next_bytes()?;
    let end = if is(where_, "min") {
        End::Min
    } else if is(where_, "max") {
        End::Max
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count: Option<u64> = None;
    while let Some(arg) = ctx.args.next_opt() {
        if count.is_none() && is(arg, "count") && !ctx.args.is_empty() {
            match ctx.args.next_i64() {
                Ok(n) if n >= 1 => count = Some(n as u64),
                _ => return Err(CommandError::err("count should be greater than 0")),
            }
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((keys, end, count.unwrap_or(1)))
}

fn zmpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let (keys, end, count) = parse_mpop(ctx)?;
    if !pop_first(ctx, &keys, end, Some(count), Shape::KeyAndPairs)? {
        ctx.reply.null_array();
    }
    Ok(())
}

fn bzpopmin(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bzpop(ctx, End::Min)
}

fn bzpopmax(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    bzpop(ctx, End::Max)
}

fn bzpop(ctx: &mut CommandContext<'_>, end: End) -> Result<(), CommandError> {
    let argc = ctx.args.argc();
    let timeout = ctx.args.get(argc - 1).ok_or(CommandError::Syntax)?;
    let deadline = parse_timeout(timeout, Instant::now())?;
    let keys: Vec<&[u8]> = (1..argc - 1).filter_map(|i| ctx.args.get(i)).collect();
    if !pop_first(ctx, &keys, end, None, Shape::WithKey)? {
        block(ctx, &keys, deadline);
    }
    Ok(())
}

fn bzmpop(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let timeout = ctx.args.next_bytes()?;
    let (keys, end, count) = parse_mpop(ctx)?;
    let deadline = parse_timeout(timeout, Instant::now())?;
    if !pop_first(ctx, &keys, end, Some(count), Shape::KeyAndPairs)? {
        block(ctx, &keys, deadline);
    }
    Ok(())
}

fn block(ctx: &mut CommandContext<'_>, keys: &[&[u8]], deadline: Option<Instant>) {
    let reply = timeout_reply(ctx.reply.protocol(), false);
    ctx.block(
        keys.iter().map(|k| Box::from(*k)).collect(),
        deadline,
        reply,
    );
}
