"""The hand-off a create answer carries, checked with the tools users would run it with:
the exported CloudFormation passes cfn-lint, the exported Terraform parses as HCL (and names
the same documents), and the `~/.aws/config` section parses with botocore's profile loader.

Needs the local stack (`make local-up`): the stack file is `XACCT_STACK_FILE`, else
`.local/stack.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import botocore.session
import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[3]
STACK_FILE = Path(os.environ.get("XACCT_STACK_FILE", ROOT / ".local" / "stack.json"))
CFN_LINT = ROOT / ".venv-sam" / "bin" / "cfn-lint"


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    if not STACK_FILE.exists():
        pytest.skip(f"no local stack at {STACK_FILE}; run `make local-up`")
    return json.loads(STACK_FILE.read_text())


def post(stack: dict[str, Any], function: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        stack["functions"][function],
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def answers(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    owner = post(
        stack,
        "create-owner-role",
        {
            "resource_arn": "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg",
            "actions": ["rds:DescribeDBInstances", "rds:CreateDBSnapshot"],
            "requestor_account_id": "222222222222",
            "role_name": f"handoff-{uuid.uuid4().hex[:12]}",
            "require_mfa": True,
        },
    )
    ec2 = post(
        stack,
        "create-requestor-resources",
        {
            "owner_role_arn": owner["role_arn"],
            "service_principal": "ec2.amazonaws.com",
            "external_id": owner["external_id"],
        },
    )
    group = post(
        stack,
        "create-requestor-resources",
        {
            "owner_role_arn": owner["role_arn"],
            "group_name": stack["seed"]["requestor_people"]["group_name"],
            "external_id": owner["external_id"],
        },
    )
    return {"owner": owner, "ec2": ec2, "group": group}


@pytest.mark.parametrize("which", ["owner", "ec2", "group"])
def test_cloudformation_export_passes_cfn_lint(answers: dict[str, Any], which: str, tmp_path: Path) -> None:
    if not CFN_LINT.exists():
        pytest.skip("no .venv-sam (scripts/bootstrap-sam-venv installs cfn-lint)")
    template = tmp_path / f"{which}.json"
    template.write_text(answers[which]["handoff"]["cloudformation"])
    run = subprocess.run(
        [str(CFN_LINT), "--", str(template)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_cloudformation_export_holds_the_same_documents(answers: dict[str, Any]) -> None:
    owner = answers["owner"]
    props = json.loads(owner["handoff"]["cloudformation"])["Resources"]["Role"]["Properties"]
    assert props["AssumeRolePolicyDocument"] == owner["trust_policy"]
    assert props["Policies"][0]["PolicyDocument"] == owner["permissions_policy"]
    assert props["Path"] == "/xacct/"
    ec2 = json.loads(answers["ec2"]["handoff"]["cloudformation"])["Resources"]
    assert ec2["InstanceProfile"]["Properties"]["Roles"] == [{"Ref": "Role"}]
    group = json.loads(answers["group"]["handoff"]["cloudformation"])["Resources"]
    assert group["GroupPolicy"]["Type"] == "AWS::IAM::GroupPolicy"


def test_terraform_export_parses_and_holds_the_same_documents(answers: dict[str, Any]) -> None:
    owner = answers["owner"]
    parsed = hcl2.loads(owner["handoff"]["terraform"])
    kinds = [next(iter(r)) for r in parsed["resource"]]
    assert kinds == ["aws_iam_role", "aws_iam_role_policy"]
    ec2 = hcl2.loads(answers["ec2"]["handoff"]["terraform"])
    assert "aws_iam_instance_profile" in [next(iter(r)) for r in ec2["resource"]]
    group = hcl2.loads(answers["group"]["handoff"]["terraform"])
    assert [next(iter(r)) for r in group["resource"]] == ["aws_iam_group_policy"]
    # The documents inside jsonencode(...) are the ones the role has.
    text = owner["handoff"]["terraform"]
    assert json.dumps(owner["external_id"]) in text
    for action in owner["actions"]:
        assert json.dumps(action) in text


@pytest.mark.parametrize("which", ["owner", "ec2", "group"])
def test_profile_parses_with_botocore(answers: dict[str, Any], which: str, tmp_path: Path) -> None:
    handoff = answers[which]["handoff"]
    config = tmp_path / "config"
    config.write_text(handoff["aws_config"])
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    profile = session.full_config["profiles"][handoff["profile_name"]]
    assert profile["role_arn"] == answers["owner"]["role_arn"]
    assert profile["external_id"] == answers["owner"]["external_id"]
    if which == "ec2":
        assert profile["credential_source"] == "Ec2InstanceMetadata"
    else:
        assert profile["source_profile"] == "default"


def test_switch_role_link_names_the_owner_role(answers: dict[str, Any]) -> None:
    link = answers["group"]["switch_role_url"]
    name = answers["owner"]["role_name"]
    assert link.startswith("https://signin.aws.amazon.com/switchrole?account=111111111111&")
    assert f"roleName=xacct%2F{name}" in link
    assert answers["ec2"]["handoff"]["switch_role_url"] is None
