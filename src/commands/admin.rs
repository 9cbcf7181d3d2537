//! Operator commands: MONITOR, SLOWLOG, LATENCY, MEMORY, DEBUG.

use super::strings::tri;
use super::{
    arity_error, cmd, lower, not_integer, on_every_shard, on_owner, unknown_subcommand, Args,
    BoxFuture, Command, Exec::*,
};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::observe::{LatencyEvent, SlowEntry};
use crate::storage::Cf;
use crate::util::num::{parse_f64, parse_i64};
use std::collections::HashMap;

/// The admin family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "monitor",
        1,
        "admin noscript loading stale",
        (0, 0, 0),
        "server",
        Conn(monitor),
    ),
    cmd(
        "slowlog",
        -2,
        "admin loading stale",
        (0, 0, 0),
        "server",
        Coord(slowlog),
    ),
    cmd(
        "latency",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        "server",
        Coord(latency),
    ),
    cmd("memory", -2, "readonly", (2, 2, 1), "server", Coord(memory)),
    cmd(
        "debug",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        "server",
        Coord(debug),
    ),
];

fn help(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Simple(l.to_string())).collect())
}

fn monitor(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let (tx, rx) = futures_channel::mpsc::unbounded();
    c.server.add_monitor(c.handle.id, tx);
    c.monitor = Some(rx);
    Reply::ok()
}

fn slowlog(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let sub = lower(&a[1]);
        match (sub.as_str(), a.len()) {
            ("get", 2 | 3) => {
                let count = match a.get(2).map(|n| parse_i64(n)) {
                    None => 10,
                    Some(Some(n)) if n >= -1 => n,
                    Some(_) => {
                        return Reply::err("ERR count should be greater than or equal to -1")
                    }
                };
                let mut all: Vec<SlowEntry> = on_every_shard(c, |db| {
                    db.shard
                        .observe
                        .borrow()
                        .slowlog
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .await
                .into_iter()
                .flatten()
                .collect();
                all.sort_by_key(|e| std::cmp::Reverse(e.id));
                if count >= 0 {
                    all.truncate(count as usize);
                }
                Reply::Array(
                    all.into_iter()
                        .map(|e| {
                            Reply::Array(vec![
                                Reply::Int(e.id as i64),
                                Reply::Int(e.time as i64),
                                Reply::Int(e.usec as i64),
                                Reply::bulks(e.args),
                                Reply::bulk(e.addr),
                                Reply::bulk(e.name),
                            ])
                        })
                        .collect(),
                )
            }
            ("len", 2) => Reply::Int(
                on_every_shard(c, |db| db.shard.observe.borrow().slowlog.len() as i64)
                    .await
                    .iter()
                    .sum(),
            ),
            ("reset", 2) => {
                on_every_shard(c, |db| db.shard.observe.borrow_mut().slowlog.clear()).await;
                Reply::ok()
            }
            ("help", 2) => help(&[
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "LEN",
                "RESET",
                "HELP",
            ]),
            ("get" | "len" | "reset" | "help", _) => arity_error(&format!("slowlog|{sub}")),
            _ => unknown_subcommand(&a),
        }
    })
}

/// Every shard's latency events merged by name.
async fn latency_events(c: &Client) -> HashMap<&'static str, LatencyEvent> {
    let parts = on_every_shard(c, |db| db.shard.observe.borrow().latency.clone()).await;
    let mut merged: HashMap<&'static str, LatencyEvent> = HashMap::new();
    for part in parts {
        for (name, ev) in part {
            let m = merged.entry(name).or_default();
            m.max_ms = m.max_ms.max(ev.max_ms);
            m.history.extend(ev.history);
            m.history.make_contiguous().sort();
        }
    }
    merged
}

