#!/usr/bin/env python3
"""Writes the ctypes declarations of libopenstack_dest from its C header.

    python3 bindings/python/tools/gen_native.py          # (re)writes src/openstack_dest/_bindings.py
    python3 bindings/python/tools/gen_native.py --check  # exit 1 when the committed file is stale

The header (include/openstack_dest.h) is cbindgen's output, which is regular enough for regular
expressions: `typedef enum NAME { /** doc */ ITEM = N, ... } NAME;`, `typedef struct NAME { ... } NAME;`,
`typedef RET (*NAME)(PARAMS);` and one prototype per function. Any C type this script does not know
stops it with an error, so a new kind of parameter is noticed here, not at run time.
Plain python3, standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
PYTHON_ROOT = HERE.parent
REPO_ROOT = PYTHON_ROOT.parent.parent
HEADER = REPO_ROOT / "include" / "openstack_dest.h"
OUTPUT = PYTHON_ROOT / "src" / "openstack_dest" / "_bindings.py"

# Enums of the header -> (Python class, prefix stripped from member names).
ENUMS = {
    "os_status": ("Status", ("OS_ERR_", "OS_")),
    "os_log_level": ("LogLevel", ("OS_LOG_",)),
    "os_entry_kind": ("EntryKindCode", ("OS_KIND_",)),
}

# C types (normalised: no struct/enum keyword, `*` glued) that map to a plain ctypes type.
# Buffers and contexts are passed as plain addresses (c_void_p) on the Python side.
SCALARS = {
    "void": "None",
    "bool": "c_bool",
    "int": "c_int",
    "int32_t": "c_int32",
    "int64_t": "c_int64",
    "uint64_t": "c_uint64",
    "intptr_t": "c_ssize_t",
    "size_t": "c_size_t",
    "void*": "c_void_p",
    "uint8_t*": "c_void_p",
    "const uint8_t*": "c_void_p",
    "uint8_t**": "POINTER(c_void_p)",
    "size_t*": "POINTER(c_size_t)",
    "uint64_t*": "POINTER(c_uint64)",
    "const char*": "c_char_p",
    "const char*const*": "POINTER(c_char_p)",
}


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"(?m)^\s*#.*$", " ", text)


def _normalise(ctype: str) -> str:
    ctype = re.sub(r"\b(struct|enum)\s+", "", ctype)
    ctype = re.sub(r"\s*\*\s*", "*", ctype.strip())
    return re.sub(r"\s+", " ", ctype)


def _params(text: str) -> List[Tuple[str, str]]:
    text = " ".join(text.split())
    if text in ("", "void"):
        return []
    out = []
    for param in text.split(","):
        m = re.fullmatch(r"\s*(.*?[\s*])(\w+)\s*", param)
        if not m:
            raise SystemExit(f"gen_native: cannot parse the parameter {param!r}")
        out.append((m.group(2), _normalise(m.group(1))))
    return out


def _doc(comment: str) -> str:
    lines = [re.sub(r"^\s*\*\s?", "", line).strip() for line in comment.splitlines()]
    return " ".join(line for line in lines if line)


def _class_name(c_name: str) -> str:  # os_quota_info -> OsQuotaInfo
    return "".join(part.capitalize() for part in c_name.split("_"))


def _callback_name(c_name: str) -> str:  # os_read_cb -> READ_CB
    return c_name[len("os_"):].upper()


class Header:
    def __init__(self, text: str) -> None:
        self.text = text
        self.flat = " ".join(_strip_comments(text).split())
        m = re.search(r'#define OPENSTACK_DEST_VERSION "([^"]+)"', text)
        self.version = m.group(1) if m else None
        self.enums: Dict[str, List[Tuple[str, int, str]]] = {}
        for m in re.finditer(r"typedef enum (\w+) \{(.*?)\} \1;", text, re.S):
            items = re.findall(r"(?:/\*\*(.*?)\*/\s*)?(\w+)\s*=\s*(-?\w+)\s*,", m.group(2), re.S)
            self.enums[m.group(1)] = [(name, int(value, 0), _doc(doc)) for doc, name, value in items]
        self.opaque = re.findall(r"typedef struct (\w+) \1;", self.flat)
        self.structs: Dict[str, List[Tuple[str, str]]] = {}
        for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", self.flat):
            fields = [d.strip() for d in m.group(2).split(";") if d.strip()]
            self.structs[m.group(1)] = [_params(f)[0] for f in fields]
        self.callbacks: Dict[str, Tuple[str, List[Tuple[str, str]]]] = {}
        for m in re.finditer(r"typedef ([\w\s*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^()]*)\)\s*;", self.flat):
            self.callbacks[m.group(2)] = (_normalise(m.group(1)), _params(m.group(3)))
        self.functions: Dict[str, Tuple[str, List[Tuple[str, str]]]] = {}
        for statement in re.split(r"[;{}]", self.flat):
            m = re.fullmatch(r"\s*([A-Za-z_][\w\s*]*?[\s*])(os_\w+)\s*\(([^()]*)\)\s*", statement)
            if m is None or m.group(1).strip().startswith("typedef"):
                continue
            self.functions[m.group(2)] = (_normalise(m.group(1)), _params(m.group(3)))
        for what, found in (("enum os_status", self.enums.get("os_status")), ("functions", self.functions)):
            if not found:
                raise SystemExit(f"gen_native: no {what} found in the header")

    def ctype(self, c: str) -> str:
        if c in SCALARS:
            return SCALARS[c]
        if c in self.enums:
            return "c_int"
        if c in self.callbacks:
            return _callback_name(c)
        base, stars = c.rstrip("*"), len(c) - len(c.rstrip("*"))
        base = base[len("const "):] if base.startswith("const ") else base
        if base in self.opaque and stars:
            return "POINTER(" * (stars - 1) + "c_void_p" + ")" * (stars - 1)
        if base in self.structs and stars:
            return "POINTER(" * stars + _class_name(base) + ")" * stars
        raise SystemExit(f"gen_native: no ctypes mapping for the C type {c!r}; add one to {Path(__file__).name}")


def generate(text: str) -> str:
    h = Header(text)
    out: List[str] = []
    w = out.append
    w('"""ctypes declarations of include/openstack_dest.h.')
    w("")
    w("Generated by bindings/python/tools/gen_native.py from include/openstack_dest.h: do not edit.")
    w("Regenerate with `python3 bindings/python/tools/gen_native.py` after a header change.")
    w('"""')
    w("")
    w("# fmt: off")
    w("import enum")
    w("from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_int, c_int32, c_int64,")
    w("                    c_size_t, c_ssize_t, c_uint64, c_void_p)")
    w("from typing import Any, Dict, List, Tuple")
    w("")
    w(f"HEADER_VERSION = {h.version!r}")
    for c_name, (cls, prefixes) in ENUMS.items():
        w("")
        w("")
        w(f"class {cls}(enum.IntEnum):")
        w(f'    """``{c_name}``."""')
        w("")
        for name, value, doc in h.enums[c_name]:
            short = next((name[len(p):] for p in prefixes if name.startswith(p)), name)
            w(f"    {short} = {value}")
            if doc:
                w(f'    """{doc}"""'.replace("\\", "\\\\"))
    w("")
    w("")
    w(f"{ENUMS['os_status'][0].upper()}_C_NAMES: Dict[int, str] = {{")
    for name, value, _ in h.enums["os_status"]:
        w(f"    {value}: {name!r},")
    w("}")
    # Structs, in header order; callbacks may refer to structs, so those come first.
    for c_name, fields in h.structs.items():
        w("")
        w("")
        w(f"class {_class_name(c_name)}(Structure):")
        w(f'    """``{c_name}``."""')
        w("")
        w("    _fields_ = [")
        for fname, ftype in fields:
            w(f"        ({fname!r}, {h.ctype(ftype)}),")
        w("    ]")
    w("")
    w("")
    w("# Callback types (the ctx pointer comes first).")
    for c_name, (ret, params) in h.callbacks.items():
        args = ", ".join([h.ctype(ret)] + [h.ctype(t) for _, t in params])
        w(f"{_callback_name(c_name)} = CFUNCTYPE({args})")
    w("")
    w("# name -> (restype, argtypes): every function of the header.")
    w("FUNCTIONS: Dict[str, Tuple[Any, List[Any]]] = {")
    for name, (ret, params) in h.functions.items():
        args = ", ".join(h.ctype(t) for _, t in params)
        w(f"    {name!r}: ({h.ctype(ret)}, [{args}]),")
    w("}")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--header", type=Path, default=HEADER)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args()
    text = generate(args.header.read_text(encoding="utf-8"))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            print(f"{args.output} is stale: run python3 {Path(__file__).relative_to(REPO_ROOT)}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
