"""The binding against the real Swift + Keystone of the test bed: what the Python layer adds.

One round trip of each kind of source, sink and argument (bytes, paths, file objects, ranges,
listings, versions, metadata and expiry, the options mapping), Entry/Quota/Version values, a
server's error reaching its exception, callbacks (progress, cancel, exceptions re-raised, log lines
to logging), threads (the shared table tests/threads.txt) and close(). What the library answers
(every call's status with a missing container or object, callbacks that stop, ranges, progress) is
tested in C (tests/c/test_calls.inc, test_server.inc); Swift's semantics in Rust (tests/*.rs).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from conftest import REPO_ROOT, Server

from openstack_dest import (CancelledError, ContainerNotEmptyError, ContainerNotFoundError, DeleteManyError,
                            Destination, Entry, InvalidArgumentError, NotFoundError, OpenStackError, Quota, Status,
                            Version, _destination)

pytestmark = pytest.mark.server

MiB = 1024 * 1024


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def by_name(entries: List[Entry]) -> dict:
    return {e.name: e for e in entries}


class Boom(Exception):
    """Raised by test file objects and callbacks."""


class ReadOnlyStream:
    """A non-seekable source with only read() (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + (n if n >= 0 else len(self.data))]
        self.pos += len(chunk)
        return chunk


class FailingStream(ReadOnlyStream):
    """Raises Boom once its data is read, instead of ending."""

    exc = Boom("reader failed")

    def read(self, n: int = -1) -> bytes:
        if self.pos == len(self.data):
            raise self.exc
        return super().read(n)


# ---- every method, each kind of source and sink ------------------------------------------------


def test_every_method_and_kind_of_source_and_sink(server: Server, container: str, tmp_path: Path) -> None:
    """One round trip of each; opened through the options mapping (unknown options are ignored);
    closed by its with block."""
    data = os.urandom(70_000)
    src, out = tmp_path / "src.bin", tmp_path / "out.bin"
    src.write_bytes(data)
    when = 1_600_000_000.123
    os.utime(src, (when, when))
    options = {"auth-password": server.password, "openstack-tenant-name": server.project,
               "openstack-domain-name": "Default", "openstack-authuri": server.auth_v3, "openstack-version": "v3",
               "some-host-option": "ignored"}
    with Destination(f"openstack://{container}/backups/2024?auth-username={server.user}", options) as d:
        assert server.password not in repr(d)
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
        assert (entries["sub"].is_folder, entries["sub"].size, entries["sub"].etag) == (True, None, None)
        e = entries["bytes.bin"]
        assert isinstance(e, Entry) and e.size == len(data) and not e.is_folder and e.etag == md5(data)
        assert e.last_modified is not None and e.last_modified.utcoffset() == timedelta(0)
        assert before < e.last_modified < datetime.now(timezone.utc) + timedelta(minutes=5)
        assert entries["file.bin"].mtime is None  # a listing does not carry the file's time
        with pytest.raises(Exception):
            e.size = 1  # type: ignore[misc]  # frozen
        s = d.stat("file.bin")
        assert s.size == len(data) and not s.is_folder and s.last_modified is not None and s.mtime is not None
        assert abs(s.mtime.timestamp() - when) < 0.001

        d.rename("bytes.bin", "renamed.bin")
        assert d.get("renamed.bin") == data
        d.delete("renamed.bin")
        # A server's answer reaches the exception: the class, the status, HTTP 404, Swift's transaction.
        with pytest.raises(NotFoundError) as info:
            d.stat("renamed.bin")
        err = info.value
        assert (err.status, err.http_status) == (Status.NOT_FOUND, 404) and "transaction tx" in str(err), repr(err)
        got = d.get_range("file.bin", 12_345, 777)
        assert type(got) is bytes and got == data[12_345 : 12_345 + 777]
        assert d.get_range("file.bin", len(data), 0) == b""

        q = d.quota()
        assert isinstance(q, Quota) and q.bytes_used >= 0 and q.object_count >= 0 and q.container_count >= 0
        assert q.quota_bytes is None or q.quota_bytes >= 0
    assert d.closed  # by the with block; close() again does nothing, and calls are refused
    d.close()
    for call in (d.list, lambda: d.put("a", io.BytesIO(b"x"))):
        with pytest.raises(ValueError, match="closed"):
            call()


