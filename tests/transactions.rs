//! MULTI/EXEC/WATCH and multi-shard atomicity against the real server:
//! Redis's replies byte for byte, WATCH invalidation from any core, no
//! reader ever seeing half of a transfer between shards, and no transfer
//! half-applied after kill -9.

mod common;
use common::reference::{session, start_redis};
use common::*;
use diskdb::shard::routing::shard_of;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `count` keys named `prefix<i>` owned by shard `shard` of 2.
fn keys_on(prefix: &str, shard: usize, count: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .filter(|k| shard_of(k.as_bytes(), 2) == shard)
        .take(count)
        .collect()
}

#[test]
fn transaction_replies_match_redis_server() {
    let redis = start_redis();
    let diskdb = Server::start(2, &[]);
    let a = keys_on("a", 0, 1).remove(0);
    let b = keys_on("b", 1, 1).remove(0);
    let (a, b) = (a.as_str(), b.as_str());
    let scripts: Vec<Vec<Vec<&str>>> = vec![
        // queued replies, results in order, keys on both shards
        vec![
            vec!["MULTI"],
            vec!["SET", a, "1"],
            vec!["INCRBY", b, "5"],
            vec!["MGET", a, b],
            vec!["LPUSH", a, "x"],
            vec!["RENAME", a, "moved"],
            vec!["EXEC"],
            vec!["MGET", a, b, "moved"],
        ],
        // errors while queuing abort EXEC; control errors do not
        vec![
            vec!["MULTI"],
            vec!["MULTI"],
            vec!["WATCH", a],
            vec!["SET", a],
            vec!["NOSUCHCOMMAND", "x"],
            vec!["SET", a, "2"],
            vec!["EXEC"],
            vec!["GET", a],
            vec!["EXEC"],
            vec!["DISCARD"],
        ],
        // DISCARD drops the queue; empty EXEC
        vec![
            vec!["MULTI"],
            vec!["SET", a, "3"],
            vec!["DISCARD"],
            vec!["GET", a],
            vec!["MULTI"],
            vec!["EXEC"],
        ],
        // SELECT inside MULTI, blocking commands do not block in EXEC
        vec![
            vec!["MULTI"],
            vec!["SELECT", "1"],
            vec!["SET", b, "in-db-1"],
            vec!["BLPOP", "nolist", "0"],
            vec!["EXEC"],
            vec!["GET", b],
            vec!["SELECT", "0"],
            vec!["GET", b],
        ],
        // WATCH: own write fails EXEC, UNWATCH clears, untouched passes
        vec![
            vec!["WATCH", a, b],
            vec!["SET", b, "mine"],
            vec!["MULTI"],
            vec!["GET", b],
            vec!["EXEC"],
            vec!["WATCH", a],
            vec!["SET", a, "again"],
            vec!["UNWATCH"],
            vec!["MULTI"],
            vec!["GET", a],
            vec!["EXEC"],
            vec!["WATCH", "untouched"],
            vec!["MULTI"],
            vec!["SET", "untouched", "1"],
            vec!["EXEC"],
        ],
        // RESET leaves the transaction
        vec![
            vec!["MULTI"],
            vec!["SET", a, "r"],
            vec!["RESET"],
            vec!["EXEC"],
            vec!["MULTI"],
            vec!["SET", a],
            vec!["RESET"],
            vec!["MULTI"],
            vec!["EXEC"],
        ],
    ];
    for (i, script) in scripts.iter().enumerate() {
        let want = session(redis.port, script);
        let got = session(diskdb.port, script);
        assert_eq!(got, want, "script {i} differs from redis-server");
    }
}

