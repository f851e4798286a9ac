//! An exact software model of the x87 80-bit `long double`, as far as INCRBYFLOAT needs it.
//!
//! Redis 7.0 on x86-64 reads INCRBYFLOAT's operands with `strtold`, adds them in `long double`
//! (64-bit significand, round to nearest, ties to even) and prints the sum with `%.17Lf`, then
//! strips trailing zeros (`ld2string(.., LD_STR_HUMAN)`). [`LongDouble::parse`],
//! `LongDouble + LongDouble` and [`LongDouble::write_human`] do the same, exactly: decimal input is
//! converted with arbitrary precision and correctly rounded, and the printed digits come from the
//! exact binary value, rounded half to even, as glibc does.
//!
//! The format: a finite nonzero value is `mantissa * 2^exp`. Normal values have the top mantissa
//! bit set and `MIN_EXP <= exp <= MAX_EXP`; subnormals have `exp == MIN_EXP` and the top bit
//! clear. The smallest subnormal is `2^-16445` and the largest finite value `(2^64-1) * 2^16320`.
//!
//! Work is bounded: inputs are at most 5119 bytes (Redis's `MAX_LONG_DOUBLE_CHARS`), and decimal
//! exponents outside the format's range are decided without big arithmetic, so no intermediate
//! exceeds a few thousand 32-bit limbs.

use std::cmp::Ordering;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects strings of this length or longer.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Exponent (of the unit in the last place) of the smallest subnormal and of the smallest normal.
const MIN_EXP: i64 = -16445;
/// Exponent of the largest finite value's last place.
const MAX_EXP: i64 = 16320;

/// Fractional digits of `%.17Lf`.
const FRACTION_DIGITS: usize = 17;
const TEN_POW_17: u128 = 100_000_000_000_000_000;

/// A `long double` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongDouble {
    Zero {
        negative: bool,
    },
    Finite {
        negative: bool,
        mantissa: u64,
        exp: i32,
    },
    Infinite {
        negative: bool,
    },
    Nan,
}

impl LongDouble {
    /// An integer, exactly (every `i64` fits a 64-bit mantissa).
    pub fn from_i64(n: i64) -> LongDouble {
        let negative = n < 0;
        round(negative, u128::from(n.unsigned_abs()), 0)
    }

