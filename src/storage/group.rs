//! The writes a shard joins into one RocksDB write per event-loop turn
//! (`Engine::join`): the commands' batches, kept as they came until the
//! group is written as one batch in RocksDB's `WriteBatch` format (a
//! record is copied once, into that batch; a lone batch is not copied).
//!
//! Before the group is written its records are put in key order and a
//! key's earlier records are dropped when a later one replaces them:
//!
//! - RocksDB inserts each record into a skiplist memtable, and the search
//!   for its place was a fifth of a shard under pipelined INCR, most of
//!   it waiting for memory. In key order, each search walks nodes the
//!   previous one just brought into the CPU cache.
//! - A turn of fifty pipelines writes the header of a busy list, set or
//!   sorted set hundreds of times; only the last one is inserted.
//!
//! Both keep the group's meaning: it is one atomic batch, so the order of
//! records on different keys is invisible, and a put or delete sets a
//! key's value whatever came before it in the batch. Range deletions do
//! depend on order, so a group holding one (FLUSHDB, LTRIM) is written as
//! it came, as is one with a record type this module does not know.

use super::batch::Batch;

/// Bytes before the first record of a `WriteBatch` (sequence number and
/// record count).
pub const BATCH_HEADER: usize = 12;

/// The count field of a `WriteBatch` representation.
fn count(rep: &[u8]) -> u32 {
    u32::from_le_bytes(rep[8..12].try_into().expect("4 bytes"))
}

/// Appends the records of batch `other` to batch `rep` (both full
/// `WriteBatch` representations), as RocksDB's own batch append does.
pub fn append_batch(rep: &mut Vec<u8>, other: &[u8]) {
    let total = count(rep) + count(other);
    rep[8..12].copy_from_slice(&total.to_le_bytes());
    rep.extend_from_slice(&other[BATCH_HEADER..]);
}

/// A put or delete in the group: its batch, and where its record and its
/// key lie in it.
#[derive(Clone, Copy)]
struct Record {
    batch: u32,
    start: u32,
    end: u32,
    cf: u32,
    key_start: u32,
    key_end: u32,
}

/// What a record of a `WriteBatch` is, for the group.
enum Parsed {
    /// A put or delete of one key (its column family and key range).
    Point { cf: u32, key: (usize, usize) },
    /// A range deletion.
    Range,
}

