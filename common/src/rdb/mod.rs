//! The RDB format: snapshots on disk, and the payloads of `DUMP`/`RESTORE`.
//!
//! - [`writer`]: encodes values and whole files as Redis 7.0 writes them (RDB version 10).
//! - [`reader`]: decodes every RDB version from 1 to 12 and every encoding those versions used
//!   (zipmap, ziplist, linked lists, quicklists of ziplists or listpacks, intsets, the 7.4
//!   hash-field-TTL types), converting each to our values at the configured thresholds.
//! - [`legacy`]: the retired ziplist and zipmap layouts, read only.
//! - [`crc64`]: the checksum of files and payloads.
//!
//! Nothing here does I/O: the writer fills a buffer the caller drains, and the reader takes a
//! byte slice, so the server and `redis-check-rdb` share both. Every length read from input is
//! checked against the bytes actually left before anything is allocated, and every failure is
//! an [`RdbError`] naming the offset.

pub mod check;
pub mod crc64;
pub mod legacy;
pub mod reader;
pub mod stream;
pub mod writer;

use std::fmt;

/// The version Redis 7.0 writes (and the highest its `RESTORE` accepts).
pub const RDB_VERSION: u16 = 10;
/// The highest version this reader understands (Redis 7.4).
pub const MAX_READ_VERSION: u16 = 12;
/// The version Redis 7.4 writes, which defines the hash field-TTL types 24 and 25: we write
/// it only when a file or payload holds such a hash.
pub const RDB_VERSION_FIELD_TTLS: u16 = 12;

/// Value types, as the byte before each key names them (`rdb.h`).
pub mod kind {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// The opcodes that may stand where a value type would.
pub mod opcode {
    pub const SLOT_INFO: u8 = 244;
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Why input could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset in the file or payload where the problem was found.
    pub offset: usize,
    pub kind: RdbErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbErrorKind {
    /// The input ended inside a value.
    Truncated,
    /// Not `REDIS` followed by four digits.
    BadMagic,
    /// A version this reader does not know.
    UnsupportedVersion(u16),
    /// A type or opcode byte that no version defines.
    UnknownType(u8),
    /// A type this server has no value for (modules, streams until they are built).
    UnsupportedType(&'static str),
    /// A length or encoding that cannot be right.
    BadLength,
    /// A compressed string that does not decompress to its stated length.
    BadLzf,
    /// A listpack, ziplist, zipmap or intset failing its integrity check; the text names
    /// the encoding as Redis's messages do ("Hash ziplist", "Stream listpack").
    Corrupt(&'static str),
    /// A hash or sorted set listpack naming the same field twice.
    DupElements(&'static str),
    /// A set, hash or sorted set naming the same member twice.
    Duplicate(&'static str),
    /// A collection with no elements (Redis skips such keys when loading a file).
    EmptyKey,
    /// The footer checksum does not match the content.
    Checksum { expected: u64, actual: u64 },
    /// A score that is not a number.
    BadDouble,
}

impl RdbError {
    pub fn new(offset: usize, kind: RdbErrorKind) -> RdbError {
        RdbError { offset, kind }
    }
}

impl fmt::Display for RdbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbErrorKind::Truncated => f.write_str("unexpected end of data"),
            RdbErrorKind::BadMagic => f.write_str("wrong signature trying to load DB from file"),
            RdbErrorKind::UnsupportedVersion(v) => write!(f, "can't handle RDB format version {v}"),
            RdbErrorKind::UnknownType(t) => write!(f, "unknown RDB type or opcode {t}"),
            RdbErrorKind::UnsupportedType(what) => write!(f, "{what} values are not supported"),
            RdbErrorKind::BadLength => f.write_str("invalid length encoding"),
            RdbErrorKind::BadLzf => f.write_str("invalid LZF compressed string"),
            RdbErrorKind::Corrupt(what) => write!(f, "{what} integrity check failed."),
            RdbErrorKind::DupElements(what) => write!(
                f,
                "{what} integrity check failed: listpack with dup elements"
            ),
            RdbErrorKind::Duplicate(what) => write!(f, "Duplicate {what} detected"),
            RdbErrorKind::EmptyKey => f.write_str("empty collection"),
            RdbErrorKind::Checksum { expected, actual } => write!(
                f,
                "wrong RDB checksum expected: ({expected:x}) got: ({actual:x})"
            ),
            RdbErrorKind::BadDouble => f.write_str("invalid double value"),
        }
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for RdbError {}
