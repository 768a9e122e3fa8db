#!/usr/bin/env python3
"""Load test of xacct's nine functions: N requests at a fixed concurrency in a realistic
mix, every answer checked against the status it must have (and a few facts of its body);
latency percentiles overall and per function into `--out` (key `load`, other keys kept)
and a Markdown table on stdout.

    .venv/bin/python bench/load.py                                  # 1,000 at 32, debug
    .venv/bin/python bench/load.py --profile release --out bench/results.json
    .venv/bin/python bench/load.py --server stack                   # against `make local-up`

Servers:
    urlserver (default)  starts bench/urlserver.py: its own moto on a free port (seeded as
                         scripts/localstack.py seeds the local stack), `--instances` processes
                         of each compiled binary ($CARGO_TARGET_DIR/<profile>/<name>, default
                         ~/.cache/xacct-target) under a Lambda Runtime API, one Function URL
                         endpoint on a free loopback port; stopped at the end. No cargo.
    stack                the running local stack (`make local-up`, `cargo lambda watch`); the
                         URLs from .local/stack.json or XACCT_STACK_FILE.

The run, in order (only step 3 is measured):
 1. setup, one request at a time: three stable grants (owner roles) with their requestor
    roles, a group policy, and `--lag` grants and requestor roles for the first revokes;
 2. warm-up: `--warm` requests per function at once (no writes: reads, repeats of the
    stable grants, revokes of a role that does not exist);
 3. the load: `--requests` requests from a pool of `--concurrency` threads, in blocks of 20
    (per block: 5 list-permissions, 3 list-resources, 2 each of list-grants,
    check-owner-role, create-owner-role, create-requestor-resources and
    check-requestor-role, 1 each of revoke-grant and revoke-requestor-resources). Each
    block creates a new grant and a new requestor role; block b revokes those of block
    b - lag (a revoke waits until its create has answered, which it almost always has);
    creates alternate with repeats (no change) and dry runs; 1 list-permissions request in
    8 names an unknown service and must get 400 `UnknownService`;
 4. clean-up, one at a time: the revokes of the last blocks' grants and requestor roles.

An error is any answer with another status than the expected one, a body that fails its
check (e.g. `changed` wrong, `partial_failures`, a stable grant missing from list-grants),
a time-out or a connection error; exit status 1 if there is any, in any step. Latency is
the client's: request sent -> answer read, one connection per request (urllib); the
percentiles interpolate linearly between closest ranks (bench/harness.py's `percentile`).
With the urlserver the report also has the server's own time per answer (event handed to
the function -> its response) and its counters (queue waits, 504s, replaced processes).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # no __pycache__ in the work tree (cargo lambda watch)

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator, Mapping  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "bench"), str(ROOT / "scripts")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402
import localstack  # noqa: E402

URLSERVER = ROOT / "bench" / "urlserver.py"
OWNER = localstack.OWNER_ACCOUNT
REQUESTOR = localstack.REQUESTOR_ACCOUNT
SIDE_OF = {name: side for side, names in localstack.SIDE_FUNCTIONS.items() for name in names}
FUNCTION_NAMES = tuple(SIDE_OF)
BLOCK_SIZE = 20
URLSERVER_START_SECONDS = 300.0

# The demo resources scripts/localstack.py seeds (and bench/urlserver.py, through it).
_BUCKETS = {b.name: f"arn:aws:s3:::{b.name}" for b in localstack.SEED_BUCKETS}
REPORTS = _BUCKETS["xacct-demo-reports"]
LOGS_EU = _BUCKETS["xacct-demo-logs-eu"]
REPORTS_OBJECT = f"{REPORTS}/{sorted(localstack.SEED_BUCKETS[0].objects)[0]}"
ORDERS_DB = f"arn:aws:rds:us-east-1:{OWNER}:db:{localstack.SEED_DB_INSTANCES[0].identifier}"
REPORT_FUNCTION = f"arn:aws:lambda:us-east-1:{OWNER}:function:{localstack.SEED_FUNCTIONS[0].name}"
GROUP = localstack.REQUESTOR_GROUP
USER = localstack.REQUESTOR_USER


class LoadError(Exception):
    """A failure to report without a traceback; exit status 1."""


def log(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One request and what its answer must be."""

    index: int
    function: str
    method: str
    query: str  # the raw query string, "" for none
    body: Any  # JSON-able, None for no body
    expect: int  # the status that counts as success
    check: str  # which body check (see `check_answer`)
    want: Mapping[str, Any] = field(default_factory=dict)  # the check's parameters
    note: str = ""  # what it is, for error messages
    after: int | None = None  # a request that must have answered first


