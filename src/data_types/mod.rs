//! Data types on top of the storage encoding. `Db` is one logical database
//! (SELECT index) of one shard; the type modules build on it.

pub mod collection;
pub mod dump_restore;
pub mod expiry;
pub mod hash;
pub mod json;
pub mod list;
pub mod look_ahead;
pub mod set;
pub mod stream;
pub mod string;
pub mod zset;

use crate::protocol::Reply;
use crate::shard::Shard;
use crate::storage::encoding::{
    decode_header, expire_key, meta_key, split_meta_key, Kind, Meta, META_HEADER,
};
use crate::storage::hot::CachedValue;
use crate::storage::Batch;
use crate::storage::Cf;

/// Redis's error for an operation on a key of another type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Result of a data-type operation; the error is the reply to send.
pub type Result<T> = std::result::Result<T, Reply>;

/// Error reply for a storage failure on `key`.
pub fn storage_error(key: &[u8], e: impl std::fmt::Display) -> Reply {
    Reply::err(format!(
        "ERR storage error on key '{}': {e}",
        String::from_utf8_lossy(key)
    ))
}

/// Decodes a raw meta record (empty: absent); expired keys read as absent.
fn live_meta(key: &[u8], raw: &[u8]) -> Result<Option<Meta>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let meta = Meta::decode(raw).ok_or_else(|| storage_error(key, "corrupt meta record"))?;
    Ok((!meta.is_expired_now()).then_some(meta))
}

/// GET's reply from a key's encoded meta record (empty: absent), read in
/// place: a long value is sent straight from the cache's shared copy (no
/// copy into a `Meta`, none into the reply). Counts the keyspace hit or
/// miss in `st` (WRONGTYPE is a hit, as for every read).
fn string_reply_of(key: &[u8], raw: CachedValue, st: &crate::shard::ShardStats) -> Result<Reply> {
    let live = match decode_header(&raw) {
        _ if raw.is_empty() => None,
        None => return Err(storage_error(key, "corrupt meta record")),
        Some((_, at)) if at != 0 && at <= crate::util::now_ms() => None,
        Some((kind, _)) => Some(kind),
    };
    st.count_read(live.is_some());
    Ok(match (live, raw) {
        (None, _) => Reply::Nil,
        (Some(kind), _) if kind != Kind::String => return Err(Reply::err(WRONGTYPE)),
        (Some(_), CachedValue::Shared(buf)) => Reply::SharedBulk(buf, META_HEADER),
        (Some(_), inline) => Reply::Bulk(inline[META_HEADER..].to_vec()),
    })
}

/// Meta-record reads that a shard's own [`Db`] and another core's
/// [`PeerDb`] both offer, so one read-only handler can serve either.
pub trait MetaRead {
    /// Reads a key's meta record; expired keys read as absent.
    fn lookup(&self, key: &[u8]) -> Result<Option<Meta>>;

    /// Where keyspace hits and misses are counted.
    fn stats(&self) -> &crate::shard::ShardStats;

    /// Like [`lookup`](Self::lookup), counting a keyspace hit or miss.
    fn lookup_read(&self, key: &[u8]) -> Result<Option<Meta>> {
        let m = self.lookup(key)?;
        self.stats().count_read(m.is_some());
        Ok(m)
    }

    /// Reads a key that must be of `kind` (WRONGTYPE otherwise).
    fn lookup_kind(&self, key: &[u8], kind: Kind) -> Result<Option<Meta>> {
        match self.lookup_read(key)? {
            Some(m) if m.kind != kind => Err(Reply::err(WRONGTYPE)),
            other => Ok(other),
        }
    }

    /// GET's reply: the string at `key`, nil if absent, WRONGTYPE for
    /// another type (a keyspace hit or miss counted).
    fn string_reply(&self, key: &[u8]) -> Result<Reply> {
        let value = self.lookup_kind(key, Kind::String)?.map(|m| m.payload);
        Ok(Reply::opt_bulk(value))
    }

    /// Elements of the hash, set, sorted set or list at `key`, as its meta
    /// record counts them (0 if absent; WRONGTYPE for another type).
    fn size_of(&self, key: &[u8], kind: Kind) -> Result<u64> {
        Ok(self.lookup_kind(key, kind)?.map_or(0, |m| m.size))
    }

    /// The value of one sub-key of the hash, set or sorted set at `key` (a
    /// field's value, a member's empty record, a member's encoded score);
    /// `None` if the key or the sub-key is absent, WRONGTYPE for another
    /// type.
    fn sub_value(&self, key: &[u8], kind: Kind, sub: &[u8]) -> Result<Option<Vec<u8>>>;
}

