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
use std::collections::{HashMap, VecDeque};

/// Identifies one multi-shard operation (unique per process run).
pub type TxId = u64;

/// A key of a logical database: (db index, user key).
pub type DbKey = (u8, Vec<u8>);

enum Waiter {
    /// A single command parked until the key is free.
    Job(Job),
    /// Another operation waiting to hold the key.
    Tx(TxId),
}

struct KeyLock {
    holder: TxId,
    queue: VecDeque<Waiter>,
}

struct Acquiring {
    missing: usize,
    granted: Completion,
}

/// The lock table of one shard.
#[derive(Default)]
pub struct Locks {
    keys: HashMap<DbKey, KeyLock>,
    acquiring: HashMap<TxId, Acquiring>,
}

impl Locks {
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

    /// Parks `job` until `key` (held by someone) is released.
    pub fn park(&mut self, key: &DbKey, job: Job) {
        match self.keys.get_mut(key) {
            Some(l) => l.queue.push_back(Waiter::Job(job)),
            None => unreachable!("parking on a key that is not locked"),
        }
    }

    /// Requests `keys` for `tx`. Returns `granted` back when every key was
    /// free; otherwise keeps it and returns it from a later
    /// [`release`](Self::release) once the last key is handed over.
    pub fn acquire(
        &mut self,
        tx: TxId,
        keys: Vec<DbKey>,
        granted: Completion,
    ) -> Option<Completion> {
        let mut missing = 0;
        for k in keys {
            match self.keys.get_mut(&k) {
                None => {
                    self.keys.insert(
                        k,
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
        if missing == 0 {
            return Some(granted);
        }
        self.acquiring.insert(tx, Acquiring { missing, granted });
        None
    }

    /// Releases every key `tx` holds here. Returns the parked commands that
    /// may run now (in arrival order) and the grants of operations that now
    /// hold all their keys.
    pub fn release(&mut self, tx: TxId, keys: &[DbKey]) -> (Vec<Job>, Vec<Completion>) {
        let mut jobs = Vec::new();
        let mut grants = Vec::new();
        for k in keys {
            let Some(lock) = self.keys.get_mut(k) else {
                continue;
            };
            if lock.holder != tx {
                continue;
            }
            let mut next = None;
            while let Some(w) = lock.queue.pop_front() {
                match w {
                    Waiter::Job(j) => jobs.push(j),
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
                            grants.push(a.granted);
                        }
                    }
                }
            }
        }
        (jobs, grants)
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
    fn grants_in_arrival_order_and_parks_commands() {
        let mut l = Locks::default();
        let (_, g1) = counter();
        assert!(l.acquire(1, vec![key("a"), key("b")], g1).is_some());
        assert_eq!(l.conflict(0, [b"a".as_slice()], None), Some(key("a")));
        assert_eq!(l.conflict(0, [b"a".as_slice()], Some(1)), None);
        assert_eq!(l.conflict(0, [b"c".as_slice()], None), None);
        let (n2, g2) = counter();
        assert!(l.acquire(2, vec![key("b"), key("c")], g2).is_none());
        l.park(&key("a"), Box::new(|_| Box::new(|| {})));
        let (jobs, grants) = l.release(1, &[key("a"), key("b")]);
        assert_eq!(jobs.len(), 1);
        assert_eq!(grants.len(), 1);
        grants.into_iter().for_each(|g| g());
        assert_eq!(n2.load(Ordering::SeqCst), 1);
        assert_eq!(l.len(), 2); // b and c held by 2
        let (jobs, grants) = l.release(2, &[key("b"), key("c")]);
        assert!(jobs.is_empty() && grants.is_empty());
        assert!(l.is_empty());
    }
}
