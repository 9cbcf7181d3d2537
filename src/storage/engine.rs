//! One shard's RocksDB instance: column families, options, reads and
//! atomic batch writes.

use super::batch::{family_id, Batch};
use super::compaction::{filter_sub_key, DbSlot};
use super::group::Group;
use crate::config::{Compression, Config};
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor,
    DBCompressionType, DBRecoveryMode, DataBlockIndexType, Options, WriteBufferManager,
    WriteOptions, DB,
};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

/// The column families of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cf {
    /// Key → type, expiry, version, size, inline value.
    Meta,
    /// Collection sub-keys.
    Data,
    /// Sorted-set members ordered by score.
    ZScore,
    /// TTL index ordered by expiry time.
    Expire,
}

impl Cf {
    /// All column families.
    pub const ALL: [Cf; 4] = [Cf::Meta, Cf::Data, Cf::ZScore, Cf::Expire];

    /// The id RocksDB gives the family: created in [`Cf::ALL`]'s order
    /// after the default family (0), and checked when a shard opens.
    pub fn id(self) -> u32 {
        match self {
            Cf::Meta => 1,
            Cf::Data => 2,
            Cf::ZScore => 3,
            Cf::Expire => 4,
        }
    }

    /// The RocksDB column-family name.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Data => "data",
            Cf::ZScore => "zscore",
            Cf::Expire => "expire",
        }
    }
}

/// Memory shared by all shards: one block cache and one memtable budget.
#[derive(Clone)]
pub struct SharedResources {
    cache: Cache,
    write_buffers: WriteBufferManager,
    env: Option<rocksdb::Env>,
    /// The hot-key caches' budget, moved between shards by demand.
    pub hot_budget: Arc<super::hot_budget::HotBudget>,
}

// SAFETY: RocksDB's Cache and WriteBufferManager are thread-safe C++ objects;
// the wrappers only hold reference-counted pointers to them.
unsafe impl Send for SharedResources {}
unsafe impl Sync for SharedResources {}

impl SharedResources {
    /// Creates the shared cache and write-buffer manager from the config.
    pub fn new(config: &Config) -> SharedResources {
        let cache = Cache::new_lru_cache(config.block_cache_size as usize);
        let write_buffers = WriteBufferManager::new_write_buffer_manager_with_cache(
            config.write_buffer_size as usize,
            false,
            cache.clone(),
        );
        SharedResources {
            cache,
            write_buffers,
            env: background_threads(config.shards, config.low_priority_compaction),
            hot_budget: Arc::new(super::hot_budget::HotBudget::new(
                config.hot_cache_size,
                config.shards,
            )),
        }
    }

    /// Bytes currently held by the shared block cache.
    pub fn cache_usage(&self) -> usize {
        self.cache.get_usage()
    }
}

/// Starts RocksDB's flush and compaction threads now, from the calling
/// (unpinned) thread: a thread inherits its creator's CPU affinity, and
/// RocksDB otherwise starts them lazily from the first shard executor that
/// opens a database, which pinned every shard's flushes and compactions to
/// that shard's core (and sized the pools for one database: one compaction
/// thread for all shards). One compaction thread per shard, one flush
/// thread per two; compactions at nice 19 unless configured otherwise.
fn background_threads(shards: usize, low_priority_compaction: bool) -> Option<rocksdb::Env> {
    let mut env = match rocksdb::Env::new() {
        Ok(env) => env,
        Err(e) => {
            log::warn!("RocksDB background threads left to RocksDB: {e}");
            return None;
        }
    };
    let shards = shards.max(1) as i32;
    env.set_background_threads(shards);
    env.set_high_priority_background_threads((shards + 1) / 2);
    if low_priority_compaction {
        // Compactions (the low-priority pool) take the CPU time the shards
        // leave; flushes keep normal priority so memtables keep draining.
        env.lower_thread_pool_cpu_priority();
    }
    Some(env)
}

