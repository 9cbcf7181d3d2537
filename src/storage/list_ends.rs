//! Read-ahead at the ends of lists that are popped one element at a time
//! (a queue's consumer: LPUSH + RPOP, BRPOP, LMOVE). Each pop used to be a
//! point read of the end element, which for a queue's oldest elements is a
//! block-cache miss in an SST: 40% of a shard's CPU under RPOP at `-P 16`.
//! The second pop in a row at an end reads the next [`READ_AHEAD`]
//! elements with one iterator seek (more as the run goes on, see
//! [`read_ahead`]) and keeps them here, in pop order, for the pops that
//! follow.
//!
//! A window is keyed by the list's versioned prefix and end, and is only
//! used while its next index is the end's current index, so a push at that
//! end (a new end element) or a pop whose write failed (the stored end did
//! not move) makes it miss. Pops at the other end trim it to the list's
//! range ([`ListEnds::keep_within`]), and every command that rewrites
//! elements in place (LSET, LINSERT, LREM, LTRIM) drops the list's windows
//! ([`ListEnds::forget`]). A new version of a key is a new list. Like the
//! rest of the hot cache, everything is dropped when a write fails.

use quick_cache::unsync::Cache;
use quick_cache::{Equivalent, OptionsBuilder, Weighter};
use std::collections::VecDeque;

/// Elements the first read-ahead of a run of pops takes; each further
/// one in the same run takes twice as many, up to [`READ_AHEAD_MAX`].
/// Reading 64 instead of 16 (one iterator seek per 64 pops) took 13% less
/// shard CPU per RPOP at `-P 16`; starting small keeps short runs (a
/// stack's push, pop, pop) from reading elements they never take.
pub const READ_AHEAD: u64 = 16;

/// Elements one read-ahead takes, at most.
pub const READ_AHEAD_MAX: u64 = 64;

/// Elements to read ahead after `refills` read-aheads in the run.
pub fn read_ahead(refills: u32) -> u64 {
    (READ_AHEAD << refills.min(8)).min(READ_AHEAD_MAX)
}

/// Bytes of values one window may hold; the read-ahead stops there.
pub const WINDOW_BYTES: usize = 64 * 1024;

/// Bytes charged per window on top of its values and prefix.
const WINDOW_OVERHEAD: usize = 128;

/// Bytes charged per value on top of its length (allocation, deque slot).
const VALUE_OVERHEAD: usize = 32;

/// Elements read ahead at one end of one list, in pop order.
#[derive(Clone, Default)]
pub struct Window {
    /// Index of the element the next pop at this end takes.
    next: u64,
    /// The elements from `next` on, towards the other end.
    values: VecDeque<Box<[u8]>>,
    /// Charged size of `values`.
    bytes: usize,
    /// Read-aheads so far in this run of pops.
    refills: u32,
}

/// The index `n` places from `index` towards the other end of the list
/// (down from the tail, up from the head).
pub fn step(index: u64, right: bool, n: u64) -> u64 {
    if right {
        index.wrapping_sub(n)
    } else {
        index.wrapping_add(n)
    }
}

#[derive(Clone)]
struct WindowCost;

/// Cache key: the list's prefix and its end (true: the tail).
type EndKey = (Box<[u8]>, bool);

/// An [`EndKey`] borrowed from the caller's prefix: a pop looks its
/// windows up without allocating a key (it hashes as the owned tuple).
#[derive(Hash)]
struct EndRef<'a>(&'a [u8], bool);

impl Equivalent<EndKey> for EndRef<'_> {
    fn equivalent(&self, key: &EndKey) -> bool {
        *key.0 == *self.0 && key.1 == self.1
    }
}

impl Weighter<EndKey, Window> for WindowCost {
    fn weight(&self, key: &EndKey, w: &Window) -> u64 {
        (key.0.len() + WINDOW_OVERHEAD + w.bytes) as u64
    }
}

