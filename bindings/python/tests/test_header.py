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

from conftest import HEADER, PACKAGE_ROOT

import openstack_dest
from openstack_dest import _bindings, _native

GENERATOR = PACKAGE_ROOT / "tools" / "gen_native.py"
COMMITTED = PACKAGE_ROOT / "src" / "openstack_dest" / "_bindings.py"


def _generated() -> str:
    spec = importlib.util.spec_from_file_location("gen_native", GENERATOR)
    assert spec is not None and spec.loader is not None, f"{GENERATOR} is missing"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(HEADER.read_text(encoding="utf-8"))


def test_committed_bindings_are_what_the_generator_makes_of_the_header() -> None:
    expected = _generated()
    hint = f"stale: run python3 {GENERATOR.relative_to(PACKAGE_ROOT.parent.parent)}"
    assert COMMITTED.read_text(encoding="utf-8") == expected, f"{COMMITTED} is {hint}"
    # The package under test (installed in the venv, or these sources) carries the same file.
    assert Path(_bindings.__file__).read_text(encoding="utf-8") == expected, f"{_bindings.__file__} is {hint}"


def _used_functions() -> Dict[str, List[str]]:
    """os_* functions called (lib.os_xxx) by the package's modules -> files using them."""
    pkg = Path(_native.__file__).parent
    used: Dict[str, List[str]] = {}
    for py in sorted(pkg.glob("*.py")):
        for name in re.findall(r"\blib\.(os_\w+)", py.read_text(encoding="utf-8")):
            used.setdefault(name, []).append(py.name)
    return used


def test_every_used_function_is_declared() -> None:
    used = _used_functions()
    assert len(used) >= 15, f"expected the package to use most of the API, found {sorted(used)}"
    for name, files in used.items():
        assert name in _bindings.FUNCTIONS, f"{name} (used in {files}) is not in {HEADER.name}"


def test_loaded_functions_carry_the_declarations() -> None:
    for name, (restype, argtypes) in _bindings.FUNCTIONS.items():
        fn = getattr(_native.lib, name)
        assert fn.restype is restype, name
        assert list(fn.argtypes) == list(argtypes), name


def test_structure_layout() -> None:
    # What a C compiler gives for these structs on 64-bit platforms.
    if ctypes.sizeof(c_void_p) == 8:
        assert ctypes.sizeof(_bindings.OsEntry) == 64
        assert _bindings.OsEntry.etag.offset == 32
        assert _bindings.OsEntry.mtime_ms.offset == 40
        assert _bindings.OsEntry.delete_at_ms.offset == 48
        assert _bindings.OsEntry.kind.offset == 56
    assert ctypes.sizeof(_bindings.OsQuotaInfo) == 32


def test_public_enums_are_the_generated_ones() -> None:
    assert openstack_dest.Status is _bindings.Status
    assert openstack_dest.LogLevel is _bindings.LogLevel
    assert _native.FUNCTIONS is _bindings.FUNCTIONS


def test_library_status_names_agree() -> None:
    for value, c_name in _bindings.STATUS_C_NAMES.items():
        assert _native.lib.os_status_name(value) == c_name.encode()
    assert _native.lib.os_status_name(9999) == b"OS_UNKNOWN"


def test_version_matches_header() -> None:
    assert openstack_dest.version() == _bindings.HEADER_VERSION


def test_every_statement_of_the_version_agrees() -> None:
    repo = PACKAGE_ROOT.parent.parent
    crate = re.search(r'(?m)^version = "([^"]+)"', (repo / "Cargo.toml").read_text(encoding="utf-8"))
    pyproject = re.search(r'(?m)^version = "([^"]+)"', (PACKAGE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    csproj = re.search(r"<Version>([^<]+)</Version>",
                       (repo / "bindings" / "csharp" / "OpenStackDest.csproj").read_text(encoding="utf-8"))
    # C#'s BindingVersion is Native.HeaderVersion, generated from the header into Native.cs.
    binding = re.search(r'HeaderVersion = "([^"]+)"',
                        (repo / "bindings" / "csharp" / "src" / "Native.cs").read_text(encoding="utf-8"))
    assert crate and pyproject and csproj and binding
    versions = {
        "Native.HeaderVersion (C#)": binding.group(1),
        "Cargo.toml": crate.group(1),
        "pyproject.toml": pyproject.group(1),
        "OpenStackDest.csproj": csproj.group(1),
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


def test_entry_kind_codes_are_the_headers() -> None:
    text = HEADER.read_text(encoding="utf-8")
    for name, value in (("OBJECT", 0), ("STATIC_LARGE", 1), ("DYNAMIC_LARGE", 2), ("FOLDER", 3)):
        assert re.search(rf"\bOS_KIND_{name} = {value},", text), name
        assert _bindings.EntryKindCode[name] == value
