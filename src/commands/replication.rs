//! What a replication or cluster client asks of a standalone server: ROLE
//! (always a master without replicas), WAIT (no replica ever acknowledges:
//! it answers 0 when its timeout passes), REPLICAOF/SLAVEOF NO ONE, and
//! CLUSTER, READONLY and READWRITE with Redis's "cluster support disabled"
//! error, so client libraries that probe for them behave as against a
//! standalone redis-server. DiskDB does not replicate: REPLICAOF with a
//! host is refused.

use super::{cmd, lower, unknown_subcommand, Args, BoxFuture, Command, Exec::*};
use crate::protocol::Reply;
use crate::server::client::{Client, Unblock};
use crate::util::num::parse_i64;
use std::time::Duration;

/// The replication and cluster stand-ins.
pub static COMMANDS: &[Command] = &[
    cmd(
        "role",
        1,
        "noscript loading stale fast",
        (0, 0, 0),
        "server",
        Conn(role),
    ),
    cmd("wait", 3, "noscript", (0, 0, 0), "generic", Coord(wait)),
    cmd(
        "replicaof",
        3,
        "admin noscript stale no_async_loading",
        (0, 0, 0),
        "server",
        Conn(replicaof),
    ),
    cmd(
        "slaveof",
        3,
        "admin noscript stale no_async_loading",
        (0, 0, 0),
        "server",
        Conn(replicaof),
    ),
    cmd(
        "readonly",
        1,
        "loading stale fast",
        (0, 0, 0),
        "cluster",
        Conn(no_cluster),
    ),
    cmd(
        "readwrite",
        1,
        "loading stale fast",
        (0, 0, 0),
        "cluster",
        Conn(no_cluster),
    ),
    cmd("cluster", -2, "", (0, 0, 0), "cluster", Conn(cluster)),
    cmd("asking", 1, "fast", (0, 0, 0), "cluster", Conn(no_cluster)),
];

/// CLUSTER's subcommands with their arities (CLUSTER counted, Redis's
/// convention: negative is a minimum); each answers that cluster support
/// is disabled.
const CLUSTER_SUBCOMMANDS: &[(&str, i32)] = &[
    ("addslots", -3),
    ("addslotsrange", -4),
    ("bumpepoch", 2),
    ("count-failure-reports", 3),
    ("countkeysinslot", 3),
    ("delslots", -3),
    ("delslotsrange", -4),
    ("failover", -2),
    ("flushslots", 2),
    ("forget", 3),
    ("getkeysinslot", 4),
    ("help", 2),
    ("info", 2),
    ("keyslot", 3),
    ("links", 2),
    ("meet", -4),
    ("myid", 2),
    ("nodes", 2),
    ("replicas", 3),
    ("replicate", 3),
    ("reset", -2),
    ("saveconfig", 2),
    ("set-config-epoch", 3),
    ("setslot", -4),
    ("shards", 2),
    ("slaves", 3),
    ("slots", 2),
];

fn no_cluster(_c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::err("ERR This instance has cluster support disabled")
}

fn cluster(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let sub = lower(&a[1]);
    let Some(&(name, arity)) = CLUSTER_SUBCOMMANDS.iter().find(|(n, _)| *n == sub) else {
        return unknown_subcommand(a);
    };
    let n = a.len() as i32;
    if (arity >= 0 && n != arity) || (arity < 0 && n < -arity) {
        return super::arity_error(&format!("cluster|{name}"));
    }
    no_cluster(c, a)
}

/// ROLE: a master at replication offset 0, with no replicas.
fn role(_c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Int(0),
        Reply::Array(Vec::new()),
    ])
}

/// REPLICAOF NO ONE (already a master): OK. A host and port: refused
/// (after Redis's check of the port).
fn replicaof(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if lower(&a[1]) == "no" && lower(&a[2]) == "one" {
        return Reply::ok();
    }
    if !parse_i64(&a[2]).is_some_and(|p| (0..=65535).contains(&p)) {
        return Reply::err("ERR Invalid master port");
    }
    Reply::err("ERR DiskDB does not replicate: REPLICAOF only accepts NO ONE")
}

/// WAIT numreplicas timeout: the number of replicas that acknowledged (0).
/// Asking for none answers at once, as does WAIT inside MULTI; otherwise
/// it blocks until the timeout (0: forever) or CLIENT UNBLOCK.
fn wait(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let Some(wanted) = parse_i64(&a[1]) else {
            return super::not_integer();
        };
        let timeout = match parse_i64(&a[2]) {
            None => return Reply::err("ERR timeout is not an integer or out of range"),
            Some(t) if t < 0 => return Reply::err("ERR timeout is negative"),
            Some(t) => t as u64,
        };
        if wanted <= 0 || c.tx.is_some() {
            return Reply::Int(0);
        }
        let handle = c.handle.clone();
        handle.set_blocked(true);
        let timer = async {
            match timeout {
                0 => std::future::pending().await,
                ms => glommio::timer::sleep(Duration::from_millis(ms)).await,
            }
            Unblock::Timeout
        };
        let ended = futures_lite::future::or(timer, handle.wait_unblocked()).await;
        handle.set_blocked(false);
        match ended {
            Unblock::Timeout => Reply::Int(0),
            Unblock::Error => Reply::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        }
    })
}
