"""Exceptions raised by the DiskDB client.

Every exception derives from :class:`DiskDBError`.  ``ConnectionError`` and
``TimeoutError`` deliberately reuse the names redis-py exports; inside this
package they are always referred to as ``exceptions.ConnectionError`` so the
builtins of the same name are never hidden.
"""

from __future__ import annotations

from typing import Dict, Type


class DiskDBError(Exception):
    """Base class of every error raised by this package."""


class ConnectionError(DiskDBError):  # noqa: A001 - the name redis clients use
    """The connection could not be opened, broke, or was closed by the server."""


class TimeoutError(ConnectionError):  # noqa: A001 - the name redis clients use
    """A socket operation took longer than ``socket_timeout``."""


class ProtocolError(DiskDBError):
    """The server sent bytes that are not valid RESP."""


class DataError(DiskDBError):
    """A command argument cannot be encoded (e.g. ``None`` or a bool)."""


class TransactionAbortedError(DiskDBError):
    """EXEC returned a null reply: a WATCHed key changed."""


class ResponseError(DiskDBError):
    """The server answered with an error reply; ``str(err)`` is its message."""

    @property
    def code(self) -> str:
        """The error code: the first word of the message (``ERR``, ``WRONGTYPE``...)."""
        return str(self).split(" ", 1)[0]


class TypeMismatchError(ResponseError):
    """``WRONGTYPE``: the command does not apply to the key's type."""


class AuthenticationError(ResponseError):
    """``NOAUTH`` or ``WRONGPASS``: authentication is missing or wrong."""


_ERROR_CLASSES: Dict[str, Type[ResponseError]] = {
    "WRONGTYPE": TypeMismatchError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
}


def error_from_message(message: str) -> ResponseError:
    """Build the exception matching an error reply's code (not raised here)."""
    code = message.split(" ", 1)[0]
    return _ERROR_CLASSES.get(code, ResponseError)(message)
