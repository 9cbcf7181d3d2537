//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted as
//! numbers or as strings, by themselves or by other keys (`BY pattern`),
//! optionally replaced by other keys' values (`GET pattern`), returned or
//! stored as a list (`STORE`).
//!
//! The keys a pattern names may live on any shard: they are read in one
//! request per shard, without taking their locks (only the sorted key and
//! the destination are locked, as for any multi-shard command), so a
//! concurrent write to them may or may not be seen.

use super::strings::tri;
use super::{cmd, on_owner, on_shard, syntax_error, Args, BoxFuture, Command, Exec::*};
use crate::data_types::{Db, MetaRead, Result};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::routing::shard_of;
use crate::storage::encoding::Kind;
use crate::storage::Batch;
use crate::util::num::parse_i64;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The SORT family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "sort",
        -2,
        "write denyoom movablekeys",
        (1, 1, 1),
        "generic",
        Coord(sort),
    ),
    cmd(
        "sort_ro",
        -2,
        "readonly movablekeys",
        (1, 1, 1),
        "generic",
        Coord(sort_ro),
    ),
];

/// A SORT's options, as given.
#[derive(Default)]
struct SortOptions {
    desc: bool,
    alpha: bool,
    /// LIMIT offset count (count < 0: to the end).
    limit: Option<(i64, i64)>,
    /// BY pattern (`None` with `by_nothing`: BY a pattern without `*`).
    by: Option<Vec<u8>>,
    /// Some BY had a pattern without `*`: keep the elements' own order.
    by_nothing: bool,
    gets: Vec<Vec<u8>>,
    store: Option<Vec<u8>>,
}

/// Parses the options after the key; `read_only` (SORT_RO) has no STORE.
/// BY and GET patterns need access to every key (`~*`).
fn parse_options(
    client: &Client,
    a: &[Vec<u8>],
    read_only: bool,
) -> std::result::Result<SortOptions, Reply> {
    let mut o = SortOptions::default();
    let all_keys = client.user.all_keys();
    let denied = |what: &str| {
        Reply::err(format!(
            "ERR {what} option of SORT denied due to insufficient ACL permissions."
        ))
    };
    let mut i = 2;
    while i < a.len() {
        let left = a.len() - i - 1;
        match a[i].to_ascii_lowercase().as_slice() {
            b"asc" => o.desc = false,
            b"desc" => o.desc = true,
            b"alpha" => o.alpha = true,
            b"limit" if left >= 2 => {
                let n = |v: &[u8]| parse_i64(v).ok_or_else(super::not_integer);
                o.limit = Some((n(&a[i + 1])?, n(&a[i + 2])?));
                i += 2;
            }
            b"store" if left >= 1 && !read_only => {
                o.store = Some(a[i + 1].clone());
                i += 1;
            }
            b"by" if left >= 1 => {
                let pattern = &a[i + 1];
                if pattern.contains(&b'*') {
                    if !all_keys {
                        return Err(denied("BY"));
                    }
                    o.by = Some(pattern.clone());
                } else {
                    // for good: a later BY with `*` does not sort again
                    o.by_nothing = true;
                }
                i += 1;
            }
            b"get" if left >= 1 => {
                if !all_keys {
                    return Err(denied("GET"));
                }
                o.gets.push(a[i + 1].clone());
                i += 1;
            }
            _ => return Err(syntax_error()),
        }
        i += 1;
    }
    Ok(o)
}

