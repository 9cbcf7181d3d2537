"""Strings, counters and bitmaps."""

from __future__ import annotations

import datetime
from typing import Callable

from diskdb import DiskDB


def test_set_and_get(r: DiskDB) -> None:
    assert r.set("greeting", "hello") is True
    assert r.get("greeting") == "hello"
    assert r.get("missing") is None


def test_set_options(r: DiskDB) -> None:
    assert r.set("k", "v1", nx=True) is True
    assert r.set("k", "v2", nx=True) is None
    assert r.set("other", "v", xx=True) is None
    assert r.set("k", "v3", xx=True) is True
    assert r.set("k", "v4", get=True) == "v3"
    assert r.set("new", "x", get=True) is None
    assert r.set("k", "v5", ex=100) is True
    assert r.set("k", "v6", keepttl=True) is True
    assert 0 < r.ttl("k") <= 100
    assert r.set("k", "v7", px=datetime.timedelta(seconds=50)) is True
    assert 0 < r.pttl("k") <= 50_000


def test_unicode_and_binary_values(r: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    r.set("unicode", "héllo wörld ✓")
    assert r.get("unicode") == "héllo wörld ✓"
    raw = make_client(decode_responses=False)
    blob = bytes(range(256))
    raw.set(b"blob", blob)
    assert raw.get(b"blob") == blob
    assert raw.get("unicode") == "héllo wörld ✓".encode()


def test_mget_mset(r: DiskDB) -> None:
    assert r.mset({"a": "1", "b": "2", "c": 3}) is True
    assert r.mget(["a", "b", "missing", "c"]) == ["1", "2", None, "3"]
    assert r.mget("a", "b") == ["1", "2"]


def test_string_editing(r: DiskDB) -> None:
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.strlen("s") == 11
    assert r.getrange("s", 0, 4) == "Hello"
    assert r.getrange("s", -5, -1) == "World"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == "Hello Redis"
    assert r.getset("s", "new") == "Hello Redis"
    assert r.getdel("s") == "new"
    assert r.exists("s") == 0


def test_set_variants_with_ttl(r: DiskDB) -> None:
    assert r.setnx("n", "1") is True
    assert r.setnx("n", "2") is False
    assert r.get("n") == "1"
    assert r.setex("e", 100, "v") is True
    assert 90 < r.ttl("e") <= 100
    assert r.psetex("p", datetime.timedelta(seconds=5), "v") is True
    assert 0 < r.pttl("p") <= 5000
    assert r.getex("e", persist=True) == "v"
    assert r.ttl("e") == -1
    assert r.getex("e", ex=30) == "v"
    assert 0 < r.ttl("e") <= 30


def test_counters(r: DiskDB) -> None:
    assert r.incr("visits") == 1
    assert r.incr("visits") == 2
    assert r.incr("visits", 10) == 12
    assert r.incrby("visits", 5) == 17
    assert r.decr("visits") == 16
    assert r.decr("visits", 6) == 10
    assert r.decrby("visits", 10) == 0
    assert r.get("visits") == "0"
    assert r.incrbyfloat("price", 10.5) == 10.5
    result = r.incrbyfloat("price", -0.25)
    assert isinstance(result, float) and result == 10.25


def test_bitmaps(r: DiskDB) -> None:
    assert r.setbit("bits", 7, 1) == 0
    assert r.setbit("bits", 7, 1) == 1
    assert r.getbit("bits", 7) == 1
    assert r.getbit("bits", 100) == 0
    r.set("b", "foobar")
    assert r.bitcount("b") == 26
    assert r.bitcount("b", 1, 1) == 6
    assert r.bitcount("b", 5, 30, "BIT") == 17
    r.set("z", b"\xff\xf0\x00")
    assert r.bitpos("z", 0) == 12
    assert r.bitpos("z", 1, 2) == -1
    r.set("x", "abc")
    r.set("y", "   ")
    assert r.bitop("XOR", "dest", "x", "y") == 3
    assert r.get("dest") == "ABC"