/// WATCH on a key of `shard`; a write from another connection (which may
/// live on any core) makes EXEC return a null array.
#[test]
fn watch_sees_writes_from_any_connection_expiry_and_flushdb() {
    let s = Server::start(2, &[]);
    let mut others: Vec<redis::Connection> = (0..4).map(|_| s.conn()).collect();
    let mut c = s.conn();
    let exec_after = |c: &mut redis::Connection, key: &str| -> redis::Value {
        q(c, &["MULTI"]);
        q(c, &["SET", key, "from-tx"]);
        q(c, &["EXEC"])
    };
    for shard in 0..2 {
        for (i, other) in others.iter_mut().enumerate() {
            let key = keys_on(&format!("w{i}-"), shard, 1).remove(0);
            // untouched: commits
            q(&mut c, &["WATCH", &key]);
            assert_ne!(exec_after(&mut c, &key), redis::Value::Nil, "{key}");
            // written by another client: aborted, nothing applied
            q(&mut c, &["WATCH", &key]);
            q(other, &["SET", &key, "other"]);
            assert_eq!(exec_after(&mut c, &key), redis::Value::Nil, "{key}");
            assert_eq!(bulk(&mut c, &["GET", &key]).as_deref(), Some("other"));
            // a write to another key does not matter
            q(&mut c, &["WATCH", &key]);
            q(other, &["SET", &format!("{key}-unrelated"), "x"]);
            assert_ne!(exec_after(&mut c, &key), redis::Value::Nil);
        }
        let key = keys_on("wexp", shard, 1).remove(0);
        q(&mut c, &["SET", &key, "v", "PX", "50"]);
        q(&mut c, &["WATCH", &key]);
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(exec_after(&mut c, &key), redis::Value::Nil, "expired {key}");
        let key = keys_on("wflush", shard, 1).remove(0);
        q(&mut c, &["SET", &key, "v"]);
        q(&mut c, &["WATCH", &key]);
        q(&mut others[0], &["FLUSHDB"]);
        assert_eq!(exec_after(&mut c, &key), redis::Value::Nil, "flushed {key}");
    }
}

const ACCOUNTS: usize = 8;
const START: i64 = 1000;

fn accounts() -> Vec<String> {
    let mut v = keys_on("acct:", 0, ACCOUNTS / 2);
    v.extend(keys_on("acct:", 1, ACCOUNTS / 2));
    v
}

fn total(c: &mut redis::Connection, accts: &[String]) -> i64 {
    let mut cmd = redis::cmd("MGET");
    for a in accts {
        cmd.arg(a);
    }
    let vals: Vec<Option<i64>> = cmd.query(c).unwrap();
    vals.into_iter().map(|v| v.unwrap_or(0)).sum()
}

/// Runs transfers (MULTI/EXEC and WATCH check-and-set) from several
/// connections until `stop`; returns how many committed.
fn transfer_load(port: u16, stop: Arc<AtomicBool>, seed: u64, cas: bool) -> u64 {
    let url = format!("redis://127.0.0.1:{port}/");
    let Ok(mut c) = redis::Client::open(url).unwrap().get_connection() else {
        return 0;
    };
    let accts = accounts();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut done = 0;
    while !stop.load(Ordering::Relaxed) {
        let from = &accts[rng.random_range(0..ACCOUNTS)];
        let to = &accts[rng.random_range(0..ACCOUNTS)];
        let x: i64 = rng.random_range(1..50);
        let ok = if cas {
            let r: redis::RedisResult<()> = (|| {
                redis::cmd("WATCH").arg(from).arg(to).query::<()>(&mut c)?;
                let a: i64 = redis::cmd("GET").arg(from).query(&mut c)?;
                let b: i64 = redis::cmd("GET").arg(to).query(&mut c)?;
                let mut p = redis::pipe();
                p.atomic();
                if from == to {
                    p.cmd("SET").arg(from).arg(a);
                } else {
                    p.cmd("SET")
                        .arg(from)
                        .arg(a - x)
                        .cmd("SET")
                        .arg(to)
                        .arg(b + x);
                }
                let r: Option<()> = p.query(&mut c)?;
                let _ = r;
                Ok(())
            })();
            if let Err(e) = &r {
                eprintln!("transfer (WATCH) failed: {e}");
            }
            r.is_ok()
        } else {
            let mut p = redis::pipe();
            p.atomic()
                .cmd("DECRBY")
                .arg(from)
                .arg(x)
                .cmd("INCRBY")
                .arg(to)
                .arg(x);
            let r = p.query::<(i64, i64)>(&mut c);
            if let Err(e) = &r {
                eprintln!("transfer (MULTI) failed: {e}");
            }
            r.is_ok()
        };
        if !ok {
            return done; // the server went away
        }
        done += 1;
    }
    done
}

