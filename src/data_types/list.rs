//! Lists on the versioned sub-key encoding (docs/ENCODING.md).
//!
//! The meta payload is `head u64 BE · tail u64 BE`: the elements occupy
//! the indices `[head, tail)`, each a `data` sub-key (the index, u64 BE)
//! holding the element. Position `i` lives at `head + i` and the size is
//! `tail - head`. A new list starts with `head = tail = 2^63`, so it can
//! grow on both sides by moving an end.
//!
//! Costs, for a list of n elements:
//! - LPUSH/RPUSH: one write per element; LPOP/RPOP: one read and one
//!   delete per element (a count pops with one seek); pops in a run at an
//!   end read 16 elements ahead with one seek (`storage/list_ends.rs`).
//! - LLEN: the meta record only. LINDEX/LSET: one point read or write.
//! - LRANGE: one seek, then the elements returned.
//! - LPOS: a scan from the chosen end, up to the match or MAXLEN.
//! - LINSERT: a scan to the pivot (position p), then the shorter side
//!   moves by one: min(p, n - p) rewrites.
//! - LREM: a scan for the matches, then the survivors on the shorter side
//!   of the first/last match shift over the gaps.
//! - LTRIM: a point delete per removed element, one range deletion per
//!   end when many go; O(1) when nothing is left.
//! - DEL, overwrite, expiry: O(1), like every collection.
//!
//! Every command stages its writes in one batch; a list that becomes empty
//! is deleted. Writes that add elements wake clients blocked on the key
//! (`shard::blocking`).

use super::collection::Collection;
use super::{Db, Result};
use crate::shard::blocking;
use crate::storage::encoding::Kind;
use crate::storage::list_ends::{read_ahead, step, WINDOW_BYTES};
use crate::storage::Batch;
use crate::storage::Cf;

/// Bytes a forward read of a tail run ([`List::read_tail_run`]) reads at
/// most before giving up: twice the read-ahead window.
const TAIL_RUN_BYTES: usize = 2 * WINDOW_BYTES;

/// Cuts a run read forwards for a pop (in pop order) after the `need`
/// elements the pop takes and the ones after them that fit
/// [`WINDOW_BYTES`], where [`List::read_run`] stops reading.
fn keep_within_window(run: &mut Vec<Vec<u8>>, need: usize) {
    let mut keep = need.min(run.len());
    let mut extra_bytes = 0;
    while let Some(v) = run.get(keep) {
        extra_bytes += v.len();
        if extra_bytes > WINDOW_BYTES {
            break;
        }
        keep += 1;
    }
    run.truncate(keep);
}

/// Index of the first element of a new list: the middle of the u64 range.
const MIDDLE: u64 = 1 << 63;

/// Spans of at least this many elements are deleted with one range
/// deletion instead of point deletes.
const RANGE_DELETE_MIN: u64 = 64;

/// An end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// A list opened for one command: reads go to storage, writes are staged
/// in a batch by the caller and applied with [`List::commit`].
pub struct List {
    coll: Collection,
    head: u64,
    tail: u64,
    grew: bool,
    /// Keyspace events of the pops and pushes staged, in order (Redis
    /// names them by end, whatever the command: LMOVE publishes `rpop` on
    /// its source and `lpush` on its destination).
    events: Vec<&'static str>,
}

impl List {
    fn new(coll: Collection) -> List {
        let p = &coll.meta.payload;
        let (head, tail) = if coll.existed() && p.len() >= 16 {
            let head = u64::from_be_bytes(p[..8].try_into().unwrap());
            (head, u64::from_be_bytes(p[8..16].try_into().unwrap()))
        } else {
            (MIDDLE, MIDDLE)
        };
        List {
            coll,
            head,
            tail,
            grew: false,
            events: Vec::new(),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.tail - self.head
    }

    /// Whether the list has no elements (only while a command runs: empty
    /// lists are deleted).
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// The user key.
    pub fn key(&self) -> &[u8] {
        &self.coll.key
    }

    fn sub(&self, pos: u64) -> [u8; 8] {
        (self.head + pos).to_be_bytes()
    }

    /// The element at position `pos` (< len).
    pub fn get(&self, db: &Db, pos: u64) -> Result<Option<Vec<u8>>> {
        db.get_sub(Cf::Data, &self.coll, &self.sub(pos))
    }

    /// Up to `n` elements from position `pos` on (towards the tail), or
    /// from `pos` back towards the head when `reverse`.
    pub fn read(&self, db: &Db, pos: u64, n: u64, reverse: bool) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::with_capacity(n.min(1024) as usize);
        self.visit(db, pos, n, reverse, |v| out.push(v.to_vec()))?;
        Ok(out)
    }

