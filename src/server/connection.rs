//! One client connection: read, parse every complete command, execute in
//! order, make writes durable per the sync policy, write all replies at once.

use super::client::{Client, ClientHandle};
use super::handoff;
use super::subscriber;
use super::tls::Stream;
use super::ServerState;
use crate::commands::{self, Started};
use crate::protocol::{parse_command, parse_command_limited, Limits, Reply};
use crate::shard::pubsub::Outbox;
use crate::shard::{incr, Shard};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Replies are written out once this much is buffered, even mid-pipeline.
const OUT_FLUSH_AT: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Sent to a non-loopback client when no password is set and protected
/// mode is on.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED DiskDB is in protected mode: no password is set for the default user, so only clients on the loopback interface may connect. To accept other clients, either set a password (requirepass in diskdb.conf, --requirepass, or CONFIG SET requirepass from a loopback client), or turn protected mode off (--protected-mode no, protected_mode: false in diskdb.conf, or CONFIG SET protected-mode no from a loopback client) once you are sure the server is not reachable from the internet.\r\n";

fn is_loopback(stream: &Stream) -> bool {
    stream
        .tcp()
        .peer_addr()
        .map_or(true, |a| a.ip().is_loopback())
}

/// Serves a connection until it closes, is killed or the server stops.
pub async fn serve(mut stream: Stream, shard: Rc<Shard>, server: Arc<ServerState>) {
    let _ = stream.tcp().set_nodelay(true);
    let addr = stream
        .tcp()
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let laddr = stream
        .tcp()
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    server.total_connections.fetch_add(1, Ordering::Relaxed);
    let maxclients = server.config.runtime.maxclients.load(Ordering::Relaxed) as usize;
    if server.clients.lock().unwrap().len() >= maxclients {
        server.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.send(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    let rt = &server.config.runtime;
    if rt.protected_mode.load(Ordering::Relaxed) && !rt.needs_auth() && !is_loopback(&stream) {
        log::warn!("refused {addr}: protected mode (no password set, client not on loopback)");
        let _ = stream.send(PROTECTED_MODE_DENIED).await;
        return;
    }
    let handle = Arc::new(ClientHandle::new(
        server.next_client_id(),
        addr,
        laddr,
        shard.id,
    ));
    server
        .clients
        .lock()
        .unwrap()
        .insert(handle.id, handle.clone());
    let client = Client::new(handle, shard, server);
    serve_client(stream, client, Vec::with_capacity(READ_CHUNK)).await;
}

/// Serves a registered client until it closes, is killed or moves to
/// another core (`handoff`); `inbuf` holds input not yet executed.
pub async fn serve_client(mut stream: Stream, mut client: Client, mut inbuf: Vec<u8>) {
    let _counted = handoff::Served::new(client.mesh().clone(), client.shard.id);
    loop {
        let killed = client.handle.clone();
        let moving = futures_lite::future::or(run(&mut stream, &mut client, inbuf), async move {
            killed.wait_killed().await;
            None
        })
        .await;
        let Some((to, rest)) = moving else { break };
        match handoff::send(client, stream, rest, to) {
            Ok(()) => return,
            Err(stay) => {
                (client, stream, inbuf) = *stay;
                client.affinity = Default::default();
            }
        }
    }
    crate::commands::transactions::unwatch_all(&mut client);
    subscriber::leave_all(&mut client);
    client.server.pubsub.tracking.forget(client.handle.id);
    client
        .server
        .clients
        .lock()
        .unwrap()
        .remove(&client.handle.id);
    let _ = stream.close().await;
}

/// A reply that may still be on its way from another shard.
enum Pending {
    Ready(Reply),
    InFlight(Pin<Box<dyn Future<Output = Reply>>>),
    /// A reply the client asked not to get (CLIENT REPLY OFF/SKIP).
    Silent(Pin<Box<dyn Future<Output = Reply>>>),
}

/// Most commands of one connection in flight to other shards at once.
const MAX_IN_FLIGHT: usize = 1024;

/// Wakes the shards this connection queued work on, then waits for the
/// queued replies and encodes them in order.
async fn drain(client: &mut Client, pending: &mut VecDeque<Pending>, out: &mut Vec<u8>) {
    client.wake_shards();
    let resp = client.resp;
    while let Some(p) = pending.pop_front() {
        match p {
            Pending::Ready(r) => r.encode(resp, out),
            Pending::InFlight(f) => f.await.encode(resp, out),
            Pending::Silent(f) => drop(f.await),
        }
    }
}

/// Whether no WAL write failed on any shard since `before` (the count at
/// the start of this turn). Otherwise the replies are replaced by one error
/// and the connection closes: an acknowledgement must never cover a write
/// that may not be on disk (disk full, I/O error).
fn durable(client: &Client, before: u64, out: &mut Vec<u8>) -> bool {
    if client.mesh().wal_failures.load(Ordering::SeqCst) == before {
        return true;
    }
    out.clear();
    out.extend_from_slice(WAL_FAILED);
    false
}

/// The reply that replaces a turn's replies after a failed WAL write.
pub const WAL_FAILED: &[u8] = b"-ERR the write-ahead log could not be written (disk full or I/O error, see the server log); the replies of this batch are withheld because their writes may not be durable\r\n";

/// Ends a turn whose only reply comes from another shard: that shard
/// writes it to the socket itself (`server::direct`), so this core is not
/// woken just to send it. Returns false (and leaves `pending` alone) when
/// the turn does not qualify: other replies, TLS, messages that could
/// interleave (Pub/Sub, tracking, MONITOR), or a socket that cannot be
/// duplicated.
fn reply_from_owner(
    stream: &Stream,
    client: &mut Client,
    pending: &mut VecDeque<Pending>,
    out: &[u8],
) -> bool {
    let qualifies = out.is_empty()
        && matches!(pending.front(), Some(Pending::InFlight(_)))
        && pending.len() == 1
        && client.one_gathered_command()
        && !stream.is_tls()
        && client.pubsub.is_none()
        && client.tracking.is_none()
        && client.monitor.is_none()
        && !client.close_after_reply;
    if !qualifies {
        return false;
    }
    match client.send_direct(stream.tcp()) {
        Ok(()) => {
            // that reply no longer comes back here
            pending.clear();
            true
        }
        Err(e) => {
            log::debug!(
                "client {}: cannot duplicate its socket: {e}",
                client.handle.addr
            );
            false
        }
    }
}

/// Waits until the reply another shard was writing (`server::direct`) is
/// out, sending what it left; false if the connection must close.
async fn settle_direct(stream: &mut Stream, client: &mut Client) -> bool {
    let Some(direct) = client.direct.take() else {
        return true;
    };
    match direct.settle().await {
        None => true,
        Some(left) => {
            let sent = stream.send(&left.bytes).await.is_ok();
            if sent {
                incr(
                    &client.shard.stats.net_output_bytes,
                    left.bytes.len() as u64,
                );
            }
            sent && !left.close
        }
    }
}

/// Reads the client's next input, meanwhile sending what a shard writing
/// a reply itself left to this core (`server::direct`).
async fn read_input(
    stream: &mut Stream,
    client: &mut Client,
    chunk: &mut [u8],
) -> std::io::Result<usize> {
    loop {
        let Some(direct) = client.direct.clone() else {
            return subscriber::read(stream, client, chunk).await;
        };
        let input = async { Some(subscriber::read(stream, client, chunk).await) };
        let left = async {
            direct.left_something().await;
            None
        };
        if let Some(read) = futures_lite::future::or(input, left).await {
            return read;
        }
        if !settle_direct(stream, client).await {
            return Ok(0);
        }
    }
}

/// Buffers what the client sends while a blocking command waits, and
/// writes out the messages queued for it meanwhile (`outbox`); returns when
/// the peer closes the connection.
async fn read_ahead(
    stream: &mut Stream,
    inbuf: &mut Vec<u8>,
    client: &ClientHandle,
    outbox: Option<&Outbox>,
) {
    let mut chunk = [0u8; 4096];
    loop {
        let input = async { Some(stream.read(&mut chunk).await) };
        let messages = async {
            match outbox {
                Some(o) => o.ready().await,
                None => std::future::pending().await,
            }
            None
        };
        match futures_lite::future::or(input, messages).await {
            Some(Ok(0)) | Some(Err(_)) => return,
            Some(Ok(n)) => {
                inbuf.extend_from_slice(&chunk[..n]);
                client.touch();
            }
            None => {
                let bytes = outbox.map(Outbox::take).unwrap_or_default();
                if stream.send(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// What the connection does after a command.
enum Flow {
    /// Go on with the next command.
    Next,
    /// Write what is buffered, then close (QUIT, kill, protocol error).
    Close,
    /// Peer went away while the command was blocked.
    Gone,
}

/// Serves turns until the connection ends (`None`) or should move to the
/// shard that owns its keys (the shard and the input not yet executed).
async fn run(
    stream: &mut Stream,
    client: &mut Client,
    mut inbuf: Vec<u8>,
) -> Option<(usize, Vec<u8>)> {
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let timeout = match subscriber::subscribed(client) {
            true => 0, // subscribers may stay silent
            false => client.server.config.runtime.timeout.load(Ordering::Relaxed),
        };
        let _ = stream
            .tcp()
            .set_read_timeout((timeout > 0).then(|| Duration::from_secs(timeout)));
        let n = match read_input(stream, client, &mut chunk).await {
            Ok(0) | Err(_) => {
                // a client that only shut its sending side still gets the
                // reply an owner is writing (closing shuts the socket's
                // sending side for every descriptor)
                settle_direct(stream, client).await;
                return None;
            }
            Ok(n) => n,
        };
        if !settle_direct(stream, client).await {
            return None;
        }
        if client.handle.killed.load(Ordering::SeqCst) {
            // CLIENT KILL ran on another core before this input was read:
            // like redis-server, run nothing more for a killed client
            return None;
        }
        inbuf.extend_from_slice(&chunk[..n]);
        incr(&client.shard.stats.net_input_bytes, n as u64);
        client.handle.touch(); // once per read, not per command
        let wal_failures = client.mesh().wal_failures.load(Ordering::SeqCst);
        let mut used = 0;
        let mut flow = Flow::Next;
        // commands run, and the first one the look ahead has not covered
        // (it looks only at an authenticated client's commands)
        let (mut ran, mut ahead) = (0, 0);
        while matches!(flow, Flow::Next) && client.monitor.is_none() {
            if ran >= ahead && client.authenticated {
                ahead = ran + super::prefetch::prefetch_keys(client, &inbuf[used..]);
            }
            let limits = if client.authenticated {
                &Limits::DEFAULT
            } else {
                &Limits::UNAUTHENTICATED
            };
            match parse_command_limited(&inbuf[used..], limits) {
                Ok(Some((args, len))) => {
                    used += len;
                    ran += 1;
                    if args.is_empty() {
                        continue;
                    }
                    flow =
                        run_command(stream, client, args, &mut inbuf, &mut pending, &mut out).await;
                    if matches!(flow, Flow::Next)
                        && (out.len() >= OUT_FLUSH_AT || pending.len() >= MAX_IN_FLIGHT)
                    {
                        drain(client, &mut pending, &mut out).await;
                        client.shard.make_durable().await;
                        if !durable(client, wal_failures, &mut out) {
                            let _ = stream.send(&out).await;
                            return None;
                        }
                        incr(&client.shard.stats.net_output_bytes, out.len() as u64);
                        if stream.send(&out).await.is_err() {
                            return None;
                        }
                        out.clear();
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    log::debug!("client {} protocol error: {}", client.handle.addr, e.0);
                    drain(client, &mut pending, &mut out).await;
                    Reply::Error(e.0).encode(client.resp, &mut out);
                    flow = Flow::Close;
                }
            }
        }
        if matches!(flow, Flow::Gone) {
            return None;
        }
        inbuf.drain(..used);
        if !(matches!(flow, Flow::Next) && reply_from_owner(stream, client, &mut pending, &out)) {
            drain(client, &mut pending, &mut out).await;
        }
        client.shard.make_durable().await;
        if !durable(client, wal_failures, &mut out) {
            // after the owner's reply, unless it already sent this error
            if settle_direct(stream, client).await {
                let _ = stream.send(&out).await;
            }
            return None;
        }
        if !out.is_empty() {
            incr(&client.shard.stats.net_output_bytes, out.len() as u64);
            if stream.send(&out).await.is_err() {
                return None;
            }
            out.clear();
        }
        if matches!(flow, Flow::Close) {
            return None;
        }
        if let Some(feed) = client.monitor.take() {
            monitor_mode(stream, feed).await;
            return None;
        }
        if let Some(to) = handoff::after_turn(client, stream) {
            // the reply an owner is writing is settled here: the new core
            // starts with nothing in flight
            if !settle_direct(stream, client).await {
                return None;
            }
            return Some((to, inbuf));
        }
    }
}

/// Starts one command: local and remote single-key commands are queued
/// without waiting; anything else first waits for the queue, then runs.
async fn run_command(
    stream: &mut Stream,
    client: &mut Client,
    args: Vec<Vec<u8>>,
    inbuf: &mut Vec<u8>,
    pending: &mut VecDeque<Pending>,
    out: &mut Vec<u8>,
) -> Flow {
    if commands::pause_for(client, &args).is_some() {
        drain(client, pending, out).await;
        // re-check often, so CLIENT UNPAUSE releases waiting clients at once
        while let Some(wait) = commands::pause_for(client, &args) {
            glommio::timer::sleep(wait.min(Duration::from_millis(10))).await;
        }
    }
    client.nothing_in_flight = pending.is_empty();
    let started = commands::start(client, args);
    client.nothing_in_flight = false;
    match started {
        Started::Ready(_) if !client.reply_allowed() => {}
        Started::Ready(r) if pending.is_empty() => r.encode(client.resp, out),
        Started::Ready(r) => pending.push_back(Pending::Ready(r)),
        Started::InFlight(f) if !client.reply_allowed() => pending.push_back(Pending::Silent(f)),
        Started::InFlight(f) => pending.push_back(Pending::InFlight(f)),
        Started::Ordered(cmd, args) => {
            drain(client, pending, out).await;
            // messages already queued precede this reply; a SUBSCRIBE's
            // confirmation precedes what arrives while it runs
            let confirms_first = matches!(cmd.name, "subscribe" | "psubscribe" | "ssubscribe");
            if confirms_first {
                subscriber::deliver_into(client, out);
            }
            let reply = if cmd.has_flag("blocking") {
                // a blocked client whose peer goes away must leave the wait queues
                let _ = stream.tcp().set_read_timeout(None);
                let handle = client.handle.clone();
                // messages (invalidations, in RESP3 publishes) reach a
                // blocked client as they come, unless replies of the turn
                // wait in `out` (they go first, checked for durability)
                let live = match out.is_empty() {
                    true => client.pubsub.as_ref().map(|s| s.outbox.clone()),
                    false => None,
                };
                let blocked = async { Some(commands::finish(client, cmd, args).await) };
                let closed = async {
                    read_ahead(stream, inbuf, &handle, live.as_deref()).await;
                    None
                };
                let reply = match futures_lite::future::or(blocked, closed).await {
                    Some(reply) => reply,
                    None => return Flow::Gone,
                };
                client.handle.touch(); // the reply of a long wait is an interaction too
                reply
            } else {
                // a kill must not leave a transaction or a multi-shard
                // operation half done (its connection future is dropped)
                let handle = client.handle.clone();
                handle
                    .uninterruptible(commands::finish(client, cmd, args))
                    .await
            };
            if !confirms_first {
                subscriber::deliver_into(client, out);
            }
            if client.reply_allowed() {
                reply.encode(client.resp, out);
            }
            if client.close_after_reply {
                return Flow::Close;
            }
        }
    }
    Flow::Next
}

/// After MONITOR: stream every command the server runs until the client
/// quits or goes away.
async fn monitor_mode(
    stream: &mut Stream,
    mut feed: futures_channel::mpsc::UnboundedReceiver<Vec<u8>>,
) {
    use futures_lite::StreamExt;
    enum Event {
        Input(usize),
        Line(Option<Vec<u8>>),
    }
    let mut buf = vec![0u8; 4096];
    loop {
        let input = async { Event::Input(stream.read(&mut buf).await.unwrap_or(0)) };
        let line = async { Event::Line(feed.next().await) };
        match futures_lite::future::or(input, line).await {
            Event::Input(0) | Event::Line(None) => return,
            Event::Input(n) => {
                if let Ok(Some((args, _))) = parse_command(&buf[..n]) {
                    if args
                        .first()
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"quit"))
                    {
                        let _ = stream.send(b"+OK\r\n").await;
                        return;
                    }
                }
            }
            Event::Line(Some(l)) => {
                if stream.send(&l).await.is_err() {
                    return;
                }
            }
        }
    }
}
