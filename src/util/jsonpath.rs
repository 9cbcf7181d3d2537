//! RedisJSON's path dialect: JSONPath when a path starts with `$`, legacy dot
//! paths (`.a.b`, `a[0]`, `.`) otherwise.
//!
//! A legacy path is rewritten to JSONPath the way RedisJSON does it (`.` →
//! `$`, `.a` → `$.a`, `a.b` → `$.a.b`) and only remembers that it was legacy:
//! that decides the reply shape (first match vs. every match), not the
//! matching. [`JsonPath::find`] returns every match with its concrete
//! [`Location`], so commands read values and update them (through
//! [`get_mut`] and [`remove`]) with one resolution routine.
//!
//! Supported: `.name`, `['name']`, `["a","b"]` unions, `*`, `..` recursive
//! descent, `[n]` and negative indices, `[0,2]` unions, `[start:end:step]`
//! slices, and `[?(...)]` filters with `==`, `!=`, `<`, `<=`, `>`, `>=`,
//! `=~` (regex search), `&&`, `||`, `!`, parentheses, `@` (current node) and
//! `$` (document root) terms. Evaluation follows RedisJSON's engine: an index
//! before the start of an array clamps to 0, slice bounds clamp, a filter on
//! a container tests its children and on a scalar tests the scalar itself,
//! and a path term in a filter counts only when it matches exactly one value.

use regex::Regex;
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// One step of a concrete location: an object member or an array element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Object member name.
    Key(String),
    /// Array index.
    Index(usize),
}

/// The steps from the document root to one value.
pub type Location = Vec<Step>;

/// A path syntax error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// Byte offset of the error in the (normalized) path.
    pub pos: usize,
    /// The normalized path text.
    pub path: String,
    /// What the parser expected at `pos`.
    pub expected: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut at = self.pos.min(self.path.len());
        while !self.path.is_char_boundary(at) {
            at -= 1;
        }
        let (before, after) = self.path.split_at(at);
        if after.is_empty() {
            write!(
                f,
                "Error occurred on position {}, \"{before} <<<<----\", expected {}.",
                self.pos, self.expected
            )
        } else {
            write!(
                f,
                "Error occurred on position {}, \"{before} ---->>>> {after}\", expected {}.",
                self.pos, self.expected
            )
        }
    }
}

/// The last step of a static path (one that can match at most one value).
#[derive(Clone, Debug, PartialEq)]
pub enum Last {
    /// An object member name.
    Key(String),
    /// An array index as written (may be negative).
    Index(i64),
}

/// A parsed path.
#[derive(Clone, Debug)]
pub struct JsonPath {
    original: String,
    normalized: String,
    legacy: bool,
    segs: Vec<Seg>,
}

#[derive(Clone, Debug)]
enum Seg {
    /// `.name`, `['name']`, `['a','b']`.
    Names(Vec<String>),
    /// `[1]`, `[0,-1]`.
    Indices(Vec<i64>),
    /// `[start:end:step]`.
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: usize,
    },
    /// `*`.
    All,
    /// `..`: the rest of the path applies to the node and every descendant.
    Descend,
    /// `[?(...)]`.
    Filter(Box<Expr>),
}

#[derive(Clone, Debug)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A lone term: true when it evaluates to something.
    Exists(Term),
    Cmp(Term, Op, Term),
    /// `=~`, with the pattern compiled when it is a literal (`None` if the
    /// literal is not a valid regex: it then never matches).
    Match(Term, Term, Option<Regex>),
}

