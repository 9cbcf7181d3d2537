//! Wire protocol and server commands: pipelining, inline commands, RESP3,
//! protocol errors, HELLO/CLIENT/CONFIG/INFO/COMMAND.
mod common;
use common::{q_err, Raw, Server};
use redis::Commands;

#[test]
fn pipeline_of_1000_commands() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET").arg(format!("p{i}")).arg(i).ignore();
    }
    for i in 0..1000 {
        p.cmd("GET").arg(format!("p{i}"));
    }
    let vals: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(vals, (0..1000).collect::<Vec<_>>());
    // raw pipeline in a single write: replies come back in order
    let mut raw = Raw::connect(s.port);
    let mut req = Vec::new();
    let mut expect = Vec::new();
    for i in 0..1000 {
        req.extend_from_slice("*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n".to_string().as_bytes());
        expect.extend_from_slice(format!(":{}\r\n", i + 1).as_bytes());
    }
    raw.roundtrip(&req, &expect);
}

/// A pipeline's commands for another core's keys travel to it as one job
/// per turn: each key still sees them in order and the replies come back
/// in order, also when multi-key commands of the same pipeline run between
/// them and while another client's MGETs lock the same keys on both cores
/// (the job then waits for the locks).
/// Pipelined reads whose hot-cache entries are prefetched before they run
/// (`server::connection::prefetch_keys`): keys of both shards, short and
/// long, in two databases, written and deleted within the same pipeline.
#[test]
fn pipelined_reads_see_every_write_before_them() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let long = "k".repeat(100);
    let keys: Vec<String> = (0..40)
        .map(|i| format!("key:{i}"))
        .chain([long.clone()])
        .collect();
    for (i, k) in keys.iter().enumerate() {
        let _: () = c.set(k, format!("db0-{i}-{}", "v".repeat(i * 10))).unwrap();
    }
    let mut p = redis::pipe();
    p.cmd("SELECT").arg(1).ignore();
    for k in &keys {
        p.cmd("SET").arg(k).arg(format!("db1-{k}")).ignore();
    }
    p.cmd("SELECT").arg(0).ignore();
    p.query::<()>(&mut c).unwrap();
    let mut p = redis::pipe();
    let mut expect: Vec<Option<String>> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        p.cmd("GET").arg(k);
        expect.push(Some(format!("db0-{i}-{}", "v".repeat(i * 10))));
        match i % 4 {
            0 => {
                p.cmd("SET").arg(k).arg("new").ignore();
                p.cmd("GET").arg(k);
                expect.push(Some("new".into()));
            }
            1 => {
                p.cmd("DEL").arg(k).ignore();
                p.cmd("GET").arg(k);
                expect.push(None);
            }
            2 => {
                p.cmd("SELECT").arg(1).ignore();
                p.cmd("GET").arg(k);
                p.cmd("SELECT").arg(0).ignore();
                expect.push(Some(format!("db1-{k}")));
            }
            _ => {}
        }
    }
    let got: Vec<Option<String>> = p.query(&mut c).unwrap();
    assert_eq!(got, expect);
    // members of hashes, sets and sorted sets, read in the same pipeline
    // as writes that replace their collection (a new version)
    let mut p = redis::pipe();
    let mut expect: Vec<redis::Value> = Vec::new();
    use redis::Value::{BulkString, Int, Nil};
    for i in 0..12 {
        let (h, s, z) = (format!("h{i}"), format!("s{i}"), format!("z{i}"));
        p.cmd("HSET").arg(&h).arg("f").arg("old").ignore();
        p.cmd("SADD").arg(&s).arg("m").ignore();
        p.cmd("ZADD").arg(&z).arg(1).arg("m").ignore();
        p.cmd("HGET").arg(&h).arg("f");
        expect.push(BulkString(b"old".to_vec()));
        p.cmd("DEL").arg(&h).arg(&s).arg(&z).ignore();
        p.cmd("HGET").arg(&h).arg("f");
        p.cmd("SISMEMBER").arg(&s).arg("m");
        p.cmd("ZSCORE").arg(&z).arg("m");
        expect.extend([Nil, Int(0), Nil]);
        p.cmd("HSET").arg(&h).arg("f").arg("new").ignore();
        p.cmd("SADD").arg(&s).arg("n").ignore();
        p.cmd("ZADD").arg(&z).arg(2).arg("m").ignore();
        p.cmd("HGET").arg(&h).arg("f");
        p.cmd("SISMEMBER").arg(&s).arg("m");
        p.cmd("ZSCORE").arg(&z).arg("m");
        expect.extend([
            BulkString(b"new".to_vec()),
            Int(0),
            BulkString(b"2".to_vec()),
        ]);
    }
    let got: Vec<redis::Value> = p.query(&mut c).unwrap();
    assert_eq!(got, expect);
    // MGETs of more keys than one look ahead covers (32), around deletes
    let names: Vec<String> = (0..60).map(|i| format!("m{i}")).collect();
    for (i, k) in names.iter().enumerate() {
        let _: () = c.set(k, format!("value-{i}-{}", "x".repeat(40))).unwrap();
    }
    let mut p = redis::pipe();
    let mut expect: Vec<Vec<Option<String>>> = Vec::new();
    let mut live: Vec<bool> = vec![true; names.len()];
    for round in 0..8 {
        let first = round * 5;
        p.cmd("DEL").arg(&names[first + 3]).ignore();
        live[first + 3] = false;
        let batch = &names[first..first + 20];
        p.cmd("MGET").arg(batch);
        expect.push(
            (first..first + 20)
                .map(|i| live[i].then(|| format!("value-{i}-{}", "x".repeat(40))))
                .collect(),
        );
    }
    let got: Vec<Vec<Option<String>>> = p.query(&mut c).unwrap();
    assert_eq!(got, expect);
}

