"""The security rules of xacct's SAM deployment (template.yaml, samconfig.toml), as tests.

The template is read as data, with CloudFormation's short tags turned into their long
form, and its conditions are evaluated for every combination of Side, invoker slots and
AllowHumanRequestors, so the rules are checked for what each side would actually deploy.
cfn-lint and `sam validate --lint` run on it too (from .venv-sam/, see
scripts/bootstrap-sam-venv).

Run: .venv/bin/pytest tests/python
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
SAM_VENV_BIN = ROOT / ".venv-sam" / "bin"

# The functions, the side that deploys each, and their sizing (to be revised from measurements).
FUNCTIONS = {
    "list-resources": {"side": "owner", "memory": 1769, "timeout": 60},
    "list-permissions": {"side": "owner", "memory": 128, "timeout": 10},
    "create-owner-role": {"side": "owner", "memory": 128, "timeout": 30},
    "list-grants": {"side": "owner", "memory": 128, "timeout": 30},
    "check-owner-role": {"side": "owner", "memory": 128, "timeout": 30},
    "revoke-grant": {"side": "owner", "memory": 128, "timeout": 30},
    "create-requestor-resources": {"side": "requestor", "memory": 128, "timeout": 30},
    "check-requestor-role": {"side": "requestor", "memory": 128, "timeout": 30},
    "revoke-requestor-resources": {"side": "requestor", "memory": 128, "timeout": 30},
}
# The functions that create and update roles (under the boundary).
IAM_WRITERS = ("create-owner-role", "create-requestor-resources")
# The functions that delete xacct's roles (and instance profiles, and people's policies).
REVOKERS = ("revoke-grant", "revoke-requestor-resources")
# The functions that make no IAM write at all.
IAM_READERS = ("list-grants", "check-owner-role", "check-requestor-role")
# The requestor functions that may act on people when AllowHumanRequestors is "true".
HUMAN_FUNCTIONS = ("create-requestor-resources", "check-requestor-role", "revoke-requestor-resources")
INVOKER_SLOTS = ("AllowedInvokerArn1", "AllowedInvokerArn2", "AllowedInvokerArn3")
BOUNDARY = "PermissionsBoundaryPolicy"
BOUNDARY_REF = {"Ref": BOUNDARY}
HUMANS_CONDITION = "IsRequestorAndAllowsHumans"
# Revokes need both: the tag alone could be written on a role that is not xacct's (IAM cannot
# tell TagRole from CreateRole's tags), the boundary cannot.
MANAGED_TAG_ON_ROLE = {
    "StringEquals": {
        "iam:ResourceTag/xacct:managed": "true",
        "iam:PermissionsBoundary": {"Ref": "PermissionsBoundaryPolicy"},
    }
}
# iam:ResourceTag exists for users and roles only; instance profiles have aws:ResourceTag.
MANAGED_TAG_ON_INSTANCE_PROFILE = {"StringEquals": {"aws:ResourceTag/xacct:managed": "true"}}

XACCT_ROLES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/xacct/*"
XACCT_INSTANCE_PROFILES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/xacct/*"
MANAGED_POLICIES = {
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
    "arn:${AWS::Partition}:iam::aws:policy/*",
}
HUMAN_USERS = "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${HumanPrincipalPath}*"
HUMAN_GROUPS = "arn:${AWS::Partition}:iam::${AWS::AccountId}:group${HumanPrincipalPath}*"
ALL_BUCKETS = "arn:${AWS::Partition}:s3:::*"
FUNCTIONS_OF_THIS_ACCOUNT = "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"
DATABASES_OF_THIS_ACCOUNT = {
    "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*",
    "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*",
}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
IAM_ROLE_READS = {"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListRoleTags"}
IAM_ROLE_BOUNDED_WRITES = {"iam:CreateRole", "iam:PutRolePolicy"}
IAM_ROLE_UPDATES = {
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
}
IAM_INSTANCE_PROFILE_ACTIONS = {
    "iam:CreateInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:TagInstanceProfile",
}
BOUNDARY_PROTECTION = {"iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"}
ROLE_REMOVAL = {"iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRole"}
INSTANCE_PROFILE_REMOVAL = {"iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"}
HUMAN_USER_ACTIONS = {"iam:GetUser", "iam:GetUserPolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy"}
HUMAN_GROUP_ACTIONS = {"iam:GetGroup", "iam:GetGroupPolicy", "iam:PutGroupPolicy", "iam:DeleteGroupPolicy"}
HUMAN_ACTIONS = HUMAN_USER_ACTIONS | HUMAN_GROUP_ACTIONS

# --------------------------------------------------------------------------------------
# Reading the template


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation's short tags (`!Ref x`) into long form."""


SHORT_TAGS = (
    "Ref", "Condition", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Select",
    "Split", "Join", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs",
)  # fmt: skip


