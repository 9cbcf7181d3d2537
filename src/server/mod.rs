//! The process: one glommio executor per shard (pinned to a CPU with
//! `--pin-shards`), each with its own SO_REUSEPORT listener, plus signal
//! handling and clean shutdown.

pub mod client;
pub mod connection;
pub mod direct;
pub mod handoff;
pub mod prefetch;
pub mod subscriber;
pub mod tls;

use crate::config::Config;
use crate::shard::mesh::Mesh;
use crate::shard::Shard;
use crate::storage::{manifest, SharedResources};
use client::ClientHandle;
use glommio::{LocalExecutorBuilder, Placement};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Process-wide state shared by all executors (never on the data path).
pub struct ServerState {
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Connected clients, by id.
    pub clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_client_id: AtomicU64,
    /// Connections accepted since start.
    pub total_connections: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Reply bytes owner shards wrote to other cores' clients
    /// (`server::direct`), part of INFO's total_net_output_bytes.
    pub owner_sent_bytes: AtomicU64,
    /// Process start.
    pub started: Instant,
    /// Process start, wall clock.
    pub started_wall: SystemTime,
    /// Run id for INFO.
    pub run_id: String,
    /// Shared RocksDB memory.
    pub shared: SharedResources,
    /// MONITOR clients: (client id, feed).
    monitors: Mutex<Vec<(u64, futures_channel::mpsc::UnboundedSender<Vec<u8>>)>>,
    monitor_count: AtomicUsize,
    /// CLIENT PAUSE: paused until this unix time in ms (0 = not paused).
    pub pause_until_ms: AtomicU64,
    /// CLIENT PAUSE WRITE (only writes wait) rather than ALL.
    pub pause_writes_only: AtomicBool,
    /// Pub/Sub channels and their subscribers on every core.
    pub pubsub: Arc<crate::shard::pubsub::PubSub>,
    /// SAVE/BGSAVE state: running, last success, last checkpoint.
    pub saves: crate::storage::checkpoint::SaveState,
}

impl ServerState {
    /// Allocates a client id.
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Starts feeding every command to a MONITOR client.
    pub fn add_monitor(&self, id: u64, feed: futures_channel::mpsc::UnboundedSender<Vec<u8>>) {
        let mut m = self.monitors.lock().unwrap();
        m.push((id, feed));
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }

    /// Sends a command to the MONITOR clients (a no-op when there are none).
    pub fn monitor_feed(&self, client: &client::Client, args: &[Vec<u8>]) {
        if self.monitor_count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut line = format!(
            "+{}.{:06} [{} {}]",
            now.as_secs(),
            now.subsec_micros(),
            client.db,
            client.handle.addr
        )
        .into_bytes();
        for a in args {
            line.push(b' ');
            crate::util::quote_into(&mut line, a);
        }
        line.extend_from_slice(b"\r\n");
        let mut m = self.monitors.lock().unwrap();
        m.retain(|(id, feed)| *id == client.handle.id || feed.unbounded_send(line.clone()).is_ok());
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }

    /// How long a command must wait for CLIENT PAUSE, if at all.
    pub fn pause_left(&self, is_write: bool) -> Option<std::time::Duration> {
        let until = self.pause_until_ms.load(Ordering::Relaxed);
        if until == 0 || (self.pause_writes_only.load(Ordering::Relaxed) && !is_write) {
            return None;
        }
        let now = crate::util::now_ms();
        (until > now).then(|| std::time::Duration::from_millis(until - now))
    }
}

fn run_id() -> String {
    let seed = ahash::RandomState::new();
    (0..5)
        .map(|i| format!("{:08x}", seed.hash_one(i) as u32))
        .collect::<String>()
}

/// The CPUs this process may run on (honours taskset and container
/// cpusets), in order.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed set we own.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) }
            == 0;
    let cpus: Vec<usize> = if ok {
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    } else {
        Vec::new()
    };
    if cpus.is_empty() {
        (0..std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1))
            .collect()
    } else {
        cpus
    }
}