@dataclass(frozen=True)
class Stable:
    """A grant that lives through the whole run: checked, listed and repeated."""

    number: int
    resource_arn: str
    actions: tuple[str, ...]
    service: str

    @property
    def role(self) -> str:
        return f"xacct-load-stable-{self.number}"

    @property
    def requestor_role(self) -> str:
        return f"xacct-load-stable-req-{self.number}"

    @property
    def external_id(self) -> str:
        return f"xacct-load-stable-external-id-{self.number}"

    @property
    def role_arn(self) -> str:
        return role_arn(OWNER, self.role)

    @property
    def requestor_role_arn(self) -> str:
        return role_arn(REQUESTOR, self.requestor_role)

    def owner_body(self) -> dict[str, Any]:
        return {
            "resource_arn": self.resource_arn,
            "actions": list(self.actions),
            "requestor_account_id": REQUESTOR,
            "requestor_role_arn": self.requestor_role_arn,
            "external_id": self.external_id,
            "role_name": self.role,
        }

    def requestor_body(self) -> dict[str, Any]:
        return {
            "owner_role_arn": self.role_arn,
            "service_principal": self.service,
            "external_id": self.external_id,
            "role_name": self.requestor_role,
        }


STABLE = (
    Stable(0, REPORTS, ("s3:GetObject", "s3:ListBucket"), "lambda.amazonaws.com"),
    Stable(1, LOGS_EU, ("s3:GetObject",), "ec2.amazonaws.com"),
    Stable(2, ORDERS_DB, ("rds:DescribeDBInstances",), "ecs-tasks.amazonaws.com"),
)
NEW_GRANT_TARGETS = (
    (REPORTS, ("s3:GetObject", "s3:ListBucket")),
    (LOGS_EU, ("s3:GetObject", "s3:PutObject")),
    (ORDERS_DB, ("rds:CreateDBSnapshot", "rds:DescribeDBInstances")),
    (REPORT_FUNCTION, ("lambda:GetFunction", "lambda:InvokeFunction")),
)
SERVICES = ("lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com")
BLOCK = (
    "list-permissions",
    "list-resources",
    "check-owner-role",
    "create-owner-role",
    "list-permissions",
    "check-requestor-role",
    "list-grants",
    "create-requestor-resources",
    "list-permissions",
    "revoke-grant",
    "list-resources",
    "check-owner-role",
    "list-permissions",
    "create-owner-role",
    "check-requestor-role",
    "revoke-requestor-resources",
    "list-grants",
    "list-resources",
    "create-requestor-resources",
    "list-permissions",
)
assert len(BLOCK) == BLOCK_SIZE and set(BLOCK) == set(SIDE_OF)


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/xacct/{name}"


def qs(*pairs: tuple[str, str]) -> str:
    return urllib.parse.urlencode(pairs)


@dataclass(frozen=True)
class Names:
    """The names of what one run creates: unique per run, so runs against a long-lived
    stack do not collide (IAM role names: at most 64 characters)."""

    run: str

    def grant(self, block: int) -> str:
        return f"xacct-load-{self.run}-g{block}"

    def requestor(self, block: int) -> str:
        return f"xacct-load-{self.run}-r{block}"

    def early_grant(self, i: int) -> str:  # made in the setup, revoked by block i
        return f"xacct-load-{self.run}-eg{i}"

    def early_requestor(self, i: int) -> str:
        return f"xacct-load-{self.run}-er{i}"

    def absent(self) -> str:  # never created: revoking it changes nothing
        return f"xacct-load-{self.run}-absent"


def list_permissions(block: int, k: int) -> tuple[str, str, Any, int, str, dict[str, Any]]:
    """(method, query, body, status, check, want) of the k-th list-permissions of a block."""
    variant = (block * 5 + k) % 8
    arn_query = {
        0: qs(("arn", REPORTS)),
        1: qs(("arn", ORDERS_DB), ("access_levels", "read,list")),
        2: qs(("arn", REPORTS_OBJECT)),
        4: qs(("arn", f"arn:aws:ec2:us-east-1:{OWNER}:instance/i-0123456789abcdef0")),
        5: qs(("arn", LOGS_EU), ("access_levels", "list"), ("access_levels", "read")),
        6: qs(("arn", f"arn:aws:dynamodb:us-east-1:{OWNER}:table/xacct-demo-orders")),
    }
    if variant == 3:
        body = {"arn": REPORT_FUNCTION, "access_levels": ["read", "write"]}
        return "POST", "", body, 200, "permissions", {}
    if variant == 7:  # a typo'd ARN: the client error is the expected answer
        query = qs(("arn", f"arn:aws:nosuchservice:us-east-1:{OWNER}:thing/x"))
        return "GET", query, None, 400, "error", {"code": "UnknownService"}
    return "GET", arn_query[variant], None, 200, "permissions", {}


