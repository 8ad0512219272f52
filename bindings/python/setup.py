"""Build hook for the openstack_dest package (metadata lives in pyproject.toml).

When the package is built inside a checkout of libopenstack_dest and the Rust library has been
built (``cargo build`` -> target/debug, ``cargo build --release`` -> target/release), the newest
``libopenstack_dest.so`` found there is copied next to the package's modules, so the installed
package loads it without any setting; ``OPENSTACK_DEST_PROFILE=release`` (or ``debug``) takes that
build whatever its age (``make wheel`` builds and ships the release one). Without a built library the package still installs (as a
pure-Python package); it then finds the library through ``OPENSTACK_DEST_LIB`` or the system
loader at import time.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import struct
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent  # bindings/python -> repository root

if sys.platform == "darwin":
    LIB_NAME = "libopenstack_dest.dylib"
elif sys.platform == "win32":
    LIB_NAME = "openstack_dest.dll"
else:
    LIB_NAME = "libopenstack_dest.so"

ALL_LIB_NAMES = ("libopenstack_dest.so", "libopenstack_dest.dylib", "openstack_dest.dll")


def find_built_library() -> Optional[Path]:
    """The library built by cargo in this checkout (the newest, or OPENSTACK_DEST_PROFILE's), or None."""
    if not (REPO / "Cargo.toml").is_file():
        return None
    profiles = ("debug", "release")
    wanted = os.environ.get("OPENSTACK_DEST_PROFILE", "")
    if wanted:
        if wanted not in profiles:
            sys.exit(f"OPENSTACK_DEST_PROFILE must be one of {', '.join(profiles)}, not {wanted!r}")
        chosen = REPO / "target" / wanted / LIB_NAME
        if not chosen.is_file():
            sys.exit(f"OPENSTACK_DEST_PROFILE={wanted}: {chosen} is missing (cargo build"
                     f"{' --release' if wanted == 'release' else ''})")
        return chosen
    candidates = [REPO / "target" / profile / LIB_NAME for profile in profiles]
    found = [c for c in candidates if c.is_file()]
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime)


BUILT_LIBRARY = find_built_library()

SHT_GNU_VERNEED = 0x6FFFFFFE


def glibc_needed(path: Path) -> Optional[Tuple[int, int]]:
    """The newest GLIBC_x.y symbol version an ELF64 little-endian library needs (its
    .gnu.version_r section), or None (another format, or no glibc versions)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    # (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    best: Optional[Tuple[int, int]] = None
    for section in sections:
        if section[1] != SHT_GNU_VERNEED:
            continue
        strings = sections[section[6]][4]
        entry = section[4]
        for _ in range(section[7]):  # sh_info: the number of Verneed entries
            _, count, _, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            at = entry + aux
            for _ in range(count):
                _, _, _, name_at, next_aux = struct.unpack_from("<IHHII", data, at)
                start = strings + name_at
                name = data[start:data.index(b"\0", start)].decode("ascii", "replace")
                m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)*", name)
                if m:
                    version = (int(m.group(1)), int(m.group(2)))
                    best = version if best is None else max(best, version)
                at += next_aux
            entry += next_entry
    return best


def platform_tag(default: str) -> str:
    """manylinux_X_Y_ARCH for a glibc Linux library (PEP 600: X.Y the newest glibc symbol version
    it needs, at least 2.17), else the default tag. `make wheel` checks it with auditwheel."""
    if BUILT_LIBRARY is None or not sys.platform.startswith("linux"):
        return default
    glibc = glibc_needed(BUILT_LIBRARY)
    if glibc is None:
        return default
    major, minor = max(glibc, (2, 17))
    return f"manylinux_{major}_{minor}_{platform.machine()}"


class build_py_with_library(build_py):
    """build_py that also copies the cargo-built shared library into the package."""

    def run(self) -> None:
        super().run()
        target_dir = Path(self.build_lib) / "openstack_dest"
        # An earlier in-tree build may have left a copy behind: never ship a stale library.
        for name in ALL_LIB_NAMES:
            stale = target_dir / name
            if stale.exists():
                stale.unlink()
        if BUILT_LIBRARY is None:
            self.announce(
                "openstack_dest: no built libopenstack_dest in this checkout; the package will "
                "look for it through OPENSTACK_DEST_LIB or the system loader",
                level=2,
            )
            return
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUILT_LIBRARY, target_dir / LIB_NAME)
        self.announce(f"openstack_dest: bundling {BUILT_LIBRARY}", level=2)

    def get_outputs(self, include_bytecode: bool = True) -> List[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if BUILT_LIBRARY is not None:
            outputs.append(os.path.join(self.build_lib, "openstack_dest", LIB_NAME))
        return outputs


class LibraryDistribution(Distribution):
    """A wheel that carries a native library is platform specific (but not tied to a CPython ABI)."""

    def has_ext_modules(self) -> bool:  # noqa: D401 - setuptools API
        return BUILT_LIBRARY is not None


cmdclass = {"build_py": build_py_with_library}

try:  # setuptools >= 70.1 ships bdist_wheel; older ones use the `wheel` package's.
    try:
        from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel  # type: ignore[no-redef]

    class bdist_wheel_with_library(_bdist_wheel):  # type: ignore[misc,valid-type]
        def finalize_options(self) -> None:
            super().finalize_options()
            self.root_is_pure = BUILT_LIBRARY is None

        def get_tag(self):  # type: ignore[no-untyped-def]
            python, abi, plat = super().get_tag()
            if BUILT_LIBRARY is not None:
                # The library is loaded with ctypes: any Python 3 on this platform can use it.
                return "py3", "none", platform_tag(plat)
            return python, abi, plat

    cmdclass["bdist_wheel"] = bdist_wheel_with_library
except ImportError:
    pass

setup(cmdclass=cmdclass, distclass=LibraryDistribution)
