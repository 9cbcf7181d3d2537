//! JSON.* commands (RedisJSON 2.x semantics) on top of `data_types::json`.
//!
//! Every command resolves its path with [`JsonPath::find`] and reads or
//! updates the located values. A `$` path answers per match (nil where a
//! match has the wrong type); a legacy path answers for one match and fails
//! with RedisJSON's message otherwise. Reads go through [`read_each`] and
//! updates through [`update_each`], parameterised by small per-command
//! specs ([`ReadSpec`], [`WriteSpec`]) that carry RedisJSON's error rules.

use super::strings::tri;
use super::{
    arity_error, cmd, not_integer, run_on, syntax_error, Args, BoxFuture, Command, Exec::*, Merge,
};
use crate::data_types::json::{
    arr_index, arr_insert, arr_pop, arr_trim, clear_value, merge_patch, num_op, parse_number,
    parse_value, to_resp, to_text, type_name, Format, JsonDoc, NumOp,
};
use crate::data_types::{Db, Result};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::shard::routing::shard_of;
use crate::storage::Batch;
use crate::util::jsonpath::{self, get_mut, mutation_order, remove, JsonPath, Last, Location};
use crate::util::num::parse_i64;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The JSON family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "json.set",
        -4,
        "write denyoom",
        (1, 1, 1),
        "json",
        Keyed(set),
    ),
    cmd("json.get", -2, "readonly", (1, 1, 1), "json", Keyed(get)),
    cmd("json.mget", -3, "readonly", (1, -2, 1), "json", Coord(mget)),
    cmd(
        "json.mset",
        -4,
        "write denyoom",
        (1, -1, 3),
        "json",
        Fanout(mset, Merge::Ok),
    ),
    cmd(
        "json.merge",
        -4,
        "write denyoom",
        (1, 1, 1),
        "json",
        Keyed(merge),
    ),
    cmd("json.del", -2, "write", (1, 1, 1), "json", Keyed(del)),
    cmd("json.forget", -2, "write", (1, 1, 1), "json", Keyed(del)),
    cmd("json.clear", -2, "write", (1, 1, 1), "json", Keyed(clear)),
    cmd("json.type", -2, "readonly", (1, 1, 1), "json", Keyed(type_)),
    cmd("json.toggle", 3, "write", (1, 1, 1), "json", Keyed(toggle)),
    cmd(
        "json.numincrby",
        4,
        "write",
        (1, 1, 1),
        "json",
        Keyed(numincrby),
    ),
    cmd(
        "json.nummultby",
        4,
        "write",
        (1, 1, 1),
        "json",
        Keyed(nummultby),
    ),
    cmd(
        "json.strappend",
        -3,
        "write denyoom",
        (1, 1, 1),
        "json",
        Keyed(strappend),
    ),
    cmd(
        "json.strlen",
        -2,
        "readonly",
        (1, 1, 1),
        "json",
        Keyed(strlen),
    ),
    cmd(
        "json.arrappend",
        -4,
        "write denyoom",
        (1, 1, 1),
        "json",
        Keyed(arrappend),
    ),
    cmd(
        "json.arrindex",
        -4,
        "readonly",
        (1, 1, 1),
        "json",
        Keyed(arrindex),
    ),
    cmd(
        "json.arrinsert",
        -5,
        "write denyoom",
        (1, 1, 1),
        "json",
        Keyed(arrinsert),
    ),
    cmd(
        "json.arrlen",
        -2,
        "readonly",
        (1, 1, 1),
        "json",
        Keyed(arrlen),
    ),
    cmd("json.arrpop", -2, "write", (1, 1, 1), "json", Keyed(arrpop)),
    cmd(
        "json.arrtrim",
        5,
        "write",
        (1, 1, 1),
        "json",
        Keyed(arrtrim),
    ),
    cmd(
        "json.objkeys",
        -2,
        "readonly",
        (1, 1, 1),
        "json",
        Keyed(objkeys),
    ),
    cmd(
        "json.objlen",
        -2,
        "readonly",
        (1, 1, 1),
        "json",
        Keyed(objlen),
    ),
    cmd("json.resp", -2, "readonly", (1, 1, 1), "json", Keyed(resp)),
];

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn no_key() -> Reply {
    Reply::err("ERR could not perform this operation on a key that doesn't exist")
}

