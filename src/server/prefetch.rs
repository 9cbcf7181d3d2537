//! The look ahead of a pipeline: before a connection runs the commands it
//! has read, the hot-cache entries they will read first are asked for all
//! at once (`data_types::look_ahead`), so their cache misses overlap instead of
//! each command waiting for its own (benches/RESULTS.md, "Twenty-first
//! session"). Two kinds of entries: the meta key of every key the commands
//! name (as the command table places them, so all of an MGET's), and for
//! commands of hashes, sets and sorted sets, the entry of the first member
//! they name (its key holds the collection's version, read from the meta
//! entry once that is in). Another shard's keys are asked for only for
//! commands that may read them from this core (`shard::peer`): the rest
//! run on their owner's core, whose CPU cache this one cannot fill. A hint
//! only: nothing it reads decides anything.

use super::client::Client;
use crate::commands::lookup;
use crate::data_types::collection::first_member;
use crate::data_types::look_ahead::{prefetch_reads, AheadRead};
use crate::protocol::parser::peek_commands;
use crate::shard::routing::key_slot;
use crate::storage::encoding::{meta_key_head, META_KEY_HEAD};
use crate::storage::hot::SharedMap;
use quick_cache::sync::PREFETCH_MAX;
use std::cell::Cell;
use std::sync::Arc;

/// Whether a connection's look ahead is worth its cost: while fewer than
/// one in [`FEW_HELD`] of the keys it asks for are in the hot cache (a
/// data set far larger than the cache, read evenly), asking is wasted work
/// (5% more CPU per GET at `-P 16` over 1M keys of 1 KB), so it skips
/// [`SKIPPED_WINDOWS`] windows, then asks again to see.
#[derive(Default)]
pub struct Pacing {
    asked: Cell<u32>,
    held: Cell<u32>,
    skip: Cell<u32>,
}

/// Keys asked for between two judgements of [`Pacing`].
const JUDGE_EVERY: u32 = 512;

/// [`Pacing`] stops asking while fewer than one key in this many is held.
const FEW_HELD: u32 = 4;

/// Windows [`Pacing`] skips once it found few keys held.
const SKIPPED_WINDOWS: u32 = 64;

impl Pacing {
    /// Whether to look ahead now (counting a skipped window).
    fn looks(&self) -> bool {
        match self.skip.get() {
            0 => true,
            n => {
                self.skip.set(n - 1);
                false
            }
        }
    }

    /// Notes that `held` of `asked` keys were in the cache.
    fn note(&self, asked: usize, held: usize) {
        let asked = self.asked.get() + asked as u32;
        let held = self.held.get() + held as u32;
        if asked < JUDGE_EVERY {
            self.asked.set(asked);
            self.held.set(held);
            return;
        }
        if held * FEW_HELD < asked {
            self.skip.set(SKIPPED_WINDOWS);
        }
        self.asked.set(0);
        self.held.set(0);
    }
}

/// Keys longer than this are not looked at.
const KEY_MAX: usize = 61;

/// Bytes of a meta key: database, slot, key.
const META_WIDTH: usize = KEY_MAX + META_KEY_HEAD;

/// What the look ahead saw of the commands of one read.
struct Ahead<'a> {
    /// Meta keys (`storage::encoding::meta_key`), three bytes longer than
    /// their keys.
    meta: [[u8; META_WIDTH]; PREFETCH_MAX],
    /// The shard owning each key.
    owners: [usize; PREFETCH_MAX],
    /// Each key, and the first member its command names.
    keys: [&'a [u8]; PREFETCH_MAX],
    members: [Option<&'a [u8]>; PREFETCH_MAX],
    n: usize,
}

impl Ahead<'_> {
    fn meta_key(&self, i: usize) -> &[u8] {
        &self.meta[i][..META_KEY_HEAD + self.keys[i].len()]
    }
}

