"""The real duplicity (PyPI's, installed by run-tests.sh) end to end on openstack:// URLs, through
``python3 -m openstack_dest.duplicity``, against the test bed: full and incremental backups of real
files, verify, collection-status, a full restore compared byte for byte, one file restored as it
was at an earlier time, a backup killed half-way and resumed, and retention
(remove-all-but-n-full --force) whose deletes go through the library.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from conftest import Server

from openstack_dest import Destination

if os.environ.get("CI") or os.environ.get("OSD_REQUIRE_SERVER"):
    import duplicity.backend  # noqa: F401 - required here: a missing duplicity fails the run
else:
    pytest.importorskip("duplicity", reason="duplicity is not installed (bindings/python/run-tests.sh installs it)")

pytestmark = pytest.mark.server

MiB = 1024 * 1024
# Real files: the sources of installed packages (found, not imported), up to LIMIT files.
REAL_TREES = ("duplicity", "pip", "_pytest")
LIMIT = 400


def _real_files(target: Path) -> int:
    import importlib.util

    count = 0
    for name in REAL_TREES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        root = Path(list(spec.submodule_search_locations)[0])
        for src in sorted(root.rglob("*")):
            if count >= LIMIT:
                return count
            if src.is_file() and "__pycache__" not in src.parts:
                dst = target / name / src.relative_to(root)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                count += 1
    return count


class Duplicity:
    """Runs ``python -m openstack_dest.duplicity`` with the test bed's OS_* settings."""

    def __init__(self, server: Server, archive: Path) -> None:
        self.archive, self.password = archive, server.password
        self.env = dict(os.environ, OS_AUTH_URL=server.auth_v3, OS_USERNAME=server.user, OS_PASSWORD=server.password,
                        OS_PROJECT_NAME=server.project, OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
                        OS_REGION_NAME=server.region1)

    def command(self, args: Sequence[str]) -> List[str]:
        return [sys.executable, "-m", "openstack_dest.duplicity", *args, "--no-encryption",
                "--archive-dir", str(self.archive), "--num-retries", "2"]

    def __call__(self, *args: str, ok: bool = True) -> str:
        done = subprocess.run(self.command(args), env=self.env, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
        out = done.stdout + done.stderr
        assert self.password not in out
        if ok:
            assert done.returncode == 0, f"duplicity {' '.join(args)} exited {done.returncode}:\n{out[-3000:]}"
        return out

    def start(self, *args: str) -> "subprocess.Popen[str]":
        return subprocess.Popen(self.command(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


def _same_trees(a: Path, b: Path) -> None:
    """Every file of ``a`` is in ``b`` with the same bytes, and nothing else."""
    listed_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    listed_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert listed_a == listed_b
    for rel in listed_a:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel


def _remote(server: Server, container: str, prefix: str = "", recursive: bool = False) -> Dict[str, str]:
    """name -> kind of what the destination holds."""
    with Destination(server.v3_url(container, prefix)) as d:
        return {e.name: e.kind for e in d.list(recursive=recursive)}


def test_duplicity_backs_up_restores_verifies_resumes_and_prunes(
    server: Server, container: str, tmp_path: Path
) -> None:
    src = tmp_path / "source"
    real = _real_files(src)
    assert real >= 200, real
    (src / "big").mkdir()
    for i in range(3):
        (src / "big" / f"{i}.bin").write_bytes(os.urandom(3 * MiB // 2 + i * 333_333))
    segments = container + "_segments"  # removed with the container by the fixture
    # Volumes of 2 MB, stored in 1 MiB segments: the full backup's volumes are large objects.
    url = f"openstack://{container}/host1?openstack-segment-size=1MiB"
    dup = Duplicity(server, tmp_path / "archive")

    out = dup("full", "--volsize", "2", str(src), url)
    assert "Errors 0" in out
    after_full = int(time.time()) + 1
    stored = _remote(server, container, "host1")
    volumes = {n: k for n, k in stored.items() if ".vol" in n}
    assert len(volumes) >= 3, stored
    assert "static_large" in volumes.values(), stored
    time.sleep(2)  # the incremental's time must be after `after_full`

    # Changes: one file changed, one added, one removed; then an incremental.
    changed = src / "duplicity" / "backend.py"
    before = changed.read_bytes()
    changed.write_bytes(before + b"\n# changed after the full backup\n")
    (src / "added.txt").write_text("added after the full backup\n")
    removed = next(p for p in sorted((src / "duplicity").rglob("*.py")))
    removed.unlink()
    out = dup("incremental", "--volsize", "2", str(src), url)
    assert "Errors 0" in out
    assert any(n.startswith("duplicity-inc.") for n in _remote(server, container, "host1"))

    out = dup("verify", url, str(src))
    assert re.search(r"Verify complete: \d+ file\(s\) compared, 0 difference\(s\) found", out), out
    status = dup("collection-status", url)
    assert "Number of contained backup sets: 2" in status, status

    # The other ways to give credentials, with no OS_* variable at all: in the URL, and clouds.yaml.
    bare = Duplicity(server, tmp_path / "archive")
    bare.env = {k: v for k, v in bare.env.items() if not k.startswith("OS_")}
    in_url = server.v3_url(container, "host1") + "&openstack-segment-size=1MiB"
    assert "Number of contained backup sets: 2" in bare("collection-status", in_url)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  testbed:\n    auth:\n"
        f"      auth_url: {server.auth_v3}\n      username: {server.user}\n"
        f"      password: {server.password}\n      project_name: {server.project}\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        f"    region_name: {server.region1}\n"
    )
    bare.env["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    status = bare("collection-status", f"openstack://{container}/host1?openstack-cloud=testbed")
    assert "Number of contained backup sets: 2" in status, status

    restored = tmp_path / "restored"
    dup("restore", url, str(restored))
    _same_trees(src, restored)

    # One file as it was before the incremental.
    old = tmp_path / "old-client.py"
    dup("restore", "--time", str(after_full), "--path-to-restore", "duplicity/backend.py", url, str(old))
    assert old.read_bytes() == before

    # A second full backup, killed once some volumes are up, then run again: it resumes.
    (src / "more").mkdir()
    for i in range(12):
        (src / "more" / f"{i}.bin").write_bytes(os.urandom(3 * MiB))
    proc = dup.start("full", "--volsize", "1", str(src), url)
    deadline = time.monotonic() + 300
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        fulls = [n for n in _remote(server, container, "host1") if n.startswith("duplicity-full.")]
        stamps = {n.split(".")[1] for n in fulls}
        if len(stamps) > 1 and sum(".vol" in n for n in fulls) >= 3 + len(volumes):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    log = proc.communicate(timeout=60)[0]
    assert killed and proc.returncode == -signal.SIGKILL, f"the backup was not killed half-way:\n{log[-2000:]}"
    out = dup("full", "--volsize", "1", str(src), url)
    assert re.search(r"[Rr]estart", out), out[-3000:]
    dup("verify", url, str(src))
    status = dup("collection-status", url)
    assert len(re.findall(r"^\s*Full\s", status, re.M)) == 2, status
    restored2 = tmp_path / "restored2"
    dup("restore", url, str(restored2))
    _same_trees(src, restored2)

    # Retention: all but the last full chain go, deleted through the library (segments too).
    stored = _remote(server, container, "host1")
    oldest = min(n.split(".")[1] for n in stored if n.startswith("duplicity-full."))
    first = {n for n in stored if n.split(".")[1] == oldest}
    segments_before = len(_remote(server, segments, recursive=True))
    dup("remove-all-but-n-full", "1", "--force", url)
    left = _remote(server, container, "host1")
    assert not first & set(left), sorted(first & set(left))
    assert not any(n.startswith("duplicity-inc.") for n in left), sorted(left)
    assert len(_remote(server, segments, recursive=True)) < segments_before
    status = dup("collection-status", url)
    assert len(re.findall(r"^\s*Full\s", status, re.M)) == 1, status
    restored3 = tmp_path / "restored3"
    dup("restore", url, str(restored3))
    _same_trees(src, restored3)
