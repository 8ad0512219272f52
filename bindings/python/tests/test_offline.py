"""The Python layer without a server: status -> exception, the arguments Python refuses itself,
the C callbacks and structures marshalled by hand, the library lookup, a host's log callback.
What the library answers to bad arguments is tested in C (tests/c/test_calls.inc, test_main.c)."""

from __future__ import annotations

import ctypes
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Tuple, Type

import pytest

from conftest import OFFLINE_URL, PACKAGE_ROOT, REPO_ROOT, SECRET

import openstack_dest
from openstack_dest import Destination, InvalidArgumentError, OpenStackError, Status
from openstack_dest import _destination as dm
from openstack_dest import errors as errors_mod
from openstack_dest._bindings import EntryKindCode, OsEntry, OsObjectVersion

# ---- status -> exception ----------------------------------------------------------------------

_PAIRS = """
    INVALID_ARGUMENT InvalidArgumentError   INVALID_URL InvalidUrlError   AUTH AuthError
    FORBIDDEN ForbiddenError   NOT_FOUND NotFoundError   CONTAINER_NOT_FOUND ContainerNotFoundError
    ENDPOINT_NOT_FOUND EndpointNotFoundError   TOO_LARGE TooLargeError   INTEGRITY IntegrityError
    NETWORK NetworkError   TIMEOUT OpenStackTimeoutError   SERVER ServerError   LOCAL_IO LocalIOError
    CANCELLED CancelledError   PANIC InternalError   CALLBACK CallbackError   HTTP HttpError
    CONTAINER_NOT_EMPTY ContainerNotEmptyError   TLS TlsError""".split()
CLASSES = dict(zip(_PAIRS[::2], _PAIRS[1::2]))


def test_one_exception_class_per_status() -> None:
    assert set(CLASSES) == {s.name for s in Status if s != Status.OK}
    classes = set()
    for status, name in CLASSES.items():
        err = errors_mod.error_for(int(Status[status]), "boom", 404)
        assert type(err) is getattr(openstack_dest, name) and isinstance(err, OpenStackError)
        assert err.status == Status[status] and isinstance(err.status, int)
        assert (err.http_status, str(err)) == (404, "boom")
        classes.add(type(err))
    assert len(classes) == len(CLASSES)
    # TLS failures were NetworkError before they had a status: `except NetworkError` stays.
    assert isinstance(errors_mod.error_for(int(Status.TLS), "bad certificate"), openstack_dest.NetworkError)
    with pytest.raises(TimeoutError):  # a built-in TimeoutError too
        raise errors_mod.error_for(int(Status.TIMEOUT), "slow", None)
    err = errors_mod.error_for(999, "from the future")
    assert type(err) is OpenStackError and (err.status, err.http_status, str(err)) == (999, None, "from the future")
    assert "998" in str(errors_mod.error_for(998, ""))


# ---- arguments refused by Python, before the library -----------------------------------------

# A NUL would end the C string early ("c\0/p" would be "c"): every string that crosses into the
# library is refused first, like the library refuses what it cannot read (invalid UTF-8):
# InvalidArgumentError naming the argument, never showing a value (it may be a password).
NUL_SECRET = "Nul-Secret-Pa55"
NO_PASSWORD = OFFLINE_URL.replace("auth-password=" + SECRET, "")
NUL = ("NUL|Unicode",)
I, T = InvalidArgumentError, TypeError
BAD_OPTIONS: List[Dict[str, Any]] = [
    {"metadata": {"k": "nul\0"}}, {"metadata": {"k\0": "v"}}, {"metadata": {"mtime": "1"}},  # mtime: the library's
    {"delete_after": 0}, {"delete_after": timedelta(seconds=-5)}, {"delete_at": datetime(2000, 1, 1)},  # naive
    {"delete_after": 10, "no_expiry": True}, {"delete_after": 10, "delete_at": time.time() + 100},
]
Case = Tuple[Callable[[], Any], Type[BaseException], Tuple[str, ...]]


