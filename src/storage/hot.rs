//! The hot set in memory: a per-shard LRU of encoded meta records (for
//! strings, the value itself), so repeated reads of hot keys skip RocksDB.
//! Write-through: every staged put refreshes the entry, every delete drops
//! it; a failed write or a flush clears the whole cache.

use lru::LruCache;
use std::rc::Rc;

/// Bytes charged per entry on top of key and value (map + list overhead).
const ENTRY_OVERHEAD: usize = 64;

/// A size-bounded LRU from meta key to encoded meta record.
pub struct HotCache {
    map: LruCache<Vec<u8>, Rc<[u8]>>,
    bytes: usize,
    capacity: usize,
}

impl HotCache {
    /// An empty cache holding at most `capacity` bytes (0 disables it).
    pub fn new(capacity: usize) -> HotCache {
        HotCache {
            map: LruCache::unbounded(),
            bytes: 0,
            capacity,
        }
    }

    fn cost(key: &[u8], value: &[u8]) -> usize {
        key.len() + value.len() + ENTRY_OVERHEAD
    }

    /// The cached record of a meta key, marking it recently used.
    pub fn get(&mut self, key: &[u8]) -> Option<Rc<[u8]>> {
        self.map.get(key).cloned()
    }

    /// Caches a record, evicting the least recently used beyond capacity.
    pub fn insert(&mut self, key: Vec<u8>, value: Rc<[u8]>) {
        let cost = Self::cost(&key, &value);
        if cost > self.capacity / 8 {
            self.remove(&key);
            return;
        }
        self.bytes += cost;
        if let Some((k, old)) = self.map.push(key, value) {
            self.bytes -= Self::cost(&k, &old);
        }
        while self.bytes > self.capacity {
            match self.map.pop_lru() {
                Some((k, v)) => self.bytes -= Self::cost(&k, &v),
                None => break,
            }
        }
    }

    /// Drops a key.
    pub fn remove(&mut self, key: &[u8]) {
        if let Some(v) = self.map.pop(key) {
            self.bytes -= Self::cost(key, &v);
        }
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }

    /// Bytes currently charged.
    pub fn used(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let mut c = HotCache::new(1000);
        for i in 0..20u8 {
            c.insert(vec![i], Rc::from(vec![0u8; 36]));
        }
        assert!(c.used() <= 1000);
        assert!(c.get(&[0]).is_none(), "oldest evicted");
        assert!(c.get(&[19]).is_some());
        c.remove(&[19]);
        assert!(c.get(&[19]).is_none());
        c.clear();
        assert_eq!(c.used(), 0);
    }
}
