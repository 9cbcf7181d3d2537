"""Command methods shared by :class:`~diskdb.DiskDB` and its pipelines.

Each method only builds the argument list and calls ``execute_command``;
reply conversion lives in :mod:`diskdb.callbacks`.  On a client a method
returns the converted reply; on a pipeline it queues the command and returns
the pipeline.  Return annotations name the ``decode_responses=True`` types:
with ``decode_responses=False`` strings come back as bytes.
"""

from __future__ import annotations

import collections.abc
import datetime
import json
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from . import exceptions as exc
from .resp import EncodableT

KeyT = Union[str, bytes]
ExpiryT = Union[int, datetime.timedelta]
AbsExpiryT = Union[int, datetime.datetime]
ScoreT = Union[int, float, str]
StreamIdT = Union[str, bytes, int]
BitfieldOpT = Sequence[EncodableT]


def _seconds(value: ExpiryT) -> int:
    return int(value.total_seconds()) if isinstance(value, datetime.timedelta) else value


def _millis(value: ExpiryT) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return value


def _timestamp(value: AbsExpiryT, scale: int = 1) -> int:
    """A Unix time in seconds (``scale=1000``: milliseconds) from an int or datetime."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * scale)
    return value


def _keys(keys: Union[KeyT, Iterable[KeyT]], args: Tuple[KeyT, ...]) -> List[KeyT]:
    """redis-py style key arguments: one key, or an iterable of keys, plus ``*args``."""
    first = [keys] if isinstance(keys, (str, bytes)) else list(keys)
    return first + list(args)


def _flags(**flags: bool) -> List[EncodableT]:
    """Upper-cased names of the flags that are set, e.g. ``NX``, ``CH``."""
    return [name.upper() for name, enabled in flags.items() if enabled]


def _optional(name: str, value: Optional[EncodableT]) -> List[EncodableT]:
    return [] if value is None else [name, value]


def _bitfield_args(operations: Iterable[BitfieldOpT]) -> List[EncodableT]:
    """BITFIELD operations ``[("SET", "u8", 0, 1), ("OVERFLOW", "SAT")...]`` flattened."""
    args: List[EncodableT] = []
    for operation in operations:
        if isinstance(operation, (str, bytes)) or not operation:
            raise exc.DataError(
                'bitfield operations are tuples such as ("GET", "u8", 0), not %r' % (operation,)
            )
        args += operation
    return args


class Commands:
    """Redis-compatible commands with redis-py style signatures."""

    def execute_command(self, *args: EncodableT, **options: Any) -> Any:
        """Send (or queue) one command; implemented by the client and the pipeline."""
        raise NotImplementedError

    # -- strings -----------------------------------------------------------

    def get(self, key: KeyT) -> Optional[str]:
        """The value of ``key``, or None."""
        return self.execute_command("GET", key)

    def set(
        self,
        key: KeyT,
        value: EncodableT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
    ) -> Any:
        """SET: True, None when NX/XX prevented it, or the old value with ``get``."""
        args: List[EncodableT] = ["SET", key, value]
        if ex is not None:
            args += ["EX", _seconds(ex)]
        if px is not None:
            args += ["PX", _millis(px)]
        args += _flags(nx=nx, xx=xx, keepttl=keepttl, get=get)
        return self.execute_command(*args, get=get)

    def mget(self, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> List[Optional[str]]:
        """Values of several keys (None where missing)."""
        return self.execute_command("MGET", *_keys(keys, args))

    def mset(self, mapping: Mapping[KeyT, EncodableT]) -> bool:
        """Set several keys at once."""
        pairs = [item for pair in mapping.items() for item in pair]
        return self.execute_command("MSET", *pairs)

    def msetnx(self, mapping: Mapping[KeyT, EncodableT]) -> bool:
        """Set several keys only if none of them exists."""
        pairs = [item for pair in mapping.items() for item in pair]
        return self.execute_command("MSETNX", *pairs)

    def incr(self, key: KeyT, amount: int = 1) -> int:
        """Add ``amount`` (default 1) to the integer at ``key``."""
        if amount == 1:
            return self.execute_command("INCR", key)
        return self.incrby(key, amount)

    def incrby(self, key: KeyT, amount: int = 1) -> int:
        """INCRBY: add ``amount`` to the integer at ``key``."""
        return self.execute_command("INCRBY", key, amount)

    def decr(self, key: KeyT, amount: int = 1) -> int:
        """Subtract ``amount`` (default 1) from the integer at ``key``."""
        if amount == 1:
            return self.execute_command("DECR", key)
        return self.decrby(key, amount)

    def decrby(self, key: KeyT, amount: int = 1) -> int:
        """DECRBY: subtract ``amount`` from the integer at ``key``."""
        return self.execute_command("DECRBY", key, amount)

    def incrbyfloat(self, key: KeyT, amount: float = 1.0) -> float:
        """Add a float to the number at ``key``; returns the new value."""
        return self.execute_command("INCRBYFLOAT", key, amount)

    def append(self, key: KeyT, value: EncodableT) -> int:
        """Append to the string at ``key``; returns its new length."""
        return self.execute_command("APPEND", key, value)

    def strlen(self, key: KeyT) -> int:
        """Length of the string at ``key``."""
        return self.execute_command("STRLEN", key)

    def getrange(self, key: KeyT, start: int, end: int) -> str:
        """Substring between two inclusive offsets."""
        return self.execute_command("GETRANGE", key, start, end)

    def setrange(self, key: KeyT, offset: int, value: EncodableT) -> int:
        """Overwrite part of the string at ``offset``; returns its new length."""
        return self.execute_command("SETRANGE", key, offset, value)

    def setnx(self, key: KeyT, value: EncodableT) -> bool:
        """Set ``key`` only if it does not exist."""
        return self.execute_command("SETNX", key, value)

    def setex(self, key: KeyT, time: ExpiryT, value: EncodableT) -> bool:
        """Set ``key`` with a TTL in seconds."""
        return self.execute_command("SETEX", key, _seconds(time), value)

    def psetex(self, key: KeyT, time_ms: ExpiryT, value: EncodableT) -> bool:
        """Set ``key`` with a TTL in milliseconds."""
        return self.execute_command("PSETEX", key, _millis(time_ms), value)

    def getset(self, key: KeyT, value: EncodableT) -> Optional[str]:
        """Set ``key`` and return its old value."""
        return self.execute_command("GETSET", key, value)

    def getdel(self, key: KeyT) -> Optional[str]:
        """Get ``key`` and delete it."""
        return self.execute_command("GETDEL", key)

    def getex(
        self,
        key: KeyT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
    ) -> Optional[str]:
        """Get ``key`` and change (or, with ``persist``, remove) its TTL."""
        args: List[EncodableT] = ["GETEX", key]
        if ex is not None:
            args += ["EX", _seconds(ex)]
        if px is not None:
            args += ["PX", _millis(px)]
        if exat is not None:
            args += ["EXAT", _timestamp(exat)]
        if pxat is not None:
            args += ["PXAT", _timestamp(pxat, 1000)]
        return self.execute_command(*args, *_flags(persist=persist))

    def setbit(self, key: KeyT, offset: int, value: int) -> int:
        """Set one bit; returns the bit's old value."""
        return self.execute_command("SETBIT", key, offset, value)

    def getbit(self, key: KeyT, offset: int) -> int:
        """The bit at ``offset``."""
        return self.execute_command("GETBIT", key, offset)

    def bitcount(
        self,
        key: KeyT,
        start: Optional[int] = None,
        end: Optional[int] = None,
        mode: Optional[str] = None,
    ) -> int:
        """Number of set bits, optionally in a BYTE or BIT range."""
        args: List[EncodableT] = ["BITCOUNT", key]
        if start is not None and end is not None:
            args += [start, end] + ([mode] if mode else [])
        return self.execute_command(*args)

    def bitpos(
        self,
        key: KeyT,
        bit: int,
        start: Optional[int] = None,
        end: Optional[int] = None,
        mode: Optional[str] = None,
    ) -> int:
        """Position of the first bit set to ``bit``."""
        args: List[EncodableT] = ["BITPOS", key, bit]
        if start is not None:
            args.append(start)
            if end is not None:
                args += [end] + ([mode] if mode else [])
        return self.execute_command(*args)

    def bitop(self, operation: str, dest: KeyT, *keys: KeyT) -> int:
        """AND/OR/XOR/NOT of strings into ``dest``; returns its length."""
        return self.execute_command("BITOP", operation, dest, *keys)

    def bitfield(self, key: KeyT, operations: Iterable[BitfieldOpT]) -> List[Optional[int]]:
        """BITFIELD: run ``operations`` on the integer fields of the string at ``key``.

        Each operation is a tuple of the command's words: ``("GET", type, offset)``,
        ``("SET", type, offset, value)``, ``("INCRBY", type, offset, increment)`` or
        ``("OVERFLOW", "WRAP" | "SAT" | "FAIL")`` (applies to the later SET/INCRBY).
        ``type`` is ``"u8"``, ``"i16"``...; an offset ``"#2"`` counts in fields of
        that type.  Returns one value per GET/SET/INCRBY (SET: the old value;
        INCRBY: the new one), None where OVERFLOW FAIL prevented it.

        >>> db.bitfield("bf", [("SET", "u8", 0, 250), ("OVERFLOW", "SAT"),
        ...                    ("INCRBY", "u8", 0, 10), ("GET", "u8", 0)])
        [0, 255, 255]
        """
        return self.execute_command("BITFIELD", key, *_bitfield_args(operations))

    def bitfield_ro(self, key: KeyT, items: Iterable[Tuple[str, Union[int, str]]]) -> List[int]:
        """BITFIELD_RO: the values of ``(type, offset)`` fields (``[("u8", 0), ("i4", "#1")]``)."""
        args: List[EncodableT] = ["BITFIELD_RO", key]
        for encoding, offset in items:
            args += ["GET", encoding, offset]
        return self.execute_command(*args)

    def lcs(
        self,
        key1: KeyT,
        key2: KeyT,
        len: bool = False,
        idx: bool = False,
        minmatchlen: Optional[int] = None,
        withmatchlen: bool = False,
    ) -> Any:
        """Longest common subsequence of two strings (missing keys are empty).

        The subsequence itself (``'mytext'``); its length with ``len``; with
        ``idx`` a dict ``{'matches': [[[start1, end1], [start2, end2]], ...],
        'len': n}``, matches last first, each ending with its length when
        ``withmatchlen``, only those at least ``minmatchlen`` long.
        """
        args: List[EncodableT] = ["LCS", key1, key2, *_flags(len=len, idx=idx)]
        args += _optional("MINMATCHLEN", minmatchlen)
        return self.execute_command(*args, *_flags(withmatchlen=withmatchlen), idx=idx)

    # -- keys --------------------------------------------------------------

    def delete(self, *keys: KeyT) -> int:
        """Delete keys; returns how many existed."""
        return self.execute_command("DEL", *keys)

    def unlink(self, *keys: KeyT) -> int:
        """Delete keys, reclaiming memory in the background; returns how many existed."""
        return self.execute_command("UNLINK", *keys)

    def touch(self, *keys: KeyT) -> int:
        """Update the last access time of keys; returns how many exist."""
        return self.execute_command("TOUCH", *keys)

    def exists(self, *keys: KeyT) -> int:
        """How many of the keys exist (a key named twice counts twice)."""
        return self.execute_command("EXISTS", *keys)

    def type(self, key: KeyT) -> str:
        """The type of ``key``: ``string``, ``list``... or ``none``."""
        return self.execute_command("TYPE", key)

    def _expire(
        self, command: str, key: KeyT, when: int, nx: bool, xx: bool, gt: bool, lt: bool
    ) -> bool:
        return self.execute_command(command, key, when, *_flags(nx=nx, xx=xx, gt=gt, lt=lt))

    def expire(
        self,
        key: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool:
        """Set a TTL in seconds; False if the key is missing or a flag prevented it."""
        return self._expire("EXPIRE", key, _seconds(time), nx, xx, gt, lt)

    def pexpire(
        self,
        key: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool:
        """Set a TTL in milliseconds."""
        return self._expire("PEXPIRE", key, _millis(time), nx, xx, gt, lt)

    def expireat(
        self,
        key: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool:
        """Expire at a Unix time in seconds (or a datetime)."""
        return self._expire("EXPIREAT", key, _timestamp(when), nx, xx, gt, lt)

    def pexpireat(
        self,
        key: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool:
        """Expire at a Unix time in milliseconds (or a datetime)."""
        return self._expire("PEXPIREAT", key, _timestamp(when, 1000), nx, xx, gt, lt)

    def expiretime(self, key: KeyT) -> int:
        """The absolute Unix expiry time in seconds; -1 without a TTL, -2 if missing."""
        return self.execute_command("EXPIRETIME", key)

    def ttl(self, key: KeyT) -> int:
        """Seconds to live; -1 without a TTL, -2 if the key is missing."""
        return self.execute_command("TTL", key)

    def pttl(self, key: KeyT) -> int:
        """Milliseconds to live; -1 without a TTL, -2 if the key is missing."""
        return self.execute_command("PTTL", key)

    def persist(self, key: KeyT) -> bool:
        """Remove the TTL of ``key``."""
        return self.execute_command("PERSIST", key)

    def rename(self, src: KeyT, dst: KeyT) -> bool:
        """Rename a key (overwriting ``dst``)."""
        return self.execute_command("RENAME", src, dst)

    def renamenx(self, src: KeyT, dst: KeyT) -> bool:
        """Rename a key only if ``dst`` does not exist."""
        return self.execute_command("RENAMENX", src, dst)

    def copy(
        self,
        source: KeyT,
        destination: KeyT,
        destination_db: Optional[int] = None,
        replace: bool = False,
    ) -> bool:
        """Copy a key, optionally into another database."""
        args: List[EncodableT] = ["COPY", source, destination, *_optional("DB", destination_db)]
        return self.execute_command(*args, *_flags(replace=replace))

    def keys(self, pattern: KeyT = "*") -> List[str]:
        """Every key matching a glob pattern (prefer ``scan_iter`` on big databases)."""
        return self.execute_command("KEYS", pattern)

    def scan(
        self,
        cursor: int = 0,
        match: Optional[KeyT] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
    ) -> Tuple[int, List[str]]:
        """One SCAN step: ``(next cursor, keys)``; the cursor is 0 when done."""
        args: List[EncodableT] = [
            "SCAN",
            cursor,
            *_optional("MATCH", match),
            *_optional("COUNT", count),
        ]
        return self.execute_command(*args, *_optional("TYPE", _type))

    def scan_iter(
        self, match: Optional[KeyT] = None, count: Optional[int] = None, _type: Optional[str] = None
    ) -> Iterator[str]:
        """Iterate over all matching keys with SCAN (a key may be seen twice)."""
        cursor = None
        while cursor != 0:
            cursor, keys = self.scan(cursor or 0, match=match, count=count, _type=_type)
            yield from keys

    def randomkey(self) -> Optional[str]:
        """A random key, or None when the database is empty."""
        return self.execute_command("RANDOMKEY")

    def dbsize(self) -> int:
        """Number of keys in the current database."""
        return self.execute_command("DBSIZE")

    def flushdb(self, asynchronous: bool = False) -> bool:
        """Delete every key of the current database."""
        return self.execute_command("FLUSHDB", *(["ASYNC"] if asynchronous else []))

    def flushall(self, asynchronous: bool = False) -> bool:
        """Delete every key of every database."""
        return self.execute_command("FLUSHALL", *(["ASYNC"] if asynchronous else []))

    def select(self, index: int) -> bool:
        """Switch to database ``index``; kept across reconnections."""
        return self.execute_command("SELECT", index)

    @staticmethod
    def _sort_args(
        command: str,
        key: KeyT,
        by: Optional[KeyT],
        start: Optional[int],
        num: Optional[int],
        get: Optional[Union[KeyT, Iterable[KeyT]]],
        desc: bool,
        alpha: bool,
        groups: bool,
    ) -> Tuple[List[EncodableT], Optional[int]]:
        """SORT's arguments, and the number of GET patterns when ``groups``."""
        if (start is None) != (num is None):
            raise exc.DataError("sort takes both start and num, or neither")
        patterns = [] if get is None else _keys(get, ())
        if groups and len(patterns) < 2:
            raise exc.DataError("sort with groups=True needs at least two get patterns")
        args: List[EncodableT] = [command, key, *_optional("BY", by)]
        if start is not None and num is not None:
            args += ["LIMIT", start, num]
        for pattern in patterns:
            args += ["GET", pattern]
        return args + _flags(desc=desc, alpha=alpha), len(patterns) if groups else None

    def sort(
        self,
        key: KeyT,
        by: Optional[KeyT] = None,
        start: Optional[int] = None,
        num: Optional[int] = None,
        get: Optional[Union[KeyT, Iterable[KeyT]]] = None,
        desc: bool = False,
        alpha: bool = False,
        store: Optional[KeyT] = None,
        groups: bool = False,
    ) -> Any:
        """SORT the elements of a list, set or sorted set (as numbers unless ``alpha``).

        ``by``: sort by the values of other keys (``"weight_*"``, ``"user:*->age"``;
        ``"nosort"`` keeps the stored order); ``start``/``num``: LIMIT; ``get``:
        one pattern or a list, returning those values instead (``"#"``: the
        element itself; None where missing).  Returns the list, or with ``store``
        the number of elements saved as a list in that key.  ``groups`` (with
        several ``get`` patterns) returns one tuple per element.
        """
        args, size = self._sort_args("SORT", key, by, start, num, get, desc, alpha, groups)
        return self.execute_command(*args, *_optional("STORE", store), groups=size)

    def sort_ro(
        self,
        key: KeyT,
        by: Optional[KeyT] = None,
        start: Optional[int] = None,
        num: Optional[int] = None,
        get: Optional[Union[KeyT, Iterable[KeyT]]] = None,
        desc: bool = False,
        alpha: bool = False,
        groups: bool = False,
    ) -> List[Any]:
        """SORT_RO: :meth:`sort` without ``store`` (so allowed on read-only replicas)."""
        args, size = self._sort_args("SORT_RO", key, by, start, num, get, desc, alpha, groups)
        return self.execute_command(*args, groups=size)

    # -- server and connection ----------------------------------------------

    def ping(self) -> bool:
        """True when the server answers PONG."""
        return self.execute_command("PING")

    def echo(self, value: EncodableT) -> str:
        """The server's echo of ``value``."""
        return self.execute_command("ECHO", value)

    def info(self, section: Optional[str] = None) -> Dict[str, Any]:
        """INFO parsed into a dict (``{"redis_version": "7.0.15", ...}``)."""
        return self.execute_command("INFO", *([section] if section else []))

    def config_get(self, pattern: str = "*") -> Dict[str, str]:
        """Configuration parameters matching ``pattern``."""
        return self.execute_command("CONFIG", "GET", pattern)

    def config_set(self, name: str, value: EncodableT) -> bool:
        """Change a configuration parameter at run time."""
        return self.execute_command("CONFIG", "SET", name, value)

    def time(self) -> Tuple[int, int]:
        """The server time as ``(seconds, microseconds)``."""
        return self.execute_command("TIME")

    def client_id(self) -> int:
        """The server's id of this connection."""
        return self.execute_command("CLIENT", "ID")

    def client_setname(self, name: str) -> bool:
        """Name this connection (shown by CLIENT LIST)."""
        return self.execute_command("CLIENT", "SETNAME", name)

    def client_getname(self) -> Optional[str]:
        """This connection's name, or None."""
        return self.execute_command("CLIENT", "GETNAME")

    def client_list(self) -> List[Dict[str, str]]:
        """Connected clients, one dict of CLIENT LIST fields each."""
        return self.execute_command("CLIENT", "LIST")

    def client_unblock(self, client_id: int, error: bool = False) -> bool:
        """Wake a client blocked in BLPOP, XREAD... (found by :meth:`client_id`).

        Its command returns as on a timeout or, with ``error``, fails with an
        ``UNBLOCKED`` error.  False if that client is not blocked.
        """
        return self.execute_command("CLIENT", "UNBLOCK", client_id, *_flags(error=error))

    def wait(self, num_replicas: int, timeout_ms: int) -> int:
        """Wait until ``num_replicas`` replicas acknowledged this connection's writes,
        or ``timeout_ms`` milliseconds (0: forever); returns how many did."""
        return self.execute_command("WAIT", num_replicas, timeout_ms)

    def role(self) -> List[Any]:
        """ROLE: ``['master', offset, [[host, port, offset], ...]]`` on a primary,
        ``['slave', host, port, state, offset]`` on a replica."""
        return self.execute_command("ROLE")

    def publish(self, channel: KeyT, message: EncodableT) -> int:
        """Publish a message; returns how many subscribers received it."""
        return self.execute_command("PUBLISH", channel, message)

    # -- lists -------------------------------------------------------------

    def lpush(self, key: KeyT, *values: EncodableT) -> int:
        """Prepend values; returns the list's new length."""
        return self.execute_command("LPUSH", key, *values)

    def rpush(self, key: KeyT, *values: EncodableT) -> int:
        """Append values; returns the list's new length."""
        return self.execute_command("RPUSH", key, *values)

    def lpushx(self, key: KeyT, *values: EncodableT) -> int:
        """Prepend values only if the list exists; returns its length (0 if not)."""
        return self.execute_command("LPUSHX", key, *values)

    def rpushx(self, key: KeyT, *values: EncodableT) -> int:
        """Append values only if the list exists; returns its length (0 if not)."""
        return self.execute_command("RPUSHX", key, *values)

    def lpop(self, key: KeyT, count: Optional[int] = None) -> Any:
        """Pop from the head: one value (or None), or a list with ``count``."""
        return self.execute_command("LPOP", key, *([] if count is None else [count]))

    def rpop(self, key: KeyT, count: Optional[int] = None) -> Any:
        """Pop from the tail: one value (or None), or a list with ``count``."""
        return self.execute_command("RPOP", key, *([] if count is None else [count]))

    def llen(self, key: KeyT) -> int:
        """Length of the list."""
        return self.execute_command("LLEN", key)

    def lrange(self, key: KeyT, start: int, end: int) -> List[str]:
        """Elements between two inclusive indexes (negative from the end)."""
        return self.execute_command("LRANGE", key, start, end)

    def lindex(self, key: KeyT, index: int) -> Optional[str]:
        """The element at ``index``, or None."""
        return self.execute_command("LINDEX", key, index)

    def lset(self, key: KeyT, index: int, value: EncodableT) -> bool:
        """Replace the element at ``index``."""
        return self.execute_command("LSET", key, index, value)

    def linsert(self, key: KeyT, where: str, refvalue: EncodableT, value: EncodableT) -> int:
        """Insert ``value`` BEFORE or AFTER ``refvalue``; the new length, -1 if not found."""
        return self.execute_command("LINSERT", key, where, refvalue, value)

    def lpos(
        self,
        key: KeyT,
        value: EncodableT,
        rank: Optional[int] = None,
        count: Optional[int] = None,
        maxlen: Optional[int] = None,
    ) -> Any:
        """Index of ``value`` (None if absent), or a list of indexes with ``count``."""
        args: List[EncodableT] = ["LPOS", key, value, *_optional("RANK", rank)]
        args += [*_optional("COUNT", count), *_optional("MAXLEN", maxlen)]
        return self.execute_command(*args)

    def lrem(self, key: KeyT, count: int, value: EncodableT) -> int:
        """Remove ``count`` occurrences of ``value`` (0: all; negative: from the tail)."""
        return self.execute_command("LREM", key, count, value)

    def ltrim(self, key: KeyT, start: int, end: int) -> bool:
        """Keep only the elements between two inclusive indexes."""
        return self.execute_command("LTRIM", key, start, end)

    def blpop(
        self, keys: Union[KeyT, Iterable[KeyT]], timeout: float = 0
    ) -> Optional[Tuple[str, str]]:
        """Blocking pop from the first non-empty list: ``(key, value)`` or None on timeout."""
        return self.execute_command("BLPOP", *_keys(keys, ()), timeout)

    def brpop(
        self, keys: Union[KeyT, Iterable[KeyT]], timeout: float = 0
    ) -> Optional[Tuple[str, str]]:
        """Blocking pop from the tail: ``(key, value)`` or None on timeout."""
        return self.execute_command("BRPOP", *_keys(keys, ()), timeout)

    def lmove(
        self, source: KeyT, destination: KeyT, src: str = "LEFT", dest: str = "RIGHT"
    ) -> Optional[str]:
        """Pop from one end of ``source`` and push to ``destination``; returns the element."""
        return self.execute_command("LMOVE", source, destination, src, dest)

    def blmove(
        self,
        source: KeyT,
        destination: KeyT,
        timeout: float,
        src: str = "LEFT",
        dest: str = "RIGHT",
    ) -> Optional[str]:
        """LMOVE waiting up to ``timeout`` seconds (0: forever); None on timeout."""
        return self.execute_command("BLMOVE", source, destination, src, dest, timeout)

    def rpoplpush(self, src: KeyT, dst: KeyT) -> Optional[str]:
        """Move the tail of ``src`` to the head of ``dst`` (a reliable queue); the element."""
        return self.execute_command("RPOPLPUSH", src, dst)

    def brpoplpush(self, src: KeyT, dst: KeyT, timeout: float = 0) -> Optional[str]:
        """RPOPLPUSH waiting up to ``timeout`` seconds (0: forever); None on timeout."""
        return self.execute_command("BRPOPLPUSH", src, dst, timeout)

    # -- hashes ------------------------------------------------------------

    def hset(
        self,
        key: KeyT,
        field: Optional[KeyT] = None,
        value: Optional[EncodableT] = None,
        mapping: Optional[Mapping[KeyT, EncodableT]] = None,
    ) -> int:
        """Set one field and/or a mapping of fields; returns how many were added."""
        pairs: List[EncodableT] = [] if field is None or value is None else [field, value]
        for item in (mapping or {}).items():
            pairs += item
        if not pairs:
            raise exc.DataError("hset needs a field and value, or a mapping")
        return self.execute_command("HSET", key, *pairs)

    def hget(self, key: KeyT, field: KeyT) -> Optional[str]:
        """The value of a field, or None."""
        return self.execute_command("HGET", key, field)

    def hsetnx(self, key: KeyT, field: KeyT, value: EncodableT) -> bool:
        """Set a field only if it does not exist."""
        return self.execute_command("HSETNX", key, field, value)

    def hmget(
        self, key: KeyT, fields: Union[KeyT, Iterable[KeyT]], *args: KeyT
    ) -> List[Optional[str]]:
        """Values of several fields (None where missing)."""
        return self.execute_command("HMGET", key, *_keys(fields, args))

    def hgetall(self, key: KeyT) -> Dict[str, str]:
        """All fields and values as a dict."""
        return self.execute_command("HGETALL", key)

    def hdel(self, key: KeyT, *fields: KeyT) -> int:
        """Delete fields; returns how many existed."""
        return self.execute_command("HDEL", key, *fields)

    def hlen(self, key: KeyT) -> int:
        """Number of fields."""
        return self.execute_command("HLEN", key)

    def hexists(self, key: KeyT, field: KeyT) -> bool:
        """Whether the field exists."""
        return self.execute_command("HEXISTS", key, field)

    def hkeys(self, key: KeyT) -> List[str]:
        """All field names."""
        return self.execute_command("HKEYS", key)

    def hvals(self, key: KeyT) -> List[str]:
        """All values."""
        return self.execute_command("HVALS", key)

    def hincrby(self, key: KeyT, field: KeyT, amount: int = 1) -> int:
        """Add an integer to a field; returns the new value."""
        return self.execute_command("HINCRBY", key, field, amount)

    def hincrbyfloat(self, key: KeyT, field: KeyT, amount: float = 1.0) -> float:
        """Add a float to a field; returns the new value."""
        return self.execute_command("HINCRBYFLOAT", key, field, amount)

    def hstrlen(self, key: KeyT, field: KeyT) -> int:
        """Length of a field's value (0 if missing)."""
        return self.execute_command("HSTRLEN", key, field)

    # -- sets --------------------------------------------------------------

    def sadd(self, key: KeyT, *values: EncodableT) -> int:
        """Add members; returns how many were new."""
        return self.execute_command("SADD", key, *values)

    def srem(self, key: KeyT, *values: EncodableT) -> int:
        """Remove members; returns how many existed."""
        return self.execute_command("SREM", key, *values)

    def smembers(self, key: KeyT) -> Set[str]:
        """All members."""
        return self.execute_command("SMEMBERS", key)

    def sismember(self, key: KeyT, value: EncodableT) -> bool:
        """Whether ``value`` is a member."""
        return self.execute_command("SISMEMBER", key, value)

    def smismember(
        self, key: KeyT, values: Union[EncodableT, Iterable[EncodableT]], *args: EncodableT
    ) -> List[bool]:
        """Whether each value is a member."""
        first = [values] if isinstance(values, (str, bytes, int, float)) else list(values)
        return self.execute_command("SMISMEMBER", key, *first, *args)

    def smove(self, src: KeyT, dst: KeyT, value: EncodableT) -> bool:
        """Move a member from ``src`` to ``dst``; False if it was not in ``src``."""
        return self.execute_command("SMOVE", src, dst, value)

    def scard(self, key: KeyT) -> int:
        """Number of members."""
        return self.execute_command("SCARD", key)

    def sinter(self, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> Set[str]:
        """Intersection of sets."""
        return self.execute_command("SINTER", *_keys(keys, args))

    def sunion(self, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> Set[str]:
        """Union of sets."""
        return self.execute_command("SUNION", *_keys(keys, args))

    def sdiff(self, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> Set[str]:
        """Members of the first set that are in none of the others."""
        return self.execute_command("SDIFF", *_keys(keys, args))

    def sinterstore(self, dest: KeyT, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> int:
        """Store the intersection in ``dest``; returns its size."""
        return self.execute_command("SINTERSTORE", dest, *_keys(keys, args))

    def sunionstore(self, dest: KeyT, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> int:
        """Store the union in ``dest``; returns its size."""
        return self.execute_command("SUNIONSTORE", dest, *_keys(keys, args))

    def sdiffstore(self, dest: KeyT, keys: Union[KeyT, Iterable[KeyT]], *args: KeyT) -> int:
        """Store the difference in ``dest``; returns its size."""
        return self.execute_command("SDIFFSTORE", dest, *_keys(keys, args))

    def spop(self, key: KeyT, count: Optional[int] = None) -> Any:
        """Remove and return a random member, or a list of ``count`` members."""
        return self.execute_command("SPOP", key, *([] if count is None else [count]), count=count)

    def srandmember(self, key: KeyT, number: Optional[int] = None) -> Any:
        """A random member, or a list of ``number`` members (negative: may repeat)."""
        return self.execute_command(
            "SRANDMEMBER", key, *([] if number is None else [number]), count=number
        )

    # -- sorted sets ---------------------------------------------------------

    def zadd(
        self,
        key: KeyT,
        mapping: Mapping[EncodableT, ScoreT],
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
        ch: bool = False,
        incr: bool = False,
    ) -> Union[int, float, None]:
        """Add ``{member: score}``; returns the count added (or changed with ``ch``),
        or with ``incr`` the member's new score (None if a flag prevented it)."""
        if incr and len(mapping) != 1:
            raise exc.DataError("zadd with incr=True takes exactly one member")
        pairs: List[EncodableT] = []
        for member, score in mapping.items():
            pairs += [score, member]
        flags = _flags(nx=nx, xx=xx, gt=gt, lt=lt, ch=ch, incr=incr)
        return self.execute_command("ZADD", key, *flags, *pairs, incr=incr)

    def zincrby(self, key: KeyT, amount: float, value: EncodableT) -> float:
        """Add ``amount`` to a member's score; returns the new score."""
        return self.execute_command("ZINCRBY", key, amount, value)

    def zscore(self, key: KeyT, value: EncodableT) -> Optional[float]:
        """A member's score, or None."""
        return self.execute_command("ZSCORE", key, value)

    def zmscore(self, key: KeyT, members: Iterable[EncodableT]) -> List[Optional[float]]:
        """Scores of several members (None where missing)."""
        return self.execute_command("ZMSCORE", key, *members)

    def zrem(self, key: KeyT, *values: EncodableT) -> int:
        """Remove members; returns how many existed."""
        return self.execute_command("ZREM", key, *values)

    def zcard(self, key: KeyT) -> int:
        """Number of members."""
        return self.execute_command("ZCARD", key)

    def zcount(self, key: KeyT, min: ScoreT, max: ScoreT) -> int:
        """Number of members with a score in ``[min, max]`` (``"(1"`` excludes 1)."""
        return self.execute_command("ZCOUNT", key, min, max)

    def zrank(self, key: KeyT, value: EncodableT) -> Optional[int]:
        """0-based rank by ascending score, or None."""
        return self.execute_command("ZRANK", key, value)

    def zrevrank(self, key: KeyT, value: EncodableT) -> Optional[int]:
        """0-based rank by descending score, or None."""
        return self.execute_command("ZREVRANK", key, value)

    def zrange(
        self, key: KeyT, start: int, end: int, desc: bool = False, withscores: bool = False
    ) -> List[Any]:
        """Members by rank; ``(member, score)`` tuples with ``withscores``."""
        flags = _flags(rev=desc, withscores=withscores)
        return self.execute_command("ZRANGE", key, start, end, *flags, withscores=withscores)

    def zrevrange(self, key: KeyT, start: int, end: int, withscores: bool = False) -> List[Any]:
        """Members by descending rank."""
        flags = _flags(withscores=withscores)
        return self.execute_command("ZREVRANGE", key, start, end, *flags, withscores=withscores)

    def zrangebyscore(
        self,
        key: KeyT,
        min: ScoreT,
        max: ScoreT,
        start: Optional[int] = None,
        num: Optional[int] = None,
        withscores: bool = False,
    ) -> List[Any]:
        """Members with a score in ``[min, max]``, optionally ``LIMIT start num``."""
        args: List[EncodableT] = ["ZRANGEBYSCORE", key, min, max, *_flags(withscores=withscores)]
        if start is not None and num is not None:
            args += ["LIMIT", start, num]
        return self.execute_command(*args, withscores=withscores)

    def zrevrangebyscore(
        self,
        key: KeyT,
        max: ScoreT,
        min: ScoreT,
        start: Optional[int] = None,
        num: Optional[int] = None,
        withscores: bool = False,
    ) -> List[Any]:
        """Members with a score in ``[min, max]``, highest first."""
        args: List[EncodableT] = [
            "ZREVRANGEBYSCORE",
            key,
            max,
            min,
            *_flags(withscores=withscores),
        ]
        if start is not None and num is not None:
            args += ["LIMIT", start, num]
        return self.execute_command(*args, withscores=withscores)

    def zremrangebyrank(self, key: KeyT, min: int, max: int) -> int:
        """Remove the members between two ranks; returns how many."""
        return self.execute_command("ZREMRANGEBYRANK", key, min, max)

    def zremrangebyscore(self, key: KeyT, min: ScoreT, max: ScoreT) -> int:
        """Remove the members with a score in ``[min, max]``; returns how many."""
        return self.execute_command("ZREMRANGEBYSCORE", key, min, max)

    def _zstore(
        self,
        command: str,
        dest: KeyT,
        keys: Union[Iterable[KeyT], Mapping[KeyT, float]],
        aggregate: Optional[str],
    ) -> int:
        names = list(keys)
        args: List[EncodableT] = [command, dest, len(names), *names]
        if isinstance(keys, collections.abc.Mapping):
            args += ["WEIGHTS", *keys.values()]
        return self.execute_command(*args, *_optional("AGGREGATE", aggregate))

    def zunionstore(
        self,
        dest: KeyT,
        keys: Union[Iterable[KeyT], Mapping[KeyT, float]],
        aggregate: Optional[str] = None,
    ) -> int:
        """Store the union in ``dest`` (``{key: weight}`` for weights; SUM, MIN or MAX)."""
        return self._zstore("ZUNIONSTORE", dest, keys, aggregate)

    def zinterstore(
        self,
        dest: KeyT,
        keys: Union[Iterable[KeyT], Mapping[KeyT, float]],
        aggregate: Optional[str] = None,
    ) -> int:
        """Store the intersection in ``dest`` (``{key: weight}`` for weights)."""
        return self._zstore("ZINTERSTORE", dest, keys, aggregate)

    def zpopmin(self, key: KeyT, count: Optional[int] = None) -> List[Tuple[str, float]]:
        """Remove and return the lowest-scored members as ``(member, score)``."""
        return self.execute_command("ZPOPMIN", key, *([] if count is None else [count]))

    def zpopmax(self, key: KeyT, count: Optional[int] = None) -> List[Tuple[str, float]]:
        """Remove and return the highest-scored members as ``(member, score)``."""
        return self.execute_command("ZPOPMAX", key, *([] if count is None else [count]))

    def bzpopmin(
        self, keys: Union[KeyT, Iterable[KeyT]], timeout: float = 0
    ) -> Optional[Tuple[str, str, float]]:
        """Blocking ZPOPMIN: ``(key, member, score)``, or None on timeout."""
        return self.execute_command("BZPOPMIN", *_keys(keys, ()), timeout)

    def bzpopmax(
        self, keys: Union[KeyT, Iterable[KeyT]], timeout: float = 0
    ) -> Optional[Tuple[str, str, float]]:
        """Blocking ZPOPMAX: ``(key, member, score)``, or None on timeout."""
        return self.execute_command("BZPOPMAX", *_keys(keys, ()), timeout)

    # -- JSON ----------------------------------------------------------------

    def json_set(
        self, key: KeyT, path: str, obj: Any, nx: bool = False, xx: bool = False
    ) -> Optional[bool]:
        """Store ``obj`` (encoded with ``json.dumps``) at ``path``; None if NX/XX prevented it."""
        return self.execute_command("JSON.SET", key, path, json.dumps(obj), *_flags(nx=nx, xx=xx))

    def json_get(self, key: KeyT, *paths: str) -> Any:
        """The value at ``path`` decoded with ``json.loads``; None if ``key`` is missing.

        No path: the whole document.  A JSONPath (``$.address.city``) gives the
        list of its matches (``['Paris']``), a legacy path (``.address.city``)
        the first match (``'Paris'``), several paths a dict keyed by path.
        """
        return self.execute_command("JSON.GET", key, *paths)

    def json_del(self, key: KeyT, path: str = "$") -> int:
        """Delete the values at ``path``; returns how many."""
        return self.execute_command("JSON.DEL", key, path)

    def json_type(self, key: KeyT, path: Optional[str] = None) -> Any:
        """The JSON type name(s) at ``path``."""
        return self.execute_command("JSON.TYPE", key, *([path] if path else []))

    def json_arrappend(self, key: KeyT, path: str, *objs: Any) -> Any:
        """Append JSON-encoded values to the array(s) at ``path``; returns new length(s)."""
        return self.execute_command("JSON.ARRAPPEND", key, path, *(json.dumps(o) for o in objs))

    def json_numincrby(self, key: KeyT, path: str, number: Union[int, float]) -> Any:
        """Add ``number`` to the number(s) at ``path``; returns the new value(s)."""
        return self.execute_command("JSON.NUMINCRBY", key, path, number)

    def json_mget(self, keys: Iterable[KeyT], path: str) -> List[Any]:
        """The decoded value at ``path`` in each key (None where a key is missing)."""
        return self.execute_command("JSON.MGET", *keys, path)

    def json_arrlen(self, key: KeyT, path: str = "$") -> Any:
        """Length(s) of the array(s) at ``path`` (None where not an array)."""
        return self.execute_command("JSON.ARRLEN", key, path)

    def json_arrpop(self, key: KeyT, path: str = "$", index: int = -1) -> Any:
        """Remove and return (decoded) the element at ``index`` of the array(s)."""
        return self.execute_command("JSON.ARRPOP", key, path, index)

    def json_objkeys(self, key: KeyT, path: str = "$") -> Any:
        """Key names of the object(s) at ``path``."""
        return self.execute_command("JSON.OBJKEYS", key, path)

    def json_strlen(self, key: KeyT, path: str = "$") -> Any:
        """Length(s) of the string(s) at ``path``."""
        return self.execute_command("JSON.STRLEN", key, path)

    def json_toggle(self, key: KeyT, path: str) -> Any:
        """Flip the boolean(s) at ``path``; returns the new value(s) as bools."""
        return self.execute_command("JSON.TOGGLE", key, path)

    def json_clear(self, key: KeyT, path: str = "$") -> int:
        """Empty the arrays and objects, and zero the numbers, at ``path``; how many."""
        return self.execute_command("JSON.CLEAR", key, path)

    # -- streams -------------------------------------------------------------

    def xadd(
        self,
        key: KeyT,
        fields: Mapping[KeyT, EncodableT],
        id: StreamIdT = "*",
        maxlen: Optional[int] = None,
        approximate: bool = True,
        nomkstream: bool = False,
    ) -> str:
        """Append an entry; returns its id."""
        args: List[EncodableT] = ["XADD", key, *_flags(nomkstream=nomkstream)]
        if maxlen is not None:
            args += ["MAXLEN", *(["~"] if approximate else []), maxlen]
        args.append(id)
        for item in fields.items():
            args += item
        return self.execute_command(*args)

    def xlen(self, key: KeyT) -> int:
        """Number of entries."""
        return self.execute_command("XLEN", key)

    def xrange(
        self, key: KeyT, min: StreamIdT = "-", max: StreamIdT = "+", count: Optional[int] = None
    ) -> List[Tuple[str, Dict[str, str]]]:
        """Entries with ids in ``[min, max]`` as ``(id, fields)``."""
        return self.execute_command("XRANGE", key, min, max, *_optional("COUNT", count))

    def xrevrange(
        self, key: KeyT, max: StreamIdT = "+", min: StreamIdT = "-", count: Optional[int] = None
    ) -> List[Tuple[str, Dict[str, str]]]:
        """Entries from ``max`` down to ``min`` as ``(id, fields)``."""
        return self.execute_command("XREVRANGE", key, max, min, *_optional("COUNT", count))

    @staticmethod
    def _read_args(
        streams: Mapping[KeyT, StreamIdT], count: Optional[int], block: Optional[int]
    ) -> List[EncodableT]:
        if not streams:
            raise exc.DataError("streams must name at least one stream")
        return [
            *_optional("COUNT", count),
            *_optional("BLOCK", block),
            "STREAMS",
            *streams.keys(),
            *streams.values(),
        ]

    def xread(
        self,
        streams: Mapping[KeyT, StreamIdT],
        count: Optional[int] = None,
        block: Optional[int] = None,
    ) -> List[List[Any]]:
        """Entries after the given ids: ``[[stream, [(id, fields), ...]], ...]``.

        ``block`` waits up to that many milliseconds (0: forever); [] on timeout.
        """
        return self.execute_command("XREAD", *self._read_args(streams, count, block))

    def xgroup_create(
        self, key: KeyT, groupname: str, id: StreamIdT = "$", mkstream: bool = False
    ) -> bool:
        """Create a consumer group starting after ``id`` (``$``: new entries only)."""
        return self.execute_command(
            "XGROUP", "CREATE", key, groupname, id, *_flags(mkstream=mkstream)
        )

    def xgroup_destroy(self, key: KeyT, groupname: str) -> bool:
        """Delete a consumer group; False if it did not exist."""
        return self.execute_command("XGROUP", "DESTROY", key, groupname)

    def xreadgroup(
        self,
        groupname: str,
        consumername: str,
        streams: Mapping[KeyT, StreamIdT],
        count: Optional[int] = None,
        block: Optional[int] = None,
        noack: bool = False,
    ) -> List[List[Any]]:
        """Read as a group consumer (id ``>``: never-delivered entries); shaped like xread."""
        args: List[EncodableT] = [
            "XREADGROUP",
            "GROUP",
            groupname,
            consumername,
            *_flags(noack=noack),
        ]
        return self.execute_command(*args, *self._read_args(streams, count, block))

    def xack(self, key: KeyT, groupname: str, *ids: StreamIdT) -> int:
        """Acknowledge entries; returns how many were pending."""
        return self.execute_command("XACK", key, groupname, *ids)

    def xdel(self, key: KeyT, *ids: StreamIdT) -> int:
        """Delete entries; returns how many existed."""
        return self.execute_command("XDEL", key, *ids)

    def xtrim(
        self,
        key: KeyT,
        maxlen: Optional[int] = None,
        approximate: bool = True,
        minid: Optional[StreamIdT] = None,
    ) -> int:
        """Trim by length (MAXLEN) or by id (MINID); returns how many entries went."""
        threshold: StreamIdT
        if maxlen is not None and minid is None:
            strategy, threshold = "MAXLEN", maxlen
        elif minid is not None and maxlen is None:
            strategy, threshold = "MINID", minid
        else:
            raise exc.DataError("xtrim takes exactly one of maxlen and minid")
        return self.execute_command(
            "XTRIM", key, strategy, *(["~"] if approximate else []), threshold
        )
