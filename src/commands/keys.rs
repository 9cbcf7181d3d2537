//! Generic key commands: existence, deletion, TTLs, renaming, iteration.

use super::strings::tri;
use super::{
    cmd, not_integer, on_every_shard, on_owner, on_shard, syntax_error, Args, BoxFuture, Command,
    Exec::*, Merge,
};
use crate::data_types::{Db, Dump, MetaRead};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::routing::shard_of;
use crate::storage::encoding::{Kind, Meta};
use crate::storage::Batch;
use crate::util::glob::glob_match;
use crate::util::now_ms;
use crate::util::num::parse_i64;

/// The generic (keyspace) family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "del",
        -2,
        "write",
        (1, -1, 1),
        "generic",
        Fanout(del, Merge::Sum),
    ),
    cmd(
        "unlink",
        -2,
        "write fast",
        (1, -1, 1),
        "generic",
        Fanout(del, Merge::Sum),
    ),
    cmd(
        "exists",
        -2,
        "readonly fast",
        (1, -1, 1),
        "generic",
        Fanout(exists, Merge::Sum),
    ),
    cmd(
        "touch",
        -2,
        "readonly fast",
        (1, -1, 1),
        "generic",
        Fanout(exists, Merge::Sum),
    ),
    meta_read!("type", "generic", type_),
    cmd(
        "keys",
        2,
        "readonly",
        (0, 0, 0),
        "generic",
        Broadcast(keys, Merge::Concat),
    ),
    cmd("scan", -2, "readonly", (0, 0, 0), "generic", Coord(scan)),
    cmd(
        "randomkey",
        1,
        "readonly",
        (0, 0, 0),
        "generic",
        Coord(randomkey),
    ),
    cmd("rename", 3, "write", (1, 2, 1), "generic", Coord(rename)),
    cmd(
        "renamenx",
        3,
        "write fast",
        (1, 2, 1),
        "generic",
        Coord(renamenx),
    ),
    cmd(
        "copy",
        -3,
        "write denyoom",
        (1, 2, 1),
        "generic",
        Coord(copy),
    ),
    cmd("move", 3, "write fast", (1, 1, 1), "generic", Coord(move_)),
    cmd("dump", 2, "readonly", (1, 1, 1), "generic", Keyed(dump)),
    cmd(
        "restore",
        -4,
        "write denyoom",
        (1, 1, 1),
        "generic",
        Keyed(restore),
    ),
    cmd(
        "expire",
        -3,
        "write fast",
        (1, 1, 1),
        "generic",
        Keyed(expire),
    ),
    cmd(
        "pexpire",
        -3,
        "write fast",
        (1, 1, 1),
        "generic",
        Keyed(expire),
    ),
    cmd(
        "expireat",
        -3,
        "write fast",
        (1, 1, 1),
        "generic",
        Keyed(expire),
    ),
    cmd(
        "pexpireat",
        -3,
        "write fast",
        (1, 1, 1),
        "generic",
        Keyed(expire),
    ),
    meta_read!("ttl", "generic", ttl),
    meta_read!("pttl", "generic", ttl),
    meta_read!("expiretime", "generic", ttl),
    meta_read!("pexpiretime", "generic", ttl),
    cmd(
        "persist",
        2,
        "write fast",
        (1, 1, 1),
        "generic",
        Keyed(persist),
    ),
    cmd(
        "object",
        -2,
        "readonly",
        (2, 2, 1),
        "generic",
        Coord(object),
    ),
];

fn name_of(a: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&a[0]).to_ascii_lowercase()
}

fn del(db: &Db, a: &[Vec<u8>]) -> Reply {
    Reply::Int(tri!(db.delete_keys(a[1..].iter().map(|k| k.as_slice()))))
}

fn exists(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut n = 0;
    for k in &a[1..] {
        n += tri!(db.lookup_read(k)).is_some() as i64;
    }
    Reply::Int(n)
}

/// How many of `keys` exist, across shards (MSETNX, RENAMENX).
pub async fn count_existing(client: &Client, keys: Vec<Vec<u8>>) -> Reply {
    let mut args = vec![b"exists".to_vec()];
    args.extend(keys);
    let cmd = super::lookup(b"exists").expect("exists is registered");
    match cmd.exec {
        Fanout(f, merge) => super::fanout(client, cmd, f, merge, args).await,
        _ => unreachable!("exists fans out"),
    }
}

