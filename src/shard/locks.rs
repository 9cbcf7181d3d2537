//! Key locks of one shard, for work that spans several shards (EXEC, and
//! MSET/RENAME/SMOVE/… whose keys live on several shards).
//!
//! A multi-shard operation first acquires its keys on every shard it
//! touches. Acquire requests are queued into the shards' inboxes under the
//! mesh's sequencer, so every shard sees them in the same global order and
//! each key grants its lock first-come first-served: two operations can
//! never wait for each other in a cycle. While a key is held, any other
//! command on it is parked behind the lock (in arrival order) and runs when
//! the holder releases it, so no client observes half of an operation.

use super::mesh::{Completion, Job};
use crate::storage::engine::HOLD_FLAGS;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Identifies one multi-shard operation (unique per process run).
pub type TxId = u64;

/// A key of a logical database: (db index, user key).
pub type DbKey = (u8, Vec<u8>);

enum Waiter {
    /// A single-key command parked until the key is free; it runs when it
    /// reaches the front, before the key passes to a later operation.
    Job(Job),
    /// An operation waiting to hold the key.
    Tx(TxId),
}

struct KeyLock {
    holder: TxId,
    queue: VecDeque<Waiter>,
}

/// What happens once an operation holds all its keys on this shard.
pub enum OnGrant {
    /// Tell the coordinator (it runs the operation, then releases).
    Notify(Completion),
    /// Run this job at once, then release the keys: a multi-key command
    /// confined to this shard.
    Run(Job),
}

struct Acquiring {
    missing: usize,
    keys: Vec<DbKey>,
    on_grant: OnGrant,
}

/// What a release frees.
#[derive(Default)]
pub struct Released {
    /// Parked single-key commands to run now, in arrival order.
    pub jobs: Vec<Job>,
    /// Coordinators to tell that they now hold all their keys.
    pub notify: Vec<Completion>,
    /// One-shot operations to run now, then release (id, keys, job).
    pub run: Vec<(TxId, Vec<DbKey>, Job)>,
}

/// What other cores can see of a shard's lock table: whether any key is
/// held (or the shard is applying several writes that must look like one),
/// and a counter that moves on every change. A read of the shard's data
/// from another core is valid when nothing was held and the counter did
/// not move around it (see [`LockWatch::unlocked_during`]).
#[derive(Default)]
pub struct LockWatch {
    held: AtomicUsize,
    /// Open [`exclusive`](LockWatch::exclusive) sections.
    exclusive: AtomicUsize,
    changes: AtomicU64,
    /// Non-zero while the shard has writes joined into its group and not
    /// yet in RocksDB (`Engine::join`), or published an effect of a batch
    /// not written yet (`Engine::hold_peer_reads`): a reader could see
    /// effects the shard's commands had elsewhere (another shard's write,
    /// a published message, a keyspace event) without the writes that came
    /// before them. Also while the shard's hot-key cache shows entries not
    /// in RocksDB (`storage::hot`), which a read would see ahead of disk.
    hold: Arc<AtomicU64>,
}

impl LockWatch {
    /// Runs `read` and returns its result if no key was locked on the shard
    /// at any time during it; `None` means: ask the shard instead.
    pub fn unlocked_during<T>(&self, read: impl FnOnce() -> T) -> Option<T> {
        let before = self.changes.load(Ordering::SeqCst);
        let hold = self.hold.load(Ordering::SeqCst);
        if self.held.load(Ordering::SeqCst) != 0
            || self.exclusive.load(Ordering::SeqCst) != 0
            || hold & HOLD_FLAGS != 0
        {
            return None;
        }
        let out = read();
        // the hold is checked again, counter included: the shard's hot-key
        // cache, which the read may use, shows staged entries before their
        // batch is written (`storage::hot`), and the hold counts each time
        // that began
        (self.changes.load(Ordering::SeqCst) == before && self.hold.load(Ordering::SeqCst) == hold)
            .then_some(out)
    }

    /// Runs `apply` (on the shard's thread) with reads from other cores
    /// refused, as if every key were locked: for work that writes several
    /// batches which must appear at once (a transaction run as one job).
    pub fn exclusive<T>(&self, apply: impl FnOnce() -> T) -> T {
        /// Ends the section even if `apply` unwinds.
        struct Section<'a>(&'a LockWatch);
        impl Drop for Section<'_> {
            fn drop(&mut self) {
                self.0.changes.fetch_add(1, Ordering::SeqCst);
                self.0.exclusive.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.exclusive.fetch_add(1, Ordering::SeqCst);
        self.changes.fetch_add(1, Ordering::SeqCst);
        let _section = Section(self);
        apply()
    }

