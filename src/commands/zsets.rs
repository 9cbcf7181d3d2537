//! Sorted-set commands (Redis 7.0 semantics) on top of `data_types::zset`:
//! argument grammar and reply shapes. ZRANGE and its legacy variants share
//! one argument parser and one range engine; ZUNION/ZINTER/ZDIFF, their
//! STORE forms and ZINTERCARD share one set-algebra helper that reads the
//! inputs on their owning shards. ZPOPMIN/ZPOPMAX, ZMPOP and the blocking
//! BZPOPMIN/BZPOPMAX/BZMPOP (through `shard::blocking`) share one pop.

use super::strings::tri;
use super::{
    cmd, not_integer, on_owner, on_shard, syntax_error, Args, BoxFuture, Command, Exec::*,
};
use crate::data_types::collection::Collection;
use crate::data_types::zset::{Entry, LexBound, LexRange, Limit, Range, ScoreRange};
use crate::data_types::MetaRead;
use crate::data_types::{Db, Result, WRONGTYPE};
use crate::protocol::reply::BulkArray;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::blocking::{block_on_keys, parse_timeout, Serve};
use crate::shard::routing::shard_of;
use crate::storage::encoding::Kind;
use crate::util::glob::glob_match;
use crate::util::num::{format_double, parse_f64, parse_i64};
use crate::util::random_u64;
use futures_lite::future::block_on;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

const G: &str = "sorted-set";

/// The sorted-set family.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    cmd("zadd", -4, "write denyoom fast", (1, 1, 1), G, Keyed(zadd)),
    cmd("zincrby", 4, "write denyoom fast", (1, 1, 1), G, Keyed(zincrby)),
    cmd("zrem", -3, "write fast", (1, 1, 1), G, Keyed(zrem)),
    meta_read!("zscore", 3, G, zscore),
    cmd("zmscore", -3, "readonly fast", (1, 1, 1), G, Keyed(zmscore)),
    meta_read!("zcard", G, zcard),
    cmd("zcount", 4, "readonly fast", (1, 1, 1), G, Keyed(zcount)),
    cmd("zlexcount", 4, "readonly fast", (1, 1, 1), G, Keyed(zlexcount)),
    cmd("zrank", 3, "readonly fast", (1, 1, 1), G, Keyed(zrank)),
    cmd("zrevrank", 3, "readonly fast", (1, 1, 1), G, Keyed(zrevrank)),
    cmd("zrange", -4, "readonly", (1, 1, 1), G, Keyed(zrange)),
    cmd("zrevrange", -4, "readonly", (1, 1, 1), G, Keyed(zrevrange)),
    cmd("zrangebyscore", -4, "readonly", (1, 1, 1), G, Keyed(zrangebyscore)),
    cmd("zrevrangebyscore", -4, "readonly", (1, 1, 1), G, Keyed(zrevrangebyscore)),
    cmd("zrangebylex", -4, "readonly", (1, 1, 1), G, Keyed(zrangebylex)),
    cmd("zrevrangebylex", -4, "readonly", (1, 1, 1), G, Keyed(zrevrangebylex)),
    cmd("zrangestore", -5, "write denyoom", (1, 2, 1), G, Coord(zrangestore)),
    cmd("zremrangebyrank", 4, "write", (1, 1, 1), G, Keyed(zremrangebyrank)),
    cmd("zremrangebyscore", 4, "write", (1, 1, 1), G, Keyed(zremrangebyscore)),
    cmd("zremrangebylex", 4, "write", (1, 1, 1), G, Keyed(zremrangebylex)),
    cmd("zpopmin", -2, "write fast", (1, 1, 1), G, Keyed(zpopmin)),
    cmd("zpopmax", -2, "write fast", (1, 1, 1), G, Keyed(zpopmax)),
    cmd("zmpop", -4, "write movablekeys", (0, 0, 0), G, Coord(zmpop)),
    cmd("zrandmember", -2, "readonly", (1, 1, 1), G, Keyed(zrandmember)),
    cmd("zscan", -3, "readonly", (1, 1, 1), G, Keyed(zscan)),
    cmd("zunion", -3, "readonly movablekeys", (0, 0, 0), G, Coord(zunion)),
    cmd("zinter", -3, "readonly movablekeys", (0, 0, 0), G, Coord(zinter)),
    cmd("zdiff", -3, "readonly movablekeys", (0, 0, 0), G, Coord(zdiff)),
    cmd("zintercard", -3, "readonly movablekeys", (0, 0, 0), G, Coord(zintercard)),
    cmd("zunionstore", -4, "write denyoom movablekeys", (1, 1, 1), G, Coord(zunionstore)),
    cmd("zinterstore", -4, "write denyoom movablekeys", (1, 1, 1), G, Coord(zinterstore)),
    cmd("zdiffstore", -4, "write denyoom movablekeys", (1, 1, 1), G, Coord(zdiffstore)),
    cmd("bzpopmin", -3, "write noscript blocking fast", (1, -2, 1), G, Coord(bzpopmin)),
    cmd("bzpopmax", -3, "write noscript blocking fast", (1, -2, 1), G, Coord(bzpopmax)),
    cmd("bzmpop", -5, "write blocking movablekeys", (0, 0, 0), G, Coord(bzmpop)),
];

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

// ---------------------------------------------------------------- numbers

/// Parses a score, increment or weight as Redis's strict
/// `getDoubleFromObject` (strtod): no spaces, no NaN, no overflow to ±inf
/// and no underflow to 0.
fn parse_score(b: &[u8]) -> Option<f64> {
    let d = parse_f64(b)?;
    let text = std::str::from_utf8(b).ok()?.to_ascii_lowercase();
    let unsigned = text.trim_start_matches(['+', '-']);
    if d.is_infinite() && !unsigned.starts_with("inf") {
        return None;
    }
    let mantissa = unsigned.split('e').next().unwrap_or("");
    if d == 0.0 && mantissa.bytes().any(|c| matches!(c, b'1'..=b'9')) {
        return None;
    }
    Some(d)
}

