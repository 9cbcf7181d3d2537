//! The hot set in memory: a per-shard cache of encoded meta records (for
//! strings, the value itself) and of hash fields, set members and
//! sorted-set scores, so repeated reads of hot keys skip RocksDB.
//! Write-through: every staged put refreshes the entry, every delete
//! replaces it with one that says "absent"; a failed write or a flush
//! clears the whole cache. Once the cache is full, a large sub-key value
//! written (or read only to learn whether it exists) is cached as its
//! presence alone (`data_types::collection`), and in full when something
//! reads it.
//!
//! A miss can mean "absent" without a RocksDB read in two cases: a sub-key
//! of a collection created since the start whose cached sub-keys were all
//! kept ([`HotCache::is_complete`]), and a key not among those written
//! since the shard was flushed whole or opened empty
//! ([`HotCache::surely_absent`]).
//!
//! Entries are updated when a write is staged, not when its batch reaches
//! RocksDB, so a command reads its own staged writes and the cache never
//! lags behind the disk. Every batch is written within the command that
//! staged it; if one is dropped instead (a read error halfway through a
//! command), [`HotCache::settle`] at the end of the command finds staged
//! entries no write took and clears the cache.
//!
//! Eviction is S3-FIFO (the `quick_cache` crate) rather than LRU: a hit only
//! bumps a counter instead of relinking a list, which measured 10-17% of a
//! shard's CPU under pipelined GET/INCR with LRU, and a one-off scan cannot
//! flush the frequently used keys out.
//!
//! Other cores read the entries too ([`HotCache::shared`], `shard::peer`):
//! a GET of another shard's key finds the value here instead of in that
//! shard's RocksDB. Only the owner changes the map. While it holds entries
//! staged for a batch not yet written or joined, the [`UNWRITTEN_CACHE`]
//! bit of the engine's peer hold is set, so those readers ask the owner
//! instead and never see a write before it reaches RocksDB.

use super::encoding::sub_key_prefix_len;
use super::engine::{raise_cache_hold, UNWRITTEN_CACHE};
use super::list_ends::ListEnds;
use super::ordered::OrderedSets;
use super::{Batch, Cf};
use quick_cache::sync::Cache;
use quick_cache::{Lifecycle, OptionsBuilder, Weighter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes charged per entry on top of what its key and value allocate
/// (table slot, slab entry with the inline key and value, S3-FIFO
/// bookkeeping).
const ENTRY_OVERHEAD: usize = 128;

/// Pieces of the map, each under its own lock and with an eighth of the
/// capacity (quick_cache's default, four per CPU, would cap an entry at
/// capacity / (4 × CPUs) and evict in tiny pieces on a large machine);
/// only the owner writes, so the pieces need not be many.
const MAP_SHARDS: usize = 8;

/// Expected bytes per entry, to pre-size the table.
const TYPICAL_ENTRY: usize = 512;

/// What the allocator really hands out for `n` bytes: jemalloc rounds a
/// request up to one of four size classes per power of two. Charging this
/// keeps the cache's RSS within its budget (1 KB values sit in 1,280-byte
/// blocks; charging only the bytes let a 128 MB cache use 174 MB).
pub fn allocated(n: usize) -> usize {
    if n <= 16 {
        return 16;
    }
    let spacing = (n.next_power_of_two() / 8).max(16);
    n.div_ceil(spacing) * spacing
}

/// The bytes an entry costs: its key and value where they do not fit in
/// the entry (a reference-counted value has two counters before the
/// bytes), and the entry with its overhead.
fn cost(key: &[u8], value: &[u8]) -> usize {
    let key = if key.len() > INLINE_KEY {
        allocated(key.len())
    } else {
        0
    };
    let value = if value.len() > INLINE_VALUE {
        allocated(value.len() + 16)
    } else {
        0
    };
    key + value + ENTRY_OVERHEAD
}

/// Charges each entry what it occupies in memory.
#[derive(Clone)]
pub struct ByteCost;

impl Weighter<CacheKey, CachedValue> for ByteCost {
    fn weight(&self, key: &CacheKey, value: &CachedValue) -> u64 {
        cost(key, value) as u64
    }
}

/// Value bytes kept inside the cache's entry (counters, collection
/// headers, set members, scores): reading them costs no cache miss
/// beyond the entry's.
const INLINE_VALUE: usize = 22;

/// A cached record: short ones inside the entry, longer ones shared (a
/// reader clones the reference, not the bytes).
#[derive(Clone)]
pub enum CachedValue {
    /// Up to [`INLINE_VALUE`] bytes.
    Inline { len: u8, bytes: [u8; INLINE_VALUE] },
    /// Anything longer.
    Shared(Arc<[u8]>),
}

impl From<&[u8]> for CachedValue {
    fn from(v: &[u8]) -> CachedValue {
        if v.len() <= INLINE_VALUE {
            let mut bytes = [0; INLINE_VALUE];
            bytes[..v.len()].copy_from_slice(v);
            CachedValue::Inline {
                len: v.len() as u8,
                bytes,
            }
        } else {
            CachedValue::Shared(v.into())
        }
    }
}

impl CachedValue {
    /// `head` followed by `tail` (a record's header and payload), copied
    /// once: no intermediate vector for a 1 KB string.
    pub fn joined(head: &[u8], tail: &[u8]) -> CachedValue {
        let len = head.len() + tail.len();
        if len <= INLINE_VALUE {
            let mut bytes = [0; INLINE_VALUE];
            bytes[..head.len()].copy_from_slice(head);
            bytes[head.len()..len].copy_from_slice(tail);
            return CachedValue::Inline {
                len: len as u8,
                bytes,
            };
        }
        let mut value = Arc::<[u8]>::new_uninit_slice(len);
        let dst = Arc::get_mut(&mut value).expect("a new Arc is unique");
        // SAFETY: `dst` has room for `len` = head + tail bytes, both copies
        // stay within it and do not overlap their sources, and together
        // they initialize every byte before `assume_init`.
        unsafe {
            let p = dst.as_mut_ptr().cast::<u8>();
            std::ptr::copy_nonoverlapping(head.as_ptr(), p, head.len());
            std::ptr::copy_nonoverlapping(tail.as_ptr(), p.add(head.len()), tail.len());
            CachedValue::Shared(value.assume_init())
        }
    }
}

impl From<Vec<u8>> for CachedValue {
    fn from(v: Vec<u8>) -> CachedValue {
        // a shared value is copied either way (an `Arc<[u8]>` holds its
        // counters before the bytes)
        v.as_slice().into()
    }
}

impl std::ops::Deref for CachedValue {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            CachedValue::Inline { len, bytes } => &bytes[..*len as usize],
            CachedValue::Shared(v) => v,
        }
    }
}

