//! INFO's keyspace_hits and keyspace_misses against a real redis-server:
//! every command below runs on a key that exists and on one that does not,
//! alone and inside MULTI/EXEC, and must move the two counters exactly as
//! Redis 7 does (reads count, each key once; the lookups of writes do not).
mod common;
use common::reference::Pair;

/// Setup commands that make `k` (and `{k}2`, for two-key commands) of the
/// type a command expects.
const STRING: &[&str] = &["SET k 10", "SET {k}2 5"];
const LIST: &[&str] = &["RPUSH k a b c", "RPUSH {k}2 x"];
const SET: &[&str] = &["SADD k a b c", "SADD {k}2 a x"];
const HASH: &[&str] = &["HSET k f 1 g 2", "HSET {k}2 f 3"];
const ZSET: &[&str] = &["ZADD k 1 a 2 b", "ZADD {k}2 3 a"];
const STREAM: &[&str] = &["XADD k 1-1 f v", "XADD {k}2 1-1 f v"];

/// (setup that makes the key exist, command under test).
const CASES: &[(&[&str], &str)] = &[
    // strings
    (STRING, "GET k"),
    (STRING, "SET k v"),
    (STRING, "SET k v GET"),
    (STRING, "SET k v NX"),
    (STRING, "SET k v XX"),
    (STRING, "SETNX k v"),
    (STRING, "GETSET k v"),
    (STRING, "GETDEL k"),
    (STRING, "GETEX k PERSIST"),
    (STRING, "APPEND k v"),
    (STRING, "SETRANGE k 1 v"),
    (STRING, "GETRANGE k 0 1"),
    (STRING, "STRLEN k"),
    (STRING, "INCR k"),
    (STRING, "DECRBY k 2"),
    (STRING, "INCRBYFLOAT k 1.5"),
    (STRING, "MGET k {k}2 {k}3"),
    (STRING, "MSETNX k 1 {k}3 2"),
    (STRING, "SETBIT k 3 1"),
    (STRING, "GETBIT k 3"),
    (STRING, "BITCOUNT k"),
    (STRING, "BITPOS k 1"),
    (STRING, "LCS k {k}2"),
    (STRING, "BITFIELD k GET u4 0"),
    (STRING, "BITFIELD k INCRBY u4 0 1 GET u4 0"),
    (STRING, "BITFIELD_RO k GET u4 0"),
    (STRING, "BITOP AND {k}3 k {k}2"),
    (STRING, "SETEX k 100 v"),
    (STRING, "INCRBY k 3"),
    (STRING, "SUBSTR k 0 1"),
    (STRING, "MSET k 1 {k}3 2"),
    // keys
    (STRING, "EXISTS k {k}3"),
    (STRING, "TYPE k"),
    (STRING, "TTL k"),
    (STRING, "PTTL k"),
    (STRING, "EXPIRE k 100"),
    (STRING, "PERSIST k"),
    (STRING, "DEL k"),
    (STRING, "UNLINK k"),
    (STRING, "TOUCH k"),
    (STRING, "RENAME k {k}3"),
    (STRING, "RENAMENX k {k}3"),
    (STRING, "COPY k {k}3"),
    (STRING, "DUMP k"),
    (STRING, "OBJECT ENCODING k"),
    (STRING, "EXPIRETIME k"),
    (STRING, "PEXPIREAT k 99999999999999"),
    // lists
    (LIST, "LPUSH k z"),
    (LIST, "RPUSHX k z"),
    (LIST, "LPOP k"),
    (LIST, "RPOP k 2"),
    (LIST, "LRANGE k 0 -1"),
    (LIST, "LLEN k"),
    (LIST, "LINDEX k 1"),
    (LIST, "LSET k 0 z"),
    (LIST, "LINSERT k BEFORE b z"),
    (LIST, "LREM k 0 a"),
    (LIST, "LTRIM k 0 1"),
    (LIST, "LPOS k b"),
    (LIST, "RPOPLPUSH k {k}2"),
    (LIST, "LMOVE k {k}2 LEFT RIGHT"),
    (LIST, "LMPOP 1 k LEFT"),
    (LIST, "SORT k ALPHA"),
    (LIST, "SORT k BY {k}w_* GET # GET {k}2 ALPHA"),
    (LIST, "SORT k ALPHA STORE {k}3"),
    (LIST, "SORT_RO k BY nosort GET {k}*"),
    (LIST, "BLPOP k 1"),
    (LIST, "BRPOPLPUSH k {k}2 1"),
    // sets
    (SET, "SADD k z"),
    (SET, "SREM k a"),
    (SET, "SMEMBERS k"),
    (SET, "SISMEMBER k a"),
    (SET, "SMISMEMBER k a z"),
    (SET, "SCARD k"),
    (SET, "SPOP k"),
    (SET, "SRANDMEMBER k"),
    (SET, "SMOVE k {k}2 a"),
    (SET, "SINTER k {k}2"),
    (SET, "SUNION k {k}2"),
    (SET, "SDIFF k {k}2"),
    (SET, "SINTERCARD 2 k {k}2"),
    (SET, "SINTERSTORE {k}3 k {k}2"),
    (SET, "SUNIONSTORE {k}3 k {k}2"),
    (SET, "SDIFFSTORE {k}3 k {k}2"),
    (SET, "SRANDMEMBER k 2"),
    (SET, "SSCAN k 0"),
    // hashes
    (HASH, "HSET k h 3"),
    (HASH, "HSETNX k f 3"),
    (HASH, "HGET k f"),
    (HASH, "HMGET k f z"),
    (HASH, "HGETALL k"),
    (HASH, "HDEL k f"),
    (HASH, "HEXISTS k f"),
    (HASH, "HINCRBY k f 2"),
    (HASH, "HINCRBYFLOAT k f 2.5"),
    (HASH, "HLEN k"),
    (HASH, "HKEYS k"),
    (HASH, "HVALS k"),
    (HASH, "HSTRLEN k f"),
    (HASH, "HRANDFIELD k"),
    (HASH, "HSCAN k 0"),
    // sorted sets
    (ZSET, "ZADD k 5 z"),
    (ZSET, "ZINCRBY k 2 a"),
    (ZSET, "ZREM k a"),
    (ZSET, "ZSCORE k a"),
    (ZSET, "ZMSCORE k a z"),
    (ZSET, "ZRANGE k 0 -1"),
    (ZSET, "ZRANGEBYSCORE k 0 10"),
    (ZSET, "ZREVRANGE k 0 -1"),
    (ZSET, "ZCARD k"),
    (ZSET, "ZCOUNT k 0 10"),
    (ZSET, "ZRANK k a"),
    (ZSET, "ZPOPMIN k"),
    (ZSET, "ZRANGESTORE {k}3 k 0 -1"),
    (ZSET, "ZUNIONSTORE {k}3 2 k {k}2"),
    (ZSET, "ZINTERSTORE {k}3 2 k {k}2"),
    (ZSET, "ZUNION 2 k {k}2"),
    (ZSET, "ZINTERCARD 2 k {k}2"),
    (ZSET, "ZMPOP 1 k MIN"),
    (ZSET, "BZPOPMIN k 1"),
    (ZSET, "ZREMRANGEBYSCORE k 0 1"),
    (ZSET, "ZREMRANGEBYRANK k 0 0"),
    (ZSET, "ZRANDMEMBER k"),
    (ZSET, "ZLEXCOUNT k - +"),
    (ZSET, "ZREVRANK k a"),
    (ZSET, "ZDIFFSTORE {k}3 2 k {k}2"),
    (ZSET, "ZSCAN k 0"),
    // streams
    (STREAM, "XADD k 2-1 f v"),
    (STREAM, "XLEN k"),
    (STREAM, "XRANGE k - +"),
    (STREAM, "XDEL k 1-1"),
    (STREAM, "XTRIM k MAXLEN 0"),
    (STREAM, "XREAD STREAMS k 0"),
    (STREAM, "XREAD BLOCK 10 STREAMS k $"),
    (STREAM, "XREVRANGE k + -"),
    (STREAM, "XGROUP CREATE k g 0"),
    (STREAM, "XREADGROUP GROUP g c STREAMS k >"),
    (STREAM, "XINFO STREAM k"),
    (STREAM, "XSETID k 5-5"),
];