def list_resources_query(block: int, k: int) -> str:
    if k == 0 and block % 5 == 4:
        return ""  # every enabled region, every service: what a console shows first
    return {
        0: qs(("region", "us-east-1")),
        1: qs(("region", "eu-west-1"), ("service", "s3,ec2")),
        2: qs(("region", "us-east-1"), ("service", "rds"), ("service", "lambda")),
        3: qs(("region", "us-east-1,eu-west-1"), ("name_prefix", "xacct-demo")),
        4: qs(("region", "eu-west-1"), ("limit", "2")),
    }[(block * 3 + k) % 5]


def list_grants_request(block: int, k: int) -> tuple[str, list[str]]:
    """The query and the stable grants the answer must include."""
    variant = (block * 2 + k) % 3
    if variant == 0:
        return "", [s.role_arn for s in STABLE]
    if variant == 1:
        return qs(("requestor_account_id", REQUESTOR)), [s.role_arn for s in STABLE]
    return qs(("resource_arn", REPORTS)), [STABLE[0].role_arn]


def new_grant_body(names: Names, block: int) -> dict[str, Any]:
    resource, actions = NEW_GRANT_TARGETS[block % len(NEW_GRANT_TARGETS)]
    body: dict[str, Any] = {
        "resource_arn": resource,
        "actions": list(actions),
        "requestor_account_id": REQUESTOR,
        "role_name": names.grant(block),
    }
    if block % 2 == 0:
        body["external_id"] = f"xacct-load-{names.run}-external-id-{block}"
    if block % 2 == 1:
        body["requestor_role_arn"] = role_arn(REQUESTOR, names.requestor(block))
    if block % 3 == 0:
        body["require_mfa"] = True
    if block % 4 == 1:
        body["max_session_duration"] = 7200
    return body


def new_requestor_body(names: Names, block: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "owner_role_arn": role_arn(OWNER, names.grant(block)),
        "service_principal": SERVICES[block % len(SERVICES)],
        "role_name": names.requestor(block),
    }
    if block % 2 == 0:
        body["external_id"] = f"xacct-load-{names.run}-external-id-{block}"
    return body


def plan_load(n: int, names: Names, lag: int) -> list[Planned]:
    """The measured requests, in the order they are sent."""
    out: list[Planned] = []
    created: dict[tuple[str, int], int] = {}  # (kind, block) -> index of its create
    seen: Counter[str] = Counter()
    for i in range(n):
        block, slot = divmod(i, BLOCK_SIZE)
        if slot == 0:
            seen.clear()
        function = BLOCK[slot]
        k = seen[function]
        seen[function] += 1
        stable = STABLE[(block * 2 + k) % len(STABLE)]
        after = None
        if function == "list-permissions":
            method, query, body, expect, check, want = list_permissions(block, k)
            note = f"list-permissions {query or json.dumps(body)}"
        elif function == "list-resources":
            method, query, body, expect, check, want = (
                "GET", list_resources_query(block, k), None, 200, "resources", {}
            )  # fmt: skip
            note = f"list-resources ?{query}"
        elif function == "list-grants":
            query, include = list_grants_request(block, k)
            method, body, expect, check, want = "GET", None, 200, "grants", {"include": include}
            note = f"list-grants ?{query}"
        elif function == "check-owner-role":
            method, query, expect, check, want = "POST", "", 200, "assumable", {}
            body = {
                "role_arn": stable.role_arn,
                "principal_arn": stable.requestor_role_arn,
                "external_id": stable.external_id,
            }
            note = f"check-owner-role {stable.role}"
        elif function == "create-owner-role":
            method, query, expect, check = "POST", "", 200, "created"
            if k == 0:
                body = new_grant_body(names, block)
                created[("grant", block)] = i
                want, note = {"changed": True, "dry_run": False}, f"new grant {body['role_name']}"
            elif block % 2 == 0:
                body = stable.owner_body()
                want, note = {"changed": False, "dry_run": False}, f"repeat of {stable.role}"
            else:
                body = {**new_grant_body(names, block), "dry_run": True}
                body["role_name"] = f"{names.grant(block)}-dry"
                want, note = {"changed": True, "dry_run": True}, f"dry run {body['role_name']}"
        elif function == "revoke-grant":
            method, query, expect, check = "POST", "", 200, "revoked"
            if block >= lag:
                target = names.grant(block - lag)
                after = created[("grant", block - lag)]
            else:
                target = names.early_grant(block)
            body = {"role_arn": role_arn(OWNER, target)}
            want, note = {"changed": True}, f"revoke grant {target}"
        elif function == "create-requestor-resources":
            method, query, expect, check = "POST", "", 200, "created"
            if k == 0:
                body = new_requestor_body(names, block)
                created[("requestor", block)] = i
                want = {"changed": True, "dry_run": False}
                note = f"new requestor role {body['role_name']}"
            elif block % 3 == 0:
                body = stable.requestor_body()
                want = {"changed": False, "dry_run": False}
                note = f"repeat of {stable.requestor_role}"
            elif block % 3 == 1:
                body = {"owner_role_arn": STABLE[0].role_arn, "group_name": GROUP}
                want, note = {"changed": False, "dry_run": False}, f"repeat of group {GROUP}"
            else:
                body = {
                    "owner_role_arn": role_arn(OWNER, names.grant(block)),
                    "user_name": USER,
                    "require_mfa": True,
                    "dry_run": True,
                }
                want, note = {"changed": True, "dry_run": True}, f"dry run for user {USER}"
        elif function == "check-requestor-role":
            method, query, expect, check, want = "POST", "", 200, "requestor_ok", {}
            if k == 1 and block % 2 == 1:
                body = {"group_name": GROUP, "owner_role_arn": STABLE[0].role_arn}
                note = f"check group {GROUP}"
            else:
                body = {"role_arn": stable.requestor_role_arn, "owner_role_arn": stable.role_arn}
                note = f"check {stable.requestor_role}"
        elif function == "revoke-requestor-resources":
            method, query, expect, check = "POST", "", 200, "revoked"
            if block >= lag:
                target = names.requestor(block - lag)
                after = created[("requestor", block - lag)]
            else:
                target = names.early_requestor(block)
            body = {"role_arn": role_arn(REQUESTOR, target)}
            want, note = {"changed": True}, f"revoke requestor role {target}"
        else:  # pragma: no cover - BLOCK names only the nine
            raise AssertionError(function)
        out.append(Planned(i, function, method, query, body, expect, check, want, note, after))
    return out


