//! The command table and dispatcher. Each family file declares its commands
//! (name, arity, flags, key positions, how to execute); the table drives
//! arity errors, routing to the owning shard, fan-out and COMMAND replies.

/// Table entry of a one-key read (`NAME key`, or with an arity: `NAME key
/// field`) that needs only the key's meta record and at most one sub-key:
/// it runs on the owner like any keyed command, and another core may serve
/// it from the owner's RocksDB (`Command::read_on_peer`). `$f` is written
/// against `data_types::MetaRead`.
macro_rules! meta_read {
    ($name:expr, $group:expr, $f:ident) => {
        meta_read!($name, 2, $group, $f)
    };
    ($name:expr, $arity:expr, $group:expr, $f:ident) => {
        super::cmd(
            $name,
            $arity,
            "readonly fast",
            (1, 1, 1),
            $group,
            super::Exec::Keyed(|db, a| $f(db, a)),
        )
        .read_on_peer(|db, a| $f(db, a))
    };
}

pub mod acl;
pub mod admin;
pub mod auth;
pub mod bits;
pub mod client;
pub mod hashes;
pub mod info;
pub mod json;
pub mod keys;
pub mod lists;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;

use crate::data_types::Db;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::incr;
use crate::shard::routing::shard_of;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
// Per-command durations (INFO commandstats, SLOWLOG, LATENCY) come from
// quanta's TSC clock, with std's clock where the TSC is not invariant: a
// pair of reads costs 19 ns here against 50 ns for `clock_gettime` on
// this VM, where the clock was 4.3% of a shard under pipelined SADD.
use quanta::Instant;

/// Arguments of a command, the name first.
pub type Args = Vec<Vec<u8>>;
/// A handler that runs on the shard owning its keys.
pub type KeyedFn = fn(&Db, &[Vec<u8>]) -> Reply;
/// A read-only single-key command served from another shard's RocksDB
/// without a hop (`shard::peer`); same reply as its [`KeyedFn`].
pub type PeerReadFn = fn(&crate::data_types::PeerDb, &[Vec<u8>]) -> Reply;
/// A connection-level handler that needs no other shard.
pub type ConnFn = fn(&mut Client, &[Vec<u8>]) -> Reply;
/// A future returned by a coordinator handler.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = Reply> + 'a>>;
/// A coordinator handler: talks to any shards it needs.
pub type CoordFn = for<'a> fn(&'a mut Client, Args) -> BoxFuture<'a>;

/// How partial replies of a fanned-out command are combined.
#[derive(Clone, Copy, Debug)]
pub enum Merge {
    /// Add integer replies (DEL, EXISTS, DBSIZE).
    Sum,
    /// Each shard answers an array with one entry per key group; put them
    /// back in argument order (MGET).
    Ordered,
    /// All must succeed; reply OK (MSET, FLUSHDB).
    Ok,
    /// Concatenate arrays (KEYS).
    Concat,
}

/// How a command executes.
#[derive(Clone, Copy)]
pub enum Exec {
    /// On the connection, without shard data.
    Conn(ConnFn),
    /// On the shard owning the (single) key.
    Keyed(KeyedFn),
    /// Keys split per shard, each part run there, replies merged.
    Fanout(KeyedFn, Merge),
    /// Run on every shard, replies merged.
    Broadcast(KeyedFn, Merge),
    /// A coordinator that orchestrates shards itself.
    Coord(CoordFn),
}

/// One command's description, as in Redis's COMMAND INFO.
pub struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Arity: exact if positive, minimum if negative (name included).
    pub arity: i32,
    /// Space-separated COMMAND flags (`write readonly fast admin …`).
    pub flags: &'static str,
    /// First key position (0 = no keys).
    pub first_key: i32,
    /// Last key position (negative counts from the end).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Family (COMMAND DOCS group).
    pub group: &'static str,
    /// Execution strategy.
    pub exec: Exec,
    /// For a `Keyed` read: how another core may serve it without a hop.
    pub peer_read: Option<PeerReadFn>,
    /// Has the `fast` flag (checked on every keyed command, so found once).
    pub fast: bool,
    /// Whether the keys it looks up count as keyspace hits and misses:
    /// those of reads and of [`WRITES_THAT_READ`], as in Redis.
    pub counts_lookups: bool,
}

