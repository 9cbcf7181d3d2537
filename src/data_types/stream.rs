//! Streams on the versioned sub-key encoding (docs/ENCODING.md).
//!
//! The meta record's size is the number of entries; its payload (64 bytes,
//! big-endian) is
//!
//! ```text
//! last_id ms u64 · seq u64 · entries_added u64 · first_id ms · seq
//! · max_deleted_entry_id ms · seq · group count u64
//! ```
//!
//! Sub-keys in the `data` CF (all under the key's version):
//!
//! | sub-key | value |
//! |---|---|
//! | `0x00 · ms u64 · seq u64` | entry: `n u32 · (len u32 · bytes)…` fields and values |
//! | `0x01 · group` | group: `last_delivered ms · seq · entries_read i64` (-1: unknown) |
//! | `0x02 · len(group) u16 · group · ms · seq` | pending entry: `delivery_time u64 · delivery_count u64 · consumer` |
//! | `0x03 · len(group) u16 · group · consumer` | consumer: `seen_time u64` |
//!
//! An empty stream keeps its meta record (Redis keeps empty streams), so
//! [`Stream::commit`] writes the meta itself instead of `stage_meta`.
//! Every command stages its writes in one batch; writes that add entries
//! wake clients blocked on the key (`shard::blocking`).
//!
//! Per-consumer pending counts are computed by scanning the group's
//! pending entries (no per-consumer index).

use super::collection::Collection;
use super::{Db, Result};
use crate::shard::blocking;
use crate::storage::encoding::Kind;
use crate::storage::Batch;
use crate::storage::Cf;
use std::fmt;

const ENTRY: u8 = 0x00;
const GROUP: u8 = 0x01;
const PEL: u8 = 0x02;
const CONSUMER: u8 = 0x03;

/// A stream entry ID `ms-seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its parts.
    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, if any.
    pub fn next(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous ID, if any.
    pub fn prev(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    /// Whether this is `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// Big-endian 16-byte encoding (byte order = ID order).
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Decodes [`to_bytes`](Self::to_bytes) output (at least 16 bytes).
    pub fn from_bytes(b: &[u8]) -> StreamId {
        StreamId::new(be(&b[..8]), be(&b[8..16]))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

fn be(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().unwrap())
}

/// An entry: its ID and its field/value list.
pub type StreamEntry = (StreamId, Vec<Vec<u8>>);

/// A consumer group's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// Last ID delivered to the group.
    pub last_id: StreamId,
    /// Logical read counter; -1 when unknown.
    pub entries_read: i64,
}

/// A pending (delivered, unacknowledged) entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The entry ID.
    pub id: StreamId,
    /// Owning consumer.
    pub consumer: Vec<u8>,
    /// Last delivery, ms since the epoch.
    pub delivery_time: u64,
    /// Number of deliveries.
    pub delivery_count: u64,
}

/// How XADD/XTRIM trim.
#[derive(Clone, Copy, Debug)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries with smaller IDs.
    MinId(StreamId),
}

fn encode_fields(fields: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + fields.iter().map(|f| f.len() + 4).sum::<usize>());
    v.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for f in fields {
        v.extend_from_slice(&(f.len() as u32).to_be_bytes());
        v.extend_from_slice(f);
    }
    v
}

fn decode_fields(mut b: &[u8]) -> Vec<Vec<u8>> {
    let take = |b: &mut &[u8]| -> Option<u32> {
        let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
        *b = &b[4..];
        Some(n)
    };
    let n = take(&mut b).unwrap_or(0);
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let Some(len) = take(&mut b) else { break };
        let len = (len as usize).min(b.len());
        out.push(b[..len].to_vec());
        b = &b[len..];
    }
    out
}

fn group_prefix(tag: u8, group: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + group.len() + 16);
    k.push(tag);
    k.extend_from_slice(&(group.len() as u16).to_be_bytes());
    k.extend_from_slice(group);
    k
}

