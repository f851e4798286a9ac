//! The server's request parser: multibulk (`*<n>\r\n$<len>\r\n...`) and inline (telnet) requests,
//! incremental, zero-copy for multibulk, and bounded by the bytes actually received.
//!
//! It reproduces Redis 7.0.15's `processMultibulkBuffer`/`processInlineBuffer`, including their
//! C-string quirks: a line is searched with `strchr`, so a NUL byte before the line end hides the
//! end for good (the connection then waits until the 64 KiB limit errors out); the byte after a
//! `\r` in a multibulk header and the two bytes after a bulk are skipped unchecked.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Longest inline request, multibulk count line or bulk length line without its line end
/// (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Largest multibulk count (`INT_MAX`).
const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;

/// Largest multibulk count an unauthenticated client may send.
const UNAUTHENTICATED_MAX_MULTIBULK_LEN: i64 = 10;

/// Largest bulk an unauthenticated client may send.
const UNAUTHENTICATED_MAX_BULK_LEN: u64 = 16384;

/// Argument ranges kept between commands; a parser that saw a bigger command gives the memory back.
const KEEP_RANGES: usize = 1024;

/// Inline bytes kept between commands.
const KEEP_INLINE_BYTES: usize = 16 * 1024;

/// What the connection allows the next request to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`: the longest bulk argument (a master link passes `u64::MAX`).
    pub proto_max_bulk_len: u64,
    /// False while the client still has to AUTH (then counts above 10 and bulks above 16384
    /// bytes are refused).
    pub authenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// A malformed request. The server replies `-ERR <message>\r\n` and closes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request longer than 64 KiB without a `\n`.
    TooBigInlineRequest,
    /// An inline request with unbalanced quotes, or a closing quote followed by a non-space.
    UnbalancedQuotes,
    /// A `*` line longer than 64 KiB without a `\r`.
    TooBigMultibulkCount,
    /// A `*` count that is not a number or is above `INT_MAX`.
    InvalidMultibulkLength,
    /// A `*` count above 10 before AUTH.
    UnauthenticatedMultibulkLength,
    /// An argument header that does not start with `$`; carries the byte found instead.
    ExpectedDollar(u8),
    /// A `$` line longer than 64 KiB without a `\r`.
    TooBigBulkCount,
    /// A `$` length that is not a number, is negative, or exceeds `proto-max-bulk-len`.
    InvalidBulkLength,
    /// A `$` length above 16384 before AUTH.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// Redis's exact error text, without the `ERR ` prefix the reply adds. Bytes, since
    /// [`ProtocolError::ExpectedDollar`] quotes the offending byte as is (`\r` and `\n` shown as
    /// spaces, as `addReplyErrorFormat` does).
    pub fn message(&self) -> Cow<'static, [u8]> {
        let text: &'static str = match self {
            ProtocolError::TooBigInlineRequest => "Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolError::TooBigMultibulkCount => "Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
            ProtocolError::ExpectedDollar(byte) => {
                let shown = if matches!(byte, b'\r' | b'\n') {
                    b' '
                } else {
                    *byte
                };
                let mut text = b"Protocol error: expected '$', got '".to_vec();
                text.push(shown);
                text.push(b'\'');
                return Cow::Owned(text);
            }
        };
        Cow::Borrowed(text.as_bytes())
    }

    /// The reply line's payload: `ERR Protocol error: ...`, ready for `ReplyBuffer::error`.
    pub fn reply_text(&self) -> Vec<u8> {
        let mut text = b"ERR ".to_vec();
        text.extend_from_slice(&self.message());
        text
    }

    /// The short reason Redis writes to its log ("Protocol error (<reason>) from client: ...").
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
            ProtocolError::TooBigMultibulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::UnauthenticatedMultibulkLength => "unauth mbulk count",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauth bulk length",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message()))
    }
}

impl std::error::Error for ProtocolError {}

