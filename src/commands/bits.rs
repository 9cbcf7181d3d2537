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
    let mut v = old.map(|m| m.payload).unwrap_or_default();
    if v.len() <= off / 8 {
        v.resize(off / 8 + 1, 0);
    }
    let prev = bit_at(&v, off);
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
