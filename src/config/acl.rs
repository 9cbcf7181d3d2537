//! ACL users: the process-wide user table, the rules ACL SETUSER and the
//! aclfile use (`on`, `>pass`, `~pattern`, `+@category`, …), command
//! categories, the permission check run before every command, and the
//! descriptions ACL LIST / GETUSER print (as Redis 7.0 computes them).

use crate::commands::{all_commands, lookup, Command};
use crate::util::glob::glob_match;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Categories in Redis's order (ACL CAT), then the module category `json`.
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
    "json",
];

fn bit(name: &str) -> u32 {
    1 << CATEGORIES
        .iter()
        .position(|c| *c == name)
        .expect("known category")
}

/// Commands whose categories differ from what their flags and family
/// imply, as in Redis's command table: (command, extra categories).
const EXTRA_CATEGORIES: &[(&str, &[&str])] = &[
    ("keys", &["dangerous"]),
    ("sort", &["dangerous"]),
    ("sort_ro", &["dangerous"]),
    ("flushdb", &["keyspace", "dangerous"]),
    ("flushall", &["keyspace", "dangerous"]),
    ("dbsize", &["keyspace"]),
    ("lastsave", &["admin", "dangerous"]),
    ("command", &["connection"]),
    ("info", &["dangerous"]),
    ("swapdb", &["dangerous"]),
    ("restore", &["dangerous"]),
    ("migrate", &["dangerous"]),
    ("client", &["dangerous"]),
    ("config", &["dangerous"]),
    ("role", &["admin", "dangerous"]),
];

/// Commands filed under other families' categories than their own (SORT
/// is in the generic family but in the categories of what it sorts, WAIT
/// and the cluster family's READONLY/READWRITE under connection).
const FAMILY_CATEGORIES: &[(&str, &[&str])] = &[
    ("sort", &["set", "sortedset", "list"]),
    ("sort_ro", &["set", "sortedset", "list"]),
    ("wait", &["connection"]),
    ("readonly", &["connection"]),
    ("readwrite", &["connection"]),
    ("asking", &["connection"]),
];

/// Subcommands of admin containers that Redis files under milder
/// categories, so that e.g. `+@all -@dangerous` still allows ACL WHOAMI.
const SUBCOMMAND_CATEGORIES: &[(&str, &[&str])] = &[
    ("acl|whoami", &["slow"]),
    ("acl|cat", &["slow"]),
    ("acl|genpass", &["slow"]),
    ("acl|help", &["slow"]),
    ("client|id", &["slow", "connection"]),
    ("client|info", &["slow", "connection"]),
    ("client|getname", &["slow", "connection"]),
    ("client|setname", &["slow", "connection"]),
    ("client|setinfo", &["slow", "connection"]),
    ("client|reply", &["slow", "connection"]),
    ("client|help", &["slow", "connection"]),
];

/// A command's categories as a bit mask over [`CATEGORIES`], derived from
/// its flags and family.
pub fn categories(c: &Command) -> u32 {
    let mut m = 0;
    for (flag, cat) in [
        ("write", "write"),
        ("readonly", "read"),
        ("admin", "admin"),
        ("fast", "fast"),
        ("blocking", "blocking"),
    ] {
        if c.has_flag(flag) {
            m |= bit(cat);
        }
    }
    if !c.has_flag("fast") {
        m |= bit("slow");
    }
    if c.has_flag("admin") {
        m |= bit("dangerous");
    }
    let fam = match c.group {
        "generic" => "keyspace",
        "string" => "string",
        "bitmap" => "bitmap",
        "connection" => "connection",
        "list" => "list",
        "hash" => "hash",
        "set" => "set",
        "sorted-set" => "sortedset",
        "json" => "json",
        "stream" => "stream",
        "pubsub" => "pubsub",
        "transactions" => "transaction",
        "hyperloglog" => "hyperloglog",
        "geo" => "geo",
        "scripting" => "scripting",
        _ => "",
    };
    match FAMILY_CATEGORIES.iter().find(|(n, _)| *n == c.name) {
        Some((_, families)) => families.iter().for_each(|f| m |= bit(f)),
        None if !fam.is_empty() => m |= bit(fam),
        None => {}
    }
    if let Some((_, extra)) = EXTRA_CATEGORIES.iter().find(|(n, _)| *n == c.name) {
        for e in *extra {
            m |= bit(e);
        }
    }
    m
}

