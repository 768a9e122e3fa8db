"""The fault-injecting proxy (tests/faultproxy.py) in front of a moto of its own.

Shows that it forwards IAM, EC2, S3, Lambda, STS and CloudWatch Logs calls unchanged
(chunked and aws-chunked bodies included), that each fault does what the end-to-end
tests rely on, with the error shape each protocol's SDKs parse, and that the admin API
counts and validates. Every client here makes one attempt only (no SDK retries), so one
injected fault is one failed call.

Run: .venv/bin/pytest tests/python/test_faultproxy.py
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import importlib.util
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")
import botocore.auth  # noqa: E402 (after the skip)
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.exceptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROXY_SCRIPT = ROOT / "tests" / "faultproxy.py"
LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
# moto accepts any key (and files the calls under its default account); not a secret.
ACCESS_KEY = "AKIAFAULTPROXYTEST00"
SECRET_KEY = "faultproxy-test-secret-EXAMPLE"
FAULT_MESSAGE = "injected by xacct fault proxy"
START_SECONDS = 30.0

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _load_proxy_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faultproxy", PROXY_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["faultproxy"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


faultproxy = _load_proxy_module()


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _child_env(tmp: Path) -> dict[str, str]:
    """No AWS_* from the shell, no HTTP proxy for loopback, empty AWS config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        path = tmp / name.lower()
        path.write_text("")
        env[name] = str(path)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def _stop(process: subprocess.Popen[Any]) -> int:
    """SIGTERM to the child's process group, SIGKILL if it lingers; its exit status."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=10)


def _http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=body)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """This process and its children see no developer AWS settings."""
    env = _child_env(tmp_path_factory.mktemp("aws"))
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("AWS_") or name.lower() == "no_proxy":
                patch.setenv(name, value)
        yield env


@pytest.fixture(scope="module")
def moto_url(aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tool = Path(sys.executable).parent / "moto_server"
    argv = [str(tool)] if tool.exists() else [sys.executable, "-m", "moto.server"]
    port = _free_port()
    url = f"http://{LOOPBACK}:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*argv, "-H", LOOPBACK, "-p", str(port)],
            env=aws_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if _http("GET", f"{url}/moto-api/config")[0] < 300:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto did not start on {url}:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        _stop(process)


class Proxy:
    """The running proxy and its admin API."""

    def __init__(self, url: str, process: subprocess.Popen[Any], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def admin(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        status, raw = _http(method, f"{self.url}/__xacct/{path}", body)
        return status, json.loads(raw) if raw else None

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        status, answer = self.admin("POST", "faults", rule)
        assert status == 201, answer
        return dict(answer)

    def faults(self) -> list[dict[str, Any]]:
        status, answer = self.admin("GET", "faults")
        assert status == 200
        return list(answer["rules"])

    def stats(self) -> dict[str, int]:
        status, answer = self.admin("GET", "stats")
        assert status == 200
        return dict(answer)

    def reset(self) -> None:
        assert self.admin("DELETE", "faults")[0] == 200
        assert self.admin("DELETE", "stats")[0] == 200


@pytest.fixture(scope="module")
def proxy(
    moto_url: str, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """The proxy on a port it picks itself (`--port 0`), read from the line it prints."""
    log = tmp_path_factory.mktemp("proxy") / "proxy.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(PROXY_SCRIPT), "--port", "0", "--target", moto_url],
            env=aws_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_SECONDS):
                pytest.fail(f"the proxy printed nothing:\n{log.read_text(errors='replace')}")
        line = process.stdout.readline().decode()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+) -> (\S+)", line)
        assert match, f"unexpected first line {line!r}:\n{log.read_text(errors='replace')}"
        assert match.group(2) == moto_url
        yield Proxy(match.group(1), process, log)
    finally:
        status = _stop(process)
    assert status == 0, f"SIGTERM should stop the proxy cleanly, got exit status {status}"


@pytest.fixture(autouse=True)
def clean_proxy(proxy: Proxy) -> Iterator[None]:
    proxy.reset()
    yield
    assert proxy.process.poll() is None, proxy.log.read_text(errors="replace")


Factory = Any  # (service: str, region: str = REGION, attempts: int = 1) -> boto3 client


@pytest.fixture()
def client(proxy: Proxy) -> Factory:
    """boto3 clients that talk to moto through the proxy, one attempt per call."""
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )

    def make(service: str, region: str = REGION, attempts: int = 1) -> Any:
        config = botocore.config.Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"total_max_attempts": attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
        )
        return session.client(service, region_name=region, endpoint_url=proxy.url, config=config)

    return make


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


def _error(raised: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int, str]:
    response = raised.value.response
    return (
        str(response["Error"].get("Code")),
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
        str(response["Error"].get("Message")),
    )


def _signed_headers(
    service: str, method: str, url: str, body: bytes, **headers: str
) -> dict[str, str]:
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
    botocore.auth.SigV4Auth(credentials, service, REGION).add_auth(request)
    return dict(request.headers.items())


def _raw(
    proxy: Proxy, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request written by hand, `body` sent exactly as given."""
    port = int(proxy.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --------------------------------------------------------------------------------------
# Forwarding
# --------------------------------------------------------------------------------------


def test_forwards_iam_calls(client: Factory, proxy: Proxy) -> None:
    iam = client("iam")
    name = _unique("fp-forward")
    arn = iam.create_role(RoleName=name, Path="/xacct/", AssumeRolePolicyDocument=TRUST)["Role"][
        "Arn"
    ]
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=POLICY)
    assert iam.get_role(RoleName=name)["Role"]["Arn"] == arn
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["read"]
    assert name in {r["RoleName"] for r in iam.list_roles(PathPrefix="/xacct/")["Roles"]}
    assert proxy.stats() == {
        "iam:CreateRole": 1,
        "iam:PutRolePolicy": 1,
        "iam:GetRole": 1,
        "iam:ListRolePolicies": 1,
        "iam:ListRoles": 1,
    }


