//! ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.
//!
//! Inputs are sorted sets; plain sets would count with score 1, but this tree has no set
//! type yet, so any other type is WRONGTYPE.

use std::collections::HashMap;

use common::number::parse_f64;
use common::value::Value;
use common::value::sorted_set::ZSetValue;

use super::super::args::is;
use super::{
    CommandContext, CommandError, Registry, limits, reply_member, reply_members_len, store_value,
};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("zunion", zunion);
    r.add("zinter", zinter);
    r.add("zdiff", zdiff);
    r.add("zunionstore", zunionstore);
    r.add("zinterstore", zinterstore);
    r.add("zdiffstore", zdiffstore);
    r.add("zintercard", zintercard);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                // inf + -inf: Redis keeps 0 rather than NaN.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => *target = target.min(v),
            Aggregate::Max => *target = target.max(v),
        }
    }
}

/// One input: its members and scores (empty for a missing key) and its weight.
struct Source {
    pairs: Vec<(Vec<u8>, f64)>,
    weight: f64,
}

impl Source {
    fn len(&self) -> usize {
        self.pairs.len()
    }
}

fn zunion(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    combine(ctx, Op::Union, None)
}

fn zinter(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    combine(ctx, Op::Inter, None)
}

fn zdiff(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    combine(ctx, Op::Diff, None)
}

fn zunionstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    combine(ctx, Op::Union, Some(dst))
}

fn zinterstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    combine(ctx, Op::Inter, Some(dst))
}

fn zdiffstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let dst = ctx.args.next_key()?;
    combine(ctx, Op::Diff, Some(dst))
}

/// Reads `numkeys` and that many sources (WRONGTYPE before any option is looked at).
fn read_sources(ctx: &mut CommandContext<'_>) -> Result<Vec<Source>, CommandError> {
    let numkeys = ctx.args.next_i64()?;
    if numkeys < 1 {
        let name = ctx.command.full_name.clone();
        return Err(CommandError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys as u64 > ctx.args.remaining() as u64 {
        return Err(CommandError::Syntax);
    }
    let now = ctx.now_ms;
    let mut sources = Vec::with_capacity(numkeys as usize);
    for _ in 0..numkeys {
        let key = ctx.args.next_key()?;
        let pairs = match ctx.db.shard(key).lookup_read(key, now).map(|e| e.value()) {
            None => Vec::new(),
            Some(Value::ZSet(z)) => z.pairs(),
            // A plain set takes part with every member scored 1, as in Redis.
            Some(Value::Set(set)) => {
                let mut pairs = Vec::with_capacity(set.len());
                let mut buf = [0u8; 20];
                set.for_each(|m| pairs.push((m.bytes(&mut buf).to_vec(), 1.0)));
                pairs
            }
            Some(_) => return Err(CommandError::WrongType),
        };
        sources.push(Source { pairs, weight: 1.0 });
    }
    Ok(sources)
}

fn combine(ctx: &mut CommandContext<'_>, op: Op, dst: Option<&[u8]>) -> Result<(), CommandError> {
    let mut sources = read_sources(ctx)?;
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    while let Some(arg) = ctx.args.next_opt() {
        let remaining = ctx.args.remaining();
        if op != Op::Diff && remaining >= sources.len() && is(arg, "weights") {
            for s in sources.iter_mut() {
                let w = ctx.args.next_bytes()?;
                s.weight =
                    parse_f64(w).ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
        } else if op != Op::Diff && remaining >= 1 && is(arg, "aggregate") {
            let a = ctx.args.next_bytes()?;
            aggregate = if is(a, "sum") {
                Aggregate::Sum
            } else if is(a, "min") {
                Aggregate::Min
            } else if is(a, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
        } else if dst.is_none() && is(arg, "withscores") {
            withscores = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let result = match op {
        Op::Union => union(&mut sources, aggregate),
        Op::Inter => inter(&mut sources, aggregate),
        Op::Diff => diff(&sources),
    };
    let limits = limits(ctx.server);
    let mut z = ZSetValue::new_skiplist();
    let mut max_len = 0;
    for (m, s) in &result {
        max_len = max_len.max(m.len());
        z.set(m, *s, limits);
    }
    match dst {
        Some(dst) => {
            if z.is_empty() {
                if ctx.db.shard(dst).remove(dst).is_some() {
                    ctx.wrote(Event::Generic, "del", dst);
                }
                ctx.reply.integer(0);
            } else {
                z.shrink_if_fits(limits, max_len);
                let n = z.len();
                store_value(ctx, dst, z);
                let event = match op {
                    Op::Union => "zunionstore",
                    Op::Inter => "zinterstore",
                    Op::Diff => "zdiffstore",
                };
                ctx.wrote(Event::ZSet, event, dst);
                ctx.reply.integer(n as i64);
            }
        }
        None => {
            let reply = &mut *ctx.reply;
            reply_members_len(reply, z.len(), withscores);
            z.for_each(|m, s| reply_member(reply, m, s, withscores));
        }
    }
    Ok(())
}

/// A member's weighted score; NaN (0 × inf) counts as 0, as in Redis.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() { 0.0 } else { v }
}

fn union(sources: &mut [Source], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    sources.sort_by_key(Source::len);
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
    for src in sources.iter_mut() {
        for (m, s) in std::mem::take(&mut src.pairs) {
            let v = weighted(s, src.weight);
            match acc.get_mut(&m) {
                Some(target) => aggregate.apply(target, v),
                None => {
                    acc.insert(m, v);
                }
            }
        }
    }
    acc.into_iter().collect()
}

fn inter(sources: &mut [Source], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    sources.sort_by_key(Source::len);
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let others: Vec<HashMap<&[u8], f64>> = rest
        .iter()
        .map(|s| s.pairs.iter().map(|(m, v)| (m.as_slice(), *v)).collect())
        .collect();
    let mut out = Vec::new();
    'members: for (m, s) in &first.pairs {
        let mut score = weighted(*s, first.weight);
        for (other, src) in others.iter().zip(rest) {
            match other.get(m.as_slice()) {
                Some(v) => aggregate.apply(&mut score, weighted(*v, src.weight)),
                None => continue 'members,
            }
        }
        out.push((m.clone(), score));
    }
    out
}

fn diff(sources: &[Source]) -> Vec<(Vec<u8>, f64)> {
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let others: Vec<std::collections::HashSet<&[u8]>> = rest
        .iter()
        .map(|s| s.pairs.iter().map(|(m, _)| m.as_slice()).collect())
        .collect();
    first
        .pairs
        .iter()
        .filter(|(m, _)| !others.iter().any(|o| o.contains(m.as_slice())))
        .cloned()
        .collect()
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit].
fn zintercard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut sources = read_sources(ctx)?;
    let mut limit: usize = 0;
    while let Some(arg) = ctx.args.next_opt() {
        if ctx.args.remaining() >= 1 && is(arg, "limit") {
            let n = match ctx.args.next_i64() {
                Ok(n) if n >= 0 => n,
                _ => return Err(CommandError::err("LIMIT can't be negative")),
            };
            limit = usize::try_from(n).unwrap_or(usize::MAX);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let members = inter(&mut sources, Aggregate::Sum);
    let n = if limit == 0 {
        members.len()
    } else {
        members.len().min(limit)
    };
    ctx.reply.integer(n as i64);
    Ok(())
}
