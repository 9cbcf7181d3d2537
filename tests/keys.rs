//! Generic key commands: DEL/EXISTS, TTLs and expiry, SCAN/KEYS across
//! shards, RENAME/COPY across shards, SELECT, FLUSHDB, DBSIZE.
mod common;
use common::{q_err, Server};
use redis::Commands;
use std::collections::HashSet;
use std::time::Duration;

#[test]
fn del_exists_touch_across_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    for i in 0..20 {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    assert_eq!(c.exists::<_, i64>(&keys).unwrap(), 20);
    assert_eq!(
        redis::cmd("EXISTS")
            .arg("k1")
            .arg("k1")
            .arg("nope")
            .query::<i64>(&mut c)
            .unwrap(),
        2
    );
    assert_eq!(
        redis::cmd("TOUCH")
            .arg("k1")
            .arg("k2")
            .arg("nope")
            .query::<i64>(&mut c)
            .unwrap(),
        2
    );
    assert_eq!(c.del::<_, i64>(&keys[..10]).unwrap(), 10);
    assert_eq!(
        redis::cmd("UNLINK")
            .arg(&keys[10..])
            .arg("nope")
            .query::<i64>(&mut c)
            .unwrap(),
        10
    );
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 0);
}

#[test]
fn expire_family_and_expiry() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(c.ttl::<_, i64>("k").unwrap(), -1);
    assert_eq!(c.ttl::<_, i64>("missing").unwrap(), -2);
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(100)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(50)
            .arg("GT")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(200)
            .arg("GT")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(300)
            .arg("LT")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(10)
            .arg("NX")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(10)
            .arg("XX")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("missing")
            .arg(10)
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k", "10", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k", "10", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k", "10", "FOO"]),
        "ERR Unsupported option FOO"
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        redis::cmd("PERSIST").arg("k").query::<i64>(&mut c).unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("PERSIST").arg("k").query::<i64>(&mut c).unwrap(),
        0
    );
    let at = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1000) as i64;
    assert_eq!(
        redis::cmd("EXPIREAT")
            .arg("k")
            .arg(at)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("EXPIRETIME")
            .arg("k")
            .query::<i64>(&mut c)
            .unwrap(),
        at
    );
    assert_eq!(
        redis::cmd("PEXPIRETIME")
            .arg("k")
            .query::<i64>(&mut c)
            .unwrap(),
        at * 1000
    );
    assert_eq!(
        redis::cmd("PEXPIREAT")
            .arg("k")
            .arg(at * 1000 + 5)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("PEXPIRE")
            .arg("k")
            .arg(100_000)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    // a past time deletes
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(-1)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(c.exists::<_, i64>("k").unwrap(), 0);

    // lazy + active expiry: expired keys vanish from GET, EXISTS, KEYS, SCAN, DBSIZE
    for i in 0..30 {
        let _: () = redis::cmd("SET")
            .arg(format!("tmp{i}"))
            .arg("x")
            .arg("PX")
            .arg(150)
            .query(&mut c)
            .unwrap();
    }
    let _: () = c.set("stay", "1").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.get::<_, Option<String>>("tmp0").unwrap(), None);
    assert_eq!(c.exists::<_, i64>("tmp1").unwrap(), 0);
    assert_eq!(
        redis::cmd("KEYS")
            .arg("*")
            .query::<Vec<String>>(&mut c)
            .unwrap(),
        vec!["stay".to_string()]
    );
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 1);
    let scanned: Vec<String> = c.scan().unwrap().collect();
    assert_eq!(scanned, vec!["stay".to_string()]);
    // the active expirer removed them from disk and counted them
    std::thread::sleep(Duration::from_millis(300));
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    let expired: i64 = info
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(expired >= 30, "{info}");
}

