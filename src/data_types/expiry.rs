//! Active expiry: a per-shard timer walks the `expire` CF (ordered by time)
//! and deletes keys whose TTL has passed.

use crate::shard::{incr, Shard};
use crate::storage::encoding::{decode_header, split_expire_key};
use crate::storage::Batch;
use crate::storage::Cf;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Deletes up to `max` due keys; returns (keys expired, more are due).
pub fn expire_cycle(shard: &Shard, now: u64, max: usize) -> (usize, bool) {
    let e = &shard.engine;
    let mut opts = rocksdb::ReadOptions::default();
    opts.set_iterate_upper_bound((now + 1).to_be_bytes().to_vec());
    let mut it = e.db().raw_iterator_cf_opt(e.cf(Cf::Expire), opts);
    it.seek_to_first();
    let mut batch = Batch::default();
    let (mut expired, mut visited) = (0, 0);
    while it.valid() && visited < max {
        let Some(k) = it.key() else { break };
        visited += 1;
        if let Some((at, meta_key)) = split_expire_key(k) {
            if let Ok(Some(v)) = e.get(Cf::Meta, meta_key) {
                let locked = crate::storage::encoding::split_meta_key(meta_key)
                    .and_then(|(db, key)| shard.locks.borrow().conflict(db, [key], None))
                    .is_some();
                if locked {
                    // held by a multi-shard operation: expire it next round
                    it.next();
                    continue;
                }
                if decode_header(&v).map(|(_, exp)| exp) == Some(at) {
                    shard.run_as(("expired", ""), || shard.touched(meta_key, true));
                    batch.delete(Cf::Meta, meta_key);
                    super::stage_absent(shard, meta_key.to_vec());
                    expired += 1;
                }
            }
        }
        batch.delete(Cf::Expire, k);
        it.next();
    }
    let more = it.valid();
    if visited > 0 {
        if let Err(err) = shard.write(batch) {
            log::error!("shard {}: active expiry write failed: {err}", shard.id);
            return (0, false);
        }
        incr(&shard.stats.expired_keys, expired as u64);
    }
    (expired, more)
}

/// The shard's active-expiry task: ten passes a second, each bounded to
/// 25 ms so commands keep flowing.
pub async fn run_active_expiry(shard: Rc<Shard>) {
    loop {
        glommio::timer::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        loop {
            let (_, more) = expire_cycle(&shard, crate::util::now_ms(), 200);
            if !more || started.elapsed() > Duration::from_millis(25) {
                break;
            }
            glommio::yield_if_needed().await;
        }
        // the deletions leave the write group now, not with the next
        // client's turn (other cores do not read the shard while it waits)
        shard.make_durable_now();
    }
}
