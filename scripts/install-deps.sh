#!/usr/bin/env bash
# Installs what the build, the tests and the demo need and that a fresh machine of this kind
# lacks: Debian packages (the test bed's own are installed by tests/openstack/testbed.sh).
# Idempotent and non-interactive.
set -euo pipefail
need=()
# rclone: a peer the large-object tests check interop with (it reads our SLOs, we read its DLOs).
# gpg: duplicity (the Python tests run it) looks for it even with --no-encryption.
for pkg in build-essential pkg-config valgrind python3-venv rclone gpg; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi
command -v cargo >/dev/null || { echo "cargo is missing: install the Rust toolchain (rustup)"; exit 1; }
echo "dependencies present"