#[test]
fn scan_and_keys_span_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let mut expect = HashSet::new();
    for i in 0..500 {
        let k = format!("user:{i}");
        let _: () = c.set(&k, i).unwrap();
        expect.insert(k);
    }
    let _: () = c.set("other", 1).unwrap();
    // full SCAN with a small COUNT walks both shards and returns each key once
    let mut cursor = 0u64;
    let mut seen = Vec::new();
    let mut rounds = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("user:*")
            .arg("COUNT")
            .arg(37)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        rounds += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
        assert!(rounds < 1000);
    }
    assert!(rounds > 2);
    let set: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(set.len(), seen.len(), "duplicates in SCAN");
    assert_eq!(set, expect);
    let (_, typed): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("hash")
        .arg("COUNT")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    assert!(typed.is_empty());
    let keys: Vec<String> = redis::cmd("KEYS").arg("user:1?").query(&mut c).unwrap();
    assert_eq!(keys.len(), 10);
    assert_eq!(q_err(&mut c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(
        q_err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    let rk: String = redis::cmd("RANDOMKEY").query(&mut c).unwrap();
    assert!(expect.contains(&rk) || rk == "other");
    let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    assert_eq!(
        redis::cmd("RANDOMKEY")
            .query::<Option<String>>(&mut c)
            .unwrap(),
        None
    );
}

#[test]
fn rename_copy_across_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    // find two keys on different shards: "foo" (slot 12182) and "bar" (5061)
    // land on shards 0 and 1 of 2.
    let _: () = redis::cmd("SET")
        .arg("foo")
        .arg("v")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("RENAME")
        .arg("foo")
        .arg("bar")
        .query(&mut c)
        .unwrap();
    assert_eq!(c.get::<_, Option<String>>("foo").unwrap(), None);
    assert_eq!(c.get::<_, String>("bar").unwrap(), "v");
    assert!(
        c.ttl::<_, i64>("bar").unwrap() > 0,
        "TTL moves with the key"
    );
    assert_eq!(q_err(&mut c, &["RENAME", "nope", "x"]), "ERR no such key");
    let _: () = c.set("foo", "other").unwrap();
    assert_eq!(
        redis::cmd("RENAMENX")
            .arg("bar")
            .arg("foo")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("RENAMENX")
            .arg("bar")
            .arg("baz")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("COPY")
            .arg("baz")
            .arg("foo")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("COPY")
            .arg("baz")
            .arg("foo")
            .arg("REPLACE")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(c.get::<_, String>("foo").unwrap(), "v");
    assert_eq!(
        redis::cmd("COPY")
            .arg("baz")
            .arg("baz")
            .arg("DB")
            .arg(3)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("COPY")
            .arg("nope")
            .arg("x")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        q_err(&mut c, &["COPY", "baz", "baz"]),
        "ERR source and destination objects are the same"
    );
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    assert_eq!(c.get::<_, String>("baz").unwrap(), "v");
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 1);
    let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 0);
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    assert_eq!(
        c.get::<_, String>("baz").unwrap(),
        "v",
        "FLUSHDB only empties the selected db"
    );
    assert_eq!(
        q_err(&mut c, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 0);
}

#[test]
fn object_encoding_and_type() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let _: () = c.set("i", "12345").unwrap();
    let _: () = c.set("e", "short").unwrap();
    let _: () = c.set("r", "x".repeat(100)).unwrap();
    let enc = |c: &mut redis::Connection, k: &str| -> Option<String> {
        redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(k)
            .query(c)
            .unwrap()
    };
    assert_eq!(enc(&mut c, "i").as_deref(), Some("int"));
    assert_eq!(enc(&mut c, "e").as_deref(), Some("embstr"));
    assert_eq!(enc(&mut c, "r").as_deref(), Some("raw"));
    assert_eq!(enc(&mut c, "missing"), None);
    assert_eq!(
        q_err(&mut c, &["OBJECT", "FOO", "x"]),
        "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    );
}

/// The hot cache also remembers absent keys; every way of creating a key
/// (on its own shard or from another one, atomically with other keys, by
/// rename or by a transaction) must replace that memory.
#[test]
fn keys_read_as_absent_then_created_are_seen() {
    use common::{bulk, int, query};
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let _: () = c.set("src", "v").unwrap();
    let _: () = c.sadd("set1", "m").unwrap();
    // (name, how to create it, the reply of GET/TYPE afterwards)
    let creators: Vec<(String, Vec<String>)> = (0..8)
        .map(|i| {
            let k = format!("fresh{i}");
            let how: Vec<String> = match i {
                0 => vec!["SET".into(), k.clone(), "v".into()],
                1 => vec![
                    "MSET".into(),
                    k.clone(),
                    "v".into(),
                    "other{x}".into(),
                    "w".into(),
                ],
                2 => vec!["COPY".into(), "src".into(), k.clone()],
                3 => vec!["INCR".into(), k.clone()],
                4 => vec!["APPEND".into(), k.clone(), "v".into()],
                5 => vec!["SMOVE".into(), "set1".into(), k.clone(), "m".into()],
                6 => vec!["SETNX".into(), k.clone(), "v".into()],
                _ => vec!["GETSET".into(), k.clone(), "v".into()],
            };
            (k, how)
        })
        .collect();
    for (k, how) in &creators {
        // read it as absent through every kind of lookup first
        assert_eq!(bulk(&mut c, &["GET", k]), None);
        assert_eq!(int(&mut c, &["EXISTS", k]), 0);
        let t: String = query(&mut c, &["TYPE", k]);
        assert_eq!(t, "none");
        let args: Vec<&str> = how.iter().map(|s| s.as_str()).collect();
        let _: redis::Value = query(&mut c, &args);
        assert_eq!(int(&mut c, &["EXISTS", k]), 1, "{how:?}");
    }
    // RENAME onto a key read as absent, and MULTI/EXEC
    assert_eq!(int(&mut c, &["EXISTS", "restored"]), 0);
    let _: () = c.set("restored", "v").unwrap();
    assert_eq!(bulk(&mut c, &["GET", "renamed"]), None);
    let _: () = query(&mut c, &["RENAME", "restored", "renamed"]);
    assert_eq!(bulk(&mut c, &["GET", "renamed"]).as_deref(), Some("v"));
    assert_eq!(bulk(&mut c, &["GET", "restored"]), None);
    assert_eq!(bulk(&mut c, &["GET", "in-tx"]), None);
    let _: redis::Value = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("in-tx")
        .arg("1")
        .cmd("SET")
        .arg("in-tx-2")
        .arg("2")
        .query(&mut c)
        .unwrap();
    assert_eq!(bulk(&mut c, &["GET", "in-tx"]).as_deref(), Some("1"));
    // deleted keys read as absent again, and come back when set again
    let _: () = query(&mut c, &["DEL", "renamed"]);
    assert_eq!(bulk(&mut c, &["GET", "renamed"]), None);
    let _: () = c.set("renamed", "again").unwrap();
    assert_eq!(bulk(&mut c, &["GET", "renamed"]).as_deref(), Some("again"));
    // FLUSHALL forgets, then keys read as absent can be created once more
    let _: () = query(&mut c, &["FLUSHALL"]);
    assert_eq!(bulk(&mut c, &["GET", "fresh0"]), None);
    let _: () = c.set("fresh0", "back").unwrap();
    assert_eq!(bulk(&mut c, &["GET", "fresh0"]).as_deref(), Some("back"));
}

/// Reads of keys owned by the other shard (GET, STRLEN, TYPE, TTL, PTTL,
/// EXPIRETIME, PEXPIRETIME) are served by the connection's core from the
/// owner's RocksDB when nothing of the connection is in flight; in a
/// pipeline, a GET after a SET of the same key must still see that SET,
/// and every GET counts as a keyspace hit or miss.
#[test]
fn reads_of_other_shards_keys_see_every_earlier_write() {
    use common::{info_field, int, query};
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let mut other = s.conn();
    // pipelined SET k v; GET k over keys of both shards
    let mut p = redis::pipe();
    for i in 0..400 {
        p.cmd("SET").arg(format!("rw{i}")).arg(format!("v{i}"));
        p.cmd("GET").arg(format!("rw{i}"));
    }
    let replies: Vec<redis::Value> = p.query(&mut c).unwrap();
    for i in 0..400 {
        let got: String = redis::from_redis_value(&replies[2 * i + 1]).unwrap();
        assert_eq!(got, format!("v{i}"), "pipelined GET rw{i} after its SET");
    }
    // one command at a time, writes from another connection, every type
    for i in 0..100 {
        let k = format!("seq{i}");
        let _: () = other.set(&k, i).unwrap();
        assert_eq!(query::<i64>(&mut c, &["GET", &k]), i);
        assert_eq!(int(&mut c, &["STRLEN", &k]), i.to_string().len() as i64);
        assert_eq!(
            common::bulk(&mut c, &["TYPE", &k]).as_deref(),
            Some("string")
        );
        assert_eq!(int(&mut c, &["TTL", &k]), -1);
        let _: () = other.pexpire(&k, 100_000).unwrap();
        let pttl = int(&mut c, &["PTTL", &k]);
        assert!(pttl > 90_000 && pttl <= 100_000, "PTTL {pttl}");
        assert!((99..=100).contains(&int(&mut c, &["TTL", &k])));
        let at = int(&mut c, &["PEXPIRETIME", &k]);
        assert_eq!(int(&mut c, &["EXPIRETIME", &k]), at / 1000);
        let _: () = other.del(&k).unwrap();
        assert_eq!(common::bulk(&mut c, &["GET", &k]), None);
        assert_eq!(int(&mut c, &["TTL", &k]), -2);
        assert_eq!(int(&mut c, &["STRLEN", &k]), 0);
        assert_eq!(common::bulk(&mut c, &["TYPE", &k]).as_deref(), Some("none"));
        let _: () = other.rpush(&k, "x").unwrap();
        assert!(q_err(&mut c, &["GET", &k]).starts_with("WRONGTYPE"));
        assert!(q_err(&mut c, &["STRLEN", &k]).starts_with("WRONGTYPE"));
        assert_eq!(common::bulk(&mut c, &["TYPE", &k]).as_deref(), Some("list"));
        // collection sizes from the meta record
        let (h, st, z, l) = (
            format!("h{i}"),
            format!("s{i}"),
            format!("z{i}"),
            format!("l{i}"),
        );
        for n in 1..=3 {
            let f = format!("f{n}");
            assert_eq!(int(&mut other, &["HSET", &h, &f, "v"]), 1);
            assert_eq!(int(&mut c, &["HLEN", &h]), n);
            assert_eq!(int(&mut other, &["SADD", &st, &f]), 1);
            assert_eq!(int(&mut c, &["SCARD", &st]), n);
            assert_eq!(int(&mut other, &["ZADD", &z, "1", &f]), 1);
            assert_eq!(int(&mut c, &["ZCARD", &z]), n);
            assert_eq!(int(&mut other, &["LPUSH", &l, &f]), n);
            assert_eq!(int(&mut c, &["LLEN", &l]), n);
            // one field, member or score (meta record, then the sub-key)
            let value = format!("v{i}.{n}");
            assert_eq!(int(&mut other, &["HSET", &h, &f, &value]), 0);
            assert_eq!(common::bulk(&mut c, &["HGET", &h, &f]), Some(value.clone()));
            assert_eq!(int(&mut c, &["HSTRLEN", &h, &f]), value.len() as i64);
            assert_eq!(int(&mut c, &["HEXISTS", &h, &f]), 1);
            assert_eq!(int(&mut other, &["HDEL", &h, &f]), 1);
            assert_eq!(common::bulk(&mut c, &["HGET", &h, &f]), None);
            assert_eq!(int(&mut c, &["HEXISTS", &h, &f]), 0);
            assert_eq!(int(&mut c, &["HSTRLEN", &h, &f]), 0);
            assert_eq!(int(&mut other, &["HSET", &h, &f, "v"]), 1);
            assert_eq!(int(&mut c, &["SISMEMBER", &st, &f]), 1);
            assert_eq!(int(&mut c, &["SISMEMBER", &st, "nope"]), 0);
            assert_eq!(
                common::bulk(&mut other, &["ZINCRBY", &z, "1.5", &f]).as_deref(),
                Some("2.5")
            );
            assert_eq!(
                common::bulk(&mut c, &["ZSCORE", &z, &f]).as_deref(),
                Some("2.5")
            );
        }
        // a re-created collection shows none of the old one's fields
        let _: () = other.del(&[&h, &st, &z]).unwrap();
        assert_eq!(int(&mut other, &["HSET", &h, "other", "v"]), 1);
        assert_eq!(int(&mut other, &["SADD", &st, "other"]), 1);
        assert_eq!(int(&mut other, &["ZADD", &z, "1", "other"]), 1);
        assert_eq!(common::bulk(&mut c, &["HGET", &h, "f1"]), None);
        assert_eq!(int(&mut c, &["SISMEMBER", &st, "f1"]), 0);
        assert_eq!(common::bulk(&mut c, &["ZSCORE", &z, "f1"]), None);
        for n in 1..=3 {
            let f = format!("f{n}");
            assert_eq!(int(&mut other, &["HSET", &h, &f, "v"]), 1);
            assert_eq!(int(&mut other, &["SADD", &st, &f]), 1);
            assert_eq!(int(&mut other, &["ZADD", &z, "1", &f]), 1);
        }
        assert_eq!(
            common::bulk(&mut other, &["RPOP", &l]).as_deref(),
            Some("f1")
        );
        assert_eq!(int(&mut c, &["LLEN", &l]), 2);
        let _: () = other.del(&[&h, &st, &z, &l]).unwrap();
        let string = format!("str{i}");
        let _: () = other.set(&string, "x").unwrap();
        for (cmd, key) in [("HLEN", &h), ("SCARD", &st), ("ZCARD", &z), ("LLEN", &l)] {
            assert_eq!(int(&mut c, &[cmd, key]), 0);
            assert!(q_err(&mut c, &[cmd, &string]).starts_with("WRONGTYPE"));
        }
        for cmd in ["HGET", "HEXISTS", "HSTRLEN", "SISMEMBER", "ZSCORE"] {
            assert!(q_err(&mut c, &[cmd, &string, "f1"]).starts_with("WRONGTYPE"));
        }
        assert_eq!(common::bulk(&mut c, &["HGET", &h, "f1"]), None);
        assert_eq!(common::bulk(&mut c, &["ZSCORE", &z, "f1"]), None);
        let _: () = other.set(&k, "short-lived").unwrap();
        let _: () = other.pexpire(&k, 1).unwrap();
    }
    std::thread::sleep(Duration::from_millis(5));
    for i in 0..100 {
        assert_eq!(common::bulk(&mut c, &["GET", &format!("seq{i}")]), None);
    }
    // hits and misses, whichever core answers
    let stat =
        |c: &mut redis::Connection, f: &str| -> i64 { info_field(c, f).unwrap().parse().unwrap() };
    let (hits, misses) = (
        stat(&mut c, "keyspace_hits"),
        stat(&mut c, "keyspace_misses"),
    );
    for i in 0..50 {
        let _: Option<String> = c.get(format!("rw{i}")).unwrap();
        let _: Option<String> = c.get(format!("absent{i}")).unwrap();
    }
    assert_eq!(stat(&mut c, "keyspace_hits") - hits, 50);
    assert_eq!(stat(&mut c, "keyspace_misses") - misses, 50);
    assert_eq!(int(&mut c, &["EXISTS", "rw1"]), 1);
}

/// A way to replace a collection: its name, the commands, and reads with
/// the replies they must get.
type Step<'a> = (
    &'a str,
    &'a [&'a [&'a str]],
    &'a [(&'a [&'a str], Option<&'a str>)],
);

