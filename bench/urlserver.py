#!/usr/bin/env python3
"""A local Function URL endpoint for xacct's nine functions, for load runs: no cargo, no
`cargo lambda watch`, only the compiled binaries.

    .venv/bin/python bench/urlserver.py                        # debug binaries, 4 per function
    .venv/bin/python bench/urlserver.py --profile release --instances 8 --port 9100

What it runs:

- moto on a free loopback port, seeded the way `scripts/localstack.py` seeds the local
  stack (its own functions: the two accounts' roles assumed with `assume_side`, the owner's
  demo resources with `OwnerSeeder`, the requestor's group and user, `verify_seed`), then
  pre-warmed with `bench/harness.py`'s `prewarm_moto`.
- For each function, K processes of its binary (`--instances`, default 4), each with a
  Lambda Runtime API of its own (`bench/harness.py`'s `RuntimeApi`), started as Lambda
  starts a custom runtime (`AWS_LAMBDA_RUNTIME_API` and the variables `harness.py`'s
  `function_environment` sets). The owner functions get the owner account's credentials,
  the requestor functions the requestor's (`scripts/localstack.py`'s `SIDE_FUNCTIONS`),
  `AWS_ENDPOINT_URL` pointing at this moto, and nothing from the shell's AWS settings.
  The binaries are hard-linked (or copied) into a temporary directory first, so a rebuild
  while the server runs changes nothing.
- One HTTP server on loopback: `http://127.0.0.1:PORT/lambda-url/<name>/<path>?<query>`.
  Each request becomes the Function URL event (payload format 2.0) Lambda would send —
  method, raw path after the prefix, raw query string and `queryStringParameters`
  (repeated keys joined with commas, as Function URLs do), headers (lower-cased, repeats
  joined with commas, `host` set to the function's URL host), cookies, body (base64 unless
  textual), `requestContext` with `http`, `accountId`, an IAM `authorizer`, a fresh
  request id and time — and the function's response (`statusCode`, `headers`,
  `multiValueHeaders`, `cookies`, `body`, `isBase64Encoded`) becomes the HTTP answer.

One process handles one invocation at a time, as in Lambda. A request waits for a free
process of its function (FIFO); after `--queue-timeout` seconds it gets a 504, and when
`--max-queue` requests already wait it gets a 429 at once; both are logged. A function
error (`/invocation/error`) is a 502. An invocation that outlives the function's timeout
(template.yaml's `Timeout`) is a 504, and a process that exits or breaks the Runtime API
protocol mid-invocation a 502; in both cases the process is stopped and a fresh one
started in its place, as Lambda replaces an execution environment.

`GET /_urlserver/stats` answers counters per function (invocations, queue waits, 504s,
502s, replaced processes) and the CPU seconds used so far by moto, by the function
processes and by this server. Answers carry `x-xacct-bench-queue-ms` (time waiting for a free
process) and `x-xacct-bench-function-ms` (event handed out -> response received).

Once every process waits for its first event, one JSON line goes to stdout (`url_base`,
`functions` with each URL, `moto_url`, `instances`, `profile`, `binaries`); logs go to
stderr, each process's output to `--log-dir` (default: a temporary directory, removed at
the end). SIGINT/SIGTERM stop everything it started.
"""

from __future__ import annotations

import sys

# Before importing harness.py and localstack.py: no __pycache__ in the work tree (`cargo
# lambda watch` restarts the local stack's functions on any change there).
sys.dont_write_bytecode = True

