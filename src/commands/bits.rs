//! Bitmap commands on string values.

use super::strings::{clamp_range, tri};
use super::{cmd, not_integer, on_owner, syntax_error, Args, BoxFuture, Command, Exec::*};
use crate::data_types::string::MAX_STRING;
use crate::data_types::Db;
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::util::num::parse_i64;

/// The bitmap family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "setbit",
        4,
        "write denyoom",
        (1, 1, 1),
        "bitmap",
        Keyed(setbit),
    ),
    cmd(
        "getbit",
        3,
        "readonly fast",
        (1, 1, 1),
        "bitmap",
        Keyed(getbit),
    ),
    cmd(
        "bitcount",
        -2,
        "readonly",
        (1, 1, 1),
        "bitmap",
        Keyed(bitcount),
    ),
    cmd("bitpos", -3, "readonly", (1, 1, 1), "bitmap", Keyed(bitpos)),
    cmd(
        "bitop",
        -4,
        "write denyoom",
        (2, -1, 1),
        "bitmap",
        Coord(bitop),
    ),
    cmd(
        "bitfield",
        -2,
        "write denyoom",
        (1, 1, 1),
        "bitmap",
        Keyed(bitfield),
    ),
    cmd(
        "bitfield_ro",
        -2,
        "readonly fast",
        (1, 1, 1),
        "bitmap",
        Keyed(bitfield_ro),
    ),
];

fn bit_offset(arg: &[u8]) -> Result<usize, Reply> {
    match parse_i64(arg) {
        Some(n) if n >= 0 && (n as u64) < (MAX_STRING as u64) * 8 => Ok(n as usize),
        _ => Err(Reply::err(
            "ERR bit offset is not an integer or out of range",
        )),
    }
}

fn bit_at(v: &[u8], bit: usize) -> u8 {
    v.get(bit / 8).map_or(0, |b| (b >> (7 - bit % 8)) & 1)
}

fn setbit(db: &Db, a: &[Vec<u8>]) -> Reply {
    let off = tri!(bit_offset(&a[2]));
    let on = match a[3].as_slice() {
        b"1" => true,
        b"0" => false,
        _ => return Reply::err("ERR bit is not an integer or out of range"),
    };
    let old = tri!(db.get_string(&a[1]));
    let expire_at = old.as_ref().map_or(0, |m| m.expire_at);
    let created = old.is_none();
    let mut v = old.map(|m| m.payload).unwrap_or_default();
    let grows = v.len() <= off / 8;
    if grows {
        v.resize(off / 8 + 1, 0);
    }
    let prev = bit_at(&v, off);
    if !created && !grows && (prev == 1) == on {
        // the bit is already so: nothing written, announced or signalled
        return Reply::Int(prev as i64);
    }
    let mask = 1 << (7 - off % 8);
    if on {
        v[off / 8] |= mask;
    } else {
        v[off / 8] &= !mask;
    }
    tri!(db.set_string(&a[1], &v, expire_at));
    Reply::Int(prev as i64)
}

fn getbit(db: &Db, a: &[Vec<u8>]) -> Reply {
    let off = tri!(bit_offset(&a[2]));
    let v = tri!(db.get_string(&a[1]))
        .map(|m| m.payload)
        .unwrap_or_default();
    Reply::Int(bit_at(&v, off) as i64)
}

/// Parses an optional `start end [BYTE|BIT]` tail into a bit range over
/// `v`: Ok(None) means the range is empty. `end_given` reports whether an
/// explicit end was supplied (BITPOS cares).
fn bit_range(v: &[u8], args: &[Vec<u8>]) -> Result<(Option<(usize, usize)>, bool), Reply> {
    let start = match args.first() {
        None => {
            return Ok((
                if v.is_empty() {
                    None
                } else {
                    Some((0, v.len() * 8 - 1))
                },
                false,
            ))
        }
        Some(s) => parse_i64(s).ok_or_else(not_integer)?,
    };
    let end = match args.get(1) {
        None => -1,
        Some(e) => parse_i64(e).ok_or_else(not_integer)?,
    };
    let bit_unit = match args.get(2).map(|u| u.to_ascii_lowercase()) {
        None => false,
        Some(u) if u == b"byte" => false,
        Some(u) if u == b"bit" => true,
        Some(_) => return Err(syntax_error()),
    };
    if args.len() > 3 {
        return Err(syntax_error());
    }
    let len = if bit_unit {
        v.len() as i64 * 8
    } else {
        v.len() as i64
    };
    if start < 0 && end < 0 && start > end {
        return Ok((None, args.len() >= 2));
    }
    let range =
        clamp_range(start, end, len)
            .map(|(s, e)| if bit_unit { (s, e) } else { (s * 8, e * 8 + 7) });
    Ok((range, args.len() >= 2))
}

