"""Exceptions: one class per ``os_status``, all under :class:`OpenStackError`.

The statuses come from the header (``_bindings.Status``, generated); a test checks that every
status but OK has its class here.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Type

from ._bindings import Status


class OpenStackError(Exception):
    """A failed libopenstack_dest call.

    ``status`` is the ``os_status`` number (an int; a :class:`Status` member when known),
    ``http_status`` the HTTP status of the failing request, or None when there was none.
    The message never contains a password, API key or token.
    """

    status: int
    http_status: Optional[int]
    message: str

    def __init__(self, message: str, status: int = -1, http_status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.http_status = http_status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"http_status={self.http_status!r})"
        )


class InvalidArgumentError(OpenStackError):
    """A bad argument: empty name, name longer than 1024 bytes, NUL character, invalid UTF-8."""


class InvalidUrlError(OpenStackError):
    """A bad ``openstack://`` URL or a missing/contradictory option."""


class AuthError(OpenStackError):
    """Keystone refused the credentials."""


class ForbiddenError(OpenStackError):
    """The user lacks the rights (HTTP 403)."""


class NotFoundError(OpenStackError):
    """The object (file) does not exist."""


class ContainerNotFoundError(OpenStackError):
    """The container does not exist (create it with ``create_container()``)."""


class EndpointNotFoundError(OpenStackError):
    """No object-store endpoint in the Keystone catalog."""


class TooLargeError(OpenStackError):
    """The object or the quota is too large (HTTP 413)."""


class IntegrityError(OpenStackError):
    """MD5 or length mismatch."""


class NetworkError(OpenStackError):
    """Connection refused/reset, DNS or TLS failure."""


class OpenStackTimeoutError(OpenStackError, TimeoutError):
    """No progress within the timeout (also a builtins ``TimeoutError``)."""


class ServerError(OpenStackError):
    """HTTP 5xx after retries."""


class LocalIOError(OpenStackError):
    """A local file could not be read or written."""


class CancelledError(OpenStackError):
    """A progress callback asked to stop."""


class CallbackError(OpenStackError):
    """A read/write callback failed."""


class HttpError(OpenStackError):
    """Any other unexpected HTTP answer (e.g. 409, 422)."""


class ContainerNotEmptyError(OpenStackError):
    """``delete_container()`` without ``empty_first``: the container still holds objects."""


class TlsError(NetworkError):
    """A server's TLS certificate failed verification (unknown CA, wrong host name, expired, not
    the pinned one); never retried. The message names the host and the option that helps
    (``openstack-ca-file``, ``openstack-tls-fingerprint``). A :class:`NetworkError`, as such
    failures were before they had a status of their own."""


class InternalError(OpenStackError):
    """An internal bug of the library, caught at its boundary (a Rust panic)."""


class DeleteManyError(OpenStackError):
    """Some names of :meth:`Destination.delete_many` could not be deleted: ``failures`` is a list
    of (name, exception) for each, ``deleted`` how many were deleted; ``status`` is that of the
    first failure."""

    def __init__(self, failures: "List[Tuple[str, OpenStackError]]", deleted: int) -> None:
        first = failures[0][1]
        super().__init__(
            f"{len(failures)} of the names could not be deleted; the first, {failures[0][0]!r}: {first}",
            first.status,
            first.http_status,
        )
        self.failures = failures
        self.deleted = deleted


ERROR_CLASSES: Dict[int, Type[OpenStackError]] = {
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.INVALID_URL: InvalidUrlError,
    Status.AUTH: AuthError,
    Status.FORBIDDEN: ForbiddenError,
    Status.NOT_FOUND: NotFoundError,
    Status.CONTAINER_NOT_FOUND: ContainerNotFoundError,
    Status.ENDPOINT_NOT_FOUND: EndpointNotFoundError,
    Status.TOO_LARGE: TooLargeError,
    Status.INTEGRITY: IntegrityError,
    Status.NETWORK: NetworkError,
    Status.TIMEOUT: OpenStackTimeoutError,
    Status.SERVER: ServerError,
    Status.LOCAL_IO: LocalIOError,
    Status.CANCELLED: CancelledError,
    Status.PANIC: InternalError,
    Status.CALLBACK: CallbackError,
    Status.HTTP: HttpError,
    Status.CONTAINER_NOT_EMPTY: ContainerNotEmptyError,
    Status.TLS: TlsError,
}


def error_for(status: int, message: str, http_status: Optional[int] = None) -> OpenStackError:
    """The exception for an ``os_status`` (unknown numbers give a plain OpenStackError)."""
    try:
        known: int = Status(status)
    except ValueError:
        known = int(status)
    cls = ERROR_CLASSES.get(known, OpenStackError)
    if not message:
        message = f"openstack_dest call failed with status {int(status)}"
    return cls(message, known, http_status)
