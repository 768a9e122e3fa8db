#!/usr/bin/env bash
# Runs the console's browser test against the real `xacct console`. With XACCT_CONSOLE_URL
# (and XACCT_CONSOLE_TOKEN) set, against that running console; unset, this starts
# XACCT_CONSOLE_BIN (default: the workspace's debug build of `xacct`, built if missing) on a
# free loopback port, pointed at the local stack, and stops it afterwards. The local stack
# must be running (`make local-up`). Needs Node 20+ and /usr/bin/chromium:
# tests/browser/setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/playwright-core ]; then
  echo "tests/browser: node_modules/ is missing; running npm ci" >&2
  npm ci --no-audit --no-fund
fi

console_pid=""
tmp=""
cleanup() {
  if [ -n "$console_pid" ]; then kill "$console_pid" 2>/dev/null || true; wait "$console_pid" 2>/dev/null || true; fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

if [ -z "${XACCT_CONSOLE_URL:-}" ] && [ -z "${XACCT_CONSOLE_BIN:-}" ]; then
  XACCT_CONSOLE_BIN="${CARGO_TARGET_DIR:-$HOME/.cache/xacct-target}/debug/xacct"
  [ -x "$XACCT_CONSOLE_BIN" ] || (cd ../.. && cargo build -p xacct-cli --bin xacct)
fi

if [ -z "${XACCT_CONSOLE_URL:-}" ]; then
  # The real console: `xacct console` on a free port, pointed at the local stack.
  stack="${XACCT_STACK_FILE:-../../.local/stack.json}"
  tmp=$(mktemp -d)
  owner=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["owner_url_base"])' "$stack")
  requestor=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requestor_url_base"])' "$stack")
  XACCT_OWNER_URL="$owner" XACCT_REQUESTOR_URL="$requestor" HOME="$tmp" "$XACCT_CONSOLE_BIN" console --port 0 >"$tmp/console.log" 2>&1 &
  console_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'http://127.0.0.1:' "$tmp/console.log" 2>/dev/null && break
    if ! kill -0 "$console_pid" 2>/dev/null; then cat "$tmp/console.log" >&2; echo "xacct console did not start" >&2; exit 1; fi
    sleep 0.1
  done
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/console.log" | head -n 1)
  [ -n "$url" ] || { cat "$tmp/console.log" >&2; echo "xacct console did not start" >&2; exit 1; }
  # The per-run token the console printed in its URL: the test opens the page with it.
  token=$(grep -o 'token=[A-Za-z0-9]*' "$tmp/console.log" | head -n 1 | cut -d= -f2)
  [ -n "$token" ] || { cat "$tmp/console.log" >&2; echo "xacct console printed no token" >&2; exit 1; }
  export XACCT_CONSOLE_URL="$url" XACCT_CONSOLE_TOKEN="$token"
  echo "tests/browser: xacct console at $XACCT_CONSOLE_URL" >&2
fi

node --test --test-concurrency=1 console.test.mjs "$@"