#[test]
fn pipelined_commands_for_other_cores_keep_their_order() {
    use redis::Value;
    let s = Server::start(2, &[]);
    let keys: Vec<String> = (0..100).map(|i| format!("o{i}")).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (mut c, stop, keys) = (s.conn(), stop.clone(), keys.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _: Vec<Option<String>> = c.mget(&keys).unwrap();
                n += 1;
            }
            n
        })
    };
    let mut c = s.conn();
    for round in 0..30 {
        let mut p = redis::pipe();
        let mut want = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            p.cmd("SET").arg(k).arg(round);
            p.cmd("APPEND").arg(k).arg("x");
            p.cmd("GET").arg(k);
            p.cmd("DEL").arg(k);
            p.cmd("INCR").arg(k);
            p.cmd("INCRBY").arg(k).arg(5);
            let v = format!("{round}x");
            want.extend([
                Value::Okay,
                Value::Int(v.len() as i64),
                Value::BulkString(v.into_bytes()),
                Value::Int(1),
                Value::Int(1),
                Value::Int(6),
            ]);
            if i % 25 == 24 {
                p.cmd("MGET").arg(&keys[0]).arg(&keys[i]);
                let six = Value::BulkString(b"6".to_vec());
                want.push(Value::Array(vec![six.clone(), six]));
            }
        }
        let got: Vec<Value> = p.query(&mut c).unwrap();
        assert_eq!(got, want, "round {round}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
}

#[test]
fn inline_commands_and_quit() {
    let s = Server::start(2, &[]);
    let mut raw = Raw::connect(s.port);
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"SET greeting \"hello world\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET greeting\n", b"$11\r\nhello world\r\n");
    raw.roundtrip(b"\r\nEXISTS greeting nope\r\n", b":1\r\n");
    raw.roundtrip(b"QUIT\r\n", b"+OK\r\n");
    assert!(raw.closed());
}

#[test]
fn protocol_errors_close_the_connection() {
    let s = Server::start(1, &[]);
    for (req, msg) in [
        (
            &b"*1\r\n:5\r\n"[..],
            "-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-3\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut raw = Raw::connect(s.port);
        raw.roundtrip(req, msg.as_bytes());
        assert!(
            raw.closed(),
            "connection stays open after {:?}",
            String::from_utf8_lossy(req)
        );
    }
    // the server is still fine
    let mut c = s.conn();
    assert_eq!(redis::cmd("PING").query::<String>(&mut c).unwrap(), "PONG");
}

#[test]
fn unknown_command_and_arity() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    assert_eq!(
        q_err(&mut c, &["FOOBAR", "a", "b"]),
        "ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        q_err(&mut c, &["PING", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(
        q_err(&mut c, &["ECHO"]),
        "ERR wrong number of arguments for 'echo' command"
    );
    assert_eq!(
        redis::cmd("ECHO")
            .arg("hi")
            .query::<String>(&mut c)
            .unwrap(),
        "hi"
    );
}

