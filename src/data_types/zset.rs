//! Sorted sets on the versioned sub-key encoding (docs/ENCODING.md).
//!
//! Each member is stored twice under the collection's versioned prefix:
//! `member → score` (8-byte f64 bits, big-endian) in the `data` CF for point
//! lookups, and `encode_score(score) · member → ∅` in the `zscore` CF, whose
//! byte order is Redis's order: by score, then by member bytes. Range
//! queries (by rank, score or member) seek into the `zscore` CF and walk it;
//! nothing loads a whole set unless the command needs all of it. The meta
//! record's `size` is the cardinality, so ZCARD reads metadata only.
//!
//! Ranks are not indexed: ZRANK and rank ranges walk from the nearer end,
//! so they cost O(rank) (documented trade-off of the LSM layout).
//!
//! Small Redis sorted sets (listpack encoding) store scores as text, which
//! turns `-0` into `0`; DiskDB stores `-0` as `0` too, whatever the size.

use super::collection::Collection;
use super::{Db, Dump, Result};
use crate::shard::blocking::wake;
use crate::storage::encoding::{decode_score, encode_score, Kind, Meta};
use crate::storage::Batch;
use crate::storage::Cf;
use crate::util::few_map::FewMap;

/// A member and its score.
pub type Entry = (Vec<u8>, f64);

/// Where a walk over the score order starts.
#[derive(Clone, Copy, Debug)]
pub enum Start<'m> {
    /// The lowest entry (forward) or the highest (reverse).
    End,
    /// Forward: the first entry with a score ≥ s; reverse: the last with a
    /// score ≤ s.
    Score(f64),
    /// Forward: the first entry ≥ (score, member); reverse: the last ≤ it.
    Entry(f64, &'m [u8]),
}

/// A score interval whose ends may be exclusive (`(1.5`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Whether `min` itself is excluded.
    pub min_ex: bool,
    /// Upper end.
    pub max: f64,
    /// Whether `max` itself is excluded.
    pub max_ex: bool,
}

impl ScoreRange {
    /// Whether `s` is at or above the lower end.
    pub fn gte_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    /// Whether `s` is at or below the upper end.
    pub fn lte_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// Whether no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }
}

/// One end of a member (lexicographic) interval, as ZRANGEBYLEX spells it.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[m`: m included.
    Incl(Vec<u8>),
    /// `(m`: m excluded.
    Excl(Vec<u8>),
}

impl LexBound {
    /// Sort key of the bound: `-` < any member < `+`.
    fn rank(&self) -> (u8, &[u8]) {
        match self {
            LexBound::Min => (0, b""),
            LexBound::Incl(m) | LexBound::Excl(m) => (1, m),
            LexBound::Max => (2, b""),
        }
    }
}

/// A member interval. Meaningful when all scores are equal; otherwise it
/// behaves like Redis's small (listpack) sorted sets: a walk in score order
/// that starts at the first member ≥ min and stops at the first > max.
#[derive(Clone, Debug, PartialEq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` is at or above the lower end.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }

    /// Whether `m` is at or below the upper end.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }

    /// Whether no member can be in the range.
    pub fn is_empty(&self) -> bool {
        let (lo, hi) = (self.min.rank(), self.max.rank());
        lo > hi
            || (lo == hi
                && (matches!(self.min, LexBound::Excl(_)) || matches!(self.max, LexBound::Excl(_))))
    }
}

/// The entries a range command selects.
#[derive(Clone, Debug, PartialEq)]
pub enum Range {
    /// Ranks `start..=stop`, negative counting from the end (ZRANGE 0 -1).
    Rank(i64, i64),
    /// Scores (BYSCORE).
    Score(ScoreRange),
    /// Members (BYLEX).
    Lex(LexRange),
}

