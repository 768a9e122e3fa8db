"""Property-based checks of the running local stack against `openapi.yaml`, with schemathesis.

Every operation of the document is exercised, each on its side's port (the document tags it
`owner` or `requestor`), the write and revoke functions too, with schema-conforming and
schema-violating input: its explicit examples, the coverage phase (boundary values, missing
and extra fields, other HTTP methods) and fuzzing. Each answer must be no 5xx, have a status
the document lists, carry the documented content type and headers, and match the documented
schema; a network failure or a crash fails the test. Every request is sent once: the stack
serves built binaries, so every answer is the function's own (a body that is not UTF-8
reaches it base64-encoded, as in Lambda).

Requests are steered: half the fuzzed bodies of `create-owner-role` and
`create-requestor-resources` name a seeded resource (or an owner role) and the real requestor
account (or the seeded group or user), so requests get past validation into IAM, with fuzzed
role names, External IDs, session durations and flags. (A create failing after `CreateRole`
is proven in process: crates/aws/tests/iam_faults.rs.) Half the fuzzed
checks and revokes name a role that exists: grants and requestor roles this test makes first
(`xst-fixture-*`), the roles outside `/xacct/` (the stack's own, the seeded ones, and a canary
tagged `xacct:managed=true` outside `/xacct/`), the seeded group and user; half the
`list-grants` queries filter on a seeded resource or an account.

Afterwards no role under `/xacct/` may be left half made: every one carries
`xacct:managed=true` and its inline policy, and an EC2 requestor role its instance profile.
No role outside `/xacct/` that was there before may be gone (a revoke of one is a 409), and the
seeded group and user are still there.

Needs the local stack (`make local-up`): the stack file is `XACCT_STACK_FILE`, else
`.local/stack.json`. Bounded: at most MAX_EXAMPLES fuzzed cases per operation, a per-request
timeout, and a time budget per operation after which its remaining cases are not sent.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "openapi.yaml"

# Bounds: fuzzed cases per operation, seconds per request, seconds for the cases of one
# operation (each has its own share, so a slow one cannot starve the ones after it).
MAX_EXAMPLES = 50
REQUEST_TIMEOUT = 20.0
EXAMPLE_DEADLINE = timedelta(seconds=60)
OPERATION_BUDGET = 30.0

OWNER_POLICY = "xacct-grant"
REQUESTOR_POLICY = "xacct-assume-owner-role"
REQUESTOR_PATH = "/lambda-url/create-requestor-resources/"
OWNER_ROLE_PATH = "/lambda-url/create-owner-role/"
LIST_GRANTS_PATH = "/lambda-url/list-grants/"
CHECK_OWNER_PATH = "/lambda-url/check-owner-role/"
REVOKE_GRANT_PATH = "/lambda-url/revoke-grant/"
CHECK_REQUESTOR_PATH = "/lambda-url/check-requestor-role/"
REVOKE_REQUESTOR_PATH = "/lambda-url/revoke-requestor-resources/"
# Role names this test steers into failing after CreateRole (matched by the fault proxy).


def _stack_file() -> Path | None:
    explicit = os.environ.get("XACCT_STACK_FILE")
    if explicit:
        return Path(explicit)
    default = ROOT / ".local" / "stack.json"
    return default if default.exists() else None


_FILE = _stack_file()
if _FILE is None:
    pytest.skip(
        "no local stack: start one with `make local-up` (or set XACCT_STACK_FILE)",
        allow_module_level=True,
    )
# Named explicitly (as `make test-e2e` does): a missing or unready stack is a failure.
STACK: dict[str, Any] = json.loads(_FILE.read_text(encoding="utf-8"))
if STACK.get("state") != "ready" or not STACK.get("functions_enabled", True):
    raise RuntimeError(
        f"{_FILE}: the local stack is not ready with its functions: state={STACK.get('state')!r}"
    )

import boto3  # noqa: E402
import hypothesis.configuration  # noqa: E402
import hypothesis.strategies as st  # noqa: E402
import requests  # noqa: E402
import schemathesis  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

# Hypothesis keeps caches in `.hypothesis/` of the working directory; in the work tree that
# would be a change `cargo lambda watch` may react to, and one more untracked directory.
hypothesis.configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "xacct-hypothesis")

OWNER_ACCOUNT: str = STACK["owner_account"]
REQUESTOR_ACCOUNT: str = STACK["requestor_account"]

# The checks of every answer.
CHECKS = [
    allow_header_conformance,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            # No `.hypothesis/` directory in the work tree.
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "request-timeout": REQUEST_TIMEOUT,
    }
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)


# The requestor side's paths: those whose operations the document tags `requestor`.
REQUESTOR_PATHS = frozenset(
    path
    for path, item in schema.raw_schema["paths"].items()
    if any("requestor" in op.get("tags", []) for op in item.values() if isinstance(op, dict))
)


def base_url(path: str) -> str:
    """Each side on its own port: the requestor functions with requestor credentials."""
    key = "requestor_url_base" if path in REQUESTOR_PATHS else "owner_url_base"
    return str(STACK[key]).rstrip("/")


# --- steering requests into IAM --------------------------------------------------------

_seed = STACK.get("seed", {}).get("regions", {})
SEEDED = {
    "s3": [b["arn"] for r in _seed.values() for b in r.get("s3_buckets", [])],
    "ec2": [i["arn"] for r in _seed.values() for i in r.get("ec2_instances", [])],
    "lambda": [f["arn"] for r in _seed.values() for f in r.get("lambda_functions", [])],
    "rds": [d["arn"] for r in _seed.values() for d in r.get("rds_db_instances", [])],
}
# Actions that apply to each kind; `s3:PutBucketPolicy` (permissions management) is refused
# unless `allow_permissions_management`, so both answers come.
ACTIONS = {
    "s3": [
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:GetBucketTagging",
        "s3:PutBucketPolicy",
    ],
    "ec2": [
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:DescribeInstances",
        "ec2:RebootInstances",
    ],
    "lambda": ["lambda:InvokeFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode"],
    "rds": ["rds:DescribeDBInstances", "rds:CreateDBSnapshot", "rds:RebootDBInstance"],
}
ROLE_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SERVICE_PRINCIPALS: list[str] = schema.raw_schema["components"]["schemas"][
    "AllowedServicePrincipal"
]["enum"]

# The seeded people of the requestor account.
_people = STACK.get("seed", {}).get("requestor_people", {})
GROUP: str = _people.get("group_name", "xacct-demo-analysts")
USER: str = _people.get("user_name", "xacct-demo-alice")

# Made before fuzzing (see `moto_before`), so the checks and revokes have real
# targets: KEPT, a grant and its Lambda requestor role, is checked and never revoked on
# purpose; DOOMED, a grant and an EC2 requestor role, may be revoked by the fuzzing (both are
# made again on the next run); the seeded group's and user's policies for the KEPT grant.
KEPT = "xst-fixture-kept"
DOOMED = "xst-fixture-doomed"
FIXTURE_EXTERNAL_ID = "xst-fixture-external-id"
DEMO_BUCKET = "arn:aws:s3:::xacct-demo-reports"
# The owner role (need not exist) whose policies the fuzzed creates and revokes put on and
# take off the seeded people, besides KEPT's: two at most on each, whatever the fuzzing draws.
PEOPLE_OWNER = "xst-people"
# A role outside /xacct/ tagged `xacct:managed=true`, in each account: it looks managed, but
# xacct manages only roles under /xacct/, so a revoke of it must be refused.
CANARY = "xst-canary"
CANARY_PATH = "/xst/"


def owner_role(name: str) -> str:
    return f"arn:aws:iam::{OWNER_ACCOUNT}:role/xacct/{name}"


def requestor_role(name: str) -> str:
    return f"arn:aws:iam::{REQUESTOR_ACCOUNT}:role/xacct/{name}"


def _xst(suffix_max: int = 20) -> st.SearchStrategy[str]:
    """Names no role has: the role does not exist."""
    return st.text(ROLE_NAME_CHARS, min_size=1, max_size=suffix_max).map(lambda s: f"xst-{s}")


def _role_names() -> st.SearchStrategy[str | None]:
    suffix = st.text(ROLE_NAME_CHARS, min_size=6, max_size=10)
    return st.one_of(
        st.none(),
        suffix.map(lambda s: f"xst-{s}"),
    )


def _protected(side: str) -> list[str]:
    """The ARNs of the roles outside /xacct/ (recorded before fuzzing), canary included."""
    return sorted(Run.protected.get(side, {}).values())


def _owner_overrides() -> st.SearchStrategy[dict[str, Any]]:
    kinds = [k for k, arns in SEEDED.items() if arns]

    def for_kind(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {
                "resource_arn": st.sampled_from(SEEDED[kind]),
                "actions": st.lists(
                    st.sampled_from(ACTIONS[kind]), min_size=1, max_size=3, unique=True
                ),
                "requestor_account_id": st.just(REQUESTOR_ACCOUNT),
                "role_name": _role_names(),
                "requestor_role_arn": st.one_of(
                    st.none(),
                    st.text(ROLE_NAME_CHARS, min_size=1, max_size=12).map(
                        lambda s: f"arn:aws:iam::{REQUESTOR_ACCOUNT}:role/xacct/{s}"
                    ),
                ),
            },
        )

    return st.sampled_from(kinds).flatmap(for_kind)


def _requestor_overrides() -> st.SearchStrategy[dict[str, Any]]:
    """A service role for a made-up owner role, or the seeded group's or user's policy."""
    service = st.fixed_dictionaries(
        {
            "owner_role_arn": _xst().map(owner_role),
            "service_principal": st.sampled_from(SERVICE_PRINCIPALS),
            "role_name": _role_names(),
            "group_name": st.none(),
            "user_name": st.none(),
            "require_mfa": st.none(),
        }
    )
    people = st.fixed_dictionaries(
        {
            "owner_role_arn": st.sampled_from([owner_role(KEPT), owner_role(PEOPLE_OWNER)]),
            "service_principal": st.none(),
            "role_name": st.none(),
            "require_mfa": st.booleans(),
            "who": st.sampled_from([("group_name", GROUP), ("user_name", USER)]),
        }
    ).map(_person)
    return st.one_of(service, people)


def _person(draw: dict[str, Any]) -> dict[str, Any]:
    """`who` -> exactly one of group_name and user_name (the other removed)."""
    field, name = draw.pop("who")
    other = "user_name" if field == "group_name" else "group_name"
    return {**draw, field: name, other: None}


def _principals() -> st.SearchStrategy[dict[str, Any]]:
    """Exactly one requestor principal: a role (existing, outside /xacct/, or none), or the
    seeded group or user (or one that does not exist)."""
    role = st.one_of(
        st.sampled_from([requestor_role(KEPT), requestor_role(DOOMED), *_protected("requestor")]),
        _xst().map(requestor_role),
    ).map(lambda arn: {"role_arn": arn, "group_name": None, "user_name": None})
    person = st.sampled_from(
        [("group_name", GROUP), ("user_name", USER), ("group_name", "xst-nobody")]
    ).map(lambda who: _person({"who": who, "role_arn": None}))
    return st.one_of(role, person)


def _check_owner_overrides() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "role_arn": st.one_of(
                st.sampled_from([owner_role(KEPT), owner_role(DOOMED), *_protected("owner")]),
                _xst().map(owner_role),
            ),
            "principal_arn": st.sampled_from(
                [
                    requestor_role(KEPT),
                    f"arn:aws:iam::{REQUESTOR_ACCOUNT}:root",
                    f"arn:aws:sts::{REQUESTOR_ACCOUNT}:assumed-role/{KEPT}/xst-session",
                    f"arn:aws:iam::{REQUESTOR_ACCOUNT}:user/{USER}",
                    f"arn:aws:iam::{OWNER_ACCOUNT}:root",
                ]
            ),
            "external_id": st.sampled_from([None, FIXTURE_EXTERNAL_ID, "xst-wrong-external-id"]),
        }
    )


def _revoke_grant_overrides() -> st.SearchStrategy[dict[str, Any]]:
    """DOOMED, a role xacct does not manage (409), another account's role (400), or none."""
    return st.fixed_dictionaries(
        {
            "role_arn": st.one_of(
                st.sampled_from(
                    [owner_role(DOOMED), requestor_role(KEPT), *_protected("owner")]
                ),
                _xst().map(owner_role),
            )
        }
    )


