//! Group `string`: commands on string values (SET and its variants, GET and its variants, ranges,
//! counters, LCS).

use std::sync::atomic::Ordering::Relaxed;

use common::keyspace::Entry;
use common::long_double::LongDouble;
use common::number::parse_i64;
use common::value::string::{IntBuf, StrRef};

use crate::effects::Event;

use super::args::is;
use super::{Args, CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("set", set);
    r.add("setnx", setnx);
    r.add("setex", setex);
    r.add("psetex", psetex);
    r.add("getset", getset);
    r.add("get", get);
    r.add("getex", getex);
    r.add("getdel", getdel);
    r.add("getrange", getrange);
    r.add("substr", getrange);
    r.add("setrange", setrange);
    r.add("append", append);
    r.add("strlen", strlen);
    r.add("incr", incr);
    r.add("decr", decr);
    r.add("incrby", incrby);
    r.add("decrby", decrby);
    r.add("incrbyfloat", incrbyfloat);
    r.add("mget", mget);
    r.add("mset", mset);
    r.add("msetnx", msetnx);
    r.add("lcs", lcs);
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]`.
fn set(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let value = ctx.args.next_bytes()?;
    let options = SetOptions::parse(&mut ctx.args)?;
    set_generic(ctx, key, value, options, SetReply::Ok)
}

fn setnx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let value = ctx.args.next_bytes()?;
    let options = SetOptions {
        condition: Condition::IfMissing,
        ..SetOptions::default()
    };
    set_generic(ctx, key, value, options, SetReply::Boolean)
}

fn setex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    set_with_expire(ctx, ExpireKind::Ex)
}

fn psetex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    set_with_expire(ctx, ExpireKind::Px)
}

/// SETEX and PSETEX: `key ttl value`.
fn set_with_expire(ctx: &mut CommandContext<'_>, kind: ExpireKind) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let ttl = ctx.args.next_bytes()?;
    let value = ctx.args.next_bytes()?;
    let options = SetOptions {
        ttl: TtlOption::Expire(Expire { kind, value: ttl }),
        ..SetOptions::default()
    };
    set_generic(ctx, key, value, options, SetReply::Ok)
}

fn getset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let value = ctx.args.next_bytes()?;
    let options = SetOptions {
        get: true,
        ..SetOptions::default()
    };
    set_generic(ctx, key, value, options, SetReply::Ok)
}

fn get(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    match shard.lookup_read(key, now) {
        None => ctx.reply.null(),
        Some(e) => reply_str(ctx.reply, string_of(e)?),
    }
    Ok(())
}

/// `GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]`.
fn getex(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let options = GetExOptions::parse(&mut ctx.args)?;
    let now = ctx.now_ms;
    let command = ctx.command.spec.name;
    let shard = ctx.db.shard(key);
    let Some(entry) = shard.lookup_read(key, now) else {
        ctx.reply.null();
        return Ok(());
    };
    let value = string_of(entry)?;
    // Redis judges the expire time only once it knows the key holds a string.
    let deadline = match options.ttl {
        TtlOption::Expire(expire) => Some((expire.kind, expire.deadline(now, command)?)),
        _ => None,
    };
    reply_str(ctx.reply, value);
    match (deadline, options.ttl) {
        // An absolute time already past deletes the key, as its expiry would.
        // GETEX is never propagated as sent: replicas get DEL, PEXPIREAT or PERSIST.
        (Some((kind, at)), _) if kind.is_absolute() && at <= now => {
            shard.remove(key);
            let del = ctx.deletion_command("lazyfree-lazy-expire");
            ctx.propagate_as(&[del, key]);
            ctx.wrote(Event::Generic, "del", key);
        }
        (Some((_, at)), _) => {
            shard.set_expire(key, at);
            ctx.propagate_as(&[b"PEXPIREAT", key, at.to_string().as_bytes()]);
            ctx.wrote(Event::Generic, "expire", key);
        }
        (None, TtlOption::Persist) => {
            if shard.persist(key) {
                ctx.propagate_as(&[b"PERSIST", key]);
                ctx.wrote(Event::Generic, "persist", key);
            }
        }
        (None, _) => {}
    }
    Ok(())
}

fn getdel(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    match shard.lookup_read(key, now) {
        None => ctx.reply.null(),
        Some(e) => {
            reply_str(ctx.reply, string_of(e)?);
            shard.remove(key);
            let del = ctx.deletion_command("lazyfree-lazy-user-del");
            ctx.propagate_as(&[del, key]);
            ctx.wrote(Event::Generic, "del", key);
        }
    }
    Ok(())
}

/// GETRANGE and SUBSTR.
fn getrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let start = ctx.args.next_i64()?;
    let end = ctx.args.next_i64()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let Some(entry) = shard.lookup_read(key, now) else {
        ctx.reply.bulk(b"");
        return Ok(());
    };
    let mut buf = IntBuf::default();
    let bytes = string_of(entry)?.bytes(&mut buf);
    match byte_range(bytes.len(), start, end) {
        Some(range) => ctx.reply.bulk(&bytes[range]),
        None => ctx.reply.bulk(b""),
    }
    Ok(())
}

fn setrange(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let offset = ctx.args.next_i64()?;
    let value = ctx.args.next_bytes()?;
    let offset =
        usize::try_from(offset).map_err(|_| CommandError::err("offset is out of range"))?;
    let max = max_string_len(ctx);
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let new_len = match shard.get_mut(key, now) {
        None => {
            // Writing nothing to a missing key does not create it.
            if value.is_empty() {
                ctx.reply.integer(0);
                return Ok(());
            }
            let len = checked_len(offset, value.len(), max)?;
            let mut bytes = vec![0u8; len];
            bytes[offset..].copy_from_slice(value);
            shard.insert(Entry::raw_string(key, &bytes, lru));
            len
        }
        Some(entry) => {
            let old_len = string_of(entry)?.len();
            if value.is_empty() {
                ctx.reply.integer(len_i64(old_len));
                return Ok(());
            }
            let len = checked_len(offset, value.len(), max)?;
            let bytes = entry.raw_bytes_mut(len);
            bytes[offset..len].copy_from_slice(value);
            bytes.len()
        }
    };
    ctx.wrote(Event::String, "setrange", key);
    ctx.reply.integer(len_i64(new_len));
    Ok(())
}

fn append(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let value = ctx.args.next_bytes()?;
    let max = max_string_len(ctx);
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let new_len = match shard.get_mut(key, now) {
        // A new key gets the encoding SET would give it; only an append in place makes it raw.
        None => {
            shard.insert(Entry::string(key, value, lru));
            value.len()
        }
        Some(entry) => {
            let old_len = string_of(entry)?.len();
            checked_len(old_len, value.len(), max)?;
            entry.append(value)
        }
    };
    ctx.wrote(Event::String, "append", key);
    ctx.reply.integer(len_i64(new_len));
    Ok(())
}

fn strlen(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let len = match shard.lookup_read(key, now) {
        None => 0,
        Some(e) => string_of(e)?.len(),
    };
    ctx.reply.integer(len_i64(len));
    Ok(())
}

fn incr(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    incr_by(ctx, key, 1)
}

fn decr(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    incr_by(ctx, key, -1)
}

fn incrby(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let delta = ctx.args.next_i64()?;
    incr_by(ctx, key, delta)
}

fn decrby(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    // Negating i64::MIN overflows; Redis has its own text for it.
    let delta = ctx
        .args
        .next_i64()?
        .checked_neg()
        .ok_or_else(|| CommandError::err("decrement would overflow"))?;
    incr_by(ctx, key, delta)
}

/// INCR, DECR, INCRBY, DECRBY: the result is integer-encoded and the key keeps its TTL.
fn incr_by(ctx: &mut CommandContext<'_>, key: &[u8], delta: i64) -> Result<(), CommandError> {
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let value = match shard.get_mut(key, now) {
        None => {
            shard.insert(Entry::int(key, delta, lru));
            delta
        }
        Some(entry) => {
            let old = string_of(entry)?.as_i64().ok_or(CommandError::NotInteger)?;
            let new = old.checked_add(delta).ok_or(CommandError::IncrOverflow)?;
            entry.set_int(new);
            new
        }
    };
    ctx.wrote(Event::String, "incrby", key);
    ctx.reply.integer(value);
    Ok(())
}

/// INCRBYFLOAT: stores and replies the sum in Redis's "human" form, as a string (never
/// integer-encoded); the key keeps its TTL.
fn incrbyfloat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let increment = ctx.args.next_bytes()?;
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    // Redis computes in an x87 `long double` and stores the printed sum.
    let current = match shard.get_mut(key, now) {
        None => LongDouble::from_i64(0),
        Some(entry) => match string_of(entry)? {
            StrRef::Int(n) => LongDouble::from_i64(n),
            StrRef::Bytes(b) => LongDouble::parse(b).ok_or(CommandError::NotFloat)?,
        },
    };
    let increment = LongDouble::parse(increment).ok_or(CommandError::NotFloat)?;
    let sum = current + increment;
    if !sum.is_finite() {
        return Err(CommandError::IncrNanOrInfinity);
    }
    let text = sum.to_human();
    shard.insert_keep_ttl(Entry::plain_string(key, text.as_bytes(), lru));
    ctx.wrote(Event::String, "incrbyfloat", key);
    // Replicas must store the same digits, not redo the float arithmetic.
    ctx.propagate_as(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    ctx.reply.bulk(text.as_bytes());
    Ok(())
}

/// MGET: a key that is missing or not a string reads as nil.
fn mget(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    ctx.reply.array(ctx.args.remaining());
    for key in ctx.args.rest() {
        let shard = ctx.db.shard(key);
        match shard.lookup_read(key, now).and_then(Entry::as_str) {
            Some(s) => reply_str(ctx.reply, s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    mset_generic(ctx, Condition::Always)
}

fn msetnx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    mset_generic(ctx, Condition::IfMissing)
}

/// MSET and MSETNX (which sets nothing if any key exists).
fn mset_generic(ctx: &mut CommandContext<'_>, condition: Condition) -> Result<(), CommandError> {
    if ctx.args.remaining() % 2 != 0 {
        return Err(CommandError::WrongArity(ctx.command.full_name.clone()));
    }
    let (now, lru) = (ctx.now_ms, ctx.lru());
    if condition == Condition::IfMissing {
        let mut keys = ctx.args;
        while let (Some(key), Some(_)) = (keys.next_opt(), keys.next_opt()) {
            if ctx.db.shard(key).contains(key, now) {
                ctx.reply.integer(0);
                return Ok(());
            }
        }
    }
    let mut pairs = 0;
    while let (Some(key), Some(value)) = (ctx.args.next_opt(), ctx.args.next_opt()) {
        ctx.set_key(key, Entry::string(key, value, lru));
        ctx.modified(key);
        ctx.notify(Event::String, "set", key);
        pairs += 1;
    }
    ctx.dirty(pairs);
    match condition {
        Condition::IfMissing => ctx.reply.integer(1),
        _ => ctx.reply.ok(),
    }
    Ok(())
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`.
fn lcs(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key_a = ctx.args.next_key()?;
    let key_b = ctx.args.next_key()?;
    let now = ctx.now_ms;
    // Both keys are read (and type-checked) before the options, as Redis does.
    let a = read_string_copy(ctx, key_a, now);
    let b = read_string_copy(ctx, key_b, now);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(CommandError::err(
            "The specified keys must contain string values",
        ));
    };
    let options = LcsOptions::parse(&mut ctx.args)?;
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CommandError::err("String too long for LCS"));
    }
    let max = max_string_len(ctx) as u64;
    let table = LcsTable::build(&a, &b, max)?;
    let len = i64::from(table.len());
    match options.output {
        LcsOutput::Len => ctx.reply.integer(len),
        LcsOutput::String => ctx.reply.bulk(&table.string(&a, &b)),
        LcsOutput::Idx => {
            let matches = table.matches(&a, &b, options.min_match_len);
            ctx.reply.map(2);
            ctx.reply.bulk(b"matches");
            ctx.reply.array(matches.len());
            for m in &matches {
                ctx.reply.array(if options.with_match_len { 3 } else { 2 });
                ctx.reply.array(2);
                ctx.reply.integer(i64::from(m.a_start));
                ctx.reply.integer(i64::from(m.a_end));
                ctx.reply.array(2);
                ctx.reply.integer(i64::from(m.b_start));
                ctx.reply.integer(i64::from(m.b_end));
                if options.with_match_len {
                    ctx.reply.integer(i64::from(m.len()));
                }
            }
            ctx.reply.bulk(b"len");
            ctx.reply.integer(len);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SET / GETEX options
// ---------------------------------------------------------------------------------------------

/// NX / XX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Condition {
    #[default]
    Always,
    /// NX: only if the key does not exist.
    IfMissing,
    /// XX: only if the key exists.
    IfExists,
}

/// How an expire argument is read: relative or absolute, seconds or milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireKind {
    fn from_word(word: &[u8]) -> Option<ExpireKind> {
        [
            ("EX", ExpireKind::Ex),
            ("PX", ExpireKind::Px),
            ("EXAT", ExpireKind::ExAt),
            ("PXAT", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| is(word, name))
        .map(|(_, kind)| kind)
    }

    fn in_seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }

    fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }
}