    /// Hands `visit` the elements [`read`](Self::read) would return, in
    /// its order, without copying them out.
    pub fn visit(
        &self,
        db: &Db,
        pos: u64,
        n: u64,
        reverse: bool,
        mut visit: impl FnMut(&[u8]),
    ) -> Result<()> {
        if n == 0 || pos >= self.len() {
            return Ok(());
        }
        if n == 1 {
            if let Some(v) = self.get(db, pos)? {
                visit(&v);
            }
            return Ok(());
        }
        let mut seen = 0;
        db.iter_sub(
            Cf::Data,
            &self.coll,
            Some(&self.sub(pos)),
            reverse,
            |_, v| {
                visit(v);
                seen += 1;
                seen < n
            },
        );
        Ok(())
    }

    /// Visits elements with their positions, from the head (or from the
    /// tail when `from_tail`); the visitor returns false to stop.
    pub fn scan(&self, db: &Db, from_tail: bool, mut visit: impl FnMut(u64, &[u8]) -> bool) {
        if self.is_empty() {
            return;
        }
        let start = if from_tail { self.len() - 1 } else { 0 };
        let head = self.head;
        db.iter_sub(
            Cf::Data,
            &self.coll,
            Some(&self.sub(start)),
            from_tail,
            |k, v| {
                let index = k
                    .get(..8)
                    .map_or(head, |b| u64::from_be_bytes(b.try_into().unwrap()));
                visit(index.wrapping_sub(head), v)
            },
        );
    }

