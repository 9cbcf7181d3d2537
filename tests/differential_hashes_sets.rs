//! Differential test for hashes and sets: random command sequences over a
//! few keys (on both shards, some shared through a hash tag, some turned
//! into strings for WRONGTYPE) go to DiskDB and to a real redis-server.
//! Replies must match exactly, except where Redis promises no order
//! (compared sorted), no particular random pick (compared by size), or
//! paginates differently (scans are compared by what a full iteration
//! returns).
mod common;
use common::err_text;
use common::reference::Pair;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::Value;

/// Every key. Commands mostly use the keys of their type and sometimes
/// any, so types collide (WRONGTYPE); "str" is mostly a string, "foo"
/// and "bar" (on different shards) become whatever comes first.
const KEYS: &[&str] = &["h1", "h2", "s1", "s2", "foo", "bar", "{t}x", "{t}y", "str"];
/// Keys hash commands mostly use (one per shard).
const HASH_KEYS: &[&str] = &["h1", "h2"];
/// Keys set commands mostly use (on both shards; the `{t}` ones share one).
const SET_KEYS: &[&str] = &["s1", "s2", "{t}x", "{t}y"];
const FIELDS: &[&str] = &[
    "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "1", "-2", "", "x y",
];

/// How two replies are compared.
#[derive(Clone, Copy, Debug)]
enum Cmp {
    /// Byte for byte.
    Exact,
    /// As a multiset of elements (unordered replies).
    Sorted,
    /// As a multiset of (field, value) pairs (HGETALL, WITHVALUES).
    Pairs,
    /// Only the number of elements, or nil vs. a value (random picks).
    Len,
    /// Iterate a scan to the end; compare the distinct elements (pairs
    /// for HSCAN).
    Scan { pairs: bool },
}

fn pick<'a>(r: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[r.random_range(0..from.len())]
}

fn value(r: &mut StdRng) -> String {
    match r.random_range(0..8) {
        0 => r.random_range(-100..100).to_string(),
        1 => String::new(),
        2 => "hello".into(),
        3 => "3.5".into(),
        4 => "-0.5".into(),
        5 => "x".repeat(r.random_range(1..100)),
        _ => r.random_range(0..1000).to_string(),
    }
}

/// A key, usually from `pool`, sometimes any.
fn key(r: &mut StdRng, pool: &[&str]) -> String {
    let from = if r.random_bool(0.85) { pool } else { KEYS };
    pick(r, from).to_string()
}

