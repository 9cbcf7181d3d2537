//! Micro-benchmarks: RESP parsing and encoding, key encoding, one command
//! per family executed in-process on a shard, and a cross-shard round trip.
//!
//! `cargo bench --bench commands` (uses the same build cache as the tests).

use criterion::{criterion_group, criterion_main, Criterion};
use diskdb::commands::{lookup, Exec};
use diskdb::config::Config;
use diskdb::data_types::Db;
use diskdb::protocol::{parse_command, Reply};
use diskdb::shard::mesh::Mesh;
use diskdb::shard::Shard;
use diskdb::storage::encoding::meta_key;
use diskdb::storage::SharedResources;
use std::hint::black_box;
use std::sync::Arc;

fn protocol(c: &mut Criterion) {
    let req = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$64\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n";
    c.bench_function("resp/parse_set", |b| {
        b.iter(|| parse_command(black_box(req)).unwrap())
    });
    let reply = Reply::Bulk(vec![b'x'; 1024]);
    let mut out = Vec::with_capacity(2048);
    c.bench_function("resp/encode_bulk_1k", |b| {
        b.iter(|| {
            out.clear();
            black_box(&reply).encode(2, &mut out);
        })
    });
    c.bench_function("storage/meta_key", |b| {
        b.iter(|| meta_key(0, black_box(b"user:{1234}:profile")))
    });
}

fn open_shard(dir: &std::path::Path, id: usize, mesh: Arc<Mesh>) -> Shard {
    let config = Arc::new(
        Config::build(
            None,
            diskdb::config::Overrides {
                dir: Some(dir.to_path_buf()),
                shards: Some(2),
                ..Default::default()
            },
        )
        .unwrap(),
    );
    let shared = SharedResources::new(&config);
    Shard::open(id, config, mesh, shared).unwrap()
}

/// Runs a registered single-key command directly on a shard.
fn run(db: &Db, args: &[&[u8]]) -> Reply {
    let cmd = lookup(args[0]).expect("command registered");
    let Exec::Keyed(f) = cmd.exec else {
        panic!("{} is not a single-key command", cmd.name)
    };
    let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    f(db, &owned)
}

fn families(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let shard = open_shard(dir.path(), 0, Arc::new(Mesh::new(2)));
    let db = Db::new(&shard, 0);
    let value = vec![b'v'; 1024];
    let mut i = 0u64;
    let mut key = || {
        i = (i + 1) % 100_000;
        format!("key:{i}").into_bytes()
    };
    c.bench_function("string/set_1k", |b| {
        b.iter(|| run(&db, &[b"set", &key(), &value]))
    });
    c.bench_function("string/get_1k", |b| b.iter(|| run(&db, &[b"get", &key()])));
    c.bench_function("string/incr", |b| {
        b.iter(|| run(&db, &[b"incr", b"counter"]))
    });
    // Collection families, when registered.
    let per_family: [(&str, &[&[u8]]); 4] = [
        ("list/lpush", &[b"lpush", b"list", b"element"]),
        ("hash/hset", &[b"hset", b"hash", b"field", b"value"]),
        ("set/sadd", &[b"sadd", b"set", b"member"]),
        ("zset/zadd", &[b"zadd", b"zset", b"1.5", b"member"]),
    ];
    for (name, args) in per_family {
        if lookup(args[0]).is_some_and(|c| matches!(c.exec, Exec::Keyed(_))) {
            c.bench_function(name, |b| b.iter(|| run(&db, args)));
        }
    }
}

fn cross_shard(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::new(2));
    let (m, d) = (mesh.clone(), dir.path().to_path_buf());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let shard = open_shard(&d, 1, m.clone());
        ready_tx.send(()).unwrap();
        loop {
            let jobs = futures_lite::future::block_on(m.recv_batch(1));
            let done: Vec<_> = jobs.into_iter().map(|j| j(&shard)).collect();
            done.into_iter().for_each(|f| f());
        }
    });
    ready_rx.recv().unwrap();
    c.bench_function("mesh/round_trip", |b| {
        b.iter(|| futures_lite::future::block_on(mesh.call(1, |s| s.id)))
    });
}

criterion_group!(benches, protocol, families, cross_shard);
criterion_main!(benches);
