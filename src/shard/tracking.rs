//! Server-assisted client-side caching (CLIENT TRACKING), process-wide like
//! Pub/Sub: which clients may hold which keys, and the invalidation
//! messages sent when those keys change.
//!
//! - Default mode: a read-only command of a tracking client remembers its
//!   keys (`remember`, before it runs, so no write after it is missed);
//!   the next write of such a key sends each of those clients one
//!   invalidation and forgets them. Keys are names, whatever the database,
//!   as in Redis.
//! - BCAST mode: every written key starting with one of the client's
//!   prefixes (any key without prefixes) is sent, as it is written.
//! - The message goes to the client itself as a RESP3 push, or with
//!   REDIRECT to the connection named, as a push if that one speaks RESP3,
//!   or as a `__redis__:invalidate` message if it is subscribed there.
//!   (A RESP2 client without REDIRECT gets nothing, as in Redis; a RESP3
//!   target that neither tracks nor subscribes has no queue here and gets
//!   nothing either.)
//!
//! Writes call [`Tracking::invalidate`] from `Shard::touched`, on the
//! owning core, when the write is staged; with no tracking client that is
//! one atomic load.

use super::pubsub::Outbox;
use crate::config::Config;
use crate::server::client::TRACKING_BROKEN;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A client's CLIENT TRACKING ON options.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mode {
    /// Client id the messages go to (0: the client itself).
    pub redirect: u64,
    /// BCAST: every key under `prefixes`, not the keys read.
    pub bcast: bool,
    /// BCAST prefixes (none: every key).
    pub prefixes: Vec<Vec<u8>>,
    /// OPTIN: only reads after CLIENT CACHING YES are tracked.
    pub optin: bool,
    /// OPTOUT: reads after CLIENT CACHING NO are not tracked.
    pub optout: bool,
    /// NOLOOP: no messages about the client's own writes.
    pub noloop: bool,
}

/// A tracking client: its options and its message queue.
struct Tracker {
    mode: Mode,
    outbox: Arc<Outbox>,
    /// The REDIRECT target went away (TRACKINGINFO's `broken_redirect`).
    broken: bool,
}

#[derive(Default)]
struct Inner {
    /// Closed connections some tracking client redirects to.
    gone: std::collections::HashSet<u64>,
    /// Key → ids of the clients that may cache it (default mode).
    keys: HashMap<Vec<u8>, Vec<u64>>,
    trackers: HashMap<u64, Tracker>,
    /// Message queues of connections that have one (subscribers and
    /// tracking clients), for REDIRECT.
    outboxes: HashMap<u64, Weak<Outbox>>,
}

/// The tracking table of the process.
pub struct Tracking {
    config: Arc<Config>,
    /// Tracking clients: writes skip the lock while it is 0.
    active: AtomicUsize,
    inner: Mutex<Inner>,
}

/// A key list as RESP: one key, or null ("every key", after a flush) in
/// the tracking client's protocol.
enum Keys<'a> {
    One(&'a [u8]),
    All { resp: u8 },
}

impl Keys<'_> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Keys::One(k) => {
                let _ = write!(out, "*1\r\n${}\r\n", k.len());
                out.extend_from_slice(k);
                out.extend_from_slice(b"\r\n");
            }
            Keys::All { resp } if *resp >= 3 => out.extend_from_slice(b"_\r\n"),
            Keys::All { .. } => out.extend_from_slice(b"$-1\r\n"),
        }
    }
}

