//! What a run prints: Redis 7.0's full report, `-q` line and `--csv` row, the live progress
//! line (terminals only), and the `--json` document.
//!
//! Latencies are kept in microseconds and shown in milliseconds. Like Redis, the percentile
//! values go through single precision (`value / 1000.0f`) and the mean through double.

use std::fmt::Write as _;
use std::time::Duration;

use crate::histogram::Histogram;
use crate::net::ServerConfig;
use crate::worker::Snapshot;

/// The `--csv` header line.
pub(crate) const CSV_HEADER: &str = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n";

/// One finished test.
#[derive(Debug)]
pub(crate) struct TestResult {
    pub(crate) title: String,
    pub(crate) finished: u64,
    pub(crate) elapsed: Duration,
    pub(crate) histogram: Histogram,
}

/// The summary numbers every format shows, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Summary {
    rps: f64,
    avg: f64,
    min: f32,
    p50: f32,
    p95: f32,
    p99: f32,
    max: f32,
}

fn ms(us: u64) -> f32 {
    us as f32 / 1000.0
}

impl TestResult {
    /// Requests per second over the measured time.
    pub(crate) fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.finished as f64 / secs
        } else {
            f64::INFINITY
        }
    }

    fn summary(&self) -> Summary {
        let h = &self.histogram;
        Summary {
            rps: self.rps(),
            avg: h.mean() / 1000.0,
            min: ms(h.min()),
            p50: ms(h.value_at_percentile(50.0)),
            p95: ms(h.value_at_percentile(95.0)),
            p99: ms(h.value_at_percentile(99.0)),
            max: ms(h.max()),
        }
    }
}

/// The settings the full report lists under the title.
#[derive(Debug)]
pub(crate) struct Setup<'a> {
    pub(crate) clients: usize,
    pub(crate) data_size: usize,
    pub(crate) keepalive: bool,
    pub(crate) server: Option<&'a ServerConfig>,
    pub(crate) threads: usize,
    pub(crate) rps: Option<f64>,
    /// `--cluster`: each master's settings (`None` when they could not be fetched).
    pub(crate) cluster: Option<&'a [Option<ServerConfig>]>,
}

/// The full report of one test.
pub(crate) fn full(r: &TestResult, setup: &Setup<'_>) -> String {
    let s = r.summary();
    let mut out = String::new();
    let _ = writeln!(out, "====== {} ======", r.title);
    let _ = writeln!(
        out,
        "  {} requests completed in {:.2} seconds",
        r.finished,
        r.elapsed.as_secs_f64()
    );
    let _ = writeln!(out, "  {} parallel clients", setup.clients);
    let _ = writeln!(out, "  {} bytes payload", setup.data_size);
    let _ = writeln!(out, "  keep alive: {}", u8::from(setup.keepalive));
    if let Some(nodes) = setup.cluster {
        let _ = writeln!(out, "  cluster mode: yes ({} masters)", nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let _ = writeln!(out, "  node [{i}] configuration:");
            let save = if node.save.is_empty() {
                "NONE"
            } else {
                &node.save
            };
            let _ = writeln!(out, "    save: {save}");
            let _ = writeln!(out, "    appendonly: {}", node.appendonly);
        }
    } else if let Some(server) = setup.server {
        let _ = writeln!(out, "  host configuration \"save\": {}", server.save);
        let _ = writeln!(
            out,
            "  host configuration \"appendonly\": {}",
            server.appendonly
        );
    }
    let _ = writeln!(
        out,
        "  multi-thread: {}",
        if setup.threads > 0 { "yes" } else { "no" }
    );
    if setup.threads > 0 {
        let _ = writeln!(out, "  threads: {}", setup.threads);
    }
    if let Some(rps) = setup.rps {
        let _ = writeln!(
            out,
            "  rate: {rps:.2} requests per second (latency from when each request was due)"
        );
    }
    out.push_str("\nLatency by percentile distribution:\n");
    let total = r.histogram.total();
    let mut previous = None;
    for step in r.histogram.percentile_steps() {
        if previous != Some(step.cumulative) || step.cumulative == total {
            row(
                &mut out,
                step.percentile,
                step.highest_equivalent,
                step.cumulative,
            );
        }
        previous = Some(step.cumulative);
    }
    out.push_str("\nCumulative distribution of latencies:\n");
    previous = None;
    // Rows every 0.1 ms up to 2 ms, then every ms: finer steps past 2 ms are noise.
    for step in r.histogram.linear_steps(100, 2000, 1000) {
        if previous != Some(step.cumulative) || step.cumulative == total {
            row(
                &mut out,
                step.percentile,
                step.highest_equivalent,
                step.cumulative,
            );
        }
        previous = Some(step.cumulative);
    }
    out.push_str("\nSummary:\n");
    let _ = writeln!(
        out,
        "  throughput summary: {:.2} requests per second",
        s.rps
    );
    out.push_str("  latency summary (msec):\n");
    let _ = writeln!(
        out,
        "    {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "avg", "min", "p50", "p95", "p99", "max"
    );
    let _ = writeln!(
        out,
        "    {:9.3} {:9.3} {:9.3} {:9.3} {:9.3} {:9.3}",
        s.avg, s.min, s.p50, s.p95, s.p99, s.max
    );
    out
}

