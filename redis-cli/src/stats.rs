//! The monitoring loops: `--stat`, `--latency`, `--latency-history`, `--latency-dist` and
//! `--intrinsic-latency`, with redis-cli's lines, intervals and defaults.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::resp::Frame;

use crate::format::Output;
use crate::options::c_int;
use crate::session::{Exit, Session};

/// Pause between two latency samples.
const LATENCY_SAMPLE_RATE: Duration = Duration::from_millis(10);
/// `--latency-history`'s default window, in milliseconds.
const LATENCY_HISTORY_DEFAULT_INTERVAL: i64 = 15_000;
/// `--latency-dist`'s default window, in milliseconds.
const LATENCY_DIST_DEFAULT_INTERVAL: i64 = 1_000;

/// Wall-clock microseconds, as redis-cli's `ustime()` (so a sample crossing a millisecond
/// boundary counts 1 ms, as in redis-cli).
fn ustime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn mstime() -> i64 {
    ustime() / 1000
}

/// Writes and flushes stdout. A reader gone away ends redis-cli as it ends the C one: by
/// SIGPIPE (these loops would otherwise run on unseen).
pub(crate) fn emit(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    let result = out.write_all(bytes).and_then(|()| out.flush());
    if matches!(&result, Err(e) if e.kind() == io::ErrorKind::BrokenPipe) {
        // SAFETY: restoring the default action and raising the signal only ends the process.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
}

fn flush(text: &str) {
    emit(text.as_bytes());
}

/// `--latency` and `--latency-history`: PING every 10 ms, showing min, max and average in ms.
/// On a terminal the line is redrawn; otherwise `--latency` prints one line after the
/// interval (`-i`, default 1 s) and exits, `--latency-history` prints every sample.
pub(crate) fn latency(session: &mut Session, history: bool) -> Result<(), Exit> {
    let output = session.opts.output;
    let interval_us = session.opts.interval_us as i64;
    let history_interval = if interval_us != 0 {
        interval_us / 1000
    } else {
        LATENCY_HISTORY_DEFAULT_INTERVAL
    };
    let interval_ms = if interval_us == 0 {
        1000
    } else {
        interval_us / 1000
    };
    let mut history_start = mstime();
    let (mut min, mut max, mut tot, mut count) = (0i64, 0i64, 0i64, 0i64);
    loop {
        let start = mstime();
        session.reconnecting_command(&[b"PING".to_vec()])?;
        let latency = mstime() - start;
        count += 1;
        let avg;
        if count == 1 {
            (min, max, tot) = (latency, latency, latency);
            avg = latency as f64;
        } else {
            min = min.min(latency);
            max = max.max(latency);
            tot += latency;
            avg = tot as f64 / count as f64;
        }
        let line = latency_line(output, min, max, avg, count);
        if output == Output::Standard {
            flush(&format!("\x1b[0G\x1b[2K{line}"));
        } else if history {
            flush(&line);
        } else if mstime() - history_start > interval_ms {
            flush(&line);
            return Ok(());
        }
        if history && mstime() - history_start > history_interval {
            let range = (mstime() - history_start) as f32 / 1000.0;
            flush(&format!(" -- {range:.2} seconds range\n"));
            history_start = mstime();
            (min, max, tot, count) = (0, 0, 0, 0);
        }
        std::thread::sleep(LATENCY_SAMPLE_RATE);
    }
}

/// One latency report in the output style (`--quoted-json` prints nothing, as redis-cli).
fn latency_line(output: Output, min: i64, max: i64, avg: f64, count: i64) -> String {
    match output {
        Output::Standard => format!("min: {min}, max: {max}, avg: {avg:.2} ({count} samples)"),
        Output::Csv => format!("{min},{max},{avg:.2},{count}\n"),
        Output::Raw => format!("{min} {max} {avg:.2} {count}\n"),
        Output::Json => {
            format!("{{\"min\": {min}, \"max\": {max}, \"avg\": {avg:.2}, \"count\": {count}}}\n")
        }
        Output::QuotedJson => String::new(),
    }
}

/// The 256-colour palettes of `--latency-dist` (`--mono` for greys only).
const PALETTE_COLOR: &[u8] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 144, 143, 142, 184, 226, 214, 208, 202, 196,
];
const PALETTE_MONO: &[u8] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253,
];

