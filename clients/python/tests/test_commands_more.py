"""The less common methods of each family, under RESP2 and RESP3."""

from __future__ import annotations

import datetime
import time
from typing import Callable

import pytest

from diskdb import DiskDB


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def db(request: pytest.FixtureRequest, make_client: Callable[..., DiskDB]) -> DiskDB:
    client = make_client(protocol=request.param)
    client.flushall()
    return client


def test_strings_and_keys(db: DiskDB) -> None:
    assert db.msetnx({"a": "1", "b": "2"}) is True
    assert db.msetnx({"b": "x", "c": "3"}) is False
    assert db.exists("c") == 0
    assert db.touch("a", "b", "missing") == 2
    assert db.unlink("a", "missing") == 1
    when = datetime.datetime.now() + datetime.timedelta(hours=1)
    assert db.pexpireat("b", when) is True
    assert 3500_000 < db.pttl("b") <= 3600_000
    assert abs(db.expiretime("b") - int(when.timestamp())) <= 1
    assert db.expiretime("missing") == -2
    assert db.pexpireat("b", int(time.time() * 1000) + 60_000, gt=True) is False


def test_lists(db: DiskDB) -> None:
    assert db.rpushx("l", "x") == 0
    assert db.lpushx("l", "x") == 0
    db.rpush("l", "a", "b", "c", "b")
    assert db.lpushx("l", "z") == 5
    assert db.rpushx("l", "y") == 6
    assert db.linsert("l", "BEFORE", "c", "before-c") == 7
    assert db.linsert("l", "AFTER", "nope", "x") == -1
    assert db.lpos("l", "b") == 2
    assert db.lpos("l", "b", rank=-1) == 5
    assert db.lpos("l", "b", count=0) == [2, 5]
    assert db.lpos("l", "nope") is None
    assert db.rpoplpush("l", "other") == "y"
    assert db.blmove("l", "other", 1, "LEFT", "LEFT") == "z"
    assert db.lrange("other", 0, -1) == ["z", "y"]
    assert db.blmove("empty", "other", 0.05) is None
    assert db.brpoplpush("other", "l", timeout=1) == "y"
    assert db.brpoplpush("empty", "l", timeout=0.05) is None


def test_hashes_and_sets(db: DiskDB) -> None:
    assert db.hsetnx("h", "f", "v") is True
    assert db.hsetnx("h", "f", "w") is False
    assert db.hstrlen("h", "f") == 1
    assert db.hstrlen("h", "missing") == 0
    db.sadd("a", "x", "y", "z")
    db.sadd("b", "y", "z", "w")
    assert db.smismember("a", ["x", "w"]) == [True, False]
    assert db.smismember("a", "y", "nope") == [True, False]
    assert db.smove("a", "b", "x") is True
    assert db.smove("a", "b", "x") is False
    assert db.sinterstore("i", "a", "b") == 2
    assert db.smembers("i") == {"y", "z"}
    assert db.sunionstore("u", ["a", "b"]) == 4
    assert db.sdiffstore("d", "b", "a") == 2
    assert db.smembers("d") == {"w", "x"}


def test_sorted_sets(db: DiskDB) -> None:
    db.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert db.zmscore("z", ["a", "nope", "d"]) == [1.0, None, 4.0]
    assert db.zrevrangebyscore("z", "+inf", 2) == ["d", "c", "b"]
    assert db.zrevrangebyscore("z", 4, "-inf", start=1, num=2, withscores=True) == [
        ("c", 3.0),
        ("b", 2.0),
    ]
    assert db.zremrangebyrank("z", 0, 0) == 1
    assert db.zremrangebyscore("z", "(3", "+inf") == 1
    assert db.zrange("z", 0, -1, withscores=True) == [("b", 2.0), ("c", 3.0)]
    db.zadd("y", {"b": 10, "e": 5})
    assert db.zunionstore("u", ["z", "y"]) == 3
    assert db.zscore("u", "b") == 12.0
    assert db.zunionstore("w", {"z": 2, "y": 1}, aggregate="MAX") == 3
    assert db.zscore("w", "b") == 10.0 and db.zscore("w", "c") == 6.0
    assert db.zinterstore("i", ["z", "y"]) == 1
    assert db.zrange("i", 0, -1, withscores=True) == [("b", 12.0)]
    assert db.bzpopmin(["empty", "z"], timeout=1) == ("z", "b", 2.0)
    assert db.bzpopmax("y", timeout=1) == ("y", "b", 10.0)
    assert db.bzpopmax("empty", timeout=0.05) is None


@pytest.mark.needs_json
def test_json_more(db: DiskDB) -> None:
    doc = {"name": "Ada", "tags": ["a", "b", "c"], "active": True, "n": 3, "meta": {"x": 1}}
    assert db.json_set("doc", "$", doc) is True
    assert db.json_set("doc2", "$", {"name": "Grace"}) is True
    assert db.json_mget(["doc", "missing", "doc2"], "$.name") == [["Ada"], None, ["Grace"]]
    assert db.json_mget(["doc", "doc2"], ".name") == ["Ada", "Grace"]
    assert db.json_arrlen("doc", "$.tags") == [3]
    assert db.json_arrlen("doc", ".tags") == 3
    assert db.json_arrpop("doc", "$.tags") == ["c"]
    assert db.json_arrpop("doc", ".tags", 0) == "a"
    assert db.json_objkeys("doc", "$.meta") == [["x"]]
    assert db.json_strlen("doc", "$.name") == [3]
    assert db.json_toggle("doc", "$.active") == [False]
    assert db.json_toggle("doc", ".active") is True
    assert db.json_clear("doc", "$.meta") == 1
    assert db.json_get("doc") == {"name": "Ada", "tags": ["b"], "active": True, "n": 3, "meta": {}}
    assert db.json_numincrby("doc", ".n", 2) == 5
    assert db.json_get("doc", ".n") == 5
    # With one JSONPath among the paths, every path answers in the JSONPath (list) form.
    assert db.json_get("doc", "$.n", ".name") == {"$.n": [5], ".name": ["Ada"]}
    assert db.json_get("doc", ".n", ".name") == {".n": 5, ".name": "Ada"}


@pytest.mark.needs_streams
def test_streams_more(db: DiskDB) -> None:
    assert db.xgroup_create("s", "g", mkstream=True) is True
    assert db.xgroup_destroy("s", "g") is True
    assert db.xgroup_destroy("s", "g") is False
    first = db.xadd("s", {"n": 1})
    db.xadd("s", {"n": 2})
    assert db.xrevrange("s", count=1)[0][1] == {"n": "2"}
    assert db.xrange("s", "-", "+", count=10)[0] == (first, {"n": "1"})
    assert db.xtrim("s", minid=first, approximate=False) == 0
    assert db.xadd("missing", {"f": "v"}, nomkstream=True) is None
