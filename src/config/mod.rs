//! Configuration: the `diskdb.conf` file (YAML sections of `key: value`),
//! command-line flags that override it, and the settings CONFIG SET changes
//! at run time.

pub mod acl;
pub mod registry;

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// When the write-ahead log is fsynced (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncPolicy {
    /// fsync before replying, one fsync per event-loop turn (group commit).
    Always,
    /// fsync at least every `sync_interval`.
    Everysec,
    /// leave flushing to the OS.
    No,
}

impl SyncPolicy {
    /// Parses `always|everysec|no` (any case).
    pub fn parse(s: &str) -> Option<SyncPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(SyncPolicy::Always),
            "everysec" => Some(SyncPolicy::Everysec),
            "no" => Some(SyncPolicy::No),
            _ => None,
        }
    }

    /// The policy's name as CONFIG GET shows it.
    pub fn name(self) -> &'static str {
        match self {
            SyncPolicy::Always => "always",
            SyncPolicy::Everysec => "everysec",
            SyncPolicy::No => "no",
        }
    }
}

/// Block compression of the RocksDB shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// LZ4 (default).
    Lz4,
    /// Snappy.
    Snappy,
    /// Zstandard.
    Zstd,
    /// No compression.
    None,
}

impl Compression {
    /// Parses a compression name.
    pub fn parse(s: &str) -> Option<Compression> {
        match s.to_ascii_lowercase().as_str() {
            "lz4" => Some(Compression::Lz4),
            "snappy" => Some(Compression::Snappy),
            "zstd" => Some(Compression::Zstd),
            "none" | "no" => Some(Compression::None),
            _ => None,
        }
    }

    /// The name as CONFIG GET shows it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
            Compression::Snappy => "snappy",
            Compression::Zstd => "zstd",
            Compression::None => "none",
        }
    }
}

/// `n` times the multiplier `unit_of` gives the unit written after it
/// (`100MB`, `1s`, `50 us`; no unit: `unit_of("")`), or `None` if either
/// part is invalid or the product overflows.
fn number_with_unit(s: &str, unit_of: impl Fn(&str) -> Option<u64>) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    n.checked_mul(unit_of(unit.trim().to_ascii_lowercase().as_str())?)
}

/// A byte size written as `100MB`, `64kb`, `1G` or a plain number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `123`, `64KB`, `100mb`, `1g`, `2GiB`.
    pub fn parse(s: &str) -> Option<ByteSize> {
        number_with_unit(s, |unit| match unit {
            "" | "b" => Some(1),
            "k" | "kb" | "kib" => Some(1 << 10),
            "m" | "mb" | "mib" => Some(1 << 20),
            "g" | "gb" | "gib" => Some(1 << 30),
            _ => None,
        })
        .map(ByteSize)
    }
}

/// A duration in milliseconds written as `1000ms`, `1s`, `2m` or a number of ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub u64);

impl Millis {
    /// Parses `250`, `250ms`, `1s`, `2m`.
    pub fn parse(s: &str) -> Option<Millis> {
        number_with_unit(s, |unit| match unit {
            "" | "ms" => Some(1),
            "s" => Some(1000),
            "m" | "min" => Some(60_000),
            _ => None,
        })
        .map(Millis)
    }
}

macro_rules! string_or_number {
    ($t:ty, $what:literal) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    N(u64),
                    S(String),
                }
                let raw = Raw::deserialize(d)
                    .map_err(|_| serde::de::Error::custom(concat!("expected ", $what)))?;
                match raw {
                    Raw::N(n) => Ok(Self(n)),
                    Raw::S(s) => Self::parse(&s).ok_or_else(|| {
                        serde::de::Error::custom(format!(concat!("invalid ", $what, " {:?}"), s))
                    }),
                }
            }
        }
    };
}
string_or_number!(ByteSize, "size such as 100MB");
string_or_number!(Millis, "duration such as 1000ms");
string_or_number!(Micros, "duration such as 50us");

/// A duration in microseconds written as `50us`, `1ms` or a number of µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Micros(pub u64);

impl Micros {
    /// Parses `50`, `50us`, `2ms`, `1s`.
    pub fn parse(s: &str) -> Option<Micros> {
        number_with_unit(s, |unit| match unit {
            "" | "us" | "µs" => Some(1),
            "ms" => Some(1000),
            "s" => Some(1_000_000),
            _ => None,
        })
        .map(Micros)
    }
}

