"""The binding against the real Swift + Keystone of the test bed (tests/openstack/testbed.sh).

Skipped, with the reason, when tests/openstack/server-env.sh found no test bed (see conftest.py).
These test the Python layer: one round trip of every method and of each kind of source, sink and
option, Entry/Quota/Version values, statuses mapped to exceptions, callbacks (reader, writer,
progress, entries) that raise or cancel, threads (the shared table tests/threads.txt), close().
Swift's semantics (listings, prefixes, large objects, rename, versions, metadata, expiry, sweeps)
are tested once, in Rust (tests/real_swift.rs, large_objects.rs, lifecycle.rs, versions.rs,
metadata.rs, delete_many.rs).
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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from conftest import REPO_ROOT, Server, SwiftAdmin

from openstack_dest import (CancelledError, ContainerNotEmptyError, ContainerNotFoundError, DeleteManyError,
                            Destination, Entry, ForbiddenError, InvalidArgumentError, NotFoundError, OpenStackError,
                            Quota, Status, Version, _destination)

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
        self.limit, self.pos, self.exc = limit, 0, Boom(f"reader failed after {limit} bytes")

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
        self.limit, self.got, self.exc = limit, 0, Boom(f"writer failed after {limit} bytes")

    def write(self, data: Any) -> int:
        if self.got + len(data) > self.limit:
            raise self.exc
        self.got += len(data)
        return len(data)


class ReadOnlyStream:
    """A non-seekable source with only read() (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + (n if n >= 0 else len(self.data))]
        self.pos += len(chunk)
        return chunk


# ---- every method, Keystone v3 ------------------------------------------------------------------


def test_every_method_and_kind_of_source_and_sink(server: Server, container: str, tmp_path: Path) -> None:
    """One round trip of each; opened through the options mapping (unknown options are ignored)."""
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
        with pytest.raises(NotFoundError):
            d.stat("renamed.bin")
        got = d.get_range("file.bin", 12_345, 777)
        assert type(got) is bytes and got == data[12_345 : 12_345 + 777]
        assert d.get_range("file.bin", len(data), 0) == b""

        q = d.quota()
        assert isinstance(q, Quota) and q.bytes_used >= 0 and q.object_count >= 0 and q.container_count >= 0
        assert q.quota_bytes is None or q.quota_bytes >= 0


# ---- errors -------------------------------------------------------------------------------------


def test_missing_container_object_and_rights(server: Server, container: str, tmp_path: Path) -> None:
    with Destination(server.v3_url(container)) as d:
        for call in (d.test, d.list, lambda: d.put("a", b"x"), lambda: d.get("a"), d.delete_container):
            with pytest.raises(ContainerNotFoundError) as info:
                call()
            assert (info.value.status, info.value.http_status) == (Status.CONTAINER_NOT_FOUND, 404)
        d.create_container()
        d.put("existing", b"data")
        for call in (lambda: d.get("nope"), lambda: d.get("nope", tmp_path / "x"), lambda: d.get("nope", io.BytesIO()),
                     lambda: d.stat("nope"), lambda: d.delete("nope"), lambda: d.rename("nope", "other"),
                     lambda: d.get_range("nope", 0, 1), lambda: d.update_metadata("nope", {"a": "1"})):
            with pytest.raises(NotFoundError) as info:
                call()
            assert info.value.status == Status.NOT_FOUND and info.value.http_status in (404, None) and str(info.value)
        url = server.v3_url(container, user=server.reader_user, password=server.reader_password)
        with Destination(url) as reader:
            with pytest.raises(ForbiddenError) as info:
                reader.put("new", b"x")
            assert info.value.http_status == 403 and server.reader_password not in str(info.value)
        assert d.get("existing") == b"data"


# ---- threads ----------------------------------------------------------------------------------


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
    for call in (lambda: dest.put("p", b"x" * MiB, progress=progress),
                 lambda: dest.get("big", io.BytesIO(), progress=progress)):
        with pytest.raises(Boom) as info:
            call()
        assert info.value is exc


def test_progress_reports_and_can_cancel(dest: Destination, tmp_path: Path) -> None:
    data = os.urandom(8 * MiB)
    src, back = tmp_path / "prog.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    seen: List[Tuple[int, Optional[int]]] = []
    got: List[bytes] = []

    def record(done: int, total: Optional[int]) -> None:
        seen.append((done, total))

    # (call, the totals it reports): the size when known, None for a stream of unknown size.
    for call, totals in ((lambda: dest.put("prog", data, progress=record), {len(data)}),
                         (lambda: dest.put("prog-stream", ReadOnlyStream(data), progress=record), {None}),
                         (lambda: dest.put("prog-file", src, progress=record), {len(data)}),
                         (lambda: dest.get("prog", back, progress=record), {len(data), None}),
                         (lambda: got.append(dest.get("prog", progress=record)), {len(data), None})):
        seen.clear()
        call()
        assert seen and seen[-1][0] == len(data) and {t for _, t in seen} <= totals, seen[-3:]
        assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    assert back.read_bytes() == data and got == [data]
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
    records = [r.getMessage() for r in caplog.records if r.name == "openstack_dest"]
    assert records, "no log line from the library reached logging"
    assert server.password not in "\n".join(records)
    assert any("NoSuchRegion" in r or "region" in r.lower() for r in records), records


# ---- a large file through file objects, in bounded memory -------------------------------------


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def test_large_file_streams_in_bounded_memory(dest: Destination, tmp_path: Path) -> None:
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
    base = _vm_kib("VmRSS") if _reset_peak() else _vm_kib("VmHWM")
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


# ---- listings through callbacks, delete_container, delete_many ----------------------------------


