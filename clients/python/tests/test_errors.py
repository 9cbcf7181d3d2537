"""Error replies map to the exception hierarchy; the connection survives them."""

from __future__ import annotations

import pytest

from diskdb import DataError, DiskDB, DiskDBError, ResponseError, TypeMismatchError


def test_wrongtype_raises_type_mismatch(r: DiskDB) -> None:
    r.set("name", "value")
    with pytest.raises(TypeMismatchError) as info:
        r.lpush("name", "x")
    assert str(info.value).startswith("WRONGTYPE")
    assert info.value.code == "WRONGTYPE"
    assert isinstance(info.value, ResponseError) and isinstance(info.value, DiskDBError)
    r.rpush("list", "x")
    with pytest.raises(TypeMismatchError):
        r.get("list")
    with pytest.raises(TypeMismatchError):
        r.hset("list", "f", "v")
    assert r.get("name") == "value"  # the connection is still usable


def test_bad_arguments_raise_response_error(r: DiskDB) -> None:
    r.set("text", "abc")
    with pytest.raises(ResponseError, match="not an integer"):
        r.incr("text")
    with pytest.raises(ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    with pytest.raises(ResponseError, match="(?i)syntax error"):
        r.execute_command("SET", "k", "v", "BOGUS")
    with pytest.raises(ResponseError, match="unknown command") as info:
        r.execute_command("NOSUCHCOMMAND", "x")
    assert type(info.value) is ResponseError and info.value.code == "ERR"
    assert r.ping() is True


def test_client_side_argument_errors(r: DiskDB) -> None:
    with pytest.raises(DataError):
        r.set("k", None)  # type: ignore[arg-type]
    with pytest.raises(DataError):
        r.zadd("z", {"a": 1, "b": 2}, incr=True)
    with pytest.raises(DataError):
        r.hset("h")
    assert r.ping() is True
