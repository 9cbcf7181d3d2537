//! Compaction filter for the `data` and `zscore` CFs: a sub-key whose
//! collection was deleted, expired or replaced by a newer version is dropped.

use super::encoding::{decode_header, decode_version, split_sub_key};
use rocksdb::compaction_filter::Decision;
use rocksdb::DB;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

/// Pointer to the shard's DB, set after open and cleared (with background
/// work cancelled) before the DB is dropped.
pub type DbSlot = Arc<AtomicPtr<DB>>;

/// How long after its expiry time a collection's sub-keys are still kept:
/// a PERSIST or EXPIRE that saved the key just in time may still wait in
/// the shard's write group (`Engine::join`) for the rest of a turn. Reads
/// go by the meta record, so this only delays reclaiming space.
const EXPIRED_GRACE_MS: u64 = 60_000;

/// Decides whether a sub-key is still live by reading its meta record.
pub fn filter_sub_key(slot: &DbSlot, key: &[u8]) -> Decision {
    let ptr = slot.load(Ordering::Acquire);
    if ptr.is_null() {
        return Decision::Keep;
    }
    // SAFETY: the engine nulls the pointer and waits for background work
    // to finish before the DB is dropped, so a non-null pointer is live.
    let db = unsafe { &*ptr };
    let Some((meta_key, version)) = split_sub_key(key) else {
        return Decision::Keep;
    };
    let Some(meta_cf) = db.cf_handle(super::Cf::Meta.name()) else {
        return Decision::Keep;
    };
    match db.get_pinned_cf(meta_cf, &meta_key) {
        Ok(None) => Decision::Remove,
        Ok(Some(v)) => {
            let live_version = decode_version(&v);
            let expired = decode_header(&v)
                .map(|(_, at)| {
                    at != 0 && at.saturating_add(EXPIRED_GRACE_MS) <= crate::util::now_ms()
                })
                .unwrap_or(false);
            if live_version != Some(version) || expired {
                Decision::Remove
            } else {
                Decision::Keep
            }
        }
        Err(_) => Decision::Keep,
    }
}
