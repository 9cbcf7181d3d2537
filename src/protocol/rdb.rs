//! Redis's DUMP payload: one value in the RDB object encoding, followed by
//! the RDB version (2 bytes, little endian) and a CRC-64 (Jones polynomial,
//! as Redis computes it) of everything before it. DUMP writes the plain
//! encodings every Redis since 2.x reads (a list, set, hash or sorted set
//! as a count and its strings, version 9); RESTORE also reads what Redis
//! 7 writes: integer and LZF-compressed strings, listpacks, ziplists,
//! intsets and quicklists. Streams and module values are not supported.

use crc::{Crc, CRC_64_REDIS};

/// Field-value pairs of a hash.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A key's value, as DUMP and RESTORE carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set's distinct members.
    Set(Vec<Vec<u8>>),
    /// A hash's distinct fields with their values.
    Hash(Pairs),
    /// A sorted set's distinct members with their scores.
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// Why a payload cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short, a newer RDB version, or a checksum mismatch.
    VersionOrChecksum,
    /// The object does not decode (the reason, for the log).
    BadFormat(String),
    /// A valid Redis type DiskDB does not restore (its name).
    Unsupported(&'static str),
    /// More elements or bytes than one RESTORE may decode (see
    /// [`MAX_ELEMENTS`], [`MAX_DECODED_BYTES`]).
    TooLarge,
}

/// The most elements one payload may decode to. A payload holds small
/// integers in 2 bytes of a listpack and LZF shrinks repeats up to ~90
/// times, so a 300 KB payload can carry 13 million elements, which Redis
/// keeps in 15 MB but a RocksDB batch of sub-keys needs about 130 bytes
/// each for: the limit bounds a RESTORE to a few hundred MB.
pub const MAX_ELEMENTS: usize = 1 << 21;

/// The most bytes one payload may decode to (Redis's largest string).
pub const MAX_DECODED_BYTES: usize = 512 << 20;

/// What one payload may still decode to.
struct Budget {
    elements: std::cell::Cell<usize>,
    bytes: std::cell::Cell<usize>,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            elements: MAX_ELEMENTS.into(),
            bytes: MAX_DECODED_BYTES.into(),
        }
    }

    /// Accounts for decoded elements and bytes, before they are built.
    fn spend(&self, elements: usize, bytes: usize) -> Result<(), PayloadError> {
        let (e, b) = (self.elements.get(), self.bytes.get());
        if elements > e || bytes > b {
            return Err(PayloadError::TooLarge);
        }
        self.elements.set(e - elements);
        self.bytes.set(b - bytes);
        Ok(())
    }
}

/// The RDB version DUMP writes: the plain encodings it uses are those of
/// version 9 (Redis 5), so every Redis from 5.0 on restores them.
pub const WRITTEN_VERSION: u16 = 9;

/// The newest RDB version RESTORE accepts (Redis 7.4's).
pub const NEWEST_VERSION: u16 = 12;

const CRC: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

// RDB object types (Redis's rdb.h)
const STRING: u8 = 0;
const LIST: u8 = 1;
const SET: u8 = 2;
const ZSET: u8 = 3;
const HASH: u8 = 4;
const ZSET_2: u8 = 5;
const LIST_ZIPLIST: u8 = 10;
const SET_INTSET: u8 = 11;
const ZSET_ZIPLIST: u8 = 12;
const HASH_ZIPLIST: u8 = 13;
const LIST_QUICKLIST: u8 = 14;
const HASH_LISTPACK: u8 = 16;
const ZSET_LISTPACK: u8 = 17;
const LIST_QUICKLIST_2: u8 = 18;
const SET_LISTPACK: u8 = 20;

