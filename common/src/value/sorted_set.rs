//! Sorted sets: members with scores, ordered by score then member bytes.
//!
//! Two encodings, as `OBJECT ENCODING` names them:
//! - `listpack`: member, score, member, score... in order, in one [`Listpack`], while the set
//!   has at most `zset-max-listpack-entries` members of at most `zset-max-listpack-value` bytes.
//!   Scores are stored as Redis stores them: an integer when the double is integral and within
//!   ±2^62, else its `%.17g` text; so `-0` is stored as `0`.
//! - `skiplist`: a member → score map plus a [`SkipList`] for order, rank and ranges.
//!
//! A set converts from listpack to skiplist when an insertion would cross a limit, and never
//! back, except for results built whole (ZUNIONSTORE and friends), which take the compact
//! encoding when they fit ([`ZSetValue::shrink_if_fits`]).
//!
//! Positions are 0-based ranks in ascending order; a score or lex range maps to a rank interval.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::encoding::listpack::{Listpack, LpValue};
pub use crate::encoding::skiplist::{LexBound, LexRange, ScoreRange};
use crate::encoding::skiplist::{SkipList, compare};
use crate::number::{MAX_I64_LEN, format_i64, parse_f64, write_g17};

/// The `zset-max-listpack-*` thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// A sorted set in one of its two encodings.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSetValue {
    Listpack(Listpack),
    Skiplist(Big),
}

/// The skiplist encoding: member → score, and the order.
#[derive(Debug, Clone)]
pub struct Big {
    dict: HashMap<Box<[u8]>, f64, foldhash::fast::RandomState>,
    list: SkipList,
}

impl PartialEq for Big {
    fn eq(&self, other: &Big) -> bool {
        self.dict == other.dict
    }
}

/// ZADD's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What [`ZSetValue::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// A new member with this score.
    Added(f64),
    /// An existing member moved to this score.
    Updated(f64),
    /// An existing member kept its score (equal to the new one).
    Unchanged(f64),
    /// The options forbade the change (NX on a member, XX without one, GT/LT not met).
    Skipped,
    /// INCR produced NaN (`inf + -inf`).
    NotANumber,
}

/// Reads a listpack score entry.
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(n) => n as f64,
        LpValue::Str(s) => parse_f64(s).unwrap_or(0.0),
    }
}

/// The bytes of a listpack entry, formatting integers into `buf`.
fn lp_bytes<'a>(v: LpValue<'a>, buf: &'a mut [u8; MAX_I64_LEN]) -> &'a [u8] {
    match v {
        LpValue::Str(s) => s,
        LpValue::Int(n) => format_i64(n, buf),
    }
}

/// How Redis stores a score in a listpack: integral doubles within ±2^62 as integers.
fn score_as_int(score: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if !(-LIMIT..=LIMIT).contains(&score) {
        return None;
    }
    let n = score as i64;
    (n as f64 == score).then_some(n)
}

/// The bytes a score is stored as (an integer's decimal form is stored as an integer).
fn score_bytes(score: f64, out: &mut Vec<u8>) {
    match score_as_int(score) {
        Some(n) => {
            let mut buf = [0u8; MAX_I64_LEN];
            out.extend_from_slice(format_i64(n, &mut buf));
        }
        None => write_g17(score, out),
    }
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Listpack(Listpack::new())
    }
}

impl Big {
    fn new() -> Big {
        Big {
            dict: HashMap::default(),
            list: SkipList::new(),
        }
    }

    fn insert(&mut self, member: &[u8], score: f64) {
        self.dict.insert(member.into(), score);
        self.list.insert(score, member.into());
    }

    /// Levels in use by the skiplist.
    pub fn level(&self) -> usize {
        self.list.level()
    }
}

