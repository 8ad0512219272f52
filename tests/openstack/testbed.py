#!/usr/bin/python3
"""Start/stop/inspect the test bed: Swift (2 proxies, 2 regions) + Keystone v3 + v2 front end.

Called by testbed.sh (which installs the Debian packages first):
    testbed.py start|stop|status|env|restart

Everything lives under $OSD_STATE_DIR (default /tmp/openstack-dest-testbed):
    etc/swift/   swift.conf, server configs, rings     srv/node/d1/  Swift's storage
    keystone/    keystone.conf, sqlite db, key repos     run/          pid files (JSON)
    log/         one log per server                      env.sh        the OSD_* exports
    credentials.json, apikeys.json (mode 0600)
A pid file records the pid and the process start time, so a reused pid is never taken for ours.
"""
import hashlib
import json
import os
import secrets
import shlex
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
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

NAMES = {
    'user': 'osd-user', 'project': 'osd-project',
    'domain2': 'osd-domain2', 'user2': 'osd-user2', 'project2': 'osd-project2',
    'reader': 'osd-reader', 'admin': 'admin', 'admin_project': 'admin',
    'swift': 'swift', 'service_project': 'service',
}
START_TIMEOUT = float(os.environ.get('OSD_START_TIMEOUT', '120'))
T0 = time.time()


class Fail(Exception):
    pass


def say(msg):
    sys.stderr.write('testbed: [%5.1fs] %s\n' % (time.time() - T0, msg))
    sys.stderr.flush()


def log_tail(path, n=40):
    try:
        with open(path, 'rb') as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            lines = f.read().decode('utf-8', 'replace').splitlines()[-n:]
    except OSError:
        return '(no log at %s)' % path
    return '\n'.join('    | ' + l for l in lines)


# --------------------------------------------------------------------------- processes

def proc_stat(pid):
    """(state, starttime) of a process, or None if it does not exist."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    rest = data[data.rindex(')') + 2:].split()
    return rest[0], rest[19]


def proc_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] not in ('Z', 'X')


def proc_gone(pid):
    """True once the process has released everything: a zombie thread-group leader whose
    other threads still run keeps its files (listening sockets included) open."""
    st = proc_stat(pid)
    if st is None:
        return True
    if st[0] not in ('Z', 'X'):
        return False
    try:
        return len(os.listdir('/proc/%d/task' % pid)) <= 1
    except OSError:
        return True


def proc_cmdline(pid):
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
        return None


def our_pid(name):
    """The pid of our running process for service `name`, or None."""
    info = read_pidfile(name)
    if not info:
        return None
    pid = info.get('pid')
    st = proc_stat(pid) if isinstance(pid, int) else None
    if st is None or st[0] in ('Z', 'X') or st[1] != info.get('start'):
        return None
    return pid


def listeners(port):
    """[(pid, cmdline)] of the processes listening on TCP `port` (any local address)."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == '0A' and int(parts[1].rsplit(':', 1)[1], 16) == port:
                        inodes.add('socket:[%s]' % parts[9])
        except OSError:
            pass
    found = []
    if not inodes:
        return found
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            fds = os.listdir('/proc/%s/fd' % d)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink('/proc/%s/fd/%s' % (d, fd)) in inodes:
                    found.append((int(d), proc_cmdline(int(d))))
                    break
            except OSError:
                continue
    return found


