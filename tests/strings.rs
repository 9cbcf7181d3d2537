//! String and bitmap commands against the real server (two shards).
mod common;
use common::{q_err, Server};
use redis::Commands;

fn server() -> Server {
    Server::start(2, &[])
}

#[test]
fn set_get_options() {
    let s = server();
    let mut c = s.conn();
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    assert_eq!(c.get::<_, Option<String>>("missing").unwrap(), None);
    // NX / XX
    let r: Option<String> = redis::cmd("SET")
        .arg("k")
        .arg("w")
        .arg("NX")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, None);
    let r: Option<String> = redis::cmd("SET")
        .arg("k")
        .arg("w")
        .arg("XX")
        .query(&mut c)
        .unwrap();
    assert_eq!(r.as_deref(), Some("OK"));
    let r: Option<String> = redis::cmd("SET")
        .arg("nx1")
        .arg("w")
        .arg("XX")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, None);
    // GET option returns old value
    let r: Option<String> = redis::cmd("SET")
        .arg("k")
        .arg("z")
        .arg("GET")
        .query(&mut c)
        .unwrap();
    assert_eq!(r.as_deref(), Some("w"));
    // EX / PX / KEEPTTL
    let _: () = redis::cmd("SET")
        .arg("t")
        .arg("1")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let ttl: i64 = c.ttl("t").unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    let _: () = redis::cmd("SET")
        .arg("t")
        .arg("2")
        .arg("KEEPTTL")
        .query(&mut c)
        .unwrap();
    assert!(c.ttl::<_, i64>("t").unwrap() > 0);
    let _: () = c.set("t", "3").unwrap();
    assert_eq!(c.ttl::<_, i64>("t").unwrap(), -1);
    let _: () = redis::cmd("SET")
        .arg("p")
        .arg("1")
        .arg("PX")
        .arg(100_000)
        .query(&mut c)
        .unwrap();
    assert!(c.pttl::<_, i64>("p").unwrap() > 90_000);
    // errors
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "NX", "XX"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "EX", "10", "PX", "10"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "EX", "0"]),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "EX", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["SET", "k"]),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        q_err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
}

