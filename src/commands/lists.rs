//! List commands (Redis 7 semantics) on top of `data_types::list`.
//!
//! Single-key commands run on the key's shard. LMOVE/RPOPLPUSH and the
//! multi-key pops (LMPOP, BLPOP, BRPOP, BLMPOP) coordinate: keys on one
//! shard are handled in one step there; across shards, the keys are tried
//! in argument order shard by shard, and a move pops on the source's shard
//! and pushes on the destination's (not atomic against concurrent writers
//! of those keys, like cross-shard RENAME). Blocking forms then wait
//! through `shard::blocking`.

use super::strings::tri;
use super::{
    arity_error, cmd, not_integer, on_shard, syntax_error, Args, BoxFuture, Command, Exec::*,
};
use crate::data_types::list::End;
use crate::data_types::{Db, MetaRead, Result};
use crate::protocol::reply::BulkArray;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::blocking::{block_on_keys, parse_timeout, Serve};
use crate::shard::routing::shard_of;
use crate::storage::encoding::Kind;
use crate::storage::Batch;
use crate::util::num::parse_i64;
use std::time::Duration;

const G: &str = "list";

/// The list family.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    cmd("lpush", -3, "write denyoom fast", (1, 1, 1), G, Keyed(push)),
    cmd("rpush", -3, "write denyoom fast", (1, 1, 1), G, Keyed(push)),
    cmd("lpushx", -3, "write denyoom fast", (1, 1, 1), G, Keyed(push)),
    cmd("rpushx", -3, "write denyoom fast", (1, 1, 1), G, Keyed(push)),
    cmd("lpop", -2, "write fast", (1, 1, 1), G, Keyed(pop)),
    cmd("rpop", -2, "write fast", (1, 1, 1), G, Keyed(pop)),
    meta_read!("llen", G, llen),
    cmd("lrange", 4, "readonly", (1, 1, 1), G, Keyed(lrange)),
    cmd("lindex", 3, "readonly", (1, 1, 1), G, Keyed(lindex)),
    cmd("lset", 4, "write denyoom", (1, 1, 1), G, Keyed(lset)),
    cmd("linsert", 5, "write denyoom", (1, 1, 1), G, Keyed(linsert)),
    cmd("lrem", 4, "write", (1, 1, 1), G, Keyed(lrem)),
    cmd("ltrim", 4, "write", (1, 1, 1), G, Keyed(ltrim)),
    cmd("lpos", -3, "readonly", (1, 1, 1), G, Keyed(lpos)),
    cmd("lmove", 5, "write denyoom", (1, 2, 1), G, Coord(lmove)),
    cmd("rpoplpush", 3, "write denyoom", (1, 2, 1), G, Coord(lmove)),
    cmd("lmpop", -4, "write movablekeys", (0, 0, 0), G, Coord(lmpop)),
    cmd("blpop", -3, "write noscript blocking", (1, -2, 1), G, Coord(bpop)),
    cmd("brpop", -3, "write noscript blocking", (1, -2, 1), G, Coord(bpop)),
    cmd("blmove", 6, "write denyoom noscript blocking", (1, 2, 1), G, Coord(lmove)),
    cmd("brpoplpush", 4, "write denyoom noscript blocking", (1, 2, 1), G, Coord(lmove)),
    cmd("blmpop", -5, "write blocking movablekeys", (0, 0, 0), G, Coord(lmpop)),
];

// ------------------------------------------------------------- arguments

fn name_of(a: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&a[0]).to_ascii_lowercase()
}

/// The end a command name works on: L… is the head, R… the tail.
fn end_of_name(name: &str) -> End {
    if name.starts_with('l') || name.starts_with("bl") {
        End::Left
    } else {
        End::Right
    }
}

/// `LEFT` / `RIGHT`.
fn parse_end(arg: &[u8]) -> Result<End> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(syntax_error())
    }
}

fn parse_int(arg: &[u8]) -> Result<i64> {
    parse_i64(arg).ok_or_else(not_integer)
}

/// A count that must be ≥ `min`; `msg` is the error for anything else.
fn parse_count(arg: &[u8], min: i64, msg: &str) -> Result<u64> {
    match parse_i64(arg) {
        Some(n) if n >= min => Ok(n as u64),
        _ => Err(Reply::err(msg)),
    }
}

/// Resolves a possibly negative index against `len`.
fn absolute(index: i64, len: u64) -> i64 {
    if index < 0 {
        index.saturating_add(len as i64)
    } else {
        index
    }
}