def plan_setup(names: Names, lag: int) -> list[Planned]:
    """Sent one at a time before the warm-up: the stable grants (any `changed`: a stack may
    have them from an earlier run), then what the first `lag` blocks revoke."""
    out: list[Planned] = []

    def add(function: str, body: Any, want: dict[str, Any], note: str) -> None:
        out.append(Planned(len(out), function, "POST", "", body, 200, "created", want, note))

    for s in STABLE:
        add("create-owner-role", s.owner_body(), {}, f"stable grant {s.role}")
    for s in STABLE:
        add("create-requestor-resources", s.requestor_body(), {}, f"stable {s.requestor_role}")
    group = {"owner_role_arn": STABLE[0].role_arn, "group_name": GROUP}
    add("create-requestor-resources", group, {}, f"group policy on {GROUP}")
    for i in range(lag):
        body = {**new_grant_body(names, i), "role_name": names.early_grant(i)}
        body.pop("requestor_role_arn", None)
        add("create-owner-role", body, {"changed": True}, f"grant {names.early_grant(i)}")
        body = {**new_requestor_body(names, i), "role_name": names.early_requestor(i)}
        add("create-requestor-resources", body, {"changed": True}, names.early_requestor(i))
    return out


def plan_warm(names: Names, per_function: int) -> list[Planned]:
    """Requests that change nothing, `per_function` of each function."""
    s = STABLE[0]
    absent = {
        "owner": role_arn(OWNER, names.absent()),
        "requestor": role_arn(REQUESTOR, names.absent()),
    }
    templates = [
        ("list-permissions", "GET", qs(("arn", REPORTS)), None, "permissions", {}),
        ("list-resources", "GET", qs(("region", "us-east-1")), None, "resources", {}),
        ("list-grants", "GET", "", None, "grants", {"include": [s.role_arn]}),
        (
            "check-owner-role",
            "POST",
            "",
            {
                "role_arn": s.role_arn,
                "principal_arn": s.requestor_role_arn,
                "external_id": s.external_id,
            },
            "assumable",
            {},
        ),
        ("create-owner-role", "POST", "", s.owner_body(), "created", {"changed": False}),
        ("revoke-grant", "POST", "", {"role_arn": absent["owner"]}, "revoked", {"changed": False}),
        (
            "create-requestor-resources",
            "POST",
            "",
            s.requestor_body(),
            "created",
            {"changed": False},
        ),
        (
            "check-requestor-role",
            "POST",
            "",
            {"role_arn": s.requestor_role_arn, "owner_role_arn": s.role_arn},
            "requestor_ok",
            {},
        ),
        (
            "revoke-requestor-resources",
            "POST",
            "",
            {"role_arn": absent["requestor"]},
            "revoked",
            {"changed": False},
        ),
    ]
    out: list[Planned] = []
    for _ in range(per_function):
        for function, method, query, body, check, want in templates:
            note = f"warm {function}"
            out.append(Planned(len(out), function, method, query, body, 200, check, want, note))
    return out


