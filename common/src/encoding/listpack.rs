//! Redis 7.0's listpack: a list of strings and integers in one byte buffer, laid out exactly as
//! Redis 7.0.15 lays it out, so RDB and `DUMP` blobs are read and written unchanged.
//!
//! Format (all multi-byte numbers little-endian):
//! ```text
//! <total-bytes u32> <num-elements u16> <entry> ... <entry> <0xFF>
//! entry = <encoding + payload> <backlen>
//! ```
//! `num-elements` is 65535 when the count does not fit (it is then counted by walking). An entry
//! is stored as an integer whenever its bytes are a strict decimal `i64` (Redis's
//! `lpStringToInt64`: no sign but `-`, no leading zeros, no `-0`, no spaces, at most 20 bytes),
//! in the smallest of these encodings:
//!
//! | first byte  | entry                                      |
//! |-------------|--------------------------------------------|
//! | `0xxxxxxx`  | integer 0..=127                            |
//! | `10LLLLLL`  | string of up to 63 bytes                   |
//! | `110xxxxx`  | 13-bit signed integer, 1 more byte         |
//! | `1110LLLL`  | string of up to 4095 bytes, 1 more length byte |
//! | `0xF0`      | string with a 32-bit length                |
//! | `0xF1`..`0xF4` | 16, 24, 32, 64-bit signed integer       |
//!
//! `backlen` is the size of encoding + payload written backwards 7 bits a byte (1 to 5 bytes,
//! the high bit set on every byte but the first), so the list can be walked from the end.
//!
//! Positions are byte offsets of entries: cheap cursors for [`Listpack::first`],
//! [`Listpack::next`], [`Listpack::get`] and the editing methods. A position is valid until the
//! listpack is modified, except the ones an editing method returns.
//!
//! Size bound: `total-bytes` is a `u32`, and Redis keeps every listpack under 1 GiB
//! ([`SAFETY_SIZE`], `lpSafeToAdd`). Callers convert to another encoding long before that (the
//! `*-max-listpack-*` limits), so the editing methods treat 4 GiB as an invariant; only
//! [`Listpack::from_bytes`] sees sizes from outside, and it rejects malformed ones.

use std::fmt;

use crate::number::{MAX_I64_LEN, format_i64, parse_i64};

/// Header: total bytes (u32) and element count (u16).
const HEADER_SIZE: usize = 6;
/// The end-of-listpack byte.
const EOF: u8 = 0xFF;
/// The element count Redis stores when the real count does not fit in the header.
const COUNT_UNKNOWN: u16 = u16::MAX;
/// An empty listpack.
const EMPTY: [u8; 7] = [7, 0, 0, 0, 0, 0, EOF];

/// Redis never lets a listpack grow past this (`LISTPACK_MAX_SAFETY_SIZE`); see
/// [`Listpack::safe_to_add`].
pub const SAFETY_SIZE: usize = 1 << 30;

const ENC_32BIT_STR: u8 = 0xF0;
const ENC_16BIT_INT: u8 = 0xF1;
const ENC_24BIT_INT: u8 = 0xF2;
const ENC_32BIT_INT: u8 = 0xF3;
const ENC_64BIT_INT: u8 = 0xF4;

/// A listpack; always valid.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    bytes: Vec<u8>,
}

/// An element as stored: integers come back as integers, strings as the bytes in the listpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

/// Why [`Listpack::from_bytes`] rejected a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListpackError {
    /// Shorter than a header and the end byte.
    TooShort { len: usize },
    /// The header's total-bytes disagrees with the blob's length (or the blob is over 4 GiB).
    SizeMismatch { header: u32, actual: usize },
    /// The last byte is not 0xFF.
    MissingEnd,
    /// The entry at this offset has an unknown encoding, runs past the end, or its backlen does
    /// not match its size.
    BadEntry { offset: usize },
    /// An end byte before the last byte.
    EarlyEnd { offset: usize },
    /// The header's element count disagrees with the entries.
    CountMismatch { header: u16, counted: usize },
}

impl fmt::Display for ListpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListpackError::TooShort { len } => write!(f, "listpack of {len} bytes is too short"),
            ListpackError::SizeMismatch { header, actual } => write!(
                f,
                "listpack header says {header} bytes but the blob has {actual}"
            ),
            ListpackError::MissingEnd => f.write_str("listpack does not end with 0xFF"),
            ListpackError::BadEntry { offset } => {
                write!(f, "invalid listpack entry at offset {offset}")
            }
            ListpackError::EarlyEnd { offset } => {
                write!(f, "listpack end byte at offset {offset} before the end")
            }
            ListpackError::CountMismatch { header, counted } => write!(
                f,
                "listpack header says {header} elements but it holds {counted}"
            ),
        }
    }
}

impl std::error::Error for ListpackError {}

/// An element encoded for storing: the encoding byte(s) (the whole entry for an integer), then
/// the payload of a string.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    payload: &'a [u8],
}

impl<'a> Encoded<'a> {
    /// The encoding Redis picks for `v` (`lpEncodeGetType`).
    fn of(v: &'a [u8]) -> Self {
        if let Some(n) = parse_i64(v) {
            return Self::int(n);
        }
        let len = v.len();
        let mut head = [0u8; 9];
        let head_len = if len < 64 {
            head[0] = 0x80 | len as u8;
            1
        } else if len < 4096 {
            head[0] = 0xE0 | (len >> 8) as u8;
            head[1] = len as u8;
            2
        } else {
            // A string over 4 GiB cannot reach a listpack (see the module doc).
            let len32 = u32::try_from(len).expect("listpack strings stay under 4 GiB");
            head[0] = ENC_32BIT_STR;
            head[1..5].copy_from_slice(&len32.to_le_bytes());
            5
        };
        Encoded {
            head,
            head_len,
            payload: v,
        }
    }