/// io_uring needs locked memory: fail early with a clear message when the
/// limit is too small, warn when buffers will not be registered.
fn check_memlock(shards: usize) -> Result<(), String> {
    // SAFETY: getrlimit fills the struct we own.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return Ok(());
    }
    let root = unsafe { libc::geteuid() } == 0;
    let kib = lim.rlim_cur / 1024;
    let hint = "raise it: `ulimit -l unlimited`, systemd LimitMEMLOCK=infinity, or docker run --ulimit memlock=-1";
    if lim.rlim_cur < 512 * 1024 && !root {
        return Err(format!("the locked-memory limit (ulimit -l) is {kib} KiB; io_uring needs at least 512 KiB: {hint}"));
    }
    if lim.rlim_cur < (10 << 20) * shards as u64 && !root {
        log::warn!("locked-memory limit is {kib} KiB: io_uring buffers will not be registered (slower I/O); {hint}");
    }
    Ok(())
}

/// Raises the soft limit on open files, as redis-server raises its own:
/// toward room for `maxclients` connections each with a second descriptor
/// for replies other cores write (`server::direct`) and for RocksDB's
/// files; warns when the hard limit leaves less than one descriptor per
/// client (redis-server's own threshold).
fn raise_open_files_limit(maxclients: u64) {
    let want = maxclients.saturating_mul(2).saturating_add(1024);
    let least = maxclients.saturating_add(32);
    // SAFETY: getrlimit fills the struct we own.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= want {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: want.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own.
    let got = match unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } {
        0 => raised.rlim_cur,
        _ => lim.rlim_cur,
    };
    if got < least {
        log::warn!("open files limit is {got}, below the {least} that maxclients {maxclients} needs: raise it (`ulimit -n`, systemd LimitNOFILE) or lower maxclients");
    }
}

/// What every shard executor starts with.
struct Startup {
    config: Arc<Config>,
    mesh: Arc<Mesh>,
    shared: SharedResources,
    state: Arc<ServerState>,
    /// Each shard reports twice: Ok(id) once its RocksDB is open, then
    /// again once its ports are bound (or the error that stopped it).
    ready: std::sync::mpsc::Sender<Result<usize, String>>,
    /// Released once every shard has opened its RocksDB: no shard listens
    /// before then, so a server that fails to open never accepts a
    /// connection (not even into the kernel's backlog).
    opened: Arc<std::sync::Barrier>,
    /// Released once every shard is bound (or startup failed).
    go: Arc<std::sync::Barrier>,
    /// Plain listen address (`None`: TLS only).
    addr: Option<String>,
    /// TLS listen address and configuration, when TLS is on.
    tls: Option<(String, Arc<rustls::ServerConfig>)>,
}

/// The listeners of one shard.
struct Listeners {
    plain: Option<glommio::net::TcpListener>,
    tls: Option<(glommio::net::TcpListener, futures_rustls::TlsAcceptor)>,
}

/// Binds a shard's listeners (SO_REUSEPORT: every shard binds the same ports).
fn bind(
    addr: Option<&str>,
    tls: Option<&(String, Arc<rustls::ServerConfig>)>,
) -> Result<Listeners, String> {
    let listen = |a: &str| listen_on(a).map_err(|e| format!("cannot listen on {a}: {e}"));
    Ok(Listeners {
        plain: addr.map(listen).transpose()?,
        tls: match tls {
            Some((a, config)) => Some((listen(a)?, config.clone().into())),
            None => None,
        },
    })
}

/// A listening socket on `addr` for this executor: SO_REUSEPORT, so every
/// shard binds the same port and the kernel spreads connections, and
/// SO_REUSEADDR, which accepted connections inherit, so their TIME_WAIT
/// remains never block a restart on the port (as redis-server sets it).
fn listen_on(addr: &str) -> std::io::Result<glommio::net::TcpListener> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    let (socket, addr) = tcp_socket_for(addr)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    // SAFETY: a bound, listening socket whose descriptor the listener takes over
    Ok(unsafe { glommio::net::TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

/// Whether a socket on this machine is in LISTEN state on `port`
/// (/proc/net/tcp and tcp6; `None` if neither can be read).
fn someone_listens_on(port: u16) -> Option<bool> {
    let port_hex = format!(":{port:04X}");
    let tables: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .collect();
    if tables.is_empty() {
        return None;
    }
    Some(tables.iter().any(|t| {
        t.lines().skip(1).any(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let local = fields.next().unwrap_or("");
            let state = fields.nth(1).unwrap_or("");
            local.ends_with(&port_hex) && state == "0A"
        })
    }))
}

/// Fails if another process already listens on `addr`. The shards bind
/// with SO_REUSEPORT, which the kernel grants to any process of the same
/// user: without this check a second server on the port would start and
/// take a share of the connections, as redis-server refuses to do. A plain
/// bind (no SO_REUSEPORT) conflicts with every listener; it is closed again
/// before the shards bind, and never listens: a client connecting at that
/// moment would land in its queue and be reset when it closes.
///
/// A plain bind also fails on connections of an earlier server left in
/// TIME_WAIT whose sockets lacked SO_REUSEADDR; only a socket in LISTEN
/// state on the port counts as another server (if /proc/net cannot be
/// read, the port counts as taken). Two servers started at the same
/// instant can both pass this check; it guards against the usual case.
fn check_port_free(addr: &str) -> Result<(), String> {
    match bind_only(addr) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
            match port {
                Some(port) if someone_listens_on(port) == Some(false) => {
                    log::debug!("{addr} is held only by closed connections");
                    Ok(())
                }
                _ => Err(format!(
                    "cannot listen on {addr}: {e} (another server is listening on this port)"
                )),
            }
        }
        Err(e) => Err(format!("cannot listen on {addr}: {e}")),
    }
}

