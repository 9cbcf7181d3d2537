//! Feeds arbitrary bytes to the request parser the way a connection does:
//! in chunks, parsing whole commands and keeping the rest. The first byte
//! picks the chunk size. Checks the result matches parsing all at once.
#![no_main]

use diskdb::protocol::{parse_command, ParseError};
use libfuzzer_sys::fuzz_target;

/// The commands parsed from `input` delivered `chunk` bytes at a time, and
/// the error that ended the stream if any.
fn feed(input: &[u8], chunk: usize) -> (Vec<Vec<Vec<u8>>>, Option<ParseError>) {
    let mut buf = Vec::new();
    let mut commands = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        let mut used = 0;
        loop {
            match parse_command(&buf[used..]) {
                Ok(Some((args, n))) => {
                    assert!(n > 0 && used + n <= buf.len());
                    used += n;
                    commands.push(args);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(e.0.starts_with("ERR Protocol error: "));
                    return (commands, Some(e));
                }
            }
        }
        buf.drain(..used);
    }
    (commands, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let whole = feed(input, input.len().max(1));
    let chunk = usize::from(first % 16) + 1;
    assert_eq!(feed(input, chunk), whole, "chunks of {chunk}");
});