    /// Stages adding `values` at `end`, one at a time (so LPUSH a b c
    /// leaves c first).
    pub fn push<'v>(
        &mut self,
        db: &Db,
        batch: &mut Batch,
        end: End,
        values: impl IntoIterator<Item = &'v [u8]>,
    ) {
        self.note_event(match end {
            End::Left => "lpush",
            End::Right => "rpush",
        });
        for v in values {
            let index = match end {
                End::Left => {
                    self.head -= 1;
                    self.head
                }
                End::Right => {
                    self.tail += 1;
                    self.tail - 1
                }
            };
            db.put_sub(batch, Cf::Data, &self.coll, &index.to_be_bytes(), v);
            self.grew = true;
        }
    }

    /// Stages removing up to `count` elements from `end`; returns them in
    /// pop order.
    pub fn pop(
        &mut self,
        db: &Db,
        batch: &mut Batch,
        end: End,
        count: u64,
    ) -> Result<Vec<Vec<u8>>> {
        let n = count.min(self.len());
        if n == 0 {
            return Ok(Vec::new());
        }
        let values = self.take_end(db, end, n)?;
        let n = values.len() as u64;
        self.note_event(match end {
            End::Left => "lpop",
            End::Right => "rpop",
        });
        match end {
            End::Left => {
                self.delete_span(db, batch, 0, n);
                self.head += n;
            }
            End::Right => {
                self.delete_span(db, batch, self.len() - n, self.len());
                self.tail -= n;
            }
        }
        let mut hot = db.shard.hot.borrow_mut();
        hot.list_ends
            .keep_within(self.coll.prefix(), self.head, self.tail);
        Ok(values)
    }

    /// The `n` (≤ len) elements a pop at `end` takes, in pop order: from
    /// the end's read-ahead window, then from storage, reading up to
    /// more for the next pops when pops come in a run (`read_ahead`)
    /// (`storage/list_ends.rs`).
    fn take_end(&self, db: &Db, end: End, n: u64) -> Result<Vec<Vec<u8>>> {
        let right = end == End::Right;
        let next = if right { self.tail - 1 } else { self.head };
        let (mut values, run) =
            db.shard
                .hot
                .borrow_mut()
                .list_ends
                .take(self.coll.prefix(), right, next, n);
        let got = values.len() as u64;
        if got == n {
            return Ok(values);
        }
        let need = n - got;
        let ahead = match run {
            Some(refills) => read_ahead(refills).min(self.len() - n),
            None => 0,
        };
        let pos = if right { self.len() - 1 - got } else { got };
        if ahead == 0 {
            values.extend(self.read(db, pos, need, right)?);
            return Ok(values);
        }
        let mut more = match right {
            true => self.read_tail_run(db, pos, need, ahead),
            false => None,
        }
        .unwrap_or_else(|| self.read_run(db, pos, need, ahead, right));
        let extra = more.split_off((need as usize).min(more.len()));
        values.extend(more);
        if !extra.is_empty() {
            let after = step(next, right, n);
            let mut hot = db.shard.hot.borrow_mut();
            let refills = run.map_or(0, |r| r.saturating_add(1));
            hot.list_ends
                .put(self.coll.prefix(), right, after, extra, refills);
        }
        Ok(values)
    }

    /// The `need` elements a pop takes from `pos` on, in pop order, and
    /// up to `ahead` more while they fit the read-ahead window's bytes,
    /// read in that order (backwards from the tail when `right`).
    fn read_run(&self, db: &Db, pos: u64, need: u64, ahead: u64, right: bool) -> Vec<Vec<u8>> {
        let mut run = Vec::new();
        let mut extra_bytes = 0;
        db.iter_sub(Cf::Data, &self.coll, Some(&self.sub(pos)), right, |_, v| {
            if run.len() as u64 >= need {
                extra_bytes += v.len();
                if extra_bytes > WINDOW_BYTES {
                    return false;
                }
            }
            run.push(v.to_vec());
            (run.len() as u64) < need + ahead
        });
        run
    }

    /// What [`read_run`](Self::read_run) returns from the tail, read with a
    /// forward iterator from the farthest element and reversed: RocksDB's
    /// `Prev` costs more than its `Next` (its merging iterator re-positions
    /// every source on each step back). `None` when the `need + ahead`
    /// elements hold more than [`TAIL_RUN_BYTES`] (the caller then reads
    /// backwards, stopping at the window's bytes) or are not all there.
    fn read_tail_run(&self, db: &Db, pos: u64, need: u64, ahead: u64) -> Option<Vec<Vec<u8>>> {
        let count = (need + ahead).min(pos + 1);
        let mut run = Vec::with_capacity(count as usize);
        let mut bytes = 0;
        db.iter_sub(
            Cf::Data,
            &self.coll,
            Some(&self.sub(pos + 1 - count)),
            false,
            |_, v| {
                bytes += v.len();
                run.push(v.to_vec());
                (run.len() as u64) < count && bytes <= TAIL_RUN_BYTES
            },
        );
        if run.len() as u64 != count || bytes > TAIL_RUN_BYTES {
            return None;
        }
        run.reverse();
        keep_within_window(&mut run, need as usize);
        Some(run)
    }

    /// Stages replacing the element at `pos` (< len).
    pub fn set(&self, db: &Db, batch: &mut Batch, pos: u64, value: &[u8]) {
        self.forget_ends(db);
        db.put_sub(batch, Cf::Data, &self.coll, &self.sub(pos), value);
    }

    /// Stages inserting `value` so that it ends up at position `pos`
    /// (0..=len), moving the shorter side of the list by one.
    pub fn insert(&mut self, db: &Db, batch: &mut Batch, pos: u64, value: &[u8]) -> Result<()> {
        let len = self.len();
        if pos <= len - pos {
            let moved = self.read(db, 0, pos, false)?;
            self.head -= 1;
            for (j, v) in moved.iter().enumerate() {
                self.set(db, batch, j as u64, v);
            }
        } else {
            let moved = self.read(db, pos, len - pos, false)?;
            self.tail += 1;
            for (j, v) in moved.iter().enumerate() {
                self.set(db, batch, pos + 1 + j as u64, v);
            }
        }
        self.set(db, batch, pos, value);
        self.grew = true;
        Ok(())
    }

    /// Stages removing the elements at `positions` (ascending, distinct,
    /// < len): the survivors after the first one shift towards the head,
    /// or those before the last one towards the tail, whichever is fewer.
    pub fn remove(&mut self, db: &Db, batch: &mut Batch, positions: &[u64]) -> Result<()> {
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            return Ok(());
        };
        self.forget_ends(db);
        let (len, m) = (self.len(), positions.len() as u64);
        if len - 1 - first <= last {
            let values = self.read(db, first, len - first, false)?;
            let (mut w, mut gone) = (first, positions.iter().peekable());
            for (j, v) in (first..).zip(&values) {
                if gone.next_if_eq(&&j).is_some() {
                    continue;
                }
                if w != j {
                    self.set(db, batch, w, v);
                }
                w += 1;
            }
            self.delete_span(db, batch, w, len);
            self.tail = self.head + w;
        } else {
            let values = self.read(db, last, last + 1, true)?;
            let (mut w, mut gone) = (last + 1, positions.iter().rev().peekable());
            for (j, v) in (0..=last).rev().zip(&values) {
                if gone.next_if_eq(&&j).is_some() {
                    continue;
                }
                w -= 1;
                if w != j {
                    self.set(db, batch, w, v);
                }
            }
            self.delete_span(db, batch, 0, m);
            self.head += m;
        }
        Ok(())
    }

    /// Stages keeping only positions `start..=stop` (`start > stop`, or
    /// past the end, empties the list).
    pub fn trim(&mut self, db: &Db, batch: &mut Batch, start: u64, stop: u64) {
        self.forget_ends(db);
        let len = self.len();
        if start > stop || start >= len {
            // the key goes away; its sub-keys are left to compaction
            self.head = self.tail;
            return;
        }
        let stop = stop.min(len - 1);
        self.delete_span(db, batch, stop + 1, len);
        self.delete_span(db, batch, 0, start);
        self.tail = self.head + stop + 1;
        self.head += start;
    }

    /// Records a pop or push event (one per run of the same kind).
    fn note_event(&mut self, event: &'static str) {
        if self.events.last() != Some(&event) {
            self.events.push(event);
        }
    }

    /// Drops the read-ahead windows of this list: its elements are being
    /// rewritten or removed other than by a pop.
    fn forget_ends(&self, db: &Db) {
        db.shard
            .hot
            .borrow_mut()
            .list_ends
            .forget(self.coll.prefix());
    }

    /// Stages deleting positions `from..to`.
    fn delete_span(&self, db: &Db, batch: &mut Batch, from: u64, to: u64) {
        if to.saturating_sub(from) >= RANGE_DELETE_MIN {
            batch.delete_range(
                Cf::Data,
                &self.coll.sub_key(&self.sub(from)),
                &self.coll.sub_key(&self.sub(to)),
            );
        } else {
            for pos in from..to {
                db.del_sub(batch, Cf::Data, &self.coll, &self.sub(pos));
            }
        }
    }

    fn stage_meta(&mut self, db: &Db, batch: &mut Batch) {
        self.coll.meta.size = self.len();
        let mut payload = Vec::with_capacity(16);
        payload.extend_from_slice(&self.head.to_be_bytes());
        payload.extend_from_slice(&self.tail.to_be_bytes());
        self.coll.meta.payload = payload;
        db.stage_meta(batch, &self.coll);
    }

    /// Writes the staged changes and the meta record (deleting an empty
    /// list), then wakes clients blocked on the key if it grew.
    pub fn commit(mut self, db: &Db, batch: Batch) -> Result<()> {
        db.commit_lists(batch, &mut [&mut self])
    }
}