#[test]
fn resp3_via_hello() {
    let s = Server::start(2, &[]);
    let mut raw = Raw::connect(s.port);
    raw.send(b"HELLO 3\r\n");
    let hello = String::from_utf8(raw.read_until(b"$7\r\nmodules\r\n*0\r\n")).unwrap();
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{hello}");
    raw.roundtrip(b"GET nothing\r\n", b"_\r\n");
    raw.roundtrip(
        b"CONFIG GET port\r\n",
        format!(
            "%1\r\n$4\r\nport\r\n${}\r\n{}\r\n",
            s.port.to_string().len(),
            s.port
        )
        .as_bytes(),
    );
    raw.roundtrip(b"SET f 1\r\nINCRBYFLOAT f 0.5\r\n", b"+OK\r\n$3\r\n1.5\r\n");
    raw.send(b"HELLO 2\r\n");
    let hello = String::from_utf8(raw.read_until(b"$7\r\nmodules\r\n*0\r\n")).unwrap();
    assert!(hello.starts_with("*14\r\n"), "{hello}");
    raw.roundtrip(b"GET nothing\r\n", b"$-1\r\n");
    raw.roundtrip(b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n");
    // the redis crate speaking RESP3
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", s.port)).unwrap();
    let mut c = client.get_connection().unwrap();
    let _: () = c.set("r3", "v").unwrap();
    assert_eq!(c.get::<_, String>("r3").unwrap(), "v");
}

#[test]
fn client_commands() {
    let s = Server::start(2, &[]);
    let mut a = s.conn();
    let mut b = s.conn();
    let id_a: i64 = redis::cmd("CLIENT").arg("ID").query(&mut a).unwrap();
    let id_b: i64 = redis::cmd("CLIENT").arg("ID").query(&mut b).unwrap();
    assert_ne!(id_a, id_b);
    assert_eq!(
        redis::cmd("CLIENT")
            .arg("GETNAME")
            .query::<Option<String>>(&mut a)
            .unwrap(),
        None
    );
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("worker-a")
        .query(&mut a)
        .unwrap();
    assert_eq!(
        redis::cmd("CLIENT")
            .arg("GETNAME")
            .query::<String>(&mut a)
            .unwrap(),
        "worker-a"
    );
    assert_eq!(
        q_err(&mut a, &["CLIENT", "SETNAME", "has space"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    let _: () = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-NAME")
        .arg("mylib")
        .query(&mut a)
        .unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut b).unwrap();
    assert!(
        list.contains(&format!("id={id_a} "))
            && list.contains("name=worker-a")
            && list.contains("lib-name=mylib"),
        "{list}"
    );
    assert!(list.contains(&format!("id={id_b} ")));
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut a).unwrap();
    assert!(info.starts_with(&format!("id={id_a} ")));
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id_a)
        .query(&mut b)
        .unwrap();
    assert_eq!(killed, 1);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        redis::cmd("PING").query::<String>(&mut a).is_err(),
        "killed client still served"
    );
    assert_eq!(
        q_err(&mut b, &["CLIENT", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    );
}

#[test]
fn config_get_set() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec!["appendfsync", "everysec"]);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query(&mut c)
        .unwrap();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec!["appendfsync", "always"]);
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("max*")
        .query(&mut c)
        .unwrap();
    assert!(
        v.contains(&"maxclients".to_string()) && v.contains(&"max-log-size".to_string()),
        "{v:?}"
    );
    assert_eq!(
        q_err(&mut c, &["CONFIG", "SET", "port", "1"]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    assert_eq!(
        q_err(&mut c, &["CONFIG", "SET", "nope", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nope'"
    );
    assert_eq!(
        q_err(&mut c, &["CONFIG", "SET", "appendfsync", "sometimes"]),
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec, no"
    );
    assert_eq!(
        q_err(&mut c, &["CONFIG", "GET"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
}

#[test]
fn info_command_time() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let _: () = c.set("a", 1).unwrap();
    let _: () = redis::cmd("SET")
        .arg("b")
        .arg(1)
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let info: String = redis::cmd("INFO").query(&mut c).unwrap();
    for needle in [
        "redis_version:7.0.15",
        "arch_bits:64",
        "role:master",
        "connected_clients:1",
        "db0:keys=2,expires=1",
        "shard0:",
        "shard1:",
        "used_memory:",
    ] {
        assert!(info.contains(needle), "INFO lacks {needle}:\n{info}");
    }
    let server_only: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
    assert!(server_only.contains("# Server") && !server_only.contains("# Keyspace"));
    let n: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    assert!(n > 60, "{n}");
    let info: redis::Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg("get")
        .query(&mut c)
        .unwrap();
    let text = format!("{info:?}");
    assert!(text.contains("get") && text.contains("readonly"), "{text}");
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("MSET")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys, vec!["a", "b"]);
    let names: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut c).unwrap();
    for name in ["get", "set", "scan", "bitop", "client", "substr"] {
        assert!(names.iter().any(|n| n == name), "COMMAND LIST lacks {name}");
    }
    let docs: redis::Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("set")
        .query(&mut c)
        .unwrap();
    assert!(format!("{docs:?}").contains("group"), "{docs:?}");
    let all: Vec<redis::Value> = redis::cmd("COMMAND").query(&mut c).unwrap();
    assert_eq!(all.len() as i64, n);
    let _: () = c.set("sub", "Hello").unwrap();
    assert_eq!(
        redis::cmd("SUBSTR")
            .arg("sub")
            .arg(1)
            .arg(3)
            .query::<String>(&mut c)
            .unwrap(),
        "ell"
    );
    let t: Vec<String> = redis::cmd("TIME").query(&mut c).unwrap();
    assert!(t[0].parse::<u64>().unwrap() > 1_600_000_000);
}

#[test]
fn redis_cli_talks_to_us() {
    let Ok(out) = std::process::Command::new("redis-cli").arg("-v").output() else {
        panic!("redis-cli is not installed: run scripts/setup.sh (installs redis-tools)");
    };
    assert!(out.status.success());
    let s = Server::start(2, &[]);
    let run = |args: &[&str]| -> String {
        let out = std::process::Command::new("redis-cli")
            .arg("-p")
            .arg(s.port.to_string())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run(&["SET", "cli", "works"]), "OK");
    assert_eq!(run(&["GET", "cli"]), "works");
    assert!(run(&["INFO", "server"]).contains("redis_version"));
    assert_eq!(run(&["DBSIZE"]), "1");
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn idle_server_sleeps() {
    let s = Server::start(2, &[]);
    let pid = s.child.as_ref().unwrap().id();
    let mut c = s.conn();
    let _: () = c.set("warm", 1).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = cpu_ticks(pid);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    // 2 s of wall time; a spinning executor would burn ~200 ticks per core
    assert!(used < 20, "idle server used {used} clock ticks in 2 s");
}

#[test]
fn maxclients_and_idle_timeout() {
    let s = Server::start(1, &[]);
    let mut admin = s.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg("2")
        .query(&mut admin)
        .unwrap();
    let mut second = Raw::connect(s.port);
    second.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut third = Raw::connect(s.port);
    third.roundtrip(b"PING\r\n", b"-ERR max number of clients reached\r\n");
    assert!(third.closed());
    drop(second);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg("100")
        .query(&mut admin)
        .unwrap();
    // idle clients are closed after `timeout` seconds
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("timeout")
        .arg("1")
        .query(&mut admin)
        .unwrap();
    let mut idle = Raw::connect(s.port);
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(
        idle.closed(),
        "idle client still connected after the timeout"
    );
}

#[test]
fn big_values_round_trip() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let big = vec![b'z'; 20 * 1024 * 1024];
    let _: () = c.set("big", &big).unwrap();
    assert_eq!(c.get::<_, Vec<u8>>("big").unwrap().len(), big.len());
    assert_eq!(
        redis::cmd("STRLEN")
            .arg("big")
            .query::<i64>(&mut c)
            .unwrap(),
        big.len() as i64
    );
    let _: () = c.set("big", "small").unwrap();
    assert_eq!(c.get::<_, String>("big").unwrap(), "small");
}
