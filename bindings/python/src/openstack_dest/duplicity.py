"""duplicity with ``openstack://`` destinations served by libopenstack_dest.

    python3 -m openstack_dest.duplicity ARGS...

runs the real ``duplicity`` command (duplicity 2.x or 3.x, e.g. ``pip install duplicity``) with
``ARGS`` as they are, after registering a storage backend for the ``openstack`` URL scheme:
wherever duplicity takes a target URL, an ``openstack://`` destination URL of this library works,
with every option of the library (segment size, TLS, retries, ...). For example::

    export OS_AUTH_URL=https://keystone.example:5000/v3 OS_USERNAME=alice OS_PASSWORD=...
    export OS_PROJECT_NAME=backup OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
    python3 -m openstack_dest.duplicity full --no-encryption /home/alice \\
        'openstack://backups/alice?openstack-segment-size=64MiB'
    python3 -m openstack_dest.duplicity restore --no-encryption 'openstack://backups/alice' /tmp/r

Credentials come as the library takes them: in the URL (``auth-username``, ``auth-password``, ...),
from ``clouds.yaml`` (``openstack-cloud=NAME`` in the URL), or from the ``OS_*`` variables of an
openrc file, which this command reads for whatever the URL leaves out
(``openstack-auth-from-env=true`` is its default; ``openstack-auth-from-env=false`` in the URL turns
that off). Keep passwords out of the URL where you can: duplicity may show its target URL.

The container is created when it does not exist. Volumes larger than the segment size
(``openstack-segment-size``; by default the cluster's limit) are stored as Static Large Objects
and read back checked segment by segment. Files are named by duplicity and live directly under the
URL's prefix; listings ignore sub-folders.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional

import duplicity.backend  # type: ignore[import-untyped,import-not-found,unused-ignore]
from duplicity import log  # type: ignore[import-untyped,import-not-found,unused-ignore]
from duplicity.errors import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    FatalBackendException,
)

from ._destination import Destination
from .errors import (
    AuthError,
    ContainerNotFoundError,
    ForbiddenError,
    InvalidUrlError,
    NotFoundError,
    OpenStackError,
    TooLargeError,
)

__all__ = ["SCHEME", "OpenStackDestBackend", "register", "main"]

#: The URL scheme this module registers with duplicity.
SCHEME = "openstack"

#: Options given to every destination (the URL's own query wins over them).
DEFAULT_OPTIONS: Dict[str, str] = {"openstack-auth-from-env": "true"}


class OpenStackDestBackend(duplicity.backend.Backend):  # type: ignore[misc]
    """duplicity's backend protocol (``_put``, ``_get``, ``_list``, ``_delete``, ``_query``) on a
    :class:`~openstack_dest.Destination`. duplicity retries what raises; the library has already
    retried what a retry can mend."""

    def __init__(self, parsed_url: Any) -> None:
        duplicity.backend.Backend.__init__(self, parsed_url)
        try:
            self.dest = Destination(parsed_url.geturl(), DEFAULT_OPTIONS)
        except OpenStackError as exc:  # a bad URL or option: no retry can help
            raise FatalBackendException(f"openstack: {exc}", code=log.ErrorCode.bad_url) from None
        try:
            try:
                self.dest.test()
            except ContainerNotFoundError:
                # Not the URL: its query may hold a password.
                log.Info("openstack: the container does not exist; creating it")
                self.dest.create_container()
        except OpenStackError as exc:
            self.dest.close()
            raise FatalBackendException(f"openstack: {exc}", code=log.ErrorCode.connection_failed) from None

    @staticmethod
    def _name(filename: bytes) -> str:
        return os.fsdecode(filename)

    def _put(self, source_path: Any, remote_filename: bytes) -> None:
        self.dest.put(self._name(remote_filename), os.fsdecode(source_path.name))

    def _get(self, remote_filename: bytes, local_path: Any) -> None:
        self.dest.get(self._name(remote_filename), os.fsdecode(local_path.name))

    def _list(self) -> List[bytes]:
        return [os.fsencode(e.name) for e in self.dest.iter_entries() if e.kind != "folder"]

    def _delete(self, filename: bytes) -> None:
        try:
            self.dest.delete(self._name(filename))
        except NotFoundError:
            # Gone already (an earlier try whose answer was lost, or another run): deleted.
            log.Info(f"openstack: {self._name(filename)} was already gone")

    def _query(self, filename: bytes) -> Dict[str, int]:
        try:
            size = self.dest.stat(self._name(filename)).size
        except NotFoundError:
            return {"size": -1}
        return {"size": -1 if size is None else size}

    def _error_code(self, operation: str, e: BaseException) -> Optional[int]:
        if isinstance(e, NotFoundError):
            return int(log.ErrorCode.backend_not_found)
        if isinstance(e, (AuthError, ForbiddenError)):
            return int(log.ErrorCode.backend_permission_denied)
        if isinstance(e, TooLargeError):
            return int(log.ErrorCode.backend_no_space)
        if isinstance(e, InvalidUrlError):
            return int(log.ErrorCode.bad_url)
        return None

    def _close(self) -> None:
        self.dest.close()


def register() -> None:
    """Registers the ``openstack`` scheme with duplicity (once)."""
    if SCHEME not in duplicity.backend._backends:
        duplicity.backend.register_backend(SCHEME, OpenStackDestBackend)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs duplicity with ``argv`` (default: this process's arguments) and returns its exit code."""
    register()
    from duplicity.__main__ import dup_run  # type: ignore[import-untyped,import-not-found,unused-ignore]

    sys.argv = ["duplicity", *(sys.argv[1:] if argv is None else argv)]
    try:
        dup_run()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