fn entry_key(id: StreamId) -> [u8; 17] {
    let mut k = [ENTRY; 17];
    k[1..].copy_from_slice(&id.to_bytes());
    k
}

/// A stream opened for one command: reads go to storage, writes are
/// staged in a batch and applied with [`Stream::commit`].
pub struct Stream {
    coll: Collection,
    /// Greatest ID ever added (or set with XSETID).
    pub last_id: StreamId,
    /// Number of entries ever added.
    pub entries_added: u64,
    /// First entry's ID as recorded (Redis's `first_id`).
    pub first_id: StreamId,
    /// Greatest ID ever deleted with XDEL.
    pub max_deleted: StreamId,
    /// Number of consumer groups.
    pub groups: u64,
    grew: bool,
    /// The entry added by this command (not in storage until commit).
    added: Option<StreamId>,
}

impl<'a> Db<'a> {
    /// Opens an existing stream (WRONGTYPE for another type).
    pub fn open_stream(&self, key: &[u8]) -> Result<Option<Stream>> {
        Ok(self.open_collection(key, Kind::Stream)?.map(Stream::new))
    }

    /// Opens a stream, or starts an empty one (not stored until committed).
    pub fn open_or_create_stream(&self, key: &[u8]) -> Result<Stream> {
        Ok(Stream::new(self.open_or_create(key, Kind::Stream)?))
    }
}

impl Stream {
    fn new(coll: Collection) -> Stream {
        let mut s = Stream {
            last_id: StreamId::MIN,
            entries_added: 0,
            first_id: StreamId::MIN,
            max_deleted: StreamId::MIN,
            groups: 0,
            grew: false,
            added: None,
            coll,
        };
        let p = &s.coll.meta.payload;
        if p.len() >= 64 {
            s.last_id = StreamId::from_bytes(&p[0..16]);
            s.entries_added = be(&p[16..24]);
            s.first_id = StreamId::from_bytes(&p[24..40]);
            s.max_deleted = StreamId::from_bytes(&p[40..56]);
            s.groups = be(&p[56..64]);
        }
        s
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.coll.meta.size
    }

    /// Whether the stream has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the key existed before this command.
    pub fn existed(&self) -> bool {
        self.coll.existed()
    }

    /// The user key.
    pub fn key(&self) -> &[u8] {
        &self.coll.key
    }

    /// Writes the meta record (kept even when empty) and the batch, then
    /// wakes blocked readers if entries were added.
    pub fn commit(mut self, db: &Db, mut batch: Batch) -> Result<()> {
        let mut p = Vec::with_capacity(64);
        p.extend_from_slice(&self.last_id.to_bytes());
        p.extend_from_slice(&self.entries_added.to_be_bytes());
        p.extend_from_slice(&self.first_id.to_bytes());
        p.extend_from_slice(&self.max_deleted.to_bytes());
        p.extend_from_slice(&self.groups.to_be_bytes());
        self.coll.meta.payload = p;
        db.put(&mut batch, &self.coll.key, &self.coll.meta);
        db.write(batch)?;
        if self.grew {
            blocking::wake(db, &self.coll.key);
        }
        Ok(())
    }

    /// Commits a change to consumer groups (or XSETID's IDs) as Redis
    /// does: no WATCH broken, no tracking invalidation, and only the
    /// keyspace event `event`, if any.
    pub fn commit_group_change(
        self,
        db: &Db,
        batch: Batch,
        event: Option<&'static str>,
    ) -> Result<()> {
        let mk = crate::storage::encoding::meta_key(db.index, &self.coll.key);
        db.shard.unannounced(|| self.commit(db, batch))?;
        if let Some(event) = event {
            db.shard.publish_event(&mk, event, "stream");
        }
        Ok(())
    }

    // ------------------------------------------------------------ entries

