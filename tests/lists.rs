//! List commands against the real server (two shards): every command, its
//! errors, lists on both shards, cross-shard moves, blocking pops woken by
//! other connections, timeouts, durability across kill -9.
mod common;
use common::{q, q_err, query as run, settle, spawn_command, Raw, Server, WRONGTYPE};
use redis::Value;
use std::thread;
use std::time::{Duration, Instant};

fn server() -> Server {
    Server::start(2, &[])
}

fn range(c: &mut redis::Connection, key: &str) -> Vec<String> {
    run(c, &["LRANGE", key, "0", "-1"])
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn push_pop_and_empty_list_removal() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(run::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c"]), 3);
    assert_eq!(run::<i64>(&mut c, &["LPUSH", "l", "x", "y"]), 5);
    assert_eq!(range(&mut c, "l"), ["y", "x", "a", "b", "c"]);
    assert_eq!(run::<i64>(&mut c, &["LLEN", "l"]), 5);
    assert_eq!(run::<i64>(&mut c, &["LLEN", "missing"]), 0);
    assert_eq!(run::<i64>(&mut c, &["LPUSHX", "missing", "a"]), 0);
    assert_eq!(run::<i64>(&mut c, &["RPUSHX", "missing", "a"]), 0);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "missing"]), 0);
    assert_eq!(run::<i64>(&mut c, &["RPUSHX", "l", "d"]), 6);
    assert_eq!(run::<i64>(&mut c, &["LPUSHX", "l", "z"]), 7);
    assert_eq!(q(&mut c, &["LPOP", "l"]), bulk("z"));
    assert_eq!(q(&mut c, &["RPOP", "l"]), bulk("d"));
    assert_eq!(q(&mut c, &["LPOP", "l", "2"]), bulks(&["y", "x"]));
    assert_eq!(q(&mut c, &["RPOP", "l", "2"]), bulks(&["c", "b"]));
    // count 0 on an existing key: empty array; on a missing key: nil
    assert_eq!(q(&mut c, &["LPOP", "l", "0"]), Value::Array(vec![]));
    assert_eq!(q(&mut c, &["LPOP", "missing", "0"]), Value::Nil);
    assert_eq!(q(&mut c, &["LPOP", "missing", "3"]), Value::Nil);
    assert_eq!(q(&mut c, &["RPOP", "missing"]), Value::Nil);
    // more than there is
    assert_eq!(q(&mut c, &["LPOP", "l", "10"]), bulks(&["a"]));
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "l"]), 0);
    assert_eq!(
        q(&mut c, &["TYPE", "l"]),
        Value::SimpleString("none".into())
    );
    // a recreated list starts empty
    assert_eq!(run::<i64>(&mut c, &["RPUSH", "l", "new"]), 1);
    assert_eq!(range(&mut c, "l"), ["new"]);
    assert_eq!(
        q(&mut c, &["TYPE", "l"]),
        Value::SimpleString("list".into())
    );
    assert_eq!(
        q_err(&mut c, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["LPOP", "l", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["LPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    // pushes keep a TTL
    assert_eq!(run::<i64>(&mut c, &["EXPIRE", "l", "100"]), 1);
    assert_eq!(run::<i64>(&mut c, &["RPUSH", "l", "more"]), 2);
    assert!(run::<i64>(&mut c, &["TTL", "l"]) > 0);
}

#[test]
fn lrange_lindex_lset() {
    let s = server();
    let mut c = s.conn();
    run::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    let r = |c: &mut redis::Connection, a: &str, b: &str| -> Vec<String> {
        run(c, &["LRANGE", "l", a, b])
    };
    assert_eq!(r(&mut c, "1", "2"), ["b", "c"]);
    assert_eq!(r(&mut c, "-2", "-1"), ["d", "e"]);
    assert_eq!(r(&mut c, "-100", "1"), ["a", "b"]);
    assert_eq!(r(&mut c, "3", "100"), ["d", "e"]);
    assert!(r(&mut c, "3", "1").is_empty());
    assert!(r(&mut c, "5", "10").is_empty());
    assert!(run::<Vec<String>>(&mut c, &["LRANGE", "missing", "0", "-1"]).is_empty());
    assert_eq!(
        q_err(&mut c, &["LRANGE", "missing", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(q(&mut c, &["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(q(&mut c, &["LINDEX", "l", "-1"]), bulk("e"));
    assert_eq!(q(&mut c, &["LINDEX", "l", "5"]), Value::Nil);
    assert_eq!(q(&mut c, &["LINDEX", "l", "-6"]), Value::Nil);
    assert_eq!(q(&mut c, &["LINDEX", "missing", "x"]), Value::Nil);
    assert_eq!(
        q_err(&mut c, &["LINDEX", "l", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(q(&mut c, &["LSET", "l", "1", "B"]), Value::Okay);
    assert_eq!(q(&mut c, &["LSET", "l", "-1", "E"]), Value::Okay);
    assert_eq!(range(&mut c, "l"), ["a", "B", "c", "d", "E"]);
    assert_eq!(
        q_err(&mut c, &["LSET", "l", "5", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        q_err(&mut c, &["LSET", "missing", "0", "x"]),
        "ERR no such key"
    );
    assert_eq!(
        q_err(&mut c, &["LSET", "missing", "x", "x"]),
        "ERR no such key"
    );
    assert_eq!(
        q_err(&mut c, &["LSET", "l", "x", "x"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn linsert_lrem_ltrim() {
    let s = server();
    let mut c = s.conn();
    run::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(run::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "a", "0"]), 6);
    assert_eq!(run::<i64>(&mut c, &["LINSERT", "l", "after", "e", "9"]), 7);
    assert_eq!(run::<i64>(&mut c, &["LINSERT", "l", "after", "b", "b2"]), 8);
    assert_eq!(
        run::<i64>(&mut c, &["LINSERT", "l", "before", "d", "c2"]),
        9
    );
    assert_eq!(
        range(&mut c, "l"),
        ["0", "a", "b", "b2", "c", "c2", "d", "e", "9"]
    );
    assert_eq!(
        run::<i64>(&mut c, &["LINSERT", "l", "before", "zz", "x"]),
        -1
    );
    assert_eq!(
        run::<i64>(&mut c, &["LINSERT", "missing", "before", "a", "x"]),
        0
    );
    assert_eq!(
        q_err(&mut c, &["LINSERT", "l", "middle", "a", "x"]),
        "ERR syntax error"
    );

    let _: () = redis::cmd("DEL").arg("l").query(&mut c).unwrap();
    run::<i64>(&mut c, &["RPUSH", "l", "x", "a", "x", "b", "x", "c", "x"]);
    assert_eq!(run::<i64>(&mut c, &["LREM", "l", "2", "x"]), 2);
    assert_eq!(range(&mut c, "l"), ["a", "b", "x", "c", "x"]);
    assert_eq!(run::<i64>(&mut c, &["LREM", "l", "-1", "x"]), 1);
    assert_eq!(range(&mut c, "l"), ["a", "b", "x", "c"]);
    assert_eq!(run::<i64>(&mut c, &["LREM", "l", "0", "nope"]), 0);
    assert_eq!(run::<i64>(&mut c, &["LREM", "l", "0", "x"]), 1);
    assert_eq!(range(&mut c, "l"), ["a", "b", "c"]);
    assert_eq!(run::<i64>(&mut c, &["LREM", "missing", "0", "x"]), 0);
    assert_eq!(
        q_err(&mut c, &["LREM", "l", "x", "a"]),
        "ERR value is not an integer or out of range"
    );
    for v in ["a", "b", "c"] {
        run::<i64>(&mut c, &["LREM", "l", "0", v]);
    }
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "l"]), 0);

    run::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(q(&mut c, &["LTRIM", "l", "1", "-2"]), Value::Okay);
    assert_eq!(range(&mut c, "l"), ["b", "c", "d"]);
    assert_eq!(q(&mut c, &["LTRIM", "l", "0", "100"]), Value::Okay);
    assert_eq!(range(&mut c, "l"), ["b", "c", "d"]);
    assert_eq!(q(&mut c, &["LTRIM", "l", "-1", "-1"]), Value::Okay);
    assert_eq!(range(&mut c, "l"), ["d"]);
    assert_eq!(q(&mut c, &["LTRIM", "l", "1", "0"]), Value::Okay);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "l"]), 0);
    assert_eq!(q(&mut c, &["LTRIM", "missing", "0", "1"]), Value::Okay);
    assert_eq!(
        q_err(&mut c, &["LTRIM", "l", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn lpos_options_and_errors() {
    let s = server();
    let mut c = s.conn();
    run::<i64>(
        &mut c,
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
    );
    let pos = |c: &mut redis::Connection, extra: &[&str]| -> Value {
        let mut args = vec!["LPOS", "l", "c"];
        args.extend_from_slice(extra);
        q(c, &args)
    };
    let ints = |v: &[i64]| Value::Array(v.iter().map(|&i| Value::Int(i)).collect());
    assert_eq!(pos(&mut c, &[]), Value::Int(2));
    assert_eq!(pos(&mut c, &["RANK", "2"]), Value::Int(6));
    assert_eq!(pos(&mut c, &["RANK", "-1"]), Value::Int(7));
    assert_eq!(pos(&mut c, &["RANK", "4"]), Value::Nil);
    assert_eq!(pos(&mut c, &["COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(pos(&mut c, &["COUNT", "2"]), ints(&[2, 6]));
    assert_eq!(pos(&mut c, &["COUNT", "2", "RANK", "-1"]), ints(&[7, 6]));
    assert_eq!(pos(&mut c, &["COUNT", "0", "MAXLEN", "7"]), ints(&[2, 6]));
    assert_eq!(pos(&mut c, &["RANK", "-1", "MAXLEN", "1"]), Value::Int(7));
    assert_eq!(
        pos(&mut c, &["RANK", "-1", "MAXLEN", "1", "COUNT", "5"]),
        ints(&[7])
    );
    assert_eq!(q(&mut c, &["LPOS", "l", "zz"]), Value::Nil);
    assert_eq!(q(&mut c, &["LPOS", "l", "zz", "COUNT", "1"]), ints(&[]));
    assert_eq!(q(&mut c, &["LPOS", "missing", "a"]), Value::Nil);
    assert_eq!(
        q(&mut c, &["LPOS", "missing", "a", "COUNT", "0"]),
        ints(&[])
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "l", "c", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "l", "c", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "l", "c", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "l", "c", "RANK", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "l", "c", "COUNT"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["LPOS", "missing", "c", "FOO", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn wrong_type_and_arity() {
    let s = server();
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("s").arg("v").query(&mut c).unwrap();
    run::<i64>(&mut c, &["RPUSH", "l", "a"]);
    let wrong: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "x", "v"],
        &["LINSERT", "s", "before", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "RIGHT"],
        &["LMOVE", "l", "s", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "s", "l"],
        &["LMPOP", "2", "missing", "s", "LEFT"],
        &["BLPOP", "missing", "s", "0"],
        &["BRPOP", "s", "0"],
        &["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "s", "l", "0"],
        &["BLMPOP", "0", "1", "s", "RIGHT"],
    ];
    for args in wrong {
        assert_eq!(q_err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // nothing moved out of "l" by the failed moves
    assert_eq!(range(&mut c, "l"), ["a"]);
    assert_eq!(q(&mut c, &["GET", "s"]), bulk("v"));
    // a missing source wins over a wrong-type destination, as in Redis
    assert_eq!(
        q(&mut c, &["LMOVE", "missing", "s", "LEFT", "RIGHT"]),
        Value::Nil
    );

    let arity: &[&[&str]] = &[
        &["LPUSH", "l"],
        &["RPUSH", "l"],
        &["LPUSHX", "l"],
        &["RPUSHX", "l"],
        &["LPOP"],
        &["RPOP"],
        &["LLEN"],
        &["LLEN", "l", "x"],
        &["LRANGE", "l", "0"],
        &["LINDEX", "l"],
        &["LSET", "l", "0"],
        &["LINSERT", "l", "before", "a"],
        &["LREM", "l", "0"],
        &["LTRIM", "l", "0"],
        &["LPOS", "l"],
        &["LMOVE", "l", "m", "LEFT"],
        &["RPOPLPUSH", "l"],
        &["LMPOP", "1", "l"],
        &["BLPOP", "l"],
        &["BRPOP", "l"],
        &["BLMOVE", "l", "m", "LEFT", "LEFT"],
        &["BRPOPLPUSH", "l", "m"],
        &["BLMPOP", "0", "1", "l"],
    ];
    for args in arity {
        let name = args[0].to_ascii_lowercase();
        assert_eq!(
            q_err(&mut c, args),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{args:?}"
        );
    }
}

#[test]
fn lmove_rpoplpush_on_one_and_across_shards() {
    let s = server();
    let mut c = s.conn();
    // "foo" and "bar" live on different shards, "{foo}x" with "foo"
    run::<i64>(&mut c, &["RPUSH", "foo", "1", "2", "3"]);
    assert_eq!(
        q(&mut c, &["LMOVE", "foo", "bar", "LEFT", "RIGHT"]),
        bulk("1")
    );
    assert_eq!(
        q(&mut c, &["LMOVE", "foo", "bar", "right", "left"]),
        bulk("3")
    );
    assert_eq!(range(&mut c, "foo"), ["2"]);
    assert_eq!(range(&mut c, "bar"), ["3", "1"]);
    assert_eq!(q(&mut c, &["RPOPLPUSH", "bar", "foo"]), bulk("1"));
    assert_eq!(range(&mut c, "foo"), ["1", "2"]);
    assert_eq!(
        q(&mut c, &["LMOVE", "foo", "{foo}x", "LEFT", "LEFT"]),
        bulk("1")
    );
    assert_eq!(
        q(&mut c, &["LMOVE", "foo", "{foo}x", "LEFT", "LEFT"]),
        bulk("2")
    );
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "foo"]), 0);
    assert_eq!(range(&mut c, "{foo}x"), ["2", "1"]);
    // rotation of one list
    assert_eq!(
        q(&mut c, &["LMOVE", "{foo}x", "{foo}x", "LEFT", "RIGHT"]),
        bulk("2")
    );
    assert_eq!(range(&mut c, "{foo}x"), ["1", "2"]);
    assert_eq!(q(&mut c, &["RPOPLPUSH", "{foo}x", "{foo}x"]), bulk("2"));
    assert_eq!(range(&mut c, "{foo}x"), ["2", "1"]);
    run::<i64>(&mut c, &["RPUSH", "one", "x"]);
    assert_eq!(
        q(&mut c, &["LMOVE", "one", "one", "RIGHT", "RIGHT"]),
        bulk("x")
    );
    assert_eq!(range(&mut c, "one"), ["x"]);
    // missing source
    assert_eq!(
        q(&mut c, &["LMOVE", "missing", "bar", "LEFT", "LEFT"]),
        Value::Nil
    );
    assert_eq!(q(&mut c, &["RPOPLPUSH", "missing", "bar"]), Value::Nil);
    assert_eq!(
        q_err(&mut c, &["LMOVE", "bar", "foo", "UP", "LEFT"]),
        "ERR syntax error"
    );
    // wrong-type destination on the other shard: nothing is popped
    let _: () = redis::cmd("SET").arg("foo").arg("s").query(&mut c).unwrap();
    assert_eq!(
        q_err(&mut c, &["LMOVE", "bar", "foo", "LEFT", "LEFT"]),
        WRONGTYPE
    );
    assert_eq!(range(&mut c, "bar"), ["3"]);
}

#[test]
fn lmpop_in_key_order_across_shards() {
    let s = server();
    let mut c = s.conn();
    run::<i64>(&mut c, &["RPUSH", "bar", "b1", "b2", "b3"]);
    run::<i64>(&mut c, &["RPUSH", "foo", "f1", "f2"]);
    let nested = |key: &str, items: &[&str]| Value::Array(vec![bulk(key), bulks(items)]);
    assert_eq!(
        q(&mut c, &["LMPOP", "2", "foo", "bar", "LEFT"]),
        nested("foo", &["f1"])
    );
    assert_eq!(
        q(
            &mut c,
            &["LMPOP", "3", "nope", "foo", "bar", "RIGHT", "COUNT", "5"]
        ),
        nested("foo", &["f2"])
    );
    assert_eq!(
        q(&mut c, &["LMPOP", "2", "foo", "bar", "RIGHT", "COUNT", "2"]),
        nested("bar", &["b3", "b2"])
    );
    assert_eq!(q(&mut c, &["LMPOP", "1", "foo", "LEFT"]), Value::Nil);
    assert_eq!(
        q_err(&mut c, &["LMPOP", "0", "foo", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(&mut c, &["LMPOP", "x", "foo", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(&mut c, &["LMPOP", "3", "foo", "LEFT"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["LMPOP", "1", "foo", "UP"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["LMPOP", "1", "foo", "LEFT", "COUNT", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        q_err(
            &mut c,
            &["LMPOP", "1", "foo", "LEFT", "COUNT", "1", "COUNT", "1"]
        ),
        "ERR syntax error"
    );
}

#[test]
fn a_big_list_is_deleted_in_constant_time() {
    let s = server();
    let mut c = s.conn();
    const N: usize = 100_000;
    let mut pipe = redis::pipe();
    for chunk in (0..N).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("RPUSH");
        cmd.arg("big");
        for i in chunk {
            cmd.arg(i.to_string());
        }
        pipe.add_command(cmd).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    assert_eq!(run::<i64>(&mut c, &["LLEN", "big"]), N as i64);
    assert_eq!(q(&mut c, &["LINDEX", "big", "54321"]), bulk("54321"));
    assert_eq!(q(&mut c, &["LINDEX", "big", "-1"]), bulk("99999"));
    assert_eq!(
        run::<Vec<String>>(&mut c, &["LRANGE", "big", "70000", "70002"]),
        ["70000", "70001", "70002"]
    );
    // edits in the middle move the shorter side only
    assert_eq!(
        run::<i64>(&mut c, &["LINSERT", "big", "AFTER", "99990", "x"]),
        N as i64 + 1
    );
    assert_eq!(
        run::<Vec<String>>(&mut c, &["LRANGE", "big", "99990", "99992"]),
        ["99990", "x", "99991"]
    );
    assert_eq!(run::<i64>(&mut c, &["LREM", "big", "0", "x"]), 1);
    assert_eq!(run::<i64>(&mut c, &["LREM", "big", "1", "5"]), 1);
    assert_eq!(q(&mut c, &["LINDEX", "big", "5"]), bulk("6"));
    assert_eq!(
        q(&mut c, &["LPOS", "big", "99999"]),
        Value::Int(N as i64 - 2)
    );
    let t = Instant::now();
    assert_eq!(run::<i64>(&mut c, &["DEL", "big"]), 1);
    let took = t.elapsed();
    assert!(took < Duration::from_millis(200), "DEL took {took:?}");
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "big"]), 0);
    assert_eq!(run::<i64>(&mut c, &["LLEN", "big"]), 0);
    assert_eq!(run::<i64>(&mut c, &["RPUSH", "big", "only"]), 1);
    assert_eq!(range(&mut c, "big"), ["only"]);
    // a trim keeping a little of a long list
    let mut cmd = redis::cmd("RPUSH");
    cmd.arg("t");
    for i in 0..5000 {
        cmd.arg(i);
    }
    let _: i64 = cmd.query(&mut c).unwrap();
    assert_eq!(q(&mut c, &["LTRIM", "t", "100", "-4000"]), Value::Okay);
    assert_eq!(run::<i64>(&mut c, &["LLEN", "t"]), 901);
    assert_eq!(q(&mut c, &["LINDEX", "t", "0"]), bulk("100"));
    assert_eq!(q(&mut c, &["LINDEX", "t", "-1"]), bulk("1000"));
    assert_eq!(
        q(&mut c, &["LPOP", "t", "900"])
            .as_sequence()
            .unwrap()
            .len(),
        900
    );
    assert_eq!(range(&mut c, "t"), ["1000"]);
}

#[test]
fn blocking_pop_is_woken_by_a_push_from_another_connection() {
    let s = server();
    let mut c = s.conn();
    // several rounds: connections land on either core, keys on both shards
    for (round, key) in ["foo", "bar", "foo", "bar"].iter().enumerate() {
        let waiter = spawn_command(&s, &["BLPOP", key, "10"]);
        settle();
        assert_eq!(run::<String>(&mut c, &["PING"]), "PONG");
        let v = format!("v{round}");
        assert_eq!(run::<i64>(&mut c, &["RPUSH", key, &v]), 1);
        let (reply, took) = waiter.join().unwrap();
        assert_eq!(reply, bulks(&[key, &v]));
        assert!(took < Duration::from_secs(5));
        // the element went to the waiter, and the list is gone
        assert_eq!(run::<i64>(&mut c, &["EXISTS", key]), 0);
    }
    // BRPOP on keys of both shards, served by the one pushed
    let waiter = spawn_command(&s, &["BRPOP", "foo", "bar", "0"]);
    settle();
    run::<i64>(&mut c, &["RPUSH", "bar", "x", "y"]);
    assert_eq!(waiter.join().unwrap().0, bulks(&["bar", "y"]));
    assert_eq!(range(&mut c, "bar"), ["x"]);
    // the registration on the other shard was cancelled: a later push stays
    run::<i64>(&mut c, &["RPUSH", "foo", "z"]);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(range(&mut c, "foo"), ["z"]);
    // a non-empty key answers at once, in key order
    assert_eq!(
        q(&mut c, &["BLPOP", "nope", "bar", "foo", "0"]),
        bulks(&["bar", "x"])
    );
    assert_eq!(q(&mut c, &["BRPOP", "foo", "0"]), bulks(&["foo", "z"]));
}

#[test]
fn blocked_clients_are_served_in_arrival_order() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        let first = spawn_command(&s, &["BLPOP", key, "10"]);
        settle();
        let second = spawn_command(&s, &["BRPOP", key, "10"]);
        settle();
        let third = spawn_command(&s, &["BLMPOP", "10", "1", key, "LEFT", "COUNT", "5"]);
        settle();
        // one push serves the first two, the third gets the rest
        assert_eq!(run::<i64>(&mut c, &["RPUSH", key, "a", "b", "c", "d"]), 4);
        assert_eq!(first.join().unwrap().0, bulks(&[key, "a"]));
        assert_eq!(second.join().unwrap().0, bulks(&[key, "d"]));
        assert_eq!(
            third.join().unwrap().0,
            Value::Array(vec![bulk(key), bulks(&["b", "c"])])
        );
        assert_eq!(run::<i64>(&mut c, &["EXISTS", key]), 0);
    }
}

#[test]
fn blocking_timeouts_and_errors() {
    let s = server();
    let mut c = s.conn();
    for args in [
        &["BLPOP", "foo", "bar", "0.2"][..],
        &["BRPOP", "foo", "0.2"],
        &["BLMOVE", "foo", "bar", "LEFT", "RIGHT", "0.2"],
        &["BRPOPLPUSH", "bar", "foo", "0.2"],
        &["BLMPOP", "0.2", "2", "foo", "bar", "LEFT"],
    ] {
        let t = Instant::now();
        assert_eq!(q(&mut c, args), Value::Nil, "{args:?}");
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(190), "{args:?} {took:?}");
        assert!(took < Duration::from_secs(3), "{args:?} {took:?}");
    }
    // the exact null array, in both protocols
    let mut raw = Raw::connect(s.port);
    raw.roundtrip(b"BLPOP foo 0.05\r\n", b"*-1\r\n");
    raw.roundtrip(b"BLMOVE foo bar LEFT LEFT 0.05\r\n", b"*-1\r\n");
    raw.roundtrip(b"LPOP foo 1\r\n", b"*-1\r\n");
    raw.roundtrip(b"LPOP foo\r\n", b"$-1\r\n");
    raw.send(b"HELLO 3\r\n");
    raw.read_until(b"$7\r\nmodules\r\n*0\r\n");
    raw.roundtrip(b"BRPOP bar 0.05\r\n", b"_\r\n");
    raw.roundtrip(b"LPOP foo 1\r\n", b"_\r\n");
    assert_eq!(
        q_err(&mut c, &["BLPOP", "foo", "x"]),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["BLPOP", "foo", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        q_err(&mut c, &["BLPOP", "foo", "inf"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        q_err(&mut c, &["BLMOVE", "foo", "bar", "LEFT", "UP", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["BRPOPLPUSH", "foo", "bar", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        q_err(&mut c, &["BLMPOP", "0", "0", "foo", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(&mut c, &["BLMPOP", "x", "1", "foo", "LEFT"]),
        "ERR timeout is not a float or out of range"
    );
    // the timed-out waiters are gone: pushes stay in place
    run::<i64>(&mut c, &["RPUSH", "foo", "kept"]);
    run::<i64>(&mut c, &["RPUSH", "bar", "kept"]);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(range(&mut c, "foo"), ["kept"]);
    assert_eq!(range(&mut c, "bar"), ["kept"]);
}

#[test]
fn blocking_move_across_shards() {
    let s = server();
    let mut c = s.conn();
    // BLMOVE foo → bar (different shards) and {foo}x → foo (same shard)
    let cross = spawn_command(&s, &["BLMOVE", "foo", "bar", "RIGHT", "LEFT", "10"]);
    let local = spawn_command(&s, &["BRPOPLPUSH", "{foo}x", "foo", "10"]);
    settle();
    run::<i64>(&mut c, &["RPUSH", "bar", "old"]);
    run::<i64>(&mut c, &["RPUSH", "{foo}x", "a"]);
    // "a" moves {foo}x → foo, which wakes the cross-shard waiter: foo → bar
    assert_eq!(local.join().unwrap().0, bulk("a"));
    assert_eq!(cross.join().unwrap().0, bulk("a"));
    assert_eq!(range(&mut c, "bar"), ["a", "old"]);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "foo", "{foo}x"]), 0);
    // an element available at once moves without blocking
    assert_eq!(
        q(&mut c, &["BLMOVE", "bar", "foo", "LEFT", "LEFT", "0"]),
        bulk("a")
    );
    assert_eq!(range(&mut c, "foo"), ["a"]);
}

#[test]
fn a_closed_or_killed_client_leaves_the_wait_queue() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        // a raw client blocks, then hangs up
        let mut gone = Raw::connect(s.port);
        gone.send(format!("BLPOP {key} 0\r\n").as_bytes());
        settle();
        drop(gone);
        // another one is killed while blocked
        let mut killed = s.conn();
        let id: i64 = run(&mut killed, &["CLIENT", "ID"]);
        let killed = thread::spawn(move || {
            redis::cmd("BLPOP")
                .arg(key)
                .arg(0)
                .query::<Value>(&mut killed)
        });
        settle();
        let _: Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut c)
            .unwrap();
        assert!(killed.join().unwrap().is_err());
        // the next waiter gets the element
        let live = spawn_command(&s, &["BLPOP", key, "10"]);
        settle();
        run::<i64>(&mut c, &["RPUSH", key, "v"]);
        assert_eq!(live.join().unwrap().0, bulks(&[key, "v"]));
        assert_eq!(run::<i64>(&mut c, &["EXISTS", key]), 0);
        // and nobody else was waiting
        run::<i64>(&mut c, &["RPUSH", key, "w"]);
        thread::sleep(Duration::from_millis(50));
        assert_eq!(range(&mut c, key), ["w"]);
    }
}

#[test]
fn a_blocked_client_keeps_its_pipeline() {
    let s = server();
    let mut c = s.conn();
    let mut raw = Raw::connect(s.port);
    // commands sent after a blocking one run once it is served
    raw.send(b"BLPOP foo 10\r\nRPUSH bar x\r\nPING\r\n");
    settle();
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "bar"]), 0);
    run::<i64>(&mut c, &["RPUSH", "foo", "v"]);
    let want = b"*2\r\n$3\r\nfoo\r\n$1\r\nv\r\n:1\r\n+PONG\r\n";
    assert_eq!(
        String::from_utf8_lossy(&raw.read_n(want.len())),
        String::from_utf8_lossy(want)
    );
}

#[test]
fn lists_survive_kill_9() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        run::<i64>(&mut c, &["RPUSH", "foo", "a", "b", "c", "d"]);
        run::<i64>(&mut c, &["LPUSH", "bar", "x", "y"]);
        q(&mut c, &["LPOP", "foo"]);
        q(&mut c, &["LSET", "foo", "0", "B"]);
        q(&mut c, &["LMOVE", "foo", "bar", "RIGHT", "LEFT"]);
        q(&mut c, &["LINSERT", "bar", "AFTER", "y", "mid"]);
        run::<i64>(&mut c, &["RPUSH", "gone", "1"]);
        q(&mut c, &["RPOP", "gone"]);
        // a pop served to a blocked client is durable too
        let waiter = spawn_command(&s, &["BLPOP", "served", "10"]);
        settle();
        run::<i64>(&mut c, &["RPUSH", "served", "1", "2"]);
        assert_eq!(waiter.join().unwrap().0, bulks(&["served", "1"]));
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(range(&mut c, "foo"), ["B", "c"]);
    assert_eq!(range(&mut c, "bar"), ["d", "y", "mid", "x"]);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "gone"]), 0);
    assert_eq!(range(&mut c, "served"), ["2"]);
    // and keep working
    assert_eq!(run::<i64>(&mut c, &["RPUSH", "foo", "e"]), 3);
    assert_eq!(q(&mut c, &["LPOP", "foo"]), bulk("B"));
}

#[test]
fn concurrent_blocking_consumers_get_every_element_once() {
    let s = server();
    const PER_PRODUCER: usize = 300;
    let consumers: Vec<_> = (0..6)
        .map(|i| {
            let mut c = s.conn();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    // consumers alternate key orders and pop directions
                    let (cmd, keys) = if i % 2 == 0 {
                        ("BLPOP", ["foo", "bar"])
                    } else {
                        ("BRPOP", ["bar", "foo"])
                    };
                    let r: Option<(String, String)> =
                        redis::cmd(cmd).arg(&keys[..]).arg(2).query(&mut c).unwrap();
                    match r {
                        Some((_, v)) if v == "stop" => return got,
                        Some((_, v)) => got.push(v),
                        None => panic!("consumer {i} timed out"),
                    }
                }
            })
        })
        .collect();
    settle();
    let producers: Vec<_> = ["foo", "bar"]
        .into_iter()
        .map(|key| {
            let mut c = s.conn();
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let _: i64 = redis::cmd("RPUSH")
                        .arg(key)
                        .arg(format!("{key}{i}"))
                        .query(&mut c)
                        .unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut c = s.conn();
    for _ in 0..6 {
        run::<i64>(&mut c, &["RPUSH", "foo", "stop"]);
    }
    let mut all: Vec<String> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    let mut want: Vec<String> = ["foo", "bar"]
        .iter()
        .flat_map(|k| (0..PER_PRODUCER).map(move |i| format!("{k}{i}")))
        .collect();
    want.sort();
    assert_eq!(all, want);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "foo", "bar"]), 0);
}

#[test]
fn rename_into_a_key_wakes_blocked_clients() {
    let s = common::Server::start(2, &[]);
    let port = s.port;
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let got: Option<(String, String)> =
            redis::cmd("BLPOP").arg("bar").arg(5).query(&mut c).unwrap();
        got
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut c = s.conn();
    let _: i64 = redis::cmd("RPUSH")
        .arg("foo")
        .arg("moved")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("RENAME")
        .arg("foo")
        .arg("bar")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        waiter.join().unwrap(),
        Some(("bar".to_string(), "moved".to_string()))
    );
}

/// A push that a blocked BLPOP takes at once never shows the element to
/// other clients, as in Redis (which serves blocked clients right after
/// the command). LLEN from another core reads the owner's RocksDB without
/// a hop, so it must not read between the push and the pop.
#[test]
fn a_push_taken_by_a_blocked_pop_is_never_seen() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let s = Server::start(2, &["--connection-affinity", "no"]);
    let key = (0..)
        .map(|i| format!("queue{i}"))
        .find(|k| diskdb::shard::routing::shard_of(k.as_bytes(), 2) == 0)
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, reads) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut pollers = Vec::new();
    for _ in 0..4 {
        let (mut c, key, stop) = (s.conn(), key.clone(), stop.clone());
        let (seen, reads) = (seen.clone(), reads.clone());
        pollers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if run::<i64>(&mut c, &["LLEN", &key]) != 0 {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let waiter = {
        let (mut c, key) = (s.conn(), key.clone());
        thread::spawn(move || {
            for _ in 0..500 {
                let got: (String, String) =
                    redis::cmd("BLPOP").arg(&key).arg(0).query(&mut c).unwrap();
                assert_eq!(got.1, "x");
            }
        })
    };
    let mut c = s.conn();
    for _ in 0..500 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while common::info_field(&mut c, "blocked_clients").as_deref() != Some("1") {
            assert!(Instant::now() < deadline, "BLPOP never blocked");
        }
        run::<i64>(&mut c, &["LPUSH", &key, "x"]);
    }
    waiter.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    pollers.into_iter().for_each(|p| p.join().unwrap());
    let reads = reads.load(Ordering::Relaxed);
    assert!(reads > 500, "{reads} reads");
    assert_eq!(
        seen.load(Ordering::Relaxed),
        0,
        "LLEN saw a pushed element in {reads} reads"
    );
}
