//! Crash testing: kill -9 at random moments under a mixed write load, and a
//! simulated power loss (a torn WAL tail). Every acknowledged write is
//! recorded with the time of its reply, then checked after the restart.
mod common;
use common::{cmd, Server};
use rand::{Rng, SeedableRng};
use redis::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORKERS: usize = 4;
const SEED: u64 = 0x00D1_5CDB;

/// What one connection sent and what the server acknowledged (with when).
#[derive(Default)]
struct Log {
    round: usize,
    worker: usize,
    /// Iterations started; each sends SET, INCR, RPUSH, HSET, ZADD in turn.
    attempts: u64,
    /// Iteration numbers of acknowledged writes, per command.
    set: Vec<(u64, Instant)>,
    incr: Vec<(u64, Instant)>,
    rpush: Vec<(u64, Instant)>,
    hset: Vec<(u64, Instant)>,
    zadd: Vec<(u64, Instant)>,
}

impl Log {
    fn key(&self, kind: &str) -> String {
        format!("{kind}:{}:{}", self.round, self.worker)
    }
}

/// Runs one connection's load until the server goes away or `stop`.
fn worker(port: u16, round: usize, id: usize, stop: Arc<AtomicBool>) -> Log {
    let mut log = Log {
        round,
        worker: id,
        ..Log::default()
    };
    let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .and_then(|cl| cl.get_connection())
    else {
        return log;
    };
    let (counter, list, zset) = (log.key("c"), log.key("l"), log.key("z"));
    while !stop.load(Ordering::Relaxed) {
        let n = log.attempts;
        log.attempts += 1;
        let ns = n.to_string();
        let set_key = format!("{}:{n}", log.key("u"));
        let hash_key = format!("{}:{n}", log.key("h"));
        let member = format!("m{n}");
        let steps: [(Vec<&str>, usize); 5] = [
            (vec!["SET", &set_key, &ns], 0),
            (vec!["INCR", &counter], 1),
            (vec!["RPUSH", &list, &ns], 2),
            (vec!["HSET", &hash_key, "a", &ns, "b", &ns, "c", &ns], 3),
            (vec!["ZADD", &zset, &ns, &member], 4),
        ];
        for (args, which) in steps {
            if cmd(&args).query::<Value>(&mut c).is_err() {
                return log;
            }
            let acked = (n, Instant::now());
            match which {
                0 => log.set.push(acked),
                1 => log.incr.push(acked),
                2 => log.rpush.push(acked),
                3 => log.hset.push(acked),
                _ => log.zadd.push(acked),
            }
        }
    }
    log
}

/// Loss figures of one check.
#[derive(Default, Debug)]
struct Loss {
    /// Acknowledged writes checked.
    checked: usize,
    /// Acknowledged writes not found after the restart.
    missing: usize,
    /// Oldest missing acknowledgement, in ms before the kill.
    oldest_missing_ms: u128,
}

impl Loss {
    fn record(&mut self, present: bool, acked: Instant, killed: Instant, required: Instant) {
        self.checked += 1;
        if !present {
            self.missing += 1;
            let age = killed.saturating_duration_since(acked).as_millis();
            self.oldest_missing_ms = self.oldest_missing_ms.max(age);
            assert!(
                acked > required,
                "a write acknowledged {age} ms before the kill is missing"
            );
        }
    }
}

fn int_or_zero(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::BulkString(b) => String::from_utf8_lossy(b).parse().unwrap(),
        Value::Nil => 0,
        other => panic!("unexpected {other:?}"),
    }
}