/// Write commands whose lookups of their source keys are reads in Redis
/// (it counts them as keyspace hits and misses); other writes' lookups
/// are not. SET … GET, COPY's source and a BITFIELD of GETs only count
/// theirs in their handlers.
const WRITES_THAT_READ: &str = "getset getdel getex bitop sinterstore sunionstore sdiffstore \
zunionstore zinterstore zdiffstore zrangestore xreadgroup sort";

/// Whether the space-separated `flags` contain `word`, at compile time.
const fn has_word(flags: &str, word: &str) -> bool {
    let (f, w) = (flags.as_bytes(), word.as_bytes());
    let mut start = 0;
    while start + w.len() <= f.len() {
        let mut i = 0;
        while i < w.len() && f[start + i] == w[i] {
            i += 1;
        }
        let ends = start + i == f.len() || f[start + i] == b' ';
        if i == w.len() && ends {
            return true;
        }
        // on to the next word
        while start < f.len() && f[start] != b' ' {
            start += 1;
        }
        start += 1;
    }
    false
}

/// Builds a table entry; `keys` is (first, last, step).
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: &'static str,
    keys: (i32, i32, i32),
    group: &'static str,
    exec: Exec,
) -> Command {
    Command {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        group,
        exec,
        peer_read: None,
        fast: has_word(flags, "fast"),
        counts_lookups: !has_word(flags, "write") || has_word(WRITES_THAT_READ, name),
    }
}

impl Command {
    /// Lets a core that does not own the key serve this read itself.
    pub const fn read_on_peer(mut self, f: PeerReadFn) -> Command {
        self.peer_read = Some(f);
        self
    }

    /// Whether `n` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, n: usize) -> bool {
        let n = n as i32;
        if self.arity >= 0 {
            n == self.arity
        } else {
            n >= -self.arity
        }
    }

    /// Positions of the keys in `args`.
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        self.key_range(argc).collect()
    }

    /// Positions of the keys among `argc` arguments, without allocating.
    pub fn key_range(&self, argc: usize) -> impl Iterator<Item = usize> {
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let (first, last) = match self.first_key {
            ..=0 => (1, 0),
            first => (first as usize, last.max(0) as usize),
        };
        (first..=last)
            .step_by(self.step.max(1) as usize)
            .filter(move |&i| i < argc)
    }

    /// Whether a flag is set.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(' ').any(|f| f == flag)
    }
}

/// Every command, from every family.
pub fn all_commands() -> impl Iterator<Item = &'static Command> {
    [
        server::COMMANDS,
        persistence::COMMANDS,
        admin::COMMANDS,
        auth::COMMANDS,
        acl::COMMANDS,
        keys::COMMANDS,
        strings::COMMANDS,
        bits::COMMANDS,
        hashes::COMMANDS,
        sets::COMMANDS,
        lists::COMMANDS,
        zsets::COMMANDS,
        json::COMMANDS,
        streams::COMMANDS,
        transactions::COMMANDS,
        pubsub::COMMANDS,
        sort::COMMANDS,
        replication::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// Command name → command; looked up for every command, so hashed with
/// ahash rather than the standard library's SipHash.
type Table = HashMap<&'static [u8], &'static Command, ahash::RandomState>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| all_commands().map(|c| (c.name.as_bytes(), c)).collect())
}

/// Finds a command by name, any case.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    if name.len() > 32 {
        return None;
    }
    // lower-case on the stack, looked up as bytes: this runs for every
    // command
    let mut buf = [0u8; 32];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(&*lower).copied()
}

/// `ERR wrong number of arguments for 'x' command`.
pub fn arity_error(name: &str) -> Reply {
    Reply::err(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// `ERR syntax error`.
pub fn syntax_error() -> Reply {
    Reply::err("ERR syntax error")
}

/// `ERR value is not an integer or out of range`.
pub fn not_integer() -> Reply {
    Reply::err("ERR value is not an integer or out of range")
}

/// A lower-cased argument (option and subcommand names).
/// A database index argument (SELECT, MOVE, COPY … DB), with Redis's
/// errors: not an integer, outside a C int, or not one of the 16.
pub fn parse_db_index(a: &[u8]) -> Result<u8, Reply> {
    match crate::util::num::parse_i64(a) {
        None => Err(not_integer()),
        Some(n) if i32::try_from(n).is_err() => Err(Reply::err(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        )),
        Some(n @ 0..=15) => Ok(n as u8),
        Some(_) => Err(Reply::err("ERR DB index is out of range")),
    }
}

pub fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

/// `ERR unknown subcommand 'x'. Try CMD HELP.` for container commands.
pub fn unknown_subcommand(a: &[Vec<u8>]) -> Reply {
    Reply::err(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&a[1]),
        String::from_utf8_lossy(&a[0]).to_ascii_uppercase()
    ))
}