def _construct_short_tag(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if name in ("Ref", "Condition"):
            return {name: value}
        if name == "GetAtt" and isinstance(value, str):
            # `!GetAtt Resource.Attribute` is `Fn::GetAtt: [Resource, Attribute]`.
            value = value.split(".", 1)
        return {f"Fn::{name}": value}

    return construct


for _tag in SHORT_TAGS:
    CloudFormationLoader.add_constructor(f"!{_tag}", _construct_short_tag(_tag))


def load_cloudformation(text: str) -> Any:
    return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


@cache
def template() -> dict[str, Any]:
    return load_cloudformation(TEMPLATE.read_text())


def resources() -> dict[str, dict[str, Any]]:
    return template()["Resources"]


def resources_of_type(type_name: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in resources().items() if res["Type"] == type_name}


def function_logical_id(package: str) -> str:
    """The function whose CodeUri is functions/<package> (found by package, not by name)."""
    matches = [
        name
        for name, res in resources_of_type("AWS::Serverless::Function").items()
        if res["Properties"].get("CodeUri") == f"functions/{package}"
    ]
    assert len(matches) == 1, f"expected one function with CodeUri functions/{package}, found {matches}"
    return matches[0]


def function(package: str) -> dict[str, Any]:
    return resources()[function_logical_id(package)]


def execution_role_logical_id(package: str) -> str:
    role = function(package)["Properties"]["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{package}: Role must be !GetAtt <role>.Arn"
    name, attribute = role["Fn::GetAtt"]
    assert attribute == "Arn"
    assert resources()[name]["Type"] == "AWS::IAM::Role"
    return name


def log_group_logical_id(package: str) -> str:
    log_group = function(package)["Properties"]["LoggingConfig"]["LogGroup"]
    assert isinstance(log_group, dict) and set(log_group) == {"Ref"}, f"{package}: LogGroup must be !Ref"
    return log_group["Ref"]


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy_document["Statement"]
    return found if isinstance(found, list) else [found]


def gated_role_statements(role_logical_id: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every statement of the role's inline policies with the condition that switches it on:
    None for a plain statement, the condition name for `!If [Cond, statement, !Ref AWS::NoValue]`
    (the only form of Fn::If allowed in a statement list, see test_fn_if_only_adds_...)."""
    properties = resources()[role_logical_id]["Properties"]
    found: list[tuple[str | None, dict[str, Any]]] = []
    for policy in properties.get("Policies", []):
        for entry in statements(policy["PolicyDocument"]):
            if set(entry) == {"Fn::If"}:
                condition, when_true, when_false = entry["Fn::If"]
                assert when_false == {"Ref": "AWS::NoValue"}, f"{role_logical_id}: Fn::If must add or drop a statement"
                found.append((condition, when_true))
            else:
                found.append((None, entry))
    return found


def role_statements(role_logical_id: str, parameters: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The role's statements: with parameters, those deployed with them; without, every
    statement any deployment could have (the widest case, which the rules must hold for)."""
    return [
        statement
        for condition, statement in gated_role_statements(role_logical_id)
        if condition is None or parameters is None or evaluate({"Condition": condition}, parameters)
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement.get("Action", [])))


def resource_text(value: Any) -> str:
    """A statement's resource as comparable text: literal, `!Sub` template, or a reference."""
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    if "Fn::GetAtt" in value:
        return "GetAtt:" + ".".join(value["Fn::GetAtt"])
    if "Ref" in value:
        return "Ref:" + value["Ref"]
    raise AssertionError(f"unexpected resource form {value!r}")


def resource_texts(statement: dict[str, Any]) -> set[str]:
    return {resource_text(r) for r in as_list(statement.get("Resource", []))}


def allows(role_logical_id: str, parameters: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [s for s in role_statements(role_logical_id, parameters) if s["Effect"] == "Allow"]


def denies(role_logical_id: str) -> list[dict[str, Any]]:
    return [s for s in role_statements(role_logical_id) if s["Effect"] == "Deny"]


def allowed_actions(role_logical_id: str, parameters: dict[str, str] | None = None) -> set[str]:
    return {a for s in allows(role_logical_id, parameters) for a in actions(s)}


def read_toml(path: Path) -> dict[str, Any]:
    if tomllib is None:
        pytest.skip("reading TOML needs Python 3.11 or later (tomllib)")
    return tomllib.loads(path.read_text())


def walk(value: Any) -> Iterator[Any]:
    """Every node of a parsed template value, depth first."""
    yield value
    if isinstance(value, dict):
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


# --------------------------------------------------------------------------------------
# What each side deploys: the template's conditions, evaluated


def scenarios() -> list[dict[str, str]]:
    """Every Side with every combination of the optional invoker slots filled or empty, and
    human requestors allowed or not."""
    invoker = "arn:aws:iam::000000000000:role/invoker"
    return [
        {
            "Side": side,
            "AllowedInvokerArn1": invoker,
            "AllowedInvokerArn2": two,
            "AllowedInvokerArn3": three,
            "AllowHumanRequestors": humans,
            "HumanPrincipalPath": "/",
        }
        for side, two, three, humans in itertools.product(
            ("owner", "requestor"), ("", invoker + "2"), ("", invoker + "3"), ("false", "true")
        )
    ]


def _operand(expression: Any, parameters: dict[str, str]) -> str:
    if isinstance(expression, dict) and set(expression) == {"Ref"}:
        return parameters[expression["Ref"]]
    assert isinstance(expression, (str, int)), f"unsupported operand {expression!r}"
    return str(expression)


def evaluate(expression: Any, parameters: dict[str, str]) -> bool:
    conditions = template()["Conditions"]
    assert isinstance(expression, dict) and len(expression) == 1, f"unsupported condition {expression!r}"
    ((function_name, argument),) = expression.items()
    if function_name == "Fn::Equals":
        left, right = argument
        return _operand(left, parameters) == _operand(right, parameters)
    if function_name == "Fn::Not":
        return not evaluate(argument[0], parameters)
    if function_name == "Fn::And":
        return all(evaluate(a, parameters) for a in argument)
    if function_name == "Fn::Or":
        return any(evaluate(a, parameters) for a in argument)
    if function_name == "Condition":
        return evaluate(conditions[argument], parameters)
    raise AssertionError(f"unsupported condition function {function_name}")


def deployed(logical_id: str, parameters: dict[str, str]) -> bool:
    condition = resources()[logical_id].get("Condition")
    return condition is None or evaluate({"Condition": condition}, parameters)


def filled_slots(parameters: dict[str, str]) -> list[str]:
    return [slot for slot in INVOKER_SLOTS if parameters[slot]]


# --------------------------------------------------------------------------------------
# Function URLs and who may invoke them


def test_yaml_loader_turns_every_short_tag_into_its_long_form():
    loaded = load_cloudformation(
        """
        ref: !Ref Side
        condition: !Condition IsOwner
        sub: !Sub "arn:${AWS::Partition}:s3:::*"
        getatt: !GetAtt Role.Arn
        if: !If [IsOwner, a, !Ref AWS::NoValue]
        equals: !Equals [!Ref Side, owner]
        not: !Not [!Equals [a, b]]
        and: !And [!Condition A, !Condition B]
        or: !Or [!Condition A, !Condition B]
        select: !Select [0, !Split [",", "a,b"]]
        join: !Join ["", [a, b]]
        findinmap: !FindInMap [Map, Key, Value]
        importvalue: !ImportValue Exported
        base64: !Base64 text
        cidr: !Cidr ["10.0.0.0/16", 4, 8]
        getazs: !GetAZs ""
        """
    )
    assert loaded == {
        "ref": {"Ref": "Side"},
        "condition": {"Condition": "IsOwner"},
        "sub": {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"},
        "getatt": {"Fn::GetAtt": ["Role", "Arn"]},
        "if": {"Fn::If": ["IsOwner", "a", {"Ref": "AWS::NoValue"}]},
        "equals": {"Fn::Equals": [{"Ref": "Side"}, "owner"]},
        "not": {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
        "and": {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
        "or": {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
        "select": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "join": {"Fn::Join": ["", ["a", "b"]]},
        "findinmap": {"Fn::FindInMap": ["Map", "Key", "Value"]},
        "importvalue": {"Fn::ImportValue": "Exported"},
        "base64": {"Fn::Base64": "text"},
        "cidr": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        "getazs": {"Fn::GetAZs": ""},
    }


def test_every_function_url_uses_aws_iam():
    functions = resources_of_type("AWS::Serverless::Function")
    assert set(functions) == {function_logical_id(p) for p in FUNCTIONS}
    for name, res in functions.items():
        assert res["Properties"].get("FunctionUrlConfig", {}).get("AuthType") == "AWS_IAM", name
    for name, res in resources_of_type("AWS::Lambda::Url").items():
        assert res["Properties"]["AuthType"] == "AWS_IAM", name
    # Wherever an auth type is named at all (URL configs, permissions), it is AWS_IAM.
    for node in walk(template()):
        if isinstance(node, dict):
            for key in ("AuthType", "FunctionUrlAuthType"):
                if key in node:
                    assert node[key] == "AWS_IAM", f"{key}: {node[key]!r}"


def test_every_function_has_an_invoke_permission_pair_for_every_invoker():
    permissions = resources_of_type("AWS::Lambda::Permission")
    for parameters in scenarios():
        deployed_pairs = set()
        for name, permission in permissions.items():
            if not deployed(name, parameters):
                continue
            properties = permission["Properties"]
            target = properties["FunctionName"]["Ref"]
            assert deployed(target, parameters), f"{name} is deployed without its function {target}"
            deployed_pairs.add((target, properties["Principal"]["Ref"], properties["Action"]))
        expected = {
            (function_logical_id(package), slot, action)
            for package, spec in FUNCTIONS.items()
            if spec["side"] == parameters["Side"]
            for slot in filled_slots(parameters)
            for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")
        }
        assert deployed_pairs == expected, parameters


def test_invoke_permissions_are_limited_to_iam_authorized_url_calls():
    permissions = resources_of_type("AWS::Lambda::Permission")
    assert permissions
    for name, permission in permissions.items():
        properties = permission["Properties"]
        assert set(properties["FunctionName"]) == {"Ref"}, name
        assert set(properties["FunctionName"].values()) <= set(resources_of_type("AWS::Serverless::Function"))
        # Only an invoker parameter, never "*", an account or a service.
        assert properties["Principal"] in [{"Ref": slot} for slot in INVOKER_SLOTS], name
        assert not {"PrincipalOrgID", "SourceAccount", "SourceArn", "EventSourceToken"} & set(properties), name
        if properties["Action"] == "lambda:InvokeFunctionUrl":
            assert properties.get("FunctionUrlAuthType") == "AWS_IAM", name
        else:
            assert properties["Action"] == "lambda:InvokeFunction", name
            assert properties.get("InvokedViaFunctionUrl") is True, name


def test_invoker_parameters_accept_only_iam_principal_arns():
    parameters = template()["Parameters"]
    assert "Default" not in parameters["AllowedInvokerArn1"], "the first invoker must be given explicitly"
    for slot in INVOKER_SLOTS:
        pattern = re.compile(parameters[slot]["AllowedPattern"])
        for accepted in (
            "arn:aws:iam::000000000000:role/xacct-cli",
            "arn:aws:iam::000000000000:role/team/path/ci-deployer",
            "arn:aws-us-gov:iam::000000000000:user/alice",
            "arn:aws:iam::000000000000:root",
        ):
            assert pattern.fullmatch(accepted), (slot, accepted)
        for rejected in (
            "*",
            "000000000000",
            "arn:aws:iam::000000000000:*",
            "arn:aws:sts::000000000000:assumed-role/r/session",
            "arn:aws:iam::000000000000:role/a,arn:aws:iam::000000000000:role/b",
            "lambda.amazonaws.com",
            "arn:aws:iam::*:role/x",
        ):
            assert not pattern.fullmatch(rejected), (slot, rejected)
    for slot in INVOKER_SLOTS[1:]:
        assert parameters[slot]["Default"] == ""
        assert re.fullmatch(parameters[slot]["AllowedPattern"], "")


def test_outputs_give_every_function_url_on_its_side():
    outputs = template()["Outputs"]
    for package, spec in FUNCTIONS.items():
        function_name = function_logical_id(package)
        matching = [
            output
            for output in outputs.values()
            if output["Value"] == {"Fn::GetAtt": [f"{function_name}Url", "FunctionUrl"]}
        ]
        assert len(matching) == 1, package
        for parameters in scenarios():
            shown = evaluate({"Condition": matching[0]["Condition"]}, parameters)
            assert shown == (parameters["Side"] == spec["side"]), (package, parameters)


# --------------------------------------------------------------------------------------
# Sides


def test_every_function_is_deployed_only_on_its_side():
    for package, spec in FUNCTIONS.items():
        for parameters in scenarios():
            assert deployed(function_logical_id(package), parameters) == (parameters["Side"] == spec["side"]), (
                package,
                parameters,
            )


def test_every_function_role_and_log_group_is_deployed_with_its_function():
    for package in FUNCTIONS:
        for dependent in (execution_role_logical_id(package), log_group_logical_id(package)):
            for parameters in scenarios():
                assert deployed(dependent, parameters) == deployed(function_logical_id(package), parameters), (
                    dependent,
                    parameters,
                )


def test_permissions_boundary_is_created_on_both_sides():
    policy = resources()[BOUNDARY]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert all(deployed(BOUNDARY, parameters) for parameters in scenarios())


# --------------------------------------------------------------------------------------
# Functions: build, runtime, sizing, environment, logs


def test_every_function_is_a_rust_cargolambda_build_of_its_own_package():
    for package in FUNCTIONS:
        res = function(package)
        assert res["Metadata"]["BuildMethod"] == "rust-cargolambda", package
        # In a workspace, the binary name tells SAM which target/lambda/<bin>/bootstrap is this one.
        assert res["Metadata"]["BuildProperties"]["Binary"] == package, package
        properties = res["Properties"]
        assert properties["Handler"] == "bootstrap", package
        assert properties["Runtime"] == "provided.al2023", package
        assert properties["Architectures"] == ["x86_64"], package
        manifest = read_toml(ROOT / "functions" / package / "Cargo.toml")
        binaries = [b["name"] for b in manifest.get("bin", [])] or [manifest["package"]["name"]]
        assert package in binaries, f"functions/{package}/Cargo.toml builds no binary named {package}"


def test_function_memory_and_timeout_match_the_sizing_table():
    for package, spec in FUNCTIONS.items():
        properties = function(package)["Properties"]
        assert (properties["MemorySize"], properties["Timeout"]) == (spec["memory"], spec["timeout"]), package


def test_every_function_gets_the_boundary_arn_its_side_and_log_level():
    for package, spec in FUNCTIONS.items():
        variables = function(package)["Properties"]["Environment"]["Variables"]
        assert variables["PERMISSIONS_BOUNDARY_ARN"] == BOUNDARY_REF, package
        assert variables["XACCT_SIDE"] == spec["side"], package
        assert variables["RUST_LOG"] == "info", package


def test_every_function_logs_json_to_its_own_log_group_with_retention():
    parameters = template()["Parameters"]
    assert parameters["LogRetentionDays"]["Default"] == 30
    log_groups = set()
    for package in FUNCTIONS:
        logging = function(package)["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", package
        assert logging["ApplicationLogLevel"] == "INFO", package
        log_group = resources()[log_group_logical_id(package)]
        assert log_group["Type"] == "AWS::Logs::LogGroup", package
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, package
        log_groups.add(log_group_logical_id(package))
        # The role writes logs to this group and nowhere else.
        for statement in allows(execution_role_logical_id(package)):
            if any(a.startswith("logs:") for a in actions(statement)):
                assert actions(statement) == LOG_ACTIONS, package
                assert resource_texts(statement) == {f"GetAtt:{log_group_logical_id(package)}.Arn"}, package
    assert len(log_groups) == len(FUNCTIONS), "each function needs a log group of its own"


# --------------------------------------------------------------------------------------
# Execution roles


def is_iam_write(action: str) -> bool:
    """Whether an action pattern can match an IAM action that is not a read (Get/List/...)."""
    service, _, name = action.partition(":")
    if not fnmatchcase("iam", service.lower()):
        return False
    return not re.match(r"(Get|List|Generate|Simulate)[A-Za-z]", name)


def test_execution_roles_are_plain_roles_only_lambda_can_assume():
    for package in FUNCTIONS:
        role = resources()[execution_role_logical_id(package)]["Properties"]
        # Not under /xacct/: the IAM-writing functions must not be able to change their own role.
        assert not role.get("Path", "/").startswith("/xacct"), package
        assert "ManagedPolicyArns" not in role, f"{package}: write the policy out, no managed policies"
        assert "PermissionsBoundary" not in role or role["PermissionsBoundary"] == BOUNDARY_REF
        (trust,) = statements(role["AssumeRolePolicyDocument"])
        assert trust == {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }, package
    # Each function has a role of its own.
    assert len({execution_role_logical_id(p) for p in FUNCTIONS}) == len(FUNCTIONS)


def test_no_execution_role_allows_an_iam_write_action_on_every_resource():
    for role in resources_of_type("AWS::IAM::Role"):
        for condition, statement in gated_role_statements(role):
            if statement["Effect"] != "Allow":
                continue
            assert "NotAction" not in statement, f"{role}: Allow with NotAction"
            assert "*" not in actions(statement), f"{role}: Allow of every action"
            for action in actions(statement):
                service = action.partition(":")[0]
                # No iam:*, iam:Get*, *:* ...: every IAM action is named.
                assert not ("*" in action and fnmatchcase("iam", service.lower())), f"{role}: wildcard {action}"
            writes = {a for a in actions(statement) if is_iam_write(a)}
            if writes:
                assert "NotResource" not in statement, (role, writes)
                assert "*" not in resource_texts(statement), (role, writes)
                if condition is None:
                    assert resource_texts(statement) <= {XACCT_ROLES, XACCT_INSTANCE_PROFILES}, (role, writes)
                else:
                    # Writes on people exist only behind the human-requestor switch.
                    assert condition == HUMANS_CONDITION, (role, condition)
                    assert writes <= HUMAN_ACTIONS, (role, writes)
                    assert resource_texts(statement) <= {HUMAN_USERS, HUMAN_GROUPS}, (role, writes)


def test_iam_actions_on_every_resource_are_only_those_without_resource_level_permissions():
    # iam:GetAccountAuthorizationDetails supports no resource ARN; every other IAM action
    # names its resources.
    unscoped = "iam:GetAccountAuthorizationDetails"
    for role in resources_of_type("AWS::IAM::Role"):
        for statement in allows(role):
            iam_actions = {a for a in actions(statement) if a.startswith("iam:")}
            if iam_actions and "*" in resource_texts(statement):
                assert iam_actions == {unscoped}, (role, iam_actions)
    assert {r for r in resources_of_type("AWS::IAM::Role") if unscoped in allowed_actions(r)} == {
        execution_role_logical_id("list-grants")
    }


def test_create_role_and_put_role_policy_require_the_stack_boundary():
    for role in resources_of_type("AWS::IAM::Role"):
        for statement in allows(role):
            if actions(statement) & IAM_ROLE_BOUNDED_WRITES:
                assert statement["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY_REF}}, role
                assert resource_texts(statement) == {XACCT_ROLES}, role
    for package in IAM_WRITERS:
        role = execution_role_logical_id(package)
        assert IAM_ROLE_BOUNDED_WRITES <= allowed_actions(role), package
        # And explicitly denied without it, whatever else is attached to the role later.
        assert any(
            actions(s) >= IAM_ROLE_BOUNDED_WRITES
            and resource_texts(s) == {"*"}
            and s["Condition"] == {"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY_REF}}
            for s in denies(role)
        ), package


def test_iam_writers_may_not_remove_or_replace_a_boundary():
    for package in IAM_WRITERS:
        role = execution_role_logical_id(package)
        assert any(
            actions(s) >= BOUNDARY_PROTECTION and resource_texts(s) == {"*"} and "Condition" not in s
            for s in denies(role)
        ), package
        assert not allowed_actions(role) & BOUNDARY_PROTECTION, package


def test_iam_writers_may_not_pass_roles_except_xacct_roles_to_instance_profiles():
    owner = execution_role_logical_id("create-owner-role")
    assert any(actions(s) == {"iam:PassRole"} and resource_texts(s) == {"*"} for s in denies(owner))
    assert "iam:PassRole" not in allowed_actions(owner)

    # iam:AddRoleToInstanceProfile requires iam:PassRole on the role being added.
    requestor = execution_role_logical_id("create-requestor-resources")
    (passing,) = [s for s in allows(requestor) if "iam:PassRole" in actions(s)]
    assert actions(passing) == {"iam:PassRole"}
    assert resource_texts(passing) == {XACCT_ROLES}
    assert passing["Condition"] == {"StringEqualsIfExists": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert any(
        actions(s) == {"iam:PassRole"} and resource_text(s["NotResource"]) == XACCT_ROLES for s in denies(requestor)
    ), "passing any role outside /xacct/ must be denied"


def is_human_switch(node: Any) -> bool:
    """`!If [IsRequestorAndAllowsHumans, <Allow of people's actions on people>, !Ref AWS::NoValue]`."""
    if not (isinstance(node, dict) and set(node) == {"Fn::If"}):
        return False
    condition, statement, otherwise = node["Fn::If"]
    return (
        condition == HUMANS_CONDITION
        and otherwise == {"Ref": "AWS::NoValue"}
        and isinstance(statement, dict)
        and statement.get("Effect") == "Allow"
        and set(statement) <= {"Sid", "Effect", "Action", "Resource"}
        and bool(actions(statement))
        and actions(statement) <= HUMAN_ACTIONS
        and bool(resource_texts(statement))
        and resource_texts(statement) <= {HUMAN_USERS, HUMAN_GROUPS}
    )


def test_fn_if_only_adds_human_requestor_statements_and_novalue_drops_nothing_else():
    # Fn::If can switch a rule off, and AWS::NoValue drops a property. The one use allowed:
    # a whole statement of a requestor role's policy that only the human-requestor switch
    # adds (an Allow on people's actions under HumanPrincipalPath); nothing else in the
    # template may depend on a parameter that way.
    switches = 0
    for name, res in resources().items():
        properties = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                statement_list = policy["PolicyDocument"]["Statement"]
                assert isinstance(statement_list, list), name
                for entry in statement_list:
                    if is_human_switch(entry):
                        switches += 1
                        assert res["Condition"] == "IsRequestor", name
                        continue
                    for node in walk(entry):
                        if isinstance(node, dict):
                            assert "Fn::If" not in node, f"{name}: Fn::If can switch a rule off"
                            assert node != {"Ref": "AWS::NoValue"}, f"{name}: AWS::NoValue drops a property"
                for node in walk({k: v for k, v in policy.items() if k != "PolicyDocument"}):
                    assert not (isinstance(node, dict) and ("Fn::If" in node or node == {"Ref": "AWS::NoValue"})), name
            others = {k: v for k, v in properties.items() if k != "Policies"}
        else:
            others = properties
        for node in walk({"Condition": res.get("Condition"), "Properties": others}):
            if isinstance(node, dict):
                assert "Fn::If" not in node, f"{name}: Fn::If can switch a rule off"
                assert node != {"Ref": "AWS::NoValue"}, f"{name}: AWS::NoValue drops a property"
    # Two per human function: users and groups.
    assert switches == 2 * len(HUMAN_FUNCTIONS)
    for section in ("Outputs", "Conditions", "Parameters"):
        assert not [n for n in walk(template()[section]) if isinstance(n, dict) and "Fn::If" in n], section


def test_list_resources_role_allows_exactly_the_discovery_actions():
    role = execution_role_logical_id("list-resources")
    no_resource_level = {
        "ec2:DescribeRegions",
        "ec2:DescribeInstances",
        "s3:ListAllMyBuckets",
        "lambda:ListFunctions",
        "tag:GetResources",
    }
    expected_resources = {
        "s3:GetBucketLocation": {ALL_BUCKETS},
        "rds:DescribeDBInstances": DATABASES_OF_THIS_ACCOUNT,
        "rds:DescribeDBClusters": DATABASES_OF_THIS_ACCOUNT,
        "rds:ListTagsForResource": DATABASES_OF_THIS_ACCOUNT,
    }
    assert allowed_actions(role) - LOG_ACTIONS == no_resource_level | set(expected_resources)
    for statement in allows(role):
        for action in actions(statement) - LOG_ACTIONS:
            if action in no_resource_level:
                assert resource_texts(statement) == {"*"}, action
            else:
                assert resource_texts(statement) == expected_resources[action], action


def test_list_permissions_role_can_only_write_its_logs():
    assert allowed_actions(execution_role_logical_id("list-permissions")) == LOG_ACTIONS


def test_create_owner_role_role_allows_exactly_role_writes_and_existence_checks():
    role = execution_role_logical_id("create-owner-role")
    existence_checks = {
        "s3:ListBucket": {ALL_BUCKETS},
        "ec2:DescribeInstances": {"*"},
        # Regions are checked before any call to them; it has no resource-level permission.
        "ec2:DescribeRegions": {"*"},
        # Not lambda:GetFunction: it returns the function's environment variables.
        "lambda:ListTags": {FUNCTIONS_OF_THIS_ACCOUNT},
        "rds:DescribeDBInstances": DATABASES_OF_THIS_ACCOUNT,
        "rds:DescribeDBClusters": DATABASES_OF_THIS_ACCOUNT,
    }
    iam = IAM_ROLE_READS | IAM_ROLE_BOUNDED_WRITES | IAM_ROLE_UPDATES
    assert allowed_actions(role) == LOG_ACTIONS | iam | set(existence_checks)
    for statement in allows(role):
        for action in actions(statement):
            if action in iam:
                assert resource_texts(statement) == {XACCT_ROLES}, action
            elif action in existence_checks:
                assert resource_texts(statement) == existence_checks[action], action


def test_create_requestor_resources_role_allows_exactly_role_and_instance_profile_writes():
    role = execution_role_logical_id("create-requestor-resources")
    roles = IAM_ROLE_READS | IAM_ROLE_BOUNDED_WRITES | IAM_ROLE_UPDATES
    services_only = LOG_ACTIONS | roles | IAM_INSTANCE_PROFILE_ACTIONS | {"iam:PassRole"}
    people = HUMAN_ACTIONS - {"iam:DeleteUserPolicy", "iam:DeleteGroupPolicy"}
    for parameters in scenarios():
        if parameters["Side"] != "requestor":
            continue
        humans = parameters["AllowHumanRequestors"] == "true"
        assert allowed_actions(role, parameters) == services_only | (people if humans else set()), parameters
    for statement in allows(role):
        for action in actions(statement):
            if action in roles or action == "iam:PassRole":
                assert resource_texts(statement) == {XACCT_ROLES}, action
            elif action in IAM_INSTANCE_PROFILE_ACTIONS:
                assert resource_texts(statement) == {XACCT_INSTANCE_PROFILES}, action
            elif action in HUMAN_USER_ACTIONS:
                assert resource_texts(statement) == {HUMAN_USERS}, action
            elif action in HUMAN_GROUP_ACTIONS:
                assert resource_texts(statement) == {HUMAN_GROUPS}, action


def assert_exact_allows(package: str, expected: dict[str, set[str]], parameters: dict[str, str] | None = None):
    """The role allows exactly these actions (besides its logs), each on exactly these resources."""
    role = execution_role_logical_id(package)
    assert allowed_actions(role, parameters) - LOG_ACTIONS == set(expected), package
    for statement in allows(role, parameters):
        for action in actions(statement) - LOG_ACTIONS:
            assert resource_texts(statement) == expected[action], (package, action)


def test_list_grants_role_allows_exactly_the_authorization_details_read():
    # One paged chain instead of a GetRole and a GetRolePolicy per role (no N+1).
    assert_exact_allows("list-grants", {"iam:GetAccountAuthorizationDetails": {"*"}})


# What the check functions read: a role under /xacct/ and every policy that decides what it may do.
CHECK_READS = {
    "iam:GetRole": {XACCT_ROLES},
    "iam:ListRolePolicies": {XACCT_ROLES},
    "iam:GetRolePolicy": {XACCT_ROLES},
    "iam:ListAttachedRolePolicies": {XACCT_ROLES},
    "iam:GetPolicy": MANAGED_POLICIES,
    "iam:GetPolicyVersion": MANAGED_POLICIES,
}


def test_check_owner_role_role_allows_exactly_reading_xacct_roles_and_managed_policies():
    assert_exact_allows("check-owner-role", CHECK_READS)


def test_check_requestor_role_role_reads_people_only_when_human_requestors_are_allowed():
    base = CHECK_READS
    people = {
        "iam:GetUser": {HUMAN_USERS},
        "iam:GetUserPolicy": {HUMAN_USERS},
        "iam:GetGroup": {HUMAN_GROUPS},
        "iam:GetGroupPolicy": {HUMAN_GROUPS},
    }
    for parameters in scenarios():
        if parameters["Side"] == "requestor":
            humans = parameters["AllowHumanRequestors"] == "true"
            assert_exact_allows("check-requestor-role", {**base, **(people if humans else {})}, parameters)


def test_revoke_roles_allow_exactly_reading_and_deleting_xacct_managed_roles():
    expected = {
        "iam:GetRole": {XACCT_ROLES},
        "iam:ListRolePolicies": {XACCT_ROLES},
        "iam:ListAttachedRolePolicies": {XACCT_ROLES},
        "iam:ListInstanceProfilesForRole": {XACCT_ROLES},
        "iam:GetInstanceProfile": {XACCT_INSTANCE_PROFILES},
        **{a: {XACCT_ROLES} for a in ROLE_REMOVAL},
        **{a: {XACCT_INSTANCE_PROFILES} for a in INSTANCE_PROFILE_REMOVAL},
    }
    assert_exact_allows("revoke-grant", expected)
    people = {
        "iam:GetUserPolicy": {HUMAN_USERS},
        "iam:DeleteUserPolicy": {HUMAN_USERS},
        "iam:GetGroupPolicy": {HUMAN_GROUPS},
        "iam:DeleteGroupPolicy": {HUMAN_GROUPS},
    }
    for parameters in scenarios():
        if parameters["Side"] == "requestor":
            humans = parameters["AllowHumanRequestors"] == "true"
            wanted = {**expected, **(people if humans else {})}
            assert_exact_allows("revoke-requestor-resources", wanted, parameters)


def test_revokers_delete_only_roles_and_instance_profiles_tagged_as_xacct_managed():
    for package in REVOKERS:
        role = execution_role_logical_id(package)
        for statement in allows(role):
            removal = actions(statement) & (ROLE_REMOVAL | INSTANCE_PROFILE_REMOVAL)
            if not removal:
                continue
            # One kind of resource per statement, so each gets the tag key it supports.
            if removal <= ROLE_REMOVAL:
                assert actions(statement) <= ROLE_REMOVAL, package
                assert resource_texts(statement) == {XACCT_ROLES}, package
                assert statement["Condition"] == MANAGED_TAG_ON_ROLE, package
            else:
                assert actions(statement) <= INSTANCE_PROFILE_REMOVAL, package
                assert resource_texts(statement) == {XACCT_INSTANCE_PROFILES}, package
                assert statement["Condition"] == MANAGED_TAG_ON_INSTANCE_PROFILE, package
        # Revoking creates, updates, tags, attaches and passes nothing.
        verbs = ("iam:Create", "iam:Put", "iam:Update", "iam:Tag", "iam:Untag", "iam:Attach", "iam:Add", "iam:Pass")
        assert not {a for a in allowed_actions(role) if a.startswith(verbs)}, package


def test_every_role_deletion_is_conditioned_on_the_boundary():
    for role in resources_of_type("AWS::IAM::Role"):
        for statement in allows(role):
            if actions(statement) & {"iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"}:
                assert statement.get("Condition") in (
                    {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY_REF}},
                    MANAGED_TAG_ON_ROLE,
                ), role


def test_no_role_allows_get_caller_identity_which_needs_no_permission():
    # The STS API reference: no permissions are required, and an explicit deny does not stop it.
    for role in resources_of_type("AWS::IAM::Role"):
        assert not {a for a in allowed_actions(role) if a.lower().startswith("sts:")}, role


def test_readers_make_no_iam_write():
    for package in IAM_READERS:
        role = execution_role_logical_id(package)
        assert not {a for a in allowed_actions(role) if is_iam_write(a)}, package


# --------------------------------------------------------------------------------------
# Human requestors (AllowHumanRequestors, HumanPrincipalPath)


def test_human_requestor_parameters_are_off_by_default_and_validated():
    parameters = template()["Parameters"]
    allow = parameters["AllowHumanRequestors"]
    assert allow["Type"] == "String"
    assert allow["Default"] == "false"
    assert sorted(allow["AllowedValues"]) == ["false", "true"]
    path = parameters["HumanPrincipalPath"]
    assert path["Default"] == "/"
    pattern = re.compile(path["AllowedPattern"])
    for accepted in ("/", "/people/", "/team/analysts/", "/a.b_c-d@e=f,g+h/"):
        assert pattern.fullmatch(accepted), accepted
    for rejected in ("", "people/", "/people", "//", "/a//b/", "/*/", "/peo*ple/", "/?/", "/a b/", "/${x}/"):
        assert not pattern.fullmatch(rejected), rejected


def test_human_requestor_condition_is_true_only_on_the_requestor_side_when_allowed():
    for parameters in scenarios():
        expected = parameters["Side"] == "requestor" and parameters["AllowHumanRequestors"] == "true"
        assert evaluate({"Condition": HUMANS_CONDITION}, parameters) == expected, parameters


def test_people_are_reachable_only_by_the_requestor_functions_and_only_when_allowed():
    human_functions = {execution_role_logical_id(p) for p in HUMAN_FUNCTIONS}
    for role in resources_of_type("AWS::IAM::Role"):
        for condition, statement in gated_role_statements(role):
            people = {a for a in actions(statement) if re.match(r"iam:[A-Za-z]*(User|Group)", a)}
            texts = resource_texts(statement) | {resource_text(r) for r in as_list(statement.get("NotResource", []))}
            touches_people = any(re.search(r":(user|group)[/$]", text) for text in texts)
            if people or touches_people:
                assert statement["Effect"] == "Allow", role
                assert condition == HUMANS_CONDITION, f"{role}: people's actions outside the human-requestor switch"
                assert role in human_functions, role
                assert people <= HUMAN_ACTIONS, (role, people)
                for action in people:
                    expected = HUMAN_USERS if action in HUMAN_USER_ACTIONS else HUMAN_GROUPS
                    assert resource_texts(statement) == {expected}, (role, action)
    for parameters in scenarios():
        for role in resources_of_type("AWS::IAM::Role"):
            if deployed(role, parameters) and parameters["AllowHumanRequestors"] == "false":
                assert not allowed_actions(role, parameters) & HUMAN_ACTIONS, (role, parameters)


# --------------------------------------------------------------------------------------
# The permissions boundary


def boundary_statements() -> list[dict[str, Any]]:
    return statements(resources()[BOUNDARY]["Properties"]["PolicyDocument"])


def test_boundary_is_an_allow_list_not_an_allow_all():
    supported = ("s3:", "ec2:", "lambda:", "rds:", "rds-db:")
    for statement in boundary_statements():
        if statement["Effect"] != "Allow":
            continue
        assert "NotAction" not in statement and "NotResource" not in statement, statement.get("Sid")
        for action in actions(statement):
            assert "*" not in action, f"wildcard action {action} in the boundary"
            assert action.startswith(supported) or action == "sts:AssumeRole", action
            if action == "sts:AssumeRole":
                assert resource_texts(statement) == {"arn:${AWS::Partition}:iam::*:role/xacct/*"}
        # "*" only where no resource-level permission exists (EC2 Describe*).
        if "*" in resource_texts(statement):
            assert actions(statement) <= {"ec2:DescribeInstances", "ec2:DescribeInstanceStatus"}, statement["Sid"]


def test_boundary_denies_iam_organizations_account_and_sts_except_assume_role():
    deny_statements = [s for s in boundary_statements() if s["Effect"] == "Deny"]
    assert any(
        actions(s) >= {"iam:*", "organizations:*", "account:*"} and resource_texts(s) == {"*"} and "Condition" not in s
        for s in deny_statements
    )
    (outside,) = [s for s in deny_statements if "NotAction" in s]
    not_denied = set(as_list(outside["NotAction"]))
    assert "sts:AssumeRole" in not_denied
    assert resource_texts(outside) == {"*"} and "Condition" not in outside
    for exempt in not_denied:
        assert not exempt.startswith(("iam:", "organizations:", "account:")), exempt
        assert exempt == "sts:AssumeRole" or not exempt.startswith("sts:"), exempt


def test_iam_writers_create_roles_under_the_stack_boundary():
    # The function learns the boundary from its environment and the role policy demands
    # exactly that ARN, so a role created without it (or with another) is refused by IAM.
    for package in IAM_WRITERS:
        variables = function(package)["Properties"]["Environment"]["Variables"]
        demanded = {
            statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"]["Ref"]
            for statement in allows(execution_role_logical_id(package))
            if actions(statement) & IAM_ROLE_BOUNDED_WRITES
        }
        assert demanded == {variables["PERMISSIONS_BOUNDARY_ARN"]["Ref"]} == {BOUNDARY}, package


# --------------------------------------------------------------------------------------
# Nothing specific to one account, region or partition


def test_no_hard_coded_account_id_anywhere():
    for number, line in enumerate(TEMPLATE.read_text().splitlines(), start=1):
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", line), f"template.yaml:{number}: {line.strip()}"


def test_no_hard_coded_region_or_partition_in_resources_or_outputs():
    region = re.compile(
        r"\b(af|ap|ca|cn|eu|il|me|mx|sa|us)(-gov|-iso[a-z]?)?"
        r"-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d\b"
    )
    for line in TEMPLATE.read_text().splitlines():
        assert not region.search(line), line
    for section in ("Resources", "Outputs"):
        for node in walk(template()[section]):
            if isinstance(node, str):
                assert not re.search(r"arn:aws(-[a-z-]+)?:", node), f"{section}: partition written out in {node}"
                assert "amazonaws.com.cn" not in node, node


# --------------------------------------------------------------------------------------
# samconfig.toml


def test_samconfig_environments_repeat_what_a_deploy_needs():
    config = read_toml(SAMCONFIG)
    build = config["default"]["build"]["parameters"]
    assert build["parallel"] is True
    for side in ("owner", "requestor"):
        deploy = config[side]["deploy"]["parameters"]
        assert deploy["region"], side
        assert "CAPABILITY_IAM" in deploy["capabilities"].split(), side
        assert deploy["resolve_s3"] is True, side
        assert f"Side={side}" in deploy["parameter_overrides"].split(), side
        assert deploy["stack_name"] == config[side]["delete"]["parameters"]["stack_name"], side
        assert deploy["region"] == config[side]["delete"]["parameters"]["region"], side
    stack_names = {config[side]["deploy"]["parameters"]["stack_name"] for side in ("owner", "requestor")}
    assert len(stack_names) == 2, "each side needs a stack name of its own"


# --------------------------------------------------------------------------------------
# The linters, offline


def tool(name: str) -> str:
    """The tool from .venv-sam/ (pinned), else from .venv/ (moto brings cfn-lint), else from PATH."""
    for directory in (SAM_VENV_BIN, ROOT / ".venv" / "bin"):
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: run scripts/bootstrap-sam-venv to install it into .venv-sam/")
    return found


def offline_environment(home: Path) -> dict[str, str]:
    """No AWS credentials or profile, a fixed region, no telemetry, a throwaway home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAM_CLI_"))}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        SAM_CLI_TELEMETRY="0",
        HOME=str(home),
    )
    return env


def without_network(command: list[str]) -> list[str]:
    """Runs the command in a network namespace of its own where that is allowed, proving it needs no network."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *command]
    return command


def test_cfn_lint_reports_no_findings(tmp_path):
    result = subprocess.run(
        without_network([tool("cfn-lint"), "--", str(TEMPLATE)]),
        cwd=ROOT,
        env=offline_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_sam_validate_lint_passes_offline_without_credentials(tmp_path):
    result = subprocess.run(
        without_network([tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE)]),
        cwd=ROOT,
        env=offline_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