def _cases(d: Destination, tmp: Path, source: io.BytesIO, sink: io.BytesIO, text_files: List[Any]) -> Dict[str, Case]:
    """what -> (call, the exception it must raise, patterns its message must match)."""
    local, bad = str(tmp / "a"), str(tmp / "a") + "\0.bak"
    reader, writer = text_files
    no = lambda done, total: None  # noqa: E731
    cases: Dict[str, Case] = {
        "open url": (lambda: Destination("openstack://c\0/p?auth-username=a"), I, NUL),
        "open option name": (lambda: Destination(OFFLINE_URL, {"openstack-region\0x": "R"}), I, NUL),
        "open option value": (lambda: Destination(NO_PASSWORD, {"auth-password": NUL_SECRET + "\0t"}), I,
                              NUL + ("auth-password",)),
        "open url password": (lambda: Destination(NO_PASSWORD + "&auth-password=" + NUL_SECRET + "\0t"), I, NUL),
        "open url surrogate": (lambda: Destination("openstack://c/p?auth-username=a\udc80"), I, NUL),
        "open option surrogate": (lambda: Destination(OFFLINE_URL, {"openstack-region": "b\ud800"}), I, NUL),
        "put(path)": (lambda: d.put("keep", bad), I, NUL),
        "put(PathLike)": (lambda: d.put("keep", Path(bad)), I, NUL),
        "put(path) surrogate": (lambda: d.put("keep", str(tmp / "b\ud800")), I, NUL),
        "get(path)": (lambda: d.get("keep", bad), I, NUL),
        "get(PathLike)": (lambda: d.get("keep", Path(bad)), I, NUL),
        "get(path) surrogate": (lambda: d.get("keep", str(tmp / "b\ud800")), I, NUL),
        "get(version_id)": (lambda: d.get("v", version_id="nul\0inside"), I, ()),
        "restore_version(version_id)": (lambda: d.restore_version("v", "nul\0inside"), I, NUL),
        "get_range": (lambda: d.get_range("keep\0x", 0, 1), I, NUL),
        "rename(old)": (lambda: d.rename("keep\0x", "b"), I, NUL),
        "rename(new)": (lambda: d.rename("a", "keep\0x"), I, NUL),
        "restore_version(name)": (lambda: d.restore_version("keep\0x", "null"), I, NUL),
        "delete_many": (lambda: d.delete_many(["nul\0inside"]), I, ()),
        "list(prefix)": (lambda: d.list("bad\0prefix"), I, ()),
        "iter_entries(prefix)": (lambda: d.iter_entries("bad\0prefix"), I, ()),
        "sweep_segments(-1 s)": (lambda: d.sweep_segments(timedelta(seconds=-1)), I, ("negative",)),
        "restore_version(17)": (lambda: d.restore_version("v", 17), T, ()),  # type: ignore[arg-type]
        "put(int)": (lambda: d.put("a", 12345), T, ()),  # type: ignore[arg-type]
        "get(int)": (lambda: d.get("a", 12345), T, ()),  # type: ignore[call-overload]
        "put(bytes name)": (lambda: d.put(b"name", b"x"), T, ()),  # type: ignore[arg-type]
        "put(text file)": (lambda: d.put("a", reader), T, ("binary",)),  # type: ignore[arg-type]
        "get(text file)": (lambda: d.get("a", writer), T, ("binary",)),  # type: ignore[call-overload]
        "put(metadata int)": (lambda: d.put("x", b"x", metadata={"k": 1}), T, ()),  # type: ignore[dict-item]
        "put(delete_after str)": (lambda: d.put("x", b"x", delete_after="1d"), T, ()),  # type: ignore[arg-type]
        "put(delete_at bool)": (lambda: d.put("x", b"x", delete_at=True), T, ()),
    }
    # The object name of each form of put and get (each goes its own way into the library).
    for form, src, dst in (("bytes", b"x", None), ("path", local, local), ("stream", source, sink)):
        for p in (None, no):
            cases[f"put({form}, progress={p}) name"] = (lambda s=src, p=p: d.put("keep\0x", s, progress=p), I, NUL)
            cases[f"get({form}, progress={p}) name"] = (lambda t=dst, p=p: d.get("keep\0x", t, progress=p), I, NUL)
    for method in ("stat", "delete", "list_versions", "update_metadata"):
        cases[f"{method} name"] = (lambda m=method: getattr(d, m)("keep\0x"), I, NUL)
    # get_range: a negative or too large offset or length would wrap in ctypes' uint64_t.
    for off, length in ((-1, 1), (0, -1), (2**64, 1), (0, 2**64)):
        cases[f"get_range({off}, {length})"] = (lambda o=off, n=length: d.get_range("a", o, n), I, ("negative|over",))
    for off, length in ((1.5, 1), (0, "1"), (True, 1)):
        cases[f"get_range({off!r}, {length!r})"] = (lambda o=off, n=length: d.get_range("a", o, n), T, ())
    for kwargs in BAD_OPTIONS:
        cases[f"put({kwargs})"] = (lambda k=kwargs: d.put("x", b"x", **k), I, ())
        cases[f"update_metadata({kwargs})"] = (lambda k=kwargs: d.update_metadata("x", **k), I, ())
    return cases


