//! Incremental request parser for RESP multibulk and inline commands.
//!
//! The parser never consumes a partial request: it returns `Ok(None)` until a
//! whole command is buffered, then the arguments and the bytes consumed.

/// Largest bulk string a client may send (Redis's `proto-max-bulk-len`).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Largest number of arguments in one multibulk request.
pub const MAX_MULTIBULK_LEN: usize = 1024 * 1024;
/// Largest inline request (and largest multibulk/bulk header line).
pub const MAX_INLINE_LEN: usize = 64 * 1024;

/// A protocol error: the connection is answered with this text and closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

/// One parsed command: its arguments and how many input bytes it used.
pub type Parsed = (Vec<Vec<u8>>, usize);

fn perr(msg: &str) -> ParseError {
    ParseError(format!("ERR Protocol error: {msg}"))
}

/// Parses one command from the front of `buf`.
///
/// Returns `Ok(None)` when more input is needed. Empty requests (a blank
/// inline line, `*0`, `*-1`) come back as an empty argument list so the
/// caller can skip them while still consuming their bytes.
pub fn parse_command(buf: &[u8]) -> Result<Option<Parsed>, ParseError> {
    parse_command_limited(buf, &Limits::DEFAULT)
}

/// Size limits of a request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most arguments in one multibulk request.
    pub multibulk: usize,
    /// Largest bulk string.
    pub bulk: usize,
    /// Message suffix naming the limit that was hit ("" or "unauthenticated ").
    pub kind: &'static str,
}

impl Limits {
    /// The limits of an authenticated client.
    pub const DEFAULT: Limits = Limits {
        multibulk: MAX_MULTIBULK_LEN,
        bulk: MAX_BULK_LEN,
        kind: "",
    };
    /// Redis's limits before AUTH: 10 arguments of at most 16 KB, so an
    /// unauthenticated client cannot make the server buffer much.
    pub const UNAUTHENTICATED: Limits = Limits {
        multibulk: 10,
        bulk: 16 * 1024,
        kind: "unauthenticated ",
    };
}

/// [`parse_command`] with explicit size limits.
pub fn parse_command_limited(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ParseError> {
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buf, limits),
        Some(_) => parse_inline(buf),
    }
}

/// Finds the end of the line starting at `from`; returns the index of '\r'.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < buf.len() {
        match memchr(b'\r', &buf[i..buf.len() - 1]) {
            Some(off) => {
                let p = i + off;
                if buf[p + 1] == b'\n' {
                    return Some(p);
                }
                i = p + 1;
            }
            None => return None,
        }
    }
    None
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Parses a length like Redis's `string2ll`: an optional `-`, then `0` alone
/// or digits without a leading zero (so `+5`, `01`, `-0` and ` 5` are invalid).
/// Digits are accumulated directly (every pipelined command has two
/// lengths or more: `from_utf8` and `str::parse` were 1.8% of a shard
/// under SADD at -P 16); overflow is an invalid length.
fn parse_len(line: &[u8]) -> Option<i64> {
    let (negative, digits) = match line.strip_prefix(b"-") {
        Some(digits) => (true, digits),
        None => (false, line),
    };
    match digits {
        [b'0'] => return (!negative).then_some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    digits.iter().try_fold(0i64, |n, &d| {
        let d = d.is_ascii_digit().then(|| i64::from(d - b'0'))?;
        match negative {
            false => n.checked_mul(10)?.checked_add(d),
            true => n.checked_mul(10)?.checked_sub(d),
        }
    })
}

fn parse_multibulk(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ParseError> {
    let Some(eol) = find_crlf(buf, 1) else {
        if buf.len() > MAX_INLINE_LEN {
            return Err(perr("too big mbulk count string"));
        }
        return Ok(None);
    };
    // same verdict whether the line arrived at once or piece by piece
    if eol >= MAX_INLINE_LEN {
        return Err(perr("too big mbulk count string"));
    }
    let count = match parse_len(&buf[1..eol]) {
        Some(n) if n <= limits.multibulk as i64 => n,
        Some(n) if n <= MAX_MULTIBULK_LEN as i64 => {
            return Err(perr(&format!("{}multibulk length", limits.kind)))
        }
        _ => return Err(perr("invalid multibulk length")),
    };
    let mut pos = eol + 2;
    if count <= 0 {
        return Ok(Some((Vec::new(), pos)));
    }
    let mut args = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            let got = buf[pos] as char;
            return Err(perr(&format!("expected '$', got '{got}'")));
        }
        let Some(eol) = find_crlf(buf, pos + 1) else {
            if buf.len() - pos > MAX_INLINE_LEN {
                return Err(perr("too big bulk count string"));
            }
            return Ok(None);
        };
        if eol - pos >= MAX_INLINE_LEN {
            return Err(perr("too big bulk count string"));
        }
        let len = match parse_len(&buf[pos + 1..eol]) {
            Some(n) if n >= 0 && n as usize <= limits.bulk => n as usize,
            Some(n) if n >= 0 && n as usize <= MAX_BULK_LEN => {
                return Err(perr(&format!("{}bulk length", limits.kind)))
            }
            _ => return Err(perr("invalid bulk length")),
        };
        let start = eol + 2;
        if buf.len() < start + len + 2 {
            return Ok(None);
        }
        args.push(buf[start..start + len].to_vec());
        pos = start + len + 2;
    }
    Ok(Some((args, pos)))
}

