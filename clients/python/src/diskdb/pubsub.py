"""Publish/subscribe: :class:`PubSub` holds a dedicated connection that
receives the messages of the channels and patterns it subscribed to."""

from __future__ import annotations

import select
from typing import Any, Dict, Iterator, Optional

from . import exceptions as exc
from .connection import Connection
from .resp import EncodableT, pack_command


class PubSub:
    """Subscriptions on a connection of their own (made by :meth:`DiskDB.pubsub`).

    Confirmations and messages are returned as dicts with ``type``
    (``subscribe``, ``message``, ``pmessage``, ``smessage``, ...), ``pattern``,
    ``channel`` and ``data``.

    >>> ps = db.pubsub()
    >>> ps.subscribe("news")
    >>> ps.get_message(timeout=1.0)["type"]
    'subscribe'
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __enter__(self) -> "PubSub":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (and so leave every subscription)."""
        self.connection.disconnect()

    def execute_command(self, *args: EncodableT) -> None:
        """Send a command; its confirmations arrive through :meth:`get_message`."""
        self.connection.connect()
        self.connection._send(pack_command(*args))

    def subscribe(self, *channels: EncodableT) -> None:
        """SUBSCRIBE to channels."""
        self.execute_command("SUBSCRIBE", *channels)

    def psubscribe(self, *patterns: EncodableT) -> None:
        """PSUBSCRIBE to glob-style patterns."""
        self.execute_command("PSUBSCRIBE", *patterns)

    def ssubscribe(self, *channels: EncodableT) -> None:
        """SSUBSCRIBE to shard channels."""
        self.execute_command("SSUBSCRIBE", *channels)

    def unsubscribe(self, *channels: EncodableT) -> None:
        """UNSUBSCRIBE from channels (all of them when none is given)."""
        self.execute_command("UNSUBSCRIBE", *channels)

    def punsubscribe(self, *patterns: EncodableT) -> None:
        """PUNSUBSCRIBE from patterns (all of them when none is given)."""
        self.execute_command("PUNSUBSCRIBE", *patterns)

    def get_message(self, timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """The next confirmation or message, waiting up to ``timeout`` seconds
        (forever with ``None``); ``None`` if nothing arrived."""
        conn = self.connection
        conn.connect()
        reader = conn._reader
        assert reader is not None and conn._sock is not None
        if not reader.has_buffered_data:
            ready, _, _ = select.select([conn._sock], [], [], timeout)
            if not ready:
                return None
        reply = reader.read_response()
        if isinstance(reply, exc.ResponseError):
            raise reply
        return _message(reply)

    def listen(self) -> Iterator[Dict[str, Any]]:
        """Yield confirmations and messages as they arrive."""
        while True:
            message = self.get_message(timeout=None)
            if message is not None:
                yield message


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _message(reply: Any) -> Dict[str, Any]:
    """A message frame as a dict; other replies (PING's) under ``data``."""
    if not isinstance(reply, list) or not reply:
        return {"type": None, "pattern": None, "channel": None, "data": reply}
    kind = _text(reply[0])
    if kind == "pmessage":
        return {"type": kind, "pattern": reply[1], "channel": reply[2], "data": reply[3]}
    return {"type": kind, "pattern": None, "channel": reply[1], "data": reply[2]}
