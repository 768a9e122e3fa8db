#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between xacct's functions and moto, for the tests.

It forwards every request to moto unchanged and answers with moto's answer, unless a
fault rule matches the request: then it answers with an AWS-shaped error, a throttling
error, a late answer, or no answer at all. Tests add rules and read per-action request
counts over a small admin API under `/__xacct/`, which is never forwarded:

    POST   /__xacct/faults       add a rule (JSON, see `Rule.from_json`); 201 + the rule
    GET    /__xacct/faults       {"rules": [...]} with `remaining` and `hits` per rule
    DELETE /__xacct/faults       remove every rule
    DELETE /__xacct/faults/<id>  remove one rule
    GET    /__xacct/stats        {"iam:CreateRole": 1, ...}: requests per action
    DELETE /__xacct/stats        start counting afresh
    GET    /__xacct/health       {"ok": true, "target": <moto url>}

    curl -s -X POST http://127.0.0.1:5001/__xacct/faults \\
        -d '{"action": "PutRolePolicy", "fault": "error", "status": 500, "count": 1}'

A rule names what it matches (`action`, `service`, `region`, `contains`: at least
`action` or `service`; every field named must match) and what it does (`fault`: error,
throttle, slow, drop, observe; `status`, `code`, `delay_ms`; `count` uses, -1 forever).
The first rule that matches a request and has uses left applies; only that one.

Actions are named from the request: `Action=` (query protocol: IAM, STS, EC2, RDS),
`X-Amz-Target` (JSON protocol), and for S3 and Lambda (REST) from method and path, as
the SDKs' operation names (`GET /bucket?tagging` is GetBucketTagging). Service and
region come from the SigV4 credential scope.

Run: python3 tests/faultproxy.py --port 5001 --target http://127.0.0.1:5000
(`--port 0` takes a free port; the one line printed on stdout says which). SIGTERM or
SIGINT stops it. Standard library only, Python 3.10 or later.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import itertools
import json
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from xml.sax.saxutils import escape as xml_escape

ADMIN_PREFIX = "/__xacct/"
LOOPBACK = "127.0.0.1"
FAULT_MESSAGE = "injected by xacct fault proxy"
# `observe` forwards untouched and only counts `hits`: a per-test counter that a rule's
# `contains` can narrow to one test's resources, where the global stats cannot.
FAULTS = ("error", "throttle", "slow", "drop", "observe")
DEFAULT_DELAY_MS = 1000
# A client connection idle this long is closed. Longer than hyper's pool idle timeout
# (90 s), so the Rust SDK drops an idle connection before the proxy does: a request sent
# on a connection the proxy is closing at that moment would fail for no reason.
CLIENT_IDLE_SECONDS = 300.0
UPSTREAM_TIMEOUT_SECONDS = 120.0
COPY_CHUNK = 64 * 1024
MAX_ADMIN_BODY = 64 * 1024

# Not forwarded in either direction (RFC 9110 section 7.6.1), plus the framing headers
# the proxy sets itself. `Expect` is answered here (the handler sends 100 Continue).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    }
)

# `Credential=AKID/20261122/us-east-1/iam/aws4_request` in a SigV4 Authorization header
# (or the X-Amz-Credential query parameter of a presigned URL, once decoded).
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
# The API version that starts every Lambda REST path: /2015-03-31/functions/...
LAMBDA_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------
# What a request is: service, region, action, protocol
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """The AWS call a request makes, as far as the proxy can tell."""

    service: str  # SigV4 signing name: iam, sts, ec2, rds, s3, lambda...; "" if unknown
    region: str  # "" if unknown
    action: str  # e.g. PutRolePolicy; "Unknown" when no rule below names it
    protocol: str  # "query", "ec2", "json", "rest-xml" or "rest-json"
    json_content_type: str = "application/x-amz-json-1.1"
    # Path, query and body as text, raw and percent-decoded, for a rule's `contains`.
    searchable: tuple[str, ...] = ()

    @property
    def stats_key(self) -> str:
        return f"{self.service or 'unknown'}:{self.action}"

    def contains(self, needle: str) -> bool:
        return any(needle in text for text in self.searchable)


