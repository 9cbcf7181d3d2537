//! Hash commands against the real server (two shards: "foo" and "bar" live
//! on different shards).
mod common;
use common::{bulk, cmd, int, q_err, scan_all, sorted, strings, Raw, Server, WRONGTYPE};

fn server() -> Server {
    Server::start(2, &[])
}

/// HGETALL as sorted (field, value) pairs.
fn entries(c: &mut redis::Connection, key: &str) -> Vec<(String, String)> {
    let flat = strings(c, &["HGETALL", key]);
    let mut pairs: Vec<(String, String)> = flat
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    pairs.sort();
    pairs
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect()
}

#[test]
fn set_get_delete() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        assert_eq!(int(&mut c, &["HSET", key, "a", "1", "b", "2"]), 2);
        assert_eq!(int(&mut c, &["HSET", key, "a", "x", "c", "3", "c", "4"]), 1);
        assert_eq!(bulk(&mut c, &["HGET", key, "a"]).as_deref(), Some("x"));
        assert_eq!(bulk(&mut c, &["HGET", key, "c"]).as_deref(), Some("4"));
        assert_eq!(bulk(&mut c, &["HGET", key, "zz"]), None);
        assert_eq!(int(&mut c, &["HLEN", key]), 3);
        // fields already holding the value are not rewritten; a field
        // given twice ends with its last value, even the one it had
        assert_eq!(int(&mut c, &["HSET", key, "b", "2", "b", "9", "b", "2"]), 0);
        assert_eq!(int(&mut c, &["HSET", key, "b", "7", "b", "2"]), 0);
        assert_eq!(bulk(&mut c, &["HGET", key, "b"]).as_deref(), Some("2"));
        assert_eq!(
            entries(&mut c, key),
            pairs(&[("a", "x"), ("b", "2"), ("c", "4")])
        );
        assert_eq!(sorted(&mut c, &["HKEYS", key]), ["a", "b", "c"]);
        assert_eq!(sorted(&mut c, &["HVALS", key]), ["2", "4", "x"]);
        let got: Vec<Option<String>> = cmd(&["HMGET", key, "a", "zz", "b"]).query(&mut c).unwrap();
        assert_eq!(got, [Some("x".into()), None, Some("2".into())]);
        assert_eq!(int(&mut c, &["HSETNX", key, "a", "y"]), 0);
        assert_eq!(int(&mut c, &["HSETNX", key, "d", "y"]), 1);
        assert_eq!(int(&mut c, &["HLEN", key]), 4);
        assert_eq!(int(&mut c, &["HSTRLEN", key, "d"]), 1);
        assert_eq!(int(&mut c, &["HSTRLEN", key, "zz"]), 0);
        assert_eq!(int(&mut c, &["HEXISTS", key, "d"]), 1);
        assert_eq!(int(&mut c, &["HEXISTS", key, "zz"]), 0);
        assert_eq!(
            bulk(&mut c, &["HMSET", key, "e", "5", "f", "6"]).as_deref(),
            Some("OK")
        );
        assert_eq!(int(&mut c, &["HLEN", key]), 6);
        assert_eq!(int(&mut c, &["HDEL", key, "a", "a", "zz", "b"]), 2);
        assert_eq!(int(&mut c, &["HLEN", key]), 4);
        // removing the last field removes the key
        assert_eq!(int(&mut c, &["HDEL", key, "c", "d", "e", "f"]), 4);
        assert_eq!(int(&mut c, &["EXISTS", key]), 0);
        assert_eq!(bulk(&mut c, &["TYPE", key]).as_deref(), Some("none"));
        assert_eq!(int(&mut c, &["HDEL", key, "a"]), 0);
    }
    // missing keys
    assert_eq!(int(&mut c, &["HLEN", "nokey"]), 0);
    assert!(strings(&mut c, &["HGETALL", "nokey"]).is_empty());
    assert!(strings(&mut c, &["HKEYS", "nokey"]).is_empty());
    assert!(strings(&mut c, &["HVALS", "nokey"]).is_empty());
    let got: Vec<Option<String>> = cmd(&["HMGET", "nokey", "a", "b"]).query(&mut c).unwrap();
    assert_eq!(got, [None, None]);
    // empty field names and values, binary data
    assert_eq!(int(&mut c, &["HSET", "h", "", ""]), 1);
    assert_eq!(bulk(&mut c, &["HGET", "h", ""]).as_deref(), Some(""));
    let added: i64 = redis::cmd("HSET")
        .arg("h")
        .arg(&b"\x00\xff"[..])
        .arg(&b"\r\n\x00"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(added, 1);
    let got: Vec<u8> = redis::cmd("HGET")
        .arg("h")
        .arg(&b"\x00\xff"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(got, b"\r\n\x00");
}

#[test]
fn counters() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["HINCRBY", "foo", "n", "5"]), 5);
    assert_eq!(int(&mut c, &["HINCRBY", "foo", "n", "-7"]), -2);
    assert_eq!(int(&mut c, &["HLEN", "foo"]), 1);
    assert_eq!(
        q_err(&mut c, &["HINCRBY", "foo", "n", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        int(
            &mut c,
            &["HSET", "foo", "s", "abc", "big", "9223372036854775807"]
        ),
        2
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBY", "foo", "s", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBY", "foo", "big", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        bulk(&mut c, &["HINCRBYFLOAT", "bar", "f", "1.5"]).as_deref(),
        Some("1.5")
    );
    assert_eq!(
        bulk(&mut c, &["HINCRBYFLOAT", "bar", "f", "2"]).as_deref(),
        Some("3.5")
    );
    assert_eq!(
        bulk(&mut c, &["HINCRBYFLOAT", "bar", "f", "-3.5"]).as_deref(),
        Some("0")
    );
    assert_eq!(int(&mut c, &["HSET", "bar", "e", "1e3", "s", "x"]), 2);
    assert_eq!(
        bulk(&mut c, &["HINCRBYFLOAT", "bar", "e", "1"]).as_deref(),
        Some("1001")
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBYFLOAT", "bar", "s", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBYFLOAT", "bar", "f", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBYFLOAT", "bar", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
    // a long double, as in Redis: past a double's range, not past 1.19e4932
    assert_eq!(int(&mut c, &["HSET", "bar", "huge", "1.7e308"]), 1);
    assert!(bulk(&mut c, &["HINCRBYFLOAT", "bar", "huge", "1.7e308"])
        .unwrap()
        .starts_with("340000000000000000006273556050395193590540427779388267466087"));
    assert_eq!(int(&mut c, &["HSET", "bar", "huge", "1e4932"]), 0);
    assert_eq!(
        q_err(&mut c, &["HINCRBYFLOAT", "bar", "huge", "1e4932"]),
        "ERR increment would produce NaN or Infinity"
    );
    // integer-valued fields accept float increments and vice versa
    assert_eq!(
        bulk(&mut c, &["HINCRBYFLOAT", "foo", "n", "0.5"]).as_deref(),
        Some("-1.5")
    );
    assert_eq!(
        q_err(&mut c, &["HINCRBY", "foo", "n", "1"]),
        "ERR hash value is not an integer"
    );
    // a TTL survives an increment
    assert_eq!(int(&mut c, &["EXPIRE", "foo", "100"]), 1);
    assert_eq!(int(&mut c, &["HINCRBY", "foo", "m", "1"]), 1);
    assert!(int(&mut c, &["TTL", "foo"]) > 0);
}

#[test]
fn errors() {
    let s = server();
    let mut c = s.conn();
    let arity: &[&[&str]] = &[
        &["HSET", "h", "f"],
        &["HMSET", "h", "f"],
        &["HSETNX", "h", "f"],
        &["HGET", "h"],
        &["HMGET", "h"],
        &["HDEL", "h"],
        &["HLEN"],
        &["HSTRLEN", "h"],
        &["HEXISTS", "h"],
        &["HGETALL"],
        &["HKEYS", "h", "x"],
        &["HVALS"],
        &["HINCRBY", "h", "f"],
        &["HINCRBYFLOAT", "h", "f"],
        &["HSCAN", "h"],
        &["HRANDFIELD"],
    ];
    for args in arity {
        assert_eq!(
            q_err(&mut c, args),
            format!(
                "ERR wrong number of arguments for '{}' command",
                args[0].to_lowercase()
            ),
            "{args:?}"
        );
    }
    // odd field/value lists
    assert_eq!(
        q_err(&mut c, &["HSET", "h", "a", "1", "b"]),
        "ERR wrong number of arguments for 'hset' command"
    );
    assert_eq!(
        q_err(&mut c, &["HMSET", "h", "a", "1", "b"]),
        "ERR wrong number of arguments for 'hmset' command"
    );
    assert_eq!(int(&mut c, &["EXISTS", "h"]), 0);
    let _: () = cmd(&["SET", "str", "x"]).query(&mut c).unwrap();
    let wrong: &[&[&str]] = &[
        &["HSET", "str", "f", "v"],
        &["HMSET", "str", "f", "v"],
        &["HSETNX", "str", "f", "v"],
        &["HGET", "str", "f"],
        &["HMGET", "str", "f"],
        &["HDEL", "str", "f"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "f"],
        &["HEXISTS", "str", "f"],
        &["HGETALL", "str"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HINCRBY", "str", "f", "1"],
        &["HINCRBYFLOAT", "str", "f", "1"],
        &["HSCAN", "str", "0"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "0"],
    ];
    for args in wrong {
        assert_eq!(q_err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(bulk(&mut c, &["GET", "str"]).as_deref(), Some("x"));
    // and the other way round
    assert_eq!(int(&mut c, &["HSET", "h", "f", "v"]), 1);
    assert_eq!(q_err(&mut c, &["GET", "h"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["SADD", "h", "m"]), WRONGTYPE);
}

#[test]
fn scan() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        let mut expected = Vec::new();
        for i in 0..250 {
            let (f, v) = (format!("f{i}"), format!("v{i}"));
            assert_eq!(int(&mut c, &["HSET", key, &f, &v]), 1);
            expected.push((f, v));
        }
        expected.sort();
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        let mut rounds = 0;
        loop {
            let (next, items): (String, Vec<String>) = cmd(&["HSCAN", key, &cursor, "COUNT", "7"])
                .query(&mut c)
                .unwrap();
            assert!(items.len() <= 14);
            seen.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
            rounds += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert!(rounds >= 250 / 7);
        seen.sort();
        assert_eq!(seen, expected);
        // MATCH filters fields
        let mut matched = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, items): (String, Vec<String>) =
                cmd(&["HSCAN", key, &cursor, "MATCH", "f1?", "COUNT", "100"])
                    .query(&mut c)
                    .unwrap();
            matched.extend(items.chunks(2).map(|p| p[0].clone()));
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        matched.sort();
        let want: Vec<String> = (10..20).map(|i| format!("f{i}")).collect();
        assert_eq!(matched, want);
    }
    let (next, items): (String, Vec<String>) = cmd(&["HSCAN", "nokey", "0"]).query(&mut c).unwrap();
    assert_eq!((next.as_str(), items.len()), ("0", 0));
    assert_eq!(q_err(&mut c, &["HSCAN", "foo", "x"]), "ERR invalid cursor");
    assert_eq!(
        q_err(&mut c, &["HSCAN", "foo", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["HSCAN", "foo", "0", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["HSCAN", "foo", "0", "MATCH"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["HSCAN", "foo", "0", "TYPE", "hash"]),
        "ERR syntax error"
    );
}

#[test]
fn random_fields() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(bulk(&mut c, &["HRANDFIELD", "foo"]), None);
    assert!(strings(&mut c, &["HRANDFIELD", "foo", "3"]).is_empty());
    assert!(strings(&mut c, &["HRANDFIELD", "foo", "-3", "WITHVALUES"]).is_empty());
    assert_eq!(
        int(&mut c, &["HSET", "foo", "a", "1", "b", "2", "c", "3"]),
        3
    );
    let one = bulk(&mut c, &["HRANDFIELD", "foo"]).unwrap();
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert!(strings(&mut c, &["HRANDFIELD", "foo", "0"]).is_empty());
    let two = strings(&mut c, &["HRANDFIELD", "foo", "2"]);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(
        sorted(&mut c, &["HRANDFIELD", "foo", "10"]),
        ["a", "b", "c"]
    );
    let many = strings(&mut c, &["HRANDFIELD", "foo", "-20"]);
    assert_eq!(many.len(), 20);
    assert!(many.iter().all(|f| ["a", "b", "c"].contains(&f.as_str())));
    let with = strings(&mut c, &["HRANDFIELD", "foo", "-5", "WITHVALUES"]);
    assert_eq!(with.len(), 10);
    for p in with.chunks(2) {
        assert_eq!(
            bulk(&mut c, &["HGET", "foo", &p[0]]).as_deref(),
            Some(p[1].as_str())
        );
    }
    let all = strings(&mut c, &["HRANDFIELD", "foo", "3", "WITHVALUES"]);
    let mut all: Vec<(String, String)> = all
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    all.sort();
    assert_eq!(all, pairs(&[("a", "1"), ("b", "2"), ("c", "3")]));
    assert_eq!(
        q_err(&mut c, &["HRANDFIELD", "foo", "1", "WITHVALUE"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["HRANDFIELD", "foo", "1", "WITHVALUES", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["HRANDFIELD", "foo", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["HRANDFIELD", "foo", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        q_err(
            &mut c,
            &["HRANDFIELD", "foo", "4611686018427387904", "WITHVALUES"]
        ),
        "ERR value is out of range"
    );
    // a large hash: distinct picks stay distinct and are real fields
    let args: Vec<String> = (0..20_000)
        .flat_map(|i| [format!("k{i}"), i.to_string()])
        .collect();
    let mut hset = redis::cmd("HSET");
    hset.arg("bar").arg(&args);
    assert_eq!(hset.query::<i64>(&mut c).unwrap(), 20_000);
    let picks = strings(&mut c, &["HRANDFIELD", "bar", "100", "WITHVALUES"]);
    let fields: std::collections::HashSet<&String> = picks.iter().step_by(2).collect();
    assert_eq!(fields.len(), 100);
    for p in picks.chunks(2) {
        assert_eq!(format!("k{}", p[1]), p[0]);
    }
    assert_eq!(strings(&mut c, &["HRANDFIELD", "bar", "-300"]).len(), 300);
}

#[test]
fn resp3_shapes() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["HSET", "foo", "a", "1"]), 1);
    let mut r = Raw::connect(s.port);
    r.send(b"HELLO 3\r\n");
    r.read_until(b"modules\r\n*0\r\n");
    r.roundtrip(b"HGETALL foo\r\n", b"%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    r.roundtrip(b"HGETALL nokey\r\n", b"%0\r\n");
    r.roundtrip(
        b"HRANDFIELD foo 1 WITHVALUES\r\n",
        b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    r.roundtrip(
        b"HRANDFIELD foo -2 WITHVALUES\r\n",
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    r.roundtrip(b"HRANDFIELD nokey\r\n", b"_\r\n");
    r.roundtrip(
        b"HSCAN foo 0\r\n",
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    // RESP2: flat
    let mut r2 = Raw::connect(s.port);
    r2.roundtrip(
        b"HRANDFIELD foo 1 WITHVALUES\r\n",
        b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    r2.roundtrip(b"HGETALL foo\r\n", b"*2\r\n$1\r\na\r\n$1\r\n1\r\n");
}

#[test]
fn huge_hash_delete_is_instant_and_name_reusable() {
    let s = server();
    let mut c = s.conn();
    for chunk in 0..100 {
        let args: Vec<String> = (chunk * 1000..(chunk + 1) * 1000)
            .flat_map(|i| [format!("field:{i}"), format!("value:{i}")])
            .collect();
        let mut hset = redis::cmd("HSET");
        hset.arg("foo").arg(&args);
        assert_eq!(hset.query::<i64>(&mut c).unwrap(), 1000);
    }
    assert_eq!(int(&mut c, &["HLEN", "foo"]), 100_000);
    assert_eq!(
        bulk(&mut c, &["HGET", "foo", "field:99999"]).as_deref(),
        Some("value:99999")
    );
    let t = std::time::Instant::now();
    assert_eq!(int(&mut c, &["DEL", "foo"]), 1);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(int(&mut c, &["HLEN", "foo"]), 0);
    assert_eq!(bulk(&mut c, &["HGET", "foo", "field:1"]), None);
    // a new hash under the same name starts empty
    assert_eq!(int(&mut c, &["HSET", "foo", "x", "1"]), 1);
    assert_eq!(int(&mut c, &["HLEN", "foo"]), 1);
    assert_eq!(entries(&mut c, "foo"), pairs(&[("x", "1")]));
    assert_eq!(bulk(&mut c, &["HGET", "foo", "field:1"]), None);
    let (_, items): (String, Vec<String>) = cmd(&["HSCAN", "foo", "0", "COUNT", "1000"])
        .query(&mut c)
        .unwrap();
    assert_eq!(items, ["x", "1"]);
    // overwriting with another type also drops the old fields
    let _: () = cmd(&["SET", "foo", "s"]).query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["HSET", "foo2", "a", "b"]), 1);
    let _: () = cmd(&["DEL", "foo"]).query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["HSET", "foo", "y", "2"]), 1);
    assert_eq!(entries(&mut c, "foo"), pairs(&[("y", "2")]));
}

#[test]
fn generic_commands_on_hashes() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["HSET", "foo", "a", "1", "b", "2"]), 2);
    assert_eq!(bulk(&mut c, &["TYPE", "foo"]).as_deref(), Some("hash"));
    assert_eq!(
        bulk(&mut c, &["OBJECT", "ENCODING", "foo"]).as_deref(),
        Some("hashtable")
    );
    // RENAME across shards keeps the fields
    assert_eq!(
        bulk(&mut c, &["RENAME", "foo", "bar"]).as_deref(),
        Some("OK")
    );
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(entries(&mut c, "bar"), pairs(&[("a", "1"), ("b", "2")]));
    assert_eq!(int(&mut c, &["HLEN", "bar"]), 2);
    // COPY, then the copies are independent
    assert_eq!(int(&mut c, &["COPY", "bar", "foo"]), 1);
    assert_eq!(int(&mut c, &["HSET", "foo", "c", "3"]), 1);
    assert_eq!(int(&mut c, &["HLEN", "bar"]), 2);
    assert_eq!(int(&mut c, &["HLEN", "foo"]), 3);
    assert_eq!(int(&mut c, &["COPY", "foo", "{foo}x"]), 1);
    assert_eq!(int(&mut c, &["HLEN", "{foo}x"]), 3);
    // SCAN TYPE
    let _: () = cmd(&["SET", "str", "x"]).query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["SADD", "set", "m"]), 1);
    let found = scan_all(&mut c, &["TYPE", "hash"]);
    assert_eq!(found, ["bar", "foo", "{foo}x"]);
    // EXPIRE removes the whole hash
    assert_eq!(int(&mut c, &["PEXPIRE", "bar", "100"]), 1);
    assert!(int(&mut c, &["PTTL", "bar"]) > 0);
    assert_eq!(int(&mut c, &["HSET", "bar", "z", "9"]), 1);
    assert!(int(&mut c, &["PTTL", "bar"]) > 0, "HSET keeps the TTL");
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(int(&mut c, &["EXISTS", "bar"]), 0);
    assert_eq!(int(&mut c, &["HLEN", "bar"]), 0);
    assert_eq!(int(&mut c, &["HSET", "bar", "n", "1"]), 1);
    assert_eq!(entries(&mut c, "bar"), pairs(&[("n", "1")]));
    assert_eq!(int(&mut c, &["TTL", "bar"]), -1);
    assert_eq!(int(&mut c, &["PERSIST", "foo"]), 0);
}

#[test]
fn survives_kill9_with_sync_always() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        for key in ["foo", "bar"] {
            assert_eq!(int(&mut c, &["HSET", key, "a", "1", "b", "2", "c", "3"]), 3);
            assert_eq!(int(&mut c, &["HDEL", key, "b"]), 1);
            assert_eq!(int(&mut c, &["HINCRBY", key, "a", "10"]), 11);
        }
        assert_eq!(int(&mut c, &["HSET", "gone", "x", "1"]), 1);
        assert_eq!(int(&mut c, &["HDEL", "gone", "x"]), 1);
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        assert_eq!(entries(&mut c, key), pairs(&[("a", "11"), ("c", "3")]));
        assert_eq!(int(&mut c, &["HLEN", key]), 2);
    }
    assert_eq!(int(&mut c, &["EXISTS", "gone"]), 0);
}

/// Fields too large to keep in a full hot cache are remembered by their
/// presence alone: HSET still tells new fields from updated ones, writes a
/// changed value, and reads return what was written last, from either
/// core (two shards, a 256 KB cache holding about a fifth of the fields).
#[test]
fn large_fields_beyond_a_full_hot_cache_keep_exact_replies() {
    let s = Server::start(2, &["--hot-cache-size", "256kb"]);
    let mut c = s.conn();
    let value = |round: &str, i: usize| format!("{round}{i:04}-{}", "v".repeat(1000));
    let field = |i: usize| format!("field:{i}");
    let n = 600;
    for i in 0..n {
        let added = int(&mut c, &["HSET", "big", &field(i), &value("a", i)]);
        assert_eq!(added, 1, "{} is new", field(i));
    }
    // the shard holding "big" has half the cache, and it is full
    let used = common::info_number(&mut c, "hot_cache_used");
    assert!(used > 96 << 10, "hot cache used: {used}");
    for round in ["a", "b"] {
        for i in 0..n {
            let added = int(&mut c, &["HSET", "big", &field(i), &value(round, i)]);
            assert_eq!(added, 0, "{} exists (round {round})", field(i));
        }
    }
    assert_eq!(int(&mut c, &["HSETNX", "big", &field(7), "x"]), 0);
    assert_eq!(int(&mut c, &["HEXISTS", "big", &field(n)]), 0);
    assert_eq!(int(&mut c, &["HLEN", "big"]), n as i64);
    // several connections: some of them run on the core without the key
    let mut others: Vec<_> = (0..4).map(|_| s.conn()).collect();
    for (k, o) in others.iter_mut().enumerate() {
        for i in (k..n).step_by(3) {
            assert_eq!(
                bulk(o, &["HGET", "big", &field(i)]),
                Some(value("b", i)),
                "{} read back",
                field(i)
            );
        }
    }
    for i in (0..n).step_by(2) {
        assert_eq!(int(&mut c, &["HDEL", "big", &field(i)]), 1);
    }
    assert_eq!(int(&mut c, &["HLEN", "big"]), n as i64 / 2);
    assert_eq!(bulk(&mut c, &["HGET", "big", &field(0)]), None);
    assert_eq!(int(&mut c, &["HSET", "big", &field(0), "back"]), 1);
    assert_eq!(
        bulk(&mut c, &["HGET", "big", &field(1)]),
        Some(value("b", 1))
    );
}

/// A field whose entry fits the cache's size limit but not the share of
/// the map piece it lands in is refused by that piece: the hash, new and
/// so known field by field, must stop answering misses as absent.
#[test]
fn a_field_the_cache_refuses_is_still_found() {
    // 256 KB per shard, in pieces of 32 KB: a 3,500-byte field with a
    // 28,000-byte value costs about 32,400 bytes, over a piece's share
    let s = Server::start(2, &["--hot-cache-size", "512kb"]);
    let mut c = s.conn();
    let field = "f".repeat(3500);
    let value = "v".repeat(28_000);
    assert_eq!(int(&mut c, &["HSET", "h", &field, &value]), 1);
    for _ in 0..2 {
        assert_eq!(
            bulk(&mut c, &["HGET", "h", &field]).as_deref(),
            Some(&*value)
        );
        assert_eq!(int(&mut c, &["HEXISTS", "h", &field]), 1);
    }
    assert_eq!(int(&mut c, &["HSET", "h", &field, "x"]), 0);
    assert_eq!(int(&mut c, &["HLEN", "h"]), 1);
}
