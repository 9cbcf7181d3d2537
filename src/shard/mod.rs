//! A shard: the state one executor owns (its RocksDB, counters, cursors),
//! plus routing and the inboxes that connect shards.

pub mod blocking;
pub mod keyspace;
pub mod locks;
pub mod mesh;
pub mod observe;
pub mod peer;
pub mod pubsub;
pub mod routing;
pub mod tracking;
pub mod transaction;

use crate::config::{Config, SyncPolicy};
use crate::storage::engine::GROUP_MAX_BATCH;
use crate::storage::Batch;
use crate::storage::{Cf, Engine, SharedResources};
use mesh::Mesh;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Per-shard counters reported by INFO.
#[derive(Default, Debug)]
pub struct ShardStats {
    /// Commands executed on this shard's data.
    pub commands: Cell<u64>,
    /// Reads that found their key.
    pub keyspace_hits: Cell<u64>,
    /// Reads that did not.
    pub keyspace_misses: Cell<u64>,
    /// Set while lookups are not reads to count as hits or misses: a write
    /// command's own lookups, or a second pass over keys already counted
    /// (Redis counts each key a read looks up once, and no write lookup).
    pub uncounted: Cell<bool>,
    /// Keys removed by expiry.
    pub expired_keys: Cell<u64>,
    /// Writes that hit a RocksDB write stall.
    pub write_stalls: Cell<u64>,
    /// WAL fsyncs performed.
    pub wal_syncs: Cell<u64>,
    /// Bytes read from clients of this core.
    pub net_input_bytes: Cell<u64>,
    /// Bytes written to clients of this core.
    pub net_output_bytes: Cell<u64>,
    /// Reads of other shards' keys this core served without a hop
    /// (`shard::peer`).
    pub peer_reads: Cell<u64>,
    /// Those of the reads that found a record in the owner's hot-key
    /// cache (in a read's own counts: the records it found there).
    pub peer_hot_hits: Cell<u64>,
    /// Replies of other cores' clients this shard took on writing to
    /// their sockets itself (`server::direct`), sent whole or in part.
    pub owner_replies: Cell<u64>,
}

impl ShardStats {
    /// Counts a read's lookup of a key as a hit (`found`) or a miss,
    /// unless lookups are [`uncounted`](Self::uncounted) now.
    pub fn count_read(&self, found: bool) {
        if !self.uncounted.get() {
            incr(
                match found {
                    true => &self.keyspace_hits,
                    false => &self.keyspace_misses,
                },
                1,
            );
        }
    }
}

/// Bump a counter cell.
pub fn incr(c: &Cell<u64>, by: u64) {
    c.set(c.get() + by);
}

/// Resume points of SCAN cursors on this shard (token → last key seen).
#[derive(Default)]
pub struct ScanCursors {
    next_token: u64,
    positions: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

/// How many SCAN cursors a shard remembers before forgetting the oldest.
const MAX_SCAN_CURSORS: usize = 16 * 1024;

impl ScanCursors {
    /// Stores a resume point and returns its token (never 0).
    pub fn save(&mut self, after: Vec<u8>) -> u64 {
        self.next_token = self.next_token % ((1 << 50) - 1) + 1;
        let t = self.next_token;
        if self.order.len() >= MAX_SCAN_CURSORS {
            if let Some(old) = self.order.pop_front() {
                self.positions.remove(&old);
            }
        }
        self.positions.insert(t, after);
        self.order.push_back(t);
        t
    }

    /// The resume point of a token, if still remembered.
    pub fn get(&self, token: u64) -> Option<Vec<u8>> {
        self.positions.get(&token).cloned()
    }
}

/// What a write tells others (`Shard::touched`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Announce {
    /// Keyspace event, WATCH, tracking.
    All,
    /// WATCH and tracking only.
    NoEvent,
    /// Nothing (writes Redis makes silently).
    Nothing,
}

