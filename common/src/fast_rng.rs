//! A fast random source for sampling the keyspace: SPOP, SRANDMEMBER, HRANDFIELD,
//! ZRANDMEMBER, RANDOMKEY, eviction and LFU counters. The thread's ChaCha generator was a tenth
//! of an SPOP; keys and members are not secrets, and Redis samples with a plain PRNG too.
//! Anything that must be unpredictable (ACL GENPASS, replication ids) keeps `rand::rng()`.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(rand::random());
}

/// A handle to this thread's generator (wyrand: one add and one wide multiply per draw).
#[derive(Debug, Clone, Copy, Default)]
pub struct FastRng;

/// This thread's fast generator.
pub fn fast_rng() -> FastRng {
    FastRng
}

impl rand::RngCore for FastRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        STATE.with(|state| {
            let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
            state.set(s);
            let wide = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
            (wide as u64) ^ ((wide >> 64) as u64)
        })
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};

    #[test]
    fn draws_cover_a_range_evenly() {
        let mut rng = fast_rng();
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[rng.random_range(0..10)] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "{counts:?}");
        }
        let mut bytes = [0u8; 13];
        rng.fill_bytes(&mut bytes);
        assert!(bytes.iter().any(|&b| b != 0));
    }
}
