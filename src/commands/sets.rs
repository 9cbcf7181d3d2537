//! Set commands (Redis 7 semantics) on top of `data_types::set`.

use super::Command;

/// The set family.
pub static COMMANDS: &[Command] = &[];
