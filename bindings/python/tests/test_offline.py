"""Tests that need the library but no server: URL errors, error mapping, argument checks,
library lookup."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import pytest

import openstack_dest
from openstack_dest import (
    Destination,
    InvalidArgumentError,
    NetworkError,
    OpenStackError,
    OpenStackTimeoutError,
    Status,
)
from openstack_dest import errors as errors_mod
from openstack_dest._bindings import EntryKindCode, OsEntry
from openstack_dest._destination import _entry_from

SECRET = "Sup3r-Secret-Pa55word"
# A well-formed v3 URL pointing at a closed port: opening needs no server.
CLOSED_PORT_URL = (
    "openstack://offline-container/some/prefix?auth-username=alice&auth-password=" + SECRET
    + "&openstack-tenant-name=proj&openstack-domain-name=Default"
    "&openstack-authuri=http://127.0.0.1:9/v3&openstack-version=v3"
    "&number-of-retries=1&retry-delay=10ms"
)


# ---- error mapping ----------------------------------------------------------------------------

EXPECTED_CLASSES = {
    Status.INVALID_ARGUMENT: "InvalidArgumentError",
    Status.INVALID_URL: "InvalidUrlError",
    Status.AUTH: "AuthError",
    Status.FORBIDDEN: "ForbiddenError",
    Status.NOT_FOUND: "NotFoundError",
    Status.CONTAINER_NOT_FOUND: "ContainerNotFoundError",
    Status.ENDPOINT_NOT_FOUND: "EndpointNotFoundError",
    Status.TOO_LARGE: "TooLargeError",
    Status.INTEGRITY: "IntegrityError",
    Status.NETWORK: "NetworkError",
    Status.TIMEOUT: "OpenStackTimeoutError",
    Status.SERVER: "ServerError",
    Status.LOCAL_IO: "LocalIOError",
    Status.CANCELLED: "CancelledError",
    Status.PANIC: "InternalError",
    Status.CALLBACK: "CallbackError",
    Status.HTTP: "HttpError",
    Status.CONTAINER_NOT_EMPTY: "ContainerNotEmptyError",
    Status.TLS: "TlsError",
}


def test_one_class_per_status() -> None:
    assert set(EXPECTED_CLASSES) == {s for s in Status if s != Status.OK}
    seen = set()
    for status, cls_name in EXPECTED_CLASSES.items():
        cls = getattr(openstack_dest, cls_name)
        err = errors_mod.error_for(int(status), "boom", 404)
        assert type(err) is cls
        assert isinstance(err, OpenStackError)
        assert err.status == status and isinstance(err.status, int)
        assert err.http_status == 404
        assert str(err) == "boom"
        seen.add(cls)
    assert len(seen) == len(EXPECTED_CLASSES)


def test_tls_error_is_a_network_error() -> None:
    # Certificate failures were NetworkError before they had a status: `except NetworkError` stays.
    err = errors_mod.error_for(int(Status.TLS), "bad certificate")
    assert isinstance(err, openstack_dest.TlsError) and isinstance(err, openstack_dest.NetworkError)


def test_unknown_status_is_a_plain_openstack_error() -> None:
    err = errors_mod.error_for(999, "from the future")
    assert type(err) is OpenStackError
    assert err.status == 999 and err.http_status is None
    assert str(err) == "from the future"
    assert "998" in str(errors_mod.error_for(998, ""))


def test_timeout_is_a_builtin_timeout_error() -> None:
    err = errors_mod.error_for(int(Status.TIMEOUT), "slow", None)
    assert isinstance(err, OpenStackTimeoutError)
    assert isinstance(err, TimeoutError)
    with pytest.raises(TimeoutError):
        raise err


# ---- bad URLs and options ---------------------------------------------------------------------


# A NUL would end the C string early ("c\0/p" would be "c"): every string argument that crosses
# into the library is refused first, like the library refuses what it cannot read (invalid UTF-8):
# InvalidArgumentError, naming the argument, never showing a value (it may be a password).
NUL_SECRET = "Nul-Secret-Pa55"


@pytest.mark.parametrize(
    "url, options",
    [
        ("openstack://c\0/p?auth-username=a", None),
        (CLOSED_PORT_URL + "&openstack-region=Region\0Two", None),
        (CLOSED_PORT_URL, {"openstack-region\0x": "RegionOne"}),
        (CLOSED_PORT_URL.replace("auth-password=" + SECRET, ""), {"auth-password": NUL_SECRET + "\0tail"}),
        (CLOSED_PORT_URL.replace("auth-password=" + SECRET, "auth-password=" + NUL_SECRET + "\0tail"), None),
        ("openstack://c/p?auth-username=a\udc80", None),
        (CLOSED_PORT_URL, {"openstack-region": "bad\ud800"}),
    ],
    ids=["url", "url-query", "option-name", "option-value", "url-password", "url-surrogate", "option-surrogate"],
)
def test_nul_in_url_or_option_is_invalid_argument(url: str, options: Dict[str, str]) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Destination(url, options)
    err = info.value
    assert err.status == Status.INVALID_ARGUMENT and err.http_status is None
    assert "NUL" in str(err) or "Unicode" in str(err), str(err)
    for text in (str(err), repr(err)):
        assert NUL_SECRET not in text and SECRET not in text
    if options and "auth-password" in options:
        assert "auth-password" in str(err), "the message must name the option"


# ---- a destination that cannot reach anything -------------------------------------------------


@pytest.fixture
def offline() -> Destination:
    d = Destination(CLOSED_PORT_URL)
    yield d
    d.close()


def test_argument_checks(offline: Destination, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        offline.put("a\0b", b"x")
    with pytest.raises(InvalidArgumentError):
        offline.get("bad\udc80surrogate")
    with pytest.raises(TypeError):
        offline.put("a", 12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        offline.get("a", 12345)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        offline.put(b"name", b"x")  # type: ignore[arg-type]
    text = tmp_path / "t.txt"
    text.write_text("hello")
    with open(text, "r") as f, pytest.raises(TypeError, match="binary"):
        offline.put("a", f)  # type: ignore[arg-type]
    with open(text, "w") as f, pytest.raises(TypeError, match="binary"):
        offline.get("a", f)  # type: ignore[call-overload]
    # get_range: a negative or too large offset or length would wrap in ctypes' uint64_t.
    for offset, length in ((-1, 1), (0, -1), (2**64, 1), (0, 2**64)):
        with pytest.raises(InvalidArgumentError, match="negative|over"):
            offline.get_range("a", offset, length)
    for offset, length in ((1.5, 1), (0, "1"), (True, 1)):
        with pytest.raises(TypeError):
            offline.get_range("a", offset, length)  # type: ignore[arg-type]


def test_nul_in_any_name_or_path_is_refused_before_the_library(offline: Destination, tmp_path: Path) -> None:
    # offline reaches nothing: a name that got through would fail with a network error instead.
    local = tmp_path / "a"
    local.write_bytes(b"abc")
    bad_path = str(local) + "\0.bak"
    source = io.BytesIO(b"data")
    sink = io.BytesIO()
    calls = {
        "put(bytes)": lambda: offline.put("keep\0x", b"x"),
        "put(bytes, progress)": lambda: offline.put("keep\0x", b"x", progress=lambda d, t: None),
        "put(path) name": lambda: offline.put("keep\0x", str(local)),
        "put(stream)": lambda: offline.put("keep\0x", source),
        "put(path)": lambda: offline.put("keep", bad_path),
        "put(PathLike)": lambda: offline.put("keep", Path(bad_path)),
        "get()": lambda: offline.get("keep\0x"),
        "get(progress)": lambda: offline.get("keep\0x", progress=lambda d, t: None),
        "get(path) name": lambda: offline.get("keep\0x", str(local)),
        "get(stream)": lambda: offline.get("keep\0x", sink),
        "get(path)": lambda: offline.get("keep", bad_path),
        "get(PathLike)": lambda: offline.get("keep", Path(bad_path)),
        "get_range": lambda: offline.get_range("keep\0x", 0, 1),
        "stat": lambda: offline.stat("keep\0x"),
        "delete": lambda: offline.delete("keep\0x"),
        "rename(old)": lambda: offline.rename("keep\0x", "b"),
        "rename(new)": lambda: offline.rename("a", "keep\0x"),
        "put(path) surrogate": lambda: offline.put("keep", str(tmp_path / "b\ud800")),
        "get(path) surrogate": lambda: offline.get("keep", str(tmp_path / "b\ud800")),
    }
    wrong = []
    for what, call in calls.items():
        try:
            call()
            wrong.append(f"{what}: no error")
        except InvalidArgumentError as err:
            if err.status != Status.INVALID_ARGUMENT or not ("NUL" in str(err) or "Unicode" in str(err)):
                wrong.append(f"{what}: {err!r}")
        except Exception as err:  # noqa: BLE001 - collected and reported together
            wrong.append(f"{what}: {err!r}")
    assert not wrong, "\n".join(wrong)
    assert source.tell() == 0 and sink.getvalue() == b""
    assert local.read_bytes() == b"abc" and sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_empty_name_is_refused_by_the_library(offline: Destination) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        offline.delete("")
    assert info.value.status == Status.INVALID_ARGUMENT


def test_closed_destination(offline: Destination) -> None:
    with offline as d:
        pass
    assert d.closed
    d.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        d.list()
    with pytest.raises(ValueError):
        d.put("a", io.BytesIO(b"x"))


# ---- library lookup ---------------------------------------------------------------------------


def _run(code: str, env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENSTACK_DEST_LIB", "LD_LIBRARY_PATH", "PYTHONPATH")}
    env.update(extra)
    return env


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The package's Python files copied outside any checkout, without a library."""
    src = Path(openstack_dest.__file__).parent
    dst = tmp_path / "site" / "openstack_dest"
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.suffix in (".py", ".typed"):
            shutil.copy2(f, dst / f.name)
    return dst.parent