/// An expire option with its argument, not yet judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expire<'a> {
    kind: ExpireKind,
    value: &'a [u8],
}

impl Expire<'_> {
    /// The absolute expiry in Unix milliseconds, or Redis's error for the argument.
    fn deadline(self, now_ms: i64, command: &'static str) -> Result<i64, CommandError> {
        let n = parse_i64(self.value).ok_or(CommandError::NotInteger)?;
        let invalid = CommandError::InvalidExpireTime(command);
        if n <= 0 {
            return Err(invalid);
        }
        let ms = if self.kind.in_seconds() {
            n.checked_mul(1000).ok_or(invalid.clone())?
        } else {
            n
        };
        if self.kind.is_absolute() {
            Ok(ms)
        } else {
            ms.checked_add(now_ms).ok_or(invalid)
        }
    }
}

/// What a SET or GETEX does to the key's TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TtlOption<'a> {
    /// No option: SET clears the TTL, GETEX leaves it.
    #[default]
    Default,
    /// SET ... KEEPTTL.
    Keep,
    /// GETEX ... PERSIST.
    Persist,
    Expire(Expire<'a>),
}

impl TtlOption<'_> {
    /// Redis allows one kind of TTL option, repeated at will (the last value wins).
    fn accepts(self, next: TtlOption<'_>) -> bool {
        match (self, next) {
            (TtlOption::Default, _)
            | (TtlOption::Keep, TtlOption::Keep)
            | (TtlOption::Persist, TtlOption::Persist) => true,
            (TtlOption::Expire(a), TtlOption::Expire(b)) => a.kind == b.kind,
            _ => false,
        }
    }
}

