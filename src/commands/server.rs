//! Connection and server commands: PING, HELLO, SELECT, CLIENT, COMMAND,
//! CONFIG, INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN.

use super::{
    all_commands, arity_error, cmd, lookup, lower, on_every_shard, syntax_error,
    unknown_subcommand, Args, BoxFuture, Command, Exec::*, Merge,
};
use crate::config::registry;
use crate::data_types::Db;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::util::num::parse_i64;
use std::sync::atomic::Ordering;

/// Version reported to clients, for compatibility checks.
pub const REDIS_VERSION: &str = "7.0.15";

/// The server/connection family.
pub static COMMANDS: &[Command] = &[
    cmd("ping", -1, "fast", (0, 0, 0), "connection", Conn(ping)),
    cmd("echo", 2, "fast", (0, 0, 0), "connection", Conn(echo)),
    cmd(
        "hello",
        -1,
        "noscript loading stale fast no_auth",
        (0, 0, 0),
        "connection",
        Conn(hello),
    ),
    cmd(
        "quit",
        -1,
        "allow_busy noscript loading stale fast no_auth",
        (0, 0, 0),
        "connection",
        Conn(quit),
    ),
    cmd(
        "select",
        2,
        "loading stale fast",
        (0, 0, 0),
        "connection",
        Conn(select),
    ),
    cmd(
        "client",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        "connection",
        Conn(super::client::client),
    ),
    cmd(
        "command",
        -1,
        "loading stale",
        (0, 0, 0),
        "server",
        Conn(command),
    ),
    cmd(
        "config",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        "server",
        Coord(config),
    ),
    cmd(
        "info",
        -1,
        "loading stale",
        (0, 0, 0),
        "server",
        Coord(super::info::info),
    ),
    cmd(
        "dbsize",
        1,
        "readonly fast",
        (0, 0, 0),
        "server",
        Coord(dbsize),
    ),
    cmd(
        "flushdb",
        -1,
        "write",
        (0, 0, 0),
        "server",
        Broadcast(flushdb, Merge::Ok),
    ),
    cmd(
        "flushall",
        -1,
        "write",
        (0, 0, 0),
        "server",
        Broadcast(flushall, Merge::Ok),
    ),
    cmd(
        "time",
        1,
        "loading stale fast",
        (0, 0, 0),
        "server",
        Conn(time),
    ),
    cmd(
        "shutdown",
        -1,
        "admin noscript loading stale",
        (0, 0, 0),
        "server",
        Conn(shutdown),
    ),
];

fn sub_arity_error(a: &[Vec<u8>]) -> Reply {
    arity_error(&format!("{}|{}", lower(&a[0]), lower(&a[1])))
}

fn ping(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() <= 2 && c.resp == 2 && crate::server::subscriber::subscribed(c) {
        // subscribe mode: an array, like a message
        let arg = a.get(1).cloned().unwrap_or_default();
        return Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(arg)]);
    }
    match a.len() {
        1 => Reply::Simple("PONG".into()),
        2 => Reply::Bulk(a[1].clone()),
        _ => arity_error("ping"),
    }
}

fn echo(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    Reply::Bulk(a[1].clone())
}

fn quit(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    c.close_after_reply = true;
    Reply::ok()
}

