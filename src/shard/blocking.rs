//! Clients blocked on keys of this shard (BLPOP, BLMOVE, BLMPOP, and the
//! sorted-set family's BZPOPMIN, BZPOPMAX, BZMPOP).
//!
//! # Using it for a new blocking command
//!
//! 1. Parse the timeout with [`parse_timeout`], then try the command
//!    without blocking (keys in argument order, with the usual errors).
//! 2. If no key could serve it, describe what serving means by
//!    implementing [`Serve`] (a `ready` check and a `serve` write), and call
//!    [`block_on_keys`] from the command's coordinator:
//!
//!    ```ignore
//!    struct ZPop { max: bool }
//!    impl Serve<Reply> for ZPop {
//!        fn ready(&self, db: &Db, key: &[u8]) -> bool { /* a non-empty zset? */ }
//!        fn serve(&mut self, db: &Db, key: &[u8]) -> Reply { /* pop, reply */ }
//!    }
//!    let served = block_on_keys(client, keys, timeout, |_keys_of_one_shard| {
//!        Box::new(ZPop { max }) as Box<dyn Serve<Reply>>
//!    })
//!    .await;
//!    served.unwrap_or(Reply::NilArray) // None: the timeout passed
//!    ```
//!
//!    It registers one waiter on every shard owning some of the keys, all
//!    sharing one [`Ticket`], so exactly one shard serves the client; the
//!    others are cancelled. A registration first checks its keys, so a
//!    write that lands between step 1 and the registration is not missed.
//!    Dropping the future (connection closed or killed) cancels it too.
//! 3. Every write that can make a key able to serve a waiter calls
//!    [`wake`]`(db, key)` on the owning shard, *after* its batch is written
//!    (ZADD, ZINCRBY, the *STORE commands…; lists do it in
//!    `data_types::list::List::commit`). It costs one hash lookup when
//!    nobody waits on the key.
//!
//! Waiters on a key are served in the order they blocked. Serving happens
//! synchronously at the end of the waking write, so the served client sees
//! the state right after that command, as in Redis. Results are handed over
//! only once the shard has made the serving writes as durable as the sync
//! policy promises.
//!
//! A client whose ticket was claimed by a serving shard at the very moment
//! its connection went away loses the served value (Redis has the same
//! window for a reply in flight to a dying client).

use crate::commands::on_shard;
use crate::data_types::Db;
use crate::protocol::Reply;
use crate::server::client::{Client, Unblock};
use crate::shard::mesh::Mesh;
use crate::shard::routing::shard_of;
use crate::shard::Shard;
use crate::util::num::parse_f64;
use futures_channel::oneshot;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Timeouts longer than this (about 30 years) wait forever.
const FOREVER_MS: u64 = 1 << 40;

