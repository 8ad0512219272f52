"""The ctypes declarations match include/openstack_dest.h (no server needed)."""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, c_bool, c_char_p, c_int, c_int32, c_int64, c_size_t, c_ssize_t, c_uint64, c_void_p
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import HEADER

import openstack_dest
from openstack_dest import _native

Proto = Tuple[str, List[str]]  # (return type, parameter types), types normalised


def _normalise(ctype: str) -> str:
    ctype = re.sub(r"\b(struct|enum)\s+", "", ctype)  # `struct os_dest *` is `os_dest *`
    ctype = re.sub(r"\s*\*\s*", "*", ctype.strip())
    return re.sub(r"\s+", " ", ctype)


def _param_type(param: str) -> str:
    param = param.strip()
    m = re.match(r"^(.*?[\s\*])(\w+)$", param)
    assert m, f"cannot parse parameter {param!r}"
    return _normalise(m.group(1))


def _params(text: str) -> List[str]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [_param_type(p) for p in text.split(",")]


@pytest.fixture(scope="module")
def header() -> str:
    assert HEADER.is_file(), f"{HEADER} is missing"
    text = HEADER.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"(?m)^\s*#.*$", " ", text)  # preprocessor lines
    return text


@pytest.fixture(scope="module")
def functions(header: str) -> Dict[str, Proto]:
    flat = re.sub(r"\s+", " ", header)
    out: Dict[str, Proto] = {}
    for statement in re.split(r"[;{}]", flat):
        m = re.fullmatch(r"\s*([A-Za-z_][\w\s\*]*?[\s\*])(os_\w+)\s*\(([^()]*)\)\s*", statement)
        if m is None or m.group(1).strip().startswith("typedef"):
            continue
        ret, name, params = m.groups()
        out[name] = (_normalise(ret), _params(params))
    assert len(out) >= 20, f"header parsing found only {sorted(out)}"
    return out


@pytest.fixture(scope="module")
def callbacks(header: str) -> Dict[str, Proto]:
    flat = re.sub(r"\s+", " ", header)
    out = {}
    for m in re.finditer(r"typedef ([\w\s\*]+?)\s*\(\s*\*\s*(os_\w+)\s*\)\s*\(([^()]*)\)\s*;", flat):
        ret, name, params = m.groups()
        out[name] = (_normalise(ret), _params(params))
    assert set(out) >= {"os_read_cb", "os_rewind_cb", "os_write_cb", "os_progress_cb", "os_log_cb"}
    return out


def _enum(header: str, name: str) -> Dict[str, int]:
    m = re.search(r"typedef enum " + name + r"\s*\{(.*?)\}\s*" + name + r"\s*;", header, re.S)
    assert m, f"enum {name} not found in the header"
    values = {}
    for item in m.group(1).split(","):
        item = item.strip()
        if item:
            key, _, value = item.partition("=")
            values[key.strip()] = int(value.strip(), 0)
    return values


def _struct(header: str, name: str) -> List[Tuple[str, str]]:
    m = re.search(r"typedef struct " + name + r"\s*\{(.*?)\}\s*" + name + r"\s*;", header, re.S)
    assert m, f"struct {name} not found in the header"
    fields = []
    for decl in m.group(1).split(";"):
        decl = " ".join(decl.split())
        if decl:
            fields.append((decl.rpartition(" ")[2].lstrip("*"), _param_type(decl)))
    return fields


# C type (normalised) -> the ctypes type the binding must use for it.
C_TO_CTYPES = {
    "void": None,
    "bool": c_bool,
    "int": c_int,
    "int32_t": c_int32,
    "int64_t": c_int64,
    "uint64_t": c_uint64,
    "intptr_t": c_ssize_t,
    "size_t": c_size_t,
    "size_t*": POINTER(c_size_t),
    "void*": c_void_p,
    "uint8_t*": c_void_p,
    "const uint8_t*": c_void_p,
    "uint8_t**": POINTER(c_void_p),
    "const char*": c_char_p,
    "const char*const*": POINTER(c_char_p),
    "os_status": c_int,
    "os_log_level": c_int,
    "os_dest*": c_void_p,
    "os_dest**": POINTER(c_void_p),
    "os_entry*": POINTER(_native.OsEntry),
    "os_entry**": POINTER(POINTER(_native.OsEntry)),
    "os_quota_info*": POINTER(_native.OsQuotaInfo),
    "os_read_cb": _native.READ_CB,
    "os_rewind_cb": _native.REWIND_CB,
    "os_write_cb": _native.WRITE_CB,
    "os_progress_cb": _native.PROGRESS_CB,
    "os_log_cb": _native.LOG_CB,
}


