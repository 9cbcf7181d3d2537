//! Cross-shard messaging: one crossbeam-channel inbox per shard plus a waker
//! the owning executor parks on, so an idle shard sleeps and a busy one
//! drains its inbox in batches.

use super::peer::PeerView;
use super::Shard;
use atomic_waker::AtomicWaker;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;

/// What a job leaves to do once the shard has made its writes durable:
/// typically sending the reply back to the caller.
pub type Completion = Box<dyn FnOnce() + Send>;

/// Work sent to a shard: runs on its executor with its state.
pub type Job = Box<dyn FnOnce(&Shard) -> Completion + Send>;

struct Inbox {
    tx: Sender<Job>,
    rx: Receiver<Job>,
    waker: AtomicWaker,
}

/// All shards' inboxes; shared by every executor.
pub struct Mesh {
    inboxes: Vec<Inbox>,
    /// Held only while one multi-shard operation queues its lock requests,
    /// so every shard receives them in the same order (never while work runs).
    pub sequencer: Mutex<()>,
    next_tx: AtomicU64,
    /// WAL writes or fsyncs that failed, on any shard (disk full, I/O
    /// error). A connection whose turn saw this change withholds its
    /// replies: their writes may not be durable.
    pub wal_failures: AtomicU64,
    /// Shards still finishing interrupted multi-shard operations at startup.
    pub recovering: std::sync::atomic::AtomicUsize,
    /// Each shard's data as other cores may read it, set once it opened.
    peers: Vec<OnceLock<PeerView>>,
    /// Client connections each core serves (`server::handoff` reads them).
    pub connections: Vec<std::sync::atomic::AtomicUsize>,
}

impl Mesh {
    /// Creates inboxes for `shards` shards.
    pub fn new(shards: usize) -> Mesh {
        let inboxes = (0..shards)
            .map(|_| {
                let (tx, rx) = crossbeam_channel::unbounded();
                Inbox {
                    tx,
                    rx,
                    waker: AtomicWaker::new(),
                }
            })
            .collect();
        Mesh {
            inboxes,
            sequencer: Mutex::new(()),
            next_tx: AtomicU64::new(crate::util::now_ms() << 20),
            wal_failures: AtomicU64::new(0),
            recovering: std::sync::atomic::AtomicUsize::new(shards),
            peers: (0..shards).map(|_| OnceLock::new()).collect(),
            connections: (0..shards).map(|_| Default::default()).collect(),
        }
    }

    /// Publishes what other cores may read of `shard` (once, at open).
    pub fn publish_peer(&self, shard: usize, view: PeerView) {
        let _ = self.peers[shard].set(view);
    }

    /// What this core may read of `shard` without a hop, once it opened.
    pub fn peer(&self, shard: usize) -> Option<&PeerView> {
        self.peers.get(shard)?.get()
    }

    /// A fresh id for a multi-shard operation.
    pub fn next_tx_id(&self) -> u64 {
        self.next_tx.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Queues a job on `shard` without waking it.
    pub fn send(&self, shard: usize, job: Job) {
        let _ = self.inboxes[shard].tx.send(job);
    }

    /// Number of shards.
    pub fn len(&self) -> usize {
        self.inboxes.len()
    }

    /// Whether there are no shards (never true for a running server).
    pub fn is_empty(&self) -> bool {
        self.inboxes.is_empty()
    }

    /// Runs `f` on `shard` and returns its result.
    pub fn call<T, F>(&self, shard: usize, f: F) -> impl Future<Output = T> + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Shard) -> T + Send + 'static,
    {
        let reply = self.call_deferred(shard, f);
        self.wake(shard);
        reply
    }

    /// Like [`call`](Self::call) but leaves the shard asleep: the caller
    /// queues a batch of jobs and then wakes the shard once with
    /// [`wake`](Self::wake). The reply never arrives without that wake.
    pub fn call_deferred<T, F>(&self, shard: usize, f: F) -> impl Future<Output = T> + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Shard) -> T + Send + 'static,
    {
        let (job, reply) = job_for(f);
        self.send(shard, job);
        reply
    }

    /// Wakes a shard to serve its inbox.
    pub fn wake(&self, shard: usize) {
        self.inboxes[shard].waker.wake();
    }

    /// Waits for jobs addressed to `shard` and returns all that are queued.
    pub async fn recv_batch(&self, shard: usize) -> Vec<Job> {
        let inbox = &self.inboxes[shard];
        std::future::poll_fn(|cx| {
            let mut jobs = Vec::new();
            loop {
                match inbox.rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(TryRecvError::Empty) if jobs.is_empty() => {
                        inbox.waker.register(cx.waker());
                        // re-check after registering to close the race
                        match inbox.rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => return Poll::Pending,
                        }
                    }
                    Err(_) => return Poll::Ready(jobs),
                }
            }
        })
        .await
    }
}

/// Wraps `f` as a job whose result arrives through the returned future
/// (sent once the shard has made the job's writes durable).
pub fn job_for<T, F>(f: F) -> (Job, impl Future<Output = T> + 'static)
where
    T: Send + 'static,
    F: FnOnce(&Shard) -> T + Send + 'static,
{
    job_then_reply(move |s| (f(s), Box::new(|| {}) as Completion))
}

/// Like [`job_for`], for work that also leaves something to do once its
/// writes are durable (answering commands it released): the shard runs
/// that, then sends the result, so nothing depends on the caller still
/// waiting.
pub fn job_then_reply<T, F>(f: F) -> (Job, impl Future<Output = T> + 'static)
where
    T: Send + 'static,
    F: FnOnce(&Shard) -> (T, Completion) + Send + 'static,
{
    let (tx, rx) = futures_channel::oneshot::channel();
    let job: Job = Box::new(move |s| {
        let (out, done) = f(s);
        Box::new(move || {
            done();
            let _ = tx.send(out);
        })
    });
    (job, async move {
        rx.await
            .expect("shard executor stopped while a call was in flight")
    })
}
