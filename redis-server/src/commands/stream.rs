//! Group `stream`: XADD, XRANGE, XREAD, consumer groups (XGROUP, XREADGROUP, XACK, XCLAIM...)
//! and XINFO on stream values (`common::value::stream`).

use std::time::{Duration, Instant};

use common::encoding::listpack::LpValue;
use common::keyspace::{Entry, Shard};
use common::number::{MAX_I64_LEN, format_u64, parse_i64};
use common::resp::{OwnedCommand, Protocol, ReplyBuffer};
use common::value::Value;
use common::value::stream::{
    AppendError, ConsumerGroup, EntryRef, INVALID_ENTRIES_READ, IdSyntax, NewId, PendingEntry,
    StreamId, StreamValue, Trim, parse_id,
};

use super::args::is;
use super::{CommandContext, CommandError, Registry};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("xadd", xadd);
    r.add("xrange", xrange);
    r.add("xrevrange", xrevrange);
    r.add("xlen", xlen);
    r.add("xdel", xdel);
    r.add("xtrim", xtrim);
    r.add("xread", xread);
    r.add("xreadgroup", xreadgroup);
    r.add("xack", xack);
    r.add("xpending", xpending);
    r.add("xclaim", xclaim);
    r.add("xautoclaim", xautoclaim);
    r.add("xsetid", xsetid);
    r.add_sub("xgroup", "create", xgroup);
    r.add_sub("xgroup", "setid", xgroup);
    r.add_sub("xgroup", "destroy", xgroup);
    r.add_sub("xgroup", "createconsumer", xgroup);
    r.add_sub("xgroup", "delconsumer", xgroup);
    r.add_sub("xgroup", "help", xgroup_help);
    r.add_sub("xinfo", "stream", xinfo_stream);
    r.add_sub("xinfo", "groups", xinfo_groups);
    r.add_sub("xinfo", "consumers", xinfo_consumers);
    r.add_sub("xinfo", "help", xinfo_help);
}

// ---------------------------------------------------------------------------------------------
// Errors, IDs and replies
// ---------------------------------------------------------------------------------------------

fn invalid_id() -> CommandError {
    CommandError::err("Invalid stream ID specified as stream command argument")
}

fn nogroup(text: String) -> CommandError {
    CommandError::Prefixed("NOGROUP", text)
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    // Redis prints names with %s: a C string ends at the first NUL.
    String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or_default())
}

/// `unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
fn subcommand_syntax(ctx: &CommandContext<'_>) -> CommandError {
    let cmd = ctx.args.get(0).unwrap_or_default().to_ascii_uppercase();
    let sub = ctx.args.get(1).unwrap_or_default();
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&sub[..sub.len().min(128)]),
        lossy(&cmd)
    ))
}

/// A strict ID (`-` and `+` refused), sequence 0 when missing.
fn strict_id(arg: &[u8]) -> Result<StreamId, CommandError> {
    parse_id(arg, IdSyntax::STRICT)
        .map(|p| p.id)
        .ok_or_else(invalid_id)
}

/// A range bound: `(` makes it exclusive (`streamParseIntervalIDOrReply`).
fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let syntax = IdSyntax {
            missing_seq,
            ..IdSyntax::STRICT
        };
        let id = parse_id(&arg[1..], syntax).ok_or_else(invalid_id)?.id;
        return Ok((id, true));
    }
    let syntax = IdSyntax {
        missing_seq,
        strict: false,
        seq_wildcard: false,
    };
    Ok((parse_id(arg, syntax).ok_or_else(invalid_id)?.id, false))
}

/// A range start: inclusive, or the ID after an exclusive one.
fn range_start(arg: &[u8]) -> Result<StreamId, CommandError> {
    let (id, exclusive) = interval_id(arg, 0)?;
    if exclusive {
        return id
            .incr()
            .ok_or_else(|| CommandError::err("invalid start ID for the interval"));
    }
    Ok(id)
}

fn range_end(arg: &[u8]) -> Result<StreamId, CommandError> {
    let (id, exclusive) = interval_id(arg, u64::MAX)?;
    if exclusive {
        return id
            .decr()
            .ok_or_else(|| CommandError::err("invalid end ID for the interval"));
    }
    Ok(id)
}

/// `<ms>-<seq>` into `buf`.
fn id_text(id: StreamId, buf: &mut [u8; 2 * MAX_I64_LEN + 1]) -> &[u8] {
    let mut n = [0u8; MAX_I64_LEN];
    let ms = format_u64(id.ms, &mut n);
    let len = ms.len();
    buf[..len].copy_from_slice(ms);
    buf[len] = b'-';
    let seq = format_u64(id.seq, &mut n);
    buf[len + 1..len + 1 + seq.len()].copy_from_slice(seq);
    &buf[..len + 1 + seq.len()]
}

fn reply_id(reply: &mut ReplyBuffer, id: StreamId) {
    let mut buf = [0u8; 2 * MAX_I64_LEN + 1];
    reply.bulk(id_text(id, &mut buf));
}

