//! JSON documents: one meta record holding the serialized document (no
//! sub-keys). A command reads the whole document, changes it in memory and
//! writes it back in one batch; TTLs survive changes as in RedisJSON. The
//! value-level operations of the JSON family (arithmetic, array edits, merge
//! patch, formatting) live here too, independent of paths and replies.

use super::{storage_error, Db, MetaRead, Result};
use crate::protocol::Reply;
use crate::storage::encoding::{Kind, Meta};
use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and objects a document may have: serde_json
/// refuses to read anything deeper, so nothing deeper is ever stored.
pub const MAX_DEPTH: usize = 127;

/// A JSON key's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonDoc {
    /// The document.
    pub value: Value,
    /// Absolute expiry in ms, 0 for none.
    pub expire_at: u64,
}

impl JsonDoc {
    /// A new document without TTL.
    pub fn new(value: Value) -> JsonDoc {
        JsonDoc {
            value,
            expire_at: 0,
        }
    }

    /// The meta record storing the document; refuses documents nested
    /// deeper than [`MAX_DEPTH`].
    pub fn to_meta(&self) -> Result<Meta> {
        if depth(&self.value) > MAX_DEPTH {
            return Err(Reply::err("ERR recursion limit exceeded"));
        }
        Ok(Meta {
            kind: Kind::Json,
            expire_at: self.expire_at,
            version: 0,
            size: 0,
            payload: serde_json::to_vec(&self.value).expect("a Value always serializes"),
        })
    }
}

impl Db<'_> {
    /// Reads a JSON key (WRONGTYPE for other types).
    pub fn get_json(&self, key: &[u8]) -> Result<Option<JsonDoc>> {
        let Some(meta) = self.lookup_kind(key, Kind::Json)? else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&meta.payload)
            .map_err(|e| storage_error(key, format!("corrupt JSON document: {e}")))?;
        Ok(Some(JsonDoc {
            value,
            expire_at: meta.expire_at,
        }))
    }

    /// Writes a document (with its TTL).
    pub fn set_json(&self, key: &[u8], doc: &JsonDoc) -> Result<()> {
        self.set(key, &doc.to_meta()?)
    }
}

/// Nesting depth of arrays and objects (a scalar is 0).
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Parses a JSON argument; the error carries serde_json's explanation.
pub fn parse_value(text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|e| Reply::err(format!("ERR {e}")))
}

/// RedisJSON's name for a value's type (JSON.TYPE, error messages).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Output formatting of JSON.GET (INDENT, NEWLINE, SPACE); empty = none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Format {
    /// Written once per nesting level at the start of each line.
    pub indent: String,
    /// Written before each member or element and before a closing bracket.
    pub newline: String,
    /// Written after each `:`.
    pub space: String,
}

/// Serializes a value, compact unless `fmt` asks otherwise (RedisJSON's
/// formatter: empty containers stay `[]`/`{}`).
pub fn to_text(v: &Value, fmt: &Format) -> String {
    if *fmt == Format::default() {
        return serde_json::to_string(v).expect("a Value always serializes");
    }
    let mut out = String::new();
    write_formatted(&mut out, v, fmt, 0);
    out
}

fn write_formatted(out: &mut String, v: &Value, fmt: &Format, level: usize) {
    let line = |out: &mut String, level: usize| {
        out.push_str(&fmt.newline);
        for _ in 0..level {
            out.push_str(&fmt.indent);
        }
    };
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                line(out, level + 1);
                write_formatted(out, x, fmt, level + 1);
            }
            if !a.is_empty() {
                line(out, level);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                line(out, level + 1);
                out.push_str(&serde_json::to_string(k).expect("a string serializes"));
                out.push(':');
                out.push_str(&fmt.space);
                write_formatted(out, x, fmt, level + 1);
            }
            if !m.is_empty() {
                line(out, level);
            }
            out.push('}');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).expect("a Value serializes")),
    }
}

/// JSON.NUMINCRBY / JSON.NUMMULTBY arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    /// Addition.
    Incr,
    /// Multiplication.
    Mult,
}

/// Applies `op` with `by` to the number `v`: integer arithmetic when both
/// are integers, floating point otherwise (the result then stays a float,
/// `1.5 + 1.5` is `3.0`). Returns the new number.
pub fn num_op(v: &mut Value, op: NumOp, by: &Number) -> Result<Number> {
    let Value::Number(cur) = v else {
        return Err(Reply::err("ERR value is not a number"));
    };
    let result = match (cur.as_i64(), by.as_i64()) {
        (Some(a), Some(b)) => {
            let r = match op {
                NumOp::Incr => a.checked_add(b),
                NumOp::Mult => a.checked_mul(b),
            };
            Number::from(r.ok_or_else(|| Reply::err("ERR numeric overflow"))?)
        }
        _ => {
            let (a, b) = (
                cur.as_f64().unwrap_or(f64::NAN),
                by.as_f64().unwrap_or(f64::NAN),
            );
            let r = match op {
                NumOp::Incr => a + b,
                NumOp::Mult => a * b,
            };
            Number::from_f64(r).ok_or_else(|| Reply::err("ERR result is not a number"))?
        }
    };
    *v = Value::Number(result.clone());
    Ok(result)
}

