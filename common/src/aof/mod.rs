//! The append-only file formats of Redis 7.0, with no I/O.
//!
//! - [`manifest`]: the multi-part AOF manifest (`appendonly.aof.manifest`): parsing with
//!   Redis's exact errors, formatting, file naming, and the changes a rewrite makes (new base,
//!   new incr, old files to history).
//! - [`reader`]: the commands of an AOF byte slice, each with its offsets, telling a truncated
//!   tail (which `aof-load-truncated yes` cuts) from corruption in the middle.
//! - [`rewrite`]: the base as commands that rebuild the dataset (`aof-use-rdb-preamble no`).
//! - [`writer`]: the `#TS:` annotation (commands are RESP requests, `crate::resp`).
//!
//! The server (loading and rewriting) and `redis-check-aof` share these; the caller reads and
//! writes the files.

pub mod manifest;
pub mod reader;
pub mod rewrite;
pub mod writer;

use std::fmt;

/// Why AOF bytes could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofError {
    /// Byte offset of the offending byte (or of the end of input when truncated).
    pub offset: usize,
    pub kind: AofErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AofErrorKind {
    /// The input ends inside a command (or annotation): a short write, safe to cut.
    Truncated,
    /// A byte that cannot stand where it was found.
    Unexpected {
        /// What the format requires there (`'*'`, `'$'`, `"\r\n"`, `"a digit"`).
        expected: &'static str,
        found: u8,
    },
    /// A command with fewer than one argument, or a length that overflows.
    BadLength,
}

impl AofError {
    pub fn new(offset: usize, kind: AofErrorKind) -> AofError {
        AofError { offset, kind }
    }

    /// Whether the input just stops early (as opposed to holding a bad byte).
    pub fn is_truncated(&self) -> bool {
        self.kind == AofErrorKind::Truncated
    }
}

impl fmt::Display for AofErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AofErrorKind::Truncated => f.write_str("unexpected end of file"),
            AofErrorKind::Unexpected { expected, found } => {
                write!(f, "expected {expected}, got byte 0x{found:02x}")
            }
            AofErrorKind::BadLength => f.write_str("invalid length"),
        }
    }
}

impl fmt::Display for AofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for AofError {}
