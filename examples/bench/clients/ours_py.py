"""ours-py: the Python binding (openstack_dest) as one benchmarked process.

usage: ours_py.py put NAME FILE | get NAME FILE | putdir PREFIX DIR JOBS | getdir PREFIX DIR JOBS
                  | list | stat NAME | delete-many NAMES_FILE | open N NAME
The destination URL comes from OPENSTACK_DEST_URL; `list` prints one name a line, `stat` the size;
`delete-many` deletes the names of a file (one a line) in one call; `open` opens N destinations
of the URL and stats NAME through each (they share one token).
"""
import os
import sys
from pool import run_all

from openstack_dest import Destination




def put_dir(d, prefix, top, jobs):
    files = sorted(os.listdir(top))
    run_all(jobs, lambda f: d.put(f"{prefix}/{f}", os.path.join(top, f)), files)


def get_dir(d, prefix, top, jobs):
    names = [e.name for e in d.iter_entries(prefix + "/", recursive=True)]
    os.makedirs(top, exist_ok=True)
    run_all(jobs, lambda n: d.get(n, os.path.join(top, n[len(prefix) + 1:])), names)


def open_many(n, name):
    opened = [Destination(os.environ["OPENSTACK_DEST_URL"]) for _ in range(n)]
    sizes = {d.stat(name).size for d in opened}
    for d in opened:
        d.close()
    print(sizes.pop())


def main(argv):
    op, args = argv[0], argv[1:]
    if op == "open":
        return open_many(int(args[0]), args[1])
    with Destination(os.environ["OPENSTACK_DEST_URL"]) as d:
        if op == "put":
            d.put(args[0], args[1])
        elif op == "get":
            d.get(args[0], args[1])
        elif op == "putdir":
            put_dir(d, args[0], args[1], int(args[2]))
        elif op == "getdir":
            get_dir(d, args[0], args[1], int(args[2]))
        elif op == "list":
            out = sys.stdout
            for e in d.iter_entries(recursive=True):
                out.write(e.name + "\n")
        elif op == "stat":
            print(d.stat(args[0]).size)
        elif op == "delete-many":
            with open(args[0]) as f:
                names = [line.rstrip("\n") for line in f if line.strip()]
            d.delete_many(names)
        else:
            sys.exit(f"ours_py.py: unknown operation {op}")


if __name__ == "__main__":
    main(sys.argv[1:])
