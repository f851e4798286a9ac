//! The list type (`TYPE` list): Redis 7.0.15 keeps every list as a quicklist, whatever its size,
//! so `OBJECT ENCODING` always says `quicklist`.

use std::ops::ControlFlow;

use crate::encoding::listpack::LpValue;
pub use crate::encoding::quicklist::End;
use crate::encoding::quicklist::Quicklist;

/// A list value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListValue {
    ql: Quicklist,
}

/// What LPOS looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosQuery {
    /// 1-based match to start from; negative scans from the tail.
    pub rank: i64,
    /// Matches to report (0: all).
    pub count: usize,
    /// Elements to compare at most (0: all).
    pub maxlen: usize,
}

impl ListValue {
    /// Heap bytes held, estimated from `samples` nodes (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        self.ql.allocated_bytes(samples)
    }

    /// An empty list with the node limits `list-max-listpack-size` and `list-compress-depth`.
    pub fn new(fill: i32, compress_depth: usize) -> ListValue {
        ListValue {
            ql: Quicklist::new(fill, compress_depth),
        }
    }

    pub fn len(&self) -> usize {
        self.ql.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ql.is_empty()
    }

    /// The quicklist underneath (RDB, DEBUG).
    pub fn quicklist(&self) -> &Quicklist {
        &self.ql
    }

    /// Appends a listpack as one node (RDB loading).
    pub fn append_listpack(&mut self, lp: crate::encoding::listpack::Listpack) {
        self.ql.append_listpack(lp);
    }

    pub fn push(&mut self, end: End, v: &[u8]) {
        self.ql.push(end, v);
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.ql.pop(end)
    }

    /// The element at `index` (negative from the tail).
    pub fn index(&self, index: i64) -> Option<Vec<u8>> {
        self.ql.get(index)
    }

    /// LSET: false when `index` is out of range.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        self.ql.replace(index, v)
    }

    /// LINSERT: inserts `v` next to the first `pivot`; false when there is none.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        match self.ql.find(pivot) {
            Some(at) => {
                self.ql.insert(at, v, after);
                true
            }
            None => false,
        }
    }

    /// LRANGE's window: `start..=end` clipped to the list, `None` when empty.
    pub fn range_bounds(&self, start: i64, end: i64) -> Option<(usize, usize)> {
        let len = self.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let end = if end < 0 { len + end } else { end.min(len - 1) };
        (start <= end && start < len).then_some((start as usize, end as usize))
    }

    /// Calls `f` on `count` elements from `start`, towards the tail (or the head when `rev`).
    pub fn for_range(&self, start: usize, count: usize, rev: bool, mut f: impl FnMut(LpValue<'_>)) {
        let mut left = count;
        if left == 0 {
            return;
        }
        self.ql.walk(start, rev, |v| {
            f(v);
            left -= 1;
            if left == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// LTRIM: keeps `start..=end` (Redis indexes), deleting the key's content when empty.
    pub fn trim(&mut self, start: i64, end: i64) {
        let len = self.len();
        let (ltrim, rtrim) = match self.range_bounds(start, end) {
            Some((s, e)) => (s, len - e - 1),
            None => (len, 0),
        };
        self.ql.delete_range(0, ltrim);
        if rtrim > 0 {
            self.ql.delete_range(-(rtrim as i64), rtrim);
        }
    }

    /// LREM: removes up to `count` elements equal to `v` (from the tail when negative, all when
    /// 0); the number removed.
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        self.ql
            .remove_equal(v, count.unsigned_abs() as usize, count < 0)
    }

    /// LPOS: indexes of the elements equal to `v`, as the query asks.
    pub fn positions(&self, v: &[u8], q: PosQuery) -> Vec<usize> {
        let len = self.len();
        let mut out = Vec::new();
        if len == 0 {
            return out;
        }
        let rev = q.rank < 0;
        let mut skip = q.rank.unsigned_abs() - 1;
        let mut index = if rev { len - 1 } else { 0 };
        let mut compared = 0usize;
        self.ql.walk(index, rev, |e| {
            if q.maxlen != 0 && compared == q.maxlen {
                return ControlFlow::Break(());
            }
            compared += 1;
            if e.eq_bytes(v) {
                if skip > 0 {
                    skip -= 1;
                } else {
                    out.push(index);
                    if q.count != 0 && out.len() == q.count {
                        return ControlFlow::Break(());
                    }
                }
            }
            if rev {
                index = index.wrapping_sub(1);
            } else {
                index += 1;
            }
            ControlFlow::Continue(())
        });
        out
    }

    /// Every element, head to tail.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.ql.to_vecs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> ListValue {
        let mut l = ListValue::new(-2, 0);
        for i in items {
            l.push(End::Tail, i.as_bytes());
        }
        l
    }

    fn strs(l: &ListValue) -> Vec<String> {
        l.to_vecs()
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    #[test]
    fn range_bounds_follow_lrange() {
        let l = list(&["a", "b", "c", "d"]);
        assert_eq!(l.range_bounds(0, -1), Some((0, 3)));
        assert_eq!(l.range_bounds(-100, 100), Some((0, 3)));
        assert_eq!(l.range_bounds(2, 1), None);
        assert_eq!(l.range_bounds(5, 10), None);
        assert_eq!(l.range_bounds(-2, -1), Some((2, 3)));
    }

    #[test]
    fn trim_insert_remove() {
        let mut l = list(&["a", "b", "c", "b", "e"]);
        l.trim(1, -2);
        assert_eq!(strs(&l), ["b", "c", "b"]);
        assert!(l.insert(b"c", b"x", true));
        assert!(!l.insert(b"zz", b"x", true));
        assert_eq!(strs(&l), ["b", "c", "x", "b"]);
        assert_eq!(l.remove(b"b", -1), 1);
        assert_eq!(strs(&l), ["b", "c", "x"]);
        l.trim(5, 10);
        assert!(l.is_empty());
    }

    #[test]
    fn positions_with_rank_count_maxlen() {
        let l = list(&["a", "b", "c", "1", "2", "3", "c", "c"]);
        let q = |rank, count, maxlen| PosQuery {
            rank,
            count,
            maxlen,
        };
        assert_eq!(l.positions(b"c", q(1, 1, 0)), [2]);
        assert_eq!(l.positions(b"c", q(2, 1, 0)), [6]);
        assert_eq!(l.positions(b"c", q(1, 0, 0)), [2, 6, 7]);
        assert_eq!(l.positions(b"c", q(-1, 2, 0)), [7, 6]);
        assert_eq!(l.positions(b"c", q(1, 0, 3)), [2]);
        assert_eq!(l.positions(b"c", q(-3, 0, 0)), [2]);
        assert!(l.positions(b"c", q(1, 0, 2)).is_empty());
    }
}
