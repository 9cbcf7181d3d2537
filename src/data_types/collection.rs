//! Shared machinery of the collection types (list, hash, set, zset,
//! stream): a meta record with a version and a size, and sub-keys in the
//! `data`/`zscore` CFs under `db · slot · keylen · key · version`.

use super::{storage_error, Db, MetaRead, Result};
use crate::storage::encoding::{sub_key_prefix, Kind, Meta};
use crate::storage::hot::{
    CacheKey, CachedValue, HotCache, ABSENT, HELD_ON_WRITE, PRESENT, SUB_ENTRY_TAG, UNHELD,
};
use crate::storage::Batch;
use crate::storage::{ordered, Cf};
use crate::util::few_map::FewSet;
use std::collections::BTreeSet;

/// A collection being read or changed within one command.
pub struct Collection {
    /// The user key.
    pub key: Vec<u8>,
    /// Its meta record (size, version, expiry, type extras).
    pub meta: Meta,
    prefix: Vec<u8>,
    /// The meta record as read (`None` for a new collection): an unchanged
    /// record is not written again.
    stored: Option<Meta>,
}

impl Collection {
    /// Whether the key existed before this command.
    pub fn existed(&self) -> bool {
        self.stored.is_some()
    }

    /// Full sub-key for `sub`.
    pub fn sub_key(&self, sub: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + sub.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(sub);
        k
    }

    /// The prefix shared by all sub-keys of this version.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The hot-cache key of a sub-key: [`SUB_ENTRY_TAG`] then the RocksDB
    /// key. Only hash fields, set members and sorted-set scores (the
    /// `data` CF of those types) are cached: every write of theirs passes
    /// through `put_sub`/`del_sub`, and a new version of a key has new
    /// sub-keys. Lists and streams also write ranges, so they are not.
    fn cache_key(&self, cf: Cf, sub: &[u8]) -> Option<CacheKey> {
        if cf != Cf::Data || !matches!(self.meta.kind, Kind::Hash | Kind::Set | Kind::ZSet) {
            return None;
        }
        Some(sub_cache_key(&[&self.prefix, sub]))
    }
}

/// The hot-cache key of the sub-key whose RocksDB key is `parts` joined
/// (inline, with no allocation, up to the cache's inline key size).
fn sub_cache_key(parts: &[&[u8]]) -> CacheKey {
    let mut k = CacheKey::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(SUB_ENTRY_TAG);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// The hot-cache key of `member` in version `version` of the collection
/// `key` of database `db`.
pub fn member_cache_key(db: u8, key: &[u8], version: u64, member: &[u8]) -> CacheKey {
    sub_cache_key(&[&sub_key_prefix(db, key, version), member])
}

/// The first member a command of a hash, set or sorted set names (the
/// sub-key whose hot-cache entry it reads first), given its name as the
/// command table spells it and its first arguments (name, key, and the
/// two after it): the look ahead of a pipeline (`server::prefetch`) asks
/// for that entry early. `None` for other commands, and for a ZADD with
/// options.
pub fn first_member<'a>(name: &str, args: &[&'a [u8]]) -> Option<&'a [u8]> {
    let at = match name {
        "hset" | "hsetnx" | "hget" | "hexists" | "hdel" | "hincrby" | "hincrbyfloat"
        | "hstrlen" | "hmget" | "hmset" | "sadd" | "srem" | "sismember" | "smismember"
        | "zscore" | "zmscore" | "zrem" | "zrank" | "zrevrank" => 2,
        "zincrby" => 3,
        "zadd" if std::str::from_utf8(args.get(2)?).is_ok_and(|s| s.parse::<f64>().is_ok()) => 3,
        _ => return None,
    };
    args.get(at).copied()
}

/// A sub-key's entry in another shard's hot cache, by its RocksDB key:
/// `Some(None)` if cached as absent, `None` if not cached.
pub(crate) fn cached_sub_value(
    hot: &crate::storage::hot::SharedMap,
    sub_key: &[u8],
) -> Option<Option<Vec<u8>>> {
    match SubEntry::of(hot.get(sub_cache_key(&[sub_key]).as_slice())?) {
        SubEntry::Absent => Some(None),
        SubEntry::Held(v) => Some(Some(v.to_vec())),
        SubEntry::Unheld | SubEntry::Read(_) => None,
    }
}

