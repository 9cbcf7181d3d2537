//! String commands: SET and friends, counters, ranges, MGET/MSET.

use super::{cmd, not_integer, syntax_error, Args, BoxFuture, Command, Exec::*, Merge};
use crate::data_types::string::MAX_STRING;
use crate::data_types::{Db, MetaRead, Result, WRONGTYPE};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::storage::encoding::{Kind, Meta};
use crate::storage::Batch;
use crate::util::long_double::LongDouble;
use crate::util::now_ms;
use crate::util::num::parse_i64;

/// The string family.
pub static COMMANDS: &[Command] = &[
    meta_read!("get", "string", get),
    cmd("set", -3, "write denyoom", (1, 1, 1), "string", Keyed(set)),
    cmd(
        "setnx",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(setnx),
    ),
    cmd(
        "setex",
        4,
        "write denyoom",
        (1, 1, 1),
        "string",
        Keyed(setex),
    ),
    cmd(
        "psetex",
        4,
        "write denyoom",
        (1, 1, 1),
        "string",
        Keyed(psetex),
    ),
    cmd(
        "getset",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(getset),
    ),
    cmd(
        "getdel",
        2,
        "write fast",
        (1, 1, 1),
        "string",
        Keyed(getdel),
    ),
    cmd("getex", -2, "write fast", (1, 1, 1), "string", Keyed(getex)),
    cmd(
        "mget",
        -2,
        "readonly fast",
        (1, -1, 1),
        "string",
        Fanout(mget, Merge::Ordered),
    ),
    cmd(
        "mset",
        -3,
        "write denyoom",
        (1, -1, 2),
        "string",
        Fanout(mset, Merge::Ok),
    ),
    cmd(
        "msetnx",
        -3,
        "write denyoom",
        (1, -1, 2),
        "string",
        Coord(msetnx),
    ),
    cmd(
        "incr",
        2,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(incr),
    ),
    cmd(
        "decr",
        2,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(decr),
    ),
    cmd(
        "incrby",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(incrby),
    ),
    cmd(
        "decrby",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(decrby),
    ),
    cmd(
        "incrbyfloat",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(incrbyfloat),
    ),
    cmd(
        "append",
        3,
        "write denyoom fast",
        (1, 1, 1),
        "string",
        Keyed(append),
    ),
    meta_read!("strlen", "string", strlen),
    cmd(
        "getrange",
        4,
        "readonly",
        (1, 1, 1),
        "string",
        Keyed(getrange),
    ),
    cmd(
        "substr",
        4,
        "readonly",
        (1, 1, 1),
        "string",
        Keyed(getrange),
    ),
    cmd(
        "setrange",
        4,
        "write denyoom",
        (1, 1, 1),
        "string",
        Keyed(setrange),
    ),
    cmd("lcs", -3, "readonly", (1, 2, 1), "string", Coord(lcs)),
];

/// Unwraps a data-type result into a reply.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}
pub(crate) use tri;

fn get(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    tri!(db.string_reply(&a[1]))
}

/// Expiry options shared by SET, GETEX, SETEX and friends.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Ttl {
    /// No option given: the key loses any TTL.
    Clear,
    /// KEEPTTL.
    Keep,
    /// PERSIST (GETEX).
    Persist,
    /// An absolute time in ms.
    At(u64),
}

