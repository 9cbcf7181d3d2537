"""The examples of the package README, section by section, run against the server.

Each test holds the README's code for one section, with its ``# result``
comments turned into assertions; keep the two in step.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

from diskdb import ConnectionError, DiskDB, DiskDBError, ResponseError, TypeMismatchError


def test_connecting(server: Any) -> None:
    db = DiskDB(
        host=server.host, port=server.port, password=None, db=0, ssl=False, socket_timeout=5
    )
    assert db.ping() is True
    db.close()
    with DiskDB(host=server.host, port=server.port) as db:  # closed on exit
        assert db.echo("hello") == "hello"
    raw = DiskDB(host=server.host, port=server.port, decode_responses=False)
    raw.set("greeting", "hello")
    assert raw.get("greeting") == b"hello"
    raw.close()


def test_strings(r: DiskDB) -> None:
    db = r
    assert db.set("user:1:name", "Alice") is True
    assert db.get("user:1:name") == "Alice"
    assert db.get("missing") is None
    assert db.set("session:abc", "data", ex=3600) is True
    assert 3590 < db.ttl("session:abc") <= 3600
    assert db.set("lock:report", "worker-1", nx=True, ex=30) is True
    assert db.set("lock:report", "worker-2", nx=True, ex=30) is None  # already held
    assert db.mset({"a": "1", "b": "2"}) is True
    assert db.mget("a", "b", "missing") == ["1", "2", None]
    assert db.append("user:1:name", " Smith") == 11
    assert db.strlen("user:1:name") == 11


def test_counters(r: DiskDB) -> None:
    db = r
    assert db.incr("page:views") == 1
    assert db.incrby("page:views", 10) == 11
    assert db.decr("page:views") == 10
    assert db.decrby("page:views", 5) == 5
    assert db.incrbyfloat("balance", 2.5) == 2.5
    assert db.get("page:views") == "5"


def test_queue(r: DiskDB) -> None:
    db = r
    assert db.lpush("queue", "task1", "task2") == 2
    assert db.rpush("queue", "task3") == 3
    assert db.lrange("queue", 0, -1) == ["task2", "task1", "task3"]
    assert db.rpop("queue") == "task3"
    assert db.lpop("queue") == "task2"
    assert db.llen("queue") == 1


def test_sets(r: DiskDB) -> None:
    db = r
    assert db.sadd("tags:post:1", "python", "database", "redis") == 3
    assert db.sadd("tags:post:2", "rust", "database") == 2
    assert db.smembers("tags:post:1") == {"python", "database", "redis"}
    assert db.sismember("tags:post:1", "python") is True
    assert db.scard("tags:post:1") == 3
    assert db.sinter("tags:post:1", "tags:post:2") == {"database"}
    assert db.sunion("tags:post:1", "tags:post:2") == {"python", "database", "redis", "rust"}
    assert db.srem("tags:post:1", "redis") == 1


def test_hashes(r: DiskDB) -> None:
    db = r
    assert (
        db.hset("user:1", mapping={"name": "Alice", "email": "alice@example.com", "age": 30}) == 3
    )
    assert db.hget("user:1", "name") == "Alice"
    assert db.hgetall("user:1") == {"name": "Alice", "email": "alice@example.com", "age": "30"}
    assert db.hincrby("user:1", "age", 1) == 31
    assert db.hexists("user:1", "phone") is False
    assert db.hdel("user:1", "email") == 1
    assert sorted(db.hkeys("user:1")) == ["age", "name"]


def test_leaderboard(r: DiskDB) -> None:
    db = r
    assert db.zadd("leaderboard", {"alice": 100, "bob": 85, "carol": 92}) == 3
    assert db.zincrby("leaderboard", 10, "bob") == 95.0
    top = db.zrange("leaderboard", 0, 2, desc=True, withscores=True)
    assert top == [("alice", 100.0), ("bob", 95.0), ("carol", 92.0)]
    assert db.zrevrange("leaderboard", 0, 0) == ["alice"]
    assert db.zrevrank("leaderboard", "carol") == 2
    assert db.zscore("leaderboard", "carol") == 92.0
    assert db.zrangebyscore("leaderboard", 90, 99) == ["carol", "bob"]


@pytest.mark.needs_json
def test_json_profile(r: DiskDB) -> None:
    db = r
    profile = {
        "name": "Alice",
        "age": 30,
        "address": {"city": "Paris", "zip": "75001"},
        "interests": ["music", "chess"],
    }
    assert db.json_set("profile:1", "$", profile) is True
    assert db.json_get("profile:1") == profile
    assert db.json_get("profile:1", "$.address.city") == ["Paris"]
    assert db.json_get("profile:1", ".address.city") == "Paris"
    assert db.json_get("profile:1", "$.interests") == [["music", "chess"]]
    assert db.json_set("profile:1", "$.address.city", "Lyon") is True
    assert db.json_arrappend("profile:1", "$.interests", "go") == [3]
    assert db.json_numincrby("profile:1", "$.age", 1) == [31]
    assert db.json_get("profile:1", "$.address.city", "$.age") == {
        "$.address.city": ["Lyon"],
        "$.age": [31],
    }
    assert db.json_type("profile:1", "$.interests") == ["array"]
    assert db.json_del("profile:1", "$.address") == 1
    assert db.json_get("profile:1") == {
        "name": "Alice",
        "age": 31,
        "interests": ["music", "chess", "go"],
    }
    assert db.json_get("profile:missing") is None


@pytest.mark.needs_streams
def test_stream_events(r: DiskDB) -> None:
    db = r
    event_id = db.xadd("events", {"type": "login", "user": "alice"})
    ms, seq = event_id.split("-")
    assert int(ms) > 0 and seq.isdigit()
    db.xadd("events", {"type": "purchase", "user": "alice", "amount": "9.99"})
    entries = db.xrange("events", "-", "+", count=10)
    assert [fields for _, fields in entries] == [
        {"type": "login", "user": "alice"},
        {"type": "purchase", "user": "alice", "amount": "9.99"},
    ]
    assert entries[0][0] == event_id
    assert db.xlen("events") == 2
    assert db.xread({"events": event_id}) == [["events", [entries[1]]]]
    # Consumer groups: each entry is delivered to one consumer, then acknowledged.
    assert db.xgroup_create("events", "billing", id="0") is True
    [[stream, batch]] = db.xreadgroup("billing", "worker-1", {"events": ">"}, count=10)
    assert stream == "events" and batch == entries
    assert db.xack("events", "billing", *(entry_id for entry_id, _ in batch)) == 2


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_error_handling(r: DiskDB) -> None:
    db = r
    db.set("user:1:name", "Alice")
    try:
        db.lpush("user:1:name", "x")  # a list command on a string
    except TypeMismatchError as e:
        assert str(e).startswith("WRONGTYPE")
    else:
        pytest.fail("no TypeMismatchError")
    try:
        db.incr("user:1:name")
    except ResponseError as e:  # ERR value is not an integer or out of range
        assert "not an integer" in str(e)
    else:
        pytest.fail("no ResponseError")
    with pytest.raises(DiskDBError):  # every error of the package is a DiskDBError
        db.execute_command("NOSUCHCOMMAND")
    offline = DiskDB(host="127.0.0.1", port=closed_port(), socket_timeout=1)
    try:
        offline.ping()
    except ConnectionError as e:
        assert "Error connecting" in str(e)
        assert isinstance(e, DiskDBError)
    else:
        pytest.fail("no ConnectionError")
    assert db.get("user:1:name") == "Alice"  # the connection survives error replies


def test_type_exists_delete(r: DiskDB) -> None:
    db = r
    db.set("name", "Alice")
    db.lpush("queue", "task")
    db.hset("user:1", "name", "Alice")
    assert db.type("name") == "string"
    assert db.type("queue") == "list"
    assert db.type("user:1") == "hash"
    assert db.type("missing") == "none"
    assert db.exists("name") == 1
    assert db.exists("name", "queue", "missing") == 2
    assert db.expire("name", 60) is True
    assert 0 < db.ttl("name") <= 60
    assert db.ttl("queue") == -1  # no expiry
    assert db.persist("name") is True
    assert db.delete("name", "queue", "missing") == 2
    assert db.ttl("name") == -2  # no such key
    assert db.keys("*") == ["user:1"]


def test_pipeline(r: DiskDB) -> None:
    db = r
    with db.pipeline() as pipe:
        pipe.set("a", 1)
        pipe.incr("a")
        pipe.get("a")
        pipe.hset("h", "f", "v")
        pipe.hgetall("h")
        results = pipe.execute()  # one write, one round trip
    assert results == [True, 2, "2", 1, {"f": "v"}]
    assert db.pipeline().incr("hits").expire("hits", 60).execute() == [1, True]  # chained


@pytest.mark.needs_transactions
def test_transaction(r: DiskDB) -> None:
    db = r
    db.set("balance:alice", 100)
    with db.pipeline(transaction=True) as tx:  # MULTI ... EXEC: all or nothing
        tx.decrby("balance:alice", 30)
        tx.incrby("balance:bob", 30)
        assert tx.execute() == [70, 30]


def create_session(db: DiskDB, user_id: int, ttl: int = 1800) -> str:
    token = secrets.token_hex(16)
    db.hset("session:" + token, mapping={"user_id": user_id, "created": int(time.time())})
    db.expire("session:" + token, ttl)
    return token


def get_session(db: DiskDB, token: str, ttl: int = 1800) -> Optional[Dict[str, str]]:
    data = db.hgetall("session:" + token)
    if not data:
        return None
    db.expire("session:" + token, ttl)  # sliding expiration
    return data


def test_session(r: DiskDB) -> None:
    db = r
    token = create_session(db, 42)
    session = get_session(db, token)
    assert session is not None and session["user_id"] == "42"
    assert 1790 < db.ttl("session:" + token) <= 1800
    assert get_session(db, "not-a-token") is None
    # A session stored as one string with SETEX expires on its own.
    assert db.setex("session:short", 1, json.dumps({"user_id": 7})) is True
    assert json.loads(db.get("session:short") or "null") == {"user_id": 7}
    deadline = time.monotonic() + 5
    while db.get("session:short") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.get("session:short") is None
    assert db.delete("session:" + token) == 1  # logout


def is_allowed(db: DiskDB, user: str, limit: int = 5, window: int = 60) -> bool:
    """Fixed-window rate limiter: INCR a per-window counter, EXPIRE it on first use."""
    key = "rate:%s:%d" % (user, int(time.time()) // window)
    count = db.incr(key)
    if count == 1:
        db.expire(key, window)
    return count <= limit


def test_rate_limiting(r: DiskDB) -> None:
    db = r
    assert [is_allowed(db, "alice", limit=3) for _ in range(5)] == [True, True, True, False, False]
    assert is_allowed(db, "bob", limit=3) is True
    [key] = db.keys("rate:alice:*")
    assert 0 < db.ttl(key) <= 60


def test_task_queue(r: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    db = r

    # A producer queues tasks as JSON; workers block on BRPOP until one arrives.
    def worker(results: List[Dict[str, Any]]) -> None:
        conn = make_client()
        while True:
            item = conn.brpop("tasks", timeout=1)
            if item is None:  # idle for a second: stop
                return
            _, payload = item
            task = json.loads(payload)
            results.append(task)

    done: List[Dict[str, Any]] = []
    thread = threading.Thread(target=worker, args=(done,))
    thread.start()
    for n in range(3):
        db.lpush("tasks", json.dumps({"id": n, "action": "resize"}))
    thread.join(10)
    assert not thread.is_alive()
    assert [task["id"] for task in done] == [0, 1, 2]  # first in, first out

    # Reliable variant: a task moves to a processing list while it runs, and
    # leaves it when acknowledged, so a crashed worker's task is not lost.
    db.lpush("jobs", "job:1", "job:2")
    job = db.brpoplpush("jobs", "jobs:processing", timeout=1)
    assert job == "job:1"
    assert db.lrange("jobs:processing", 0, -1) == ["job:1"]
    assert db.lrem("jobs:processing", 1, job) == 1  # done
    assert db.rpoplpush("jobs", "jobs:processing") == "job:2"
    assert db.brpoplpush("jobs", "jobs:processing", timeout=0.1) is None  # empty


def test_sorting_bitfields_lcs(r: DiskDB) -> None:
    db = r
    db.rpush("ids", 3, 1, 2)
    db.hset("user:1", mapping={"name": "ann", "age": 30})
    db.hset("user:2", mapping={"name": "bob", "age": 20})
    db.hset("user:3", mapping={"name": "cy", "age": 25})
    assert db.sort("ids") == ["1", "2", "3"]
    assert db.sort("ids", desc=True, start=0, num=2) == ["3", "2"]
    assert db.sort("ids", by="user:*->age", get="user:*->name") == ["bob", "cy", "ann"]
    assert db.sort("ids", by="user:*->age", get=["#", "user:*->name"], groups=True) == [
        ("2", "bob"),
        ("3", "cy"),
        ("1", "ann"),
    ]
    assert db.sort("ids", alpha=True, desc=True, store="sorted") == 3
    assert db.lrange("sorted", 0, -1) == ["3", "2", "1"]
    assert db.sort_ro("ids", by="user:*->age") == ["2", "3", "1"]

    ops = [
        ("SET", "u8", 0, 250),
        ("OVERFLOW", "SAT"),
        ("INCRBY", "u8", 0, 10),
        ("OVERFLOW", "FAIL"),
        ("INCRBY", "u8", 0, 1),
        ("GET", "u8", 0),
    ]
    assert db.bitfield("counters", ops) == [0, 255, None, 255]
    assert db.bitfield_ro("counters", [("u8", 0), ("i4", 4)]) == [255, -1]

    db.mset({"k1": "ohmytext", "k2": "mynewtext"})
    assert db.lcs("k1", "k2") == "mytext"
    assert db.lcs("k1", "k2", len=True) == 6
    assert db.lcs("k1", "k2", idx=True, minmatchlen=4, withmatchlen=True) == {
        "matches": [[[4, 7], [5, 8], 4]],
        "len": 6,
    }


def test_blocked_clients_and_replication(r: DiskDB, make_client: Callable[..., DiskDB]) -> None:
    db = r
    for error in (False, True):
        waiter = make_client()
        waiter_id = waiter.client_id()
        replies: List[Any] = []

        def wait_for_item() -> None:
            try:
                replies.append(waiter.blpop("nothing", timeout=10))
            except ResponseError as e:
                replies.append(e.code)

        thread = threading.Thread(target=wait_for_item)
        thread.start()
        deadline = time.monotonic() + 5  # until the BLPOP has reached the server
        while not db.client_unblock(waiter_id, error=error) and time.monotonic() < deadline:
            time.sleep(0.01)
        thread.join(5)
        assert not thread.is_alive()
        assert replies == (["UNBLOCKED"] if error else [None])
    assert db.client_unblock(123456) is False
    started = time.monotonic()
    assert db.wait(1, 500) == 0  # no replica to wait for: 0 after the timeout
    assert 0.4 < time.monotonic() - started < 5
    role = db.role()
    assert role[0] == "master" and role[2] == []  # a primary without replicas
