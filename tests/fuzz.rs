//! Fuzzing the real server (2 shards): random and malformed frames on fresh
//! connections, then every command in the table with random nasty arguments.
//! Each reply must be well-formed RESP and the server must stay up. Seeds are
//! fixed and printed on failure.

mod common;

use common::{Raw, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// A decoded reply; only what the checks need.
#[derive(Debug)]
enum V {
    Simple(String),
    Err(String),
    Bulk(Vec<u8>),
    Array(Vec<V>),
    /// Integers, nulls, doubles, booleans, maps and other RESP3 types.
    Other,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one line, which must end in CRLF.
fn line(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut l = Vec::new();
    r.read_until(b'\n', &mut l)?;
    if l.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if !l.ends_with(b"\r\n") {
        return Err(bad(format!(
            "line without CRLF: {:?}",
            String::from_utf8_lossy(&l)
        )));
    }
    l.truncate(l.len() - 2);
    Ok(l)
}

/// An integer field.
fn integer(field: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad integer {:?}", String::from_utf8_lossy(field))))
}

/// A length field: `-1` (null) or more.
fn number(field: &[u8]) -> io::Result<i64> {
    Some(integer(field)?)
        .filter(|&n| n >= -1)
        .ok_or_else(|| bad(format!("bad number {:?}", String::from_utf8_lossy(field))))
}

/// Reads `n` replies.
fn replies(r: &mut impl BufRead, n: i64) -> io::Result<Vec<V>> {
    (0..n).map(|_| read_reply(r)).collect()
}

/// Reads one RESP2 or RESP3 reply, checking its framing.
fn read_reply(r: &mut impl BufRead) -> io::Result<V> {
    let l = line(r)?;
    let (&tag, rest) = l.split_first().ok_or_else(|| bad("empty line".into()))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    Ok(match tag {
        b'+' => V::Simple(text()),
        b'-' => V::Err(text()),
        b':' => {
            integer(rest)?;
            V::Other
        }
        b'_' | b',' | b'#' | b'(' => V::Other,
        b'$' | b'=' | b'!' => match number(rest)? {
            -1 => V::Other,
            n => {
                let mut b = vec![0; n as usize + 2];
                r.read_exact(&mut b)?;
                if !b.ends_with(b"\r\n") {
                    return Err(bad("bulk string without CRLF".into()));
                }
                b.truncate(n as usize);
                V::Bulk(b)
            }
        },
        b'*' | b'~' | b'>' => match number(rest)? {
            -1 => V::Other,
            n => V::Array(replies(r, n)?),
        },
        b'%' => {
            replies(r, 2 * number(rest)?.max(0))?;
            V::Other
        }
        b'|' => {
            replies(r, 2 * number(rest)?.max(0))?;
            read_reply(r)?
        }
        other => return Err(bad(format!("unknown reply type {:?}", other as char))),
    })
}

/// Whether the server answers PING on a new connection.
fn pings(port: u16) -> bool {
    let mut raw = Raw::connect(port);
    raw.send(b"PING\r\n");
    raw.read_n(7) == b"+PONG\r\n"
}

fn assert_alive(server: &mut Server, context: &str) {
    let exited = server.child.as_mut().unwrap().try_wait().unwrap();
    assert!(
        exited.is_none(),
        "server exited ({exited:?}) after {context}"
    );
    assert!(
        pings(server.port),
        "server does not answer PING after {context}"
    );
}

/// Sends `frame`, closes the write side and reads every reply to EOF.
fn send_and_collect(port: u16, frame: &[u8]) -> io::Result<Vec<V>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(frame)?;
    s.shutdown(Shutdown::Write)?;
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    while !r.fill_buf()?.is_empty() {
        out.push(read_reply(&mut r)?);
    }
    Ok(out)
}

/// Harmless commands to corrupt.
const SEEDS: [&[u8]; 5] = [
    b"*1\r\n$4\r\nPING\r\n",
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
    b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
    b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
    b"ECHO \"a\\x41\" 'b'\r\n",
];

const LENGTHS: [&[u8]; 10] = [
    b"-1",
    b"-5",
    b"-0",
    b"99999999999",
    b"2147483648",
    b"1048577",
    b"536870913",
    b"x",
    b"",
    b"+1",
];

/// A random frame: random bytes, or a seed command bit-flipped, truncated
/// or given a nasty length, followed by a valid PING.
fn random_frame(rng: &mut StdRng) -> Vec<u8> {
    let mut f = SEEDS[rng.random_range(0..SEEDS.len())].to_vec();
    match rng.random_range(0..5) {
        0 => f = (0..rng.random_range(1..64)).map(|_| rng.random()).collect(),
        1 => {
            let i = rng.random_range(0..f.len());
            f[i] ^= 1 << rng.random_range(0..8);
        }
        2 => f.truncate(rng.random_range(0..f.len())),
        3 => f.insert(rng.random_range(0..f.len()), b'\0'),
        _ => {
            let marks: Vec<usize> = (0..f.len())
                .filter(|&i| f[i] == b'*' || f[i] == b'$')
                .collect();
            if let Some(&at) = marks.get(rng.random_range(0..marks.len().max(1))) {
                let end = (at + 1..f.len()).find(|&i| !f[i].is_ascii_digit()).unwrap();
                f.splice(
                    at + 1..end,
                    LENGTHS[rng.random_range(0..LENGTHS.len())].iter().copied(),
                );
            }
        }
    }
    f.extend_from_slice(SEEDS[0]);
    f
}

#[test]
fn malformed_frames_get_redis_errors_and_the_server_stays_up() {
    let mut server = Server::start(2, &[]);
    let seed = 0xF022;
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let cases = 2_000;
    for case in 0..cases {
        let frame = random_frame(&mut rng);
        let context = format!(
            "case {case} (seed {seed:#x}): {:?}",
            String::from_utf8_lossy(&frame)
        );
        let replies =
            send_and_collect(server.port, &frame).unwrap_or_else(|e| panic!("{e} in {context}"));
        // a protocol error is the last thing on its connection
        if let Some(i) = replies
            .iter()
            .position(|v| matches!(v, V::Err(e) if e.starts_with("ERR Protocol error: ")))
        {
            assert_eq!(
                i + 1,
                replies.len(),
                "replies after a protocol error in {context}"
            );
        }
        assert_alive(&mut server, &context);
    }
    eprintln!("{cases} malformed frames in {:?}", started.elapsed());
}

#[test]
fn protocol_errors_match_redis_and_close_the_connection() {
    let server = Server::start(2, &[]);
    for (frame, msg) in [
        (&b"*99999999999\r\n"[..], "invalid multibulk length"),
        (b"*1\r\n$-2\r\n", "invalid bulk length"),
        (b"*1\r\n$2147483648\r\n", "invalid bulk length"),
        (b"*1\r\n:1\r\n", "expected '$', got ':'"),
        (b"GET \"k\r\n", "unbalanced quotes in request"),
        (&[b'a'; 70_000], "too big inline request"),
    ] {
        let mut raw = Raw::connect(server.port);
        raw.send(frame);
        raw.roundtrip(b"", format!("-ERR Protocol error: {msg}\r\n").as_bytes());
        assert!(raw.closed(), "still open after {msg}");
    }
    // negative counts are empty requests; a NUL ends an inline request (this
    // used to hang the shard in an endless loop)
    let mut raw = Raw::connect(server.port);
    raw.roundtrip(
        b"*-5\r\nPING\0junk\r\n\0\r\nPING\r\n",
        b"+PONG\r\n+PONG\r\n",
    );
    // 100k nested aggregate headers: one error, no recursion
    let mut raw = Raw::connect(server.port);
    raw.send(&b"*1\r\n".repeat(100_000));
    raw.roundtrip(b"", b"-ERR Protocol error: expected '$', got '*'\r\n");
    assert!(pings(server.port));
}

/// Commands never sent: they stop the server, change the connection's mode
/// or close it.
const SKIP: [&str; 14] = [
    "SHUTDOWN",
    "DEBUG",
    "MONITOR",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "QUIT",
    "REPLICAOF",
    "SLAVEOF",
    "SYNC",
    "PSYNC",
];

/// Commands that block: every argument but `-1` becomes 0.01, so none can
/// mean "block forever".
const BLOCKING: [&str; 11] = [
    "BLPOP",
    "BRPOP",
    "BLMOVE",
    "BRPOPLPUSH",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "XREAD",
    "XREADGROUP",
    "WAIT",
];

const NASTY: [&str; 25] = [
    "",
    "-1",
    "0",
    "1",
    "2",
    "9223372036854775808",
    "-9223372036854775809",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "$",
    "*",
    ")",
    "[",
    "(",
    "+",
    "-",
    "WITHSCORES",
    "LIMIT",
    "COUNT",
    "-0",
    "0x10",
    "key",
    "\u{0}\r\n",
];

fn nasty_arg(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..400) {
        0 => vec![b'x'; 1 << 20],
        1..=40 => (0..rng.random_range(0..16)).map(|_| rng.random()).collect(),
        _ => NASTY[rng.random_range(0..NASTY.len())].as_bytes().to_vec(),
    }
}

