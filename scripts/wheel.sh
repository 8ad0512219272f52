#!/usr/bin/env bash
# make wheel: the Python package as PyPI ships such packages. Builds the release library, then
# `pip wheel ./bindings/python`, which puts it inside and tags the wheel
# py3-none-manylinux_X_Y_ARCH (ctypes, so any Python 3; X.Y the newest glibc symbol version the
# library needs, read by setup.py; never none-any), then `auditwheel show`, which must find the
# wheel consistent with exactly that tag (the library needs nothing a manylinux system lacks).
# The wheel is left in target/wheel/.
#
#   scripts/wheel.sh           build it
#   scripts/wheel.sh --check   build it, then check it: its tag, the versions of the wheel, the
#                              crate, the header and the library agree, and a smoke test (open,
#                              put, get, list, stat, delete) in a fresh venv outside the checkout,
#                              with no OPENSTACK_DEST_LIB, against the test bed (whose settings
#                              come from tests/openstack/server-env.sh). Prints
#                              `wheel: N passed, N failed`; exit status 0 only if all passed.
# auditwheel goes into the venv target/wheel-tools.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT="$ROOT/target/wheel"
TOOLS="$ROOT/target/wheel-tools"
check_mode=0
[ "${1:-}" = "--check" ] && check_mode=1

passed=0; failed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   wheel $what"
  else failed=$((failed + 1)); echo "FAIL wheel $what"; fi
}
finish() {
  echo "wheel: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
fatal() { echo "wheel: $*"; failed=$((failed + 1)); finish; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

echo "wheel: building the release library"
cargo build --release --lib 2>&1 | tail -1
[ "${PIPESTATUS[0]}" -eq 0 ] || fatal "cargo build --release failed"

if ! "$TOOLS/bin/python" -c 'import auditwheel' >/dev/null 2>&1; then
  echo "wheel: installing auditwheel into $TOOLS"
  rm -rf "$TOOLS"
  /usr/bin/python3 -m venv "$TOOLS" || fatal "cannot create $TOOLS (apt-get install python3-venv)"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check auditwheel || fatal "pip install auditwheel failed"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
echo "wheel: pip wheel ./bindings/python (with target/release/libopenstack_dest.so)"
OPENSTACK_DEST_PROFILE=release "$TOOLS/bin/pip" wheel -q --disable-pip-version-check --no-deps \
  -w "$OUT" ./bindings/python || fatal "pip wheel failed"
wheel=$(ls "$OUT"/*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || fatal "pip wheel made no wheel"
name=$(basename "$wheel")
# auditwheel show: the most compatible manylinux tag the wheel's library allows (its lines wrap).
PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/auditwheel" show "$wheel" > "$OUT/auditwheel-show.log" 2>&1
plat=$(tr '\n' ' ' < "$OUT/auditwheel-show.log" | sed -n 's/.*platform tag: *"\(manylinux_[^"]*\)".*/\1/p')
echo "wheel: $wheel ($(du -h "$wheel" | cut -f1)); auditwheel show: ${plat:-no manylinux tag}"
if [ "$check_mode" = 0 ]; then
  [[ -n "$plat" && "$name" == *"-py3-none-$plat.whl" ]] || fatal "the wheel's tag is not auditwheel's $plat (see $OUT/auditwheel-show.log)"
  exit 0
fi

# ---- the checks ----
check "is tagged manylinux for this machine, py3, no ABI" \
  bash -c '[[ "$1" =~ ^openstack_dest-[^-]+-py3-none-manylinux_[0-9]+_[0-9]+_$(uname -m)\.whl$ ]]' _ "$name"
check "is not none-any" bash -c '[[ "$1" != *none-any* ]]' _ "$name"
check "has exactly the platform tag auditwheel show finds (${plat:-none})" \
  bash -c '[ -n "$1" ] && [[ "$2" == *"-py3-none-$1.whl" ]]' _ "$plat" "$name"
check "carries the release library" bash -c \
  'unzip -p "$1" openstack_dest/libopenstack_dest.so | cmp -s - "$2"' _ "$wheel" target/release/libopenstack_dest.so
header=$(sed -n 's/^#define OPENSTACK_DEST_VERSION "\(.*\)"/\1/p' include/openstack_dest.h)
pyproject=$(sed -n 's/^version = "\(.*\)"/\1/p' bindings/python/pyproject.toml)
check "version of the wheel ($(echo "$name" | cut -d- -f2)), the crate ($version), the header ($header) and pyproject ($pyproject) agree" \
  bash -c '[ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$3" = "$4" ]' _ "$(echo "$name" | cut -d- -f2)" "$version" "$header" "$pyproject"

# shellcheck source-path=SCRIPTDIR source=../tests/openstack/server-env.sh
. "$ROOT/tests/openstack/server-env.sh" || fatal "no test bed for the smoke test"
if [ -n "${OSD_SERVER_SKIP:-}" ]; then
  echo "wheel: smoke test skipped: $OSD_SERVER_SKIP"
  finish
fi

scratch=$(mktemp -d /tmp/osd-wheel.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
/usr/bin/python3 -m venv "$scratch/venv" || fatal "cannot create a venv"
check "installs into a fresh venv" "$scratch/venv/bin/pip" install -q --disable-pip-version-check "$wheel"
cat > "$scratch/smoke.py" <<'PY'
import os, sys, time, uuid
import openstack_dest
from openstack_dest import Destination, NotFoundError

version, site = sys.argv[1], sys.argv[2]
assert "OPENSTACK_DEST_LIB" not in os.environ
assert openstack_dest.library_path.startswith(site), openstack_dest.library_path
assert openstack_dest.version() == openstack_dest.__version__ == version, (openstack_dest.version(), version)
e = os.environ
url = (f"openstack://wheel-smoke-{uuid.uuid4().hex[:12]}/p?auth-username={e['OSD_USER']}"
       f"&openstack-tenant-name={e['OSD_PROJECT']}&openstack-domain-name=Default"
       f"&openstack-authuri={e['OSD_AUTH_V3']}")
with Destination(url, {"auth-password": e["OSD_PASSWORD"]}) as d:
    d.create_container()
    data = os.urandom(100_000)
    d.put("a/b.bin", data)
    assert d.get("a/b.bin") == data
    assert [(x.name, x.kind) for x in d.list()] == [("a", "folder")]
    assert [(x.name, x.size, x.kind) for x in d.list(recursive=True)] == [("a/b.bin", len(data), "object")]
    assert d.stat("a/b.bin").etag_is_md5
    d.delete("a/b.bin")
    try:
        d.stat("a/b.bin")
        raise AssertionError("deleted, still there")
    except NotFoundError:
        pass
    d.delete_container()
print(f"smoke: openstack_dest {openstack_dest.version()} from {openstack_dest.library_path}: ok")
PY
site=$("$scratch/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
check "passes the smoke test in that venv (outside the checkout, no OPENSTACK_DEST_LIB)" \
  env -u OPENSTACK_DEST_LIB -u PYTHONPATH -C "$scratch" "$scratch/venv/bin/python" "$scratch/smoke.py" "$version" "$site"
finish
