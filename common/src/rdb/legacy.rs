//! The retired layouts older RDB files hold, decoded element by element with every bound
//! checked (they are never kept in memory: loading converts them to listpacks or tables).
//!
//! - ziplist (Redis 2.6 to 6.2 small lists, hashes and sorted sets): `zlbytes` u32,
//!   `zltail` u32, `zllen` u16 (little-endian), entries, 0xFF. Each entry is the previous
//!   entry's size (1 byte, or 0xFE and 4 bytes), an encoding, then the data.
//! - zipmap (Redis before 2.6 small hashes): a count byte, then key and value records (a
//!   length of 1 byte or 0xFE and 4 bytes; values also carry a "free" byte and that many
//!   unused bytes after them), then 0xFF.

use crate::encoding::listpack::LpValue;

const ZIP_END: u8 = 0xff;
const ZIP_BIG_PREVLEN: u8 = 0xfe;
const ZL_HEADER: usize = 10;

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Calls `f` with each ziplist element, in order, after checking the whole structure as
/// Redis's deep `ziplistValidateIntegrity` does. Returns the element count.
pub fn ziplist_for_each(zl: &[u8], mut f: impl FnMut(LpValue<'_>)) -> Result<usize, &'static str> {
    const BAD: &str = "ziplist";
    if zl.len() < ZL_HEADER + 1 {
        return Err(BAD);
    }
    let zlbytes = le_u32(zl, 0).ok_or(BAD)? as usize;
    let zltail = le_u32(zl, 4).ok_or(BAD)? as usize;
    let zllen = u16::from_le_bytes([zl[8], zl[9]]);
    if zlbytes != zl.len() || zl[zl.len() - 1] != ZIP_END || zltail > zl.len() - 1 {
        return Err(BAD);
    }
    let end = zl.len() - 1;
    let mut pos = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last_start = ZL_HEADER;
    let mut count = 0usize;
    while pos < end {
        let start = pos;
        // prevlen
        let first = zl[pos];
        let prevlen = if first < ZIP_BIG_PREVLEN {
            pos += 1;
            usize::from(first)
        } else if first == ZIP_BIG_PREVLEN {
            let v = le_u32(zl, pos + 1).ok_or(BAD)? as usize;
            pos += 5;
            v
        } else {
            return Err(BAD);
        };
        if prevlen != prev_size {
            return Err(BAD);
        }
        let enc = *zl.get(pos).ok_or(BAD)?;
        let value_at;
        let data_len;
        let mut int: Option<i64> = None;
        match enc >> 6 {
            0 => {
                data_len = usize::from(enc & 0x3f);
                value_at = pos + 1;
            }
            1 => {
                let lo = *zl.get(pos + 1).ok_or(BAD)?;
                data_len = (usize::from(enc & 0x3f) << 8) | usize::from(lo);
                value_at = pos + 2;
            }
            2 => {
                if enc != 0x80 {
                    return Err(BAD);
                }
                let s = zl.get(pos + 1..pos + 5).ok_or(BAD)?;
                data_len = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
                value_at = pos + 5;
            }
            _ => {
                value_at = pos + 1;
                let d = |n: usize| zl.get(value_at..value_at + n).ok_or(BAD);
                match enc {
                    0xc0 => {
                        let s = d(2)?;
                        int = Some(i64::from(i16::from_le_bytes([s[0], s[1]])));
                        data_len = 2;
                    }
                    0xd0 => {
                        let s = d(4)?;
                        int = Some(i64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])));
                        data_len = 4;
                    }
                    0xe0 => {
                        let s = d(8)?;
                        let mut a = [0u8; 8];
                        a.copy_from_slice(s);
                        int = Some(i64::from_le_bytes(a));
                        data_len = 8;
                    }
                    0xf0 => {
                        let s = d(3)?;
                        let v = i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8;
                        int = Some(i64::from(v));
                        data_len = 3;
                    }
                    0xfe => {
                        let s = d(1)?;
                        int = Some(i64::from(s[0] as i8));
                        data_len = 1;
                    }
                    0xf1..=0xfd => {
                        int = Some(i64::from(enc & 0x0f) - 1);
                        data_len = 0;
                    }
                    _ => return Err(BAD),
                }
            }
        }
        let next = value_at.checked_add(data_len).ok_or(BAD)?;
        if next > end {
            return Err(BAD);
        }
        match int {
            Some(n) => f(LpValue::Int(n)),
            None => f(LpValue::Str(&zl[value_at..next])),
        }
        prev_size = next - start;
        last_start = start;
        pos = next;
        count += 1;
    }
    if pos != end {
        return Err(BAD);
    }
    // zltail points at the last entry (or at the end byte of an empty ziplist).
    let expected_tail = if count == 0 { end } else { last_start };
    if zltail != expected_tail && !(count == 0 && zltail == ZL_HEADER) {
        return Err(BAD);
    }
    if zllen != u16::MAX && usize::from(zllen) != count {
        return Err(BAD);
    }
    Ok(count)
}

fn zipmap_len(zm: &[u8], pos: &mut usize) -> Result<usize, &'static str> {
    let first = *zm.get(*pos).ok_or("zipmap")?;
    if first < ZIP_BIG_PREVLEN {
        *pos += 1;
        Ok(usize::from(first))
    } else if first == ZIP_BIG_PREVLEN {
        let v = le_u32(zm, *pos + 1).ok_or("zipmap")? as usize;
        *pos += 5;
        Ok(v)
    } else {
        Err("zipmap")
    }
}

