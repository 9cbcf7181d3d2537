//! Hash commands (Redis 7 semantics) on top of `data_types::hash`.

use super::Command;

/// The hash family.
pub static COMMANDS: &[Command] = &[];
