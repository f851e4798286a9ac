//! ZRANGE in all its forms (ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
//! ZREVRANGEBYLEX, ZRANGESTORE), ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/BYSCORE/BYLEX.

use common::number::parse_strtod;
use common::value::sorted_set::{LexBound, LexRange, ScoreRange, ZSetValue};

use super::super::args::is;
use super::{
    CommandContext, CommandError, Registry, delete_if_empty, limits, read, reply_member,
    reply_members_len, store_value, write,
};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("zrange", zrange);
    r.add("zrangestore", zrangestore);
    r.add("zrevrange", zrevrange);
    r.add("zrangebyscore", zrangebyscore);
    r.add("zrevrangebyscore", zrevrangebyscore);
    r.add("zrangebylex", zrangebylex);
    r.add("zrevrangebylex", zrevrangebylex);
    r.add("zcount", zcount);
    r.add("zlexcount", zlexcount);
    r.add("zremrangebyrank", zremrangebyrank);
    r.add("zremrangebyscore", zremrangebyscore);
    r.add("zremrangebylex", zremrangebylex);
}

/// What the range arguments mean.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    /// Not fixed by the command name: ZRANGE picks with BYSCORE / BYLEX, else ranks.
    Auto,
    Rank,
    Score,
    Lex,
}

/// Whether the command name fixes the direction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// Where the result goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target<'a> {
    Client,
    Store(&'a [u8]),
}

/// A parsed range.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// One bound of a score range: `(` for exclusive, then what `strtod` reads.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, text) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let v = parse_strtod(text)?;
    (!v.is_nan()).then_some((v, exclusive))
}

pub(super) fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
    let err = || CommandError::err("min or max is not a float");
    let (min, min_exclusive) = parse_score_bound(min).ok_or_else(err)?;
    let (max, max_exclusive) = parse_score_bound(max).ok_or_else(err)?;
    Ok(ScoreRange {
        min,
        max,
        min_exclusive,
        max_exclusive,
    })
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::PosInf),
        b'-' if arg.len() == 1 => Some(LexBound::NegInf),
        b'(' => Some(LexBound::Exclusive(arg[1..].to_vec())),
        b'[' => Some(LexBound::Inclusive(arg[1..].to_vec())),
        _ => None,
    }
}

pub(super) fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CommandError> {
    let err = || CommandError::err("min or max not valid string range item");
    Ok(LexRange {
        min: parse_lex_bound(min).ok_or_else(err)?,
        max: parse_lex_bound(max).ok_or_else(err)?,
    })
}

/// Ascending rank interval of ZRANGE-style `start`/`stop` (negative from the end).
fn rank_interval(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn zrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Auto, Direction::Auto)
}

fn zrangestore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    range(ctx, Target::Store(dst), By::Auto, Direction::Auto)
}

fn zrevrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Rank, Direction::Reverse)
}

fn zrangebyscore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Score, Direction::Forward)
}

fn zrevrangebyscore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Score, Direction::Reverse)
}

fn zrangebylex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Lex, Direction::Forward)
}

fn zrevrangebylex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, Target::Client, By::Lex, Direction::Reverse)
}