def _first(values: dict[str, list[str]], name: str) -> str:
    found = values.get(name)
    return found[0] if found else ""


def credential_scope(headers: Any, query: dict[str, list[str]]) -> tuple[str, str]:
    """(service, region) from the SigV4 credential scope, or ("", "")."""
    authorization = headers.get("Authorization", "") or ""
    match = CREDENTIAL_SCOPE.search(authorization)
    if match is None:
        presigned = _first(query, "X-Amz-Credential")
        match = CREDENTIAL_SCOPE.search(f"Credential={presigned}") if presigned else None
    if match is None:
        return "", ""
    return match.group(2).lower(), match.group(1).lower()


# S3 subresources (query keys without a value) and the name of the calls on them:
# (bucket-level name, object-level name); the method gives the verb (Get, Put, Delete).
S3_SUBRESOURCES: dict[str, tuple[str, str]] = {
    "tagging": ("BucketTagging", "ObjectTagging"),
    "acl": ("BucketAcl", "ObjectAcl"),
    "policy": ("BucketPolicy", ""),
    "policyStatus": ("BucketPolicyStatus", ""),
    "location": ("BucketLocation", ""),
    "versioning": ("BucketVersioning", ""),
    "encryption": ("BucketEncryption", ""),
    "lifecycle": ("BucketLifecycleConfiguration", ""),
    "cors": ("BucketCors", ""),
    "website": ("BucketWebsite", ""),
    "logging": ("BucketLogging", ""),
    "notification": ("BucketNotificationConfiguration", ""),
    "replication": ("BucketReplication", ""),
    "publicAccessBlock": ("PublicAccessBlock", ""),
    "ownershipControls": ("BucketOwnershipControls", ""),
    "accelerate": ("BucketAccelerateConfiguration", ""),
    "requestPayment": ("BucketRequestPayment", ""),
    "object-lock": ("ObjectLockConfiguration", ""),
    "intelligent-tiering": ("BucketIntelligentTieringConfiguration", ""),
    "analytics": ("BucketAnalyticsConfiguration", ""),
    "metrics": ("BucketMetricsConfiguration", ""),
    "inventory": ("BucketInventoryConfiguration", ""),
    "retention": ("", "ObjectRetention"),
    "legal-hold": ("", "ObjectLegalHold"),
    "attributes": ("", "ObjectAttributes"),
    "torrent": ("", "ObjectTorrent"),
}
VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}


def s3_action(method: str, path: str, query: dict[str, list[str]], headers: Any) -> str:
    """Best-effort S3 operation name for a path-style request (`/bucket/key?sub`).

    The proxy runs on 127.0.0.1, where the SDKs address S3 path-style.
    """
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    on_object = bool(key)
    # Listing and multipart calls, named by a query key before the generic subresources.
    if on_object:
        if "uploads" in query and method == "POST":
            return "CreateMultipartUpload"
        if "uploadId" in query:
            if method == "PUT":
                return "UploadPartCopy" if headers.get("x-amz-copy-source") else "UploadPart"
            return {
                "POST": "CompleteMultipartUpload",
                "GET": "ListParts",
                "DELETE": "AbortMultipartUpload",
            }.get(method, "Unknown")
        if "restore" in query and method == "POST":
            return "RestoreObject"
        if "select" in query and method == "POST":
            return "SelectObjectContent"
    else:
        if "delete" in query and method == "POST":
            return "DeleteObjects"
        if "uploads" in query and method == "GET":
            return "ListMultipartUploads"
        if "versions" in query and method == "GET":
            return "ListObjectVersions"
    for sub, (bucket_name, object_name) in S3_SUBRESOURCES.items():
        if sub not in query:
            continue
        name = object_name if on_object else bucket_name
        verb = VERBS.get(method)
        if not name or verb is None:
            return "Unknown"
        if sub == "lifecycle" and verb == "Delete":
            return "DeleteBucketLifecycle"
        return verb + name
    if on_object:
        if method == "PUT":
            return "CopyObject" if headers.get("x-amz-copy-source") else "PutObject"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(
            method, "Unknown"
        )
    if method == "GET":
        return "ListObjectsV2" if _first(query, "list-type") == "2" else "ListObjects"
    return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(
        method, "Unknown"
    )


