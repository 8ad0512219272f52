#!/usr/bin/env bash
# The fast lane (`make check`, the first stage of .ci/run): what needs no server, failing at the
# first broken step so a bad commit is known in a couple of minutes instead of after the test bed:
#   fmt        cargo fmt --check
#   python     the Python binding's generated declarations match the header (gen_native.py --check)
#   csharp     the C# binding's Native.cs matches the header (gen_native.py --lang csharp --check)
#   clippy     cargo clippy --all-targets -- -D warnings
#   test       cargo test without a test bed: unit and property tests, the fault tests against the
#              in-process fake, the fuzz regressions, the header freshness check (tests/header.rs);
#              the real-server tests skip themselves (CI, OSD_REQUIRE_SERVER and the test bed's
#              OSD_AUTH_V3 are unset for this step)
# It builds the debug profile `make test` builds, so the test stage reuses the build. Prints one
# line per step with its time, then cargo test's own summary lines. Exit status: 0 only if all passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export CARGO_TERM_COLOR=never
LOG=target/test-logs/check.log
mkdir -p target/test-logs
: > "$LOG"

command -v cargo >/dev/null || { echo "check: cargo is missing: install the Rust toolchain (rustup)"; exit 1; }
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "check: installing the $component component"
    rustup component add "$component" >/dev/null 2>&1 || { echo "check: cargo $component is missing"; exit 1; }
  fi
done

step() {
  local name=$1; shift
  local start=$SECONDS
  printf '\n==== check: %s ====\n' "$name" | tee -a "$LOG"
  "$@" 2>&1 | tee -a "$LOG"
  local status=${PIPESTATUS[0]}
  local took=$((SECONDS - start))
  if [ "$status" -eq 0 ]; then
    echo "check $name: ok in $took s" | tee -a "$LOG.steps"
  else
    echo "check $name: FAILED (exit $status) in $took s" | tee -a "$LOG.steps"
    summary
    exit "$status"
  fi
}

summary() {
  echo
  cat "$LOG.steps"
  grep -h "^test result:" "$LOG" || true
}

rm -f "$LOG.steps"
step fmt cargo fmt --check -- --color never
step python python3 bindings/python/tools/gen_native.py --check
step csharp python3 bindings/python/tools/gen_native.py --lang csharp --check
step clippy cargo clippy --all-targets -- -D warnings
step test env -u CI -u OSD_REQUIRE_SERVER -u OSD_AUTH_V3 cargo test --no-fail-fast
summary