fn reply_value(reply: &mut ReplyBuffer, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => reply.bulk_i64(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

/// `[id, [field, value, ...]]`.
fn reply_entry(reply: &mut ReplyBuffer, e: &EntryRef<'_>) {
    reply.array(2);
    reply_id(reply, e.id);
    reply.array(e.numfields() * 2);
    for (f, v) in e.fields() {
        reply_value(reply, f);
        reply_value(reply, v);
    }
}

fn reply_entries<'a>(reply: &mut ReplyBuffer, entries: impl Iterator<Item = EntryRef<'a>>) {
    let d = reply.begin_deferred();
    let mut n = 0;
    for e in entries {
        reply_entry(reply, &e);
        n += 1;
    }
    reply.finish_deferred_array(d, n);
}

fn as_stream(entry: &Entry) -> Result<&StreamValue, CommandError> {
    match entry.value() {
        Value::Stream(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

/// A counted read lookup (`lookupKeyRead` + `checkType`).
fn read<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s StreamValue>, CommandError> {
    shard.lookup_read(key, now).map(as_stream).transpose()
}

/// A write lookup (`lookupKeyWrite` + `checkType`).
fn write<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s mut StreamValue>, CommandError> {
    match shard.get_mut(key, now) {
        None => Ok(None),
        Some(entry) => match entry.value_mut() {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// The optional `~` or `=` after MAXLEN/MINID at `args[i]`: whether trimming is approximate,
/// and the index of the word before the threshold.
fn trim_operator(args: &[&[u8]], i: usize, more: usize) -> (bool, usize) {
    match args[i + 1] {
        b"~" if more >= 2 => (true, i + 1),
        b"=" if more >= 2 => (false, i + 1),
        _ => (false, i),
    }
}

fn integer_with(arg: &[u8], msg: &str) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or_else(|| CommandError::err(msg))
}

// ---------------------------------------------------------------------------------------------
// XADD, XTRIM
// ---------------------------------------------------------------------------------------------

/// The trimming and ID options of XADD and XTRIM (`streamParseAddOrTrimArgsOrReply`).
#[derive(Debug, Default)]
struct AddTrimArgs {
    trim: Option<Trim>,
    /// Index of the MAXLEN/MINID value.
    approx: bool,
    /// Index of the MAXLEN/MINID threshold (rewritten for replicas when approximate).
    trim_arg: usize,
    limit: u64,
    no_mkstream: bool,
    id: Option<common::value::stream::ParsedId>,
    /// Index of the ID (XADD).
    id_pos: usize,
}

impl AddTrimArgs {
    fn parse(
        args: &[&[u8]],
        xadd: bool,
        node_max_entries: u64,
    ) -> Result<AddTrimArgs, CommandError> {
        let mut out = AddTrimArgs::default();
        let mut limit: Option<i64> = None;
        let mut i = 2;
        let both = || {
            CommandError::err(
                "syntax error, MAXLEN and MINID options at the same time are not compatible",
            )
        };
        while i < args.len() {
            let more = args.len() - 1 - i;
            let opt = args[i];
            if xadd && opt == b"*" {
                break;
            } else if is(opt, "maxlen") && more > 0 {
                if out.trim.is_some() {
                    return Err(both());
                }
                (out.approx, i) = trim_operator(args, i, more);
                out.trim_arg = i + 1;
                let n = parse_i64(args[i + 1]).ok_or(CommandError::NotInteger)?;
                if n < 0 {
                    return Err(CommandError::err("The MAXLEN argument must be >= 0."));
                }
                i += 1;
                out.trim = Some(Trim::MaxLen(n as u64));
            } else if is(opt, "minid") && more > 0 {
                if out.trim.is_some() {
                    return Err(both());
                }
                (out.approx, i) = trim_operator(args, i, more);
                out.trim_arg = i + 1;
                let id = strict_id(args[i + 1])?;
                i += 1;
                out.trim = Some(Trim::MinId(id));
            } else if is(opt, "limit") && more > 0 {
                let n = parse_i64(args[i + 1]).ok_or(CommandError::NotInteger)?;
                if n < 0 {
                    return Err(CommandError::err("The LIMIT argument must be >= 0."));
                }
                limit = Some(n);
                i += 1;
            } else if xadd && is(opt, "nomkstream") {
                out.no_mkstream = true;
            } else if xadd {
                let syntax = IdSyntax {
                    seq_wildcard: true,
                    ..IdSyntax::STRICT
                };
                out.id = Some(parse_id(opt, syntax).ok_or_else(invalid_id)?);
                break;
            } else {
                return Err(CommandError::Syntax);
            }
            i += 1;
        }
        out.id_pos = i;
        if limit.is_some_and(|l| l > 0) && out.trim.is_none() {
            return Err(CommandError::err(
                "syntax error, LIMIT cannot be used without specifying a trimming strategy",
            ));
        }
        if !xadd && out.trim.is_none() {
            return Err(CommandError::err(
                "syntax error, XTRIM must be called with a trimming strategy",
            ));
        }
        match limit {
            Some(_) if !out.approx => {
                return Err(CommandError::err(
                    "syntax error, LIMIT cannot be used without the special ~ option",
                ));
            }
            Some(l) => out.limit = l as u64,
            None if out.approx => {
                let l = node_max_entries.saturating_mul(100);
                out.limit = if l == 0 { 10_000 } else { l.min(1_000_000) };
            }
            None => out.limit = 0,
        }
        Ok(out)
    }
}

/// What an approximate trim actually kept, as an exact threshold: the length for MAXLEN,
/// the first ID for MINID.
fn exact_threshold(stream: &StreamValue, trim: Option<Trim>) -> Vec<u8> {
    match trim {
        Some(Trim::MinId(_)) => {
            let mut buf = [0u8; 2 * MAX_I64_LEN + 1];
            id_text(stream.edge_id(true, false), &mut buf).to_vec()
        }
        _ => stream.len().to_string().into_bytes(),
    }
}

/// Propagates `MAXLEN|MINID ~ n` as `= <threshold>`, so replicas trim exactly as this trim
/// did.
fn rewrite_trim(ctx: &mut CommandContext<'_>, trim_arg: usize, threshold: &[u8]) {
    ctx.rewrite_arg(trim_arg - 1, b"=");
    ctx.rewrite_arg(trim_arg, threshold);
}

/// The XCLAIMs that make replicas record entries `ids`, just delivered to `consumer` of
/// group `group` by a read of new entries (each one then the group's last ID).
fn group_read_ops(
    ops: &mut Vec<Vec<Vec<u8>>>,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    ids: &[StreamId],
    noack: bool,
    now: i64,
) {
    if noack {
        return;
    }
    for id in ids {
        ops.push(xclaim_op(key, group, consumer, *id, now, 1, *id));
    }
}

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last`: a
/// pending entry as a replica must record it.
fn xclaim_op(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    delivery_time: i64,
    delivery_count: u64,
    last_id: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
        b"0".to_vec(),
        id.to_string().into_bytes(),
        b"TIME".to_vec(),
        delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_string().into_bytes(),
    ]
}

/// [`xclaim_op`] for pending entry `p` as it now stands, its ID spelled `id_arg`.
fn xclaim_op_as(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id_arg: &[u8],
    p: &PendingEntry,
    last_id: StreamId,
) -> Vec<Vec<u8>> {
    let mut op = xclaim_op(
        key,
        group,
        consumer,
        StreamId::MIN,
        p.delivery_time,
        p.delivery_count,
        last_id,
    );
    op[5] = id_arg.to_vec();
    op
}

/// `XGROUP SETID key group id ENTRIESREAD n`: a group's position, for replicas.
fn setid_op(key: &[u8], group: &[u8], last_id: StreamId, entries_read: i64) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        last_id.to_string().into_bytes(),
        b"ENTRIESREAD".to_vec(),
        entries_read.to_string().into_bytes(),
    ]
}

fn all_args<'a>(ctx: &CommandContext<'a>) -> Vec<&'a [u8]> {
    let list = ctx.args.list();
    (0..list.len()).filter_map(|i| list.get(i)).collect()
}

fn xadd(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let limits = ctx.server.hot.stream_limits();
    let parsed = AddTrimArgs::parse(&args, true, limits.max_entries as u64)?;
    let field_pos = parsed.id_pos + 1;
    let nfields = args.len().saturating_sub(field_pos);
    if nfields < 2 || nfields % 2 == 1 {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    if let Some(p) = parsed.id
        && p.seq_given
        && p.id.is_zero()
    {
        return Err(CommandError::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = args[1];
    let new_id = match parsed.id {
        None => NewId::Auto(u64::try_from(ctx.now_ms).unwrap_or(0)),
        Some(p) if p.seq_given => NewId::Exact(p.id),
        Some(p) => NewId::Ms(p.id.ms),
    };
    let pairs = &args[field_pos..];
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let mut created = None;
    let stream = match write(shard, key, now)? {
        Some(s) => s,
        None if parsed.no_mkstream => {
            ctx.reply.null();
            return Ok(());
        }
        None => created.insert(StreamValue::new()),
    };
    if stream.meta.last_id == StreamId::MAX {
        return Err(CommandError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id = stream.append(pairs, new_id, limits).map_err(|e| match e {
        AppendError::IdTooSmall => CommandError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        ),
        AppendError::TooLarge => CommandError::err("Elements are too large to be stored"),
    })?;
    let trimmed = match parsed.trim {
        Some(t) => stream.trim(t, parsed.approx, parsed.limit),
        None => 0,
    };
    let exact_trim = parsed.approx.then(|| exact_threshold(stream, parsed.trim));
    if let Some(s) = created {
        ctx.db
            .shard(key)
            .insert(Entry::collection(key, Value::Stream(Box::new(s)), lru));
    }
    reply_id(ctx.reply, id);
    ctx.wrote(Event::Stream, "xadd", key);
    if trimmed > 0 {
        ctx.notify(Event::Stream, "xtrim", key);
    }
    if let Some(threshold) = exact_trim {
        rewrite_trim(ctx, parsed.trim_arg, &threshold);
    }
    // Replicas get the ID made here, not `*` or `ms-*`.
    if !parsed.id.is_some_and(|p| p.seq_given) {
        let mut buf = [0u8; 2 * MAX_I64_LEN + 1];
        ctx.rewrite_arg(parsed.id_pos, id_text(id, &mut buf));
    }
    ctx.signal_ready(key);
    Ok(())
}

fn xtrim(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let limits = ctx.server.hot.stream_limits();
    let parsed = AddTrimArgs::parse(&args, false, limits.max_entries as u64)?;
    let key = args[1];
    let now = ctx.now_ms;
    let Some(stream) = write(ctx.db.shard(key), key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let deleted = match parsed.trim {
        Some(t) => stream.trim(t, parsed.approx, parsed.limit),
        None => 0,
    };
    let exact_trim = parsed.approx.then(|| exact_threshold(stream, parsed.trim));
    if deleted > 0 {
        ctx.notify(Event::Stream, "xtrim", key);
        if let Some(threshold) = exact_trim {
            rewrite_trim(ctx, parsed.trim_arg, &threshold);
        }
        ctx.modified(key);
        ctx.dirty(deleted);
    }
    ctx.reply.integer(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN, XDEL
// ---------------------------------------------------------------------------------------------

fn xrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, false)
}

fn xrevrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    range(ctx, true)
}

fn range(ctx: &mut CommandContext<'_>, rev: bool) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let first = ctx.args.next_bytes()?;
    let second = ctx.args.next_bytes()?;
    let (start_arg, end_arg) = if rev {
        (second, first)
    } else {
        (first, second)
    };
    let start = range_start(start_arg)?;
    let end = range_end(end_arg)?;
    let mut count: i64 = -1;
    while let Some(arg) = ctx.args.next_opt() {
        if is(arg, "count") && !ctx.args.is_empty() {
            count = ctx.args.next_i64()?.max(0);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms;
    let Some(stream) = read(ctx.db.shard(key), key, now)? else {
        ctx.reply.empty_array();
        return Ok(());
    };
    if count == 0 {
        ctx.reply.null_array();
        return Ok(());
    }
    let limit = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    reply_entries(ctx.reply, stream.range(start, end, rev).take(limit));
    Ok(())
}

fn xlen(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let len = read(ctx.db.shard(key), key, now)?.map_or(0, |s| s.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

fn xdel(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    if write(ctx.db.shard(key), key, now)?.is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    let ids = ctx
        .args
        .rest()
        .map(strict_id)
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = match write(ctx.db.shard(key), key, now)? {
        Some(s) => s.delete_ids(&ids),
        None => 0,
    };
    if deleted > 0 {
        ctx.modified(key);
        ctx.notify(Event::Stream, "xdel", key);
        ctx.dirty(deleted as u64);
    }
    ctx.reply.integer(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XREAD, XREADGROUP
// ---------------------------------------------------------------------------------------------

/// What a blocked XREAD is served when no COUNT was given (`XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// Where a read starts for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadFrom {
    /// Entries after this ID (XREAD, or a consumer's history with XREADGROUP).
    After(StreamId),
    /// XREADGROUP `>`: entries the group has not delivered.
    New,
}

fn xread(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    read_streams(ctx, false)
}

fn xreadgroup(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    read_streams(ctx, true)
}

fn read_streams(ctx: &mut CommandContext<'_>, xreadgroup: bool) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args[i];
        if is(o, "block") && more > 0 {
            if ctx.client.script_read.is_some() {
                return Err(CommandError::err(format!(
                    "{} command is not allowed with BLOCK option from scripts",
                    lossy(args[0])
                )));
            }
            i += 1;
            let ms = parse_i64(args[i])
                .ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CommandError::err("timeout is negative"));
            }
            timeout = Some(ms);
        } else if is(o, "count") && more > 0 {
            i += 1;
            let n = parse_i64(args[i]).ok_or(CommandError::NotInteger)?;
            count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if (args.len() - streams_arg) % 2 != 0 {
                return Err(CommandError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if is(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(CommandError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((args[i + 1], args[i + 2]));
            i += 2;
        } else if is(o, "noack") {
            if !xreadgroup {
                return Err(CommandError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CommandError::Syntax);
    }
    if xreadgroup && group.is_none() {
        return Err(CommandError::err("Missing GROUP option for XREADGROUP"));
    }
    let nstreams = (args.len() - streams_arg) / 2;
    let keys = &args[streams_arg..streams_arg + nstreams];
    let id_args = &args[streams_arg + nstreams..];
    let serving = ctx.client.serving_blocked;
    let now = ctx.now_ms;

    // Resolve every ID (and check every key and group) before serving anything.
    let mut from = Vec::with_capacity(nstreams);
    let mut rewrote = false;
    for (key, id_arg) in keys.iter().zip(id_args) {
        if serving && group.is_some() {
            let is_stream = matches!(
                ctx.db.shard(key).peek(key, now).map(|e| e.value()),
                Some(Value::Stream(_))
            );
            if !is_stream {
                // The key was deleted or overwritten while the client waited.
                return Err(CommandError::Prefixed(
                    "UNBLOCKED",
                    "the stream key no longer exists".into(),
                ));
            }
        }
        // A waiter re-run to serve it ignores keys that hold another type (Redis serves
        // stream waiters from stream keys only).
        let stream = if serving {
            match ctx.db.shard(key).peek(key, now).map(|e| e.value()) {
                Some(Value::Stream(s)) => Some(&**s),
                _ => None,
            }
        } else {
            read(ctx.db.shard(key), key, now)?
        };
        if let Some((g, _)) = group {
            match stream {
                Some(s) if s.groups.contains_key(g) => {}
                Some(_) if serving => {
                    return Err(nogroup(
                        "the consumer group this client was blocked on no longer exists".into(),
                    ));
                }
                _ => {
                    return Err(nogroup(format!(
                        "No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        lossy(key),
                        lossy(g)
                    )));
                }
            }
        }
        if *id_arg == b"$" {
            if xreadgroup {
                return Err(CommandError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            from.push(ReadFrom::After(
                stream.map_or(StreamId::MIN, |s| s.meta.last_id),
            ));
            rewrote = true;
        } else if *id_arg == b">" {
            if !xreadgroup {
                return Err(CommandError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            from.push(ReadFrom::New);
        } else {
            from.push(ReadFrom::After(strict_id(id_arg)?));
        }
    }

    let count = if serving && count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        count
    };
    let resp3 = ctx.reply.protocol() == Protocol::Resp3;
    let mut served = 0;
    let mut top = None;
    // XREADGROUP reaches replicas as what it changed in the group (Redis's
    // streamPropagateXCLAIM, streamPropagateGroupID, streamPropagateConsumerCreation).
    let propagating = ctx.server.feed.is_active();
    let mut ops: Vec<Vec<Vec<u8>>> = Vec::new();
    for (key, start) in keys.iter().zip(&from) {
        for op in ops.drain(..) {
            let args: Vec<&[u8]> = op.iter().map(Vec::as_slice).collect();
            ctx.also_propagate(&args);
        }
        let stream = match ctx.db.shard(key).get_mut(key, now) {
            Some(entry) => match entry.value_mut() {
                Value::Stream(s) => s,
                _ if serving => continue,
                _ => return Err(CommandError::WrongType),
            },
            None => continue,
        };
        let serve = match (group, start) {
            (Some(_), ReadFrom::After(_)) => true,
            (Some((g, _)), ReadFrom::New) => {
                let last = stream.groups.get(g).map_or(StreamId::MAX, |g| g.last_id);
                !stream.is_empty() && stream.last_valid_id().is_some_and(|m| m > last)
            }
            // Only when there is something to return: a waiter is re-run on every write to its
            // keys (and once more after blocking), never to answer an empty array.
            (None, ReadFrom::After(after)) => {
                !stream.is_empty() && stream.last_valid_id().is_some_and(|m| m > *after)
            }
            (None, ReadFrom::New) => false,
        };
        if !serve {
            continue;
        }
        served += 1;
        if served == 1 {
            top = Some(ctx.reply.begin_deferred());
        }
        if !resp3 {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(key);
        match group {
            None => {
                let after = match start {
                    ReadFrom::After(id) => *id,
                    ReadFrom::New => StreamId::MAX,
                };
                match after.incr() {
                    Some(first) => reply_entries(
                        ctx.reply,
                        stream
                            .range(first, StreamId::MAX, false)
                            .take(if count == 0 { usize::MAX } else { count }),
                    ),
                    None => ctx.reply.empty_array(),
                }
            }
            Some((g, consumer)) => {
                let created = stream
                    .groups
                    .get_mut(g)
                    .is_some_and(|grp| grp.touch_consumer(consumer, now));
                if created && noack && propagating {
                    ops.push(vec![
                        b"XGROUP".to_vec(),
                        b"CREATECONSUMER".to_vec(),
                        key.to_vec(),
                        g.to_vec(),
                        consumer.to_vec(),
                    ]);
                }
                match start {
                    ReadFrom::New => {
                        let last = stream.groups.get(g).map_or(StreamId::MAX, |g| g.last_id);
                        let entries = stream.read_group(g, consumer, last, count, noack, now);
                        let d = ctx.reply.begin_deferred();
                        for e in &entries {
                            reply_entry(ctx.reply, e);
                        }
                        ctx.reply.finish_deferred_array(d, entries.len());
                        let ids: Vec<StreamId> = entries.iter().map(|e| e.id).collect();
                        if propagating && !ids.is_empty() {
                            let group = stream.groups.get(g);
                            let entries_read = group.map_or(0, |g| g.entries_read);
                            let last_id = group.map_or(StreamId::MIN, |g| g.last_id);
                            group_read_ops(&mut ops, key, g, consumer, &ids, noack, now);
                            if noack {
                                ops.push(setid_op(key, g, last_id, entries_read));
                            }
                        }
                    }
                    ReadFrom::After(after) => {
                        reply_history(ctx.reply, stream, g, consumer, *after, count, now);
                    }
                }
                if created {
                    ctx.dirty(1);
                    ctx.notify(Event::Stream, "xgroup-createconsumer", key);
                }
                ctx.dirty(1);
            }
        }
    }
    for op in ops.drain(..) {
        let args: Vec<&[u8]> = op.iter().map(Vec::as_slice).collect();
        ctx.also_propagate(&args);
    }
    ctx.prevent_propagation();
    if let Some(d) = top {
        if resp3 {
            ctx.reply.finish_deferred_map(d, served);
        } else {
            ctx.reply.finish_deferred_array(d, served);
        }
        return Ok(());
    }
    let Some(ms) = timeout else {
        ctx.reply.null_array();
        return Ok(());
    };
    let deadline = if ms == 0 {
        None
    } else {
        Instant::now().checked_add(Duration::from_millis(ms as u64))
    };
    let timeout_reply = crate::blocking::timeout_reply(ctx.reply.protocol(), false);
    let block_keys = keys.iter().map(|k| Box::<[u8]>::from(*k)).collect();
    // `$` means "after the last ID now": the command re-run when data arrives must wait for
    // entries after that ID, not after the last ID then.
    let rewritten = rewrote.then(|| {
        let mut out: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        for (j, f) in from.iter().enumerate() {
            if let ReadFrom::After(id) = f
                && id_args[j] == b"$"
            {
                out[streams_arg + nstreams + j] = id.to_string().into_bytes();
            }
        }
        OwnedCommand::from_args(out.iter().map(Vec::as_slice))
    });
    ctx.block_with(
        block_keys,
        deadline,
        timeout_reply,
        rewritten,
        group.is_some(),
    );
    Ok(())
}

/// XREADGROUP with an ID: the consumer's own pending entries after `after`; an entry deleted
/// since is `[id, nil]`.
fn reply_history(
    reply: &mut ReplyBuffer,
    stream: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: usize,
    now: i64,
) {
    let d = reply.begin_deferred();
    let mut n = 0;
    let ids: Vec<StreamId> = match (after.incr(), stream.groups.get(group)) {
        (Some(start), Some(g)) => g
            .consumers
            .get(consumer)
            .map(|c| {
                c.pel
                    .range(start..)
                    .take(if count == 0 { usize::MAX } else { count })
                    .copied()
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for id in ids {
        match stream.get(id) {
            Some(e) => {
                reply_entry(reply, &e);
                if let Some(p) = stream
                    .groups
                    .get_mut(group)
                    .and_then(|g| g.pel.get_mut(&id))
                {
                    p.delivery_time = now;
                    p.delivery_count += 1;
                }
            }
            None => {
                reply.array(2);
                reply_id(reply, id);
                reply.null_array();
            }
        }
        n += 1;
    }
    reply.finish_deferred_array(d, n);
}

// ---------------------------------------------------------------------------------------------
// XGROUP, XSETID
// ---------------------------------------------------------------------------------------------

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

fn xgroup_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    super::reply_help(ctx, XGROUP_HELP);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupOp {
    Create,
    SetId,
    Destroy,
    CreateConsumer,
    DelConsumer,
}

/// Every XGROUP subcommand but HELP, checked in Redis's order: options, key, group.
fn xgroup(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let sub = args[1];
    let op = if is(sub, "create") {
        GroupOp::Create
    } else if is(sub, "setid") {
        GroupOp::SetId
    } else if is(sub, "destroy") {
        GroupOp::Destroy
    } else if is(sub, "createconsumer") {
        GroupOp::CreateConsumer
    } else {
        GroupOp::DelConsumer
    };
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        if op == GroupOp::Create && is(args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if matches!(op, GroupOp::Create | GroupOp::SetId)
            && is(args[i], "entriesread")
            && i + 1 < args.len()
        {
            entries_read = parse_i64(args[i + 1]).ok_or(CommandError::NotInteger)?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(CommandError::err(
                    "value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax(ctx));
        }
    }
    let key = args[2];
    let name = args[3];
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let exists = write(ctx.db.shard(key), key, now)?.is_some();
    if !mkstream {
        let Some(stream) = write(ctx.db.shard(key), key, now)? else {
            return Err(CommandError::err(
                "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            ));
        };
        if !stream.groups.contains_key(name)
            && matches!(
                op,
                GroupOp::SetId | GroupOp::CreateConsumer | GroupOp::DelConsumer
            )
        {
            return Err(nogroup(format!(
                "No such consumer group '{}' for key name '{}'",
                lossy(name),
                lossy(key)
            )));
        }
    }
    let argc = args.len();
    match op {
        GroupOp::Create if (5..=8).contains(&argc) => {
            let id = if args[4] == b"$" {
                write(ctx.db.shard(key), key, now)?.map_or(StreamId::MIN, |s| s.meta.last_id)
            } else {
                strict_id(args[4])?
            };
            if !exists {
                ctx.db.shard(key).insert(Entry::collection(
                    key,
                    Value::Stream(Box::default()),
                    lru,
                ));
                ctx.modified(key);
            }
            let Some(stream) = write(ctx.db.shard(key), key, now)? else {
                return Ok(());
            };
            if stream.groups.contains_key(name) {
                return Err(CommandError::Prefixed(
                    "BUSYGROUP",
                    "Consumer Group name already exists".into(),
                ));
            }
            stream
                .groups
                .insert(name.into(), ConsumerGroup::new(id, entries_read));
            ctx.reply.ok();
            ctx.dirty(1);
            ctx.notify(Event::Stream, "xgroup-create", key);
        }
        GroupOp::SetId if argc == 5 || argc == 7 => {
            let Some(stream) = write(ctx.db.shard(key), key, now)? else {
                return Ok(());
            };
            let id = if args[4] == b"$" {
                stream.meta.last_id
            } else {
                let loose = IdSyntax {
                    strict: false,
                    ..IdSyntax::STRICT
                };
                parse_id(args[4], loose).ok_or_else(invalid_id)?.id
            };
            if let Some(g) = stream.groups.get_mut(name) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            ctx.reply.ok();
            ctx.dirty(1);
            ctx.notify(Event::Stream, "xgroup-setid", key);
        }
        GroupOp::Destroy if argc == 4 => {
            let removed = write(ctx.db.shard(key), key, now)?
                .and_then(|s| s.groups.remove(name))
                .is_some();
            if removed {
                ctx.reply.integer(1);
                ctx.dirty(1);
                ctx.notify(Event::Stream, "xgroup-destroy", key);
                // Clients blocked in XREADGROUP on this group get NOGROUP.
                ctx.signal_ready(key);
            } else {
                ctx.reply.integer(0);
            }
        }
        GroupOp::CreateConsumer if argc == 5 => {
            let created = write(ctx.db.shard(key), key, now)?
                .and_then(|s| s.groups.get_mut(name))
                .is_some_and(|g| g.create_consumer(args[4], now));
            if created {
                ctx.dirty(1);
                ctx.notify(Event::Stream, "xgroup-createconsumer", key);
            }
            ctx.reply.integer(i64::from(created));
        }
        GroupOp::DelConsumer if argc == 5 => {
            let pending = write(ctx.db.shard(key), key, now)?
                .and_then(|s| s.groups.get_mut(name))
                .and_then(|g| g.delete_consumer(args[4]));
            if pending.is_some() {
                ctx.dirty(1);
                ctx.notify(Event::Stream, "xgroup-delconsumer", key);
            }
            ctx.reply.integer(pending.unwrap_or(0) as i64);
        }
        _ => return Err(subcommand_syntax(ctx)),
    }
    Ok(())
}

fn xsetid(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let id = strict_id(ctx.args.next_bytes()?)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    while let Some(opt) = ctx.args.next_opt() {
        if is(opt, "entriesadded") && !ctx.args.is_empty() {
            entries_added = ctx.args.next_i64()?;
            if entries_added < 0 {
                return Err(CommandError::err("entries_added must be positive"));
            }
        } else if is(opt, "maxdeletedid") && !ctx.args.is_empty() {
            max_deleted = strict_id(ctx.args.next_bytes()?)?;
            if id < max_deleted {
                return Err(CommandError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms;
    let stream = write(ctx.db.shard(key), key, now)?.ok_or(CommandError::NoSuchKey)?;
    if !stream.is_empty() {
        if stream.last_valid_id().is_some_and(|max| id < max) {
            return Err(CommandError::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && stream.len() > entries_added as u64 {
            return Err(CommandError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    stream.meta.last_id = id;
    if entries_added != -1 {
        stream.meta.entries_added = entries_added as u64;
    }
    if !max_deleted.is_zero() {
        stream.meta.max_deleted_entry_id = max_deleted;
    }
    ctx.reply.ok();
    ctx.dirty(1);
    ctx.notify(Event::Stream, "xsetid", key);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XACK, XPENDING, XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

fn xack(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let group = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let has_group =
        read(ctx.db.shard(key), key, now)?.is_some_and(|s| s.groups.contains_key(group));
    if !has_group {
        ctx.reply.integer(0);
        return Ok(());
    }
    let ids = ctx
        .args
        .rest()
        .map(strict_id)
        .collect::<Result<Vec<_>, _>>()?;
    let mut acked = 0;
    if let Some(g) = write(ctx.db.shard(key), key, now)?.and_then(|s| s.groups.get_mut(group)) {
        acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    }
    ctx.dirty(acked as u64);
    ctx.reply.integer(acked as i64);
    Ok(())
}

fn xpending(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CommandError::Syntax);
    }
    let mut range = None;
    let mut min_idle = 0;
    let mut consumer = None;
    if argc >= 6 {
        let mut at = 3;
        if is(args[3], "idle") {
            min_idle = parse_i64(args[4]).ok_or(CommandError::NotInteger)?;
            if argc < 8 {
                return Err(CommandError::Syntax);
            }
            at += 2;
        }
        let count = parse_i64(args[at + 2])
            .ok_or(CommandError::NotInteger)?
            .max(0);
        let start = range_start(args[at])?;
        let end = range_end(args[at + 1])?;
        if at + 3 < argc {
            consumer = Some(args[at + 3]);
        }
        range = Some((start, end, count as u64));
    }
    let (key, group_name) = (args[1], args[2]);
    let now = ctx.now_ms;
    let stream = read(ctx.db.shard(key), key, now)?;
    let Some(group) = stream.and_then(|s| s.groups.get(group_name)) else {
        return Err(nogroup(format!(
            "No such key '{}' or consumer group '{}'",
            lossy(key),
            lossy(group_name)
        )));
    };
    let reply = &mut *ctx.reply;
    let Some((start, end, mut count)) = range else {
        reply.array(4);
        reply.integer(group.pel.len() as i64);
        match (group.pel.keys().next(), group.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                reply_id(reply, *first);
                reply_id(reply, *last);
                let owners: Vec<(&Box<[u8]>, usize)> = group
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .map(|(name, c)| (name, c.pel.len()))
                    .collect();
                reply.array(owners.len());
                for (name, n) in owners {
                    reply.array(2);
                    reply.bulk(name);
                    reply.bulk_i64(n as i64);
                }
            }
            _ => {
                reply.null();
                reply.null();
                reply.null_array();
            }
        }
        return Ok(());
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match group.consumers.get(name) {
            Some(c) => Box::new(c.pel.range(start..).copied()),
            None => {
                reply.empty_array();
                return Ok(());
            }
        },
        None => Box::new(group.pel.range(start..).map(|(id, _)| *id)),
    };
    let d = reply.begin_deferred();
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(p) = group.pel.get(&id) else {
            continue;
        };
        if min_idle != 0 && now - p.delivery_time < min_idle {
            continue;
        }
        n += 1;
        count -= 1;
        reply.array(4);
        reply_id(reply, id);
        reply.bulk(&p.consumer);
        reply.integer((now - p.delivery_time).max(0));
        reply.integer(p.delivery_count as i64);
    }
    reply.finish_deferred_array(d, n);
    Ok(())
}

/// Makes `consumer` exist (and seen now) in `group`, for the claim commands.
fn claiming_consumer(group: &mut ConsumerGroup, consumer: &[u8], now: i64) -> bool {
    group.touch_consumer(consumer, now)
}

fn xclaim(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let (key, group_name, consumer) = (args[1], args[2], args[3]);
    let now = ctx.now_ms;
    let has_group =
        read(ctx.db.shard(key), key, now)?.is_some_and(|s| s.groups.contains_key(group_name));
    if !has_group {
        return Err(nogroup(format!(
            "No such key '{}' or consumer group '{}'",
            lossy(key),
            lossy(group_name)
        )));
    }
    let min_idle = integer_with(args[4], "Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        match parse_id(args[j], IdSyntax::STRICT) {
            Some(p) => ids.push(p.id),
            None => break,
        }
        j += 1;
    }
    let mut force = false;
    let mut justid = false;
    let mut retrycount: i64 = -1;
    let mut delivery: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args[j];
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            delivery = now - integer_with(args[j], "Invalid IDLE option argument for XCLAIM")?;
        } else if is(opt, "time") && more > 0 {
            j += 1;
            delivery = integer_with(args[j], "Invalid TIME option argument for XCLAIM")?;
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retrycount = integer_with(args[j], "Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(args[j])?;
        } else {
            return Err(CommandError::err(format!(
                "Unrecognized XCLAIM option '{}'",
                lossy(opt)
            )));
        }
        j += 1;
    }
    if delivery == -1 || delivery < 0 || delivery > now {
        delivery = now;
    }
    let Some(stream) = write(ctx.db.shard(key), key, now)? else {
        return Ok(());
    };
    let mut dirty = 0u64;
    let mut last_id_moved = false;
    if let Some(g) = stream.groups.get_mut(group_name)
        && last_id > g.last_id
    {
        g.last_id = last_id;
        last_id_moved = true;
    }
    let mut claimed = Vec::new();
    let mut created = false;
    let mut have_consumer = false;
    // Replicas get one idempotent XCLAIM per entry changed (Redis's streamPropagateXCLAIM).
    let propagating = ctx.server.feed.is_active();
    let mut ops = Vec::new();
    for (k, id) in ids.into_iter().enumerate() {
        let id_arg = args[5 + k];
        let exists = stream.exists(id);
        let Some(g) = stream.groups.get_mut(group_name) else {
            break;
        };
        if !exists {
            if let Some(p) = g.pel.get(&id) {
                if propagating {
                    ops.push(xclaim_op_as(
                        key,
                        group_name,
                        &p.consumer,
                        id_arg,
                        p,
                        g.last_id,
                    ));
                }
                g.ack(id);
                dirty += 1;
            }
            continue;
        }
        let mut fresh = false;
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                PendingEntry {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: Box::default(),
                },
            );
            fresh = true;
        }
        let Some(p) = g.pel.get(&id) else {
            continue;
        };
        if !fresh && min_idle > 0 && now - p.delivery_time < min_idle {
            continue;
        }
        if !have_consumer {
            created |= claiming_consumer(g, consumer, now);
            have_consumer = true;
        }
        if fresh {
            if let Some(p) = g.pel.get_mut(&id) {
                p.consumer = consumer.into();
            }
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.pel.insert(id);
            }
        } else {
            g.transfer(id, consumer);
        }
        if let Some(p) = g.pel.get_mut(&id) {
            p.delivery_time = delivery;
            if retrycount >= 0 {
                p.delivery_count = retrycount as u64;
            } else if !justid {
                p.delivery_count += 1;
            }
            if propagating {
                ops.push(xclaim_op_as(
                    key, group_name, consumer, id_arg, p, g.last_id,
                ));
            }
        }
        claimed.push(id);
        dirty += 1;
    }
    if last_id_moved
        && dirty == 0
        && propagating
        && let Some(g) = stream.groups.get(group_name)
    {
        ops.push(setid_op(key, group_name, g.last_id, g.entries_read));
    }
    if created {
        ctx.dirty(1);
        ctx.notify(Event::Stream, "xgroup-createconsumer", key);
    }
    if last_id_moved && dirty == 0 {
        dirty = 1;
    }
    ctx.dirty(dirty);
    for op in &ops {
        let args: Vec<&[u8]> = op.iter().map(Vec::as_slice).collect();
        ctx.also_propagate(&args);
    }
    ctx.prevent_propagation();
    let Some(stream) = read(ctx.db.shard(key), key, now)? else {
        return Ok(());
    };
    ctx.reply.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(ctx.reply, id);
        } else if let Some(e) = stream.get(id) {
            reply_entry(ctx.reply, &e);
        }
    }
    Ok(())
}

fn xautoclaim(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let (key, group_name, consumer) = (args[1], args[2], args[3]);
    let min_idle = integer_with(args[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = range_start(args[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            count = parse_i64(args[j + 1])
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| CommandError::err("COUNT must be > 0"))?;
            j += 1;
        } else if is(args[j], "justid") {
            justid = true;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let now = ctx.now_ms;
    let has_group =
        read(ctx.db.shard(key), key, now)?.is_some_and(|s| s.groups.contains_key(group_name));
    if !has_group {
        return Err(nogroup(format!(
            "No such key '{}' or consumer group '{}'",
            lossy(key),
            lossy(group_name)
        )));
    }
    let Some(stream) = write(ctx.db.shard(key), key, now)? else {
        return Ok(());
    };
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut created = false;
    let mut have_consumer = false;
    let mut cursor = Some(start);
    let mut exhausted = false;
    let mut dirty = 0u64;
    // Replicas get one idempotent XCLAIM per entry changed (Redis's streamPropagateXCLAIM).
    let propagating = ctx.server.feed.is_active();
    let mut ops = Vec::new();
    loop {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let Some(g) = stream.groups.get(group_name) else {
            break;
        };
        let Some(id) = cursor.and_then(|c| g.pel.range(c..).next().map(|(id, _)| *id)) else {
            exhausted = true;
            break;
        };
        cursor = id.incr();
        let exists = stream.exists(id);
        let Some(g) = stream.groups.get_mut(group_name) else {
            break;
        };
        if !exists {
            if propagating && let Some(p) = g.pel.get(&id) {
                let id_arg = id.to_string().into_bytes();
                ops.push(xclaim_op_as(
                    key,
                    group_name,
                    &p.consumer,
                    &id_arg,
                    p,
                    g.last_id,
                ));
            }
            g.ack(id);
            deleted.push(id);
            dirty += 1;
            count -= 1;
            continue;
        }
        if min_idle > 0
            && g.pel
                .get(&id)
                .is_some_and(|p| now - p.delivery_time < min_idle)
        {
            continue;
        }
        if !have_consumer {
            created |= claiming_consumer(g, consumer, now);
            have_consumer = true;
        }
        g.transfer(id, consumer);
        if let Some(p) = g.pel.get_mut(&id) {
            p.delivery_time = now;
            if !justid {
                p.delivery_count += 1;
            }
            if propagating {
                let id_arg = id.to_string().into_bytes();
                ops.push(xclaim_op_as(
                    key, group_name, consumer, &id_arg, p, g.last_id,
                ));
            }
        }
        claimed.push(id);
        count -= 1;
        dirty += 1;
    }
    let next = match (exhausted, stream.groups.get(group_name)) {
        (false, Some(g)) => cursor
            .and_then(|c| g.pel.range(c..).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::MIN),
        _ => StreamId::MIN,
    };
    if created {
        ctx.dirty(1);
        ctx.notify(Event::Stream, "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    for op in &ops {
        let args: Vec<&[u8]> = op.iter().map(Vec::as_slice).collect();
        ctx.also_propagate(&args);
    }
    ctx.prevent_propagation();
    let Some(stream) = read(ctx.db.shard(key), key, now)? else {
        return Ok(());
    };
    let reply = &mut *ctx.reply;
    reply.array(3);
    reply_id(reply, next);
    reply.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(reply, id);
        } else if let Some(e) = stream.get(id) {
            reply_entry(reply, &e);
        }
    }
    reply.array(deleted.len());
    for id in deleted {
        reply_id(reply, id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------------

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn xinfo_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    super::reply_help(ctx, XINFO_HELP);
    Ok(())
}

fn info_lookup<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: i64,
) -> Result<&'s StreamValue, CommandError> {
    read(shard, key, now)?.ok_or(CommandError::NoSuchKey)
}

fn reply_lag(reply: &mut ReplyBuffer, stream: &StreamValue, g: &ConsumerGroup) {
    match stream.meta.lag(g) {
        Some(lag) => reply.integer(lag),
        None => reply.null(),
    }
}

fn reply_entries_read(reply: &mut ReplyBuffer, g: &ConsumerGroup) {
    if g.entries_read != INVALID_ENTRIES_READ {
        reply.integer(g.entries_read);
    } else {
        reply.null();
    }
}

fn xinfo_consumers(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let group_name = ctx.args.next_bytes()?;
    let now = ctx.now_ms;
    let stream = info_lookup(ctx.db.shard(key), key, now)?;
    let Some(g) = stream.groups.get(group_name) else {
        return Err(nogroup(format!(
            "No such consumer group '{}' for key name '{}'",
            lossy(group_name),
            lossy(key)
        )));
    };
    let reply = &mut *ctx.reply;
    reply.array(g.consumers.len());
    for (name, c) in &g.consumers {
        reply.map(3);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"pending");
        reply.integer(c.pel.len() as i64);
        reply.bulk(b"idle");
        reply.integer((now - c.seen_time).max(0));
    }
    Ok(())
}

fn xinfo_groups(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let stream = info_lookup(ctx.db.shard(key), key, now)?;
    let reply = &mut *ctx.reply;
    reply.array(stream.groups.len());
    for (name, g) in &stream.groups {
        reply.map(6);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"consumers");
        reply.integer(g.consumers.len() as i64);
        reply.bulk(b"pending");
        reply.integer(g.pel.len() as i64);
        reply.bulk(b"last-delivered-id");
        reply_id(reply, g.last_id);
        reply.bulk(b"entries-read");
        reply_entries_read(reply, g);
        reply.bulk(b"lag");
        reply_lag(reply, stream, g);
    }
    Ok(())
}

/// Nodes of a radix tree holding `keys` (sorted, distinct, 16 bytes each) as Redis's rax
/// builds it: a node per branching point, per compressed run and per key end.
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.is_empty() {
        return 1;
    }
    if depth == 16 {
        return 1;
    }
    let first = &keys[0];
    let last = &keys[keys.len() - 1];
    // Keys are sorted, so the common prefix of all is that of the first and the last.
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        return 1 + rax_nodes(keys, depth + common);
    }
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let byte = keys[start][depth];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| k[depth] == byte)
                .count();
        total += rax_nodes(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

fn encode_id(id: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&id.ms.to_be_bytes());
    out[8..].copy_from_slice(&id.seq.to_be_bytes());
    out
}

fn xinfo_stream(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let args = all_args(ctx);
    let key = args[2];
    let opts = &args[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !is(opts[0], "full") {
            return Err(subcommand_syntax(ctx));
        }
        if opts.len() == 3 {
            if !is(opts[1], "count") {
                return Err(subcommand_syntax(ctx));
            }
            count = parse_i64(opts[2]).ok_or(CommandError::NotInteger)?;
            if count < 0 {
                count = 10;
            }
        }
        full = true;
    }
    let now = ctx.now_ms;
    let stream = info_lookup(ctx.db.shard(key), key, now)?;
    let reply = &mut *ctx.reply;
    let m = &stream.meta;
    reply.map(if full { 9 } else { 10 });
    reply.bulk(b"length");
    reply.integer(m.length as i64);
    reply.bulk(b"radix-tree-keys");
    reply.integer(stream.node_count() as i64);
    reply.bulk(b"radix-tree-nodes");
    let keys: Vec<[u8; 16]> = stream.nodes().map(|(id, _)| encode_id(*id)).collect();
    reply.integer(rax_nodes(&keys, 0) as i64);
    reply.bulk(b"last-generated-id");
    reply_id(reply, m.last_id);
    reply.bulk(b"max-deleted-entry-id");
    reply_id(reply, m.max_deleted_entry_id);
    reply.bulk(b"entries-added");
    reply.integer(m.entries_added as i64);
    reply.bulk(b"recorded-first-entry-id");
    reply_id(reply, m.first_id);
    if !full {
        reply.bulk(b"groups");
        reply.integer(stream.groups.len() as i64);
        reply.bulk(b"first-entry");
        match stream.range(StreamId::MIN, StreamId::MAX, false).next() {
            Some(e) => reply_entry(reply, &e),
            None => reply.null(),
        }
        reply.bulk(b"last-entry");
        match stream.range(StreamId::MIN, StreamId::MAX, true).next() {
            Some(e) => reply_entry(reply, &e),
            None => reply.null(),
        }
        return Ok(());
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    reply.bulk(b"entries");
    reply_entries(
        reply,
        stream
            .range(StreamId::MIN, StreamId::MAX, false)
            .take(limit),
    );
    reply.bulk(b"groups");
    reply.array(stream.groups.len());
    for (name, g) in &stream.groups {
        reply.map(7);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"last-delivered-id");
        reply_id(reply, g.last_id);
        reply.bulk(b"entries-read");
        reply_entries_read(reply, g);
        reply.bulk(b"lag");
        reply_lag(reply, stream, g);
        reply.bulk(b"pel-count");
        reply.integer(g.pel.len() as i64);
        reply.bulk(b"pending");
        let pending: Vec<_> = g.pel.iter().take(limit).collect();
        reply.array(pending.len());
        for (id, p) in pending {
            reply.array(4);
            reply_id(reply, *id);
            reply.bulk(&p.consumer);
            reply.integer(p.delivery_time);
            reply.integer(p.delivery_count as i64);
        }
        reply.bulk(b"consumers");
        reply.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            reply.map(4);
            reply.bulk(b"name");
            reply.bulk(cname);
            reply.bulk(b"seen-time");
            reply.integer(c.seen_time);
            reply.bulk(b"pel-count");
            reply.integer(c.pel.len() as i64);
            reply.bulk(b"pending");
            let owned: Vec<_> = c.pel.iter().take(limit).collect();
            reply.array(owned.len());
            for id in owned {
                let p = g.pel.get(id);
                reply.array(3);
                reply_id(reply, *id);
                reply.integer(p.map_or(0, |p| p.delivery_time));
                reply.integer(p.map_or(0, |p| p.delivery_count as i64));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn xadd_xrange_and_xlen() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["XADD", "s", "1-1", "a", "1"]), "$3\r\n1-1\r\n");
        assert_eq!(c.text(&["XADD", "s", "1-*", "b", "2"]), "$3\r\n1-2\r\n");
        assert_eq!(
            c.text(&["XADD", "s", "1-1", "a", "1"]),
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        );
        assert_eq!(
            c.text(&["XADD", "s", "0-0", "a", "1"]),
            "-ERR The ID specified in XADD must be greater than 0-0\r\n"
        );
        assert_eq!(c.text(&["XLEN", "s"]), ":2\r\n");
        assert_eq!(
            c.text(&["XRANGE", "s", "(1-1", "+"]),
            "*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(c.text(&["XRANGE", "s", "-", "+", "COUNT", "0"]), "*-1\r\n");
        assert_eq!(c.text(&["XRANGE", "nokey", "-", "+"]), "*0\r\n");
        assert_eq!(c.text(&["TYPE", "s"]), "+stream\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "s"]), "$6\r\nstream\r\n");
        assert_eq!(
            c.text(&["XADD", "n", "NOMKSTREAM", "*", "a", "1"]),
            "$-1\r\n"
        );
        assert_eq!(
            c.text(&["XADD", "s", "MAXLEN", "1", "*", "a"]),
            "-ERR wrong number of arguments for 'xadd' command\r\n"
        );
    }

    #[test]
    fn groups_read_ack_and_pending() {
        let mut c = TestClient::new();
        c.text(&["XADD", "s", "1-0", "f", "v"]);
        c.text(&["XADD", "s", "2-0", "f", "v"]);
        assert_eq!(c.text(&["XGROUP", "CREATE", "s", "g", "0"]), "+OK\r\n");
        assert_eq!(
            c.text(&["XGROUP", "CREATE", "s", "g", "0"]),
            "-BUSYGROUP Consumer Group name already exists\r\n"
        );
        assert_eq!(
            c.text(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">"
            ]),
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        );
        assert!(
            c.text(&["XPENDING", "s", "g"])
                .starts_with("*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n")
        );
        assert_eq!(c.text(&["XACK", "s", "g", "1-0", "1-0"]), ":1\r\n");
        assert_eq!(
            c.text(&["XPENDING", "s", "g"]),
            "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
        );
        assert_eq!(
            c.text(&["XREADGROUP", "GROUP", "nog", "a", "STREAMS", "s", ">"]),
            "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"
        );
    }

    #[test]
    fn xread_blocks_on_dollar_until_a_newer_entry() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        b.text(&["XADD", "s", "1-0", "f", "v"]);
        assert_eq!(
            a.text(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
            "(blocked)"
        );
        b.text(&["XADD", "s", "2-0", "f", "w"]);
        assert_eq!(
            a.served().unwrap(),
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"
        );
    }

    #[test]
    fn scripts_cannot_block_on_streams() {
        let mut c = TestClient::new();
        c.run(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        assert_eq!(
            c.text(&[
                "EVAL",
                "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')",
                "1",
                "s"
            ]),
            "-ERR xread command is not allowed with BLOCK option from scripts\r\n"
        );
        assert_eq!(
            c.text(&[
                "EVAL",
                "return redis.pcall('xread','STREAMS','s','$')",
                "1",
                "s"
            ]),
            "$-1\r\n"
        );
    }
}