/// Error from a write: a stall (retry later) or a real failure.
#[derive(Debug)]
pub enum WriteError {
    /// RocksDB would have slowed the write down (`no_slowdown`).
    Stalled,
    /// Anything else, with RocksDB's message.
    Failed(String),
}

impl From<WriteError> for String {
    fn from(e: WriteError) -> String {
        match e {
            WriteError::Failed(e) => e,
            WriteError::Stalled => "write stalled".into(),
        }
    }
}

/// How a column family's memtables are sized and flushed.
///
/// RocksDB's skiplist insert costs a cache miss per level, and a 64 MB
/// memtable of small records (INCR's counters, ZADD's members) held over a
/// million entries: the insert was 40-55% of a shard under INCR at -P 16.
/// Small memtables keep the skiplist in the CPU cache; flushing several of
/// them together still folds a key's overwrites (and a sorted set's old
/// score entries with their tombstones) and writes level-0 files as large
/// as before (benches/RESULTS.md, ninth and tenth sessions).
#[derive(Clone, Copy)]
struct MemtableShape {
    /// Bytes of one memtable.
    size: usize,
    /// Full memtables flushed together into one level-0 file.
    per_flush: i32,
    /// Memtables (full or filling) the family may hold before writes
    /// stall: room for the ones written while a flush runs.
    max: i32,
}

/// The shape of every family's memtables: 2 MB, sixteen to a flush.
/// Against 8 MB four to a flush: INCR +10-23% and ZADD +14-33% at -P 16
/// (`meta`, `zscore`, tenth session); in `data`, whose sorted-set members
/// are small records too, ZADD's CPU per request -5 to -17% at -P 1 and
/// -P 16 with HSET, LPUSH and RPOP of 1 KB elements within noise or
/// better (nineteenth session).
const MEMTABLES: MemtableShape = MemtableShape {
    size: 2 << 20,
    per_flush: 16,
    max: 40,
};

/// Memtable size while RocksDB replays the WAL at startup. Replay flushes
/// each memtable that fills as a level-0 file of its own, and after a crash
/// with memtables waiting for their merged flush, 2 MB ones would restart
/// the server with dozens of level-0 files and delayed writes. Each family
/// is shrunk to [`MEMTABLES`] once the database is open.
const RECOVERY_MEMTABLE_SIZE: usize = 64 << 20;

/// Memtable filter bytes per memtable byte (`meta` and `data`).
const MEMTABLE_BLOOM_RATIO: f64 = 0.05;

/// The filter ratio while the families are open with replay-sized
/// memtables: the filter of the first memtable after open would otherwise
/// be sized for 64 MB (3.2 MB, more than a 2 MB memtable, which then
/// counted as full at its first write).
fn replay_bloom_ratio(shape: MemtableShape) -> f64 {
    MEMTABLE_BLOOM_RATIO * shape.size as f64 / RECOVERY_MEMTABLE_SIZE as f64
}

/// Shrinks every family's memtables (and their filters) from the replay
/// size to [`MEMTABLES`], once RocksDB has replayed the WAL.
fn size_memtables_for_writes(db: &DB, path: &Path) -> Result<(), String> {
    for cf in Cf::ALL {
        let handle = db.cf_handle(cf.name()).expect("column family just opened");
        let mut running = vec![("write_buffer_size", MEMTABLES.size.to_string())];
        if matches!(cf, Cf::Meta | Cf::Data) {
            running.push((
                "memtable_prefix_bloom_size_ratio",
                MEMTABLE_BLOOM_RATIO.to_string(),
            ));
        }
        let running: Vec<(&str, &str)> = running.iter().map(|(k, v)| (*k, v.as_str())).collect();
        db.set_options_cf(&handle, &running).map_err(|e| {
            format!(
                "sizing the {} memtables at {}: {e}",
                cf.name(),
                path.display()
            )
        })?;
    }
    Ok(())
}