fn new_at_root() -> Reply {
    Reply::err("ERR new objects must be created at the root")
}

/// A path argument before parsing: RedisJSON looks at the key (and whether
/// the path is legacy or the root) before it checks the path's syntax.
#[derive(Clone, Debug)]
struct PathArg {
    original: String,
    normalized: String,
    legacy: bool,
}

impl PathArg {
    fn new(raw: &[u8]) -> PathArg {
        let original = text(raw);
        let (normalized, legacy) = jsonpath::normalize(&original);
        PathArg {
            original,
            normalized,
            legacy,
        }
    }

    /// The default path of commands whose path is optional (legacy root).
    fn root() -> PathArg {
        PathArg::new(b".")
    }

    /// Argument `i` if present, else the legacy root.
    fn opt(a: &[Vec<u8>], i: usize) -> PathArg {
        a.get(i).map_or_else(PathArg::root, |p| PathArg::new(p))
    }

    fn is_root(&self) -> bool {
        self.normalized == "$"
    }

    fn parse(&self) -> Result<JsonPath> {
        JsonPath::parse(&self.original).map_err(|e| Reply::err(format!("ERR {e}")))
    }

    fn shown(&self, s: Shown) -> &str {
        match s {
            Shown::Original => &self.original,
            Shown::Normalized => &self.normalized,
        }
    }
}

/// The JSON type a command works on.
#[derive(Clone, Copy, Debug)]
enum Want {
    Any,
    String,
    Array,
    Object,
    Number,
    Bool,
}

