//! A command's writes, built in Rust memory in RocksDB's `WriteBatch`
//! layout: a 12-byte header (sequence number, record count), then one
//! record per put or delete (tag, column-family id, length-prefixed key
//! and value).
//!
//! Building the batch here instead of in a C++ `WriteBatch` saves three
//! calls through the FFI per command (create, put, destroy) and the copy
//! out of C++ memory when the batch joins the turn's group (`group.rs`),
//! which reads this same layout; about 3.5% of a shard under pipelined
//! INCR. The group, or a batch written alone, becomes a RocksDB batch
//! with one copy at the write (`Engine::write_now`).

use super::engine::Cf;
use super::group::BATCH_HEADER;

/// Record tags of RocksDB's `WriteBatch` format (`db/dbformat.h`), in
/// their column-family variants (the default family is never written).
const TAG_DELETE: u8 = 0x04;
const TAG_PUT: u8 = 0x05;
const TAG_RANGE_DELETE: u8 = 0x0E;

/// Writes to apply atomically, in RocksDB's `WriteBatch` layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    rep: Vec<u8>,
}

/// Bytes a new batch reserves: a header and a small record, so most
/// commands allocate once.
const INITIAL_CAPACITY: usize = 128;

/// Buffers of dropped batches a thread keeps for its next ones, in bytes
/// of capacity (a shard's turn drops its commands' batches together once
/// the group is written, and the next turn builds as many again).
const SPARE_BYTES: usize = 1 << 20;

/// A dropped batch's buffer larger than this is freed, not kept.
const SPARE_LARGEST: usize = 16 * 1024;

thread_local! {
    /// This thread's spare batch buffers and their total capacity. Reusing
    /// them spares each command the allocation and the growth of its
    /// buffer (for 1 KB list elements at `-P 16` jemalloc refilled its
    /// thread cache from the arena: 3% of the server).
    static SPARE: std::cell::RefCell<(Vec<Vec<u8>>, usize)> =
        const { std::cell::RefCell::new((Vec::new(), 0)) };
}

impl Drop for Batch {
    fn drop(&mut self) {
        let capacity = self.rep.capacity();
        if !(INITIAL_CAPACITY..=SPARE_LARGEST).contains(&capacity) {
            return;
        }
        let rep = std::mem::take(&mut self.rep);
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.1 + capacity <= SPARE_BYTES {
                spare.1 += capacity;
                spare.0.push(rep);
            }
        });
    }
}

/// Most bytes a record adds beyond its key and value (a tag and three
/// varint32s).
const RECORD_OVERHEAD: usize = 16;

impl Default for Batch {
    fn default() -> Batch {
        let spare = SPARE
            .try_with(|spare| {
                let mut spare = spare.borrow_mut();
                let rep = spare.0.pop()?;
                spare.1 -= rep.capacity();
                Some(rep)
            })
            .ok()
            .flatten();
        let mut rep = spare.unwrap_or_else(|| Vec::with_capacity(INITIAL_CAPACITY));
        rep.clear();
        rep.resize(BATCH_HEADER, 0);
        Batch { rep }
    }
}

impl Batch {
    /// A batch from a representation in RocksDB's layout (a captured
    /// transaction's writes).
    pub fn from_data(rep: Vec<u8>) -> Batch {
        assert!(rep.len() >= BATCH_HEADER, "a batch starts with its header");
        Batch { rep }
    }

    /// Sets `key` to `value` in `cf`.
    pub fn put(&mut self, cf: Cf, key: &[u8], value: &[u8]) {
        self.rep.reserve(RECORD_OVERHEAD + key.len() + value.len());
        self.record(TAG_PUT, cf, key);
        self.slice(value);
    }

    /// Deletes `key` from `cf`.
    pub fn delete(&mut self, cf: Cf, key: &[u8]) {
        self.record(TAG_DELETE, cf, key);
    }

    /// Deletes the keys of `cf` in `from..to`.
    pub fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        self.rep.reserve(RECORD_OVERHEAD + from.len() + to.len());
        self.record(TAG_RANGE_DELETE, cf, from);
        self.slice(to);
    }

    /// Starts a record: tag, family, key; counts it.
    fn record(&mut self, tag: u8, cf: Cf, key: &[u8]) {
        self.rep.push(tag);
        varint(&mut self.rep, cf.id());
        self.slice(key);
        let n = self.count() + 1;
        self.rep[8..12].copy_from_slice(&n.to_le_bytes());
    }

    /// Appends a length-prefixed slice.
    fn slice(&mut self, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).expect("keys and values are under 4 GB");
        varint(&mut self.rep, len);
        self.rep.extend_from_slice(bytes);
    }

    /// Records in the batch.
    pub fn count(&self) -> u32 {
        u32::from_le_bytes(self.rep[8..12].try_into().expect("4 bytes"))
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Bytes of the representation, header included.
    pub fn size_in_bytes(&self) -> usize {
        self.rep.len()
    }

    /// The representation in RocksDB's layout.
    pub fn data(&self) -> &[u8] {
        &self.rep
    }

    /// The keys the batch puts in `cf`, in order (`None` if a record is
    /// not one this type writes).
    pub fn put_keys(&self, cf: Cf) -> Option<Vec<&[u8]>> {
        let mut rest = self.rep.get(BATCH_HEADER..)?;
        let mut keys = Vec::new();
        while let Some((&tag, after)) = rest.split_first() {
            let (id, after) = read_varint(after)?;
            let (key, after) = read_slice(after)?;
            rest = match tag {
                TAG_DELETE => after,
                TAG_PUT | TAG_RANGE_DELETE => read_slice(after)?.1,
                _ => return None,
            };
            if tag == TAG_PUT && id == cf.id() {
                keys.push(key);
            }
        }
        Some(keys)
    }
}

