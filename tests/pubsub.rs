//! Pub/Sub: delivery across cores, patterns, ordering, subscribe mode in
//! RESP2 and RESP3, introspection, shard channels, slow subscribers, and a
//! byte-for-byte comparison with redis-server.
mod common;
use common::reference::start_redis;
use common::{int, query, strings, Raw, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A raw connection that reads whole RESP frames, rendered as words:
/// bulk strings as text, integers as `:n`, nil as `nil`.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    /// Sends one command (inline arguments, no spaces inside).
    fn send(&mut self, args: &[&str]) {
        let mut b = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            b.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.w.write_all(&b).unwrap();
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        assert!(l.ends_with("\r\n"), "short read: {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    /// Reads one frame, flattened into words; arrays and pushes are
    /// prefixed by their type and length (`*3` / `>3`).
    fn frame(&mut self) -> Vec<String> {
        let l = self.line();
        let (tag, rest) = l.split_at(1);
        match tag {
            "*" | ">" | "%" => {
                let n: i64 = rest.parse().unwrap();
                let mut out = vec![l.clone()];
                let n = if tag == "%" { n * 2 } else { n };
                for _ in 0..n.max(0) {
                    out.extend(self.frame());
                }
                out
            }
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return vec!["nil".into()];
                }
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                vec![String::from_utf8_lossy(&b).into_owned()]
            }
            "_" => vec!["nil".into()],
            ":" | "+" | "-" => vec![l],
            _ => panic!("unexpected frame {l:?}"),
        }
    }

    /// Sends a command and returns its first reply frame.
    fn call(&mut self, args: &[&str]) -> Vec<String> {
        self.send(args);
        self.frame()
    }
}

fn words(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn shard_of(c: &mut Conn) -> String {
    let info = c.call(&["CLIENT", "INFO"]).join(" ");
    common::client_field(&info, "shard").unwrap().to_string()
}

#[test]
fn publish_reaches_subscribers_on_every_core_and_patterns() {
    let s = Server::start(2, &[]);
    let mut subs: Vec<Conn> = (0..8).map(|_| Conn::open(s.port)).collect();
    let shards: std::collections::BTreeSet<String> = subs.iter_mut().map(shard_of).collect();
    assert_eq!(shards.len(), 2, "subscribers on both cores: {shards:?}");
    for c in &mut subs[..6] {
        assert_eq!(
            c.call(&["SUBSCRIBE", "news"]),
            words(&["*3", "subscribe", "news", ":1"])
        );
    }
    for c in &mut subs[6..] {
        assert_eq!(
            c.call(&["PSUBSCRIBE", "n*s"]),
            words(&["*3", "psubscribe", "n*s", ":1"])
        );
    }
    let mut p = s.conn();
    assert_eq!(int(&mut p, &["PUBLISH", "news", "hello"]), 8);
    assert_eq!(int(&mut p, &["PUBLISH", "nothing", "x"]), 0);
    assert_eq!(int(&mut p, &["PUBLISH", "nets", "y"]), 2);
    for c in &mut subs[..6] {
        assert_eq!(c.frame(), words(&["*3", "message", "news", "hello"]));
    }
    for c in &mut subs[6..] {
        assert_eq!(
            c.frame(),
            words(&["*4", "pmessage", "n*s", "news", "hello"])
        );
        assert_eq!(c.frame(), words(&["*4", "pmessage", "n*s", "nets", "y"]));
    }
}

#[test]
fn each_publishers_messages_arrive_in_order() {
    const N: usize = 10_000;
    let s = Server::start(2, &[]);
    let mut subs: Vec<Conn> = (0..4).map(|_| Conn::open(s.port)).collect();
    for c in &mut subs {
        c.call(&["SUBSCRIBE", "seq"]);
    }
    let publishers: Vec<_> = (0..2)
        .map(|p| {
            let port = s.port;
            std::thread::spawn(move || {
                let mut raw = Raw::connect(port);
                let mut batch = Vec::new();
                for i in 0..N {
                    let m = format!("{p}:{i}");
                    batch.extend_from_slice(
                        format!(
                            "*3\r\n$7\r\nPUBLISH\r\n$3\r\nseq\r\n${}\r\n{m}\r\n",
                            m.len()
                        )
                        .as_bytes(),
                    );
                }
                raw.send(&batch);
                let replies = raw.read_n(N * 4);
                assert_eq!(replies, b":4\r\n".repeat(N));
            })
        })
        .collect();
    for c in &mut subs {
        let mut next = [0usize; 2];
        for _ in 0..2 * N {
            let f = c.frame();
            assert_eq!(f[..3], words(&["*3", "message", "seq"]));
            let (p, i) = f[3].split_once(':').unwrap();
            let p: usize = p.parse().unwrap();
            assert_eq!(
                i.parse::<usize>().unwrap(),
                next[p],
                "publisher {p} out of order"
            );
            next[p] += 1;
        }
    }
    for t in publishers {
        t.join().unwrap();
    }
}

const ONLY: &str =
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

#[test]
fn resp2_subscribe_mode_allows_only_pubsub_commands() {
    let s = Server::start(2, &[]);
    let mut c = Conn::open(s.port);
    c.call(&["SUBSCRIBE", "a"]);
    assert_eq!(
        c.call(&["GET", "k"]),
        [format!("-ERR Can't execute 'get': {ONLY}")]
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "x"]),
        [format!("-ERR Can't execute 'config|get': {ONLY}")]
    );
    assert_eq!(c.call(&["PING"]), words(&["*2", "pong", ""]));
    assert_eq!(c.call(&["PING", "hi"]), words(&["*2", "pong", "hi"]));
    // arity errors come first, as in Redis
    assert_eq!(
        c.call(&["GET"]),
        ["-ERR wrong number of arguments for 'get' command"]
    );
    // leaving the last subscription returns to normal mode
    assert_eq!(
        c.call(&["UNSUBSCRIBE"]),
        words(&["*3", "unsubscribe", "a", ":0"])
    );
    assert_eq!(c.call(&["PING"]), ["+PONG"]);
    assert_eq!(c.call(&["GET", "k"]), ["nil"]);
    assert_eq!(
        c.call(&["UNSUBSCRIBE"]),
        words(&["*3", "unsubscribe", "nil", ":0"])
    );
    assert_eq!(c.call(&["QUIT"]), ["+OK"]);
}