impl Range {
    /// For a rank range over `size` entries: the ranks it skips and the
    /// entries it holds (`None` when it holds none, or is not by rank).
    pub fn ranks_in(&self, size: u64) -> Option<(u64, u64)> {
        let &Range::Rank(start, stop) = self else {
            return None;
        };
        let size = size as i64;
        let from_end = |i: i64| if i < 0 { i + size } else { i };
        let (start, stop) = (from_end(start).max(0), from_end(stop).min(size - 1));
        (start <= stop).then(|| (start as u64, (stop - start + 1) as u64))
    }
}

/// Paging of a score or member range (`LIMIT offset count`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// Entries of the range to skip; negative selects nothing (as Redis).
    pub offset: i64,
    /// Entries to return at most; negative means all.
    pub count: i64,
}

impl Limit {
    /// The whole range.
    pub const ALL: Limit = Limit {
        offset: 0,
        count: -1,
    };
}

/// The `data` CF value of a member: its score's bits, big-endian.
fn score_value(score: f64) -> [u8; 8] {
    score.to_bits().to_be_bytes()
}

/// A member's score from its `data` CF value (inverse of [`score_value`]).
pub fn member_score(v: &[u8]) -> Option<f64> {
    Some(f64::from_bits(u64::from_be_bytes(
        v.get(..8)?.try_into().ok()?,
    )))
}

/// The `zscore` CF sub-key of an entry: encoded score, then the member.
fn score_key(score: f64, member: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + member.len());
    k.extend_from_slice(&encode_score(score));
    k.extend_from_slice(member);
    k
}

/// Splits a `zscore` CF sub-key into (score, member).
fn split_score_key(k: &[u8]) -> Option<(f64, &[u8])> {
    let (s, m) = (k.get(..8)?, &k[8..]);
    Some((decode_score(s.try_into().ok()?), m))
}

/// Stores `-0` as `0`, as Redis's small sorted sets do.
fn normalize(score: f64) -> f64 {
    score + 0.0
}

impl<'a> Db<'a> {
    /// Opens a sorted set (WRONGTYPE for another type, `None` if absent).
    pub fn open_zset(&self, key: &[u8]) -> Result<Option<Collection>> {
        self.open_collection(key, Kind::ZSet)
    }

    /// A member's score.
    pub fn zset_score(&self, z: &Collection, member: &[u8]) -> Result<Option<f64>> {
        Ok(self
            .get_sub(Cf::Data, z, member)?
            .and_then(|v| member_score(&v)))
    }

    /// Visits entries in score order (or reverse) from `start`; the visitor
    /// gets (member, score) and returns false to stop.
    pub fn zset_walk(
        &self,
        z: &Collection,
        start: Start,
        reverse: bool,
        mut visit: impl FnMut(&[u8], f64) -> bool,
    ) {
        let from = match start {
            Start::End => None,
            Start::Score(s) if reverse => {
                // just past every entry scored `s`; later entries are skipped
                let next = u64::from_be_bytes(encode_score(s)).saturating_add(1);
                Some(next.to_be_bytes().to_vec())
            }
            Start::Score(s) => Some(encode_score(s).to_vec()),
            Start::Entry(s, m) => Some(score_key(s, m)),
        };
        let ceiling = match start {
            Start::Score(s) if reverse => Some(s),
            _ => None,
        };
        self.iter_sub(Cf::ZScore, z, from.as_deref(), reverse, |k, _| {
            let Some((score, member)) = split_score_key(k) else {
                return true;
            };
            if ceiling.is_some_and(|c| score > c) {
                return true;
            }
            visit(member, score)
        });
    }

    /// The first or last entry.
    pub fn zset_edge(&self, z: &Collection, last: bool) -> Option<Entry> {
        let mut out = None;
        self.zset_walk(z, Start::End, last, |m, s| {
            out = Some((m.to_vec(), s));
            false
        });
        out
    }

    /// Every entry in score order.
    pub fn zset_entries(&self, z: &Collection) -> Vec<Entry> {
        let mut out = Vec::with_capacity(z.meta.size as usize);
        self.zset_walk(z, Start::End, false, |m, s| {
            out.push((m.to_vec(), s));
            true
        });
        out
    }

