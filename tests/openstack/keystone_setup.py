#!/usr/bin/python3
"""Create what the tests need in a freshly bootstrapped Keystone, through its v3 REST API.

usage: keystone_setup.py SETUP_JSON

SETUP_JSON names the Keystone URL, the admin credentials and what to create (regions,
endpoints, domains, projects, users with their passwords and roles). Every step is idempotent:
existing things are found by name and updated (user passwords, endpoint URLs), missing ones
are created. Nothing secret is printed.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


class Keystone:
    def __init__(self, url):
        self.url = url.rstrip('/')
        self.token = None

    def call(self, method, path, body=None, ok=(200, 201, 204), params=None):
        url = self.url + path
        if params:
            url += '?' + urllib.parse.urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header('Accept', 'application/json')
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if self.token:
            req.add_header('X-Auth-Token', self.token)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                status, headers = resp.status, resp.headers
        except urllib.error.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        if status not in ok:
            msg = raw.decode('utf-8', 'replace')[:300]
            raise SystemExit('keystone_setup: %s %s -> HTTP %d: %s' % (method, path, status, msg))
        return status, headers, (json.loads(raw) if raw else {})

    def login(self, user, password, project):
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'}, 'password': password}}},
            'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}
        _, headers, _ = self.call('POST', '/auth/tokens', body)
        self.token = headers['X-Subject-Token']

    def find(self, collection, key, **params):
        _, _, doc = self.call('GET', '/' + collection, params=params)
        items = doc.get(key, [])
        return items[0] if items else None


def ensure_region(ks, region_id):
    st, _, _ = ks.call('GET', '/regions/' + region_id, ok=(200, 404))
    if st == 404:
        ks.call('POST', '/regions', {'region': {'id': region_id}})


def ensure_service(ks, stype, name):
    svc = ks.find('services', 'services', type=stype)
    if svc is None:
        _, _, doc = ks.call('POST', '/services', {'service': {'type': stype, 'name': name,
                                                             'enabled': True}})
        svc = doc['service']
    return svc['id']


def ensure_endpoints(ks, service_id, region, urls):
    """urls: {interface: url}"""
    _, _, doc = ks.call('GET', '/endpoints', params={'service_id': service_id})
    have = {}
    for ep in doc.get('endpoints', []):
        if ep.get('region_id') == region:
            have[ep['interface']] = ep
    for iface, url in urls.items():
        ep = have.get(iface)
        if ep is None:
            ks.call('POST', '/endpoints', {'endpoint': {
                'service_id': service_id, 'interface': iface, 'region_id': region,
                'url': url, 'enabled': True}})
        elif ep.get('url') != url or not ep.get('enabled', True):
            ks.call('PATCH', '/endpoints/' + ep['id'], {'endpoint': {'url': url,
                                                                     'enabled': True}})


def ensure_role(ks, name):
    role = ks.find('roles', 'roles', name=name)
    if role is None:
        _, _, doc = ks.call('POST', '/roles', {'role': {'name': name}})
        role = doc['role']
    return role['id']


def ensure_domain(ks, name):
    if name.lower() == 'default':
        return 'default'
    dom = ks.find('domains', 'domains', name=name)
    if dom is None:
        _, _, doc = ks.call('POST', '/domains', {'domain': {'name': name, 'enabled': True}})
        dom = doc['domain']
    return dom['id']


def ensure_project(ks, name, domain_id):
    proj = ks.find('projects', 'projects', name=name, domain_id=domain_id)
    if proj is None:
        _, _, doc = ks.call('POST', '/projects', {'project': {
            'name': name, 'domain_id': domain_id, 'enabled': True}})
        proj = doc['project']
    return proj['id']


def password_works(ks, user_id, password):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'id': user_id, 'password': password}}}}}
    saved, ks.token = ks.token, None
    try:
        st, _, _ = ks.call('POST', '/auth/tokens', body, ok=(201, 401))
    finally:
        ks.token = saved
    return st == 201


def ensure_user(ks, name, domain_id, password, default_project_id):
    user = ks.find('users', 'users', name=name, domain_id=domain_id)
    fields = {'enabled': True}
    if default_project_id:
        fields['default_project_id'] = default_project_id
    if user is None:
        fields.update(name=name, domain_id=domain_id, password=password)
        _, _, doc = ks.call('POST', '/users', {'user': fields})
        return doc['user']['id']
    # A password change revokes the user's tokens (the admin's own, too): only when needed.
    if not password_works(ks, user['id'], password):
        fields['password'] = password
    if any(user.get(k) != v for k, v in fields.items()):
        ks.call('PATCH', '/users/' + user['id'], {'user': fields})
    return user['id']


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        cfg = json.load(f)
    ks = Keystone(cfg['keystone'])
    ks.login(cfg['admin_user'], cfg['admin_password'], cfg['admin_project'])

    for region in cfg['regions']:
        ensure_region(ks, region)
    identity = ensure_service(ks, 'identity', 'keystone')
    for region in cfg['regions']:
        ensure_endpoints(ks, identity, region, {i: cfg['keystone'] for i in
                                                ('public', 'internal', 'admin')})
    swift = ensure_service(ks, 'object-store', 'swift')
    for region, url in cfg['object_store'].items():
        ensure_region(ks, region)  # RegionTLS holds object-store endpoints only
        ensure_endpoints(ks, swift, region, {i: url for i in ('public', 'internal', 'admin')})

    roles = {}
    domains = {}
    projects = {}
    for user in cfg['users']:
        dom = user.get('domain', 'Default')
        if dom not in domains:
            domains[dom] = ensure_domain(ks, dom)
        did = domains[dom]
        pkey = (did, user['project'])
        if pkey not in projects:
            projects[pkey] = ensure_project(ks, user['project'], did)
        pid = projects[pkey]
        uid = ensure_user(ks, user['name'], did, user['password'], pid)
        for role in user['roles']:
            if role not in roles:
                roles[role] = ensure_role(ks, role)
            ks.call('PUT', '/projects/%s/users/%s/roles/%s' % (pid, uid, roles[role]))
    print('keystone_setup: %d users, %d projects, %d domains ready'
          % (len(cfg['users']), len(projects), len(domains)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