def port_in_use(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect((HOST, port))
        return True
    except OSError:
        return bool(listeners(port))
    finally:
        s.close()


def stop_pid(name, pid, timeout=10.0):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline and not proc_gone(pid):
        time.sleep(0.05)
    if not proc_gone(pid):
        say('%s (pid %d) did not stop on SIGTERM; sending SIGKILL' % (name, pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Servers run in their own session (pgid == pid); end what is left of that group only.
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    # Reap it if it happens to be our child.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    deadline = time.time() + 5
    while time.time() < deadline and not proc_gone(pid):
        time.sleep(0.05)


def stop_service(name):
    pid = our_pid(name)
    if pid is not None:
        say('stopping %s (pid %d)' % (name, pid))
        stop_pid(name, pid)
    try:
        os.unlink(pidfile(name))
    except FileNotFoundError:
        pass
    return pid


def launch(svc):
    os.makedirs(RUN, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)
    log = open(svc.log, 'ab')
    log.write(('\n==== %s start %s\n' % (svc.name, time.strftime('%Y-%m-%d %H:%M:%S'))).encode())
    log.flush()
    env = dict(os.environ)
    env.update(svc.env)
    p = subprocess.Popen(svc.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         env=env, cwd=STATE, start_new_session=True, close_fds=True)
    log.close()
    st = proc_stat(p.pid)
    with open(pidfile(svc.name) + '.tmp', 'w') as f:
        json.dump({'pid': p.pid, 'start': st[1] if st else None, 'hash': svc.hash,
                   'port': svc.port, 'argv': svc.argv[:2]}, f)
    os.replace(pidfile(svc.name) + '.tmp', pidfile(svc.name))
    svc.proc = p
    return p


# --------------------------------------------------------------------------- health checks

def http_ok(url, expect=(200,), timeout=2.0):
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as r:
            r.read()
            return r.status in expect
    except urllib.error.HTTPError as e:
        return e.code in expect
    except Exception:
        return False


def memcached_ok(timeout=1.0):
    try:
        with socket.create_connection((HOST, PORT['memcached']), timeout=timeout) as s:
            s.sendall(b'version\r\n')
            return s.recv(64).startswith(b'VERSION')
    except OSError:
        return False


# --------------------------------------------------------------------------- settings

def write_private(path, text):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_if_changed(path, text, private=False):
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    if private:
        write_private(path, text)
    else:
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)
    return True


def gen_secret(prefix):
    alphabet = string.ascii_letters + string.digits
    return prefix + '-' + ''.join(secrets.choice(alphabet) for _ in range(22))


def load_creds():
    try:
        with open(CREDS_FILE) as f:
            creds = json.load(f)
    except (OSError, ValueError):
        creds = {}
    wanted = {
        'admin_password': 'Pw', 'swift_password': 'Pw', 'user_password': 'Pw',
        'user_apikey': 'Key', 'user2_password': 'Pw', 'reader_password': 'Pw',
        'reader_apikey': 'Key', 'admin_apikey': 'Key', 'hash_suffix': 'Hs',
    }
    changed = False
    for k, prefix in wanted.items():
        if not creds.get(k):
            creds[k] = gen_secret(prefix)
            changed = True
    if changed:
        write_private(CREDS_FILE, json.dumps(creds, indent=1) + '\n')
    return creds


def token_expiration():
    raw = os.environ.get('OSD_TOKEN_EXPIRATION', '3600')
    try:
        v = int(raw)
    except ValueError:
        raise Fail('OSD_TOKEN_EXPIRATION must be a number of seconds, not %r' % raw)
    if v < 5:
        raise Fail('OSD_TOKEN_EXPIRATION must be at least 5 seconds')
    return v


def updater_interval():
    v = int(os.environ.get('OSD_UPDATER_INTERVAL', '10'))
    return max(10, v)


def env_exports(creds, expiration):
    return [
        ('OSD_STATE_DIR', STATE),
        ('OSD_AUTH_V3', KEYSTONE_URL),
        ('OSD_AUTH_V2', V2_URL),
        ('OSD_REGION1', REGION1),
        ('OSD_REGION2', REGION2),
        ('OSD_SWIFT1', SWIFT1),
        ('OSD_SWIFT2', SWIFT2),
        ('OSD_DOMAIN', 'Default'),
        ('OSD_USER', NAMES['user']),
        ('OSD_PASSWORD', creds['user_password']),
        ('OSD_APIKEY', creds['user_apikey']),
        ('OSD_PROJECT', NAMES['project']),
        ('OSD_DOMAIN2', NAMES['domain2']),
        ('OSD_USER2', NAMES['user2']),
        ('OSD_PASSWORD2', creds['user2_password']),
        ('OSD_PROJECT2', NAMES['project2']),
        ('OSD_READER_USER', NAMES['reader']),
        ('OSD_READER_PASSWORD', creds['reader_password']),
        ('OSD_ADMIN_USER', NAMES['admin']),
        ('OSD_ADMIN_PASSWORD', creds['admin_password']),
        ('OSD_ADMIN_PROJECT', NAMES['admin_project']),
        ('OSD_TOKEN_EXPIRATION', str(expiration)),
    ]


def env_text(creds, expiration):
    lines = ['# written by tests/openstack/testbed.sh; source it to reach the test bed']
    lines += ['export %s=%s' % (k, shlex.quote(v)) for k, v in env_exports(creds, expiration)]
    return '\n'.join(lines) + '\n'


SERVER_COMMON = """[DEFAULT]
bind_ip = {host}
bind_port = {port}
workers = 0
user = {user}
swift_dir = {swift_dir}
devices = {devices}
mount_check = false
log_name = {name}
log_level = INFO
fallocate_reserve = 0
recon_cache_path = {recon}
"""


def swift_configs(creds, expiration):
    user = pwd_name()[0]
    c = {}
    c['swift.conf'] = """[swift-hash]
swift_hash_path_prefix = osd-testbed
swift_hash_path_suffix = {suffix}

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
# Lower than Swift's default (10000), so that listing tests cross page boundaries with a few
# hundred objects and a client that asks for more than the cluster allows is caught (412).
container_listing_limit = 200
""".format(suffix=creds['hash_suffix'])
    common = dict(host=HOST, user=user, swift_dir=SWIFT_DIR, devices=DEVICES,
                  recon=os.path.join(STATE, 'cache'))
    c['account-server.conf'] = SERVER_COMMON.format(port=PORT['account'], name='account-server',
                                                    **common) + """
[pipeline:main]
pipeline = healthcheck account-server

[app:account-server]
use = egg:swift#account

[filter:healthcheck]
use = egg:swift#healthcheck
"""
    c['container-server.conf'] = SERVER_COMMON.format(
        port=PORT['container'], name='container-server', **common) + """
[pipeline:main]
pipeline = healthcheck container-server

[app:container-server]
use = egg:swift#container

[filter:healthcheck]
use = egg:swift#healthcheck

[container-updater]
interval = {interval}
concurrency = 1
log_name = container-updater
""".format(interval=updater_interval())
    c['object-server.conf'] = SERVER_COMMON.format(port=PORT['object'], name='object-server',
                                                   **common) + """
[pipeline:main]
pipeline = healthcheck object-server

[app:object-server]
use = egg:swift#object

[filter:healthcheck]
use = egg:swift#healthcheck
"""
    for idx, region in ((1, REGION1), (2, REGION2)):
        c['proxy-server-%d.conf' % idx] = SERVER_COMMON.format(
            port=PORT['proxy%d' % idx], name='proxy-server-%d' % idx, **common) + """
# proxy for {region}; both proxies share the rings. authtoken looks Keystone up in RegionOne.
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit formpost authtoken keystoneauth staticweb copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
object_chunk_size = 1048576
client_chunk_size = 1048576

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {keystone}
auth_url = {keystone}
auth_type = password
interface = public
region_name = {region1}
username = {swift_user}
password = {swift_password}
project_name = {service_project}
user_domain_id = default
project_domain_id = default
memcached_servers = {host}:{memcached}
token_cache_time = {cache_time}
delay_auth_decision = true
include_service_catalog = false
http_connect_timeout = 30
http_request_max_retries = 3

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = ResellerAdmin
allow_overrides = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging
# tokens are secrets: keep them out of the access log entirely
reveal_sensitive_prefix = 0

[filter:cache]
use = egg:swift#memcache
memcache_servers = {host}:{memcached}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl

[filter:ratelimit]
use = egg:swift#ratelimit

[filter:formpost]
use = egg:swift#formpost

[filter:staticweb]
use = egg:swift#staticweb

[filter:copy]
use = egg:swift#copy

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:account-quotas]
use = egg:swift#account_quotas

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes

[filter:symlink]
use = egg:swift#symlink
""".format(region=region, region1=REGION1, keystone=KEYSTONE_URL, host=HOST,
           memcached=PORT['memcached'], swift_user=NAMES['swift'],
           swift_password=creds['swift_password'], service_project=NAMES['service_project'],
           cache_time=max(5, min(300, expiration // 2)))
    return c


def keystone_conf(expiration):
    return """[DEFAULT]
use_stderr = true
debug = false

[database]
connection = sqlite:///{db}

[token]
provider = fernet
expiration = {exp}

[fernet_tokens]
key_repository = {ks}/fernet-keys
max_active_keys = 3

[fernet_receipts]
key_repository = {ks}/fernet-keys

[credential]
key_repository = {ks}/credential-keys

[identity]
# fast password hashing: this Keystone holds throw-away test users only
password_hash_rounds = 4

[cache]
# shared by both Keystone processes, so invalidations reach both
enabled = true
backend = dogpile.cache.memcached
memcache_servers = {host}:{mc}
expiration_time = 600
""".format(db=os.path.join(KS_DIR, 'keystone.db'), exp=expiration, ks=KS_DIR, host=HOST,
           mc=PORT['memcached'])


def pwd_name():
    import grp
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def keystone_setup_doc(creds):
    r = NAMES
    return {
        'keystone': KEYSTONE_URL,
        'admin_user': r['admin'], 'admin_password': creds['admin_password'],
        'admin_project': r['admin_project'],
        'regions': [REGION1, REGION2],
        'object_store': {REGION1: SWIFT1 + '/v1/AUTH_$(project_id)s',
                         REGION2: SWIFT2 + '/v1/AUTH_$(project_id)s'},
        'users': [
            {'name': r['swift'], 'password': creds['swift_password'],
             'project': r['service_project'], 'roles': ['admin', 'service']},
            {'name': r['user'], 'password': creds['user_password'], 'project': r['project'],
             'roles': ['member']},
            {'name': r['reader'], 'password': creds['reader_password'],
             'project': r['project'], 'roles': ['reader']},
            {'name': r['user2'], 'password': creds['user2_password'], 'domain': r['domain2'],
             'project': r['project2'], 'roles': ['member']},
            {'name': r['admin'], 'password': creds['admin_password'],
             'project': r['admin_project'], 'roles': ['admin', 'ResellerAdmin']},
        ],
    }


def apikeys_doc(creds):
    return {'users': {
        NAMES['user']: {'apikey': creds['user_apikey'], 'password': creds['user_password']},
        NAMES['reader']: {'apikey': creds['reader_apikey'],
                          'password': creds['reader_password']},
        NAMES['admin']: {'apikey': creds['admin_apikey'], 'password': creds['admin_password']},
    }}


# --------------------------------------------------------------------------- services

class Service:
    def __init__(self, name, port, argv, files=(), env=None, health=None):
        self.name = name
        self.port = port
        self.argv = argv
        self.env = env or {}
        self.log = os.path.join(LOGS, name + '.log')
        self.health = health
        self.proc = None
        h = hashlib.sha256(json.dumps([argv, sorted(self.env.items())]).encode())
        for path in files:
            with open(path, 'rb') as f:
                h.update(f.read())
        self.hash = h.hexdigest()

    def healthy(self):
        return self.health() if self.health else proc_alive(our_pid(self.name) or -1)


def uwsgi_binary():
    for b in ('/usr/bin/uwsgi', '/usr/bin/uwsgi-core'):
        if os.path.exists(b):
            return b
    raise Fail('uwsgi is not installed (package uwsgi-core)')


def build_services():
    sw = lambda kind, conf: [PY, os.path.join(HERE, 'swift_server.py'), SWIFT_DIR, kind,
                             os.path.join(SWIFT_DIR, conf)]
    swift_conf = os.path.join(SWIFT_DIR, 'swift.conf')
    rings = [os.path.join(SWIFT_DIR, r + '.ring.gz') for r in ('account', 'container', 'object')]
    hc = lambda port: (lambda: http_ok('http://%s:%d/healthcheck' % (HOST, port)))
    svcs = []
    for kind in ('account', 'container', 'object'):
        conf = kind + '-server.conf'
        svcs.append(Service(kind, PORT[kind], sw(kind, conf),
                            [swift_conf, os.path.join(SWIFT_DIR, conf)] + rings,
                            health=hc(PORT[kind])))
    svcs.append(Service('container-updater', None, sw('container-updater', 'container-server.conf'),
                        [swift_conf, os.path.join(SWIFT_DIR, 'container-server.conf')] + rings))
    for i in (1, 2):
        conf = 'proxy-server-%d.conf' % i
        svcs.append(Service('proxy%d' % i, PORT['proxy%d' % i], sw('proxy', conf),
                            [swift_conf, os.path.join(SWIFT_DIR, conf)] + rings,
                            health=hc(PORT['proxy%d' % i])))
    ks_conf = os.path.join(KS_DIR, 'keystone.conf')
    svcs.append(Service(
        'keystone', PORT['keystone'],
        # uwsgi's HTTP router takes the client connections (keep-alive included) and hands
        # each request to a free worker: with --http11-socket a client that keeps its
        # connection open pins one of the two workers and others queue behind it.
        [uwsgi_binary(), '--plugin', 'python3,http',
         '--http', '%s:%d' % (HOST, PORT['keystone']), '--http-keepalive',
         '--http-auto-chunked', '--http-timeout', '120',
         '--socket', os.path.join(RUN, 'keystone.sock'), '--chmod-socket=600',
         '--wsgi-file', '/usr/bin/keystone-wsgi-public', '--need-app',
         '--master', '--processes', '2', '--die-on-term',
         '--buffer-size', '65535', '--ignore-sigpipe', '--ignore-write-errors',
         '--disable-write-exception', '--env', 'OS_KEYSTONE_CONFIG_FILES=' + ks_conf],
        [ks_conf], health=lambda: http_ok(KEYSTONE_URL)))
    svcs.append(Service(
        'v2', PORT['v2'],
        [PY, os.path.join(HERE, 'v2_frontend.py'), '--listen', '%s:%d' % (HOST, PORT['v2']),
         '--keystone', KEYSTONE_URL, '--keys', KEYS_FILE],
        [os.path.join(HERE, 'v2_frontend.py')], health=lambda: http_ok(V2_URL)))
    return {s.name: s for s in svcs}


def foreign_message(port, owners):
    if owners:
        who = '; '.join('pid %d: %s' % (pid, cmd[:200]) for pid, cmd in owners)
    else:
        who = 'a process this user cannot see'
    return ('port %d on %s is taken by another process (%s). Stop it, or if it is a test bed '
            'with another OSD_STATE_DIR, stop that one (OSD_STATE_DIR=... bash '
            'tests/openstack/testbed.sh stop).' % (port, HOST, who))


def healthy_soon(svc, tries=4, pause=1.0):
    """A busy server may miss one health check: ask a few times before giving up."""
    for i in range(tries):
        if svc.healthy():
            return True
        if i + 1 < tries:
            time.sleep(pause)
    return False


def prepare(svc):
    """Decide for one service: 'reuse' it, or clear the way to 'start' it. Raises Fail."""
    pid = our_pid(svc.name)
    if pid is not None:
        info = read_pidfile(svc.name)
        if info.get('hash') == svc.hash and healthy_soon(svc):
            return 'reuse'
        why = 'settings changed' if info.get('hash') != svc.hash else 'not healthy'
        say('restarting %s (pid %d): %s' % (svc.name, pid, why))
        stop_service(svc.name)
    elif read_pidfile(svc.name):
        os.unlink(pidfile(svc.name))  # stale pid file
    if svc.port is not None and port_in_use(svc.port):
        # a server that was just stopped may need a moment to let go of its port
        deadline = time.time() + 3
        while time.time() < deadline and port_in_use(svc.port) and not listeners(svc.port):
            time.sleep(0.1)
    if svc.port is not None and port_in_use(svc.port):
        owners = listeners(svc.port)
        stale = [pid for pid, cmd in owners if STATE + '/' in cmd + ' ' or STATE + ' ' in cmd + ' ']
        if owners and len(stale) == len(owners):
            for pid in stale:
                # Our servers lead their own process group (uwsgi's HTTP router is a child).
                try:
                    leader = os.getpgid(pid)
                except ProcessLookupError:
                    continue
                if leader != pid and (STATE + '/') not in proc_cmdline(leader):
                    leader = pid
                say('port %d is held by an earlier run of this test bed without a pid file '
                    '(pid %d); stopping it' % (svc.port, leader))
                stop_pid(svc.name, leader)
            if not port_in_use(svc.port):
                return 'start'
            owners = listeners(svc.port)
        raise Fail(foreign_message(svc.port, owners))
    return 'start'


def ensure_memcached():
    pid = our_pid('memcached')
    if pid is not None and memcached_ok():
        return 'reuse'
    if pid is not None:
        stop_service('memcached')
    elif read_pidfile('memcached'):
        os.unlink(pidfile('memcached'))
    if port_in_use(PORT['memcached']):
        if memcached_ok():
            say('memcached already answers on %s:%d (not ours): reusing it'
                % (HOST, PORT['memcached']))
            return 'foreign'
        raise Fail(foreign_message(PORT['memcached'], listeners(PORT['memcached'])))
    argv = ['/usr/bin/memcached', '-l', HOST, '-p', str(PORT['memcached']), '-U', '0',
            '-m', '128', '-c', '1024']
    if os.geteuid() == 0:
        argv += ['-u', 'root']
    svc = Service('memcached', PORT['memcached'], argv, health=memcached_ok)
    launch(svc)
    return svc


def build_rings():
    want = os.path.join(SWIFT_DIR, 'rings.params')
    params = 'part_power=6 replicas=1 ports=%d,%d,%d devices=%s\n' % (
        PORT['account'], PORT['container'], PORT['object'], DEVICES)
    rings_ok = all(os.path.exists(os.path.join(SWIFT_DIR, r + '.ring.gz'))
                   for r in ('account', 'container', 'object'))
    try:
        with open(want) as f:
            if f.read() == params and rings_ok:
                return False
    except OSError:
        pass
    from swift.common.ring import RingBuilder
    for kind in ('account', 'container', 'object'):
        b = RingBuilder(6, 1, 1)
        b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': HOST, 'port': PORT[kind],
                   'replication_ip': HOST, 'replication_port': PORT[kind],
                   'device': 'd1', 'weight': 100.0, 'meta': ''})
        b.rebalance()
        b.save(os.path.join(SWIFT_DIR, kind + '.builder'))
        b.get_ring().save(os.path.join(SWIFT_DIR, kind + '.ring.gz'))
    with open(want, 'w') as f:
        f.write(params)
    return True


def init_keystone(creds):
    """Create Keystone's database and key repositories once (in the background).

    Returns None if that was done before, else (process, marker, stamp)."""
    marker = os.path.join(KS_DIR, 'initialized')
    stamp = hashlib.sha256(('v1 ' + creds['admin_password']).encode()).hexdigest()
    try:
        with open(marker) as f:
            if f.read().strip() == stamp and os.path.exists(os.path.join(KS_DIR, 'keystone.db')):
                return None
    except OSError:
        pass
    say('initialising Keystone (database, fernet and credential keys, bootstrap)')
    for name in ('keystone.db', 'keystone.db-wal', 'keystone.db-shm', 'setup.done',
                 'initialized'):
        try:
            os.unlink(os.path.join(KS_DIR, name))
        except FileNotFoundError:
            pass
    import shutil
    for d in ('fernet-keys', 'credential-keys'):
        shutil.rmtree(os.path.join(KS_DIR, d), ignore_errors=True)
    log = open(os.path.join(LOGS, 'keystone-init.log'), 'ab')
    log.write(('\n==== keystone_init %s\n' % time.strftime('%Y-%m-%d %H:%M:%S')).encode())
    log.flush()
    env = dict(os.environ, OS_BOOTSTRAP_PASSWORD=creds['admin_password'])
    p = subprocess.Popen([PY, os.path.join(HERE, 'keystone_init.py'),
                          os.path.join(KS_DIR, 'keystone.conf'), REGION1, KEYSTONE_URL],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=KS_DIR)
    log.close()
    return p, marker, stamp


def finish_keystone_init(ks_init):
    p, marker, stamp = ks_init
    rc = p.wait()
    log = os.path.join(LOGS, 'keystone-init.log')
    if rc != 0:
        raise Fail('Keystone initialisation failed (exit %d); log %s:\n%s'
                   % (rc, log, log_tail(log)))
    # WAL lets the two Keystone processes read while the other writes (else: "database
    # is locked" when one process holds a read transaction during another's write).
    import sqlite3
    db = sqlite3.connect(os.path.join(KS_DIR, 'keystone.db'))
    db.execute('PRAGMA journal_mode=WAL')
    db.close()
    with open(marker, 'w') as f:
        f.write(stamp + '\n')


def setup_keystone(creds):
    doc = keystone_setup_doc(creds)
    script = os.path.join(HERE, 'keystone_setup.py')
    with open(script, 'rb') as f:
        stamp = hashlib.sha256(json.dumps(doc, sort_keys=True).encode() + f.read()).hexdigest()
    marker = os.path.join(KS_DIR, 'setup.done')
    try:
        with open(marker) as f:
            if f.read().strip() == stamp:
                return False
    except OSError:
        pass
    path = os.path.join(KS_DIR, 'setup.json')
    write_private(path, json.dumps(doc))
    log = os.path.join(LOGS, 'keystone-setup.log')
    with open(log, 'ab') as lf:
        rc = subprocess.call([PY, script, path], stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
    os.unlink(path)
    if rc != 0:
        raise Fail('Keystone setup failed; log %s:\n%s\nKeystone log:\n%s' % (
            log, log_tail(log), log_tail(os.path.join(LOGS, 'keystone.log'))))
    with open(marker, 'w') as f:
        f.write(stamp + '\n')
    return True


def wait_healthy(svcs):
    deadline = time.time() + START_TIMEOUT
    pending = list(svcs)
    while pending:
        for svc in list(pending):
            if svc.proc is not None and svc.proc.poll() is not None:
                raise Fail('%s exited during start (exit %s); log %s:\n%s' % (
                    svc.name, svc.proc.returncode, svc.log, log_tail(svc.log)))
            if svc.healthy():
                pending.remove(svc)
                say('%s is up%s' % (svc.name, ' on %s:%d' % (HOST, svc.port) if svc.port else ''))
        if pending and time.time() > deadline:
            svc = pending[0]
            raise Fail('%s did not answer within %.0f s; log %s:\n%s' % (
                svc.name, START_TIMEOUT, svc.log, log_tail(svc.log)))
        if pending:
            time.sleep(0.1)


def http_json(method, url, body=None, headers=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, r.headers, raw
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def end_to_end_check(creds):
    """A real token for OSD_USER must open the account on both proxies, and v2 must work."""
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': NAMES['user'], 'domain': {'id': 'default'}, 'password': creds['user_password']}}},
        'scope': {'project': {'name': NAMES['project'], 'domain': {'id': 'default'}}}}}
    st, h, raw = http_json('POST', KEYSTONE_URL + '/auth/tokens', body)
    if st != 201:
        raise Fail('Keystone refused a token for %s (HTTP %d); log:\n%s' % (
            NAMES['user'], st, log_tail(os.path.join(LOGS, 'keystone.log'))))
    token = h['X-Subject-Token']
    project_id = json.loads(raw)['token']['project']['id']
    for name, root in (('proxy1', SWIFT1), ('proxy2', SWIFT2)):
        url = '%s/v1/AUTH_%s' % (root, project_id)
        st, _, _ = http_json('HEAD', url, headers={'X-Auth-Token': token})
        if st not in (200, 204):
            raise Fail('%s answered HTTP %d to HEAD of the account with a valid token; log:\n%s'
                       % (name, st, log_tail(os.path.join(LOGS, name + '.log'))))
    st, _, raw = http_json('POST', V2_URL + '/tokens', {'auth': {
        'RAX-KSKEY:apiKeyCredentials': {'username': NAMES['user'], 'apiKey': creds['user_apikey']},
        'tenantName': NAMES['project']}})
    if st != 200:
        raise Fail('the v2 front end refused the API key (HTTP %d); log:\n%s' % (
            st, log_tail(os.path.join(LOGS, 'v2.log'))))


def cmd_start():
    for d in (STATE, SWIFT_DIR, os.path.join(DEVICES, 'd1'), KS_DIR, RUN, LOGS,
              os.path.join(STATE, 'cache')):
        os.makedirs(d, exist_ok=True)
    expiration = token_expiration()
    creds = load_creds()
    say('state directory %s (token lifetime %d s)' % (STATE, expiration))

    # Configuration files (rewritten only when their content changes).
    for name, text in swift_configs(creds, expiration).items():
        write_if_changed(os.path.join(SWIFT_DIR, name), text, private=True)
    write_if_changed(os.path.join(KS_DIR, 'keystone.conf'), keystone_conf(expiration),
                     private=True)
    write_if_changed(KEYS_FILE, json.dumps(apikeys_doc(creds), indent=1) + '\n', private=True)

    if build_rings():
        say('built rings (part power 6, 1 replica)')
    svcs = build_services()
    decisions = {}
    for name in ('account', 'container', 'object', 'container-updater', 'proxy1', 'proxy2',
                 'keystone', 'v2'):
        decisions[name] = prepare(svcs[name])
    mc = ensure_memcached()
    ks_init = init_keystone(creds)  # starts keystone-manage in the background if needed

    started = []
    if isinstance(mc, Service):
        started.append(mc)
    for name in ('account', 'container', 'object', 'container-updater', 'proxy1', 'proxy2',
                 'v2'):
        if decisions[name] == 'start':
            launch(svcs[name])
            started.append(svcs[name])
    if ks_init:
        finish_keystone_init(ks_init)
    if decisions['keystone'] == 'start':
        launch(svcs['keystone'])
        started.append(svcs['keystone'])
    reused = [n for n, d in decisions.items() if d == 'reuse']
    if mc == 'reuse':
        reused.insert(0, 'memcached')
    if reused:
        say('reusing running %s' % ', '.join(reused))
    wait_healthy(started)
    if setup_keystone(creds):
        say('Keystone setup done (regions, endpoints, domains, projects, users, roles)')
    end_to_end_check(creds)
    write_if_changed(ENV_FILE, env_text(creds, expiration), private=True)
    say('test bed ready in %.1f s; settings in %s' % (time.time() - T0, ENV_FILE))
    sys.stdout.write(env_text(creds, expiration))
    return 0


STOP_ORDER = ['v2', 'proxy1', 'proxy2', 'container-updater', 'object', 'container', 'account',
              'keystone', 'memcached']


def cmd_stop():
    stopped = []
    for name in STOP_ORDER:
        if stop_service(name) is not None:
            stopped.append(name)
    say('stopped: %s' % (', '.join(stopped) if stopped else 'nothing was running'))
    return 0


def cmd_status():
    ok = True
    health = {
        'memcached': memcached_ok,
        'keystone': lambda: http_ok(KEYSTONE_URL),
        'v2': lambda: http_ok(V2_URL),
    }
    for k in ('account', 'container', 'object', 'proxy1', 'proxy2'):
        health[k] = (lambda p: lambda: http_ok('http://%s:%d/healthcheck' % (HOST, p)))(PORT[k])
    for name in reversed(STOP_ORDER):
        pid = our_pid(name)
        port = PORT.get(name)
        fn = health.get(name)
        if fn is not None:
            up = fn()
        else:
            up = pid is not None
        where = '%s:%d' % (HOST, port) if port else '-'
        if pid is not None:
            who = 'pid %d' % pid
        elif up:
            who = 'not started by this test bed'
        else:
            who = 'not running'
        print('%-18s %-16s %-8s %s' % (name, where, 'up' if up else 'DOWN', who))
        ok = ok and up
    print('state directory: %s' % STATE)
    return 0 if ok else 3


def cmd_env():
    try:
        with open(ENV_FILE) as f:
            sys.stdout.write(f.read())
    except OSError:
        say('no %s yet: run "bash tests/openstack/testbed.sh start" first' % ENV_FILE)
        return 1
    return 0


CLEAN_ENTRIES = ['etc', 'srv', 'cache', 'keystone', 'run', 'log', 'credentials.json', 'apikeys.json',
                 'env.sh', 'apt-install.log', '.xattr-check']


def cmd_clean():
    """stop, then remove what this test bed wrote in the state directory (and nothing else)."""
    import shutil
    cmd_stop()
    for name in CLEAN_ENTRIES:
        path = os.path.join(STATE, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)
    try:
        os.rmdir(STATE)
    except OSError:
        pass
    say('removed the test bed state in %s' % STATE)
    return 0


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    try:
        if cmd == 'clean':
            return cmd_clean()
        if cmd == 'start':
            return cmd_start()
        if cmd == 'restart':
            cmd_stop()
            return cmd_start()
        if cmd == 'stop':
            return cmd_stop()
        if cmd == 'status':
            return cmd_status()
        if cmd == 'env':
            return cmd_env()
    except Fail as e:
        say('ERROR: %s' % e)
        return 1
    sys.stderr.write('usage: testbed.py start|stop|status|env|restart|clean\n')
    return 2


if __name__ == '__main__':
    sys.exit(main())
