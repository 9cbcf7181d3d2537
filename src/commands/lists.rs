//! List commands (Redis 7 semantics) on top of `data_types::list`.

use super::Command;

/// The list family.
pub static COMMANDS: &[Command] = &[];
