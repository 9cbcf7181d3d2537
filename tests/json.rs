//! JSON.* commands against the real server (two shards): RedisJSON reply
//! shapes for legacy and `$` paths, filters, errors, fan-out, the generic
//! key layer and durability.
mod common;
use common::{q, q_err, Server};
use redis::{Connection, FromRedisValue, Value};

/// Runs a command and converts its reply, panicking on an error.
fn get<T: FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

fn text(c: &mut Connection, args: &[&str]) -> String {
    get(c, args)
}

fn nil(c: &mut Connection, args: &[&str]) {
    assert_eq!(get::<Option<String>>(c, args), None, "{args:?}");
}

/// Parses a JSON reply so object member order does not matter.
fn json(c: &mut Connection, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&text(c, args)).unwrap()
}

fn bulk(b: &str) -> Value {
    Value::BulkString(b.as_bytes().to_vec())
}

const DOC: &str = r#"{"name":"Ann","age":30,"tags":["a","b"],"nested":{"name":"inner","n":1.5},"list":[{"id":1,"price":5},{"id":2,"price":15},{"id":3,"price":25}]}"#;

#[test]
fn get_with_legacy_and_dollar_paths() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    assert_eq!(text(&mut c, &["JSON.SET", "doc", "$", DOC]), "OK");
    // key order is kept
    assert_eq!(text(&mut c, &["JSON.GET", "doc"]), DOC);
    assert_eq!(text(&mut c, &["JSON.GET", "doc", "$"]), format!("[{DOC}]"));
    // legacy paths answer one value
    let cases = [
        (".name", "\"Ann\""),
        ("name", "\"Ann\""),
        (".tags[1]", "\"b\""),
        ("tags.[0]", "\"a\""),
        ("[\"nested\"].name", "\"inner\""),
        ("..name", "\"Ann\""),
        (".", DOC),
    ];
    for (path, want) in cases {
        assert_eq!(text(&mut c, &["JSON.GET", "doc", path]), want, "{path}");
    }
    // `$` paths answer an array of every match
    let cases = [
        ("$..name", r#"["Ann","inner"]"#),
        ("$.list[*].id", "[1,2,3]"),
        ("$.list[-1].id", "[3]"),
        ("$.list[0,2].id", "[1,3]"),
        ("$.list[1:].id", "[2,3]"),
        ("$.list[:2].id", "[1,2]"),
        ("$.list[::2].id", "[1,3]"),
        ("$['nested']['n']", "[1.5]"),
        ("$.nested.*", r#"["inner",1.5]"#),
        ("$.list[?(@.price > 10)].id", "[2,3]"),
        ("$.list[?(@.price >= 15 && @.id < 3)].id", "[2]"),
        ("$.list[?(@.id == 1 || @.id == 3)].id", "[1,3]"),
        ("$.list[?(@.price != 15)].id", "[1,3]"),
        ("$.list[?(@.price <= $.age)].id", "[1,2,3]"),
        ("$..[?(@.name =~ \"^in\")].n", "[1.5]"),
        ("$.tags[?(@ == 'b')]", r#"["b"]"#),
        ("$..list[?(@.price < 10)]", r#"[{"id":1,"price":5}]"#),
        ("$.missing", "[]"),
    ];
    for (path, want) in cases {
        assert_eq!(text(&mut c, &["JSON.GET", "doc", path]), want, "{path}");
    }
    assert_eq!(
        q_err(&mut c, &["JSON.GET", "doc", ".missing"]),
        "ERR Path '$.missing' does not exist"
    );
    // several paths: an object keyed by path
    assert_eq!(
        json(&mut c, &["JSON.GET", "doc", ".name", ".age"]),
        serde_json::json!({".name": "Ann", ".age": 30})
    );
    assert_eq!(
        json(&mut c, &["JSON.GET", "doc", "$.name", ".age"]),
        serde_json::json!({"$.name": ["Ann"], ".age": [30]})
    );
    assert_eq!(
        q_err(&mut c, &["JSON.GET", "doc", ".name", ".nope"]),
        "ERR Path '.nope' does not exist"
    );
    // formatting
    assert_eq!(
        text(
            &mut c,
            &["JSON.GET", "doc", "INDENT", "\t", "NEWLINE", "\n", "SPACE", " ", ".nested"]
        ),
        "{\n\t\"name\": \"inner\",\n\t\"n\": 1.5\n}"
    );
    assert_eq!(
        text(&mut c, &["JSON.GET", "doc", "INDENT", "  ", "$.tags"]),
        "[  [    \"a\",    \"b\"  ]]"
    );
    nil(&mut c, &["JSON.GET", "nope"]);
    nil(&mut c, &["JSON.GET", "nope", "$.a"]);
    // bad syntax
    let e = q_err(&mut c, &["JSON.GET", "doc", "$.list["]);
    assert!(e.starts_with("ERR Error occurred on position 7"), "{e}");
    let e = q_err(&mut c, &["JSON.GET", "doc", "$.list[?(@.id ==)]"]);
    assert!(e.starts_with("ERR Error occurred on position"), "{e}");
    assert_eq!(
        q_err(&mut c, &["JSON.GET"]),
        "ERR wrong number of arguments for 'json.get' command"
    );
}

#[test]
fn set_options_and_errors() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$", r#"{"a":1}"#]), "OK");
    nil(&mut c, &["JSON.SET", "k", "$", "2", "NX"]);
    nil(&mut c, &["JSON.SET", "k", "$.a", "3", "NX"]);
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$.b", "3", "nx"]), "OK");
    nil(&mut c, &["JSON.SET", "k", "$.c", "4", "XX"]);
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$.a", "5", "XX"]), "OK");
    nil(&mut c, &["JSON.SET", "k", ".d.e", "1"]);
    assert_eq!(text(&mut c, &["JSON.SET", "k", ".arr", "[1,2]"]), "OK");
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "k", "$.arr[5]", "1"]),
        "ERR array index out of range"
    );
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$.arr[0]", "9"]), "OK");
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "k", "$..x", "1"]),
        "ERR wrong static path"
    );
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$..a", "7"]), "OK");
    assert_eq!(
        text(&mut c, &["JSON.GET", "k"]),
        r#"{"a":7,"b":3,"arr":[9,2]}"#
    );
    // every match is updated
    assert_eq!(text(&mut c, &["JSON.SET", "k", "$.*", "0"]), "OK");
    assert_eq!(text(&mut c, &["JSON.GET", "k"]), r#"{"a":0,"b":0,"arr":0}"#);
    // new keys only at the root
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "new", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    nil(&mut c, &["JSON.SET", "new", "$", "1", "XX"]);
    assert_eq!(get::<i64>(&mut c, &["EXISTS", "new"]), 0);
    assert_eq!(
        text(&mut c, &["JSON.SET", "new", ".", "\"str\"", "NX"]),
        "OK"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "new"]), "\"str\"");
    // bad input
    let e = q_err(&mut c, &["JSON.SET", "k", "$", "{bad"]);
    assert!(e.starts_with("ERR ") && e.contains("line 1"), "{e}");
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "k", "$", "1", "NX", "XX"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "k", "$", "1", "BAD"]),
        "ERR syntax error"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.SET", "k", "$"]),
        "ERR wrong number of arguments for 'json.set' command"
    );
    // other types
    let _: () = get(&mut c, &["SET", "str", "x"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        &["JSON.SET", "str", "$", "1"][..],
        &["JSON.GET", "str"],
        &["JSON.DEL", "str"],
        &["JSON.ARRAPPEND", "str", "$", "1"],
        &["JSON.STRLEN", "str"],
    ] {
        assert_eq!(q_err(&mut c, cmd), wrongtype, "{cmd:?}");
    }
    assert_eq!(text(&mut c, &["TYPE", "k"]), "ReJSON-RL");
}

