//! Redis 7.0's quicklist: a list kept as a chain of listpack nodes, each bounded by
//! `list-max-listpack-size`, with the nodes deeper than `list-compress-depth` from either end
//! LZF-compressed.
//!
//! Node sizing follows Redis 7.0.15 (`quicklist.c`), so a list built by the same commands has
//! the same nodes (RDB writes one blob per node):
//! - `fill < 0` bounds a node's bytes: -1 4 KiB, -2 8 KiB, -3 16 KiB, -4 32 KiB, -5 64 KiB
//!   (counting an estimated 8 bytes of overhead for the element being added);
//! - `fill > 0` bounds its element count, while the node stays within 8 KiB;
//! - an insert into the middle of a full node splits it and merges what it can around the
//!   split; deletions never merge.
//!
//! Compression keeps `depth` nodes at each end plain; every inner node is stored LZF-compressed
//! when that saves at least 8 bytes and the node has at least 48 (Redis's thresholds).
//! Redis's "plain" nodes for elements of 1 GiB or more are not made: `proto-max-bulk-len`
//! keeps every element below that.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::ControlFlow;

use super::listpack::{Listpack, LpValue};
use super::lzf;

/// Byte limits for negative fill values -1..=-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A count-limited node still never grows beyond this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// What an added element is assumed to cost beyond its bytes.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Nodes smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save at least this many bytes to be kept.
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Largest positive fill (Redis keeps it in 15 bits).
const FILL_MAX: i32 = (1 << 15) - 1;
/// Largest compress depth (16 bits).
const COMPRESS_MAX: usize = (1 << 16) - 1;
/// A listpack's header and end byte, counted once when two nodes merge.
const LISTPACK_OVERHEAD: usize = 11;

/// One end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Storage {
    Plain(Listpack),
    /// The LZF stream of a listpack of `raw_len` bytes.
    Lzf {
        data: Box<[u8]>,
        raw_len: usize,
    },
}

/// One node: a listpack, plain or compressed, and its element count.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    storage: Storage,
    count: usize,
    /// A plain inner node whose compression was tried and did not pay (not retried until the
    /// node changes).
    incompressible: bool,
}

impl Node {
    fn new(lp: Listpack) -> Node {
        let count = lp.len();
        Node {
            storage: Storage::Plain(lp),
            count,
            incompressible: false,
        }
    }

    /// The listpack's size in bytes (Redis's `node->sz`, uncompressed).
    fn sz(&self) -> usize {
        match &self.storage {
            Storage::Plain(lp) => lp.bytes_len(),
            Storage::Lzf { raw_len, .. } => *raw_len,
        }
    }

    fn lp(&self) -> Cow<'_, Listpack> {
        match &self.storage {
            Storage::Plain(lp) => Cow::Borrowed(lp),
            Storage::Lzf { data, raw_len } => Cow::Owned(inflate(data, *raw_len)),
        }
    }

    /// The listpack, decompressed in place, for a change.
    fn lp_mut(&mut self) -> &mut Listpack {
        self.decompress();
        self.incompressible = false;
        match &mut self.storage {
            Storage::Plain(lp) => lp,
            Storage::Lzf { .. } => unreachable!("decompressed above"),
        }
    }

    fn into_lp(self) -> Listpack {
        match self.storage {
            Storage::Plain(lp) => lp,
            Storage::Lzf { data, raw_len } => inflate(&data, raw_len),
        }
    }

    fn decompress(&mut self) {
        if let Storage::Lzf { data, raw_len } = &self.storage {
            self.storage = Storage::Plain(inflate(data, *raw_len));
        }
    }

    fn compress(&mut self) {
        let Storage::Plain(lp) = &self.storage else {
            return;
        };
        if self.incompressible {
            return;
        }
        let sz = lp.bytes_len();
        let packed = (sz >= MIN_COMPRESS_BYTES)
            .then(|| lzf::compress(lp.as_bytes(), sz))
            .flatten()
            .filter(|c| c.len() + MIN_COMPRESS_IMPROVE < sz);
        match packed {
            Some(data) => {
                self.storage = Storage::Lzf {
                    data: data.into_boxed_slice(),
                    raw_len: sz,
                }
            }
            None => self.incompressible = true,
        }
    }

    fn is_compressed(&self) -> bool {
        matches!(self.storage, Storage::Lzf { .. })
    }
}

