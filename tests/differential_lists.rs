//! Differential test for the list family: random command sequences over a
//! few keys (some on each shard, some holding strings) go to DiskDB and to
//! a real redis-server; every reply and the final contents must match.
mod common;
use common::reference::Pair;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// "foo"/"bar" and "a"/"b" sit on different shards with 2 shards;
/// "{t}x"/"{t}y" share one.
const KEYS: &[&str] = &["a", "b", "foo", "bar", "{t}x", "{t}y", "s"];
/// Few distinct values, so LREM/LPOS/LINSERT find matches.
const VALUES: &[&str] = &["x", "y", "z", "1", "", "hello"];

fn pick<'a>(r: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[r.random_range(0..from.len())]
}

fn int(r: &mut StdRng, lo: i64, hi: i64) -> String {
    r.random_range(lo..hi).to_string()
}

fn s(x: &str) -> String {
    x.to_string()
}

fn end(r: &mut StdRng) -> String {
    pick(r, &["LEFT", "RIGHT", "left", "Right"]).to_string()
}

fn random_command(r: &mut StdRng) -> Vec<String> {
    let s = |x: &str| x.to_string();
    let k = s(pick(r, KEYS));
    let v = |r: &mut StdRng| s(pick(r, VALUES));
    match r.random_range(0..30) {
        0..=2 => {
            let mut c = vec![s(pick(r, &["LPUSH", "RPUSH"])), k];
            for _ in 0..r.random_range(1..5) {
                c.push(v(r));
            }
            c
        }
        3 => vec![s(pick(r, &["LPUSHX", "RPUSHX"])), k, v(r), v(r)],
        4 | 5 => vec![s(pick(r, &["LPOP", "RPOP"])), k],
        6 => vec![s(pick(r, &["LPOP", "RPOP"])), k, int(r, -1, 4)],
        7 => vec![s("LLEN"), k],
        8 | 9 => vec![s("LRANGE"), k, int(r, -8, 8), int(r, -8, 8)],
        10 => vec![s("LINDEX"), k, int(r, -7, 7)],
        11 => vec![s("LSET"), k, int(r, -6, 6), v(r)],
        12 => vec![
            s("LINSERT"),
            k,
            s(pick(r, &["BEFORE", "AFTER", "after", "MIDDLE"])),
            v(r),
            v(r),
        ],
        13 => vec![s("LREM"), k, int(r, -3, 4), v(r)],
        14 => vec![s("LTRIM"), k, int(r, -6, 6), int(r, -6, 6)],
        15 | 16 => {
            let mut c = vec![s("LPOS"), k, v(r)];
            for _ in 0..r.random_range(0..3) {
                match r.random_range(0..4) {
                    0 => c.extend([s("RANK"), int(r, -3, 4)]),
                    1 => c.extend([s("COUNT"), int(r, -1, 4)]),
                    2 => c.extend([s("MAXLEN"), int(r, -1, 6)]),
                    _ => c.push(s("BOGUS")),
                }
            }
            c
        }
        17 | 18 => vec![s("LMOVE"), k, s(pick(r, KEYS)), end(r), end(r)],
        19 => vec![s("RPOPLPUSH"), k, s(pick(r, KEYS))],
        20 | 21 => {
            let n = r.random_range(1..4);
            let mut c = vec![s("LMPOP"), n.to_string()];
            for _ in 0..n {
                c.push(s(pick(r, KEYS)));
            }
            c.push(end(r));
            if r.random_bool(0.5) {
                c.extend([s("COUNT"), int(r, 0, 5)]);
            }
            c
        }
        22 => vec![s("SET"), k, v(r)],
        23 => vec![s("DEL"), k, s(pick(r, KEYS))],
        24 => vec![s("EXISTS"), k],
        25 => vec![s("TYPE"), k],
        // blocking forms that never block: a key that holds elements, or a
        // wrong type, answers at once (empty keys are skipped: they would
        // wait)
        26 => vec![s("BLPOP"), k, s("0")],
        27 => vec![s("BRPOP"), k, s(pick(r, KEYS)), s("0")],
        28 => vec![s("BLMOVE"), k, s(pick(r, KEYS)), end(r), end(r), s("0")],
        _ => vec![s("BLMPOP"), s("0"), s("2"), k, s(pick(r, KEYS)), end(r)],
    }
}

