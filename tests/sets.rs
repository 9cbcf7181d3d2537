//! Set commands against the real server (two shards: "foo" and "bar" live
//! on different shards; `{foo}x` lives with "foo").
mod common;
use common::{bulk, cmd, int, q_err, scan_all, sorted, strings, Raw, Server, WRONGTYPE};

fn server() -> Server {
    Server::start(2, &[])
}

fn members(c: &mut redis::Connection, key: &str) -> Vec<String> {
    sorted(c, &["SMEMBERS", key])
}

#[test]
fn add_remove_query() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        assert_eq!(int(&mut c, &["SADD", key, "a", "b", "a", "c"]), 3);
        assert_eq!(int(&mut c, &["SADD", key, "a", "d"]), 1);
        assert_eq!(int(&mut c, &["SADD", key, "d", "b", "d"]), 0);
        assert_eq!(int(&mut c, &["SCARD", key]), 4);
        assert_eq!(members(&mut c, key), ["a", "b", "c", "d"]);
        assert_eq!(int(&mut c, &["SISMEMBER", key, "a"]), 1);
        assert_eq!(int(&mut c, &["SISMEMBER", key, "z"]), 0);
        let got: Vec<i64> = cmd(&["SMISMEMBER", key, "a", "z", "d"])
            .query(&mut c)
            .unwrap();
        assert_eq!(got, [1, 0, 1]);
        assert_eq!(int(&mut c, &["SREM", key, "a", "a", "z"]), 1);
        assert_eq!(int(&mut c, &["SCARD", key]), 3);
        // removing the last member removes the key
        assert_eq!(int(&mut c, &["SREM", key, "b", "c", "d"]), 3);
        assert_eq!(int(&mut c, &["EXISTS", key]), 0);
        assert_eq!(bulk(&mut c, &["TYPE", key]).as_deref(), Some("none"));
        assert_eq!(int(&mut c, &["SREM", key, "a"]), 0);
    }
    assert_eq!(int(&mut c, &["SCARD", "nokey"]), 0);
    assert!(strings(&mut c, &["SMEMBERS", "nokey"]).is_empty());
    assert_eq!(int(&mut c, &["SISMEMBER", "nokey", "a"]), 0);
    let got: Vec<i64> = cmd(&["SMISMEMBER", "nokey", "a", "b"])
        .query(&mut c)
        .unwrap();
    assert_eq!(got, [0, 0]);
    // empty and binary members
    assert_eq!(int(&mut c, &["SADD", "s", ""]), 1);
    assert_eq!(int(&mut c, &["SISMEMBER", "s", ""]), 1);
    let added: i64 = redis::cmd("SADD")
        .arg("s")
        .arg(&b"\x00\r\n\xff"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(added, 1);
    let all: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg("s").query(&mut c).unwrap();
    assert!(all.contains(&b"\x00\r\n\xff".to_vec()));
}

