#!/usr/bin/env bash
# Runs the Python binding's tests: creates (or reuses) a venv, installs pytest and the package
# (which bundles the library built in this checkout), then runs pytest -q and exits with its code.
#
#   bindings/python/run-tests.sh [pytest args...]
#
# Environment:
#   OSD_PY_VENV          venv directory (default: bindings/python/build/venv, ignored by git)
#   OSD_PYTHON           interpreter that creates the venv (default: python3, then /usr/bin/python3)
#   OPENSTACK_DEST_LIB   use this library instead of the one built in the checkout
#   the test bed, CI, OSD_REQUIRE_SERVER: see tests/openstack/server-env.sh, which decides
#                        whether real-server tests run, are skipped, or the run fails
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${OSD_PY_VENV:-$here/build/venv}"

# shellcheck source-path=SCRIPTDIR source=../../tests/openstack/server-env.sh
source "$repo/tests/openstack/server-env.sh" || exit 1

if [[ -z "${OPENSTACK_DEST_LIB:-}" && ! -f "$repo/target/debug/libopenstack_dest.so" \
      && ! -f "$repo/target/release/libopenstack_dest.so" ]]; then
    echo "run-tests.sh: no libopenstack_dest.so in $repo/target; building it (cargo build)"
    (cd "$repo" && cargo build)
fi

pick_python() {
    local candidates=()
    [[ -n "${OSD_PYTHON:-}" ]] && candidates+=("$OSD_PYTHON")
    candidates+=(python3 /usr/bin/python3)
    local py
    for py in "${candidates[@]}"; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
    echo "run-tests.sh: no Python 3 with the venv and ensurepip modules (on Debian: apt-get install python3-venv)" >&2
    return 1
}

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    py="$(pick_python)"
    echo "run-tests.sh: creating the venv $venv with $py"
    rm -rf "$venv"
    "$py" -m venv --system-site-packages "$venv"
fi
vpy="$venv/bin/python"

if ! "$vpy" -c 'import pytest' >/dev/null 2>&1; then
    "$vpy" -m pip install -q 'pytest>=7'
fi
# mypy --strict checks the package's type hints (test_package.py); without it CI would skip that.
if ! "$vpy" -c 'import mypy' >/dev/null 2>&1; then
    "$vpy" -m pip install -q 'mypy>=1'
fi

# The real duplicity for tests/test_duplicity.py (python3 -m openstack_dest.duplicity): PyPI's,
# a manylinux wheel with its librsync inside. Without its dependencies, which are those of its
# other backends (pyrax pins a python-keystoneclient that no longer imports on Python 3.10+);
# duplicity's own core needs fasteners only.
if ! "$vpy" -c 'import duplicity.backend, fasteners' >/dev/null 2>&1; then
    "$vpy" -m pip install -q --no-warn-conflicts --no-deps 'duplicity>=3,<4'
    "$vpy" -m pip install -q --no-warn-conflicts fasteners
fi

# Reinstall every time so the bundled library is the one just built.
"$vpy" -m pip install -q --no-warn-conflicts --force-reinstall --no-deps "$here"
"$vpy" -c 'import openstack_dest, sys; print("run-tests.sh: openstack_dest", openstack_dest.version(), "from", openstack_dest.library_path)'

cd "$here"
set +e
"$vpy" -m pytest -q "$@"
code=$?
set -e
exit "$code"
