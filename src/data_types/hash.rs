//! Hashes on the versioned sub-key encoding (docs/ENCODING.md): one `data`
//! sub-key per field holding its value; the meta record's size is the
//! number of fields, so HLEN reads only metadata.

use super::collection::{Collection, Entry};
use super::{Db, Result};
use crate::storage::encoding::Kind;
use crate::storage::Batch;
use crate::storage::Cf;

impl<'a> Db<'a> {
    /// Opens the hash at `key` (`None` if absent, WRONGTYPE for another type).
    pub fn open_hash(&self, key: &[u8]) -> Result<Option<Collection>> {
        self.open_collection(key, Kind::Hash)
    }

    /// The values of `fields` (`None` for a missing field or hash).
    pub fn hash_get(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(c) = self.open_hash(key)? else {
            return Ok(vec![None; fields.len()]);
        };
        fields
            .iter()
            .map(|f| self.get_sub(Cf::Data, &c, f))
            .collect()
    }

    /// Sets `field value` pairs (a flat list), creating the hash if needed;
    /// returns how many fields are new.
    pub fn hash_set(&self, key: &[u8], pairs: &[Vec<u8>]) -> Result<u64> {
        let items = pairs.chunks_exact(2).map(|p| (&p[0][..], &p[1][..]));
        self.upsert_subs(key, Kind::Hash, items)
    }

    /// Sets a field only if it does not exist; returns whether it was set.
    pub fn hash_set_nx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        let mut c = self.open_or_create(key, Kind::Hash)?;
        if c.existed() && self.has_sub(Cf::Data, &c, field)? {
            return Ok(false);
        }
        let mut batch = Batch::default();
        self.put_sub(&mut batch, Cf::Data, &c, field, value);
        c.meta.size += 1;
        self.commit(batch, &c)?;
        Ok(true)
    }

    /// Deletes fields (the hash too when none remain); returns how many
    /// existed.
    pub fn hash_del(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64> {
        self.remove_subs(key, Kind::Hash, fields.iter().map(|f| f.as_slice()))
    }

    /// Number of fields (0 for a missing hash).
    pub fn hash_len(&self, key: &[u8]) -> Result<u64> {
        Ok(self.open_hash(key)?.map_or(0, |c| c.meta.size))
    }

    /// Every (field, value) pair in field byte order (empty if absent).
    pub fn hash_entries(&self, key: &[u8]) -> Result<Vec<Entry>> {
        Ok(match self.open_hash(key)? {
            Some(c) => self.scan_subs(Cf::Data, &c, None, usize::MAX).0,
            None => Vec::new(),
        })
    }

    /// Read-modify-write of one field (HINCRBY, HINCRBYFLOAT): `update`
    /// gets the current value (`None` if absent) and returns the new value
    /// plus a result passed back to the caller; an error writes nothing.
    pub fn hash_update<T>(
        &self,
        key: &[u8],
        field: &[u8],
        update: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T)>,
    ) -> Result<T> {
        let mut c = self.open_or_create(key, Kind::Hash)?;
        let old = if c.existed() {
            self.get_sub(Cf::Data, &c, field)?
        } else {
            None
        };
        let (value, result) = update(old.as_deref())?;
        let mut batch = Batch::default();
        self.put_sub(&mut batch, Cf::Data, &c, field, &value);
        c.meta.size += old.is_none() as u64;
        self.commit(batch, &c)?;
        Ok(result)
    }
}