fn type_(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    Reply::Simple(
        tri!(db.lookup_read(&a[1]))
            .map_or("none", |m| m.kind.type_name())
            .into(),
    )
}

fn keys(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut out = Vec::new();
    db.scan(None, usize::MAX, |k, _| {
        if glob_match(&a[1], k, false) {
            out.push(Reply::bulk(k));
        }
    });
    Reply::Array(out)
}

/// SCAN cursors carry the shard in their low bits.
const SHARD_BITS: u32 = 10;

fn scan(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let Some(cursor) = std::str::from_utf8(&a[1])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return Reply::err("ERR invalid cursor");
        };
        let (mut pattern, mut count, mut type_filter) = (None, 10usize, None);
        let mut i = 2;
        while i < a.len() {
            let opt = String::from_utf8_lossy(&a[i]).to_ascii_lowercase();
            if i + 1 >= a.len() {
                return syntax_error();
            }
            match opt.as_str() {
                "match" => pattern = Some(a[i + 1].clone()),
                "count" => match parse_i64(&a[i + 1]) {
                    Some(n) if n >= 1 => count = n as usize,
                    Some(_) => return syntax_error(),
                    None => return not_integer(),
                },
                "type" => {
                    type_filter = Some(String::from_utf8_lossy(&a[i + 1]).to_ascii_lowercase())
                }
                _ => return syntax_error(),
            }
            i += 2;
        }
        let shards = client.shard.shard_count() as u64;
        let shard = cursor & ((1 << SHARD_BITS) - 1);
        if shard >= shards {
            return Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])]);
        }
        let token = cursor >> SHARD_BITS;
        let (keys, next) = on_shard(client, shard as usize, move |db| {
            let from = (token != 0)
                .then(|| db.shard.scan_cursors.borrow().get(token))
                .flatten();
            let mut keys = Vec::new();
            let next = db.scan(from.as_deref(), count, |k, m| {
                let type_ok = type_filter
                    .as_deref()
                    .is_none_or(|t| m.kind.type_name().eq_ignore_ascii_case(t));
                let match_ok = pattern.as_deref().is_none_or(|p| glob_match(p, k, false));
                if type_ok && match_ok {
                    keys.push(Reply::bulk(k));
                }
            });
            (
                keys,
                next.map(|n| db.shard.scan_cursors.borrow_mut().save(n)),
            )
        })
        .await;
        let next_cursor = match next {
            Some(tok) => (tok << SHARD_BITS) | shard,
            None if shard + 1 < shards => shard + 1,
            None => 0,
        };
        Reply::Array(vec![
            Reply::bulk(next_cursor.to_string()),
            Reply::Array(keys),
        ])
    })
}

fn random_key_on(db: &Db) -> Option<Vec<u8>> {
    let e = &db.shard.engine;
    let mut opts = rocksdb::ReadOptions::default();
    opts.set_iterate_lower_bound(vec![db.index]);
    opts.set_iterate_upper_bound(vec![db.index + 1]);
    let mut it = e
        .db()
        .raw_iterator_cf_opt(e.cf(crate::storage::Cf::Meta), opts);
    let slot = (crate::util::random_u64() % crate::shard::routing::SLOTS as u64) as u16;
    let mut start = vec![db.index];
    start.extend_from_slice(&slot.to_be_bytes());
    it.seek(&start);
    let now = now_ms();
    for wrapped in [false, true] {
        if wrapped {
            it.seek_to_first();
        }
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if Meta::decode(v).is_some_and(|m| !m.is_expired(now)) {
                return Some(k[3..].to_vec());
            }
            it.next();
        }
    }
    None
}

fn randomkey(client: &mut Client, _a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let n = client.shard.shard_count();
        let first = (crate::util::random_u64() % n as u64) as usize;
        for i in 0..n {
            if let Some(k) = on_shard(client, (first + i) % n, random_key_on).await {
                return Reply::Bulk(k);
            }
        }
        Reply::Nil
    })
}