/// Hash fields, set members and sorted-set scores are cached in memory
/// once read (`storage::hot`). Each way a key's collection can be
/// replaced, emptied or moved must show in the next read of a field that
/// was cached before it.
#[test]
fn cached_fields_follow_every_way_a_collection_is_replaced() {
    use common::{bulk, int};
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let mut run = |args: &[&str]| {
        if let Err(e) = common::cmd(args).query::<redis::Value>(&mut c) {
            panic!("{args:?}: {e}");
        }
    };
    // "foo" and "bar" live on different shards
    let steps: &[Step] = &[
        (
            "DEL, then re-created",
            &[
                &["HSET", "foo", "f", "1"],
                &["HGET", "foo", "f"],
                &["DEL", "foo"],
                &["HSET", "foo", "g", "2"],
            ],
            &[
                (&["HGET", "foo", "f"], None),
                (&["HGET", "foo", "g"], Some("2")),
            ],
        ),
        (
            "one field deleted, one changed",
            &[
                &["HSET", "foo", "f", "1", "g", "1"],
                &["HGET", "foo", "f"],
                &["HGET", "foo", "g"],
                &["HDEL", "foo", "f"],
                &["HINCRBY", "foo", "g", "5"],
            ],
            &[
                (&["HGET", "foo", "f"], None),
                (&["HGET", "foo", "g"], Some("6")),
            ],
        ),
        (
            "emptied, then re-created",
            &[
                &["SADD", "foo", "a"],
                &["SISMEMBER", "foo", "a"],
                &["SREM", "foo", "a"],
                &["SADD", "foo", "b"],
            ],
            &[
                (&["SISMEMBER", "foo", "a"], Some("0")),
                (&["SISMEMBER", "foo", "b"], Some("1")),
            ],
        ),
        (
            "RENAME over it (across shards)",
            &[
                &["HSET", "foo", "f", "old"],
                &["HSET", "bar", "f", "new"],
                &["HGET", "foo", "f"],
                &["RENAME", "bar", "foo"],
            ],
            &[
                (&["HGET", "foo", "f"], Some("new")),
                (&["HGET", "bar", "f"], None),
            ],
        ),
        (
            "COPY REPLACE over it",
            &[
                &["ZADD", "bar", "1", "m"],
                &["ZSCORE", "bar", "m"],
                &["ZADD", "foo", "7", "m"],
                &["COPY", "foo", "bar", "REPLACE"],
                &["DEL", "foo"],
            ],
            &[(&["ZSCORE", "bar", "m"], Some("7"))],
        ),
        (
            "a *STORE over it",
            &[
                &["ZADD", "bar", "1", "m"],
                &["ZSCORE", "bar", "m"],
                &["ZADD", "{bar}w", "5", "q"],
                &["ZUNIONSTORE", "bar", "1", "{bar}w"],
            ],
            &[
                (&["ZSCORE", "bar", "m"], None),
                (&["ZSCORE", "bar", "q"], Some("5")),
            ],
        ),
        (
            "SMOVE out of it (across shards)",
            &[
                &["SADD", "foo", "m"],
                &["SISMEMBER", "foo", "m"],
                &["SISMEMBER", "bar", "m"],
                &["SMOVE", "foo", "bar", "m"],
            ],
            &[
                (&["SISMEMBER", "foo", "m"], Some("0")),
                (&["SISMEMBER", "bar", "m"], Some("1")),
            ],
        ),
        (
            "a string in between",
            &[
                &["HSET", "foo", "f", "1"],
                &["HGET", "foo", "f"],
                &["SET", "foo", "s"],
                &["DEL", "foo"],
                &["SADD", "foo", "f"],
            ],
            &[
                (&["SISMEMBER", "foo", "f"], Some("1")),
                (&["TYPE", "foo"], Some("set")),
            ],
        ),
        (
            "MULTI/EXEC writing one field three times",
            &[
                &["HSET", "foo", "f", "0"],
                &["HGET", "foo", "f"],
                &["MULTI"],
                &["HSET", "foo", "f", "1"],
                &["HDEL", "foo", "f"],
                &["HSET", "foo", "f", "2"],
                &["EXEC"],
            ],
            &[(&["HGET", "foo", "f"], Some("2"))],
        ),
        (
            "MOVE to another database",
            &[
                &["SADD", "foo", "x"],
                &["SISMEMBER", "foo", "x"],
                &["MOVE", "foo", "1"],
                &["SADD", "foo", "y"],
            ],
            &[
                (&["SISMEMBER", "foo", "x"], Some("0")),
                (&["SISMEMBER", "foo", "y"], Some("1")),
            ],
        ),
        (
            "FLUSHDB",
            &[
                &["ZADD", "foo", "1", "m"],
                &["ZSCORE", "foo", "m"],
                &["FLUSHDB"],
                &["ZADD", "foo", "2", "n"],
            ],
            &[
                (&["ZSCORE", "foo", "m"], None),
                (&["ZSCORE", "foo", "n"], Some("2")),
            ],
        ),
    ];
    for (way, setup, checks) in steps {
        run(&["FLUSHALL"]);
        for args in *setup {
            run(args);
        }
        for (args, want) in *checks {
            let mut c = s.conn();
            assert_eq!(bulk(&mut c, args).as_deref(), *want, "{way}: {args:?}");
            // inside MULTI the owner answers (from its hot cache), whichever
            // core the connection is on
            let mut p = redis::pipe();
            p.atomic().add_command(common::cmd(args));
            let owner: Vec<Option<String>> = p.query(&mut c).unwrap();
            assert_eq!(owner[0].as_deref(), *want, "{way}: {args:?} in MULTI");
        }
    }
    // expiry, which needs a wait
    let mut c = s.conn();
    int(&mut c, &["HSET", "bar", "f", "1"]);
    assert_eq!(bulk(&mut c, &["HGET", "bar", "f"]).as_deref(), Some("1"));
    int(&mut c, &["PEXPIRE", "bar", "30"]);
    std::thread::sleep(Duration::from_millis(80));
    int(&mut c, &["HSET", "bar", "g", "2"]);
    assert_eq!(
        bulk(&mut c, &["HGET", "bar", "f"]),
        None,
        "expired, re-created"
    );
    assert_eq!(int(&mut c, &["HLEN", "bar"]), 1);
    // no command left a staged write unapplied (which would clear the cache)
    let dropped = common::info_field(&mut c, "hot_cache_dropped_batches");
    assert_eq!(dropped.as_deref(), Some("0"));
}

