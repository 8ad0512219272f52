"""Locating and declaring libopenstack_dest (ctypes). Mirrors include/openstack_dest.h.

Search order for the library:
1. ``OPENSTACK_DEST_LIB`` (full path of the shared library);
2. next to this package's own files (``pip install`` copies a library built in the checkout there);
3. the checkout's ``target/debug`` then ``target/release`` when the package is imported from a
   checkout (``bindings/python/src/openstack_dest``);
4. ``ctypes.util.find_library("openstack_dest")`` and the system loader (``LD_LIBRARY_PATH``,
   ld.so.cache).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_ssize_t,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ENV_VAR = "OPENSTACK_DEST_LIB"

if sys.platform == "darwin":
    LIB_FILE = "libopenstack_dest.dylib"
elif sys.platform == "win32":
    LIB_FILE = "openstack_dest.dll"
else:
    LIB_FILE = "libopenstack_dest.so"


class Status(enum.IntEnum):
    """``os_status``: the result of every fallible call (stable numbers)."""

    OK = 0
    INVALID_ARGUMENT = 1
    INVALID_URL = 2
    AUTH = 3
    FORBIDDEN = 4
    NOT_FOUND = 5
    CONTAINER_NOT_FOUND = 6
    ENDPOINT_NOT_FOUND = 7
    TOO_LARGE = 8
    INTEGRITY = 9
    NETWORK = 10
    TIMEOUT = 11
    SERVER = 12
    LOCAL_IO = 13
    CANCELLED = 14
    PANIC = 15
    CALLBACK = 16
    HTTP = 17


class LogLevel(enum.IntEnum):
    """``os_log_level``."""

    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


class OsEntry(Structure):
    """``os_entry``."""

    _fields_ = [
        ("name", c_char_p),
        ("size", c_int64),
        ("last_modified_ms", c_int64),
        ("is_folder", c_bool),
        ("etag", c_char_p),
    ]


class OsQuotaInfo(Structure):
    """``os_quota_info``."""

    _fields_ = [
        ("bytes_used", c_int64),
        ("quota_bytes", c_int64),
        ("object_count", c_int64),
        ("container_count", c_int64),
    ]


# Callback types (the ctx pointer comes first). Buffers are passed as plain addresses.
READ_CB = CFUNCTYPE(c_ssize_t, c_void_p, c_void_p, c_size_t)
REWIND_CB = CFUNCTYPE(c_int, c_void_p)
WRITE_CB = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
PROGRESS_CB = CFUNCTYPE(c_int, c_void_p, c_uint64, c_int64)
LOG_CB = CFUNCTYPE(None, c_void_p, c_int, c_char_p)

_dest_p = c_void_p  # os_dest * (opaque)
_status = c_int  # os_status
_log_level = c_int  # os_log_level

# name -> (restype, argtypes): every function of include/openstack_dest.h.
FUNCTIONS: Dict[str, Tuple[Any, Sequence[Any]]] = {
    "os_version": (c_char_p, []),
    "os_status_name": (c_char_p, [_status]),
    "os_last_error_message": (c_char_p, []),
    "os_last_http_status": (c_int32, []),
    "os_set_log_callback": (None, [LOG_CB, c_void_p, _log_level]),
    "os_open": (_dest_p, [c_char_p]),
    "os_open_with": (_status, [c_char_p, POINTER(c_char_p), POINTER(c_char_p), c_size_t, POINTER(_dest_p)]),
    "os_free": (None, [_dest_p]),
    "os_test": (_status, [_dest_p]),
    "os_create_container": (_status, [_dest_p]),
    "os_put": (_status, [_dest_p, c_char_p, c_void_p, c_size_t]),
    "os_put_file": (_status, [_dest_p, c_char_p, c_char_p]),
    "os_put_file_ex": (_status, [_dest_p, c_char_p, c_char_p, PROGRESS_CB, c_void_p]),
    "os_put_stream": (
        _status,
        [_dest_p, c_char_p, READ_CB, REWIND_CB, c_void_p, c_int64, PROGRESS_CB, c_void_p],
    ),
    "os_get": (_status, [_dest_p, c_char_p, POINTER(c_void_p), POINTER(c_size_t)]),
    "os_bytes_free": (None, [c_void_p, c_size_t]),
    "os_get_file": (_status, [_dest_p, c_char_p, c_char_p]),
    "os_get_file_ex": (_status, [_dest_p, c_char_p, c_char_p, PROGRESS_CB, c_void_p]),
    "os_get_stream": (_status, [_dest_p, c_char_p, WRITE_CB, c_void_p, PROGRESS_CB, c_void_p]),
    "os_delete": (_status, [_dest_p, c_char_p]),
    "os_rename": (_status, [_dest_p, c_char_p, c_char_p]),
    "os_stat": (_status, [_dest_p, c_char_p, POINTER(POINTER(OsEntry))]),
    "os_entry_free": (None, [POINTER(OsEntry)]),
    "os_list": (_status, [_dest_p, POINTER(POINTER(OsEntry)), POINTER(c_size_t)]),
    "os_entries_free": (None, [POINTER(OsEntry), c_size_t]),
    "os_quota": (_status, [_dest_p, POINTER(OsQuotaInfo)]),
}


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def checkout_root() -> Optional[Path]:
    """The repository root when this package is imported from bindings/python/src of a checkout."""
    pkg = _package_dir()
    src, python, bindings = pkg.parent, pkg.parent.parent, pkg.parent.parent.parent
    if src.name == "src" and python.name == "python" and bindings.name == "bindings":
        root = bindings.parent
        if (root / "Cargo.toml").is_file():
            return root
    return None


def _candidates() -> List[Tuple[str, str]]:
    """(description, path-or-name) pairs in search order, after OPENSTACK_DEST_LIB."""
    out: List[Tuple[str, str]] = []
    out.append(("next to the package", str(_package_dir() / LIB_FILE)))
    root = checkout_root()
    if root is not None:
        for profile in ("debug", "release"):
            out.append((f"checkout target/{profile}", str(root / "target" / profile / LIB_FILE)))
    return out


def _load() -> Tuple[ctypes.CDLL, str]:
    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.isfile(env):
            raise ImportError(
                f"{ENV_VAR} is set to {env!r}, which is not a file; set it to the full path of "
                f"{LIB_FILE} (built by `cargo build` in the libopenstack_dest checkout) or unset it"
            )
        try:
            return ctypes.CDLL(env), env
        except OSError as exc:
            raise ImportError(f"{ENV_VAR}={env!r} could not be loaded: {exc}") from exc

    tried: List[str] = []
    for what, path in _candidates():
        if os.path.isfile(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as exc:
                tried.append(f"{what}: {path} (failed to load: {exc})")
        else:
            tried.append(f"{what}: {path} (missing)")

    names = []
    found = ctypes.util.find_library("openstack_dest")
    if found:
        names.append(found)
    names.append(LIB_FILE)
    for name in names:
        try:
            return ctypes.CDLL(name), name
        except OSError:
            tried.append(f"system loader: {name} (not found)")

    raise ImportError(
        "openstack_dest: cannot find the native library "
        f"{LIB_FILE}. Build it with `cargo build` in the libopenstack_dest checkout and reinstall "
        f"this package (`pip install ./bindings/python`), or set {ENV_VAR} to the library's full "
        "path (e.g. /path/to/checkout/target/debug/" + LIB_FILE + "), or install it where the "
        "system loader finds it (LD_LIBRARY_PATH). Tried: " + "; ".join(tried)
    )


def _declare(lib: ctypes.CDLL, path: str) -> None:
    missing = []
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = list(argtypes)
    if missing:
        raise ImportError(
            f"openstack_dest: the library at {path} lacks {', '.join(missing)}; it does not match "
            "this binding (rebuild it with `cargo build` and reinstall the package)"
        )


lib, library_path = _load()
_declare(lib, library_path)


def last_error() -> Tuple[str, Optional[int]]:
    """The calling thread's last error message and HTTP status (None when there was none)."""
    raw = lib.os_last_error_message()
    message = raw.decode("utf-8", "replace") if raw else ""
    http = int(lib.os_last_http_status())
    return message, (http if http > 0 else None)
