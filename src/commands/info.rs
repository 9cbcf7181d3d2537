//! INFO: Redis-shaped sections built from every shard's figures.

use super::server::REDIS_VERSION;
use super::{on_every_shard, Args, BoxFuture};
use crate::data_types::Db;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::server::ServerState;
use crate::shard::observe::CommandStat;
use crate::shard::pubsub::Kind;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

/// Figures one shard contributes to INFO.
#[derive(Default, Clone)]
struct ShardFigures {
    commands: u64,
    hits: u64,
    misses: u64,
    expired: u64,
    stalls: u64,
    wal_syncs: u64,
    last_sync_ms: u64,
    sst_bytes: u64,
    memtable_bytes: u64,
    /// Records in the memtables (active and waiting for their flush).
    memtable_entries: u64,
    hot_cache_bytes: u64,
    /// The shard's share of the hot-cache budget.
    hot_cache_share: u64,
    hot_cache_dropped: u64,
    /// Reads of other shards served here, and those found in a hot cache.
    peer_reads: (u64, u64),
    /// Replies written by this shard to other cores' clients.
    owner_replies: u64,
    /// Sorted sets held in memory: (bytes, sets, loads).
    hot_sorted_sets: (u64, u64, u64),
    /// List read-ahead: (bytes, elements popped from it).
    list_read_ahead: (u64, u64),
    ops_per_sec: u64,
    blocked: u64,
    pending_compaction_bytes: u64,
    running_compactions: u64,
    running_flushes: u64,
    write_stopped: u64,
    delayed_write_rate: u64,
    estimated_keys: u64,
    amp: crate::storage::engine::Amplification,
    net_in: u64,
    net_out: u64,
    wal_bytes: u64,
    command_stats: HashMap<&'static str, CommandStat, ahash::RandomState>,
    error_stats: HashMap<String, u64>,
    keyspace: Vec<(u8, u64, u64)>,
}

fn shard_figures(db: &Db, with_keyspace: bool) -> ShardFigures {
    let s = db.shard;
    let st = &s.stats;
    let keyspace = if with_keyspace {
        (0..16u8)
            .map(|i| {
                let (k, e) = Db::new(s, i).count_keys();
                (i, k, e)
            })
            .filter(|(_, k, _)| *k > 0)
            .collect()
    } else {
        Vec::new()
    };
    let prop = |name: &str| s.engine.property_sum(name);
    let obs = s.observe.borrow();
    ShardFigures {
        commands: st.commands.get(),
        hits: st.keyspace_hits.get(),
        misses: st.keyspace_misses.get(),
        expired: st.expired_keys.get(),
        stalls: st.write_stalls.get(),
        wal_syncs: st.wal_syncs.get(),
        last_sync_ms: s.last_sync_ms.get(),
        sst_bytes: prop("rocksdb.total-sst-files-size"),
        memtable_bytes: prop("rocksdb.cur-size-all-mem-tables"),
        memtable_entries: prop("rocksdb.num-entries-active-mem-table")
            + prop("rocksdb.num-entries-imm-mem-tables"),
        hot_cache_bytes: s.hot.borrow().used() as u64,
        hot_cache_share: s.hot.borrow().capacity() as u64,
        hot_cache_dropped: s.hot.borrow().dropped_batches(),
        peer_reads: (st.peer_reads.get(), st.peer_hot_hits.get()),
        owner_replies: st.owner_replies.get(),
        hot_sorted_sets: {
            let o = &s.hot.borrow().ordered;
            (o.used() as u64, o.len() as u64, o.loads())
        },
        list_read_ahead: {
            let l = &s.hot.borrow().list_ends;
            (l.used() as u64, l.hits())
        },
        ops_per_sec: s.ops_per_sec(),
        blocked: s.blocked.borrow().len() as u64,
        pending_compaction_bytes: prop("rocksdb.estimate-pending-compaction-bytes"),
        running_compactions: s
            .engine
            .db()
            .property_int_value("rocksdb.num-running-compactions")
            .ok()
            .flatten()
            .unwrap_or(0),
        running_flushes: s
            .engine
            .db()
            .property_int_value("rocksdb.num-running-flushes")
            .ok()
            .flatten()
            .unwrap_or(0),
        write_stopped: prop("rocksdb.is-write-stopped"),
        delayed_write_rate: s
            .engine
            .db()
            .property_int_value("rocksdb.actual-delayed-write-rate")
            .ok()
            .flatten()
            .unwrap_or(0),
        estimated_keys: s
            .engine
            .db()
            .property_int_value_cf(
                s.engine.cf(crate::storage::Cf::Meta),
                "rocksdb.estimate-num-keys",
            )
            .ok()
            .flatten()
            .unwrap_or(0),
        amp: s.engine.amplification(crate::storage::Cf::Meta),
        net_in: st.net_input_bytes.get(),
        net_out: st.net_output_bytes.get(),
        wal_bytes: s.engine.wal_bytes(),
        command_stats: obs.commands.clone(),
        error_stats: obs.errors.clone(),
        keyspace,
    }
}