/// Key bytes kept inside the cache's entry rather than in an allocation
/// of their own: a lookup compares the key without another cache miss.
const INLINE_KEY: usize = 48;

/// A cached key: up to [`INLINE_KEY`] bytes inline.
pub type CacheKey = smallvec::SmallVec<[u8; INLINE_KEY]>;

/// A key [`HotCache`] takes: a ready [`CacheKey`], or a vector (a short
/// one is copied into the entry even when it has spare capacity, which
/// `from_vec` would keep allocated).
pub trait IntoCacheKey {
    /// The key as the cache stores it.
    fn into_cache_key(self) -> CacheKey;
}

impl IntoCacheKey for CacheKey {
    fn into_cache_key(self) -> CacheKey {
        self
    }
}

impl IntoCacheKey for Vec<u8> {
    fn into_cache_key(self) -> CacheKey {
        match self.len() <= INLINE_KEY {
            true => CacheKey::from_slice(&self),
            false => CacheKey::from_vec(self),
        }
    }
}

/// The map of a shard's hot cache, which other cores read too.
pub type SharedMap = Cache<CacheKey, CachedValue, ByteCost, ahash::RandomState, Evictions>;

/// First byte of a sub-key's cache key (then the RocksDB key). Meta keys
/// start with a database index (0–15), so the two kinds never collide.
pub const SUB_ENTRY_TAG: u8 = 0xff;

/// First byte of a cached sub-key entry: the sub-key exists, and its value
/// follows. [`ABSENT`] alone: it does not exist. [`UNHELD`] alone: it
/// exists, and its value is not cached.
pub const PRESENT: u8 = 1;
pub const ABSENT: u8 = 0;
pub const UNHELD: u8 = 2;

/// Values longer than this are written to the cache as [`UNHELD`] while
/// the cache is full, and cached in full only once read. A 1 KB hash
/// field costs about 1.4 KB in the cache but its presence under 200
/// bytes, so a large hash that HSET fills keeps every field's presence
/// in memory and answers "is this field new?" without reading RocksDB
/// (HSET -P 16 on 100,000 fields of 1 KB with the default cache: that read
/// was a third of the shard's CPU); the fields HGET reads are held in full
/// as before.
pub const HELD_ON_WRITE: usize = 128;

/// Hands what an insert evicted back to [`HotCache::insert`], which drops
/// it outside the map's lock and notes which collections lost a sub-key.
#[derive(Clone, Default)]
pub struct Evictions;

impl Lifecycle<CacheKey, CachedValue> for Evictions {
    type RequestState = smallvec::SmallVec<[(CacheKey, CachedValue); 2]>;

    fn on_evict(&self, evicted: &mut Self::RequestState, key: CacheKey, value: CachedValue) {
        evicted.push((key, value));
    }
}

