"""The real duplicity (PyPI's, installed by run-tests.sh) on an openstack:// URL, through
``python3 -m openstack_dest.duplicity``, against the test bed: two full backups of real files
(volumes larger than the segment size, credentials from OS_*), the older chain removed
(remove-all-but-n-full: deletes through the library), then a restore compared byte for byte.
Every method of the backend runs: _put, _query, _list, _delete, _get.
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Server

from openstack_dest import Destination

if os.environ.get("CI") or os.environ.get("OSD_REQUIRE_SERVER"):
    import duplicity.backend  # noqa: F401 - required here: a missing duplicity fails the run
else:
    pytest.importorskip("duplicity", reason="duplicity is not installed (bindings/python/run-tests.sh installs it)")

pytestmark = pytest.mark.server


def _real_files(target: Path, limit: int = 400) -> int:
    """Copies up to `limit` files of installed packages' sources (found, not imported)."""
    count = 0
    for name in ("duplicity", "pip", "_pytest"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        root = Path(list(spec.submodule_search_locations)[0])
        for src in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            if count >= limit:
                return count
            (target / name / src.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name / src.relative_to(root))
            count += 1
    return count


def test_duplicity_backs_up_prunes_and_restores(server: Server, container: str, tmp_path: Path) -> None:
    src, restored = tmp_path / "source", tmp_path / "restored"
    assert _real_files(src) >= 200
    (src / "big").mkdir()
    for i in range(3):
        (src / "big" / f"{i}.bin").write_bytes(os.urandom(3 * 1024 * 1024 // 2 + i * 333_333))
    env = dict(os.environ, OS_AUTH_URL=server.auth_v3, OS_USERNAME=server.user, OS_PASSWORD=server.password,
               OS_PROJECT_NAME=server.project, OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_REGION_NAME=server.region1)
    # Volumes of 2 MB in 1 MiB segments: the full backups' volumes are large objects.
    url = f"openstack://{container}/host1?openstack-segment-size=1MiB"

    def dup(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "openstack_dest.duplicity", *args, "--no-encryption",
                               "--archive-dir", str(tmp_path / "archive"), "--num-retries", "2"],
                              env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        out = done.stdout + done.stderr
        assert server.password not in out
        assert done.returncode == 0, f"duplicity {' '.join(args)} exited {done.returncode}:\n{out[-3000:]}"
        return out

    def stored() -> dict:
        with Destination(server.v3_url(container, "host1")) as d:
            return {e.name: e.kind for e in d.list()}

    assert "Errors 0" in dup("full", "--volsize", "2", str(src), url)
    first = stored()
    assert "static_large" in first.values() and sum(".vol" in n for n in first) >= 3, first
    time.sleep(1.1)  # backup sets are named by the second
    assert "Errors 0" in dup("full", "--volsize", "2", str(src), url)
    dup("remove-all-but-n-full", "1", "--force", url)
    left = stored()
    assert left and not set(first) & set(left), sorted(left)
    dup("restore", url, str(restored))
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(restored) for p in restored.rglob("*") if p.is_file())
    assert all(filecmp.cmp(src / f, restored / f, shallow=False) for f in files)