/// SST block size of the `data` family (RocksDB's default of 4 KB for the
/// others).
const DATA_BLOCK_SIZE: usize = 16 << 10;

/// Largest batch [`Engine::join`] takes; larger ones are written at once.
pub const GROUP_MAX_BATCH: usize = 16 << 10;

/// A joined group is written once it holds this many bytes.
const GROUP_WRITE_AT: usize = 256 << 10;

/// [`Engine::peer_hold`] bit: joined writes wait in the group.
pub const UNWRITTEN_GROUP: u64 = 1;

/// [`Engine::peer_hold`] bit: a command published an effect (a keyspace
/// event) of a batch it has not written or joined yet.
pub const UNWRITTEN_EFFECTS: u64 = 2;

/// [`Engine::peer_hold`] bit: the shard's hot-key cache, which other cores
/// read too, holds entries RocksDB does not: staged for a batch not yet
/// written or joined (`storage::hot`), or left by a failed group write
/// until the shard clears the cache. Raised with [`raise_cache_hold`].
pub const UNWRITTEN_CACHE: u64 = 4;

/// The bits of [`Engine::peer_hold`] above these count the times
/// [`UNWRITTEN_CACHE`] was raised.
pub const HOLD_FLAGS: u64 = 0xff;

/// Raises [`UNWRITTEN_CACHE`] and counts the raise in one store (only the
/// shard's thread changes its hold), so that a read from another core that
/// overlapped the whole time the bit was up, and saw a cache entry staged
/// meanwhile, finds the hold changed afterwards (`LockWatch`).
pub fn raise_cache_hold(hold: &AtomicU64) {
    let v = hold.load(Ordering::SeqCst);
    hold.store((v | UNWRITTEN_CACHE) + HOLD_FLAGS + 1, Ordering::SeqCst);
}

/// A direct write up to this size is copied so it can first be tried with
/// `no_slowdown` (a RocksDB stall is then counted and logged before the
/// write waits it out); a larger one just waits.
const STALL_PROBE_MAX_BATCH: usize = 64 << 10;

/// A shard's RocksDB.
pub struct Engine {
    db: Arc<DB>,
    slot: DbSlot,
    path: PathBuf,
    /// Whether writes go to the WAL (`wal_enabled`).
    wal: bool,
    /// Small batches accepted by [`join`](Self::join) and not yet written,
    /// with what they write (for point reads to know whether they must
    /// write them first).
    group: RefCell<Group>,
    /// Group writes that failed, and writes that stalled, since the shard
    /// last asked.
    group_failures: Cell<u64>,
    stalls: Cell<u64>,
    /// What other cores must wait for (`LockWatch`): [`UNWRITTEN_GROUP`],
    /// [`UNWRITTEN_EFFECTS`] and [`UNWRITTEN_CACHE`] bits.
    peer_hold: Arc<AtomicU64>,
}

fn compression_type(c: Compression) -> DBCompressionType {
    match c {
        Compression::Lz4 => DBCompressionType::Lz4,
        Compression::Snappy => DBCompressionType::Snappy,
        Compression::Zstd => DBCompressionType::Zstd,
        Compression::None => DBCompressionType::None,
    }
}