    /// The smallest integer encoding of `n` (`lpEncodeIntegerGetType`).
    fn int(n: i64) -> Encoded<'static> {
        let mut head = [0u8; 9];
        let le = n.to_le_bytes();
        let head_len = if (0..=127).contains(&n) {
            head[0] = n as u8;
            1
        } else if (-4096..=4095).contains(&n) {
            let u = (n as u16) & 0x1FFF;
            head[0] = 0xC0 | (u >> 8) as u8;
            head[1] = u as u8;
            2
        } else if (-32768..=32767).contains(&n) {
            head[0] = ENC_16BIT_INT;
            head[1..3].copy_from_slice(&le[..2]);
            3
        } else if (-8_388_608..=8_388_607).contains(&n) {
            head[0] = ENC_24BIT_INT;
            head[1..4].copy_from_slice(&le[..3]);
            4
        } else if (-2_147_483_648..=2_147_483_647).contains(&n) {
            head[0] = ENC_32BIT_INT;
            head[1..5].copy_from_slice(&le[..4]);
            5
        } else {
            head[0] = ENC_64BIT_INT;
            head[1..9].copy_from_slice(&le);
            9
        };
        Encoded {
            head,
            head_len,
            payload: &[],
        }
    }

    /// Encoding plus payload: what the backlen records.
    fn len(&self) -> usize {
        self.head_len + self.payload.len()
    }
}

/// Bytes the backlen of an entry of `l` encoded bytes takes (`lpEncodeBacklen`; note the
/// strict `<` from two bytes on, so 16383 already takes three).
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Writes the backlen of `l` into `out` (which is exactly [`backlen_size`] long): the most
/// significant 7 bits first, every byte after the first with its high bit set.
fn write_backlen(l: usize, out: &mut [u8]) {
    let n = out.len();
    for (i, b) in out.iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        let bits = ((l >> shift) & 0x7F) as u8;
        *b = if i == 0 { bits } else { bits | 0x80 };
    }
}

/// Decodes the backlen that ends at `end - 1`, reading backwards (`lpDecodeBacklen`): `None` if
/// it runs over 5 bytes or off the buffer.
fn decode_backlen(bytes: &[u8], end: usize) -> Option<usize> {
    let mut val = 0usize;
    let mut at = end;
    for shift in (0..=28).step_by(7) {
        at = at.checked_sub(1)?;
        let b = *bytes.get(at)?;
        val |= usize::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(val);
        }
    }
    None
}

/// Sign-extends the low `bits` bits of `u`.
fn sign_extend(u: u64, bits: u32) -> i64 {
    ((u << (64 - bits)) as i64) >> (64 - bits)
}

