#!/usr/bin/env bash
# Runs the console's browser test. With XACCT_CONSOLE_URL set (e.g. a running
# `xacct console`), the test runs against it; unset, this starts tests/browser/devserver.py
# (the stand-in that serves crates/cli/assets/ and forwards /api/* to the local stack) on a
# free loopback port, and stops it afterwards. The local stack must be running
# (`make local-up`). Needs Node 20+ and /usr/bin/chromium: tests/browser/setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/playwright-core ]; then
  echo "tests/browser: node_modules/ is missing; running npm ci" >&2
  npm ci --no-audit --no-fund
fi

devserver_pid=""
tmp=""
cleanup() {
  if [ -n "$devserver_pid" ]; then kill "$devserver_pid" 2>/dev/null || true; wait "$devserver_pid" 2>/dev/null || true; fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

if [ -z "${XACCT_CONSOLE_URL:-}" ] && [ -n "${XACCT_CONSOLE_BIN:-}" ]; then
  # The real console: `xacct console` on a free port, pointed at the local stack.
  stack="${XACCT_STACK_FILE:-../../.local/stack.json}"
  tmp=$(mktemp -d)
  owner=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["owner_url_base"])' "$stack")
  requestor=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requestor_url_base"])' "$stack")
  XACCT_OWNER_URL="$owner" XACCT_REQUESTOR_URL="$requestor" HOME="$tmp" "$XACCT_CONSOLE_BIN" console --port 0 >"$tmp/console.log" 2>&1 &
  devserver_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'http://127.0.0.1:' "$tmp/console.log" 2>/dev/null && break
    if ! kill -0 "$devserver_pid" 2>/dev/null; then cat "$tmp/console.log" >&2; echo "xacct console did not start" >&2; exit 1; fi
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

if [ -z "${XACCT_CONSOLE_URL:-}" ]; then
  python=python3
  if [ -x ../../.venv/bin/python ]; then python=../../.venv/bin/python; fi
  tmp=$(mktemp -d)
  "$python" devserver.py --port 0 --port-file "$tmp/port" --quiet >"$tmp/devserver.log" 2>&1 &
  devserver_pid=$!
  for _ in $(seq 1 100); do
    [ -s "$tmp/port" ] && break
    if ! kill -0 "$devserver_pid" 2>/dev/null; then cat "$tmp/devserver.log" >&2; echo "devserver.py did not start" >&2; exit 1; fi
    sleep 0.1
  done
  [ -s "$tmp/port" ] || { cat "$tmp/devserver.log" >&2; echo "devserver.py did not start" >&2; exit 1; }
  export XACCT_CONSOLE_URL="http://127.0.0.1:$(cat "$tmp/port")"
  echo "tests/browser: devserver.py at $XACCT_CONSOLE_URL" >&2
fi

node --test --test-concurrency=1 console.test.mjs "$@"