def _check_requestor_overrides() -> st.SearchStrategy[dict[str, Any]]:
    owner = st.one_of(st.just(owner_role(KEPT)), _xst().map(owner_role))
    return st.tuples(_principals(), owner).map(lambda t: {**t[0], "owner_role_arn": t[1]})


def _revoke_requestor_overrides() -> st.SearchStrategy[dict[str, Any]]:
    """DOOMED's role, a role xacct does not manage (409) or none; or the seeded people's
    PEOPLE_OWNER policy (KEPT's stays for the checks), or a policy they do not have."""
    role = st.one_of(
        st.sampled_from([requestor_role(DOOMED), *_protected("requestor")]),
        _xst().map(requestor_role),
    ).map(lambda arn: {"role_arn": arn, "group_name": None, "user_name": None})
    person = st.tuples(
        st.sampled_from([("group_name", GROUP), ("user_name", USER)]),
        st.one_of(st.just(owner_role(PEOPLE_OWNER)), _xst().map(owner_role)),
    ).map(lambda t: _person({"who": t[0], "role_arn": None, "owner_role_arn": t[1]}))
    return st.one_of(role, person)


STEERED_BODIES = {
    OWNER_ROLE_PATH: _owner_overrides,
    REQUESTOR_PATH: _requestor_overrides,
    CHECK_OWNER_PATH: _check_owner_overrides,
    REVOKE_GRANT_PATH: _revoke_grant_overrides,
    CHECK_REQUESTOR_PATH: _check_requestor_overrides,
    REVOKE_REQUESTOR_PATH: _revoke_requestor_overrides,
}


