//! A connection's output: the request repeated `-P` times, encoded once. With `-r`, every
//! `__rand_int__` in it is a 12-byte slot rewritten in place with a fresh zero-padded number
//! before each send, so sending allocates nothing.

use rand::RngCore;

const PLACEHOLDER: &[u8] = b"__rand_int__";
/// Digits written into each `__rand_int__` field (its length).
const DIGITS: usize = PLACEHOLDER.len();

/// The bytes a connection sends per round trip.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    bytes: Vec<u8>,
    /// Where each `__rand_int__` field starts in `bytes` (empty without `-r`).
    slots: Vec<usize>,
    /// `-r`: numbers are drawn from `0..keyspace` (all zeros for 0).
    keyspace: u64,
}

impl Batch {
    /// `request` repeated `pipeline` times; with `keyspace`, its `__rand_int__` fields become random.
    pub(crate) fn new(request: &[u8], pipeline: usize, keyspace: Option<u64>) -> Batch {
        let bytes = request.repeat(pipeline.max(1));
        let slots = match keyspace {
            Some(_) => find_all(&bytes, PLACEHOLDER),
            None => Vec::new(),
        };
        Batch {
            bytes,
            slots,
            keyspace: keyspace.unwrap_or(0),
        }
    }

    /// The bytes to send.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Writes a fresh number into every `__rand_int__` field.
    pub(crate) fn randomize(&mut self, rng: &mut impl RngCore) {
        for &start in &self.slots {
            let mut n = if self.keyspace == 0 {
                0
            } else {
                rng.next_u64() % self.keyspace
            };
            if let Some(slot) = self.bytes.get_mut(start..start + DIGITS) {
                for digit in slot.iter_mut().rev() {
                    *digit = b'0' + (n % 10) as u8;
                    n /= 10;
                }
            }
        }
    }
}

/// Start offsets of the non-overlapping occurrences of `needle`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..].starts_with(needle) {
            found.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    const GET: &[u8] = b"*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";

    #[test]
    fn pipeline_repeats_the_request() {
        let b = Batch::new(GET, 3, None);
        assert_eq!(b.bytes(), GET.repeat(3));
    }

    #[test]
    fn without_r_rand_int_stays_literal() {
        let mut b = Batch::new(GET, 2, None);
        b.randomize(&mut SmallRng::seed_from_u64(1));
        assert_eq!(b.bytes(), GET.repeat(2));
    }

    #[test]
    fn random_numbers_are_12_digits_below_the_keyspace() {
        let mut b = Batch::new(GET, 4, Some(50));
        let mut rng = SmallRng::seed_from_u64(7);
        for _ in 0..100 {
            b.randomize(&mut rng);
            for chunk in b.bytes().chunks(GET.len()) {
                let key = &chunk[18..34];
                assert!(key.starts_with(b"key:0000000000"));
                let n: u64 = std::str::from_utf8(&key[4..]).unwrap().parse().unwrap();
                assert!(n < 50);
            }
        }
    }

    #[test]
    fn zero_keyspace_writes_zeros() {
        let mut b = Batch::new(b"__rand_int__:__rand_int__", 1, Some(0));
        b.randomize(&mut SmallRng::seed_from_u64(1));
        assert_eq!(b.bytes(), b"000000000000:000000000000");
    }
}
