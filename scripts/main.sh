#!/usr/bin/env bash
# hull's main job, offline: install what building needs, build hull, make a busybox image locally
# (no registry), load it and run a container from it. Safe to re-run.
#   sudo bash scripts/main.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ensure_root "$here/main.sh" "$@"
cd "$here/.."

step "1/6 system packages and Node.js"
bash scripts/install-deps.sh main

step "2/6 npm dependencies"
npm_deps

step "3/6 build (native addon + TypeScript)"
build_project

step "4/6 make a busybox image locally (OCI layout tar, from /bin/busybox)"
mkdir -p tmp
node scripts/make-busybox-image.mjs --oci-tar tmp/busybox-oci.tar --name busybox:latest

step "5/6 hull load -i tmp/busybox-oci.tar"
node bin/hull.cjs load -i tmp/busybox-oci.tar

step "6/6 hull run --rm busybox sh -c 'echo \"hello from \$(hostname), pid \$\$\"'"
# shellcheck disable=SC2016 # expanded inside the container
node bin/hull.cjs run --rm busybox sh -c 'echo "hello from $(hostname), pid $$"'

printf '\n$ hull images\n'
node bin/hull.cjs images

printf '\nDone. Try: sudo node bin/hull.cjs run --rm -it busybox sh\n'
