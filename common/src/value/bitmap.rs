//! Bits of a string value, as Redis's bitmap commands address them: bit 0 is the most
//! significant bit of byte 0. Pure functions over byte slices; the commands own the keyspace.
//!
//! Counting and searching go a 64-bit word at a time; the bitfield integers read and write
//! through a 9-byte window, wide enough for 64 bits at any bit alignment.

/// Set bits in `bytes`.
pub fn popcount(bytes: &[u8]) -> u64 {
    // Four independent sums per 32 bytes let the CPU overlap the popcounts.
    let mut blocks = bytes.chunks_exact(32);
    let mut sums = [0u64; 4];
    for block in &mut blocks {
        for (sum, word) in sums.iter_mut().zip(block.chunks_exact(8)) {
            *sum += u64::from(word_ne(word).count_ones());
        }
    }
    let mut words = blocks.remainder().chunks_exact(8);
    let mut total: u64 = sums.iter().sum();
    for word in &mut words {
        total += u64::from(word_ne(word).count_ones());
    }
    total
        + words
            .remainder()
            .iter()
            .map(|b| u64::from(b.count_ones()))
            .sum::<u64>()
}

/// Set bits between bit offsets `first` and `last`, both included. The caller keeps
/// `first <= last < bytes.len() * 8`.
pub fn count_range(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = (byte_index(first), byte_index(last));
    let head = mask(first, 7);
    let tail = mask(0, last);
    if first_byte == last_byte {
        return u64::from((bytes[first_byte] & head & tail).count_ones());
    }
    u64::from((bytes[first_byte] & head).count_ones())
        + popcount(&bytes[first_byte + 1..last_byte])
        + u64::from((bytes[last_byte] & tail).count_ones())
}

/// The offset of the first bit equal to `bit` between `first` and `last`, both included, if
/// any. The caller keeps `first <= last < bytes.len() * 8`.
pub fn position(bytes: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (first_byte, last_byte) = (byte_index(first), byte_index(last));
    // Searching for a clear bit is searching the complement for a set one.
    let wanted = |b: u8| if bit { b } else { !b };
    let found = |b: u8, at: usize| (b != 0).then(|| bit_offset(at) + u64::from(b.leading_zeros()));
    let head = mask(first, 7);
    let tail = mask(0, last);
    if first_byte == last_byte {
        return found(wanted(bytes[first_byte]) & head & tail, first_byte);
    }
    if let Some(pos) = found(wanted(bytes[first_byte]) & head, first_byte) {
        return Some(pos);
    }
    let middle = &bytes[first_byte + 1..last_byte];
    let mut words = middle.chunks_exact(8);
    let mut at = first_byte + 1;
    for word in &mut words {
        // Big-endian, so the leading zeros count bits in string order.
        let w = u64::from_be_bytes(word_array(word));
        let w = if bit { w } else { !w };
        if w != 0 {
            return Some(bit_offset(at) + u64::from(w.leading_zeros()));
        }
        at += 8;
    }
    for &b in words.remainder() {
        if let Some(pos) = found(wanted(b), at) {
            return Some(pos);
        }
        at += 1;
    }
    found(wanted(bytes[last_byte]) & tail, last_byte)
}

/// The bit at `offset`; bits past the end read as 0.
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    usize::try_from(offset / 8)
        .ok()
        .and_then(|i| bytes.get(i))
        .is_some_and(|b| b & (0x80 >> (offset % 8)) != 0)
}

/// Sets or clears the bit at `offset`, returning its old value. The caller has grown `bytes`
/// to hold it.
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = &mut bytes[byte_index(offset)];
    let bit = 0x80 >> (offset % 8);
    let old = *byte & bit != 0;
    if on {
        *byte |= bit;
    } else {
        *byte &= !bit;
    }
    old
}

/// The `bits`-wide (1 to 64) unsigned integer at bit `offset`, most significant bit first; bits
/// past the end read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    let window = read_window(bytes, offset);
    ((window << (offset % 8)) >> (128 - bits)) as u64
}