/// A cached sub-key entry for `value` (`None`: absent), with the value.
fn sub_entry(value: Option<&[u8]>) -> CachedValue {
    match value {
        Some(v) => CachedValue::joined(&[PRESENT], v),
        None => CachedValue::from(&[ABSENT][..]),
    }
}

/// The entry a write of `value` stages, or a read that needs only its
/// presence caches: the value itself when short or while the cache has
/// room, its presence alone otherwise (see [`HELD_ON_WRITE`]).
fn presence_entry(hot: &mut HotCache, value: &[u8]) -> CachedValue {
    if value.len() <= HELD_ON_WRITE || !hot.is_full() {
        return sub_entry(Some(value));
    }
    CachedValue::from(&[UNHELD][..])
}

/// The value of a cached sub-key (its entry without the first byte).
struct SubValue(CachedValue);

/// What a cached sub-key entry says, or a read of the sub-key found.
enum SubEntry {
    /// The sub-key does not exist.
    Absent,
    /// It exists with this (cached) value.
    Held(SubValue),
    /// It exists; its value is not cached.
    Unheld,
    /// It exists with this value, just read from RocksDB.
    Read(Vec<u8>),
}

/// What a read of a cached sub-key needs to know.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// The value: an [`SubEntry::Unheld`] entry is read from RocksDB.
    Value,
    /// Only whether it exists: a large value read from RocksDB into a
    /// full cache is cached as [`SubEntry::Unheld`].
    Presence,
}

impl SubEntry {
    fn of(entry: CachedValue) -> SubEntry {
        match entry[0] {
            PRESENT => SubEntry::Held(SubValue(entry)),
            UNHELD => SubEntry::Unheld,
            _ => SubEntry::Absent,
        }
    }
}

impl std::ops::Deref for SubValue {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[1..]
    }
}

impl<'a> Db<'a> {
    /// Opens an existing collection of `kind` (WRONGTYPE for another type,
    /// `None` if absent or expired).
    pub fn open_collection(&self, key: &[u8], kind: Kind) -> Result<Option<Collection>> {
        Ok(self.lookup_kind(key, kind)?.map(|meta| Collection {
            prefix: sub_key_prefix(self.index, key, meta.version),
            key: key.to_vec(),
            stored: Some(meta.clone()),
            meta,
        }))
    }

    /// Opens a collection, or starts an empty one with a fresh version.
    pub fn open_or_create(&self, key: &[u8], kind: Kind) -> Result<Collection> {
        if let Some(c) = self.open_collection(key, kind)? {
            return Ok(c);
        }
        let version = self.shard.new_version();
        let prefix = sub_key_prefix(self.index, key, version);
        if matches!(kind, Kind::Hash | Kind::Set | Kind::ZSet) {
            self.shard.hot.borrow_mut().track_complete(&prefix);
        }
        Ok(Collection {
            prefix,
            key: key.to_vec(),
            meta: Meta {
                kind,
                expire_at: 0,
                version,
                size: 0,
                payload: Vec::new(),
            },
            stored: None,
        })
    }

    /// Point read of a sub-key.
    pub fn get_sub(&self, cf: Cf, c: &Collection, sub: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(k) = c.cache_key(cf, sub) {
            return Ok(match self.cached_sub(c, &k, Need::Value)? {
                SubEntry::Held(v) => Some(v.to_vec()),
                SubEntry::Read(v) => Some(v),
                SubEntry::Absent | SubEntry::Unheld => None,
            });
        }
        self.shard
            .engine
            .get(cf, &c.sub_key(sub))
            .map_err(|e| storage_error(&c.key, e))
    }

    /// Whether a sub-key exists (read through the hot cache for the types it
    /// holds; otherwise a pinned read that does not copy the value).
    pub fn has_sub(&self, cf: Cf, c: &Collection, sub: &[u8]) -> Result<bool> {
        if let Some(k) = c.cache_key(cf, sub) {
            let found = self.cached_sub(c, &k, Need::Presence)?;
            return Ok(!matches!(found, SubEntry::Absent));
        }
        self.shard
            .engine
            .contains(cf, &c.sub_key(sub))
            .map_err(|e| storage_error(&c.key, e))
    }

