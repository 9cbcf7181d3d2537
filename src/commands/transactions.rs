//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH; and the locking that
//! makes any command whose keys live on several shards atomic (see
//! `shard::transaction`).

use super::{cmd, finish, start, Args, BoxFuture, Command, Exec::*, KeyedFn, Started};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::locks::DbKey;
use crate::shard::routing::shard_of;
use crate::shard::transaction::{self, TxCtx};
use crate::storage::encoding::meta_key;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const G: &str = "transactions";

/// The transaction commands.
pub static COMMANDS: &[Command] = &[
    cmd(
        "multi",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        G,
        Conn(multi),
    ),
    cmd(
        "exec",
        1,
        "noscript loading stale skip_slowlog",
        (0, 0, 0),
        G,
        Coord(exec),
    ),
    cmd(
        "discard",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        G,
        Conn(discard),
    ),
    cmd(
        "watch",
        -2,
        "noscript loading stale fast allow_busy",
        (1, -1, 1),
        G,
        Coord(watch),
    ),
    cmd(
        "reset",
        1,
        "noscript loading stale fast no_auth allow_busy",
        (0, 0, 0),
        "connection",
        Conn(reset),
    ),
    cmd(
        "unwatch",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        G,
        Conn(unwatch),
    ),
];

/// Whether `cmd` is queued (rather than run) between MULTI and EXEC.
pub fn queues(cmd: &Command) -> bool {
    !matches!(
        cmd.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues a command after MULTI.
pub fn queue(c: &mut Client, args: Args) -> Reply {
    if let Some(q) = c.multi.as_mut() {
        q.push(args);
    }
    Reply::Simple("QUEUED".into())
}

/// A command was rejected (unknown, wrong arity): inside MULTI, EXEC aborts.
pub fn queue_failed(c: &mut Client) {
    if c.multi.is_some() {
        c.multi_error = true;
    }
}

fn multi(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    if c.multi.is_some() {
        return Reply::err("ERR MULTI calls can not be nested");
    }
    c.multi = Some(Vec::new());
    c.multi_error = false;
    Reply::ok()
}

fn discard(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    if c.multi.take().is_none() {
        return Reply::err("ERR DISCARD without MULTI");
    }
    c.multi_error = false;
    unwatch_all(c);
    Reply::ok()
}

/// RESET: back to a fresh connection's state (no transaction, watches or
/// subscriptions, database 0, RESP2, replies on, the `default` user).
fn reset(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let default = c.server.config.runtime.users.default_user();
    c.authenticated = default.nopass && default.enabled;
    c.set_user(default);
    c.multi = None;
    c.multi_error = false;
    unwatch_all(c);
    crate::server::subscriber::leave_all(c);
    c.select(0);
    c.set_resp(2);
    c.reply_off = false;
    c.reply_skip = 0;
    Reply::Simple("RESET".into())
}

fn unwatch(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    unwatch_all(c);
    Reply::ok()
}

/// Forgets the client's WATCHed keys (on EXEC, DISCARD, UNWATCH, close).
pub fn unwatch_all(c: &mut Client) {
    c.watch_dirty.store(false, Ordering::SeqCst);
    if c.watching.is_empty() {
        return;
    }
    let flag = c.watch_dirty.clone();
    // a fresh flag, so a late write to an old key cannot fail a new WATCH
    c.watch_dirty = Arc::new(AtomicBool::new(false));
    for (owner, mk) in std::mem::take(&mut c.watching) {
        let flag = flag.clone();
        let forget = move |s: &crate::shard::Shard| {
            let mut w = s.watchers.borrow_mut();
            if let Some(flags) = w.get_mut(&mk) {
                flags.retain(|f| !Arc::ptr_eq(f, &flag));
                if flags.is_empty() {
                    w.remove(&mk);
                }
            }
        };
        if owner == c.shard.id {
            forget(&c.shard);
        } else {
            drop(c.mesh().call(owner, forget));
        }
    }
}

fn watch(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if c.multi.is_some() {
            return Reply::err("ERR WATCH inside MULTI is not allowed");
        }
        let n = c.shard.shard_count();
        let mut waits = Vec::new();
        for key in &a[1..] {
            let owner = shard_of(key, n);
            let mk = meta_key(c.db, key);
            if c.watching.iter().any(|(_, k)| *k == mk) {
                continue;
            }
            c.watching.push((owner, mk.clone()));
            let flag = c.watch_dirty.clone();
            let register = move |s: &crate::shard::Shard| {
                s.watchers.borrow_mut().entry(mk).or_default().push(flag);
            };
            if owner == c.shard.id {
                register(&c.shard);
            } else {
                waits.push(c.mesh().call(owner, register));
            }
        }
        for w in waits {
            w.await;
        }
        Reply::ok()
    })
}