/// The number argument of JSON.NUMINCRBY / JSON.NUMMULTBY.
pub fn parse_number(text: &[u8]) -> Result<Number> {
    match parse_value(text)? {
        Value::Number(n) => Ok(n),
        _ => Err(Reply::err("ERR bad input number")),
    }
}

/// RedisJSON's start-index rule for ARRPOP/ARRINDEX/ARRTRIM: negative from
/// the end, clamped into `0..len` (0 for an empty array).
pub fn clamp_index(i: i64, len: usize) -> usize {
    let len = len as i64;
    if i < 0 {
        (len - len.min(i.saturating_neg())) as usize
    } else if len > 0 {
        (len - 1).min(i) as usize
    } else {
        0
    }
}

/// Inserts `items` before `index` (negative counts from the end); returns
/// the new length.
pub fn arr_insert(arr: &mut Vec<Value>, index: i64, items: &[Value]) -> Result<usize> {
    let len = arr.len() as i64;
    let at = if index < 0 {
        len.saturating_add(index)
    } else {
        index
    };
    if !(0..=len).contains(&at) {
        return Err(Reply::err("ERR index out of bounds"));
    }
    let at = at as usize;
    arr.splice(at..at, items.iter().cloned());
    Ok(arr.len())
}

/// Removes and returns the element at `index` (clamped); `None` if empty.
pub fn arr_pop(arr: &mut Vec<Value>, index: i64) -> Option<Value> {
    (!arr.is_empty()).then(|| arr.remove(clamp_index(index, arr.len())))
}

/// Keeps the inclusive range `start..=stop` (RedisJSON's rules: negative
/// from the end, clamped; a start past the end empties the array); returns
/// the new length.
pub fn arr_trim(arr: &mut Vec<Value>, start: i64, stop: i64) -> usize {
    let len = arr.len();
    let stop = clamp_index(stop, len);
    let start = if start < 0 || (start as u64) < len as u64 {
        clamp_index(start, len)
    } else {
        stop + 1
    };
    if len == 0 || start > stop {
        arr.clear();
    } else {
        arr.truncate(stop + 1);
        arr.drain(..start);
    }
    arr.len()
}

/// JSON.ARRINDEX: first index of `needle` in `arr[start..end]` (end 0 = to
/// the end; negative bounds from the end), or -1. Values must be equal in
/// type too: `1` does not match `1.0`.
pub fn arr_index(arr: &[Value], needle: &Value, start: i64, end: i64) -> i64 {
    let len = arr.len() as i64;
    if len == 0 {
        return -1;
    }
    let start = clamp_index(start, arr.len()) as i64;
    let end = match end {
        0 => len,
        e if e < 0 => (len + e).max(0),
        e => e.min(len),
    };
    (start..end)
        .find(|&i| strict_eq(&arr[i as usize], needle))
        .unwrap_or(-1)
}

/// Equality that also tells integers from floats.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.is_f64() == y.is_f64() && x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| strict_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| strict_eq(p, q)))
        }
        _ => a == b,
    }
}

/// JSON.CLEAR on one value: empties a non-empty container, zeroes a
/// non-zero number; returns whether anything changed.
pub fn clear_value(v: &mut Value) -> bool {
    match v {
        Value::Array(a) if !a.is_empty() => a.clear(),
        Value::Object(m) if !m.is_empty() => m.clear(),
        Value::Number(n) if n.as_f64() != Some(0.0) => *v = Value::from(0),
        _ => return false,
    }
    true
}

/// RFC 7396 JSON merge patch: objects merge member by member, `null`
/// members delete, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        unreachable!("made an object above")
    };
    for (k, p) in members {
        if p.is_null() {
            t.shift_remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), p);
        }
    }
}