def test_forwards_ec2_describe_instances(client: Factory, proxy: Proxy) -> None:
    for region in (REGION, OTHER_REGION):
        answer = client("ec2", region).describe_instances()
        assert isinstance(answer["Reservations"], list)
    assert proxy.stats() == {"ec2:DescribeInstances": 2}


def test_forwards_s3_calls(client: Factory, proxy: Proxy) -> None:
    s3 = client("s3")
    bucket = _unique("fp-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/report.csv", Body=b"quarter,revenue\n2026-q3,1250\n")
    got = s3.get_object(Bucket=bucket, Key="dir/report.csv")
    assert got["Body"].read() == b"quarter,revenue\n2026-q3,1250\n"
    assert got["ContentLength"] == 29
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    s3.head_bucket(Bucket=bucket)
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "a"}]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["dir/report.csv"]
    eu_bucket = _unique("fp-bucket-eu")
    client("s3", OTHER_REGION).create_bucket(
        Bucket=eu_bucket, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION}
    )
    assert s3.get_bucket_location(Bucket=eu_bucket)["LocationConstraint"] == OTHER_REGION
    assert proxy.stats() == {
        "s3:CreateBucket": 2,
        "s3:PutObject": 1,
        "s3:GetObject": 1,
        "s3:ListBuckets": 1,
        "s3:HeadBucket": 1,
        "s3:GetBucketLocation": 2,
        "s3:PutBucketTagging": 1,
        "s3:GetBucketTagging": 1,
        "s3:ListObjectsV2": 1,
    }


def test_forwards_lambda_list_functions(client: Factory, proxy: Proxy) -> None:
    answer = client("lambda").list_functions()
    assert isinstance(answer["Functions"], list)
    assert proxy.stats() == {"lambda:ListFunctions": 1}


def test_forwards_a_json_protocol_call(client: Factory, proxy: Proxy) -> None:
    logs = client("logs")
    group = _unique("/xacct/fp")
    logs.create_log_group(logGroupName=group)
    names = [
        g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    ]
    assert names == [group]
    assert proxy.stats() == {"logs:CreateLogGroup": 1, "logs:DescribeLogGroups": 1}