/// Checks one connection's writes after a restart. Anything acknowledged
/// at or before `required` must be there; nothing may be half applied,
/// out of order or invented.
fn verify(c: &mut redis::Connection, log: &Log, killed: Instant, required: Instant) -> Loss {
    let mut loss = Loss::default();
    // SET: every key acked is present with its value
    let mut p = redis::pipe();
    for (n, _) in &log.set {
        p.cmd("GET").arg(format!("{}:{n}", log.key("u")));
    }
    let got: Vec<Option<String>> = p.query(c).unwrap();
    for ((n, t), v) in log.set.iter().zip(got) {
        if let Some(v) = &v {
            assert_eq!(v, &n.to_string());
        }
        loss.record(v.is_some(), *t, killed, required);
    }
    // INCR: the counter is at least every acked value, at most the attempts
    let counter = int_or_zero(&cmd(&["GET", &log.key("c")]).query(c).unwrap());
    assert!(counter <= log.attempts, "counter {counter} > attempts");
    for (n, t) in &log.incr {
        loss.record(counter > *n, *t, killed, required);
    }
    // RPUSH: 0, 1, 2, … with no hole and nothing extra
    let list: Vec<u64> = cmd(&["LRANGE", &log.key("l"), "0", "-1"]).query(c).unwrap();
    assert!(
        list.iter().enumerate().all(|(i, v)| *v == i as u64),
        "list {} out of order: {list:?}",
        log.key("l")
    );
    assert!(list.len() as u64 <= log.attempts);
    for (n, t) in &log.rpush {
        loss.record((*n as usize) < list.len(), *t, killed, required);
    }
    // HSET: every attempted hash has all of its fields or none
    let mut p = redis::pipe();
    for n in 0..log.attempts {
        p.cmd("HGETALL").arg(format!("{}:{n}", log.key("h")));
    }
    let hashes: Vec<std::collections::HashMap<String, String>> = p.query(c).unwrap();
    for (n, h) in hashes.iter().enumerate() {
        let want = n.to_string();
        assert!(
            h.is_empty() || (h.len() == 3 && h.values().all(|v| *v == want)),
            "hash {}:{n} half applied: {h:?}",
            log.key("h")
        );
    }
    for (n, t) in &log.hset {
        loss.record(!hashes[*n as usize].is_empty(), *t, killed, required);
    }
    // ZADD: every acked member with its score
    let z: Vec<(String, u64)> = cmd(&["ZRANGE", &log.key("z"), "0", "-1", "WITHSCORES"])
        .query(c)
        .unwrap();
    let members: std::collections::HashMap<String, u64> = z.into_iter().collect();
    for (n, t) in &log.zadd {
        let present = members.get(&format!("m{n}")) == Some(n);
        loss.record(present, *t, killed, required);
    }
    loss
}

/// Rounds of load, kill -9 at a random moment, restart on the same
/// directory, and a check of every round's writes so far. `window` is how
/// old an acknowledgement may be and still be lost (zero: none may).
fn kill9_rounds(sync: &str, rounds: usize, load_ms: std::ops::Range<u64>, window: Duration) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut s = Server::start(2, &["--sync", sync]);
    let mut logs: Vec<Log> = Vec::new();
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (port, stop) = (s.port, stop.clone());
                std::thread::spawn(move || worker(port, round, w, stop))
            })
            .collect();
        let load = rng.random_range(load_ms.clone());
        std::thread::sleep(Duration::from_millis(load));
        let killed = Instant::now();
        s.kill9();
        stop.store(true, Ordering::Relaxed);
        logs.extend(threads.into_iter().map(|t| t.join().unwrap()));
        s.launch(); // panics if any shard fails to open
        let mut c = s.conn();
        let required = killed.checked_sub(window).unwrap();
        let mut total = Loss::default();
        for log in &logs {
            let l = verify(&mut c, log, killed, required);
            total.checked += l.checked;
            total.missing += l.missing;
            total.oldest_missing_ms = total.oldest_missing_ms.max(l.oldest_missing_ms);
        }
        let this_round: u64 = logs
            .iter()
            .filter(|l| l.round == round)
            .map(|l| l.attempts)
            .sum();
        println!(
            "sync {sync} round {round}: killed after {load} ms, {this_round} iterations this round; \
             {} acked writes checked (all rounds), {} missing, oldest missing {} ms before the kill",
            total.checked, total.missing, total.oldest_missing_ms
        );
    }
}