/// Readers: MGET across shards and MULTI/GET…/EXEC must always see the
/// same total.
fn reader_load(port: u16, stop: Arc<AtomicBool>, bad: Arc<AtomicU64>) -> u64 {
    let url = format!("redis://127.0.0.1:{port}/");
    let Ok(mut c) = redis::Client::open(url).unwrap().get_connection() else {
        return 0;
    };
    let accts = accounts();
    let want = START * ACCOUNTS as i64;
    let mut reads = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut cmd = redis::cmd("MGET");
        for a in &accts {
            cmd.arg(a);
        }
        let Ok(vals) = cmd.query::<Vec<i64>>(&mut c) else {
            return reads;
        };
        if vals.iter().sum::<i64>() != want {
            bad.fetch_add(1, Ordering::Relaxed);
        }
        let mut p = redis::pipe();
        p.atomic();
        for a in &accts {
            p.cmd("GET").arg(a);
        }
        let Ok(vals) = p.query::<Vec<i64>>(&mut c) else {
            return reads;
        };
        if vals.iter().sum::<i64>() != want {
            bad.fetch_add(1, Ordering::Relaxed);
        }
        reads += 2;
    }
    reads
}

fn init_accounts(c: &mut redis::Connection) {
    for a in accounts() {
        q(c, &["SET", &a, &START.to_string()]);
    }
}