import argparse  # noqa: E402
import base64  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterable, Iterator, Mapping  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for _path in (str(BENCH_DIR), str(REPO_ROOT / "scripts")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402
import localstack  # noqa: E402

LOOPBACK = harness.LOOPBACK
REGION = harness.REGION
ACCOUNTS = localstack.SIDE_ACCOUNTS
PREFIX = "/lambda-url/"
STATS_PATH = "/_urlserver/stats"
MAX_REQUEST_BODY = 6 * 1024 * 1024  # a Function URL's request payload limit
READY_SECONDS = 60.0  # a process's start until its first `GET /invocation/next`
DEFAULT_INSTANCES = 4
DEFAULT_QUEUE_TIMEOUT = 30.0
DEFAULT_MAX_QUEUE = 1024

# A caller signed with SigV4 (the template's Function URLs use AWS_IAM); made up.
CALLER_ACCESS_KEY = "ASIAXACCTBENCHEXAMPLE"
CALLER_ID = "AROAXACCTBENCHCALLER1:xacct-bench"

# Not forwarded to the function, nor from it: they describe one hop.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "application/graphql",
    }
)


class ServerError(harness.BenchError):
    """A failure to start; exit status 1."""


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"urlserver [{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The nine functions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlFunction:
    spec: harness.FunctionSpec  # name, side, memory, logical id: what harness.py takes
    timeout_s: int  # template.yaml's Timeout

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def side(self) -> str:
        return self.spec.side

    @property
    def account(self) -> str:
        return ACCOUNTS[self.side]


SIDE_OF = {name: side for side, names in localstack.SIDE_FUNCTIONS.items() for name in names}

# (name, MemorySize, Timeout, logical id) as template.yaml has them (a test compares).
_TABLE = (
    ("list-resources", 1769, 60, "ListResourcesFunction"),
    ("list-permissions", 128, 10, "ListPermissionsFunction"),
    ("create-owner-role", 128, 30, "CreateOwnerRoleFunction"),
    ("list-grants", 128, 30, "ListGrantsFunction"),
    ("check-owner-role", 128, 30, "CheckOwnerRoleFunction"),
    ("revoke-grant", 128, 30, "RevokeGrantFunction"),
    ("create-requestor-resources", 128, 30, "CreateRequestorResourcesFunction"),
    ("check-requestor-role", 128, 30, "CheckRequestorRoleFunction"),
    ("revoke-requestor-resources", 128, 30, "RevokeRequestorResourcesFunction"),
)
FUNCTIONS: dict[str, UrlFunction] = {
    name: UrlFunction(
        harness.FunctionSpec(
            name, SIDE_OF[name], memory, logical_id, (), uses_aws=name != "list-permissions"
        ),
        timeout,
    )
    for name, memory, timeout, logical_id in _TABLE
}


# --------------------------------------------------------------------------------------
# HTTP request -> Function URL event
# --------------------------------------------------------------------------------------


def url_id(name: str) -> str:
    """A stable made-up Function URL id (32 lowercase letters and digits, as AWS's)."""
    return hashlib.sha256(f"xacct-bench-url:{name}".encode()).hexdigest()[:32]


def url_domain(name: str, region: str = REGION) -> str:
    return f"{url_id(name)}.lambda-url.{region}.on.aws"


def split_target(target: str) -> tuple[str | None, str, str]:
    """`/lambda-url/<name>/<rest>?<query>` -> (name, `/<rest>`, query). The name is None
    when the path does not start with the prefix or names nothing."""
    path, _, query = target.partition("?")
    path = path.partition("#")[0]
    if not path.startswith(PREFIX):
        return None, path, query
    name, _, rest = path[len(PREFIX) :].partition("/")
    return (name or None), "/" + rest, query