/// The buckets: the largest latency each holds (µs; 0 = the rest) and its character.
const BUCKETS: &[(i64, u8)] = &[
    (10, b'.'),
    (125, b'-'),
    (250, b'*'),
    (500, b'#'),
    (1000, b'1'),
    (2000, b'2'),
    (3000, b'3'),
    (4000, b'4'),
    (5000, b'5'),
    (6000, b'6'),
    (7000, b'7'),
    (8000, b'8'),
    (9000, b'9'),
    (10000, b'A'),
    (20000, b'B'),
    (30000, b'C'),
    (40000, b'D'),
    (50000, b'E'),
    (100_000, b'F'),
    (200_000, b'G'),
    (300_000, b'H'),
    (400_000, b'I'),
    (500_000, b'J'),
    (1_000_000, b'K'),
    (2_000_000, b'L'),
    (4_000_000, b'M'),
    (8_000_000, b'N'),
    (16_000_000, b'O'),
    (30_000_000, b'P'),
    (60_000_000, b'Q'),
    (0, b'?'),
];

fn bucket_of(latency_us: i64) -> usize {
    BUCKETS
        .iter()
        .position(|&(max, _)| max == 0 || latency_us <= max)
        .unwrap_or(BUCKETS.len() - 1)
}

/// The legend printed before every 20 spectrum lines.
fn dist_legend(palette: &[u8]) -> String {
    let mut s = String::new();
    s.push_str("---------------------------------------------\n");
    s.push_str(". - * #          .01 .125 .25 .5 milliseconds\n");
    s.push_str("1,2,3,...,9      from 1 to 9     milliseconds\n");
    s.push_str("A,B,C,D,E        10,20,30,40,50  milliseconds\n");
    s.push_str("F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n");
    s.push_str("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n");
    s.push_str("From 0 to 100%: ");
    for color in palette {
        s.push_str(&format!("\x1b[48;5;{color}m "));
    }
    s.push_str("\x1b[0m\n");
    s.push_str("---------------------------------------------\n");
    s
}

/// One spectrum line: each bucket's character on a background as dark as its share is small.
fn dist_line(counts: &[i64], total: i64, palette: &[u8]) -> String {
    let mut s = String::from("\x1b[38;5;0m");
    let top = (palette.len() - 1) as f64;
    for (&count, &(_, ch)) in counts.iter().zip(BUCKETS) {
        let index = (count as f64 / total as f64 * top).ceil() as usize;
        let color = palette.get(index).copied().unwrap_or(0);
        s.push_str(&format!("\x1b[48;5;{color}m{}", ch as char));
    }
    s.push_str("\x1b[0m\n");
    s
}

/// `--latency-dist`: PING every 10 ms and draw the latency spectrum once per interval
/// (`-i`, default 1 s).
pub(crate) fn latency_dist(session: &mut Session) -> Result<(), Exit> {
    let palette = if session.opts.mono {
        PALETTE_MONO
    } else {
        PALETTE_COLOR
    };
    let interval_us = session.opts.interval_us as i64;
    let history_interval = if interval_us != 0 {
        interval_us / 1000
    } else {
        LATENCY_DIST_DEFAULT_INTERVAL
    };
    let mut history_start = ustime();
    let mut counts = vec![0i64; BUCKETS.len()];
    let (mut count, mut outputs) = (0i64, 0u64);
    loop {
        let start = ustime();
        session.reconnecting_command(&[b"PING".to_vec()])?;
        let latency = ustime() - start;
        count += 1;
        counts[bucket_of(latency)] += 1;
        if count != 0 && (ustime() - history_start) / 1000 > history_interval {
            let mut text = String::new();
            if outputs % 20 == 0 {
                text.push_str(&dist_legend(palette));
            }
            outputs += 1;
            text.push_str(&dist_line(&counts, count, palette));
            flush(&text);
            counts.iter_mut().for_each(|c| *c = 0);
            history_start = ustime();
            count = 0;
        }
        std::thread::sleep(LATENCY_SAMPLE_RATE);
    }
}