    /// Whether a sub-key holds `value` (`None`: absent).
    pub fn sub_holds(
        &self,
        cf: Cf,
        c: &Collection,
        sub: &[u8],
        value: &[u8],
    ) -> Result<Option<bool>> {
        if let Some(k) = c.cache_key(cf, sub) {
            return Ok(match self.cached_sub(c, &k, Need::Presence)? {
                SubEntry::Absent => None,
                SubEntry::Held(v) => Some(*v == *value),
                SubEntry::Read(v) => Some(v == value),
                // rewriting an unchanged value costs less than reading it
                // back from the SST files to find that out
                SubEntry::Unheld => Some(false),
            });
        }
        self.shard
            .engine
            .holds(cf, &c.sub_key(sub), value)
            .map_err(|e| storage_error(&c.key, e))
    }

    /// What the hot cache holds of a sub-key (see
    /// [`Collection::cache_key`]), read from RocksDB and cached on a miss
    /// (absent sub-keys too) or when the value is needed but not held.
    fn cached_sub(&self, c: &Collection, key: &[u8], need: Need) -> Result<SubEntry> {
        let mut hot = self.shard.hot.borrow_mut();
        let cached = hot.get(key);
        let complete = cached.is_none() && hot.is_complete(&key[1..]);
        drop(hot);
        match cached.map(SubEntry::of) {
            Some(SubEntry::Unheld) if need == Need::Value => self.load_sub(c, key, need),
            Some(known) => Ok(known),
            None if complete => Ok(SubEntry::Absent),
            None => self.load_sub(c, key, need),
        }
    }

    /// Reads a sub-key from RocksDB by its hot-cache key and caches it.
    fn load_sub(&self, c: &Collection, key: &[u8], need: Need) -> Result<SubEntry> {
        let stored = self
            .shard
            .engine
            .get(Cf::Data, &key[1..])
            .map_err(|e| storage_error(&c.key, e))?;
        let mut hot = self.shard.hot.borrow_mut();
        let entry = match (&stored, need) {
            (Some(v), Need::Presence) => presence_entry(&mut hot, v),
            _ => sub_entry(stored.as_deref()),
        };
        hot.insert(CacheKey::from_slice(key), entry);
        Ok(stored.map_or(SubEntry::Absent, SubEntry::Read))
    }

    /// Stages a sub-key write.
    pub fn put_sub(&self, batch: &mut Batch, cf: Cf, c: &Collection, sub: &[u8], value: &[u8]) {
        match c.cache_key(cf, sub) {
            Some(k) => {
                batch.put(cf, &k[1..], value);
                let mut hot = self.shard.hot.borrow_mut();
                let entry = presence_entry(&mut hot, value);
                hot.stage(k, entry);
            }
            None => batch.put(cf, &c.sub_key(sub), value),
        }
        if cf == Cf::ZScore {
            let mut hot = self.shard.hot.borrow_mut();
            hot.stage_ordered(&c.prefix, sub, true);
        }
    }

    /// Stages a sub-key deletion.
    pub fn del_sub(&self, batch: &mut Batch, cf: Cf, c: &Collection, sub: &[u8]) {
        match c.cache_key(cf, sub) {
            Some(k) => {
                batch.delete(cf, &k[1..]);
                self.shard.hot.borrow_mut().stage(k, sub_entry(None));
            }
            None => batch.delete(cf, &c.sub_key(sub)),
        }
        if cf == Cf::ZScore {
            let mut hot = self.shard.hot.borrow_mut();
            hot.stage_ordered(&c.prefix, sub, false);
        }
    }

    /// Stages the collection's meta record; an empty collection is deleted
    /// (its sub-keys are left to the compaction filter). A record the
    /// command left as it was (HSET or ZADD overwriting, LSET) is not
    /// written again, but the key still counts as modified (WATCH,
    /// keyspace events).
    pub fn stage_meta(&self, batch: &mut Batch, c: &Collection) {
        if c.meta.size == 0 {
            if c.existed() {
                self.delete(batch, &c.key);
            }
        } else if c.stored.as_ref() == Some(&c.meta) {
            self.shard.touched(
                &crate::storage::encoding::meta_key(self.index, &c.key),
                false,
            );
        } else {
            self.put(batch, &c.key, &c.meta);
        }
    }