def test_bad_arguments_are_refused_before_anything_is_sent(offline: Destination, tmp_path: Path) -> None:
    # offline reaches nothing: an argument that got through would fail with a network error instead.
    (tmp_path / "a").write_bytes(b"abc")
    (tmp_path / "t.txt").write_text("hello")
    source, sink = io.BytesIO(b"data"), io.BytesIO()
    wrong = []
    with open(tmp_path / "t.txt", "r") as reader, open(tmp_path / "t.txt", "a") as writer:
        for what, (call, cls, patterns) in _cases(offline, tmp_path, source, sink, [reader, writer]).items():
            try:
                call()
                wrong.append(f"{what}: no error")
            except cls as err:
                text = str(err)
                if isinstance(err, OpenStackError) and (err.status, err.http_status) != (Status.INVALID_ARGUMENT, None):
                    wrong.append(f"{what}: {err!r}")
                elif not all(re.search(p, text) for p in patterns):
                    wrong.append(f"{what}: the message does not match {patterns}: {text}")
                elif any(s in t for s in (SECRET, NUL_SECRET) for t in (text, repr(err))):
                    wrong.append(f"{what}: the message shows a secret: {err!r}")
            except Exception as err:  # noqa: BLE001 - collected and reported together
                wrong.append(f"{what}: {err!r}")
    assert not wrong, "\n".join(wrong)
    assert source.tell() == 0 and sink.getvalue() == b""
    assert (tmp_path / "a").read_bytes() == b"abc" and sorted(p.name for p in tmp_path.iterdir()) == ["a", "t.txt"]


# ---- the C callbacks and structures, called and built directly --------------------------------


def test_read_rewind_write_callbacks_through_c_pointers() -> None:
    """What a server cannot be made to do: rewind, short writes, a text read(), stale contexts.
    (Progress callbacks that go on, cancel or raise: test_server.py.)"""
    buf = (ctypes.c_char * 8)()
    at = ctypes.addressof(buf)
    src = io.BytesIO(b"0123456789abcdef")
    src.seek(4)
    state = dm._CallState(progress=None)
    state.source, state.start = src, 4
    with dm._Registered(state) as key:
        assert dm._READ_CALLBACK(key, at, 8) == 8 and buf.raw == b"456789ab"
        assert dm._READ_CALLBACK(key, at, 8) == 4 and buf.raw[:4] == b"cdef"
        assert dm._READ_CALLBACK(key, at, 8) == 0  # end
        assert dm._REWIND_CALLBACK(key) == 0  # back to where the upload started
        assert dm._READ_CALLBACK(key, at, 8) == 8 and buf.raw == b"456789ab"

    state = dm._CallState(progress=None)  # a source with only read() works too; a text one is an error, stored
    state.source = SimpleNamespace(read=lambda n: "text")
    with dm._Registered(state) as key:
        assert dm._READ_CALLBACK(key, at, 8) < 0
    assert isinstance(state.error, TypeError)
    got: List[bytes] = []  # the write callback copies the library's buffer and handles short writes
    state = dm._CallState(progress=None)
    state.sink = SimpleNamespace(write=lambda b: got.append(bytes(b[:3])) or min(3, len(b)))
    data = ctypes.create_string_buffer(b"hello world", 11)
    with dm._Registered(state) as key:
        assert dm._WRITE_CALLBACK(key, ctypes.addressof(data), 11) == 0
    assert b"".join(got) == b"hello world"

    # Unknown contexts (a stale pointer) never crash.
    assert dm._READ_CALLBACK(987654321, at, 8) < 0
    assert dm._WRITE_CALLBACK(987654321, at, 8) != 0
    assert dm._REWIND_CALLBACK(987654321) != 0
    assert not dm._states