/// A TCP socket bound to `addr` without SO_REUSEADDR or SO_REUSEPORT, not
/// listening ([`check_port_free`]).
fn bind_only(addr: &str) -> std::io::Result<socket2::Socket> {
    let (socket, addr) = tcp_socket_for(addr)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// A new TCP socket for `addr` (resolved to its first address), and that
/// address.
fn tcp_socket_for(addr: &str) -> std::io::Result<(socket2::Socket, std::net::SocketAddr)> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address"))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    Ok((socket, addr))
}

/// Starts the executor of shard `id` on `placement`.
/// Puts the calling shard thread under SCHED_BATCH (`--batch-scheduling`):
/// when it wakes, it waits for the thread running on its CPU to end its
/// turn instead of preempting it. With clients on the same CPUs as two
/// shards, fewer preemptions gained 6-32% at -P 1 (tuning/README.md).
fn schedule_as_batch(id: usize) {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
        log::warn!(
            "shard {id}: cannot run under SCHED_BATCH (batch-scheduling): {}",
            std::io::Error::last_os_error()
        );
    }
}

fn spawn_shard(
    id: usize,
    placement: Placement,
    s: Startup,
    stop: futures_channel::oneshot::Receiver<()>,
) -> Result<glommio::ExecutorJoinHandle<()>, String> {
    let mut builder = LocalExecutorBuilder::new(placement);
    if s.config.idle_spin_us > 0 {
        builder = builder.spin_before_park(Duration::from_micros(s.config.idle_spin_us));
    }
    builder
        .name(&format!("shard-{id}"))
        .spawn(move || async move {
            if s.config.batch_scheduling {
                schedule_as_batch(id);
            }
            let shard = match Shard::open(id, s.config, s.mesh, s.shared) {
                Ok(shard) => {
                    let _ = shard.pubsub.set(s.state.pubsub.clone());
                    let shard = Rc::new(shard);
                    shard.set_rc();
                    shard
                }
                Err(e) => {
                    let _ = s.ready.send(Err(e));
                    return;
                }
            };
            let _ = s.ready.send(Ok(id));
            s.opened.wait();
            let listeners = match bind(s.addr.as_deref(), s.tls.as_ref()) {
                Ok(l) => l,
                Err(e) => {
                    let _ = s.ready.send(Err(e));
                    return;
                }
            };
            let _ = s.ready.send(Ok(id));
            s.go.wait();
            serve_shard(shard, listeners, s.state, stop).await;
        })
        .map_err(|e| format!("cannot start executor for shard {id}: {e}"))
}

fn log_configuration(config: &Config, addr: &str) {
    log::info!(
        "DiskDB {} starting: {} shards, data in {}, listening on {addr}",
        env!("CARGO_PKG_VERSION"),
        config.shards,
        config.dir.display(),
    );
    log::info!(
        "configuration: bind={} port={} tls_port={} dir={} shards={} sync={} sync_interval={}ms wal={} compression={} block_cache={} write_buffers={} hot_cache={} max_log_size={} maxclients={} idle_spin={}us pin_shards={} batch_scheduling={} config_file={}",
        config.bind,
        config.port,
        config.tls.port,
        config.dir.display(),
        config.shards,
        config.runtime.sync().name(),
        config.runtime.sync_interval_ms.load(Ordering::Relaxed),
        config.wal_enabled,
        config.compression.name(),
        config.block_cache_size,
        config.write_buffer_size,
        config.hot_cache_size,
        config.max_log_size,
        config.runtime.maxclients.load(Ordering::Relaxed),
        config.idle_spin_us,
        if config.pin_shards { "yes" } else { "no" },
        if config.batch_scheduling { "yes" } else { "no" },
        config.config_file.as_ref().map_or("none".to_string(), |p| p.display().to_string()),
    );
}

