"""SORT, SORT_RO, BITFIELD, BITFIELD_RO, LCS, CLIENT UNBLOCK, WAIT and ROLE,
under RESP2 and RESP3."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict

import pytest

from diskdb import DataError, DiskDB, ResponseError


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def db(request: pytest.FixtureRequest, make_client: Callable[..., DiskDB]) -> DiskDB:
    client = make_client(protocol=request.param)
    client.flushall()
    return client


# -- SORT / SORT_RO -------------------------------------------------------------


def test_sort_numbers_alpha_limit(db: DiskDB) -> None:
    db.rpush("n", 3, 1, 2, 10)
    assert db.sort("n") == ["1", "2", "3", "10"]
    assert db.sort("n", desc=True) == ["10", "3", "2", "1"]
    assert db.sort("n", alpha=True) == ["1", "10", "2", "3"]
    assert db.sort("n", start=1, num=2) == ["2", "3"]
    assert db.sort("n", start=0, num=2, desc=True) == ["10", "3"]
    assert db.lrange("n", 0, -1) == ["3", "1", "2", "10"]  # SORT leaves the key alone
    db.rpush("words", "banana", "apple", "Cherry")
    assert db.sort("words", alpha=True) == ["Cherry", "apple", "banana"]
    assert db.sort("words", alpha=True, desc=True, start=0, num=2) == ["banana", "apple"]
    with pytest.raises(ResponseError):
        db.sort("words")  # not numbers, and no ALPHA
    db.sadd("s", 5, 3, 9)
    assert db.sort("s") == ["3", "5", "9"]
    db.zadd("z", {"b": 1, "a": 2})
    assert db.sort("z", alpha=True) == ["a", "b"]
    assert db.sort("z", by="nosort") == ["b", "a"]  # the sorted set's own order
    assert db.sort("missing") == []


def test_sort_by_and_get_patterns(db: DiskDB) -> None:
    db.rpush("n", 3, 1, 2, 10)
    db.mset({"w_1": 30, "w_2": 10, "w_3": 20, "w_10": 5})
    assert db.sort("n", by="w_*") == ["10", "2", "3", "1"]
    assert db.sort("n", by="w_*", desc=True, start=0, num=2) == ["1", "3"]
    db.hset("o_1", mapping={"name": "one"})
    db.hset("o_2", mapping={"name": "two"})
    assert db.sort("n", by="w_*", get=["#", "o_*->name"]) == [
        "10",
        None,
        "2",
        "two",
        "3",
        None,
        "1",
        "one",
    ]

    db.rpush("ids", 1, 2, 3)
    db.hset("user:1", mapping={"name": "ann", "age": 30})
    db.hset("user:2", mapping={"name": "bob", "age": 20})
    db.hset("user:3", mapping={"name": "cy", "age": 25})
    assert db.sort("ids", by="user:*->age") == ["2", "3", "1"]
    assert db.sort("ids", by="user:*->age", get="user:*->name") == ["bob", "cy", "ann"]
    assert db.sort("ids", by="user:*->age", get=("#", "user:*->name"), groups=True) == [
        ("2", "bob"),
        ("3", "cy"),
        ("1", "ann"),
    ]
    patterns = (p for p in ["user:*->name", "user:*->age"])  # any iterable, read once
    assert db.sort("ids", get=patterns, groups=True, desc=True) == [
        ("cy", "25"),
        ("bob", "20"),
        ("ann", "30"),
    ]


def test_sort_store(db: DiskDB) -> None:
    db.rpush("ids", 1, 2, 3)
    db.hset("user:1", mapping={"name": "ann", "age": 30})
    db.hset("user:2", mapping={"name": "bob", "age": 20})
    db.hset("user:3", mapping={"name": "cy", "age": 25})
    assert db.sort("ids", by="user:*->age", desc=True, get="user:*->name", store="names") == 3
    assert db.type("names") == "list"
    assert db.lrange("names", 0, -1) == ["ann", "cy", "bob"]
    db.rpush("n", 3, 1, 2, 10)
    assert db.sort("n", start=1, num=2, store="names") == 2  # replaces the old value
    assert db.lrange("names", 0, -1) == ["2", "3"]
    assert db.sort("missing", store="names") == 0
    assert db.exists("names") == 0  # an empty result deletes the destination


def test_sort_ro(db: DiskDB) -> None:
    db.rpush("n", 3, 1, 2, 10)
    assert db.sort_ro("n") == ["1", "2", "3", "10"]
    assert db.sort_ro("n", desc=True, start=1, num=2) == ["3", "2"]
    assert db.sort_ro("n", alpha=True) == ["1", "10", "2", "3"]
    db.rpush("ids", 1, 2, 3)
    db.hset("user:1", mapping={"name": "ann", "age": 30})
    db.hset("user:2", mapping={"name": "bob", "age": 20})
    db.hset("user:3", mapping={"name": "cy", "age": 25})
    assert db.sort_ro("ids", by="user:*->age", get="user:*->name", start=1, num=5) == [
        "cy",
        "ann",
    ]
    assert db.sort_ro("ids", by="user:*->age", get=["#", "user:*->age"], groups=True) == [
        ("2", "20"),
        ("3", "25"),
        ("1", "30"),
    ]


def test_sort_argument_errors(db: DiskDB) -> None:
    with pytest.raises(DataError):
        db.sort("n", start=1)
    with pytest.raises(DataError):
        db.sort_ro("n", num=1)
    with pytest.raises(DataError):
        db.sort("n", get="#", groups=True)  # groups needs two patterns or more


# -- BITFIELD / BITFIELD_RO -----------------------------------------------------


def test_bitfield_set_get_incrby(db: DiskDB) -> None:
    ops = [("SET", "u8", 0, 200), ("GET", "u8", 0), ("INCRBY", "u8", 0, 100)]
    assert db.bitfield("bf", ops) == [0, 200, 44]  # INCRBY wraps by default
    assert db.bitfield("bf", [("OVERFLOW", "WRAP"), ("INCRBY", "u8", 0, 250)]) == [38]
    assert db.bitfield("bf", []) == []
    assert db.get("bf") == "&"  # 38
    # "#1": the second field of that type; signed fields wrap and saturate too.
    ops = [
        ("SET", "i8", "#1", -5),
        ("INCRBY", "i8", "#1", -200),
        ("OVERFLOW", "SAT"),
        ("INCRBY", "i8", "#1", -200),
        ("GET", "i8", 8),
    ]
    assert db.bitfield("signed", ops) == [0, 51, -128, -128]


def test_bitfield_overflow_sat_and_fail(db: DiskDB) -> None:
    ops = [
        ("SET", "u8", 0, 250),
        ("OVERFLOW", "SAT"),
        ("INCRBY", "u8", 0, 10),
        ("OVERFLOW", "FAIL"),
        ("INCRBY", "u8", 0, 1),
        ("GET", "u8", 0),
        ("OVERFLOW", "WRAP"),
        ("INCRBY", "u8", 0, 1),
    ]
    assert db.bitfield("bf", ops) == [0, 255, None, 255, 0]
    assert db.bitfield("bf", [("OVERFLOW", "FAIL"), ("INCRBY", "u4", 0, -1)]) == [None]
    assert db.bitfield("bf", [("OVERFLOW", "FAIL"), ("SET", "u4", 0, 16)]) == [None]
    assert db.bitfield("bf", [("OVERFLOW", "FAIL"), ("SET", "u4", 0, 15)]) == [0]


def test_bitfield_ro(db: DiskDB) -> None:
    db.bitfield("bf", [("SET", "u8", 0, 255), ("SET", "u8", 8, 0x12)])
    assert db.bitfield_ro("bf", [("u8", 0), ("i4", 4), ("u4", "#2"), ("u4", "#3")]) == [
        255,
        -1,
        1,
        2,
    ]
    assert db.bitfield_ro("missing", [("u8", 0)]) == [0]


def test_bitfield_argument_errors(db: DiskDB) -> None:
    with pytest.raises(DataError):
        db.bitfield("bf", ("GET", "u8", 0))  # type: ignore[arg-type]  # one tuple, not a list
    with pytest.raises(DataError):
        db.bitfield("bf", [()])
    with pytest.raises(ResponseError):
        db.bitfield("bf", [("GET", "x8", 0)])


# -- LCS --------------------------------------------------------------------------


def test_lcs(db: DiskDB) -> None:
    db.mset({"k1": "ohmytext", "k2": "mynewtext"})
    assert db.lcs("k1", "k2") == "mytext"
    assert db.lcs("k1", "k2", len=True) == 6
    assert db.lcs("k1", "k2", idx=True) == {
        "matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        "len": 6,
    }
    assert db.lcs("k1", "k2", idx=True, minmatchlen=4, withmatchlen=True) == {
        "matches": [[[4, 7], [5, 8], 4]],
        "len": 6,
    }
    assert db.lcs("k1", "k2", idx=True, withmatchlen=True) == {
        "matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
        "len": 6,
    }
    db.mset({"a": "ABCBDAB", "b": "BDCABA"})
    assert db.lcs("a", "b") == "BDAB"
    assert db.lcs("missing", "b") == ""
    assert db.lcs("missing", "b", len=True) == 0
    assert db.lcs("missing", "b", idx=True) == {"matches": [], "len": 0}
    with pytest.raises(ResponseError):
        db.lcs("k1", "k2", len=True, idx=True)


def test_lcs_bytes_and_pipeline(make_client: Callable[..., DiskDB]) -> None:
    raw = make_client(decode_responses=False)
    raw.flushall()
    raw.mset({"k1": "ohmytext", "k2": "mynewtext"})
    assert raw.lcs("k1", "k2") == b"mytext"
    assert raw.lcs("k1", "k2", idx=True, minmatchlen=4) == {
        b"matches": [[[4, 7], [5, 8]]],
        b"len": 6,
    }
    raw.rpush("n", 2, 1)
    with raw.pipeline() as pipe:
        pipe.lcs("k1", "k2", idx=True, minmatchlen=4)
        pipe.sort("n", get=["#", "#"], groups=True)
        pipe.sort("n", store="dst")
        pipe.bitfield("bf", [("SET", "u8", 0, 7)])
        pipe.bitfield_ro("bf", [("u8", 0)])
        assert pipe.execute() == [
            {b"matches": [[[4, 7], [5, 8]]], b"len": 6},
            [(b"1", b"1"), (b"2", b"2")],
            2,
            [0],
            [7],
        ]


# -- CLIENT UNBLOCK, WAIT, ROLE ---------------------------------------------------


def _block_in_blpop(client: DiskDB, result: Dict[str, Any]) -> threading.Thread:
    def run() -> None:
        started = time.monotonic()
        try:
            result["reply"] = client.blpop("empty-queue", timeout=10)
        except ResponseError as e:
            result["reply"] = e
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _unblock_when_blocked(db: DiskDB, client_id: int, error: bool = False) -> bool:
    """CLIENT UNBLOCK, retried until the other thread's BLPOP has reached the server."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if db.client_unblock(client_id, error=error):
            return True
        time.sleep(0.01)
    return False