fn bitcount(db: &Db, a: &[Vec<u8>]) -> Reply {
    if a.len() == 3 {
        return syntax_error();
    }
    let v = tri!(db.get_string(&a[1]))
        .map(|m| m.payload)
        .unwrap_or_default();
    let (range, _) = tri!(bit_range(&v, &a[2..]));
    let Some((s, e)) = range else {
        return Reply::Int(0);
    };
    let n = if s % 8 == 0 && e % 8 == 7 {
        v[s / 8..=e / 8].iter().map(|b| b.count_ones() as i64).sum()
    } else {
        (s..=e).map(|i| bit_at(&v, i) as i64).sum()
    };
    Reply::Int(n)
}

fn bitpos(db: &Db, a: &[Vec<u8>]) -> Reply {
    let want = match a[2].as_slice() {
        b"1" => 1,
        b"0" => 0,
        _ if parse_i64(&a[2]).is_none() => return not_integer(),
        _ => return Reply::err("ERR The bit argument must be 1 or 0."),
    };
    let Some(m) = tri!(db.get_string(&a[1])) else {
        return Reply::Int(if want == 1 { -1 } else { 0 });
    };
    let v = m.payload;
    let (range, end_given) = tri!(bit_range(&v, &a[3..]));
    let Some((s, e)) = range else {
        return Reply::Int(-1);
    };
    if let Some(pos) = (s..=e).find(|&i| bit_at(&v, i) == want) {
        return Reply::Int(pos as i64);
    }
    // Looking for a clear bit with no explicit end: the string is treated
    // as padded with zeros on the right.
    if want == 0 && !end_given {
        return Reply::Int((e + 1) as i64);
    }
    Reply::Int(-1)
}

fn bitop(client: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        let op = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        if !matches!(op.as_str(), "and" | "or" | "xor" | "not") {
            return syntax_error();
        }
        if op == "not" && a.len() != 4 {
            return Reply::err("ERR BITOP NOT must be called with a single source key.");
        }
        let mut values = Vec::new();
        for key in &a[3..] {
            let k = key.clone();
            match on_owner(client, key, move |db| db.get_string(&k)).await {
                Ok(m) => values.push(m.map(|m| m.payload).unwrap_or_default()),
                Err(e) => return e,
            }
        }
        let len = values.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = vec![0u8; len];
        for (i, byte) in out.iter_mut().enumerate() {
            let at = |v: &Vec<u8>| v.get(i).copied().unwrap_or(0);
            *byte = match op.as_str() {
                "not" => !at(&values[0]),
                "and" => values.iter().map(at).fold(0xff, |x, y| x & y),
                "or" => values.iter().map(at).fold(0, |x, y| x | y),
                _ => values.iter().map(at).fold(0, |x, y| x ^ y),
            };
        }
        let dest = a[2].clone();
        let res = on_owner(client, &a[2], move |db| {
            if out.is_empty() {
                db.delete_keys([dest.as_slice()]).map(|_| ())
            } else {
                db.set_string(&dest, &out, 0)
            }
        })
        .await;
        match res {
            Ok(()) => Reply::Int(len as i64),
            Err(e) => e,
        }
    })
}

/// An integer field of a BITFIELD: `bits` wide (1–64 signed, 1–63
/// unsigned), starting at bit `offset` (the first bit is the most
/// significant).
#[derive(Clone, Copy)]
struct Field {
    signed: bool,
    bits: u32,
    offset: usize,
}

