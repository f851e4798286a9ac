//! LZF, the compressor Redis uses for quicklist nodes and RDB strings (liblzf's format).
//!
//! A stream is a sequence of runs, each opened by a control byte:
//! - `000LLLLL`: `L + 1` literal bytes follow (1 to 32);
//! - `LLLooooo oooooooo` (L from 1 to 6) or `111ooooo LLLLLLLL oooooooo`: copy `len + 2`
//!   bytes from `offset + 1` bytes back in the output, where `len` is L (plus the extra length
//!   byte when L is 7) and `offset` is the 13-bit number split over the control's low 5 bits
//!   and the last byte.
//!
//! Any valid stream decompresses the same everywhere, so our compressor need not match liblzf's
//! choices byte for byte; Redis reads what it writes and we read what Redis writes.

/// Back references reach at most this far (13 bits of offset, plus one).
const MAX_OFF: usize = 1 << 13;
/// Longest back reference: 7 + 255 from the length fields, plus 2.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
const HASH_LOG: u32 = 14;

/// The compressor's hash table of recent positions, kept per thread and reused: zeroing a fresh
/// 16k-entry table for every string cost about 15 µs, which made an RDB save of 1M short
/// strings take 15 s. Each slot holds the call's epoch above the position, so slots left by
/// earlier calls read as empty without being cleared; the output is what a zeroed table gives.
struct Table {
    slots: Box<[u64]>,
    epoch: u64,
}

const POS_BITS: u32 = 40;
const POS_MASK: u64 = (1 << POS_BITS) - 1;

impl Table {
    fn new() -> Table {
        Table {
            slots: vec![0; 1 << HASH_LOG].into_boxed_slice(),
            epoch: 0,
        }
    }

    /// Starts a call: every slot now reads as empty.
    fn reset(&mut self) {
        self.epoch += 1;
        if self.epoch >= 1 << (64 - POS_BITS) {
            self.slots.fill(0);
            self.epoch = 1;
        }
    }

    /// The position plus one stored at `h` during this call, or 0.
    fn get(&self, h: usize) -> usize {
        let slot = self.slots[h];
        if slot >> POS_BITS == self.epoch {
            (slot & POS_MASK) as usize
        } else {
            0
        }
    }

    fn set(&mut self, h: usize, pos_plus_one: usize) {
        self.slots[h] = (self.epoch << POS_BITS) | (pos_plus_one as u64 & POS_MASK);
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Option<Table>> = const { std::cell::RefCell::new(None) };
}

fn hash3(b: &[u8]) -> usize {
    let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_LOG)) as usize
}

/// Compresses `input`; `None` when the result would be longer than `max_out` bytes (liblzf's
/// `lzf_compress` returning 0) or `input` is empty.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.is_empty() {
        return None;
    }
    if input.len() as u64 >= POS_MASK {
        return compress_with(input, max_out, &mut Table::new());
    }
    TABLE.with_borrow_mut(|table| {
        let table = table.get_or_insert_with(Table::new);
        table.reset();
        compress_with(input, max_out, table)
    })
}

