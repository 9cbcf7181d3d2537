//! A map for the handful of keys one command names (the members of one
//! SADD, the keys of one DEL): a linear scan of an inline array while
//! there are few, a hash map beyond. Most commands name one key, and a
//! `std` hash map cost them an allocation and two SipHash rounds (2-3% of
//! a shard under pipelined SADD).

use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::Hash;

/// Entries kept inline before the map switches to hashing.
const INLINE: usize = 8;

/// A map that stays allocation-free up to [`INLINE`] entries.
pub struct FewMap<K, V> {
    few: SmallVec<[(K, V); INLINE]>,
    many: Option<HashMap<K, V, ahash::RandomState>>,
}

impl<K, V> Default for FewMap<K, V> {
    fn default() -> Self {
        FewMap {
            few: SmallVec::new(),
            many: None,
        }
    }
}

impl<K: Eq + Hash, V> FewMap<K, V> {
    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match &self.many {
            Some(map) => map.get(key),
            None => self
                .few
                .iter()
                .find(|(k, _)| k.borrow() == key)
                .map(|(_, v)| v),
        }
    }

    /// Whether `key` is in the map.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`; true if the key was not in the map.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        if let Some(map) = &mut self.many {
            return map.insert(key, value).is_none();
        }
        if let Some(slot) = self.few.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return false;
        }
        if self.few.len() < INLINE {
            self.few.push((key, value));
            return true;
        }
        let mut map: HashMap<K, V, ahash::RandomState> = self.few.drain(..).collect();
        map.insert(key, value);
        self.many = Some(map);
        true
    }

    /// Entries in the map.
    pub fn len(&self) -> usize {
        self.many.as_ref().map_or(self.few.len(), HashMap::len)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A set of the same kind: [`FewMap`] without values.
pub type FewSet<K> = FewMap<K, ()>;

impl<K: Eq + Hash> FewSet<K> {
    /// Adds `key`; true if it was not in the set.
    pub fn add(&mut self, key: K) -> bool {
        self.insert(key, ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_hash_map_below_and_beyond_the_inline_size() {
        let mut few: FewMap<Vec<u8>, usize> = FewMap::default();
        let mut std_map = HashMap::new();
        for i in 0..40usize {
            let key = format!("k{}", i % 13).into_bytes();
            assert_eq!(
                few.insert(key.clone(), i),
                std_map.insert(key, i).is_none(),
                "insert #{i}"
            );
            assert_eq!(few.len(), std_map.len());
            for probe in 0..15 {
                let p = format!("k{probe}");
                assert_eq!(few.get(p.as_bytes()), std_map.get(p.as_bytes()), "{p}");
            }
        }
        let mut set: FewSet<&[u8]> = FewSet::default();
        assert!(set.is_empty());
        assert!(set.add(b"a") && !set.add(b"a") && set.contains_key(&b"a"[..]));
    }
}
