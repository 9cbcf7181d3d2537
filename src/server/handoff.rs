//! Moving a connection to the core that owns its keys.
//!
//! A connection is served by the core that accepted it; a command on a key
//! of another shard costs a hop there and back (two wake-ups, see
//! `shard::mesh`). A connection that works on one key, or keys of one
//! shard (a queue, a leaderboard, a session hash, hash-tagged keys), pays
//! that hop on every command. Once [`STREAK`] keyed commands in a row went
//! to the same other shard, in turns of at most [`SMALL_TURN`] commands
//! (a deep pipeline pays one hop for many commands), the connection is handed to that shard's core
//! between two turns: the socket (a duplicated file descriptor) and the
//! connection's settings travel in a job through the owner's inbox, and
//! the owner's executor goes on serving it. Keys spread over the shards
//! never make such a streak, so those connections stay where they are.
//!
//! Only commands Redis flags `fast` make a streak, and reads of sorted
//! sets ([`counts_toward_streak`]). A range read or another slow command
//! costs the owner far more than the hop, and the split is better as it
//! is: the owner executes while the connection's core reads and writes the
//! socket (measured with 2 shards at `-P 1`, ZRANGE of 10 members on one
//! key read from RocksDB: 0.70 of redis-server without moving, 0.59 with).
//! A sorted set read that often is held in memory (`storage/ordered.rs`)
//! and its ranges cost less than the hop: the same ZRANGE from a held set,
//! 3 rounds, 40,783–44,111 ops/s without moving, 63,980–74,738 with
//! (redis-server 63,452–79,177).
//!
//! A core takes moving connections only up to twice its fair share of all
//! connections ([`has_room`]): one hot key must not pile every client onto
//! one core.
//!
//! Only a connection with nothing in progress moves: plain TCP (a TLS
//! session's state stays on its core), every reply written, no
//! transaction, WATCH, subscription, MONITOR or blocking command.

use super::client::{Client, ClientHandle};
use super::tls::Stream;
use super::ServerState;
use crate::shard::mesh::Mesh;
use crate::shard::Shard;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Consecutive keyed commands owned by one other shard before the
/// connection moves there.
pub const STREAK: u32 = 64;

/// A turn (one read's worth of commands) longer than this breaks the
/// streak. The hop costs the same for a whole pipeline as for one
/// command, and while the owner executes, the connection's own core
/// parses and encodes in parallel: measured on 2 shards, moving made
/// single-key commands 30-60% faster at `-P 1` and 5-10% slower at
/// `-P 16`.
pub const SMALL_TURN: u32 = 4;

/// Whether a command counts toward a streak: Redis's `fast` commands and
/// the sorted-set reads (see the module doc).
pub fn counts_toward_streak(cmd: &crate::commands::Command) -> bool {
    cmd.fast || (cmd.group == "sorted-set" && cmd.flags.split(' ').any(|f| f == "readonly"))
}

/// Which shard the connection's recent keyed commands went to.
#[derive(Default)]
pub struct Affinity {
    shard: usize,
    streak: u32,
    this_turn: u32,
}

impl Affinity {
    /// Counts a keyed command owned by `shard`; one that does not count
    /// ([`counts_toward_streak`]) breaks the streak.
    pub fn record(&mut self, shard: usize, counts: bool) {
        self.this_turn = self.this_turn.saturating_add(1);
        if !counts {
            self.streak = 0;
        } else if self.shard == shard {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.shard = shard;
            self.streak = 1;
        }
    }

    /// Closes a turn; returns the shard to move to, if the streak points
    /// away from `here`.
    fn end_turn(&mut self, here: usize) -> Option<usize> {
        if std::mem::take(&mut self.this_turn) > SMALL_TURN {
            self.streak = 0;
        }
        (self.shard != here && self.streak >= STREAK).then_some(self.shard)
    }
}

/// Counts a connection in [`Mesh::connections`] while a core serves it.
pub struct Served {
    mesh: Arc<Mesh>,
    shard: usize,
}

