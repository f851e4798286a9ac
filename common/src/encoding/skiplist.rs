//! The ordered half of a big sorted set (`OBJECT ENCODING skiplist`): members ordered by score,
//! then bytewise, with O(log N) insertion, deletion, rank and range lookups.
//!
//! A skiplist in the style of Pugh's "indexable skiplist": every forward link also records how
//! many level-0 steps it spans, so walking down the levels adds up a node's rank. Nodes live in
//! one arena (`Vec`) and link by index, so the structure needs no `unsafe`; freed slots are
//! reused. Node levels are drawn with probability 1/4 per extra level, capped at 32, as in
//! Redis, which keeps the expected cost of every operation logarithmic.
//!
//! The list does not know which members it holds: the sorted set pairs it with a member → score
//! map and only asks it to delete pairs that exist.

use std::cmp::Ordering;

/// Highest level a node can have.
const MAX_LEVEL: usize = 32;
/// No node (end of a level, or no predecessor).
const NIL: usize = usize::MAX;
/// The arena slot of the header node, which holds no element.
const HEAD: usize = 0;

#[derive(Debug, Clone, Copy)]
struct Link {
    forward: usize,
    /// Level-0 steps from this node to `forward` (to the end of the list for `NIL`).
    span: usize,
}

#[derive(Debug, Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    backward: usize,
    /// Most nodes have one or two levels (probability 15/16): keep those inline, so a walk
    /// costs one cache miss per node, not two.
    levels: smallvec::SmallVec<[Link; 2]>,
}

/// Members ordered by (score, member); see the module docs.
#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<usize>,
    tail: usize,
    level: usize,
    len: usize,
    rng: u64,
}

/// A node of the list, valid until the list is modified.
pub type NodeId = usize;

/// A score interval: `min`/`max` with their exclusive flags (`(1.5`, `-inf`...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Whether `score` is at or above the lower bound.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// Whether `score` is at or below the upper bound.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    pub fn contains(&self, score: f64) -> bool {
        self.above_min(score) && self.below_max(score)
    }

    /// True when no score can satisfy the range (`min > max`, or equal with an exclusive end).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }
}

/// One end of a lexicographical range (`-`, `+`, `[a`, `(a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

/// A lexicographical interval over members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(m) => member >= m.as_slice(),
            LexBound::Exclusive(m) => member > m.as_slice(),
        }
    }

    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(m) => member <= m.as_slice(),
            LexBound::Exclusive(m) => member < m.as_slice(),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.above_min(member) && self.below_max(member)
    }

    /// True when no member can satisfy the range.
    pub fn is_empty(&self) -> bool {
        match (&self.min, &self.max) {
            (LexBound::PosInf, _) | (_, LexBound::NegInf) => true,
            (LexBound::NegInf, _) | (_, LexBound::PosInf) => false,
            (LexBound::Inclusive(a), LexBound::Inclusive(b)) => a > b,
            (LexBound::Inclusive(a) | LexBound::Exclusive(a), LexBound::Exclusive(b))
            | (LexBound::Exclusive(a), LexBound::Inclusive(b)) => a >= b,
        }
    }
}

/// The order of the list: score, then member bytes.
pub fn compare(score_a: f64, member_a: &[u8], score_b: f64, member_b: &[u8]) -> Ordering {
    match score_a.partial_cmp(&score_b) {
        Some(Ordering::Equal) | None => member_a.cmp(member_b),
        Some(o) => o,
    }
}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