/// A subcommand of a container command: (name, arity counting the parent
/// command, handler). Positive arity is exact, negative a minimum.
pub type Subcommand = (&'static str, i32, ConnFn);

/// Dispatches `PARENT sub …` through a subcommand table, with Redis's
/// unknown-subcommand and `parent|sub` arity errors.
pub fn run_subcommand(table: &[Subcommand], c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let sub = lower(&a[1]);
    let Some(&(name, arity, f)) = table.iter().find(|(n, _, _)| *n == sub) else {
        return unknown_subcommand(a);
    };
    let n = a.len() as i32;
    if (arity >= 0 && n != arity) || (arity < 0 && n < -arity) {
        return arity_error(&format!("{}|{name}", lower(&a[0])));
    }
    f(c, a)
}

fn unknown_command(args: &[Vec<u8>]) -> Reply {
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        trunc(&args[0])
    );
    for a in args.iter().skip(1) {
        msg.push_str(&format!("'{}' ", trunc(a)));
    }
    Reply::err(msg)
}

fn trunc(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(128)]).into_owned()
}

/// How far [`start`] got with a command.
pub enum Started {
    /// Done: the reply.
    Ready(Reply),
    /// Sent to the owning shard; the reply arrives through this future.
    /// Commands of one connection on one shard run in the order sent.
    InFlight(Pin<Box<dyn Future<Output = Reply>>>),
    /// Needs every earlier command of the connection answered first
    /// (connection state, fan-out, coordination): run with [`finish`].
    Ordered(&'static Command, Args),
}

/// Begins a command: validates it, runs single-key commands on a local key
/// at once and sends those on a remote key to their shard without waiting,
/// so a pipeline keeps several shards busy.
pub fn start(client: &mut Client, args: Args) -> Started {
    let Some(cmd) = lookup(&args[0]) else {
        transactions::queue_failed(client);
        return Started::Ready(rejected(client, None, unknown_command(&args)));
    };
    if !cmd.arity_ok(args.len()) {
        transactions::queue_failed(client);
        return Started::Ready(rejected(client, Some(cmd), arity_error(cmd.name)));
    }
    if !client.authenticated && !cmd.has_flag("no_auth") {
        return Started::Ready(rejected(client, Some(cmd), auth::noauth()));
    }
    if !client.refresh_user() {
        client.handle.kill();
        return Started::Ready(Reply::err("ERR the user of this connection was deleted"));
    }
    if !client.user.unrestricted {
        if let Some(e) = client.user.check(cmd, &args) {
            transactions::queue_failed(client);
            let reply = acl::denied(client, cmd, e);
            return Started::Ready(rejected(client, Some(cmd), reply));
        }
    }
    if client.pubsub.is_some() {
        if let Some(e) = crate::server::subscriber::rejects(client, cmd, &args) {
            return Started::Ready(rejected(client, Some(cmd), e));
        }
    }
    if client.multi.is_some() && transactions::queues(cmd) {
        return Started::Ready(transactions::queue(client, args));
    }
    incr(&client.shard.stats.commands, 1);
    if client.tracking.is_some() {
        client::track_read(client, cmd, &args);
        // CLIENT CACHING covers the next command (a whole EXEC)
        let keeps = matches!(cmd.name, "client" | "multi" | "exec") || client.tx.is_some();
        client.tracking_caching &= keeps;
    }
    client.current = (cmd.name, cmd.group);
    client.counts_lookups = cmd.counts_lookups;
    *client.handle.last_cmd.lock().unwrap() = cmd.name;
    client.server.monitor_feed(client, &args);
    let Exec::Keyed(f) = cmd.exec else {
        return Started::Ordered(cmd, args);
    };
    run_keyed(client, cmd, f, args)
}

/// Runs a single-shard command on its owner: inline when local, otherwise
/// queued to the owner without waiting. Waits behind a multi-shard
/// operation holding its key; inside one, its writes are captured.
fn run_keyed(client: &mut Client, cmd: &'static Command, f: KeyedFn, args: Args) -> Started {
    let owner = shard_of(&args[cmd.first_key as usize], client.shard.shard_count());
    client
        .affinity
        .record(owner, crate::server::handoff::counts_toward_streak(cmd));
    if owner != client.shard.id && client.nothing_in_flight && client.tx.is_none() {
        if let Some(reply) = read_on_peer(client, cmd, owner, &args) {
            return Started::Ready(reply);
        }
    }
    let db = client.db;
    let who = client.handle.clone();
    let tx = client.tx.as_ref().map(|t| t.capture_on(owner));
    let me = tx.as_ref().map(|t| t.id);
    // no lock held on this core: nothing to check, nothing to copy
    let unlocked_here = owner == client.shard.id && client.shard.locks.borrow().is_empty();
    let keys: Vec<Vec<u8>> = if unlocked_here {
        Vec::new()
    } else {
        cmd.key_positions(args.len())
            .into_iter()
            .map(|p| args[p].clone())
            .collect()
    };
    let run = move |s: &crate::shard::Shard| {
        let t = Instant::now();
        let reply = s.as_client(who.id, || {
            s.counting_lookups(cmd.counts_lookups, || {
                s.run_as((cmd.name, cmd.group), || match &tx {
                    Some(t) => t.run(s, || f(&Db::new(s, db), &args)),
                    None => f(&Db::new(s, db), &args),
                })
            })
        });
        s.observe.borrow_mut().record(
            cmd,
            &args,
            t.elapsed().as_micros() as u64,
            &reply,
            &who,
            &s.config.runtime,
        );
        reply
    };
    if owner == client.shard.id {
        match client.shard.run_or_park(db, keys, me, run) {
            Ok(reply) => Started::Ready(reply),
            Err(parked) => Started::InFlight(parked),
        }
    } else if me.is_none() {
        Started::InFlight(Box::pin(client.call_gathered(owner, keys, Box::new(run))))
    } else {
        let (job, reply) = crate::shard::mesh::job_for(run);
        client.send_batched(owner, crate::shard::Shard::guarded(db, keys, me, job));
        Started::InFlight(Box::pin(reply))
    }
}

/// Serves a read of another shard's key from this core when the command
/// allows it and the owner holds no key locks (`shard::peer`); `None`:
/// send it to the owner.
fn read_on_peer(
    client: &Client,
    cmd: &'static Command,
    owner: usize,
    args: &Args,
) -> Option<Reply> {
    let read = cmd.peer_read?;
    let view = client.shard.mesh.peer(owner)?;
    let t = Instant::now();
    let (reply, counts) = view.read(|reader, hot| {
        let db = crate::data_types::PeerDb {
            reader,
            hot,
            index: client.db,
            counts: Default::default(),
        };
        (read(&db, args), db.counts)
    })?;
    let st = &client.shard.stats;
    incr(&st.keyspace_hits, counts.keyspace_hits.get());
    incr(&st.keyspace_misses, counts.keyspace_misses.get());
    incr(&st.peer_reads, 1);
    incr(&st.peer_hot_hits, (counts.peer_hot_hits.get() > 0) as u64);
    let usec = t.elapsed().as_micros() as u64;
    let rt = &client.shard.config.runtime;
    let mut observe = client.shard.observe.borrow_mut();
    observe.record(cmd, args, usec, &reply, &client.handle, rt);
    Some(reply)
}

fn rejected(client: &Client, cmd: Option<&'static Command>, reply: Reply) -> Reply {
    client.shard.observe.borrow_mut().reject(cmd, &reply);
    reply
}

/// How long CLIENT PAUSE holds this command back, if at all (CLIENT
/// itself is never held, so a paused server can be unpaused).
pub fn pause_for(client: &Client, args: &[Vec<u8>]) -> Option<std::time::Duration> {
    if client
        .server
        .pause_until_ms
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        return None; // not paused: skip the lookup on the hot path
    }
    let cmd = lookup(&args[0])?;
    if cmd.name == "client" {
        return None;
    }
    client.server.pause_left(cmd.has_flag("write"))
}

