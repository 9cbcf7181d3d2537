//! Streams: entries as sub-keys ordered by ID (docs/ENCODING.md).
