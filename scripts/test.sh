#!/usr/bin/env bash
# The one test command (README): installs what the tests need when missing, builds, lints, typechecks, runs every test.
# Usage: npm test [-- unit|integration]   (default: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
[ -d node_modules ] || npm ci
npm run --silent build
what=${1:-all}
if [ "$what" = all ]; then
  npx --no-install eslint . --max-warnings=0
  npx --no-install prettier --check . >/dev/null || { npx --no-install prettier --check .; exit 1; }
  npx --no-install tsc --noEmit
fi
case "$what" in
  unit) files=$(find src -name '*.test.ts' | sort) ;;
  integration) files=$(find test -name '*.test.ts' | sort) ;;
  *) files=$(find src test -name '*.test.ts' | sort) ;;
esac
# Node 20's --test does not expand globs, so the file list is built here.
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 --test-force-exit --test-reporter=spec $files
