"""Conversion of raw replies into the values the command methods return.

RESP2 and RESP3 send some replies in different shapes (a flat array or a map,
a bulk string or a double, an array or a set).  Every converter accepts both,
so a client returns the same values whatever protocol it speaks.  Converters
are looked up by command name in :data:`RESPONSE_CALLBACKS` and receive the
keyword options the command method passed to ``execute_command``.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

_SUBCOMMAND_GROUPS = frozenset({"CLIENT", "CONFIG", "XGROUP", "OBJECT", "COMMAND"})


def _str(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def command_key(args: Sequence[Any]) -> str:
    """The name used to look up a converter: ``GET``, ``CONFIG GET``..."""
    name = _str(args[0]).upper()
    if name in _SUBCOMMAND_GROUPS and len(args) > 1:
        name += " " + _str(args[1]).upper()
    return name


def ok(reply: Any, **_: Any) -> Optional[bool]:
    """``+OK`` becomes True; a null reply (e.g. ``SET NX`` not applied) stays None."""
    return None if reply is None else _str(reply) == "OK"


def pong(reply: Any, **_: Any) -> bool:
    """PING's ``+PONG`` becomes True."""
    return _str(reply) == "PONG"


def boolean(reply: Any, **_: Any) -> Optional[bool]:
    """Integer 1/0 (or a RESP3 boolean) becomes True/False."""
    return None if reply is None else bool(reply)


def to_float(reply: Any, **_: Any) -> Optional[float]:
    """A bulk-string or RESP3 double becomes a float; null stays None."""
    return None if reply is None else float(reply)


def to_dict(reply: Any, **_: Any) -> Dict[Any, Any]:
    """A RESP3 map or a RESP2 flat ``[k1, v1, k2, v2...]`` array becomes a dict."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2]))


def to_set(reply: Any, **_: Any) -> Set[Any]:
    """An array or a RESP3 set becomes a set."""
    return set(reply)


def to_tuple(reply: Any, **_: Any) -> Optional[Tuple[Any, ...]]:
    """An array becomes a tuple; null stays None (e.g. BLPOP timing out)."""
    return None if reply is None else tuple(reply)


def _pairs(reply: Any) -> List[Sequence[Any]]:
    """``[[a, b], [c, d]]`` (RESP3) or ``[a, b, c, d]`` (RESP2) as pairs."""
    if not reply:
        return []
    if isinstance(reply[0], list):
        return reply
    return list(zip(reply[::2], reply[1::2]))


def scored(reply: Any, **_: Any) -> List[Tuple[Any, float]]:
    """Member/score replies (ZPOPMIN, ... WITHSCORES) as ``(member, score)`` tuples."""
    return [(member, float(score)) for member, score in _pairs(reply)]


def zrange(reply: Any, withscores: bool = False, **_: Any) -> Any:
    """ZRANGE and friends: members, or ``(member, score)`` tuples with scores."""
    return scored(reply) if withscores else reply


def zadd(reply: Any, incr: bool = False, **_: Any) -> Union[int, float, None]:
    """ZADD: the count of members, or the new score with INCR."""
    return to_float(reply) if incr else reply


def set_reply(reply: Any, get: bool = False, **_: Any) -> Any:
    """SET: True/None, or the old value with GET."""
    return reply if get else ok(reply)


def collection(reply: Any, count: Optional[int] = None, **_: Any) -> Any:
    """SPOP/SRANDMEMBER: one member, or a list of them when a count was given."""
    return list(reply) if count is not None and reply is not None else reply


def sort(reply: Any, groups: Optional[int] = None, **_: Any) -> Any:
    """SORT/SORT_RO: the list (tuples of ``groups`` values each), or STORE's count."""
    if groups is None or not isinstance(reply, list):
        return reply
    return [tuple(reply[i : i + groups]) for i in range(0, len(reply), groups)]


def lcs(reply: Any, idx: bool = False, **_: Any) -> Any:
    """LCS: the string or length as is; with IDX a ``{'matches': ..., 'len': n}`` dict."""
    return to_dict(reply) if idx else reply


def scan(reply: Any, **_: Any) -> Tuple[int, List[Any]]:
    """SCAN's ``[cursor, keys]`` as ``(int cursor, keys)``."""
    cursor, keys = reply
    return int(cursor), list(keys)


def server_time(reply: Any, **_: Any) -> Tuple[int, int]:
    """TIME's ``[seconds, microseconds]`` as ints."""
    return int(reply[0]), int(reply[1])


def json_loads(reply: Any, **_: Any) -> Any:
    """A JSON text reply decoded with ``json.loads``; null stays None."""
    return None if reply is None else json.loads(reply)


def json_each(reply: Any, **_: Any) -> Any:
    """JSON texts decoded one by one: a list of them (``$`` paths, JSON.MGET), or one."""
    if isinstance(reply, list):
        return [json_loads(item) for item in reply]
    return json_loads(reply)


def json_toggle(reply: Any, **_: Any) -> Any:
    """JSON.TOGGLE: the new booleans (``$``: 1/0/None each; legacy: ``"true"``)."""
    if isinstance(reply, list):
        return [None if item is None else bool(item) for item in reply]
    return None if reply is None else bool(json.loads(reply))


