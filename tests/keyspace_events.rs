//! Keyspace notifications compared with redis-server 7: for each write
//! command (strings, keys, lists, hashes, sets, sorted sets, in several
//! variants), after the same setup on both servers, the reply, whether a
//! WATCH of the command's first key still lets EXEC run, and the events
//! published (`notify-keyspace-events KEA`) must be identical.
mod common;
use common::reference::{events_during, run, start_redis, watch_and_events};
use common::Server;

/// (setup, commands): each command runs alone after FLUSHALL and the setup.
const CASES: &[(&[&str], &[&str])] = &[
    (
        &["SET k abc", "SET k2 x", "SET n 10", "EXPIRE k 50"],
        &[
            "SET k v",
            "SET k v NX",
            "SET k v XX",
            "SET k v EX 100",
            "SET k v KEEPTTL",
            "SET k v GET",
            "SETNX k v",
            "SETEX k 100 v",
            "PSETEX k 100000 v",
            "GETSET k v",
            "GETDEL k",
            "GETEX k EX 100",
            "GETEX k PERSIST",
            "GETEX k",
            "APPEND k x",
            "SETRANGE k 2 zz",
            "INCR n",
            "INCRBY n 5",
            "DECR n",
            "DECRBY n 2",
            "INCRBYFLOAT n 1.5",
            "MSET k 1 k2 2",
            "MSETNX k 1 k3 3",
            "SETBIT k 3 1",
            "SETBIT k 1 0",
            "BITOP AND dest k k2",
            "BITOP OR dest k nokey",
            "BITOP NOT dest nokey",
            "BITFIELD k SET u8 0 255",
            "STRLEN k",
            "GET k",
        ],
    ),
    (
        &[
            "SET k abc",
            "SET k2 x",
            "EXPIRE k 50",
            "RPUSH l 3 1 2",
            "SET dst z",
        ],
        &[
            "DEL k",
            "DEL k nokey k2",
            "UNLINK k",
            "EXPIRE k 100",
            "EXPIRE k 0",
            "EXPIRE k -1",
            "PEXPIRE k 100000",
            "EXPIREAT k 1",
            "EXPIREAT k 99999999999",
            "PEXPIREAT k 99999999999999",
            "PERSIST k",
            "PERSIST k2",
            "RENAME k k9",
            "RENAME k k2",
            "RENAMENX k k2",
            "RENAMENX k k9",
            "MOVE k 1",
            "COPY k k9",
            "COPY k k2 REPLACE",
            "COPY k k2",
            "TOUCH k",
            "EXPIRE k 100 NX",
            "EXPIRE k 100 XX",
            "EXPIRE k 10 GT",
            "EXPIRE k 10 LT",
            "TYPE k",
            "SORT l STORE dst",
            "SORT l ALPHA STORE dst",
            "SORT nolist STORE dst",
            "SORT l LIMIT 5 5 STORE dst",
        ],
    ),
    (
        &["RPUSH l 1 2 3 2", "RPUSH l2 z"],
        &[
            "LPUSH l a",
            "RPUSH l a b",
            "LPUSHX l a",
            "RPUSHX nol a",
            "LPUSHX nol a",
            "LINSERT l BEFORE 2 x",
            "LINSERT l AFTER 9 x",
            "LSET l 0 q",
            "LREM l 0 2",
            "LREM l 0 9",
            "LTRIM l 0 0",
            "LTRIM l 5 9",
            "LTRIM l 0 -1",
            "LPOP l",
            "RPOP l 2",
            "LPOP l 9",
            "LPOP nol",
            "LMOVE l l2 LEFT RIGHT",
            "LMOVE l l LEFT RIGHT",
            "RPOPLPUSH l l2",
            "BLPOP l 0",
            "BRPOP nol l 0",
            "BLMOVE l l2 RIGHT LEFT 0",
            "LMPOP 2 nol l LEFT COUNT 2",
            "BLMPOP 0 1 l RIGHT",
            "LPOS l 2",
            "LRANGE l 0 -1",
        ],
    ),
    (
        &["HSET h a 1 b 2 n 5"],
        &[
            "HSET h f 1",
            "HSET h a 1 b 2",
            "HSET h a 1",
            "HSETNX h a 2",
            "HSETNX h z 2",
            "HMSET h a 1 q 2",
            "HDEL h a",
            "HDEL h nope",
            "HDEL h a b",
            "HINCRBY h n 2",
            "HINCRBY h new 2",
            "HINCRBYFLOAT h n 1.5",
            "HGET h a",
            "HGETALL h",
        ],
    ),
    (
        &["SADD s a b", "SADD s2 b c", "SET d x"],
        &[
            "SADD s a",
            "SADD s x y",
            "SREM s a",
            "SREM s q",
            "SREM s a b",
            "SMOVE s s2 a",
            "SMOVE s s2 q",
            "SMOVE s s a",
            "SINTERSTORE d s s2",
            "SUNIONSTORE d s s2",
            "SDIFFSTORE d s s2",
            "SINTERSTORE d s nos",
            "SDIFFSTORE d s s",
        ],
    ),
    (
        &["ZADD z 1 a 2 b", "ZADD z2 3 b 4 c", "SET d x"],
        &[
            "ZADD z 1 a",
            "ZADD z 5 n",
            "ZADD z NX 1 a",
            "ZADD z XX 9 a",
            "ZADD z XX 9 q",
            "ZADD z GT 0 a",
            "ZADD z INCR 2 a",
            "ZADD z CH 1 a 7 b",
            "ZINCRBY z 1 a",
            "ZINCRBY z 1 new",
            "ZREM z a",
            "ZREM z q",
            "ZREMRANGEBYSCORE z 0 1",
            "ZREMRANGEBYSCORE z 8 9",
            "ZREMRANGEBYRANK z 0 0",
            "ZREMRANGEBYLEX z - +",
            "ZPOPMIN z",
            "ZPOPMAX z 5",
            "ZPOPMIN noz",
            "BZPOPMIN z 0",
            "BZPOPMAX noz z 0",
            "ZMPOP 1 z MIN",
            "BZMPOP 0 1 z MAX COUNT 9",
            "ZUNIONSTORE d 2 z z2",
            "ZINTERSTORE d 2 z z2",
            "ZDIFFSTORE d 2 z z2",
            "ZINTERSTORE d 2 z noz",
            "ZRANGESTORE d z 0 -1",
            "ZRANGESTORE d z 5 9",
            "ZSCORE z a",
        ],
    ),
    (
        &["SADD s a", "SADD s2 b", "SADD foo a b", "SADD bar b"],
        &[
            "SMOVE s s2 a",
            "SMOVE s s2 b",
            "SMOVE foo bar a",
            "SMOVE foo bar b",
            "SMOVE foo nos a",
            "SMOVE s foo a",
        ],
    ),
    (
        &["ZADD z 1 a", "SET d x", "SET k abc"],
        &[
            "ZPOPMAX z 5",
            "ZMPOP 1 z MAX COUNT 5",
            "ZUNIONSTORE d 1 noz",
            "ZDIFFSTORE d 2 z z",
            "BITOP AND d nokey nokey2",
            "BITOP AND d k k",
            "ZADD z INCR 1 new",
            "SUNIONSTORE d nos",
            "ZRANGESTORE d z 0 -1 BYSCORE REV",
        ],
    ),
    // lists on both shards: the push's events come first, as in Redis
    (
        &["RPUSH l1 1 2", "RPUSH l2 3"],
        &[
            "LMOVE l1 l2 LEFT LEFT",
            "LMOVE l2 l1 LEFT LEFT",
            "LMOVE l2 l1 RIGHT LEFT",
            "BLMOVE l1 l2 LEFT LEFT 0",
            "RPOPLPUSH l1 l2",
            "LMOVE l1 nol RIGHT RIGHT",
        ],
    ),
];

