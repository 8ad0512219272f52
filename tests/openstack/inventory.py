#!/usr/bin/python3
"""What Swift holds in a container, told by python-swiftclient rather than by the library:
one JSON object {name: {"bytes": n, "md5": hex of the downloaded body}} on stdout.

Usage: inventory.py CONTAINER [PREFIX]
       inventory.py --orphans CONTAINER [CONTAINER...] [--segments SEGMENT_CONTAINER]
       inventory.py --state CONTAINER [CONTAINER...] --segments SEGMENT_CONTAINER [--names A,B]
The second form prints {"segments": n, "orphans": [names]}: the objects of the segment
container (default: the first CONTAINER + "_segments") that no Static Large Object of any
CONTAINER lists in its manifest (space a leak would cost).
The third form prints both at once, for the lifecycle model: {"objects": {container: {name:
{"bytes", "md5"} or {"error": why}}}, "segments": n, "orphans": [names], "shared": [segment
names more than one manifest lists]}; an object that cannot be read whole is an "error" entry,
not a failure of the script.
Logs in as the test bed's member user (OSD_* from the test bed's env.sh). Each object is
downloaded whole (large objects through their manifest) and hashed here, so a manifest that
points at missing or wrong segments shows as an error or a wrong MD5. A missing container is
an empty inventory.
"""
import hashlib
import json
import os
import sys
import time

from swiftclient import client
from swiftclient.exceptions import ClientException


# Every read asks the newest copy: on a cluster of several replicas, one that missed writes
# (a node that was down) must not make the truth look stale.
NEWEST = {'X-Newest': 'true'}


def patiently(read, tries=5):
    """read() again when Keystone or Swift could not be reached (no HTTP answer at all: a busy
    Keystone closes connections under load); an HTTP answer is final."""
    for attempt in range(tries):
        try:
            return read()
        except ClientException as e:
            if e.http_status is not None or attempt == tries - 1:
                raise
            time.sleep(1 + attempt)


def connection():
    env = os.environ
    return client.Connection(
        authurl=env['OSD_AUTH_V3'], user=env['OSD_USER'], key=env['OSD_PASSWORD'],
        auth_version='3', retries=2,
        os_options={'project_name': env['OSD_PROJECT'], 'user_domain_name': 'Default',
                    'project_domain_name': 'Default', 'region_name': env['OSD_REGION1']})


def references(conn, containers):
    """Segment paths (container/name) each Static Large Object of the containers lists."""
    refs = []
    for container in containers:
        try:
            _, listing = conn.get_container(container, full_listing=True, headers=NEWEST)
        except ClientException as e:
            if e.http_status != 404:
                raise
            listing = []
        for entry in listing:
            try:
                headers, body = conn.get_object(container, entry['name'], headers=NEWEST,
                                                query_string='multipart-manifest=get')
            except ClientException as e:
                if e.http_status == 404:  # listed, but gone since (a listing may lag)
                    continue
                raise
            if headers.get('x-static-large-object', '').lower() == 'true':
                refs.append([seg['name'].lstrip('/') for seg in json.loads(body)])
    return refs


def segment_names(conn, segments):
    try:
        _, listing = conn.get_container(segments, full_listing=True, headers=NEWEST)
    except ClientException as e:
        if e.http_status != 404:
            raise
        listing = []
    return [segments + '/' + e['name'] for e in listing]


def orphans(conn, containers, segments):
    used = set(n for refs in references(conn, containers) for n in refs)
    names = segment_names(conn, segments)
    return {'segments': len(names), 'orphans': [n for n in names if n not in used]}


def contents(conn, container, prefix=None, tolerant=False, names=()):
    """Every object the listing shows, and every one of `names` (asked by name, listed or not:
    a listing may lag behind on a cluster of several replicas), read whole."""
    try:
        _, listing = conn.get_container(container, prefix=prefix, full_listing=True,
                                        headers=NEWEST)
    except ClientException as e:
        if e.http_status == 404:
            return {}
        raise
    found = {}
    for name in sorted(set(entry['name'] for entry in listing) | set(names)):
        try:
            headers, body = conn.get_object(container, name, resp_chunk_size=1 << 20,
                                            headers=NEWEST)
            md5, size = hashlib.md5(), 0
            for chunk in body:
                md5.update(chunk)
                size += len(chunk)
            if 'content-length' in headers and int(headers['content-length']) != size:
                raise ValueError('got %d bytes of %s' % (size, headers['content-length']))
            found[name] = {'bytes': size, 'md5': md5.hexdigest()}
        except ClientException as e:
            if e.http_status == 404 and name in names:
                continue  # asked by name, and not there
            if not tolerant:
                raise SystemExit('%s: %s' % (name, e))
            found[name] = {'error': str(e)[:300]}
        except Exception as e:  # a broken object is what the model looks for
            if not tolerant:
                raise SystemExit('%s: %s' % (name, e))
            found[name] = {'error': str(e)[:300]}
    return found


def state(conn, containers, segments, names=()):
    out = orphans(conn, containers, segments)
    counts = {}
    for refs in references(conn, containers):
        for n in set(refs):
            counts[n] = counts.get(n, 0) + 1
    out['shared'] = sorted(n for n, k in counts.items() if k > 1)
    out['objects'] = {c: contents(conn, c, tolerant=True, names=names) for c in containers}
    return out


def main():
    if sys.argv[1] == '--orphans':
        args = sys.argv[2:]
        segments = args[0] + '_segments'
        if '--segments' in args:
            i = args.index('--segments')
            segments = args[i + 1]
            del args[i:i + 2]
        print(json.dumps(orphans(connection(), args, segments)))
        return
    if sys.argv[1] == '--state':
        args = sys.argv[2:]
        i = args.index('--segments')
        segments = args[i + 1]
        del args[i:i + 2]
        names = ()
        if '--names' in args:
            i = args.index('--names')
            names = tuple(args[i + 1].split(','))
            del args[i:i + 2]
        print(json.dumps(patiently(lambda: state(connection(), args, segments, names))))
        return
    container = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else None
    print(json.dumps(patiently(lambda: contents(connection(), container, prefix))))


if __name__ == '__main__':
    main()