impl Want {
    fn matches(self, v: &Value) -> bool {
        match self {
            Want::Any => true,
            Want::String => v.is_string(),
            Want::Array => v.is_array(),
            Want::Object => v.is_object(),
            Want::Number => v.is_number(),
            Want::Bool => v.is_boolean(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Want::Any => "any",
            Want::String => "string",
            Want::Array => "array",
            Want::Object => "object",
            Want::Number => "number",
            Want::Bool => "boolean",
        }
    }
}

/// Which spelling of the path an error message quotes (RedisJSON varies by
/// command: `.a` as given, or `$.a` as rewritten).
#[derive(Clone, Copy, Debug)]
enum Shown {
    Original,
    Normalized,
}

/// The reply when a command finds nothing to work on.
#[derive(Clone, Copy, Debug)]
enum Miss {
    Nil,
    NoKey,
    /// `ERR Path '<path>' does not exist`.
    NoPath(Shown),
    /// `ERR Path '<path>' does not exist or <what>`.
    NoPathOr(&'static str, Shown),
    /// `WRONGTYPE wrong type of path value - expected <want> but found <type>`.
    WrongType,
}

impl Miss {
    fn reply(self, path: &PathArg, want: Want, found: Option<&Value>) -> Reply {
        match self {
            Miss::Nil => Reply::Nil,
            Miss::NoKey => no_key(),
            Miss::NoPath(s) => Reply::err(format!("ERR Path '{}' does not exist", path.shown(s))),
            Miss::NoPathOr(what, s) => Reply::err(format!(
                "ERR Path '{}' does not exist or {what}",
                path.shown(s)
            )),
            Miss::WrongType => Reply::err(format!(
                "WRONGTYPE wrong type of path value - expected {} but found {}",
                want.name(),
                found.map_or("null", type_name)
            )),
        }
    }
}

/// How a read command answers when there is nothing of its type to read.
struct ReadSpec {
    want: Want,
    /// The key is missing, legacy path.
    legacy_no_key: Miss,
    /// The key is missing, `$` path.
    no_key: Miss,
    /// Legacy path matching nothing.
    legacy_none: Miss,
    /// Legacy path whose first match has another type.
    legacy_wrong: Miss,
}

const TYPE: ReadSpec = ReadSpec {
    want: Want::Any,
    legacy_no_key: Miss::Nil,
    no_key: Miss::Nil,
    legacy_none: Miss::Nil,
    legacy_wrong: Miss::Nil,
};
const RESP: ReadSpec = ReadSpec {
    legacy_none: Miss::NoPath(Shown::Normalized),
    ..TYPE
};
const STRLEN: ReadSpec = ReadSpec {
    want: Want::String,
    legacy_no_key: Miss::Nil,
    no_key: Miss::NoKey,
    legacy_none: Miss::NoPath(Shown::Normalized),
    legacy_wrong: Miss::WrongType,
};
const ARRLEN: ReadSpec = ReadSpec {
    want: Want::Array,
    legacy_no_key: Miss::Nil,
    no_key: Miss::NoKey,
    legacy_none: Miss::NoPath(Shown::Original),
    legacy_wrong: Miss::NoPathOr("not an array", Shown::Original),
};
const ARRINDEX: ReadSpec = ReadSpec {
    want: Want::Array,
    legacy_no_key: Miss::NoPath(Shown::Original),
    no_key: Miss::NoPath(Shown::Original),
    legacy_none: Miss::NoPath(Shown::Normalized),
    legacy_wrong: Miss::WrongType,
};
const OBJLEN: ReadSpec = ReadSpec {
    want: Want::Object,
    legacy_no_key: Miss::Nil,
    no_key: Miss::NoPathOr("not an object", Shown::Normalized),
    legacy_none: Miss::Nil,
    legacy_wrong: Miss::WrongType,
};
const OBJKEYS: ReadSpec = ReadSpec {
    want: Want::Object,
    legacy_no_key: Miss::Nil,
    no_key: Miss::NoKey,
    legacy_none: Miss::Nil,
    legacy_wrong: Miss::NoPathOr("not an object", Shown::Normalized),
};

/// Answers with `f` for the matches of `path` in `key`: one reply per match
/// (nil for another type) for `$` paths, the first match's for legacy ones.
fn read_each(
    db: &Db,
    key: &[u8],
    path: &PathArg,
    spec: &ReadSpec,
    f: impl Fn(&Value) -> Reply,
) -> Reply {
    let Some(doc) = tri!(db.get_json(key)) else {
        let miss = if path.legacy {
            spec.legacy_no_key
        } else {
            spec.no_key
        };
        return miss.reply(path, spec.want, None);
    };
    let found = tri!(path.parse()).values(&doc.value);
    if !path.legacy {
        return Reply::Array(
            found
                .into_iter()
                .map(|v| {
                    if spec.want.matches(v) {
                        f(v)
                    } else {
                        Reply::Nil
                    }
                })
                .collect(),
        );
    }
    match found.first() {
        None => spec.legacy_none.reply(path, spec.want, None),
        Some(v) if !spec.want.matches(v) => spec.legacy_wrong.reply(path, spec.want, Some(v)),
        Some(v) => f(v),
    }
}

/// The type an update command changes and its legacy-path error.
struct WriteSpec {
    want: Want,
    miss: Miss,
}

const TOGGLE: WriteSpec = WriteSpec {
    want: Want::Bool,
    miss: Miss::NoPathOr("not a bool", Shown::Normalized),
};
const NUMBER: WriteSpec = WriteSpec {
    want: Want::Number,
    miss: Miss::NoPathOr("does not contains a number", Shown::Normalized),
};
const STRAPPEND: WriteSpec = WriteSpec {
    want: Want::String,
    miss: Miss::NoPathOr("not a string", Shown::Normalized),
};
const ARRAPPEND: WriteSpec = WriteSpec {
    want: Want::Array,
    miss: Miss::NoPathOr("not an array", Shown::Original),
};
/// ARRINSERT, ARRPOP, ARRTRIM.
const ARRAY_EDIT: WriteSpec = WriteSpec {
    want: Want::Array,
    miss: Miss::NoPathOr("not an array", Shown::Normalized),
};

/// Applies `f` to every match of `path` in `key` whose type is `want`
/// (descendants and higher indices first, so edits never invalidate each
/// other) and writes the document back once. Returns one result per match
/// in document order, `None` where the type differs. Nothing is written if
/// `f` fails.
fn update_each<T>(
    db: &Db,
    key: &[u8],
    path: &PathArg,
    want: Want,
    mut f: impl FnMut(&mut Value) -> Result<T>,
) -> Result<Vec<Option<T>>> {
    let Some(mut doc) = db.get_json(key)? else {
        return Err(no_key());
    };
    let found: Vec<Option<Location>> = path
        .parse()?
        .find(&doc.value)
        .into_iter()
        .map(|(loc, v)| want.matches(v).then_some(loc))
        .collect();
    let mut order: Vec<(usize, &Location)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, loc)| Some((i, loc.as_ref()?)))
        .collect();
    order.sort_by(|x, y| mutation_order(x.1, y.1));
    let mut out: Vec<Option<T>> = found.iter().map(|_| None).collect();
    for (i, loc) in order {
        if let Some(v) = get_mut(&mut doc.value, loc).filter(|v| want.matches(v)) {
            out[i] = Some(f(v)?);
        }
    }
    if out.iter().any(Option::is_some) {
        db.set_json(key, &doc)?;
    }
    Ok(out)
}