impl Engine {
    /// Opens (or creates) the shard's RocksDB under `path`.
    pub fn open(path: &Path, config: &Config, shared: &SharedResources) -> Result<Engine, String> {
        let slot: DbSlot = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_write_buffer_manager(&shared.write_buffers);
        if let Some(env) = &shared.env {
            db_opts.set_env(env);
        }
        db_opts.set_max_total_wal_size(config.max_log_size);
        db_opts.set_max_background_jobs(2);
        db_opts.set_keep_log_file_num(3);
        db_opts.set_bytes_per_sync(1 << 20);
        // The shard hands the WAL to the OS once per event-loop turn.
        db_opts.set_manual_wal_flush(true);
        // After a crash or power loss the WAL may end in a torn, unsynced
        // record: replay up to it (RocksDB's default, stated explicitly).
        db_opts.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
        // Only the shard's own thread writes: skip the concurrent
        // memtable insert path and the write thread's spinning.
        db_opts.set_allow_concurrent_memtable_write(false);
        db_opts.set_enable_write_thread_adaptive_yield(false);

        let cf_opts = |cf: Cf| {
            let mut o = Options::default();
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&shared.cache);
            table.set_bloom_filter(10.0, false);
            // Index and filter blocks live in the block cache (bounded
            // memory), partitioned into 4 KB pieces under a pinned top
            // level: a lookup that misses the cache reads one small
            // partition. With one index block per SST (hundreds of KB for
            // 1 KB values), evicted indexes were re-read and LZ4-decoded on
            // every miss: 38% of a shard's CPU under HSET at P=16.
            table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
            table.set_partition_filters(true);
            table.set_metadata_block_size(4096);
            if cf == Cf::Data {
                // Collections are read in runs (a queue's oldest elements,
                // LRANGE, HGETALL): 16 KB blocks read and decode a run in
                // a quarter of the preads. RPOP of 1 KB elements at -P 16,
                // after they left the block cache: +18-29%; HGET of single
                // fields ten times the block cache: -2 to -4%. Strings
                // (`meta`), read one key at a time, keep 4 KB.
                table.set_block_size(DATA_BLOCK_SIZE);
            }
            table.set_cache_index_and_filter_blocks(true);
            table.set_cache_index_and_filter_blocks_with_high_priority(true);
            table.set_pin_top_level_index_and_filter(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            // a hash index inside each data block: point reads skip the
            // block's binary search
            table.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
            table.set_data_block_hash_ratio(0.75);
            o.set_block_based_table_factory(&table);
            o.set_compression_type(compression_type(config.compression));
            o.set_level_compaction_dynamic_level_bytes(true);
            let shape = MEMTABLES;
            o.set_write_buffer_size(RECOVERY_MEMTABLE_SIZE);
            // RocksDB derives arena blocks from the size at open: size
            // them for the memtables written once open
            o.set_arena_block_size(shape.size / 8);
            o.set_min_write_buffer_number_to_merge(shape.per_flush);
            o.set_max_write_buffer_number(shape.max);
            // No `inplace_update_support`: an entry updated in place keeps
            // its old sequence number, so a key written again after a
            // range deletion (FLUSHDB), or a captured transaction batch
            // replayed with the WAL after one, stayed hidden behind it
            // (benches/RESULTS.md, fifth session).
            if matches!(cf, Cf::Meta | Cf::Data) {
                // point reads of keys that are not in the memtable (most of
                // them, once the data outgrows it) skip the skiplist search
                // (a memtable's filter is sized when it is created: the
                // ratio is scaled down for the replay-sized memtables and
                // restored once open)
                o.set_memtable_prefix_bloom_ratio(replay_bloom_ratio(shape));
                o.set_memtable_whole_key_filtering(true);
            }
            if matches!(cf, Cf::Data | Cf::ZScore) {
                let s = slot.clone();
                o.set_compaction_filter(
                    "diskdb-stale-subkeys",
                    move |_lvl: u32, key: &[u8], _v: &[u8]| filter_sub_key(&s, key),
                );
            }
            ColumnFamilyDescriptor::new(cf.name(), o)
        };
        let cfs: Vec<_> = Cf::ALL.iter().map(|&cf| cf_opts(cf)).collect();
        let db = DB::open_cf_descriptors(&db_opts, path, cfs).map_err(|e| {
            let e = e.to_string();
            // RocksDB holds an advisory lock on <dir>/LOCK while open
            let why = if e.contains("lock file") {
                " (is another server running on this data directory?)"
            } else {
                ""
            };
            format!("cannot open RocksDB at {}: {e}{why}", path.display())
        })?;
        for cf in Cf::ALL {
            let handle = db.cf_handle(cf.name()).expect("opened above");
            let id = family_id(handle);
            if id != cf.id() {
                return Err(format!(
                    "{}: column family {} has id {id}, expected {}",
                    path.display(),
                    cf.name(),
                    cf.id()
                ));
            }
        }
        size_memtables_for_writes(&db, path)?;
        let db = Arc::new(db);
        slot.store(Arc::as_ptr(&db) as *mut DB, Ordering::Release);
        Ok(Engine {
            db,
            slot,
            path: path.to_path_buf(),
            wal: config.wal_enabled,
            group: RefCell::new(Group::default()),
            group_failures: Cell::new(0),
            stalls: Cell::new(0),
            peer_hold: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Whether the family holds no key (tombstones aside).
    pub fn is_empty(&self, cf: Cf) -> bool {
        let mut it = self.db.raw_iterator_cf(self.cf(cf));
        it.seek_to_first();
        !it.valid()
    }

    /// Directory of this shard's RocksDB.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handle of a column family.
    pub fn cf(&self, cf: Cf) -> &ColumnFamily {
        self.db
            .cf_handle(cf.name())
            .expect("column family opened at startup")
    }

    /// The underlying RocksDB handle (iterators, properties, checkpoints),
    /// with every joined write applied first.
    pub fn db(&self) -> &DB {
        self.settle();
        &self.db
    }

    /// A handle other threads use for point reads while the shard runs.
    pub fn peer_reader(&self) -> PeerReader {
        PeerReader {
            db: Arc::downgrade(&self.db),
        }
    }

    /// Point read.
    pub fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.settle_for(key);
        self.db.get_cf(self.cf(cf), key).map_err(|e| e.to_string())
    }

    /// Whether a key exists, without copying its value out of RocksDB.
    pub fn contains(&self, cf: Cf, key: &[u8]) -> Result<bool, String> {
        self.settle_for(key);
        self.db
            .get_pinned_cf(self.cf(cf), key)
            .map(|v| v.is_some())
            .map_err(|e| e.to_string())
    }

    /// Whether a key holds exactly `value` (`None`: absent), compared
    /// without copying the stored value out of RocksDB.
    pub fn holds(&self, cf: Cf, key: &[u8], value: &[u8]) -> Result<Option<bool>, String> {
        self.settle_for(key);
        self.db
            .get_pinned_cf(self.cf(cf), key)
            .map(|v| v.map(|v| *v == *value))
            .map_err(|e| e.to_string())
    }

    /// Applies a batch atomically without the WAL (a transaction's captured
    /// writes, logged later as one batch). Joined batches are written
    /// first, keeping the order of writes.
    pub fn write_unlogged(&self, batch: &Batch) -> Result<(), String> {
        if self.group_pending() {
            self.write_group()?;
        }
        Ok(self.write_now(batch.data(), false, false)?)
    }

    fn write_now(&self, data: &[u8], wal: bool, no_slowdown: bool) -> Result<(), WriteError> {
        let mut opts = WriteOptions::default();
        opts.disable_wal(!wal);
        opts.set_no_slowdown(no_slowdown);
        match self
            .db
            .write_opt(rocksdb::WriteBatch::from_data(data), &opts)
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => Err(WriteError::Stalled),
            Err(e) => Err(WriteError::Failed(e.to_string())),
        }
    }

    /// Accepts a small batch (at most [`GROUP_MAX_BATCH`] bytes) into the
    /// group that [`write_group`](Self::write_group) writes as one RocksDB
    /// write: once per event-loop turn (before the WAL is flushed), before
    /// any read, and when it grows large. One write per turn instead of per
    /// command saves RocksDB's per-write work (write thread, WAL record and
    /// its checksums), a fifth of a shard's CPU under pipelined INCR.
    pub fn join(&self, batch: Batch) {
        let mut group = self.group.borrow_mut();
        if group.is_empty() {
            self.peer_hold.fetch_or(UNWRITTEN_GROUP, Ordering::SeqCst);
        }
        group.add(batch);
        let full = group.len() >= GROUP_WRITE_AT;
        drop(group);
        if full {
            self.settle();
        }
    }

    /// Refuses other cores' reads of this shard until the next write
    /// reaches RocksDB: an effect of writes not written yet (a keyspace
    /// event published while a command builds its batch) is out.
    pub fn hold_peer_reads(&self) {
        self.peer_hold.fetch_or(UNWRITTEN_EFFECTS, Ordering::SeqCst);
    }

    /// The command's batch is written or joined: its published effects
    /// no longer run ahead of it.
    pub fn effects_written(&self) {
        self.peer_hold
            .fetch_and(!UNWRITTEN_EFFECTS, Ordering::SeqCst);
    }

    /// Non-zero while joined writes wait, an effect of unwritten writes is
    /// out, or the hot-key cache shows unwritten entries (shared with the
    /// shard's `LockWatch`, which refuses other cores' reads meanwhile).
    pub fn peer_hold(&self) -> Arc<AtomicU64> {
        self.peer_hold.clone()
    }

    /// Whether joined writes wait for [`write_group`](Self::write_group).
    pub fn group_pending(&self) -> bool {
        !self.group.borrow().is_empty()
    }

    /// Writes the joined batches, if any, as one atomic batch; a stall is
    /// waited out (and counted). On failure the group is dropped.
    pub fn write_group(&self) -> Result<(), String> {
        let mut group = self.group.borrow_mut();
        if group.is_empty() {
            return Ok(());
        }
        let res = self.write_counting_stalls(group.ordered());
        group.clear();
        if res.is_err() {
            // the hot cache shows the lost writes until the shard clears it
            raise_cache_hold(&self.peer_hold);
        }
        self.peer_hold.fetch_and(!UNWRITTEN_GROUP, Ordering::SeqCst);
        res.map_err(|e| {
            self.group_failures.set(self.group_failures.get() + 1);
            let e = String::from(e);
            log::error!("write to {} failed: {e}", self.path.display());
            e
        })
    }

    /// Writes the batch represented by `data`, first with `no_slowdown`
    /// so that a stall is counted, then waiting it out.
    fn write_counting_stalls(&self, data: &[u8]) -> Result<(), WriteError> {
        match self.write_now(data, self.wal, true) {
            Err(WriteError::Stalled) => {
                self.stalls.set(self.stalls.get() + 1);
                self.write_now(data, self.wal, false)
            }
            other => other,
        }
    }

    /// Writes the joined batches, then `batch` (with the WAL per
    /// `wal_enabled`), waiting out a stall (counted up to
    /// [`STALL_PROBE_MAX_BATCH`]).
    pub fn write_waiting(&self, batch: Batch) -> Result<(), String> {
        if self.group_pending() {
            self.write_group()?;
        }
        let res = if batch.size_in_bytes() <= STALL_PROBE_MAX_BATCH {
            self.write_counting_stalls(batch.data())
        } else {
            self.write_now(batch.data(), self.wal, false)
        };
        res.map_err(String::from)
    }

    /// Applies joined writes before a read (a failure is counted for the
    /// shard, which withholds the replies of the turn).
    fn settle(&self) {
        if self.group_pending() {
            let _ = self.write_group();
        }
    }

    /// Applies joined writes before a point read of `key` they may change.
    fn settle_for(&self, key: &[u8]) {
        if self.group_pending() && self.group.borrow().affects(key) {
            let _ = self.write_group();
        }
    }

    /// Group writes that failed, and writes that stalled, since the last
    /// call.
    pub fn take_write_events(&self) -> (u64, u64) {
        (self.group_failures.take(), self.stalls.take())
    }

    /// Writes joined batches, then flushes the WAL to the OS and, with
    /// `sync`, fsyncs it.
    pub fn flush_wal(&self, sync: bool) -> Result<(), String> {
        self.write_group()?;
        self.db.flush_wal(sync).map_err(|e| e.to_string())
    }

    /// Fsyncs the WAL from any thread, beside the shard's writes (RocksDB
    /// locks the WAL writer for `manual_wal_flush` databases); what
    /// [`flush_wal`](Self::flush_wal) handed to the OS before is on disk
    /// when it returns.
    pub fn wal_syncer(&self) -> impl FnOnce() -> Result<(), String> + Send + 'static {
        let db = self.db.clone();
        move || db.flush_wal(true).map_err(|e| e.to_string())
    }

