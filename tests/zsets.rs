//! Sorted-set commands against the real server (two shards): every
//! command, errors, cross-shard algebra, large sets, durability, RESP3.
mod common;
use common::{q_err, query as run, Raw, Server, WRONGTYPE};
use redis::Value;

fn server() -> Server {
    Server::start(2, &[])
}

fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    run(c, args)
}

fn strs(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    run(c, args)
}

fn opt(c: &mut redis::Connection, args: &[&str]) -> Option<String> {
    run(c, args)
}

#[test]
fn zadd_flags_and_errors() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(int(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]), 3);
    assert_eq!(int(&mut c, &["ZADD", "z", "1", "a", "5", "d"]), 1);
    // NX: only adds
    assert_eq!(int(&mut c, &["ZADD", "z", "NX", "9", "a", "6", "e"]), 1);
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("1"));
    // XX: only updates; CH counts changes
    assert_eq!(
        int(&mut c, &["ZADD", "z", "XX", "CH", "7", "a", "1", "nope"]),
        1
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "nope"]), None);
    // GT / LT
    assert_eq!(
        int(&mut c, &["ZADD", "z", "GT", "CH", "3", "a", "10", "b"]),
        1
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("7"));
    assert_eq!(
        int(&mut c, &["ZADD", "z", "LT", "CH", "3", "a", "20", "b"]),
        1
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("3"));
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "b"]).as_deref(), Some("10"));
    // INCR
    assert_eq!(
        opt(&mut c, &["ZADD", "z", "INCR", "1.5", "a"]).as_deref(),
        Some("4.5")
    );
    assert_eq!(opt(&mut c, &["ZADD", "z", "INCR", "GT", "-1", "a"]), None);
    assert_eq!(opt(&mut c, &["ZADD", "z", "XX", "INCR", "1", "zz"]), None);
    assert_eq!(opt(&mut c, &["ZADD", "z", "NX", "INCR", "1", "a"]), None);
    assert_eq!(int(&mut c, &["ZADD", "missing", "XX", "1", "a"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "missing"]), 0);
    // errors, byte for byte
    for (args, err) in [
        (
            &["ZADD", "z", "NX", "XX", "1", "a"][..],
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "GT", "LT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "NX", "GT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "INCR", "1", "a", "2", "b"],
            "ERR INCR option supports a single increment-element pair",
        ),
        (&["ZADD", "z", "x", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "nan", "a"], "ERR value is not a valid float"),
        (
            &["ZADD", "z", "1e400", "a"],
            "ERR value is not a valid float",
        ),
        (&["ZADD", "z", " 1", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "1", "a", "2"], "ERR syntax error"),
        (
            &["ZADD", "z", "1"],
            "ERR wrong number of arguments for 'zadd' command",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
    assert_eq!(
        opt(&mut c, &["ZADD", "z", "INCR", "+inf", "a"]).as_deref(),
        Some("inf")
    );
    assert_eq!(
        q_err(&mut c, &["ZADD", "z", "INCR", "-inf", "a"]),
        "ERR resulting score is not a number (NaN)"
    );
    // ZINCRBY
    assert_eq!(
        opt(&mut c, &["ZINCRBY", "z", "2.5", "new"]).as_deref(),
        Some("2.5")
    );
    assert_eq!(
        q_err(&mut c, &["ZINCRBY", "z", "abc", "new"]),
        "ERR value is not a valid float"
    );
}

