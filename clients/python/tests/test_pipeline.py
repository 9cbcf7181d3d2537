"""Pipelines (one socket write) and MULTI/EXEC transactions."""

from __future__ import annotations

import socket
from typing import List

import pytest

from diskdb import DiskDB, ResponseError, TypeMismatchError


@pytest.fixture
def writes(r: DiskDB, monkeypatch: pytest.MonkeyPatch) -> List[bytes]:
    """Payloads passed to socket.sendall from now on (the client is connected first)."""
    assert r.ping()
    sent: List[bytes] = []
    original = socket.socket.sendall

    def recording_sendall(sock: socket.socket, data: bytes, *args: int) -> None:
        sent.append(bytes(data))
        original(sock, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", recording_sendall)
    return sent


def test_pipeline_sends_one_write(r: DiskDB, writes: List[bytes]) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", "1").incr("a").get("a")
        pipe.hset("h", mapping={"f": "v"}).hgetall("h").zadd("z", {"m": 2}).zscore("z", "m")
        assert len(pipe) == 7
        results = pipe.execute()
    assert results == [True, 2, "2", 1, {"f": "v"}, 1, 2.0]
    assert len(writes) == 1
    assert writes[0].count(b"*") >= 7 and b"HGETALL" in writes[0]


def test_pipeline_many_commands_in_one_write(r: DiskDB, writes: List[bytes]) -> None:
    pipe = r.pipeline()
    for i in range(1000):
        pipe.rpush("numbers", i)
    assert pipe.execute() == list(range(1, 1001))
    assert len(writes) == 1
    assert r.llen("numbers") == 1000


def test_pipeline_errors(r: DiskDB) -> None:
    r.set("s", "x")
    pipe = r.pipeline().incr("counter").lpush("s", "oops").incr("counter")
    results = pipe.execute(raise_on_error=False)
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], TypeMismatchError)
    pipe = r.pipeline().incr("counter").lpush("s", "oops")
    with pytest.raises(TypeMismatchError):
        pipe.execute()
    assert r.get("counter") == "3"  # the other commands still ran
    assert r.pipeline().execute() == []


@pytest.mark.needs_transactions
def test_transaction(r: DiskDB, writes: List[bytes]) -> None:
    with r.pipeline(transaction=True) as tx:
        tx.set("balance", 100).decrby("balance", 30).incrby("spent", 30).mget("balance", "spent")
        assert tx.execute() == [True, 70, 30, ["70", "30"]]
    assert len(writes) == 1
    assert writes[0].startswith(b"*1\r\n$5\r\nMULTI\r\n") and writes[0].endswith(
        b"*1\r\n$4\r\nEXEC\r\n"
    )


@pytest.mark.needs_transactions
def test_transaction_runtime_and_queue_errors(r: DiskDB) -> None:
    r.set("s", "x")
    results = r.pipeline(transaction=True).incr("n").lpush("s", "y").execute(raise_on_error=False)
    assert results[0] == 1 and isinstance(results[1], TypeMismatchError)
    tx = r.pipeline(transaction=True).incr("n").execute_command("NOSUCHCOMMAND")
    with pytest.raises(ResponseError, match="unknown command"):
        tx.execute()
    assert r.get("n") == "1"  # EXECABORT: nothing ran
    assert r.ping() is True