/// Reads a varint32 from the front of `b`: (value, the rest).
fn read_varint(b: &[u8]) -> Option<(u32, &[u8])> {
    let mut v = 0u32;
    for (i, &byte) in b.iter().enumerate().take(5) {
        v |= u32::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

/// Reads a length-prefixed slice from the front of `b`: (slice, the rest).
fn read_slice(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = read_varint(b)?;
    let len = len as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The id RocksDB gave a column family, read back from a RocksDB batch
/// that deletes a key in it.
pub fn family_id(handle: &rocksdb::ColumnFamily) -> u32 {
    let mut w = rocksdb::WriteBatch::default();
    w.delete_cf(handle, b"");
    let rep = w.data();
    if rep[BATCH_HEADER] != TAG_DELETE {
        return 0; // the default family's record carries no id
    }
    super::group::varint(rep, &mut (BATCH_HEADER + 1)).expect("a family id")
}

/// Appends RocksDB's varint32 encoding of `v`.
fn varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
pub(in crate::storage) mod tests {
    use super::*;

    #[test]
    fn a_new_batch_reuses_a_dropped_buffer_and_starts_empty() {
        let mut b = Batch::default();
        b.put(Cf::Data, b"element", &[7; 1000]);
        b.put(Cf::Meta, b"list", b"header");
        let (count, size) = (b.count(), b.size_in_bytes());
        assert_eq!(count, 2);
        drop(b);
        let mut again = Batch::default();
        assert!(again.rep.capacity() >= size, "the dropped buffer");
        assert_eq!((again.count(), again.data()), (0, &[0u8; BATCH_HEADER][..]));
        again.put(Cf::Meta, b"k", b"v");
        let mut fresh = Batch {
            rep: vec![0; BATCH_HEADER],
        };
        fresh.put(Cf::Meta, b"k", b"v");
        assert_eq!(again.data(), fresh.data());
    }

    #[test]
    fn put_keys_lists_one_familys_puts() {
        let mut b = Batch::default();
        b.put(Cf::Meta, b"a", b"1");
        b.delete(Cf::Meta, b"gone");
        b.put(Cf::Data, b"sub", &[7; 300]);
        b.delete_range(Cf::Meta, b"x", b"y");
        b.put(Cf::Meta, &[9; 200], b"");
        let meta: Vec<&[u8]> = vec![b"a", &[9; 200]];
        assert_eq!(b.put_keys(Cf::Meta), Some(meta));
        assert_eq!(b.put_keys(Cf::Data), Some(vec![&b"sub"[..]]));
        let mut torn = b.data().to_vec();
        torn.truncate(torn.len() - 3);
        assert_eq!(Batch::from_data(torn).put_keys(Cf::Meta), None);
    }

    /// The records of a batch representation, as RocksDB reads them
    /// (also used by the group's tests).
    pub(in crate::storage) fn records(rep: &[u8]) -> Vec<String> {
        struct Visit(Vec<String>);
        impl rocksdb::WriteBatchIteratorCf for Visit {
            fn put_cf(&mut self, cf: u32, key: &[u8], value: &[u8]) {
                let (k, v) = (String::from_utf8_lossy(key), String::from_utf8_lossy(value));
                self.0.push(format!("put {cf} {k}={v}"));
            }
            fn delete_cf(&mut self, cf: u32, key: &[u8]) {
                self.0
                    .push(format!("del {cf} {}", String::from_utf8_lossy(key)));
            }
            fn merge_cf(&mut self, _: u32, _: &[u8], _: &[u8]) {
                unreachable!()
            }
        }
        let batch = rocksdb::WriteBatch::from_data(rep);
        let mut v = Visit(Vec::new());
        batch.iterate_cf(&mut v);
        assert_eq!(batch.len(), v.0.len(), "count matches the records");
        v.0
    }

    #[test]
    fn rocksdb_reads_what_the_batch_writes() {
        let mut b = Batch::default();
        assert!(b.is_empty());
        let long = vec![7u8; 200_000]; // a three-byte varint length
        b.put(Cf::Meta, b"k", b"v");
        b.delete(Cf::Data, &long);
        b.put(Cf::Expire, b"", &long);
        assert_eq!(b.count(), 3);
        assert_eq!(
            records(b.data()),
            [
                format!("put {} k=v", Cf::Meta.id()),
                format!("del {} {}", Cf::Data.id(), String::from_utf8_lossy(&long)),
                format!(
                    "put {} ={}",
                    Cf::Expire.id(),
                    String::from_utf8_lossy(&long)
                ),
            ]
        );
        // byte for byte what RocksDB's own batch holds for the same writes
        let dir = tempfile::tempdir().unwrap();
        let mut o = rocksdb::Options::default();
        o.create_if_missing(true);
        o.create_missing_column_families(true);
        let names = Cf::ALL.map(Cf::name);
        let db = rocksdb::DB::open_cf(&o, dir.path(), names).unwrap();
        let h = |cf: Cf| db.cf_handle(cf.name()).unwrap();
        let mut w = rocksdb::WriteBatch::default();
        w.put_cf(h(Cf::Meta), b"k", b"v");
        w.delete_cf(h(Cf::Data), &long);
        w.put_cf(h(Cf::Expire), b"", &long);
        assert_eq!(b.data(), w.data());
        let mut r = Batch::default();
        r.delete_range(Cf::ZScore, b"a", b"z");
        let mut w = rocksdb::WriteBatch::default();
        w.delete_range_cf(h(Cf::ZScore), b"a", b"z");
        assert_eq!(r.data(), w.data());
        for cf in Cf::ALL {
            assert_eq!(family_id(h(cf)), cf.id(), "{}", cf.name());
        }
    }
}
