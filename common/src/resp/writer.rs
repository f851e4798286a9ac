//! Replies, written into a byte buffer in the client's protocol (RESP2 or RESP3), byte for byte
//! as Redis 7.0's `addReply*` functions write them.

use crate::number::{self, MAX_I64_LEN};

/// The protocol a client chose with HELLO.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protocol {
    Resp2,
    Resp3,
}

/// A place in a [`ReplyBuffer`] where an aggregate header goes once its length is known.
#[derive(Debug)]
#[must_use = "a deferred header must be finished"]
pub struct Deferred {
    pos: usize,
}

/// The bytes of one or more replies.
#[derive(Clone, Debug)]
pub struct ReplyBuffer {
    pub(crate) buf: Vec<u8>,
    protocol: Protocol,
}

impl ReplyBuffer {
    /// An empty buffer writing `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        ReplyBuffer {
            buf: Vec::new(),
            protocol,
        }
    }

    /// The protocol replies are written in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Switches the protocol (HELLO).
    pub fn set_protocol(&mut self, p: Protocol) {
        self.protocol = p;
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is written.
    /// Bytes the buffer can hold without growing.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Drops what was written after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Takes the bytes, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Appends bytes that are already RESP.
    pub fn extend_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `+<s>\r\n`, with any `\r` or `\n` in `s` written as a space.
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.push_line_text(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK\r\n`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `-<msg>\r\n`. `msg` carries its code (`ERR ...`, `WRONGTYPE ...`); a leading `-` is not
    /// doubled. As in `addReplyErrorFormat`, trailing line ends are dropped and inner ones become
    /// spaces.
    pub fn error(&mut self, msg: &[u8]) {
        let msg = msg.strip_prefix(b"-").unwrap_or(msg);
        let end = msg
            .iter()
            .rposition(|&b| b != b'\r' && b != b'\n')
            .map_or(0, |i| i + 1);
        self.buf.push(b'-');
        self.push_line_text(&msg[..end]);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `:<n>\r\n`.
    pub fn integer(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// `$<len>\r\n<s>\r\n`.
    pub fn bulk(&mut self, s: &[u8]) {
        self.buf.reserve(MAX_I64_LEN + 5 + s.len());
        self.header(b'$', len_i64(s.len()));
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The decimal text of `n` as a bulk string.
    pub fn bulk_i64(&mut self, n: i64) {
        let mut digits = [0u8; MAX_I64_LEN];
        self.bulk(number::format_i64(n, &mut digits));
    }

    /// The null reply: RESP2 `$-1\r\n`, RESP3 `_\r\n`.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(match self.protocol {
            Protocol::Resp2 => b"$-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        });
    }

    /// The null array: RESP2 `*-1\r\n`, RESP3 `_\r\n`.
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(match self.protocol {
            Protocol::Resp2 => b"*-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        });
    }

    /// `*<len>\r\n`; the elements follow.
    pub fn array(&mut self, len: usize) {
        self.header(b'*', len_i64(len));
    }

    /// A map of `pairs` key/value pairs: RESP3 `%<pairs>`, RESP2 a flat array of `2 * pairs`.
    pub fn map(&mut self, pairs: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len_i64(pairs).saturating_mul(2)),
            Protocol::Resp3 => self.header(b'%', len_i64(pairs)),
        }
    }

    /// A set: RESP3 `~<len>`, RESP2 an array.
    pub fn set(&mut self, len: usize) {
        self.aggregate(b'~', len);
    }

    /// A push message (pub/sub, invalidation): RESP3 `><len>`, RESP2 an array.
    pub fn push(&mut self, len: usize) {
        self.aggregate(b'>', len);
    }

    /// RESP3 attribute header `|<pairs>`; the pairs and then the reply they describe follow.
    /// RESP2 has no attributes: nothing is written, and (as Redis does) the caller sends the
    /// pairs only to RESP3 clients.
    pub fn attribute(&mut self, pairs: usize) {
        if self.protocol == Protocol::Resp3 {
            self.header(b'|', len_i64(pairs));
        }
    }

    /// `*0\r\n`.
    pub fn empty_array(&mut self) {
        self.buf.extend_from_slice(b"*0\r\n");
    }

    /// A double as Redis's `addReplyDouble`: RESP2 a bulk of `%.17g` (`inf`, `-inf`, `nan`),
    /// RESP3 `,<%.17g>\r\n`.
    pub fn double(&mut self, d: f64) {
        let mut text = Vec::with_capacity(24);
        number::write_g17(d, &mut text);
        self.double_text(&text);
    }

    /// A double as Redis's `addReplyHumanLongDouble` (GEOPOS, GEORADIUS WITHCOORD): RESP2 a bulk
    /// of `%.17Lf` without trailing zeros (see [`number::write_fixed17`]), RESP3 `,<same>\r\n`.
    /// INCRBYFLOAT does not use this: it replies with a bulk of `LongDouble::to_human` in both
    /// protocols.
    pub fn human_double(&mut self, d: f64) {
        let mut text = Vec::with_capacity(24);
        number::write_fixed17(d, &mut text);
        self.double_text(&text);
    }

    /// A boolean: RESP3 `#t\r\n`/`#f\r\n`, RESP2 `:1\r\n`/`:0\r\n`.
    pub fn boolean(&mut self, b: bool) {
        self.buf.extend_from_slice(match (self.protocol, b) {
            (Protocol::Resp2, true) => b":1\r\n",
            (Protocol::Resp2, false) => b":0\r\n",
            (Protocol::Resp3, true) => b"#t\r\n",
            (Protocol::Resp3, false) => b"#f\r\n",
        });
    }

    /// A big number: RESP3 `(<digits>\r\n`, RESP2 a bulk string.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(digits),
            Protocol::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A verbatim string: RESP3 `=<len+4>\r\n<fmt>:<text>\r\n`, RESP2 a bulk of `text`.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', len_i64(text.len()).saturating_add(4));
                self.buf.extend_from_slice(format);
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Remembers where an aggregate header goes; write the elements, then call a `finish_*`.
    pub fn begin_deferred(&mut self) -> Deferred {
        Deferred {
            pos: self.buf.len(),
        }
    }

    /// Inserts `*<len>\r\n` where `d` was taken.
    pub fn finish_deferred_array(&mut self, d: Deferred, len: usize) {
        self.insert_header(d, b'*', len_i64(len));
    }

    /// Inserts a map header for `pairs` pairs where `d` was taken (RESP2: `*<2 * pairs>`).
    pub fn finish_deferred_map(&mut self, d: Deferred, pairs: usize) {
        match self.protocol {
            Protocol::Resp2 => self.insert_header(d, b'*', len_i64(pairs).saturating_mul(2)),
            Protocol::Resp3 => self.insert_header(d, b'%', len_i64(pairs)),
        }
    }

    /// Inserts a set header where `d` was taken (RESP2: an array).
    pub fn finish_deferred_set(&mut self, d: Deferred, len: usize) {
        let prefix = if self.protocol == Protocol::Resp3 {
            b'~'
        } else {
            b'*'
        };
        self.insert_header(d, prefix, len_i64(len));
    }

    fn aggregate(&mut self, resp3_prefix: u8, len: usize) {
        let prefix = if self.protocol == Protocol::Resp3 {
            resp3_prefix
        } else {
            b'*'
        };
        self.header(prefix, len_i64(len));
    }

    fn double_text(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// `<prefix><n>\r\n`, without allocating.
    fn header(&mut self, prefix: u8, n: i64) {
        let mut line = [0u8; MAX_I64_LEN + 3];
        let len = encode_header(prefix, n, &mut line);
        // Measured (LRANGE 100): a `memmove` call per header. Copying the whole fixed-size
        // line and cutting it back compiles to a few moves.
        let start = self.buf.len();
        self.buf.extend_from_slice(&line);
        self.buf.truncate(start + len);
    }

    fn insert_header(&mut self, d: Deferred, prefix: u8, n: i64) {
        let mut line = [0u8; MAX_I64_LEN + 3];
        let len = encode_header(prefix, n, &mut line);
        let pos = d.pos.min(self.buf.len());
        self.buf.splice(pos..pos, line[..len].iter().copied());
    }

    fn push_line_text(&mut self, s: &[u8]) {
        if s.iter().any(|&b| b == b'\r' || b == b'\n') {
            self.buf.extend(
                s.iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
        } else {
            self.buf.extend_from_slice(s);
        }
    }
}

/// Writes `<prefix><n>\r\n` into `line`; returns its length.
fn encode_header(prefix: u8, n: i64, line: &mut [u8; MAX_I64_LEN + 3]) -> usize {
    line[0] = prefix;
    // Lengths and counts are mostly one or two digits: written directly, without a copy.
    let digits = match n {
        0..=9 => {
            line[1] = b'0' + n as u8;
            1
        }
        10..=99 => {
            line[1] = b'0' + (n / 10) as u8;
            line[2] = b'0' + (n % 10) as u8;
            2
        }
        _ => {
            let mut buf = [0u8; MAX_I64_LEN];
            let digits = number::format_i64(n, &mut buf);
            line[1..1 + digits.len()].copy_from_slice(digits);
            digits.len()
        }
    };
    line[1 + digits] = b'\r';
    line[2 + digits] = b'\n';
    digits + 3
}

fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(write: impl Fn(&mut ReplyBuffer)) -> (Vec<u8>, Vec<u8>) {
        let mut two = ReplyBuffer::new(Protocol::Resp2);
        let mut three = ReplyBuffer::new(Protocol::Resp3);
        write(&mut two);
        write(&mut three);
        (two.take(), three.take())
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn simple_types_are_the_same_in_both_protocols() {
        let (two, three) = both(|r| {
            r.ok();
            r.simple(b"PONG");
            r.simple(b"a\r\nb");
            r.error(b"ERR unknown\r\n");
            r.error(b"-WRONGTYPE x\ny");
            r.integer(-12);
            r.integer(i64::MIN);
            r.bulk(b"hi");
            r.bulk(b"");
            r.bulk_i64(1234);
            r.empty_array();
            r.array(2);
        });
        let want = "+OK\r\n+PONG\r\n+a  b\r\n-ERR unknown\r\n-WRONGTYPE x y\r\n:-12\r\n\
                    :-9223372036854775808\r\n$2\r\nhi\r\n$0\r\n\r\n$4\r\n1234\r\n*0\r\n*2\r\n";
        assert_eq!(text(&two), want);
        assert_eq!(text(&three), want);
    }

    #[test]
    fn resp3_types_degrade_in_resp2() {
        let (two, three) = both(|r| {
            r.null();
            r.null_array();
            r.map(2);
            r.set(3);
            r.push(3);
            r.attribute(1);
            r.boolean(true);
            r.boolean(false);
            r.big_number(b"1234567890123456789012");
            r.verbatim(b"txt", b"hello");
        });
        assert_eq!(
            text(&two),
            "$-1\r\n*-1\r\n*4\r\n*3\r\n*3\r\n:1\r\n:0\r\n$22\r\n1234567890123456789012\r\n\
             $5\r\nhello\r\n"
        );
        assert_eq!(
            text(&three),
            "_\r\n_\r\n%2\r\n~3\r\n>3\r\n|1\r\n#t\r\n#f\r\n(1234567890123456789012\r\n\
             =9\r\ntxt:hello\r\n"
        );
    }

    #[test]
    fn doubles_match_add_reply_double() {
        // Checked against redis-server 7.0.15 (ZSCORE after ZADD; HELLO 3 for RESP3).
        let (two, three) = both(|r| {
            r.double(1.5);
            r.double(0.1);
            r.double(f64::INFINITY);
            r.double(f64::NEG_INFINITY);
            r.double(1e-5);
        });
        assert_eq!(
            text(&two),
            "$3\r\n1.5\r\n$19\r\n0.10000000000000001\r\n$3\r\ninf\r\n$4\r\n-inf\r\n\
             $22\r\n1.0000000000000001e-05\r\n"
        );
        assert_eq!(
            text(&three),
            ",1.5\r\n,0.10000000000000001\r\n,inf\r\n,-inf\r\n,1.0000000000000001e-05\r\n"
        );
        // GEOPOS g p after GEOADD g 13.361389 38.115556 p.
        let (two, three) = both(|r| r.human_double(13.361389338970184));
        assert_eq!(text(&two), "$20\r\n13.36138933897018433\r\n");
        assert_eq!(text(&three), ",13.36138933897018433\r\n");
    }

    #[test]
    fn deferred_headers_are_inserted_in_place() {
        let (two, three) = both(|r| {
            r.array(2);
            let d = r.begin_deferred();
            r.bulk(b"k");
            r.integer(1);
            r.finish_deferred_map(d, 1);
            let d = r.begin_deferred();
            r.finish_deferred_set(d, 0);
            let d = r.begin_deferred();
            r.integer(7);
            r.finish_deferred_array(d, 1);
        });
        assert_eq!(
            text(&two),
            "*2\r\n*2\r\n$1\r\nk\r\n:1\r\n*0\r\n*1\r\n:7\r\n"
        );
        assert_eq!(
            text(&three),
            "*2\r\n%1\r\n$1\r\nk\r\n:1\r\n~0\r\n*1\r\n:7\r\n"
        );
    }

    #[test]
    fn buffer_management() {
        let mut r = ReplyBuffer::new(Protocol::Resp2);
        assert!(r.is_empty());
        r.ok();
        let mark = r.len();
        r.extend_raw(b":1\r\n");
        r.truncate(mark);
        assert_eq!(r.as_bytes(), b"+OK\r\n");
        r.set_protocol(Protocol::Resp3);
        assert_eq!(r.protocol(), Protocol::Resp3);
        r.clear();
        assert_eq!(r.len(), 0);
    }
}