/// A little work the optimizer cannot remove (an RC4-like shuffle).
fn compute_something_fast() -> u64 {
    let mut s = [0u8; 256];
    for (k, b) in s.iter_mut().enumerate() {
        *b = k as u8;
    }
    let (mut i, mut j, mut output) = (0u8, 0u8, 0u64);
    for _ in 0..1000 {
        i = i.wrapping_add(1);
        j = j.wrapping_add(s[usize::from(i)]);
        s.swap(usize::from(i), usize::from(j));
        output += u64::from(s[usize::from(s[usize::from(i)].wrapping_add(s[usize::from(j)]))]);
    }
    output
}

/// `--intrinsic-latency SECONDS`: how long the system leaves this process without a CPU,
/// measured around a tight loop of work with no system calls.
pub(crate) fn intrinsic_latency(seconds: i64) -> Result<(), Exit> {
    crate::keys::catch_sigint();
    let run_time = seconds * 1_000_000;
    let test_end = ustime() + run_time;
    let (mut max_latency, mut runs) = (0i64, 0i64);
    loop {
        let start = ustime();
        std::hint::black_box(compute_something_fast());
        let end = ustime();
        let latency = end - start;
        runs += 1;
        if latency <= 0 {
            continue;
        }
        if latency > max_latency {
            max_latency = latency;
            flush(&format!(
                "Max latency so far: {max_latency} microseconds.\n"
            ));
        }
        let avg_us = run_time as f64 / runs as f64;
        let avg_ns = avg_us * 1e3;
        if crate::keys::cancelled() || end > test_end {
            flush(&format!(
                "\n{runs} total runs (avg latency: {avg_us:.4} microseconds / {avg_ns:.2} nanoseconds per run).\n\
                     Worst run took {:.0}x longer than the average latency.\n",
                max_latency as f64 / avg_us
            ));
            return Ok(());
        }
    }
}

/// redis-cli's `getInfoField`: the first occurrence of `field` anywhere in INFO, its value up
/// to `\r` or `,`.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    let at = info.find(field)?;
    let value = info.get(at + field.len() + 1..)?;
    let end = value.find(['\r', ',']).unwrap_or(value.len());
    Some(&value[..end])
}

/// The field as a number (`strtol`), `i64::MIN` when absent.
fn info_long(info: &str, field: &str) -> i64 {
    info_field(info, field).map_or(i64::MIN, c_int)
}

/// redis-cli's `bytesToHuman`: `100B`, `4.00K`, `2.50M`, `1.00G`; `None` from 1 TiB up, where
/// redis-cli writes nothing and its buffer keeps what it held.
fn bytes_to_human(n: i64) -> Option<String> {
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs();
    let d = n as f64;
    let text = if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024 * 1024 * 1024 * 1024 {
        format!("{:.2}G", d / (1024.0 * 1024.0 * 1024.0))
    } else {
        return None;
    };
    Some(format!("{sign}{text}"))
}

/// The header printed before every 20 `--stat` lines.
const STAT_HEADER: &str = "------- data ------ --------------------- load -------------------- - child -\n\
keys       mem      clients blocked requests            connections          \n";

