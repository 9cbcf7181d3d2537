//! ACL: users and their permissions (SETUSER, GETUSER, DELUSER, LIST,
//! USERS, WHOAMI, CAT, GENPASS, LOG, SAVE, LOAD, HELP). The rules and the
//! check itself live in [`crate::config::acl`].

use super::{lower, not_integer, run_subcommand, Command, Exec::*, Subcommand};
use crate::config::acl;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::util::num::parse_i64;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// The ACL family.
pub static COMMANDS: &[Command] = &[super::cmd(
    "acl",
    -2,
    "admin noscript loading stale",
    (0, 0, 0),
    "server",
    Conn(acl_cmd),
)];

const SUBCOMMANDS: &[Subcommand] = &[
    ("cat", -2, cat),
    ("deluser", -3, deluser),
    ("dryrun", -4, dryrun),
    ("genpass", -2, genpass),
    ("getuser", 3, getuser),
    ("help", 2, help),
    ("list", 2, list),
    ("load", 2, load),
    ("log", -2, log),
    ("save", 2, save),
    ("setuser", -3, setuser),
    ("users", 2, users),
    ("whoami", 2, whoami),
];

fn acl_cmd(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    run_subcommand(SUBCOMMANDS, c, a)
}

fn users_of(c: &Client) -> &acl::Users {
    &c.server.config.runtime.users
}

fn setuser(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&a[2]).into_owned();
    if name.contains(' ') || name.contains('\0') {
        return Reply::err("ERR Usernames can't contain spaces or null characters");
    }
    match users_of(c).set_user(&name, &a[3..]) {
        Ok(()) => Reply::ok(),
        Err((rule, why)) => Reply::err(format!(
            "ERR Error in ACL SETUSER modifier '{}': {why}",
            String::from_utf8_lossy(&rule)
        )),
    }
}

fn getuser(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let Some(u) = users_of(c).get(&String::from_utf8_lossy(&a[2])) else {
        return Reply::Nil;
    };
    let kv = |k: &str, v: Reply| (Reply::bulk(k), v);
    let mut flags = vec![Reply::bulk(if u.enabled { "on" } else { "off" })];
    let line = u.describe();
    // the flags are the words after `user <name>` up to the first password or rule
    flags.extend(
        line.split(' ')
            .skip(3)
            .take_while(|w| matches!(*w, "nopass" | "sanitize-payload" | "skip-sanitize-payload"))
            .map(Reply::bulk),
    );
    Reply::Map(vec![
        kv("flags", Reply::Array(flags)),
        kv(
            "passwords",
            Reply::Array(u.password_hashes().into_iter().map(Reply::bulk).collect()),
        ),
        kv("commands", Reply::bulk(u.commands_text())),
        kv("keys", Reply::bulk(u.keys_text())),
        kv("channels", Reply::bulk(u.channels_text())),
        kv("selectors", Reply::Array(vec![])),
    ])
}

fn deluser(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let names: Vec<String> = a[2..]
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    if names.iter().any(|n| n == "default") {
        return Reply::err("ERR The 'default' user cannot be removed");
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Reply::Int(users_of(c).delete(&refs) as i64)
}

fn dryrun(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&a[2]);
    let Some(u) = users_of(c).get(&name) else {
        return Reply::err(format!("ERR User '{name}' not found"));
    };
    let Some(cmd) = super::lookup(&a[3]) else {
        return Reply::err(format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(&a[3])
        ));
    };
    let args = &a[3..];
    if !cmd.arity_ok(args.len()) {
        return super::arity_error(cmd.name);
    }
    match u.check(cmd, args) {
        None => Reply::ok(),
        Some(d) => Reply::bulk(match d.reason {
            "key" => format!(
                "This user has no permissions to access the '{}' key",
                d.object
            ),
            "channel" => format!(
                "This user has no permissions to access the '{}' channel",
                d.object
            ),
            _ => format!(
                "This user has no permissions to run the '{}' command",
                d.object
            ),
        }),
    }
}

fn list(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::Array(
        users_of(c)
            .all()
            .iter()
            .map(|u| Reply::bulk(u.describe()))
            .collect(),
    )
}

fn users(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::Array(
        users_of(c)
            .all()
            .iter()
            .map(|u| Reply::bulk(&u.name))
            .collect(),
    )
}

fn whoami(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::bulk(&c.user.name)
}

fn cat(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() > 3 {
        return super::arity_error("acl|cat");
    }
    let category = a.get(2).map(|c| lower(c));
    match acl::cat(category.as_deref()) {
        Some(names) => Reply::Array(names.into_iter().map(Reply::bulk).collect()),
        None => Reply::err(format!(
            "ERR Unknown category '{}'",
            String::from_utf8_lossy(&a[2])
        )),
    }
}