/// The shared ZRANGE machinery: options, then the range, then the key.
fn range(
    ctx: &mut CommandContext<'_>,
    target: Target<'_>,
    mut by: By,
    mut direction: Direction,
) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut min = ctx.args.next_bytes()?;
    let mut max = ctx.args.next_bytes()?;
    let store = matches!(target, Target::Store(_));
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    while let Some(arg) = ctx.args.next_opt() {
        if !store && is(arg, "withscores") {
            withscores = true;
        } else if is(arg, "limit") && ctx.args.remaining() >= 2 {
            offset = ctx.args.next_i64()?;
            limit = ctx.args.next_i64()?;
        } else if direction == Direction::Auto && is(arg, "rev") {
            direction = Direction::Reverse;
        } else if by == By::Auto && is(arg, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(arg, "byscore") {
            by = By::Score;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let reverse = direction == Direction::Reverse;
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if reverse && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let range = match by {
        By::Score => Range::Score(parse_score_range(min, max)?),
        By::Lex => Range::Lex(parse_lex_range(min, max)?),
        By::Rank | By::Auto => {
            let parse = |a: &[u8]| common::number::parse_i64(a).ok_or(CommandError::NotInteger);
            Range::Rank(parse(min)?, parse(max)?)
        }
    };
    let now = ctx.now_ms;
    let Some(z) = read(&mut ctx.db, key, now)? else {
        match target {
            Target::Client => ctx.reply.array(0),
            Target::Store(dst) => store_result(ctx, dst, None),
        }
        return Ok(());
    };
    // The selected ascending ranks, then the walk over them: `skip` from the start of the
    // walk, at most `take`.
    let len = z.len();
    let (interval, skip, take) = match &range {
        Range::Rank(start, end) => {
            // REV counts ranks from the top.
            let interval = rank_interval(*start, *end, len).map(|(lo, hi)| {
                if reverse {
                    (len - 1 - hi, len - 1 - lo)
                } else {
                    (lo, hi)
                }
            });
            (interval, 0, usize::MAX)
        }
        // Redis gives up at once when the offset is past the whole set.
        Range::Score(_) | Range::Lex(_) if offset > 0 && offset as u64 >= len as u64 => {
            (None, 0, 0)
        }
        Range::Score(r) => (z.score_range_ranks(r), walk(offset), walk(limit)),
        Range::Lex(r) => (z.lex_range_ranks(r), walk(offset), walk(limit)),
    };
    let selected = interval.and_then(|(lo, hi)| {
        let n = hi - lo + 1;
        if skip >= n || take == 0 {
            return None;
        }
        let n = (n - skip).min(take);
        Some(if reverse {
            (hi - skip + 1 - n, hi - skip)
        } else {
            (lo + skip, lo + skip + n - 1)
        })
    });
    match target {
        Target::Client => {
            let reply = &mut *ctx.reply;
            match selected {
                None => reply.array(0),
                Some((lo, hi)) => {
                    let scores = withscores && by != By::Lex;
                    reply_members_len(reply, hi - lo + 1, scores);
                    z.for_each_in_ranks(lo, hi, reverse, |m, s| {
                        reply_member(reply, m, s, scores);
                    });
                }
            }
        }
        Target::Store(dst) => {
            let limits = limits(ctx.server);
            let result = selected.map(|(lo, hi)| {
                let mut out = if hi - lo + 1 > limits.max_entries {
                    ZSetValue::new_skiplist()
                } else {
                    ZSetValue::new_listpack()
                };
                z.for_each_in_ranks(lo, hi, reverse, |m, s| out.set(m, s, limits));
                out
            });
            store_result(ctx, dst, result);
        }
    }
    Ok(())
}

/// LIMIT's offset or count as a walk uses it: negative means "all" (a negative offset skips
/// everything, a negative count takes everything, as Redis's loops do).
fn walk(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// ZRANGESTORE's end: store a non-empty result, or delete `dst`; reply with the size.
fn store_result(ctx: &mut CommandContext<'_>, dst: &[u8], result: Option<ZSetValue>) {
    match result.filter(|z| !z.is_empty()) {
        Some(z) => {
            let n = z.len();
            store_value(ctx, dst, z);
            ctx.wrote(Event::ZSet, "zrangestore", dst);
            ctx.reply.integer(n as i64);
        }
        None => {
            if ctx.db.shard(dst).remove(dst).is_some() {
                ctx.wrote(Event::Generic, "del", dst);
            }
            ctx.reply.integer(0);
        }
    }
}

fn zcount(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let range = parse_score_range(ctx.args.next_bytes()?, ctx.args.next_bytes()?)?;
    let n = read(&mut ctx.db, key, ctx.now_ms)?
        .and_then(|z| z.score_range_ranks(&range))
        .map_or(0, |(lo, hi)| hi - lo + 1);
    ctx.reply.integer(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let range = parse_lex_range(ctx.args.next_bytes()?, ctx.args.next_bytes()?)?;
    let n = read(&mut ctx.db, key, ctx.now_ms)?
        .and_then(|z| z.lex_range_ranks(&range))
        .map_or(0, |(lo, hi)| hi - lo + 1);
    ctx.reply.integer(n as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let start = ctx.args.next_i64()?;
    let end = ctx.args.next_i64()?;
    remove_range(ctx, key, Range::Rank(start, end))
}

fn zremrangebyscore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let range = parse_score_range(ctx.args.next_bytes()?, ctx.args.next_bytes()?)?;
    remove_range(ctx, key, Range::Score(range))
}

fn zremrangebylex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let range = parse_lex_range(ctx.args.next_bytes()?, ctx.args.next_bytes()?)?;
    remove_range(ctx, key, Range::Lex(range))
}

fn remove_range(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    range: Range,
) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let Some(z) = write(&mut ctx.db, key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let interval = match &range {
        Range::Rank(start, end) => rank_interval(*start, *end, z.len()),
        Range::Score(r) => z.score_range_ranks(r),
        Range::Lex(r) => z.lex_range_ranks(r),
    };
    let removed = interval.map_or(0, |(lo, hi)| z.remove_ranks(lo, hi));
    let emptied = delete_if_empty(&mut ctx.db, key, now);
    if removed > 0 {
        ctx.modified(key);
        let event = match range {
            Range::Rank(..) => "zremrangebyrank",
            Range::Score(_) => "zremrangebyscore",
            Range::Lex(_) => "zremrangebylex",
        };
        ctx.notify(Event::ZSet, event, key);
        if emptied {
            ctx.notify(Event::Generic, "del", key);
        }
        ctx.dirty(removed as u64);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}