/// Clamps a `start stop` pair (LRANGE/LTRIM rules) to positions of a
/// list of `len`; `None` when the range is empty.
fn clamp_range(start: i64, stop: i64, len: u64) -> Option<(u64, u64)> {
    let start = absolute(start, len).max(0);
    let stop = absolute(stop, len);
    if start > stop || start as u64 >= len {
        return None;
    }
    Some((start as u64, (stop as u64).min(len - 1)))
}

// ---------------------------------------------------- single-key commands

fn push(db: &Db, a: &[Vec<u8>]) -> Reply {
    let name = name_of(a);
    let create = !name.ends_with('x');
    Reply::Int(tri!(db.list_push(&a[1], end_of_name(&name), &a[2..], create)) as i64)
}

fn pop(db: &Db, a: &[Vec<u8>]) -> Reply {
    let name = name_of(a);
    if a.len() > 3 {
        return arity_error(&name);
    }
    let count = match a.get(2) {
        Some(c) => Some(tri!(parse_count(
            c,
            0,
            "ERR value is out of range, must be positive"
        ))),
        None => None,
    };
    let popped = tri!(db.list_pop(&a[1], end_of_name(&name), count.unwrap_or(1)));
    match (popped, count) {
        (None, None) => Reply::Nil,
        (None, Some(_)) => Reply::NilArray,
        (Some(mut v), None) => Reply::opt_bulk(v.pop()),
        (Some(v), Some(_)) => Reply::bulks(v),
    }
}

fn llen(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.size_of(&a[1], Kind::List)) as i64)
}

fn lrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (start, stop) = (tri!(parse_int(&a[2])), tri!(parse_int(&a[3])));
    let Some(list) = tri!(db.open_list(&a[1])) else {
        return Reply::Array(Vec::new());
    };
    match clamp_range(start, stop, list.len()) {
        Some((from, to)) => {
            let n = to - from + 1;
            let mut values = BulkArray::expecting(n.min(1024) as usize);
            tri!(list.visit(db, from, n, false, |v| values.push(v)));
            Reply::BulkArray(values)
        }
        None => Reply::Array(Vec::new()),
    }
}

fn lindex(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(list) = tri!(db.open_list(&a[1])) else {
        return Reply::Nil;
    };
    let pos = absolute(tri!(parse_int(&a[2])), list.len());
    if pos < 0 || pos as u64 >= list.len() {
        return Reply::Nil;
    }
    Reply::opt_bulk(tri!(list.get(db, pos as u64)))
}

fn lset(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(list) = tri!(db.open_list(&a[1])) else {
        return Reply::err("ERR no such key");
    };
    let pos = absolute(tri!(parse_int(&a[2])), list.len());
    if pos < 0 || pos as u64 >= list.len() {
        return Reply::err("ERR index out of range");
    }
    let mut batch = Batch::default();
    list.set(db, &mut batch, pos as u64, &a[3]);
    tri!(list.commit(db, batch));
    Reply::ok()
}

fn linsert(db: &Db, a: &[Vec<u8>]) -> Reply {
    let after = if a[2].eq_ignore_ascii_case(b"after") {
        true
    } else if a[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return syntax_error();
    };
    let Some(mut list) = tri!(db.open_list(&a[1])) else {
        return Reply::Int(0);
    };
    let mut pivot = None;
    list.scan(db, false, |pos, v| {
        if v == a[3].as_slice() {
            pivot = Some(pos);
        }
        pivot.is_none()
    });
    let Some(pivot) = pivot else {
        return Reply::Int(-1);
    };
    let mut batch = Batch::default();
    tri!(list.insert(db, &mut batch, pivot + after as u64, &a[4]));
    let len = list.len();
    tri!(list.commit(db, batch));
    Reply::Int(len as i64)
}

fn lrem(db: &Db, a: &[Vec<u8>]) -> Reply {
    let count = tri!(parse_int(&a[2]));
    let Some(mut list) = tri!(db.open_list(&a[1])) else {
        return Reply::Int(0);
    };
    let limit = if count == 0 {
        u64::MAX
    } else {
        count.unsigned_abs()
    };
    let mut positions = Vec::new();
    list.scan(db, count < 0, |pos, v| {
        if v == a[3].as_slice() {
            positions.push(pos);
        }
        (positions.len() as u64) < limit
    });
    if positions.is_empty() {
        return Reply::Int(0);
    }
    if count < 0 {
        positions.reverse();
    }
    let mut batch = Batch::default();
    tri!(list.remove(db, &mut batch, &positions));
    tri!(list.commit(db, batch));
    Reply::Int(positions.len() as i64)
}