/// The per-match results of an update as a reply: an array (nil where
/// skipped) for `$` paths; for legacy paths the last result or the
/// command's error.
fn per_match<T>(
    path: &PathArg,
    spec: &WriteSpec,
    out: Vec<Option<T>>,
    one: impl Fn(T) -> Reply,
) -> Reply {
    if path.legacy {
        match out.into_iter().flatten().last() {
            Some(t) => one(t),
            None => spec.miss.reply(path, spec.want, None),
        }
    } else {
        Reply::Array(
            out.into_iter()
                .map(|r| r.map_or(Reply::Nil, &one))
                .collect(),
        )
    }
}

/// [`update_each`] then [`per_match`].
fn write_each<T>(
    db: &Db,
    key: &[u8],
    path: &PathArg,
    spec: &WriteSpec,
    f: impl FnMut(&mut Value) -> Result<T>,
    one: impl Fn(T) -> Reply,
) -> Reply {
    let out = tri!(update_each(db, key, path, spec.want, f));
    per_match(path, spec, out, one)
}

/// The array a matched value is (matches are filtered by type first).
fn array(v: &mut Value) -> &mut Vec<Value> {
    v.as_array_mut().expect("the path matched an array")
}

fn int_arg(b: &[u8]) -> Result<i64> {
    parse_i64(b).ok_or_else(not_integer)
}

fn parse_values(args: &[Vec<u8>]) -> Result<Vec<Value>> {
    args.iter().map(|a| parse_value(a)).collect()
}

/// How JSON.SET, JSON.MERGE and JSON.MSET treat existing values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SetMode {
    Always,
    Nx,
    Xx,
    Merge,
}

/// Sets (or merges into) `path` below the root: every existing match is
/// replaced (merged) unless NX; with no match (or NX), the last member of a
/// static path is added to its parent object(s). Returns whether anything
/// changed.
fn assign(root: &mut Value, path: &JsonPath, value: Value, mode: SetMode) -> Result<bool> {
    if mode != SetMode::Nx {
        let mut locs: Vec<Location> = path.find(root).into_iter().map(|(l, _)| l).collect();
        if !locs.is_empty() {
            locs.sort_by(|x, y| mutation_order(x, y));
            for loc in &locs {
                if let Some(v) = get_mut(root, loc) {
                    match mode {
                        SetMode::Merge => merge_patch(v, &value),
                        _ => *v = value.clone(),
                    }
                }
            }
            return Ok(true);
        }
    }
    if mode == SetMode::Xx {
        return Ok(false);
    }
    let Some((parent, last)) = path.split_last() else {
        return Err(Reply::err("ERR wrong static path"));
    };
    match last {
        Last::Key(k) => {
            let parents: Vec<Location> = parent.find(root).into_iter().map(|(l, _)| l).collect();
            let mut added = false;
            for loc in parents {
                if let Some(Value::Object(m)) = get_mut(root, &loc) {
                    if !m.contains_key(&k) {
                        m.insert(k.clone(), value.clone());
                        added = true;
                    }
                }
            }
            Ok(added)
        }
        Last::Index(_) if path.values(root).is_empty() => {
            Err(Reply::err("ERR array index out of range"))
        }
        Last::Index(_) => Ok(false),
    }
}

