#!/usr/bin/env bash
# Installs what the console's browser test needs on a fresh machine: Debian's chromium
# (playwright-core drives it; no browser is downloaded) and the pinned npm packages.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "tests/browser/setup.sh: node and npm (Node 20+) are required" >&2
  exit 1
fi
node -e 'const [maj] = process.versions.node.split("."); if (+maj < 20) { console.error("tests/browser/setup.sh: Node 20+ is required, found " + process.version); process.exit(1); }'

npm ci --no-audit --no-fund
