//! Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its `{hash tag}`, modulo 16384.

/// Number of hash slots in Redis Cluster.
pub const SLOTS: usize = 16384;

/// `CRC16_TABLES[k][i]`: the CRC of byte `i` followed by `k` zero bytes. Table 0 is the
/// classic byte-at-a-time table; with all eight, eight bytes are folded in with independent
/// lookups instead of a chain of eight dependent ones (every command hashes its keys to find
/// their shard, so this is on the hot path).
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut tables = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev << 8) ^ tables[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
}

static CRC16_TABLES: [[u16; 256]; 8] = crc16_tables();

/// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
pub fn crc16(bytes: &[u8]) -> u16 {
    let t = &CRC16_TABLES;
    let mut crc = 0u16;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let [hi, lo] = crc.to_be_bytes();
        crc = t[7][usize::from(c[0] ^ hi)]
            ^ t[6][usize::from(c[1] ^ lo)]
            ^ t[5][usize::from(c[2])]
            ^ t[4][usize::from(c[3])]
            ^ t[3][usize::from(c[4])]
            ^ t[2][usize::from(c[5])]
            ^ t[1][usize::from(c[6])]
            ^ t[0][usize::from(c[7])];
    }
    chunks.remainder().iter().fold(crc, |crc, &b| {
        (crc << 8) ^ t[0][usize::from(((crc >> 8) as u8) ^ b)]
    })
}

/// The first `needle` in `haystack`, eight bytes per step: a byte loop was half the time of
/// finding a typical key's slot, and most of a long key's.
fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut chunks = haystack.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A byte of `x` is zero where the chunk holds the needle; the lowest flagged byte is
        // exactly the first zero (a borrow can only flag bytes above a zero one).
        let x = u64::from_le_bytes(word) ^ pattern;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let rest = chunks.remainder().iter().position(|&b| b == needle)?;
    Some(offset + rest)
}

/// The part of `key` that is hashed: the content of the first `{...}` if it is non-empty,
/// otherwise the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = find_byte(b'{', key) {
        if let Some(len) = find_byte(b'}', &key[open + 1..]) {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The hash slot of `key`.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS as u16 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_cluster_spec_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    /// The bit-at-a-time definition, to check the sliced tables against.
    fn crc16_bitwise(bytes: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &b in bytes {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn sliced_crc16_matches_the_bitwise_definition_at_every_length() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 131 + 7) as u8).collect();
        for len in 0..bytes.len() {
            for start in [0, 1, 3] {
                let slice = &bytes[start.min(len)..len];
                assert_eq!(
                    crc16(slice),
                    crc16_bitwise(slice),
                    "len {len} start {start}"
                );
            }
        }
    }

    #[test]
    fn hash_tags_follow_the_cluster_spec() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }

    proptest::proptest! {
        /// Bytes near the needle (its neighbours and the high bit) are where a word-at-a-time
        /// scan could go wrong.
        #[test]
        fn find_byte_is_the_first_position(
            haystack in proptest::collection::vec(
                proptest::sample::select(vec![b'{', b'|', b'z', b'}', 0x7b | 0x80, 0, 0xff]),
                0..40,
            ),
            needle in proptest::sample::select(vec![b'{', b'}', 0u8, 0xff]),
        ) {
            let expected = haystack.iter().position(|&b| b == needle);
            proptest::prop_assert_eq!(find_byte(needle, &haystack), expected);
        }
    }
}
