//! Set commands (Redis 7 semantics) on top of `data_types::set`.
//!
//! Single-key commands run on the key's shard. The multi-key ones are
//! coordinators: when every key (destination included) lives on one shard
//! the whole command runs there in one step, atomically; otherwise the
//! coordinator type-checks the keys on their shards, gathers the
//! candidate members, filters them shard by shard and writes the
//! destination on its owner (see `data_types::set::Plan`).

use super::hashes::{encoded_subs, parse_random_count, scan_collection};
use super::strings::tri;
use super::{cmd, on_owner, on_shard, syntax_error, Args, BoxFuture, Command, Exec::*};
use crate::data_types::set::{Member, Plan, SetOp};
use crate::data_types::{Db, MetaRead, Result};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::routing::shard_of;
use crate::storage::encoding::Kind;
use crate::util::num::parse_i64;
use std::future::Future;
use std::pin::Pin;

/// The set family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "sadd",
        -3,
        "write denyoom fast",
        (1, 1, 1),
        "set",
        Keyed(sadd),
    ),
    cmd("srem", -3, "write fast", (1, 1, 1), "set", Keyed(srem)),
    meta_read!("sismember", 3, "set", sismember),
    cmd(
        "smismember",
        -3,
        "readonly fast",
        (1, 1, 1),
        "set",
        Keyed(smismember),
    ),
    cmd("smembers", 2, "readonly", (1, 1, 1), "set", Keyed(smembers)),
    meta_read!("scard", "set", scard),
    cmd("spop", -2, "write fast", (1, 1, 1), "set", Keyed(spop)),
    cmd(
        "srandmember",
        -2,
        "readonly",
        (1, 1, 1),
        "set",
        Keyed(srandmember),
    ),
    cmd("smove", 4, "write fast", (1, 2, 1), "set", Coord(smove)),
    cmd("sinter", -2, "readonly", (1, -1, 1), "set", Coord(sinter)),
    cmd("sunion", -2, "readonly", (1, -1, 1), "set", Coord(sunion)),
    cmd("sdiff", -2, "readonly", (1, -1, 1), "set", Coord(sdiff)),
    cmd(
        "sintercard",
        -3,
        "readonly movablekeys",
        (0, 0, 0),
        "set",
        Coord(sintercard),
    ),
    cmd(
        "sinterstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        "set",
        Coord(sinterstore),
    ),
    cmd(
        "sunionstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        "set",
        Coord(sunionstore),
    ),
    cmd(
        "sdiffstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        "set",
        Coord(sdiffstore),
    ),
    cmd("sscan", -3, "readonly", (1, 1, 1), "set", Keyed(sscan)),
];

fn members_reply(members: Vec<Member>) -> Reply {
    Reply::Set(members.into_iter().map(Reply::Bulk).collect())
}

fn sadd(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.set_add(&a[1], &a[2..])) as i64)
}

fn srem(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.set_remove(&a[1], &a[2..])) as i64)
}

fn sismember(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.sub_value(&a[1], Kind::Set, &a[2])).is_some() as i64)
}

fn smismember(db: &Db, a: &[Vec<u8>]) -> Reply {
    let found = tri!(db.set_contains(&a[1], &a[2..]));
    Reply::Array(found.into_iter().map(|b| Reply::Int(b as i64)).collect())
}

fn smembers(db: &Db, a: &[Vec<u8>]) -> Reply {
    match tri!(db.open_set(&a[1])) {
        Some(s) => Reply::BulkSet(encoded_subs(db, &s, |member, _| member)),
        None => Reply::Set(Vec::new()),
    }
}

fn scard(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.size_of(&a[1], Kind::Set)) as i64)
}

fn spop(db: &Db, a: &[Vec<u8>]) -> Reply {
    match a.len() {
        2 => Reply::opt_bulk(tri!(db.set_pop(&a[1], 1)).pop()),
        3 => match parse_i64(&a[2]) {
            Some(n) if n >= 0 => members_reply(tri!(db.set_pop(&a[1], n as usize))),
            _ => Reply::err("ERR value is out of range, must be positive"),
        },
        _ => syntax_error(),
    }
}

fn srandmember(db: &Db, a: &[Vec<u8>]) -> Reply {
    match a.len() {
        2 => Reply::opt_bulk(tri!(db.set_random(&a[1], 1, true)).pop()),
        3 => {
            let n = tri!(parse_random_count(&a[2]));
            Reply::bulks(tri!(db.set_random(&a[1], n.unsigned_abs() as usize, n > 0)))
        }
        _ => syntax_error(),
    }
}

fn sscan(db: &Db, a: &[Vec<u8>]) -> Reply {
    scan_collection(db, a, Kind::Set)
}

