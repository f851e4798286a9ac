//! Group `generic`: commands that work on keys whatever their type (DESIGN's "keys"): deletion,
//! existence, renaming and copying, expiry, iteration (KEYS, SCAN, RANDOMKEY) and OBJECT.

use common::glob::glob_match;
use common::keyspace::{Entry, Shard, lru_clock};
use common::value::Value;

use crate::effects::Event;

use super::args::is;
use super::{CommandContext, CommandError, Locking, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("del", del);
    r.add("unlink", unlink);
    r.add("exists", exists);
    r.add("type", type_);
    r.add("touch", touch);
    r.add("rename", rename);
    r.add("renamenx", renamenx);
    r.add_with("copy", copy, Locking::Exclusive);
    r.add_with("move", move_, Locking::Exclusive);
    // KEYS answers for one instant, as Redis does, so it runs alone.
    r.add_with("keys", keys, Locking::Exclusive);
    r.add("scan", scan);
    r.add("randomkey", randomkey);
    r.add("expire", expire);
    r.add("pexpire", pexpire);
    r.add("expireat", expireat);
    r.add("pexpireat", pexpireat);
    r.add("ttl", ttl);
    r.add("pttl", pttl);
    r.add("expiretime", expiretime);
    r.add("pexpiretime", pexpiretime);
    r.add("persist", persist);
    r.add_sub("object", "encoding", object_encoding);
    r.add_sub("object", "freq", object_freq);
    r.add_sub("object", "idletime", object_idletime);
    r.add_sub("object", "refcount", object_refcount);
    r.add_sub("object", "help", object_help);
    r.add("dump", dump);
    r.add("restore", restore);
}

const SAME_OBJECT: &str = "source and destination objects are the same";

/// Counts a read lookup in INFO's keyspace_hits / keyspace_misses, as Redis's read lookups do
/// (write lookups are not counted).
fn count_lookup(ctx: &mut CommandContext<'_>, key: &[u8], hit: bool) {
    ctx.db.shard(key).count_lookup(hit);
}

/// A read lookup that leaves the key's access clock alone (Redis's `LOOKUP_NOTOUCH`): expires
/// the key if due and counts the hit or miss.
fn peek<'c>(ctx: &'c mut CommandContext<'_>, key: &[u8]) -> Option<&'c Entry> {
    let now = ctx.now_ms;
    let hit = ctx.db.shard(key).contains(key, now);
    count_lookup(ctx, key, hit);
    if hit {
        ctx.db.shard(key).peek(key, now)
    } else {
        None
    }
}

