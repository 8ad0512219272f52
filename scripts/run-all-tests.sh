#!/usr/bin/env bash
# Runs every test of every layer against the real Swift + Keystone of the test bed:
# Rust (unit, fake-server faults, real server, memory, a short fuzzing run), C (plain, valgrind, ASan), Python, C#,
# and the Python wheel (built with the release library, checked, installed and smoke-tested).
# Installs what is missing, starts the test bed (and stops it again if this run started it),
# and ends with each runner's own summary lines. Exit status: 0 only if every layer passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
export OSD_REQUIRE_SERVER=1
export CARGO_TERM_COLOR=never
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

say() { printf '\n==== %s ====\n' "$*"; }

say "toolchain and system packages"
bash scripts/install-deps.sh || { echo "installing dependencies failed"; exit 1; }

say "building the library (debug)"
cargo build --all-targets 2>&1 | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "cargo build failed"; exit 1; }

started_here=0
if ! bash tests/openstack/testbed.sh status >/dev/null 2>&1; then
  started_here=1
fi
say "starting the test bed (real Swift + Keystone on 127.0.0.1)"
if ! bash tests/openstack/testbed.sh start > "$LOGS/testbed-start.log" 2>&1; then
  tail -30 "$LOGS/testbed-start.log"
  echo "the test bed did not start: real-server tests cannot run, so the test run fails"
  exit 1
fi
STATE="${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}"
# shellcheck disable=SC1091
source "$STATE/env.sh"
if [ "$started_here" = 1 ] && [ -z "${OSD_KEEP_TESTBED:-}" ]; then
  trap 'bash tests/openstack/testbed.sh stop >/dev/null 2>&1 || true' EXIT
fi
export OPENSTACK_DEST_LIB="$ROOT/target/debug/libopenstack_dest.so"

declare -A result
run_layer() {
  local name=$1; shift
  say "$name"
  "$@" 2>&1 | tee "$LOGS/$name.log"
  result[$name]=${PIPESTATUS[0]}
}

# fmt and clippy are the fast lane's (make check); .ci/run runs it first and sets OSD_CHECK_PASSED.
if [ -n "${OSD_CHECK_PASSED:-}" ]; then
  run_layer rust-style echo "rust-style: done by make check in this run"
else
  run_layer rust-style bash -c 'cargo fmt --check && cargo clippy --all-targets -- -D warnings'
fi
run_layer rust cargo test --no-fail-fast
run_layer fuzz bash scripts/fuzz.sh 15
run_layer install bash scripts/check-install.sh
run_layer c bash tests/c/run.sh
run_layer python bash bindings/python/run-tests.sh
run_layer csharp bash bindings/csharp/run-tests.sh
run_layer wheel bash scripts/wheel.sh --check

say "summary"
failed=0
for name in rust-style rust fuzz install c python csharp wheel; do
  status=${result[$name]:-1}
  [ "$status" -eq 0 ] && verdict=ok || { verdict="FAILED (exit $status)"; failed=1; }
  echo "$name: $verdict (log: target/test-logs/$name.log)"
done
echo
grep -h "^test result:" "$LOGS/rust.log" || true
grep -hE "^fuzz [a-z_]+: " "$LOGS/fuzz.log" || true
grep -hE "^install: [0-9]+ passed, [0-9]+ failed" "$LOGS/install.log" || true
grep -hE "^c(-[a-z]+)?: [0-9]+ passed, [0-9]+ failed" "$LOGS/c.log" || true
grep -hE "^(=+ )?[0-9]+ (passed|failed|error).* in [0-9.]+s" "$LOGS/python.log" | tail -1 || true
grep -hE "^csharp: [0-9]+ passed, [0-9]+ failed" "$LOGS/csharp.log" || true
grep -hE "^wheel: [0-9]+ passed, [0-9]+ failed" "$LOGS/wheel.log" || true
exit $failed