fn smove(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let [_, src, dst, member] = <[Vec<u8>; 4]>::try_from(a).expect("arity 4");
        let n = client.shard.shard_count();
        let (src_owner, dst_owner) = (shard_of(&src, n), shard_of(&dst, n));
        if src_owner == dst_owner {
            return on_shard(client, src_owner, move |db| {
                Ok(db.set_move(&src, &dst, &member)? as i64)
            })
            .await
            .map_or_else(|e| e, Reply::Int);
        }
        // Across shards (not atomic against concurrent writers until
        // cross-shard transactions exist): check the destination's type,
        // remove from the source, add to the destination.
        let key = dst.clone();
        let dst_ok = on_shard(client, dst_owner, move |db| db.set_check(&key)).await;
        let (key, m) = (src.clone(), member.clone());
        let removed: Result<bool> = on_shard(client, src_owner, move |db| {
            if db.open_set(&key)?.is_none() {
                return Ok(false);
            }
            dst_ok?;
            let remove = || db.set_remove(&key, &[m]);
            Ok(db.shard.naming_events(("srem", "set"), remove)? == 1)
        })
        .await;
        match removed {
            Err(e) => return e,
            Ok(false) => return Reply::Int(0),
            Ok(true) => {}
        }
        let m = member.clone();
        let added = on_shard(client, dst_owner, move |db| {
            db.shard
                .naming_events(("sadd", "set"), || db.set_add(&dst, &[m]))
        })
        .await;
        if let Err(e) = added {
            // the destination changed type meanwhile: put the member back
            let _ = on_shard(client, src_owner, move |db| db.set_add(&src, &[member])).await;
            return e;
        }
        Reply::Int(1)
    })
}

/// What a set-algebra command replies with.
enum Output {
    /// The members (SINTER, SUNION, SDIFF).
    Members,
    /// The cardinality, counting at most `limit` (0 = all) (SINTERCARD).
    Card(usize),
    /// Store into the key and reply the cardinality (S*STORE).
    Store(Vec<u8>),
}

impl Output {
    fn limit(&self) -> usize {
        match self {
            Output::Card(limit) => *limit,
            _ => 0,
        }
    }

    /// The reply for a result computed on the destination's shard.
    fn finish(self, db: &Db, members: Vec<Member>) -> Result<Reply> {
        Ok(match self {
            Output::Members => members_reply(members),
            Output::Card(_) => Reply::Int(members.len() as i64),
            Output::Store(dst) => Reply::Int(db.set_store(&dst, members)? as i64),
        })
    }
}

/// Evaluates a set operation over `keys`, on one shard when every key
/// (and the destination) lives there, else as a cross-shard coordinator.
async fn set_algebra(client: &Client, op: SetOp, keys: Vec<Vec<u8>>, out: Output) -> Reply {
    let n = client.shard.shard_count();
    let owners: Vec<usize> = keys.iter().map(|k| shard_of(k, n)).collect();
    let home = owners[0];
    let dst_home = match &out {
        Output::Store(dst) => shard_of(dst, n) == home,
        _ => true,
    };
    if dst_home && owners.iter().all(|&o| o == home) {
        return on_shard(client, home, move |db| {
            let members = db.set_compute(op, &keys, out.limit())?;
            out.finish(db, members)
        })
        .await
        .unwrap_or_else(|e| e);
    }
    match cross_shard(client, op, &keys, &owners, out.limit()).await {
        Err(e) => e,
        Ok(members) => match out {
            Output::Store(dst) => {
                let key = dst.clone();
                let out = Output::Store(dst);
                on_owner(client, &key, move |db| out.finish(db, members))
                    .await
                    .unwrap_or_else(|e| e)
            }
            out => out
                .finish(&Db::new(&client.shard, client.db), members)
                .unwrap_or_else(|e| e),
        },
    }
}