/// Everything the section builders read.
struct Ctx<'a> {
    srv: &'a ServerState,
    shards: Vec<ShardFigures>,
}

impl Ctx<'_> {
    fn sum(&self, f: fn(&ShardFigures) -> u64) -> u64 {
        self.shards.iter().map(f).sum()
    }
}

type Section = fn(&Ctx) -> Vec<String>;

/// (name, in the default set, builder), in Redis's order.
const SECTIONS: &[(&str, bool, Section)] = &[
    ("Server", true, server),
    ("Clients", true, clients),
    ("Memory", true, memory),
    ("Persistence", true, persistence),
    ("Stats", true, stats),
    ("Replication", true, |_| {
        vec!["role:master".into(), "connected_slaves:0".into()]
    }),
    ("CPU", true, cpu),
    ("Shards", true, shards),
    ("RocksDB", true, rocksdb),
    ("Commandstats", false, commandstats),
    ("Errorstats", true, errorstats),
    ("Keyspace", true, keyspace),
];

/// INFO [section ...]
pub fn info(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let wanted: Vec<String> = a[1..]
            .iter()
            .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
            .collect();
        let everything = wanted.iter().any(|w| w == "all" || w == "everything");
        let default = wanted.is_empty() || wanted.iter().any(|w| w == "default");
        let want = |name: &str, in_default: bool| {
            everything
                || (default && in_default)
                || wanted.iter().any(|w| w == &name.to_ascii_lowercase())
        };
        let with_keyspace = want("Keyspace", true);
        let shards = on_every_shard(c, move |db| shard_figures(db, with_keyspace)).await;
        let ctx = Ctx {
            srv: &c.server,
            shards,
        };
        let mut out = String::new();
        for (name, in_default, build) in SECTIONS {
            if !want(name, *in_default) {
                continue;
            }
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            out.push_str(&format!("# {name}\r\n"));
            for line in build(&ctx) {
                out.push_str(&line);
                out.push_str("\r\n");
            }
        }
        Reply::Verbatim(out)
    })
}

fn server(x: &Ctx) -> Vec<String> {
    let cfg = &x.srv.config;
    let uptime = x.srv.started.elapsed().as_secs();
    let path =
        |p: Option<std::path::PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_default();
    vec![
        format!("redis_version:{REDIS_VERSION}"),
        format!("diskdb_version:{}", env!("CARGO_PKG_VERSION")),
        "redis_mode:standalone".into(),
        format!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH),
        "arch_bits:64".into(),
        "multiplexing_api:io_uring".into(),
        format!("process_id:{}", std::process::id()),
        format!("run_id:{}", x.srv.run_id),
        format!("tcp_port:{}", cfg.port),
        format!("uptime_in_seconds:{uptime}"),
        format!("uptime_in_days:{}", uptime / 86400),
        "hz:10".into(),
        format!("executable:{}", path(std::env::current_exe().ok())),
        format!("config_file:{}", path(cfg.config_file.clone())),
        format!("shards:{}", cfg.shards),
    ]
}