    /// Bytes in the shard's write-ahead log files.
    pub fn wal_bytes(&self) -> u64 {
        std::fs::read_dir(&self.path)
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Keeps the memtables within `budget` bytes: when they hold more
    /// (full memtables waiting to be flushed together count too, which
    /// RocksDB's shared budget does not see), flushes the family holding
    /// the most, without waiting. Does nothing while a flush runs. Returns
    /// the family it flushed.
    pub fn keep_memtables_within(&self, budget: u64) -> Option<Cf> {
        let int = |cf: Cf, name: &str| self.int_property(cf, name);
        let held: Vec<(Cf, u64)> = Cf::ALL
            .iter()
            .map(|&cf| (cf, int(cf, "rocksdb.cur-size-all-mem-tables")))
            .collect();
        if held.iter().map(|(_, b)| b).sum::<u64>() <= budget
            || Cf::ALL
                .iter()
                .any(|&cf| int(cf, "rocksdb.mem-table-flush-pending") > 0)
            || int(Cf::Meta, "rocksdb.num-running-flushes") > 0
        {
            return None;
        }
        let (cf, _) = held.into_iter().max_by_key(|&(_, b)| b)?;
        let mut opts = rocksdb::FlushOptions::default();
        opts.set_wait(false);
        match self.db.flush_cf_opt(self.cf(cf), &opts) {
            Ok(()) => Some(cf),
            Err(e) => {
                log::warn!("flushing the {} memtables over budget: {e}", cf.name());
                None
            }
        }
    }

    /// An integer RocksDB property summed over all column families.
    pub fn property_sum(&self, name: &str) -> u64 {
        Cf::ALL.iter().map(|&cf| self.int_property(cf, name)).sum()
    }

    /// An integer RocksDB property of one column family (0 if unknown).
    fn int_property(&self, cf: Cf, name: &str) -> u64 {
        self.db
            .property_int_value_cf(self.cf(cf), name)
            .ok()
            .flatten()
            .unwrap_or(0)
    }
}

/// Read, write and space amplification of one column family.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Amplification {
    /// Bytes written by flushes and compactions per byte ingested.
    pub write: f64,
    /// SST files a point lookup may probe: L0 files plus non-empty levels.
    pub read: u64,
    /// SST bytes per byte of live data.
    pub space: f64,
}

