//! Hash commands (Redis 7 semantics) on top of `data_types::hash`.

use super::strings::tri;
use super::{cmd, not_integer, on_owner, syntax_error, Args, BoxFuture, Command, Exec::*};
use crate::data_types::collection::Collection;
use crate::data_types::{Db, MetaRead, Result};
use crate::protocol::reply::BulkArray;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::storage::encoding::Kind;
use crate::storage::Cf;
use crate::util::glob::glob_match;
use crate::util::long_double::LongDouble;
use crate::util::num::parse_i64;

/// The hash family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "hset",
        -4,
        "write denyoom fast",
        (1, 1, 1),
        "hash",
        Keyed(hset),
    ),
    cmd(
        "hmset",
        -4,
        "write denyoom fast",
        (1, 1, 1),
        "hash",
        Keyed(hmset),
    ),
    cmd(
        "hsetnx",
        4,
        "write denyoom fast",
        (1, 1, 1),
        "hash",
        Keyed(hsetnx),
    ),
    meta_read!("hget", 3, "hash", hget),
    cmd(
        "hmget",
        -3,
        "readonly fast",
        (1, 1, 1),
        "hash",
        Keyed(hmget),
    ),
    cmd("hdel", -3, "write fast", (1, 1, 1), "hash", Keyed(hdel)),
    meta_read!("hlen", "hash", hlen),
    meta_read!("hstrlen", 3, "hash", hstrlen),
    meta_read!("hexists", 3, "hash", hexists),
    cmd("hgetall", 2, "readonly", (1, 1, 1), "hash", Keyed(hgetall)),
    cmd("hkeys", 2, "readonly", (1, 1, 1), "hash", Keyed(hkeys)),
    cmd("hvals", 2, "readonly", (1, 1, 1), "hash", Keyed(hvals)),
    cmd(
        "hincrby",
        4,
        "write denyoom fast",
        (1, 1, 1),
        "hash",
        Keyed(hincrby),
    ),
    cmd(
        "hincrbyfloat",
        4,
        "write denyoom fast",
        (1, 1, 1),
        "hash",
        Keyed(hincrbyfloat),
    ),
    cmd("hscan", -3, "readonly", (1, 1, 1), "hash", Keyed(hscan)),
    cmd(
        "hrandfield",
        -2,
        "readonly",
        (1, 1, 1),
        "hash",
        Coord(hrandfield),
    ),
];

/// HSET and HMSET: the pairs after the key must be complete.
fn set_fields(db: &Db, a: &[Vec<u8>]) -> Result<u64> {
    if a.len() % 2 == 1 {
        let name = String::from_utf8_lossy(&a[0]).to_ascii_lowercase();
        return Err(super::arity_error(&name));
    }
    db.hash_set(&a[1], &a[2..])
}

fn hset(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(set_fields(db, a)) as i64)
}

fn hmset(db: &Db, a: &[Vec<u8>]) -> Reply {
    tri!(set_fields(db, a));
    Reply::ok()
}

fn hsetnx(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.hash_set_nx(&a[1], &a[2], &a[3])) as i64)
}

fn hget(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::opt_bulk(tri!(db.sub_value(&a[1], Kind::Hash, &a[2])))
}

fn hmget(db: &Db, a: &[Vec<u8>]) -> Reply {
    let values = tri!(db.hash_get(&a[1], &a[2..]));
    Reply::Array(values.into_iter().map(Reply::opt_bulk).collect())
}

fn hdel(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.hash_del(&a[1], &a[2..])) as i64)
}

fn hlen(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.size_of(&a[1], Kind::Hash)) as i64)
}

fn hstrlen(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    let value = tri!(db.sub_value(&a[1], Kind::Hash, &a[2]));
    Reply::Int(value.map_or(0, |v| v.len() as i64))
}

fn hexists(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.sub_value(&a[1], Kind::Hash, &a[2])).is_some() as i64)
}