#[test]
fn del_forget_and_clear() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"a":1,"b":{"a":2,"c":[1,2,3]},"s":"x","z":0}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "d", "$", doc]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "d", "$..a"]), 2);
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "d", ".nope"]), 0);
    assert_eq!(get::<i64>(&mut c, &["JSON.FORGET", "d", "$.b.c[0]"]), 1);
    assert_eq!(text(&mut c, &["JSON.GET", "d", "$.b.c"]), "[[2,3]]");
    assert_eq!(get::<i64>(&mut c, &["JSON.CLEAR", "d", "$.*"]), 1);
    assert_eq!(
        text(&mut c, &["JSON.GET", "d"]),
        r#"{"b":{},"s":"x","z":0}"#
    );
    assert_eq!(text(&mut c, &["JSON.SET", "d", "$.n", "[5.5]"]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.CLEAR", "d", "$.n[0]"]), 1);
    assert_eq!(text(&mut c, &["JSON.GET", "d", ".n"]), "[0]");
    assert_eq!(get::<i64>(&mut c, &["JSON.CLEAR", "d"]), 1);
    assert_eq!(text(&mut c, &["JSON.GET", "d"]), "{}");
    assert_eq!(
        q_err(&mut c, &["JSON.CLEAR", "nope"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    // deleting the root deletes the key
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "d"]), 1);
    assert_eq!(get::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "d"]), 0);
    assert_eq!(text(&mut c, &["JSON.SET", "d", "$", "[1]"]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "d", "$"]), 1);
    assert_eq!(get::<i64>(&mut c, &["EXISTS", "d"]), 0);
    // nested matches count once; several indices of one array
    assert_eq!(
        text(
            &mut c,
            &["JSON.SET", "e", "$", r#"{"a":{"a":{"a":1}},"b":1}"#]
        ),
        "OK"
    );
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "e", "$..a"]), 1);
    assert_eq!(text(&mut c, &["JSON.GET", "e"]), r#"{"b":1}"#);
    assert_eq!(text(&mut c, &["JSON.SET", "f", "$", "[0,1,2,3,4]"]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "f", "$[1,3]"]), 2);
    assert_eq!(text(&mut c, &["JSON.GET", "f"]), "[0,2,4]");
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "f", "$[?(@ > 0)]"]), 2);
    assert_eq!(text(&mut c, &["JSON.GET", "f"]), "[0]");
}