def test_entries_are_read_from_the_c_entry() -> None:
    md5 = b"0123456789abcdef0123456789abcdef"
    for code, kind, etag_is_md5 in ((EntryKindCode.OBJECT, "object", True), (EntryKindCode.FOLDER, "folder", False),
                                    (EntryKindCode.STATIC_LARGE, "static_large", False),
                                    (EntryKindCode.DYNAMIC_LARGE, "dynamic_large", False)):
        raw = OsEntry(name=b"a", size=5, last_modified_ms=-1, is_folder=False, etag=md5, mtime_ms=-1,
                      delete_at_ms=-1, kind=code)
        entry = dm._entry_from(raw)
        assert (entry.kind, entry.etag_is_md5, entry.name, entry.size) == (kind, etag_is_md5, "a", 5)
    raw = OsEntry(name=b"a", size=0, last_modified_ms=-1, is_folder=False, etag=None, mtime_ms=-1, delete_at_ms=-1,
                  kind=EntryKindCode.OBJECT)
    assert dm._entry_from(raw).etag_is_md5 is False  # an object without ETag has no MD5
    raw.kind = 7
    with pytest.raises(openstack_dest.InternalError, match="unknown entry kind 7"):
        dm._entry_from(raw)
    # Code that builds Entry values itself (tests, adapters) keeps working without a kind.
    assert openstack_dest.Entry("a", 1, None, False, "x").kind == "object"


def test_list_versions_reads_the_whole_array(offline: Destination, monkeypatch: Any) -> None:
    """Two versions, the older a delete marker (real ones: tests/versions.rs; a real "null" version:
    test_server.py), from a stand-in for os_list_versions; the array freed with its count."""
    versions = (OsObjectVersion * 2)(OsObjectVersion(b"1796585440.42492", 3, 1_000_000, True, False),
                                     OsObjectVersion(b"17.5", -1, -1, False, True))
    freed: List[int] = []

    class Lib:
        def __getattr__(self, name: str) -> Any:
            return getattr(dm._native.lib, name)

        def os_list_versions(self, handle: int, name: bytes, out: Any, count: Any) -> int:
            out._obj.contents, count._obj.value = versions[0], 2
            return 0

        def os_versions_free(self, array: Any, count: Any) -> None:
            freed.append(count.value)

    monkeypatch.setattr(dm, "lib", Lib())
    assert offline.list_versions("v") == [
        openstack_dest.Version("1796585440.42492", 3, datetime.fromtimestamp(1000, timezone.utc), True, False),
        openstack_dest.Version("17.5", None, None, False, True)]
    assert freed == [2]


# ---- library lookup ---------------------------------------------------------------------------


def _run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENSTACK_DEST_LIB", "LD_LIBRARY_PATH", "PYTHONPATH")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**clean, **env}, cwd=str(cwd),
                          capture_output=True, text=True, timeout=60)


WHERE = "import openstack_dest; print(openstack_dest.library_path)"


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The package's Python files copied outside any checkout, without a library."""
    dst = tmp_path / "site" / "openstack_dest"
    dst.mkdir(parents=True)
    for f in Path(openstack_dest.__file__).parent.iterdir():
        if f.suffix in (".py", ".typed"):
            shutil.copy2(f, dst / f.name)
    return dst.parent