fn compress_with(input: &[u8], max_out: usize, table: &mut Table) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max_out.min(input.len() + input.len() / 32 + 1));
    // Position of the pending literal run's control byte, and the run's length.
    let mut ctrl = 0usize;
    out.push(0);
    let mut lit = 0usize;
    let mut ip = 0usize;
    while ip < input.len() {
        if ip + 2 < input.len() {
            let h = hash3(&input[ip..]);
            let candidate = table.get(h);
            table.set(h, ip + 1);
            if candidate > 0 {
                let r = candidate - 1;
                let off = ip - r - 1;
                if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                    let max_len = (input.len() - ip).min(MAX_REF);
                    let mut len = 3;
                    while len < max_len && input[r + len] == input[ip + len] {
                        len += 1;
                    }
                    // Close the literal run (or drop its unused control byte).
                    if lit > 0 {
                        out[ctrl] = (lit - 1) as u8;
                    } else {
                        out.pop();
                    }
                    let l = len - 2;
                    if l < 7 {
                        out.push(((off >> 8) + (l << 5)) as u8);
                    } else {
                        out.push(((off >> 8) + (7 << 5)) as u8);
                        out.push((l - 7) as u8);
                    }
                    out.push((off & 0xFF) as u8);
                    for p in ip + 1..(ip + len).min(input.len().saturating_sub(2)) {
                        table.set(hash3(&input[p..]), p + 1);
                    }
                    ip += len;
                    ctrl = out.len();
                    out.push(0);
                    lit = 0;
                    if out.len() > max_out {
                        return None;
                    }
                    continue;
                }
            }
        }
        out.push(input[ip]);
        lit += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[ctrl] = (MAX_LIT - 1) as u8;
            ctrl = out.len();
            out.push(0);
            lit = 0;
        }
        if out.len() > max_out + usize::from(lit == 0) {
            return None;
        }
    }
    if lit > 0 {
        out[ctrl] = (lit - 1) as u8;
    } else {
        out.pop();
    }
    (out.len() <= max_out).then_some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes; `None` for a corrupt
/// stream or any other length.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let c = usize::from(input[i]);
        i += 1;
        if c < MAX_LIT {
            let n = c + 1;
            let run = input.get(i..i + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(run);
            i += n;
        } else {
            let mut len = c >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            let off = ((c & 0x1F) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            len += 2;
            if off > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - off;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_table_gives_what_a_fresh_one_gives() {
        let a: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 13) as u8 + b'a').collect();
        let b: Vec<u8> = (0..3000u32).map(|i| (i * 5 % 11) as u8 + b'a').collect();
        let fresh = compress_with(&b, 4000, &mut Table::new()).unwrap();
        compress(&a, 4000).unwrap();
        assert_eq!(compress(&b, 4000).unwrap(), fresh);
        assert_eq!(compress(&b, 4000).unwrap(), fresh);
    }

    fn round_trip(data: &[u8]) {
        let c = compress(data, data.len() + data.len() / 16 + 64).unwrap();
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn round_trips_repetitive_random_and_edge_inputs() {
        round_trip(b"a");
        round_trip(b"ab");
        round_trip(b"abc");
        round_trip(&[7u8; 1000]);
        round_trip(b"hello hello hello hello world world world");
        let mut x = 12345u64;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        round_trip(&noise);
        let mixed: Vec<u8> = noise
            .iter()
            .take(300)
            .cycle()
            .take(20000)
            .copied()
            .collect();
        round_trip(&mixed);
        assert!(compress(&mixed, mixed.len()).unwrap().len() < mixed.len() / 10);
    }

    #[test]
    fn reads_liblzf_output() {
        // Redis 7.0.15's DUMP of "abcabcabcabcab" x 8 + "xyz" x 10 (its RDB LZF string body).
        let redis = [
            0x03, 0x61, 0x62, 0x63, 0x61, 0xE0, 0x01, 0x02, 0xE0, 0x02, 0x0A, 0x20, 0x16, 0x60,
            0x04, 0x20, 0x07, 0x80, 0x02, 0xC0, 0x07, 0xE0, 0x35, 0x0D, 0x02, 0x78, 0x79, 0x7A,
            0xE0, 0x10, 0x02, 0x01, 0x79, 0x7A,
        ];
        let want = [b"abcabcabcabcab".repeat(8), b"xyz".repeat(10)].concat();
        assert_eq!(decompress(&redis, want.len()).unwrap(), want);
        // A hand-built stream: literal "abc", then copy 6 bytes from 3 back.
        let stream = [0x02, b'a', b'b', b'c', 0x80, 0x02];
        assert_eq!(decompress(&stream, 9).unwrap(), b"abcabcabc");
        assert_eq!(decompress(&stream, 8), None);
        assert_eq!(decompress(&[0x80, 0x00], 3), None);
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
    }

    #[test]
    fn refuses_when_output_would_not_fit() {
        let data: Vec<u8> = (0..=255u8).collect();
        assert_eq!(compress(&data, data.len() - 1), None);
        assert_eq!(compress(b"", 10), None);
    }
}