#[test]
fn kill9_sync_always_loses_no_acknowledged_write() {
    kill9_rounds("always", 5, 300..1200, Duration::ZERO);
}

#[test]
fn kill9_sync_everysec_loses_at_most_the_sync_interval() {
    // sync_interval is 1 s by default: anything acknowledged 1.5 s before
    // the kill must be there.
    kill9_rounds("everysec", 4, 1600..2600, Duration::from_millis(1500));
}

/// The newest write-ahead log (`<number>.log`) of a shard directory.
fn newest_wal(shard: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(shard)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let n: u64 = p
                .file_name()?
                .to_str()?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .max()
        .unwrap_or_else(|| panic!("no WAL in {}", shard.display()))
        .1
}

/// Power loss, simulated: after kill -9, each shard's newest WAL loses a
/// random number of trailing bytes (a torn tail that never reached the
/// disk). Every shard must still open, everything flushed before the WAL
/// was started must be intact, and what survives of the later writes must
/// be a prefix, per shard, of the order they were acknowledged in: no write
/// survives without every earlier write to the same shard.
#[test]
fn torn_wal_tail_recovers_a_prefix_of_every_shard() {
    const TAGS: usize = 8;
    const WRITES: usize = 400;
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED ^ 1);
    let mut s = Server::start(2, &["--sync", "always"]);
    for round in 0..3 {
        let mut c = s.conn();
        // a clean restart replays the WAL into SST files and starts new WALs
        let mut p = redis::pipe();
        for i in 0..200 {
            p.cmd("SET")
                .arg(format!("base:{round}:{i}"))
                .arg(i)
                .ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        assert_eq!(s.terminate(), Some(0));
        s.launch();
        let mut c = s.conn();
        // only in the newest WALs; one at a time, so acknowledgement order
        // is WAL order within each shard
        for i in 0..WRITES {
            let key = format!("{{t{}}}:{round}:{i}", i % TAGS);
            let _: () = cmd(&["SET", &key, &i.to_string()]).query(&mut c).unwrap();
        }
        s.kill9();
        let mut cuts = Vec::new();
        for shard in 0..2 {
            let wal = newest_wal(&s.data_dir().join(format!("shard-{shard}")));
            let len = std::fs::metadata(&wal).unwrap().len();
            let cut = rng.random_range(1..=len.max(1));
            let f = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
            f.set_len(len - cut.min(len)).unwrap();
            cuts.push(format!(
                "{}: {len} -> {} bytes",
                wal.display(),
                len - cut.min(len)
            ));
        }
        s.launch(); // panics if a shard refuses to open
        let mut c = s.conn();
        let mut p = redis::pipe();
        for i in 0..200 {
            p.cmd("GET").arg(format!("base:{round}:{i}"));
        }
        let base: Vec<Option<u64>> = p.query(&mut c).unwrap();
        assert!(base.iter().all(Option::is_some), "flushed data lost");
        let mut p = redis::pipe();
        for i in 0..WRITES {
            p.cmd("EXISTS")
                .arg(format!("{{t{}}}:{round}:{i}", i % TAGS));
        }
        let present: Vec<bool> = p.query(&mut c).unwrap();
        for tag in 0..TAGS {
            let seq: Vec<bool> = present.iter().skip(tag).step_by(TAGS).copied().collect();
            let kept = seq.iter().take_while(|p| **p).count();
            assert!(
                seq[kept..].iter().all(|p| !p),
                "round {round} tag {tag}: a later write survived an earlier lost one: {seq:?}"
            );
        }
        println!(
            "torn WAL round {round}: {cuts:?}; {} of {WRITES} later writes survived, all 200 flushed ones",
            present.iter().filter(|p| **p).count()
        );
    }
}