/// Category names of a command, `@`-prefixed (COMMAND INFO).
pub fn category_names(c: &Command) -> Vec<String> {
    let m = categories(c);
    CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| m & (1 << i) != 0)
        .map(|(_, n)| format!("@{n}"))
        .collect()
}

/// Commands in a category (every command for `all`).
fn in_category(cat: &str) -> Option<Vec<&'static str>> {
    if cat == "all" {
        return Some(all_commands().map(|c| c.name).collect());
    }
    let b = 1u32 << CATEGORIES.iter().position(|c| *c == cat)?;
    Some(
        all_commands()
            .filter(|c| categories(c) & b != 0)
            .map(|c| c.name)
            .collect(),
    )
}

/// ACL CAT [category]: names of categories or of a category's commands.
pub fn cat(category: Option<&str>) -> Option<Vec<String>> {
    match category {
        None => Some(CATEGORIES.iter().map(|s| s.to_string()).collect()),
        Some("all") => None,
        Some(c) => Some(in_category(c)?.into_iter().map(String::from).collect()),
    }
}

/// SHA-256 of a password, as Redis keeps ACL passwords.
pub fn hash(password: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(password).into()
}

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// One user: whether it may log in, how, and what it may run and touch.
#[derive(Clone, Debug)]
pub struct User {
    /// User name.
    pub name: String,
    /// `on` / `off`.
    pub enabled: bool,
    /// `nopass`: any password is accepted.
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) / `skip-sanitize-payload` (Some(false)); shown only.
    sanitize: Option<bool>,
    /// SHA-256 of each password, in the order added.
    passwords: Vec<[u8; 32]>,
    /// Commands the user may run.
    allowed: HashSet<&'static str>,
    /// Allowed `command|subcommand` pairs of otherwise denied commands.
    allowed_subs: Vec<String>,
    /// Harmless subcommands of restricted containers allowed through their
    /// own categories ([`SUBCOMMAND_CATEGORIES`]), e.g. `acl|whoami`.
    cat_subs: HashSet<&'static str>,
    /// Set by `+@all`: commands added later are allowed too.
    all_future: bool,
    /// `~pattern`s (`allkeys`: matches everything).
    keys: Vec<Vec<u8>>,
    allkeys: bool,
    /// `&pattern`s (`allchannels`: matches everything).
    channels: Vec<Vec<u8>>,
    allchannels: bool,
    /// Every command, key and channel allowed: the check is skipped.
    pub unrestricted: bool,
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no password, nothing allowed.
    pub fn new(name: &str) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            allowed: HashSet::new(),
            allowed_subs: Vec::new(),
            cat_subs: HashSet::new(),
            all_future: false,
            keys: Vec::new(),
            allkeys: false,
            channels: Vec::new(),
            allchannels: false,
            unrestricted: false,
        }
    }

    /// The `default` user: on, nopass, ~*, &*, +@all.
    pub fn default_user() -> User {
        let mut u = User::new("default");
        for r in ["on", "nopass", "~*", "&*", "+@all"] {
            u.apply(r.as_bytes()).expect("valid rule");
        }
        u
    }

    /// Whether `password` logs this user in (constant-time comparison).
    pub fn password_ok(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let got = hash(password);
        self.passwords.iter().fold(false, |ok, want| {
            ok | (want.iter().zip(got).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0)
        })
    }

    fn set_category(&mut self, cat: &str, allow: bool) -> Result<(), String> {
        let cmds = in_category(cat).ok_or_else(unknown_name)?;
        for c in cmds {
            self.set_command(c, allow);
        }
        for (sub, cats) in SUBCOMMAND_CATEGORIES {
            if cat == "all" || cats.contains(&cat) {
                if allow {
                    self.cat_subs.insert(sub);
                } else {
                    self.cat_subs.remove(sub);
                }
            }
        }
        if cat == "all" {
            self.all_future = allow;
            self.allowed_subs.clear();
        }
        Ok(())
    }

    fn set_command(&mut self, name: &'static str, allow: bool) {
        if allow {
            self.allowed.insert(name);
        } else {
            self.allowed.remove(name);
        }
        self.allowed_subs
            .retain(|s| s.split('|').next() != Some(name));
    }

    /// Applies one rule (`on`, `>pass`, `~pat`, `+@read`, …).
    pub fn apply(&mut self, rule: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(rule).into_owned();
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" => return self.apply(b"~*"),
            "resetkeys" => {
                self.keys.clear();
                self.allkeys = false;
            }
            "allchannels" => return self.apply(b"&*"),
            "resetchannels" => {
                self.channels.clear();
                self.allchannels = false;
            }
            "allcommands" => self.set_category("all", true)?,
            "nocommands" => self.set_category("all", false)?,
            "sanitize-payload" => self.sanitize = Some(true),
            "skip-sanitize-payload" => self.sanitize = Some(false),
            "clearselectors" => {}
            "reset" => {
                for r in [
                    "resetpass",
                    "resetkeys",
                    "resetchannels",
                    "off",
                    "-@all",
                    "sanitize-payload",
                ] {
                    self.apply(r.as_bytes())?;
                }
            }
            _ => self.apply_prefixed(rule, &lower)?,
        }
        self.refresh();
        Ok(())
    }

    fn apply_prefixed(&mut self, rule: &[u8], lower: &str) -> Result<(), String> {
        let rest = &rule[1.min(rule.len())..];
        match rule.first() {
            Some(b'>') => {
                self.add_password(hash(rest));
            }
            Some(b'#') => {
                let h = parse_hex(rest).ok_or("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")?;
                self.add_password(h);
            }
            Some(b'<') => self.remove_password(
                hash(rest),
                "The password you are trying to remove from the user does not exist",
            )?,
            Some(b'!') => {
                let h = parse_hex(rest).ok_or("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")?;
                self.remove_password(
                    h,
                    "The password you are trying to remove from the user does not exist",
                )?;
            }
            Some(b'~') => add_pattern(
                &mut self.keys,
                &mut self.allkeys,
                rest,
                "allkeys",
                "resetkeys",
                "patterns",
            )?,
            Some(b'&') => add_pattern(
                &mut self.channels,
                &mut self.allchannels,
                rest,
                "allchannels",
                "resetchannels",
                "channels",
            )?,
            Some(&sign @ (b'+' | b'-')) => {
                let allow = sign == b'+';
                let name = &lower[1..];
                if let Some(cat) = name.strip_prefix('@') {
                    self.set_category(cat, allow)?;
                } else if let Some((parent, sub)) = name.split_once('|') {
                    let c = lookup(parent.as_bytes()).ok_or_else(unknown_name)?;
                    if sub.is_empty() || sub.contains('|') {
                        return Err("Syntax error".into());
                    }
                    let full = format!("{}|{sub}", c.name);
                    self.allowed_subs.retain(|s| *s != full);
                    if allow && !self.allowed.contains(c.name) {
                        self.allowed_subs.push(full);
                    } else if !allow {
                        return Err("Allowing first-arg of a subcommand is not supported".into());
                    }
                } else {
                    let c = lookup(name.as_bytes()).ok_or_else(unknown_name)?;
                    self.set_command(c.name, allow);
                    if !allow {
                        self.cat_subs
                            .retain(|s| s.split('|').next() != Some(c.name));
                    }
                }
            }
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    fn add_password(&mut self, h: [u8; 32]) {
        if !self.passwords.contains(&h) {
            self.passwords.push(h);
        }
        self.nopass = false;
    }

    fn remove_password(&mut self, h: [u8; 32], missing: &str) -> Result<(), String> {
        let before = self.passwords.len();
        self.passwords.retain(|p| *p != h);
        if self.passwords.len() == before {
            return Err(missing.into());
        }
        self.nopass = false;
        Ok(())
    }

    fn refresh(&mut self) {
        self.unrestricted = self.allkeys
            && self.allchannels
            && all_commands().all(|c| self.allowed.contains(c.name));
    }

    /// Whether the user may access every key (`~*`).
    pub fn all_keys(&self) -> bool {
        self.allkeys
    }

    /// Why the user may not run `args`, if so.
    pub fn check(&self, cmd: &Command, args: &[Vec<u8>]) -> Option<Denial> {
        if self.unrestricted || cmd.has_flag("no_auth") {
            return None;
        }
        if !self.allowed.contains(cmd.name) {
            let sub = args
                .get(1)
                .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase());
            let full = sub
                .as_ref()
                .map(|s| format!("{}|{s}", cmd.name))
                .unwrap_or_default();
            if sub.is_none()
                || !(self.allowed_subs.contains(&full) || self.cat_subs.contains(full.as_str()))
            {
                let shown = if CONTAINERS.contains(&cmd.name) && sub.is_some() {
                    full
                } else {
                    cmd.name.to_string()
                };
                return Some(Denial {
                    reason: "command",
                    message: format!(
                        "NOPERM this user has no permissions to run the '{shown}' command"
                    ),
                    object: shown,
                });
            }
        }
        if !self.allkeys {
            let keys = crate::commands::transactions::keys_of(cmd, args);
            if let Some(k) = keys
                .iter()
                .find(|k| !self.keys.iter().any(|p| glob_match(p, k, false)))
            {
                return Some(Denial {
                    reason: "key",
                    object: String::from_utf8_lossy(k).into_owned(),
                    message: "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
                });
            }
        }
        if !self.allchannels {
            let (channels, literal): (&[Vec<u8>], bool) = match cmd.name {
                "publish" | "spublish" => (&args[1..2], false),
                "subscribe" | "ssubscribe" => (&args[1..], false),
                "psubscribe" => (&args[1..], true),
                _ => (&[], false),
            };
            let ok = |ch: &Vec<u8>| {
                self.channels.iter().any(|p| {
                    if literal {
                        p == ch
                    } else {
                        glob_match(p, ch, false)
                    }
                })
            };
            if let Some(ch) = channels.iter().find(|c| !ok(c)) {
                return Some(Denial {
                    reason: "channel",
                    object: String::from_utf8_lossy(ch).into_owned(),
                    message: "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
                });
            }
        }
        None
    }

    fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Some(true) => f.push("sanitize-payload"),
            Some(false) => f.push("skip-sanitize-payload"),
            None => {}
        }
        f
    }

    /// `#<sha256>` of each password.
    pub fn password_hashes(&self) -> Vec<String> {
        self.passwords.iter().map(hex).collect()
    }

    /// The key patterns as GETUSER shows them (`~a ~b`).
    pub fn keys_text(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        join_patterns('~', &self.keys)
    }

    /// The channel patterns as GETUSER shows them (`&a &b`).
    pub fn channels_text(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        join_patterns('&', &self.channels)
    }

    /// The command rules, computed from the allowed set as Redis 7.0 does:
    /// start from `+@all` or `-@all`, apply each category that fits the
    /// majority of its commands, then fix single commands.
    pub fn commands_text(&self) -> String {
        let additive = !self.all_future;
        let mut rules = vec![if additive { "-@all" } else { "+@all" }.to_string()];
        let mut fake: HashSet<&'static str> = if additive {
            HashSet::new()
        } else {
            all_commands().map(|c| c.name).collect()
        };
        // greedily apply the category that fits best (most commands in
        // the wanted state, fewest in the other) until none fits a majority
        let mut temp = self.allowed.clone();
        let mut applied = vec![false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, cat) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let cmds = in_category(cat).unwrap_or_default();
                let on = cmds.iter().filter(|c| temp.contains(*c)).count();
                let off = cmds.len() - on;
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            applied[j] = true;
            let cat = CATEGORIES[j];
            rules.push(format!("{}@{cat}", if additive { '+' } else { '-' }));
            for c in in_category(cat).unwrap_or_default() {
                if additive {
                    fake.insert(c);
                    temp.remove(c);
                } else {
                    fake.remove(c);
                    temp.insert(c);
                }
            }
        }
        for c in all_commands() {
            let user = self.allowed.contains(c.name);
            if user != fake.contains(c.name) {
                rules.push(format!("{}{}", if user { '+' } else { '-' }, c.name));
            }
        }
        for s in &self.allowed_subs {
            rules.push(format!("+{s}"));
        }
        rules.join(" ")
    }

    /// The user as an ACL LIST / aclfile line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = vec![format!("user {}", self.name)];
        parts.extend(self.flags().into_iter().map(String::from));
        parts.extend(self.passwords.iter().map(|h| format!("#{}", hex(h))));
        let keys = self.keys_text();
        if !keys.is_empty() {
            parts.push(keys);
        }
        if self.allchannels {
            parts.push("&*".into());
        } else {
            parts.push("resetchannels".into());
            let ch = self.channels_text();
            if !ch.is_empty() {
                parts.push(ch);
            }
        }
        parts.push(self.commands_text());
        parts.join(" ")
    }
}