def test_forwards_a_chunked_request_body(proxy: Proxy) -> None:
    body = b"Action=ListRoles&Version=2010-05-08"
    headers = _signed_headers(
        "iam",
        "POST",
        f"{proxy.url}/",
        body,
        Host=proxy.url.removeprefix("http://"),
        **{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    headers.pop("Content-Length", None)
    headers["Transfer-Encoding"] = "chunked"
    chunked = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:])
    )
    status, answer = _raw(proxy, "POST", "/", headers, chunked + b"0\r\n\r\n")
    assert status == 200, answer
    assert b"<ListRolesResponse" in answer
    assert proxy.stats() == {"iam:ListRoles": 1}


def test_passes_an_aws_chunked_upload_through(client: Factory, proxy: Proxy) -> None:
    """S3 uploads with a trailing checksum (as the Rust SDK sends PutObject from a
    stream): `Content-Encoding: aws-chunked` under a Content-Length; moto decodes it."""
    s3 = client("s3")
    bucket = _unique("fp-chunked")
    s3.create_bucket(Bucket=bucket)
    data = b"streamed through the fault proxy\n"
    checksum = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = (
        f"{len(data):x}\r\n".encode()
        + data
        + f"\r\n0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
    )
    path = f"/{bucket}/streamed.txt"
    headers = _signed_headers(
        "s3",
        "PUT",
        f"{proxy.url}{path}",
        b"",
        Host=proxy.url.removeprefix("http://"),
        **{
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "Content-Length": str(len(body)),
        },
    )
    status, answer = _raw(proxy, "PUT", path, headers, body)
    assert status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="streamed.txt")["Body"].read() == data
    assert proxy.stats()["s3:PutObject"] == 1


def test_answers_expect_100_continue_before_reading_the_body(proxy: Proxy) -> None:
    body = b"Action=ListRoles&Version=2010-05-08"
    headers = _signed_headers(
        "iam",
        "POST",
        f"{proxy.url}/",
        body,
        Host=proxy.url.removeprefix("http://"),
        **{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    headers["Content-Length"] = str(len(body))
    headers["Expect"] = "100-continue"
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST / HTTP/1.1\r\n{head}\r\n".encode())
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        answer = b""
        while b"</ListRolesResponse>" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_answers_502_when_moto_does_not(aws_env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            str(PROXY_SCRIPT),
            "--port",
            "0",
            "--target",
            f"http://{LOOPBACK}:{_free_port()}",
        ],
        env=aws_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().split()[3]
        status, body = _http("GET", f"{url}/")
        assert status == 502 and b"did not answer" in body
    finally:
        assert _stop(process) == 0


def test_admin_requests_never_reach_moto(proxy: Proxy, moto_url: str) -> None:
    assert proxy.admin("GET", "health") == (200, {"ok": True, "target": moto_url})
    status, answer = proxy.admin("GET", "nothing-here")
    assert status == 404 and "no admin endpoint" in answer["error"]
    assert proxy.stats() == {}


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------


def test_error_rule_fails_put_role_policy_once_then_passes(client: Factory, proxy: Proxy) -> None:
    iam = client("iam")
    name = _unique("fp-error")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    rule = proxy.add_fault(
        action="PutRolePolicy", fault="error", status=500, code="ServiceFailure", count=1
    )
    assert rule["id"] and rule["remaining"] == 1 and rule["hits"] == 0

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=POLICY)
    assert _error(raised) == ("ServiceFailure", 500, FAULT_MESSAGE)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == [], (
        "the failed call reached moto"
    )

    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=POLICY)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["read"]
    [listed] = proxy.faults()
    assert (listed["id"], listed["remaining"], listed["hits"]) == (rule["id"], 0, 1)