impl ZSetValue {
    /// Heap bytes held, estimated from `samples` members (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.allocated_bytes(),
            ZSetValue::Skiplist(big) => {
                // The member map: one (member, score) slot and a control byte per bucket.
                let slot = std::mem::size_of::<(Box<[u8]>, f64)>() + 1;
                let map = big.dict.capacity() * slot
                    + crate::value::sampled_bytes(big.dict.keys(), big.dict.len(), samples, |m| {
                        m.len()
                    });
                std::mem::size_of::<Big>() + map + big.list.allocated_bytes(samples)
            }
        }
    }

    /// An empty set in the compact encoding.
    pub fn new_listpack() -> ZSetValue {
        ZSetValue::Listpack(Listpack::new())
    }

    /// An empty set in the skiplist encoding.
    pub fn new_skiplist() -> ZSetValue {
        ZSetValue::Skiplist(Big::new())
    }

    /// An empty set in the encoding Redis picks for `len` members of at most `max_member`
    /// bytes.
    pub fn with_hint(len: usize, max_member: usize, limits: Limits) -> ZSetValue {
        if limits.max_entries == 0 || len > limits.max_entries || max_member > limits.max_value {
            ZSetValue::new_skiplist()
        } else {
            ZSetValue::new_listpack()
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.len() / 2,
            ZSetValue::Skiplist(b) => b.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }

    /// Position (of the member entry) and score of `member` in a listpack.
    fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
        let mut pos = lp.first();
        while let Some(m) = pos {
            let s = lp.next(m)?;
            if lp.get(m).eq_bytes(member) {
                return Some((m, lp_score(lp.get(s))));
            }
            pos = lp.next(s);
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(lp) => Self::lp_find(lp, member).map(|(_, s)| s),
            ZSetValue::Skiplist(b) => b.dict.get(member).copied(),
        }
    }

    /// Inserts into a listpack that does not hold `member`, keeping the order.
    fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
        let mut text = Vec::with_capacity(24);
        score_bytes(score, &mut text);
        let mut pos = lp.first();
        while let Some(m) = pos {
            let Some(s) = lp.next(m) else { break };
            let here = lp_score(lp.get(s));
            let mut buf = [0u8; MAX_I64_LEN];
            let bytes = lp_bytes(lp.get(m), &mut buf);
            if compare(here, bytes, score, member).is_gt() {
                let at = lp.insert_before(m, member);
                lp.insert_after(at, &text);
                return;
            }
            pos = lp.next(s);
        }
        lp.push_back(member);
        lp.push_back(&text);
    }

    /// Converts to the skiplist encoding (no-op if already there).
    pub fn convert_to_skiplist(&mut self) {
        if let ZSetValue::Listpack(lp) = self {
            let mut big = Big::new();
            let mut it = lp.iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                let mut buf = [0u8; MAX_I64_LEN];
                big.insert(lp_bytes(m, &mut buf), lp_score(s));
            }
            *self = ZSetValue::Skiplist(big);
        }
    }

    /// Takes the listpack encoding if the set fits `limits` (`maxelelen` is the longest member).
    pub fn shrink_if_fits(&mut self, limits: Limits, max_member: usize) {
        if let ZSetValue::Skiplist(big) = self
            && big.dict.len() <= limits.max_entries
            && max_member <= limits.max_value
        {
            let mut lp = Listpack::new();
            let mut text = Vec::with_capacity(24);
            for (m, s) in big.list.iter() {
                lp.push_back(m);
                text.clear();
                score_bytes(s, &mut text);
                lp.push_back(&text);
            }
            *self = ZSetValue::Listpack(lp);
        }
    }

    /// Adds or updates `member` as ZADD does with `flags`, converting to skiplist when an
    /// insertion would cross `limits`. `score` is the increment under INCR.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: Limits,
    ) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        match self.score(member) {
            Some(cur) => {
                if flags.nx {
                    return AddOutcome::Skipped;
                }
                let new = if flags.incr { cur + score } else { score };
                if new.is_nan() {
                    return AddOutcome::NotANumber;
                }
                if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                    return AddOutcome::Skipped;
                }
                if new == cur {
                    return AddOutcome::Unchanged(cur);
                }
                match self {
                    ZSetValue::Listpack(lp) => {
                        if let Some((pos, _)) = Self::lp_find(lp, member) {
                            lp.delete(pos);
                            lp.delete(pos);
                        }
                        Self::lp_insert(lp, member, new);
                    }
                    ZSetValue::Skiplist(b) => {
                        b.list.update_score(cur, member, new);
                        if let Some(score) = b.dict.get_mut(member) {
                            *score = new;
                        }
                    }
                }
                AddOutcome::Updated(new)
            }
            None => {
                if flags.xx {
                    return AddOutcome::Skipped;
                }
                if let ZSetValue::Listpack(lp) = self
                    && (lp.len() / 2 + 1 > limits.max_entries
                        || member.len() > limits.max_value
                        || !lp.safe_to_add(member.len()))
                {
                    self.convert_to_skiplist();
                }
                match self {
                    ZSetValue::Listpack(lp) => Self::lp_insert(lp, member, score),
                    ZSetValue::Skiplist(b) => b.insert(member, score),
                }
                AddOutcome::Added(score)
            }
        }
    }

    /// Inserts or overwrites a member (store commands, tests).
    pub fn set(&mut self, member: &[u8], score: f64, limits: Limits) {
        self.add(member, score, AddFlags::default(), limits);
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(lp) => match Self::lp_find(lp, member) {
                Some((pos, _)) => {
                    lp.delete(pos);
                    lp.delete(pos);
                    true
                }
                None => false,
            },
            ZSetValue::Skiplist(b) => match b.dict.remove(member) {
                Some(score) => {
                    b.list.remove(score, member);
                    true
                }
                None => false,
            },
        }
    }

    /// Ascending 0-based rank and score of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSetValue::Listpack(lp) => {
                let mut rank = 0;
                let mut pos = lp.first();
                while let Some(m) = pos {
                    let s = lp.next(m)?;
                    if lp.get(m).eq_bytes(member) {
                        return Some((rank, lp_score(lp.get(s))));
                    }
                    rank += 1;
                    pos = lp.next(s);
                }
                None
            }
            ZSetValue::Skiplist(b) => {
                let score = *b.dict.get(member)?;
                b.list.rank(score, member).map(|r| (r, score))
            }
        }
    }

    /// Calls `f(member, score)` for ranks `lo..=hi` (ascending ranks, clamped to the set),
    /// in ascending order, or descending from `hi` when `rev`.
    pub fn for_each_in_ranks(
        &self,
        lo: usize,
        hi: usize,
        rev: bool,
        mut f: impl FnMut(&[u8], f64),
    ) {
        let len = self.len();
        if len == 0 || lo > hi || lo >= len {
            return;
        }
        let hi = hi.min(len - 1);
        let count = hi - lo + 1;
        match self {
            ZSetValue::Listpack(lp) => {
                let start = if rev { hi } else { lo };
                let Some(mut m) = lp.seek(2 * start as i64) else {
                    return;
                };
                for i in 0..count {
                    let Some(s) = lp.next(m) else { return };
                    let mut buf = [0u8; MAX_I64_LEN];
                    f(lp_bytes(lp.get(m), &mut buf), lp_score(lp.get(s)));
                    if i + 1 == count {
                        break;
                    }
                    let step = if rev {
                        lp.prev(m).and_then(|p| lp.prev(p))
                    } else {
                        lp.next(s)
                    };
                    match step {
                        Some(p) => m = p,
                        None => return,
                    }
                }
            }
            ZSetValue::Skiplist(b) => {
                let start = if rev { hi } else { lo };
                let mut node = b.list.by_rank(start);
                for _ in 0..count {
                    let Some(n) = node else { return };
                    f(b.list.member(n), b.list.score(n));
                    node = if rev { b.list.prev(n) } else { b.list.next(n) };
                }
            }
        }
    }

    /// Every (member, score), ascending.
    pub fn pairs(&self) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_in_ranks(0, usize::MAX, false, |m, s| out.push((m.to_vec(), s)));
        out
    }

    /// Calls `f(member, score)` for every member, ascending.
    pub fn for_each(&self, f: impl FnMut(&[u8], f64)) {
        self.for_each_in_ranks(0, usize::MAX, false, f);
    }

    /// The (lowest, highest) ascending ranks of the members a predicate pair selects: `above`
    /// holds on a suffix and `below` on a prefix.
    fn lp_rank_interval(
        lp: &Listpack,
        above: impl Fn(&[u8], f64) -> bool,
        below: impl Fn(&[u8], f64) -> bool,
    ) -> Option<(usize, usize)> {
        let mut first = None;
        let mut last = None;
        let mut rank = 0;
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let mut buf = [0u8; MAX_I64_LEN];
            let bytes = lp_bytes(m, &mut buf);
            let score = lp_score(s);
            if !below(bytes, score) {
                break;
            }
            if above(bytes, score) {
                first.get_or_insert(rank);
                last = Some(rank);
            }
            rank += 1;
        }
        first.zip(last)
    }

    /// Ascending rank interval of the members with scores in `range`.
    pub fn score_range_ranks(&self, range: &ScoreRange) -> Option<(usize, usize)> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                Self::lp_rank_interval(lp, |_, s| range.above_min(s), |_, s| range.below_max(s))
            }
            ZSetValue::Skiplist(b) => {
                let first = b.list.first_in_score_range(range)?;
                let last = b.list.last_in_score_range(range)?;
                Some((b.list.rank_of(first), b.list.rank_of(last)))
            }
        }
    }

    /// Calls `f(member, score)` for the members with scores in `range`, ascending, until it
    /// breaks (GEOSEARCH stops early once it has COUNT ANY members).
    pub fn visit_score_range(
        &self,
        range: &ScoreRange,
        mut f: impl FnMut(&[u8], f64) -> ControlFlow<()>,
    ) {
        if range.is_empty() {
            return;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    let score = lp_score(s);
                    if !range.above_min(score) {
                        continue;
                    }
                    if !range.below_max(score) {
                        break;
                    }
                    let mut buf = [0u8; MAX_I64_LEN];
                    if f(lp_bytes(m, &mut buf), score).is_break() {
                        break;
                    }
                }
            }
            ZSetValue::Skiplist(b) => {
                let mut node = b.list.first_in_score_range(range);
                while let Some(n) = node {
                    let score = b.list.score(n);
                    if !range.below_max(score) || f(b.list.member(n), score).is_break() {
                        break;
                    }
                    node = b.list.next(n);
                }
            }
        }
    }

    /// Ascending rank interval of the members in the lex `range`.
    pub fn lex_range_ranks(&self, range: &LexRange) -> Option<(usize, usize)> {
        if range.is_empty() {
            return None;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                Self::lp_rank_interval(lp, |m, _| range.above_min(m), |m, _| range.below_max(m))
            }
            ZSetValue::Skiplist(b) => {
                let first = b.list.first_in_lex_range(range)?;
                let last = b.list.last_in_lex_range(range)?;
                Some((b.list.rank_of(first), b.list.rank_of(last)))
            }
        }
    }

    /// Removes ascending ranks `lo..=hi`; returns how many went.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let len = self.len();
        if len == 0 || lo > hi || lo >= len {
            return 0;
        }
        let hi = hi.min(len - 1);
        let count = hi - lo + 1;
        match self {
            ZSetValue::Listpack(lp) => {
                lp.delete_range(2 * lo as i64, 2 * count);
            }
            ZSetValue::Skiplist(b) => {
                let mut gone = Vec::with_capacity(count);
                let mut node = b.list.by_rank(lo);
                for _ in 0..count {
                    let Some(n) = node else { break };
                    gone.push((b.list.member(n).to_vec(), b.list.score(n)));
                    node = b.list.next(n);
                }
                for (m, s) in gone {
                    b.list.remove(s, &m);
                    b.dict.remove(m.as_slice());
                }
            }
        }
        count
    }

    /// Removes and returns up to `count` members from the low end (or high end when `max`),
    /// in pop order.
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        if n == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(n);
        let (lo, hi) = if max { (len - n, len - 1) } else { (0, n - 1) };
        self.for_each_in_ranks(lo, hi, max, |m, s| out.push((m.to_vec(), s)));
        self.remove_ranks(lo, hi);
        out
    }

    /// The member at ascending `rank`.
    pub fn at_rank(&self, rank: usize) -> Option<(Vec<u8>, f64)> {
        let mut out = None;
        self.for_each_in_ranks(rank, rank, false, |m, s| out = Some((m.to_vec(), s)));
        out
    }

    /// The longest member's length (ZRANGESTORE/ZUNIONSTORE encoding choice).
    pub fn max_member_len(&self) -> usize {
        let mut max = 0;
        self.for_each(|m, _| max = max.max(m.len()));
        max
    }

    /// The listpack bytes, when in the compact encoding (RDB, DEBUG).
    pub fn listpack(&self) -> Option<&Listpack> {
        match self {
            ZSetValue::Listpack(lp) => Some(lp),
            ZSetValue::Skiplist(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        max_entries: 3,
        max_value: 8,
    };

    fn members(z: &ZSetValue) -> Vec<(String, f64)> {
        z.pairs()
            .into_iter()
            .map(|(m, s)| (String::from_utf8(m).unwrap(), s))
            .collect()
    }

    #[test]
    fn listpack_keeps_order_and_redis_score_forms() {
        let mut z = ZSetValue::new_listpack();
        z.set(b"b", 2.0, SMALL);
        z.set(b"a", 1.5, SMALL);
        z.set(b"10", -0.0, SMALL);
        assert_eq!(
            members(&z),
            [("10".into(), 0.0), ("a".into(), 1.5), ("b".into(), 2.0)]
        );
        let stored: Vec<LpValue<'_>> = z.listpack().unwrap().iter().collect();
        assert_eq!(
            stored,
            [
                LpValue::Int(10),
                LpValue::Int(0),
                LpValue::Str(b"a"),
                LpValue::Str(b"1.5"),
                LpValue::Str(b"b"),
                LpValue::Int(2)
            ]
        );
        // -0 is stored as the integer 0, so it reads back positive.
        assert!(z.score(b"10").unwrap().is_sign_positive());
    }

    #[test]
    fn converts_at_the_limits() {
        let mut z = ZSetValue::new_listpack();
        for (i, m) in ["a", "b", "c"].iter().enumerate() {
            z.set(m.as_bytes(), i as f64, SMALL);
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"d", 9.0, SMALL);
        assert_eq!(z.encoding_name(), "skiplist");
        let mut z = ZSetValue::new_listpack();
        z.set(b"123456789", 1.0, SMALL);
        assert_eq!(z.encoding_name(), "skiplist");
        z.remove(b"123456789");
        z.set(b"x", 1.0, SMALL);
        z.shrink_if_fits(SMALL, 1);
        assert_eq!(z.encoding_name(), "listpack");
        assert_eq!(members(&z), [("x".into(), 1.0)]);
    }

    #[test]
    fn add_flags_behave_as_zadd() {
        for start in [ZSetValue::new_listpack(), ZSetValue::new_skiplist()] {
            let mut z = start;
            let l = Limits::default();
            let nx = AddFlags {
                nx: true,
                ..AddFlags::default()
            };
            assert_eq!(z.add(b"a", 1.0, nx, l), AddOutcome::Added(1.0));
            assert_eq!(z.add(b"a", 2.0, nx, l), AddOutcome::Skipped);
            let gt = AddFlags {
                gt: true,
                ..AddFlags::default()
            };
            assert_eq!(z.add(b"a", 0.5, gt, l), AddOutcome::Skipped);
            assert_eq!(z.add(b"a", 3.0, gt, l), AddOutcome::Updated(3.0));
            let incr = AddFlags {
                incr: true,
                ..AddFlags::default()
            };
            assert_eq!(z.add(b"a", 0.0, incr, l), AddOutcome::Unchanged(3.0));
            z.set(b"i", f64::INFINITY, l);
            assert_eq!(
                z.add(b"i", f64::NEG_INFINITY, incr, l),
                AddOutcome::NotANumber
            );
            let xx = AddFlags {
                xx: true,
                ..AddFlags::default()
            };
            assert_eq!(z.add(b"zz", 1.0, xx, l), AddOutcome::Skipped);
            assert_eq!(z.len(), 2);
        }
    }

    #[test]
    fn score_range_visits_stop_when_asked() {
        let big = Limits {
            max_entries: 0,
            max_value: 0,
        };
        for limits in [Limits::default(), big] {
            let mut z = ZSetValue::with_hint(0, 0, limits);
            for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
                z.set(m.as_bytes(), i as f64, limits);
            }
            let r = ScoreRange {
                min: 1.0,
                max: 4.0,
                min_exclusive: false,
                max_exclusive: true,
            };
            let mut seen = Vec::new();
            z.visit_score_range(&r, |m, s| {
                seen.push((m.to_vec(), s));
                ControlFlow::Continue(())
            });
            assert_eq!(
                seen,
                [
                    (b"b".to_vec(), 1.0),
                    (b"c".to_vec(), 2.0),
                    (b"d".to_vec(), 3.0)
                ]
            );
            seen.clear();
            z.visit_score_range(&r, |m, s| {
                seen.push((m.to_vec(), s));
                ControlFlow::Break(())
            });
            assert_eq!(seen, [(b"b".to_vec(), 1.0)]);
        }
    }

    #[test]
    fn ranks_ranges_and_removal_agree_across_encodings() {
        let big = Limits {
            max_entries: 0,
            max_value: 0,
        };
        for limits in [Limits::default(), big] {
            let mut z = ZSetValue::with_hint(0, 0, limits);
            for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
                z.set(m.as_bytes(), i as f64, limits);
            }
            assert_eq!(z.rank(b"c"), Some((2, 2.0)));
            let r = ScoreRange {
                min: 1.0,
                max: 3.0,
                min_exclusive: true,
                max_exclusive: false,
            };
            assert_eq!(z.score_range_ranks(&r), Some((2, 3)));
            let lex = LexRange {
                min: LexBound::Inclusive(b"b".to_vec()),
                max: LexBound::Exclusive(b"d".to_vec()),
            };
            assert_eq!(z.lex_range_ranks(&lex), Some((1, 2)));
            let mut rev = Vec::new();
            z.for_each_in_ranks(1, 3, true, |m, _| rev.push(m.to_vec()));
            assert_eq!(rev, [b"d".to_vec(), b"c".to_vec(), b"b".to_vec()]);
            assert_eq!(z.pop(2, true), [(b"e".to_vec(), 4.0), (b"d".to_vec(), 3.0)]);
            assert_eq!(z.remove_ranks(0, 0), 1);
            assert_eq!(members(&z), [("b".into(), 1.0), ("c".into(), 2.0)]);
            assert!(z.remove(b"b"));
            assert!(!z.remove(b"b"));
            assert_eq!(z.at_rank(0), Some((b"c".to_vec(), 2.0)));
        }
    }
}