/// The `server:` section of diskdb.conf.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address to listen on.
    pub bind: Option<String>,
    /// TCP port.
    pub port: Option<u16>,
    /// Number of shards (one executor and one RocksDB each).
    pub shards: Option<usize>,
    /// Move a connection to the core owning the keys it works on.
    pub connection_affinity: Option<bool>,
    /// How long an idle shard polls before it sleeps.
    pub idle_spin: Option<Micros>,
    /// Pin each shard's executor to one CPU.
    pub pin_shards: Option<bool>,
    /// Run the shard threads under SCHED_BATCH.
    pub batch_scheduling: Option<bool>,
    /// Maximum simultaneous clients.
    pub maxclients: Option<u64>,
    /// Close idle clients after this many seconds (0 = never).
    pub timeout: Option<u64>,
    /// Log level: error, warn, info, debug, trace.
    pub loglevel: Option<String>,
    /// DEBUG command: no | yes | local (loopback clients only).
    pub enable_debug_command: Option<String>,
    /// Password clients must give with AUTH (none: no authentication).
    pub requirepass: Option<String>,
    /// Without a password, refuse clients that are not on loopback.
    pub protected_mode: Option<bool>,
    /// File of ACL users (ACL SAVE / ACL LOAD), loaded at startup.
    pub aclfile: Option<PathBuf>,
}

/// The `storage:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// Data directory.
    pub dir: Option<PathBuf>,
    /// Shared RocksDB block cache for all shards.
    pub block_cache_size: Option<ByteSize>,
    /// Shared memtable budget for all shards.
    pub write_buffer_size: Option<ByteSize>,
    /// In-process cache of hot keys, split between shards.
    pub hot_cache_size: Option<ByteSize>,
    /// Compactions at the lowest CPU priority.
    pub low_priority_compaction: Option<bool>,
}

/// The `persistence:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistenceSection {
    /// Write the RocksDB WAL (false trades crash safety for speed).
    pub wal_enabled: Option<bool>,
    /// always | everysec | no.
    pub sync: Option<SyncPolicy>,
    /// Longest time between WAL fsyncs under `everysec`.
    pub sync_interval: Option<Millis>,
    /// lz4 | snappy | zstd | none.
    pub compression: Option<Compression>,
    /// WAL size that triggers a memtable flush.
    pub max_log_size: Option<ByteSize>,
}

/// The `tls:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// TLS port (0 or absent: no TLS listener).
    pub port: Option<u16>,
    /// Server certificate chain (PEM).
    pub cert_file: Option<PathBuf>,
    /// Private key of the certificate (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates must chain to.
    pub ca_cert_file: Option<PathBuf>,
    /// Client certificates: yes (required), no, optional.
    pub auth_clients: Option<String>,
}

/// Whether TLS clients must present a certificate (`tls-auth-clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAuthClients {
    /// A certificate signed by the CA is required.
    Yes,
    /// Not asked for.
    No,
    /// Verified when given, but not required.
    Optional,
}

impl TlsAuthClients {
    /// Parses `yes|no|optional`.
    pub fn parse(s: &str) -> Option<TlsAuthClients> {
        match s.to_ascii_lowercase().as_str() {
            "yes" => Some(TlsAuthClients::Yes),
            "no" => Some(TlsAuthClients::No),
            "optional" => Some(TlsAuthClients::Optional),
            _ => None,
        }
    }

    /// The name as CONFIG GET shows it.
    pub fn name(self) -> &'static str {
        match self {
            TlsAuthClients::Yes => "yes",
            TlsAuthClients::No => "no",
            TlsAuthClients::Optional => "optional",
        }
    }
}

/// The effective TLS settings.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// TLS port; 0 = no TLS listener.
    pub port: u16,
    /// Server certificate chain (PEM).
    pub cert_file: Option<PathBuf>,
    /// Server private key (PEM).
    pub key_file: Option<PathBuf>,
    /// CA for client certificates (PEM).
    pub ca_cert_file: Option<PathBuf>,
    /// Client certificate policy.
    pub auth_clients: TlsAuthClients,
}