/// Serializes a value as DUMP returns it.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        Value::String(s) => {
            out.push(STRING);
            put_string(&mut out, s);
        }
        Value::List(items) | Value::Set(items) => {
            out.push(if matches!(value, Value::List(_)) {
                LIST
            } else {
                SET
            });
            put_len(&mut out, items.len() as u64);
            items.iter().for_each(|s| put_string(&mut out, s));
        }
        Value::Hash(pairs) => {
            out.push(HASH);
            put_len(&mut out, pairs.len() as u64);
            for (f, v) in pairs {
                put_string(&mut out, f);
                put_string(&mut out, v);
            }
        }
        Value::ZSet(entries) => {
            out.push(ZSET_2);
            put_len(&mut out, entries.len() as u64);
            for (m, s) in entries {
                put_string(&mut out, m);
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&WRITTEN_VERSION.to_le_bytes());
    let crc = CRC.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload's version and checksum and decodes its value.
pub fn restore(payload: &[u8]) -> Result<Value, PayloadError> {
    if payload.len() < 10 {
        return Err(PayloadError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().expect("8 bytes"));
    if version > NEWEST_VERSION || crc != CRC.checksum(&payload[..payload.len() - 8]) {
        return Err(PayloadError::VersionOrChecksum);
    }
    let budget = Budget::new();
    let mut r = Reader::new(body, &budget);
    let value = r.object()?;
    if r.pos != body.len() {
        return Err(bad("bytes left after the value"));
    }
    check(value)
}

fn bad(why: impl Into<String>) -> PayloadError {
    PayloadError::BadFormat(why.into())
}

/// Redis refuses empty collections, duplicate members and NaN scores.
fn check(value: Value) -> Result<Value, PayloadError> {
    fn distinct<'a>(items: impl Iterator<Item = &'a [u8]>) -> bool {
        let mut seen = std::collections::HashSet::new();
        items.into_iter().all(|m| seen.insert(m))
    }
    let ok = match &value {
        Value::String(_) => true,
        Value::List(l) => !l.is_empty(),
        Value::Set(s) => !s.is_empty() && distinct(s.iter().map(|m| m.as_slice())),
        Value::Hash(h) => !h.is_empty() && distinct(h.iter().map(|(f, _)| f.as_slice())),
        Value::ZSet(z) => {
            !z.is_empty()
                && z.iter().all(|(_, s)| !s.is_nan())
                && distinct(z.iter().map(|(m, _)| m.as_slice()))
        }
    };
    if ok {
        Ok(value)
    } else {
        Err(bad("empty collection, duplicate member or NaN score"))
    }
}

fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A length, or the special string encoding that replaces one.
enum Len {
    Plain(u64),
    Special(u8),
}

struct Reader<'a, 'b> {
    buf: &'a [u8],
    pos: usize,
    budget: &'b Budget,
}

impl<'a, 'b> Reader<'a, 'b> {
    fn new(buf: &'a [u8], budget: &'b Budget) -> Self {
        Reader {
            buf,
            pos: 0,
            budget,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| bad("truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, PayloadError> {
        Ok(self.take(1)?[0])
    }

    fn len(&mut self) -> Result<Len, PayloadError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            2 if b == 0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
            2 if b == 0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
            2 => return Err(bad("unknown length encoding")),
            _ => Len::Special(b & 0x3f),
        })
    }

    /// A little-endian signed integer of `width` bytes, as decimal text.
    fn le_int_text(&mut self, width: usize) -> Result<Vec<u8>, PayloadError> {
        Ok(int_text(le_int(self.take(width)?)))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn plain_len(&mut self) -> Result<usize, PayloadError> {
        match self.len()? {
            Len::Plain(n) => usize::try_from(n).map_err(|_| bad("length too large")),
            Len::Special(_) => Err(bad("an encoded string where a length belongs")),
        }
    }

    /// A count of items that each take at least `min_bytes`: checked
    /// against what is left, so a forged count allocates nothing.
    fn count(&mut self, min_bytes: usize) -> Result<usize, PayloadError> {
        let n = self.plain_len()?;
        if n.saturating_mul(min_bytes) > self.buf.len() - self.pos {
            return Err(bad("count larger than the payload"));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<Vec<u8>, PayloadError> {
        self.budget.spend(1, 0)?;
        match self.len()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| bad("length too large"))?;
                let s = self.take(n)?;
                self.budget.spend(0, n)?;
                Ok(s.to_vec())
            }
            Len::Special(0) => Ok(int_text(self.byte()? as i8 as i64)),
            Len::Special(1) => Ok(int_text(i16::from_le_bytes(self.array()?) as i64)),
            Len::Special(2) => Ok(int_text(i32::from_le_bytes(self.array()?) as i64)),
            Len::Special(3) => {
                let compressed = self.plain_len()?;
                let len = self.plain_len()?;
                let input = self.take(compressed)?;
                self.budget.spend(0, len)?;
                lzf_decompress(input, len)
            }
            Len::Special(_) => Err(bad("unknown string encoding")),
        }
    }

    /// A score of the old `zset` type: a length byte and decimal text.
    fn text_score(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => score_of(self.take(n as usize)?),
        }
    }

    fn object(&mut self) -> Result<Value, PayloadError> {
        let kind = self.byte()?;
        Ok(match kind {
            STRING => Value::String(self.string()?),
            LIST | SET => {
                let n = self.count(1)?;
                let items = (0..n).map(|_| self.string()).collect::<Result<_, _>>()?;
                if kind == LIST {
                    Value::List(items)
                } else {
                    Value::Set(items)
                }
            }
            HASH => {
                let n = self.count(2)?;
                let pairs = (0..n)
                    .map(|_| Ok((self.string()?, self.string()?)))
                    .collect::<Result<_, _>>()?;
                Value::Hash(pairs)
            }
            ZSET | ZSET_2 => {
                let n = self.count(2)?;
                let entries = (0..n)
                    .map(|_| {
                        let m = self.string()?;
                        let s = if kind == ZSET {
                            self.text_score()?
                        } else {
                            f64::from_le_bytes(self.array()?)
                        };
                        Ok((m, s))
                    })
                    .collect::<Result<_, _>>()?;
                Value::ZSet(entries)
            }
            LIST_ZIPLIST => Value::List(ziplist(&self.string()?, self.budget)?),
            LIST_QUICKLIST => {
                let mut items = Vec::new();
                for _ in 0..self.count(1)? {
                    items.extend(ziplist(&self.string()?, self.budget)?);
                }
                Value::List(items)
            }
            LIST_QUICKLIST_2 => {
                let mut items = Vec::new();
                for _ in 0..self.count(2)? {
                    let container = self.plain_len()?;
                    let node = self.string()?;
                    match container {
                        1 => items.push(node), // a plain node: one large element
                        2 => items.extend(listpack(&node, self.budget)?),
                        _ => return Err(bad("unknown quicklist container")),
                    }
                }
                Value::List(items)
            }
            SET_INTSET => Value::Set(intset(&self.string()?, self.budget)?),
            SET_LISTPACK => Value::Set(listpack(&self.string()?, self.budget)?),
            HASH_ZIPLIST | HASH_LISTPACK => {
                let blob = self.string()?;
                let flat = if kind == HASH_ZIPLIST {
                    ziplist(&blob, self.budget)?
                } else {
                    listpack(&blob, self.budget)?
                };
                Value::Hash(pairs(flat)?)
            }
            ZSET_ZIPLIST | ZSET_LISTPACK => {
                let blob = self.string()?;
                let flat = if kind == ZSET_ZIPLIST {
                    ziplist(&blob, self.budget)?
                } else {
                    listpack(&blob, self.budget)?
                };
                let entries = pairs(flat)?
                    .into_iter()
                    .map(|(m, s)| Ok((m, score_of(&s)?)))
                    .collect::<Result<_, _>>()?;
                Value::ZSet(entries)
            }
            6 | 7 => return Err(PayloadError::Unsupported("module value")),
            9 => return Err(PayloadError::Unsupported("zipmap hash (Redis < 2.6)")),
            15 | 19 | 21 => return Err(PayloadError::Unsupported("stream")),
            22..=25 => return Err(PayloadError::Unsupported("hash with field expirations")),
            other => return Err(bad(format!("unknown object type {other}"))),
        })
    }
}