    /// Entries with IDs in `[start, end]`, ascending (or descending when
    /// `rev`), at most `count` of them (0 = all). The one range reader.
    pub fn range(
        &self,
        db: &Db,
        start: StreamId,
        end: StreamId,
        count: u64,
        rev: bool,
    ) -> Vec<StreamEntry> {
        let mut out = Vec::new();
        if start > end || self.is_empty() {
            return out;
        }
        let from = entry_key(if rev { end } else { start });
        db.iter_sub(Cf::Data, &self.coll, Some(&from), rev, |k, v| {
            if k.len() != 17 || k[0] != ENTRY {
                return false;
            }
            let id = StreamId::from_bytes(&k[1..]);
            if (rev && id < start) || (!rev && id > end) {
                return false;
            }
            out.push((id, decode_fields(v)));
            count == 0 || (out.len() as u64) < count
        });
        out
    }

    /// One entry's fields, if it exists.
    pub fn get(&self, db: &Db, id: StreamId) -> Result<Option<Vec<Vec<u8>>>> {
        if self.is_empty() {
            return Ok(None);
        }
        Ok(db
            .get_sub(Cf::Data, &self.coll, &entry_key(id))?
            .map(|v| decode_fields(&v)))
    }

    /// The first (or last) entry's ID.
    pub fn edge_id(&self, db: &Db, last: bool) -> Option<StreamId> {
        let (lo, hi) = (StreamId::MIN, StreamId::MAX);
        self.range(db, lo, hi, 1, last).first().map(|e| e.0)
    }

    /// Redis's `streamLastValidID`: the last entry's ID (`None` when
    /// empty), which may be below `last_id` after XDEL or XSETID.
    pub fn last_valid_id(&self, db: &Db) -> Option<StreamId> {
        self.edge_id(db, true)
    }

    /// Appends an entry with `id` (> last_id, checked by the caller).
    pub fn add(&mut self, db: &Db, batch: &mut Batch, id: StreamId, fields: &[Vec<u8>]) {
        db.put_sub(
            batch,
            Cf::Data,
            &self.coll,
            &entry_key(id),
            &encode_fields(fields),
        );
        self.coll.meta.size += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.coll.meta.size == 1 {
            self.first_id = id;
        }
        self.grew = true;
        self.added = Some(id);
    }

    /// XDEL: deletes the entries that exist; returns how many.
    pub fn delete(&mut self, db: &Db, batch: &mut Batch, ids: &[StreamId]) -> Result<u64> {
        let mut gone = std::collections::HashSet::new();
        let mut first_gone = false;
        for &id in ids {
            if gone.contains(&id) || self.get(db, id)?.is_none() {
                continue;
            }
            db.del_sub(batch, Cf::Data, &self.coll, &entry_key(id));
            gone.insert(id);
            first_gone |= id == self.first_id;
            self.max_deleted = self.max_deleted.max(id);
        }
        let n = gone.len() as u64;
        if n > 0 {
            self.coll.meta.size -= n;
            if self.is_empty() {
                self.first_id = StreamId::MIN;
            } else if first_gone {
                // the batch is not applied yet: skip what it deletes
                let mut first = StreamId::MAX;
                db.iter_sub(Cf::Data, &self.coll, Some(&[ENTRY]), false, |k, _| {
                    if k.len() != 17 || k[0] != ENTRY {
                        return false;
                    }
                    let id = StreamId::from_bytes(&k[1..]);
                    if gone.contains(&id) {
                        return true;
                    }
                    first = id;
                    false
                });
                self.first_id = first;
            }
        }
        Ok(n)
    }