type Inner = Cache<
    EndKey,
    Window,
    WindowCost,
    ahash::RandomState,
    quick_cache::unsync::DefaultLifecycle<EndKey, Window>,
>;

/// The per-shard windows, within a byte budget (S3-FIFO eviction).
pub struct ListEnds {
    windows: Option<Inner>,
    hits: u64,
}

impl ListEnds {
    /// Windows within `budget` bytes (0 keeps none).
    pub fn new(budget: usize) -> ListEnds {
        let windows = (budget >= 4 * WINDOW_BYTES).then(|| {
            let options = OptionsBuilder::new()
                .estimated_items_capacity(256)
                .weight_capacity(budget as u64)
                .build()
                .expect("valid list-end cache options");
            Cache::with_options(
                options,
                WindowCost,
                ahash::RandomState::new(),
                Default::default(),
            )
        });
        ListEnds { windows, hits: 0 }
    }

    /// Takes up to `max` elements for pops at an end whose element is at
    /// index `next`; empty if no window starts there. The second return
    /// is, when the previous pop at this end was at `next`'s neighbour (a
    /// run of pops: worth reading ahead), how many read-aheads the run
    /// made so far.
    pub fn take(
        &mut self,
        prefix: &[u8],
        right: bool,
        next: u64,
        max: u64,
    ) -> (Vec<Vec<u8>>, Option<u32>) {
        let Some(windows) = self.windows.as_mut() else {
            return (Vec::new(), None);
        };
        // no elements yet, only where the next pop of a run would be
        let marker = Window {
            next: step(next, right, 1),
            ..Window::default()
        };
        let Some(mut entry) = windows.get_mut(&EndRef(prefix, right)) else {
            windows.insert((prefix.into(), right), marker);
            return (Vec::new(), None);
        };
        let w = &mut *entry;
        if w.next != next {
            *w = marker;
            return (Vec::new(), None);
        }
        let mut out = Vec::new();
        while (out.len() as u64) < max {
            let Some(v) = w.values.pop_front() else { break };
            w.bytes -= v.len() + VALUE_OVERHEAD;
            out.push(v.into_vec());
        }
        w.next = step(w.next, right, out.len() as u64);
        self.hits += out.len() as u64;
        (out, Some(w.refills))
    }

    /// Keeps `values` (in pop order, the first at index `next`) for the
    /// pops that follow at an end, the run's read-ahead number `refills`.
    pub fn put(
        &mut self,
        prefix: &[u8],
        right: bool,
        next: u64,
        values: Vec<Vec<u8>>,
        refills: u32,
    ) {
        let Some(windows) = self.windows.as_mut() else {
            return;
        };
        let bytes = values.iter().map(|v| v.len() + VALUE_OVERHEAD).sum();
        let values = values.into_iter().map(Vec::into_boxed_slice).collect();
        windows.insert(
            (prefix.into(), right),
            Window {
                next,
                values,
                bytes,
                refills,
            },
        );
    }

    /// Trims both windows of a list to its elements `[head, tail)` (after
    /// pops at the other end, which may have taken a window's far part).
    pub fn keep_within(&mut self, prefix: &[u8], head: u64, tail: u64) {
        let Some(windows) = self.windows.as_mut() else {
            return;
        };
        for right in [false, true] {
            let Some(mut entry) = windows.peek_mut(&EndRef(prefix, right)) else {
                continue;
            };
            let w = &mut *entry;
            // the window's indexes run from `next` towards the other end:
            // those before the list's far end stay
            let inside = if !(head <= w.next && w.next < tail) {
                0
            } else if right {
                w.next - head + 1
            } else {
                tail - w.next
            };
            let keep = inside.min(w.values.len() as u64) as usize;
            for v in w.values.drain(keep..) {
                w.bytes -= v.len() + VALUE_OVERHEAD;
            }
        }
    }