def plan_cleanup(names: Names, plan: list[Planned], lag: int) -> list[Planned]:
    """Revokes of what the measured run created and did not revoke itself."""
    created = {
        (p.function, p.body["role_name"])
        for p in plan
        if p.function in ("create-owner-role", "create-requestor-resources")
        and p.want.get("changed") is True
        and not p.want.get("dry_run")
    }
    revoked = {
        p.body["role_arn"].rsplit("/", 1)[1] for p in plan if p.function.startswith("revoke")
    }
    out: list[Planned] = []
    for function, name in sorted(created):
        if name in revoked:
            continue
        if function == "create-owner-role":
            revoke, arn = "revoke-grant", role_arn(OWNER, name)
        else:
            revoke, arn = "revoke-requestor-resources", role_arn(REQUESTOR, name)
        body, want = {"role_arn": arn}, {"changed": True}
        out.append(
            Planned(len(out), revoke, "POST", "", body, 200, "revoked", want, f"clean-up {name}")
        )
    return out


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def check_answer(p: Planned, status: int, body: Any) -> str | None:
    """None when the answer is what `p` expects, else what is wrong."""
    if status != p.expect:
        detail = json.dumps(body)[:300] if body is not None else "(no JSON body)"
        return f"HTTP {status}, expected {p.expect}: {detail}"
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    want = p.want
    if p.check == "error":
        code = (body.get("error") or {}).get("code")
        return None if code == want["code"] else f"error code {code!r}, expected {want['code']!r}"
    if p.check == "permissions":
        return None if body.get("actions") else "no actions"
    if p.check == "resources":
        if body.get("partial_failures"):
            return f"partial_failures: {json.dumps(body['partial_failures'])[:300]}"
        return None if body.get("resources") else "no resources"
    if p.check == "grants":
        grants = body.get("grants")
        if not isinstance(grants, list):
            return "no grants list"
        if body.get("next_cursor") is None:
            listed = {g.get("role_arn") for g in grants}
            missing = [arn for arn in want.get("include", []) if arn not in listed]
            if missing:
                return f"stable grants missing: {missing}"
        return None
    if p.check == "assumable":
        if body.get("can_assume") is not True:
            return f"can_assume {body.get('can_assume')!r}: {body.get('reason')}"
        return None if body.get("drift") == [] else f"drift: {json.dumps(body.get('drift'))[:300]}"
    if p.check == "requestor_ok":
        if body.get("ok") is True:
            return None
        return f"ok false: {json.dumps(body.get('problems'))[:300]}"
    if p.check in ("created", "revoked"):
        for key, value in want.items():
            if body.get(key) is not value:
                return f"{key} {body.get(key)!r}, expected {value!r}"
        if p.check == "created" and not (body.get("role_arn") or body.get("principal_arn")):
            return "no role_arn"
        return None
    raise AssertionError(f"unknown check {p.check}")


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Result:
    planned: Planned
    status: int  # 0: no answer
    ms: float
    error: str | None  # None: as expected
    kind: str | None  # status, body, timeout, connection
    server_ms: float | None = None  # urlserver: in the function (event out -> response in)
    queue_ms: float | None = None  # urlserver: waiting for a free process
    waited_ms: float = 0.0  # waiting for the request it depends on (not in `ms`)


def header_ms(headers: Any, name: str) -> float | None:
    value = headers.get(name) if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def send(p: Planned, url: str, timeout: float) -> Result:
    data = json.dumps(p.body).encode() if p.body is not None else None
    target = url + ("?" + p.query if p.query else "")
    request = urllib.request.Request(
        target, data=data, method=p.method, headers={"content-type": "application/json"}
    )
    headers = None
    started = time.perf_counter()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
        status, headers = error.code, error.headers
    except (TimeoutError, socket.timeout) as error:
        return Result(p, 0, (time.perf_counter() - started) * 1000, f"time-out: {error}", "timeout")
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        kind = "timeout" if isinstance(reason, (TimeoutError, socket.timeout)) else "connection"
        return Result(p, 0, (time.perf_counter() - started) * 1000, f"{kind}: {reason}", kind)
    ms = (time.perf_counter() - started) * 1000
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    problem = check_answer(p, status, body)
    kind = None if problem is None else ("status" if status != p.expect else "body")
    return Result(
        p,
        status,
        ms,
        problem,
        kind,
        header_ms(headers, "x-xacct-bench-function-ms"),
        header_ms(headers, "x-xacct-bench-queue-ms"),
    )