fn inflate(data: &[u8], raw_len: usize) -> Listpack {
    let bytes = lzf::decompress(data, raw_len).expect("nodes hold the LZF of a listpack");
    Listpack::from_bytes(bytes).expect("nodes hold the LZF of a valid listpack")
}

/// Whether a node of `sz` bytes fits a negative (byte-limited) fill.
fn meets_size_level(sz: usize, fill: i32) -> bool {
    if fill >= 0 {
        return false;
    }
    let level = (-(fill as i64) - 1) as usize;
    OPTIMIZATION_LEVEL
        .get(level)
        .is_some_and(|&limit| sz <= limit)
}

fn allow_insert(node: &Node, fill: i32, sz: usize) -> bool {
    let new_sz = node.sz() + sz + SIZE_ESTIMATE_OVERHEAD;
    if meets_size_level(new_sz, fill) {
        true
    } else if new_sz > SIZE_SAFETY_LIMIT {
        false
    } else {
        (node.count as i64) < i64::from(fill)
    }
}

fn allow_merge(a: &Node, b: &Node, fill: i32) -> bool {
    let merged = (a.sz() + b.sz()).saturating_sub(LISTPACK_OVERHEAD);
    if meets_size_level(merged, fill) {
        true
    } else if merged > SIZE_SAFETY_LIMIT {
        false
    } else {
        ((a.count + b.count) as i64) <= i64::from(fill)
    }
}

fn single(v: &[u8]) -> Listpack {
    let mut lp = Listpack::new();
    lp.push_back(v);
    lp
}

/// A list of byte strings in listpack nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quicklist {
    nodes: VecDeque<Node>,
    count: usize,
    fill: i32,
    depth: usize,
}