/// Converts an EX/PX/EXAT/PXAT argument to an absolute ms time, with
/// Redis's checks and error text (`cmd` names the command).
pub fn parse_expire(unit: &str, arg: &[u8], cmd: &str) -> Result<u64> {
    let n = parse_i64(arg).ok_or_else(not_integer)?;
    let invalid = || Reply::err(format!("ERR invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let now = now_ms() as i64;
    let at = match unit {
        "ex" => n.checked_mul(1000).and_then(|ms| ms.checked_add(now)),
        "px" => n.checked_add(now),
        "exat" => n.checked_mul(1000),
        _ => Some(n),
    };
    at.map(|t| t as u64).ok_or_else(invalid)
}

fn set(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (mut nx, mut xx, mut want_get) = (false, false, false);
    let mut ttl = Ttl::Clear;
    let mut i = 3;
    while i < a.len() {
        let opt = String::from_utf8_lossy(&a[i]).to_ascii_lowercase();
        match opt.as_str() {
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            "get" => want_get = true,
            "keepttl" if ttl == Ttl::Clear => ttl = Ttl::Keep,
            "ex" | "px" | "exat" | "pxat" if ttl == Ttl::Clear && i + 1 < a.len() => {
                ttl = Ttl::At(tri!(parse_expire(&opt, &a[i + 1], "set")));
                i += 1;
            }
            _ => return syntax_error(),
        }
        i += 1;
    }
    if !(nx || xx || want_get || ttl == Ttl::Keep) {
        let expire_at = if let Ttl::At(t) = ttl { t } else { 0 };
        tri!(set_announcing_ttl(db, &a[1], &a[2], expire_at));
        return Reply::ok();
    }
    // only GET's read of the old value counts as a keyspace hit or miss
    let old = tri!(db.counting_lookups(want_get, || db.lookup_read(&a[1])));
    if want_get {
        if let Some(m) = &old {
            if m.kind != Kind::String {
                return Reply::err(crate::data_types::WRONGTYPE);
            }
        }
    }
    let old_value = || {
        if want_get {
            Reply::opt_bulk(old.as_ref().map(|m| m.payload.clone()))
        } else {
            Reply::ok()
        }
    };
    if (nx && old.is_some()) || (xx && old.is_none()) {
        return if want_get { old_value() } else { Reply::Nil };
    }
    let expire_at = match ttl {
        Ttl::At(t) => t,
        Ttl::Keep => old.as_ref().map_or(0, |m| m.expire_at),
        _ => 0,
    };
    if ttl == Ttl::Keep {
        tri!(db.set_string(&a[1], &a[2], expire_at));
    } else {
        tri!(set_announcing_ttl(db, &a[1], &a[2], expire_at));
    }
    old_value()
}

/// Writes a string with a new expiry (0: none); a TTL is announced with an
/// `expire` event after `set`, as Redis does for SET EX/PX, SETEX, PSETEX.
fn set_announcing_ttl(db: &Db, key: &[u8], value: &[u8], expire_at: u64) -> Result<()> {
    db.set_string(key, value, expire_at)?;
    if expire_at != 0 {
        db.announce(key, ("expire", "generic"));
    }
    Ok(())
}

fn setnx(db: &Db, a: &[Vec<u8>]) -> Reply {
    if tri!(db.lookup(&a[1])).is_some() {
        return Reply::Int(0);
    }
    tri!(db.set_string(&a[1], &a[2], 0));
    Reply::Int(1)
}

fn set_with_expire(db: &Db, a: &[Vec<u8>], unit: &str, name: &str) -> Reply {
    let at = tri!(parse_expire(unit, &a[2], name));
    tri!(set_announcing_ttl(db, &a[1], &a[3], at));
    Reply::ok()
}

fn setex(db: &Db, a: &[Vec<u8>]) -> Reply {
    set_with_expire(db, a, "ex", "setex")
}

fn psetex(db: &Db, a: &[Vec<u8>]) -> Reply {
    set_with_expire(db, a, "px", "psetex")
}

fn getset(db: &Db, a: &[Vec<u8>]) -> Reply {
    let old = tri!(db.get_string(&a[1]));
    tri!(db.set_string(&a[1], &a[2], 0));
    Reply::opt_bulk(old.map(|m| m.payload))
}

fn getdel(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(old) = tri!(db.get_string(&a[1])) else {
        return Reply::Nil;
    };
    tri!(db.delete_keys([a[1].as_slice()]));
    Reply::Bulk(old.payload)
}

fn getex(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut ttl = Ttl::Keep;
    let mut i = 2;
    while i < a.len() {
        let opt = String::from_utf8_lossy(&a[i]).to_ascii_lowercase();
        match opt.as_str() {
            "persist" if ttl == Ttl::Keep => ttl = Ttl::Persist,
            "ex" | "px" | "exat" | "pxat" if ttl == Ttl::Keep && i + 1 < a.len() => {
                ttl = Ttl::At(tri!(parse_expire(&opt, &a[i + 1], "getex")));
                i += 1;
            }
            _ => return syntax_error(),
        }
        i += 1;
    }
    let Some(mut m) = tri!(db.get_string(&a[1])) else {
        return Reply::Nil;
    };
    let value = m.payload.clone();
    // Redis names these events after the TTL change, not GETEX; an expiry
    // is set (and announced) again even when it is unchanged
    let shard = db.shard;
    match ttl {
        Ttl::At(t) if t <= now_ms() => {
            let del = || db.delete_keys([a[1].as_slice()]);
            tri!(shard.naming_events(("del", "generic"), del));
        }
        Ttl::At(t) => {
            m.expire_at = t;
            tri!(shard.naming_events(("expire", "generic"), || db.set(&a[1], &m)));
        }
        Ttl::Persist if m.expire_at != 0 => {
            m.expire_at = 0;
            tri!(shard.naming_events(("persist", "generic"), || db.set(&a[1], &m)));
        }
        _ => {}
    }
    Reply::Bulk(value)
}

/// MGET: GET's reply for each key (a long value straight from the hot
/// cache's shared copy), nil for a key of another type.
fn mget(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut out = Vec::with_capacity(a.len() - 1);
    for k in &a[1..] {
        out.push(match db.string_reply(k) {
            Ok(reply) => reply,
            Err(Reply::Error(e)) if e == WRONGTYPE => Reply::Nil,
            Err(e) => return e,
        });
    }
    Reply::Array(out)
}

fn mset(db: &Db, a: &[Vec<u8>]) -> Reply {
    if a.len().is_multiple_of(2) {
        return super::arity_error(String::from_utf8_lossy(&a[0]).to_ascii_lowercase().as_str());
    }
    let mut batch = Batch::default();
    for kv in a[1..].chunks(2) {
        db.put_string(&mut batch, &kv[0], &kv[1], 0);
    }
    tri!(db.write(batch));
    Reply::ok()
}

fn msetnx(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if a.len().is_multiple_of(2) {
            return super::arity_error("msetnx");
        }
        let keys: Vec<Vec<u8>> = a[1..].iter().step_by(2).cloned().collect();
        let exists = super::keys::count_existing(client, keys).await;
        match exists {
            Reply::Int(0) => {}
            Reply::Int(_) => return Reply::Int(0),
            err => return err,
        }
        let mut margs = a.clone();
        margs[0] = b"mset".to_vec();
        match super::dispatch(client, margs).await {
            Reply::Simple(_) => Reply::Int(1),
            other => other,
        }
    })
}

