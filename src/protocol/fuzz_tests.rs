//! Property tests of the request parser: random and malformed input, huge or
//! negative lengths, truncation, deep nesting and arbitrary splits of the
//! input. A counting allocator checks that nothing is reserved in proportion
//! to a declared length before its bytes arrived.

use super::parser::{parse_command, ParseError, MAX_INLINE_LEN};
use super::Reply;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Wraps the system allocator and counts the bytes each thread asks for.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.with(|a| a.set(a.get() + layout.size()));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.with(|a| a.set(a.get() + new_size));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by this thread while running `f`.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

/// Every error text the parser may produce (Redis's wording).
fn known_error(e: &ParseError) -> bool {
    const FIXED: [&str; 6] = [
        "invalid multibulk length",
        "invalid bulk length",
        "unbalanced quotes in request",
        "too big inline request",
        "too big mbulk count string",
        "too big bulk count string",
    ];
    let Some(msg) = e.0.strip_prefix("ERR Protocol error: ") else {
        return false;
    };
    FIXED.contains(&msg) || (msg.starts_with("expected '$', got '") && msg.ends_with('\''))
}

/// What a connection makes of a byte stream: the commands parsed (empty
/// ones included), the error that ended it if any, and the bytes left over.
#[derive(Debug, PartialEq)]
struct Outcome {
    commands: Vec<Vec<Vec<u8>>>,
    error: Option<ParseError>,
    leftover: usize,
}

/// Feeds `input` in chunks ending at `cuts` (sorted offsets) the way the
/// server does: append, then parse commands until one is incomplete.
fn feed(input: &[u8], cuts: &[usize]) -> Outcome {
    let mut buf = Vec::new();
    let mut out = Outcome {
        commands: Vec::new(),
        error: None,
        leftover: 0,
    };
    let mut from = 0;
    for &to in cuts.iter().chain(std::iter::once(&input.len())) {
        buf.extend_from_slice(&input[from..to]);
        from = to;
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            let (parsed, bytes) = allocated_by(|| parse_command(rest));
            // at most a copy of the arguments, their vectors, and a capped
            // up-front reservation of the argument list
            assert!(
                bytes <= 3 * rest.len() + 64 * 1024,
                "allocated {bytes} bytes parsing {} bytes",
                rest.len()
            );
            match parsed {
                Ok(Some((args, n))) => {
                    assert!(n > 0 && n <= rest.len(), "consumed {n} of {}", rest.len());
                    used += n;
                    out.commands.push(args);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(known_error(&e), "unexpected error text {:?}", e.0);
                    out.error = Some(e);
                    return out;
                }
            }
        }
        buf.drain(..used);
    }
    out.leftover = buf.len();
    out
}

/// Random sorted cut points inside `len`.
fn random_cuts(rng: &mut StdRng, len: usize) -> Vec<usize> {
    let k = rng.random_range(0..8);
    let mut cuts: Vec<usize> = (0..k).map(|_| rng.random_range(0..=len)).collect();
    cuts.sort_unstable();
    cuts
}

/// Checks that `input` parses the same whole, split at random points, and
/// (when short) byte by byte. Returns the whole-input outcome.
fn check(rng: &mut StdRng, input: &[u8]) -> Outcome {
    let whole = feed(input, &[]);
    let cuts = random_cuts(rng, input.len());
    assert_eq!(feed(input, &cuts), whole, "input {input:?} cut at {cuts:?}");
    if input.len() <= 64 {
        let every: Vec<usize> = (1..input.len()).collect();
        assert_eq!(feed(input, &every), whole, "input {input:?} byte by byte");
    }
    whole
}

const NASTY_LENGTHS: [&[u8]; 16] = [
    b"-1",
    b"-2",
    b"-5",
    b"0",
    b"-0",
    b"+1",
    b"01",
    b"99999999999",
    b"2147483648",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"1000000000",
    b"536870913",
    b"x",
    b"",
    b" 1",
];

/// A random byte, biased towards the characters the protocol cares about.
fn random_byte(rng: &mut StdRng) -> u8 {
    const ALPHABET: &[u8] = b"*$:+-\r\n\"' \\x0123456789abcXYZ";
    match rng.random_range(0..4) {
        0 => rng.random(),
        _ => ALPHABET[rng.random_range(0..ALPHABET.len())],
    }
}

/// A short random byte string.
fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let n = rng.random_range(0..max);
    (0..n).map(|_| random_byte(rng)).collect()
}

/// The RESP multibulk encoding of `args`.
fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    Reply::Array(args.iter().cloned().map(Reply::Bulk).collect()).encode(2, &mut out);
    out
}

/// A valid command frame (at least one argument) and its arguments.
fn valid_frame(rng: &mut StdRng) -> (Vec<u8>, Vec<Vec<u8>>) {
    let args: Vec<Vec<u8>> = (0..rng.random_range(1..5))
        .map(|_| random_bytes(rng, 12))
        .collect();
    (encode(&args), args)
}