/// Parses one end of a score range (`1.5`, `(1.5`, `-inf`) as Redis's
/// lenient `zslParseRange`: leading spaces allowed, an empty number is 0.
fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (ex, rest) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    if rest.is_empty() {
        return Some((0.0, ex));
    }
    let text = std::str::from_utf8(rest).ok()?;
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let d: f64 = text.parse().ok()?;
    (!d.is_nan()).then_some((d, ex))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        }),
        _ => Err(Reply::err("ERR min or max is not a float")),
    }
}

fn parse_lex_bound(b: &[u8]) -> Option<LexBound> {
    match b.first()? {
        b'+' if b.len() == 1 => Some(LexBound::Max),
        b'-' if b.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Excl(b[1..].to_vec())),
        b'[' => Some(LexBound::Incl(b[1..].to_vec())),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(Reply::err("ERR min or max not valid string range item")),
    }
}

fn parse_int(b: &[u8]) -> Result<i64> {
    parse_i64(b).ok_or_else(not_integer)
}

/// A score the way Redis's small (listpack) sorted sets hold it as text,
/// which ZSCAN returns verbatim: integers up to 2^62 without a fraction,
/// everything else as `%.17g`.
fn listpack_score(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() <= (1u64 << 62) as f64 {
        (d as i64).to_string()
    } else {
        format_double(d)
    }
}

// ---------------------------------------------------------------- replies

fn entries_reply(entries: Vec<Entry>, withscores: bool) -> Reply {
    if withscores {
        Reply::Pairs(
            entries
                .into_iter()
                .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::bulks(entries.into_iter().map(|(m, _)| m))
    }
}

fn score_reply(s: Option<f64>) -> Reply {
    s.map_or(Reply::Nil, Reply::Double)
}

// ------------------------------------------------------------ single key

#[derive(Default, Clone, Copy)]
struct ZaddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

fn zadd(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut f = ZaddFlags::default();
    let mut i = 2;
    while i < a.len() {
        let flag = match a[i].to_ascii_lowercase().as_slice() {
            b"nx" => &mut f.nx,
            b"xx" => &mut f.xx,
            b"gt" => &mut f.gt,
            b"lt" => &mut f.lt,
            b"ch" => &mut f.ch,
            b"incr" => &mut f.incr,
            _ => break,
        };
        *flag = true;
        i += 1;
    }
    let pairs = &a[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return syntax_error();
    }
    if f.nx && f.xx {
        return Reply::err("ERR XX and NX options at the same time are not compatible");
    }
    if [f.gt, f.lt, f.nx].iter().filter(|&&x| x).count() > 1 {
        return Reply::err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && pairs.len() > 2 {
        return Reply::err("ERR INCR option supports a single increment-element pair");
    }
    if f.incr {
        // Redis announces ZADD INCR as ZINCRBY
        let apply = || zadd_apply(db, &a[1], f, pairs);
        return db.shard.naming_events(("zincr", "sorted-set"), apply);
    }
    zadd_apply(db, &a[1], f, pairs)
}

fn zincrby(db: &Db, a: &[Vec<u8>]) -> Reply {
    let flags = ZaddFlags {
        incr: true,
        ..ZaddFlags::default()
    };
    zadd_apply(db, &a[1], flags, &a[2..4])
}

/// ZADD's core (ZINCRBY is ZADD INCR): `pairs` is score, member, ….
fn zadd_apply(db: &Db, key: &[u8], f: ZaddFlags, pairs: &[Vec<u8>]) -> Reply {
    let mut scores = Vec::with_capacity(pairs.len() / 2);
    for p in pairs.chunks(2) {
        match parse_score(&p[0]) {
            Some(s) => scores.push(s),
            None => return Reply::err("ERR value is not a valid float"),
        }
    }
    let mut w = tri!(db.zset_write(key));
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    if w.z.existed() || !f.xx {
        for (p, &score) in pairs.chunks(2).zip(&scores) {
            let member = &p[1];
            let current = tri!(w.score(member));
            let mut score = score;
            match current {
                Some(_) if f.nx => continue,
                Some(cur) => {
                    if f.incr {
                        score += cur;
                        if score.is_nan() {
                            return Reply::err("ERR resulting score is not a number (NaN)");
                        }
                    }
                    if (f.lt && score >= cur) || (f.gt && score <= cur) {
                        continue;
                    }
                    if score != cur {
                        w.set(member, current, score);
                        updated += 1;
                    }
                }
                None if f.xx => continue,
                None => {
                    w.set(member, None, score);
                    added += 1;
                }
            }
            processed += 1;
            last = score;
        }
    }
    tri!(w.commit());
    if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Int(if f.ch { added + updated } else { added })
    }
}

fn zrem(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut w = tri!(db.zset_write(&a[1]));
    let mut removed = 0;
    if w.z.existed() {
        for m in &a[2..] {
            if let Some(s) = tri!(w.score(m)) {
                w.remove(m, s);
                removed += 1;
            }
        }
    }
    tri!(w.commit());
    Reply::Int(removed)
}

fn zscore(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    let value = tri!(db.sub_value(&a[1], Kind::ZSet, &a[2]));
    score_reply(value.and_then(|v| crate::data_types::zset::member_score(&v)))
}

fn zmscore(db: &Db, a: &[Vec<u8>]) -> Reply {
    let z = tri!(db.open_zset(&a[1]));
    let mut out = Vec::with_capacity(a.len() - 2);
    for m in &a[2..] {
        out.push(match &z {
            Some(z) => score_reply(tri!(db.zset_score(z, m))),
            None => Reply::Nil,
        });
    }
    Reply::Array(out)
}

fn zcard(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.size_of(&a[1], Kind::ZSet)) as i64)
}

