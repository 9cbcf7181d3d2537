//! Sets on the versioned sub-key encoding (docs/ENCODING.md): one `data`
//! sub-key per member with an empty value; the meta record's size is the
//! cardinality, so SCARD reads only metadata.
//!
//! The set algebra (SINTER, SUNION, SDIFF and their STORE/CARD forms) is
//! split into shard-local steps so that a coordinator can run it over keys
//! on several shards: [`Db::set_sizes`] type-checks the keys, a [`Plan`]
//! picks which sets to read ([`Db::set_union_of`]) and which to test the
//! candidates against ([`Db::set_filter`]). [`Db::set_compute`] runs the
//! same steps when every key is on one shard.

use super::collection::Collection;
use super::{Db, Dump, Result};
use crate::storage::encoding::{Kind, Meta};
use crate::storage::Batch;
use crate::storage::Cf;

/// A set member.
pub type Member = Vec<u8>;

/// A set operation over keys in argument order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// Members in every set.
    Inter,
    /// Members in any set.
    Union,
    /// Members of the first set in none of the others.
    Diff,
}

/// How [`Db::set_filter`] treats a candidate found in the sets it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Keep candidates that are members of every set (intersection).
    InAll,
    /// Keep candidates that are members of none (difference).
    InNone,
}

/// How to evaluate a [`SetOp`] given the sizes of its sets: the union of
/// the `fetch` sets gives the candidates, which are then filtered against
/// the `filter` sets. Positions index the operation's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Sets whose members are the candidates.
    pub fetch: Vec<usize>,
    /// Sets the candidates are tested against.
    pub filter: Vec<usize>,
    /// The test.
    pub keep: Keep,
}

impl Plan {
    /// The plan for `op` over sets of `sizes` (0 = missing), or `None` when
    /// the result is empty without reading anything. An intersection reads
    /// only its smallest set; a difference only its first.
    pub fn new(op: SetOp, sizes: &[u64]) -> Option<Plan> {
        let non_empty = |from: usize| (from..sizes.len()).filter(|&i| sizes[i] > 0);
        match op {
            SetOp::Inter => {
                if sizes.contains(&0) {
                    return None;
                }
                let smallest = (0..sizes.len()).min_by_key(|&i| sizes[i])?;
                Some(Plan {
                    fetch: vec![smallest],
                    filter: (0..sizes.len()).filter(|&i| i != smallest).collect(),
                    keep: Keep::InAll,
                })
            }
            SetOp::Union => {
                let fetch: Vec<usize> = non_empty(0).collect();
                (!fetch.is_empty()).then_some(Plan {
                    fetch,
                    filter: Vec::new(),
                    keep: Keep::InNone,
                })
            }
            SetOp::Diff => (sizes.first() > Some(&0)).then(|| Plan {
                fetch: vec![0],
                filter: non_empty(1).collect(),
                keep: Keep::InNone,
            }),
        }
    }
}

impl<'a> Db<'a> {
    /// Opens the set at `key` (`None` if absent, WRONGTYPE for another type).
    pub fn open_set(&self, key: &[u8]) -> Result<Option<Collection>> {
        self.open_collection(key, Kind::Set)
    }

    /// Adds members, creating the set if needed; returns how many are new.
    pub fn set_add(&self, key: &[u8], members: &[Member]) -> Result<u64> {
        let items = members.iter().map(|m| (m.as_slice(), &[][..]));
        self.upsert_subs(key, Kind::Set, items)
    }

    /// Removes members (the set too when none remain); returns how many
    /// were members.
    pub fn set_remove(&self, key: &[u8], members: &[Member]) -> Result<u64> {
        self.remove_subs(key, Kind::Set, members.iter().map(|m| m.as_slice()))
    }

