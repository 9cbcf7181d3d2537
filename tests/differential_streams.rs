//! Differential test for streams: random command sequences over a few keys
//! (on both shards, one often a string) go to DiskDB and to a real
//! redis-server; every reply must be identical. IDs are explicit (never
//! `*`) and replies that carry idle times are left out, so everything
//! compared is deterministic.
mod common;
use common::reference::{start_redis, watch_and_events, Pair};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::Value;

/// "foo" and "bar" are on different shards; "str" is often a string.
const KEYS: &[&str] = &["s1", "foo", "bar", "str"];
const GROUPS: &[&str] = &["g1", "g2"];
const CONSUMERS: &[&str] = &["alice", "bob", "carol"];
const FIELDS: &[&str] = &["f", "g", "temp", ""];

fn pick<'a>(r: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[r.random_range(0..from.len())]
}

/// A random ID around the small range the sequences use.
fn id(r: &mut StdRng) -> String {
    match r.random_range(0..10) {
        0 => "0-0".into(),
        1 => r.random_range(0..30).to_string(),
        2 => format!("{}-*", r.random_range(0..30)),
        _ => format!("{}-{}", r.random_range(0..30), r.random_range(0..4)),
    }
}

/// A range bound for XRANGE/XREVRANGE.
fn bound(r: &mut StdRng) -> String {
    match r.random_range(0..8) {
        0 => "-".into(),
        1 => "+".into(),
        2 => format!("({}-{}", r.random_range(0..30), r.random_range(0..4)),
        3 => r.random_range(0..30).to_string(),
        _ => format!("{}-{}", r.random_range(0..30), r.random_range(0..4)),
    }
}

fn random_command(r: &mut StdRng) -> Vec<String> {
    let s = |x: &str| x.to_string();
    let k = s(pick(r, KEYS));
    let g = s(pick(r, GROUPS));
    let c = s(pick(r, CONSUMERS));
    match r.random_range(0..32) {
        0..=5 => {
            let mut cmd = vec![s("XADD"), k];
            if r.random_bool(0.1) {
                cmd.push(s("NOMKSTREAM"));
            }
            if r.random_bool(0.15) {
                cmd.extend([s("MAXLEN"), s(pick(r, &["=", "5"]))]);
                if cmd.last().unwrap() == "=" {
                    cmd.push(r.random_range(0..6).to_string());
                }
            }
            if r.random_bool(0.1) {
                cmd.extend([s("MINID"), id(r)]);
            }
            cmd.push(id(r));
            for _ in 0..r.random_range(1..3) {
                cmd.extend([s(pick(r, FIELDS)), r.random_range(0..100).to_string()]);
            }
            cmd
        }
        6 => vec![s("XLEN"), k],
        7 | 8 => {
            let mut cmd = vec![s(pick(r, &["XRANGE", "XREVRANGE"])), k, bound(r), bound(r)];
            if r.random_bool(0.4) {
                cmd.extend([s("COUNT"), r.random_range(-1..5).to_string()]);
            }
            cmd
        }
        9 => vec![s("XDEL"), k, id(r), id(r)],
        10 => match r.random_range(0..3) {
            0 => vec![s("XTRIM"), k, s("MAXLEN"), r.random_range(0..8).to_string()],
            1 => vec![
                s("XTRIM"),
                k,
                s("MAXLEN"),
                s("="),
                r.random_range(0..8).to_string(),
            ],
            _ => vec![s("XTRIM"), k, s("MINID"), id(r)],
        },
        11 | 12 => {
            let start = pick(r, &["$", "0", "0-0", "5-0", "12"]).to_string();
            let mut cmd = vec![s("XGROUP"), s("CREATE"), k, g, start];
            if r.random_bool(0.5) {
                cmd.push(s("MKSTREAM"));
            }
            if r.random_bool(0.2) {
                cmd.extend([s("ENTRIESREAD"), r.random_range(-1..4).to_string()]);
            }
            cmd
        }
        13 => vec![
            s("XGROUP"),
            s("SETID"),
            k,
            g,
            s(pick(r, &["$", "0", "3-1"])),
        ],
        14 => vec![s("XGROUP"), s("DESTROY"), k, g],
        15 => vec![s("XGROUP"), s("CREATECONSUMER"), k, g, c],
        16 => vec![s("XGROUP"), s("DELCONSUMER"), k, g, c],
        17..=19 => {
            let mut cmd = vec![s("XREADGROUP"), s("GROUP"), g, c];
            if r.random_bool(0.5) {
                cmd.extend([s("COUNT"), r.random_range(0..4).to_string()]);
            }
            if r.random_bool(0.2) {
                cmd.push(s("NOACK"));
            }
            cmd.extend([s("STREAMS"), k, s(pick(r, &[">", ">", "0", "3-0"]))]);
            cmd
        }
        20 | 21 => {
            let mut cmd = vec![s("XACK"), k, g];
            for _ in 0..r.random_range(1..4) {
                cmd.push(id(r));
            }
            cmd
        }
        22 => vec![s("XPENDING"), k, g],
        23 => {
            let mut cmd = vec![s("XREAD")];
            if r.random_bool(0.5) {
                cmd.extend([s("COUNT"), r.random_range(0..4).to_string()]);
            }
            cmd.extend([s("STREAMS"), k, s(pick(r, KEYS)), id(r), s("0")]);
            cmd
        }
        24 => vec![s("XINFO"), s("GROUPS"), k],
        25 => vec![s("XSETID"), k, id(r)],
        26 => {
            let mut cmd = vec![s("XCLAIM"), k, g, c, s("0"), id(r), id(r)];
            if r.random_bool(0.3) {
                cmd.push(s("FORCE"));
            }
            cmd.push(s("JUSTID"));
            cmd
        }
        27 => vec![
            s("XAUTOCLAIM"),
            k,
            g,
            c,
            s("0"),
            s(pick(r, &["0", "-", "3-0", "(2-1"])),
            s("COUNT"),
            r.random_range(1..4).to_string(),
            s("JUSTID"),
        ],
        28 => vec![s("SET"), k, s("v")],
        29 => vec![s("DEL"), k],
        30 => vec![s("TYPE"), k],
        _ => vec![s("EXISTS"), k],
    }
}