impl TlsConfig {
    /// Merges flags over the `tls:` section and checks the combination.
    fn build(f: TlsSection, o: &Overrides) -> Result<TlsConfig, String> {
        let ca_cert_file = o.tls_ca_cert_file.clone().or(f.ca_cert_file);
        let auth = o.tls_auth_clients.clone().or(f.auth_clients);
        let auth_clients = match auth {
            Some(a) => TlsAuthClients::parse(&a).ok_or_else(|| {
                format!("tls-auth-clients must be yes, no or optional, got {a:?}")
            })?,
            // as Redis: clients must present a certificate once a CA is given
            None if ca_cert_file.is_some() => TlsAuthClients::Yes,
            None => TlsAuthClients::No,
        };
        let t = TlsConfig {
            port: o.tls_port.or(f.port).unwrap_or(0),
            cert_file: o.tls_cert_file.clone().or(f.cert_file),
            key_file: o.tls_key_file.clone().or(f.key_file),
            ca_cert_file,
            auth_clients,
        };
        if t.port != 0 && (t.cert_file.is_none() || t.key_file.is_none()) {
            return Err("tls-port needs tls-cert-file and tls-key-file".into());
        }
        if t.auth_clients != TlsAuthClients::No && t.ca_cert_file.is_none() {
            return Err(format!(
                "tls-auth-clients {} needs tls-ca-cert-file",
                t.auth_clients.name()
            ));
        }
        Ok(t)
    }
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `server:` section.
    #[serde(default)]
    pub server: ServerSection,
    /// `storage:` section.
    #[serde(default)]
    pub storage: StorageSection,
    /// `persistence:` section.
    #[serde(default)]
    pub persistence: PersistenceSection,
    /// `tls:` section.
    #[serde(default)]
    pub tls: TlsSection,
}

impl FileConfig {
    /// Reads and validates a config file; errors name the file, key and line.
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        if text.trim().is_empty() {
            return Ok(FileConfig::default());
        }
        serde_norway::from_str(&text)
            .map_err(|e| format!("invalid config file {}: {e}", path.display()))
    }
}

/// Settings that CONFIG SET may change while the server runs; every shard
/// reads them through the shared `Config`.
#[derive(Debug)]
pub struct Runtime {
    sync: AtomicU8,
    /// fsync period under `everysec`, in ms.
    pub sync_interval_ms: AtomicU64,
    /// Maximum clients.
    pub maxclients: AtomicU64,
    /// Idle timeout in seconds.
    pub timeout: AtomicU64,
    /// Set once shutdown has begun.
    pub shutting_down: AtomicBool,
    /// SLOWLOG threshold in µs (negative disables, 0 logs everything).
    pub slowlog_log_slower_than: AtomicI64,
    /// SLOWLOG entries kept per shard.
    pub slowlog_max_len: AtomicU64,
    /// LATENCY monitor threshold in ms (0 disables).
    pub latency_monitor_threshold: AtomicU64,
    /// `notify-keyspace-events` classes (bits of `shard::pubsub::notify`).
    pub notify_keyspace_events: AtomicU32,
    /// SHA-256 of `requirepass` (`None`: clients need not authenticate).
    pub requirepass: std::sync::RwLock<Option<[u8; 32]>>,
    /// `protected-mode`: without a password, only loopback clients.
    pub protected_mode: AtomicBool,
    /// ACL users (`requirepass` is the `default` user's password).
    pub users: acl::Users,
    /// `client-output-buffer-limit`: (hard bytes, soft bytes, soft seconds)
    /// for the classes normal, replica and pubsub ([`OBUF_PUBSUB`]), in that order.
    pub obuf_limits: [AtomicU64; 9],
    /// Checkpoints (SAVE/BGSAVE) kept; older ones are deleted.
    pub checkpoint_keep: AtomicU64,
}

/// Default idle spin before a shard sleeps: none. A spin yields the CPU
/// to other runnable threads, which gains throughput when clients share
/// the server's CPUs but lets a busy thread there (a client, a RocksDB
/// compaction) delay the shard's next request by up to a scheduler tick
/// (benches/RESULTS.md, "Idle spin").
pub const DEFAULT_IDLE_SPIN_US: u64 = 0;

/// Longest idle spin accepted: every timer wake-up of an idle shard spins
/// this long (at 5 ms, 10% of a core for an idle server).
pub const MAX_IDLE_SPIN_US: u64 = 1000;

