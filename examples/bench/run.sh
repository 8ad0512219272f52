#!/usr/bin/env bash
# make bench / make bench-net: libopenstack_dest (the C CLI oscli and the Python binding) against
# curl, python-swiftclient (the swift CLI and its Python API), rclone and Apache OpenDAL on the
# project's test bed; examples/bench/bench.py measures and reports (its docstring lists what is
# measured and every BENCH_* variable). This script installs what the bench needs (Debian
# packages via scripts/install-deps.sh; matplotlib and opendal into the venv
# $CARGO_TARGET_DIR/bench-venv), builds the library, oscli and the relay, starts the test bed with
# a 5 GiB max_file_size (so that a large object can go whole; back to the tests' default at exit)
# and, with BENCH_DELAY_MS, the relay (examples/rust/relay.rs: BENCH_DELAY_MS one-way delay,
# BENCH_LINK_MIB MiB/s each way, default 100) that every client's Swift traffic then goes through.
#   BENCH_BUILD   cargo profile of our side (default release; dev works too)
# Then examples/bench/floor.py prints ours / the floor for the large workload (CPU and wall);
# examples/bench/floor.sh runs it alone on the test bed as it is, without restarting it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BENCH_BUILD:-release}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUTDIR="$TARGET/$([ "$BUILD" = dev ] && echo debug || echo "$BUILD")"
VENV="$TARGET/bench-venv"

bash scripts/install-deps.sh >/dev/null
if ! "$VENV/bin/python" -c 'import matplotlib, opendal, swiftclient' 2>/dev/null; then
  echo "bench: installing matplotlib and opendal into $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"   # Debian's python: python3-swiftclient
  "$VENV/bin/pip" install -q --disable-pip-version-check matplotlib opendal
fi
# duplicity (PyPI's) for the dup workload, without the dependencies of its other backends (they
# would replace Debian's python-keystoneclient, which its swift:// backend needs, by one that
# does not import): its core needs fasteners only.
if ! "$VENV/bin/python" -c 'import duplicity.backend, fasteners' 2>/dev/null; then
  echo "bench: installing duplicity into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-warn-conflicts --no-deps 'duplicity>=3,<4'
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-warn-conflicts fasteners
fi

echo "bench: building ($BUILD profile)"
cargo build --profile "$BUILD" --lib --example relay 2>&1 | tail -1
mkdir -p "$TARGET/bench"
cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude examples/c/oscli.c -L"$OUTDIR" -lopenstack_dest \
  -lpthread -Wl,-rpath,"$OUTDIR" -o "$TARGET/bench/oscli"
cc -std=c99 -O2 -Wall -Wextra -Werror examples/bench/clients/rusage.c -o "$TARGET/bench/rusage"

relay_pid=
restore() {
  [ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null || true
  env -u OSD_MAX_FILE_SIZE -u OSD_LISTING_LIMIT bash tests/openstack/testbed.sh start >/dev/null
}
trap restore EXIT
OSD_MAX_FILE_SIZE=5368709122 OSD_LISTING_LIMIT=10000 bash tests/openstack/testbed.sh start >/dev/null
# shellcheck disable=SC1091
source "${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh"

BENCH_NET=
if [ -n "${BENCH_DELAY_MS:-}" ]; then
  export BENCH_LINK_MIB=${BENCH_LINK_MIB:-100}
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$OUTDIR/examples/relay" "$port" "${OSD_SWIFT1#http://}" "$BENCH_DELAY_MS" "$BENCH_LINK_MIB" >&2 &
  relay_pid=$!
  BENCH_NET="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -s -o /dev/null "$BENCH_NET/healthcheck" && break; sleep 0.1; done
fi

export BENCH_NET BENCH_BUILD="$BUILD" BENCH_OSCLI="$TARGET/bench/oscli" BENCH_RUSAGE="$TARGET/bench/rusage" \
  BENCH_LIB="$OUTDIR/libopenstack_dest.so" \
  OSD_USER OSD_PASSWORD OSD_PROJECT OSD_AUTH_V3 OSD_SWIFT1 OSD_REGION1
"$VENV/bin/python" examples/bench/bench.py
# Ours / the floor (curl hashing beside the transfer), CPU and wall, for the large workload's size
# (whole objects here: the test bed allows 5 GiB) and a 30 MiB one, on loopback only.
if [ -z "$BENCH_NET" ] && [[ ",${BENCH_WORKLOADS:-large}," == *,large,* ]]; then
  BENCH_FLOOR_LARGE_MIB=${BENCH_FLOOR_LARGE_MIB:-${BENCH_MIB:-256}} BENCH_FLOOR_RUNS=${BENCH_FLOOR_RUNS:-${BENCH_RUNS:-5}} \
    /usr/bin/python3 examples/bench/floor.py
fi