/// Commands on keys of both shards (a, c, e on one; b, d, l2 on the
/// other; l1 with a): each shard publishes its own keys' events, so these
/// may come in another order than Redis's argument order; the events
/// themselves must be the same.
const ACROSS_SHARDS: (&[&str], &[&str]) = (
    &[
        "MSET a 1 b 2 c 3 d 4 e 5",
        "SADD s1 a b",
        "SADD s2 b c",
        "ZADD z1 1 a",
        "ZADD z2 2 a",
        "RPUSH l1 1 2",
        "RPUSH l2 3",
    ],
    &[
        "MSET a 1 b 2 c 3 d 4 e 5",
        "DEL a b c d e",
        "UNLINK b a d c",
        "MSETNX x1 1 x2 2 x3 3 x4 4",
        "SINTERSTORE a s1 s2",
        "SUNIONSTORE e s1 s2",
        "ZUNIONSTORE e 2 z1 z2",
        "SMOVE s1 s2 a",
        "COPY a e",
        "COPY e a REPLACE",
        "RENAME a b",
        "SORT l1 STORE e",
        "BITOP OR e a b c",
        "LMPOP 3 nol l1 l2 LEFT",
        "BLPOP nol l2 l1 0",
    ],
);

#[test]
fn write_commands_publish_the_events_redis_publishes() {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    let urls = [format!("redis://127.0.0.1:{}/", redis_srv.port), ours.url()];
    let mut differences = Vec::new();
    for (setup, commands) in CASES.iter().chain([&ACROSS_SHARDS]) {
        let setup: Vec<&str> = std::iter::once("FLUSHALL")
            .chain(setup.iter().copied())
            .collect();
        for cmd in *commands {
            let key = cmd.split(' ').nth(1).unwrap_or("k");
            let [mut theirs, mut mine] =
                urls.clone().map(|u| watch_and_events(&u, &setup, key, cmd));
            if std::ptr::eq(*commands, ACROSS_SHARDS.1) {
                theirs.1.sort();
                mine.1.sort();
            }
            if mine != theirs {
                differences.push(format!("{cmd}\n  redis:  {theirs:?}\n  diskdb: {mine:?}"));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// What a client blocked by `blocker` gets, and the keyspace events
/// published, when another client runs `write` after `setup`.
fn blocked_then(url: &str, setup: &[&str], blocker: &str, write: &str) -> (String, Vec<String>) {
    let words = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
    let client = redis::Client::open(url).unwrap();
    let mut a = client.get_connection().unwrap();
    run(&mut a, &words("FLUSHALL"));
    for cmd in setup {
        run(&mut a, &words(cmd));
    }
    events_during(&client, &mut a, |a| {
        let mut b = client.get_connection().unwrap();
        let blocker = words(blocker);
        let blocked = std::thread::spawn(move || run(&mut b, &blocker));
        // the blocker is parked once CLIENT LIST shows it blocked
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !run(a, &words("CLIENT LIST")).contains("flags=b") {
            assert!(std::time::Instant::now() < deadline, "never blocked");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let written = run(a, &words(write));
        let got = blocked.join().unwrap();
        format!("{written}; blocked client got {got}")
    })
}

/// A write that serves a blocked client publishes its own events first,
/// then those of the blocked command, as Redis serves blocked clients
/// after the command: also for RENAME and LMOVE across shards (a, l1 on
/// one shard, b, l2 on the other). XGROUP DESTROY answers the readers
/// blocked on the group with NOGROUP.
#[test]
fn writes_that_serve_blocked_clients_publish_in_redis_order() {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    let urls = [format!("redis://127.0.0.1:{}/", redis_srv.port), ours.url()];
    for (setup, blocker, write) in [
        (&["RPUSH a x"][..], "BLPOP b 5", "RENAME a b"),
        (&["RPUSH a x"], "BLPOP c 5", "RENAME a c"),
        (&["RPUSH l1 x y"], "BLPOP l2 5", "LMOVE l1 l2 LEFT RIGHT"),
        (&["RPUSH l1 x"], "BLPOP l2 5", "LMOVE l1 l2 LEFT RIGHT"),
        (&["RPUSH l1 x"], "BLPOP c 5", "LMOVE l1 c LEFT RIGHT"),
        (&[], "BLPOP l2 5", "RPUSH l2 v"),
        (
            &["XADD s 1-1 f v", "XGROUP CREATE s g $"],
            "XREADGROUP GROUP g c1 BLOCK 5000 STREAMS s >",
            "XGROUP DESTROY s g",
        ),
    ] {
        let [theirs, mine] = urls
            .clone()
            .map(|u| blocked_then(&u, setup, blocker, write));
        assert_eq!(mine, theirs, "{blocker} then {write}");
    }
}
