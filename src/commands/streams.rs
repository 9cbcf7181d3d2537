//! Stream commands (XADD, XREAD, consumer groups…) on top of `data_types::stream`.

use super::Command;

/// The stream family.
pub static COMMANDS: &[Command] = &[];
