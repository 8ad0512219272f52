#!/usr/bin/python3
"""Start/stop/inspect the test bed: Swift (2 proxies, 2 regions) + Keystone v3 + v2 front end.

Called by testbed.sh (which installs the Debian packages first):  testbed.py start|stop|status|env|restart|clean
Everything lives under $OSD_STATE_DIR (default /tmp/openstack-dest-testbed); see README.md.
A pid file (run/NAME.pid, JSON) records the pid, the process start time (so a recycled pid is never
taken for ours) and a hash of the command line and config files (a change restarts the server).
"""
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def template(name):
    """The text of conf/NAME, a configuration with {placeholders} that str.format fills."""
    with open(os.path.join(HERE, 'conf', name)) as f:
        return f.read()


# The configurations the test bed writes, from conf/: the cluster's swift.conf, the start of every
# Swift server's file, the proxies' own sections (the filters with settings), Keystone's.
SWIFT_CONF, SERVER_COMMON, PROXY, KEYSTONE_CONF = (
    template(n) for n in ('swift.conf', 'server-common.conf', 'proxy.conf', 'keystone.conf'))

PY = '/usr/bin/python3'
HOST = '127.0.0.1'
STATE = os.path.abspath(os.environ.get('OSD_STATE_DIR') or '/tmp/openstack-dest-testbed')
SWIFT_DIR = os.path.join(STATE, 'etc', 'swift')
DEVICES = os.path.join(STATE, 'srv', 'node')
KS_DIR = os.path.join(STATE, 'keystone')
RUN = os.path.join(STATE, 'run')
LOGS = os.path.join(STATE, 'log')
CREDS_FILE = os.path.join(STATE, 'credentials.json')
KEYS_FILE = os.path.join(STATE, 'apikeys.json')
ENV_FILE = os.path.join(STATE, 'env.sh')

PORT = {'memcached': 11211, 'keystone': 5000, 'v2': 5001, 'object': 6200, 'container': 6201,
        'account': 6202, 'proxy1': 8080, 'proxy2': 8081}
REGION1, REGION2 = 'RegionOne', 'RegionTwo'
KEYSTONE_URL = 'http://%s:%d/v3' % (HOST, PORT['keystone'])
V2_URL = 'http://%s:%d/v2.0' % (HOST, PORT['v2'])
SWIFT1 = 'http://%s:%d' % (HOST, PORT['proxy1'])
SWIFT2 = 'http://%s:%d' % (HOST, PORT['proxy2'])
USER, PROJECT, READER, ADMIN = 'osd-user', 'osd-project', 'osd-reader', 'admin'
DOMAIN2, USER2, PROJECT2 = 'osd-domain2', 'osd-user2', 'osd-project2'
START_TIMEOUT = float(os.environ.get('OSD_START_TIMEOUT', '120'))
# OSD_REPLICAS=3: three storage nodes (account, container and object servers of their own, on
# ports 10 and 20 above the first node's, devices d2 and d3) and rings of 3 replicas in 3 zones,
# as a real cluster is laid out; `node-stop N` stops node N (1-3) and `start` brings it back.
REPLICAS = int(os.environ.get('OSD_REPLICAS') or '1')
MAX_NODES = 3
STORAGE = ('account', 'container', 'object')


def node_name(kind, n):
    """The service name of storage server `kind` on node `n` (0-based): 'object', 'object2'..."""
    return kind if n == 0 else '%s%d' % (kind, n + 1)


def device_name(n):
    """The device of node `n` (0-based): d1 with one replica; r1, r2, r3 with three, a cluster
    of its own (the one-node data stays on d1 for when the test bed goes back to one node)."""
    return 'd1' if REPLICAS == 1 else 'r%d' % (n + 1)


for _n in range(1, MAX_NODES):
    for _k in STORAGE:
        PORT[node_name(_k, _n)] = PORT[_k] + 10 * _n
ORDER = ['memcached'] + [node_name(k, n) for n in range(MAX_NODES) for k in STORAGE] + [
    'container-updater', 'proxy1', 'proxy2', 'keystone', 'v2']
T0 = time.time()

# ---- TLS (issue 13): stunnel4 terminators in front of Keystone and Swift, with a test CA made
# by the openssl CLI under $OSD_STATE_DIR/tls. Kept in blocks of their own (search "TLS").
TLS_DIR = os.path.join(STATE, 'tls')
TLS_HOST = 'localhost'           # the name in the good certificate (SAN DNS:localhost, IP:127.0.0.1)
TLS_OTHER_HOST = 'other.invalid'  # the name in the certificate of the name-mismatch port
REGION_TLS = 'RegionTLS'          # object-store endpoints over https only (no identity endpoint)
# name: (port, backend port, certificate)
TLS_SERVICES = {'tls-keystone': (5443, PORT['keystone'], 'localhost'),
                'tls-swift': (8443, PORT['proxy1'], 'localhost'),
                'tls-swift-other': (8444, PORT['proxy1'], 'other'),
                'tls-swift-expired': (8445, PORT['proxy1'], 'expired')}
