//! Bounded maps whose content does not depend on the order of adds and merges.
//!
//! Keys are kept while their hash is at or below a threshold; when more than `cap`
//! keys are held the threshold halves and keys above it leave. The kept keys (and
//! their exact counts) are then the same for one thread or many: each is the set of
//! all keys with a hash under the final threshold, which only depends on the keys.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A stable 64-bit hash (SipHash with fixed keys) of a string.
pub fn stable_hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A key -> value map that keeps a deterministic hash-sample of at most `CAP` keys.
#[derive(Debug, Clone)]
pub struct Sampled<K: Ord, V, const CAP: usize> {
    map: BTreeMap<K, (u64, V)>,
    level: u32,
}

impl<K: Ord, V, const CAP: usize> Default for Sampled<K, V, CAP> {
    fn default() -> Self {
        Sampled {
            map: BTreeMap::new(),
            level: 0,
        }
    }
}

impl<K: Ord, V, const CAP: usize> Sampled<K, V, CAP> {
    fn threshold(&self) -> u64 {
        u64::MAX.checked_shr(self.level).unwrap_or(0)
    }

    /// True when a key with hash `h` would be kept.
    pub fn admits(&self, h: u64) -> bool {
        h <= self.threshold()
    }

    /// The value of a key already held.
    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.get_mut(k).map(|(_, v)| v)
    }

    /// Adds `v` under `k`, combined with the value held (ignored when the hash is
    /// above the threshold: such a key is never held, so it is not looked up).
    pub fn add(&mut self, k: K, h: u64, v: V, combine: impl FnOnce(&mut V, V)) {
        if self.admits(h) && self.put(k, h, v, combine) {
            self.shrink();
        }
    }

    /// Combines `v` into the value held under `k`, or inserts it; true when inserted.
    fn put(&mut self, k: K, h: u64, v: V, combine: impl FnOnce(&mut V, V)) -> bool {
        match self.map.entry(k) {
            Entry::Occupied(mut held) => {
                combine(&mut held.get_mut().1, v);
                false
            }
            Entry::Vacant(slot) => {
                slot.insert((h, v));
                true
            }
        }
    }

    /// Inserts a new key (ignored when its hash is above the threshold).
    pub fn insert(&mut self, k: K, h: u64, v: V) {
        if self.admits(h) {
            self.map.insert(k, (h, v));
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        while self.map.len() > CAP.max(1) {
            self.level += 1;
            let t = self.threshold();
            self.map.retain(|_, (h, _)| *h <= t);
        }
    }

    /// Adds another map's keys; `combine` merges values of keys held by both.
    pub fn merge(&mut self, other: Sampled<K, V, CAP>, combine: impl Fn(&mut V, V)) {
        // Into an empty map at a level no higher, the result is `other` as it is: move
        // it rather than insert its keys one by one (the report merges into empty maps).
        if self.map.is_empty() && self.level <= other.level {
            *self = other;
            return;
        }
        if other.level > self.level {
            self.level = other.level;
            let t = self.threshold();
            self.map.retain(|_, (h, _)| *h <= t);
        }
        let t = self.threshold();
        for (k, (h, v)) in other.map {
            if h <= t {
                self.put(k, h, v, &combine);
            }
        }
        self.shrink();
    }

    /// True when the key is held.
    pub fn contains<Q>(&self, k: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.contains_key(k)
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many times the threshold halved (0: every key is held).
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Keys, hashes and values in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, u64, &V)> {
        self.map.iter().map(|(k, (h, v))| (k, *h, v))
    }

    /// Estimated number of distinct keys seen (exact when nothing was dropped).
    pub fn distinct_estimate(&self) -> u64 {
        (self.map.len() as u64).saturating_mul(1u64 << self.level.min(63))
    }
}

/// Adds one occurrence of a string key to a counter.
pub fn count_str<const CAP: usize>(m: &mut Sampled<String, u64, CAP>, k: &str) {
    if let Some(n) = m.get_mut(k) {
        *n += 1;
        return;
    }
    let h = stable_hash(k);
    if m.admits(h) {
        m.insert(k.to_string(), h, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled<const CAP: usize>(keys: &[u32]) -> Sampled<String, u64, CAP> {
        let mut m = Sampled::default();
        for k in keys {
            count_str(&mut m, &format!("k{k}"));
        }
        m
    }

    fn snapshot<const CAP: usize>(m: &Sampled<String, u64, CAP>) -> Vec<(String, u64)> {
        m.iter().map(|(k, _, v)| (k.clone(), *v)).collect()
    }

    #[test]
    fn same_sample_whatever_the_order_and_split() {
        let keys: Vec<u32> = (0..5000).map(|i| (i * 7919) % 1500).collect();
        let one = filled::<100>(&keys);
        assert!(one.len() <= 100 && one.level() > 0);
        let mut rev = keys.clone();
        rev.reverse();
        assert_eq!(snapshot(&filled::<100>(&rev)), snapshot(&one));
        for split in [1, 17, 2500, 4999] {
            let mut a = filled::<100>(&keys[..split]);
            let b = filled::<100>(&keys[split..]);
            a.merge(b, |x, y| *x += y);
            assert_eq!(snapshot(&a), snapshot(&one), "split at {split}");
        }
    }

    #[test]
    fn merging_into_an_empty_map_gives_the_other_as_it_is() {
        let keys: Vec<u32> = (0..3000).collect();
        let full = filled::<100>(&keys);
        assert!(full.level() > 0);
        let mut into = Sampled::<String, u64, 100>::default();
        into.merge(full.clone(), |x, y| *x += y);
        assert_eq!(
            (snapshot(&into), into.level()),
            (snapshot(&full), full.level())
        );
        // An empty map at a higher level keeps its threshold: keys above it leave.
        let mut higher = filled::<100>(&(0..30_000).collect::<Vec<_>>());
        let level = higher.level();
        assert!(level > full.level());
        higher.map.clear();
        higher.merge(full.clone(), |x, y| *x += y);
        assert_eq!(higher.level(), level);
        assert!(higher.len() < full.len());
        assert!(higher.iter().all(|(_, h, _)| h <= u64::MAX >> level));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn add_combines_held_keys_and_ignores_refused_ones() {
        let mut m = filled::<100>(&(0..3000).collect::<Vec<_>>());
        let t = u64::MAX >> m.level();
        let (k, h, n) = m.iter().map(|(k, h, n)| (k.clone(), h, *n)).next().unwrap();
        m.add(k.clone(), h, 5, |x, y| *x += y);
        assert_eq!(m.get_mut(k.as_str()).copied(), Some(n + 5));
        let before = snapshot(&m);
        m.add("refused".into(), t + 1, 1, |x, y| *x += y);
        assert_eq!(
            snapshot(&m),
            before,
            "a hash above the threshold is not kept"
        );
        m.add("kept".into(), 0, 7, |x, y| *x += y);
        assert_eq!(m.get_mut("kept").copied(), Some(7));
    }

    #[test]
    fn exact_under_the_cap() {
        let m = filled::<10>(&[1, 2, 2, 3, 3, 3]);
        assert_eq!(m.level(), 0);
        assert_eq!(m.distinct_estimate(), 3);
        assert_eq!(
            snapshot(&m),
            vec![("k1".into(), 1), ("k2".into(), 2), ("k3".into(), 3)]
        );
    }
}
