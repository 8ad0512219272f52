#!/usr/bin/env python3
"""Writes the ctypes (Python) and P/Invoke (C#) declarations of libopenstack_dest from its C header.

    python3 bindings/python/tools/gen_native.py                        # (re)writes src/openstack_dest/_bindings.py
    python3 bindings/python/tools/gen_native.py --check                # exit 1 when the committed file is stale
    python3 bindings/python/tools/gen_native.py --lang csharp [--check] # the same for bindings/csharp/src/Native.cs

One header parser (class Header), two back ends (generate_python, generate_csharp).

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
CSHARP_OUTPUT = REPO_ROOT / "bindings" / "csharp" / "src" / "Native.cs"

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


def generate_python(h: Header) -> str:
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


# ---------------------------------------------------------------------------------------------
# The C# back end: bindings/csharp/src/Native.cs, with the conventions of the C# binding:
# a `const char *` argument is a NUL-terminated UTF-8 byte[] (Interop.Utf8Z), a returned string
# an IntPtr (Interop.FromUtf8), `os_dest *` the SafeHandle DestinationHandle (an IntPtr in
# os_free, which the handle's ReleaseHandle calls), a C bool one byte (MarshalAs I1/U1, a byte in
# structs), every pointer the library fills an `out`, everything else the library owns an IntPtr,
# and every call and callback Cdecl.

# Enums of the header -> (C# enum, prefixes stripped, visibility, summary).
CS_ENUMS = {
    "os_status": ("OpenStackStatus", ("OS_ERR_", "OS_"), "Mirrors os_status of the C ABI (numbers are stable)."),
    "os_log_level": ("LogLevel", ("OS_LOG_",), "Level of a library log line (os_log_level)."),
    "os_entry_kind": (
        "EntryKind",
        ("OS_KIND_",),
        "What a <see cref=\"RemoteEntry\"/> is (os_entry_kind, same numbers). Only for <see cref=\"Object\"/> "
        "is <see cref=\"RemoteEntry.ETag\"/> the MD5 of the content. Stat always knows the kind; a listing "
        "says <see cref=\"DynamicLarge\"/> only while openstack-list-large-object-sizes is on (the default).",
    ),
}
# Member and field names that PascalCase alone would spell differently from .NET's usage.
CS_WORDS = {"io": "IO", "etag": "ETag"}
CS_STRUCTS = {"os_entry": "NativeEntry", "os_object_version": "NativeObjectVersion", "os_quota_info": "NativeQuota"}
CS_HANDLE = ("os_dest", "DestinationHandle", "os_free")
CS_KEYWORDS = {"out", "ref", "in", "params", "object", "string", "base", "checked", "fixed", "lock", "event",
               "operator", "event", "delegate", "default", "decimal", "char", "byte", "int", "long", "bool"}

# Plain values, the same in an argument, a return value, a struct field and a callback.
CS_SCALARS = {
    "void": "void",
    "int": "int",
    "int32_t": "int",
    "int64_t": "long",
    "uint64_t": "ulong",
    "intptr_t": "IntPtr",
    "size_t": "UIntPtr",
    "void*": "IntPtr",
}


def _pascal(c_name: str) -> str:
    return "".join(CS_WORDS.get(part, part.capitalize()) for part in c_name.lower().split("_"))


def _camel(c_name: str) -> str:
    name = _pascal(c_name)
    name = name[0].lower() + name[1:]
    return "@" + name if name in CS_KEYWORDS else name


def _cs_callback_name(c_name: str) -> str:  # os_read_cb -> NativeReadCallback
    return "Native" + _pascal(c_name[len("os_"):-len("_cb")]) + "Callback"


def _cs_doc(text: str, indent: str) -> List[str]:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if "<see" not in text else text
    return [f"{indent}/// <summary>{text}</summary>"] if text else []


class CSharp:
    def __init__(self, h: Header) -> None:
        self.h = h

    def _fail(self, c: str, where: str) -> None:
        raise SystemExit(f"gen_native: no C# mapping for the C type {c!r} ({where}); add one to {Path(__file__).name}")

    def _enum(self, c: str) -> str:
        return CS_ENUMS["os_status"][0] if c == "os_status" else "int"

    def field(self, c: str) -> str:
        if c in CS_SCALARS and c != "void":
            return CS_SCALARS[c]
        if c == "bool":
            return "byte"
        if c in self.h.enums:
            return "int"
        if c.endswith("*"):
            return "IntPtr"
        self._fail(c, "struct field")
        return ""

    def callback_param(self, c: str) -> str:
        if c in self.h.enums:
            return self._enum(c)
        if c in CS_SCALARS:
            return CS_SCALARS[c]
        if c.endswith("*"):
            return "IntPtr"
        self._fail(c, "callback")
        return ""

    def ret(self, c: str) -> Tuple[str, str]:
        """(C# type, attribute line or '')."""
        if c == "bool":
            return "bool", "[return: MarshalAs(UnmanagedType.I1)]"
        if c in self.h.enums:
            return self._enum(c), ""
        if c in CS_SCALARS:
            return CS_SCALARS[c], ""
        if c == CS_HANDLE[0] + "*":
            return CS_HANDLE[1], ""
        if c.endswith("*"):
            return "IntPtr", ""
        self._fail(c, "return value")
        return "", ""

    def param(self, function: str, name: str, c: str) -> str:
        arg = _camel(name)
        if c == "bool":
            return f"[MarshalAs(UnmanagedType.U1)] bool {arg}"
        if c in self.h.enums:
            return f"{self._enum(c)} {arg}"
        if c in self.h.callbacks:
            return f"{_cs_callback_name(c)} {arg}"
        if c in CS_SCALARS:
            return f"{CS_SCALARS[c]} {arg}"
        if c in ("const char*", "const uint8_t*"):  # a string or a buffer the call only reads
            return f"byte[] {arg}"
        if c == "const char*const*":
            return f"IntPtr[] {arg}"
        base = c.rstrip("*")
        stars = len(c) - len(base)
        base = base[len("const "):] if base.startswith("const ") else base
        if base == CS_HANDLE[0]:
            if stars == 1:  # the release function gets the raw pointer, every other the SafeHandle
                return f"IntPtr {arg}" if function == CS_HANDLE[2] else f"{CS_HANDLE[1]} {arg}"
            if stars == 2:
                return f"out {CS_HANDLE[1]} {arg}"
        if base in CS_STRUCTS and stars == 1 and name == "out":  # a struct the caller provides
            return f"out {CS_STRUCTS[base]} {arg}"
        if stars == 2 or (stars == 1 and base in ("size_t", "uint64_t", "int64_t")):  # filled by the call
            inner = "IntPtr" if stars == 2 else CS_SCALARS[base]
            return f"out {inner} {arg}"
        if stars == 1:  # memory or an opaque object the library owns
            return f"IntPtr {arg}"
        self._fail(c, f"parameter {name} of {function}")
        return ""


def generate_csharp(h: Header) -> str:
    cs = CSharp(h)
    out: List[str] = []
    w = out.append
    w("// P/Invoke declarations of include/openstack_dest.h, and the enums, struct layouts and callback")
    w("// types it declares. Generated by bindings/python/tools/gen_native.py --lang csharp: do not edit.")
    w("// Regenerate with `python3 bindings/python/tools/gen_native.py --lang csharp` after a header change")
    w("// (scripts/check.sh fails while this file is stale).")
    w("using System;")
    w("using System.Runtime.InteropServices;")
    w("")
    w("namespace OpenStackDest")
    w("{")
    for c_name, (cls, prefixes, summary) in CS_ENUMS.items():
        w(f"    /// <summary>{summary}</summary>")
        w(f"    public enum {cls}")
        w("    {")
        for name, value, doc in h.enums[c_name]:
            short = next((name[len(p):] for p in prefixes if name.startswith(p)), name)
            out.extend(_cs_doc(doc, "        "))
            w(f"        {_pascal(short)} = {value},")
        w("    }")
        w("")
    for c_name, fields in h.structs.items():
        if c_name not in CS_STRUCTS:
            raise SystemExit(f"gen_native: no C# name for the struct {c_name}; add it to CS_STRUCTS")
        w(f"    /// <summary>{c_name} as laid out by the C ABI (a C bool is one byte, a C enum an int).</summary>")
        w("    [StructLayout(LayoutKind.Sequential)]")
        w(f"    internal struct {CS_STRUCTS[c_name]}")
        w("    {")
        for fname, ftype in fields:
            w(f"        public {cs.field(ftype)} {_pascal(fname)};")
        w("    }")
        w("")
    for c_name, (ret, params) in h.callbacks.items():
        args = ", ".join(f"{cs.callback_param(t)} {_camel(n)}" for n, t in params)
        w(f"    /// <summary>{c_name}.</summary>")
        w("    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]")
        w(f"    internal delegate {cs.callback_param(ret)} {_cs_callback_name(c_name)}({args});")
        w("")
    w("    /// <summary>")
    w("    /// Every function of the C ABI. String arguments are NUL-terminated UTF-8 byte arrays made by")
    w("    /// <see cref=\"Interop.Utf8Z\"/> (never a string marshalled by the runtime, which would cut it at a")
    w("    /// NUL or replace what UTF-8 cannot encode). On Mono a method that calls one of these is bound to the")
    w("    /// library when it is compiled, so NativeLoader.EnsureInitialized() must have run before any such")
    w("    /// method is first called (see NativeLoader).")
    w("    /// </summary>")
    w("    internal static class Native")
    w("    {")
    w("        internal const string Lib = \"openstack_dest\";")
    w("")
    w("        /// <summary>OPENSTACK_DEST_VERSION of the header these declarations come from.</summary>")
    w(f"        internal const string HeaderVersion = \"{h.version}\";")
    for name, (ret, params) in h.functions.items():
        rtype, attr = cs.ret(ret)
        args = ", ".join(cs.param(name, n, t) for n, t in params)
        w("")
        w("        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]")
        if attr:
            w(f"        {attr}")
        w(f"        internal static extern {rtype} {name}({args});")
    w("    }")
    w("}")
    return "\n".join(out) + "\n"


def generate(text: str, lang: str = "python") -> str:
    h = Header(text)
    return generate_csharp(h) if lang == "csharp" else generate_python(h)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("python", "csharp"), default="python")
    parser.add_argument("--header", type=Path, default=HEADER)
    parser.add_argument("--output", type=Path, help="default: _bindings.py or Native.cs, by --lang")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args()
    if args.output is None:
        args.output = CSHARP_OUTPUT if args.lang == "csharp" else OUTPUT
    text = generate(args.header.read_text(encoding="utf-8"), args.lang)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            lang = " --lang csharp" if args.lang == "csharp" else ""
            print(f"{args.output} is stale: run python3 {Path(__file__).relative_to(REPO_ROOT)}{lang}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