/// RocksDB's varint32 at `*pos`.
pub(super) fn varint(rep: &[u8], pos: &mut usize) -> Option<u32> {
    let mut v: u32 = 0;
    for shift in (0..35).step_by(7) {
        let b = *rep.get(*pos)?;
        *pos += 1;
        v |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// A length-prefixed slice at `*pos`: its range.
fn slice(rep: &[u8], pos: &mut usize) -> Option<(usize, usize)> {
    let len = varint(rep, pos)? as usize;
    let start = *pos;
    let end = start.checked_add(len).filter(|&e| e <= rep.len())?;
    *pos = end;
    Some((start, end))
}

/// Reads the record at `*pos` (RocksDB's `ReadRecordFromWriteBatch`);
/// `None` for a type the group does not handle.
fn parse(rep: &[u8], pos: &mut usize) -> Option<Parsed> {
    let tag = *rep.get(*pos)?;
    *pos += 1;
    // the column-family variants carry the family id first
    let cf = match tag {
        0x04 | 0x05 | 0x0E => varint(rep, pos)?,
        0x00 | 0x01 | 0x0F => 0,
        _ => return None,
    };
    let key = slice(rep, pos)?;
    match tag {
        0x00 | 0x04 => Some(Parsed::Point { cf, key }),
        0x01 | 0x05 => {
            slice(rep, pos)?;
            Some(Parsed::Point { cf, key })
        }
        _ => {
            slice(rep, pos)?; // end of the range
            Some(Parsed::Range)
        }
    }
}

/// A record's place in the group's key order, compared mostly as
/// integers: the records of one family often share a long prefix (a
/// collection's `db · slot · key · version`), and comparing it byte by byte
/// through two indirections was most of the sort.
#[derive(Clone, Copy)]
struct SortKey {
    cf: u32,
    /// The key's 8 bytes after its family's shared prefix, big-endian and
    /// zero-padded: orders keys as their bytes do, except for ties.
    window: u64,
    /// The record's position in the group.
    index: u32,
}

/// The 8 bytes of `key` after `skip`, as a big-endian integer.
fn window(key: &[u8], skip: usize) -> u64 {
    let rest = key.get(skip..).unwrap_or_default();
    let mut w = [0u8; 8];
    let n = rest.len().min(8);
    w[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(w)
}

/// For each column family among `keys`, the length of the prefix all its
/// keys share.
fn shared_prefixes<'k>(keys: impl Iterator<Item = (u32, &'k [u8])>) -> Vec<(u32, usize)> {
    // each family's first key, cut to what every later key shares with it
    let mut shared: Vec<(u32, &[u8])> = Vec::new();
    for (cf, key) in keys {
        match shared.iter_mut().find(|s| s.0 == cf) {
            Some((_, common)) => {
                let n = common.iter().zip(key).take_while(|(a, b)| a == b).count();
                *common = &common[..n];
            }
            None => shared.push((cf, key)),
        }
    }
    shared
        .into_iter()
        .map(|(cf, common)| (cf, common.len()))
        .collect()
}

/// Pending joined writes: the batches as they came (kept, not copied,
/// until the group is written), the hashes of the keys they write, and
/// their records for reordering.
#[derive(Default)]
pub struct Group {
    batches: Vec<Batch>,
    bytes: usize,
    hashes: ahash::AHashSet<u64>,
    /// The group holds a range deletion or a record it cannot read: a key
    /// hash cannot tell what it changes, and its order must stay.
    opaque: bool,
    records: Vec<Record>,
    /// Scratch for [`ordered`](Self::ordered).
    order: Vec<SortKey>,
    out: Vec<u8>,
}

impl Group {
    fn hash(key: &[u8]) -> u64 {
        // fixed seeds: the hashes only live until the group is written
        ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(key)
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Bytes pending.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Takes a command's batch into the group.
    pub fn add(&mut self, batch: Batch) {
        let n = self.batches.len() as u32;
        let rep = batch.data();
        let mut pos = BATCH_HEADER;
        while pos < rep.len() {
            let start = pos;
            match parse(rep, &mut pos) {
                Some(Parsed::Point { cf, key }) => {
                    self.hashes.insert(Group::hash(&rep[key.0..key.1]));
                    self.records.push(Record {
                        batch: n,
                        start: start as u32,
                        end: pos as u32,
                        cf,
                        key_start: key.0 as u32,
                        key_end: key.1 as u32,
                    });
                }
                Some(Parsed::Range) => self.opaque = true,
                None => {
                    self.opaque = true;
                    break;
                }
            }
        }
        self.bytes += rep.len();
        self.batches.push(batch);
    }

    /// Whether a point read of `key` may be affected by the group.
    pub fn affects(&self, key: &[u8]) -> bool {
        self.opaque || self.hashes.contains(&Group::hash(key))
    }

    /// The batch to write: the records in (column family, key) order,
    /// each key's last record only; as joined when the group is opaque.
    /// A lone batch is written as it is, without a copy.
    pub fn ordered(&mut self) -> &[u8] {
        if self.batches.len() == 1 && (self.opaque || self.records.len() < 2) {
            return self.batches[0].data();
        }
        self.out.clear();
        self.out.resize(BATCH_HEADER, 0);
        if self.opaque {
            for b in &self.batches {
                append_batch(&mut self.out, b.data());
            }
            return &self.out;
        }
        let (batches, records) = (&self.batches, &self.records);
        let key = |i: u32| {
            let r = &records[i as usize];
            let rep = batches[r.batch as usize].data();
            &rep[r.key_start as usize..r.key_end as usize]
        };
        let shared = shared_prefixes(records.iter().zip(0..).map(|(r, i)| (r.cf, key(i))));
        self.order.clear();
        self.order.extend(records.iter().enumerate().map(|(i, r)| {
            let skip = shared.iter().find(|s| s.0 == r.cf).map_or(0, |s| s.1);
            SortKey {
                cf: r.cf,
                window: window(key(i as u32), skip),
                index: i as u32,
            }
        }));
        // ties broken by position: a key's records stay in their order
        let full = |a: &SortKey, b: &SortKey| {
            (a.cf, a.window)
                .cmp(&(b.cf, b.window))
                .then_with(|| key(a.index).cmp(key(b.index)))
        };
        self.order
            .sort_unstable_by(|a, b| full(a, b).then(a.index.cmp(&b.index)));
        let mut kept: u32 = 0;
        for (n, s) in self.order.iter().enumerate() {
            if let Some(next) = self.order.get(n + 1) {
                if full(s, next).is_eq() {
                    continue; // replaced by a later record of the key
                }
            }
            let r = &records[s.index as usize];
            let rep = batches[r.batch as usize].data();
            self.out
                .extend_from_slice(&rep[r.start as usize..r.end as usize]);
            kept += 1;
        }
        self.out[8..12].copy_from_slice(&kept.to_le_bytes());
        &self.out
    }

    /// Forgets everything pending.
    pub fn clear(&mut self) {
        self.batches.clear();
        self.bytes = 0;
        self.hashes.clear();
        self.opaque = false;
        self.records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::batch::tests::records;
    use rocksdb::WriteBatch;

    fn opts() -> rocksdb::Options {
        let mut o = rocksdb::Options::default();
        o.create_if_missing(true);
        o.create_missing_column_families(true);
        o
    }

    #[test]
    fn orders_by_family_and_key_and_keeps_each_keys_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let db = rocksdb::DB::open_cf(&opts(), dir.path(), ["a", "b"]).unwrap();
        let (a, b) = (db.cf_handle("a").unwrap(), db.cf_handle("b").unwrap());
        let mut g = Group::default();
        let mut w = WriteBatch::default();
        w.put_cf(b, "k", "1");
        w.put_cf(a, "z", "1");
        w.put(b"default", "x");
        g.add(Batch::from_data(w.data().to_vec()));
        let mut w = WriteBatch::default();
        w.delete_cf(a, "z");
        w.put_cf(a, "m", "2");
        w.put_cf(b, "k", "2");
        g.add(Batch::from_data(w.data().to_vec()));
        let mut w = WriteBatch::default();
        w.put_cf(a, "z", "3");
        w.put_cf(b, "j", "");
        g.add(Batch::from_data(w.data().to_vec()));
        assert!(g.affects(b"z") && g.affects(b"j") && !g.affects(b"q"));
        let joined: u32 = g.batches.iter().map(Batch::count).sum();
        assert_eq!(joined, 8, "joined as they came");
        assert_eq!(
            records(g.ordered()),
            [
                "put 0 default=x",
                "put 1 m=2",
                "put 1 z=3",
                "put 2 j=",
                "put 2 k=2"
            ]
        );
        g.clear();
        assert!(g.is_empty() && !g.affects(b"z"));
        let mut w = WriteBatch::default();
        w.put_cf(a, "z", "1");
        w.delete_cf(a, "z");
        g.add(Batch::from_data(w.data().to_vec()));
        assert_eq!(records(g.ordered()), ["del 1 z"], "a delete replaces a put");
    }

    #[test]
    fn a_range_deletion_keeps_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = rocksdb::DB::open_cf(&opts(), dir.path(), ["a"]).unwrap();
        let a = db.cf_handle("a").unwrap();
        let mut g = Group::default();
        let mut w = WriteBatch::default();
        w.put_cf(a, "k", "1");
        w.delete_range_cf(a, "a", "z");
        w.put_cf(a, "b", "2");
        g.add(Batch::from_data(w.data().to_vec()));
        assert!(g.affects(b"anything"));
        assert_eq!(g.ordered(), w.data(), "written as joined");
        // a later batch is appended after it, in order
        let mut w2 = WriteBatch::default();
        w2.put_cf(a, "c", "3");
        w2.delete_range_cf(a, "b", "c");
        g.add(Batch::from_data(w2.data().to_vec()));
        let mut joined = w.data().to_vec();
        append_batch(&mut joined, w2.data());
        assert_eq!(g.ordered(), joined);
        // and RocksDB applies it in that order
        db.write(WriteBatch::from_data(g.ordered())).unwrap();
        assert_eq!(db.get_cf(a, "k").unwrap(), None);
        assert_eq!(db.get_cf(a, "b").unwrap(), None);
        assert_eq!(db.get_cf(a, "c").unwrap().as_deref(), Some(&b"3"[..]));
    }

    #[test]
    fn keys_sharing_long_prefixes_sort_as_their_bytes() {
        // keys of one collection: a long shared prefix, then suffixes of
        // 0-11 bytes over a small alphabet (zero bytes, proper prefixes of
        // other keys, differences before, at and after the 8-byte window)
        let dir = tempfile::tempdir().unwrap();
        let db = rocksdb::DB::open_cf(&opts(), dir.path(), ["a", "b"]).unwrap();
        let (a, b) = (db.cf_handle("a").unwrap(), db.cf_handle("b").unwrap());
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut g = Group::default();
        let mut expected = std::collections::BTreeMap::new();
        for batch in 0..40 {
            let mut w = WriteBatch::default();
            for n in 0..8 {
                let mut key = b"\x01\x20\x07prefix-of-one-collection".to_vec();
                let len = next(12);
                key.extend((0..len).map(|_| [0u8, b'a', b'b'][next(3) as usize]));
                let value = format!("{batch}.{n}");
                let cf = next(2) as u32 + 1;
                w.put_cf(if cf == 1 { a } else { b }, &key, &value);
                expected.insert((cf, key), value);
            }
            g.add(Batch::from_data(w.data().to_vec()));
        }
        let want: Vec<String> = expected
            .iter()
            .map(|((cf, k), v)| format!("put {cf} {}={v}", String::from_utf8_lossy(k)))
            .collect();
        assert_eq!(records(g.ordered()), want);
    }

    #[test]
    fn long_keys_and_values_parse() {
        let mut g = Group::default();
        let mut w = WriteBatch::default();
        let long = vec![b'x'; 70_000];
        w.put(&long, &long);
        w.put(b"a", &long);
        w.put(&long, b"short");
        g.add(Batch::from_data(w.data().to_vec()));
        let out = records(g.ordered());
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with("put 0 a="));
        assert!(out[1].ends_with("=short"));
    }
}
