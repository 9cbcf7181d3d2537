//! DUMP and RESTORE against a real redis-server: values of every type and
//! encoding move both ways (Redis 7's listpacks, intsets, quicklists and
//! LZF strings into DiskDB; DiskDB's payloads into Redis), errors match
//! Redis's, restored keys survive a restart and wake blocked clients.
mod common;
use common::reference::{normalize, start_redis};
use common::{q_err, Server};
use redis::Value;
use std::time::Duration;

/// Sends a command with binary-safe arguments; the reply (or error) as text.
fn run(c: &mut redis::Connection, args: &[&[u8]]) -> String {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<Value>(c) {
        Ok(v) => normalize(v),
        Err(e) => format!("ERR<{}>", common::err_text(&e)),
    }
}

fn dump(c: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP")
        .arg(key)
        .query::<Option<Vec<u8>>>(c)
        .unwrap()
        .unwrap_or_else(|| panic!("DUMP {key}: no such key"))
}

/// Everything a key holds, as text comparable between servers (members of
/// sets and fields of hashes sorted).
fn contents(c: &mut redis::Connection, key: &str) -> String {
    let kind: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    let read = |c: &mut redis::Connection, args: &[&str]| -> Vec<Vec<u8>> {
        let mut cmd = redis::cmd(args[0]);
        args[1..].iter().for_each(|a| {
            cmd.arg(*a);
        });
        cmd.query(c).unwrap()
    };
    let mut body = match kind.as_str() {
        "string" => vec![read(c, &["MGET", key]).concat()],
        "list" => read(c, &["LRANGE", key, "0", "-1"]),
        "set" => read(c, &["SMEMBERS", key]),
        "hash" => {
            let flat = read(c, &["HGETALL", key]);
            flat.chunks(2).map(|p| p.concat()).collect()
        }
        "zset" => read(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]),
        other => panic!("{key}: unexpected type {other}"),
    };
    if kind == "set" || kind == "hash" {
        body.sort();
    }
    format!("{kind} {body:?}")
}