fn hgetall(db: &Db, a: &[Vec<u8>]) -> Reply {
    let entries = tri!(db.hash_entries(&a[1]));
    Reply::Map(
        entries
            .into_iter()
            .map(|(f, v)| (Reply::Bulk(f), Reply::Bulk(v)))
            .collect(),
    )
}

fn hkeys(db: &Db, a: &[Vec<u8>]) -> Reply {
    hash_column(db, &a[1], |field, _| field)
}

fn hvals(db: &Db, a: &[Vec<u8>]) -> Reply {
    hash_column(db, &a[1], |_, value| value)
}

/// HKEYS and HVALS: one column of the hash.
fn hash_column(db: &Db, key: &[u8], pick: PickSub) -> Reply {
    match tri!(db.open_hash(key)) {
        Some(h) => Reply::BulkArray(encoded_subs(db, &h, pick)),
        None => Reply::Array(Vec::new()),
    }
}

/// Which half of a (sub-key, value) pair a reply takes.
pub(super) type PickSub = for<'a> fn(&'a [u8], &'a [u8]) -> &'a [u8];

/// What `pick` takes of each (sub-key, value) of `c`, in byte order,
/// encoded as bulk strings as it is read: no copy of the other half and no
/// vector per element (HKEYS, HVALS, SMEMBERS).
pub(super) fn encoded_subs(db: &Db, c: &Collection, pick: PickSub) -> BulkArray {
    let mut out = BulkArray::expecting(c.meta.size.min(1024) as usize);
    db.iter_sub(Cf::Data, c, None, false, |sub, value| {
        out.push(pick(sub, value));
        true
    });
    out
}

/// HINCRBY and HINCRBYFLOAT: `step` turns the field's current value
/// (`None` if absent) into the new value and the reply.
fn incr_field(
    db: &Db,
    a: &[Vec<u8>],
    step: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, Reply)>,
) -> Reply {
    tri!(db.hash_update(&a[1], &a[2], step))
}

fn hincrby(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(by) = parse_i64(&a[3]) else {
        return not_integer();
    };
    incr_field(db, a, |old| {
        let current = match old {
            None => 0,
            Some(v) => {
                parse_i64(v).ok_or_else(|| Reply::err("ERR hash value is not an integer"))?
            }
        };
        let n = current
            .checked_add(by)
            .ok_or_else(|| Reply::err("ERR increment or decrement would overflow"))?;
        Ok((n.to_string().into_bytes(), Reply::Int(n)))
    })
}

/// HINCRBYFLOAT: in x87 `long double`, as Redis on x86-64 computes it
/// (`util::long_double`).
fn hincrbyfloat(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(by) = LongDouble::parse(&a[3]) else {
        return Reply::err("ERR value is not a valid float");
    };
    if !by.is_finite() {
        return Reply::err("ERR value is NaN or Infinity");
    }
    incr_field(db, a, |old| {
        let current = match old {
            None => LongDouble::ZERO,
            Some(v) => {
                LongDouble::parse(v).ok_or_else(|| Reply::err("ERR hash value is not a float"))?
            }
        };
        let Some(n) = current.add(&by).filter(LongDouble::is_finite) else {
            return Err(Reply::err("ERR increment would produce NaN or Infinity"));
        };
        let text = n.to_human().into_bytes();
        Ok((text.clone(), Reply::Bulk(text)))
    })
}

fn hscan(db: &Db, a: &[Vec<u8>]) -> Reply {
    scan_collection(db, a, Kind::Hash)
}

/// Parses a SCAN-family cursor like Redis's `strtoul`: optional sign, no
/// leading space, no overflow (a negative cursor wraps).
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(arg).ok()?;
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return (s.is_empty()).then_some(0);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(if negative { n.wrapping_neg() } else { n })
}