/// JSON.RESP's encoding: null → nil, booleans → `true`/`false` status,
/// integers → integers, other numbers → doubles, strings → bulk, arrays →
/// `[` then the elements, objects → `{` then key/value pairs.
pub fn to_resp(v: &Value) -> Reply {
    match v {
        Value::Null => Reply::Nil,
        Value::Bool(b) => Reply::Simple(b.to_string()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Reply::Int(i),
            None => Reply::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Reply::bulk(s),
        Value::Array(a) => Reply::Array(
            std::iter::once(Reply::Simple("[".into()))
                .chain(a.iter().map(to_resp))
                .collect(),
        ),
        Value::Object(m) => Reply::Array(
            std::iter::once(Reply::Simple("{".into()))
                .chain(m.iter().flat_map(|(k, x)| [Reply::bulk(k), to_resp(x)]))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_limit_matches_serde() {
        let nest = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(serde_json::from_str::<Value>(&nest(MAX_DEPTH)).is_ok());
        assert!(serde_json::from_str::<Value>(&nest(MAX_DEPTH + 1)).is_err());
        let deep: Value = serde_json::from_str(&nest(MAX_DEPTH)).unwrap();
        assert_eq!(depth(&deep), MAX_DEPTH);
        assert!(JsonDoc::new(deep.clone()).to_meta().is_ok());
        assert!(JsonDoc::new(json!([deep])).to_meta().is_err());
    }

    #[test]
    fn formatting() {
        let v = json!({"a": [1, {}], "b": "x"});
        assert_eq!(to_text(&v, &Format::default()), r#"{"a":[1,{}],"b":"x"}"#);
        let f = Format {
            indent: "\t".into(),
            newline: "\n".into(),
            space: " ".into(),
        };
        assert_eq!(
            to_text(&v, &f),
            "{\n\t\"a\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"b\": \"x\"\n}"
        );
        let only_indent = Format {
            indent: "_".into(),
            ..Format::default()
        };
        assert_eq!(to_text(&json!([{"k": 1}]), &only_indent), "[_{__\"k\":1_}]");
        assert_eq!(to_text(&json!([]), &f), "[]");
    }

    #[test]
    fn arithmetic() {
        let mut v = json!(1);
        assert_eq!(
            num_op(&mut v, NumOp::Incr, &2.into()).unwrap(),
            Number::from(3)
        );
        assert_eq!(v, json!(3));
        let half = Number::from_f64(1.5).unwrap();
        assert_eq!(
            num_op(&mut v, NumOp::Incr, &half).unwrap().to_string(),
            "4.5"
        );
        assert_eq!(
            num_op(&mut v, NumOp::Mult, &2.into()).unwrap().to_string(),
            "9.0"
        );
        assert_eq!(type_name(&v), "number");
        let mut big = json!(i64::MAX);
        assert!(num_op(&mut big, NumOp::Incr, &1.into()).is_err());
        let mut f = json!(1e308);
        assert!(num_op(&mut f, NumOp::Mult, &10.into()).is_err());
        assert!(parse_number(b"\"x\"").is_err());
        assert!(parse_number(b"x").is_err());
    }

    #[test]
    fn array_edits() {
        let mut a = vec![json!(1), json!(2), json!(3)];
        assert_eq!(arr_insert(&mut a, 0, &[json!(0)]).unwrap(), 4);
        assert_eq!(arr_insert(&mut a, -1, &[json!(2.5)]).unwrap(), 5);
        assert_eq!(a, vec![json!(0), json!(1), json!(2), json!(2.5), json!(3)]);
        assert!(arr_insert(&mut a, 6, &[json!(9)]).is_err());
        assert!(arr_insert(&mut a, -6, &[json!(9)]).is_err());
        assert_eq!(arr_pop(&mut a, -1), Some(json!(3)));
        assert_eq!(arr_pop(&mut a, 100), Some(json!(2.5)));
        assert_eq!(arr_pop(&mut a, 0), Some(json!(0)));
        assert_eq!(arr_pop(&mut Vec::new(), 0), None);
        let mut t: Vec<Value> = (0..5).map(Value::from).collect();
        assert_eq!(arr_trim(&mut t, 1, -2), 3);
        assert_eq!(t, vec![json!(1), json!(2), json!(3)]);
        assert_eq!(arr_trim(&mut t, 5, 10), 0);
        let mut t: Vec<Value> = (0..5).map(Value::from).collect();
        assert_eq!(arr_trim(&mut t, -100, 100), 5);
        assert_eq!(arr_trim(&mut t, 3, 1), 0);
        let arr = vec![json!(1), json!(1.0), json!("1"), json!([1]), json!(1)];
        assert_eq!(arr_index(&arr, &json!(1.0), 0, 0), 1);
        assert_eq!(arr_index(&arr, &json!(1), 1, 0), 4);
        assert_eq!(arr_index(&arr, &json!(1), 1, -1), -1);
        assert_eq!(arr_index(&arr, &json!([1]), 0, 0), 3);
        assert_eq!(arr_index(&arr, &json!(2), 0, 0), -1);
    }

    #[test]
    fn clear_merge_resp() {
        let mut v = json!({"a": [1], "b": {}, "c": 2.5, "d": "s"});
        for k in ["a", "b", "c", "d"] {
            clear_value(v.get_mut(k).unwrap());
        }
        assert_eq!(v, json!({"a": [], "b": {}, "c": 0, "d": "s"}));
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut t,
            &json!({"a": null, "b": {"c": null, "x": 1}, "e": 5, "n": {"m": null}}),
        );
        assert_eq!(t, json!({"b": {"d": 3, "x": 1}, "e": 5, "n": {}}));
        assert_eq!(
            to_resp(&json!({"a": [true, null, 1, 1.5]})),
            Reply::Array(vec![
                Reply::Simple("{".into()),
                Reply::bulk("a"),
                Reply::Array(vec![
                    Reply::Simple("[".into()),
                    Reply::Simple("true".into()),
                    Reply::Nil,
                    Reply::Int(1),
                    Reply::Double(1.5),
                ]),
            ])
        );
    }
}