/// The STORE destination of a SORT or SORT_RO command, if any (the last
/// STORE wins), skipping the other options' arguments (for locking, ACL
/// key checks and COMMAND GETKEYS).
pub fn store_key(args: &[Vec<u8>]) -> Option<Vec<u8>> {
    let (mut i, mut found) = (2, None);
    while i < args.len() {
        match args[i].to_ascii_lowercase().as_slice() {
            b"limit" => i += 2,
            b"by" | b"get" => i += 1,
            b"store" => {
                found = args.get(i + 1).cloned();
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn sort(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(run_sort(client, a, false))
}

fn sort_ro(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(run_sort(client, a, true))
}

/// The elements to sort: a list's in order, a sorted set's by score
/// (when not sorting, its native order too), a set's members.
fn elements(db: &Db, key: &[u8]) -> Result<(Kind, Vec<Vec<u8>>)> {
    let Some(meta) = db.lookup_read(key)? else {
        return Ok((Kind::List, Vec::new()));
    };
    db.counting_lookups(false, || match meta.kind {
        Kind::List => Ok((
            Kind::List,
            match db.open_list(key)? {
                Some(l) => l.read(db, 0, l.len(), false)?,
                None => Vec::new(),
            },
        )),
        Kind::Set => Ok((Kind::Set, db.set_members(key)?)),
        Kind::ZSet => Ok((
            Kind::ZSet,
            match db.open_zset(key)? {
                Some(z) => db.zset_entries(&z).into_iter().map(|(m, _)| m).collect(),
                None => Vec::new(),
            },
        )),
        _ => Err(Reply::err(crate::data_types::WRONGTYPE)),
    })
}

async fn run_sort(client: &mut Client, a: Args, read_only: bool) -> Reply {
    let mut o = tri!(parse_options(client, &a, read_only));
    let key = a[1].clone();
    let (kind, mut items) = tri!(on_owner(client, &a[1], move |db| elements(db, &key)).await);
    // a set has no order of its own to keep when the result is stored
    if o.by_nothing && kind == Kind::Set && o.store.is_some() {
        (o.by_nothing, o.alpha) = (false, true);
    }
    let (start, end) = window(o.limit, items.len());
    let items: Vec<Vec<u8>> = if o.by_nothing {
        if o.desc {
            items.reverse();
        }
        items.drain(start..end).collect()
    } else {
        let by = match &o.by {
            Some(p) => Some(tri!(lookup_pattern(client, p, &items).await)),
            None => None,
        };
        let keys = match sort_keys(&items, by, o.alpha) {
            Some(keys) => keys,
            None => return Reply::err("ERR One or more scores can't be converted into double"),
        };
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&x, &y| {
            let c = compare(&keys[x], &keys[y], &items[x], &items[y]);
            if o.desc {
                c.reverse()
            } else {
                c
            }
        });
        order[start..end]
            .iter()
            .map(|&i| std::mem::take(&mut items[i]))
            .collect()
    };
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    if o.gets.is_empty() {
        out.extend(items.into_iter().map(Some));
    } else {
        let mut columns = Vec::with_capacity(o.gets.len());
        for pattern in &o.gets {
            columns.push(tri!(lookup_pattern(client, pattern, &items).await));
        }
        for row in 0..items.len() {
            out.extend(columns.iter_mut().map(|c| c[row].take()));
        }
    }
    match o.store {
        None => Reply::Array(out.into_iter().map(Reply::opt_bulk).collect()),
        Some(dst) => {
            let values: Vec<Vec<u8>> = out.into_iter().map(Option::unwrap_or_default).collect();
            let n = values.len() as i64;
            let stored = on_owner(client, &dst.clone(), move |db| store(db, &dst, values)).await;
            match stored {
                Ok(()) => Reply::Int(n),
                Err(e) => e,
            }
        }
    }
}

/// The half-open range of sorted positions LIMIT selects among `len`.
fn window(limit: Option<(i64, i64)>, len: usize) -> (usize, usize) {
    let Some((offset, count)) = limit else {
        return (0, len);
    };
    let start = offset.max(0) as u64;
    if start >= len as u64 {
        return (len, len);
    }
    let end = match count {
        c if c < 0 => len as u64,
        c => (start + c as u64).min(len as u64),
    };
    (start as usize, end as usize)
}

/// What an element sorts by.
enum SortKey {
    Number(f64),
    /// ALPHA: the element itself.
    Itself,
    /// ALPHA BY: the value found (`None`: the key was missing).
    Text(Option<Vec<u8>>),
}

/// Each element's sort key; `None` if a number cannot be read.
fn sort_keys(
    items: &[Vec<u8>],
    by: Option<Vec<Option<Vec<u8>>>>,
    alpha: bool,
) -> Option<Vec<SortKey>> {
    match (by, alpha) {
        (Some(by), true) => Some(by.into_iter().map(SortKey::Text).collect()),
        (None, true) => Some(items.iter().map(|_| SortKey::Itself).collect()),
        // a missing BY key sorts as 0
        (Some(by), false) => by
            .iter()
            .map(|v| v.as_deref().map_or(Some(0.0), number).map(SortKey::Number))
            .collect(),
        (None, false) => items
            .iter()
            .map(|v| number(v).map(SortKey::Number))
            .collect(),
    }
}

/// Orders two elements: numbers, ties broken by the elements' bytes;
/// strings by their bytes (a missing BY value first).
fn compare(x: &SortKey, y: &SortKey, ex: &[u8], ey: &[u8]) -> Ordering {
    match (x, y) {
        (SortKey::Number(a), SortKey::Number(b)) => a
            .partial_cmp(b)
            .unwrap_or(Ordering::Equal)
            .then_with(|| ex.cmp(ey)),
        (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
        _ => ex.cmp(ey),
    }
}

/// A number as C's strtod reads the whole of it: leading white space, no
/// trailing bytes, no NaN, nothing out of a double's range, hexadecimal
/// too. The empty string reads as 0.
fn number(v: &[u8]) -> Option<f64> {
    if v.is_empty() {
        return Some(0.0);
    }
    let text = std::str::from_utf8(v)
        .ok()?
        .trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.starts_with("0x") || unsigned.starts_with("0X") {
        return crate::util::long_double::LongDouble::parse(text.as_bytes())?.to_f64();
    }
    let n: f64 = text.parse().ok()?;
    let lower = text.to_ascii_lowercase();
    let infinite_literal = lower.trim_start_matches(['+', '-']).starts_with("inf");
    let digits = lower.split('e').next().unwrap_or("");
    let nonzero = digits.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let out_of_range = (n.is_infinite() && !infinite_literal)
        || (n == 0.0 && nonzero)
        || (n != 0.0 && n.abs() < f64::MIN_POSITIVE);
    (!n.is_nan() && !out_of_range).then_some(n)
}

/// A pattern's key and hash field for `element`: the first `*` replaced by
/// it, and `->field` after the `*` naming a hash field. `None` for a
/// pattern without `*` (it names no key).
fn substitute(pattern: &[u8], element: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let (rest, field) = match after.windows(2).position(|w| w == b"->") {
        Some(p) if p + 2 < after.len() => (&after[..p], Some(after[p + 2..].to_vec())),
        _ => (after, None),
    };
    let mut key = pattern[..star].to_vec();
    key.extend_from_slice(element);
    key.extend_from_slice(rest);
    Some((key, field))
}

/// A pattern's lookups on one shard: element position, key, hash field.
type Lookups = Vec<(usize, Vec<u8>, Option<Vec<u8>>)>;

/// The value a pattern names for each element (`#`: the element itself):
/// a string key's value or a hash field, `None` where the key is missing
/// or of another type. Keys are read on their shards, one request each.
async fn lookup_pattern(
    client: &Client,
    pattern: &[u8],
    items: &[Vec<u8>],
) -> Result<Vec<Option<Vec<u8>>>> {
    if pattern == b"#" {
        return Ok(items.iter().cloned().map(Some).collect());
    }
    let mut out = vec![None; items.len()];
    let n = client.shard.shard_count();
    let mut per_shard: BTreeMap<usize, Lookups> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some((key, field)) = substitute(pattern, item) {
            per_shard
                .entry(shard_of(&key, n))
                .or_default()
                .push((i, key, field));
        }
    }
    let mut pending = Vec::new();
    for (owner, wanted) in per_shard {
        let read = move |db: &Db| -> Result<Vec<(usize, Option<Vec<u8>>)>> {
            wanted
                .into_iter()
                .map(|(i, key, field)| Ok((i, pattern_value(db, &key, field.as_deref())?)))
                .collect()
        };
        pending.push(on_shard(client, owner, read));
    }
    for part in pending {
        for (i, v) in part.await? {
            out[i] = v;
        }
    }
    Ok(out)
}

/// A string key's value, or with `field` a hash's field.
fn pattern_value(db: &Db, key: &[u8], field: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    let meta = db.lookup_read(key)?;
    match (meta, field) {
        (Some(m), None) if m.kind == Kind::String => Ok(Some(m.payload)),
        (Some(m), Some(f)) if m.kind == Kind::Hash => {
            let mut v = db.counting_lookups(false, || db.hash_get(key, &[f.to_vec()]))?;
            Ok(v.pop().flatten())
        }
        _ => Ok(None),
    }
}

/// STORE: replaces `dst` with a list of `values` (deletes it if none).
fn store(db: &Db, dst: &[u8], values: Vec<Vec<u8>>) -> Result<()> {
    if values.is_empty() {
        return db
            .shard
            .naming_events(("del", "generic"), || db.delete_keys([dst]).map(|_| ()));
    }
    // the event is named when the write is staged
    db.shard.naming_events(("sortstore", "list"), || {
        let mut batch = Batch::default();
        let list = crate::data_types::list::list_dump(values, 0);
        db.stage_restore(&mut batch, dst, &list);
        db.write(batch)
    })?;
    crate::shard::blocking::wake(db, dst);
    Ok(())
}
