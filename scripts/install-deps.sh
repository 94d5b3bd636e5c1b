#!/usr/bin/env bash
# Install what hull needs on Debian 12 / Ubuntu 24.04 (apt), then check Node.js >= 20.
#   scripts/install-deps.sh main   build + run: C++ toolchain, python3 (node-gyp), busybox-static, zstd (zstd layers), iproute2 + nftables + util-linux (networking)
#   scripts/install-deps.sh test   main + what the test suite drives: runc, containerd (ctr drives runtimes through its shim),
#                                  skopeo, umoci, buildah (bench:build), iproute2, nftables,
#                                  debootstrap (bench:unpack), docker-registry + apache2-utils + openssl
#                                  (registry tests: a local registry, htpasswd, a test CA), clang-format + shellcheck
#                                  (npm run lint, which scripts/test.sh runs before the suite), golang-go (builds
#                                  runtime-tools offline from its vendored source: npm run peer:runtime-tools),
#                                  docker.io + docker-compose + python3-docker (the Docker Engine API's clients; dockerd
#                                  only as a benchmark peer, never as a service), podman (the peer of `hull pod` and
#                                  `kube play` in bench/kube-play.mjs, where it runs; no service)
#   scripts/install-deps.sh vm     main + the vm test tier: qemu, e2fsprogs (npm run test:vm)
# Idempotent: apt runs only when a package is missing (checked with dpkg -s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ensure_root "$here/install-deps.sh" "$@"
cd "$here/.."

profile=${1:-main}
MAIN_PKGS=(build-essential python3 busybox-static ca-certificates zstd iproute2 nftables util-linux)
TEST_PKGS=(runc containerd skopeo umoci buildah iproute2 nftables procps util-linux tar gzip debootstrap coreutils
  docker-registry apache2-utils openssl clang-format shellcheck)
TEST_PKGS+=(golang-go docker.io docker-compose python3-docker podman)
case "$profile" in
  main) pkgs=("${MAIN_PKGS[@]}") ;;
  test) pkgs=("${MAIN_PKGS[@]}" "${TEST_PKGS[@]}") ;;
  vm) pkgs=("${MAIN_PKGS[@]}" qemu-system-x86 e2fsprogs) ;;
  *) die "usage: scripts/install-deps.sh [main|test|vm]" ;;
esac

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install by hand: ${pkgs[*]} and Node.js >= 20"

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Packages that ship a service (docker-registry, containerd) must not start it: the tests run their own
# instance by PID, with private paths. policy-rc.d exiting 101 tells invoke-rc.d "not now"; ours is removed again.
policy_rc=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy_rc" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy_rc" && chmod 755 "$policy_rc" && own_policy=1
  trap '[ "$own_policy" -eq 1 ] && rm -f "$policy_rc"' EXIT
fi

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  info "installing: ${missing[*]}"
  apt_install "${missing[@]}"
  # policy-rc.d stops the start, but the maintainer scripts still enable the unit for the next boot:
  # disabled again, for the packages installed here only (a service the user set up is theirs).
  for p in "${missing[@]}"; do
    case "$p" in
      containerd | docker-registry)
        if command -v systemctl >/dev/null 2>&1; then systemctl disable --quiet "$p.service" 2>/dev/null || true; fi
        ;;
      docker.io)
        if command -v systemctl >/dev/null 2>&1; then systemctl disable --quiet docker.service docker.socket 2>/dev/null || true; fi
        ;;
    esac
  done
else
  info "system packages ($profile): all present"
fi

# Node.js >= 20 (Debian 12 and Ubuntu 24.04 ship 18, so this usually means NodeSource).
if [ "$(node_major)" -lt 20 ] && ! installed nodejs; then
  info "node not found: trying the distribution's nodejs"
  apt_install nodejs npm || true
fi
major=$(node_major)
if [ "$major" -lt 20 ]; then
  found=$(command -v node >/dev/null 2>&1 && node -v || echo none)
  die "hull needs Node.js >= 20 (found: $found); install it from NodeSource (curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs) or use Debian 13, then re-run"
fi
command -v npm >/dev/null 2>&1 || die "npm not found next to node $(node -v); install npm for this Node.js (NodeSource's nodejs package includes it)"
info "node $(node -v), npm $(npm -v 2>/dev/null)"
