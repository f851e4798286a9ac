//! A High Dynamic Range latency histogram laid out like HdrHistogram_c, the one Redis's
//! redis-benchmark links, so the percentile and linear walks of the report land on the same
//! buckets and print the same rows.
//!
//! Values are whole microseconds. Each power-of-two range ("bucket") is split into
//! `sub_bucket_count` equal steps, enough for `significant_figures` decimal digits.

/// A histogram of `u64` values between 0 and the highest trackable value.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    unit_magnitude: u32,
    sub_bucket_half_count_magnitude: u32,
    sub_bucket_count: u64,
    sub_bucket_half_count: u64,
    sub_bucket_mask: u64,
    counts: Vec<u64>,
    total: u64,
    /// Smallest non-zero value recorded; `u64::MAX` when none.
    min_nonzero: u64,
    max: u64,
}

/// One row of a walk: where it stopped and how many values lie at or below it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Step {
    /// The percentile the walk reached (percentile walk) or `cumulative / total * 100`.
    pub(crate) percentile: f64,
    /// The highest value equivalent to the bucket the walk stands on.
    pub(crate) highest_equivalent: u64,
    pub(crate) cumulative: u64,
}

impl Histogram {
    /// A histogram resolving `lowest` (rounded down to a power of two) up to `highest` with
    /// `significant_figures` (clamped to 1..=5) decimal digits.
    pub(crate) fn new(lowest: u64, highest: u64, significant_figures: u32) -> Histogram {
        let figures = significant_figures.clamp(1, 5);
        let single_unit_top = 2 * 10u64.pow(figures);
        // ceil(log2(single_unit_top)) - 1
        let sub_bucket_count_magnitude = u64::BITS - (single_unit_top - 1).leading_zeros();
        let sub_bucket_half_count_magnitude = sub_bucket_count_magnitude.max(1) - 1;
        let unit_magnitude = lowest.max(1).ilog2();
        let sub_bucket_count = 1u64 << (sub_bucket_half_count_magnitude + 1);
        let sub_bucket_half_count = sub_bucket_count / 2;
        let sub_bucket_mask = (sub_bucket_count - 1) << unit_magnitude;
        let highest = highest.max(2 * lowest.max(1));
        let mut smallest_untrackable = sub_bucket_count << unit_magnitude;
        let mut bucket_count = 1u64;
        while smallest_untrackable <= highest {
            smallest_untrackable <<= 1;
            bucket_count += 1;
        }
        let counts_len = (bucket_count + 1) * sub_bucket_half_count;
        Histogram {
            unit_magnitude,
            sub_bucket_half_count_magnitude,
            sub_bucket_count,
            sub_bucket_half_count,
            sub_bucket_mask,
            counts: vec![0; counts_len as usize],
            total: 0,
            min_nonzero: u64::MAX,
            max: 0,
        }
    }

    /// Records `value` `count` times; a value beyond the tracked range is dropped.
    pub(crate) fn record_n(&mut self, value: u64, count: u64) {
        let index = self.index_for(value);
        let Some(slot) = self.counts.get_mut(index) else {
            return;
        };
        *slot += count;
        self.total += count;
        if value != 0 && value < self.min_nonzero {
            self.min_nonzero = value;
        }
        self.max = self.max.max(value);
    }

    /// Adds every value of `other`, which must have the same layout.
    pub(crate) fn add(&mut self, other: &Histogram) {
        debug_assert_eq!(self.counts.len(), other.counts.len());
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.min_nonzero = self.min_nonzero.min(other.min_nonzero);
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The lowest value equivalent to the smallest recorded one (0 when none).
    pub(crate) fn min(&self) -> u64 {
        if self.counts.first().is_some_and(|&c| c > 0) || self.min_nonzero == u64::MAX {
            0
        } else {
            self.lowest_equivalent(self.min_nonzero)
        }
    }

    /// The highest value equivalent to the largest recorded one (0 when none).
    pub(crate) fn max(&self) -> u64 {
        if self.max == 0 {
            0
        } else {
            self.highest_equivalent(self.max)
        }
    }

    /// The mean, each value counted at the middle of its bucket (NaN when empty).
    pub(crate) fn mean(&self) -> f64 {
        let mut sum: u64 = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            if count != 0 {
                let value = self.value_at_index(index);
                let median = self.lowest_equivalent(value) + (self.equivalent_range(value) >> 1);
                sum = sum.wrapping_add(count.wrapping_mul(median));
            }
        }
        sum as f64 / self.total as f64
    }

