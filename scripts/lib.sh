# shellcheck shell=bash
# Helpers shared by scripts/main.sh, scripts/test.sh and scripts/install-deps.sh (sourced, not run).

HULL_SCRIPT_NAME=$(basename "$0")

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$HULL_SCRIPT_NAME" "$*" >&2; exit 1; }

# Re-run the calling script as root (keeping PATH, so a node found by the user is found again).
# usage: ensure_root "$0" "$@"
ensure_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || die "must run as root (sudo is not installed): su -c 'bash $1'"
  printf '%s: re-running as root with sudo\n' "$HULL_SCRIPT_NAME" >&2
  exec sudo env "PATH=$PATH" bash "$@"
}

# Major version of the node on PATH, or 0.
node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# node-gyp needs Node's headers; use the ones installed next to node (NodeSource and Debian ship
# them in PREFIX/include/node) so the build works without downloading them.
use_local_node_headers() {
  local prefix
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  if [ -f "$prefix/include/node/node_api.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then
    export npm_config_nodedir="$prefix"
  fi
}

# npm dependencies, skipped when package.json, the lockfile and node are unchanged since last time.
# Lifecycle scripts are skipped here (hull's own "install" script is the native build, which
# `npm run build` does next); esbuild, the one dependency with a script, works without it.
npm_deps() {
  local stamp=node_modules/.hull-deps-stamp want
  want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)-$(node -v)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    info "node_modules is up to date"
    return 0
  fi
  # `npm install --no-save` keeps the lockfile's versions and never rewrites it. (`npm ci` refuses
  # this lockfile: it cannot list the other platforms' optional packages of vitest's bundler,
  # which the registry mirror this project is built against does not carry.)
  npm install --no-save --ignore-scripts --no-audit --no-fund
  want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)-$(node -v)
  printf '%s\n' "$want" >"$stamp"
}

build_project() {
  use_local_node_headers
  npm run build
}

# The source archive of a peer test suite (another project's code, kept beside the repository, never
# in it): $HULL_PEER_SRC/NAME, else shared/peer-src/NAME in the repository's directory or one above it,
# else the same beside or above the repository this one was cloned from (a clean clone for CI, made
# elsewhere, finds the archives of the checkout it came from). Prints the path; dies naming where it looked.
# usage: archive=$(find_peer_archive NAME REPO)
find_peer_archive() {
  local name=$1 repo=$2 start dir origin
  if [ -n "${HULL_PEER_SRC:-}" ]; then
    [ -f "$HULL_PEER_SRC/$name" ] || die "HULL_PEER_SRC=$HULL_PEER_SRC has no $name"
    printf '%s\n' "$HULL_PEER_SRC/$name"
    return
  fi
  origin=$(git -C "$repo" config --get remote.origin.url 2>/dev/null || true)
  case "$origin" in
    file://*) origin=${origin#file://} ;;
    /*) ;;
    *) origin= ;;
  esac
  for start in "$repo" ${origin:+"$origin"}; do
    [ -d "$start" ] || continue
    dir=$(cd "$start" && pwd -P)
    while :; do
      if [ -f "$dir/shared/peer-src/$name" ]; then
        printf '%s\n' "$dir/shared/peer-src/$name"
        return
      fi
      [ "$dir" = / ] && break
      dir=$(dirname "$dir")
    done
  done
  die "$name not found in shared/peer-src/ beside or above $repo${origin:+ or $origin}: set HULL_PEER_SRC to the directory that holds it"
}

# Unpack a peer archive (whose top directory is TOP, holding a Makefile) into DEST, replacing what
# was there; the unpacking happens in a temporary directory under PEER, removed on exit.
# usage: unpack_peer_archive ARCHIVE TOP DEST PEER
unpack_peer_archive() {
  local archive=$1 top=$2 dest=$3 peer=$4
  step "$top: unpacking $archive into $dest"
  mkdir -p "$peer"
  HULL_PEER_UNPACK=$(mktemp -d "$peer/.unpack.XXXXXX")
  trap 'rm -rf "$HULL_PEER_UNPACK"' EXIT
  tar -xzf "$archive" -C "$HULL_PEER_UNPACK"
  [ -f "$HULL_PEER_UNPACK/$top/Makefile" ] || die "$archive does not hold $top/Makefile"
  rm -rf "$dest"
  mv "$HULL_PEER_UNPACK/$top" "$dest"
}

# Run make in DIR with Go offline: the archive's vendor/ directory, no proxy or checksum database, and
# Go's build cache and GOPATH under PEER (nothing in ~/.cache or ~/go). -buildvcs=false: the tree sits
# inside hull's git worktree, whose state Go would otherwise stamp into the binaries.
# usage: peer_go_make DIR PEER MAKE-ARGUMENTS…
peer_go_make() {
  local dir=$1 peer=$2
  shift 2
  (
    cd "$dir" || exit
    export GOFLAGS='-mod=vendor -buildvcs=false' GOPROXY=off GOSUMDB=off GO111MODULE=on GOENV=off \
      GOCACHE="$peer/go-cache" GOPATH="$peer/gopath" GOMODCACHE="$peer/gopath/pkg/mod" GOTMPDIR=
    make "$@"
  )
}
