"""DiskDB client: a small, dependency-free Redis-protocol client.

>>> from diskdb import DiskDB
>>> db = DiskDB(host="localhost", port=6380)
>>> db.set("greeting", "hello")
True
"""

from .client import DiskDB, Pipeline
from .connection import Connection
from .exceptions import (
    AuthenticationError,
    ConnectionError,
    DataError,
    DiskDBError,
    ProtocolError,
    ResponseError,
    TimeoutError,
    TransactionAbortedError,
    TypeMismatchError,
)
from .pubsub import PubSub
from .resp import PushMessage, RespReader, pack_command

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "Connection",
    "ConnectionError",
    "DataError",
    "DiskDB",
    "DiskDBError",
    "Pipeline",
    "ProtocolError",
    "PubSub",
    "PushMessage",
    "RespReader",
    "ResponseError",
    "TimeoutError",
    "TransactionAbortedError",
    "TypeMismatchError",
    "pack_command",
]