/// The `bits`-wide (1 to 64) two's complement integer at bit `offset`.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let raw = get_unsigned(bytes, offset, bits);
    // Shifting the field's sign bit to the top and back spreads it over the high bits.
    ((raw << (64 - bits)) as i64) >> (64 - bits)
}

/// Writes the low `bits` bits (1 to 64) of `value` at bit `offset`. The caller has grown
/// `bytes` to hold `offset + bits` bits.
pub fn set_unsigned(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    debug_assert!((1..=64).contains(&bits));
    let start = byte_index(offset);
    let shift = 128 - bits - (offset % 8) as u32;
    let field = (u128::MAX >> (128 - bits)) << shift;
    let window = read_window(bytes, offset);
    let updated = (window & !field) | ((u128::from(value) << shift) & field);
    let end = bytes.len().min(start + WINDOW);
    let out = updated.to_be_bytes();
    bytes[start..end].copy_from_slice(&out[..end - start]);
}

/// What BITFIELD SET and INCRBY do with a result that does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (modular arithmetic).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Leave the field alone and answer nil.
    Fail,
}

/// `value + incr` in an unsigned field of `bits` (1 to 63) bits, or `None` when it overflows
/// under [`Overflow::Fail`]. A SET passes the new value (as two's complement) with `incr` 0, so
/// a negative one overflows upwards, as in Redis.
pub fn add_unsigned(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let sum = i128::from(value) + i128::from(incr);
    let limit = if value > max || sum > i128::from(max) {
        max
    } else if sum < 0 {
        0
    } else {
        return Some(sum as u64);
    };
    match overflow {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
        Overflow::Sat => Some(limit),
        Overflow::Fail => None,
    }
}

/// `value + incr` in a signed field of `bits` (1 to 64) bits, or `None` when it overflows
/// under [`Overflow::Fail`].
///
/// The direction of an overflow follows Redis's 64-bit test, which wraps for a SET value far
/// below the field's range: `SET i8 0 -9223372036854775808` under SAT stores 127, not -128.
pub fn add_signed(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = (i64::MAX as u64 >> (64 - bits)) as i64;
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let narrow = bits != 64;
    let limit = if value > max
        || (narrow && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr)
    {
        max
    } else if value < min
        || (narrow && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        min
    } else {
        return Some(value.wrapping_add(incr));
    };
    match overflow {
        Overflow::Wrap => {
            let wrapped = value.wrapping_add(incr) as u64;
            Some(((wrapped << (64 - bits)) as i64) >> (64 - bits))
        }
        Overflow::Sat => Some(limit),
        Overflow::Fail => None,
    }
}

/// The BITOP operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP over `sources`, shorter ones padded with zero bytes: the result is as long as the
/// longest source (NOT takes the first source only).
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    if op == BitOp::Not {
        return first.iter().map(|b| !b).collect();
    }
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    out[..first.len()].copy_from_slice(first);
    for source in rest {
        combine(op, &mut out, source);
    }
    out
}

/// Folds one source into `out`, a word at a time; `out` is at least as long as `source`.
fn combine(op: BitOp, out: &mut [u8], source: &[u8]) {
    let apply = |a: u64, b: u64| match op {
        BitOp::And => a & b,
        BitOp::Or => a | b,
        BitOp::Xor | BitOp::Not => a ^ b,
    };
    let (head, tail) = out.split_at_mut(source.len());
    let mut outs = head.chunks_exact_mut(8);
    let mut ins = source.chunks_exact(8);
    for (o, i) in (&mut outs).zip(&mut ins) {
        let value = apply(word_ne(o), word_ne(i));
        o.copy_from_slice(&value.to_ne_bytes());
    }
    for (o, i) in outs.into_remainder().iter_mut().zip(ins.remainder()) {
        *o = apply(u64::from(*o), u64::from(*i)) as u8;
    }
    // Past the source's end it reads as zeros: only AND changes anything there.
    if op == BitOp::And {
        tail.fill(0);
    }
}