def run_sequential(
    requests: list[Planned], urls: Mapping[str, str], timeout: float
) -> list[Result]:
    return [send(p, urls[p.function], timeout) for p in requests]


def run_concurrent(
    requests: list[Planned],
    urls: Mapping[str, str],
    concurrency: int,
    timeout: float,
    deadline: float,
) -> tuple[list[Result], float]:
    """Every request from `concurrency` threads, in order; a request with `after` waits
    until that one has answered. Returns the results (in plan order) and the wall time."""
    answered = {p.after: threading.Event() for p in requests if p.after is not None}

    def task(p: Planned) -> Result:
        waited = 0.0
        if p.after is not None:
            t = time.perf_counter()
            answered[p.after].wait(timeout)
            waited = (time.perf_counter() - t) * 1000
        try:
            result = send(p, urls[p.function], timeout)
        finally:
            if p.index in answered:
                answered[p.index].set()
        result.waited_ms = waited
        return result

    results: dict[int, Result] = {}
    started = time.perf_counter()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency)
    try:
        futures = {pool.submit(task, p): p for p in requests}
        try:
            for future in concurrent.futures.as_completed(futures, timeout=deadline):
                result = future.result()
                results[result.planned.index] = result
        except concurrent.futures.TimeoutError:
            log(f"the run passed its deadline of {deadline:.0f} s")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    wall = time.perf_counter() - started
    for p in requests:
        if p.index not in results:
            results[p.index] = Result(p, 0, 0.0, "not answered within --deadline", "timeout")
    return [results[p.index] for p in requests], wall


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def latency_summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": round(harness.percentile(ordered, 50), 2),
        "p90_ms": round(harness.percentile(ordered, 90), 2),
        "p99_ms": round(harness.percentile(ordered, 99), 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def summarize(results: list[Result], wall: float) -> dict[str, Any]:
    errors = [r for r in results if r.error is not None]
    overall = latency_summary([r.ms for r in results])
    report: dict[str, Any] = {
        "requests": len(results),
        "errors": len(errors),
        "errors_by_kind": dict(Counter(r.kind for r in errors)),
        "expected_non_2xx": sum(1 for r in results if not 200 <= r.planned.expect < 300),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(results) / wall, 1) if wall > 0 else None,
        **{k: v for k, v in overall.items() if k != "count"},
        "functions": {},
    }
    for function in FUNCTION_NAMES:
        mine = [r for r in results if r.planned.function == function]
        if not mine:
            continue
        entry = {"side": SIDE_OF[function], **latency_summary([r.ms for r in mine])}
        entry["errors"] = sum(1 for r in mine if r.error is not None)
        server = [r.server_ms for r in mine if r.server_ms is not None and r.status]
        if server:
            entry["in_function_p50_ms"] = round(harness.percentile(sorted(server), 50), 2)
            entry["in_function_p99_ms"] = round(harness.percentile(sorted(server), 99), 2)
        queued = [r.queue_ms for r in mine if r.queue_ms is not None]
        if queued:
            entry["queue_mean_ms"] = round(statistics.fmean(queued), 2)
            entry["queue_max_ms"] = round(max(queued), 2)
        report["functions"][function] = entry
    waits = [r.waited_ms for r in results if r.planned.after is not None]
    report["dependency_waits"] = {
        "requests_with_a_dependency": len(waits),
        "waited_over_1ms": sum(1 for w in waits if w > 1.0),
        "max_wait_ms": round(max(waits), 2) if waits else 0.0,
    }
    report["error_samples"] = [
        {
            "index": r.planned.index,
            "function": r.planned.function,
            "request": r.planned.note,
            "status": r.status,
            "kind": r.kind,
            "error": r.error,
        }
        for r in errors[:20]
    ]
    return report