/// Size of encoding + payload of the entry at `pos`, reading only within `bytes`; `None` for an
/// unknown encoding byte, the end byte, or a length field cut off.
fn checked_encoded_size(bytes: &[u8], pos: usize) -> Option<u64> {
    let first = *bytes.get(pos)?;
    Some(match first {
        0x00..=0x7F => 1,
        0x80..=0xBF => 1 + u64::from(first & 0x3F),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 2 + (u64::from(first & 0x0F) << 8 | u64::from(*bytes.get(pos + 1)?)),
        ENC_32BIT_STR => {
            let len: [u8; 4] = bytes.get(pos + 1..pos + 5)?.try_into().ok()?;
            5 + u64::from(u32::from_le_bytes(len))
        }
        ENC_16BIT_INT => 3,
        ENC_24BIT_INT => 4,
        ENC_32BIT_INT => 5,
        ENC_64BIT_INT => 9,
        _ => return None,
    })
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Listpack {
    /// An empty listpack (7 bytes).
    pub fn new() -> Self {
        Listpack {
            bytes: EMPTY.to_vec(),
        }
    }

    /// Takes a listpack from outside (RDB, `RESTORE`), checking all of it as Redis's deep
    /// `lpValidateIntegrity` does: header size, end byte, every entry's encoding, bounds and
    /// backlen, and the element count unless the header says 65535.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ListpackError> {
        let size = bytes.len();
        if size < HEADER_SIZE + 1 {
            return Err(ListpackError::TooShort { len: size });
        }
        let header = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if u64::from(header) != size as u64 {
            return Err(ListpackError::SizeMismatch {
                header,
                actual: size,
            });
        }
        if bytes[size - 1] != EOF {
            return Err(ListpackError::MissingEnd);
        }
        let last = size - 1;
        let mut pos = HEADER_SIZE;
        let mut counted = 0usize;
        while bytes[pos] != EOF {
            let bad = ListpackError::BadEntry { offset: pos };
            let enc = checked_encoded_size(&bytes, pos).ok_or(bad.clone())?;
            // Bytes past 4 GiB cannot be in a blob whose size fits the u32 header.
            let enc = usize::try_from(enc).map_err(|_| bad.clone())?;
            let entry = enc + backlen_size(enc);
            let next = pos.checked_add(entry).ok_or(bad.clone())?;
            if next > last || decode_backlen(&bytes, next) != Some(enc) {
                return Err(bad);
            }
            pos = next;
            counted += 1;
        }
        if pos != last {
            return Err(ListpackError::EarlyEnd { offset: pos });
        }
        let lp = Listpack { bytes };
        let header_count = lp.header_count();
        if header_count != COUNT_UNKNOWN && usize::from(header_count) != counted {
            return Err(ListpackError::CountMismatch {
                header: header_count,
                counted,
            });
        }
        Ok(lp)
    }

    /// The listpack's bytes, as RDB and `DUMP` store them.
    /// Bytes the listpack's buffer holds (its capacity).
    pub fn allocated_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The listpack's bytes, given away.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Number of elements; counted by walking when the header says 65535.
    pub fn len(&self) -> usize {
        match self.header_count() {
            COUNT_UNKNOWN => {
                let mut n = 0;
                let mut p = self.first();
                while let Some(pos) = p {
                    n += 1;
                    p = self.next(pos);
                }
                n
            }
            n => usize::from(n),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes[HEADER_SIZE] == EOF
    }

    /// Total size in bytes (the header's total-bytes).
    pub fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether `add` more bytes keep the listpack within Redis's 1 GiB bound (`lpSafeToAdd`).
    pub fn safe_to_add(&self, add: usize) -> bool {
        self.bytes.len().saturating_add(add) <= SAFETY_SIZE
    }

    /// Reserves room for `additional` more bytes, so appends do not reallocate meanwhile.
    pub fn reserve(&mut self, additional: usize) {
        self.bytes.reserve(additional);
    }

    /// Releases spare capacity left by amortized growth.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Appends `v` (stored as an integer when it is one).
    pub fn push_back(&mut self, v: &[u8]) {
        self.push_back_encoded(&Encoded::of(v));
    }

    /// Appends the integer `n`.
    pub fn push_back_int(&mut self, n: i64) {
        self.push_back_encoded(&Encoded::int(n));
    }

    /// Prepends `v`.
    pub fn push_front(&mut self, v: &[u8]) {
        self.splice(HEADER_SIZE, 0, Some(&Encoded::of(v)));
    }

    /// Position of the first element.
    pub fn first(&self) -> Option<usize> {
        (self.bytes[HEADER_SIZE] != EOF).then_some(HEADER_SIZE)
    }

    /// Position of the last element.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.bytes.len() - 1)
    }

    /// Position of the element after the one at `pos`.
    pub fn next(&self, pos: usize) -> Option<usize> {
        let next = self.skip(pos);
        (self.bytes[next] != EOF).then_some(next)
    }

    /// Position of the element before the one at `pos` (or before the end byte).
    pub fn prev(&self, pos: usize) -> Option<usize> {
        if pos <= HEADER_SIZE {
            return None;
        }
        let enc = decode_backlen(&self.bytes, pos).expect("listpack backlens are valid");
        Some(pos - enc - backlen_size(enc))
    }

    /// The element at `pos`.
    pub fn get(&self, pos: usize) -> LpValue<'_> {
        let b = &self.bytes;
        let first = b[pos];
        let int = match first {
            0x00..=0x7F => i64::from(first),
            0x80..=0xBF => {
                let len = usize::from(first & 0x3F);
                return LpValue::Str(&b[pos + 1..pos + 1 + len]);
            }
            0xC0..=0xDF => sign_extend(u64::from(first & 0x1F) << 8 | u64::from(b[pos + 1]), 13),
            0xE0..=0xEF => {
                let len = usize::from(first & 0x0F) << 8 | usize::from(b[pos + 1]);
                return LpValue::Str(&b[pos + 2..pos + 2 + len]);
            }
            ENC_32BIT_STR => {
                let len = u32::from_le_bytes([b[pos + 1], b[pos + 2], b[pos + 3], b[pos + 4]]);
                return LpValue::Str(&b[pos + 5..pos + 5 + len as usize]);
            }
            ENC_16BIT_INT => i64::from(i16::from_le_bytes([b[pos + 1], b[pos + 2]])),
            ENC_24BIT_INT => sign_extend(
                u64::from(b[pos + 1]) | u64::from(b[pos + 2]) << 8 | u64::from(b[pos + 3]) << 16,
                24,
            ),
            ENC_32BIT_INT => i64::from(i32::from_le_bytes([
                b[pos + 1],
                b[pos + 2],
                b[pos + 3],
                b[pos + 4],
            ])),
            ENC_64BIT_INT => {
                let mut le = [0u8; 8];
                le.copy_from_slice(&b[pos + 1..pos + 9]);
                i64::from_le_bytes(le)
            }
            // Never at a valid position; Redis's marker value for it.
            _ => 12_345_678_900_000_000 + i64::from(first),
        };
        LpValue::Int(int)
    }

    /// Position of the element at `index` (negative counts from the end, -1 the last), walking
    /// from the nearer end when the count is known (`lpSeek`).
    pub fn seek(&self, index: i64) -> Option<usize> {
        let count = self.header_count();
        let (forward, mut index) = if count != COUNT_UNKNOWN {
            let n = i64::from(count);
            let i = if index < 0 { n + index } else { index };
            if i < 0 || i >= n {
                return None;
            }
            if i > n / 2 { (false, i - n) } else { (true, i) }
        } else {
            (index >= 0, index)
        };
        if forward {
            let mut p = self.first()?;
            while index > 0 {
                p = self.next(p)?;
                index -= 1;
            }
            Some(p)
        } else {
            let mut p = self.last()?;
            while index < -1 {
                p = self.prev(p)?;
                index += 1;
            }
            Some(p)
        }
    }

    /// Inserts `v` before the element at `pos`; the new element's position.
    pub fn insert_before(&mut self, pos: usize, v: &[u8]) -> usize {
        self.splice(pos, 0, Some(&Encoded::of(v)));
        pos
    }

    /// Inserts `v` after the element at `pos`; the new element's position.
    pub fn insert_after(&mut self, pos: usize, v: &[u8]) -> usize {
        let at = self.skip(pos);
        self.splice(at, 0, Some(&Encoded::of(v)));
        at
    }

    /// Replaces the element at `pos` with `v`; its position (unchanged).
    pub fn replace(&mut self, pos: usize, v: &[u8]) -> usize {
        let old = self.skip(pos) - pos;
        self.splice(pos, old, Some(&Encoded::of(v)));
        pos
    }

    /// Replaces the element at `pos` with the integer `n`; its position (unchanged).
    pub fn replace_int(&mut self, pos: usize, n: i64) -> usize {
        let old = self.skip(pos) - pos;
        self.splice(pos, old, Some(&Encoded::int(n)));
        pos
    }

    /// Deletes the element at `pos`; the position of the element that followed it.
    pub fn delete(&mut self, pos: usize) -> Option<usize> {
        let old = self.skip(pos) - pos;
        self.splice(pos, old, None);
        (self.bytes[pos] != EOF).then_some(pos)
    }

    /// Deletes up to `count` elements starting at `index` (negative from the end), as
    /// `lpDeleteRange`: nothing when `index` is out of range.
    pub fn delete_range(&mut self, index: i64, count: usize) {
        if count == 0 {
            return;
        }
        let Some(start) = self.seek(index) else {
            return;
        };
        let header = self.header_count();
        if header != COUNT_UNKNOWN {
            let n = i64::from(header);
            // In range: seek succeeded.
            let index = if index < 0 { n + index } else { index };
            if (n - index) as u64 <= count as u64 {
                self.bytes.truncate(start);
                self.bytes.push(EOF);
                self.set_total_bytes();
                self.set_header_count(index as u16);
                return;
            }
        }
        let mut tail = start;
        let mut deleted = 0usize;
        for _ in 0..count {
            deleted += 1;
            tail = self.skip(tail);
            if self.bytes[tail] == EOF {
                break;
            }
        }
        self.bytes.drain(start..tail);
        self.set_total_bytes();
        if header != COUNT_UNKNOWN {
            // Fewer than the `header - index` elements left: see the branch above.
            let deleted = u16::try_from(deleted).unwrap_or(header);
            self.set_header_count(header.saturating_sub(deleted));
        }
    }

    /// The elements, front to back (or back to front with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            front: self.first(),
            back: self.last(),
        }
    }

    /// Position of the first element equal to `v` from `start` on, comparing one element and
    /// then skipping `skip` (`lpFind`: `skip = 1` looks at a hash's fields only). Integers are
    /// compared as integers, so `v` = `"10"` finds an entry stored as 10.
    pub fn find(&self, start: usize, v: &[u8], skip: usize) -> Option<usize> {
        // Parsed on first meeting an integer entry, as most searches meet only strings.
        let mut v_int: Option<Option<i64>> = None;
        let mut pos = start;
        let mut to_skip = 0;
        while self.bytes[pos] != EOF {
            if to_skip == 0 {
                let hit = match self.get(pos) {
                    LpValue::Str(s) => s == v,
                    LpValue::Int(n) => *v_int.get_or_insert_with(|| parse_i64(v)) == Some(n),
                };
                if hit {
                    return Some(pos);
                }
                to_skip = skip;
            } else {
                to_skip -= 1;
            }
            pos = self.skip(pos);
        }
        None
    }

    /// Position just past the entry at `pos` (its backlen included): the next entry or the end
    /// byte.
    fn skip(&self, pos: usize) -> usize {
        let enc = self.encoded_size(pos);
        pos + enc + backlen_size(enc)
    }

    /// Encoding + payload size of the entry at `pos` (1 for the end byte).
    fn encoded_size(&self, pos: usize) -> usize {
        let b = &self.bytes;
        let first = b[pos];
        match first {
            0x00..=0x7F => 1,
            0x80..=0xBF => 1 + usize::from(first & 0x3F),
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 2 + (usize::from(first & 0x0F) << 8 | usize::from(b[pos + 1])),
            ENC_32BIT_STR => {
                5 + u32::from_le_bytes([b[pos + 1], b[pos + 2], b[pos + 3], b[pos + 4]]) as usize
            }
            ENC_16BIT_INT => 3,
            ENC_24BIT_INT => 4,
            ENC_32BIT_INT => 5,
            ENC_64BIT_INT => 9,
            _ => 1,
        }
    }

    fn push_back_encoded(&mut self, e: &Encoded<'_>) {
        let enc = e.len();
        let blen = backlen_size(enc);
        let mut backlen = [0u8; 5];
        write_backlen(enc, &mut backlen[..blen]);
        self.bytes.pop();
        self.bytes.reserve(enc + blen + 1);
        self.bytes.extend_from_slice(&e.head[..e.head_len]);
        self.bytes.extend_from_slice(e.payload);
        self.bytes.extend_from_slice(&backlen[..blen]);
        self.bytes.push(EOF);
        self.set_total_bytes();
        self.bump_count(true);
    }

    /// Replaces the `old` bytes at `pos` with the entry `new` (an insertion when `old` is 0, a
    /// deletion when `new` is `None`), keeping the header right (`lpInsert`).
    fn splice(&mut self, pos: usize, old: usize, new: Option<&Encoded<'_>>) {
        let (enc, blen) = match new {
            Some(e) => (e.len(), backlen_size(e.len())),
            None => (0, 0),
        };
        let new_len = enc + blen;
        let total = self.bytes.len();
        if new_len > old {
            self.bytes.resize(total + new_len - old, 0);
            self.bytes.copy_within(pos + old..total, pos + new_len);
        } else if new_len < old {
            self.bytes.copy_within(pos + old..total, pos + new_len);
            self.bytes.truncate(total - (old - new_len));
        }
        if let Some(e) = new {
            let mut at = pos;
            self.bytes[at..at + e.head_len].copy_from_slice(&e.head[..e.head_len]);
            at += e.head_len;
            self.bytes[at..at + e.payload.len()].copy_from_slice(e.payload);
            at += e.payload.len();
            write_backlen(enc, &mut self.bytes[at..at + blen]);
        }
        self.set_total_bytes();
        match (old, new) {
            (0, Some(_)) => self.bump_count(true),
            (_, None) => self.bump_count(false),
            _ => {}
        }
    }

    fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.bytes[4], self.bytes[5]])
    }

    fn set_header_count(&mut self, n: u16) {
        self.bytes[4..6].copy_from_slice(&n.to_le_bytes());
    }

    /// One more or one less element; an unknown count stays unknown, and reaching 65535 makes
    /// it unknown, as in Redis.
    fn bump_count(&mut self, up: bool) {
        let n = self.header_count();
        if n != COUNT_UNKNOWN {
            self.set_header_count(if up { n + 1 } else { n - 1 });
        }
    }

    fn set_total_bytes(&mut self) {
        let total = u32::try_from(self.bytes.len())
            .expect("callers keep listpacks under 1 GiB (safe_to_add), far below 4 GiB");
        self.bytes[..4].copy_from_slice(&total.to_le_bytes());
    }
}

