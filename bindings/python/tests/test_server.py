"""The binding against the real Swift + Keystone of the test bed (tests/openstack/testbed.sh).

Skipped, with the reason, when tests/openstack/server-env.sh found no test bed (see conftest.py).
These test the Python layer: every method and argument type, Entry/Quota values, exceptions
mapped from statuses, callbacks (reader, writer, progress, entries) that raise or cancel,
threads, close(). Swift's semantics (names, listing paging and prefixes, rename, regions,
Keystone v2 and domains) are tested once, in Rust (tests/real_swift.rs, tests/faults.rs).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest

from conftest import REPO_ROOT, Server

from openstack_dest import (
    CancelledError,
    ContainerNotFoundError,
    Destination,
    Entry,
    ForbiddenError,
    InvalidArgumentError,
    InvalidUrlError,
    NotFoundError,
    DeleteManyError,
    OpenStackError,
    Quota,
    Status,
    Version,
)

pytestmark = pytest.mark.server

MiB = 1024 * 1024


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def by_name(entries: List[Entry]) -> dict:
    return {e.name: e for e in entries}


class Boom(Exception):
    """Raised by test file objects and callbacks."""


class FailingReader(io.RawIOBase):
    """A readable stream that raises Boom after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pos = 0
        self.exc = Boom(f"reader failed after {limit} bytes")

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.pos >= self.limit:
            raise self.exc
        n = min(len(buf), self.limit - self.pos, 64 * 1024)
        buf[:n] = b"r" * n
        self.pos += n
        return n


class FailingWriter:
    """A binary sink (duck-typed, not an io class) that raises Boom after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.got = 0
        self.exc = Boom(f"writer failed after {limit} bytes")

    def write(self, data: Any) -> int:
        if self.got + len(data) > self.limit:
            raise self.exc
        self.got += len(data)
        return len(data)


class ReadOnlyStream:
    """A non-seekable source with only read() (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + (n if n >= 0 else len(self.data))]
        self.pos += len(chunk)
        return chunk


# ---- every method, Keystone v3 ------------------------------------------------------------------


def test_every_method_v3(server: Server, container: str, tmp_path: Path) -> None:
    """One round trip of each method and of each kind of source and sink; Swift's side is Rust's."""
    data = os.urandom(70_000)
    src, out = tmp_path / "src.bin", tmp_path / "out.bin"
    src.write_bytes(data)
    when = 1_600_000_000.123
    os.utime(src, (when, when))
    with Destination(server.v3_url(container, "backups/2024")) as d:
        with pytest.raises(ContainerNotFoundError):
            d.test()
        d.create_container()
        d.test()
        assert d.list() == []
        with open(src, "rb") as f:
            f.seek(17)  # a seekable file object is read from its current position
            sources: dict = {
                "bytes.bin": (data, data),
                "bytearray.bin": (bytearray(b"abc"), b"abc"),
                "memoryview.bin": (memoryview(b"0123456789")[2:5], b"234"),
                "empty": (b"", b""),
                "file.bin": (src, data),
                "file-str.bin": (str(src), data),
                "fileobj.bin": (f, data[17:]),
                "stream.bin": (ReadOnlyStream(data), data),
                "sub/ünï-文件 #?%+.txt": ("U".encode(), b"U"),  # str names go out and come back as UTF-8
            }
            for name, (value, want) in sources.items():
                d.put(name, value)
                assert d.get(name) == want, name
        # sinks: a path (str and PathLike; the file's time comes back), a file object from its position
        for sink in (out, str(out)):
            d.get("file.bin", sink)
            assert out.read_bytes() == data and abs(out.stat().st_mtime - when) < 0.001
        with open(out, "wb") as f:
            f.write(b"HEADER")
            d.get("bytes.bin", f)
        assert out.read_bytes() == b"HEADER" + data

        before = datetime.now(timezone.utc) - timedelta(minutes=5)
        entries = by_name(d.list())
        assert set(entries) == set(sources) - {"sub/ünï-文件 #?%+.txt"} | {"sub"}
        assert entries["sub"].is_folder and entries["sub"].size is None and entries["sub"].etag is None
        e = entries["bytes.bin"]
        assert isinstance(e, Entry) and e.size == len(data) and not e.is_folder and e.etag == md5(data)
        assert e.last_modified is not None and e.last_modified.utcoffset() == timedelta(0)
        assert before < e.last_modified < datetime.now(timezone.utc) + timedelta(minutes=5)
        assert entries["file.bin"].mtime is None  # a listing does not carry the file's time
        with pytest.raises(Exception):
            e.size = 1  # type: ignore[misc]  # frozen
        s = d.stat("file.bin")
        assert s.size == len(data) and not s.is_folder and s.last_modified is not None
        assert s.mtime is not None and abs(s.mtime.timestamp() - when) < 0.001

        d.rename("bytes.bin", "renamed.bin")
        assert d.get("renamed.bin") == data
        d.delete("renamed.bin")
        with pytest.raises(NotFoundError):
            d.stat("renamed.bin")

        q = d.quota()
        assert isinstance(q, Quota)
        assert q.bytes_used >= 0 and q.object_count >= 0 and q.container_count >= 0
        assert q.quota_bytes is None or q.quota_bytes >= 0