@schema.hook("flatmap_body")
def steer_bodies(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    """Half the fuzzed bodies of the write, check and revoke functions reach IAM with real
    names; the other half stay as made. An override of `None` removes the field."""
    if not isinstance(body, dict) or ctx.operation is None:
        return st.just(body)
    overrides = STEERED_BODIES.get(ctx.operation.path)
    if overrides is None:
        return st.just(body)

    def merge(extra: dict[str, Any]) -> dict[str, Any]:
        merged = {**body, **extra}
        for key, value in extra.items():
            if value is None:
                merged.pop(key, None)
        return merged

    return st.one_of(st.just(body), overrides().map(merge))


@schema.hook("flatmap_query")
def steer_queries(ctx: Any, query: Any) -> st.SearchStrategy[Any]:
    """Half the fuzzed `list-grants` queries filter on a seeded resource or an account, so
    answers hold grants; the other half stay as made."""
    if ctx.operation is None or ctx.operation.path != LIST_GRANTS_PATH:
        return st.just(query)
    resources = [DEMO_BUCKET, *(arn for arns in SEEDED.values() for arn in arns)]
    steered = st.fixed_dictionaries(
        {},
        optional={
            "resource_arn": st.sampled_from(resources),
            "requestor_account_id": st.sampled_from([REQUESTOR_ACCOUNT, OWNER_ACCOUNT]),
        },
    )
    return st.one_of(st.just(query), steered)


# --- moto and the fault proxy ----------------------------------------------------------


def _iam(side: str) -> Any:
    creds = STACK["credentials"][side]
    return boto3.client(
        "iam",
        endpoint_url=STACK["moto_url"],
        region_name=STACK.get("region", "us-east-1"),
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds.get("session_token"),
        config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}),
    )


