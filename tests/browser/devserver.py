#!/usr/bin/env python3
"""A stand-in for `xacct console` while the Rust server does not exist: a dev aid only.

Serves the single-page app from `crates/cli/assets/` at `/` and answers the same API the
console serves, on 127.0.0.1 only:

- `GET /api/setup`, from `.local/stack.json` (the local stack's accounts and functions);
- `/api/<function>`, forwarded unsigned to the local stack's Function URLs: the owner
  functions (`list-resources`, `list-permissions`, `create-owner-role`, `list-grants`,
  `check-owner-role`, `revoke-grant`) at `http://127.0.0.1:9000/lambda-url/<name>/` and the
  requestor functions (`create-requestor-resources`, `check-requestor-role`,
  `revoke-requestor-resources`) at `http://127.0.0.1:9001/lambda-url/<name>/` (or the URLs
  the stack file names). Status and body pass through unchanged; when a function cannot be
  reached the answer is 502 `{"error": {"code": "Unreachable", "message": "could not reach ..."}}`.

Standard library only. `--port 0` picks a free port; `--port-file` writes the port chosen,
so a script can wait for it (tests/browser/run.sh does). `--assets DIR` (or the environment
variable XACCT_CONSOLE_ASSETS) serves the app from another directory, such as a copy being
edited; `--stack-file` (or XACCT_STACK_FILE) reads another stack file.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import socket
import sys
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
# `--assets` / `--stack-file` (or the environment variables) override these.
ASSETS = Path(os.environ.get("XACCT_CONSOLE_ASSETS") or ROOT / "crates" / "cli" / "assets")
STACK_FILE = Path(os.environ.get("XACCT_STACK_FILE") or ROOT / ".local" / "stack.json")

OWNER_FUNCTIONS = (
    "list-resources",
    "list-permissions",
    "create-owner-role",
    "list-grants",
    "check-owner-role",
    "revoke-grant",
)
REQUESTOR_FUNCTIONS = (
    "create-requestor-resources",
    "check-requestor-role",
    "revoke-requestor-resources",
)
DEFAULT_BASES = {"owner": "http://127.0.0.1:9000", "requestor": "http://127.0.0.1:9001"}
# What each function accepts; anything else is answered here, as the console would.
METHODS = {
    "list-resources": ("GET",),
    "list-permissions": ("GET",),
    "create-owner-role": ("POST",),
    "list-grants": ("GET",),
    "check-owner-role": ("POST",),
    "revoke-grant": ("POST",),
    "create-requestor-resources": ("POST",),
    "check-requestor-role": ("POST",),
    "revoke-requestor-resources": ("POST",),
}
MAX_BODY = 64 * 1024
# `--owner-base` / `--requestor-base`: forward there instead of where the stack file says.
BASE_OVERRIDES: dict[str, str] = {}
TIMEOUT = 120.0


def read_stack() -> dict[str, Any]:
    try:
        return json.loads(STACK_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def function_url(name: str) -> str:
    side = "requestor" if name in REQUESTOR_FUNCTIONS else "owner"
    if side in BASE_OVERRIDES:
        return f"{BASE_OVERRIDES[side]}/lambda-url/{name}/"
    stack = read_stack()
    url = (stack.get("functions") or {}).get(name)
    if isinstance(url, str) and url:
        return url
    base = stack.get(f"{side}_url_base") or DEFAULT_BASES[side]
    return f"{base}/lambda-url/{name}/"


def setup() -> dict[str, Any]:
    stack = read_stack()
    functions_enabled = stack.get("functions_enabled", True)
    return {
        "setup": "local",
        "owner_account": stack.get("owner_account"),
        "requestor_account": stack.get("requestor_account"),
        "sides": {
            "owner": bool(functions_enabled),
            "requestor": bool(functions_enabled),
        },
    }


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


class Handler(BaseHTTPRequestHandler):
    server_version = "xacct-devserver"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:  # type: ignore[attr-defined]
            sys.stderr.write("devserver: " + (format % args) + "\n")

    # --- responses -------------------------------------------------------------------
    def send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, value: Any, extra: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(value).encode(), "application/json", extra)

    # --- routing ---------------------------------------------------------------------
    def do_GET(self) -> None:
        self.route()

    def do_HEAD(self) -> None:
        self.route()

    def do_POST(self) -> None:
        self.route()

    def route(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/api/"):
            name = path[len("/api/"):].strip("/")
            if name == "setup":
                if self.command not in ("GET", "HEAD"):
                    self.send_json(405, error_body("MethodNotAllowed", "use GET"), {"Allow": "GET"})
                    return
                self.send_json(200, setup())
                return
            if name not in METHODS:
                self.send_json(404, error_body("NotFound", f"no such API: /api/{name}"))
                return
            if self.command not in METHODS[name]:
                allowed = ", ".join(METHODS[name])
                self.send_json(405, error_body("MethodNotAllowed", f"use {allowed}"), {"Allow": allowed})
                return
            self.forward(name, parts.query)
            return
        self.static(path)

    def static(self, path: str) -> None:
        if self.command not in ("GET", "HEAD"):
            self.send_json(405, error_body("MethodNotAllowed", "use GET"), {"Allow": "GET"})
            return
        rel = path.lstrip("/") or "index.html"
        target = (ASSETS / rel).resolve()
        if ASSETS.resolve() not in target.parents or not target.is_file():
            self.send_json(404, error_body("NotFound", f"no such file: {path}"))
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript",):
            ctype += "; charset=utf-8"
        self.send(200, target.read_bytes(), ctype)

    def forward(self, name: str, query: str) -> None:
        body = None
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_json(413, error_body("PayloadTooLarge", "the body is over 64 KiB"))
                return
            body = self.rfile.read(length)
        url = function_url(name) + (f"?{query}" if query else "")
        req = urllib.request.Request(url, data=body, method=self.command)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                status, data = resp.status, resp.read()
                ctype = resp.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
            ctype = e.headers.get("Content-Type", "application/json")
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, ConnectionRefusedError):
                why = "connection refused"
            elif isinstance(reason, (socket.timeout, TimeoutError)):
                why = "timed out"
            else:
                why = str(reason)
            self.send_json(
                502,
                error_body("Unreachable", f"could not reach {function_url(name)} ({why})"),
            )
            return
        self.send(status, data, ctype)


def main() -> int:
    global ASSETS, STACK_FILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8377, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    parser.add_argument("--quiet", action="store_true", help="no access log")
    parser.add_argument("--owner-base", help="e.g. http://127.0.0.1:9000 (default: from the stack file)")
    parser.add_argument("--requestor-base", help="e.g. http://127.0.0.1:9001 (default: from the stack file)")
    parser.add_argument("--assets", type=Path, help=f"the app's directory (default: $XACCT_CONSOLE_ASSETS or {ASSETS})")
    parser.add_argument("--stack-file", type=Path, help=f"the local stack's file (default: $XACCT_STACK_FILE or {STACK_FILE})")
    args = parser.parse_args()
    if args.assets:
        ASSETS = args.assets
    if args.stack_file:
        STACK_FILE = args.stack_file
    ASSETS = ASSETS.resolve()
    if not (ASSETS / "index.html").is_file():
        parser.error(f"no index.html in {ASSETS}")
    if args.owner_base:
        BASE_OVERRIDES["owner"] = args.owner_base.rstrip("/")
    if args.requestor_base:
        BASE_OVERRIDES["requestor"] = args.requestor_base.rstrip("/")
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("text/css", ".css")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.quiet = args.quiet  # type: ignore[attr-defined]
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port), encoding="utf-8")
        tmp.replace(args.port_file)
    print(f"xacct devserver: http://127.0.0.1:{port}/ (assets {ASSETS})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