# Lambda: (first segment after the version, number of segments after it, method) -> name.
# The segments after the first are labels (a function name, an ARN, a version...) except
# those named in LAMBDA_NESTED.
LAMBDA_COLLECTIONS: dict[tuple[str, int, str], str] = {
    ("functions", 0, "GET"): "ListFunctions",
    ("functions", 0, "POST"): "CreateFunction",
    ("functions", 1, "GET"): "GetFunction",
    ("functions", 1, "DELETE"): "DeleteFunction",
    ("tags", 1, "GET"): "ListTags",
    ("tags", 1, "POST"): "TagResource",
    ("tags", 1, "DELETE"): "UntagResource",
    ("event-source-mappings", 0, "GET"): "ListEventSourceMappings",
    ("event-source-mappings", 0, "POST"): "CreateEventSourceMapping",
    ("event-source-mappings", 1, "GET"): "GetEventSourceMapping",
    ("event-source-mappings", 1, "PUT"): "UpdateEventSourceMapping",
    ("event-source-mappings", 1, "DELETE"): "DeleteEventSourceMapping",
    ("layers", 0, "GET"): "ListLayers",
    ("account-settings", 0, "GET"): "GetAccountSettings",
    ("code-signing-configs", 0, "GET"): "ListCodeSigningConfigs",
    ("code-signing-configs", 0, "POST"): "CreateCodeSigningConfig",
}
# Lambda: /functions/<name>/<sub>[/<label>] -> names by (sub, has label, method).
LAMBDA_FUNCTION_SUBRESOURCES: dict[tuple[str, bool, str], str] = {
    ("configuration", False, "GET"): "GetFunctionConfiguration",
    ("configuration", False, "PUT"): "UpdateFunctionConfiguration",
    ("code", False, "PUT"): "UpdateFunctionCode",
    ("invocations", False, "POST"): "Invoke",
    ("invoke-async", False, "POST"): "InvokeAsync",
    ("policy", False, "GET"): "GetPolicy",
    ("policy", False, "POST"): "AddPermission",
    ("policy", True, "DELETE"): "RemovePermission",
    ("versions", False, "GET"): "ListVersionsByFunction",
    ("versions", False, "POST"): "PublishVersion",
    ("aliases", False, "GET"): "ListAliases",
    ("aliases", False, "POST"): "CreateAlias",
    ("aliases", True, "GET"): "GetAlias",
    ("aliases", True, "PUT"): "UpdateAlias",
    ("aliases", True, "DELETE"): "DeleteAlias",
    ("concurrency", False, "GET"): "GetFunctionConcurrency",
    ("concurrency", False, "PUT"): "PutFunctionConcurrency",
    ("concurrency", False, "DELETE"): "DeleteFunctionConcurrency",
    ("url", False, "GET"): "GetFunctionUrlConfig",
    ("url", False, "POST"): "CreateFunctionUrlConfig",
    ("url", False, "PUT"): "UpdateFunctionUrlConfig",
    ("url", False, "DELETE"): "DeleteFunctionUrlConfig",
    ("urls", False, "GET"): "ListFunctionUrlConfigs",
    ("event-invoke-config", False, "GET"): "GetFunctionEventInvokeConfig",
    ("event-invoke-config", False, "PUT"): "PutFunctionEventInvokeConfig",
    ("event-invoke-config", False, "POST"): "UpdateFunctionEventInvokeConfig",
    ("event-invoke-config", False, "DELETE"): "DeleteFunctionEventInvokeConfig",
    ("code-signing-config", False, "GET"): "GetFunctionCodeSigningConfig",
    ("code-signing-config", False, "PUT"): "PutFunctionCodeSigningConfig",
    ("code-signing-config", False, "DELETE"): "DeleteFunctionCodeSigningConfig",
    ("provisioned-concurrency", False, "GET"): "GetProvisionedConcurrencyConfig",
    ("provisioned-concurrency", False, "PUT"): "PutProvisionedConcurrencyConfig",
    ("provisioned-concurrency", False, "DELETE"): "DeleteProvisionedConcurrencyConfig",
    ("recursion-config", False, "GET"): "GetFunctionRecursionConfig",
    ("recursion-config", False, "PUT"): "PutFunctionRecursionConfig",
}