    /// Stages the meta record and writes the batch.
    pub fn commit(&self, mut batch: Batch, c: &Collection) -> Result<()> {
        self.stage_meta(&mut batch, c);
        self.write(batch)
    }

    /// Visits sub-keys of `c` in `cf` in byte order (or reverse), starting at
    /// the sub-key suffix `from` (inclusive; `None` = first/last). The
    /// visitor gets (suffix, value) and returns false to stop.
    pub fn iter_sub(
        &self,
        cf: Cf,
        c: &Collection,
        from: Option<&[u8]>,
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        if cf == Cf::ZScore {
            if let Some(keys) = self.held_score_order(c) {
                ordered::walk(&keys, from, reverse, |k| visit(k, b""));
                return;
            }
        }
        self.iter_stored_sub(cf, c, from, reverse, visit)
    }

    /// The score order of a sorted set from memory: held already, or
    /// loaded now if it is read by range often enough and fits (see
    /// `storage/ordered.rs`).
    fn held_score_order(&self, c: &Collection) -> Option<ordered::SubKeys> {
        let mut hot = self.shard.hot.borrow_mut();
        if let Some(keys) = hot.ordered.get(&c.prefix) {
            return Some(keys);
        }
        // loaded from RocksDB, so not while this command has writes staged
        if !c.existed() || hot.has_unwritten() || !hot.ordered.wants(&c.prefix) {
            return None;
        }
        let max = hot.ordered.max_set_bytes();
        drop(hot);
        let (mut keys, mut bytes, mut fits) = (BTreeSet::new(), 0, true);
        self.iter_stored_sub(Cf::ZScore, c, None, false, |k, v| {
            bytes += ordered::sub_key_cost(k);
            // score-order entries have no value; anything else stays on disk
            fits = bytes <= max && v.is_empty();
            if fits {
                keys.insert(k.into());
            }
            fits
        });
        let mut hot = self.shard.hot.borrow_mut();
        hot.ordered.hold(&c.prefix, fits.then_some((keys, bytes)));
        hot.ordered.get(&c.prefix)
    }