    /// The value at `percentile` (0..=100): the highest equivalent value of the bucket holding
    /// that rank (the lowest for percentile 0).
    pub(crate) fn value_at_percentile(&self, percentile: f64) -> u64 {
        let requested = percentile.min(100.0);
        let rank = ((requested / 100.0) * self.total as f64 + 0.5) as u64;
        let rank = rank.max(1);
        let mut seen = 0;
        let mut found = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                found = self.value_at_index(index);
                break;
            }
        }
        if percentile == 0.0 {
            self.lowest_equivalent(found)
        } else {
            self.highest_equivalent(found)
        }
    }

    /// The percentile walk (one tick per half distance): 0%, 50%, 75%, 87.5%... each row on
    /// the first bucket reaching that percentile, then a closing row at 100%.
    pub(crate) fn percentile_steps(&self) -> Vec<Step> {
        let mut walk = Walk::new(self);
        let mut steps = Vec::new();
        let mut target = 0.0f64;
        if !walk.has_next() {
            steps.push(walk.step(100.0));
            return steps;
        }
        walk.move_next();
        'walk: loop {
            // One bucket may yield several rows when targets lie close together.
            loop {
                let current = 100.0 * walk.cumulative as f64 / self.total as f64;
                if walk.count != 0 && target <= current {
                    steps.push(walk.step(target));
                    let exponent = ((100.0 / (100.0 - target)).ln() / 2f64.ln()) as i64;
                    let half_distance = 2f64.powf(exponent.saturating_add(1) as f64) as i64;
                    target += 100.0 / half_distance as f64;
                    break;
                }
                if !walk.has_next() || !walk.move_next() {
                    break 'walk;
                }
            }
            if !walk.has_next() {
                break;
            }
        }
        steps.push(walk.step(100.0));
        steps
    }

    /// The linear walk: a row every `first_step` units, then every `later_step` units once
    /// the walk stands on a bucket above `switch_above`.
    pub(crate) fn linear_steps(
        &self,
        first_step: u64,
        switch_above: u64,
        later_step: u64,
    ) -> Vec<Step> {
        let mut walk = Walk::new(self);
        let mut steps = Vec::new();
        let mut units = first_step;
        let mut level = first_step;
        let mut level_lowest = self.lowest_equivalent(level);
        loop {
            let more = walk.has_next()
                || (walk.index < self.counts.len() as i64
                    && self.value_at_index((walk.index + 1) as usize) > level_lowest);
            if !more {
                break;
            }
            loop {
                if walk.value >= level_lowest {
                    level += units;
                    level_lowest = self.lowest_equivalent(level);
                    break;
                }
                if !walk.move_next() {
                    break;
                }
            }
            let percentile = walk.cumulative as f64 / self.total as f64 * 100.0;
            steps.push(walk.step(percentile));
            if walk.highest_equivalent > switch_above {
                units = later_step;
            }
        }
        steps
    }

    fn bucket_of(&self, value: u64) -> (u32, u64) {
        let pow2ceiling = u64::BITS - (value | self.sub_bucket_mask).leading_zeros();
        let bucket = pow2ceiling - self.unit_magnitude - (self.sub_bucket_half_count_magnitude + 1);
        let sub_bucket = value >> (bucket + self.unit_magnitude);
        (bucket, sub_bucket)
    }

    fn index_for(&self, value: u64) -> usize {
        let (bucket, sub_bucket) = self.bucket_of(value);
        let base = (u64::from(bucket) + 1) << self.sub_bucket_half_count_magnitude;
        (base + sub_bucket - self.sub_bucket_half_count) as usize
    }

    fn value_at_index(&self, index: usize) -> u64 {
        let index = index as u64;
        let bucket = (index >> self.sub_bucket_half_count_magnitude) as i64 - 1;
        let mut sub_bucket =
            (index & (self.sub_bucket_half_count - 1)) + self.sub_bucket_half_count;
        let bucket = if bucket < 0 {
            sub_bucket -= self.sub_bucket_half_count;
            0
        } else {
            bucket as u32
        };
        sub_bucket << (bucket + self.unit_magnitude)
    }

    fn equivalent_range(&self, value: u64) -> u64 {
        let (bucket, sub_bucket) = self.bucket_of(value);
        let bucket = if sub_bucket >= self.sub_bucket_count {
            bucket + 1
        } else {
            bucket
        };
        1 << (self.unit_magnitude + bucket)
    }

    fn lowest_equivalent(&self, value: u64) -> u64 {
        let (bucket, sub_bucket) = self.bucket_of(value);
        sub_bucket << (bucket + self.unit_magnitude)
    }

    fn highest_equivalent(&self, value: u64) -> u64 {
        self.lowest_equivalent(value) + self.equivalent_range(value) - 1
    }
}

