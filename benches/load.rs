//! Load harness: drives a running server (DiskDB or redis-server) over TCP
//! and prints throughput and latency percentiles. One "op" is a unit of
//! work that may be several commands (a whole MULTI…EXEC).
//!
//! ```text
//! cargo bench --bench load -- --port 6380 --workload exec-cross \
//!     [--conns 50] [--seconds 5] [--pipeline 1] [--subscribers 0] \
//!     [--keyspace N] [--value-size 64] [--distribution uniform|zipf]
//! ```
//! Workloads: `exec-local` (MULTI, INCRBY ×2 on one shard, EXEC),
//! `exec-cross` (the same with the two keys on different shards),
//! `publish` (PUBLISH to a channel with `--subscribers` readers),
//! `set`, `get`, `mset-cross` (MSET of two keys on different shards),
//! `load` (SET each of `k0..k{N-1}` once, pipelined; ends when done).
//!
//! Without `--keyspace`, `set`/`get` use one key per connection (`k<conn>`).
//! With `--keyspace N`, every `set`/`get` picks a key from `k0..k{N-1}`
//! by `--distribution`: `uniform`, or `zipf` (s = 0.99, rank 1 = `k0`, the
//! hottest). `--rb-keys` names the keys `key:%012d` instead, as
//! redis-benchmark's `-r N` does, so `redis-benchmark -t get -r N` reads
//! what `load` wrote. Values are `--value-size` bytes: `x` repeated for the
//! per-connection keys, random bytes (incompressible) for `load` and for
//! `set` over a keyspace, so disk figures are not flattered by compression.

use diskdb::shard::routing::shard_of;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
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
    keyspace: Option<u64>,
    value_size: usize,
    distribution: String,
    rb_keys: bool,
}

/// Name of key number `i` (`k<i>`, or redis-benchmark's `key:%012d`).
fn key_name(i: u64, rb_keys: bool) -> String {
    if rb_keys {
        format!("key:{i:012}")
    } else {
        format!("k{i}")
    }
}