@pytest.mark.parametrize(
    ("service", "call", "action", "status", "code"),
    [
        ("iam", lambda c: c.get_role(RoleName="missing"), "GetRole", 404, "NoSuchEntity"),
        ("sts", lambda c: c.get_caller_identity(), "GetCallerIdentity", 403, "AccessDenied"),
        (
            "ec2",
            lambda c: c.describe_instances(),
            "DescribeInstances",
            403,
            "UnauthorizedOperation",
        ),
        ("s3", lambda c: c.list_buckets(), "ListBuckets", 403, "AccessDenied"),
        ("s3", lambda c: c.get_object(Bucket="b", Key="k"), "GetObject", 404, "NoSuchKey"),
        (
            "lambda",
            lambda c: c.get_function(FunctionName="f"),
            "GetFunction",
            404,
            "ResourceNotFoundException",
        ),
        (
            "logs",
            lambda c: c.describe_log_groups(),
            "DescribeLogGroups",
            400,
            "InvalidParameterException",
        ),
        ("rds", lambda c: c.describe_db_instances(), "DescribeDBInstances", 500, "InternalFailure"),
    ],
)
def test_error_has_the_shape_the_protocol_uses(
    client: Factory, proxy: Proxy, service: str, call: Any, action: str, status: int, code: str
) -> None:
    proxy.add_fault(action=action, fault="error", status=status, code=code)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(client(service))
    assert _error(raised) == (code, status, FAULT_MESSAGE)


def test_error_is_a_modelled_exception(client: Factory, proxy: Proxy) -> None:
    """The SDKs turn the injected code into the operation's own error type."""
    iam, lam = client("iam"), client("lambda")
    proxy.add_fault(action="GetRole", status=404, code="NoSuchEntity")
    proxy.add_fault(action="GetFunction", status=404, code="ResourceNotFoundException")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="anything")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="anything")


