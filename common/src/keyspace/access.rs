//! The access clock every entry carries (its 32-bit `lru` word), as Redis keeps it in `robj.lru`:
//! under an LRU (or no) policy the seconds clock of the last access; under an LFU policy 16 bits
//! of minutes (the last decrement time) above an 8-bit logarithmic access counter.

use super::shard::lru_clock;

/// The counter a new key starts with under LFU, so it survives a few samplings.
pub const LFU_INIT_VAL: u8 = 5;

/// How entries record accesses: the clock of the last access, or Redis's LFU counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    pub lfu: bool,
    /// `lfu-log-factor`: the higher, the more accesses a counter increment needs.
    pub log_factor: u32,
    /// `lfu-decay-time`: minutes after which an idle counter is decremented (0: never).
    pub decay_time: u32,
}

const LFU_BIT: u64 = 1 << 63;
const HALF: u64 = (1 << 31) - 1;

impl AccessPolicy {
    /// Packs the policy into one word (for an atomic).
    pub fn pack(self) -> u64 {
        let lfu = if self.lfu { LFU_BIT } else { 0 };
        lfu | (u64::from(self.log_factor) & HALF) | ((u64::from(self.decay_time) & HALF) << 31)
    }

    pub fn unpack(word: u64) -> AccessPolicy {
        AccessPolicy {
            lfu: word & LFU_BIT != 0,
            log_factor: (word & HALF) as u32,
            decay_time: ((word >> 31) & HALF) as u32,
        }
    }

    /// The access word of an entry created now.
    pub fn initial(self, now_ms: i64) -> u32 {
        if self.lfu {
            (minutes(now_ms) << 8) | u32::from(LFU_INIT_VAL)
        } else {
            lru_clock(now_ms)
        }
    }

    /// An LFU word holding `counter` as of now (RESTORE ... FREQ).
    pub fn with_counter(self, now_ms: i64, counter: u8) -> u32 {
        (minutes(now_ms) << 8) | u32::from(counter)
    }

    /// The access word after an access at `now_ms`.
    pub fn accessed(self, word: u32, now_ms: i64, rng: &mut impl rand::Rng) -> u32 {
        if !self.lfu {
            return lru_clock(now_ms);
        }
        let counter = self.frequency(word, now_ms);
        let counter = log_incr(counter, self.log_factor, rng.random::<f64>());
        (minutes(now_ms) << 8) | u32::from(counter)
    }

    /// The LFU counter of `word` after the decay its idle minutes call for (OBJECT FREQ, and
    /// the eviction score); the word itself changes only on a real access.
    pub fn frequency(self, word: u32, now_ms: i64) -> u8 {
        let last = (word >> 8) & 65535;
        let counter = (word & 255) as u8;
        if self.decay_time == 0 {
            return counter;
        }
        let now = minutes(now_ms);
        let elapsed = if now >= last {
            now - last
        } else {
            65535 - last + now
        };
        let periods = elapsed / self.decay_time;
        counter.saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
    }
}

/// The low 16 bits of the Unix time in minutes.
fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 65535) as u32
}

/// Increments a logarithmic counter with probability 1/((counter-init)*factor+1), `r` being a
/// uniform draw in [0, 1). Saturates at 255.
pub fn log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p { counter + 1 } else { counter }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const LFU: AccessPolicy = AccessPolicy {
        lfu: true,
        log_factor: 10,
        decay_time: 1,
    };

    #[test]
    fn packing_round_trips() {
        assert_eq!(AccessPolicy::unpack(LFU.pack()), LFU);
        let big = AccessPolicy {
            lfu: false,
            log_factor: i32::MAX as u32,
            decay_time: i32::MAX as u32,
        };
        assert_eq!(AccessPolicy::unpack(big.pack()), big);
    }

    #[test]
    fn counters_grow_logarithmically_and_saturate() {
        // Below the initial value every access counts.
        assert_eq!(log_incr(0, 10, 0.99), 1);
        assert_eq!(log_incr(5, 10, 0.99), 6);
        // At init+1 with factor 10 the chance is 1/11.
        assert_eq!(log_incr(6, 10, 0.10), 6);
        assert_eq!(log_incr(6, 10, 0.05), 7);
        assert_eq!(log_incr(255, 0, 0.0), 255);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut word = LFU.initial(0);
        for _ in 0..1000 {
            word = LFU.accessed(word, 0, &mut rng);
        }
        // 1000 hits with factor 10 land near 18, as Redis's table says.
        let freq = LFU.frequency(word, 0);
        assert!((12..=25).contains(&freq), "{freq}");
    }

    #[test]
    fn counters_decay_per_idle_period() {
        let word = 20u32;
        assert_eq!(LFU.frequency(word, 0), 20);
        assert_eq!(LFU.frequency(word, 3 * 60_000), 17);
        assert_eq!(LFU.frequency(word, 100 * 60_000), 0);
        let no_decay = AccessPolicy {
            decay_time: 0,
            ..LFU
        };
        assert_eq!(no_decay.frequency(word, 100 * 60_000), 20);
        // The minutes clock wraps once.
        let late = (65534u32 << 8) | 20;
        assert_eq!(LFU.frequency(late, 60_000), 18);
        // A seconds clock left from an LRU policy reads as some minutes value, never panics.
        assert_eq!(LFU.frequency(u32::MAX, 0), 255);
    }

    #[test]
    fn lru_words_are_the_seconds_clock() {
        let lru = AccessPolicy::default();
        assert_eq!(lru.initial(5_000), 5);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        assert_eq!(lru.accessed(1, 9_000, &mut rng), 9);
    }
}
