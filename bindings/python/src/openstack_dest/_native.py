"""Locating and declaring libopenstack_dest (ctypes); the declarations are generated (_bindings.py).

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
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

# Enums, structures, callback types and the FUNCTIONS table (name -> (restype, argtypes)) are
# generated from include/openstack_dest.h by bindings/python/tools/gen_native.py.
from ._bindings import (  # re-exported
    DELETE_FAILURE_CB,
    ENTRY_CB,
    FUNCTIONS,
    LOG_CB,
    META_CB,
    PROGRESS_CB,
    READ_CB,
    REWIND_CB,
    HEADER_VERSION,
    STATUS_C_NAMES,
    WRITE_CB,
    EntryKindCode,
    LogLevel,
    OsEntry,
    OsObjectVersion,
    OsQuotaInfo,
    Status,
)

ENV_VAR = "OPENSTACK_DEST_LIB"

if sys.platform == "darwin":
    LIB_FILE = "libopenstack_dest.dylib"
elif sys.platform == "win32":
    LIB_FILE = "openstack_dest.dll"
else:
    LIB_FILE = "libopenstack_dest.so"


__all__ = [
    "DELETE_FAILURE_CB", "ENTRY_CB", "FUNCTIONS", "LOG_CB", "META_CB", "PROGRESS_CB", "READ_CB", "REWIND_CB",
    "STATUS_C_NAMES", "WRITE_CB", "EntryKindCode", "LogLevel", "OsEntry", "OsObjectVersion", "OsQuotaInfo", "Status", "lib",
    "library_path", "last_error",
    "checkout_root",
]


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
    raw = lib.os_version()
    found = raw.decode("utf-8", "replace") if raw else ""
    if not same_abi(HEADER_VERSION or "", found):
        raise ImportError(
            f"openstack_dest: the library at {path} is version {found or '?'}, but this binding was "
            f"generated from the header of version {HEADER_VERSION}; their structures differ (rebuild "
            "the library with `cargo build` and reinstall the package, or point OPENSTACK_DEST_LIB "
            "at a matching library)"
        )


def same_abi(header_version: str, library_version: str) -> bool:
    """Whether a library of ``library_version`` has the C structures of ``header_version``: the
    same major version, and before 1.0 the same minor version too (0.x releases change them)."""

    def parts(v: str) -> Tuple[str, ...]:
        return tuple(v.split("+")[0].split("-")[0].split(".")[:2])

    h, l = parts(header_version), parts(library_version)
    if len(h) < 2 or len(l) < 2:
        return False
    return h == l if h[0] == "0" else h[0] == l[0]


lib, library_path = _load()
_declare(lib, library_path)


def last_error() -> Tuple[str, Optional[int]]:
    """The calling thread's last error message and HTTP status (None when there was none)."""
    raw = lib.os_last_error_message()
    message = raw.decode("utf-8", "replace") if raw else ""
    http = int(lib.os_last_http_status())
    return message, (http if http > 0 else None)
