//! Load harness: drives a running server (DiskDB or redis-server) over TCP
//! and prints throughput and latency percentiles. One "op" is a unit of
//! work that may be several commands (a whole MULTI…EXEC).
//!
//! ```text
//! cargo bench --bench load -- --port 6380 --workload exec-cross \
//!     [--conns 50] [--seconds 5] [--pipeline 1] [--subscribers 0]
//! ```
//! Workloads: `exec-local` (MULTI, INCRBY ×2 on one shard, EXEC),
//! `exec-cross` (the same with the two keys on different shards),
//! `publish` (PUBLISH to a channel with `--subscribers` readers),
//! `set`, `get`, `mset-cross` (MSET of two keys on different shards).

use diskdb::shard::routing::shard_of;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    port: u16,
    workload: String,
    conns: usize,
    seconds: u64,
    pipeline: usize,
    subscribers: usize,
}

fn parse_options() -> Options {
    let mut o = Options {
        port: 6380,
        workload: "set".into(),
        conns: 50,
        seconds: 5,
        pipeline: 1,
        subscribers: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        let num = |v: &str| -> u64 {
            v.parse()
                .unwrap_or_else(|_| panic!("{} needs a number, got '{v}'", args[i]))
        };
        match args[i].as_str() {
            "--port" => o.port = num(&v) as u16,
            "--workload" => o.workload = v,
            "--conns" => o.conns = num(&v) as usize,
            "--seconds" => o.seconds = num(&v),
            "--pipeline" => o.pipeline = num(&v).max(1) as usize,
            "--subscribers" => o.subscribers = num(&v) as usize,
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

fn resp(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Length of the complete RESP reply at the start of `b`, if complete.
fn reply_len(b: &[u8]) -> Option<usize> {
    let line_end = b.windows(2).position(|w| w == b"\r\n")?;
    let head = std::str::from_utf8(&b[1..line_end]).ok()?;
    let after = line_end + 2;
    match b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'>' | b'~' | b'%' => {
            let mut n: i64 = head.parse().ok()?;
            if b[0] == b'%' {
                n *= 2;
            }
            let mut pos = after;
            for _ in 0..n.max(0) {
                pos += reply_len(&b[pos..])?;
            }
            Some(pos)
        }
        _ => panic!("unexpected reply byte {:?}", b[0] as char),
    }
}

/// Reads until `n` complete replies arrived; panics on an error reply.
fn read_replies(s: &mut TcpStream, buf: &mut Vec<u8>, mut n: usize) {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        while n > 0 {
            let Some(len) = reply_len(buf) else { break };
            if buf[0] == b'-' {
                panic!("error reply: {}", String::from_utf8_lossy(&buf[..len]));
            }
            buf.drain(..len);
            n -= 1;
        }
        if n == 0 {
            return;
        }
        let got = s.read(&mut chunk).expect("read from server");
        assert!(got > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..got]);
    }
}

/// Two keys named `prefix…` on different shards of 2 (or the same shard).
fn key_pair(prefix: &str, cross: bool) -> (String, String) {
    let a = format!("{prefix}a");
    let b = (0..)
        .map(|i| format!("{prefix}b{i}"))
        .find(|k| (shard_of(k.as_bytes(), 2) != shard_of(a.as_bytes(), 2)) == cross)
        .expect("some key matches");
    (a, b)
}

/// One unit of work for connection `id`: the request and its reply count.
fn unit(workload: &str, id: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let n = match workload {
        "exec-local" | "exec-cross" => {
            let (a, b) = if workload == "exec-local" {
                (format!("{{t{id}}}a"), format!("{{t{id}}}b"))
            } else {
                key_pair(&format!("t{id}"), true)
            };
            resp(&[b"MULTI"], &mut out);
            resp(&[b"INCRBY", a.as_bytes(), b"-1"], &mut out);
            resp(&[b"INCRBY", b.as_bytes(), b"1"], &mut out);
            resp(&[b"EXEC"], &mut out);
            4
        }
        "mset-cross" => {
            let (a, b) = key_pair(&format!("m{id}"), true);
            resp(&[b"MSET", a.as_bytes(), b"1", b.as_bytes(), b"2"], &mut out);
            1
        }
        "publish" => {
            resp(
                &[b"PUBLISH", b"bench-channel", b"hello subscribers"],
                &mut out,
            );
            1
        }
        "set" => {
            resp(
                &[b"SET", format!("k{id}").as_bytes(), &[b'x'; 64]],
                &mut out,
            );
            1
        }
        "get" => {
            resp(&[b"GET", format!("k{id}").as_bytes()], &mut out);
            1
        }
        other => panic!("unknown workload {other}"),
    };
    (out, n)
}

fn subscriber(port: u16, ready: Arc<AtomicU64>, stop: Arc<AtomicBool>, got: Arc<AtomicU64>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = Vec::new();
    resp(&[b"SUBSCRIBE", b"bench-channel"], &mut req);
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    read_replies(&mut s, &mut buf, 1);
    ready.fetch_add(1, Ordering::SeqCst);
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut chunk = [0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => continue,
        }
        while let Some(len) = reply_len(&buf) {
            buf.drain(..len);
            got.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let o = parse_options();
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicU64::new(0));
    let delivered = Arc::new(AtomicU64::new(0));
    let subs: Vec<_> = (0..o.subscribers)
        .map(|_| {
            let (r, s, d) = (ready.clone(), stop.clone(), delivered.clone());
            let port = o.port;
            std::thread::spawn(move || subscriber(port, r, s, d))
        })
        .collect();
    while ready.load(Ordering::SeqCst) < o.subscribers as u64 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let workers: Vec<_> = (0..o.conns)
        .map(|id| {
            let (port, workload, pipeline) = (o.port, o.workload.clone(), o.pipeline);
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_nodelay(true).unwrap();
                let (one, replies) = unit(&workload, id);
                let req = one.repeat(pipeline);
                let mut buf = Vec::new();
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    s.write_all(&req).expect("write to server");
                    read_replies(&mut s, &mut buf, replies * pipeline);
                    lat.push(t.elapsed().as_micros() as u64 * 1000 / pipeline as u64);
                }
                lat
            })
        })
        .collect();
    let start = Instant::now();
    let mut lat: Vec<u64> = Vec::new();
    for w in workers {
        lat.extend(w.join().expect("worker"));
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    for s in subs {
        let _ = s.join();
    }
    lat.sort_unstable();
    let ops = lat.len() as f64 * o.pipeline as f64 / secs;
    println!(
        "workload={} conns={} pipeline={} subscribers={} ops/s={:.0} p50={:.3}ms p99={:.3}ms p99.9={:.3}ms deliveries/s={:.0}",
        o.workload,
        o.conns,
        o.pipeline,
        o.subscribers,
        ops,
        percentile(&lat, 0.5) / 1000.0,
        percentile(&lat, 0.99) / 1000.0,
        percentile(&lat, 0.999) / 1000.0,
        delivered.load(Ordering::Relaxed) as f64 / secs,
    );
}