/// A little-endian two's-complement integer of 1 to 8 bytes (the widths
/// ziplists, listpacks and intsets store).
fn le_int(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    buf[8 - bytes.len()..].copy_from_slice(bytes);
    i64::from_le_bytes(buf) >> (64 - 8 * bytes.len())
}

fn int_text(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

fn score_of(text: &[u8]) -> Result<f64, PayloadError> {
    crate::util::num::parse_f64(text).ok_or_else(|| bad("score is not a number"))
}

fn pairs(flat: Vec<Vec<u8>>) -> Result<Pairs, PayloadError> {
    if !flat.len().is_multiple_of(2) {
        return Err(bad("odd number of entries in a pair encoding"));
    }
    let mut it = flat.into_iter();
    Ok(std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect())
}

/// LZF decompression (Redis compresses strings over 20 bytes with it). The
/// `lzf` crate is deprecated, and decoding is this one loop.
fn lzf_decompress(input: &[u8], len: usize) -> Result<Vec<u8>, PayloadError> {
    // a back reference of 2-3 bytes yields at most 264: refuse a forged
    // length before allocating it
    if len > input.len().saturating_mul(132) {
        return Err(bad("LZF length out of proportion"));
    }
    let corrupt = || bad("corrupt LZF data");
    // grown as it decodes: a forged length reserves nothing
    let mut out = Vec::with_capacity(len.min(input.len().saturating_mul(4)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = input.get(i..i + ctrl + 1).ok_or_else(corrupt)?;
            out.extend_from_slice(run);
            i += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *input.get(i).ok_or_else(corrupt)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(i).ok_or_else(corrupt)? as usize + 1;
            i += 1;
            if back > out.len() {
                return Err(corrupt());
            }
            let from = out.len() - back;
            for k in 0..n + 2 {
                out.push(out[from + k]);
            }
        }
        if out.len() > len {
            return Err(corrupt());
        }
    }
    if out.len() != len {
        return Err(corrupt());
    }
    Ok(out)
}

/// A reader past the `header` bytes of a ziplist or listpack, whose first
/// 4 bytes (little endian) must give its total size; `None` if they do not.
fn sized_blob<'a, 'b>(blob: &'a [u8], header: usize, budget: &'b Budget) -> Option<Reader<'a, 'b>> {
    let total = u32::from_le_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    if total != blob.len() || total <= header {
        return None;
    }
    let mut r = Reader::new(blob, budget);
    r.pos = header;
    Some(r)
}

/// The elements of a ziplist (Redis < 7 small lists, hashes, sorted sets).
fn ziplist(blob: &[u8], budget: &Budget) -> Result<Vec<Vec<u8>>, PayloadError> {
    let corrupt = || bad("corrupt ziplist");
    let mut r = sized_blob(blob, 10, budget).ok_or_else(corrupt)?;
    let mut items = Vec::new();
    loop {
        let first = r.byte()?;
        if first == 0xff {
            break;
        }
        if first == 0xfe {
            r.take(4)?; // a 5-byte previous-entry length
        }
        let enc = r.byte()?;
        let item = match enc >> 6 {
            0 => r.take((enc & 0x3f) as usize)?.to_vec(),
            1 => {
                let n = (((enc & 0x3f) as usize) << 8) | r.byte()? as usize;
                r.take(n)?.to_vec()
            }
            2 => {
                let n = u32::from_be_bytes(r.array()?) as usize;
                r.take(n)?.to_vec()
            }
            _ => match enc {
                0xc0 => r.le_int_text(2)?,
                0xd0 => r.le_int_text(4)?,
                0xe0 => r.le_int_text(8)?,
                0xf0 => r.le_int_text(3)?,
                0xfe => r.le_int_text(1)?,
                0xf1..=0xfd => int_text((enc & 0x0f) as i64 - 1),
                _ => return Err(corrupt()),
            },
        };
        budget.spend(1, item.len())?;
        items.push(item);
    }
    if r.pos != blob.len() {
        return Err(corrupt());
    }
    Ok(items)
}

/// The elements of a listpack (Redis 7's small lists, sets, hashes and
/// sorted sets).
fn listpack(blob: &[u8], budget: &Budget) -> Result<Vec<Vec<u8>>, PayloadError> {
    let corrupt = || bad("corrupt listpack");
    let mut r = sized_blob(blob, 6, budget).ok_or_else(corrupt)?;
    let mut items = Vec::new();
    loop {
        let start = r.pos;
        let b = r.byte()?;
        let item = match b {
            0xff => break,
            0x00..=0x7f => int_text(b as i64),
            0x80..=0xbf => r.take((b & 0x3f) as usize)?.to_vec(),
            0xc0..=0xdf => {
                let v = (((b & 0x1f) as i64) << 8) | r.byte()? as i64;
                int_text(if v >= 1 << 12 { v - (1 << 13) } else { v })
            }
            0xe0..=0xef => {
                let n = (((b & 0x0f) as usize) << 8) | r.byte()? as usize;
                r.take(n)?.to_vec()
            }
            0xf0 => {
                let n = u32::from_le_bytes(r.array()?) as usize;
                r.take(n)?.to_vec()
            }
            0xf1 => r.le_int_text(2)?,
            0xf2 => r.le_int_text(3)?,
            0xf3 => r.le_int_text(4)?,
            0xf4 => r.le_int_text(8)?,
            _ => return Err(corrupt()),
        };
        // each entry ends with its own length, in 1 to 5 bytes
        let entry = r.pos - start;
        let backlen = match entry {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        r.take(backlen)?;
        budget.spend(1, item.len())?;
        items.push(item);
    }
    if r.pos != blob.len() {
        return Err(corrupt());
    }
    Ok(items)
}

/// The members of an intset (a small set of integers).
fn intset(blob: &[u8], budget: &Budget) -> Result<Vec<Vec<u8>>, PayloadError> {
    let corrupt = || bad("corrupt intset");
    if blob.len() < 8 {
        return Err(corrupt());
    }
    let field = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let (width, n) = (field(0), field(4));
    let size = width.checked_mul(n).and_then(|b| b.checked_add(8));
    if !matches!(width, 2 | 4 | 8) || size != Some(blob.len()) {
        return Err(corrupt());
    }
    budget.spend(n, n * 20)?;
    Ok(blob[8..]
        .chunks_exact(width)
        .map(|c| int_text(le_int(c)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads redis-server 7.0.15 returned for DUMP.
    #[test]
    fn restores_what_redis_7_dumps() {
        let cases: Vec<(&[u8], Value)> = vec![
            (b"\x00\x05hello\n\x00cr\xdfve4 \n", Value::String(b"hello".to_vec())),
            (b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9", Value::String(b"12345".to_vec())),
            (b"\x00\xc0\xfb\n\x00I\xc4\xc6\xf4\xd7&?h", Value::String(b"-5".to_vec())),
            (
                b"\x00\xc3\t@d\x01xx\xe0W\x00\x01xx\n\x00]\xb7\xf6c\xbb\x08b_",
                Value::String(vec![b'x'; 100]),
            ),
            (
                b"\x12\x01\x02\xc3\x17/\x0f/\x00\x00\x00\x04\x00\x81a\x02\x01\x01\xc7\xd0\x02\x9ex\xe0\x14\x00\x01\x1f\xff\n\x00\xe9PT\x80/\xfcP\xde",
                Value::List(vec![b"a".to_vec(), b"1".to_vec(), b"2000".to_vec(), vec![b'x'; 30]]),
            ),
            (
                b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b",
                Value::Set(vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]),
            ),
            (
                b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x01\x01\xff\n\x00\xfc\xe4\x08\xf1y\"\xe0\x16",
                Value::Hash(vec![
                    (b"f".to_vec(), b"v".to_vec()),
                    (b"n".to_vec(), b"1".to_vec()),
                ]),
            ),
            (
                b"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff\n\x00\xfa\x02\xb4%\xaf\x18\x87c",
                Value::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), 2.0)]),
            ),
        ];
        for (payload, want) in cases {
            assert_eq!(restore(payload), Ok(want));
        }
    }

    #[test]
    fn dumps_round_trip_and_tampering_is_caught() {
        let values = [
            Value::String(vec![0, 1, 2, 255]),
            Value::List((0..300).map(|i| vec![b'e'; i]).collect()),
            Value::Set(vec![b"a".to_vec(), b"b".to_vec()]),
            Value::Hash(vec![(b"f".to_vec(), vec![7; 20_000])]),
            Value::ZSet(vec![
                (b"m".to_vec(), f64::NEG_INFINITY),
                (b"n".to_vec(), -0.5),
            ]),
        ];
        for v in values {
            let mut p = dump(&v);
            assert_eq!(restore(&p), Ok(v.clone()));
            p[1] ^= 1;
            assert_eq!(restore(&p), Err(PayloadError::VersionOrChecksum));
        }
        let mut newer = dump(&Value::String(b"x".to_vec()));
        let n = newer.len();
        newer[n - 10] = 13;
        assert_eq!(restore(&newer), Err(PayloadError::VersionOrChecksum));
        assert_eq!(restore(b"short"), Err(PayloadError::VersionOrChecksum));
        // Redis checks DUMP payloads' checksums always, zero included
        let mut unsummed = dump(&Value::String(b"x".to_vec()));
        let n = unsummed.len();
        unsummed[n - 8..].fill(0);
        assert_eq!(restore(&unsummed), Err(PayloadError::VersionOrChecksum));
    }

    #[test]
    fn refuses_what_redis_refuses() {
        let sealed = |body: &[u8]| {
            let mut p = body.to_vec();
            p.extend_from_slice(&WRITTEN_VERSION.to_le_bytes());
            let crc = CRC.checksum(&p);
            p.extend_from_slice(&crc.to_le_bytes());
            p
        };
        for body in [
            &b"\x01\x00"[..],            // empty list
            b"\x02\x02\x01a\x01a",       // duplicate member
            b"\x01\x05\x01a",            // count beyond the payload
            b"\x00\x05ab",               // truncated string
            b"\x00\x01ab",               // bytes left over
            b"\x63",                     // unknown type
            b"\x00\xc3\x01\x40\x00\x00", // forged LZF length
        ] {
            assert!(
                matches!(restore(&sealed(body)), Err(PayloadError::BadFormat(_))),
                "{body:?}"
            );
        }
        assert_eq!(
            restore(&sealed(b"\x13\x00")),
            Err(PayloadError::Unsupported("stream"))
        );
    }

    /// Corrupt payloads under a valid checksum (so the decoder, not the
    /// checksum, meets them) give an error, never a panic or a huge
    /// allocation.
    #[test]
    fn corrupt_payloads_with_valid_checksums_are_errors() {
        use rand::{Rng, SeedableRng};
        let seeds: Vec<Vec<u8>> = vec![
            dump(&Value::List((0..40).map(|i| vec![b'a' + i as u8; i]).collect())),
            dump(&Value::ZSet(vec![(b"m".to_vec(), 1.5), (b"n".to_vec(), 2.0)])),
            b"\x12\x01\x02\xc3\x17/\x0f/\x00\x00\x00\x04\x00\x81a\x02\x01\x01\xc7\xd0\x02\x9ex\xe0\x14\x00\x01\x1f\xff\n\x00\xe9PT\x80/\xfcP\xde".to_vec(),
            b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b".to_vec(),
            b"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff\n\x00\xfa\x02\xb4%\xaf\x18\x87c".to_vec(),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut decoded = 0;
        for round in 0..20_000 {
            let mut p = seeds[round % seeds.len()].clone();
            let body = p.len() - 10;
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..body);
                match rng.random_range(0..3) {
                    0 => p[i] = rng.random(),
                    1 => p[i] ^= 1 << rng.random_range(0..8),
                    _ => {
                        p[i] = [0x00, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc3, 0xfe, 0xff]
                            [rng.random_range(0..9)]
                    }
                }
            }
            let n = p.len();
            let crc = CRC.checksum(&p[..n - 8]);
            p[n - 8..].copy_from_slice(&crc.to_le_bytes());
            decoded += restore(&p).is_ok() as usize;
        }
        // some mutations (a byte of a string) still decode
        assert!(decoded > 0);
    }

    /// A small payload of many tiny elements (a listpack of 1-byte ints,
    /// which LZF would shrink further) is refused before it is built.
    #[test]
    fn payloads_decoding_to_too_many_elements_are_refused() {
        let seal = |body: Vec<u8>| {
            let mut p = body;
            p.extend_from_slice(&WRITTEN_VERSION.to_le_bytes());
            let crc = CRC.checksum(&p);
            p.extend_from_slice(&crc.to_le_bytes());
            p
        };
        let quicklist = |n: usize| {
            let mut lp = vec![0u8; 6];
            for _ in 0..n {
                lp.extend_from_slice(&[0x01, 0x01]); // the int 1, backlen 1
            }
            lp.push(0xff);
            let total = lp.len() as u32;
            lp[..4].copy_from_slice(&total.to_le_bytes());
            let mut body = vec![LIST_QUICKLIST_2, 1, 2];
            put_string(&mut body, &lp);
            seal(body)
        };
        assert!(matches!(restore(&quicklist(1000)), Ok(Value::List(l)) if l.len() == 1000));
        assert_eq!(
            restore(&quicklist(MAX_ELEMENTS)),
            Err(PayloadError::TooLarge)
        );
    }

    #[test]
    fn ziplists_of_every_entry_kind() {
        // strings of 6-bit, 14-bit lengths; ints of 4 bits, 8, 16, 24, 32, 64
        let mut entries: Vec<u8> = Vec::new();
        let mut push = |prev: u8, e: &[u8]| {
            entries.push(prev);
            entries.extend_from_slice(e);
        };
        push(0, b"\x02ab");
        let long = [&[0x40u8, 70][..], &[b'y'; 70]].concat();
        push(4, &long);
        push(73, &[0xf5]); // 4
        push(2, &[0xfe, 0x80]); // -128
        push(3, &[0xc0, 0x39, 0x30]); // 12345
        push(4, &[0xf0, 0xff, 0xff, 0x7f]); // 8388607
        push(5, &[0xd0, 0, 0, 0, 0x80]); // i32::MIN
        push(6, &[0xe0, 1, 0, 0, 0, 0, 0, 0, 0]); // 1
        let mut blob = Vec::new();
        let total = 10 + entries.len() + 1;
        blob.extend_from_slice(&(total as u32).to_le_bytes());
        blob.extend_from_slice(&[0, 0, 0, 0, 8, 0]);
        blob.extend_from_slice(&entries);
        blob.push(0xff);
        let want: Vec<Vec<u8>> = vec![
            b"ab".to_vec(),
            vec![b'y'; 70],
            b"4".to_vec(),
            b"-128".to_vec(),
            b"12345".to_vec(),
            b"8388607".to_vec(),
            i32::MIN.to_string().into_bytes(),
            b"1".to_vec(),
        ];
        assert_eq!(ziplist(&blob, &Budget::new()), Ok(want));
    }
}
