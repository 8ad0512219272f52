"""openstack_dest: an OpenStack Swift backup destination (Python binding of libopenstack_dest).

    from openstack_dest import Destination

    with Destination("openstack://container/prefix?auth-username=...&...") as d:
        d.put("a.txt", b"hello")
        assert d.get("a.txt") == b"hello"

The native library is found through ``OPENSTACK_DEST_LIB`` (full path), next to this package's
files, in the checkout's ``target/{debug,release}`` when imported from a checkout, then through the
system loader. The library's log lines go to the ``logging`` logger named ``"openstack_dest"``.
"""

from ._native import LogLevel, Status, library_path
from ._destination import (
    Destination,
    Entry,
    EntryKind,
    PathType,
    ProgressCallback,
    Quota,
    SupportsRead,
    SupportsWrite,
    Version,
    log_callback_installed,
    sync_log_level,
    version,
)
from .errors import (
    AuthError,
    CallbackError,
    CancelledError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DeleteManyError,
    EndpointNotFoundError,
    ForbiddenError,
    HttpError,
    IntegrityError,
    InternalError,
    InvalidArgumentError,
    InvalidUrlError,
    LocalIOError,
    NetworkError,
    NotFoundError,
    OpenStackError,
    OpenStackTimeoutError,
    ServerError,
    TlsError,
    TooLargeError,
    error_for,
)

__version__ = "0.3.0"

__all__ = [
    "Destination",
    "Entry",
    "EntryKind",
    "Quota",
    "Version",
    "PathType",
    "ProgressCallback",
    "SupportsRead",
    "SupportsWrite",
    "Status",
    "LogLevel",
    "library_path",
    "version",
    "log_callback_installed",
    "sync_log_level",
    "error_for",
    "OpenStackError",
    "InvalidArgumentError",
    "InvalidUrlError",
    "AuthError",
    "ForbiddenError",
    "NotFoundError",
    "ContainerNotFoundError",
    "DeleteManyError",
    "ContainerNotEmptyError",
    "EndpointNotFoundError",
    "TooLargeError",
    "IntegrityError",
    "NetworkError",
    "TlsError",
    "OpenStackTimeoutError",
    "ServerError",
    "LocalIOError",
    "CancelledError",
    "CallbackError",
    "HttpError",
    "InternalError",
]