fn set(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut mode = SetMode::Always;
    for opt in &a[4..] {
        match (opt.to_ascii_uppercase().as_slice(), mode) {
            (b"NX", SetMode::Always) => mode = SetMode::Nx,
            (b"XX", SetMode::Always) => mode = SetMode::Xx,
            _ => return syntax_error(),
        }
    }
    let path = PathArg::new(&a[2]);
    let current = tri!(db.get_json(&a[1]));
    let value = tri!(parse_value(&a[3]));
    let doc = match (current, mode) {
        (Some(_), SetMode::Nx) if path.is_root() => return Reply::Nil,
        (Some(mut doc), _) if path.is_root() => {
            doc.value = value;
            doc
        }
        (Some(mut doc), _) => {
            if !tri!(assign(&mut doc.value, &tri!(path.parse()), value, mode)) {
                return Reply::Nil;
            }
            doc
        }
        (None, SetMode::Xx) => return Reply::Nil,
        (None, _) if path.is_root() => JsonDoc::new(value),
        (None, _) => return new_at_root(),
    };
    tri!(db.set_json(&a[1], &doc));
    Reply::ok()
}

fn merge(db: &Db, a: &[Vec<u8>]) -> Reply {
    if a.len() > 4 {
        return syntax_error();
    }
    let path = PathArg::new(&a[2]);
    let current = tri!(db.get_json(&a[1]));
    let patch = tri!(parse_value(&a[3]));
    let doc = match current {
        Some(mut doc) if path.is_root() => {
            merge_patch(&mut doc.value, &patch);
            doc
        }
        Some(mut doc) => {
            if !tri!(assign(
                &mut doc.value,
                &tri!(path.parse()),
                patch,
                SetMode::Merge
            )) {
                return Reply::Nil;
            }
            doc
        }
        None if path.is_root() => JsonDoc::new(patch),
        None => return new_at_root(),
    };
    tri!(db.set_json(&a[1], &doc));
    Reply::ok()
}

/// JSON.MSET's part on one shard: every triplet is checked and applied in
/// memory (later triplets see earlier ones), then all documents are written
/// in one batch, so an error writes nothing on this shard.
fn mset(db: &Db, a: &[Vec<u8>]) -> Reply {
    if !(a.len() - 1).is_multiple_of(3) {
        return arity_error("json.mset");
    }
    let mut docs: Vec<(&[u8], Option<JsonDoc>)> = Vec::new();
    let mut slots: HashMap<&[u8], usize> = HashMap::new();
    for t in a[1..].chunks(3) {
        let key = t[0].as_slice();
        let slot = match slots.get(key) {
            Some(&i) => i,
            None => {
                docs.push((key, tri!(db.get_json(key))));
                slots.insert(key, docs.len() - 1);
                docs.len() - 1
            }
        };
        let path = PathArg::new(&t[1]);
        let doc = &mut docs[slot].1;
        if doc.is_none() && !path.is_root() {
            return new_at_root();
        }
        let value = tri!(parse_value(&t[2]));
        match doc {
            Some(d) if !path.is_root() => {
                tri!(assign(
                    &mut d.value,
                    &tri!(path.parse()),
                    value,
                    SetMode::Always
                ));
            }
            Some(d) => d.value = value,
            None => *doc = Some(JsonDoc::new(value)),
        }
    }
    // every document is encoded (which can fail: too deep) before any is
    // staged, so an error leaves nothing half staged
    let mut encoded = Vec::with_capacity(docs.len());
    for (key, doc) in &docs {
        if let Some(doc) = doc {
            encoded.push((key, tri!(doc.to_meta())));
        }
    }
    let mut batch = Batch::default();
    for (key, meta) in &encoded {
        db.put(&mut batch, key, meta);
    }
    tri!(db.write(batch));
    Reply::ok()
}