    /// Drops both windows of a list (its elements were rewritten).
    pub fn forget(&mut self, prefix: &[u8]) {
        let Some(windows) = self.windows.as_mut() else {
            return;
        };
        for right in [false, true] {
            windows.remove(&EndRef(prefix, right));
        }
    }

    /// Drops every window.
    pub fn clear(&mut self) {
        if let Some(windows) = self.windows.as_mut() {
            windows.clear();
        }
    }

    /// Elements popped from windows since startup.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Bytes charged for the windows.
    pub fn used(&self) -> usize {
        self.windows.as_ref().map_or(0, |w| w.weight() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(xs: &[&str]) -> Vec<Vec<u8>> {
        xs.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_run_of_pops_is_served_from_the_window() {
        let mut e = ListEnds::new(1 << 20);
        // first pop at the tail (index 100): only remembered
        assert_eq!(e.take(b"p", true, 100, 1), (vec![], None));
        // second pop at 99: a run, the caller reads ahead
        assert_eq!(e.take(b"p", true, 99, 1), (vec![], Some(0)));
        e.put(b"p", true, 98, vals(&["e98", "e97", "e96"]), 1);
        assert_eq!(e.take(b"p", true, 98, 2), (vals(&["e98", "e97"]), Some(1)));
        assert_eq!(e.take(b"p", true, 96, 5), (vals(&["e96"]), Some(1)));
        assert_eq!(e.take(b"p", true, 95, 1), (vec![], Some(1)), "drained");
        // each read-ahead of a run reads more, up to the maximum
        assert_eq!((read_ahead(0), read_ahead(1)), (READ_AHEAD, 2 * READ_AHEAD));
        assert_eq!(read_ahead(2), READ_AHEAD_MAX);
        assert_eq!(read_ahead(u32::MAX), READ_AHEAD_MAX);
    }

    #[test]
    fn a_moved_end_misses() {
        let mut e = ListEnds::new(1 << 20);
        e.put(b"p", false, 10, vals(&["a", "b"]), 1);
        // a push at the head: the end is now 9
        assert_eq!(e.take(b"p", false, 9, 1), (vec![], None));
        // the window's values are gone; 10 follows the pop at 9
        assert_eq!(e.take(b"p", false, 10, 1), (vec![], Some(0)), "dropped");
    }

    #[test]
    fn pops_at_the_other_end_trim_and_rewrites_drop() {
        let mut e = ListEnds::new(1 << 20);
        e.put(b"p", true, 20, vals(&["t20", "t19", "t18", "t17"]), 1);
        // the head popped up to 19: 18 and 17 are gone
        e.keep_within(b"p", 19, 21);
        assert_eq!(e.take(b"p", true, 20, 9), (vals(&["t20", "t19"]), Some(1)));
        e.put(b"p", false, 5, vals(&["h5"]), 1);
        e.forget(b"p");
        assert_eq!(e.take(b"p", false, 5, 1), (vec![], None));
        assert_eq!(e.used(), e.used().min(1 << 20));
    }

    #[test]
    fn trimming_keeps_exactly_the_indexes_inside_the_list() {
        // both ends, windows of 0-5 values, list ranges around them
        for right in [false, true] {
            for len in 0..6u64 {
                for head in 5..16 {
                    for tail in head..18 {
                        let next = 10;
                        let names: Vec<String> =
                            (0..len).map(|i| step(next, right, i).to_string()).collect();
                        let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                        let mut e = ListEnds::new(1 << 20);
                        e.put(b"p", right, next, vals(&names), 0);
                        e.keep_within(b"p", head, tail);
                        let want: Vec<&str> = names
                            .iter()
                            .copied()
                            .take_while(|n| (head..tail).contains(&n.parse::<u64>().unwrap()))
                            .collect();
                        let (got, _) = e.take(b"p", right, next, 9);
                        assert_eq!(got, vals(&want), "right={right} len={len} [{head},{tail})");
                    }
                }
            }
        }
    }
}
