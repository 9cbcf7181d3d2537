//! The process-wide Pub/Sub registry: channels, patterns and shard channels
//! mapped to their subscribers, whatever core those live on.
//!
//! A subscriber is an [`Outbox`]: the connection's queue of encoded frames
//! (written by publishers on any core, under a short per-subscriber lock),
//! the byte count the output-buffer limit is checked against, and the waker
//! of the connection that writes them out. A publish appends to every
//! matching outbox before it returns, so one publisher's messages reach each
//! subscriber in publish order. The registry lock is taken only by Pub/Sub
//! commands and by publishes while someone is subscribed; with no
//! subscription at all a publish is one atomic load.

use crate::config::Config;
use crate::protocol::Reply;
use crate::server::client::ClientHandle;
use crate::util::glob::glob_match;
use atomic_waker::AtomicWaker;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Keyspace-notification classes (`notify-keyspace-events`), Redis's bits.
pub mod notify {
    /// `K`: publish to `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish to `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME…).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted-set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired keys.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted keys.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses.
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module types (JSON here).
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new keys.
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// The bit of one class letter (`K E g $ l s h z x e t m d n`, `A` = all).
fn flag_of(c: char) -> Option<u32> {
    use notify::*;
    Some(match c {
        'A' => ALL,
        'g' => GENERIC,
        '$' => STRING,
        'l' => LIST,
        's' => SET,
        'h' => HASH,
        'z' => ZSET,
        'x' => EXPIRED,
        'e' => EVICTED,
        'K' => KEYSPACE,
        'E' => KEYEVENT,
        't' => STREAM,
        'm' => KEY_MISS,
        'd' => MODULE,
        'n' => NEW,
        _ => return None,
    })
}

/// Parses a `notify-keyspace-events` value; `None` on an unknown letter.
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    s.chars().try_fold(0, |acc, c| Some(acc | flag_of(c)?))
}

/// The canonical text CONFIG GET shows for `notify-keyspace-events`.
pub fn format_notify_flags(flags: u32) -> String {
    use notify::*;
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for c in "g$lshzxetdn".chars() {
            if flags & flag_of(c).unwrap_or(0) != 0 {
                s.push(c);
            }
        }
    }
    for c in "KEm".chars() {
        if flags & flag_of(c).unwrap_or(0) != 0 {
            s.push(c);
        }
    }
    s
}

/// One connection's queue of Pub/Sub frames, filled by publishers on any
/// core and written out by the connection.
pub struct Outbox {
    client: Arc<ClientHandle>,
    /// Frames to write as soon as possible, and frames that follow the
    /// reply of the command running now (a client's invalidations of its
    /// own writes, which Redis sends after the reply).
    buf: Mutex<(Vec<u8>, Vec<u8>)>,
    /// Bytes queued and not yet taken by the connection.
    queued: AtomicUsize,
    /// When the queue first went over the soft limit (ms since epoch, 0 = under it).
    soft_since_ms: AtomicU64,
    /// Set once the client was cut off for exceeding its output-buffer limit.
    dead: AtomicBool,
    waker: AtomicWaker,
}

impl Outbox {
    /// An empty outbox for `client`.
    pub fn new(client: Arc<ClientHandle>) -> Arc<Outbox> {
        Arc::new(Outbox {
            client,
            buf: Mutex::new((Vec::new(), Vec::new())),
            queued: AtomicUsize::new(0),
            soft_since_ms: AtomicU64::new(0),
            dead: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        })
    }

    /// The subscriber's client id.
    pub fn id(&self) -> u64 {
        self.client.id
    }

    /// Bytes queued and not yet taken by the connection.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Takes everything queued (the connection writes it out).
    pub fn take(&self) -> Vec<u8> {
        let mut buf = self.buf.lock().unwrap();
        self.queued.store(0, Ordering::Relaxed);
        self.soft_since_ms.store(0, Ordering::Relaxed);
        let (mut now, after) = std::mem::take(&mut *buf);
        now.extend_from_slice(&after);
        now
    }

    /// Takes what may precede the reply about to be written (not the
    /// frames that follow it).
    pub fn take_before_reply(&self) -> Vec<u8> {
        let mut buf = self.buf.lock().unwrap();
        let now = std::mem::take(&mut buf.0);
        self.queued.store(buf.1.len(), Ordering::Relaxed);
        now
    }

