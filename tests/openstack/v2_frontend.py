#!/usr/bin/python3
"""A small Keystone v2.0 front end for tests.

Keystone no longer serves v2.0. This server answers POST /v2.0/tokens the way Keystone v2.0 (and
Rackspace's API-key extension) did, by obtaining a real v3 token from the real Keystone and
returning it with the real catalog in v2 form, so the token works against the real Swift proxy.

Accepted request bodies:
  {"auth": {"passwordCredentials": {"username": U, "password": P}, "tenantName"|"tenantId": T}}
  {"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": U, "apiKey": K}, "tenantName"?: T}}
  {"auth": {"token": {"id": TOKEN}, "tenantName"|"tenantId": T}}
Users and projects are looked up in the Default domain (v2 knows no domains). Without a tenant,
the token is scoped to the user's default project, else to the first project the user may use.
API keys are checked against the key map file written by the test bed (--keys); they are not
passwords. Wrong credentials -> 401, malformed request -> 400, both with a v2-style error body
({"error": {"message", "code", "title"}}).

usage: v2_frontend.py --listen 127.0.0.1:5001 --keystone http://127.0.0.1:5000/v3 --keys FILE
"""
import argparse
import datetime
import hmac
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
KEYSTONE_TIMEOUT = 30


class V2Error(Exception):
    def __init__(self, code, title, message):
        Exception.__init__(self, message)
        self.code = code
        self.title = title
        self.message = message


def bad_request(message):
    return V2Error(400, 'Bad Request', message)


def unauthorized(message='The request you have made requires authentication.'):
    return V2Error(401, 'Unauthorized', message)


