//! RESP, the Redis protocol, in both directions.
//!
//! - [`parser`]: the server reading requests (multibulk and inline), incremental and bounded.
//! - [`writer`]: the server writing replies in RESP2 or RESP3 ([`ReplyBuffer`]).
//! - [`frame`]: clients reading and writing replies as [`Frame`] values.
//!
//! Number text (integers, `%.17g` doubles, INCRBYFLOAT's form) comes from [`crate::number`].

pub mod frame;
pub mod parser;
pub mod writer;

pub use frame::{Frame, FrameError, FrameScanner, encode_command, encode_command_from};
pub use parser::{ArgList, OwnedCommand, Parsed, ProtocolError, RequestLimits, RequestParser};
pub use writer::{Deferred, Protocol, ReplyBuffer};