/// Number of entries of `range` in the set at `key`.
fn count_in(db: &Db, key: &[u8], range: Range) -> Reply {
    let Some(z) = tri!(db.open_zset(key)) else {
        return Reply::Int(0);
    };
    let mut n = 0;
    db.zset_range(&z, &range, false, Limit::ALL, |_, _| n += 1);
    Reply::Int(n)
}

fn zcount(db: &Db, a: &[Vec<u8>]) -> Reply {
    let r = tri!(parse_score_range(&a[2], &a[3]));
    count_in(db, &a[1], Range::Score(r))
}

fn zlexcount(db: &Db, a: &[Vec<u8>]) -> Reply {
    let r = tri!(parse_lex_range(&a[2], &a[3]));
    count_in(db, &a[1], Range::Lex(r))
}

fn rank(db: &Db, a: &[Vec<u8>], reverse: bool) -> Reply {
    let Some(z) = tri!(db.open_zset(&a[1])) else {
        return Reply::Nil;
    };
    tri!(db.zset_rank(&z, &a[2], reverse)).map_or(Reply::Nil, |r| Reply::Int(r as i64))
}

fn zrank(db: &Db, a: &[Vec<u8>]) -> Reply {
    rank(db, a, false)
}

fn zrevrank(db: &Db, a: &[Vec<u8>]) -> Reply {
    rank(db, a, true)
}

// ------------------------------------------------------------ range family

/// What a range is over.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// How a range command reads its arguments: ZRANGE leaves kind and
/// direction to options, the legacy commands fix them.
#[derive(Clone, Copy)]
struct RangeForm {
    by: Option<By>,
    rev: Option<bool>,
    store: bool,
}

impl RangeForm {
    /// ZRANGE's form: kind and direction from options.
    const fn open(store: bool) -> RangeForm {
        RangeForm {
            by: None,
            rev: None,
            store,
        }
    }

    /// A legacy command's form: kind and direction fixed.
    const fn fixed(by: By, rev: bool) -> RangeForm {
        RangeForm {
            by: Some(by),
            rev: Some(rev),
            store: false,
        }
    }
}

/// A parsed range request.
struct RangeQuery {
    range: Range,
    reverse: bool,
    limit: Limit,
    withscores: bool,
}

/// Parses `<min> <max> [options]` starting at `at` (Redis's
/// `zrangeGenericCommand`, same checks in the same order).
fn parse_range_query(a: &[Vec<u8>], at: usize, form: RangeForm) -> Result<RangeQuery> {
    let (mut by, mut rev) = (form.by, form.rev);
    let (mut withscores, mut limit) = (false, Limit::ALL);
    let mut j = at + 2;
    while j < a.len() {
        let opt = &a[j];
        let left = a.len() - j - 1;
        if !form.store && is(opt, "withscores") {
            withscores = true;
        } else if is(opt, "limit") && left >= 2 {
            limit = Limit {
                offset: parse_int(&a[j + 1])?,
                count: parse_int(&a[j + 2])?,
            };
            j += 2;
        } else if rev.is_none() && is(opt, "rev") {
            rev = Some(true);
        } else if by.is_none() && is(opt, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && is(opt, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(syntax_error());
        }
        j += 1;
    }
    let by = by.unwrap_or(By::Rank);
    let reverse = rev.unwrap_or(false);
    // Redis detects LIMIT by its count differing from the default -1.
    if limit.count != -1 && by == By::Rank {
        return Err(Reply::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(Reply::err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (lo, hi) = if reverse && by != By::Rank {
        (&a[at + 1], &a[at])
    } else {
        (&a[at], &a[at + 1])
    };
    let range = match by {
        By::Rank => Range::Rank(parse_int(lo)?, parse_int(hi)?),
        By::Score => Range::Score(parse_score_range(lo, hi)?),
        By::Lex => Range::Lex(parse_lex_range(lo, hi)?),
    };
    Ok(RangeQuery {
        range,
        reverse,
        limit,
        withscores,
    })
}

/// The entries `q` selects from the set at `key` (none if absent).
fn run_range_query(db: &Db, key: &[u8], q: &RangeQuery) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    if let Some((z, count)) = open_range(db, key, q)? {
        out.reserve(count);
        db.zset_range(&z, &q.range, q.reverse, q.limit, |m, s| {
            out.push((m.to_vec(), s))
        });
    }
    Ok(out)
}

/// The sorted set a range query reads, with the number of entries a rank
/// range will visit (to size the result once; capped, 0 for the others).
fn open_range(db: &Db, key: &[u8], q: &RangeQuery) -> Result<Option<(Collection, usize)>> {
    Ok(db.open_zset(key)?.map(|z| {
        let (_, count) = q.range.ranks_in(z.meta.size).unwrap_or_default();
        (z, count.min(1024) as usize)
    }))
}

/// ZRANGE and every legacy variant. Members alone are encoded as they are
/// visited, without a vector per member.
fn range_command(db: &Db, a: &[Vec<u8>], form: RangeForm) -> Reply {
    let q = tri!(parse_range_query(a, 2, form));
    if q.withscores {
        return entries_reply(tri!(run_range_query(db, &a[1], &q)), true);
    }
    let Some((z, count)) = tri!(open_range(db, &a[1], &q)) else {
        return Reply::Array(Vec::new());
    };
    let mut members = BulkArray::expecting(count);
    db.zset_range(&z, &q.range, q.reverse, q.limit, |m, _| members.push(m));
    Reply::BulkArray(members)
}

fn zrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::open(false))
}

fn zrevrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::fixed(By::Rank, true))
}

fn zrangebyscore(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::fixed(By::Score, false))
}

fn zrevrangebyscore(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::fixed(By::Score, true))
}