/// One shard: owned by exactly one executor thread.
pub struct Shard {
    /// Index of this shard.
    pub id: usize,
    /// The shard's RocksDB.
    pub engine: Engine,
    /// Inboxes of all shards.
    pub mesh: Arc<Mesh>,
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Shared memory budget (for INFO).
    pub shared: SharedResources,
    /// Counters.
    pub stats: ShardStats,
    /// SCAN resume points.
    pub scan_cursors: RefCell<ScanCursors>,
    /// Command counters, slow log, latency events.
    pub observe: RefCell<observe::Observations>,
    /// Hot keys' meta records in memory.
    pub hot: RefCell<crate::storage::hot::HotCache>,
    /// Clients blocked on this shard's keys.
    pub blocked: RefCell<blocking::Blocked>,
    /// Keys held by multi-shard operations, and commands parked behind them.
    pub locks: RefCell<locks::Locks>,
    /// The operation whose writes are being captured (0: none).
    capturing: Cell<locks::TxId>,
    /// Writes captured per operation, as one batch each.
    captured: RefCell<HashMap<locks::TxId, Vec<u8>>>,
    /// The command running now, for keyspace events.
    current: Cell<keyspace::Current>,
    /// Id of the client whose command runs now (0: none, as for expiry),
    /// for CLIENT TRACKING's NOLOOP.
    current_client: Cell<u64>,
    /// What the writes running now tell others (see
    /// [`unannounced`](Self::unannounced), [`without_events`](Self::without_events)).
    announcing: Cell<Announce>,
    /// How many `run_as` calls are open (EXEC runs its commands inside its
    /// job, a served blocked pop inside the waking command).
    nesting: Cell<u32>,
    /// Where keyspace events go (unset in tools that open a shard alone).
    pub pubsub: std::cell::OnceCell<Arc<pubsub::PubSub>>,
    /// WATCHed keys (meta key → the watching clients' dirty flags).
    pub watchers: RefCell<HashMap<Vec<u8>, Vec<Arc<std::sync::atomic::AtomicBool>>>>,
    /// Source of collection versions: increases across restarts.
    next_version: Cell<u64>,
    write_seq: Cell<u64>,
    flushed_seq: Cell<u64>,
    synced_seq: Cell<u64>,
    /// Time of the last WAL fsync (ms since epoch).
    pub last_sync_ms: Cell<u64>,
    /// When a write stall was last logged, and the stall count then.
    stall_logged: Cell<(u64, u64)>,
    /// (ms since epoch, commands) samples for instantaneous_ops_per_sec.
    ops_samples: RefCell<VecDeque<(u64, u64)>>,
    /// The executor's own reference to this shard (see [`Shard::rc`]).
    me: std::cell::OnceCell<std::rc::Weak<Shard>>,
}

impl Shard {
    /// Opens shard `id` under `<dir>/shard-<id>`.
    pub fn open(
        id: usize,
        config: Arc<Config>,
        mesh: Arc<Mesh>,
        shared: SharedResources,
    ) -> Result<Shard, String> {
        let path = config.dir.join(format!("shard-{id}"));
        let engine = Engine::open(&path, &config, &shared)?;
        let hot_capacity = shared.hot_budget.initial_share() as usize;
        let locks = locks::Locks::with_peer_hold(engine.peer_hold());
        let mut hot = crate::storage::hot::HotCache::new(hot_capacity, engine.peer_hold());
        if engine.is_empty(Cf::Meta) {
            hot.start_recording_keys();
        }
        mesh.publish_peer(
            id,
            peer::PeerView::new(engine.peer_reader(), hot.shared(), locks.watch()),
        );
        Ok(Shard {
            id,
            engine,
            mesh,
            config,
            shared,
            stats: ShardStats::default(),
            scan_cursors: RefCell::default(),
            blocked: RefCell::default(),
            locks: RefCell::new(locks),
            capturing: Cell::new(0),
            captured: RefCell::default(),
            watchers: RefCell::default(),
            current: Cell::new(("", "")),
            current_client: Cell::new(0),
            announcing: Cell::new(Announce::All),
            nesting: Cell::new(0),
            pubsub: std::cell::OnceCell::new(),
            observe: RefCell::default(),
            hot: RefCell::new(hot),
            next_version: Cell::new(crate::util::now_ms() << 16),
            write_seq: Cell::new(0),
            flushed_seq: Cell::new(0),
            synced_seq: Cell::new(0),
            last_sync_ms: Cell::new(crate::util::now_ms()),
            stall_logged: Cell::new((0, 0)),
            ops_samples: RefCell::default(),
            me: std::cell::OnceCell::new(),
        })
    }

    /// Shares the shard as its executor holds it, so a job from another
    /// core can start a task here (e.g. serve a connection that moved).
    pub fn rc(&self) -> Option<Rc<Shard>> {
        self.me.get().and_then(std::rc::Weak::upgrade)
    }

    /// Records the executor's reference, once, for [`rc`](Self::rc).
    pub fn set_rc(self: &Rc<Self>) {
        let _ = self.me.set(Rc::downgrade(self));
    }

    /// Number of shards in the server.
    pub fn shard_count(&self) -> usize {
        self.mesh.len()
    }

