//! Stream commands against the real server (two shards): every command,
//! errors, WRONGTYPE, XREAD over keys on both shards, blocking XREAD and
//! XREADGROUP woken by XADD from other connections, the consumer-group
//! lifecycle (PEL, XACK, XCLAIM, XAUTOCLAIM), XINFO, RESP3 shapes, and
//! durability across kill -9.
mod common;
use common::{q, q_err, query as run, settle, spawn_command, Raw, Server, WRONGTYPE};
use redis::Value;
use std::time::{Duration, Instant};

fn server() -> Server {
    Server::start(2, &[])
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

/// `[id, [field, value, …]]`.
fn entry(id: &str, fields: &[&str]) -> Value {
    Value::Array(vec![bulk(id), bulks(fields)])
}

/// `[[key, [entries…]]]` as XREAD replies in RESP2.
fn read_reply(parts: Vec<(&str, Vec<Value>)>) -> Value {
    Value::Array(
        parts
            .into_iter()
            .map(|(k, e)| Value::Array(vec![bulk(k), Value::Array(e)]))
            .collect(),
    )
}

/// The value of `field` in a flat `[k, v, k, v…]` reply.
fn field(v: &Value, name: &str) -> Value {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    items
        .chunks(2)
        .find(|kv| kv[0] == bulk(name))
        .unwrap_or_else(|| panic!("no {name} in {v:?}"))[1]
        .clone()
}

#[test]
fn seed_example_add_then_range() {
    let s = server();
    let mut c = s.conn();
    let mut ids = Vec::new();
    for i in 0..12 {
        let id: String = run(
            &mut c,
            &["XADD", "events", "*", "type", "click", "n", &i.to_string()],
        );
        ids.push(id);
    }
    let Value::Array(got) = q(&mut c, &["XRANGE", "events", "-", "+", "COUNT", "10"]) else {
        panic!()
    };
    assert_eq!(got.len(), 10);
    assert_eq!(got[0], entry(&ids[0], &["type", "click", "n", "0"]));
    assert_eq!(got[9], entry(&ids[9], &["type", "click", "n", "9"]));
    assert!(ids
        .windows(2)
        .all(|w| w[0] < w[1] || w[0].len() < w[1].len()));
    assert_eq!(run::<i64>(&mut c, &["XLEN", "events"]), 12);
    assert_eq!(run::<String>(&mut c, &["TYPE", "events"]), "stream");
}

#[test]
fn add_ids_range_delete_trim() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(
        run::<String>(&mut c, &["XADD", "s", "1-1", "a", "1"]),
        "1-1"
    );
    assert_eq!(
        run::<String>(&mut c, &["XADD", "s", "1-*", "b", "2"]),
        "1-2"
    );
    assert_eq!(run::<String>(&mut c, &["XADD", "s", "5", "c", "3"]), "5-0");
    assert_eq!(
        run::<String>(&mut c, &["XADD", "s", "7-3", "d", "4"]),
        "7-3"
    );
    assert_eq!(
        q_err(&mut c, &["XADD", "s", "7-3", "x", "y"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        q_err(&mut c, &["XADD", "s", "0-0", "x", "y"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(
        q_err(&mut c, &["XADD", "s", "nope", "x", "y"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        q_err(&mut c, &["XADD", "s", "9-0", "x"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    assert_eq!(
        q(&mut c, &["XADD", "nokey", "NOMKSTREAM", "*", "a", "1"]),
        Value::Nil
    );
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "nokey"]), 0);
    assert_eq!(
        q(&mut c, &["XRANGE", "s", "-", "+"]),
        Value::Array(vec![
            entry("1-1", &["a", "1"]),
            entry("1-2", &["b", "2"]),
            entry("5-0", &["c", "3"]),
            entry("7-3", &["d", "4"]),
        ])
    );
    // exclusive and incomplete bounds, COUNT, reverse
    assert_eq!(
        q(&mut c, &["XRANGE", "s", "(1-1", "5"]),
        Value::Array(vec![entry("1-2", &["b", "2"]), entry("5-0", &["c", "3"])])
    );
    assert_eq!(
        q(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "2"]),
        Value::Array(vec![entry("7-3", &["d", "4"]), entry("5-0", &["c", "3"])])
    );
    assert_eq!(
        q(&mut c, &["XREVRANGE", "s", "(5-0", "1"]),
        Value::Array(vec![entry("1-2", &["b", "2"]), entry("1-1", &["a", "1"])])
    );
    assert_eq!(
        q(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "0"]),
        Value::Nil
    );
    assert_eq!(
        q(&mut c, &["XRANGE", "missing", "-", "+"]),
        Value::Array(vec![])
    );
    // XDEL: only existing entries count; the stream remembers the max
    assert_eq!(run::<i64>(&mut c, &["XDEL", "s", "1-2", "9-9", "1-2"]), 1);
    assert_eq!(run::<i64>(&mut c, &["XLEN", "s"]), 3);
    // XTRIM MAXLEN and MINID
    assert_eq!(run::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "2"]), 1);
    assert_eq!(run::<i64>(&mut c, &["XTRIM", "s", "MINID", "=", "7"]), 1);
    assert_eq!(
        q(&mut c, &["XRANGE", "s", "-", "+"]),
        Value::Array(vec![entry("7-3", &["d", "4"])])
    );
    // XADD with MAXLEN trims in the same command; an empty stream stays
    assert_eq!(
        run::<String>(&mut c, &["XADD", "s", "MAXLEN", "0", "8-0", "e", "5"]),
        "8-0"
    );
    assert_eq!(run::<i64>(&mut c, &["XLEN", "s"]), 0);
    assert_eq!(run::<i64>(&mut c, &["EXISTS", "s"]), 1);
    assert_eq!(
        q_err(&mut c, &["XADD", "s", "8-0", "x", "y"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    // XSETID
    assert_eq!(run::<String>(&mut c, &["XSETID", "s", "100-0"]), "OK");
    assert_eq!(
        run::<String>(&mut c, &["XADD", "s", "100-*", "f", "v"]),
        "100-1"
    );
    assert_eq!(
        q_err(&mut c, &["XSETID", "s", "50-0"]),
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    );
    assert_eq!(
        q_err(&mut c, &["XSETID", "nokey", "1-0"]),
        "ERR no such key"
    );
    // approximate trimming with LIMIT
    for i in 0..10 {
        run::<String>(&mut c, &["XADD", "t", &format!("{}-0", i + 1), "f", "v"]);
    }
    assert_eq!(
        run::<i64>(&mut c, &["XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "3"]),
        3
    );
    assert_eq!(run::<i64>(&mut c, &["XLEN", "t"]), 7);
}

#[test]
fn wrong_type_and_arity() {
    let s = server();
    let mut c = s.conn();
    run::<String>(&mut c, &["SET", "str", "v"]);
    for cmd in [
        &["XADD", "str", "*", "a", "1"][..],
        &["XLEN", "str"],
        &["XRANGE", "str", "-", "+"],
        &["XREVRANGE", "str", "+", "-"],
        &["XDEL", "str", "1-1"],
        &["XTRIM", "str", "MAXLEN", "1"],
        &["XREAD", "STREAMS", "str", "0"],
        &["XGROUP", "CREATE", "str", "g", "$"],
        &["XINFO", "STREAM", "str"],
        &["XPENDING", "str", "g"],
        &["XACK", "str", "g", "1-1"],
        &["XSETID", "str", "1-1"],
    ] {
        assert_eq!(q_err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    run::<String>(&mut c, &["XADD", "s", "1-1", "a", "1"]);
    assert_eq!(q_err(&mut c, &["LPUSH", "s", "x"]), WRONGTYPE);
    for (cmd, name) in [
        (&["XADD", "s", "*"][..], "xadd"),
        (&["XLEN"], "xlen"),
        (&["XRANGE", "s", "-"], "xrange"),
        (&["XREADGROUP", "GROUP", "g", "c"], "xreadgroup"),
        (&["XGROUP", "CREATE", "s"], "xgroup|create"),
        (&["XINFO", "GROUPS"], "xinfo|groups"),
    ] {
        assert_eq!(
            q_err(&mut c, cmd),
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
    assert_eq!(
        q_err(&mut c, &["XGROUP", "NOPE", "s", "g"]),
        "ERR unknown subcommand 'NOPE'. Try XGROUP HELP."
    );
}

#[test]
fn xread_gathers_keys_from_both_shards() {
    let s = server();
    let mut c = s.conn();
    run::<String>(&mut c, &["XADD", "foo", "1-0", "a", "1"]);
    run::<String>(&mut c, &["XADD", "foo", "2-0", "a", "2"]);
    run::<String>(&mut c, &["XADD", "bar", "3-0", "b", "3"]);
    assert_eq!(
        q(&mut c, &["XREAD", "STREAMS", "foo", "bar", "0", "0"]),
        read_reply(vec![
            (
                "foo",
                vec![entry("1-0", &["a", "1"]), entry("2-0", &["a", "2"])]
            ),
            ("bar", vec![entry("3-0", &["b", "3"])]),
        ])
    );
    assert_eq!(
        q(
            &mut c,
            &["XREAD", "COUNT", "1", "STREAMS", "bar", "foo", "0", "1-0"]
        ),
        read_reply(vec![
            ("bar", vec![entry("3-0", &["b", "3"])]),
            ("foo", vec![entry("2-0", &["a", "2"])]),
        ])
    );
    // nothing new: a null array, also for `$` and missing keys
    assert_eq!(
        q(
            &mut c,
            &["XREAD", "STREAMS", "foo", "bar", "missing", "$", "$", "0"]
        ),
        Value::Nil
    );
    // a timeout answers a null array too
    let t = Instant::now();
    assert_eq!(
        q(
            &mut c,
            &["XREAD", "BLOCK", "200", "STREAMS", "foo", "bar", "$", "$"]
        ),
        Value::Nil
    );
    assert!(t.elapsed() >= Duration::from_millis(190));
    // RESP3: a map of key → entries
    let mut r = Raw::connect(s.port);
    r.send(b"HELLO 3\r\n");
    r.read_until(b"modules\r\n*0\r\n");
    r.roundtrip(
        b"XREAD STREAMS bar 0\r\n",
        b"%1\r\n$3\r\nbar\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nb\r\n$1\r\n3\r\n",
    );
}

#[test]
fn blocking_xread_is_woken_by_xadd_from_another_connection() {
    let s = server();
    let mut c = s.conn();
    for (round, key) in ["foo", "bar", "foo", "bar"].iter().enumerate() {
        let waiter = spawn_command(&s, &["XREAD", "BLOCK", "0", "STREAMS", key, "$"]);
        settle();
        let id = format!("{}-1", round + 1);
        run::<String>(&mut c, &["XADD", key, &id, "n", &round.to_string()]);
        let (reply, took) = waiter.join().unwrap();
        assert_eq!(
            reply,
            read_reply(vec![(key, vec![entry(&id, &["n", &round.to_string()])])])
        );
        assert!(took < Duration::from_secs(5));
    }
    // keys on both shards: the one written serves
    let waiter = spawn_command(
        &s,
        &["XREAD", "BLOCK", "5000", "STREAMS", "foo", "bar", "$", "$"],
    );
    settle();
    run::<String>(&mut c, &["XADD", "bar", "9-0", "x", "y"]);
    assert_eq!(
        waiter.join().unwrap().0,
        read_reply(vec![("bar", vec![entry("9-0", &["x", "y"])])])
    );
    // a stream created while waiting (ID 0 on a missing key)
    let waiter = spawn_command(&s, &["XREAD", "BLOCK", "5000", "STREAMS", "fresh", "0"]);
    settle();
    run::<String>(&mut c, &["XADD", "fresh", "1-0", "k", "v"]);
    assert_eq!(
        waiter.join().unwrap().0,
        read_reply(vec![("fresh", vec![entry("1-0", &["k", "v"])])])
    );
}

#[test]
fn blocking_xreadgroup_is_woken_by_xadd() {
    let s = server();
    let mut c = s.conn();
    for key in ["foo", "bar"] {
        run::<String>(&mut c, &["XGROUP", "CREATE", key, "g", "$", "MKSTREAM"]);
        let waiter = spawn_command(
            &s,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "BLOCK",
                "0",
                "STREAMS",
                key,
                ">",
            ],
        );
        settle();
        run::<String>(&mut c, &["XADD", key, "5-0", "f", "v"]);
        assert_eq!(
            waiter.join().unwrap().0,
            read_reply(vec![(key, vec![entry("5-0", &["f", "v"])])])
        );
        // delivered: pending for alice, the group moved on
        let summary = q(&mut c, &["XPENDING", key, "g"]);
        assert_eq!(
            summary,
            Value::Array(vec![
                Value::Int(1),
                bulk("5-0"),
                bulk("5-0"),
                Value::Array(vec![bulks(&["alice", "1"])]),
            ])
        );
    }
    // NOACK + timeout
    let t = Instant::now();
    assert_eq!(
        q(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "bob",
                "NOACK",
                "BLOCK",
                "100",
                "STREAMS",
                "foo",
                ">"
            ]
        ),
        Value::Nil
    );
    assert!(t.elapsed() >= Duration::from_millis(90));
    // destroying the group while blocked: woken with NOGROUP on the next write
    let waiter = spawn_command(
        &s,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "carol",
            "BLOCK",
            "5000",
            "STREAMS",
            "foo",
            ">",
        ],
    );
    settle();
    assert_eq!(run::<i64>(&mut c, &["XGROUP", "DESTROY", "foo", "g"]), 1);
    run::<String>(&mut c, &["XADD", "foo", "6-0", "f", "v"]);
    let (reply, _) = waiter.join().unwrap();
    assert!(format!("{reply:?}").contains("NOGROUP"), "{reply:?}");
}

#[test]
fn consumer_group_lifecycle() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(
        q_err(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
    assert_eq!(
        run::<String>(&mut c, &["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]),
        "OK"
    );
    assert_eq!(
        q_err(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]),
        "BUSYGROUP Consumer Group name already exists"
    );
    for i in 1..=5 {
        run::<String>(
            &mut c,
            &["XADD", "s", &format!("{i}-0"), "n", &i.to_string()],
        );
    }
    assert_eq!(
        q_err(
            &mut c,
            &["XREADGROUP", "GROUP", "nope", "c", "STREAMS", "s", ">"]
        ),
        "NOGROUP No such key 's' or consumer group 'nope' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "2",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        read_reply(vec![(
            "s",
            vec![entry("1-0", &["n", "1"]), entry("2-0", &["n", "2"])]
        )])
    );
    assert_eq!(
        q(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]
        ),
        read_reply(vec![(
            "s",
            vec![
                entry("3-0", &["n", "3"]),
                entry("4-0", &["n", "4"]),
                entry("5-0", &["n", "5"])
            ]
        )])
    );
    // nothing new
    assert_eq!(
        q(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]
        ),
        Value::Nil
    );
    // history: the consumer's own pending entries; a deleted one is nil
    run::<i64>(&mut c, &["XDEL", "s", "4-0"]);
    assert_eq!(
        q(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"]
        ),
        read_reply(vec![(
            "s",
            vec![
                entry("3-0", &["n", "3"]),
                Value::Array(vec![bulk("4-0"), Value::Nil]),
                entry("5-0", &["n", "5"]),
            ]
        )])
    );
    // XPENDING summary and extended forms
    assert_eq!(
        q(&mut c, &["XPENDING", "s", "g"]),
        Value::Array(vec![
            Value::Int(5),
            bulk("1-0"),
            bulk("5-0"),
            Value::Array(vec![bulks(&["alice", "2"]), bulks(&["bob", "3"])]),
        ])
    );
    let Value::Array(ext) = q(&mut c, &["XPENDING", "s", "g", "-", "+", "10", "bob"]) else {
        panic!()
    };
    assert_eq!(ext.len(), 3);
    let Value::Array(first) = &ext[0] else {
        panic!()
    };
    assert_eq!(first[0], bulk("3-0"));
    assert_eq!(first[1], bulk("bob"));
    assert_eq!(first[3], Value::Int(2)); // delivered twice (history read)
    assert_eq!(
        q(
            &mut c,
            &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"]
        ),
        Value::Array(vec![])
    );
    // XACK
    assert_eq!(
        run::<i64>(&mut c, &["XACK", "s", "g", "1-0", "1-0", "9-0"]),
        1
    );
    // XCLAIM: JUSTID keeps the count; a deleted entry leaves the PEL
    assert_eq!(
        q(
            &mut c,
            &["XCLAIM", "s", "g", "carol", "0", "2-0", "4-0", "JUSTID"]
        ),
        bulks(&["2-0"])
    );
    assert_eq!(
        q(
            &mut c,
            &["XCLAIM", "s", "g", "carol", "0", "3-0", "RETRYCOUNT", "7"]
        ),
        Value::Array(vec![entry("3-0", &["n", "3"])])
    );
    let Value::Array(ext) = q(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]) else {
        panic!()
    };
    assert_eq!(ext[0], {
        let Value::Array(row) = &ext[0] else { panic!() };
        Value::Array(vec![
            bulk("3-0"),
            bulk("carol"),
            row[2].clone(),
            Value::Int(7),
        ])
    });
    // not idle enough: nothing claimed
    assert_eq!(
        q(&mut c, &["XCLAIM", "s", "g", "dave", "3600000", "5-0"]),
        Value::Array(vec![])
    );
    // XAUTOCLAIM: cursor, claimed, deleted IDs
    run::<i64>(&mut c, &["XDEL", "s", "5-0"]);
    assert_eq!(
        q(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1"]
        ),
        Value::Array(vec![
            bulk("3-0"),
            Value::Array(vec![entry("2-0", &["n", "2"])]),
            Value::Array(vec![]),
        ])
    );
    assert_eq!(
        q(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "dave", "0", "3-0", "JUSTID"]
        ),
        Value::Array(vec![bulk("0-0"), bulks(&["3-0"]), bulks(&["5-0"])])
    );
    // XINFO
    let groups = q(&mut c, &["XINFO", "GROUPS", "s"]);
    let Value::Array(groups) = groups else {
        panic!()
    };
    assert_eq!(field(&groups[0], "name"), bulk("g"));
    assert_eq!(field(&groups[0], "pending"), Value::Int(2));
    assert_eq!(field(&groups[0], "consumers"), Value::Int(4));
    assert_eq!(field(&groups[0], "last-delivered-id"), bulk("5-0"));
    assert_eq!(field(&groups[0], "entries-read"), Value::Int(5));
    assert_eq!(field(&groups[0], "lag"), Value::Int(0));
    let Value::Array(consumers) = q(&mut c, &["XINFO", "CONSUMERS", "s", "g"]) else {
        panic!()
    };
    let names: Vec<Value> = consumers.iter().map(|x| field(x, "name")).collect();
    assert_eq!(
        names,
        vec![bulk("alice"), bulk("bob"), bulk("carol"), bulk("dave")]
    );
    assert_eq!(field(&consumers[3], "pending"), Value::Int(2));
    let info = q(&mut c, &["XINFO", "STREAM", "s"]);
    assert_eq!(field(&info, "length"), Value::Int(3));
    assert_eq!(field(&info, "last-generated-id"), bulk("5-0"));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("5-0"));
    assert_eq!(field(&info, "entries-added"), Value::Int(5));
    assert_eq!(field(&info, "groups"), Value::Int(1));
    assert_eq!(field(&info, "first-entry"), entry("1-0", &["n", "1"]));
    assert_eq!(field(&info, "last-entry"), entry("3-0", &["n", "3"]));
    // consumers
    assert_eq!(
        run::<i64>(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "erin"]),
        1
    );
    assert_eq!(
        run::<i64>(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "erin"]),
        0
    );
    assert_eq!(
        run::<i64>(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "dave"]),
        2
    );
    assert_eq!(
        q(&mut c, &["XPENDING", "s", "g"]),
        Value::Array(vec![Value::Int(0), Value::Nil, Value::Nil, Value::Nil])
    );
    // SETID rewinds the group: entries are delivered again
    assert_eq!(
        run::<String>(&mut c, &["XGROUP", "SETID", "s", "g", "0"]),
        "OK"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "erin",
                "NOACK",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        read_reply(vec![(
            "s",
            vec![
                entry("1-0", &["n", "1"]),
                entry("2-0", &["n", "2"]),
                entry("3-0", &["n", "3"])
            ]
        )])
    );
    assert_eq!(run::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]), 1);
    assert_eq!(run::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]), 0);
    assert_eq!(
        q_err(&mut c, &["XPENDING", "s", "g"]),
        "NOGROUP No such key 's' or consumer group 'g'"
    );
    assert_eq!(
        field(&q(&mut c, &["XINFO", "STREAM", "s"]), "groups"),
        Value::Int(0)
    );
}