/// Moves or copies `src` (in `src_db`) to `dst` (in `dst_db`), across shards
/// if needed. Returns Ok(false) when `dst` exists and `replace` is false.
/// A copy's read of `src` counts as a keyspace hit or miss, as in Redis.
async fn transfer(
    client: &Client,
    src: Vec<u8>,
    dst: Vec<u8>,
    dst_db: u8,
    replace: bool,
    remove_src: bool,
) -> Result<bool, Reply> {
    let n = client.shard.shard_count();
    let src_db = client.db;
    let (src_owner, dst_owner) = (shard_of(&src, n), shard_of(&dst, n));
    if src_owner == dst_owner {
        return on_shard(client, src_owner, move |db| {
            let from = Db::new(db.shard, src_db);
            let to = Db::new(db.shard, dst_db);
            let dump = from
                .counting_lookups(!remove_src, || from.dump(&src))?
                .ok_or_else(|| Reply::err("ERR no such key"))?;
            if src == dst && src_db == dst_db {
                return Ok(true);
            }
            if !replace && to.lookup(&dst)?.is_some() {
                return Ok(false);
            }
            let mut batch = Batch::default();
            if remove_src {
                from.delete(&mut batch, &src);
            }
            to.stage_restore(&mut batch, &dst, &dump);
            db.write(batch)?;
            crate::shard::blocking::wake(&to, &dst);
            Ok(true)
        })
        .await;
    }
    // Across shards: read, write the destination, then delete the source.
    // (Not atomic against concurrent writers yet; see issue on transactions.)
    let key = src.clone();
    let read = move |db: &Db| db.counting_lookups(!remove_src, || db.dump(&key));
    let dump: Dump = on_shard(client, src_owner, read)
        .await?
        .ok_or_else(|| Reply::err("ERR no such key"))?;
    let dst_meta = crate::storage::encoding::meta_key(dst_db, &dst);
    let dst_key = dst.clone();
    let written = on_shard(client, dst_owner, move |db| {
        let to = Db::new(db.shard, dst_db);
        if !replace && to.lookup(&dst)?.is_some() {
            return Ok(false);
        }
        let mut batch = Batch::default();
        // a rename's rename_to follows the source's rename_from (below)
        let mut stage = || to.stage_restore(&mut batch, &dst, &dump);
        match remove_src {
            true => db.shard.without_events(stage),
            false => stage(),
        }
        to.write(batch)?;
        if !remove_src {
            crate::shard::blocking::wake(&to, &dst);
        }
        Ok(true)
    })
    .await?;
    if written && remove_src {
        on_shard(client, src_owner, move |db| {
            db.delete_keys([src.as_slice()])?;
            db.shard.publish_event(&dst_meta, "rename_to", "generic");
            Ok(())
        })
        .await?;
        // clients blocked on the destination are served after both events
        on_shard(client, dst_owner, move |db| {
            crate::shard::blocking::wake(&Db::new(db.shard, dst_db), &dst_key);
            Ok(())
        })
        .await?;
    }
    Ok(written)
}

fn rename(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        match transfer(client, a[1].clone(), a[2].clone(), client.db, true, true).await {
            Ok(_) => Reply::ok(),
            Err(e) => e,
        }
    })
}

fn renamenx(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if a[1] == a[2] {
            let key = a[1].clone();
            return match on_owner(client, &a[1], move |db| db.lookup(&key)).await {
                Ok(Some(_)) => Reply::Int(0),
                Ok(None) => Reply::err("ERR no such key"),
                Err(e) => e,
            };
        }
        match transfer(client, a[1].clone(), a[2].clone(), client.db, false, true).await {
            Ok(done) => Reply::Int(done as i64),
            Err(e) => e,
        }
    })
}

fn copy(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let (mut dst_db, mut replace) = (client.db, false);
        let mut i = 3;
        while i < a.len() {
            match String::from_utf8_lossy(&a[i]).to_ascii_lowercase().as_str() {
                "replace" => replace = true,
                "db" if i + 1 < a.len() => {
                    match super::parse_db_index(&a[i + 1]) {
                        Ok(n) => dst_db = n,
                        Err(e) => return e,
                    }
                    i += 1;
                }
                _ => return syntax_error(),
            }
            i += 1;
        }
        if a[1] == a[2] && dst_db == client.db {
            return Reply::err("ERR source and destination objects are the same");
        }
        match transfer(client, a[1].clone(), a[2].clone(), dst_db, replace, false).await {
            Ok(done) => Reply::Int(done as i64),
            Err(e) if e == Reply::err("ERR no such key") => Reply::Int(0),
            Err(e) => e,
        }
    })
}

