//! Redis's number rules: which strings are numbers, and how numbers are printed.
//!
//! Parsing is strict like Redis 7.0's `string2ll`/`string2d`/`string2ld` (no surrounding spaces,
//! the whole string must be the number). Printing reproduces C's `%lld`, `%.17g` (doubles in
//! replies), the "human" form of INCRBYFLOAT and GEOPOS's `%.17Lf`, without allocating where a
//! caller writes into its own buffer.

use std::fmt::Write as _;

/// Longest decimal `i64`: `-9223372036854775808`.
pub const MAX_I64_LEN: usize = 20;

/// Longest string `parse_long_double` looks at (Redis's `MAX_LONG_DOUBLE_CHARS`).
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Parses a decimal `i64` exactly as Redis's `string2ll`: an optional `-`, then `0` alone or a
/// digit 1-9 followed by digits; at most 20 bytes; no `+`, spaces, leading zeros or `-0`;
/// overflow is rejected.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        None => return None,
        Some((b'0', [])) => return Some(0),
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, s),
    };
    if s.len() > MAX_I64_LEN {
        return None;
    }
    let v = parse_u64_digits(digits)?;
    if negative {
        // -(i64::MIN) is one more than i64::MAX.
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a decimal `u64` with the same strictness as [`parse_i64`] (no sign at all).
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s == b"0" {
        return Some(0);
    }
    if s.len() > MAX_I64_LEN {
        return None;
    }
    parse_u64_digits(s)
}

/// A non-empty run of digits starting with 1-9, without overflow.
fn parse_u64_digits(digits: &[u8]) -> Option<u64> {
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Parses a double exactly as Redis's `string2d` (`getDoubleFromObject`: ZADD scores,
/// INCRBYFLOAT's increment is parsed by [`parse_long_double`]): the whole string must be what C's
/// `strtod` reads, so `+1.5`, `.5`, `5.`, `1e3`, `0x1p4` (hex floats), `inf`, `-Infinity` are
/// accepted; a leading space, `nan`, overflow (`1e400`) and underflow to zero (`1e-400`) are not.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let value = strtod_whole(s)?;
    match value {
        Strtod::Finite(v) => Some(v),
        Strtod::Infinite(v) => Some(v),
        Strtod::Overflow | Strtod::Underflow { .. } => None,
    }
}

/// Parses a double as a bare C `strtod` call that must consume the whole string (Redis's score
/// range bounds, `zslParseRange`): leading white space is skipped, an empty string reads as 0,
/// overflow gives an infinity and underflow a zero; NaN is rejected.
pub fn parse_strtod(s: &[u8]) -> Option<f64> {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r'))
        .unwrap_or(s.len());
    if s.is_empty() {
        return Some(0.0);
    }
    // Only spaces: nothing converted, so the end pointer stays on the first space.
    let s = &s[start..];
    if s.is_empty() {
        return None;
    }
    let negative = s[0] == b'-';
    match strtod_whole(s)? {
        Strtod::Finite(v) | Strtod::Infinite(v) => Some(v),
        Strtod::Overflow if negative => Some(f64::NEG_INFINITY),
        Strtod::Overflow => Some(f64::INFINITY),
        Strtod::Underflow { negative, .. } => Some(if negative { -0.0 } else { 0.0 }),
    }
}

/// Parses a `long double` argument like Redis's `string2ld`, approximated in `f64`.
///
/// Redis reads these into an x87 80-bit `long double`; INCRBYFLOAT uses the exact model in
/// [`crate::long_double`], this is the `f64` approximation. The grammar is the
/// one of [`parse_f64`] (at most 5119 bytes). Differences that follow from the narrower type:
/// magnitudes between `f64::MAX` and about `1.19e4932` are rejected (Redis accepts them), and
/// values that underflow `f64` but not `long double` read as zero (Redis would print them as `0`
/// anyway, since INCRBYFLOAT prints 17 fractional digits).
pub fn parse_long_double(s: &[u8]) -> Option<f64> {
    if s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    match strtod_whole(s)? {
        Strtod::Finite(v) | Strtod::Infinite(v) => Some(v),
        Strtod::Overflow => None,
        Strtod::Underflow {
            negative,
            decimal_exponent,
        } => {
            // The smallest x87 subnormal is about 3.6e-4951.
            if decimal_exponent < -4950 {
                None
            } else if negative {
                Some(-0.0)
            } else {
                Some(0.0)
            }
        }
    }
}

