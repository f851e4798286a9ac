//! Errors a command answers with: one variant per distinct Redis text, written exactly.

use std::fmt;

/// An error reply. `Display` writes Redis's exact text (without the leading `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CommandError {
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    /// INCR/DECR family overflow.
    IncrOverflow,
    /// INCRBYFLOAT that would produce NaN or infinity.
    IncrNanOrInfinity,
    NoSuchKey,
    DbIndexOutOfRange,
    /// `invalid expire time in '<command>' command`.
    InvalidExpireTime(&'static str),
    /// `wrong number of arguments for '<command>' command`.
    WrongArity(String),
    /// The string would exceed `proto-max-bulk-len` (SETRANGE, APPEND).
    StringTooLong,
    NoAuth,
    WrongPass,
    /// Redis's `-ERR <text>`.
    Err(String),
    /// A script's error reply, verbatim (its code is its first word).
    Script(String),
    /// Any other error with its own prefix: `<PREFIX> <text>` (`BUSYKEY ...`, `NOPERM ...`).
    Prefixed(&'static str, String),
}

impl CommandError {
    /// `ERR <text>`.
    pub(crate) fn err(text: impl Into<String>) -> CommandError {
        CommandError::Err(text.into())
    }

    /// The first word of the text, as INFO errorstats counts it.
    pub(crate) fn code(&self) -> &str {
        match self {
            CommandError::WrongType => "WRONGTYPE",
            CommandError::NoAuth => "NOAUTH",
            CommandError::WrongPass => "WRONGPASS",
            CommandError::Prefixed(prefix, _) => prefix,
            CommandError::Script(text) => text.split(' ').next().unwrap_or("ERR"),
            _ => "ERR",
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CommandError::Syntax => f.write_str("ERR syntax error"),
            CommandError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CommandError::NotFloat => f.write_str("ERR value is not a valid float"),
            CommandError::IncrOverflow => f.write_str("ERR increment or decrement would overflow"),
            CommandError::IncrNanOrInfinity => {
                f.write_str("ERR increment would produce NaN or Infinity")
            }
            CommandError::NoSuchKey => f.write_str("ERR no such key"),
            CommandError::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            CommandError::InvalidExpireTime(cmd) => {
                write!(f, "ERR invalid expire time in '{cmd}' command")
            }
            CommandError::WrongArity(cmd) => {
                write!(f, "ERR wrong number of arguments for '{cmd}' command")
            }
            CommandError::StringTooLong => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            CommandError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CommandError::WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            CommandError::Err(text) => write!(f, "ERR {text}"),
            CommandError::Prefixed(prefix, text) => write!(f, "{prefix} {text}"),
            CommandError::Script(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CommandError {}

/// Storage-level errors from `common` convert into replies.
impl From<common::command_table::KeyError> for CommandError {
    fn from(e: common::command_table::KeyError) -> Self {
        CommandError::err(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        assert_eq!(
            CommandError::WrongType.to_string(),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(
            CommandError::InvalidExpireTime("set").to_string(),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            CommandError::Prefixed("BUSYKEY", "Target key name already exists.".into()).code(),
            "BUSYKEY"
        );
    }
}