/// Names of every command, from `COMMAND` over the wire.
fn command_names(port: u16) -> Vec<String> {
    let mut r = BufReader::new(Raw::connect(port).s);
    r.get_mut().write_all(b"COMMAND\r\n").unwrap();
    let V::Array(entries) = read_reply(&mut r).unwrap() else {
        panic!("COMMAND is not an array")
    };
    entries
        .into_iter()
        .filter_map(|e| match e {
            V::Array(mut info) if !info.is_empty() => match info.swap_remove(0) {
                V::Bulk(name) => Some(String::from_utf8_lossy(&name).into_owned()),
                V::Simple(name) => Some(name),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn every_command_with_nasty_arguments_gets_a_well_formed_reply() {
    let mut server = Server::start(2, &[]);
    let seed = 0xA265;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut names = command_names(server.port);
    names.retain(|n| !SKIP.contains(&n.to_uppercase().as_str()));
    assert!(names.len() > 100, "only {} commands", names.len());
    let started = Instant::now();
    let (batches, per_batch) = (100, 200);
    for batch in 0..batches {
        let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut r = BufReader::new(stream);
        for i in 0..per_batch {
            let name = &names[rng.random_range(0..names.len())];
            let mut args = vec![name.as_bytes().to_vec()];
            args.extend((0..rng.random_range(0..8)).map(|_| nasty_arg(&mut rng)));
            let upper = name.to_uppercase();
            if BLOCKING.contains(&upper.as_str()) {
                for a in args[1..].iter_mut().filter(|a| a.as_slice() != b"-1") {
                    *a = b"0.01".to_vec();
                }
            }
            let sub = args.get(1).map(|a| a.to_ascii_uppercase());
            if upper == "CLIENT" && matches!(sub.as_deref(), Some(b"KILL" | b"PAUSE" | b"REPLY")) {
                continue;
            }
            let context = format!(
                "batch {batch} command {i} (seed {seed:#x}): {:?}",
                args.iter()
                    .map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned())
                    .collect::<Vec<_>>()
            );
            r.get_mut()
                .write_all(&common::reference::resp(&args))
                .unwrap_or_else(|e| panic!("{e} sending {context}"));
            if let Err(e) = read_reply(&mut r) {
                panic!("{e} reading the reply to {context}");
            }
        }
        assert_alive(&mut server, &format!("batch {batch} (seed {seed:#x})"));
    }
    eprintln!(
        "{} commands ({} names) in {:?}",
        batches * per_batch,
        names.len(),
        started.elapsed()
    );
}

/// The `cargo fuzz` target's check (fuzz/fuzz_targets/parse_command_check.rs),
/// compiled and run here so that the long-run target cannot rot.
mod fuzz_target {
    include!("../fuzz/fuzz_targets/parse_command_check.rs");
}

#[test]
fn cargo_fuzz_target_check_holds_on_seeded_inputs() {
    let mut rng = StdRng::seed_from_u64(0xF022_7A6E);
    let valid = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n";
    for _ in 0..20_000 {
        let mut data = vec![rng.random::<u8>()];
        if rng.random_bool(0.5) {
            let n = rng.random_range(0..64);
            data.extend((0..n).map(|_| rng.random::<u8>()));
        } else {
            data.extend_from_slice(valid);
            for _ in 0..rng.random_range(0..3) {
                let at = rng.random_range(1..data.len());
                data[at] = rng.random();
            }
        }
        fuzz_target::check(&data);
    }
}