/// MOVE key db: moves a key (with its TTL) to another database of the
/// same shard, unless the destination already has it.
fn move_(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let dst_db = match super::parse_db_index(&a[2]) {
            Ok(n) => n,
            Err(e) => return e,
        };
        if dst_db == client.db {
            return Reply::err("ERR source and destination objects are the same");
        }
        match transfer(client, a[1].clone(), a[1].clone(), dst_db, false, true).await {
            Ok(done) => Reply::Int(done as i64),
            Err(e) if e == Reply::err("ERR no such key") => Reply::Int(0),
            Err(e) => e,
        }
    })
}

/// DUMP key: the value in Redis's serialization (`protocol::rdb`).
fn dump(db: &Db, a: &[Vec<u8>]) -> Reply {
    match tri!(db.portable_value(&a[1])) {
        Some((value, _)) => Reply::Bulk(crate::protocol::rdb::dump(&value)),
        None => Reply::Nil,
    }
}

/// RESTORE's options: REPLACE, ABSTTL, and IDLETIME/FREQ (checked as
/// Redis checks them, then ignored: DiskDB evicts nothing).
struct RestoreOptions {
    replace: bool,
    absttl: bool,
}

fn restore_options(opts: &[Vec<u8>]) -> Result<RestoreOptions, Reply> {
    let mut o = RestoreOptions {
        replace: false,
        absttl: false,
    };
    let (mut idle, mut freq) = (false, false);
    let mut i = 0;
    while i < opts.len() {
        let more = i + 1 < opts.len();
        match String::from_utf8_lossy(&opts[i])
            .to_ascii_lowercase()
            .as_str()
        {
            "replace" => o.replace = true,
            "absttl" => o.absttl = true,
            "idletime" if more && !freq => {
                let n = parse_i64(&opts[i + 1]).ok_or_else(not_integer)?;
                if n < 0 {
                    return Err(Reply::err("ERR Invalid IDLETIME value, must be >= 0"));
                }
                (idle, i) = (true, i + 1);
            }
            "freq" if more && !idle => {
                let n = parse_i64(&opts[i + 1]).ok_or_else(not_integer)?;
                if !(0..=255).contains(&n) {
                    return Err(Reply::err(
                        "ERR Invalid FREQ value, must be >= 0 and <= 255",
                    ));
                }
                (freq, i) = (true, i + 1);
            }
            _ => return Err(syntax_error()),
        }
        i += 1;
    }
    Ok(o)
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], with
/// Redis's checks in Redis's order.
fn restore(db: &Db, a: &[Vec<u8>]) -> Reply {
    use crate::protocol::rdb::{restore as decode, PayloadError};
    let o = tri!(restore_options(&a[4..]));
    let existed = tri!(db.lookup(&a[1])).is_some();
    if existed && !o.replace {
        return Reply::err("BUSYKEY Target key name already exists.");
    }
    let Some(ttl) = parse_i64(&a[2]) else {
        return not_integer();
    };
    if ttl < 0 {
        return Reply::err("ERR Invalid TTL value, must be >= 0");
    }
    let value = match decode(&a[3]) {
        Ok(v) => v,
        Err(PayloadError::VersionOrChecksum) => {
            return Reply::err("ERR DUMP payload version or checksum are wrong")
        }
        Err(PayloadError::BadFormat(why)) => {
            log::info!("RESTORE of '{}': {why}", String::from_utf8_lossy(&a[1]));
            return Reply::err("ERR Bad data format");
        }
        Err(PayloadError::TooLarge) => {
            return Reply::err(format!(
                "ERR RESTORE of '{}': the value decodes to more than {} elements or {} MB, \
                 DiskDB's limit for one RESTORE",
                String::from_utf8_lossy(&a[1]),
                crate::protocol::rdb::MAX_ELEMENTS,
                crate::protocol::rdb::MAX_DECODED_BYTES >> 20
            ))
        }
        Err(PayloadError::Unsupported(what)) => {
            return Reply::err(format!(
                "ERR RESTORE of '{}': the payload holds a {what}, which DiskDB does not restore",
                String::from_utf8_lossy(&a[1])
            ))
        }
    };
    let now = now_ms() as i64;
    let expire_at = match (ttl, o.absttl) {
        (0, _) => 0,
        (t, true) => t,
        (t, false) => t.saturating_add(now),
    };
    if expire_at != 0 && expire_at <= now {
        // already expired: only the replaced key goes
        if existed {
            tri!(db.delete_keys([a[1].as_slice()]));
        }
        return Reply::ok();
    }
    tri!(db.restore_portable_value(&a[1], value, expire_at as u64));
    Reply::ok()
}