/// keyspace_hits and keyspace_misses of the server behind `c`.
fn counters(c: &mut redis::Connection) -> (u64, u64) {
    (
        common::info_number(c, "keyspace_hits"),
        common::info_number(c, "keyspace_misses"),
    )
}

/// Runs `line` (words split on spaces; inside MULTI/EXEC if `multi`) and
/// returns how it moved the two counters, after `setup` on a flushed
/// database.
fn deltas(c: &mut redis::Connection, setup: &[&str], line: &str, multi: bool) -> (u64, u64) {
    let words = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
    common::reference::run(c, &words("FLUSHALL"));
    for s in setup {
        common::reference::run(c, &words(s));
    }
    let (h0, m0) = counters(c);
    if multi {
        common::reference::run(c, &words("MULTI"));
    }
    common::reference::run(c, &words(line));
    if multi {
        common::reference::run(c, &words("EXEC"));
    }
    let (h1, m1) = counters(c);
    (h1 - h0, m1 - m0)
}

#[test]
fn keyspace_hits_and_misses_move_as_in_redis() {
    let mut p = Pair::start();
    let mut wrong = Vec::new();
    for (setup, line) in CASES {
        for (state, setup) in [("existing", *setup), ("missing", &[][..])] {
            for multi in [false, true] {
                let theirs = deltas(&mut p.theirs, setup, line, multi);
                let ours = deltas(&mut p.ours, setup, line, multi);
                if theirs != ours {
                    let how = if multi { " in MULTI" } else { "" };
                    wrong.push(format!(
                        "{line}{how} on a {state} key: redis (hits, misses) {theirs:?}, DiskDB {ours:?}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differences:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
