//! Request parser throughput (`cargo bench -p common --bench resp_parse`): pipelined small
//! commands, inline commands, and one large bulk arriving in 16 KiB reads. std::time only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::resp::{Parsed, RequestLimits, RequestParser};

/// Runs `round` until `budget` has passed; prints MB/s and commands/s.
fn measure(name: &str, bytes_per_round: usize, commands_per_round: usize, mut round: impl FnMut()) {
    let budget = Duration::from_millis(800);
    round(); // warm up
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        round();
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (bytes_per_round as f64 * rounds as f64) / secs / 1e6;
    let cps = (commands_per_round as f64 * rounds as f64) / secs;
    println!("{name:<28} {mb:>9.1} MB/s {cps:>14.0} commands/s");
}

/// Parses every command in `input`; the number parsed.
fn parse_all(parser: &mut RequestParser, input: &[u8], limits: &RequestLimits) -> usize {
    let mut at = 0;
    let mut commands = 0;
    while let Ok(Parsed::Command { consumed }) = parser.parse(&input[at..], limits) {
        black_box(parser.args(&input[at..]).get(0));
        at += consumed;
        commands += 1;
    }
    commands
}

fn main() {
    let limits = RequestLimits::default();
    let mut parser = RequestParser::new();

    let mut pipeline = Vec::new();
    for i in 0..1000 {
        let key = format!("key:{i:06}");
        pipeline.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$10\r\nvalue-{i:04}\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    measure("multibulk SET x1000", pipeline.len(), 1000, || {
        assert_eq!(parse_all(&mut parser, black_box(&pipeline), &limits), 1000);
    });

    let mut inline = Vec::new();
    for i in 0..1000 {
        inline.extend_from_slice(format!("SET key:{i:06} \"value {i}\"\r\n").as_bytes());
    }
    measure("inline SET x1000", inline.len(), 1000, || {
        assert_eq!(parse_all(&mut parser, black_box(&inline), &limits), 1000);
    });

    let size = 8 << 20;
    let mut big = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${size}\r\n").into_bytes();
    big.resize(big.len() + size, b'x');
    big.extend_from_slice(b"\r\n");
    measure("8 MiB bulk in 16 KiB reads", big.len(), 1, || {
        let mut end = 0;
        loop {
            end = (end + 16 * 1024).min(big.len());
            match parser.parse(black_box(&big[..end]), &limits) {
                Ok(Parsed::Command { consumed }) => {
                    assert_eq!(consumed, big.len());
                    break;
                }
                Ok(Parsed::Incomplete) => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
}