/// Applies one random corruption to `frame`.
fn mutate(rng: &mut StdRng, frame: &mut Vec<u8>) {
    let len = frame.len();
    match rng.random_range(0..6) {
        0 if len > 0 => {
            let i = rng.random_range(0..len);
            frame[i] ^= 1 << rng.random_range(0..8);
        }
        1 => frame.truncate(rng.random_range(0..=len)),
        2 => {
            let i = rng.random_range(0..=len);
            frame.insert(i, rng.random());
        }
        3 if len > 0 => {
            frame.remove(rng.random_range(0..len));
        }
        _ => {
            // replace the digits after a '*' or '$' with a nasty length
            let marks: Vec<usize> = (0..len)
                .filter(|&i| frame[i] == b'*' || frame[i] == b'$')
                .collect();
            if marks.is_empty() {
                return;
            }
            let at = marks[rng.random_range(0..marks.len())] + 1;
            let end = (at..len)
                .find(|&i| !frame[i].is_ascii_digit())
                .unwrap_or(len);
            let nasty = NASTY_LENGTHS[rng.random_range(0..NASTY_LENGTHS.len())];
            frame.splice(at..end, nasty.iter().copied());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xD15CDB);
    for _ in 0..300_000 {
        let input = random_bytes(&mut rng, 48);
        check(&mut rng, &input);
    }
}

#[test]
fn pipelines_parse_the_same_however_split() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..100_000 {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for _ in 0..rng.random_range(1..6) {
            let (frame, args) = valid_frame(&mut rng);
            input.extend_from_slice(&frame);
            expected.push(args);
        }
        let out = check(&mut rng, &input);
        assert_eq!(out.commands, expected);
        assert_eq!((out.error, out.leftover), (None, 0));
    }
}

#[test]
fn truncation_at_every_offset_waits_for_more() {
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..5_000 {
        let (frame, args) = valid_frame(&mut rng);
        for cut in 0..frame.len() {
            assert_eq!(
                parse_command(&frame[..cut]),
                Ok(None),
                "{frame:?} cut {cut}"
            );
        }
        assert_eq!(parse_command(&frame), Ok(Some((args, frame.len()))));
    }
}

#[test]
fn mutated_frames_never_panic() {
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..400_000 {
        let (mut frame, _) = valid_frame(&mut rng);
        for _ in 0..rng.random_range(1..4) {
            mutate(&mut rng, &mut frame);
        }
        // a valid command after the mutated one must not change the verdict
        // on the mutated one
        frame.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        check(&mut rng, &frame);
    }
}

fn error_of(input: &[u8]) -> String {
    match feed(input, &[]).error {
        Some(e) => e.0,
        None => panic!("no error for {:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn redis_error_messages() {
    let cases: [(&[u8], &str); 12] = [
        (b"*99999999999\r\n", "invalid multibulk length"),
        (b"*3000000000\r\n", "invalid multibulk length"),
        (b"*+1\r\n", "invalid multibulk length"),
        (b"*01\r\n", "invalid multibulk length"),
        (b"*abc\r\n", "invalid multibulk length"),
        (b"*1\r\n$-2\r\n", "invalid bulk length"),
        (b"*1\r\n$2147483648\r\n", "invalid bulk length"),
        (b"*1\r\n$-0\r\n", "invalid bulk length"),
        (b"*1\r\n$9223372036854775808\r\n", "invalid bulk length"),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
            "expected '$', got 'f'",
        ),
        (b"SET \"abc\r\n", "unbalanced quotes in request"),
        (b"SET 'a'b\r\n", "unbalanced quotes in request"),
    ];
    for (input, msg) in cases {
        assert_eq!(error_of(input), format!("ERR Protocol error: {msg}"));
    }
    // negative and zero counts are empty requests, as in Redis
    for input in [&b"*-5\r\n"[..], b"*-1\r\n", b"*0\r\n", b"\r\n", b"   \n"] {
        let out = feed(input, &[]);
        assert_eq!((out.commands, out.error), (vec![vec![]], None), "{input:?}");
    }
}

#[test]
fn oversized_lines_are_rejected_however_they_arrive() {
    let mut rng = StdRng::seed_from_u64(4);
    let long = vec![b'a'; MAX_INLINE_LEN + 10];
    let digits = vec![b'1'; MAX_INLINE_LEN + 10];
    let mut inline = long.clone();
    inline.extend_from_slice(b"\r\n");
    let mut mbulk = b"*".to_vec();
    mbulk.extend_from_slice(&digits);
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend_from_slice(&digits);
    let cases = [
        (long, "too big inline request"),
        (inline, "too big inline request"),
        (mbulk.clone(), "too big mbulk count string"),
        ([&mbulk[..], b"\r\n"].concat(), "too big mbulk count string"),
        (bulk.clone(), "too big bulk count string"),
        ([&bulk[..], b"\r\n"].concat(), "too big bulk count string"),
    ];
    for (input, msg) in cases {
        let out = check(&mut rng, &input);
        assert_eq!(
            out.error.map(|e| e.0),
            Some(format!("ERR Protocol error: {msg}"))
        );
    }
}

#[test]
fn huge_declared_lengths_reserve_nothing_up_front() {
    for input in [
        &b"*1048576\r\n"[..],
        b"*1048576\r\n$536870912\r\n",
        b"*1\r\n$536870912\r\nabc",
        b"*2\r\n$3\r\nGET\r\n$536870912\r\n",
    ] {
        let (parsed, bytes) = allocated_by(|| parse_command(input));
        assert_eq!(parsed, Ok(None));
        assert!(bytes <= 64 * 1024, "{bytes} bytes for {input:?}");
    }
}

#[test]
fn deep_nesting_does_not_recurse() {
    let mut rng = StdRng::seed_from_u64(5);
    // aggregates are not valid command input: the first nested header is
    // a protocol error, found without recursion
    for head in [
        &b"*1\r\n"[..],
        b"%1\r\n",
        b"~1\r\n",
        b">1\r\n",
        b"*1\r\n$1\r\na\r\n*1\r\n",
    ] {
        let input = head.repeat(100_000);
        let out = check(&mut rng, &input);
        assert!(out.error.is_some() || !out.commands.is_empty(), "{head:?}");
    }
    assert_eq!(
        error_of(&b"*1\r\n".repeat(100_000)),
        "ERR Protocol error: expected '$', got '*'"
    );
}
