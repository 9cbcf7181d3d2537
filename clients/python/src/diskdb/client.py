"""The :class:`DiskDB` client and its :class:`Pipeline`."""

from __future__ import annotations

import ssl as _ssl
from types import TracebackType
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

from . import exceptions as exc
from .callbacks import command_key, convert
from .commands import Commands
from .connection import Connection
from .pubsub import PubSub
from .resp import EncodableT, pack_command


class DiskDB(Commands):
    """A client for DiskDB (or any Redis-compatible server).

    The connection is opened on the first command and reopened once if it
    breaks.  Replies are ``str`` by default, ``bytes`` with
    ``decode_responses=False``; ``protocol=3`` speaks RESP3 (same results).
    Commands from several threads are serialized on the one connection.

    >>> with DiskDB(port=6380) as db:
    ...     db.set("greeting", "hello")
    ...     db.get("greeting")
    True
    'hello'
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6380,
        password: Optional[str] = None,
        db: int = 0,
        ssl: bool = False,
        ssl_context: Optional[_ssl.SSLContext] = None,
        socket_timeout: Optional[float] = None,
        decode_responses: bool = True,
        protocol: int = 2,
        username: Optional[str] = None,
        socket_connect_timeout: Optional[float] = None,
    ) -> None:
        self.connection = Connection(
            host=host,
            port=port,
            username=username,
            password=password,
            db=db,
            ssl=ssl,
            ssl_context=ssl_context,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            decode_responses=decode_responses,
            protocol=protocol,
        )

    def __repr__(self) -> str:
        conn = self.connection
        return "DiskDB<%s:%s db=%s>" % (conn.host, conn.port, conn.db)

    def __enter__(self) -> "DiskDB":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later command opens a new one)."""
        self.connection.disconnect()

    def execute_command(self, *args: EncodableT, **options: Any) -> Any:
        """Send any command and return its reply, converted as the command methods do.

        Raises :class:`~diskdb.ResponseError` (or a subclass) on an error reply.
        """
        reply = self._finish(args, self.connection.request(pack_command(*args))[0], options)
        if isinstance(reply, exc.ResponseError):
            raise reply
        return reply

    def pubsub(self) -> PubSub:
        """A :class:`~diskdb.pubsub.PubSub` on a new connection with this client's settings."""
        c = self.connection
        return PubSub(
            Connection(
                host=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                db=c.db,
                ssl=c.ssl,
                ssl_context=c.ssl_context,
                socket_timeout=c.socket_timeout,
                socket_connect_timeout=c.socket_connect_timeout,
                decode_responses=c.decode_responses,
                protocol=c.protocol,
            )
        )

    def pipeline(self, transaction: bool = False) -> "Pipeline":
        """A pipeline sending queued commands in one write (MULTI/EXEC with ``transaction``)."""
        return Pipeline(self, transaction)

    def _finish(self, args: Sequence[Any], reply: Any, options: Dict[str, Any]) -> Any:
        """Convert one reply; error replies are returned untouched."""
        if isinstance(reply, exc.ResponseError):
            return reply
        if command_key(args) == "SELECT":
            self.connection.db = int(args[1])  # re-selected after a reconnect
        return convert(args, reply, options)


class Pipeline(Commands):
    """Queues commands and sends them all in one write on :meth:`execute`.

    Command methods return the pipeline, so calls can be chained.  With
    ``transaction=True`` the batch is wrapped in MULTI/EXEC and runs atomically.

    >>> with db.pipeline() as pipe:
    ...     pipe.incr("hits").expire("hits", 60).execute()
    [1, True]
    """

    def __init__(self, client: DiskDB, transaction: bool = False) -> None:
        self.client = client
        self.transaction = transaction
        self._queue: List[Tuple[Tuple[EncodableT, ...], Dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._queue)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.reset()

    def reset(self) -> None:
        """Drop the queued commands."""
        self._queue = []

    def execute_command(self, *args: EncodableT, **options: Any) -> "Pipeline":
        """Queue a command; its reply comes back from :meth:`execute`."""
        self._queue.append((args, options))
        return self

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queue in one write and return the replies in order.

        An error reply raises (the first one) unless ``raise_on_error`` is
        False, in which case the exception takes the command's place.
        """
        queue, self._queue = self._queue, []
        if not queue:
            return []
        commands = [args for args, _ in queue]
        if self.transaction:
            commands = [("MULTI",), *commands, ("EXEC",)]
        payload = b"".join(pack_command(*args) for args in commands)
        replies = self.client.connection.request(payload, len(commands))
        if self.transaction:
            replies = self._exec_results(replies)
        results = [
            self.client._finish(args, reply, options)
            for (args, options), reply in zip(queue, replies)
        ]
        if raise_on_error:
            for result in results:
                if isinstance(result, exc.ResponseError):
                    raise result
        return results

    @staticmethod
    def _exec_results(replies: List[Any]) -> List[Any]:
        """The replies of the queued commands from MULTI, QUEUED..., EXEC."""
        exec_reply = replies[-1]
        if isinstance(exec_reply, exc.ResponseError):  # EXECABORT: a command was rejected
            queued_errors = [r for r in replies[1:-1] if isinstance(r, exc.ResponseError)]
            raise queued_errors[0] if queued_errors else exec_reply
        if exec_reply is None:
            raise exc.TransactionAbortedError("Transaction aborted: a WATCHed key changed")
        return exec_reply
