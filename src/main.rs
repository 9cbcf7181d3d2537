//! `diskdb`: command line → configuration → server.

use clap::Parser;
use diskdb::config::{
    ByteSize, Compression, Config, FileConfig, Micros, Millis, Overrides, SyncPolicy,
};
use std::path::PathBuf;

/// jemalloc for Rust and (unprefixed) for RocksDB's C++ allocations: less
/// fragmentation under block-cache churn and cheaper small allocations than
/// glibc's malloc (figures in benches/RESULTS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A Redis-compatible server that keeps every byte on disk in RocksDB.
#[derive(Parser, Debug)]
#[command(
    name = "diskdb",
    version,
    about,
    long_about = "DiskDB speaks the Redis protocol (RESP2/RESP3) on --port and keeps every \
key on disk in RocksDB, one shard per core under --dir, with hot keys cached in memory.\n\n\
Settings come from --config (YAML sections server, storage, persistence, tls; see the \
example diskdb.conf), then from flags, which win. CONFIG GET/SET changes some at run \
time. SIGTERM or SHUTDOWN stops cleanly; RUST_LOG overrides --loglevel.",
    after_help = "Examples:\n  diskdb --port 6380 --dir /var/lib/diskdb\n  diskdb --config /etc/diskdb/diskdb.conf --sync always\n  redis-cli -p 6380 ping"
)]
struct Cli {
    /// Config file (YAML sections: server, storage, persistence, tls).
    #[arg(long, short = 'c', value_name = "FILE", help_heading = "General")]
    config: Option<PathBuf>,
    /// Log level: error, warn, info, debug, trace (RUST_LOG also works).
    #[arg(long, value_name = "LEVEL", help_heading = "General")]
    loglevel: Option<String>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, help_heading = "Network")]
    bind: Option<String>,
    /// TCP port [default: 6380].
    #[arg(long, short = 'p', help_heading = "Network")]
    port: Option<u16>,
    /// DEBUG command: no, yes, local (loopback clients only) [default: no].
    #[arg(long, value_name = "MODE", help_heading = "Security")]
    enable_debug_command: Option<String>,
    /// Password clients must send with AUTH (stored as its SHA-256).
    #[arg(long, value_name = "PASSWORD", help_heading = "Security")]
    requirepass: Option<String>,
    /// Without a password, accept only loopback clients: yes or no [default: yes].
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no, help_heading = "Security")]
    protected_mode: Option<bool>,
    /// TLS port; 0 = no TLS (with --port 0, TLS only) [default: 0].
    #[arg(long, value_name = "PORT", help_heading = "TLS")]
    tls_port: Option<u16>,
    /// Server certificate chain (PEM).
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    tls_cert_file: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    tls_key_file: Option<PathBuf>,
    /// CA certificates (PEM) for client certificates.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    tls_ca_cert_file: Option<PathBuf>,
    /// Client certificates: yes, no, optional [default: yes with a CA, else no].
    #[arg(long, value_name = "yes|no|optional", help_heading = "TLS")]
    tls_auth_clients: Option<String>,
    /// File of ACL users (`user <name> on #<sha256> ~* +@all` lines), loaded at startup.
    #[arg(long, value_name = "PATH", help_heading = "Security")]
    aclfile: Option<PathBuf>,
    /// Maximum simultaneous clients [default: 10000].
    #[arg(long, help_heading = "Network")]
    maxclients: Option<u64>,
    /// Data directory [default: ./data].
    #[arg(long, short = 'd', help_heading = "Storage")]
    dir: Option<PathBuf>,
    /// Number of shards, one per core [default: number of cores].
    #[arg(long, help_heading = "Tuning")]
    shards: Option<usize>,
    /// Move a connection whose commands all go to another core's keys to
    /// that core: yes or no [default: yes].
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no, help_heading = "Tuning")]
    connection_affinity: Option<bool>,
    /// How long an idle shard keeps polling, giving the CPU to any other
    /// runnable thread, before it sleeps, e.g. 50us, at most 1ms. Raises
    /// throughput when clients share the server's CPUs, at a cost in p99
    /// latency; 0 sleeps at once [default: 0].
    #[arg(long, value_parser = parse_micros, help_heading = "Tuning")]
    idle_spin: Option<Micros>,
    /// Pin shard i to the i-th CPU the process may use: yes or no.
    /// Unpinned, the kernel can move a woken shard off a CPU that clients
    /// or compactions keep busy [default: no; yes with --idle-spin].
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no, help_heading = "Tuning")]
    pin_shards: Option<bool>,
    /// Run the shard threads under SCHED_BATCH: yes or no. A shard woken by
    /// a client or another core then waits for the running thread's turn
    /// instead of preempting it; faster when clients share the server's
    /// CPUs, at some cost in p99 [default: no].
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no, help_heading = "Tuning")]
    batch_scheduling: Option<bool>,
    /// Block compression: lz4, snappy, zstd, none [default: lz4].
    #[arg(long, value_parser = parse_compression, help_heading = "Storage")]
    compression: Option<Compression>,
    /// Block cache shared by all shards, memtables included, e.g. 1GB [default: 128MB].
    #[arg(long, value_parser = parse_size, help_heading = "Tuning")]
    block_cache_size: Option<ByteSize>,
    /// Memtable budget shared by all shards, charged to the block cache [default: 64MB].
    #[arg(long, value_parser = parse_size, help_heading = "Tuning")]
    write_buffer_size: Option<ByteSize>,
    /// Hot-key cache (decoded records, split between shards), e.g. 512MB [default: 128MB].
    #[arg(long, value_parser = parse_size, help_heading = "Tuning")]
    hot_cache_size: Option<ByteSize>,
    /// Run RocksDB compactions at the lowest CPU priority (nice 19), so they
    /// use what the shards leave: yes or no [default: yes].
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no, help_heading = "Tuning")]
    low_priority_compaction: Option<bool>,
    /// WAL fsync policy: always, everysec, no [default: everysec].
    #[arg(long, value_parser = parse_sync, help_heading = "Durability")]
    sync: Option<SyncPolicy>,
    /// fsync period under everysec, e.g. 1000ms [default: 1000ms].
    #[arg(long, value_parser = parse_millis, help_heading = "Durability")]
    sync_interval: Option<Millis>,
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    Compression::parse(s)
        .ok_or_else(|| format!("unknown compression {s:?} (lz4, snappy, zstd, none)"))
}
fn parse_size(s: &str) -> Result<ByteSize, String> {
    ByteSize::parse(s).ok_or_else(|| format!("invalid size {s:?} (e.g. 256MB)"))
}
fn parse_sync(s: &str) -> Result<SyncPolicy, String> {
    SyncPolicy::parse(s).ok_or_else(|| format!("invalid sync policy {s:?} (always, everysec, no)"))
}
fn parse_micros(s: &str) -> Result<Micros, String> {
    Micros::parse(s).ok_or_else(|| format!("invalid duration {s:?} (e.g. 50us)"))
}