/// Bytes read around a bitfield: 64 bits at offset 7 within a byte span 9 bytes.
const WINDOW: usize = 9;

/// Up to [`WINDOW`] bytes from the byte holding `offset`, zero past the end, in the top of a
/// big-endian `u128`.
fn read_window(bytes: &[u8], offset: u64) -> u128 {
    let mut buf = [0u8; 16];
    if let Some(tail) = usize::try_from(offset / 8)
        .ok()
        .and_then(|start| bytes.get(start..))
    {
        let n = tail.len().min(WINDOW);
        buf[..n].copy_from_slice(&tail[..n]);
    }
    u128::from_be_bytes(buf)
}

/// The bits from `first % 8` to `last % 8` of one byte, both included (bit 0 is the MSB).
fn mask(first: u64, last: u64) -> u8 {
    (0xffu8 >> (first % 8)) & (0xffu8 << (7 - last % 8))
}

/// The byte holding bit `offset`; callers index within a slice, so the offset fits.
fn byte_index(offset: u64) -> usize {
    usize::try_from(offset / 8).unwrap_or(usize::MAX)
}

fn bit_offset(byte: usize) -> u64 {
    byte as u64 * 8
}

fn word_array(word: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(word);
    a
}

fn word_ne(word: &[u8]) -> u64 {
    u64::from_ne_bytes(word_array(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit by bit, as the reference for the word-at-a-time versions.
    fn bits(bytes: &[u8]) -> Vec<bool> {
        (0..bytes.len() as u64 * 8)
            .map(|i| get_bit(bytes, i))
            .collect()
    }

    fn sample(len: usize) -> Vec<u8> {
        let mut x: u32 = 0x1234_5678;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Runs of all-zero and all-one bytes exercise the word skipping.
                match x % 5 {
                    0 => 0,
                    1 => 0xff,
                    _ => x as u8,
                }
            })
            .collect()
    }

    #[test]
    fn popcount_matches_bit_by_bit() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 100, 257] {
            let bytes = sample(len);
            let expected = bits(&bytes).iter().filter(|b| **b).count() as u64;
            assert_eq!(popcount(&bytes), expected, "len {len}");
        }
    }

    #[test]
    fn count_range_and_position_match_bit_by_bit() {
        let bytes = sample(45);
        let reference = bits(&bytes);
        let n = reference.len() as u64;
        for first in (0..n).step_by(3) {
            for last in (first..n).step_by(7) {
                let slice = &reference[first as usize..=last as usize];
                let ones = slice.iter().filter(|b| **b).count() as u64;
                assert_eq!(count_range(&bytes, first, last), ones, "{first}..={last}");
                for bit in [false, true] {
                    let expected = slice
                        .iter()
                        .position(|b| *b == bit)
                        .map(|p| p as u64 + first);
                    assert_eq!(position(&bytes, bit, first, last), expected);
                }
            }
        }
    }

    #[test]
    fn position_skips_whole_words() {
        let mut bytes = vec![0u8; 40];
        bytes[37] = 0x10;
        assert_eq!(position(&bytes, true, 0, 319), Some(37 * 8 + 3));
        assert_eq!(position(&bytes, true, 0, 37 * 8 + 2), None);
        let ones = vec![0xffu8; 40];
        assert_eq!(position(&ones, false, 0, 319), None);
        assert_eq!(position(&ones, true, 5, 5), Some(5));
    }

    #[test]
    fn bits_set_and_read_back() {
        let mut bytes = vec![0u8; 2];
        assert!(!set_bit(&mut bytes, 1, true));
        assert!(set_bit(&mut bytes, 1, true));
        assert_eq!(bytes, [0x40, 0]);
        assert!(!set_bit(&mut bytes, 15, true));
        assert_eq!(bytes, [0x40, 1]);
        assert!(get_bit(&bytes, 15));
        assert!(!get_bit(&bytes, 16));
        assert!(!get_bit(&bytes, u64::MAX));
    }

    #[test]
    fn bitfields_read_and_write_at_any_alignment() {
        for offset in 0..20u64 {
            for bits in [1u32, 5, 8, 13, 63, 64] {
                let mut bytes = vec![0xa5u8; 12];
                let value = 0x8123_4567_89ab_cdefu64 & (u64::MAX >> (64 - bits));
                set_unsigned(&mut bytes, offset, bits, value);
                assert_eq!(get_unsigned(&bytes, offset, bits), value, "{offset} {bits}");
                // Bits outside the field keep their value.
                let reference = bits_of(&[0xa5; 12]);
                let now = bits_of(&bytes);
                for i in 0..96 {
                    if i < offset as usize || i >= (offset + u64::from(bits)) as usize {
                        assert_eq!(now[i], reference[i], "{offset} {bits} bit {i}");
                    }
                }
            }
        }
        assert_eq!(
            get_unsigned(&[0xff], 4, 8),
            0xf0,
            "past the end reads zeros"
        );
        assert_eq!(get_signed(&[0x80], 0, 8), -128);
        assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
        assert_eq!(get_signed(&[0x40], 0, 2), 1);
        let mut short = vec![0u8; 1];
        set_unsigned(&mut short, 0, 8, 0x1ff);
        assert_eq!(short, [0xff]);
    }

    fn bits_of(bytes: &[u8]) -> Vec<bool> {
        bits(bytes)
    }

    #[test]
    fn unsigned_overflow_rules() {
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Fail), None);
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Wrap), Some(251));
        // A negative SET value is a huge unsigned one: SAT clamps it to the maximum.
        assert_eq!(add_unsigned(-1i64 as u64, 0, 8, Overflow::Sat), Some(255));
        assert_eq!(add_unsigned(-1i64 as u64, 0, 8, Overflow::Wrap), Some(255));
        assert_eq!(
            add_unsigned(1, i64::MAX, 63, Overflow::Sat),
            Some(i64::MAX as u64)
        );
        assert_eq!(add_unsigned(7, 3, 63, Overflow::Fail), Some(10));
    }

    #[test]
    fn signed_overflow_rules() {
        assert_eq!(add_signed(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(add_signed(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(add_signed(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(add_signed(-120, -10, 8, Overflow::Fail), None);
        assert_eq!(add_signed(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(add_signed(i64::MIN, -1, 64, Overflow::Sat), Some(i64::MIN));
        assert_eq!(add_signed(0, 1, 1, Overflow::Wrap), Some(-1));
        assert_eq!(add_signed(200, 0, 8, Overflow::Sat), Some(127));
        assert_eq!(add_signed(-3, 1, 64, Overflow::Fail), Some(-2));
        assert_eq!(add_signed(-200, 0, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            add_signed(i64::MIN, 0, 8, Overflow::Sat),
            Some(127),
            "Redis's wrapped test"
        );
        assert_eq!(add_signed(i64::MIN, 0, 64, Overflow::Fail), Some(i64::MIN));
    }

    #[test]
    fn bitop_pads_with_zeros() {
        let a: &[u8] = &[0xff; 20];
        let b: &[u8] = &[0x0f; 9];
        assert_eq!(bitop(BitOp::And, &[a, b])[..9], [0x0f; 9]);
        assert_eq!(bitop(BitOp::And, &[a, b])[9..], [0; 11]);
        assert_eq!(bitop(BitOp::Or, &[b, a]), vec![0xff; 20]);
        let x = bitop(BitOp::Xor, &[a, b]);
        assert_eq!(x[..9], [0xf0; 9]);
        assert_eq!(x[9..], [0xff; 11]);
        assert_eq!(bitop(BitOp::Not, &[b]), vec![0xf0; 9]);
        assert_eq!(bitop(BitOp::Or, &[b"", b""]), Vec::<u8>::new());
    }
}
