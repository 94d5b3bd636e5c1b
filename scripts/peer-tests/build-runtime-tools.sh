#!/usr/bin/env bash
# Build the OCI runtime validation suite (opencontainers/runtime-tools: runtimetest and the
# validation/*/*.t executables) offline, for scripts/peer-tests/runtime-tools.mjs.
#   bash scripts/peer-tests/build-runtime-tools.sh      (no root needed; npm run peer:runtime-tools runs it)
# The source is another project's, kept as an archive beside the repository (never copied into it):
# shared/peer-src/runtime-tools-260e151.tar.gz in the repository's directory or any directory above it (or above the repository it was cloned from),
# or in $HULL_PEER_SRC. It is unpacked into tmp/peer/runtime-tools (ignored by git; not build/, which
# node-gyp rebuild deletes with every `npm run build`; $HULL_PEER_BUILD moves tmp/peer) and built there
# with Debian's golang-go (scripts/install-deps.sh test) from its own vendor/ directory, GOPROXY=off;
# Go's build cache and GOPATH live in tmp/peer too, so nothing goes to ~/.cache or ~/go.
# Idempotent: skipped when the last build of this archive finished after the archive was written.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
. "$here/lib.sh"
repo=$(cd "$here/.." && pwd)
cd "$repo"

rt_commit=260e151
archive_name=runtime-tools-$rt_commit.tar.gz
peer=${HULL_PEER_BUILD:-$repo/tmp/peer}
src=$peer/runtime-tools
stamp=$src/.hull-built

archive=$(find_peer_archive "$archive_name" "$repo")
if [ -f "$stamp" ] && [ "$stamp" -nt "$archive" ] && [ "$(cat "$stamp")" = "$archive_name" ] && [ -x "$src/runtimetest" ]; then
  info "runtime-tools: up to date in $src (built from $archive_name)"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go not found: install Debian's golang-go (sudo bash scripts/install-deps.sh test)"
command -v make >/dev/null 2>&1 || die "make not found: install build-essential (sudo bash scripts/install-deps.sh test)"

unpack_peer_archive "$archive" runtime-tools "$src" "$peer"

step "runtime-tools: building runtimetest and the validation executables (offline, vendored)"
# Offline and vendored (peer_go_make in lib.sh). COMMIT is what the Makefile gets from `git describe`,
# which would describe hull's repository, not runtime-tools'.
start=$(date +%s)
peer_go_make "$src" "$peer" COMMIT="$rt_commit" runtimetest validation-executables
printf '%s\n' "$archive_name" >"$stamp"
count=$(find "$src/validation" -mindepth 2 -maxdepth 2 -name '*.t' -type f | wc -l)
info "runtime-tools: runtimetest and $count validation executables built in $(($(date +%s) - start)) s ($src)"
