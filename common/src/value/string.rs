//! String values: which encoding a string gets, as Redis 7.0 chooses it.

use crate::number::parse_i64;

/// Strings up to this length are `embstr` (Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_MAX: usize = 44;

/// The longest decimal text of an `i64` (`-9223372036854775808`).
pub const MAX_INT_TEXT: usize = 20;

/// A string's content as a reader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrRef<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// Scratch space to print an integer-encoded string.
pub type IntBuf = [u8; MAX_INT_TEXT];

impl<'a> StrRef<'a> {
    /// The string's bytes; an integer is printed into `buf`.
    pub fn bytes<'b>(&self, buf: &'b mut IntBuf) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            StrRef::Bytes(b) => b,
            StrRef::Int(n) => crate::number::format_i64(n, buf),
        }
    }

    /// Length in bytes, without printing an integer.
    pub fn len(&self) -> usize {
        match *self {
            StrRef::Bytes(b) => b.len(),
            StrRef::Int(n) => {
                let mut buf = [0u8; MAX_INT_TEXT];
                crate::number::format_i64(n, &mut buf).len()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one (INCR's rule: the text must round-trip).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            StrRef::Bytes(b) => parse_i64(b),
            StrRef::Int(n) => Some(n),
        }
    }
}

/// How a freshly written string is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    Int(i64),
    Embstr,
    Raw,
}

/// The encoding Redis gives a string set by a client (`tryObjectEncoding`).
pub fn choose_encoding(bytes: &[u8]) -> StrEncoding {
    if bytes.len() <= MAX_INT_TEXT {
        if let Some(n) = parse_i64(bytes) {
            return StrEncoding::Int(n);
        }
    }
    if bytes.len() <= EMBSTR_MAX {
        StrEncoding::Embstr
    } else {
        StrEncoding::Raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_thresholds() {
        assert_eq!(choose_encoding(b"12345"), StrEncoding::Int(12345));
        assert_eq!(choose_encoding(b"-1"), StrEncoding::Int(-1));
        assert_eq!(choose_encoding(b"012"), StrEncoding::Embstr);
        assert_eq!(choose_encoding(b" 1"), StrEncoding::Embstr);
        assert_eq!(choose_encoding(&[b'a'; 44]), StrEncoding::Embstr);
        assert_eq!(choose_encoding(&[b'a'; 45]), StrEncoding::Raw);
        assert_eq!(choose_encoding(b"9223372036854775808"), StrEncoding::Embstr);
    }

    #[test]
    fn strref_prints_integers() {
        let mut buf = [0u8; MAX_INT_TEXT];
        assert_eq!(StrRef::Int(-42).bytes(&mut buf), b"-42");
        assert_eq!(StrRef::Int(-42).len(), 3);
        assert_eq!(StrRef::Bytes(b"abc").len(), 3);
    }
}
