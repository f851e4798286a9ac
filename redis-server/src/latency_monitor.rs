//! The latency monitor (`latency-monitor-threshold`, LATENCY LATEST/HISTORY/GRAPH/DOCTOR).
//!
//! Each event (`command`, `fast-command`, `expire-cycle`, ...) keeps its last 160 spikes, at
//! most one per second (the worst of that second), and its all-time worst. Samples under the
//! threshold, or any sample while the threshold is 0, are not recorded. Events are created on
//! their first spike and listed in that order.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Samples kept per event, as Redis's `LATENCY_TS_LEN`.
pub(crate) const SAMPLES: usize = 160;
/// Columns of LATENCY GRAPH.
const GRAPH_COLUMNS: usize = 80;
/// Rows of the graph's bars.
const GRAPH_ROWS: usize = 4;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Unix seconds; 0 marks an unused slot.
    pub time: i64,
    /// Milliseconds.
    pub latency: u64,
}

/// One event's ring of samples.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    samples: [Sample; SAMPLES],
    /// The slot the next new second goes to.
    next: usize,
    /// The worst latency ever seen.
    pub max: u64,
}

impl Series {
    fn new() -> Series {
        Series {
            samples: [Sample::default(); SAMPLES],
            next: 0,
            max: 0,
        }
    }

    fn add(&mut self, now_secs: i64, latency: u64) {
        self.max = self.max.max(latency);
        let prev = (self.next + SAMPLES - 1) % SAMPLES;
        if self.samples[prev].time == now_secs {
            let last = &mut self.samples[prev];
            last.latency = last.latency.max(latency);
            return;
        }
        self.samples[self.next] = Sample {
            time: now_secs,
            latency,
        };
        self.next = (self.next + 1) % SAMPLES;
    }

    /// The used samples, oldest first.
    pub(crate) fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..SAMPLES)
            .map(move |j| self.samples[(self.next + j) % SAMPLES])
            .filter(|s| s.time != 0)
    }

    /// The newest sample.
    pub(crate) fn latest(&self) -> Sample {
        self.samples[(self.next + SAMPLES - 1) % SAMPLES]
    }
}

/// Every event's series.
#[derive(Default)]
pub(crate) struct LatencyMonitor {
    events: Mutex<Vec<(String, Series)>>,
}

impl LatencyMonitor {
    fn events(&self) -> MutexGuard<'_, Vec<(String, Series)>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `latency_ms` for `event` if the monitor is on (`threshold_ms` > 0) and the
    /// sample reaches the threshold (Redis's `latencyAddSampleIfNeeded`).
    pub(crate) fn record(&self, threshold_ms: u64, event: &str, latency_ms: u64) {
        if threshold_ms != 0 && latency_ms >= threshold_ms {
            self.add(event, latency_ms, crate::server::unix_ms() / 1000);
        }
    }

    fn add(&self, event: &str, latency_ms: u64, now_secs: i64) {
        let mut events = self.events();
        match events.iter_mut().find(|(name, _)| name == event) {
            Some((_, series)) => series.add(now_secs, latency_ms),
            None => {
                let mut series = Series::new();
                series.add(now_secs, latency_ms);
                events.push((event.to_owned(), series));
            }
        }
    }

    /// Forgets every event (`None`) or the one named `event`, ignoring case; how many went.
    pub(crate) fn reset(&self, event: Option<&[u8]>) -> usize {
        let mut events = self.events();
        let before = events.len();
        events.retain(|(name, _)| event.is_some_and(|e| !name.as_bytes().eq_ignore_ascii_case(e)));
        before - events.len()
    }

    /// A copy of every event's series, in creation order.
    pub(crate) fn snapshot(&self) -> Vec<(String, Series)> {
        self.events().clone()
    }

    /// The series of `event` (exact name).
    pub(crate) fn series(&self, event: &[u8]) -> Option<(String, Series)> {
        self.events()
            .iter()
            .find(|(name, _)| name.as_bytes() == event)
            .cloned()
    }
}

/// `12s`, `3m`, `2h`, `1d`: how long ago a sample is, as the graph labels it.
fn age_label(elapsed: i64) -> String {
    if elapsed < 60 {
        format!("{elapsed}s")
    } else if elapsed < 3600 {
        format!("{}m", elapsed / 60)
    } else if elapsed < 3600 * 24 {
        format!("{}h", elapsed / 3600)
    } else {
        format!("{}d", elapsed / (3600 * 24))
    }
}

/// LATENCY GRAPH's text: a header, a rule, then bars of `_o#|` four rows high with each
/// sample's age written downwards under it, 80 samples per block.
pub(crate) fn graph(event: &str, series: &Series, now_secs: i64) -> String {
    let samples: Vec<(u64, String)> = series
        .samples()
        .map(|s| (s.latency, age_label(now_secs - s.time)))
        .collect();
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        series.max
    );
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    for (i, block) in samples.chunks(GRAPH_COLUMNS).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_block(&mut out, block, min, max);
    }
    out
}