/// The steps of [`Db::set_compute`], each run on the shards owning the
/// keys involved.
async fn cross_shard(
    client: &Client,
    op: SetOp,
    keys: &[Vec<u8>],
    owners: &[usize],
    limit: usize,
) -> Result<Vec<Member>> {
    let all: Vec<usize> = (0..keys.len()).collect();
    let mut sizes = vec![0; keys.len()];
    for (positions, part) in per_shard(client, keys, owners, &all, |db, k| db.set_sizes(k)).await {
        for (i, size) in positions.into_iter().zip(part?) {
            sizes[i] = size;
        }
    }
    let Some(plan) = Plan::new(op, &sizes) else {
        return Ok(Vec::new());
    };
    // the sizes counted each key's keyspace hit or miss: the later reads
    // of the same keys do not
    let mut candidates = Vec::new();
    let parts = per_shard(client, keys, owners, &plan.fetch, |db, k| {
        db.counting_lookups(false, || db.set_union_of(k))
    })
    .await;
    for (_, part) in parts {
        candidates.extend(part?);
    }
    if plan.fetch.len() > 1 {
        candidates.sort_unstable();
        candidates.dedup();
    }
    let groups = group_by_shard(owners, &plan.filter);
    let last = groups.len().saturating_sub(1);
    for (i, (shard, positions)) in groups.into_iter().enumerate() {
        if candidates.is_empty() {
            break;
        }
        let group: Vec<Vec<u8>> = positions.iter().map(|&p| keys[p].clone()).collect();
        let keep = plan.keep;
        let limit = if i == last { limit } else { 0 };
        candidates = on_shard(client, shard, move |db| {
            db.counting_lookups(false, || db.set_filter(&group, candidates, keep, limit))
        })
        .await?;
    }
    if limit > 0 {
        candidates.truncate(limit);
    }
    Ok(candidates)
}

/// `positions` grouped by owning shard, in order of first appearance.
fn group_by_shard(owners: &[usize], positions: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for &p in positions {
        match groups.iter_mut().find(|(s, _)| *s == owners[p]) {
            Some((_, g)) => g.push(p),
            None => groups.push((owners[p], vec![p])),
        }
    }
    groups
}

/// A shard's answer on its way.
type Pending<T> = Pin<Box<dyn Future<Output = T>>>;

/// Runs `f` on every shard owning some of the keys at `positions` (in
/// parallel), with those keys; returns each group's positions and result.
/// Remote calls are sent eagerly; a local one runs while they are in
/// flight.
async fn per_shard<T, F>(
    client: &Client,
    keys: &[Vec<u8>],
    owners: &[usize],
    positions: &[usize],
    f: F,
) -> Vec<(Vec<usize>, T)>
where
    T: Send + 'static,
    F: Fn(&Db, &[Vec<u8>]) -> T + Send + Clone + 'static,
{
    let db = client.db;
    let mut pending: Vec<(Vec<usize>, Pending<T>)> = Vec::new();
    for (shard, group) in group_by_shard(owners, positions) {
        let part: Vec<Vec<u8>> = group.iter().map(|&p| keys[p].clone()).collect();
        let f = f.clone();
        let fut: Pending<T> = if shard == client.shard.id {
            // runs when awaited, after every remote part has been sent
            let local = client.shard.clone();
            Box::pin(async move { f(&Db::new(&local, db), &part) })
        } else {
            Box::pin(
                client
                    .mesh()
                    .call(shard, move |s| f(&Db::new(s, db), &part)),
            )
        };
        pending.push((group, fut));
    }
    let mut out = Vec::with_capacity(pending.len());
    for (group, fut) in pending {
        out.push((group, fut.await));
    }
    out
}

fn sinter(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(set_algebra(
        client,
        SetOp::Inter,
        a[1..].to_vec(),
        Output::Members,
    ))
}

fn sunion(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(set_algebra(
        client,
        SetOp::Union,
        a[1..].to_vec(),
        Output::Members,
    ))
}

fn sdiff(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(set_algebra(
        client,
        SetOp::Diff,
        a[1..].to_vec(),
        Output::Members,
    ))
}

/// The S*STORE commands: `destination key [key ...]`.
fn store(client: &mut Client, op: SetOp, mut a: Args) -> BoxFuture<'_> {
    let keys = a.split_off(2);
    let dst = a.pop().expect("arity -3");
    Box::pin(set_algebra(client, op, keys, Output::Store(dst)))
}

fn sinterstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    store(client, SetOp::Inter, a)
}

fn sunionstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    store(client, SetOp::Union, a)
}

fn sdiffstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    store(client, SetOp::Diff, a)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit].
fn sintercard(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let numkeys = match parse_i64(&a[1]) {
            Some(n) if n > 0 => n as usize,
            _ => return Reply::err("ERR numkeys should be greater than 0"),
        };
        if numkeys > a.len() - 2 {
            return Reply::err("ERR Number of keys can't be greater than number of args");
        }
        let mut limit = 0;
        for opt in a[2 + numkeys..].chunks(2) {
            match opt {
                [name, value] if name.eq_ignore_ascii_case(b"limit") => match parse_i64(value) {
                    Some(l) if l >= 0 => limit = l as usize,
                    _ => return Reply::err("ERR LIMIT can't be negative"),
                },
                _ => return syntax_error(),
            }
        }
        let keys = a[2..2 + numkeys].to_vec();
        set_algebra(client, SetOp::Inter, keys, Output::Card(limit)).await
    })
}
