//! Redis's `intset`: a sorted array of distinct integers, each stored in the narrowest of 16,
//! 32 or 64 bits that fits every member.
//!
//! The bytes are laid out exactly as Redis lays them out, so that an RDB writer can copy them
//! as they are: a little-endian `u32` element width in bytes (2, 4 or 8), a little-endian `u32`
//! count, then the elements in ascending order, little-endian. Inserting a value too wide for
//! the current width rewrites every element at the new width first (an "upgrade"); there is no
//! downgrade.

use std::cmp::Ordering;

const HEADER: usize = 8;

/// The element width needed to store `v`, in bytes.
fn width_of(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn read_elem(bytes: &[u8], width: usize) -> i64 {
    match width {
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        _ => {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[..8]);
            i64::from_le_bytes(word)
        }
    }
}

fn write_elem(bytes: &mut [u8], width: usize, v: i64) {
    // The caller picked `width` with `width_of`, so the truncating casts keep every bit.
    match width {
        2 => bytes[..2].copy_from_slice(&(v as i16).to_le_bytes()),
        4 => bytes[..4].copy_from_slice(&(v as i32).to_le_bytes()),
        _ => bytes[..8].copy_from_slice(&v.to_le_bytes()),
    }
}

/// A sorted set of distinct integers in Redis's intset byte layout.
#[derive(Clone, PartialEq, Eq)]
pub struct IntSet {
    blob: Vec<u8>,
}

impl Default for IntSet {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl IntSet {
    /// An empty intset of 16-bit elements.
    pub fn new() -> IntSet {
        let mut blob = Vec::with_capacity(HEADER);
        blob.extend_from_slice(&2u32.to_le_bytes());
        blob.extend_from_slice(&0u32.to_le_bytes());
        IntSet { blob }
    }

    /// Element width in bytes: 2, 4 or 8 (Redis's `INTSET_ENC_INT16/32/64`).
    pub fn width(&self) -> usize {
        read_u32(&self.blob, 0) as usize
    }

    pub fn len(&self) -> usize {
        read_u32(&self.blob, 4) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, len: usize) {
        // An intset is limited to `u32::MAX` members by its layout; the set type converts to a
        // hash table long before (at most 2^30 entries, as Redis caps it).
        self.blob[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    }

    /// The member at `index` in ascending order.
    pub fn get(&self, index: usize) -> Option<i64> {
        if index >= self.len() {
            return None;
        }
        let width = self.width();
        let at = HEADER + index * width;
        Some(read_elem(&self.blob[at..], width))
    }

    fn at(&self, index: usize, width: usize) -> i64 {
        read_elem(&self.blob[HEADER + index * width..], width)
    }

    /// `Ok(index)` of `v`, or `Err(index)` where it would be inserted.
    pub fn search(&self, v: i64) -> Result<usize, usize> {
        let len = self.len();
        if len == 0 {
            return Err(0);
        }
        let width = self.width();
        // Values wider than the current width lie outside every member.
        if width_of(v) > width {
            return Err(if v < 0 { 0 } else { len });
        }
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.at(mid, width).cmp(&v) {
                Ordering::Equal => return Ok(mid),
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false if it was already a member.
    pub fn insert(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            self.upgrade_and_insert(v);
            return true;
        }
        let Err(pos) = self.search(v) else {
            return false;
        };
        let width = self.width();
        let len = self.len();
        let at = HEADER + pos * width;
        self.blob.splice(at..at, std::iter::repeat_n(0u8, width));
        write_elem(&mut self.blob[at..], width, v);
        self.set_len(len + 1);
        true
    }

    /// Rewrites every element at the width `v` needs, then puts `v` first (negative) or last:
    /// a value too wide for the old width is smaller or larger than every member.
    fn upgrade_and_insert(&mut self, v: i64) {
        let old = self.width();
        let new = width_of(v);
        let len = self.len();
        let mut blob = Vec::with_capacity(HEADER + (len + 1) * new);
        blob.extend_from_slice(&(new as u32).to_le_bytes());
        blob.extend_from_slice(&((len + 1) as u32).to_le_bytes());
        let put = |blob: &mut Vec<u8>, x: i64| {
            let start = blob.len();
            blob.resize(start + new, 0);
            write_elem(&mut blob[start..], new, x);
        };
        if v < 0 {
            put(&mut blob, v);
        }
        for i in 0..len {
            put(&mut blob, self.at(i, old));
        }
        if v >= 0 {
            put(&mut blob, v);
        }
        self.blob = blob;
    }

    /// Removes `v`; false if it was not a member.
    pub fn remove(&mut self, v: i64) -> bool {
        let Ok(pos) = self.search(v) else {
            return false;
        };
        self.remove_at(pos);
        true
    }

    /// Removes and returns the member at `index`.
    pub fn remove_at(&mut self, index: usize) -> Option<i64> {
        let v = self.get(index)?;
        let width = self.width();
        let at = HEADER + index * width;
        self.blob.drain(at..at + width);
        let len = self.len();
        self.set_len(len - 1);
        Some(v)
    }

    /// The members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let width = self.width();
        self.blob[HEADER..]
            .chunks_exact(width)
            .map(move |chunk| read_elem(chunk, width))
    }

    /// The bytes as Redis stores them (and RDB writes them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.blob
    }