impl MetaRead for Db<'_> {
    fn lookup(&self, key: &[u8]) -> Result<Option<Meta>> {
        Db::lookup(self, key)
    }

    fn string_reply(&self, key: &[u8]) -> Result<Reply> {
        string_reply_of(key, self.record(key)?, &self.shard.stats)
    }

    fn sub_value(&self, key: &[u8], kind: Kind, sub: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.open_collection(key, kind)? {
            Some(c) => self.get_sub(Cf::Data, &c, sub),
            None => Ok(None),
        }
    }

    fn stats(&self) -> &crate::shard::ShardStats {
        &self.shard.stats
    }
}

/// One logical database of another shard, read from this core without a
/// hop (see `shard::peer`): from the shard's hot-key cache or RocksDB. Its
/// keyspace hits and misses are counted here, for the caller to add to
/// its shard's counters if the read stands.
pub struct PeerDb<'a> {
    /// The other shard's RocksDB.
    pub reader: &'a crate::storage::engine::PeerReader,
    /// The other shard's hot-key cache (`None` when disabled).
    pub hot: Option<&'a crate::storage::hot::SharedMap>,
    /// SELECT index (0–15).
    pub index: u8,
    /// Keyspace hits and misses of the reads made.
    pub counts: crate::shard::ShardStats,
}

impl PeerDb<'_> {
    /// A key's encoded meta record (empty if absent), from the owner's
    /// hot-key cache or its RocksDB.
    fn record(&self, key: &[u8]) -> Result<CachedValue> {
        let mk = meta_key(self.index, key);
        if let Some(raw) = self.hot.and_then(|hot| hot.get(mk.as_slice())) {
            crate::shard::incr(&self.counts.peer_hot_hits, 1);
            return Ok(raw);
        }
        match self.reader.get(Cf::Meta, &mk) {
            Some(raw) => {
                let raw = raw.map_err(|e| storage_error(key, e))?;
                Ok(raw.map_or_else(|| CachedValue::from(&[][..]), Into::into))
            }
            None => Err(storage_error(key, "shard closed")),
        }
    }
}

impl MetaRead for PeerDb<'_> {
    fn lookup(&self, key: &[u8]) -> Result<Option<Meta>> {
        live_meta(key, &self.record(key)?)
    }

    fn string_reply(&self, key: &[u8]) -> Result<Reply> {
        string_reply_of(key, self.record(key)?, &self.counts)
    }

    /// Two reads, the meta record and then the sub-key of the version it
    /// names, yet as good as one: a version's sub-keys are only written
    /// while it is the key's current version (a new collection gets a new
    /// version), so the second read returns the sub-key as it was at some
    /// moment between the two reads. Once the version is replaced, though,
    /// compaction may drop its sub-keys, so a sub-key found absent counts
    /// only if the meta record still names the same version; otherwise
    /// the read starts over with the new one.
    fn sub_value(&self, key: &[u8], kind: Kind, sub: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut meta = self.lookup_kind(key, kind)?;
        loop {
            let Some(m) = meta else { return Ok(None) };
            let mut k = crate::storage::encoding::sub_key_prefix(self.index, key, m.version);
            k.extend_from_slice(sub);
            let cached = match kind {
                Kind::Hash | Kind::Set | Kind::ZSet => self
                    .hot
                    .and_then(|hot| collection::cached_sub_value(hot, &k)),
                _ => None,
            };
            let value = match cached {
                Some(value) => {
                    crate::shard::incr(&self.counts.peer_hot_hits, 1);
                    value
                }
                None => match self.reader.get(Cf::Data, &k) {
                    Some(value) => value.map_err(|e| storage_error(key, e))?,
                    None => return Err(storage_error(key, "shard closed")),
                },
            };
            if value.is_some() {
                return Ok(value);
            }
            meta = match self.lookup(key)? {
                Some(now) if now.version == m.version => return Ok(None),
                Some(now) if now.kind != kind => return Err(Reply::err(WRONGTYPE)),
                other => other,
            };
        }
    }

    fn stats(&self) -> &crate::shard::ShardStats {
        &self.counts
    }
}

/// One logical database on one shard.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    /// The shard holding the keys.
    pub shard: &'a Shard,
    /// SELECT index (0–15).
    pub index: u8,
}

impl<'a> Db<'a> {
    /// A database view.
    pub fn new(shard: &'a Shard, index: u8) -> Db<'a> {
        Db { shard, index }
    }

    /// Reads a key's meta record; expired keys read as absent.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Meta>> {
        live_meta(key, &self.record(key)?)
    }