#[derive(Clone, Debug)]
enum Term {
    Current(Vec<Seg>),
    Root(Vec<Seg>),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Rewrites a path the way RedisJSON does; returns the JSONPath text and
/// whether the input was a legacy path.
pub fn normalize(raw: &str) -> (String, bool) {
    let b = raw.as_bytes();
    if b.first() == Some(&b'$') && (b.len() == 1 || b[1] == b'.' || b[1] == b'[') {
        (raw.to_string(), false)
    } else if raw == "." {
        ("$".to_string(), true)
    } else if raw.starts_with('.') {
        (format!("${raw}"), true)
    } else {
        (format!("$.{raw}"), true)
    }
}

impl JsonPath {
    /// Parses a path argument (JSONPath or legacy).
    pub fn parse(raw: &str) -> Result<JsonPath, PathError> {
        let (normalized, legacy) = normalize(raw);
        let mut p = Parser {
            src: &normalized,
            pos: 0,
        };
        p.ws();
        if !p.eat(b'$') {
            return p.fail("'$'");
        }
        let segs = p.segments()?;
        p.ws();
        if p.pos < p.src.len() {
            return p.fail("'.', '[' or the end of the path");
        }
        Ok(JsonPath {
            original: raw.to_string(),
            legacy,
            segs,
            normalized,
        })
    }

    /// The path as given.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The path rewritten to JSONPath (`.a` → `$.a`).
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Whether the path was given in legacy (non-`$`) form.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// Whether the path is the document root (`$` or `.`).
    pub fn is_root(&self) -> bool {
        self.segs.is_empty()
    }

    /// Every match, in document order, with its location.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<(Location, &'a Value)> {
        let mut out = Vec::new();
        walk(&self.segs, root, root, &mut Vec::new(), &mut |loc, v| {
            out.push((loc.iter().copied().map(StepRef::to_owned).collect(), v))
        });
        out
    }

    /// Every matching value, in document order.
    pub fn values<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        walk(&self.segs, root, root, &mut Vec::new(), &mut |_, v| {
            out.push(v)
        });
        out
    }

    /// For a static, non-root path (only single names and indices): the
    /// parent path and the last step. `None` for any other path.
    pub fn split_last(&self) -> Option<(JsonPath, Last)> {
        let (last, parent) = self.segs.split_last()?;
        let single = |s: &Seg| match s {
            Seg::Names(n) if n.len() == 1 => Some(Last::Key(n[0].clone())),
            Seg::Indices(i) if i.len() == 1 => Some(Last::Index(i[0])),
            _ => None,
        };
        if !parent.iter().all(|s| single(s).is_some()) {
            return None;
        }
        let last = single(last)?;
        let parent = JsonPath {
            segs: parent.to_vec(),
            ..self.clone()
        };
        Some((parent, last))
    }
}

/// The value at `loc`, if it still exists.
pub fn get<'a>(root: &'a Value, loc: &[Step]) -> Option<&'a Value> {
    loc.iter().try_fold(root, |cur, step| match (step, cur) {
        (Step::Key(k), Value::Object(m)) => m.get(k),
        (Step::Index(i), Value::Array(a)) => a.get(*i),
        _ => None,
    })
}

/// The value at `loc` for update, if it still exists.
pub fn get_mut<'a>(root: &'a mut Value, loc: &[Step]) -> Option<&'a mut Value> {
    loc.iter().try_fold(root, |cur, step| match (step, cur) {
        (Step::Key(k), Value::Object(m)) => m.get_mut(k),
        (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
        _ => None,
    })
}

/// Removes the value at `loc` from its parent (object members keep their
/// order). `None` if it does not exist or `loc` is the root.
pub fn remove(root: &mut Value, loc: &[Step]) -> Option<Value> {
    let (last, parent) = loc.split_last()?;
    match (last, get_mut(root, parent)?) {
        (Step::Key(k), Value::Object(m)) => m.shift_remove(k),
        (Step::Index(i), Value::Array(a)) if *i < a.len() => Some(a.remove(*i)),
        _ => None,
    }
}

/// An order in which several locations can be changed one after the other
/// without invalidating each other: a location comes before its ancestors,
/// and a higher array index before a lower one.
pub fn mutation_order(a: &[Step], b: &[Step]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Step::Key(p), Step::Key(q)) => p.cmp(q),
            (Step::Index(p), Step::Index(q)) => q.cmp(p),
            (Step::Key(_), Step::Index(_)) => Ordering::Less,
            (Step::Index(_), Step::Key(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    b.len().cmp(&a.len())
}

/// A location step borrowing the document's key.
#[derive(Clone, Copy)]
enum StepRef<'a> {
    Key(&'a str),
    Index(usize),
}

impl StepRef<'_> {
    fn to_owned(self) -> Step {
        match self {
            StepRef::Key(k) => Step::Key(k.to_string()),
            StepRef::Index(i) => Step::Index(i),
        }
    }
}