def half_made_roles(iam: Any, policy_name: str) -> dict[str, str]:
    """Roles under /xacct/ that a failed request could have left: name -> what is wrong."""
    bad: dict[str, str] = {}
    for page in iam.get_paginator("list_roles").paginate(PathPrefix="/xacct/"):
        for role in page["Roles"]:
            name = role["RoleName"]
            tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
            policies = iam.list_role_policies(RoleName=name)["PolicyNames"]
            problems = []
            if tags.get("xacct:managed") != "true":
                problems.append("no tag xacct:managed=true")
            if policy_name not in policies:
                problems.append(f"no inline policy {policy_name} (has {policies})")
            if tags.get("xacct:service-principal") == "ec2.amazonaws.com":
                profiles = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
                if not any(p["InstanceProfileName"] == name for p in profiles):
                    problems.append("EC2 role without its instance profile")
            if problems:
                bad[name] = "; ".join(problems)
    return bad


def _orphan_profiles(iam: Any) -> set[str]:
    """Instance profiles under /xacct/ holding no role (a rolled-back EC2 create's leftover)."""
    out = set()
    for page in iam.get_paginator("list_instance_profiles").paginate(PathPrefix="/xacct/"):
        for profile in page["InstanceProfiles"]:
            if not profile["Roles"]:
                out.add(profile["InstanceProfileName"])
    return out


