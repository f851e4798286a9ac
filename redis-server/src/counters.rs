//! Counters every command bumps, striped across cache lines by thread.
//!
//! A plain `AtomicU64` that every core increments on every command bounces its cache line
//! between cores; measured with redis-benchmark at -P 16 that costs more than the command.
//! Each thread adds to its own stripe instead, and readers (INFO) sum the stripes.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

const STRIPES: usize = 16;

/// One cache line of counters.
#[repr(align(64))]
struct Line<const N: usize>([AtomicU64; N]);

/// `N` counters, striped.
pub(crate) struct Striped<const N: usize> {
    lines: [Line<N>; STRIPES],
}

impl<const N: usize> Default for Striped<N> {
    fn default() -> Self {
        Striped {
            lines: std::array::from_fn(|_| Line(std::array::from_fn(|_| AtomicU64::new(0)))),
        }
    }
}

fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

impl<const N: usize> Striped<N> {
    pub(crate) fn add(&self, counter: usize, n: u64) {
        self.lines[stripe()].0[counter].fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self, counter: usize) -> u64 {
        self.lines.iter().map(|l| l.0[counter].load(Relaxed)).sum()
    }

    pub(crate) fn reset(&self) {
        for line in &self.lines {
            for c in &line.0 {
                c.store(0, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_sum_across_threads() {
        let c: std::sync::Arc<Striped<2>> = std::sync::Arc::default();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.add(0, 1);
                        c.add(1, 2);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(c.get(0), 4000);
        assert_eq!(c.get(1), 8000);
        c.reset();
        assert_eq!(c.get(0), 0);
    }
}