impl SkipList {
    /// Heap bytes held: the node arena, the free list, and each node's member and spilled
    /// levels, estimated from `samples` nodes (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        let arena = self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * std::mem::size_of::<usize>();
        arena
            + crate::value::sampled_bytes(self.nodes.iter(), self.nodes.len(), samples, |n| {
                let spilled = if n.levels.spilled() {
                    n.levels.capacity() * std::mem::size_of::<Link>()
                } else {
                    0
                };
                n.member.len() + spilled
            })
    }

    pub fn new() -> SkipList {
        let head = Node {
            member: Box::default(),
            score: 0.0,
            backward: NIL,
            levels: smallvec::smallvec![
                Link {
                    forward: NIL,
                    span: 0
                };
                MAX_LEVEL
            ],
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
            level: 1,
            len: 0,
            rng: rand::random::<u64>() | 1,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Current number of levels in use (DEBUG's "Skiplist level").
    pub fn level(&self) -> usize {
        self.level
    }

    pub fn member(&self, node: NodeId) -> &[u8] {
        &self.nodes[node].member
    }

    pub fn score(&self, node: NodeId) -> f64 {
        self.nodes[node].score
    }

    /// The node after `node`, in ascending order.
    pub fn next(&self, node: NodeId) -> Option<NodeId> {
        some(self.nodes[node].levels[0].forward)
    }

    /// The node before `node`.
    pub fn prev(&self, node: NodeId) -> Option<NodeId> {
        some(self.nodes[node].backward)
    }

    pub fn first(&self) -> Option<NodeId> {
        some(self.nodes[HEAD].levels[0].forward)
    }

    pub fn last(&self) -> Option<NodeId> {
        some(self.tail)
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        while level < MAX_LEVEL {
            // xorshift64
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if self.rng & 3 != 0 {
                break;
            }
            level += 1;
        }
        level
    }

    fn forward(&self, node: usize, level: usize) -> usize {
        self.nodes[node].levels[level].forward
    }

    fn link(&mut self, node: usize, level: usize) -> &mut Link {
        &mut self.nodes[node].levels[level]
    }

    /// Whether the node sorts before (score, member).
    fn before(&self, node: usize, score: f64, member: &[u8]) -> bool {
        let n = &self.nodes[node];
        compare(n.score, &n.member, score, member) == Ordering::Less
    }

    /// Inserts a pair that is not in the list yet.
    pub fn insert(&mut self, score: f64, member: Box<[u8]>) -> NodeId {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.forward(x, i);
                if f == NIL || !self.before(f, score, &member) {
                    break;
                }
                rank[i] += self.nodes[x].levels[i].span;
                x = f;
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.link(HEAD, i).span = self.len;
            }
            self.level = level;
        }
        let node = Node {
            member,
            score,
            backward: if update[0] == HEAD { NIL } else { update[0] },
            levels: smallvec::smallvec![
                Link {
                    forward: NIL,
                    span: 0
                };
                level
            ],
        };
        let id = match self.free.pop() {
            Some(slot) => {
                self.nodes[slot] = node;
                slot
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        for i in 0..level {
            let prev = *self.link(update[i], i);
            let steps = rank[0] - rank[i];
            *self.link(id, i) = Link {
                forward: prev.forward,
                span: prev.span - steps,
            };
            *self.link(update[i], i) = Link {
                forward: id,
                span: steps + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.link(u, i).span += 1;
        }
        match some(self.forward(id, 0)) {
            Some(next) => self.nodes[next].backward = id,
            None => self.tail = id,
        }
        self.len += 1;
        id
    }

    /// Removes the pair; returns its member, or `None` when it is not in the list.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Box<[u8]>> {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NIL || !self.before(f, score, member) {
                    break;
                }
                x = f;
            }
            update[i] = x;
        }
        let x = self.forward(x, 0);
        if x == NIL {
            return None;
        }
        let n = &self.nodes[x];
        if compare(n.score, &n.member, score, member) != Ordering::Equal {
            return None;
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.forward(u, i) == x {
                let gone = self.nodes[x].levels[i];
                let link = self.link(u, i);
                link.span = link.span + gone.span - 1;
                link.forward = gone.forward;
            } else {
                self.link(u, i).span -= 1;
            }
        }
        let next = self.forward(x, 0);
        let back = self.nodes[x].backward;
        match some(next) {
            Some(next) => self.nodes[next].backward = back,
            None => self.tail = back,
        }
        while self.level > 1 && self.forward(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.free.push(x);
        let node = &mut self.nodes[x];
        node.levels = smallvec::SmallVec::new();
        Some(std::mem::take(&mut node.member))
    }

    /// Moves a member from `old` to `new` score; false when (old, member) is not in the list.
    pub fn update_score(&mut self, old: f64, member: &[u8], new: f64) -> bool {
        match self.remove(old, member) {
            Some(m) => {
                self.insert(new, m);
                true
            }
            None => false,
        }
    }

    /// 0-based ascending rank of the pair, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f];
                if compare(n.score, &n.member, score, member) == Ordering::Greater {
                    break;
                }
                rank += self.nodes[x].levels[i].span;
                x = f;
            }
            if x != HEAD {
                let n = &self.nodes[x];
                if compare(n.score, &n.member, score, member) == Ordering::Equal {
                    return Some(rank - 1);
                }
            }
        }
        None
    }

    /// The node at 0-based ascending `rank`.
    pub fn by_rank(&self, rank: usize) -> Option<NodeId> {
        let target = rank.checked_add(1)?;
        let mut x = HEAD;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let link = self.nodes[x].levels[i];
                if link.forward == NIL || traversed + link.span > target {
                    break;
                }
                traversed += link.span;
                x = link.forward;
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    /// The first node for which `past_start` holds, given that it holds for a suffix.
    fn first_where(&self, past_start: impl Fn(&Node) -> bool) -> Option<NodeId> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NIL || past_start(&self.nodes[f]) {
                    break;
                }
                x = f;
            }
        }
        some(self.forward(x, 0))
    }

    /// The last node for which `before_end` holds, given that it holds for a prefix.
    fn last_where(&self, before_end: impl Fn(&Node) -> bool) -> Option<NodeId> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NIL || !before_end(&self.nodes[f]) {
                    break;
                }
                x = f;
            }
        }
        (x != HEAD).then_some(x)
    }

    /// The first node whose score lies in `range`.
    pub fn first_in_score_range(&self, range: &ScoreRange) -> Option<NodeId> {
        if range.is_empty() {
            return None;
        }
        let n = self.first_where(|n| range.above_min(n.score))?;
        range.below_max(self.nodes[n].score).then_some(n)
    }

    /// The last node whose score lies in `range`.
    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<NodeId> {
        if range.is_empty() {
            return None;
        }
        let n = self.last_where(|n| range.below_max(n.score))?;
        range.above_min(self.nodes[n].score).then_some(n)
    }

    /// The first node whose member lies in `range` (meaningful when all scores are equal).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<NodeId> {
        if range.is_empty() {
            return None;
        }
        let n = self.first_where(|n| range.above_min(&n.member))?;
        range.below_max(&self.nodes[n].member).then_some(n)
    }

    /// The last node whose member lies in `range`.
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<NodeId> {
        if range.is_empty() {
            return None;
        }
        let n = self.last_where(|n| range.below_max(&n.member))?;
        range.above_min(&self.nodes[n].member).then_some(n)
    }

    /// 0-based rank of a node.
    pub fn rank_of(&self, node: NodeId) -> usize {
        let n = &self.nodes[node];
        self.rank(n.score, &n.member)
            .expect("a live node has a rank")
    }

    /// Every (member, score) pair in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + '_ {
        let mut ids = Vec::with_capacity(self.len);
        let mut x = self.first();
        while let Some(id) = x {
            ids.push(id);
            x = self.next(id);
        }
        ids.into_iter()
            .map(|id| (&*self.nodes[id].member, self.nodes[id].score))
    }
}

