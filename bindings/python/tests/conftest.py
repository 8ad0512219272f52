"""Shared fixtures: the test bed's environment, URLs, unique containers and their clean-up.

Whether there is a server was decided once, by tests/openstack/server-env.sh (run-tests.sh sources
it): OSD_SERVER_SKIP holds the reason to skip. With neither OSD_SERVER_SKIP nor OSD_AUTH_V3 set,
nobody decided, and server tests fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS_DIR.parent  # bindings/python
REPO_ROOT = PACKAGE_ROOT.parent.parent
HEADER = REPO_ROOT / "include" / "openstack_dest.h"

# Use the installed package; fall back to the sources of this checkout when it is not installed.
if importlib.util.find_spec("openstack_dest") is None:
    sys.path.insert(0, str(PACKAGE_ROOT / "src"))

SECRET = "Sup3r-Secret-Pa55word"
#: A well-formed v3 URL at a closed port: opening needs no server, every call fails fast.
OFFLINE_URL = (
    "openstack://offline-container/some/prefix?auth-username=alice&auth-password=" + SECRET
    + "&openstack-tenant-name=proj&openstack-domain-name=Default"
    "&openstack-authuri=http://127.0.0.1:9/v3&openstack-version=v3&number-of-retries=1&retry-delay=10ms"
)


class Server:
    """The test bed's settings (OSD_* variables as attributes) and URL builders."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.env = env

    def __getattr__(self, item: str) -> str:
        key = "OSD_" + item.upper()
        if key not in self.env:
            raise AttributeError(key)
        return self.env[key]

    def get(self, item: str, default: Optional[str] = None) -> Optional[str]:
        return self.env.get("OSD_" + item.upper(), default)

    def v3_url(self, container: str, prefix: str = "", *, user: Optional[str] = None,
               password: Optional[str] = None, region: Optional[str] = None) -> str:
        query = {
            "auth-username": user or self.user,
            "auth-password": password if password is not None else self.password,
            "openstack-tenant-name": self.project,
            "openstack-domain-name": "Default",
            "openstack-authuri": self.auth_v3,
            "openstack-version": "v3",
            "openstack-region": region or self.get("region1", "RegionOne"),
        }
        path = "/" + urllib.parse.quote(prefix) if prefix else ""
        return f"openstack://{container}{path}?{urllib.parse.urlencode(query)}"


class SwiftAdmin:
    """Minimal Keystone v3 client (urllib): a token and the Swift storage URL of the test bed,
    independent of the binding."""

    def __init__(self, server: Server) -> None:
        user = {"name": server.user, "domain": {"name": "Default"}, "password": server.password}
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                         "scope": {"project": {"name": server.project, "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(server.auth_v3.rstrip("/") + "/auth/tokens", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = resp.headers["X-Subject-Token"]
            catalog = json.load(resp)["token"]["catalog"]
        region = server.get("region1", "RegionOne")
        urls = [ep["url"] for service in catalog if service["type"] == "object-store"
                for ep in service["endpoints"] if ep["interface"] == "public" and ep.get("region") == region]
        if not urls:
            raise RuntimeError("no object-store endpoint in the test bed's catalog")
        self.storage_url = urls[-1]

    def call(self, method: str, url: str, headers: Optional[Dict[str, str]] = None) -> bytes:
        req = urllib.request.Request(url, method=method, headers={"X-Auth-Token": self.token, **(headers or {})})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()


@pytest.fixture(scope="session")
def server() -> Server:
    if os.environ.get("OSD_SERVER_SKIP"):
        pytest.skip(os.environ["OSD_SERVER_SKIP"])
    if not os.environ.get("OSD_AUTH_V3"):
        pytest.fail("neither OSD_AUTH_V3 nor OSD_SERVER_SKIP is set: run bindings/python/run-tests.sh, "
                    "or source tests/openstack/server-env.sh first")
    return Server({k: v for k, v in os.environ.items() if k.startswith("OSD_")})


@pytest.fixture(scope="session")
def swift_admin(server: Server) -> SwiftAdmin:
    return SwiftAdmin(server)


@pytest.fixture
def container(server: Server) -> Iterator[str]:
    """A unique container name (created by the test through the binding); removed afterwards, with
    the container that holds its large objects' segments by default (<name>_segments)."""
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
def dest(server: Server, container: str) -> Iterator["object"]:
    """An open v3 Destination on a fresh, created container."""
    from openstack_dest import Destination

    with Destination(server.v3_url(container)) as d:
        d.create_container()
        yield d


@pytest.fixture
def offline() -> Iterator["object"]:
    """A Destination of OFFLINE_URL: reaches nothing."""
    from openstack_dest import Destination

    with Destination(OFFLINE_URL) as d:
        yield d