/// The outcome of [`RequestParser::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command of `consumed` bytes; read it with [`RequestParser::args`]. It may have
    /// zero arguments (an empty inline line, `*0`, `*-1`): the caller skips it.
    Command { consumed: usize },
    /// More bytes are needed; call again with the same bytes plus whatever arrives next.
    Incomplete,
}

/// A search for a line end that remembers how far it looked.
#[derive(Clone, Copy, Debug)]
struct LineSearch {
    /// Bytes before this offset hold neither the wanted byte nor NUL.
    from: usize,
    /// A NUL was found first: like C's `strchr`, the search never looks past it.
    blocked: bool,
}

impl LineSearch {
    fn at(from: usize) -> Self {
        LineSearch {
            from,
            blocked: false,
        }
    }

    /// The offset of the first `wanted` at or after `from`, unless a NUL or the end comes first.
    fn find(&mut self, input: &[u8], wanted: u8) -> Option<usize> {
        if self.blocked {
            return None;
        }
        let rest = input.get(self.from..)?;
        match rest.iter().position(|&b| b == wanted || b == 0) {
            Some(i) if rest[i] == wanted => {
                self.from += i;
                Some(self.from)
            }
            Some(i) => {
                self.from += i;
                self.blocked = true;
                None
            }
            None => {
                self.from = input.len();
                None
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// At the first byte of a command.
    Start,
    Inline(LineSearch),
    MultibulkCount(LineSearch),
    /// Reading the arguments of a multibulk; `pos` is the next unread byte.
    Arguments {
        pos: usize,
        remaining: u64,
        bulk_len: Option<usize>,
        header: LineSearch,
    },
    /// `parse` returned `Command`; `args` reads it until the next `parse`.
    Done {
        inline: bool,
    },
}

/// Parses requests one command at a time; see the module docs.
#[derive(Debug)]
pub struct RequestParser {
    state: State,
    /// Argument ranges: into the caller's input (multibulk) or into `inline_args` (inline).
    ranges: Vec<Range<usize>>,
    /// The unquoted arguments of the last inline command.
    inline_args: Vec<u8>,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    /// A parser waiting for the first byte of a command.
    pub fn new() -> Self {
        RequestParser {
            state: State::Start,
            ranges: Vec::new(),
            inline_args: Vec::new(),
        }
    }

    /// Parses the command that starts at `input[0]`.
    ///
    /// `input` always starts at the first byte of the command being parsed (the caller drops
    /// consumed bytes from its buffer's front, or advances its offset by `consumed`); state for a
    /// partial command is kept between calls so a huge command arriving in many reads is not
    /// re-scanned from the start. After an error the connection is done: call `reset` before
    /// parsing anything else.
    pub fn parse(&mut self, input: &[u8], limits: &RequestLimits) -> Result<Parsed, ProtocolError> {
        if matches!(self.state, State::Done { .. }) || self.progress() > input.len() {
            // A new command, or a caller that handed us fewer bytes than before: start over.
            self.reset();
        }
        loop {
            match self.state {
                State::Start => match input.first() {
                    None => return Ok(Parsed::Incomplete),
                    Some(b'*') => self.state = State::MultibulkCount(LineSearch::at(0)),
                    Some(_) => self.state = State::Inline(LineSearch::at(0)),
                },
                State::Inline(search) => return self.parse_inline(input, search),
                State::MultibulkCount(search) => {
                    return self.parse_multibulk_count(input, search, limits);
                }
                State::Arguments { .. } => return self.parse_arguments(input, limits),
                State::Done { .. } => return Ok(Parsed::Incomplete),
            }
        }
    }

    /// Arguments of the command the last `parse` returned `Command` for (argument 0 is the
    /// command name). `input` must be the same slice; before a `Command` the list is empty.
    pub fn args<'a>(&'a self, input: &'a [u8]) -> ArgList<'a> {
        match self.state {
            State::Done { inline: true } => ArgList::new(&self.inline_args, &self.ranges),
            State::Done { inline: false } => ArgList::new(input, &self.ranges),
            _ => ArgList::new(input, &[]),
        }
    }

    /// While the data of a bulk argument is being received: where it starts in the input and
    /// its declared length.
    pub fn pending_bulk(&self) -> Option<(usize, usize)> {
        match self.state {
            State::Arguments {
                pos,
                bulk_len: Some(len),
                ..
            } => Some((pos, len)),
            _ => None,
        }
    }

    /// Forgets any partial command, keeping modest buffers for reuse.
    pub fn reset(&mut self) {
        self.state = State::Start;
        if self.ranges.capacity() > KEEP_RANGES {
            self.ranges = Vec::new();
        } else {
            self.ranges.clear();
        }
        if self.inline_args.capacity() > KEEP_INLINE_BYTES {
            self.inline_args = Vec::new();
        } else {
            self.inline_args.clear();
        }
    }

    /// Heap bytes this parser holds (for client memory accounting). It grows with the bytes
    /// received, never with a declared length or count.
    pub fn heap_size(&self) -> usize {
        self.ranges.capacity() * std::mem::size_of::<Range<usize>>() + self.inline_args.capacity()
    }

    /// How many bytes of the current command the saved state relies on.
    fn progress(&self) -> usize {
        match self.state {
            State::Start | State::Done { .. } => 0,
            State::Inline(search) | State::MultibulkCount(search) => search.from,
            State::Arguments { pos, header, .. } => pos.max(header.from),
        }
    }

    fn parse_inline(
        &mut self,
        input: &[u8],
        mut search: LineSearch,
    ) -> Result<Parsed, ProtocolError> {
        let Some(newline) = search.find(input, b'\n') else {
            self.state = State::Inline(search);
            if input.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(Parsed::Incomplete);
        };
        let line_end = if newline > 0 && input[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        self.ranges.clear();
        self.inline_args.clear();
        split_inline_args(&input[..line_end], &mut self.inline_args, &mut self.ranges)?;
        self.state = State::Done { inline: true };
        Ok(Parsed::Command {
            consumed: newline + 1,
        })
    }

    fn parse_multibulk_count(
        &mut self,
        input: &[u8],
        mut search: LineSearch,
        limits: &RequestLimits,
    ) -> Result<Parsed, ProtocolError> {
        let Some(cr) = search.find(input, b'\r') else {
            self.state = State::MultibulkCount(search);
            if input.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigMultibulkCount);
            }
            return Ok(Parsed::Incomplete);
        };
        self.state = State::MultibulkCount(search);
        // The byte after '\r' must have arrived; Redis does not check that it is '\n'.
        if cr + 2 > input.len() {
            return Ok(Parsed::Incomplete);
        }
        let digits = input.get(1..cr).unwrap_or_default();
        let count = match crate::number::parse_i64(digits) {
            Some(n) if n <= MAX_MULTIBULK_LEN => n,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if count > UNAUTHENTICATED_MAX_MULTIBULK_LEN && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        let pos = cr + 2;
        self.ranges.clear();
        if count <= 0 {
            self.state = State::Done { inline: false };
            return Ok(Parsed::Command { consumed: pos });
        }
        self.state = State::Arguments {
            pos,
            remaining: count as u64,
            bulk_len: None,
            header: LineSearch::at(pos),
        };
        self.parse_arguments(input, limits)
    }

    fn parse_arguments(
        &mut self,
        input: &[u8],
        limits: &RequestLimits,
    ) -> Result<Parsed, ProtocolError> {
        let State::Arguments {
            mut pos,
            mut remaining,
            mut bulk_len,
            mut header,
        } = self.state
        else {
            return Ok(Parsed::Incomplete);
        };
        let result = loop {
            if remaining == 0 {
                break Ok(Parsed::Command { consumed: pos });
            }
            let len = match bulk_len {
                Some(len) => len,
                None => match read_bulk_header(input, pos, &mut header, limits) {
                    Ok(Some((len, data_start))) => {
                        pos = data_start;
                        bulk_len = Some(len);
                        len
                    }
                    Ok(None) => break Ok(Parsed::Incomplete),
                    Err(e) => break Err(e),
                },
            };
            // The data and the two bytes after it (not checked, as in Redis).
            let end = pos.saturating_add(len).saturating_add(2);
            if input.len() < end {
                break Ok(Parsed::Incomplete);
            }
            self.ranges.push(pos..pos + len);
            pos = end;
            remaining -= 1;
            bulk_len = None;
            header = LineSearch::at(pos);
        };
        self.state = match result {
            Ok(Parsed::Command { .. }) => State::Done { inline: false },
            _ => State::Arguments {
                pos,
                remaining,
                bulk_len,
                header,
            },
        };
        result
    }
}

/// Reads a `$<len>\r\n` header at `pos`: `Some((len, first data byte))`, or `None` if incomplete.
fn read_bulk_header(
    input: &[u8],
    pos: usize,
    header: &mut LineSearch,
    limits: &RequestLimits,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let (len, cr) = match plain_bulk_header(input, pos) {
        Some(plain) => plain,
        None => {
            let Some(cr) = header.find(input, b'\r') else {
                if input.len().saturating_sub(pos) > PROTO_INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigBulkCount);
                }
                return Ok(None);
            };
            if cr + 2 > input.len() {
                return Ok(None);
            }
            // `cr >= pos`, so the header has a first byte.
            let first = input[pos];
            if first != b'$' {
                return Err(ProtocolError::ExpectedDollar(first));
            }
            match crate::number::parse_i64(&input[pos + 1..cr]) {
                Some(n) if n >= 0 => (n as u64, cr),
                _ => return Err(ProtocolError::InvalidBulkLength),
            }
        }
    };
    if cr + 2 > input.len() {
        return Ok(None);
    }
    if len > limits.proto_max_bulk_len {
        return Err(ProtocolError::InvalidBulkLength);
    }
    if len > UNAUTHENTICATED_MAX_BULK_LEN && !limits.authenticated {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
    Ok(Some((len, cr + 2)))
}

/// Digits a length may have for [`plain_bulk_header`]: 18 cannot overflow a `u64`.
const PLAIN_LENGTH_DIGITS: usize = 18;

/// The header as nearly every client writes it, `$<digits>\r` with no leading zero, read in
/// one pass: `(length, offset of the \r)`. `None` for anything else (an incomplete line, a sign,
/// a NUL, a long or odd number), which the general path then reads or rejects as Redis does.
/// Parsing is a tenth of an MSET's cost, and the general path looks at each byte twice.
fn plain_bulk_header(input: &[u8], pos: usize) -> Option<(u64, usize)> {
    let (&b'$', digits) = input.get(pos..)?.split_first()? else {
        return None;
    };
    match digits {
        [b'0', b'\r', ..] => return Some((0, pos + 2)),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut len = 0u64;
    for (i, &b) in digits.iter().enumerate().take(PLAIN_LENGTH_DIGITS + 1) {
        match b {
            b'0'..=b'9' => len = len * 10 + u64::from(b - b'0'),
            b'\r' => return Some((len, pos + 1 + i)),
            _ => return None,
        }
    }
    None
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits an inline line into arguments with Redis's `sdssplitargs` rules: blanks separate
/// arguments; "double quotes" understand `\n \r \t \b \a \xHH` and `\<any>`; 'single quotes'
/// understand only `\'`; a closing quote must be followed by a blank or the end.
fn split_inline_args(
    line: &[u8],
    out: &mut Vec<u8>,
    ranges: &mut Vec<Range<usize>>,
) -> Result<(), ProtocolError> {
    #[derive(PartialEq)]
    enum Mode {
        Plain,
        Double,
        Single,
    }
    let at = |i: usize| line.get(i).copied();
    let mut p = 0;
    loop {
        while at(p).is_some_and(is_c_space) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(());
        }
        let start = out.len();
        let mut mode = Mode::Plain;
        loop {
            let c = at(p);
            let mut done = false;
            match mode {
                Mode::Double => match c {
                    None => return Err(ProtocolError::UnbalancedQuotes),
                    Some(b'\\') => {
                        let escaped = match (
                            at(p + 1),
                            at(p + 2).and_then(hex_value),
                            at(p + 3).and_then(hex_value),
                        ) {
                            (Some(b'x'), Some(hi), Some(lo)) => {
                                p += 3;
                                Some(hi * 16 + lo)
                            }
                            (Some(next), _, _) => {
                                p += 1;
                                Some(match next {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 0x08,
                                    b'a' => 0x07,
                                    other => other,
                                })
                            }
                            (None, _, _) => None,
                        };
                        out.push(escaped.unwrap_or(b'\\'));
                    }
                    Some(b'"') => {
                        if at(p + 1).is_some_and(|b| !is_c_space(b)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        done = true;
                    }
                    Some(other) => out.push(other),
                },
                Mode::Single => match c {
                    None => return Err(ProtocolError::UnbalancedQuotes),
                    Some(b'\\') if at(p + 1) == Some(b'\'') => {
                        p += 1;
                        out.push(b'\'');
                    }
                    Some(b'\'') => {
                        if at(p + 1).is_some_and(|b| !is_c_space(b)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        done = true;
                    }
                    Some(other) => out.push(other),
                },
                Mode::Plain => match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => done = true,
                    Some(b'"') => mode = Mode::Double,
                    Some(b'\'') => mode = Mode::Single,
                    Some(other) => out.push(other),
                },
            }
            if p < line.len() {
                p += 1;
            }
            if done {
                break;
            }
        }
        ranges.push(start..out.len());
    }
}

/// A cheap `Copy` view of a command's arguments (argument 0 is the command name).
#[derive(Clone, Copy)]
pub struct ArgList<'a> {
    source: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> ArgList<'a> {
    /// Arguments that are `ranges` of `source`. Ranges outside `source` read as empty.
    pub fn new(source: &'a [u8], ranges: &'a [Range<usize>]) -> Self {
        ArgList { source, ranges }
    }

    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True for an empty command (skipped by the server).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Argument `i`.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let range = self.ranges.get(i)?;
        Some(self.source.get(range.clone()).unwrap_or_default())
    }

    /// The arguments in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let source = self.source;
        self.ranges
            .iter()
            .map(move |r| source.get(r.clone()).unwrap_or_default())
    }

    /// A copy that owns its bytes.
    pub fn to_owned_command(&self) -> OwnedCommand {
        OwnedCommand::from_args(self.iter())
    }
}

impl fmt::Debug for ArgList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// A command that owns its bytes (MULTI queues, scripts): one buffer plus ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedCommand {
    buf: Vec<u8>,
    ranges: Vec<Range<usize>>,
}

