//! Hash-slot throughput (`cargo bench -p common --bench key_slot`): every command finds its
//! keys' shards by slot, so this is on the hot path. std::time only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::cluster_slot::key_slot;

/// Runs `slot` over `keys` until the budget has passed; prints nanoseconds per key.
fn measure(name: &str, keys: &[Vec<u8>]) {
    let budget = Duration::from_millis(800);
    let mut sum = 0u64;
    for key in keys {
        sum += u64::from(key_slot(key)); // warm up
    }
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        for key in keys {
            sum += u64::from(key_slot(black_box(key)));
        }
        rounds += 1;
    }
    black_box(sum);
    let ns = start.elapsed().as_nanos() as f64 / (rounds as f64 * keys.len() as f64);
    println!("{name:<40} {ns:>7.2} ns/key");
}

fn main() {
    let keys = |make: &dyn Fn(u32) -> String| -> Vec<Vec<u8>> {
        (0..1024).map(|i| make(i).into_bytes()).collect()
    };
    measure(
        "redis-benchmark keys (key:000000012345)",
        &keys(&|i| format!("key:{:012}", i * 97)),
    );
    measure("short keys (user:1234)", &keys(&|i| format!("user:{i}")));
    measure(
        "hash-tagged keys ({user1000}.following)",
        &keys(&|i| format!("{{user{i}}}.following")),
    );
    measure(
        "long keys (64 bytes)",
        &keys(&|i| format!("{:064}", u64::from(i) * 7919)),
    );
}
