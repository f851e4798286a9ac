//! The compact encodings behind `OBJECT ENCODING`, byte for byte as Redis 7.0 lays them out, so
//! RDB and `DUMP` payloads carry them unchanged.
//!
//! Layout:
//! - [`intset`]: sorted integers in 16/32/64-bit widths, the small-integer-set encoding.
//! - [`listpack`]: Redis 7.0's `listpack` (`src/listpack.c`), the small-list, small-hash and
//!   small-sorted-set encoding, and a quicklist's node.
//!
//! Each encoding is a plain data structure over bytes: no keyspace, no I/O, no `unsafe`.

pub mod intset;
pub mod listpack;