/// The keys written since a shard was flushed whole or opened empty
/// (`HotCache::written`): a Bloom filter of about 10 bits per key (1%
/// false positives), sized at a sixteenth of the hot cache's capacity.
struct WrittenKeys {
    filter: fastbloom::BloomFilter<ahash::RandomState>,
    count: usize,
    limit: usize,
}

impl WrittenKeys {
    fn new(cache_capacity: usize) -> WrittenKeys {
        let bits = (cache_capacity / 16 * 8).max(1024);
        let limit = bits / 10;
        WrittenKeys {
            filter: fastbloom::BloomFilter::with_num_bits(bits)
                .hasher(ahash::RandomState::new())
                .expected_items(limit),
            count: 0,
            limit,
        }
    }

    /// Records a key written; false once more were than the filter holds
    /// with its accuracy.
    fn record(&mut self, key: &[u8]) -> bool {
        if !self.filter.insert(key) {
            self.count += 1;
        }
        self.count <= self.limit
    }
}

/// Collections [`HotCache`] tracks as complete at most: the ones created
/// most recently.
const COMPLETE_TRACKED: usize = 64;

/// A size-bounded cache from meta key to encoded meta record.
pub struct HotCache {
    map: Option<Arc<SharedMap>>,
    /// The engine's peer hold, where [`UNWRITTEN_CACHE`] is set.
    hold: Arc<AtomicU64>,
    /// Score orders of sorted sets read by range (`ordered.rs`), within
    /// a quarter of the capacity on top of it.
    pub ordered: OrderedSets,
    /// Elements read ahead at the ends of popped lists (`list_ends.rs`),
    /// within a sixteenth of the capacity on top of it.
    pub list_ends: ListEnds,
    capacity: usize,
    /// Entries staged since the last write reached RocksDB.
    unwritten: u64,
    /// Times [`settle`](HotCache::settle) found a dropped batch.
    dropped: u64,
    /// Sub-key prefixes of collection versions created since this cache
    /// last lost a sub-key of theirs, oldest first: every sub-key of theirs
    /// that exists is cached, so a miss means absent (HSET, SADD and ZADD
    /// of new elements skip a RocksDB read).
    complete: Vec<Vec<u8>>,
    /// The keys written since the shard was flushed whole or opened empty
    /// (`None` otherwise): every key that exists is among them, so a key
    /// the filter does not hold is absent (INCR or SET NX of a new key
    /// skips a RocksDB read, which after a FLUSHALL searched every memtable
    /// for the old keys). Dropped until the next flush once more keys were
    /// written than it holds at its accuracy.
    written: Option<WrittenKeys>,
    /// Times [`clear`](HotCache::clear) ran.
    clears: u64,
    /// Calls of [`is_full`](HotCache::is_full) since its last look, and
    /// what it saw then.
    full_checks: u32,
    full: bool,
    /// Bytes evicted for room since [`take_evicted_bytes`] last looked.
    ///
    /// [`take_evicted_bytes`]: HotCache::take_evicted_bytes
    evicted_bytes: u64,
    /// Shared values replaced or evicted, dropped together ([`Graveyard`]).
    graveyard: Graveyard,
}

/// Values dropped in a batch of this many.
const GRAVEYARD_BATCH: usize = 32;

/// Shared values longer than this are dropped at once.
const GRAVEYARD_MAX_VALUE: usize = 4096;

/// Shared values the map gave back, dropped [`GRAVEYARD_BATCH`] at a time.
/// Dropping one decrements its reference count, which sits in memory not
/// touched since the value was written: a cache miss that the CPU waits
/// for, as the decrement is atomic (4.7% of a shard under SET `-P 16` of
/// 1 KB values, each replacing the older copy). Prefetching a batch's
/// counters first lets those misses overlap.
#[derive(Default)]
struct Graveyard(Vec<CachedValue>);

impl Graveyard {
    /// Takes `value` to drop later, or drops it now (inline, or long).
    fn bury(&mut self, value: CachedValue) {
        let CachedValue::Shared(shared) = &value else {
            return;
        };
        if shared.len() > GRAVEYARD_MAX_VALUE {
            return;
        }
        self.0.push(value);
        if self.0.len() >= GRAVEYARD_BATCH {
            self.empty();
        }
    }

    /// Drops every value held, after asking for all their counters.
    fn empty(&mut self) {
        for value in &self.0 {
            if let CachedValue::Shared(shared) = value {
                // the counters sit just before the bytes
                prefetch(Arc::as_ptr(shared).cast::<u8>().wrapping_sub(16));
            }
        }
        self.0.clear();
    }
}

