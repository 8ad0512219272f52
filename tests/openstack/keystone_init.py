#!/usr/bin/python3
"""Initialise a Keystone in one process: database schema, fernet and credential key
repositories, and the bootstrap (admin user/project/role, member/reader roles, RegionOne,
identity service and endpoints).

Does what `keystone-manage db_sync`, `fernet_setup`, `credential_setup` and `bootstrap` do, but
imports Keystone once instead of four times (each import costs ~3 s of CPU on this machine).

usage: OS_BOOTSTRAP_PASSWORD=... keystone_init.py KEYSTONE_CONF REGION IDENTITY_URL
"""
import os
import sys


def main():
    conf_file, region, url = sys.argv[1:4]
    password = os.environ.get('OS_BOOTSTRAP_PASSWORD')
    if not password:
        sys.stderr.write('keystone_init: OS_BOOTSTRAP_PASSWORD is not set\n')
        return 2

    from keystone.cmd import cli
    # db_sync through keystone-manage's own entry point (parses the config file too).
    cli.main(['keystone-manage', '--config-file', conf_file, 'db_sync'])

    from keystone.common import fernet_utils
    from keystone.credential.providers import fernet as credential_fernet
    conf = cli.CONF
    uid, gid = os.geteuid(), os.getegid()
    for repo, max_keys, group in (
            (conf.fernet_tokens.key_repository, conf.fernet_tokens.max_active_keys,
             'fernet_tokens'),
            (conf.credential.key_repository, credential_fernet.MAX_ACTIVE_KEYS, 'credential')):
        futils = fernet_utils.FernetUtils(repo, max_keys, group)
        futils.create_key_directory(uid, gid)
        if futils.validate_key_repository(requires_write=True):
            futils.initialize_key_repository(uid, gid)

    from keystone.cmd.bootstrap import Bootstrapper
    b = Bootstrapper()
    b.admin_password = password
    b.admin_username = 'admin'
    b.project_name = 'admin'
    b.admin_role_name = 'admin'
    b.service_name = 'keystone'
    b.region_id = region
    b.admin_url = b.public_url = b.internal_url = url
    b.immutable_roles = True
    b.bootstrap()
    print('keystone_init: database, key repositories and bootstrap done')
    sys.stdout.flush()
    # Skip interpreter teardown: eventlet's patched locks complain at exit otherwise.
    os._exit(0)


if __name__ == '__main__':
    sys.exit(main())
