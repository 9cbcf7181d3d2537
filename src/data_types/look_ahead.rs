//! The data side of a connection's look ahead (`server::prefetch`): given
//! the keys its buffered commands will read, ask a shard's hot-cache map
//! for their meta entries, then for the entries of the members that
//! hash, set and sorted-set commands name, in the collections' current
//! versions. A hint only: nothing read here decides anything.

use super::collection::member_cache_key;
use crate::storage::encoding::decode_version;
use crate::storage::hot::{prefetch_entries, CacheKey, SharedMap};
use quick_cache::sync::PREFETCH_MAX;

/// One key a command will read, as the look ahead saw it.
#[derive(Clone, Copy, Default)]
pub struct AheadRead<'a> {
    /// Its meta key (`storage::encoding::meta_key`).
    pub meta_key: &'a [u8],
    /// The user key.
    pub key: &'a [u8],
    /// The first member the command names (`collection::first_member`).
    pub member: Option<&'a [u8]>,
}

/// Asks `map` for the meta entries of `reads` (at most [`PREFETCH_MAX`]),
/// then for the member entries of those naming one; returns how many meta
/// entries the map holds.
pub fn prefetch_reads(map: &SharedMap, db: u8, reads: &[AheadRead]) -> usize {
    let mut keys: [&[u8]; PREFETCH_MAX] = [&[]; PREFETCH_MAX];
    for (slot, read) in keys.iter_mut().zip(reads) {
        *slot = read.meta_key;
    }
    let held = prefetch_entries(map, &keys[..reads.len().min(PREFETCH_MAX)]);
    // the members' keys, in the collections' current versions (one meta
    // read per collection when consecutive commands share it)
    let mut members: Vec<CacheKey> = Vec::new();
    let mut last: Option<(&[u8], Option<u64>)> = None;
    for read in reads {
        let Some(member) = read.member else {
            continue;
        };
        let version = match last {
            Some((meta_key, version)) if meta_key == read.meta_key => version,
            _ => map.peek(read.meta_key).and_then(|m| decode_version(&m)),
        };
        last = Some((read.meta_key, version));
        if let Some(version) = version {
            members.push(member_cache_key(db, read.key, version, member));
        }
    }
    if !members.is_empty() {
        for (slot, m) in keys.iter_mut().zip(&members) {
            *slot = m;
        }
        prefetch_entries(map, &keys[..members.len().min(PREFETCH_MAX)]);
    }
    held
}
