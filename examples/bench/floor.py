#!/usr/bin/env python3
"""CPU of a transfer against its floor, measured in the same run (make bench runs it last;
it also runs alone against an already-running test bed, whatever its settings).

The floor of a client that verifies is a curl that hashes in parallel with the transfer:
  put  `curl -T FILE URL` with `md5sum FILE` running beside it
  get  `curl URL | md5sum`
Ours is the C CLI (oscli, release build): `put NAME FILE` (os_put_file), `put NAME -` with the
file on stdin (os_put_stream_opts), `get NAME -` into /dev/null (os_get_stream: the get to a stream
of a host's GetAsync(stream)). Each workload runs BENCH_FLOOR_RUNS times (default 5), ours and
the floor taking turns; the medians of CPU (user+sys of the process and its children, from
wait4) and wall are printed, and ours / floor.

Sizes: BENCH_FLOOR_MIB (default 30: one object, below the test bed's default 32 MiB
max_file_size) and BENCH_FLOOR_LARGE_MIB (default 256; 0 skips it). A large object above the
cluster's max_file_size is segmented by ours; curl cannot PUT it whole, so its put floor is then
the small size's floor per byte times the large size (said on the line as "floor per byte");
curl GETs the large object through the proxy (the manifest joins its segments) as for any other.

Environment: the test bed's env.sh (OSD_AUTH_V3, OSD_USER, OSD_PASSWORD, OSD_PROJECT,
OSD_REGION1), BENCH_OSCLI and BENCH_RUSAGE (examples/bench/run.sh builds both; so does
examples/bench/floor.sh), BENCH_OSCLI_BEFORE (optional: an oscli linked with another build
of the library, measured in the same turns and printed as "before"), BENCH_WORK (a directory for the files, default a temporary one).
Only 127.0.0.1 is ever contacted.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def authenticate(env):
    """(token, storage URL) of the test bed's member user, in region 1."""
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": env["OSD_USER"], "domain": {"name": "Default"},
            "password": env["OSD_PASSWORD"]}}},
        "scope": {"project": {"name": env["OSD_PROJECT"], "domain": {"name": "Default"}}}}}
    req = urllib.request.Request(env["OSD_AUTH_V3"] + "/auth/tokens", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        token = resp.headers["X-Subject-Token"]
        catalog = json.load(resp)["token"]["catalog"]
    urls = [ep["url"] for s in catalog if s["type"] == "object-store" for ep in s["endpoints"]
            if ep["interface"] == "public" and ep["region"] == env["OSD_REGION1"]]
    return token, urls[0]


def request(method, url, token):
    req = urllib.request.Request(url, None, {"X-Auth-Token": token}, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def measure(argv, env=None, stdin=None, stdout=None):
    """{'cpu', 'wall'} of argv run under the rusage helper (children included)."""
    with tempfile.NamedTemporaryFile("r") as usage, \
            open(stdin or os.devnull, "rb") as fin, open(stdout or os.devnull, "wb") as fout:
        start = time.monotonic()
        proc = subprocess.run([os.environ["BENCH_RUSAGE"], usage.name, *argv],
                              env={**os.environ, **(env or {})}, stdin=fin, stdout=fout,
                              stderr=subprocess.PIPE)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"floor: {argv[0]} {argv[1:3]} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')[-500:]}")
        user, system, _rss = usage.read().split()
    return {"cpu": float(user) + float(system), "wall": wall}


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    env = os.environ
    runs = int(env.get("BENCH_FLOOR_RUNS", "5"))
    small = int(env.get("BENCH_FLOOR_MIB", "30"))
    large = int(env.get("BENCH_FLOOR_LARGE_MIB", "256"))
    oscli = env["BENCH_OSCLI"]
    before = env.get("BENCH_OSCLI_BEFORE")  # another build of oscli, measured in turn
    token, account = authenticate(env)
    assert account.startswith("http://127.0.0.1:"), "the bench only talks to 127.0.0.1"
    status, info = request("GET", account.split("/v1/")[0] + "/info", token)
    max_file = json.loads(info)["swift"]["max_file_size"] if status == 200 else 0
    container = f"floor-{os.getpid()}"
    request("PUT", f"{account}/{container}", token)
    q = urllib.parse.quote
    url = (f"openstack://{container}/?auth-username={q(env['OSD_USER'])}"
           f"&auth-password={q(env['OSD_PASSWORD'])}&openstack-tenant-name={q(env['OSD_PROJECT'])}"
           f"&openstack-domain-name=Default&openstack-authuri={q(env['OSD_AUTH_V3'])}")
    ours_env = {"OPENSTACK_DEST_URL": url}
    work = env.get("BENCH_WORK") or tempfile.mkdtemp(prefix="osd-floor-")
    os.makedirs(work, exist_ok=True)
    curl = ["curl", "-sf", "-H", "X-Auth-Token: " + token]
    per_byte = {}
    print(f"floor: ours (oscli) / floor (curl + md5sum), medians of {runs} runs, "
          f"CPU = user+sys; max_file_size {max_file / 2**20:.0f} MiB")
    try:
        for mib in [m for m in (small, large) if m > 0]:
            src = os.path.join(work, f"src-{mib}")
            with open(src, "wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(1 << 20))
            size = mib << 20
            whole = size <= max_file
            obj = f"{account}/{container}/floor-{mib}"
            def cases(cli):
                return {
                    "put file": (lambda: measure([cli, "-q", "put", f"ours-{mib}", src],
                                                 ours_env), "put"),
                    "put stream": (lambda: measure([cli, "-q", "put", f"ours-{mib}", "-"],
                                                   ours_env, stdin=src), "put"),
                    "get to a stream": (lambda: measure([cli, "-q", "get", f"ours-{mib}", "-"],
                                                        ours_env), "get"),
                }
            floors = {
                "put": lambda: measure(["bash", "-c", 'md5sum "$1" >/dev/null & "${@:3}" -T "$1" '
                                        '-o /dev/null "$2"; s=$?; wait $! && exit $s', "-",
                                        src, obj, *curl]),
                "get": lambda: measure(["bash", "-c", 'set -o pipefail; "${@:2}" "$1" | md5sum '
                                        '>/dev/null', "-", f"{account}/{container}/ours-{mib}",
                                        *curl]),
            }
            ours_cases = cases(oscli)
            before_cases = cases(before) if before else {}
            for label, (ours, kind) in ours_cases.items():
                mine, floor, old = [], [], []
                for _ in range(runs):
                    mine.append(ours())
                    if kind == "get" or whole:
                        floor.append(floors[kind]())
                    if label in before_cases:
                        old.append(before_cases[label][0]())
                if floor:
                    f_cpu, f_wall = median(floor, "cpu"), median(floor, "wall")
                    per_byte[kind] = (f_cpu / size, f_wall / size)
                    how = "floor"
                else:
                    f_cpu, f_wall = (v * size for v in per_byte[kind])
                    how = "floor per byte"
                o_cpu, o_wall = median(mine, "cpu"), median(mine, "wall")
                print(f"floor {label} {mib} MiB{'' if whole else ' (segmented)'}: ours CPU "
                      f"{o_cpu:.3f} s wall {o_wall:.3f} s; {how} CPU {f_cpu:.3f} s wall "
                      f"{f_wall:.3f} s; ours/floor CPU {o_cpu / f_cpu:.2f} wall "
                      f"{o_wall / f_wall:.2f}", flush=True)
                if old:
                    b_cpu, b_wall = median(old, "cpu"), median(old, "wall")
                    print(f"floor {label} {mib} MiB, before: CPU {b_cpu:.3f} s wall {b_wall:.3f} s;"
                          f" before/floor CPU {b_cpu / f_cpu:.2f} wall {b_wall / f_wall:.2f}",
                          flush=True)
            os.remove(src)
    finally:
        # Deletes ours (their segments too) and curl's objects, then the container.
        subprocess.run([oscli, "-q", "rmcontainer", "-f"], env={**os.environ, **ours_env},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not env.get("BENCH_WORK"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