/// A command refused by [`User::check`].
#[derive(Debug)]
pub struct Denial {
    /// ACL LOG reason: `command`, `key` or `channel`.
    pub reason: &'static str,
    /// The command, key or channel refused.
    pub object: String,
    /// The NOPERM error text.
    pub message: String,
}

/// Container commands: NOPERM names them as `parent|sub`.
const CONTAINERS: &[&str] = &[
    "acl", "client", "command", "config", "object", "memory", "xinfo", "xgroup", "pubsub",
    "slowlog", "latency", "script", "function", "module", "cluster",
];

fn unknown_name() -> String {
    "Unknown command or category name in ACL".into()
}

fn join_patterns(prefix: char, pats: &[Vec<u8>]) -> String {
    pats.iter()
        .map(|p| format!("{prefix}{}", String::from_utf8_lossy(p)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn add_pattern(
    list: &mut Vec<Vec<u8>>,
    all: &mut bool,
    pat: &[u8],
    all_flag: &str,
    reset: &str,
    what: &str,
) -> Result<(), String> {
    if *all {
        return Err(format!("Adding a pattern after the * pattern (or the '{all_flag}' flag) is not valid and does not have any effect. Try '{reset}' to start with an empty list of {what}"));
    }
    if pat == b"*" {
        *all = true;
        list.clear();
    } else if !list.iter().any(|p| p == pat) {
        list.push(pat.to_vec());
    }
    Ok(())
}

/// The user table, shared by every core. Readers keep an `Arc<User>`
/// snapshot and re-read it when [`generation`](Users::generation) moves.
#[derive(Debug)]
pub struct Users {
    table: RwLock<BTreeMap<String, Arc<User>>>,
    generation: AtomicU64,
}

impl Users {
    /// A table with only the `default` user, its password `requirepass`
    /// (SHA-256) if set.
    pub fn new(requirepass: Option<[u8; 32]>) -> Users {
        let users = Users {
            table: RwLock::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
        };
        users.insert(User::default_user());
        users.set_default_password(requirepass);
        users
    }

    /// Bumped by every change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A user by name.
    pub fn get(&self, name: &str) -> Option<Arc<User>> {
        self.table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// The `default` user.
    pub fn default_user(&self) -> Arc<User> {
        self.get("default").expect("the default user exists")
    }

    /// Every user, sorted by name.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn insert(&self, u: User) {
        self.table
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(u.name.clone(), Arc::new(u));
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// `requirepass`: sets the default user's password (`None`: nopass).
    pub fn set_default_password(&self, h: Option<[u8; 32]>) {
        let mut u = (*self.default_user()).clone();
        u.apply(b"resetpass").expect("valid rule");
        match h {
            Some(h) => u.add_password(h),
            None => u.nopass = true,
        }
        self.insert(u);
    }

    /// ACL SETUSER: applies every rule to a copy, then stores it; nothing
    /// changes if a rule fails. Err: (the rule, why).
    pub fn set_user(&self, name: &str, rules: &[Vec<u8>]) -> Result<(), (Vec<u8>, String)> {
        let mut u = self
            .get(name)
            .map(|u| (*u).clone())
            .unwrap_or_else(|| User::new(name));
        for r in rules {
            u.apply(r).map_err(|e| (r.clone(), e))?;
        }
        self.insert(u);
        Ok(())
    }

    /// ACL DELUSER: how many of `names` existed and were removed.
    pub fn delete(&self, names: &[&str]) -> usize {
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        let n = names.iter().filter(|n| t.remove(**n).is_some()).count();
        drop(t);
        self.generation.fetch_add(1, Ordering::AcqRel);
        n
    }

    /// Replaces every user with those of an aclfile; nothing changes on
    /// error, which names the file and line in Redis's words.
    pub fn load_file(&self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("Error loading ACLs, opening file '{}': {e}", path.display()))?;
        let file = path.display();
        let fail = |msg: String| {
            Err(format!(
                "{msg}. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
            ))
        };
        let mut users: BTreeMap<String, User> = BTreeMap::new();
        let mut seen = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            if words[0] != "user" || words.len() < 2 {
                return fail(format!(
                    "{file}:{n} should start with user keyword followed by the username"
                ));
            }
            let name = words[1];
            if !seen.insert(name) {
                return fail(format!(
                    "WARNING: Duplicate user '{name}' found on line {n}"
                ));
            }
            let mut u = User::new(name);
            for w in &words[2..] {
                if let Err(e) = u.apply(w.as_bytes()) {
                    return fail(format!("{file}:{n}: {e}"));
                }
            }
            users.insert(name.to_string(), u);
        }
        users
            .entry("default".into())
            .or_insert_with(User::default_user);
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        *t = users.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        drop(t);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Writes every user to an aclfile (atomically, through a temp file).
    pub fn save_file(&self, path: &Path) -> Result<(), String> {
        let mut text = String::new();
        for u in self.all() {
            text.push_str(&u.describe());
            text.push('\n');
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &str) -> User {
        let mut u = User::new("u");
        for r in rules.split(' ') {
            u.apply(r.as_bytes()).unwrap();
        }
        u
    }

    #[test]
    fn description_round_trips() {
        for rules in [
            "on >pw ~app:* +@read -@dangerous",
            "+@all -@admin -get &ch*",
            "-@all +get +set +config|get",
            "nopass allkeys allchannels +@all",
            "reset +@string -@write +incr",
        ] {
            let u = user(rules);
            let line = u.describe();
            let again = user(line.trim_start_matches("user u "));
            assert_eq!(again.allowed, u.allowed, "{rules} -> {line}");
            assert_eq!(again.describe(), line);
            assert!(!line.contains("pw"), "{line}");
        }
    }

    #[test]
    fn only_hashes_are_kept_and_checked() {
        let u = user("on >secret");
        assert!(u.password_ok(b"secret") && !u.password_ok(b"other"));
        assert_eq!(u.password_hashes(), [hex(&hash(b"secret"))]);
        assert!(user("nopass").password_ok(b"anything"));
        assert!(!User::new("x").password_ok(b""));
    }

    #[test]
    fn the_default_user_is_unrestricted() {
        assert!(User::default_user().unrestricted);
        assert!(!user("+@all ~*").unrestricted);
    }
}