/// MOVE: to another database with the TTL, never over an existing key,
/// inside MULTI, and Redis's errors.
#[test]
fn move_between_databases() {
    use common::{bulk, int};
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let mut db1 = s.conn();
    common::q(&mut db1, &["SELECT", "1"]);
    for key in ["foo", "bar"] {
        common::q(&mut c, &["SET", key, "v", "EX", "100"]);
        assert_eq!(int(&mut c, &["MOVE", key, "1"]), 1);
        assert_eq!(int(&mut c, &["EXISTS", key]), 0);
        assert_eq!(bulk(&mut db1, &["GET", key]).as_deref(), Some("v"));
        let ttl = int(&mut db1, &["TTL", key]);
        assert!((1..=100).contains(&ttl), "TTL kept: {ttl}");
        assert_eq!(int(&mut c, &["MOVE", key, "1"]), 0, "gone from db 0");
        // the destination holds the key already: nothing moves
        int(&mut c, &["HSET", key, "f", "1"]);
        assert_eq!(int(&mut c, &["MOVE", key, "1"]), 0);
        assert_eq!(bulk(&mut c, &["HGET", key, "f"]).as_deref(), Some("1"));
        assert_eq!(bulk(&mut db1, &["GET", key]).as_deref(), Some("v"));
        // a collection moves whole, and back
        assert_eq!(int(&mut db1, &["DEL", key]), 1);
        assert_eq!(int(&mut c, &["MOVE", key, "1"]), 1);
        assert_eq!(bulk(&mut db1, &["HGET", key, "f"]).as_deref(), Some("1"));
        assert_eq!(int(&mut db1, &["MOVE", key, "0"]), 1);
        assert_eq!(bulk(&mut c, &["HGET", key, "f"]).as_deref(), Some("1"));
        assert_eq!(int(&mut db1, &["EXISTS", key]), 0);
    }
    let replies: Vec<redis::Value> = redis::pipe()
        .atomic()
        .cmd("MOVE")
        .arg("foo")
        .arg(1)
        .cmd("EXISTS")
        .arg("foo")
        .query(&mut c)
        .unwrap();
    assert_eq!(replies, vec![redis::Value::Int(1), redis::Value::Int(0)]);
    assert_eq!(int(&mut db1, &["EXISTS", "foo"]), 1);
    for (args, want) in [
        (
            &["MOVE", "foo", "0"][..],
            "ERR source and destination objects are the same",
        ),
        (&["MOVE", "foo", "16"], "ERR DB index is out of range"),
        (
            &["MOVE", "foo", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["MOVE", "foo"],
            "ERR wrong number of arguments for 'move' command",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), want, "{args:?}");
    }
}