fn expire(db: &Db, a: &[Vec<u8>]) -> Reply {
    let name = name_of(a);
    let Some(n) = parse_i64(&a[2]) else {
        return not_integer();
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        match String::from_utf8_lossy(opt).to_ascii_lowercase().as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            _ => {
                return Reply::err(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                ))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return Reply::err("ERR GT and LT options at the same time are not compatible");
    }
    let now = now_ms() as i64;
    let at = match name.as_str() {
        "expire" => n.checked_mul(1000).and_then(|ms| ms.checked_add(now)),
        "pexpire" => n.checked_add(now),
        "expireat" => n.checked_mul(1000),
        _ => Some(n),
    };
    let Some(at) = at else {
        return Reply::err(format!("ERR invalid expire time in '{name}' command"));
    };
    let Some(mut m) = tri!(db.lookup(&a[1])) else {
        return Reply::Int(0);
    };
    let current = m.expire_at;
    let ok = if nx {
        current == 0
    } else if xx && current == 0 {
        false
    } else if gt {
        current != 0 && at > current as i64
    } else if lt {
        current == 0 || at < current as i64
    } else {
        true
    };
    if !ok {
        return Reply::Int(0);
    }
    if at <= now {
        tri!(db.delete_keys([a[1].as_slice()]));
    } else {
        m.expire_at = at as u64;
        tri!(db.set(&a[1], &m));
    }
    Reply::Int(1)
}

fn ttl(db: &impl MetaRead, a: &[Vec<u8>]) -> Reply {
    let name = name_of(a);
    let Some(m) = tri!(db.lookup_read(&a[1])) else {
        return Reply::Int(-2);
    };
    if m.expire_at == 0 {
        return Reply::Int(-1);
    }
    let left = m.expire_at.saturating_sub(now_ms()) as i64;
    Reply::Int(match name.as_str() {
        "ttl" => (left + 500) / 1000,
        "pttl" => left,
        "expiretime" => (m.expire_at / 1000) as i64,
        _ => m.expire_at as i64,
    })
}

fn persist(db: &Db, a: &[Vec<u8>]) -> Reply {
    let Some(mut m) = tri!(db.lookup(&a[1])) else {
        return Reply::Int(0);
    };
    if m.expire_at == 0 {
        return Reply::Int(0);
    }
    m.expire_at = 0;
    tri!(db.set(&a[1], &m));
    Reply::Int(1)
}

/// OBJECT ENCODING's answer for a value.
pub fn encoding_of(m: &Meta) -> &'static str {
    match m.kind {
        Kind::String if m.payload.len() <= 20 && parse_i64(&m.payload).is_some() => "int",
        Kind::String if m.payload.len() <= 44 => "embstr",
        Kind::String => "raw",
        Kind::List => "quicklist",
        Kind::Hash => "hashtable",
        Kind::Set => "hashtable",
        Kind::ZSet => "skiplist",
        Kind::Json => "raw",
        Kind::Stream => "stream",
    }
}

fn object(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        if sub == "help" && a.len() == 2 {
            return Reply::Array(
                [
                    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "ENCODING <key>",
                    "FREQ <key>",
                    "IDLETIME <key>",
                    "REFCOUNT <key>",
                    "HELP",
                ]
                .iter()
                .map(|s| Reply::Simple(s.to_string()))
                .collect(),
            );
        }
        if !matches!(sub.as_str(), "encoding" | "freq" | "idletime" | "refcount") {
            return super::unknown_subcommand(&a);
        }
        if a.len() != 3 {
            return Reply::err(format!(
                "ERR wrong number of arguments for 'object|{sub}' command"
            ));
        }
        let key = a[2].clone();
        let found = on_owner(client, &a[2], move |db| db.lookup_read(&key)).await;
        match (found, sub.as_str()) {
            (Err(e), _) => e,
            (Ok(None), _) => Reply::Nil,
            (Ok(Some(m)), "encoding") => Reply::bulk(encoding_of(&m)),
            (Ok(Some(_)), "refcount") => Reply::Int(1),
            // maxmemory-policy is always noeviction: no LFU counters
            (Ok(Some(_)), "freq") => Reply::err(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ),
            (Ok(Some(_)), _) => Reply::Int(0),
        }
    })
}

/// Total live keys in the client's database, across shards (DBSIZE).
pub async fn dbsize(client: &Client) -> i64 {
    on_every_shard(client, |db| db.count_keys().0 as i64)
        .await
        .into_iter()
        .sum()
}