type Emit<'e, 'a> = dyn FnMut(&[StepRef<'a>], &'a Value) + 'e;

/// RedisJSON's index rule: non-negative indices as is (past the end matches
/// nothing), negative ones from the end, clamped to the first element.
fn abs_index(i: i64, len: usize) -> usize {
    if i >= 0 {
        (i as u64).min(len as u64) as usize
    } else {
        (len as i64).saturating_add(i).max(0) as usize
    }
}

fn walk<'a>(
    segs: &[Seg],
    node: &'a Value,
    root: &'a Value,
    loc: &mut Vec<StepRef<'a>>,
    emit: &mut Emit<'_, 'a>,
) {
    let Some((seg, rest)) = segs.split_first() else {
        emit(loc, node);
        return;
    };
    let mut child = |step: StepRef<'a>, v: &'a Value, loc: &mut Vec<StepRef<'a>>| {
        loc.push(step);
        walk(rest, v, root, loc, emit);
        loc.pop();
    };
    match (seg, node) {
        (Seg::Names(names), Value::Object(m)) => {
            for n in names {
                if let Some((k, v)) = m.get_key_value(n) {
                    child(StepRef::Key(k), v, loc);
                }
            }
        }
        (Seg::Indices(ix), Value::Array(a)) => {
            for &i in ix {
                let i = abs_index(i, a.len());
                if let Some(v) = a.get(i) {
                    child(StepRef::Index(i), v, loc);
                }
            }
        }
        (Seg::Slice { start, end, step }, Value::Array(a)) => {
            let from = start.map_or(0, |s| abs_index(s, a.len()));
            let to = end.map_or(a.len(), |e| abs_index(e, a.len()));
            for i in (from..to).step_by(*step) {
                child(StepRef::Index(i), &a[i], loc);
            }
        }
        (Seg::All, Value::Object(m)) => {
            for (k, v) in m {
                child(StepRef::Key(k), v, loc);
            }
        }
        (Seg::All, Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                child(StepRef::Index(i), v, loc);
            }
        }
        (Seg::Descend, _) => {
            walk(rest, node, root, loc, emit);
            descend(rest, node, root, loc, emit);
        }
        (Seg::Filter(e), Value::Object(m)) => {
            for (k, v) in m {
                if test(e, v, root) {
                    child(StepRef::Key(k), v, loc);
                }
            }
        }
        (Seg::Filter(e), Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                if test(e, v, root) {
                    child(StepRef::Index(i), v, loc);
                }
            }
        }
        (Seg::Filter(e), _) if test(e, node, root) => {
            walk(rest, node, root, loc, emit);
        }
        _ => {}
    }
}

/// Applies `rest` to every descendant of `node` (pre-order).
fn descend<'a>(
    rest: &[Seg],
    node: &'a Value,
    root: &'a Value,
    loc: &mut Vec<StepRef<'a>>,
    emit: &mut Emit<'_, 'a>,
) {
    let mut visit = |step: StepRef<'a>, v: &'a Value, loc: &mut Vec<StepRef<'a>>| {
        loc.push(step);
        walk(rest, v, root, loc, emit);
        descend(rest, v, root, loc, emit);
        loc.pop();
    };
    match node {
        Value::Object(m) => {
            for (k, v) in m {
                visit(StepRef::Key(k), v, loc);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                visit(StepRef::Index(i), v, loc);
            }
        }
        _ => {}
    }
}

/// The value of a filter term.
enum Val<'a> {
    Json(&'a Value),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    Null,
    /// A path term that matched zero or several values.
    Invalid,
}

impl<'a> Val<'a> {
    /// Unwraps JSON scalars into comparable values; containers stay `Json`.
    fn scalar(self) -> Val<'a> {
        match self {
            Val::Json(Value::Number(n)) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Val::Json(Value::String(s)) => Val::Str(s),
            Val::Json(Value::Bool(b)) => Val::Bool(*b),
            Val::Json(Value::Null) => Val::Null,
            other => other,
        }
    }
}