#[test]
fn streams_and_groups_survive_kill_9() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        for key in ["foo", "bar"] {
            for i in 1..=3 {
                run::<String>(
                    &mut c,
                    &["XADD", key, &format!("{i}-0"), "n", &i.to_string()],
                );
            }
            run::<String>(&mut c, &["XGROUP", "CREATE", key, "g", "0"]);
            q(
                &mut c,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "alice",
                    "COUNT",
                    "2",
                    "STREAMS",
                    key,
                    ">",
                ],
            );
            run::<i64>(&mut c, &["XACK", key, "g", "1-0"]);
        }
        run::<i64>(&mut c, &["XDEL", "foo", "3-0"]);
        run::<String>(&mut c, &["XADD", "empty", "MAXLEN", "0", "1-0", "a", "b"]);
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(run::<i64>(&mut c, &["XLEN", "foo"]), 2);
    assert_eq!(run::<i64>(&mut c, &["XLEN", "bar"]), 3);
    assert_eq!(run::<i64>(&mut c, &["XLEN", "empty"]), 0);
    assert_eq!(run::<String>(&mut c, &["TYPE", "empty"]), "stream");
    for key in ["foo", "bar"] {
        assert_eq!(
            q(&mut c, &["XPENDING", key, "g"]),
            Value::Array(vec![
                Value::Int(1),
                bulk("2-0"),
                bulk("2-0"),
                Value::Array(vec![bulks(&["alice", "1"])]),
            ])
        );
    }
    // the group resumes where it was
    assert_eq!(
        q(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "bar", ">"]
        ),
        read_reply(vec![("bar", vec![entry("3-0", &["n", "3"])])])
    );
    assert_eq!(
        q_err(&mut c, &["XADD", "foo", "3-0", "x", "y"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        field(
            &q(&mut c, &["XINFO", "STREAM", "foo"]),
            "max-deleted-entry-id"
        ),
        bulk("3-0")
    );
}
