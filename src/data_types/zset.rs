//! Zsets on the versioned sub-key encoding (docs/ENCODING.md).