/// MOVE locks its key in the destination database too. A MOVE that runs
/// as a multi-shard operation (its connection on another core) writes the
/// destination, then its commit writes the same batch again later; a
/// client that wrote the key in between saw its write undone. Here movers
/// fill `k` in db 0 and move it to db 1, and one client deletes and
/// re-creates it in db 1: once that client's SADD returned, nothing else
/// can change `k` in db 1 (MOVE refuses an existing key), so its SCARD
/// and SMEMBERS must agree.
#[test]
fn move_locks_the_destination_key() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let s = Server::start(2, &["--connection-affinity", "no"]);
    let stop = Arc::new(AtomicBool::new(false));
    let bad = Arc::new(AtomicU64::new(0));
    let mut movers = Vec::new();
    for _ in 0..4 {
        let (mut c, stop) = (s.conn(), stop.clone());
        movers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                common::int(&mut c, &["SADD", "k", "a", "c"]);
                common::int(&mut c, &["MOVE", "k", "1"]);
            }
        }));
    }
    let mut writers = Vec::new();
    for _ in 0..1 {
        let (stop, bad) = (stop.clone(), bad.clone());
        let mut c = s.conn();
        writers.push(std::thread::spawn(move || {
            common::q(&mut c, &["SELECT", "1"]);
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                common::int(&mut c, &["DEL", "k"]);
                common::int(&mut c, &["SADD", "k", "b"]);
                let card = common::int(&mut c, &["SCARD", "k"]);
                let members = common::sorted(&mut c, &["SMEMBERS", "k"]);
                if card != members.len() as i64 {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
                rounds += 1;
            }
            rounds
        }));
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    movers.into_iter().for_each(|m| m.join().unwrap());
    let rounds: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(rounds > 100, "{rounds} rounds");
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "SCARD and SMEMBERS disagreed"
    );
    let mut c = s.conn();
    common::q(&mut c, &["SELECT", "1"]);
    let members = common::sorted(&mut c, &["SMEMBERS", "k"]);
    assert_eq!(common::int(&mut c, &["SCARD", "k"]), members.len() as i64);
}