#[test]
fn numbers() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"i":1,"f":1.5,"s":"x","o":{"i":10}}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "n", "$", doc]), "OK");
    assert_eq!(text(&mut c, &["JSON.NUMINCRBY", "n", ".i", "2"]), "3");
    assert_eq!(text(&mut c, &["JSON.NUMINCRBY", "n", "$.i", "2"]), "[5]");
    assert_eq!(text(&mut c, &["JSON.NUMINCRBY", "n", ".f", "1.5"]), "3.0");
    assert_eq!(text(&mut c, &["JSON.NUMINCRBY", "n", "i", "0.5"]), "5.5");
    assert_eq!(
        text(&mut c, &["JSON.NUMMULTBY", "n", "$..i", "2"]),
        "[11.0,20]"
    );
    assert_eq!(
        text(&mut c, &["JSON.NUMINCRBY", "n", "$.*", "1"]),
        "[12.0,4.0,null,null]"
    );
    assert_eq!(text(&mut c, &["JSON.NUMMULTBY", "n", ".o.i", "-3"]), "-60");
    assert_eq!(
        text(&mut c, &["JSON.GET", "n"]),
        r#"{"i":12.0,"f":4.0,"s":"x","o":{"i":-60}}"#
    );
    let types: Vec<String> = get(&mut c, &["JSON.TYPE", "n", "$..i"]);
    assert_eq!(types, ["number", "integer"]);
    assert_eq!(
        q_err(&mut c, &["JSON.NUMINCRBY", "n", ".s", "1"]),
        "ERR Path '$.s' does not exist or does not contains a number"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.NUMINCRBY", "nope", ".i", "1"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    let e = q_err(&mut c, &["JSON.NUMINCRBY", "n", ".o.i", "abc"]);
    assert!(e.starts_with("ERR "), "{e}");
    // the number is only checked when something matches
    assert_eq!(
        text(&mut c, &["JSON.NUMINCRBY", "n", "$.s", "abc"]),
        "[null]"
    );
    assert_eq!(
        text(&mut c, &["JSON.SET", "big", "$", "9223372036854775807"]),
        "OK"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.NUMINCRBY", "big", "$", "1"]),
        "ERR numeric overflow"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.NUMINCRBY", "n", ".i"]),
        "ERR wrong number of arguments for 'json.numincrby' command"
    );
}