/// Keys in every encoding Redis 7 picks: small ones (listpack, intset,
/// int and short strings) and large ones (quicklist, hashtable, skiplist,
/// LZF-compressed strings).
fn fill(c: &mut redis::Connection) -> Vec<String> {
    let mut keys = Vec::new();
    let mut run = |args: Vec<String>| {
        let mut cmd = redis::cmd(&args[0]);
        args[1..].iter().for_each(|a| {
            cmd.arg(a);
        });
        let _: Value = cmd.query(c).unwrap();
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for (k, v) in [
        ("s:int", "12345".to_string()),
        ("s:neg", "-7".to_string()),
        ("s:big-int", "1234567890123".to_string()),
        ("s:short", "hello".to_string()),
        ("s:lzf", "abc".repeat(200)),
        ("s:empty", String::new()),
    ] {
        run(vec!["SET".into(), k.into(), v]);
        keys.push(k.to_string());
    }
    let many = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
    for (k, n) in [("l:small", 5), ("l:big", 1000)] {
        let mut args = s(&["RPUSH", k]);
        args.extend(many(n, &|i| {
            if i % 3 == 0 {
                (i as i64 * -997).to_string() // negative ints of 13 and 16 bits
            } else {
                format!("elem-{i}-{}", "x".repeat(i % 50))
            }
        }));
        run(args);
        keys.push(k.into());
    }
    run(s(&[
        "RPUSH",
        "l:huge-element",
        "a",
        &"z".repeat(20_000),
        "b",
    ]));
    keys.push("l:huge-element".into());
    for (k, n, ints) in [
        ("set:intset", 20, true),
        ("set:small", 10, false),
        ("set:big", 600, false),
        ("set:big-ints", 1000, true),
    ] {
        let mut args = s(&["SADD", k]);
        args.extend(many(n, &|i| {
            if ints {
                (i as i64 * 7919 - 40_000).to_string()
            } else {
                format!("m{i}")
            }
        }));
        run(args);
        keys.push(k.into());
    }
    for (k, n) in [("h:small", 5), ("h:big", 300)] {
        let mut args = s(&["HSET", k]);
        for i in 0..n {
            args.push(format!("field{i}"));
            args.push(if i % 2 == 0 {
                i.to_string()
            } else {
                "v".repeat(i)
            });
        }
        run(args);
        keys.push(k.into());
    }
    for (k, n) in [("z:small", 6), ("z:big", 300)] {
        let mut args = s(&["ZADD", k]);
        for i in 0..n {
            let score = match i {
                0 => "-inf".to_string(),
                1 => "+inf".to_string(),
                2 => "1.5".to_string(),
                _ => format!("{}", (i as f64 - 100.0) / 7.0),
            };
            args.push(score);
            args.push(format!("member{i}"));
        }
        run(args);
        keys.push(k.into());
    }
    keys
}

#[test]
fn values_move_both_ways_between_diskdb_and_redis() {
    let redis = start_redis();
    let mut theirs = redis.conn();
    let diskdb = Server::start(2, &[]);
    let mut ours = diskdb.conn();
    let keys = fill(&mut theirs);
    for key in &keys {
        let want = contents(&mut theirs, key);
        let payload = dump(&mut theirs, key);
        let restored = run(&mut ours, &[b"RESTORE", key.as_bytes(), b"0", &payload]);
        assert_eq!(restored, "ok", "RESTORE into DiskDB of {key}");
        assert_eq!(contents(&mut ours, key), want, "{key} in DiskDB");
        // and back: DiskDB's payload restores in redis-server
        let back = format!("back:{key}");
        let ours_payload = dump(&mut ours, key);
        let restored = run(
            &mut theirs,
            &[b"RESTORE", back.as_bytes(), b"0", &ours_payload],
        );
        assert_eq!(restored, "ok", "RESTORE into redis-server of {key}");
        assert_eq!(
            contents(&mut theirs, &back),
            want,
            "{key} back in redis-server"
        );
        // DiskDB reads its own payloads too, replacing a key of another type
        let _: () = redis::cmd("SET")
            .arg("scratch")
            .arg("x")
            .query(&mut ours)
            .unwrap();
        let restored = run(
            &mut ours,
            &[b"RESTORE", b"scratch", b"0", &ours_payload, b"REPLACE"],
        );
        assert_eq!(restored, "ok");
        assert_eq!(contents(&mut ours, "scratch"), want, "{key} over a string");
    }
}

#[test]
fn ttls_replace_and_errors_match_redis() {
    let redis = start_redis();
    let mut theirs = redis.conn();
    let diskdb = Server::start(2, &[]);
    let mut ours = diskdb.conn();
    for c in [&mut theirs, &mut ours] {
        let _: () = redis::cmd("RPUSH")
            .arg("list")
            .arg("a")
            .arg("b")
            .query(c)
            .unwrap();
        let _: () = redis::cmd("SET").arg("str").arg("v").query(c).unwrap();
    }
    let payload = dump(&mut theirs, "list");
    let mut corrupt = payload.clone();
    corrupt[2] ^= 0x55;
    let mut newer = payload.clone();
    let n = newer.len();
    newer[n - 10] = 99;
    let mut unsummed = payload.clone();
    unsummed[n - 8..].fill(0);
    let far = b"99999999999999";
    let past = b"1000";
    let script: Vec<Vec<&[u8]>> = vec![
        vec![b"DUMP", b"missing"],
        vec![b"DUMP"],
        vec![b"RESTORE", b"k"],
        vec![b"RESTORE", b"str", b"0", &payload],
        vec![b"RESTORE", b"k", b"-1", &payload],
        vec![b"RESTORE", b"k", b"ten", &payload],
        vec![b"RESTORE", b"k", b"0", &corrupt],
        vec![b"RESTORE", b"k", b"0", &newer],
        vec![b"RESTORE", b"k", b"0", &unsummed],
        vec![b"RESTORE", b"k", b"0", b"short"],
        vec![b"RESTORE", b"k", b"0", &payload, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"k", b"0", &payload, b"IDLETIME", b"x"],
        vec![b"RESTORE", b"k", b"0", &payload, b"FREQ", b"256"],
        vec![
            b"RESTORE",
            b"k",
            b"0",
            &payload,
            b"IDLETIME",
            b"5",
            b"FREQ",
            b"1",
        ],
        vec![b"RESTORE", b"k", b"0", &payload, b"BOGUS"],
        vec![
            b"RESTORE",
            b"k",
            b"0",
            &payload,
            b"IDLETIME",
            b"5",
            b"REPLACE",
        ],
        vec![b"LRANGE", b"k", b"0", b"-1"],
        vec![
            b"RESTORE", b"str", b"0", &payload, b"REPLACE", b"FREQ", b"3",
        ],
        vec![b"TYPE", b"str"],
        vec![b"RESTORE", b"k2", past, &payload, b"ABSTTL"],
        vec![b"EXISTS", b"k2"],
        vec![b"RESTORE", b"k", past, &payload, b"ABSTTL", b"REPLACE"],
        vec![b"EXISTS", b"k"],
        vec![b"RESTORE", b"k3", far, &payload, b"ABSTTL"],
        vec![b"PEXPIRETIME", b"k3"],
        vec![b"RESTORE", b"k4", b"100000", &payload],
        vec![b"LRANGE", b"k4", b"0", b"-1"],
    ];
    for args in &script {
        let (o, t) = (run(&mut ours, args), run(&mut theirs, args));
        let shown: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into())
            .collect();
        assert_eq!(o, t, "{shown:?}\n diskdb: {o}\n redis:  {t}");
    }
    for c in [&mut ours, &mut theirs] {
        let ttl: i64 = redis::cmd("PTTL").arg("k4").query(c).unwrap();
        assert!(
            (90_000..=100_000).contains(&ttl),
            "PTTL after RESTORE 100000: {ttl}"
        );
    }
}

