"""Shared fixtures: the test bed's settings, unique containers (removed afterwards), an offline
Destination. Whether there is a server was decided by tests/openstack/server-env.sh (run-tests.sh
sources it): OSD_SERVER_SKIP holds the reason to skip; with neither it nor OSD_AUTH_V3, server
tests fail."""

from __future__ import annotations

import importlib.util
import os
import sys
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS_DIR.parent  # bindings/python
REPO_ROOT = PACKAGE_ROOT.parent.parent
HEADER = REPO_ROOT / "include" / "openstack_dest.h"

if importlib.util.find_spec("openstack_dest") is None:  # not installed: this checkout's sources
    sys.path.insert(0, str(PACKAGE_ROOT / "src"))

SECRET = "Sup3r-Secret-Pa55word"
#: A well-formed v3 URL at a closed port: opening needs no server, every call fails fast.
OFFLINE_URL = (
    "openstack://offline-container/some/prefix?auth-username=alice&auth-password=" + SECRET
    + "&openstack-tenant-name=proj&openstack-domain-name=Default"
    "&openstack-authuri=http://127.0.0.1:9/v3&openstack-version=v3&number-of-retries=1&retry-delay=10ms"
)


class Server:
    """The test bed's OSD_* variables as attributes (``server.user`` is OSD_USER), and its URLs."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.env = env

    def __getattr__(self, item: str) -> str:
        try:
            return self.env["OSD_" + item.upper()]
        except KeyError:
            raise AttributeError(item) from None

    def v3_url(self, container: str, prefix: str = "", *, user: Optional[str] = None,
               password: Optional[str] = None, region: Optional[str] = None) -> str:
        query = {"auth-username": user or self.user, "auth-password": password or self.password,
                 "openstack-tenant-name": self.project, "openstack-domain-name": "Default",
                 "openstack-authuri": self.auth_v3, "openstack-version": "v3",
                 "openstack-region": region or self.region1}
        path = "/" + urllib.parse.quote(prefix) if prefix else ""
        return f"openstack://{container}{path}?{urllib.parse.urlencode(query)}"


@pytest.fixture(scope="session")
def server() -> Server:
    if os.environ.get("OSD_SERVER_SKIP"):
        pytest.skip(os.environ["OSD_SERVER_SKIP"])
    if not os.environ.get("OSD_AUTH_V3"):
        pytest.fail("neither OSD_AUTH_V3 nor OSD_SERVER_SKIP is set: run bindings/python/run-tests.sh, "
                    "or source tests/openstack/server-env.sh first")
    return Server({k: v for k, v in os.environ.items() if k.startswith("OSD_")})


@pytest.fixture
def container(server: Server) -> Iterator[str]:
    """A unique container name (the test creates it); removed afterwards with <name>_segments."""
    from openstack_dest import ContainerNotFoundError, Destination

    name = f"pyosd-{uuid.uuid4().hex[:12]}"
    yield name
    for each in (name, name + "_segments"):
        try:
            with Destination(server.v3_url(each)) as d:
                d.delete_container(empty_first=True)
        except ContainerNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 - clean-up must not hide the test's own result
            print(f"clean-up of container {each} failed: {exc}", file=sys.stderr)


@pytest.fixture
def dest(server: Server, container: str) -> Iterator[Any]:
    """An open Destination on a fresh, created container."""
    from openstack_dest import Destination

    with Destination(server.v3_url(container)) as d:
        d.create_container()
        yield d


@pytest.fixture
def offline() -> Iterator[Any]:
    """A Destination of OFFLINE_URL: reaches nothing."""
    from openstack_dest import Destination

    with Destination(OFFLINE_URL) as d:
        yield d