impl Quicklist {
    /// Heap bytes held: the node array and each node's listpack (or its LZF stream),
    /// estimated from `samples` nodes (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        let array = self.nodes.capacity() * std::mem::size_of::<Node>();
        array
            + crate::value::sampled_bytes(
                self.nodes.iter(),
                self.nodes.len(),
                samples,
                |n| match &n.storage {
                    Storage::Plain(lp) => lp.allocated_bytes(),
                    Storage::Lzf { data, .. } => data.len(),
                },
            )
    }

    /// An empty list with `list-max-listpack-size` `fill` and `list-compress-depth` `depth`
    /// (clamped as Redis clamps them: fill to -5..=32767, depth to 65535).
    pub fn new(fill: i32, depth: usize) -> Quicklist {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: fill.clamp(-5, FILL_MAX),
            depth: depth.min(COMPRESS_MAX),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of LZF-compressed nodes.
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_compressed()).count()
    }

    /// Each node's listpack, head to tail (decompressed as needed): what RDB writes.
    pub fn node_listpacks(&self) -> impl Iterator<Item = Cow<'_, Listpack>> {
        self.nodes.iter().map(Node::lp)
    }

    /// Adds `v` at one end.
    pub fn push(&mut self, end: End, v: &[u8]) {
        let fill = self.fill;
        let target = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        match target {
            Some(node) if allow_insert(node, fill, v.len()) => {
                let lp = node.lp_mut();
                match end {
                    End::Head => lp.push_front(v),
                    End::Tail => lp.push_back(v),
                }
                node.count += 1;
            }
            _ => {
                let node = Node::new(single(v));
                match end {
                    End::Head => self.nodes.push_front(node),
                    End::Tail => self.nodes.push_back(node),
                }
            }
        }
        self.count += 1;
        self.settle();
    }

    /// Appends a whole listpack as the last node, as it is (RDB loading keeps the saved node
    /// layout, as Redis's `quicklistAppendListpack`). An empty listpack adds nothing.
    pub fn append_listpack(&mut self, lp: Listpack) {
        if lp.is_empty() {
            return;
        }
        self.count += lp.len();
        self.nodes.push_back(Node::new(lp));
        // Only the node that just moved `depth` away from the tail changes state.
        let len = self.nodes.len();
        if self.depth > 0 && len > 2 * self.depth {
            self.nodes[len - 1 - self.depth].compress();
        }
    }

    /// Removes and returns the element at one end.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let i = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let lp = self.nodes.get_mut(i)?.lp_mut();
        let pos = match end {
            End::Head => lp.first(),
            End::Tail => lp.last(),
        }?;
        let value = lp.get(pos).to_vec();
        lp.delete(pos);
        self.after_delete(i, 1);
        self.settle();
        Some(value)
    }

    /// Bookkeeping after `n` elements left node `i`: drops it when empty.
    fn after_delete(&mut self, i: usize, n: usize) {
        self.count -= n;
        let node = &mut self.nodes[i];
        node.count -= n;
        if node.count == 0 {
            self.nodes.remove(i);
        }
    }

    /// Node and offset of element `index` (`0..len`), walking from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.count {
            return None;
        }
        if index <= self.count / 2 {
            let mut left = index;
            for (i, node) in self.nodes.iter().enumerate() {
                if left < node.count {
                    return Some((i, left));
                }
                left -= node.count;
            }
            None
        } else {
            let mut right = self.count - 1 - index;
            for (i, node) in self.nodes.iter().enumerate().rev() {
                if right < node.count {
                    return Some((i, node.count - 1 - right));
                }
                right -= node.count;
            }
            None
        }
    }

    /// Resolves a Redis index (negative counts from the tail) to `0..len`.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let n = self.count as i64;
        let i = if index < 0 { n + index } else { index };
        (0..n).contains(&i).then_some(i as usize)
    }

    /// The element at `index` (negative from the tail).
    pub fn get(&self, index: i64) -> Option<Vec<u8>> {
        let (i, off) = self.locate(self.resolve(index)?)?;
        let lp = self.nodes[i].lp();
        let pos = lp.seek(off as i64)?;
        Some(lp.get(pos).to_vec())
    }

    /// Overwrites the element at `index` (negative from the tail); false when out of range.
    pub fn replace(&mut self, index: i64, v: &[u8]) -> bool {
        let Some((i, off)) = self.resolve(index).and_then(|x| self.locate(x)) else {
            return false;
        };
        let lp = self.nodes[i].lp_mut();
        if let Some(pos) = lp.seek(off as i64) {
            lp.replace(pos, v);
        }
        self.settle();
        true
    }

    /// Calls `f` on each element from `start` (`0..len`) towards the tail, or towards the head
    /// when `rev`, until it breaks.
    pub fn walk(&self, start: usize, rev: bool, mut f: impl FnMut(LpValue<'_>) -> ControlFlow<()>) {
        let Some((first, mut off)) = self.locate(start) else {
            return;
        };
        let mut visit = |node: &Node, off: usize| -> ControlFlow<()> {
            let lp = node.lp();
            let mut pos = lp.seek(off as i64);
            while let Some(p) = pos {
                f(lp.get(p))?;
                pos = if rev { lp.prev(p) } else { lp.next(p) };
            }
            ControlFlow::Continue(())
        };
        if rev {
            for i in (0..=first).rev() {
                if visit(&self.nodes[i], off).is_break() {
                    return;
                }
                off = i.checked_sub(1).map_or(0, |p| self.nodes[p].count - 1);
            }
        } else {
            for i in first..self.nodes.len() {
                if visit(&self.nodes[i], off).is_break() {
                    return;
                }
                off = 0;
            }
        }
    }

    /// Every element, head to tail.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.count);
        self.walk(0, false, |v| {
            out.push(v.to_vec());
            ControlFlow::Continue(())
        });
        out
    }

    /// Index of the first element equal to `v`, from the head.
    pub fn find(&self, v: &[u8]) -> Option<usize> {
        let mut index = 0;
        let mut found = None;
        self.walk(0, false, |e| {
            if e.eq_bytes(v) {
                found = Some(index);
                return ControlFlow::Break(());
            }
            index += 1;
            ControlFlow::Continue(())
        });
        found
    }

    /// Removes up to `limit` elements equal to `v` (all when `limit` is 0), scanning from the
    /// head, or from the tail when `rev`; the number removed.
    pub fn remove_equal(&mut self, v: &[u8], limit: usize, rev: bool) -> usize {
        let mut removed = 0;
        let order: Vec<usize> = if rev {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        let mut emptied = Vec::new();
        for i in order {
            if limit != 0 && removed == limit {
                break;
            }
            // Skip nodes without a match rather than decompressing them for writing.
            let has = {
                let lp = self.nodes[i].lp();
                lp.iter().any(|e| e.eq_bytes(v))
            };
            if !has {
                continue;
            }
            let node = &mut self.nodes[i];
            let lp = node.lp_mut();
            let mut here = 0;
            if rev {
                let mut pos = lp.last();
                while let Some(p) = pos {
                    if limit != 0 && removed + here == limit {
                        break;
                    }
                    let prev = lp.prev(p);
                    if lp.get(p).eq_bytes(v) {
                        lp.delete(p);
                        here += 1;
                    }
                    pos = prev;
                }
            } else {
                let mut pos = lp.first();
                while let Some(p) = pos {
                    if limit != 0 && removed + here == limit {
                        break;
                    }
                    if lp.get(p).eq_bytes(v) {
                        pos = lp.delete(p);
                        here += 1;
                    } else {
                        pos = lp.next(p);
                    }
                }
            }
            node.count -= here;
            self.count -= here;
            removed += here;
            if node.count == 0 {
                emptied.push(i);
            }
        }
        emptied.sort_unstable();
        for i in emptied.into_iter().rev() {
            self.nodes.remove(i);
        }
        self.settle();
        removed
    }

    /// Deletes `count` elements from `start` (negative from the tail), clipped to the list
    /// (`quicklistDelRange`).
    pub fn delete_range(&mut self, start: i64, count: usize) {
        if count == 0 {
            return;
        }
        let Some(first) = self.resolve(start) else {
            return;
        };
        let mut extent = count.min(self.count - first);
        let Some((mut i, mut off)) = self.locate(first) else {
            return;
        };
        while extent > 0 && i < self.nodes.len() {
            let node_count = self.nodes[i].count;
            let del = if off == 0 && extent >= node_count {
                self.count -= node_count;
                self.nodes.remove(i);
                extent -= node_count;
                continue;
            } else {
                extent.min(node_count - off)
            };
            self.nodes[i].lp_mut().delete_range(off as i64, del);
            // A partial delete never empties the node (whole nodes went above).
            self.after_delete(i, del);
            i += 1;
            extent -= del;
            off = 0;
        }
        self.settle();
    }

    /// Inserts `v` before (or after, when `after`) the element at `index` (`0..len`), as
    /// Redis's `_quicklistInsert` does: into the node if it has room, else into the
    /// neighbouring node at a node edge, else a new node, else by splitting the node.
    pub fn insert(&mut self, index: usize, v: &[u8], after: bool) {
        let Some((i, off)) = self.locate(index) else {
            return;
        };
        let fill = self.fill;
        let sz = v.len();
        let count = self.nodes[i].count;
        let full = !allow_insert(&self.nodes[i], fill, sz);
        let at_tail = after && off == count - 1;
        let at_head = !after && off == 0;
        let avail_next = at_tail
            && self
                .nodes
                .get(i + 1)
                .is_some_and(|n| allow_insert(n, fill, sz));
        let avail_prev = at_head
            && i.checked_sub(1)
                .is_some_and(|p| allow_insert(&self.nodes[p], fill, sz));
        if !full {
            let node = &mut self.nodes[i];
            let lp = node.lp_mut();
            if let Some(pos) = lp.seek(off as i64) {
                if after {
                    lp.insert_after(pos, v);
                } else {
                    lp.insert_before(pos, v);
                }
            }
            node.count += 1;
        } else if at_tail && avail_next {
            let node = &mut self.nodes[i + 1];
            node.lp_mut().push_front(v);
            node.count += 1;
        } else if at_head && avail_prev {
            let node = &mut self.nodes[i - 1];
            node.lp_mut().push_back(v);
            node.count += 1;
        } else if at_tail || at_head {
            let at = if after { i + 1 } else { i };
            self.nodes.insert(at, Node::new(single(v)));
        } else {
            // Split: with `after`, the node keeps [0, off] and the new node takes the rest,
            // headed by `v`; without, the new node takes [0, off), followed by `v`.
            let lp = self.nodes[i].lp_mut();
            let mut other = lp.clone();
            if after {
                lp.delete_range(off as i64 + 1, count);
                other.delete_range(0, off + 1);
                other.push_front(v);
            } else {
                lp.delete_range(0, off);
                other.delete_range(off as i64, count);
                other.push_back(v);
            }
            let kept = self.nodes[i].lp().len();
            self.nodes[i].count = kept;
            let new_node = Node::new(other);
            let center = if after {
                self.nodes.insert(i + 1, new_node);
                i
            } else {
                self.nodes.insert(i, new_node);
                i + 1
            };
            self.count += 1;
            self.merge_around(center);
            self.settle();
            return;
        }
        self.count += 1;
        self.settle();
    }

    /// Merges node `b` into node `a` (`a` directly before `b`); the merged node's index.
    fn merge_pair(&mut self, a: usize) -> usize {
        let right = self.nodes.remove(a + 1).expect("merge partner exists");
        let left = &mut self.nodes[a];
        let lp = left.lp_mut();
        for v in right.into_lp().iter() {
            match v {
                LpValue::Int(n) => lp.push_back_int(n),
                LpValue::Str(s) => lp.push_back(s),
            }
        }
        left.count = lp.len();
        a
    }

    fn can_merge(&self, a: Option<usize>, b: Option<usize>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) if a < self.nodes.len() && b < self.nodes.len() => {
                allow_merge(&self.nodes[a], &self.nodes[b], self.fill)
            }
            _ => false,
        }
    }

    /// `_quicklistMergeNodes`: tries (prev-prev, prev), (next, next-next), (prev, center),
    /// then (center, next).
    fn merge_around(&mut self, center: usize) {
        let mut center = center;
        if center >= 2 && self.can_merge(Some(center - 2), Some(center - 1)) {
            self.merge_pair(center - 2);
            center -= 1;
        }
        if self.can_merge(Some(center + 1), Some(center + 2)) {
            self.merge_pair(center + 1);
        }
        let target = if center >= 1 && self.can_merge(Some(center), Some(center - 1)) {
            self.merge_pair(center - 1)
        } else {
            center
        };
        if self.can_merge(Some(target), Some(target + 1)) {
            self.merge_pair(target);
        }
    }

    /// Keeps the `depth` nodes at each end plain and the others compressed.
    fn settle(&mut self) {
        if self.depth == 0 {
            return;
        }
        let len = self.nodes.len();
        let depth = self.depth;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if i < depth || i + depth >= len {
                node.decompress();
            } else {
                node.compress();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(q: &Quicklist) -> Vec<String> {
        q.to_vecs()
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    fn sizes(q: &Quicklist) -> Vec<usize> {
        q.nodes.iter().map(|n| n.count).collect()
    }

    #[test]
    fn appended_listpacks_keep_their_layout_and_compress_inner_nodes() {
        let mut q = Quicklist::new(-2, 1);
        for n in 0..4 {
            let mut lp = Listpack::new();
            for i in 0..50 {
                lp.push_back(format!("node{n}-element-{i}").as_bytes());
            }
            q.append_listpack(lp);
        }
        q.append_listpack(Listpack::new());
        assert_eq!(sizes(&q), [50, 50, 50, 50]);
        assert_eq!(q.len(), 200);
        assert_eq!(q.compressed_nodes(), 2);
        assert_eq!(strs(&q)[199], "node3-element-49");
        check(&q);
    }

    fn check(q: &Quicklist) {
        let total: usize = q.nodes.iter().map(|n| n.count).sum();
        assert_eq!(total, q.count);
        for n in &q.nodes {
            assert!(n.count > 0);
            assert_eq!(n.lp().len(), n.count);
        }
    }

    #[test]
    fn push_pop_both_ends() {
        let mut q = Quicklist::new(-2, 0);
        q.push(End::Tail, b"b");
        q.push(End::Head, b"a");
        q.push(End::Tail, b"123");
        assert_eq!(strs(&q), ["a", "b", "123"]);
        assert_eq!(q.pop(End::Tail).unwrap(), b"123");
        assert_eq!(q.pop(End::Head).unwrap(), b"a");
        assert_eq!(q.pop(End::Head).unwrap(), b"b");
        assert_eq!(q.pop(End::Head), None);
        assert_eq!(q.node_count(), 0);
    }

    #[test]
    fn count_fill_makes_nodes_of_that_many() {
        let mut q = Quicklist::new(4, 0);
        for i in 0..10 {
            q.push(End::Tail, i.to_string().as_bytes());
        }
        assert_eq!(sizes(&q), [4, 4, 2]);
        for i in 0..10 {
            assert_eq!(q.get(i).unwrap(), i.to_string().as_bytes());
            assert_eq!(q.get(i - 10).unwrap(), i.to_string().as_bytes());
        }
        assert_eq!(q.get(10), None);
        assert_eq!(q.get(-11), None);
        check(&q);
    }

    #[test]
    fn byte_fill_bounds_node_size() {
        let mut q = Quicklist::new(-1, 0);
        let v = [b'x'; 100];
        for _ in 0..100 {
            q.push(End::Tail, &v);
        }
        // 4096-byte nodes: 6 header + 1 end byte + 102 per element (+ 8 estimated) fit 39.
        assert!(q.nodes.iter().all(|n| n.sz() <= 4096));
        assert_eq!(sizes(&q)[0], 39);
        check(&q);
    }

    #[test]
    fn insert_splits_full_nodes_and_merges() {
        let mut q = Quicklist::new(4, 0);
        for i in 0..8 {
            q.push(End::Tail, i.to_string().as_bytes());
        }
        q.insert(1, b"x", true);
        assert_eq!(strs(&q), ["0", "1", "x", "2", "3", "4", "5", "6", "7"]);
        check(&q);
        q.insert(0, b"h", false);
        q.insert(q.len() - 1, b"t", true);
        assert_eq!(strs(&q)[0], "h");
        assert_eq!(strs(&q).last().unwrap(), "t");
        check(&q);
        let mut want = strs(&q);
        for k in 0..30 {
            let at = (k * 7) % q.len();
            q.insert(at, b"y", k % 2 == 0);
            want.insert(if k % 2 == 0 { at + 1 } else { at }, "y".into());
            assert_eq!(strs(&q), want);
            check(&q);
        }
    }

    #[test]
    fn delete_range_and_remove_equal() {
        let mut q = Quicklist::new(3, 0);
        for i in 0..20 {
            q.push(End::Tail, (i % 4).to_string().as_bytes());
        }
        q.delete_range(2, 7);
        assert_eq!(q.len(), 13);
        check(&q);
        q.delete_range(-3, 3);
        assert_eq!(q.len(), 10);
        let mut want: Vec<String> = (0..20).map(|i| (i % 4).to_string()).collect();
        want.drain(2..9);
        want.truncate(10);
        assert_eq!(strs(&q), want);
        assert_eq!(q.remove_equal(b"1", 2, true), 2);
        assert_eq!(q.remove_equal(b"3", 0, false), 2);
        check(&q);
        assert_eq!(strs(&q), ["0", "1", "2", "0", "2", "0"]);
        q.delete_range(0, 100);
        assert!(q.is_empty());
        assert_eq!(q.node_count(), 0);
    }

    #[test]
    fn walk_both_directions() {
        let mut q = Quicklist::new(2, 0);
        for i in 0..7 {
            q.push(End::Tail, i.to_string().as_bytes());
        }
        let mut seen = Vec::new();
        q.walk(5, true, |v| {
            seen.push(v.to_vec());
            ControlFlow::Continue(())
        });
        assert_eq!(seen, [b"5", b"4", b"3", b"2", b"1", b"0"]);
        seen.clear();
        q.walk(3, false, |v| {
            seen.push(v.to_vec());
            ControlFlow::Continue(())
        });
        assert_eq!(seen, [b"3", b"4", b"5", b"6"]);
        assert_eq!(q.find(b"4"), Some(4));
        assert!(q.replace(-1, b"z"));
        assert_eq!(q.get(6).unwrap(), b"z");
    }

    #[test]
    fn inner_nodes_are_compressed_and_read_back() {
        let mut q = Quicklist::new(-1, 1);
        let v = b"some rather repetitive value some rather repetitive value".repeat(3);
        for i in 0..500 {
            let mut e = v.clone();
            e.extend_from_slice(i.to_string().as_bytes());
            q.push(End::Tail, &e);
        }
        assert!(q.node_count() > 3);
        assert_eq!(q.compressed_nodes(), q.node_count() - 2);
        assert!(!q.nodes[0].is_compressed());
        let mut want = v.clone();
        want.extend_from_slice(b"250");
        assert_eq!(q.get(250).unwrap(), want);
        q.insert(250, b"mid", true);
        assert_eq!(q.get(251).unwrap(), b"mid");
        q.delete_range(0, 400);
        check(&q);
        assert_eq!(q.compressed_nodes(), q.node_count().saturating_sub(2));
    }
}
