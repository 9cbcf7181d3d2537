"""Application-style scenarios: sessions, a rate limiter, JSON profiles, event streams."""

from __future__ import annotations

import time
import uuid
from typing import Tuple

import pytest

from diskdb import DiskDB


def test_session_with_ttl(r: DiskDB) -> None:
    session = "session:%s" % uuid.uuid4().hex
    r.hset(session, mapping={"user_id": 42, "role": "admin"})
    assert r.expire(session, 1800) is True
    assert 1790 < r.ttl(session) <= 1800
    assert r.hget(session, "role") == "admin"
    # Activity slides the expiry window.
    assert r.expire(session, 3600) is True
    assert r.ttl(session) > 1800
    # A short-lived token really disappears.
    assert r.set("token", "t", px=100) is True
    deadline = time.monotonic() + 5
    while r.get("token") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.get("token") is None
    assert r.ttl("token") == -2
    # Logging out ends the session.
    assert r.delete(session) == 1
    assert r.hgetall(session) == {}


def allow_request(db: DiskDB, user: str, limit: int, window_seconds: int, now: float) -> bool:
    """Fixed-window rate limiter: INCR a per-window counter, EXPIRE it on first use."""
    key = "rate:%s:%d" % (user, int(now) // window_seconds)
    count = db.incr(key)
    if count == 1:
        db.expire(key, window_seconds)
    return count <= limit


def test_rate_limiter_with_incr_and_expire(r: DiskDB) -> None:
    now = time.time()
    results = [allow_request(r, "alice", 5, 60, now) for _ in range(8)]
    assert results == [True] * 5 + [False] * 3
    [key] = r.keys("rate:alice:*")
    assert r.get(key) == "8"
    assert 0 < r.ttl(key) <= 60
    assert allow_request(r, "bob", 5, 60, now) is True
    assert allow_request(r, "alice", 5, 60, now + 60) is True  # the next window


def test_rate_limiter_window_expires(r: DiskDB) -> None:
    r.set("rate:carol", 0)
    assert r.incr("rate:carol") == 1
    assert r.pexpire("rate:carol", 150) is True
    time.sleep(0.3)
    assert r.incr("rate:carol") == 1  # a fresh window


@pytest.mark.needs_json
def test_json_user_profile(r: DiskDB) -> None:
    profile = {"name": "Ada", "age": 36, "tags": ["math"], "address": {"city": "London"}}
    assert r.json_set("user:1", "$", profile) is True
    assert r.json_get("user:1") == profile
    assert r.json_get("user:1", "$.address.city") == ["London"]
    assert r.json_set("user:1", "$", {"other": 1}, nx=True) is None
    assert r.json_set("user:1", "$.name", "Ada L.", xx=True) is True
    assert r.json_arrappend("user:1", "$.tags", "poetry", "engines") == [3]
    assert r.json_numincrby("user:1", "$.age", 1) == [37]
    assert r.json_type("user:1", "$.tags") == ["array"]
    assert r.json_get("user:1", "$.tags") == [["math", "poetry", "engines"]]
    assert r.json_del("user:1", "$.address") == 1
    assert r.json_get("user:1") == {
        "name": "Ada L.",
        "age": 37,
        "tags": ["math", "poetry", "engines"],
    }
    assert r.type("user:1") == "ReJSON-RL"
    assert r.json_get("missing") is None


def stream_id(entry_id: str) -> Tuple[int, int]:
    """A stream entry id ``ms-seq`` as a comparable tuple."""
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


@pytest.mark.needs_streams
def test_stream_events(r: DiskDB) -> None:
    first = r.xadd("events", {"type": "signup", "user": "ada"})
    second = r.xadd("events", {"type": "login", "user": "ada"})
    assert stream_id(first) < stream_id(second)
    assert r.xadd("events", {"type": "explicit"}, id="99999999999999-0") == "99999999999999-0"
    assert r.xlen("events") == 3
    entries = r.xrange("events")
    assert [e[0] for e in entries] == [first, second, "99999999999999-0"]
    assert entries[0][1] == {"type": "signup", "user": "ada"}
    assert r.xrange("events", min=second, count=1) == [(second, {"type": "login", "user": "ada"})]
    assert [e[0] for e in r.xrevrange("events", count=2)] == ["99999999999999-0", second]
    assert r.xread({"events": second}) == [["events", [("99999999999999-0", {"type": "explicit"})]]]
    assert r.xread({"events": "$"}, block=100) == []

    assert r.xgroup_create("events", "mailer", id="0") is True
    batch = r.xreadgroup("mailer", "worker-1", {"events": ">"}, count=2)
    assert [[name, [entry_id for entry_id, _ in items]] for name, items in batch] == [
        ["events", [first, second]]
    ]
    assert r.xack("events", "mailer", first, second) == 2
    assert r.xack("events", "mailer", first) == 0

    assert r.xdel("events", first) == 1
    assert r.xlen("events") == 2
    assert r.xtrim("events", maxlen=1, approximate=False) == 1
    assert r.xlen("events") == 1
    assert r.xadd("events", {"n": 1}, maxlen=1, approximate=False)
    assert r.xlen("events") == 1
    assert r.xgroup_create("new-stream", "g", mkstream=True) is True
    assert r.type("new-stream") == "stream"
