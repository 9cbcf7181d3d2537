//! CLIENT and its subcommands, dispatched through a subcommand table.

use super::{lower, run_subcommand, syntax_error, Subcommand};
use crate::protocol::Reply;
use crate::server::client::{Client, ClientHandle, Unblock, TRACKING_BCAST, TRACKING_ON};
use crate::shard::tracking::Mode;
use crate::util::num::parse_i64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// CLIENT's subcommands: (name, arity counting CLIENT itself, handler).
static SUBCOMMANDS: &[Subcommand] = &[
    ("id", 2, |c, _| Reply::Int(c.handle.id as i64)),
    ("getname", 2, getname),
    ("setname", 3, |c, a| {
        set_name(c, &a[2]).map_or_else(|e| e, |_| Reply::ok())
    }),
    ("info", 2, |c, _| {
        Reply::Verbatim(format!("{}\n", c.handle.info_line()))
    }),
    ("list", -2, list),
    ("setinfo", 4, setinfo),
    ("kill", -3, kill_matching),
    ("pause", -3, pause),
    ("unpause", 2, |c, _| {
        c.server.pause_until_ms.store(0, Ordering::Relaxed);
        Reply::ok()
    }),
    ("no-evict", 3, |_, a| match lower(&a[2]).as_str() {
        "on" | "off" => Reply::ok(),
        _ => syntax_error(),
    }),
    ("reply", 3, reply),
    ("unblock", -3, unblock),
    ("tracking", -3, tracking),
    ("caching", 3, caching),
    ("getredir", 2, |c, _| {
        Reply::Int(c.tracking.as_ref().map_or(-1, |m| m.redirect as i64))
    }),
    ("trackinginfo", 2, trackinginfo),
    ("help", 2, help),
];

/// CLIENT <subcommand> …
pub fn client(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    run_subcommand(SUBCOMMANDS, c, a)
}

/// Sets the client's name (CLIENT SETNAME, HELLO SETNAME).
pub fn set_name(c: &mut Client, name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(Reply::err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *c.handle.name.lock().unwrap() = String::from_utf8_lossy(name).into_owned();
    Ok(())
}

fn getname(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let n = c.handle.name.lock().unwrap().clone();
    if n.is_empty() {
        Reply::Nil
    } else {
        Reply::bulk(n)
    }
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if that client was blocked.
fn unblock(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() > 4 {
        return Reply::err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&a[1])
        ));
    }
    let how = match a.get(3).map(|m| lower(m)).as_deref() {
        None | Some("timeout") => Unblock::Timeout,
        Some("error") => Unblock::Error,
        _ => return Reply::err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let Some(id) = parse_i64(&a[2]) else {
        return super::not_integer();
    };
    let target = c.server.clients.lock().unwrap().get(&(id as u64)).cloned();
    Reply::Int(target.is_some_and(|h| h.unblock(how)) as i64)
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN]
/// [OPTOUT] [NOLOOP], checked as Redis checks it (`shard::tracking`).
fn tracking(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let mut mode = Mode::default();
    let mut i = 3;
    while i < a.len() {
        let more = i + 1 < a.len();
        match lower(&a[i]).as_str() {
            "redirect" if more => {
                if mode.redirect != 0 {
                    return Reply::err("ERR A client can only redirect to a single other client");
                }
                let Some(id) = parse_i64(&a[i + 1]) else {
                    return super::not_integer();
                };
                if !c.server.clients.lock().unwrap().contains_key(&(id as u64)) {
                    return Reply::err("ERR The client ID you want redirect to does not exist");
                }
                mode.redirect = id as u64;
                i += 1;
            }
            "prefix" if more => {
                mode.prefixes.push(a[i + 1].clone());
                i += 1;
            }
            "bcast" => mode.bcast = true,
            "optin" => mode.optin = true,
            "optout" => mode.optout = true,
            "noloop" => mode.noloop = true,
            _ => return syntax_error(),
        }
        i += 1;
    }
    match lower(&a[2]).as_str() {
        "on" => {}
        "off" => {
            if c.tracking.take().is_some() {
                c.server.pubsub.tracking.disable(c.handle.id);
                c.handle.tracking.store(0, Ordering::Relaxed);
            }
            return Reply::ok();
        }
        _ => return syntax_error(),
    }
    if let Some(e) = tracking_conflict(c.tracking.as_ref(), &mode) {
        return Reply::err(e);
    }
    if mode.bcast {
        // BCAST without PREFIX follows every key: the empty prefix; and a
        // client's prefixes add up until tracking goes off
        if mode.prefixes.is_empty() {
            mode.prefixes.push(Vec::new());
        }
        if let Some(old) = &c.tracking {
            mode.prefixes.extend(old.prefixes.iter().cloned());
        }
        // in byte order, as TRACKINGINFO lists them
        mode.prefixes.sort();
        mode.prefixes.dedup();
    }
    let outbox = crate::server::subscriber::outbox(c);
    c.server
        .pubsub
        .tracking
        .enable(c.handle.id, mode.clone(), outbox);
    let bcast = if mode.bcast { TRACKING_BCAST } else { 0 };
    c.handle
        .tracking
        .store(TRACKING_ON | bcast, Ordering::Relaxed);
    c.handle
        .tracking_redirect
        .store(mode.redirect, Ordering::Relaxed);
    c.tracking = Some(mode);
    Reply::ok()
}