/// Default RocksDB block cache shared by all shards (benches/RESULTS.md,
/// "Memory and disk footprint", has the measurements behind the three
/// defaults).
pub const DEFAULT_BLOCK_CACHE_SIZE: u64 = 128 << 20;
/// Default memtable budget shared by all shards (charged to the block
/// cache, so it is part of the block cache's size, not on top of it).
pub const DEFAULT_WRITE_BUFFER_SIZE: u64 = 64 << 20;
/// Default hot-key cache, split between shards.
pub const DEFAULT_HOT_CACHE_SIZE: u64 = 128 << 20;

/// Index of the pubsub class in [`Runtime::obuf_limits`] (normal = 0, replica = 1).
pub const OBUF_PUBSUB: usize = 2;

/// Redis's default `client-output-buffer-limit`.
const OBUF_DEFAULTS: [u64; 9] = [0, 0, 0, 256 << 20, 64 << 20, 60, 32 << 20, 8 << 20, 60];

impl Runtime {
    /// The current sync policy.
    pub fn sync(&self) -> SyncPolicy {
        match self.sync.load(Ordering::Relaxed) {
            0 => SyncPolicy::Always,
            1 => SyncPolicy::Everysec,
            _ => SyncPolicy::No,
        }
    }

    /// Changes the sync policy.
    pub fn set_sync(&self, p: SyncPolicy) {
        self.sync.store(p as u8, Ordering::Relaxed);
    }

    /// (hard, soft, soft seconds) output-buffer limit of a client class.
    pub fn obuf_limit(&self, class: usize) -> (u64, u64, u64) {
        let l = &self.obuf_limits[class * 3..class * 3 + 3];
        (
            l[0].load(Ordering::Relaxed),
            l[1].load(Ordering::Relaxed),
            l[2].load(Ordering::Relaxed),
        )
    }
}

/// SHA-256 of a password: how passwords are kept in memory (as Redis's ACL
/// keeps them), compared in constant time.
pub fn password_hash(password: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(password.as_bytes()).into()
}

impl Runtime {
    /// Whether new connections must authenticate: the `default` user has
    /// a password or is disabled.
    pub fn needs_auth(&self) -> bool {
        let d = self.users.default_user();
        !d.nopass || !d.enabled
    }
}

/// The effective configuration: file values, overridden by flags.
#[derive(Debug)]
pub struct Config {
    /// Listen address.
    pub bind: String,
    /// Listen port.
    pub port: u16,
    /// Data directory.
    pub dir: PathBuf,
    /// Number of shards.
    pub shards: usize,
    /// Connections move to the core owning their keys (`server::handoff`).
    pub connection_affinity: bool,
    /// Microseconds an idle pinned shard keeps polling (yielding the CPU
    /// to other threads) before it sleeps; 0 (the default) sleeps at once.
    pub idle_spin_us: u64,
    /// Shard *i* runs pinned to the *i*-th allowed CPU (when there are
    /// enough); off by default, on by default with an idle spin.
    pub pin_shards: bool,
    /// Shard threads run under SCHED_BATCH: a woken shard waits for the
    /// running thread's turn to end instead of preempting it (off by
    /// default).
    pub batch_scheduling: bool,
    /// Log level name.
    pub loglevel: String,
    /// Whether writes go to the WAL.
    pub wal_enabled: bool,
    /// Block compression.
    pub compression: Compression,
    /// WAL size that forces a flush.
    pub max_log_size: u64,
    /// Shared block cache size.
    pub block_cache_size: u64,
    /// Shared memtable budget.
    pub write_buffer_size: u64,
    /// Hot-key cache budget, split between shards.
    pub hot_cache_size: u64,
    /// RocksDB compaction threads run at nice 19 (`storage::engine`).
    pub low_priority_compaction: bool,
    /// Path of the config file, if any.
    pub config_file: Option<PathBuf>,
    /// DEBUG command: no | yes | local.
    pub enable_debug_command: String,
    /// TLS listener settings.
    pub tls: TlsConfig,
    /// ACL file (ACL SAVE / LOAD), if any.
    pub aclfile: Option<PathBuf>,
    /// Settings changeable at run time.
    pub runtime: Runtime,
}

