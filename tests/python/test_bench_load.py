"""The pure parts of bench/urlserver.py and bench/load.py: the Function URL event built from
an HTTP request (against the shape of bench/events/*.json), the HTTP answer decoded from a
function's response, the percentiles, the request mix (every body valid against
openapi.yaml, every revoke after its create), the answer checks and the report.

No network, no processes; well under a second.

Run: .venv/bin/pytest tests/python/test_bench_load.py
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cfn_functions import functions_by_binary

pytest.importorskip("boto3")  # scripts/localstack.py, which both import, needs it
yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "crates" / "api" / "tests" / "events"


def _load(name: str, path: Path) -> ModuleType:
    sys.dont_write_bytecode = True  # no __pycache__ in bench/ or scripts/
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


urlserver = _load("xacct_bench_urlserver", ROOT / "bench" / "urlserver.py")
load = _load("xacct_bench_load", ROOT / "bench" / "load.py")

NOW = dt.datetime(2026, 11, 22, 21, 30, 0, tzinfo=dt.timezone.utc)


def keys(value: Any) -> Any:
    """The nested key structure of a JSON object (values dropped)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    return None


def event(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": "list-permissions",
        "account": "111111111111",
        "method": "GET",
        "raw_path": "/",
        "raw_query": "",
        "headers": [],
        "body": b"",
        "now": NOW,
        "request_id": "00000000-0000-4000-8000-000000000001",
    }
    args.update(overrides)
    return urlserver.build_event(**args)


# --------------------------------------------------------------------------------------
# HTTP request -> event
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.stem for p in EVENTS.glob("*.json")))
def test_the_event_has_the_shape_of_the_recorded_events(name: str) -> None:
    recorded = json.loads((EVENTS / f"{name}.json").read_text())
    built = event(
        name=name,
        method=recorded["requestContext"]["http"]["method"],
        raw_query=recorded["rawQueryString"],
        headers=[(k, v) for k, v in recorded["headers"].items() if k != "host"],
        body=(recorded.get("body") or "").encode(),
    )
    assert keys(built["requestContext"]) == keys(recorded["requestContext"])
    assert set(built) == set(recorded)
    assert set(recorded["headers"]) <= set(built["headers"])
    assert built.get("queryStringParameters") == recorded.get("queryStringParameters")
    assert built.get("body") == recorded.get("body")
    assert built["isBase64Encoded"] is recorded["isBase64Encoded"] is False
    # Lambda's own fields, as the recorded events have them
    for key in ("version", "routeKey"):
        assert built[key] == recorded[key]
    for key in ("routeKey", "stage"):
        assert built["requestContext"][key] == recorded["requestContext"][key]


def test_method_path_query_and_context() -> None:
    built = event(
        name="create-requestor-resources",
        account="222222222222",
        method="post",
        raw_path="/rest/of%20path",
        raw_query="a=1&b=x%2Cy&a=2&empty=&plus=a+b",
        headers=[("User-Agent", "ua/1"), ("Host", "127.0.0.1:1234")],
    )
    assert built["rawPath"] == "/rest/of%20path"
    assert built["rawQueryString"] == "a=1&b=x%2Cy&a=2&empty=&plus=a+b"
    # Function URLs join a repeated key's values with commas, percent-decoded
    assert built["queryStringParameters"] == {"a": "1,2", "b": "x,y", "empty": "", "plus": "a b"}
    context = built["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/rest/of%20path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "ua/1",
    }
    assert context["accountId"] == "222222222222"
    assert context["authorizer"]["iam"]["accountId"] == "222222222222"
    assert context["requestId"] == "00000000-0000-4000-8000-000000000001"
    assert context["time"] == "22/Nov/2026:21:30:00 +0000"
    assert context["timeEpoch"] == int(NOW.timestamp() * 1000)
    domain = context["domainName"]
    assert re.fullmatch(r"[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws", domain)
    assert context["apiId"] == context["domainPrefix"] == domain.split(".")[0]
    assert built["headers"]["host"] == domain  # the URL's host, not the loopback one
    assert "queryStringParameters" not in event()  # absent without a query, as in Lambda
    assert event()["rawPath"] == "/"


