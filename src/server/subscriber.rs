//! The connection side of Pub/Sub: a client's subscriptions, the RESP2
//! subscribe-mode restrictions, and writing messages to the socket as they
//! arrive, between (and while waiting for) commands.

use super::client::Client;
use super::tls::Stream;
use crate::commands::Command;
use crate::protocol::Reply;
use crate::shard::incr;
use crate::shard::pubsub::{confirmation, Kind, Outbox};
use futures_lite::AsyncReadExt;
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What one connection is subscribed to, and its message queue.
pub struct Subscriptions {
    /// Where publishers put this client's messages.
    pub outbox: Arc<Outbox>,
    /// Channels, patterns and shard channels, indexed by [`Kind`].
    sets: [BTreeSet<Vec<u8>>; 3],
}

impl Subscriptions {
    /// Subscriptions of every kind.
    pub fn total(&self) -> usize {
        self.sets.iter().map(BTreeSet::len).sum()
    }

    /// The count a confirmation reports: channels + patterns, or shard channels.
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.sets[2].len(),
            _ => self.sets[0].len() + self.sets[1].len(),
        }
    }
}

fn index(kind: Kind) -> usize {
    match kind {
        Kind::Channel => 0,
        Kind::Pattern => 1,
        Kind::Shard => 2,
    }
}

/// (subscribe, unsubscribe) confirmation names of a kind.
fn verbs(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Channel => ("subscribe", "unsubscribe"),
        Kind::Pattern => ("psubscribe", "punsubscribe"),
        Kind::Shard => ("ssubscribe", "sunsubscribe"),
    }
}

/// Whether the client has any subscription (it is in subscribe mode).
pub fn subscribed(c: &Client) -> bool {
    c.pubsub.as_ref().is_some_and(|s| s.total() > 0)
}

fn publish_counts(c: &Client) {
    if let Some(s) = &c.pubsub {
        for (i, set) in s.sets.iter().enumerate() {
            c.handle.subs[i].store(set.len() as u32, Ordering::Relaxed);
        }
    }
}

/// (P|S)SUBSCRIBE: one confirmation per name, with the running count.
/// The connection's message queue, made on first use (SUBSCRIBE, CLIENT
/// TRACKING) and known to the tracking table, for REDIRECT.
pub fn outbox(c: &mut Client) -> Arc<Outbox> {
    if let Some(s) = &c.pubsub {
        return s.outbox.clone();
    }
    let outbox = Outbox::new(c.handle.clone());
    c.server
        .pubsub
        .tracking
        .register_outbox(c.handle.id, &outbox);
    c.pubsub = Some(Box::new(Subscriptions {
        outbox: outbox.clone(),
        sets: Default::default(),
    }));
    outbox
}

pub fn subscribe(c: &mut Client, kind: Kind, names: &[Vec<u8>]) -> Reply {
    outbox(c);
    let subs = c.pubsub.as_mut().expect("made above");
    let mut frames = Vec::with_capacity(names.len());
    for name in names {
        if subs.sets[index(kind)].insert(name.clone()) {
            c.server.pubsub.subscribe(kind, name, &subs.outbox);
        }
        frames.push(confirmation(verbs(kind).0, Some(name), subs.count(kind)));
    }
    publish_counts(c);
    Reply::Frames(frames)
}

/// (P|S)UNSUBSCRIBE: the named subscriptions, or all of the kind when none
/// is named; with nothing to leave, one confirmation with a nil name.
pub fn unsubscribe(c: &mut Client, kind: Kind, names: &[Vec<u8>]) -> Reply {
    let (_, verb) = verbs(kind);
    let Some(subs) = c.pubsub.as_mut() else {
        return Reply::Frames(match names.is_empty() {
            true => vec![confirmation(verb, None, 0)],
            false => names
                .iter()
                .map(|n| confirmation(verb, Some(n), 0))
                .collect(),
        });
    };
    let names: Vec<Vec<u8>> = if names.is_empty() {
        subs.sets[index(kind)].iter().cloned().collect()
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        return Reply::Frames(vec![confirmation(verb, None, subs.count(kind))]);
    }
    let id = c.handle.id;
    let mut frames = Vec::with_capacity(names.len());
    for name in &names {
        if subs.sets[index(kind)].remove(name) {
            c.server.pubsub.unsubscribe(kind, name, id);
        }
        frames.push(confirmation(verb, Some(name), subs.count(kind)));
    }
    publish_counts(c);
    Reply::Frames(frames)
}

/// Leaves every subscription, and CLIENT TRACKING (connection close,
/// RESET).
pub fn leave_all(c: &mut Client) {
    if c.tracking.take().is_some() {
        c.server.pubsub.tracking.disable(c.handle.id);
        c.handle.tracking.store(0, Ordering::Relaxed);
    }
    let Some(subs) = c.pubsub.take() else {
        return;
    };
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in &subs.sets[index(kind)] {
            c.server.pubsub.unsubscribe(kind, name, c.handle.id);
        }
        c.handle.subs[index(kind)].store(0, Ordering::Relaxed);
    }
}

/// Commands a RESP2 client may run while subscribed.
const ALLOWED: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "psubscribe",
    "unsubscribe",
    "sunsubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// Commands whose subcommand is part of the name in errors (`client|list`).
const CONTAINERS: &[&str] = &[
    "client", "command", "config", "latency", "memory", "object", "pubsub", "slowlog", "xgroup",
    "xinfo",
];

/// Redis's error for a command a subscribed RESP2 client may not run.
pub fn rejects(c: &Client, cmd: &Command, args: &[Vec<u8>]) -> Option<Reply> {
    if c.resp != 2 || !subscribed(c) || ALLOWED.contains(&cmd.name) {
        return None;
    }
    let name = match args.get(1) {
        Some(sub) if CONTAINERS.contains(&cmd.name) => {
            format!(
                "{}|{}",
                cmd.name,
                String::from_utf8_lossy(sub).to_lowercase()
            )
        }
        _ => cmd.name.to_string(),
    };
    Some(Reply::err(format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )))
}

/// Appends the messages queued so far to `out` (they precede the reply
/// about to be written; invalidations of the client's own writes wait for
/// the next write out).
pub fn deliver_into(c: &Client, out: &mut Vec<u8>) {
    if let Some(s) = &c.pubsub {
        if s.outbox.queued() > 0 {
            out.extend_from_slice(&s.outbox.take_before_reply());
        }
    }
}

/// Reads from the socket; for a client that has subscribed, writes the
/// messages that arrive while it waits.
pub async fn read(stream: &mut Stream, c: &Client, chunk: &mut [u8]) -> std::io::Result<usize> {
    let Some(outbox) = c.pubsub.as_ref().map(|s| s.outbox.clone()) else {
        return stream.read(chunk).await;
    };
    enum Event {
        Input(std::io::Result<usize>),
        Messages,
    }
    loop {
        let input = async { Event::Input(stream.read(chunk).await) };
        let messages = async {
            outbox.ready().await;
            Event::Messages
        };
        match futures_lite::future::or(input, messages).await {
            Event::Input(r) => return r,
            Event::Messages => {
                let bytes = outbox.take();
                incr(&c.shard.stats.net_output_bytes, bytes.len() as u64);
                stream.send(&bytes).await?;
            }
        }
    }
}