impl Tracking {
    /// An empty table; message queues obey `config`'s output limits.
    pub fn new(config: Arc<Config>) -> Tracking {
        Tracking {
            config,
            active: AtomicUsize::new(0),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Whether any client tracks (writes check this first).
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }

    /// Number of tracking clients (INFO's `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Keys in the table (INFO's `tracking_total_keys`).
    pub fn total_keys(&self) -> usize {
        self.inner.lock().unwrap().keys.len()
    }

    /// Records that connection `id` writes messages out of `outbox`.
    pub fn register_outbox(&self, id: u64, outbox: &Arc<Outbox>) {
        let mut inner = self.inner.lock().unwrap();
        inner.outboxes.insert(id, Arc::downgrade(outbox));
    }

    /// Turns tracking on (or changes its options) for client `id`.
    pub fn enable(&self, id: u64, mode: Mode, outbox: Arc<Outbox>) {
        let mut inner = self.inner.lock().unwrap();
        inner.outboxes.insert(id, Arc::downgrade(&outbox));
        let old = inner.trackers.insert(
            id,
            Tracker {
                mode,
                outbox,
                broken: false,
            },
        );
        if old.is_none() {
            self.active.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Turns tracking off for client `id` (its keys leave the table lazily).
    pub fn disable(&self, id: u64) {
        if self.inner.lock().unwrap().trackers.remove(&id).is_some() {
            self.active.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Connection `id` closed: tracking off; clients redirecting to it
    /// learn that their redirection broke when a message is next due.
    pub fn forget(&self, id: u64) {
        self.disable(id);
        let mut inner = self.inner.lock().unwrap();
        inner.outboxes.remove(&id);
        if inner.trackers.values().any(|t| t.mode.redirect == id) {
            inner.gone.insert(id);
        }
    }

    /// Whether client `id`'s REDIRECT target went away.
    pub fn broken(&self, id: u64) -> bool {
        let inner = self.inner.lock().unwrap();
        inner.trackers.get(&id).is_some_and(|t| t.broken)
    }

    /// Remembers that client `id` may cache `keys` (default mode).
    pub fn remember(&self, id: u64, keys: impl IntoIterator<Item = Vec<u8>>) {
        let mut inner = self.inner.lock().unwrap();
        for key in keys {
            let ids = inner.keys.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }

    /// `key` was written (by client `writer`, 0 for none): tells the
    /// clients that read it, and the BCAST clients whose prefixes it has.
    pub fn invalidate(&self, key: &[u8], writer: u64) {
        let mut inner = self.inner.lock().unwrap();
        let readers = inner.keys.remove(key).unwrap_or_default();
        let inner = &mut *inner;
        for (&id, t) in inner.trackers.iter_mut() {
            let wants = match t.mode.bcast {
                false => readers.contains(&id),
                true => t.mode.prefixes.iter().any(|p| key.starts_with(p)),
            };
            if wants && !(t.mode.noloop && id == writer) {
                let own = id == writer;
                self.send(t, own, &inner.outboxes, &inner.gone, Keys::One(key));
            }
        }
    }

    /// FLUSHDB/FLUSHALL by client `writer`: every tracking client is told
    /// that every key may have changed, and the table is emptied.
    pub fn flush(&self, writer: u64) {
        if !self.active() {
            return;
        }
        let mut inner = self.inner.lock().unwrap();
        inner.keys.clear();
        let inner = &mut *inner;
        for (&id, t) in inner.trackers.iter_mut() {
            let keys = Keys::All {
                resp: t.outbox.resp(),
            };
            self.send(t, id == writer, &inner.outboxes, &inner.gone, keys);
        }
    }

    /// Queues one invalidation for tracking client `t` (after the reply of
    /// its command when it wrote the key itself: `own`).
    fn send(
        &self,
        t: &mut Tracker,
        own: bool,
        outboxes: &HashMap<u64, Weak<Outbox>>,
        gone: &std::collections::HashSet<u64>,
        keys: Keys,
    ) {
        let mut frame = Vec::with_capacity(64);
        if t.mode.redirect == 0 {
            if t.outbox.resp() < 3 {
                return;
            }
            frame.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
            keys.encode(&mut frame);
            t.outbox.push_frame(&self.config, &frame, own);
            return;
        }
        if gone.contains(&t.mode.redirect) {
            t.broken = true;
            let handle = t.outbox.client();
            handle.tracking.fetch_or(TRACKING_BROKEN, Ordering::Relaxed);
            if t.outbox.resp() >= 3 {
                let _ = write!(
                    frame,
                    ">2\r\n$21\r\ntracking-redir-broken\r\n:{}\r\n",
                    t.mode.redirect
                );
                t.outbox.push_frame(&self.config, &frame, own);
            }
            return;
        }
        let Some(target) = outboxes.get(&t.mode.redirect).and_then(Weak::upgrade) else {
            return;
        };
        if target.resp() >= 3 {
            frame.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
        } else if target.in_subscribe_mode() {
            frame.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
        } else {
            return;
        }
        keys.encode(&mut frame);
        target.push_frame(&self.config, &frame, false);
    }
}