    /// Runs `f` with its lookups counted as keyspace hits and misses or
    /// not: counted for a read inside a write command (SET … GET), not for
    /// a second pass over keys the command already counted.
    pub fn counting_lookups<T>(&self, counted: bool, f: impl FnOnce() -> T) -> T {
        self.shard.counting_lookups(counted, f)
    }

    /// A key's encoded meta record (empty if absent, expired or not),
    /// from the hot-key cache, or from RocksDB into the cache.
    fn record(&self, key: &[u8]) -> Result<CachedValue> {
        let mk = meta_key(self.index, key);
        let mut hot = self.shard.hot.borrow_mut();
        let cached = hot.get(&mk);
        let absent = cached.is_none() && hot.surely_absent(&mk);
        drop(hot);
        let raw: CachedValue = match cached {
            Some(raw) => raw,
            None if absent => CachedValue::from(&[][..]),
            None => {
                let raw = self
                    .shard
                    .engine
                    .get(Cf::Meta, &mk)
                    .map_err(|e| storage_error(key, e))?;
                // absent keys are cached too (as an empty record, which no
                // meta record encodes to): every write of a key passes
                // through put/delete, which replace the entry
                let raw: CachedValue = raw.map_or_else(|| CachedValue::from(&[][..]), Into::into);
                self.shard.hot.borrow_mut().insert(mk, raw.clone());
                raw
            }
        };
        Ok(raw)
    }

    /// Stages a meta record (and its TTL index entry) in `batch`.
    pub fn put(&self, batch: &mut Batch, key: &[u8], meta: &Meta) {
        let (header, n) = meta.header();
        self.put_parts(batch, key, meta.expire_at, &header[..n], &meta.payload);
    }

    /// Stages the meta record made of `header` and `payload`, expiring at
    /// `expire_at` (0: never); the payload is copied once into the cached
    /// record and once into the batch.
    pub fn put_parts(
        &self,
        batch: &mut Batch,
        key: &[u8],
        expire_at: u64,
        header: &[u8],
        payload: &[u8],
    ) {
        let mk = meta_key(self.index, key);
        let encoded = CachedValue::joined(header, payload);
        batch.put(Cf::Meta, &mk, &encoded);
        self.shard.touched(&mk, false);
        self.shard.hot.borrow_mut().stage(mk, encoded);
        if expire_at != 0 {
            batch.put(Cf::Expire, &expire_key(expire_at, self.index, key), b"");
        }
    }

    /// Stages the deletion of a key (cached as absent). A collection's
    /// sub-keys become unreachable and are dropped by the compaction filter.
    pub fn delete(&self, batch: &mut Batch, key: &[u8]) {
        let mk = meta_key(self.index, key);
        self.shard.touched(&mk, true);
        batch.delete(Cf::Meta, &mk);
        stage_absent(self.shard, mk);
    }

    /// Writes a batch atomically.
    pub fn write(&self, batch: Batch) -> Result<()> {
        self.shard.write(batch).map_err(|e| {
            Reply::err(format!(
                "ERR storage write failed on shard {}: {e}",
                self.shard.id
            ))
        })
    }

    /// Publishes one more keyspace event for a key the command just wrote
    /// (Redis's SET with a TTL follows `set` with `expire`).
    pub fn announce(&self, key: &[u8], event: crate::shard::keyspace::Current) {
        let mk = meta_key(self.index, key);
        self.shard
            .naming_events(event, || self.shard.touched(&mk, false));
    }

    /// Writes a single meta record.
    pub fn set(&self, key: &[u8], meta: &Meta) -> Result<()> {
        let mut b = Batch::default();
        self.put(&mut b, key, meta);
        self.write(b)
    }

