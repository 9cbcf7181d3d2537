//! Shared machinery of the collection types (list, hash, set, zset,
//! stream): a meta record with a version and a size, and sub-keys in the
//! `data`/`zscore` CFs under `db · slot · keylen · key · version`.

use super::{storage_error, Db, Result};
use crate::storage::encoding::{sub_key_prefix, Kind, Meta};
use crate::storage::Cf;
use rocksdb::WriteBatch;

/// A collection being read or changed within one command.
pub struct Collection {
    /// The user key.
    pub key: Vec<u8>,
    /// Its meta record (size, version, expiry, type extras).
    pub meta: Meta,
    /// Whether the key existed before this command.
    pub existed: bool,
    prefix: Vec<u8>,
}

impl Collection {
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
}

impl<'a> Db<'a> {
    /// Opens an existing collection of `kind` (WRONGTYPE for another type,
    /// `None` if absent or expired).
    pub fn open_collection(&self, key: &[u8], kind: Kind) -> Result<Option<Collection>> {
        Ok(self.lookup_kind(key, kind)?.map(|meta| Collection {
            prefix: sub_key_prefix(self.index, key, meta.version),
            key: key.to_vec(),
            meta,
            existed: true,
        }))
    }

    /// Opens a collection, or starts an empty one with a fresh version.
    pub fn open_or_create(&self, key: &[u8], kind: Kind) -> Result<Collection> {
        if let Some(c) = self.open_collection(key, kind)? {
            return Ok(c);
        }
        let version = self.shard.new_version();
        Ok(Collection {
            prefix: sub_key_prefix(self.index, key, version),
            key: key.to_vec(),
            meta: Meta {
                kind,
                expire_at: 0,
                version,
                size: 0,
                payload: Vec::new(),
            },
            existed: false,
        })
    }

    /// Point read of a sub-key.
    pub fn get_sub(&self, cf: Cf, c: &Collection, sub: &[u8]) -> Result<Option<Vec<u8>>> {
        self.shard
            .engine
            .get(cf, &c.sub_key(sub))
            .map_err(|e| storage_error(&c.key, e))
    }

    /// Stages a sub-key write.
    pub fn put_sub(
        &self,
        batch: &mut WriteBatch,
        cf: Cf,
        c: &Collection,
        sub: &[u8],
        value: &[u8],
    ) {
        batch.put_cf(self.shard.engine.cf(cf), c.sub_key(sub), value);
    }

    /// Stages a sub-key deletion.
    pub fn del_sub(&self, batch: &mut WriteBatch, cf: Cf, c: &Collection, sub: &[u8]) {
        batch.delete_cf(self.shard.engine.cf(cf), c.sub_key(sub));
    }

    /// Stages the collection's meta record; an empty collection is deleted
    /// (its sub-keys are left to the compaction filter).
    pub fn stage_meta(&self, batch: &mut WriteBatch, c: &Collection) {
        if c.meta.size == 0 {
            if c.existed {
                self.delete(batch, &c.key);
            }
        } else {
            self.put(batch, &c.key, &c.meta);
        }
    }

    /// Stages the meta record and writes the batch.
    pub fn commit(&self, mut batch: WriteBatch, c: &Collection) -> Result<()> {
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