def markdown_table(report: Mapping[str, Any]) -> str:
    server = any("in_function_p50_ms" in e for e in report["functions"].values())
    head = ["function", "side", "requests", "errors"]
    head += ["p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"]
    if server:
        head += ["in-function p50 ms", "queue mean ms", "CPU ms per call"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def row(name: str, side: str, e: Mapping[str, Any], errors: int) -> str:
        cells = [name, side, str(e["count"]), str(errors)]
        cells += [f"{e[k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms")]
        if server:
            cells += [
                f"{e['in_function_p50_ms']:.1f}" if "in_function_p50_ms" in e else "-",
                f"{e['queue_mean_ms']:.1f}" if "queue_mean_ms" in e else "-",
                f"{e['cpu_ms_per_invocation']:.1f}" if "cpu_ms_per_invocation" in e else "-",
            ]
        return "| " + " | ".join(cells) + " |"

    for name, e in report["functions"].items():
        lines.append(row(name, e["side"], e, e["errors"]))
    overall = {"count": report["requests"], **report}
    lines.append(row("**all**", "", overall, report["errors"]))
    return "\n".join(lines)


def write_report(out: pathlib.Path, report: Mapping[str, Any]) -> None:
    document: dict[str, Any] = {}
    if out.exists():
        document = json.loads(out.read_text())
        if not isinstance(document, dict):
            raise LoadError(f"{out} does not hold a JSON object")
    document["load"] = dict(report)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out)


# --------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------