/// Keys of a command, for locking: the table's key positions, or, for
/// commands with movable keys, the keys their syntax names.
pub fn keys_of(cmd: &Command, args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let numkeys_at = |i: usize| -> Vec<Vec<u8>> {
        let n = args
            .get(i)
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
            .unwrap_or(0);
        args.iter().skip(i + 1).take(n).cloned().collect()
    };
    let mut keys: Vec<Vec<u8>> = cmd
        .key_positions(args.len())
        .into_iter()
        .map(|p| args[p].clone())
        .collect();
    if cmd.has_flag("movablekeys") {
        match cmd.name {
            "zunionstore" | "zinterstore" | "zdiffstore" | "blmpop" | "bzmpop" => {
                keys.extend(numkeys_at(2))
            }
            "xread" | "xreadgroup" => {
                if let Some(p) = args.iter().position(|a| a.eq_ignore_ascii_case(b"streams")) {
                    let rest = &args[p + 1..];
                    keys.extend(rest[..rest.len() / 2].iter().cloned());
                }
            }
            "sort" | "sort_ro" => keys.extend(super::sort::store_key(args)),
            _ => keys.extend(numkeys_at(1)),
        }
    }
    keys
}

/// The keys a command run in database `db` writes or reads, with their
/// databases: [`keys_of`] in `db`, except that MOVE's key and the
/// destination of COPY … DB n live in the other database.
pub fn db_keys_of(db: u8, cmd: &Command, args: &[Vec<u8>]) -> Vec<DbKey> {
    let mut keys: Vec<DbKey> = keys_of(cmd, args).into_iter().map(|k| (db, k)).collect();
    let db_arg = |a: &[u8]| {
        std::str::from_utf8(a)
            .ok()?
            .parse::<u8>()
            .ok()
            .filter(|d| *d < 16)
    };
    match cmd.name {
        "move" => {
            if let Some(dst) = args.get(2).and_then(|a| db_arg(a)) {
                keys.push((dst, args[1].clone()));
            }
        }
        "copy" => {
            let at = args
                .iter()
                .skip(3)
                .position(|a| a.eq_ignore_ascii_case(b"db"));
            let dst = at.and_then(|i| args.get(3 + i + 1)).and_then(|a| db_arg(a));
            if let (Some(dst), Some(k)) = (dst, keys.get_mut(1)) {
                k.0 = dst;
            }
        }
        _ => {}
    }
    keys
}

/// For a command outside a transaction whose keys span shards (or sit on
/// another shard's locked keys), takes its keys' locks so it runs
/// atomically; `None` when it can run as is.
pub async fn lock_if_needed(c: &mut Client, cmd: &Command, args: &[Vec<u8>]) -> Option<TxCtx> {
    if !matches!(cmd.exec, Coord(_) | Fanout(..))
        || cmd.has_flag("blocking")
        || !(cmd.has_flag("write") || cmd.has_flag("readonly"))
    {
        return None;
    }
    let keys = db_keys_of(c.db, cmd, args);
    if keys.is_empty() {
        return None;
    }
    let n = c.shard.shard_count();
    let first = shard_of(&keys[0].1, n);
    let one_shard = keys.iter().all(|(_, k)| shard_of(k, n) == first);
    if one_shard && matches!(cmd.exec, Fanout(..)) {
        return None; // one guarded job on the owner
    }
    if one_shard && first == c.shard.id {
        let locks = c.shard.locks.borrow();
        let free = keys
            .iter()
            .all(|(d, k)| locks.conflict(*d, [k.as_slice()], None).is_none());
        if free {
            return None; // runs here without yielding to other commands
        }
    }
    Some(transaction::begin(&c.shard, keys).await)
}

/// The keys a transaction will touch, with the database each is in
/// (following SELECTs inside the transaction).
fn transaction_keys(c: &Client, queued: &[Args]) -> Vec<DbKey> {
    let mut db = c.db;
    let mut keys = Vec::new();
    for args in queued {
        let Some(cmd) = super::lookup(&args[0]) else {
            continue;
        };
        if cmd.name == "select" {
            if let Some(d) = std::str::from_utf8(&args[1])
                .ok()
                .and_then(|s| s.parse::<u8>().ok())
            {
                db = d;
            }
            continue;
        }
        keys.extend(db_keys_of(db, cmd, args));
    }
    keys
}

/// A reply of a queued command, possibly still on its way.
type Pending = Pin<Box<dyn Future<Output = Reply>>>;

