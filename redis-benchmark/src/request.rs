//! A connection's output: the request repeated `-P` times, encoded once. With `-r`, every
//! `__rand_int__` in it is a 12-byte slot rewritten in place with a fresh zero-padded number
//! before each send, so sending allocates nothing.

use rand::RngCore;

const PLACEHOLDER: &[u8] = b"__rand_int__";
/// Digits written into each `__rand_int__` field (its length).
const DIGITS: usize = PLACEHOLDER.len();
/// Cluster mode: the `{tag}` marker Redis's keys carry; its three inner bytes are replaced by a
/// tag that hashes to the connection's node.
pub(crate) const TAG: &[u8] = b"{tag}";

/// One request of a `--mix`, with its weight and the places to patch.
#[derive(Clone, Debug)]
struct Choice {
    /// Cumulative weight up to and including this choice.
    upto: u64,
    request: Vec<u8>,
    slots: Vec<usize>,
    tags: Vec<usize>,
}

/// The bytes a connection sends per round trip.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    bytes: Vec<u8>,
    /// Where each `__rand_int__` field starts in `bytes` (empty without `-r`).
    slots: Vec<usize>,
    /// Where each `{tag}` starts in `bytes` (empty outside cluster mode).
    tags: Vec<usize>,
    /// Where each request starts in `bytes`, plus the end.
    bounds: Vec<usize>,
    /// `-r`: numbers are drawn from `0..keyspace` (all zeros for 0).
    keyspace: u64,
    /// `--mix`: the requests drawn from, per request of the batch.
    mix: Vec<Choice>,
    pipeline: usize,
}

impl Batch {
    /// `request` repeated `pipeline` times; with `keyspace`, its `__rand_int__` fields become
    /// random; with `cluster`, its `{tag}` fields can be set with [`Batch::set_tag`].
    #[cfg(test)]
    pub(crate) fn new(
        request: &[u8],
        pipeline: usize,
        keyspace: Option<u64>,
        cluster: bool,
    ) -> Batch {
        Batch::mix(&[(1, request.to_vec())], pipeline, keyspace, cluster)
    }

    /// A batch whose every request is drawn from `requests` by weight before each send
    /// (one request: always it, encoded once).
    pub(crate) fn mix(
        requests: &[(u64, Vec<u8>)],
        pipeline: usize,
        keyspace: Option<u64>,
        cluster: bool,
    ) -> Batch {
        let pipeline = pipeline.max(1);
        let mut upto = 0;
        let mix: Vec<Choice> = requests
            .iter()
            .map(|(weight, request)| {
                upto += weight;
                Choice {
                    upto,
                    slots: match keyspace {
                        Some(_) => find_all(request, PLACEHOLDER),
                        None => Vec::new(),
                    },
                    tags: if cluster {
                        find_all(request, TAG)
                    } else {
                        Vec::new()
                    },
                    request: request.clone(),
                }
            })
            .collect();
        let mut batch = Batch {
            bytes: Vec::new(),
            slots: Vec::new(),
            tags: Vec::new(),
            bounds: Vec::new(),
            keyspace: keyspace.unwrap_or(0),
            mix,
            pipeline,
        };
        if let [only] = &batch.mix[..] {
            let only = only.clone();
            batch.bytes = only.request.repeat(pipeline);
            for i in 0..pipeline {
                let at = i * only.request.len();
                batch.bounds.push(at);
                batch.slots.extend(only.slots.iter().map(|s| s + at));
                batch.tags.extend(only.tags.iter().map(|s| s + at));
            }
            batch.bounds.push(batch.bytes.len());
            batch.mix.clear();
        } else {
            batch.draw(&mut <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(0));
        }
        batch
    }

    /// The bytes to send.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many requests the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// The bytes of request `i`.
    pub(crate) fn request(&self, i: usize) -> &[u8] {
        match (self.bounds.get(i), self.bounds.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.bytes[a..b],
            _ => &[],
        }
    }

    /// Whether the requests carry a `{tag}` to set.
    pub(crate) fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }

    /// Writes `tag` (three bytes, `}`-padded) inside every `{tag}`.
    pub(crate) fn set_tag(&mut self, tag: [u8; 3]) {
        for &start in &self.tags {
            if let Some(slot) = self.bytes.get_mut(start + 1..start + 4) {
                slot.copy_from_slice(&tag);
            }
        }
    }

    /// Draws the requests of a `--mix` batch anew (nothing to do otherwise), then writes a
    /// fresh number into every `__rand_int__` field.
    pub(crate) fn randomize(&mut self, rng: &mut impl RngCore) {
        if !self.mix.is_empty() {
            self.draw(rng);
        }
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

    fn draw(&mut self, rng: &mut impl RngCore) {
        let total = self.mix.last().map_or(0, |c| c.upto);
        self.bytes.clear();
        self.slots.clear();
        self.tags.clear();
        self.bounds.clear();
        for _ in 0..self.pipeline {
            let pick = if total == 0 {
                0
            } else {
                rng.next_u64() % total
            };
            let Some(choice) = self.mix.iter().find(|c| pick < c.upto) else {
                continue;
            };
            let at = self.bytes.len();
            self.bounds.push(at);
            self.bytes.extend_from_slice(&choice.request);
            self.slots.extend(choice.slots.iter().map(|s| s + at));
            self.tags.extend(choice.tags.iter().map(|s| s + at));
        }
        self.bounds.push(self.bytes.len());
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
        let b = Batch::new(GET, 3, None, false);
        assert_eq!(b.bytes(), GET.repeat(3));
    }

    #[test]
    fn without_r_rand_int_stays_literal() {
        let mut b = Batch::new(GET, 2, None, false);
        b.randomize(&mut SmallRng::seed_from_u64(1));
        assert_eq!(b.bytes(), GET.repeat(2));
    }

    #[test]
    fn random_numbers_are_12_digits_below_the_keyspace() {
        let mut b = Batch::new(GET, 4, Some(50), false);
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
        let mut b = Batch::new(b"__rand_int__:__rand_int__", 1, Some(0), false);
        b.randomize(&mut SmallRng::seed_from_u64(1));
        assert_eq!(b.bytes(), b"000000000000:000000000000");
    }

    #[test]
    fn requests_are_addressable_and_tags_are_patched() {
        let set = b"*2\r\n$3\r\nGET\r\n$13\r\nkey{tag}:__rand_int__\r\n".to_vec();
        let mut b = Batch::new(&set, 2, Some(10), true);
        assert!(b.has_tags());
        b.set_tag(*b"ab}");
        b.randomize(&mut SmallRng::seed_from_u64(3));
        assert_eq!(b.len(), 2);
        assert!(b.request(1).windows(5).any(|w| w == b"{ab}}"));
        assert_eq!(b.request(2), b"");
        assert!(!Batch::new(&set, 1, None, false).has_tags());
    }

    #[test]
    fn a_mix_draws_requests_by_weight() {
        let mut b = Batch::mix(
            &[(1, b"A\r\n".to_vec()), (3, b"BB\r\n".to_vec())],
            1000,
            None,
            false,
        );
        b.randomize(&mut SmallRng::seed_from_u64(9));
        assert_eq!(b.len(), 1000);
        let bs = (0..b.len()).filter(|&i| b.request(i) == b"BB\r\n").count();
        assert!((650..850).contains(&bs), "{bs}");
        assert_eq!(b.bytes().len(), 1000 * 3 + bs);
    }
}