def test_headers_are_lowercased_joined_and_cookies_moved() -> None:
    built = event(
        headers=[
            ("X-Thing", "a"),
            ("x-thing", "b"),
            ("Cookie", "s=1; t=2"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Type", "application/json"),
        ]
    )
    headers = built["headers"]
    assert headers["x-thing"] == "a,b"
    assert headers["content-type"] == "application/json"
    assert "cookie" not in headers and built["cookies"] == ["s=1", "t=2"]
    assert "connection" not in headers and "transfer-encoding" not in headers
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")


def test_text_bodies_stay_text_others_are_base64() -> None:
    as_json = event(method="POST", body=b'{"a":1}', headers=[("Content-Type", "application/json")])
    assert as_json["body"] == '{"a":1}' and as_json["isBase64Encoded"] is False
    binary = bytes(range(256))
    raw = event(method="POST", body=binary, headers=[("Content-Type", "application/octet-stream")])
    assert raw["isBase64Encoded"] is True and base64.b64decode(raw["body"]) == binary
    bad_text = event(method="POST", body=b"\xff\xfe", headers=[("Content-Type", "text/plain")])
    assert bad_text["isBase64Encoded"] is True
    untyped = event(method="POST", body=b"{}")
    assert untyped["isBase64Encoded"] is True  # no content type: binary, as Lambda does
    assert "body" not in event()
    for media, text in (
        ("text/csv; charset=utf-8", True),
        ("application/problem+json", True),
        ("application/x-www-form-urlencoded", True),
        ("image/png", False),
        (None, False),
    ):
        assert urlserver.is_text(media) is text, media


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/lambda-url/list-grants/", ("list-grants", "/", "")),
        ("/lambda-url/list-grants", ("list-grants", "/", "")),
        ("/lambda-url/list-grants/?a=1&b", ("list-grants", "/", "a=1&b")),
        ("/lambda-url/x/deep/path?q=1", ("x", "/deep/path", "q=1")),
        ("/lambda-url/", (None, "/", "")),
        ("/other?x", (None, "/other", "x")),
        ("/", (None, "/", "")),
    ],
)
def test_split_target(target: str, expected: tuple[Any, ...]) -> None:
    assert urlserver.split_target(target) == expected


# --------------------------------------------------------------------------------------
# Function response -> HTTP answer
# --------------------------------------------------------------------------------------


def response(**fields: Any) -> bytes:
    document = {"statusCode": 200, "headers": {}, "multiValueHeaders": {}, **fields}
    return json.dumps(document).encode()


def test_a_lambda_http_response() -> None:
    answer = urlserver.decode_response(
        "response",
        response(
            statusCode=405,
            headers={"content-type": "application/json", "allow": "GET"},
            body='{"error":{}}',
            isBase64Encoded=False,
            cookies=["a=1; Path=/"],
        ),
    )
    assert answer.status == 405
    assert ("allow", "GET") in answer.headers
    assert ("set-cookie", "a=1; Path=/") in answer.headers
    assert answer.body == b'{"error":{}}'


def test_base64_multi_value_headers_and_defaults() -> None:
    answer = urlserver.decode_response(
        "response",
        response(
            body=base64.b64encode(b"\x00\x01").decode(),
            isBase64Encoded=True,
            multiValueHeaders={"x-a": ["1", "2"]},
            headers={"Content-Length": "999", "transfer-encoding": "chunked"},
        ),
    )
    assert answer.body == b"\x00\x01"
    assert [v for k, v in answer.headers if k == "x-a"] == ["1", "2"]
    names = {k.lower() for k, _ in answer.headers}
    assert "content-length" not in names and "transfer-encoding" not in names
    assert ("content-type", "application/json") in answer.headers  # Lambda's default
    assert urlserver.decode_response("response", response()).body == b""