/// Asks the CPU to bring the cache line at `p` in; never faults.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it reads nothing and cannot fault
    // whatever the address
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Brings the entries of `keys` in a shard's map (at most
/// [`quick_cache::sync::PREFETCH_MAX`]) and the first line of their shared
/// values into this CPU's cache, before the commands that read them run.
/// Reading one key is a chain of cache misses (the table, the entry, the
/// value's counters) the CPU waits through in turn; asked for together,
/// the misses of a pipeline's keys overlap. A hint: nothing changes.
/// Returns how many of the keys the map holds.
pub fn prefetch_entries(map: &SharedMap, keys: &[&[u8]]) -> usize {
    let held = std::cell::Cell::new(0);
    map.prefetch(keys, |value| {
        held.set(held.get() + 1);
        if let CachedValue::Shared(shared) = value {
            // the counters sit just before the bytes
            prefetch(Arc::as_ptr(shared).cast::<u8>().wrapping_sub(16));
        }
    });
    held.get()
}

/// [`HotCache::is_full`] looks at the cache's weight once in this many
/// calls (summing it takes every piece's lock).
const FULL_CHECK_EVERY: u32 = 256;

impl HotCache {
    /// An empty cache holding at most `capacity` bytes (0 disables it),
    /// flagging staged entries in `hold`.
    pub fn new(capacity: usize, hold: Arc<AtomicU64>) -> HotCache {
        let map = (capacity > 0).then(|| {
            let options = OptionsBuilder::new()
                .estimated_items_capacity((capacity / TYPICAL_ENTRY).max(16))
                .weight_capacity(capacity as u64)
                .shards(MAP_SHARDS)
                .build()
                .expect("valid hot cache options");
            Arc::new(Cache::with_options(
                options,
                ByteCost,
                ahash::RandomState::new(),
                Default::default(),
            ))
        });
        HotCache {
            map,
            hold,
            ordered: OrderedSets::new(capacity / 4),
            list_ends: ListEnds::new(capacity / 16),
            capacity,
            unwritten: 0,
            dropped: 0,
            complete: Vec::new(),
            written: None,
            clears: 0,
            full_checks: 0,
            full: false,
            evicted_bytes: 0,
            graveyard: Graveyard::default(),
        }
    }

    /// The cached record of a meta key, counting the hit.
    pub fn get(&mut self, key: &[u8]) -> Option<CachedValue> {
        self.map.as_ref()?.get(key)
    }

    /// The map for other cores to read (`None` when disabled).
    pub fn shared(&self) -> Option<Arc<SharedMap>> {
        self.map.clone()
    }

    /// Caches a record, evicting others beyond capacity. A record larger
    /// than an eighth of the cache is not kept (nor is an older copy).
    pub fn insert(&mut self, key: impl IntoCacheKey, value: CachedValue) {
        self.insert_entry(key.into_cache_key(), value, false);
    }

    /// [`insert`](Self::insert); with `record`, the key also goes into
    /// `written` unless the entry it replaced says it exists (a key that
    /// exists was recorded when it was written: the filter starts empty
    /// with the shard). That spares a repeated write the filter's probes,
    /// each a likely CPU-cache miss.
    fn insert_entry(&mut self, key: CacheKey, value: CachedValue, record: bool) {
        let record = record && self.written.is_some();
        let map = match self.map.as_ref() {
            Some(map) if cost(&key, &value) <= self.capacity / 8 => map,
            // no cache, or a record too large to keep (an older copy goes)
            map => {
                if let Some(map) = map {
                    map.remove(key.as_slice());
                    self.lost(&key, Some(&value));
                }
                if record {
                    self.record_key(&key);
                }
                return;
            }
        };
        // quick_cache hands back a replaced entry as evicted too: that one
        // is not lost
        let tracking = !self.complete.is_empty();
        let inserted = (tracking || record).then(|| key.clone());
        let mut evicted = Default::default();
        map.insert_with_lifecycle(key, value, &mut evicted);
        // the report of the inserted key may also be the new entry itself,
        // refused by one of the map's pieces (larger than its share)
        let (refused, existed) = match inserted.as_ref() {
            Some(k) if evicted.iter().any(|(e, _)| e == k) => {
                let refused = !map.contains_key(k.as_slice());
                let present = evicted.iter().any(|(e, v)| e == k && !v.is_empty());
                (refused, !refused && present)
            }
            _ => (false, false),
        };
        if let (true, false, Some(k)) = (record, existed, inserted.as_ref()) {
            self.record_key(k);
        }
        let inserted = inserted.filter(|_| tracking);
        for (key, value) in evicted {
            if refused || inserted.as_ref() != Some(&key) {
                self.evicted_bytes += cost(&key, &value) as u64;
                self.lost(&key, Some(&value));
            }
            self.graveyard.bury(value);
        }
    }

    /// Starts tracking a collection version created empty, by the prefix
    /// of its sub-keys, as complete: each sub-key written from now on is
    /// staged here.
    pub fn track_complete(&mut self, prefix: &[u8]) {
        if self.map.is_none() {
            return;
        }
        if self.complete.len() == COMPLETE_TRACKED {
            self.complete.remove(0);
        }
        self.complete.push(prefix.to_vec());
    }

