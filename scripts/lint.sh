#!/usr/bin/env bash
# The habits the tree keeps: ESLint (typescript-eslint's type-aware rules; eslint.config.js),
# Prettier (.prettierrc), clang-format over native/ (.clang-format) and shellcheck over the shell
# scripts and bin/hull-runc. Each tool runs even when one before it found something; exits non-zero
# if any did.
#   npm run lint        check only (what CI runs, from scripts/test.sh)
#   npm run lint:fix    eslint --fix, prettier --write, clang-format -i (shellcheck has no fixer)
# ESLint and Prettier come from npm's devDependencies; clang-format and shellcheck from Debian's
# packages of those names (scripts/install-deps.sh test installs them).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

fix=0
case "${1:-}" in
  '') ;;
  --fix) fix=1 ;;
  *) echo "usage: scripts/lint.sh [--fix]" >&2; exit 2 ;;
esac

failed=()
run() {
  local name=$1
  shift
  printf '==> %s\n' "$name"
  "$@" || failed+=("$name")
}
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "lint: $1 not found: install Debian's $1 package (sudo bash scripts/install-deps.sh test)" >&2
  return 1
}

mapfile -t native < <(find native -type f \( -name '*.cc' -o -name '*.h' \) | sort)
mapfile -t shell < <(find scripts -type f -name '*.sh' | sort)
shell+=(.ci/run bin/hull-runc)

if [ "$fix" -eq 1 ]; then
  run eslint npx --no-install eslint --fix .
  run prettier npx --no-install prettier --write --log-level warn .
  if need clang-format; then run clang-format clang-format -i "${native[@]}"; else failed+=(clang-format); fi
else
  run eslint npx --no-install eslint --max-warnings 0 .
  run prettier npx --no-install prettier --check --log-level warn .
  if need clang-format; then run clang-format clang-format --dry-run -Werror "${native[@]}"; else failed+=(clang-format); fi
fi
if need shellcheck; then run shellcheck shellcheck "${shell[@]}"; else failed+=(shellcheck); fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "lint: findings from: ${failed[*]}" >&2
  exit 1
fi
echo "lint: clean"