impl Engine {
    /// Amplification figures of a column family, from RocksDB's properties.
    pub fn amplification(&self, cf: Cf) -> Amplification {
        let int = |name: &str| self.int_property(cf, name);
        let stats = self
            .db
            .property_value_cf(self.cf(cf), "rocksdb.cfstats-no-file-histogram")
            .ok()
            .flatten()
            .unwrap_or_default();
        let l0 = int("rocksdb.num-files-at-level0");
        let deeper = (1..7)
            .filter(|l| int(&format!("rocksdb.num-files-at-level{l}")) > 0)
            .count() as u64;
        let live = int("rocksdb.estimate-live-data-size");
        let sst = int("rocksdb.total-sst-files-size");
        Amplification {
            write: parse_sum_write_amp(&stats).unwrap_or(0.0),
            read: l0 + deeper,
            space: if live > 0 {
                sst as f64 / live as f64
            } else {
                0.0
            },
        }
    }
}

/// The W-Amp of the "Sum" row of RocksDB's compaction-stats table. The
/// Size column is two tokens ("1.23 MB") in data rows, one in the header.
fn parse_sum_write_amp(stats: &str) -> Option<f64> {
    let header = stats
        .lines()
        .find(|l| l.trim_start().starts_with("Level") && l.contains("W-Amp"))?;
    let col = header.split_whitespace().position(|t| t == "W-Amp")? + 1;
    let sum = stats.lines().find(|l| l.trim_start().starts_with("Sum"))?;
    sum.split_whitespace().nth(col)?.parse().ok()
}