/// Flag values that override the file (None = not given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// --bind
    pub bind: Option<String>,
    /// --port
    pub port: Option<u16>,
    /// --dir
    pub dir: Option<PathBuf>,
    /// --shards
    pub shards: Option<usize>,
    /// --connection-affinity
    pub connection_affinity: Option<bool>,
    /// --idle-spin
    pub idle_spin: Option<Micros>,
    /// --pin-shards
    pub pin_shards: Option<bool>,
    /// --batch-scheduling
    pub batch_scheduling: Option<bool>,
    /// --loglevel
    pub loglevel: Option<String>,
    /// --sync
    pub sync: Option<SyncPolicy>,
    /// --sync-interval
    pub sync_interval: Option<Millis>,
    /// --compression
    pub compression: Option<Compression>,
    /// --block-cache-size
    pub block_cache_size: Option<ByteSize>,
    /// --write-buffer-size
    pub write_buffer_size: Option<ByteSize>,
    /// --hot-cache-size
    pub hot_cache_size: Option<ByteSize>,
    /// --low-priority-compaction
    pub low_priority_compaction: Option<bool>,
    /// --maxclients
    pub maxclients: Option<u64>,
    /// --enable-debug-command
    pub enable_debug_command: Option<String>,
    /// --requirepass
    pub requirepass: Option<String>,
    /// --protected-mode
    pub protected_mode: Option<bool>,
    /// --tls-port
    pub tls_port: Option<u16>,
    /// --tls-cert-file
    pub tls_cert_file: Option<PathBuf>,
    /// --tls-key-file
    pub tls_key_file: Option<PathBuf>,
    /// --tls-ca-cert-file
    pub tls_ca_cert_file: Option<PathBuf>,
    /// --tls-auth-clients
    pub tls_auth_clients: Option<String>,
    /// --aclfile
    pub aclfile: Option<PathBuf>,
}