/// Parses a blocking timeout in seconds as Redis 7.0 does: a float,
/// rounded up to whole milliseconds; 0 waits forever (`None`).
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, Reply> {
    let secs =
        parse_f64(arg).ok_or_else(|| Reply::err("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    // Redis converts with a C cast: values that do not fit turn negative.
    if !(ms > -9.2e18 && ms < 9.2e18) || ms < 0.0 {
        return Err(Reply::err("ERR timeout is negative"));
    }
    let ms = ms as u64;
    Ok((ms != 0 && ms < FOREVER_MS).then(|| Duration::from_millis(ms)))
}

/// What a blocked command does once one of its keys may serve it. One
/// instance is registered per shard; it runs on that shard.
pub trait Serve<T>: Send {
    /// Whether `key` (in `db`) can serve the command now. Must not write.
    fn ready(&self, db: &Db, key: &[u8]) -> bool;
    /// Serves the command from `key`, which `ready` just accepted: does the
    /// writes (one batch) and returns what the blocked client receives.
    fn serve(&mut self, db: &Db, key: &[u8]) -> T;
}

/// One blocked command, shared by its registrations on every shard: the
/// first to claim it serves it (or the client, to give up).
pub struct Ticket<T> {
    id: u64,
    claimed: AtomicBool,
    tx: Mutex<Option<oneshot::Sender<T>>>,
}

impl<T> Ticket<T> {
    /// A new unclaimed ticket and the receiver of its result.
    pub fn new() -> (Arc<Ticket<T>>, oneshot::Receiver<T>) {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let (tx, rx) = oneshot::channel();
        let ticket = Ticket {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            claimed: AtomicBool::new(false),
            tx: Mutex::new(Some(tx)),
        };
        (Arc::new(ticket), rx)
    }

    /// Takes the ticket; false if someone else already did.
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    /// Whether the ticket was taken.
    pub fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    fn deliver(&self, value: T) {
        if let Some(tx) = self.tx.lock().unwrap().take() {
            let _ = tx.send(value);
        }
    }
}

/// Hands a served result to its client.
type Delivery = Box<dyn FnOnce()>;

/// A registration, with the result type erased.
trait Waiter {
    fn is_claimed(&self) -> bool;
    fn ready(&self, db: &Db, key: &[u8]) -> bool;
    /// Claims the ticket and serves; `None` if the claim was lost.
    fn claim_and_serve(&mut self, db: &Db, key: &[u8]) -> Option<Delivery>;
}

struct Registration<T> {
    ticket: Arc<Ticket<T>>,
    op: Box<dyn Serve<T>>,
}

impl<T: Send + 'static> Waiter for Registration<T> {
    fn is_claimed(&self) -> bool {
        self.ticket.is_claimed()
    }

    fn ready(&self, db: &Db, key: &[u8]) -> bool {
        self.op.ready(db, key)
    }

    fn claim_and_serve(&mut self, db: &Db, key: &[u8]) -> Option<Delivery> {
        if !self.ticket.claim() {
            return None;
        }
        let value = self.op.serve(db, key);
        let ticket = self.ticket.clone();
        Some(Box::new(move || ticket.deliver(value)))
    }
}

struct Parked {
    db: u8,
    keys: Vec<Vec<u8>>,
    waiter: Box<dyn Waiter>,
}

/// Per-shard registry of blocked clients: a FIFO of ticket ids per
/// (db, key), and keys written since the last serving pass.
#[derive(Default)]
pub struct Blocked {
    queues: HashMap<(u8, Vec<u8>), VecDeque<u64>>,
    parked: HashMap<u64, Parked>,
    ready: VecDeque<(u8, Vec<u8>)>,
    serving: bool,
    /// Replies to clients served by a multi-shard operation's writes, held
    /// until the operation commits on this shard (by operation).
    uncommitted: HashMap<super::locks::TxId, Vec<Delivery>>,
    /// Replies of committed operations, sent at the next durability point.
    committed: Vec<Delivery>,
}

impl Blocked {
    /// The operation `tx` committed here: its held replies go out once its
    /// writes are durable ([`Shard::make_durable_now`](super::Shard::make_durable_now)).
    pub fn commit(&mut self, tx: super::locks::TxId) {
        if let Some(d) = self.uncommitted.remove(&tx) {
            self.committed.extend(d);
        }
    }

    /// Replies whose writes are now durable.
    pub fn take_committed(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.committed)
    }

    /// Number of registrations waiting on this shard.
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// Whether no client waits on this shard.
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    fn park(&mut self, id: u64, parked: Parked) {
        for key in &parked.keys {
            self.queues
                .entry((parked.db, key.clone()))
                .or_default()
                .push_back(id);
        }
        self.parked.insert(id, parked);
    }

    /// Removes a registration from every queue (no-op if unknown).
    pub fn cancel(&mut self, id: u64) {
        if let Some(p) = self.parked.remove(&id) {
            self.unqueue(id, p.db, &p.keys);
        }
    }

    fn unqueue(&mut self, id: u64, db: u8, keys: &[Vec<u8>]) {
        for key in keys {
            let slot = (db, key.clone());
            if let Some(q) = self.queues.get_mut(&slot) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.queues.remove(&slot);
                }
            }
        }
    }
}