/// Arguments [`peek_commands`] shows of each command at most (the name
/// included).
pub const PEEKED_ARGS: usize = 34;

/// Calls `f` with the first [`PEEKED_ARGS`] arguments of each complete
/// multibulk command at the start of `buf` and the number it has in all,
/// for at most `max` commands; returns how many it saw. It stops at the first command that is inline,
/// incomplete or malformed (the parser reports those). A look ahead, not a
/// parse: nothing here is checked against limits, and the commands still
/// go through [`parse_command_limited`].
pub fn peek_commands<'a>(
    buf: &'a [u8],
    max: usize,
    mut f: impl FnMut(&[&'a [u8]], usize),
) -> usize {
    let mut pos = 0;
    let mut seen = 0;
    while seen < max && buf.get(pos) == Some(&b'*') {
        let Some(eol) = find_crlf(buf, pos + 1) else {
            break;
        };
        let Some(count) = parse_len(&buf[pos + 1..eol]).filter(|&n| n > 0) else {
            break;
        };
        pos = eol + 2;
        let mut args: [&[u8]; PEEKED_ARGS] = [&[]; PEEKED_ARGS];
        for i in 0..count {
            let Some((arg, next)) = peek_bulk(buf, pos) else {
                return seen;
            };
            if let Some(slot) = args.get_mut(i as usize) {
                *slot = arg;
            }
            pos = next;
        }
        f(&args[..(count as usize).min(PEEKED_ARGS)], count as usize);
        seen += 1;
    }
    seen
}

/// The bulk string at `pos` and the position after it, if complete.
fn peek_bulk(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    if buf.get(pos) != Some(&b'$') {
        return None;
    }
    let eol = find_crlf(buf, pos + 1)?;
    let len = usize::try_from(parse_len(&buf[pos + 1..eol])?).ok()?;
    let start = eol + 2;
    let end = start.checked_add(len)?;
    (buf.len() >= end.checked_add(2)?).then(|| (&buf[start..end], end + 2))
}

fn parse_inline(buf: &[u8]) -> Result<Option<Parsed>, ParseError> {
    let Some(nl) = memchr(b'\n', buf) else {
        if buf.len() > MAX_INLINE_LEN {
            return Err(perr("too big inline request"));
        }
        return Ok(None);
    };
    if nl > MAX_INLINE_LEN {
        return Err(perr("too big inline request"));
    }
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    match split_args(line) {
        Some(args) => Ok(Some((args, nl + 1))),
        None => Err(perr("unbalanced quotes in request")),
    }
}

/// C's `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits an inline request like Redis's `sdssplitargs`: whitespace separated,
/// with "double quotes" (C escapes, `\xHH`) and 'single quotes'.
/// Returns `None` on unbalanced quotes. As in Redis (a C string), a NUL byte
/// ends the line.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..memchr(0, line).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    };
                    cur.push(e);
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    // closing quote must be followed by a space or the end
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_commands_sees_complete_commands_only() {
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n\
*5\r\n$4\r\nHSET\r\n$2\r\nbb\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nw\r\n\
*2\r\n$3\r\nGET\r\n$5\r\ncc";
        let mut seen = Vec::new();
        let n = peek_commands(buf, 32, |a, _| seen.push(a.concat()));
        assert_eq!(n, 3, "the last command is incomplete");
        assert_eq!(
            seen,
            [b"GETa".to_vec(), b"PING".to_vec(), b"HSETbbfvw".to_vec()]
        );
        let mut seen = Vec::new();
        assert_eq!(peek_commands(buf, 1, |a, _| seen.push(a.concat())), 1);
        assert_eq!(seen, [b"GETa".to_vec()]);
        // inline or malformed input ends the look ahead
        assert_eq!(peek_commands(b"GET a\r\n", 32, |_, _| panic!("inline")), 0);
        assert_eq!(peek_commands(b"*2\r\n$x\r\n", 32, |_, _| panic!("bad")), 0);
        assert_eq!(peek_commands(b"*2\r\n$-1\r\n", 32, |_, _| panic!("bad")), 0);
        assert_eq!(peek_commands(b"*-1\r\n", 32, |_, _| panic!("null")), 0);
        // a command of more arguments than are shown: the first ones, and
        // the count of all
        let mut long = format!("*{}\r\n$4\r\nMGET\r\n", PEEKED_ARGS + 5).into_bytes();
        for i in 0..PEEKED_ARGS + 4 {
            long.extend_from_slice(format!("$3\r\nk{:02}\r\n", i).as_bytes());
        }
        let mut shown = Vec::new();
        assert_eq!(
            peek_commands(&long, 32, |a, n| shown.push((a.len(), n, a[33].to_vec()))),
            1
        );
        assert_eq!(shown, [(PEEKED_ARGS, PEEKED_ARGS + 5, b"k32".to_vec())]);
        // each command parses to the arguments the look ahead saw
        let (args, len) = parse_command(buf).unwrap().unwrap();
        assert_eq!(args, [b"GET".to_vec(), b"a".to_vec()]);
        let (_, len2) = parse_command(&buf[len..]).unwrap().unwrap();
        let (args, _) = parse_command(&buf[len + len2..]).unwrap().unwrap();
        assert_eq!(args.concat(), b"HSETbbfvw");
    }

    #[test]
    fn lengths_parse_as_string2ll_does() {
        let ok: [(&[u8], i64); 6] = [
            (b"0", 0),
            (b"7", 7),
            (b"-1", -1),
            (b"1024", 1024),
            (b"9223372036854775807", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
        ];
        for (line, n) in ok {
            assert_eq!(
                parse_len(line),
                Some(n),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let bad: [&[u8]; 12] = [
            b"",
            b"-",
            b"-0",
            b"01",
            b"+5",
            b" 5",
            b"5 ",
            b"1x",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
            b"\xff",
        ];
        for line in bad {
            assert_eq!(parse_len(line), None, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn multibulk_whole_and_partial() {
        let req = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
        for cut in 0..req.len() {
            assert_eq!(parse_command(&req[..cut]).unwrap(), None, "cut {cut}");
        }
        let (args, used) = parse_command(req).unwrap().unwrap();
        assert_eq!(args, vec![b"GET".to_vec(), b"key".to_vec()]);
        assert_eq!(used, req.len());
    }

    #[test]
    fn inline_with_quotes() {
        let (args, used) = parse_command(b"SET k \"a b\\x41\" 'c d'\r\nPING")
            .unwrap()
            .unwrap();
        assert_eq!(
            args,
            vec![
                b"SET".to_vec(),
                b"k".to_vec(),
                b"a bA".to_vec(),
                b"c d".to_vec()
            ]
        );
        assert_eq!(used, 23);
        assert!(parse_command(b"SET \"abc\r\n").is_err());
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(
            parse_command(b"*1\r\n:5\r\n").unwrap_err().0,
            "ERR Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            parse_command(b"*x\r\n").unwrap_err().0,
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_command(b"*1\r\n$-5\r\n").unwrap_err().0,
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(parse_command(b"*0\r\n").unwrap(), Some((vec![], 4)));
    }

    #[test]
    fn nul_ends_an_inline_request() {
        // used to loop forever pushing empty arguments (found by fuzzing)
        let (args, used) = parse_command(b"a\0b c\r\n").unwrap().unwrap();
        assert_eq!((args, used), (vec![b"a".to_vec()], 7));
        assert_eq!(parse_command(b"\0\r\n").unwrap(), Some((vec![], 3)));
        assert!(parse_command(b"\"a\0\"\r\n").is_err());
        assert_eq!(split_args(b"\x0b\x0cfoo"), Some(vec![b"foo".to_vec()]));
    }
}
