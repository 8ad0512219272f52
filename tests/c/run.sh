#!/usr/bin/env bash
# C tests of libopenstack_dest: header checks, the C examples, and the C test program, run
#   plain     -> prints "c: N passed, N failed"
#   valgrind  -> prints "c-valgrind: N passed, N failed"
#   asan      -> prints "c-asan: N passed, N failed"   (built with -fsanitize=address,undefined)
#
# usage: tests/c/run.sh [plain] [valgrind] [asan] [-- TEST...]   (no mode: all three)
#
# Library: $OSD_LIB_DIR (default target/debug); header: include/. Build output: target/c/.
# Server: the test bed's env.sh (${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh) is sourced when
# OSD_AUTH_V3 is not already set. Without a server, real-server tests are skipped with a reason;
# with CI or OSD_REQUIRE_SERVER set they fail instead.
# Knobs: OSD_C_BIG_MB (big streaming test, default 256 plain), OSD_C_SAN_BIG_MB (valgrind/ASan, default 8),
# OSD_C_SAN_THREAD_ITERS (work per thread under valgrind/ASan, default 2), CC, CXX.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$ROOT/tests/c
INC=$ROOT/include
LIB_DIR=${OSD_LIB_DIR:-$ROOT/target/debug}
OUT=$ROOT/target/c
CC=${CC:-gcc}
CXX=${CXX:-g++}

modes=()
tests=()
while [ $# -gt 0 ]; do
  case $1 in
    plain|valgrind|asan) modes+=("$1") ;;
    --) shift; tests=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (modes: plain valgrind asan; '-- TEST...' selects tests)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#modes[@]} -eq 0 ] && modes=(plain valgrind asan)

