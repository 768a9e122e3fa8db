"""The pure parts of bench/harness.py: the function table (against template.yaml), the
events of the lifecycle functions (against openapi.yaml and the seeded roles), the seeding
plan, the answer checks and the Markdown notes.

No network, no processes; well under a second. bench/harness.py end to end is
test_bench_harness.py.

Run: .venv/bin/pytest tests/python/test_bench_harness_pure.py
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cfn_functions import functions_by_binary

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "crates" / "api" / "tests" / "events"


def _load(name: str, path: Path) -> ModuleType:
    sys.dont_write_bytecode = True  # no __pycache__ in bench/
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


harness = _load("xacct_bench_harness", ROOT / "bench" / "harness.py")

ORIGINAL = (
    "list-resources",
    "list-permissions",
    "create-owner-role",
    "create-requestor-resources",
)
LIFECYCLE = (
    "list-grants",
    "check-owner-role",
    "revoke-grant",
    "check-requestor-role",
    "revoke-requestor-resources",
)
GRANT_ARN = "arn:aws:iam::111111111111:role/xacct/xacct-bench-grant"
REVOKE_ARN = "arn:aws:iam::111111111111:role/xacct/xacct-bench-revoke"
REQ_CHECK_ARN = "arn:aws:iam::222222222222:role/xacct/xacct-bench-req-check"
REQ_REVOKE_ARN = "arn:aws:iam::222222222222:role/xacct/xacct-bench-req-revoke"
BUCKET_ARN = "arn:aws:s3:::xacct-bench-bucket"


# --------------------------------------------------------------------------------------
# The function table
# --------------------------------------------------------------------------------------


def test_all_nine_in_order_by_default() -> None:
    assert tuple(harness.FUNCTIONS) == (
        "list-resources",
        "list-permissions",
        "create-owner-role",
        "list-grants",
        "check-owner-role",
        "revoke-grant",
        "create-requestor-resources",
        "check-requestor-role",
        "revoke-requestor-resources",
    )
    assert harness.parse_args([]).names == list(harness.FUNCTIONS)
    picked = harness.parse_args(["--functions", "revoke-grant, list-permissions"]).names
    assert picked == ["revoke-grant", "list-permissions"]


def test_the_original_four_are_unchanged() -> None:
    spec = harness.FunctionSpec
    assert [harness.FUNCTIONS[n] for n in ORIGINAL] == [
        spec(
            "list-resources",
            "owner",
            1769,
            "ListResourcesFunction",
            ("bucket", "instances", "functions"),
        ),
        spec("list-permissions", "owner", 128, "ListPermissionsFunction", (), False),
        spec("create-owner-role", "owner", 128, "CreateOwnerRoleFunction", ("bucket",)),
        spec(
            "create-requestor-resources", "requestor", 128, "CreateRequestorResourcesFunction", ()
        ),
    ]


def test_every_function_matches_template_yaml() -> None:
    by_binary = functions_by_binary()
    assert set(by_binary) == set(harness.FUNCTIONS)
    for name in harness.FUNCTIONS:
        spec = harness.FUNCTIONS[name]
        logical_id, properties = by_binary[name]
        assert spec.logical_id == logical_id, name
        assert spec.memory_mb == properties["MemorySize"], name
        assert spec.side == properties["Environment"]["Variables"]["XACCT_SIDE"], name
        assert spec.uses_aws == (name != "list-permissions"), name


def test_only_the_revokes_carry_a_note() -> None:
    noted = {name for name, spec in harness.FUNCTIONS.items() if spec.note}
    assert noted == {"revoke-grant", "revoke-requestor-resources"}
    assert "xacct-bench-revoke" in harness.FUNCTIONS["revoke-grant"].note
    assert "xacct-bench-req-revoke" in harness.FUNCTIONS["revoke-requestor-resources"].note
    for name in noted:
        assert "changed: false" in harness.FUNCTIONS[name].note


# --------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------


def _plan(*names: str) -> tuple[set[str], list[str]]:
    resources, roles = harness.seed_plan([harness.FUNCTIONS[n] for n in names])
    return resources, [r.name for r in roles]


def test_seed_plan() -> None:
    assert _plan("list-permissions") == (set(), [])
    assert _plan("create-owner-role", "create-requestor-resources") == ({"bucket"}, [])
    assert _plan("list-grants", "check-owner-role") == ({"bucket"}, ["xacct-bench-grant"])
    assert _plan("revoke-grant") == ({"bucket"}, ["xacct-bench-revoke"])
    # The requestor side alone: nothing in the owner account (no owner credentials needed).
    assert _plan("check-requestor-role") == (set(), ["xacct-bench-req-check"])
    assert _plan("revoke-requestor-resources", "check-requestor-role") == (
        set(),
        ["xacct-bench-req-check", "xacct-bench-req-revoke"],  # SEED_ROLES' order
    )
    resources, roles = _plan(*harness.FUNCTIONS)
    assert resources == {"bucket", "instances", "functions"}
    assert roles == [
        "xacct-bench-grant",
        "xacct-bench-revoke",
        "xacct-bench-req-check",
        "xacct-bench-req-revoke",
    ]
    with pytest.raises(harness.BenchError, match="unknown seed needs"):
        harness.seed_plan([harness.FunctionSpec("x", "owner", 128, "X", ("nonsense",))])


def test_seeded_roles() -> None:
    seeds = harness.SEED_ROLES
    assert {s.need: s.arn for s in seeds.values()} == {
        "grant": GRANT_ARN,
        "grant-to-revoke": REVOKE_ARN,
        "requestor-role": REQ_CHECK_ARN,
        "requestor-role-to-revoke": REQ_REVOKE_ARN,
    }
    for seed in seeds.values():
        assert (
            seed.creator
            == {"owner": "create-owner-role", "requestor": "create-requestor-resources"}[seed.side]
        )
        assert seed.body["external_id"] == harness.BENCH_EXTERNAL_ID
        if seed.side == "requestor":  # made for the seeded grant, as a real requestor would
            assert seed.body["owner_role_arn"] == GRANT_ARN
    # Other roles than the create events write, so that those still create the first time.
    for creator in ("create-owner-role", "create-requestor-resources"):
        created = json.loads(harness.load_event(creator, EVENTS)["body"])["role_name"]
        assert created not in {s.name for s in seeds.values()}


def test_with_body_replaces_body_and_length_only() -> None:
    template = harness.load_event("create-owner-role", EVENTS)
    before = copy.deepcopy(template)
    body = {"role_arn": "arn:aws:iam::111111111111:role/xacct/é"}
    event = harness.with_body(template, body)
    assert template == before  # a copy
    assert event["body"] == '{"role_arn":"arn:aws:iam::111111111111:role/xacct/\\u00e9"}'
    assert json.loads(event["body"]) == body
    assert event["headers"]["content-length"] == str(len(event["body"].encode()))
    assert event["isBase64Encoded"] is False
    rest = {k: v for k, v in event.items() if k not in ("body", "headers")}
    assert rest == {k: v for k, v in template.items() if k not in ("body", "headers")}


def test_seed_check() -> None:
    seed = harness.SEED_ROLES["grant"]
    check = harness.seed_check(seed)
    good = {"role_arn": GRANT_ARN, "changed": True, "external_id": harness.BENCH_EXTERNAL_ID}
    assert check(0, good) is None
    assert "existed before" in check(0, {**good, "changed": False})
    assert "expected" in check(0, {**good, "role_arn": REVOKE_ARN})
    assert "external_id" in check(0, {**good, "external_id": "other-id"})


# --------------------------------------------------------------------------------------
# Events, against openapi.yaml
# --------------------------------------------------------------------------------------


def _openapi() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    return None


@pytest.mark.parametrize("name", LIFECYCLE)
def test_lifecycle_events_are_valid_requests(name: str) -> None:
    doc = _openapi()
    event = harness.load_event(name, EVENTS)
    method = event["requestContext"]["http"]["method"]
    operation = doc["paths"][f"/lambda-url/{name}/"][method.lower()]
    # Shaped like the recorded event of the same method.
    like = harness.load_event(
        "list-permissions" if method == "GET" else "create-owner-role", EVENTS
    )
    assert set(event) == set(like)
    for key in ("headers", "requestContext"):
        assert _keys(event[key]) == _keys(like[key]), key
    spec = harness.FUNCTIONS[name]
    assert event["requestContext"]["accountId"] == harness.ACCOUNTS[spec.side]
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == harness.ACCOUNTS[spec.side]
    assert event["headers"]["host"] == event["requestContext"]["domainName"]
    assert event["requestContext"]["domainPrefix"] == event["requestContext"]["apiId"]
    if method == "GET":
        query = dict(urllib.parse.parse_qsl(event["rawQueryString"]))
        assert query == event["queryStringParameters"]
        known = {p["name"] for p in operation.get("parameters", [])}
        assert set(query) <= known
        assert "body" not in event
    else:
        assert event["headers"]["content-length"] == str(len(event["body"].encode()))
        body = json.loads(event["body"])
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        validator = jsonschema.Draft202012Validator({**doc, "$ref": ref})
        assert not [e.message for e in validator.iter_errors(body)], body
    # One event per Function URL.
    others = [harness.load_event(n, EVENTS) for n in harness.FUNCTIONS if n != name]
    assert event["requestContext"]["apiId"] not in {o["requestContext"]["apiId"] for o in others}


def test_lifecycle_events_name_the_seeded_roles() -> None:
    def body(name: str) -> dict[str, Any]:
        return json.loads(harness.load_event(name, EVENTS)["body"])

    assert harness.load_event("list-grants", EVENTS)["queryStringParameters"] == {
        "resource_arn": BUCKET_ARN,
        "requestor_account_id": "222222222222",
    }
    assert body("check-owner-role") == {
        "role_arn": GRANT_ARN,
        "principal_arn": REQ_CHECK_ARN,
        "external_id": harness.BENCH_EXTERNAL_ID,
    }
    assert body("revoke-grant") == {"role_arn": REVOKE_ARN}
    assert body("check-requestor-role") == {"role_arn": REQ_CHECK_ARN, "owner_role_arn": GRANT_ARN}
    assert body("revoke-requestor-resources") == {"role_arn": REQ_REVOKE_ARN}


# --------------------------------------------------------------------------------------
# Answer checks (each sample answer valid against openapi.yaml)
# --------------------------------------------------------------------------------------

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Assume", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": GRANT_ARN}
    ],
}


def _grant(**overrides: Any) -> dict[str, Any]:
    return {
        "role_arn": GRANT_ARN,
        "role_name": "xacct-bench-grant",
        "resource_arn": BUCKET_ARN,
        "requestor_account_id": "222222222222",
        "requestor_role_arn": None,
        "actions": ["s3:GetObject", "s3:ListBucket"],
        "external_id": harness.BENCH_EXTERNAL_ID,
        "require_mfa": False,
        "expires_at": None,
        "expired": False,
        "created": "2026-11-23T01:41:33Z",
        "last_used": None,
        **overrides,
    }


def _listing(*grants: dict[str, Any]) -> dict[str, Any]:
    return {"grants": list(grants), "next_cursor": None}


def _owner_check(**overrides: Any) -> dict[str, Any]:
    def case(name: str, decision: str) -> dict[str, Any]:
        return {"case": name, "decision": decision, "statement": None, "reason": "r"}

    return {
        "role_arn": GRANT_ARN,
        "resource_arn": BUCKET_ARN,
        "requestor_account_id": "222222222222",
        "can_assume": True,
        "reason": "allowed",
        "statement": "trust policy statement #1",
        "assume_checks": [
            case("as given", "allow"),
            case("without an external id", "implicit_deny"),
            case("with a wrong external id", "implicit_deny"),
        ],
        "actions": [
            {
                "action": "s3:GetObject",
                "resource": f"{BUCKET_ARN}/*",
                "decision": "allow",
                "statement": "x",
            },
            {
                "action": "s3:ListBucket",
                "resource": BUCKET_ARN,
                "decision": "allow",
                "statement": "x",
            },
            {
                "action": "s3:DeleteObject",
                "resource": f"{BUCKET_ARN}/*",
                "decision": "implicit_deny",
                "statement": None,
            },
        ],
        "allowed_actions": ["s3:GetObject", "s3:ListBucket"],
        "drift": [],
        "trust_policy": POLICY,
        "permissions_policies": {"xacct-grant": POLICY},
        **overrides,
    }


def _requestor_check(**overrides: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "problems": [],
        "principal_arn": REQ_CHECK_ARN,
        "owner_role_arn": GRANT_ARN,
        "policies": {"xacct-assume-owner-role": POLICY},
        "trust_policy": POLICY,
        **overrides,
    }


SCHEMAS = {
    "list-grants": "ListGrantsResponse",
    "check-owner-role": "CheckOwnerRoleResponse",
    "revoke-grant": "RevokeResponse",
    "check-requestor-role": "CheckRequestorResponse",
    "revoke-requestor-resources": "RevokeResponse",
}
GOOD = {
    "list-grants": (
        0,
        _listing(_grant(), _grant(role_arn=REVOKE_ARN, role_name="xacct-bench-revoke")),
    ),
    "check-owner-role": (0, _owner_check()),
    "revoke-grant": (
        0,
        {"removed": ["inline policy `xacct-grant`", f"role `{REVOKE_ARN}`"], "changed": True},
    ),
    "check-requestor-role": (0, _requestor_check()),
    "revoke-requestor-resources": (
        0,
        {
            "removed": ["inline policy `xacct-assume-owner-role`", f"role `{REQ_REVOKE_ARN}`"],
            "changed": True,
        },
    ),
}
BAD = {
    "list-grants": [
        ({"grants": []}, "not a list-grants answer"),
        (_listing(), "listed 0 times"),
        (_listing(_grant(role_arn=REVOKE_ARN)), "listed 0 times"),
        (_listing(_grant(), _grant()), "listed 2 times"),
        (_listing(_grant(actions=["s3:GetObject"])), "listed with"),
        (_listing(_grant(external_id=None)), "listed with"),
        (
            _listing(_grant(), _grant(role_arn=REVOKE_ARN, requestor_account_id="333333333333")),
            "outside the filter",
        ),
    ],
    "check-owner-role": [
        (_owner_check(role_arn=REVOKE_ARN), "a verdict on"),
        (_owner_check(can_assume=False), "can_assume=False"),
        (_owner_check(assume_checks=_owner_check()["assume_checks"][:1]), "assume_checks decide"),
        (_owner_check(allowed_actions=["s3:GetObject"]), "allowed_actions"),
        (_owner_check(actions=[]), "no action checks"),
        (
            _owner_check(
                drift=[{"document": "trust_policy", "change": "changed", "message": "m"}]
            ),
            "drift",
        ),
        (_owner_check(permissions_policies={}), "permissions_policies lack"),
    ],
    "check-requestor-role": [
        (_requestor_check(principal_arn=REQ_REVOKE_ARN), "a verdict on"),
        (_requestor_check(owner_role_arn=REVOKE_ARN), "owner_role_arn"),
        (
            _requestor_check(ok=False, problems=[{"code": "TRUST_EXTRA", "message": "m"}]),
            "ok=False",
        ),
        (_requestor_check(policies={}), "policies lack"),
        (_requestor_check(trust_policy=None), "no trust_policy"),
    ],
}


@pytest.mark.parametrize("name", LIFECYCLE)
def test_sample_answers_are_valid_against_openapi(name: str) -> None:
    doc = _openapi()
    validator = jsonschema.Draft202012Validator(
        {**doc, "$ref": f"#/components/schemas/{SCHEMAS[name]}"}
    )
    # The wrong answers too, but for the malformed one: the checks must catch wrong content
    # that the schema allows.
    wrong = [body for body, problem in BAD.get(name, []) if not problem.startswith("not a")]
    for body in [GOOD[name][1], *wrong]:
        assert not [e.message for e in validator.iter_errors(body)], body


@pytest.mark.parametrize("name", LIFECYCLE)
def test_checks_accept_the_expected_answer(name: str) -> None:
    check = harness.check_for(name, {})
    index, body = GOOD[name]
    assert check(index, body) is None
    if not name.startswith("revoke"):  # reads: every invocation the same
        for i in (1, 5, -1):
            assert check(i, body) is None


@pytest.mark.parametrize(
    ("name", "body", "problem"), [(n, b, p) for n, cases in BAD.items() for b, p in cases]
)
def test_checks_refuse_a_wrong_answer(name: str, body: dict[str, Any], problem: str) -> None:
    assert problem in (harness.check_for(name, {})(0, body) or "(accepted)")


@pytest.mark.parametrize(
    ("name", "arn", "policy"),
    [
        ("revoke-grant", REVOKE_ARN, "xacct-grant"),
        ("revoke-requestor-resources", REQ_REVOKE_ARN, "xacct-assume-owner-role"),
    ],
)
def test_revokes_change_on_the_cold_invocation_only(name: str, arn: str, policy: str) -> None:
    check = harness.check_for(name, {})
    revoked = {"removed": [f"inline policy `{policy}`", f"role `{arn}`"], "changed": True}
    gone = {"removed": [], "changed": False}
    assert check(0, revoked) is None
    assert "expected" in check(0, gone)  # the seeded role must really be revoked first
    for later in (1, 20, -1):  # warm invocations, later cold runs
        assert check(later, gone) is None
        assert "expected" in check(later, revoked)
    assert "expected" in check(0, {**revoked, "removed": [f"role `{arn}`"]})
    assert "not a revoke answer" in check(0, {"changed": True})
    assert "not a revoke answer" in check(1, {"removed": [], "changed": "false"})


# --------------------------------------------------------------------------------------
# The Markdown table
# --------------------------------------------------------------------------------------


def _result(note: str | None = None) -> dict[str, Any]:
    warm = {"p50": 1.0, "p90": 2.0, "p99": 3.0, "max": 4.0}
    out = {
        "profile": "debug",
        "binary_mb": 1.0,
        "cold_start_ms": 10.0,
        "init_ms": 5.0,
        "first_request_ms": 4.0,
        "warm_ms": warm,
        "peak_rss_mb": 9.0,
    }
    return {**out, "note": note} if note else out


def test_markdown_notes_follow_the_table() -> None:
    plain = harness.markdown_table({"list-permissions": _result()}).splitlines()
    assert len(plain) == 3 and plain[2].startswith("| list-permissions | debug |")
    noted = harness.markdown_table(
        {"list-permissions": _result(), "revoke-grant": _result("cold revokes; warm find it gone")}
    ).splitlines()
    assert noted[:3] == plain
    assert noted[3].startswith("| revoke-grant | debug |")
    assert noted[4:] == ["", "- revoke-grant: cold revokes; warm find it gone"]


def test_zipped_size_is_a_zip_of_the_binary_as_bootstrap(tmp_path: Path) -> None:
    import io
    import zipfile

    binary = tmp_path / "fn"
    binary.write_bytes(b"\x7fELF" + b"a" * 100_000)
    size = harness.zipped_size(binary)
    assert 0 < size < 10_000  # repetitive bytes compress
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(binary, "bootstrap")
    assert size == len(buffer.getvalue())
