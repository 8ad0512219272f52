#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (fuzz/): builds the four libFuzzer targets with the
# machine's stable toolchain and the sanitizer-coverage flags cargo-fuzz would pass (all stable
# -C flags, so neither nightly nor cargo-fuzz is needed), runs each for SECONDS_PER_TARGET
# (default 60) from fuzz/seeds/<target>, fuzz/regressions/<target> and the working corpus
# fuzz/corpus/<target>, and prints one line per target:
#   fuzz url_options: N execs, 0 crashes
# A crashing input is left in fuzz/artifacts/<target>/; the exit status is then non-zero.
# Environment: FUZZ_TARGETS (a subset, space-separated), FUZZ_TARGET_DIR (the cargo target
# directory), FUZZ_JOBS (cargo -j).
# The build is cached outside the checkout, so a fresh clone does not compile the fuzz crate's
# ~150 instrumented dependencies again (4-5 minutes on 2 cores): by default the target directory
# is $OSD_FUZZ_CACHE/<key> (OSD_FUZZ_CACHE defaults to ~/.cache/openstack-dest/fuzz), the key
# a hash of Cargo.lock, fuzz/Cargo.lock, the toolchain (rustc -vV) and the flags below. Cargo's
# own fingerprints still rebuild whatever changed (the checkout's crates always, in a new
# clone); key directories unused for 14 days are removed. Logs stay in fuzz/target/logs.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
TARGETS=${FUZZ_TARGETS:-"url_options token_answers listing headers"}
export CARGO_TERM_COLOR=never
HOST=$(rustc -vV | sed -n 's/^host: //p')

command -v cargo >/dev/null || { echo "fuzz: cargo is missing: install the Rust toolchain"; exit 1; }
if ! command -v c++ >/dev/null; then
  # libfuzzer-sys compiles libFuzzer's C++ sources.
  echo "fuzz: installing a C++ compiler (build-essential)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential >/dev/null 2>&1 \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential >/dev/null; } \
    || { echo "fuzz: could not install a C++ compiler"; exit 1; }
fi

# The flags cargo-fuzz passes: inline 8-bit counters, a PC table and traced comparisons for
# libFuzzer, --cfg fuzzing. They go to the target crates only (--target keeps build scripts and
# proc macros uninstrumented).
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers=yes"
export RUSTFLAGS="$flags"

if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR=$FUZZ_TARGET_DIR
else
  cache=${OSD_FUZZ_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/openstack-dest/fuzz}
  key=$( { cat Cargo.lock fuzz/Cargo.lock 2>/dev/null; rustc -vV; echo "$flags"; } | sha256sum | cut -c1-16)
  export CARGO_TARGET_DIR=$cache/$key
  mkdir -p "$CARGO_TARGET_DIR" && touch "$CARGO_TARGET_DIR"
  find "$cache" -mindepth 1 -maxdepth 1 -type d -mtime +14 -exec rm -rf {} + 2>/dev/null
fi
LOG_DIR=$ROOT/fuzz/target/logs
mkdir -p "$CARGO_TARGET_DIR" "$LOG_DIR"
BUILD_LOG=$LOG_DIR/fuzz-build.log
echo "fuzz: building $TARGETS (target dir $CARGO_TARGET_DIR)"
start=$(date +%s)
bins=()
for t in $TARGETS; do bins+=(--bin "$t"); done
# fuzz/Cargo.lock pins the versions; not --locked, so that a dependency the main crate gains
# is added to it instead of failing the build. No stdin is read.
if ! cargo build --manifest-path fuzz/Cargo.toml --release --target "$HOST" \
    ${FUZZ_JOBS:+-j "$FUZZ_JOBS"} "${bins[@]}" </dev/null > "$BUILD_LOG" 2>&1; then
  tail -40 "$BUILD_LOG"
  echo "fuzz: the build failed"
  exit 1
fi
echo "fuzz: built in $(( $(date +%s) - start )) s"

BIN_DIR=$CARGO_TARGET_DIR/$HOST/release
failed=0
for t in $TARGETS; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  log=$LOG_DIR/fuzz-$t.log
  # Keep the working corpus small: past 8000 inputs, keep only those that add coverage.
  if [ "$(find "$corpus" -type f | wc -l)" -gt 8000 ]; then
    rm -rf "$corpus.min" && mkdir -p "$corpus.min"
    if "$BIN_DIR/$t" -merge=1 "$corpus.min" "$corpus" </dev/null > "$log" 2>&1; then
      rm -rf "$corpus" && mv "$corpus.min" "$corpus"
    else
      rm -rf "$corpus.min"
    fi
  fi
  dirs=("$corpus")
  for extra in fuzz/seeds/$t fuzz/regressions/$t; do
    [ -d "$extra" ] && dirs+=("$extra")
  done
  dict=()
  [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
  # New inputs go to the first directory (the working corpus); seeds stay as committed.
  "$BIN_DIR/$t" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -max_len=4096 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" \
    -close_fd_mask=1 "${dirs[@]}" </dev/null > "$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # libFuzzer stops at the first crash (a panic, a timeout, running out of memory) and writes it.
  crashes=$(grep -c 'Test unit written to' "$log")
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|^Base64' "$log" | head -8
    echo "  (full log: $log)"
    if [ "$crashes" -eq 0 ]; then
      echo "fuzz $t: did not run to the end (exit $status), ${execs:-0} execs"
      continue
    fi
  fi
  echo "fuzz $t: ${execs:-0} execs, $crashes crashes"
done
exit $failed
