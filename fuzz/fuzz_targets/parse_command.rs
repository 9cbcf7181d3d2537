//! Feeds arbitrary bytes to the request parser the way a connection does:
//! in chunks, parsing whole commands and keeping the rest. The first byte
//! picks the chunk size. Checks the result matches parsing all at once.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("parse_command_check.rs");

fuzz_target!(|data: &[u8]| check(data));
