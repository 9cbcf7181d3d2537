//! Stream commands (Redis 7.0 semantics) on top of `data_types::stream`.
//!
//! Single-key commands run on the key's shard. XREAD and XREADGROUP
//! coordinate: each key is resolved and served on its own shard, in
//! argument order, and the replies are gathered; the blocking forms then
//! wait through `shard::blocking` (XADD wakes them). XGROUP and XINFO check
//! their subcommand on the connection, then run on the key's shard.
//!
//! Approximate trimming (`~`) trims exactly, bounded by LIMIT (Redis only
//! drops whole radix-tree nodes; both keep at least the requested entries).

use super::strings::tri;
use super::{
    arity_error, cmd, not_integer, on_owner, syntax_error, Args, BoxFuture, Command, Exec::*,
};
use crate::data_types::stream::{Group, Pending, Stream, StreamEntry, StreamId, Trim};
use crate::data_types::{Db, Result};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::blocking::{block_on_keys, Serve};
use crate::storage::Batch;
use crate::util::now_ms;
use crate::util::num::parse_i64;
use std::collections::BTreeMap;
use std::time::Duration;

const G: &str = "stream";

/// The stream family.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    cmd("xadd", -5, "write denyoom fast", (1, 1, 1), G, Keyed(xadd)),
    cmd("xlen", 2, "readonly fast", (1, 1, 1), G, Keyed(xlen)),
    cmd("xrange", -4, "readonly", (1, 1, 1), G, Keyed(xrange)),
    cmd("xrevrange", -4, "readonly", (1, 1, 1), G, Keyed(xrange)),
    cmd("xdel", -3, "write fast", (1, 1, 1), G, Keyed(xdel)),
    cmd("xtrim", -4, "write", (1, 1, 1), G, Keyed(xtrim)),
    cmd("xsetid", -3, "write denyoom fast", (1, 1, 1), G, Keyed(xsetid)),
    cmd("xread", -4, "readonly blocking movablekeys", (0, 0, 0), G, Coord(xread)),
    cmd("xreadgroup", -7, "write blocking movablekeys", (0, 0, 0), G, Coord(xread)),
    cmd("xgroup", -2, "write", (2, 2, 1), G, Coord(xgroup)),
    cmd("xinfo", -2, "readonly", (2, 2, 1), G, Coord(xinfo)),
    cmd("xack", -4, "write fast", (1, 1, 1), G, Keyed(xack)),
    cmd("xpending", -3, "readonly", (1, 1, 1), G, Keyed(xpending)),
    cmd("xclaim", -6, "write fast", (1, 1, 1), G, Keyed(xclaim)),
    cmd("xautoclaim", -6, "write fast", (1, 1, 1), G, Keyed(xautoclaim)),
];

// ------------------------------------------------------------- arguments

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

fn invalid_id() -> Reply {
    Reply::err(INVALID_ID)
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

fn int(arg: &[u8]) -> Result<i64> {
    parse_i64(arg).ok_or_else(not_integer)
}

/// An integer with a custom error message.
fn int_or(arg: &[u8], msg: &str) -> Result<i64> {
    parse_i64(arg).ok_or_else(|| Reply::err(msg))
}

/// Redis's `string2ull`: a strict i64 first, else `strtoull` (leading
/// blanks, a sign, leading zeros; a minus wraps around).
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(s) {
        return (n >= 0).then_some(n as u64);
    }
    let t = std::str::from_utf8(s).ok()?;
    let t = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(if neg { n.wrapping_neg() } else { n })
}

/// The one stream ID parser (Redis's `streamGenericParseIDOrReply`):
/// `-`, `+` (unless `strict`), `ms`, `ms-seq`, and `ms-*` when `star`
/// (XADD). Returns the ID and whether its sequence was given.
fn parse_id_with(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    star: bool,
) -> Result<(StreamId, bool)> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    match arg {
        b"-" | b"+" if strict => return Err(invalid_id()),
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms).ok_or_else(invalid_id)?;
    match seq {
        Some(b"*") if star => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => Ok((
            StreamId::new(ms, parse_u64(seq).ok_or_else(invalid_id)?),
            true,
        )),
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

/// A complete ID (`-`/`+` refused), missing sequence 0.
fn parse_id(arg: &[u8]) -> Result<StreamId> {
    parse_id_with(arg, 0, true, false).map(|r| r.0)
}

/// A range bound: `-`, `+`, an ID, or `(ID` (exclusive, turned inclusive
/// by stepping; `is_end` steps down).
fn parse_bound(arg: &[u8], is_end: bool) -> Result<StreamId> {
    let missing = if is_end { u64::MAX } else { 0 };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_with(&arg[1..], missing, true, false)?.0;
        return match (is_end, if is_end { id.prev() } else { id.next() }) {
            (_, Some(id)) => Ok(id),
            (false, None) => Err(Reply::err("ERR invalid start ID for the interval")),
            (true, None) => Err(Reply::err("ERR invalid end ID for the interval")),
        };
    }
    Ok(parse_id_with(arg, missing, false, false)?.0)
}

