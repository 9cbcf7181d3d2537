//! Clients blocked on keys of this shard (BLPOP, BZPOPMIN, XREAD BLOCK…).

/// Per-shard registry of blocked clients, keyed by (db, key).
#[derive(Default)]
pub struct Blocked {}