#[test]
fn payloads_redis_cannot_restore_here_are_named() {
    let redis = start_redis();
    let mut theirs = redis.conn();
    let diskdb = Server::start(1, &[]);
    let mut ours = diskdb.conn();
    let _: String = redis::cmd("XADD")
        .arg("st")
        .arg("*")
        .arg("a")
        .arg("1")
        .query(&mut theirs)
        .unwrap();
    let stream = dump(&mut theirs, "st");
    let e = run(&mut ours, &[b"RESTORE", b"st", b"0", &stream]);
    assert!(e.contains("'st'") && e.contains("stream"), "{e}");
    let _: String = redis::cmd("XADD")
        .arg("mine")
        .arg("*")
        .arg("a")
        .arg("1")
        .query(&mut ours)
        .unwrap();
    let e = q_err(&mut ours, &["DUMP", "mine"]);
    assert!(e.contains("'mine'") && e.contains("stream"), "{e}");
    let _: Value = redis::cmd("JSON.SET")
        .arg("doc")
        .arg("$")
        .arg("{\"a\":1}")
        .query(&mut ours)
        .unwrap();
    let e = q_err(&mut ours, &["DUMP", "doc"]);
    assert!(e.contains("'doc'") && e.contains("JSON"), "{e}");
}

#[test]
fn restored_keys_survive_a_restart_and_wake_blocked_clients() {
    let redis = start_redis();
    let mut theirs = redis.conn();
    let keys = fill(&mut theirs);
    let mut diskdb = Server::start(2, &[]);
    let mut ours = diskdb.conn();
    // a client blocked on a list that RESTORE creates
    let url = diskdb.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        redis::cmd("BLPOP")
            .arg("l:small")
            .arg("10")
            .query::<Option<(String, String)>>(&mut c)
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut want = Vec::new();
    for key in &keys {
        let payload = dump(&mut theirs, key);
        assert_eq!(
            run(&mut ours, &[b"RESTORE", key.as_bytes(), b"0", &payload]),
            "ok"
        );
        if key != "l:small" {
            want.push((key.clone(), contents(&mut theirs, key)));
        }
    }
    let popped = waiter.join().unwrap();
    let first: Vec<String> = redis::cmd("LRANGE")
        .arg("l:small")
        .arg("0")
        .arg("0")
        .query(&mut theirs)
        .unwrap();
    assert_eq!(popped, Some(("l:small".to_string(), first[0].clone())));
    diskdb.terminate();
    diskdb.launch();
    let mut ours = diskdb.conn();
    for (key, contents_before) in &want {
        assert_eq!(
            &contents(&mut ours, key),
            contents_before,
            "{key} after restart"
        );
    }
}

#[test]
fn restore_publishes_the_keyspace_events_redis_does() {
    let redis = start_redis();
    let diskdb = Server::start(2, &[]);
    let mut source = redis.conn();
    let _: () = redis::cmd("RPUSH")
        .arg("l")
        .arg("a")
        .arg("b")
        .query(&mut source)
        .unwrap();
    let payload = dump(&mut source, "l");
    let events = |port: u16| {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg("KEA")
            .query(&mut c)
            .unwrap();
        let mut listener = client.get_connection().unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut sub = listener.as_pubsub();
        sub.psubscribe("__keyspace@0__:*").unwrap();
        for args in [
            &[&b"RESTORE"[..], b"k", b"0", &payload][..],
            &[b"RESTORE", b"k", b"5000", &payload, b"REPLACE"],
            &[b"RESTORE", b"k", b"1000", &payload, b"ABSTTL", b"REPLACE"],
            &[b"RESTORE", b"k", b"1000", &payload, b"ABSTTL"],
            &[b"SET", b"done", b"1"],
        ] {
            run(&mut c, args);
        }
        let mut got = Vec::new();
        loop {
            let m = sub.get_message().unwrap();
            let event: String = m.get_payload().unwrap();
            if m.get_channel_name().ends_with(":done") {
                return got;
            }
            got.push(format!("{} {event}", m.get_channel_name()));
        }
    };
    let theirs = events(redis.port);
    assert!(theirs.len() >= 3, "{theirs:?}");
    assert_eq!(events(diskdb.port), theirs);
}