fn latency(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let sub = lower(&a[1]);
        match sub.as_str() {
            "latest" => {
                let events = latency_events(c).await;
                Reply::Array(
                    events
                        .iter()
                        .filter_map(|(name, e)| {
                            let &(t, ms) = e.history.back()?;
                            Some(Reply::Array(vec![
                                Reply::bulk(*name),
                                Reply::Int(t as i64),
                                Reply::Int(ms as i64),
                                Reply::Int(e.max_ms as i64),
                            ]))
                        })
                        .collect(),
                )
            }
            "history" if a.len() == 3 => {
                let events = latency_events(c).await;
                let name = String::from_utf8_lossy(&a[2]).into_owned();
                let history = events
                    .get(name.as_str())
                    .map(|e| e.history.clone())
                    .unwrap_or_default();
                Reply::Array(
                    history
                        .into_iter()
                        .map(|(t, ms)| {
                            Reply::Array(vec![Reply::Int(t as i64), Reply::Int(ms as i64)])
                        })
                        .collect(),
                )
            }
            "reset" => {
                let names: Vec<String> = a[2..]
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect();
                let counts = on_every_shard(c, move |db| {
                    let mut obs = db.shard.observe.borrow_mut();
                    let before = obs.latency.len();
                    if names.is_empty() {
                        obs.latency.clear();
                    } else {
                        obs.latency.retain(|k, _| !names.iter().any(|n| n == k));
                    }
                    (before - obs.latency.len()) as i64
                })
                .await;
                Reply::Int(counts.into_iter().max().unwrap_or(0))
            }
            "doctor" => {
                let events = latency_events(c).await;
                let threshold = c
                    .server
                    .config
                    .runtime
                    .latency_monitor_threshold
                    .load(std::sync::atomic::Ordering::Relaxed);
                let text = if threshold == 0 {
                    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this DiskDB instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n".to_string()
                } else if events.is_empty() {
                    "Dave, no latency spike was observed during the lifetime of this DiskDB instance, not in the slightest bit.\n".to_string()
                } else {
                    events
                        .iter()
                        .map(|(n, e)| {
                            format!(
                                "{n}: {} latency spikes (max {} ms, threshold {threshold} ms)\n",
                                e.history.len(),
                                e.max_ms
                            )
                        })
                        .collect()
                };
                Reply::Verbatim(text)
            }
            "help" => help(&[
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR",
                "LATEST",
                "HISTORY <event>",
                "RESET [<event> ...]",
                "HELP",
            ]),
            "history" => arity_error("latency|history"),
            _ => unknown_subcommand(&a),
        }
    })
}

fn memory(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let sub = lower(&a[1]);
        match sub.as_str() {
            "usage" if a.len() == 3 || a.len() == 5 => {
                let samples = match a.get(3).map(|o| lower(o)) {
                    None => 5,
                    Some(o) if o == "samples" => match parse_i64(&a[4]) {
                        Some(n) if n >= 0 => n as usize,
                        _ => return not_integer(),
                    },
                    Some(_) => return super::syntax_error(),
                };
                let key = a[2].clone();
                on_owner(c, &a[2], move |db| {
                    let Some(meta) = tri!(db.lookup(&key)) else {
                        return Reply::Nil;
                    };
                    let base = (key.len() + meta.encode().len() + 48) as i64;
                    if !meta.kind.is_collection() || meta.size == 0 {
                        return Reply::Int(base);
                    }
                    let Some(col) = tri!(db.open_collection(&key, meta.kind)) else {
                        return Reply::Nil;
                    };
                    let limit = if samples == 0 { usize::MAX } else { samples };
                    let (mut bytes, mut seen) = (0usize, 0usize);
                    db.iter_sub(Cf::Data, &col, None, false, |k, v| {
                        bytes += k.len() + v.len() + 32;
                        seen += 1;
                        seen < limit
                    });
                    let per = bytes.checked_div(seen).unwrap_or(0);
                    Reply::Int(base + (per as u64 * meta.size) as i64)
                })
                .await
            }
            "usage" => arity_error("memory|usage"),
            "help" => help(&[
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "USAGE <key> [SAMPLES <count>]",
                "HELP",
            ]),
            _ => unknown_subcommand(&a),
        }
    })
}

fn debug_allowed(c: &Client) -> bool {
    match c.server.config.enable_debug_command.as_str() {
        "yes" => true,
        "local" => c.handle.addr.starts_with("127.") || c.handle.addr.starts_with("[::1]"),
        _ => false,
    }
}

fn debug(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if !debug_allowed(c) {
            return Reply::err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        }
        match (lower(&a[1]).as_str(), a.len()) {
            ("sleep", 3) => {
                let Some(secs) = parse_f64(&a[2]).filter(|s| *s >= 0.0) else {
                    return Reply::err("ERR value is not a valid float");
                };
                glommio::timer::sleep(std::time::Duration::from_secs_f64(secs)).await;
                Reply::ok()
            }
            ("object", 3) => {
                let key = a[2].clone();
                on_owner(c, &a[2], move |db| match tri!(db.lookup(&key)) {
                    None => Reply::err("ERR no such key"),
                    Some(m) => Reply::Simple(format!(
                        "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:0 lru_seconds_idle:0 type:{} size:{} version:{}",
                        super::keys::encoding_of(&m),
                        m.encode().len(),
                        m.kind.type_name(),
                        m.size,
                        m.version
                    )),
                })
                .await
            }
            ("help", 2) => help(&[
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "OBJECT <key>",
                "SLEEP <seconds>",
                "HELP",
            ]),
            _ => unknown_subcommand(&a),
        }
    })
}