def test_list_iter_entries_and_delete_container(dest: Destination, monkeypatch: Any) -> None:
    names = ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir2/d.txt", "e.txt"]
    for n in names:
        dest.put(n, n.encode())
    top = dest.list()
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
    with pytest.raises(ContainerNotEmptyError) as info:
        dest.delete_container()
    assert info.value.status == Status.CONTAINER_NOT_EMPTY
    dest.delete_container(empty_first=True)
    with pytest.raises(ContainerNotFoundError):
        dest.list()


def test_delete_many_reports_each_failure(dest: Destination) -> None:
    names = [f"many/{i}" for i in range(3)]
    for n in names:
        dest.put(n, n.encode())
    assert dest.delete_many(names + ["many/missing"]) == 3  # deleted now; the missing one is not counted
    assert dest.delete_many([]) == 0
    dest.put("many/kept", b"x")
    with pytest.raises(DeleteManyError) as info:
        dest.delete_many(["many/kept", "a/../b"])
    err = info.value
    assert isinstance(err, OpenStackError) and err.deleted == 1
    assert [name for name, _ in err.failures] == ["a/../b"] and isinstance(err.failures[0][1], InvalidArgumentError)


# ---- large objects: progress on the calling thread, cancel, sweep_segments' tuple ----------------


def test_segmented_progress_cancel_and_sweep(server: Server, container: str, tmp_path: Path) -> None:
    size = 3 * MiB + 4321  # three full 1 MiB segments and a short fourth
    data = os.urandom(size)
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    caller = threading.get_ident()
    seen: List[Tuple[int, Optional[int], int]] = []
    options = {"openstack-segment-size": "1MiB", "openstack-leave-segments": "true"}
    with Destination(server.v3_url(container), options) as d:
        d.create_container()
        d.put("big.bin", src, progress=lambda done, total: seen.append((done, total, threading.get_ident())))
        assert seen and {t for _, _, t in seen} == {caller}, "progress ran on a worker thread"
        assert {total for _, total, _ in seen} == {size}
        assert [n for n, _, _ in seen] == sorted(n for n, _, _ in seen) and seen[-1][0] == size
        assert d.get_range("big.bin", MiB - 3, 6) == data[MiB - 3 : MiB + 3]
        d.get("big.bin", back)
        assert back.read_bytes() == data
        assert (d.stat("big.bin").kind, d.stat("big.bin").etag_is_md5) == ("static_large", False)
        # Cancelling (progress returns False), on the calling thread too; its segments stay.
        calls: List[int] = []
        with pytest.raises(CancelledError) as info:
            d.put("cancelled.bin", src,
                  progress=lambda done, total: calls.append(threading.get_ident()) or done < 2 * MiB)
        assert info.value.status == Status.CANCELLED and calls and set(calls) == {caller}
        d.delete("big.bin")
        with Destination(server.v3_url(container + "_segments")) as seg:
            left = seg.list(recursive=True)
        assert left, "the interrupted upload left nothing to sweep"
        assert d.sweep_segments(timedelta(0)) == (len(left), sum(e.size or 0 for e in left))


# ---- versions and metadata: each call once, with each kind of argument -------------------------


def test_versions_round_trip(server: Server, container: str, swift_admin: SwiftAdmin, tmp_path: Path) -> None:
    with Destination(server.v3_url(container), options={"openstack-versioning": "true"}) as d:
        d.create_container()
        try:
            d.put("v", b"one")
            d.put("v", b"two")
            versions = d.list_versions("v")
            assert [type(v) for v in versions] == [Version, Version]
            new, old = versions
            assert new.is_current and not old.is_current and not new.is_delete_marker and new.size == 3
            assert isinstance(old.version_id, str) and old.version_id
            assert old.last_modified is not None and old.last_modified.tzinfo is not None
            assert d.get("v", version_id=old.version_id) == b"one"
            sink = io.BytesIO()
            assert d.get("v", sink, version_id=old.version_id) is None and sink.getvalue() == b"one"
            seen: List[int] = []
            assert d.get("v", version_id=old.version_id, progress=lambda done, total: seen.append(done)) == b"one"
            assert seen and seen[-1] == 3
            d.get("v", tmp_path / "old", version_id=old.version_id)
            assert (tmp_path / "old").read_bytes() == b"one"
            d.delete("v")
            marker = d.list_versions("v")[0]
            assert marker.is_current and marker.is_delete_marker and marker.size == 0
            d.restore_version("v", old.version_id)
            assert d.get("v") == b"one"
            with pytest.raises(InvalidArgumentError):
                d.get("v", version_id="1&x=2")
            for call in (lambda: d.get("v", version_id="1796585440.42492"),
                         lambda: d.restore_version("v", "1796585440.42492")):
                with pytest.raises(NotFoundError):
                    call()
            assert d.list_versions("nothing") == []
        finally:  # versioning off and every version deleted, so that the fixture can remove it
            base = f"{swift_admin.storage_url}/{container}"
            swift_admin.call("POST", base, {"X-Versions-Enabled": "false"})
            for row in json.loads(swift_admin.call("GET", base + "?versions&format=json") or b"[]"):
                swift_admin.call("DELETE", f"{base}/{urllib.parse.quote(row['name'])}?version-id={row['version_id']}")


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
    with pytest.raises(InvalidArgumentError, match="256"):  # the library's own refusal, mapped
        dest.put("too-long", b"x", metadata={"k": "v" * 257})
    listed = by_name(dest.list())  # listing entries carry neither
    assert listed["a"].metadata == {} and listed["a"].delete_at is None
    assert len({e, dest.stat("a")}) >= 1  # entries stay hashable
