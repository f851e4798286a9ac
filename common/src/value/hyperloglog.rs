//! HyperLogLog: Redis's cardinality estimator, kept in an ordinary string value byte for byte as
//! Redis 7.0 keeps it, so a string copied from Redis with GET works here after SET, and back.
//!
//! Layout: a 16-byte header (`HYLL`, one encoding byte, three unused bytes, then the last computed
//! cardinality as a little-endian `u64` whose top bit set means "stale"), followed by the 16384
//! registers in one of two encodings:
//!
//! - **dense**: 6 bits per register, packed from the least significant bit of each byte up
//!   (12288 bytes);
//! - **sparse**: run lengths, as opcodes `ZERO` (`00xxxxxx`: 1 to 64 zero registers), `XZERO`
//!   (`01xxxxxx yyyyyyyy`: 1 to 16384 zero registers) and `VAL` (`1vvvvvxx`: 1 to 4 registers
//!   holding 1 to 32). A new HLL is sparse; it turns dense when a register needs more than 32 or
//!   the string would outgrow `hll-sparse-max-bytes`.
//!
//! Elements are hashed with MurmurHash64A (Redis's seed): the low 14 bits pick a register, and
//! the position of the first set bit among the other 50 is the value it may raise the register
//! to. The estimate is Otmar Ertl's improved estimator over the register histogram, computed in
//! the same floating-point steps as Redis, so counts agree exactly.
//!
//! Pure functions over byte slices and vectors; the commands own the keyspace. Validation
//! follows Redis: a bad header is [`HllError::NotHll`], bad register data [`HllError::Corrupt`].

use std::fmt;

/// Bytes before the registers.
pub const HEADER_LEN: usize = 16;
/// Bits of the hash that choose the register.
const P: u32 = 14;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits of the hash left to count zeros in.
const Q: usize = 64 - P as usize;
const REGISTER_MASK: u8 = 0x3f;
/// Length of a dense HLL string, header included.
pub const DENSE_LEN: usize = HEADER_LEN + REGISTERS * 6 / 8;

const MAGIC: &[u8; 4] = b"HYLL";
const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;
const STALE_BIT: u8 = 0x80;
const DENSE: u8 = 0;
const SPARSE: u8 = 1;

const MURMUR_SEED: u64 = 0xadc8_3b19;

/// Largest value a sparse `VAL` opcode holds.
const VAL_MAX_VALUE: u8 = 32;
/// Longest run of a `VAL` opcode.
const VAL_MAX_LEN: usize = 4;
/// Longest run of a `ZERO` opcode.
const ZERO_MAX_LEN: usize = 64;

/// 0.5 / ln 2, the estimator's limit of alpha as the register count grows.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Why a string cannot be used as an HyperLogLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HllError {
    /// The header or the length is not an HLL's (Redis answers WRONGTYPE).
    NotHll,
    /// The header is fine but the sparse registers do not add up (Redis answers INVALIDOBJ).
    Corrupt,
}

impl fmt::Display for HllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HllError::NotHll => f.write_str("not a valid HyperLogLog string value"),
            HllError::Corrupt => f.write_str("corrupted HyperLogLog object"),
        }
    }
}

impl std::error::Error for HllError {}

/// How the registers of an HLL are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name `PFDEBUG ENCODING` prints.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

/// Checks the header as Redis does before any HLL command touches a string: the magic, a known
/// encoding, and for dense the exact length. Sparse data is checked only as it is read.
pub fn encoding(hll: &[u8]) -> Result<Encoding, HllError> {
    if hll.len() < HEADER_LEN || &hll[..4] != MAGIC {
        return Err(HllError::NotHll);
    }
    match hll[ENCODING_AT] {
        DENSE if hll.len() == DENSE_LEN => Ok(Encoding::Dense),
        SPARSE => Ok(Encoding::Sparse),
        _ => Err(HllError::NotHll),
    }
}

/// A new, empty HLL: sparse, one `XZERO` covering every register, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut hll = Vec::with_capacity(HEADER_LEN + 2);
    hll.extend_from_slice(MAGIC);
    hll.extend_from_slice(&[SPARSE, 0, 0, 0]);
    hll.extend_from_slice(&[0; 8]);
    let (bytes, n) = Op::Xzero(REGISTERS).encode();
    hll.extend_from_slice(&bytes[..n]);
    hll
}