/// A database index argument: an integer that fits Redis's `int`, inside `0..databases`.
fn db_index(ctx: &CommandContext<'_>, arg: &[u8]) -> Result<usize, CommandError> {
    let n = common::number::parse_i64(arg).ok_or(CommandError::NotInteger)?;
    if i32::try_from(n).is_err() {
        return Err(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(n)
        .ok()
        .filter(|&n| n < ctx.server.keyspace.databases())
        .ok_or(CommandError::DbIndexOutOfRange)
}

// ---------------------------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH

/// DEL frees big values in the background when `lazyfree-lazy-user-del` is on.
fn del(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let lazy = ctx
        .server
        .hot
        .lazyfree_lazy_user_del
        .load(std::sync::atomic::Ordering::Relaxed);
    delete_keys(ctx, lazy)
}

/// UNLINK always frees big values in the background.
fn unlink(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    delete_keys(ctx, true)
}

fn delete_keys(ctx: &mut CommandContext<'_>, lazy: bool) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let mut deleted = 0;
    for key in ctx.args.rest() {
        let shard = ctx.db.shard(key);
        // A key whose time has come counts as already gone.
        shard.expire_if_needed(key, now);
        if let Some(entry) = shard.remove(key) {
            if lazy {
                ctx.server.lazyfree.free_entry(entry);
            } else {
                drop(entry);
            }
            ctx.wrote(Event::Generic, "del", key);
            deleted += 1;
        }
    }
    ctx.reply.integer(deleted);
    Ok(())
}

/// EXISTS counts a key once per time it is named.
fn exists(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut count = 0;
    for key in ctx.args.rest() {
        if peek(ctx, key).is_some() {
            count += 1;
        }
    }
    ctx.reply.integer(count);
    Ok(())
}

fn type_(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let name = peek(ctx, key).map_or("none", |e| e.value().value_type().name());
    ctx.reply.simple(name.as_bytes());
    Ok(())
}

fn touch(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let mut touched = 0;
    for key in ctx.args.rest() {
        let hit = ctx.db.shard(key).get(key, now).is_some();
        count_lookup(ctx, key, hit);
        if hit {
            touched += 1;
        }
    }
    ctx.reply.integer(touched);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// RENAME, RENAMENX, COPY, MOVE

#[derive(Clone, Copy, PartialEq, Eq)]
enum IfTargetExists {
    Overwrite,
    Keep,
}

fn rename(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    rename_generic(ctx, IfTargetExists::Overwrite)
}

fn renamenx(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    rename_generic(ctx, IfTargetExists::Keep)
}

fn rename_generic(ctx: &mut CommandContext<'_>, mode: IfTargetExists) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let done = |ctx: &mut CommandContext<'_>, renamed: bool| match mode {
        IfTargetExists::Overwrite => ctx.reply.ok(),
        IfTargetExists::Keep => ctx.reply.integer(i64::from(renamed)),
    };
    if ctx.db.shard(src).get_mut(src, now).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    if src == dst {
        done(ctx, false);
        return Ok(());
    }
    // Redis looks the target up for writing in both modes, so one whose time has come
    // expires (and is reported) before it is replaced.
    let target_exists = ctx.db.shard(dst).get_mut(dst, now).is_some();
    if mode == IfTargetExists::Keep && target_exists {
        done(ctx, false);
        return Ok(());
    }
    let shard = ctx.db.shard(src);
    let expire = shard.expire_at(src);
    let Some(entry) = shard.remove(src) else {
        return Err(CommandError::NoSuchKey);
    };
    place(ctx.db.shard(dst), entry.with_key(dst), expire);
    ctx.modified(src);
    ctx.modified(dst);
    ctx.notify(Event::Generic, "rename_from", src);
    ctx.notify(Event::Generic, "rename_to", dst);
    ctx.dirty(1);
    // Redis's dbAdd signals the new key: clients blocked on it may be served.
    ctx.signal_ready(dst);
    done(ctx, true);
    Ok(())
}

/// Stores `entry` (replacing any key of that name and its TTL) with the expiry it carried.
fn place(shard: &mut Shard, entry: Entry, expire: Option<i64>) {
    let key: Box<[u8]> = entry.key().into();
    shard.insert(entry);
    if let Some(at) = expire {
        shard.set_expire(&key, at);
    }
}

/// COPY source destination [DB index] [REPLACE]
fn copy(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let src = ctx.args.next_key()?;
    let dst = ctx.args.next_key()?;
    let src_db = ctx.db.db();
    let mut dst_db = src_db;
    let mut replace = false;
    while let Some(arg) = ctx.args.next_opt() {
        if is(arg, "replace") {
            replace = true;
        } else if is(arg, "db") && !ctx.args.is_empty() {
            let index = ctx.args.next_bytes()?;
            dst_db = db_index(ctx, index)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if src_db == dst_db && src == dst {
        return Err(CommandError::err(SAME_OBJECT));
    }
    let now = ctx.now_ms;
    let source = ctx.db.shard(src).get(src, now).cloned();
    count_lookup(ctx, src, source.is_some());
    let Some(source) = source else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let expire = ctx.db.shard(src).expire_at(src);
    let target = ctx.db.shard_in(dst_db, dst);
    if target.get_mut(dst, now).is_some() && !replace {
        ctx.reply.integer(0);
        return Ok(());
    }
    // The copy is a new object: its access clock starts now.
    let mut entry = source.with_key(dst);
    entry.touch(lru_clock(now));
    place(target, entry, expire);
    ctx.modified_in(dst_db, dst);
    ctx.notify_in(dst_db, Event::Generic, "copy_to", dst);
    ctx.dirty(1);
    ctx.reply.integer(1);
    Ok(())
}

/// MOVE key db
fn move_(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let index = ctx.args.next_bytes()?;
    let dst_db = db_index(ctx, index)?;
    let src_db = ctx.db.db();
    if src_db == dst_db {
        return Err(CommandError::err(SAME_OBJECT));
    }
    let now = ctx.now_ms;
    if ctx.db.shard(key).get_mut(key, now).is_none()
        || ctx.db.shard_in(dst_db, key).get_mut(key, now).is_some()
    {
        ctx.reply.integer(0);
        return Ok(());
    }
    let shard = ctx.db.shard(key);
    let expire = shard.expire_at(key);
    let Some(entry) = shard.remove(key) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    place(ctx.db.shard_in(dst_db, key), entry, expire);
    ctx.modified_in(src_db, key);
    ctx.modified_in(dst_db, key);
    ctx.notify_in(src_db, Event::Generic, "move_from", key);
    ctx.notify_in(dst_db, Event::Generic, "move_to", key);
    ctx.dirty(1);
    ctx.reply.integer(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY

fn keys(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let pattern = ctx.args.next_bytes()?;
    let all = pattern == b"*";
    let now = ctx.now_ms;
    let db = ctx.db.db();
    let reply = &mut *ctx.reply;
    let header = reply.begin_deferred();
    let mut n = 0;
    ctx.db.for_each_shard_read(db, |shard| {
        shard.for_each(|e| {
            let key = e.key();
            // KEYS does not delete what it finds expired; it only leaves it out.
            let live = !e.is_volatile() || shard.expire_at(key).is_none_or(|at| at > now);
            if live && (all || glob_match(pattern, key, false)) {
                reply.bulk(key);
                n += 1;
            }
        });
    });
    reply.finish_deferred_array(header, n);
    Ok(())
}

/// A SCAN cursor as `strtoul` reads it in base 10: an optional sign (a minus wraps around), and
/// the empty string is cursor 0; leading spaces, trailing bytes and overflow are errors.
pub(super) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { n.wrapping_neg() } else { n })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let cursor =
        parse_cursor(ctx.args.next_bytes()?).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
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
        } else if is(arg, "type") {
            type_name = Some(ctx.args.next_bytes()?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms;
    let db = ctx.db.db();
    let mut found: Vec<Box<[u8]>> = Vec::new();
    let next = ctx.db.scan(db, cursor, count, |shard, key| {
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            return true;
        }
        if let Some(wanted) = type_name {
            // Redis reads the type through a counted read lookup.
            let name = match shard.peek(key, now) {
                Some(e) => e.value().value_type().name(),
                None => "none",
            };
            shard.count_lookup(name != "none");
            if !wanted.eq_ignore_ascii_case(name.as_bytes()) {
                return true;
            }
        }
        if !shard.expire_if_needed(key, now) && shard.peek(key, now).is_some() {
            found.push(key.into());
        }
        // Redis bounds a call by keys collected before filtering.
        true
    });
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(found.len());
    for key in &found {
        ctx.reply.bulk(key);
    }
    Ok(())
}

fn randomkey(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let db = ctx.db.db();
    match ctx
        .db
        .random_key(db, ctx.now_ms, &mut common::fast_rng::fast_rng())
    {
        Some(key) => ctx.reply.bulk(&key),
        None => ctx.reply.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Milliseconds,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    /// The time argument counts from now (EXPIRE, PEXPIRE).
    Now,
    /// The time argument is a Unix time (EXPIREAT, PEXPIREAT).
    Epoch,
}

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ExpireCondition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCondition {
    fn parse(options: impl Iterator<Item = impl AsRef<[u8]>>) -> Result<Self, CommandError> {
        let mut c = ExpireCondition::default();
        for opt in options {
            let opt = opt.as_ref();
            if is(opt, "nx") {
                c.nx = true;
            } else if is(opt, "xx") {
                c.xx = true;
            } else if is(opt, "gt") {
                c.gt = true;
            } else if is(opt, "lt") {
                c.lt = true;
            } else {
                return Err(CommandError::err(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CommandError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CommandError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose expiry is `current` (`None`: persistent, an infinite TTL) may take
    /// the expiry `when`.
    fn allows(self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt && current.is_none_or(|c| when <= c) {
            return false;
        }
        if self.lt && current.is_some_and(|c| when >= c) {
            return false;
        }
        true
    }
}

fn expire(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_generic(ctx, Base::Now, Unit::Seconds)
}

fn pexpire(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_generic(ctx, Base::Now, Unit::Milliseconds)
}

fn expireat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_generic(ctx, Base::Epoch, Unit::Seconds)
}

fn pexpireat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    expire_generic(ctx, Base::Epoch, Unit::Milliseconds)
}

/// The absolute expiry in Unix milliseconds, or `None` when it overflows.
fn expire_when(time: i64, base: Base, unit: Unit, now_ms: i64) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => time.checked_mul(1000)?,
        Unit::Milliseconds => time,
    };
    match base {
        Base::Now => ms.checked_add(now_ms),
        Base::Epoch => Some(ms),
    }
}

fn expire_generic(
    ctx: &mut CommandContext<'_>,
    base: Base,
    unit: Unit,
) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let time_arg = ctx.args.next_bytes()?;
    // Redis checks the options before the time.
    let condition = ExpireCondition::parse(ctx.args.rest())?;
    let time = common::number::parse_i64(time_arg).ok_or(CommandError::NotInteger)?;
    let now = ctx.now_ms;
    let when = expire_when(time, base, unit, now)
        .ok_or(CommandError::InvalidExpireTime(ctx.command.spec.name))?;
    let shard = ctx.db.shard(key);
    if shard.get_mut(key, now).is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    if !condition.allows(shard.expire_at(key), when) {
        ctx.reply.integer(0);
        return Ok(());
    }
    // While an AOF loads, a past time is kept as it is (Redis's checkAlreadyExpired): the
    // commands after it in the file still see the key.
    if when <= now && !common::keyspace::loading() {
        shard.remove(key);
        let del = ctx.deletion_command("lazyfree-lazy-expire");
        ctx.propagate_as(&[del, key]);
        ctx.wrote(Event::Generic, "del", key);
    } else {
        shard.set_expire(key, when);
        // Replicas get the absolute time in milliseconds, whatever the form sent.
        if ctx.command.spec.name != "pexpireat" {
            ctx.rewrite_arg(0, b"PEXPIREAT");
        }
        if base == Base::Now || unit == Unit::Seconds {
            ctx.rewrite_arg(2, when.to_string().as_bytes());
        }
        ctx.wrote(Event::Generic, "expire", key);
    }
    ctx.reply.integer(1);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TtlForm {
    Remaining,
    Absolute,
}

fn ttl(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ttl_generic(ctx, Unit::Seconds, TtlForm::Remaining)
}

fn pttl(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ttl_generic(ctx, Unit::Milliseconds, TtlForm::Remaining)
}

fn expiretime(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ttl_generic(ctx, Unit::Seconds, TtlForm::Absolute)
}

fn pexpiretime(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ttl_generic(ctx, Unit::Milliseconds, TtlForm::Absolute)
}

fn ttl_generic(
    ctx: &mut CommandContext<'_>,
    unit: Unit,
    form: TtlForm,
) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    if peek(ctx, key).is_none() {
        ctx.reply.integer(-2);
        return Ok(());
    }
    let Some(at) = ctx.db.shard(key).expire_at(key) else {
        ctx.reply.integer(-1);
        return Ok(());
    };
    let ms = match form {
        TtlForm::Remaining => at.saturating_sub(ctx.now_ms),
        TtlForm::Absolute => at,
    }
    .max(0);
    ctx.reply.integer(match unit {
        Unit::Milliseconds => ms,
        // Rounded to the nearest second, as Redis does.
        Unit::Seconds => ms.saturating_add(500) / 1000,
    });
    Ok(())
}

fn persist(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    let shard = ctx.db.shard(key);
    let removed = shard.get_mut(key, now).is_some() && shard.persist(key);
    if removed {
        ctx.wrote(Event::Generic, "persist", key);
    }
    ctx.reply.integer(i64::from(removed));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// OBJECT

/// Redis's refcount of a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Redis keeps one shared object for each integer below this.
const SHARED_INTEGERS: i64 = 10_000;

/// The entry behind `OBJECT <sub> key`: a counted lookup that leaves the access clock alone.
fn object_lookup<'c>(ctx: &'c mut CommandContext<'_>) -> Result<Option<&'c Entry>, CommandError> {
    let key = ctx.args.next_key()?;
    Ok(peek(ctx, key))
}

fn object_encoding(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    match object_lookup(ctx)?.map(|e| e.value().encoding_name()) {
        Some(name) => ctx.reply.bulk(name.as_bytes()),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn is_lfu(policy: &str) -> bool {
    policy.ends_with("-lfu")
}

fn object_idletime(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let now = lru_clock(ctx.now_ms);
    let Some(lru) = object_lookup(ctx)?.map(Entry::lru) else {
        ctx.reply.null();
        return Ok(());
    };
    let lfu = is_lfu(
        ctx.server
            .config()
            .get_str("maxmemory-policy")
            .unwrap_or_default(),
    );
    if lfu {
        return Err(CommandError::err(
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    ctx.reply.integer(i64::from(now.wrapping_sub(lru)));
    Ok(())
}

/// OBJECT FREQ: the key's LFU counter, decayed for its idle minutes (LFU policies only).
fn object_freq(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let now = ctx.now_ms;
    let Some(word) = object_lookup(ctx)?.map(Entry::lru) else {
        ctx.reply.null();
        return Ok(());
    };
    let access = ctx.server.keyspace.access_policy();
    if !access.lfu {
        return Err(CommandError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    ctx.reply.integer(i64::from(access.frequency(word, now)));
    Ok(())
}

fn object_refcount(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let Some(value) = object_lookup(ctx)?.map(|e| match e.value() {
        Value::Int(n) => Value::Int(*n),
        _ => Value::Raw,
    }) else {
        ctx.reply.null();
        return Ok(());
    };
    // Redis stores small integers as shared objects unless an LRU/LFU maxmemory policy needs a
    // per-key access clock in every object.
    let shared = match value {
        Value::Int(n) if (0..SHARED_INTEGERS).contains(&n) => {
            let config = ctx.server.config();
            let maxmemory = config.get_int("maxmemory").unwrap_or(0);
            let policy = config.get_str("maxmemory-policy").unwrap_or_default();
            maxmemory == 0 || !(policy.ends_with("-lru") || is_lfu(policy))
        }
        _ => false,
    };
    ctx.reply.integer(if shared { SHARED_REFCOUNT } else { 1 });
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

fn object_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    super::reply_help(ctx, OBJECT_HELP);
    Ok(())
}

/// DUMP key: the value in RDB encoding, with RDB version and CRC64 (common::rdb::writer).
fn dump(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let now = ctx.now_ms;
    match ctx.db.shard(key).get(key, now) {
        None => ctx.reply.null(),
        Some(entry) => {
            let payload = common::rdb::writer::dump_payload(entry);
            ctx.reply.bulk(&payload);
        }
    }
    Ok(())
}

/// RESTORE's options after the payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    /// IDLETIME seconds.
    idle: Option<i64>,
    /// FREQ counter.
    freq: Option<i64>,
}

impl RestoreOptions {
    fn parse(args: &[&[u8]]) -> Result<RestoreOptions, CommandError> {
        let mut opts = RestoreOptions::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i];
            let has_value = i + 1 < args.len();
            if is(arg, "replace") {
                opts.replace = true;
            } else if is(arg, "absttl") {
                opts.absttl = true;
            } else if is(arg, "idletime") && has_value && opts.freq.is_none() {
                let idle =
                    common::number::parse_i64(args[i + 1]).ok_or(CommandError::NotInteger)?;
                if idle < 0 {
                    return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
                }
                opts.idle = Some(idle);
                i += 1;
            } else if is(arg, "freq") && has_value && opts.idle.is_none() {
                let freq =
                    common::number::parse_i64(args[i + 1]).ok_or(CommandError::NotInteger)?;
                if !(0..=255).contains(&freq) {
                    return Err(CommandError::err(
                        "Invalid FREQ value, must be >= 0 and <= 255",
                    ));
                }
                opts.freq = Some(freq);
                i += 1;
            } else {
                return Err(CommandError::Syntax);
            }
            i += 1;
        }
        Ok(opts)
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency].
fn restore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let ttl_arg = ctx.args.next_bytes()?;
    let payload = ctx.args.next_bytes()?;
    let rest: Vec<&[u8]> = ctx.args.rest().collect();
    let opts = RestoreOptions::parse(&rest)?;
    let now = ctx.now_ms;
    if !opts.replace && ctx.db.shard(key).contains(key, now) {
        return Err(CommandError::Prefixed(
            "BUSYKEY",
            "Target key name already exists.".into(),
        ));
    }
    let mut ttl = common::number::parse_i64(ttl_arg).ok_or(CommandError::NotInteger)?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    if !common::rdb::reader::verify_dump_payload(
        payload,
        !ctx.server
            .rdb
            .skip_checksum_validation
            .load(std::sync::atomic::Ordering::Relaxed),
    ) {
        return Err(CommandError::err(
            "DUMP payload version or checksum are wrong",
        ));
    }
    let limits = crate::persistence::rdb::limits(ctx.server);
    let (object, validated) = common::rdb::reader::read_dump_payload_counted(payload, &limits, now)
        .map_err(|e| {
            // Redis's rdbReportError in a RESTORE context: logged at verbose, not fatal.
            ctx.server.log.verbose(&format!(
                "Internal error in RDB reading offset {}, function at rdb.c:0 -> {}",
                e.offset, e.kind
            ));
            CommandError::err("Bad data format")
        })?;
    // Payloads are always checked deeply; Redis counts the checks only when asked for them
    // ("clients" asks for every client: this server has no master link to exempt).
    let sanitize = ctx
        .server
        .config()
        .get_str("sanitize-dump-payload")
        .is_some_and(|m| m != "no");
    if sanitize {
        ctx.server
            .rdb
            .dump_payload_sanitizations
            .fetch_add(validated, std::sync::atomic::Ordering::Relaxed);
    }
    let deleted = opts.replace && ctx.db.shard(key).remove(key).is_some();
    if ttl > 0 && !opts.absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl > 0 && ttl <= now {
        if deleted {
            ctx.propagate_as(&[b"DEL", key]);
            ctx.wrote(Event::Generic, "del", key);
        }
        ctx.reply.ok();
        return Ok(());
    }
    let mut lru = ctx.lru();
    if let Some(idle) = opts.idle {
        let lfu = is_lfu(
            ctx.server
                .config()
                .get_str("maxmemory-policy")
                .unwrap_or_default(),
        );
        if !lfu {
            lru = lru.wrapping_sub(u32::try_from(idle).unwrap_or(u32::MAX));
        }
    }
    let access = ctx.server.keyspace.access_policy();
    if let Some(freq) = opts.freq.filter(|_| access.lfu) {
        lru = access.with_counter(now, u8::try_from(freq).unwrap_or(u8::MAX));
    }
    let entry = match object {
        common::rdb::reader::Object::String(bytes) => Entry::string(key, &bytes, lru),
        common::rdb::reader::Object::Value(v) => Entry::collection(key, v, lru),
    };
    let shard = ctx.db.shard(key);
    shard.insert(entry);
    if ttl > 0 {
        shard.set_expire(key, ttl);
        if !opts.absttl {
            // Replicas get the absolute time.
            ctx.rewrite_arg(2, ttl.to_string().as_bytes());
            let end = ctx.args.list().len();
            ctx.rewrite_arg(end, b"ABSTTL");
        }
    }
    ctx.signal_ready(key);
    ctx.wrote(Event::Generic, "restore", key);
    ctx.reply.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::TestClient;
    use std::collections::HashSet;

    #[test]
    fn key_writes_report_their_effects() {
        let mut c = TestClient::new();
        c.run(&["SET", "a", "1"]);
        c.assert_effects(
            &["RENAME", "a", "b"],
            &["g:rename_from:a", "g:rename_to:b"],
            1,
        );
        c.assert_effects(&["RENAME", "b", "b"], &[], 0);
        c.run(&["SET", "c", "1"]);
        c.assert_effects(&["RENAMENX", "b", "c"], &[], 0);
        c.assert_effects(&["COPY", "b", "c"], &[], 0);
        c.assert_effects(&["COPY", "b", "c", "REPLACE"], &["g:copy_to:c"], 1);
        c.assert_effects(&["COPY", "b", "d", "DB", "1"], &["g:copy_to:d"], 1);
        c.assert_effects(&["MOVE", "b", "2"], &["g:move_from:b", "g:move_to:b"], 1);
        c.assert_effects(&["MOVE", "nokey", "2"], &[], 0);
        c.assert_effects(&["EXPIRE", "c", "100"], &["g:expire:c"], 1);
        c.assert_effects(&["EXPIRE", "c", "100", "NX"], &[], 0);
        c.assert_effects(&["EXPIRE", "nokey", "100"], &[], 0);
        c.assert_effects(&["PERSIST", "c"], &["g:persist:c"], 1);
        c.assert_effects(&["PERSIST", "c"], &[], 0);
        c.assert_effects(&["PEXPIRE", "c", "-1"], &["g:del:c"], 1);
        c.run(&["MSET", "c", "1", "d", "2"]);
        c.assert_effects(&["DEL", "c", "nokey", "d"], &["g:del:c", "g:del:d"], 2);
        c.assert_effects(&["UNLINK", "nokey"], &[], 0);
        c.assert_effects(&["TOUCH", "nokey"], &[], 0);
    }

    #[test]
    fn move_and_copy_touch_the_key_in_the_target_db() {
        use crate::watch::WatchState;
        use std::sync::Arc;
        use std::sync::atomic::Ordering::Relaxed;
        let mut c = TestClient::new();
        let (from, to, copy) = (
            Arc::new(WatchState::default()),
            Arc::default(),
            Arc::default(),
        );
        c.server.watches.watch(0, b"k", &from, false);
        c.server.watches.watch(1, b"k", &to, false);
        c.server.watches.watch(2, b"c", &copy, false);
        c.run(&["SET", "k", "v"]);
        from.dirty.store(false, Relaxed);
        c.run(&["MOVE", "k", "1"]);
        c.run(&["SELECT", "1"]);
        c.run(&["COPY", "k", "c", "DB", "2"]);
        assert!(from.dirty.load(Relaxed) && to.dirty.load(Relaxed) && copy.dirty.load(Relaxed));
    }

    /// The elements of a flat array reply of bulk strings.
    fn bulks(reply: &str) -> Vec<String> {
        let mut lines = reply.split("\r\n");
        let mut out = Vec::new();
        lines.next();
        while let Some(line) = lines.next() {
            if line.starts_with('$') {
                out.push(lines.next().unwrap_or_default().to_owned());
            }
        }
        out
    }

    /// One SCAN reply: the next cursor and the keys.
    fn scan_step(reply: &[u8]) -> (String, Vec<String>) {
        let text = String::from_utf8_lossy(reply).into_owned();
        let mut parts = text.split("\r\n");
        assert_eq!(parts.next(), Some("*2"));
        parts.next();
        let cursor = parts.next().unwrap().to_owned();
        let n: usize = parts.next().unwrap()[1..].parse().unwrap();
        let mut keys = Vec::new();
        for _ in 0..n {
            parts.next();
            keys.push(parts.next().unwrap().to_owned());
        }
        (cursor, keys)
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    /// SET, done on the keyspace directly (the string family lives elsewhere).
    pub(crate) fn set_in(c: &TestClient, db: usize, key: &str, value: &str) {
        let gate = c.server.keyspace.shared();
        let mut view = c.server.keyspace.lock_keys(&gate, db, [key.as_bytes()]);
        let now = crate::server::unix_ms();
        view.shard(key.as_bytes()).insert(Entry::string(
            key.as_bytes(),
            value.as_bytes(),
            lru_clock(now),
        ));
    }

    fn set(c: &TestClient, key: &str, value: &str) {
        set_in(c, 0, key, value);
    }

    /// GET in database `db`, as text.
    fn get_in(c: &TestClient, db: usize, key: &str) -> Option<String> {
        let gate = c.server.keyspace.shared();
        let mut view = c.server.keyspace.lock_keys(&gate, db, [key.as_bytes()]);
        let now = crate::server::unix_ms();
        let entry = view.shard(key.as_bytes()).get(key.as_bytes(), now)?;
        let mut buf = [0u8; 20];
        let text = entry.as_str()?.bytes(&mut buf).to_vec();
        Some(String::from_utf8(text).unwrap())
    }

    /// Makes `key` hold a value that expired a moment ago, without removing it.
    fn plant_expired(c: &mut TestClient, key: &str) {
        set(c, key, "v");
        let gate = c.server.keyspace.shared();
        let mut view = c.server.keyspace.lock_keys(&gate, 0, [key.as_bytes()]);
        assert!(view.shard(key.as_bytes()).set_expire(key.as_bytes(), 1));
    }

    #[test]
    fn del_unlink_exists_type_touch() {
        let mut c = TestClient::new();
        set(&c, "a", "1");
        set(&c, "b", "hello");
        assert_eq!(c.text(&["EXISTS", "a", "a", "b", "c"]), ":3\r\n");
        assert_eq!(c.text(&["TYPE", "a"]), "+string\r\n");
        assert_eq!(c.text(&["TYPE", "zz"]), "+none\r\n");
        assert_eq!(c.text(&["TOUCH", "a", "b", "zz", "a"]), ":3\r\n");
        assert_eq!(c.text(&["DEL", "a", "zz", "a"]), ":1\r\n");
        assert_eq!(c.text(&["UNLINK", "b", "b"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "a", "b"]), ":0\r\n");
        assert_eq!(
            c.text(&["DEL"]),
            "-ERR wrong number of arguments for 'del' command\r\n"
        );
    }

    #[test]
    fn rename_and_renamenx() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["RENAME", "zz", "y"]), "-ERR no such key\r\n");
        assert_eq!(c.text(&["RENAMENX", "zz", "y"]), "-ERR no such key\r\n");
        set(&c, "a", "1");
        assert_eq!(c.text(&["RENAME", "a", "a"]), "+OK\r\n");
        assert_eq!(c.text(&["RENAMENX", "a", "a"]), ":0\r\n");
        set(&c, "b", "hello");
        assert_eq!(c.text(&["PEXPIRE", "b", "100000"]), ":1\r\n");
        assert_eq!(c.text(&["RENAME", "b", "c"]), "+OK\r\n");
        assert_eq!(c.text(&["EXISTS", "b"]), ":0\r\n");
        let pttl: i64 = c.text(&["PTTL", "c"])[1..].trim().parse().unwrap();
        assert!((99_000..=100_000).contains(&pttl));
        assert_eq!(c.text(&["RENAMENX", "a", "c"]), ":0\r\n");
        // RENAME over a volatile key gives the target the source's (absent) TTL.
        assert_eq!(c.text(&["RENAME", "a", "c"]), "+OK\r\n");
        assert_eq!(c.text(&["PTTL", "c"]), ":-1\r\n");
        assert_eq!(get_in(&c, 0, "c").as_deref(), Some("1"));
        assert_eq!(c.text(&["OBJECT", "ENCODING", "c"]), "$3\r\nint\r\n");
        assert_eq!(c.text(&["RENAMENX", "c", "d"]), ":1\r\n");
        assert_eq!(get_in(&c, 0, "d").as_deref(), Some("1"));
    }

    #[test]
    fn copy_with_db_and_replace() {
        let mut c = TestClient::new();
        set(&c, "c", "value");
        c.run(&["EXPIRE", "c", "100"]);
        assert_eq!(
            c.text(&["COPY", "c", "c"]),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(c.text(&["COPY", "c", "d"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "d"]), ":100\r\n");
        assert_eq!(c.text(&["COPY", "c", "d"]), ":0\r\n");
        assert_eq!(c.text(&["COPY", "c", "d", "replace"]), ":1\r\n");
        assert_eq!(
            c.text(&["COPY", "c", "d", "DB", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["COPY", "c", "d", "DB", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["COPY", "c", "d", "DB", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["COPY", "c", "d", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["COPY", "c", "d", "db"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["COPY", "c", "c", "DB", "1"]), ":1\r\n");
        assert_eq!(c.text(&["COPY", "zz", "c", "DB", "1"]), ":0\r\n");
        assert_eq!(
            c.text(&["COPY", "c", "k", "REPLACE", "REPLACE", "DB", "0", "DB", "3"]),
            ":1\r\n"
        );
        assert_eq!(get_in(&c, 3, "k").as_deref(), Some("value"));
        c.client.select(3);
        assert_eq!(c.text(&["TTL", "k"]), ":100\r\n");
    }

    #[test]
    fn move_between_databases() {
        let mut c = TestClient::new();
        set(&c, "c", "1");
        assert_eq!(
            c.text(&["MOVE", "c", "0"]),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(
            c.text(&["MOVE", "c", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["MOVE", "c", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["MOVE", "c", "4294967296"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(
            c.text(&["MOVE", "c", "9223372036854775808"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["COPY", "c", "d", "DB", "-2147483649"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(c.text(&["MOVE", "zz", "1"]), ":0\r\n");
        assert_eq!(c.text(&["PEXPIRE", "c", "50000"]), ":1\r\n");
        assert_eq!(c.text(&["MOVE", "c", "1"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "c"]), ":0\r\n");
        set(&c, "c", "2");
        assert_eq!(c.text(&["MOVE", "c", "1"]), ":0\r\n");
        assert_eq!(get_in(&c, 1, "c").as_deref(), Some("1"));
        c.client.select(1);
        assert_eq!(c.text(&["TTL", "c"]), ":50\r\n");
    }

    #[test]
    fn expire_options_and_errors() {
        let mut c = TestClient::new();
        set(&c, "a", "1");
        let nx_err = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
        let gtlt_err = "-ERR GT and LT options at the same time are not compatible\r\n";
        assert_eq!(c.text(&["EXPIRE", "a", "100", "nx", "xx"]), nx_err);
        assert_eq!(c.text(&["EXPIRE", "a", "100", "gt", "lt"]), gtlt_err);
        assert_eq!(c.text(&["EXPIRE", "a", "100", "nx", "gt"]), nx_err);
        assert_eq!(c.text(&["EXPIRE", "a", "100", "xx", "gt", "lt"]), gtlt_err);
        assert_eq!(
            c.text(&["EXPIRE", "a", "100", "foo"]),
            "-ERR Unsupported option foo\r\n"
        );
        assert_eq!(
            c.text(&["EXPIRE", "a", "abc", "foo"]),
            "-ERR Unsupported option foo\r\n"
        );
        assert_eq!(
            c.text(&["EXPIRE", "a", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        // GT never beats a persistent key's infinite TTL; LT always does.
        assert_eq!(c.text(&["EXPIRE", "a", "100", "gt"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "100", "lt"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "a"]), ":100\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "200", "NX"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "50", "xx"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "a"]), ":50\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "40", "gt"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "60", "gt"]), ":1\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "70", "lt"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "30", "lt"]), ":1\r\n");
        assert_eq!(c.text(&["EXPIRE", "a", "30", "xx", "xx"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "a"]), ":30\r\n");
        c.run(&["PERSIST", "a"]);
        assert_eq!(c.text(&["EXPIRE", "a", "10", "xx"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIRE", "zz", "10"]), ":0\r\n");
    }

    #[test]
    fn expire_overflow_and_past_times() {
        let mut c = TestClient::new();
        set(&c, "a", "1");
        for (cmd, t) in [
            ("EXPIRE", "9223372036854775807"),
            ("EXPIRE", "9223372036854775"),
            ("EXPIRE", "9223372036854774"),
            ("EXPIRE", "-9223372036854775808"),
            ("PEXPIRE", "9223372036854775807"),
            ("EXPIREAT", "9223372036854776"),
        ] {
            assert_eq!(
                c.text(&[cmd, "a", t]),
                format!(
                    "-ERR invalid expire time in '{}' command\r\n",
                    cmd.to_lowercase()
                )
            );
        }
        assert_eq!(c.text(&["PEXPIREAT", "a", "9223372036854775807"]), ":1\r\n");
        assert_eq!(c.text(&["EXPIREAT", "a", "9223372036854775"]), ":1\r\n");
        assert_eq!(c.text(&["EXPIRETIME", "a"]), ":9223372036854775\r\n");
        assert_eq!(c.text(&["EXPIREAT", "a", "-9223372036854775"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "a"]), ":0\r\n");
        set(&c, "a", "1");
        assert_eq!(c.text(&["EXPIRE", "a", "-1"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "a"]), ":0\r\n");
        set(&c, "a", "1");
        assert_eq!(c.text(&["EXPIREAT", "a", "1", "xx"]), ":0\r\n");
        assert_eq!(c.text(&["EXPIREAT", "a", "1", "lt"]), ":1\r\n");
        assert_eq!(c.text(&["EXISTS", "a"]), ":0\r\n");
        assert_eq!(c.text(&["PEXPIREAT", "a", "1"]), ":0\r\n");
    }

    #[test]
    fn ttl_family_and_persist() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["TTL", "zz"]), ":-2\r\n");
        assert_eq!(c.text(&["PTTL", "zz"]), ":-2\r\n");
        assert_eq!(c.text(&["EXPIRETIME", "zz"]), ":-2\r\n");
        assert_eq!(c.text(&["PEXPIRETIME", "zz"]), ":-2\r\n");
        assert_eq!(c.text(&["PERSIST", "zz"]), ":0\r\n");
        set(&c, "a", "1");
        assert_eq!(c.text(&["TTL", "a"]), ":-1\r\n");
        assert_eq!(c.text(&["PTTL", "a"]), ":-1\r\n");
        assert_eq!(c.text(&["EXPIRETIME", "a"]), ":-1\r\n");
        assert_eq!(c.text(&["PEXPIRETIME", "a"]), ":-1\r\n");
        assert_eq!(c.text(&["PERSIST", "a"]), ":0\r\n");
        assert_eq!(c.text(&["PEXPIREAT", "a", "99999999999999"]), ":1\r\n");
        assert_eq!(c.text(&["EXPIRETIME", "a"]), ":100000000000\r\n");
        assert_eq!(c.text(&["PEXPIRETIME", "a"]), ":99999999999999\r\n");
        assert_eq!(c.text(&["PEXPIRE", "a", "1800"]), ":1\r\n");
        // A little under 1800 ms rounds to 2 s; a little under 1400 ms to 1 s.
        assert_eq!(c.text(&["TTL", "a"]), ":2\r\n");
        assert_eq!(c.text(&["PEXPIRE", "a", "1400"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "a"]), ":1\r\n");
        assert_eq!(c.text(&["PERSIST", "a"]), ":1\r\n");
        assert_eq!(c.text(&["TTL", "a"]), ":-1\r\n");
    }

    #[test]
    fn object_subcommands() {
        let mut c = TestClient::new();
        set(&c, "a", "1");
        set(&c, "b", "10000");
        set(&c, "c", "hello");
        set(&c, "d", "012");
        set(&c, "e", &"x".repeat(45));
        assert_eq!(c.text(&["OBJECT", "ENCODING", "a"]), "$3\r\nint\r\n");
        assert_eq!(c.text(&["OBJECT", "encoding", "c"]), "$6\r\nembstr\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "d"]), "$6\r\nembstr\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
        assert_eq!(c.text(&["OBJECT", "ENCODING", "zz"]), "$-1\r\n");
        assert_eq!(c.text(&["OBJECT", "REFCOUNT", "a"]), ":2147483647\r\n");
        assert_eq!(c.text(&["OBJECT", "REFCOUNT", "b"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "REFCOUNT", "c"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "REFCOUNT", "zz"]), "$-1\r\n");
        assert_eq!(c.text(&["OBJECT", "IDLETIME", "c"]), ":0\r\n");
        assert_eq!(c.text(&["OBJECT", "IDLETIME", "zz"]), "$-1\r\n");
        assert_eq!(
            c.text(&["OBJECT", "HELP", "x"]),
            "-ERR wrong number of arguments for 'object|help' command\r\n"
        );
        assert_eq!(
            c.text(&["OBJECT", "ENCODING"]),
            "-ERR wrong number of arguments for 'object|encoding' command\r\n"
        );
        assert_eq!(
            c.text(&["OBJECT", "foo", "a"]),
            "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
        );
        assert_eq!(
            c.text(&["OBJECT"]),
            "-ERR wrong number of arguments for 'object' command\r\n"
        );
        let help = c.text(&["OBJECT", "HELP"]);
        assert!(help.starts_with(
            "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn object_idletime_ignores_its_own_lookup_and_refcount_follows_policy() {
        let mut c = TestClient::new();
        set(&c, "k", "v");
        {
            let gate = c.server.keyspace.shared();
            let mut view = c.server.keyspace.lock_keys(&gate, 0, [&b"k"[..]]);
            let now = crate::server::unix_ms();
            view.shard(b"k")
                .get_mut(b"k", now)
                .unwrap()
                .touch(lru_clock(now - 100_000));
        }
        // The clock may tick a second between the test's reading and the command's.
        let idle = |c: &mut TestClient| -> i64 {
            c.text(&["OBJECT", "IDLETIME", "k"])[1..]
                .trim()
                .parse()
                .unwrap()
        };
        assert!((100..=101).contains(&idle(&mut c)));
        assert!((100..=101).contains(&idle(&mut c)));
        assert_eq!(c.text(&["EXISTS", "k"]), ":1\r\n");
        assert_eq!(c.text(&["TYPE", "k"]), "+string\r\n");
        assert_eq!(c.text(&["TTL", "k"]), ":-1\r\n");
        assert!((100..=101).contains(&idle(&mut c)));
        assert_eq!(c.text(&["TOUCH", "k"]), ":1\r\n");
        assert_eq!(c.text(&["OBJECT", "IDLETIME", "k"]), ":0\r\n");

        let mut lru =
            TestClient::with_config(&[("maxmemory", "100mb"), ("maxmemory-policy", "allkeys-lru")]);
        set(&lru, "a", "1");
        assert_eq!(lru.text(&["OBJECT", "REFCOUNT", "a"]), ":1\r\n");
        let mut lfu = TestClient::with_config(&[("maxmemory-policy", "allkeys-lfu")]);
        set(&lfu, "a", "1");
        assert_eq!(
            lfu.text(&["OBJECT", "IDLETIME", "a"]),
            "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
        );
    }

    #[test]
    fn object_freq_follows_the_lfu_policy() {
        let mut c = TestClient::new();
        set(&c, "k", "v");
        assert_eq!(
            c.text(&["OBJECT", "FREQ", "k"]),
            "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
        );
        assert_eq!(c.text(&["OBJECT", "FREQ", "nokey"]), "$-1\r\n");
        let mut lfu = TestClient::with_config(&[("maxmemory-policy", "allkeys-lfu")]);
        lfu.run(&["SET", "k", "v"]);
        // New keys start at 5; the first accesses below the start value always count.
        assert_eq!(lfu.text(&["OBJECT", "FREQ", "k"]), ":5\r\n");
        lfu.run(&["GET", "k"]);
        let freq: i64 = lfu.text(&["OBJECT", "FREQ", "k"])[1..]
            .trim()
            .parse()
            .unwrap();
        assert!((5..=6).contains(&freq), "{freq}");
        let dump = lfu.run(&["DUMP", "k"]);
        let payload = &dump[dump.iter().position(|&b| b == b'\n').unwrap() + 1..dump.len() - 2];
        assert_eq!(
            lfu.run_bytes(&[b"RESTORE", b"r", b"0", payload, b"FREQ", b"100"]),
            b"+OK\r\n"
        );
        assert_eq!(lfu.text(&["OBJECT", "FREQ", "r"]), ":100\r\n");
    }

    #[test]
    fn keys_matches_globs() {
        let mut c = TestClient::new();
        for k in ["a", "b", "c", "dd"] {
            set(&c, k, "1");
        }
        assert_eq!(
            sorted(bulks(&c.text(&["KEYS", "*"]))),
            ["a", "b", "c", "dd"]
        );
        assert_eq!(sorted(bulks(&c.text(&["KEYS", "?"]))), ["a", "b", "c"]);
        assert_eq!(sorted(bulks(&c.text(&["KEYS", "[ab]"]))), ["a", "b"]);
        assert_eq!(c.text(&["KEYS", "x*"]), "*0\r\n");
        assert_eq!(c.text(&["KEYS", "d*"]), "*1\r\n$2\r\ndd\r\n");
    }

    #[test]
    fn scan_options_and_errors() {
        let mut c = TestClient::new();
        for k in ["a", "b", "c", "d"] {
            set(&c, k, "1");
        }
        let all = |c: &mut TestClient, args: &[&str]| {
            let (cursor, keys) = scan_step(&c.run(args));
            assert_eq!(cursor, "0");
            sorted(keys)
        };
        assert_eq!(all(&mut c, &["SCAN", "0"]), ["a", "b", "c", "d"]);
        assert_eq!(all(&mut c, &["SCAN", ""]), ["a", "b", "c", "d"]);
        assert_eq!(all(&mut c, &["SCAN", "+0"]), ["a", "b", "c", "d"]);
        assert_eq!(all(&mut c, &["SCAN", "-0"]), ["a", "b", "c", "d"]);
        assert_eq!(all(&mut c, &["SCAN", "0", "COUNT", "100"]).len(), 4);
        assert_eq!(
            all(&mut c, &["SCAN", "0", "type", "STRING", "match", "a"]),
            ["a"]
        );
        assert_eq!(all(&mut c, &["SCAN", "0", "TYPE", "string"]).len(), 4);
        assert_eq!(all(&mut c, &["SCAN", "0", "TYPE", "foo"]).len(), 0);
        assert_eq!(all(&mut c, &["SCAN", "0", "MATCH", "*"]).len(), 4);
        assert_eq!(c.text(&["SCAN", "-1"]), "*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(
            c.text(&["SCAN", "18446744073709551615"]),
            "*2\r\n$1\r\n0\r\n*0\r\n"
        );
        for bad in ["abc", "18446744073709551616", " 0", "-", "+", "1-", "0x1"] {
            assert_eq!(c.text(&["SCAN", bad]), "-ERR invalid cursor\r\n", "{bad:?}");
        }
        for args in [
            &["SCAN", "0", "COUNT", "0"][..],
            &["SCAN", "0", "COUNT", "-1"],
            &["SCAN", "0", "MATCH"],
            &["SCAN", "0", "foo", "bar"],
        ] {
            assert_eq!(c.text(args), "-ERR syntax error\r\n");
        }
        assert_eq!(
            c.text(&["SCAN", "0", "COUNT", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn scan_returns_every_key_present_throughout_while_keys_are_added() {
        let mut c = TestClient::new();
        for i in 0..500 {
            set(&c, &format!("old:{i}"), "v");
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_owned();
        let mut added = 0;
        loop {
            let (next, keys) = scan_step(&c.run(&["SCAN", &cursor, "COUNT", "7"]));
            seen.extend(keys);
            // Grow the table between calls, forcing rehashes mid-scan.
            for _ in 0..20 {
                set(&c, &format!("new:{added}"), "v");
                added += 1;
            }
            if next == "0" {
                break;
            }
            cursor = next;
        }
        for i in 0..500 {
            assert!(seen.contains(&format!("old:{i}")), "old:{i} missed");
        }
    }

    #[test]
    fn expired_keys_are_invisible() {
        let mut c = TestClient::new();
        set(&c, "live", "v");
        for k in ["x1", "x2", "x3"] {
            plant_expired(&mut c, k);
        }
        assert_eq!(c.text(&["DBSIZE"]), ":4\r\n");
        assert_eq!(c.text(&["KEYS", "*"]), "*1\r\n$4\r\nlive\r\n");
        assert_eq!(c.text(&["KEYS", "x*"]), "*0\r\n");
        let (cursor, keys) = scan_step(&c.run(&["SCAN", "0", "COUNT", "1000"]));
        assert_eq!((cursor.as_str(), keys), ("0", vec!["live".to_owned()]));
        // SCAN removed what it found expired.
        assert_eq!(c.text(&["DBSIZE"]), ":1\r\n");
        plant_expired(&mut c, "x1");
        assert_eq!(c.text(&["EXISTS", "x1", "live"]), ":1\r\n");
        assert_eq!(c.text(&["DBSIZE"]), ":1\r\n");
        plant_expired(&mut c, "x2");
        assert_eq!(c.text(&["TYPE", "x2"]), "+none\r\n");
        assert_eq!(c.text(&["TTL", "x2"]), ":-2\r\n");
        assert_eq!(c.text(&["DEL", "live"]), ":1\r\n");
        for k in ["x1", "x2", "x3"] {
            plant_expired(&mut c, k);
        }
        assert_eq!(c.text(&["RANDOMKEY"]), "$-1\r\n");
        assert_eq!(c.text(&["DBSIZE"]), ":0\r\n");
        plant_expired(&mut c, "x1");
        set(&c, "live", "v");
        for _ in 0..10 {
            assert_eq!(c.text(&["RANDOMKEY"]), "$4\r\nlive\r\n");
        }
        plant_expired(&mut c, "x1");
        assert_eq!(c.text(&["RENAME", "x1", "y"]), "-ERR no such key\r\n");
        assert_eq!(c.text(&["COPY", "x1", "y"]), ":0\r\n");
        assert_eq!(c.text(&["MOVE", "x1", "1"]), ":0\r\n");
    }

    #[test]
    fn randomkey_draws_from_every_shard() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["RANDOMKEY"]), "$-1\r\n");
        for i in 0..50 {
            set(&c, &format!("k{i}"), "v");
        }
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            seen.insert(bulks(&format!("*1\r\n{}", c.text(&["RANDOMKEY"])))[0].clone());
        }
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn keyspace_hits_and_misses_count_read_lookups() {
        let mut c = TestClient::new();
        set(&c, "a", "1");
        let lookups = |c: &mut TestClient| {
            let info = c.text(&["INFO", "stats"]);
            let field = |name: &str| -> u64 {
                info.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap()
            };
            (field("keyspace_hits:"), field("keyspace_misses:"))
        };
        let before = lookups(&mut c);
        c.run(&["EXISTS", "a", "b"]);
        c.run(&["TTL", "a"]);
        c.run(&["DEL", "zz"]);
        let stats = lookups(&mut c);
        assert_eq!(stats.0 - before.0, 2);
        assert_eq!(stats.1 - before.1, 1);
    }

    #[test]
    fn expire_condition_semantics() {
        let parse = |opts: &[&str]| ExpireCondition::parse(opts.iter().map(|o| o.as_bytes()));
        let gt = parse(&["GT"]).unwrap();
        assert!(!gt.allows(None, 5));
        assert!(gt.allows(Some(4), 5));
        assert!(!gt.allows(Some(5), 5));
        let lt = parse(&["lt"]).unwrap();
        assert!(lt.allows(None, 5));
        assert!(!lt.allows(Some(5), 5));
        let xx_gt = parse(&["xx", "gt"]).unwrap();
        assert!(!xx_gt.allows(None, 5));
        assert!(parse(&["nx", "lt"]).is_err());
        assert_eq!(
            expire_when(i64::MAX / 1000 + 1, Base::Epoch, Unit::Seconds, 0),
            None
        );
        assert_eq!(
            expire_when(-5, Base::Now, Unit::Seconds, 10_000),
            Some(5_000)
        );
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn bulk_payload(reply: Vec<u8>) -> Vec<u8> {
        let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
        reply[start..reply.len() - 2].to_vec()
    }

    #[test]
    fn dump_payloads_are_byte_identical_to_redis() {
        // DUMP replies of Redis 7.0.15 for the same values.
        let mut c = TestClient::new();
        c.run(&["SET", "k", "bar"]);
        c.run(&["SET", "n", "12345"]);
        c.run(&["HSET", "h", "f", "v"]);
        c.run(&["SADD", "s", "1", "2", "3"]);
        for (key, hex) in [
            ("k", "00036261720a00e6be4960ee66fd17"),
            ("n", "00c139300a009d94ea2793fc08b9"),
            ("h", "100d0d0000000200816602817602ff0a0020f13d442354089d"),
            ("s", "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"),
        ] {
            assert_eq!(bulk_payload(c.run(&["DUMP", key])), unhex(hex), "{key}");
        }
        assert_eq!(c.text(&["DUMP", "missing"]), "$-1\r\n");

        // With sanitize-dump-payload yes, each listpack or intset checked is counted.
        let payload = bulk_payload(c.run(&["DUMP", "h"]));
        let count = |c: &mut TestClient| {
            let info = c.text(&["INFO", "stats"]);
            info.lines()
                .find_map(|l| l.strip_prefix("dump_payload_sanitizations:"))
                .unwrap()
                .to_owned()
        };
        c.run_bytes(&[b"RESTORE", b"h2", b"0", &payload]);
        assert_eq!(count(&mut c), "0");
        c.run(&["CONFIG", "SET", "sanitize-dump-payload", "yes"]);
        c.run_bytes(&[b"RESTORE", b"h3", b"0", &payload]);
        assert_eq!(count(&mut c), "1");
    }

    #[test]
    fn restore_round_trips_and_reports_redis_errors() {
        let mut c = TestClient::new();
        c.run(&["RPUSH", "l", "a", "b", "c"]);
        let payload = bulk_payload(c.run(&["DUMP", "l"]));
        let p = payload.as_slice();
        let restore = |c: &mut TestClient, args: &[&[u8]]| {
            let mut all: Vec<&[u8]> = vec![b"RESTORE"];
            all.extend_from_slice(args);
            String::from_utf8(c.run_bytes(&all)).unwrap()
        };
        assert_eq!(
            restore(&mut c, &[b"l", b"0", p]),
            "-BUSYKEY Target key name already exists.\r\n"
        );
        assert_eq!(
            restore(&mut c, &[b"x", b"-1", p]),
            "-ERR Invalid TTL value, must be >= 0\r\n"
        );
        assert_eq!(
            restore(&mut c, &[b"x", b"abc", p]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            restore(&mut c, &[b"x", b"0", b"garbage"]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        assert_eq!(
            restore(&mut c, &[b"x", b"0", p, b"IDLETIME", b"-1"]),
            "-ERR Invalid IDLETIME value, must be >= 0\r\n"
        );
        assert_eq!(
            restore(&mut c, &[b"x", b"0", p, b"FREQ", b"300"]),
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
        );
        for bad in [
            &[&b"IDLETIME"[..], b"1", b"FREQ", b"3"][..],
            &[b"IDLETIME"],
            &[b"bogus"],
        ] {
            let mut args: Vec<&[u8]> = vec![b"x", b"0", p];
            args.extend_from_slice(bad);
            assert_eq!(restore(&mut c, &args), "-ERR syntax error\r\n");
        }
        // A valid footer around a body that is no value.
        let mut body = vec![0u8, 0x05, b'a'];
        body.extend_from_slice(&10u16.to_le_bytes());
        let crc = common::rdb::crc64::crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            restore(&mut c, &[b"x", b"0", &body]),
            "-ERR Bad data format\r\n"
        );

        assert_eq!(restore(&mut c, &[b"copy", b"5000", p]), "+OK\r\n");
        assert_eq!(
            c.text(&["LRANGE", "copy", "0", "-1"]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        let pttl: i64 = c.text(&["PTTL", "copy"])[1..].trim().parse().unwrap();
        assert!(pttl > 4000 && pttl <= 5000);
        assert_eq!(
            restore(
                &mut c,
                &[b"copy", b"0", p, b"REPLACE", b"IDLETIME", b"1000"]
            ),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["PTTL", "copy"]), ":-1\r\n");
        let idle: i64 = c.text(&["OBJECT", "IDLETIME", "copy"])[1..]
            .trim()
            .parse()
            .unwrap();
        assert!((1000..1010).contains(&idle));
        // An absolute TTL in the past: OK, and the replaced key is gone.
        assert_eq!(
            restore(&mut c, &[b"copy", b"1", p, b"REPLACE", b"ABSTTL"]),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["EXISTS", "copy"]), ":0\r\n");
    }
}