fn ltrim(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (start, stop) = (tri!(parse_int(&a[2])), tri!(parse_int(&a[3])));
    let Some(mut list) = tri!(db.open_list(&a[1])) else {
        return Reply::ok();
    };
    let len = list.len();
    let mut batch = Batch::default();
    match clamp_range(start, stop, len) {
        Some((0, to)) if to == len - 1 => {
            // nothing to remove, yet Redis announces and signals the trim
            db.announce(&a[1], ("ltrim", "list"));
            return Reply::ok();
        }
        Some((from, to)) => list.trim(db, &mut batch, from, to),
        None => list.trim(db, &mut batch, 1, 0),
    }
    tri!(list.commit(db, batch));
    Reply::ok()
}

fn lpos(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0u64);
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if more && a[j].eq_ignore_ascii_case(b"rank") {
            rank = tri!(parse_int(&a[j + 1]));
            if rank == 0 {
                return Reply::err(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                );
            }
        } else if more && a[j].eq_ignore_ascii_case(b"count") {
            count = Some(tri!(parse_count(
                &a[j + 1],
                0,
                "ERR COUNT can't be negative"
            )));
        } else if more && a[j].eq_ignore_ascii_case(b"maxlen") {
            maxlen = tri!(parse_count(&a[j + 1], 0, "ERR MAXLEN can't be negative"));
        } else {
            return syntax_error();
        }
        j += 2;
    }
    let Some(list) = tri!(db.open_list(&a[1])) else {
        return if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        };
    };
    // as Redis: a negative rank searches from the tail (and i64::MIN stays
    // negative, so every match qualifies)
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let (mut seen, mut matches, mut found) = (0u64, 0i64, Vec::new());
    list.scan(db, from_tail, |pos, v| {
        if maxlen != 0 && seen >= maxlen {
            return false;
        }
        seen += 1;
        if v != a[2].as_slice() {
            return true;
        }
        matches += 1;
        if matches < rank {
            return true;
        }
        found.push(pos);
        match count {
            None => false,
            Some(c) => c == 0 || (found.len() as u64) < c,
        }
    });
    match count {
        Some(_) => Reply::Array(found.into_iter().map(|p| Reply::Int(p as i64)).collect()),
        None => found.first().map_or(Reply::Nil, |&p| Reply::Int(p as i64)),
    }
}

// ------------------------------------------------------ multi-key pops

/// How popped elements are replied: BLPOP's `[key, element]` or the
/// MPOP family's `[key, [elements…]]` with up to `count` elements.
#[derive(Clone, Copy)]
enum Shape {
    One,
    Many(u64),
}

impl Shape {
    fn count(self) -> u64 {
        match self {
            Shape::One => 1,
            Shape::Many(n) => n,
        }
    }

    fn reply(self, key: &[u8], mut values: Vec<Vec<u8>>) -> Reply {
        let popped = match self {
            Shape::One => Reply::opt_bulk(values.pop()),
            Shape::Many(_) => Reply::bulks(values),
        };
        Reply::Array(vec![Reply::bulk(key), popped])
    }
}

/// Pops from the first of `keys` (all on `db`'s shard) holding a list;
/// a key of another type met first is WRONGTYPE. `None` if all are absent.
fn pop_first(db: &Db, keys: &[Vec<u8>], end: End, shape: Shape) -> Option<Reply> {
    keys.iter()
        .find_map(|key| match db.list_pop(key, end, shape.count()) {
            Ok(None) => None,
            Ok(Some(values)) => Some(shape.reply(key, values)),
            Err(e) => Some(e),
        })
}

/// [`pop_first`] over keys on any shards: runs of consecutive keys with
/// the same owner are tried in one step, in argument order.
async fn pop_first_anywhere(
    client: &Client,
    keys: &[Vec<u8>],
    end: End,
    shape: Shape,
) -> Option<Reply> {
    let n = client.shard.shard_count();
    for run in keys.chunk_by(|x, y| shard_of(x, n) == shard_of(y, n)) {
        let run = run.to_vec();
        let owner = shard_of(&run[0], n);
        if let Some(r) = on_shard(client, owner, move |db| pop_first(db, &run, end, shape)).await {
            return Some(r);
        }
    }
    None
}

/// Whether `key` holds a (necessarily non-empty) list.
fn has_list(db: &Db, key: &[u8]) -> bool {
    matches!(db.lookup(key), Ok(Some(m)) if m.kind == Kind::List && m.size > 0)
}