impl Field {
    /// Parses `i<bits>`/`u<bits>` and an offset (`#n`: the n-th field of
    /// this width).
    fn parse(encoding: &[u8], offset: &[u8]) -> Result<Field, Reply> {
        // lower case only, and the width as Redis reads integers
        let signed = match encoding.first() {
            Some(b'i') => true,
            Some(b'u') => false,
            _ => return Err(bad_field_type()),
        };
        let bits = parse_i64(&encoding[1..])
            .filter(|&b| b >= 1 && b <= if signed { 64 } else { 63 })
            .ok_or_else(bad_field_type)? as u32;
        let (nth, digits) = match offset.strip_prefix(b"#") {
            Some(rest) => (true, rest),
            None => (false, offset),
        };
        let offset = parse_i64(digits)
            .filter(|&n| n >= 0)
            .and_then(|n| {
                if nth {
                    n.checked_mul(bits as i64)
                } else {
                    Some(n)
                }
            })
            .filter(|&n| ((n as u64) >> 3) < MAX_STRING as u64)
            .ok_or_else(|| Reply::err("ERR bit offset is not an integer or out of range"))?;
        Ok(Field {
            signed,
            bits,
            offset: offset as usize,
        })
    }

    /// Smallest and largest value the field holds.
    fn range(&self) -> (i128, i128) {
        match self.signed {
            true => (-(1i128 << (self.bits - 1)), (1i128 << (self.bits - 1)) - 1),
            false => (0, (1i128 << self.bits) - 1),
        }
    }

    /// `v` wrapped into the field's range (two's complement for signed).
    fn wrap(&self, v: i128) -> i128 {
        let m = v.rem_euclid(1i128 << self.bits);
        match self.signed && m > self.range().1 {
            true => m - (1i128 << self.bits),
            false => m,
        }
    }

    /// The field's value in `v` (bits past the end read as 0).
    fn get(&self, v: &[u8]) -> i128 {
        let raw = (0..self.bits as usize).fold(0u64, |acc, j| {
            (acc << 1) | bit_at(v, self.offset + j) as u64
        });
        self.wrap(raw as i128)
    }

    /// Writes `value` (already in range) into `v`, which covers the field.
    fn set(&self, v: &mut [u8], value: i128) {
        let raw = value.rem_euclid(1i128 << self.bits) as u64;
        for j in 0..self.bits as usize {
            let bit = self.offset + j;
            let mask = 1 << (7 - bit % 8);
            match (raw >> (self.bits as usize - 1 - j)) & 1 {
                1 => v[bit / 8] |= mask,
                _ => v[bit / 8] &= !mask,
            }
        }
    }

    /// Bytes a string needs to hold the field.
    fn end_byte(&self) -> usize {
        (self.offset + self.bits as usize - 1) / 8 + 1
    }
}

fn bad_field_type() -> Reply {
    Reply::err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
}

/// What BITFIELD does when a SET or INCRBY leaves the field's range.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One BITFIELD operation.
enum FieldOp {
    Get(Field),
    /// SET: the new value, as given.
    Set(Field, i64, Overflow),
    IncrBy(Field, i64, Overflow),
}