fn row(out: &mut String, percentile: f64, highest_us: u64, cumulative: u64) {
    let _ = writeln!(
        out,
        "{percentile:3.3}% <= {:.3} milliseconds (cumulative count {cumulative})",
        ms(highest_us)
    );
}

/// The `-q` line.
pub(crate) fn quiet(r: &TestResult) -> String {
    let s = r.summary();
    format!(
        "{}: {:.2} requests per second, p50={:.3} msec\n",
        r.title, s.rps, s.p50
    )
}

/// The `--csv` row.
pub(crate) fn csv(r: &TestResult) -> String {
    let s = r.summary();
    format!(
        "\"{}\",\"{:.2}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"\n",
        r.title, s.rps, s.avg, s.min, s.p50, s.p95, s.p99, s.max
    )
}

/// The live progress line, redrawn in place with `\r`.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    previous: Snapshot,
    printed: usize,
}

impl Progress {
    /// The text that replaces the previous line with the current state.
    pub(crate) fn line(&mut self, title: &str, now: Snapshot) -> String {
        let overall_secs = now.elapsed.as_secs_f64();
        let interval_secs = now
            .elapsed
            .saturating_sub(self.previous.elapsed)
            .as_secs_f64();
        let per_sec = |n: u64, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let avg_ms = |sum: u64, count: u64| {
            if count > 0 {
                sum as f64 / count as f64 / 1000.0
            } else {
                0.0
            }
        };
        let text = format!(
            "{title}: rps={:.1} (overall: {:.1}) avg_msec={:.3} (overall: {:.3})",
            per_sec(
                now.finished - self.previous.finished.min(now.finished),
                interval_secs
            ),
            per_sec(now.finished, overall_secs),
            avg_ms(
                now.latency_sum_us
                    .saturating_sub(self.previous.latency_sum_us),
                now.latency_count
                    .saturating_sub(self.previous.latency_count)
            ),
            avg_ms(now.latency_sum_us, now.latency_count),
        );
        let mut out = self.clear();
        out.push_str(&text);
        out.push('\r');
        self.printed = text.len() + 1;
        self.previous = now;
        out
    }

    /// Blanks the line drawn last, if any.
    pub(crate) fn clear(&mut self) -> String {
        let out = if self.printed > 0 {
            format!("{:width$}\r", " ", width = self.printed)
        } else {
            String::new()
        };
        self.printed = 0;
        out
    }
}

/// The run's settings recorded in the JSON document.
#[derive(Debug)]
pub(crate) struct JsonSetup<'a> {
    pub(crate) target: String,
    pub(crate) setup: Setup<'a>,
    pub(crate) pipeline: usize,
    pub(crate) duration: Option<Duration>,
    pub(crate) warmup: Option<Duration>,
}

/// The `--json` document: the settings and, per test, throughput and latency percentiles.
pub(crate) fn json(results: &[TestResult], js: &JsonSetup<'_>) -> String {
    let opt_secs = |d: Option<Duration>| d.map_or("null".to_string(), |d| num(d.as_secs_f64()));
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"target\": {},", string(&js.target));
    let _ = writeln!(out, "  \"clients\": {},", js.setup.clients);
    let _ = writeln!(out, "  \"pipeline\": {},", js.pipeline);
    let _ = writeln!(out, "  \"data_size\": {},", js.setup.data_size);
    let _ = writeln!(out, "  \"keepalive\": {},", js.setup.keepalive);
    let _ = writeln!(out, "  \"threads\": {},", js.setup.threads);
    let _ = writeln!(
        out,
        "  \"rps_target\": {},",
        js.setup.rps.map_or("null".to_string(), num)
    );
    let _ = writeln!(out, "  \"duration_s\": {},", opt_secs(js.duration));
    let _ = writeln!(out, "  \"warmup_s\": {},", opt_secs(js.warmup));
    out.push_str("  \"tests\": [");
    for (i, r) in results.iter().enumerate() {
        let h = &r.histogram;
        let s = r.summary();
        let p999 = ms(h.value_at_percentile(99.9));
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(
            out,
            "    {{\"test\": {}, \"requests\": {}, \"seconds\": {}, \"rps\": {}, \
             \"latency_ms\": {{\"avg\": {}, \"min\": {}, \"p50\": {}, \"p95\": {}, \"p99\": {}, \
             \"p99_9\": {}, \"max\": {}}}}}",
            string(&r.title),
            r.finished,
            num(r.elapsed.as_secs_f64()),
            num(s.rps),
            num(s.avg),
            num(f64::from(s.min)),
            num(f64::from(s.p50)),
            num(f64::from(s.p95)),
            num(f64::from(s.p99)),
            num(f64::from(p999)),
            num(f64::from(s.max)),
        );
    }
    out.push_str(if results.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out
}