def test_error_defaults_to_500_internal_failure(client: Factory, proxy: Proxy) -> None:
    rule = proxy.add_fault(action="ListRoles")
    assert (rule["fault"], rule["count"]) == ("error", 1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client("iam").list_roles()
    assert _error(raised) == ("InternalFailure", 500, FAULT_MESSAGE)


@pytest.mark.parametrize(
    ("service", "call", "status", "code"),
    [
        ("iam", lambda c: c.list_roles(), 400, "Throttling"),
        ("sts", lambda c: c.get_caller_identity(), 400, "Throttling"),
        ("ec2", lambda c: c.describe_instances(), 400, "RequestLimitExceeded"),
        ("s3", lambda c: c.list_buckets(), 503, "SlowDown"),
        ("lambda", lambda c: c.list_functions(), 429, "TooManyRequestsException"),
        ("logs", lambda c: c.describe_log_groups(), 400, "ThrottlingException"),
    ],
)
def test_throttle_uses_each_service_family_s_throttling_error(
    client: Factory, proxy: Proxy, service: str, call: Any, status: int, code: str
) -> None:
    proxy.add_fault(service=service, fault="throttle")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(client(service))
    assert _error(raised) == (code, status, FAULT_MESSAGE)
    call(client(service))  # count 1: the next call passes


def test_sdk_retries_absorb_a_single_throttle(client: Factory, proxy: Proxy) -> None:
    """What the Rust functions see too: with retries on, one throttle costs an attempt,
    not the call. A fault meant to fail a call must outlast the SDK's attempts."""
    proxy.add_fault(action="ListRoles", fault="throttle")
    client("iam", attempts=3).list_roles()
    assert proxy.stats() == {"iam:ListRoles": 2}


def test_slow_delays_the_answer_then_forwards(client: Factory, proxy: Proxy) -> None:
    sts = client("sts")
    sts.get_caller_identity()  # connection and client warm
    proxy.add_fault(action="GetCallerIdentity", fault="slow", delay_ms=700)
    started = time.monotonic()
    assert sts.get_caller_identity()["Account"]
    assert time.monotonic() - started >= 0.7
    started = time.monotonic()
    sts.get_caller_identity()
    assert time.monotonic() - started < 0.5


def test_drop_closes_the_connection_without_an_answer(client: Factory, proxy: Proxy) -> None:
    s3 = client("s3")
    s3.list_buckets()  # a kept-alive connection, as the SDKs reuse
    proxy.add_fault(action="ListBuckets", fault="drop")
    with pytest.raises(
        (
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionError,
        )
    ):
        s3.list_buckets()
    assert isinstance(s3.list_buckets()["Buckets"], list)
    assert proxy.stats() == {"s3:ListBuckets": 3}


def test_region_rule_fails_only_that_region(client: Factory, proxy: Proxy) -> None:
    proxy.add_fault(service="ec2", region=OTHER_REGION, status=503, code="Unavailable", count=-1)
    home, other = client("ec2", REGION), client("ec2", OTHER_REGION)
    for _ in range(2):  # count -1: every time
        home.describe_instances()
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            other.describe_instances()
        assert _error(raised)[:2] == ("Unavailable", 503)
    client("s3", OTHER_REGION).list_buckets()  # another service in that region passes
    [rule] = proxy.faults()
    assert (rule["remaining"], rule["hits"]) == (-1, 2)
    assert proxy.admin("DELETE", "faults") == (200, {"cleared": 1})
    other.describe_instances()


def test_action_with_a_service_prefix_matches_only_that_service(
    client: Factory, proxy: Proxy
) -> None:
    rule = proxy.add_fault(action="iam:ListRoles", count=-1)
    assert (rule["service"], rule["action"]) == ("iam", "ListRoles")
    with pytest.raises(botocore.exceptions.ClientError):
        client("iam").list_roles()
    client("sts").get_caller_identity()


def test_first_matching_rule_applies_and_spent_rules_stay_listed(
    client: Factory, proxy: Proxy
) -> None:
    first = proxy.add_fault(action="ListRoles", code="First")
    second = proxy.add_fault(service="iam", code="Second")
    iam = client("iam")
    codes = []
    for _ in range(3):
        try:
            iam.list_roles()
            codes.append("passed")
        except botocore.exceptions.ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert codes == ["First", "Second", "passed"]
    assert [(r["id"], r["remaining"], r["hits"]) for r in proxy.faults()] == [
        (first["id"], 0, 1),
        (second["id"], 0, 1),
    ]
    assert proxy.admin("DELETE", f"faults/{first['id']}") == (200, {"removed": first["id"]})
    assert [r["id"] for r in proxy.faults()] == [second["id"]]
    assert proxy.admin("DELETE", "faults/r999")[0] == 404


def test_contains_narrows_a_rule_to_one_resource(client: Factory, proxy: Proxy) -> None:
    """How concurrent tests keep their faults to themselves: match their own names."""
    iam = client("iam")
    mine, other = _unique("fp-mine"), _unique("fp-other")
    for name in (mine, other):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    proxy.add_fault(action="PutRolePolicy", contains=f"RoleName={mine}", count=-1)
    iam.put_role_policy(RoleName=other, PolicyName="p", PolicyDocument=POLICY)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.put_role_policy(RoleName=mine, PolicyName="p", PolicyDocument=POLICY)
    s3 = client("s3")
    bucket = _unique("fp-contains")
    s3.create_bucket(Bucket=bucket)
    proxy.add_fault(service="s3", contains=f"/{bucket}/secret", code="AccessDenied", status=403)
    s3.put_object(Bucket=bucket, Key="public", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
    assert _error(raised)[:2] == ("AccessDenied", 403)


def test_observe_counts_matching_calls_and_forwards_them(client: Factory, proxy: Proxy) -> None:
    iam = client("iam")
    name = _unique("fp-observe")
    rule = proxy.add_fault(service="iam", contains=name, fault="observe", count=-1)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=POLICY)
    iam.list_roles()  # does not name the role: not counted
    assert iam.get_role(RoleName=name)["Role"]["RoleName"] == name
    [listed] = proxy.faults()
    assert (listed["id"], listed["hits"], listed["remaining"]) == (rule["id"], 3, -1)


# --------------------------------------------------------------------------------------
# Stats and the admin API
# --------------------------------------------------------------------------------------


def test_stats_count_every_request_per_action(client: Factory, proxy: Proxy) -> None:
    iam = client("iam")
    name = _unique("fp-stats")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    proxy.add_fault(action="PutRolePolicy")
    with pytest.raises(botocore.exceptions.ClientError):
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=POLICY)
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=POLICY)
    iam.get_role(RoleName=name)
    client("s3").list_buckets()
    assert proxy.stats() == {
        "iam:CreateRole": 1,
        "iam:PutRolePolicy": 2,  # faulted requests count: they are attempts
        "iam:GetRole": 1,
        "s3:ListBuckets": 1,
    }
    assert proxy.admin("DELETE", "stats") == (200, {})
    assert proxy.stats() == {}


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({}, "needs `action` or `service`"),
        ({"fault": "error"}, "needs `action` or `service`"),
        ({"action": "GetRole", "fault": "explode"}, "`fault` must be one of"),
        ({"acton": "GetRole"}, "unknown rule fields ['acton']"),
        ({"action": "GetRole", "count": 0}, "`count` must be positive"),
        ({"action": "GetRole", "count": "1"}, "`count` must be a whole number"),
        ({"action": "GetRole", "status": 200}, "`status` must be between 400 and 599"),
        ({"action": "iam:GetRole", "service": "s3"}, "names service `iam`"),
        (["GetRole"], "a rule is a JSON object"),
    ],
)
def test_admin_refuses_bad_rules(proxy: Proxy, rule: Any, complaint: str) -> None:
    status, answer = proxy.admin("POST", "faults", rule)
    assert status == 400
    assert complaint in answer["error"]
    assert proxy.faults() == []