#[test]
fn resp3_pushes_messages_and_keeps_normal_commands() {
    let s = Server::start(2, &[]);
    let mut c = Conn::open(s.port);
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["SUBSCRIBE", "a", "b"]),
        words(&[">3", "subscribe", "a", ":1"])
    );
    assert_eq!(c.frame(), words(&[">3", "subscribe", "b", ":2"]));
    assert_eq!(c.call(&["SET", "k", "v"]), ["+OK"]);
    assert_eq!(c.call(&["GET", "k"]), ["v"]);
    assert_eq!(c.call(&["PING"]), ["+PONG"]);
    let mut p = s.conn();
    assert_eq!(int(&mut p, &["PUBLISH", "b", "hi"]), 1);
    // delivered while the client sends nothing
    assert_eq!(c.frame(), words(&[">3", "message", "b", "hi"]));
    // a message to itself comes before the PUBLISH reply, as in Redis
    c.send(&["PUBLISH", "a", "self"]);
    assert_eq!(c.frame(), words(&[">3", "message", "a", "self"]));
    assert_eq!(c.frame(), [":1"]);
    assert_eq!(
        c.call(&["UNSUBSCRIBE", "a"]),
        words(&[">3", "unsubscribe", "a", ":1"])
    );
    assert_eq!(
        c.call(&["PUNSUBSCRIBE"]),
        words(&[">3", "punsubscribe", "nil", ":1"])
    );
}