def _roles_outside_xacct(iam: Any) -> dict[str, str]:
    """Every role not under /xacct/, which xacct never manages: name -> ARN."""
    out = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["Path"] != "/xacct/":
                out[role["RoleName"]] = role["Arn"]
    return out


def _canary(iam: Any) -> None:
    """CANARY in this account; kept from run to run."""
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
    try:
        iam.create_role(
            RoleName=CANARY,
            Path=CANARY_PATH,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="schemathesis canary: tagged as xacct's, outside /xacct/; never revoked",
            Tags=[{"Key": "xacct:managed", "Value": "true"}],
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def _post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request outside the fuzzing that must succeed; its answer."""
    response = requests.post(base_url(path) + path, json=body, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, (
        f"POST {path} {json.dumps(body)} -> {response.status_code} {response.text[:500]}"
    )
    answer: dict[str, Any] = response.json()
    return answer


def make_fixtures() -> None:
    """KEPT and DOOMED: a grant on the demo bucket and its requestor role each (Lambda and
    EC2), and KEPT's policies on the seeded group and user (the user's only with MFA). Repeats
    change nothing; what the last run revoked is made again."""
    for name in (KEPT, DOOMED):
        _post(
            OWNER_ROLE_PATH,
            {
                "resource_arn": DEMO_BUCKET,
                "actions": ["s3:GetObject", "s3:ListBucket"],
                "requestor_account_id": REQUESTOR_ACCOUNT,
                "requestor_role_arn": requestor_role(name),
                "external_id": FIXTURE_EXTERNAL_ID,
                "role_name": name,
            },
        )
    for name, principal in ((KEPT, "lambda.amazonaws.com"), (DOOMED, "ec2.amazonaws.com")):
        _post(
            REQUESTOR_PATH,
            {
                "owner_role_arn": owner_role(name),
                "service_principal": principal,
                "external_id": FIXTURE_EXTERNAL_ID,
                "role_name": name,
            },
        )
    _post(REQUESTOR_PATH, {"owner_role_arn": owner_role(KEPT), "group_name": GROUP})
    _post(
        REQUESTOR_PATH,
        {"owner_role_arn": owner_role(KEPT), "user_name": USER, "require_mfa": True},
    )


class Run:
    """State shared by the fuzzing test and the checks after it."""

    # When each operation's first case was sent (`METHOD path` -> monotonic seconds).
    started: dict[str, float] = {}
    sent = 0
    skipped = 0
    statuses: dict[str, dict[str, int]] = {}
    before: dict[str, dict[str, str]] = {}
    profiles_before: set[str] = set()
    # Roles outside /xacct/ before the run, per side: name -> ARN (canary included).
    protected: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module", autouse=True)
def moto_before() -> None:
    Run.before = {
        "owner": half_made_roles(_iam("owner"), OWNER_POLICY),
        "requestor": half_made_roles(_iam("requestor"), REQUESTOR_POLICY),
    }
    Run.profiles_before = _orphan_profiles(_iam("requestor"))
    for side in ("owner", "requestor"):
        iam = _iam(side)
        _canary(iam)
        Run.protected[side] = _roles_outside_xacct(iam)
    make_fixtures()


def test_stack_urls_match_the_document() -> None:
    """The document's paths are where the stack serves each function, on the right side, and
    the stack serves every path of the document."""
    paths = {op.path for op in (r.ok() for r in schema.get_all_operations())}
    for name, url in STACK["functions"].items():
        path = f"/lambda-url/{name}/"
        assert path in paths, f"{name} is not in openapi.yaml"
        assert url == base_url(path) + path, f"{name}: the stack serves {url}"
    served = {f"/lambda-url/{name}/" for name in STACK["functions"]}
    assert not paths - served, f"the stack does not serve {sorted(paths - served)}"
    for path in REQUESTOR_PATHS:
        servers = schema.raw_schema["paths"][path].get("servers", [])
        ports = [s["variables"]["port"].get("description") for s in servers]
        assert ports == ["XACCT_REQUESTOR_PORT"], f"{path} does not declare the requestor server"


ROLE_ARN = re.compile(schema.raw_schema["components"]["schemas"]["RoleArn"]["pattern"])

def accepted_bad_role_arn(case: Any, response: Any) -> bool:
    """A 200 for a role ARN the document refuses (a wildcard or no role name)."""
    if response.status_code != 200 or not isinstance(case.body, dict):
        return False
    fields = ["owner_role_arn", "requestor_role_arn", "role_arn"]
    if case.operation.path == REVOKE_REQUESTOR_PATH and case.body.get("role_arn") is not None:
        fields.remove("owner_role_arn")  # not read when a role is revoked
    for field in fields:
        value = case.body.get(field)
        if isinstance(value, str) and value.strip() and not ROLE_ARN.match(value.strip()):
            return True
    return False


def send(case: Any) -> Any:
    """One request, sent once: the stack serves built binaries, so every answer is the
    function's own."""
    return case.call(base_url=base_url(case.operation.path), timeout=REQUEST_TIMEOUT)


