"""The package as users get it: a wheel with the library inside, installed into a fresh venv
with no checkout around it; type hints that mypy --strict accepts; the log callback following
the logger's effective level."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import OFFLINE_URL, PACKAGE_ROOT

import openstack_dest
from openstack_dest import _destination
from openstack_dest._bindings import LogLevel

def test_the_library_sends_only_what_the_logger_keeps() -> None:
    log = logging.getLogger("openstack_dest")
    old = log.level
    try:
        for level, native, explicit in ((logging.WARNING, LogLevel.WARN, True), (logging.DEBUG, LogLevel.DEBUG, False),
                                        (logging.ERROR, LogLevel.ERROR, True)):
            log.setLevel(level)
            if explicit:
                openstack_dest.sync_log_level()
            else:  # opening a destination follows the new level (no explicit call needed)
                openstack_dest.Destination(OFFLINE_URL).close()
            assert _destination._native_log_level == int(native)
    finally:
        log.setLevel(old)
        openstack_dest.sync_log_level()


@pytest.mark.large
def test_a_wheel_installs_into_a_fresh_venv_and_loads_its_own_library(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(PACKAGE_ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("openstack_dest-*.whl")
    assert "-py3-none-" in wheel.name and not wheel.name.endswith("-any.whl"), wheel.name
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", str(wheel)], check=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENSTACK_DEST_LIB", "PYTHONPATH", "LD_LIBRARY_PATH")}
    probe = (
        "import openstack_dest, sys\n"
        "print(openstack_dest.version(), openstack_dest.library_path)\n"
        "try:\n"
        "    openstack_dest.Destination('openstack://c/?auth-username=u')\n"
        "except openstack_dest.InvalidUrlError as e:\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run(
        [str(py), "-c", probe], cwd=tmp_path, env=clean, check=True, capture_output=True, text=True
    ).stdout
    assert out.startswith(openstack_dest.version()), out
    assert str(env_dir) in out, "the library inside the installed package is the one loaded: " + out
    assert "refused: " in out and "openstack-authuri" in out, out


def test_mypy_strict_accepts_the_package() -> None:
    mypy = pytest.importorskip("mypy.api")
    stdout, stderr, status = mypy.run(["--strict", str(PACKAGE_ROOT / "src" / "openstack_dest")])
    assert status == 0, stdout + stderr
