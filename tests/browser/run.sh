#!/usr/bin/env bash
# The browser test (meson test 'browser', run by ./dev test): installs
# playwright-core into tests/browser/node_modules from the lockfile when it
# is missing or stale (no browser download: Debian's chromium is used),
# then runs test_page.mjs with node's test runner.
#   PIXD=build-test/daemon/pixd PIXD_MODULE_DIR=... tests/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser test: node and npm are needed (Debian's nodejs and npm)" >&2
  exit 1
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser test: no Chromium at $chromium; install Debian's chromium (./dev deps)" >&2
  exit 1
fi

# npm ci again only when the lockfile changed since the last install.
stamp=node_modules/.pixd-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# Playwright must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec node --test --test-reporter=spec test_page.mjs test_keys.mjs
