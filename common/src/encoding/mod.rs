//! The compact encodings behind `OBJECT ENCODING`, byte for byte as Redis 7.0 lays them out, so
//! RDB and `DUMP` payloads carry them unchanged.
//!
//! Layout:
//! - [`intset`]: sorted integers in 16/32/64-bit widths, the small-integer-set encoding.
//! - [`listpack`]: Redis 7.0's `listpack` (`src/listpack.c`), the small-list, small-hash and
//!   small-sorted-set encoding, and a quicklist's node.
//! - [`quicklist`]: Redis 7.0's list encoding, a chain of listpack nodes, the inner ones
//!   optionally LZF-compressed.
//! - [`lzf`]: the LZF compressor (quicklist nodes, and RDB strings).
//! - [`skiplist`]: the ordered index of a big sorted set (ranks and ranges in O(log N)).
//!
//! Each encoding is a plain data structure over bytes: no keyspace, no I/O, no `unsafe`.

pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod quicklist;
pub mod skiplist;