/// After a FLUSHALL, or started on an empty directory, the server records
/// every key it writes and answers a cache miss on a key it never wrote
/// as absent without reading RocksDB. Every read here stays exact with a
/// 64 KB cache, far smaller than the keys: keys evicted from it, a value
/// too large to keep, deleted and expired keys.
#[test]
fn keys_stay_exact_when_the_cache_drops_them() {
    let mut s = Server::start(1, &["--hot-cache-size", "64kb"]);
    let mut c = s.conn();
    let check = |c: &mut redis::Connection, round: &str| {
        for i in 0..1500 {
            let _: () = c.set(format!("k{i}"), format!("{round}{i:0100}")).unwrap();
        }
        for i in (0..1500).step_by(7) {
            let v: Option<String> = c.get(format!("k{i}")).unwrap();
            assert_eq!(v, Some(format!("{round}{i:0100}")), "k{i} ({round})");
        }
        let n: i64 = c.incr(format!("k{}", 1500), 1).unwrap();
        assert_eq!(n, 1, "a new counter ({round})");
        let _: () = c.set("big", "b".repeat(20_000)).unwrap();
        let big: String = c.get("big").unwrap();
        assert_eq!(big.len(), 20_000, "larger than an eighth of the cache");
    };
    check(&mut c, "fresh");
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let _: () = c.set("small", "1").unwrap();
    let _: () = c.set("big", "b".repeat(20_000)).unwrap();
    let big: String = c.get("big").unwrap();
    assert_eq!(big.len(), 20_000, "a value too large to cache is read back");
    let n: i64 = c.del("small").unwrap();
    assert_eq!(n, 1);
    assert_eq!(c.get::<_, Option<String>>("small").unwrap(), None);
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let _: () = c.set_ex("soon", "x", 1).unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(c.get::<_, Option<String>>("soon").unwrap(), None, "expired");
    let n: i64 = c.incr("soon", 5).unwrap();
    assert_eq!(n, 5);
    check(&mut c, "flushed");
    // on restart nothing is cached and the directory is not empty
    s.terminate();
    s.launch();
    let mut c = s.conn();
    let v: Option<String> = c.get("k7").unwrap();
    assert_eq!(v, Some(format!("flushed{:0100}", 7)));
    assert_eq!(c.get::<_, i64>("soon").unwrap(), 5);
}