def test_options_mapping(server: Server, container: str) -> None:
    options = {
        "auth-password": server.password,
        "openstack-tenant-name": server.project,
        "openstack-domain-name": "Default",
        "openstack-authuri": server.auth_v3,
        "openstack-version": "v3",
        "some-host-option": "ignored",  # unknown options are ignored
    }
    with Destination(f"openstack://{container}?auth-username={server.user}", options) as d:
        assert server.password not in repr(d)
        d.create_container()
        d.put("x", b"y")
        assert d.get("x") == b"y"


# ---- errors -------------------------------------------------------------------------------------


def test_missing_container(server: Server, container: str) -> None:
    with Destination(server.v3_url(container)) as d:
        for call in (d.test, d.list, lambda: d.put("a", b"x"), lambda: d.get("a")):
            with pytest.raises(ContainerNotFoundError) as info:
                call()
            assert info.value.status == Status.CONTAINER_NOT_FOUND
            assert info.value.http_status == 404


def test_missing_object(dest: Destination, tmp_path: Path) -> None:
    calls: List[Callable[[], Any]] = [
        lambda: dest.get("nope"),
        lambda: dest.get("nope", tmp_path / "x"),
        lambda: dest.get("nope", io.BytesIO()),
        lambda: dest.stat("nope"),
        lambda: dest.delete("nope"),
        lambda: dest.rename("nope", "other"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.status == Status.NOT_FOUND
        assert info.value.http_status in (404, None)
        assert str(info.value)


def test_reader_cannot_write(server: Server, container: str, dest: Destination) -> None:
    dest.put("existing", b"data")
    url = server.v3_url(container, user=server.reader_user, password=server.reader_password)
    with Destination(url) as reader:
        with pytest.raises(ForbiddenError) as info:
            reader.put("new", b"x")
        assert info.value.http_status == 403
        assert server.reader_password not in str(info.value)
    assert dest.get("existing") == b"data"


# ---- threads ----------------------------------------------------------------------------------


def _threads_table() -> Tuple[int, int, List[str]]:
    """(threads, iterations, steps) of tests/threads.txt, the table every binding's driver reads."""
    threads = iterations = 0
    steps: List[str] = []
    for line in (REPO_ROOT / "tests" / "threads.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, value = line.split("\t")
        if key == "threads":
            threads = int(value)
        elif key == "iterations":
            iterations = int(value)
        else:
            assert key == "step", line
            steps.append(value)
    assert threads > 1 and iterations > 0 and steps
    return threads, iterations, steps


def test_threads_share_one_destination(dest: Destination) -> None:
    threads, iterations, steps = _threads_table()
    barrier = threading.Barrier(threads)

    def step(what: str, t: int, i: int, name: str, data: bytes) -> None:
        if what == "put":
            dest.put(name, data if i % 2 == 0 else io.BytesIO(data))
        elif what == "get" and i % 2:
            assert dest.get(name) == data
        elif what == "get":
            sink = io.BytesIO()
            dest.get(name, sink)
            assert sink.getvalue() == data
        elif what == "stat":
            e = dest.stat(name)
            assert e.size == len(data) and e.etag == md5(data)
        elif what == "list":
            top = by_name(dest.list())
            assert f"t{t}" in top and top[f"t{t}"].is_folder
        elif what == "delete":
            dest.delete(name)
        elif what == "missing":
            with pytest.raises(NotFoundError) as info:
                dest.get(name)
            assert info.value.http_status == 404 and str(info.value)
        else:
            raise AssertionError(f"threads.txt: unknown step {what}")

    def work(t: int) -> int:
        barrier.wait(timeout=30)
        for i in range(iterations):
            name = f"t{t}/obj-{i}"
            data = os.urandom((t * 7919 + i * 104729) % 70000)
            for what in steps:
                step(what, t, i, name, data)
        return iterations

    with ThreadPoolExecutor(max_workers=threads) as pool:
        assert sum(pool.map(work, range(threads))) == threads * iterations


def test_close_waits_for_running_calls(server: Server, container: str) -> None:
    d = Destination(server.v3_url(container))
    d.create_container()
    started = threading.Event()
    done: List[bytes] = []

    def slow_progress(done_bytes: int, total: Optional[int]) -> None:
        started.set()
        time.sleep(0.01)

    def upload() -> None:
        d.put("slow", os.urandom(4 * MiB), progress=slow_progress)
        done.append(b"ok")

    t = threading.Thread(target=upload)
    t.start()
    assert started.wait(30)
    d.close()  # must wait for the upload instead of freeing the handle under it
    t.join(60)
    assert done == [b"ok"]
    with pytest.raises(ValueError):
        d.get("slow")


# ---- callbacks and progress -------------------------------------------------------------------


def test_callback_exceptions_are_reraised(dest: Destination) -> None:
    """An exception in a reader, writer or progress callback stops the call and is re-raised as it
    is; the handle goes on working."""
    exc = Boom("progress failed")

    def progress(done: int, total: Optional[int]) -> None:
        raise exc

    reader, writer = FailingReader(3 * MiB), FailingWriter(MiB)
    with pytest.raises(Boom) as info:
        dest.put("failing", reader)
    assert info.value is reader.exc
    dest.put("big", os.urandom(3 * MiB))  # the handle is fine afterwards
    with pytest.raises(Boom) as info:
        dest.get("big", writer)
    assert info.value is writer.exc
    for call in (lambda: dest.put("p", b"x" * MiB, progress=progress), lambda: dest.get("big", io.BytesIO(), progress=progress)):
        with pytest.raises(Boom) as info:
            call()
        assert info.value is exc


def test_progress_reports_and_can_cancel(dest: Destination, tmp_path: Path) -> None:
    data = os.urandom(8 * MiB)
    seen: List[Tuple[int, Optional[int]]] = []
    dest.put("prog", data, progress=lambda done, total: seen.append((done, total)))
    assert seen, "no progress reported"
    assert seen[-1][0] == len(data)
    assert all(total == len(data) for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    seen.clear()
    dest.put("prog-stream", ReadOnlyStream(data), progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == len(data)
    assert all(total is None for _, total in seen)

    seen.clear()
    src = tmp_path / "prog.bin"
    src.write_bytes(data)
    dest.put("prog-file", src, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (len(data), len(data))

    seen.clear()
    got = dest.get("prog", progress=lambda done, total: seen.append((done, total)))
    assert got == data
    assert seen and seen[-1][0] == len(data)
    assert seen[-1][1] in (len(data), None)

    seen.clear()
    dest.get("prog", tmp_path / "back.bin", progress=lambda done, total: seen.append((done, total)))
    assert (tmp_path / "back.bin").read_bytes() == data
    assert seen and seen[-1][0] == len(data)

    # Returning False cancels; None (or anything else) goes on.
    with pytest.raises(CancelledError) as info:
        dest.put("cancelled", io.BytesIO(data), progress=lambda done, total: False)
    assert info.value.status == Status.CANCELLED
    with pytest.raises(NotFoundError):
        dest.stat("cancelled")
    with pytest.raises(CancelledError):
        dest.get("prog", io.BytesIO(), progress=lambda done, total: False)
    with pytest.raises(CancelledError):
        dest.get("prog", tmp_path / "cancelled.bin", progress=lambda done, total: done < MiB)


def test_library_logs_reach_python_logging(server: Server, container: str, caplog: Any) -> None:
    with caplog.at_level(logging.DEBUG, logger="openstack_dest"):
        with Destination(server.v3_url(container, region="NoSuchRegion")) as d:
            d.create_container()
            d.put("logged", b"x")
    records = [r for r in caplog.records if r.name == "openstack_dest"]
    assert records, "no log line from the library reached logging"
    text = "\n".join(r.getMessage() for r in records)
    assert server.password not in text
    assert any("NoSuchRegion" in r.getMessage() or "region" in r.getMessage().lower() for r in records), text


# ---- a large file through file objects, in bounded memory -------------------------------------


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def test_large_file_streams_in_bounded_memory(server: Server, dest: Destination, tmp_path: Path) -> None:
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc/self/status to measure peak memory")
    size = 160 * MiB + 12345  # more than the 64 MiB allowed growth: holding it would show
    src = tmp_path / "large.bin"
    digest = hashlib.sha256()
    block = os.urandom(4 * MiB)
    with open(src, "wb") as f:
        written = 0
        i = 0
        while written < size:
            # Vary the content cheaply so that a misplaced block would be noticed.
            chunk = (i.to_bytes(8, "little") + block[8:])[: size - written]
            f.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            i += 1
    del block

    base = _vm_kib("VmRSS") if _reset_peak() else _vm_kib("VmHWM")
    progress: List[int] = []
    with open(src, "rb") as f:
        dest.put("large.bin", f, progress=lambda done, total: progress.append(done))
    assert progress and progress[-1] == size
    assert dest.stat("large.bin").size == size

    out = tmp_path / "large.out"
    back = hashlib.sha256()
    with open(out, "wb") as f:
        dest.get("large.bin", f)
    peak_growth = (_vm_kib("VmHWM") - base) * 1024
    with open(out, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MiB), b""):
            back.update(chunk)
    assert out.stat().st_size == size
    assert back.hexdigest() == digest.hexdigest()
    assert peak_growth < 64 * MiB, f"peak memory grew by {peak_growth / MiB:.1f} MiB"
    dest.delete("large.bin")


# ---- os_list_each and os_delete_container ------------------------------------------------------


def test_list_each_and_delete_container(server: Server, container: str) -> None:
    from openstack_dest import ContainerNotEmptyError, _destination

    names = ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir2/d.txt", "e.txt"]
    with Destination(server.v3_url(container)) as d:
        d.create_container()
        for n in names:
            d.put(n, n.encode())
        top = d.list()
        assert [e.name for e in d.list(recursive=True)] == names
        assert [(e.name, e.is_folder) for e in d.list("dir/")] == [("dir/b.txt", False), ("dir/sub", True)]
        # The generator: the same entries; leaving early stops the listing.
        assert list(d.iter_entries(recursive=True)) == d.list(recursive=True)
        assert list(d.iter_entries()) == top
        it = d.iter_entries(recursive=True)
        assert next(it).name == "a.txt"
        assert next(it).name == "dir/b.txt"
        it.close()
        first = []
        for e in d.iter_entries("dir/", recursive=True):
            first.append(e.name)
            break
        assert first == ["dir/b.txt"]
        # An exception raised inside the ctypes callback stops the listing and is re-raised after.
        seen: List[str] = []
        real = _destination._entry_from

        def failing(raw: Any) -> Entry:
            entry = real(raw)
            seen.append(entry.name)
            if len(seen) == 2:
                raise Boom("in the entry callback")
            return entry

        _destination._entry_from = failing
        try:
            with pytest.raises(Boom, match="in the entry callback"):
                d.list(recursive=True)
            assert seen == ["a.txt", "dir/b.txt"]
            seen.clear()
            with pytest.raises(Boom):
                list(d.iter_entries(recursive=True))
            assert seen == ["a.txt", "dir/b.txt"]
        finally:
            _destination._entry_from = real
        assert [e.name for e in d.list(recursive=True)] == names  # the handle still works
        for bad in (lambda: d.list("bad\0prefix"), lambda: d.iter_entries("bad\0prefix")):
            with pytest.raises(InvalidArgumentError):
                bad()
        # Deleting a container that holds objects is refused, then emptied on request.
        with pytest.raises(ContainerNotEmptyError) as info:
            d.delete_container()
        assert info.value.status == Status.CONTAINER_NOT_EMPTY
        assert len(d.list(recursive=True)) == len(names)
        d.delete_container(empty_first=True)
        with pytest.raises(ContainerNotFoundError):
            d.list()
        with pytest.raises(ContainerNotFoundError):
            d.delete_container()


# ---- ranged reads and large (segmented) objects -------------------------------------------------


def test_get_range_bytes_and_errors(dest: Destination) -> None:
    data = os.urandom(100_000)
    dest.put("r.bin", data)
    got = dest.get_range("r.bin", 12_345, 777)
    assert type(got) is bytes and got == data[12_345 : 12_345 + 777]
    assert dest.get_range("r.bin", len(data), 0) == b""
    with pytest.raises(InvalidArgumentError, match="past the end") as info:
        dest.get_range("r.bin", len(data) - 1, 2)
    assert info.value.status == Status.INVALID_ARGUMENT
    with pytest.raises(NotFoundError):
        dest.get_range("missing.bin", 0, 1)
    with pytest.raises(InvalidArgumentError, match="NUL"):
        dest.get_range("r.bin\0x", 0, 1)


def test_segmented_round_trip_kinds_cancel_and_sweep(server: Server, container: str, tmp_path: Path) -> None:
    """A Static Large Object: progress on the calling thread, its kind in stat, list and
    iter_entries, a range across a boundary; a cancelled upload whose segments stay
    (openstack-leave-segments), then sweep_segments' tuple. Segment counts, ETags, what a cancel
    leaves and the grace period are Rust's (large_objects.rs, lifecycle.rs)."""
    size = 3 * MiB + 4321  # three full 1 MiB segments and a short fourth
    data = os.urandom(size)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    caller = threading.get_ident()
    seen: List[Tuple[int, Optional[int], int]] = []

    def progress(done: int, total: Optional[int]) -> None:
        seen.append((done, total, threading.get_ident()))

    options = {"openstack-segment-size": "1MiB", "openstack-leave-segments": "true"}
    with Destination(server.v3_url(container), options) as d:
        d.create_container()
        d.put("big.bin", src, progress=progress)
        assert seen, "no progress reported"
        assert {t for _, _, t in seen} == {caller}, "progress ran on a worker thread"
        assert all(total == size for _, total, _ in seen)
        done = [n for n, _, _ in seen]
        assert done == sorted(done) and done[-1] == size
        assert d.get_range("big.bin", MiB - 3, 6) == data[MiB - 3 : MiB + 3]
        back = tmp_path / "back.bin"
        d.get("big.bin", back)
        assert back.read_bytes() == data

        d.put("small.bin", data[:100])
        d.put("dir/inner.txt", b"x")
        big, small = d.stat("big.bin"), d.stat("small.bin")
        assert (big.kind, big.etag_is_md5) == ("static_large", False)
        assert (small.kind, small.etag_is_md5, small.etag) == ("object", True, md5(data[:100]))
        listed = [(e.name, e.kind, e.is_folder, e.etag) for e in d.list()]
        assert listed == [
            ("big.bin", "static_large", False, big.etag),
            ("dir", "folder", True, None),
            ("small.bin", "object", False, small.etag),
        ]
        assert [(e.name, e.kind) for e in d.iter_entries(recursive=True)] == [
            ("big.bin", "static_large"),
            ("dir/inner.txt", "object"),
            ("small.bin", "object"),
        ]

        # Cancelling (progress returns False), on the calling thread too; its set stays.
        calls: List[int] = []

        def cancel(done: int, total: Optional[int]) -> bool:
            calls.append(threading.get_ident())
            return done < 2 * MiB

        with pytest.raises(CancelledError) as info:
            d.put("cancelled.bin", src, progress=cancel)
        assert info.value.status == Status.CANCELLED
        assert calls and set(calls) == {caller}
        for name in ("big.bin", "small.bin", "dir/inner.txt"):
            d.delete(name)
        with Destination(server.v3_url(container + "_segments")) as seg:
            left = seg.list(recursive=True)
        assert left, "the interrupted upload left nothing to sweep"
        removed, swept = d.sweep_segments(timedelta(0))
        assert (removed, swept) == (len(left), sum(e.size or 0 for e in left))
        with pytest.raises(InvalidArgumentError, match="negative"):
            d.sweep_segments(timedelta(seconds=-1))


def test_delete_many_reports_each_failure(dest: Destination) -> None:
    names = [f"many/{i}" for i in range(3)]
    for n in names:
        dest.put(n, n.encode())
    assert dest.delete_many(names + ["many/missing"]) == 3
    assert dest.delete_many([]) == 0
    dest.put("many/kept", b"x")
    with pytest.raises(DeleteManyError) as info:
        dest.delete_many(["many/kept", "a/../b"])
    err = info.value
    assert isinstance(err, OpenStackError) and err.deleted == 1
    assert [name for name, _ in err.failures] == ["a/../b"]
    assert isinstance(err.failures[0][1], InvalidArgumentError)
    with pytest.raises(InvalidArgumentError):
        dest.delete_many(["nul\u0000inside"])


# ---- versions (Swift's semantics are tested in tests/versions.rs; here: the binding's layer) ------


def _unversion(admin: Any, container: str) -> None:
    """Turns versioning off and deletes every version, so the container fixture can remove it."""
    base = f"{admin.storage_url}/{container}"

    def call(method: str, url: str, headers: Optional[dict] = None) -> bytes:
        req = urllib.request.Request(url, method=method, headers={"X-Auth-Token": admin.token, **(headers or {})})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    call("POST", base, {"X-Versions-Enabled": "false"})
    for row in json.loads(call("GET", base + "?versions&format=json") or b"[]"):
        name = urllib.parse.quote(row["name"])
        call("DELETE", f"{base}/{name}?version-id={row['version_id']}")


def test_versions_round_trip(server: Server, container: str, swift_admin: Any, tmp_path: Path) -> None:
    with Destination(server.v3_url(container), options={"openstack-versioning": "true"}) as d:
        d.create_container()
        try:
            d.put("v", b"one")
            d.put("v", b"two")
            versions = d.list_versions("v")
            assert [type(v) for v in versions] == [Version, Version]
            new, old = versions
            assert new.is_current and not old.is_current
            assert not new.is_delete_marker and new.size == 3
            assert isinstance(old.version_id, str) and old.version_id
            assert old.last_modified is not None and old.last_modified.tzinfo is not None
            assert d.get("v", version_id=old.version_id) == b"one"
            sink = io.BytesIO()
            assert d.get("v", sink, version_id=old.version_id) is None
            assert sink.getvalue() == b"one"
            seen: List[int] = []
            assert d.get("v", version_id=old.version_id, progress=lambda done, total: seen.append(done)) == b"one"
            assert seen and seen[-1] == 3
            d.get("v", tmp_path / "old", version_id=old.version_id)
            assert (tmp_path / "old").read_bytes() == b"one"
            d.delete("v")
            marker = d.list_versions("v")[0]
            assert marker.is_current and marker.is_delete_marker and marker.size == 0
            with pytest.raises(InvalidArgumentError, match="delete marker"):
                d.restore_version("v", marker.version_id)
            d.restore_version("v", old.version_id)
            assert d.get("v") == b"one"
            # Status -> exception, nothing sent for a bad id.
            for bad in ["", "1&x=2", "a/b"]:
                with pytest.raises(InvalidArgumentError):
                    d.get("v", version_id=bad)
                with pytest.raises(InvalidArgumentError):
                    d.restore_version("v", bad)
            with pytest.raises(InvalidArgumentError):
                d.get("v", version_id="nul\u0000inside")
            with pytest.raises(NotFoundError):
                d.get("v", version_id="1796585440.42492")
            with pytest.raises(NotFoundError):
                d.restore_version("v", "1796585440.42492")
            with pytest.raises(TypeError):
                d.restore_version("v", 17)  # type: ignore[arg-type]
            assert d.list_versions("nothing") == []
        finally:
            _unversion(swift_admin, container)


def test_an_unknown_storage_policy_is_invalid_url(server: Server, container: str) -> None:
    with Destination(server.v3_url(container), options={"openstack-storage-policy": "glacier"}) as d:
        with pytest.raises(InvalidUrlError, match="openstack-storage-policy") as info:
            d.create_container()
        assert "cold" in str(info.value)