/// A cursor over the buckets, shared by both walks.
struct Walk<'a> {
    h: &'a Histogram,
    index: i64,
    count: u64,
    cumulative: u64,
    value: u64,
    highest_equivalent: u64,
}

impl<'a> Walk<'a> {
    fn new(h: &'a Histogram) -> Walk<'a> {
        Walk {
            h,
            index: -1,
            count: 0,
            cumulative: 0,
            value: 0,
            highest_equivalent: 0,
        }
    }

    fn has_next(&self) -> bool {
        self.cumulative < self.h.total
    }

    /// Steps onto the next bucket; false past the last one.
    fn move_next(&mut self) -> bool {
        self.index += 1;
        let Some(&count) = self.h.counts.get(self.index as usize) else {
            return false;
        };
        self.count = count;
        self.cumulative += count;
        self.value = self.h.value_at_index(self.index as usize);
        self.highest_equivalent = self.h.highest_equivalent(self.value);
        true
    }

    fn step(&self, percentile: f64) -> Step {
        Step {
            percentile,
            highest_equivalent: self.highest_equivalent,
            cumulative: self.cumulative,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_layout() -> Histogram {
        Histogram::new(10, 3_000_000, 3)
    }

    #[test]
    fn layout_matches_hdr_c_for_redis_settings() {
        let h = redis_layout();
        assert_eq!(h.unit_magnitude, 3);
        assert_eq!(h.sub_bucket_count, 2048);
        assert_eq!(h.counts.len(), 10 * 1024);
    }

    #[test]
    fn equivalent_values_follow_the_bucket_width() {
        let h = redis_layout();
        assert_eq!(h.highest_equivalent(100), 103);
        assert_eq!(h.lowest_equivalent(100), 96);
        assert_eq!(h.highest_equivalent(4030), 4031);
        assert_eq!(h.highest_equivalent(4100), 4103);
    }

    #[test]
    fn summary_values() {
        let mut h = redis_layout();
        for v in [96, 255, 255, 263, 4031] {
            h.record_n(v, 1);
        }
        assert_eq!(h.total(), 5);
        assert_eq!(h.min(), 96);
        assert_eq!(h.max(), 4031);
        assert_eq!(h.value_at_percentile(50.0), 255);
        assert_eq!(h.value_at_percentile(100.0), 4031);
    }

    #[test]
    fn percentile_walk_halves_the_distance_and_closes_at_100() {
        let mut h = redis_layout();
        for v in 1..=1000u64 {
            h.record_n(v * 8, 1);
        }
        let steps = h.percentile_steps();
        let first: Vec<f64> = steps.iter().take(4).map(|s| s.percentile).collect();
        assert_eq!(first, vec![0.0, 50.0, 75.0, 87.5]);
        let last = steps.last().unwrap();
        assert_eq!((last.percentile, last.cumulative), (100.0, 1000));
    }

    #[test]
    fn linear_walk_switches_to_wider_steps() {
        let mut h = redis_layout();
        h.record_n(100, 1);
        h.record_n(4100, 1);
        let steps = h.linear_steps(100, 2000, 1000);
        assert_eq!(steps.first().unwrap().highest_equivalent, 103);
        let last = steps.last().unwrap();
        assert_eq!((last.highest_equivalent, last.cumulative), (4103, 2));
    }

    #[test]
    fn empty_histogram_walks_to_a_single_row() {
        let h = redis_layout();
        assert_eq!(h.percentile_steps().len(), 1);
        assert!(h.linear_steps(100, 2000, 1000).is_empty());
        assert_eq!((h.min(), h.max()), (0, 0));
    }
}