/// Asks the CPU for the hot-cache entries the commands at the start of
/// `buf` will read, in the maps of the shards owning their keys, when they
/// name two keys or more (one command of several keys, as MGET, or
/// several commands); returns how many commands it covered (at least one),
/// so that the caller asks again for the ones after them.
pub fn prefetch_keys(client: &Client, buf: &[u8]) -> usize {
    // one key at a time (`-P 1` of single-key commands) is the common
    // case: count first
    let mut named = 0;
    peek_commands(buf, 2, |args, argc| {
        named += lookup(args[0]).map_or(0, |c| c.key_range(argc).take(2).count());
    });
    if named < 2 {
        return 1;
    }
    if !client.look_ahead.looks() {
        return PREFETCH_MAX;
    }
    let shards = client.shard.shard_count();
    let mut ahead = Ahead {
        meta: [[0; META_WIDTH]; PREFETCH_MAX],
        owners: [0; PREFETCH_MAX],
        keys: [&[]; PREFETCH_MAX],
        members: [None; PREFETCH_MAX],
        n: 0,
    };
    // commands whose keys all fit; none after one that did not
    let (mut covered, mut full) = (0, false);
    peek_commands(buf, PREFETCH_MAX, |args, argc| {
        if full {
            return;
        }
        let Some(cmd) = lookup(args[0]) else {
            covered += 1;
            return;
        };
        // the keys among the arguments seen (a long MSET's later ones are
        // not)
        for at in cmd.key_range(argc).take_while(|&at| at < args.len()) {
            let key = args[at];
            if key.len() > KEY_MAX {
                continue;
            }
            if ahead.n == PREFETCH_MAX {
                full = true;
                return;
            }
            let (i, slot) = (ahead.n, key_slot(key));
            let owner = slot as usize % shards;
            // another shard's key is read here only by a command that may
            // read on a peer; anything else runs on its owner's core, and
            // asking here would only take the owner's locks
            if owner != client.shard.id && cmd.peer_read.is_none() {
                continue;
            }
            let meta = &mut ahead.meta[i];
            meta[..META_KEY_HEAD].copy_from_slice(&meta_key_head(client.db, slot));
            meta[META_KEY_HEAD..META_KEY_HEAD + key.len()].copy_from_slice(key);
            ahead.owners[i] = owner;
            ahead.keys[i] = key;
            ahead.members[i] = if at == 1 {
                first_member(cmd.name, args)
            } else {
                None
            };
            ahead.n += 1;
        }
        covered += 1;
    });
    // one pass per owner, over that owner's keys in their order
    let mut order: [usize; PREFETCH_MAX] = std::array::from_fn(|i| i);
    let order = &mut order[..ahead.n];
    order.sort_unstable_by_key(|&i| (ahead.owners[i], i));
    for mine in order.chunk_by(|&a, &b| ahead.owners[a] == ahead.owners[b]) {
        if let Some(map) = owner_map(client, ahead.owners[mine[0]]) {
            let mut reads = [AheadRead::default(); PREFETCH_MAX];
            for (read, &i) in reads.iter_mut().zip(mine) {
                *read = AheadRead {
                    meta_key: ahead.meta_key(i),
                    key: ahead.keys[i],
                    member: ahead.members[i],
                };
            }
            let held = prefetch_reads(&map, client.db, &reads[..mine.len()]);
            client.look_ahead.note(mine.len(), held);
        }
    }
    covered.max(1)
}

/// The hot-cache map of shard `owner`, as this core sees it.
fn owner_map(client: &Client, owner: usize) -> Option<Arc<SharedMap>> {
    if owner == client.shard.id {
        client.shard.hot.try_borrow().ok()?.shared()
    } else {
        client.shard.mesh.peer(owner)?.hot_map().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_skips_while_few_keys_are_held() {
        // keys mostly held: it always looks
        let pacing = Pacing::default();
        for _ in 0..100 {
            assert!(pacing.looks());
            pacing.note(16, 10);
        }
        // few held: once judged, it skips its windows, then looks again
        let pacing = Pacing::default();
        for _ in 0..JUDGE_EVERY / 16 {
            assert!(pacing.looks());
            pacing.note(16, 1);
        }
        for _ in 0..SKIPPED_WINDOWS {
            assert!(!pacing.looks());
        }
        assert!(pacing.looks());
        // one held in four is enough
        let pacing = Pacing::default();
        for _ in 0..JUDGE_EVERY / 16 {
            pacing.note(16, 4);
        }
        assert!(pacing.looks());
    }
}