@schema.parametrize()
@settings(
    deadline=EXAMPLE_DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_conforms(case: Any) -> None:
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    started = Run.started.setdefault(operation, time.monotonic())
    if time.monotonic() - started > OPERATION_BUDGET:
        Run.skipped += 1
        return
    response = send(case)
    Run.sent += 1
    label = f"{case.method} {case.operation.path}"
    by_status = Run.statuses.setdefault(label, {})
    key = str(response.status_code)
    if response.status_code >= 400:
        try:
            key += " " + str(json.loads(response.content)["error"]["code"])
        except (ValueError, KeyError, TypeError):
            pass
    by_status[key] = by_status.get(key, 0) + 1
    assert not accepted_bad_role_arn(case, response), f"a malformed role ARN was accepted: {case.body}"
    case.validate_response(response, checks=CHECKS)


DOCUMENTED_METHODS = {
    "/lambda-url/list-resources/": {"GET"},
    "/lambda-url/list-permissions/": {"GET", "POST"},
    "/lambda-url/create-owner-role/": {"POST"},
    LIST_GRANTS_PATH: {"GET"},
    CHECK_OWNER_PATH: {"POST"},
    REVOKE_GRANT_PATH: {"POST"},
    REQUESTOR_PATH: {"POST"},
    CHECK_REQUESTOR_PATH: {"POST"},
    REVOKE_REQUESTOR_PATH: {"POST"},
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            marks=[],
        )
        for path, methods in DOCUMENTED_METHODS.items()
    ],
)
@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE"])
def test_allow_header_lists_the_methods_of_the_function(path: str, method: str) -> None:
    """A 405 names exactly the methods the document gives the path."""
    documented = {
        m.upper()
        for m in schema.raw_schema["paths"][path]
        if m in ("get", "post", "put", "delete", "patch")
    }
    assert documented == DOCUMENTED_METHODS[path]
    response = requests.request(method, base_url(path) + path, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 405, response.text
    assert response.json()["error"]["code"] == "MethodNotAllowed"
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",") if m.strip()}
    assert allowed == documented, f"{method} {path}: Allow: {response.headers.get('allow')}"



