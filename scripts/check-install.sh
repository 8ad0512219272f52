#!/usr/bin/env bash
# Checks `make install`: installs the (debug) build into a scratch prefix, then builds and runs a
# C program with nothing but `pkg-config --cflags --libs openstack_dest`, and checks the SONAME
# and that only os_* symbols are exported. Prints `install: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d /tmp/osd-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
passed=0; failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "install check failed: $*"; fi; }

make -s install PROFILE=debug PREFIX="$prefix" >/dev/null
check test -f "$prefix/include/openstack_dest.h"
check test -f "$prefix/lib/libopenstack_dest.a"
check test -L "$prefix/lib/libopenstack_dest.so"
soname=$(objdump -p "$prefix/lib/libopenstack_dest.so" | awk '$1 == "SONAME" { print $2 }')
# 0.MINOR before 1.0 (README's ABI policy)
minor=$(sed -n 's/^version = "0\.\([0-9]*\)\..*/\1/p' Cargo.toml | head -1)
check test "$soname" = "libopenstack_dest.so.0.$minor"
check test -e "$prefix/lib/$soname"
others=$(nm -D --defined-only "$prefix/lib/libopenstack_dest.so" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^os_/ { print $3 }')
check test -z "$others"
cat > "$prefix/app.c" <<'C'
#include <openstack_dest.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  os_dest *d = os_open("openstack://c/?auth-username=u");
  if (d != NULL) return 1;
  printf("%s %s\n", os_version(), os_last_error_message());
  return strcmp(os_version(), OPENSTACK_DEST_VERSION) != 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
check cc -std=c99 -Wall -Wextra -Werror "$prefix/app.c" -o "$prefix/app" $(pkg-config --cflags --libs openstack_dest)
check env LD_LIBRARY_PATH="$prefix/lib" "$prefix/app"
# shellcheck disable=SC2046
check cc -std=c99 -Wall -Wextra -Werror "$prefix/app.c" -o "$prefix/app-static" $(pkg-config --cflags openstack_dest) "$prefix/lib/libopenstack_dest.a" $(pkg-config --libs-only-other --static openstack_dest | sed 's/-lopenstack_dest//') -lpthread -ldl -lm
check "$prefix/app-static"
# no executable stack in a program linked with the .a (md-5's assembly is built without one)
check test -z "$(readelf -lW "$prefix/app-static" | awk '$1 == "GNU_STACK" && $7 ~ /E/')"
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
