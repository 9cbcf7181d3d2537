//! The wire protocol: RESP2/RESP3 and inline command parsing, reply encoding.

#[cfg(test)]
mod fuzz_tests;
pub mod parser;
pub mod reply;

pub use parser::{parse_command, ParseError};
pub use reply::Reply;