/// What a blocked list command receives when served.
enum Woken {
    /// The final reply.
    Reply(Reply),
    /// BLMOVE across shards: the element popped from the source, still to
    /// be pushed on the destination's shard.
    Popped(Vec<u8>),
}

/// A blocked BLPOP/BRPOP/BLMPOP.
struct PopWaiter {
    end: End,
    shape: Shape,
}

impl Serve<Woken> for PopWaiter {
    fn ready(&self, db: &Db, key: &[u8]) -> bool {
        has_list(db, key)
    }

    fn serve(&mut self, db: &Db, key: &[u8]) -> Woken {
        let key = [key.to_vec()];
        // the pop's keyspace events, not those of the write that woke it
        let event = match self.end {
            End::Left => "lpop",
            End::Right => "rpop",
        };
        db.shard.run_as((event, "list"), || {
            Woken::Reply(pop_first(db, &key, self.end, self.shape).unwrap_or(Reply::NilArray))
        })
    }
}

/// A blocked BLMOVE/BRPOPLPUSH; `dst_here` when the destination lives on
/// the source's shard (then the move is one batch).
struct MoveWaiter {
    dst: Vec<u8>,
    from: End,
    to: End,
    dst_here: bool,
}

impl Serve<Woken> for MoveWaiter {
    fn ready(&self, db: &Db, key: &[u8]) -> bool {
        has_list(db, key)
    }

    fn serve(&mut self, db: &Db, key: &[u8]) -> Woken {
        let result = if self.dst_here {
            db.list_move(key, &self.dst, self.from, self.to)
                .map(|v| Woken::Reply(Reply::opt_bulk(v)))
        } else {
            db.list_pop(key, self.from, 1)
                .map(|v| match v.and_then(|mut v| v.pop()) {
                    Some(v) => Woken::Popped(v),
                    None => Woken::Reply(Reply::NilArray),
                })
        };
        result.unwrap_or_else(Woken::Reply)
    }
}

/// Waits for one of `keys` to serve a pop; the null array on timeout.
async fn block_pop(
    client: &Client,
    keys: Vec<Vec<u8>>,
    end: End,
    shape: Shape,
    timeout: Option<Duration>,
) -> Reply {
    match block_on_keys(client, keys, timeout, |_| {
        Box::new(PopWaiter { end, shape }) as Box<dyn Serve<Woken>>
    })
    .await
    {
        Ok(Some(Woken::Reply(r))) => r,
        Ok(Some(Woken::Popped(_))) => unreachable!("pops reply on their shard"),
        Ok(None) => Reply::NilArray,
        Err(unblocked) => unblocked,
    }
}

/// LMPOP/BLMPOP arguments from `numkeys` (at `at`): keys, end, count.
fn parse_mpop(a: &[Vec<u8>], at: usize) -> Result<(Vec<Vec<u8>>, End, u64)> {
    let numkeys = parse_count(&a[at], 1, "ERR numkeys should be greater than 0")?;
    if numkeys >= (a.len() - at - 1) as u64 {
        return Err(syntax_error());
    }
    let end_at = at + 1 + numkeys as usize;
    let end = parse_end(&a[end_at])?;
    let mut count = None;
    let mut j = end_at + 1;
    while j < a.len() {
        if count.is_none() && j + 1 < a.len() && a[j].eq_ignore_ascii_case(b"count") {
            count = Some(parse_count(
                &a[j + 1],
                1,
                "ERR count should be greater than 0",
            )?);
            j += 2;
        } else {
            return Err(syntax_error());
        }
    }
    Ok((a[at + 1..end_at].to_vec(), end, count.unwrap_or(1)))
}

fn lmpop(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let blocking = name_of(&a) == "blmpop";
        let (keys, end, count) = tri!(parse_mpop(&a, if blocking { 2 } else { 1 }));
        let timeout = if blocking {
            Some(tri!(parse_timeout(&a[1])))
        } else {
            None
        };
        let shape = Shape::Many(count);
        if let Some(r) = pop_first_anywhere(client, &keys, end, shape).await {
            return r;
        }
        match timeout {
            Some(t) => block_pop(client, keys, end, shape, t).await,
            None => Reply::NilArray,
        }
    })
}

fn bpop(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let timeout = tri!(parse_timeout(&a[a.len() - 1]));
        let end = end_of_name(&name_of(&a));
        let keys = a[1..a.len() - 1].to_vec();
        if let Some(r) = pop_first_anywhere(client, &keys, end, Shape::One).await {
            return r;
        }
        block_pop(client, keys, end, Shape::One, timeout).await
    })
}

// ------------------------------------------------------------------ moves