fn parse_millis(s: &str) -> Result<Millis, String> {
    Millis::parse(s).ok_or_else(|| format!("invalid duration {s:?} (e.g. 1000ms)"))
}

fn main() {
    let cli = Cli::parse();
    let file = match &cli.config {
        Some(path) => match FileConfig::load(path) {
            Ok(f) => Some((path.as_path(), f)),
            Err(e) => fail(&e),
        },
        None => None,
    };
    let file_level = file.as_ref().and_then(|(_, f)| f.server.loglevel.clone());
    let level = cli
        .loglevel
        .clone()
        .or(file_level)
        .unwrap_or_else(|| "info".into());
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(&level)).init();
    let overrides = Overrides {
        bind: cli.bind,
        port: cli.port,
        dir: cli.dir,
        shards: cli.shards,
        connection_affinity: cli.connection_affinity,
        idle_spin: cli.idle_spin,
        pin_shards: cli.pin_shards,
        batch_scheduling: cli.batch_scheduling,
        loglevel: cli.loglevel,
        sync: cli.sync,
        sync_interval: cli.sync_interval,
        compression: cli.compression,
        block_cache_size: cli.block_cache_size,
        write_buffer_size: cli.write_buffer_size,
        hot_cache_size: cli.hot_cache_size,
        low_priority_compaction: cli.low_priority_compaction,
        maxclients: cli.maxclients,
        enable_debug_command: cli.enable_debug_command,
        requirepass: cli.requirepass,
        protected_mode: cli.protected_mode,
        tls_port: cli.tls_port,
        tls_cert_file: cli.tls_cert_file,
        tls_key_file: cli.tls_key_file,
        tls_ca_cert_file: cli.tls_ca_cert_file,
        tls_auth_clients: cli.tls_auth_clients,
        aclfile: cli.aclfile,
    };
    let config = match Config::build(file, overrides) {
        Ok(c) => c,
        Err(e) => fail(&e),
    };
    if let Err(e) = diskdb::server::run(config) {
        fail(&e);
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("diskdb: {msg}");
    log::error!("{msg}");
    std::process::exit(1);
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected yes or no, got {v:?}")),
    }
}