#[test]
fn concurrent_transfers_never_show_a_changed_total() {
    let s = Server::start(2, &[]);
    init_accounts(&mut s.conn());
    let stop = Arc::new(AtomicBool::new(false));
    let bad = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for i in 0..6 {
        let (port, stop) = (s.port, stop.clone());
        writers.push(std::thread::spawn(move || {
            transfer_load(port, stop, i, i % 3 == 2)
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (port, stop, bad) = (s.port, stop.clone(), bad.clone());
        readers.push(std::thread::spawn(move || reader_load(port, stop, bad)));
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let transfers: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    println!("{transfers} transfers, {reads} consistent reads");
    assert!(
        transfers > 100 && reads > 100,
        "{transfers} transfers, {reads} reads"
    );
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "a reader saw a changed total"
    );
    assert_eq!(total(&mut s.conn(), &accounts()), START * ACCOUNTS as i64);
}

/// kill -9 in the middle of transfers, several rounds, under both sync
/// policies: after every restart the total is intact.
#[test]
fn transfers_survive_kill9_without_half_applied_transactions() {
    for sync in ["always", "everysec"] {
        let mut s = Server::start(2, &["--sync", sync]);
        init_accounts(&mut s.conn());
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut committed = 0;
        for round in 0..4 {
            let stop = Arc::new(AtomicBool::new(false));
            let writers: Vec<_> = (0..4)
                .map(|i| {
                    let (port, stop) = (s.port, stop.clone());
                    std::thread::spawn(move || transfer_load(port, stop, round * 10 + i, i == 3))
                })
                .collect();
            std::thread::sleep(Duration::from_millis(rng.random_range(200..700)));
            s.kill9();
            stop.store(true, Ordering::Relaxed);
            committed += writers.into_iter().map(|w| w.join().unwrap()).sum::<u64>();
            s.launch();
            let t = total(&mut s.conn(), &accounts());
            assert_eq!(
                t,
                START * ACCOUNTS as i64,
                "sync {sync}, round {round}: total {t}"
            );
        }
        println!("sync {sync}: 4 kill -9 rounds, {committed} transfers acknowledged, total intact");
        assert!(committed > 0);
    }
}

/// The process dies after one shard committed its part of a multi-shard
/// MSET: the restart finishes the operation from the stored intent.
#[test]
fn crash_between_shard_commits_is_completed_at_restart() {
    let mut s = Server::start(2, &[]);
    s.envs
        .push(("DISKDB_TEST_CRASH_MID_COMMIT".into(), "1".into()));
    s.kill9();
    s.launch();
    let a = keys_on("half", 0, 3);
    let b = keys_on("half", 1, 3);
    let mut c = s.conn();
    let mut args = vec!["MSET"];
    for k in a.iter().chain(&b) {
        args.push(k);
        args.push("v1");
    }
    let r: redis::RedisResult<redis::Value> = {
        let mut cmd = redis::cmd(args[0]);
        for x in &args[1..] {
            cmd.arg(*x);
        }
        cmd.query(&mut c)
    };
    assert!(
        r.is_err(),
        "the server was expected to abort mid-commit: {r:?}"
    );
    std::thread::sleep(Duration::from_millis(100));
    s.envs.clear();
    s.kill9();
    s.launch();
    let mut c = s.conn();
    for k in a.iter().chain(&b) {
        assert_eq!(bulk(&mut c, &["GET", k]).as_deref(), Some("v1"), "{k}");
    }
    // later writes are not undone by a second restart (the intent is gone)
    q(&mut c, &["SET", &a[0], "v2"]);
    s.terminate();
    s.launch();
    assert_eq!(bulk(&mut s.conn(), &["GET", &a[0]]).as_deref(), Some("v2"));
}

/// Commands whose keys span shards are atomic for other clients: MSET of
/// equal values, RENAME back and forth, SMOVE between two sets.
#[test]
fn multi_shard_commands_are_atomic_for_readers() {
    let s = Server::start(2, &[]);
    let k1 = keys_on("m", 0, 1).remove(0);
    let k2 = keys_on("m", 1, 1).remove(0);
    let s1 = keys_on("set", 0, 1).remove(0);
    let s2 = keys_on("set", 1, 1).remove(0);
    let mut c = s.conn();
    q(&mut c, &["MSET", &k1, "0", &k2, "0"]);
    q(&mut c, &["SET", "ren-src-0", "payload"]);
    let ren = [keys_on("r", 0, 1).remove(0), keys_on("r", 1, 1).remove(0)];
    q(&mut c, &["SET", &ren[0], "payload"]);
    for i in 0..20 {
        q(&mut c, &["SADD", &s1, &format!("m{i}")]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(2);
    let writer = {
        let (port, stop, k1, k2, ren, s1, s2) = (
            s.port,
            stop.clone(),
            k1.clone(),
            k2.clone(),
            ren.clone(),
            s1.clone(),
            s2.clone(),
        );
        std::thread::spawn(move || {
            let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let v = i.to_string();
                q(&mut c, &["MSET", &k1, &v, &k2, &v]);
                let (from, to) = if i % 2 == 1 { (0, 1) } else { (1, 0) };
                q(&mut c, &["RENAME", &ren[from], &ren[to]]);
                let m = format!("m{}", i % 20);
                let (a, b) = if i % 40 < 20 { (&s1, &s2) } else { (&s2, &s1) };
                q(&mut c, &["SMOVE", a, b, &m]);
            }
            i
        })
    };
    let mut checks = 0;
    while Instant::now() < deadline {
        let v: Vec<Option<String>> = redis::cmd("MGET").arg(&k1).arg(&k2).query(&mut c).unwrap();
        assert_eq!(v[0], v[1], "MSET seen half-applied");
        let r: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&ren[0])
            .arg(&ren[1])
            .query(&mut c)
            .unwrap();
        assert_eq!(
            r.iter().flatten().count(),
            1,
            "RENAME seen half-applied: {r:?}"
        );
        let (n1, n2): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("SCARD")
            .arg(&s1)
            .cmd("SCARD")
            .arg(&s2)
            .query(&mut c)
            .unwrap();
        assert_eq!(n1 + n2, 20, "SMOVE seen half-applied");
        // one GET at a time, so one of each pair is served by the other
        // core reading the owner's RocksDB (shard::peer): whichever key is
        // read second can only be as new as the first or newer
        for (first, second) in [(&k1, &k2), (&k2, &k1)] {
            let a: u64 = query(&mut c, &["GET", first]);
            let b: u64 = query(&mut c, &["GET", second]);
            assert!(
                b >= a,
                "MSET seen half-applied by single GETs: {a} then {b}"
            );
        }
        checks += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    println!("{writes} rounds of MSET/RENAME/SMOVE, {checks} consistent checks");
    assert!(writes > 50 && checks > 50);
}

/// A transaction whose keys all live on one shard runs there as one job,
/// its commands applied one after the other. Reads that another core
/// serves from that shard's RocksDB (GET, HGET, … of a key on another
/// shard, without a hop) must not see it half done: after reading the
/// value its first command wrote, a reader must see what its last one
/// wrote.
#[test]
fn one_shard_transactions_are_atomic_for_reads_from_other_cores() {
    let s = Server::start(2, &["--connection-affinity", "no"]);
    let keys = keys_on("iso:", 0, 3);
    let (a, b, h) = (keys[0].clone(), keys[1].clone(), keys[2].clone());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (port, stop, a, b, h) = (s.port, stop.clone(), a.clone(), b.clone(), h.clone());
        std::thread::spawn(move || {
            let url = format!("redis://127.0.0.1:{port}/");
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut p = redis::pipe();
                p.atomic()
                    .cmd("SET")
                    .arg(&a)
                    .arg(n)
                    .cmd("HSET")
                    .arg(&h)
                    .arg("f")
                    .arg(n);
                p.cmd("SET").arg(&b).arg(n);
                p.query::<()>(&mut c).unwrap();
            }
            n
        })
    };
    let bad = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (port, stop, bad) = (s.port, stop.clone(), bad.clone());
        let (a, b, h) = (a.clone(), b.clone(), h.clone());
        readers.push(std::thread::spawn(move || {
            let url = format!("redis://127.0.0.1:{port}/");
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut reads = 0u64;
            let get = |c: &mut redis::Connection, args: &[&str]| -> u64 {
                query::<Option<u64>>(c, args).unwrap_or(0)
            };
            while !stop.load(Ordering::Relaxed) {
                let first = get(&mut c, &["GET", &a]);
                let middle = get(&mut c, &["HGET", &h, "f"]);
                let last = get(&mut c, &["GET", &b]);
                if middle < first || last < middle {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
                reads += 1;
            }
            reads
        }));
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let transactions = writer.join().unwrap();
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    println!("{transactions} transactions, {reads} reads of three keys");
    assert!(
        transactions > 100 && reads > 100,
        "{transactions} transactions, {reads} reads"
    );
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "a reader saw a transaction half done"
    );
}

/// CLIENT KILL of connections in the middle of multi-shard MSETs, while
/// other connections pipeline INCRs of the same keys (which wait behind the
/// MSETs' locks): a killed operation still commits and releases its keys on
/// every shard, keys it was still waiting for are never granted to it
/// later, and the replies of the commands that waited are never lost
/// (before, a shard's thread could panic on a dropped reply, or keys stayed
/// locked for good).
#[test]
fn killed_multi_shard_operations_strand_nobody() {
    let s = Server::start(2, &[]);
    let mut keys = keys_on("kk", 0, 2);
    keys.extend(keys_on("kk", 1, 2));
    let stop = Arc::new(AtomicBool::new(false));
    let ids = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let connect = |port: u16| {
        let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c
    };
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (port, stop, ids, keys) = (s.port, stop.clone(), ids.clone(), keys.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut c = connect(port);
                ids.lock().unwrap().push(int(&mut c, &["CLIENT", "ID"]));
                let mset: Vec<&str> = std::iter::once("MSET")
                    .chain(keys.iter().flat_map(|k| [k.as_str(), "1"]))
                    .collect();
                while !stop.load(Ordering::Relaxed) && cmd(&mset).query::<()>(&mut c).is_ok() {}
            }
            0
        }));
    }
    {
        let (port, stop, ids) = (s.port, stop.clone(), ids.clone());
        threads.push(std::thread::spawn(move || {
            let mut c = connect(port);
            let mut rng = rand::rngs::StdRng::seed_from_u64(7);
            let mut kills = 0;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_micros(rng.random_range(0..2000)));
                let id = ids.lock().unwrap().pop();
                if let Some(id) = id {
                    kills += int(&mut c, &["CLIENT", "KILL", "ID", &id.to_string()]) as u64;
                }
            }
            kills
        }));
    }
    for _ in 0..4 {
        let (port, stop, keys) = (s.port, stop.clone(), keys.clone());
        threads.push(std::thread::spawn(move || {
            let mut c = connect(port);
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut p = redis::pipe();
                for _ in 0..20 {
                    for k in &keys {
                        p.cmd("INCR").arg(k);
                    }
                }
                let got: Vec<i64> = p
                    .query(&mut c)
                    .unwrap_or_else(|e| panic!("pipelined INCRs after {rounds} rounds: {e}"));
                assert_eq!(got.len(), 20 * keys.len());
                rounds += 1;
            }
            rounds
        }));
    }
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(counts[3] > 0, "no connection was killed");
    assert!(
        counts[4..].iter().all(|&r| r > 0),
        "pipeline rounds: {counts:?}"
    );
    // nothing stayed locked: a multi-shard write of the same keys completes
    let mut c = connect(s.port);
    let mset: Vec<&str> = std::iter::once("MSET")
        .chain(keys.iter().flat_map(|k| [k.as_str(), "5"]))
        .collect();
    cmd(&mset).query::<()>(&mut c).unwrap();
    for k in &keys {
        assert_eq!(int(&mut c, &["INCR", k]), 6, "{k}");
    }
}