fn some(id: usize) -> Option<usize> {
    (id != NIL).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(pairs: &[(f64, &str)]) -> SkipList {
        let mut l = SkipList::new();
        for (s, m) in pairs {
            l.insert(*s, m.as_bytes().into());
        }
        l
    }

    fn members(l: &SkipList) -> Vec<String> {
        l.iter()
            .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn keeps_score_then_member_order() {
        let l = build(&[(3.0, "c"), (1.0, "z"), (1.0, "a"), (2.0, "b")]);
        assert_eq!(members(&l), ["a", "z", "b", "c"]);
        assert_eq!(l.len(), 4);
        assert_eq!(l.rank(2.0, b"b"), Some(2));
        assert_eq!(l.rank(2.0, b"x"), None);
        assert_eq!(
            l.by_rank(0).map(|n| l.member(n).to_vec()),
            Some(b"a".to_vec())
        );
        assert_eq!(
            l.by_rank(3).map(|n| l.member(n).to_vec()),
            Some(b"c".to_vec())
        );
        assert_eq!(l.by_rank(4), None);
        let last = l.last().unwrap();
        assert_eq!(l.member(last), b"c");
        assert_eq!(l.member(l.prev(last).unwrap()), b"b");
    }

    #[test]
    fn remove_and_update() {
        let mut l = build(&[(1.0, "a"), (2.0, "b"), (3.0, "c")]);
        assert_eq!(l.remove(2.0, b"b").as_deref(), Some(&b"b"[..]));
        assert_eq!(l.remove(2.0, b"b"), None);
        assert_eq!(l.remove(1.0, b"c"), None);
        assert_eq!(members(&l), ["a", "c"]);
        assert!(l.update_score(1.0, b"a", 5.0));
        assert_eq!(members(&l), ["c", "a"]);
        assert_eq!(l.rank(5.0, b"a"), Some(1));
        l.remove(3.0, b"c");
        l.remove(5.0, b"a");
        assert!(l.is_empty());
        assert_eq!(l.first(), None);
        assert_eq!(l.last(), None);
    }

    #[test]
    fn score_and_lex_ranges() {
        let l = build(&[(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")]);
        let r = ScoreRange {
            min: 2.0,
            max: 4.0,
            min_exclusive: false,
            max_exclusive: true,
        };
        assert_eq!(l.first_in_score_range(&r).map(|n| l.rank_of(n)), Some(1));
        assert_eq!(l.last_in_score_range(&r).map(|n| l.rank_of(n)), Some(2));
        let empty = ScoreRange {
            min: 2.5,
            max: 2.7,
            ..r
        };
        assert_eq!(l.first_in_score_range(&empty), None);
        assert_eq!(l.last_in_score_range(&empty), None);
        let lex = build(&[(0.0, "a"), (0.0, "b"), (0.0, "c")]);
        let r = LexRange {
            min: LexBound::Exclusive(b"a".to_vec()),
            max: LexBound::PosInf,
        };
        assert_eq!(lex.first_in_lex_range(&r).map(|n| lex.rank_of(n)), Some(1));
        assert_eq!(lex.last_in_lex_range(&r).map(|n| lex.rank_of(n)), Some(2));
        assert!(
            LexRange {
                min: LexBound::Exclusive(b"b".to_vec()),
                max: LexBound::Inclusive(b"b".to_vec())
            }
            .is_empty()
        );
    }

    #[test]
    fn matches_a_sorted_vec_under_random_edits() {
        let mut l = SkipList::new();
        let mut model: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut seed = 0x1234_5678_u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let score = (rnd() % 50) as i64;
            let member = format!("m{}", rnd() % 200).into_bytes();
            if let Some(pos) = model.iter().position(|(_, m)| *m == member) {
                let (old, m) = model.remove(pos);
                assert!(l.remove(old as f64, &m).is_some());
            } else {
                model.push((score, member.clone()));
                model.sort();
                l.insert(score as f64, member.into());
            }
            assert_eq!(l.len(), model.len());
        }
        for (i, (s, m)) in model.iter().enumerate() {
            assert_eq!(l.rank(*s as f64, m), Some(i));
            let n = l.by_rank(i).unwrap();
            assert_eq!(l.member(n), m.as_slice());
        }
        let got: Vec<_> = l.iter().map(|(m, s)| (s as i64, m.to_vec())).collect();
        assert_eq!(got, model);
        let back: Vec<_> = l.iter().rev().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(back.len(), model.len());
    }
}