#[test]
fn pubsub_introspection_client_list_and_info() {
    let s = Server::start(2, &[]);
    let mut a = Conn::open(s.port);
    let mut b = Conn::open(s.port);
    let a_id = a.call(&["CLIENT", "ID"])[0].clone();
    a.call(&["SUBSCRIBE", "news.tech", "news.art"]);
    a.frame();
    a.call(&["PSUBSCRIBE", "news.*"]);
    b.call(&["SUBSCRIBE", "news.tech"]);
    b.call(&["SSUBSCRIBE", "orders"]);
    let mut c = s.conn();
    let mut ch = strings(&mut c, &["PUBSUB", "CHANNELS"]);
    ch.sort();
    assert_eq!(ch, ["news.art", "news.tech"]);
    assert_eq!(
        strings(&mut c, &["PUBSUB", "CHANNELS", "*art"]),
        ["news.art"]
    );
    let numsub: Vec<(String, i64)> = query(&mut c, &["PUBSUB", "NUMSUB", "news.tech", "x"]);
    assert_eq!(numsub, [("news.tech".into(), 2), ("x".into(), 0)]);
    assert_eq!(int(&mut c, &["PUBSUB", "NUMPAT"]), 1);
    assert_eq!(strings(&mut c, &["PUBSUB", "SHARDCHANNELS"]), ["orders"]);
    let shardsub: Vec<(String, i64)> = query(&mut c, &["PUBSUB", "SHARDNUMSUB", "orders"]);
    assert_eq!(shardsub, [("orders".into(), 1)]);
    assert!(strings(&mut c, &["PUBSUB", "HELP"])[0].starts_with("PUBSUB <subcommand>"));
    assert_eq!(
        common::q_err(&mut c, &["PUBSUB", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try PUBSUB HELP."
    );
    let line: String = query(&mut c, &["CLIENT", "LIST", "ID", &a_id[1..]]);
    assert!(
        line.contains(" flags=P ") && line.contains(" sub=2 psub=1 ssub=0 "),
        "{line}"
    );
    let info: String = query(&mut c, &["INFO", "stats"]);
    assert!(info.contains("pubsub_channels:2\r\n"), "{info}");
    assert!(info.contains("pubsub_patterns:1\r\n"), "{info}");
    // a closed connection leaves its subscriptions
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(5);
    while int(&mut c, &["PUBSUB", "NUMPAT"]) != 0 {
        assert!(
            Instant::now() < deadline,
            "subscriptions outlived the connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let numsub: Vec<(String, i64)> = query(&mut c, &["PUBSUB", "NUMSUB", "news.tech"]);
    assert_eq!(numsub, [("news.tech".into(), 1)]);
}

#[test]
fn shard_channels_and_unsubscribe_all() {
    let s = Server::start(2, &[]);
    let mut c = Conn::open(s.port);
    assert_eq!(
        c.call(&["SSUBSCRIBE", "s1", "s2"]),
        words(&["*3", "ssubscribe", "s1", ":1"])
    );
    assert_eq!(c.frame(), words(&["*3", "ssubscribe", "s2", ":2"]));
    c.call(&["SUBSCRIBE", "c1"]);
    let mut p = s.conn();
    assert_eq!(int(&mut p, &["SPUBLISH", "s2", "m"]), 1);
    assert_eq!(int(&mut p, &["PUBLISH", "s2", "m"]), 0);
    assert_eq!(c.frame(), words(&["*3", "smessage", "s2", "m"]));
    // UNSUBSCRIBE leaves channels only: still in subscribe mode for s1, s2
    assert_eq!(
        c.call(&["UNSUBSCRIBE"]),
        words(&["*3", "unsubscribe", "c1", ":0"])
    );
    assert!(c.call(&["GET", "k"])[0].starts_with("-ERR Can't execute 'get'"));
    let mut left = vec![c.call(&["SUNSUBSCRIBE"]), c.frame()];
    left.sort();
    assert_eq!(
        left,
        [
            words(&["*3", "sunsubscribe", "s1", ":1"]),
            words(&["*3", "sunsubscribe", "s2", ":0"])
        ]
    );
    assert_eq!(c.call(&["GET", "k"]), ["nil"]);
    assert_eq!(int(&mut p, &["SPUBLISH", "s1", "m"]), 0);
}

fn rss(c: &mut redis::Connection) -> u64 {
    let info: String = query(c, &["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory_rss:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_subscriber_that_never_reads_is_cut_off() {
    let s = Server::start(2, &[]);
    let mut p = s.conn();
    let _: () = query(
        &mut p,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 256kb 60",
        ],
    );
    let mut slow = Conn::open(s.port);
    let id = slow.call(&["CLIENT", "ID"])[0][1..].to_string();
    slow.call(&["SUBSCRIBE", "firehose"]);
    let before = rss(&mut p);
    // 50 MB of messages the subscriber never reads
    let msg = "x".repeat(100_000);
    let mut delivered = 0;
    for _ in 0..500 {
        delivered += int(&mut p, &["PUBLISH", "firehose", &msg]);
    }
    assert!(delivered < 500, "the subscriber was never cut off");
    let line: String = query(&mut p, &["CLIENT", "LIST", "ID", &id]);
    assert_eq!(line, "", "still connected");
    let growth = rss(&mut p).saturating_sub(before);
    assert!(growth < 30 << 20, "server memory grew by {growth} bytes");
    // the subscriber sees end of stream after what was already sent
    let mut sink = vec![0u8; 1 << 16];
    let mut got = 0;
    loop {
        match slow.r.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => panic!("no EOF after {got} bytes: {e}"),
        }
    }
    assert!(got < 20 << 20, "{got} bytes reached the slow subscriber");
    assert_eq!(int(&mut p, &["PUBLISH", "firehose", "x"]), 0);
}

#[test]
fn config_keyspace_events_and_output_buffer_limits_match_redis() {
    let redis = start_redis();
    let ours = Server::start(1, &[]);
    let mut conns = [ours.conn(), redis.conn()];
    let script: &[&[&str]] = &[
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "Elg"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "Kgx$lshzetdnm"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "Q"],
        &["CONFIG", "SET", "notify-keyspace-events", ""],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "GET", "client-output-buffer-limit"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb 5",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 1k 2 3 normal 5 6 7",
        ],
        &["CONFIG", "GET", "client-output-buffer-limit"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb",
        ],
        &["CONFIG", "SET", "client-output-buffer-limit", "foo 1 1 1"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub x 1 1",
        ],
        &["CONFIG", "GET", "client-output-buffer-limit"],
    ];
    for cmd in script {
        let args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        let [a, b] = conns.each_mut().map(|c| common::reference::run(c, &args));
        assert_eq!(a, b, "{cmd:?}");
    }
}

/// Redis's COMMAND INFO fields that do not depend on ACL category order.
fn command_shape(c: &mut redis::Connection, name: &str) -> String {
    let v: redis::Value = query(c, &["COMMAND", "INFO", name]);
    let redis::Value::Array(outer) = v else {
        panic!("{v:?}")
    };
    let redis::Value::Array(fields) = &outer[0] else {
        panic!("{outer:?}")
    };
    format!("{:?}", &fields[..6])
}

#[test]
fn command_table_matches_redis() {
    let redis = start_redis();
    let ours = Server::start(1, &[]);
    let mut theirs = redis.conn();
    let mut mine = ours.conn();
    // (COMMAND INFO PUBSUB closes the connection in redis-server 7.0.15)
    for name in [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
        "publish",
        "spublish",
    ] {
        assert_eq!(
            command_shape(&mut mine, name),
            command_shape(&mut theirs, name),
            "{name}"
        );
    }
}

/// Runs `script` (one connection per entry in `conns`) against a server and
/// returns everything each connection received.
fn session(port: u16, script: &[(usize, &str)]) -> Vec<Vec<u8>> {
    let mut conns: Vec<Raw> = (0..3).map(|_| Raw::connect(port)).collect();
    let mut got = vec![Vec::new(); conns.len()];
    for (i, line) in script {
        conns[*i].send(format!("{line}\r\n").as_bytes());
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(200));
    for (c, out) in conns.iter_mut().zip(&mut got) {
        c.s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 65536];
        while let Ok(n) = c.s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
    got
}

#[test]
fn scripted_sessions_are_byte_identical_to_redis() {
    let redis = start_redis();
    let ours = Server::start(2, &[]);
    let script: &[(usize, &str)] = &[
        (0, "SUBSCRIBE a b"),
        (1, "HELLO 3"),
        (1, "PSUBSCRIBE a* x?"),
        (2, "PUBLISH a one"),
        (2, "PUBLISH b two"),
        (2, "PUBLISH xy three"),
        (0, "PSUBSCRIBE b*"),
        (0, "PING"),
        (0, "PING x"),
        (0, "GET k"),
        (0, "CLIENT LIST"),
        (1, "SET k v"),
        (1, "SSUBSCRIBE s"),
        (2, "SPUBLISH s four"),
        (2, "PUBLISH b five"),
        (2, "PUBSUB NUMSUB a b s"),
        (2, "PUBSUB SHARDNUMSUB s"),
        (2, "PUBSUB NUMPAT"),
        (2, "PUBSUB CHANNELS a"),
        (2, "PUBSUB CHANNELS a b"),
        (0, "UNSUBSCRIBE b"),
        (0, "UNSUBSCRIBE b"),
        (0, "PUNSUBSCRIBE"),
        (0, "UNSUBSCRIBE"),
        (0, "UNSUBSCRIBE"),
        (0, "SUNSUBSCRIBE"),
        (0, "GET k"),
        (1, "PUNSUBSCRIBE x?"),
        (1, "SUNSUBSCRIBE s t"),
        (1, "PING"),
        (2, "PUBLISH a six"),
        (2, "SUBSCRIBE"),
        (2, "PUBLISH a"),
        (2, "UNSUBSCRIBE nope"),
        (1, "QUIT"),
    ];
    let theirs = session(redis.port, script);
    let mine = session(ours.port, script);
    for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
        let skip_hello = |v: &[u8]| {
            // HELLO's reply differs (server details); compare what follows
            let s = String::from_utf8_lossy(v).into_owned();
            if i == 1 {
                s[s.find(">3").unwrap_or(0)..].to_string()
            } else {
                s
            }
        };
        assert!(!b.is_empty(), "connection {i}: no reply from redis-server");
        assert_eq!(skip_hello(a), skip_hello(b), "connection {i}");
    }
}

/// Keyspace notifications: events named as Redis names them, for keys on
/// both shards, `expired` from the TTL index, and the class/K/E filters.
#[test]
fn keyspace_notifications_follow_notify_keyspace_events() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = Conn::open(s.port);
    assert_eq!(sub.call(&["PSUBSCRIBE", "__key*__:*"]).len(), 4);
    // a key per shard for each event
    let keys: Vec<String> = ["s", "n", "l", "e"]
        .iter()
        .flat_map(|p| {
            (0..)
                .map(move |i| format!("{p}{i}"))
                .filter(|k| diskdb::shard::routing::shard_of(k.as_bytes(), 2) == 0)
                .take(1)
                .chain(
                    (0..)
                        .map(move |i| format!("{p}{i}"))
                        .filter(|k| diskdb::shard::routing::shard_of(k.as_bytes(), 2) == 1)
                        .take(1),
                )
        })
        .collect();
    let mut want = std::collections::BTreeSet::new();
    let mut expect = |key: &str, event: &str| {
        want.insert(format!("__keyspace@0__:{key} {event}"));
        want.insert(format!("__keyevent@0__:{event} {key}"));
    };
    for k in &keys[0..2] {
        query::<()>(&mut c, &["SET", k, "v"]);
        expect(k, "set");
    }
    for k in &keys[2..4] {
        int(&mut c, &["INCRBY", k, "3"]);
        int(&mut c, &["DEL", k, "missing-key"]);
        expect(k, "incrby");
        expect(k, "del");
    }
    for k in &keys[4..6] {
        int(&mut c, &["LPUSH", k, "a"]);
        query::<Option<String>>(&mut c, &["LPOP", k]);
        expect(k, "lpush");
        expect(k, "lpop");
        expect(k, "del"); // the emptied list is removed
    }
    for k in &keys[6..8] {
        query::<()>(&mut c, &["SET", k, "v", "PX", "30"]);
        expect(k, "set");
        expect(k, "expire"); // Redis follows SET's event with its TTL's
        expect(k, "expired");
    }
    // a push served to a blocked BLPOP: the pop's event, then the del
    let waiter = {
        let mut b = s.conn();
        std::thread::spawn(move || query::<(String, String)>(&mut b, &["BLPOP", "waited", "0"]))
    };
    while common::info_field(&mut c, "blocked_clients").as_deref() != Some("1") {
        std::thread::sleep(Duration::from_millis(2));
    }
    int(&mut c, &["RPUSH", "waited", "x"]);
    assert_eq!(waiter.join().unwrap().1, "x");
    expect("waited", "rpush");
    expect("waited", "lpop");
    expect("waited", "del");
    // the source and destination of RENAME (across shards), COPY and MOVE
    query::<()>(&mut c, &["RENAME", &keys[0], &keys[1]]);
    expect(&keys[0], "rename_from");
    expect(&keys[1], "rename_to");
    int(&mut c, &["COPY", &keys[1], "copied"]);
    expect("copied", "copy_to");
    int(&mut c, &["MOVE", &keys[1], "1"]);
    expect(&keys[1], "move_from");
    want.insert(format!("__keyspace@1__:{} move_to", keys[1]));
    want.insert(format!("__keyevent@1__:move_to {}", keys[1]));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = std::collections::BTreeSet::new();
    while got.len() < want.len() && Instant::now() < deadline {
        let f = sub.frame();
        assert_eq!(f[1], "pmessage", "{f:?}");
        got.insert(format!("{} {}", f[3], f[4]));
    }
    assert_eq!(got, want);
    // only string events, only the keyevent channel
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    int(&mut c, &["RPUSH", "quiet-list", "x"]);
    query::<()>(&mut c, &["SET", "loud", "1"]);
    assert_eq!(
        sub.frame(),
        words(&["*4", "pmessage", "__key*__:*", "__keyevent@0__:set", "loud"])
    );
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", ""]);
    query::<()>(&mut c, &["SET", "silent", "1"]);
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    query::<()>(&mut c, &["SET", "after", "1"]);
    let next = sub.frame();
    assert_eq!(
        next[3], "__keyspace@0__:after",
        "no event while disabled: {next:?}"
    );
}

