#!/usr/bin/env bash
# Test bed: a real OpenStack Swift (two proxies / two regions) + a real Keystone v3 + a v2.0
# front end, all on 127.0.0.1, all state under one directory ($OSD_STATE_DIR). See README.md.
#
#   bash tests/openstack/testbed.sh start|stop|restart|status|env|clean|node-stop N
#   OSD_REPLICAS=3 bash tests/openstack/testbed.sh start   # three storage nodes, rings of 3 replicas
#
# start/restart first install the Debian packages that are missing; testbed.py (run with
# /usr/bin/python3, which sees Debian's python packages) does the rest.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OSD_STATE_DIR="${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}"
PACKAGES=(python3-swift python3-swiftclient python3-keystone python3-keystonemiddleware
          python3-keystoneclient python3-openstackclient uwsgi-core uwsgi-plugin-python3
          memcached curl
          stunnel4 openssl)  # stunnel4, openssl: the TLS terminators and their test CA

die() { echo "testbed: ERROR: $*" >&2; exit 1; }
missing() { local p; for p in "${PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || echo "$p"; done; }

install_packages() {
  local need log=$OSD_STATE_DIR/apt-install.log made_policy=0 rc=0 t0=$SECONDS
  need=$(missing | tr '\n' ' ')
  [[ -z "${need// }" ]] && return 0
  [[ "$(id -u)" == 0 ]] || die "packages missing ($need) and not root: install them with apt-get"
  echo "testbed: installing Debian packages: $need" >&2
  mkdir -p "$OSD_STATE_DIR"
  # Keep apt from starting daemons (memcached) system-wide while installing.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" </dev/null >>"$log" 2>&1; }
  # shellcheck disable=SC2086
  apt_get install -y --no-install-recommends $need || { apt_get update && apt_get install -y --no-install-recommends $need; } || rc=$?
  [[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  [[ $rc == 0 ]] || { tail -n 30 "$log" >&2; die "apt-get failed (exit $rc; full log: $log)"; }
  [[ -z "$(missing)" ]] || die "packages still missing after install: $(missing | tr '\n' ' ')"
  echo "testbed: packages installed in $((SECONDS - t0)) s" >&2
}

case "${1:-}" in
  start|restart) install_packages; exec /usr/bin/python3 "$HERE/testbed.py" "$1" ;;
  install) install_packages ;;
  stop|status|env|clean|node-stop) exec /usr/bin/python3 "$HERE/testbed.py" "$@" ;;
  *) echo "usage: bash $0 start|stop|restart|status|env|clean|node-stop N" >&2; exit 2 ;;
esac
