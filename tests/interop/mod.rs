//! Real Redis 7.0.15 beside ours: the same commands must give the same bytes, and real
//! `redis-cli` and `redis-benchmark` must work against our server as against theirs.
//!
//! `hyperloglog`: HLL strings copied between the two servers with GET and SET.
//!
//! Interop rule: when a real binary is missing the test prints a skip line and returns, except
//! under `CI=true`, where it fails.

mod benchmark;
mod cli;
mod corpus;
mod geo;
mod hyperloglog;
mod rdb;