    /// Trims from the head; at most `limit` entries go (0 = no limit).
    /// Returns how many were removed. Sees the entry [`add`](Self::add)ed
    /// in this command too.
    pub fn trim(&mut self, db: &Db, batch: &mut Batch, how: Trim, limit: u64) -> u64 {
        let len = self.len();
        let goes = |id: StreamId, removed: u64| {
            (limit == 0 || removed < limit)
                && match how {
                    Trim::MaxLen(max) => len - removed > max,
                    Trim::MinId(min) => id < min,
                }
        };
        let (mut removed, mut new_first, mut stopped) = (0u64, StreamId::MAX, false);
        db.iter_sub(Cf::Data, &self.coll, Some(&[ENTRY]), false, |k, _| {
            if k.len() != 17 || k[0] != ENTRY {
                return false;
            }
            let id = StreamId::from_bytes(&k[1..]);
            if !goes(id, removed) {
                (new_first, stopped) = (id, true);
                return false;
            }
            batch.delete(Cf::Data, &self.coll.sub_key(k));
            removed += 1;
            true
        });
        if let (false, Some(id)) = (stopped, self.added) {
            if goes(id, removed) {
                db.del_sub(batch, Cf::Data, &self.coll, &entry_key(id));
                removed += 1;
            } else {
                new_first = id;
            }
        }
        if removed > 0 {
            self.coll.meta.size -= removed;
            self.first_id = if self.is_empty() {
                StreamId::MIN
            } else {
                new_first
            };
        }
        removed
    }

    // ------------------------------------------------------------- groups

    /// A group's state.
    pub fn group(&self, db: &Db, name: &[u8]) -> Result<Option<Group>> {
        let mut k = vec![GROUP];
        k.extend_from_slice(name);
        Ok(db.get_sub(Cf::Data, &self.coll, &k)?.map(|v| Group {
            last_id: StreamId::from_bytes(&v),
            entries_read: be(&v[16..24]) as i64,
        }))
    }

    /// Stages a group's state (`created`: a new group).
    pub fn put_group(&mut self, db: &Db, batch: &mut Batch, name: &[u8], g: &Group, created: bool) {
        let mut k = vec![GROUP];
        k.extend_from_slice(name);
        let mut v = g.last_id.to_bytes().to_vec();
        v.extend_from_slice(&g.entries_read.to_be_bytes());
        db.put_sub(batch, Cf::Data, &self.coll, &k, &v);
        self.groups += created as u64;
    }

    /// Every group, by name.
    pub fn groups(&self, db: &Db) -> Vec<(Vec<u8>, Group)> {
        let mut out = Vec::new();
        if self.groups == 0 {
            return out;
        }
        db.iter_sub(Cf::Data, &self.coll, Some(&[GROUP]), false, |k, v| {
            if k[0] != GROUP {
                return false;
            }
            out.push((
                k[1..].to_vec(),
                Group {
                    last_id: StreamId::from_bytes(v),
                    entries_read: be(&v[16..24]) as i64,
                },
            ));
            true
        });
        out
    }

    /// Stages the deletion of a group with its pending entries and
    /// consumers.
    pub fn destroy_group(&mut self, db: &Db, batch: &mut Batch, name: &[u8]) {
        let mut k = vec![GROUP];
        k.extend_from_slice(name);
        db.del_sub(batch, Cf::Data, &self.coll, &k);
        for tag in [PEL, CONSUMER] {
            let prefix = group_prefix(tag, name);
            db.iter_sub(Cf::Data, &self.coll, Some(&prefix), false, |k, _| {
                if !k.starts_with(&prefix) {
                    return false;
                }
                batch.delete(Cf::Data, &self.coll.sub_key(k));
                true
            });
        }
        self.groups -= 1;
    }

    // ---------------------------------------------------- pending entries

    /// The group's pending entries from `from` on, ascending, while `visit`
    /// returns true.
    pub fn scan_pending(
        &self,
        db: &Db,
        group: &[u8],
        from: StreamId,
        mut visit: impl FnMut(Pending) -> bool,
    ) {
        let prefix = group_prefix(PEL, group);
        let mut start = prefix.clone();
        start.extend_from_slice(&from.to_bytes());
        db.iter_sub(Cf::Data, &self.coll, Some(&start), false, |k, v| {
            if !k.starts_with(&prefix) || k.len() != prefix.len() + 16 || v.len() < 16 {
                return false;
            }
            visit(Pending {
                id: StreamId::from_bytes(&k[prefix.len()..]),
                delivery_time: be(&v[..8]),
                delivery_count: be(&v[8..16]),
                consumer: v[16..].to_vec(),
            })
        });
    }

