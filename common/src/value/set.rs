//! Set values: Redis's "Set API" (`setType*` in `t_set.c`) over the two encodings.
//!
//! A set is an [`IntSet`] while every member is an integer (by `string2ll`'s rules: no sign
//! but `-`, no leading zeros, fits `i64`) and it has at most `set-max-intset-entries`
//! members; otherwise it is a hash table of byte strings. Conversion goes one way only, as in
//! Redis: a set that became a hash table stays one.

use crate::encoding::intset::IntSet;
use crate::keyspace::dict::{Dict, DictItem};
use crate::number::parse_i64;
use crate::value::string::StrRef;

/// Redis caps `set-max-intset-entries` at 2^30 whatever the config says.
const INTSET_HARD_LIMIT: usize = 1 << 30;

/// One member of a hash-table set: its bytes and nothing else.
#[derive(Clone, PartialEq, Eq)]
pub struct Member(Box<[u8]>);

impl DictItem for Member {
    fn key(&self) -> &[u8] {
        &self.0
    }
}

/// A member taken out of a set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedMember {
    Int(i64),
    Bytes(Box<[u8]>),
}

impl OwnedMember {
    pub fn as_ref(&self) -> StrRef<'_> {
        match self {
            OwnedMember::Int(n) => StrRef::Int(*n),
            OwnedMember::Bytes(b) => StrRef::Bytes(b),
        }
    }

    fn from_ref(m: StrRef<'_>) -> OwnedMember {
        match m {
            StrRef::Int(n) => OwnedMember::Int(n),
            StrRef::Bytes(b) => OwnedMember::Bytes(b.into()),
        }
    }
}

/// A set, in one of Redis's two encodings.
pub enum SetValue {
    IntSet(IntSet),
    HashTable(Dict<Member>),
}

impl SetValue {
    /// Heap bytes held, estimated from `samples` members (all when 0).
    pub fn allocated_bytes(&self, samples: usize) -> usize {
        match self {
            SetValue::IntSet(is) => is.allocated(),
            SetValue::HashTable(d) => d.allocated_bytes(samples, |m| m.0.len()),
        }
    }

    /// An empty intset-encoded set (the start of every SINTERSTORE/SUNIONSTORE/SDIFFSTORE
    /// result, as Redis's `createIntsetObject`).
    pub fn new_intset() -> SetValue {
        SetValue::IntSet(IntSet::new())
    }

    /// An empty set in the encoding Redis picks for a first member (`setTypeCreate`).
    pub fn for_member(first: &[u8]) -> SetValue {
        if parse_i64(first).is_some() {
            SetValue::new_intset()
        } else {
            SetValue::HashTable(Dict::new())
        }
    }

