//! Client state: the part shared across cores (for CLIENT LIST/KILL) and the
//! per-connection context command handlers receive.

use crate::server::ServerState;
use crate::shard::mesh::Mesh;
use crate::shard::Shard;
use atomic_waker::AtomicWaker;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What other cores may read or change about a client.
pub struct ClientHandle {
    /// CLIENT ID.
    pub id: u64,
    /// Peer address `ip:port`.
    pub addr: String,
    /// Local address `ip:port`.
    pub laddr: String,
    /// Shard (core) the connection lives on (it may move: `handoff`).
    pub shard: AtomicUsize,
    /// When the connection was accepted.
    pub created: Instant,
    /// CLIENT SETNAME.
    pub name: Mutex<String>,
    /// CLIENT SETINFO LIB-NAME / LIB-VER.
    pub lib: Mutex<(String, String)>,
    /// SELECTed database.
    pub db: AtomicU8,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// ms since `created` of the last input read or reply sent (CLIENT
    /// LIST's idle time, as Redis's last interaction).
    pub last_active_ms: AtomicU64,
    /// Name of the last command.
    pub last_cmd: Mutex<&'static str>,
    /// Set by CLIENT KILL.
    pub killed: AtomicBool,
    /// Wakes the connection when killed.
    pub kill_waker: AtomicWaker,
    /// The connection runs a command that must not be cut short (a
    /// transaction, an operation over several shards): a kill takes effect
    /// when it ends, as redis-server runs a command to its end.
    uninterruptible: AtomicBool,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST sub/psub/ssub).
    pub subs: [AtomicU32; 3],
    /// Name of the ACL user (CLIENT LIST user=).
    pub user: Mutex<String>,
    /// Set while the connection waits in a blocking command (BLPOP, XREAD
    /// BLOCK …): CLIENT LIST's `b` flag, what CLIENT UNBLOCK may end.
    blocked: AtomicBool,
    /// CLIENT UNBLOCK's request to the blocked command ([`Unblock`] as u8,
    /// 0: none), and the waker of that command.
    unblock: AtomicU8,
    unblock_waker: AtomicWaker,
    /// CLIENT TRACKING as CLIENT LIST shows it: [`TRACKING_ON`] and the
    /// other bits, and the REDIRECT target (0: none).
    pub tracking: AtomicU8,
    pub tracking_redirect: AtomicU64,
}

/// [`ClientHandle::tracking`]: tracking is on (`t`).
pub const TRACKING_ON: u8 = 1;
/// … in BCAST mode (`B`).
pub const TRACKING_BCAST: u8 = 2;
/// … and the REDIRECT target went away (`R`).
pub const TRACKING_BROKEN: u8 = 4;

/// How CLIENT UNBLOCK ends a blocking command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unblock {
    /// As if its timeout had passed.
    Timeout = 1,
    /// With the `UNBLOCKED` error.
    Error = 2,
}

impl ClientHandle {
    /// Records an interaction now (input read, reply sent).
    pub fn touch(&self) {
        self.last_active_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// A handle for a new connection.
    pub fn new(id: u64, addr: String, laddr: String, shard: usize) -> ClientHandle {
        ClientHandle {
            id,
            addr,
            laddr,
            shard: AtomicUsize::new(shard),
            created: Instant::now(),
            name: Mutex::new(String::new()),
            lib: Mutex::new((String::new(), String::new())),
            db: AtomicU8::new(0),
            resp: AtomicU8::new(2),
            last_active_ms: AtomicU64::new(0),
            last_cmd: Mutex::new("NULL"),
            killed: AtomicBool::new(false),
            kill_waker: AtomicWaker::new(),
            uninterruptible: AtomicBool::new(false),
            subs: Default::default(),
            user: Mutex::new("default".into()),
            blocked: AtomicBool::new(false),
            unblock: AtomicU8::new(0),
            unblock_waker: AtomicWaker::new(),
            tracking: AtomicU8::new(0),
            tracking_redirect: AtomicU64::new(0),
        }
    }

    /// Marks the connection blocked (or not) in a blocking command; a
    /// new block forgets an earlier CLIENT UNBLOCK.
    pub fn set_blocked(&self, blocked: bool) {
        self.unblock.store(0, Ordering::SeqCst);
        self.blocked.store(blocked, Ordering::SeqCst);
    }

    /// CLIENT UNBLOCK: ends the blocking command the connection waits in,
    /// if any (false otherwise).
    pub fn unblock(&self, how: Unblock) -> bool {
        if !self.blocked.load(Ordering::SeqCst) {
            return false;
        }
        self.unblock.store(how as u8, Ordering::SeqCst);
        self.unblock_waker.wake();
        true
    }

    /// Resolves when CLIENT UNBLOCK asks the blocked command to end.
    pub async fn wait_unblocked(&self) -> Unblock {
        std::future::poll_fn(|cx| {
            self.unblock_waker.register(cx.waker());
            match self.unblock.load(Ordering::SeqCst) {
                1 => std::task::Poll::Ready(Unblock::Timeout),
                2 => std::task::Poll::Ready(Unblock::Error),
                _ => std::task::Poll::Pending,
            }
        })
        .await
    }

    /// Marks the client killed and wakes its connection.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_waker.wake();
    }