/// The stored form of a list of `values` (not empty), head first, with an
/// absolute expiry (0: none), for [`Db::stage_restore`].
pub fn list_dump(values: Vec<Vec<u8>>, expire_at: u64) -> super::Dump {
    let tail = MIDDLE + values.len() as u64;
    let mut payload = MIDDLE.to_be_bytes().to_vec();
    payload.extend_from_slice(&tail.to_be_bytes());
    let meta = crate::storage::encoding::Meta {
        kind: Kind::List,
        expire_at,
        version: 0,
        size: values.len() as u64,
        payload,
    };
    let sub_keys = (MIDDLE..)
        .zip(values)
        .map(|(i, v)| (Cf::Data, i.to_be_bytes().to_vec(), v))
        .collect();
    super::Dump { meta, sub_keys }
}

impl<'a> Db<'a> {
    /// Opens the list at `key` (`None` if absent, WRONGTYPE for another
    /// type).
    pub fn open_list(&self, key: &[u8]) -> Result<Option<List>> {
        Ok(self.open_collection(key, Kind::List)?.map(List::new))
    }

    /// Opens the list at `key`, or starts an empty one.
    pub fn open_or_create_list(&self, key: &[u8]) -> Result<List> {
        Ok(List::new(self.open_or_create(key, Kind::List)?))
    }

