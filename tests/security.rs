//! Authentication and protected mode against the real server: requirepass,
//! AUTH, HELLO AUTH, NOAUTH/WRONGPASS replies byte for byte as
//! redis-server's, passwords never shown in clear, and remote clients
//! refused without a password.

mod common;
use common::reference::{mask_client_id, resp, session, start_redis_with};
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn auth_replies_match_redis_server() {
    let redis = start_redis_with(&["--requirepass", "s3cret"]);
    let diskdb = Server::start(2, &["--requirepass", "s3cret"]);
    let scripts: &[&[&[&str]]] = &[
        &[
            &["GET", "k"],
            &["SET", "k", "v"],
            &["NOSUCHCMD"],
            &["GET"],
            &["HELLO", "3"],
            &["AUTH", "wrong"],
            &["AUTH", "default", "wrong"],
            &["AUTH", "nobody", "s3cret"],
            &["AUTH", "a", "b", "c"],
            &["PING"],
            &["AUTH", "s3cret"],
            &["SET", "k", "v"],
            &["GET", "k"],
        ],
        &[
            &["HELLO", "2", "AUTH", "default", "nope"],
            &["HELLO", "2", "AUTH", "default", "s3cret"],
            &["GET", "k"],
        ],
        &[&["AUTH", "default", "s3cret"], &["ECHO", "in"]],
    ];
    for (i, script) in scripts.iter().enumerate() {
        let want = mask_client_id(&session(redis.port, script));
        let got = mask_client_id(&session(diskdb.port, script));
        assert_eq!(got, want, "script {i} differs from redis-server");
    }
}

#[test]
fn requirepass_is_hashed_changeable_and_checked_by_hello() {
    let s = Server::start(2, &["--requirepass", "first"]);
    let mut c = redis::Client::open(format!("redis://:first@127.0.0.1:{}/", s.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let shown: Vec<String> = query(&mut c, &["CONFIG", "GET", "requirepass"]);
    assert_eq!(shown[0], "requirepass");
    assert!(
        shown[1].starts_with('#') && shown[1].len() == 65,
        "{shown:?}"
    );
    assert!(!shown[1].contains("first"));
    query::<()>(&mut c, &["CONFIG", "SET", "requirepass", "second"]);
    // this connection stays authenticated; new ones need the new password
    assert_eq!(
        bulk(&mut c, &["ECHO", "still-in"]).as_deref(),
        Some("still-in")
    );
    let mut raw = Raw::connect(s.port);
    raw.roundtrip(
        &resp(&["AUTH", "first"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(&resp(&["AUTH", "second"]), b"+OK\r\n");
    raw.roundtrip(&resp(&["ECHO", "x"]), b"$1\r\nx\r\n");
    // the redis crate authenticates through HELLO/AUTH from the URL
    let mut d = redis::Client::open(format!(
        "redis://default:second@127.0.0.1:{}/?protocol=resp3",
        s.port
    ))
    .unwrap()
    .get_connection()
    .unwrap();
    assert_eq!(int(&mut d, &["INCR", "n"]), 1);
    // no password any more: everyone is in, AUTH says none is configured
    query::<()>(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    let mut open = s.conn();
    assert_eq!(int(&mut open, &["INCR", "n"]), 2);
    assert!(q_err(&mut open, &["AUTH", "x"]).contains("without any password configured"));
}

/// A non-loopback address of this machine, if it has one.
fn outside_address() -> Option<String> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_string)
}

fn first_reply(addr: &str, port: u16) -> String {
    let mut s = TcpStream::connect((addr, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn protected_mode_refuses_remote_clients_without_a_password() {
    let Some(ip) = outside_address() else {
        println!("skipped: this machine has no non-loopback IPv4 address");
        return;
    };
    let open = Server::start(2, &["--bind", "0.0.0.0"]);
    assert!(
        first_reply(&ip, open.port).starts_with("-DENIED "),
        "remote client accepted"
    );
    assert_eq!(first_reply("127.0.0.1", open.port), "+PONG\r\n");
    // a password, or protected mode off, lets remote clients in
    let locked = Server::start(2, &["--bind", "0.0.0.0", "--requirepass", "pw"]);
    assert!(first_reply(&ip, locked.port).starts_with("-NOAUTH"));
    let off = Server::start(2, &["--bind", "0.0.0.0", "--protected-mode", "no"]);
    assert_eq!(first_reply(&ip, off.port), "+PONG\r\n");
    let mut c = open.conn();
    query::<()>(&mut c, &["CONFIG", "SET", "protected-mode", "no"]);
    assert_eq!(first_reply(&ip, open.port), "+PONG\r\n");
}

/// Before AUTH a client may send only small requests, as with Redis.
#[test]
fn unauthenticated_clients_are_limited_like_redis() {
    let redis = start_redis_with(&["--requirepass", "pw"]);
    let diskdb = Server::start(2, &["--requirepass", "pw"]);
    let many: Vec<&str> = std::iter::once("ECHO")
        .chain(std::iter::repeat_n("x", 11))
        .collect();
    let big = "y".repeat(20_000);
    for frame in [resp(&many), resp(&["ECHO", &big])] {
        let reply = |port: u16| {
            let mut raw = Raw::connect(port);
            raw.send(&frame);
            let r = String::from_utf8_lossy(&raw.read_until(b"\r\n")).into_owned();
            (r, raw.closed())
        };
        let (want, _) = reply(redis.port);
        let (got, closed) = reply(diskdb.port);
        assert_eq!(got, want);
        assert!(closed, "connection kept open after {got}");
    }
    // after AUTH the same requests are fine
    let mut raw = Raw::connect(diskdb.port);
    raw.roundtrip(&resp(&["AUTH", "pw"]), b"+OK\r\n");
    raw.send(&resp(&["ECHO", &big]));
    assert!(raw.read_until(b"\r\n").starts_with(b"$20000"));
}