/// A JSON number (JSON has no NaN or infinity: those become null).
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{:.3}", v)
    } else {
        "null".to_string()
    }
}

fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> TestResult {
        let mut histogram = Histogram::new(10, 3_000_000, 3);
        for (v, n) in [(96, 1), (255, 12000), (300, 7000), (4031, 1)] {
            histogram.record_n(v, n);
        }
        TestResult {
            title: "SET".into(),
            finished: 19002,
            elapsed: Duration::from_millis(200),
            histogram,
        }
    }

    #[test]
    fn quiet_line_layout() {
        assert_eq!(
            quiet(&result()),
            "SET: 95010.00 requests per second, p50=0.255 msec\n"
        );
    }

    #[test]
    fn csv_row_layout() {
        let row = csv(&result());
        assert!(row.starts_with("\"SET\",\"95010.00\",\""), "{row}");
        assert!(
            row.ends_with(",\"0.096\",\"0.255\",\"0.303\",\"0.303\",\"4.031\"\n"),
            "{row}"
        );
        assert_eq!(
            CSV_HEADER.matches(',').count(),
            row.matches("\",\"").count()
        );
    }

    #[test]
    fn full_report_layout() {
        let server = ServerConfig {
            save: String::new(),
            appendonly: "no".into(),
        };
        let setup = Setup {
            clients: 50,
            data_size: 3,
            keepalive: true,
            server: Some(&server),
            threads: 0,
            rps: None,
            cluster: None,
        };
        let text = full(&result(), &setup);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "====== SET ======");
        assert_eq!(lines[1], "  19002 requests completed in 0.20 seconds");
        assert_eq!(lines[5], "  host configuration \"save\": ");
        assert_eq!(lines[7], "  multi-thread: no");
        assert_eq!(lines[9], "Latency by percentile distribution:");
        assert_eq!(
            lines[10],
            "0.000% <= 0.103 milliseconds (cumulative count 1)"
        );
        assert!(text.contains("\n100.000% <= 4.031 milliseconds (cumulative count 19002)\n"));
        assert!(
            text.contains("\nCumulative distribution of latencies:\n0.005% <= 0.103 milliseconds")
        );
        assert!(text.contains("\n100.000% <= 4.103 milliseconds (cumulative count 19002)\n"));
        assert!(text.ends_with(
            "          avg       min       p50       p95       p99       max\n        0.270     0.096     0.255     0.303     0.303     4.031\n"
        ), "{text}");
    }

    #[test]
    fn progress_redraws_in_place() {
        let mut p = Progress::default();
        let snap = Snapshot {
            finished: 1000,
            latency_sum_us: 250_000,
            latency_count: 1000,
            elapsed: Duration::from_millis(250),
        };
        let first = p.line("SET", snap);
        assert_eq!(
            first,
            "SET: rps=4000.0 (overall: 4000.0) avg_msec=0.250 (overall: 0.250)\r"
        );
        let second = p.line("SET", snap);
        assert!(second.starts_with(&format!("{:w$}\r", " ", w = first.len())));
        assert_eq!(p.clear().len(), second.len() - first.len());
    }

    #[test]
    fn json_escapes_titles_and_nulls_infinities() {
        let mut r = result();
        r.title = "SET \"a\"\n".into();
        r.elapsed = Duration::ZERO;
        let js = JsonSetup {
            target: "127.0.0.1:6379".into(),
            setup: Setup {
                clients: 1,
                data_size: 3,
                keepalive: true,
                server: None,
                threads: 0,
                rps: None,
                cluster: None,
            },
            pipeline: 1,
            duration: None,
            warmup: None,
        };
        let doc = json(&[r], &js);
        assert!(doc.contains("\"test\": \"SET \\\"a\\\"\\u000a\""), "{doc}");
        assert!(doc.contains("\"rps\": null"), "{doc}");
    }
}
