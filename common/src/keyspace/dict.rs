//! A chained hash table with incremental rehashing and a reverse-binary SCAN cursor.
//!
//! Why not `HashMap`: SCAN must return every element present for the whole scan even while
//! the table grows or shrinks, and growth must never move every element at once (a
//! 10-million-key table would pause the server). Both follow from power-of-two tables that
//! rehash a few buckets per operation, scanned with a cursor whose bits are incremented from
//! the top, as Redis's `dict.c` does.

use std::hash::BuildHasher;

/// An element stored in a [`Dict`] knows its own key.
pub trait DictItem {
    fn key(&self) -> &[u8];
}

struct Node<T> {
    next: Option<Box<Node<T>>>,
    item: T,
}

type Bucket<T> = Option<Box<Node<T>>>;

struct Table<T> {
    buckets: Vec<Bucket<T>>,
    used: usize,
}

impl<T> Table<T> {
    const fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    fn with_size(size: usize) -> Self {
        let mut buckets = Vec::with_capacity(size);
        buckets.resize_with(size, || None);
        Table { buckets, used: 0 }
    }

    fn mask(&self) -> u64 {
        (self.buckets.len() as u64).wrapping_sub(1)
    }

    fn is_allocated(&self) -> bool {
        !self.buckets.is_empty()
    }
}

/// How far [`Dict::prefetch`] follows a key's chain: run each stage over a whole batch of keys
/// before the next, so that their cache misses overlap instead of coming one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefetchStage {
    /// The bucket slot the key hashes to.
    Bucket,
    /// The first node of that bucket's chain (the slot must be cached by now).
    Node,
    /// That node's item's heap bytes, where its key lives.
    Item,
}

impl PrefetchStage {
    /// Every stage, in the order a batch of keys goes through them.
    pub const ALL: [PrefetchStage; 3] = [
        PrefetchStage::Bucket,
        PrefetchStage::Node,
        PrefetchStage::Item,
    ];
}