fn clients(x: &Ctx) -> Vec<String> {
    vec![
        format!("connected_clients:{}", x.srv.clients.lock().unwrap().len()),
        format!(
            "maxclients:{}",
            x.srv.config.runtime.maxclients.load(Ordering::Relaxed)
        ),
        format!("blocked_clients:{}", x.sum(|f| f.blocked)),
        format!("tracking_clients:{}", x.srv.pubsub.tracking.clients()),
    ]
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    let (v, unit) = if b >= (1u64 << 30) as f64 {
        (b / (1u64 << 30) as f64, "G")
    } else if b >= (1u64 << 20) as f64 {
        (b / (1u64 << 20) as f64, "M")
    } else {
        (b / 1024.0, "K")
    };
    format!("{v:.2}{unit}")
}

fn memory(x: &Ctx) -> Vec<String> {
    let rss = rss_bytes();
    let cfg = &x.srv.config;
    let mut lines = vec![
        format!("used_memory:{rss}"),
        format!("used_memory_human:{}", human(rss)),
        format!("used_memory_rss:{rss}"),
        format!("used_memory_rss_human:{}", human(rss)),
        format!("block_cache_used:{}", x.srv.shared.cache_usage()),
        format!("block_cache_capacity:{}", cfg.block_cache_size),
        format!("memtables_used:{}", x.sum(|f| f.memtable_bytes)),
        format!("hot_cache_used:{}", x.sum(|f| f.hot_cache_bytes)),
        format!("hot_cache_capacity:{}", cfg.hot_cache_size),
        format!(
            "hot_cache_dropped_batches:{}",
            x.sum(|f| f.hot_cache_dropped)
        ),
        format!("peer_reads:{}", x.sum(|f| f.peer_reads.0)),
        format!("peer_reads_hot_cache_hits:{}", x.sum(|f| f.peer_reads.1)),
        format!("owner_replies:{}", x.sum(|f| f.owner_replies)),
        format!("hot_sorted_sets_used:{}", x.sum(|f| f.hot_sorted_sets.0)),
        format!("hot_sorted_sets:{}", x.sum(|f| f.hot_sorted_sets.1)),
        format!("hot_sorted_set_loads:{}", x.sum(|f| f.hot_sorted_sets.2)),
        format!("list_read_ahead_used:{}", x.sum(|f| f.list_read_ahead.0)),
        format!("list_read_ahead_hits:{}", x.sum(|f| f.list_read_ahead.1)),
        "maxmemory:0".into(),
        "maxmemory_policy:noeviction".into(),
    ];
    lines.extend(x.shards.iter().enumerate().map(|(i, f)| {
        format!(
            "shard{i}_memory:memtables={},hot_cache={},hot_cache_share={}",
            f.memtable_bytes, f.hot_cache_bytes, f.hot_cache_share
        )
    }));
    lines
}

fn persistence(x: &Ctx) -> Vec<String> {
    let cfg = &x.srv.config;
    let now = crate::util::now_ms();
    let last_sync = x.shards.iter().map(|f| f.last_sync_ms).min().unwrap_or(now);
    let saves = &x.srv.saves;
    vec![
        "loading:0".into(),
        "rdb_changes_since_last_save:0".into(),
        format!("aof_enabled:{}", cfg.wal_enabled as u8),
        format!("wal_sync:{}", cfg.runtime.sync().name()),
        format!("wal_syncs:{}", x.sum(|f| f.wal_syncs)),
        format!("wal_bytes:{}", x.sum(|f| f.wal_bytes)),
        format!("rdb_bgsave_in_progress:{}", saves.in_progress() as u8),
        format!("rdb_last_save_time:{}", saves.last_save_secs()),
        format!(
            "rdb_last_bgsave_status:{}",
            if saves.last_ok() { "ok" } else { "err" }
        ),
        format!(
            "last_checkpoint:{}",
            saves
                .last_path()
                .map_or("none".to_string(), |p| p.display().to_string())
        ),
        format!("wal_last_sync_age_ms:{}", now.saturating_sub(last_sync)),
        format!("disk_sst_bytes:{}", x.sum(|f| f.sst_bytes)),
        format!("write_stalls:{}", x.sum(|f| f.stalls)),
    ]
}