    /// Publishes a change: `held` first, so a reader that sees the new
    /// count of changes also sees the keys held (locks are taken before
    /// the writes they guard and released after them).
    fn changed(&self, held: usize) {
        self.held.store(held, Ordering::SeqCst);
        self.changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// The lock table of one shard.
#[derive(Default)]
pub struct Locks {
    keys: HashMap<DbKey, KeyLock>,
    acquiring: HashMap<TxId, Acquiring>,
    watch: Arc<LockWatch>,
}

impl Locks {
    /// An empty table whose watch also refuses reads while `hold` is
    /// non-zero (the engine's `peer_hold`).
    pub fn with_peer_hold(hold: Arc<AtomicU64>) -> Locks {
        Locks {
            watch: Arc::new(LockWatch {
                hold,
                ..LockWatch::default()
            }),
            ..Locks::default()
        }
    }

    /// The view of this table that other cores read.
    pub fn watch(&self) -> Arc<LockWatch> {
        self.watch.clone()
    }

    /// Whether no key is locked (the fast path: nothing to check).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of keys currently held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The first of `keys` held by an operation other than `me`.
    pub fn conflict<'k>(
        &self,
        db: u8,
        keys: impl IntoIterator<Item = &'k [u8]>,
        me: Option<TxId>,
    ) -> Option<DbKey> {
        if self.keys.is_empty() {
            return None;
        }
        keys.into_iter().find_map(|k| {
            let dk = (db, k.to_vec());
            match self.keys.get(&dk) {
                Some(l) if Some(l.holder) != me => Some(dk),
                _ => None,
            }
        })
    }

    /// Parks a single-key `job` until `key` (held by someone) is released.
    pub fn park(&mut self, key: &DbKey, job: Job) {
        match self.keys.get_mut(key) {
            Some(l) => l.queue.push_back(Waiter::Job(job)),
            None => unreachable!("parking on a key that is not locked"),
        }
    }

    /// Requests `keys` for `tx`. Returns `on_grant` back when every key was
    /// free; otherwise keeps it and hands it out from a later
    /// [`release`](Self::release) once the last key passes to `tx`.
    pub fn acquire(&mut self, tx: TxId, keys: Vec<DbKey>, on_grant: OnGrant) -> Option<OnGrant> {
        let mut missing = 0;
        for k in &keys {
            match self.keys.get_mut(k) {
                None => {
                    self.keys.insert(
                        k.clone(),
                        KeyLock {
                            holder: tx,
                            queue: VecDeque::new(),
                        },
                    );
                }
                Some(l) if l.holder == tx => {}
                Some(l) => {
                    if !l
                        .queue
                        .iter()
                        .any(|w| matches!(w, Waiter::Tx(t) if *t == tx))
                    {
                        l.queue.push_back(Waiter::Tx(tx));
                        missing += 1;
                    }
                }
            }
        }
        self.watch.changed(self.keys.len());
        if missing == 0 {
            return Some(on_grant);
        }
        self.acquiring.insert(
            tx,
            Acquiring {
                missing,
                keys,
                on_grant,
            },
        );
        None
    }

    /// Releases every key `tx` holds here: parked commands at the front of
    /// each key's queue run next, then the key passes to the next operation.
    /// Keys `tx` still waits for are given up (an operation whose
    /// connection was killed while it acquired them must never be granted
    /// them later).
    pub fn release(&mut self, tx: TxId, keys: &[DbKey]) -> Released {
        let mut out = Released::default();
        self.acquiring.remove(&tx);
        for k in keys {
            let Some(lock) = self.keys.get_mut(k) else {
                continue;
            };
            if lock.holder != tx {
                lock.queue
                    .retain(|w| !matches!(w, Waiter::Tx(t) if *t == tx));
                continue;
            }
            let mut next = None;
            while let Some(w) = lock.queue.pop_front() {
                match w {
                    Waiter::Job(j) => out.jobs.push(j),
                    Waiter::Tx(t) => {
                        next = Some(t);
                        break;
                    }
                }
            }
            match next {
                None => {
                    self.keys.remove(k);
                }
                Some(t) => {
                    lock.holder = t;
                    if let Some(a) = self.acquiring.get_mut(&t) {
                        a.missing -= 1;
                        if a.missing == 0 {
                            let a = self.acquiring.remove(&t).expect("present");
                            match a.on_grant {
                                OnGrant::Notify(c) => out.notify.push(c),
                                OnGrant::Run(j) => out.run.push((t, a.keys, j)),
                            }
                        }
                    }
                }
            }
        }
        self.watch.changed(self.keys.len());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn key(k: &str) -> DbKey {
        (0, k.as_bytes().to_vec())
    }

    fn counter() -> (Arc<AtomicUsize>, Completion) {
        let c = Arc::new(AtomicUsize::new(0));
        let c2 = c.clone();
        (
            c,
            Box::new(move || {
                c2.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn reads_from_other_cores_stand_only_while_no_key_is_held() {
        let mut l = Locks::default();
        let w = l.watch();
        assert_eq!(w.unlocked_during(|| 1), Some(1));
        let (_, g) = counter();
        assert!(l.acquire(7, vec![key("a")], OnGrant::Notify(g)).is_some());
        assert_eq!(w.unlocked_during(|| 2), None, "a key is held");
        l.release(7, &[key("a")]);
        assert_eq!(w.unlocked_during(|| 3), Some(3));
        // a lock taken (and even released again) while the read runs
        let read = w.unlocked_during(|| {
            let (_, g) = counter();
            l.acquire(8, vec![key("b")], OnGrant::Notify(g));
            l.release(8, &[key("b")]);
        });
        assert_eq!(read, None, "the table changed during the read");
        assert_eq!(w.unlocked_during(|| 4), Some(4));
    }

    #[test]
    fn exclusive_sections_refuse_reads_and_end_even_on_panic() {
        let w = Locks::default().watch();
        let inside = w.exclusive(|| w.unlocked_during(|| 1));
        assert_eq!(inside, None, "a read during the section");
        let across = w.unlocked_during(|| w.exclusive(|| 2));
        assert_eq!(across, None, "a section during the read");
        assert_eq!(w.unlocked_during(|| 3), Some(3));
        let w2 = w.clone();
        let panicked = std::panic::catch_unwind(move || w2.exclusive(|| panic!("in a section")));
        assert!(panicked.is_err());
        assert_eq!(w.unlocked_during(|| 4), Some(4), "the section ended");
    }

    #[test]
    fn reads_stand_only_if_the_hold_stayed_down_and_unchanged() {
        use crate::storage::engine::{raise_cache_hold, UNWRITTEN_CACHE, UNWRITTEN_GROUP};
        let hold = Arc::new(AtomicU64::new(0));
        let w = Locks::with_peer_hold(hold.clone()).watch();
        assert_eq!(w.unlocked_during(|| 1), Some(1));
        hold.fetch_or(UNWRITTEN_GROUP, Ordering::SeqCst);
        assert_eq!(w.unlocked_during(|| 2), None, "joined writes wait");
        hold.fetch_and(!UNWRITTEN_GROUP, Ordering::SeqCst);
        // staged cache entries written again before the read ends: the
        // read may have seen one that was replaced or dropped meanwhile
        let read = w.unlocked_during(|| {
            raise_cache_hold(&hold);
            hold.fetch_and(!UNWRITTEN_CACHE, Ordering::SeqCst);
        });
        assert_eq!(
            read, None,
            "the cache held unwritten entries during the read"
        );
        assert_eq!(w.unlocked_during(|| 3), Some(3));
    }

    #[test]
    fn grants_in_arrival_order_and_parks_commands() {
        let mut l = Locks::default();
        let (_, g1) = counter();
        assert!(l
            .acquire(1, vec![key("a"), key("b")], OnGrant::Notify(g1))
            .is_some());
        assert_eq!(l.conflict(0, [b"a".as_slice()], None), Some(key("a")));
        assert_eq!(l.conflict(0, [b"a".as_slice()], Some(1)), None);
        assert_eq!(l.conflict(0, [b"c".as_slice()], None), None);
        let (n2, g2) = counter();
        assert!(l
            .acquire(2, vec![key("b"), key("c")], OnGrant::Notify(g2))
            .is_none());
        l.park(&key("a"), Box::new(|_| Box::new(|| {})));
        assert!(l
            .acquire(
                3,
                vec![key("c")],
                OnGrant::Run(Box::new(|_| Box::new(|| {})))
            )
            .is_none());
        let r = l.release(1, &[key("a"), key("b")]);
        assert_eq!(r.jobs.len(), 1);
        assert_eq!(r.notify.len(), 1);
        r.notify.into_iter().for_each(|g| g());
        assert_eq!(n2.load(Ordering::SeqCst), 1);
        assert_eq!(l.len(), 2); // b and c held by 2
        let r = l.release(2, &[key("b"), key("c")]);
        assert!(r.jobs.is_empty() && r.notify.is_empty());
        assert_eq!(r.run.len(), 1, "c passes to the one-shot 3");
        let r = l.release(3, &[key("c")]);
        assert!(r.run.is_empty());
        assert!(l.is_empty());
    }
}