def lambda_action(method: str, path: str) -> str:
    """Best-effort Lambda operation name for `/<version>/<collection>/...`."""
    segments = [s for s in path.split("/") if s]
    if not segments or not LAMBDA_VERSION.match(segments[0]):
        return "Unknown"
    rest = segments[1:]
    if not rest:
        return "Unknown"
    collection, labels = rest[0], rest[1:]
    if collection == "tags" and labels:
        labels = ["/".join(labels)]  # an ARN, possibly not percent-encoded
    if collection == "functions" and len(labels) >= 2:
        sub_label = len(labels) >= 3
        return LAMBDA_FUNCTION_SUBRESOURCES.get((labels[1], sub_label, method), "Unknown")
    if collection == "layers" and len(labels) >= 2 and labels[1] == "versions":
        if len(labels) == 2:
            return {"GET": "ListLayerVersions", "POST": "PublishLayerVersion"}.get(
                method, "Unknown"
            )
        return {"GET": "GetLayerVersion", "DELETE": "DeleteLayerVersion"}.get(method, "Unknown")
    return LAMBDA_COLLECTIONS.get((collection, min(len(labels), 1), method), "Unknown")


def identify(method: str, raw_path: str, headers: Any, body: bytes) -> Call:
    """Service, region, action and protocol of one forwarded request."""
    split = urllib.parse.urlsplit(raw_path)
    path = urllib.parse.unquote(split.path)
    query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
    service, region = credential_scope(headers, query)
    body_text = body.decode("utf-8", "replace")
    searchable = (
        raw_path,
        urllib.parse.unquote_plus(raw_path),
        body_text,
        urllib.parse.unquote_plus(body_text),
    )

    def call(service: str, action: str, protocol: str, json_content_type: str = "") -> Call:
        return Call(
            service=service,
            region=region,
            action=action or "Unknown",
            protocol=protocol,
            json_content_type=json_content_type or "application/x-amz-json-1.1",
            searchable=searchable,
        )

    if path.startswith("/moto-api/"):  # moto's own API (health checks, reset)
        return call("moto", "MotoApi", "rest-json")

    target = headers.get("X-Amz-Target", "") or ""
    content_type = headers.get("Content-Type", "") or ""
    if target:  # JSON protocol: `X-Amz-Target: Logs_20140328.DescribeLogGroups`
        return call(service, target.rpartition(".")[2], "json", content_type.split(";")[0].strip())

    action = _first(query, "Action")
    if not action and content_type.lower().startswith("application/x-www-form-urlencoded"):
        action = _first(urllib.parse.parse_qs(body_text, keep_blank_values=True), "Action")
    if action:  # query protocol (IAM, STS, RDS...), or EC2's variant of it
        return call(service, action, "ec2" if service == "ec2" else "query")

    # Unsigned requests have no scope: guess from the path, as moto does.
    first_segment = path.lstrip("/").split("/", 1)[0]
    if service == "lambda" or (not service and LAMBDA_VERSION.match(first_segment)):
        return call("lambda", lambda_action(method, path), "rest-json")
    if service in ("s3", ""):
        return call("s3", s3_action(method, path, query, headers), "rest-xml")
    return call(service, "Unknown", "rest-json")