/// Registers a blocked command on `db`'s shard for `keys` (in order). If a
/// key can serve it right away it is served now instead. Runs on the owning
/// shard; [`block_on_keys`] calls it.
pub fn register<T: Send + 'static>(
    db: &Db,
    keys: Vec<Vec<u8>>,
    ticket: Arc<Ticket<T>>,
    op: Box<dyn Serve<T>>,
) {
    let id = ticket.id;
    let mut waiter = Registration { ticket, op };
    if waiter.is_claimed() {
        return;
    }
    // the command's first try already counted its keyspace hits and misses
    let ready = db.counting_lookups(false, || keys.iter().position(|k| waiter.ready(db, k)));
    if let Some(key) = ready.map(|i| &keys[i]) {
        if let Some(deliver) = waiter.claim_and_serve(db, key) {
            db.shard.make_durable_now();
            deliver();
        }
        return;
    }
    let parked = Parked {
        db: db.index,
        keys,
        waiter: Box::new(waiter),
    };
    db.shard.blocked.borrow_mut().park(id, parked);
}

/// Signals that `key` changed in a way that may serve blocked clients, and
/// serves them (oldest first) while it can. Call it on the owning shard
/// after the write. Writes done while serving (e.g. BLMOVE's push) may wake
/// further keys; they are served in the same pass.
pub fn wake(db: &Db, key: &[u8]) {
    let shard = db.shard;
    {
        let mut b = shard.blocked.borrow_mut();
        if b.parked.is_empty() || !b.queues.contains_key(&(db.index, key.to_vec())) {
            return;
        }
        b.ready.push_back((db.index, key.to_vec()));
        if b.serving {
            return;
        }
        b.serving = true;
    }
    serve_ready(shard);
}

/// Runs `f`, holding back the blocked clients its writes wake until it has
/// returned: a command that publishes more events after its write (an
/// LMOVE across cores, the source's pop) serves them after those, as
/// Redis serves blocked clients after the command.
pub fn after<T>(db: &Db, f: impl FnOnce() -> T) -> T {
    let shard = db.shard;
    let outer = std::mem::replace(&mut shard.blocked.borrow_mut().serving, true);
    let out = f();
    if !outer {
        serve_ready(shard);
    }
    out
}

/// Serves the keys marked ready (`serving` set by the caller), then
/// delivers the replies once the writes are durable.
fn serve_ready(shard: &Shard) {
    let mut deliveries = Vec::new();
    loop {
        let next = shard.blocked.borrow_mut().ready.pop_front();
        let Some((index, key)) = next else { break };
        serve_key(&Db::new(shard, index), &key, &mut deliveries);
    }
    let tx = shard.capturing.get();
    {
        let mut b = shard.blocked.borrow_mut();
        b.serving = false;
        if tx != 0 && !deliveries.is_empty() {
            // served by an operation that has not committed: like
            // redis-server after EXEC, answer once it has
            b.uncommitted.entry(tx).or_default().append(&mut deliveries);
        }
    }
    if !deliveries.is_empty() {
        shard.make_durable_now();
        deliveries.into_iter().for_each(|d| d());
    }
}

/// Serves the waiters of one key in order, skipping those it cannot serve
/// (another type of command on the same key), until none is left.
fn serve_key(db: &Db, key: &[u8], deliveries: &mut Vec<Delivery>) {
    let slot = (db.index, key.to_vec());
    let mut i = 0;
    loop {
        let (id, mut parked) = {
            let mut b = db.shard.blocked.borrow_mut();
            let Some(&id) = b.queues.get(&slot).and_then(|q| q.get(i)) else {
                return;
            };
            match b.parked.remove(&id) {
                Some(p) => (id, p),
                None => {
                    // stale entry: drop it
                    b.unqueue(id, slot.0, std::slice::from_ref(&slot.1));
                    continue;
                }
            }
        };
        if parked.waiter.is_claimed() {
            db.shard
                .blocked
                .borrow_mut()
                .unqueue(id, parked.db, &parked.keys);
            continue;
        }
        if !parked.waiter.ready(db, key) {
            db.shard.blocked.borrow_mut().parked.insert(id, parked);
            i += 1;
            continue;
        }
        // the serving write may wake other keys: no borrow held here
        let delivery = parked.waiter.claim_and_serve(db, key);
        db.shard
            .blocked
            .borrow_mut()
            .unqueue(id, parked.db, &parked.keys);
        deliveries.extend(delivery);
    }
}

