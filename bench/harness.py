#!/usr/bin/env python3
"""Cold start, warm latency and peak memory of xacct's nine functions, measured against a
minimal Lambda Runtime API served here, with moto (started here, on a free loopback port)
as AWS.

Each function's compiled binary is started as Lambda starts a custom runtime: with
`AWS_LAMBDA_RUNTIME_API` pointing at this harness and the variables `lambda_runtime`'s
`Config::from_env` reads. The first event is queued before the process is spawned (as in
Lambda, where the invocation that caused the cold start is waiting), then N warm
invocations of the same event follow, one at a time.

    .venv/bin/python bench/harness.py                       # debug binaries, 200 warm each
    .venv/bin/python bench/harness.py --profile release --functions list-permissions
    .venv/bin/python bench/harness.py --bin-dir .aws-sam/build --profile release

Measured per function (all from this process's monotonic clock, in the HTTP handler
threads that see the runtime's requests):

    cold_start_ms     spawn -> the first `/response` received in full
    init_ms           spawn -> the first `GET /invocation/next` (process start, tracing,
                      SDK configuration, clients)
    first_request_ms  the first event handed out on `/next` -> its `/response`
    warm_ms           the same for each warm invocation: p50/p90/p99 (linear interpolation
                      between closest ranks), min, max, mean
    peak_rss_mb       VmHWM of /proc/<pid>/status after the last response (MiB)
    binary_mb         the binary's size on disk (MiB)
    zipped_mb         the deployment package's size: the binary as `bootstrap` in a zip
                      (deflate, level 9), what `sam build` uploads for provided.al2023

Every response must be a Function URL response with `statusCode` 200 (plus a few checks of
the body per function); anything else stops the run with the body printed, exit status 1.
The results are merged into `--out` (key `functions`, one entry per function; other keys
of an existing file are kept) and printed as a Markdown table on stdout; progress goes
to stderr. Each function's own output (its JSON logs) goes to a temporary directory (or
`--log-dir`) and is shown when it fails.

Seeding: the owner account gets the bucket, EC2 instances and Lambda functions the
selected functions need. The lifecycle functions need grants xacct wrote: before anything
is measured, the real `create-owner-role` and `create-requestor-resources` binaries (from
the same directory; one process each, not measured, output in `seed-<name>.log`) write
`xacct-bench-grant` (listed by `list-grants`, checked by `check-owner-role`),
`xacct-bench-revoke` (revoked by `revoke-grant`), and in the requestor account
`xacct-bench-req-check` (checked by `check-requestor-role`) and `xacct-bench-req-revoke`
(revoked by `revoke-requestor-resources`), with a fixed External ID the events name. A
revoke really deletes its role on the cold invocation (`changed: true`); the warm ones
(and any further `--cold-runs`) find it gone and answer 200 `changed: false`: their
latency is the no-op path (GetRoles that find nothing), which the result's `note` says.

moto is pre-warmed before the first function starts (every read API the functions use is
called once in each account and region): moto loads a service's backend on its first
call, which costs up to ~250 ms for RDS and would otherwise be counted as the function's
first request. Warm latencies of the functions that call AWS are still mostly moto's
(Python) time; `list-permissions` makes no AWS call. `--cold-runs N` repeats the cold
start in fresh processes (a loaded machine makes one sample noisy).

Credentials: moto's `sts:AssumeRole` into the owner (111111111111) and requestor
(222222222222) accounts with static dummy keys; moto files the issued keys under the
role's account. The functions get an environment without any inherited AWS_* variable,
with empty AWS config files and `AWS_ENDPOINT_URL` set to moto.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import queue
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = REPO_ROOT / "crates" / "api" / "tests" / "events"
DEFAULT_OUT = REPO_ROOT / "bench" / "results.json"

LOOPBACK = "127.0.0.1"
# A developer's local stack (moto, fault proxy, function servers) may use these.
RESERVED_PORTS = frozenset({5000, 5001, 9000, 9001})
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
OWNER_ACCOUNT = "111111111111"
REQUESTOR_ACCOUNT = "222222222222"
MOTO_DEFAULT_ACCOUNT = "123456789012"
# Static keys only for moto's sts:AssumeRole; moto accepts any key. Not credentials.
BOOTSTRAP_ACCESS_KEY_ID = "AKIAXACCTBENCHEXAMPLE"
BOOTSTRAP_SECRET_ACCESS_KEY = "xacct-bench-bootstrap-secret-EXAMPLE"
ACCOUNT_ROLES = {
    "owner": f"arn:aws:iam::{OWNER_ACCOUNT}:role/x",
    "requestor": f"arn:aws:iam::{REQUESTOR_ACCOUNT}:role/x",
}
ACCOUNTS = {"owner": OWNER_ACCOUNT, "requestor": REQUESTOR_ACCOUNT}
BENCH_BUCKET = "xacct-bench-bucket"
BENCH_BUCKET_ARN = f"arn:aws:s3:::{BENCH_BUCKET}"
# The External ID of the seeded grants (not a secret: moto's roles, named in the events).
BENCH_EXTERNAL_ID = "xacct-bench-external-id-0001"
GRANT_ACTIONS = ("s3:GetObject", "s3:ListBucket")
XACCT_ROLE_PATH = "/xacct/"  # where xacct puts every role it writes
OWNER_POLICY_NAME = "xacct-grant"  # the inline policy of an owner role
REQUESTOR_POLICY_NAME = "xacct-assume-owner-role"  # the inline policy of a requestor role
SEED_SERVICE_PRINCIPAL = "lambda.amazonaws.com"
# What seed_owner writes with boto3; the other needs are SEED_ROLES.
OWNER_RESOURCE_NEEDS = frozenset({"bucket", "instances", "functions"})

MOTO_READY_SECONDS = 60.0
AWS_CALL_TIMEOUT = 30  # seconds, per call of the seeding clients
STOP_GRACE_SECONDS = 3.0
PROGRESS_EVERY = 50


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    side: str  # whose credentials it runs with
    memory_mb: int  # template.yaml's MemorySize; lambda_runtime only reads it
    logical_id: str  # template.yaml's resource, the directory `sam build` writes
    seed: tuple[str, ...]  # what it needs to have work: OWNER_RESOURCE_NEEDS or SEED_ROLES
    uses_aws: bool = True  # list-permissions builds no AWS client at all
    note: str | None = None  # what the numbers measure, when it is not obvious (in results)


# A revoke deletes its seeded role on the cold invocation; every later invocation finds it
# gone. Nothing is re-created between invocations: the warm numbers are the no-op path.
REVOKE_NOTE = (
    "the cold invocation (the first process's first) really revokes the seeded role {role} "
    "(200, changed: true; deletes its inline policy {policy} and the role); the warm "
    "invocations and any further cold runs find it gone (200, changed: false; their only IAM "
    "calls are GetRoles that find nothing): warm_ms measures the already-revoked path"
)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "list-resources",
            "owner",
            1769,
            "ListResourcesFunction",
            ("bucket", "instances", "functions"),
        ),
        FunctionSpec("list-permissions", "owner", 128, "ListPermissionsFunction", (), False),
        FunctionSpec("create-owner-role", "owner", 128, "CreateOwnerRoleFunction", ("bucket",)),
        FunctionSpec("list-grants", "owner", 128, "ListGrantsFunction", ("grant",)),
        FunctionSpec("check-owner-role", "owner", 128, "CheckOwnerRoleFunction", ("grant",)),
        FunctionSpec(
            "revoke-grant",
            "owner",
            128,
            "RevokeGrantFunction",
            ("grant-to-revoke",),
            note=REVOKE_NOTE.format(role="xacct-bench-revoke", policy=OWNER_POLICY_NAME),
        ),
        FunctionSpec(
            "create-requestor-resources", "requestor", 128, "CreateRequestorResourcesFunction", ()
        ),
        FunctionSpec(
            "check-requestor-role",
            "requestor",
            128,
            "CheckRequestorRoleFunction",
            ("requestor-role",),
        ),
        FunctionSpec(
            "revoke-requestor-resources",
            "requestor",
            128,
            "RevokeRequestorResourcesFunction",
            ("requestor-role-to-revoke",),
            note=REVOKE_NOTE.format(role="xacct-bench-req-revoke", policy=REQUESTOR_POLICY_NAME),
        ),
    )
}


def xacct_role_arn(side: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[side]}:role{XACCT_ROLE_PATH}{name}"


@dataclass(frozen=True, eq=False)
class SeedRole:
    """A role xacct's own create function writes before anything is measured, so that a
    lifecycle function has a real grant to list, check or revoke: tags, path, trust and
    inline policy exactly as xacct writes them, because xacct writes them."""

    need: str  # the name a FunctionSpec's `seed` uses
    side: str  # the account it is in
    creator: str  # the function that writes it
    body: Mapping[str, Any]  # the creator's request (names the role)
    requires: tuple[str, ...] = ()  # OWNER_RESOURCE_NEEDS the creator needs

    @property
    def name(self) -> str:
        return str(self.body["role_name"])

    @property
    def arn(self) -> str:
        return xacct_role_arn(self.side, self.name)


def _owner_grant(need: str, role_name: str) -> SeedRole:
    return SeedRole(
        need,
        "owner",
        "create-owner-role",
        {
            "resource_arn": BENCH_BUCKET_ARN,
            "actions": list(GRANT_ACTIONS),
            "requestor_account_id": REQUESTOR_ACCOUNT,
            "external_id": BENCH_EXTERNAL_ID,
            "role_name": role_name,
        },
        requires=("bucket",),  # create-owner-role refuses a resource that does not exist
    )


def _requestor_role(need: str, role_name: str) -> SeedRole:
    return SeedRole(
        need,
        "requestor",
        "create-requestor-resources",
        {
            "owner_role_arn": xacct_role_arn("owner", "xacct-bench-grant"),
            "service_principal": SEED_SERVICE_PRINCIPAL,
            "external_id": BENCH_EXTERNAL_ID,
            "role_name": role_name,
        },
    )


# In the order they are written. The names differ from those of the create events
# (xacct-bench, xacct-bench-req), so that create-owner-role's and
# create-requestor-resources' first invocations still create (changed: true).
SEED_ROLES: dict[str, SeedRole] = {
    seed.need: seed
    for seed in (
        _owner_grant("grant", "xacct-bench-grant"),
        _owner_grant("grant-to-revoke", "xacct-bench-revoke"),
        _requestor_role("requestor-role", "xacct-bench-req-check"),
        _requestor_role("requestor-role-to-revoke", "xacct-bench-req-revoke"),
    )
}
GRANT = SEED_ROLES["grant"]
GRANT_TO_REVOKE = SEED_ROLES["grant-to-revoke"]
REQUESTOR_ROLE = SEED_ROLES["requestor-role"]
REQUESTOR_ROLE_TO_REVOKE = SEED_ROLES["requestor-role-to-revoke"]


def seed_plan(specs: list[FunctionSpec]) -> tuple[set[str], list[SeedRole]]:
    """What the selected functions need: the owner resources seed_owner writes (with those
    the seeded roles' creators need), and the roles to seed, in SEED_ROLES' order."""
    needs = {need for spec in specs for need in spec.seed}
    unknown = needs - OWNER_RESOURCE_NEEDS - set(SEED_ROLES)
    if unknown:
        raise BenchError(f"unknown seed needs {sorted(unknown)}")
    roles = [seed for need, seed in SEED_ROLES.items() if need in needs]
    resources = (needs & OWNER_RESOURCE_NEEDS) | {r for seed in roles for r in seed.requires}
    return resources, roles


class BenchError(Exception):
    """A failure to report without a traceback; exit status 1."""


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: unwind, so every `finally` stops what it started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"harness [{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Environment isolation
# --------------------------------------------------------------------------------------

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
NO_PROXY_VALUE = "127.0.0.1,localhost,::1"


def cleaned_environment(base: Mapping[str, str], aws_files: Mapping[str, str]) -> dict[str, str]:
    """`base` without AWS_*, XACCT_*, RUST_LOG, proxies or the functions' settings; loopback
    never proxied; empty AWS config files."""
    dropped_prefixes = ("AWS_", "XACCT_", "_X_AMZN", "LAMBDA_")
    env = {
        name: value
        for name, value in base.items()
        if not name.startswith(dropped_prefixes)
        and name not in PROXY_VARIABLES
        and name not in ("PERMISSIONS_BOUNDARY_ARN", "RUST_LOG", "NO_PROXY", "no_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = NO_PROXY_VALUE
    env.update(aws_files)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def isolate_this_process(aws_files: Mapping[str, str]) -> None:
    """The same for this process, before boto3 reads anything."""
    cleaned = cleaned_environment(os.environ, aws_files)
    for name in list(os.environ):
        if name not in cleaned:
            del os.environ[name]
    os.environ.update(cleaned)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port from the kernel, never one a local stack may use."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            port = int(s.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port
    raise BenchError("no free loopback port")


def stop_child(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM to the child's process group (it leads its own session), SIGKILL after a
    grace period; always reaped."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_SECONDS)
        return
    except subprocess.TimeoutExpired:
        pass
    log(f"{name} (pid {process.pid}) ignored SIGTERM; killing it")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_bytes()[-64 * 1024 :].decode("utf-8", errors="replace")
    except OSError as error:
        return f"    (cannot read {path}: {error})"
    return "\n".join(f"    {line}" for line in text.splitlines()[-lines:]) or "    (empty)"


def proc_status_kb(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])  # "VmHWM:    12345 kB"
    except (OSError, ValueError, IndexError):
        return None
    return None


# --------------------------------------------------------------------------------------
# moto
# --------------------------------------------------------------------------------------


def is_moto(url: str) -> bool:
    try:
        with _OPENER.open(f"{url}/moto-api/config", timeout=2) as response:
            return isinstance(json.loads(response.read()), dict)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def moto_server(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    tool = Path(sys.executable).parent / "moto_server"
    argv = [str(tool)] if tool.exists() else [sys.executable, "-m", "moto.server"]
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [*argv, "-H", LOOPBACK, "-p", str(port)],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + MOTO_READY_SECONDS
        while not is_moto(url):
            if process.poll() is not None:
                raise BenchError(f"moto exited at start:\n{log_tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"moto did not answer within {MOTO_READY_SECONDS:.0f} s:\n{log_tail(log_path)}"
                )
            time.sleep(0.1)
        log(f"moto answers at {url} (pid {process.pid})")
        yield url
    finally:
        stop_child(process, "moto")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


def assume_account(side: str, endpoint: str) -> Credentials:
    import boto3
    import botocore.config

    config = botocore.config.Config(
        connect_timeout=5, read_timeout=AWS_CALL_TIMEOUT, retries={"max_attempts": 2}
    )
    sts = boto3.session.Session(
        aws_access_key_id=BOOTSTRAP_ACCESS_KEY_ID,
        aws_secret_access_key=BOOTSTRAP_SECRET_ACCESS_KEY,
    ).client("sts", region_name=REGION, endpoint_url=endpoint, config=config)
    issued = sts.assume_role(
        RoleArn=ACCOUNT_ROLES[side], RoleSessionName="xacct-bench", DurationSeconds=43200
    )["Credentials"]
    credentials = Credentials(
        issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"]
    )
    seen = (
        aws_session(credentials)
        .client("sts", region_name=REGION, endpoint_url=endpoint, config=config)
        .get_caller_identity()["Account"]
    )
    if seen != ACCOUNTS[side]:
        hint = " (moto's default account: the keys were not recognised)"
        raise BenchError(
            f"the {side} credentials act in account {seen}, not {ACCOUNTS[side]}"
            + (hint if seen == MOTO_DEFAULT_ACCOUNT else "")
        )
    return credentials


def aws_environment(credentials: Credentials, endpoint: str) -> dict[str, str]:
    """The AWS_* variables a function (or a seeding creator) runs with."""
    return {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
    }


def aws_session(credentials: Credentials) -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )


def seed_owner(credentials: Credentials, endpoint: str, needs: set[str]) -> dict[str, int]:
    """The bucket, EC2 instances and Lambda functions the selected functions work on;
    returns how many of each were created (list-resources must find at least these)."""
    import botocore.config

    config = botocore.config.Config(
        connect_timeout=5,
        read_timeout=AWS_CALL_TIMEOUT,
        retries={"max_attempts": 2},
        s3={"addressing_style": "path"},
    )
    session = aws_session(credentials)

    def client(service: str, region: str = REGION) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

    counts = {"s3": 0, "ec2": 0, "lambda": 0}
    if "bucket" in needs:
        client("s3").create_bucket(Bucket=BENCH_BUCKET)
        counts["s3"] += 1
    if "instances" in needs:
        for region, count in ((REGION, 2), (OTHER_REGION, 1)):
            ec2 = client("ec2", region)
            images = ec2.describe_images(
                Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}]
            )["Images"]
            if not images:
                raise BenchError(f"moto lists no x86_64 Amazon AMI in {region}")
            ec2.run_instances(
                ImageId=images[0]["ImageId"],
                InstanceType="t3.micro",
                MinCount=count,
                MaxCount=count,
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "xacct-bench"}]}
                ],
            )
            counts["ec2"] += count
    if "functions" in needs:
        import io
        import zipfile

        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = client("iam").create_role(
            RoleName="xacct-bench-lambda-exec",
            Path="/service-role/",
            AssumeRolePolicyDocument=json.dumps(trust),
        )["Role"]["Arn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
        for region, name in ((REGION, "xacct-bench-fn-1"), (OTHER_REGION, "xacct-bench-fn-2")):
            client("lambda", region).create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": buffer.getvalue()},
                Tags={"project": "xacct-bench"},
            )
            counts["lambda"] += 1
    return counts


def prewarm_moto(credentials: Mapping[str, Credentials], endpoint: str) -> float:
    """Calls once every read API the functions use, in each account and region, and
    returns the seconds it took. moto loads a service's backend (and its models) on the
    first call to it, which takes hundreds of milliseconds for RDS: left in, that would be
    counted as the function's first request."""
    import botocore.config
    import botocore.exceptions

    config = botocore.config.Config(
        connect_timeout=5,
        read_timeout=AWS_CALL_TIMEOUT,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
    )
    started = time.monotonic()
    for creds in credentials.values():
        session = aws_session(creds)

        def client(service: str, region: str = REGION, session: Any = session) -> Any:
            return session.client(
                service, region_name=region, endpoint_url=endpoint, config=config
            )

        calls: list[Callable[[], object]] = []
        sts, iam, s3 = client("sts"), client("iam"), client("s3")
        calls += [
            sts.get_caller_identity,
            s3.list_buckets,
            lambda: s3.head_bucket(Bucket=BENCH_BUCKET),
            lambda: s3.get_bucket_location(Bucket=BENCH_BUCKET),
            lambda: s3.get_bucket_tagging(Bucket=BENCH_BUCKET),
            lambda: iam.get_role(RoleName="xacct-bench-prewarm"),
            lambda: iam.list_role_policies(RoleName="xacct-bench-prewarm"),
            lambda: iam.get_instance_profile(InstanceProfileName="xacct-bench-prewarm"),
            lambda: iam.list_roles(PathPrefix=XACCT_ROLE_PATH),
            lambda: iam.list_attached_role_policies(RoleName="xacct-bench-prewarm"),
            lambda: iam.list_instance_profiles_for_role(RoleName="xacct-bench-prewarm"),
        ]
        for region in (REGION, OTHER_REGION):
            ec2, lam, rds = client("ec2", region), client("lambda", region), client("rds", region)
            calls += [
                ec2.describe_instances,
                lam.list_functions,
                lambda lam=lam: lam.get_function(FunctionName="xacct-bench-prewarm"),
                rds.describe_db_instances,
                rds.describe_db_clusters,
            ]
        for call in calls:
            with contextlib.suppress(botocore.exceptions.ClientError):  # absent is fine
                call()
    return time.monotonic() - started


# --------------------------------------------------------------------------------------
# The Lambda Runtime API
# --------------------------------------------------------------------------------------

RUNTIME_PREFIX = "/2018-06-01/runtime"
NEXT_PATH = f"{RUNTIME_PREFIX}/invocation/next"
INIT_ERROR_PATH = f"{RUNTIME_PREFIX}/init/error"
MAX_BODY = 20 * 1024 * 1024  # Lambda's limit is 6 MB (buffered); a bit of slack


@dataclass
class Outcome:
    """What the runtime posted for one invocation."""

    request_id: str
    kind: str  # "response" or "error"
    body: bytes
    handed_ns: int  # the event written on /next
    received_ns: int  # the /response (or /error) body read in full
    error_type: str | None = None


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    handed_ns: int | None = None


@dataclass
class RuntimeState:
    function_arn: str
    timeout_s: float
    pending: queue.Queue[Invocation] = field(default_factory=queue.Queue)
    results: queue.Queue[Outcome] = field(default_factory=queue.Queue)
    in_flight: dict[str, Invocation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    first_next_ns: int | None = None
    init_error: bytes | None = None
    protocol_errors: list[str] = field(default_factory=list)


def trace_id() -> str:
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=0"
    )


class RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the runtime client expects
    disable_nagle_algorithm = True  # small writes must not wait for a delayed ACK
    server_version = "xacct-bench-runtime-api"
    sys_version = ""

    @property
    def state(self) -> RuntimeState:
        server: RuntimeApiServer = self.server  # type: ignore[assignment]
        return server.state

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass  # quiet: errors are recorded in the state

    def _reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """One write for status line, headers and body."""
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802 (stdlib's name)
        state = self.state
        if self.path != NEXT_PATH:
            state.protocol_errors.append(f"GET {self.path}")
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        arrived = time.perf_counter_ns()
        with state.lock:
            if state.first_next_ns is None:
                state.first_next_ns = arrived
        while True:  # blocks as long as no event is queued, like Lambda's
            if state.stopping.is_set():
                self.close_connection = True
                return
            try:
                invocation = state.pending.get(timeout=0.25)  # wakes at once on a put
                break
            except queue.Empty:
                continue
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": state.function_arn,
            "Lambda-Runtime-Trace-Id": trace_id(),
        }
        with state.lock:
            state.in_flight[invocation.request_id] = invocation
            invocation.handed_ns = time.perf_counter_ns()
        self._reply(200, invocation.payload, headers)

    def do_POST(self) -> None:  # noqa: N802 (stdlib's name)
        state = self.state
        try:
            body = self._read_body()
        except (ValueError, OSError) as error:
            state.protocol_errors.append(f"POST {self.path}: unreadable body: {error}")
            self.close_connection = True
            return
        received = time.perf_counter_ns()
        if self.path == INIT_ERROR_PATH:
            state.init_error = body or b"(empty)"
            self._reply(202, b'{"status":"OK"}')
            return
        prefix = f"{RUNTIME_PREFIX}/invocation/"
        parts = self.path[len(prefix) :].split("/") if self.path.startswith(prefix) else []
        if len(parts) != 2 or parts[1] not in ("response", "error"):
            state.protocol_errors.append(f"POST {self.path}")
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        request_id, kind = parts
        with state.lock:
            invocation = state.in_flight.pop(request_id, None)
        if invocation is None or invocation.handed_ns is None:
            state.protocol_errors.append(f"POST {self.path}: unknown or answered request id")
            self._reply(
                400, b'{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}'
            )
            return
        self._reply(202, b'{"status":"OK"}')
        state.results.put(
            Outcome(
                request_id=request_id,
                kind=kind,
                body=body,
                handed_ns=invocation.handed_ns,
                received_ns=received,
                error_type=self.headers.get("Lambda-Runtime-Function-Error-Type"),
            )
        )


class RuntimeApiServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler blocked on /next must not keep the harness alive
    state: RuntimeState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection the runtime drops (it is stopped while a keep-alive connection is
        idle) is expected; anything else is recorded and fails the run."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError) or self.state.stopping.is_set():
            return
        self.state.protocol_errors.append(f"handler error: {error!r}")


class RuntimeApi:
    def __init__(self, function_arn: str, timeout_s: float) -> None:
        self.state = RuntimeState(function_arn=function_arn, timeout_s=timeout_s)
        self.server = RuntimeApiServer((LOOPBACK, 0), RuntimeApiHandler)
        self.server.state = self.state
        self.address = f"{LOOPBACK}:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def queue_event(self, payload: bytes) -> str:
        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000 + self.state.timeout_s * 1000)
        self.state.pending.put(Invocation(request_id, payload, deadline_ms))
        return request_id

    def wait(
        self, request_id: str, process: subprocess.Popen[bytes], timeout_s: float, what: str
    ) -> Outcome:
        """The outcome of `request_id`; fails when the process exits, the runtime reports an
        init error or speaks the protocol wrongly, or time runs out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.state.init_error is not None:
                raise BenchError(
                    f"{what}: the runtime reported an init error: "
                    f"{self.state.init_error.decode(errors='replace')}"
                )
            if self.state.protocol_errors:
                raise BenchError(
                    f"{what}: unexpected runtime requests: {self.state.protocol_errors}"
                )
            try:
                outcome = self.state.results.get(timeout=0.05)
            except queue.Empty:
                if process.poll() is not None:
                    raise BenchError(
                        f"{what}: the process exited with status {process.returncode}"
                    )
                if time.monotonic() > deadline:
                    raise BenchError(f"{what}: no response within {timeout_s:.0f} s")
                continue
            if outcome.request_id != request_id:
                raise BenchError(
                    f"{what}: a response for {outcome.request_id}, expected {request_id}"
                )
            return outcome


# --------------------------------------------------------------------------------------
# Events and checks
# --------------------------------------------------------------------------------------


def load_event(name: str, events_dir: Path = EVENTS_DIR) -> dict[str, Any]:
    path = events_dir / f"{name}.json"
    try:
        event = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BenchError(f"cannot read the event {path}: {error}") from error
    if event.get("version") != "2.0" or "requestContext" not in event:
        raise BenchError(f"{path} is not a Function URL event (payload format 2.0)")
    return event


def event_payload(event: dict[str, Any]) -> bytes:
    """The event with a fresh request id and time, as Lambda sends each request."""
    now = dt.datetime.now(dt.timezone.utc)
    context = event["requestContext"]
    context["requestId"] = str(uuid.uuid4())
    context["timeEpoch"] = int(now.timestamp() * 1000)
    context["time"] = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return json.dumps(event, separators=(",", ":")).encode()


def with_body(event: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a POST event with another JSON body (compact, as the recorded events have
    it) and its content-length."""
    out = json.loads(json.dumps(event))  # a deep copy, JSON only
    out["body"] = json.dumps(body, separators=(",", ":"))
    out["isBase64Encoded"] = False
    headers = out.setdefault("headers", {})
    headers["content-length"] = str(len(out["body"].encode()))
    return out


