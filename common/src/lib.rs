//! What every Redis binary of this workspace shares.
//!
//! Layout:
//! - [`resp`]: RESP2/RESP3 frames, the request parser (multibulk and inline, bounded) and the
//!   reply writer.
//! - [`command_table`]: one [`command_table::CommandSpec`] per implemented command; dispatch,
//!   `COMMAND`, ACL and the tools all read it.
//! - [`value`]: the value types and their compact encodings.
//! - [`encoding`]: Redis's byte layouts behind `OBJECT ENCODING` (intset, listpack), shared with RDB.
//! - [`geo`]: geohash scores, distances and the cells a GEOSEARCH area covers.
//! - [`rdb`] and [`aof`]: the persistence formats, decoded from and encoded to byte buffers.
//! - [`keyspace`]: databases split into shards by hash slot, expiry, SCAN.
//! - [`config`]: every `redis.conf` directive, the config file and command-line parser.
//! - [`glob`]: Redis's glob matcher (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE).
//! - [`number`]: Redis's number rules: strict integer and float parsing, `%.17g` and
//!   INCRBYFLOAT printing.
//! - [`long_double`]: an exact model of the x87 80-bit `long double` (parse, add, `%.17Lf`)
//!   for INCRBYFLOAT.
//! - [`cluster_slot`]: CRC16 hash slots and `{hash tags}`.
//! - [`client`]: an async RESP client for the tools and the tests.
//! - [`tls`]: rustls set-up shared by the server and the tools (PEM files, CAs, cipher lists,
//!   hiredis's client-side verification).
//!
//! This crate depends on no other crate of the workspace, and its format code does no I/O.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aof;
pub mod client;
pub mod cluster_slot;
pub mod command_table;
pub mod config;
pub mod encoding;
pub mod fast_rng;
pub mod geo;
pub mod glob;
pub mod keyspace;
pub mod long_double;
pub mod number;
pub mod rdb;
pub mod resp;
pub mod tls;
pub mod value;