/// Runs `cmd` on both servers and compares the replies after `strip`
/// removes what legitimately differs (internal node counts, idle times).
fn same_stripped(pair: &mut Pair, cmd: &[String], strip: fn(Value) -> Value, ctx: &str) {
    let query = |con: &mut redis::Connection| {
        let mut c = redis::cmd(&cmd[0]);
        for a in &cmd[1..] {
            c.arg(a);
        }
        match c.query::<Value>(con) {
            Ok(v) => format!("{:?}", strip(v)),
            Err(e) => format!("ERR<{e}>"),
        }
    };
    let (ours, theirs) = (query(&mut pair.ours), query(&mut pair.theirs));
    assert_eq!(ours, theirs, "{ctx}: {cmd:?}");
}

/// XINFO STREAM without the radix-tree node counts.
fn strip_radix(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .chunks(2)
                .filter(|kv| !format!("{:?}", kv[0]).contains("radix-tree"))
                .flatten()
                .cloned()
                .collect(),
        ),
        other => other,
    }
}

/// Zeroes every integer (times and counters alike), recursively.
fn zero_ints(v: Value) -> Value {
    match v {
        Value::Int(_) => Value::Int(0),
        Value::Array(items) => Value::Array(items.into_iter().map(zero_ints).collect()),
        other => other,
    }
}

/// XINFO STREAM FULL's shape: no node counts, no integers.
fn strip_full(v: Value) -> Value {
    zero_ints(strip_radix(v))
}