/// Which command's options are being read: SET takes NX, XX, GET and KEEPTTL; GETEX takes
/// PERSIST; both take the expire options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Set,
    GetEx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SetOptions<'a> {
    condition: Condition,
    /// GET: reply with the old value instead of OK.
    get: bool,
    ttl: TtlOption<'a>,
}

impl<'a> SetOptions<'a> {
    fn parse(args: &mut Args<'a>) -> Result<SetOptions<'a>, CommandError> {
        SetOptions::parse_grammar(args, Grammar::Set)
    }

    /// Reads every remaining argument as an option; a conflicting or unknown one is a syntax
    /// error.
    fn parse_grammar(
        args: &mut Args<'a>,
        grammar: Grammar,
    ) -> Result<SetOptions<'a>, CommandError> {
        let mut options = SetOptions::default();
        let set = grammar == Grammar::Set;
        while let Some(word) = args.next_opt() {
            let ttl = if set && is(word, "NX") && options.condition != Condition::IfExists {
                options.condition = Condition::IfMissing;
                continue;
            } else if set && is(word, "XX") && options.condition != Condition::IfMissing {
                options.condition = Condition::IfExists;
                continue;
            } else if set && is(word, "GET") {
                options.get = true;
                continue;
            } else if set && is(word, "KEEPTTL") {
                TtlOption::Keep
            } else if !set && is(word, "PERSIST") {
                TtlOption::Persist
            } else if let Some(kind) = ExpireKind::from_word(word) {
                TtlOption::Expire(Expire {
                    kind,
                    value: args.next_bytes()?,
                })
            } else {
                return Err(CommandError::Syntax);
            };
            if !options.ttl.accepts(ttl) {
                return Err(CommandError::Syntax);
            }
            options.ttl = ttl;
        }
        Ok(options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct GetExOptions<'a> {
    ttl: TtlOption<'a>,
}

impl<'a> GetExOptions<'a> {
    fn parse(args: &mut Args<'a>) -> Result<GetExOptions<'a>, CommandError> {
        let options = SetOptions::parse_grammar(args, Grammar::GetEx)?;
        Ok(GetExOptions { ttl: options.ttl })
    }
}

/// What a SET-like command replies when it did not use GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetReply {
    /// `+OK`, or nil when NX/XX stopped it (SET, SETEX, PSETEX).
    Ok,
    /// `:1`, or `:0` when NX stopped it (SETNX).
    Boolean,
}

/// SET and its variants: validate the expire time, reply the old value for GET, check NX/XX,
/// then store.
fn set_generic(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    value: &[u8],
    options: SetOptions<'_>,
    reply: SetReply,
) -> Result<(), CommandError> {
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let expire_at = match options.ttl {
        TtlOption::Expire(expire) => Some(expire.deadline(now, ctx.command.spec.name)?),
        _ => None,
    };
    let shard = ctx.db.shard(key);
    let found = if options.get {
        match shard.lookup_read(key, now) {
            None => {
                ctx.reply.null();
                false
            }
            Some(e) => {
                reply_str(ctx.reply, string_of(e)?);
                true
            }
        }
    } else if options.condition == Condition::Always && shard.has_no_expiries() {
        // Nothing here can expire first (Redis's lookupKeyWrite), and the value is replaced
        // whatever it is: looking would only walk the chain the insert walks again.
        false
    } else {
        shard.contains(key, now)
    };
    let allowed = match options.condition {
        Condition::Always => true,
        Condition::IfMissing => !found,
        Condition::IfExists => found,
    };
    if !allowed {
        if !options.get {
            match reply {
                SetReply::Ok => ctx.reply.null(),
                SetReply::Boolean => ctx.reply.integer(0),
            }
        }
        return Ok(());
    }
    let entry = Entry::string(key, value, lru);
    if options.ttl == TtlOption::Keep {
        shard.insert_keep_ttl(entry);
    } else {
        shard.insert(entry);
    }
    // A time already past is stored as is: the key expires on its next access, as in Redis 7.0.
    if let Some(at) = expire_at {
        shard.set_expire(key, at);
    }
    ctx.wrote(Event::String, "set", key);
    if let Some(at) = expire_at {
        // Replicas get the absolute time in milliseconds.
        ctx.propagate_as(&[b"SET", key, value, b"PXAT", at.to_string().as_bytes()]);
        ctx.notify(Event::Generic, "expire", key);
    } else if ctx.command.spec.name == "getset" {
        ctx.rewrite_arg(0, b"SET");
    } else if options.get {
        // GET changes nothing on a replica: it is left out.
        let args: Vec<&[u8]> = ctx
            .args
            .list()
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"GET"))
            .map(|(_, a)| a)
            .collect();
        ctx.propagate_as(&args);
    }
    if !options.get {
        match reply {
            SetReply::Ok => ctx.reply.ok(),
            SetReply::Boolean => ctx.reply.integer(1),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LcsOutput {
    /// The common subsequence itself (no option).
    String,
    Len,
    Idx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsOptions {
    output: LcsOutput,
    min_match_len: u64,
    with_match_len: bool,
}

impl LcsOptions {
    fn parse(args: &mut Args<'_>) -> Result<LcsOptions, CommandError> {
        let (mut len, mut idx) = (false, false);
        let mut options = LcsOptions {
            output: LcsOutput::String,
            min_match_len: 0,
            with_match_len: false,
        };
        while let Some(word) = args.next_opt() {
            if is(word, "IDX") {
                idx = true;
            } else if is(word, "LEN") {
                len = true;
            } else if is(word, "WITHMATCHLEN") {
                options.with_match_len = true;
            } else if is(word, "MINMATCHLEN") && !args.is_empty() {
                // A negative length means no minimum.
                options.min_match_len = u64::try_from(args.next_i64()?).unwrap_or(0);
            } else {
                return Err(CommandError::Syntax);
            }
        }
        options.output = match (len, idx) {
            (true, true) => {
                return Err(CommandError::err(
                    "If you want both the length and indexes, please just use IDX.",
                ));
            }
            (true, false) => LcsOutput::Len,
            (false, true) => LcsOutput::Idx,
            (false, false) => LcsOutput::String,
        };
        Ok(options)
    }
}

/// One matching run: `a[a_start..=a_end] == b[b_start..=b_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsMatch {
    a_start: u32,
    a_end: u32,
    b_start: u32,
    b_end: u32,
}

impl LcsMatch {
    fn len(&self) -> u32 {
        self.a_end - self.a_start + 1
    }
}

/// The dynamic-programming table: cell `(i, j)` holds the LCS length of `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
    rows: usize,
}

impl LcsTable {
    /// Builds the table, refusing (as Redis does) when it would take more bytes than
    /// `proto-max-bulk-len`.
    fn build(a: &[u8], b: &[u8], max_bytes: u64) -> Result<LcsTable, CommandError> {
        let (rows, width) = (a.len() + 1, b.len() + 1);
        let failed =
            || CommandError::err("Insufficient memory, failed allocating transient memory for LCS");
        let count = (rows as u64).checked_mul(width as u64).ok_or_else(failed)?;
        let bytes = count.checked_mul(4).ok_or_else(failed)?;
        if bytes > max_bytes {
            return Err(CommandError::err(
                "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            ));
        }
        let count = usize::try_from(count).map_err(|_| failed())?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(count).map_err(|_| failed())?;
        cells.resize(count, 0u32);
        for i in 1..rows {
            for j in 1..width {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable { cells, width, rows })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// The LCS length.
    fn len(&self) -> u32 {
        self.at(self.rows - 1, self.width - 1)
    }

    /// Walks the table back from the end, calling `on_byte` for each byte of the subsequence
    /// (last first) and `on_match` for each maximal run, as Redis's walk finds them.
    fn walk(
        &self,
        a: &[u8],
        b: &[u8],
        mut on_byte: impl FnMut(u8),
        mut on_match: impl FnMut(LcsMatch),
    ) {
        let (mut i, mut j) = (a.len(), b.len());
        let mut run: Option<LcsMatch> = None;
        while i > 0 && j > 0 {
            let mut close = false;
            if a[i - 1] == b[j - 1] {
                on_byte(a[i - 1]);
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match &mut run {
                    None => {
                        run = Some(LcsMatch {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        })
                    }
                    Some(m) if m.a_start == ai + 1 && m.b_start == bj + 1 => {
                        m.a_start = ai;
                        m.b_start = bj;
                    }
                    Some(_) => close = true,
                }
                // A run touching the start of either string cannot grow further.
                if run.is_some_and(|m| m.a_start == 0 || m.b_start == 0) {
                    close = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                close = run.is_some();
            }
            if close {
                if let Some(m) = run.take() {
                    on_match(m);
                }
            }
        }
    }

    /// The common subsequence.
    fn string(&self, a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() as usize);
        self.walk(a, b, |byte| out.push(byte), |_| {});
        out.reverse();
        out
    }

    /// The matching runs of at least `min_len` bytes, last first.
    fn matches(&self, a: &[u8], b: &[u8], min_len: u64) -> Vec<LcsMatch> {
        let mut out = Vec::new();
        self.walk(
            a,
            b,
            |_| {},
            |m| {
                if u64::from(m.len()) >= min_len {
                    out.push(m);
                }
            },
        );
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The entry's string value, or WRONGTYPE.
fn string_of(entry: &Entry) -> Result<StrRef<'_>, CommandError> {
    entry.as_str().ok_or(CommandError::WrongType)
}

/// A copy of a string key's bytes (empty when missing); `None` when it holds another type.
fn read_string_copy(ctx: &mut CommandContext<'_>, key: &[u8], now_ms: i64) -> Option<Vec<u8>> {
    let shard = ctx.db.shard(key);
    match shard.lookup_read(key, now_ms) {
        None => Some(Vec::new()),
        Some(e) => {
            let mut buf = IntBuf::default();
            e.as_str().map(|s| s.bytes(&mut buf).to_vec())
        }
    }
}

fn reply_str(reply: &mut common::resp::ReplyBuffer, s: StrRef<'_>) {
    let mut buf = IntBuf::default();
    reply.bulk(s.bytes(&mut buf));
}

/// `proto-max-bulk-len`: the longest string SETRANGE and APPEND may build.
fn max_string_len(ctx: &CommandContext<'_>) -> usize {
    usize::try_from(ctx.server.hot.proto_max_bulk_len.load(Relaxed)).unwrap_or(usize::MAX)
}

/// `size + extra`, or Redis's error when it exceeds `max`.
fn checked_len(size: usize, extra: usize, max: usize) -> Result<usize, CommandError> {
    size.checked_add(extra)
        .filter(|&total| total <= max)
        .ok_or(CommandError::StringTooLong)
}

fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// The bytes GETRANGE returns of a string of `len` bytes: negative indexes count from the end,
/// both ends are clamped into the string, and an empty or inverted range yields nothing.
fn byte_range(len: usize, start: i64, end: i64) -> Option<std::ops::Range<usize>> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len_i = len_i64(len);
    let from_end = |i: i64| if i < 0 { (i + len_i).max(0) } else { i };
    let start = from_end(start);
    let end = from_end(end).min(len_i - 1);
    if len == 0 || start > end {
        return None;
    }
    Some(start as usize..end as usize + 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_reports_its_writes() {
        let mut c = crate::commands::testkit::TestClient::new();
        crate::notify::test_log::take();
        let before = c.server.dirty.load(std::sync::atomic::Ordering::Relaxed);
        c.run(&["SET", "k", "v", "EX", "10"]);
        c.run(&["SET", "k", "v", "NX"]);
        assert_eq!(crate::notify::test_log::take(), ["$:set:k", "g:expire:k"]);
        assert_eq!(
            c.server.dirty.load(std::sync::atomic::Ordering::Relaxed),
            before + 1
        );
    }

    use super::*;
    use crate::commands::testkit::TestClient;
    use common::resp::{OwnedCommand, Protocol};

    #[test]
    fn string_writes_report_their_effects() {
        let mut c = TestClient::new();
        c.assert_effects(&["SET", "a", "1"], &["$:set:a"], 1);
        c.assert_effects(&["SET", "a", "2", "NX"], &[], 0);
        c.assert_effects(&["SET", "nope", "2", "XX"], &[], 0);
        c.assert_effects(&["SETNX", "a", "2"], &[], 0);
        c.assert_effects(&["SETEX", "e", "10", "v"], &["$:set:e", "g:expire:e"], 1);
        c.assert_effects(&["GETSET", "a", "3"], &["$:set:a"], 1);
        c.assert_effects(&["MSET", "a", "1", "b", "2"], &["$:set:a", "$:set:b"], 2);
        c.assert_effects(&["MSETNX", "a", "1", "c", "3"], &[], 0);
        c.assert_effects(&["MSETNX", "c", "3", "d", "4"], &["$:set:c", "$:set:d"], 2);
        c.assert_effects(&["SETRANGE", "a", "1", "x"], &["$:setrange:a"], 1);
        c.assert_effects(&["SETRANGE", "a", "1", ""], &[], 0);
        c.assert_effects(&["SETRANGE", "new", "0", ""], &[], 0);
        c.assert_effects(&["APPEND", "a", "y"], &["$:append:a"], 1);
        c.assert_effects(&["INCR", "n"], &["$:incrby:n"], 1);
        c.assert_effects(&["DECRBY", "n", "3"], &["$:incrby:n"], 1);
        c.assert_effects(&["INCR", "a"], &[], 0);
        c.assert_effects(&["INCRBYFLOAT", "n", "1.5"], &["$:incrbyfloat:n"], 1);
        c.assert_effects(&["GET", "a"], &[], 0);
    }

    #[test]
    fn getex_and_getdel_report_their_effects() {
        let mut c = TestClient::new();
        c.run(&["SET", "a", "1"]);
        c.assert_effects(&["GETEX", "a", "PERSIST"], &[], 0);
        c.assert_effects(&["GETEX", "a"], &[], 0);
        c.assert_effects(&["GETEX", "a", "EX", "100"], &["g:expire:a"], 1);
        c.assert_effects(&["GETEX", "a", "PERSIST"], &["g:persist:a"], 1);
        c.assert_effects(&["GETEX", "a", "PXAT", "1"], &["g:del:a"], 1);
        c.assert_effects(&["GETEX", "a", "EX", "100"], &[], 0);
        c.run(&["SET", "a", "1"]);
        c.assert_effects(&["GETDEL", "a"], &["g:del:a"], 1);
        c.assert_effects(&["GETDEL", "a"], &[], 0);
    }

    fn parse_set(words: &[&str]) -> Result<SetOptions<'static>, CommandError> {
        let command = Box::leak(Box::new(OwnedCommand::from_args(words.iter())));
        SetOptions::parse(&mut Args::new(command.args(), 0))
    }

    fn parse_getex(words: &[&str]) -> Result<GetExOptions<'static>, CommandError> {
        let command = Box::leak(Box::new(OwnedCommand::from_args(words.iter())));
        GetExOptions::parse(&mut Args::new(command.args(), 0))
    }

    /// The key's expiry, read straight from the keyspace.
    fn expire_at(c: &TestClient, key: &str) -> Option<i64> {
        let ks = &c.server.keyspace;
        let gate = ks.shared();
        let mut view = ks.lock_keys(&gate, 0, [key.as_bytes()]);
        view.shard(key.as_bytes()).expire_at(key.as_bytes())
    }

    /// OBJECT ENCODING of the key, read straight from the keyspace.
    fn encoding(c: &TestClient, key: &str) -> Option<&'static str> {
        let ks = &c.server.keyspace;
        let gate = ks.shared();
        let mut view = ks.lock_keys(&gate, 0, [key.as_bytes()]);
        view.shard(key.as_bytes())
            .peek(key.as_bytes(), crate::server::unix_ms())
            .map(|e| e.value().encoding_name())
    }

    fn now() -> i64 {
        crate::server::unix_ms()
    }

    #[test]
    fn set_options_parse_like_redis() {
        let o = parse_set(&["NX", "GET", "px", "5"]).unwrap();
        assert_eq!(o.condition, Condition::IfMissing);
        assert!(o.get);
        assert_eq!(
            o.ttl,
            TtlOption::Expire(Expire {
                kind: ExpireKind::Px,
                value: b"5"
            })
        );
        // A repeated option is fine and the last value wins; mixing kinds is not.
        let o = parse_set(&["EX", "10", "EX", "20"]).unwrap();
        assert_eq!(
            o.ttl,
            TtlOption::Expire(Expire {
                kind: ExpireKind::Ex,
                value: b"20"
            })
        );
        assert_eq!(
            parse_set(&["KEEPTTL", "KEEPTTL"]).unwrap().ttl,
            TtlOption::Keep
        );
        for bad in [
            &["EX"][..],
            &["EX", "10", "PX", "10"],
            &["NX", "XX"],
            &["XX", "NX"],
            &["EX", "10", "KEEPTTL"],
            &["KEEPTTL", "PXAT", "1"],
            &["PERSIST"],
            &["FOO"],
        ] {
            assert_eq!(parse_set(bad), Err(CommandError::Syntax), "{bad:?}");
        }
        assert_eq!(
            parse_getex(&["PERSIST", "PERSIST"]).unwrap().ttl,
            TtlOption::Persist
        );
        for bad in [
            &["NX"][..],
            &["GET"],
            &["KEEPTTL"],
            &["EX", "1", "PERSIST"],
            &["PERSIST", "EXAT", "1"],
        ] {
            assert_eq!(parse_getex(bad), Err(CommandError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn expire_deadlines_and_their_errors() {
        let e = |kind, value: &'static str| Expire {
            kind,
            value: value.as_bytes(),
        };
        assert_eq!(e(ExpireKind::Ex, "10").deadline(1000, "set"), Ok(11_000));
        assert_eq!(e(ExpireKind::Px, "10").deadline(1000, "set"), Ok(1010));
        assert_eq!(e(ExpireKind::ExAt, "10").deadline(1000, "set"), Ok(10_000));
        assert_eq!(e(ExpireKind::PxAt, "10").deadline(1000, "set"), Ok(10));
        let invalid = Err(CommandError::InvalidExpireTime("set"));
        assert_eq!(e(ExpireKind::Ex, "0").deadline(1000, "set"), invalid);
        assert_eq!(e(ExpireKind::PxAt, "-1").deadline(1000, "set"), invalid);
        assert_eq!(
            e(ExpireKind::Ex, "9223372036854776").deadline(1000, "set"),
            invalid
        );
        assert_eq!(
            e(ExpireKind::Px, "9223372036854775807").deadline(1000, "set"),
            invalid
        );
        assert_eq!(
            e(ExpireKind::ExAt, "9223372036854775").deadline(1000, "set"),
            Ok(9_223_372_036_854_775_000)
        );
        assert_eq!(
            e(ExpireKind::Ex, "x").deadline(1000, "set"),
            Err(CommandError::NotInteger)
        );
    }

    #[test]
    fn set_and_get() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "EX"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["SET", "k", "v", "EX", "0"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v", "EX", "-1"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v", "EX", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v", "PX", "9223372036854775807"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v", "EX", "0", "NX", "xx"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v2", "EX", "abc", "GET"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$1\r\nv\r\n");
    }

    #[test]
    fn set_nx_xx_get_combinations() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SET", "k", "v", "NX", "GET"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v2", "NX", "GET"]), "$1\r\nv\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(c.text(&["SET", "k", "v3", "XX", "GET"]), "$1\r\nv\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$2\r\nv3\r\n");
        assert_eq!(c.text(&["SET", "n", "1", "XX", "GET"]), "$-1\r\n");
        assert_eq!(c.text(&["GET", "n"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "nx", "nx"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "n", "v", "XX"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "get", "get"]), "$2\r\nv3\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "XX"]), "+OK\r\n");
        c.client.protocol = Protocol::Resp3;
        assert_eq!(c.text(&["SET", "k", "v", "NX"]), "_\r\n");
    }

    #[test]
    fn set_expiry_options() {
        let mut c = TestClient::new();
        let before = now();
        assert_eq!(
            c.text(&["SET", "k", "v", "px", "100", "px", "200000"]),
            "+OK\r\n"
        );
        let at = expire_at(&c, "k").unwrap();
        assert!(at >= before + 200_000 && at <= now() + 200_000);
        assert_eq!(c.text(&["SET", "k", "v", "KEEPTTL"]), "+OK\r\n");
        assert_eq!(expire_at(&c, "k"), Some(at));
        assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(expire_at(&c, "k"), None);
        assert_eq!(
            c.text(&["SET", "k", "v", "EXAT", "9223372036854775"]),
            "+OK\r\n"
        );
        assert_eq!(expire_at(&c, "k"), Some(9_223_372_036_854_775_000));
        assert_eq!(
            c.text(&["SET", "k", "v", "PXAT", "4000000000000"]),
            "+OK\r\n"
        );
        assert_eq!(expire_at(&c, "k"), Some(4_000_000_000_000));
        // A time already past: the SET succeeds and the key is gone at once.
        assert_eq!(c.text(&["SET", "k", "v", "EXAT", "1"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "PXAT", "100", "GET"]), "$-1\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["SET", "k", "v", "EX", "10", "GET"]), "$-1\r\n");
        assert!(expire_at(&c, "k").is_some());
    }

    #[test]
    fn set_encodings_follow_the_value() {
        let mut c = TestClient::new();
        c.run(&["SET", "a", "12345"]);
        assert_eq!(encoding(&c, "a"), Some("int"));
        c.run(&["SET", "a", "12345678901234567890"]);
        assert_eq!(encoding(&c, "a"), Some("embstr"));
        c.run(&["SET", "a", "1234567890123456789"]);
        assert_eq!(encoding(&c, "a"), Some("int"));
        c.run(&["SET", "a", &"x".repeat(45)]);
        assert_eq!(encoding(&c, "a"), Some("raw"));
    }

    #[test]
    fn setnx_setex_psetex_getset() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SETNX", "a", "1"]), ":1\r\n");
        assert_eq!(c.text(&["SETNX", "a", "5"]), ":0\r\n");
        assert_eq!(c.text(&["GET", "a"]), "$1\r\n1\r\n");
        assert_eq!(
            c.text(&["SETEX", "k", "0", "v"]),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            c.text(&["SETEX", "k", "abc", "v"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["SETEX", "k", "9223372036854775", "v"]),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            c.text(&["PSETEX", "k", "0", "v"]),
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        let before = now();
        assert_eq!(c.text(&["SETEX", "k", "100", "v"]), "+OK\r\n");
        let at = expire_at(&c, "k").unwrap();
        assert!(at >= before + 100_000 && at <= now() + 100_000);
        assert_eq!(c.text(&["PSETEX", "k", "100000", "v"]), "+OK\r\n");
        assert!(expire_at(&c, "k").is_some());
        assert_eq!(c.text(&["GETSET", "k", "newv"]), "$1\r\nv\r\n");
        assert_eq!(expire_at(&c, "k"), None);
        assert_eq!(c.text(&["GETSET", "nokey", "x"]), "$-1\r\n");
        assert_eq!(c.text(&["GET", "nokey"]), "$1\r\nx\r\n");
    }

    #[test]
    fn getex_options() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["GETEX", "nokey"]), "$-1\r\n");
        // The expire time is judged only for an existing string.
        assert_eq!(c.text(&["GETEX", "nokey", "EX", "-1"]), "$-1\r\n");
        assert_eq!(c.text(&["GETEX", "nokey", "EX", "abc"]), "$-1\r\n");
        assert_eq!(c.text(&["GETEX", "nokey", "NX"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["GETEX", "nokey", "KEEPTTL"]),
            "-ERR syntax error\r\n"
        );
        c.run(&["SET", "k", "v"]);
        assert_eq!(
            c.text(&["GETEX", "k", "EX", "0"]),
            "-ERR invalid expire time in 'getex' command\r\n"
        );
        assert_eq!(
            c.text(&["GETEX", "k", "EX", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["GETEX", "k", "PX", "9223372036854775807"]),
            "-ERR invalid expire time in 'getex' command\r\n"
        );
        assert_eq!(
            c.text(&["GETEX", "k", "EX", "100", "PERSIST"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(c.text(&["GETEX", "k", "GET"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["GETEX", "k"]), "$1\r\nv\r\n");
        assert_eq!(expire_at(&c, "k"), None);
        let before = now();
        assert_eq!(
            c.text(&["GETEX", "k", "EX", "100", "EX", "200"]),
            "$1\r\nv\r\n"
        );
        let at = expire_at(&c, "k").unwrap();
        assert!(at >= before + 200_000 && at <= now() + 200_000);
        assert_eq!(c.text(&["GETEX", "k"]), "$1\r\nv\r\n");
        assert_eq!(expire_at(&c, "k"), Some(at));
        assert_eq!(c.text(&["GETEX", "k", "PERSIST"]), "$1\r\nv\r\n");
        assert_eq!(expire_at(&c, "k"), None);
        assert_eq!(
            c.text(&["GETEX", "k", "EXAT", "9223372036854775"]),
            "$1\r\nv\r\n"
        );
        assert_eq!(expire_at(&c, "k"), Some(9_223_372_036_854_775_000));
        // An absolute time already past replies the value, then deletes the key.
        assert_eq!(c.text(&["GETEX", "k", "PXAT", "1"]), "$1\r\nv\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        c.run(&["SET", "n", "12345"]);
        assert_eq!(c.text(&["GETEX", "n", "PX", "5000"]), "$5\r\n12345\r\n");
        assert_eq!(encoding(&c, "n"), Some("int"));
    }

    #[test]
    fn getdel() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["GETDEL", "nokey"]), "$-1\r\n");
        c.run(&["SET", "n", "12345"]);
        assert_eq!(c.text(&["GETDEL", "n"]), "$5\r\n12345\r\n");
        assert_eq!(c.text(&["GET", "n"]), "$-1\r\n");
    }

    #[test]
    fn getrange_and_substr_clamp_like_redis() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "Hello World"]);
        for (start, end, want) in [
            ("0", "3", "$4\r\nHell\r\n"),
            ("-3", "-1", "$3\r\nrld\r\n"),
            ("0", "-1", "$11\r\nHello World\r\n"),
            ("10", "100", "$1\r\nd\r\n"),
            ("5", "3", "$0\r\n\r\n"),
            ("-1", "-5", "$0\r\n\r\n"),
            ("-100", "-50", "$1\r\nH\r\n"),
            ("-100", "2", "$3\r\nHel\r\n"),
            ("0", "-100", "$1\r\nH\r\n"),
            ("11", "11", "$0\r\n\r\n"),
            ("9223372036854775807", "-9223372036854775808", "$0\r\n\r\n"),
            (
                "-9223372036854775808",
                "9223372036854775807",
                "$11\r\nHello World\r\n",
            ),
        ] {
            assert_eq!(
                c.text(&["GETRANGE", "s", start, end]),
                want,
                "{start} {end}"
            );
        }
        assert_eq!(
            c.text(&["GETRANGE", "s", "abc", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["GETRANGE", "nokey", "0", "-1"]), "$0\r\n\r\n");
        assert_eq!(
            c.text(&["GETRANGE", "nokey", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        c.run(&["SET", "n", "12345"]);
        assert_eq!(c.text(&["GETRANGE", "n", "1", "-2"]), "$3\r\n234\r\n");
        assert_eq!(c.text(&["SUBSTR", "s", "0", "3"]), "$4\r\nHell\r\n");
        assert_eq!(c.text(&["SUBSTR", "n", "-2", "-1"]), "$2\r\n45\r\n");
        c.run(&["SET", "e", ""]);
        assert_eq!(c.text(&["GETRANGE", "e", "0", "-1"]), "$0\r\n\r\n");
        assert_eq!(c.text(&["GETRANGE", "e", "-1", "0"]), "$0\r\n\r\n");
    }

    #[test]
    fn setrange_pads_and_checks_limits() {
        let mut c = TestClient::with_config(&[("proto-max-bulk-len", "1048576")]);
        assert_eq!(c.text(&["SETRANGE", "nokey", "5", ""]), ":0\r\n");
        assert_eq!(c.text(&["GET", "nokey"]), "$-1\r\n");
        assert_eq!(
            c.text(&["SETRANGE", "nokey", "-1", ""]),
            "-ERR offset is out of range\r\n"
        );
        assert_eq!(
            c.text(&["SETRANGE", "nokey", "abc", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["SETRANGE", "nokey", "3", "ab"]), ":5\r\n");
        assert_eq!(c.text(&["GET", "nokey"]), "$5\r\n\0\0\0ab\r\n");
        assert_eq!(encoding(&c, "nokey"), Some("raw"));
        c.run(&["SET", "n", "12345"]);
        assert_eq!(c.text(&["SETRANGE", "n", "1", ""]), ":5\r\n");
        assert_eq!(encoding(&c, "n"), Some("int"));
        assert_eq!(c.text(&["SETRANGE", "n", "1", "x"]), ":5\r\n");
        assert_eq!(c.text(&["GET", "n"]), "$5\r\n1x345\r\n");
        assert_eq!(encoding(&c, "n"), Some("raw"));
        assert_eq!(c.text(&["SETRANGE", "big", "1048575", "a"]), ":1048576\r\n");
        assert_eq!(
            c.text(&["SETRANGE", "big2", "1048576", "a"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(
            c.text(&["SETRANGE", "n", "1048575", "ab"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        // Writing nothing reports the length, whatever the offset.
        assert_eq!(c.text(&["SETRANGE", "n", "99999999999", ""]), ":5\r\n");
        assert_eq!(
            c.text(&["SETRANGE", "n", "9223372036854775807", "x"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
    }

    #[test]
    fn append_and_strlen() {
        let mut c = TestClient::with_config(&[("proto-max-bulk-len", "1048576")]);
        assert_eq!(c.text(&["APPEND", "new", "123"]), ":3\r\n");
        assert_eq!(encoding(&c, "new"), Some("int"));
        assert_eq!(c.text(&["APPEND", "new", "4"]), ":4\r\n");
        assert_eq!(encoding(&c, "new"), Some("raw"));
        assert_eq!(c.text(&["GET", "new"]), "$4\r\n1234\r\n");
        assert_eq!(c.text(&["APPEND", "new2", "hello"]), ":5\r\n");
        assert_eq!(encoding(&c, "new2"), Some("embstr"));
        assert_eq!(c.text(&["STRLEN", "new"]), ":4\r\n");
        assert_eq!(c.text(&["STRLEN", "nokey"]), ":0\r\n");
        c.run(&["SET", "n", "-12345"]);
        assert_eq!(c.text(&["STRLEN", "n"]), ":6\r\n");
        c.run(&["SETRANGE", "big", "1048570", "a"]);
        assert_eq!(c.text(&["APPEND", "big", "bcdef"]), ":1048576\r\n");
        assert_eq!(
            c.text(&["APPEND", "big", "g"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(c.text(&["STRLEN", "big"]), ":1048576\r\n");
    }

    #[test]
    fn incr_family() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["INCR", "x"]), ":1\r\n");
        assert_eq!(c.text(&["DECR", "y"]), ":-1\r\n");
        assert_eq!(c.text(&["INCRBY", "x", "9"]), ":10\r\n");
        assert_eq!(c.text(&["DECRBY", "x", "20"]), ":-10\r\n");
        c.run(&["SET", "e", "10", "EX", "100"]);
        let at = expire_at(&c, "e");
        assert_eq!(c.text(&["INCR", "e"]), ":11\r\n");
        assert_eq!(expire_at(&c, "e"), at);
        assert_eq!(encoding(&c, "e"), Some("int"));
        c.run(&["SET", "f", "9223372036854775807"]);
        assert_eq!(
            c.text(&["INCR", "f"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        c.run(&["SET", "f", "-9223372036854775808"]);
        assert_eq!(
            c.text(&["DECR", "f"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(
            c.text(&["INCRBY", "f", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["DECRBY", "f", "-9223372036854775808"]),
            "-ERR decrement would overflow\r\n"
        );
        assert_eq!(
            c.text(&["DECRBY", "nokey", "-9223372036854775808"]),
            "-ERR decrement would overflow\r\n"
        );
        assert_eq!(
            c.text(&["DECRBY", "y2", "9223372036854775807"]),
            ":-9223372036854775807\r\n"
        );
        assert_eq!(c.text(&["DECRBY", "y2", "1"]), ":-9223372036854775808\r\n");
        for bad in ["foo", " 1", "1 "] {
            c.run(&["SET", "s", bad]);
            assert_eq!(
                c.text(&["INCR", "s"]),
                "-ERR value is not an integer or out of range\r\n"
            );
        }
        c.run(&["SET", "s", "10"]);
        c.run(&["APPEND", "s", "0"]);
        assert_eq!(encoding(&c, "s"), Some("raw"));
        assert_eq!(c.text(&["INCR", "s"]), ":101\r\n");
        assert_eq!(encoding(&c, "s"), Some("int"));
    }

    #[test]
    fn incrbyfloat_computes_in_long_double() {
        // Replies captured from redis-server 7.0.15 (x87 80-bit long double).
        let mut c = TestClient::new();
        c.run(&["SET", "k", "5000"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "k", "10.6"]),
            "$22\r\n5010.60000000000000009\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$22\r\n5010.60000000000000009\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "a", "0.1"]), "$3\r\n0.1\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "a", "0.2"]), "$3\r\n0.3\r\n");
        c.run(&["SET", "q", "100000"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "q", "2.2525"]),
            "$24\r\n100002.25249999999999773\r\n"
        );
        c.text(&["INCRBYFLOAT", "n", "0.024390243902439025"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "n", "-0.024390243902439025"]),
            "$1\r\n0\r\n"
        );
        c.run(&["SET", "t", "-1e-20"]);
        assert_eq!(c.text(&["INCRBYFLOAT", "t", "0"]), "$1\r\n0\r\n");
        c.run(&["SET", "m", "1.18e4932"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "m", "1.18e4932"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        c.run(&["SET", "o", "1e4933"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "o", "0"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            c.text(&["INCRBYFLOAT", "u", "1e-4952"]),
            "-ERR value is not a valid float\r\n"
        );
    }

    #[test]
    fn incrbyfloat_formats_and_errors() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["INCRBYFLOAT", "f", "1"]), "$1\r\n1\r\n");
        assert_eq!(encoding(&c, "f"), Some("embstr"));
        assert_eq!(c.text(&["INCRBYFLOAT", "f", "0.5"]), "$3\r\n1.5\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "f", "10.1"]), "$4\r\n11.6\r\n");
        assert_eq!(
            c.text(&["INCRBYFLOAT", "f", "abc"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            c.text(&["INCRBYFLOAT", "f", "nan"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            c.text(&["INCRBYFLOAT", "f", "inf"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        assert_eq!(
            c.text(&["INCRBYFLOAT", "f", "-inf"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        assert_eq!(c.text(&["GET", "f"]), "$4\r\n11.6\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "g", "3.0e3"]), "$4\r\n3000\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "g", "-3000"]), "$1\r\n0\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "z", "1e-20"]), "$1\r\n0\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "z2", "0x10"]), "$2\r\n16\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "z3", ".5"]), "$3\r\n0.5\r\n");
        assert_eq!(c.text(&["INCRBYFLOAT", "z4", "-0"]), "$1\r\n0\r\n");
        assert_eq!(
            c.text(&["INCRBYFLOAT", "z5", " 1"]),
            "-ERR value is not a valid float\r\n"
        );
        c.run(&["SET", "s", " 1"]);
        assert_eq!(
            c.text(&["INCRBYFLOAT", "s", "1"]),
            "-ERR value is not a valid float\r\n"
        );
        c.run(&["SET", "i", "10", "EX", "100"]);
        let at = expire_at(&c, "i");
        assert_eq!(c.text(&["INCRBYFLOAT", "i", "0.1"]), "$4\r\n10.1\r\n");
        assert_eq!(expire_at(&c, "i"), at);
        // The reply is a bulk string in RESP3 too.
        c.client.protocol = Protocol::Resp3;
        assert_eq!(c.text(&["INCRBYFLOAT", "i", "1"]), "$4\r\n11.1\r\n");
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut c = TestClient::new();
        c.run(&["SET", "s", "Hello World"]);
        c.run(&["SET", "n", "12345"]);
        assert_eq!(
            c.text(&["MGET", "s", "n", "nokey"]),
            "*3\r\n$11\r\nHello World\r\n$5\r\n12345\r\n$-1\r\n"
        );
        assert_eq!(
            c.text(&["MSET", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        assert_eq!(
            c.text(&["MSETNX", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'msetnx' command\r\n"
        );
        assert_eq!(c.text(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
        assert_eq!(c.text(&["MSETNX", "a", "1", "c", "2"]), ":0\r\n");
        assert_eq!(c.text(&["GET", "c"]), "$-1\r\n");
        assert_eq!(c.text(&["MSETNX", "c", "1", "d", "2"]), ":1\r\n");
        assert_eq!(c.text(&["MGET", "c", "d"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(c.text(&["MSETNX", "x", "1", "x", "2"]), ":1\r\n");
        assert_eq!(c.text(&["GET", "x"]), "$1\r\n2\r\n");
        assert_eq!(encoding(&c, "a"), Some("int"));
        c.run(&["SET", "t", "v", "EX", "100"]);
        c.run(&["MSET", "t", "w"]);
        assert_eq!(expire_at(&c, "t"), None);
        c.client.protocol = Protocol::Resp3;
        assert_eq!(c.text(&["MGET", "nokey", "a"]), "*2\r\n_\r\n$1\r\n1\r\n");
    }

    #[test]
    fn lcs_replies() {
        let mut c = TestClient::new();
        c.run(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
        assert_eq!(c.text(&["LCS", "a", "b"]), "$6\r\nmytext\r\n");
        assert_eq!(c.text(&["LCS", "a", "b", "LEN"]), ":6\r\n");
        assert_eq!(c.text(&["LCS", "a", "b", "LEN", "WITHMATCHLEN"]), ":6\r\n");
        assert_eq!(
            c.text(&["LCS", "a", "b", "WITHMATCHLEN"]),
            "$6\r\nmytext\r\n"
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "IDX"]),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
             *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
             $3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "MINMATCHLEN", "-5", "IDX"]),
            c.text(&["LCS", "a", "b", "IDX"])
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "idx", "len"]),
            "-ERR If you want both the length and indexes, please just use IDX.\r\n"
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "MINMATCHLEN"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["LCS", "a", "b", "MINMATCHLEN", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["LCS", "a", "b", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["LCS", "a", "nokey"]), "$0\r\n\r\n");
        assert_eq!(
            c.text(&["LCS", "a", "nokey", "IDX"]),
            "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"
        );
        c.run(&["MSET", "n", "12345", "m", "2345"]);
        assert_eq!(
            c.text(&["LCS", "n", "m", "IDX", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:4\r\n*2\r\n:0\r\n:3\r\n:4\r\n\
             $3\r\nlen\r\n:4\r\n"
        );
        c.client.protocol = Protocol::Resp3;
        assert_eq!(
            c.text(&["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
            "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
             *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"
        );
    }

    #[test]
    fn lcs_table_is_bounded_by_proto_max_bulk_len() {
        let mut c = TestClient::with_config(&[("proto-max-bulk-len", "1048576")]);
        // (511 + 1) * (511 + 1) * 4 bytes is exactly the limit; one more row is over it.
        c.run(&["SET", "x", &"a".repeat(511)]);
        c.run(&["SET", "y", &"a".repeat(511)]);
        assert_eq!(c.text(&["LCS", "x", "y", "LEN"]), ":511\r\n");
        c.run(&["SET", "x", &"a".repeat(512)]);
        assert_eq!(
            c.text(&["LCS", "x", "y", "LEN"]),
            "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
        );
    }
}
