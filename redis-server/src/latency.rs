//! Per-command latency histograms for INFO `latencystats` (`latency-tracking`).
//!
//! Log-linear buckets over nanoseconds: exact below 128 ns, then 64 buckets per power of two
//! (under 1.6% relative error), up to 2^40 ns. Counters are atomics so recording never takes a
//! lock; each worker thread records into its own copy (allocated on first use) so that two
//! cores timing the same command do not fight over one cache line.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock, PoisonError};

const LINEAR: u64 = 128;
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const MAX_EXP: u32 = 40;
const BUCKETS: usize = LINEAR as usize + ((MAX_EXP - SUB_BITS) as usize) * SUB as usize;
/// Copies per command: the first three threads to record own one each, later ones share one.
const COPIES: usize = 4;

fn bucket_of(ns: u64) -> usize {
    if ns < LINEAR {
        return ns as usize;
    }
    let ns = ns.min((1 << MAX_EXP) - 1);
    let exp = 63 - ns.leading_zeros();
    let shift = exp - SUB_BITS;
    ((exp - SUB_BITS) as u64 * SUB + (ns >> shift)) as usize
}

/// The largest value that falls in bucket `i` (HDR's "highest equivalent value").
fn bucket_high(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let exp = (i / SUB + SUB_BITS as u64 - 1) as u32;
    let mantissa = i % SUB + SUB;
    let shift = exp - SUB_BITS;
    ((mantissa + 1) << shift) - 1
}

struct Counts(Box<[AtomicU64]>);

impl Counts {
    fn new() -> Counts {
        Counts((0..BUCKETS).map(|_| AtomicU64::new(0)).collect())
    }
}

/// One command's latency distribution.
#[derive(Default)]
pub(crate) struct LatencyHistogram {
    /// Written as [`crate::counters`] writes its stripes: copy 0 shared, the others each one
    /// thread's own.
    copies: [OnceLock<Counts>; COPIES],
    /// The merged counts at the last reset, subtracted by readers (a reset writes no copy).
    baseline: Mutex<Option<Vec<u64>>>,
}

impl LatencyHistogram {
    pub(crate) fn record(&self, ns: u64) {
        let slot = crate::counters::slot(COPIES);
        let counts = self.copies[slot.index].get_or_init(Counts::new);
        crate::counters::bump(&counts.0[bucket_of(ns)], 1, slot);
    }

    pub(crate) fn reset(&self) {
        let sums = self.sums();
        *self.baseline.lock().unwrap_or_else(PoisonError::into_inner) = Some(sums);
    }

    /// Every copy's counts added up.
    fn sums(&self) -> Vec<u64> {
        let mut sums = vec![0u64; BUCKETS];
        for copy in self.copies.iter().filter_map(OnceLock::get) {
            for (m, c) in sums.iter_mut().zip(copy.0.iter()) {
                *m = m.wrapping_add(c.load(Relaxed));
            }
        }
        sums
    }

    /// The counts since the last reset, or `None` when nothing was recorded.
    fn merged(&self) -> Option<Vec<u64>> {
        let mut merged = self.sums();
        if let Some(baseline) = &*self.baseline.lock().unwrap_or_else(PoisonError::into_inner) {
            for (m, b) in merged.iter_mut().zip(baseline) {
                *m = m.wrapping_sub(*b);
            }
        }
        merged.iter().any(|&n| n > 0).then_some(merged)
    }

    /// Values in nanoseconds at each percentile (0..=100), or `None` when empty.
    pub(crate) fn percentiles(&self, percentiles: &[f64]) -> Option<Vec<u64>> {
        let counts = self.merged()?;
        let total: u64 = counts.iter().sum();
        Some(
            percentiles
                .iter()
                .map(|p| {
                    // The smallest value with at least p% of samples at or below it (at least
                    // one sample, so p0 is the minimum).
                    let wanted = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
                    let mut seen = 0;
                    for (i, n) in counts.iter().enumerate() {
                        seen += n;
                        if seen >= wanted {
                            return bucket_high(i);
                        }
                    }
                    bucket_high(BUCKETS - 1)
                })
                .collect(),
        )
    }
}

impl LatencyHistogram {
    /// The number of samples and LATENCY HISTOGRAM's cumulative distribution: for each power
    /// of two from 1024 ns, the level in microseconds and how many samples fall at or below
    /// it, skipping levels that add nothing. Levels are HDR's highest equivalent values at two
    /// significant digits, as Redis reports them; samples count from 1 ns to 1 s, as Redis
    /// clamps them. `None` when nothing was recorded.
    pub(crate) fn cumulative_usec(&self) -> Option<(u64, Vec<(u64, u64)>)> {
        const LAST_LEVEL: u32 = 20; // 1024 << 20 ns is past Redis's 1 s ceiling.
        let counts = self.merged()?;
        let total: u64 = counts.iter().sum();
        let mut levels = Vec::new();
        let mut previous = 0;
        for k in 0..=LAST_LEVEL {
            let highest = (1024u64 << k) + (1u64 << (k + 3)) - 1;
            let cumulative = if k == LAST_LEVEL {
                total
            } else {
                counts
                    .iter()
                    .enumerate()
                    .take_while(|(i, _)| bucket_high(*i) <= highest)
                    .map(|(_, n)| n)
                    .sum()
            };
            if cumulative > previous {
                levels.push((highest / 1000, cumulative));
                previous = cumulative;
            }
            if cumulative == total {
                break;
            }
        }
        Some((total, levels))
    }
}

/// `p50=1.003,p99=2.007` as INFO latencystats prints a command's line (values in µs).
pub(crate) fn format_percentiles(percentiles: &[f64], values_ns: &[u64]) -> String {
    let mut out = String::new();
    for (i, (p, v)) in percentiles.iter().zip(values_ns).enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Redis prints the percentile with as few decimals as it needs: p50, p99.9.
        let label = format!("{p:.4}");
        let label = label.trim_end_matches('0').trim_end_matches('.');
        out.push_str(&format!("p{label}={:.3}", *v as f64 / 1000.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_values() {
        for v in [0, 1, 127, 128, 129, 1000, 50_000_000, 1 << 39] {
            let b = bucket_of(v);
            assert!(bucket_high(b) >= v, "{v}");
            if b > 0 {
                assert!(bucket_high(b - 1) < v, "{v}");
            }
            // Under 1.6% above the true value.
            assert!((bucket_high(b) - v) as f64 <= v as f64 * 0.016 + 1.0, "{v}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn percentiles_and_format() {
        let h = LatencyHistogram::default();
        assert!(h.percentiles(&[50.0]).is_none());
        for ns in 1..=100 {
            h.record(ns * 1000);
        }
        let p = h.percentiles(&[0.0, 50.0, 100.0]).unwrap();
        assert!(p[0] >= 1000 && p[0] < 1020);
        assert!(p[1] >= 50_000 && p[1] < 51_000);
        assert!(p[2] >= 100_000 && p[2] < 101_600);
        assert_eq!(
            format_percentiles(&[50.0, 99.9], &[1003, 2007]),
            "p50=1.003,p99.9=2.007"
        );
        h.reset();
        assert!(h.percentiles(&[50.0]).is_none());
        assert!(h.cumulative_usec().is_none());
    }

    #[test]
    fn cumulative_levels_double_from_1024_ns() {
        let h = LatencyHistogram::default();
        for ns in [500, 900, 3000, 5_000_000_000] {
            h.record(ns);
        }
        let (calls, levels) = h.cumulative_usec().unwrap();
        assert_eq!(calls, 4);
        assert_eq!(levels, [(1, 2), (4, 3), (1_082_130, 4)]);
    }
}