/// Extended XPENDING rows without their idle times.
fn strip_idle(v: Value) -> Value {
    match v {
        Value::Array(rows) => Value::Array(
            rows.into_iter()
                .map(|row| match row {
                    Value::Array(mut r) if r.len() == 4 => {
                        r.remove(2);
                        Value::Array(r)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn random_stream_sequences_match_redis_server() {
    let mut pair = Pair::start();
    let mut compared = 0;
    // STREAM_SEEDS=n runs more sequences when hunting for differences
    let seeds = std::env::var("STREAM_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30u64);
    for seed in 0..seeds {
        let mut r = StdRng::seed_from_u64(seed);
        pair.both(&["FLUSHALL".to_string()]);
        for step in 0..300 {
            let cmd = random_command(&mut r);
            if std::env::var_os("TRACE_STREAMS").is_some() {
                eprintln!("{seed}/{step}: {cmd:?}");
            }
            let ctx = format!("seed {seed} step {step}");
            pair.same(&cmd, &ctx);
            compared += 1;
            if r.random_bool(0.05) {
                let k = KEYS[r.random_range(0..KEYS.len())];
                let g = GROUPS[r.random_range(0..GROUPS.len())];
                let info = ["XINFO", "STREAM", k].map(String::from);
                same_stripped(&mut pair, &info, strip_radix, &ctx);
                let mut pending = vec!["XPENDING", k, g, "-", "+", "5"];
                if r.random_bool(0.5) {
                    pending.push(CONSUMERS[r.random_range(0..CONSUMERS.len())]);
                }
                let pending: Vec<String> = pending.into_iter().map(String::from).collect();
                same_stripped(&mut pair, &pending, strip_idle, &ctx);
            }
        }
        for k in KEYS {
            for probe in [
                vec!["TYPE", k],
                vec!["XRANGE", k, "-", "+"],
                vec!["XINFO", "GROUPS", k],
            ] {
                let probe: Vec<String> = probe.iter().map(|x| x.to_string()).collect();
                pair.same(&probe, &format!("seed {seed}: final state"));
            }
        }
    }
    assert!(compared >= 9000, "only {compared} commands compared");
    eprintln!("differential streams: {compared} commands compared, all identical");
}

#[test]
fn stream_errors_match_redis_server() {
    let mut pair = Pair::start();
    let setup: &[&[&str]] = &[
        &["XADD", "s", "1-1", "a", "1"],
        &["XADD", "s", "2-1", "b", "2"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["SET", "str", "v"],
    ];
    for c in setup {
        pair.both(&c.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    }
    let cases: &[&[&str]] = &[
        &["XADD", "s", "1-1", "a", "1"],
        &["XADD", "s", "0-0", "a", "1"],
        &["XADD", "s", "0", "a", "1"],
        &["XADD", "s", "abc", "a", "1"],
        &["XADD", "s", "1-x", "a", "1"],
        &["XADD", "s", "-1", "a", "1"],
        &["XADD", "s", "3-1", "a"],
        &["XADD", "s", "3-1", "a", "1", "b"],
        &["XADD", "s", "MAXLEN", "-1", "3-1", "a", "1"],
        &["XADD", "s", "MAXLEN", "x", "3-1", "a", "1"],
        &["XADD", "s", "LIMIT", "5", "3-1", "a", "1"],
        &["XADD", "s", "MAXLEN", "5", "LIMIT", "5", "3-1", "a", "1"],
        &["XADD", "s", "MINID", "+", "3-1", "a", "1"],
        &["XADD", "str", "3-1", "a", "1"],
        &["XADD", "missing", "NOMKSTREAM", "3-1", "a", "1"],
        &["XADD", "s", "2-*", "a", "1"],
        &[
            "XADD",
            "s",
            "18446744073709551615-18446744073709551615",
            "a",
            "1",
        ],
        &["XADD", "s", "5-*", "a", "1"],
        &["XLEN", "str"],
        &["XRANGE", "s", "x", "+"],
        &["XRANGE", "s", "-", "x"],
        &["XRANGE", "s", "(-", "+"],
        &[
            "XRANGE",
            "s",
            "(18446744073709551615-18446744073709551615",
            "+",
        ],
        &["XRANGE", "s", "-", "(0-0"],
        &["XRANGE", "s", "-", "+", "COUNT"],
        &["XRANGE", "s", "-", "+", "COUNT", "x"],
        &["XRANGE", "s", "-", "+", "COUNT", "0"],
        &["XRANGE", "s", "-", "+", "LIMIT", "1"],
        &["XRANGE", "str", "-", "+"],
        &["XRANGE", "missing", "-", "+", "COUNT", "0"],
        &["XREVRANGE", "s", "+", "-", "COUNT", "1"],
        &["XREVRANGE", "s", "(2-1", "(1-1"],
        &["XDEL", "s", "x"],
        &["XDEL", "str", "1-1"],
        &["XTRIM", "s"],
        &["XTRIM", "s", "FOO", "1"],
        &["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1"],
        &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"],
        &["XTRIM", "str", "MAXLEN", "1"],
        &["XTRIM", "missing", "MAXLEN", "x"],
        &["XSETID", "s", "1-0"],
        &["XSETID", "missing", "1-0"],
        &["XSETID", "s", "9-0", "ENTRIESADDED", "-1"],
        &["XSETID", "s", "9-0", "ENTRIESADDED", "1"],
        &["XSETID", "s", "9-0", "MAXDELETEDID", "10-0"],
        &["XSETID", "s", "9-0", "BOGUS"],
        &["XSETID", "str", "9-0"],
        &["XREAD", "STREAMS", "s"],
        &["XREAD", "STREAMS", "s", "str", "0", "0"],
        &["XREAD", "COUNT", "x", "STREAMS", "s", "0"],
        &["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
        &["XREAD", "BLOCK", "x", "STREAMS", "s", "0"],
        &["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
        &["XREAD", "NOACK", "STREAMS", "s", "0"],
        &["XREAD", "STREAMS", "s", ">"],
        &["XREAD", "STREAMS", "s", "x"],
        &["XREAD", "FOO", "STREAMS", "s", "0"],
        &["XREAD", "COUNT", "1", "s"],
        &["XREAD", "STREAMS", "missing", "0"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
        &["XREADGROUP", "GROUP", "nope", "c", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "missing", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "x"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "s", ">"],
        &["XREADGROUP", "COUNT", "1", "STREAMS", "s", ">", "x"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "missing", "g", "0"],
        &["XGROUP", "CREATE", "s", "g2", "x"],
        &["XGROUP", "CREATE", "s", "g2", "0", "BOGUS"],
        &["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-5"],
        &["XGROUP", "CREATE", "str", "g", "0"],
        &["XGROUP", "CREATE", "s"],
        &["XGROUP"],
        &["XGROUP", "FOO", "s", "g"],
        &["XGROUP", "SETID", "s", "nope", "0"],
        &["XGROUP", "SETID", "s", "g", "x"],
        &["XGROUP", "DESTROY", "s", "nope"],
        &["XGROUP", "DESTROY", "missing", "g"],
        &["XGROUP", "CREATECONSUMER", "s", "nope", "c"],
        &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        &["XACK", "s", "g", "x"],
        &["XACK", "s", "nope", "x"],
        &["XACK", "str", "g", "1-1"],
        &["XACK", "missing", "g", "1-1"],
        &["XPENDING", "s", "g", "-", "+"],
        &["XPENDING", "s", "nope"],
        &["XPENDING", "missing", "g"],
        &["XPENDING", "str", "g"],
        &["XPENDING", "s", "g", "-", "+", "x"],
        &["XPENDING", "s", "g", "x", "+", "1"],
        &["XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"],
        &["XPENDING", "s", "g", "IDLE", "1", "-", "+"],
        &["XPENDING", "s", "g", "-", "+", "10", "nobody"],
        &["XCLAIM", "s", "nope", "c", "0", "1-1"],
        &["XCLAIM", "s", "g", "c", "x", "1-1"],
        &["XCLAIM", "s", "g", "c", "0", "1-1", "BOGUS"],
        &["XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x"],
        &["XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "x"],
        &["XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "x"],
        &["XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "x"],
        &["XCLAIM", "str", "g", "c", "0", "1-1"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        &["XCLAIM", "s", "g", "d", "0", "1-1", "1-1", "2-1", "1-1"],
        &["XAUTOCLAIM", "s", "g", "c", "x", "0"],
        &["XAUTOCLAIM", "s", "g", "c", "0", "x"],
        &["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"],
        &["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "x"],
        &["XAUTOCLAIM", "s", "g", "c", "0", "0", "BOGUS"],
        &["XAUTOCLAIM", "s", "nope", "c", "0", "0"],
        &["XAUTOCLAIM", "missing", "g", "c", "0", "0"],
        &["XINFO", "STREAM", "missing"],
        &["XINFO", "STREAM", "str"],
        &["XINFO", "GROUPS", "missing"],
        &["XINFO", "CONSUMERS", "s", "nope"],
        &["XINFO", "CONSUMERS", "s"],
        &["XINFO", "FOO", "s"],
        &["XINFO", "GROUPS", "s"],
    ];
    for case in cases {
        let cmd: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        pair.same(&cmd, "error case");
    }
    // duplicate IDs in XCLAIM count each claim
    let pending = ["XPENDING", "s", "g", "-", "+", "10"].map(String::from);
    same_stripped(&mut pair, &pending, strip_idle, "XCLAIM twice");
    // XINFO STREAM FULL has the same shape (times aside)
    let reads: &[&[&str]] = &[
        &["XADD", "f", "1-0", "a", "1"],
        &["XADD", "f", "2-0", "b", "2"],
        &["XADD", "f", "3-0", "c", "3"],
        &["XGROUP", "CREATE", "f", "g1", "0"],
        &["XGROUP", "CREATE", "f", "g2", "$"],
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "f",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "f", ">"],
        &["XGROUP", "CREATECONSUMER", "f", "g2", "carol"],
        &["XDEL", "f", "2-0"],
    ];
    for c in reads {
        pair.both(&c.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    }
    for full in [
        &["XINFO", "STREAM", "f", "FULL"][..],
        &["XINFO", "STREAM", "f", "FULL", "COUNT", "1"],
        &["XINFO", "STREAM", "f", "FULL", "COUNT", "0"],
        &["XINFO", "STREAM", "f", "FULL", "COUNT"],
        &["XINFO", "STREAM", "f", "BOGUS"],
    ] {
        let cmd: Vec<String> = full.iter().map(|s| s.to_string()).collect();
        same_stripped(&mut pair, &cmd, strip_full, "XINFO STREAM FULL");
    }
}

/// Consumer-group changes are not modifications of the key in Redis: no
/// WATCH broken (nor tracking invalidated), and each publishes only its
/// own keyspace event (`xgroup-create`, `xgroup-createconsumer`, …, none
/// for XACK). Entry changes (XDEL, XTRIM) and XGROUP CREATE MKSTREAM of a
/// new key still are. Compared with redis-server for every command.
#[test]
fn group_changes_announce_as_redis_does() {
    let redis_srv = start_redis();
    let ours = common::Server::start(2, &[]);
    let urls = [format!("redis://127.0.0.1:{}/", redis_srv.port), ours.url()];
    let setup = [
        "XADD s 1-1 f v",
        "XADD s 2-1 f v",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g c1 COUNT 1 STREAMS s >",
    ];
    for write in [
        "XACK s g 1-1",
        "XACK s g 9-9",
        "XCLAIM s g c2 0 1-1",
        "XCLAIM s g c1 0 1-1",
        "XCLAIM s g c2 0 9-9",
        "XAUTOCLAIM s g c2 0 0",
        "XAUTOCLAIM s g c1 0 0 JUSTID",
        "XSETID s 5-0",
        "XGROUP CREATE s g2 $",
        "XGROUP CREATE s g $",
        "XGROUP CREATECONSUMER s g c3",
        "XGROUP CREATECONSUMER s g c1",
        "XGROUP DELCONSUMER s g c1",
        "XGROUP SETID s g 0",
        "XGROUP DESTROY s g",
        "XREADGROUP GROUP g c1 STREAMS s 0",
        "XREADGROUP GROUP g c1 STREAMS s >",
        "XREADGROUP GROUP g c9 STREAMS s >",
        "XREADGROUP GROUP g c9 NOACK STREAMS s >",
        "XDEL s 1-1",
        "XTRIM s MAXLEN 0",
        "XADD s 3-1 f v",
    ] {
        let [theirs, mine] = urls
            .clone()
            .map(|u| watch_and_events(&u, &setup, "s", write));
        assert_eq!(mine, theirs, "{write}");
    }
    let [theirs, mine] =
        urls.map(|u| watch_and_events(&u, &[], "s", "XGROUP CREATE s g $ MKSTREAM"));
    assert_eq!(mine, theirs, "XGROUP CREATE MKSTREAM");
}