fn get(db: &Db, a: &[Vec<u8>]) -> Reply {
    let mut fmt = Format::default();
    let mut paths = Vec::new();
    let mut i = 2;
    while i < a.len() {
        let word = if a[i].len() <= 8 {
            a[i].to_ascii_uppercase()
        } else {
            Vec::new()
        };
        let option = match word.as_slice() {
            b"INDENT" => Some(&mut fmt.indent),
            b"NEWLINE" => Some(&mut fmt.newline),
            b"SPACE" => Some(&mut fmt.space),
            _ => None,
        };
        if let Some(option) = option {
            let Some(v) = a.get(i + 1) else {
                return arity_error("json.get");
            };
            *option = text(v);
            i += 2;
            continue;
        }
        if word != b"NOESCAPE" {
            paths.push(PathArg::new(&a[i]));
        }
        i += 1;
    }
    if paths.is_empty() {
        paths.push(PathArg::root());
    }
    let Some(doc) = tri!(db.get_json(&a[1])) else {
        return Reply::Nil;
    };
    let out = if let [path] = paths.as_slice() {
        let found = tri!(path.parse()).values(&doc.value);
        if path.legacy {
            match found.first() {
                Some(v) => to_text(v, &fmt),
                None => return Miss::NoPath(Shown::Normalized).reply(path, Want::Any, None),
            }
        } else {
            to_text(&Value::Array(found.into_iter().cloned().collect()), &fmt)
        }
    } else {
        // several paths: an object keyed by path; unparsable paths are skipped
        let legacy = paths.iter().all(|p| p.legacy);
        let mut obj = Map::new();
        let mut missing = None;
        for path in &paths {
            let Ok(parsed) = path.parse() else { continue };
            let found = parsed.values(&doc.value);
            let v = match (legacy, found.first()) {
                (false, _) => Value::Array(found.into_iter().cloned().collect()),
                (true, Some(v)) => (*v).clone(),
                (true, None) => {
                    missing.get_or_insert(path);
                    continue;
                }
            };
            obj.insert(path.original.clone(), v);
        }
        if let Some(path) = missing {
            return Miss::NoPath(Shown::Original).reply(path, Want::Any, None);
        }
        to_text(&Value::Object(obj), &fmt)
    };
    Reply::Bulk(out.into_bytes())
}

/// JSON.MGET's part on one shard: a reply per key, nil for a missing key,
/// another type, or a legacy path without match.
fn mget_local(db: &Db, keys: &[Vec<u8>], path: &PathArg) -> Vec<Reply> {
    let parsed = path.parse().ok();
    keys.iter()
        .map(|k| {
            let (Some(p), Ok(Some(doc))) = (&parsed, db.get_json(k)) else {
                return Reply::Nil;
            };
            let found = p.values(&doc.value);
            let out = if path.legacy {
                match found.first() {
                    Some(v) => to_text(v, &Format::default()),
                    None => return Reply::Nil,
                }
            } else {
                let all = Value::Array(found.into_iter().cloned().collect());
                to_text(&all, &Format::default())
            };
            Reply::Bulk(out.into_bytes())
        })
        .collect()
}

/// JSON.MGET key [key ...] path: keys grouped per owning shard (the path,
/// last, goes to every group), answers put back in argument order.
fn mget(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let path = PathArg::new(&a[a.len() - 1]);
        let keys = &a[1..a.len() - 1];
        let n = client.shard.shard_count();
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, k) in keys.iter().enumerate() {
            groups[shard_of(k, n)].push(i);
        }
        let mut parts = Vec::new();
        for (owner, idx) in groups.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let ks: Vec<Vec<u8>> = idx.iter().map(|&i| keys[i].clone()).collect();
            let p = path.clone();
            parts.push((
                idx,
                run_on(client, owner, move |db| mget_local(db, &ks, &p)),
            ));
        }
        let mut out = vec![Reply::Nil; keys.len()];
        for (idx, part) in parts {
            for (i, r) in idx.into_iter().zip(part.await) {
                out[i] = r;
            }
        }
        Reply::Array(out)
    })
}