/// One block of the sparkline (Redis's filled, linear-scale style).
fn render_block(out: &mut String, block: &[(u64, String)], min: u64, max: u64) {
    const FILL: [char; 3] = ['_', 'o', '#'];
    let steps = (FILL.len() * GRAPH_ROWS) as f64;
    let range = match max - min {
        0 => 1.0,
        r => r as f64,
    };
    let step_of = |v: u64| {
        let relative = (v - min) as f64;
        let step = ((relative * steps).trunc() / range) as i64;
        step.clamp(0, steps as i64 - 1)
    };
    for row in 0..GRAPH_ROWS {
        let line: String = block
            .iter()
            .map(|(v, _)| {
                let index = step_of(*v) - ((GRAPH_ROWS - row - 1) * FILL.len()) as i64;
                match usize::try_from(index) {
                    Ok(i) if i < FILL.len() => FILL[i],
                    Ok(_) => '|',
                    Err(_) => ' ',
                }
            })
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
    // A blank line, then the labels written downwards.
    out.push_str(&" ".repeat(block.len()));
    out.push('\n');
    let longest = block.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for i in 0..longest {
        let line: String = block
            .iter()
            .map(|(_, l)| l.as_bytes().get(i).map_or(' ', |b| char::from(*b)))
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
}

/// What LATENCY DOCTOR's advice depends on besides the events.
pub(crate) struct DoctorContext {
    pub threshold_ms: u64,
    pub slowlog_log_slower_than: i64,
    pub hz: u64,
    pub appendfsync_always: bool,
    /// Transparent huge pages back some of our memory (`AnonHugePages` in smaps).
    pub huge_pages: bool,
}

/// Statistics of one event's samples, as the doctor reports them.
struct Analysis {
    samples: u64,
    avg: u64,
    mad: u64,
    period: i64,
}

fn analyze(series: &Series, now_secs: i64) -> Analysis {
    let samples: Vec<Sample> = series.samples().collect();
    let n = samples.len() as u64;
    if n == 0 {
        return Analysis {
            samples: 0,
            avg: 0,
            mad: 0,
            period: 0,
        };
    }
    let avg = samples.iter().map(|s| s.latency).sum::<u64>() / n;
    let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now_secs);
    let period = (now_secs - oldest).max(0);
    let mad = samples.iter().map(|s| s.latency.abs_diff(avg)).sum::<u64>() / n;
    Analysis {
        samples: n,
        avg,
        mad,
        period: if period == 0 { 1 } else { period },
    }
}

/// Advice LATENCY DOCTOR can give, in the order it prints them.
#[derive(Default)]
struct Advice {
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    local_disk: bool,
    ssd: bool,
    data_writeback: bool,
    disk_contention: bool,
    no_appendfsync: bool,
    relax_fsync_policy: bool,
    write_load_info: bool,
    hz: bool,
    large_objects: bool,
    mass_eviction: bool,
    disable_thp: bool,
    count: u32,
}

/// LATENCY DOCTOR's report, in Redis's words.
pub(crate) fn doctor(events: &[(String, Series)], ctx: &DoctorContext, now_secs: i64) -> String {
    if events.is_empty() && ctx.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_owned();
    }
    let mut out = String::new();
    let mut a = Advice::default();
    for (i, (event, series)) in events.iter().enumerate() {
        if i == 0 {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let ls = analyze(series, now_secs);
        out.push_str(&format!(
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            ls.samples,
            ls.avg,
            ls.mad,
            ls.period as f64 / ls.samples.max(1) as f64,
            series.max
        ));
        match event.to_ascii_lowercase().as_str() {
            "command" => {
                if ctx.slowlog_log_slower_than < 0 {
                    a.slowlog_enabled = true;
                    a.count += 1;
                } else if (ctx.slowlog_log_slower_than / 1000) as u64 > ctx.threshold_ms {
                    a.slowlog_tuning = true;
                    a.count += 1;
                }
                a.slowlog_inspect = true;
                a.large_objects = true;
                a.count += 2;
            }
            "fast-command" => {
                a.scheduler = true;
                a.count += 1;
            }
            "aof-write-pending-fsync" => {
                (a.local_disk, a.disk_contention, a.ssd, a.data_writeback) =
                    (true, true, true, true);
                a.count += 4;
            }
            "aof-write-active-child" => {
                (a.no_appendfsync, a.data_writeback, a.ssd) = (true, true, true);
                a.count += 3;
            }
            "aof-write-alone" => {
                (a.local_disk, a.data_writeback, a.ssd) = (true, true, true);
                a.count += 3;
            }
            "aof-fsync-always" => {
                a.relax_fsync_policy = true;
                a.count += 1;
            }
            "aof-fstat" | "rdb-unlink-temp-file" => {
                (a.disk_contention, a.local_disk) = (true, true);
                a.count += 2;
            }
            "aof-rewrite-diff-write" | "aof-rename" => {
                (a.write_load_info, a.data_writeback, a.ssd, a.local_disk) =
                    (true, true, true, true);
                a.count += 4;
            }
            "expire-cycle" => {
                (a.hz, a.large_objects) = (true, true);
                a.count += 2;
            }
            "eviction-del" => {
                a.large_objects = true;
                a.count += 1;
            }
            "eviction-cycle" => {
                a.mass_eviction = true;
                a.count += 1;
            }
            _ => {}
        }
        out.push('\n');
    }
    if ctx.huge_pages {
        a.disable_thp = true;
        a.count += 1;
    }
    if events.is_empty() && a.count == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return out;
    }
    if !events.is_empty() && a.count == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return out;
    }
    out.push_str("\nI have a few advices for you:\n\n");
    let slowlog_value = ctx.threshold_ms.saturating_mul(1000);
    if a.slowlog_enabled {
        out.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {slowlog_value}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
    }
    if a.slowlog_tuning {
        out.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {slowlog_value}'.\n"));
    }
    if a.slowlog_inspect {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if a.scheduler {
        out.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
    }
    if a.local_disk {
        out.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
    }
    if a.ssd {
        out.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
    }
    if a.data_writeback {
        out.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
    }
    if a.disk_contention {
        out.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
    }
    if a.no_appendfsync {
        out.push_str("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
    }
    if a.relax_fsync_policy && ctx.appendfsync_always {
        out.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
    }
    if a.write_load_info {
        out.push_str("- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
    }
    if a.hz && ctx.hz < 100 {
        out.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if a.large_objects {
        out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if a.mass_eviction {
        out.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
    }
    if a.disable_thp {
        out.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
    }
    out
}

/// Bytes of transparent huge pages in our mappings (`AnonHugePages` summed over
/// `/proc/self/smaps`); 0 where that file does not exist.
pub(crate) fn anon_huge_pages() -> u64 {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    smaps
        .lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum::<u64>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeping_the_worst() {
        let m = LatencyMonitor::default();
        m.add("command", 10, 100);
        m.add("command", 30, 100);
        m.add("command", 20, 100);
        m.add("command", 5, 101);
        let (_, s) = m.series(b"command").unwrap();
        let all: Vec<Sample> = s.samples().collect();
        assert_eq!(
            all,
            [
                Sample {
                    time: 100,
                    latency: 30
                },
                Sample {
                    time: 101,
                    latency: 5
                }
            ]
        );
        assert_eq!(s.max, 30);
        assert_eq!(s.latest().latency, 5);
        assert!(m.series(b"COMMAND").is_none());
    }

    #[test]
    fn keeps_the_last_160_seconds() {
        let m = LatencyMonitor::default();
        for t in 1..=200 {
            m.add("e", t as u64, t);
        }
        let (_, s) = m.series(b"e").unwrap();
        let times: Vec<i64> = s.samples().map(|s| s.time).collect();
        assert_eq!(times.len(), SAMPLES);
        assert_eq!(times[0], 41);
        assert_eq!(times[SAMPLES - 1], 200);
    }

    #[test]
    fn threshold_gates_and_reset_ignores_case() {
        let m = LatencyMonitor::default();
        m.record(0, "command", 500);
        assert!(m.snapshot().is_empty());
        m.record(100, "command", 99);
        assert!(m.snapshot().is_empty());
        m.record(100, "command", 100);
        m.record(100, "expire-cycle", 300);
        assert_eq!(m.snapshot().len(), 2);
        assert_eq!(m.reset(Some(b"nothing")), 0);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(None), 1);
    }

    #[test]
    fn graph_layout() {
        let mut s = Series::new();
        s.add(1000, 10);
        s.add(1001, 20);
        s.add(1070, 40);
        let g = graph("command", &s, 1100);
        let expected = "command - high 40 ms, low 10 ms (all time high 40 ms)\n".to_owned()
            + &"-".repeat(80)
            + "\n"
            + "  #\n"
            + "  |\n"
            + " o|\n"
            + "_||\n"
            + "   \n"
            + "113\n"
            + "mm0\n"
            + "  s\n";
        assert_eq!(g, expected);
    }

    #[test]
    fn doctor_texts() {
        let ctx = DoctorContext {
            threshold_ms: 0,
            slowlog_log_slower_than: 10000,
            hz: 10,
            appendfsync_always: false,
            huge_pages: false,
        };
        assert!(doctor(&[], &ctx, 0).starts_with("I'm sorry, Dave"));
        let ctx = DoctorContext {
            threshold_ms: 5,
            ..ctx
        };
        assert!(doctor(&[], &ctx, 0).starts_with("Dave, no latency spike"));
        let mut s = Series::new();
        s.add(90, 10);
        s.add(95, 30);
        let report = doctor(&[("command".into(), s)], &ctx, 100);
        assert!(report.starts_with(
            "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n\
             1. command: 2 latency spikes (average 20ms, mean deviation 10ms, period 5.00 sec). Worst all time event 30ms.\n\
             \nI have a few advices for you:\n\n\
             - Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than 5000'.\n\
             - Check your Slow Log"
        ), "{report}");
    }
}