/// The events of list moves and multi-pops, in order, as redis-server
/// publishes them: LMOVE and RPOPLPUSH a pop on the source and a push on
/// the destination (both on the same list too), LMPOP the pop of its end.
#[test]
fn list_move_and_multi_pop_events_match_redis() {
    let redis = start_redis();
    let ours = Server::start(2, &[]);
    let script: &[&[&str]] = &[
        &["RPUSH", "{q}src", "a", "b", "c", "d"],
        &["LMOVE", "{q}src", "{q}dst", "RIGHT", "LEFT"],
        &["LMOVE", "{q}src", "{q}dst", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "{q}src", "{q}src"],
        &["LMOVE", "{q}dst", "{q}dst", "LEFT", "LEFT"],
        &["LMPOP", "2", "{q}none", "{q}src", "RIGHT", "COUNT", "5"],
        &["BLMOVE", "{q}dst", "{q}src", "LEFT", "RIGHT", "0"],
        &["LPUSHX", "{q}src", "x"],
        &["RPOPLPUSH", "{q}dst", "{q}src"],
        &["SET", "done", "1"],
    ];
    let theirs = keyspace_events(redis.port, script);
    assert!(theirs.len() > 10, "{theirs:?}");
    assert_eq!(keyspace_events(ours.port, script), theirs);
}

