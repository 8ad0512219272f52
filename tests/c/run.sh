#!/usr/bin/env bash
# C layer: checks the header (C99, C++), builds the C examples and the C test program against
# include/ and the library, runs the program plain, under valgrind and under ASan+UBSan, and runs
# the oscli and backup_dir examples once against the real server, and oscli's own tests (cli.sh),
# in the plain mode. Prints the lines
#   c: N passed, N failed     c-valgrind: N passed, N failed     c-asan: N passed, N failed
# usage: tests/c/run.sh [plain] [valgrind] [asan] [-- TEST...]   (no mode: all three)
# Library: $OSD_LIB_DIR (default target/debug). Output: target/c/. Real server or not is decided by
# tests/openstack/server-env.sh. Work per thread under valgrind/ASan: OSD_C_SAN_THREAD_ITERS (default 2).
# shellcheck disable=SC2317 # the mode_* functions are called as "mode_$m"
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$ROOT/tests/c INC=$ROOT/include OUT=$ROOT/target/c
LIB_DIR=${OSD_LIB_DIR:-$ROOT/target/debug}
CC=${CC:-gcc} CXX=${CXX:-g++}
modes=() tests=()
while [ $# -gt 0 ]; do
  case $1 in
    plain|valgrind|asan) modes+=("$1") ;;
    --) shift; tests=("$@"); break ;;
    *) echo "usage: $0 [plain] [valgrind] [asan] [-- TEST...]" >&2; exit 2 ;;
  esac
  shift