/// Reads an integer string value (0 if absent).
fn read_int(db: &Db, key: &[u8]) -> Result<(i64, Option<Meta>)> {
    match db.get_string(key)? {
        None => Ok((0, None)),
        Some(m) => {
            let n = parse_i64(&m.payload).ok_or_else(not_integer)?;
            Ok((n, Some(m)))
        }
    }
}

/// Writes a new value, keeping the key's TTL.
fn write_keep_ttl(db: &Db, key: &[u8], old: Option<Meta>, value: Vec<u8>) -> Result<()> {
    let expire_at = old.map_or(0, |m| m.expire_at);
    db.set_string(key, &value, expire_at)
}

fn incr_by(db: &Db, key: &[u8], by: i64) -> Reply {
    let (n, old) = tri!(read_int(db, key));
    let Some(v) = n.checked_add(by) else {
        return Reply::err("ERR increment or decrement would overflow");
    };
    tri!(write_keep_ttl(db, key, old, v.to_string().into_bytes()));
    Reply::Int(v)
}

fn incr(db: &Db, a: &[Vec<u8>]) -> Reply {
    incr_by(db, &a[1], 1)
}

fn decr(db: &Db, a: &[Vec<u8>]) -> Reply {
    incr_by(db, &a[1], -1)
}

fn incrby(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(by) = parse_i64(&a[2]) else {
        return not_integer();
    };
    incr_by(db, &a[1], by)
}

