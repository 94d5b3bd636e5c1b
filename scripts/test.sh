#!/usr/bin/env bash
# Install everything the test suite needs, build hull, lint the tree (npm run lint: ESLint,
# Prettier, clang-format, shellcheck), and run the whole suite: unit and
# integration with vitest (integration needs root, so this runs as root), then the vm tier (a real
# kernel under qemu: cgroup v2 resource limits; it fails, never skips). Ends with one line:
#   tests: N passed, N failed, N skipped
# and exits non-zero if anything failed, lint included (the tests still run after a lint finding).
#   sudo bash scripts/test.sh [extra vitest arguments, e.g. a path filter]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ensure_root "$here/test.sh" "$@"
cd "$here/.."

step "1/6 system packages and Node.js (build + test + vm tier dependencies)"
bash scripts/install-deps.sh test
bash scripts/install-deps.sh vm

step "2/6 npm dependencies"
npm_deps

step "3/6 build (native addon + TypeScript)"
build_project
# crictl and critest for the CRI tier (test/integration/cri.test.ts); offline, skipped once built
if ! bash scripts/peer-tests/build-cri-tools.sh; then
  info "crictl and critest not built (above): the CRI tier (test/integration/cri.test.ts) skips and says why"
fi

step "4/6 lint (npm run lint: eslint, prettier, clang-format, shellcheck)"
set +e
npm run --silent lint
lint_rc=$?
set -e

step "5/6 test suite (vitest: unit + integration)"
mkdir -p tmp
report=tmp/vitest-report.json
rm -f "$report"
set +e
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
set -e

step "6/6 vm tier (test/vm inside a qemu guest: cgroup v2 limits, OOM, pause, stats)"
vm_summary=tmp/vm-summary.json
rm -f "$vm_summary"
set +e
HULL_VM_SUMMARY_FILE="$vm_summary" node scripts/vm/run-vm-tests.mjs
vm_rc=$?
set -e
[ -s "$vm_summary" ] || echo '{"passed":0,"failed":1,"skipped":0}' > "$vm_summary"

# shellcheck disable=SC2016 # JavaScript, not shell
summary=$(node -e '
  const fs = require("node:fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { process.exit(3); }
  const vm = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const n = (k) => Number(r[k] ?? 0);
  // a test file that fails to load has no tests: count it as one failure
  const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0);
  for (const f of broken) console.error(`test.sh: ${f.name} failed to run: ${(f.message ?? "").split("\n")[0]}`);
  const failed = n("numFailedTests") + broken.length + vm.failed;
  console.error(`test.sh: vm tier: ${vm.passed} passed, ${vm.failed} failed, ${vm.skipped} skipped`);
  console.log(`tests: ${n("numPassedTests") + vm.passed} passed, ${failed} failed, ${n("numPendingTests") + n("numTodoTests") + vm.skipped} skipped`);
  process.exit(failed > 0 || r.success === false ? 2 : 0);
' "$report" "$vm_summary") && src=0 || src=$?
if [ -z "$summary" ]; then
  echo "test.sh: vitest wrote no report ($report); exit code $rc" >&2
  summary="tests: 0 passed, 0 failed, 0 skipped"
  [ "$rc" -ne 0 ] || rc=1
fi
echo
[ "$lint_rc" -eq 0 ] || echo "test.sh: npm run lint found problems (exit $lint_rc): see step 4/6" >&2
echo "$summary"
if [ "$rc" -eq 0 ] && [ "$vm_rc" -ne 0 ]; then rc=$vm_rc; fi
if [ "$rc" -eq 0 ] && [ "$src" -ne 0 ]; then rc=1; fi
if [ "$rc" -eq 0 ] && [ "$lint_rc" -ne 0 ]; then rc=$lint_rc; fi
exit "$rc"
