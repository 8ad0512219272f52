"""The host's own metadata and expiry (put(..., metadata=, delete_after=, delete_at=, no_expiry=),
update_metadata, stat().metadata / .delete_at), and a log callback
that another part of the process set, which the binding leaves in place."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict

import pytest

from conftest import Server

import openstack_dest
from openstack_dest import Destination, InvalidArgumentError, NotFoundError

DAY = 86400


def _near(at: Any, seconds: float) -> None:
    assert isinstance(at, datetime) and at.tzinfo is not None
    assert abs(at.timestamp() - (time.time() + seconds)) < 120, at


# ---- offline: arguments are checked before anything is sent --------------------------------


OFFLINE = ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t"
           "&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:9/v3&number-of-retries=0")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metadata": {"mtime": "1"}},
        {"metadata": {"under_score": "1"}},
        {"metadata": {"a b": "1"}},
        {"metadata": {"k": "line\r\nX-Injected: 1"}},
        {"metadata": {"k": "nul\0"}},
        {"metadata": {"k\0": "v"}},
        {"delete_after": 0},
        {"delete_after": timedelta(seconds=-5)},
        {"delete_at": datetime(2000, 1, 1)},  # naive
        {"delete_after": 10, "no_expiry": True},
        {"delete_after": 10, "delete_at": time.time() + 100},
    ],
)
def test_bad_options_raise_before_any_request(kwargs: Dict[str, Any]) -> None:
    with Destination(OFFLINE) as d:
        with pytest.raises(InvalidArgumentError):
            d.put("x", b"x", **kwargs)
        with pytest.raises(InvalidArgumentError):
            d.update_metadata("x", **kwargs)


def test_option_types_are_checked() -> None:
    with Destination(OFFLINE) as d:
        with pytest.raises(TypeError):
            d.put("x", b"x", metadata={"k": 1})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            d.put("x", b"x", delete_after="1d")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            d.put("x", b"x", delete_at=True)


# ---- against the real server -------------------------------------------------------------------


def test_metadata_and_expiry_round_trip(dest: Destination, server: Server, container: str, tmp_path: Path) -> None:
    dest.put("a", b"data", metadata={"Backup-Set": "7", "color": "blüe 50%"}, delete_after=timedelta(days=1))
    e = dest.stat("a")
    assert e.metadata == {"backup-set": "7", "color": "blüe 50%"}
    _near(e.delete_at, DAY)
    assert e.mtime is None

    # A file keeps its time besides the host's keys; a stream and delete_at as a datetime.
    src = tmp_path / "f.txt"
    src.write_bytes(b"file")
    at = datetime.now(timezone.utc) + timedelta(days=2)
    dest.put("f.txt", src, metadata={"a": "1", "b": "2"}, delete_at=at)
    e = dest.stat("f.txt")
    assert e.mtime is not None and e.delete_at is not None
    assert int(e.delete_at.timestamp()) == int(at.timestamp()) + 1  # whole seconds, rounded up
    with open(src, "rb") as f:
        dest.put("streamed", f, metadata={"kind": "stream"}, delete_after=3600)
    assert dest.stat("streamed").metadata == {"kind": "stream"}
    _near(dest.stat("streamed").delete_at, 3600)
    dest.put("progress", b"p" * 1000, metadata={"kind": "bytes"}, progress=lambda done, total: True)
    assert dest.stat("progress").metadata == {"kind": "bytes"}

    # An update: set, remove, keep the rest, the file time and the expiry.
    dest.update_metadata("f.txt", {"b": "3", "a": ""})
    e2 = dest.stat("f.txt")
    assert e2.metadata == {"b": "3"}
    assert (e2.mtime, e2.delete_at) == (e.mtime, e.delete_at)
    dest.update_metadata("f.txt", no_expiry=True)
    assert dest.stat("f.txt").delete_at is None
    dest.update_metadata("f.txt", delete_after=timedelta(hours=5))
    _near(dest.stat("f.txt").delete_at, 5 * 3600)
    with pytest.raises(NotFoundError):
        dest.update_metadata("missing", {"a": "1"})
    # Over the cluster's limits: refused, nothing stored.
    with pytest.raises(InvalidArgumentError, match="256"):
        dest.put("too-long", b"x", metadata={"k": "v" * 257})
    with pytest.raises(NotFoundError):
        dest.stat("too-long")
    # Listings carry neither.
    listed = {x.name: x for x in dest.list()}
    assert listed["a"].metadata == {} and listed["a"].delete_at is None
    assert len({e, dest.stat("a")}) >= 1  # entries stay hashable


# ---- the log callback of another part of the process stays ----------------------------------------


def test_a_foreign_log_callback_stays_in_place(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import ctypes, logging, sys
        lib = ctypes.CDLL(sys.argv[1])
        LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
        lines = []
        foreign = LOG_CB(lambda ctx, level, msg: lines.append(msg))
        lib.os_set_log_callback(foreign, None, 4)  # C code of the host, before the binding loads
        lib.os_log_callback_is_set.restype = ctypes.c_bool

        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)
        logging.getLogger("openstack_dest").addHandler(Keep())
        logging.getLogger("openstack_dest").setLevel(logging.DEBUG)

        import openstack_dest
        from openstack_dest import Destination, OpenStackError
        assert not openstack_dest.log_callback_installed()
        url = ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t"
               "&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:9/v3"
               "&number-of-retries=1&retry-delay=0s")
        with Destination(url) as d:
            try:
                d.test()
            except OpenStackError:
                pass
        openstack_dest.sync_log_level()
        assert lines, "the foreign callback got no line"
        assert not records, "the binding replaced the foreign callback"
        # Once the host removes its callback, the binding's takes over at the next open.
        lib.os_set_log_callback(LOG_CB(), None, 1)
        n = len(lines)
        with Destination(url) as d:
            assert openstack_dest.log_callback_installed()
            try:
                d.test()
            except OpenStackError:
                pass
        assert records and len(lines) == n
        # And the binding removes only its own at exit (checked by a foreign one set again).
        lib.os_set_log_callback(foreign, None, 4)
        openstack_dest.sync_log_level()
        assert lib.os_log_callback_is_set()
        print("ok")
        """
    )
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code, openstack_dest.library_path], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