/// LMOVE on any shards. The nil reply means `src` is absent.
async fn move_anywhere(client: &Client, src: Vec<u8>, dst: Vec<u8>, from: End, to: End) -> Reply {
    let n = client.shard.shard_count();
    let (src_owner, dst_owner) = (shard_of(&src, n), shard_of(&dst, n));
    if src_owner == dst_owner {
        return on_shard(client, src_owner, move |db| {
            match db.list_move(&src, &dst, from, to) {
                Ok(v) => Reply::opt_bulk(v),
                Err(e) => e,
            }
        })
        .await;
    }
    let probe = dst.clone();
    let dst_type = on_shard(client, dst_owner, move |db| {
        db.open_list(&probe).map(|_| ())
    })
    .await;
    let source = src.clone();
    let popped = on_shard(client, src_owner, move |db| {
        if db.open_list(&source)?.is_none() {
            return Ok(None);
        }
        dst_type?;
        // Redis announces the destination's push first: the pop's events
        // wait for it (push_moved)
        let pop = || db.list_pop(&source, from, 1);
        let value = db.shard.without_events(pop)?.and_then(|mut v| v.pop());
        let emptied = db.open_list(&source)?.is_none();
        Ok(value.map(|v| (v, emptied)))
    })
    .await;
    match popped {
        Ok(Some((value, emptied))) => {
            push_moved(client, src, dst, from, to, value, Some(emptied)).await
        }
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// Second half of a cross-shard move: pushes `value` on `dst`. Should
/// `dst` have changed type meanwhile, the element goes back where it was
/// popped and the client gets WRONGTYPE. `held_pop` is set when the pop's
/// keyspace events were held back (with whether it emptied `src`): they
/// follow the push's, in Redis's order.
async fn push_moved(
    client: &Client,
    src: Vec<u8>,
    dst: Vec<u8>,
    from: End,
    to: End,
    value: Vec<u8>,
    held_pop: Option<bool>,
) -> Reply {
    let n = client.shard.shard_count();
    let (src_owner, dst_owner) = (shard_of(&src, n), shard_of(&dst, n));
    let v = vec![value.clone()];
    let src_key = src.clone();
    let pushed = on_shard(client, dst_owner, move |db| {
        // clients blocked on `dst` are served after the held pop's events
        crate::shard::blocking::after(db, || {
            let len = db.list_push(&dst, to, &v, true)?;
            if let Some(emptied) = held_pop {
                let mk = crate::storage::encoding::meta_key(db.index, &src_key);
                let popped = match from {
                    End::Left => "lpop",
                    End::Right => "rpop",
                };
                db.shard.publish_event(&mk, popped, "list");
                if emptied {
                    db.shard.publish_event(&mk, "del", "generic");
                }
            }
            Ok(len)
        })
    })
    .await;
    let Err(e) = pushed else {
        return Reply::Bulk(value);
    };
    let v = vec![value];
    let back = on_shard(client, src_owner, move |db| {
        db.list_push(&src, from, &v, true)
    })
    .await;
    if let Err(lost) = back {
        log::error!("LMOVE: a popped element could not be pushed back: {lost:?}");
    }
    e
}

/// LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH.
fn lmove(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let name = name_of(&a);
        let (from, to) = if name.ends_with("rpoplpush") {
            (End::Right, End::Left)
        } else {
            (tri!(parse_end(&a[3])), tri!(parse_end(&a[4])))
        };
        let timeout = match name.as_str() {
            "blmove" => Some(tri!(parse_timeout(&a[5]))),
            "brpoplpush" => Some(tri!(parse_timeout(&a[3]))),
            _ => None,
        };
        let (src, dst) = (a[1].clone(), a[2].clone());
        let reply = move_anywhere(client, src.clone(), dst.clone(), from, to).await;
        let Some(timeout) = timeout.filter(|_| reply == Reply::Nil) else {
            return reply;
        };
        let n = client.shard.shard_count();
        let dst_here = shard_of(&src, n) == shard_of(&dst, n);
        let waiter = |_: &[Vec<u8>]| {
            Box::new(MoveWaiter {
                dst: dst.clone(),
                from,
                to,
                dst_here,
            }) as Box<dyn Serve<Woken>>
        };
        match block_on_keys(client, vec![src.clone()], timeout, waiter).await {
            Ok(Some(Woken::Reply(r))) => r,
            Ok(Some(Woken::Popped(value))) => {
                push_moved(client, src, dst, from, to, value, None).await
            }
            Ok(None) => Reply::NilArray,
            Err(unblocked) => unblocked,
        }
    })
}
