#!/usr/bin/env python3
"""Back up a directory to OpenStack Swift and restore it, with libopenstack_dest.

    backup_restore.py backup  DIR URL     upload every file under DIR (relative names) + a manifest
    backup_restore.py restore URL DIR     download the files of the manifest into DIR, verify them
    backup_restore.py list    URL         show what is stored under URL (the manifest if any)

URL is an openstack:// destination, e.g.
    'openstack://my-container/laptop/home?auth-username=alice&openstack-tenant-name=backup
     &openstack-authuri=https://keystone.example.com/v3&openstack-domain-name=Default'
Keep the password out of the command line: it is taken from $OPENSTACK_DEST_PASSWORD (or
$OPENSTACK_DEST_APIKEY for a v2 API key) when the URL does not carry one. More options can be
given with -o KEY=VALUE.

Files are streamed (never held in memory), checked after upload (size, and MD5 against Swift's
ETag where that is the MD5: ordinary objects, kind "object"; a file larger than the cluster's
max_file_size or openstack-segment-size is stored as a large object, whose ETag is derived from its
segments, each of which Swift checked against the MD5 the library sent) and after download (size
and SHA-256 against the manifest). Needs the openstack_dest
package: pip install ./bindings/python (after `cargo build`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Dict, List, Optional

import openstack_dest
from openstack_dest import Destination, NotFoundError, OpenStackError

MANIFEST = ".backup-manifest.json"
CHUNK = 1024 * 1024


class HashingReader:
    """Wraps a binary file: hashes what the library reads (MD5 for the ETag, SHA-256 for us)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.md5.update(data)
        self.sha256.update(data)
        return data
    # No seek(): the library then does not rewind, so every byte is hashed exactly once.


