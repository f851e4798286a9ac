//! DEBUG: the subcommands Redis's test suite leans on (SLEEP, SET-ACTIVE-EXPIRE, OBJECT, RELOAD,
//! DIGEST, DIGEST-VALUE, PROTOCOL, ERROR, LOG, CHANGE-REPL-ID, STRINGMATCH-TEST, PAUSE-CRON,
//! SEGFAULT, AOF-FLUSH-SLEEP, HELP).
//!
//! DEBUG runs under the exclusive gate: Redis runs it with the whole server stopped, and DIGEST
//! needs every database at once.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::glob::glob_match;
use common::keyspace::{Entry, Shard, lru_clock};
use common::number::parse_i64;
use common::resp::Protocol;
use common::value::Value;
use common::value::string::StrRef;
use rand::Rng;

use crate::commands::{CommandContext, CommandError, Locking, Registry};
use crate::server::Server;

pub(super) fn register(r: &mut Registry) {
    r.add_with("debug", debug, Locking::Exclusive);
}

/// Redis's help lines for the subcommands served here, in its order and words.
const DEBUG_HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
];

fn debug(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let sub = ctx.args.get(1).unwrap_or_default().to_ascii_lowercase();
    let argc = ctx.args.argc();
    let args = ctx.args;
    let arg = |i: usize| args.get(i).unwrap_or_default();
    match (sub.as_slice(), argc) {
        (b"help", 2) => {
            crate::commands::reply_help(ctx, DEBUG_HELP);
        }
        (b"log", 3) => {
            let message = format!("DEBUG LOG: {}", String::from_utf8_lossy(c_str(arg(2))));
            ctx.server.log.warning(&message);
            ctx.reply.ok();
        }
        (b"object", 3) => return object(ctx),
        (b"reload", _) => return reload(ctx),
        (b"set-skip-checksum-validation", 3) => {
            let skip = atoi(arg(2)) != 0;
            ctx.server.rdb.skip_checksum_validation.store(skip, Relaxed);
            ctx.reply.ok();
        }
        (b"populate", 3..=5) => return populate(ctx),
        (b"loadaof", 2) => {
            crate::persistence::aof::debug_loadaof(ctx.server, &mut ctx.db);
            crate::propagate::discard_unit();
            ctx.prevent_propagation();
            ctx.reply.ok();
        }
        (b"digest", 2) => {
            let digest = dataset_digest(ctx);
            ctx.reply.simple(hex(&digest).as_bytes());
        }
        (b"digest-value", _) => {
            ctx.reply.array(argc - 2);
            for i in 2..argc {
                let key = arg(i);
                let shard: &Shard = ctx.db.shard(key);
                let mut digest = [0u8; 20];
                if let Some(entry) = shard.peek_stored(key) {
                    value_digest(&mut digest, shard, entry);
                }
                ctx.reply.simple(hex(&digest).as_bytes());
            }
        }
        (b"protocol", 3) => return protocol(ctx),
        (b"segfault", _) => crate::crash::segfault(),
        (b"aof-flush-sleep", 3) => {
            let micros = u64::try_from(atoi(arg(2))).unwrap_or(0);
            ctx.server.aof.flush_sleep_us.store(micros, Relaxed);
            ctx.reply.ok();
        }
        (b"sleep", 3) => {
            // strtod's reading: a bad number sleeps 0 seconds; the cast saturates as C's
            // conversion of an out-of-range double does not promise to.
            let micros = (strtod(arg(2)) * 1_000_000.0) as i64;
            if micros > 0 {
                std::thread::sleep(Duration::from_micros(micros.unsigned_abs()));
            }
            ctx.reply.ok();
        }
        (b"config-rewrite-force-all", 2) => {
            match super::config::rewrite_config_file(ctx.server, true) {
                Ok(()) => ctx.reply.ok(),
                Err(e) => {
                    let text = e.to_string();
                    let reason = text.split(" (os error ").next().unwrap_or_default();
                    return Err(CommandError::err(format!(
                        "CONFIG-REWRITE-FORCE-ALL failed: {reason}"
                    )));
                }
            }
        }
        (b"mallctl", 3..) => {
            let name = mallctl_name(arg(2))?;
            let new = match ctx.args.get(3) {
                Some(v) => Some(parse_i64(v).ok_or(CommandError::NotInteger)?),
                None => None,
            };
            match mallctl_int(&name, new) {
                Ok(Some(old)) => ctx.reply.integer(old),
                Ok(None) => ctx.reply.ok(),
                Err(code) => return Err(CommandError::err(strerror(code))),
            }
        }
        (b"mallctl-str", 3..) => {
            let name = mallctl_name(arg(2))?;
            let new = match ctx.args.get(3) {
                Some(v) if v == b"VOID" => Some(None),
                Some(v) => Some(Some(mallctl_name(v)?)),
                None => None,
            };
            match mallctl_string(&name, new) {
                Ok(Some(old)) => ctx.reply.bulk(&old),
                Ok(None) => ctx.reply.ok(),
                Err(code) => return Err(CommandError::err(strerror(code))),
            }
        }
        (b"pause-cron", 3) => {
            let paused = atoi(arg(2)) != 0;
            ctx.server.cron_paused.store(paused, Relaxed);
            ctx.reply.ok();
        }
        (b"set-active-expire", 3) => {
            let enabled = atoi(arg(2)) != 0;
            ctx.server.active_expire_enabled.store(enabled, Relaxed);
            ctx.reply.ok();
        }
        (b"error", 3) => {
            // Sent as is, not as an error reply: Redis counts it in no error statistics.
            let mut line = Vec::with_capacity(arg(2).len() + 3);
            line.push(b'-');
            line.extend(
                arg(2)
                    .iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            line.extend_from_slice(b"\r\n");
            ctx.reply.extend_raw(&line);
        }
        (b"change-repl-id", 2) => {
            // This server keeps no replication IDs yet, so there is nothing to change.
            ctx.server
                .log
                .warning("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.reply.ok();
        }
        (b"stringmatch-test", 2) => {
            stringmatch_fuzz(STRINGMATCH_CYCLES);
            ctx.reply
                .simple(b"Apparently Redis did not crash: test passed");
        }
        _ => {
            let name = c_str(arg(1));
            return Err(CommandError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                String::from_utf8_lossy(&name[..name.len().min(128)]),
                String::from_utf8_lossy(arg(0)).to_ascii_uppercase()
            )));
        }
    }
    Ok(())
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the RDB, empty the keyspace, load the file
/// back (all under the exclusive gate).
fn reload(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in ctx.args.list().iter().skip(2) {
        if opt.eq_ignore_ascii_case(b"merge") {
            merge = true;
        } else if opt.eq_ignore_ascii_case(b"noflush") {
            flush = false;
        } else if opt.eq_ignore_ascii_case(b"nosave") {
            save = false;
        } else {
            return Err(CommandError::err(
                "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    let server = ctx.server;
    if save {
        crate::persistence::rdb::kill_bgsave(server);
        if crate::persistence::rdb::save(server, &mut ctx.db).is_err() {
            ctx.reply.error(b"ERR");
            return Ok(());
        }
    }
    if flush {
        crate::persistence::rdb::flush_all(server, &mut ctx.db);
    }
    if let Err(e) = crate::persistence::rdb::load_file(server, &mut ctx.db, merge) {
        server.log.warning(&e);
        return Err(CommandError::err("Error trying to load the RDB dump"));
    }
    server.log.warning("DB reloaded by DEBUG RELOAD");
    ctx.reply.ok();
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]: `count` string keys `<prefix>:<n>` (prefix `key`)
/// holding `value:<n>`, or that text cut or zero-padded to `size` bytes; keys that exist are
/// left alone. Neither dirty nor propagated, as in Redis.
fn populate(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let positive = |arg: &[u8]| -> Result<usize, CommandError> {
        let n = common::number::parse_i64(arg).ok_or(CommandError::NotInteger)?;
        usize::try_from(n).map_err(|_| CommandError::err("value is out of range, must be positive"))
    };
    let count = positive(ctx.args.get(2).unwrap_or_default())?;
    let prefix = ctx.args.get(3).unwrap_or(b"key").to_vec();
    let size = match ctx.args.get(4) {
        Some(arg) => positive(arg)?,
        None => 0,
    };
    let (now, lru) = (ctx.now_ms, ctx.lru());
    for n in 0..count {
        let mut key = prefix.clone();
        key.push(b':');
        key.extend_from_slice(n.to_string().as_bytes());
        let shard = ctx.db.shard(&key);
        if shard.get(&key, now).is_some() {
            continue;
        }
        let mut value = format!("value:{n}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        shard.insert(Entry::string(&key, &value, lru));
        ctx.modified(&key);
    }
    ctx.reply.ok();
    Ok(())
}

/// DEBUG OBJECT key: Redis's one-line summary of the value. The key is read as stored, expired
/// or not, without touching its access clock.
fn object(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.get(2).unwrap_or_default();
    let server = ctx.server;
    let now_ms = ctx.now_ms;
    let entry = ctx
        .db
        .shard(key)
        .peek_stored(key)
        .ok_or(CommandError::NoSuchKey)?;
    let (refcount, lru) = match entry.value() {
        Value::Int(n) if is_shared_integer(server, *n) => {
            (SHARED_REFCOUNT, lru_clock(server.started_unix_ms))
        }
        _ => (1, entry.lru()),
    };
    let lru = lru & LRU_CLOCK_MAX;
    let line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{lru} lru_seconds_idle:{}",
        entry as *const Entry,
        entry.value().encoding_name(),
        serialized_len(entry),
        idle_seconds(lru, lru_clock(now_ms) & LRU_CLOCK_MAX),
    );
    ctx.reply.simple(line.as_bytes());
    Ok(())
}

/// The refcount Redis reports for its shared objects.
const SHARED_REFCOUNT: u32 = i32::MAX as u32;

/// Redis keeps a 24-bit LRU clock in each object.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Whether Redis would hold this integer as one of its shared objects (0..=9999), which it
/// does unless an LRU or LFU eviction policy needs a clock per key.
fn is_shared_integer(server: &Server, n: i64) -> bool {
    if !(0..10_000).contains(&n) {
        return false;
    }
    let config = server.config();
    let maxmemory = config.get_int("maxmemory").unwrap_or(0);
    let policy = config.get_str("maxmemory-policy").unwrap_or_default();
    maxmemory == 0 || !(policy.contains("lru") || policy.contains("lfu"))
}

/// Seconds since `lru`, on Redis's wrapping 24-bit clock.
fn idle_seconds(lru: u32, now: u32) -> u32 {
    if now >= lru {
        now - lru
    } else {
        now + (LRU_CLOCK_MAX - lru)
    }
}

/// Bytes of an RDB length prefix.
fn rdb_len_size(len: usize) -> usize {
    match len {
        0..64 => 1,
        64..16384 => 2,
        _ if u32::try_from(len).is_ok() => 5,
        _ => 9,
    }
}

/// Bytes of an integer in RDB's compact integer encodings, if it fits one (8, 16, 32 bits).
fn rdb_int_size(n: i64) -> Option<usize> {
    if i8::try_from(n).is_ok() {
        Some(2)
    } else if i16::try_from(n).is_ok() {
        Some(3)
    } else if i32::try_from(n).is_ok() {
        Some(5)
    } else {
        None
    }
}

/// The length of the value as an RDB file stores it (`serializedlength`).
///
/// Strings that RDB would LZF-compress (`rdbcompression` on and longer than 20 bytes) are
/// counted uncompressed: this server has no LZF compressor yet.
fn serialized_len(entry: &Entry) -> usize {
    match entry.value() {
        Value::Embstr | Value::Raw | Value::Int(_) => match entry.as_str() {
            Some(StrRef::Int(n)) => rdb_int_size(n).unwrap_or_else(|| {
                let len = StrRef::Int(n).len();
                rdb_len_size(len) + len
            }),
            Some(StrRef::Bytes(bytes)) => rdb_string_size(bytes),
            None => 0,
        },
        Value::Set(set) => match set.as_intset() {
            // An intset is saved as one string: its bytes as they are.
            Some(intset) => rdb_len_size(intset.blob_len()) + intset.blob_len(),
            None => {
                let mut total = rdb_len_size(set.len());
                set.for_each(|m| {
                    total += match m {
                        StrRef::Int(n) => rdb_int_size(n).unwrap_or_else(|| {
                            let len = StrRef::Int(n).len();
                            rdb_len_size(len) + len
                        }),
                        StrRef::Bytes(bytes) => rdb_string_size(bytes),
                    };
                });
                total
            }
        },
        Value::Hash(h) => match h.as_listpack() {
            // RDB stores a listpack hash as the listpack blob.
            Some(lp) => rdb_len_size(lp.bytes_len()) + lp.bytes_len(),
            None => h
                .iter()
                .fold(rdb_len_size(h.len()), |total, (field, value)| {
                    total + rdb_string_size(&field.to_vec()) + rdb_string_size(&value.to_vec())
                }),
        },
        Value::List(list) => {
            // RDB_TYPE_LIST_QUICKLIST_2: node count, then per node its container kind and its
            // listpack as a string (LZF blob when compressed). RDB's own LZF of plain nodes
            // is estimated with our compressor, whose output can differ in size from liblzf's.
            let ql = list.quicklist();
            let mut total = rdb_len_size(ql.node_count());
            for lp in ql.node_listpacks() {
                let raw = lp.as_bytes();
                total += 1;
                let lzf = (raw.len() > 20)
                    .then(|| common::encoding::lzf::compress(raw, raw.len() - 4))
                    .flatten();
                total += match lzf {
                    Some(c) => 1 + rdb_len_size(c.len()) + rdb_len_size(raw.len()) + c.len(),
                    None => rdb_len_size(raw.len()) + raw.len(),
                };
            }
            total
        }
        // RDB_TYPE_STREAM_LISTPACKS_3: per node its master ID and its listpack as strings (LZF
        // when it shrinks), then the stream's counters and IDs, then the groups with their
        // pending entries and consumers.
        Value::Stream(stream) => {
            let mut total = rdb_len_size(stream.node_count());
            for (_, lp) in stream.nodes() {
                let raw = lp.as_bytes();
                total += rdb_len_size(16) + 16;
                let lzf = (raw.len() > 20)
                    .then(|| common::encoding::lzf::compress(raw, raw.len() - 4))
                    .flatten();
                total += match lzf {
                    Some(c) => 1 + rdb_len_size(c.len()) + rdb_len_size(raw.len()) + c.len(),
                    None => rdb_len_size(raw.len()) + raw.len(),
                };
            }
            let m = &stream.meta;
            for n in [
                m.length,
                m.last_id.ms,
                m.last_id.seq,
                m.first_id.ms,
                m.first_id.seq,
                m.max_deleted_entry_id.ms,
                m.max_deleted_entry_id.seq,
                m.entries_added,
            ] {
                total += rdb_len_size(usize::try_from(n).unwrap_or(usize::MAX));
            }
            total += rdb_len_size(stream.groups.len());
            for (name, g) in &stream.groups {
                total += rdb_len_size(name.len()) + name.len();
                total += rdb_len_size(usize::try_from(g.last_id.ms).unwrap_or(usize::MAX));
                total += rdb_len_size(usize::try_from(g.last_id.seq).unwrap_or(usize::MAX));
                total += rdb_len_size(usize::try_from(g.entries_read.max(0)).unwrap_or(0));
                total += rdb_len_size(g.pel.len()) + g.pel.len() * (16 + 8);
                total += rdb_len_size(g.pel.len());
                total += rdb_len_size(g.consumers.len());
                for (cname, c) in &g.consumers {
                    total += rdb_len_size(cname.len()) + cname.len() + 8;
                    total += rdb_len_size(c.pel.len()) + c.pel.len() * 16;
                }
            }
            total
        }
        // RDB_TYPE_ZSET_LISTPACK stores the listpack as one string; RDB_TYPE_ZSET_2 a count
        // and, per member, its string and an 8-byte binary score.
        Value::ZSet(z) => match z.listpack() {
            Some(lp) => rdb_len_size(lp.bytes_len()) + lp.bytes_len(),
            None => {
                let mut len = rdb_len_size(z.len());
                z.for_each(|m, _| len += rdb_string_size(m) + 8);
                len
            }
        },
    }
}

/// Bytes of a string as RDB stores it: as an integer when it is a short decimal, else with
/// its length.
fn rdb_string_size(bytes: &[u8]) -> usize {
    let as_int = (bytes.len() <= 11)
        .then(|| parse_i64(bytes))
        .flatten()
        .and_then(rdb_int_size);
    as_int.unwrap_or(rdb_len_size(bytes.len()) + bytes.len())
}

fn sha1(data: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// `digest ^= SHA1(data)`: order-independent accumulation.
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`: order-dependent accumulation.
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(digest);
}

/// Mixes one value into `digest` as Redis's DEBUG DIGEST does: its type code, its content,
/// and a marker when the key has an expiry.
fn value_digest(digest: &mut [u8; 20], shard: &Shard, entry: &Entry) {
    match entry.value() {
        Value::Embstr | Value::Raw | Value::Int(_) => {
            const OBJ_STRING: u32 = 0;
            mix_digest(digest, &OBJ_STRING.to_be_bytes());
            if let Some(s) = entry.as_str() {
                let mut buf = [0u8; 20];
                mix_digest(digest, s.bytes(&mut buf));
            }
        }
        Value::Set(set) => {
            const OBJ_SET: u32 = 2;
            mix_digest(digest, &OBJ_SET.to_be_bytes());
            // Members are xored in, so the digest does not depend on their order.
            let mut buf = [0u8; 20];
            set.for_each(|m| xor_digest(digest, m.bytes(&mut buf)));
        }
        Value::Hash(h) => {
            const OBJ_HASH: u32 = 4;
            mix_digest(digest, &OBJ_HASH.to_be_bytes());
            // Each pair digested on its own and xor-ed in: the order of fields does not matter.
            for (field, value) in h.iter() {
                let mut pair = [0u8; 20];
                mix_digest(&mut pair, &field.to_vec());
                mix_digest(&mut pair, &value.to_vec());
                xor_digest(digest, &pair);
            }
        }
        Value::List(list) => {
            const OBJ_LIST: u32 = 1;
            mix_digest(digest, &OBJ_LIST.to_be_bytes());
            for element in list.to_vecs() {
                mix_digest(digest, &element);
            }
        }
        Value::ZSet(z) => {
            const OBJ_ZSET: u32 = 3;
            mix_digest(digest, &OBJ_ZSET.to_be_bytes());
            let mut text = Vec::with_capacity(24);
            z.for_each(|member, score| {
                let mut element = [0u8; 20];
                mix_digest(&mut element, member);
                text.clear();
                common::number::write_g17(score, &mut text);
                mix_digest(&mut element, &text);
                xor_digest(digest, &element);
            });
        }
        Value::Stream(stream) => {
            const OBJ_STREAM: u32 = 6;
            mix_digest(digest, &OBJ_STREAM.to_be_bytes());
            let all = common::value::stream::StreamId::MAX;
            for e in stream.range(common::value::stream::StreamId::MIN, all, false) {
                mix_digest(digest, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for (field, value) in e.fields() {
                    mix_digest(digest, &field.to_vec());
                    mix_digest(digest, &value.to_vec());
                }
            }
        }
    }
    if shard.expire_at(entry.key()).is_some() {
        xor_digest(digest, b"!!expire!!");
    }
}

/// The digest of every database: equal datasets give equal digests, whatever the order the
/// keys were written in; an empty dataset gives all zeros.
fn dataset_digest(ctx: &mut CommandContext<'_>) -> [u8; 20] {
    let mut total = [0u8; 20];
    for db in 0..ctx.db.keyspace().databases() {
        if ctx.db.dbsize(db) == 0 {
            continue;
        }
        let id = u32::try_from(db).unwrap_or(u32::MAX);
        mix_digest(&mut total, &id.to_be_bytes());
        ctx.db.for_each_shard_read(db, |shard| {
            shard.for_each(|entry| {
                let mut digest = [0u8; 20];
                mix_digest(&mut digest, entry.key());
                value_digest(&mut digest, shard, entry);
                xor_digest(&mut total, &digest);
            });
        });
    }
    total
}

fn hex(digest: &[u8; 20]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's sample double: its literal, not an approximation of pi.
#[allow(clippy::approx_constant)]
const SAMPLE_DOUBLE: f64 = 3.141;

/// DEBUG PROTOCOL type: one sample reply of each RESP type.
fn protocol(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = ctx.args.get(2).unwrap_or_default().to_ascii_lowercase();
    let resp3 = ctx.reply.protocol() == Protocol::Resp3;
    let reply = &mut *ctx.reply;
    match name.as_slice() {
        b"string" => reply.bulk(b"Hello World"),
        b"integer" => reply.integer(12345),
        b"double" => reply.double(SAMPLE_DOUBLE),
        b"bignum" => reply.big_number(b"1234567999999999999999999999999999999"),
        b"null" => reply.null(),
        b"array" => {
            reply.array(3);
            (0..3).for_each(|j| reply.integer(j));
        }
        b"set" => {
            reply.set(3);
            (0..3).for_each(|j| reply.integer(j));
        }
        b"map" => {
            reply.map(3);
            for j in 0..3 {
                reply.integer(j);
                reply.boolean(j == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                reply.attribute(1);
                reply.bulk(b"key-popularity");
                reply.array(2);
                reply.bulk(b"key:123");
                reply.integer(90);
            }
            reply.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return Err(CommandError::err("RESP2 is not supported by this command"));
            }
            reply.push(2);
            reply.bulk(b"server-cpu-usage");
            reply.integer(42);
            reply.bulk(b"Some real reply following the push reply");
        }
        b"true" => reply.boolean(true),
        b"false" => reply.boolean(false),
        b"verbatim" => reply.verbatim(b"txt", b"This is a verbatim\nstring"),
        _ => {
            return Err(CommandError::err(
                "Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ));
        }
    }
    Ok(())
}

/// The bytes before the first NUL, as C string functions see an argument.
fn c_str(arg: &[u8]) -> &[u8] {
    arg.iter()
        .position(|&b| b == 0)
        .map_or(arg, |end| &arg[..end])
}

/// C's `atoi`: leading spaces, a sign, then as many digits as there are; 0 when none.
fn atoi(arg: &[u8]) -> i64 {
    let s = trim_c_space(arg);
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, d| {
            n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
        });
    if negative { n.wrapping_neg() } else { n }
}

fn trim_c_space(arg: &[u8]) -> &[u8] {
    let start = arg
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(arg.len());
    &arg[start..]
}

/// C's `strtod` on a decimal argument: the longest prefix that reads as a number, 0 when none.
fn strtod(arg: &[u8]) -> f64 {
    let s = trim_c_space(arg);
    let mut end = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let lower: Vec<u8> = s[end..s.len().min(end + 8)].to_ascii_lowercase();
    for word in [&b"infinity"[..], b"inf", b"nan"] {
        if lower.starts_with(word) {
            let text = String::from_utf8_lossy(&s[..end + word.len()]).into_owned();
            return text.parse().unwrap_or(0.0);
        }
    }
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let whole = digits(end);
    end += whole;
    let mut fraction = 0;
    if s.get(end) == Some(&b'.') {
        fraction = digits(end + 1);
        if whole + fraction > 0 {
            end += 1 + fraction;
        }
    }
    if whole + fraction == 0 {
        return 0.0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        let exponent = digits(end + 1 + sign);
        if exponent > 0 {
            end += 1 + sign + exponent;
        }
    }
    std::str::from_utf8(&s[..end])
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0.0)
}

/// DEBUG STRINGMATCH-TEST: random patterns against random texts, as Redis's fuzz test runs
/// them; passing means the matcher neither crashed nor hung.
/// Redis's number of rounds.
const STRINGMATCH_CYCLES: usize = 10_000_000;

fn stringmatch_fuzz(cycles: usize) -> usize {
    let mut rng = rand::rng();
    let mut text = [0u8; 32];
    let mut pattern = [0u8; 32];
    let mut matches = 0;
    for _ in 0..cycles {
        let text_len = rng.random_range(0..text.len());
        let pattern_len = rng.random_range(0..pattern.len());
        text[..text_len]
            .iter_mut()
            .for_each(|b| *b = rng.random_range(0..128));
        pattern[..pattern_len]
            .iter_mut()
            .for_each(|b| *b = rng.random_range(0..128));
        matches += usize::from(glob_match(
            &pattern[..pattern_len],
            &text[..text_len],
            false,
        ));
    }
    matches
}

/// A jemalloc control name (or string value) as C wants it.
fn mallctl_name(raw: &[u8]) -> Result<std::ffi::CString, CommandError> {
    std::ffi::CString::new(raw).map_err(|_| CommandError::err(strerror(libc::EINVAL)))
}

/// The C library's text for an error number, as Redis's `strerror` replies show it.
fn strerror(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// DEBUG MALLCTL: reads an integer control of the allocator (trying 64, 32, 16 and 8 bit
/// widths, as the control's own size decides), writing `new` to it as well when given.
/// `Ok(None)` when a write-only control took the value. `Err` is an errno.
fn mallctl_int(name: &std::ffi::CStr, new: Option<i64>) -> Result<Option<i64>, i32> {
    let mut width = std::mem::size_of::<i64>();
    while width > 0 {
        let mut old: i64 = 0;
        let mut val: i64 = new.unwrap_or(0);
        let mut len = width;
        let (newp, newlen) = match new {
            Some(_) => ((&raw mut val).cast::<libc::c_void>(), width),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: `name` is NUL-terminated; `old` and `val` are 8-byte integers that outlive
        // the call, and the lengths given (at most 8) never exceed them; on a little-endian
        // machine the low bytes come first, so a narrower control reads and writes them.
        let ret = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut old).cast::<libc::c_void>(),
                &raw mut len,
                newp,
                newlen,
            )
        };
        if ret == 0 {
            let shift = 64 - 8 * len as u32;
            // Sign-extend what the control filled in.
            let old = if shift >= 64 {
                0
            } else {
                (old << shift) >> shift
            };
            return Ok(Some(old));
        }
        if ret == libc::EPERM && new.is_some() {
            // A write-only control: just write it.
            // SAFETY: as above, with no old value asked for.
            let ret = unsafe {
                tikv_jemalloc_sys::mallctl(
                    name.as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    (&raw mut val).cast::<libc::c_void>(),
                    width,
                )
            };
            if ret == 0 {
                return Ok(None);
            }
        }
        if ret != libc::EINVAL {
            return Err(ret);
        }
        width /= 2;
    }
    Err(libc::EINVAL)
}

/// DEBUG MALLCTL-STR: reads a string control of the allocator and, when `new` is given,
/// writes it (`Some(None)`: a control written with no value, such as
/// `thread.tcache.flush`). Returns the old value when it could be read.
fn mallctl_string(
    name: &std::ffi::CStr,
    new: Option<Option<std::ffi::CString>>,
) -> Result<Option<Vec<u8>>, i32> {
    let mut old: *const libc::c_char = std::ptr::null();
    let mut len = std::mem::size_of::<*const libc::c_char>();
    // SAFETY: `name` is NUL-terminated and `old` is a pointer-sized slot jemalloc fills with
    // a pointer to a static NUL-terminated string (or leaves null).
    let read = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            (&raw mut old).cast::<libc::c_void>(),
            &raw mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if read != 0 && !(read == libc::EPERM && new.is_some()) {
        return Err(read);
    }
    let old = (read == 0 && !old.is_null()).then(|| {
        // SAFETY: jemalloc returned a pointer to a NUL-terminated string it keeps alive.
        unsafe { std::ffi::CStr::from_ptr(old) }.to_bytes().to_vec()
    });
    let mut written = 0;
    if let Some(new) = new {
        let mut ptr: *const libc::c_char = new.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
        let (newp, newlen) = match new {
            Some(_) => (
                (&raw mut ptr).cast::<libc::c_void>(),
                std::mem::size_of::<*const libc::c_char>(),
            ),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: `name` is NUL-terminated; `newp` is null or points at a pointer to a
        // NUL-terminated string that lives until the call returns.
        written = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                newp,
                newlen,
            )
        };
    }
    if read == 0 {
        return Ok(Some(old.unwrap_or_default()));
    }
    if written != 0 {
        return Err(written);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use common::resp::Protocol;

    use super::*;
    use crate::commands::testkit::TestClient;

    fn client() -> TestClient {
        TestClient::with_config(&[("enable-debug-command", "yes")])
    }

    #[test]
    fn mallctl_reads_and_writes_the_allocators_controls() {
        let mut c = client();
        let page = c.text(&["DEBUG", "MALLCTL", "arenas.page"]);
        let size: i64 = page.trim_start_matches(':').trim_end().parse().unwrap();
        assert!(size >= 4096, "{page}");
        assert_eq!(
            c.text(&["DEBUG", "MALLCTL-STR", "thread.tcache.flush", "VOID"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.text(&["DEBUG", "MALLCTL", "no.such.control"]),
            "-ERR No such file or directory\r\n"
        );
        let version = c.text(&["DEBUG", "MALLCTL-STR", "version"]);
        assert!(
            version.starts_with("$") && version.contains("5.3.0"),
            "{version}"
        );
    }

    /// Stores a string as a client's SET would, optionally with an expiry (Unix ms).
    fn put(c: &TestClient, db: usize, key: &str, value: &[u8], expire_at: Option<i64>) {
        let keyspace = &c.server.keyspace;
        let gate = keyspace.shared();
        let mut view = keyspace.lock_keys(&gate, db, [key.as_bytes()]);
        let shard = view.shard(key.as_bytes());
        shard.insert(Entry::string(
            key.as_bytes(),
            value,
            lru_clock(crate::server::unix_ms()),
        ));
        if let Some(at) = expire_at {
            shard.set_expire(key.as_bytes(), at);
        }
    }

    #[test]
    fn populate_creates_missing_keys_only() {
        let mut c = client();
        c.run(&["SET", "key:1", "mine"]);
        assert_eq!(c.text(&["DEBUG", "POPULATE", "3"]), "+OK\r\n");
        assert_eq!(c.text(&["DBSIZE"]), ":3\r\n");
        assert_eq!(c.text(&["GET", "key:0"]), "$7\r\nvalue:0\r\n");
        assert_eq!(c.text(&["GET", "key:1"]), "$4\r\nmine\r\n");
        assert_eq!(c.text(&["DEBUG", "POPULATE", "2", "p", "3"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "p:1"]), "$3\r\nval\r\n");
        assert_eq!(c.text(&["DEBUG", "POPULATE", "1", "z", "9"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "z:0"]), "$9\r\nvalue:0\0\0\r\n");
        assert_eq!(
            c.text(&["DEBUG", "POPULATE", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
    }

    /// The `field:value` of a DEBUG OBJECT line.
    fn field(line: &str, name: &str) -> String {
        line.trim_end()
            .split(' ')
            .find_map(|f| f.strip_prefix(&format!("{name}:")))
            .unwrap()
            .to_owned()
    }

    const ZEROS: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn debug_is_refused_unless_enabled() {
        let mut c = TestClient::new();
        assert!(c.text(&["DEBUG", "DIGEST"]).starts_with(
            "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\""
        ));
    }

    #[test]
    fn digest_of_an_empty_dataset_is_zeros() {
        let mut c = client();
        assert_eq!(c.text(&["DEBUG", "DIGEST"]), format!("+{ZEROS}\r\n"));
        assert_eq!(c.text(&["debug", "digest-value"]), "*0\r\n");
        assert_eq!(
            c.text(&["DEBUG", "DIGEST-VALUE", "nokey"]),
            format!("*1\r\n+{ZEROS}\r\n")
        );
    }

    /// Digests captured from real Redis 7.0.15 after the same writes.
    #[test]
    fn digests_match_redis() {
        let mut c = client();
        put(&c, 0, "a", b"1", None);
        assert_eq!(
            c.text(&["DEBUG", "DIGEST"]),
            "+943d800368fb9c0e951138f1bc0e313ac769d91f\r\n"
        );
        put(&c, 0, "b", b"hello", Some(99_999_999_999_999));
        put(&c, 0, "c", b"12345678901234567890123", None);
        assert_eq!(
            c.text(&["DEBUG", "DIGEST"]),
            "+150f8465601a496febccc2a3c9aac0b571d83359\r\n"
        );
        assert_eq!(
            c.text(&["DEBUG", "DIGEST-VALUE", "a", "b", "c", "nokey"]),
            format!(
                "*4\r\n+b4fc66738120fba0b5aa500ab5c2bf89cea1c5da\r\n+d037c4eb8a8b36b602fbced4000daeab0714c1e3\r\n+67d86598428ee63b3c4be74548d09515328d66dd\r\n+{ZEROS}\r\n"
            )
        );
        put(&c, 1, "x", b"y", None);
        assert_eq!(
            c.text(&["DEBUG", "DIGEST"]),
            "+3815d5fe9e9ab60d4f4259325f21d2545680da1d\r\n"
        );
    }

    #[test]
    fn digest_ignores_write_order_but_not_content() {
        let mut one = client();
        let mut two = client();
        for (k, v) in [("k1", "v1"), ("k2", "v2"), ("k3", "300")] {
            put(&one, 0, k, v.as_bytes(), None);
        }
        for (k, v) in [("k3", "300"), ("k1", "v1"), ("k2", "v2")] {
            put(&two, 0, k, v.as_bytes(), None);
        }
        let digest = one.text(&["DEBUG", "DIGEST"]);
        assert_eq!(digest, two.text(&["DEBUG", "DIGEST"]));
        put(&two, 0, "k2", b"changed", None);
        assert_ne!(digest, two.text(&["DEBUG", "DIGEST"]));
    }

    #[test]
    fn object_reports_encoding_and_rdb_length_as_redis() {
        let mut c = client();
        // (value, encoding, serializedlength) as real Redis 7.0.15 reports them.
        let cases: &[(&[u8], &str, usize)] = &[
            (b"-1", "int", 2),
            (b"127", "int", 2),
            (b"128", "int", 3),
            (b"-128", "int", 2),
            (b"-129", "int", 3),
            (b"32767", "int", 3),
            (b"32768", "int", 5),
            (b"-32769", "int", 5),
            (b"2147483647", "int", 5),
            (b"2147483648", "int", 11),
            (b"-2147483649", "int", 12),
            (b"9223372036854775807", "int", 20),
            (b"hello", "embstr", 6),
            (b"", "embstr", 1),
            (b"01", "embstr", 3),
            (b"abcdefghijklmnopqrstuvwxyz0123456789", "embstr", 37),
        ];
        for (value, encoding, len) in cases {
            put(&c, 0, "k", value, None);
            let line = c.text(&["DEBUG", "OBJECT", "k"]);
            assert!(line.starts_with("+Value at:0x"), "{line}");
            assert_eq!(field(&line, "encoding"), *encoding, "{line}");
            assert_eq!(field(&line, "serializedlength"), len.to_string(), "{line}");
            // 0..=9999 are Redis's shared integers.
            let shared = matches!(parse_i64(value), Some(0..10_000));
            let refcount = if shared { "2147483647" } else { "1" };
            assert_eq!(field(&line, "refcount"), refcount, "{line}");
            assert_eq!(field(&line, "lru_seconds_idle"), "0", "{line}");
        }
        // A raw string that reads as a small integer is stored in RDB's integer encoding.
        let keyspace = &c.server.keyspace;
        let gate = keyspace.shared();
        let mut view = keyspace.lock_keys(&gate, 0, [&b"r"[..]]);
        view.shard(b"r")
            .insert(Entry::raw_string(b"r", b"12345678901", 0));
        drop(view);
        drop(gate);
        let line = c.text(&["DEBUG", "OBJECT", "r"]);
        assert_eq!(field(&line, "encoding"), "raw");
        assert_eq!(field(&line, "serializedlength"), "12");
    }

    #[test]
    fn object_shows_shared_integers_and_the_line_shape() {
        let mut c = client();
        put(&c, 0, "k", b"1", None);
        let line = c.text(&["DEBUG", "OBJECT", "k"]);
        assert_eq!(field(&line, "refcount"), "2147483647");
        assert_eq!(field(&line, "encoding"), "int");
        put(&c, 0, "k", b"20000", None);
        let line = c.text(&["DEBUG", "OBJECT", "k"]);
        let words: Vec<&str> = line.trim_end().split(' ').collect();
        assert_eq!(words[0], "+Value");
        assert!(words[1].starts_with("at:0x"));
        assert_eq!(
            words[2..]
                .iter()
                .map(|w| w.split(':').next().unwrap())
                .collect::<Vec<_>>(),
            [
                "refcount",
                "encoding",
                "serializedlength",
                "lru",
                "lru_seconds_idle"
            ]
        );
        // The same stored value keeps its address from one call to the next.
        assert_eq!(
            words[1],
            c.text(&["DEBUG", "OBJECT", "k"]).split(' ').nth(1).unwrap()
        );
        let lru: u32 = field(&line, "lru").parse().unwrap();
        assert!(lru <= LRU_CLOCK_MAX);
    }

    #[test]
    fn object_sees_expired_keys_and_rejects_missing_ones() {
        let mut c = client();
        put(&c, 0, "gone", b"v", Some(1));
        assert!(
            c.text(&["DEBUG", "OBJECT", "gone"])
                .starts_with("+Value at:")
        );
        assert_eq!(
            c.text(&["DEBUG", "OBJECT", "nokey"]),
            "-ERR no such key\r\n"
        );
    }

    #[test]
    fn protocol_samples_in_resp2() {
        let mut c = client();
        let cases: &[(&str, &str)] = &[
            ("string", "$11\r\nHello World\r\n"),
            ("integer", ":12345\r\n"),
            ("double", "$5\r\n3.141\r\n"),
            ("bignum", "$37\r\n1234567999999999999999999999999999999\r\n"),
            ("null", "$-1\r\n"),
            ("array", "*3\r\n:0\r\n:1\r\n:2\r\n"),
            ("set", "*3\r\n:0\r\n:1\r\n:2\r\n"),
            ("map", "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"),
            (
                "attrib",
                "$39\r\nSome real reply following the attribute\r\n",
            ),
            ("push", "-ERR RESP2 is not supported by this command\r\n"),
            ("true", ":1\r\n"),
            ("false", ":0\r\n"),
            ("Verbatim", "$25\r\nThis is a verbatim\nstring\r\n"),
            (
                "nosuch",
                "-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(c.text(&["DEBUG", "PROTOCOL", name]), *expected, "{name}");
        }
    }

    #[test]
    fn protocol_samples_in_resp3() {
        let mut c = client();
        c.client.protocol = Protocol::Resp3;
        let cases: &[(&str, &str)] = &[
            (
                "push",
                ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
            ),
            (
                "attrib",
                "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
            ),
            ("double", ",3.141\r\n"),
            ("map", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
            ("set", "~3\r\n:0\r\n:1\r\n:2\r\n"),
            ("bignum", "(1234567999999999999999999999999999999\r\n"),
            ("null", "_\r\n"),
            ("true", "#t\r\n"),
            ("false", "#f\r\n"),
            ("verbatim", "=29\r\ntxt:This is a verbatim\nstring\r\n"),
            ("array", "*3\r\n:0\r\n:1\r\n:2\r\n"),
        ];
        for (name, expected) in cases {
            assert_eq!(c.text(&["DEBUG", "PROTOCOL", name]), *expected, "{name}");
        }
    }

    #[test]
    fn sleep_blocks_for_the_given_seconds() {
        let mut c = client();
        let started = std::time::Instant::now();
        assert_eq!(c.text(&["DEBUG", "SLEEP", "0.05"]), "+OK\r\n");
        assert!(started.elapsed() >= Duration::from_millis(50));
        // strtod's reading: not a number sleeps 0 seconds.
        assert_eq!(c.text(&["DEBUG", "sleep", "abc"]), "+OK\r\n");
        assert_eq!(c.text(&["DEBUG", "sleep", "-1"]), "+OK\r\n");
    }

    #[test]
    fn set_active_expire_switches_the_cycle() {
        let mut c = client();
        assert_eq!(c.text(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
        assert!(!c.server.active_expire_enabled.load(Relaxed));
        assert_eq!(c.text(&["DEBUG", "set-active-expire", "1"]), "+OK\r\n");
        assert!(c.server.active_expire_enabled.load(Relaxed));
        // atoi: not a number is 0.
        assert_eq!(c.text(&["DEBUG", "set-active-expire", "abc"]), "+OK\r\n");
        assert!(!c.server.active_expire_enabled.load(Relaxed));
    }

    #[test]
    fn error_log_and_change_repl_id() {
        let mut c = client();
        assert_eq!(c.text(&["DEBUG", "ERROR", "FOO bar"]), "-FOO bar\r\n");
        assert_eq!(c.text(&["DEBUG", "ERROR", "he\r\nllo"]), "-he  llo\r\n");
        assert_eq!(c.text(&["DEBUG", "LOG", "hello"]), "+OK\r\n");
        assert_eq!(c.text(&["DEBUG", "CHANGE-REPL-ID"]), "+OK\r\n");
        assert_eq!(c.text(&["DEBUG", "AOF-FLUSH-SLEEP", "0"]), "+OK\r\n");
    }

    #[test]
    fn help_lists_the_served_subcommands() {
        let mut c = client();
        let help = c.text(&["debug", "help"]);
        assert!(help.starts_with(&format!(
            "*{}\r\n+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+AOF-FLUSH-SLEEP <microsec>\r\n",
            DEBUG_HELP.len() + 3
        )));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn unknown_subcommands_and_wrong_counts_are_one_error() {
        let mut c = client();
        for args in [
            &["DEBUG", "nosuch"][..],
            &["DEBUG", "sleep"],
            &["DEBUG", "sleep", "0.01", "x"],
            &["DEBUG", "digest", "x"],
            &["DEBUG", "object"],
            &["DEBUG", "change-repl-id", "x"],
            &["DEBUG", "log"],
            &["DEBUG", "protocol"],
            &["DEBUG", "help", "x"],
        ] {
            assert_eq!(
                c.text(args),
                format!(
                    "-ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.\r\n",
                    args[1]
                ),
                "{args:?}"
            );
        }
        assert_eq!(
            c.text(&["DEBUG"]),
            "-ERR wrong number of arguments for 'debug' command\r\n"
        );
    }

    #[test]
    fn stringmatch_fuzz_runs_random_globs() {
        let matches = stringmatch_fuzz(20_000);
        // Empty patterns against empty texts alone match about once in a thousand rounds.
        assert!(matches > 0 && matches < 20_000);
    }

    #[test]
    fn c_parsers_read_prefixes() {
        assert_eq!(strtod(b"0.05"), 0.05);
        assert_eq!(strtod(b"  1.5s"), 1.5);
        assert_eq!(strtod(b"2e-1x"), 0.2);
        assert_eq!(strtod(b"3e"), 3.0);
        assert_eq!(strtod(b".5"), 0.5);
        assert_eq!(strtod(b"-."), 0.0);
        assert_eq!(strtod(b"abc"), 0.0);
        assert!(strtod(b"inf").is_infinite());
        assert_eq!(atoi(b" 12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x1"), 0);
        assert_eq!(idle_seconds(10, 15), 5);
        assert_eq!(idle_seconds(LRU_CLOCK_MAX - 1, 2), 3);
    }
}