def fetch_json(url: str, timeout: float = 10.0) -> Any:
    with _OPENER.open(url, timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def urlserver(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """bench/urlserver.py in a process of its own (its threads would otherwise share the
    interpreter with the client's); its logs go to our stderr. Stopped on exit."""
    argv = [
        sys.executable,
        str(URLSERVER),
        "--instances", str(args.instances),
        "--profile", args.profile,
        "--queue-timeout", str(args.queue_timeout),
    ]  # fmt: skip
    if args.bin_dir:
        argv += ["--bin-dir", str(args.bin_dir)]
    if args.log_dir:
        argv += ["--log-dir", str(args.log_dir)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(process.stdout.readline() if process.stdout else ""),
            daemon=True,
        )
        reader.start()
        reader.join(URLSERVER_START_SECONDS)
        if not line or not line[0].strip():
            raise LoadError(
                "bench/urlserver.py did not start"
                + (f" (exit status {process.poll()})" if process.poll() is not None else "")
                + "; its log is above"
            )
        yield json.loads(line[0])
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                log(f"bench/urlserver.py (pid {process.pid}) ignored SIGTERM; killing it")
                process.kill()
                process.wait(10)


def server_stats(info: Mapping[str, Any]) -> dict[str, Any] | None:
    """The urlserver's counters and CPU seconds (None for the stack)."""
    return fetch_json(info["url_base"] + "/_urlserver/stats") if info else None


def cpu_during(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, client: float
) -> dict[str, float]:
    """CPU seconds each part used during the load (the machine has `nproc` cores)."""
    out = {"load_client": round(client, 2)}
    if before and after:
        for key, value in after["cpu_s"].items():
            out[key] = round(value - before["cpu_s"].get(key, 0.0), 2)
    return out


def cpu_per_invocation(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, float]:
    """Per function: CPU milliseconds of its processes per invocation during the load."""
    out: dict[str, float] = {}
    if not (before and after):
        return out
    for name, now in after["functions"].items():
        then = before["functions"].get(name, {})
        calls = now["invocations"] - then.get("invocations", 0)
        if calls > 0 and now.get("replaced") == then.get("replaced"):
            out[name] = round((now["cpu_s"] - then.get("cpu_s", 0.0)) * 1000 / calls, 2)
    return out


def stack_functions() -> dict[str, str]:
    stack_file = pathlib.Path(
        os.environ.get("XACCT_STACK_FILE", ROOT / ".local" / "stack.json")
    )
    try:
        stack = json.loads(stack_file.read_text())
    except (OSError, ValueError) as error:
        raise LoadError(
            f"cannot read {stack_file} (is `make local-up` running?): {error}"
        ) from None
    functions = stack.get("functions") or {}
    missing = [name for name in FUNCTION_NAMES if name not in functions]
    if missing:
        raise LoadError(f"{stack_file} names no URL for {missing}")
    return {name: functions[name] for name in FUNCTION_NAMES}


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="load.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=("urlserver", "stack"), default="urlserver")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--instances", type=int, default=4, help="urlserver: processes per function (default 4)"
    )
    parser.add_argument(
        "--profile", choices=("debug", "release"), default="debug", help="urlserver: binaries"
    )
    parser.add_argument("--bin-dir", type=pathlib.Path, help="urlserver: where the binaries are")
    parser.add_argument(
        "--queue-timeout",
        type=float,
        default=30.0,
        help="urlserver: seconds a request may wait for a free process (504 after)",
    )
    parser.add_argument("--log-dir", type=pathlib.Path, help="urlserver: keep the logs here")
    parser.add_argument(
        "--warm",
        type=int,
        default=None,
        help="warm-up requests per function (default: --instances, so each process "
        "answers one before the run; 4 for the stack)",
    )
    parser.add_argument(
        "--lag",
        type=int,
        default=None,
        help="blocks between a create and its revoke (default: 2 x concurrency requests)",
    )
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the load")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="results JSON (merged)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    if args.warm is None:
        args.warm = args.instances if args.server == "urlserver" else 4
    if args.lag is None:
        args.lag = max(1, -(-2 * args.concurrency // BLOCK_SIZE))
    return args


def run(args: argparse.Namespace) -> int:
    names = Names(secrets.token_hex(3))
    setup = plan_setup(names, args.lag)
    warm = plan_warm(names, args.warm)
    plan = plan_load(args.requests, names, args.lag)
    cleanup = plan_cleanup(names, plan, args.lag)
    loadavg = [round(x, 2) for x in os.getloadavg()]
    with contextlib.ExitStack() as stack:
        info: dict[str, Any] = {}
        if args.server == "urlserver":
            info = stack.enter_context(urlserver(args))
            urls = info["functions"]
        else:
            urls = stack_functions()
        log(f"run {names.run}: setup ({len(setup)} requests, one at a time)")
        failed = [r for r in run_sequential(setup, urls, args.timeout) if r.error]
        for r in failed:
            log(f"setup failed: {r.planned.note}: {r.error}")
        if failed:
            raise LoadError("the setup failed; nothing measured")
        log(f"warm-up ({len(warm)} requests, {args.warm} per function at once)")
        warm_results, _ = run_concurrent(
            warm, urls, min(len(warm), args.warm * len(FUNCTION_NAMES)), args.timeout, args.deadline
        )
        warm_errors = [r for r in warm_results if r.error]
        for r in warm_errors[:5]:
            log(f"warm-up error: {r.planned.note}: {r.error}")
        log(f"load: {len(plan)} requests at concurrency {args.concurrency}")
        stats_before = server_stats(info)
        own_cpu = sum(os.times()[:2])
        results, wall = run_concurrent(plan, urls, args.concurrency, args.timeout, args.deadline)
        own_cpu = sum(os.times()[:2]) - own_cpu
        stats_after = server_stats(info)
        log(f"clean-up ({len(cleanup)} revokes)")
        cleanup_errors = [r for r in run_sequential(cleanup, urls, args.timeout) if r.error]
        for r in cleanup_errors[:5]:
            log(f"clean-up error: {r.planned.note}: {r.error}")
    report = summarize(results, wall)
    for name, ms in cpu_per_invocation(stats_before, stats_after).items():
        if name in report["functions"]:
            report["functions"][name]["cpu_ms_per_invocation"] = ms
    server = "bench/urlserver.py" if info else "local stack (cargo lambda watch)"
    report = {
        "server": server,
        "profile": args.profile if args.server == "urlserver" else "debug",
        "instances_per_function": info.get("instances") if info else None,
        "concurrency": args.concurrency,
        **report,
        "warm_per_function": args.warm,
        "warm_errors": len(warm_errors),
        "setup_requests": len(setup),
        "cleanup_requests": len(cleanup),
        "cleanup_errors": len(cleanup_errors),
        "mix": dict(Counter(p.function for p in plan)),
        "latency": "client side: request sent -> answer read (urllib, a connection per request); "
        "percentiles interpolate linearly between closest ranks",
        "server_stats": stats_after["functions"] if stats_after else None,
        "cpu_s_during_load": cpu_during(stats_before, stats_after, own_cpu),
        "binaries": info.get("binaries") if info else None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": loadavg,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "nproc": len(os.sched_getaffinity(0)),
    }
    for sample in report["error_samples"][:10]:
        log(f"error: #{sample['index']} {sample['request']}: {sample['error']}")
    if args.out:
        write_report(args.out, report)
        log(f"merged into {args.out} (key `load`)")
    print(
        f"{report['requests']} requests at concurrency {args.concurrency} against "
        f"{report['server']} ({report['profile']}"
        + (f", {report['instances_per_function']} processes per function" if info else "")
        + f"): {report['errors']} errors, p50 {report['p50_ms']:.1f} ms, "
        f"p99 {report['p99_ms']:.1f} ms, wall {report['wall_s']:.1f} s\n",
        flush=True,
    )
    print(markdown_table(report), flush=True)
    return 1 if report["errors"] or warm_errors or cleanup_errors else 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    for sig in harness.STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, harness._raise_interrupted)
    try:
        return run(args)
    except LoadError as error:
        log(f"FAILED: {error}")
        return 1
    except harness.Interrupted as interrupted:
        log(f"interrupted ({interrupted}); stopped what had started")
        return 128 + interrupted.signum


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