/// Runs a command that [`start`] left for in-order execution.
pub async fn finish(client: &mut Client, cmd: &'static Command, args: Args) -> Reply {
    let t = Instant::now();
    let log_args = crate::shard::observe::preview(&args);
    let locked = match client.tx {
        None => transactions::lock_if_needed(client, cmd, &args).await,
        Some(_) => None,
    };
    let took = locked.is_some();
    if let Some(ctx) = locked {
        client.tx = Some(std::rc::Rc::new(ctx));
    }
    let reply = match cmd.exec {
        Exec::Conn(f) => f(client, &args),
        Exec::Coord(f) => f(client, args).await,
        Exec::Keyed(f) => match run_keyed(client, cmd, f, args) {
            Started::Ready(r) => r,
            Started::InFlight(f) => {
                client.wake_shards();
                f.await
            }
            Started::Ordered(..) => unreachable!("keyed commands run on their shard"),
        },
        Exec::Fanout(f, merge) => fanout(client, cmd, f, merge, args).await,
        Exec::Broadcast(f, merge) => {
            let parts = on_every_shard(client, move |db| f(db, &args)).await;
            merge_replies(merge, parts, &[])
        }
    };
    if took {
        if let Some(ctx) = client.tx.take() {
            crate::shard::transaction::commit(&ctx).await;
        }
    }
    let usec = t.elapsed().as_micros() as u64;
    let rt = &client.shard.config.runtime;
    client
        .shard
        .observe
        .borrow_mut()
        .record(cmd, &log_args, usec, &reply, &client.handle, rt);
    reply
}

