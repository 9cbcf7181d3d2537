//! The wire protocol: RESP2/RESP3 and inline command parsing, reply encoding,
//! and the DUMP/RESTORE payload format.

#[cfg(test)]
mod fuzz_tests;
pub mod parser;
pub mod rdb;
pub mod reply;

pub use parser::{parse_command, parse_command_limited, Limits, ParseError};
pub use reply::Reply;