/// Whether a blocking command would block on the reference server now
/// (all its source keys missing).
fn would_block(pair: &mut Pair, cmd: &[String]) -> bool {
    let sources: Vec<String> = match cmd[0].as_str() {
        "BLPOP" | "BRPOP" => cmd[1..cmd.len() - 1].to_vec(),
        "BLMOVE" => vec![cmd[1].clone()],
        "BLMPOP" => cmd[3..5].to_vec(),
        _ => return false,
    };
    let mut exists = redis::cmd("EXISTS");
    for k in &sources {
        exists.arg(k);
    }
    exists.query::<i64>(&mut pair.theirs).unwrap() == 0
}

#[test]
fn random_list_sequences_match_redis_server() {
    let mut pair = Pair::start();
    let mut compared = 0;
    for seed in 0..24u64 {
        let mut r = StdRng::seed_from_u64(seed);
        let flush = vec!["FLUSHALL".to_string()];
        pair.both(&flush);
        for step in 0..300 {
            let cmd = random_command(&mut r);
            if would_block(&mut pair, &cmd) {
                continue;
            }
            pair.same(&cmd, &format!("seed {seed} step {step}"));
            compared += 1;
        }
        for k in KEYS {
            for probe in [vec!["TYPE", k], vec!["LRANGE", k, "0", "-1"]] {
                let probe: Vec<String> = probe.iter().map(|x| x.to_string()).collect();
                pair.same(&probe, &format!("seed {seed}: final state"));
            }
        }
    }
    assert!(compared > 5000, "only {compared} commands compared");
    eprintln!("differential lists: {compared} commands compared, all identical");
}