#[test]
fn scores_are_formatted_like_redis() {
    let s = server();
    let mut c = s.conn();
    let cases = [
        ("1.1", "1.1000000000000001"),
        ("3", "3"),
        ("-2.5", "-2.5"),
        ("0.1", "0.10000000000000001"),
        ("1e300", "1.0000000000000001e+300"),
        ("1e-5", "1.0000000000000001e-05"),
        ("123456789012345678", "1.2345678901234568e+17"),
        ("+inf", "inf"),
        ("-inf", "-inf"),
        ("-0", "0"),
    ];
    for (i, (score, _)) in cases.iter().enumerate() {
        let m = format!("m{i}");
        int(&mut c, &["ZADD", "z", score, &m]);
    }
    for (i, (_, text)) in cases.iter().enumerate() {
        let m = format!("m{i}");
        assert_eq!(opt(&mut c, &["ZSCORE", "z", &m]).as_deref(), Some(*text));
    }
    let all = strs(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    assert_eq!(&all[..2], ["m8", "-inf"]);
    assert_eq!(&all[all.len() - 2..], ["m7", "inf"]);
}

#[test]
fn range_family() {
    let s = server();
    let mut c = s.conn();
    int(
        &mut c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "2.5", "c", "3", "d", "4", "e", "4", "f",
        ],
    );
    let r = |c: &mut redis::Connection, args: &[&str]| strs(c, args).join(" ");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "0", "-1"]), "a b c d e f");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "-2", "-1"]), "e f");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "4", "100"]), "e f");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "3", "1"]), "");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "0", "1", "REV"]), "f e");
    assert_eq!(r(&mut c, &["ZREVRANGE", "z", "0", "1"]), "f e");
    assert_eq!(
        r(&mut c, &["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "a 1 b 2"
    );
    // BYSCORE with inclusive, exclusive and infinite bounds
    assert_eq!(r(&mut c, &["ZRANGE", "z", "2", "3", "BYSCORE"]), "b c d");
    assert_eq!(r(&mut c, &["ZRANGE", "z", "(2", "(4", "BYSCORE"]), "c d");
    assert_eq!(r(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "(2.5"]), "a b");
    assert_eq!(r(&mut c, &["ZRANGEBYSCORE", "z", "(3", "+inf"]), "e f");
    assert_eq!(r(&mut c, &["ZRANGEBYSCORE", "z", "5", "1"]), "");
    assert_eq!(
        r(&mut c, &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "1", "2"]),
        "b c"
    );
    assert_eq!(
        r(
            &mut c,
            &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "4", "-1"]
        ),
        "e f"
    );
    assert_eq!(
        r(
            &mut c,
            &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "-1", "2"]
        ),
        ""
    );
    assert_eq!(
        r(&mut c, &["ZREVRANGEBYSCORE", "z", "4", "(2", "WITHSCORES"]),
        "f 4 e 4 d 3 c 2.5"
    );
    assert_eq!(
        r(
            &mut c,
            &["ZRANGE", "z", "(4", "2", "BYSCORE", "REV", "LIMIT", "0", "2"]
        ),
        "d c"
    );
    // BYLEX over equal scores
    int(
        &mut c,
        &[
            "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
        ],
    );
    assert_eq!(r(&mut c, &["ZRANGEBYLEX", "lex", "-", "+"]), "a b c d e");
    assert_eq!(r(&mut c, &["ZRANGEBYLEX", "lex", "[b", "(d"]), "b c");
    assert_eq!(r(&mut c, &["ZRANGEBYLEX", "lex", "(b", "[d"]), "c d");
    assert_eq!(r(&mut c, &["ZREVRANGEBYLEX", "lex", "(d", "-"]), "c b a");
    assert_eq!(
        r(
            &mut c,
            &["ZRANGE", "lex", "+", "[c", "BYLEX", "REV", "LIMIT", "1", "1"]
        ),
        "d"
    );
    assert_eq!(r(&mut c, &["ZRANGEBYLEX", "lex", "+", "-"]), "");
    // missing key, errors
    assert_eq!(r(&mut c, &["ZRANGE", "nokey", "0", "-1"]), "");
    for (args, err) in [
        (
            &["ZRANGE", "z", "a", "b", "BYSCORE"][..],
            "ERR min or max is not a float",
        ),
        (
            &["ZRANGE", "z", "a", "b", "BYLEX"],
            "ERR min or max not valid string range item",
        ),
        (
            &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        (
            &["ZRANGE", "z", "0", "-1", "REV", "REV"],
            "ERR syntax error",
        ),
        (
            &["ZRANGE", "z", "0", "-1", "LIMIT", "0"],
            "ERR syntax error",
        ),
        (&["ZRANGEBYSCORE", "z", "0", "1", "REV"], "ERR syntax error"),
        (
            &["ZRANGE", "z", "x", "1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"],
            "ERR value is not an integer or out of range",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
}

#[test]
fn counts_ranks_and_scores() {
    let s = server();
    let mut c = s.conn();
    int(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d"],
    );
    assert_eq!(int(&mut c, &["ZCARD", "z"]), 4);
    assert_eq!(int(&mut c, &["ZCARD", "nokey"]), 0);
    assert_eq!(int(&mut c, &["ZCOUNT", "z", "-inf", "+inf"]), 4);
    assert_eq!(int(&mut c, &["ZCOUNT", "z", "(1", "3"]), 3);
    assert_eq!(int(&mut c, &["ZCOUNT", "z", "(1", "(3"]), 1);
    assert_eq!(int(&mut c, &["ZCOUNT", "nokey", "0", "1"]), 0);
    assert_eq!(
        q_err(&mut c, &["ZCOUNT", "z", "a", "1"]),
        "ERR min or max is not a float"
    );
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "z", "-", "+"]), 4);
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "z", "[c", "[d"]), 2);
    assert_eq!(
        q_err(&mut c, &["ZLEXCOUNT", "z", "c", "d"]),
        "ERR min or max not valid string range item"
    );
    assert_eq!(int(&mut c, &["ZRANK", "z", "a"]), 0);
    assert_eq!(int(&mut c, &["ZRANK", "z", "d"]), 3);
    assert_eq!(int(&mut c, &["ZREVRANK", "z", "d"]), 0);
    assert_eq!(int(&mut c, &["ZREVRANK", "z", "a"]), 3);
    assert_eq!(opt(&mut c, &["ZRANK", "z", "nope"]), None);
    assert_eq!(opt(&mut c, &["ZRANK", "nokey", "a"]), None);
    let scores: Vec<Option<String>> = run(&mut c, &["ZMSCORE", "z", "a", "nope", "c"]);
    assert_eq!(scores, [Some("1".into()), None, Some("3".into())]);
    let scores: Vec<Option<String>> = run(&mut c, &["ZMSCORE", "nokey", "a"]);
    assert_eq!(scores, [None]);
    assert_eq!(opt(&mut c, &["ZSCORE", "nokey", "a"]), None);
}

