"""swiftclient-py: python-swiftclient's Connection API as one benchmarked process.

usage: swiftclient_py.py CONTAINER put NAME FILE | get NAME FILE | putdir PREFIX DIR JOBS
                         | getdir PREFIX DIR JOBS | list | stat NAME | open N NAME
Keystone v3 credentials from OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME; BENCH_STORAGE_URL, when set,
replaces the catalog's endpoint (the relay). A Connection is not thread-safe: one per thread.
"""
import os
import sys
import threading
from pool import run_all

from swiftclient.client import Connection

CHUNK = 1 << 20
_local = threading.local()


def connect():
    env = os.environ
    options = {
        "project_name": env["OS_PROJECT_NAME"],
        "user_domain_name": env["OS_USER_DOMAIN_NAME"],
        "project_domain_name": env["OS_PROJECT_DOMAIN_NAME"],
        "region_name": env["OS_REGION_NAME"],
    }
    if env.get("BENCH_STORAGE_URL"):
        options["object_storage_url"] = env["BENCH_STORAGE_URL"]
    return Connection(authurl=env["OS_AUTH_URL"], user=env["OS_USERNAME"], key=env["OS_PASSWORD"],
                      auth_version="3", os_options=options)


def thread_connection():
    if not hasattr(_local, "conn"):
        _local.conn = connect()
    return _local.conn


def put_file(conn, container, name, path):
    with open(path, "rb") as f:
        conn.put_object(container, name, contents=f, content_length=os.path.getsize(path))


def get_file(conn, container, name, path):
    _, body = conn.get_object(container, name, resp_chunk_size=CHUNK)
    with open(path, "wb") as f:
        for chunk in body:
            f.write(chunk)




def open_many(container, n, name):
    """N Connections, each authenticating and HEADing NAME."""
    sizes = {connect().head_object(container, name)["content-length"] for _ in range(n)}
    print(sizes.pop())


def main(argv):
    container, op, args = argv[0], argv[1], argv[2:]
    if op == "open":
        return open_many(container, int(args[0]), args[1])
    conn = connect()
    if op == "put":
        put_file(conn, container, args[0], args[1])
    elif op == "get":
        get_file(conn, container, args[0], args[1])
    elif op == "putdir":
        prefix, top, jobs = args[0], args[1], int(args[2])
        files = sorted(os.listdir(top))
        if jobs <= 1:
            for f in files:
                put_file(conn, container, f"{prefix}/{f}", os.path.join(top, f))
        else:
            run_all(jobs, lambda f: put_file(thread_connection(), container, f"{prefix}/{f}",
                                             os.path.join(top, f)), files)
    elif op == "getdir":
        prefix, top, jobs = args[0], args[1], int(args[2])
        _, listing = conn.get_container(container, prefix=prefix + "/", full_listing=True)
        names = [o["name"] for o in listing]
        os.makedirs(top, exist_ok=True)
        target = lambda n: os.path.join(top, n[len(prefix) + 1:])  # noqa: E731
        if jobs <= 1:
            for n in names:
                get_file(conn, container, n, target(n))
        else:
            run_all(jobs, lambda n: get_file(thread_connection(), container, n, target(n)), names)
    elif op == "list":
        _, listing = conn.get_container(container, full_listing=True)
        sys.stdout.write("".join(o["name"] + "\n" for o in listing))
    elif op == "stat":
        print(conn.head_object(container, args[0])["content-length"])
    else:
        sys.exit(f"swiftclient_py.py: unknown operation {op}")


if __name__ == "__main__":
    main(sys.argv[1:])
