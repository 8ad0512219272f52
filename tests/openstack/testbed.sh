#!/usr/bin/env bash
# Test bed: a real OpenStack Swift (two proxies / two regions) + a real Keystone v3 + a v2.0
# front end, all on 127.0.0.1, all state under one directory ($OSD_STATE_DIR).
#
#   bash tests/openstack/testbed.sh start|stop|status|env|restart|clean
#
# This file installs what is missing (Debian packages) and checks the storage filesystem;
# the work of starting/stopping is done by testbed.py beside it (run with /usr/bin/python3,
# which sees Debian's python packages). See README.md beside this file.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OSD_STATE_DIR="${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}"
PY=/usr/bin/python3

PACKAGES=(python3-swift python3-swiftclient python3-keystone python3-keystonemiddleware
          python3-keystoneclient python3-openstackclient uwsgi-core uwsgi-plugin-python3
          memcached curl)

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: ERROR: $*" >&2; exit 1; }

missing_packages() {
    local p st
    for p in "${PACKAGES[@]}"; do
        st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
        [[ "$st" == "install ok installed" ]] || echo "$p"
    done
}

install_packages() {
    local missing
    missing="$(missing_packages | tr '\n' ' ')"
    missing="${missing% }"
    [[ -z "$missing" ]] && return 0
    [[ "$(id -u)" == 0 ]] || die "packages missing ($missing) and not root: install them with apt-get"
    log "installing Debian packages: $missing"
    local t0=$SECONDS made_policy=0 rc=0 out
    # Keep apt from starting daemons (memcached) system-wide while installing.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    out="$OSD_STATE_DIR/apt-install.log"
    mkdir -p "$OSD_STATE_DIR"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 $missing </dev/null >"$out" 2>&1 || rc=$?
    if [[ $rc != 0 ]]; then
        if grep -qE "Unable to locate package|has no installation candidate|Failed to fetch|404 +Not Found|Unable to fetch some archives" "$out"; then
            log "apt-get install failed for lack of package lists: running apt-get update"
            apt-get update -o DPkg::Lock::Timeout=300 </dev/null >>"$out" 2>&1 || { tail -n 20 "$out" >&2; [[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d; die "apt-get update failed (log: $out)"; }
            rc=0
            # shellcheck disable=SC2086
            apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 $missing </dev/null >>"$out" 2>&1 || rc=$?
        fi
    fi
    [[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
    if [[ $rc != 0 ]]; then
        tail -n 30 "$out" >&2
        die "apt-get install failed (exit $rc; full log: $out)"
    fi
    missing="$(missing_packages | tr '\n' ' ')"
    [[ -z "${missing// }" ]] || die "packages still missing after install: $missing"
    log "packages installed in $((SECONDS - t0)) s"
}

check_xattr() {
    mkdir -p "$OSD_STATE_DIR"
    local f="$OSD_STATE_DIR/.xattr-check"
    : > "$f"
    if ! "$PY" - "$f" <<'PYEOF'
import os, sys
p = sys.argv[1]
try:
    os.setxattr(p, "user.osd.check", b"1")
    assert os.getxattr(p, "user.osd.check") == b"1"
    os.removexattr(p, "user.osd.check")
except OSError as e:
    sys.stderr.write("setxattr failed: %s\n" % e)
    sys.exit(1)
PYEOF
    then
        rm -f "$f"
        die "the filesystem of $OSD_STATE_DIR does not support user extended attributes (user xattrs),
which Swift's object server needs. Point OSD_STATE_DIR at a directory on ext4/xfs/btrfs/tmpfs
(mounted with user_xattr), e.g. OSD_STATE_DIR=/dev/shm/osd-testbed."
    fi
    rm -f "$f"
}

cmd="${1:-}"
case "$cmd" in
    start|restart)
        install_packages
        check_xattr
        exec "$PY" "$HERE/testbed.py" "$cmd"
        ;;
    install)
        install_packages
        ;;
    stop|status|env|clean)
        [[ -x "$PY" ]] || die "$PY not found"
        exec "$PY" "$HERE/testbed.py" "$cmd"
        ;;
    *)
        echo "usage: bash $0 start|stop|status|env|restart|clean" >&2
        exit 2
        ;;
esac