/// CLIENT KILL of a connection in the middle of its EXEC does not cut the
/// transaction short: like redis-server, which runs EXEC to its end before
/// it handles the kill, all of it is applied (before, the first half was
/// committed and the rest never ran).
#[test]
fn a_killed_exec_runs_to_its_end() {
    let s = Server::start(2, &["--enable-debug-command", "yes"]);
    let mut keys = keys_on("ke", 0, 2);
    keys.extend(keys_on("ke", 1, 2));
    let mut admin = s.conn();
    for k in &keys {
        q(&mut admin, &["SET", k, "old"]);
    }
    let mut raw = Raw::connect(s.port);
    let addr = raw.s.local_addr().unwrap().to_string();
    let mut req = String::from("MULTI\r\n");
    for (i, k) in keys.iter().enumerate() {
        req += &format!("SET {k} new\r\n");
        if i == 1 {
            req += "DEBUG SLEEP 0.5\r\n";
        }
    }
    req += "EXEC\r\n";
    raw.send(req.as_bytes());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        int(
            &mut admin,
            &["CLIENT", "KILL", "ADDR", &addr, "SKIPME", "yes"]
        ),
        1
    );
    std::thread::sleep(Duration::from_millis(700));
    let got: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut admin).unwrap();
    assert_eq!(got, vec![Some("new".to_string()); 4]);
}

