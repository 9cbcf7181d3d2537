//! Multi-shard operations: EXEC, and commands whose keys span shards.
//!
//! 1. **Acquire**: the coordinator (the connection's core) asks every shard
//!    owning one of the keys to lock them ([`begin`]); the requests are
//!    queued under the mesh sequencer so all shards see operations in one
//!    global order (see [`super::locks`]).
//! 2. **Execute**: the commands run through the normal paths. Each shard
//!    applies their writes at once (later commands read earlier ones) but
//!    without the WAL, and *captures* them into one batch per operation.
//! 3. **Commit** ([`commit`]): each shard writes its captured batch with
//!    the WAL in one atomic write and releases the locks, which lets parked
//!    commands run. When two or more shards wrote, the coordinator first
//!    stores an *intent* (every shard's batch) in its own shard and makes it
//!    durable; each shard's commit also writes a *marker*. After a crash,
//!    [`recover`] re-applies the batch of every shard whose marker is
//!    missing, so an operation is on disk on all of its shards or on none.

use super::locks::{DbKey, OnGrant, TxId};
use super::mesh::{job_for, job_then_reply, Completion, Job};
use super::routing::shard_of;
use super::Shard;
use crate::storage::group::{append_batch, BATCH_HEADER};
use crate::storage::Batch;
use crate::storage::Cf;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// Meta-CF prefix of DiskDB's own records (outside the 16 databases).
const INTERNAL: u8 = 0xff;

fn intent_key(tx: TxId) -> Vec<u8> {
    let mut k = vec![INTERNAL, b'I'];
    k.extend_from_slice(&tx.to_be_bytes());
    k
}

fn marker_key(tx: TxId) -> Vec<u8> {
    let mut k = vec![INTERNAL, b'M'];
    k.extend_from_slice(&tx.to_be_bytes());
    k
}

/// Encodes the intent: `count u32 · (shard u32 · len u32 · batch)*`.
fn encode_intent(parts: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut v = (parts.len() as u32).to_be_bytes().to_vec();
    for (s, b) in parts {
        v.extend_from_slice(&(*s as u32).to_be_bytes());
        v.extend_from_slice(&(b.len() as u32).to_be_bytes());
        v.extend_from_slice(b);
    }
    v
}

fn decode_intent(mut v: &[u8]) -> Option<Vec<(usize, Vec<u8>)>> {
    let u32_at = |v: &mut &[u8]| -> Option<u32> {
        let (h, t) = v.split_first_chunk::<4>()?;
        *v = t;
        Some(u32::from_be_bytes(*h))
    };
    let n = u32_at(&mut v)?;
    let mut parts = Vec::new();
    for _ in 0..n {
        let s = u32_at(&mut v)? as usize;
        let len = u32_at(&mut v)? as usize;
        let b = v.get(..len)?.to_vec();
        v = &v[len..];
        parts.push((s, b));
    }
    Some(parts)
}

/// One multi-shard operation in progress on a connection.
pub struct TxCtx {
    /// Its id: the holder of its locks.
    pub id: TxId,
    coordinator: Rc<Shard>,
    held: BTreeMap<usize, Vec<DbKey>>,
    /// Shards that ran work of this operation (for an abandoned operation,
    /// whose last pieces of work may not have answered yet).
    touched: RefCell<BTreeSet<usize>>,
    /// Each shard's captured writes, deposited as its work finishes.
    parts: Parts,
    done: Cell<bool>,
}

/// Captured batches per shard, filled from the shards' threads.
type Parts = Arc<Mutex<BTreeMap<usize, Vec<u8>>>>;

/// Runs work of an operation on a shard, capturing its writes and handing
/// them back to the coordinator with the reply (so commit needs no extra
/// round trip to collect them).
pub struct CaptureOn {
    /// The operation.
    pub id: TxId,
    parts: Parts,
}

impl CaptureOn {
    /// Runs `f` on `s` with its writes captured for the operation.
    pub fn run<T>(&self, s: &Shard, f: impl FnOnce() -> T) -> T {
        let out = s.with_capture(self.id, f);
        if let Some(p) = s.take_captured(self.id) {
            let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
            match parts.get_mut(&s.id) {
                Some(rep) => append_batch(rep, &p),
                None => {
                    parts.insert(s.id, p);
                }
            }
        }
        out
    }
}

