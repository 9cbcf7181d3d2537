// The check behind the `parse_command` fuzz target, kept in its own file so
// that `tests/fuzz.rs` compiles and runs it in the normal test command.

use diskdb::protocol::{parse_command, ParseError};

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

/// One fuzz case: the first byte picks the chunk size; the commands and
/// error must match parsing the rest all at once.
pub fn check(data: &[u8]) {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let whole = feed(input, input.len().max(1));
    let chunk = usize::from(first % 16) + 1;
    assert_eq!(feed(input, chunk), whole, "chunks of {chunk}");
}