    /// Resolves once something is queued.
    pub async fn ready(&self) {
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            if self.queued.load(Ordering::Acquire) > 0 {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// The client the queue belongs to.
    pub fn client(&self) -> &ClientHandle {
        &self.client
    }

    /// The client's protocol version.
    pub fn resp(&self) -> u8 {
        self.client.resp.load(Ordering::Relaxed)
    }

    /// Whether the client is subscribed to some channel or pattern.
    pub fn in_subscribe_mode(&self) -> bool {
        self.client.subs[..2]
            .iter()
            .any(|n| n.load(Ordering::Relaxed) > 0)
    }

    /// Queues an encoded frame (a tracking invalidation), after the reply
    /// of the command running now if `after_reply`; false if the client has
    /// been cut off.
    pub fn push_frame(&self, config: &Config, frame: &[u8], after_reply: bool) -> bool {
        self.append(config, after_reply, |buf| buf.extend_from_slice(frame))
    }

    /// Queues `[kind, (pattern,) channel, message]` encoded for the client's
    /// protocol; false if the client has been cut off.
    fn push(
        &self,
        config: &Config,
        kind: &str,
        pattern: Option<&[u8]>,
        ch: &[u8],
        msg: &[u8],
    ) -> bool {
        let resp = self.resp();
        self.append(config, false, |buf| {
            let n = 3 + pattern.is_some() as usize;
            let _ = write!(buf, "{}{n}\r\n", if resp >= 3 { '>' } else { '*' });
            for part in [Some(kind.as_bytes()), pattern, Some(ch), Some(msg)]
                .into_iter()
                .flatten()
            {
                let _ = write!(buf, "${}\r\n", part.len());
                buf.extend_from_slice(part);
                buf.extend_from_slice(b"\r\n");
            }
        })
    }

    /// Appends what `encode` writes to the queue, within the output-buffer
    /// limit (past it the client is cut off); false if it was.
    fn append(
        &self,
        config: &Config,
        after_reply: bool,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> bool {
        if self.dead.load(Ordering::Relaxed) {
            return false;
        }
        let mut buf = self.buf.lock().unwrap();
        encode(if after_reply { &mut buf.1 } else { &mut buf.0 });
        let len = buf.0.len() + buf.1.len();
        if self.over_limit(config, len as u64) {
            *buf = Default::default();
            self.queued.store(0, Ordering::Release);
            drop(buf);
            self.cut_off(len);
            return false;
        }
        self.queued.store(len, Ordering::Release);
        drop(buf);
        self.waker.wake();
        true
    }

    /// Whether `len` queued bytes break the pubsub output-buffer limit
    /// (hard at once, soft after its seconds).
    fn over_limit(&self, config: &Config, len: u64) -> bool {
        let (hard, soft, secs) = config.runtime.obuf_limit(crate::config::OBUF_PUBSUB);
        if hard > 0 && len > hard {
            return true;
        }
        if soft == 0 || len <= soft {
            self.soft_since_ms.store(0, Ordering::Relaxed);
            return false;
        }
        let now = crate::util::now_ms();
        match self.soft_since_ms.load(Ordering::Relaxed) {
            0 => {
                self.soft_since_ms.store(now, Ordering::Relaxed);
                false
            }
            since => now.saturating_sub(since) > secs * 1000,
        }
    }

    /// Drops the client: its pending messages are gone and its connection closes.
    fn cut_off(&self, len: usize) {
        if !self.dead.swap(true, Ordering::SeqCst) {
            log::warn!(
                "client id={} addr={} closed for overcoming of output buffer limits ({len} bytes of pubsub messages queued)",
                self.client.id,
                self.client.addr
            );
            self.client.kill();
        }
    }
}

/// The kind of a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE.
    Shard,
}

type Subscribers = HashMap<Vec<u8>, Vec<Arc<Outbox>>>;

#[derive(Default)]
struct Registry {
    channels: Subscribers,
    patterns: Subscribers,
    shard_channels: Subscribers,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut Subscribers {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    fn get(&self, kind: Kind) -> &Subscribers {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }
}

/// Every subscription of the process (held in `ServerState`).
pub struct PubSub {
    config: Arc<Config>,
    /// CLIENT TRACKING's table, whose messages share the outboxes.
    pub tracking: super::tracking::Tracking,
    registry: RwLock<Registry>,
    /// Subscriptions of every kind: publishes skip the lock while it is 0.
    total: AtomicUsize,
}

impl PubSub {
    /// An empty registry reading limits and notification flags from `config`.
    pub fn new(config: Arc<Config>) -> PubSub {
        PubSub {
            tracking: super::tracking::Tracking::new(config.clone()),
            config,
            registry: RwLock::new(Registry::default()),
            total: AtomicUsize::new(0),
        }
    }

    /// Adds `outbox` to the subscribers of `name`. The caller knows the
    /// client is not yet subscribed to it.
    pub fn subscribe(&self, kind: Kind, name: &[u8], outbox: &Arc<Outbox>) {
        let mut r = self.registry.write().unwrap();
        r.map(kind)
            .entry(name.to_vec())
            .or_default()
            .push(outbox.clone());
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes client `id` from the subscribers of `name`.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) {
        let mut r = self.registry.write().unwrap();
        let map = r.map(kind);
        if let Some(subs) = map.get_mut(name) {
            let before = subs.len();
            subs.retain(|o| o.id() != id);
            self.total.fetch_sub(before - subs.len(), Ordering::Relaxed);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// PUBLISH: delivers to the channel's subscribers and to every matching
    /// pattern's; returns how many received it.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> i64 {
        if self.total.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let r = self.registry.read().unwrap();
        let mut n = 0;
        if let Some(subs) = r.channels.get(channel) {
            for o in subs {
                n += o.push(&self.config, "message", None, channel, message) as i64;
            }
        }
        for (pattern, subs) in &r.patterns {
            if glob_match(pattern, channel, false) {
                for o in subs {
                    n += o.push(&self.config, "pmessage", Some(pattern), channel, message) as i64;
                }
            }
        }
        n
    }

    /// SPUBLISH: delivers to the shard channel's subscribers.
    pub fn spublish(&self, channel: &[u8], message: &[u8]) -> i64 {
        if self.total.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let r = self.registry.read().unwrap();
        r.shard_channels.get(channel).map_or(0, |subs| {
            subs.iter()
                .map(|o| o.push(&self.config, "smessage", None, channel, message) as i64)
                .sum()
        })
    }

    /// A keyspace notification: when `class` (a `notify-keyspace-events`
    /// letter such as `'g'`, `'$'`, `'x'`, `'d'` for JSON) is enabled,
    /// publishes `event` to `__keyspace@<db>__:<key>` (with `K`) and `key`
    /// to `__keyevent@<db>__:<event>` (with `E`). One atomic load when off.
    pub fn keyspace_event(&self, class: char, event: &str, db: u8, key: &[u8]) {
        let flags = self
            .config
            .runtime
            .notify_keyspace_events
            .load(Ordering::Relaxed);
        if flags & flag_of(class).unwrap_or(0) == 0 {
            return;
        }
        if flags & notify::KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            self.publish(&ch, event.as_bytes());
        }
        if flags & notify::KEYEVENT != 0 {
            self.publish(format!("__keyevent@{db}__:{event}").as_bytes(), key);
        }
    }

    /// Active channels (or patterns, or shard channels) matching `pattern`.
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let r = self.registry.read().unwrap();
        r.get(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        let r = self.registry.read().unwrap();
        r.get(kind).get(name).map_or(0, Vec::len)
    }

    /// How many distinct channels, patterns or shard channels have subscribers.
    pub fn count(&self, kind: Kind) -> usize {
        if self.total.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.registry.read().unwrap().get(kind).len()
    }
}

/// A subscribe/unsubscribe confirmation: `[kind, name or nil, count]`, a
/// push frame in RESP3.
pub fn confirmation(kind: &str, name: Option<&[u8]>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk(kind),
        name.map_or(Reply::Nil, Reply::bulk),
        Reply::Int(count as i64),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Arc<Config> {
        Arc::new(Config::build(None, Default::default()).unwrap())
    }

    fn subscriber(id: u64, resp: u8) -> Arc<Outbox> {
        let h = Arc::new(ClientHandle::new(
            id,
            "127.0.0.1:1".into(),
            String::new(),
            0,
        ));
        h.resp.store(resp, Ordering::Relaxed);
        Outbox::new(h)
    }

    #[test]
    fn notify_flags_parse_and_format_like_redis() {
        assert_eq!(parse_notify_flags(""), Some(0));
        assert_eq!(parse_notify_flags("Q"), None);
        assert_eq!(
            parse_notify_flags("KEA").map(format_notify_flags).unwrap(),
            "AKE"
        );
        assert_eq!(
            parse_notify_flags("Kgx$lshzetdnm")
                .map(format_notify_flags)
                .unwrap(),
            "AKm"
        );
        assert_eq!(
            parse_notify_flags("Elg").map(format_notify_flags).unwrap(),
            "glE"
        );
        assert_eq!(
            parse_notify_flags("nK").map(format_notify_flags).unwrap(),
            "nK"
        );
    }

    #[test]
    fn keyspace_event_publishes_to_keyspace_and_keyevent() {
        let cfg = config();
        let ps = PubSub::new(cfg.clone());
        let o = subscriber(1, 2);
        ps.subscribe(Kind::Pattern, b"__key*__:*", &o);
        // disabled: nothing
        ps.keyspace_event('g', "del", 0, b"k");
        assert_eq!(o.queued(), 0);
        let set = |s: &str| {
            cfg.runtime
                .notify_keyspace_events
                .store(parse_notify_flags(s).unwrap(), Ordering::Relaxed)
        };
        set("KEg");
        ps.keyspace_event('$', "set", 0, b"k"); // class off
        assert_eq!(o.queued(), 0);
        ps.keyspace_event('g', "del", 3, b"k");
        let got = String::from_utf8(o.take()).unwrap();
        assert_eq!(
            got,
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@3__:k\r\n$3\r\ndel\r\n\
             *4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@3__:del\r\n$1\r\nk\r\n"
        );
        set("Ed");
        ps.keyspace_event('d', "json.set", 0, b"doc");
        let got = String::from_utf8(o.take()).unwrap();
        assert!(got.contains("__keyevent@0__:json.set") && !got.contains("__keyspace"));
    }

    #[test]
    fn publish_counts_channels_and_patterns_and_encodes_per_protocol() {
        let ps = PubSub::new(config());
        let (a, b) = (subscriber(1, 2), subscriber(2, 3));
        assert_eq!(ps.publish(b"news", b"x"), 0);
        ps.subscribe(Kind::Channel, b"news", &a);
        ps.subscribe(Kind::Pattern, b"n*", &b);
        ps.subscribe(Kind::Pattern, b"*s", &b);
        assert_eq!(ps.publish(b"news", b"hi"), 3);
        assert_eq!(ps.spublish(b"news", b"hi"), 0);
        assert_eq!(
            a.take(),
            b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n".to_vec()
        );
        assert!(b.take().starts_with(b">4\r\n$8\r\npmessage\r\n"));
        ps.unsubscribe(Kind::Channel, b"news", 1);
        assert_eq!(ps.count(Kind::Channel), 0);
        assert_eq!(ps.count(Kind::Pattern), 2);
    }

    #[test]
    fn hard_limit_cuts_the_subscriber_off() {
        let cfg = config();
        cfg.runtime.obuf_limits[crate::config::OBUF_PUBSUB * 3].store(1000, Ordering::Relaxed);
        let ps = PubSub::new(cfg);
        let o = subscriber(1, 2);
        ps.subscribe(Kind::Channel, b"c", &o);
        let msg = vec![b'x'; 300];
        assert_eq!(ps.publish(b"c", &msg), 1);
        assert_eq!(ps.publish(b"c", &msg), 1);
        assert_eq!(ps.publish(b"c", &msg), 1);
        assert_eq!(ps.publish(b"c", &msg), 0);
        assert_eq!(o.queued(), 0);
        assert!(o.client.killed.load(Ordering::SeqCst));
    }

    #[test]
    fn soft_limit_cuts_off_only_after_its_seconds() {
        let cfg = config();
        let limits = &cfg.runtime.obuf_limits[crate::config::OBUF_PUBSUB * 3..];
        limits[0].store(0, Ordering::Relaxed);
        limits[1].store(100, Ordering::Relaxed);
        limits[2].store(0, Ordering::Relaxed);
        let ps = PubSub::new(cfg.clone());
        let o = subscriber(1, 2);
        ps.subscribe(Kind::Channel, b"c", &o);
        let msg = vec![b'x'; 200];
        assert_eq!(ps.publish(b"c", &msg), 1); // over the soft limit: the clock starts
        o.take(); // the client caught up: the clock stops
        assert_eq!(ps.publish(b"c", &msg), 1);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(ps.publish(b"c", &msg), 0); // over it for longer than 0 s
        assert!(o.client.killed.load(Ordering::SeqCst));
    }
}