fn hello(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let mut resp = c.resp;
    if a.len() >= 2 {
        match parse_i64(&a[1]) {
            Some(v @ 2..=3) => resp = v as u8,
            Some(_) => return Reply::err("NOPROTO unsupported protocol version"),
            None => return Reply::err("ERR Protocol version is not an integer or out of range"),
        }
        let mut i = 2;
        while i < a.len() {
            match lower(&a[i]).as_str() {
                "auth" if i + 2 < a.len() => {
                    if let Err(e) = super::auth::login(c, &a[i + 1], &a[i + 2]) {
                        return e;
                    }
                    i += 3;
                }
                "setname" if i + 1 < a.len() => {
                    if let Err(e) = super::client::set_name(c, &a[i + 1]) {
                        return e;
                    }
                    i += 2;
                }
                _ => {
                    return Reply::err(format!(
                        "ERR Syntax error in HELLO option '{}'",
                        String::from_utf8_lossy(&a[i])
                    ))
                }
            }
        }
    }
    if !c.authenticated {
        return Reply::err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    c.set_resp(resp);
    let kv = |k: &str, v: Reply| (Reply::bulk(k), v);
    Reply::Map(vec![
        kv("server", Reply::bulk("redis")),
        kv("version", Reply::bulk(REDIS_VERSION)),
        kv("proto", Reply::Int(c.resp as i64)),
        kv("id", Reply::Int(c.handle.id as i64)),
        kv("mode", Reply::bulk("standalone")),
        kv("role", Reply::bulk("master")),
        kv("modules", Reply::Array(vec![])),
    ])
}

fn select(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    match super::parse_db_index(&a[1]) {
        Ok(n) => {
            c.select(n);
            Reply::ok()
        }
        Err(e) => e,
    }
}

fn time(_c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Reply::Array(vec![
        Reply::bulk(now.as_secs().to_string()),
        Reply::bulk(now.subsec_micros().to_string()),
    ])
}

fn shutdown(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    for opt in &a[1..] {
        if !matches!(
            lower(opt).as_str(),
            "nosave" | "save" | "now" | "force" | "abort"
        ) {
            return syntax_error();
        }
    }
    log::warn!("SHUTDOWN requested by a client");
    // SAFETY: sending ourselves SIGTERM runs the normal clean shutdown path.
    unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    Reply::ok()
}

fn command_info(c: &Command) -> Reply {
    let flags = c
        .flags
        .split(' ')
        .filter(|f| !f.is_empty())
        .map(|f| Reply::Simple(f.into()))
        .collect();
    let key_specs = if c.first_key > 0 {
        vec![Reply::Map(vec![
            (
                Reply::bulk("begin_search"),
                Reply::Map(vec![
                    (Reply::bulk("type"), Reply::bulk("index")),
                    (
                        Reply::bulk("spec"),
                        Reply::Map(vec![(Reply::bulk("index"), Reply::Int(c.first_key as i64))]),
                    ),
                ]),
            ),
            (
                Reply::bulk("find_keys"),
                Reply::Map(vec![
                    (Reply::bulk("type"), Reply::bulk("range")),
                    (
                        Reply::bulk("spec"),
                        Reply::Map(vec![
                            (
                                Reply::bulk("lastkey"),
                                Reply::Int(if c.last_key < 0 {
                                    c.last_key as i64
                                } else {
                                    (c.last_key - c.first_key) as i64
                                }),
                            ),
                            (Reply::bulk("keystep"), Reply::Int(c.step as i64)),
                            (Reply::bulk("limit"), Reply::Int(0)),
                        ]),
                    ),
                ]),
            ),
        ])]
    } else {
        vec![]
    };
    Reply::Array(vec![
        Reply::bulk(c.name),
        Reply::Int(c.arity as i64),
        Reply::Set(flags),
        Reply::Int(c.first_key as i64),
        Reply::Int(c.last_key as i64),
        Reply::Int(c.step as i64),
        Reply::Set(
            crate::config::acl::category_names(c)
                .into_iter()
                .map(Reply::Simple)
                .collect(),
        ),
        Reply::Set(vec![]),
        Reply::Array(key_specs),
        Reply::Array(vec![]),
    ])
}

fn command_docs(c: &Command) -> Reply {
    Reply::Map(vec![
        (
            Reply::bulk("summary"),
            Reply::bulk(format!("{} command ({})", c.name.to_uppercase(), c.group)),
        ),
        (Reply::bulk("since"), Reply::bulk("1.0.0")),
        (Reply::bulk("group"), Reply::bulk(c.group)),
    ])
}

fn command(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() == 1 {
        return Reply::Array(all_commands().map(command_info).collect());
    }
    let names = || a[2..].iter().filter_map(|n| lookup(n));
    match lower(&a[1]).as_str() {
        "count" if a.len() == 2 => Reply::Int(all_commands().count() as i64),
        "list" => Reply::Array(all_commands().map(|c| Reply::bulk(c.name)).collect()),
        "info" if a.len() == 2 => Reply::Array(all_commands().map(command_info).collect()),
        "info" => Reply::Array(
            a[2..]
                .iter()
                .map(|n| lookup(n).map_or(Reply::NilArray, command_info))
                .collect(),
        ),
        "docs" if a.len() == 2 => Reply::Map(
            all_commands()
                .map(|c| (Reply::bulk(c.name), command_docs(c)))
                .collect(),
        ),
        "docs" => Reply::Map(
            names()
                .map(|c| (Reply::bulk(c.name), command_docs(c)))
                .collect(),
        ),
        "getkeys" if a.len() >= 3 => {
            let Some(c) = lookup(&a[2]) else {
                return Reply::err("ERR Invalid command specified");
            };
            let args = &a[2..];
            if !c.arity_ok(args.len()) {
                return Reply::err("ERR Invalid number of arguments specified for command");
            }
            // movable keys too (ZUNIONSTORE's numkeys, SORT's STORE, …)
            let keys: Vec<_> = super::transactions::keys_of(c, args)
                .into_iter()
                .map(Reply::Bulk)
                .collect();
            if keys.is_empty() {
                return Reply::err("ERR The command has no key arguments");
            }
            Reply::Array(keys)
        }
        "count" | "getkeys" => sub_arity_error(a),
        _ => unknown_subcommand(a),
    }
}

fn config(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let cfg = c.server.config.clone();
        match lower(&a[1]).as_str() {
            "get" if a.len() >= 3 => {
                let pairs = registry::get_matching(&cfg, &a[2..]);
                Reply::Map(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
                        .collect(),
                )
            }
            "set" if a.len() >= 4 && a.len().is_multiple_of(2) => {
                for kv in a[2..].chunks(2) {
                    let (k, v) = (
                        String::from_utf8_lossy(&kv[0]),
                        String::from_utf8_lossy(&kv[1]),
                    );
                    if let Err(e) = registry::set(&cfg, &k, &v) {
                        return Reply::err(e);
                    }
                }
                Reply::ok()
            }
            "resetstat" if a.len() == 2 => {
                on_every_shard(c, |db| {
                    let s = &db.shard.stats;
                    for cell in [
                        &s.commands,
                        &s.keyspace_hits,
                        &s.keyspace_misses,
                        &s.expired_keys,
                        &s.write_stalls,
                        &s.wal_syncs,
                        &s.net_input_bytes,
                        &s.net_output_bytes,
                        &s.peer_reads,
                        &s.peer_hot_hits,
                        &s.owner_replies,
                    ] {
                        cell.set(0);
                    }
                    db.shard.observe.borrow_mut().reset_stats();
                })
                .await;
                c.server.total_connections.store(0, Ordering::Relaxed);
                c.server.rejected_connections.store(0, Ordering::Relaxed);
                c.server.owner_sent_bytes.store(0, Ordering::Relaxed);
                Reply::ok()
            }
            "get" | "set" | "resetstat" => sub_arity_error(&a),
            _ => unknown_subcommand(&a),
        }
    })
}