    /// Deletes keys that exist (and are not expired); returns how many.
    pub fn delete_keys<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) -> Result<i64> {
        let mut b = Batch::default();
        let mut n = 0;
        let mut seen = crate::util::few_map::FewSet::default();
        for k in keys {
            if seen.add(k) && self.lookup(k)?.is_some() {
                self.delete(&mut b, k);
                n += 1;
            }
        }
        if n > 0 {
            self.write(b)?;
        }
        Ok(n)
    }

    /// Visits live keys in storage order, starting at the meta key `from`
    /// (inclusive) or at the start; stops after `limit` keys and returns the
    /// meta key to resume from, or `None` when the database is done.
    pub fn scan(
        &self,
        from: Option<&[u8]>,
        limit: usize,
        mut visit: impl FnMut(&[u8], &Meta),
    ) -> Option<Vec<u8>> {
        let e = &self.shard.engine;
        let mut opts = rocksdb::ReadOptions::default();
        opts.set_iterate_lower_bound(vec![self.index]);
        opts.set_iterate_upper_bound(vec![self.index + 1]);
        let mut it = e.db().raw_iterator_cf_opt(e.cf(Cf::Meta), opts);
        match from {
            Some(k) => it.seek(k),
            None => it.seek_to_first(),
        }
        let now = crate::util::now_ms();
        let mut seen = 0;
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            if seen >= limit {
                return Some(k.to_vec());
            }
            seen += 1;
            if let (Some((_, user_key)), Some(meta)) = (split_meta_key(k), Meta::decode(v)) {
                if !meta.is_expired(now) {
                    visit(user_key, &meta);
                }
            }
            it.next();
        }
        None
    }

    /// Number of live keys and of those with a TTL.
    pub fn count_keys(&self) -> (u64, u64) {
        let (mut keys, mut expires) = (0, 0);
        self.scan(None, usize::MAX, |_, m| {
            keys += 1;
            expires += (m.expire_at != 0) as u64;
        });
        (keys, expires)
    }

    /// Removes every key of this database.
    pub fn flush(&self) -> Result<()> {
        self.shard.touched_all(Some(self.index));
        flush_range(self.shard, vec![self.index], vec![self.index + 1])
    }
}

/// Caches the meta key `mk` as absent for a deletion being staged.
pub fn stage_absent(shard: &Shard, mk: Vec<u8>) {
    shard.hot.borrow_mut().stage(mk, CachedValue::from(&[][..]));
}

/// Deletes every key in the meta range `[from, to)` and its sub-keys.
fn flush_range(shard: &Shard, from: Vec<u8>, to: Vec<u8>) -> Result<()> {
    shard.hot.borrow_mut().clear();
    let mut b = Batch::default();
    for cf in [Cf::Meta, Cf::Data, Cf::ZScore] {
        b.delete_range(cf, &from, &to);
    }
    shard
        .write(b)
        .map_err(|err| Reply::err(format!("ERR flush failed on shard {}: {err}", shard.id)))
}

/// Removes every key of every database on the shard.
pub fn flush_all(shard: &Shard) -> Result<()> {
    shard.touched_all(None);
    let clears = shard.hot.borrow().clears();
    flush_range(shard, vec![0], vec![0xff])?;
    let mut b = Batch::default();
    b.delete_range(Cf::Expire, &[0u8; 8], &[0xffu8; 9]);
    shard
        .write(b)
        .map_err(|err| Reply::err(format!("ERR flush failed on shard {}: {err}", shard.id)))?;
    // nothing exists now: every key that will is written from here on,
    // once the flush is in RocksDB (a failed group write clears the cache
    // again, beyond flush_range's own clear)
    shard.write_group();
    let mut hot = shard.hot.borrow_mut();
    if hot.clears() == clears + 1 {
        hot.start_recording_keys();
    }
    Ok(())
}

/// A key's full contents, for RENAME/COPY/MOVE across shards or databases.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The meta record.
    pub meta: Meta,
    /// Collection sub-keys: (column family, suffix after the version, value).
    pub sub_keys: Vec<(Cf, Vec<u8>, Vec<u8>)>,
}

impl<'a> Db<'a> {
    /// Reads everything stored under a key.
    pub fn dump(&self, key: &[u8]) -> Result<Option<Dump>> {
        let Some(meta) = self.lookup_read(key)? else {
            return Ok(None);
        };
        let mut sub_keys = Vec::new();
        if meta.kind.is_collection() {
            let prefix = crate::storage::encoding::sub_key_prefix(self.index, key, meta.version);
            let e = &self.shard.engine;
            for cf in [Cf::Data, Cf::ZScore] {
                let mut it = e.db().raw_iterator_cf(e.cf(cf));
                it.seek(&prefix);
                while let (Some(k), Some(v)) = (it.key(), it.value()) {
                    if !k.starts_with(&prefix) {
                        break;
                    }
                    sub_keys.push((cf, k[prefix.len()..].to_vec(), v.to_vec()));
                    it.next();
                }
            }
        }
        Ok(Some(Dump { meta, sub_keys }))
    }

    /// Stages writing a dump under `key` (a new version for collections),
    /// replacing whatever was there.
    pub fn stage_restore(&self, batch: &mut Batch, key: &[u8], dump: &Dump) {
        let mut meta = dump.meta.clone();
        if meta.kind.is_collection() {
            meta.version = self.shard.new_version();
            let prefix = crate::storage::encoding::sub_key_prefix(self.index, key, meta.version);
            for (cf, suffix, value) in &dump.sub_keys {
                let mut k = prefix.clone();
                k.extend_from_slice(suffix);
                batch.put(*cf, &k, value);
            }
        }
        self.put(batch, key, &meta);
    }
}
