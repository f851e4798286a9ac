//! `redis-check-rdb` and `redis-check-aof`: thin layers over [`common::rdb`] and
//! [`common::aof`] that print what Redis 7.0.15's checkers print, with the same exit codes.
//!
//! - [`rdb_check`]: the RDB walk (`[offset N]` lines, key counts, the first error).
//! - [`aof_check`]: old-style, RDB-preamble and multi-part AOFs, `--fix` and
//!   `--truncate-to-timestamp`.
//! - [`report`]: what `redis-check-rdb` adds to Redis: `--format json` and `--memory-report`.
//!
//! # `redis-check-rdb --format json FILE`
//!
//! One JSON object per key, one per line, in file order, and nothing else on standard output:
//!
//! ```text
//! {"db":0,"key":"user:1","type":"hash","rdb_type":16,"serialized_bytes":42,"elements":3,"expire_ms":null,"ttl_ms":null}
//! ```
//!
//! - `db`: the database number; `key`: the key, with bytes that are not printable ASCII
//!   escaped as `\u00XX` (one escape per byte, so the original bytes can be recovered);
//! - `type`: what `TYPE` would answer (`string`, `list`, `set`, `zset`, `hash`, `stream`);
//! - `rdb_type`: the type byte in the file (for example 0 string, 18 quicklist, 16 hash
//!   listpack, 19 stream);
//! - `serialized_bytes`: bytes the key takes in the file (its expire and LRU/LFU opcodes, type
//!   byte, key and value);
//! - `elements`: the length of a string in bytes, or the number of list items, set members,
//!   hash fields, sorted set members or stream entries;
//! - `expire_ms`: the absolute expire time in Unix milliseconds, or `null`;
//! - `ttl_ms`: `expire_ms` minus the time of the check (negative when already expired), or
//!   `null`.
//!
//! When the file is damaged, the keys before the damage are printed, then Redis's error
//! report goes to standard error and the exit code is 1.
//!
//! # `redis-check-rdb --memory-report [--delimiter C] FILE`
//!
//! Totals of serialized bytes per type and per key prefix (the key up to the first `C`,
//! default `:`), largest first. Errors are reported as with `--format json`.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aof_check;
/// The RDB walk lives in `common`, so that the server prints the same report when a file it loads is damaged.
pub use common::rdb::check as rdb_check;
pub mod report;

use std::time::{SystemTime, UNIX_EPOCH};

/// The current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time as Redis's log prints it (`24 Nov 2026 04:26:31.506`), in UTC.
pub fn log_time() -> String {
    let ms = now_ms();
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let name = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{day:02} {name} {year} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}