fn zrangebylex(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::fixed(By::Lex, false))
}

fn zrevrangebylex(db: &Db, a: &[Vec<u8>]) -> Reply {
    range_command(db, a, RangeForm::fixed(By::Lex, true))
}

fn zrangestore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let q = match parse_range_query(&a, 3, RangeForm::open(true)) {
            Ok(q) => q,
            Err(e) => return e,
        };
        let (dst, src) = (a[1].clone(), a[2].clone());
        let read = move |db: &Db| run_range_query(db, &src, &q);
        let n = client.shard.shard_count();
        if shard_of(&a[1], n) == shard_of(&a[2], n) {
            return on_owner(client, &a[1], move |db| store_into(db, &dst, read(db))).await;
        }
        let entries = on_owner(client, &a[2], read).await;
        on_owner(client, &a[1], move |db| store_into(db, &dst, entries)).await
    })
}

/// Replaces `dst` with `entries` (deleting it if empty); replies the count.
fn store_into(db: &Db, dst: &[u8], entries: Result<Vec<Entry>>) -> Reply {
    let entries = tri!(entries);
    tri!(db.zset_replace(dst, &entries));
    Reply::Int(entries.len() as i64)
}

/// ZREMRANGEBY*: parses the range (errors first), then removes it.
fn remove_range(db: &Db, a: &[Vec<u8>], by: By) -> Reply {
    let range = match by {
        By::Rank => Range::Rank(tri!(parse_int(&a[2])), tri!(parse_int(&a[3]))),
        By::Score => Range::Score(tri!(parse_score_range(&a[2], &a[3]))),
        By::Lex => Range::Lex(tri!(parse_lex_range(&a[2], &a[3]))),
    };
    let mut w = tri!(db.zset_write(&a[1]));
    if !w.z.existed() {
        return Reply::Int(0);
    }
    let mut doomed = Vec::new();
    w.db().zset_range(&w.z, &range, false, Limit::ALL, |m, s| {
        doomed.push((m.to_vec(), s))
    });
    for (m, s) in &doomed {
        w.remove(m, *s);
    }
    tri!(w.commit());
    Reply::Int(doomed.len() as i64)
}

fn zremrangebyrank(db: &Db, a: &[Vec<u8>]) -> Reply {
    remove_range(db, a, By::Rank)
}

fn zremrangebyscore(db: &Db, a: &[Vec<u8>]) -> Reply {
    remove_range(db, a, By::Score)
}

fn zremrangebylex(db: &Db, a: &[Vec<u8>]) -> Reply {
    remove_range(db, a, By::Lex)
}

// -------------------------------------------------------------------- pop

/// Pops up to `count` lowest (or highest) entries of the set at `key`;
/// `None` if there is no such set. Shared by ZPOP*, ZMPOP and the
/// blocking variants.
/// Pops up to `count` members from one end of `key`, announced as
/// `zpopmin`/`zpopmax` whichever command pops (ZMPOP and BZMPOP too, as
/// in Redis).
fn pop(db: &Db, key: &[u8], max: bool, count: u64) -> Result<Option<Vec<Entry>>> {
    let event = if max { "zpopmax" } else { "zpopmin" };
    db.shard
        .naming_events((event, "sorted-set"), || pop_now(db, key, max, count))
}

fn pop_now(db: &Db, key: &[u8], max: bool, count: u64) -> Result<Option<Vec<Entry>>> {
    let mut w = db.zset_write(key)?;
    if !w.z.existed() {
        return Ok(None);
    }
    let mut out = Vec::new();
    if count == 0 {
        return Ok(Some(out));
    }
    w.db().zset_range(
        &w.z,
        &Range::Rank(0, count.min(i64::MAX as u64) as i64 - 1),
        max,
        Limit::ALL,
        |m, s| out.push((m.to_vec(), s)),
    );
    for (m, s) in &out {
        w.remove(m, *s);
    }
    w.commit()?;
    Ok(Some(out))
}

fn pop_command(db: &Db, a: &[Vec<u8>], max: bool) -> Reply {
    if a.len() > 3 {
        return syntax_error();
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Reply::err("ERR value is out of range, must be positive"),
        },
    };
    let popped = tri!(pop(db, &a[1], max, count.unwrap_or(1)));
    match (popped, count) {
        (Some(entries), None) => Reply::Array(
            entries
                .into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        ),
        (Some(entries), Some(_)) => entries_reply(entries, true),
        (None, _) => Reply::Array(Vec::new()),
    }
}

fn zpopmin(db: &Db, a: &[Vec<u8>]) -> Reply {
    pop_command(db, a, false)
}

fn zpopmax(db: &Db, a: &[Vec<u8>]) -> Reply {
    pop_command(db, a, true)
}

/// The `[key, [[member, score], …]]` reply of ZMPOP and BZMPOP.
fn mpop_reply(key: Vec<u8>, entries: Vec<Entry>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(key),
        Reply::Array(
            entries
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        ),
    ])
}

/// A parsed `numkeys key… MIN|MAX [COUNT n]` tail of ZMPOP and BZMPOP.
struct MpopArgs {
    /// The keys, in order.
    keys: Vec<Vec<u8>>,
    /// Pop the highest scores.
    max: bool,
    /// How many entries to pop at most.
    count: u64,
}