def http_response(outcome: Outcome, what: str) -> tuple[int, Any]:
    """The Function URL response's status and JSON body; fails loudly on anything but 200."""
    text = outcome.body.decode("utf-8", errors="replace")
    if outcome.kind != "response":
        raise BenchError(f"{what}: the function reported an error ({outcome.error_type}): {text}")
    try:
        response = json.loads(outcome.body)
    except ValueError:
        raise BenchError(f"{what}: the response is not JSON: {text[:2000]}") from None
    if not isinstance(response, dict) or "statusCode" not in response:
        raise BenchError(f"{what}: not a Function URL response (no statusCode): {text[:2000]}")
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", errors="replace")
    if response["statusCode"] != 200:
        raise BenchError(f"{what}: HTTP {response['statusCode']}: {body[:4000]}")
    try:
        return 200, json.loads(body)
    except ValueError:
        raise BenchError(f"{what}: HTTP 200 with a body that is not JSON: {body[:2000]}") from None


Check = Callable[[int, Any], str | None]


def check_for(name: str, seeded: Mapping[str, int]) -> Check:
    """A check of the answer's body: index 0 is the cold invocation."""

    def list_resources(_i: int, body: Any) -> str | None:
        found: dict[str, int] = {}
        for resource in body.get("resources", []):
            found[resource.get("service")] = found.get(resource.get("service"), 0) + 1
        short = {s: n for s, n in seeded.items() if found.get(s, 0) < n}
        if short:
            return f"fewer resources than seeded: found {found}, seeded {dict(seeded)}"
        if body.get("partial_failures"):
            return f"partial failures: {body['partial_failures']}"
        return None

    def list_permissions(_i: int, body: Any) -> str | None:
        actions = {a.get("action") for a in body.get("actions", [])}
        missing = {"s3:ListBucket"} - actions
        return f"actions lack {sorted(missing)}" if missing else None

    def creates(i: int, body: Any) -> str | None:
        if not body.get("role_arn"):
            return "no role_arn"
        if body.get("changed") is not (i == 0):
            return f"changed={body.get('changed')} on invocation {i} (a repeat must change nothing)"
        return None

    def list_grants(_i: int, body: Any) -> str | None:
        grants = body.get("grants")
        if not isinstance(grants, list) or "next_cursor" not in body:
            return "not a list-grants answer (grants, next_cursor)"
        mine = [g for g in grants if isinstance(g, dict) and g.get("role_arn") == GRANT.arn]
        if len(mine) != 1:
            return f"the seeded grant {GRANT.arn} is listed {len(mine)} times"
        expected = {
            "role_name": GRANT.name,
            "resource_arn": BENCH_BUCKET_ARN,
            "requestor_account_id": REQUESTOR_ACCOUNT,
            "requestor_role_arn": None,
            "actions": sorted(GRANT_ACTIONS),
            "external_id": BENCH_EXTERNAL_ID,
            "require_mfa": False,
        }
        wrong = {k: mine[0].get(k) for k, v in expected.items() if mine[0].get(k) != v}
        if wrong:
            return f"the seeded grant is listed with {wrong}, expected {expected}"
        # The event filters on the bucket and the requestor account.
        strays = [
            g.get("role_arn")
            for g in grants
            if g.get("resource_arn") != BENCH_BUCKET_ARN
            or g.get("requestor_account_id") != REQUESTOR_ACCOUNT
        ]
        return f"grants outside the filter: {strays}" if strays else None

    def check_owner_role(_i: int, body: Any) -> str | None:
        if body.get("role_arn") != GRANT.arn:
            return f"a verdict on {body.get('role_arn')}, not on {GRANT.arn}"
        if body.get("can_assume") is not True:
            return f"can_assume={body.get('can_assume')}: {body.get('reason')}"
        # As given (with the External ID), without one, with a wrong one.
        decisions = [c.get("decision") for c in body.get("assume_checks") or []]
        if decisions != ["allow", "implicit_deny", "implicit_deny"]:
            return f"assume_checks decide {decisions}"
        allowed = body.get("allowed_actions")
        if not isinstance(allowed, list) or sorted(set(allowed)) != sorted(GRANT_ACTIONS):
            return f"allowed_actions {allowed}, granted {list(GRANT_ACTIONS)}"
        if not body.get("actions"):
            return "no action checks"
        if body.get("drift") != []:
            return f"drift on a role xacct wrote and nobody edited: {body.get('drift')}"
        if OWNER_POLICY_NAME not in (body.get("permissions_policies") or {}):
            return f"permissions_policies lack {OWNER_POLICY_NAME}"
        return None

    def check_requestor_role(_i: int, body: Any) -> str | None:
        if body.get("principal_arn") != REQUESTOR_ROLE.arn:
            return f"a verdict on {body.get('principal_arn')}, not on {REQUESTOR_ROLE.arn}"
        if body.get("owner_role_arn") != GRANT.arn:
            return f"owner_role_arn {body.get('owner_role_arn')}, expected {GRANT.arn}"
        if body.get("ok") is not True or body.get("problems") != []:
            return f"ok={body.get('ok')}, problems {body.get('problems')}"
        if REQUESTOR_POLICY_NAME not in (body.get("policies") or {}):
            return f"policies lack {REQUESTOR_POLICY_NAME}"
        if not isinstance(body.get("trust_policy"), dict):
            return "no trust_policy"
        return None

    def revokes(seed: SeedRole, policy: str) -> Check:
        """The cold invocation deletes the seeded role; every later one (warm, or a later
        cold run) finds it gone: 200 with nothing removed."""
        first = [f"inline policy `{policy}`", f"role `{seed.arn}`"]

        def check(i: int, body: Any) -> str | None:
            got = {"removed": body.get("removed"), "changed": body.get("changed")}
            if not isinstance(got["removed"], list) or not isinstance(got["changed"], bool):
                return "not a revoke answer (removed, changed)"
            want: dict[str, Any] = {"removed": first, "changed": True}
            if i != 0:
                want = {"removed": [], "changed": False}
            if got != want:
                return f"invocation {i} answered {got}, expected {want}"
            return None

        return check

    return {
        "list-resources": list_resources,
        "list-permissions": list_permissions,
        "create-owner-role": creates,
        "create-requestor-resources": creates,
        "list-grants": list_grants,
        "check-owner-role": check_owner_role,
        "revoke-grant": revokes(GRANT_TO_REVOKE, OWNER_POLICY_NAME),
        "check-requestor-role": check_requestor_role,
        "revoke-requestor-resources": revokes(REQUESTOR_ROLE_TO_REVOKE, REQUESTOR_POLICY_NAME),
    }[name]