    /// An empty set with the same encoding as `self`.
    pub fn empty_like(&self) -> SetValue {
        match self {
            SetValue::IntSet(_) => SetValue::new_intset(),
            SetValue::HashTable(_) => SetValue::HashTable(Dict::new()),
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            SetValue::IntSet(_) => "intset",
            SetValue::HashTable(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::IntSet(s) => s.len(),
            SetValue::HashTable(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The intset, while the set is one (for RDB and DEBUG).
    pub fn as_intset(&self) -> Option<&IntSet> {
        match self {
            SetValue::IntSet(s) => Some(s),
            SetValue::HashTable(_) => None,
        }
    }

    fn convert_to_hashtable(&mut self) {
        if let SetValue::IntSet(s) = self {
            let mut d = Dict::new();
            let mut buf = [0u8; 20];
            for v in s.iter() {
                d.insert(Member(StrRef::Int(v).bytes(&mut buf).into()));
            }
            *self = SetValue::HashTable(d);
        }
    }

    /// Adds `member`; false if it was already there. `max_intset` is `set-max-intset-entries`.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let SetValue::IntSet(s) = self {
            match parse_i64(member) {
                Some(v) => {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > max_intset.min(INTSET_HARD_LIMIT) {
                        self.convert_to_hashtable();
                    }
                    return true;
                }
                None => self.convert_to_hashtable(),
            }
        }
        match self {
            SetValue::HashTable(d) => d.insert_if_absent(member, || Member(member.into())),
            SetValue::IntSet(_) => false,
        }
    }

    /// Adds a member given as a [`StrRef`] (members copied from another set).
    pub fn add_ref(&mut self, member: StrRef<'_>, max_intset: usize) -> bool {
        match (&mut *self, member) {
            (SetValue::IntSet(s), StrRef::Int(v)) => {
                if !s.insert(v) {
                    return false;
                }
                if s.len() > max_intset.min(INTSET_HARD_LIMIT) {
                    self.convert_to_hashtable();
                }
                true
            }
            (_, m) => {
                let mut buf = [0u8; 20];
                self.add(m.bytes(&mut buf), max_intset)
            }
        }
    }

    /// Removes `member`; false if it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::IntSet(s) => parse_i64(member).is_some_and(|v| s.remove(v)),
            SetValue::HashTable(d) => {
                let removed = d.remove(member).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
        }
    }

    /// Removes a member given as a [`StrRef`].
    pub fn remove_ref(&mut self, member: StrRef<'_>) -> bool {
        match (&mut *self, member) {
            (SetValue::IntSet(s), StrRef::Int(v)) => s.remove(v),
            (_, m) => {
                let mut buf = [0u8; 20];
                self.remove(m.bytes(&mut buf))
            }
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::IntSet(s) => parse_i64(member).is_some_and(|v| s.contains(v)),
            SetValue::HashTable(d) => d.contains(member),
        }
    }

    /// Membership of a member given as a [`StrRef`] (no printing for intset against intset).
    pub fn contains_ref(&self, member: StrRef<'_>) -> bool {
        match (self, member) {
            (SetValue::IntSet(s), StrRef::Int(v)) => s.contains(v),
            (_, m) => {
                let mut buf = [0u8; 20];
                self.contains(m.bytes(&mut buf))
            }
        }
    }

    /// Calls `f` on every member: ascending for an intset, table order for a hash table.
    pub fn for_each(&self, mut f: impl FnMut(StrRef<'_>)) {
        match self {
            SetValue::IntSet(s) => s.iter().for_each(|v| f(StrRef::Int(v))),
            SetValue::HashTable(d) => d.for_each(|m| f(StrRef::Bytes(&m.0))),
        }
    }

    /// Every member, copied out.
    pub fn members(&self) -> Vec<OwnedMember> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(OwnedMember::from_ref(m)));
        out
    }

    /// A random member, `None` when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<StrRef<'_>> {
        match self {
            SetValue::IntSet(s) => {
                if s.is_empty() {
                    return None;
                }
                s.get(rng.random_range(0..s.len())).map(StrRef::Int)
            }
            SetValue::HashTable(d) => d.fair_random(rng).map(|m| StrRef::Bytes(&m.0)),
        }
    }

    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<OwnedMember> {
        match self {
            SetValue::IntSet(s) => {
                if s.is_empty() {
                    return None;
                }
                let index = rng.random_range(0..s.len());
                s.remove_at(index).map(OwnedMember::Int)
            }
            SetValue::HashTable(d) => {
                let key: Box<[u8]> = d.fair_random(rng)?.0.clone();
                let member = d.remove(&key)?;
                d.shrink_if_needed();
                Some(OwnedMember::Bytes(member.0))
            }
        }
    }

    /// One SSCAN step. An intset is returned whole with cursor 0, as Redis does for its compact
    /// encodings; a hash table is scanned with the reverse-binary cursor.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(StrRef<'_>)) -> u64 {
        match self {
            SetValue::IntSet(s) => {
                s.iter().for_each(|v| f(StrRef::Int(v)));
                0
            }
            SetValue::HashTable(d) => d.scan(cursor, |m| f(StrRef::Bytes(&m.0))),
        }
    }
}

