//! Real Redis 7.0.15 beside ours: the same commands must give the same bytes, and real
//! `redis-cli` and `redis-benchmark` must work against our server as against theirs.
//!
//! `aof`: append-only folders (RDB preamble or commands) loaded by the other server.
//! `functions`: FUNCTION DUMP payloads and RDB libraries restored on the other server.
//! `hyperloglog`: HLL strings copied between the two servers with GET and SET.
//!
//! Interop rule: when a real binary is missing the test prints a skip line and returns, except
//! under `CI=true`, where it fails.

mod aof;
mod benchmark;
mod bitmap;
mod cli;
mod corpus;
mod functions;
mod geo;
mod hyperloglog;
mod rdb;
mod stream;

use tests::{RealRedis, TestServer};

/// Every reply to `corpus` (one command per line, split on spaces) after `HELLO <protocol>`.
fn corpus_replies(server: &TestServer, corpus: &str, protocol: &str) -> Vec<Vec<u8>> {
    let mut c = server.connect();
    // HELLO's reply holds the client id: it is not compared.
    let _ = c.cmd(&["HELLO", protocol]);
    corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| c.cmd_raw(&line.split(' ').collect::<Vec<_>>()))
        .collect()
}

/// Runs `corpus` on a fresh real Redis and on ours, in RESP2 then RESP3, and fails listing
/// every reply that differs by a byte.
fn assert_corpus_matches(corpus: &str) {
    let Some(real) = RealRedis::start() else {
        return;
    };
    let ours = TestServer::start();
    let lines: Vec<&str> = corpus.lines().filter(|l| !l.trim().is_empty()).collect();
    for protocol in ["2", "3"] {
        let _ = real.connect().cmd(&["FLUSHALL"]);
        let _ = ours.connect().cmd(&["FLUSHALL"]);
        let want = corpus_replies(&real, corpus, protocol);
        let have = corpus_replies(&ours, corpus, protocol);
        let mismatches: Vec<String> = lines
            .iter()
            .zip(want.iter().zip(&have))
            .filter(|(_, (w, h))| w != h)
            .map(|(line, (w, h))| {
                format!(
                    "{line}\n   real: {:?}\n   ours: {:?}",
                    String::from_utf8_lossy(w),
                    String::from_utf8_lossy(h)
                )
            })
            .collect();
        assert!(
            mismatches.is_empty(),
            "RESP{protocol}: {} of {} replies differ:\n{}",
            mismatches.len(),
            lines.len(),
            mismatches.join("\n")
        );
    }
}