/// Point reads of a shard's RocksDB from another thread. RocksDB is safe
/// to read concurrently; what a read may see is the caller's concern (see
/// `shard::peer`). Holds no reference: once the shard closes its RocksDB,
/// reads return `None`.
pub struct PeerReader {
    db: std::sync::Weak<DB>,
}

impl PeerReader {
    /// Point read; `None` if the shard has closed its RocksDB.
    pub fn get(&self, cf: Cf, key: &[u8]) -> Option<Result<Option<Vec<u8>>, String>> {
        let db = self.db.upgrade()?;
        let cf = db.cf_handle(cf.name())?;
        Some(db.get_cf(cf, key).map_err(|e| e.to_string()))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.slot.store(std::ptr::null_mut(), Ordering::Release);
        self.db.cancel_all_background_work(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::encoding::{meta_key, sub_key_prefix, Kind, Meta};

    fn test_config() -> Config {
        Config::build(None, Default::default()).unwrap()
    }

    #[test]
    fn write_amp_from_compaction_stats() {
        let stats = "** Compaction Stats [meta] **\nLevel    Files   Size     Score Read(GB)  Rn(GB) Rnp1(GB) Write(GB) Wnew(GB) Moved(GB) W-Amp Rd(MB/s)\n-----\n  L0      2/0    1.23 MB   0.5      0.0     0.0      0.0       0.0      0.0       0.0   1.0      0.0\n Sum      2/0    1.23 MB   0.0      0.0     0.0      0.0       0.0      0.0       0.0   2.5      0.0\n";
        assert_eq!(parse_sum_write_amp(stats), Some(2.5));
        assert_eq!(parse_sum_write_amp("nothing"), None);
    }

    #[test]
    fn compaction_drops_stale_versions() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = test_config();
        let shared = SharedResources::new(&cfg);
        let e = Engine::open(dir.path(), &cfg, &shared).unwrap();
        let sub = |ver: u64, f: &str| {
            let mut k = sub_key_prefix(0, b"h", ver);
            k.extend_from_slice(f.as_bytes());
            k
        };
        let mut b = Batch::default();
        let meta = Meta {
            kind: Kind::Hash,
            expire_at: 0,
            version: 2,
            size: 1,
            payload: vec![],
        };
        b.put(Cf::Meta, &meta_key(0, b"h"), &meta.encode());
        b.put(Cf::Data, &sub(1, "old"), b"x");
        b.put(Cf::Data, &sub(2, "new"), b"y");
        let mut gone = sub_key_prefix(0, b"deleted", 5);
        gone.push(b'f');
        b.put(Cf::Data, &gone, b"z");
        e.write_waiting(b).unwrap();
        e.db().flush_cf(e.cf(Cf::Data)).unwrap();
        e.db()
            .compact_range_cf(e.cf(Cf::Data), None::<&[u8]>, None::<&[u8]>);
        assert_eq!(e.get(Cf::Data, &sub(1, "old")).unwrap(), None);
        assert_eq!(
            e.get(Cf::Data, &sub(2, "new")).unwrap(),
            Some(b"y".to_vec())
        );
        assert_eq!(e.get(Cf::Data, &gone).unwrap(), None);
    }
}