    /// [`iter_sub`](Self::iter_sub) over RocksDB.
    fn iter_stored_sub(
        &self,
        cf: Cf,
        c: &Collection,
        from: Option<&[u8]>,
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        let e = &self.shard.engine;
        let mut opts = rocksdb::ReadOptions::default();
        opts.set_iterate_lower_bound(c.prefix.clone());
        if let Some(upper) = prefix_successor(&c.prefix) {
            opts.set_iterate_upper_bound(upper);
        }
        let mut it = e.db().raw_iterator_cf_opt(e.cf(cf), opts);
        match (from, reverse) {
            (Some(f), false) => it.seek(c.sub_key(f)),
            (Some(f), true) => it.seek_for_prev(c.sub_key(f)),
            (None, false) => it.seek_to_first(),
            (None, true) => it.seek_to_last(),
        }
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if !visit(&k[c.prefix.len()..], v) {
                break;
            }
            if reverse {
                it.prev();
            } else {
                it.next();
            }
        }
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut v = prefix.to_vec();
    while let Some(last) = v.pop() {
        if last < 0xff {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

/// A sub-key (after the collection prefix) and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Collections up to this size are sampled exactly (uniformly) by
/// [`Db::sample_sub`]; larger ones by seeking to random keys.
const EXACT_SAMPLE_MAX: u64 = 4096;

/// Random targets tried per pick when sampling by seeking.
const SEEK_ATTEMPTS: usize = 8;

/// At most how far sampling by seeking walks on from a sub-key it could
/// not accept.
const FALLBACK_WALK: u64 = 1024;

/// Sub-keys found by crude random seeks to learn what sub-keys look like
/// before sampling by seeking.
const SHAPE_SAMPLES: usize = 16;

impl<'a> Db<'a> {
    /// Adds or overwrites `(sub-key, value)` pairs in the `data` CF of the
    /// collection at `key` (created if absent), in one batch. Returns how
    /// many sub-keys are new (a repeated sub-key counts once). A sub-key
    /// that already holds its value is not written again (SADD of a
    /// member, HSET of an unchanged field).
    pub fn upsert_subs<'s>(
        &self,
        key: &[u8],
        kind: Kind,
        items: impl IntoIterator<Item = (&'s [u8], &'s [u8])>,
    ) -> Result<u64> {
        let mut c = self.open_or_create(key, kind)?;
        let mut batch = Batch::default();
        // a sub-key given twice is looked up once; the last value wins
        let mut seen = FewSet::default();
        let mut added = 0;
        for (sub, value) in items {
            if seen.add(sub) {
                let stored = match c.existed() {
                    true => self.sub_holds(Cf::Data, &c, sub, value)?,
                    false => None,
                };
                match stored {
                    Some(true) => continue,
                    Some(false) => {}
                    None => added += 1,
                }
            }
            self.put_sub(&mut batch, Cf::Data, &c, sub, value);
        }
        // SADD of members all present changes nothing: no event, no WATCH
        // or tracking signal, as in Redis (HSET signals even so)
        if kind == Kind::Set && c.existed() && batch.is_empty() {
            return Ok(0);
        }
        c.meta.size += added;
        self.commit(batch, &c)?;
        Ok(added)
    }

    /// Removes sub-keys from the `data` CF of the collection at `key`,
    /// deleting it when it becomes empty. Returns how many existed.
    pub fn remove_subs<'s>(
        &self,
        key: &[u8],
        kind: Kind,
        subs: impl IntoIterator<Item = &'s [u8]>,
    ) -> Result<u64> {
        let Some(mut c) = self.open_collection(key, kind)? else {
            return Ok(0);
        };
        let mut batch = Batch::default();
        let mut gone = FewSet::default();
        for sub in subs {
            if !gone.contains_key(sub) && self.has_sub(Cf::Data, &c, sub)? {
                self.del_sub(&mut batch, Cf::Data, &c, sub);
                gone.add(sub);
            }
        }
        if gone.is_empty() {
            return Ok(0);
        }
        c.meta.size = c.meta.size.saturating_sub(gone.len() as u64);
        self.commit(batch, &c)?;
        Ok(gone.len() as u64)
    }

    /// One page of a scan over `c`: up to `count` (sub-key, value) pairs from
    /// the sub-key `from` on (inclusive; `None` = the start), and the sub-key
    /// to resume at, if any remain.
    pub fn scan_subs(
        &self,
        cf: Cf,
        c: &Collection,
        from: Option<&[u8]>,
        count: usize,
    ) -> (Vec<Entry>, Option<Vec<u8>>) {
        let (mut page, mut next) = (Vec::new(), None);
        self.iter_sub(cf, c, from, false, |k, v| {
            if page.len() >= count {
                next = Some(k.to_vec());
                return false;
            }
            page.push((k.to_vec(), v.to_vec()));
            true
        });
        (page, next)
    }

    /// `count` random (sub-key, value) pairs of `c`, in random order.
    /// `distinct` picks each at most once (all of them when `count` reaches
    /// the size); otherwise picks may repeat. Uniform for collections of up
    /// to [`EXACT_SAMPLE_MAX`] elements or when `count` is a large share of
    /// them (one pass over the sub-keys). Larger collections are sampled
    /// by seeking to random keys between the first and the last sub-key:
    /// O(count) seeks, but only approximately uniform (sub-keys much
    /// shorter than the longest, or right after a sparse stretch of the key
    /// space, are picked less or more often).
    pub fn sample_sub(&self, cf: Cf, c: &Collection, count: usize, distinct: bool) -> Vec<Entry> {
        let size = c.meta.size;
        if count == 0 || size == 0 {
            return Vec::new();
        }
        let mut out = if distinct && count as u64 >= size {
            let (all, _) = self.scan_subs(cf, c, None, usize::MAX);
            all
        } else if size <= EXACT_SAMPLE_MAX || (count as u64).saturating_mul(8) >= size {
            self.sample_by_position(cf, c, count, distinct)
        } else {
            self.sample_by_seek(cf, c, count, distinct)
        };
        shuffle(&mut out);
        out
    }

    /// Exact sampling: draws positions, then collects them in one pass.
    fn sample_by_position(
        &self,
        cf: Cf,
        c: &Collection,
        count: usize,
        distinct: bool,
    ) -> Vec<Entry> {
        let size = c.meta.size;
        let mut positions: Vec<u64> = if distinct {
            // Floyd's algorithm: `count` distinct positions below `size`
            let mut chosen = std::collections::HashSet::with_capacity(count);
            for j in size - count as u64..size {
                let t = random_below(j + 1);
                chosen.insert(if chosen.contains(&t) { j } else { t });
            }
            chosen.into_iter().collect()
        } else {
            (0..count).map(|_| random_below(size)).collect()
        };
        positions.sort_unstable();
        let mut out = Vec::with_capacity(count);
        let (mut pos, mut i) = (0u64, 0usize);
        self.iter_sub(cf, c, None, false, |k, v| {
            while i < positions.len() && positions[i] == pos {
                out.push((k.to_vec(), v.to_vec()));
                i += 1;
            }
            pos += 1;
            i < positions.len()
        });
        out
    }

    /// Approximate sampling for large collections, by seeking: a pick is
    /// the first sub-key at or after a random target (wrapping around),
    /// skipping ones already picked when `distinct`. Targets are drawn
    /// from a [`TargetSpace`] learnt from a few sub-keys, so they look like
    /// real sub-keys; a sub-key that follows a wide gap (which many
    /// targets reach) is accepted only with a probability inversely
    /// proportional to the gap, which evens out the picks.
    fn sample_by_seek(&self, cf: Cf, c: &Collection, count: usize, distinct: bool) -> Vec<Entry> {
        let mut picked = std::collections::HashSet::new();
        // the `nth` (from 1) unpicked sub-key at or after `target`,
        // wrapping around (the last one seen if there are fewer)
        let seek =
            |target: Option<&[u8]>, mut nth: usize, picked: &std::collections::HashSet<Vec<u8>>| {
                let mut found = None;
                for from in [target, None] {
                    self.iter_sub(cf, c, from, false, |k, v| {
                        if picked.contains(k) {
                            return true;
                        }
                        found = Some((k.to_vec(), v.to_vec()));
                        nth = nth.saturating_sub(1);
                        nth > 0
                    });
                    if nth == 0 && found.is_some() {
                        break;
                    }
                }
                found
            };
        let predecessor = |key: &[u8]| {
            let mut prev = None;
            self.iter_sub(cf, c, Some(key), true, |k, _| {
                if k == key {
                    return true;
                }
                prev = Some(k.to_vec());
                false
            });
            prev
        };
        let mut last = Vec::new();
        self.iter_sub(cf, c, None, true, |k, _| {
            last = k.to_vec();
            false
        });
        let Some((first, _)) = seek(None, 1, &picked) else {
            return Vec::new();
        };
        let mut sample = vec![first.clone(), last.clone()];
        for _ in 0..SHAPE_SAMPLES {
            let target = random_key_between(&first, &last);
            sample.extend(seek(Some(&target), 1, &picked).map(|(k, _)| k));
        }
        let space = TargetSpace::learn(common_prefix(&first, &last), &sample);
        let (end, fair_gap) = (space.position(&last), 1.0 / c.meta.size as f64);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let (mut found, mut accepted) = (None, false);
            for _ in 0..SEEK_ATTEMPTS {
                found = seek(Some(&space.random()), 1, &picked);
                let Some((k, _)) = &found else { break };
                let gap = match predecessor(k) {
                    Some(p) => space.position(k) - space.position(&p),
                    None => space.position(k) + 1.0 - end,
                };
                accepted = random_unit() * gap <= fair_gap;
                if accepted {
                    break;
                }
            }
            if !accepted {
                // The sub-keys are too unlike the target space (say, words
                // of different lengths): spread the picks by walking on.
                if let Some((k, _)) = &found {
                    let steps = 1 + random_below(FALLBACK_WALK) as usize;
                    found = seek(Some(k), steps, &picked);
                }
            }
            let Some((k, v)) = found else { break };
            if distinct {
                picked.insert(k.clone());
            }
            out.push((k, v));
        }
        out
    }
}