def test_library_found_without_settings() -> None:
    assert Path(openstack_dest.library_path).name.startswith(("libopenstack_dest", "openstack_dest"))
    assert openstack_dest.version()


def test_import_error_tells_what_to_do(package_copy: Path) -> None:
    result = _run("import openstack_dest", _clean_env(), package_copy)
    if result.returncode == 0:
        pytest.skip("a libopenstack_dest is installed system-wide; the no-library case cannot be shown")
    assert "ImportError" in result.stderr
    assert "OPENSTACK_DEST_LIB" in result.stderr
    assert "cargo build" in result.stderr


def test_env_var_wins_and_bad_value_is_explained(package_copy: Path) -> None:
    lib = openstack_dest.library_path
    ok = _run(
        "import openstack_dest; print(openstack_dest.library_path)",
        _clean_env(OPENSTACK_DEST_LIB=lib),
        package_copy,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == lib
    bad = _run("import openstack_dest", _clean_env(OPENSTACK_DEST_LIB="/nonexistent/libx.so"), package_copy)
    assert bad.returncode != 0
    assert "ImportError" in bad.stderr and "OPENSTACK_DEST_LIB" in bad.stderr


def test_library_next_to_the_package_is_found(package_copy: Path) -> None:
    lib = Path(openstack_dest.library_path)
    if not lib.is_file():
        pytest.skip("the library was loaded by name through the system loader")
    target = package_copy / "openstack_dest" / openstack_dest._native.LIB_FILE
    shutil.copy2(lib, target)
    ok = _run("import openstack_dest; print(openstack_dest.library_path)", _clean_env(), package_copy)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == str(target.resolve())


def test_checkout_target_is_found_from_the_sources() -> None:
    from conftest import PACKAGE_ROOT, REPO_ROOT

    built = [REPO_ROOT / "target" / p / openstack_dest._native.LIB_FILE for p in ("debug", "release")]
    if not any(b.is_file() for b in built):
        pytest.skip("no library built in this checkout's target/")
    ok = _run(
        "import openstack_dest; print(openstack_dest.library_path)",
        _clean_env(PYTHONPATH=str(PACKAGE_ROOT / "src")),
        PACKAGE_ROOT / "tests",
    )
    assert ok.returncode == 0, ok.stderr
    found = Path(ok.stdout.strip())
    # Either a copy beside the sources (left by an in-place build) or the checkout's target/.
    assert found in built or found.parent == PACKAGE_ROOT / "src" / "openstack_dest"


# ---- the C callbacks, called directly through their C function pointers ------------------------


def test_read_rewind_write_callbacks_through_c_pointers() -> None:
    import ctypes

    from openstack_dest import _destination as dm

    src = io.BytesIO(b"0123456789abcdef")
    src.seek(4)
    state = dm._CallState(progress=None)
    state.source = src
    state.start = 4
    buf = (ctypes.c_char * 8)()
    with dm._Registered(state) as key:
        assert dm._READ_CALLBACK(key, ctypes.addressof(buf), 8) == 8
        assert buf.raw == b"456789ab"
        assert dm._READ_CALLBACK(key, ctypes.addressof(buf), 8) == 4
        assert buf.raw[:4] == b"cdef"
        assert dm._READ_CALLBACK(key, ctypes.addressof(buf), 8) == 0  # end
        assert dm._REWIND_CALLBACK(key) == 0  # back to where the upload started
        assert dm._READ_CALLBACK(key, ctypes.addressof(buf), 8) == 8
        assert buf.raw == b"456789ab"

    # A source with only read() (no readinto) works too; a text source is an error, stored.
    state = dm._CallState(progress=None)

    class OnlyRead:
        def read(self, n: int) -> object:
            return "text"

    state.source = OnlyRead()
    with dm._Registered(state) as key:
        assert dm._READ_CALLBACK(key, ctypes.addressof(buf), 8) < 0
    assert isinstance(state.error, TypeError)

    # The write callback copies the library's buffer and handles short writes.
    class Short:
        def __init__(self) -> None:
            self.data = b""

        def write(self, b: bytes) -> int:
            self.data += bytes(b[:3])
            return min(3, len(b))

    sink = Short()
    state = dm._CallState(progress=None)
    state.sink = sink
    data = ctypes.create_string_buffer(b"hello world", 11)
    with dm._Registered(state) as key:
        assert dm._WRITE_CALLBACK(key, ctypes.addressof(data), 11) == 0
    assert sink.data == b"hello world"

    # Progress: None goes on, False cancels, an exception cancels and is stored.
    calls = []
    state = dm._CallState(progress=lambda done, total: calls.append((done, total)))
    with dm._Registered(state) as key:
        assert dm._PROGRESS_CALLBACK(key, 10, -1) == 0
        assert dm._PROGRESS_CALLBACK(key, 20, 100) == 0
    assert calls == [(10, None), (20, 100)]
    state = dm._CallState(progress=lambda done, total: False)
    with dm._Registered(state) as key:
        assert dm._PROGRESS_CALLBACK(key, 1, 1) != 0
    boom = KeyError("boom")

    def raising(done: int, total: object) -> None:
        raise boom

    state = dm._CallState(progress=raising)
    with dm._Registered(state) as key:
        assert dm._PROGRESS_CALLBACK(key, 1, 1) != 0
    assert state.error is boom
    # Unknown contexts (a stale pointer) never crash.
    assert dm._READ_CALLBACK(987654321, ctypes.addressof(buf), 8) < 0
    assert dm._WRITE_CALLBACK(987654321, ctypes.addressof(buf), 8) != 0
    assert dm._REWIND_CALLBACK(987654321) != 0
    assert not dm._states


# ---- entry kinds: the os_entry.kind codes as Entry.kind strings ------------------------------


@pytest.mark.parametrize(
    "code,kind,etag_is_md5",
    [
        (EntryKindCode.OBJECT, "object", True),
        (EntryKindCode.STATIC_LARGE, "static_large", False),
        (EntryKindCode.DYNAMIC_LARGE, "dynamic_large", False),
        (EntryKindCode.FOLDER, "folder", False),
    ],
)
def test_entry_kind_is_read_from_the_c_entry(code: int, kind: str, etag_is_md5: bool) -> None:
    raw = OsEntry(name=b"a", size=5, last_modified_ms=-1, is_folder=False,
                  etag=b"0123456789abcdef0123456789abcdef", mtime_ms=-1, delete_at_ms=-1, kind=code)
    entry = _entry_from(raw)
    assert entry.kind == kind
    assert entry.etag_is_md5 is etag_is_md5
    assert entry.name == "a" and entry.size == 5


def test_an_object_without_etag_has_no_md5_and_an_unknown_kind_is_an_internal_error() -> None:
    raw = OsEntry(name=b"a", size=0, last_modified_ms=-1, is_folder=False, etag=None,
                  mtime_ms=-1, delete_at_ms=-1, kind=EntryKindCode.OBJECT)
    assert _entry_from(raw).etag_is_md5 is False
    raw.kind = 7
    with pytest.raises(openstack_dest.InternalError, match="unknown entry kind 7"):
        _entry_from(raw)


def test_entry_kind_defaults_to_object_for_entries_made_by_hand() -> None:
    # Code that builds Entry values itself (tests, adapters) keeps working without a kind.
    entry = openstack_dest.Entry("a", 1, None, False, "x")
    assert entry.kind == "object"