/// Iterator over a listpack's elements; see [`Listpack::iter`].
pub struct Iter<'a> {
    lp: &'a Listpack,
    front: Option<usize>,
    back: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        let pos = self.front?;
        if self.back == Some(pos) {
            self.front = None;
            self.back = None;
        } else {
            self.front = self.lp.next(pos);
        }
        Some(self.lp.get(pos))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let pos = self.back?;
        if self.front == Some(pos) {
            self.front = None;
            self.back = None;
        } else {
            self.back = self.lp.prev(pos);
        }
        Some(self.lp.get(pos))
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl LpValue<'_> {
    /// The element's bytes (an integer in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    /// Whether the element equals `b` (`lpCompare`: an integer equals only its strict decimal
    /// form).
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match *self {
            LpValue::Str(s) => s == b,
            LpValue::Int(n) => parse_i64(b) == Some(n),
        }
    }

    /// The element as an integer: stored integers, and strings that are strict decimals (one
    /// can come from an RDB written by someone else).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            LpValue::Int(n) => Some(n),
            LpValue::Str(s) => parse_i64(s),
        }
    }

    /// Appends the element's bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            LpValue::Str(s) => out.extend_from_slice(s),
            LpValue::Int(n) => {
                let mut buf = [0u8; MAX_I64_LEN];
                out.extend_from_slice(format_i64(n, &mut buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Re-validates from scratch and returns the elements as bytes.
    fn check(lp: &Listpack) -> Vec<Vec<u8>> {
        let again = Listpack::from_bytes(lp.as_bytes().to_vec()).expect("valid listpack");
        assert_eq!(&again, lp);
        let fwd: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        let mut back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd.len(), lp.len());
        fwd
    }

    fn of(items: &[&[u8]]) -> Listpack {
        let mut lp = Listpack::new();
        for i in items {
            lp.push_back(i);
        }
        lp
    }

    fn entry_bytes(v: &[u8]) -> Vec<u8> {
        let lp = of(&[v]);
        lp.as_bytes()[HEADER_SIZE..lp.bytes_len() - 1].to_vec()
    }

    #[test]
    fn empty_listpack_is_seven_bytes() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
        assert!(lp.is_empty());
        assert_eq!(lp.len(), 0);
        assert_eq!(lp.first(), None);
        assert_eq!(lp.last(), None);
        assert_eq!(lp.seek(0), None);
        assert_eq!(lp.seek(-1), None);
        assert_eq!(lp.iter().next(), None);
    }

    #[test]
    fn integer_encodings_at_their_boundaries() {
        let cases: &[(i64, &str)] = &[
            (0, "00 01"),
            (127, "7f 01"),
            (128, "c0 80 02"),
            (-1, "df ff 02"),
            (-4096, "d0 00 02"),
            (4095, "cf ff 02"),
            (4096, "f1 00 10 03"),
            (-4097, "f1 ff ef 03"),
            (32767, "f1 ff 7f 03"),
            (-32768, "f1 00 80 03"),
            (32768, "f2 00 80 00 04"),
            (-32769, "f2 ff 7f ff 04"),
            (8_388_607, "f2 ff ff 7f 04"),
            (-8_388_608, "f2 00 00 80 04"),
            (8_388_608, "f3 00 00 80 00 05"),
            (-8_388_609, "f3 ff ff 7f ff 05"),
            (2_147_483_647, "f3 ff ff ff 7f 05"),
            (-2_147_483_648, "f3 00 00 00 80 05"),
            (2_147_483_648, "f4 00 00 00 80 00 00 00 00 09"),
            (-2_147_483_649, "f4 ff ff ff 7f ff ff ff ff 09"),
            (i64::MAX, "f4 ff ff ff ff ff ff ff 7f 09"),
            (i64::MIN, "f4 00 00 00 00 00 00 00 80 09"),
        ];
        for &(n, want) in cases {
            let text = n.to_string();
            assert_eq!(entry_bytes(text.as_bytes()), hex(want), "{n}");
            let mut lp = Listpack::new();
            lp.push_back_int(n);
            assert_eq!(lp.get(lp.first().unwrap()), LpValue::Int(n));
            assert_eq!(lp.as_bytes()[HEADER_SIZE..lp.bytes_len() - 1], hex(want));
            check(&lp);
        }
    }

    #[test]
    fn strings_that_are_not_strict_integers_stay_strings() {
        for s in [
            &b"007"[..],
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1.5",
            b"00",
        ] {
            let lp = of(&[s]);
            assert_eq!(lp.get(lp.first().unwrap()), LpValue::Str(s));
            check(&lp);
        }
    }

    #[test]
    fn string_encodings_at_their_boundaries() {
        for (len, head, backlen) in [
            (0usize, "80", "01"),
            (63, "bf", "40"),
            (64, "e0 40", "42"),
            (125, "e0 7d", "7f"),
            (126, "e0 7e", "01 80"),
            (4095, "ef ff", "20 81"),
            (4096, "f0 00 10 00 00", "20 85"),
            (16377, "f0 f9 3f 00 00", "7f fe"),
            (16378, "f0 fa 3f 00 00", "00 ff ff"),
            (70000, "f0 70 11 01 00", "04 a2 f5"),
        ] {
            let s = vec![b'x'; len];
            let mut want = hex(head);
            want.extend_from_slice(&s);
            want.extend(hex(backlen));
            assert_eq!(entry_bytes(&s), want, "len {len}");
            let lp = of(&[&s, b"a"]);
            assert_eq!(lp.get(lp.first().unwrap()), LpValue::Str(&s));
            assert_eq!(lp.get(lp.last().unwrap()), LpValue::Str(b"a"));
            assert_eq!(lp.prev(lp.last().unwrap()), lp.first());
            check(&lp);
        }
    }

    #[test]
    fn backlen_sizes_follow_redis_thresholds() {
        assert_eq!(backlen_size(127), 1);
        assert_eq!(backlen_size(128), 2);
        assert_eq!(backlen_size(16382), 2);
        assert_eq!(backlen_size(16383), 3);
        assert_eq!(backlen_size(2_097_150), 3);
        assert_eq!(backlen_size(2_097_151), 4);
        assert_eq!(backlen_size(268_435_455), 5);
        for l in [
            0,
            127,
            128,
            16382,
            16383,
            2_097_151,
            268_435_455,
            300_000_000,
        ] {
            let mut buf = vec![0u8; backlen_size(l)];
            write_backlen(l, &mut buf);
            assert_eq!(decode_backlen(&buf, buf.len()), Some(l), "{l}");
        }
    }

    // Golden blobs: `DUMP` payloads of Redis 7.0.15 (rdbcompression no), listpack bytes cut
    // out of the RDB framing.

    #[test]
    fn golden_hash_from_redis() {
        // HSET h f v num 12345 neg -70000 (RDB type 16, hash listpack).
        let want = hex("200000000600816602817602836e756d04f1393003836e656704f290eefe04ff");
        let lp = of(&[b"f", b"v", b"num", b"12345", b"neg", b"-70000"]);
        assert_eq!(lp.as_bytes(), want);
        let parsed = Listpack::from_bytes(want).unwrap();
        assert_eq!(
            parsed.find(parsed.first().unwrap(), b"neg", 1),
            parsed.seek(4)
        );
        assert_eq!(parsed.get(parsed.seek(5).unwrap()), LpValue::Int(-70000));
    }

    #[test]
    fn golden_sorted_set_from_redis() {
        // ZADD z 1 one 2.5 two -3 three (RDB type 17, zset listpack, score order).
        let want = hex("22000000060085746872656506dffd02836f6e650401018374776f0483322e3504ff");
        let lp = of(&[b"three", b"-3", b"one", b"1", b"two", b"2.5"]);
        assert_eq!(lp.as_bytes(), want);
        assert_eq!(check(&Listpack::from_bytes(want).unwrap()).len(), 6);
    }

    #[test]
    fn golden_list_of_every_width_from_redis() {
        // RPUSH l a 1 300 -1 hello -4096 4095 128 127 32767 -32769 8388607 -8388609
        //   2147483647 -2147483649 i64::MAX i64::MIN 007 x*63 y*64 (one quicklist node).
        let mut want = hex(
            "e500000014008161020101c12c02dfff028568656c6c6f06d00002cfff02c080027f01f1ff7f03
             f2ff7fff04f2ffff7f04f3ffff7fff05f3ffffff7f05f4ffffff7fffffffff09f4ffffffffffffff7f
             09f40000000000000080098330303704bf",
        );
        want.extend_from_slice(&[b'x'; 63]);
        want.extend(hex("40 e040"));
        want.extend_from_slice(&[b'y'; 64]);
        want.extend(hex("42 ff"));
        let x63 = [b'x'; 63];
        let y64 = [b'y'; 64];
        let items: Vec<&[u8]> = vec![
            b"a",
            b"1",
            b"300",
            b"-1",
            b"hello",
            b"-4096",
            b"4095",
            b"128",
            b"127",
            b"32767",
            b"-32769",
            b"8388607",
            b"-8388609",
            b"2147483647",
            b"-2147483649",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"007",
            &x63,
            &y64,
        ];
        let lp = of(&items);
        assert_eq!(lp.as_bytes(), want);
        let parsed = Listpack::from_bytes(want).unwrap();
        let got = check(&parsed);
        assert_eq!(got, items.iter().map(|i| i.to_vec()).collect::<Vec<_>>());
    }

    #[test]
    fn golden_large_strings_from_redis() {
        // RPUSH bl z*4096 w*4095 q*200: two quicklist nodes (8 KiB each at most).
        let mut node1 = hex("0e100000 0100 f000100000");
        node1.extend_from_slice(&[b'z'; 4096]);
        node1.extend(hex("2085 ff"));
        let mut node2 = hex("d6100000 0200 efff");
        node2.extend_from_slice(&[b'w'; 4095]);
        node2.extend(hex("2081 e0c8"));
        node2.extend_from_slice(&[b'q'; 200]);
        node2.extend(hex("01ca ff"));
        assert_eq!(of(&[&[b'z'; 4096]]).as_bytes(), node1);
        assert_eq!(of(&[&[b'w'; 4095], &[b'q'; 200]]).as_bytes(), node2);
        assert!(Listpack::from_bytes(node1).is_ok());
        assert!(Listpack::from_bytes(node2).is_ok());
    }

    #[test]
    fn insert_delete_replace_at_head_middle_and_tail() {
        let big = vec![b'b'; 300];
        let mut lp = of(&[b"a", b"2", b"c"]);
        let head = lp.first().unwrap();
        lp.insert_before(head, &big);
        assert_eq!(check(&lp), [&big[..], b"a", b"2", b"c"]);
        let mid = lp.seek(2).unwrap();
        let new = lp.insert_after(mid, b"-70000");
        assert_eq!(lp.get(new), LpValue::Int(-70000));
        assert_eq!(check(&lp), [&big[..], b"a", b"2", b"-70000", b"c"]);
        let tail = lp.last().unwrap();
        let new = lp.insert_after(tail, b"z");
        assert_eq!(Some(new), lp.last());
        assert_eq!(check(&lp), [&big[..], b"a", b"2", b"-70000", b"c", b"z"]);

        // Replace with bigger, smaller and same-size entries.
        let p = lp.replace(lp.first().unwrap(), b"h");
        assert_eq!(lp.get(p), LpValue::Str(b"h"));
        let p = lp.seek(2).unwrap();
        lp.replace(p, &big);
        let p = lp.last().unwrap();
        lp.replace_int(p, 1 << 40);
        assert_eq!(
            check(&lp),
            [&b"h"[..], b"a", &big, b"-70000", b"c", b"1099511627776"]
        );

        // Deletes.
        let next = lp.delete(lp.first().unwrap());
        assert_eq!(next, lp.first());
        assert_eq!(lp.get(next.unwrap()), LpValue::Str(b"a"));
        let next = lp.delete(lp.seek(1).unwrap());
        assert_eq!(lp.get(next.unwrap()), LpValue::Int(-70000));
        assert_eq!(lp.delete(lp.last().unwrap()), None);
        assert_eq!(check(&lp), [&b"a"[..], b"-70000", b"c"]);
        lp.push_front(b"front");
        assert_eq!(check(&lp), [&b"front"[..], b"a", b"-70000", b"c"]);
        while let Some(p) = lp.first() {
            lp.delete(p);
            check(&lp);
        }
        assert_eq!(lp, Listpack::new());
    }

    #[test]
    fn seek_counts_from_either_end() {
        let items: Vec<Vec<u8>> = (0..9).map(|i| format!("e{i}").into_bytes()).collect();
        let mut lp = Listpack::new();
        for i in &items {
            lp.push_back(i);
        }
        for i in 0..9i64 {
            assert_eq!(lp.get(lp.seek(i).unwrap()).to_vec(), items[i as usize]);
            assert_eq!(lp.get(lp.seek(i - 9).unwrap()).to_vec(), items[i as usize]);
        }
        assert_eq!(lp.seek(9), None);
        assert_eq!(lp.seek(-10), None);
        assert_eq!(lp.seek(i64::MIN), None);
        assert_eq!(lp.seek(i64::MAX), None);
    }

    #[test]
    fn delete_range_like_redis() {
        let base: Vec<Vec<u8>> = (0..6).map(|i| vec![b'a' + i]).collect();
        for index in -8i64..8 {
            for count in 0..8usize {
                let mut lp = Listpack::new();
                for i in &base {
                    lp.push_back(i);
                }
                lp.delete_range(index, count);
                let mut model = base.clone();
                let start = if index < 0 { 6 + index } else { index };
                if (0..6).contains(&start) {
                    let end = (start as usize + count).min(6);
                    model.drain(start as usize..end);
                }
                assert_eq!(check(&lp), model, "index {index} count {count}");
            }
        }
    }

    #[test]
    fn find_compares_integers_as_integers_and_honours_skip() {
        let lp = of(&[b"f1", b"10", b"10", b"v", b"x", b"010"]);
        let first = lp.first().unwrap();
        assert_eq!(lp.find(first, b"10", 0), lp.seek(1));
        // Fields only: index 0, 2, 4.
        assert_eq!(lp.find(first, b"10", 1), lp.seek(2));
        assert_eq!(lp.find(first, b"v", 1), None);
        assert_eq!(lp.find(first, b"010", 0), lp.seek(5));
        assert_eq!(lp.find(first, b"010", 1), None);
        assert_eq!(lp.find(first, b"+10", 0), None);
        assert_eq!(lp.find(lp.seek(3).unwrap(), b"x", 0), lp.seek(4));
    }

    #[test]
    fn values_convert() {
        assert!(LpValue::Int(-5).eq_bytes(b"-5"));
        assert!(!LpValue::Int(5).eq_bytes(b"05"));
        assert!(LpValue::Str(b"05").eq_bytes(b"05"));
        assert_eq!(LpValue::Int(i64::MIN).to_vec(), b"-9223372036854775808");
        assert_eq!(LpValue::Str(b"12").as_i64(), Some(12));
        assert_eq!(LpValue::Str(b"x").as_i64(), None);
        let mut out = b"<".to_vec();
        LpValue::Int(42).write_to(&mut out);
        assert_eq!(out, b"<42");
    }

    #[test]
    fn count_header_saturates_at_65535_like_redis() {
        let mut lp = Listpack::new();
        for i in 0..65_536 {
            lp.push_back_int(i % 100);
        }
        assert_eq!(lp.header_count(), COUNT_UNKNOWN);
        assert_eq!(lp.len(), 65_536);
        assert_eq!(lp.get(lp.seek(-1).unwrap()), LpValue::Int(35));
        assert_eq!(lp.get(lp.seek(65_535).unwrap()), LpValue::Int(35));
        assert_eq!(lp.seek(65_536), None);
        lp.delete_range(0, 65_530);
        // Redis leaves an unknown count unknown until it is counted again.
        assert_eq!(lp.header_count(), COUNT_UNKNOWN);
        assert_eq!(lp.len(), 6);
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }

    #[test]
    fn from_bytes_rejects_malformed_blobs() {
        let good = of(&[b"a", b"300", &[b'x'; 200]]).into_bytes();
        assert!(Listpack::from_bytes(good.clone()).is_ok());
        assert_eq!(
            Listpack::from_bytes(vec![6, 0, 0, 0, 0, 0]),
            Err(ListpackError::TooShort { len: 6 })
        );
        let mut b = good.clone();
        b.push(0xFF);
        assert!(matches!(
            Listpack::from_bytes(b),
            Err(ListpackError::SizeMismatch { .. })
        ));
        let mut b = good.clone();
        *b.last_mut().unwrap() = 0;
        assert_eq!(Listpack::from_bytes(b), Err(ListpackError::MissingEnd));
        let mut b = good.clone();
        b[4] = 2;
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::CountMismatch {
                header: 2,
                counted: 3
            })
        );
        let mut b = good.clone();
        b[4] = 0xFF;
        b[5] = 0xFF;
        assert!(Listpack::from_bytes(b).is_ok());
        let mut b = good.clone();
        b[6] = 0xF5;
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::BadEntry { offset: 6 })
        );
        let mut b = good.clone();
        b[8] = 3; // backlen of "a"
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::BadEntry { offset: 6 })
        );
        let mut b = good.clone();
        b[6] = 0xFF;
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::EarlyEnd { offset: 6 })
        );
        // A string length running past the end, including a 32-bit one near 4 GiB.
        let b = hex("0d000000 0100 f0 ffffffff 05 ff");
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::BadEntry { offset: 6 })
        );
        let b = hex("09000000 0100 e5 01 ff");
        assert!(Listpack::from_bytes(b).is_err());
        // Every truncation and every single-byte corruption is rejected or valid, never a panic.
        for cut in 0..good.len() {
            let _ = Listpack::from_bytes(good[..cut].to_vec());
        }
        for i in 0..good.len() {
            for v in [
                0u8, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xEF, 0xF0, 0xF4, 0xFE, 0xFF,
            ] {
                let mut b = good.clone();
                b[i] = v;
                if let Ok(lp) = Listpack::from_bytes(b) {
                    check(&lp);
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushBack(Vec<u8>),
        PushFront(Vec<u8>),
        PushBackInt(i64),
        InsertBefore(usize, Vec<u8>),
        InsertAfter(usize, Vec<u8>),
        Replace(usize, Vec<u8>),
        Delete(usize),
        DeleteRange(i64, usize),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            2 => (-5000i64..5000).prop_map(|n| n.to_string().into_bytes()),
            4 => proptest::collection::vec(any::<u8>(), 0..80),
            1 => proptest::collection::vec(any::<u8>(), 120..300),
            1 => (4090usize..4100).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            value().prop_map(Op::PushBack),
            value().prop_map(Op::PushFront),
            any::<i64>().prop_map(Op::PushBackInt),
            (any::<usize>(), value()).prop_map(|(i, v)| Op::InsertBefore(i, v)),
            (any::<usize>(), value()).prop_map(|(i, v)| Op::InsertAfter(i, v)),
            (any::<usize>(), value()).prop_map(|(i, v)| Op::Replace(i, v)),
            any::<usize>().prop_map(Op::Delete),
            (-12i64..12, 0usize..6).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        ]
    }

    proptest! {
        #[test]
        fn random_ops_match_a_vec_model(ops in proptest::collection::vec(op(), 1..60)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                let n = model.len();
                match op {
                    Op::PushBack(v) => { lp.push_back(&v); model.push(v); }
                    Op::PushFront(v) => { lp.push_front(&v); model.insert(0, v); }
                    Op::PushBackInt(i) => { lp.push_back_int(i); model.push(i.to_string().into_bytes()); }
                    Op::InsertBefore(i, v) if n > 0 => {
                        let p = lp.seek((i % n) as i64).unwrap();
                        let q = lp.insert_before(p, &v);
                        prop_assert!(lp.get(q).eq_bytes(&v));
                        model.insert(i % n, v);
                    }
                    Op::InsertAfter(i, v) if n > 0 => {
                        let p = lp.seek((i % n) as i64).unwrap();
                        let q = lp.insert_after(p, &v);
                        prop_assert!(lp.get(q).eq_bytes(&v));
                        model.insert(i % n + 1, v);
                    }
                    Op::Replace(i, v) if n > 0 => {
                        let p = lp.seek(-1 - (i % n) as i64).unwrap();
                        let q = lp.replace(p, &v);
                        prop_assert!(lp.get(q).eq_bytes(&v));
                        model[n - 1 - i % n] = v;
                    }
                    Op::Delete(i) if n > 0 => {
                        let p = lp.seek((i % n) as i64).unwrap();
                        let next = lp.delete(p);
                        model.remove(i % n);
                        prop_assert_eq!(next.map(|q| lp.get(q).to_vec()), model.get(i % n).cloned());
                    }
                    Op::DeleteRange(i, c) => {
                        lp.delete_range(i, c);
                        let start = if i < 0 { n as i64 + i } else { i };
                        if (0..n as i64).contains(&start) {
                            let end = (start as usize + c).min(n);
                            model.drain(start as usize..end);
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(&check(&lp), &model);
                for (k, item) in model.iter().enumerate() {
                    let p = lp.seek(k as i64 - model.len() as i64).unwrap();
                    prop_assert!(lp.get(p).eq_bytes(item));
                    prop_assert_eq!(lp.find(lp.first().unwrap(), item, 0).map(|q| lp.get(q).to_vec()), Some(item.clone()));
                }
            }
        }
    }
}
