"""Connection handshake and reconnection against a scripted fake server (no real server)."""

from __future__ import annotations

import socket
import threading
from typing import Callable, Iterator, List, Optional, Tuple

import pytest

from diskdb import AuthenticationError, ConnectionError, DiskDB, DiskDBError, RespReader

# A handler gets (connection number from 1, command) and returns the reply bytes
# and whether to close the connection after sending them (None: close at once).
Handler = Callable[[int, List[str]], Tuple[Optional[bytes], bool]]


class FakeServer:
    """Accepts connections one at a time, records their commands, replies via a handler."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections: List[List[List[str]]] = []
        self.closed = threading.Event()  # set whenever the server closes a connection
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            commands: List[List[str]] = []
            self.connections.append(commands)
            with conn:
                self._handle(conn, commands)
            self.closed.set()

    def _handle(self, conn: socket.socket, commands: List[List[str]]) -> None:
        reader = RespReader(lambda: conn.recv(4096))
        while True:
            try:
                command = reader.read_response()
            except DiskDBError:
                return
            commands.append(command)
            reply, close = self.handler(len(self.connections), command)
            if reply is not None:
                conn.sendall(reply)
            if reply is None or close:
                return

    def stop(self) -> None:
        self._listener.close()


FakeFactory = Callable[[Handler], FakeServer]


@pytest.fixture
def fake() -> Iterator[FakeFactory]:
    """Starts fake servers, stopped after the test."""
    servers: List[FakeServer] = []

    def start(handler: Handler) -> FakeServer:
        server = FakeServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


OK = b"+OK\r\n"


def test_reconnects_when_reply_is_lost_and_reauthenticates(fake: FakeFactory) -> None:
    def handler(conn_no: int, command: List[str]) -> Tuple[Optional[bytes], bool]:
        if command[0] == "PING":
            return (None, True) if conn_no == 1 else (b"+PONG\r\n", False)
        return OK, False

    server = fake(handler)
    with DiskDB(port=server.port, password="secret", db=3) as db:
        assert db.ping() is True
    handshake = [["AUTH", "secret"], ["SELECT", "3"]]
    assert server.connections == [handshake + [["PING"]], handshake + [["PING"]]]


def test_detects_socket_closed_by_server_before_sending(fake: FakeFactory) -> None:
    def handler(conn_no: int, command: List[str]) -> Tuple[Optional[bytes], bool]:
        return b"$1\r\n%d\r\n" % conn_no, True  # reply, then close (like CLIENT KILL)

    server = fake(handler)
    with DiskDB(port=server.port) as db:
        assert db.get("k") == "1"
        assert server.closed.wait(5)
        assert db.get("k") == "2"
    assert server.connections == [[["GET", "k"]], [["GET", "k"]]]  # no lost request


def test_gives_up_after_one_reconnection(fake: FakeFactory) -> None:
    server = fake(lambda conn_no, command: (None, True))
    with DiskDB(port=server.port) as db, pytest.raises(ConnectionError):
        db.ping()
    assert len(server.connections) == 2


def test_select_is_remembered_for_reconnection(fake: FakeFactory) -> None:
    def handler(conn_no: int, command: List[str]) -> Tuple[Optional[bytes], bool]:
        return OK, command[0] == "SELECT" and conn_no == 1

    server = fake(handler)
    with DiskDB(port=server.port) as db:
        assert db.select(5) is True
        assert server.closed.wait(5)
        assert db.set("k", "v") is True
    assert server.connections == [[["SELECT", "5"]], [["SELECT", "5"], ["SET", "k", "v"]]]


def test_resp3_handshake_sends_hello_with_auth(fake: FakeFactory) -> None:
    def handler(conn_no: int, command: List[str]) -> Tuple[Optional[bytes], bool]:
        if command[0] == "HELLO":
            return b"%2\r\n+server\r\n+fake\r\n+proto\r\n:3\r\n", False
        return b"%1\r\n+f\r\n+v\r\n", False

    server = fake(handler)
    with DiskDB(port=server.port, password="pw", protocol=3) as db:
        assert db.hgetall("h") == {"f": "v"}
    assert server.connections == [[["HELLO", "3", "AUTH", "default", "pw"], ["HGETALL", "h"]]]


def test_wrong_password_raises_authentication_error(fake: FakeFactory) -> None:
    server = fake(
        lambda conn_no, command: (b"-WRONGPASS invalid username-password pair\r\n", False)
    )
    with DiskDB(port=server.port, password="bad") as db, pytest.raises(AuthenticationError):
        db.ping()
    assert len(server.connections) == 1  # authentication errors are not retried


def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        with DiskDB(port=port, socket_connect_timeout=2) as db, pytest.raises(ConnectionError):
            db.ping()
    assert issubclass(ConnectionError, DiskDBError)


def test_invalid_protocol_is_rejected() -> None:
    with pytest.raises(ValueError):
        DiskDB(protocol=4)
