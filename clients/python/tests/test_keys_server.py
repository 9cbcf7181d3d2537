"""Keyspace and server commands."""

from __future__ import annotations

import pytest

import datetime
import time
from typing import Callable

from diskdb import DiskDB


def test_type_exists_delete(r: DiskDB) -> None:
    r.set("s", "v")
    r.rpush("l", "a")
    r.hset("h", "f", "v")
    r.sadd("st", "m")
    r.zadd("z", {"m": 1})
    assert [r.type(k) for k in ("s", "l", "h", "st", "z", "missing")] == [
        "string",
        "list",
        "hash",
        "set",
        "zset",
        "none",
    ]
    assert r.exists("s") == 1
    assert r.exists("s", "l", "missing", "s") == 3
    assert r.delete("s", "l", "missing") == 2
    assert r.exists("s", "l") == 0
    assert r.delete("missing") == 0


def test_expire_family(r: DiskDB) -> None:
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expire("missing", 10) is False
    assert r.expire("k", 100) is True
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.expire("k", 10, nx=True) is False
    assert 100 < r.ttl("k") <= 200
    assert r.pexpire("k", datetime.timedelta(seconds=20)) is True
    assert 0 < r.pttl("k") <= 20_000
    assert r.expireat("k", int(time.time()) + 60) is True
    assert 0 < r.ttl("k") <= 60
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1


def test_rename_and_copy(r: DiskDB) -> None:
    r.set("a", "1")
    r.set("b", "2")
    assert r.rename("a", "c") is True
    assert r.get("c") == "1" and r.exists("a") == 0
    assert r.renamenx("c", "b") is False
    assert r.renamenx("c", "d") is True
    assert r.copy("d", "b") is False
    assert r.copy("d", "b", replace=True) is True
    assert r.get("b") == "1"
    assert r.copy("d", "elsewhere", destination_db=2) is True
    r.select(2)
    assert r.get("elsewhere") == "1"
    r.select(0)


def test_keys_scan_and_dbsize(r: DiskDB) -> None:
    for i in range(30):
        r.set("user:%d" % i, i)
    r.set("other", "x")
    r.rpush("list:1", "x")
    assert r.dbsize() == 32
    assert sorted(r.keys("user:1*")) == sorted(["user:1"] + ["user:1%d" % i for i in range(10)])
    cursor, keys = r.scan(0, match="user:*", count=5)
    assert isinstance(cursor, int) and all(k.startswith("user:") for k in keys)
    assert set(r.scan_iter(match="user:*", count=7)) == {"user:%d" % i for i in range(30)}
    assert set(r.scan_iter(_type="list")) == {"list:1"}
    assert r.randomkey() is not None
    assert r.flushdb() is True
    assert r.dbsize() == 0
    assert r.randomkey() is None


def test_select_databases(r: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    r.set("k", "db0")
    other = make_client(db=1)
    assert other.get("k") is None
    other.set("k", "db1")
    assert r.get("k") == "db0"
    assert r.select(1) is True
    assert r.get("k") == "db1"
    r.select(0)
    assert r.flushall() is True
    assert other.get("k") is None


def test_ping_echo_time(r: DiskDB) -> None:
    assert r.ping() is True
    assert r.echo("hi there") == "hi there"
    seconds, micros = r.time()
    assert abs(seconds - time.time()) < 60 and 0 <= micros < 1_000_000


def test_info(r: DiskDB) -> None:
    r.set("k", "v")
    info = r.info()
    assert isinstance(info["redis_version"], str)
    keyspace = r.info("keyspace")
    assert keyspace["db0"]["keys"] == 1


def test_config(r: DiskDB) -> None:
    assert "maxclients" in r.config_get("*")
    old = r.config_get("timeout")["timeout"]
    try:
        assert r.config_set("timeout", 300) is True
        assert r.config_get("timeout") == {"timeout": "300"}
    finally:
        r.config_set("timeout", old)


def test_client_commands(r: DiskDB) -> None:
    client_id = r.client_id()
    assert isinstance(client_id, int)
    assert r.client_getname() is None
    assert r.client_setname("pytest-client") is True
    assert r.client_getname() == "pytest-client"
    me = [c for c in r.client_list() if c["id"] == str(client_id)]
    assert len(me) == 1 and me[0]["name"] == "pytest-client"


def test_execute_command_for_anything_else(r: DiskDB) -> None:
    r.set("k", "v")
    assert r.execute_command("UNLINK", "k") == 1
    assert r.execute_command("HSET", "h", "f", "v") == 1
    assert r.execute_command("HGETALL", "h") == {"f": "v"}  # converted like hgetall()


@pytest.mark.needs_pubsub
def test_publish_without_subscribers(r: DiskDB) -> None:
    assert r.publish("news", "hello") == 0
