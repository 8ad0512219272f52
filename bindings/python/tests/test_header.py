"""The ctypes declarations are the ones generated from include/openstack_dest.h (no server needed).

bindings/python/tools/gen_native.py writes src/openstack_dest/_bindings.py from the header; the first
test re-runs it, so a header change without regenerating fails here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
from ctypes import c_void_p
from pathlib import Path
from typing import Dict, List

from conftest import HEADER, PACKAGE_ROOT, REPO_ROOT

import openstack_dest
from openstack_dest import _bindings, _native

GENERATOR = PACKAGE_ROOT / "tools" / "gen_native.py"
COMMITTED = PACKAGE_ROOT / "src" / "openstack_dest" / "_bindings.py"


def test_committed_bindings_are_what_the_generator_makes_of_the_header() -> None:
    spec = importlib.util.spec_from_file_location("gen_native", GENERATOR)
    assert spec is not None and spec.loader is not None, f"{GENERATOR} is missing"
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    expected = generator.generate(HEADER.read_text(encoding="utf-8"))
    hint = f"stale: run python3 {GENERATOR.relative_to(REPO_ROOT)}"
    assert COMMITTED.read_text(encoding="utf-8") == expected, f"{COMMITTED} is {hint}"
    # The package under test (installed in the venv, or these sources) carries the same file.
    assert Path(_bindings.__file__).read_text(encoding="utf-8") == expected, f"{_bindings.__file__} is {hint}"


def test_every_used_function_is_declared() -> None:
    used: Dict[str, List[str]] = {}  # os_* functions called (lib.os_xxx) by the package's modules -> files
    for py in sorted(Path(_native.__file__).parent.glob("*.py")):
        for name in re.findall(r"\blib\.(os_\w+)", py.read_text(encoding="utf-8")):
            used.setdefault(name, []).append(py.name)
    assert len(used) >= 15, f"expected the package to use most of the API, found {sorted(used)}"
    for name, files in used.items():
        assert name in _bindings.FUNCTIONS, f"{name} (used in {files}) is not in {HEADER.name}"


def test_loaded_functions_and_structures_are_the_generated_ones() -> None:
    for name, (restype, argtypes) in _bindings.FUNCTIONS.items():
        fn = getattr(_native.lib, name)
        assert fn.restype is restype and list(fn.argtypes) == list(argtypes), name
    if ctypes.sizeof(c_void_p) == 8:  # what a C compiler gives for these structs on 64-bit platforms
        assert ctypes.sizeof(_bindings.OsEntry) == 64
        e = _bindings.OsEntry
        assert (e.etag.offset, e.mtime_ms.offset, e.delete_at_ms.offset, e.kind.offset) == (32, 40, 48, 56)
    assert ctypes.sizeof(_bindings.OsQuotaInfo) == 32
    assert openstack_dest.Status is _bindings.Status and openstack_dest.LogLevel is _bindings.LogLevel
    assert _native.FUNCTIONS is _bindings.FUNCTIONS


def test_every_statement_of_the_version_agrees() -> None:
    def read(path: Path, pattern: str) -> str:
        found = re.search(pattern, path.read_text(encoding="utf-8"))
        assert found, (path, pattern)
        return found.group(1)

    csharp = REPO_ROOT / "bindings" / "csharp"
    versions = {
        "Cargo.toml": read(REPO_ROOT / "Cargo.toml", r'(?m)^version = "([^"]+)"'),
        "pyproject.toml": read(PACKAGE_ROOT / "pyproject.toml", r'(?m)^version = "([^"]+)"'),
        "OpenStackDest.csproj": read(csharp / "OpenStackDest.csproj", r"<Version>([^<]+)</Version>"),
        # C#'s BindingVersion is Native.HeaderVersion, generated from the header into Native.cs.
        "Native.HeaderVersion (C#)": read(csharp / "src" / "Native.cs", r'HeaderVersion = "([^"]+)"'),
        "openstack_dest.__version__": openstack_dest.__version__,
        "the header (OPENSTACK_DEST_VERSION)": _bindings.HEADER_VERSION,
        "the library (os_version)": openstack_dest.version(),
    }
    assert len(set(versions.values())) == 1, versions


def test_a_library_of_another_abi_is_refused() -> None:
    # Before 1.0 every minor version may change the structures (0.2 added os_entry.kind).
    assert _native.same_abi("0.2.0", "0.2.7")
    assert not _native.same_abi("0.2.0", "0.1.0")
    assert not _native.same_abi("0.2.0", "0.3.0-rc1")
    assert _native.same_abi("1.2.0", "1.4.1+local")
    assert not _native.same_abi("1.2.0", "2.0.0")
    assert not _native.same_abi("0.2.0", "")