/// Parses ZMPOP's arguments from `numkeys` at index `at`.
fn parse_mpop(a: &[Vec<u8>], at: usize) -> Result<MpopArgs> {
    let numkeys = match parse_i64(&a[at]) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(Reply::err("ERR numkeys should be greater than 0")),
    };
    let where_at = at
        .checked_add(numkeys)
        .and_then(|x| x.checked_add(1))
        .filter(|&w| w < a.len())
        .ok_or_else(syntax_error)?;
    let max = match &a[where_at] {
        w if is(w, "min") => false,
        w if is(w, "max") => true,
        _ => return Err(syntax_error()),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < a.len() {
        if count.is_none() && is(&a[j], "count") && j + 1 < a.len() {
            match parse_i64(&a[j + 1]) {
                Some(n) if n > 0 => count = Some(n as u64),
                _ => return Err(Reply::err("ERR count should be greater than 0")),
            }
            j += 2;
        } else {
            return Err(syntax_error());
        }
    }
    Ok(MpopArgs {
        keys: a[at + 1..where_at].to_vec(),
        max,
        count: count.unwrap_or(1),
    })
}

fn zmpop(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let m = match parse_mpop(&a, 1) {
            Ok(m) => m,
            Err(e) => return e,
        };
        for key in m.keys {
            let k = key.clone();
            let (max, count) = (m.max, m.count);
            match on_owner(client, &key, move |db| pop(db, &k, max, count)).await {
                Ok(Some(entries)) => return mpop_reply(key, entries),
                Ok(None) => {}
                Err(e) => return e,
            }
        }
        Reply::NilArray
    })
}