fn parse_options() -> Options {
    let mut o = Options {
        port: 6380,
        workload: "set".into(),
        conns: 50,
        seconds: 5,
        pipeline: 1,
        subscribers: 0,
        keyspace: None,
        value_size: 64,
        distribution: "uniform".into(),
        rb_keys: false,
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
            "--keyspace" => o.keyspace = Some(num(&v).max(1)),
            "--value-size" => o.value_size = num(&v) as usize,
            "--distribution" => {
                assert!(
                    v == "uniform" || v == "zipf",
                    "--distribution is uniform or zipf, got '{v}'"
                );
                o.distribution = v
            }
            "--rb-keys" => {
                o.rb_keys = true;
                i += 1;
                continue;
            }
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    if o.workload == "load" {
        assert!(o.keyspace.is_some(), "the load workload needs --keyspace N");
    }
    o
}

/// Picks key indexes in `0..n`: uniform, or Zipf(s) by inverse CDF
/// (binary search over the cumulative weights of ranks 1..=n).
#[derive(Clone)]
enum Sampler {
    Uniform(u64),
    Zipf(Arc<Vec<f64>>),
}

impl Sampler {
    fn new(n: u64, distribution: &str) -> Sampler {
        if distribution != "zipf" {
            return Sampler::Uniform(n);
        }
        let s = 0.99;
        let mut cdf = Vec::with_capacity(n as usize);
        let mut sum = 0.0;
        for rank in 1..=n {
            sum += 1.0 / (rank as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Sampler::Zipf(Arc::new(cdf))
    }

    fn sample(&self, rng: &mut SmallRng) -> u64 {
        match self {
            Sampler::Uniform(n) => rng.random_range(0..*n),
            Sampler::Zipf(cdf) => {
                let u: f64 = rng.random();
                (cdf.partition_point(|&c| c < u) as u64).min(cdf.len() as u64 - 1)
            }
        }
    }
}

/// `n` pipelined SET/GET requests on sampled keys (keyspace mode).
fn keyspace_batch(
    workload: &str,
    n: usize,
    sampler: &Sampler,
    value_size: usize,
    rb_keys: bool,
    rng: &mut SmallRng,
    out: &mut Vec<u8>,
) {
    out.clear();
    let mut value = vec![0u8; value_size];
    for _ in 0..n {
        let key = key_name(sampler.sample(rng), rb_keys);
        match workload {
            "set" => {
                rng.fill_bytes(&mut value);
                resp(&[b"SET", key.as_bytes(), &value], out);
            }
            "get" => resp(&[b"GET", key.as_bytes()], out),
            other => panic!("workload {other} does not take --keyspace (use set, get or load)"),
        }
    }
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
fn unit(workload: &str, id: usize, value_size: usize) -> (Vec<u8>, usize) {
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
                &[b"SET", format!("k{id}").as_bytes(), &vec![b'x'; value_size]],
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
    let sampler = o
        .keyspace
        .filter(|_| o.workload != "load")
        .map(|n| Sampler::new(n, &o.distribution));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let workers: Vec<_> = (0..o.conns)
        .map(|id| {
            let (port, workload, pipeline) = (o.port, o.workload.clone(), o.pipeline);
            let (keyspace, value_size, conns) = (o.keyspace, o.value_size, o.conns);
            let rb_keys = o.rb_keys;
            let sampler = sampler.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_nodelay(true).unwrap();
                let mut rng = SmallRng::seed_from_u64(0x5eed ^ (id as u64) << 20);
                let mut buf = Vec::new();
                let mut lat = Vec::new();
                let mut req = Vec::new();
                if workload == "load" {
                    // This connection's keys: id, id + conns, id + 2·conns, …
                    let n = keyspace.unwrap();
                    let mut value = vec![0u8; value_size];
                    let mut next = id as u64;
                    while next < n {
                        req.clear();
                        let mut sent = 0;
                        while sent < pipeline && next < n {
                            rng.fill_bytes(&mut value);
                            resp(
                                &[b"SET", key_name(next, rb_keys).as_bytes(), &value],
                                &mut req,
                            );
                            next += conns as u64;
                            sent += 1;
                        }
                        let t = Instant::now();
                        s.write_all(&req).expect("write to server");
                        read_replies(&mut s, &mut buf, sent);
                        let per_op = t.elapsed().as_micros() as u64 * 1000 / sent as u64;
                        lat.extend(std::iter::repeat_n(per_op, sent));
                    }
                    return lat;
                }
                if let Some(sampler) = sampler {
                    while Instant::now() < deadline {
                        keyspace_batch(
                            &workload, pipeline, &sampler, value_size, rb_keys, &mut rng, &mut req,
                        );
                        let t = Instant::now();
                        s.write_all(&req).expect("write to server");
                        read_replies(&mut s, &mut buf, pipeline);
                        let per_op = t.elapsed().as_micros() as u64 * 1000 / pipeline as u64;
                        lat.extend(std::iter::repeat_n(per_op, pipeline));
                    }
                    return lat;
                }
                let (one, replies) = unit(&workload, id, value_size);
                let req = one.repeat(pipeline);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    s.write_all(&req).expect("write to server");
                    read_replies(&mut s, &mut buf, replies * pipeline);
                    for _ in 0..pipeline {
                        lat.push(t.elapsed().as_micros() as u64 * 1000 / pipeline as u64);
                    }
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
    // One latency sample per op (a pipelined batch counts each of its ops).
    let ops = lat.len() as f64 / secs;
    println!(
        "workload={} conns={} pipeline={} subscribers={} ops/s={:.0} p50={:.3}ms p99={:.3}ms p99.9={:.3}ms deliveries/s={:.0} keyspace={} distribution={} value-size={} ops={} seconds={:.1}",
        o.workload,
        o.conns,
        o.pipeline,
        o.subscribers,
        ops,
        percentile(&lat, 0.5) / 1000.0,
        percentile(&lat, 0.99) / 1000.0,
        percentile(&lat, 0.999) / 1000.0,
        delivered.load(Ordering::Relaxed) as f64 / secs,
        o.keyspace.map_or("per-conn".to_string(), |n| n.to_string()),
        o.distribution,
        o.value_size,
        lat.len(),
        secs,
    );
}