/// Random seek targets shaped like a collection's sub-keys: their common
/// prefix, then at each position a byte from that position's alphabet.
struct TargetSpace {
    prefix: Vec<u8>,
    alphabets: Vec<Vec<u8>>,
}

impl TargetSpace {
    /// Learns the alphabets from sample sub-keys sharing `common` leading
    /// bytes: at each position, the bytes seen anywhere in the sample that
    /// lie between the smallest and the largest seen at that position (a
    /// position always holding `-` gets only `-`, one holding digits gets
    /// every digit even if the sample missed some).
    fn learn(common: usize, sample: &[Vec<u8>]) -> TargetSpace {
        let mut seen = [false; 256];
        let mut ranges: Vec<(u8, u8)> = Vec::new();
        for key in sample {
            for (i, &b) in key[common..].iter().enumerate() {
                seen[b as usize] = true;
                match ranges.get_mut(i) {
                    Some((lo, hi)) => (*lo, *hi) = ((*lo).min(b), (*hi).max(b)),
                    None => ranges.push((b, b)),
                }
            }
        }
        TargetSpace {
            prefix: sample[0][..common].to_vec(),
            alphabets: ranges
                .iter()
                .map(|&(lo, hi)| (lo..=hi).filter(|&b| seen[b as usize]).collect())
                .collect(),
        }
    }