    /// Runs `f` so that a kill waits for its end (see
    /// [`wait_killed`](Self::wait_killed)).
    pub async fn uninterruptible<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        /// Lets the kill through once the command ended (or was dropped).
        struct Ended<'a>(&'a ClientHandle);
        impl Drop for Ended<'_> {
            fn drop(&mut self) {
                self.0.uninterruptible.store(false, Ordering::SeqCst);
                self.0.kill_waker.wake();
            }
        }
        self.uninterruptible.store(true, Ordering::SeqCst);
        let _ended = Ended(self);
        f.await
    }

    /// Resolves once the client has been killed and is not running an
    /// uninterruptible command.
    pub async fn wait_killed(&self) {
        std::future::poll_fn(|cx| {
            self.kill_waker.register(cx.waker());
            if self.killed.load(Ordering::SeqCst) && !self.uninterruptible.load(Ordering::SeqCst) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// One line of CLIENT LIST / CLIENT INFO.
    pub fn info_line(&self) -> String {
        let age = self.created.elapsed().as_secs();
        let idle_ms = (self.created.elapsed().as_millis() as u64)
            .saturating_sub(self.last_active_ms.load(Ordering::Relaxed));
        let (lib_name, lib_ver) = self.lib.lock().unwrap().clone();
        let [sub, psub, ssub] = self.subs.each_ref().map(|n| n.load(Ordering::Relaxed));
        let tracking = self.tracking.load(Ordering::Relaxed);
        let mut flags = String::new();
        for (on, flag) in [
            (sub + psub + ssub > 0, 'P'),
            (self.blocked.load(Ordering::Relaxed), 'b'),
            (tracking & TRACKING_ON != 0, 't'),
            (tracking & TRACKING_BROKEN != 0, 'R'),
            (tracking & TRACKING_BCAST != 0, 'B'),
        ] {
            if on {
                flags.push(flag);
            }
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let redir = match tracking & TRACKING_ON {
            0 => -1,
            _ => self.tracking_redirect.load(Ordering::Relaxed) as i64,
        };
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={flags} db={} sub={sub} psub={psub} ssub={ssub} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir={redir} resp={} lib-name={} lib-ver={} shard={}",
            self.id,
            self.addr,
            self.laddr,
            self.name.lock().unwrap(),
            age,
            idle_ms / 1000,
            self.db.load(Ordering::Relaxed),
            self.last_cmd.lock().unwrap(),
            self.user.lock().unwrap(),
            self.resp.load(Ordering::Relaxed),
            lib_name,
            lib_ver,
            self.shard.load(Ordering::Relaxed),
        )
    }
}

/// The context a command runs with: the connection's state and its core.
pub struct Client {
    /// Shared part.
    pub handle: Arc<ClientHandle>,
    /// SELECTed database.
    pub db: u8,
    /// Protocol version.
    pub resp: u8,
    /// The shard of the connection's core.
    pub shard: Rc<Shard>,
    /// Process-wide state.
    pub server: Arc<ServerState>,
    /// Close the connection once this reply is written (QUIT, kill).
    pub close_after_reply: bool,
    /// Shards with jobs queued by this connection but not yet woken.
    pub unwoken: Vec<usize>,
    /// Single-key commands for other shards gathered since the last
    /// [`wake_shards`](Self::wake_shards), one job per shard.
    outgoing: Vec<Outgoing>,
    /// None of this connection's commands is still running on a shard:
    /// a read may then be served from another shard's RocksDB directly
    /// (set by the connection loop before each command).
    pub nothing_in_flight: bool,
    /// Set by MONITOR: the feed of every command the server runs.
    pub monitor: Option<futures_channel::mpsc::UnboundedReceiver<Vec<u8>>>,
    /// CLIENT REPLY OFF.
    pub reply_off: bool,
    /// Replies still to swallow (CLIENT REPLY SKIP).
    pub reply_skip: u8,
    /// Commands queued since MULTI (`None`: not in a transaction).
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A command was rejected while queuing: EXEC will abort.
    pub multi_error: bool,
    /// WATCHed keys: (shard, meta key).
    pub watching: Vec<(usize, Vec<u8>)>,
    /// Set by any write to a WATCHed key.
    pub watch_dirty: Arc<AtomicBool>,
    /// The multi-shard operation this connection is executing, if any.
    pub tx: Option<Rc<crate::shard::transaction::TxCtx>>,
    /// Pub/Sub subscriptions, once the client has subscribed.
    pub pubsub: Option<Box<super::subscriber::Subscriptions>>,
    /// The command being executed (name, family), for keyspace events.
    pub current: crate::shard::keyspace::Current,
    /// Whether that command's key lookups count as keyspace hits and
    /// misses (`Command::counts_lookups`).
    pub counts_lookups: bool,
    /// CLIENT TRACKING's options while tracking is on.
    pub tracking: Option<crate::shard::tracking::Mode>,
    /// CLIENT CACHING YES/NO was given for the next command (OPTIN/OPTOUT).
    pub tracking_caching: bool,
    /// Whether the client may run commands (AUTH done, or no password set).
    pub authenticated: bool,
    /// The ACL user the client runs as (a snapshot; see [`Client::refresh_user`]).
    pub user: Arc<crate::config::acl::User>,
    /// [`Users::generation`](crate::config::acl::Users::generation) of `user`.
    pub user_gen: u64,
    /// Where the connection's keyed commands went lately (`handoff`).
    pub affinity: super::handoff::Affinity,
    /// How often the look ahead of its pipelines found its keys cached
    /// lately (`prefetch`).
    pub look_ahead: super::prefetch::Pacing,
    /// A reply another shard is writing to the socket itself
    /// (`server::direct`), to settle before anything else is sent.
    pub direct: Option<Arc<super::direct::DirectReply>>,
    /// The duplicate of the client's socket that owners write to.
    socket: Option<Arc<std::os::fd::OwnedFd>>,
}

impl Client {
    /// A client context for a new connection.
    pub fn new(handle: Arc<ClientHandle>, shard: Rc<Shard>, server: Arc<ServerState>) -> Client {
        let authenticated = !server.config.runtime.needs_auth();
        let users = &server.config.runtime.users;
        let user_gen = users.generation();
        let user = users.default_user();
        Client {
            handle,
            db: 0,
            resp: 2,
            shard,
            server,
            close_after_reply: false,
            unwoken: Vec::new(),
            outgoing: Vec::new(),
            nothing_in_flight: false,
            monitor: None,
            reply_off: false,
            reply_skip: 0,
            multi: None,
            multi_error: false,
            watching: Vec::new(),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            tx: None,
            pubsub: None,
            current: ("", ""),
            counts_lookups: true,
            tracking: None,
            tracking_caching: false,
            authenticated,
            user,
            user_gen,
            affinity: Default::default(),
            look_ahead: Default::default(),
            direct: None,
            socket: None,
        }
    }

    /// Runs as `user` from now on (AUTH, HELLO AUTH).
    pub fn set_user(&mut self, user: Arc<crate::config::acl::User>) {
        *self.handle.user.lock().unwrap() = user.name.clone();
        self.user = user;
        self.user_gen = self.server.config.runtime.users.generation();
    }

    /// Re-reads the client's user after an ACL change; false if the user
    /// was deleted (the connection is then closed, as Redis does).
    pub fn refresh_user(&mut self) -> bool {
        let users = &self.server.config.runtime.users;
        if self.user_gen == users.generation() {
            return true;
        }
        self.user_gen = users.generation();
        match users.get(&self.user.name) {
            Some(u) => {
                self.user = u;
                true
            }
            None => false,
        }
    }

    /// Inboxes of every shard.
    pub fn mesh(&self) -> &Arc<Mesh> {
        &self.shard.mesh
    }

    /// Queues `f` on a remote shard, to be woken by [`wake_shards`](Self::wake_shards):
    /// a pipeline wakes each shard once, not once per command.
    pub fn call_batched<T, F>(
        &mut self,
        shard: usize,
        f: F,
    ) -> impl std::future::Future<Output = T> + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Shard) -> T + Send + 'static,
    {
        if !self.unwoken.contains(&shard) {
            self.unwoken.push(shard);
        }
        self.shard.mesh.call_deferred(shard, f)
    }

    /// Queues a job on a remote shard, to be woken by
    /// [`wake_shards`](Self::wake_shards).
    pub fn send_batched(&mut self, shard: usize, job: crate::shard::mesh::Job) {
        if !self.unwoken.contains(&shard) {
            self.unwoken.push(shard);
        }
        self.shard.mesh.send(shard, job);
    }

    /// Whether the reply of the command just run goes to the client
    /// (CLIENT REPLY OFF/SKIP); consumes one skip.
    pub fn reply_allowed(&mut self) -> bool {
        if self.reply_skip > 0 {
            self.reply_skip -= 1;
            return false;
        }
        !self.reply_off
    }

    /// Queues a single-key command on another shard, in one job with the
    /// connection's other commands for that shard until the next
    /// [`wake_shards`](Self::wake_shards): a pipeline's commands for a
    /// shard cost one message, one reply and one wake-up, not one each.
    /// `keys` are the command's keys, which the owner checks against the
    /// locks of multi-shard operations (`Shard::guarded`). Await the
    /// reply only after `wake_shards`, and the replies of one shard in the
    /// order queued (as the connection's pending queue does).
    pub fn call_gathered(
        &mut self,
        shard: usize,
        keys: Vec<Vec<u8>>,
        run: GatheredCmd,
    ) -> impl std::future::Future<Output = crate::protocol::reply::Reply> + 'static {
        let db = self.db;
        let open = self.outgoing.iter().position(|o| o.shard == shard);
        let i = match open {
            Some(i) if self.outgoing[i].db == db => i,
            _ => {
                if let Some(i) = open {
                    let stale = self.outgoing.swap_remove(i);
                    self.send_gathered(stale);
                }
                self.outgoing.push(Outgoing {
                    shard,
                    db,
                    keys: Vec::new(),
                    cmds: Vec::new(),
                    replies: Rc::new(GatheredReplies::default()),
                });
                self.outgoing.len() - 1
            }
        };
        let o = &mut self.outgoing[i];
        o.keys.extend(keys);
        o.cmds.push(run);
        GatheredReplies::reply(o.replies.clone(), o.cmds.len() - 1)
    }

    /// Sends one shard's gathered commands as a single job.
    fn send_gathered(&mut self, o: Outgoing) {
        let (tx, rx) = futures_channel::oneshot::channel();
        *o.replies.rx.borrow_mut() = Some(rx);
        let cmds = o.cmds;
        let job: crate::shard::mesh::Job = Box::new(move |s: &Shard| {
            let replies: Vec<_> = cmds.into_iter().map(|run| run(s)).collect();
            Box::new(move || {
                let _ = tx.send(replies);
            })
        });
        self.send_batched(o.shard, Shard::guarded(o.db, o.keys, None, job));
    }

    /// Whether the only work queued since the last wake-up is one gathered
    /// command, whose reply its owner could then write itself.
    pub fn one_gathered_command(&self) -> bool {
        self.unwoken.is_empty() && matches!(&self.outgoing[..], [o] if o.cmds.len() == 1)
    }

    /// Sends the one gathered command (see [`one_gathered_command`]) so
    /// that its owner writes the reply to `socket` itself
    /// (`server::direct`), and wakes the owner.
    ///
    /// [`one_gathered_command`]: Self::one_gathered_command
    pub fn send_direct(&mut self, socket: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
        let socket = match &self.socket {
            Some(s) => s.clone(),
            None => {
                // SAFETY: the connection's socket is open while it is borrowed here.
                let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(socket.as_raw_fd()) };
                let dup = Arc::new(fd.try_clone_to_owned()?);
                self.socket = Some(dup.clone());
                dup
            }
        };
        let o = self.outgoing.pop().expect("one gathered command");
        let run = o.cmds.into_iter().next().expect("one gathered command");
        let direct = super::direct::DirectReply::new(socket);
        let (resp, to, server) = (self.resp, direct.clone(), self.server.clone());
        let job: crate::shard::mesh::Job = Box::new(move |s: &Shard| {
            let before = s.mesh.wal_failures.load(Ordering::SeqCst);
            let mut bytes = Vec::new();
            run(s).encode(resp, &mut bytes);
            crate::shard::incr(&s.stats.owner_replies, 1);
            let mesh = s.mesh.clone();
            Box::new(move || {
                let failed = mesh.wal_failures.load(Ordering::SeqCst) != before;
                let error = failed.then_some(super::connection::WAL_FAILED);
                to.deliver(bytes, error, &server.owner_sent_bytes);
            })
        });
        self.send_batched(o.shard, Shard::guarded(o.db, o.keys, None, job));
        self.direct = Some(direct);
        self.wake_shards();
        Ok(())
    }

    /// Sends the gathered commands and wakes every shard that has jobs from
    /// this connection queued.
    pub fn wake_shards(&mut self) {
        for o in std::mem::take(&mut self.outgoing) {
            self.send_gathered(o);
        }
        for s in self.unwoken.drain(..) {
            self.shard.mesh.wake(s);
        }
    }

    /// Sets the protocol version.
    pub fn set_resp(&mut self, v: u8) {
        self.resp = v;
        self.handle.resp.store(v, Ordering::Relaxed);
    }

    /// Changes the selected database.
    pub fn select(&mut self, db: u8) {
        self.db = db;
        self.handle.db.store(db, Ordering::Relaxed);
    }
}