/// Asks the CPU to start loading the cache line at `p`.
#[inline(always)]
fn prefetch_line<P>(p: *const P) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` requires SSE, which is part of the x86_64 baseline, so the target
    // feature is always present; a prefetch is a hint that never faults and never makes the
    // loaded bytes observable to the program, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks the CPU to load the bytes of `value`, which may straddle two cache lines: a 48-byte
/// node packed by the allocator starts in one line and ends in the next for half of all
/// addresses, and prefetching only its first line left the lookup to miss on its key length.
#[inline(always)]
fn prefetch_span<V>(value: &V) {
    let start: *const V = value;
    prefetch_line(start);
    prefetch_line(
        start
            .cast::<u8>()
            .wrapping_add(std::mem::size_of::<V>() - 1),
    );
}

/// [`prefetch_span`] for the bytes of a slice.
#[inline(always)]
fn prefetch_bytes(bytes: &[u8]) {
    if let (Some(first), Some(last)) = (bytes.first(), bytes.last()) {
        prefetch_line(first);
        prefetch_line(last);
    }
}

fn walk_mut<'t, T: DictItem>(t: &'t mut Table<T>, hash: u64, key: &[u8]) -> Option<&'t mut T> {
    if !t.is_allocated() {
        return None;
    }
    let mask = t.mask();
    let mut node = t.buckets[(hash & mask) as usize].as_deref_mut();
    while let Some(n) = node {
        if n.item.key() == key {
            return Some(&mut n.item);
        }
        node = n.next.as_deref_mut();
    }
    None
}

fn unlink<T: DictItem>(t: &mut Table<T>, hash: u64, key: &[u8]) -> Option<T> {
    if !t.is_allocated() {
        return None;
    }
    let slot = (hash & t.mask()) as usize;
    let mut link = &mut t.buckets[slot];
    loop {
        match link {
            None => return None,
            Some(node) if node.item.key() == key => {
                let mut node = link.take()?;
                *link = node.next.take();
                t.used -= 1;
                return Some(node.item);
            }
            Some(node) => link = &mut node.next,
        }
    }
}

/// Dropping a long chain recursively could overflow the stack, so chains are unlinked in a loop.
fn drop_chain<T>(mut bucket: Bucket<T>) {
    while let Some(mut node) = bucket {
        bucket = node.next.take();
    }
}

impl<T> Drop for Table<T> {
    fn drop(&mut self) {
        for bucket in self.buckets.iter_mut() {
            drop_chain(bucket.take());
        }
    }
}

const INITIAL_SIZE: usize = 4;
/// Chain length up to which [`Dict::fair_random`] is exactly uniform.
const FAIR_CHAIN: usize = 8;
/// Candidate groups [`Dict::fair_random`] draws and prefetches at a time.
const FAIR_BATCH: usize = 8;
/// Buckets moved per lookup or insert while a rehash is in progress.
const REHASH_STEP: usize = 1;
/// Empty buckets visited at most per rehash step, so one step stays cheap on a sparse table.
const EMPTY_VISITS_PER_STEP: usize = 10;

/// A hash table of items keyed by bytes.
pub struct Dict<T> {
    tables: [Table<T>; 2],
    /// Next bucket of `tables[0]` to move into `tables[1]`, when rehashing.
    rehash_index: Option<usize>,
    hasher: foldhash::fast::RandomState,
}

impl<T: DictItem> Default for Dict<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: DictItem> Dict<T> {
    pub fn new() -> Self {
        Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_index: None,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held: the bucket arrays, a node per item, and each item's own heap bytes
    /// (`item_heap`), estimated from `samples` items (all when 0).
    pub fn allocated_bytes(&self, samples: usize, item_heap: impl FnMut(&T) -> usize) -> usize {
        let tables: usize = self
            .tables
            .iter()
            .map(|t| t.buckets.capacity() * std::mem::size_of::<Bucket<T>>())
            .sum();
        let nodes = self.len() * std::mem::size_of::<Node<T>>();
        tables + nodes + crate::value::sampled_bytes(self.iter(), self.len(), samples, item_heap)
    }

    /// What one item costs the table beyond the item itself: its node's link and, at the
    /// table's load factor of about one, a bucket.
    pub const fn item_overhead() -> usize {
        std::mem::size_of::<Node<T>>() - std::mem::size_of::<T>() + std::mem::size_of::<Bucket<T>>()
    }

    /// Total buckets in both tables (for INFO and the resize policy).
    pub fn buckets(&self) -> usize {
        self.tables[0].buckets.len() + self.tables[1].buckets.len()
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_index.is_some()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Moves up to `n` buckets from the old table to the new one. Returns true while work remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut index) = self.rehash_index else {
            return false;
        };
        let mut empty_visits = n * EMPTY_VISITS_PER_STEP;
        let [old, new] = &mut self.tables;
        for _ in 0..n {
            if old.used == 0 {
                break;
            }
            while old.buckets[index].is_none() {
                index += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_index = Some(index);
                    return true;
                }
            }
            let mut chain = old.buckets[index].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let slot = (self.hasher.hash_one(node.item.key()) & new.mask()) as usize;
                node.next = new.buckets[slot].take();
                new.buckets[slot] = Some(node);
                old.used -= 1;
                new.used += 1;
            }
            index += 1;
        }
        if old.used == 0 {
            self.tables.swap(0, 1);
            self.tables[1] = Table::empty();
            self.rehash_index = None;
            false
        } else {
            self.rehash_index = Some(index);
            true
        }
    }

    /// Rehashes for about `budget` of time; used by the server's cron on idle tables.
    pub fn rehash_for(&mut self, budget: std::time::Duration) -> bool {
        let start = std::time::Instant::now();
        while self.rehash(100) {
            if start.elapsed() >= budget {
                return true;
            }
        }
        false
    }

    fn step(&mut self) {
        if self.rehash_index.is_some() {
            self.rehash(REHASH_STEP);
        }
    }

    fn start_resize(&mut self, size: usize) {
        let size = size.max(INITIAL_SIZE).next_power_of_two();
        if self.rehash_index.is_some() || size == self.tables[0].buckets.len() {
            return;
        }
        if !self.tables[0].is_allocated() {
            self.tables[0] = Table::with_size(size);
            return;
        }
        self.tables[1] = Table::with_size(size);
        self.rehash_index = Some(0);
    }

    fn expand_if_needed(&mut self) {
        if self.rehash_index.is_some() {
            return;
        }
        let size = self.tables[0].buckets.len();
        if size == 0 {
            self.start_resize(INITIAL_SIZE);
        } else if self.tables[0].used >= size {
            self.start_resize(self.tables[0].used + 1);
        }
    }

    /// Shrinks the table when it is under 10% full, as Redis's cron does.
    pub fn shrink_if_needed(&mut self) {
        let size = self.tables[0].buckets.len();
        if self.rehash_index.is_none() && size > INITIAL_SIZE && self.len() * 10 < size {
            self.start_resize(self.len());
        }
    }

    fn find_in(&self, table: usize, hash: u64, key: &[u8]) -> Option<&T> {
        let t = &self.tables[table];
        if !t.is_allocated() {
            return None;
        }
        let mut node = t.buckets[(hash & t.mask()) as usize].as_deref();
        while let Some(n) = node {
            if n.item.key() == key {
                return Some(&n.item);
            }
            node = n.next.as_deref();
        }
        None
    }

    pub fn get(&self, key: &[u8]) -> Option<&T> {
        self.get_hashed(self.hash(key), key)
    }

    /// [`Dict::get`] with the key's hash already computed by [`Dict::hash_key`].
    pub fn get_hashed(&self, hash: u64, key: &[u8]) -> Option<&T> {
        self.find_in(0, hash, key).or_else(|| {
            if self.rehash_index.is_some() {
                self.find_in(1, hash, key)
            } else {
                None
            }
        })
    }

    /// The hash this dict files `key` under (to look a key up several times with one hash).
    pub fn hash_key(&self, key: &[u8]) -> u64 {
        self.hash(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        self.step();
        let hash = self.hash(key);
        self.get_mut_hashed(hash, key)
    }

    /// [`Dict::get_mut`] with the key's hash already computed; walks each chain once.
    pub fn get_mut_hashed(&mut self, hash: u64, key: &[u8]) -> Option<&mut T> {
        let rehashing = self.rehash_index.is_some();
        let [old, new] = &mut self.tables;
        if let Some(item) = walk_mut(old, hash, key) {
            return Some(item);
        }
        if rehashing {
            walk_mut(new, hash, key)
        } else {
            None
        }
    }

    /// Warms the cache for a lookup of the key hashed to `hash` ([`Dict::hash_key`]), one
    /// stage of its chain at a time; a hint only, it changes nothing.
    pub fn prefetch(&self, hash: u64, stage: PrefetchStage) {
        let tables = if self.rehash_index.is_some() { 2 } else { 1 };
        for t in &self.tables[..tables] {
            if !t.is_allocated() {
                continue;
            }
            let bucket = &t.buckets[(hash & t.mask()) as usize];
            match stage {
                PrefetchStage::Bucket => prefetch_line(bucket),
                PrefetchStage::Node => {
                    if let Some(node) = bucket.as_deref() {
                        prefetch_span(node);
                    }
                }
                PrefetchStage::Item => {
                    if let Some(node) = bucket.as_deref() {
                        prefetch_bytes(node.item.key());
                    }
                }
            }
        }
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts `item`, replacing and returning an item with the same key.
    pub fn insert(&mut self, item: T) -> Option<T> {
        self.step();
        let hash = self.hash(item.key());
        if let Some(existing) = self.get_mut_hashed(hash, item.key()) {
            return Some(std::mem::replace(existing, item));
        }
        self.expand_if_needed();
        let table = if self.rehash_index.is_some() { 1 } else { 0 };
        let t = &mut self.tables[table];
        let slot = (hash & t.mask()) as usize;
        let next = t.buckets[slot].take();
        t.buckets[slot] = Some(Box::new(Node { next, item }));
        t.used += 1;
        None
    }

    /// Inserts the item `make` builds unless one with `key` is there; true when inserted. One
    /// walk of the chain, and nothing built for a key already present (SADD).
    pub fn insert_if_absent(&mut self, key: &[u8], make: impl FnOnce() -> T) -> bool {
        self.step();
        let hash = self.hash(key);
        if self.get_hashed(hash, key).is_some() {
            return false;
        }
        self.expand_if_needed();
        let table = if self.rehash_index.is_some() { 1 } else { 0 };
        let t = &mut self.tables[table];
        let slot = (hash & t.mask()) as usize;
        let next = t.buckets[slot].take();
        t.buckets[slot] = Some(Box::new(Node { next, item: make() }));
        t.used += 1;
        true
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        self.step();
        let hash = self.hash(key);
        let rehashing = self.rehash_index.is_some();
        let [old, new] = &mut self.tables;
        match unlink(old, hash, key) {
            Some(item) => Some(item),
            None if rehashing => unlink(new, hash, key),
            None => None,
        }
    }

    /// Removes every item, returning the old contents as a dict of their own (for lazy freeing).
    pub fn take(&mut self) -> Dict<T> {
        std::mem::take(self)
    }

    /// Calls `f` on every item (no particular order).
    pub fn for_each(&self, mut f: impl FnMut(&T)) {
        for t in &self.tables {
            for bucket in &t.buckets {
                let mut node = bucket.as_deref();
                while let Some(n) = node {
                    f(&n.item);
                    node = n.next.as_deref();
                }
            }
        }
    }

    /// Every item (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.tables.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|bucket| {
                std::iter::successors(bucket.as_deref(), |n| n.next.as_deref()).map(|n| &n.item)
            })
        })
    }

    /// Keeps only the items for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        for t in &mut self.tables {
            let mut removed = 0;
            for bucket in t.buckets.iter_mut() {
                let mut chain = bucket.take();
                while let Some(mut node) = chain {
                    chain = node.next.take();
                    if keep(&mut node.item) {
                        node.next = bucket.take();
                        *bucket = Some(node);
                    } else {
                        removed += 1;
                    }
                }
            }
            t.used -= removed;
        }
    }

    /// One SCAN step: visits the bucket(s) the cursor names and returns the next cursor (0 when
    /// the scan is complete). Every item present from the first call to the last is visited at
    /// least once, whatever resizes happen in between.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&T)) -> u64 {
        self.visit_group(cursor, &mut f)
    }

    /// Visits the bucket group a cursor names (one bucket, or while rehashing one bucket of the
    /// small table and the buckets of the large one it expands to) and returns the next cursor.
    fn visit_group<'a>(&'a self, cursor: u64, f: &mut dyn FnMut(&'a T)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let visit = |t: &'a Table<T>, index: u64, f: &mut dyn FnMut(&'a T)| {
            let mut node = t.buckets[(index & t.mask()) as usize].as_deref();
            while let Some(n) = node {
                f(&n.item);
                node = n.next.as_deref();
            }
        };
        let mut v = cursor;
        if self.rehash_index.is_none() {
            let t = &self.tables[0];
            let mask = t.mask();
            visit(t, v, f);
            v |= !mask;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, large) = if self.tables[0].buckets.len() <= self.tables[1].buckets.len() {
                (&self.tables[0], &self.tables[1])
            } else {
                (&self.tables[1], &self.tables[0])
            };
            let m0 = small.mask();
            let m1 = large.mask();
            visit(small, v, f);
            loop {
                visit(large, v, f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// A random item, every item equally likely (SRANDMEMBER, HRANDFIELD and their distribution
    /// tests). Picking a random bucket and then a random node of its chain would favour items
    /// of short chains; instead a random bucket group is accepted with a probability
    /// proportional to its size, then one of its items is taken. Exactly uniform for chains up
    /// to [`FAIR_CHAIN`] long, which a table kept at about one item per bucket hardly exceeds.
    pub fn fair_random(&self, rng: &mut impl rand::Rng) -> Option<&T> {
        if self.is_empty() {
            return None;
        }
        // Both tables have power-of-two sizes: the number of groups is the smaller one, the
        // lowest set bit of the total.
        let total = self.buckets() as u64;
        let groups = total & total.wrapping_neg();
        // About FAIR_CHAIN groups are drawn per pick, each a cache miss: they are drawn a batch
        // at a time and their buckets and first nodes prefetched together, so the misses
        // overlap. Candidates are still taken in draw order, so the odds are unchanged.
        for _ in 0..10_000 / FAIR_BATCH {
            let mut candidates = [0u64; FAIR_BATCH];
            for group in &mut candidates {
                *group = rng.random_range(0..groups);
            }
            for stage in [PrefetchStage::Bucket, PrefetchStage::Node] {
                for &group in &candidates {
                    self.prefetch(group, stage);
                }
            }
            for group in candidates {
                let mut items: smallvec::SmallVec<[&T; 8]> = smallvec::SmallVec::new();
                self.visit_group(group, &mut |item| items.push(item));
                let pick = rng.random_range(0..FAIR_CHAIN.max(items.len()));
                if let Some(item) = items.get(pick) {
                    return Some(*item);
                }
            }
        }
        self.random(rng)
    }

    /// A random item, roughly uniform (random non-empty bucket, then a random node of its chain).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<&T> {
        if self.is_empty() {
            return None;
        }
        loop {
            let (t, index) = if let Some(rehash) = self.rehash_index {
                // Buckets of the old table below the rehash index are empty.
                let s0 = self.tables[0].buckets.len();
                let s1 = self.tables[1].buckets.len();
                let i = rehash + rng.random_range(0..(s0 + s1 - rehash));
                if i >= s0 {
                    (&self.tables[1], i - s0)
                } else {
                    (&self.tables[0], i)
                }
            } else {
                let t = &self.tables[0];
                (t, rng.random_range(0..t.buckets.len()))
            };
            let Some(head) = t.buckets[index].as_deref() else {
                continue;
            };
            let mut chain_len = 0;
            let mut node = Some(head);
            while let Some(n) = node {
                chain_len += 1;
                node = n.next.as_deref();
            }
            let mut pick = rng.random_range(0..chain_len);
            let mut node = head;
            while pick > 0 {
                node = node.next.as_deref()?;
                pick -= 1;
            }
            return Some(&node.item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[derive(Debug, PartialEq)]
    struct Item(Vec<u8>, u32);

    impl DictItem for Item {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn key(i: u32) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn prefetch_is_a_harmless_hint_in_every_state() {
        let stages = PrefetchStage::ALL;
        // Never allocated, then mid-rehash (both tables live), then settled.
        let mut d: Dict<Item> = Dict::new();
        for stage in stages {
            d.prefetch(d.hash_key(b"absent"), stage);
        }
        for i in 0..100 {
            d.insert(Item(key(i), i));
        }
        assert!(d.is_rehashing() || d.buckets() > 0);
        while d.rehash(1) {
            for i in 0..120 {
                for stage in stages {
                    d.prefetch(d.hash_key(&key(i)), stage);
                }
            }
        }
        for i in 0..120 {
            for stage in stages {
                d.prefetch(d.hash_key(&key(i)), stage);
            }
        }
        assert_eq!(d.len(), 100);
        assert_eq!(d.get(&key(42)).map(|i| i.1), Some(42));
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000 {
            assert!(d.insert(Item(key(i), i)).is_none());
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.insert(Item(key(7), 70)), Some(Item(key(7), 7)));
        assert_eq!(d.get(&key(7)).map(|i| i.1), Some(70));
        for i in 0..1000 {
            assert!(d.get(&key(i)).is_some(), "{i}");
        }
        for i in (0..1000).step_by(2) {
            assert!(d.remove(&key(i)).is_some());
        }
        assert_eq!(d.len(), 500);
        assert!(d.get(&key(2)).is_none());
        assert!(d.get(&key(3)).is_some());
        d.get_mut(&key(3)).unwrap().1 = 33;
        assert_eq!(d.get(&key(3)).unwrap().1, 33);
    }

    #[test]
    fn scan_returns_every_item_present_throughout_growth_and_shrink() {
        let mut d = Dict::new();
        for i in 0..100 {
            d.insert(Item(key(i), i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut next_new = 100;
        loop {
            cursor = d.scan(cursor, |item| {
                seen.insert(item.0.clone());
            });
            // Grow the table while scanning (a bounded number of times: a table that grows
            // forever never lets a scan finish, in Redis either).
            if next_new < 3000 {
                for _ in 0..50 {
                    d.insert(Item(key(next_new), next_new));
                    next_new += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&key(i)), "missed {i}");
        }

        // Now shrink while scanning: remove the added keys.
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut to_remove = 100..next_new;
        loop {
            cursor = d.scan(cursor, |item| {
                seen.insert(item.0.clone());
            });
            for _ in 0..200 {
                if let Some(i) = to_remove.next() {
                    d.remove(&key(i));
                }
            }
            d.shrink_if_needed();
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&key(i)), "missed {i} while shrinking");
        }
    }

    #[test]
    fn retain_and_random() {
        let mut d = Dict::new();
        for i in 0..200 {
            d.insert(Item(key(i), i));
        }
        d.retain(|item| item.1 % 3 == 0);
        assert_eq!(d.len(), 67);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        for _ in 0..100 {
            assert_eq!(d.random(&mut rng).unwrap().1 % 3, 0);
        }
        let mut count = 0;
        d.for_each(|_| count += 1);
        assert_eq!(count, 67);
    }

    #[test]
    fn fair_random_is_close_to_uniform() {
        let mut d = Dict::new();
        for i in 0..10 {
            d.insert(Item(key(i), i));
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let mut hits = [0u32; 10];
        for _ in 0..10_000 {
            hits[d.fair_random(&mut rng).unwrap().1 as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
    }

    use rand::SeedableRng;
}