/// Cancels a ticket's registrations when the blocked command ends for any
/// reason (served, timed out, or its future dropped).
struct Cancel<T> {
    ticket: Arc<Ticket<T>>,
    mesh: Arc<Mesh>,
    shards: Vec<usize>,
}

impl<T> Drop for Cancel<T> {
    fn drop(&mut self) {
        self.ticket.claim();
        let id = self.ticket.id;
        for &s in &self.shards {
            // queued at once; nobody needs to wait for the answer
            drop(self.mesh.call(s, move |shard: &Shard| {
                shard.blocked.borrow_mut().cancel(id)
            }));
        }
    }
}

/// Blocks the client until one of `keys` serves it, or until `timeout`
/// (`None`: forever) passes, which returns `Ok(None)`, as does CLIENT
/// UNBLOCK … TIMEOUT; CLIENT UNBLOCK … ERROR returns the `UNBLOCKED` error.
/// `make` builds the [`Serve`] registered on each owning shard; it gets
/// that shard's keys. Never blocks the executor: other clients keep being
/// served.
pub async fn block_on_keys<T, F>(
    client: &Client,
    keys: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    make: F,
) -> Result<Option<T>, Reply>
where
    T: Send + 'static,
    F: Fn(&[Vec<u8>]) -> Box<dyn Serve<T>>,
{
    // inside EXEC a blocking command does not block: it answers at once
    let timeout = match client.tx {
        Some(_) => Some(Duration::ZERO),
        None => timeout,
    };
    let n = client.shard.shard_count();
    let mut per_shard: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
    for key in keys {
        let owned = per_shard.entry(shard_of(&key, n)).or_default();
        if !owned.contains(&key) {
            owned.push(key);
        }
    }
    let (ticket, rx) = Ticket::new();
    let guard = Cancel {
        ticket: ticket.clone(),
        mesh: client.mesh().clone(),
        shards: per_shard.keys().copied().collect(),
    };
    for (owner, keys) in per_shard {
        if ticket.is_claimed() {
            break;
        }
        let (op, ticket) = (make(&keys), ticket.clone());
        on_shard(client, owner, move |db| register(db, keys, ticket, op)).await;
    }
    /// Why the wait ended without a result.
    enum Ended {
        TimedOut,
        Unblocked(crate::server::client::Unblock),
    }
    let handle = client.handle.clone();
    handle.set_blocked(timeout != Some(Duration::ZERO));
    let mut rx = rx;
    let timer = async {
        match timeout {
            Some(t) => glommio::timer::sleep(t).await,
            None => std::future::pending().await,
        }
        Err(Ended::TimedOut)
    };
    let unblocked = async { Err(Ended::Unblocked(handle.wait_unblocked().await)) };
    let served = futures_lite::future::or(
        async { Ok((&mut rx).await.ok()) },
        futures_lite::future::or(timer, unblocked),
    )
    .await;
    handle.set_blocked(false);
    let out = match served {
        Ok(v) => Ok(v),
        // Ended, unless a shard claimed the ticket first: then its result
        // is on the way.
        Err(_) if !ticket.claim() => Ok(rx.await.ok()),
        Err(Ended::TimedOut) | Err(Ended::Unblocked(Unblock::Timeout)) => Ok(None),
        Err(Ended::Unblocked(Unblock::Error)) => {
            Err(Reply::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        }
    };
    drop(guard);
    out
}