fn decrby(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(by) = parse_i64(&a[2]) else {
        return not_integer();
    };
    let Some(neg) = by.checked_neg() else {
        return Reply::err("ERR decrement would overflow");
    };
    incr_by(db, &a[1], neg)
}

/// INCRBYFLOAT: in x87 `long double`, as Redis on x86-64 computes it
/// (`util::long_double`); checks the key's type, then its value, then the
/// increment, in Redis's order.
fn incrbyfloat(db: &Db, a: &[Vec<u8>]) -> Reply {
    let not_float = || Reply::err("ERR value is not a valid float");
    let old = tri!(db.get_string(&a[1]));
    let cur = match &old {
        None => LongDouble::ZERO,
        Some(m) => match LongDouble::parse(&m.payload) {
            Some(v) => v,
            None => return not_float(),
        },
    };
    let Some(by) = LongDouble::parse(&a[2]) else {
        return not_float();
    };
    let Some(v) = cur.add(&by).filter(LongDouble::is_finite) else {
        return Reply::err("ERR increment would produce NaN or Infinity");
    };
    let text = v.to_human().into_bytes();
    tri!(write_keep_ttl(db, &a[1], old, text.clone()));
    Reply::Bulk(text)
}

fn append(db: &Db, a: &[Vec<u8>]) -> Reply {
    let old = tri!(db.get_string(&a[1]));
    let mut value = old.as_ref().map(|m| m.payload.clone()).unwrap_or_default();
    if value.len() + a[2].len() > MAX_STRING {
        return Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    value.extend_from_slice(&a[2]);
    let len = value.len() as i64;
    tri!(write_keep_ttl(db, &a[1], old, value));
    Reply::Int(len)
}

fn strlen(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    let m = tri!(db.lookup_kind(&a[1], Kind::String));
    Reply::Int(m.map_or(0, |m| m.payload.len() as i64))
}

/// Resolves Redis's inclusive, possibly negative [start, end] range over a
/// length; `None` when empty.
pub fn clamp_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(len - 1));
    (len > 0 && s <= e && s < len).then_some((s as usize, e as usize))
}

fn getrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (Some(start), Some(end)) = (parse_i64(&a[2]), parse_i64(&a[3])) else {
        return not_integer();
    };
    let v = tri!(db.get_string(&a[1]))
        .map(|m| m.payload)
        .unwrap_or_default();
    if start < 0 && end < 0 && start > end {
        return Reply::bulk("");
    }
    match clamp_range(start, end, v.len() as i64) {
        Some((s, e)) => Reply::bulk(&v[s..=e]),
        None => Reply::bulk(""),
    }
}

fn setrange(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(offset) = parse_i64(&a[2]) else {
        return not_integer();
    };
    if offset < 0 {
        return Reply::err("ERR offset is out of range");
    }
    let old = tri!(db.get_string(&a[1]));
    let patch = &a[3];
    if patch.is_empty() {
        return Reply::Int(old.map_or(0, |m| m.payload.len() as i64));
    }
    let offset = offset as usize;
    if offset + patch.len() > MAX_STRING {
        return Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let mut value = old.as_ref().map(|m| m.payload.clone()).unwrap_or_default();
    if value.len() < offset + patch.len() {
        value.resize(offset + patch.len(), 0);
    }
    value[offset..offset + patch.len()].copy_from_slice(patch);
    let len = value.len() as i64;
    tri!(write_keep_ttl(db, &a[1], old, value));
    Reply::Int(len)
}

/// LCS's options: what to reply with.
#[derive(Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    min_match_len: usize,
    with_match_len: bool,
}

