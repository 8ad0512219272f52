"""opendal: Apache OpenDAL's Python package (its swift service) as one benchmarked process.

usage: opendal_py.py CONTAINER put NAME FILE | get NAME FILE | putdir PREFIX DIR JOBS
                     | getdir PREFIX DIR JOBS | list | delete-many NAMES_FILE JOBS
OpenDAL's swift service does not authenticate: it takes the storage URL (BENCH_STORAGE_URL) and a
token (BENCH_TOKEN) that the driver got from Keystone beforehand. A put streams the file through
OpenDAL's writer in BENCH_PART_MIB pieces (default 8); OpenDAL sends each as a segment (under
.segments/ in the same container) and ends with an SLO manifest. get streams in 8 MiB reads.
"""
import os
import sys
from pool import run_all

import opendal

CHUNK = 8 << 20
PART = int(os.environ.get("BENCH_PART_MIB") or 8) << 20


def operator(container):
    return opendal.Operator("swift", endpoint=os.environ["BENCH_STORAGE_URL"], container=container,
                            token=os.environ["BENCH_TOKEN"])


def put_file(op, name, path):
    """Streamed: the file goes through OpenDAL's writer in PART pieces."""
    with open(path, "rb") as src, op.open(name, "wb") as dst:
        while chunk := src.read(PART):
            dst.write(chunk)


def get_file(op, name, path):
    with op.open(name, "rb") as src, open(path, "wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)




def main(argv):
    container, what, args = argv[0], argv[1], argv[2:]
    op = operator(container)
    if what == "put":
        put_file(op, args[0], args[1])
    elif what == "get":
        get_file(op, args[0], args[1])
    elif what == "putdir":
        prefix, top, jobs = args[0], args[1], int(args[2])
        files = sorted(os.listdir(top))
        run_all(jobs, lambda f: put_file(op, f"{prefix}/{f}", os.path.join(top, f)), files)
    elif what == "getdir":
        prefix, top, jobs = args[0], args[1], int(args[2])
        names = [e.path for e in op.scan(prefix + "/") if not e.path.endswith("/")]
        os.makedirs(top, exist_ok=True)
        run_all(jobs, lambda n: get_file(op, n, os.path.join(top, n[len(prefix) + 1:])), names)
    elif what == "delete-many":
        with open(args[0]) as f:
            names = [line.rstrip("\n") for line in f if line.strip()]
        run_all(int(args[1]), op.delete, names)
    elif what == "list":
        sys.stdout.write("".join(e.path + "\n" for e in op.list("") if not e.path.endswith("/")))
    else:
        sys.exit(f"opendal_py.py: unknown operation {what}")


if __name__ == "__main__":
    main(sys.argv[1:])