# --------------------------------------------------------------------------------------
# Fault rules
# --------------------------------------------------------------------------------------


class RuleError(ValueError):
    """A rule the admin API refuses; the message goes back in a 400 answer."""


RULE_FIELDS = frozenset(
    {"action", "service", "region", "contains", "fault", "status", "code", "count", "delay_ms"}
)


@dataclass
class Rule:
    """One fault: which requests it matches, what it does, how many more times."""

    id: str
    fault: str
    action: str | None
    service: str | None
    region: str | None
    contains: str | None  # must occur in the path, query or body (raw or decoded)
    status: int | None
    code: str | None
    count: int
    remaining: int  # -1: forever
    delay_ms: int
    hits: int = 0

    @staticmethod
    def from_json(data: Any, rule_id: str) -> Rule:
        """Validates an admin request's JSON. Unknown keys are refused, so a typo
        (`acton`) fails loudly instead of making a rule that matches everything."""
        if not isinstance(data, dict):
            raise RuleError("a rule is a JSON object")
        unknown = sorted(set(data) - RULE_FIELDS)
        if unknown:
            raise RuleError(f"unknown rule fields {unknown}; known: {sorted(RULE_FIELDS)}")

        def text(name: str) -> str | None:
            value = data.get(name)
            if value is None:
                return None
            if not isinstance(value, str) or not value.strip():
                raise RuleError(f"`{name}` must be a non-empty string")
            return value.strip()

        def whole(name: str, default: int) -> int:
            value = data.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RuleError(f"`{name}` must be a whole number")
            return value

        action, service = text("action"), text("service")
        if action and ":" in action:  # "iam:PutRolePolicy" names the service too
            prefix, _, action = action.partition(":")
            if service and service.lower() != prefix.lower():
                raise RuleError(f"`action` names service `{prefix}` but `service` is `{service}`")
            service = prefix
        if not action and not service:
            raise RuleError("a rule needs `action` or `service`")
        fault = text("fault") or "error"
        if fault not in FAULTS:
            raise RuleError(f"`fault` must be one of {list(FAULTS)}, got `{fault}`")
        status = whole("status", 0) if data.get("status") is not None else None
        if status is not None and not 400 <= status <= 599:
            raise RuleError("`status` must be between 400 and 599")
        count = whole("count", 1)
        if count == 0 or count < -1:
            raise RuleError("`count` must be positive, or -1 for every matching request")
        delay_ms = whole("delay_ms", DEFAULT_DELAY_MS)
        if not 0 <= delay_ms <= 600_000:
            raise RuleError("`delay_ms` must be between 0 and 600000")
        return Rule(
            id=rule_id,
            fault=fault,
            action=action,
            service=service.lower() if service else None,
            region=(text("region") or "").lower() or None,
            contains=text("contains"),
            status=status,
            code=text("code"),
            count=count,
            remaining=count,
            delay_ms=delay_ms,
        )

    def matches(self, call: Call) -> bool:
        """Every field the rule names must match (names case-insensitively, `contains`
        exactly); a spent rule never does."""
        if self.remaining == 0:
            return False
        if self.action is not None and self.action.lower() != call.action.lower():
            return False
        if self.service is not None and self.service != call.service:
            return False
        if self.region is not None and self.region != call.region:
            return False
        return self.contains is None or call.contains(self.contains)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "service": self.service,
            "region": self.region,
            "contains": self.contains,
            "fault": self.fault,
            "status": self.status,
            "code": self.code,
            "count": self.count,
            "remaining": self.remaining,
            "delay_ms": self.delay_ms,
            "hits": self.hits,
        }