/// Why CLIENT TRACKING ON with `new` options is refused, given the options
/// in force (`old`), in Redis's order of checks.
fn tracking_conflict(old: Option<&Mode>, new: &Mode) -> Option<String> {
    if !new.bcast && !new.prefixes.is_empty() {
        return Some("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if old.is_some_and(|o| o.bcast != new.bcast) {
        return Some("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if new.bcast && (new.optin || new.optout) {
        return Some("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if new.optin && new.optout {
        return Some("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if old.is_some_and(|o| (new.optin && o.optout) || (new.optout && o.optin)) {
        return Some("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    let p = &new.prefixes;
    let overlap = |x: &[u8], y: &[u8]| x.starts_with(y) || y.starts_with(x);
    for (i, x) in p.iter().enumerate() {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if let Some(y) = old
            .into_iter()
            .flat_map(|o| &o.prefixes)
            .find(|y| overlap(x, y))
        {
            return Some(format!("ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.", text(x), text(y)));
        }
        if let Some(y) = p[i + 1..].iter().find(|y| overlap(x, y)) {
            return Some(format!("ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.", text(x), text(y)));
        }
    }
    None
}

/// CLIENT CACHING YES|NO: whether the next command's reads are tracked.
fn caching(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let Some(mode) = &c.tracking else {
        return Reply::err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    };
    match lower(&a[2]).as_str() {
        "yes" if mode.optin => c.tracking_caching = true,
        "yes" => {
            return Reply::err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            )
        }
        "no" if mode.optout => c.tracking_caching = true,
        "no" => {
            return Reply::err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            )
        }
        _ => return syntax_error(),
    }
    Reply::ok()
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes.
fn trackinginfo(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let mut flags = Vec::new();
    match &c.tracking {
        None => flags.push("off"),
        Some(m) => {
            flags.push("on");
            let caching = c.tracking_caching;
            for (on, name) in [
                (m.bcast, "bcast"),
                (m.optin, "optin"),
                (m.optin && caching, "caching-yes"),
                (m.optout, "optout"),
                (m.optout && caching, "caching-no"),
                (m.noloop, "noloop"),
                (
                    c.server.pubsub.tracking.broken(c.handle.id),
                    "broken_redirect",
                ),
            ] {
                if on {
                    flags.push(name);
                }
            }
        }
    }
    let prefixes = c
        .tracking
        .as_ref()
        .map_or(Vec::new(), |m| m.prefixes.clone());
    Reply::Map(vec![
        (
            Reply::bulk("flags"),
            Reply::Set(flags.into_iter().map(Reply::bulk).collect()),
        ),
        (
            Reply::bulk("redirect"),
            Reply::Int(c.tracking.as_ref().map_or(-1, |m| m.redirect as i64)),
        ),
        (
            Reply::bulk("prefixes"),
            Reply::Array(prefixes.into_iter().map(Reply::Bulk).collect()),
        ),
    ])
}

/// Remembers the keys a tracking client's read-only command reads
/// (default mode; OPTIN after CLIENT CACHING YES, OPTOUT unless NO).
pub fn track_read(c: &Client, cmd: &super::Command, args: &[Vec<u8>]) {
    let Some(mode) = &c.tracking else { return };
    if mode.bcast || !cmd.has_flag("readonly") || cmd.group == "pubsub" {
        return;
    }
    if (mode.optin && !c.tracking_caching) || (mode.optout && c.tracking_caching) {
        return;
    }
    let keys = super::transactions::keys_of(cmd, args);
    if !keys.is_empty() {
        c.server.pubsub.tracking.remember(c.handle.id, keys);
    }
}

fn all_clients(c: &Client) -> Vec<Arc<ClientHandle>> {
    c.server.clients.lock().unwrap().values().cloned().collect()
}

fn list(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < a.len() {
        match lower(&a[i]).as_str() {
            "type" if i + 1 < a.len() => i += 2,
            "id" if i + 1 < a.len() => {
                let parsed: Option<Vec<u64>> = a[i + 1..]
                    .iter()
                    .map(|x| parse_i64(x).filter(|n| *n > 0).map(|n| n as u64))
                    .collect();
                match parsed {
                    Some(v) => ids = Some(v),
                    None => return Reply::err("ERR Invalid client ID"),
                }
                i = a.len();
            }
            _ => return syntax_error(),
        }
    }
    let text: String = all_clients(c)
        .iter()
        .filter(|h| ids.as_ref().is_none_or(|ids| ids.contains(&h.id)))
        .map(|h| h.info_line() + "\n")
        .collect();
    Reply::Verbatim(text)
}

fn setinfo(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let v = String::from_utf8_lossy(&a[3]).into_owned();
    if v.contains([' ', '\n']) {
        return Reply::err(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            lower(&a[2])
        ));
    }
    let mut lib = c.handle.lib.lock().unwrap();
    match lower(&a[2]).as_str() {
        "lib-name" => lib.0 = v,
        "lib-ver" => lib.1 = v,
        _ => {
            return Reply::err(format!(
                "ERR Unrecognized option '{}'",
                String::from_utf8_lossy(&a[2])
            ))
        }
    }
    Reply::ok()
}

/// Closes a client: another client at once, this one after its reply.
fn kill(c: &mut Client, h: &ClientHandle) {
    if h.id == c.handle.id {
        c.close_after_reply = true;
    } else {
        h.kill();
    }
}

fn kill_matching(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let clients = all_clients(c);
    if a.len() == 3 {
        let addr = String::from_utf8_lossy(&a[2]).into_owned();
        return match clients.iter().find(|h| h.addr == addr) {
            Some(h) => {
                kill(c, h);
                Reply::ok()
            }
            None => Reply::err("ERR No such client"),
        };
    }
    if !a.len().is_multiple_of(2) {
        return syntax_error();
    }
    let (mut id, mut addr, mut laddr, mut skipme) = (None, None, None, true);
    for pair in a[2..].chunks(2) {
        let v = String::from_utf8_lossy(&pair[1]).into_owned();
        match lower(&pair[0]).as_str() {
            "id" => match v.parse::<u64>() {
                Ok(n) if n > 0 => id = Some(n),
                _ => return Reply::err("ERR client-id should be greater than 0"),
            },
            "addr" => addr = Some(v),
            "laddr" => laddr = Some(v),
            "skipme" => match v.to_ascii_lowercase().as_str() {
                "yes" => skipme = true,
                "no" => skipme = false,
                _ => return syntax_error(),
            },
            "type" | "user" | "maxage" => {}
            _ => return syntax_error(),
        }
    }
    let me = c.handle.id;
    let mut n = 0;
    for h in &clients {
        let hit = id.is_none_or(|x| x == h.id)
            && addr.as_ref().is_none_or(|x| *x == h.addr)
            && laddr.as_ref().is_none_or(|x| *x == h.laddr)
            && !(skipme && h.id == me);
        if hit {
            kill(c, h);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn pause(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() > 4 {
        return syntax_error();
    }
    let ms = match parse_i64(&a[2]) {
        Some(ms) if ms >= 0 => ms as u64,
        Some(_) => return Reply::err("ERR timeout is negative"),
        None => return Reply::err("ERR timeout is not an integer or out of range"),
    };
    let writes_only = match a.get(3).map(|m| lower(m)).as_deref() {
        None | Some("all") => false,
        Some("write") => true,
        Some(_) => return syntax_error(),
    };
    c.server
        .pause_writes_only
        .store(writes_only, Ordering::Relaxed);
    c.server
        .pause_until_ms
        .store(crate::util::now_ms() + ms, Ordering::Relaxed);
    Reply::ok()
}

fn reply(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    match lower(&a[2]).as_str() {
        // ends a SKIP too, and is answered (as by redis-server)
        "on" => (c.reply_off, c.reply_skip) = (false, 0),
        "off" => c.reply_off = true,
        // this command's reply and the next one's
        "skip" if !c.reply_off => c.reply_skip = 2,
        "skip" => {}
        _ => return syntax_error(),
    }
    Reply::ok()
}

fn help(_c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::Array(
        [
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ID",
            "GETNAME",
            "SETNAME <name>",
            "INFO",
            "LIST [TYPE <type>] [ID <id> ...]",
            "SETINFO <LIB-NAME|LIB-VER> <value>",
            "KILL <ip:port> | <filter> <value> ...",
            "PAUSE <timeout> [WRITE|ALL]",
            "UNPAUSE",
            "NO-EVICT (ON|OFF)",
            "REPLY (ON|OFF|SKIP)",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT] [NOLOOP]",
            "CACHING (YES|NO)",
            "GETREDIR",
            "TRACKINGINFO",
            "HELP",
        ]
        .iter()
        .map(|s| Reply::Simple(s.to_string()))
        .collect(),
    )
}
