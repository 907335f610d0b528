#!/usr/bin/env bash
# Installs every Debian package needed to build, test, benchmark and run the shim.
# Idempotent: when all packages are already installed, apt is not touched at all,
# so reruns (every scripts/test.sh and scripts/run.sh call) take milliseconds. Then the
# extra containerd/runsc stacks (install-stacks.sh: unpacked under /opt, not installed).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake clang libclang-rt-14-dev
  protobuf-compiler libprotobuf-dev libprotoc-dev
  # .proto sources of containerd's API (docs/architecture.md, "Modules")
  golang-github-containerd-containerd-dev golang-github-containerd-cgroups-dev
  golang-github-gogo-protobuf-dev
  nlohmann-json3-dev libtomlplusplus-dev
  # unit tests, benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox
  # the peers the shim runs with, and the integration tests' rootfs
  containerd runc runsc busybox-static
  # integration harness
  python3 python3-pytest iproute2 util-linux procps psmisc
  # CRI tests (tests/cri): a gRPC client of containerd's CRI plugin generated with
  # protoc (above), and CNI plugins (bridge, host-local, loopback) for pod networks
  python3-grpcio python3-protobuf containernetworking-plugins
)

# One dpkg-query for all packages; "install ok installed" is the only usable state
# (unknown, half-configured or removed packages need apt).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
  awk '$2 == "install" && $3 == "ok" && $4 == "installed" {print $1}' || true)
missing=()
for p in "${PACKAGES[@]}"; do
  grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exec "$(dirname "$0")/install-stacks.sh"
fi

echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root to install packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
"$(dirname "$0")/install-stacks.sh"