impl Served {
    /// Counts a connection on `shard` until dropped.
    pub fn new(mesh: Arc<Mesh>, shard: usize) -> Served {
        mesh.connections[shard].fetch_add(1, Ordering::Relaxed);
        Served { mesh, shard }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.mesh.connections[self.shard].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether shard `to` may take one more connection: at most twice its
/// fair share of all connections (and always a few). Without a bound,
/// every client of one hot key would gather on its owner, which would
/// then read and write all their sockets while the other cores idle; on a
/// machine with many cores and remote clients that core would cap the
/// key's throughput below what the hops allowed.
fn has_room(mesh: &Mesh, to: usize) -> bool {
    let total: usize = mesh
        .connections
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum();
    let cap = (2 * total / mesh.len()).max(MIN_ROOM);
    mesh.connections[to].load(Ordering::Relaxed) < cap
}

/// Connections a shard may always take, whatever its share.
const MIN_ROOM: usize = 4;

/// Everything a connection needs on its new core.
struct Handoff {
    socket: OwnedFd,
    handle: Arc<ClientHandle>,
    server: Arc<ServerState>,
    settings: Settings,
    /// Bytes of a command not yet complete.
    inbuf: Vec<u8>,
}

/// The per-connection settings that survive a move.
struct Settings {
    db: u8,
    resp: u8,
    authenticated: bool,
    user: Arc<crate::config::acl::User>,
    user_gen: u64,
    reply_off: bool,
    reply_skip: u8,
}

/// Called after each turn: the shard to move `client` to now, if any (see
/// the module docs).
pub fn after_turn(client: &mut Client, stream: &Stream) -> Option<usize> {
    let here = client.shard.id;
    let to = client.affinity.end_turn(here)?;
    let idle = matches!(stream, Stream::Plain(_))
        && client.server.config.connection_affinity
        && client.multi.is_none()
        && client.watching.is_empty()
        && client.pubsub.is_none()
        && client.monitor.is_none()
        && client.tx.is_none()
        && client.unwoken.is_empty()
        && !client.close_after_reply
        && has_room(client.mesh(), to);
    idle.then_some(to)
}

/// What is handed back when the connection cannot move.
pub type Stay = Box<(Client, Stream, Vec<u8>)>;

/// Hands the connection to shard `to`: its socket is duplicated into the
/// job and the local stream dropped (closing only this core's descriptor).
/// If the socket cannot be duplicated the connection stays here.
pub fn send(client: Client, stream: Stream, inbuf: Vec<u8>, to: usize) -> Result<(), Stay> {
    let Stream::Plain(tcp) = &stream else {
        return Err(Box::new((client, stream, inbuf)));
    };
    // SAFETY: the descriptor is valid while `tcp` lives; this duplicates it
    // (close-on-exec, like the listeners' sockets)
    let fd = unsafe { libc::fcntl(tcp.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if fd < 0 {
        log::debug!(
            "client {}: cannot move to shard {to}: {}",
            client.handle.id,
            std::io::Error::last_os_error()
        );
        return Err(Box::new((client, stream, inbuf)));
    }
    // SAFETY: `fd` was just returned by dup and is owned by nobody else
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    drop(stream);
    let handoff = Handoff {
        socket,
        handle: client.handle.clone(),
        server: client.server.clone(),
        settings: Settings {
            db: client.db,
            resp: client.resp,
            authenticated: client.authenticated,
            user: client.user.clone(),
            user_gen: client.user_gen,
            reply_off: client.reply_off,
            reply_skip: client.reply_skip,
        },
        inbuf,
    };
    log::debug!(
        "client {}: moving from shard {} to shard {to}, which owns its keys",
        client.handle.id,
        client.shard.id
    );
    let mesh = client.shard.mesh.clone();
    mesh.send(
        to,
        Box::new(move |shard: &Shard| {
            match shard.rc() {
                Some(shard) => {
                    glommio::spawn_local(resume(handoff, shard)).detach();
                }
                None => {
                    log::warn!("shard {to} is stopping: closed a moving connection");
                    handoff
                        .server
                        .clients
                        .lock()
                        .unwrap()
                        .remove(&handoff.handle.id);
                }
            }
            Box::new(|| {})
        }),
    );
    mesh.wake(to);
    Ok(())
}

/// Serves a connection handed over from another core.
async fn resume(h: Handoff, shard: Rc<Shard>) {
    // SAFETY: the handoff owned the descriptor; the stream takes it over
    let tcp = unsafe { glommio::net::TcpStream::from_raw_fd(h.socket.into_raw_fd()) };
    h.handle
        .shard
        .store(shard.id, std::sync::atomic::Ordering::Relaxed);
    let mut client = Client::new(h.handle, shard, h.server);
    let s = h.settings;
    client.db = s.db;
    client.resp = s.resp;
    client.authenticated = s.authenticated;
    client.user = s.user;
    client.user_gen = s.user_gen;
    client.reply_off = s.reply_off;
    client.reply_skip = s.reply_skip;
    super::connection::serve_client(Stream::Plain(tcp), client, h.inbuf).await;
}