class State:
    """Rules and counts, shared by every handler thread."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._ids = itertools.count(1)
        self._stats: Counter[str] = Counter()

    def add_rule(self, data: Any) -> Rule:
        with self._lock:
            rule = Rule.from_json(data, f"r{next(self._ids)}")
            self._rules.append(rule)
            return rule

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear_rules(self) -> int:
        with self._lock:
            cleared = len(self._rules)
            self._rules.clear()
            return cleared

    def remove_rule(self, rule_id: str) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            return removed

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._stats.items()))

    def clear_stats(self) -> None:
        with self._lock:
            self._stats.clear()

    def on_request(self, call: Call) -> Rule | None:
        """Counts the request and takes one use of the first matching rule, atomically,
        so concurrent requests never overspend a rule."""
        with self._lock:
            self._stats[call.stats_key] += 1
            for rule in self._rules:
                if rule.matches(call):
                    rule.hits += 1
                    if rule.remaining > 0:
                        rule.remaining -= 1
                    # A copy: the handler reads it after the lock is released.
                    return dataclasses.replace(rule)
            return None


# --------------------------------------------------------------------------------------
# AWS-shaped error answers
# --------------------------------------------------------------------------------------


def throttle_defaults(call: Call) -> tuple[int, str]:
    """Status and code each protocol's services use when they throttle."""
    if call.protocol == "ec2":
        return 400, "RequestLimitExceeded"
    if call.protocol == "rest-xml":
        return 503, "SlowDown"
    if call.protocol == "rest-json":
        return 429, "TooManyRequestsException"
    if call.protocol == "json":
        return 400, "ThrottlingException"
    return 400, "Throttling"