    /// Reads `s` as Redis's `string2ld` does: the whole string must be what glibc's `strtold`
    /// reads (no leading white space; decimal with optional `.` fraction and `e` exponent,
    /// hexadecimal `0x..p..`, `inf`/`infinity`, optional sign), shorter than 5120 bytes; NaN and
    /// out-of-range values (overflow, or a nonzero value that rounds to zero) are rejected.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let (negative, body) = match s.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let value = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(&body[2..], negative)?
        } else {
            parse_decimal(body, negative)?
        };
        // strtold's ERANGE results (HUGE_VAL, or zero from a nonzero input) are rejected.
        match value {
            Parsed::Value(v @ (LongDouble::Zero { .. } | LongDouble::Finite { .. })) => Some(v),
            Parsed::Value(_) | Parsed::Underflow => None,
        }
    }

    /// Whether the value is NaN or an infinity.
    pub fn is_finite(self) -> bool {
        matches!(self, LongDouble::Zero { .. } | LongDouble::Finite { .. })
    }

    /// Appends the value as Redis's `ld2string(.., LD_STR_HUMAN)` prints it: `%.17Lf`, then
    /// trailing zeros and a bare `.` removed, `-0` as `0`; infinities as `inf`/`-inf`, NaN as
    /// `nan` (INCRBYFLOAT never prints those).
    pub fn write_human(self, out: &mut Vec<u8>) {
        let (negative, mantissa, exp) = match self {
            LongDouble::Nan => {
                out.extend_from_slice(b"nan");
                return;
            }
            LongDouble::Infinite { negative } => {
                out.extend_from_slice(if negative { b"-inf" } else { b"inf" });
                return;
            }
            LongDouble::Zero { negative } => (negative, 0, 0),
            LongDouble::Finite {
                negative,
                mantissa,
                exp,
            } => (negative, mantissa, i64::from(exp)),
        };
        let start = out.len();
        if negative {
            out.push(b'-');
        }
        let mut fraction = 0u64;
        if exp >= 0 {
            // An integer: mantissa * 2^exp, printed through a big number when it is large.
            let mut big = Big::from_u128(u128::from(mantissa));
            big.shl(exp as usize);
            big.write_decimal(out);
        } else {
            // value * 10^17 = mantissa * 10^17 / 2^k, rounded half to even.
            let k = exp.unsigned_abs();
            let scaled = u128::from(mantissa) * TEN_POW_17; // < 2^121
            let rounded = if k >= 122 {
                0 // scaled < 2^121 <= half of 2^k
            } else {
                let q = scaled >> k;
                let rem = scaled - (q << k);
                let half = 1u128 << (k - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            Big::from_u128(rounded / TEN_POW_17).write_decimal(out);
            fraction = (rounded % TEN_POW_17) as u64;
        }
        // Trailing zeros of the 17 fractional digits go, and the point with them if all do.
        if fraction != 0 {
            let mut digits = [b'0'; FRACTION_DIGITS];
            let mut f = fraction;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
            out.push(b'.');
            out.extend_from_slice(&digits[..len]);
        }
        if &out[start..] == b"-0" {
            out.truncate(start);
            out.push(b'0');
        }
    }

    /// The value as [`LongDouble::write_human`] prints it.
    pub fn to_human(self) -> String {
        let mut out = Vec::with_capacity(32);
        self.write_human(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// `self + other`, rounded to nearest (ties to even) like the x87 unit in its default mode.
    fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::{Finite, Infinite, Nan, Zero};
        match (self, other) {
            (Nan, _) | (_, Nan) => Nan,
            (Infinite { negative: a }, Infinite { negative: b }) => {
                if a == b {
                    self
                } else {
                    Nan
                }
            }
            (Infinite { .. }, _) => self,
            (_, Infinite { .. }) => other,
            (Zero { negative: a }, Zero { negative: b }) => Zero { negative: a && b },
            (Zero { .. }, _) => other,
            (_, Zero { .. }) => self,
            (
                Finite {
                    negative: na,
                    mantissa: ma,
                    exp: ea,
                },
                Finite {
                    negative: nb,
                    mantissa: mb,
                    exp: eb,
                },
            ) => add_finite((na, ma, i64::from(ea)), (nb, mb, i64::from(eb))),
        }
    }
}

/// What the number grammar produced: a value (possibly infinite after overflow) or an underflow
/// to zero of a nonzero input.
enum Parsed {
    Value(LongDouble),
    Underflow,
}

/// Rounds `m * 2^e` to the format: round to nearest, ties to even, subnormals below the normal
/// range, infinity above it. `m` must be below 2^127.
fn round(negative: bool, m: u128, e: i64) -> LongDouble {
    round_sticky(negative, m, e, false)
}

/// Like [`round`], where `sticky` says that the exact value is a little more than `m * 2^e`
/// (by less than `2^e`).
fn round_sticky(negative: bool, mut m: u128, mut e: i64, sticky: bool) -> LongDouble {
    if sticky {
        // An odd last bit below the old one stands for "strictly between m and m + 1": it can be
        // neither exact nor a tie, and lies on the same side of every rounding boundary.
        m = (m << 1) | 1;
        e -= 1;
    }
    if m == 0 {
        return LongDouble::Zero { negative };
    }
    let bits = i64::from(128 - m.leading_zeros());
    // Drop bits down to 64 significant ones, or fewer when the exponent would go below MIN_EXP.
    let shift = (bits - 64).max(MIN_EXP - e);
    let mut mantissa: u128;
    if shift <= 0 {
        mantissa = m << shift.unsigned_abs();
    } else {
        let (q, rem, half) = if shift >= 128 {
            // Everything is dropped; m < 2^127 is below half of 2^shift unless shift == 128.
            (
                0,
                m,
                if shift == 128 {
                    Some(1u128 << 127)
                } else {
                    None
                },
            )
        } else {
            let q = m >> shift;
            (q, m - (q << shift), Some(1u128 << (shift - 1)))
        };
        mantissa = q;
        if let Some(half) = half {
            if rem > half || (rem == half && q & 1 == 1) {
                mantissa += 1;
            }
        }
    }
    e += shift;
    if mantissa >> 64 != 0 {
        mantissa >>= 1; // was exactly 2^64
        e += 1;
    }
    if mantissa == 0 {
        return LongDouble::Zero { negative };
    }
    if e > MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        negative,
        mantissa: mantissa as u64,
        exp: e as i32,
    }
}

/// The exact sum of two finite nonzero values, rounded.
fn add_finite(a: (bool, u64, i64), b: (bool, u64, i64)) -> LongDouble {
    // Let `a` be the one with the larger exponent.
    let (a, b) = if a.2 >= b.2 { (a, b) } else { (b, a) };
    let d = a.2 - b.2;
    // Both are placed 63 bits up, so that `a`'s part is exact and below 2^127; `b` loses bits
    // only when its highest one is far below `a`'s lowest, and those fold into a sticky bit.
    let big_a = u128::from(a.1) << 63;
    let (small_b, sticky) = if d <= 63 {
        (u128::from(b.1) << (63 - d), false)
    } else if d - 63 >= 64 {
        (0, true)
    } else {
        let s = d - 63;
        let kept = u128::from(b.1) >> s;
        (kept, kept << s != u128::from(b.1))
    };
    // The sticky bit is ORed into the last place of `b`: with at least 62 bits dropped from a
    // result of at least 126 bits, that last place is never a rounding boundary.
    let small_b = small_b | u128::from(sticky);
    let e = a.2 - 63;
    if a.0 == b.0 {
        return round(a.0, big_a + small_b, e);
    }
    match big_a.cmp(&small_b) {
        Ordering::Equal => LongDouble::Zero { negative: false },
        Ordering::Greater => round(a.0, big_a - small_b, e),
        Ordering::Less => round(b.0, small_b - big_a, e),
    }
}

/// Decimal: digits [ '.' digits ] [ (e|E) [sign] digits ], at least one mantissa digit.
fn parse_decimal(body: &[u8], negative: bool) -> Option<Parsed> {
    let mut i = 0;
    let int_start = i;
    while i < body.len() && body[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &body[int_start..i];
    let mut frac_part: &[u8] = &[];
    if i < body.len() && body[i] == b'.' {
        i += 1;
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        frac_part = &body[start..i];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exponent: i64 = 0;
    if i < body.len() && (body[i] | 0x20) == b'e' {
        i += 1;
        // strtold stops before the 'e' without a digit: the string is not wholly a number.
        exponent = crate::number::scan_exponent(body, &mut i)?;
    }
    if i != body.len() {
        return None;
    }
    // value = digits * 10^exponent, with the fraction's digits moved into the integer.
    exponent -= frac_part.len() as i64;
    let all = int_part.iter().chain(frac_part.iter()).copied();
    let leading_zeros = all.clone().take_while(|&b| b == b'0').count();
    let total = int_part.len() + frac_part.len();
    if leading_zeros == total {
        return Some(Parsed::Value(LongDouble::Zero { negative }));
    }
    let trailing_zeros = all.clone().rev().take_while(|&b| b == b'0').count();
    exponent += trailing_zeros as i64;
    let significant: Vec<u8> = all
        .skip(leading_zeros)
        .take(total - leading_zeros - trailing_zeros)
        .collect();
    let n = significant.len() as i64;
    // The value is in [10^(n-1+exponent), 10^(n+exponent)). The largest finite value is about
    // 1.19e4932 and half the smallest subnormal about 1.8e-4951.
    if n - 1 + exponent > 4932 {
        return Some(Parsed::Value(LongDouble::Infinite { negative }));
    }
    if n + exponent < -4951 {
        return Some(Parsed::Underflow);
    }
    let mut num = Big::from_decimal(&significant);
    let mut den = Big::from_u128(1);
    if exponent >= 0 {
        num.mul_pow10(exponent as usize);
    } else {
        den.mul_pow10(exponent.unsigned_abs() as usize);
    }
    let (q, e, sticky) = divide_to_bits(num, den);
    Some(finish(round_sticky(negative, q, e, sticky)))
}

/// Hexadecimal after `0x` (syntax in [`crate::number::scan_hex_float`]).
fn parse_hex(s: &[u8], negative: bool) -> Option<Parsed> {
    let crate::number::HexFloat {
        mantissa,
        exp2,
        sticky,
    } = crate::number::scan_hex_float(s)?;
    if mantissa == 0 {
        return Some(Parsed::Value(LongDouble::Zero { negative }));
    }
    Some(finish(round_sticky(negative, mantissa, exp2, sticky)))
}

/// A rounded nonzero input: zero means it underflowed.
fn finish(v: LongDouble) -> Parsed {
    match v {
        LongDouble::Zero { .. } => Parsed::Underflow,
        other => Parsed::Value(other),
    }
}

/// `num / den` as `q * 2^e` with `q` of 67 or 68 bits, plus whether a remainder was left.
fn divide_to_bits(mut num: Big, mut den: Big) -> (u128, i64, bool) {
    // Scale so that 2^66 < num / den < 2^68.
    let s = 67 + den.bit_len() as i64 - num.bit_len() as i64;
    if s >= 0 {
        num.shl(s as usize);
    } else {
        den.shl(s.unsigned_abs() as usize);
    }
    let mut q: u128 = 0;
    den.shl(67);
    for bit in (0..=67).rev() {
        // Here `den` is the original denominator shifted up by `bit`.
        if num.cmp(&den) != Ordering::Less {
            num.sub(&den);
            q |= 1u128 << bit;
        }
        den.shr1();
    }
    (q, -s, !num.is_zero())
}

/// A small unsigned big integer: little-endian 32-bit limbs, no leading zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big {
    limbs: Vec<u32>,
}

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big { limbs }
    }

    /// From ASCII decimal digits.
    fn from_decimal(digits: &[u8]) -> Big {
        let mut big = Big { limbs: Vec::new() };
        for chunk in digits.chunks(9) {
            let mut value = 0u32;
            let mut scale = 1u32;
            for &d in chunk {
                value = value * 10 + u32::from(d - b'0');
                scale *= 10;
            }
            big.mul_small(scale);
            big.add_small(value);
        }
        big
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn bit_len(&self) -> usize {
        match self.limbs.last() {
            None => 0,
            Some(&top) => self.limbs.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.limbs {
            if carry == 0 {
                break;
            }
            let v = u64::from(*limb) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut k: usize) {
        while k >= 9 {
            self.mul_small(1_000_000_000);
            k -= 9;
        }
        if k > 0 {
            self.mul_small(10u32.pow(k as u32));
        }
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() {
            return;
        }
        let (words, bits) = (bits / 32, bits % 32);
        if bits != 0 {
            let mut carry = 0u32;
            for limb in &mut self.limbs {
                let v = (u64::from(*limb) << bits) | u64::from(carry);
                *limb = v as u32;
                carry = (v >> 32) as u32;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        self.limbs.splice(0..0, std::iter::repeat_n(0, words));
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.limbs.iter_mut().rev() {
            let v = *limb;
            *limb = (v >> 1) | (carry << 31);
            carry = v & 1;
        }
        self.trim();
    }

    /// `self -= other`; `other` must not exceed `self`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let o = other.limbs.get(i).copied().map_or(0, i64::from);
            let mut v = i64::from(*limb) - o - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            *limb = v as u32;
        }
        self.trim();
    }

    /// Divides in place by `d` (nonzero) and returns the remainder.
    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// Appends the decimal digits (`0` for zero).
    fn write_decimal(mut self, out: &mut Vec<u8>) {
        let mut chunks = Vec::new();
        while !self.is_zero() {
            chunks.push(self.divmod_small(1_000_000_000));
        }
        match chunks.split_last() {
            None => out.push(b'0'),
            Some((top, rest)) => {
                out.extend_from_slice(top.to_string().as_bytes());
                for chunk in rest.iter().rev() {
                    out.extend_from_slice(format!("{chunk:09}").as_bytes());
                }
            }
        }
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes())?;
        let b = LongDouble::parse(b.as_bytes())?;
        Some((a + b).to_human())
    }

    #[test]
    fn big_arithmetic() {
        let mut b = Big::from_decimal(b"123456789012345678901234567890");
        let copy = b.clone();
        assert_eq!(b.divmod_small(1_000_000_000), 234_567_890);
        b.mul_small(1_000_000_000);
        b.add_small(234_567_890);
        assert_eq!(b, copy);
        b.shl(77);
        assert_eq!(b.bit_len(), copy.bit_len() + 77);
        for _ in 0..77 {
            b.shr1();
        }
        assert_eq!(b, copy);
        let mut ten = Big::from_u128(1);
        ten.mul_pow10(30);
        assert!(ten > copy);
        ten.sub(&copy);
        let mut out = Vec::new();
        ten.write_decimal(&mut out);
        assert_eq!(out, b"876543210987654321098765432110");
        let mut out = Vec::new();
        Big::from_u128(0).write_decimal(&mut out);
        Big::from_u128(u128::MAX).write_decimal(&mut out);
        assert_eq!(out, b"0340282366920938463463374607431768211455");
    }

    #[test]
    fn sums_print_like_redis_incrbyfloat() {
        // (stored value, increment, reply) captured from redis-server 7.0.15 on x86-64:
        // SET k <a>; INCRBYFLOAT k <b>.
        let cases: &[(&str, &str, &str)] = &[
            ("5000", "10.6", "5010.60000000000000009"),
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("0.024390243902439025", "-0.024390243902439025", "0"),
            ("17179869184", "1.5", "17179869185.5"),
            ("1e20", "1", "100000000000000000000"),
            ("1e-20", "0", "0"),
            ("-1e-20", "0", "0"),
            ("-0", "-0", "0"),
            ("100000", "2.2525", "100002.25249999999999773"),
            ("3.0e3", "1.5e-3", "3000.00150000000000006"),
            ("-5.5", "5.5", "0"),
            ("1.1", "-2.2", "-1.1"),
            ("0.000003814697265625", "0", "0.00000381469726562"),
            ("0.000011444091796875", "0", "0.00001144409179688"),
            (
                "1",
                "0.0000000000000000000542101086242752217003726400434970855712890625",
                "1",
            ),
            ("18446744073709551615", "1", "18446744073709551616"),
            ("36893488147419103235", "0", "36893488147419103236"),
            ("0x1p-16445", "0x1p-16445", "0"),
            ("2e-4951", "0", "0"),
            ("0x10", "0x.8p1", "17"),
            ("+.5", "5.", "5.5"),
            ("1e4932", "-1e4932", "0"),
            ("0.000000000000000015", "0", "0.00000000000000002"),
            ("0.000000000000000025", "0", "0.00000000000000002"),
            ("-0.000000000000000005", "0", "0"),
            (
                "123456789012345678901234567890",
                "0.1",
                "123456789012345678899921813504",
            ),
            ("-1e-30", "1e30", "1000000000000000000024696061952"),
            ("0x1p0", "-0x1p-65", "1"),
            ("0x1p64", "0x3p0", "18446744073709551620"),
            ("9007199254740993", "0", "9007199254740993"),
            (
                "3.14159265358979323846264338327950288",
                "0",
                "3.14159265358979324",
            ),
            ("0", "1e-17", "0.00000000000000001"),
            ("0", "-1e-17", "-0.00000000000000001"),
            ("0", "5e-18", "0"),
            ("1", "0.5", "1.5"),
            ("1.5", "10.1", "11.6"),
        ];
        for &(a, b, want) in cases {
            assert_eq!(sum(a, b).as_deref(), Some(want), "{a} + {b}");
        }
    }

    #[test]
    fn huge_sums_print_every_integer_digit() {
        let s = sum("1e300", "1e300").unwrap();
        assert_eq!(s.len(), 301);
        assert!(s.starts_with("2000000000000000000017994648159118387741047888546581495876"));
        assert!(s.ends_with("380178849830208012288"));
        let s = sum("1.7976931348623157e308", "1.7976931348623157e308").unwrap();
        assert_eq!(s.len(), 309);
        assert!(s.starts_with("359538626972463139991842093548208868096772893888658356970"));
        assert!(s.ends_with("726679072768"));
        // The largest finite value, written in decimal and in hexadecimal.
        let max = sum("1.18973149535723176502e4932", "0").unwrap();
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with("118973149535723176502126385303097020516906332229462420044"));
        assert!(max.ends_with("4419552086811989770240"));
        assert_eq!(sum("0x1.fffffffffffffffep16383", "0"), Some(max));
    }

    #[test]
    fn parse_rejects_what_string2ld_rejects() {
        for bad in [
            &b""[..],
            b"1.18973149535723176509e4932",
            b"1e4933",
            b"1e-4952",
            b"0x1p-16446",
            b"1e99999999999999999999",
            b"nan",
            b"-nan",
            b"1 ",
            b" 1",
            b"0x1p",
            b"0x",
            b"1e",
            b".",
            b"-",
            b"infinit",
            b"1,5",
        ] {
            assert_eq!(
                LongDouble::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(LongDouble::parse(&[b'1'; 5120]), None);
        assert!(LongDouble::parse(&[b'1'; 4900]).is_some());
        assert_eq!(
            LongDouble::parse(b"0e99999999999999999999"),
            Some(LongDouble::Zero { negative: false })
        );
        assert_eq!(
            LongDouble::parse(b"-Infinity"),
            Some(LongDouble::Infinite { negative: true })
        );
    }

    #[test]
    fn infinities_and_overflow_are_not_finite() {
        let inf = LongDouble::parse(b"inf").unwrap();
        let minus_inf = LongDouble::parse(b"-inf").unwrap();
        let one = LongDouble::from_i64(1);
        assert!(!(inf + one).is_finite());
        assert_eq!(inf + minus_inf, LongDouble::Nan);
        let big = LongDouble::parse(b"1.18e4932").unwrap();
        assert_eq!(big + big, LongDouble::Infinite { negative: false });
        assert!((big + one).is_finite());
        assert_eq!(
            LongDouble::from_i64(i64::MIN).to_human(),
            "-9223372036854775808"
        );
    }
}