def test_a_response_without_status_code_is_the_body_of_a_200() -> None:
    for payload in (b'{"hello":"world"}', b'"text"', b"[1,2]", b"not json"):
        answer = urlserver.decode_response("response", payload)
        assert (answer.status, answer.body) == (200, payload)


def test_a_function_error_is_a_502() -> None:
    answer = urlserver.decode_response("error", b'{"errorType":"Panic"}', "Runtime.Panic")
    assert answer.status == 502
    assert ("x-amzn-errortype", "Runtime.Panic") in answer.headers
    assert json.loads(answer.body) == {"Message": "Internal Server Error"}


# --------------------------------------------------------------------------------------
# The functions urlserver runs
# --------------------------------------------------------------------------------------


def test_function_table_matches_template_yaml() -> None:
    by_binary = functions_by_binary()
    assert set(by_binary) == set(urlserver.FUNCTIONS)
    for name, function in urlserver.FUNCTIONS.items():
        logical_id, properties = by_binary[name]
        assert function.spec.logical_id == logical_id
        assert function.spec.memory_mb == properties["MemorySize"], name
        assert function.timeout_s == properties["Timeout"], name
        assert function.side == properties["Environment"]["Variables"]["XACCT_SIDE"], name


# --------------------------------------------------------------------------------------
# Percentiles and the report
# --------------------------------------------------------------------------------------


def test_percentiles_interpolate_between_closest_ranks() -> None:
    summary = load.latency_summary([float(v) for v in range(100, 0, -1)])  # 1..100, unsorted
    assert summary == {
        "count": 100,
        "p50_ms": 50.5,
        "p90_ms": 90.1,
        "p99_ms": 99.01,
        "max_ms": 100.0,
        "mean_ms": 50.5,
    }
    assert load.latency_summary([7.0])["p99_ms"] == 7.0
    assert load.latency_summary([]) == {"count": 0}


def result(
    p: Any, status: int, ms: float, error: str | None = None, kind: str | None = None
) -> Any:
    return load.Result(p, status, ms, error, kind, server_ms=ms / 2, queue_ms=0.5)


def test_summary_and_table() -> None:
    plan = load.plan_load(40, load.Names("abc123"), 1)
    results = [result(p, p.expect, float(p.index + 1)) for p in plan]
    results[3] = result(plan[3], 502, 9.0, "HTTP 502, expected 200", "status")
    results[7] = result(plan[7], 0, 9.0, "time-out", "timeout")
    report = load.summarize(results, 2.0)
    assert report["requests"] == 40 and report["errors"] == 2
    assert report["errors_by_kind"] == {"status": 1, "timeout": 1}
    assert report["throughput_rps"] == 20.0
    assert sum(e["count"] for e in report["functions"].values()) == 40
    assert sum(e["errors"] for e in report["functions"].values()) == 2
    assert set(report["functions"]) == set(urlserver.FUNCTIONS)
    assert [s["index"] for s in report["error_samples"]] == [3, 7]
    table = load.markdown_table(report).splitlines()
    assert table[0].startswith("| function | side | requests | errors | p50 ms |")
    assert len(table) == 2 + 9 + 1 and table[-1].startswith("| **all** |  | 40 | 2 |")


# --------------------------------------------------------------------------------------
# The mix
# --------------------------------------------------------------------------------------