impl LcsOptions {
    fn parse(args: &[Vec<u8>]) -> std::result::Result<LcsOptions, Reply> {
        let mut o = LcsOptions::default();
        let mut i = 0;
        while i < args.len() {
            match args[i].to_ascii_lowercase().as_slice() {
                b"len" => o.len = true,
                b"idx" => o.idx = true,
                b"withmatchlen" => o.with_match_len = true,
                b"minmatchlen" if i + 1 < args.len() => {
                    let n = parse_i64(&args[i + 1]).ok_or_else(not_integer)?;
                    o.min_match_len = n.max(0) as usize;
                    i += 1;
                }
                _ => return Err(syntax_error()),
            }
            i += 1;
        }
        if o.len && o.idx {
            return Err(Reply::err(
                "ERR If you want both the length and indexes, please just use IDX.",
            ));
        }
        Ok(o)
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest
/// common subsequence of two strings (missing keys are empty), by the
/// textbook dynamic program, as Redis computes it (so ties resolve the
/// same way).
fn lcs(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let mut values = Vec::with_capacity(2);
        for key in &a[1..3] {
            let k = key.clone();
            let read = move |db: &Db| db.lookup_read(&k);
            match super::on_owner(client, key, read).await {
                Err(e) => return e,
                Ok(Some(m)) if m.kind != Kind::String => {
                    return Reply::err("ERR The specified keys must contain string values")
                }
                Ok(m) => values.push(m.map(|m| m.payload).unwrap_or_default()),
            }
        }
        let o = tri!(LcsOptions::parse(&a[3..]));
        let (x, y) = (&values[0], &values[1]);
        let cells = (x.len() as u128 + 1) * (y.len() as u128 + 1);
        if cells * 4 > MAX_STRING as u128 {
            return Reply::err(
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            );
        }
        lcs_reply(x, y, &o)
    })
}

/// A run of consecutive matches: its first and last index in each string.
type MatchRun = ((usize, usize), (usize, usize));

/// The reply of LCS over `x` and `y`.
fn lcs_reply(x: &[u8], y: &[u8], o: &LcsOptions) -> Reply {
    // table[i * w + j]: length of the LCS of x[..i] and y[..j]
    let w = y.len() + 1;
    let mut table = vec![0u32; (x.len() + 1) * w];
    for i in 1..=x.len() {
        for j in 1..=y.len() {
            table[i * w + j] = if x[i - 1] == y[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[x.len() * w + y.len()];
    if o.len {
        return Reply::Int(total as i64);
    }
    // walk back from the end, collecting the subsequence and the runs of
    // consecutive matches (last run first, as Redis reports them)
    let mut common = Vec::with_capacity(total as usize);
    let mut runs = Vec::new();
    let mut run: Option<MatchRun> = None;
    let mut close = |run: &mut Option<MatchRun>| {
        if let Some(((a0, a1), (b0, b1))) = run.take() {
            if a1 - a0 + 1 >= o.min_match_len {
                runs.push(((a0, a1), (b0, b1)));
            }
        }
    };
    let (mut i, mut j) = (x.len(), y.len());
    while i > 0 && j > 0 {
        if x[i - 1] == y[j - 1] {
            common.push(x[i - 1]);
            run = match run {
                Some(((a0, a1), (b0, b1))) if a0 == i && b0 == j => {
                    Some(((a0 - 1, a1), (b0 - 1, b1)))
                }
                _ => Some(((i - 1, i - 1), (j - 1, j - 1))),
            };
            i -= 1;
            j -= 1;
            if i == 0 || j == 0 {
                close(&mut run);
            }
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            close(&mut run);
        }
    }
    if !o.idx {
        common.reverse();
        return Reply::Bulk(common);
    }
    let range = |(from, to): (usize, usize)| {
        Reply::Array(vec![Reply::Int(from as i64), Reply::Int(to as i64)])
    };
    let matches = runs
        .into_iter()
        .map(|(ra, rb)| {
            let mut m = vec![range(ra), range(rb)];
            if o.with_match_len {
                m.push(Reply::Int((ra.1 - ra.0 + 1) as i64));
            }
            Reply::Array(m)
        })
        .collect();
    Reply::Map(vec![
        (Reply::bulk("matches"), Reply::Array(matches)),
        (Reply::bulk("len"), Reply::Int(total as i64)),
    ])
}