def query_parameters(raw_query: str) -> dict[str, str]:
    """`queryStringParameters` as a Function URL event has them: percent-decoded, a repeated
    key's values joined with commas."""
    out: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def is_text(content_type: str | None) -> bool:
    """Whether Lambda passes a body of this type as text (else base64)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in TEXT_TYPES
        or media.endswith("+json")
        or media.endswith("+xml")
    )


def build_event(
    *,
    name: str,
    account: str,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = LOOPBACK,
    now: dt.datetime | None = None,
    request_id: str | None = None,
    region: str = REGION,
) -> dict[str, Any]:
    """The Function URL event (payload format 2.0) for one HTTP request, in the shape of
    bench/events/*.json."""
    now = now or dt.datetime.now(dt.timezone.utc)
    request_id = request_id or str(uuid.uuid4())
    domain = url_domain(name, region)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, value in headers:
        key = raw_name.lower()
        if key in HOP_BY_HOP:
            continue
        if key == "cookie":  # a Function URL moves them to `cookies`
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    merged.update(
        {
            "host": domain,
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "x-forwarded-for": source_ip,
            "x-amzn-trace-id": harness.trace_id().split(";", 1)[0],
        }
    )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path or "/",
        "rawQueryString": raw_query,
        "headers": merged,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        event["queryStringParameters"] = query_parameters(raw_query)
    event["requestContext"] = {
        "accountId": account,
        "apiId": url_id(name),
        "authorizer": {
            "iam": {
                "accessKey": CALLER_ACCESS_KEY,
                "accountId": account,
                "callerId": CALLER_ID,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{account}:role/xacct-bench-caller",
                "userId": CALLER_ID,
            }
        },
        "domainName": domain,
        "domainPrefix": url_id(name),
        "http": {
            "method": method.upper(),
            "path": raw_path or "/",
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if body:
        text = None
        if is_text(merged.get("content-type")):
            with contextlib.suppress(UnicodeDecodeError):
                text = body.decode("utf-8")
        event["body"] = text if text is not None else base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = text is None
    else:
        event["isBase64Encoded"] = False
    return event


# --------------------------------------------------------------------------------------
# Function response -> HTTP answer
# --------------------------------------------------------------------------------------


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, document: Any) -> HttpAnswer:
    return HttpAnswer(
        status, [("content-type", "application/json")], json.dumps(document).encode()
    )


def decode_response(kind: str, payload: bytes, error_type: str | None = None) -> HttpAnswer:
    """What a Function URL answers for a function's response (`kind` "response") or error
    (`kind` "error", a 502 as Lambda's). A response that is not an object with
    `statusCode` is the body of a 200 (application/json), as Lambda does."""
    if kind != "response":
        answer = json_answer(502, {"Message": "Internal Server Error"})
        answer.headers.append(("x-amzn-errortype", error_type or "Unhandled"))
        return answer
    try:
        response = json.loads(payload)
    except ValueError:
        response = None
    if not isinstance(response, dict) or "statusCode" not in response:
        return HttpAnswer(200, [("content-type", "application/json")], payload)
    headers: list[tuple[str, str]] = []
    for key, value in (response.get("headers") or {}).items():
        headers.append((str(key), str(value)))
    for key, values in (response.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(key), str(value)))
    for cookie in response.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP | {"content-length"}]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    body = response.get("body")
    if body is None:
        data = b""
    elif response.get("isBase64Encoded"):
        data = base64.b64decode(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:  # not a string: Lambda serialises it
        data = json.dumps(body).encode()
    return HttpAnswer(int(response["statusCode"]), headers, data)


# --------------------------------------------------------------------------------------
# Function processes
# --------------------------------------------------------------------------------------


@dataclass(eq=False)  # hashed by identity: pools keep sets of them
class Instance:
    """One process of a function, with its own Runtime API."""

    function: UrlFunction
    label: str  # `<name>#<n>`, in logs and log file names
    api: harness.RuntimeApi
    process: subprocess.Popen[bytes]
    log_path: Path
    invocations: int = 0

    def broken(self) -> str | None:
        """Why this process cannot take another event, if it cannot."""
        if self.process.poll() is not None:
            return f"the process exited with status {self.process.returncode}"
        state = self.api.state
        if state.init_error is not None:
            return f"init error: {state.init_error.decode(errors='replace')[:500]}"
        if state.protocol_errors:
            return f"unexpected runtime requests: {state.protocol_errors[:3]}"
        return None

    def stop(self) -> None:
        harness.stop_child(self.process, self.label)
        with contextlib.suppress(Exception):
            self.api.__exit__(None, None, None)


@dataclass
class Launcher:
    binaries: Mapping[str, Path]
    base_env: Mapping[str, str]
    aws_env: Mapping[str, Mapping[str, str]]  # per side
    rust_log: str
    log_dir: Path
    counter: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def launch(self, function: UrlFunction) -> Instance:
        """A new process, once it waits for its first event."""
        with self.lock:
            number = self.counter.get(function.name, 0) + 1
            self.counter[function.name] = number
        label = f"{function.name}#{number}"
        arn = f"arn:aws:lambda:{REGION}:{function.account}:function:{function.name}"
        api = harness.RuntimeApi(arn, function.timeout_s).__enter__()
        env = harness.function_environment(
            function.spec, self.base_env, api.address, self.aws_env[function.side], self.rust_log
        )
        log_path = self.log_dir / f"{function.name}.{number}.log"
        try:
            with open(log_path, "wb") as log_file:
                process = subprocess.Popen(
                    [str(self.binaries[function.name])],
                    cwd=self.log_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError:
            api.__exit__(None, None, None)
            raise
        instance = Instance(function, label, api, process, log_path)
        deadline = time.monotonic() + READY_SECONDS
        while api.state.first_next_ns is None:
            problem = instance.broken()
            if problem is None and time.monotonic() > deadline:
                problem = f"no `GET /invocation/next` within {READY_SECONDS:.0f} s"
            if problem is not None:
                instance.stop()
                raise ServerError(
                    f"{label} did not start: {problem}\n  {log_path}:\n{harness.log_tail(log_path)}"
                )
            time.sleep(0.01)
        return instance


class QueueFull(Exception):
    pass


@dataclass
class Stats:
    invocations: int = 0
    function_errors: int = 0  # /invocation/error: 502
    timeouts: int = 0  # past the function's timeout: 504, process replaced
    crashes: int = 0  # exited or broke the protocol mid-invocation: 502, process replaced
    queue_timeouts: int = 0  # no free process within --queue-timeout: 504
    throttled: int = 0  # --max-queue requests already waiting: 429
    replaced: int = 0
    replace_failures: int = 0
    max_waiting: int = 0
    queue_wait_ms_total: float = 0.0
    queue_wait_ms_max: float = 0.0


class FunctionPool:
    """The processes of one function; a request takes a free one (FIFO), or waits."""

    def __init__(
        self, function: UrlFunction, launcher: Launcher, instances: list[Instance], max_queue: int
    ) -> None:
        self.function = function
        self.launcher = launcher
        self.max_queue = max_queue
        self.idle: queue.Queue[Instance] = queue.Queue()
        self.all: set[Instance] = set()
        self.lock = threading.Lock()
        self.waiting = 0
        self.stats = Stats()
        self.closed = False
        for instance in instances:
            self.all.add(instance)
            self.idle.put(instance)

    def _acquire(self, timeout: float) -> Instance | None:
        with self.lock:
            if self.waiting >= self.max_queue:
                raise QueueFull
            self.waiting += 1
            self.stats.max_waiting = max(self.stats.max_waiting, self.waiting)
        try:
            return self.idle.get(timeout=timeout)
        except queue.Empty:
            return None
        finally:
            with self.lock:
                self.waiting -= 1

    def _retire(self, instance: Instance, reason: str) -> None:
        """Stops the process and starts another in its place, in the background."""
        with self.lock:
            self.all.discard(instance)
            self.stats.replaced += 1

        def replace() -> None:
            instance.stop()
            if self.closed:
                return
            try:
                fresh = self.launcher.launch(self.function)
            except (ServerError, OSError) as error:
                with self.lock:
                    self.stats.replace_failures += 1
                log(f"{self.function.name}: no replacement for {instance.label}: {error}")
                return
            with self.lock:
                if self.closed:
                    fresh.stop()
                    return
                self.all.add(fresh)
            log(f"{self.function.name}: {fresh.label} replaces {instance.label} ({reason})")
            self.idle.put(fresh)

        threading.Thread(target=replace, daemon=True).start()

    def invoke(self, payload: bytes, queue_timeout: float) -> tuple[HttpAnswer, float, float]:
        """The answer, the milliseconds spent waiting for a free process, and those between
        the event handed out and the response received (0 when it never got that far)."""
        name = self.function.name
        waited_from = time.perf_counter()
        deadline = time.monotonic() + queue_timeout
        while True:
            try:
                instance = self._acquire(max(0.0, deadline - time.monotonic()))
            except QueueFull:
                with self.lock:
                    self.stats.throttled += 1
                log(f"429 {name}: {self.max_queue} requests already wait for a free process")
                return (
                    json_answer(429, {"Message": f"xacct-bench urlserver: {name}: queue full"}),
                    0.0,
                    0.0,
                )
            if instance is None:
                break
            problem = instance.broken()
            if problem is None:
                break
            # It died while idle: Lambda would route to another environment; so do we.
            with self.lock:
                self.stats.crashes += 1
            log(f"{name}: {instance.label} died while idle ({problem}); replacing it")
            self._retire(instance, problem)
        queue_ms = (time.perf_counter() - waited_from) * 1000
        with self.lock:
            self.stats.queue_wait_ms_total += queue_ms
            self.stats.queue_wait_ms_max = max(self.stats.queue_wait_ms_max, queue_ms)
        if instance is None:
            with self.lock:
                self.stats.queue_timeouts += 1
                busy = len(self.all)
            log(
                f"504 {name}: no free process within the queue timeout ({queue_timeout:.0f} s; "
                f"{busy} processes, all busy, {self.waiting} requests waiting)"
            )
            return (
                json_answer(504, {"Message": f"xacct-bench urlserver: {name}: queue timeout"}),
                queue_ms,
                0.0,
            )
        request_id = instance.api.queue_event(payload)
        try:
            outcome = instance.api.wait(
                request_id, instance.process, self.function.timeout_s, instance.label
            )
        except harness.BenchError as error:
            problem = instance.broken()
            self._retire(instance, problem or "timed out")
            with self.lock:
                if problem:
                    self.stats.crashes += 1
                else:
                    self.stats.timeouts += 1
            status = 502 if problem else 504
            log(f"{status} {name}: {instance.label}, request {request_id}: {error}")
            log(f"  {instance.log_path}:\n{harness.log_tail(instance.log_path, 20)}")
            message = "Internal Server Error" if problem else "Task timed out"
            return json_answer(status, {"Message": message}), queue_ms, 0.0
        instance.invocations += 1
        with self.lock:
            self.stats.invocations += 1
            if outcome.kind != "response":
                self.stats.function_errors += 1
        self.idle.put(instance)
        if outcome.kind != "response":
            log(
                f"502 {name}: {instance.label} reported a function error "
                f"({outcome.error_type}): {outcome.body[:500].decode(errors='replace')}"
            )
        answer = decode_response(outcome.kind, outcome.body, outcome.error_type)
        return answer, queue_ms, harness.ms(outcome.received_ns - outcome.handed_ns)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            stats = dict(vars(self.stats))
            stats["processes"] = len(self.all)
            stats["waiting"] = self.waiting
            stats["idle"] = self.idle.qsize()
            pids = [i.process.pid for i in self.all]
        stats["cpu_s"] = round(sum(cpu_seconds(pid) for pid in pids), 3)  # of the live ones
        stats["queue_wait_ms_total"] = round(stats["queue_wait_ms_total"], 1)
        stats["queue_wait_ms_max"] = round(stats["queue_wait_ms_max"], 1)
        return stats

    def close(self) -> list[Instance]:
        with self.lock:
            self.closed = True
            return list(self.all)


# --------------------------------------------------------------------------------------
# The HTTP server
# --------------------------------------------------------------------------------------


class UrlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "xacct-bench-urlserver"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass  # failures are logged where they happen

    def _send(self, answer: HttpAnswer, extra: Iterable[tuple[str, str]] = ()) -> None:
        lines = [f"HTTP/1.1 {answer.status} {self.responses.get(answer.status, ('',))[0]}"]
        for key, value in [*answer.headers, *extra]:
            lines.append(f"{key}: {value}")
        lines.append(f"Content-Length: {len(answer.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        self.wfile.write(head if self.command == "HEAD" else head + answer.body)

    def _read_body(self) -> bytes | None:
        """The body, or None when it is over the limit (the connection is then closed)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BODY:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        server: UrlServer = self.server  # type: ignore[assignment]
        name, raw_path, raw_query = split_target(self.path)
        if self.path.partition("?")[0] == STATS_PATH and self.command == "GET":
            self._send(json_answer(200, server.stats()))
            return
        body = self._read_body()
        if body is None:
            self._send(json_answer(413, {"Message": "Request must be smaller than 6291456 bytes"}))
            return
        pool = server.pools.get(name) if name else None
        if pool is None:
            detail = f"function `{name}` not found" if name else f"use {PREFIX}<function>/"
            self._send(json_answer(404, {"title": "Missing function", "detail": detail}))
            return
        event = build_event(
            name=name,
            account=pool.function.account,
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
        )
        payload = json.dumps(event, separators=(",", ":")).encode()
        answer, queue_ms, function_ms = pool.invoke(payload, server.queue_timeout)
        self._send(
            answer,
            [
                ("x-xacct-bench-queue-ms", f"{queue_ms:.2f}"),
                ("x-xacct-bench-function-ms", f"{function_ms:.2f}"),
            ],
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class UrlServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # 32+ clients connect at once; the default 5 drops SYNs
    pools: dict[str, FunctionPool]
    queue_timeout: float

    def stats(self) -> dict[str, Any]:
        pools = {name: pool.snapshot() for name, pool in self.pools.items()}
        pids = [i.process.pid for pool in self.pools.values() for i in list(pool.all)]
        moto = [pid for pid in child_pids() if "moto" in cmdline(pid)]
        return {
            "functions": pools,
            "cpu_s": {
                "moto": round(sum(cpu_seconds(pid) for pid in moto), 2),
                "function_processes": round(sum(cpu_seconds(pid) for pid in pids), 2),
                "urlserver": round(sum(os.times()[:2]), 2),
            },
        }

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # the client went away
        log(f"handler error for {client_address}: {error!r}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def child_pids() -> list[int]:
    """This process's children (moto among them)."""
    me = os.getpid()
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me:
            out.append(int(entry.name))
    return out


# --------------------------------------------------------------------------------------
# Setup
# --------------------------------------------------------------------------------------


def snapshot_binaries(binaries: Mapping[str, Path], into: Path) -> dict[str, Path]:
    """Each binary hard-linked (or, across file systems, copied) into `into`: a rebuild of
    the target directory meanwhile does not change what runs, nor what a replacement
    process runs."""
    into.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, path in binaries.items():
        target = into / name
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        out[name] = target
    return out


def seed_moto(endpoint: str) -> dict[str, Any]:
    """Both accounts as scripts/localstack.py prepares them (without its env files):
    credentials, the owner's demo resources, the requestor's group and user; checked."""
    sides = {name: localstack.assume_side(name, endpoint) for name in localstack.SIDE_ACCOUNTS}
    inventory = localstack.OwnerSeeder(sides["owner"]).run()
    inventory["requestor_people"] = localstack.seed_requestor_people(sides["requestor"])
    localstack.verify_seed(sides["owner"], sides["requestor"], inventory)
    took = harness.prewarm_moto({n: s.credentials for n, s in sides.items()}, endpoint)
    log(f"moto seeded and pre-warmed ({took:.1f} s of pre-warming)")
    return sides


def side_environment(side: localstack.Side, endpoint: str) -> dict[str, str]:
    """The AWS variables of scripts/localstack.py's `function_environment` (the rest comes
    from harness.py's `cleaned_environment` and `function_environment`)."""
    creds = side.credentials
    return {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_SESSION_TOKEN": creds.session_token,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "XACCT_SIDE": side.name,
    }


def start_pools(
    functions: list[UrlFunction], launcher: Launcher, instances: int, max_queue: int
) -> dict[str, FunctionPool]:
    """Every process started at once; fails (stopping what started) if any does not."""
    started: dict[str, list[Instance]] = {f.name: [] for f in functions}
    failures: list[str] = []
    lock = threading.Lock()

    def one(function: UrlFunction) -> None:
        try:
            instance = launcher.launch(function)
        except (ServerError, OSError) as error:
            with lock:
                failures.append(str(error))
            return
        with lock:
            started[function.name].append(instance)

    threads = [
        threading.Thread(target=one, args=(f,), daemon=True)
        for f in functions
        for _ in range(instances)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        stop_all([i for group in started.values() for i in group])
        raise ServerError(f"{len(failures)} processes did not start; the first: {failures[0]}")
    return {
        f.name: FunctionPool(f, launcher, started[f.name], max_queue) for f in functions
    }


def stop_all(instances: list[Instance]) -> None:
    threads = [threading.Thread(target=i.stop, daemon=True) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(harness.STOP_GRACE_SECONDS + 10)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="urlserver.py",
        description="xacct's nine functions behind one local Function URL endpoint, each "
        "binary under a Lambda Runtime API, with moto as AWS.",
    )
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument(
        "--instances",
        type=int,
        default=DEFAULT_INSTANCES,
        help=f"processes per function (default {DEFAULT_INSTANCES})",
    )
    parser.add_argument("--profile", choices=("debug", "release"), default="debug")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        help="where the binaries are (default: $CARGO_TARGET_DIR or ~/.cache/xacct-target, "
        "then the profile); also a cargo-lambda or `sam build` output directory",
    )
    parser.add_argument(
        "--functions",
        default=",".join(FUNCTIONS),
        help="comma-separated subset (default: all nine)",
    )
    parser.add_argument(
        "--queue-timeout",
        type=float,
        default=DEFAULT_QUEUE_TIMEOUT,
        help="seconds a request waits for a free process before a 504 "
        f"(default {DEFAULT_QUEUE_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=DEFAULT_MAX_QUEUE,
        help=f"requests that may wait per function; more get a 429 (default {DEFAULT_MAX_QUEUE})",
    )
    parser.add_argument("--rust-log", default="info", help="RUST_LOG for the functions")
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="keep moto's and each process's output here (default: a temporary directory, "
        "removed at the end)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.functions.split(",") if n.strip()]
    unknown = [n for n in names if n not in FUNCTIONS]
    if unknown or not names or len(set(names)) != len(names):
        parser.error(f"--functions: unknown or repeated in {names}; known: {', '.join(FUNCTIONS)}")
    if args.port in harness.RESERVED_PORTS or not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: not available (the local stack's ports are reserved)")
    if not 1 <= args.instances <= 64:
        parser.error("--instances must be between 1 and 64")
    if not 0 < args.queue_timeout <= 900:
        parser.error("--queue-timeout must be between 0 and 900 seconds")
    if args.max_queue < 1:
        parser.error("--max-queue must be at least 1")
    args.names = names
    return args


def binary_facts(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {
        "path": str(path),
        "mb": round(stat.st_size / 2**20, 1),
        "mtime": dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }


@contextlib.contextmanager
def serving(args: argparse.Namespace) -> Iterator[tuple[UrlServer, dict[str, Any]]]:
    """Everything started; stopped on exit."""
    functions = [FUNCTIONS[n] for n in args.names]
    bin_dir = (args.bin_dir or harness.default_bin_dir(args.profile)).resolve()
    binaries = {f.name: harness.find_binary(bin_dir, f.spec) for f in functions}
    with tempfile.TemporaryDirectory(prefix="xacct-urlserver-") as tmp_name:
        tmp = Path(tmp_name)
        aws_files = {
            "AWS_CONFIG_FILE": str(tmp / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
        }
        for path in aws_files.values():
            Path(path).write_text("")
        harness.isolate_this_process(aws_files)
        base_env = harness.cleaned_environment(os.environ, aws_files)
        log_dir = tmp / "logs"
        if args.log_dir is not None:
            log_dir = args.log_dir.resolve()
        log_dir.mkdir(parents=True, exist_ok=True)
        snapshot = snapshot_binaries(binaries, tmp / "bin")
        with harness.moto_server(base_env, log_dir / "moto.log") as endpoint:
            sides = seed_moto(endpoint)
            launcher = Launcher(
                binaries=snapshot,
                base_env=base_env,
                aws_env={name: side_environment(side, endpoint) for name, side in sides.items()},
                rust_log=args.rust_log,
                log_dir=log_dir,
            )
            started = time.monotonic()
            pools = start_pools(functions, launcher, args.instances, args.max_queue)
            log(
                f"{args.instances * len(functions)} processes ({args.instances} per function) "
                f"wait for events after {time.monotonic() - started:.1f} s"
            )
            server: UrlServer | None = None
            thread: threading.Thread | None = None
            try:
                server = UrlServer((LOOPBACK, args.port), UrlHandler)
                server.pools = pools
                server.queue_timeout = args.queue_timeout
                thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
                )
                thread.start()
                url_base = f"http://{LOOPBACK}:{server.server_address[1]}"
                info = {
                    "url_base": url_base,
                    "functions": {f.name: f"{url_base}{PREFIX}{f.name}/" for f in functions},
                    "sides": {f.name: f.side for f in functions},
                    "moto_url": endpoint,
                    "instances": args.instances,
                    "profile": args.profile,
                    "queue_timeout_s": args.queue_timeout,
                    "binaries": {name: binary_facts(path) for name, path in binaries.items()},
                    "log_dir": str(log_dir) if args.log_dir is not None else None,
                    "pid": os.getpid(),
                }
                yield server, info
            finally:
                if server is not None:
                    server.shutdown()
                    server.server_close()
                if thread is not None:
                    thread.join(5)
                instances = [i for pool in pools.values() for i in pool.close()]
                stop_all(instances)
                log(f"stopped {len(instances)} processes")


def run(args: argparse.Namespace) -> int:
    with serving(args) as (_server, info):
        print(json.dumps(info), flush=True)
        log(f"serving {len(info['functions'])} functions at {info['url_base']}{PREFIX}<name>/")
        while True:  # until a signal
            time.sleep(3600)
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    for sig in harness.STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, harness._raise_interrupted)
    try:
        return run(args)
    except harness.BenchError as error:
        log(f"FAILED: {error}")
        return 1
    except localstack.StackError as error:
        log(f"FAILED: seeding moto: {error}")
        return 1
    except harness.Interrupted as interrupted:
        log(f"stopped ({interrupted})")
        if interrupted.signum in (signal.SIGTERM, signal.SIGINT):
            return 0  # how load.py and Ctrl-C stop it
        return 128 + interrupted.signum
    except Exception as error:  # boto3/botocore errors from the seeding, mostly
        if type(error).__module__.startswith(("botocore", "boto3")):
            log(f"FAILED: AWS call to moto: {error}")
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
