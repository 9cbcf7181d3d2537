//! Zset commands (Redis 7 semantics) on top of `data_types::zset`.

use super::Command;

/// The zset family.
pub static COMMANDS: &[Command] = &[];