class KeyMap:
    """username -> {"apikey": ..., "password": ...}, re-read when the file changes."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.stamp = None
        self.users = {}

    def get(self, username):
        with self.lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
                if stamp != self.stamp:
                    with open(self.path, encoding='utf-8') as f:
                        self.users = json.load(f).get('users', {})
                    self.stamp = stamp
            except (OSError, ValueError) as e:
                sys.stderr.write('v2: cannot read key map %s: %s\n' % (self.path, e))
                self.users = {}
                self.stamp = None
            return self.users.get(username)


class Keystone:
    def __init__(self, url):
        self.url = url.rstrip('/')

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header('Accept', 'application/json')
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if token:
            req.add_header('X-Auth-Token', token)
        try:
            with urllib.request.urlopen(req, timeout=KEYSTONE_TIMEOUT) as resp:
                raw = resp.read()
                return resp.status, resp.headers, (json.loads(raw) if raw else {})
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                doc = json.loads(raw) if raw else {}
            except ValueError:
                doc = {}
            return e.code, e.headers, doc
        except (urllib.error.URLError, OSError) as e:
            raise V2Error(503, 'Service Unavailable',
                          'Keystone v3 is not reachable: %s' % getattr(e, 'reason', e))

    def issue(self, identity, scope):
        auth = {'identity': identity}
        if scope is not None:
            auth['scope'] = scope
        status, headers, doc = self.request('POST', '/auth/tokens', {'auth': auth})
        if status == 201:
            return headers.get('X-Subject-Token'), doc.get('token', {})
        if status == 401:
            raise unauthorized()
        if status == 400:
            raise bad_request((doc.get('error') or {}).get('message', 'bad request'))
        if status == 404:
            # e.g. the project named does not exist
            raise unauthorized()
        raise V2Error(503, 'Service Unavailable', 'Keystone v3 answered HTTP %d' % status)


def project_scope(tenant_name, tenant_id):
    if tenant_id:
        return {'project': {'id': tenant_id}}
    if tenant_name:
        return {'project': {'name': tenant_name, 'domain': {'id': 'default'}}}
    return None


def v2_expires(v3_time):
    """'2024-05-01T10:00:00.000000Z' -> '2024-05-01T10:00:00Z'."""
    if not v3_time:
        return v3_time
    try:
        t = datetime.datetime.strptime(v3_time.replace('Z', ''), '%Y-%m-%dT%H:%M:%S.%f')
    except ValueError:
        return v3_time
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def v2_catalog(v3_catalog):
    services = []
    for svc in v3_catalog or []:
        by_region = {}
        for ep in svc.get('endpoints', []):
            region = ep.get('region_id') or ep.get('region') or ''
            entry = by_region.setdefault(region, {'region': region, 'id': ep.get('id')})
            iface = ep.get('interface')
            if iface in ('public', 'internal', 'admin'):
                entry[iface + 'URL'] = ep.get('url')
        endpoints = []
        for region in sorted(by_region):
            entry = by_region[region]
            public = entry.get('publicURL')
            entry.setdefault('publicURL', entry.get('internalURL') or entry.get('adminURL'))
            entry.setdefault('internalURL', public or entry.get('publicURL'))
            entry.setdefault('adminURL', public or entry.get('publicURL'))
            endpoints.append(entry)
        services.append({'type': svc.get('type'), 'name': svc.get('name'),
                         'endpoints': endpoints, 'endpoints_links': []})
    return services


def v2_access(token_id, t):
    project = t.get('project')
    user = t.get('user', {})
    roles = t.get('roles', [])
    token = {'id': token_id, 'expires': v2_expires(t.get('expires_at')),
             'issued_at': t.get('issued_at'), 'audit_ids': t.get('audit_ids', [])}
    if project:
        token['tenant'] = {'id': project.get('id'), 'name': project.get('name'),
                           'enabled': True, 'description': None}
    return {'access': {
        'token': token,
        'serviceCatalog': v2_catalog(t.get('catalog')) if project else [],
        'user': {'id': user.get('id'), 'name': user.get('name'),
                 'username': user.get('name'),
                 'roles': [{'name': r.get('name')} for r in roles],
                 'roles_links': []},
        'metadata': {'is_admin': 0, 'roles': [r.get('id') for r in roles]},
    }}


class Authenticator:
    def __init__(self, keystone, keymap):
        self.keystone = keystone
        self.keymap = keymap

    def authenticate(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get('auth'), dict):
            raise bad_request('Expecting to find "auth" in the request body.')
        auth = doc['auth']
        tenant_name = auth.get('tenantName')
        tenant_id = auth.get('tenantId')
        for v, n in ((tenant_name, 'tenantName'), (tenant_id, 'tenantId')):
            if v is not None and not isinstance(v, str):
                raise bad_request('"%s" must be a string.' % n)
        scope = project_scope(tenant_name, tenant_id)

        pw = auth.get('passwordCredentials')
        ak = auth.get('RAX-KSKEY:apiKeyCredentials')
        tk = auth.get('token')
        given = [x for x in (pw, ak, tk) if x is not None]
        if len(given) != 1:
            raise bad_request('Expecting exactly one of "passwordCredentials", '
                              '"RAX-KSKEY:apiKeyCredentials" or "token" in "auth".')
        if pw is not None:
            username, password = self._pair(pw, 'passwordCredentials', 'password')
            identity = self._password_identity(username, password)
        elif ak is not None:
            username, apikey = self._pair(ak, 'RAX-KSKEY:apiKeyCredentials', 'apiKey')
            entry = self.keymap.get(username)
            if not entry or not entry.get('apikey') or not hmac.compare_digest(
                    entry['apikey'].encode(), apikey.encode()):
                raise unauthorized()
            identity = self._password_identity(username, entry.get('password', ''))
        else:
            if not isinstance(tk, dict) or not isinstance(tk.get('id'), str) or not tk['id']:
                raise bad_request('Expecting "token": {"id": ...}.')
            identity = {'methods': ['token'], 'token': {'id': tk['id']}}

        token_id, t = self.keystone.issue(identity, scope)
        if scope is None and not t.get('project'):
            # No default project: use the first project the user may use.
            status, _, projects = self.keystone.request('GET', '/auth/projects', token=token_id)
            if status == 200:
                plist = [p for p in projects.get('projects', []) if p.get('enabled', True)]
                plist.sort(key=lambda p: p.get('name') or '')
                if plist:
                    token_id, t = self.keystone.issue(
                        {'methods': ['token'], 'token': {'id': token_id}},
                        {'project': {'id': plist[0]['id']}})
        return v2_access(token_id, t)

    @staticmethod
    def _pair(creds, what, secret_name):
        if not isinstance(creds, dict):
            raise bad_request('"%s" must be an object.' % what)
        username = creds.get('username')
        secret = creds.get(secret_name)
        if not isinstance(username, str) or not username:
            raise bad_request('Expecting "username" in "%s".' % what)
        if not isinstance(secret, str):
            raise bad_request('Expecting "%s" in "%s".' % (secret_name, what))
        return username, secret

    @staticmethod
    def _password_identity(username, password):
        return {'methods': ['password'], 'password': {'user': {
            'name': username, 'domain': {'id': 'default'}, 'password': password}}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'osd-v2-frontend/1.0'
    authenticator = None  # set in main()
    public_url = None

    def log_message(self, fmt, *args):  # never logs bodies (they hold secrets)
        sys.stderr.write('%s - %s\n' % (self.address_string(), fmt % args))

    def _read_body(self):
        te = (self.headers.get('Transfer-Encoding') or '').lower()
        if 'chunked' in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise bad_request('truncated chunked body')
                try:
                    size = int(line.split(b';')[0].strip(), 16)
                except ValueError:
                    raise bad_request('bad chunk size')
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(1024)
                        if t in (b'\r\n', b'\n', b''):
                            break
                    return b''.join(chunks)
                total += size
                if total > MAX_BODY:
                    raise V2Error(413, 'Request Entity Too Large', 'request body too large')
                chunks.append(self.rfile.read(size))
                self.rfile.readline(4)
        length = self.headers.get('Content-Length')
        if length is None:
            return b''
        try:
            n = int(length)
        except ValueError:
            raise bad_request('bad Content-Length')
        if n < 0 or n > MAX_BODY:
            raise V2Error(413, 'Request Entity Too Large', 'request body too large')
        return self.rfile.read(n)

    def _send(self, status, doc, head=False):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Vary', 'X-Auth-Token')
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_error(self, e, head=False):
        self._send(e.code, {'error': {'message': e.message, 'code': e.code, 'title': e.title}},
                   head=head)

    def _version_doc(self):
        return {'version': {'id': 'v2.0', 'status': 'deprecated', 'updated': '2014-04-17T00:00:00Z',
                            'links': [{'rel': 'self', 'href': self.public_url + '/'}],
                            'media-types': [{'base': 'application/json',
                                             'type': 'application/vnd.openstack.identity-v2.0+json'}]}}

    def _path(self):
        return self.path.split('?', 1)[0].rstrip('/')

    def do_GET(self, head=False):
        try:
            self._read_body()
        except V2Error as e:
            self.close_connection = True
            return self._send_error(e, head)
        path = self._path()
        if path in ('/v2.0', ''):
            if path == '':
                return self._send(300, {'versions': {'values': [self._version_doc()['version']]}},
                                  head)
            return self._send(200, self._version_doc(), head)
        return self._send_error(V2Error(404, 'Not Found', 'The resource could not be found.'),
                                head)

    def do_HEAD(self):
        return self.do_GET(head=True)

    def do_POST(self):
        try:
            body = self._read_body()
        except V2Error as e:
            self.close_connection = True
            return self._send_error(e)
        if self._path() != '/v2.0/tokens':
            return self._send_error(V2Error(404, 'Not Found', 'The resource could not be found.'))
        try:
            try:
                doc = json.loads(body.decode('utf-8')) if body else None
            except (UnicodeDecodeError, ValueError):
                raise bad_request('The request body is not valid JSON.')
            return self._send(200, self.authenticator.authenticate(doc))
        except V2Error as e:
            return self._send_error(e)
        except Exception as e:  # keep the connection usable and say what happened
            sys.stderr.write('v2: internal error: %s: %s\n' % (type(e).__name__, e))
            return self._send_error(V2Error(500, 'Internal Server Error', 'internal error'))

    def _other(self):
        try:
            self._read_body()
        except V2Error:
            self.close_connection = True
        self._send_error(V2Error(405, 'Method Not Allowed', 'method not allowed'))

    do_PUT = do_DELETE = do_PATCH = _other


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description='Keystone v2.0 front end for tests')
    ap.add_argument('--listen', default='127.0.0.1:5001')
    ap.add_argument('--keystone', default='http://127.0.0.1:5000/v3')
    ap.add_argument('--keys', required=True, help='key map file (JSON)')
    a = ap.parse_args()
    host, port = a.listen.rsplit(':', 1)
    Handler.authenticator = Authenticator(Keystone(a.keystone), KeyMap(a.keys))
    Handler.public_url = 'http://%s:%s/v2.0' % (host, port)
    httpd = Server((host, int(port)), Handler)
    sys.stderr.write('v2 front end listening on %s, Keystone %s\n' % (a.listen, a.keystone))
    sys.stderr.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
