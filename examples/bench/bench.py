"""make bench: libopenstack_dest against other Swift clients on the project's test bed.

Started by examples/bench/run.sh (which installs, builds, starts the test bed and the relay).
Every client runs as a whole process; each measurement is one process: its wall time, its CPU
(user + sys of the process and its children, from wait4's rusage) and its peak RSS (ru_maxrss).
The rusage comes from clients/rusage.c, which forks the client: forked from this Python driver, a
client would report at least the driver's RSS (Linux keeps a process's peak across exec). Each workload runs a warm-up round (not counted) and then BENCH_RUNS rounds; in a
round every client runs once, one after the other (round-robin, each round starting with the next
client, and 2 s of quiet after the round's deletes), so a slow phase of the machine
hits all alike. The table shows medians and ours-C's wall time divided by each row's.

Clients: ours-c (examples/c/oscli.c on the library), ours-py (the Python binding,
clients/ours_py.py), curl, swift-cli (python-swiftclient's `swift`), swiftclient-py (its
Connection API, clients/swiftclient_py.py), rclone (Debian's), opendal (Apache OpenDAL's Python
package, clients/opendal_py.py). curl and opendal get a token from the driver beforehand (opendal's
swift service cannot authenticate; curl would need a JSON parser for the catalog), so their
process does no Keystone request except curl's in auth-stat; every other client authenticates
itself in every process.

Workloads:
  large-put / large-get    one object of BENCH_MIB MiB, every client its default way, plus ours
                           forced whole (openstack-segment-size=5GiB); ours' default row says
                           whether the library stored it as an SLO.
  seg-put / seg-get        one object of BENCH_SEG_OBJECT_MIB MiB in BENCH_SEG_MIB MiB segments,
                           4 at once where the client can: ours (openstack-segment-size/-threads),
                           swift-cli --use-slo --segment-threads 4, rclone --swift-chunk-size
                           (rclone 1.60: a DLO, chunks one after the other); curl sends it whole
                           as the reference.
  small-*-seq / -par       BENCH_SMALL objects of BENCH_SMALL_BYTES bytes put then got, one at a
                           time (curl: one process reusing its connection) and BENCH_PAR at once
                           (curl -Z --parallel-max; oscli -j; thread pools; rclone --transfers).
  list                     BENCH_LIST objects of 1 byte (made once with curl -Z, kept in the
                           container bench-list-<N>-1b for the next run), listed whole by every
                           client.
  auth-stat                a Keystone v3 password authentication and a HEAD of one object.
  delete                   BENCH_DELETE objects (default 10000, made before each round in one
                           bulk upload, outside the timed part) deleted by name: ours (oscli rm,
                           delete_many: bulk delete), curl (one bulk-delete POST per 10,000
                           names: the floor), swift-cli (delete NAMES: bulk), rclone (delete:
                           lists, then one DELETE each, --checkers BENCH_PAR), opendal (one delete
                           each, BENCH_PAR threads).
  open                     BENCH_OPEN destinations opened, each stating one object: ours-py and
                           swiftclient-py in one process; ours-c, curl, swift-cli and rclone as
                           BENCH_OPEN processes (ours-c with openstack-token-cache, and without).
                           The Keystone token requests of each run are counted in Keystone's log.
  dup-backup / dup-restore the real duplicity (PyPI's, --no-encryption, --volsize
                           BENCH_DUP_VOLSIZE) backing up a directory (BENCH_DUP_FILES real files
                           from Debian's python3-swift plus random files making BENCH_DUP_MIB MiB)
                           and restoring it whole with a fresh archive dir (so its metadata comes
                           from Swift too): ours (python3 -m openstack_dest.duplicity,
                           openstack://) against duplicity's own swift:// backend
                           (python-swiftclient); the table's last column is swift:// / ours.

Checks, outside the timed part (a failure stops the bench): a large get is byte-compared with the
source (which also checks the put it reads); a put's object is HEADed for its size (and, for
whole objects, ETag = MD5 of the source); small objects by a listing (count, and each hash = the
MD5 of its file) and a byte compare of every file got; a listing by its count; auth-stat by the
size in its output.

Budget: on the 2-core test machine a loopback run at the defaults with BENCH_RUNS=3 takes about
20 minutes (plus about 4 the first time, to create the listed objects): small objects about 11,
large and segmented about 6. The test bed's Swift (one process per server, fsync) needs some
35 ms per small PUT, so the issue's sizes (BENCH_SMALL=1000, BENCH_MIB=1024) take about an
hour: set them for a long run.

Environment (sizes in MiB unless said):
  BENCH_MIB              large object (default 256: over the 128 MiB default segment size)
  BENCH_SEG_OBJECT_MIB   segmented object (default BENCH_MIB); BENCH_SEG_MIB segment (64)
  BENCH_SMALL            small objects (200); BENCH_SMALL_BYTES their size (16384)
  BENCH_PAR              parallel transfers of the small objects (10)
  BENCH_LIST             objects listed (20000)
  BENCH_RUNS             counted rounds (3); BENCH_SLOW_RUNS rounds for the small-object
                         workloads of the slow peers swift-cli, rclone (default BENCH_RUNS)
  BENCH_DUP_MIB          duplicity's source directory (default 128); BENCH_DUP_FILES its real
                         small files (300); BENCH_DUP_VOLSIZE its volumes in MiB (25: under the
                         tests' max_file_size of 32 MiB, which swift:// sends whole)
  BENCH_DELETE           objects deleted (10000); BENCH_OPEN destinations opened (100)
  BENCH_WORKLOADS        comma-separated subset: large,seg,small,list,auth,dup,delete,open
                         (default all)
  BENCH_CLIENTS          comma-separated subset of the clients (default all)
  BENCH_OUT              output folder (default target/bench/<profile>): bench.md, bench.json,
                         bench.png (the run README shows is kept in examples/bench/results/)
  BENCH_DELAY_MS, BENCH_LINK_MIB   the relay's one-way delay and bandwidth (set by run.sh, shown
                         in the heading); BENCH_NET the relay's origin, which every client's Swift
                         traffic goes to (Keystone stays direct)
  set by run.sh: BENCH_OSCLI (the oscli binary), BENCH_RUSAGE (clients/rusage.c built),
                 BENCH_LIB (libopenstack_dest.so), BENCH_BUILD (cargo profile), OSD_* (env.sh)
"""

import concurrent.futures
import datetime
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLIENTS_DIR = os.path.join(HERE, "clients")
MIB = 1 << 20
# Seconds of quiet after each round's deletes, before the next round is timed.
SETTLE_S = 2


class BenchError(Exception):
    """A failed check or client: the bench stops with this message."""


# ---- settings ----
def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value else default