#[test]
fn strings_and_booleans() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"s":"ab","b":true,"n":1,"o":{"s":"x"}}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "t", "$", doc]), "OK");
    assert_eq!(
        get::<i64>(&mut c, &["JSON.STRAPPEND", "t", ".s", "\"cd\""]),
        4
    );
    let lens: Vec<i64> = get(&mut c, &["JSON.STRAPPEND", "t", "$..s", "\"!\""]);
    assert_eq!(lens, [5, 2]);
    assert_eq!(get::<i64>(&mut c, &["JSON.STRLEN", "t", ".s"]), 5);
    let lens: Vec<Option<i64>> = get(&mut c, &["JSON.STRLEN", "t", "$.*"]);
    assert_eq!(lens, [Some(5), None, None, None]);
    assert_eq!(
        q_err(&mut c, &["JSON.STRLEN", "t", ".n"]),
        "WRONGTYPE wrong type of path value - expected string but found integer"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.STRLEN", "t", ".zz"]),
        "ERR Path '$.zz' does not exist"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.STRAPPEND", "t", ".n", "\"x\""]),
        "ERR Path '$.n' does not exist or not a string"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.STRAPPEND", "t", ".s", "1"]),
        "WRONGTYPE wrong type of path value - expected string but found 1"
    );
    nil(&mut c, &["JSON.STRLEN", "nope"]);
    assert_eq!(
        q_err(&mut c, &["JSON.STRLEN", "nope", "$"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    assert_eq!(text(&mut c, &["JSON.SET", "str", "$", "\"hi\""]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.STRAPPEND", "str", "\"!\""]), 3);
    assert_eq!(get::<i64>(&mut c, &["JSON.STRLEN", "str"]), 3);
    assert_eq!(text(&mut c, &["JSON.GET", "str"]), "\"hi!\"");
    // toggle: legacy answers "true"/"false", `$` answers 1/0 per match
    assert_eq!(text(&mut c, &["JSON.TOGGLE", "t", ".b"]), "false");
    let r: Vec<i64> = get(&mut c, &["JSON.TOGGLE", "t", "$.b"]);
    assert_eq!(r, [1]);
    let r: Vec<Option<i64>> = get(&mut c, &["JSON.TOGGLE", "t", "$.*"]);
    assert_eq!(r, [None, Some(0), None, None]);
    assert_eq!(
        q_err(&mut c, &["JSON.TOGGLE", "t", ".n"]),
        "ERR Path '$.n' does not exist or not a bool"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "t", ".b"]), "false");
}

