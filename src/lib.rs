//! DiskDB: a Redis-compatible server that keeps every byte on disk in
//! RocksDB, one shard per core. See DESIGN.md for the architecture and
//! docs/ENCODING.md for the on-disk layout.

pub mod commands;
pub mod config;
pub mod data_types;
pub mod protocol;
pub mod server;
pub mod shard;
pub mod storage;
pub mod util;
