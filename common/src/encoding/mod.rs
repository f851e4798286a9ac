//! The compact encodings behind `OBJECT ENCODING`, byte for byte as Redis 7.0 lays them out, so
//! RDB and `DUMP` payloads carry them unchanged.
//!
//! Layout:
//! - [`listpack`]: Redis 7.0's `listpack` (`src/listpack.c`), the small-list, small-hash and
//!   small-sorted-set encoding, and a quicklist's node.
//! - [`skiplist`]: the ordered index of a big sorted set (ranks and ranges in O(log N)).
//!
//! Each encoding is a plain data structure over bytes: no keyspace, no I/O, no `unsafe`.

pub mod listpack;
pub mod skiplist;