def test_env_var_wins_a_bad_one_is_explained_and_none_at_all_too(package_copy: Path) -> None:
    lib = openstack_dest.library_path
    assert Path(lib).name.startswith(("libopenstack_dest", "openstack_dest")) and openstack_dest.version()
    ok = _run(WHERE, package_copy, OPENSTACK_DEST_LIB=lib)
    assert ok.returncode == 0 and ok.stdout.strip() == lib, ok.stderr
    bad = _run("import openstack_dest", package_copy, OPENSTACK_DEST_LIB="/nonexistent/libx.so")
    assert bad.returncode != 0 and "ImportError" in bad.stderr and "OPENSTACK_DEST_LIB" in bad.stderr
    none = _run("import openstack_dest", package_copy)
    if none.returncode == 0:
        pytest.skip("a libopenstack_dest is installed system-wide; the no-library case cannot be shown")
    assert "ImportError" in none.stderr and "OPENSTACK_DEST_LIB" in none.stderr and "cargo build" in none.stderr


def test_library_next_to_the_package_is_found(package_copy: Path) -> None:
    lib = Path(openstack_dest.library_path)
    if not lib.is_file():
        pytest.skip("the library was loaded by name through the system loader")
    target = package_copy / "openstack_dest" / openstack_dest._native.LIB_FILE
    shutil.copy2(lib, target)
    ok = _run(WHERE, package_copy)
    assert ok.returncode == 0 and ok.stdout.strip() == str(target.resolve()), ok.stderr


def test_checkout_target_is_found_from_the_sources() -> None:
    built = [REPO_ROOT / "target" / p / openstack_dest._native.LIB_FILE for p in ("debug", "release")]
    if not any(b.is_file() for b in built):
        pytest.skip("no library built in this checkout's target/")
    ok = _run(WHERE, PACKAGE_ROOT / "tests", PYTHONPATH=str(PACKAGE_ROOT / "src"))
    assert ok.returncode == 0, ok.stderr
    found = Path(ok.stdout.strip())
    # Either a copy beside the sources (left by an in-place build) or the checkout's target/.
    assert found in built or found.parent == PACKAGE_ROOT / "src" / "openstack_dest"


# ---- the log callback of another part of the process stays ------------------------------------


def test_a_foreign_log_callback_stays_in_place() -> None:
    code = f"""
        import ctypes, logging, sys
        lib = ctypes.CDLL(sys.argv[1])
        LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
        lines, records = [], []
        foreign = LOG_CB(lambda ctx, level, msg: lines.append(msg))
        lib.os_set_log_callback(foreign, None, 4)  # C code of the host, before the binding loads
        lib.os_log_callback_is_set.restype = ctypes.c_bool
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)
        logging.getLogger("openstack_dest").addHandler(Keep())
        logging.getLogger("openstack_dest").setLevel(logging.DEBUG)

        import openstack_dest
        from openstack_dest import Destination, OpenStackError
        assert not openstack_dest.log_callback_installed()
        def try_test():
            with Destination({OFFLINE_URL!r}) as d:
                installed = openstack_dest.log_callback_installed()
                try:
                    d.test()
                except OpenStackError:
                    pass
            return installed
        assert not try_test()
        openstack_dest.sync_log_level()
        assert lines, "the foreign callback got no line"
        assert not records, "the binding replaced the foreign callback"
        # Once the host removes its callback, the binding's takes over at the next open.
        lib.os_set_log_callback(LOG_CB(), None, 1)
        n = len(lines)
        assert try_test() and records and len(lines) == n
        # And the binding removes only its own at exit (checked by a foreign one set again).
        lib.os_set_log_callback(foreign, None, 4)
        openstack_dest.sync_log_level()
        assert lib.os_log_callback_is_set()
        print("ok")
        """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), openstack_dest.library_path],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
