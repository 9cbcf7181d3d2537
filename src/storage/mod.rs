//! Storage: one RocksDB per shard, the key encoding, the compaction filter
//! that drops stale collection sub-keys, and the data-directory manifest.

pub mod batch;
pub mod checkpoint;
pub mod compaction;
pub mod encoding;
pub mod engine;
pub mod group;
pub mod hot;
pub mod hot_budget;
pub mod list_ends;
pub mod manifest;
pub mod ordered;

pub use batch::Batch;
pub use engine::{Cf, Engine, SharedResources};