def test_admin_refuses_invalid_json(proxy: Proxy) -> None:
    status, body = _http("POST", f"{proxy.url}/__xacct/faults", b"{not json")
    assert status == 400 and b"error" in body


# --------------------------------------------------------------------------------------
# How requests are named (no network)
# --------------------------------------------------------------------------------------


def _scope(service: str, region: str = REGION) -> dict[str, str]:
    return {
        "Authorization": "AWS4-HMAC-SHA256 "
        f"Credential=AKIDEXAMPLE/20261122/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    }


@pytest.mark.parametrize(
    ("method", "path", "headers", "action"),
    [
        ("GET", "/", {}, "ListBuckets"),
        ("PUT", "/bucket", {}, "CreateBucket"),
        ("HEAD", "/bucket", {}, "HeadBucket"),
        ("DELETE", "/bucket", {}, "DeleteBucket"),
        ("GET", "/bucket", {}, "ListObjects"),
        ("GET", "/bucket?list-type=2&prefix=a", {}, "ListObjectsV2"),
        ("GET", "/bucket?tagging", {}, "GetBucketTagging"),
        ("PUT", "/bucket?tagging", {}, "PutBucketTagging"),
        ("DELETE", "/bucket?tagging", {}, "DeleteBucketTagging"),
        ("GET", "/bucket?location", {}, "GetBucketLocation"),
        ("GET", "/bucket?policy", {}, "GetBucketPolicy"),
        ("GET", "/bucket?publicAccessBlock", {}, "GetPublicAccessBlock"),
        ("DELETE", "/bucket?lifecycle", {}, "DeleteBucketLifecycle"),
        ("GET", "/bucket?versions", {}, "ListObjectVersions"),
        ("POST", "/bucket?delete", {}, "DeleteObjects"),
        ("GET", "/bucket/a/b.txt", {}, "GetObject"),
        ("HEAD", "/bucket/a/b.txt", {}, "HeadObject"),
        ("PUT", "/bucket/a/b.txt", {}, "PutObject"),
        ("PUT", "/bucket/a", {"x-amz-copy-source": "/other/x"}, "CopyObject"),
        ("DELETE", "/bucket/a", {}, "DeleteObject"),
        ("GET", "/bucket/a?tagging", {}, "GetObjectTagging"),
        ("POST", "/bucket/a?uploads", {}, "CreateMultipartUpload"),
        ("PUT", "/bucket/a?partNumber=1&uploadId=u", {}, "UploadPart"),
        ("POST", "/bucket/a?uploadId=u", {}, "CompleteMultipartUpload"),
    ],
)
def test_s3_requests_are_named_after_their_operation(
    method: str, path: str, headers: dict[str, str], action: str
) -> None:
    call = faultproxy.identify(method, path, {**_scope("s3"), **headers}, b"")
    assert (call.service, call.action, call.protocol) == ("s3", action, "rest-xml")


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", "/2015-03-31/functions/", "ListFunctions"),
        ("GET", "/2015-03-31/functions", "ListFunctions"),
        ("POST", "/2015-03-31/functions", "CreateFunction"),
        ("GET", "/2015-03-31/functions/my-fn", "GetFunction"),
        (
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af",
            "GetFunction",
        ),
        ("DELETE", "/2015-03-31/functions/my-fn", "DeleteFunction"),
        ("GET", "/2015-03-31/functions/my-fn/configuration", "GetFunctionConfiguration"),
        ("POST", "/2015-03-31/functions/my-fn/invocations", "Invoke"),
        ("GET", "/2015-03-31/functions/my-fn/policy", "GetPolicy"),
        ("DELETE", "/2015-03-31/functions/my-fn/policy/sid1", "RemovePermission"),
        ("GET", "/2015-03-31/functions/my-fn/aliases/live", "GetAlias"),
        ("GET", "/2017-03-31/tags/arn:aws:lambda:us-east-1:111111111111:function:f", "ListTags"),
        ("GET", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af", "ListTags"),
        ("POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:1:function:f", "TagResource"),
        ("GET", "/2021-10-31/functions/my-fn/url", "GetFunctionUrlConfig"),
        ("GET", "/2018-10-31/layers/my-layer/versions", "ListLayerVersions"),
        ("GET", "/2016-08-19/account-settings/", "GetAccountSettings"),
        ("GET", "/2015-03-31/nothing-known", "Unknown"),
    ],
)
def test_lambda_requests_are_named_after_their_operation(
    method: str, path: str, action: str
) -> None:
    call = faultproxy.identify(method, path, _scope("lambda"), b"")
    assert (call.service, call.action, call.protocol) == ("lambda", action, "rest-json")