fn genpass(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() > 3 {
        return super::arity_error("acl|genpass");
    }
    let bits = match a.get(2) {
        None => 256,
        Some(b) => match parse_i64(b) {
            Some(n @ 1..=4096) => n as usize,
            _ => return Reply::err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"),
        },
    };
    let chars = bits.div_ceil(4);
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    if let Err(e) = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
    {
        return Reply::err(format!("ERR cannot read random bytes: {e}"));
    }
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(chars);
    Reply::bulk(hex)
}

fn no_aclfile() -> Reply {
    Reply::err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
}

fn save(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let Some(path) = c.server.config.aclfile.clone() else {
        return no_aclfile();
    };
    match users_of(c).save_file(&path) {
        Ok(()) => Reply::ok(),
        Err(e) => {
            log::warn!("ACL SAVE failed: {e}");
            Reply::err("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
        }
    }
}

fn load(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    let Some(path) = c.server.config.aclfile.clone() else {
        return no_aclfile();
    };
    match users_of(c).load_file(&path) {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::err(format!("ERR {e}")),
    }
}

fn help(_c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    const LINES: &[&str] = &[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::Simple(l.to_string())).collect())
}

/// One ACL LOG entry; repeats of the same denial within a minute are counted.
struct Entry {
    count: u64,
    reason: &'static str,
    context: &'static str,
    object: String,
    username: String,
    at: Instant,
    client_info: String,
}

/// Entries kept (Redis's `acllog-max-len` default).
const LOG_MAX: usize = 128;

static LOG: Mutex<VecDeque<Entry>> = Mutex::new(VecDeque::new());

/// Records a denial in ACL LOG (newest first).
fn record(c: &Client, reason: &'static str, object: String, username: String) {
    let context = if c.multi.is_some() {
        "multi"
    } else {
        "toplevel"
    };
    let client_info = c.handle.info_line();
    let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    let same = log.iter().position(|e| {
        e.reason == reason
            && e.context == context
            && e.object == object
            && e.username == username
            && e.at.elapsed().as_secs() < 60
    });
    let mut entry = match same.and_then(|i| log.remove(i)) {
        Some(mut e) => {
            e.count += 1;
            e
        }
        None => Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            at: Instant::now(),
            client_info: String::new(),
        },
    };
    entry.at = Instant::now();
    entry.client_info = client_info;
    log.push_front(entry);
    log.truncate(LOG_MAX);
}

/// Records a failed AUTH of `user` in ACL LOG.
pub fn record_auth_failure(c: &Client, user: &[u8]) {
    record(
        c,
        "auth",
        "auth".into(),
        String::from_utf8_lossy(user).into_owned(),
    );
}

/// The reply to a command the client's user may not run, logged in ACL
/// LOG. A refused EXEC discards the transaction, as in Redis.
pub fn denied(c: &mut Client, cmd: &Command, d: acl::Denial) -> Reply {
    record(c, d.reason, d.object, c.user.name.clone());
    if cmd.name == "exec" {
        if c.multi.take().is_some() {
            c.multi_error = false;
            super::transactions::unwatch_all(c);
        }
        return Reply::err(format!(
            "EXECABORT Transaction discarded because of: {}",
            d.message
        ));
    }
    Reply::err(d.message)
}

fn log(_c: &mut Client, a: &[Vec<u8>]) -> Reply {
    if a.len() > 3 {
        return super::arity_error("acl|log");
    }
    let mut count = usize::MAX;
    if let Some(arg) = a.get(2) {
        if lower(arg) == "reset" {
            LOG.lock().unwrap_or_else(|e| e.into_inner()).clear();
            return Reply::ok();
        }
        match parse_i64(arg) {
            Some(n) if n >= 0 => count = n as usize,
            _ => return not_integer(),
        }
    }
    let log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    let kv = |k: &str, v: Reply| (Reply::bulk(k), v);
    Reply::Array(
        log.iter()
            .take(count)
            .map(|e| {
                Reply::Map(vec![
                    kv("count", Reply::Int(e.count as i64)),
                    kv("reason", Reply::bulk(e.reason)),
                    kv("context", Reply::bulk(e.context)),
                    kv("object", Reply::bulk(&e.object)),
                    kv("username", Reply::bulk(&e.username)),
                    kv(
                        "age-seconds",
                        Reply::Double(e.at.elapsed().as_millis() as f64 / 1000.0),
                    ),
                    kv("client-info", Reply::bulk(&e.client_info)),
                ])
            })
            .collect(),
    )
}