# ---- threads and close ------------------------------------------------------------------------


def _threads_table() -> Tuple[int, int, List[str]]:
    """(threads, iterations, steps) of tests/threads.txt, the table every binding's driver reads."""
    text = (REPO_ROOT / "tests" / "threads.txt").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert all(len(row) == 2 and row[0] in ("threads", "iterations", "step") for row in rows), rows
    values = dict(row for row in rows if row[0] != "step")
    threads, iterations = int(values["threads"]), int(values["iterations"])
    steps = [value for key, value in rows if key == "step"]
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
            data = os.urandom((t * 7919 + i * 104729) % 70000)
            for what in steps:
                step(what, t, i, f"t{t}/obj-{i}", data)
        return iterations

    with ThreadPoolExecutor(max_workers=threads) as pool:
        assert sum(pool.map(work, range(threads))) == threads * iterations


def test_close_waits_for_running_calls(server: Server, container: str) -> None:
    d = Destination(server.v3_url(container))
    d.create_container()
    started = threading.Event()
    done: List[bytes] = []

    def upload() -> None:
        d.put("slow", os.urandom(4 * MiB), progress=lambda n, total: started.set() or time.sleep(0.01))
        done.append(b"ok")

    t = threading.Thread(target=upload)
    t.start()
    assert started.wait(30)
    d.close()  # must wait for the upload instead of freeing the handle under it
    t.join(60)
    assert done == [b"ok"]
    with pytest.raises(ValueError):
        d.get("slow")


# ---- callbacks: progress, cancel, exceptions, log lines ----------------------------------------


def test_progress_cancel_and_callback_exceptions(dest: Destination, tmp_path: Path) -> None:
    """Each way of putting and getting reports progress (the total None when the size is unknown);
    returning False cancels; an exception in a reader, writer or progress callback stops the call
    and is re-raised as it is, and the handle goes on working."""
    data = os.urandom(8 * MiB)  # a stream this long is not read ahead: its size stays unknown
    src, back = tmp_path / "prog.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    seen: List[Tuple[int, Optional[int]]] = []
    got: List[bytes] = []

    def record(done: int, total: Optional[int]) -> None:
        seen.append((done, total))

    sink = io.BytesIO()
    for call, totals in ((lambda: dest.put("prog", data, progress=record), {len(data)}),
                         (lambda: dest.put("prog-stream", ReadOnlyStream(data), progress=record), {None}),
                         (lambda: dest.put("prog-file", src, progress=record), {len(data)}),
                         (lambda: dest.get("prog", back, progress=record), {len(data), None}),
                         (lambda: dest.get("prog", sink, progress=record), {len(data), None}),
                         (lambda: got.append(dest.get("prog", progress=record)), {len(data), None})):
        seen.clear()
        call()
        assert seen and seen[-1][0] == len(data) and {t for _, t in seen} <= totals, seen[-3:]
        assert [n for n, _ in seen] == sorted(n for n, _ in seen)  # never backwards (C: segmented only)
    assert back.read_bytes() == sink.getvalue() == data and got == [data]
    with pytest.raises(CancelledError) as info:
        dest.put("cancelled", io.BytesIO(data), progress=lambda done, total: False)
    assert info.value.status == Status.CANCELLED

    exc = Boom("progress failed")

    def raising(done: int, total: Optional[int]) -> None:
        raise exc

    class FailingWriter:
        exc = Boom("writer failed")

        def write(self, b: bytes) -> int:
            raise self.exc

    reader, writer = FailingStream(data[:MiB]), FailingWriter()
    for call, raised in ((lambda: dest.put("failing", reader), reader.exc),
                         (lambda: dest.get("prog", writer), writer.exc),
                         (lambda: dest.put("p", data, progress=raising), exc),
                         (lambda: dest.get("prog", io.BytesIO(), progress=raising), exc)):
        with pytest.raises(Boom) as boom:
            call()
        assert boom.value is raised
    assert dest.get("prog") == data  # the handle is fine afterwards


