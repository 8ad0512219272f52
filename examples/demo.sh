#!/usr/bin/env bash
# The main job, end to end: install what is missing, build the library, start a real Swift +
# Keystone on 127.0.0.1, back up a directory of real files through the library — once with the
# C example, once with the Python binding —, list it, restore it into new directories and compare
# every byte. Leaves the test bed running (stop it with `make testbed-stop`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
step() { printf '\n== %s\n' "$*"; }

step "installing what is missing and building the library"
bash scripts/install-deps.sh
cargo build 2>&1 | tail -1
LIB="$ROOT/target/debug/libopenstack_dest.so"

step "starting the local OpenStack (Swift + Keystone) on 127.0.0.1"
mkdir -p target/demo
bash tests/openstack/testbed.sh start > target/demo/testbed.log 2>&1 || { tail -30 target/demo/testbed.log; exit 1; }
STATE="${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}"
# shellcheck disable=SC1091
source "$STATE/env.sh"
echo "Keystone v3 at $OSD_AUTH_V3, Swift proxies at $OSD_SWIFT1 ($OSD_REGION1) and $OSD_SWIFT2 ($OSD_REGION2)"

step "collecting real files to back up"
work=$(mktemp -d /tmp/osd-demo.XXXXXX)
src="$work/source"
mkdir -p "$src"
cp -r src include examples tests/openstack "$src/"
cp "$LIB" "$src/libopenstack_dest.so"
cp -rL /usr/share/common-licenses "$src/licenses" 2>/dev/null || true
printf 'a name with spaces, + and %% and unicode: été\n' > "$src/notes été + 100%.txt"
files=$(find "$src" -type f | wc -l)
bytes=$(du -sb "$src" | cut -f1)
echo "$files files, $bytes bytes under $src"

stamp=$(date +%Y%m%d-%H%M%S)
base="auth-username=$OSD_USER&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-region=$OSD_REGION2"

step "C: examples/c/backup_dir backs up, restores and compares (through $OSD_REGION2)"
# Built against the checkout the way README says: the library is found through the rpath.
for prog in backup_dir oscli; do
  cc -std=c99 -Wall -Wextra -Werror -I include "examples/c/$prog.c" -L target/debug -lopenstack_dest \
    -Wl,-rpath,"$ROOT/target/debug" -o "target/demo/$prog"
done
export OPENSTACK_DEST_URL="openstack://demo-c-$stamp/backup?$base&auth-password=$OSD_PASSWORD"
target/demo/oscli mkcontainer
target/demo/backup_dir "$src" "$work/restored-c"
echo "listing the top of the backup with examples/c/oscli:"
target/demo/oscli ls > "$work/ls-c.txt"
head -12 "$work/ls-c.txt"
compare() {
  if diff -r "$src" "$2" >/dev/null; then
    echo "$1: every byte of $files files restored identically into $2"
  else
    diff -r "$src" "$2" | head -20
    echo "$1: the restored copy differs from the original"
    exit 1
  fi
}
compare C "$work/restored-c"

step "Python: examples/python/backup_restore.py with the openstack_dest package"
export PYTHONPATH="$ROOT/bindings/python/src" OPENSTACK_DEST_LIB="$LIB"
export OPENSTACK_DEST_PASSWORD="$OSD_PASSWORD"
url="openstack://demo-py-$stamp/laptop/home?$base"
python3 examples/python/backup_restore.py backup "$src" "$url" > "$work/backup-py.txt"
tail -1 "$work/backup-py.txt"
python3 examples/python/backup_restore.py list "$url" > "$work/ls-py.txt"
head -12 "$work/ls-py.txt"; echo "… ($(wc -l < "$work/ls-py.txt") lines)"
python3 examples/python/backup_restore.py restore "$url" "$work/restored-py" > "$work/restore-py.txt"
tail -1 "$work/restore-py.txt"
compare Python "$work/restored-py"

step "done"
echo "backed up $files files ($bytes bytes) twice, into containers demo-c-$stamp and demo-py-$stamp;"
echo "restored copies: $work/restored-c and $work/restored-py (identical to $work/source)."
echo "The test bed keeps running: settings in $STATE/env.sh; stop it with 'make testbed-stop'."