    /// Whether every existing sub-key of the collection `sub_key` (a
    /// RocksDB key) belongs to is cached.
    pub fn is_complete(&self, sub_key: &[u8]) -> bool {
        if self.complete.is_empty() {
            return false;
        }
        sub_key_prefix_len(sub_key)
            .is_some_and(|n| self.complete.iter().any(|p| **p == sub_key[..n]))
    }

    /// Starts recording the keys written (see `written`): the shard was
    /// just flushed whole, or opened empty. Only an empty cache starts:
    /// a rewrite of a key cached as existing is not recorded again
    /// ([`insert_entry`](Self::insert_entry)), so a key must not be cached
    /// before the filter holds it.
    pub fn start_recording_keys(&mut self) {
        let empty = self.map.as_ref().is_none_or(|m| m.is_empty());
        self.written = (self.capacity > 0 && empty).then(|| WrittenKeys::new(self.capacity));
    }

    /// Records the keys a batch that was not staged here puts (a
    /// multi-shard operation's captured part), so that a FLUSHALL between
    /// its staging and its write does not leave them out of `written`.
    pub fn record_batch(&mut self, batch: &Batch) {
        if self.written.is_none() {
            return;
        }
        match batch.put_keys(Cf::Meta) {
            Some(keys) => keys.into_iter().for_each(|k| self.record_key(k)),
            None => self.written = None,
        }
    }

    /// Records a key written in `written`, which is dropped once it holds
    /// more keys than its accuracy allows.
    fn record_key(&mut self, key: &[u8]) {
        if self.written.as_mut().is_some_and(|w| !w.record(key)) {
            self.written = None;
        }
    }

    /// How many times the cache was cleared (a failed write clears it).
    pub fn clears(&self) -> u64 {
        self.clears
    }

    /// Whether the meta key `mk` surely does not exist.
    pub fn surely_absent(&self, mk: &[u8]) -> bool {
        self.written
            .as_ref()
            .is_some_and(|w| !w.filter.contains(mk))
    }

    /// The entry of `key`, holding `value` (`None`: not known), is gone
    /// from the cache: a collection whose existing sub-key it was is no
    /// longer complete. Entries that say "absent" ([`ABSENT`]) may go: a
    /// miss says the same. (Meta records may go too: `written` holds their
    /// keys.)
    fn lost(&mut self, key: &[u8], value: Option<&[u8]>) {
        if key.first() != Some(&SUB_ENTRY_TAG)
            || self.complete.is_empty()
            || value.is_some_and(|v| v.first() == Some(&ABSENT))
        {
            return;
        }
        if let Some(n) = sub_key_prefix_len(&key[1..]) {
            self.complete.retain(|p| **p != key[1..=n]);
        }
    }

    /// Caches the record of a write being staged (see the module doc).
    pub fn stage(&mut self, key: impl IntoCacheKey, value: CachedValue) {
        self.mark_unwritten();
        let key = key.into_cache_key();
        let record = key.first() != Some(&SUB_ENTRY_TAG) && !value.is_empty();
        self.insert_entry(key, value, record);
    }

    /// Stages a `zscore` sub-key insert or delete (see
    /// [`OrderedSets::stage`]); counted like [`stage`](Self::stage) when
    /// the set is held.
    pub fn stage_ordered(&mut self, prefix: &[u8], sub: &[u8], present: bool) {
        if self.ordered.stage(prefix, sub, present) {
            self.mark_unwritten();
        }
    }

    /// Counts a staged entry; the first one since the last write raises
    /// [`UNWRITTEN_CACHE`] before the entry is visible to other cores.
    fn mark_unwritten(&mut self) {
        if self.unwritten == 0 {
            raise_cache_hold(&self.hold);
        }
        self.unwritten += 1;
    }

    /// Whether entries were staged that no write has taken yet.
    pub fn has_unwritten(&self) -> bool {
        self.unwritten > 0
    }

    /// A batch reached RocksDB, or joined the engine's group (which holds
    /// other cores' reads itself): what was staged may be read, and
    /// [`UNWRITTEN_CACHE`] goes down.
    pub fn written(&mut self) {
        if self.unwritten > 0 {
            self.unwritten = 0;
            self.hold.fetch_and(!UNWRITTEN_CACHE, Ordering::SeqCst);
        }
    }

    /// End of a command: entries staged for a batch that was never written
    /// would show data the disk does not have, so the cache is cleared.
    /// Returns whether that happened.
    pub fn settle(&mut self) -> bool {
        if self.unwritten == 0 {
            return false;
        }
        self.dropped += 1;
        self.clear();
        true
    }

