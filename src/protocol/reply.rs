//! Protocol-independent replies and their RESP2/RESP3 encodings.

/// A reply to one command. Handlers build these; the connection encodes them
/// for the client's protocol version (`HELLO 2` / `HELLO 3`).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`-style status.
    Simple(String),
    /// Error with its code prefix, e.g. `ERR syntax error`.
    Error(String),
    /// Integer reply.
    Int(i64),
    /// Bulk string.
    Bulk(Vec<u8>),
    /// Bulk string that is `buf[from..]` of a shared buffer (a string's
    /// record in the hot-key cache), encoded without copying it out first.
    SharedBulk(std::sync::Arc<[u8]>, usize),
    /// Null bulk (RESP2 `$-1`, RESP3 `_`).
    Nil,
    /// Null array (RESP2 `*-1`, RESP3 `_`).
    NilArray,
    /// Array of replies.
    Array(Vec<Reply>),
    /// Array of bulk strings built in place ([`BulkArray`]).
    BulkArray(BulkArray),
    /// Set of bulk strings built in place (RESP3 `~`; an array in RESP2).
    BulkSet(BulkArray),
    /// Double (RESP3 `,`; a bulk string in RESP2).
    Double(f64),
    /// Map (RESP3 `%`; a flat array in RESP2).
    Map(Vec<(Reply, Reply)>),
    /// Pairs such as ZRANGE … WITHSCORES: an array of two-element arrays in
    /// RESP3, a flat array in RESP2.
    Pairs(Vec<(Reply, Reply)>),
    /// Set (RESP3 `~`; an array in RESP2).
    Set(Vec<Reply>),
    /// Boolean (RESP3 `#`; an integer 1/0 in RESP2).
    Bool(bool),
    /// Verbatim text (RESP3 `=` with `txt:`; a bulk string in RESP2).
    Verbatim(String),
    /// Out-of-band data such as Pub/Sub messages (RESP3 `>`; an array in RESP2).
    Push(Vec<Reply>),
    /// Several replies sent back to back for one command (SUBSCRIBE a b
    /// confirms each channel with its own frame).
    Frames(Vec<Reply>),
}

/// An array of bulk strings kept as their encoding, which RESP2 and RESP3
/// share: one buffer however many elements, where an `Array` of `Bulk`
/// allocates, fills and frees a vector per element (ZRANGE's ten members:
/// allocation was 8% of a shard at -P 16).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkArray {
    len: usize,
    /// Elements expected, to size the buffer by the first one.
    expected: usize,
    encoded: Vec<u8>,
}

impl BulkArray {
    /// An empty array expecting about `n` elements: the buffer is sized
    /// for `n` like the first one pushed.
    pub fn expecting(n: usize) -> BulkArray {
        BulkArray {
            expected: n,
            ..BulkArray::default()
        }
    }