/// The cached cardinality, unless a change since it was computed made it stale.
pub fn cached_cardinality(hll: &[u8]) -> Option<u64> {
    let card: [u8; 8] = hll.get(CARD_AT..HEADER_LEN)?.try_into().ok()?;
    (card[7] & STALE_BIT == 0).then(|| u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached_cardinality(hll: &mut [u8], card: u64) {
    hll[CARD_AT..HEADER_LEN].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale (its top bit; the other bits stay as they were).
pub fn invalidate_cache(hll: &mut [u8]) {
    hll[HEADER_LEN - 1] |= STALE_BIT;
}

// ---------------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------------

/// MurmurHash2, 64-bit version A, reading words little-endian on every platform (as Redis's).
pub fn murmur_hash64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let mut k = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate() {
            h ^= u64::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it may raise that register to: one more
/// than the number of zeros above the register bits before the first one (1 to 51).
pub fn register_and_value(element: &[u8]) -> (usize, u8) {
    let hash = murmur_hash64a(element, MURMUR_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The sentinel bit caps the count at Q + 1 when the remaining bits are all zero.
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------------
// Dense registers
// ---------------------------------------------------------------------------------------------

/// Register `index` of dense register bytes (the string after its header).
pub fn dense_register(registers: &[u8], index: usize) -> u8 {
    let bit = index * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    // The last register ends inside the last byte; Redis reads the string's terminator there.
    let low = u16::from(registers[byte]);
    let high = u16::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((low | high << 8) >> shift) as u8) & REGISTER_MASK
}

/// Sets register `index` of dense register bytes to `value` (at most 63).
pub fn set_dense_register(registers: &mut [u8], index: usize, value: u8) {
    let bit = index * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    let high = registers.get(byte + 1).copied().unwrap_or(0);
    let mut word = u16::from(registers[byte]) | u16::from(high) << 8;
    word &= !(u16::from(REGISTER_MASK) << shift);
    word |= u16::from(value & REGISTER_MASK) << shift;
    registers[byte] = word as u8;
    if let Some(b) = registers.get_mut(byte + 1) {
        *b = (word >> 8) as u8;
    }
}

/// Raises register `index` to `value` if it is lower; true when it changed.
pub fn raise_dense_register(registers: &mut [u8], index: usize, value: u8) -> bool {
    if value > dense_register(registers, index) {
        set_dense_register(registers, index, value);
        true
    } else {
        false
    }
}

/// Adds an element to a dense HLL in place (the whole string, header included); true when a
/// register changed. The caller has checked the encoding and invalidates the cache.
pub fn dense_add(hll: &mut [u8], element: &[u8]) -> bool {
    let (index, value) = register_and_value(element);
    raise_dense_register(&mut hll[HEADER_LEN..], index, value)
}

/// Calls `f` with each register of dense register bytes, in order.
fn for_each_dense(registers: &[u8], mut f: impl FnMut(usize, u8)) {
    // Three bytes hold exactly four registers.
    for (group, b) in registers.chunks_exact(3).enumerate() {
        let i = group * 4;
        f(i, b[0] & REGISTER_MASK);
        f(i + 1, (b[0] >> 6 | b[1] << 2) & REGISTER_MASK);
        f(i + 2, (b[1] >> 4 | b[2] << 4) & REGISTER_MASK);
        f(i + 3, b[2] >> 2);
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse opcodes
// ---------------------------------------------------------------------------------------------

/// One sparse opcode and the registers it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    Xzero(usize),
    Val { value: u8, len: usize },
}

impl Op {
    /// Decodes the opcode at the start of `bytes` (not empty) and its size in bytes. A
    /// two-byte opcode cut short by the end reads its second byte as zero, as Redis reads the
    /// string's terminator.
    fn decode(bytes: &[u8]) -> (Op, usize) {
        let b = bytes[0];
        if b & 0x80 != 0 {
            let op = Op::Val {
                value: (b >> 2 & 0x1f) + 1,
                len: usize::from(b & 0x3) + 1,
            };
            (op, 1)
        } else if b & 0x40 != 0 {
            let low = bytes.get(1).copied().unwrap_or(0);
            (
                Op::Xzero((usize::from(b & 0x3f) << 8 | usize::from(low)) + 1),
                2,
            )
        } else {
            (Op::Zero(usize::from(b & 0x3f) + 1), 1)
        }
    }

    /// Registers covered.
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::Xzero(n) => n,
            Op::Val { len, .. } => len,
        }
    }

    /// The opcode's bytes and how many of them are used. Lengths and values are in range.
    fn encode(self) -> ([u8; 2], usize) {
        match self {
            Op::Zero(n) => ([(n - 1) as u8, 0], 1),
            Op::Xzero(n) => {
                let n = n - 1;
                ([0x40 | (n >> 8) as u8, n as u8], 2)
            }
            Op::Val { value, len } => ([0x80 | (value - 1) << 2 | (len - 1) as u8, 0], 1),
        }
    }

    /// The shortest opcode for a run of `n` zero registers (at most 16384).
    fn zeros(n: usize) -> Op {
        if n > ZERO_MAX_LEN {
            Op::Xzero(n)
        } else {
            Op::Zero(n)
        }
    }
}

/// The opcodes of a sparse body, each with its offset in the body.
fn ops(body: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = body.get(at..).filter(|r| !r.is_empty())?;
        let (op, size) = Op::decode(rest);
        let here = at;
        at += size;
        Some((here, op))
    })
}

/// Walks a sparse body calling `f(first_register, len, value)` for each `VAL` run. Returns
/// whether the runs covered exactly every register; a `VAL` run past the last register stops
/// the walk as a failure (Redis 7.0.15 as Debian ships it, with the CVE-2025-32023 fix).
fn for_each_sparse_run(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> bool {
    let mut index = 0;
    for (_, op) in ops(body) {
        match op {
            Op::Zero(n) | Op::Xzero(n) => index += n,
            Op::Val { value, len } => {
                if index + len > REGISTERS {
                    return false;
                }
                f(index, len, value);
                index += len;
            }
        }
    }
    index == REGISTERS
}

/// The HLL converted to dense, keeping the header (cached cardinality included).
pub fn sparse_to_dense(hll: &[u8]) -> Result<Vec<u8>, HllError> {
    if encoding(hll)? == Encoding::Dense {
        return Ok(hll.to_vec());
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&hll[..HEADER_LEN]);
    dense[ENCODING_AT] = DENSE;
    let registers = &mut dense[HEADER_LEN..];
    let complete = for_each_sparse_run(&hll[HEADER_LEN..], |first, len, value| {
        for index in first..first + len {
            set_dense_register(registers, index, value);
        }
    });
    if complete {
        Ok(dense)
    } else {
        Err(HllError::Corrupt)
    }
}

/// Raises sparse register `index` to `value` if it is lower, splitting and re-merging opcodes
/// in place. Converts the HLL to dense (replacing `hll`) when `value` does not fit a `VAL` or
/// the string would grow past `max_bytes`. True when a register changed.
fn raise_sparse_register(
    hll: &mut Vec<u8>,
    index: usize,
    value: u8,
    max_bytes: usize,
) -> Result<bool, HllError> {
    if value > VAL_MAX_VALUE {
        return promote(hll, index, value);
    }
    // Find the opcode covering the register, and the one before it.
    let mut first = 0;
    let mut prev = None;
    let mut found = None;
    for (at, op) in ops(&hll[HEADER_LEN..]) {
        if index < first + op.span() {
            found = Some((HEADER_LEN + at, op));
            break;
        }
        prev = Some(HEADER_LEN + at);
        first += op.span();
    }
    let Some((at, op)) = found else {
        return Err(HllError::Corrupt);
    };
    let last = first + op.span() - 1;
    let single = Op::Val { value, len: 1 };
    match op {
        Op::Val { value: old, .. } if old >= value => return Ok(false),
        Op::Val { len: 1, .. } | Op::Zero(1) => hll[at] = single.encode().0[0],
        _ => {
            // Split the run into what precedes the register, the register, what follows.
            let around = |n: usize| match op {
                Op::Val { value: old, .. } => Op::Val { value: old, len: n },
                _ => Op::zeros(n),
            };
            let mut seq = [0u8; 5];
            let mut n = 0;
            let parts = [
                (index != first).then(|| around(index - first)),
                Some(single),
                (index != last).then(|| around(last - index)),
            ];
            for part in parts.into_iter().flatten() {
                let (bytes, size) = part.encode();
                seq[n..n + size].copy_from_slice(&bytes[..size]);
                n += size;
            }
            let old_size = if matches!(op, Op::Xzero(_)) { 2 } else { 1 };
            if n > old_size && hll.len() + (n - old_size) > max_bytes {
                return promote(hll, index, value);
            }
            if at + old_size <= hll.len() {
                hll.splice(at..at + old_size, seq[..n].iter().copied());
            } else {
                // A two-byte opcode cut short by the end: Redis sizes the string as if both
                // bytes were there, so the sequence loses its last byte.
                let len = hll.len() + n - old_size;
                hll.truncate(at);
                hll.extend_from_slice(&seq[..n]);
                hll.truncate(len);
            }
        }
    }
    merge_adjacent_vals(hll, prev.unwrap_or(HEADER_LEN));
    invalidate_cache(hll);
    Ok(true)
}

/// Joins neighbouring `VAL` opcodes of equal value where the run fits, looking at up to five
/// opcodes from `from` (the opcode before the one just changed).
fn merge_adjacent_vals(hll: &mut Vec<u8>, from: usize) {
    let mut at = from;
    for _ in 0..5 {
        let Some(rest) = hll.get(at..).filter(|r| !r.is_empty()) else {
            break;
        };
        let (op, size) = Op::decode(rest);
        let Op::Val { value, len } = op else {
            at += size;
            continue;
        };
        if let Some(&next) = hll.get(at + 1) {
            if let (Op::Val { value: v2, len: l2 }, _) = Op::decode(&[next]) {
                if v2 == value && len + l2 <= VAL_MAX_LEN {
                    let merged = Op::Val {
                        value,
                        len: len + l2,
                    };
                    hll[at + 1] = merged.encode().0[0];
                    hll.remove(at);
                    // Look again from here: the merged run may join the next one too.
                    continue;
                }
            }
        }
        at += 1;
    }
}

/// Converts a sparse HLL to dense and raises the register there (Redis's promotion).
fn promote(hll: &mut Vec<u8>, index: usize, value: u8) -> Result<bool, HllError> {
    *hll = sparse_to_dense(hll)?;
    raise_dense_register(&mut hll[HEADER_LEN..], index, value);
    Ok(true)
}

/// Raises register `index` to `value` if it is lower, in either encoding (a sparse HLL may
/// turn dense). True when a register changed. The header must have passed [`encoding`].
pub fn raise_register(
    hll: &mut Vec<u8>,
    index: usize,
    value: u8,
    max_bytes: usize,
) -> Result<bool, HllError> {
    match encoding(hll)? {
        Encoding::Dense => Ok(raise_dense_register(&mut hll[HEADER_LEN..], index, value)),
        Encoding::Sparse => raise_sparse_register(hll, index, value, max_bytes),
    }
}

/// Adds an element (PFADD's step); true when a register changed. The cache is not touched
/// for dense HLLs: the caller invalidates it once for the whole command.
pub fn add(hll: &mut Vec<u8>, element: &[u8], max_bytes: usize) -> Result<bool, HllError> {
    let (index, value) = register_and_value(element);
    raise_register(hll, index, value, max_bytes)
}

/// PFDEBUG DECODE's text of a sparse body: `Z:<n>`, `z:<n>` and `v:<value>,<len>` opcodes.
pub fn decode_sparse(hll: &[u8]) -> String {
    let mut out = String::new();
    for (_, op) in ops(hll.get(HEADER_LEN..).unwrap_or_default()) {
        if !out.is_empty() {
            out.push(' ');
        }
        match op {
            Op::Zero(n) => out.push_str(&format!("z:{n}")),
            Op::Xzero(n) => out.push_str(&format!("Z:{n}")),
            Op::Val { value, len } => out.push_str(&format!("v:{value},{len}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Merging and counting
// ---------------------------------------------------------------------------------------------

/// One byte per register, for unions (PFMERGE, PFCOUNT of several keys).
pub type Registers = [u8; REGISTERS];

/// Raises each of `max` to the HLL's register where that is higher. The header must have
/// passed [`encoding`].
pub fn merge_into(max: &mut Registers, hll: &[u8]) -> Result<(), HllError> {
    match encoding(hll)? {
        Encoding::Dense => {
            for_each_dense(&hll[HEADER_LEN..], |i, v| max[i] = max[i].max(v));
            Ok(())
        }
        Encoding::Sparse => {
            let complete = for_each_sparse_run(&hll[HEADER_LEN..], |first, len, value| {
                for m in &mut max[first..first + len] {
                    *m = (*m).max(value);
                }
            });
            if complete {
                Ok(())
            } else {
                Err(HllError::Corrupt)
            }
        }
    }
}

/// Writes the union registers into an HLL (PFMERGE's destination), converting it to dense
/// first when `dense` is asked for. Leaves the cache as it is.
pub fn store_union(
    hll: &mut Vec<u8>,
    max: &Registers,
    dense: bool,
    max_bytes: usize,
) -> Result<(), HllError> {
    if dense && encoding(hll)? == Encoding::Sparse {
        *hll = sparse_to_dense(hll)?;
    }
    if encoding(hll)? == Encoding::Dense {
        store_union_dense(hll, max);
        return Ok(());
    }
    for (index, &value) in max.iter().enumerate() {
        if value != 0 {
            raise_register(hll, index, value, max_bytes)?;
        }
    }
    Ok(())
}

/// [`store_union`] into a dense HLL, in place (the whole string, header included).
pub fn store_union_dense(hll: &mut [u8], max: &Registers) {
    let registers = &mut hll[HEADER_LEN..];
    for (index, &value) in max.iter().enumerate() {
        if value != 0 {
            raise_dense_register(registers, index, value);
        }
    }
}

/// How many registers hold each value (indices above 51 only from crafted dense strings).
type Histogram = [u32; 64];

/// The estimated cardinality of an HLL, or [`HllError::Corrupt`] when sparse runs do not cover
/// exactly the 16384 registers. The header must have passed [`encoding`].
pub fn count(hll: &[u8]) -> Result<u64, HllError> {
    let mut histogram = [0u32; 64];
    match encoding(hll)? {
        Encoding::Dense => {
            for_each_dense(&hll[HEADER_LEN..], |_, v| histogram[usize::from(v)] += 1);
        }
        Encoding::Sparse => {
            // Unlike merging, counting walks every opcode and judges the total.
            let mut index = 0usize;
            for (_, op) in ops(&hll[HEADER_LEN..]) {
                let (value, n) = match op {
                    Op::Zero(n) | Op::Xzero(n) => (0, n),
                    Op::Val { value, len } => (usize::from(value), len),
                };
                histogram[value] = histogram[value].saturating_add(n as u32);
                index += n;
            }
            if index != REGISTERS {
                return Err(HllError::Corrupt);
            }
        }
    }
    Ok(estimate(&histogram))
}

/// The estimated cardinality of union registers.
pub fn count_registers(registers: &Registers) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in registers {
        histogram[usize::from(r & 0x3f)] += 1;
    }
    estimate(&histogram)
}

/// Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
/// sketches", arXiv:1702.01284), with Redis's order of floating-point operations.
fn estimate(histogram: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for &n in histogram[1..=Q].iter().rev() {
        z += f64::from(n);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    // An empty HLL has sigma infinite, and so an estimate of 0.
    let estimate = (ALPHA_INF * m * m / z).round();
    if estimate < 9_223_372_036_854_775_808.0 {
        estimate as u64
    } else {
        // Only crafted registers (all above 50) get here: z is 0 and the estimate infinite.
        // Redis's llroundl overflows to LLONG_MIN, which it then caches and replies.
        1 << 63
    }
}

/// Ertl's sigma: x + sum over k of x^(2^k) * 2^(k-1), iterated until it stops changing.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if z == previous {
            return z;
        }
    }
}

/// Ertl's tau: (1 - x - sum over k of (1 - x^(2^-k))^2 * 2^-k) / 3.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == previous {
            return z / 3.0;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PFSELFTEST
// ---------------------------------------------------------------------------------------------

/// Why PFSELFTEST failed; `Display` is Redis's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfTestFailure {
    Register {
        index: usize,
        expected: u8,
        found: u8,
    },
    SparseNotUsed,
    Disagree,
    TooBigError {
        cardinality: u64,
        error: u64,
    },
}

impl fmt::Display for SelfTestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelfTestFailure::Register {
                index,
                expected,
                found,
            } => write!(
                f,
                "TESTFAILED Register {index} should be {expected} but is {found}"
            ),
            SelfTestFailure::SparseNotUsed => f.write_str("TESTFAILED sparse encoding not used"),
            SelfTestFailure::Disagree => f.write_str("TESTFAILED dense/sparse disagree"),
            SelfTestFailure::TooBigError { cardinality, error } => write!(
                f,
                "TESTFAILED Too big error. card:{cardinality} abserr:{error}"
            ),
        }
    }
}

/// PFSELFTEST: random register writes read back unchanged and leave their neighbours alone;
/// then ten million distinct elements go into a dense and a sparse HLL, whose estimates must
/// agree with each other and stay within six standard errors at every power of ten.
pub fn self_test(rng: &mut impl rand::Rng, max_bytes: usize) -> Result<(), SelfTestFailure> {
    self_test_sized(rng, max_bytes, 1000, 10_000_000)
}

/// [`self_test`] with `cycles` rounds of register writes and `elements` elements.
fn self_test_sized(
    rng: &mut impl rand::Rng,
    max_bytes: usize,
    cycles: usize,
    elements: u64,
) -> Result<(), SelfTestFailure> {
    let mut registers = vec![0u8; DENSE_LEN - HEADER_LEN];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..cycles {
        for (index, e) in expected.iter_mut().enumerate() {
            *e = rng.random::<u8>() & REGISTER_MASK;
            set_dense_register(&mut registers, index, *e);
        }
        for (index, &e) in expected.iter().enumerate() {
            let found = dense_register(&registers, index);
            if found != e {
                return Err(SelfTestFailure::Register {
                    index,
                    expected: e,
                    found,
                });
            }
        }
    }

    let mut dense = new_sparse();
    dense = sparse_to_dense(&dense).map_err(|_| SelfTestFailure::Disagree)?;
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let seed: u64 = rng.random();
    let mut checkpoint: u64 = 1;
    for j in 1..=elements {
        let element = (j ^ seed).to_le_bytes();
        dense_add(&mut dense, &element);
        add(&mut sparse, &element, max_bytes).map_err(|_| SelfTestFailure::Disagree)?;
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && encoding(&sparse) != Ok(Encoding::Sparse) {
            return Err(SelfTestFailure::SparseNotUsed);
        }
        let estimate = count(&dense).map_err(|_| SelfTestFailure::Disagree)?;
        if count(&sparse) != Ok(estimate) {
            return Err(SelfTestFailure::Disagree);
        }
        // At 10 collisions make a larger error likely enough to fail for nothing.
        let max_error = if j == 10 {
            1
        } else {
            (relative_error * 6.0 * checkpoint as f64).ceil() as u64
        };
        let error = checkpoint.abs_diff(estimate);
        if error > max_error {
            return Err(SelfTestFailure::TooBigError {
                cardinality: checkpoint,
                error,
            });
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hll_of(elements: &[&str], max_bytes: usize) -> Vec<u8> {
        let mut hll = new_sparse();
        for e in elements {
            add(&mut hll, e.as_bytes(), max_bytes).unwrap();
        }
        hll
    }

    #[test]
    fn murmur_matches_redis() {
        // Register and value of "a", "b", "c" as Redis's PFDEBUG DECODE shows them.
        let hll = hll_of(&["a", "b", "c"], 3000);
        assert_eq!(
            decode_sparse(&hll),
            "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
        );
    }

    #[test]
    fn sparse_bytes_match_redis() {
        // Redis 7.0.15: PFADD h 0 1 2 ... 9, then GET h.
        let digits: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let digits: Vec<&str> = digits.iter().map(String::as_str).collect();
        let hll = hll_of(&digits, 3000);
        assert_eq!(
            &hll[..],
            b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80A\xee\x84H#\x80SQ\x80L\xe0\x80@\x92\x80H\xca\x8cCs\x80B\xd7\x80B\x12\x8c@\xcf\x84C\""
        );
        assert_eq!(count(&hll), Ok(10));
    }

    #[test]
    fn new_hll_is_one_xzero() {
        let hll = new_sparse();
        assert_eq!(&hll[..], b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert_eq!(encoding(&hll), Ok(Encoding::Sparse));
        assert_eq!(cached_cardinality(&hll), Some(0));
        assert_eq!(count(&hll), Ok(0));
        assert_eq!(decode_sparse(&hll), "Z:16384");
    }

    #[test]
    fn the_cache_is_stale_once_its_top_bit_is_set() {
        let mut hll = new_sparse();
        set_cached_cardinality(&mut hll, 3);
        assert_eq!(cached_cardinality(&hll), Some(3));
        invalidate_cache(&mut hll);
        assert_eq!(cached_cardinality(&hll), None);
        assert_eq!(hll[15], 0x80);
        assert_eq!(hll[8], 3);
    }

    #[test]
    fn headers_are_checked_as_redis_checks_them() {
        let hll = new_sparse();
        assert_eq!(encoding(&hll[..15]), Err(HllError::NotHll));
        let mut bad = hll.clone();
        bad[0] = b'0';
        assert_eq!(encoding(&bad), Err(HllError::NotHll));
        bad = hll.clone();
        bad[4] = 2;
        assert_eq!(encoding(&bad), Err(HllError::NotHll));
        bad[4] = 0;
        assert_eq!(
            encoding(&bad),
            Err(HllError::NotHll),
            "dense of wrong length"
        );
        let dense = sparse_to_dense(&hll).unwrap();
        assert_eq!(dense.len(), DENSE_LEN);
        assert_eq!(encoding(&dense), Ok(Encoding::Dense));
        // Only the header is checked: a bare header is a (corrupt) sparse HLL.
        assert_eq!(encoding(&hll[..16]), Ok(Encoding::Sparse));
        assert_eq!(count(&hll[..16]), Err(HllError::Corrupt));
    }

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; REGISTERS * 6 / 8];
        for i in 0..REGISTERS {
            set_dense_register(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_register(&regs, i), (i % 64) as u8, "register {i}");
        }
        let mut seen = 0;
        for_each_dense(&regs, |i, v| {
            assert_eq!(v, (i % 64) as u8);
            seen += 1;
        });
        assert_eq!(seen, REGISTERS);
        set_dense_register(&mut regs, REGISTERS - 1, 63);
        assert_eq!(dense_register(&regs, REGISTERS - 1), 63);
        assert_eq!(dense_register(&regs, REGISTERS - 2), 62);
    }

    #[test]
    fn sparse_and_dense_agree() {
        let elements: Vec<String> = (0..2000).map(|i| format!("e{i}")).collect();
        let mut sparse = new_sparse();
        let mut dense = sparse_to_dense(&new_sparse()).unwrap();
        for (n, e) in elements.iter().enumerate() {
            add(&mut sparse, e.as_bytes(), usize::MAX).unwrap();
            dense_add(&mut dense, e.as_bytes());
            if n % 97 == 0 {
                assert_eq!(count(&sparse), count(&dense), "after {n}");
                assert_eq!(sparse_to_dense(&sparse).unwrap()[16..], dense[16..]);
            }
        }
        assert_eq!(encoding(&sparse), Ok(Encoding::Sparse));
    }

    #[test]
    fn sparse_turns_dense_past_max_bytes() {
        let mut hll = new_sparse();
        let mut n = 0;
        while encoding(&hll) == Ok(Encoding::Sparse) {
            assert!(hll.len() <= 3000);
            add(&mut hll, format!("{n}").as_bytes(), 3000).unwrap();
            n += 1;
        }
        assert_eq!(hll.len(), DENSE_LEN);
        assert!(n > 1000, "{n}");
    }

    #[test]
    fn a_value_over_32_makes_it_dense() {
        let mut hll = new_sparse();
        assert_eq!(raise_register(&mut hll, 5, 33, 3000), Ok(true));
        assert_eq!(encoding(&hll), Ok(Encoding::Dense));
        assert_eq!(dense_register(&hll[16..], 5), 33);
        // Promotion keeps the header as it was (Redis invalidates afterwards).
        assert_eq!(cached_cardinality(&hll), Some(0));
    }

    #[test]
    fn sparse_updates_split_and_merge_runs() {
        let mut hll = new_sparse();
        assert_eq!(raise_register(&mut hll, 1000, 2, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:1000 v:2,1 Z:15383");
        assert_eq!(cached_cardinality(&hll), None);
        assert_eq!(raise_register(&mut hll, 1000, 2, 3000), Ok(false));
        assert_eq!(raise_register(&mut hll, 1001, 2, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:1000 v:2,2 Z:15382");
        assert_eq!(raise_register(&mut hll, 1003, 2, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:1000 v:2,2 z:1 v:2,1 Z:15380");
        assert_eq!(raise_register(&mut hll, 1002, 2, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:1000 v:2,4 Z:15380");
        assert_eq!(raise_register(&mut hll, 1001, 5, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:1000 v:2,1 v:5,1 v:2,2 Z:15380");
        assert_eq!(raise_register(&mut hll, 0, 1, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "v:1,1 Z:999 v:2,1 v:5,1 v:2,2 Z:15380");
        assert_eq!(raise_register(&mut hll, 16383, 1, 3000), Ok(true));
        assert_eq!(
            decode_sparse(&hll),
            "v:1,1 Z:999 v:2,1 v:5,1 v:2,2 Z:15379 v:1,1"
        );
        // Growing past the limit promotes instead.
        let len = hll.len();
        assert_eq!(raise_register(&mut hll, 8000, 1, len), Ok(true));
        assert_eq!(encoding(&hll), Ok(Encoding::Dense));
    }

    #[test]
    fn corrupt_sparse_data_is_detected() {
        let mut hll = hll_of(&["a", "b", "c"], 3000);
        hll.extend_from_slice(b"hello");
        assert_eq!(count(&hll), Err(HllError::Corrupt));
        assert_eq!(sparse_to_dense(&hll), Err(HllError::Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &hll), Err(HllError::Corrupt));
        // One register too many, however it is reached.
        let mut hll = hll_of(&["a"], 3000);
        hll.push(0x80);
        assert_eq!(count(&hll), Err(HllError::Corrupt));
        assert_eq!(merge_into(&mut max, &hll), Err(HllError::Corrupt));
        assert_eq!(sparse_to_dense(&hll), Err(HllError::Corrupt));
        // A truncated XZERO is split as Redis splits it, losing the sequence's last byte.
        let mut hll = new_sparse();
        hll[16] = 0x7e;
        hll.pop();
        assert_eq!(decode_sparse(&hll), "Z:15873");
        assert_eq!(raise_register(&mut hll, 100, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&hll), "Z:100 v:3,1 Z:15617");
        // Too few registers: nothing to raise past the end.
        let short = &new_sparse()[..17];
        assert_eq!(
            raise_register(&mut short.to_vec(), 16383, 1, 3000),
            Err(HllError::Corrupt)
        );
    }

    #[test]
    fn estimates_match_redis() {
        // Taken from Redis 7.0.15: PFADD of "0".."n-1", then PFCOUNT.
        for (n, expected) in [
            (1u32, 1u64),
            (10, 10),
            (100, 100),
            (1000, 1001),
            (10_000, 9987),
            (100_000, 99_565),
        ] {
            let mut hll = new_sparse();
            for i in 0..n {
                add(&mut hll, i.to_string().as_bytes(), 3000).unwrap();
            }
            assert_eq!(count(&hll), Ok(expected), "{n} elements");
        }
    }

    #[test]
    fn registers_past_50_give_redis_overflowed_estimate() {
        let mut hll = sparse_to_dense(&new_sparse()).unwrap();
        for i in 0..REGISTERS {
            set_dense_register(&mut hll[HEADER_LEN..], i, 63);
        }
        assert_eq!(count(&hll), Ok(1 << 63));
        set_cached_cardinality(&mut hll, 1 << 63);
        assert_eq!(cached_cardinality(&hll), None, "so it is never cached");
    }

    #[test]
    fn unions_count_every_register_once() {
        let a = hll_of(&["a", "b", "c"], 3000);
        let b = hll_of(&["b", "c", "d"], 3000);
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &a).unwrap();
        merge_into(&mut max, &b).unwrap();
        assert_eq!(count_registers(&max), 4);
        let mut dest = new_sparse();
        store_union(&mut dest, &max, false, 3000).unwrap();
        assert_eq!(count(&dest), Ok(4));
        let mut dense = new_sparse();
        store_union(&mut dense, &max, true, 3000).unwrap();
        assert_eq!(encoding(&dense), Ok(Encoding::Dense));
        assert_eq!(count(&dense), Ok(4));
    }

    #[test]
    fn self_test_passes() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        assert_eq!(self_test_sized(&mut rng, 3000, 3, 100_000), Ok(()));
    }
}
