#!/usr/bin/env bash
# Ours against the floor (examples/bench/floor.py) on the test bed as it runs now, without
# restarting it (make bench restarts it with other settings): builds the release library, oscli
# and the rusage helper, then runs floor.py. BENCH_FLOOR_* as floor.py says.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
STATE=${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}
[ -f "$STATE/env.sh" ] || { echo "floor: no test bed: run 'make testbed-start' first"; exit 1; }
cargo build --release --lib 2>&1 | tail -1
mkdir -p "$TARGET/bench"
cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude examples/c/oscli.c -L"$TARGET/release" -lopenstack_dest \
  -lpthread -Wl,-rpath,"$TARGET/release" -o "$TARGET/bench/oscli"
cc -std=c99 -O2 -Wall -Wextra -Werror examples/bench/clients/rusage.c -o "$TARGET/bench/rusage"
# shellcheck disable=SC1091
source "$STATE/env.sh"
export BENCH_OSCLI="$TARGET/bench/oscli" BENCH_RUSAGE="$TARGET/bench/rusage"
exec /usr/bin/python3 examples/bench/floor.py
