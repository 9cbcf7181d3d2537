"""Unit tests of the RESP codec and reply converters (no server needed)."""

from __future__ import annotations

import math
from typing import Any, Iterator, List

import pytest

from diskdb import (
    AuthenticationError,
    ConnectionError,
    DataError,
    DiskDBError,
    ProtocolError,
    PushMessage,
    RespReader,
    ResponseError,
    TypeMismatchError,
    pack_command,
)
from diskdb import callbacks

CHUNK_SIZES = [1, 2, 7, 65536]


def reader_for(data: bytes, chunk: int, **kwargs: Any) -> RespReader:
    chunks: Iterator[bytes] = iter([data[i : i + chunk] for i in range(0, len(data), chunk)])
    return RespReader(lambda: next(chunks, b""), **kwargs)


def parse(data: bytes, chunk: int = 65536, **kwargs: Any) -> Any:
    """Parse exactly one reply from ``data`` fed in ``chunk``-sized pieces."""
    reader = reader_for(data, chunk, **kwargs)
    reply = reader.read_response()
    assert not reader.has_buffered_data, "reply did not consume all input"
    return reply


@pytest.mark.parametrize("chunk", CHUNK_SIZES)
@pytest.mark.parametrize(
    "data, expected",
    [
        (b"+OK\r\n", "OK"),
        (b":42\r\n", 42),
        (b":-7\r\n", -7),
        (b"$5\r\nhello\r\n", "hello"),
        (b"$0\r\n\r\n", ""),
        (b"$4\r\na\r\nb\r\n", "a\r\nb"),
        (b"$-1\r\n", None),
        (b"*-1\r\n", None),
        (b"*0\r\n", []),
        (b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", ["a", 1, None]),
        (b"*2\r\n*1\r\n+x\r\n*2\r\n:1\r\n:2\r\n", [["x"], [1, 2]]),
        (b"_\r\n", None),
        (b",3.25\r\n", 3.25),
        (b",-1\r\n", -1.0),
        (b",inf\r\n", math.inf),
        (b",-inf\r\n", -math.inf),
        (b"#t\r\n", True),
        (b"#f\r\n", False),
        (b"=15\r\ntxt:Some string\r\n", "Some string"),
        (
            b"(3492890328409238509324850943850943825024385\r\n",
            3492890328409238509324850943850943825024385,
        ),
        (b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n", {"first": 1, "second": 2}),
        (b"~3\r\n+a\r\n+b\r\n+a\r\n", {"a", "b"}),
        (
            b"|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n",
            [2039123, 9543892],
        ),
        (b"%1\r\n*2\r\n:1\r\n:2\r\n+v\r\n", {(1, 2): "v"}),
    ],
)
def test_reply_types(data: bytes, expected: Any, chunk: int) -> None:
    assert parse(data, chunk) == expected


def test_nan_double() -> None:
    assert math.isnan(parse(b",nan\r\n"))


def test_push_is_distinguishable() -> None:
    reply = parse(b">3\r\n+message\r\n+news\r\n$2\r\nhi\r\n")
    assert isinstance(reply, PushMessage)
    assert reply == ["message", "news", "hi"]


@pytest.mark.parametrize(
    "data, cls, message",
    [
        (b"-ERR unknown command 'FOO'\r\n", ResponseError, "ERR unknown command 'FOO'"),
        (
            b"-WRONGTYPE Operation against a key\r\n",
            TypeMismatchError,
            "WRONGTYPE Operation against a key",
        ),
        (
            b"-NOAUTH Authentication required.\r\n",
            AuthenticationError,
            "NOAUTH Authentication required.",
        ),
        (b"-WRONGPASS invalid password\r\n", AuthenticationError, "WRONGPASS invalid password"),
        (b"!21\r\nSYNTAX invalid syntax\r\n", ResponseError, "SYNTAX invalid syntax"),
    ],
)
def test_errors_are_returned_as_exceptions(data: bytes, cls: type, message: str) -> None:
    reply = parse(data, chunk=3)
    assert type(reply) is cls
    assert isinstance(reply, DiskDBError)
    assert str(reply) == message


def test_error_code() -> None:
    assert parse(b"-WRONGTYPE Operation against a key\r\n").code == "WRONGTYPE"


def test_errors_nested_in_arrays() -> None:
    reply = parse(b"*2\r\n+OK\r\n-ERR boom\r\n")
    assert reply[0] == "OK"
    assert isinstance(reply[1], ResponseError) and str(reply[1]) == "ERR boom"


def test_decode_responses_false_returns_bytes() -> None:
    reply = parse(b"*3\r\n$3\r\nabc\r\n+OK\r\n=7\r\ntxt:raw\r\n", decode_responses=False)
    assert reply == [b"abc", b"OK", b"raw"]


def test_large_bulk_across_chunks() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, includes CR and LF bytes
    data = b"$%d\r\n%s\r\n" % (len(payload), payload)
    assert parse(data, chunk=4096, decode_responses=False) == payload


def test_several_replies_in_one_chunk() -> None:
    reader = reader_for(b"+OK\r\n:1\r\n$1\r\nx\r\n", chunk=1024)
    assert [reader.read_response() for _ in range(3)] == ["OK", 1, "x"]
    assert not reader.has_buffered_data


def test_many_small_chunks_read_linearly() -> None:
    calls: List[int] = []
    data = b"*1000\r\n" + b":1\r\n" * 1000
    chunks = iter([data[i : i + 64] for i in range(0, len(data), 64)])

    def recv() -> bytes:
        calls.append(1)
        return next(chunks, b"")

    assert RespReader(recv).read_response() == [1] * 1000
    assert len(calls) == -(-len(data) // 64)  # each chunk read once, never re-requested


@pytest.mark.parametrize("data", [b"?what\r\n", b"$3\r\nabcd\r\n", b":12x\r\n", b"#x\r\n", b"\r\n"])
def test_malformed_replies(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(data)


def test_eof_mid_reply_is_a_connection_error() -> None:
    with pytest.raises(ConnectionError):
        parse(b"*2\r\n+OK\r\n")


def test_pack_command() -> None:
    assert pack_command("SET", "k", 1, 2.5, b"\x00\r\n", "é") == (
        b"*6\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$3\r\n2.5\r\n$3\r\n\x00\r\n\r\n$2\r\n\xc3\xa9\r\n"
    )


@pytest.mark.parametrize("value", [None, True, object()])
def test_pack_command_rejects_other_types(value: Any) -> None:
    with pytest.raises(DataError):
        pack_command("SET", "k", value)


def test_pack_then_parse_roundtrip() -> None:
    # A request is itself a RESP array of bulk strings.
    assert parse(pack_command("HSET", "h", "f", 10)) == ["HSET", "h", "f", "10"]


# -- reply converters ----------------------------------------------------


def test_to_dict_accepts_both_protocols() -> None:
    assert callbacks.to_dict(["a", "1", "b", "2"]) == {"a": "1", "b": "2"}
    assert callbacks.to_dict({"a": "1"}) == {"a": "1"}


def test_scored_accepts_both_protocols() -> None:
    assert callbacks.scored(["a", "1", "b", "2.5"]) == [("a", 1.0), ("b", 2.5)]
    assert callbacks.scored([["a", 1.0], ["b", 2.5]]) == [("a", 1.0), ("b", 2.5)]
    assert callbacks.scored(["a", 1.0]) == [("a", 1.0)]  # RESP3 ZPOPMIN without count
    assert callbacks.scored([]) == []


def test_xread_accepts_both_protocols() -> None:
    entries = [["1-0", ["f", "v"]]]
    expected = [["s", [("1-0", {"f": "v"})]]]
    assert callbacks.xread([["s", entries]]) == expected
    assert callbacks.xread({"s": entries}) == expected
    assert callbacks.xread(None) == []


def test_parse_info() -> None:
    text = (
        "# Server\r\nredis_version:7.0.15\r\nprocess_id:42\r\nmem_fragmentation_ratio:1.5\r\n"
        "executable:/usr/bin/x\r\nconfig_file:\r\n\r\n"
        "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n"
        "errorstat_ERR:count=2\r\n"
    )
    assert callbacks.parse_info(text) == {
        "redis_version": "7.0.15",
        "process_id": 42,
        "mem_fragmentation_ratio": 1.5,
        "executable": "/usr/bin/x",
        "config_file": "",
        "db0": {"keys": 3, "expires": 1, "avg_ttl": 0},
        "errorstat_ERR": {"count": 2},
    }


def test_client_list() -> None:
    text = (
        "id=3 addr=127.0.0.1:5000 name= cmd=client|list\n"
        "id=4 addr=127.0.0.1:5001 name=worker cmd=get\n"
    )
    assert callbacks.client_list(text) == [
        {"id": "3", "addr": "127.0.0.1:5000", "name": "", "cmd": "client|list"},
        {"id": "4", "addr": "127.0.0.1:5001", "name": "worker", "cmd": "get"},
    ]


def test_command_key() -> None:
    assert callbacks.command_key(["config", "get", "x"]) == "CONFIG GET"
    assert callbacks.command_key([b"hgetall", "h"]) == "HGETALL"