def booleans(reply: Any, **_: Any) -> List[bool]:
    """An array of 1/0 integers (SMISMEMBER) as bools."""
    return [bool(item) for item in reply]


def floats(reply: Any, **_: Any) -> List[Optional[float]]:
    """An array of scores (ZMSCORE) as floats, None where missing."""
    return [to_float(item) for item in reply]


def keyed_score(reply: Any, **_: Any) -> Optional[Tuple[Any, Any, float]]:
    """BZPOPMIN/BZPOPMAX: ``(key, member, score)``, or None on timeout."""
    if reply is None:
        return None
    key, member, score = reply
    return key, member, float(score)


def _fields(raw: Any) -> Optional[Dict[Any, Any]]:
    return None if raw is None else to_dict(raw)


def stream_entries(reply: Any, **_: Any) -> List[Tuple[Any, Optional[Dict[Any, Any]]]]:
    """XRANGE entries as ``(id, {field: value})``; a deleted entry has None fields."""
    return [(entry_id, _fields(fields)) for entry_id, fields in reply or []]


def xread(reply: Any, **_: Any) -> List[List[Any]]:
    """XREAD/XREADGROUP as ``[[stream, [(id, fields), ...]], ...]`` ([] on timeout)."""
    if reply is None:
        return []
    streams: Iterable[Any] = reply.items() if isinstance(reply, dict) else reply
    return [[name, stream_entries(entries)] for name, entries in streams]


def _info_scalar(value: str) -> Union[int, float, str]:
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def _info_value(value: str) -> Any:
    parts = value.split(",")
    if "=" in value and all("=" in part for part in parts):
        return {k: _info_scalar(v) for k, v in (part.split("=", 1) for part in parts)}
    return _info_scalar(value)


def parse_info(reply: Any, **_: Any) -> Dict[str, Any]:
    """INFO text as a dict; numbers become int/float, ``a=1,b=2`` values dicts."""
    info: Dict[str, Any] = {}
    for line in _str(reply).splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, value = line.split(":", 1)
            info[key] = _info_value(value)
    return info


def client_list(reply: Any, **_: Any) -> List[Dict[str, str]]:
    """CLIENT LIST lines (``id=3 addr=... name=...``) as a list of dicts."""
    return [
        dict(field.split("=", 1) for field in line.split(" ") if "=" in field)
        for line in _str(reply).splitlines()
        if line.strip()
    ]


def _table(*groups: Tuple[Iterable[str], Callable[..., Any]]) -> Dict[str, Callable[..., Any]]:
    return {name: func for names, func in groups for name in names}


#: Converter of each command whose raw reply is not returned as is.
RESPONSE_CALLBACKS: Dict[str, Callable[..., Any]] = _table(
    (
        (
            "MSET",
            "LSET",
            "LTRIM",
            "RENAME",
            "FLUSHDB",
            "FLUSHALL",
            "SELECT",
            "SETEX",
            "PSETEX",
            "CONFIG SET",
            "CLIENT SETNAME",
            "XGROUP CREATE",
            "JSON.SET",
        ),
        ok,
    ),
    (
        (
            "SETNX",
            "MSETNX",
            "RENAMENX",
            "PERSIST",
            "COPY",
            "EXPIRE",
            "PEXPIRE",
            "EXPIREAT",
            "PEXPIREAT",
            "SISMEMBER",
            "HEXISTS",
            "HSETNX",
            "SMOVE",
            "XGROUP DESTROY",
            "CLIENT UNBLOCK",
        ),
        boolean,
    ),
    (("INCRBYFLOAT", "HINCRBYFLOAT", "ZINCRBY", "ZSCORE"), to_float),
    (("HGETALL", "CONFIG GET"), to_dict),
    (("SMEMBERS", "SINTER", "SUNION", "SDIFF"), to_set),
    (("ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), zrange),
    (("ZPOPMIN", "ZPOPMAX"), scored),
    (("BLPOP", "BRPOP"), to_tuple),
    (("SPOP", "SRANDMEMBER"), collection),
    (("XRANGE", "XREVRANGE"), stream_entries),
    (("XREAD", "XREADGROUP"), xread),
    (("JSON.GET", "JSON.NUMINCRBY"), json_loads),
    (("JSON.MGET", "JSON.ARRPOP"), json_each),
    (("JSON.TOGGLE",), json_toggle),
    (("SMISMEMBER",), booleans),
    (("ZMSCORE",), floats),
    (("BZPOPMIN", "BZPOPMAX"), keyed_score),
    (("PING",), pong),
    (("SET",), set_reply),
    (("ZADD",), zadd),
    (("SORT", "SORT_RO"), sort),
    (("LCS",), lcs),
    (("SCAN",), scan),
    (("TIME",), server_time),
    (("INFO",), parse_info),
    (("CLIENT LIST",), client_list),
)


def convert(args: Sequence[Any], reply: Any, options: Dict[str, Any]) -> Any:
    """Apply the converter registered for the command in ``args`` (if any)."""
    callback = RESPONSE_CALLBACKS.get(command_key(args))
    return reply if callback is None else callback(reply, **options)