impl Config {
    /// Builds the effective config from an optional file and flag overrides.
    pub fn build(file: Option<(&Path, FileConfig)>, o: Overrides) -> Result<Config, String> {
        let (path, f) = match file {
            Some((p, f)) => (Some(p.to_path_buf()), f),
            None => (None, FileConfig::default()),
        };
        let tls = TlsConfig::build(f.tls, &o)?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let shards = o.shards.or(f.server.shards).unwrap_or(cores);
        if shards == 0 || shards > 1024 {
            return Err(format!("shards must be between 1 and 1024, got {shards}"));
        }
        let loglevel = o
            .loglevel
            .or(f.server.loglevel)
            .unwrap_or_else(|| "info".into());
        if loglevel.parse::<log::LevelFilter>().is_err() {
            return Err(format!(
                "invalid loglevel {loglevel:?} (error, warn, info, debug, trace)"
            ));
        }
        let idle_spin_us = o
            .idle_spin
            .or(f.server.idle_spin)
            .map_or(DEFAULT_IDLE_SPIN_US, |d| d.0);
        if idle_spin_us > MAX_IDLE_SPIN_US {
            return Err(format!(
                "idle-spin must be at most {MAX_IDLE_SPIN_US}us (1ms), got {idle_spin_us}us"
            ));
        }
        let sync = o
            .sync
            .or(f.persistence.sync)
            .unwrap_or(SyncPolicy::Everysec);
        let debug = o
            .enable_debug_command
            .or(f.server.enable_debug_command)
            .unwrap_or_else(|| "no".into());
        if !matches!(debug.as_str(), "no" | "yes" | "local") {
            return Err(format!(
                "enable-debug-command must be no, yes or local, got {debug:?}"
            ));
        }
        let port = o.port.or(f.server.port).unwrap_or(6380);
        if port == 0 && tls.port == 0 {
            return Err("port 0 disables the plain listener: give a tls-port too".into());
        }
        let requirepass = o
            .requirepass
            .or(f.server.requirepass)
            .filter(|p| !p.is_empty())
            .map(|p| password_hash(&p));
        let aclfile = o.aclfile.or(f.server.aclfile);
        let users = acl::Users::new(requirepass);
        if let Some(p) = &aclfile {
            users.load_file(p)?;
        }
        Ok(Config {
            tls,
            aclfile,
            bind: o
                .bind
                .or(f.server.bind)
                .unwrap_or_else(|| "127.0.0.1".into()),
            port,
            dir: o
                .dir
                .or(f.storage.dir)
                .unwrap_or_else(|| PathBuf::from("./data")),
            shards,
            connection_affinity: o
                .connection_affinity
                .or(f.server.connection_affinity)
                .unwrap_or(true),
            idle_spin_us,
            pin_shards: o
                .pin_shards
                .or(f.server.pin_shards)
                .unwrap_or(idle_spin_us > 0),
            batch_scheduling: o
                .batch_scheduling
                .or(f.server.batch_scheduling)
                .unwrap_or(false),
            loglevel,
            wal_enabled: f.persistence.wal_enabled.unwrap_or(true),
            compression: o
                .compression
                .or(f.persistence.compression)
                .unwrap_or(Compression::Lz4),
            max_log_size: f.persistence.max_log_size.map_or(100 << 20, |s| s.0),
            block_cache_size: o
                .block_cache_size
                .or(f.storage.block_cache_size)
                .map_or(DEFAULT_BLOCK_CACHE_SIZE, |s| s.0),
            write_buffer_size: o
                .write_buffer_size
                .or(f.storage.write_buffer_size)
                .map_or(DEFAULT_WRITE_BUFFER_SIZE, |s| s.0),
            hot_cache_size: o
                .hot_cache_size
                .or(f.storage.hot_cache_size)
                .map_or(DEFAULT_HOT_CACHE_SIZE, |s| s.0),
            low_priority_compaction: o
                .low_priority_compaction
                .or(f.storage.low_priority_compaction)
                .unwrap_or(true),
            config_file: path,
            enable_debug_command: debug,
            runtime: Runtime {
                sync: AtomicU8::new(sync as u8),
                sync_interval_ms: AtomicU64::new(
                    o.sync_interval
                        .or(f.persistence.sync_interval)
                        .map_or(1000, |m| m.0.max(1)),
                ),
                maxclients: AtomicU64::new(o.maxclients.or(f.server.maxclients).unwrap_or(10_000)),
                timeout: AtomicU64::new(f.server.timeout.unwrap_or(0)),
                shutting_down: AtomicBool::new(false),
                slowlog_log_slower_than: AtomicI64::new(10_000),
                slowlog_max_len: AtomicU64::new(128),
                latency_monitor_threshold: AtomicU64::new(0),
                notify_keyspace_events: AtomicU32::new(0),
                obuf_limits: OBUF_DEFAULTS.map(AtomicU64::new),
                requirepass: std::sync::RwLock::new(requirepass),
                users,
                protected_mode: AtomicBool::new(
                    o.protected_mode.or(f.server.protected_mode).unwrap_or(true),
                ),
                checkpoint_keep: AtomicU64::new(2),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("diskdb.conf");
        std::fs::write(&p, text).unwrap();
        FileConfig::load(&p)
    }

    #[test]
    fn seed_layout_parses() {
        let f = parse(
            "server:\n  port: 7000\npersistence:\n  wal_enabled: true\n  sync_interval: 1000ms\n  compression: lz4\n  max_log_size: 100MB\n",
        )
        .unwrap();
        assert_eq!(f.server.port, Some(7000));
        assert_eq!(f.persistence.max_log_size, Some(ByteSize(100 << 20)));
        assert_eq!(f.persistence.sync_interval, Some(Millis(1000)));
    }

    #[test]
    fn tls_section() {
        let f = parse(
            "tls:\n  port: 6390\n  cert_file: s.crt\n  key_file: s.key\n  ca_cert_file: ca.crt\n",
        )
        .unwrap();
        let c = Config::build(Some((Path::new("x"), f)), Overrides::default()).unwrap();
        assert_eq!(c.tls.port, 6390);
        assert_eq!(
            c.tls.auth_clients,
            TlsAuthClients::Yes,
            "a CA implies client certificates"
        );
        let f = parse("tls:\n  port: 6390\n  cert_file: s.crt\n").unwrap();
        let e = Config::build(Some((Path::new("x"), f)), Overrides::default()).unwrap_err();
        assert!(e.contains("tls-key-file"), "{e}");
        let e = parse("tls:\n  auth_clients: maybe\n")
            .map(|f| Config::build(Some((Path::new("x"), f)), Overrides::default()));
        assert!(
            matches!(e, Ok(Err(ref m)) if m.contains("tls-auth-clients")),
            "{e:?}"
        );
    }

    #[test]
    fn errors_name_key_and_line() {
        let e = parse("server:\n  port: 7000\npersistence:\n  compression: gzip\n").unwrap_err();
        assert!(e.contains("compression") && e.contains("line 4"), "{e}");
        let e = parse("server:\n  prot: 1\n").unwrap_err();
        assert!(e.contains("prot") && e.contains("line 2"), "{e}");
    }
}