def seed_check(seed: SeedRole) -> Check:
    """The creator's answer for a seeded role: created now, under the expected ARN."""

    def check(_i: int, body: Any) -> str | None:
        if body.get("role_arn") != seed.arn:
            return f"role_arn {body.get('role_arn')}, expected {seed.arn}"
        if body.get("changed") is not True:
            return f"changed={body.get('changed')}: the role existed before the seeding"
        if body.get("external_id") != BENCH_EXTERNAL_ID:
            return f"external_id {body.get('external_id')}, expected {BENCH_EXTERNAL_ID}"
        return None

    return check


# --------------------------------------------------------------------------------------
# One function
# --------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def ms(ns: int) -> float:
    return ns / 1e6


def function_environment(
    spec: FunctionSpec,
    base: Mapping[str, str],
    runtime_api: str,
    aws: Mapping[str, str],
    rust_log: str,
) -> dict[str, str]:
    env = dict(base)
    env.update(aws)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": (
                f"{dt.date.today():%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
            ),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "RUST_LOG": rust_log,
        }
    )
    return env


@dataclass(frozen=True)
class Launch:
    """How to start one function: binary, environment, event and the body check."""

    spec: FunctionSpec
    binary: Path
    base_env: Mapping[str, str]
    aws_env: Mapping[str, str]
    rust_log: str
    timeout_s: float
    check: Check
    log_dir: Path
    event: dict[str, Any]

    def invoke(
        self, api: RuntimeApi, process: subprocess.Popen[bytes], index: int, what: str
    ) -> Outcome:
        """One invocation, checked: HTTP 200 and the function's body check."""
        request_id = api.queue_event(event_payload(self.event))
        outcome = api.wait(request_id, process, self.timeout_s, what)
        _, body = http_response(outcome, what)
        if problem := self.check(index, body):
            raise BenchError(f"{what}: {problem}: {json.dumps(body)[:4000]}")
        return outcome