impl Clone for SetValue {
    fn clone(&self) -> Self {
        match self {
            SetValue::IntSet(s) => SetValue::IntSet(s.clone()),
            SetValue::HashTable(d) => {
                let mut copy = Dict::new();
                d.for_each(|m| {
                    copy.insert(m.clone());
                });
                SetValue::HashTable(copy)
            }
        }
    }
}

impl PartialEq for SetValue {
    /// Same encoding and same members.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SetValue::IntSet(a), SetValue::IntSet(b)) => a == b,
            (SetValue::HashTable(a), SetValue::HashTable(b)) => {
                let mut same = a.len() == b.len();
                if same {
                    a.for_each(|m| same &= b.contains(&m.0));
                }
                same
            }
            _ => false,
        }
    }
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 20];
        let mut members = Vec::with_capacity(self.len());
        self.for_each(|m| members.push(String::from_utf8_lossy(m.bytes(&mut buf)).into_owned()));
        f.debug_struct("SetValue")
            .field("encoding", &self.encoding_name())
            .field("members", &members)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn integers_stay_intset_until_the_limit() {
        let mut s = SetValue::for_member(b"1");
        for i in 0..4 {
            assert!(s.add(i.to_string().as_bytes(), 4));
        }
        assert!(!s.add(b"3", 4));
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.add(b"4", 4));
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 5);
        assert!(s.contains(b"4") && s.contains(b"0"));
        // No way back.
        assert!(s.remove(b"4"));
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn non_integers_convert_and_string2ll_rules_apply() {
        let mut s = SetValue::for_member(b"1");
        assert!(s.add(b"1", 512));
        assert!(!s.contains(b"01"));
        assert!(!s.contains(b"+1"));
        assert!(s.add(b"01", 512));
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        assert_eq!(SetValue::for_member(b"abc").encoding_name(), "hashtable");
        assert_eq!(
            SetValue::for_member(b"9223372036854775808").encoding_name(),
            "hashtable"
        );
    }

    #[test]
    fn pop_and_random_take_members() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for first in [&b"1"[..], b"a"] {
            let mut s = SetValue::for_member(first);
            for m in [first, b"2", b"3"] {
                s.add(m, 512);
            }
            let r = s.random(&mut rng).map(OwnedMember::from_ref).unwrap();
            assert!(s.contains_ref(r.as_ref()));
            let mut popped = Vec::new();
            while let Some(m) = s.pop_random(&mut rng) {
                popped.push(m);
            }
            assert_eq!(popped.len(), 3);
            assert!(s.is_empty());
        }
    }

    #[test]
    fn random_picks_are_even_over_a_small_hash_table() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        for len in [10usize, 100] {
            let mut s = SetValue::for_member(b"a");
            for i in 0..len {
                s.add(format!("m{i}").as_bytes(), 512);
            }
            let mut counts = std::collections::HashMap::new();
            let draws = len * 1000;
            for _ in 0..draws {
                let m = OwnedMember::from_ref(s.random(&mut rng).unwrap());
                *counts.entry(m).or_insert(0usize) += 1;
            }
            assert_eq!(counts.len(), len);
            // Chi-square with len - 1 degrees of freedom stays near len for even picks.
            let expected = 1000.0;
            let chi: f64 = counts
                .values()
                .map(|&c| (c as f64 - expected).powi(2) / expected)
                .sum();
            assert!(chi < 2.0 * len as f64 + 30.0, "len {len}: chi-square {chi}");
        }
    }

    #[test]
    fn clone_and_eq_compare_members() {
        let mut s = SetValue::for_member(b"x");
        for m in [&b"x"[..], b"y", b"1"] {
            s.add(m, 512);
        }
        let copy = s.clone();
        assert_eq!(copy, s);
        s.remove(b"x");
        assert_ne!(copy, s);
        assert_eq!(copy.members().len(), 3);
    }
}