/// Keeps the outermost of nested locations, in an order safe for removal.
fn outermost(locs: &mut Vec<Location>) {
    let all: HashSet<Location> = locs.iter().cloned().collect();
    locs.retain(|l| !(0..l.len()).any(|n| all.contains(&l[..n])));
    locs.sort_by(|x, y| mutation_order(x, y));
    locs.dedup();
}

fn del(db: &Db, a: &[Vec<u8>]) -> Reply {
    let path = PathArg::opt(a, 2);
    let Some(mut doc) = tri!(db.get_json(&a[1])) else {
        return Reply::Int(0);
    };
    if path.is_root() {
        tri!(db.delete_keys([a[1].as_slice()]));
        return Reply::Int(1);
    }
    let mut locs: Vec<Location> = tri!(path.parse())
        .find(&doc.value)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    outermost(&mut locs);
    let n = locs
        .iter()
        .filter(|l| remove(&mut doc.value, l).is_some())
        .count();
    if n > 0 {
        tri!(db.set_json(&a[1], &doc));
    }
    Reply::Int(n as i64)
}

fn clear(db: &Db, a: &[Vec<u8>]) -> Reply {
    let path = PathArg::opt(a, 2);
    let Some(mut doc) = tri!(db.get_json(&a[1])) else {
        return no_key();
    };
    let locs: Vec<Location> = tri!(path.parse())
        .find(&doc.value)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    let n = locs
        .iter()
        .filter(|l| get_mut(&mut doc.value, l).is_some_and(clear_value))
        .count();
    if n > 0 {
        tri!(db.set_json(&a[1], &doc));
    }
    Reply::Int(n as i64)
}

fn type_(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &TYPE, |v| {
        Reply::bulk(type_name(v))
    })
}

fn resp(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &RESP, to_resp)
}

fn strlen(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &STRLEN, |v| {
        Reply::Int(v.as_str().map_or(0, str::len) as i64)
    })
}

fn arrlen(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &ARRLEN, |v| {
        Reply::Int(v.as_array().map_or(0, Vec::len) as i64)
    })
}

fn objlen(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &OBJLEN, |v| {
        Reply::Int(v.as_object().map_or(0, Map::len) as i64)
    })
}

fn objkeys(db: &Db, a: &[Vec<u8>]) -> Reply {
    read_each(db, &a[1], &PathArg::opt(a, 2), &OBJKEYS, |v| {
        Reply::Array(
            v.as_object()
                .map_or(Vec::new(), |m| m.keys().map(Reply::bulk).collect()),
        )
    })
}

fn arrindex(db: &Db, a: &[Vec<u8>]) -> Reply {
    if a.len() > 6 {
        return arity_error("json.arrindex");
    }
    let start = match a.get(4) {
        Some(s) => tri!(int_arg(s)),
        None => 0,
    };
    let end = match a.get(5) {
        Some(s) => tri!(int_arg(s)),
        None => 0,
    };
    let needle = tri!(parse_value(&a[3]));
    read_each(db, &a[1], &PathArg::new(&a[2]), &ARRINDEX, |v| {
        let arr = v.as_array().map_or(&[][..], Vec::as_slice);
        Reply::Int(arr_index(arr, &needle, start, end))
    })
}

fn toggle(db: &Db, a: &[Vec<u8>]) -> Reply {
    let path = PathArg::new(&a[2]);
    write_each(
        db,
        &a[1],
        &path,
        &TOGGLE,
        |v| {
            let b = !v.as_bool().unwrap_or(false);
            *v = Value::Bool(b);
            Ok(b)
        },
        |b| {
            if path.legacy {
                Reply::bulk(b.to_string())
            } else {
                Reply::Int(b as i64)
            }
        },
    )
}