/// Calls `f` with each field and value of a zipmap, after checking its bounds.
pub fn zipmap_for_each(zm: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> Result<usize, &'static str> {
    const BAD: &str = "zipmap";
    if zm.len() < 2 || zm[zm.len() - 1] != ZIP_END {
        return Err(BAD);
    }
    let end = zm.len() - 1;
    let mut pos = 1;
    let mut count = 0usize;
    while pos < end {
        let klen = zipmap_len(zm, &mut pos)?;
        let key = zm.get(pos..pos.checked_add(klen).ok_or(BAD)?).ok_or(BAD)?;
        pos += klen;
        let vlen = zipmap_len(zm, &mut pos)?;
        let free = usize::from(*zm.get(pos).ok_or(BAD)?);
        pos += 1;
        let value = zm.get(pos..pos.checked_add(vlen).ok_or(BAD)?).ok_or(BAD)?;
        pos += vlen + free;
        if pos > end {
            return Err(BAD);
        }
        f(key, value);
        count += 1;
    }
    if pos != end {
        return Err(BAD);
    }
    // The count byte saturates at 254: below that it must be exact.
    if zm[0] < 254 && usize::from(zm[0]) != count {
        return Err(BAD);
    }
    Ok(count)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a ziplist the way Redis lays one out (string and integer entries).
    pub(crate) fn build_ziplist(items: &[LpValue<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = ZL_HEADER;
        for it in items {
            let start = ZL_HEADER + body.len();
            let mut e = Vec::new();
            if prev < 254 {
                e.push(prev as u8);
            } else {
                e.push(0xfe);
                e.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *it {
                LpValue::Str(s) => {
                    if s.len() < 64 {
                        e.push(s.len() as u8);
                    } else if s.len() < 16384 {
                        e.push(0x40 | (s.len() >> 8) as u8);
                        e.push(s.len() as u8);
                    } else {
                        e.push(0x80);
                        e.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    }
                    e.extend_from_slice(s);
                }
                LpValue::Int(n) => {
                    if (0..=12).contains(&n) {
                        e.push(0xf1 + n as u8);
                    } else if let Ok(v) = i8::try_from(n) {
                        e.push(0xfe);
                        e.push(v as u8);
                    } else if let Ok(v) = i16::try_from(n) {
                        e.push(0xc0);
                        e.extend_from_slice(&v.to_le_bytes());
                    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
                        e.push(0xf0);
                        e.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
                    } else if let Ok(v) = i32::try_from(n) {
                        e.push(0xd0);
                        e.extend_from_slice(&v.to_le_bytes());
                    } else {
                        e.push(0xe0);
                        e.extend_from_slice(&n.to_le_bytes());
                    }
                }
            }
            prev = e.len();
            last = start;
            body.extend_from_slice(&e);
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        let tail = if items.is_empty() { ZL_HEADER } else { last };
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(items.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(ZIP_END);
        zl
    }

    /// Builds a zipmap.
    pub(crate) fn build_zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut zm = vec![pairs.len().min(254) as u8];
        let len = |zm: &mut Vec<u8>, n: usize| {
            if n < 254 {
                zm.push(n as u8);
            } else {
                zm.push(254);
                zm.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (k, v) in pairs {
            len(&mut zm, k.len());
            zm.extend_from_slice(k);
            len(&mut zm, v.len());
            zm.push(1);
            zm.extend_from_slice(v);
            zm.push(0);
        }
        zm.push(ZIP_END);
        zm
    }

    #[test]
    fn ziplist_round_trips_every_encoding() {
        let big = vec![b'x'; 300];
        let huge = vec![b'y'; 20000];
        let items = [
            LpValue::Str(b"hello"),
            LpValue::Int(7),
            LpValue::Int(-100),
            LpValue::Int(1000),
            LpValue::Int(1 << 20),
            LpValue::Int(1 << 30),
            LpValue::Int(1 << 40),
            LpValue::Str(&big),
            LpValue::Str(&huge),
            LpValue::Str(b""),
        ];
        let zl = build_ziplist(&items);
        let mut got = Vec::new();
        assert_eq!(ziplist_for_each(&zl, |v| got.push(v.to_vec())).unwrap(), 10);
        let want: Vec<Vec<u8>> = items.iter().map(|v| v.to_vec()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn ziplist_rejects_corruption_anywhere() {
        let zl = build_ziplist(&[LpValue::Str(b"abc"), LpValue::Int(300)]);
        for i in 0..zl.len() {
            for delta in [1u8, 0x80] {
                let mut bad = zl.clone();
                bad[i] = bad[i].wrapping_add(delta);
                // Must not panic; most flips are caught.
                let _ = ziplist_for_each(&bad, |_| {});
            }
        }
        assert!(ziplist_for_each(&zl[..zl.len() - 1], |_| {}).is_err());
    }

    #[test]
    fn zipmap_reads_pairs() {
        let zm = build_zipmap(&[(b"a", b"1"), (b"field", &[b'v'; 300])]);
        let mut got = Vec::new();
        zipmap_for_each(&zm, |k, v| got.push((k.to_vec(), v.len()))).unwrap();
        assert_eq!(got, vec![(b"a".to_vec(), 1), (b"field".to_vec(), 300)]);
        assert!(zipmap_for_each(&zm[..zm.len() - 2], |_, _| {}).is_err());
    }
}