    /// A fresh collection version, greater than any used before.
    pub fn new_version(&self) -> u64 {
        let v = self.next_version.get().max(crate::util::now_ms() << 16) + 1;
        self.next_version.set(v);
        v
    }

    /// Applies a batch atomically, honouring `wal_enabled`. A small batch
    /// joins the engine's group, written as one before the turn's replies
    /// go out or anything reads RocksDB ([`Engine::join`]); a failure of
    /// that write withholds the replies like a failed WAL write. A larger
    /// batch is written at once, after the group ([`Engine::write_waiting`]:
    /// a stall is counted and logged, then waited out).
    pub fn write(&self, batch: Batch) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(()); // e.g. SADD of members already there
        }
        if self.capturing.get() == 0 && batch.size_in_bytes() <= GROUP_MAX_BATCH {
            self.engine.join(batch);
            self.engine.effects_written();
            self.report_group_events();
            self.write_seq.set(self.write_seq.get() + 1);
            self.hot.borrow_mut().written();
            return Ok(());
        }
        if self.capturing.get() != 0 {
            let res = self.capture_write(batch);
            self.engine.effects_written();
            match res {
                Ok(()) => self.hot.borrow_mut().written(),
                // the cache may hold staged values that never reached disk
                Err(_) => self.hot.borrow_mut().clear(),
            }
            return res;
        }
        let res = self.engine.write_waiting(batch);
        self.engine.effects_written();
        self.report_group_events();
        match res {
            Ok(()) => {
                self.write_seq.set(self.write_seq.get() + 1);
                self.hot.borrow_mut().written();
                Ok(())
            }
            Err(e) => {
                // the cache may hold staged values that never reached disk
                self.hot.borrow_mut().clear();
                log::error!(
                    "shard {}: write to {} failed: {e}",
                    self.id,
                    self.engine.path().display()
                );
                Err(e)
            }
        }
    }

    /// Writes the writes joined so far to RocksDB now (before other cores
    /// may read what they change).
    pub fn write_group(&self) {
        let _ = self.engine.write_group();
        self.report_group_events();
    }

    /// Counts the engine's group writes that stalled, and turns one that
    /// failed into a WAL failure: the cache may hold its values, and the
    /// replies of this turn must not acknowledge them.
    fn report_group_events(&self) {
        let (failed, stalled) = self.engine.take_write_events();
        if stalled > 0 {
            incr(&self.stats.write_stalls, stalled);
            self.log_stall();
        }
        if failed > 0 {
            self.hot.borrow_mut().clear();
            self.mesh
                .wal_failures
                .fetch_add(failed, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Logs RocksDB's state when a write stalls, at most once a second
    /// (a stall delays every write, and each would log otherwise), with
    /// the number of stalled writes since the last line.
    fn log_stall(&self) {
        let now = crate::util::now_ms();
        let (last_ms, logged) = self.stall_logged.get();
        if now < last_ms + 1000 {
            return;
        }
        let stalls = self.stats.write_stalls.get();
        self.stall_logged.set((now, stalls));
        let e = &self.engine;
        let int = |p: &str| e.db().property_int_value(p).ok().flatten().unwrap_or(0);
        log::warn!(
            "shard {}: RocksDB write stall ({} stalled writes since the last report), waiting: pending compaction {} bytes, {} running compactions, {} running flushes, {} immutable memtables, write stopped={}",
            self.id,
            stalls - logged,
            e.property_sum("rocksdb.estimate-pending-compaction-bytes"),
            int("rocksdb.num-running-compactions"),
            int("rocksdb.num-running-flushes"),
            e.property_sum("rocksdb.num-immutable-mem-table"),
            e.property_sum("rocksdb.is-write-stopped"),
        );
    }

    /// Records that a key (by meta key) is being modified: WATCHing
    /// clients see their transaction fail.
    pub fn touched(&self, meta_key: &[u8], deleted: bool) {
        match self.announcing.get() {
            Announce::Nothing => return,
            Announce::NoEvent => {}
            Announce::All => self.notify_write(meta_key, deleted),
        }
        self.invalidate_tracked(meta_key);
        if self.watchers.borrow().is_empty() {
            return;
        }
        if let Some(flags) = self.watchers.borrow_mut().remove(meta_key) {
            for f in flags {
                f.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    /// Tells the clients that track a key (CLIENT TRACKING) it is being
    /// written. They may read it again at once: other cores must not read
    /// this shard's RocksDB before the write reaches it.
    fn invalidate_tracked(&self, meta_key: &[u8]) {
        let Some(pubsub) = self.pubsub.get().filter(|p| p.tracking.active()) else {
            return;
        };
        if let Some((_, key)) = crate::storage::encoding::split_meta_key(meta_key) {
            self.engine.hold_peer_reads();
            pubsub.tracking.invalidate(key, self.current_client.get());
        }
    }

    /// Id of the client whose command runs now (0: none).
    pub fn current_client(&self) -> u64 {
        self.current_client.get()
    }

    /// Runs `f` as a command of client `id` (CLIENT TRACKING's NOLOOP
    /// knows whose write it is).
    pub fn as_client<T>(&self, id: u64, f: impl FnOnce() -> T) -> T {
        let outer = self.current_client.replace(id);
        let out = f();
        self.current_client.set(outer);
        out
    }

    /// Runs `f`, whose writes nobody hears of: no keyspace event, no WATCH
    /// broken, no tracking invalidation. For what Redis writes without
    /// signalling, such as the string BITFIELD creates or lengthens when no
    /// field changes.
    pub fn unannounced<T>(&self, f: impl FnOnce() -> T) -> T {
        self.announcing_as(Announce::Nothing, f)
    }

    /// Runs `f`, whose writes break WATCHes and invalidate tracking but
    /// publish no keyspace event: the caller publishes it later, where
    /// Redis's order puts it (RENAME across shards).
    pub fn without_events<T>(&self, f: impl FnOnce() -> T) -> T {
        self.announcing_as(Announce::NoEvent, f)
    }

    fn announcing_as<T>(&self, how: Announce, f: impl FnOnce() -> T) -> T {
        let outer = self.announcing.replace(how);
        let out = f();
        self.announcing.set(outer);
        out
    }

    /// Marks every WATCH on database `db` (all databases if `None`) dirty.
    pub fn touched_all(&self, db: Option<u8>) {
        self.watchers.borrow_mut().retain(|mk, flags| {
            if db.is_some_and(|d| mk.first() != Some(&d)) {
                return true;
            }
            for f in flags.iter() {
                f.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            false
        });
    }

    /// Whether writes were made since the last WAL fsync.
    pub fn wal_dirty(&self) -> bool {
        self.write_seq.get() > self.synced_seq.get()
    }

    /// Fsyncs the WAL now if anything was written since the last fsync.
    pub fn sync_wal(&self) {
        self.push_wal(true);
    }

    /// Hands WAL records written since the last flush to the OS (one write
    /// for all the commands of an event-loop turn).
    pub fn flush_wal(&self) {
        self.push_wal(false);
    }

    /// `everysec`'s fsync, off the event loop: the records are handed to the
    /// OS here, then glommio's blocking thread fsyncs them while the shard
    /// keeps serving (an fsync took 7 ms here under load, stalling every
    /// client of the shard, where redis-server fsyncs in a background
    /// thread too).
    async fn sync_wal_in_background(&self) {
        let upto = self.write_seq.get();
        if upto <= self.synced_seq.get() || !self.config.wal_enabled {
            return;
        }
        self.flush_wal();
        let sync = self.engine.wal_syncer();
        match glommio::executor().spawn_blocking(sync).await {
            Ok(()) => {
                self.synced_seq.set(self.synced_seq.get().max(upto));
                self.last_sync_ms.set(crate::util::now_ms());
                incr(&self.stats.wal_syncs, 1);
            }
            Err(e) => {
                self.mesh
                    .wal_failures
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                log::error!(
                    "shard {}: WAL fsync in {} failed: {e}",
                    self.id,
                    self.engine.path().display()
                );
            }
        }
    }

    /// Writes (and with `sync`, fsyncs) the WAL up to the latest write.
    fn push_wal(&self, sync: bool) {
        let upto = self.write_seq.get();
        let done = if sync {
            &self.synced_seq
        } else {
            &self.flushed_seq
        };
        if upto <= done.get() {
            return;
        }
        if !self.config.wal_enabled {
            // nothing to flush, but joined writes still go to RocksDB
            let _ = self.engine.write_group();
            self.report_group_events();
            done.set(upto);
            return;
        }
        let res = self.engine.flush_wal(sync);
        self.report_group_events();
        if let Err(e) = res {
            self.mesh
                .wal_failures
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let what = if sync { "fsync" } else { "write" };
            log::error!(
                "shard {}: WAL {what} in {} failed: {e}",
                self.id,
                self.engine.path().display()
            );
            // the turns that wrote these records withhold their replies;
            // do not fail every later turn (reads too) over the same records
            self.flushed_seq.set(upto);
            if sync {
                self.synced_seq.set(upto);
            }
            return;
        }
        self.flushed_seq.set(upto);
        if sync {
            self.synced_seq.set(upto);
            self.last_sync_ms.set(crate::util::now_ms());
            incr(&self.stats.wal_syncs, 1);
        }
    }

    /// Makes this turn's writes as durable as the sync policy promises
    /// before replies go out: fsynced under `always`, in the OS otherwise.
    pub fn make_durable_now(&self) {
        if self.sync_always() {
            self.sync_wal();
        } else {
            self.flush_wal();
        }
        let committed = self.blocked.borrow_mut().take_committed();
        committed.into_iter().for_each(|d| d());
    }

    /// Like [`make_durable_now`](Self::make_durable_now), but first lets
    /// every connection of this event-loop turn write, so one WAL write
    /// (under `always`, one fsync) covers them all (group commit).
    pub async fn make_durable(&self) {
        let pending = match self.sync_always() {
            true => self.wal_dirty(),
            false => self.write_seq.get() > self.flushed_seq.get(),
        };
        if !pending {
            return;
        }
        futures_lite::future::yield_now().await;
        self.make_durable_now();
    }

    /// Whether replies must wait for an fsync.
    pub fn sync_always(&self) -> bool {
        self.config.wal_enabled && self.config.runtime.sync() == SyncPolicy::Always
    }

    /// Serves the inbox: runs each batch of jobs from other shards, makes
    /// their writes durable per the sync policy, then replies.
    pub async fn serve_inbox(self: Rc<Self>) {
        loop {
            let jobs = self.mesh.recv_batch(self.id).await;
            let done: Vec<_> = jobs.into_iter().map(|job| job(&self)).collect();
            self.make_durable_now();
            done.into_iter().for_each(|complete| complete());
        }
    }

    /// Samples the command counter ten times a second (INFO's
    /// instantaneous_ops_per_sec averages the last 1.6 s).
    pub async fn run_ops_sampler(self: Rc<Self>) {
        loop {
            glommio::timer::sleep(Duration::from_millis(100)).await;
            let mut s = self.ops_samples.borrow_mut();
            s.push_back((crate::util::now_ms(), self.stats.commands.get()));
            if s.len() > 16 {
                s.pop_front();
            }
        }
    }

    /// Ten times a second, holds the shard's memtables to its share of the
    /// memtable budget (`write_buffer_size` / shards): full memtables wait
    /// to be flushed four together, and RocksDB's own budget counts only
    /// the ones being filled.
    pub async fn run_memtable_budget(self: Rc<Self>) {
        let budget = self.config.write_buffer_size / self.config.shards.max(1) as u64;
        loop {
            glommio::timer::sleep(Duration::from_millis(100)).await;
            if let Some(cf) = self.engine.keep_memtables_within(budget) {
                log::debug!(
                    "shard {}: memtables over {budget} bytes, flushing {}",
                    self.id,
                    cf.name()
                );
            }
        }
    }

    /// Once a second, takes this shard's share of the hot-cache budget
    /// (`storage/hot_budget.rs`): what it holds plus what it evicted for
    /// room since the last look is what it asks for.
    pub async fn run_hot_cache_budget(self: Rc<Self>) {
        // one shard, or no cache (a share too small to hold one)
        if self.config.shards < 2 || self.hot.borrow().capacity() == 0 {
            return;
        }
        loop {
            glommio::timer::sleep(Duration::from_secs(1)).await;
            let mut hot = self.hot.borrow_mut();
            let want = hot.used() as u64 + hot.take_evicted_bytes();
            let current = hot.capacity() as u64;
            let next = self.shared.hot_budget.rebalance(self.id, want, current);
            if next != current {
                log::debug!("shard {}: hot cache {current} -> {next} bytes", self.id);
                hot.set_capacity(next as usize);
            }
        }
    }

    /// Commands per second over the sampled window.
    pub fn ops_per_sec(&self) -> u64 {
        let s = self.ops_samples.borrow();
        match (s.front(), s.back()) {
            (Some(&(t0, c0)), Some(&(t1, c1))) if t1 > t0 => {
                c1.saturating_sub(c0) * 1000 / (t1 - t0)
            }
            _ => 0,
        }
    }

    /// Background fsync for `everysec`: fsyncs at least every sync_interval.
    pub async fn run_wal_syncer(self: Rc<Self>) {
        loop {
            let ms = self
                .config
                .runtime
                .sync_interval_ms
                .load(std::sync::atomic::Ordering::Relaxed);
            glommio::timer::sleep(Duration::from_millis(ms.max(1))).await;
            match self.config.runtime.sync() {
                SyncPolicy::Everysec => self.sync_wal_in_background().await,
                _ => self.flush_wal(),
            }
        }
    }
}