    /// All pending entries of a group.
    pub fn pending(&self, db: &Db, group: &[u8]) -> Vec<Pending> {
        let mut out = Vec::new();
        self.scan_pending(db, group, StreamId::MIN, |p| {
            out.push(p);
            true
        });
        out
    }

    /// One pending entry.
    pub fn get_pending(&self, db: &Db, group: &[u8], id: StreamId) -> Result<Option<Pending>> {
        let mut k = group_prefix(PEL, group);
        k.extend_from_slice(&id.to_bytes());
        Ok(db
            .get_sub(Cf::Data, &self.coll, &k)?
            .filter(|v| v.len() >= 16)
            .map(|v| Pending {
                id,
                delivery_time: be(&v[..8]),
                delivery_count: be(&v[8..16]),
                consumer: v[16..].to_vec(),
            }))
    }

    /// Stages a pending entry.
    pub fn put_pending(&self, db: &Db, batch: &mut Batch, group: &[u8], p: &Pending) {
        let mut k = group_prefix(PEL, group);
        k.extend_from_slice(&p.id.to_bytes());
        let mut v = p.delivery_time.to_be_bytes().to_vec();
        v.extend_from_slice(&p.delivery_count.to_be_bytes());
        v.extend_from_slice(&p.consumer);
        db.put_sub(batch, Cf::Data, &self.coll, &k, &v);
    }

    /// Stages the removal of a pending entry.
    pub fn del_pending(&self, db: &Db, batch: &mut Batch, group: &[u8], id: StreamId) {
        let mut k = group_prefix(PEL, group);
        k.extend_from_slice(&id.to_bytes());
        db.del_sub(batch, Cf::Data, &self.coll, &k);
    }

    // ---------------------------------------------------------- consumers

    /// A consumer's seen-time, if it exists.
    pub fn consumer(&self, db: &Db, group: &[u8], name: &[u8]) -> Result<Option<u64>> {
        let mut k = group_prefix(CONSUMER, group);
        k.extend_from_slice(name);
        Ok(db.get_sub(Cf::Data, &self.coll, &k)?.map(|v| be(&v)))
    }

    /// Stages a consumer's seen-time (creating it if needed).
    pub fn put_consumer(&self, db: &Db, batch: &mut Batch, group: &[u8], name: &[u8], seen: u64) {
        let mut k = group_prefix(CONSUMER, group);
        k.extend_from_slice(name);
        db.put_sub(batch, Cf::Data, &self.coll, &k, &seen.to_be_bytes());
    }

    /// Stages a consumer's removal (its pending entries are the caller's).
    pub fn del_consumer(&self, db: &Db, batch: &mut Batch, group: &[u8], name: &[u8]) {
        let mut k = group_prefix(CONSUMER, group);
        k.extend_from_slice(name);
        db.del_sub(batch, Cf::Data, &self.coll, &k);
    }

    /// A group's consumers and their seen-times, by name.
    pub fn consumers(&self, db: &Db, group: &[u8]) -> Vec<(Vec<u8>, u64)> {
        let prefix = group_prefix(CONSUMER, group);
        let mut out = Vec::new();
        db.iter_sub(Cf::Data, &self.coll, Some(&prefix), false, |k, v| {
            if !k.starts_with(&prefix) {
                return false;
            }
            out.push((k[prefix.len()..].to_vec(), be(v)));
            true
        });
        out
    }

    // ------------------------------------------------ logical read counters

    /// Whether an XDEL tombstone may lie in `[start, ∞)`.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted.is_zero() || self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical
    /// read counter of `id`, or -1 if it cannot be known.
    pub fn estimate_read_counter(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return added - self.len() as i64;
            } else if id == self.first_id {
                return added - self.len() as i64 + 1;
            }
        }
        -1
    }

    /// A group's lag, if it can be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.has_tombstones_from(g.last_id) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        match self.estimate_read_counter(g.last_id) {
            -1 => None,
            read => Some(self.entries_added as i64 - read),
        }
    }
}