def settings():
    mib = env_int("BENCH_MIB", 256)
    runs = env_int("BENCH_RUNS", 3)
    net = os.environ.get("BENCH_NET", "")
    profile = "net" if net else "loopback"
    return {
        "mib": mib,
        "seg_object_mib": env_int("BENCH_SEG_OBJECT_MIB", mib),
        "seg_mib": env_int("BENCH_SEG_MIB", 64),
        "small": env_int("BENCH_SMALL", 200),
        "small_bytes": env_int("BENCH_SMALL_BYTES", 16384),
        "par": env_int("BENCH_PAR", 10),
        "list": env_int("BENCH_LIST", 20000),
        "runs": runs,
        "slow_runs": env_int("BENCH_SLOW_RUNS", runs),
        "workloads": os.environ.get("BENCH_WORKLOADS",
                                    "large,seg,small,list,auth,dup,delete,open").split(","),
        "delete": env_int("BENCH_DELETE", 10000),
        "open": env_int("BENCH_OPEN", 100),
        "dup_mib": env_int("BENCH_DUP_MIB", 128),
        "dup_files": env_int("BENCH_DUP_FILES", 300),
        "dup_volsize": env_int("BENCH_DUP_VOLSIZE", 25),
        "clients": [c for c in os.environ.get("BENCH_CLIENTS", "").split(",") if c],
        "net": net,
        "delay_ms": os.environ.get("BENCH_DELAY_MS", ""),
        "link_mib": os.environ.get("BENCH_LINK_MIB", ""),
        "profile": profile,
        "build": os.environ.get("BENCH_BUILD", "release"),
        "out": os.environ.get("BENCH_OUT") or os.path.join(ROOT, "target", "bench", profile),
    }


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- Swift and Keystone, for the driver's own set-up and checks ----
class Swift:
    """The driver's connection: a token and the account URL (through the relay when there is one)."""

    def __init__(self, env, net):
        self.env = env
        self.token, catalog_url = self._authenticate()
        self.direct = catalog_url
        self.account = net + catalog_url[len(env["OSD_SWIFT1"]):] if net else catalog_url

    def _authenticate(self):
        e = self.env
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": e["OSD_USER"], "domain": {"name": "Default"}, "password": e["OSD_PASSWORD"]}}},
            "scope": {"project": {"name": e["OSD_PROJECT"], "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(e["OSD_AUTH_V3"] + "/auth/tokens", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            token = resp.headers["X-Subject-Token"]
            catalog = json.load(resp)["token"]["catalog"]
        urls = [ep["url"] for s in catalog if s["type"] == "object-store" for ep in s["endpoints"]
                if ep["interface"] == "public" and ep["region"] == e["OSD_REGION1"]]
        return token, urls[0]

    def request(self, method, path, data=None, headers=None, direct=True):
        """(status, headers, body); `direct` bypasses the relay (the driver's checks are not timed)."""
        url = (self.direct if direct else self.account) + path
        req = urllib.request.Request(url, data, {"X-Auth-Token": self.token, **(headers or {})},
                                     method=method)
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def check_cluster(self, largest_mib, listing=1000):
        """The test bed in the bench's settings: another user's `testbed.sh start` may have
        restarted it with the tests' (listing limit 200, max_file_size 32 MiB)."""
        with urllib.request.urlopen(self.env["OSD_SWIFT1"] + "/info") as resp:
            swift = json.load(resp)["swift"]
        if swift["container_listing_limit"] < listing or swift["max_file_size"] <= largest_mib * MIB:
            raise BenchError(
                f"the test bed runs with container_listing_limit {swift['container_listing_limit']} and "
                f"max_file_size {swift['max_file_size']}: the bench needs at least 1000 (rclone lists "
                f"1000 at a time) and more than {largest_mib} MiB. Was it restarted by someone else "
                "(testbed.sh start without OSD_LISTING_LIMIT / OSD_MAX_FILE_SIZE)? Run make bench again.")

    def head(self, container, name):
        status, headers, _ = self.request("HEAD", f"/{container}/{urllib.parse.quote(name)}")
        return headers if status < 300 else None

    def listing(self, container, prefix=""):
        """Every object under prefix as JSON entries (name, bytes, hash), page by page."""
        entries, marker = [], ""
        while True:
            query = urllib.parse.urlencode({"format": "json", "prefix": prefix, "marker": marker})
            status, _, body = self.request("GET", f"/{container}?{query}")
            if status == 404:
                return entries
            page = json.loads(body)
            if not page:
                return entries
            entries += page
            marker = page[-1]["name"]

    def create_container(self, container):
        status, _, _ = self.request("PUT", f"/{container}")
        if status >= 300:
            raise BenchError(f"cannot create container {container}: HTTP {status}")

    def bulk_delete(self, paths):
        """Deletes /container/object paths (and empty containers) with the bulk middleware."""
        for i in range(0, len(paths), 10000):
            body = "\n".join(urllib.parse.quote(p) for p in paths[i:i + 10000]).encode()
            status, _, _ = self.request("POST", "?bulk-delete", body,
                                        {"Content-Type": "text/plain", "Accept": "application/json"})
            if status >= 300:
                raise BenchError(f"bulk delete failed: HTTP {status}")

    def delete_object(self, container, name):
        """Deletes an object and the segments of a large one (SLO or DLO)."""
        headers = self.head(container, name)
        if headers is None:
            return
        path = f"/{container}/{urllib.parse.quote(name)}"
        if headers.get("X-Static-Large-Object", "").lower() == "true":
            self.request("DELETE", path + "?multipart-manifest=delete")
            return
        manifest = headers.get("X-Object-Manifest")
        if manifest:
            seg_container, _, seg_prefix = urllib.parse.unquote(manifest).partition("/")
            self.bulk_delete([f"/{seg_container}/{e['name']}"
                              for e in self.listing(seg_container, seg_prefix)])
        self.request("DELETE", path)

    def delete_containers(self, prefix):
        """Deletes every container whose name starts with prefix, with all its objects."""
        status, _, body = self.request("GET", "?format=json&prefix=" + urllib.parse.quote(prefix))
        for c in json.loads(body) if status == 200 else []:
            paths = [f"/{c['name']}/{e['name']}" for e in self.listing(c["name"])]
            self.bulk_delete(paths + [f"/{c['name']}"])


# ---- measuring one process ----
class Cmd:
    """One client process: argv, environment additions, working directory, stdout file."""

    def __init__(self, argv, env=None, cwd=None, stdout=None):
        self.argv, self.env, self.cwd, self.stdout = argv, env or {}, cwd, stdout


def measure(cmd):
    """Runs cmd under the rusage helper; {'wall', 'cpu', 'rss_mib'}; BenchError when it fails."""
    env = {**os.environ, **cmd.env}
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as usage, \
            open(cmd.stdout, "wb") if cmd.stdout else open(os.devnull, "wb") as out:
        start = time.monotonic()
        proc = subprocess.run([os.environ["BENCH_RUSAGE"], usage.name, *cmd.argv], env=env,
                              cwd=cmd.cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace")
            raise BenchError(f"{' '.join(cmd.argv[:4])} ... exited {proc.returncode}:\n{tail}")
        user, system, maxrss_kib = usage.read().split()
    return {"wall": wall, "cpu": float(user) + float(system), "rss_mib": int(maxrss_kib) / 1024}


def keystone_posts(settle=False):
    """Token requests Keystone has answered so far (its request log), or None without the log.
    uwsgi writes a request's line after its answer: `settle` waits until the count stays."""
    path = os.path.join(os.environ.get("OSD_STATE_DIR", "/tmp/openstack-dest-testbed"), "log",
                        "keystone.log")

    def count():
        try:
            with open(path, "rb") as f:
                return f.read().count(b"POST /v3/auth/tokens")
        except OSError:
            return None
    last = count()
    while settle and last is not None:
        time.sleep(0.2)
        now = count()
        if now == last:
            break
        last = now
    return last


# ---- local files ----
def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def same_file(a, b):
    return subprocess.run(["cmp", "-s", a, b]).returncode == 0


def make_random_file(path, mib):
    if os.path.exists(path) and os.path.getsize(path) == mib * MIB:
        return
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MIB))


def make_small_files(top, count, size):
    """count files f000001... of `size` random bytes; {basename: md5}."""
    os.makedirs(top, exist_ok=True)
    sums = {}
    for i in range(1, count + 1):
        data = os.urandom(size)
        name = f"f{i:06d}"
        with open(os.path.join(top, name), "wb") as f:
            f.write(data)
        sums[name] = hashlib.md5(data).hexdigest()
    return sums


def files_below(top):
    """{basename: path} of every file under top."""
    found = {}
    for base, _, files in os.walk(top):
        for f in files:
            found[f] = os.path.join(base, f)
    return found


def relative_files(top):
    """{path relative to top: path} of every file under top."""
    return {os.path.relpath(os.path.join(base, f), top): os.path.join(base, f)
            for base, _, files in os.walk(top) for f in files}


# ---- the clients ----
class Clients:
    """How each client is started: a Cmd per operation. Containers are bench-<id>-<client>."""

    def __init__(self, cfg, env, swift, work):
        self.cfg, self.env, self.swift, self.work = cfg, env, swift, work
        self.python = sys.executable
        self.oscli = os.environ["BENCH_OSCLI"]
        self.lib = os.environ["BENCH_LIB"]
        self.rclone_conf = os.path.join(work, "rclone.conf")
        open(self.rclone_conf, "w").close()

    def url(self, container, extra=""):
        e = self.env
        q = urllib.parse.quote
        url = (f"openstack://{container}/?auth-username={q(e['OSD_USER'])}"
               f"&auth-password={q(e['OSD_PASSWORD'])}&openstack-tenant-name={q(e['OSD_PROJECT'])}"
               f"&openstack-domain-name=Default&openstack-authuri={q(e['OSD_AUTH_V3'])}")
        if self.cfg["net"]:
            url += "&openstack-storage-url=" + q(self.swift.account)
        return url + extra

    def os_env(self):
        e = self.env
        return {"OS_AUTH_URL": e["OSD_AUTH_V3"], "OS_IDENTITY_API_VERSION": "3",
                "OS_USERNAME": e["OSD_USER"], "OS_PASSWORD": e["OSD_PASSWORD"],
                "OS_PROJECT_NAME": e["OSD_PROJECT"], "OS_USER_DOMAIN_NAME": "Default",
                "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": e["OSD_REGION1"],
                "BENCH_STORAGE_URL": self.swift.account if self.cfg["net"] else ""}

    def ours_c(self, container, args, extra=""):
        return Cmd([self.oscli, "-q", *args], {"OPENSTACK_DEST_URL": self.url(container, extra)})

    def ours_py(self, container, args, extra=""):
        pythonpath = os.path.join(ROOT, "bindings", "python", "src")
        return Cmd([self.python, os.path.join(CLIENTS_DIR, "ours_py.py"), *args],
                   {"OPENSTACK_DEST_URL": self.url(container, extra), "OPENSTACK_DEST_LIB": self.lib,
                    "PYTHONPATH": pythonpath})

    def swift_cli(self, args):
        storage = ["--os-storage-url", self.swift.account] if self.cfg["net"] else []
        return Cmd(["swift", *storage, *args], self.os_env(), cwd=self.work)

    def swiftclient_py(self, container, args):
        return Cmd([self.python, os.path.join(CLIENTS_DIR, "swiftclient_py.py"), container, *args],
                   self.os_env())

    def opendal(self, container, args, part_mib=8):
        return Cmd([self.python, os.path.join(CLIENTS_DIR, "opendal_py.py"), container, *args],
                   {"BENCH_STORAGE_URL": self.swift.account, "BENCH_TOKEN": self.swift.token,
                    "BENCH_PART_MIB": str(part_mib)})

    def rclone(self, args):
        e = self.env
        prefix = "RCLONE_CONFIG_OSB_"
        env = {"RCLONE_CONFIG": self.rclone_conf, prefix + "TYPE": "swift", prefix + "ENV_AUTH": "false",
               prefix + "USER": e["OSD_USER"], prefix + "KEY": e["OSD_PASSWORD"],
               prefix + "AUTH": e["OSD_AUTH_V3"], prefix + "DOMAIN": "Default",
               prefix + "TENANT": e["OSD_PROJECT"], prefix + "TENANT_DOMAIN": "Default",
               prefix + "REGION": e["OSD_REGION1"], prefix + "AUTH_VERSION": "3"}
        if self.cfg["net"]:
            env[prefix + "STORAGE_URL"] = self.swift.account
        return Cmd(["rclone", "--config", self.rclone_conf, "-q", *args], env)

    def curl(self, args):
        return Cmd(["curl", "-sf", "-H", "X-Auth-Token: " + self.swift.token, *args])

    def duplicity_ours(self, args):
        """duplicity on the library: python3 -m openstack_dest.duplicity (this checkout's package)."""
        pythonpath = os.path.join(ROOT, "bindings", "python", "src")
        return Cmd([self.python, "-m", "openstack_dest.duplicity", *args],
                   {"OPENSTACK_DEST_LIB": self.lib, "PYTHONPATH": pythonpath})

    def duplicity_swift(self, args):
        """duplicity's own swift:// backend (python-swiftclient), settings from SWIFT_*."""
        e = self.env
        env = {"SWIFT_USERNAME": e["OSD_USER"], "SWIFT_PASSWORD": e["OSD_PASSWORD"],
               "SWIFT_AUTHURL": e["OSD_AUTH_V3"], "SWIFT_AUTHVERSION": "3",
               "SWIFT_USER_DOMAIN_NAME": "Default", "SWIFT_PROJECT_DOMAIN_NAME": "Default",
               "SWIFT_PROJECT_NAME": e["OSD_PROJECT"], "SWIFT_REGIONNAME": e["OSD_REGION1"]}
        if self.cfg["net"]:  # its only way to another storage URL: a token made beforehand
            env.update(SWIFT_PREAUTHURL=self.swift.account, SWIFT_PREAUTHTOKEN=self.swift.token)
        return Cmd([self.python, "-m", "duplicity", *args], env)

    def curl_config(self, path, pairs, upload):
        """A curl -K file: one (local file, URL) pair each, uploaded (-T) or downloaded (-o)."""
        with open(path, "w") as f:
            for local, url in pairs:
                f.write(f'upload-file = "{local}"\noutput = "/dev/null"\n' if upload
                        else f'output = "{local}"\n')
                f.write(f'url = "{url}"\n')
        return path

    def object_url(self, container, name):
        return f"{self.swift.account}/{container}/{urllib.parse.quote(name)}"


# ---- workloads: each a list of cases, one per client row ----
class Case:
    """One row pair of a workload: a client's put and get (either may be None: not measured)."""

    def __init__(self, key, label, container, put=None, get=None, verify_put=None,
                 verify_get=None, cleanup=None, slow=False):
        self.key, self.label, self.container = key, label, container
        self.put, self.get = put, get
        self.verify_put, self.verify_get, self.cleanup = verify_put, verify_get, cleanup
        self.slow = slow


class Bench:
    def __init__(self, cfg, env):
        self.cfg, self.env = cfg, env
        self.id = time.strftime("%H%M%S")
        self.work = tempfile.mkdtemp(prefix="osd-bench.", dir="/tmp")
        self.swift = Swift(env, cfg["net"])
        self.clients = Clients(cfg, env, self.swift, self.work)
        self.results = []   # one dict per measurement
        self.skipped = {}   # (workload, client key) -> reason
        self.cases = {}     # (workload, client key) -> Case, for its label
        self.elapsed = {}   # workload group -> seconds, set-up and checks included

    def container(self, client):
        name = f"bench-{self.id}-{client}"
        self.swift.create_container(name)
        return name

    def wanted(self, client):
        return not self.cfg["clients"] or client.removesuffix("-whole") in self.cfg["clients"]

    def record(self, workload, case, run, m):
        warm = run == 0
        self.results.append({"workload": workload, "client": case.key, "run": run, "warmup": warm, **m})
        progress(f"{workload:14} {case.key:26} {'warm-up' if warm else f'run {run}'}: "
                 f"{m['wall']:.2f} s wall, {m['cpu']:.2f} s CPU, {m['rss_mib']:.0f} MiB")

    def run_pairs(self, names, cases):
        """Round-robin: in each round every case's put, its check, then every get and its check."""
        put_name, get_name = names
        cases = [c for c in cases if self.wanted(c.key)]
        for case in cases:
            for step, workload in (("put", put_name), ("get", get_name)):
                if workload:
                    self.cases[(workload, case.key)] = case
                if isinstance(getattr(case, step), str):
                    self.skipped[(workload, case.key)] = getattr(case, step)
        most = max(self.cfg["runs"], self.cfg["slow_runs"])
        for run in range(most + 1):
            active = [c for c in cases if run <= (self.cfg["slow_runs"] if c.slow else self.cfg["runs"])]
            # Each round starts with another client, so that no client always runs first after
            # the previous round's deletes (Swift is still busy with them for a while), and every
            # other round goes the other way round, so that no client always follows the same
            # one (the servers are still writing back the previous client's objects).
            active = active[run % len(active):] + active[:run % len(active)] if active else active
            if run % 2:
                active.reverse()
            for step, workload, verify in (("put", put_name, "verify_put"), ("get", get_name, "verify_get")):
                if workload is None:
                    continue
                for case in active:
                    make = getattr(case, step)
                    if make is None or isinstance(make, str):
                        continue
                    cmd = make(run)
                    posts = keystone_posts()
                    m = measure(cmd)
                    m["posts"] = keystone_posts(settle=True) - posts
                    self.record(workload, case, run, m)
                    if getattr(case, verify):
                        getattr(case, verify)(run)
            with concurrent.futures.ThreadPoolExecutor(8) as pool:  # deletes: one container each
                for _ in pool.map(lambda c: c.cleanup(run), [c for c in active if c.cleanup]):
                    pass
            time.sleep(SETTLE_S)

    # -- 1 and 2: one large object --
    def large_cases(self, src, mib, seg):
        """The cases of large-* (seg None: default ways) or seg-* (seg: segment size in MiB)."""
        cl, sw, size = self.clients, self.swift, mib * MIB
        source_md5 = md5_file(src)
        name = lambda run: f"large-r{run}"  # noqa: E731
        out = lambda key: os.path.join(self.work, f"out-{key}")  # noqa: E731

        def check_put(container, kind):
            def verify(run):
                h = sw.head(container, name(run))
                if h is None or int(h["Content-Length"]) != size:
                    raise BenchError(f"{container}/{name(run)}: missing or wrong size after the put")
                slo = h.get("X-Static-Large-Object", "").lower() == "true"
                dlo = bool(h.get("X-Object-Manifest"))
                if kind == "whole" and (slo or dlo or h["ETag"].strip('"') != source_md5):
                    raise BenchError(f"{container}/{name(run)}: not whole, or ETag is not the MD5")
                if kind in ("slo", "dlo") and not (slo if kind == "slo" else dlo):
                    raise BenchError(f"{container}/{name(run)}: not stored as an {kind.upper()}")
                return slo
            return verify

        def check_get(key):
            def verify(run):
                if not same_file(out(key), src):
                    raise BenchError(f"{key}: the object got differs from the source")
                os.remove(out(key))
            return verify

        def cleanup(container):
            return lambda run: sw.delete_object(container, name(run))

        def case(key, label, container, put, get, kind, slow=False):
            return Case(key, label, container, put, get, check_put(container, kind) if kind else None,
                        check_get(key), cleanup(container), slow)

        cases = []
        seg_opt = f"&openstack-segment-size={seg}MiB&openstack-segment-threads=4" if seg else ""
        whole_opt = "&openstack-segment-size=5GiB"
        c = self.container("ours-c")
        if seg:
            cases.append(case("ours-c", f"ours-c ({seg} MiB SLO, 4 threads)", c,
                              lambda r, c=c: cl.ours_c(c, ["put", name(r), src], seg_opt),
                              lambda r, c=c: cl.ours_c(c, ["get", name(r), out("ours-c")], seg_opt), "slo"))
        else:
            default = case("ours-c", "ours-c (default)", c,
                           lambda r, c=c: cl.ours_c(c, ["put", name(r), src]),
                           lambda r, c=c: cl.ours_c(c, ["get", name(r), out("ours-c")]), None)
            default.verify_put = self.labelled_default(default, "ours-c", check_put(c, "any"))
            cases.append(default)
            c2 = self.container("ours-c-whole")
            cases.append(case("ours-c-whole", "ours-c (forced whole)", c2,
                              lambda r, c=c2: cl.ours_c(c, ["put", name(r), src], whole_opt),
                              lambda r, c=c2: cl.ours_c(c, ["get", name(r), out("ours-c-whole")]), "whole"))
        c = self.container("ours-py")
        py_label = f"ours-py ({seg} MiB SLO, 4 threads)" if seg else "ours-py (default)"
        py = case("ours-py", py_label, c,
                  lambda r, c=c: cl.ours_py(c, ["put", name(r), src], seg_opt),
                  lambda r, c=c: cl.ours_py(c, ["get", name(r), out("ours-py")], seg_opt),
                  "slo" if seg else "any")
        if not seg:
            py.verify_put = self.labelled_default(py, "ours-py", check_put(c, "any"))
        cases.append(py)
        c = self.container("curl")
        cases.append(case("curl", "curl (whole)", c,
                          lambda r, c=c: cl.curl(["-T", src, "-o", "/dev/null", cl.object_url(c, name(r))]),
                          lambda r, c=c: cl.curl(["-o", out("curl"), cl.object_url(c, name(r))]), "whole"))
        c = self.container("swift-cli")
        swift_seg = ["--use-slo", "--segment-size", f"{seg}M", "--segment-threads", "4"] if seg else []
        cases.append(case("swift-cli", f"swift-cli ({seg} MiB SLO, 4 threads)" if seg else "swift-cli (whole)", c,
                          lambda r, c=c: cl.swift_cli(["upload", *swift_seg, "--object-name", name(r), c, src]),
                          lambda r, c=c: cl.swift_cli(["download", c, name(r), "-o", out("swift-cli")]),
                          "slo" if seg else "whole"))
        c = self.container("swiftclient-py")
        if seg:
            cases.append(Case("swiftclient-py", "swiftclient-py", c,
                              "the Connection API has no segmented upload (its SwiftService is the "
                              "swift-cli row)", "no segmented object of its own to get"))
        else:
            cases.append(case("swiftclient-py", "swiftclient-py (whole)", c,
                              lambda r, c=c: cl.swiftclient_py(c, ["put", name(r), src]),
                              lambda r, c=c: cl.swiftclient_py(c, ["get", name(r), out("swiftclient-py")]),
                              "whole"))
        c = self.container("rclone")
        rclone_seg = ["--swift-chunk-size", f"{seg}Mi"] if seg else []
        cases.append(case("rclone", f"rclone ({seg} MiB DLO, sequential)" if seg else "rclone (whole)", c,
                          lambda r, c=c: cl.rclone(["copyto", *rclone_seg, src, f"osb:{c}/{name(r)}"]),
                          lambda r, c=c: cl.rclone(["copyto", f"osb:{c}/{name(r)}", out("rclone")]),
                          "dlo" if seg else "whole"))
        c = self.container("opendal")
        part = seg or 8
        cases.append(case("opendal", f"opendal (streamed writer: {part} MiB SLO parts, sequential)", c,
                          lambda r, c=c: cl.opendal(c, ["put", name(r), src], part),
                          lambda r, c=c: cl.opendal(c, ["get", name(r), out("opendal")]), "slo"))
        return cases

    def labelled_default(self, case, who, verify):
        """Wraps ours' default put check: the row's label says what the library made of it."""
        def check(run):
            slo = verify(run)
            case.label = f"{who} (SLO by default)" if slo else f"{who} (whole by default)"
        return check

    def bench_large(self):
        cfg = self.cfg
        src = os.path.join(self.work, "large.bin")
        progress(f"writing a {cfg['mib']} MiB random file")
        make_random_file(src, cfg["mib"])
        self.run_pairs(("large-put", "large-get"), self.large_cases(src, cfg["mib"], None))

    def bench_seg(self):
        cfg = self.cfg
        if cfg["seg_object_mib"] <= cfg["seg_mib"]:
            raise BenchError(f"BENCH_SEG_OBJECT_MIB ({cfg['seg_object_mib']}) must be larger than "
                             f"BENCH_SEG_MIB ({cfg['seg_mib']}) for a segmented object")
        src = os.path.join(self.work, "large.bin" if cfg["seg_object_mib"] == cfg["mib"] else "seg.bin")
        make_random_file(src, cfg["seg_object_mib"])
        self.run_pairs(("seg-put", "seg-get"), self.large_cases(src, cfg["seg_object_mib"], cfg["seg_mib"]))

    # -- 3: many small objects --
    def small_cases(self, src, sums, jobs):
        cl, sw, mode = self.clients, self.swift, "par" if jobs > 1 else "seq"
        prefix = lambda run: f"small-{mode}-r{run}"  # noqa: E731
        out = lambda key: os.path.join(self.work, f"small-out-{key}")  # noqa: E731
        files = sorted(sums)

        def check_put(container):
            def verify(run):
                listed = {e["name"][len(prefix(run)) + 1:]: e["hash"] for e in sw.listing(container, prefix(run) + "/")}
                if listed != sums:
                    raise BenchError(f"{container}/{prefix(run)}/: {len(listed)} objects listed, "
                                     f"{len(sums)} put, or a hash differs from its file's MD5")
            return verify

        def check_get(key):
            def verify(run):
                got = files_below(out(key))
                if sorted(got) != files or not all(same_file(got[f], os.path.join(src, f)) for f in files):
                    raise BenchError(f"{key}: the small objects got differ from the files "
                                     f"({len(got)} files of {len(files)})")
                shutil.rmtree(out(key))
            return verify

        def cleanup(container):
            return lambda run: sw.bulk_delete([f"/{container}/{prefix(run)}/{f}" for f in files])

        def case(key, label, put, get, slow=False):
            c = self.container(key)
            return Case(key, label, c, lambda r: put(c, r), lambda r: get(c, r), check_put(c),
                        check_get(key), cleanup(c), slow)

        def curl_cmd(c, r, upload):
            pairs = [(os.path.join(src, f) if upload else os.path.join(out("curl"), f),
                      cl.object_url(c, f"{prefix(r)}/{f}")) for f in files]
            conf = cl.curl_config(os.path.join(self.work, f"curl-{mode}.conf"), pairs, upload)
            os.makedirs(out("curl"), exist_ok=True)
            par = ["-Z", "--parallel-max", str(jobs)] if jobs > 1 else []
            return cl.curl([*par, "-K", conf])

        j = str(jobs)
        swift_get_prefix = lambda r: [f"--prefix={prefix(r)}/"]  # noqa: E731
        return [
            case("ours-c", f"ours-c (-j {jobs})",
                 lambda c, r: cl.ours_c(c, ["put", "-r", "-j", j, prefix(r), src]),
                 lambda c, r: cl.ours_c(c, ["get", "-r", "-j", j, prefix(r), out("ours-c")])),
            case("ours-py", f"ours-py ({jobs} threads)",
                 lambda c, r: cl.ours_py(c, ["putdir", prefix(r), src, j]),
                 lambda c, r: cl.ours_py(c, ["getdir", prefix(r), out("ours-py"), j])),
            case("curl", f"curl (-Z --parallel-max {jobs})" if jobs > 1 else "curl (one connection)",
                 lambda c, r: curl_cmd(c, r, True), lambda c, r: curl_cmd(c, r, False)),
            case("swift-cli", f"swift-cli (--object-threads {jobs})",
                 lambda c, r: cl.swift_cli(["upload", "--object-threads", j, "--object-name", prefix(r), c, src]),
                 lambda c, r: cl.swift_cli(["download", "--object-threads", j, *swift_get_prefix(r),
                                            "-D", out("swift-cli"), c]), slow=True),
            case("swiftclient-py", f"swiftclient-py ({jobs} threads)",
                 lambda c, r: cl.swiftclient_py(c, ["putdir", prefix(r), src, j]),
                 lambda c, r: cl.swiftclient_py(c, ["getdir", prefix(r), out("swiftclient-py"), j])),
            case("rclone", f"rclone (--transfers {jobs})",
                 lambda c, r: cl.rclone(["copy", "--transfers", j, "--checkers", j, src, f"osb:{c}/{prefix(r)}"]),
                 lambda c, r: cl.rclone(["copy", "--transfers", j, "--checkers", j, f"osb:{c}/{prefix(r)}",
                                         out("rclone")]), slow=True),
            case("opendal", f"opendal ({jobs} threads)",
                 lambda c, r: cl.opendal(c, ["putdir", prefix(r), src, j]),
                 lambda c, r: cl.opendal(c, ["getdir", prefix(r), out("opendal"), j])),
        ]

    def bench_small(self):
        cfg = self.cfg
        src = os.path.join(self.work, "small")
        progress(f"writing {cfg['small']} files of {cfg['small_bytes']} bytes")
        sums = make_small_files(src, cfg["small"], cfg["small_bytes"])
        for jobs, mode in ((1, "seq"), (cfg["par"], "par")):
            self.run_pairs((f"small-put-{mode}", f"small-get-{mode}"), self.small_cases(src, sums, jobs))

    # -- 4: listing --
    def fill_list_container(self, container, count):
        """Makes count 1-byte objects o000001... once (curl -Z, 20 at a time); kept. Not empty:
        ours and rclone HEAD every 0-byte object of a listing (it could be a DLO manifest)."""
        have = {e["name"] for e in self.swift.listing(container)}
        missing = [f"o{i:06d}" for i in range(1, count + 1) if f"o{i:06d}" not in have]
        if not missing:
            return
        progress(f"creating {len(missing)} objects in {container} (once)")
        self.swift.create_container(container)
        one = os.path.join(self.work, "one-byte")
        with open(one, "wb") as f:
            f.write(b"x")
        pairs = [(one, f"{self.swift.direct}/{container}/{n}") for n in missing]
        conf = self.clients.curl_config(os.path.join(self.work, "fill.conf"), pairs, True)
        subprocess.run(["curl", "-sSf", "--no-progress-meter", "-H", "X-Auth-Token: " + self.swift.token, "-Z",
                        "--parallel-max", "20", "-K", conf], check=True)

    def list_cases(self, container, count):
        cl = self.clients
        out = lambda key: os.path.join(self.work, f"list-{key}")  # noqa: E731

        def check(key):
            def verify(run):
                with open(out(key)) as f:
                    n = sum(1 for line in f if line.strip())
                if n != count:
                    raise BenchError(f"{key}: listed {n} objects of {count}")
            return verify

        def case(key, label, make):
            return Case(key, label, container, lambda r: with_stdout(make(), out(key)), None,
                        check(key))

        def with_stdout(cmd, path):
            cmd.stdout = path
            return cmd

        return [
            case("ours-c", "ours-c (ls -r)", lambda: cl.ours_c(container, ["ls", "-r"])),
            case("ours-py", "ours-py (iter_entries)", lambda: cl.ours_py(container, ["list"])),
            case("curl", "curl (marker loop, plain text)",
                 lambda: Cmd(["bash", os.path.join(CLIENTS_DIR, "curl_list.sh"),
                              f"{self.swift.account}/{container}"], {"BENCH_TOKEN": self.swift.token})),
            case("swift-cli", "swift-cli (list)", lambda: cl.swift_cli(["list", container])),
            case("swiftclient-py", "swiftclient-py (full_listing)",
                 lambda: cl.swiftclient_py(container, ["list"])),
            case("rclone", "rclone (lsf)", lambda: cl.rclone(["lsf", "--files-only", f"osb:{container}"])),
            case("opendal", "opendal (list)", lambda: cl.opendal(container, ["list"])),
        ]

    def bench_list(self):
        count = self.cfg["list"]
        container = f"bench-list-{count}-1b"
        self.fill_list_container(container, count)
        self.run_pairs(("list", None), self.list_cases(container, count))

    # -- 5: authentication and one HEAD --
    def auth_cases(self, container, name, size):
        cl, e = self.clients, self.env
        out = lambda key: os.path.join(self.work, f"stat-{key}")  # noqa: E731

        def check(key):
            def verify(run):
                with open(out(key)) as f:
                    if str(size) not in f.read():
                        raise BenchError(f"{key}: the stat output does not show the size {size}")
            return verify

        def case(key, label, make):
            def run(r):
                cmd = make()
                cmd.stdout = out(key)
                return cmd
            return Case(key, label, container, run, None, check(key))

        return [
            case("ours-c", "ours-c (stat)", lambda: cl.ours_c(container, ["stat", name])),
            case("ours-py", "ours-py (stat)", lambda: cl.ours_py(container, ["stat", name])),
            case("curl", "curl (POST token, HEAD)",
                 lambda: Cmd(["bash", os.path.join(CLIENTS_DIR, "curl_auth_stat.sh"), e["OSD_AUTH_V3"],
                              cl.object_url(container, name)], cl.os_env())),
            case("swift-cli", "swift-cli (stat)", lambda: cl.swift_cli(["stat", container, name])),
            case("swiftclient-py", "swiftclient-py (head_object)",
                 lambda: cl.swiftclient_py(container, ["stat", name])),
            case("rclone", "rclone (lsjson --stat)",
                 lambda: cl.rclone(["lsjson", "--stat", f"osb:{container}/{name}"])),
            Case("opendal", "opendal", container, "OpenDAL's swift service cannot authenticate "
                 "(it takes a token)"),
        ]

    def bench_auth(self):
        container = self.container("auth")
        size = 12345
        path = os.path.join(self.work, "stat.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        status, _, _ = self.swift.request("PUT", f"/{container}/stat-me", open(path, "rb").read())
        if status >= 300:
            raise BenchError(f"cannot put the object to stat: HTTP {status}")
        self.run_pairs(("auth-stat", None), self.auth_cases(container, "stat-me", size))

    # -- 6: deleting many objects (retention) --
    def fill_for_delete(self, container, names):
        """Makes the objects in one bulk upload (?extract-archive=tar) unless they are there."""
        if self.swift.listing(container):
            raise BenchError(f"{container}: not empty before the delete's fill")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for n in names:
                info = tarfile.TarInfo(n)
                info.size = len(n)
                tar.addfile(info, io.BytesIO(n.encode()))
        status, _, body = self.swift.request("PUT", f"/{container}?extract-archive=tar", buf.getvalue(),
                                             {"Accept": "application/json"})
        if status >= 300 or f'"Number Files Created": {len(names)}' not in body.decode():
            raise BenchError(f"{container}: the bulk upload of {len(names)} objects failed: "
                             f"HTTP {status} {body[:300]!r}")

    def delete_cases(self, names, names_file):
        cl, cfg = self.clients, self.cfg
        floor = os.path.join(self.work, "bulk-delete.txt")

        def case(key, label, make, slow=False):
            if not self.wanted(key):
                return Case(key, label, None)
            c = self.container(key)

            def run(r):
                self.fill_for_delete(c, names)
                return make(c)

            def verify(r):
                left = self.swift.listing(c)
                if left:
                    raise BenchError(f"{key}: {len(left)} of {len(names)} objects left after the delete")
            return Case(key, label, c, None, run, None, verify, slow=slow)

        def curl_bulk(c):
            with open(floor, "w") as f:
                f.write("\n".join(urllib.parse.quote(f"/{c}/{n}") for n in names))
            return Cmd(["curl", "-sSf", "--no-progress-meter", "-X", "POST", "-H",
                        "X-Auth-Token: " + self.swift.token, "-H", "Content-Type: text/plain",
                        "-H", "Accept: application/json", "--data-binary", "@" + floor,
                        f"{self.swift.account}?bulk-delete"])

        par = str(cfg["par"])
        return [
            case("ours-c", "ours-c (rm NAMES: bulk)", lambda c: cl.ours_c(c, ["rm", *names])),
            case("ours-py", "ours-py (delete_many)",
                 lambda c: cl.ours_py(c, ["delete-many", names_file])),
            case("curl", "curl (one bulk-delete POST)", curl_bulk),
            case("swift-cli", "swift-cli (delete NAMES: bulk)",
                 lambda c: cl.swift_cli(["delete", c, *names])),
            case("rclone", f"rclone (delete: list, DELETE each, --checkers {par})",
                 lambda c: cl.rclone(["delete", "--checkers", par, f"osb:{c}"])),
            case("opendal", f"opendal (delete each, {par} threads)",
                 lambda c: cl.opendal(c, ["delete-many", names_file, par])),
        ]

    def bench_delete(self):
        n = self.cfg["delete"]
        names = [f"vol/{i:06d}" for i in range(n)]
        names_file = os.path.join(self.work, "delete-names.txt")
        with open(names_file, "w") as f:
            f.write("".join(name + "\n" for name in names))
        self.run_pairs((None, "delete"), self.delete_cases(names, names_file))

    # -- 7: opening many destinations (one token for all) --
    def open_cases(self, container, name, n):
        cl, e = self.clients, self.env
        cache = os.path.join(self.work, "token-cache")
        quote = urllib.parse.quote

        def times(cmd):
            """cmd run n times, one process each."""
            loop = 'for i in $(seq "$BENCH_N"); do "$@" >/dev/null || exit 1; done'
            return Cmd(["bash", "-c", loop, "loop", *cmd.argv], {**cmd.env, "BENCH_N": str(n)},
                       cwd=cmd.cwd)

        def fresh_cache(cmd):
            if os.path.exists(cache):
                os.remove(cache)
            return cmd

        return [
            Case("ours-py", f"ours-py ({n} Destinations, one process)", container, None,
                 lambda r: cl.ours_py(container, ["open", str(n), name])),
            Case("ours-c", f"ours-c ({n} processes, openstack-token-cache)", container, None,
                 lambda r: fresh_cache(times(cl.ours_c(container, ["stat", name],
                                                       "&openstack-token-cache=" + quote(cache))))),
            Case("ours-c-nocache", f"ours-c ({n} processes, no token cache)", container, None,
                 lambda r: times(cl.ours_c(container, ["stat", name]))),
            Case("swiftclient-py", f"swiftclient-py ({n} Connections, one process)", container, None,
                 lambda r: cl.swiftclient_py(container, ["open", str(n), name])),
            Case("curl", f"curl ({n} × POST token, HEAD)", container, None,
                 lambda r: times(Cmd(["bash", os.path.join(CLIENTS_DIR, "curl_auth_stat.sh"),
                                      e["OSD_AUTH_V3"], cl.object_url(container, name)], cl.os_env()))),
            Case("swift-cli", f"swift-cli ({n} × stat)", container, None,
                 lambda r: times(cl.swift_cli(["stat", container, name])), slow=True),
            Case("rclone", f"rclone ({n} × lsjson --stat)", container, None,
                 lambda r: times(cl.rclone(["lsjson", "--stat", f"osb:{container}/{name}"])), slow=True),
            Case("opendal", "opendal", container, None, "OpenDAL's swift service cannot "
                 "authenticate (it takes a token)"),
        ]

    def bench_open(self):
        container = self.container("open")
        status, _, _ = self.swift.request("PUT", f"/{container}/stat-me", b"x" * 100)
        if status >= 300:
            raise BenchError(f"cannot put the object to stat: HTTP {status}")
        self.run_pairs((None, "open"), self.open_cases(container, "stat-me", self.cfg["open"]))

    # -- 8: duplicity, ours against its own swift:// backend --
    def dup_cases(self, src):
        cl, sw, cfg = self.clients, self.swift, self.cfg
        prefix = lambda run: f"dup-r{run}"  # noqa: E731
        out = lambda key: os.path.join(self.work, f"dup-out-{key}")  # noqa: E731
        options = ["--no-encryption", "--volsize", str(cfg["dup_volsize"])]

        def archive(key, step, run):  # fresh each time: the restore reads duplicity's metadata from Swift
            path = os.path.join(self.work, f"dup-archive-{key}-{step}-{run}")
            shutil.rmtree(path, ignore_errors=True)
            return ["--archive-dir", path]

        def check_put(container):
            def verify(run):
                names = [e["name"] for e in sw.listing(container, prefix(run) + "/")]
                if not any(n.endswith(".manifest") for n in names) or not any(".vol" in n for n in names):
                    raise BenchError(f"{container}/{prefix(run)}/: no duplicity backup set there "
                                     f"({len(names)} objects)")
            return verify

        def check_get(key):
            def verify(run):
                a, b = relative_files(src), relative_files(out(key))
                if sorted(a) != sorted(b) or not all(same_file(a[f], b[f]) for f in a):
                    raise BenchError(f"{key}: the restored directory differs from the source")
                shutil.rmtree(out(key))
            return verify

        def cleanup(container):
            return lambda run: sw.bulk_delete([f"/{container}/{e['name']}"
                                               for e in sw.listing(container, prefix(run) + "/")])

        def case(key, label, make, url):
            c = self.container(key)
            return Case(key, label, c,
                        lambda r: make(["full", *options, *archive(key, "put", r), src, url(c, r)]),
                        lambda r: make(["restore", *options, *archive(key, "get", r), url(c, r), out(key)]),
                        check_put(c), check_get(key), cleanup(c))

        return [
            case("ours-dup", "duplicity openstack:// (ours)", cl.duplicity_ours,
                 lambda c, r: cl.url(f"{c}/{prefix(r)}")),
            case("duplicity-swift", "duplicity swift:// (python-swiftclient)", cl.duplicity_swift,
                 lambda c, r: f"swift://{c}/{prefix(r)}"),
        ]

    def bench_dup(self):
        cfg = self.cfg
        src = os.path.join(self.work, "dup-source")
        progress(f"making duplicity's source: {cfg['dup_files']} real files and {cfg['dup_mib']} MiB in all")
        real = "/usr/lib/python3/dist-packages/swift"
        copied = 0
        for path in sorted(os.path.join(d, f) for d, _, fs in os.walk(real) for f in fs):
            if copied >= cfg["dup_files"]:
                break
            if "__pycache__" in path:
                continue
            dst = os.path.join(src, "real", os.path.relpath(path, real))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(path, dst)
            copied += 1
        used = sum(os.path.getsize(p) for p in relative_files(src).values())
        left = max(cfg["dup_mib"] * MIB - used, 0)
        for i in range(4):
            make_random_file(os.path.join(src, f"random-{i}.bin"), max(left // 4 // MIB, 1))
        self.run_pairs(("dup-backup", "dup-restore"), self.dup_cases(src))

    # -- all --
    def run(self):
        steps = {"large": self.bench_large, "seg": self.bench_seg, "small": self.bench_small,
                 "list": self.bench_list, "auth": self.bench_auth, "dup": self.bench_dup,
                 "delete": self.bench_delete, "open": self.bench_open}
        try:
            for w in self.cfg["workloads"]:
                if w == "dup":  # whole volumes (swift://): only they must fit
                    self.swift.check_cluster(self.cfg["dup_volsize"] + 1, listing=1)
                elif w in ("small", "delete", "open"):  # small objects; rclone lists 1000 at a time
                    self.swift.check_cluster(0, listing=1000 if self.wanted("rclone") else 1)
                else:
                    self.swift.check_cluster(max(self.cfg["mib"], self.cfg["seg_object_mib"]))
                start = time.monotonic()
                steps[w]()
                self.elapsed[w] = time.monotonic() - start
                progress(f"{w}: done in {self.elapsed[w]:.0f} s")
        finally:
            progress("deleting the bench's containers")
            self.swift.delete_containers(f"bench-{self.id}-")
            shutil.rmtree(self.work, ignore_errors=True)


# ---- the report ----
def versions():
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    import opendal
    import swiftclient
    try:
        from duplicity import __version__ as duplicity_version
    except ImportError:
        duplicity_version = "?"
    return {"curl": out(["curl", "--version"]).split(" (")[0],
            "duplicity": "duplicity " + duplicity_version,
            "swift-cli": "python-swiftclient " + swiftclient.__version__,
            "rclone": out(["rclone", "version"]),
            "opendal": "opendal " + getattr(opendal, "__version__", "?"),
            "python": platform.python_version()}


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs, {model}"


def summarise(bench):
    """Rows: (workload, key, label, median wall, median cpu, max rss, runs)."""
    order, rows = [], {}
    for r in bench.results:
        if r["warmup"]:
            continue
        k = (r["workload"], r["client"])
        if k not in rows:
            order.append(k)
            rows[k] = []
        rows[k].append(r)
    # Rows in each workload's case order (ours first), whichever client a round started with.
    rank = {k: i for i, k in enumerate(bench.cases)}
    first = {w: i for i, w in reversed(list(enumerate(w for w, _ in order)))}
    order.sort(key=lambda k: (first[k[0]], rank.get(k, len(rank))))
    summary = []
    for k in order:
        rs = rows[k]
        summary.append({"workload": k[0], "client": k[1],
                        "wall": statistics.median(r["wall"] for r in rs),
                        "cpu": statistics.median(r["cpu"] for r in rs),
                        "rss_mib": max(r["rss_mib"] for r in rs), "runs": len(rs),
                        "posts": statistics.median(r["posts"] for r in rs)
                        if all(r.get("posts") is not None for r in rs) else None})
    return summary


def heading(bench):
    cfg = bench.cfg
    net = (f" (through the relay: {cfg['delay_ms']} ms one-way delay, {cfg['link_mib']} MiB/s each "
           "way shared; every client's Swift traffic, Keystone direct)" if cfg["net"] else "")
    return (f"{datetime.date.today()} · {machine()} · profile {cfg['profile']}{net} · "
            f"ours: {cfg['build']} build")


def markdown(bench, summary, label):
    cfg = bench.cfg
    lines = [f"## make bench — {heading(bench)}", "",
             f"Sizes: large {cfg['mib']} MiB; segmented {cfg['seg_object_mib']} MiB in {cfg['seg_mib']} MiB "
             f"segments; small {cfg['small']} × {cfg['small_bytes']} B, parallel {cfg['par']}; list "
             f"{cfg['list']}. Medians of {cfg['runs']} runs after a warm-up "
             f"({cfg['slow_runs']} for swift-cli and rclone on small objects).", "",
             "| workload | client | wall s | CPU s | peak RSS MiB | ours-C / this (wall) |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    # The reference of each workload: ours-c, or for duplicity's workloads ours-dup.
    ref = {s["workload"]: s["wall"] for s in summary if s["client"] in ("ours-c", "ours-dup")}
    notes = {}
    workloads = list(dict.fromkeys([s["workload"] for s in summary] + [w for w, _ in bench.skipped]))
    for w in workloads:
        for s in (s for s in summary if s["workload"] == w):
            ratio = f"{ref[w] / s['wall']:.2f}" if w in ref and s["wall"] > 0 else "—"
            lines.append(f"| {w} | {label(s['client'], w)} | {s['wall']:.2f} | {s['cpu']:.2f} | "
                         f"{s['rss_mib']:.0f} | {ratio} |")
        for (sw, key), reason in bench.skipped.items():
            if sw == w:
                n = notes.setdefault(reason, len(notes) + 1)
                lines.append(f"| {w} | {label(key, w)} | —[^{n}] | — | — | — |")
    for w in ("dup-backup", "dup-restore"):
        ours = next((s for s in summary if s["workload"] == w and s["client"] == "ours-dup"), None)
        theirs = next((s for s in summary if s["workload"] == w and s["client"] == "duplicity-swift"), None)
        if ours and theirs and ours["wall"] > 0 and ours["cpu"] > 0:
            lines += ["", f"{w}: duplicity swift:// / duplicity openstack:// = {theirs['wall'] / ours['wall']:.2f} "
                      f"wall, {theirs['cpu'] / ours['cpu']:.2f} CPU (above 1: ours is faster / cheaper; the "
                      "last column of the dup rows is ours-dup / this)."]
    for w in ("open", "auth-stat"):
        posts = [(label(s["client"], w), s["posts"]) for s in summary
                 if s["workload"] == w and s.get("posts") is not None]
        if posts:
            lines += ["", f"{w}: Keystone token requests per run (median): "
                      + "; ".join(f"{who} {n:.0f}" for who, n in posts) + "."]
    lines += ["", "ours-C / this below 1: ours-c (the C CLI) is faster than that row. CPU: user + sys "
              "of the process and its children. curl and opendal are given a token beforehand (no "
              "Keystone request in their process, but curl's in auth-stat); the others authenticate "
              "in every process. curl in auth-stat is given the storage URL."]
    lines += [f"[^{n}]: {reason}" for reason, n in notes.items()]
    lines += ["", "Versions: " + "; ".join(f"{k}: {v}" for k, v in versions().items())]
    return "\n".join(lines) + "\n"


def chart(bench, summary, label, path):
    """Grouped bars: one group per workload, one bar per client, wall time / curl's."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = list(dict.fromkeys(s["workload"] for s in summary))
    clients = list(dict.fromkeys(s["client"] for s in summary))
    curl = {s["workload"]: s["wall"] for s in summary if s["client"] == "curl"}
    width = 0.8 / len(clients)
    fig, ax = plt.subplots(figsize=(max(10, len(workloads) * 1.4), 5.5))
    for i, client in enumerate(clients):
        xs, ys = [], []
        for j, w in enumerate(workloads):
            s = next((s for s in summary if s["workload"] == w and s["client"] == client), None)
            if s and w in curl:
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(s["wall"] / curl[w])
        ax.bar(xs, ys, width, label=client)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)), workloads, rotation=20)
    ax.set_ylabel("median wall time / curl's (log scale, lower is faster)")
    ax.set_title("make bench — " + heading(bench).replace(" (through", "\n(through"), fontsize=9)
    ax.legend(fontsize=8, ncol=len(clients), loc="upper center", bbox_to_anchor=(0.5, -0.18))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(bench):
    out = bench.cfg["out"]
    os.makedirs(out, exist_ok=True)
    summary = summarise(bench)

    def label(key, workload):
        case = bench.cases.get((workload, key))
        return case.label if case else key

    text = markdown(bench, summary, label)
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump({"settings": {k: v for k, v in bench.cfg.items()}, "machine": machine(),
                   "heading": heading(bench), "elapsed_s": bench.elapsed,
                   "labels": {f"{w}|{k}": c.label for (w, k), c in bench.cases.items()},
                   "summary": summary, "results": bench.results,
                   "skipped": [{"workload": w, "client": k, "reason": r} for (w, k), r in bench.skipped.items()]},
                  f, indent=1)
    chart(bench, summary, label, os.path.join(out, "bench.png"))
    print(text)
    print(f"written: {out}/bench.md, bench.json, bench.png")


def main():
    cfg = settings()
    env = {k: v for k, v in os.environ.items() if k.startswith("OSD_")}
    bench = Bench(cfg, env)
    start = time.monotonic()
    try:
        bench.run()
    except BenchError as err:
        sys.exit(f"bench: FAILED: {err}")
    progress(f"all workloads in {time.monotonic() - start:.0f} s")
    report(bench)


if __name__ == "__main__":
    main()
