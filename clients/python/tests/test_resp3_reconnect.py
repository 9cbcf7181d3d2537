"""RESP3 gives the same results as RESP2; killed connections are reopened."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from diskdb import DiskDB


def exercise(db: DiskDB) -> Dict[str, Any]:
    """Run commands whose raw replies differ between RESP2 and RESP3."""
    db.flushall()
    db.hset("h", mapping={"a": "1", "b": "2"})
    db.sadd("s", "x", "y")
    db.zadd("z", {"m": 1.5, "n": 2})
    db.set("f", "1.5")
    db.rpush("l", "v")
    return {
        "hgetall": db.hgetall("h"),
        "smembers": db.smembers("s"),
        "zscore": db.zscore("z", "m"),
        "zscore_missing": db.zscore("z", "nope"),
        "zrange": db.zrange("z", 0, -1, withscores=True),
        "zincrby": db.zincrby("z", 1, "m"),
        "zpopmin": db.zpopmin("z"),
        "incrbyfloat": db.incrbyfloat("f", 1),
        "sismember": db.sismember("s", "x"),
        "hexists": db.hexists("h", "zz"),
        "get_missing": db.get("nope"),
        "lpop_count_missing": db.lpop("nope", 2),
        "blpop": db.blpop("l", timeout=1),
        "config": db.config_get("maxclients"),
        "keyspace": db.info("keyspace"),
        "scan": db.scan(0, count=100)[0],
        "pipeline": db.pipeline().hgetall("h").zscore("z", "n").execute(),
    }


def test_resp3_matches_resp2(make_client: Callable[..., DiskDB]) -> None:
    resp3 = make_client(protocol=3)
    assert "resp=3" in resp3.execute_command("CLIENT", "INFO")
    assert exercise(resp3) == exercise(make_client(protocol=2))


def test_resp3_native_types(make_client: Callable[..., DiskDB]) -> None:
    resp3 = make_client(protocol=3)
    resp3.flushall()
    resp3.hset("h", "f", "v")
    assert resp3.execute_command("HGETALL", "h") == {"f": "v"}
    assert resp3.execute_command("SISMEMBER", "h-missing", "x") is False
    assert resp3.get("missing") is None


def test_resp3_bytes(make_client: Callable[..., DiskDB]) -> None:
    raw = make_client(protocol=3, decode_responses=False)
    raw.flushall()
    raw.hset("h", "f", "v")
    assert raw.hgetall("h") == {b"f": b"v"}
    assert raw.type("h") == b"hash"


@pytest.mark.parametrize("protocol", [2, 3])
def test_reconnect_after_client_kill(make_client: Callable[..., DiskDB], protocol: int) -> None:
    victim = make_client(db=2, protocol=protocol)
    admin = make_client()
    victim.flushall()
    assert victim.set("survivor", "yes") is True
    first_id = victim.client_id()
    assert admin.execute_command("CLIENT", "KILL", "ID", first_id) == 1
    # The next command transparently reconnects, re-selecting database 2.
    assert victim.get("survivor") == "yes"
    assert victim.client_id() != first_id
    assert admin.get("survivor") is None  # admin is on database 0
    admin.select(2)
    assert admin.get("survivor") == "yes"


def test_reconnect_after_server_side_close_during_pipeline(
    make_client: Callable[..., DiskDB],
) -> None:
    victim = make_client()
    admin = make_client()
    victim.flushall()
    admin.execute_command("CLIENT", "KILL", "ID", victim.client_id())
    assert victim.pipeline().set("k", "v").get("k").execute() == [True, "v"]
