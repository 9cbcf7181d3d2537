"""A single socket to the server: handshake, request/reply, reconnection."""

from __future__ import annotations

import select
import socket
import ssl as _ssl
import threading
from typing import Any, List, Optional

from . import exceptions as exc
from .resp import EncodableT, RespReader, pack_command

_CHUNK = 65536


class Connection:
    """One connection, opened lazily and reopened once when it breaks.

    After (re)connecting it authenticates, switches to RESP3 when
    ``protocol=3`` and selects ``db``.  Requests are serialized by a lock, so
    the connection may be shared by threads (one request at a time).
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6380,
        username: Optional[str] = None,
        password: Optional[str] = None,
        db: int = 0,
        ssl: bool = False,
        ssl_context: Optional[_ssl.SSLContext] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        decode_responses: bool = True,
        protocol: int = 2,
    ) -> None:
        if protocol not in (2, 3):
            raise ValueError("protocol must be 2 or 3, not %r" % (protocol,))
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.db = db
        self.ssl = ssl or ssl_context is not None
        self.ssl_context = ssl_context
        self.socket_timeout = socket_timeout
        self.socket_connect_timeout = (
            socket_timeout if socket_connect_timeout is None else socket_connect_timeout
        )
        self.decode_responses = decode_responses
        self.protocol = protocol
        self._sock: Optional[socket.socket] = None
        self._reader: Optional[RespReader] = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "<Connection %s:%s db=%s>" % (self.host, self.port, self.db)

    @property
    def is_connected(self) -> bool:
        """True while a socket is open."""
        return self._sock is not None

    def connect(self) -> None:
        """Open the socket (if closed) and run the handshake."""
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=self.socket_connect_timeout
            )
        except socket.timeout as e:
            raise exc.TimeoutError("Timeout connecting to %s:%s" % (self.host, self.port)) from e
        except OSError as e:
            raise exc.ConnectionError(
                "Error connecting to %s:%s: %s" % (self.host, self.port, e)
            ) from e
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.socket_timeout)
            if self.ssl:
                context = self.ssl_context or _ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
        except OSError as e:
            sock.close()
            raise exc.ConnectionError(
                "Error setting up %s:%s: %s" % (self.host, self.port, e)
            ) from e
        self._sock = sock
        self._reader = RespReader(self._recv, decode_responses=self.decode_responses)
        try:
            self._handshake()
        except BaseException:
            self.disconnect()
            raise

    def disconnect(self) -> None:
        """Close the socket; the next request reconnects."""
        sock, self._sock, self._reader = self._sock, None, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def request(self, payload: bytes, replies: int = 1) -> List[Any]:
        """Send ``payload`` in one write and read ``replies`` replies.

        Error replies are returned as exception instances.  When the socket
        turns out to be broken before any reply was read, the connection is
        reopened (re-AUTH, re-SELECT) and the payload sent once more; as with
        other Redis clients, a command whose reply was lost may so run twice.
        """
        with self._lock:
            for attempt in (1, 2):
                received: List[Any] = []
                try:
                    if self._sock is not None and self._closed_by_peer():
                        self.disconnect()
                    self.connect()
                    self._send(payload)
                    assert self._reader is not None
                    while len(received) < replies:
                        received.append(self._reader.read_response())
                    return received
                except exc.TimeoutError:
                    self.disconnect()
                    raise
                except exc.ConnectionError:
                    self.disconnect()
                    if attempt == 2 or received:
                        raise
                except BaseException:  # unknown state: never reuse the socket
                    self.disconnect()
                    raise
        raise AssertionError("unreachable")

    # -- internals ---------------------------------------------------------

    def _handshake(self) -> None:
        commands: List[List[EncodableT]] = []
        if self.protocol == 3:
            hello: List[EncodableT] = ["HELLO", 3]
            if self.password is not None:
                hello += ["AUTH", self.username or "default", self.password]
            commands.append(hello)
        elif self.password is not None:
            credentials = (
                [self.password] if self.username is None else [self.username, self.password]
            )
            commands.append(["AUTH", *credentials])
        if self.db:
            commands.append(["SELECT", self.db])
        if not commands:
            return
        self._send(b"".join(pack_command(*c) for c in commands))
        assert self._reader is not None
        replies = [self._reader.read_response() for _ in commands]
        for reply in replies:
            if isinstance(reply, exc.ResponseError):
                raise reply

    def _send(self, payload: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(payload)
        except socket.timeout as e:
            raise exc.TimeoutError("Timeout writing to %s:%s" % (self.host, self.port)) from e
        except OSError as e:
            raise exc.ConnectionError(
                "Error writing to %s:%s: %s" % (self.host, self.port, e)
            ) from e

    def _recv(self) -> bytes:
        assert self._sock is not None
        try:
            return self._sock.recv(_CHUNK)
        except socket.timeout as e:
            raise exc.TimeoutError("Timeout reading from %s:%s" % (self.host, self.port)) from e
        except OSError as e:
            raise exc.ConnectionError(
                "Error reading from %s:%s: %s" % (self.host, self.port, e)
            ) from e

    def _closed_by_peer(self) -> bool:
        """Whether the idle socket was closed by the server (CLIENT KILL, timeout).

        Only plain sockets are probed: peeking is not possible through TLS,
        where a dead socket is instead detected when the request fails.
        """
        sock = self._sock
        if sock is None or isinstance(sock, _ssl.SSLSocket):
            return False
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                readable = bool(poller.poll(0))
            else:  # pragma: no cover - Windows
                readable = bool(select.select([sock], [], [], 0)[0])
            return readable and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True