fn nogroup_key(key: &[u8], group: &[u8]) -> Reply {
    Reply::err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

// ---------------------------------------------------------------- replies

fn id_reply(id: StreamId) -> Reply {
    Reply::bulk(id.to_string())
}

fn entry_reply((id, fields): StreamEntry) -> Reply {
    Reply::Array(vec![id_reply(id), Reply::bulks(fields)])
}

fn entries_reply(entries: Vec<StreamEntry>) -> Reply {
    Reply::Array(entries.into_iter().map(entry_reply).collect())
}

// ----------------------------------------------------- add, trim, ranges

/// Options shared by XADD and XTRIM, and XADD's ID.
struct AddArgs {
    /// The trimming strategy, if any.
    how: Option<Trim>,
    /// At most this many entries trimmed (0 = no limit).
    limit: u64,
    /// NOMKSTREAM.
    nomkstream: bool,
    /// Position of XADD's ID argument.
    id_at: usize,
    /// XADD's ID and whether its sequence was given; `None` for `*`.
    id: Option<(StreamId, bool)>,
}

/// Parses XADD/XTRIM options from `a[2..]` (Redis's
/// `streamParseAddOrTrimArgsOrReply`); for XADD, up to the ID.
fn parse_add_or_trim(a: &[Vec<u8>], xadd: bool) -> Result<AddArgs> {
    let (mut how, mut approx, mut limit, mut limit_given, mut nomk) =
        (None, false, 0i64, false, false);
    let mut id = None;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i];
        if xadd && opt.as_slice() == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if how.is_some() {
                return Err(Reply::err(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            let next = a[i + 1].as_slice();
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if is(opt, "maxlen") {
                let n = int(&a[i + 1])?;
                if n < 0 {
                    return Err(Reply::err("ERR The MAXLEN argument must be >= 0."));
                }
                how = Some(Trim::MaxLen(n as u64));
            } else {
                how = Some(Trim::MinId(parse_id(&a[i + 1])?));
            }
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            limit = int(&a[i + 1])?;
            if limit < 0 {
                return Err(Reply::err("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            nomk = true;
        } else if xadd {
            id = Some(parse_id_with(opt, 0, true, true)?);
            break;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    if limit != 0 && how.is_none() {
        return Err(Reply::err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && how.is_none() {
        return Err(Reply::err(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given && !approx {
        return Err(Reply::err(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    let limit = match (limit_given, approx) {
        (true, _) => limit as u64,
        (false, true) => 10_000,
        (false, false) => 0,
    };
    Ok(AddArgs {
        how,
        limit,
        nomkstream: nomk,
        id_at: i,
        id,
    })
}

fn xadd(db: &Db, a: &[Vec<u8>]) -> Reply {
    let args = tri!(parse_add_or_trim(a, true));
    let fields = &a[(args.id_at + 1).min(a.len())..];
    if fields.len() < 2 || fields.len() % 2 == 1 {
        return arity_error("xadd");
    }
    if let Some((id, true)) = args.id {
        if id.is_zero() {
            return Reply::err("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let mut s = match tri!(db.open_stream(&a[1])) {
        Some(s) => s,
        None if args.nomkstream => return Reply::Nil,
        None => tri!(db.open_or_create_stream(&a[1])),
    };
    if s.last_id == StreamId::MAX {
        return Reply::err(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        );
    }
    let too_small = || {
        Reply::err(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        )
    };
    let id = match args.id {
        Some((id, true)) => id,
        Some((id, false)) if id.ms == s.last_id.ms => {
            if s.last_id.seq == u64::MAX {
                return too_small();
            }
            StreamId::new(id.ms, s.last_id.seq + 1)
        }
        Some((id, false)) => id,
        None => {
            let now = now_ms();
            if now > s.last_id.ms {
                StreamId::new(now, 0)
            } else {
                s.last_id.next().unwrap_or(StreamId::MAX)
            }
        }
    };
    if id <= s.last_id {
        return too_small();
    }
    let mut batch = Batch::default();
    s.add(db, &mut batch, id, fields);
    if let Some(how) = args.how {
        s.trim(db, &mut batch, how, args.limit);
    }
    tri!(s.commit(db, batch));
    id_reply(id)
}

fn xlen(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.open_stream(&a[1])).map_or(0, |s| s.len()) as i64)
}

/// XRANGE and XREVRANGE.
fn xrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    let rev = is(&a[0], "xrevrange");
    let (start_arg, end_arg) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
    let start = tri!(parse_bound(start_arg, false));
    let end = tri!(parse_bound(end_arg, true));
    let mut count = -1i64;
    let mut j = 4;
    while j < a.len() {
        if is(&a[j], "count") && j + 1 < a.len() {
            count = tri!(int(&a[j + 1])).max(0);
            j += 2;
        } else {
            return syntax_error();
        }
    }
    let Some(s) = tri!(db.open_stream(&a[1])) else {
        return Reply::Array(Vec::new());
    };
    if count == 0 {
        return Reply::NilArray;
    }
    entries_reply(s.range(db, start, end, count.max(0) as u64, rev))
}

fn xdel(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(mut s) = tri!(db.open_stream(&a[1])) else {
        return Reply::Int(0);
    };
    let ids: Vec<StreamId> = tri!(a[2..].iter().map(|x| parse_id(x)).collect());
    let mut batch = Batch::default();
    let n = tri!(s.delete(db, &mut batch, &ids));
    if n > 0 {
        tri!(s.commit(db, batch));
    }
    Reply::Int(n as i64)
}

fn xtrim(db: &Db, a: &[Vec<u8>]) -> Reply {
    let trim = tri!(parse_add_or_trim(a, false));
    let Some(mut s) = tri!(db.open_stream(&a[1])) else {
        return Reply::Int(0);
    };
    let mut batch = Batch::default();
    let n = s.trim(db, &mut batch, trim.how.expect("checked"), trim.limit);
    if n > 0 {
        tri!(s.commit(db, batch));
    }
    Reply::Int(n as i64)
}

fn xsetid(db: &Db, a: &[Vec<u8>]) -> Reply {
    let id = tri!(parse_id(&a[2]));
    let (mut added, mut max_del) = (None, StreamId::MIN);
    let mut i = 3;
    while i < a.len() {
        let more = i + 1 < a.len();
        if is(&a[i], "entriesadded") && more {
            let n = tri!(int(&a[i + 1]));
            if n < 0 {
                return Reply::err("ERR entries_added must be positive");
            }
            added = Some(n as u64);
        } else if is(&a[i], "maxdeletedid") && more {
            max_del = tri!(parse_id(&a[i + 1]));
            if id < max_del {
                return Reply::err(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                );
            }
        } else {
            return syntax_error();
        }
        i += 2;
    }
    let Some(mut s) = tri!(db.open_stream(&a[1])) else {
        return Reply::err("ERR no such key");
    };
    if !s.is_empty() {
        if s.last_valid_id(db).is_some_and(|top| id < top) {
            return Reply::err(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if added.is_some_and(|n| s.len() > n) {
            return Reply::err(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            );
        }
    }
    s.last_id = id;
    if let Some(n) = added {
        s.entries_added = n;
    }
    if !max_del.is_zero() {
        s.max_deleted = max_del;
    }
    tri!(s.commit_group_change(db, Batch::default(), Some("xsetid")));
    Reply::ok()
}

// ------------------------------------------------------ XREAD/XREADGROUP

/// An ID argument of XREAD/XREADGROUP.
#[derive(Clone, Copy, Debug)]
enum ReadFrom {
    /// `>`: entries never delivered to the group (XREADGROUP).
    New,
    /// Entries after this ID (XREAD; `$` resolves to the last ID), or the
    /// consumer's pending entries after it (XREADGROUP).
    After(StreamId),
}

/// Parsed XREAD/XREADGROUP arguments.
struct ReadArgs {
    group: Option<(Vec<u8>, Vec<u8>)>,
    count: u64,
    block: Option<Option<Duration>>,
    noack: bool,
    keys: Vec<Vec<u8>>,
    ids: Vec<Vec<u8>>,
}

fn parse_read(a: &[Vec<u8>], xreadgroup: bool) -> Result<ReadArgs> {
    let mut r = ReadArgs {
        group: None,
        count: 0,
        block: None,
        noack: false,
        keys: Vec::new(),
        ids: Vec::new(),
    };
    let mut streams = None;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - i - 1;
        let o = &a[i];
        if is(o, "block") && more > 0 {
            i += 1;
            let ms = int_or(&a[i], "ERR timeout is not an integer or out of range")?;
            if ms < 0 {
                return Err(Reply::err("ERR timeout is negative"));
            }
            r.block = Some((ms > 0 && ms < 1 << 40).then(|| Duration::from_millis(ms as u64)));
        } else if is(o, "count") && more > 0 {
            i += 1;
            r.count = int(&a[i])?.max(0) as u64;
        } else if is(o, "streams") && more > 0 {
            let n = a.len() - i - 1;
            if !n.is_multiple_of(2) {
                return Err(Reply::err(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams = Some(i + 1);
            break;
        } else if is(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(Reply::err(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if is(o, "noack") {
            if !xreadgroup {
                return Err(Reply::err(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    let Some(at) = streams else {
        return Err(syntax_error());
    };
    if xreadgroup && r.group.is_none() {
        return Err(Reply::err("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (a.len() - at) / 2;
    r.keys = a[at..at + n].to_vec();
    r.ids = a[at + n..].to_vec();
    Ok(r)
}

/// Checks one key of an XREAD/XREADGROUP and resolves its ID argument
/// (type, group, then ID errors, as Redis does key by key).
fn resolve(db: &Db, key: &[u8], group: Option<&[u8]>, id: &[u8]) -> Result<ReadFrom> {
    let s = db.open_stream(key)?;
    if let Some(g) = group {
        let found = match &s {
            Some(s) => s.group(db, g)?,
            None => None,
        };
        if found.is_none() {
            return Err(Reply::err(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(g)
            )));
        }
    }
    match (id, group.is_some()) {
        (b"$", true) => Err(Reply::err(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        )),
        (b"$", false) => Ok(ReadFrom::After(s.map_or(StreamId::MIN, |s| s.last_id))),
        (b">", false) => Err(Reply::err(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        )),
        (b">", true) => Ok(ReadFrom::New),
        (id, _) => Ok(ReadFrom::After(parse_id(id)?)),
    }
}

/// What one key of an XREAD/XREADGROUP asks for.
#[derive(Clone)]
struct ReadSpec {
    group: Option<(Vec<u8>, Vec<u8>)>,
    count: u64,
    noack: bool,
}

/// XREAD on one key: entries after `gt`, if any.
fn read_plain(db: &Db, key: &[u8], gt: StreamId, count: u64) -> Result<Option<Reply>> {
    let Some(s) = db.open_stream(key)? else {
        return Ok(None);
    };
    if s.last_valid_id(db).is_none_or(|top| top <= gt) {
        return Ok(None);
    }
    let start = gt.next().expect("below the top");
    Ok(Some(entries_reply(s.range(
        db,
        start,
        StreamId::MAX,
        count,
        false,
    ))))
}

/// XREADGROUP on one key: new entries (`>`) delivered to the consumer, or
/// its pending entries after an ID. `None` when `>` finds nothing.
fn read_group(
    db: &Db,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    from: ReadFrom,
    spec: &ReadSpec,
) -> Result<Option<Reply>> {
    let s = db.open_stream(key)?;
    let g = match &s {
        Some(s) => s.group(db, group)?,
        None => None,
    };
    let (Some(mut s), Some(mut g)) = (s, g) else {
        return Err(Reply::err(
            "NOGROUP the consumer group this client was blocked on no longer exists",
        ));
    };
    let now = now_ms();
    let mut batch = Batch::default();
    let reply = match from {
        ReadFrom::After(gt) => {
            let mut out = Vec::new();
            if let Some(start) = gt.next() {
                let mut mine = Vec::new();
                s.scan_pending(db, group, start, |p| {
                    if p.consumer == consumer {
                        mine.push(p);
                    }
                    spec.count == 0 || (mine.len() as u64) < spec.count
                });
                for mut p in mine {
                    match s.get(db, p.id)? {
                        Some(fields) => {
                            p.delivery_time = now;
                            p.delivery_count += 1;
                            s.put_pending(db, &mut batch, group, &p);
                            out.push(entry_reply((p.id, fields)));
                        }
                        None => out.push(Reply::Array(vec![id_reply(p.id), Reply::NilArray])),
                    }
                }
            }
            Some(Reply::Array(out))
        }
        _ if s.last_valid_id(db).is_none_or(|top| top <= g.last_id) => None,
        _ => {
            let start = g.last_id.next().expect("below the top");
            let entries = s.range(db, start, StreamId::MAX, spec.count, false);
            for (id, _) in &entries {
                if g.entries_read != -1 && !s.has_tombstones_from(*id) {
                    g.entries_read += 1;
                } else if s.entries_added > 0 {
                    g.entries_read = s.estimate_read_counter(*id);
                }
                g.last_id = *id;
                if !spec.noack {
                    let p = Pending {
                        id: *id,
                        consumer: consumer.to_vec(),
                        delivery_time: now,
                        delivery_count: 1,
                    };
                    s.put_pending(db, &mut batch, group, &p);
                }
            }
            if !entries.is_empty() {
                s.put_group(db, &mut batch, group, &g, false);
            }
            Some(entries_reply(entries))
        }
    };
    if reply.is_some() {
        // the consumer is created (or its seen-time refreshed) when served
        let new = s.consumer(db, group, consumer)?.is_none();
        s.put_consumer(db, &mut batch, group, consumer, now);
        s.commit_group_change(db, batch, new.then_some("xgroup-createconsumer"))?;
    }
    Ok(reply)
}

/// Serves one key now, if it can be: `None` when it has nothing yet.
fn serve_key(db: &Db, key: &[u8], from: ReadFrom, spec: &ReadSpec) -> Result<Option<Reply>> {
    match (&spec.group, from) {
        (Some((g, c)), from) => read_group(db, key, g, c, from, spec),
        (None, ReadFrom::After(gt)) => read_plain(db, key, gt, spec.count),
        (None, _) => Ok(None),
    }
}

/// The XREAD reply shape: an array of `[key, entries]` pairs (RESP2) or
/// a map (RESP3).
fn read_reply(resp: u8, served: Vec<(Vec<u8>, Reply)>) -> Reply {
    if resp >= 3 {
        Reply::Map(
            served
                .into_iter()
                .map(|(k, v)| (Reply::Bulk(k), v))
                .collect(),
        )
    } else {
        Reply::Array(
            served
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v]))
                .collect(),
        )
    }
}

/// A blocked XREAD/XREADGROUP on the keys of one shard.
struct ReadWaiter {
    keys: Vec<(Vec<u8>, ReadFrom)>,
    spec: ReadSpec,
}

impl Serve<Result<(Vec<u8>, Reply)>> for ReadWaiter {
    fn ready(&self, db: &Db, key: &[u8]) -> bool {
        let Some((_, from)) = self.keys.iter().find(|(k, _)| k == key) else {
            return false;
        };
        let Ok(Some(s)) = db.open_stream(key) else {
            return false;
        };
        match (&self.spec.group, from) {
            (Some((g, _)), _) => match s.group(db, g) {
                Ok(Some(g)) => s.last_id > g.last_id && !s.is_empty(),
                _ => true,
            },
            (None, ReadFrom::After(gt)) => !s.is_empty() && s.last_id > *gt,
            _ => false,
        }
    }

    fn serve(&mut self, db: &Db, key: &[u8]) -> Result<(Vec<u8>, Reply)> {
        let from = self
            .keys
            .iter()
            .find(|(k, _)| k == key)
            .map_or(ReadFrom::New, |k| k.1);
        let r = serve_key(db, key, from, &self.spec)?;
        Ok((key.to_vec(), r.unwrap_or(Reply::Array(Vec::new()))))
    }
}

/// XREAD and XREADGROUP.
fn xread(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let r = tri!(parse_read(&a, is(&a[0], "xreadgroup")));
        let spec = ReadSpec {
            group: r.group.clone(),
            count: r.count,
            noack: r.noack,
        };
        let mut resolved = Vec::with_capacity(r.keys.len());
        for (key, id) in r.keys.iter().zip(&r.ids) {
            let (k, id, g) = (key.clone(), id.clone(), r.group.clone().map(|g| g.0));
            let from = on_owner(client, key, move |db| resolve(db, &k, g.as_deref(), &id)).await;
            resolved.push((key.clone(), tri!(from)));
        }
        let mut served = Vec::new();
        for (key, from) in &resolved {
            let (k, from, sp) = (key.clone(), *from, spec.clone());
            let got = on_owner(client, key, move |db| serve_key(db, &k, from, &sp)).await;
            if let Some(reply) = tri!(got) {
                served.push((key.clone(), reply));
            }
        }
        if !served.is_empty() {
            return read_reply(client.resp, served);
        }
        let Some(timeout) = r.block else {
            return Reply::NilArray;
        };
        let keys: Vec<Vec<u8>> = resolved.iter().map(|(k, _)| k.clone()).collect();
        let woken = block_on_keys(client, keys, timeout, |mine| {
            let keys = resolved
                .iter()
                .filter(|(k, _)| mine.contains(k))
                .cloned()
                .collect();
            Box::new(ReadWaiter {
                keys,
                spec: spec.clone(),
            }) as Box<dyn Serve<Result<(Vec<u8>, Reply)>>>
        })
        .await;
        match woken {
            Ok(Some(Ok(pair))) => read_reply(client.resp, vec![pair]),
            Ok(Some(Err(e))) | Err(e) => e,
            Ok(None) => Reply::NilArray,
        }
    })
}

// ------------------------------------------------------------------ XGROUP

fn subcommand_error(a: &[Vec<u8>]) -> Reply {
    Reply::err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&a[1]),
        String::from_utf8_lossy(&a[0]).to_ascii_uppercase()
    ))
}

/// Checks a container command's subcommand and arity, then runs `f` on
/// the key's shard.
async fn subcommand(
    client: &Client,
    a: Args,
    table: &[(&str, i32)],
    f: fn(&Db, &[Vec<u8>]) -> Reply,
) -> Reply {
    let parent = String::from_utf8_lossy(&a[0]).to_ascii_lowercase();
    let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    let Some(&(_, arity)) = table.iter().find(|(n, _)| *n == sub) else {
        return super::unknown_subcommand(&a);
    };
    let n = a.len() as i32;
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return arity_error(&format!("{parent}|{sub}"));
    }
    let key = a[2].clone();
    on_owner(client, &key, move |db| f(db, &a)).await
}

fn xgroup(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        const SUBS: &[(&str, i32)] = &[
            ("create", -5),
            ("setid", -5),
            ("destroy", 4),
            ("createconsumer", 5),
            ("delconsumer", 5),
        ];
        if a.len() == 2 && is(&a[1], "help") {
            return Reply::Array(
                [
                    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CREATE <key> <groupname> <id|$> [option]",
                    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                    "DESTROY <key> <groupname>",
                    "CREATECONSUMER <key> <groupname> <consumer>",
                    "DELCONSUMER <key> <groupname> <consumer>",
                    "HELP",
                ]
                .iter()
                .map(|s| Reply::Simple(s.to_string()))
                .collect(),
            );
        }
        subcommand(client, a, SUBS, xgroup_run).await
    })
}

fn xgroup_run(db: &Db, a: &[Vec<u8>]) -> Reply {
    let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    let (create, setid) = (sub == "create", sub == "setid");
    let (mut mkstream, mut entries_read) = (false, -1i64);
    let mut i = 5;
    while i < a.len() {
        if create && is(&a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(&a[i], "entriesread") && i + 1 < a.len() {
            entries_read = tri!(int(&a[i + 1]));
            if entries_read < -1 {
                return Reply::err("ERR value for ENTRIESREAD must be positive or -1");
            }
            i += 2;
        } else {
            return subcommand_error(a);
        }
    }
    let (key, name) = (&a[2], &a[3]);
    let s = tri!(db.open_stream(key));
    let group = match &s {
        Some(s) => tri!(s.group(db, name)),
        None => None,
    };
    if s.is_none() && !mkstream {
        return Reply::err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
    }
    if group.is_none() && matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer") {
        return Reply::err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(key)
        ));
    }
    let mut batch = Batch::default();
    match sub.as_str() {
        "create" if a.len() <= 8 => {
            let id = if a[4].as_slice() == b"$" {
                s.as_ref().map_or(StreamId::MIN, |s| s.last_id)
            } else {
                tri!(parse_id(&a[4]))
            };
            let created = s.is_none();
            let mut s = match s {
                Some(s) => s,
                None => tri!(db.open_or_create_stream(key)),
            };
            if group.is_some() {
                return Reply::err("BUSYGROUP Consumer Group name already exists");
            }
            let g = Group {
                last_id: id,
                entries_read,
            };
            s.put_group(db, &mut batch, name, &g, true);
            if created {
                // MKSTREAM's new key is a modification (WATCH, tracking),
                // announced only as xgroup-create
                let write = || s.commit(db, batch);
                tri!(db.shard.naming_events(("xgroup-create", "stream"), write));
            } else {
                tri!(s.commit_group_change(db, batch, Some("xgroup-create")));
            }
            Reply::ok()
        }
        "setid" if a.len() == 5 || a.len() == 7 => {
            let s = s.expect("checked");
            let id = if a[4].as_slice() == b"$" {
                s.last_id
            } else {
                tri!(parse_id_with(&a[4], 0, false, false)).0
            };
            let mut s = s;
            let g = Group {
                last_id: id,
                entries_read,
            };
            s.put_group(db, &mut batch, name, &g, false);
            tri!(s.commit_group_change(db, batch, Some("xgroup-setid")));
            Reply::ok()
        }
        "destroy" if a.len() == 4 => {
            let mut s = s.expect("checked");
            if group.is_none() {
                return Reply::Int(0);
            }
            s.destroy_group(db, &mut batch, name);
            tri!(s.commit_group_change(db, batch, Some("xgroup-destroy")));
            // readers blocked on the group learn it is gone (NOGROUP)
            crate::shard::blocking::wake(db, key);
            Reply::Int(1)
        }
        "createconsumer" if a.len() == 5 => {
            let s = s.expect("checked");
            if tri!(s.consumer(db, name, &a[4])).is_some() {
                return Reply::Int(0);
            }
            s.put_consumer(db, &mut batch, name, &a[4], now_ms());
            tri!(s.commit_group_change(db, batch, Some("xgroup-createconsumer")));
            Reply::Int(1)
        }
        "delconsumer" if a.len() == 5 => {
            let s = s.expect("checked");
            if tri!(s.consumer(db, name, &a[4])).is_none() {
                return Reply::Int(0);
            }
            let mut n = 0;
            for p in s.pending(db, name) {
                if p.consumer == a[4] {
                    s.del_pending(db, &mut batch, name, p.id);
                    n += 1;
                }
            }
            s.del_consumer(db, &mut batch, name, &a[4]);
            tri!(s.commit_group_change(db, batch, Some("xgroup-delconsumer")));
            Reply::Int(n)
        }
        _ => subcommand_error(a),
    }
}

// ------------------------------------------------------------------- XINFO

fn xinfo(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        const SUBS: &[(&str, i32)] = &[("stream", -3), ("groups", 3), ("consumers", 4)];
        if a.len() == 2 && is(&a[1], "help") {
            return Reply::Array(
                [
                    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CONSUMERS <key> <groupname>",
                    "GROUPS <key>",
                    "STREAM <key> [FULL [COUNT <count>]",
                    "HELP",
                ]
                .iter()
                .map(|s| Reply::Simple(s.to_string()))
                .collect(),
            );
        }
        subcommand(client, a, SUBS, xinfo_run).await
    })
}

fn pending_by_consumer(s: &Stream, db: &Db, group: &[u8]) -> (u64, BTreeMap<Vec<u8>, u64>) {
    let mut per = BTreeMap::new();
    let mut total = 0;
    for p in s.pending(db, group) {
        *per.entry(p.consumer).or_insert(0) += 1;
        total += 1;
    }
    (total, per)
}

/// The `groups` part of XINFO STREAM FULL: each group with its pending
/// entries and consumers, lists capped at `count` (0 = all).
fn full_groups(db: &Db, s: &Stream, count: u64) -> Reply {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    let opt = |v: Option<i64>| v.map_or(Reply::Nil, Reply::Int);
    let groups = s.groups(db).into_iter().map(|(name, g)| {
        let pending = s.pending(db, &name);
        let pel = pending.iter().take(limit).map(|p| {
            Reply::Array(vec![
                id_reply(p.id),
                Reply::Bulk(p.consumer.clone()),
                Reply::Int(p.delivery_time as i64),
                Reply::Int(p.delivery_count as i64),
            ])
        });
        let consumers = s.consumers(db, &name).into_iter().map(|(c, seen)| {
            let mine: Vec<&Pending> = pending.iter().filter(|p| p.consumer == c).collect();
            let listed = mine
                .iter()
                .take(limit)
                .map(|p| {
                    Reply::Array(vec![
                        id_reply(p.id),
                        Reply::Int(p.delivery_time as i64),
                        Reply::Int(p.delivery_count as i64),
                    ])
                })
                .collect();
            Reply::Map(vec![
                kv("name", Reply::Bulk(c)),
                kv("seen-time", Reply::Int(seen as i64)),
                kv("pel-count", Reply::Int(mine.len() as i64)),
                kv("pending", Reply::Array(listed)),
            ])
        });
        Reply::Map(vec![
            kv("name", Reply::Bulk(name)),
            kv("last-delivered-id", id_reply(g.last_id)),
            kv(
                "entries-read",
                opt((g.entries_read != -1).then_some(g.entries_read)),
            ),
            kv("lag", opt(s.lag(&g))),
            kv("pel-count", Reply::Int(pending.len() as i64)),
            kv("pending", Reply::Array(pel.collect())),
            kv("consumers", Reply::Array(consumers.collect())),
        ])
    });
    Reply::Array(groups.collect())
}

fn kv(k: &str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk(k), v)
}

fn xinfo_run(db: &Db, a: &[Vec<u8>]) -> Reply {
    let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    // XINFO STREAM key [FULL [COUNT n]]: None = not FULL, Some(0) = all
    let mut full = None;
    if sub == "stream" && a.len() > 3 {
        if !is(&a[3], "full") {
            return subcommand_error(a);
        }
        full = Some(10);
        if a.len() > 4 {
            if a.len() != 6 || !is(&a[4], "count") {
                return subcommand_error(a);
            }
            let n = tri!(int(&a[5]));
            full = Some(if n < 0 { 10 } else { n as u64 });
        }
    }
    let Some(s) = tri!(db.open_stream(&a[2])) else {
        return Reply::err("ERR no such key");
    };
    match sub.as_str() {
        "stream" => {
            let edge = |last| {
                s.range(db, StreamId::MIN, StreamId::MAX, 1, last)
                    .pop()
                    .map_or(Reply::Nil, entry_reply)
            };
            // listpack nodes hold up to 100 entries in Redis: an estimate
            let nodes = s.len().div_ceil(100) as i64;
            let mut info = vec![
                kv("length", Reply::Int(s.len() as i64)),
                kv("radix-tree-keys", Reply::Int(nodes)),
                kv("radix-tree-nodes", Reply::Int(nodes + 1)),
                kv("last-generated-id", id_reply(s.last_id)),
                kv("max-deleted-entry-id", id_reply(s.max_deleted)),
                kv("entries-added", Reply::Int(s.entries_added as i64)),
                kv("recorded-first-entry-id", id_reply(s.first_id)),
            ];
            match full {
                None => info.extend([
                    kv("groups", Reply::Int(s.groups as i64)),
                    kv("first-entry", edge(false)),
                    kv("last-entry", edge(true)),
                ]),
                Some(count) => {
                    let entries = s.range(db, StreamId::MIN, StreamId::MAX, count, false);
                    info.push(kv("entries", entries_reply(entries)));
                    info.push(kv("groups", full_groups(db, &s, count)));
                }
            }
            Reply::Map(info)
        }
        "groups" => Reply::Array(
            s.groups(db)
                .into_iter()
                .map(|(name, g)| {
                    let consumers = s.consumers(db, &name).len() as i64;
                    let (pending, _) = pending_by_consumer(&s, db, &name);
                    let opt = |v: Option<i64>| v.map_or(Reply::Nil, Reply::Int);
                    Reply::Map(vec![
                        kv("name", Reply::Bulk(name)),
                        kv("consumers", Reply::Int(consumers)),
                        kv("pending", Reply::Int(pending as i64)),
                        kv("last-delivered-id", id_reply(g.last_id)),
                        kv(
                            "entries-read",
                            opt((g.entries_read != -1).then_some(g.entries_read)),
                        ),
                        kv("lag", opt(s.lag(&g))),
                    ])
                })
                .collect(),
        ),
        _ => {
            let group = &a[3];
            if tri!(s.group(db, group)).is_none() {
                return Reply::err(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(group),
                    String::from_utf8_lossy(&a[2])
                ));
            }
            let (_, per) = pending_by_consumer(&s, db, group);
            let now = now_ms();
            Reply::Array(
                s.consumers(db, group)
                    .into_iter()
                    .map(|(name, seen)| {
                        let pending = per.get(&name).copied().unwrap_or(0);
                        Reply::Map(vec![
                            kv("name", Reply::Bulk(name)),
                            kv("pending", Reply::Int(pending as i64)),
                            kv("idle", Reply::Int(now.saturating_sub(seen) as i64)),
                        ])
                    })
                    .collect(),
            )
        }
    }
}

// --------------------------------------------------------- XACK, XPENDING

fn xack(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(s) = tri!(db.open_stream(&a[1])) else {
        return Reply::Int(0);
    };
    if tri!(s.group(db, &a[2])).is_none() {
        return Reply::Int(0);
    }
    let ids: Vec<StreamId> = tri!(a[3..].iter().map(|x| parse_id(x)).collect());
    let mut batch = Batch::default();
    let mut done = std::collections::HashSet::new();
    for id in ids {
        if !done.contains(&id) && tri!(s.get_pending(db, &a[2], id)).is_some() {
            s.del_pending(db, &mut batch, &a[2], id);
            done.insert(id);
        }
    }
    if !done.is_empty() {
        tri!(s.commit_group_change(db, batch, None));
    }
    Reply::Int(done.len() as i64)
}

fn xpending(db: &Db, a: &[Vec<u8>]) -> Reply {
    let argc = a.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return syntax_error();
    }
    let (mut min_idle, mut range, mut consumer) = (0i64, None, None);
    if argc >= 6 {
        let mut at = 3;
        if is(&a[3], "idle") {
            min_idle = tri!(int(&a[4]));
            if argc < 8 {
                return syntax_error();
            }
            at += 2;
        }
        let count = tri!(int(&a[at + 2])).max(0) as u64;
        let start = tri!(parse_bound(&a[at], false));
        let end = tri!(parse_bound(&a[at + 1], true));
        range = Some((start, end, count));
        consumer = a.get(at + 3).cloned();
    }
    let s = tri!(db.open_stream(&a[1]));
    let group = match &s {
        Some(s) => tri!(s.group(db, &a[2])),
        None => None,
    };
    let (Some(s), Some(_)) = (s, group) else {
        return nogroup_key(&a[1], &a[2]);
    };
    let Some((start, end, count)) = range else {
        let all = s.pending(db, &a[2]);
        let (Some(first), Some(last)) = (all.first(), all.last()) else {
            return Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
        };
        let mut per: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for p in &all {
            *per.entry(p.consumer.clone()).or_insert(0) += 1;
        }
        return Reply::Array(vec![
            Reply::Int(all.len() as i64),
            id_reply(first.id),
            id_reply(last.id),
            Reply::Array(
                per.into_iter()
                    .map(|(c, n)| Reply::Array(vec![Reply::Bulk(c), Reply::bulk(n.to_string())]))
                    .collect(),
            ),
        ]);
    };
    if let Some(c) = &consumer {
        if tri!(s.consumer(db, &a[2], c)).is_none() {
            return Reply::Array(Vec::new());
        }
    }
    let now = now_ms() as i64;
    let mut out = Vec::new();
    if count > 0 {
        s.scan_pending(db, &a[2], start, |p| {
            if p.id > end {
                return false;
            }
            let idle = now - p.delivery_time as i64;
            let mine = consumer.as_ref().is_none_or(|c| *c == p.consumer);
            if mine && (min_idle == 0 || idle >= min_idle) {
                out.push(Reply::Array(vec![
                    id_reply(p.id),
                    Reply::Bulk(p.consumer),
                    Reply::Int(idle.max(0)),
                    Reply::Int(p.delivery_count as i64),
                ]));
            }
            (out.len() as u64) < count
        });
    }
    Reply::Array(out)
}

// ------------------------------------------------------ XCLAIM, XAUTOCLAIM

/// Options of one claim (XCLAIM's or XAUTOCLAIM's).
struct Claim<'c> {
    group: &'c [u8],
    consumer: &'c [u8],
    min_idle: i64,
    delivery_time: u64,
    retry: Option<u64>,
    force: bool,
    justid: bool,
    now: u64,
    consumer_seen: bool,
    /// Whether this command created the consumer (Redis announces that
    /// alone: `xgroup-createconsumer`).
    consumer_created: bool,
}

/// What claiming one ID did.
enum Claimed {
    /// The entry is gone; its pending entry was dropped.
    Deleted,
    /// Not claimable (not pending, or not idle enough).
    Skipped,
    /// Claimed: the reply element (the entry or its ID) and the new
    /// pending entry.
    Reply(Reply, Pending),
}

/// The one claim routine behind XCLAIM and XAUTOCLAIM: moves the pending
/// entry `id` (`pending` as read) to the claiming consumer.
fn claim_one(
    db: &Db,
    s: &Stream,
    batch: &mut Batch,
    c: &mut Claim,
    id: StreamId,
    pending: Option<Pending>,
) -> Result<Claimed> {
    let Some(fields) = s.get(db, id)? else {
        if pending.is_some() {
            s.del_pending(db, batch, c.group, id);
            return Ok(Claimed::Deleted);
        }
        return Ok(Claimed::Skipped);
    };
    let (mut p, forced) = match pending {
        Some(p) => (p, false),
        None if c.force => (
            Pending {
                id,
                consumer: Vec::new(),
                delivery_time: c.now,
                delivery_count: 1,
            },
            true,
        ),
        None => return Ok(Claimed::Skipped),
    };
    if !forced && c.min_idle > 0 && (c.now as i64 - p.delivery_time as i64) < c.min_idle {
        return Ok(Claimed::Skipped);
    }
    if !c.consumer_seen {
        c.consumer_created = s.consumer(db, c.group, c.consumer)?.is_none();
        s.put_consumer(db, batch, c.group, c.consumer, c.now);
        c.consumer_seen = true;
    }
    p.consumer = c.consumer.to_vec();
    p.delivery_time = c.delivery_time;
    match c.retry {
        Some(n) => p.delivery_count = n,
        None if !c.justid => p.delivery_count += 1,
        None => {}
    }
    s.put_pending(db, batch, c.group, &p);
    let reply = if c.justid {
        id_reply(id)
    } else {
        entry_reply((id, fields))
    };
    Ok(Claimed::Reply(reply, p))
}

/// Opens the stream and checks the group of an XCLAIM/XAUTOCLAIM.
fn open_group(db: &Db, a: &[Vec<u8>]) -> Result<(Stream, Group)> {
    let s = db.open_stream(&a[1])?;
    let g = match &s {
        Some(s) => s.group(db, &a[2])?,
        None => None,
    };
    match (s, g) {
        (Some(s), Some(g)) => Ok((s, g)),
        _ => Err(nogroup_key(&a[1], &a[2])),
    }
}

fn xclaim(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (mut s, mut g) = tri!(open_group(db, a));
    let min_idle = tri!(int_or(
        &a[4],
        "ERR Invalid min-idle-time argument for XCLAIM"
    ))
    .max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < a.len() {
        match parse_id(&a[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = now_ms();
    let (mut time, mut retry, mut force, mut justid, mut last_id) =
        (None, None, false, false, StreamId::MIN);
    while j < a.len() {
        let more = j + 1 < a.len();
        let o = &a[j];
        if is(o, "force") {
            force = true;
        } else if is(o, "justid") {
            justid = true;
        } else if is(o, "idle") && more {
            j += 1;
            let idle = tri!(int_or(&a[j], "ERR Invalid IDLE option argument for XCLAIM"));
            time = Some(now as i64 - idle);
        } else if is(o, "time") && more {
            j += 1;
            time = Some(tri!(int_or(
                &a[j],
                "ERR Invalid TIME option argument for XCLAIM"
            )));
        } else if is(o, "retrycount") && more {
            j += 1;
            retry = Some(tri!(int_or(
                &a[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM"
            )));
        } else if is(o, "lastid") && more {
            j += 1;
            last_id = tri!(parse_id(&a[j]));
        } else {
            return Reply::err(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(o)
            ));
        }
        j += 1;
    }
    let mut batch = Batch::default();
    if last_id > g.last_id {
        g.last_id = last_id;
        s.put_group(db, &mut batch, &a[2], &g, false);
    }
    let delivery_time = match time {
        Some(t) if t >= 0 && t <= now as i64 => t as u64,
        _ => now,
    };
    let mut c = Claim {
        group: &a[2],
        consumer: &a[3],
        min_idle,
        delivery_time,
        retry: retry.filter(|&n| n >= 0).map(|n| n as u64),
        force,
        justid,
        now,
        consumer_seen: false,
        consumer_created: false,
    };
    let mut out = Vec::new();
    // pending entries this command changed (the batch is not applied yet)
    let mut changed = std::collections::HashMap::new();
    for id in ids {
        let pending = match changed.get(&id) {
            Some(p) => Option::clone(p),
            None => tri!(s.get_pending(db, &a[2], id)),
        };
        match tri!(claim_one(db, &s, &mut batch, &mut c, id, pending)) {
            Claimed::Reply(r, p) => {
                out.push(r);
                changed.insert(id, Some(p));
            }
            Claimed::Deleted => {
                changed.insert(id, None);
            }
            Claimed::Skipped => {}
        }
    }
    let event = c.consumer_created.then_some("xgroup-createconsumer");
    tri!(s.commit_group_change(db, batch, event));
    Reply::Array(out)
}

fn xautoclaim(db: &Db, a: &[Vec<u8>]) -> Reply {
    let min_idle = tri!(int_or(
        &a[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM"
    ))
    .max(0);
    let start = tri!(parse_bound(&a[5], false));
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < a.len() {
        if is(&a[j], "count") && j + 1 < a.len() {
            count = match parse_i64(&a[j + 1]) {
                Some(n) if (1..=i64::MAX / 16).contains(&n) => n,
                _ => return Reply::err("ERR COUNT must be > 0"),
            };
            j += 1;
        } else if is(&a[j], "justid") {
            justid = true;
        } else {
            return syntax_error();
        }
        j += 1;
    }
    let (s, _) = tri!(open_group(db, a));
    let mut attempts = count as u64 * 10;
    let mut count = count as u64;
    let mut pel = Vec::new();
    let want = attempts.saturating_add(1);
    s.scan_pending(db, &a[2], start, |p| {
        pel.push(p);
        (pel.len() as u64) < want
    });
    let now = now_ms();
    let mut c = Claim {
        group: &a[2],
        consumer: &a[3],
        min_idle,
        delivery_time: now,
        retry: None,
        force: false,
        justid,
        now,
        consumer_seen: false,
        consumer_created: false,
    };
    let mut batch = Batch::default();
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut next = 0;
    while attempts > 0 && count > 0 && next < pel.len() {
        attempts -= 1;
        let p = pel[next].clone();
        next += 1;
        match tri!(claim_one(db, &s, &mut batch, &mut c, p.id, Some(p.clone()))) {
            Claimed::Deleted => {
                deleted.push(id_reply(p.id));
                count -= 1;
            }
            Claimed::Skipped => {}
            Claimed::Reply(r, _) => {
                claimed.push(r);
                count -= 1;
            }
        }
    }
    let cursor = pel.get(next).map_or(StreamId::MIN, |p| p.id);
    let event = c.consumer_created.then_some("xgroup-createconsumer");
    tri!(s.commit_group_change(db, batch, event));
    Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ])
}
