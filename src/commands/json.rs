//! JSON.* commands (RedisJSON semantics) on top of `data_types::json`.

use super::Command;

/// The JSON family.
pub static COMMANDS: &[Command] = &[];
