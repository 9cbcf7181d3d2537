//! A key's value in the portable form of DUMP and RESTORE
//! (`protocol::rdb`), read from and written to this shard's encoding.

use super::list::list_dump;
use super::zset::zset_dump;
use super::{Db, Dump, MetaRead, Result};
use crate::protocol::rdb::Value;
use crate::protocol::Reply;
use crate::shard::blocking::wake;
use crate::storage::encoding::{Kind, Meta};
use crate::storage::Batch;
use crate::storage::Cf;

impl Db<'_> {
    /// A key's value and absolute expiry (0: none) for DUMP; `None` if the
    /// key does not exist. Streams and JSON documents have no portable
    /// form here: an error names the key.
    pub fn portable_value(&self, key: &[u8]) -> Result<Option<(Value, u64)>> {
        let Some(meta) = self.lookup_read(key)? else {
            return Ok(None);
        };
        let value = match meta.kind {
            Kind::String => Value::String(meta.payload.clone()),
            Kind::List => match self.open_list(key)? {
                Some(l) => Value::List(l.read(self, 0, l.len(), false)?),
                None => return Ok(None),
            },
            Kind::Hash => Value::Hash(self.hash_entries(key)?),
            Kind::Set => Value::Set(self.set_members(key)?),
            Kind::ZSet => match self.open_zset(key)? {
                Some(z) => Value::ZSet(self.zset_entries(&z)),
                None => return Ok(None),
            },
            Kind::Json | Kind::Stream => {
                return Err(Reply::err(format!(
                    "ERR DUMP of '{}': {} values have no DUMP format in DiskDB",
                    String::from_utf8_lossy(key),
                    if meta.kind == Kind::Json {
                        "JSON"
                    } else {
                        "stream"
                    }
                )))
            }
        };
        Ok(Some((value, meta.expire_at)))
    }

    /// Stages replacing whatever `key` holds with `value` and an absolute
    /// expiry (0: none), in one batch.
    pub fn stage_portable_value(
        &self,
        batch: &mut Batch,
        key: &[u8],
        value: Value,
        expire_at: u64,
    ) {
        let collection = |kind: Kind, size: usize, sub_keys| Dump {
            meta: Meta {
                kind,
                expire_at,
                version: 0,
                size: size as u64,
                payload: Vec::new(),
            },
            sub_keys,
        };
        let dump = match value {
            Value::String(s) => Dump {
                meta: Meta {
                    expire_at,
                    ..Meta::string(s)
                },
                sub_keys: Vec::new(),
            },
            Value::List(items) => list_dump(items, expire_at),
            Value::Set(members) => collection(
                Kind::Set,
                members.len(),
                members
                    .into_iter()
                    .map(|m| (Cf::Data, m, Vec::new()))
                    .collect(),
            ),
            Value::Hash(pairs) => collection(
                Kind::Hash,
                pairs.len(),
                pairs.into_iter().map(|(f, v)| (Cf::Data, f, v)).collect(),
            ),
            Value::ZSet(entries) => zset_dump(&entries, expire_at),
        };
        self.stage_restore(batch, key, &dump);
    }

    /// Writes a restored value (see
    /// [`stage_portable_value`](Self::stage_portable_value)) and serves
    /// clients blocked on the key.
    pub fn restore_portable_value(&self, key: &[u8], value: Value, expire_at: u64) -> Result<()> {
        let mut batch = Batch::default();
        self.stage_portable_value(&mut batch, key, value, expire_at);
        self.write(batch)?;
        wake(self, key);
        Ok(())
    }
}