/// Executes one command for a client and waits for its reply.
pub async fn dispatch(client: &mut Client, args: Args) -> Reply {
    match start(client, args) {
        Started::Ready(r) => r,
        Started::InFlight(f) => {
            client.wake_shards();
            f.await
        }
        Started::Ordered(cmd, args) => finish(client, cmd, args).await,
    }
}

/// Runs `f` on the database of the shard owning `key`.
pub async fn on_owner<T, F>(client: &Client, key: &[u8], f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&Db) -> T + Send + 'static,
{
    on_shard(client, shard_of(key, client.shard.shard_count()), f).await
}

/// Runs `f` on the client's database on shard `owner`.
pub async fn on_shard<T, F>(client: &Client, owner: usize, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&Db) -> T + Send + 'static,
{
    run_on(client, owner, f).await
}

/// Wraps `f` to run on the client's database of `owner`, its writes
/// captured when the client is inside a multi-shard operation.
fn for_shard<T, F>(client: &Client, owner: usize, f: F) -> impl FnOnce(&crate::shard::Shard) -> T
where
    F: FnOnce(&Db) -> T,
{
    let db = client.db;
    let tx = client.tx.as_ref().map(|t| t.capture_on(owner));
    let (current, counted) = (client.current, client.counts_lookups);
    let id = client.handle.id;
    move |s: &crate::shard::Shard| {
        s.as_client(id, || {
            s.counting_lookups(counted, || {
                s.run_as(current, || match &tx {
                    Some(t) => t.run(s, || f(&Db::new(s, db))),
                    None => f(&Db::new(s, db)),
                })
            })
        })
    }
}

/// Runs `f` on shard `owner`: at once if local, otherwise sent right away
/// so that several shards work in parallel while the caller awaits.
pub fn run_on<T, F>(client: &Client, owner: usize, f: F) -> Pin<Box<dyn Future<Output = T>>>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> T + Send + 'static,
{
    let run = for_shard(client, owner, f);
    if owner == client.shard.id {
        let r = run(&client.shard);
        Box::pin(async move { r })
    } else {
        Box::pin(client.mesh().call(owner, run))
    }
}

/// Runs `f` on every shard (in parallel) and returns the results in shard order.
pub async fn on_every_shard<T, F>(client: &Client, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(&Db) -> T + Send + Sync + Clone + 'static,
{
    let n = client.shard.shard_count();
    let mut pending = Vec::new();
    // remote shards first, so they work while the local one runs
    for i in (0..n).filter(|&i| i != client.shard.id) {
        pending.push((i, run_on(client, i, f.clone())));
    }
    pending.push((client.shard.id, run_on(client, client.shard.id, f)));
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, fut) in pending {
        results[i] = Some(fut.await);
    }
    results
        .into_iter()
        .map(|r| r.expect("every shard answered"))
        .collect()
}