/// A single-key command as it runs on its owning shard.
pub type GatheredCmd = Box<dyn FnOnce(&Shard) -> crate::protocol::reply::Reply + Send>;

/// Commands gathered for one shard (see [`Client::call_gathered`]).
struct Outgoing {
    shard: usize,
    db: u8,
    keys: Vec<Vec<u8>>,
    cmds: Vec<GatheredCmd>,
    replies: Rc<GatheredReplies>,
}

/// The replies of one gathered job, handed out one command at a time.
#[derive(Default)]
struct GatheredReplies {
    /// Set when the job is sent.
    rx: std::cell::RefCell<
        Option<futures_channel::oneshot::Receiver<Vec<crate::protocol::reply::Reply>>>,
    >,
    /// Once arrived: each command's reply until its future takes it.
    arrived: std::cell::RefCell<Vec<Option<crate::protocol::reply::Reply>>>,
}

impl GatheredReplies {
    /// The reply of the `index`th command of the job.
    async fn reply(this: Rc<GatheredReplies>, index: usize) -> crate::protocol::reply::Reply {
        use std::future::Future;
        std::future::poll_fn(|cx| {
            if let Some(r) = this
                .arrived
                .borrow_mut()
                .get_mut(index)
                .and_then(Option::take)
            {
                return std::task::Poll::Ready(r);
            }
            let mut rx = this.rx.borrow_mut();
            let rx = rx.as_mut().expect(
                "gathered commands are sent (wake_shards) before their replies are awaited",
            );
            match std::pin::Pin::new(rx).poll(cx) {
                std::task::Poll::Pending => std::task::Poll::Pending,
                std::task::Poll::Ready(Err(_)) => {
                    // the job was dropped unanswered: fail these commands,
                    // not the connection's core
                    log::error!("a shard dropped a job of gathered commands unanswered");
                    std::task::Poll::Ready(crate::protocol::reply::Reply::err(
                        "ERR internal error: the command's shard dropped its reply",
                    ))
                }
                std::task::Poll::Ready(Ok(all)) => {
                    let mut all: Vec<_> = all.into_iter().map(Some).collect();
                    let r = all[index].take().expect("each reply is taken once");
                    *this.arrived.borrow_mut() = all;
                    std::task::Poll::Ready(r)
                }
            }
        })
        .await
    }
}