def test_library_logs_reach_python_logging(server: Server, container: str, caplog: Any) -> None:
    with caplog.at_level(logging.DEBUG, logger="openstack_dest"):
        with Destination(server.v3_url(container, region="NoSuchRegion")) as d:
            d.create_container()
            d.put("logged", b"x")
    records = [r.getMessage() for r in caplog.records if r.name == "openstack_dest"]
    assert records, "no log line from the library reached logging"
    assert server.password not in "\n".join(records)
    assert any("NoSuchRegion" in r or "region" in r.lower() for r in records), records


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def test_large_file_streams_through_file_objects_in_bounded_memory(dest: Destination, tmp_path: Path) -> None:
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc/self/status to measure peak memory")
    size = 160 * MiB + 12345  # more than the 64 MiB allowed growth: holding it would show
    src, out = tmp_path / "large.bin", tmp_path / "large.out"
    digest, back = hashlib.sha256(), hashlib.sha256()
    block = os.urandom(4 * MiB)
    with open(src, "wb") as f:
        for i in range(0, size, len(block)):  # vary the content cheaply: a misplaced block would show
            chunk = ((i // len(block)).to_bytes(8, "little") + block[8:])[: size - i]
            f.write(chunk)
            digest.update(chunk)
    del block
    try:  # reset the peak (VmHWM) where the kernel allows it
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _vm_kib("VmRSS")
    except OSError:
        base = _vm_kib("VmHWM")
    progress: List[int] = []
    with open(src, "rb") as f:
        dest.put("large.bin", f, progress=lambda done, total: progress.append(done))
    assert progress and progress[-1] == size and dest.stat("large.bin").size == size
    with open(out, "wb") as f:
        dest.get("large.bin", f)
    peak_growth = (_vm_kib("VmHWM") - base) * 1024
    with open(out, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MiB), b""):
            back.update(chunk)
    assert out.stat().st_size == size and back.hexdigest() == digest.hexdigest()
    assert peak_growth < 64 * MiB, f"peak memory grew by {peak_growth / MiB:.1f} MiB"
    dest.delete("large.bin")


# ---- listings, delete_container, delete_many, sweep_segments ------------------------------------


def test_list_iter_entries_and_delete_container(dest: Destination, monkeypatch: Any) -> None:
    names = ["a.txt", "dir/b.txt", "dir/sub/c.txt", "e.txt"]
    for n in names:
        dest.put(n, n.encode())
    top = dest.list()
    assert [e.name for e in top] == ["a.txt", "dir", "e.txt"]
    assert [e.name for e in dest.list(recursive=True)] == names
    assert [(e.name, e.is_folder) for e in dest.list("dir/")] == [("dir/b.txt", False), ("dir/sub", True)]
    # The generator: the same entries; leaving early stops the listing.
    assert list(dest.iter_entries(recursive=True)) == dest.list(recursive=True)
    assert list(dest.iter_entries()) == top
    it = dest.iter_entries(recursive=True)
    assert [next(it).name, next(it).name] == ["a.txt", "dir/b.txt"]
    it.close()
    assert next(iter(dest.iter_entries("dir/", recursive=True))).name == "dir/b.txt"
    # An exception raised inside the ctypes callback stops the listing and is re-raised after.
    seen: List[str] = []
    real = _destination._entry_from

    def failing(raw: Any) -> Entry:
        seen.append(real(raw).name)
        if len(seen) == 2:
            raise Boom("in the entry callback")
        return real(raw)

    monkeypatch.setattr(_destination, "_entry_from", failing)
    for call in (lambda: dest.list(recursive=True), lambda: list(dest.iter_entries(recursive=True))):
        seen.clear()
        with pytest.raises(Boom, match="in the entry callback"):
            call()
        assert seen == ["a.txt", "dir/b.txt"]
    monkeypatch.undo()
    assert [e.name for e in dest.list(recursive=True)] == names  # the handle still works
    with pytest.raises(ContainerNotEmptyError):  # empty_first reaches the library both ways
        dest.delete_container()
    dest.delete_container(empty_first=True)
    with pytest.raises(ContainerNotFoundError):
        dest.list()


def test_delete_many_and_sweep_segments(server: Server, container: str) -> None:
    # 1 MiB segments, and an interrupted upload leaves its own (openstack-leave-segments) to sweep.
    options = {"openstack-segment-size": "1MiB", "openstack-leave-segments": "true"}
    with Destination(server.v3_url(container), options) as d:
        d.create_container()
        names = [f"many/{i}" for i in range(3)]
        for n in names:
            d.put(n, n.encode())
        assert d.delete_many(iter(names)) == 3 and d.delete_many([]) == 0
        d.put("many/kept", b"x")
        with pytest.raises(DeleteManyError) as info:
            d.delete_many(["many/kept", "a/../b"])
        err = info.value
        assert isinstance(err, OpenStackError) and err.deleted == 1
        assert [name for name, _ in err.failures] == ["a/../b"] and isinstance(err.failures[0][1], InvalidArgumentError)

        def stop(done: int, total: Optional[int]) -> None:
            if done > MiB:
                raise Boom("stop")

        with pytest.raises(Boom):
            d.put("left.bin", os.urandom(3 * MiB), progress=stop)
        with Destination(server.v3_url(container + "_segments")) as seg:
            left = seg.list(recursive=True)
        assert left, "the interrupted upload left nothing to sweep"
        assert d.sweep_segments(timedelta(0)) == (len(left), sum(e.size or 0 for e in left))


# ---- versions and metadata: each call once, with each kind of argument -------------------------


def test_versions_calls(dest: Destination, tmp_path: Path) -> None:
    """The versions calls on a container without versioning: one version, "null" (with versioning,
    several versions and delete markers: tests/versions.rs)."""
    dest.put("v", b"one")
    (version,) = dest.list_versions("v")
    assert type(version) is Version and (version.version_id, version.size, version.is_current) == ("null", 3, True)
    assert not version.is_delete_marker and version.last_modified and version.last_modified.tzinfo is not None
    assert dest.get("v", version_id="null") == b"one"
    seen: List[int] = []
    assert dest.get("v", version_id="null", progress=lambda done, total: seen.append(done)) == b"one"
    assert seen and seen[-1] == 3
    sink = io.BytesIO()
    assert dest.get("v", sink, version_id="null") is None and sink.getvalue() == b"one"
    dest.get("v", tmp_path / "old", version_id="null")
    assert (tmp_path / "old").read_bytes() == b"one"
    dest.restore_version("v", "null")  # the current one: nothing to do
    assert dest.list_versions("nothing") == []


def _near(at: Any, seconds: float) -> None:
    assert isinstance(at, datetime) and at.tzinfo is not None
    assert abs(at.timestamp() - (time.time() + seconds)) < 120, at


def test_metadata_and_expiry_arguments(dest: Destination, tmp_path: Path) -> None:
    dest.put("a", b"data", metadata={"Backup-Set": "7", "color": "blüe 50%"}, delete_after=timedelta(days=1))
    e = dest.stat("a")
    assert e.metadata == {"backup-set": "7", "color": "blüe 50%"} and e.mtime is None
    _near(e.delete_at, 86400)
    src = tmp_path / "f.txt"  # a file, with delete_at as an aware datetime
    src.write_bytes(b"file")
    at = datetime.now(timezone.utc) + timedelta(days=2)
    dest.put("f.txt", src, metadata={"a": "1", "b": "2"}, delete_at=at)
    e = dest.stat("f.txt")
    assert e.mtime is not None and e.metadata == {"a": "1", "b": "2"}
    assert e.delete_at is not None and int(e.delete_at.timestamp()) == int(at.timestamp()) + 1  # rounded up
    with open(src, "rb") as f:  # a stream, delete_after in seconds
        dest.put("streamed", f, metadata={"kind": "stream"}, delete_after=3600)
    assert dest.stat("streamed").metadata == {"kind": "stream"}
    _near(dest.stat("streamed").delete_at, 3600)
    dest.put("progress", b"p" * 1000, metadata={"kind": "bytes"}, progress=lambda done, total: True)
    assert dest.stat("progress").metadata == {"kind": "bytes"}
    dest.update_metadata("f.txt", {"b": "3", "a": ""})  # "" removes a key
    assert dest.stat("f.txt").metadata == {"b": "3"}
    dest.update_metadata("f.txt", no_expiry=True)
    assert dest.stat("f.txt").delete_at is None
    dest.update_metadata("f.txt", delete_after=timedelta(hours=5))
    _near(dest.stat("f.txt").delete_at, 5 * 3600)
    listed = by_name(dest.list())  # listing entries carry neither
    assert listed["a"].metadata == {} and listed["a"].delete_at is None
    assert len({e, dest.stat("a")}) >= 1  # entries stay hashable
