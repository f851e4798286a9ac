//! Integration tests: the built binaries over TCP, and interop with real Redis.
//!
//! One module per Redis command family (`strings`, `keyspace`, `connection`, `server`), plus
//! `protocol` (the wire), `expire` (expiry over time), `startup` (config, logs, signals) and
//! `interop` (real Redis, redis-cli and redis-benchmark beside ours). Run with
//! `cargo build --workspace --bins && cargo test --workspace`.
#![allow(clippy::unwrap_used)]

mod background_child;
mod connection;
mod crash;
mod expire;
mod interop;
mod keyspace;
mod persistence;
mod protocol;
mod pubsub;
mod replica;
mod replication;
mod scripting;
mod server;
mod startup;
mod strings;
mod tls;
