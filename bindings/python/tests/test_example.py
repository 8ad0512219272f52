"""examples/python/backup_restore.py: usage message (offline) and a backup/restore round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from conftest import REPO_ROOT, Server

SCRIPT = REPO_ROOT / "examples" / "python" / "backup_restore.py"


def run(args: List[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_usage_message_and_a_bad_url() -> None:
    result = run([])
    assert result.returncode == 2
    assert "usage:" in result.stderr and "backup" in result.stderr and "restore" in result.stderr
    helped = run(["--help"])
    assert helped.returncode == 0 and "examples:" in helped.stdout
    result = run(["list", "openstack://?auth-username=a"])
    assert result.returncode == 1 and "InvalidUrlError" in result.stderr


@pytest.mark.server
def test_backup_list_restore(server: Server, container: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub dir" / "deeper").mkdir(parents=True)
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        # Over the segment size: a Static Large Object, whose ETag is not the file's MD5 (what
        # `make demo` met, there over the cluster's max_file_size): no MISMATCH.
        "big.bin": os.urandom(2 * 1024 * 1024 + 17),
        "sub dir/b+c #1.bin": os.urandom(3 * 1024 * 1024 + 1),
        "sub dir/deeper/ünï.txt": "ünïcödé".encode(),
    }
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    # The password comes from the environment, not the command line.
    url = server.v3_url(container, "host1/backup").replace(f"auth-password={server.password}&", "")
    assert server.password not in url
    env = {"OPENSTACK_DEST_PASSWORD": server.password}

    b = run(["-o", "openstack-segment-size=1MiB", "backup", str(src), url], **env)
    assert b.returncode == 0, b.stdout + b.stderr
    assert "5 files" in b.stdout and "0 errors" in b.stdout and "MISMATCH" not in b.stdout
    listed = run(["list", url], **env)
    assert listed.returncode == 0, listed.stderr
    for rel in files:
        assert rel in listed.stdout
    raw = run(["list", "--raw", url], **env)
    assert raw.returncode == 0 and "sub dir/" in raw.stdout, raw.stderr
    kinds = {line.rsplit("  ", 1)[-1]: line.split()[0] for line in raw.stdout.splitlines() if line.strip()}
    assert kinds["big.bin"] == "large" and kinds["a.txt"] == "file", raw.stdout

    dst = tmp_path / "restored"
    r = run(["restore", url, str(dst)], **env)
    assert r.returncode == 0, r.stdout + r.stderr
    for rel, data in files.items():
        assert (dst / rel).read_bytes() == data, rel
    assert server.password not in b.stdout + b.stderr + r.stdout + r.stderr