fn dbsize(c: &mut Client, _a: Args) -> BoxFuture<'_> {
    Box::pin(async move { Reply::Int(super::keys::dbsize(c).await) })
}

fn flush_mode_ok(a: &[Vec<u8>]) -> bool {
    a.len() == 1 || (a.len() == 2 && matches!(lower(&a[1]).as_str(), "async" | "sync"))
}

/// A flush tells every tracking client that every key may have changed
/// (once: the first shard of the broadcast does it).
fn forget_tracked_keys(db: &Db) {
    if let Some(pubsub) = db.shard.pubsub.get().filter(|_| db.shard.id == 0) {
        pubsub.tracking.flush(db.shard.current_client());
    }
}

fn flushdb(db: &Db, a: &[Vec<u8>]) -> Reply {
    if !flush_mode_ok(a) {
        return syntax_error();
    }
    forget_tracked_keys(db);
    match db.flush() {
        Ok(()) => Reply::ok(),
        Err(e) => e,
    }
}

fn flushall(db: &Db, a: &[Vec<u8>]) -> Reply {
    if !flush_mode_ok(a) {
        return syntax_error();
    }
    forget_tracked_keys(db);
    match crate::data_types::flush_all(db.shard) {
        Ok(()) => Reply::ok(),
        Err(e) => e,
    }
}
