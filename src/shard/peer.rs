//! Reads one core serves from another shard's RocksDB without a hop.
//!
//! A read such as GET on a key owned by another shard would
//! otherwise cost two cross-core wake-ups (there and back). RocksDB is safe
//! to read from any thread, and every write a shard makes is in RocksDB
//! before it is acknowledged or its key locks are released (the hot-key
//! cache is write-through; writes joined into a turn's group are written
//! first, `Engine::join`), so the connection's core can read the record
//! itself, provided the read cannot observe a multi-shard operation half
//! done: it is used only while the owner holds no key locks (checked before
//! and after, see [`LockWatch`]). The connection makes such a read only
//! with none of its own commands in flight, so it also sees its own
//! earlier writes.

use super::locks::LockWatch;
use crate::storage::engine::PeerReader;
use crate::storage::hot::SharedMap;
use std::sync::Arc;

/// What other cores may read of one shard.
pub struct PeerView {
    reader: PeerReader,
    hot: Option<Arc<SharedMap>>,
    locks: Arc<LockWatch>,
}

impl PeerView {
    /// A view of a shard's RocksDB, hot-key cache and lock table.
    pub fn new(reader: PeerReader, hot: Option<Arc<SharedMap>>, locks: Arc<LockWatch>) -> PeerView {
        PeerView { reader, hot, locks }
    }

    /// The shard's hot-key cache, for hints only (`server::prefetch`):
    /// what it holds may be staged and not yet in RocksDB.
    pub fn hot_map(&self) -> Option<&Arc<SharedMap>> {
        self.hot.as_ref()
    }

    /// Runs `read` against the shard's hot-key cache and RocksDB; `None`
    /// if the shard held a key lock or unwritten writes at any moment of
    /// it: then ask the shard. (Once the shard has closed its RocksDB, at
    /// shutdown, reads find nothing to read.)
    pub fn read<T>(&self, read: impl FnOnce(&PeerReader, Option<&SharedMap>) -> T) -> Option<T> {
        self.locks
            .unlocked_during(|| read(&self.reader, self.hot.as_deref()))
    }
}
