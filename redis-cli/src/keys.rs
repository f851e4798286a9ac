//! The keyspace samplers: `--bigkeys`, `--memkeys [--memkeys-samples N]` and `--hotkeys`.
//!
//! Each walks the keyspace with SCAN (honouring `--pattern`), pipelines one query per key of
//! the batch (TYPE then a size command, or OBJECT FREQ), and prints redis-cli's progress lines
//! and summary. Ctrl-C ends the walk after the current batch and still prints the summary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::resp::Frame;

use crate::connection::Connection;
use crate::format::repr;
use crate::session::{Exit, Session};
use crate::stats::emit;

/// Set by Ctrl-C in the modes that stop cleanly (the samplers, `--scan`, `--intrinsic-latency`).
pub(crate) static CANCEL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    CANCEL.store(true, Ordering::SeqCst);
}

/// Makes Ctrl-C set [`CANCEL`] instead of ending the process.
pub(crate) fn catch_sigint() {
    let handler = on_sigint as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

pub(crate) fn cancelled() -> bool {
    CANCEL.load(Ordering::SeqCst)
}

/// How many hot keys `--hotkeys` keeps.
const HOTKEYS_SAMPLE: usize = 16;

/// The sampler output: C's `%05.2f` of a percentage (NaN for an empty keyspace prints as
/// glibc prints the default NaN of 0/0).
fn pct_text(pct: f64) -> String {
    if pct.is_nan() {
        " -nan".to_string()
    } else {
        format!("{pct:05.2}")
    }
}

fn io_error() -> Exit {
    eprintln!("\nI/O error");
    Exit(1)
}

/// `DBSIZE`, or the error redis-cli prints.
fn db_size(conn: &mut Connection) -> Result<u64, Exit> {
    match conn.command(&["DBSIZE"]) {
        Err(_) => Err(io_error()),
        Ok(Frame::Error(e)) => {
            eprintln!("Couldn't determine DBSIZE: {}", String::from_utf8_lossy(&e));
            Err(Exit(1))
        }
        Ok(Frame::Integer(n)) => Ok(n as u64),
        Ok(_) => {
            eprintln!("Non INTEGER response from DBSIZE!");
            Err(Exit(1))
        }
    }
}

/// One SCAN step: the next cursor and the batch's keys.
pub(crate) fn scan_step(
    conn: &mut Connection,
    cursor: u64,
    pattern: Option<&[u8]>,
) -> Result<(u64, Vec<Vec<u8>>), Exit> {
    let mut args = vec![b"SCAN".to_vec(), cursor.to_string().into_bytes()];
    if let Some(p) = pattern {
        args.push(b"MATCH".to_vec());
        args.push(p.to_vec());
    }
    let reply = conn.command(&args).map_err(|_| io_error())?;
    let items = match reply {
        Frame::Error(e) => {
            eprintln!("SCAN error: {}", String::from_utf8_lossy(&e));
            return Err(Exit(1));
        }
        Frame::Array(items) => items,
        _ => {
            eprintln!("Non ARRAY response from SCAN!");
            return Err(Exit(1));
        }
    };
    let Ok([next, keys]) = <[Frame; 2]>::try_from(items) else {
        eprintln!("Invalid element count from SCAN!");
        return Err(Exit(1));
    };
    let (Frame::Bulk(next), Frame::Array(keys)) = (next, keys) else {
        eprintln!("Non ARRAY response from SCAN!");
        return Err(Exit(1));
    };
    let next = crate::options::c_uint(&String::from_utf8_lossy(&next));
    let keys = keys
        .into_iter()
        .map(|k| match k {
            Frame::Bulk(k) | Frame::Simple(k) => k.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    Ok((next, keys))
}

/// Sends one command per key and reads the replies in order.
fn pipeline(conn: &mut Connection, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Frame>, Exit> {
    conn.send_all(commands).map_err(|_| io_error())?;
    let mut replies = Vec::with_capacity(commands.len());
    for _ in commands {
        replies.push(conn.read_reply().map_err(|_| io_error())?);
    }
    Ok(replies)
}

/// What the summary knows about one type.
struct TypeInfo {
    name: String,
    size_command: Option<&'static str>,
    unit: &'static str,
    biggest: u64,
    count: u64,
    total: u64,
    biggest_key: Option<Vec<u8>>,
}

impl TypeInfo {
    fn new(name: &str, size_command: Option<&'static str>, unit: &'static str) -> TypeInfo {
        TypeInfo {
            name: name.to_string(),
            size_command,
            unit,
            biggest: 0,
            count: 0,
            total: 0,
            biggest_key: None,
        }
    }
}

/// The built-in types, in the order redis-cli registers them.
fn builtin_types() -> Vec<TypeInfo> {
    vec![
        TypeInfo::new("string", Some("STRLEN"), "bytes"),
        TypeInfo::new("list", Some("LLEN"), "items"),
        TypeInfo::new("set", Some("SCARD"), "members"),
        TypeInfo::new("hash", Some("HLEN"), "fields"),
        TypeInfo::new("zset", Some("ZCARD"), "members"),
        TypeInfo::new("stream", Some("XLEN"), "entries"),
    ]
}

/// SipHash-1-2 with a zero key: redis-cli hashes its dictionary keys so (it never seeds it).
fn siphash(input: &[u8]) -> u64 {
    let (mut v0, mut v1, mut v2, mut v3): (u64, u64, u64, u64) = (
        0x736f_6d65_7073_6575,
        0x646f_7261_6e64_6f6d,
        0x6c79_6765_6e65_7261,
        0x7465_6462_7974_6573,
    );
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut chunks = input.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = u64::from_le_bytes(word);
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    let mut b = (input.len() as u64) << 56;
    for (i, &byte) in chunks.remainder().iter().enumerate() {
        b |= u64::from(byte) << (8 * i);
    }
    v3 ^= b;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= b;
    v2 ^= 0xff;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^ v1 ^ v2 ^ v3
}

/// A model of the Redis dictionary redis-cli keeps its types in, tracking only where each
/// entry sits: the summary lists the types in that dictionary's iteration order, which moves
/// with its incremental rehashing (every insert and every lookup of a TYPE reply advances it).
#[derive(Default)]
struct TypeOrder {
    /// Two tables of buckets; a bucket's chain is listed head first.
    tables: [Vec<Vec<usize>>; 2],
    used: [usize; 2],
    rehash_index: Option<usize>,
    hashes: Vec<u64>,
}

impl TypeOrder {
    fn mask(&self, table: usize) -> u64 {
        self.tables[table].len() as u64 - 1
    }

    /// `dictAdd` of entry number `hashes.len()`.
    fn add(&mut self, name: &str) {
        if self.rehash_index.is_some() {
            self.rehash_step();
        }
        self.expand_if_needed();
        let hash = siphash(name.as_bytes());
        let entry = self.hashes.len();
        self.hashes.push(hash);
        let table = usize::from(self.rehash_index.is_some());
        let bucket = (hash & self.mask(table)) as usize;
        self.tables[table][bucket].insert(0, entry);
        self.used[table] += 1;
    }

    /// What `dictFind` does to the order: one rehash step while rehashing.
    fn find(&mut self) {
        if self.used[0] + self.used[1] != 0 && self.rehash_index.is_some() {
            self.rehash_step();
        }
    }

    fn expand_if_needed(&mut self) {
        if self.rehash_index.is_some() {
            return;
        }
        if self.tables[0].is_empty() {
            self.tables[0] = vec![Vec::new(); 4];
        } else if self.used[0] >= self.tables[0].len() {
            let size = (self.used[0] + 1).next_power_of_two().max(4);
            self.tables[1] = vec![Vec::new(); size];
            self.rehash_index = Some(0);
        }
    }

    /// `dictRehash(d, 1)`: moves one bucket (visiting at most 10 empty ones).
    fn rehash_step(&mut self) {
        let Some(mut index) = self.rehash_index else {
            return;
        };
        let mut empty_visits = 10;
        if self.used[0] != 0 {
            while self.tables[0][index].is_empty() {
                index += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_index = Some(index);
                    return;
                }
            }
            let chain = std::mem::take(&mut self.tables[0][index]);
            for entry in chain {
                let bucket = (self.hashes[entry] & self.mask(1)) as usize;
                self.tables[1][bucket].insert(0, entry);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            index += 1;
        }
        self.rehash_index = Some(index);
        if self.used[0] == 0 {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.used = [self.used[1], 0];
            self.rehash_index = None;
        }
    }

    /// The entries in iteration order.
    fn order(&self) -> Vec<usize> {
        let tables = if self.rehash_index.is_some() { 2 } else { 1 };
        self.tables[..tables]
            .iter()
            .flat_map(|t| t.iter().flat_map(|chain| chain.iter().copied()))
            .collect()
    }
}

/// `--bigkeys` (sizes in elements) and `--memkeys` (MEMORY USAGE, with SAMPLES when given).
pub(crate) fn big_keys(session: &mut Session, memkeys: bool, samples: u32) -> Result<(), Exit> {
    let pattern = session.opts.pattern.clone();
    let interval = session.opts.interval_us;
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    catch_sigint();
    let mut types = builtin_types();
    let mut order = TypeOrder::default();
    for t in &types {
        order.add(&t.name);
    }
    let total_keys = db_size(conn)?;
    let mut out = String::new();
    out.push_str("\n# Scanning the entire keyspace to find biggest keys as well as\n");
    out.push_str("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    out.push_str("# per 100 SCAN commands (not usually needed).\n\n");
    emit(out.as_bytes());
    let (mut sampled, mut total_len, mut cursor, mut loops) = (0u64, 0u64, 0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let (next, keys) = scan_step(conn, cursor, pattern.as_deref())?;
        cursor = next;
        loops += 1;
        // TYPE of every key, then a size for those of a known type.
        let queries: Vec<Vec<Vec<u8>>> = keys
            .iter()
            .map(|k| vec![b"TYPE".to_vec(), k.clone()])
            .collect();
        let mut kinds: Vec<Option<usize>> = Vec::with_capacity(keys.len());
        for (key, reply) in keys.iter().zip(pipeline(conn, &queries)?) {
            let name = match reply {
                Frame::Simple(s) => String::from_utf8_lossy(&s).into_owned(),
                Frame::Error(e) => {
                    eprintln!("TYPE returned an error: {}", String::from_utf8_lossy(&e));
                    return Err(Exit(1));
                }
                other => {
                    eprintln!(
                        "Invalid reply type ({}) for TYPE on key '{}'!",
                        hiredis_type(&other),
                        String::from_utf8_lossy(c_str(key))
                    );
                    return Err(Exit(1));
                }
            };
            order.find();
            let kind = match types.iter().position(|t| t.name == name) {
                Some(i) => Some(i),
                // A key deleted since the SCAN counts for nothing.
                None if name == "none" => None,
                None => {
                    order.add(&name);
                    types.push(TypeInfo::new(&name, None, "?"));
                    Some(types.len() - 1)
                }
            };
            kinds.push(kind);
        }
        let mut queries = Vec::new();
        let mut asked = Vec::new();
        for (i, (key, kind)) in keys.iter().zip(&kinds).enumerate() {
            let Some(kind) = *kind else { continue };
            let command = match (memkeys, types[kind].size_command) {
                (false, None) => continue,
                (false, Some(cmd)) => vec![cmd.as_bytes().to_vec(), key.clone()],
                (true, _) => {
                    let mut cmd = vec![b"MEMORY".to_vec(), b"USAGE".to_vec(), key.clone()];
                    if samples != 0 {
                        cmd.push(b"SAMPLES".to_vec());
                        cmd.push(samples.to_string().into_bytes());
                    }
                    cmd
                }
            };
            queries.push(command);
            asked.push(i);
        }
        let mut sizes = vec![0u64; keys.len()];
        for (i, reply) in asked.into_iter().zip(pipeline(conn, &queries)?) {
            match reply {
                Frame::Integer(n) => sizes[i] = n as u64,
                _ => {
                    let command = match (memkeys, kinds[i]) {
                        (false, Some(kind)) => types[kind].size_command.unwrap_or_default(),
                        _ => "MEMORY USAGE",
                    };
                    eprintln!(
                        "Warning:  {command} on '{}' failed (may have changed type)",
                        String::from_utf8_lossy(c_str(&keys[i]))
                    );
                }
            }
        }
        let mut out = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let Some(kind) = kinds[i] else { continue };
            let t = &mut types[kind];
            t.total = t.total.wrapping_add(sizes[i]);
            t.count += 1;
            total_len += key.len() as u64;
            sampled += 1;
            if t.biggest < sizes[i] {
                let mut name = Vec::new();
                repr(key, &mut name);
                out.extend_from_slice(
                    format!(
                        "[{}%] Biggest {:<6} found so far '{}' with {} {}\n",
                        pct_text(pct),
                        t.name,
                        String::from_utf8_lossy(&name),
                        sizes[i],
                        if memkeys { "bytes" } else { t.unit }
                    )
                    .as_bytes(),
                );
                t.biggest_key = Some(name);
                t.biggest = sizes[i];
            }
            if sampled % 1_000_000 == 0 {
                out.extend_from_slice(
                    format!("[{}%] Sampled {sampled} keys so far\n", pct_text(pct)).as_bytes(),
                );
            }
        }
        emit(&out);
        if interval > 0 && loops % 100 == 0 {
            std::thread::sleep(Duration::from_micros(interval));
        }
        if cancelled() || cursor == 0 {
            break;
        }
    }
    let mut out = String::from("\n-------- summary -------\n\n");
    if cancelled() {
        out.push_str(&format!("[{}%] ", pct_text(pct)));
    }
    out.push_str(&format!("Sampled {sampled} keys in the keyspace!\n"));
    let avg = if total_len != 0 {
        total_len as f64 / sampled as f64
    } else {
        0.0
    };
    out.push_str(&format!(
        "Total key length in bytes is {total_len} (avg len {avg:.2})\n\n"
    ));
    let order = order.order();
    for t in order.iter().map(|&i| &types[i]) {
        if let Some(key) = &t.biggest_key {
            out.push_str(&format!(
                "Biggest {:>6} found '{}' has {} {}\n",
                t.name,
                String::from_utf8_lossy(key),
                t.biggest,
                if memkeys { "bytes" } else { t.unit }
            ));
        }
    }
    out.push('\n');
    for t in order.iter().map(|&i| &types[i]) {
        let share = if sampled != 0 {
            100.0 * t.count as f64 / sampled as f64
        } else {
            0.0
        };
        let avg = if t.count != 0 {
            t.total as f64 / t.count as f64
        } else {
            0.0
        };
        out.push_str(&format!(
            "{} {}s with {} {} ({} of keys, avg size {avg:.2})\n",
            t.count,
            t.name,
            t.total,
            if memkeys { "bytes" } else { t.unit },
            format_args!("{}%", pct_text(share)),
        ));
    }
    emit(out.as_bytes());
    Ok(())
}

/// `--hotkeys`: the 16 keys with the highest OBJECT FREQ (an LFU policy must be set).
pub(crate) fn hot_keys(session: &mut Session) -> Result<(), Exit> {
    let pattern = session.opts.pattern.clone();
    let interval = session.opts.interval_us;
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    catch_sigint();
    let total_keys = db_size(conn)?;
    let mut out = String::new();
    out.push_str("\n# Scanning the entire keyspace to find hot keys as well as\n");
    out.push_str("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    out.push_str("# per 100 SCAN commands (not usually needed).\n\n");
    emit(out.as_bytes());
    let mut counters = [0u64; HOTKEYS_SAMPLE];
    let mut hot: [Vec<u8>; HOTKEYS_SAMPLE] = Default::default();
    let (mut sampled, mut cursor, mut loops) = (0u64, 0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let (next, keys) = scan_step(conn, cursor, pattern.as_deref())?;
        cursor = next;
        loops += 1;
        let queries: Vec<Vec<Vec<u8>>> = keys
            .iter()
            .map(|k| vec![b"OBJECT".to_vec(), b"FREQ".to_vec(), k.clone()])
            .collect();
        let mut freqs = Vec::with_capacity(keys.len());
        for (key, reply) in keys.iter().zip(pipeline(conn, &queries)?) {
            match reply {
                Frame::Integer(n) => freqs.push(n as u64),
                Frame::Error(e) => {
                    // What is printed so far goes out before the error, as C's exit flushes.
                    eprintln!("Error: {}", String::from_utf8_lossy(&e));
                    return Err(Exit(1));
                }
                _ => {
                    let mut name = Vec::new();
                    repr(key, &mut name);
                    eprintln!(
                        "Warning: OBJECT freq on '{}' failed (may have been deleted)",
                        String::from_utf8_lossy(&name)
                    );
                    freqs.push(0);
                }
            }
        }
        let mut out = Vec::new();
        for (key, &freq) in keys.iter().zip(&freqs) {
            sampled += 1;
            if sampled % 1_000_000 == 0 {
                out.extend_from_slice(
                    format!("[{}%] Sampled {sampled} keys so far\n", pct_text(pct)).as_bytes(),
                );
            }
            // An eviction pool: counters ascend, the smallest is pushed out.
            let mut k = 0;
            while k < HOTKEYS_SAMPLE && freq > counters[k] {
                k += 1;
            }
            if k == 0 {
                continue;
            }
            k -= 1;
            if k != 0 && counters[k] != 0 {
                counters.copy_within(1..=k, 0);
                hot[..=k].rotate_left(1);
            }
            counters[k] = freq;
            let mut name = Vec::new();
            repr(key, &mut name);
            out.extend_from_slice(
                format!(
                    "[{}%] Hot key '{}' found so far with counter {freq}\n",
                    pct_text(pct),
                    String::from_utf8_lossy(&name)
                )
                .as_bytes(),
            );
            hot[k] = name;
        }
        emit(&out);
        if interval > 0 && loops % 100 == 0 {
            std::thread::sleep(Duration::from_micros(interval));
        }
        if cancelled() || cursor == 0 {
            break;
        }
    }
    let mut out = String::from("\n-------- summary -------\n\n");
    if cancelled() {
        out.push_str(&format!("[{}%] ", pct_text(pct)));
    }
    out.push_str(&format!("Sampled {sampled} keys in the keyspace!\n"));
    for k in (0..HOTKEYS_SAMPLE).rev() {
        if counters[k] > 0 {
            out.push_str(&format!(
                "hot key found with counter: {}\tkeyname: {}\n",
                counters[k],
                String::from_utf8_lossy(&hot[k])
            ));
        }
    }
    emit(out.as_bytes());
    Ok(())
}

/// A key as C's `%s` prints it: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul])
}

/// hiredis's number for a reply type, for redis-cli's "Invalid reply type" message.
fn hiredis_type(frame: &Frame) -> u8 {
    match frame {
        Frame::Bulk(_) => 1,
        Frame::Array(_) => 2,
        Frame::Integer(_) => 3,
        Frame::Null => 4,
        Frame::Simple(_) => 5,
        Frame::Error(_) => 6,
        Frame::Double(_) => 7,
        Frame::Boolean(_) => 8,
        Frame::Map(_) => 9,
        Frame::Set(_) => 10,
        Frame::Push(_) => 12,
        Frame::BigNumber(_) => 13,
        Frame::Verbatim { .. } => 14,
        Frame::Attribute { .. } => 11,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_as_c_does() {
        assert_eq!(pct_text(0.0), "00.00");
        assert_eq!(pct_text(33.333), "33.33");
        assert_eq!(pct_text(100.0), "100.00");
        assert_eq!(pct_text(f64::NAN), " -nan");
    }

    /// The summary orders real redis-cli 7.0.15 prints after 0, 1 and 11 TYPE lookups.
    #[test]
    fn the_type_order_follows_redis_clis_dictionary() {
        let names = |finds: usize| {
            let types = builtin_types();
            let mut order = TypeOrder::default();
            types.iter().for_each(|t| order.add(&t.name));
            (0..finds).for_each(|_| order.find());
            let order = order.order();
            order
                .iter()
                .map(|&i| types[i].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(0),
            ["hash", "list", "string", "stream", "set", "zset"]
        );
        assert_eq!(
            names(1),
            ["string", "list", "hash", "stream", "set", "zset"]
        );
        assert_eq!(
            names(11),
            ["list", "hash", "string", "stream", "set", "zset"]
        );
        assert_eq!(
            names(57),
            ["list", "hash", "string", "stream", "set", "zset"]
        );
    }
}