/// NUMINCRBY / NUMMULTBY: `$` paths reply with a JSON array of the new
/// values (null where not a number), legacy paths with the last new value.
fn num_cmd(db: &Db, a: &[Vec<u8>], op: NumOp) -> Reply {
    let path = PathArg::new(&a[2]);
    // RedisJSON checks the number only when a match needs it
    let by = parse_number(&a[3]);
    let out = tri!(update_each(db, &a[1], &path, NUMBER.want, |v| {
        num_op(v, op, by.as_ref().map_err(Reply::clone)?)
    }));
    if path.legacy {
        return per_match(&path, &NUMBER, out, |n| Reply::bulk(n.to_string()));
    }
    let all = Value::Array(
        out.into_iter()
            .map(|n| n.map_or(Value::Null, Value::Number))
            .collect(),
    );
    Reply::Bulk(to_text(&all, &Format::default()).into_bytes())
}

fn numincrby(db: &Db, a: &[Vec<u8>]) -> Reply {
    num_cmd(db, a, NumOp::Incr)
}

fn nummultby(db: &Db, a: &[Vec<u8>]) -> Reply {
    num_cmd(db, a, NumOp::Mult)
}

fn strappend(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (path, raw) = match a.len() {
        3 => (PathArg::root(), &a[2]),
        _ => (PathArg::new(&a[2]), &a[3]),
    };
    // checked only when a string matches, as in RedisJSON
    let suffix = match parse_value(raw) {
        Ok(Value::String(s)) => Ok(s),
        Ok(_) => Err(Reply::err(format!(
            "WRONGTYPE wrong type of path value - expected string but found {}",
            text(raw)
        ))),
        Err(e) => Err(e),
    };
    write_each(
        db,
        &a[1],
        &path,
        &STRAPPEND,
        |v| {
            let suffix = suffix.as_ref().map_err(Reply::clone)?;
            if let Value::String(s) = v {
                s.push_str(suffix);
            }
            Ok(v.as_str().map_or(0, str::len))
        },
        |n| Reply::Int(n as i64),
    )
}

fn arrappend(db: &Db, a: &[Vec<u8>]) -> Reply {
    let items = tri!(parse_values(&a[3..]));
    write_each(
        db,
        &a[1],
        &PathArg::new(&a[2]),
        &ARRAPPEND,
        |v| {
            let arr = array(v);
            arr.extend(items.iter().cloned());
            Ok(arr.len())
        },
        |n| Reply::Int(n as i64),
    )
}

fn arrinsert(db: &Db, a: &[Vec<u8>]) -> Reply {
    let index = tri!(int_arg(&a[3]));
    let items = tri!(parse_values(&a[4..]));
    write_each(
        db,
        &a[1],
        &PathArg::new(&a[2]),
        &ARRAY_EDIT,
        |v| arr_insert(array(v), index, &items),
        |n| Reply::Int(n as i64),
    )
}

fn arrpop(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (path, index) = match (a.get(2), a.get(3)) {
        (None, _) => (PathArg::root(), i64::MAX),
        (Some(p), None) => (PathArg::new(p), -1),
        (Some(p), Some(i)) => (PathArg::new(p), tri!(int_arg(i))),
    };
    write_each(
        db,
        &a[1],
        &path,
        &ARRAY_EDIT,
        |v| Ok(arr_pop(array(v), index)),
        |popped| popped.map_or(Reply::Nil, |v| Reply::bulk(to_text(&v, &Format::default()))),
    )
}

fn arrtrim(db: &Db, a: &[Vec<u8>]) -> Reply {
    let (start, stop) = (tri!(int_arg(&a[3])), tri!(int_arg(&a[4])));
    write_each(
        db,
        &a[1],
        &PathArg::new(&a[2]),
        &ARRAY_EDIT,
        |v| Ok(arr_trim(array(v), start, stop)),
        |n| Reply::Int(n as i64),
    )
}