/// Starts every shard and serves until SIGTERM/SIGINT.
pub fn run(config: Config) -> Result<(), String> {
    check_memlock(config.shards)?;
    raise_open_files_limit(config.runtime.maxclients.load(Ordering::Relaxed));
    manifest::check_or_create(&config.dir, config.shards)?;
    let config = Arc::new(config);
    let shards = config.shards;
    // calibrate the per-command clock (about a millisecond) before the
    // first command reads it
    let _ = quanta::Instant::now();
    let shared = SharedResources::new(&config);
    let mesh = Arc::new(Mesh::new(shards));
    let state = Arc::new(ServerState {
        config: config.clone(),
        clients: Mutex::new(BTreeMap::new()),
        next_client_id: AtomicU64::new(0),
        total_connections: AtomicU64::new(0),
        rejected_connections: AtomicU64::new(0),
        owner_sent_bytes: AtomicU64::new(0),
        started: Instant::now(),
        started_wall: SystemTime::now(),
        run_id: run_id(),
        shared: shared.clone(),
        monitors: Mutex::new(Vec::new()),
        monitor_count: AtomicUsize::new(0),
        pause_until_ms: AtomicU64::new(0),
        pause_writes_only: AtomicBool::new(false),
        pubsub: Arc::new(crate::shard::pubsub::PubSub::new(config.clone())),
        saves: crate::storage::checkpoint::SaveState::new(crate::util::now_ms() / 1000),
    });
    let tls = match config.tls.port {
        0 => None,
        port => Some((
            format!("{}:{port}", config.bind),
            tls::server_config(&config.tls)?,
        )),
    };
    let plain = (config.port != 0).then(|| format!("{}:{}", config.bind, config.port));
    let addr = [
        plain.clone(),
        tls.as_ref().map(|(a, _)| format!("{a} (TLS)")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ");
    log_configuration(&config, &addr);
    let cpus = allowed_cpus();
    let pinned = config.pin_shards && shards <= cpus.len();
    if config.pin_shards && !pinned {
        log::warn!(
            "pin-shards: {shards} shards on {} CPUs cannot have a CPU each; running them unpinned",
            cpus.len()
        );
    }
    if !pinned && config.idle_spin_us > 0 {
        log::warn!(
            "idle-spin {}us has no effect: the shards are not pinned (pin-shards)",
            config.idle_spin_us
        );
    }
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<usize, String>>();
    let opened = Arc::new(std::sync::Barrier::new(shards + 1));
    let go = Arc::new(std::sync::Barrier::new(shards + 1));
    let mut stops = Vec::new();
    let mut handles = Vec::new();
    for id in 0..shards {
        let (stop_tx, stop_rx) = futures_channel::oneshot::channel::<()>();
        stops.push(stop_tx);
        let cpu = cpus.get(id).copied().filter(|_| pinned);
        let placement = cpu.map_or(Placement::Unbound, Placement::Fixed);
        log::info!(
            "shard {id}: {} RocksDB at {}",
            match cpu {
                Some(c) => format!("pinned to cpu {c},"),
                None => "unpinned,".into(),
            },
            config.dir.join(format!("shard-{id}")).display()
        );
        let startup = Startup {
            config: config.clone(),
            mesh: mesh.clone(),
            shared: shared.clone(),
            state: state.clone(),
            ready: ready_tx.clone(),
            opened: opened.clone(),
            go: go.clone(),
            addr: plain.clone(),
            tls: tls.clone(),
        };
        handles.push(spawn_shard(id, placement, startup, stop_rx)?);
    }
    drop(ready_tx);
    // each shard's first report of `n`: all must succeed to go on
    let first_failure = |n: usize, what: &str| {
        let mut failure = None;
        for _ in 0..n {
            match ready_rx.recv() {
                Ok(Ok(id)) => log::debug!("shard {id} {what}"),
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(_) => failure = failure.or(Some("a shard executor exited during startup (see the error logged above; io_uring may need a higher locked-memory limit)".to_string())),
            }
        }
        failure
    };
    if let Some(e) = first_failure(shards, "opened") {
        // nothing listens yet; the opened shards wait at the barrier until
        // the process exits
        return Err(e);
    }
    for a in [plain.as_deref(), tls.as_ref().map(|(a, _)| a.as_str())] {
        // the opened shards wait at the barrier until the process exits
        a.map(check_port_free).transpose()?;
    }
    opened.wait();
    let failure = first_failure(shards, "bound");
    let stop_all = |stops: Vec<futures_channel::oneshot::Sender<()>>| {
        stops.into_iter().for_each(|s| {
            let _ = s.send(());
        })
    };
    if let Some(e) = failure {
        // Let the healthy shards proceed so they can be stopped cleanly.
        std::thread::spawn(move || go.wait());
        stop_all(stops);
        return Err(e);
    }
    go.wait();
    log::info!("ready to accept connections on {addr}");
    wait_for_signal(&config);
    log::info!("shutting down: closing listeners, syncing WAL");
    stop_all(stops);
    for h in handles {
        let _ = h.join();
    }
    log::info!("DiskDB stopped");
    Ok(())
}

fn wait_for_signal(config: &Config) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
        Ok(mut signals) => {
            if let Some(sig) = signals.forever().next() {
                log::info!("received signal {sig}");
            }
        }
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            loop {
                std::thread::park();
            }
        }
    }
    config.runtime.shutting_down.store(true, Ordering::SeqCst);
}