def error_response(call: Call, status: int, code: str) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of an error as the call's protocol shapes it."""
    request_id = str(uuid.uuid4())
    code_xml, message_xml = xml_escape(code), xml_escape(FAULT_MESSAGE)
    if call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code_xml}</Code>"
            f"<Message>{message_xml}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if call.protocol == "query":
        fault_type = "Receiver" if status >= 500 else "Sender"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{fault_type}</Type><Code>{code_xml}</Code>"
            f"<Message>{message_xml}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if call.protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code_xml}</Code><Message>{message_xml}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], (
            body.encode()
        )
    headers = [("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    if call.protocol == "json":
        headers.insert(0, ("Content-Type", call.json_content_type))
        payload: dict[str, str] = {"__type": code, "message": FAULT_MESSAGE}
    else:  # rest-json (Lambda)
        headers.insert(0, ("Content-Type", "application/json"))
        payload = {"Type": "Service" if status >= 500 else "User", "message": FAULT_MESSAGE}
    return headers, json.dumps(payload).encode()


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive
    allow_reuse_address = True  # `reset` restarts the proxy on the same port at once
    request_queue_size = 128  # list-resources fans out over regions and services

    def __init__(self, port: int, state: State) -> None:
        self.state = state
        super().__init__((LOOPBACK, port), ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is routine (a dropped connection, a timed-out SDK
        attempt): one line, not a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            sys.stderr.write(f"faultproxy: {client_address[0]}:{client_address[1]} {error}\n")
            return
        super().handle_error(request, client_address)


class BadRequest(Exception):
    """A request the proxy cannot read (bad framing); answered with 400 and a close."""


class UpstreamGone(Exception):
    """A reused connection to moto turned out closed before any answer."""


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs expect
    timeout = CLIENT_IDLE_SECONDS
    server: ProxyServer
    verbose = False

    # One connection to moto per client connection, reused across its requests.
    upstream: http.client.HTTPConnection | None = None

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = None

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()

    # Every method goes through one place; http.server looks for do_<METHOD>.
    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.verbose:
            super().log_request(code, size)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"faultproxy: {self.address_string()} {format % args}\n")
        sys.stderr.flush()

    # -- request body -----------------------------------------------------------------

    def read_body(self) -> bytes:
        """The request body: `Transfer-Encoding: chunked` is decoded (forwarded with a
        Content-Length), a `Content-Length` body is read as is. An `aws-chunked`
        *content* encoding (S3 uploads with a trailing checksum) is passed through
        untouched under its Content-Length: moto decodes it."""
        transfer = (self.headers.get("Transfer-Encoding", "") or "").lower()
        if "chunked" in transfer:
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise BadRequest(f"bad Content-Length `{length}`") from None
        if size < 0:
            raise BadRequest(f"bad Content-Length `{length}`")
        return self.read_exactly(size)

    def read_exactly(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) != size:
            raise BadRequest("the request body ended early")
        return data

    def read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise BadRequest("the chunked request body ended early")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(f"bad chunk size {size_text!r}") from None
            if size == 0:
                break
            parts.append(self.read_exactly(size))
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest("a chunk lacks its CRLF")
        while True:  # trailer fields, up to the empty line; not forwarded
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    # -- dispatch ---------------------------------------------------------------------

    def dispatch(self) -> None:
        try:
            body = self.read_body()
        except BadRequest as error:
            self.close_connection = True
            self.send_plain(400, f"faultproxy: {error}\n")
            return
        if self.path.startswith(ADMIN_PREFIX):
            self.admin(body)
            return
        call = identify(self.command, self.path, self.headers, body)
        rule = self.server.state.on_request(call)
        if rule is not None:
            self.log_message(
                "%s %s -> %s (rule %s)", call.stats_key, call.region or "-", rule.fault, rule.id
            )
            if rule.fault == "drop":
                self.drop()
                return
            if rule.fault == "slow":
                time.sleep(rule.delay_ms / 1000)
            elif rule.fault == "throttle":
                status, code = throttle_defaults(call)
                self.send_fault(call, rule.status or status, rule.code or code)
                return
            elif rule.fault == "error":
                self.send_fault(call, rule.status or 500, rule.code or "InternalFailure")
                return
        self.forward(body)

    def drop(self) -> None:
        """Closes the connection with no answer at all, as a network failure would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_fault(self, call: Call, status: int, code: str) -> None:
        headers, body = error_response(call, status, code)
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.finish_headers_and_body(body)

    def send_plain(self, status: int, text: str) -> None:
        self.send_json_or_text(status, text.encode(), "text/plain; charset=utf-8")

    def send_json(self, status: int, payload: Any) -> None:
        self.send_json_or_text(status, json.dumps(payload).encode() + b"\n", "application/json")

    def send_json_or_text(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", content_type)
        self.finish_headers_and_body(body)

    def finish_headers_and_body(self, body: bytes) -> None:
        """Content-Length always (HEAD: of nothing), and Connection: close when closing."""
        if self.command == "HEAD":
            body = b""
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    # -- forwarding -------------------------------------------------------------------

    def forward(self, body: bytes) -> None:
        """Sends the request to moto and streams the answer back."""
        try:
            try:
                response = self.send_upstream(body, reuse=True)
            except UpstreamGone:
                response = self.send_upstream(body, reuse=False)
        except (OSError, http.client.HTTPException) as error:
            self.reset_upstream()
            self.send_plain(
                502, f"faultproxy: {self.server.state.target} did not answer: {error}\n"
            )
            return
        try:
            self.relay(response)
        finally:
            response.close()
            if response.will_close:
                self.reset_upstream()

    def reset_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None

    def send_upstream(self, body: bytes, reuse: bool) -> http.client.HTTPResponse:
        reused = reuse and self.upstream is not None
        if not reused:
            self.reset_upstream()
            target = urllib.parse.urlsplit(self.server.state.target)
            self.upstream = http.client.HTTPConnection(
                target.hostname or LOOPBACK, target.port or 80, timeout=UPSTREAM_TIMEOUT_SECONDS
            )
        upstream = self.upstream
        assert upstream is not None
        try:
            # The Host header goes through unchanged: moto builds URLs in its answers
            # from it, and those must lead back through the proxy.
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    upstream.putheader(name, value)
            if (
                body
                or self.headers.get("Content-Length") is not None
                or self.command
                in (
                    "POST",
                    "PUT",
                    "PATCH",
                )
            ):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body if body else None)
            return upstream.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.reset_upstream()
            if reused:
                raise UpstreamGone() from None
            raise

    def relay(self, response: http.client.HTTPResponse) -> None:
        """Status, headers and body back to the client, always with a Content-Length:
        the Rust SDK checks the body against it."""
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        length_header = response.getheader("Content-Length")
        length: int | None = None
        if length_header is not None and not response.chunked:
            try:
                length = int(length_header)
            except ValueError:
                length = None
        buffered = b""
        if length is None and not no_body:
            buffered = response.read()  # chunked or read-to-close: moto's bodies are small
            length = len(buffered)
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            self.wfile.flush()
            return
        if buffered:
            self.wfile.write(buffered)
        else:
            remaining = length or 0
            while remaining > 0:
                chunk = response.read(min(COPY_CHUNK, remaining))
                if not chunk:
                    # moto died mid-answer: the client must not wait for the rest.
                    self.close_connection = True
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)
        self.wfile.flush()

    # -- admin API --------------------------------------------------------------------

    def admin(self, body: bytes) -> None:
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        method = self.command
        if path == "/__xacct/faults":
            if method == "POST":
                if len(body) > MAX_ADMIN_BODY:
                    self.send_json(413, {"error": "rule too large"})
                    return
                try:
                    rule = state.add_rule(json.loads(body.decode("utf-8") or "null"))
                except (ValueError, RuleError) as error:  # JSONDecodeError is a ValueError
                    self.send_json(400, {"error": str(error)})
                    return
                self.log_message("rule added: %s", json.dumps(rule.to_json()))
                self.send_json(201, rule.to_json())
                return
            if method == "GET":
                self.send_json(200, {"rules": state.rules()})
                return
            if method == "DELETE":
                self.send_json(200, {"cleared": state.clear_rules()})
                return
        elif path.startswith("/__xacct/faults/") and method == "DELETE":
            rule_id = path.rsplit("/", 1)[1]
            if state.remove_rule(rule_id):
                self.send_json(200, {"removed": rule_id})
            else:
                self.send_json(404, {"error": f"no rule `{rule_id}`"})
            return
        elif path == "/__xacct/stats":
            if method == "GET":
                self.send_json(200, state.stats())
                return
            if method == "DELETE":
                state.clear_stats()
                self.send_json(200, {})
                return
        elif path == "/__xacct/health" and method == "GET":
            self.send_json(200, {"ok": True, "target": state.target})
            return
        else:
            self.send_json(404, {"error": f"no admin endpoint `{path}`"})
            return
        self.send_json(405, {"error": f"`{method}` is not allowed on `{path}`"})


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _stop(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="faultproxy.py", description="Fault-injecting HTTP proxy in front of moto."
    )
    parser.add_argument(
        "--port", type=int, default=5001, help="port on 127.0.0.1 (0: any free one)"
    )
    parser.add_argument("--target", default="http://127.0.0.1:5000", help="moto's URL (http only)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    target = urllib.parse.urlsplit(args.target)
    if target.scheme != "http" or not target.hostname or target.path not in ("", "/"):
        parser.error(f"--target must be an http://host:port URL, got `{args.target}`")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    args.target = f"http://{target.netloc}"
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    ProxyHandler.verbose = args.verbose
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server = ProxyServer(args.port, State(args.target))
    except OSError as error:
        print(f"faultproxy: cannot listen on {LOOPBACK}:{args.port}: {error}", file=sys.stderr)
        return 1
    port = server.server_address[1]
    # The one line callers wait for (tests read the port from it when --port is 0).
    print(f"faultproxy listening on http://{LOOPBACK}:{port} -> {args.target}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