    /// Whether each of `members` is in the set (all false if it is absent).
    pub fn set_contains(&self, key: &[u8], members: &[Member]) -> Result<Vec<bool>> {
        let Some(c) = self.open_set(key)? else {
            return Ok(vec![false; members.len()]);
        };
        members
            .iter()
            .map(|m| self.has_sub(Cf::Data, &c, m))
            .collect()
    }

    /// Every member in byte order (empty if the set is absent).
    pub fn set_members(&self, key: &[u8]) -> Result<Vec<Member>> {
        let Some(c) = self.open_set(key)? else {
            return Ok(Vec::new());
        };
        Ok(self.collection_members(&c))
    }

    fn collection_members(&self, c: &Collection) -> Vec<Member> {
        let mut out = Vec::with_capacity(c.meta.size as usize);
        self.iter_sub(Cf::Data, c, None, false, |m, _| {
            out.push(m.to_vec());
            true
        });
        out
    }

    /// The cardinality (0 for a missing set).
    pub fn set_card(&self, key: &[u8]) -> Result<u64> {
        Ok(self.open_set(key)?.map_or(0, |c| c.meta.size))
    }

    /// `count` random members (see [`Db::sample_sub`]); `distinct` returns
    /// each at most once.
    pub fn set_random(&self, key: &[u8], count: usize, distinct: bool) -> Result<Vec<Member>> {
        let Some(c) = self.open_set(key)? else {
            return Ok(Vec::new());
        };
        let picks = self.sample_sub(Cf::Data, &c, count, distinct);
        Ok(picks.into_iter().map(|(m, _)| m).collect())
    }

    /// Removes and returns up to `count` random members; the set is
    /// deleted when it is emptied.
    pub fn set_pop(&self, key: &[u8], count: usize) -> Result<Vec<Member>> {
        let Some(mut c) = self.open_set(key)? else {
            return Ok(Vec::new());
        };
        let popped: Vec<Member> = self
            .sample_sub(Cf::Data, &c, count, true)
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        if popped.is_empty() {
            return Ok(popped);
        }
        let mut batch = Batch::default();
        if popped.len() as u64 >= c.meta.size {
            // emptied: dropping the meta record orphans every member at once
            c.meta.size = 0;
        } else {
            for m in &popped {
                self.del_sub(&mut batch, Cf::Data, &c, m);
            }
            c.meta.size -= popped.len() as u64;
        }
        self.commit(batch, &c)?;
        Ok(popped)
    }

    /// SMOVE with both keys on this shard, in one batch. Returns 1 if the
    /// member moved (or, when `src == dst`, is a member), else 0.
    pub fn set_move(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        let Some(mut from) = self.open_set(src)? else {
            return Ok(false);
        };
        if src == dst {
            return self.has_sub(Cf::Data, &from, member);
        }
        let mut to = self.open_or_create(dst, Kind::Set)?;
        if !self.has_sub(Cf::Data, &from, member)? {
            return Ok(false);
        }
        let mut batch = Batch::default();
        self.del_sub(&mut batch, Cf::Data, &from, member);
        from.meta.size -= 1;
        // Redis announces the move as srem on the source and, if the
        // member was not there yet, sadd on the destination
        let shard = self.shard;
        shard.naming_events(("srem", "set"), || self.stage_meta(&mut batch, &from));
        if to.existed() && self.has_sub(Cf::Data, &to, member)? {
            self.write(batch)?;
        } else {
            self.put_sub(&mut batch, Cf::Data, &to, member, b"");
            to.meta.size += 1;
            shard.naming_events(("sadd", "set"), || self.commit(batch, &to))?;
        }
        Ok(true)
    }

    /// Checks that a key is a set or absent (the destination of SMOVE).
    pub fn set_check(&self, key: &[u8]) -> Result<()> {
        self.open_set(key).map(drop)
    }

