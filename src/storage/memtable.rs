//! Memtable sizes chosen by entry count rather than by bytes.
//!
//! Every write is an insert into a column family's memtable skiplist, whose
//! cost grows with the entries it holds: each level of the search is a
//! cache miss once the list outgrows the CPU cache. A fixed byte size holds
//! 60,000 entries of 1 KB values but over a million counters or sorted-set
//! scores, and with those the insert search took a quarter to half of a
//! shard's CPU (benches/RESULTS.md). Small memtables in turn flush too often
//! for large values: 8 MB of 1 KB list elements stalled writes on L0 files.
//! So each shard samples its active memtables once a second and sizes each
//! column family to hold about [`TARGET_ENTRIES`] entries of the size seen,
//! between [`MIN_BYTES`] and [`MAX_BYTES`].

use super::engine::{Cf, Engine};
use std::cell::Cell;

/// Entries a memtable is sized to hold.
pub const TARGET_ENTRIES: u64 = 64 * 1024;
/// The smallest memtable: below it flushes and L0 files come too often.
pub const MIN_BYTES: usize = 8 << 20;
/// The largest memtable (RocksDB's default size).
pub const MAX_BYTES: usize = 64 << 20;
/// Entries a memtable must hold before its average entry size is trusted.
const MIN_SAMPLE: u64 = 4096;

/// The memtable size for entries that take `bytes / entries` bytes each
/// (skiplist node included), or `None` while the sample is too small.
pub fn target_size(bytes: u64, entries: u64) -> Option<usize> {
    if entries < MIN_SAMPLE {
        return None;
    }
    let avg = bytes / entries;
    let want = avg.saturating_mul(TARGET_ENTRIES);
    Some((want as usize).clamp(MIN_BYTES, MAX_BYTES))
}

/// Whether `target` differs enough from `current` to change it: by more
/// than a quarter, so a mixed workload does not resize back and forth.
pub fn worth_changing(current: usize, target: usize) -> bool {
    current.abs_diff(target) > current / 4
}

/// The initial memtable size of a column family, before any sample.
pub fn initial_size(cf: Cf) -> usize {
    match cf {
        // score-order entries are always small (score and member, no value)
        Cf::ZScore => MIN_BYTES,
        _ => MAX_BYTES,
    }
}

/// The memtable size in force per column family of one shard.
pub struct MemtableSizes {
    sizes: [Cell<usize>; Cf::ALL.len()],
}

impl Default for MemtableSizes {
    fn default() -> Self {
        MemtableSizes {
            sizes: Cf::ALL.map(|cf| Cell::new(initial_size(cf))),
        }
    }
}

/// A size change to apply: the column family, its new size, and the
/// average entry size that called for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// The column family.
    pub cf: Cf,
    /// Its new memtable size in bytes.
    pub bytes: usize,
    /// Bytes per entry in the sampled memtable.
    pub entry_bytes: u64,
}

impl MemtableSizes {
    /// Samples the active memtables and returns the changes due; they count
    /// as in force from now on (the caller applies them).
    pub fn review(&self, engine: &Engine) -> Vec<Resize> {
        Cf::ALL
            .iter()
            .zip(&self.sizes)
            .filter_map(|(&cf, current)| {
                let (bytes, entries) = engine.active_memtable(cf)?;
                let target = target_size(bytes, entries)?;
                if !worth_changing(current.get(), target) {
                    return None;
                }
                current.set(target);
                Some(Resize {
                    cf,
                    bytes: target,
                    entry_bytes: bytes / entries,
                })
            })
            .collect()
    }

    /// The size in force for a column family.
    pub fn get(&self, cf: Cf) -> usize {
        let i = Cf::ALL.iter().position(|&c| c == cf).expect("known family");
        self.sizes[i].get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_entry_size_within_bounds() {
        assert_eq!(target_size(100, 10), None, "too few entries to judge");
        // counters: ~80 bytes an entry
        assert_eq!(target_size(80 * 100_000, 100_000), Some(80 << 17).map(|b: usize| b.max(MIN_BYTES)));
        // 1 KB values: capped
        assert_eq!(target_size(1100 * 50_000, 50_000), Some(MAX_BYTES));
        // tiny entries: floored
        assert_eq!(target_size(20 * 50_000, 50_000), Some(MIN_BYTES));
        // 256-byte entries: 32 MB
        assert_eq!(target_size(256 * 10_000, 10_000), Some(32 << 20));
    }

    #[test]
    fn only_large_differences_resize() {
        assert!(!worth_changing(64 << 20, 56 << 20));
        assert!(worth_changing(64 << 20, 8 << 20));
        assert!(worth_changing(8 << 20, 16 << 20));
        assert!(!worth_changing(8 << 20, 9 << 20));
    }
}