@contextlib.contextmanager
def cold_started(
    launch: Launch, run: int, label: str | None = None
) -> Iterator[tuple[RuntimeApi, subprocess.Popen[bytes], dict[str, float]]]:
    """A fresh process whose first invocation is measured; stopped on exit. A BenchError
    raised inside gets the process's output appended. `label` (default: the function's
    name) names its log file and its errors."""
    spec = launch.spec
    label = label or spec.name
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNTS[spec.side]}:function:{spec.name}"
    log_path = launch.log_dir / (f"{label}.log" if run == 0 else f"{label}.cold{run}.log")
    what = f"{label} (cold{'' if run == 0 else f' run {run + 1}'})"
    with RuntimeApi(arn, launch.timeout_s) as api:
        env = function_environment(
            spec, launch.base_env, api.address, launch.aws_env, launch.rust_log
        )
        # Queued before the process exists, as in Lambda, where the invocation that
        # caused the cold start is waiting for it.
        first_id = api.queue_event(event_payload(launch.event))
        with open(log_path, "wb") as log_file:
            spawned = time.perf_counter_ns()
            process = subprocess.Popen(
                [str(launch.binary)],
                cwd=launch.log_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            try:
                outcome = api.wait(first_id, process, launch.timeout_s, what)
                _, body = http_response(outcome, what)
                if problem := launch.check(0 if run == 0 else -1, body):
                    raise BenchError(f"{what}: {problem}: {json.dumps(body)[:4000]}")
                first_next = api.state.first_next_ns
                assert first_next is not None  # set before any event is handed out
                cold = {
                    "cold_start_ms": ms(outcome.received_ns - spawned),
                    "init_ms": ms(first_next - spawned),
                    "first_request_ms": ms(outcome.received_ns - outcome.handed_ns),
                }
                yield api, process, cold
            except BenchError as error:
                raise BenchError(
                    f"{error}\n  {label}'s output ({log_path}):\n{log_tail(log_path)}"
                ) from None
        finally:
            stop_child(process, label)


def bench_function(launch: Launch, warm: int, cold_runs: int, profile: str) -> dict[str, Any]:
    """The first process: cold invocation, `warm` warm ones, VmHWM. Then `cold_runs - 1`
    more fresh processes with one invocation each (repeats of the first request)."""
    name = launch.spec.name
    warm_ms: list[float] = []
    with cold_started(launch, 0) as (api, process, cold):
        for i in range(1, warm + 1):
            outcome = launch.invoke(api, process, i, f"{name} (warm {i})")
            warm_ms.append(ms(outcome.received_ns - outcome.handed_ns))
            if i % PROGRESS_EVERY == 0 and i < warm:
                log(f"  {name}: {i}/{warm} warm invocations")
        hwm_kb = proc_status_kb(process.pid, "VmHWM")
        if process.poll() is not None or hwm_kb is None:
            raise BenchError(f"{name}: the process exited before its memory was read")
    runs = [cold]
    for run in range(1, cold_runs):
        with cold_started(launch, run) as (_api, _process, again):
            runs.append(again)
    ordered = sorted(warm_ms)
    result: dict[str, Any] = {
        **{k: round(v, 3) for k, v in cold.items()},
        "warm_ms": {
            "n": len(ordered),
            "p50": round(percentile(ordered, 50), 3) if ordered else None,
            "p90": round(percentile(ordered, 90), 3) if ordered else None,
            "p99": round(percentile(ordered, 99), 3) if ordered else None,
            "min": round(ordered[0], 3) if ordered else None,
            "max": round(ordered[-1], 3) if ordered else None,
            "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
        },
        "peak_rss_mb": round(hwm_kb / 1024, 1),
        "binary_mb": round(launch.binary.stat().st_size / (1024 * 1024), 1),
        "zipped_mb": round(zipped_size(launch.binary) / (1024 * 1024), 1),
        "profile": profile,
        "binary": str(launch.binary),
        "memory_size_mb": launch.spec.memory_mb,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if launch.spec.note:
        result["note"] = launch.spec.note
    if cold_runs > 1:
        result["cold_runs"] = [{k: round(v, 3) for k, v in r.items()} for r in runs]
        result["cold_median_ms"] = {
            key: round(percentile(sorted(r[key] for r in runs), 50), 3)
            for key in ("cold_start_ms", "init_ms", "first_request_ms")
        }
    return result


def seed_roles(
    seeds: list[SeedRole],
    binaries: Mapping[str, Path],
    base_env: Mapping[str, str],
    aws_envs: Mapping[str, Mapping[str, str]],
    events_dir: Path,
    log_dir: Path,
    rust_log: str,
    timeout_s: float,
) -> dict[str, str]:
    """Writes the seeded roles with xacct's own create functions (one process per creator,
    under the same Runtime API and environment as a measured function; nothing here is
    measured) and returns their ARNs by need. Each answer must be a 200 that created the
    role under the expected ARN."""
    by_creator: dict[str, list[SeedRole]] = {}
    for seed in seeds:
        by_creator.setdefault(seed.creator, []).append(seed)
    written: dict[str, str] = {}
    for creator, roles in by_creator.items():
        spec = FUNCTIONS[creator]
        template = load_event(creator, events_dir)
        launches = [
            Launch(
                spec=spec,
                binary=binaries[creator],
                base_env=base_env,
                aws_env=aws_envs[spec.side],
                rust_log=rust_log,
                timeout_s=timeout_s,
                check=seed_check(seed),
                log_dir=log_dir,
                event=with_body(template, seed.body),
            )
            for seed in roles
        ]
        label = f"seed-{creator}"
        with cold_started(launches[0], 0, label) as (api, process, _cold):
            for index, launch in enumerate(launches[1:], 1):
                launch.invoke(api, process, 0, f"{label} ({roles[index].name})")
        written.update({seed.need: seed.arn for seed in roles})
    return written


# --------------------------------------------------------------------------------------
# Binaries, machine, output
# --------------------------------------------------------------------------------------


def default_bin_dir(profile: str) -> Path:
    target = os.environ.get("CARGO_TARGET_DIR", "").strip()
    return (Path(target) if target else Path.home() / ".cache" / "xacct-target") / profile


def find_binary(bin_dir: Path, spec: FunctionSpec) -> Path:
    """`<dir>/<name>` (cargo), `<dir>/<name>/bootstrap` (cargo lambda) or
    `<dir>/<LogicalId>/bootstrap` (`sam build`, .aws-sam/build)."""
    candidates = [
        bin_dir / spec.name,
        bin_dir / spec.name / "bootstrap",
        bin_dir / spec.logical_id / "bootstrap",
    ]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise BenchError(
        f"no executable for {spec.name}; looked at " + ", ".join(str(p) for p in candidates)
    )


def zipped_size(binary: Path) -> int:
    """Bytes of a zip holding `binary` as `bootstrap` (deflate, level 9)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(binary, "bootstrap")
    return len(buffer.getvalue())


def machine_info() -> dict[str, Any]:
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    versions = {}
    for package in ("moto", "boto3"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {
        "nproc": (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": round(mem_kb / 1024) if mem_kb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **versions,
    }


def write_results(
    out: Path, results: Mapping[str, Any], machine: Mapping[str, Any], warm: int
) -> None:
    document: dict[str, Any] = {}
    if out.exists():
        try:
            document = json.loads(out.read_text())
        except (OSError, ValueError) as error:
            raise BenchError(f"cannot read the existing {out}: {error}") from error
        if not isinstance(document, dict):
            raise BenchError(f"{out} does not hold a JSON object")
    functions = document.get("functions")
    document["functions"] = {**(functions if isinstance(functions, dict) else {}), **results}
    document["machine"] = dict(machine)
    document["harness"] = {
        "warm": warm,
        "script": "bench/harness.py",
        "aws": "moto on loopback, pre-warmed (every read API called once before the first spawn)",
        "clock": "time.perf_counter_ns in the Runtime API's handler threads",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out)


def markdown_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    columns = [
        ("function", lambda name, r: name),
        ("profile", lambda name, r: r["profile"]),
        ("binary MB", lambda name, r: r["binary_mb"], 1),
        ("zipped MB", lambda name, r: r.get("zipped_mb"), 1),
        ("cold start ms", lambda name, r: r["cold_start_ms"], 1),
        ("init ms", lambda name, r: r["init_ms"], 1),
        ("first request ms", lambda name, r: r["first_request_ms"], 1),
        ("warm p50 ms", lambda name, r: r["warm_ms"]["p50"], 2),
        ("warm p90 ms", lambda name, r: r["warm_ms"]["p90"], 2),
        ("warm p99 ms", lambda name, r: r["warm_ms"]["p99"], 2),
        ("warm max ms", lambda name, r: r["warm_ms"]["max"], 2),
        ("peak RSS MB", lambda name, r: r["peak_rss_mb"], 1),
    ]

    def cell(column: tuple[Any, ...], name: str, r: Mapping[str, Any]) -> str:
        value = column[1](name, r)
        if value is None:
            return "-"  # no warm invocations
        return f"{value:.{column[2]}f}" if len(column) > 2 else str(value)

    lines = [
        "| " + " | ".join(c[0] for c in columns) + " |",
        "|" + " --- |" * len(columns),
    ]
    for name, r in results.items():
        lines.append("| " + " | ".join(cell(c, name, r) for c in columns) + " |")
    notes = [f"- {name}: {r['note']}" for name, r in results.items() if r.get("note")]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="harness.py",
        description="Cold start, warm latency and peak memory of xacct's functions "
        "under a local Lambda Runtime API, with moto as AWS.",
    )
    parser.add_argument("--profile", choices=("debug", "release"), default="debug")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        help="where the binaries are (default: $CARGO_TARGET_DIR or ~/.cache/xacct-target, "
        "then the profile); also a cargo-lambda or `sam build` output directory",
    )
    parser.add_argument("--warm", type=int, default=200, help="warm invocations (default 200)")
    parser.add_argument(
        "--functions",
        default=",".join(FUNCTIONS),
        help="comma-separated (default: all nine, in this order: " + ", ".join(FUNCTIONS) + ")",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=1,
        help="fresh processes per function (default 1). The first one's numbers are "
        "cold_start_ms etc.; with more, each run and the medians are added (cold_runs, "
        "cold_median_ms). Runs after the first repeat the first request (no writes)",
    )
    parser.add_argument(
        "--events-dir",
        type=Path,
        default=EVENTS_DIR,
        help="where <function>.json events are (default crates/api/tests/events)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (merged)")
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="keep each function's output (and moto's) here as <name>.log (default: a "
        "temporary directory, removed at the end)",
    )
    parser.add_argument(
        "--rust-log",
        default="info",
        help="RUST_LOG for the functions (default info, as template.yaml sets it)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds one invocation may take, the cold one included (default 60)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.functions.split(",") if n.strip()]
    unknown = [n for n in names if n not in FUNCTIONS]
    if unknown or not names:
        parser.error(f"--functions: unknown {unknown}; known: {', '.join(FUNCTIONS)}")
    if len(set(names)) != len(names):
        parser.error("--functions: a function is named twice")
    if not 0 <= args.warm <= 100_000:
        parser.error("--warm must be between 0 and 100000")
    if not 1 <= args.cold_runs <= 1000:
        parser.error("--cold-runs must be between 1 and 1000")
    if not 0 < args.timeout <= 900:
        parser.error("--timeout must be between 0 and 900 seconds")
    args.names = names
    return args


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupted(signum: int, _frame: object) -> NoReturn:
    # A second signal must not cut the clean-up (the `finally` blocks) short.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def run(args: argparse.Namespace) -> int:
    bin_dir = (args.bin_dir or default_bin_dir(args.profile)).resolve()
    specs = [FUNCTIONS[name] for name in args.names]
    binaries = {spec.name: find_binary(bin_dir, spec) for spec in specs}
    resource_needs, seeds = seed_plan(specs)
    creators = {seed.creator: FUNCTIONS[seed.creator] for seed in seeds}
    seed_binaries = {name: find_binary(bin_dir, spec) for name, spec in creators.items()}
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="xacct-bench-") as tmp_name:
        tmp = Path(tmp_name)
        aws_files = {
            "AWS_CONFIG_FILE": str(tmp / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
        }
        for path in aws_files.values():
            Path(path).write_text("")
        isolate_this_process(aws_files)
        base_env = cleaned_environment(os.environ, aws_files)
        log_dir = tmp
        if args.log_dir is not None:
            log_dir = args.log_dir.resolve()
            log_dir.mkdir(parents=True, exist_ok=True)
        with moto_server(base_env, log_dir / "moto.log") as endpoint:
            sides = {spec.side for spec in specs} | {seed.side for seed in seeds}
            credentials = {side: assume_account(side, endpoint) for side in sorted(sides)}
            aws_envs = {
                side: aws_environment(creds, endpoint) for side, creds in credentials.items()
            }
            seeded = (
                seed_owner(credentials["owner"], endpoint, resource_needs)
                if resource_needs
                else {}
            )
            log(f"seeded the owner account: {seeded or 'nothing needed'}")
            if seeds:
                written = seed_roles(
                    seeds,
                    seed_binaries,
                    base_env,
                    aws_envs,
                    args.events_dir,
                    log_dir,
                    args.rust_log,
                    args.timeout,
                )
                log(f"seeded xacct roles with {', '.join(creators)}: {written}")
            if any(spec.uses_aws for spec in specs):
                log(f"moto pre-warmed in {prewarm_moto(credentials, endpoint):.1f} s")
            results: dict[str, Any] = {}
            for spec in specs:
                aws_env = aws_envs[spec.side]
                want = {k: v for k, v in seeded.items() if v}
                if spec.name != "list-resources":
                    want = {}
                log(f"{spec.name}: {binaries[spec.name]} ({args.warm} warm invocations)")
                launch = Launch(
                    spec=spec,
                    binary=binaries[spec.name],
                    base_env=base_env,
                    aws_env=aws_env,
                    rust_log=args.rust_log,
                    timeout_s=args.timeout,
                    check=check_for(spec.name, want),
                    log_dir=log_dir,
                    event=load_event(spec.name, args.events_dir),
                )
                results[spec.name] = bench_function(
                    launch, args.warm, args.cold_runs, args.profile
                )
                r = results[spec.name]
                log(
                    f"{spec.name}: cold {r['cold_start_ms']:.1f} ms (init {r['init_ms']:.1f}), "
                    f"warm p50 {r['warm_ms']['p50']} ms, peak RSS {r['peak_rss_mb']} MB"
                )
    machine = {**machine, "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    write_results(args.out, results, machine, args.warm)
    log(f"results merged into {args.out}")
    print(markdown_table(results), flush=True)
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:  # e.g. SIGINT in a background job
            signal.signal(sig, _raise_interrupted)
    try:
        return run(args)
    except BenchError as error:
        log(f"FAILED: {error}")
        return 1
    except Interrupted as interrupted:
        log(f"interrupted ({interrupted}); stopped what had started")
        return 128 + interrupted.signum
    except Exception as error:  # boto3/botocore errors from the seeding, mostly
        if type(error).__module__.startswith(("botocore", "boto3")):
            log(f"FAILED: AWS call to moto: {error}")
            return 1
        raise


if __name__ == "__main__":
    try:
        import boto3  # noqa: F401
    except ModuleNotFoundError as missing:
        sys.exit(f"harness: {missing.name} is missing; run `make venv`, then use .venv/bin/python")
    sys.exit(main(sys.argv[1:]))
