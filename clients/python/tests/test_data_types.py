"""Lists (a work queue), sets, hashes and sorted sets (a leaderboard)."""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Optional, Tuple

import pytest

from diskdb import DiskDB


def test_work_queue_with_lists(r: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    assert r.rpush("jobs", "job1", "job2") == 2
    assert r.rpush("jobs", "job3") == 3
    assert r.lpush("jobs", "urgent") == 4
    assert r.llen("jobs") == 4
    assert r.lrange("jobs", 0, -1) == ["urgent", "job1", "job2", "job3"]
    # A worker moves a job to its processing list, then acknowledges it.
    assert r.lmove("jobs", "processing", "LEFT", "RIGHT") == "urgent"
    assert r.lrem("processing", 1, "urgent") == 1
    assert r.lpop("jobs") == "job1"
    assert r.rpop("jobs") == "job3"
    assert r.lpop("jobs", 5) == ["job2"]
    assert r.lpop("jobs") is None
    assert r.rpop("jobs", 2) is None
    # A blocked worker is woken by a producer on another connection.
    popped: List[Optional[Tuple[str, str]]] = []
    worker = threading.Thread(
        target=lambda: popped.append(make_client().blpop(["jobs", "other"], timeout=5))
    )
    worker.start()
    time.sleep(0.2)
    make_client().rpush("jobs", "late-job")
    worker.join(10)
    assert popped == [("jobs", "late-job")]
    assert r.brpop("jobs", timeout=0.1) is None


def test_list_editing(r: DiskDB) -> None:
    r.rpush("l", "a", "b", "c", "b", "d")
    assert r.lindex("l", 1) == "b"
    assert r.lindex("l", -1) == "d"
    assert r.lindex("l", 99) is None
    assert r.lset("l", 0, "A") is True
    assert r.lrem("l", 0, "b") == 2
    assert r.lrange("l", 0, -1) == ["A", "c", "d"]
    assert r.ltrim("l", 1, -1) is True
    assert r.lrange("l", 0, -1) == ["c", "d"]
    assert r.rpop("l", 2) == ["d", "c"]
    assert r.exists("l") == 0


def test_sets_of_tags(r: DiskDB) -> None:
    assert r.sadd("tags:post1", "python", "redis", "db") == 3
    assert r.sadd("tags:post1", "python") == 0
    assert r.sadd("tags:post2", "rust", "db", "redis") == 3
    assert r.smembers("tags:post1") == {"python", "redis", "db"}
    assert r.smembers("missing") == set()
    assert r.sismember("tags:post1", "python") is True
    assert r.sismember("tags:post1", "java") is False
    assert r.scard("tags:post1") == 3
    assert r.sinter("tags:post1", "tags:post2") == {"redis", "db"}
    assert r.sunion(["tags:post1", "tags:post2"]) == {"python", "redis", "db", "rust"}
    assert r.sdiff("tags:post1", "tags:post2") == {"python"}
    assert r.srem("tags:post1", "python", "java") == 1
    assert r.srandmember("tags:post1") in {"redis", "db"}
    assert sorted(r.srandmember("tags:post1", 5)) == ["db", "redis"]
    popped = r.spop("tags:post2")
    assert popped in {"rust", "db", "redis"}
    assert sorted(r.spop("tags:post2", 5) + [popped]) == ["db", "redis", "rust"]
    assert r.spop("tags:post2") is None


def test_hashes_as_records(r: DiskDB) -> None:
    assert r.hset("user:1", "name", "Ada") == 1
    assert (
        r.hset("user:1", mapping={"email": "ada@example.com", "visits": 0, "name": "Ada L."}) == 2
    )
    assert r.hget("user:1", "name") == "Ada L."
    assert r.hget("user:1", "missing") is None
    assert r.hmget("user:1", ["name", "missing", "email"]) == ["Ada L.", None, "ada@example.com"]
    assert r.hgetall("user:1") == {"name": "Ada L.", "email": "ada@example.com", "visits": "0"}
    assert r.hgetall("missing") == {}
    assert r.hincrby("user:1", "visits") == 1
    assert r.hincrby("user:1", "visits", 10) == 11
    assert r.hincrbyfloat("user:1", "balance", 2.5) == 2.5
    assert r.hlen("user:1") == 4
    assert r.hexists("user:1", "email") is True
    assert r.hexists("user:1", "phone") is False
    assert sorted(r.hkeys("user:1")) == ["balance", "email", "name", "visits"]
    assert sorted(r.hvals("user:1")) == ["11", "2.5", "Ada L.", "ada@example.com"]
    assert r.hdel("user:1", "email", "phone") == 1
    assert r.hexists("user:1", "email") is False


def test_leaderboard_with_sorted_sets(r: DiskDB) -> None:
    assert r.zadd("board", {"alice": 100, "bob": 80, "carol": 120}) == 3
    assert r.zadd("board", {"dave": 90}) == 1
    assert r.zincrby("board", 50, "bob") == 130.0
    assert r.zscore("board", "bob") == 130.0
    assert r.zscore("board", "nobody") is None
    assert r.zcard("board") == 4
    assert r.zrevrange("board", 0, 2) == ["bob", "carol", "alice"]
    assert r.zrange("board", 0, 2, desc=True, withscores=True) == [
        ("bob", 130.0),
        ("carol", 120.0),
        ("alice", 100.0),
    ]
    assert r.zrange("board", 0, -1) == ["dave", "alice", "carol", "bob"]
    assert r.zrevrange("board", 0, 0, withscores=True) == [("bob", 130.0)]
    assert r.zrank("board", "dave") == 0
    assert r.zrevrank("board", "dave") == 3
    assert r.zrank("board", "nobody") is None
    assert r.zcount("board", 90, 120) == 3
    assert r.zcount("board", "(90", "+inf") == 3
    assert r.zrangebyscore("board", 95, "+inf") == ["alice", "carol", "bob"]
    assert r.zrangebyscore("board", "-inf", "+inf", start=1, num=2, withscores=True) == [
        ("alice", 100.0),
        ("carol", 120.0),
    ]
    assert r.zrem("board", "dave", "nobody") == 1
    assert r.zpopmax("board") == [("bob", 130.0)]
    assert r.zpopmin("board", 5) == [("alice", 100.0), ("carol", 120.0)]
    assert r.zpopmin("board") == []


def test_zadd_options(r: DiskDB) -> None:
    r.zadd("z", {"a": 1, "b": 2})
    assert r.zadd("z", {"a": 5, "c": 3}, nx=True) == 1
    assert r.zscore("z", "a") == 1.0
    assert r.zadd("z", {"a": 5, "d": 4}, xx=True, ch=True) == 1
    assert r.exists("z") and r.zscore("z", "d") is None
    assert r.zadd("z", {"a": 2}, gt=True, ch=True) == 0
    assert r.zadd("z", {"a": 2}, lt=True, ch=True) == 1
    assert r.zadd("z", {"a": 0.5}, incr=True) == 2.5
    assert r.zadd("z", {"new": 1}, xx=True, incr=True) is None
    assert r.zadd("z", {"f": 1.25}) == 1
    assert r.zscore("z", "f") == 1.25


@pytest.mark.parametrize("score", [float("inf"), float("-inf")])
def test_infinite_scores(r: DiskDB, score: float) -> None:
    r.zadd("z", {"m": score})
    assert r.zscore("z", "m") == score