#[test]
fn expiry_changing_commands_publish_redis_events() {
    let redis = start_redis();
    let ours = Server::start(2, &[]);
    let script: &[&[&str]] = &[
        &["SET", "k", "v", "EX", "100"],
        &["EXPIRE", "k", "-1"],
        &["SET", "k", "v"],
        &["GETEX", "k"],
        &["GETEX", "k", "EX", "100"],
        &["GETEX", "k", "PXAT", "99999999999999"],
        &["GETEX", "k", "PXAT", "99999999999999"],
        &["GETEX", "k", "PERSIST"],
        &["GETEX", "k", "PERSIST"],
        &["GETEX", "k", "PXAT", "1"],
        &["SET", "k2", "v", "PX", "100000"],
        &["PERSIST", "k2"],
        &["PEXPIREAT", "k2", "1"],
        &["SETEX", "k3", "100", "v"],
        &["EXPIREAT", "k3", "1"],
        &["SET", "k4", "v", "KEEPTTL"],
        &["SET", "k4", "w", "GET", "EX", "50"],
        &["PSETEX", "k4", "9000", "x"],
        &["SET", "done", "1"],
    ];
    let theirs = keyspace_events(redis.port, script);
    assert!(theirs.len() > 8, "{theirs:?}");
    assert_eq!(keyspace_events(ours.port, script), theirs);
}

/// Runs `script` on a connection with every keyspace event on and returns
/// the `__keyspace@0__` events it published, in order, up to the script's
/// last command, which must be `SET done …`.
fn keyspace_events(port: u16, script: &[&[&str]]) -> Vec<String> {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    query::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = Conn::open(port);
    assert_eq!(sub.call(&["PSUBSCRIBE", "__keyspace@0__:*"]).len(), 4);
    for cmd in script {
        let _: redis::Value = query(&mut c, cmd);
    }
    let mut got = Vec::new();
    loop {
        let f = sub.frame();
        let event = format!("{} {}", f[3], f[4]);
        if event.ends_with(":done set") {
            return got;
        }
        got.push(event);
    }
}