/// What `strtod` made of a whole string.
enum Strtod {
    Finite(f64),
    /// `inf` / `infinity` spelled out (no ERANGE in C).
    Infinite(f64),
    /// Out of range: C returns HUGE_VAL with ERANGE.
    Overflow,
    /// A nonzero number that rounds to zero: C returns 0 with ERANGE. `decimal_exponent`
    /// approximates the base-10 exponent of the value.
    Underflow {
        negative: bool,
        decimal_exponent: i64,
    },
}

/// Reads `s` the way glibc's `strtod` does in the C locale, requiring that the whole string is
/// consumed and that it does not start with white space. NaN is rejected (Redis rejects it).
fn strtod_whole(s: &[u8]) -> Option<Strtod> {
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return None,
    };
    let sign = if negative { -1.0 } else { 1.0 };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Strtod::Infinite(sign * f64::INFINITY));
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return parse_hex(&body[2..], negative);
    }
    // Decimal: digits [ '.' digits ] [ e [sign] digits ], with at least one mantissa digit.
    let mut i = 0;
    let mut mantissa_digits = 0usize;
    let mut nonzero = false;
    let mut first_nonzero_pos: Option<i64> = None; // position relative to the point
    let mut int_digits: i64 = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        if body[i] != b'0' && first_nonzero_pos.is_none() {
            first_nonzero_pos = Some(int_digits);
        }
        nonzero |= body[i] != b'0';
        int_digits += 1;
        mantissa_digits += 1;
        i += 1;
    }
    let mut frac_digits: i64 = 0;
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            frac_digits += 1;
            if body[i] != b'0' && first_nonzero_pos.is_none() {
                first_nonzero_pos = Some(int_digits + frac_digits - 1);
            }
            nonzero |= body[i] != b'0';
            mantissa_digits += 1;
            i += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    let mut exponent: i64 = 0;
    if i < body.len() && (body[i] | 0x20) == b'e' {
        i += 1;
        // strtod stops before the 'e' without a digit: the string is not wholly a number.
        exponent = scan_exponent(body, &mut i)?;
    }
    if i != body.len() {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let magnitude: f64 = text.parse().ok()?;
    if magnitude.is_infinite() {
        return Some(Strtod::Overflow);
    }
    if magnitude == 0.0 && nonzero {
        let decimal_exponent = int_digits - 1 - first_nonzero_pos.unwrap_or(0) + exponent;
        return Some(Strtod::Underflow {
            negative,
            decimal_exponent,
        });
    }
    Some(Strtod::Finite(sign * magnitude))
}

/// The exponent of a float literal after its `e` or `p`: an optional sign and at least one
/// digit, read from `s[*i..]` (moving `*i` past it), its magnitude capped far beyond any
/// meaningful exponent. `None` without a digit: `strtod` would stop before the letter.
pub(crate) fn scan_exponent(s: &[u8], i: &mut usize) -> Option<i64> {
    let negative = match s.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    };
    let start = *i;
    let mut e: i64 = 0;
    while *i < s.len() && s[*i].is_ascii_digit() {
        e = (e * 10 + i64::from(s[*i] - b'0')).min(1 << 40);
        *i += 1;
    }
    (*i > start).then_some(if negative { -e } else { e })
}

/// A hexadecimal float as `strtod`/`strtold` read it after the `0x`: hexdigits [ '.'
/// hexdigits ] [ (p|P) [sign] digits ]. Up to 120 significant bits are kept in `mantissa`;
/// later nonzero digits set `sticky`. The value is `mantissa * 2^exp2` (plus the sticky
/// fraction).
pub(crate) struct HexFloat {
    pub mantissa: u128,
    pub exp2: i64,
    pub sticky: bool,
}