fn exec(c: &mut Client, _a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let reply = run_exec(c).await;
        c.tracking_caching = false; // CLIENT CACHING covered the transaction
        reply
    })
}

/// EXEC's work (see [`exec`]).
async fn run_exec(c: &mut Client) -> Reply {
    {
        let Some(queued) = c.multi.take() else {
            return Reply::err("ERR EXEC without MULTI");
        };
        if std::mem::take(&mut c.multi_error) {
            unwatch_all(c);
            return Reply::err("EXECABORT Transaction discarded because of previous errors.");
        }
        let mut keys = transaction_keys(c, &queued);
        let watched: Vec<DbKey> = c
            .watching
            .iter()
            .filter_map(|(_, mk)| {
                crate::storage::encoding::split_meta_key(mk).map(|(d, k)| (d, k.to_vec()))
            })
            .collect();
        keys.extend(watched);
        if let Some(reply) = exec_on_one_shard(c, &queued, &keys).await {
            unwatch_all(c);
            return reply;
        }
        let ctx = Rc::new(transaction::begin(&c.shard, keys).await);
        // every write to a watched key before the locks were taken set the flag
        let dirty = c.watch_dirty.load(Ordering::SeqCst);
        unwatch_all(c);
        if dirty {
            transaction::commit(&ctx).await;
            return Reply::NilArray;
        }
        c.tx = Some(ctx.clone());
        let mut out = Vec::with_capacity(queued.len());
        let mut pending: Vec<Pending> = Vec::new();
        for args in queued {
            match start(c, args) {
                Started::Ready(r) => pending.push(Box::pin(async move { r })),
                Started::InFlight(f) => pending.push(f),
                Started::Ordered(cmd, args) => {
                    // commands that coordinate shards see all earlier ones done
                    c.wake_shards();
                    for p in pending.drain(..) {
                        out.push(p.await);
                    }
                    out.push(finish(c, cmd, args).await);
                }
            }
        }
        c.wake_shards();
        for p in pending {
            out.push(p.await);
        }
        c.tx = None;
        transaction::commit(&ctx).await;
        Reply::Array(out)
    }
}

/// The fast path: a transaction of single-key commands whose keys (watched
/// ones included) all live on one shard runs there as one job, with one
/// batch, behind any operation holding its keys. `None` when the
/// transaction does not qualify.
async fn exec_on_one_shard(c: &mut Client, queued: &[Args], keys: &[DbKey]) -> Option<Reply> {
    let n = c.shard.shard_count();
    let db = c.db;
    let owner = shard_of(&keys.first()?.1, n);
    if keys
        .iter()
        .any(|(d, k)| *d != db || shard_of(k, n) != owner)
    {
        return None;
    }
    let mut cmds: Vec<(&'static Command, KeyedFn)> = Vec::with_capacity(queued.len());
    for args in queued {
        match super::lookup(&args[0]) {
            Some(cmd @ Command { exec: Keyed(f), .. }) => cmds.push((cmd, *f)),
            _ => return None,
        }
    }
    for (args, (cmd, _)) in queued.iter().zip(&cmds) {
        crate::shard::incr(&c.shard.stats.commands, 1);
        if c.tracking.is_some() {
            super::client::track_read(c, cmd, args);
        }
        *c.handle.last_cmd.lock().unwrap() = cmd.name;
        c.server.monitor_feed(c, args);
    }
    let id = c.mesh().next_tx_id();
    let dirty = c.watch_dirty.clone();
    let who = c.handle.clone();
    let queued = queued.to_vec();
    let run = move |s: &crate::shard::Shard| -> Reply {
        if dirty.load(Ordering::SeqCst) {
            return Reply::NilArray;
        }
        // each command applies its writes as it runs: other cores must not
        // read the shard between the first and the last
        s.exclusive(|| {
            let mut out = Vec::with_capacity(queued.len());
            for (args, (cmd, f)) in queued.iter().zip(cmds) {
                let t = std::time::Instant::now();
                let r = s.as_client(who.id, || {
                    s.counting_lookups(cmd.counts_lookups, || {
                        s.run_as((cmd.name, cmd.group), || {
                            s.with_capture(id, || f(&crate::data_types::Db::new(s, db), args))
                        })
                    })
                });
                let usec = t.elapsed().as_micros() as u64;
                s.observe
                    .borrow_mut()
                    .record(cmd, args, usec, &r, &who, &s.config.runtime);
                out.push(r);
            }
            // no locks were taken: the completion has nobody to answer
            s.commit_part(id, None, false, &[])();
            Reply::Array(out)
        })
    };
    let keys = keys.iter().map(|(_, k)| k.clone()).collect();
    Some(super::guarded_on_shard(c, owner, keys, run).await)
}