def _expected(ctype: str):  # type: ignore[no-untyped-def]
    assert ctype in C_TO_CTYPES, f"no ctypes mapping for the C type {ctype!r}"
    return C_TO_CTYPES[ctype]


def _used_functions() -> Dict[str, List[str]]:
    """os_* functions called (lib.os_xxx) by the package's modules -> files using them."""
    pkg = Path(_native.__file__).parent
    used: Dict[str, List[str]] = {}
    for py in sorted(pkg.glob("*.py")):
        for name in re.findall(r"\blib\.(os_\w+)", py.read_text(encoding="utf-8")):
            used.setdefault(name, []).append(py.name)
    return used


def test_every_used_function_is_in_the_header_with_the_same_arity(functions: Dict[str, Proto]) -> None:
    used = _used_functions()
    assert len(used) >= 15, f"expected the package to use most of the API, found {sorted(used)}"
    for name, files in used.items():
        assert name in functions, f"{name} (used in {files}) is not declared in {HEADER.name}"
        assert name in _native.FUNCTIONS, f"{name} (used in {files}) has no ctypes declaration"
        restype, argtypes = _native.FUNCTIONS[name]
        assert len(argtypes) == len(functions[name][1]), f"{name}: parameter count differs"


def test_every_header_function_is_declared_with_matching_types(functions: Dict[str, Proto]) -> None:
    assert set(_native.FUNCTIONS) == set(functions), (
        f"only in the header: {sorted(set(functions) - set(_native.FUNCTIONS))}; "
        f"only in the binding: {sorted(set(_native.FUNCTIONS) - set(functions))}"
    )
    for name, (ret, params) in functions.items():
        restype, argtypes = _native.FUNCTIONS[name]
        assert restype is _expected(ret), f"{name}: restype {restype} for C {ret!r}"
        assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes, header has {len(params)}"
        for i, (actual, c) in enumerate(zip(argtypes, params)):
            assert actual is _expected(c), f"{name} parameter {i}: {actual} for C {c!r}"


def test_loaded_functions_carry_the_declarations(functions: Dict[str, Proto]) -> None:
    for name in functions:
        fn = getattr(_native.lib, name)
        restype, argtypes = _native.FUNCTIONS[name]
        assert fn.restype is restype, name
        assert list(fn.argtypes) == list(argtypes), name


def test_callback_types_match(callbacks: Dict[str, Proto]) -> None:
    for name, (ret, params) in callbacks.items():
        cb = _expected(name)
        assert cb._restype_ is _expected(ret), f"{name}: return type"
        assert len(cb._argtypes_) == len(params), f"{name}: parameter count"
        for i, (actual, c) in enumerate(zip(cb._argtypes_, params)):
            # Buffers and contexts are plain addresses on the Python side.
            want = _expected(c)
            assert actual is want, f"{name} parameter {i}: {actual} for C {c!r}"


def test_structures_match(header: str) -> None:
    for struct, cls in (("os_entry", _native.OsEntry), ("os_quota_info", _native.OsQuotaInfo)):
        fields = _struct(header, struct)
        assert [f for f, _ in fields] == [f for f, _ in cls._fields_], struct
        for (fname, ctype), (_, actual) in zip(fields, cls._fields_):
            assert actual is _expected(ctype), f"{struct}.{fname}: {actual} for C {ctype!r}"
    # Layout sanity on 64-bit platforms (what a C compiler gives for these structs).
    if ctypes.sizeof(c_void_p) == 8:
        assert ctypes.sizeof(_native.OsEntry) == 40
        assert _native.OsEntry.etag.offset == 32
    assert ctypes.sizeof(_native.OsQuotaInfo) == 32


def test_status_enum_matches(header: str) -> None:
    values = _enum(header, "os_status")
    expected = {"OS_OK" if m.name == "OK" else "OS_ERR_" + m.name: int(m) for m in openstack_dest.Status}
    assert values == expected


def test_log_level_enum_matches(header: str) -> None:
    values = _enum(header, "os_log_level")
    assert values == {"OS_LOG_" + m.name: int(m) for m in openstack_dest.LogLevel}


def test_library_status_names_agree() -> None:
    for member in openstack_dest.Status:
        expected = "OS_OK" if member.name == "OK" else "OS_ERR_" + member.name
        assert _native.lib.os_status_name(int(member)) == expected.encode()
    assert _native.lib.os_status_name(9999) == b"OS_UNKNOWN"


def test_version_matches_header() -> None:
    m = re.search(r'#define OPENSTACK_DEST_VERSION "([^"]+)"', HEADER.read_text(encoding="utf-8"))
    assert m
    assert openstack_dest.version() == m.group(1)