/// A client blocked on a list that a transaction pushes to is answered
/// once the transaction has committed, as redis-server serves it after
/// EXEC (before, it got the element at once, while the transaction was
/// still running and before it was on disk).
#[test]
fn blocked_clients_are_served_after_the_transaction_commits() {
    let s = Server::start(2, &["--enable-debug-command", "yes"]);
    let queue = keys_on("bq", 0, 1).remove(0);
    let other = keys_on("bq", 1, 1).remove(0);
    let waiter = {
        let (mut c, queue) = (s.conn(), queue.clone());
        std::thread::spawn(move || {
            let got: (String, String) = redis::cmd("BLPOP")
                .arg(&queue)
                .arg(0)
                .query(&mut c)
                .unwrap();
            (got, Instant::now())
        })
    };
    settle();
    let mut c = s.conn();
    let sent = Instant::now();
    let (_, done): ((), Instant) = {
        let _: () = redis::pipe()
            .atomic()
            .cmd("LPUSH")
            .arg(&queue)
            .arg("from-tx")
            .ignore()
            .cmd("DEBUG")
            .arg("SLEEP")
            .arg("0.6")
            .ignore()
            .cmd("SET")
            .arg(&other)
            .arg("done")
            .ignore()
            .query(&mut c)
            .unwrap();
        ((), Instant::now())
    };
    let ((key, value), served) = waiter.join().unwrap();
    assert_eq!((key.as_str(), value.as_str()), (queue.as_str(), "from-tx"));
    assert!(
        served.duration_since(sent) >= Duration::from_millis(500),
        "served {:?} after EXEC was sent, EXEC answered after {:?}",
        served.duration_since(sent),
        done.duration_since(sent)
    );
    assert_eq!(int(&mut c, &["LLEN", &queue]), 0);
}