    /// How many commands dropped a staged batch (each cleared the cache).
    pub fn dropped_batches(&self) -> u64 {
        self.dropped
    }

    /// Drops a key (the server stages deletions instead; the tests drop
    /// entries this way).
    #[cfg(test)]
    pub fn remove(&mut self, key: &[u8]) {
        if let Some(map) = self.map.as_ref() {
            map.remove(key);
        }
        self.lost(key, None);
    }

    /// Drops everything, and with it any entry a write did not take
    /// (lowering [`UNWRITTEN_CACHE`], which a failed group write raises).
    pub fn clear(&mut self) {
        self.ordered.clear();
        self.list_ends.clear();
        self.complete.clear();
        self.written = None;
        self.clears += 1;
        if let Some(map) = self.map.as_ref() {
            map.clear();
        }
        self.unwritten = 0;
        self.hold.fetch_and(!UNWRITTEN_CACHE, Ordering::SeqCst);
    }

    /// Whether the cache is (nearly) at capacity, so that another entry
    /// evicts one: within a sixteenth of it, as seen at most
    /// [`FULL_CHECK_EVERY`] calls ago.
    pub fn is_full(&mut self) -> bool {
        if self.full_checks == 0 {
            self.full = self.used() + self.capacity / 16 >= self.capacity;
            self.full_checks = FULL_CHECK_EVERY;
        }
        self.full_checks -= 1;
        self.full
    }