    /// A member's rank (0 = lowest score; with `reverse`, 0 = highest),
    /// found by walking from that end up to the member: O(rank).
    pub fn zset_rank(&self, z: &Collection, member: &[u8], reverse: bool) -> Result<Option<u64>> {
        let Some(score) = self.zset_score(z, member)? else {
            return Ok(None);
        };
        let mut rank = 0;
        self.zset_walk(z, Start::End, reverse, |m, s| {
            if m == member && s.to_bits() == score.to_bits() {
                return false;
            }
            rank += 1;
            true
        });
        Ok(Some(rank))
    }

    /// Visits the entries of `range` in score order (or reverse), paged by
    /// `limit` (score and member ranges only), with Redis's semantics: ranks
    /// count from the end in reverse, ranges are given as (min, max) either
    /// way. This is the one range engine behind ZRANGE and its legacy
    /// variants, ZCOUNT, ZLEXCOUNT, ZRANGESTORE and ZREMRANGEBY*.
    pub fn zset_range(
        &self,
        z: &Collection,
        range: &Range,
        reverse: bool,
        limit: Limit,
        visit: impl FnMut(&[u8], f64),
    ) {
        let size = z.meta.size as i64;
        match range {
            Range::Rank(..) => {
                if let Some((skip, count)) = range.ranks_in(z.meta.size) {
                    self.zset_ranks(z, skip, count, reverse, visit);
                }
            }
            _ if limit.offset < 0 || (limit.offset > 0 && limit.offset >= size) => {}
            Range::Score(r) => {
                if r.is_empty() {
                    return;
                }
                let start = Start::Score(if reverse { r.max } else { r.min });
                let reached = |_: &[u8], s: f64| if reverse { r.lte_max(s) } else { r.gte_min(s) };
                let past = |_: &[u8], s: f64| {
                    if reverse {
                        !r.gte_min(s)
                    } else {
                        !r.lte_max(s)
                    }
                };
                self.zset_span(z, start, reverse, limit, reached, past, visit);
            }
            Range::Lex(r) => {
                // Redis first checks that the last entry is ≥ min and the
                // first ≤ max.
                if r.is_empty() {
                    return;
                }
                let (Some(first), Some(last)) = (self.zset_edge(z, false), self.zset_edge(z, true))
                else {
                    return;
                };
                if !r.gte_min(&last.0) || !r.lte_max(&first.0) {
                    return;
                }
                // Seek within the first score group (exact when all scores
                // are equal); the walk skips whatever is still out of range.
                let (bound, edge_score) = if reverse {
                    (&r.max, last.1)
                } else {
                    (&r.min, first.1)
                };
                let start = match bound {
                    LexBound::Incl(m) | LexBound::Excl(m) => Start::Entry(edge_score, m),
                    _ => Start::End,
                };
                let reached = |m: &[u8], _: f64| if reverse { r.lte_max(m) } else { r.gte_min(m) };
                let past = |m: &[u8], _: f64| {
                    if reverse {
                        !r.gte_min(m)
                    } else {
                        !r.lte_max(m)
                    }
                };
                self.zset_span(z, start, reverse, limit, reached, past, visit);
            }
        }
    }

    /// Walks from `start` and skips entries until `reached`; stops if that
    /// entry is already `past`; otherwise skips `limit.offset` entries
    /// unconditionally and visits entries until `past` or `limit.count`
    /// (the order of Redis's checks).
    #[allow(clippy::too_many_arguments)]
    fn zset_span(
        &self,
        z: &Collection,
        start: Start,
        reverse: bool,
        limit: Limit,
        reached: impl Fn(&[u8], f64) -> bool,
        past: impl Fn(&[u8], f64) -> bool,
        mut visit: impl FnMut(&[u8], f64),
    ) {
        let (mut started, mut skip, mut left) = (false, limit.offset, limit.count);
        self.zset_walk(z, start, reverse, |m, s| {
            if !started {
                if !reached(m, s) {
                    return true;
                }
                if past(m, s) {
                    return false;
                }
                started = true;
            }
            if skip > 0 {
                skip -= 1;
                return true;
            }
            if left == 0 || past(m, s) {
                return false;
            }
            left -= 1;
            visit(m, s);
            true
        });
    }