/// HSCAN and SSCAN (`a` = name, key, cursor, options): pages through the
/// collection's sub-keys in byte order. A cursor is a token for the
/// sub-key to resume at, remembered by the owning shard (an unknown token
/// starts over); hashes reply with field and value.
pub(super) fn scan_collection(db: &Db, a: &[Vec<u8>], kind: Kind) -> Reply {
    let Some(cursor) = parse_cursor(&a[2]) else {
        return Reply::err("ERR invalid cursor");
    };
    let empty = || Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
    let Some(c) = tri!(db.open_collection(&a[1], kind)) else {
        return empty();
    };
    let (mut pattern, mut count) = (None, 10usize);
    for opt in a[3..].chunks(2) {
        let name = String::from_utf8_lossy(&opt[0]).to_ascii_lowercase();
        match (name.as_str(), opt.get(1)) {
            ("match", Some(p)) => pattern = Some(p),
            ("count", Some(n)) => match parse_i64(n) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => return syntax_error(),
                None => return not_integer(),
            },
            _ => return syntax_error(),
        }
    }
    let from = (cursor != 0)
        .then(|| db.shard.scan_cursors.borrow().get(cursor))
        .flatten();
    let (page, next) = db.scan_subs(Cf::Data, &c, from.as_deref(), count);
    let next = next.map_or(0, |sub| db.shard.scan_cursors.borrow_mut().save(sub));
    let mut items = Vec::new();
    for (sub, value) in page {
        if pattern.is_none_or(|p| glob_match(p, &sub, false)) {
            items.push(Reply::Bulk(sub));
            if kind == Kind::Hash {
                items.push(Reply::Bulk(value));
            }
        }
    }
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(items)])
}

/// Most elements a negative (repeating) random count may ask for: the
/// reply is built in memory.
pub(super) const MAX_RANDOM_REPEATS: u64 = 1 << 24;

/// Parses the count of SRANDMEMBER / HRANDFIELD (any i64 but i64::MIN).
pub(super) fn parse_random_count(arg: &[u8]) -> std::result::Result<i64, Reply> {
    match parse_i64(arg) {
        None => Err(not_integer()),
        Some(i64::MIN) => Err(Reply::err(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        ))),
        Some(n) if n < 0 && n.unsigned_abs() > MAX_RANDOM_REPEATS => {
            Err(Reply::err("ERR value is out of range"))
        }
        Some(n) => Ok(n),
    }
}

fn hrandfield(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let resp = client.resp;
        let key = a[1].clone();
        on_owner(client, &key, move |db| random_fields(db, &a, resp)).await
    })
}

/// HRANDFIELD on the owning shard; `resp` shapes WITHVALUES replies
/// (RESP3: an array of pairs, RESP2: flat).
fn random_fields(db: &Db, a: &[Vec<u8>], resp: u8) -> Reply {
    if a.len() == 2 {
        let Some(c) = tri!(db.open_hash(&a[1])) else {
            return Reply::Nil;
        };
        let pick = db.sample_sub(Cf::Data, &c, 1, true).pop();
        return Reply::opt_bulk(pick.map(|(f, _)| f));
    }
    let count = tri!(parse_random_count(&a[2]));
    let with_values = match a.get(3) {
        None => false,
        Some(opt) if a.len() == 4 && opt.eq_ignore_ascii_case(b"withvalues") => true,
        Some(_) => return syntax_error(),
    };
    if with_values && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Reply::err("ERR value is out of range");
    }
    let Some(c) = tri!(db.open_hash(&a[1])) else {
        return Reply::Array(Vec::new());
    };
    let picks = db.sample_sub(Cf::Data, &c, count.unsigned_abs() as usize, count > 0);
    let mut out = Vec::with_capacity(picks.len() * (1 + with_values as usize));
    for (field, value) in picks {
        match (with_values, resp) {
            (false, _) => out.push(Reply::Bulk(field)),
            (true, 2) => out.extend([Reply::Bulk(field), Reply::Bulk(value)]),
            (true, _) => out.push(Reply::Array(vec![Reply::Bulk(field), Reply::Bulk(value)])),
        }
    }
    Reply::Array(out)
}
