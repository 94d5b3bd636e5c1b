#!/usr/bin/env bash
# Install everything the test suite needs, build hull, and run the whole suite (unit and
# integration; integration needs root, so this runs as root). Ends with one line:
#   tests: N passed, N failed, N skipped
# and exits non-zero if anything failed.
#   sudo bash scripts/test.sh [extra vitest arguments, e.g. a path filter]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ensure_root "$here/test.sh" "$@"
cd "$here/.."

step "1/4 system packages and Node.js (build + test dependencies)"
bash scripts/install-deps.sh test

step "2/4 npm dependencies"
npm_deps

step "3/4 build (native addon + TypeScript)"
build_project

step "4/4 test suite (vitest: unit + integration)"
mkdir -p tmp
report=tmp/vitest-report.json
rm -f "$report"
set +e
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
set -e

# shellcheck disable=SC2016 # JavaScript, not shell
summary=$(node -e '
  const fs = require("node:fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { process.exit(3); }
  const n = (k) => Number(r[k] ?? 0);
  // a test file that fails to load has no tests: count it as one failure
  const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0);
  for (const f of broken) console.error(`test.sh: ${f.name} failed to run: ${(f.message ?? "").split("\n")[0]}`);
  const failed = n("numFailedTests") + broken.length;
  console.log(`tests: ${n("numPassedTests")} passed, ${failed} failed, ${n("numPendingTests") + n("numTodoTests")} skipped`);
  process.exit(failed > 0 || r.success === false ? 2 : 0);
' "$report") && src=0 || src=$?
if [ -z "$summary" ]; then
  echo "test.sh: vitest wrote no report ($report); exit code $rc" >&2
  summary="tests: 0 passed, 0 failed, 0 skipped"
  [ "$rc" -ne 0 ] || rc=1
fi
echo
echo "$summary"
if [ "$rc" -eq 0 ] && [ "$src" -ne 0 ]; then rc=1; fi
exit "$rc"