/// Scans the whole of `s` as a [`HexFloat`]; `None` on a syntax error.
pub(crate) fn scan_hex_float(s: &[u8]) -> Option<HexFloat> {
    let mut mantissa: u128 = 0;
    let mut sticky = false;
    // Binary exponent adjustment: +4 for each integer digit dropped, -4 for each fraction digit kept.
    let mut exp2: i64 = 0;
    let mut digits = 0usize;
    let mut i = 0;
    let mut seen_point = false;
    while i < s.len() {
        let b = s[i];
        if b == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mantissa >> 116 == 0 {
            mantissa = (mantissa << 4) | u128::from(d);
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        i += 1;
        exp2 += scan_exponent(s, &mut i)?;
    }
    (i == s.len()).then_some(HexFloat {
        mantissa,
        exp2,
        sticky,
    })
}

/// `strtod`'s hexadecimal form after the `0x`.
fn parse_hex(s: &[u8], negative: bool) -> Option<Strtod> {
    let HexFloat {
        mut mantissa,
        mut exp2,
        mut sticky,
    } = scan_hex_float(s)?;
    // Keep the leading 60 bits (whole hex digits), as many as a double's rounding needs.
    while mantissa >> 60 != 0 {
        sticky |= mantissa & 0xf != 0;
        mantissa >>= 4;
        exp2 += 4;
    }
    let mantissa = mantissa as u64;
    if mantissa == 0 {
        return Some(Strtod::Finite(if negative { -0.0 } else { 0.0 }));
    }
    // The mantissa has at most 60 bits; fold the dropped digits into its lowest bit so that
    // rounding to 53 bits sees them.
    let m = (mantissa << 1 | u64::from(sticky)) as f64;
    let e = exp2 - 1;
    let magnitude = scale_by_pow2(m, e);
    if magnitude.is_infinite() {
        return Some(Strtod::Overflow);
    }
    if magnitude == 0.0 {
        let decimal_exponent = ((e as f64 + (m.log2())) * std::f64::consts::LOG10_2) as i64;
        return Some(Strtod::Underflow {
            negative,
            decimal_exponent,
        });
    }
    Some(Strtod::Finite(if negative {
        -magnitude
    } else {
        magnitude
    }))
}

/// `m * 2^e`, in steps that cannot overflow the exponent of an intermediate.
fn scale_by_pow2(mut m: f64, mut e: i64) -> f64 {
    while e > 0 && m.is_finite() {
        let step = e.min(1000);
        m *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && m != 0.0 {
        let step = e.max(-1000);
        m *= 2f64.powi(step as i32);
        e -= step;
    }
    m
}

/// Writes `n` in decimal into `buf` and returns the digits (C's `%lld`, Redis's `ll2string`).
pub fn format_i64(n: i64, buf: &mut [u8; MAX_I64_LEN]) -> &[u8] {
    let mut v = n.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

/// Writes `n` in decimal into `buf` and returns the digits.
pub fn format_u64(n: u64, buf: &mut [u8; MAX_I64_LEN]) -> &[u8] {
    let mut v = n;
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[pos..]
}

/// A fixed-size text buffer for `core::fmt` output, so formatting a number allocates nothing.
struct StackText {
    buf: [u8; 40],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            buf: [0; 40],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends `d` formatted as C's `printf("%.17g", d)` with glibc: how Redis 7.0 prints doubles in
/// replies (`addReplyDouble`: ZSCORE, ZINCRBY, GEODIST...). NaN prints `nan` or `-nan` (by its
/// sign bit) and infinities `inf`/`-inf`, as glibc does.
pub fn write_g17(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(if d.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // 17 significant digits, correctly rounded (ties to even, like glibc): "d.dddddddddddddddde<x>".
    let mut sci = StackText::new();
    let _ = write!(sci, "{:.16e}", d.abs());
    let text = sci.as_bytes();
    let Some(e_pos) = text.iter().position(|&b| b == b'e') else {
        return;
    };
    let exponent = parse_exponent(&text[e_pos + 1..]);
    let mut digits = [0u8; 17];
    let mut n = 0;
    for &b in &text[..e_pos] {
        if b.is_ascii_digit() && n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    // %g drops trailing zeros of the significand.
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if d < 0.0 {
        out.push(b'-');
    }
    if (-4..17).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
                out.resize(out.len() + int_len - digits.len(), b'0');
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exponent - 1) as usize, b'0');
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let abs = exponent.unsigned_abs();
        if abs < 10 {
            out.push(b'0');
        }
        let mut buf = [0u8; MAX_I64_LEN];
        out.extend_from_slice(format_u64(u64::from(abs), &mut buf));
    }
}

fn parse_exponent(s: &[u8]) -> i32 {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let v = digits
        .iter()
        .fold(0i32, |acc, &b| acc * 10 + i32::from(b.wrapping_sub(b'0')));
    if negative { -v } else { v }
}

/// `d` as C's `printf("%.17g", d)`; see [`write_g17`].
pub fn format_g17(d: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_g17(d, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `d` as Redis's `addReplyHumanLongDouble` prints an exact double (GEOPOS, GEORADIUS
/// WITHCOORD): C's `%.17Lf` of the value, trailing fractional zeros and a bare `.` removed,
/// `-0` as `0`, `inf`/`-inf`. It shows the binary value as it is
/// (`13.36138933897018433`), which is what Redis does since the `long double` holds the `f64`
/// exactly.
pub fn write_fixed17(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(if d.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    let fixed = format!("{d:.17}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    out.extend_from_slice(if trimmed == "-0" { "0" } else { trimmed }.as_bytes());
}

/// Appends `d` as Redis's `d2string` does (sorted-set scores stored in a listpack, and the text
/// of a score where Redis converts it to a string): `nan`, `inf`/`-inf`, `0`/`-0`, an integer
/// form when the value is integral and within ±2^62, otherwise `%.17g`.
pub fn write_d2string(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
    } else if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else if let Some(n) = double_to_i64(d) {
        let mut buf = [0u8; MAX_I64_LEN];
        out.extend_from_slice(format_i64(n, &mut buf));
    } else {
        write_g17(d, out);
    }
}

/// Redis's `double2ll`: `d` as an `i64` when it is integral and within ±(i64::MAX / 2).
pub fn double_to_i64(d: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None;
    }
    let n = d as i64;
    (n as f64 == d).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_is_as_strict_as_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"1.0",
            b"1e3",
            b"0x10",
            b"1\0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_u64_takes_the_whole_range() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"007"), None);
    }

    #[test]
    fn parse_f64_accepts_what_strtod_reads_whole() {
        let ok: &[(&[u8], f64)] = &[
            (b"1", 1.0),
            (b"+1.5", 1.5),
            (b"-.5", -0.5),
            (b"5.", 5.0),
            (b"1e3", 1000.0),
            (b"1E+03", 1000.0),
            (b"0x10", 16.0),
            (b"0x1.8p1", 3.0),
            (b"-0X.8", -0.5),
            (b"1e-310", 1e-310),
            (b"0e-400", 0.0),
            (b"007", 7.0),
        ];
        for &(s, v) in ok {
            assert_eq!(parse_f64(s), Some(v), "{:?}", String::from_utf8_lossy(s));
        }
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+INF"), Some(f64::INFINITY));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"-nan",
            b"1e400",
            b"1e-400",
            b"1e",
            b"e5",
            b".",
            b"-",
            b"0x",
            b"0x1p",
            b"infinit",
            b"1,5",
            b"1\0",
            b"- 1",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_long_double_reads_zero_for_f64_underflow() {
        assert_eq!(parse_long_double(b"1e-400"), Some(0.0));
        assert_eq!(parse_long_double(b"1e-5000"), None);
        assert_eq!(parse_long_double(b"1e400"), None);
        assert_eq!(parse_long_double(b"10.5"), Some(10.5));
        assert_eq!(parse_long_double(b"nan"), None);
        assert_eq!(parse_long_double(&[b'1'; 5120]), None);
    }

    #[test]
    fn format_i64_covers_the_extremes() {
        let mut buf = [0u8; MAX_I64_LEN];
        assert_eq!(format_i64(0, &mut buf), b"0");
        assert_eq!(format_i64(-42, &mut buf), b"-42");
        assert_eq!(format_i64(i64::MIN, &mut buf), b"-9223372036854775808");
        assert_eq!(format_i64(i64::MAX, &mut buf), b"9223372036854775807");
        assert_eq!(format_u64(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[test]
    fn format_g17_matches_glibc_printf() {
        // Expected texts from printf("%.17g") (glibc), also what redis-cli shows for ZSCORE.
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (-0.0, "-0"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.5e17, "1.5e+17"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1e-5, "1.0000000000000001e-05"),
            (2f64.powi(-25), "2.9802322387695312e-08"),
            (1e300, "1.0000000000000001e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_g17(d), want, "{d:e}");
        }
    }

    #[test]
    fn fixed17_prints_geopos_coordinates() {
        // GEOADD g 13.361389 38.115556 p; GEOPOS g p (redis-server 7.0.15).
        let mut out = Vec::new();
        write_fixed17(13.361389338970184, &mut out);
        out.push(b' ');
        write_fixed17(38.1155563954963, &mut out);
        out.push(b' ');
        write_fixed17(-0.0, &mut out);
        out.push(b' ');
        write_fixed17(2.5, &mut out);
        assert_eq!(out, b"13.36138933897018433 38.11555639549629859 0 2.5");
    }

    #[test]
    fn d2string_prefers_integers() {
        let mut out = Vec::new();
        for (d, want) in [
            (3.0, &b"3"[..]),
            (-0.0, b"-0"),
            (1.5, b"1.5"),
            (f64::NAN, b"nan"),
            (1e300, b"1.0000000000000001e+300"),
        ] {
            out.clear();
            write_d2string(d, &mut out);
            assert_eq!(out, want);
        }
    }
}
