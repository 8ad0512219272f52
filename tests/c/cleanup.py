"""Deletes the containers (and any objects left in them) whose names start with a prefix.

The C API has no call to delete a container, so run.sh removes the test containers it made
(osdc-<run id>-...) with python-swiftclient, best effort. Credentials come from the test bed's
environment (OSD_*); nothing secret is printed.
Usage: /usr/bin/python3 tests/c/cleanup.py PREFIX
"""
import os
import sys

try:
    from swiftclient.client import Connection
except ImportError:  # swiftclient is installed with the test bed; without it, leave things be
    print("cleanup: python-swiftclient not available, containers left in place")
    sys.exit(0)

prefix = sys.argv[1]
if not prefix.startswith("osdc-"):
    sys.exit("cleanup: refusing a prefix that is not one of the C tests' (osdc-...)")
conn = Connection(
    authurl=os.environ["OSD_AUTH_V3"],
    user=os.environ["OSD_USER"],
    key=os.environ["OSD_PASSWORD"],
    auth_version="3",
    os_options={
        "project_name": os.environ["OSD_PROJECT"],
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        "region_name": os.environ.get("OSD_REGION1"),
    },
    retries=2,
)
removed = 0
for container in conn.get_account(prefix=prefix, full_listing=True)[1]:
    name = container["name"]
    try:
        for obj in conn.get_container(name, full_listing=True)[1]:
            conn.delete_object(name, obj["name"])
        conn.delete_container(name)
        removed += 1
    except Exception as exc:  # best effort: report and go on
        print("cleanup: could not remove container %s: %s" % (name, type(exc).__name__))
print("cleanup: removed %d test container(s) named %s*" % (removed, prefix))