fn stats(x: &Ctx) -> Vec<String> {
    let srv = x.srv;
    let errors: u64 = x.shards.iter().flat_map(|f| f.error_stats.values()).sum();
    vec![
        format!(
            "total_connections_received:{}",
            srv.total_connections.load(Ordering::Relaxed)
        ),
        format!("total_commands_processed:{}", x.sum(|f| f.commands)),
        format!("instantaneous_ops_per_sec:{}", x.sum(|f| f.ops_per_sec)),
        format!(
            "rejected_connections:{}",
            srv.rejected_connections.load(Ordering::Relaxed)
        ),
        format!("expired_keys:{}", x.sum(|f| f.expired)),
        "evicted_keys:0".into(),
        format!("total_net_input_bytes:{}", x.sum(|f| f.net_in)),
        format!(
            "total_net_output_bytes:{}",
            x.sum(|f| f.net_out) + srv.owner_sent_bytes.load(Ordering::Relaxed)
        ),
        format!("keyspace_hits:{}", x.sum(|f| f.hits)),
        format!("keyspace_misses:{}", x.sum(|f| f.misses)),
        format!("total_error_replies:{errors}"),
        format!("pubsub_channels:{}", srv.pubsub.count(Kind::Channel)),
        format!("pubsub_patterns:{}", srv.pubsub.count(Kind::Pattern)),
        format!("pubsubshard_channels:{}", srv.pubsub.count(Kind::Shard)),
        format!("tracking_total_keys:{}", srv.pubsub.tracking.total_keys()),
    ]
}

fn cpu(_x: &Ctx) -> Vec<String> {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    vec![
        format!("used_cpu_sys:{:.6}", secs(ru.ru_stime)),
        format!("used_cpu_user:{:.6}", secs(ru.ru_utime)),
    ]
}

fn shards(x: &Ctx) -> Vec<String> {
    x.shards
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                "shard{i}:commands={},ops_per_sec={},keyspace_hits={},keyspace_misses={},expired_keys={},blocked_clients={}",
                f.commands, f.ops_per_sec, f.hits, f.misses, f.expired, f.blocked
            )
        })
        .collect()
}

fn rocksdb(x: &Ctx) -> Vec<String> {
    x.shards
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                "rocksdb_shard{i}:sst_bytes={},memtable_bytes={},memtable_entries={},pending_compaction_bytes={},running_compactions={},running_flushes={},write_stopped={},delayed_write_rate={},write_stalls={},wal_syncs={},estimated_keys={},write_amp={:.2},read_amp={},space_amp={:.2}",
                f.sst_bytes, f.memtable_bytes, f.memtable_entries, f.pending_compaction_bytes, f.running_compactions, f.running_flushes, f.write_stopped, f.delayed_write_rate, f.stalls, f.wal_syncs, f.estimated_keys, f.amp.write, f.amp.read, f.amp.space
            )
        })
        .collect()
}

fn commandstats(x: &Ctx) -> Vec<String> {
    let mut merged: BTreeMap<&str, CommandStat> = BTreeMap::new();
    for (name, st) in x.shards.iter().flat_map(|f| f.command_stats.iter()) {
        let m = merged.entry(name).or_default();
        m.calls += st.calls;
        m.usec += st.usec;
        m.rejected += st.rejected;
        m.failed += st.failed;
    }
    merged
        .iter()
        .map(|(name, s)| {
            let per_call = if s.calls > 0 { s.usec as f64 / s.calls as f64 } else { 0.0 };
            format!(
                "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                s.calls, s.usec, s.rejected, s.failed
            )
        })
        .collect()
}

fn errorstats(x: &Ctx) -> Vec<String> {
    let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, n) in x.shards.iter().flat_map(|f| f.error_stats.iter()) {
        *merged.entry(code).or_default() += n;
    }
    merged
        .iter()
        .map(|(code, n)| format!("errorstat_{code}:count={n}"))
        .collect()
}

fn keyspace(x: &Ctx) -> Vec<String> {
    let mut dbs: BTreeMap<u8, (u64, u64)> = BTreeMap::new();
    for &(i, k, e) in x.shards.iter().flat_map(|f| f.keyspace.iter()) {
        let d = dbs.entry(i).or_default();
        d.0 += k;
        d.1 += e;
    }
    dbs.iter()
        .map(|(i, (k, e))| format!("db{i}:keys={k},expires={e},avg_ttl=0"))
        .collect()
}