async fn serve_shard(
    shard: Rc<Shard>,
    listeners: Listeners,
    state: Arc<ServerState>,
    stop: futures_channel::oneshot::Receiver<()>,
) {
    glommio::spawn_local(shard.clone().serve_inbox()).detach();
    glommio::spawn_local(shard.clone().run_wal_syncer()).detach();
    glommio::spawn_local(shard.clone().run_ops_sampler()).detach();
    glommio::spawn_local(shard.clone().run_memtable_budget()).detach();
    glommio::spawn_local(shard.clone().run_hot_cache_budget()).detach();
    glommio::spawn_local(crate::data_types::expiry::run_active_expiry(shard.clone())).detach();
    // finish multi-shard operations a crash interrupted, before any client
    crate::shard::transaction::recover(&shard).await;
    shard.mesh.recovering.fetch_sub(1, Ordering::SeqCst);
    while shard.mesh.recovering.load(Ordering::SeqCst) > 0 {
        glommio::timer::sleep(std::time::Duration::from_millis(2)).await;
    }
    shard.drop_markers();
    let plain = async {
        match &listeners.plain {
            Some(l) => accept_loop(l, None, &shard, &state).await,
            None => std::future::pending().await,
        }
    };
    let tls = async {
        match &listeners.tls {
            Some((l, acceptor)) => accept_loop(l, Some(acceptor), &shard, &state).await,
            None => std::future::pending().await,
        }
    };
    futures_lite::future::or(futures_lite::future::or(plain, tls), async {
        let _ = stop.await;
    })
    .await;
    shard.sync_wal();
    if let Err(e) = shard.engine.flush_wal(true) {
        log::error!("shard {}: final WAL sync failed: {e}", shard.id);
    }
    log::debug!("shard {} stopped", shard.id);
}

/// Accepts connections forever, each served by its own task; a TLS
/// connection first completes its handshake in that task.
async fn accept_loop(
    listener: &glommio::net::TcpListener,
    tls: Option<&futures_rustls::TlsAcceptor>,
    shard: &Rc<Shard>,
    state: &Arc<ServerState>,
) {
    loop {
        match listener.accept().await {
            Ok(tcp) => {
                let (shard, state, tls) = (shard.clone(), state.clone(), tls.cloned());
                glommio::spawn_local(async move {
                    let stream = match tls {
                        Some(acceptor) => match tls::accept(&acceptor, tcp).await {
                            Some(s) => s,
                            None => return,
                        },
                        None => tls::Stream::Plain(tcp),
                    };
                    connection::serve(stream, shard, state).await;
                })
                .detach();
            }
            Err(e) => {
                log::warn!("shard {}: accept failed: {e}", shard.id);
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