def test_query_json_and_scope_identification() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    iam = faultproxy.identify(
        "POST", "/", {**_scope("iam"), **form}, b"Action=CreateRole&Version=2010-05-08"
    )
    assert (iam.service, iam.region, iam.action, iam.protocol) == (
        "iam",
        REGION,
        "CreateRole",
        "query",
    )
    ec2 = faultproxy.identify(
        "POST", "/", {**_scope("ec2", OTHER_REGION), **form}, b"Action=DescribeInstances"
    )
    assert (ec2.service, ec2.region, ec2.action, ec2.protocol) == (
        "ec2",
        OTHER_REGION,
        "DescribeInstances",
        "ec2",
    )
    get = faultproxy.identify(
        "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", _scope("sts"), b""
    )
    assert (get.action, get.protocol) == ("GetCallerIdentity", "query")
    logs = faultproxy.identify(
        "POST",
        "/",
        {
            **_scope("logs"),
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
        b"{}",
    )
    assert (logs.service, logs.action, logs.protocol) == ("logs", "DescribeLogGroups", "json")
    presigned = faultproxy.identify(
        "GET",
        "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261122%2Feu-west-1%2Fs3%2Faws4_request",
        {},
        b"",
    )
    assert (presigned.service, presigned.region, presigned.action) == (
        "s3",
        OTHER_REGION,
        "GetObject",
    )
    moto_api = faultproxy.identify("GET", "/moto-api/config", {}, b"")
    assert (moto_api.service, moto_api.action) == ("moto", "MotoApi")