if [ -z "${OSD_AUTH_V3:-}" ]; then
  envfile=${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh
  if [ -f "$envfile" ]; then
    # shellcheck disable=SC1090
    . "$envfile"
  fi
fi
server_required=0
[ -n "${CI:-}" ] || [ -n "${OSD_REQUIRE_SERVER:-}" ] && server_required=1

# Test containers are named osdc-<run id>-...; the test program deletes them itself
# (os_delete_container with empty_first). On exit cleanup.py (python-swiftclient from the test bed,
# best effort) removes what a crashed or killed run left behind.
RUN_BASE=$$-$RANDOM
cleanup_containers() {
  if [ -n "${OSD_AUTH_V3:-}" ] && [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 "$SRC/cleanup.py" "osdc-$RUN_BASE-" || echo "note: could not remove the test containers osdc-$RUN_BASE-*"
  fi
}
trap cleanup_containers EXIT

mkdir -p "$OUT"
export LD_LIBRARY_PATH=$LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
WARN=(-std=c99 -Wall -Wextra -Werror)
LINK=(-L"$LIB_DIR" -Wl,-rpath,"$LIB_DIR" -lopenstack_dest)
TEST_SRCS=("$SRC/test_main.c" "$SRC/util.c" "$SRC/harness.c")
overall=0

# ---- counting ----
pass=0 fail=0 skip=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
skipped() { skip=$((skip + 1)); echo "skip $1: $2"; }
summary() { # label
  echo "$1: $pass passed, $fail failed"
  [ "$skip" -gt 0 ] && echo "$1: $skip skipped"
  [ "$fail" -gt 0 ] && overall=1
  pass=0 fail=0 skip=0
}
# Adds the counts of the test program's last "osd-c-tests: passed=N failed=N skipped=N" line in
# log; returns 1 when there is none (the program crashed or did not run).
add_counts() {
  local line p f s
  line=$(grep -E '^osd-c-tests: passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+$' "$1" | tail -n 1)
  [ -n "$line" ] || return 1
  p=${line#*passed=}; p=${p%% *}
  f=${line#*failed=}; f=${f%% *}
  s=${line#*skipped=}
  pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

if [ ! -f "$LIB_DIR/libopenstack_dest.so" ]; then
  echo "run.sh: $LIB_DIR/libopenstack_dest.so not found (build it: cargo build, or set OSD_LIB_DIR)" >&2
  for m in "${modes[@]}"; do
    case $m in plain) l=c ;; *) l=c-$m ;; esac
    bad "library" "libopenstack_dest.so missing"; summary "$l"
  done
  exit 1
fi

# The library carries a SONAME (e.g. libopenstack_dest.so.0): programs linked with -lopenstack_dest
# load that name at run time. When LIB_DIR lacks it (cargo writes only libopenstack_dest.so), a link
# in target/c/lib stands in, and the programs find it through their rpath and LD_LIBRARY_PATH.
RUN_LIB_DIR=$LIB_DIR
soname=$(objdump -p "$LIB_DIR/libopenstack_dest.so" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
if [ -n "$soname" ] && [ "$soname" != libopenstack_dest.so ] && [ ! -e "$LIB_DIR/$soname" ]; then
  mkdir -p "$OUT/lib"
  ln -sfn "$LIB_DIR/libopenstack_dest.so" "$OUT/lib/$soname"
  RUN_LIB_DIR=$OUT/lib
  echo "note: $LIB_DIR has no $soname (the library's SONAME); using the link $OUT/lib/$soname"
fi
export LD_LIBRARY_PATH=$RUN_LIB_DIR:$LD_LIBRARY_PATH
LINK=(-L"$LIB_DIR" -Wl,-rpath,"$RUN_LIB_DIR" -lopenstack_dest)

build_tests() { # output, extra flags...
  local out=$1; shift
  "$CC" "${WARN[@]}" -g -O1 -pthread "$@" -I"$INC" -I"$SRC" "${TEST_SRCS[@]}" "${LINK[@]}" -o "$out"
}

# Runs the test program with a prefix command (e.g. valgrind); counts its results.
run_program() { # label, log, command...
  local label=$1 log=$2 rc; shift 2
  "$@" "${tests[@]}" > "$log" 2>&1
  rc=$?
  cat "$log"
  if ! add_counts "$log"; then
    bad "$label" "the test program ended without its summary (exit status $rc; see $log)"
  elif [ "$rc" -ne 0 ] && ! grep -qE '^osd-c-tests: passed=[0-9]+ failed=[1-9]' "$log"; then
    bad "$label" "exit status $rc although no test failed (sanitizer or valgrind report above; see $log)"
  fi
}

# ---- CLI and backup example against the real server ----
cli_check() { # name, expected exit status, command... ; stdout/stderr kept in $CLI_OUT/$CLI_ERR
  local name=$1 want=$2 rc; shift 2
  "$@" > "$CLI_OUT" 2> "$CLI_ERR"
  rc=$?
  if [ "$rc" -eq "$want" ]; then
    ok "$name"; return 0
  fi
  bad "$name" "exit status $rc, expected $want; stderr: $(head -c 400 "$CLI_ERR" | tr '\n' ' ')"
  return 1
}
expect() { # name, condition description, test command...
  local name=$1 what=$2; shift 2
  if "$@"; then ok "$name"; else bad "$name" "$what"; fi
}
no_secret() { # file: 0 when no secret of the test bed appears in it
  local s
  for s in "${OSD_PASSWORD:-}" "${OSD_APIKEY:-}" "Wrong-Password-4711"; do
    [ -n "$s" ] && grep -qF -- "$s" "$1" && return 1
  done
  return 0
}

cli_tests() {
  local oscli=$OUT/oscli backup=$OUT/backup_dir tmp cont url q wrong
  if [ -z "${OSD_AUTH_V3:-}" ]; then
    if [ "$server_required" = 1 ]; then bad "cli" "real server required (CI/OSD_REQUIRE_SERVER) but OSD_AUTH_V3 is not set"
    else skipped "cli" "OSD_AUTH_V3 is not set (start the test bed: bash tests/openstack/testbed.sh start)"; fi
    return
  fi
  [ -x "$oscli" ] && [ -x "$backup" ] || { bad "cli" "the examples did not build"; return; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/osd-c-cli.XXXXXX")
  CLI_OUT=$tmp/out CLI_ERR=$tmp/err
  cont=osdc-$RUN_BASE-cli
  q="auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-version=v3&openstack-region=$OSD_REGION1"
  url="openstack://$cont/cli?$q"
  wrong="openstack://$cont/cli?${q/auth-password=$OSD_PASSWORD/auth-password=Wrong-Password-4711}"
  head -c 3000001 /dev/urandom > "$tmp/a.bin"

  cli_check cli-usage-none 2 "$oscli"
  cli_check cli-usage-command 2 "$oscli" "$url" frobnicate
  cli_check cli-usage-args 2 "$oscli" "$url" mv only-one
  cli_check cli-help 0 "$oscli" -h
  cli_check cli-bad-url 12 "$oscli" "openstack://$cont/cli?auth-username=u" test &&
    expect cli-bad-url-message "stderr is not 'oscli: OS_ERR_INVALID_URL: ...'" grep -q '^oscli: OS_ERR_INVALID_URL: .' "$CLI_ERR"
  cli_check cli-missing-container 16 "$oscli" "$url" test &&
    expect cli-missing-container-message "stderr is not 'oscli: OS_ERR_CONTAINER_NOT_FOUND: ...'" \
      grep -q '^oscli: OS_ERR_CONTAINER_NOT_FOUND: .' "$CLI_ERR"
  cli_check cli-wrong-password 13 "$oscli" "$wrong" test &&
    expect cli-wrong-password-no-secret "stderr shows a password" no_secret "$CLI_ERR"
  cli_check cli-mkcontainer 0 "$oscli" "$url" mkcontainer
  cli_check cli-test 0 "$oscli" -v "$url" test &&
    expect cli-test-ok "stdout is not 'ok'" grep -qx ok "$CLI_OUT" &&
    expect cli-verbose-log "no '-v' log line on stderr" grep -q '^oscli: \[' "$CLI_ERR" &&
    expect cli-verbose-no-secret "the log shows a password" no_secret "$CLI_ERR"
  cli_check cli-put-file 0 "$oscli" "$url" put "dir/a.bin" "$tmp/a.bin"
  # URL from the environment; stdin from a pipe (unknown size) and from a file (known size).
  cli_check cli-put-stdin-pipe 0 env OPENSTACK_DEST_URL="$url" sh -c 'cat "$1" | "$2" put "b c+d%.bin" -' sh "$tmp/a.bin" "$oscli"
  cli_check cli-put-stdin-file 0 env OPENSTACK_DEST_URL="$url" sh -c '"$2" put "e.bin" < "$1"' sh "$tmp/a.bin" "$oscli"
  cli_check cli-ls 0 "$oscli" "$url" ls &&
    expect cli-ls-file "no '3000001  <UTC time>  b c+d%.bin' line" \
      grep -qE '^ +3000001  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  b c\+d%\.bin$' "$CLI_OUT" &&
    expect cli-ls-folder "no folder line 'dir/'" grep -qE '^ +-  .*  dir/$' "$CLI_OUT"
  cli_check cli-stat 0 "$oscli" "$url" stat "e.bin" &&
    expect cli-stat-size "stat does not show size 3000001" grep -qE '^size: +3000001$' "$CLI_OUT"
  cli_check cli-get-stdout 0 sh -c '"$1" "$2" get "b c+d%.bin" - > "$3"' sh "$oscli" "$url" "$tmp/b.out" &&
    expect cli-get-stdout-bytes "downloaded bytes differ" cmp -s "$tmp/a.bin" "$tmp/b.out"
  cli_check cli-get-file 0 "$oscli" "$url" get "dir/a.bin" "$tmp/a.out" &&
    expect cli-get-file-bytes "downloaded bytes differ" cmp -s "$tmp/a.bin" "$tmp/a.out"
  cli_check cli-mv 0 "$oscli" "$url" mv "b c+d%.bin" "moved.bin"
  cli_check cli-get-missing 15 "$oscli" "$url" get "b c+d%.bin" "$tmp/never.out" &&
    expect cli-get-missing-message "stderr is not 'oscli: OS_ERR_NOT_FOUND: ...'" grep -q '^oscli: OS_ERR_NOT_FOUND: .' "$CLI_ERR"
  cli_check cli-quota 0 "$oscli" "$url" quota &&
    expect cli-quota-output "no 'containers:' line" grep -qE '^containers: +[0-9]+$' "$CLI_OUT"
  cli_check cli-rm 0 "$oscli" "$url" rm "moved.bin"
  cli_check cli-rm-missing 15 "$oscli" "$url" rm "moved.bin"
  "$oscli" "$url" rm "dir/a.bin" >/dev/null 2>&1
  "$oscli" "$url" rm "e.bin" >/dev/null 2>&1

  # backup_dir: a tree with nested folders, odd names, an empty and a larger file.
  mkdir -p "$tmp/src/sub/deeper" "$tmp/src/with space"
  head -c 1048583 /dev/urandom > "$tmp/src/big.bin"
  : > "$tmp/src/empty"
  echo hello > "$tmp/src/sub/deeper/hello.txt"
  echo plus > "$tmp/src/with space/a+b%c?.txt"
  printf '\xc3\xa9t\xc3\xa9' > "$tmp/src/sub/$(printf '\xc3\xa9t\xc3\xa9').txt"
  ln -s big.bin "$tmp/src/link-not-followed"
  cli_check backup-dir 0 "$backup" "openstack://$cont/backup?$q" "$tmp/src" "$tmp/restore" &&
    expect backup-dir-tree "the restored tree differs (diff -r)" \
      diff <(cd "$tmp/src" && find . -type f | sort) <(cd "$tmp/restore" && find . -type f | sort) &&
    expect backup-dir-bytes "restored bytes differ" diff -r -x link-not-followed "$tmp/src" "$tmp/restore"
  (cd "$tmp/src" && find . -type f) | while IFS= read -r f; do
    "$oscli" "openstack://$cont/backup?$q" rm "${f#./}" >/dev/null 2>&1
  done
  expect cli-cleanup "objects are left in the container" sh -c 'out=$("$1" "$2" ls) && [ -z "$out" ]' sh "$oscli" "openstack://$cont/?$q"
  rm -rf "$tmp"
}

# ---- modes ----
mode_plain() {
  local f
  echo "== c (plain)"
  # The header alone, as C99 (pedantic) and as C++; then linked from C++ (needs extern "C").
  if "$CC" -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$INC" -c "$SRC/header_only.c" -o "$OUT/header_only.o"; then
    ok header-c99; else bad header-c99; fi
  if "$CXX" -Wall -Wextra -Werror -I"$INC" -x c++ -c "$SRC/header_only.c" -o "$OUT/header_only_cxx.o"; then
    ok header-cxx; else bad header-cxx; fi
  if "$CXX" -Wall -Wextra -Werror -I"$INC" "$SRC/header_cxx.cpp" "${LINK[@]}" -o "$OUT/header_cxx" 2> "$OUT/header_cxx.log" &&
    "$OUT/header_cxx"; then ok header-cxx-link
  else bad header-cxx-link "a C++ program does not link or run (are the declarations extern \"C\"?): $(grep -m1 -o 'undefined reference to [^ ]*' "$OUT/header_cxx.log")"; fi
  # Every function of the header is exercised by the tests.
  local missing=""
  # (declarations only: comment lines, which may name a function in prose, are left out)
  for f in $(grep -vE '^[[:space:]]*(/\*|\*)' "$INC/openstack_dest.h" | grep -oE '\bos_[a-z_]+[[:space:]]*\(' | tr -d '( \t' | sort -u); do
    grep -qE "\\b$f\\(" "$SRC"/test_*.c "$SRC"/test_*.inc || missing="$missing $f"
  done
  if [ -z "$missing" ]; then ok header-coverage; else bad header-coverage "untested:$missing"; fi
  # The examples build with the documented command line.
  for f in oscli backup_dir; do
    if "$CC" "${WARN[@]}" -I"$INC" "$ROOT/examples/c/$f.c" "${LINK[@]}" -o "$OUT/$f"; then
      ok "example-$f"; else bad "example-$f"; fi
  done
  if build_tests "$OUT/osd_c_tests"; then
    OSD_C_RUN_ID=$RUN_BASE-p run_program tests "$OUT/plain.log" "$OUT/osd_c_tests"
  else
    bad build "the test program does not compile"
  fi
  [ ${#tests[@]} -eq 0 ] && cli_tests
  summary c
}

mode_valgrind() {
  echo "== c-valgrind"
  if ! command -v valgrind >/dev/null; then bad valgrind "valgrind is not installed"; summary c-valgrind; return; fi
  if build_tests "$OUT/osd_c_tests"; then
    OSD_C_RUN_ID=$RUN_BASE-v OSD_C_BIG_MB=${OSD_C_SAN_BIG_MB:-8} OSD_C_THREAD_ITERS=${OSD_C_SAN_THREAD_ITERS:-2} \
      run_program tests "$OUT/valgrind.log" valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40 "$OUT/osd_c_tests"
  else
    bad build "the test program does not compile"
  fi
  # Leak detection really works on the library's allocations: a leaked handle must be reported.
  if "$CC" "${WARN[@]}" -g -I"$INC" "$SRC/leak_probe.c" "${LINK[@]}" -o "$OUT/leak_probe_vg" &&
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite "$OUT/leak_probe_vg" > "$OUT/leak_probe_vg.log" 2>&1
  then
    bad valgrind-detects-leaks "a deliberately leaked os_dest was not reported (see $OUT/leak_probe_vg.log)"
  elif grep -q 'definitely lost' "$OUT/leak_probe_vg.log"; then
    ok valgrind-detects-leaks
  else
    bad valgrind-detects-leaks "no 'definitely lost' report for a leaked os_dest (see $OUT/leak_probe_vg.log)"
  fi
  summary c-valgrind
}

mode_asan() {
  echo "== c-asan"
  if build_tests "$OUT/osd_c_tests_asan" -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer; then
    # Leak suppressions, if any, only cover the Rust runtime/std (see the file); never our os_* calls.
    local supp=""
    [ -s "$SRC/lsan.supp" ] && supp=":suppressions=$SRC/lsan.supp"
    ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    LSAN_OPTIONS="print_suppressions=0$supp" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    OSD_C_RUN_ID=$RUN_BASE-a OSD_C_BIG_MB=${OSD_C_SAN_BIG_MB:-8} OSD_C_THREAD_ITERS=${OSD_C_SAN_THREAD_ITERS:-2} \
      run_program tests "$OUT/asan.log" "$OUT/osd_c_tests_asan"
  else
    bad build "the ASan test program does not compile"
  fi
  # Leak detection really works on the library's allocations: a leaked handle must be reported.
  if "$CC" "${WARN[@]}" -g -fsanitize=address,undefined -I"$INC" "$SRC/leak_probe.c" "${LINK[@]}" -o "$OUT/leak_probe" &&
    ! ASAN_OPTIONS=detect_leaks=1 "$OUT/leak_probe" > "$OUT/leak_probe.log" 2>&1 &&
    grep -q 'SUMMARY: AddressSanitizer: [0-9]* byte(s) leaked' "$OUT/leak_probe.log"; then
    ok asan-detects-leaks
  else
    bad asan-detects-leaks "a deliberately leaked os_dest was not reported (see $OUT/leak_probe.log)"
  fi
  summary c-asan
}

for m in "${modes[@]}"; do "mode_$m"; done
exit $overall