    /// Visits `count` entries from rank `skip` (ranks from the top in
    /// reverse), walking from whichever end is nearer.
    fn zset_ranks(
        &self,
        z: &Collection,
        skip: u64,
        count: u64,
        reverse: bool,
        mut visit: impl FnMut(&[u8], f64),
    ) {
        let size = z.meta.size;
        let from_other_end = size - skip - count;
        let mut taken = Vec::new();
        let (mut to_skip, mut left, walk_reverse) = if from_other_end < skip {
            (from_other_end, count, !reverse)
        } else {
            (skip, count, reverse)
        };
        self.zset_walk(z, Start::End, walk_reverse, |m, s| {
            if to_skip > 0 {
                to_skip -= 1;
                return true;
            }
            if left == 0 {
                return false;
            }
            left -= 1;
            if walk_reverse == reverse {
                visit(m, s);
            } else {
                taken.push((m.to_vec(), s));
            }
            true
        });
        for (m, s) in taken.iter().rev() {
            visit(m, *s);
        }
    }

    /// The entries at the given ranks (sorted ascending, repeats allowed),
    /// in that order: one walk up to the highest rank.
    pub fn zset_at_ranks(&self, z: &Collection, ranks: &[u64]) -> Vec<Entry> {
        let mut out = Vec::with_capacity(ranks.len());
        let (mut i, mut rank) = (0, 0u64);
        self.zset_walk(z, Start::End, false, |m, s| {
            while i < ranks.len() && ranks[i] == rank {
                out.push((m.to_vec(), s));
                i += 1;
            }
            rank += 1;
            i < ranks.len()
        });
        out
    }

    /// Up to `count` entries in member order from `from` (inclusive), and
    /// the member to resume at, if any (ZSCAN over a large set).
    pub fn zset_scan(
        &self,
        z: &Collection,
        from: Option<&[u8]>,
        count: usize,
    ) -> (Vec<Entry>, Option<Vec<u8>>) {
        let (mut out, mut next) = (Vec::new(), None);
        self.iter_sub(Cf::Data, z, from, false, |m, v| {
            if out.len() >= count {
                next = Some(m.to_vec());
                return false;
            }
            if let Some(s) = member_score(v) {
                out.push((m.to_vec(), s));
            }
            true
        });
        (out, next)
    }

    /// Opens a sorted set for changes (an empty one if absent).
    pub fn zset_write(&self, key: &[u8]) -> Result<ZWrite<'a>> {
        Ok(ZWrite {
            db: *self,
            z: self.open_or_create(key, Kind::ZSet)?,
            batch: Batch::default(),
            pending: FewMap::default(),
            dirty: false,
        })
    }

    /// Stages replacing whatever `key` holds with a sorted set of
    /// `entries` (distinct members), or deleting it if there are none
    /// (the *STORE commands). The new set has no TTL.
    pub fn zset_stage_replace(&self, batch: &mut Batch, key: &[u8], entries: &[Entry]) {
        if entries.is_empty() {
            self.delete(batch, key);
            return;
        }
        self.stage_restore(batch, key, &zset_dump(entries, 0));
    }

    /// Replaces `key` with a sorted set of `entries` (see
    /// [`zset_stage_replace`](Self::zset_stage_replace)) in one batch, then
    /// serves clients blocked on it.
    pub fn zset_replace(&self, key: &[u8], entries: &[Entry]) -> Result<()> {
        let existed = self.lookup(key)?.is_some();
        if entries.is_empty() && !existed {
            return Ok(());
        }
        let mut batch = Batch::default();
        self.zset_stage_replace(&mut batch, key, entries);
        self.write(batch)?;
        if !entries.is_empty() {
            wake(self, key);
        }
        Ok(())
    }
}

