//! Strings: the value lives inline in the key's meta record.

use super::{Db, MetaRead, Result};
use crate::storage::encoding::{Kind, Meta};
use crate::storage::Batch;

/// Largest string value (Redis's `proto-max-bulk-len`).
pub const MAX_STRING: usize = 512 * 1024 * 1024;

impl Db<'_> {
    /// Reads a string key (WRONGTYPE for other types).
    pub fn get_string(&self, key: &[u8]) -> Result<Option<Meta>> {
        self.lookup_kind(key, Kind::String)
    }

    /// Writes a string value with an absolute expiry (0 = none).
    pub fn set_string(&self, key: &[u8], value: &[u8], expire_at: u64) -> Result<()> {
        let mut b = Batch::default();
        self.put_string(&mut b, key, value, expire_at);
        self.write(b)
    }

    /// Stages a string value with an absolute expiry (0 = none), copied
    /// from `value` straight into the cached record and the batch.
    pub fn put_string(&self, batch: &mut Batch, key: &[u8], value: &[u8], expire_at: u64) {
        let mut meta = Meta::string(Vec::new());
        meta.expire_at = expire_at;
        let (header, n) = meta.header();
        self.put_parts(batch, key, expire_at, &header[..n], value);
    }
}