    /// Appends a bulk string.
    pub fn push(&mut self, b: &[u8]) {
        if self.len == 0 {
            // `$`, up to 20 digits of length and two CRLFs around each
            self.encoded.reserve(self.expected.max(1) * (b.len() + 25));
        }
        bulk(&mut self.encoded, b);
        self.len += 1;
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    /// An error reply; `msg` carries its code (`ERR …`, `WRONGTYPE …`).
    pub fn err(msg: impl Into<String>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk string from anything byte-like.
    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }

    /// A bulk string or null.
    pub fn opt_bulk(b: Option<Vec<u8>>) -> Reply {
        b.map(Reply::Bulk).unwrap_or(Reply::Nil)
    }

    /// An array of bulk strings.
    pub fn bulks<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the encoding of this reply for protocol `resp` (2 or 3).
    pub fn encode(&self, resp: u8, out: &mut Vec<u8>) {
        match self {
            Reply::Simple(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => line(out, b'-', s.as_bytes()),
            Reply::Int(n) => {
                out.push(b':');
                out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Bulk(b) => bulk(out, b),
            Reply::SharedBulk(buf, from) => bulk(out, &buf[*from..]),
            Reply::Nil if resp >= 3 => out.extend_from_slice(b"_\r\n"),
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::NilArray if resp >= 3 => out.extend_from_slice(b"_\r\n"),
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Array(items) => {
                header(out, b'*', items.len());
                items.iter().for_each(|r| r.encode(resp, out));
            }
            Reply::BulkArray(a) => {
                header(out, b'*', a.len);
                out.extend_from_slice(&a.encoded);
            }
            Reply::BulkSet(a) => {
                header(out, if resp >= 3 { b'~' } else { b'*' }, a.len);
                out.extend_from_slice(&a.encoded);
            }
            Reply::Double(d) if resp >= 3 => {
                out.push(b',');
                out.extend_from_slice(format_double_resp3(*d).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Double(d) => bulk(out, crate::util::num::format_double(*d).as_bytes()),
            Reply::Map(pairs) => {
                if resp >= 3 {
                    header(out, b'%', pairs.len());
                } else {
                    header(out, b'*', pairs.len() * 2);
                }
                for (k, v) in pairs {
                    k.encode(resp, out);
                    v.encode(resp, out);
                }
            }
            Reply::Pairs(pairs) => {
                if resp >= 3 {
                    header(out, b'*', pairs.len());
                } else {
                    header(out, b'*', pairs.len() * 2);
                }
                for (k, v) in pairs {
                    if resp >= 3 {
                        header(out, b'*', 2);
                    }
                    k.encode(resp, out);
                    v.encode(resp, out);
                }
            }
            Reply::Set(items) => {
                header(out, if resp >= 3 { b'~' } else { b'*' }, items.len());
                items.iter().for_each(|r| r.encode(resp, out));
            }
            Reply::Bool(b) if resp >= 3 => {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" })
            }
            Reply::Bool(b) => out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
            Reply::Verbatim(s) if resp >= 3 => {
                header(out, b'=', s.len() + 4);
                out.extend_from_slice(b"txt:");
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Verbatim(s) => bulk(out, s.as_bytes()),
            Reply::Push(items) => {
                header(out, if resp >= 3 { b'>' } else { b'*' }, items.len());
                items.iter().for_each(|r| r.encode(resp, out));
            }
            Reply::Frames(replies) => replies.iter().for_each(|r| r.encode(resp, out)),
        }
    }
}

fn format_double_resp3(d: f64) -> String {
    if d.is_nan() {
        "nan".into()
    } else {
        crate::util::num::format_double(d)
    }
}

fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn line(out: &mut Vec<u8>, tag: u8, s: &[u8]) {
    out.push(tag);
    // a status or error line must not break the framing
    out.extend(
        s.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    header(out, b'$', b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, resp: u8) -> String {
        let mut v = Vec::new();
        r.encode(resp, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn a_bulk_array_encodes_as_an_array_of_bulks() {
        let items: [&[u8]; 4] = [b"a", b"", b"line\r\nbreak", &[0xff; 300]];
        let mut packed = BulkArray::expecting(2);
        items.iter().for_each(|b| packed.push(b));
        assert_eq!(packed.len(), 4);
        let plain = Reply::bulks(items.iter().map(|b| b.to_vec()));
        for resp in [2, 3] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            Reply::BulkArray(packed.clone()).encode(resp, &mut a);
            plain.encode(resp, &mut b);
            assert_eq!(a, b, "RESP{resp}");
        }
        let mut empty = Vec::new();
        Reply::BulkArray(BulkArray::default()).encode(2, &mut empty);
        assert_eq!(empty, b"*0\r\n");
        let set = Reply::Set(items.iter().map(|b| Reply::Bulk(b.to_vec())).collect());
        for resp in [2, 3] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            Reply::BulkSet(packed.clone()).encode(resp, &mut a);
            set.encode(resp, &mut b);
            assert_eq!(a, b, "set, RESP{resp}");
        }
    }

    #[test]
    fn resp2_and_resp3() {
        assert_eq!(enc(&Reply::Nil, 2), "$-1\r\n");
        assert_eq!(enc(&Reply::Nil, 3), "_\r\n");
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]);
        assert_eq!(enc(&m, 2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 3), ",1.5\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Verbatim("hi".into()), 3), "=6\r\ntxt:hi\r\n");
        let p = Reply::Pairs(vec![(Reply::bulk("a"), Reply::Double(1.0))]);
        assert_eq!(enc(&p, 2), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(enc(&p, 3), "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
        let push = Reply::Push(vec![Reply::bulk("a"), Reply::Nil]);
        assert_eq!(enc(&push, 2), "*2\r\n$1\r\na\r\n$-1\r\n");
        assert_eq!(enc(&push, 3), ">2\r\n$1\r\na\r\n_\r\n");
        let frames = Reply::Frames(vec![Reply::Int(1), Reply::Int(2)]);
        assert_eq!(enc(&frames, 2), ":1\r\n:2\r\n");
    }
}