#[test]
fn pop_and_random() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(bulk(&mut c, &["SPOP", "foo"]), None);
    assert!(strings(&mut c, &["SPOP", "foo", "3"]).is_empty());
    assert_eq!(bulk(&mut c, &["SRANDMEMBER", "foo"]), None);
    assert!(strings(&mut c, &["SRANDMEMBER", "foo", "-3"]).is_empty());
    assert_eq!(int(&mut c, &["SADD", "foo", "a", "b", "c", "d", "e"]), 5);
    let one = bulk(&mut c, &["SRANDMEMBER", "foo"]).unwrap();
    assert_eq!(int(&mut c, &["SISMEMBER", "foo", &one]), 1);
    assert!(strings(&mut c, &["SRANDMEMBER", "foo", "0"]).is_empty());
    let three = strings(&mut c, &["SRANDMEMBER", "foo", "3"]);
    let distinct: std::collections::HashSet<&String> = three.iter().collect();
    assert_eq!(distinct.len(), 3);
    assert_eq!(
        sorted(&mut c, &["SRANDMEMBER", "foo", "50"]),
        ["a", "b", "c", "d", "e"]
    );
    let many = strings(&mut c, &["SRANDMEMBER", "foo", "-50"]);
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|m| "abcde".contains(m.as_str())));
    assert_eq!(int(&mut c, &["SCARD", "foo"]), 5);
    // SPOP removes what it returns
    let popped = bulk(&mut c, &["SPOP", "foo"]).unwrap();
    assert_eq!(int(&mut c, &["SISMEMBER", "foo", &popped]), 0);
    assert!(strings(&mut c, &["SPOP", "foo", "0"]).is_empty());
    let two = strings(&mut c, &["SPOP", "foo", "2"]);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(int(&mut c, &["SCARD", "foo"]), 2);
    for m in &two {
        assert_eq!(int(&mut c, &["SISMEMBER", "foo", m]), 0);
    }
    let rest = strings(&mut c, &["SPOP", "foo", "10"]);
    assert_eq!(rest.len(), 2);
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    let mut all: Vec<String> = [vec![popped], two, rest].concat();
    all.sort();
    assert_eq!(all, ["a", "b", "c", "d", "e"]);
    // errors
    assert_eq!(
        q_err(&mut c, &["SPOP", "foo", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["SPOP", "foo", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["SPOP", "foo", "1", "2"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["SRANDMEMBER", "foo", "1", "2"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["SRANDMEMBER", "foo", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["SRANDMEMBER", "foo", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    // a large set: sampling returns real, distinct members; SPOP shrinks it
    let args: Vec<String> = (0..20_000).map(|i| format!("m{i}")).collect();
    let mut sadd = redis::cmd("SADD");
    sadd.arg("bar").arg(&args);
    assert_eq!(sadd.query::<i64>(&mut c).unwrap(), 20_000);
    let picks = strings(&mut c, &["SRANDMEMBER", "bar", "200"]);
    let distinct: std::collections::HashSet<&String> = picks.iter().collect();
    assert_eq!(distinct.len(), 200);
    assert_eq!(
        strings(&mut c, &["SRANDMEMBER", "bar", "-1000"]).len(),
        1000
    );
    let popped = strings(&mut c, &["SPOP", "bar", "500"]);
    let distinct: std::collections::HashSet<&String> = popped.iter().collect();
    assert_eq!(distinct.len(), 500);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 19_500);
    let got: Vec<i64> = redis::cmd("SMISMEMBER")
        .arg("bar")
        .arg(&popped)
        .query(&mut c)
        .unwrap();
    assert!(got.iter().all(|&x| x == 0));
}

#[test]
fn errors() {
    let s = server();
    let mut c = s.conn();
    let arity: &[&[&str]] = &[
        &["SADD", "s"],
        &["SREM", "s"],
        &["SISMEMBER", "s"],
        &["SMISMEMBER", "s"],
        &["SMEMBERS"],
        &["SCARD", "s", "x"],
        &["SPOP"],
        &["SRANDMEMBER"],
        &["SMOVE", "a", "b"],
        &["SINTER"],
        &["SUNION"],
        &["SDIFF"],
        &["SINTERCARD", "1"],
        &["SINTERSTORE", "d"],
        &["SUNIONSTORE", "d"],
        &["SDIFFSTORE", "d"],
        &["SSCAN", "s"],
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
    let _: () = cmd(&["SET", "str", "x"]).query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["SADD", "foo", "a"]), 1);
    assert_eq!(int(&mut c, &["SADD", "bar", "a"]), 1);
    let wrong: &[&[&str]] = &[
        &["SADD", "str", "a"],
        &["SREM", "str", "a"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "0"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "0"],
        &["SSCAN", "str", "0"],
        &["SMOVE", "str", "foo", "a"],
        &["SMOVE", "foo", "str", "a"],
        &["SINTER", "foo", "str"],
        &["SINTER", "nokey", "str"],
        &["SUNION", "str", "bar"],
        &["SDIFF", "nokey", "str"],
        &["SDIFF", "foo", "bar", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNIONSTORE", "d", "foo", "str"],
        &["SDIFFSTORE", "d", "foo", "str"],
    ];
    for args in wrong {
        assert_eq!(q_err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(int(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(int(&mut c, &["SISMEMBER", "foo", "a"]), 1);
    // SMOVE from a missing source is 0 even if the destination is not a set
    assert_eq!(int(&mut c, &["SMOVE", "nokey", "str", "a"]), 0);
    // SINTERCARD argument errors
    for (args, err) in [
        (
            &["SINTERCARD", "0", "foo"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "foo"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "-1", "foo"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "2", "foo"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            &["SINTERCARD", "1", "foo", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "foo", "LIMIT", "x"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "foo", "LIMIT"], "ERR syntax error"),
        (&["SINTERCARD", "1", "foo", "bar"], "ERR syntax error"),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
}

/// Sets spread over both shards: foo/{foo}x on one, bar/{bar}y on the other.
fn fill(c: &mut redis::Connection) {
    assert_eq!(int(c, &["SADD", "foo", "a", "b", "c", "d"]), 4);
    assert_eq!(int(c, &["SADD", "bar", "c", "d", "e"]), 3);
    assert_eq!(int(c, &["SADD", "{foo}x", "a", "c", "d", "z"]), 4);
    assert_eq!(int(c, &["SADD", "{bar}y", "d", "q"]), 2);
}

#[test]
fn algebra_across_and_within_shards() {
    let s = server();
    let mut c = s.conn();
    fill(&mut c);
    // one shard
    assert_eq!(
        sorted(&mut c, &["SINTER", "foo", "{foo}x"]),
        ["a", "c", "d"]
    );
    assert_eq!(
        sorted(&mut c, &["SUNION", "foo", "{foo}x"]),
        ["a", "b", "c", "d", "z"]
    );
    assert_eq!(sorted(&mut c, &["SDIFF", "foo", "{foo}x"]), ["b"]);
    // across shards
    assert_eq!(sorted(&mut c, &["SINTER", "foo", "bar"]), ["c", "d"]);
    assert_eq!(
        sorted(&mut c, &["SINTER", "foo", "bar", "{foo}x", "{bar}y"]),
        ["d"]
    );
    assert_eq!(
        sorted(&mut c, &["SUNION", "foo", "bar", "{bar}y"]),
        ["a", "b", "c", "d", "e", "q"]
    );
    assert_eq!(sorted(&mut c, &["SDIFF", "foo", "bar"]), ["a", "b"]);
    assert_eq!(sorted(&mut c, &["SDIFF", "foo", "bar", "{foo}x"]), ["b"]);
    assert_eq!(sorted(&mut c, &["SDIFF", "bar", "foo", "nokey"]), ["e"]);
    assert_eq!(
        sorted(&mut c, &["SDIFF", "foo", "foo"]),
        Vec::<String>::new()
    );
    assert!(strings(&mut c, &["SINTER", "foo", "bar", "nokey"]).is_empty());
    assert!(strings(&mut c, &["SDIFF", "nokey", "foo"]).is_empty());
    assert!(strings(&mut c, &["SUNION", "nokey", "nokey2"]).is_empty());
    assert_eq!(sorted(&mut c, &["SINTER", "bar"]), ["c", "d", "e"]);
    // SINTERCARD
    assert_eq!(int(&mut c, &["SINTERCARD", "2", "foo", "bar"]), 2);
    assert_eq!(
        int(&mut c, &["SINTERCARD", "2", "foo", "bar", "LIMIT", "1"]),
        1
    );
    assert_eq!(
        int(&mut c, &["SINTERCARD", "2", "foo", "bar", "LIMIT", "0"]),
        2
    );
    assert_eq!(
        int(&mut c, &["SINTERCARD", "2", "foo", "{foo}x", "LIMIT", "2"]),
        2
    );
    assert_eq!(int(&mut c, &["SINTERCARD", "3", "foo", "bar", "nokey"]), 0);
    assert_eq!(int(&mut c, &["SINTERCARD", "1", "foo"]), 4);
    // stores: destination on another shard than (some of) the sources
    assert_eq!(int(&mut c, &["SINTERSTORE", "bar2", "foo", "bar"]), 2);
    assert_eq!(members(&mut c, "bar2"), ["c", "d"]);
    assert_eq!(int(&mut c, &["SUNIONSTORE", "{bar}u", "foo", "{foo}x"]), 5);
    assert_eq!(members(&mut c, "{bar}u"), ["a", "b", "c", "d", "z"]);
    assert_eq!(int(&mut c, &["SDIFFSTORE", "{foo}d", "foo", "bar"]), 2);
    assert_eq!(members(&mut c, "{foo}d"), ["a", "b"]);
    // a store replaces the destination, whatever its type and TTL
    let _: () = cmd(&["SET", "str", "x", "EX", "100"])
        .query(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, &["SUNIONSTORE", "str", "bar", "{bar}y"]), 4);
    assert_eq!(members(&mut c, "str"), ["c", "d", "e", "q"]);
    assert_eq!(int(&mut c, &["TTL", "str"]), -1);
    assert_eq!(int(&mut c, &["SINTERSTORE", "str", "foo", "{bar}y"]), 1);
    assert_eq!(members(&mut c, "str"), ["d"]);
    // the destination may be a source
    assert_eq!(int(&mut c, &["SUNIONSTORE", "foo", "foo", "bar"]), 5);
    assert_eq!(members(&mut c, "foo"), ["a", "b", "c", "d", "e"]);
    assert_eq!(int(&mut c, &["SDIFFSTORE", "bar", "bar", "{bar}y"]), 2);
    assert_eq!(members(&mut c, "bar"), ["c", "e"]);
    // an empty result deletes the destination
    for args in [
        &["SINTERSTORE", "str", "foo", "nokey"][..],
        &["SDIFFSTORE", "bar2", "bar", "foo"],
        &["SUNIONSTORE", "{foo}d", "nokey"],
        &["SINTERSTORE", "{bar}u", "bar", "{bar}y"],
    ] {
        assert_eq!(int(&mut c, args), 0, "{args:?}");
        assert_eq!(int(&mut c, &["EXISTS", args[1]]), 0, "{args:?}");
    }
}

#[test]
fn smove_across_and_within_shards() {
    let s = server();
    let mut c = s.conn();
    fill(&mut c);
    // across shards
    assert_eq!(int(&mut c, &["SMOVE", "foo", "bar", "a"]), 1);
    assert_eq!(members(&mut c, "foo"), ["b", "c", "d"]);
    assert_eq!(members(&mut c, "bar"), ["a", "c", "d", "e"]);
    assert_eq!(int(&mut c, &["SMOVE", "foo", "bar", "c"]), 1);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 4);
    assert_eq!(int(&mut c, &["SMOVE", "foo", "bar", "nope"]), 0);
    // within a shard
    assert_eq!(int(&mut c, &["SMOVE", "foo", "{foo}x", "b"]), 1);
    assert_eq!(members(&mut c, "{foo}x"), ["a", "b", "c", "d", "z"]);
    // same key
    assert_eq!(int(&mut c, &["SMOVE", "foo", "foo", "d"]), 1);
    assert_eq!(int(&mut c, &["SMOVE", "foo", "foo", "zz"]), 0);
    // moving the last member deletes the source and creates the destination
    assert_eq!(int(&mut c, &["SMOVE", "foo", "newbar", "d"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(members(&mut c, "newbar"), ["d"]);
    assert_eq!(int(&mut c, &["SMOVE", "{bar}y", "{bar}new", "q"]), 1);
    assert_eq!(int(&mut c, &["SMOVE", "{bar}y", "{bar}new", "d"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "{bar}y"]), 0);
    assert_eq!(members(&mut c, "{bar}new"), ["d", "q"]);
    // a failed move changes nothing
    let _: () = cmd(&["SET", "str", "x"]).query(&mut c).unwrap();
    assert_eq!(q_err(&mut c, &["SMOVE", "bar", "str", "a"]), WRONGTYPE);
    let _: () = cmd(&["SET", "{bar}str", "x"]).query(&mut c).unwrap();
    assert_eq!(q_err(&mut c, &["SMOVE", "bar", "{bar}str", "a"]), WRONGTYPE);
    assert_eq!(int(&mut c, &["SISMEMBER", "bar", "a"]), 1);
}

#[test]
fn scan() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        let args: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        let mut sadd = redis::cmd("SADD");
        sadd.arg(key).arg(&args);
        assert_eq!(sadd.query::<i64>(&mut c).unwrap(), 300);
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, items): (String, Vec<String>) = cmd(&["SSCAN", key, &cursor, "COUNT", "11"])
                .query(&mut c)
                .unwrap();
            assert!(items.len() <= 11);
            seen.extend(items);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        seen.sort();
        let mut want = args.clone();
        want.sort();
        assert_eq!(seen, want);
        let (_, items): (String, Vec<String>) =
            cmd(&["SSCAN", key, "0", "MATCH", "m29?", "COUNT", "1000"])
                .query(&mut c)
                .unwrap();
        assert_eq!(items.len(), 10);
    }
    let (next, items): (String, Vec<String>) = cmd(&["SSCAN", "nokey", "0"]).query(&mut c).unwrap();
    assert_eq!((next.as_str(), items.len()), ("0", 0));
    assert_eq!(q_err(&mut c, &["SSCAN", "foo", "-x"]), "ERR invalid cursor");
    assert_eq!(
        q_err(&mut c, &["SSCAN", "foo", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["SSCAN", "foo", "0", "FOO", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn resp3_shapes() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["SADD", "foo", "a"]), 1);
    assert_eq!(int(&mut c, &["SADD", "bar", "a"]), 1);
    let mut r = Raw::connect(s.port);
    r.send(b"HELLO 3\r\n");
    r.read_until(b"modules\r\n*0\r\n");
    r.roundtrip(b"SMEMBERS foo\r\n", b"~1\r\n$1\r\na\r\n");
    r.roundtrip(b"SMEMBERS nokey\r\n", b"~0\r\n");
    r.roundtrip(b"SINTER foo bar\r\n", b"~1\r\n$1\r\na\r\n");
    r.roundtrip(b"SUNION foo nokey\r\n", b"~1\r\n$1\r\na\r\n");
    r.roundtrip(b"SDIFF foo bar\r\n", b"~0\r\n");
    r.roundtrip(b"SRANDMEMBER foo 1\r\n", b"*1\r\n$1\r\na\r\n");
    r.roundtrip(b"SRANDMEMBER nokey 1\r\n", b"*0\r\n");
    r.roundtrip(b"SMISMEMBER foo a\r\n", b"*1\r\n:1\r\n");
    r.roundtrip(b"SISMEMBER foo a\r\n", b":1\r\n");
    r.roundtrip(b"SPOP nokey 1\r\n", b"~0\r\n");
    r.roundtrip(b"SPOP nokey\r\n", b"_\r\n");
    r.roundtrip(b"SPOP foo 5\r\n", b"~1\r\n$1\r\na\r\n");
    r.roundtrip(b"SSCAN bar 0\r\n", b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
}

#[test]
fn huge_set_delete_is_instant_and_name_reusable() {
    let s = server();
    let mut c = s.conn();
    for chunk in 0..100 {
        let args: Vec<String> = (chunk * 1000..(chunk + 1) * 1000)
            .map(|i| format!("member:{i}"))
            .collect();
        let mut sadd = redis::cmd("SADD");
        sadd.arg("bar").arg(&args);
        assert_eq!(sadd.query::<i64>(&mut c).unwrap(), 1000);
    }
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 100_000);
    assert_eq!(int(&mut c, &["SISMEMBER", "bar", "member:54321"]), 1);
    // sampling a large set stays quick
    let t = std::time::Instant::now();
    for _ in 0..50 {
        assert!(bulk(&mut c, &["SRANDMEMBER", "bar"]).is_some());
    }
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
    let t = std::time::Instant::now();
    assert_eq!(int(&mut c, &["DEL", "bar"]), 1);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(int(&mut c, &["EXISTS", "bar"]), 0);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 0);
    assert_eq!(int(&mut c, &["SISMEMBER", "bar", "member:1"]), 0);
    // a new set under the same name starts empty
    assert_eq!(int(&mut c, &["SADD", "bar", "x"]), 1);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 1);
    assert_eq!(members(&mut c, "bar"), ["x"]);
    assert_eq!(int(&mut c, &["SISMEMBER", "bar", "member:1"]), 0);
    assert_eq!(sorted(&mut c, &["SRANDMEMBER", "bar", "10"]), ["x"]);
}

#[test]
fn generic_commands_on_sets() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["SADD", "foo", "a", "b"]), 2);
    assert_eq!(bulk(&mut c, &["TYPE", "foo"]).as_deref(), Some("set"));
    assert_eq!(
        bulk(&mut c, &["OBJECT", "ENCODING", "foo"]).as_deref(),
        Some("hashtable")
    );
    assert_eq!(
        bulk(&mut c, &["RENAME", "foo", "bar"]).as_deref(),
        Some("OK")
    );
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(members(&mut c, "bar"), ["a", "b"]);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 2);
    assert_eq!(
        bulk(&mut c, &["RENAME", "bar", "{bar}z"]).as_deref(),
        Some("OK")
    );
    assert_eq!(members(&mut c, "{bar}z"), ["a", "b"]);
    assert_eq!(int(&mut c, &["COPY", "{bar}z", "foo"]), 1);
    assert_eq!(int(&mut c, &["SADD", "foo", "c"]), 1);
    assert_eq!(members(&mut c, "foo"), ["a", "b", "c"]);
    assert_eq!(members(&mut c, "{bar}z"), ["a", "b"]);
    let _: () = cmd(&["SET", "str", "x"]).query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["HSET", "h", "f", "v"]), 1);
    let found = scan_all(&mut c, &["TYPE", "set"]);
    assert_eq!(found, ["foo", "{bar}z"]);
    assert_eq!(int(&mut c, &["PEXPIRE", "foo", "100"]), 1);
    assert_eq!(int(&mut c, &["SADD", "foo", "d"]), 1);
    assert!(int(&mut c, &["PTTL", "foo"]) > 0, "SADD keeps the TTL");
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(int(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(int(&mut c, &["SADD", "foo", "n"]), 1);
    assert_eq!(members(&mut c, "foo"), ["n"]);
}

#[test]
fn survives_kill9_with_sync_always() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        fill(&mut c);
        assert_eq!(int(&mut c, &["SREM", "foo", "a"]), 1);
        assert_eq!(int(&mut c, &["SMOVE", "foo", "bar", "b"]), 1);
        assert_eq!(int(&mut c, &["SINTERSTORE", "dst", "bar", "{foo}x"]), 2);
        assert_eq!(int(&mut c, &["SADD", "gone", "x"]), 1);
        assert_eq!(bulk(&mut c, &["SPOP", "gone"]).as_deref(), Some("x"));
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(members(&mut c, "foo"), ["c", "d"]);
    assert_eq!(members(&mut c, "bar"), ["b", "c", "d", "e"]);
    assert_eq!(members(&mut c, "dst"), ["c", "d"]);
    assert_eq!(int(&mut c, &["SCARD", "bar"]), 4);
    assert_eq!(int(&mut c, &["EXISTS", "gone"]), 0);
}

/// A set created here is known member by member in the hot cache, so
/// SADD of a new member needs no disk read; once the cache evicts one of
/// its members, or for a set that arrived whole (RESTORE, RENAME, COPY),
/// a member missing from the cache is looked up on disk again.
#[test]
fn new_sets_stay_exact_when_the_cache_drops_members() {
    let s = Server::start(2, &["--hot-cache-size", "64kb"]);
    let mut c = s.conn();
    let member = |i: usize| format!("member:{i:05}");
    for i in 0..2000 {
        assert_eq!(int(&mut c, &["SADD", "{s}big", &member(i)]), 1);
    }
    for i in 0..2000 {
        assert_eq!(
            int(&mut c, &["SADD", "{s}big", &member(i)]),
            0,
            "{}",
            member(i)
        );
    }
    assert_eq!(int(&mut c, &["SCARD", "{s}big"]), 2000);
    for i in 0..3 {
        assert_eq!(int(&mut c, &["SADD", "{s}small", &member(i)]), 1);
    }
    let dumped: Vec<u8> = redis::cmd("DUMP").arg("{s}small").query(&mut c).unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("{s}restored")
        .arg(0)
        .arg(dumped)
        .query(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, &["COPY", "{s}small", "{s}copied"]), 1);
    let _: () = redis::cmd("RENAME")
        .arg("{s}small")
        .arg("{s}renamed")
        .query(&mut c)
        .unwrap();
    for key in ["{s}restored", "{s}copied", "{s}renamed"] {
        assert_eq!(int(&mut c, &["SADD", key, &member(1)]), 0, "{key}");
        assert_eq!(int(&mut c, &["SISMEMBER", key, &member(2)]), 1, "{key}");
        assert_eq!(int(&mut c, &["SADD", key, "new"]), 1, "{key}");
        assert_eq!(int(&mut c, &["SCARD", key]), 4, "{key}");
    }
    // a set emptied and made again is a new one
    assert_eq!(int(&mut c, &["DEL", "{s}copied"]), 1);
    assert_eq!(int(&mut c, &["SADD", "{s}copied", &member(1)]), 1);
    assert_eq!(
        int(&mut c, &["SADD", "{s}copied", &member(1), &member(2)]),
        1
    );
    assert_eq!(int(&mut c, &["SCARD", "{s}copied"]), 2);
}