/// One `--stat` line from an INFO reply; `requests` is the previous request count (0 at first).
fn stat_line(info: &str, requests: &mut i64) -> String {
    let mut keys = 0i64;
    for db in 0..20 {
        let k = info_long(info, &format!("db{db}:keys"));
        if k != i64::MIN {
            keys = keys.wrapping_add(k);
        }
    }
    let keys = keys.to_string();
    let mut line = format!("{keys:<11}");
    let mem = bytes_to_human(info_long(info, "used_memory")).unwrap_or_else(|| keys.clone());
    line.push_str(&format!("{mem:<8}"));
    line.push_str(&format!(
        " {:<8}",
        info_long(info, "connected_clients").to_string()
    ));
    line.push_str(&format!(
        "{:<8}",
        info_long(info, "blocked_clients").to_string()
    ));
    let total = info_long(info, "total_commands_processed");
    let delta = if *requests == 0 {
        0
    } else {
        total.wrapping_sub(*requests)
    };
    line.push_str(&format!("{:<19}", format!("{total} (+{delta})")));
    *requests = total;
    line.push_str(&format!(
        " {:<12}",
        info_long(info, "total_connections_received").to_string()
    ));
    let children = info_long(info, "bgsave_in_progress")
        | info_long(info, "aof_rewrite_in_progress").wrapping_shl(1)
        | info_long(info, "loading").wrapping_shl(2);
    line.push_str(match children {
        1 => "SAVE",
        2 => "AOF",
        3 => "SAVE+AOF",
        4 => "LOAD",
        _ => "",
    });
    line.push('\n');
    line
}

/// `--stat`: a line of keys, memory, clients, requests and connections every interval
/// (`-i`, default 1 s).
pub(crate) fn stat(session: &mut Session) -> Result<(), Exit> {
    let interval = match session.opts.interval_us {
        0 => 1_000_000,
        us => us,
    };
    let mut requests = 0i64;
    let mut lines = 0u64;
    loop {
        let info = match session.reconnecting_command(&[b"INFO".to_vec()])? {
            Frame::Error(e) => {
                eprintln!("ERROR: {}", String::from_utf8_lossy(&e));
                return Err(Exit(1));
            }
            Frame::Bulk(s) | Frame::Verbatim { text: s, .. } | Frame::Simple(s) => {
                String::from_utf8_lossy(&s).into_owned()
            }
            _ => String::new(),
        };
        let mut text = String::new();
        if lines % 20 == 0 {
            text.push_str(STAT_HEADER);
        }
        lines += 1;
        text.push_str(&stat_line(&info, &mut requests));
        flush(&text);
        std::thread::sleep(Duration::from_micros(interval));
    }
}

/// How long one `--lru-test` cycle lasts, and the commands per pipelined batch.
const LRU_CYCLE: Duration = Duration::from_secs(1);
const LRU_PIPELINE: usize = 250;

/// A small xorshift generator standing in for C's `rand()`: `[0, 1)`.
struct Rand(u64);