def test_the_mix_of_1000_requests() -> None:
    plan = load.plan_load(1000, load.Names("abc123"), 4)
    assert [p.index for p in plan] == list(range(1000))
    assert Counter(p.function for p in plan) == {
        "list-permissions": 250,
        "list-resources": 150,
        "create-owner-role": 100,
        "list-grants": 100,
        "check-owner-role": 100,
        "create-requestor-resources": 100,
        "check-requestor-role": 100,
        "revoke-grant": 50,
        "revoke-requestor-resources": 50,
    }
    unexpected = [p for p in plan if not 200 <= p.expect < 300]
    assert {(p.function, p.expect, p.want["code"]) for p in unexpected} == {
        ("list-permissions", 400, "UnknownService")
    }
    assert 20 <= len(unexpected) <= 40
    creates = [p for p in plan if p.function.startswith("create")]
    # new: 50 + 50; repeats: 25 owner (even blocks) + 34 requestor (2 blocks in 3);
    # dry runs: 25 owner (odd blocks) + 16 requestor (1 block in 3)
    assert Counter((p.want["changed"], p.want["dry_run"]) for p in creates) == {
        (True, False): 100,
        (False, False): 59,
        (True, True): 41,
    }
    assert sum(1 for p in plan if p.function == "list-resources" and not p.query) == 10


def test_every_revoke_targets_a_role_the_run_created_earlier() -> None:
    names = load.Names("abc123")
    lag = 4
    plan = load.plan_load(1000, names, lag)
    setup = load.plan_setup(names, lag)
    made_in_setup = {p.body.get("role_name") for p in setup}
    revoked = set()
    for p in plan:
        if not p.function.startswith("revoke"):
            assert p.after is None
            continue
        target = p.body["role_arn"].rsplit("/", 1)[1]
        assert target not in revoked  # each once
        revoked.add(target)
        if p.after is None:
            assert target in made_in_setup, p
            continue
        create = plan[p.after]
        assert create.index < p.index
        assert p.index - create.index >= 2 * 32  # far behind: its create has answered
        assert create.body["role_name"] == target
        assert create.want == {"changed": True, "dry_run": False}
        owner_side = p.function == "revoke-grant"
        kind = "create-owner-role" if owner_side else "create-requestor-resources"
        assert create.function == kind
        assert p.body["role_arn"].startswith(
            "arn:aws:iam::111111111111:" if owner_side else "arn:aws:iam::222222222222:"
        )
    cleanup = load.plan_cleanup(names, plan, lag)
    created = {
        p.body["role_name"]
        for p in plan
        if p.want.get("changed") is True and "role_name" in p.body and not p.want.get("dry_run")
    }
    cleaned = {p.body["role_arn"].rsplit("/", 1)[1] for p in cleanup}
    assert cleaned == created - revoked and len(cleaned) == 2 * lag
    assert all(p.want == {"changed": True} for p in cleanup)


def _openapi() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _operation(doc: dict[str, Any], function: str, method: str) -> dict[str, Any]:
    return doc["paths"][f"/lambda-url/{function}/"][method.lower()]


def test_every_planned_request_is_valid_against_openapi() -> None:
    doc = _openapi()
    names = load.Names("abc123")
    plan = load.plan_load(1000, names, 4)
    everything = [*load.plan_setup(names, 4), *load.plan_warm(names, 2), *plan]
    everything += load.plan_cleanup(names, plan, 4)
    for p in everything:
        operation = _operation(doc, p.function, p.method)
        known = {param.get("name") for param in operation.get("parameters", [])}
        for ref in [x["$ref"] for x in operation.get("parameters", []) if "$ref" in x]:
            known.add(doc["components"]["parameters"][ref.rsplit("/", 1)[1]]["name"])
        for key in dict(load.urllib.parse.parse_qsl(p.query)):
            assert key in known, (p.note, key)
        if p.body is None:
            assert "requestBody" not in operation or not operation["requestBody"].get("required")
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        if p.expect >= 300:
            continue
        validator = jsonschema.Draft202012Validator({**doc, "$ref": ref})
        errors = [e.message for e in validator.iter_errors(p.body)]
        assert not errors, (p.note, p.body, errors)