def test_client_unblock(db: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    blocked = make_client(socket_timeout=30)
    blocked_id = blocked.client_id()
    result: Dict[str, Any] = {}
    thread = _block_in_blpop(blocked, result)
    assert _unblock_when_blocked(db, blocked_id) is True
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert result["reply"] is None  # as on a timeout...
    assert result["elapsed"] < 5  # ...but well before the 10 s one
    assert db.client_unblock(blocked_id) is False  # no longer blocked
    assert blocked.ping() is True  # the connection is still usable
    assert db.client_unblock(999_999_999) is False
    assert db.client_unblock(999_999_999, error=True) is False


def test_client_unblock_error(db: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    blocked = make_client(socket_timeout=30)
    blocked_id = blocked.client_id()
    result: Dict[str, Any] = {}
    thread = _block_in_blpop(blocked, result)
    assert _unblock_when_blocked(db, blocked_id, error=True) is True
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert isinstance(result["reply"], ResponseError)
    assert result["reply"].code == "UNBLOCKED"
    assert blocked.rpush("empty-queue", "x") == 1  # the connection is still usable


def test_wait_and_role(db: DiskDB) -> None:
    db.set("k", "v")
    assert db.wait(0, 0) == 0
    assert db.wait(0, 100) == 0
    role = db.role()
    assert role[0] == "master"
    assert isinstance(role[1], int)
    assert role[2] == []  # no replicas