impl TxCtx {
    /// Work of this operation is about to run on `shard`.
    pub fn capture_on(&self, shard: usize) -> CaptureOn {
        if !self.touched.borrow().contains(&shard) {
            self.touched.borrow_mut().insert(shard);
        }
        CaptureOn {
            id: self.id,
            parts: self.parts.clone(),
        }
    }

    fn take_parts(&self) -> BTreeMap<usize, Vec<u8>> {
        std::mem::take(&mut *self.parts.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for TxCtx {
    /// A connection dropped mid-operation (killed, closed): commit what ran
    /// and release the locks so nobody waits forever.
    fn drop(&mut self) {
        if self.done.get() {
            return;
        }
        let id = self.id;
        let mut shards: BTreeSet<usize> = self.held.keys().copied().collect();
        shards.extend(self.touched.borrow().iter().copied());
        let mut parts = self.take_parts();
        for s in shards {
            let keys = self.held.get(&s).cloned().unwrap_or_default();
            let part = parts.remove(&s);
            let job: Job = Box::new(move |sh: &Shard| sh.commit_part(id, part, false, &keys));
            self.coordinator.mesh.send(s, job);
            self.coordinator.mesh.wake(s);
        }
    }
}

impl Shard {
    /// Runs `f` with this shard's writes captured for `tx` (see the module doc).
    pub fn with_capture<T>(&self, tx: TxId, f: impl FnOnce() -> T) -> T {
        let outer = self.capturing.replace(tx);
        let out = f();
        self.capturing.set(outer);
        out
    }

    /// Applies a batch without the WAL and adds it to the captured batch of
    /// the operation being executed.
    pub(super) fn capture_write(&self, batch: Batch) -> Result<(), String> {
        self.engine.write_unlogged(&batch)?;
        let mut captured = self.captured.borrow_mut();
        let rep = captured
            .entry(self.capturing.get())
            .or_insert_with(|| vec![0; BATCH_HEADER]);
        append_batch(rep, batch.data());
        Ok(())
    }

    /// Takes the batch captured for `tx` on this shard, if it wrote.
    pub fn take_captured(&self, tx: TxId) -> Option<Vec<u8>> {
        self.captured.borrow_mut().remove(&tx)
    }

    /// Writes this shard's part of `tx` with the WAL (the captured batch,
    /// or `part` when given), with a marker when the operation has an
    /// intent, then releases the keys. Parked commands run here; the
    /// returned completion answers them once the caller made writes durable.
    pub fn commit_part(
        &self,
        tx: TxId,
        part: Option<Vec<u8>>,
        marker: bool,
        keys: &[DbKey],
    ) -> Completion {
        if let Some(rep) = part.or_else(|| self.take_captured(tx)) {
            let mut b = Batch::from_data(rep);
            self.hot.borrow_mut().record_batch(&b);
            if marker {
                b.put(Cf::Meta, &marker_key(tx), b"");
            }
            if let Err(e) = self.write(b) {
                log::error!("shard {}: commit of operation {tx} failed: {e}", self.id);
            }
        }
        self.blocked.borrow_mut().commit(tx);
        self.release_locks(tx, keys)
    }

    /// Releases `tx`'s keys and runs what was waiting for them: parked
    /// commands, then one-shot operations (which release in turn).
    pub fn release_locks(&self, tx: TxId, keys: &[DbKey]) -> Completion {
        if keys.is_empty() {
            return Box::new(|| {});
        }
        let mut done: Vec<Completion> = Vec::new();
        let mut work = vec![(tx, keys.to_vec())];
        while let Some((t, ks)) = work.pop() {
            // writes made under the locks reach RocksDB, where other cores
            // read, before the locks go
            self.write_group();
            let r = self.locks.borrow_mut().release(t, &ks);
            done.extend(r.notify);
            for job in r.jobs {
                done.push(job(self));
            }
            for (t, ks, job) in r.run {
                done.push(job(self));
                work.push((t, ks));
            }
        }
        Box::new(move || done.into_iter().for_each(|c| c()))
    }

    /// Runs `job` now if none of `keys` is held by an operation other than
    /// `me`; otherwise makes it wait its turn: a single-key job is parked on
    /// its key, a multi-key one queues for all its keys at once (so later
    /// operations cannot overtake it) and runs once it holds them.
    fn run_guarded(&self, db: u8, keys: Vec<Vec<u8>>, me: Option<TxId>, job: Job) -> Completion {
        let conflict = self
            .locks
            .borrow()
            .conflict(db, keys.iter().map(Vec::as_slice), me);
        let Some(first) = conflict else {
            return job(self);
        };
        let mut dks: Vec<DbKey> = keys.into_iter().map(|k| (db, k)).collect();
        dks.sort();
        dks.dedup();
        if dks.len() == 1 {
            self.locks.borrow_mut().park(&first, job);
            return Box::new(|| {});
        }
        let id = self.mesh.next_tx_id();
        let granted = self
            .locks
            .borrow_mut()
            .acquire(id, dks.clone(), OnGrant::Run(job));
        match granted {
            Some(OnGrant::Run(job)) => {
                let done = job(self);
                let released = self.release_locks(id, &dks);
                Box::new(move || {
                    done();
                    released();
                })
            }
            _ => Box::new(|| {}),
        }
    }

    /// Runs `apply`, which writes several batches, so that other cores
    /// cannot read this shard's data until all of them are in (see
    /// [`LockWatch::exclusive`](super::locks::LockWatch::exclusive)).
    pub fn exclusive<T>(&self, apply: impl FnOnce() -> T) -> T {
        let watch = self.locks.borrow().watch();
        watch.exclusive(|| {
            let out = apply();
            self.write_group(); // other cores read RocksDB, not the group
            out
        })
    }

    /// Wraps `job` so that it waits while one of `keys` is held by an
    /// operation other than `me` (see `run_guarded`).
    pub fn guarded(db: u8, keys: Vec<Vec<u8>>, me: Option<TxId>, job: Job) -> Job {
        Box::new(move |s: &Shard| s.run_guarded(db, keys, me, job))
    }

    /// Runs `f` now unless one of `keys` is held by another operation; then
    /// it waits its turn and its reply comes as a future.
    pub fn run_or_park<T, F>(
        &self,
        db: u8,
        keys: Vec<Vec<u8>>,
        me: Option<TxId>,
        f: F,
    ) -> Result<T, Pin<Box<dyn Future<Output = T>>>>
    where
        T: Send + 'static,
        F: FnOnce(&Shard) -> T + Send + 'static,
    {
        let conflict = self
            .locks
            .borrow()
            .conflict(db, keys.iter().map(Vec::as_slice), me);
        if conflict.is_none() {
            return Ok(f(self));
        }
        let (job, reply) = job_for(f);
        // runs when its turn comes, inside another operation's release,
        // whose caller makes the writes durable before answering
        let done = self.run_guarded(db, keys, me, job);
        done();
        Err(Box::pin(reply))
    }
}

/// Groups keys by owning shard, without duplicates.
fn by_shard(keys: Vec<DbKey>, n: usize) -> BTreeMap<usize, Vec<DbKey>> {
    let mut held: BTreeMap<usize, Vec<DbKey>> = BTreeMap::new();
    for k in keys {
        let owned = held.entry(shard_of(&k.1, n)).or_default();
        if !owned.contains(&k) {
            owned.push(k);
        }
    }
    held
}

/// Locks `keys` on their shards for a new operation coordinated by `shard`
/// and waits until all are held.
pub async fn begin(shard: &Rc<Shard>, keys: Vec<DbKey>) -> TxCtx {
    let mesh = shard.mesh.clone();
    let id = mesh.next_tx_id();
    let held = by_shard(keys, mesh.len());
    let ctx = TxCtx {
        id,
        coordinator: shard.clone(),
        held,
        touched: RefCell::default(),
        parts: Parts::default(),
        done: Cell::new(false),
    };
    // Fast path: everything local and free. Taking all keys at once never
    // waits, so it cannot take part in a deadlock.
    if ctx.held.len() == 1 {
        if let Some(keys) = ctx.held.get(&shard.id) {
            let free = keys.iter().all(|(db, k)| {
                shard
                    .locks
                    .borrow()
                    .conflict(*db, [k.as_slice()], None)
                    .is_none()
            });
            if free {
                let granted = shard.locks.borrow_mut().acquire(
                    id,
                    keys.clone(),
                    OnGrant::Notify(Box::new(|| {})),
                );
                debug_assert!(granted.is_some());
                return ctx;
            }
        }
    }
    let mut waits = Vec::new();
    {
        let _order = mesh.sequencer.lock().unwrap_or_else(|p| p.into_inner());
        for (&s, keys) in &ctx.held {
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let keys = keys.clone();
            let job: Job = Box::new(move |sh: &Shard| {
                let granted: Completion = Box::new(move || {
                    let _ = tx.send(());
                });
                match sh
                    .locks
                    .borrow_mut()
                    .acquire(id, keys, OnGrant::Notify(granted))
                {
                    Some(OnGrant::Notify(now)) => now,
                    _ => Box::new(|| {}),
                }
            });
            mesh.send(s, job);
            waits.push(rx);
        }
    }
    for &s in ctx.held.keys() {
        mesh.wake(s);
    }
    for w in waits {
        let _ = w.await;
    }
    ctx
}

/// Starts `f` on shard `s` now (inline when local), durably, and returns a
/// future of its result. What `f` leaves to do once its writes are durable
/// (replies to the commands that waited for the released keys) runs on
/// `s` itself, so a coordinator dropped while it waits (CLIENT KILL) loses
/// none of it: other connections' replies must never depend on it.
fn on<T, F>(coordinator: &Rc<Shard>, s: usize, f: F) -> Pin<Box<dyn Future<Output = T>>>
where
    T: Send + 'static,
    F: FnOnce(&Shard) -> (T, Completion) + Send + 'static,
{
    if s == coordinator.id {
        let (out, done) = f(coordinator);
        coordinator.make_durable_now();
        done();
        return Box::pin(std::future::ready(out));
    }
    let (job, reply) = job_then_reply(f);
    coordinator.mesh.send(s, job);
    coordinator.mesh.wake(s);
    Box::pin(reply)
}

/// Fault injection for the recovery test: with the environment variable
/// `DISKDB_TEST_CRASH_MID_COMMIT=1`, the process aborts after the first
/// shard of an operation with an intent has committed.
fn crash_for_test() -> bool {
    static CRASH: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CRASH
        .get_or_init(|| std::env::var_os("DISKDB_TEST_CRASH_MID_COMMIT").is_some_and(|v| v == "1"))
}

/// Makes `ctx`'s writes durable on all its shards, atomically, and releases
/// its locks.
pub async fn commit(ctx: &TxCtx) {
    ctx.done.set(true);
    let coord = ctx.coordinator.clone();
    let id = ctx.id;
    // every piece of work has answered, so its writes are in `parts`: only
    // shards holding keys or with a part need a commit message
    let mut parts = ctx.take_parts();
    let mut shards: BTreeSet<usize> = ctx.held.keys().copied().collect();
    shards.extend(parts.keys().copied());
    let intent = parts.len() >= 2;
    if intent {
        let list: Vec<(usize, Vec<u8>)> = parts.iter().map(|(s, b)| (*s, b.clone())).collect();
        let mut b = Batch::default();
        b.put(Cf::Meta, &intent_key(id), &encode_intent(&list));
        if let Err(e) = coord.write(b) {
            log::error!(
                "shard {}: cannot store intent of operation {id}: {e}",
                coord.id
            );
        }
        coord.make_durable_now();
    }
    // every shard's commit is sent before any is awaited: a coordinator
    // dropped while it waits still commits and releases the keys
    // everywhere (the fault injection sends only the first)
    let sent = if intent && crash_for_test() {
        1
    } else {
        shards.len()
    };
    let commits: Vec<_> = shards
        .iter()
        .take(sent)
        .map(|&s| {
            let keys = ctx.held.get(&s).cloned().unwrap_or_default();
            let part = parts.remove(&s);
            let f = move |sh: &Shard| ((), sh.commit_part(id, part, intent, &keys));
            on(&coord, s, f)
        })
        .collect();
    for (i, c) in commits.into_iter().enumerate() {
        c.await;
        if intent && i == 0 && crash_for_test() {
            log::error!("DISKDB_TEST_CRASH_MID_COMMIT: aborting after the first shard's commit");
            std::process::abort();
        }
    }
    if intent {
        let mut b = Batch::default();
        b.delete(Cf::Meta, &intent_key(id));
        if let Err(e) = coord.write(b) {
            log::error!(
                "shard {}: cannot drop intent of operation {id}: {e}",
                coord.id
            );
        }
        coord.make_durable_now();
        for &s in &shards {
            drop(coord.mesh.call(s, move |sh: &Shard| sh.forget_marker(id)));
        }
    }
}

impl Shard {
    fn forget_marker(&self, tx: TxId) {
        let mut b = Batch::default();
        b.delete(Cf::Meta, &marker_key(tx));
        let _ = self.write(b);
    }

    fn has_marker(&self, tx: TxId) -> bool {
        matches!(self.engine.get(Cf::Meta, &marker_key(tx)), Ok(Some(_)))
    }

    /// Keys of this shard's internal records with prefix `kind`.
    fn internal_records(&self, kind: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
        let e = &self.engine;
        let mut opts = rocksdb::ReadOptions::default();
        opts.set_iterate_lower_bound(vec![INTERNAL, kind]);
        opts.set_iterate_upper_bound(vec![INTERNAL, kind + 1]);
        let mut it = e.db().raw_iterator_cf_opt(e.cf(Cf::Meta), opts);
        it.seek_to_first();
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            out.push((k.to_vec(), v.to_vec()));
            it.next();
        }
        out
    }

    /// Drops every commit marker (after all intents were recovered).
    pub fn drop_markers(&self) {
        let markers = self.internal_records(b'M');
        if markers.is_empty() {
            return;
        }
        let mut b = Batch::default();
        for (k, _) in &markers {
            b.delete(Cf::Meta, k);
        }
        let _ = self.write(b);
        self.make_durable_now();
    }
}

/// Finishes the operations whose intent this shard holds: every shard
/// without the operation's marker gets its part written. Runs at startup
/// once every shard serves its inbox, before clients are accepted.
pub async fn recover(shard: &Rc<Shard>) {
    let intents = shard.internal_records(b'I');
    for (k, v) in intents {
        let tx = u64::from_be_bytes(k[2..10].try_into().unwrap_or_default());
        let Some(parts) = decode_intent(&v) else {
            log::error!(
                "shard {}: unreadable intent of operation {tx} in {}; skipped",
                shard.id,
                shard.engine.path().display()
            );
            continue;
        };
        let mut applied = 0;
        for (s, part) in parts {
            if s >= shard.shard_count() {
                continue;
            }
            let f = move |sh: &Shard| {
                if sh.has_marker(tx) {
                    return (false, Box::new(|| {}) as Completion);
                }
                // the part was staged in no hot cache (commit_part records
                // its keys as written, but cached entries may be stale)
                sh.hot.borrow_mut().clear();
                (true, sh.commit_part(tx, Some(part), true, &[]))
            };
            applied += on(shard, s, f).await as usize;
        }
        log::info!(
            "shard {}: recovered multi-shard operation {tx} ({applied} shard parts re-applied)",
            shard.id
        );
        let mut b = Batch::default();
        b.delete(Cf::Meta, &k);
        let _ = shard.write(b);
        shard.make_durable_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_round_trips() {
        let parts = vec![(0, vec![1, 2, 3]), (3, vec![]), (1, vec![9; 300])];
        assert_eq!(decode_intent(&encode_intent(&parts)), Some(parts));
        assert_eq!(decode_intent(&[0, 0, 0, 2, 0]), None);
    }
}