def test_names_are_valid_iam_role_names_and_unique_per_run() -> None:
    a, b = load.Names("abc123"), load.Names("def456")
    plan_a = load.plan_load(1000, a, 4)
    for p in plan_a:
        for key in ("role_name",):
            if isinstance(p.body, dict) and key in p.body:
                assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]{1,64}", p.body[key]), p.body[key]
    made_a = {p.body.get("role_name") for p in plan_a if isinstance(p.body, dict)}
    plan_b = load.plan_load(1000, b, 4)
    made_b = {p.body.get("role_name") for p in plan_b if isinstance(p.body, dict)}
    stable = {s.role for s in load.STABLE} | {s.requestor_role for s in load.STABLE} | {None}
    assert made_a & made_b <= stable


# --------------------------------------------------------------------------------------
# Answer checks
# --------------------------------------------------------------------------------------


def planned(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "index": 0,
        "function": "create-owner-role",
        "method": "POST",
        "query": "",
        "body": {},
        "expect": 200,
        "check": "created",
        "want": {"changed": True},
    }
    base.update(fields)
    return load.Planned(**base)


def test_checks() -> None:
    check = load.check_answer
    created = planned()
    assert check(created, 200, {"role_arn": "arn:x", "changed": True}) is None
    assert "changed False" in check(created, 200, {"role_arn": "arn:x", "changed": False})
    assert "HTTP 502, expected 200" in check(created, 502, {"Message": "Internal Server Error"})
    assert "no role_arn" in check(created, 200, {"changed": True})
    error = planned(function="list-permissions", expect=400, check="error", want={"code": "X"})
    assert check(error, 400, {"error": {"code": "X"}}) is None
    assert "error code 'Y'" in check(error, 400, {"error": {"code": "Y"}})
    assert "expected 400" in check(error, 200, {"actions": []})
    grants = planned(function="list-grants", check="grants", want={"include": ["arn:a"]})
    assert check(grants, 200, {"grants": [{"role_arn": "arn:a"}], "next_cursor": None}) is None
    assert "missing" in check(grants, 200, {"grants": [], "next_cursor": None})
    assert check(grants, 200, {"grants": [], "next_cursor": "more"}) is None  # on a later page
    resources = planned(function="list-resources", check="resources", want={})
    assert check(resources, 200, {"resources": [{}], "partial_failures": []}) is None
    partial = {"resources": [{}], "partial_failures": [{}]}
    assert "partial_failures" in check(resources, 200, partial)
    assumable = planned(function="check-owner-role", check="assumable", want={})
    assert check(assumable, 200, {"can_assume": True, "drift": []}) is None
    assert "drift" in check(assumable, 200, {"can_assume": True, "drift": [{}]})
    assert "can_assume False" in check(assumable, 200, {"can_assume": False, "drift": []})
    requestor = planned(function="check-requestor-role", check="requestor_ok", want={})
    assert check(requestor, 200, {"ok": True, "problems": []}) is None
    assert "ok false" in check(requestor, 200, {"ok": False, "problems": [{"code": "X"}]})
    assert "not a JSON object" in check(requestor, 200, None)


def test_cpu_accounting() -> None:
    assert urlserver.cpu_seconds(-1) == 0.0  # gone
    assert urlserver.cpu_seconds(os.getpid()) >= 0.0
    before = {
        "functions": {"a": {"invocations": 10, "cpu_s": 1.0, "replaced": 0}},
        "cpu_s": {"moto": 5.0, "function_processes": 1.0},
    }
    after = {
        "functions": {
            "a": {"invocations": 30, "cpu_s": 2.0, "replaced": 0},
            "b": {"invocations": 4, "cpu_s": 0.2, "replaced": 1},  # a process replaced
        },
        "cpu_s": {"moto": 7.5, "function_processes": 2.2},
    }
    assert load.cpu_per_invocation(before, after) == {"a": 50.0}
    assert load.cpu_during(before, after, 0.3) == {
        "load_client": 0.3,
        "moto": 2.5,
        "function_processes": 1.2,
    }
    assert load.cpu_during(None, None, 0.3) == {"load_client": 0.3}