fn random_command(r: &mut StdRng) -> (Vec<String>, Cmp) {
    let kind = r.random_range(0..46);
    let k = key(r, if kind < 22 { HASH_KEYS } else { SET_KEYS });
    let f = |r: &mut StdRng| pick(r, FIELDS).to_string();
    let s = |x: &str| x.to_string();
    let several = |r: &mut StdRng, n: usize| -> Vec<String> {
        (0..r.random_range(1..=n)).map(|_| f(r)).collect()
    };
    let keys = |r: &mut StdRng, n: usize| -> Vec<String> {
        (0..r.random_range(1..=n))
            .map(|_| key(r, SET_KEYS))
            .collect()
    };
    use Cmp::*;
    let (cmd, cmp): (Vec<String>, Cmp) = match kind {
        0..=3 => {
            let mut v = vec![s("HSET"), k];
            for _ in 0..r.random_range(1..4) {
                v.extend([f(r), value(r)]);
            }
            (v, Exact)
        }
        4 => (vec![s("HMSET"), k, f(r), value(r)], Exact),
        5 => (vec![s("HSETNX"), k, f(r), value(r)], Exact),
        6 | 7 => (vec![s("HGET"), k, f(r)], Exact),
        8 => ([vec![s("HMGET"), k], several(r, 4)].concat(), Exact),
        9 | 10 => ([vec![s("HDEL"), k], several(r, 3)].concat(), Exact),
        11 => (vec![s("HLEN"), k], Exact),
        12 => (vec![s("HSTRLEN"), k, f(r)], Exact),
        13 => (vec![s("HEXISTS"), k, f(r)], Exact),
        14 => (vec![s("HGETALL"), k], Pairs),
        15 => (vec![s("HKEYS"), k], Sorted),
        16 => (vec![s("HVALS"), k], Sorted),
        17 => match r.random_range(0..4) {
            // huge integers only in the field "big", which HINCRBYFLOAT
            // never touches: Redis adds in long double precision
            0 => (
                vec![s("HSET"), k, s("big"), s("9223372036854775806")],
                Exact,
            ),
            1 => {
                let by = pick(
                    r,
                    &["1", "-1", "9223372036854775807", "-9223372036854775808"],
                );
                (vec![s("HINCRBY"), k, s("big"), s(by)], Exact)
            }
            _ => {
                let by = pick(r, &["1", "-3", "100", "x"]);
                (vec![s("HINCRBY"), k, f(r), s(by)], Exact)
            }
        },
        18 => {
            let by = pick(r, &["1.5", "-0.25", "2", "0.125", "abc", "inf"]);
            (vec![s("HINCRBYFLOAT"), k, f(r), s(by)], Exact)
        }
        19 => {
            let n = r.random_range(-15..15).to_string();
            match r.random_range(0..5) {
                0 => (vec![s("HRANDFIELD"), k], Len),
                1 => (vec![s("HRANDFIELD"), k, s("100")], Sorted),
                2 => (vec![s("HRANDFIELD"), k, s("100"), s("WITHVALUES")], Pairs),
                3 => (vec![s("HRANDFIELD"), k, n], Len),
                _ => (vec![s("HRANDFIELD"), k, n, s("WITHVALUES")], Len),
            }
        }
        20 | 21 => {
            let mut v = vec![
                s("HSCAN"),
                k,
                s("0"),
                s("COUNT"),
                r.random_range(1..6).to_string(),
            ];
            if r.random_bool(0.3) {
                v.extend([s("MATCH"), s(pick(r, &["m*", "*1*", "?"]))]);
            }
            (v, Scan { pairs: true })
        }
        22..=25 => ([vec![s("SADD"), k], several(r, 4)].concat(), Exact),
        26 | 27 => ([vec![s("SREM"), k], several(r, 3)].concat(), Exact),
        28 => (vec![s("SISMEMBER"), k, f(r)], Exact),
        29 => ([vec![s("SMISMEMBER"), k], several(r, 3)].concat(), Exact),
        30 => (vec![s("SMEMBERS"), k], Sorted),
        31 => (vec![s("SCARD"), k], Exact),
        32 => (vec![s("SPOP"), k, s("100")], Sorted),
        33 => match r.random_range(0..3) {
            0 => (vec![s("SRANDMEMBER"), k], Len),
            1 => (vec![s("SRANDMEMBER"), k, s("100")], Sorted),
            _ => (
                vec![s("SRANDMEMBER"), k, r.random_range(-20..20).to_string()],
                Len,
            ),
        },
        34 | 35 => (vec![s("SMOVE"), k, key(r, SET_KEYS), f(r)], Exact),
        36 => ([vec![s("SINTER")], keys(r, 3)].concat(), Sorted),
        37 => ([vec![s("SUNION")], keys(r, 3)].concat(), Sorted),
        38 => ([vec![s("SDIFF")], keys(r, 3)].concat(), Sorted),
        39 => {
            let ks = keys(r, 3);
            let mut v = [vec![s("SINTERCARD"), ks.len().to_string()], ks].concat();
            if r.random_bool(0.4) {
                v.extend([s("LIMIT"), r.random_range(0..4).to_string()]);
            }
            (v, Exact)
        }
        40 => {
            let op = pick(r, &["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            ([vec![s(op), k], keys(r, 3)].concat(), Exact)
        }
        41 => {
            let mut v = vec![
                s("SSCAN"),
                k,
                s("0"),
                s("COUNT"),
                r.random_range(1..6).to_string(),
            ];
            if r.random_bool(0.3) {
                v.extend([s("MATCH"), s(pick(r, &["m*", "*1*", "?"]))]);
            }
            (v, Scan { pairs: false })
        }
        42 => (vec![s("SET"), key(r, &["str"]), value(r)], Exact),
        43 => ([vec![s("DEL")], keys(r, 2)].concat(), Exact),
        44 => (vec![s("TYPE"), k], Exact),
        _ => {
            // malformed commands
            let bad = [
                vec![s("HSET"), k.clone(), f(r)],
                vec![s("HSET"), k.clone(), f(r), value(r), f(r)],
                vec![s("HINCRBY"), k.clone(), f(r)],
                vec![s("SPOP"), k.clone(), s("-1")],
                vec![s("SPOP"), k.clone(), s("1"), s("2")],
                vec![s("SINTERCARD"), s("0"), k.clone()],
                vec![s("SINTERCARD"), s("3"), k.clone()],
                vec![s("SINTERCARD"), s("1"), k.clone(), s("LIMIT"), s("-1")],
                vec![s("HRANDFIELD"), k.clone(), s("1"), s("WITHVALUE")],
                vec![s("HSCAN"), k.clone(), s("abc")],
                vec![s("SSCAN"), k.clone(), s("0"), s("COUNT"), s("0")],
                vec![s("SMOVE"), k.clone(), k.clone()],
            ];
            (bad[r.random_range(0..bad.len())].clone(), Exact)
        }
    };
    (cmd, cmp)
}

fn query(con: &mut redis::Connection, args: &[String]) -> Result<Value, String> {
    let mut c = redis::cmd(&args[0]);
    for a in &args[1..] {
        c.arg(a);
    }
    c.query::<Value>(con).map_err(|e| err_text(&e))
}

/// Sorted debug renderings of `items`, taken `group` at a time.
fn multiset(items: Vec<Value>, group: usize) -> Vec<String> {
    let mut out: Vec<String> = items.chunks(group).map(|g| format!("{g:?}")).collect();
    out.sort();
    out
}

/// Runs a scan to completion on one server; the distinct elements seen.
fn full_scan(
    con: &mut redis::Connection,
    args: &[String],
    pairs: bool,
) -> Result<Vec<String>, String> {
    let mut args = args.to_vec();
    let mut seen = Vec::new();
    for _ in 0..1000 {
        let Value::Array(mut parts) = query(con, &args)? else {
            return Err("not an array".into());
        };
        let Some(Value::Array(items)) = parts.pop() else {
            return Err("no items".into());
        };
        seen.extend(multiset(items, if pairs { 2 } else { 1 }));
        let Some(Value::BulkString(cursor)) = parts.pop() else {
            return Err("no cursor".into());
        };
        if cursor == b"0" {
            seen.sort();
            seen.dedup();
            return Ok(seen);
        }
        args[2] = String::from_utf8(cursor).unwrap();
    }
    Err("scan did not finish".into())
}

/// Canonical text of one side's reply under `cmp`.
fn render(con: &mut redis::Connection, args: &[String], cmp: Cmp) -> String {
    if let Cmp::Scan { pairs } = cmp {
        return format!("{:?}", full_scan(con, args, pairs));
    }
    let reply = match query(con, args) {
        Ok(v) => v,
        Err(e) => return format!("ERR<{e}>"),
    };
    match (cmp, reply) {
        (Cmp::Sorted, Value::Array(items)) => format!("{:?}", multiset(items, 1)),
        (Cmp::Pairs, Value::Array(items)) => format!("{:?}", multiset(items, 2)),
        (Cmp::Len, Value::Array(items)) => format!("{} elements", items.len()),
        (Cmp::Len, Value::BulkString(_)) => "a value".into(),
        (_, v) => format!("{v:?}"),
    }
}

/// Runs `steps` random commands on both servers; returns how many
/// replies were errors and how many of those were WRONGTYPE.
fn run_sequence(pair: &mut Pair, seed: u64, steps: usize) -> (usize, usize) {
    let mut r = StdRng::seed_from_u64(seed);
    let mut history: Vec<String> = Vec::new();
    let (mut errors, mut wrongtype) = (0, 0);
    for step in 0..steps {
        let (cmd, cmp) = random_command(&mut r);
        let ours = render(&mut pair.ours, &cmd, cmp);
        let theirs = render(&mut pair.theirs, &cmd, cmp);
        history.push(cmd.join(" "));
        if ours != theirs {
            let tail = history[history.len().saturating_sub(20)..].join("\n  ");
            panic!(
                "seed {seed} step {step} ({cmp:?}): {cmd:?}\n diskdb: {ours}\n redis:  {theirs}\nlast commands:\n  {tail}"
            );
        }
        errors += ours.contains("ERR<") as usize;
        wrongtype += ours.contains("WRONGTYPE") as usize;
    }
    (errors, wrongtype)
}

#[test]
fn random_hash_and_set_commands_match_redis() {
    let mut pair = Pair::start();
    let steps = 1500;
    for seed in 0..6 {
        for con in [&mut pair.ours, &mut pair.theirs] {
            let _: () = redis::cmd("FLUSHALL").query(con).unwrap();
        }
        let (errors, wrongtype) = run_sequence(&mut pair, seed, steps);
        // the sequences must exercise real data, not just error paths
        assert!(errors < steps / 2, "seed {seed}: {errors} errors");
        assert!(wrongtype > 0, "seed {seed}: no WRONGTYPE");
    }
}
