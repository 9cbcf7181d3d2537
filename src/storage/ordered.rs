//! Sorted sets held in memory: the score order (the `zscore` sub-keys) of
//! sorted sets that are read by range again and again, so ZRANGE and its
//! relatives walk a B-tree instead of opening a RocksDB iterator. An
//! iterator costs a merge over the memtable and every level plus the
//! tombstones earlier score changes left behind: two thirds of a shard's
//! CPU under `ZRANGE myzset 0 9` at `-P 16`.
//!
//! A set is loaded after [`READS_BEFORE_LOAD`] range reads while not held,
//! if it fits in half the budget; sets are evicted whole (S3-FIFO, the
//! `quick_cache` crate) to stay within the budget. Like the rest of the
//! hot cache (see `hot.rs`) it is write-through: every staged `zscore` put
//! or delete of a held set is applied at once, and a failed write or an
//! unwritten batch clears everything. A new version of a key has a new
//! prefix, so a deleted or replaced set is never read again and just ages
//! out.

use quick_cache::unsync::Cache;
use quick_cache::{OptionsBuilder, Weighter};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::rc::Rc;

/// The sub-keys (suffixes after the collection prefix) of one held set.
pub type SubKeys = Rc<BTreeSet<Box<[u8]>>>;

/// Range reads of a set not held before it is loaded: a set walked once
/// (ZUNIONSTORE of a cold set, a one-off ZRANGE 0 -1) is not worth its
/// memory or the load.
pub const READS_BEFORE_LOAD: u32 = 4;

/// Most sets counted as candidates at once; the counts restart beyond.
const MAX_CANDIDATES: usize = 4096;

/// Bytes charged per held set (table slot, prefix, B-tree root).
const SET_OVERHEAD: usize = 128;

/// Bytes charged per sub-key on top of its allocation: its slot in a
/// B-tree node (a boxed slice is 16 bytes; nodes hold 11, about two
/// thirds full) and the internal nodes, rounded up.
const SUB_KEY_OVERHEAD: usize = 32;

/// Bytes a held sub-key costs (the allocator's size class, as `hot.rs`
/// charges).
pub fn sub_key_cost(sub: &[u8]) -> usize {
    super::hot::allocated(sub.len()) + SUB_KEY_OVERHEAD
}

/// One held set and its charged size.
#[derive(Clone)]
struct Held {
    keys: SubKeys,
    bytes: usize,
}

#[derive(Clone)]
struct HeldCost;

impl Weighter<Box<[u8]>, Held> for HeldCost {
    fn weight(&self, prefix: &Box<[u8]>, held: &Held) -> u64 {
        (prefix.len() + SET_OVERHEAD + held.bytes) as u64
    }
}

type Inner = Cache<
    Box<[u8]>,
    Held,
    HeldCost,
    ahash::RandomState,
    quick_cache::unsync::DefaultLifecycle<Box<[u8]>, Held>,
>;

/// The per-shard sets held in memory, keyed by collection prefix.
pub struct OrderedSets {
    held: Option<Inner>,
    budget: usize,
    /// Range reads of sets not held (`u32::MAX`: too large to hold).
    candidates: HashMap<Box<[u8]>, u32, ahash::RandomState>,
    loads: u64,
}

impl OrderedSets {
    /// Sets within `budget` bytes (0 holds none).
    pub fn new(budget: usize) -> OrderedSets {
        let held = (budget > 0).then(|| {
            let options = OptionsBuilder::new()
                .estimated_items_capacity(64)
                .weight_capacity(budget as u64)
                .build()
                .expect("valid ordered-set cache options");
            Cache::with_options(
                options,
                HeldCost,
                ahash::RandomState::new(),
                Default::default(),
            )
        });
        OrderedSets {
            held,
            budget,
            candidates: HashMap::default(),
            loads: 0,
        }
    }

    /// The sub-keys of the set under `prefix`, if held.
    pub fn get(&mut self, prefix: &[u8]) -> Option<SubKeys> {
        self.held.as_ref()?.get(prefix).map(|h| h.keys.clone())
    }

    /// Counts a range read of a set that is not held; true when the caller
    /// should load it now ([`hold`](Self::hold)).
    pub fn wants(&mut self, prefix: &[u8]) -> bool {
        if self.held.is_none() {
            return false;
        }
        if self.candidates.len() >= MAX_CANDIDATES && !self.candidates.contains_key(prefix) {
            self.candidates.clear();
        }
        let reads = self.candidates.entry(prefix.into()).or_insert(0);
        *reads = reads.saturating_add(1);
        *reads == READS_BEFORE_LOAD
    }

    /// Most bytes one set may take: half the budget.
    pub fn max_set_bytes(&self) -> usize {
        self.budget / 2
    }

    /// Holds the complete, current sub-keys of the set under `prefix`
    /// (`None`: it was larger than [`max_set_bytes`](Self::max_set_bytes),
    /// and is not tried again while counted as a candidate).
    pub fn hold(&mut self, prefix: &[u8], loaded: Option<(BTreeSet<Box<[u8]>>, usize)>) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        match loaded {
            Some((keys, bytes)) => {
                self.candidates.remove(prefix);
                self.loads += 1;
                let keys = Rc::new(keys);
                held.insert(prefix.into(), Held { keys, bytes });
            }
            None => {
                self.candidates.insert(prefix.into(), u32::MAX);
            }
        }
    }

    /// Applies a staged insert (`present`) or delete of `sub` to the set
    /// under `prefix` if it is held; returns whether it was. A set that
    /// outgrows half the budget is dropped.
    pub fn stage(&mut self, prefix: &[u8], sub: &[u8], present: bool) -> bool {
        let max = self.max_set_bytes();
        let Some(held) = self.held.as_mut() else {
            return false;
        };
        let Some(mut entry) = held.peek_mut(prefix) else {
            return false;
        };
        let h = &mut *entry;
        let keys = Rc::make_mut(&mut h.keys);
        if present {
            if keys.insert(sub.into()) {
                h.bytes += sub_key_cost(sub);
            }
        } else if keys.remove(sub) {
            h.bytes -= sub_key_cost(sub);
        }
        let too_big = h.bytes > max;
        drop(entry);
        if too_big {
            held.remove(prefix);
        }
        true
    }

    /// Forgets every held set.
    pub fn clear(&mut self) {
        if let Some(held) = self.held.as_mut() {
            held.clear();
        }
        self.candidates.clear();
    }

    /// Bytes charged for the held sets.
    pub fn used(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.weight() as usize)
    }

    /// Number of sets held now.
    pub fn len(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.len())
    }

    /// Whether no set is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets loaded since startup.
    pub fn loads(&self) -> u64 {
        self.loads
    }
}

