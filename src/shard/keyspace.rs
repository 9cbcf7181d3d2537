//! Keyspace notifications: which event a write publishes
//! (`notify-keyspace-events`, `__keyspace@<db>__:` / `__keyevent@<db>__:`).
//! Events are raised where a key's metadata is written or deleted, named
//! after the command doing it.

use super::Shard;
use crate::storage::encoding::split_meta_key;

/// The command being executed on a shard: (name, family), for events.
pub type Current = (&'static str, &'static str);

/// Event name and class letter for a write by command `name` of `group`
/// (`deleted`: the write removes the key).
pub fn event_for(name: &'static str, group: &str, deleted: bool) -> (char, &'static str) {
    let event = match name {
        "rename" | "renamenx" if deleted => "rename_from",
        "rename" | "renamenx" => "rename_to",
        "move" if deleted => "move_from",
        "move" => "move_to",
        "copy" => "copy_to",
        "incr" | "decr" | "incrby" | "decrby" => "incrby",
        "setex" | "psetex" | "setnx" | "getset" | "mset" | "msetnx" => "set",
        "unlink" | "getdel" => "del",
        // an expiry in the past (or a RESTORE already expired) deletes
        "expire" | "pexpire" | "expireat" | "pexpireat" | "restore" if deleted => "del",
        "expire" | "pexpire" | "expireat" | "pexpireat" => "expire",
        "hmset" | "hsetnx" => "hset",
        "blpop" => "lpop",
        "brpop" => "rpop",
        "bzpopmin" => "zpopmin",
        "bzpopmax" => "zpopmax",
        "zincrby" => "zincr",
        // a store whose result is empty deletes the destination, and Redis
        // reports only that
        "sinterstore" | "sunionstore" | "sdiffstore" | "zinterstore" | "zunionstore"
        | "zdiffstore" | "zrangestore" | "bitop"
            if deleted =>
        {
            "del"
        }
        "bitop" => "set",
        "expired" => return ('x', "expired"),
        other => other,
    };
    let class = match (event, group) {
        (
            "del" | "expire" | "persist" | "rename_from" | "rename_to" | "copy_to" | "move_from"
            | "move_to" | "restore",
            _,
        ) => 'g',
        (_, "string" | "bitmap") => '$',
        (_, "list") => 'l',
        (_, "hash") => 'h',
        (_, "set") => 's',
        (_, "sorted-set") => 'z',
        (_, "stream") => 't',
        (_, "json") => 'd',
        _ => 'g',
    };
    (class, event)
}

impl Shard {
    /// Runs `f` as part of command `current` (the source of the events its
    /// writes raise). When the outermost command ends, a batch it staged
    /// but never wrote clears the hot cache (`storage::hot`). While clients
    /// are blocked on this shard, a command may serve them after its own
    /// write (a push, then the blocked pop): other cores must not read in
    /// between, so the command runs as one exclusive section.
    pub fn run_as<T>(&self, current: Current, f: impl FnOnce() -> T) -> T {
        let out = self.naming_events(current, || {
            self.nesting.set(self.nesting.get() + 1);
            let out = if self.nesting.get() == 1 && !self.blocked.borrow().is_empty() {
                self.exclusive(f)
            } else {
                f()
            };
            self.nesting.set(self.nesting.get() - 1);
            out
        });
        if self.nesting.get() == 0 && self.hot.borrow_mut().settle() {
            log::warn!(
                "shard {}: {} staged a write it did not apply; hot cache cleared",
                self.id,
                current.0
            );
        }
        out
    }

    /// Runs `f` with its key lookups counted as keyspace hits and misses,
    /// or not (`ShardStats::uncounted`): a command's own lookups count
    /// when it reads (`Command::counts_lookups`).
    pub fn counting_lookups<T>(&self, counted: bool, f: impl FnOnce() -> T) -> T {
        let outer = self.stats.uncounted.replace(!counted);
        let out = f();
        self.stats.uncounted.set(outer);
        out
    }

    /// Runs `f` with the keyspace events of its writes named as `current`
    /// names them, inside the command running now (LMOVE's pop and push).
    pub fn naming_events<T>(&self, current: Current, f: impl FnOnce() -> T) -> T {
        let outer = self.current.replace(current);
        let out = f();
        self.current.set(outer);
        out
    }

    /// Publishes the keyspace event `name` (of class `group`) for `meta_key`
    /// and nothing else: no WATCH broken, no tracking invalidation. Redis's
    /// consumer-group changes are announced this way (`xgroup-create`, …).
    /// Call it once the command's batch is written (or joined): the event
    /// then runs ahead of nothing, and other cores may read at once.
    pub fn publish_event(&self, meta_key: &[u8], name: &'static str, group: &'static str) {
        self.naming_events((name, group), || self.notify_write(meta_key, false));
        self.engine.effects_written();
    }

    /// Publishes the keyspace events for a write to `meta_key`.
    pub(super) fn notify_write(&self, meta_key: &[u8], deleted: bool) {
        let off = self
            .config
            .runtime
            .notify_keyspace_events
            .load(std::sync::atomic::Ordering::Relaxed)
            == 0;
        let Some(pubsub) = self.pubsub.get().filter(|_| !off) else {
            return;
        };
        let Some((db, key)) = split_meta_key(meta_key) else {
            return;
        };
        let (name, group) = self.current.get();
        let (class, event) = event_for(name, group, deleted);
        // the event leaves before the command's batch is written: other
        // cores must not read this shard's RocksDB until it is
        self.engine.hold_peer_reads();
        pubsub.keyspace_event(class, event, db, key);
        if deleted && class != 'g' && class != 'x' {
            // a collection emptied by the command is removed: Redis says so
            pubsub.keyspace_event('g', "del", db, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::event_for;

    #[test]
    fn events_follow_redis_names() {
        assert_eq!(event_for("incr", "string", false), ('$', "incrby"));
        assert_eq!(event_for("set", "string", false), ('$', "set"));
        assert_eq!(event_for("del", "generic", false), ('g', "del"));
        assert_eq!(event_for("pexpire", "generic", false), ('g', "expire"));
        assert_eq!(event_for("pexpire", "generic", true), ('g', "del"));
        assert_eq!(event_for("restore", "generic", true), ('g', "del"));
        assert_eq!(event_for("bitop", "bitmap", false), ('$', "set"));
        assert_eq!(event_for("bitop", "bitmap", true), ('g', "del"));
        assert_eq!(event_for("zinterstore", "sorted-set", true), ('g', "del"));
        assert_eq!(
            event_for("zinterstore", "sorted-set", false),
            ('z', "zinterstore")
        );
        assert_eq!(event_for("lpush", "list", false), ('l', "lpush"));
        assert_eq!(event_for("zadd", "sorted-set", false), ('z', "zadd"));
        assert_eq!(event_for("expired", "", false), ('x', "expired"));
        assert_eq!(event_for("json.set", "json", false), ('d', "json.set"));
        assert_eq!(event_for("rename", "generic", true), ('g', "rename_from"));
        assert_eq!(event_for("renamenx", "generic", false), ('g', "rename_to"));
        assert_eq!(event_for("move", "generic", true), ('g', "move_from"));
        assert_eq!(event_for("move", "generic", false), ('g', "move_to"));
        assert_eq!(event_for("copy", "generic", false), ('g', "copy_to"));
    }
}
