//! Listpack throughput (`cargo bench -p common --bench listpack`): building a 128-element
//! listpack (the default `list-max-listpack-size` node is about that), iterating it both ways,
//! seeking every index, and a hash-style field lookup. std::time only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::encoding::listpack::{Listpack, LpValue};

/// Runs `round` until the budget has passed; prints nanoseconds per element operation.
fn measure(name: &str, ops_per_round: usize, mut round: impl FnMut()) {
    let budget = Duration::from_millis(600);
    round(); // warm up
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        round();
        rounds += 1;
    }
    let ns = start.elapsed().as_nanos() as f64 / (rounds as f64 * ops_per_round as f64);
    println!("{name:<32} {ns:>8.1} ns/op");
}

fn main() {
    const N: usize = 128;
    let strings: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("value:{i:08}").into_bytes())
        .collect();
    let ints: Vec<Vec<u8>> = (0..N)
        .map(|i| (i as i64 * 7919).to_string().into_bytes())
        .collect();

    measure("push_back 128 strings", N, || {
        let mut lp = Listpack::new();
        for s in &strings {
            lp.push_back(black_box(s));
        }
        black_box(lp.bytes_len());
    });
    measure("push_back 128 integer strings", N, || {
        let mut lp = Listpack::new();
        for s in &ints {
            lp.push_back(black_box(s));
        }
        black_box(lp.bytes_len());
    });
    measure("push_front 128 strings", N, || {
        let mut lp = Listpack::new();
        for s in &strings {
            lp.push_front(black_box(s));
        }
        black_box(lp.bytes_len());
    });

    let mut lp = Listpack::new();
    for (s, i) in strings.iter().zip(&ints) {
        lp.push_back(s);
        lp.push_back(i);
    }
    let total = lp.len();
    measure("iterate forward 256", total, || {
        let mut sum = 0usize;
        for v in black_box(&lp).iter() {
            sum += match v {
                LpValue::Int(n) => n as usize,
                LpValue::Str(s) => s.len(),
            };
        }
        black_box(sum);
    });
    measure("iterate backward 256", total, || {
        let mut sum = 0usize;
        for v in black_box(&lp).iter().rev() {
            sum += match v {
                LpValue::Int(n) => n as usize,
                LpValue::Str(s) => s.len(),
            };
        }
        black_box(sum);
    });
    measure("seek every index of 256", total, || {
        for i in 0..total as i64 {
            black_box(black_box(&lp).seek(i));
        }
    });
    let last_field = &strings[N - 1];
    measure("find last field (skip 1) of 128", 1, || {
        let first = lp.first().expect("not empty");
        black_box(black_box(&lp).find(first, black_box(last_field), 1));
    });
}