#[test]
fn list_errors_match_redis_server() {
    let mut pair = Pair::start();
    let setup: &[&[&str]] = &[&["RPUSH", "l", "a", "b", "c"], &["SET", "s", "v"]];
    for c in setup {
        pair.both(&c.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    }
    let cases: &[&[&str]] = &[
        &["LPUSH", "l"],
        &["LPOP", "l", "1", "2"],
        &["LPOP", "l", "-1"],
        &["LPOP", "l", "abc"],
        &["LPOP", "s", "0"],
        &["LRANGE", "l", "a", "1"],
        &["LRANGE", "s", "0", "1"],
        &["LINDEX", "l", "x"],
        &["LINDEX", "s", "x"],
        &["LINDEX", "missing", "x"],
        &["LSET", "l", "9", "x"],
        &["LSET", "missing", "x", "y"],
        &["LSET", "s", "x", "y"],
        &["LINSERT", "l", "up", "a", "b"],
        &["LINSERT", "s", "up", "a", "b"],
        &["LINSERT", "s", "before", "a", "b"],
        &["LREM", "l", "x", "a"],
        &["LTRIM", "l", "0", "x"],
        &["LPOS", "l", "a", "RANK", "0"],
        &["LPOS", "l", "a", "RANK", "-9223372036854775808"],
        &["LPOS", "l", "a", "COUNT", "-1"],
        &["LPOS", "l", "a", "COUNT", "x"],
        &["LPOS", "l", "a", "MAXLEN", "-5"],
        &["LPOS", "l", "a", "COUNT"],
        &["LPOS", "s", "a"],
        &["LPOS", "missing", "a", "NOPE"],
        &["LMOVE", "l", "m", "LEFT", "UP"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "missing", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "l"],
        &["LMPOP", "0", "l", "LEFT"],
        &["LMPOP", "-3", "l", "LEFT"],
        &["LMPOP", "2", "l", "LEFT"],
        &["LMPOP", "1", "l", "UP"],
        &["LMPOP", "1", "l", "LEFT", "COUNT"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "-1"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"],
        &["LMPOP", "1", "l", "LEFT", "EXTRA"],
        &["LMPOP", "2", "missing", "s", "LEFT"],
        &["BLPOP", "l", "x"],
        &["BLPOP", "l", "-1"],
        &["BLPOP", "l", "inf"],
        &["BLPOP", "l", "1e30"],
        &["BLPOP", "missing", "s", "0"],
        &["BLMOVE", "l", "m", "LEFT", "UP", "0"],
        &["BLMOVE", "l", "m", "LEFT", "LEFT", "abc"],
        &["BLMOVE", "s", "m", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "l", "m", "-0.5"],
        &["BLMPOP", "x", "1", "l", "LEFT"],
        &["BLMPOP", "0", "0", "l", "LEFT"],
        &["BLMPOP", "0", "1", "l", "UP"],
        &["BLMPOP", "-1", "1", "l", "LEFT"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
    ];
    for case in cases {
        let cmd: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        pair.same(&cmd, "error case");
    }
}

/// Queue-like runs: pops in a row at one end (served from the read-ahead
/// of `storage/list_ends.rs`) mixed with pushes at both ends, pops at the
/// other end, in-place rewrites (LSET, LINSERT, LREM, LTRIM) and moves, on
/// one list and a second one; every reply must match redis-server.
#[test]
fn runs_of_pops_match_redis_server() {
    let mut pair = Pair::start();
    let mut compared = 0;
    for seed in 0..24u64 {
        let mut r = StdRng::seed_from_u64(0x9e37 + seed);
        pair.both(&["FLUSHALL".to_string()]);
        let mut push = vec![s("RPUSH"), s("q")];
        push.extend((0..r.random_range(5..60)).map(|i| format!("v{i}")));
        pair.same(&push, &format!("seed {seed} fill"));
        for step in 0..200 {
            let end = pick(&mut r, &["LPOP", "RPOP"]);
            let cmd: Vec<String> = match r.random_range(0..20) {
                // a run of single pops at one end
                0..=9 => {
                    for _ in 0..r.random_range(1..6) {
                        pair.same(&[s(end), s("q")], &format!("seed {seed} step {step} run"));
                        compared += 1;
                    }
                    vec![s(end), s("q")]
                }
                10 => vec![s(end), s("q"), int(&mut r, 1, 5)],
                11 | 12 => {
                    let mut v = vec![s(pick(&mut r, &["LPUSH", "RPUSH"])), s("q")];
                    v.extend((0..r.random_range(1..8)).map(|i| format!("p{step}-{i}")));
                    v
                }
                13 => vec![s("LSET"), s("q"), int(&mut r, -4, 4), format!("set{step}")],
                14 => vec![
                    s("LINSERT"),
                    s("q"),
                    s(pick(&mut r, &["BEFORE", "AFTER"])),
                    format!("v{}", r.random_range(0..60)),
                    format!("ins{step}"),
                ],
                15 => vec![
                    s("LREM"),
                    s("q"),
                    int(&mut r, -2, 3),
                    format!("v{}", r.random_range(0..60)),
                ],
                16 => vec![s("LTRIM"), s("q"), int(&mut r, 0, 3), int(&mut r, -3, -1)],
                17 => vec![s("RPOPLPUSH"), s("q"), s(pick(&mut r, &["q", "other"]))],
                18 => vec![
                    s("LMOVE"),
                    s(pick(&mut r, &["q", "other"])),
                    s(pick(&mut r, &["q", "other"])),
                    s(pick(&mut r, &["LEFT", "RIGHT"])),
                    s(pick(&mut r, &["LEFT", "RIGHT"])),
                ],
                _ => vec![s("LRANGE"), s("q"), s("0"), s("-1")],
            };
            pair.same(&cmd, &format!("seed {seed} step {step}"));
            compared += 1;
        }
        for k in ["q", "other"] {
            let probe = vec![s("LRANGE"), s(k), s("0"), s("-1")];
            pair.same(&probe, &format!("seed {seed}: final state"));
        }
    }
    let hits = common::info_number(&mut pair.ours, "list_read_ahead_hits");
    assert!(hits > 100, "only {hits} pops served from read-ahead");
    eprintln!("differential list runs: {compared} commands compared, {hits} pops read ahead");
}

/// Runs of pops over elements from 10 bytes to 40 KB, so that read-aheads
/// from the tail are cut at the window's bytes, or read backwards when a
/// run is too large to read forwards (`List::read_tail_run`); every
/// popped element must match redis-server's.
#[test]
fn runs_of_pops_of_large_elements_match_redis_server() {
    let mut pair = Pair::start();
    let mut r = StdRng::seed_from_u64(0x5eed);
    let sizes = [10, 1_500, 5_000, 40_000];
    for round in 0..4 {
        let mut push = vec![s("RPUSH"), s("big")];
        for i in 0..150 {
            let size = match round {
                // one size per round, then mixed
                0..=2 => sizes[round + 1],
                _ => sizes[r.random_range(0..sizes.len())],
            };
            push.push(format!("{round}-{i}-{}", "x".repeat(size)));
        }
        pair.same(&push, &format!("round {round} fill"));
        pair.same(&[s("SAVE")], "save");
        for step in 0..120 {
            let end = pick(&mut r, &["RPOP", "RPOP", "RPOP", "LPOP"]);
            pair.same(&[s(end), s("big")], &format!("round {round} pop {step}"));
        }
        pair.same(
            &[s("LRANGE"), s("big"), s("0"), s("-1")],
            &format!("round {round}: what is left"),
        );
    }
}