fn term<'a>(t: &'a Term, node: &'a Value, root: &'a Value) -> Val<'a> {
    let single = |segs: &[Seg], start: &'a Value| {
        let mut found: Vec<&'a Value> = Vec::new();
        walk(segs, start, root, &mut Vec::new(), &mut |_, v| {
            found.push(v)
        });
        match found.as_slice() {
            [v] => Val::Json(v),
            _ => Val::Invalid,
        }
    };
    match t {
        Term::Current(segs) => single(segs, node),
        Term::Root(segs) => single(segs, root),
        Term::Int(i) => Val::Int(*i),
        Term::Float(f) => Val::Float(*f),
        Term::Str(s) => Val::Str(s),
        Term::Bool(b) => Val::Bool(*b),
        Term::Null => Val::Null,
    }
}

fn compare(a: Val, b: Val) -> Option<Ordering> {
    match (a.scalar(), b.scalar()) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(&y)),
        (Val::Int(x), Val::Float(y)) => (x as f64).partial_cmp(&y),
        (Val::Float(x), Val::Int(y)) => x.partial_cmp(&(y as f64)),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(&y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn equal(a: Val, b: Val) -> bool {
    match (&a, &b) {
        (Val::Json(x), Val::Json(y)) if x.is_array() || x.is_object() => x == y,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

fn test(e: &Expr, node: &Value, root: &Value) -> bool {
    match e {
        Expr::Or(a, b) => test(a, node, root) || test(b, node, root),
        Expr::And(a, b) => test(a, node, root) && test(b, node, root),
        Expr::Not(a) => !test(a, node, root),
        Expr::Exists(t) => !matches!(term(t, node, root), Val::Invalid),
        Expr::Cmp(a, op, b) => {
            let (a, b) = (term(a, node, root), term(b, node, root));
            match op {
                Op::Eq => equal(a, b),
                Op::Ne => !equal(a, b),
                Op::Lt => compare(a, b) == Some(Ordering::Less),
                Op::Le => matches!(compare(a, b), Some(Ordering::Less | Ordering::Equal)),
                Op::Gt => compare(a, b) == Some(Ordering::Greater),
                Op::Ge => matches!(compare(a, b), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        Expr::Match(a, b, re) => {
            let Val::Json(Value::String(s)) = term(a, node, root) else {
                return false;
            };
            match (re, term(b, node, root)) {
                (Some(re), _) => re.is_match(s),
                (None, Val::Json(Value::String(p))) => Regex::new(p).is_ok_and(|re| re.is_match(s)),
                _ => false,
            }
        }
    }
}

/// Characters of a bare member name (RedisJSON's `literal`, plus non-ASCII).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_`~+#%$^/:".contains(&b) || b >= 0x80
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

type Parsed<T> = Result<T, PathError>;

impl Parser<'_> {
    fn fail<T>(&self, expected: &str) -> Parsed<T> {
        Err(PathError {
            pos: self.pos,
            path: self.src.to_string(),
            expected: expected.to_string(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }

    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.peek() == Some(c);
        self.pos += ok as usize;
        ok
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let ok = self.src[self.pos..].starts_with(s);
        if ok {
            self.pos += s.len();
        }
        ok
    }

    fn expect(&mut self, c: u8, what: &str) -> Parsed<()> {
        self.ws();
        if self.eat(c) {
            Ok(())
        } else {
            self.fail(what)
        }
    }

    /// The steps after `$` or `@`: `.name`, `.*`, `..x`, `[...]`, and a bare
    /// name or `*` right after the sigil.
    fn segments(&mut self) -> Parsed<Vec<Seg>> {
        let mut segs = Vec::new();
        if self.peek() == Some(b'*') {
            self.pos += 1;
            segs.push(Seg::All);
        } else if let Some(name) = self.name() {
            segs.push(Seg::Names(vec![name]));
        }
        loop {
            let save = self.pos;
            self.ws();
            match self.peek() {
                Some(b'.') if self.peek_at(1) == Some(b'.') => {
                    self.pos += 2;
                    segs.push(Seg::Descend);
                    self.ws();
                    segs.push(self.selector_after_dot("<string>, '*' or '['")?);
                }
                Some(b'.') => {
                    self.pos += 1;
                    self.ws();
                    segs.push(self.selector_after_dot("<string>, '*' or '['")?);
                }
                Some(b'[') => segs.push(self.bracket()?),
                _ => {
                    self.pos = save;
                    return Ok(segs);
                }
            }
        }
    }

    fn selector_after_dot(&mut self, what: &str) -> Parsed<Seg> {
        match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Ok(Seg::All)
            }
            Some(b'[') => self.bracket(),
            _ => match self.name() {
                Some(n) => Ok(Seg::Names(vec![n])),
                None => self.fail(what),
            },
        }
    }

    fn name(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_name_byte) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.src[start..self.pos].to_string())
    }

    fn bracket(&mut self) -> Parsed<Seg> {
        self.pos += 1; // '['
        self.ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Seg::All
            }
            Some(b'?') => {
                self.pos += 1;
                Seg::Filter(Box::new(self.or_expr()?))
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.string()?];
                loop {
                    self.ws();
                    if !self.eat(b',') {
                        break;
                    }
                    self.ws();
                    names.push(self.string()?);
                }
                Seg::Names(names)
            }
            Some(b'-' | b'0'..=b'9' | b':') => self.numeric()?,
            _ => return self.fail("'*', '?', '<string>' or '<number>'"),
        };
        self.expect(b']', "']'")?;
        Ok(seg)
    }

    /// `[1]`, `[1,2]`, `[start:end:step]` (each bound optional).
    fn numeric(&mut self) -> Parsed<Seg> {
        let first = match self.peek() {
            Some(b':') => None,
            _ => Some(self.int()?),
        };
        self.ws();
        if self.eat(b':') {
            self.ws();
            let end = match self.peek() {
                Some(b'-' | b'0'..=b'9') => Some(self.int()?),
                _ => None,
            };
            self.ws();
            let mut step = 1;
            if self.eat(b':') {
                self.ws();
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    let at = self.pos;
                    let n = self.int()?;
                    if n < 1 {
                        self.pos = at;
                        return self.fail("a step greater than 0");
                    }
                    step = n as usize;
                }
            }
            return Ok(Seg::Slice {
                start: first,
                end,
                step,
            });
        }
        let mut ix = vec![first.expect("a number before anything but ':'")];
        loop {
            self.ws();
            if !self.eat(b',') {
                return Ok(Seg::Indices(ix));
            }
            self.ws();
            ix.push(self.int()?);
        }
    }

    fn int(&mut self) -> Parsed<i64> {
        let start = self.pos;
        self.eat(b'-');
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            return self.fail("'<number>'");
        }
        match self.src[start..self.pos].parse() {
            Ok(n) => Ok(n),
            Err(_) => {
                self.pos = start;
                self.fail("a number in the 64-bit range")
            }
        }
    }

    /// A quoted string: `'…'` or `"…"`; a backslash escapes the next character.
    fn string(&mut self) -> Parsed<String> {
        let quote = self.peek().expect("called on a quote");
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote as char {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, e)) if e == '\\' || e == quote as char => out.push(e),
                    Some((_, e)) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        self.pos = self.src.len();
        self.fail("a closing quote")
    }

    fn or_expr(&mut self) -> Parsed<Expr> {
        let mut lhs = self.and_expr()?;
        loop {
            self.ws();
            if !self.eat_str("||") {
                return Ok(lhs);
            }
            lhs = Expr::Or(Box::new(lhs), Box::new(self.and_expr()?));
        }
    }

    fn and_expr(&mut self) -> Parsed<Expr> {
        let mut lhs = self.unary()?;
        loop {
            self.ws();
            if !self.eat_str("&&") {
                return Ok(lhs);
            }
            lhs = Expr::And(Box::new(lhs), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Parsed<Expr> {
        self.ws();
        if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat(b'(') {
            let e = self.or_expr()?;
            self.expect(b')', "')'")?;
            return Ok(e);
        }
        let lhs = self.term()?;
        self.ws();
        let op = if self.eat_str("=~") {
            let rhs = self.term()?;
            let re = match &rhs {
                Term::Str(p) => Regex::new(p).ok(),
                _ => None,
            };
            return Ok(Expr::Match(lhs, rhs, re));
        } else if self.eat_str(">=") {
            Op::Ge
        } else if self.eat_str("<=") {
            Op::Le
        } else if self.eat_str("==") {
            Op::Eq
        } else if self.eat_str("!=") {
            Op::Ne
        } else if self.eat(b'>') {
            Op::Gt
        } else if self.eat(b'<') {
            Op::Lt
        } else {
            return Ok(Expr::Exists(lhs));
        };
        let rhs = self.term()?;
        Ok(Expr::Cmp(lhs, op, rhs))
    }

    fn term(&mut self) -> Parsed<Term> {
        self.ws();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(Term::Current(self.segments()?))
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(Term::Root(self.segments()?))
            }
            Some(b'\'' | b'"') => Ok(Term::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat_str("true") => Ok(Term::Bool(true)),
            _ if self.eat_str("false") => Ok(Term::Bool(false)),
            _ if self.eat_str("null") => Ok(Term::Null),
            _ => self.fail("'@', '$', a number, a string, true, false or null"),
        }
    }

    fn number(&mut self) -> Parsed<Term> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let at = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > at
        };
        self.eat(b'-');
        if !digits(self) {
            return self.fail("'<number>'");
        }
        let mut float = false;
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            digits(self);
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let at = self.pos;
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if digits(self) {
                float = true;
            } else {
                self.pos = at;
            }
        }
        let text = &self.src[start..self.pos];
        match (float, text.parse::<i64>()) {
            (false, Ok(i)) => Ok(Term::Int(i)),
            _ => Ok(Term::Float(text.parse().unwrap_or(f64::INFINITY))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "Rings", "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "a": [1, 2, 3, 4, 5],
            "weird key": {"x.y": 1}
        })
    }

    fn q(path: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .values(v)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn normalizes_legacy_paths() {
        assert_eq!(normalize("."), ("$".into(), true));
        assert_eq!(normalize(".a.b"), ("$.a.b".into(), true));
        assert_eq!(normalize("a.b"), ("$.a.b".into(), true));
        assert_eq!(normalize("[0]"), ("$.[0]".into(), true));
        assert_eq!(normalize("$"), ("$".into(), false));
        assert_eq!(normalize("$.a"), ("$.a".into(), false));
        assert_eq!(normalize("$[0]"), ("$[0]".into(), false));
        assert_eq!(normalize("$a"), ("$.$a".into(), true));
        let p = JsonPath::parse(".store.bicycle").unwrap();
        assert!(p.is_legacy() && !p.is_root());
        assert!(JsonPath::parse(".").unwrap().is_root());
        assert!(JsonPath::parse("$").unwrap().is_root());
    }

    #[test]
    fn children_and_brackets() {
        let d = doc();
        assert_eq!(q("$.store.bicycle.color", &d), vec![json!("red")]);
        assert_eq!(q("$['store']['bicycle']['color']", &d), vec![json!("red")]);
        assert_eq!(q("$[\"weird key\"][\"x.y\"]", &d), vec![json!(1)]);
        assert_eq!(q(".store.bicycle.color", &d), vec![json!("red")]);
        assert_eq!(q("store.bicycle[\"color\"]", &d), vec![json!("red")]);
        assert_eq!(q("$.missing", &d), Vec::<Value>::new());
        assert_eq!(q("$.a.b", &d), Vec::<Value>::new());
        assert_eq!(
            q("$.store.bicycle['color','price']", &d),
            vec![json!("red"), json!(19.95)]
        );
        assert_eq!(q("$. store .bicycle . color", &d), vec![json!("red")]);
    }

    #[test]
    fn indices_unions_and_slices() {
        let d = doc();
        assert_eq!(q("$.a[0]", &d), vec![json!(1)]);
        assert_eq!(q("$.a[-1]", &d), vec![json!(5)]);
        assert_eq!(q("$.a[-10]", &d), vec![json!(1)], "clamps like RedisJSON");
        assert_eq!(q("$.a[5]", &d), Vec::<Value>::new());
        assert_eq!(q("$.a[0,2,-1]", &d), vec![json!(1), json!(3), json!(5)]);
        assert_eq!(q("$.a[1:3]", &d), vec![json!(2), json!(3)]);
        assert_eq!(q("$.a[:2]", &d), vec![json!(1), json!(2)]);
        assert_eq!(q("$.a[3:]", &d), vec![json!(4), json!(5)]);
        assert_eq!(q("$.a[-2:]", &d), vec![json!(4), json!(5)]);
        assert_eq!(q("$.a[::2]", &d), vec![json!(1), json!(3), json!(5)]);
        assert_eq!(q("$.a[1:100:3]", &d), vec![json!(2), json!(5)]);
        assert_eq!(q("$.a[:]", &d).len(), 5);
        assert_eq!(q("a[1]", &d), vec![json!(2)]);
        assert_eq!(q(".a.[1]", &d), vec![json!(2)]);
    }

    #[test]
    fn wildcards_and_recursive_descent() {
        let d = doc();
        assert_eq!(q("$.store.bicycle.*", &d), vec![json!("red"), json!(19.95)]);
        assert_eq!(q("$.a[*]", &d).len(), 5);
        assert_eq!(
            q("$..author", &d),
            vec![
                json!("Nigel Rees"),
                json!("Evelyn Waugh"),
                json!("Herman Melville"),
                json!("J. R. R. Tolkien")
            ]
        );
        assert_eq!(q("$..price", &d).len(), 5);
        assert_eq!(q("$..book[2].title", &d), vec![json!("Moby Dick")]);
        assert_eq!(q("$..book[-1:].title", &d), vec![json!("Rings")]);
        assert_eq!(q("$..[\"x.y\"]", &d), vec![json!(1)]);
        let nested = json!({"a": 1, "b": {"a": 2, "c": {"a": 3}}, "d": [{"a": 4}]});
        assert_eq!(
            q("$..a", &nested),
            vec![json!(1), json!(2), json!(3), json!(4)]
        );
        assert_eq!(q("$..*", &json!({"x": [1]})), vec![json!([1]), json!(1)]);
    }

    #[test]
    fn filters() {
        let d = doc();
        let titles = |p: &str| q(p, &d);
        assert_eq!(
            titles("$.store.book[?(@.price < 10)].title"),
            vec![json!("Sayings"), json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price >= 12.99)].title"),
            vec![json!("Sword"), json!("Rings")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price == 8)].title"),
            vec![json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.isbn)].title"),
            vec![json!("Moby Dick"), json!("Rings")]
        );
        assert_eq!(
            titles("$.store.book[?(!@.isbn)].title"),
            vec![json!("Sayings"), json!("Sword")]
        );
        assert_eq!(
            titles("$.store.book[?(@.category == 'fiction' && @.price < 20)].title"),
            vec![json!("Sword"), json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price > 20 || @.category == \"reference\")].title"),
            vec![json!("Sayings"), json!("Rings")]
        );
        assert_eq!(
            titles("$.store.book[?(@.author =~ \"^J\")].title"),
            vec![json!("Rings")]
        );
        assert_eq!(
            titles("$.store.book[?(@.author =~ 'ville$')].title"),
            vec![json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.author =~ '(')].title"),
            Vec::<Value>::new()
        );
        assert_eq!(
            titles("$.store.book[?(@.category != 'fiction')].title"),
            vec![json!("Sayings")]
        );
        assert_eq!(titles("$.a[?(@ > 3)]"), vec![json!(4), json!(5)]);
        assert_eq!(titles("$.a[?@ <= 2]"), vec![json!(1), json!(2)]);
        // `$` inside a filter is the document root
        assert_eq!(
            titles("$.store.book[?(@.price > $.store.bicycle.price)].title"),
            vec![json!("Rings")]
        );
        // filters over object members
        assert_eq!(
            titles("$.store[?(@.color == 'red')].price"),
            vec![json!(19.95)]
        );
        // parentheses and precedence: && binds tighter than ||
        let v = json!([{"a": 1, "b": 1}, {"a": 2, "b": 0}, {"a": 0, "b": 2}]);
        assert_eq!(
            q("$[?(@.a == 2 || @.a == 1 && @.b == 1)].a", &v),
            vec![json!(1), json!(2)]
        );
        assert_eq!(
            q("$[?((@.a == 2 || @.a == 1) && @.b == 1)].a", &v),
            vec![json!(1)]
        );
        // mixed types never compare, except !=
        assert_eq!(q("$[?(@.a == '1')]", &v).len(), 0);
        assert_eq!(q("$[?(@.a != '1')]", &v).len(), 3);
        assert_eq!(
            q("$[?(@.b == true)]", &json!([{"b": true}, {"b": 1}])).len(),
            1
        );
        assert_eq!(
            q("$[?(@.b == null)]", &json!([{"b": null}, {"b": 1}])).len(),
            1
        );
        // a filter on a scalar tests the scalar itself
        assert_eq!(q("$.a[?(@ == 3)]", &json!({"a": 3})), vec![json!(3)]);
    }

    #[test]
    fn locations_and_updates() {
        let mut d = json!({"a": [10, {"b": 1}], "c": {"b": 2}});
        let p = JsonPath::parse("$..b").unwrap();
        let found: Vec<Location> = p.find(&d).into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            found,
            vec![
                vec![Step::Key("a".into()), Step::Index(1), Step::Key("b".into())],
                vec![Step::Key("c".into()), Step::Key("b".into())],
            ]
        );
        for loc in &found {
            *get_mut(&mut d, loc).unwrap() = json!(0);
        }
        assert_eq!(d, json!({"a": [10, {"b": 0}], "c": {"b": 0}}));
        assert_eq!(get(&d, &found[1]), Some(&json!(0)));
        assert_eq!(
            remove(&mut d, &[Step::Key("a".into()), Step::Index(0)]),
            Some(json!(10))
        );
        assert_eq!(remove(&mut d, &[]), None);
        assert_eq!(d, json!({"a": [{"b": 0}], "c": {"b": 0}}));
        // descendants before ancestors, higher indices first
        let mut locs = vec![
            vec![Step::Index(0)],
            vec![Step::Index(1)],
            vec![Step::Index(1), Step::Index(0)],
        ];
        locs.sort_by(|a, b| mutation_order(a, b));
        assert_eq!(
            locs,
            vec![
                vec![Step::Index(1), Step::Index(0)],
                vec![Step::Index(1)],
                vec![Step::Index(0)],
            ]
        );
    }

    #[test]
    fn static_paths() {
        let p = JsonPath::parse("$.a.b").unwrap();
        let (parent, last) = p.split_last().unwrap();
        assert_eq!(last, Last::Key("b".into()));
        assert_eq!(
            parent.values(&json!({"a": {"x": 1}})),
            vec![&json!({"x": 1})]
        );
        let (_, last) = JsonPath::parse(".a[-1]").unwrap().split_last().unwrap();
        assert_eq!(last, Last::Index(-1));
        assert!(JsonPath::parse("$..a").unwrap().split_last().is_none());
        assert!(JsonPath::parse("$.a[*]").unwrap().split_last().is_none());
        assert!(JsonPath::parse("$['a','b']")
            .unwrap()
            .split_last()
            .is_none());
        assert!(JsonPath::parse("$").unwrap().split_last().is_none());
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "$.",
            "$..",
            "$[",
            "$[1",
            "$['a'",
            "$[?(@.a ==)]",
            "$[1:2:0]",
            "$a b",
            "$.a]",
            "$[?(@.a > 1]",
            "",
            ".a..",
            "$[x]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad:?} should not parse");
        }
        let e = JsonPath::parse("$.a[").unwrap_err();
        assert_eq!(e.pos, 4);
        assert_eq!(
            e.to_string(),
            "Error occurred on position 4, \"$.a[ <<<<----\", expected '*', '?', '<string>' or '<number>'."
        );
        let e = JsonPath::parse("$.a]b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error occurred on position 3, \"$.a ---->>>> ]b\", expected '.', '[' or the end of the path."
        );
    }
}
