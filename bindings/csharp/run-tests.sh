#!/usr/bin/env bash
# Builds the C# binding and its NUnit tests with Mono's mcs and runs them against libopenstack_dest.
#   bash bindings/csharp/run-tests.sh
# Environment: OPENSTACK_DEST_LIB (library to test; default target/debug/libopenstack_dest.so);
# OSD_CS_RUN runs only the named tests (nunit-console -run: e.g. OpenStackDest.Tests.OfflineTests).
# Whether real-server tests run, are ignored (with the reason) or fail the run is decided by
# tests/openstack/server-env.sh (the test bed, CI, OSD_REQUIRE_SERVER).
# Prints "csharp: N passed, N failed" on a line of its own; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/target/csharp"

need=()
command -v mcs >/dev/null 2>&1 || need+=(mono-mcs)
command -v nunit-console >/dev/null 2>&1 || need+=(nunit-console)
nunit_dll="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -n1 || true)"
[ -n "$nunit_dll" ] || need+=(libnunit-cil-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt_get=(apt-get)
    [ "$(id -u)" = 0 ] || apt_get=(sudo -n apt-get)
    if ! "${apt_get[@]}" install -y --no-install-recommends mono-mcs nunit-console libnunit-cil-dev >&2; then
        "${apt_get[@]}" update >&2
        "${apt_get[@]}" install -y --no-install-recommends mono-mcs nunit-console libnunit-cil-dev >&2
    fi
    nunit_dll="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll | head -n1)"
fi

lib="${OPENSTACK_DEST_LIB:-$root/target/debug/libopenstack_dest.so}"
if [ ! -f "$lib" ]; then
    echo "csharp: library not found at $lib (build it with 'cargo build' or set OPENSTACK_DEST_LIB)" >&2
    echo "csharp: 0 passed, 1 failed"
    exit 1
fi
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

# shellcheck source-path=SCRIPTDIR source=../../tests/openstack/server-env.sh
. "$root/tests/openstack/server-env.sh" || { echo "csharp: 0 passed, 1 failed"; exit 1; }

rm -rf "$build"
mkdir -p "$build"
cd "$here"
mcs -langversion:7 -target:library -warnaserror+ -nowarn:1591 \
    -out:"$build/OpenStackDest.dll" src/*.cs
# The example (tests/BackendAdapterTests.cs runs it against the server).
mcs -langversion:7 -target:exe -warnaserror+ -r:"$build/OpenStackDest.dll" -r:System.Core \
    -out:"$build/BackupExample.exe" "$root"/examples/csharp/*.cs
mcs -langversion:7 -target:library -define:NUNIT2 \
    -r:"$build/OpenStackDest.dll" -r:"$build/BackupExample.exe" -r:"$nunit_dll" -r:System.Core \
    -out:"$build/Tests.dll" tests/*.cs
cp "$nunit_dll" "$build/"
ln -sf "$lib" "$build/libopenstack_dest.so"
# The assembly finds the library next to itself; OPENSTACK_DEST_LIB names it explicitly as well.
export OPENSTACK_DEST_LIB="$lib"
# The shared tables (tests/secret_sweep.txt, tests/threads.txt) are read from the repository.
export OSD_REPO_ROOT="$root"

cd "$build"
set +e
nunit-console -nologo -noshadow -noresult ${OSD_CS_RUN:+"-run=$OSD_CS_RUN"} Tests.dll 2>&1 | tee "$build/nunit.log"
rc=${PIPESTATUS[0]}
set -e

summary="$(grep -E 'Tests run: [0-9]+, Errors: [0-9]+, Failures: [0-9]+' "$build/nunit.log" | tail -n1 || true)"
if [ -z "$summary" ]; then
    echo "csharp: no NUnit summary (nunit-console exit status $rc)" >&2
    echo "csharp: 0 passed, 1 failed"
    exit 1
fi
num() { sed -nE "s/.*$1: ([0-9]+).*/\1/p" <<<"$2"; }
run=$(num 'Tests run' "$summary")
errors=$(num 'Errors' "$summary")
failures=$(num 'Failures' "$summary")
inconclusive=$(num 'Inconclusive' "$summary"); inconclusive=${inconclusive:-0}
notrun_line="$(grep -E 'Not run: [0-9]+' "$build/nunit.log" | tail -n1 || true)"
ignored=$(num 'Ignored' "$notrun_line"); ignored=${ignored:-0}
failed=$((errors + failures))
passed=$((run - failed - inconclusive))
if [ "$ignored" -gt 0 ]; then
    echo "csharp: $ignored ignored (see the reasons above)"
fi
echo "csharp: $passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
    exit 1
fi