PORT.update({name: ports[0] for name, ports in TLS_SERVICES.items()})
KEYSTONE_TLS_URL = 'https://%s:%d/v3' % (TLS_HOST, PORT['tls-keystone'])
SWIFT_TLS = 'https://%s:%d' % (TLS_HOST, PORT['tls-swift'])
SWIFT_TLS_OTHER = 'https://%s:%d' % (TLS_HOST, PORT['tls-swift-other'])
SWIFT_TLS_EXPIRED = 'https://%s:%d' % (TLS_HOST, PORT['tls-swift-expired'])
ORDER += list(TLS_SERVICES)
# ---- end TLS


class Fail(Exception):
    pass


def say(msg):
    sys.stderr.write('testbed: [%5.1fs] %s\n' % (time.time() - T0, msg))
    sys.stderr.flush()


def log_tail(path, n=40):
    try:
        with open(path, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()[-n:]
    except OSError:
        return '(no log at %s)' % path
    return '\n'.join('    | ' + line for line in lines)


def wait_for(cond, timeout, step=0.05):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(step)
    return True


# ------------------------------------------------------------------------------------ processes

def proc_stat(pid):
    """(state, start time) of a process, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            rest = f.read().rsplit(')', 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return rest[0], rest[19]


def proc_gone(pid):
    """Gone, or a zombie with no thread left (a zombie leader's threads keep its sockets open)."""
    st = proc_stat(pid)
    if st is None:
        return True
    try:
        return st[0] in 'ZX' and len(os.listdir('/proc/%d/task' % pid)) <= 1
    except OSError:
        return True


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except OSError:
        return '?'


def pidfile(name):
    return os.path.join(RUN, name + '.pid')


def read_pidfile(name):
    try:
        with open(pidfile(name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def our_pid(name):
    """The pid of our running process for `name`, or None."""
    info = read_pidfile(name)
    st = proc_stat(info['pid']) if isinstance(info.get('pid'), int) else None
    return info['pid'] if st and st[0] not in 'ZX' and st[1] == info.get('start') else None


def listeners(port):
    """[(pid, cmdline)] of the processes listening on TCP `port`."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                rows = [line.split() for line in f][1:]
        except OSError:
            continue
        inodes |= {'socket:[%s]' % r[9] for r in rows
                   if r[3] == '0A' and int(r[1].rsplit(':', 1)[1], 16) == port}
    found = []
    for d in filter(str.isdigit, os.listdir('/proc') if inodes else []):
        try:
            if any(os.readlink('/proc/%s/fd/%s' % (d, fd)) in inodes
                   for fd in os.listdir('/proc/%s/fd' % d)):
                found.append((int(d), cmdline(int(d))))
        except OSError:
            continue
    return found


def port_busy(port):
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
        return True
    except OSError:
        return bool(listeners(port))


def kill(name, pid):
    """SIGTERM, SIGKILL after 10 s; then what is left of its process group (servers lead one)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    steps = [lambda: os.killpg(pid, signal.SIGKILL), lambda: os.waitpid(pid, os.WNOHANG)]
    if not wait_for(lambda: proc_gone(pid), 10):
        say('%s (pid %d) did not stop on SIGTERM; sending SIGKILL' % (name, pid))
        steps.insert(0, lambda: os.kill(pid, signal.SIGKILL))
    for step in steps:
        try:
            step()
        except (ProcessLookupError, PermissionError, ChildProcessError):
            pass
    wait_for(lambda: proc_gone(pid), 5)


def stop(name):
    pid = our_pid(name)
    if pid is not None:
        say('stopping %s (pid %d)' % (name, pid))
        kill(name, pid)
    if os.path.exists(pidfile(name)):
        os.unlink(pidfile(name))
    return pid


# ------------------------------------------------------------------------------------ settings

def write(path, text):
    """Writes a private (0600) file when its content changes."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(path + '.tmp', path)


def load_creds():
    """Random secrets (letters, digits, '-'), made once and kept in credentials.json."""
    try:
        with open(CREDS_FILE) as f:
            creds = json.load(f)
    except (OSError, ValueError):
        creds = {}
    wanted = {'admin_password': 'Pw', 'swift_password': 'Pw', 'user_password': 'Pw',
              'user_apikey': 'Key', 'user2_password': 'Pw', 'reader_password': 'Pw',
              'reader_apikey': 'Key', 'admin_apikey': 'Key', 'hash_suffix': 'Hs'}
    alphabet = string.ascii_letters + string.digits
    missing = [k for k in wanted if not creds.get(k)]
    for k in missing:
        creds[k] = wanted[k] + '-' + ''.join(secrets.choice(alphabet) for _ in range(22))
    if missing:
        write(CREDS_FILE, json.dumps(creds, indent=1) + '\n')
    return creds


def token_expiration():
    raw = os.environ.get('OSD_TOKEN_EXPIRATION', '3600')
    if not raw.isdigit() or int(raw) < 5:
        raise Fail('OSD_TOKEN_EXPIRATION must be a number of seconds, at least 5, not %r' % raw)
    return int(raw)


def max_file_size():
    raw = os.environ.get('OSD_MAX_FILE_SIZE', '33554432')
    if not raw.isdigit() or int(raw) < 1048576:
        raise Fail('OSD_MAX_FILE_SIZE must be a number of bytes, at least 1048576, not %r' % raw)
    return int(raw)


def listing_limit():
    raw = os.environ.get('OSD_LISTING_LIMIT', '200')
    if not raw.isdigit() or int(raw) < 1:
        raise Fail('OSD_LISTING_LIMIT must be a positive number of names, not %r' % raw)
    return int(raw)


def env_text(creds, expiration):
    exports = [
        ('OSD_STATE_DIR', STATE), ('OSD_AUTH_V3', KEYSTONE_URL), ('OSD_AUTH_V2', V2_URL),
        ('OSD_REGION1', REGION1), ('OSD_REGION2', REGION2), ('OSD_SWIFT1', SWIFT1),
        ('OSD_SWIFT2', SWIFT2), ('OSD_DOMAIN', 'Default'), ('OSD_USER', USER),
        ('OSD_PASSWORD', creds['user_password']), ('OSD_APIKEY', creds['user_apikey']),
        ('OSD_PROJECT', PROJECT), ('OSD_DOMAIN2', DOMAIN2), ('OSD_USER2', USER2),
        ('OSD_PASSWORD2', creds['user2_password']), ('OSD_PROJECT2', PROJECT2),
        ('OSD_READER_USER', READER), ('OSD_READER_PASSWORD', creds['reader_password']),
        ('OSD_ADMIN_USER', ADMIN), ('OSD_ADMIN_PASSWORD', creds['admin_password']),
        ('OSD_ADMIN_PROJECT', 'admin'), ('OSD_TOKEN_EXPIRATION', str(expiration)),
        ('OSD_MAX_FILE_SIZE', str(max_file_size())), ('OSD_LISTING_LIMIT', str(listing_limit()))]
    exports += tls_exports()  # TLS
    return ('# written by tests/openstack/testbed.sh; source it to reach the test bed\n'
            + ''.join('export %s=%s\n' % (k, shlex.quote(v)) for k, v in exports))


PROXY_PIPELINE = ('catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk '
                  'tempurl ratelimit formpost authtoken keystoneauth staticweb copy '
                  'container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging '
                  'proxy-server')
# the filters that need no settings: [filter:NAME] use = egg:swift#NAME (with '_' for '-')
PLAIN_FILTERS = ('catch_errors gatekeeper healthcheck listing_formats bulk tempurl ratelimit '
                 'formpost staticweb copy container-quotas account-quotas slo dlo symlink').split()


def swift_configs(creds, expiration):
    import pwd
    common = dict(host=HOST, user=pwd.getpwuid(os.geteuid()).pw_name, swift_dir=SWIFT_DIR,
                  devices=DEVICES, state=STATE)
    filters = lambda names: ''.join('\n[filter:%s]\nuse = egg:swift#%s\n' % (n, n.replace('-', '_'))
                                    for n in names)
    c = {'swift.conf': SWIFT_CONF.format(suffix=creds['hash_suffix'],
                                         max_file_size=max_file_size(),
                                         listing_limit=listing_limit())}
    for n in range(REPLICAS):
        for kind in STORAGE:
            name = node_name(kind, n)
            c[name + '-server.conf'] = SERVER_COMMON.format(
                port=PORT[name], name=name + '-server', pipeline='healthcheck %s-server' % kind,
                **common) + '\n[app:%s-server]\nuse = egg:swift#%s\n' % (kind, kind) + filters(['healthcheck'])
    c['container-server.conf'] += ('\n[container-updater]\ninterval = %d\nconcurrency = 1\n'
                                   'log_name = container-updater\n'
                                   % max(10, int(os.environ.get('OSD_UPDATER_INTERVAL', '10'))))
    for i in (1, 2):
        c['proxy-server-%d.conf' % i] = SERVER_COMMON.format(
            port=PORT['proxy%d' % i], name='proxy-server-%d' % i, pipeline=PROXY_PIPELINE,
            **common) + '\n' + PROXY.format(
            keystone=KEYSTONE_URL, region1=REGION1, swift_password=creds['swift_password'],
            host=HOST, memcached=PORT['memcached'],
            cache_time=max(5, min(300, expiration // 2))) + filters(PLAIN_FILTERS)
    return c


def keystone_setup_doc(creds):
    user = lambda name, pw, project, roles, **kw: dict(name=name, password=creds[pw],
                                                      project=project, roles=roles, **kw)
    return {
        'keystone': KEYSTONE_URL, 'admin_user': ADMIN, 'admin_password': creds['admin_password'],
        'admin_project': 'admin', 'regions': [REGION1, REGION2],
        'object_store': {REGION1: SWIFT1 + '/v1/AUTH_$(project_id)s',
                         REGION2: SWIFT2 + '/v1/AUTH_$(project_id)s',
                         # TLS: object-store only (no identity endpoint in this region)
                         REGION_TLS: SWIFT_TLS + '/v1/AUTH_$(project_id)s'},
        'users': [user('swift', 'swift_password', 'service', ['admin', 'service']),
                  user(USER, 'user_password', PROJECT, ['member']),
                  user(READER, 'reader_password', PROJECT, ['reader']),
                  user(USER2, 'user2_password', PROJECT2, ['member'], domain=DOMAIN2),
                  user(ADMIN, 'admin_password', 'admin', ['admin', 'ResellerAdmin'])],
    }


def apikeys_doc(creds):
    return {'users': {name: {'apikey': creds[k + '_apikey'], 'password': creds[k + '_password']}
                      for name, k in ((USER, 'user'), (READER, 'reader'), (ADMIN, 'admin'))}}


# ------------------------------------------------------------------------------------ services

def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, body); status 0 when nothing answered."""
    req = urllib.request.Request(url, method=method, headers=dict(headers or {}, **{
        'Content-Type': 'application/json'}), data=json.dumps(body).encode() if body else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except Exception:
        return 0, {}, b''


def http_ok(url):
    return http('GET', url, timeout=2)[0] == 200


def memcached_ok():
    try:
        with socket.create_connection((HOST, PORT['memcached']), timeout=1) as s:
            s.sendall(b'version\r\n')
            return s.recv(64).startswith(b'VERSION')
    except OSError:
        return False


class Service:
    def __init__(self, name, argv, files=(), health=None):
        self.name, self.argv, self.files, self.port = name, argv, files, PORT.get(name)
        self.log = os.path.join(LOGS, name + '.log')
        self.health = health or (lambda: our_pid(name) is not None)
        self.proc = None

    def hash(self):
        # The argv without this checkout's path: a worktree of the same code runs the same bed.
        argv = [a.replace(HERE, '') for a in self.argv]
        h = hashlib.sha256(json.dumps([argv, []]).encode())
        for path in self.files:
            with open(path, 'rb') as f:
                h.update(f.read())
        return h.hexdigest()

    def launch(self):
        with open(self.log, 'ab') as log:
            log.write(('\n==== %s start %s\n' % (self.name, time.strftime('%F %T'))).encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, cwd=STATE, start_new_session=True)
        st = proc_stat(self.proc.pid)
        write(pidfile(self.name), json.dumps({
            'pid': self.proc.pid, 'start': st[1] if st else None, 'hash': self.hash(),
            'port': self.port, 'argv': self.argv[:2]}))


def services():
    sw = lambda kind, conf: [PY, os.path.join(HERE, 'swift_server.py'), SWIFT_DIR, kind,
                             os.path.join(SWIFT_DIR, conf)]
    rings = [os.path.join(SWIFT_DIR, r + '.ring.gz') for r in RINGS]
    files = lambda conf: [os.path.join(SWIFT_DIR, 'swift.conf'), os.path.join(SWIFT_DIR, conf)] + rings
    healthcheck = lambda name: lambda: http_ok('http://%s:%d/healthcheck' % (HOST, PORT[name]))
    ks_conf = os.path.join(KS_DIR, 'keystone.conf')
    uwsgi = '/usr/bin/uwsgi' if os.path.exists('/usr/bin/uwsgi') else '/usr/bin/uwsgi-core'
    memcached = ['/usr/bin/memcached', '-l', HOST, '-p', str(PORT['memcached']), '-U', '0',
                 '-m', '128', '-c', '1024'] + (['-u', 'root'] if os.geteuid() == 0 else [])
    svcs = [Service('memcached', memcached, health=memcached_ok)]
    svcs += [Service(node_name(k, n), sw(k, node_name(k, n) + '-server.conf'),
                     files(node_name(k, n) + '-server.conf'), healthcheck(node_name(k, n)))
             for n in range(REPLICAS) for k in STORAGE]
    svcs.append(Service('container-updater', sw('container-updater', 'container-server.conf'),
                        files('container-server.conf')))
    svcs += [Service('proxy%d' % i, sw('proxy', 'proxy-server-%d.conf' % i),
                     files('proxy-server-%d.conf' % i), healthcheck('proxy%d' % i)) for i in (1, 2)]
    # uwsgi's HTTP router takes the client connections (keep-alive included) and hands each
    # request to a free worker: a client that keeps its connection open pins no worker.
    svcs.append(Service('keystone', [
        uwsgi, '--plugin', 'python3,http', '--http', '%s:%d' % (HOST, PORT['keystone']),
        '--http-keepalive', '--http-auto-chunked', '--http-timeout', '120',
        '--socket', os.path.join(RUN, 'keystone.sock'), '--chmod-socket=600',
        '--wsgi-file', '/usr/bin/keystone-wsgi-public', '--need-app', '--master',
        '--processes', '2', '--die-on-term', '--buffer-size', '65535', '--ignore-sigpipe',
        '--ignore-write-errors', '--disable-write-exception',
        '--env', 'OS_KEYSTONE_CONFIG_FILES=' + ks_conf], [ks_conf], lambda: http_ok(KEYSTONE_URL)))
    svcs.append(Service('v2', [
        PY, os.path.join(HERE, 'v2_frontend.py'), '--listen', '%s:%d' % (HOST, PORT['v2']),
        '--keystone', KEYSTONE_URL, '--keys', KEYS_FILE], [os.path.join(HERE, 'v2_frontend.py')],
        lambda: http_ok(V2_URL)))
    svcs += tls_services()  # TLS
    return {s.name: s for s in svcs}


def foreign(port):
    owners = listeners(port)
    who = '; '.join('pid %d: %s' % (pid, cmd[:200]) for pid, cmd in owners) or \
        'a process this user cannot see'
    return Fail('port %d on %s is taken by another process (%s). Stop it, or if it is a test bed '
                'with another OSD_STATE_DIR, stop that one (OSD_STATE_DIR=... bash '
                'tests/openstack/testbed.sh stop).' % (port, HOST, who))


def prepare(svc):
    """'reuse' a healthy server of ours with the same settings, else clear the way: 'start'.
    'foreign': a memcached that is not ours answers (it is used)."""
    if our_pid(svc.name) is not None:
        same = read_pidfile(svc.name).get('hash') == svc.hash()
        # a busy server may miss one health check: ask a few times
        if same and any(svc.health() or time.sleep(1) for _ in range(4)):
            return 'reuse'
        say('restarting %s: %s' % (svc.name, 'not healthy' if same else 'settings changed'))
    stop(svc.name)
    if svc.port is None or not port_busy(svc.port):
        return 'start'
    if svc.name == 'memcached' and memcached_ok():
        say('memcached already answers on %s:%d (not ours): reusing it' % (HOST, svc.port))
        return 'foreign'
    # A server of an earlier run whose pid file is gone names this state directory.
    owners = listeners(svc.port)
    if owners and all(STATE + '/' in cmd + ' ' or STATE + ' ' in cmd + ' ' for _, cmd in owners):
        for pid, _ in owners:
            leader = pid
            try:
                if STATE + '/' in cmdline(os.getpgid(pid)):
                    leader = os.getpgid(pid)  # uwsgi's HTTP router is a child of our leader
            except ProcessLookupError:
                continue
            say('port %d is held by an earlier run of this test bed without a pid file '
                '(pid %d); stopping it' % (svc.port, leader))
            kill(svc.name, leader)
    if wait_for(lambda: not port_busy(svc.port), 3, 0.1):
        return 'start'
    raise foreign(svc.port)


# the rings: one per storage kind, and object-1 for the second storage policy
RINGS = ('account', 'container', 'object', 'object-1')


def build_rings():
    params = 'rings=%s part_power=6 replicas=%d ports=%d,%d,%d devices=%s %s\n' % (
        ','.join(RINGS), REPLICAS, PORT['account'], PORT['container'], PORT['object'], DEVICES,
        ','.join(device_name(n) for n in range(REPLICAS)))
    marker = os.path.join(SWIFT_DIR, 'rings.params')
    try:
        with open(marker) as f:
            if f.read() == params and all(os.path.exists(os.path.join(SWIFT_DIR, k + '.ring.gz'))
                                          for k in RINGS):
                return
    except OSError:
        pass
    from swift.common.ring import RingBuilder
    for ring in RINGS:
        kind = ring.split('-')[0]  # object-1 (the second policy) is served by the object servers
        b = RingBuilder(6, REPLICAS, 1)
        for n in range(REPLICAS):
            port = PORT[node_name(kind, n)]
            b.add_dev({'id': n, 'region': 1, 'zone': n + 1, 'ip': HOST, 'port': port,
                       'replication_ip': HOST, 'replication_port': port,
                       'device': device_name(n), 'weight': 100.0, 'meta': ''})
        b.rebalance()
        b.save(os.path.join(SWIFT_DIR, ring + '.builder'))
        b.get_ring().save(os.path.join(SWIFT_DIR, ring + '.ring.gz'))
    write(marker, params)
    say('built rings (part power 6, %d replica%s)' % (REPLICAS, 's' if REPLICAS > 1 else ''))


def init_keystone(creds):
    """Starts keystone_init.py (schema, keys, bootstrap) in the background unless it ran for these
    credentials before; returns a function that waits for it."""
    marker = os.path.join(KS_DIR, 'initialized')
    stamp = hashlib.sha256(('v1 ' + creds['admin_password']).encode()).hexdigest()
    try:
        with open(marker) as f:
            if f.read().strip() == stamp and os.path.exists(os.path.join(KS_DIR, 'keystone.db')):
                return lambda: None
    except OSError:
        pass
    say('initialising Keystone (database, fernet and credential keys, bootstrap)')
    for name in ('keystone.db', 'keystone.db-wal', 'keystone.db-shm', 'setup.done', 'initialized'):
        if os.path.exists(os.path.join(KS_DIR, name)):
            os.unlink(os.path.join(KS_DIR, name))
    for d in ('fernet-keys', 'credential-keys'):
        shutil.rmtree(os.path.join(KS_DIR, d), ignore_errors=True)
    log = os.path.join(LOGS, 'keystone-init.log')
    with open(log, 'ab') as lf:
        p = subprocess.Popen([PY, os.path.join(HERE, 'keystone_init.py'),
                              os.path.join(KS_DIR, 'keystone.conf'), REGION1, KEYSTONE_URL],
                             stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, cwd=KS_DIR,
                             env=dict(os.environ, OS_BOOTSTRAP_PASSWORD=creds['admin_password']))

    def finish():
        if p.wait() != 0:
            raise Fail('Keystone initialisation failed (exit %d); log %s:\n%s'
                       % (p.returncode, log, log_tail(log)))
        # WAL lets one Keystone process read while the other writes ("database is locked").
        db = sqlite3.connect(os.path.join(KS_DIR, 'keystone.db'))
        db.execute('PRAGMA journal_mode=WAL')
        db.close()
        write(marker, stamp + '\n')
    return finish


def setup_keystone(creds):
    """Regions, endpoints, domains, projects, users, roles: again whenever they or the script change."""
    doc = keystone_setup_doc(creds)
    script = os.path.join(HERE, 'keystone_setup.py')
    with open(script, 'rb') as f:
        stamp = hashlib.sha256(json.dumps(doc, sort_keys=True).encode() + f.read()).hexdigest()
    marker = os.path.join(KS_DIR, 'setup.done')
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read().strip() == stamp:
                return
    path = os.path.join(KS_DIR, 'setup.json')
    write(path, json.dumps(doc))
    log = os.path.join(LOGS, 'keystone-setup.log')
    with open(log, 'ab') as lf:
        rc = subprocess.call([PY, script, path], stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
    os.unlink(path)
    if rc != 0:
        raise Fail('Keystone setup failed; log %s:\n%s\nKeystone log:\n%s' % (
            log, log_tail(log), log_tail(os.path.join(LOGS, 'keystone.log'))))
    write(marker, stamp + '\n')
    say('Keystone setup done (regions, endpoints, domains, projects, users, roles)')


def wait_healthy(svcs):
    deadline = time.time() + START_TIMEOUT
    for svc in svcs:
        while not svc.health():
            if svc.proc.poll() is not None:
                raise Fail('%s exited during start (exit %s); log %s:\n%s' % (
                    svc.name, svc.proc.returncode, svc.log, log_tail(svc.log)))
            if time.time() > deadline:
                raise Fail('%s did not answer within %.0f s; log %s:\n%s' % (
                    svc.name, START_TIMEOUT, svc.log, log_tail(svc.log)))
            time.sleep(0.1)
        say('%s is up%s' % (svc.name, ' on %s:%d' % (HOST, svc.port) if svc.port else ''))


def end_to_end_check(creds):
    """A real token for OSD_USER opens the account on both proxies, and v2 works with its API key."""
    st, h, raw = http('POST', KEYSTONE_URL + '/auth/tokens', {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': USER, 'domain': {'id': 'default'}, 'password': creds['user_password']}}},
        'scope': {'project': {'name': PROJECT, 'domain': {'id': 'default'}}}}})
    if st != 201:
        raise Fail('Keystone refused a token for %s (HTTP %d); log:\n%s' % (
            USER, st, log_tail(os.path.join(LOGS, 'keystone.log'))))
    account = '/v1/AUTH_' + json.loads(raw)['token']['project']['id']
    for name, root in (('proxy1', SWIFT1), ('proxy2', SWIFT2)):
        st = http('HEAD', root + account, headers={'X-Auth-Token': h['X-Subject-Token']})[0]
        if st not in (200, 204):
            raise Fail('%s answered HTTP %d to HEAD of the account with a valid token; log:\n%s'
                       % (name, st, log_tail(os.path.join(LOGS, name + '.log'))))
    st = http('POST', V2_URL + '/tokens', {'auth': {'RAX-KSKEY:apiKeyCredentials': {
        'username': USER, 'apiKey': creds['user_apikey']}, 'tenantName': PROJECT}})[0]
    if st != 200:
        raise Fail('the v2 front end refused the API key (HTTP %d); log:\n%s' % (
            st, log_tail(os.path.join(LOGS, 'v2.log'))))


# ------------------------------------------------------------------------------------ TLS

TLS_CA_CONF = """[ca]
default_ca = testca

[testca]
dir = {d}/ca-db
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none

[anything]
commonName = supplied
"""
# what each server certificate holds: (common name, subjectAltName, dates for `openssl ca`)
TLS_CERTS = {'localhost': (TLS_HOST, 'DNS:%s,IP:%s' % (TLS_HOST, HOST), ['-days', '3650']),
             'other': (TLS_OTHER_HOST, 'DNS:%s' % TLS_OTHER_HOST, ['-days', '3650']),
             'expired': (TLS_HOST, 'DNS:%s,IP:%s' % (TLS_HOST, HOST),
                         ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'])}
TLS_VERSION = 'v1 ec-p256 ' + json.dumps(TLS_CERTS, sort_keys=True)


def openssl(*args):
    p = subprocess.run(['openssl'] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       cwd=TLS_DIR)
    if p.returncode != 0:
        raise Fail('openssl %s failed: %s' % (args[0], p.stderr.decode('utf-8', 'replace')[-800:]))


def make_tls_certs():
    """The test CA and the server certificates, made once (again when TLS_CERTS changes)."""
    marker = os.path.join(TLS_DIR, 'made')
    names = ['ca.crt', 'ca.key'] + ['%s.%s' % (n, e) for n in TLS_CERTS for e in ('crt', 'key')]
    try:
        with open(marker) as f:
            if f.read() == TLS_VERSION and all(os.path.exists(os.path.join(TLS_DIR, n))
                                               for n in names):
                return
    except OSError:
        pass
    shutil.rmtree(TLS_DIR, ignore_errors=True)
    os.makedirs(os.path.join(TLS_DIR, 'ca-db'), mode=0o700)
    os.chmod(TLS_DIR, 0o755)
    ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    openssl('req', '-x509', *ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650',
            '-subj', '/CN=openstack-dest test bed CA',
            '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    write(os.path.join(TLS_DIR, 'ca.conf'), TLS_CA_CONF.format(d=TLS_DIR))
    write(os.path.join(TLS_DIR, 'ca-db', 'index.txt'), '')
    write(os.path.join(TLS_DIR, 'ca-db', 'serial'), '1000\n')
    for name, (cn, san, dates) in TLS_CERTS.items():
        write(os.path.join(TLS_DIR, name + '.ext'), (
            'subjectAltName = %s\nbasicConstraints = CA:FALSE\n'
            'keyUsage = critical, digitalSignature, keyEncipherment\n'
            'extendedKeyUsage = serverAuth\n' % san))
        openssl('req', '-new', *ec, '-keyout', name + '.key', '-out', name + '.csr',
                '-subj', '/CN=' + cn)
        openssl('ca', '-batch', '-notext', '-config', 'ca.conf', '-cert', 'ca.crt',
                '-keyfile', 'ca.key', '-in', name + '.csr', '-out', name + '.crt',
                '-extfile', name + '.ext', *dates)
    for n in os.listdir(TLS_DIR):
        if n.endswith('.key'):
            os.chmod(os.path.join(TLS_DIR, n), 0o600)
    write(marker, TLS_VERSION)
    say('made the test CA and server certificates in %s' % TLS_DIR)


def tls_fingerprint(name):
    """SHA-256 of the DER of a server certificate, lowercase hex."""
    import ssl
    with open(os.path.join(TLS_DIR, name + '.crt')) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


STUNNEL_CONF = """; written by tests/openstack/testbed.py: TLS in front of 127.0.0.1:{backend}
foreground = yes
pid =
syslog = no
debug = notice

[{name}]
accept = {host}:{port}
connect = {host}:{backend}
cert = {d}/{cert}.crt
key = {d}/{cert}.key
sslVersionMin = TLSv1.2
"""


def tls_configs():
    """{path: text} of the stunnel configurations."""
    return {os.path.join(TLS_DIR, name + '.stunnel.conf'): STUNNEL_CONF.format(
        name=name, host=HOST, port=port, backend=backend, d=TLS_DIR, cert=cert)
        for name, (port, backend, cert) in TLS_SERVICES.items()}


def tls_context(check='full'):
    """'full': the test CA and the host name; 'chain': the CA only; 'none': no verification
    (used only to see that the expired certificate's port answers)."""
    import ssl
    if check == 'none':
        return ssl._create_unverified_context()
    ctx = ssl.create_default_context(cafile=os.path.join(TLS_DIR, 'ca.crt'))
    ctx.check_hostname = check == 'full'
    return ctx


def tls_get_ok(url, check):
    try:
        with urllib.request.urlopen(url, timeout=2, context=tls_context(check)) as r:
            return r.status == 200
    except Exception:
        return False


def tls_services():
    stunnel = '/usr/bin/stunnel4'
    svcs = []
    for name, (port, backend, cert) in TLS_SERVICES.items():
        conf = os.path.join(TLS_DIR, name + '.stunnel.conf')
        path = '/v3' if backend == PORT['keystone'] else '/healthcheck'
        check = {'localhost': 'full', 'other': 'chain', 'expired': 'none'}[cert]
        url = 'https://%s:%d%s' % (TLS_HOST, port, path)
        svcs.append(Service(name, [stunnel, conf], [conf, os.path.join(TLS_DIR, cert + '.crt')],
                            lambda url=url, check=check: tls_get_ok(url, check)))
    return svcs


def tls_check(creds):
    """A token from Keystone over https opens the account on Swift over https (RegionTLS)."""
    body = json.dumps({'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': USER, 'domain': {'id': 'default'}, 'password': creds['user_password']}}},
        'scope': {'project': {'name': PROJECT, 'domain': {'id': 'default'}}}}}).encode()
    req = urllib.request.Request(KEYSTONE_TLS_URL + '/auth/tokens', data=body, method='POST',
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=30, context=tls_context()) as r:
            token, doc = r.headers['X-Subject-Token'], json.loads(r.read())
        urls = [e['url'] for s in doc['token']['catalog'] if s['type'] == 'object-store'
                for e in s['endpoints'] if e['region_id'] == REGION_TLS and e['interface'] == 'public']
        req = urllib.request.Request(urls[0], method='HEAD', headers={'X-Auth-Token': token})
        with urllib.request.urlopen(req, timeout=30, context=tls_context()) as r:
            if r.status not in (200, 204):
                raise Fail('HTTP %d' % r.status)
    except (Fail, OSError, ValueError, KeyError, IndexError) as e:
        raise Fail('Keystone over https with Swift over https (%s) failed: %s; logs in %s'
                   % (REGION_TLS, e, LOGS))


def tls_exports():
    return [('OSD_CA_FILE', os.path.join(TLS_DIR, 'ca.crt')),
            ('OSD_AUTH_V3_TLS', KEYSTONE_TLS_URL), ('OSD_REGION_TLS', REGION_TLS),
            ('OSD_SWIFT_TLS', SWIFT_TLS), ('OSD_SWIFT_TLS_OTHER_HOST', SWIFT_TLS_OTHER),
            ('OSD_TLS_OTHER_HOSTNAME', TLS_OTHER_HOST),
            ('OSD_SWIFT_TLS_EXPIRED', SWIFT_TLS_EXPIRED),
            ('OSD_TLS_FINGERPRINT', tls_fingerprint('localhost')),
            ('OSD_TLS_FINGERPRINT_OTHER_HOST', tls_fingerprint('other'))]
# ---- end TLS


# ------------------------------------------------------------------------------------ commands

def check_xattr():
    probe = os.path.join(STATE, '.xattr-check')
    open(probe, 'w').close()
    try:
        os.setxattr(probe, 'user.osd.check', b'1')
    except OSError as e:
        raise Fail('the filesystem of %s does not support user extended attributes (%s), which '
                   "Swift's object server needs. Point OSD_STATE_DIR at a directory on "
                   'ext4/xfs/btrfs/tmpfs (mounted with user_xattr), e.g. '
                   'OSD_STATE_DIR=/dev/shm/osd-testbed.' % (STATE, e))
    finally:
        os.unlink(probe)


def cmd_start():
    if REPLICAS not in (1, MAX_NODES):
        raise Fail('OSD_REPLICAS must be 1 or %d, not %d' % (MAX_NODES, REPLICAS))
    for d in [SWIFT_DIR, KS_DIR, RUN, LOGS, os.path.join(STATE, 'cache')] + [
            os.path.join(DEVICES, device_name(n)) for n in range(REPLICAS)]:
        os.makedirs(d, exist_ok=True)
    check_xattr()
    expiration = token_expiration()
    creds = load_creds()
    say('state directory %s (token lifetime %d s)' % (STATE, expiration))
    for name, text in swift_configs(creds, expiration).items():
        write(os.path.join(SWIFT_DIR, name), text)
    write(os.path.join(KS_DIR, 'keystone.conf'), KEYSTONE_CONF.format(
        ks=KS_DIR, exp=expiration, host=HOST, mc=PORT['memcached']))
    write(KEYS_FILE, json.dumps(apikeys_doc(creds), indent=1) + '\n')
    make_tls_certs()  # TLS
    for path, text in tls_configs().items():
        write(path, text)
    build_rings()
    svcs = services()
    for name in ORDER:
        if name not in svcs:  # the nodes of another OSD_REPLICAS
            stop(name)
    decisions = {name: prepare(svcs[name]) for name in ORDER if name in svcs}
    if decisions['memcached'] == 'start':  # Keystone's initialisation uses it
        svcs['memcached'].launch()
    keystone_initialised = init_keystone(creds)
    for name in ORDER[1:]:
        if name == 'keystone':
            keystone_initialised()
        if decisions.get(name) == 'start':
            svcs[name].launch()
    reused = [n for n in ORDER if decisions.get(n) == 'reuse']
    if reused:
        say('reusing running %s' % ', '.join(reused))
    wait_healthy([svcs[n] for n in ORDER if decisions.get(n) == 'start'])
    setup_keystone(creds)
    end_to_end_check(creds)
    tls_check(creds)  # TLS
    write(ENV_FILE, env_text(creds, expiration))
    say('test bed ready in %.1f s; settings in %s' % (time.time() - T0, ENV_FILE))
    sys.stdout.write(env_text(creds, expiration))


def cmd_stop():
    stopped = [name for name in reversed(ORDER) if stop(name) is not None]
    say('stopped: %s' % (', '.join(stopped) or 'nothing was running'))


def cmd_status():
    ok = True
    for svc in services().values():
        pid, up = our_pid(svc.name), svc.health()
        who = 'pid %d' % pid if pid else 'not started by this test bed' if up else 'not running'
        where = '%s:%d' % (HOST, svc.port) if svc.port else '-'
        print('%-18s %-16s %-8s %s' % (svc.name, where, 'up' if up else 'DOWN', who))
        ok = ok and up
    print('state directory: %s' % STATE)
    return 0 if ok else 3


def cmd_node_stop():
    """Stops the storage servers of one node (1-3) of a 3-replica test bed, as a node failing."""
    arg = sys.argv[2] if len(sys.argv) > 2 else ''
    if REPLICAS < 2 or arg not in [str(n + 1) for n in range(REPLICAS)]:
        raise Fail('node-stop N needs N from 1 to %d and a test bed started with OSD_REPLICAS=%d'
                   % (MAX_NODES, MAX_NODES))
    n = int(arg) - 1
    stopped = [node_name(k, n) for k in STORAGE if stop(node_name(k, n)) is not None]
    say('stopped node %d: %s (start brings it back)' % (n + 1, ', '.join(stopped) or 'nothing ran'))


def cmd_env():
    if not os.path.exists(ENV_FILE):
        raise Fail('no %s yet: run "bash tests/openstack/testbed.sh start" first' % ENV_FILE)
    with open(ENV_FILE) as f:
        sys.stdout.write(f.read())


def cmd_clean():
    """stop, then remove what this test bed wrote in the state directory (and nothing else)."""
    cmd_stop()
    for name in ('etc', 'srv', 'cache', 'keystone', 'run', 'log', 'tls', 'credentials.json',
                 'apikeys.json', 'env.sh', 'apt-install.log', '.xattr-check'):
        path = os.path.join(STATE, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)
    if os.path.isdir(STATE) and not os.listdir(STATE):
        os.rmdir(STATE)
    say('removed the test bed state in %s' % STATE)


def main():
    commands = {'start': cmd_start, 'stop': cmd_stop, 'status': cmd_status, 'env': cmd_env,
                'clean': cmd_clean, 'restart': lambda: cmd_stop() or cmd_start(),
                'node-stop': cmd_node_stop}
    cmd = commands.get(sys.argv[1] if len(sys.argv) > 1 else '')
    if cmd is None:
        sys.stderr.write('usage: testbed.py start|stop|status|env|restart|clean\n')
        return 2
    try:
        return cmd() or 0
    except Fail as e:
        say('ERROR: %s' % e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