    /// Size of the blob in bytes (Redis's `intsetBlobLen`).
    pub fn blob_len(&self) -> usize {
        self.blob.len()
    }

    /// Reads an intset from its stored bytes, checking what Redis's `intsetValidateIntegrity`
    /// checks: a known width, a length that matches the size, members strictly ascending.
    pub fn from_bytes(bytes: &[u8]) -> Option<IntSet> {
        if bytes.len() < HEADER {
            return None;
        }
        let width = read_u32(bytes, 0) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return None;
        }
        let len = read_u32(bytes, 4) as usize;
        if len.checked_mul(width)?.checked_add(HEADER)? != bytes.len() {
            return None;
        }
        let set = IntSet {
            blob: bytes.to_vec(),
        };
        let mut prev: Option<i64> = None;
        for v in set.iter() {
            if prev.is_some_and(|p| p >= v) {
                return None;
            }
            prev = Some(v);
        }
        Some(set)
    }

    /// Heap bytes held (for MEMORY USAGE-style accounting).
    pub fn allocated(&self) -> usize {
        self.blob.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_16_bit_and_keeps_members_sorted() {
        let mut s = IntSet::new();
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 0, 0, 0, 0]);
        for v in [5, -3, 100, 0, 5] {
            s.insert(v);
        }
        assert_eq!(s.len(), 4);
        assert_eq!(s.width(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), [-3, 0, 5, 100]);
        assert_eq!(
            s.as_bytes(),
            &[2, 0, 0, 0, 4, 0, 0, 0, 0xfd, 0xff, 0, 0, 5, 0, 100, 0]
        );
        assert!(s.contains(100));
        assert!(!s.contains(99));
        assert!(!s.contains(1 << 40));
    }

    #[test]
    fn upgrades_to_wider_elements() {
        let mut s = IntSet::new();
        s.insert(1);
        s.insert(2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(-(1 << 40)));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), [-(1 << 40), 1, 2, 70_000]);
        assert_eq!(s.blob_len(), 8 + 4 * 8);
        assert!(s.insert(i64::MAX));
        assert!(s.insert(i64::MIN));
        assert_eq!(s.get(0), Some(i64::MIN));
        assert_eq!(s.get(5), Some(i64::MAX));
        assert_eq!(s.get(6), None);
    }

    #[test]
    fn removes_and_validates() {
        let mut s = IntSet::new();
        for v in 0..10 {
            s.insert(v * 1000);
        }
        assert!(s.remove(3000));
        assert!(!s.remove(3000));
        assert_eq!(s.remove_at(0), Some(0));
        assert_eq!(s.len(), 8);
        let copy = IntSet::from_bytes(s.as_bytes()).unwrap();
        assert_eq!(copy, s);
        // Out of order, bad width, bad length.
        assert!(IntSet::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]).is_none());
        assert!(IntSet::from_bytes(&[3, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(IntSet::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0]).is_none());
        assert!(IntSet::from_bytes(&[2, 0, 0, 0]).is_none());
    }
}