/// Parses BITFIELD's operations (all of them, before any runs, as Redis
/// does); `read_only` (BITFIELD_RO) accepts GET only, checked after the
/// other errors.
fn parse_field_ops(a: &[Vec<u8>], read_only: bool) -> Result<Vec<FieldOp>, Reply> {
    let (mut ops, mut overflow, mut i) = (Vec::new(), Overflow::Wrap, 2);
    while i < a.len() {
        let left = a.len() - i - 1;
        let op = a[i].to_ascii_lowercase();
        match op.as_slice() {
            b"get" if left >= 2 => {}
            b"set" | b"incrby" if left >= 3 => {}
            b"overflow" if left >= 1 => {
                overflow = match a[i + 1].to_ascii_lowercase().as_slice() {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => return Err(Reply::err("ERR Invalid OVERFLOW type specified")),
                };
                i += 2;
                continue;
            }
            _ => return Err(syntax_error()),
        }
        let field = Field::parse(&a[i + 1], &a[i + 2])?;
        if op == b"get" {
            ops.push(FieldOp::Get(field));
            i += 3;
            continue;
        }
        let n = parse_i64(&a[i + 3]).ok_or_else(not_integer)?;
        ops.push(match op.as_slice() {
            b"set" => FieldOp::Set(field, n, overflow),
            _ => FieldOp::IncrBy(field, n, overflow),
        });
        i += 4;
    }
    if read_only && ops.iter().any(|op| !matches!(op, FieldOp::Get(_))) {
        return Err(Reply::err(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    Ok(ops)
}

/// A SET or INCRBY's outcome: the value to store, or `None` when it
/// overflows under FAIL.
fn settle_field(field: &Field, wanted: i128, how: Overflow) -> Option<i128> {
    let (min, max) = field.range();
    match how {
        _ if (min..=max).contains(&wanted) => Some(wanted),
        Overflow::Wrap => Some(field.wrap(wanted)),
        Overflow::Sat => Some(wanted.clamp(min, max)),
        Overflow::Fail => None,
    }
}

fn bitfield(db: &Db, a: &[Vec<u8>]) -> Reply {
    run_bitfield(db, a, false)
}

fn bitfield_ro(db: &Db, a: &[Vec<u8>]) -> Reply {
    run_bitfield(db, a, true)
}

/// BITFIELD and BITFIELD_RO: the string grows to hold every field a SET
/// or INCRBY names (even one that fails), and is written once at the end.
fn run_bitfield(db: &Db, a: &[Vec<u8>], read_only: bool) -> Reply {
    let ops = tri!(parse_field_ops(a, read_only));
    let writes = ops.iter().any(|op| !matches!(op, FieldOp::Get(_)));
    // only GETs: a read, counted as a keyspace hit or miss like Redis's
    let old = tri!(db.counting_lookups(!writes, || db.get_string(&a[1])));
    let expire_at = old.as_ref().map_or(0, |m| m.expire_at);
    let existed = old.is_some();
    let mut v = old.map(|m| m.payload).unwrap_or_default();
    let len = v.len();
    for op in &ops {
        if let FieldOp::Set(f, ..) | FieldOp::IncrBy(f, ..) = op {
            if v.len() < f.end_byte() {
                v.resize(f.end_byte(), 0);
            }
        }
    }
    // writes that leave a field as it was change nothing: no event, no
    // WATCH broken (Redis's count of changes), unless the string is new or
    // longer; a SET or INCRBY that fails (OVERFLOW FAIL) never counts
    let grew = writes && (!existed || v.len() > len);
    let mut changes = 0;
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        let (field, wanted, how) = match *op {
            FieldOp::Get(f) => {
                out.push(Reply::Int(f.get(&v) as i64));
                continue;
            }
            // an unsigned field takes the value's 64 bits as unsigned
            FieldOp::Set(f, n, how) if !f.signed => (f, n as u64 as i128, how),
            FieldOp::Set(f, n, how) => (f, n as i128, how),
            FieldOp::IncrBy(f, n, how) => (f, f.get(&v) + n as i128, how),
        };
        let old = field.get(&v);
        // Redis computes max - value in 64 bits: for a value far below a
        // short signed field's range that wraps, and SAT saturates high
        let wraps_high = matches!(op, FieldOp::Set(..))
            && field.signed
            && field.bits < 64
            && field.range().1 - wanted > i64::MAX as i128;
        let settled = match how {
            Overflow::Sat if wraps_high => Some(field.range().1),
            _ => settle_field(&field, wanted, how),
        };
        if let Some(new) = settled {
            if new != old {
                field.set(&mut v, new);
            }
            if new != old || grew {
                changes += 1;
            }
        }
        let shown = match op {
            FieldOp::Set(..) => settled.map(|_| old),
            _ => settled,
        };
        out.push(shown.map_or(Reply::Nil, |n| Reply::Int(n as i64)));
    }
    let write = || db.set_string(&a[1], &v, expire_at);
    if changes > 0 {
        tri!(db.shard.naming_events(("setbit", "bitmap"), write));
    } else if grew {
        // every SET and INCRBY failed: the new or longer string is stored
        // all the same and, as in Redis, without an event, a WATCH or
        // tracking signal
        tri!(db.shard.unannounced(write));
    }
    Reply::Array(out)
}
