"""Fixtures: the server under test, started once per session.

The server is the executable named by ``DISKDB_SERVER`` (run as
``$DISKDB_SERVER --port N --dir DIR --shards 2``).  Only when that is unset
and ``DISKDB_TEST_AGAINST_REDIS=1`` is set, ``redis-server --port N --dir DIR
--save ''`` stands in.  With neither, every test that needs a server fails
with an explanation; the parser unit tests still run.

Tests marked ``needs_json`` / ``needs_streams`` are skipped only when the
server answers ``ERR unknown command`` to JSON.GET / XADD (probed once).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable, Dict, Iterator, List, Optional

import pytest

from diskdb import DiskDB, DiskDBError, ResponseError

START_TIMEOUT = 60.0  # seconds; a fresh RocksDB-backed server may take a while

NO_SERVER_MESSAGE = (
    "No server to test against: set DISKDB_SERVER to the DiskDB server executable "
    "(it is run as `$DISKDB_SERVER --port N --dir DIR --shards 2`), or set "
    "DISKDB_TEST_AGAINST_REDIS=1 to test against redis-server instead."
)

PROBES = {
    "needs_json": ("JSON.GET", "diskdb-capability-probe"),
    "needs_streams": ("XADD", "diskdb-capability-probe", "NOMKSTREAM", "*", "f", "v"),
    "needs_transactions": ("DISCARD",),
    "needs_pubsub": ("PUBLISH", "diskdb-capability-probe", "x"),
}


class Server:
    """A running server process on 127.0.0.1."""

    def __init__(self, command: List[str], port: int, data_dir: str) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "server.log")
        self.unsupported: Dict[str, Optional[str]] = {}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def client(self, **kwargs: object) -> DiskDB:
        """A new client of this server."""
        return DiskDB(host=self.host, port=self.port, **kwargs)  # type: ignore[arg-type]

    def wait_ready(self) -> bool:
        """True once the server answers PING; False if the process exited."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with self.client(socket_timeout=2) as probe:
                    if probe.ping():
                        return True
            except DiskDBError:
                time.sleep(0.05)
        raise RuntimeError(
            "server did not answer PING within %ss:\n%s" % (START_TIMEOUT, self.log())
        )

    def log(self) -> str:
        """The tail of the server's output."""
        with open(self.log_path, "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def unsupported_reason(self, marker: str) -> Optional[str]:
        """Why tests with ``marker`` cannot run here, or None (probed once)."""
        if marker not in self.unsupported:
            self.unsupported[marker] = None
            with self.client() as probe:
                try:
                    probe.execute_command(*PROBES[marker])
                except ResponseError as e:
                    if str(e).startswith("ERR unknown command"):
                        self.unsupported[marker] = "server lacks %s: %s" % (PROBES[marker][0], e)
        return self.unsupported[marker]


def free_port() -> int:
    """An ephemeral TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, data_dir: str) -> List[str]:
    """The command line of the server under test (see the module docstring)."""
    executable = os.environ.get("DISKDB_SERVER")
    if executable:
        if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
            pytest.fail("DISKDB_SERVER=%s is not an executable file" % executable, pytrace=False)
        return [executable, "--port", str(port), "--dir", data_dir, "--shards", "2"]
    if os.environ.get("DISKDB_TEST_AGAINST_REDIS") == "1":
        redis = shutil.which("redis-server")
        if redis is None:
            pytest.fail(
                "DISKDB_TEST_AGAINST_REDIS=1 but redis-server is not on PATH", pytrace=False
            )
        return [redis, "--port", str(port), "--dir", data_dir, "--save", ""]
    pytest.fail(NO_SERVER_MESSAGE, pytrace=False)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The server under test, shared by the whole session."""
    server_command(0, "")  # fails early, with the explanation, when nothing is configured
    data_root = tempfile.mkdtemp(prefix="diskdb-pytest-")
    try:
        for attempt in range(3):  # the port may be taken between probe and bind
            data_dir = os.path.join(data_root, "run%d" % attempt)
            os.mkdir(data_dir)
            port = free_port()
            srv = Server(server_command(port, data_dir), port, data_dir)
            try:
                if srv.wait_ready():
                    break
            except BaseException:
                srv.stop()
                raise
            log = srv.log()
        else:
            pytest.fail("server exited during startup:\n%s" % log, pytrace=False)
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        shutil.rmtree(data_root, ignore_errors=True)


@pytest.fixture
def make_client(server: Server) -> Iterator[Callable[..., DiskDB]]:
    """Factory of extra clients (closed after the test)."""
    clients: List[DiskDB] = []

    def make(**kwargs: object) -> DiskDB:
        client = server.client(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def r(make_client: Callable[..., DiskDB]) -> DiskDB:
    """A client of an emptied server."""
    client = make_client()
    client.flushall()
    return client


@pytest.fixture(autouse=True)
def _skip_unsupported(request: pytest.FixtureRequest) -> None:
    for marker in PROBES:
        if request.node.get_closest_marker(marker):
            reason = request.getfixturevalue("server").unsupported_reason(marker)
            if reason:
                pytest.skip(reason)