/// How a blocking pop replies.
#[derive(Clone, Copy)]
enum PopShape {
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]`.
    Flat,
    /// BZMPOP: `[key, [[member, score], …]]`.
    Nested,
}

/// A blocking pop waiting on some keys of one shard.
#[derive(Clone, Copy)]
struct PopWaiter {
    max: bool,
    count: u64,
    shape: PopShape,
}

impl PopWaiter {
    /// Pops from `key` if it is a sorted set; `None` if it is absent.
    fn try_pop(&self, db: &Db, key: &[u8]) -> Option<Reply> {
        let popped = match pop(db, key, self.max, self.count) {
            Ok(p) => p?,
            Err(e) => return Some(e),
        };
        let key = key.to_vec();
        Some(match self.shape {
            PopShape::Nested => mpop_reply(key, popped),
            PopShape::Flat => {
                let (m, s) = popped.into_iter().next()?;
                Reply::Array(vec![Reply::Bulk(key), Reply::Bulk(m), Reply::Double(s)])
            }
        })
    }
}

impl Serve<Reply> for PopWaiter {
    fn ready(&self, db: &Db, key: &[u8]) -> bool {
        matches!(db.open_zset(key), Ok(Some(_)))
    }

    fn serve(&mut self, db: &Db, key: &[u8]) -> Reply {
        // the pop's keyspace events, not those of the write that woke it
        let event = if self.max { "zpopmax" } else { "zpopmin" };
        db.shard.run_as((event, G), || {
            self.try_pop(db, key).unwrap_or(Reply::NilArray)
        })
    }
}

/// BZPOPMIN, BZPOPMAX and BZMPOP: pop from the first non-empty key (in
/// order, across shards, with WRONGTYPE as in Redis), else block until a
/// write serves the client or the timeout passes (a null array).
async fn blocking_pop(
    client: &Client,
    keys: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    waiter: PopWaiter,
) -> Reply {
    for key in &keys {
        let k = key.clone();
        if let Some(reply) = on_owner(client, key, move |db| waiter.try_pop(db, &k)).await {
            return reply;
        }
    }
    let make = |_: &[Vec<u8>]| Box::new(waiter) as Box<dyn Serve<Reply>>;
    match block_on_keys(client, keys, timeout, make).await {
        Ok(served) => served.unwrap_or(Reply::NilArray),
        Err(unblocked) => unblocked,
    }
}

fn bzpop(client: &mut Client, a: Args, max: bool) -> BoxFuture<'_> {
    Box::pin(async move {
        let timeout = match parse_timeout(&a[a.len() - 1]) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let keys = a[1..a.len() - 1].to_vec();
        let waiter = PopWaiter {
            max,
            count: 1,
            shape: PopShape::Flat,
        };
        blocking_pop(client, keys, timeout, waiter).await
    })
}

fn bzpopmin(client: &mut Client, a: Args) -> BoxFuture<'_> {
    bzpop(client, a, false)
}

fn bzpopmax(client: &mut Client, a: Args) -> BoxFuture<'_> {
    bzpop(client, a, true)
}

fn bzmpop(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let parsed = parse_timeout(&a[1]).and_then(|t| Ok((t, parse_mpop(&a, 2)?)));
        let (timeout, m) = match parsed {
            Ok(p) => p,
            Err(e) => return e,
        };
        let waiter = PopWaiter {
            max: m.max,
            count: m.count,
            shape: PopShape::Nested,
        };
        blocking_pop(client, m.keys, timeout, waiter).await
    })
}

// ------------------------------------------------------- random and scan

fn zrandmember(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(count) = a.get(2) else {
        let Some(z) = tri!(db.open_zset(&a[1])) else {
            return Reply::Nil;
        };
        let rank = random_u64() % z.meta.size;
        return db
            .zset_at_ranks(&z, &[rank])
            .pop()
            .map_or(Reply::Nil, |(m, _)| Reply::Bulk(m));
    };
    let count = match parse_i64(count) {
        Some(i64::MIN) => {
            return Reply::err(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Some(n) => n,
        None => return not_integer(),
    };
    if a.len() > 4 || (a.len() == 4 && !is(&a[3], "withscores")) {
        return syntax_error();
    }
    let withscores = a.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Reply::err("ERR value is out of range");
    }
    let Some(z) = tri!(db.open_zset(&a[1])) else {
        return Reply::Array(Vec::new());
    };
    let size = z.meta.size;
    let entries = if count >= 0 && count as u64 >= size {
        db.zset_entries(&z)
    } else if count >= 0 {
        // distinct ranks (Floyd's sampling), then a shuffle
        let k = count as u64;
        let mut picked = HashSet::new();
        for j in size - k..size {
            let t = random_u64() % (j + 1);
            if !picked.insert(t) {
                picked.insert(j);
            }
        }
        let mut ranks: Vec<u64> = picked.into_iter().collect();
        ranks.sort_unstable();
        let mut out = db.zset_at_ranks(&z, &ranks);
        shuffle(&mut out);
        out
    } else {
        // with repeats, in the order drawn
        let drawn: Vec<u64> = (0..count.unsigned_abs())
            .map(|_| random_u64() % size)
            .collect();
        let mut order: Vec<usize> = (0..drawn.len()).collect();
        order.sort_unstable_by_key(|&i| drawn[i]);
        let sorted: Vec<u64> = order.iter().map(|&i| drawn[i]).collect();
        let mut out = vec![(Vec::new(), 0.0); drawn.len()];
        for (e, &i) in db.zset_at_ranks(&z, &sorted).into_iter().zip(&order) {
            out[i] = e;
        }
        out
    };
    entries_reply(entries, withscores)
}

fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, (random_u64() % (i as u64 + 1)) as usize);
    }
}

/// Sets up to this size answer ZSCAN in one page, in score order, as
/// Redis's small (listpack) sorted sets do.
const SCAN_ONE_PAGE: u64 = 128;

/// Parses a SCAN cursor as Redis's `strtoul` does (a sign is accepted).
fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { n.wrapping_neg() } else { n })
}

fn zscan(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(cursor) = parse_cursor(&a[2]) else {
        return Reply::err("ERR invalid cursor");
    };
    let Some(z) = tri!(db.open_zset(&a[1])) else {
        return Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
    };
    let (mut count, mut pattern) = (10usize, None);
    let mut i = 3;
    while i < a.len() {
        if is(&a[i], "count") && i + 1 < a.len() {
            match tri!(parse_int(&a[i + 1])) {
                n if n >= 1 => count = n as usize,
                _ => return syntax_error(),
            }
        } else if is(&a[i], "match") && i + 1 < a.len() {
            pattern = Some(a[i + 1].as_slice()).filter(|p| *p != b"*");
        } else {
            return syntax_error();
        }
        i += 2;
    }
    let small = z.meta.size <= SCAN_ONE_PAGE;
    let (entries, next) = if small {
        (db.zset_entries(&z), 0)
    } else {
        let from = (cursor != 0)
            .then(|| db.shard.scan_cursors.borrow().get(cursor))
            .flatten();
        let (entries, resume) = db.zset_scan(&z, from.as_deref(), count);
        let next = resume.map_or(0, |m| db.shard.scan_cursors.borrow_mut().save(m));
        (entries, next)
    };
    let mut flat = Vec::new();
    for (m, s) in entries {
        if pattern.is_none_or(|p| glob_match(p, &m, false)) {
            let score = if small {
                listpack_score(s)
            } else {
                format_double(s)
            };
            flat.push(Reply::Bulk(m));
            flat.push(Reply::bulk(score));
        }
    }
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(flat)])
}

// ------------------------------------------------------------ set algebra

#[derive(Clone, Copy, PartialEq, Debug)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// What a set-algebra command does with its result.
#[derive(Clone, Debug)]
enum Output {
    /// Reply the members (ZUNION, ZINTER, ZDIFF).
    Members { withscores: bool },
    /// Store at this key (the *STORE forms).
    Store(Vec<u8>),
    /// Reply the size, counting at most `limit` (0 = all) (ZINTERCARD).
    Card { limit: usize },
}

/// A parsed set-algebra request.
#[derive(Clone, Debug)]
struct Algebra {
    op: SetOp,
    weights: Vec<f64>,
    aggregate: Aggregate,
    output: Output,
}

/// The size of an input: a sorted set's or a plain set's cardinality, 0
/// if absent; WRONGTYPE for any other type.
fn input_size(db: &Db, key: &[u8]) -> Result<u64> {
    match db.lookup_read(key)? {
        None => Ok(0),
        Some(m) if m.kind == Kind::ZSet || m.kind == Kind::Set => Ok(m.size),
        Some(_) => Err(Reply::err(WRONGTYPE)),
    }
}

/// All of an input: a sorted set's entries, a plain set's members scored 1
/// (the key's keyspace hit or miss counted once).
fn input_entries(db: &Db, key: &[u8]) -> Result<Vec<Entry>> {
    let meta = db.lookup_read(key)?;
    db.counting_lookups(false, || match meta {
        None => Ok(Vec::new()),
        Some(m) if m.kind == Kind::ZSet => Ok(db
            .open_zset(key)?
            .map_or(Vec::new(), |z| db.zset_entries(&z))),
        Some(m) if m.kind == Kind::Set => {
            Ok(db.set_members(key)?.into_iter().map(|m| (m, 1.0)).collect())
        }
        Some(_) => Err(Reply::err(WRONGTYPE)),
    })
}

/// The scores of `members` in an input (1 in a plain set), `None` where
/// absent: point lookups, not a scan.
fn input_scores(db: &Db, key: &[u8], members: &[Vec<u8>]) -> Result<Vec<Option<f64>>> {
    match db.lookup_read(key)? {
        None => Ok(vec![None; members.len()]),
        Some(m) if m.kind == Kind::ZSet => match db.open_zset(key)? {
            Some(z) => members.iter().map(|m| db.zset_score(&z, m)).collect(),
            None => Ok(vec![None; members.len()]),
        },
        Some(m) if m.kind == Kind::Set => Ok(db
            .set_contains(key, members)?
            .into_iter()
            .map(|is_member| is_member.then_some(1.0))
            .collect()),
        Some(_) => Err(Reply::err(WRONGTYPE)),
    }
}

/// `weight × score`, with Redis's convention that NaN (0 × inf) is 0.
fn weigh(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn aggregate(acc: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *acc += v;
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Aggregate::Min => *acc = acc.min(v),
        Aggregate::Max => *acc = acc.max(v),
    }
}

/// Reads something about each of some of the inputs, on their shards.
trait Inputs {
    /// Runs `f` on the keys at positions `which`; results in that order.
    async fn each<T, F>(&self, which: &[usize], f: F) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&Db, &[u8]) -> Result<T> + Send + Clone + 'static;
}

/// Inputs all on the shard running the command: plain calls.
struct Local<'d, 'a> {
    db: &'d Db<'a>,
    keys: &'d [Vec<u8>],
}

impl Inputs for Local<'_, '_> {
    async fn each<T, F>(&self, which: &[usize], f: F) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&Db, &[u8]) -> Result<T> + Send + Clone + 'static,
    {
        which.iter().map(|&i| f(self.db, &self.keys[i])).collect()
    }
}

/// Inputs on several shards: one request per shard, all in parallel.
struct Spread<'c> {
    client: &'c Client,
    keys: Vec<Vec<u8>>,
}

impl Inputs for Spread<'_> {
    async fn each<T, F>(&self, which: &[usize], f: F) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&Db, &[u8]) -> Result<T> + Send + Clone + 'static,
    {
        let (client, n) = (self.client, self.client.shard.shard_count());
        let mut per_shard: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (slot, &i) in which.iter().enumerate() {
            per_shard
                .entry(shard_of(&self.keys[i], n))
                .or_default()
                .push(slot);
        }
        type Part<T> = Pin<Box<dyn Future<Output = Result<Vec<T>>>>>;
        let mut parts: Vec<(Vec<usize>, Part<T>)> = Vec::new();
        for (owner, slots) in per_shard {
            let keys: Vec<Vec<u8>> = slots.iter().map(|&s| self.keys[which[s]].clone()).collect();
            let f = f.clone();
            let read = move |db: &Db| keys.iter().map(|k| f(db, k)).collect::<Result<Vec<T>>>();
            let part: Part<T> = super::run_on(client, owner, read);
            parts.push((slots, part));
        }
        let mut out: Vec<Option<T>> = which.iter().map(|_| None).collect();
        let mut first_err = None;
        for (slots, part) in parts {
            match part.await {
                Ok(values) => {
                    for (s, v) in slots.into_iter().zip(values) {
                        out[s] = Some(v);
                    }
                }
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out
                .into_iter()
                .map(|v| v.expect("every shard answered"))
                .collect()),
        }
    }
}

/// Checks the inputs' types (WRONGTYPE wins over option errors, as in
/// Redis), then computes the result.
async fn compute(
    spec: Result<Algebra>,
    inputs: &impl Inputs,
    n: usize,
) -> Result<(Algebra, Vec<Entry>)> {
    let spec = match spec {
        Ok(spec) => spec,
        Err(e) => {
            let all: Vec<usize> = (0..n).collect();
            inputs.each(&all, input_size).await?;
            return Err(e);
        }
    };
    let entries = evaluate(&spec, inputs, n).await?;
    Ok((spec, entries))
}

/// Computes the result in Redis's order of operations, so float sums
/// match: a union reads every input and folds them in by ascending size;
/// an intersection reads only its smallest input and looks its members up
/// in the others (by ascending size); a difference reads the first input
/// and looks its members up in the others. Sorted by score, then member.
async fn evaluate(spec: &Algebra, inputs: &impl Inputs, n: usize) -> Result<Vec<Entry>> {
    let all: Vec<usize> = (0..n).collect();
    let mut out = if spec.op == SetOp::Union {
        let sources = inputs.each(&all, input_entries).await?;
        let mut order = all;
        order.sort_by_key(|&i| sources[i].len());
        let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
        let mut sources = sources;
        for i in order {
            for (m, s) in std::mem::take(&mut sources[i]) {
                let v = weigh(s, spec.weights[i]);
                match acc.get_mut(&m) {
                    Some(cur) => aggregate(cur, v, spec.aggregate),
                    None => {
                        acc.insert(m, v);
                    }
                }
            }
        }
        acc.into_iter().collect()
    } else {
        let inter = spec.op == SetOp::Inter;
        let sizes = inputs.each(&all, input_size).await?;
        let mut order = all;
        if inter {
            if sizes.contains(&0) {
                return Ok(Vec::new());
            }
            order.sort_by_key(|&i| sizes[i]);
        } else if sizes[0] == 0 {
            return Ok(Vec::new());
        } else {
            order.retain(|&i| i == 0 || sizes[i] > 0);
        }
        let (pivot, others) = (order[0], &order[1..]);
        // the sizes counted each key's keyspace hit or miss: these reads
        // of the same keys do not
        let entries = inputs
            .each(&[pivot], |db, k| {
                db.counting_lookups(false, || input_entries(db, k))
            })
            .await?
            .pop()
            .unwrap_or_default();
        let members: Arc<Vec<Vec<u8>>> = Arc::new(entries.iter().map(|(m, _)| m.clone()).collect());
        let probe = Arc::clone(&members);
        let found = inputs
            .each(others, move |db, k| {
                db.counting_lookups(false, || input_scores(db, k, &probe))
            })
            .await?;
        let cap = match spec.output {
            Output::Card { limit } if limit > 0 => limit,
            _ => usize::MAX,
        };
        let mut out = Vec::new();
        'members: for (j, (m, s)) in entries.into_iter().enumerate() {
            if out.len() >= cap {
                break;
            }
            let mut score = if inter {
                weigh(s, spec.weights[pivot])
            } else {
                s
            };
            for (&o, scores) in others.iter().zip(&found) {
                match (scores[j], inter) {
                    (Some(v), true) => {
                        aggregate(&mut score, weigh(v, spec.weights[o]), spec.aggregate)
                    }
                    (None, false) => {}
                    _ => continue 'members,
                }
            }
            out.push((m, score));
        }
        out
    };
    // scores are never NaN here; -0 and 0 compare equal, as in Redis
    out.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    Ok(out)
}

/// Delivers the result: the members, their count, or a store on `db`
/// (the destination's shard).
fn output(db: Option<&Db>, spec: &Algebra, result: Vec<Entry>) -> Reply {
    match (&spec.output, db) {
        (Output::Members { withscores }, _) => entries_reply(result, *withscores),
        (Output::Card { .. }, _) => Reply::Int(result.len() as i64),
        (Output::Store(dst), Some(db)) => store_into(db, dst, Ok(result)),
        (Output::Store(_), None) => unreachable!("stores run on the destination's shard"),
    }
}

/// Parses `numkeys key… [WEIGHTS …] [AGGREGATE …] [WITHSCORES] [LIMIT …]`
/// (numkeys at `at`). Returns the keys and the request, or the keys and
/// the option error that Redis reports only after checking key types.
fn parse_algebra(
    a: &[Vec<u8>],
    at: usize,
    op: SetOp,
    output: Output,
) -> Result<(Vec<Vec<u8>>, Result<Algebra>)> {
    let name = String::from_utf8_lossy(&a[0]).to_ascii_lowercase();
    let numkeys = parse_int(&a[at])?;
    if numkeys < 1 {
        return Err(Reply::err(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys as u64 > (a.len() - at - 1) as u64 {
        return Err(syntax_error());
    }
    let numkeys = numkeys as usize;
    let keys = a[at + 1..at + 1 + numkeys].to_vec();
    let mut spec = Algebra {
        op,
        weights: vec![1.0; numkeys],
        aggregate: Aggregate::Sum,
        output,
    };
    let mut j = at + 1 + numkeys;
    let options = (|| {
        let card = matches!(spec.output, Output::Card { .. });
        let store = matches!(spec.output, Output::Store(_));
        let scored = op != SetOp::Diff && !card;
        while j < a.len() {
            let left = a.len() - j;
            if scored && left > numkeys && is(&a[j], "weights") {
                for (i, w) in a[j + 1..j + 1 + numkeys].iter().enumerate() {
                    spec.weights[i] = parse_score(w)
                        .ok_or_else(|| Reply::err("ERR weight value is not a float"))?;
                }
                j += 1 + numkeys;
            } else if scored && left >= 2 && is(&a[j], "aggregate") {
                spec.aggregate = match &a[j + 1] {
                    x if is(x, "sum") => Aggregate::Sum,
                    x if is(x, "min") => Aggregate::Min,
                    x if is(x, "max") => Aggregate::Max,
                    _ => return Err(syntax_error()),
                };
                j += 2;
            } else if !store && !card && is(&a[j], "withscores") {
                spec.output = Output::Members { withscores: true };
                j += 1;
            } else if card && left >= 2 && is(&a[j], "limit") {
                match parse_i64(&a[j + 1]) {
                    Some(n) if n >= 0 => spec.output = Output::Card { limit: n as usize },
                    _ => return Err(Reply::err("ERR LIMIT can't be negative")),
                }
                j += 2;
            } else {
                return Err(syntax_error());
            }
        }
        Ok(())
    })();
    Ok((keys, options.map(|()| spec)))
}

/// The set-algebra commands: parse, read the inputs where they live,
/// compute, deliver. When one shard owns every key (and the destination),
/// everything runs there in one step.
fn algebra(client: &mut Client, a: Args, op: SetOp, output_to: Output) -> BoxFuture<'_> {
    Box::pin(async move {
        let at = if matches!(output_to, Output::Store(_)) {
            2
        } else {
            1
        };
        let (keys, spec) = match parse_algebra(&a, at, op, output_to) {
            Ok(parsed) => parsed,
            Err(e) => return e,
        };
        let n = client.shard.shard_count();
        let dst = (at == 2).then(|| a[1].clone());
        let mut owners: Vec<usize> = keys.iter().chain(&dst).map(|k| shard_of(k, n)).collect();
        owners.sort_unstable();
        owners.dedup();
        if let [owner] = owners[..] {
            return on_shard(client, owner, move |db| {
                let inputs = Local { db, keys: &keys };
                match block_on(compute(spec, &inputs, keys.len())) {
                    Ok((spec, result)) => output(Some(db), &spec, result),
                    Err(e) => e,
                }
            })
            .await;
        }
        let count = keys.len();
        let inputs = Spread { client, keys };
        let (spec, result) = match compute(spec, &inputs, count).await {
            Ok(done) => done,
            Err(e) => return e,
        };
        match dst {
            Some(d) => on_owner(client, &d, move |db| output(Some(db), &spec, result)).await,
            None => output(None, &spec, result),
        }
    })
}

fn zunion(client: &mut Client, a: Args) -> BoxFuture<'_> {
    algebra(
        client,
        a,
        SetOp::Union,
        Output::Members { withscores: false },
    )
}

fn zinter(client: &mut Client, a: Args) -> BoxFuture<'_> {
    algebra(
        client,
        a,
        SetOp::Inter,
        Output::Members { withscores: false },
    )
}

fn zdiff(client: &mut Client, a: Args) -> BoxFuture<'_> {
    algebra(
        client,
        a,
        SetOp::Diff,
        Output::Members { withscores: false },
    )
}

fn zintercard(client: &mut Client, a: Args) -> BoxFuture<'_> {
    algebra(client, a, SetOp::Inter, Output::Card { limit: 0 })
}

fn zunionstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    let dst = a[1].clone();
    algebra(client, a, SetOp::Union, Output::Store(dst))
}

fn zinterstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    let dst = a[1].clone();
    algebra(client, a, SetOp::Inter, Output::Store(dst))
}

fn zdiffstore(client: &mut Client, a: Args) -> BoxFuture<'_> {
    let dst = a[1].clone();
    algebra(client, a, SetOp::Diff, Output::Store(dst))
}