/// Visits the sub-keys of a held set in byte order (or reverse) from `from`
/// (inclusive; `None`: the first or last), as a RocksDB iterator over the
/// prefix would after `seek` (`seek_for_prev` in reverse); the visitor
/// returns false to stop.
pub fn walk(
    keys: &BTreeSet<Box<[u8]>>,
    from: Option<&[u8]>,
    reverse: bool,
    mut visit: impl FnMut(&[u8]) -> bool,
) {
    let (lo, hi) = match (from, reverse) {
        (Some(f), false) => (Bound::Included(f), Bound::Unbounded),
        (Some(f), true) => (Bound::Unbounded, Bound::Included(f)),
        (None, _) => (Bound::Unbounded, Bound::Unbounded),
    };
    let range = keys.range::<[u8], _>((lo, hi));
    if reverse {
        for k in range.rev() {
            if !visit(k) {
                return;
            }
        }
    } else {
        for k in range {
            if !visit(k) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(subs: &[&str]) -> (BTreeSet<Box<[u8]>>, usize) {
        let keys: BTreeSet<Box<[u8]>> = subs.iter().map(|s| s.as_bytes().into()).collect();
        let bytes = subs.iter().map(|s| sub_key_cost(s.as_bytes())).sum();
        (keys, bytes)
    }

    fn walked(keys: &BTreeSet<Box<[u8]>>, from: Option<&str>, reverse: bool) -> Vec<String> {
        let mut out = Vec::new();
        walk(keys, from.map(str::as_bytes), reverse, |k| {
            out.push(String::from_utf8_lossy(k).into_owned());
            out.len() < 3
        });
        out
    }

    #[test]
    fn walks_like_a_seek_and_a_seek_for_prev() {
        let (keys, _) = set(&["b", "d", "f", "h"]);
        assert_eq!(walked(&keys, None, false), ["b", "d", "f"]);
        assert_eq!(walked(&keys, None, true), ["h", "f", "d"]);
        assert_eq!(walked(&keys, Some("c"), false), ["d", "f", "h"]);
        assert_eq!(walked(&keys, Some("d"), false), ["d", "f", "h"]);
        assert_eq!(walked(&keys, Some("e"), true), ["d", "b"]);
        assert_eq!(walked(&keys, Some("f"), true), ["f", "d", "b"]);
        assert!(walked(&keys, Some("a"), true).is_empty());
        assert!(walked(&keys, Some("i"), false).is_empty());
    }

    #[test]
    fn loads_after_repeated_reads_and_follows_staged_changes() {
        let mut o = OrderedSets::new(1 << 20);
        for _ in 1..READS_BEFORE_LOAD {
            assert!(!o.wants(b"p1"));
        }
        assert!(o.wants(b"p1"));
        assert!(!o.stage(b"p1", b"x", true), "not held yet");
        o.hold(b"p1", Some(set(&["a", "c"])));
        assert!(o.stage(b"p1", b"b", true));
        assert!(o.stage(b"p1", b"c", false));
        assert!(!o.stage(b"p2", b"b", true), "another set");
        let keys = o.get(b"p1").expect("held");
        assert_eq!(walked(&keys, None, false), ["a", "b"]);
        assert_eq!(o.loads(), 1);
        o.clear();
        assert!(o.get(b"p1").is_none());
        assert_eq!(o.used(), 0);
    }

    #[test]
    fn a_walk_in_progress_keeps_its_view_of_the_set() {
        let mut o = OrderedSets::new(1 << 20);
        o.hold(b"p", Some(set(&["a", "b"])));
        let before = o.get(b"p").unwrap();
        o.stage(b"p", b"c", true);
        assert_eq!(before.len(), 2, "copy on write");
        assert_eq!(o.get(b"p").unwrap().len(), 3);
    }

    #[test]
    fn stays_within_its_budget() {
        let mut o = OrderedSets::new(64 * 1024);
        let members: Vec<String> = (0..200).map(|i| format!("member-{i:05}")).collect();
        let subs: Vec<&str> = members.iter().map(String::as_str).collect();
        for p in 0..40u32 {
            o.hold(&p.to_be_bytes(), Some(set(&subs)));
        }
        assert!(o.used() <= 64 * 1024, "{} bytes", o.used());
        assert!(o.len() >= 2 && o.len() < 40, "{} sets", o.len());
        // a set that grows past half the budget is dropped
        let p = (39u32).to_be_bytes();
        if o.get(&p).is_some() {
            for i in 0..2000 {
                o.stage(&p, format!("more-{i:05}").as_bytes(), true);
            }
            assert!(o.get(&p).is_none());
        }
        // too large to load: not counted again
        o.hold(b"big", None);
        for _ in 0..10 {
            assert!(!o.wants(b"big"));
        }
    }
}
