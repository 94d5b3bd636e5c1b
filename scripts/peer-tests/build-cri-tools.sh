#!/usr/bin/env bash
# Build Kubernetes' CRI tools (kubernetes-sigs/cri-tools: crictl and critest) offline, for the CRI test
# tier (test/integration/cri.test.ts) and scripts/peer-tests/critest.mjs.
#   bash scripts/peer-tests/build-cri-tools.sh      (no root needed; npm run peer:cri-tools runs it)
# The source is another project's, kept as an archive beside the repository (never copied into it):
# shared/peer-src/cri-tools-v1.26.1.tar.gz in the repository's directory or any directory above it (or above the repository it was cloned from),
# or in $HULL_PEER_SRC. It is unpacked into tmp/peer/cri-tools (ignored by git; not build/, which
# node-gyp rebuild deletes with every `npm run build`; $HULL_PEER_BUILD moves tmp/peer) and built there
# with Debian's golang-go (scripts/install-deps.sh test) from its own vendor/ directory, GOPROXY=off;
# Go's build cache and GOPATH live in tmp/peer too, so nothing goes to ~/.cache or ~/go.
# The binaries end in tmp/peer/cri-tools/build/bin/linux/amd64/{crictl,critest} (the Makefile's place).
# Idempotent: skipped when the last build of this archive finished after the archive was written.
# A build is also kept in a cache outside the checkout, keyed by the archive's sha256:
# ${HULL_PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hull/peer}/cri-tools-<sha256>/ (HULL_PEER_CACHE=off: none).
# A fresh clone (CI's) then copies the two binaries instead of building for 3-5 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
. "$here/lib.sh"
repo=$(cd "$here/.." && pwd)
cd "$repo"

version=1.26.1
archive_name=cri-tools-v$version.tar.gz
peer=${HULL_PEER_BUILD:-$repo/tmp/peer}
src=$peer/cri-tools
stamp=$src/.hull-built

command -v go >/dev/null 2>&1 || die "go not found: install Debian's golang-go (sudo bash scripts/install-deps.sh test)"
archive=$(find_peer_archive "$archive_name" "$repo")
bin=$src/build/bin/$(go env GOOS)/$(go env GOARCH)
if [ -f "$stamp" ] && [ "$stamp" -nt "$archive" ] && [ "$(cat "$stamp")" = "$archive_name" ] && [ -x "$bin/crictl" ] && [ -x "$bin/critest" ]; then
  info "cri-tools: up to date in $src (built from $archive_name)"
  exit 0
fi
cache_root=${HULL_PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hull/peer}
cached=
if [ "$cache_root" != off ]; then
  cached=$cache_root/cri-tools-$(sha256sum "$archive" | cut -d' ' -f1)
  if [ -x "$cached/crictl" ] && [ -x "$cached/critest" ]; then
    mkdir -p "$bin"
    cp "$cached/crictl" "$cached/critest" "$bin/"
    printf '%s\n' "$archive_name" >"$stamp"
    info "cri-tools: crictl and critest of $archive_name copied from the build cache ($cached)"
    exit 0
  fi
fi
command -v make >/dev/null 2>&1 || die "make not found: install build-essential (sudo bash scripts/install-deps.sh test)"

unpack_peer_archive "$archive" cri-tools "$src" "$peer"

step "cri-tools: building crictl and critest (offline, vendored)"
# Offline and vendored (peer_go_make in lib.sh). VERSION is what the Makefile gets from `git describe`,
# which would describe hull's repository, not cri-tools'.
start=$(date +%s)
peer_go_make "$src" "$peer" VERSION="$version" crictl critest
if [ ! -x "$bin/crictl" ] || [ ! -x "$bin/critest" ]; then
  die "cri-tools: the build finished without $bin/crictl and $bin/critest"
fi
printf '%s\n' "$archive_name" >"$stamp"
info "cri-tools: crictl and critest built in $(($(date +%s) - start)) s ($bin)"
if [ -n "$cached" ]; then
  # Whole or not at all: into a temporary directory first, renamed into place.
  mkdir -p "$cache_root"
  staging=$(mktemp -d "$cache_root/.cri-tools-XXXXXX")
  chmod 755 "$staging"
  cp "$bin/crictl" "$bin/critest" "$staging/"
  rm -rf "$cached"
  mv "$staging" "$cached"
  info "cri-tools: kept in the build cache ($cached)"
fi