#[test]
fn removal_and_empty_sets_vanish() {
    let s = server();
    let mut c = s.conn();
    int(
        &mut c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
    assert_eq!(int(&mut c, &["ZREM", "z", "a", "a", "nope"]), 1);
    assert_eq!(int(&mut c, &["ZREM", "nokey", "a"]), 0);
    assert_eq!(int(&mut c, &["ZREMRANGEBYRANK", "z", "-1", "-1"]), 1);
    assert_eq!(int(&mut c, &["ZREMRANGEBYSCORE", "z", "(2", "3"]), 1);
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "0", "-1"]), ["b", "d"]);
    int(&mut c, &["ZADD", "lex", "0", "w", "0", "x", "0", "y"]);
    assert_eq!(int(&mut c, &["ZREMRANGEBYLEX", "lex", "[x", "[y"]), 2);
    assert_eq!(strs(&mut c, &["ZRANGE", "lex", "0", "-1"]), ["w"]);
    assert_eq!(
        q_err(&mut c, &["ZREMRANGEBYRANK", "z", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["ZREMRANGEBYSCORE", "z", "x", "1"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        q_err(&mut c, &["ZREMRANGEBYLEX", "z", "x", "1"]),
        "ERR min or max not valid string range item"
    );
    // emptying a sorted set removes the key, whichever command does it
    assert_eq!(int(&mut c, &["ZREM", "z", "b", "d"]), 2);
    assert_eq!(int(&mut c, &["EXISTS", "z"]), 0);
    let t: String = run(&mut c, &["TYPE", "z"]);
    assert_eq!(t, "none");
    for cmd in [
        &["ZREMRANGEBYRANK", "z", "0", "-1"][..],
        &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
        &["ZREMRANGEBYLEX", "z", "-", "+"],
        &["ZPOPMIN", "z", "10"],
        &["ZPOPMAX", "z", "10"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "10"],
    ] {
        int(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
        let _: Value = run(&mut c, cmd);
        assert_eq!(int(&mut c, &["EXISTS", "z"]), 0, "{cmd:?}");
    }
    // a re-created key does not see old members
    int(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    int(&mut c, &["DEL", "z"]);
    int(&mut c, &["ZADD", "z", "3", "c"]);
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "0", "-1"]), ["c"]);
}

#[test]
fn pops_and_zmpop_across_shards() {
    let s = server();
    let mut c = s.conn();
    int(&mut c, &["ZADD", "foo", "1", "a", "2", "b", "3", "c"]);
    int(&mut c, &["ZADD", "bar", "10", "x", "20", "y"]);
    assert_eq!(strs(&mut c, &["ZPOPMIN", "foo"]), ["a", "1"]);
    assert_eq!(strs(&mut c, &["ZPOPMAX", "foo", "5"]), ["c", "3", "b", "2"]);
    assert_eq!(strs(&mut c, &["ZPOPMIN", "foo"]), Vec::<String>::new());
    assert_eq!(strs(&mut c, &["ZPOPMIN", "bar", "0"]), Vec::<String>::new());
    assert_eq!(
        q_err(&mut c, &["ZPOPMIN", "bar", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["ZPOPMIN", "bar", "1", "2"]),
        "ERR syntax error"
    );
    // ZMPOP skips empty keys, whichever shard they are on
    let v: (String, Vec<(String, String)>) =
        run(&mut c, &["ZMPOP", "2", "foo", "bar", "MAX", "COUNT", "1"]);
    assert_eq!(v, ("bar".into(), vec![("y".into(), "20".into())]));
    let v: Value = run(&mut c, &["ZMPOP", "2", "foo", "nokey", "MIN"]);
    assert_eq!(v, Value::Nil);
    for (args, err) in [
        (
            &["ZMPOP", "0", "foo", "MIN"][..],
            "ERR numkeys should be greater than 0",
        ),
        (&["ZMPOP", "2", "foo", "MIN"], "ERR syntax error"),
        (&["ZMPOP", "1", "foo", "SIDEWAYS"], "ERR syntax error"),
        (
            &["ZMPOP", "1", "foo", "MIN", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
}

#[test]
fn zrandmember() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(opt(&mut c, &["ZRANDMEMBER", "nokey"]), None);
    assert!(strs(&mut c, &["ZRANDMEMBER", "nokey", "3"]).is_empty());
    let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    for (i, m) in members.iter().enumerate() {
        int(&mut c, &["ZADD", "z", &i.to_string(), m]);
    }
    let one = opt(&mut c, &["ZRANDMEMBER", "z"]).unwrap();
    assert!(members.contains(&one));
    let distinct = strs(&mut c, &["ZRANDMEMBER", "z", "20"]);
    assert_eq!(distinct.len(), 20);
    let set: std::collections::HashSet<_> = distinct.iter().collect();
    assert_eq!(set.len(), 20);
    assert_eq!(strs(&mut c, &["ZRANDMEMBER", "z", "100"]).len(), 50);
    let repeats = strs(&mut c, &["ZRANDMEMBER", "z", "-200"]);
    assert_eq!(repeats.len(), 200);
    assert!(repeats.iter().all(|m| members.contains(m)));
    let with: Vec<(String, f64)> = run(&mut c, &["ZRANDMEMBER", "z", "-5", "WITHSCORES"]);
    assert_eq!(with.len(), 5);
    for (m, s) in with {
        assert_eq!(m, format!("m{s}"));
    }
    assert!(strs(&mut c, &["ZRANDMEMBER", "z", "0"]).is_empty());
    assert_eq!(
        q_err(&mut c, &["ZRANDMEMBER", "z", "1", "x"]),
        "ERR syntax error"
    );
}

#[test]
fn zscan_small_and_large() {
    let s = server();
    let mut c = s.conn();
    int(&mut c, &["ZADD", "small", "2", "b", "1", "a", "1e18", "c"]);
    let (cur, items): (String, Vec<String>) = run(&mut c, &["ZSCAN", "small", "0"]);
    assert_eq!(cur, "0");
    assert_eq!(items, ["a", "1", "b", "2", "c", "1000000000000000000"]);
    let (_, items): (String, Vec<String>) = run(&mut c, &["ZSCAN", "small", "0", "MATCH", "b*"]);
    assert_eq!(items, ["b", "2"]);
    // a large set is paged; every member comes back exactly once
    let mut args = vec!["ZADD".to_string(), "big".into()];
    for i in 0..1000 {
        args.push(i.to_string());
        args.push(format!("m{i:04}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(int(&mut c, &refs), 1000);
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            run(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "100"]);
        for pair in items.chunks(2) {
            assert_eq!(pair[0], format!("m{:04}", pair[1].parse::<u32>().unwrap()));
            assert!(seen.insert(pair[0].clone()));
        }
        pages += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 1000);
    assert!(pages >= 10);
    assert_eq!(q_err(&mut c, &["ZSCAN", "big", "x"]), "ERR invalid cursor");
    assert_eq!(
        q_err(&mut c, &["ZSCAN", "big", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
}

#[test]
fn set_algebra_across_shards() {
    let s = server();
    let mut c = s.conn();
    // "foo" and "bar" live on different shards
    int(&mut c, &["ZADD", "foo", "1", "a", "2", "b", "3", "c"]);
    int(&mut c, &["ZADD", "bar", "10", "b", "20", "c", "30", "d"]);
    let r = |c: &mut redis::Connection, args: &[&str]| strs(c, args).join(" ");
    assert_eq!(
        r(&mut c, &["ZUNION", "2", "foo", "bar", "WITHSCORES"]),
        "a 1 b 12 c 23 d 30"
    );
    assert_eq!(
        r(&mut c, &["ZINTER", "2", "foo", "bar", "WITHSCORES"]),
        "b 12 c 23"
    );
    assert_eq!(
        r(&mut c, &["ZDIFF", "2", "foo", "bar", "WITHSCORES"]),
        "a 1"
    );
    assert_eq!(
        r(
            &mut c,
            &[
                "ZUNION",
                "2",
                "foo",
                "bar",
                "WEIGHTS",
                "2",
                "0.5",
                "AGGREGATE",
                "MAX",
                "WITHSCORES"
            ]
        ),
        "a 2 b 5 c 10 d 15"
    );
    assert_eq!(
        r(
            &mut c,
            &[
                "ZINTER",
                "2",
                "foo",
                "bar",
                "AGGREGATE",
                "MIN",
                "WITHSCORES"
            ]
        ),
        "b 2 c 3"
    );
    assert_eq!(int(&mut c, &["ZINTERCARD", "2", "foo", "bar"]), 2);
    assert_eq!(
        int(&mut c, &["ZINTERCARD", "2", "foo", "bar", "LIMIT", "1"]),
        1
    );
    // stores: the destination may be on either shard, even a source
    for dst in ["foo2", "bar2", "dst", "foo"] {
        assert_eq!(int(&mut c, &["ZUNIONSTORE", dst, "2", "foo", "bar"]), 4);
        assert_eq!(
            r(&mut c, &["ZRANGE", dst, "0", "-1", "WITHSCORES"]),
            "a 1 b 12 c 23 d 30"
        );
        int(&mut c, &["DEL", "foo"]);
        int(&mut c, &["ZADD", "foo", "1", "a", "2", "b", "3", "c"]);
    }
    assert_eq!(
        int(
            &mut c,
            &["ZINTERSTORE", "out", "2", "foo", "bar", "WEIGHTS", "1", "2"]
        ),
        2
    );
    assert_eq!(
        r(&mut c, &["ZRANGE", "out", "0", "-1", "WITHSCORES"]),
        "b 22 c 43"
    );
    assert_eq!(int(&mut c, &["ZDIFFSTORE", "out", "2", "foo", "bar"]), 1);
    assert_eq!(
        r(&mut c, &["ZRANGE", "out", "0", "-1", "WITHSCORES"]),
        "a 1"
    );
    // an empty result deletes the destination, whatever it held
    let _: () = run(&mut c, &["SET", "out", "x"]);
    assert_eq!(int(&mut c, &["ZINTERSTORE", "out", "2", "foo", "nokey"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "out"]), 0);
    // ZRANGESTORE across shards
    assert_eq!(
        int(
            &mut c,
            &["ZRANGESTORE", "bar3", "foo", "(1", "+inf", "BYSCORE"]
        ),
        2
    );
    assert_eq!(
        r(&mut c, &["ZRANGE", "bar3", "0", "-1", "WITHSCORES"]),
        "b 2 c 3"
    );
    assert_eq!(int(&mut c, &["ZRANGESTORE", "bar3", "nokey", "0", "-1"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "bar3"]), 0);
    // plain sets count as members scored 1
    int(&mut c, &["SADD", "s", "a", "z"]);
    assert_eq!(
        r(&mut c, &["ZUNION", "2", "foo", "s", "WITHSCORES"]),
        "z 1 a 2 b 2 c 3"
    );
    assert_eq!(r(&mut c, &["ZINTER", "2", "s", "foo"]), "a");
    // errors
    let _: () = run(&mut c, &["SET", "str", "x"]);
    for (args, err) in [
        (
            &["ZUNION", "0", "foo"][..],
            "ERR at least 1 input key is needed for 'zunion' command",
        ),
        (
            &["ZINTERSTORE", "d", "0", "foo"],
            "ERR at least 1 input key is needed for 'zinterstore' command",
        ),
        (&["ZUNION", "3", "foo", "bar"], "ERR syntax error"),
        (
            &["ZUNION", "1", "foo", "WEIGHTS", "x"],
            "ERR weight value is not a float",
        ),
        (
            &["ZUNION", "1", "foo", "AGGREGATE", "avg"],
            "ERR syntax error",
        ),
        (&["ZDIFF", "1", "foo", "WEIGHTS", "1"], "ERR syntax error"),
        (
            &["ZUNIONSTORE", "d", "1", "foo", "WITHSCORES"],
            "ERR syntax error",
        ),
        (
            &["ZINTERCARD", "1", "foo", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (&["ZUNION", "2", "foo", "str"], WRONGTYPE),
        (&["ZUNION", "2", "str", "foo", "BADOPTION"], WRONGTYPE),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
}

#[test]
fn wrong_type_and_arity() {
    let s = server();
    let mut c = s.conn();
    let _: () = run(&mut c, &["SET", "str", "x"]);
    for args in [
        &["ZADD", "str", "1", "a"][..],
        &["ZINCRBY", "str", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZCARD", "str"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZRANGE", "str", "0", "-1"],
        &["ZREVRANGE", "str", "0", "-1"],
        &["ZRANGEBYSCORE", "str", "0", "1"],
        &["ZREVRANGEBYSCORE", "str", "1", "0"],
        &["ZRANGEBYLEX", "str", "-", "+"],
        &["ZREVRANGEBYLEX", "str", "+", "-"],
        &["ZRANGESTORE", "d", "str", "0", "-1"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZPOPMIN", "str"],
        &["ZPOPMAX", "str"],
        &["ZMPOP", "1", "str", "MIN"],
        &["ZRANDMEMBER", "str"],
        &["ZSCAN", "str", "0"],
        &["ZUNION", "1", "str"],
        &["ZINTER", "1", "str"],
        &["ZDIFF", "1", "str"],
        &["ZINTERCARD", "1", "str"],
        &["ZUNIONSTORE", "d", "1", "str"],
        &["ZINTERSTORE", "d", "1", "str"],
        &["ZDIFFSTORE", "d", "1", "str"],
    ] {
        assert_eq!(q_err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    for args in [
        &["ZADD", "z", "1"][..],
        &["ZINCRBY", "z", "1"],
        &["ZREM", "z"],
        &["ZSCORE", "z"],
        &["ZMSCORE", "z"],
        &["ZCARD"],
        &["ZCOUNT", "z", "0"],
        &["ZLEXCOUNT", "z", "-"],
        &["ZRANK", "z"],
        &["ZREVRANK", "z", "a", "b"],
        &["ZRANGE", "z", "0"],
        &["ZREVRANGE", "z", "0"],
        &["ZRANGEBYSCORE", "z", "0"],
        &["ZREVRANGEBYSCORE", "z", "0"],
        &["ZRANGEBYLEX", "z", "-"],
        &["ZREVRANGEBYLEX", "z", "+"],
        &["ZRANGESTORE", "d", "z", "0"],
        &["ZREMRANGEBYRANK", "z", "0"],
        &["ZREMRANGEBYSCORE", "z", "0"],
        &["ZREMRANGEBYLEX", "z", "-"],
        &["ZPOPMIN"],
        &["ZPOPMAX"],
        &["ZMPOP", "1", "z"],
        &["ZRANDMEMBER"],
        &["ZSCAN", "z"],
        &["ZUNION", "1"],
        &["ZINTER", "1"],
        &["ZDIFF", "1"],
        &["ZINTERCARD", "1"],
        &["ZUNIONSTORE", "d", "1"],
        &["ZINTERSTORE", "d", "1"],
        &["ZDIFFSTORE", "d", "1"],
    ] {
        let expected = format!(
            "ERR wrong number of arguments for '{}' command",
            args[0].to_lowercase()
        );
        assert_eq!(q_err(&mut c, args), expected, "{args:?}");
    }
}

#[test]
fn leaderboard() {
    let s = server();
    let mut c = s.conn();
    for (player, score) in [("ann", 120), ("bob", 80), ("cid", 200), ("dee", 150)] {
        int(&mut c, &["ZADD", "board", &score.to_string(), player]);
    }
    assert_eq!(
        opt(&mut c, &["ZINCRBY", "board", "100", "bob"]).as_deref(),
        Some("180")
    );
    assert_eq!(
        opt(&mut c, &["ZINCRBY", "board", "-0.5", "ann"]).as_deref(),
        Some("119.5")
    );
    let top: Vec<(String, f64)> = run(&mut c, &["ZREVRANGE", "board", "0", "2", "WITHSCORES"]);
    assert_eq!(
        top,
        [
            ("cid".to_string(), 200.0),
            ("bob".to_string(), 180.0),
            ("dee".to_string(), 150.0)
        ]
    );
    assert_eq!(int(&mut c, &["ZREVRANK", "board", "bob"]), 1);
    assert_eq!(int(&mut c, &["ZRANK", "board", "ann"]), 0);
    assert_eq!(int(&mut c, &["ZCOUNT", "board", "150", "+inf"]), 3);
}

#[test]
fn hundred_thousand_members_then_del() {
    let s = server();
    let mut c = s.conn();
    let n = 100_000;
    let mut pipe = redis::pipe();
    for chunk in 0..n / 1000 {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for i in chunk * 1000..(chunk + 1) * 1000 {
            cmd.arg(i).arg(format!("member:{i}"));
        }
        pipe.add_command(cmd).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    assert_eq!(int(&mut c, &["ZCARD", "big"]), n as i64);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "-2", "-1", "WITHSCORES"]),
        ["member:99998", "99998", "member:99999", "99999"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGEBYSCORE", "big", "(50000", "50002"]),
        ["member:50001", "member:50002"]
    );
    assert_eq!(int(&mut c, &["ZCOUNT", "big", "1000", "(2000"]), 1000);
    assert_eq!(int(&mut c, &["ZRANK", "big", "member:99990"]), 99990);
    assert_eq!(int(&mut c, &["ZREVRANK", "big", "member:99990"]), 9);
    assert_eq!(int(&mut c, &["DEL", "big"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "big"]), 0);
    assert_eq!(int(&mut c, &["ZCARD", "big"]), 0);
    assert_eq!(opt(&mut c, &["ZSCORE", "big", "member:5"]), None);
    int(&mut c, &["ZADD", "big", "1", "fresh"]);
    assert_eq!(strs(&mut c, &["ZRANGE", "big", "0", "-1"]), ["fresh"]);
}

#[test]
fn survives_kill9_with_sync_always() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        int(&mut c, &["ZADD", "foo", "1", "a", "2.5", "b"]);
        int(&mut c, &["ZADD", "bar", "3", "c"]);
        opt(&mut c, &["ZINCRBY", "foo", "1", "a"]);
        int(&mut c, &["ZUNIONSTORE", "u", "2", "foo", "bar"]);
        int(&mut c, &["ZREM", "bar", "c"]);
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(
        strs(&mut c, &["ZRANGE", "foo", "0", "-1", "WITHSCORES"]),
        ["a", "2", "b", "2.5"]
    );
    assert_eq!(int(&mut c, &["EXISTS", "bar"]), 0);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "u", "0", "-1", "WITHSCORES"]),
        ["a", "2", "b", "2.5", "c", "3"]
    );
}

#[test]
fn resp3_reply_shapes() {
    let s = server();
    let mut r = Raw::connect(s.port);
    r.send(b"HELLO 3\r\n");
    r.read_until(b"modules\r\n*0\r\n");
    r.roundtrip(b"ZADD z 1 a 2.5 b\r\n", b":2\r\n");
    r.roundtrip(b"ZSCORE z b\r\n", b",2.5\r\n");
    r.roundtrip(
        b"ZRANGE z 0 -1 WITHSCORES\r\n",
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    r.roundtrip(b"ZRANGE z 0 0\r\n", b"*1\r\n$1\r\na\r\n");
    r.roundtrip(b"ZPOPMIN z\r\n", b"*2\r\n$1\r\na\r\n,1\r\n");
    r.roundtrip(b"ZMSCORE z a b\r\n", b"*2\r\n_\r\n,2.5\r\n");
    r.roundtrip(
        b"ZMPOP 1 z MAX COUNT 5\r\n",
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    r.roundtrip(b"ZMPOP 1 z MAX\r\n", b"_\r\n");
    // RESP2: flat, scores as bulk strings
    let mut r = Raw::connect(s.port);
    r.roundtrip(b"ZADD y 1.1 a\r\n", b":1\r\n");
    r.roundtrip(
        b"ZRANGE y 0 -1 WITHSCORES\r\n",
        b"*2\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n",
    );
    r.roundtrip(b"ZMPOP 1 nokey MIN\r\n", b"*-1\r\n");
}

#[test]
fn blocking_pops() {
    let s = server();
    let mut c = s.conn();
    // data already there: served at once, first non-empty key in order
    int(&mut c, &["ZADD", "bar", "1", "a", "2", "b"]);
    let v: (String, String, String) = run(&mut c, &["BZPOPMIN", "foo", "bar", "0"]);
    assert_eq!(v, ("bar".into(), "a".into(), "1".into()));
    let v: (String, String, String) = run(&mut c, &["BZPOPMAX", "bar", "0"]);
    assert_eq!(v, ("bar".into(), "b".into(), "2".into()));
    assert_eq!(int(&mut c, &["EXISTS", "bar"]), 0);
    // timeouts reply a null array
    let v: Value = run(&mut c, &["BZPOPMIN", "foo", "bar", "0.05"]);
    assert_eq!(v, Value::Nil);
    let v: Value = run(&mut c, &["BZMPOP", "0.05", "2", "foo", "bar", "MIN"]);
    assert_eq!(v, Value::Nil);
    // errors
    let _: () = run(&mut c, &["SET", "str", "x"]);
    assert_eq!(q_err(&mut c, &["BZPOPMIN", "foo", "str", "0"]), WRONGTYPE);
    assert_eq!(
        q_err(&mut c, &["BZPOPMIN", "foo", "x"]),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["BZPOPMIN", "foo", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        q_err(&mut c, &["BZMPOP", "0", "0", "foo", "MIN"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(&mut c, &["BZMPOP", "x", "0", "foo", "MIN"]),
        "ERR timeout is not a float or out of range"
    );
    // a blocked client is served by a later write, on either shard
    for (cmd, writer, expect) in [
        (
            vec!["BZPOPMIN", "foo", "bar", "5"],
            vec!["ZADD", "bar", "3", "x", "4", "y"],
            "[bar, x, 3]",
        ),
        (
            vec!["BZPOPMAX", "bar", "foo", "5"],
            vec!["ZINCRBY", "foo", "7", "z"],
            "[foo, z, 7]",
        ),
        (
            vec!["BZMPOP", "5", "2", "bar", "foo", "MAX", "COUNT", "2"],
            vec!["ZUNIONSTORE", "foo", "1", "src"],
            "[foo, [[n, 2], [m, 1]]]",
        ),
    ] {
        int(&mut c, &["DEL", "foo", "bar"]);
        int(&mut c, &["ZADD", "src", "1", "m", "2", "n"]);
        let url = s.url();
        let cmd: Vec<String> = cmd.iter().map(|x| x.to_string()).collect();
        let waiter = std::thread::spawn(move || {
            let mut b = redis::Client::open(url).unwrap().get_connection().unwrap();
            let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let v: Value = run(&mut b, &args);
            v
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _: Value = run(&mut c, &writer);
        let got = waiter.join().unwrap();
        assert_eq!(render(&got), expect, "{writer:?}");
    }
    // the served pop happened: one member left
    assert_eq!(int(&mut c, &["ZCARD", "foo"]), 0);
    let left: i64 = int(&mut c, &["ZCARD", "bar"]);
    assert_eq!(left, 0);
}

/// Compact text of a reply: bulk strings bare, arrays in brackets.
fn render(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Value::Nil => "nil".into(),
        other => format!("{other:?}"),
    }
}

/// Every member and score via ZSCAN (the member → score records, not the
/// score order), sorted as ZRANGE sorts: by score, then member.
fn scanned_in_score_order(c: &mut redis::Connection, key: &str) -> Vec<String> {
    let mut pairs: Vec<(f64, String)> = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, page): (String, Vec<String>) = run(c, &["ZSCAN", key, &cursor, "COUNT", "500"]);
        for mp in page.chunks(2) {
            pairs.push((mp[1].parse().unwrap(), mp[0].clone()));
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    pairs
        .into_iter()
        .flat_map(|(s, m)| [m, s.to_string()])
        .collect()
}

/// A sorted set read by range again and again is held in memory (INFO
/// hot_sorted_set_loads); every way of changing it must show in its
/// ranges exactly as in its member records, which are read from RocksDB.
#[test]
fn held_sorted_sets_follow_every_change() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let mut args = vec!["ZADD".to_string(), "lb".to_string()];
    for i in 0..3000 {
        args.push(((i * 7919) % 1000).to_string());
        args.push(format!("m{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(int(&mut c, &args), 3000);
    for _ in 0..4 {
        assert_eq!(strs(&mut c, &["ZRANGE", "lb", "0", "2"]).len(), 3);
    }
    assert_eq!(common::info_number(&mut c, "hot_sorted_set_loads"), 1);
    assert_eq!(common::info_number(&mut c, "hot_sorted_sets"), 1);
    assert!(common::info_number(&mut c, "hot_sorted_sets_used") > 3000 * 16);

    let check = |c: &mut redis::Connection, after: &str| {
        let ranged: Vec<String> = strs(c, &["ZRANGE", "lb", "0", "-1", "WITHSCORES"])
            .chunks(2)
            .flat_map(|mp| [mp[0].clone(), mp[1].parse::<f64>().unwrap().to_string()])
            .collect();
        assert_eq!(ranged, scanned_in_score_order(c, "lb"), "after {after}");
        let card = int(c, &["ZCARD", "lb"]) as usize;
        assert_eq!(ranged.len(), card * 2, "after {after}");
    };
    check(&mut c, "loading");
    let steps: &[&[&str]] = &[
        &["ZADD", "lb", "5000", "m1", "-3", "new1", "1.5", "new2"],
        &["ZADD", "lb", "GT", "CH", "1", "m2", "9999", "m3"],
        &["ZADD", "lb", "LT", "-5", "m4"],
        &["ZINCRBY", "lb", "0.25", "m5"],
        &["ZADD", "lb", "INCR", "-100", "m6"],
        &["ZREM", "lb", "m7", "m8", "nope"],
        &["ZPOPMIN", "lb", "5"],
        &["ZPOPMAX", "lb", "3"],
        &["ZMPOP", "1", "lb", "MIN", "COUNT", "2"],
        &["BZPOPMAX", "lb", "1"],
        &["ZREMRANGEBYSCORE", "lb", "100", "(120"],
        &["ZREMRANGEBYRANK", "lb", "10", "19"],
        &["ZREMRANGEBYLEX", "lb", "[m10", "[m11"],
        &["ZRANGESTORE", "copy", "lb", "0", "9"],
        &["ZUNIONSTORE", "lb", "2", "lb", "copy", "WEIGHTS", "1", "2"],
    ];
    for step in steps {
        let _: Value = run(&mut c, step);
        check(&mut c, &step.join(" "));
        for _ in 0..4 {
            let _: Vec<String> = strs(&mut c, &["ZREVRANGE", "lb", "0", "0"]);
        }
    }
    // a transaction, then the key replaced and deleted: a new version of
    // the key is a new set, never the one held
    let _: Value = run(&mut c, &["MULTI"]);
    let _: Value = run(&mut c, &["ZADD", "lb", "42", "tx1"]);
    let _: Value = run(&mut c, &["ZREM", "lb", "m100"]);
    let _: Value = run(&mut c, &["EXEC"]);
    check(&mut c, "MULTI");
    let _: Value = run(&mut c, &["DEL", "lb"]);
    assert!(strs(&mut c, &["ZRANGE", "lb", "0", "-1"]).is_empty());
    let _: Value = run(&mut c, &["ZADD", "lb", "1", "only"]);
    assert_eq!(strs(&mut c, &["ZRANGE", "lb", "0", "-1"]), ["only"]);
    let _: Value = run(&mut c, &["RENAME", "copy", "lb"]);
    check(&mut c, "RENAME");
    assert_eq!(int(&mut c, &["ZCARD", "lb"]), 10);
    let _: Value = run(&mut c, &["FLUSHALL"]);
    assert_eq!(common::info_number(&mut c, "hot_sorted_sets"), 0);
    assert_eq!(int(&mut c, &["ZCARD", "lb"]), 0);
}

/// With a hot cache too small to hold it, a sorted set is ranged from
/// RocksDB, never held.
#[test]
fn sorted_sets_too_large_to_hold_are_ranged_from_disk() {
    let s = Server::start(1, &["--hot-cache-size", "64kb"]);
    let mut c = s.conn();
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..2000 {
        args.push(i.to_string());
        args.push(format!("member-{i:06}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(int(&mut c, &args), 2000);
    for _ in 0..10 {
        assert_eq!(
            strs(&mut c, &["ZRANGE", "big", "0", "1"]),
            ["member-000000", "member-000001"]
        );
    }
    assert_eq!(common::info_number(&mut c, "hot_sorted_sets"), 0);
    assert_eq!(common::info_number(&mut c, "hot_sorted_set_loads"), 0);
    assert_eq!(
        strs(&mut c, &["ZREVRANGE", "big", "0", "0"]),
        ["member-001999"]
    );
}
