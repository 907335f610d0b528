#!/usr/bin/env bash
# Builds the shim's Debian package (CPack; cmake/packaging.cmake says what goes in) and
# prints its path, the only line on stdout.
#   scripts/package.sh [cmake configure args...]    (BUILD_DIR as in build.sh)
#   PACKAGE_DIR=/some/dir scripts/package.sh        (default <BUILD_DIR>/packages)
# Install it with `apt install ./containerd-shim-runsc_*.deb` (pulls in containerd and
# runsc), or unpack it anywhere with `dpkg -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
PACKAGE_DIR=${PACKAGE_DIR:-$BUILD_DIR/packages}
export BUILD_DIR

# Configuring again picks up the current git revision (the version of binary and package).
scripts/build.sh "$@" >&2
mkdir -p "$PACKAGE_DIR"
rm -f "$PACKAGE_DIR"/containerd-shim-runsc_*.deb
cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$PACKAGE_DIR" >&2
rm -rf "$PACKAGE_DIR/_CPack_Packages"
debs=("$PACKAGE_DIR"/containerd-shim-runsc_*.deb)
[[ -f ${debs[0]} ]] || { echo "package.sh: cpack made no .deb in $PACKAGE_DIR" >&2; exit 1; }
realpath "${debs[0]}"