#[test]
fn arrays() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"arr":[1,2,3],"o":{"arr":[]},"x":1}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "a", "$", doc]), "OK");
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRAPPEND", "a", ".arr", "4", "\"five\""]),
        5
    );
    let r: Vec<i64> = get(&mut c, &["JSON.ARRAPPEND", "a", "$..arr", "0"]);
    assert_eq!(r, [6, 1]);
    assert_eq!(get::<i64>(&mut c, &["JSON.ARRLEN", "a", ".arr"]), 6);
    let r: Vec<Option<i64>> = get(&mut c, &["JSON.ARRLEN", "a", "$.*"]);
    assert_eq!(r, [Some(6), None, None]);
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINDEX", "a", ".arr", "\"five\""]),
        4
    );
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINDEX", "a", ".arr", "1", "1"]),
        -1
    );
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINDEX", "a", ".arr", "3", "0", "-2"]),
        2
    );
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINDEX", "a", ".arr", "3.0"]),
        -1
    );
    let r: Vec<Option<i64>> = get(&mut c, &["JSON.ARRINDEX", "a", "$..arr", "0"]);
    assert_eq!(r, [Some(5), Some(0)]);
    let r: Vec<Option<i64>> = get(&mut c, &["JSON.ARRINDEX", "a", "$.x", "0"]);
    assert_eq!(r, [None]);
    assert_eq!(
        q_err(&mut c, &["JSON.ARRINDEX", "a", ".x", "0"]),
        "WRONGTYPE wrong type of path value - expected array but found integer"
    );
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINSERT", "a", ".arr", "0", "\"zero\""]),
        7
    );
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRINSERT", "a", ".arr", "-1", "\"m\""]),
        8
    );
    assert_eq!(
        text(&mut c, &["JSON.GET", "a", ".arr"]),
        r#"["zero",1,2,3,4,"five","m",0]"#
    );
    assert_eq!(
        q_err(&mut c, &["JSON.ARRINSERT", "a", ".arr", "99", "1"]),
        "ERR index out of bounds"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.ARRINSERT", "a", ".arr", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    // pop: last by default, JSON text of the element
    assert_eq!(text(&mut c, &["JSON.ARRPOP", "a", ".arr"]), "0");
    assert_eq!(text(&mut c, &["JSON.ARRPOP", "a", ".arr", "0"]), "\"zero\"");
    let r: Vec<String> = get(&mut c, &["JSON.ARRPOP", "a", "$..arr"]);
    assert_eq!(r, ["\"m\"", "0"]);
    let r: Vec<Option<String>> = get(&mut c, &["JSON.ARRPOP", "a", "$.o.arr"]);
    assert_eq!(r, [None]);
    nil(&mut c, &["JSON.ARRPOP", "a", ".o.arr"]);
    // trim keeps an inclusive range
    assert_eq!(
        get::<i64>(&mut c, &["JSON.ARRTRIM", "a", ".arr", "1", "-2"]),
        3
    );
    assert_eq!(text(&mut c, &["JSON.GET", "a", ".arr"]), "[2,3,4]");
    let r: Vec<i64> = get(&mut c, &["JSON.ARRTRIM", "a", "$.arr", "5", "10"]);
    assert_eq!(r, [0]);
    // legacy errors, missing keys
    assert_eq!(
        q_err(&mut c, &["JSON.ARRLEN", "a", ".x"]),
        "ERR Path '.x' does not exist or not an array"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.ARRAPPEND", "a", ".x", "1"]),
        "ERR Path '.x' does not exist or not an array"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.ARRPOP", "a", ".x"]),
        "ERR Path '$.x' does not exist or not an array"
    );
    nil(&mut c, &["JSON.ARRLEN", "nope"]);
    assert_eq!(
        q_err(&mut c, &["JSON.ARRLEN", "nope", "$"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.ARRAPPEND", "a", ".arr"]),
        "ERR wrong number of arguments for 'json.arrappend' command"
    );
    assert_eq!(text(&mut c, &["JSON.SET", "r", "$", "[1,2,3]"]), "OK");
    assert_eq!(text(&mut c, &["JSON.ARRPOP", "r"]), "3");
    assert_eq!(get::<i64>(&mut c, &["JSON.ARRLEN", "r"]), 2);
    // nested arrays matched together stay consistent
    assert_eq!(
        text(
            &mut c,
            &["JSON.SET", "m", "$", r#"{"a":[[1,2,3],[4,5,6]]}"#]
        ),
        "OK"
    );
    let r: Vec<Option<String>> = get(&mut c, &["JSON.ARRPOP", "m", "$..*", "-1"]);
    let popped = [Some("[4,5]"), Some("3"), Some("6")];
    assert_eq!(r[..3], popped.map(|p| p.map(String::from)));
    assert!(r[3..].iter().all(Option::is_none), "{r:?}");
    assert_eq!(text(&mut c, &["JSON.GET", "m"]), r#"{"a":[[1,2]]}"#);
}

#[test]
fn objects_types_and_resp() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"a":1,"b":{"c":true,"d":null},"e":[1,2.5,"s"]}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "o", "$", doc]), "OK");
    let keys: Vec<String> = get(&mut c, &["JSON.OBJKEYS", "o"]);
    assert_eq!(keys, ["a", "b", "e"]);
    let keys: Vec<Option<Vec<String>>> = get(&mut c, &["JSON.OBJKEYS", "o", "$.*"]);
    assert_eq!(keys, [None, Some(vec!["c".into(), "d".into()]), None]);
    assert_eq!(
        q_err(&mut c, &["JSON.OBJKEYS", "o", ".a"]),
        "ERR Path '$.a' does not exist or not an object"
    );
    assert_eq!(get::<i64>(&mut c, &["JSON.OBJLEN", "o"]), 3);
    let lens: Vec<Option<i64>> = get(&mut c, &["JSON.OBJLEN", "o", "$..b"]);
    assert_eq!(lens, [Some(2)]);
    assert_eq!(
        q_err(&mut c, &["JSON.OBJLEN", "o", ".a"]),
        "WRONGTYPE wrong type of path value - expected object but found integer"
    );
    nil(&mut c, &["JSON.OBJLEN", "o", ".zz"]);
    nil(&mut c, &["JSON.OBJLEN", "nope"]);
    assert_eq!(text(&mut c, &["JSON.TYPE", "o"]), "object");
    let types: Vec<String> = get(&mut c, &["JSON.TYPE", "o", "$.*"]);
    assert_eq!(types, ["integer", "object", "array"]);
    assert_eq!(text(&mut c, &["JSON.TYPE", "o", ".b.d"]), "null");
    assert_eq!(text(&mut c, &["JSON.TYPE", "o", ".b.c"]), "boolean");
    assert_eq!(text(&mut c, &["JSON.TYPE", "o", ".e[1]"]), "number");
    assert_eq!(text(&mut c, &["JSON.TYPE", "o", ".e[2]"]), "string");
    nil(&mut c, &["JSON.TYPE", "o", ".zz"]);
    nil(&mut c, &["JSON.TYPE", "nope"]);
    let types: Vec<String> = get(&mut c, &["JSON.TYPE", "o", "$.zz"]);
    assert!(types.is_empty());
    // JSON.RESP
    let ok = |s: &str| Value::SimpleString(s.into());
    assert_eq!(
        q(&mut c, &["JSON.RESP", "o", ".e"]),
        Value::Array(vec![ok("["), Value::Int(1), bulk("2.5"), bulk("s")])
    );
    assert_eq!(
        q(&mut c, &["JSON.RESP", "o", ".b"]),
        Value::Array(vec![ok("{"), bulk("c"), ok("true"), bulk("d"), Value::Nil])
    );
    assert_eq!(
        q(&mut c, &["JSON.RESP", "o", "$.a"]),
        Value::Array(vec![Value::Int(1)])
    );
    assert_eq!(q(&mut c, &["JSON.RESP", "nope"]), Value::Nil);
}