    /// Bytes currently charged.
    pub fn used(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.weight() as usize)
    }

    /// Bytes the cache may hold (its share of the process's budget,
    /// `storage/hot_budget.rs`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes evicted to make room since the last call.
    pub fn take_evicted_bytes(&mut self) -> u64 {
        std::mem::take(&mut self.evicted_bytes)
    }

    /// Resizes the cache. Shrinking evicts without reporting each entry,
    /// so no collection counts as complete any more (a miss must read
    /// RocksDB again until one is created anew).
    pub fn set_capacity(&mut self, capacity: usize) {
        let Some(map) = self.map.as_ref() else {
            return;
        };
        if capacity == self.capacity {
            return;
        }
        if capacity < self.capacity {
            self.complete.clear();
        }
        map.set_capacity(capacity as u64);
        self.capacity = capacity;
        self.full_checks = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_finds_the_resident_values_of_up_to_32_keys() {
        let mut hot = HotCache::new(1 << 20, Arc::default());
        for i in 0..40u8 {
            if i % 3 != 0 {
                hot.insert(vec![0, 0, i], CachedValue::from(vec![i; 100]));
            }
        }
        let keys: Vec<Vec<u8>> = (0..40u8).map(|i| vec![0, 0, i]).collect();
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
        let seen = std::cell::RefCell::new(Vec::new());
        let map = hot.shared().unwrap();
        map.prefetch(&keys, |v| seen.borrow_mut().push(v[0]));
        // the first 32 keys only, those inserted, in order
        let expected: Vec<u8> = (0..32u8).filter(|i| i % 3 != 0).collect();
        assert_eq!(seen.into_inner(), expected);
        // a hint: the values read afterwards are unchanged
        assert_eq!(prefetch_entries(&map, &keys), expected.len());
        for i in 0..40u8 {
            let got = hot.get(&[0, 0, i]).map(|v| v.to_vec());
            assert_eq!(got, (i % 3 != 0).then(|| vec![i; 100]));
        }
    }

    #[test]
    fn entries_hold_short_keys_and_values_inline() {
        assert_eq!(std::mem::size_of::<CachedValue>(), 24);
        assert_eq!(std::mem::size_of::<CacheKey>(), 56);
        let short = CachedValue::from(&b"counter"[..]);
        assert!(matches!(short, CachedValue::Inline { len: 7, .. }));
        assert_eq!(&*short, b"counter");
        let long = CachedValue::from(vec![7u8; INLINE_VALUE + 1]);
        assert!(matches!(long, CachedValue::Shared(_)));
        assert_eq!(&*long, &[7u8; INLINE_VALUE + 1][..]);
        assert_eq!(&*CachedValue::from(Vec::new()), b"");
        assert_eq!(cost(b"key", b"value"), ENTRY_OVERHEAD);
        assert_eq!(cost(&[0; 48], &[0; 22]), ENTRY_OVERHEAD);
        assert_eq!(cost(&[0; 49], &[0; 23]), 64 + 48 + ENTRY_OVERHEAD);
    }

    #[test]
    fn replaced_values_are_dropped_in_batches() {
        let mut c = HotCache::new(1 << 20, Default::default());
        let first = CachedValue::from(vec![1u8; 1024]);
        let CachedValue::Shared(watched) = first.clone() else {
            panic!("a 1 KB value is shared");
        };
        c.insert(b"k".to_vec(), first);
        c.insert(b"k".to_vec(), CachedValue::from(vec![2u8; 1024]));
        assert_eq!(Arc::strong_count(&watched), 2, "held until its batch");
        for i in 0..GRAVEYARD_BATCH {
            c.insert(b"k".to_vec(), CachedValue::from(vec![i as u8; 1024]));
        }
        assert_eq!(Arc::strong_count(&watched), 1, "dropped with its batch");
        assert!(c.graveyard.0.len() < GRAVEYARD_BATCH);
        let long = CachedValue::from(vec![3u8; GRAVEYARD_MAX_VALUE + 1]);
        let CachedValue::Shared(watched) = long.clone() else {
            panic!("shared");
        };
        c.insert(b"long".to_vec(), long);
        c.insert(b"long".to_vec(), CachedValue::from(&b"short"[..]));
        assert_eq!(Arc::strong_count(&watched), 1, "a long value goes at once");
    }

    #[test]
    fn charges_allocator_size_classes() {
        assert_eq!(allocated(1), 16);
        assert_eq!(allocated(1024), 1024);
        assert_eq!(allocated(1040), 1280);
        assert_eq!(allocated(100), 112);
        assert_eq!(allocated(4097), 5120);
    }

    #[test]
    fn evicts_within_budget_and_keeps_frequent_keys() {
        let mut c = HotCache::new(100_000, Default::default());
        let key = |i: u32| i.to_be_bytes().to_vec();
        c.insert(b"hot".to_vec(), CachedValue::from(vec![1u8; 36]));
        for i in 0..5_000 {
            c.insert(key(i), CachedValue::from(vec![0u8; 36]));
            assert!(c.get(b"hot").is_some(), "a key read all along stays");
        }
        assert!(c.used() <= 100_000);
        let kept = (0..5_000).filter(|&i| c.get(&key(i)).is_some()).count();
        assert!(kept > 100 && kept < 1_000, "{kept} of 5,000 kept");
        assert!(c.get(&key(4_999)).is_some(), "the newest key is cached");
        c.insert(b"big".to_vec(), CachedValue::from(vec![0u8; 20_000]));
        assert!(c.get(b"big").is_none(), "larger than an eighth: not kept");
        c.remove(&key(4_999));
        assert!(c.get(&key(4_999)).is_none());
        assert!(c.is_full());
        c.clear();
        assert_eq!(c.used(), 0);
        (0..FULL_CHECK_EVERY).for_each(|_| _ = c.is_full());
        assert!(!c.is_full(), "seen empty at the next look");
        assert!(HotCache::new(0, Default::default()).get(b"hot").is_none());
    }

    #[test]
    fn a_collection_is_complete_until_it_loses_a_sub_key() {
        let mut c = HotCache::new(100_000, Default::default());
        let prefix = crate::storage::encoding::sub_key_prefix(0, b"set", 7);
        let sub = |p: &[u8], m: &str| [p, m.as_bytes()].concat();
        let entry = |p: &[u8], m: &str| [&[SUB_ENTRY_TAG][..], &sub(p, m)].concat();
        assert!(!c.is_complete(&sub(&prefix, "a")));
        c.track_complete(&prefix);
        c.stage(entry(&prefix, "a"), CachedValue::from(&b"1"[..]));
        assert!(c.is_complete(&sub(&prefix, "b")));
        let other = crate::storage::encoding::sub_key_prefix(0, b"set", 8);
        assert!(!c.is_complete(&sub(&other, "b")), "another version");
        c.remove(&entry(&prefix, "a"));
        assert!(!c.is_complete(&sub(&prefix, "b")), "a sub-key removed");
        // a full cache puts a new entry in its probation queue, which the
        // next ones flush out
        let churn = |c: &mut HotCache, from: u32| {
            for i in from..from + 5_000 {
                c.insert(i.to_be_bytes().to_vec(), CachedValue::from(vec![0u8; 36]));
            }
        };
        churn(&mut c, 0);
        c.track_complete(&prefix);
        c.stage(entry(&prefix, "c"), CachedValue::from(&b"1"[..]));
        churn(&mut c, 5_000);
        assert!(c.get(&entry(&prefix, "c")).is_none());
        assert!(!c.is_complete(&sub(&prefix, "b")), "a sub-key evicted");
        c.track_complete(&prefix);
        c.clear();
        assert!(!c.is_complete(&sub(&prefix, "b")), "cleared");
    }

    #[test]
    fn shrinking_evicts_within_the_new_capacity_and_ends_completeness() {
        let mut c = HotCache::new(1 << 20, Default::default());
        let prefix = crate::storage::encoding::sub_key_prefix(0, b"h", 1);
        let entry = |i: u32| [&[SUB_ENTRY_TAG][..], &prefix, &i.to_be_bytes()].concat();
        c.track_complete(&prefix);
        for i in 0..2_000 {
            c.stage(entry(i), CachedValue::from(vec![1u8; 200]));
        }
        let probe = [&prefix[..], b"x"].concat();
        assert!(c.is_complete(&probe));
        c.set_capacity(1 << 20); // unchanged: nothing happens
        assert!(c.is_complete(&probe));
        c.set_capacity(1 << 18);
        assert_eq!(c.capacity(), 1 << 18);
        assert!(c.used() <= 1 << 18, "{}", c.used());
        assert!(
            (0..2_000).any(|i| c.get(&entry(i)).is_none()),
            "nothing evicted"
        );
        assert!(!c.is_complete(&probe), "complete after losing sub-keys");
        // growing keeps what is cached
        let held = (0..2_000).filter(|&i| c.get(&entry(i)).is_some()).count();
        c.set_capacity(1 << 20);
        assert_eq!(
            (0..2_000).filter(|&i| c.get(&entry(i)).is_some()).count(),
            held
        );
    }

    #[test]
    fn keys_written_since_a_flush_are_recorded() {
        let mut c = HotCache::new(100_000, Default::default());
        assert!(!c.surely_absent(b"\0k1"), "not recording");
        c.start_recording_keys();
        assert!(c.surely_absent(b"\0k1"));
        c.stage(b"\0k1".to_vec(), CachedValue::from(&b"v"[..]));
        c.stage(b"\0gone".to_vec(), CachedValue::from(&b""[..]));
        assert!(!c.surely_absent(b"\0k1"));
        let mut part = Batch::default();
        part.put(Cf::Meta, b"\0k2", b"v");
        c.record_batch(&part);
        assert!(!c.surely_absent(b"\0k2"), "a captured part's key");
        let clears = c.clears();
        c.clear();
        assert_eq!(c.clears(), clears + 1);
        assert!(!c.surely_absent(b"\0k3"), "a clear stops recording");
    }

    #[test]
    fn rewritten_and_uncacheable_keys_stay_recorded() {
        let mut c = HotCache::new(100_000, Default::default());
        c.start_recording_keys();
        // replaces an entry that says absent: recorded now
        c.stage(b"\0gone".to_vec(), CachedValue::from(&b""[..]));
        c.stage(b"\0gone".to_vec(), CachedValue::from(&b"v"[..]));
        // replaces one that says present: recorded by the first write
        c.stage(b"\0k".to_vec(), CachedValue::from(&b"1"[..]));
        c.stage(b"\0k".to_vec(), CachedValue::from(&b"2"[..]));
        // too large to cache
        c.stage(b"\0big".to_vec(), CachedValue::from(vec![7u8; 50_000]));
        c.remove(b"\0gone");
        c.remove(b"\0k");
        for key in [&b"\0gone"[..], b"\0k", b"\0big"] {
            assert!(!c.surely_absent(key), "{key:?}");
        }
        assert!(c.surely_absent(b"\0never"));
    }

    #[test]
    fn staged_entries_hold_other_cores_off_until_written() {
        let hold = Arc::new(AtomicU64::new(0));
        let mut c = HotCache::new(100_000, hold.clone());
        let flags = || hold.load(Ordering::SeqCst) & crate::storage::engine::HOLD_FLAGS;
        c.insert(b"read".to_vec(), CachedValue::from(vec![1u8]));
        assert_eq!(flags(), 0, "a value read from RocksDB is no news");
        c.stage(b"a".to_vec(), CachedValue::from(vec![2u8]));
        c.stage(b"b".to_vec(), CachedValue::from(vec![3u8]));
        assert_eq!(flags(), UNWRITTEN_CACHE);
        let raised = hold.load(Ordering::SeqCst);
        c.written();
        assert_eq!(flags(), 0);
        c.stage(b"a".to_vec(), CachedValue::from(vec![4u8]));
        assert!(
            hold.load(Ordering::SeqCst) > raised,
            "each raise is counted"
        );
        c.clear();
        assert_eq!(flags(), 0, "nothing unwritten is left to see");
    }

    #[test]
    fn a_staged_entry_no_write_took_clears_the_cache() {
        let mut c = HotCache::new(100_000, Default::default());
        c.insert(b"read".to_vec(), CachedValue::from(vec![1u8]));
        c.stage(b"staged".to_vec(), CachedValue::from(vec![2u8]));
        assert!(c.get(b"staged").is_some(), "a command sees its own staging");
        c.written();
        assert!(!c.settle(), "written: nothing to undo");
        assert!(c.get(b"staged").is_some() && c.get(b"read").is_some());
        c.stage(b"dropped".to_vec(), CachedValue::from(vec![3u8]));
        assert!(c.settle(), "never written: cleared");
        assert!(c.get(b"dropped").is_none() && c.get(b"read").is_none());
        assert_eq!(c.dropped_batches(), 1);
        assert!(!c.settle());
    }
}