impl OwnedCommand {
    /// A command made of `args`.
    pub fn from_args<I: IntoIterator<Item = impl AsRef<[u8]>>>(args: I) -> Self {
        let mut command = OwnedCommand::default();
        for arg in args {
            command.push(arg.as_ref());
        }
        command
    }

    /// Its arguments.
    pub fn args(&self) -> ArgList<'_> {
        ArgList::new(&self.buf, &self.ranges)
    }

    /// Appends an argument.
    pub fn push(&mut self, arg: &[u8]) {
        self.push_with(|buf| buf.extend_from_slice(arg));
    }

    /// Appends the argument `write` appends to the buffer it is given.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        write(&mut self.buf);
        self.ranges.push(start..self.buf.len());
    }

    /// Bytes its argument buffer holds room for.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Removes every argument, keeping the memory for the next command.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OPEN: RequestLimits = RequestLimits {
        proto_max_bulk_len: 512 << 20,
        authenticated: true,
    };

    /// Parses every command in `input` at once; the error, if one comes.
    fn parse_all(
        input: &[u8],
        limits: &RequestLimits,
    ) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
        let mut parser = RequestParser::new();
        let mut commands = Vec::new();
        let mut at = 0;
        loop {
            match parser.parse(&input[at..], limits) {
                Ok(Parsed::Command { consumed }) => {
                    let args = parser.args(&input[at..]);
                    commands.push(args.iter().map(<[u8]>::to_vec).collect());
                    at += consumed;
                }
                Ok(Parsed::Incomplete) => return (commands, None),
                Err(e) => return (commands, Some(e)),
            }
        }
    }

    fn one(input: &[u8]) -> Vec<Vec<u8>> {
        let (mut commands, err) = parse_all(input, &OPEN);
        assert_eq!(err, None);
        assert_eq!(commands.len(), 1, "{commands:?}");
        commands.remove(0)
    }

    fn error_of(input: &[u8], limits: &RequestLimits) -> ProtocolError {
        parse_all(input, limits).1.expect("a protocol error")
    }

    fn strings(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_commands_parse_and_pipeline() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n";
        let (commands, err) = parse_all(input, &OPEN);
        assert_eq!(err, None);
        assert_eq!(commands, vec![strings(&["GET", "k"]), strings(&["PING"])]);
        assert_eq!(one(b"*1\r\n$0\r\n\r\n"), vec![Vec::<u8>::new()]);
        assert_eq!(one(b"*1\r\n$3\r\na\r\n\r\n"), vec![b"a\r\n".to_vec()]);
    }

    #[test]
    fn multibulk_quirks_match_redis() {
        // Redis skips the byte after '\r' and the two after a bulk without looking at them.
        assert_eq!(one(b"*1\rX$4\rYPINGxx"), strings(&["PING"]));
        // Zero and negative counts are empty commands.
        assert_eq!(one(b"*0\r\n"), Vec::<Vec<u8>>::new());
        assert_eq!(one(b"*-5\r\n"), Vec::<Vec<u8>>::new());
        // A NUL hides the line end, as C's strchr does.
        assert_eq!(parse_all(b"*1\0\r\n$4\r\nPING\r\n", &OPEN), (vec![], None));
    }

    #[test]
    fn multibulk_errors_have_redis_texts() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "Protocol error: invalid multibulk length"),
            (b"*\r\n", "Protocol error: invalid multibulk length"),
            (
                b"*2147483648\r\n",
                "Protocol error: invalid multibulk length",
            ),
            (b"*+1\r\n", "Protocol error: invalid multibulk length"),
            (b"*1\r\n\r\r\n", "Protocol error: expected '$', got ' '"),
            (b"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"),
            (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
            (b"*1\r\n$01\r\n", "Protocol error: invalid bulk length"),
            (
                b"*1\r\n$536870913\r\n",
                "Protocol error: invalid bulk length",
            ),
        ];
        for &(input, text) in cases {
            let err = error_of(input, &OPEN);
            assert_eq!(
                err.to_string(),
                text,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            error_of(b"*1\r\n\xff\r\n", &OPEN).message().as_ref(),
            b"Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            ProtocolError::InvalidBulkLength.reply_text(),
            b"ERR Protocol error: invalid bulk length"
        );
        let mut big = b"*".to_vec();
        big.resize(PROTO_INLINE_MAX_SIZE + 2, b'1');
        assert_eq!(error_of(&big, &OPEN), ProtocolError::TooBigMultibulkCount);
        let mut big = b"*1\r\n$".to_vec();
        big.resize(PROTO_INLINE_MAX_SIZE + 10, b'1');
        assert_eq!(error_of(&big, &OPEN), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn unauthenticated_clients_get_small_limits() {
        let guest = RequestLimits {
            proto_max_bulk_len: 512 << 20,
            authenticated: false,
        };
        assert_eq!(
            error_of(b"*11\r\n", &guest),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        assert_eq!(
            error_of(b"*1\r\n$16385\r\n", &guest),
            ProtocolError::UnauthenticatedBulkLength
        );
        assert_eq!(parse_all(b"*10\r\n$16384\r\n", &guest), (vec![], None));
        let tight = RequestLimits {
            proto_max_bulk_len: 3,
            authenticated: true,
        };
        assert_eq!(
            error_of(b"*1\r\n$4\r\n", &tight),
            ProtocolError::InvalidBulkLength
        );
    }

    #[test]
    fn inline_commands_follow_sdssplitargs() {
        assert_eq!(one(b"PING\r\n"), strings(&["PING"]));
        assert_eq!(one(b"  set  a   b \n"), strings(&["set", "a", "b"]));
        assert_eq!(one(b"\r\n"), Vec::<Vec<u8>>::new());
        assert_eq!(one(b"\n"), Vec::<Vec<u8>>::new());
        assert_eq!(
            one(b"set \"a\\x41\\n\" x\r\n"),
            vec![b"set".to_vec(), b"aA\n".to_vec(), b"x".to_vec()]
        );
        assert_eq!(one(b"echo 'it\\'s' \"\"\n"), strings(&["echo", "it's", ""]));
        assert_eq!(one(b"echo 'a\\nb'\n"), strings(&["echo", "a\\nb"]));
        assert_eq!(one(b"echo \"\\xZZ\"\n"), strings(&["echo", "xZZ"]));
        assert_eq!(one(b"echo ab\"c d\"\n"), strings(&["echo", "abc d"]));
        // \v and \f are skipped between arguments but belong to an unquoted one.
        assert_eq!(one(b"\x0bPING\x0b\x0c\n"), vec![b"PING\x0b\x0c".to_vec()]);
        assert_eq!(one(b"a\rb\n"), strings(&["a", "b"]));
        for bad in [
            &b"\"a\"b\r\n"[..],
            b"'a\n",
            b"\"a\n",
            b"'a'b\n",
            b"\"a\\\"\n",
        ] {
            assert_eq!(error_of(bad, &OPEN), ProtocolError::UnbalancedQuotes);
        }
        // A NUL before the newline hides it, as in Redis.
        assert_eq!(parse_all(b"PING\0\n", &OPEN), (vec![], None));
        let mut big = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(error_of(&big, &OPEN), ProtocolError::TooBigInlineRequest);
        big.push(b'\n');
        assert_eq!(one(&big).len(), 1);
    }

    #[test]
    fn partial_input_resumes_without_losing_state() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
        let mut parser = RequestParser::new();
        for end in 0..input.len() {
            assert_eq!(
                parser.parse(&input[..end], &OPEN),
                Ok(Parsed::Incomplete),
                "at {end}"
            );
        }
        assert_eq!(
            parser.parse(input, &OPEN),
            Ok(Parsed::Command {
                consumed: input.len()
            })
        );
        let args = parser.args(input);
        assert_eq!(
            args.iter().collect::<Vec<_>>(),
            vec![&b"SET"[..], b"k", b"value"]
        );
        assert_eq!(args.get(3), None);
        let owned = args.to_owned_command();
        assert_eq!(owned.args().get(2), Some(&b"value"[..]));
        // The next call starts a new command.
        assert_eq!(parser.parse(b"PI", &OPEN), Ok(Parsed::Incomplete));
        assert_eq!(
            parser.parse(b"PING\n", &OPEN),
            Ok(Parsed::Command { consumed: 5 })
        );
        assert_eq!(parser.args(b"PING\n").get(0), Some(&b"PING"[..]));
    }

    #[test]
    fn a_declared_huge_bulk_reserves_nothing() {
        let mut parser = RequestParser::new();
        let input = b"*1000000\r\n$536870912\r\nabc";
        assert_eq!(parser.parse(input, &OPEN), Ok(Parsed::Incomplete));
        assert!(parser.heap_size() < 1024, "{}", parser.heap_size());
    }

    #[test]
    fn owned_commands_push_and_compare() {
        let mut cmd = OwnedCommand::from_args(["MULTI"]);
        cmd.push(b"x");
        assert_eq!(cmd.args().len(), 2);
        assert_eq!(cmd, OwnedCommand::from_args([&b"MULTI"[..], b"x"]));
        assert_eq!(format!("{:?}", cmd.args()), "[\"MULTI\", \"x\"]");
    }

    /// Inputs that look like requests often enough to reach deep states.
    fn request_like() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"*".to_vec()),
            Just(b"$".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\0".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"'".to_vec()),
            Just(b"\\x4".to_vec()),
            Just(b" ".to_vec()),
            (0u32..100_000).prop_map(|n| n.to_string().into_bytes()),
            Just(b"-1".to_vec()),
            Just(b"99999999999999999999".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Bytes the parser may hold for `received` bytes of input: each argument needs at least two
    /// input bytes and costs one range; vectors at most double.
    fn allowed_heap(received: usize) -> usize {
        let per_byte = std::mem::size_of::<Range<usize>>() + 2;
        2 * per_byte * received
            + KEEP_RANGES * std::mem::size_of::<Range<usize>>()
            + KEEP_INLINE_BYTES
            + 4096
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The one-pass reading of a bulk header agrees with the general rule (Redis's
        /// `string2ll` of the bytes up to the `\r`) wherever it answers at all.
        #[test]
        fn plain_bulk_headers_read_as_the_general_rule_does(
            body in prop_oneof![
                "[0-9]{0,22}",
                "-?0*[0-9]{1,20}",
                proptest::collection::vec(any::<u8>(), 0..24)
                    .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            ],
            tail in prop_oneof![Just("\r\n"), Just("\r"), Just(""), Just("x\r\n")],
        ) {
            let input = format!("$${body}{tail}");
            let input = input.as_bytes();
            if let Some((len, cr)) = plain_bulk_header(input, 0) {
                prop_assert_eq!(input[cr], b'\r');
                prop_assert_eq!(crate::number::parse_i64(&input[1..cr]), i64::try_from(len).ok());
            }
        }

        #[test]
        fn plain_and_odd_bulk_headers_parse_alike(len in 0usize..40, zeros in 0usize..3) {
            let arg = "a".repeat(len);
            let plain = format!("*1\r\n${len}\r\n{arg}\r\n");
            let padded = format!("*1\r\n${}{len}\r\n{arg}\r\n", "0".repeat(zeros));
            prop_assert_eq!(one(plain.as_bytes()), vec![arg.clone().into_bytes()]);
            let (commands, err) = parse_all(padded.as_bytes(), &OPEN);
            if zeros == 0 {
                prop_assert_eq!(commands, vec![vec![arg.into_bytes()]]);
                prop_assert_eq!(err, None);
            } else {
                prop_assert_eq!(err, Some(ProtocolError::InvalidBulkLength));
            }
        }

        #[test]
        fn random_bytes_in_random_pieces_never_panic_or_overreserve(
            input in prop_oneof![request_like(), proptest::collection::vec(any::<u8>(), 0..300)],
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
            authenticated in any::<bool>(),
        ) {
            let limits = RequestLimits { proto_max_bulk_len: 1 << 40, authenticated };
            let (whole, whole_err) = parse_all(&input, &limits);
            // Feed the same bytes in pieces: the commands must come out the same.
            let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            ends.push(input.len());
            ends.sort_unstable();
            let mut parser = RequestParser::new();
            let mut start = 0;
            let mut pieces = Vec::new();
            let mut piece_err = None;
            'feed: for end in ends {
                loop {
                    let available = &input[start..end];
                    let result = parser.parse(available, &limits);
                    prop_assert!(parser.heap_size() <= allowed_heap(available.len()));
                    match result {
                        Ok(Parsed::Command { consumed }) => {
                            prop_assert!(consumed <= available.len());
                            let args: Vec<Vec<u8>> =
                                parser.args(available).iter().map(<[u8]>::to_vec).collect();
                            pieces.push(args);
                            start += consumed;
                        }
                        Ok(Parsed::Incomplete) => break,
                        Err(e) => {
                            piece_err = Some(e);
                            break 'feed;
                        }
                    }
                }
            }
            // Errors that depend on how much is buffered (the 64 KiB limits) cannot occur here,
            // so splitting changes nothing.
            prop_assert_eq!(pieces, whole);
            prop_assert_eq!(piece_err, whole_err);
        }
    }
}