/// Splits a multi-key command per owning shard, runs the parts in
/// parallel and merges their replies.
pub async fn fanout(client: &Client, cmd: &Command, f: KeyedFn, merge: Merge, args: Args) -> Reply {
    let n = client.shard.shard_count();
    let step = cmd.step.max(1) as usize;
    let positions = cmd.key_positions(args.len());
    if let Some(&last) = positions.last() {
        if last + step > args.len() {
            return arity_error(cmd.name);
        }
    }
    // group key positions by owner shard
    let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (group, &pos) in positions.iter().enumerate() {
        per_shard[shard_of(&args[pos], n)].push(group);
    }
    let mut owners: Vec<(usize, Vec<usize>)> = per_shard
        .into_iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
        .collect();
    if owners.len() == 1 {
        let (owner, _) = owners.pop().unwrap();
        let keys = positions.iter().map(|&p| args[p].clone()).collect();
        return guarded_on(client, owner, keys, move |db| f(db, &args)).await;
    }
    let mut futures = Vec::new();
    let mut order = Vec::new();
    for (owner, groups) in owners {
        let mut sub = vec![args[0].clone()];
        for &g in &groups {
            let pos = positions[g];
            sub.extend(args[pos..pos + step].iter().cloned());
        }
        order.push(groups);
        futures.push(on_shard_boxed(client, owner, sub, f));
    }
    let mut parts = Vec::new();
    for fut in futures {
        parts.push(fut.await);
    }
    merge_replies(merge, parts, &order)
}

fn on_shard_boxed(
    client: &Client,
    owner: usize,
    sub: Args,
    f: KeyedFn,
) -> Pin<Box<dyn Future<Output = Reply> + 'static>> {
    run_on(client, owner, move |db| f(db, &sub))
}

/// Runs `f` on `owner` once none of `keys` is held by another multi-shard
/// operation (parked behind it otherwise).
pub async fn guarded_on<T, F>(client: &Client, owner: usize, keys: Vec<Vec<u8>>, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&Db) -> T + Send + 'static,
{
    let run = for_shard(client, owner, f);
    guarded_on_shard(client, owner, keys, run).await
}

/// Like [`guarded_on`] for a closure over the whole shard.
pub async fn guarded_on_shard<T, F>(client: &Client, owner: usize, keys: Vec<Vec<u8>>, run: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&crate::shard::Shard) -> T + Send + 'static,
{
    let db = client.db;
    let me = client.tx.as_ref().map(|t| t.id);
    if owner == client.shard.id {
        match client.shard.run_or_park(db, keys, me, run) {
            Ok(r) => r,
            Err(parked) => parked.await,
        }
    } else {
        let (job, reply) = crate::shard::mesh::job_for(run);
        client
            .mesh()
            .send(owner, crate::shard::Shard::guarded(db, keys, me, job));
        client.mesh().wake(owner);
        reply.await
    }
}

fn merge_replies(merge: Merge, parts: Vec<Reply>, order: &[Vec<usize>]) -> Reply {
    if let Some(e) = parts.iter().find(|r| r.is_error()) {
        return e.clone();
    }
    match merge {
        Merge::Sum => Reply::Int(
            parts
                .iter()
                .map(|r| if let Reply::Int(n) = r { *n } else { 0 })
                .sum(),
        ),
        Merge::Ok => Reply::ok(),
        Merge::Concat => Reply::Array(
            parts
                .into_iter()
                .flat_map(|r| {
                    if let Reply::Array(v) = r {
                        v
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        ),
        Merge::Ordered => {
            let total: usize = order.iter().map(Vec::len).sum();
            let mut out = vec![Reply::Nil; total];
            for (part, groups) in parts.into_iter().zip(order) {
                if let Reply::Array(items) = part {
                    for (item, &g) in items.into_iter().zip(groups) {
                        out[g] = item;
                    }
                }
            }
            Reply::Array(out)
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::lookup;

    #[test]
    fn key_positions_follow_first_last_and_step() {
        let at = |name: &[u8], argc| lookup(name).unwrap().key_positions(argc);
        assert_eq!(at(b"get", 2), [1]);
        assert_eq!(at(b"mget", 4), [1, 2, 3]);
        assert_eq!(at(b"mset", 5), [1, 3]);
        assert_eq!(at(b"mset", 6), [1, 3, 5]);
        assert_eq!(at(b"hset", 4), [1]);
        assert_eq!(at(b"ping", 1), Vec::<usize>::new());
        // fewer arguments than the command takes: only those present
        assert_eq!(at(b"mget", 1), Vec::<usize>::new());
        assert_eq!(at(b"rename", 2), [1]);
        let mget = lookup(b"mget").unwrap();
        assert_eq!(mget.key_range(1000).count(), 999);
    }
}

#[cfg(test)]
mod flag_tests {
    #[test]
    fn the_fast_flag_is_found_as_a_whole_word_once() {
        for c in super::all_commands() {
            assert_eq!(c.fast, c.has_flag("fast"), "{}", c.name);
        }
        assert!(super::has_word("write fast", "fast"));
        assert!(!super::has_word("write fastish", "fast"));
        assert!(!super::has_word("", "fast"));
    }
}
