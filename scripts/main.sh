#!/usr/bin/env bash
# hull's main job, offline: install what building needs, build hull, make a busybox image locally
# (no registry), load it and run a container from it, then take the default network (the bridge
# hull0 and its nft table, made by that run) off the host again. Safe to re-run.
#   sudo bash scripts/main.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ensure_root "$here/main.sh" "$@"
cd "$here/.."

step "1/7 system packages and Node.js"
bash scripts/install-deps.sh main

step "2/7 npm dependencies"
npm_deps

step "3/7 build (native addon + TypeScript)"
build_project

step "4/7 make a busybox image locally (OCI layout tar, from /bin/busybox)"
mkdir -p tmp
node scripts/make-busybox-image.mjs --oci-tar tmp/busybox-oci.tar --name busybox:latest

step "5/7 hull load -i tmp/busybox-oci.tar"
node bin/hull.cjs load -i tmp/busybox-oci.tar

step "6/7 hull run --rm busybox sh -c 'echo \"hello from \$(hostname), pid \$\$\"'"
# shellcheck disable=SC2016 # expanded inside the container
node bin/hull.cjs run --rm busybox sh -c 'echo "hello from $(hostname), pid $$"'

printf '\n$ hull images\n'
node bin/hull.cjs images

step "7/7 remove the default network's bridge and nft table again (no container uses them now)"
# The run above made them (as Docker makes docker0); the next run makes them again. A container of
# the default network still running (one of yours) keeps them: that is said, and nothing is removed.
node --input-type=module -e "
const { Hull } = await import('./dist/index.js');
try {
  await new Hull().removeDefaultNetwork();
} catch (err) {
  console.log('kept the default network: ' + err.message);
}"

printf '\nDone. Try: sudo node bin/hull.cjs run --rm -it busybox sh\n'