class HashingWriter:
    """Wraps a binary file: hashes and counts what the library writes."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.f.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def options_from(args: argparse.Namespace) -> Dict[str, str]:
    options: Dict[str, str] = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"-o expects KEY=VALUE, got {item!r}")
        options[key] = value
    url = args.url
    if "auth-password=" not in url and "openstack-apikey=" not in url:
        if os.environ.get("OPENSTACK_DEST_PASSWORD"):
            options.setdefault("auth-password", os.environ["OPENSTACK_DEST_PASSWORD"])
        elif os.environ.get("OPENSTACK_DEST_APIKEY"):
            options.setdefault("openstack-apikey", os.environ["OPENSTACK_DEST_APIKEY"])
    return options


def human(n: Optional[int]) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def progress_printer(name: str, enabled: bool) -> Optional[openstack_dest.ProgressCallback]:
    if not enabled:
        return None
    last = [0.0]

    def report(done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or (total is not None and done == total):
            last[0] = now
            of = f" of {human(total)}" if total is not None else ""
            print(f"\r  {name}: {human(done)}{of}", end="", file=sys.stderr, flush=True)

    return report


def files_under(root: Path) -> List[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.is_file() and not p.is_symlink():
                found.append(p)
    return found


def backup(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        print(f"error: {root} is not a directory", file=sys.stderr)
        return 2
    manifest: Dict[str, Dict[str, Any]] = {}
    errors = 0
    with Destination(args.url, options_from(args)) as dest:
        dest.create_container()
        for path in files_under(root):
            name = PurePosixPath(*path.relative_to(root).parts).as_posix()
            if name == MANIFEST:
                continue
            with open(path, "rb") as f:
                reader = HashingReader(f)
                dest.put(name, reader, progress=progress_printer(name, args.verbose))
            if args.verbose:
                print(file=sys.stderr)
            entry = dest.stat(name)
            size = path.stat().st_size
            # Only an ordinary object's ETag is the MD5 of its content (entry.etag_is_md5); a large
            # object's (kind "static_large" or "dynamic_large") comes from its segments' MD5s.
            if entry.size != size or (entry.etag_is_md5 and entry.etag != reader.md5.hexdigest()):
                print(f"MISMATCH after upload: {name} (remote {entry.size} bytes, {entry.kind}, "
                      f"etag {entry.etag})")
                errors += 1
                continue
            manifest[name] = {"size": size, "sha256": reader.sha256.hexdigest()}
            print(f"uploaded {name} ({human(size)})")
        body = json.dumps(
            {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": manifest},
            indent=1,
            sort_keys=True,
        ).encode()
        dest.put(MANIFEST, body)
    print(f"backup: {len(manifest)} files, {human(sum(m['size'] for m in manifest.values()))}, "
          f"{errors} errors")
    return 1 if errors else 0


def safe_target(root: Path, name: str) -> Path:
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or any(p in ("..", ".") for p in parts):
        raise ValueError(f"refusing to restore a file named {name!r} (outside the target directory)")
    return root.joinpath(*parts)


def restore(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    errors = 0
    total = 0
    with Destination(args.url, options_from(args)) as dest:
        try:
            manifest = json.loads(dest.get(MANIFEST))["files"]
        except NotFoundError:
            print(f"error: no {MANIFEST} under this URL: nothing was backed up here", file=sys.stderr)
            return 2
        for name, meta in sorted(manifest.items()):
            target = safe_target(root, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            with open(tmp, "wb") as f:
                writer = HashingWriter(f)
                dest.get(name, writer, progress=progress_printer(name, args.verbose))
            if args.verbose:
                print(file=sys.stderr)
            if writer.size != meta["size"] or writer.sha256.hexdigest() != meta["sha256"]:
                print(f"MISMATCH after download: {name} ({writer.size} bytes)")
                tmp.unlink()
                errors += 1
                continue
            os.replace(tmp, target)
            total += writer.size
            print(f"restored {name} ({human(writer.size)}, sha256 ok)")
    print(f"restore: {len(manifest) - errors} files, {human(total)}, {errors} errors")
    return 1 if errors else 0


def list_cmd(args: argparse.Namespace) -> int:
    with Destination(args.url, options_from(args)) as dest:
        try:
            doc = json.loads(dest.get(MANIFEST))
        except NotFoundError:
            doc = None
        if doc is not None and not args.raw:
            print(f"backup of {doc.get('created', '?')}:")
            for name, meta in sorted(doc["files"].items()):
                print(f"  {human(meta['size']):>10}  {name}")
            print(f"{len(doc['files'])} files")
            return 0
        for e in dest.list():
            when = e.last_modified.strftime("%Y-%m-%d %H:%M:%S") if e.last_modified else "-"
            kind = {"folder": "dir ", "object": "file"}.get(e.kind, "large")
            print(f"{kind:5} {human(e.size):>10}  {when:19}  {e.name}{'/' if e.is_folder else ''}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Back up a directory to OpenStack Swift and restore it (libopenstack_dest).",
        epilog=(
            "examples:\n"
            "  export OPENSTACK_DEST_PASSWORD=...\n"
            "  %(prog)s backup ~/Documents 'openstack://backups/docs?auth-username=alice&"
            "openstack-tenant-name=proj&openstack-authuri=http://127.0.0.1:5000/v3'\n"
            "  %(prog)s list 'openstack://backups/docs?...'\n"
            "  %(prog)s restore 'openstack://backups/docs?...' /tmp/docs-restored"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress and library logs")
    parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                        help="an extra destination option (repeatable)")
    sub = parser.add_subparsers(dest="command", metavar="{backup,restore,list}")
    p = sub.add_parser("backup", help="upload DIR to URL")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=backup)
    p = sub.add_parser("restore", help="download URL into DIR and verify")
    p.add_argument("url", metavar="URL")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=restore)
    p = sub.add_parser("list", help="show what is stored under URL")
    p.add_argument("url", metavar="URL")
    p.add_argument("--raw", action="store_true", help="list the objects, not the manifest")
    p.set_defaults(func=list_cmd)

    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except OpenStackError as exc:
        http = f", HTTP {exc.http_status}" if exc.http_status else ""
        print(f"error: {type(exc).__name__}: {exc}{http}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