    /// A uniformly random target.
    fn random(&self) -> Vec<u8> {
        let mut t = self.prefix.clone();
        t.extend(
            self.alphabets
                .iter()
                .map(|a| a[random_below(a.len() as u64) as usize]),
        );
        t
    }

    /// The share of targets below `key`, in [0, 1].
    fn position(&self, key: &[u8]) -> f64 {
        let tail = key.get(self.prefix.len()..).unwrap_or_default();
        let (mut pos, mut cell) = (0.0, 1.0);
        for (alphabet, b) in self.alphabets.iter().zip(tail) {
            let below = alphabet.partition_point(|x| x < b);
            cell /= alphabet.len() as f64;
            pos += below as f64 * cell;
            if alphabet.get(below) != Some(b) {
                break; // between two cells: at the start of the next one
            }
        }
        pos
    }
}

/// A uniform random number below `n` (> 0).
fn random_below(n: u64) -> u64 {
    crate::util::random_u64() % n
}

/// A uniform random number in [0, 1).
fn random_unit() -> f64 {
    (crate::util::random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Fisher–Yates shuffle.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, random_below(i as u64 + 1) as usize);
    }
}

/// Length of the common prefix of two keys.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A random key between `first` and `last`: their common prefix, then
/// random bytes drawn from the range of bytes that follow it in either.
fn random_key_between(first: &[u8], last: &[u8]) -> Vec<u8> {
    let common = common_prefix(first, last);
    let tail = first[common..].iter().chain(&last[common..]);
    let (lo, hi) = tail.fold((u8::MAX, u8::MIN), |(lo, hi), &b| (lo.min(b), hi.max(b)));
    let mut key = first[..common].to_vec();
    if lo <= hi {
        let len = first.len().max(last.len()) - common;
        key.extend((0..len).map(|_| lo + random_below(hi as u64 - lo as u64 + 1) as u8));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_member_follows_each_command_layout() {
        type Case<'a> = (&'a str, &'a [&'a [u8]], Option<&'a [u8]>);
        let cases: [Case; 8] = [
            ("hset", &[b"HSET", b"h", b"f", b"v"], Some(b"f")),
            ("hget", &[b"hget", b"h", b"f"], Some(b"f")),
            ("sismember", &[b"SISMEMBER", b"s", b"m"], Some(b"m")),
            ("zincrby", &[b"ZINCRBY", b"z", b"2", b"m"], Some(b"m")),
            ("zadd", &[b"ZADD", b"z", b"1.5", b"m"], Some(b"m")),
            ("zadd", &[b"ZADD", b"z", b"NX", b"1"], None),
            ("get", &[b"GET", b"k"], None),
            ("hget", &[b"HGET", b"h"], None),
        ];
        for (name, args, member) in cases {
            assert_eq!(first_member(name, args), member, "{args:?}");
        }
        // the key a member's entry is cached under
        let key = member_cache_key(3, b"h", 7, b"f");
        assert_eq!(key[0], SUB_ENTRY_TAG);
        assert_eq!(
            &key[1..],
            [sub_key_prefix(3, b"h", 7), b"f".to_vec()].concat()
        );
    }
}
