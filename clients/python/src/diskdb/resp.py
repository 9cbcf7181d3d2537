"""The RESP2/RESP3 wire format: command encoding and a buffered reply reader."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Union

from . import exceptions as exc

#: Values accepted as command arguments.
EncodableT = Union[bytes, bytearray, memoryview, str, int, float]

_CRLF = b"\r\n"


def encode_arg(value: EncodableT) -> bytes:
    """Encode one command argument: str as UTF-8, numbers in decimal."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool):  # before int: bool is an int subclass
        raise exc.DataError("Invalid argument type bool: convert it to int or str first")
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, float):
        return repr(value).encode("ascii")
    raise exc.DataError(
        "Invalid argument type %s: convert it to bytes, str, int or float first"
        % type(value).__name__
    )


def pack_command(*args: EncodableT) -> bytes:
    """Encode a command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = encode_arg(arg)
        parts += (b"$%d\r\n" % len(data), data, _CRLF)
    return b"".join(parts)


class PushMessage(List[Any]):
    """A RESP3 out-of-band push (``>``), such as a pub/sub message."""


def _hashable(value: Any) -> Any:
    """Make a reply usable as a dict key or set member (lists become tuples)."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, set):
        return frozenset(value)
    return value


class RespReader:
    """Parses replies from a byte source, reading it in chunks into a buffer.

    ``recv`` returns the next chunk of bytes (``b""`` at end of stream).  Error
    replies are returned as :class:`~diskdb.exceptions.ResponseError` instances,
    not raised, so that replies nested in arrays (EXEC, pipelines) survive.
    """

    def __init__(
        self,
        recv: Callable[[], bytes],
        decode_responses: bool = True,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
    ) -> None:
        self._recv = recv
        self._buf = bytearray()
        self._pos = 0
        self._decode = decode_responses
        self._encoding = encoding
        self._errors = encoding_errors
        self._handlers: Dict[int, Callable[[bytes], Any]] = {
            ord("+"): self._text,
            ord("-"): self._error,
            ord(":"): int,
            ord("$"): self._bulk,
            ord("*"): self._array,
            ord("_"): lambda _: None,
            ord(","): float,  # float() accepts b"inf", b"-inf" and b"nan"
            ord("#"): self._boolean,
            ord("="): self._verbatim,
            ord("("): int,
            ord("!"): self._blob_error,
            ord("%"): self._map,
            ord("~"): self._set,
            ord(">"): self._push,
            ord("|"): self._attribute,
        }

    def read_response(self) -> Any:
        """Read one complete reply, pulling more chunks as needed."""
        try:
            return self._read()
        except (ValueError, IndexError) as e:
            raise exc.ProtocolError("Malformed reply: %s" % e) from e

    @property
    def has_buffered_data(self) -> bool:
        """True when bytes beyond the last reply are waiting in the buffer."""
        return self._pos < len(self._buf)

    # -- buffer ------------------------------------------------------------

    def _fill(self) -> None:
        chunk = self._recv()
        if not chunk:
            raise exc.ConnectionError("Connection closed by server")
        if self._pos:  # drop what was consumed before growing the buffer
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += chunk

    def _readline(self) -> bytes:
        scanned = 0  # bytes after _pos already known not to hold CRLF
        while True:
            end = self._buf.find(_CRLF, self._pos + scanned)
            if end >= 0:
                line = bytes(self._buf[self._pos : end])
                self._pos = end + 2
                return line
            scanned = max(0, len(self._buf) - self._pos - 1)
            self._fill()

    def _read_exact(self, length: int) -> bytes:
        """Read a payload of ``length`` bytes and its trailing CRLF."""
        while len(self._buf) - self._pos < length + 2:
            self._fill()
        end = self._pos + length
        if self._buf[end : end + 2] != _CRLF:
            raise exc.ProtocolError("Bulk payload not terminated by CRLF")
        data = bytes(self._buf[self._pos : end])
        self._pos = end + 2
        return data

    # -- reply types -------------------------------------------------------

    def _read(self) -> Any:
        line = self._readline()
        if not line:
            raise exc.ProtocolError("Empty reply line")
        handler = self._handlers.get(line[0])
        if handler is None:
            raise exc.ProtocolError("Unknown reply type %r" % line[:1])
        return handler(line[1:])

    def _text(self, data: bytes) -> Union[str, bytes]:
        return data.decode(self._encoding, self._errors) if self._decode else data

    def _error(self, data: bytes) -> exc.ResponseError:
        return exc.error_from_message(data.decode(self._encoding, "replace"))

    def _bulk(self, header: bytes) -> Union[str, bytes, None]:
        length = int(header)
        return None if length < 0 else self._text(self._read_exact(length))

    def _blob_error(self, header: bytes) -> exc.ResponseError:
        return self._error(self._read_exact(int(header)))

    def _verbatim(self, header: bytes) -> Union[str, bytes]:
        return self._text(self._read_exact(int(header))[4:])  # drop "txt:"

    @staticmethod
    def _boolean(data: bytes) -> bool:
        if data not in (b"t", b"f"):
            raise exc.ProtocolError("Invalid boolean %r" % data)
        return data == b"t"

    def _items(self, header: bytes) -> List[Any]:
        return [self._read() for _ in range(int(header))]

    def _array(self, header: bytes) -> Union[List[Any], None]:
        return None if int(header) < 0 else self._items(header)

    def _map(self, header: bytes) -> Dict[Any, Any]:
        items = self._items(b"%d" % (2 * int(header)))
        return {_hashable(k): v for k, v in zip(items[::2], items[1::2])}

    def _set(self, header: bytes) -> Any:
        return {_hashable(item) for item in self._items(header)}

    def _push(self, header: bytes) -> PushMessage:
        return PushMessage(self._items(header))

    def _attribute(self, header: bytes) -> Any:
        self._map(header)  # attributes are metadata about the next reply
        return self._read()