    /// Replaces whatever is at `key` with a set of `members` (deleting the
    /// key when there are none); returns the cardinality. `members` must
    /// be distinct.
    pub fn set_store(&self, key: &[u8], members: Vec<Member>) -> Result<u64> {
        let mut batch = Batch::default();
        let size = members.len() as u64;
        if size == 0 {
            if self.lookup(key)?.is_none() {
                return Ok(0);
            }
            self.delete(&mut batch, key);
        } else {
            let dump = Dump {
                meta: Meta {
                    kind: Kind::Set,
                    expire_at: 0,
                    version: 0,
                    size,
                    payload: Vec::new(),
                },
                sub_keys: members
                    .into_iter()
                    .map(|m| (Cf::Data, m, Vec::new()))
                    .collect(),
            };
            self.stage_restore(&mut batch, key, &dump);
        }
        self.write(batch)?;
        Ok(size)
    }

    /// The cardinality of each key (0 if absent); WRONGTYPE if any key
    /// holds another type.
    pub fn set_sizes(&self, keys: &[Vec<u8>]) -> Result<Vec<u64>> {
        keys.iter().map(|k| self.set_card(k)).collect()
    }

    /// The union of the members of `keys`, sorted and distinct.
    pub fn set_union_of(&self, keys: &[Vec<u8>]) -> Result<Vec<Member>> {
        let mut out = Vec::new();
        for k in keys {
            out.extend(self.set_members(k)?);
        }
        if keys.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        Ok(out)
    }

    /// The candidates that pass `keep` against the sets at `keys`, in
    /// their order; stops after `limit` (0 = no limit). Missing sets are
    /// empty.
    pub fn set_filter(
        &self,
        keys: &[Vec<u8>],
        candidates: Vec<Member>,
        keep: Keep,
        limit: usize,
    ) -> Result<Vec<Member>> {
        let mut sets = Vec::with_capacity(keys.len());
        for k in keys {
            match self.open_set(k)? {
                Some(c) => sets.push(c),
                None if keep == Keep::InAll => return Ok(Vec::new()),
                None => {}
            }
        }
        let mut out = Vec::new();
        for m in candidates {
            if limit > 0 && out.len() >= limit {
                break;
            }
            let mut pass = true;
            for c in &sets {
                if self.has_sub(Cf::Data, c, &m)? != (keep == Keep::InAll) {
                    pass = false;
                    break;
                }
            }
            if pass {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Evaluates `op` over sets that all live on this shard (the
    /// single-shard form of the coordinator in `commands::sets`).
    pub fn set_compute(&self, op: SetOp, keys: &[Vec<u8>], limit: usize) -> Result<Vec<Member>> {
        let sizes = self.set_sizes(keys)?;
        let Some(plan) = Plan::new(op, &sizes) else {
            return Ok(Vec::new());
        };
        let pick = |positions: &[usize]| -> Vec<Vec<u8>> {
            positions.iter().map(|&i| keys[i].clone()).collect()
        };
        // the sizes counted each key's keyspace hit or miss
        self.counting_lookups(false, || {
            let candidates = self.set_union_of(&pick(&plan.fetch))?;
            self.set_filter(&pick(&plan.filter), candidates, plan.keep, limit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        assert_eq!(Plan::new(SetOp::Inter, &[3, 0, 2]), None);
        assert_eq!(
            Plan::new(SetOp::Inter, &[3, 1, 2]),
            Some(Plan {
                fetch: vec![1],
                filter: vec![0, 2],
                keep: Keep::InAll
            })
        );
        assert_eq!(Plan::new(SetOp::Union, &[0, 0]), None);
        assert_eq!(
            Plan::new(SetOp::Union, &[0, 4, 1]).unwrap().fetch,
            vec![1, 2]
        );
        assert_eq!(Plan::new(SetOp::Diff, &[0, 4]), None);
        assert_eq!(
            Plan::new(SetOp::Diff, &[2, 0, 5]),
            Some(Plan {
                fetch: vec![0],
                filter: vec![2],
                keep: Keep::InNone
            })
        );
    }
}