@pytest.mark.parametrize(
    ("path", "array"),
    [
        ("/lambda-url/list-permissions/", ["arn:aws:s3:::xacct-demo-reports", ["read"]]),
        (
            OWNER_ROLE_PATH,
            # resource_arn, actions, requestor_account_id, requestor_role_arn, external_id,
            # require_mfa, max_session_duration, role_name, allow_permissions_management,
            # principal_org_id, dry_run
            ["arn:aws:s3:::xacct-demo-reports", ["s3:GetObject"], REQUESTOR_ACCOUNT]
            + [None, None, False, None, None, False, None, True],
        ),
        (
            REQUESTOR_PATH,
            # owner_role_arn, service_principal, group_name, user_name, require_mfa,
            # external_id, role_name, dry_run
            [f"arn:aws:iam::{OWNER_ACCOUNT}:role/xacct/x", "lambda.amazonaws.com"]
            + [None, None, False, None, None, True],
        ),
        # role_arn, principal_arn, external_id, mfa
        (
            CHECK_OWNER_PATH,
            [owner_role("x"), f"arn:aws:iam::{REQUESTOR_ACCOUNT}:root", None, False],
        ),
        # role_arn: a role of the other account
        (REVOKE_GRANT_PATH, [requestor_role("x")]),
        # role_arn, group_name, user_name, owner_role_arn
        (CHECK_REQUESTOR_PATH, [requestor_role("x"), None, None, owner_role("x")]),
        # role_arn (of the other account), group_name, user_name, owner_role_arn
        (REVOKE_REQUESTOR_PATH, [owner_role("x"), None, None, None]),
    ],
)
def test_a_body_must_be_a_json_object(path: str, array: list[Any]) -> None:
    """The document's request bodies are objects; a JSON array is refused (writes nothing:
    every create array asks for a dry run, every revoke array names another account's role)."""
    response = requests.post(base_url(path) + path, json=array, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 400, f"POST {path} {json.dumps(array)} -> {response.status_code}"
    assert response.json()["error"]["code"] == "InvalidType"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (REQUESTOR_PATH, {"owner_role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/*"}),
        (REQUESTOR_PATH, {"owner_role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/"}),
        (REQUESTOR_PATH, {"owner_role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/xacct/"}),
        (
            OWNER_ROLE_PATH,
            {
                "resource_arn": "arn:aws:s3:::xacct-demo-reports",
                "actions": ["s3:GetObject"],
                "requestor_account_id": REQUESTOR_ACCOUNT,
                "requestor_role_arn": f"arn:aws:iam::{REQUESTOR_ACCOUNT}:role/*",
            },
        ),
        (
            CHECK_OWNER_PATH,
            {
                "role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/*",
                "principal_arn": f"arn:aws:iam::{REQUESTOR_ACCOUNT}:root",
            },
        ),
        (REVOKE_GRANT_PATH, {"role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/*"}),
        (REVOKE_GRANT_PATH, {"role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/xacct/"}),
        (
            CHECK_REQUESTOR_PATH,
            {"group_name": GROUP, "owner_role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/*"},
        ),
        (REVOKE_REQUESTOR_PATH, {"role_arn": f"arn:aws:iam::{REQUESTOR_ACCOUNT}:role/*"}),
        (
            REVOKE_REQUESTOR_PATH,
            {"user_name": USER, "owner_role_arn": f"arn:aws:iam::{OWNER_ACCOUNT}:role/"},
        ),
    ],
    ids=[
        "owner-role-star",
        "owner-role-empty-name",
        "owner-role-path-only",
        "requestor-role-star",
        "check-grant-star",
        "revoke-grant-star",
        "revoke-grant-path-only",
        "check-people-owner-role-star",
        "revoke-requestor-role-star",
        "revoke-people-owner-role-empty-name",
    ],
)
def test_a_role_arn_names_one_role(path: str, body: dict[str, Any]) -> None:
    """A role ARN names one role: no wildcard, no empty name (dry runs, and checks and revokes
    refused before any IAM call: nothing is written)."""
    if path == REQUESTOR_PATH:
        body = {**body, "service_principal": "lambda.amazonaws.com"}
    if path in (OWNER_ROLE_PATH, REQUESTOR_PATH):
        body = {**body, "dry_run": True}
    response = requests.post(base_url(path) + path, json=body, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 400, (
        f"POST {path} {json.dumps(body)} -> {response.status_code} {response.text[:300]}"
    )
    assert response.json()["error"]["code"] == "InvalidRoleArn"


def test_the_checks_pass_for_what_xacct_made() -> None:
    """KEPT as made: its requestor role may assume the grant with the External ID and not
    without it or with a wrong one, the grant allows exactly the granted actions and has not
    drifted; the requestor role, and the group's and user's policies, may assume it and do
    nothing else."""
    answer = _post(
        CHECK_OWNER_PATH,
        {
            "role_arn": owner_role(KEPT),
            "principal_arn": requestor_role(KEPT),
            "external_id": FIXTURE_EXTERNAL_ID,
        },
    )
    assert answer["can_assume"] is True, answer["reason"]
    decisions = {check["case"]: check["decision"] for check in answer["assume_checks"]}
    assert decisions["as given"] == "allow", answer["assume_checks"]
    assert decisions["without an external id"] != "allow", answer["assume_checks"]
    assert decisions["with a wrong external id"] != "allow", answer["assume_checks"]
    assert set(answer["allowed_actions"]) == {"s3:GetObject", "s3:ListBucket"}, answer["actions"]
    assert answer["drift"] == [], answer["drift"]
    for who in ({"role_arn": requestor_role(KEPT)}, {"group_name": GROUP}, {"user_name": USER}):
        answer = _post(CHECK_REQUESTOR_PATH, {**who, "owner_role_arn": owner_role(KEPT)})
        assert answer["ok"] is True, f"{who}: {answer['problems']}"


def test_revokes_take_back_what_the_creates_made() -> None:
    """A grant, an EC2 requestor role with its instance profile, and a group's policy are each
    revoked (200, naming what went) and gone from IAM; a second revoke changes nothing."""
    name = f"xst-revoke-{int(time.time() * 1000):x}"
    owner_arn = _post(
        OWNER_ROLE_PATH,
        {
            "resource_arn": DEMO_BUCKET,
            "actions": ["s3:GetObject"],
            "requestor_account_id": REQUESTOR_ACCOUNT,
            "role_name": name,
        },
    )["role_arn"]
    requestor_arn = _post(
        REQUESTOR_PATH,
        {"owner_role_arn": owner_arn, "service_principal": "ec2.amazonaws.com", "role_name": name},
    )["role_arn"]
    policy = _post(REQUESTOR_PATH, {"owner_role_arn": owner_arn, "group_name": GROUP})[
        "policy_name"
    ]
    for path, body in (
        (REVOKE_GRANT_PATH, {"role_arn": owner_arn}),
        (REVOKE_REQUESTOR_PATH, {"role_arn": requestor_arn}),
        (REVOKE_REQUESTOR_PATH, {"group_name": GROUP, "owner_role_arn": owner_arn}),
    ):
        first = _post(path, body)
        assert first["changed"] is True and first["removed"], f"{path} {body}: {first}"
        again = _post(path, body)
        assert again["changed"] is False and again["removed"] == [], f"{path} {body}: {again}"
    owner, requestor = _iam("owner"), _iam("requestor")
    with pytest.raises(owner.exceptions.NoSuchEntityException):
        owner.get_role(RoleName=name)
    with pytest.raises(requestor.exceptions.NoSuchEntityException):
        requestor.get_role(RoleName=name)
    with pytest.raises(requestor.exceptions.NoSuchEntityException):
        requestor.get_instance_profile(InstanceProfileName=name)
    assert policy not in requestor.list_group_policies(GroupName=GROUP)["PolicyNames"]


@pytest.mark.parametrize(
    ("side", "path"),
    [("owner", REVOKE_GRANT_PATH), ("requestor", REVOKE_REQUESTOR_PATH)],
)
def test_a_revoke_refuses_a_role_xacct_does_not_manage(side: str, path: str) -> None:
    """The canary carries `xacct:managed=true` but lies outside /xacct/: a revoke of it is a
    409 `RoleNotManaged`, and it stays."""
    arn = Run.protected[side][CANARY]
    response = requests.post(base_url(path) + path, json={"role_arn": arn}, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 409, f"{arn}: {response.status_code} {response.text[:300]}"
    assert response.json()["error"]["code"] == "RoleNotManaged"
    _iam(side).get_role(RoleName=CANARY)


def test_no_role_is_left_half_made() -> None:
    """Every role under /xacct/ is whole: tagged, with its inline policy (and profile)."""
    print(
        f"schemathesis: {Run.sent} requests sent, {Run.skipped} cases over the time budget, "
        "every answer the function's own"
    )
    for label, counts in sorted(Run.statuses.items()):
        print(f"  {label}: {dict(sorted(counts.items()))}")
    for side, policy in (("owner", OWNER_POLICY), ("requestor", REQUESTOR_POLICY)):
        bad = half_made_roles(_iam(side), policy)
        new = {name: why for name, why in bad.items() if name not in Run.before.get(side, {})}
        assert not new, f"{side} account: roles left half made: {new}"
    leftover = _orphan_profiles(_iam("requestor")) - Run.profiles_before
    assert not leftover, f"requestor account: instance profiles left without a role: {leftover}"


def test_no_role_outside_xacct_is_gone() -> None:
    """The revokes took nothing xacct does not manage: every role outside /xacct/ that was
    there before the run (the stack's own, the seeded ones, the canary) still is, and so are
    the seeded group and user."""
    for side, before in Run.protected.items():
        gone = set(before) - set(_roles_outside_xacct(_iam(side)))
        assert not gone, f"{side} account: roles outside /xacct/ removed: {sorted(gone)}"
    requestor = _iam("requestor")
    requestor.get_group(GroupName=GROUP)
    requestor.get_user(UserName=USER)