#[test]
fn merge_patch() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let doc = r#"{"a":1,"b":{"c":2,"d":3},"e":[1]}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "m", "$", doc]), "OK");
    let patch = r#"{"a":null,"b":{"c":20,"x":1},"e":[2],"n":{"k":null}}"#;
    assert_eq!(text(&mut c, &["JSON.MERGE", "m", "$", patch]), "OK");
    assert_eq!(
        text(&mut c, &["JSON.GET", "m"]),
        r#"{"b":{"c":20,"d":3,"x":1},"e":[2],"n":{}}"#
    );
    assert_eq!(
        text(&mut c, &["JSON.MERGE", "m", "$.b", r#"{"d":null}"#]),
        "OK"
    );
    assert_eq!(
        text(&mut c, &["JSON.GET", "m", "$.b"]),
        r#"[{"c":20,"x":1}]"#
    );
    assert_eq!(
        text(&mut c, &["JSON.MERGE", "m", ".new", r#"{"z":1}"#]),
        "OK"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "m", ".new"]), r#"{"z":1}"#);
    assert_eq!(text(&mut c, &["JSON.MERGE", "m", "$..c", "5"]), "OK");
    assert_eq!(text(&mut c, &["JSON.GET", "m", ".b.c"]), "5");
    nil(&mut c, &["JSON.MERGE", "m", "$.q.r", "1"]);
    assert_eq!(
        q_err(&mut c, &["JSON.MERGE", "nope", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    assert_eq!(
        text(&mut c, &["JSON.MERGE", "nope", "$", r#"{"a":1}"#]),
        "OK"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "nope"]), r#"{"a":1}"#);
}

#[test]
fn mget_and_mset_across_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    // "foo" and "bar" live on different shards with 2 shards
    assert_eq!(
        text(
            &mut c,
            &[
                "JSON.MSET",
                "foo",
                "$",
                r#"{"a":1}"#,
                "bar",
                "$",
                r#"{"a":2}"#,
                "baz",
                "$",
                r#"{"b":3}"#
            ]
        ),
        "OK"
    );
    let r: Vec<Option<String>> = get(&mut c, &["JSON.MGET", "foo", "bar", "baz", "nope", "$.a"]);
    assert_eq!(
        r,
        [
            Some("[1]".into()),
            Some("[2]".into()),
            Some("[]".into()),
            None
        ]
    );
    let r: Vec<Option<String>> = get(&mut c, &["JSON.MGET", "bar", "foo", "baz", ".a"]);
    assert_eq!(r, [Some("2".into()), Some("1".into()), None]);
    let _: () = get(&mut c, &["SET", "plain", "x"]);
    let r: Vec<Option<String>> = get(&mut c, &["JSON.MGET", "foo", "plain", "bar", "$..a"]);
    assert_eq!(r, [Some("[1]".into()), None, Some("[2]".into())]);
    assert_eq!(
        text(
            &mut c,
            &["JSON.MSET", "foo", "$.a", "10", "bar", "$.c", "\"new\""]
        ),
        "OK"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "foo"]), r#"{"a":10}"#);
    assert_eq!(text(&mut c, &["JSON.GET", "bar"]), r#"{"a":2,"c":"new"}"#);
    // later triplets on one key see the earlier ones
    assert_eq!(
        text(&mut c, &["JSON.MSET", "foo", "$.a", "2", "foo", "$.b", "3"]),
        "OK"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "foo"]), r#"{"a":2,"b":3}"#);
    assert_eq!(
        q_err(&mut c, &["JSON.MSET", "missing", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.MSET", "foo", "$", "1", "bar"]),
        "ERR wrong number of arguments for 'json.mset' command"
    );
    assert_eq!(
        q_err(&mut c, &["JSON.MGET", "foo"]),
        "ERR wrong number of arguments for 'json.mget' command"
    );
    // a document too deep for the last key: nothing is written, the first
    // key keeps its value, and nothing was staged for the failed command
    let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
    assert_eq!(
        text(&mut c, &["JSON.MSET", "{t}a", "$", "0", "{t}b", "$", "{}"]),
        "OK"
    );
    assert_eq!(
        q_err(
            &mut c,
            &["JSON.MSET", "{t}a", "$", "1", "{t}b", "$.x", &deep]
        ),
        "ERR recursion limit exceeded"
    );
    assert_eq!(text(&mut c, &["JSON.GET", "{t}a"]), "0");
    assert_eq!(text(&mut c, &["JSON.GET", "{t}b"]), "{}");
    assert_eq!(
        common::info_field(&mut c, "hot_cache_dropped_batches").as_deref(),
        Some("0")
    );
}

#[test]
fn generic_key_layer_and_persistence() {
    let mut s = Server::start(2, &["--sync", "always"]);
    let mut c = s.conn();
    assert_eq!(
        text(&mut c, &["JSON.SET", "foo", "$", r#"{"a":[1,2]}"#]),
        "OK"
    );
    assert_eq!(get::<i64>(&mut c, &["EXPIRE", "foo", "100"]), 1);
    // changes keep the TTL
    assert_eq!(text(&mut c, &["JSON.SET", "foo", "$.a[0]", "5"]), "OK");
    assert_eq!(get::<i64>(&mut c, &["JSON.ARRAPPEND", "foo", ".a", "3"]), 3);
    assert!(get::<i64>(&mut c, &["TTL", "foo"]) > 0);
    // RENAME to another shard, COPY, DEL
    let _: () = get(&mut c, &["RENAME", "foo", "bar"]);
    assert_eq!(text(&mut c, &["JSON.GET", "bar"]), r#"{"a":[5,2,3]}"#);
    assert_eq!(text(&mut c, &["TYPE", "bar"]), "ReJSON-RL");
    assert!(get::<i64>(&mut c, &["TTL", "bar"]) > 0);
    nil(&mut c, &["JSON.GET", "foo"]);
    assert_eq!(get::<i64>(&mut c, &["COPY", "bar", "baz"]), 1);
    assert_eq!(text(&mut c, &["JSON.GET", "baz", "$.a[2]"]), "[3]");
    assert_eq!(get::<i64>(&mut c, &["DEL", "baz"]), 1);
    nil(&mut c, &["JSON.GET", "baz"]);
    assert_eq!(get::<i64>(&mut c, &["PERSIST", "bar"]), 1);
    // a short TTL expires the document
    assert_eq!(text(&mut c, &["JSON.SET", "tmp", "$", "1"]), "OK");
    assert_eq!(get::<i64>(&mut c, &["PEXPIRE", "tmp", "50"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(120));
    nil(&mut c, &["JSON.GET", "tmp"]);
    // kill -9 and restart: every acknowledged write is there
    let profile = r#"{"name":"Ada","langs":["en","fr"],"score":1.5}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "user", "$", profile]), "OK");
    assert_eq!(
        text(&mut c, &["JSON.NUMINCRBY", "user", "$.score", "1"]),
        "[2.5]"
    );
    drop(c);
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(text(&mut c, &["JSON.GET", "bar"]), r#"{"a":[5,2,3]}"#);
    assert_eq!(get::<i64>(&mut c, &["TTL", "bar"]), -1);
    assert_eq!(
        text(&mut c, &["JSON.GET", "user"]),
        r#"{"name":"Ada","langs":["en","fr"],"score":2.5}"#
    );
    assert_eq!(text(&mut c, &["TYPE", "user"]), "ReJSON-RL");
}

#[test]
fn user_profile_example() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let profile = r#"{"name":"Ada Lovelace","email":"ada@example.com","address":{"city":"London","zip":"NW1"},"tags":["math"],"logins":0,"active":false}"#;
    assert_eq!(text(&mut c, &["JSON.SET", "user:1", "$", profile]), "OK");
    // update a nested field
    assert_eq!(
        text(
            &mut c,
            &["JSON.SET", "user:1", "$.address.city", "\"Paris\""]
        ),
        "OK"
    );
    // append to an array
    let r: Vec<i64> = get(
        &mut c,
        &["JSON.ARRAPPEND", "user:1", "$.tags", "\"poetry\""],
    );
    assert_eq!(r, [2]);
    assert_eq!(
        text(&mut c, &["JSON.NUMINCRBY", "user:1", "$.logins", "1"]),
        "[1]"
    );
    let r: Vec<i64> = get(&mut c, &["JSON.TOGGLE", "user:1", "$.active"]);
    assert_eq!(r, [1]);
    // several paths at once
    assert_eq!(
        json(
            &mut c,
            &["JSON.GET", "user:1", "$.name", "$.address.city", "$.tags"]
        ),
        serde_json::json!({
            "$.name": ["Ada Lovelace"],
            "$.address.city": ["Paris"],
            "$.tags": [["math", "poetry"]]
        })
    );
    assert_eq!(
        json(
            &mut c,
            &["JSON.GET", "user:1", ".name", ".address.zip", ".logins"]
        ),
        serde_json::json!({".name": "Ada Lovelace", ".address.zip": "NW1", ".logins": 1})
    );
    assert_eq!(
        json(&mut c, &["JSON.GET", "user:1"]),
        serde_json::json!({
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "address": {"city": "Paris", "zip": "NW1"},
            "tags": ["math", "poetry"],
            "logins": 1,
            "active": true
        })
    );
    let keys: Vec<String> = get(&mut c, &["JSON.OBJKEYS", "user:1", ".address"]);
    assert_eq!(keys, ["city", "zip"]);
    assert_eq!(get::<i64>(&mut c, &["JSON.DEL", "user:1", "$.email"]), 1);
    assert_eq!(get::<i64>(&mut c, &["JSON.OBJLEN", "user:1"]), 5);
}