/// The stored form of a sorted set of distinct `entries` (not empty) with
/// an absolute expiry (0: none), for [`Db::stage_restore`].
pub fn zset_dump(entries: &[Entry], expire_at: u64) -> Dump {
    let mut sub_keys = Vec::with_capacity(entries.len() * 2);
    for (m, s) in entries {
        let s = normalize(*s);
        sub_keys.push((Cf::Data, m.clone(), score_value(s).to_vec()));
        sub_keys.push((Cf::ZScore, score_key(s, m), Vec::new()));
    }
    let meta = Meta {
        kind: Kind::ZSet,
        expire_at,
        version: 0,
        size: entries.len() as u64,
        payload: Vec::new(),
    };
    Dump { meta, sub_keys }
}

/// Changes to one sorted set within one command, staged in one
/// batch and applied by [`commit`](ZWrite::commit). Keeps both CFs
/// and the cardinality in step, and sees its own staged changes.
pub struct ZWrite<'a> {
    db: Db<'a>,
    /// The set being changed (its meta `size` tracks staged changes).
    pub z: Collection,
    batch: Batch,
    pending: FewMap<Vec<u8>, Option<f64>>,
    dirty: bool,
}

impl<'a> ZWrite<'a> {
    /// A member's score, including changes staged so far.
    pub fn score(&self, member: &[u8]) -> Result<Option<f64>> {
        match self.pending.get(member) {
            Some(s) => Ok(*s),
            None if self.z.existed() => self.db.zset_score(&self.z, member),
            None => Ok(None),
        }
    }

    /// Sets a member's score; `old` is its current score (from
    /// [`score`](Self::score)).
    pub fn set(&mut self, member: &[u8], old: Option<f64>, score: f64) {
        let score = normalize(score);
        if let Some(old) = old {
            if old.to_bits() == score.to_bits() {
                return;
            }
            self.db.del_sub(
                &mut self.batch,
                Cf::ZScore,
                &self.z,
                &score_key(old, member),
            );
        } else {
            self.z.meta.size += 1;
        }
        let db = self.db;
        db.put_sub(
            &mut self.batch,
            Cf::Data,
            &self.z,
            member,
            &score_value(score),
        );
        db.put_sub(
            &mut self.batch,
            Cf::ZScore,
            &self.z,
            &score_key(score, member),
            b"",
        );
        self.pending.insert(member.to_vec(), Some(score));
        self.dirty = true;
    }

    /// Removes a member whose current score is `score`.
    pub fn remove(&mut self, member: &[u8], score: f64) {
        let db = self.db;
        db.del_sub(&mut self.batch, Cf::Data, &self.z, member);
        db.del_sub(
            &mut self.batch,
            Cf::ZScore,
            &self.z,
            &score_key(score, member),
        );
        self.z.meta.size -= 1;
        self.pending.insert(member.to_vec(), None);
        self.dirty = true;
    }

    /// The database the set lives in (for reads of unchanged entries).
    pub fn db(&self) -> Db<'a> {
        self.db
    }

    /// Writes the staged changes in one batch; an emptied set is deleted.
    /// Clients blocked on a set that is left non-empty are then served.
    pub fn commit(self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.db.commit(self.batch, &self.z)?;
        if self.z.meta.size > 0 {
            wake(&self.db, &self.z.key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Range;

    #[test]
    fn rank_ranges_resolve_as_redis_does() {
        let cases = [
            ((0, 9), 100, Some((0, 10))),
            ((0, -1), 10, Some((0, 10))),
            ((-3, -1), 10, Some((7, 3))),
            ((-20, 2), 10, Some((0, 3))),
            ((0, 100), 10, Some((0, 10))),
            ((5, 2), 10, None),
            ((12, 20), 10, None),
            ((-20, -15), 10, None),
            ((0, -1), 0, None),
        ];
        for ((start, stop), size, want) in cases {
            assert_eq!(
                Range::Rank(start, stop).ranks_in(size),
                want,
                "{start} {stop} of {size}"
            );
        }
    }
}