impl Rand {
    fn seeded() -> Rand {
        Rand((ustime() as u64 ^ u64::from(std::process::id())) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A number in `min..=max` from a power law: the larger `alpha`, the more small numbers
/// (6.2 gives the 80/20 rule).
fn power_law(rand: &mut Rand, min: i64, max: i64, alpha: f64) -> i64 {
    let max = max + 1;
    let r = rand.next();
    let (lo, hi) = (
        (min as f64).powf(alpha + 1.0),
        (max as f64).powf(alpha + 1.0),
    );
    let pl = ((hi - lo) * r + lo).powf(1.0 / (alpha + 1.0));
    (max - 1 - pl as i64) + min
}

/// `--lru-test KEYS`: half SETs, half GETs of `lru:N` keys drawn 80/20, pipelined, with the
/// hit rate printed every second (to try a maxmemory policy).
pub(crate) fn lru_test(session: &mut Session, keys: i64) -> Result<(), Exit> {
    let mut rand = Rand::seeded();
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    let io_error = |_| {
        eprintln!("I/O error during LRU test");
        Exit(1)
    };
    loop {
        let cycle = std::time::Instant::now();
        let (mut hits, mut misses) = (0i64, 0i64);
        while cycle.elapsed() < LRU_CYCLE {
            let mut batch = Vec::with_capacity(LRU_PIPELINE);
            for _ in 0..LRU_PIPELINE {
                let value: Vec<u8> = (0..5)
                    .map(|_| b'A' + (rand.next() * f64::from(b'z' - b'A')) as u8)
                    .collect();
                let key = format!("lru:{}", power_law(&mut rand, 1, keys, 6.2));
                batch.push(vec![b"SET".to_vec(), key.into_bytes(), value]);
            }
            conn.send_all(&batch).map_err(io_error)?;
            for _ in 0..LRU_PIPELINE {
                conn.read_reply().map_err(io_error)?;
            }
            let batch: Vec<Vec<Vec<u8>>> = (0..LRU_PIPELINE)
                .map(|_| {
                    let key = format!("lru:{}", power_law(&mut rand, 1, keys, 6.2));
                    vec![b"GET".to_vec(), key.into_bytes()]
                })
                .collect();
            conn.send_all(&batch).map_err(io_error)?;
            for _ in 0..LRU_PIPELINE {
                match conn.read_reply().map_err(io_error)? {
                    Frame::Error(e) => eprintln!("{}", String::from_utf8_lossy(&e)),
                    Frame::Null => misses += 1,
                    _ => hits += 1,
                }
            }
        }
        let total = hits + misses;
        flush(&format!(
            "{total} Gets/sec | Hits: {hits} ({:.2}%) | Misses: {misses} ({:.2}%)\n",
            hits as f64 / total as f64 * 100.0,
            misses as f64 / total as f64 * 100.0
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_stays_in_range_and_favours_small_numbers() {
        let mut rand = Rand(12345);
        let draws: Vec<i64> = (0..1000)
            .map(|_| power_law(&mut rand, 1, 100, 6.2))
            .collect();
        assert!(draws.iter().all(|&n| (1..=100).contains(&n)));
        assert!(draws.iter().filter(|&&n| n <= 20).count() > 500);
    }

    #[test]
    fn latency_lines_per_output_style() {
        assert_eq!(
            latency_line(Output::Standard, 0, 3, 0.5, 12),
            "min: 0, max: 3, avg: 0.50 (12 samples)"
        );
        assert_eq!(latency_line(Output::Csv, 0, 3, 0.5, 12), "0,3,0.50,12\n");
        assert_eq!(latency_line(Output::Raw, 0, 3, 0.5, 12), "0 3 0.50 12\n");
        assert_eq!(
            latency_line(Output::Json, 0, 3, 0.5, 12),
            "{\"min\": 0, \"max\": 3, \"avg\": 0.50, \"count\": 12}\n"
        );
        assert_eq!(latency_line(Output::QuotedJson, 0, 3, 0.5, 12), "");
    }

    #[test]
    fn spectrum_buckets_and_colors() {
        assert_eq!(BUCKETS[bucket_of(5)].1, b'.');
        assert_eq!(BUCKETS[bucket_of(126)].1, b'*');
        assert_eq!(BUCKETS[bucket_of(61_000_000)].1, b'?');
        let mut counts = vec![0; BUCKETS.len()];
        counts[0] = 1;
        let line = dist_line(&counts, 1, PALETTE_MONO);
        assert!(line.starts_with("\x1b[38;5;0m\x1b[48;5;253m.\x1b[48;5;0m-"));
        assert!(line.ends_with("\x1b[48;5;0m?\x1b[0m\n"));
    }

    #[test]
    fn stat_reads_info_as_redis_cli_does() {
        let info = "# Server\r\nconnected_clients:3\r\nblocked_clients:0\r\n\
                    used_memory:1048576\r\ntotal_connections_received:17\r\n\
                    total_commands_processed:100\r\nloading:0\r\nbgsave_in_progress:1\r\n\
                    aof_rewrite_in_progress:0\r\ndb0:keys=5,expires=0,avg_ttl=0\r\n\
                    db3:keys=2,expires=0,avg_ttl=0\r\n";
        let mut requests = 0;
        assert_eq!(
            stat_line(info, &mut requests),
            "7          1.00M    3       0       100 (+0)            17          SAVE\n"
        );
        assert_eq!(requests, 100);
        assert_eq!(
            stat_line(&info.replace(":100", ":130"), &mut requests)[36..56],
            *"130 (+30)           "
        );
        assert_eq!(bytes_to_human(1023).as_deref(), Some("1023B"));
        assert_eq!(bytes_to_human(-2048).as_deref(), Some("-2.00K"));
        assert_eq!(bytes_to_human(1 << 40), None);
    }
}
