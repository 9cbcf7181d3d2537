//! One hot-key cache budget (`--hot-cache-size`) for the whole process,
//! moved between the shards by demand. Each shard owns its own cache, and
//! an even split left the owner of one large collection (a big hash, a
//! leaderboard) with 1/shards of the budget while the other caches sat
//! half empty. Once a second each shard publishes what it wants (the bytes
//! it holds plus those it evicted for room since its last look) and takes
//! its share: half of an even split always, the other half of the budget
//! in proportion to the wants. A shard shrinks at once; it grows only into
//! room another shard gave back (`allocated` never exceeds the budget), so
//! the caches together never hold more than the budget.

use std::sync::atomic::{AtomicU64, Ordering};

/// The process-wide hot-cache budget and each shard's last published want.
pub struct HotBudget {
    total: u64,
    /// Bytes every shard keeps whatever the others want.
    floor: u64,
    /// Sum of the shards' current capacities.
    allocated: AtomicU64,
    wants: Vec<AtomicU64>,
}

impl HotBudget {
    /// A budget of `total` bytes for `shards` caches, split evenly to start.
    pub fn new(total: u64, shards: usize) -> HotBudget {
        let shards = shards.max(1);
        let even = total / shards as u64;
        HotBudget {
            total,
            floor: even / 2,
            allocated: AtomicU64::new(even * shards as u64),
            wants: (0..shards).map(|_| AtomicU64::new(even)).collect(),
        }
    }

    /// Each shard's capacity before any rebalancing.
    pub fn initial_share(&self) -> u64 {
        self.total / self.wants.len() as u64
    }

    /// Publishes shard `id`'s `want` and returns its new capacity, moving
    /// from `current`: the share it is due, or less while the room to grow
    /// into has not been given back yet.
    pub fn rebalance(&self, id: usize, want: u64, current: u64) -> u64 {
        self.wants[id].store(want, Ordering::Relaxed);
        let target = self.share_of(want);
        if target <= current {
            self.allocated.fetch_sub(current - target, Ordering::SeqCst);
            return target;
        }
        let mut granted = 0;
        let _ = self
            .allocated
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |a| {
                granted = (target - current).min(self.total.saturating_sub(a));
                Some(a + granted)
            });
        current + granted
    }

    /// The capacity a shard wanting `want` is due, given the others' wants.
    fn share_of(&self, want: u64) -> u64 {
        let n = self.wants.len() as u64;
        let flexible = self.total - self.floor * n;
        let sum: u64 = self.wants.iter().map(|w| w.load(Ordering::Relaxed)).sum();
        if sum == 0 {
            return self.floor + flexible / n;
        }
        self.floor + (flexible as u128 * want as u128 / sum as u128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_grows_only_into_room_given_back() {
        let b = HotBudget::new(1000, 2);
        let (mut cap0, mut cap1) = (b.initial_share(), b.initial_share());
        // shard 0 wants everything, shard 1 little: 0 cannot grow before
        // 1 has shrunk
        cap0 = b.rebalance(0, 5000, cap0);
        assert_eq!(cap0, 500);
        cap1 = b.rebalance(1, 10, cap1);
        assert!((250..260).contains(&cap1), "{cap1}");
        cap0 = b.rebalance(0, 5000, cap0);
        assert!(cap0 + cap1 <= 1000);
        assert!(cap0 > 700, "{cap0}");
        // the floor: half of an even split stays with shard 1
        cap1 = b.rebalance(1, 0, cap1);
        assert_eq!(cap1, 250);
        cap0 = b.rebalance(0, 5000, cap0);
        assert_eq!(cap0, 750);
        // equal wants come back to an even split, never above the budget
        for _ in 0..3 {
            cap0 = b.rebalance(0, 400, cap0);
            assert!(cap0 + cap1 <= 1000);
            cap1 = b.rebalance(1, 400, cap1);
            assert!(cap0 + cap1 <= 1000);
        }
        assert_eq!((cap0, cap1), (500, 500));
    }
}