#[test]
fn counters_and_overflow() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(c.incr::<_, _, i64>("n", 1).unwrap(), 1);
    assert_eq!(redis::cmd("INCR").arg("n").query::<i64>(&mut c).unwrap(), 2);
    assert_eq!(redis::cmd("DECR").arg("n").query::<i64>(&mut c).unwrap(), 1);
    assert_eq!(
        redis::cmd("INCRBY")
            .arg("n")
            .arg(10)
            .query::<i64>(&mut c)
            .unwrap(),
        11
    );
    assert_eq!(
        redis::cmd("DECRBY")
            .arg("n")
            .arg(20)
            .query::<i64>(&mut c)
            .unwrap(),
        -9
    );
    let _: () = c.set("s", "abc").unwrap();
    assert_eq!(
        q_err(&mut c, &["INCR", "s"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["INCRBY", "n", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    let _: () = c.set("big", i64::MAX.to_string()).unwrap();
    assert_eq!(
        q_err(&mut c, &["INCR", "big"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        q_err(&mut c, &["DECRBY", "n", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    assert_eq!(
        redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("10.5")
            .query::<String>(&mut c)
            .unwrap(),
        "10.5"
    );
    assert_eq!(
        redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("0.25")
            .query::<String>(&mut c)
            .unwrap(),
        "10.75"
    );
    assert_eq!(
        redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("-10.75")
            .query::<String>(&mut c)
            .unwrap(),
        "0"
    );
    assert_eq!(
        q_err(&mut c, &["INCRBYFLOAT", "s", "1"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(&mut c, &["INCRBYFLOAT", "f", "inf"]),
        "ERR increment would produce NaN or Infinity"
    );
    // INCR keeps the TTL
    let _: () = redis::cmd("SET")
        .arg("ttlc")
        .arg("5")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("INCR").arg("ttlc").query(&mut c).unwrap();
    assert!(c.ttl::<_, i64>("ttlc").unwrap() > 0);
}

#[test]
fn wrong_type_is_reported() {
    let s = server();
    let mut c = s.conn();
    let _: () = c.set("str", "x").unwrap();
    // no collection types yet: a string is the only value; WRONGTYPE comes
    // from collection commands later. GETSET/GETDEL on missing keys:
    assert_eq!(
        redis::cmd("GETSET")
            .arg("gs")
            .arg("1")
            .query::<Option<String>>(&mut c)
            .unwrap(),
        None
    );
    assert_eq!(
        redis::cmd("GETSET")
            .arg("gs")
            .arg("2")
            .query::<Option<String>>(&mut c)
            .unwrap()
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        redis::cmd("GETDEL")
            .arg("gs")
            .query::<Option<String>>(&mut c)
            .unwrap()
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        redis::cmd("GETDEL")
            .arg("gs")
            .query::<Option<String>>(&mut c)
            .unwrap(),
        None
    );
    assert_eq!(
        redis::cmd("TYPE")
            .arg("str")
            .query::<String>(&mut c)
            .unwrap(),
        "string"
    );
    assert_eq!(
        redis::cmd("TYPE")
            .arg("nope")
            .query::<String>(&mut c)
            .unwrap(),
        "none"
    );
}

#[test]
fn ranges_append_strlen() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(
        redis::cmd("APPEND")
            .arg("a")
            .arg("Hello")
            .query::<i64>(&mut c)
            .unwrap(),
        5
    );
    assert_eq!(
        redis::cmd("APPEND")
            .arg("a")
            .arg(" World")
            .query::<i64>(&mut c)
            .unwrap(),
        11
    );
    assert_eq!(
        redis::cmd("STRLEN").arg("a").query::<i64>(&mut c).unwrap(),
        11
    );
    assert_eq!(
        redis::cmd("STRLEN").arg("zz").query::<i64>(&mut c).unwrap(),
        0
    );
    let gr = |c: &mut redis::Connection, s: i64, e: i64| -> String {
        redis::cmd("GETRANGE")
            .arg("a")
            .arg(s)
            .arg(e)
            .query(c)
            .unwrap()
    };
    assert_eq!(gr(&mut c, 0, 4), "Hello");
    assert_eq!(gr(&mut c, -5, -1), "World");
    assert_eq!(gr(&mut c, 0, -100), "H");
    assert_eq!(gr(&mut c, -1, -5), "");
    assert_eq!(gr(&mut c, 5, 3), "");
    assert_eq!(gr(&mut c, 0, 1000), "Hello World");
    assert_eq!(
        redis::cmd("SETRANGE")
            .arg("a")
            .arg(6)
            .arg("Redis")
            .query::<i64>(&mut c)
            .unwrap(),
        11
    );
    assert_eq!(c.get::<_, String>("a").unwrap(), "Hello Redis");
    assert_eq!(
        redis::cmd("SETRANGE")
            .arg("pad")
            .arg(3)
            .arg("x")
            .query::<i64>(&mut c)
            .unwrap(),
        4
    );
    assert_eq!(c.get::<_, Vec<u8>>("pad").unwrap(), b"\0\0\0x");
    assert_eq!(
        q_err(&mut c, &["SETRANGE", "a", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        q_err(&mut c, &["SETRANGE", "a", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
}

#[test]
fn mset_mget_across_shards() {
    let s = server();
    let mut c = s.conn();
    let pairs: Vec<(String, String)> = (0..50)
        .map(|i| (format!("key:{i}"), format!("v{i}")))
        .collect();
    let _: () = c.mset(&pairs).unwrap();
    let keys: Vec<&str> = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .chain(["absent"])
        .collect();
    let vals: Vec<Option<String>> = c.mget(&keys).unwrap();
    for (i, v) in vals.iter().take(50).enumerate() {
        assert_eq!(v.as_deref(), Some(format!("v{i}").as_str()));
    }
    assert_eq!(vals[50], None);
    assert_eq!(
        redis::cmd("MSETNX")
            .arg("key:1")
            .arg("x")
            .arg("fresh")
            .arg("y")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(c.get::<_, Option<String>>("fresh").unwrap(), None);
    assert_eq!(
        redis::cmd("MSETNX")
            .arg("fresh")
            .arg("y")
            .arg("fresh2")
            .arg("z")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(c.get::<_, String>("fresh2").unwrap(), "z");
    assert_eq!(
        q_err(&mut c, &["MSET", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    // nil for other types, expired and absent keys, on both shards; short
    // values and long ones (held shared in the hot cache)
    let long = "L".repeat(3000);
    let _: () = c.set("m:short", "s").unwrap();
    let _: () = c.set("m:long", &long).unwrap();
    let _: () = c.rpush("m:list", "x").unwrap();
    let _: () = c.hset("m:hash", "f", "v").unwrap();
    let _: () = redis::cmd("SET")
        .arg("m:gone")
        .arg("v")
        .arg("PX")
        .arg(1)
        .query(&mut c)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let keys = [
        "m:short", "m:list", "m:long", "m:hash", "m:gone", "m:none", "m:long",
    ];
    let got: Vec<Option<String>> = c.mget(&keys).unwrap();
    let want = [
        Some("s"),
        None,
        Some(long.as_str()),
        None,
        None,
        None,
        Some(&long),
    ];
    assert_eq!(got, want.map(|v| v.map(str::to_string)));
}

#[test]
fn setex_getex_setnx() {
    let s = server();
    let mut c = s.conn();
    let _: () = redis::cmd("SETEX")
        .arg("e")
        .arg(50)
        .arg("v")
        .query(&mut c)
        .unwrap();
    assert!(c.ttl::<_, i64>("e").unwrap() > 40);
    assert_eq!(
        q_err(&mut c, &["SETEX", "e", "-1", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    let _: () = redis::cmd("PSETEX")
        .arg("pe")
        .arg(50000)
        .arg("v")
        .query(&mut c)
        .unwrap();
    assert!(c.pttl::<_, i64>("pe").unwrap() > 40000);
    let v: String = redis::cmd("GETEX")
        .arg("e")
        .arg("PERSIST")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "v");
    assert_eq!(c.ttl::<_, i64>("e").unwrap(), -1);
    let _: String = redis::cmd("GETEX")
        .arg("e")
        .arg("EX")
        .arg(30)
        .query(&mut c)
        .unwrap();
    assert!(c.ttl::<_, i64>("e").unwrap() > 20);
    assert_eq!(
        redis::cmd("SETNX")
            .arg("e")
            .arg("x")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("SETNX")
            .arg("new")
            .arg("x")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
}

#[test]
fn bitmaps() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(
        redis::cmd("SETBIT")
            .arg("b")
            .arg(7)
            .arg(1)
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(
        redis::cmd("SETBIT")
            .arg("b")
            .arg(7)
            .arg(1)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("GETBIT")
            .arg("b")
            .arg(7)
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        redis::cmd("GETBIT")
            .arg("b")
            .arg(100)
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
    assert_eq!(c.get::<_, Vec<u8>>("b").unwrap(), vec![1u8]);
    let _: () = c.set("bc", "foobar").unwrap();
    assert_eq!(
        redis::cmd("BITCOUNT")
            .arg("bc")
            .query::<i64>(&mut c)
            .unwrap(),
        26
    );
    assert_eq!(
        redis::cmd("BITCOUNT")
            .arg("bc")
            .arg(0)
            .arg(0)
            .query::<i64>(&mut c)
            .unwrap(),
        4
    );
    assert_eq!(
        redis::cmd("BITCOUNT")
            .arg("bc")
            .arg(1)
            .arg(1)
            .query::<i64>(&mut c)
            .unwrap(),
        6
    );
    assert_eq!(
        redis::cmd("BITCOUNT")
            .arg("bc")
            .arg(5)
            .arg(30)
            .arg("BIT")
            .query::<i64>(&mut c)
            .unwrap(),
        17
    );
    let _: () = c.set("bp", vec![0xffu8, 0xf0, 0x00]).unwrap();
    assert_eq!(
        redis::cmd("BITPOS")
            .arg("bp")
            .arg(0)
            .query::<i64>(&mut c)
            .unwrap(),
        12
    );
    let _: () = c.set("ones", vec![0xffu8, 0xff]).unwrap();
    assert_eq!(
        redis::cmd("BITPOS")
            .arg("ones")
            .arg(0)
            .query::<i64>(&mut c)
            .unwrap(),
        16
    );
    assert_eq!(
        redis::cmd("BITPOS")
            .arg("ones")
            .arg(0)
            .arg(0)
            .arg(-1)
            .query::<i64>(&mut c)
            .unwrap(),
        -1
    );
    assert_eq!(
        redis::cmd("BITPOS")
            .arg("nokey")
            .arg(1)
            .query::<i64>(&mut c)
            .unwrap(),
        -1
    );
    assert_eq!(
        q_err(&mut c, &["SETBIT", "b", "-1", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["SETBIT", "b", "1", "2"]),
        "ERR bit is not an integer or out of range"
    );
    // BITOP across shards
    let _: () = c.set("x1", "abc").unwrap();
    let _: () = c.set("y9", "a").unwrap();
    assert_eq!(
        redis::cmd("BITOP")
            .arg("OR")
            .arg("dest")
            .arg("x1")
            .arg("y9")
            .query::<i64>(&mut c)
            .unwrap(),
        3
    );
    assert_eq!(c.get::<_, String>("dest").unwrap(), "abc");
    assert_eq!(
        redis::cmd("BITOP")
            .arg("NOT")
            .arg("dest")
            .arg("ones")
            .query::<i64>(&mut c)
            .unwrap(),
        2
    );
    assert_eq!(c.get::<_, Vec<u8>>("dest").unwrap(), vec![0u8, 0]);
    assert_eq!(
        q_err(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
}

/// GET replies from the cached record (a long value straight from the
/// cache's shared copy, a short one from inside the entry) and, after a
/// restart, from RocksDB: every length across the inline boundary (a
/// 9-byte header plus 13 value bytes fit in the entry), with the keyspace
/// hits and misses counted as before. One shard serves all keys itself;
/// two shards read half of them from the other core.
#[test]
fn get_returns_every_length_from_cache_and_disk() {
    for shards in [1, 2] {
        let mut s = Server::start(shards, &[]);
        let mut c = s.conn();
        let lengths = [0usize, 1, 12, 13, 14, 15, 22, 23, 100, 1024, 70_000];
        let value = |n: usize| (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
        for &n in &lengths {
            let _: () = c.set(format!("k{n}"), value(n)).unwrap();
        }
        let _: () = redis::cmd("SET")
            .arg("gone")
            .arg("x".repeat(40))
            .arg("PX")
            .arg(1)
            .query(&mut c)
            .unwrap();
        let _: i64 = c.rpush("list", "a").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        for round in 0..2 {
            let hits = common::info_number(&mut c, "keyspace_hits");
            let misses = common::info_number(&mut c, "keyspace_misses");
            for &n in &lengths {
                let got: Vec<u8> = c.get(format!("k{n}")).unwrap();
                assert_eq!(got, value(n), "{shards} shards, round {round}, {n} bytes");
            }
            assert_eq!(c.get::<_, Option<Vec<u8>>>("gone").unwrap(), None);
            assert_eq!(c.get::<_, Option<Vec<u8>>>("never").unwrap(), None);
            let e = q_err(&mut c, &["GET", "list"]);
            assert!(e.starts_with("WRONGTYPE"), "{e}");
            let hits = common::info_number(&mut c, "keyspace_hits") - hits;
            let misses = common::info_number(&mut c, "keyspace_misses") - misses;
            assert_eq!(
                (hits, misses),
                (lengths.len() as u64 + 1, 2),
                "round {round}"
            );
            // the second round reads every record from RocksDB first
            s.kill9();
            s.launch();
            c = s.conn();
        }
    }
}