    /// Writes `batch` with the meta records of `lists` (one batch for a
    /// command touching two lists), then wakes the blocked clients of the
    /// lists that grew.
    pub fn commit_lists(&self, mut batch: Batch, lists: &mut [&mut List]) -> Result<()> {
        for l in lists.iter_mut() {
            // the meta write publishes the event of the first push or pop
            // (or the command's own); later ones follow it. Pushes come
            // first: a move within one list publishes its push, then its
            // pop, as Redis does.
            let mut events = std::mem::take(&mut l.events);
            events.sort_by_key(|e| !e.ends_with("push"));
            match events.first() {
                Some(&first) => self
                    .shard
                    .naming_events((first, "list"), || l.stage_meta(self, &mut batch)),
                None => l.stage_meta(self, &mut batch),
            }
            let mk = crate::storage::encoding::meta_key(self.index, l.key());
            for &event in events.iter().skip(1) {
                self.shard
                    .naming_events((event, "list"), || self.shard.touched(&mk, false));
            }
        }
        self.write(batch)?;
        for l in lists.iter().filter(|l| l.grew && !l.is_empty()) {
            blocking::wake(self, l.key());
        }
        Ok(())
    }

    /// LPUSH/RPUSH (and the X forms with `create` false, which do nothing
    /// to a missing key): returns the new length, 0 if nothing was done.
    pub fn list_push(&self, key: &[u8], end: End, values: &[Vec<u8>], create: bool) -> Result<u64> {
        let mut list = match self.open_list(key)? {
            Some(l) => l,
            None if create => self.open_or_create_list(key)?,
            None => return Ok(0),
        };
        let mut batch = Batch::default();
        list.push(self, &mut batch, end, values.iter().map(Vec::as_slice));
        let len = list.len();
        list.commit(self, batch)?;
        Ok(len)
    }

    /// Pops up to `count` elements from `end`; `None` if the key is absent.
    /// A count of 0 only checks the type.
    pub fn list_pop(&self, key: &[u8], end: End, count: u64) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(mut list) = self.open_list(key)? else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut batch = Batch::default();
        let values = list.pop(self, &mut batch, end, count)?;
        list.commit(self, batch)?;
        Ok(Some(values))
    }

    /// LMOVE with both keys on this shard, in one batch: pops at `from` of
    /// `src`, pushes at `to` of `dst` (which may be `src`). `None` if `src`
    /// is absent; WRONGTYPE if either key holds another type.
    pub fn list_move(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Vec<u8>>> {
        let Some(mut source) = self.open_list(src)? else {
            return Ok(None);
        };
        let mut dest = if src == dst {
            None
        } else {
            Some(self.open_or_create_list(dst)?)
        };
        let mut batch = Batch::default();
        let Some(value) = source.pop(self, &mut batch, from, 1)?.pop() else {
            return Ok(None);
        };
        let target = dest.as_mut().unwrap_or(&mut source);
        target.push(self, &mut batch, to, [value.as_slice()]);
        match dest.as_mut() {
            // Redis publishes the destination's push before the source's pop
            Some(d) => self.commit_lists(batch, &mut [d, &mut source])?,
            None => source.commit(self, batch)?,
        }
        Ok(Some(value))
    }
}