done
[ ${#modes[@]} -eq 0 ] && modes=(plain valgrind asan)
label() { if [ "$1" = plain ]; then echo c; else echo "c-$1"; fi; }
# shellcheck source-path=SCRIPTDIR source=../openstack/server-env.sh
. "$ROOT/tests/openstack/server-env.sh" || { for m in "${modes[@]}"; do echo "$(label "$m"): 0 passed, 1 failed"; done; exit 1; }

pass=0 fail=0 skip=0 overall=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
summary() {
  echo "$1: $pass passed, $fail failed"
  [ "$skip" -eq 0 ] || echo "$1: $skip skipped: $OSD_SERVER_SKIP"
  [ "$fail" -eq 0 ] || overall=1
  pass=0 fail=0 skip=0
}

mkdir -p "$OUT"
[ -f "$LIB_DIR/libopenstack_dest.so" ] || { echo "run.sh: no $LIB_DIR/libopenstack_dest.so (cargo build)" >&2; exit 1; }
# Linked the way README says for the checkout: the library (no versioned SONAME in the
# checkout) is found through the rpath.
WARN=(-std=c99 -Wall -Wextra -Werror)
# shellcheck disable=SC2054 # the commas belong to -Wl
LINK=(-L"$LIB_DIR" -Wl,-rpath,"$LIB_DIR" -lopenstack_dest)
build() { local out=$1; shift; "$CC" "${WARN[@]}" -g -O1 -pthread "$@" -I"$INC" -I"$SRC" -DOSD_TESTS_DIR="\"$ROOT/tests\"" \
  "$SRC/test_main.c" "$SRC/harness.c" "${LINK[@]}" -o "$out"; }

# Runs the test program (after a prefix command such as valgrind) and adds its counts from its last
# line "osd-c-tests: passed=N failed=N skipped=N"; a missing line or a non-zero exit with no failed
# test (a sanitizer or valgrind report) is a failure.
run_program() {
  local log=$1 rc line p f s; shift
  "$@" "${tests[@]}" > "$log" 2>&1; rc=$?
  cat "$log"
  line=$(grep -E '^osd-c-tests: passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+$' "$log" | tail -n 1)
  if [ -z "$line" ]; then bad tests "ended without its summary (exit $rc; $log)"; return; fi
  read -r p f s <<< "$(sed -E 's/.*passed=([0-9]+) failed=([0-9]+) skipped=([0-9]+)/\1 \2 \3/' <<< "$line")"
  pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
  [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || bad tests "exit status $rc although no test failed (see $log)"
}

# The leak probe leaks an os_dest on purpose: the checker must report it.
leak_probe() { # output, compiler flags, then the command that runs it
  local exe=$1 flags=$2; shift 2
  # shellcheck disable=SC2086
  "$CC" "${WARN[@]}" -g $flags -I"$INC" "$SRC/leak_probe.c" "${LINK[@]}" -o "$exe" &&
    ! "$@" "$exe" > "$exe.log" 2>&1 && grep -qE 'definitely lost|byte\(s\) leaked' "$exe.log"
}

# The backup_dir example against the real server (oscli's own tests: cli.sh): a tree backed up and
# restored, then removed with oscli, leaving nothing.
examples() {
  local t q burl run=$$-$RANDOM cli=$OUT/oscli f
  if [ -n "${OSD_SERVER_SKIP:-}" ]; then echo "skip examples: $OSD_SERVER_SKIP"; skip=$((skip + 1)); return; fi
  t=$(mktemp -d)
  q="auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-region=$OSD_REGION1"
  burl="openstack://osdc-examples/$run/backup?$q" # one shared container, a prefix per run
  mkdir -p "$t/src/sub dir" && head -c 3000001 /dev/urandom > "$t/src/sub dir/a+b.bin" && : > "$t/src/empty"
  check backup-dir "$OUT/backup_dir" "$burl" "$t/src" "$t/restore"
  check backup-dir-tree diff -r "$t/src" "$t/restore"
  for f in "sub dir/a+b.bin" empty; do check "backup-rm $f" "$cli" "$burl" rm "$f"; done
  check examples-leave-nothing bash -c 'out=$("$@") && [ -z "$out" ]' _ "$cli" "openstack://osdc-examples/$run/?$q" ls
  rm -rf "$t"
}

# shellcheck source-path=SCRIPTDIR source=cli.sh
. "$SRC/cli.sh"

# A C++ program links with the library and runs (the declarations are extern "C").
cxx_link() { "$CXX" -Wall -Wextra -Werror -I"$INC" "$SRC/header_cxx.cpp" "${LINK[@]}" -o "$OUT/header_cxx" && "$OUT/header_cxx"; }

mode_plain() {
  local f missing=
  check header-c99 "$CC" -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$INC" -c "$SRC/header_only.c" -o "$OUT/h.o"
  check header-cxx "$CXX" -Wall -Wextra -Werror -I"$INC" -x c++ -c "$SRC/header_only.c" -o "$OUT/hxx.o"
  check header-cxx-link cxx_link
  # Every function the header declares is called by the test program.
  for f in $(grep -vE '^[[:space:]]*(/\*|\*)' "$INC/openstack_dest.h" | grep -oE '\bos_[a-z_]+[[:space:]]*\(' | tr -d '( \t' | sort -u); do
    grep -qE "\\b$f\\(" "$SRC"/test_*.c "$SRC"/test_*.inc || missing="$missing $f"
  done
  check "header-coverage${missing:+ (untested:$missing)}" test -z "$missing"
  for f in oscli backup_dir; do check "example-$f" "$CC" "${WARN[@]}" -I"$INC" "$ROOT/examples/c/$f.c" "${LINK[@]}" -o "$OUT/$f"; done
  if build "$OUT/osd_c_tests"; then run_program "$OUT/plain.log" "$OUT/osd_c_tests"; else bad build; fi
  if [ ${#tests[@]} -eq 0 ]; then examples; cli_tests "$OUT/oscli"; fi
  summary c
}

mode_valgrind() {
  local vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40)
  if build "$OUT/osd_c_tests"; then
    OSD_C_THREAD_ITERS=${OSD_C_SAN_THREAD_ITERS:-2} run_program "$OUT/valgrind.log" "${vg[@]}" "$OUT/osd_c_tests"
  else bad build; fi
  check valgrind-detects-leaks leak_probe "$OUT/leak_probe_vg" "" "${vg[@]}"
  summary c-valgrind
}

mode_asan() {
  local san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # shellcheck disable=SC2086
  if build "$OUT/osd_c_tests_asan" $san; then
    OSD_C_THREAD_ITERS=${OSD_C_SAN_THREAD_ITERS:-2} run_program "$OUT/asan.log" "$OUT/osd_c_tests_asan"
  else bad build; fi
  check asan-detects-leaks leak_probe "$OUT/leak_probe_asan" "$san" env
  summary c-asan
}

for m in "${modes[@]}"; do echo "== c ($m)"; "mode_$m"; done
exit $overall
