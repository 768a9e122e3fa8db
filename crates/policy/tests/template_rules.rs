//! The security rules of xacct's SAM deployment (`template.yaml`, `samconfig.toml`), checked
//! on the template as written: who may invoke the Function URLs, what each side deploys,
//! how the functions are built, sized and logged, exactly which actions each execution role
//! allows on which resources, the permissions boundary, human requestors, and nothing tied
//! to one account, region or partition. Conditions are evaluated for every combination of
//! `Side`, the invoker slots and `AllowHumanRequestors`, so each rule holds for what a side
//! really deploys. `template_policies.rs` evaluates the same policies with xacct's own
//! evaluator; `make test-template` runs cfn-lint and `sam validate --lint` on the template.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod template;

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::{Value as Json, json};
use xacct_policy::catalog::{self, AccessLevel};
use xacct_policy::eval::glob;

use template::{
    INVOKER_SLOTS, Parameters, condition_holds, deployed, long_form, resource, resources,
    resources_of_type, scenarios, template, walk,
};

/// A function package, the side that deploys it, its sizing, whether it is called
/// through a Function URL (or only by its schedule), and whether only an organization's
/// hub deploys it.
struct Function {
    package: &'static str,
    side: &'static str,
    memory: u64,
    timeout: u64,
    url: bool,
    hub_only: bool,
}

impl Function {
    /// Whether a stack with these parameters deploys it.
    fn deployed_with(&self, parameters: &Parameters) -> bool {
        parameters.side() == self.side && (!self.hub_only || parameters.is_hub())
    }
}

const fn function_spec(
    package: &'static str,
    side: &'static str,
    memory: u64,
    timeout: u64,
) -> Function {
    Function {
        package,
        side,
        memory,
        timeout,
        url: true,
        hub_only: false,
    }
}

/// A function only an organization's hub deploys (`OrganizationId` set).
const fn hub_spec(package: &'static str, memory: u64, timeout: u64) -> Function {
    Function {
        hub_only: true,
        ..function_spec(package, "owner", memory, timeout)
    }
}

/// A function that only its EventBridge schedule invokes: no Function URL.
const fn scheduled_spec(
    package: &'static str,
    side: &'static str,
    memory: u64,
    timeout: u64,
) -> Function {
    Function {
        url: false,
        ..function_spec(package, side, memory, timeout)
    }
}

const FUNCTIONS: [Function; 12] = [
    function_spec("list-resources", "owner", 1769, 60),
    function_spec("list-permissions", "owner", 128, 10),
    function_spec("create-owner-role", "owner", 128, 30),
    function_spec("list-grants", "owner", 128, 30),
    function_spec("check-owner-role", "owner", 128, 30),
    function_spec("revoke-grant", "owner", 128, 30),
    hub_spec("list-accounts", 128, 30),
    function_spec("create-requestor-resources", "requestor", 128, 30),
    function_spec("check-requestor-role", "requestor", 128, 30),
    function_spec("revoke-requestor-resources", "requestor", 128, 30),
    scheduled_spec("expire-grants", "owner", 128, 300),
    scheduled_spec("expire-requestor-grants", "requestor", 128, 120),
];
/// The functions that create and update roles (under the boundary).
const IAM_WRITERS: [&str; 2] = ["create-owner-role", "create-requestor-resources"];
/// The functions that delete xacct's roles (and instance profiles, and people's policies).
const REVOKERS: [&str; 4] = [
    "revoke-grant",
    "revoke-requestor-resources",
    "expire-grants",
    "expire-requestor-grants",
];
/// The scheduled sweeps: the revokers that find expired grants themselves.
const SWEEPS: [&str; 2] = ["expire-grants", "expire-requestor-grants"];
/// The owner functions that work in member accounts through the spoke role (as
/// `template-member.yaml` carries their statements), and list-accounts, which assumes it to
/// tell reachable from not.
/// expire-grants sweeps each member too, with the spoke's list-grants and revoke-grant
/// statements (`member_template.rs` checks they cover it).
const HUB_FUNCTIONS: [&str; 7] = [
    "list-resources",
    "create-owner-role",
    "list-grants",
    "check-owner-role",
    "revoke-grant",
    "list-accounts",
    "expire-grants",
];
/// The hub functions that list the organization's accounts: discovery of `account_id=all`,
/// list-accounts, and the sweep.
const ORGANIZATION_LISTERS: [&str; 3] = ["list-resources", "list-accounts", "expire-grants"];
/// The functions that make no IAM write at all.
const IAM_READERS: [&str; 3] = ["list-grants", "check-owner-role", "check-requestor-role"];
/// The requestor functions that may act on people when `AllowHumanRequestors` is "true".
const HUMAN_FUNCTIONS: [&str; 4] = [
    "create-requestor-resources",
    "check-requestor-role",
    "revoke-requestor-resources",
    "expire-requestor-grants",
];
const BOUNDARY: &str = "PermissionsBoundaryPolicy";
const HUMANS_CONDITION: &str = "IsRequestorAndAllowsHumans";

const XACCT_ROLES: &str = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/xacct/*";
const XACCT_INSTANCE_PROFILES: &str =
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/xacct/*";
const MANAGED_POLICIES: [&str; 2] = [
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
    "arn:${AWS::Partition}:iam::aws:policy/*",
];
/// The one role the hub's functions may assume: the spoke of `template-member.yaml`, in
/// any account of the organization.
const SPOKE_ROLES: &str = "arn:${AWS::Partition}:iam::*:role/xacct-spoke/${SpokeRoleName}";
const HUMAN_USERS: &str = "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${HumanPrincipalPath}*";
const HUMAN_GROUPS: &str =
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:group${HumanPrincipalPath}*";
const ALL_BUCKETS: &str = "arn:${AWS::Partition}:s3:::*";
const FUNCTIONS_OF_THIS_ACCOUNT: &str =
    "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*";
const KEYS_OF_THIS_ACCOUNT: &str = "arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*";
const DATABASES_OF_THIS_ACCOUNT: [&str; 2] = [
    "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*",
    "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*",
];
const LOG_ACTIONS: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];
const IAM_ROLE_READS: [&str; 4] = [
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
];
const IAM_ROLE_BOUNDED_WRITES: [&str; 2] = ["iam:CreateRole", "iam:PutRolePolicy"];
const IAM_ROLE_UPDATES: [&str; 7] = [
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
];
const IAM_INSTANCE_PROFILE_ACTIONS: [&str; 6] = [
    "iam:CreateInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:TagInstanceProfile",
];
const BOUNDARY_PROTECTION: [&str; 2] = [
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
];
const ROLE_REMOVAL: [&str; 3] = [
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRole",
];
const INSTANCE_PROFILE_REMOVAL: [&str; 2] = [
    "iam:RemoveRoleFromInstanceProfile",
    "iam:DeleteInstanceProfile",
];
const HUMAN_USER_ACTIONS: [&str; 4] = [
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
];
const HUMAN_GROUP_ACTIONS: [&str; 4] = [
    "iam:GetGroup",
    "iam:GetGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:DeleteGroupPolicy",
];

type Set = BTreeSet<String>;

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> Set {
    items.into_iter().map(str::to_owned).collect()
}

fn human_actions() -> Set {
    set(HUMAN_USER_ACTIONS.into_iter().chain(HUMAN_GROUP_ACTIONS))
}

fn boundary_ref() -> Json {
    json!({ "Ref": BOUNDARY })
}

fn no_value() -> Json {
    json!({ "Ref": "AWS::NoValue" })
}

/// Revokes need both: the tag alone could be written on a role that is not xacct's (IAM
/// cannot tell TagRole from CreateRole's tags), the boundary cannot.
fn managed_tag_on_role() -> Json {
    json!({"StringEquals": {
        "iam:ResourceTag/xacct:managed": "true",
        "iam:PermissionsBoundary": boundary_ref(),
    }})
}

/// `iam:ResourceTag` exists for users and roles only; instance profiles have
/// `aws:ResourceTag`.
fn managed_tag_on_instance_profile() -> Json {
    json!({"StringEquals": {"aws:ResourceTag/xacct:managed": "true"}})
}

// ---------------------------------------------------------------------------------------
// Reading the template's functions, roles and statements

/// The function whose `CodeUri` is `functions/<package>` (found by package, not by name).
fn function_logical_id(package: &str) -> &'static str {
    let code_uri = format!("functions/{package}");
    let matches: Vec<&str> = resources_of_type("AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["CodeUri"] == code_uri.as_str())
        .map(|(id, _)| id)
        .collect();
    let [id] = matches.as_slice() else {
        panic!("expected one function with CodeUri {code_uri}, found {matches:?}");
    };
    id
}

fn function(package: &str) -> &'static Json {
    resource(function_logical_id(package))
}

fn execution_role_logical_id(package: &str) -> &'static str {
    let role = &function(package)["Properties"]["Role"];
    let Some([name, attribute]) = role["Fn::GetAtt"].as_array().map(Vec::as_slice) else {
        panic!("{package}: Role must be !GetAtt <role>.Arn, not {role}");
    };
    assert_eq!(attribute, "Arn", "{package}");
    let name = name.as_str().unwrap();
    assert_eq!(resource(name)["Type"], "AWS::IAM::Role", "{package}");
    resources().get_key_value(name).unwrap().0
}

fn log_group_logical_id(package: &str) -> &'static str {
    let log_group = &function(package)["Properties"]["LoggingConfig"]["LogGroup"];
    let map = log_group.as_object().unwrap();
    assert!(
        map.len() == 1 && map.contains_key("Ref"),
        "{package}: LogGroup must be !Ref"
    );
    map["Ref"].as_str().unwrap()
}

fn as_list(value: &Json) -> Vec<&Json> {
    match value {
        Json::Null => vec![],
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn statements(document: &Json) -> Vec<&Json> {
    as_list(&document["Statement"])
}

/// Every statement of the role's inline policies with the condition that switches it on:
/// `None` for a plain statement, the condition's name for `!If [Cond, statement, !Ref
/// AWS::NoValue]` (the only form of `Fn::If` a statement list may hold, see
/// `fn_if_only_adds_human_requestor_statements_and_novalue_drops_nothing_else`).
fn gated_role_statements(role: &str) -> Vec<(Option<&'static str>, &'static Json)> {
    let mut found = Vec::new();
    for entry in as_list(&resource(role)["Properties"]["Policies"]) {
        // A whole policy only some stacks have: the hub's `spoke` policy.
        let (policy_gate, policy) = match switched(role, entry) {
            Some((condition, policy)) => (Some(condition), policy),
            None => (None, entry),
        };
        for entry in statements(&policy["PolicyDocument"]) {
            match switched(role, entry) {
                Some((condition, statement)) => found.push((Some(condition), statement)),
                None => found.push((policy_gate, entry)),
            }
        }
    }
    found
}

/// `!If [Cond, value, !Ref AWS::NoValue]`: the condition and the value it adds; `None`
/// for anything else.
fn switched<'a>(role: &str, entry: &'a Json) -> Option<(&'a str, &'a Json)> {
    let map = entry
        .as_object()
        .filter(|m| m.len() == 1 && m.contains_key("Fn::If"))?;
    let [condition, when_true, when_false] = map["Fn::If"].as_array().unwrap().as_slice() else {
        panic!("{role}: Fn::If takes three arguments");
    };
    assert_eq!(
        *when_false,
        no_value(),
        "{role}: Fn::If must add or drop a statement or policy"
    );
    Some((condition.as_str().unwrap(), when_true))
}

/// The role's statements: with parameters, those deployed with them; without, every
/// statement any deployment could have (the widest case, which the rules must hold for).
fn role_statements(role: &str, parameters: Option<&Parameters>) -> Vec<&'static Json> {
    gated_role_statements(role)
        .into_iter()
        .filter(|(condition, _)| match (condition, parameters) {
            (Some(condition), Some(parameters)) => condition_holds(condition, parameters),
            _ => true,
        })
        .map(|(_, statement)| statement)
        .collect()
}

/// The role's Allow statements, but the assume of the spoke role and the rest of the hub's
/// `spoke` policy (the listing of the organization's accounts): what the function does in
/// its own account. `only_the_hubs_owner_functions_assume_...` and
/// `only_the_functions_that_span_the_organization_list_its_accounts` check the rest.
fn allows(role: &str, parameters: Option<&Parameters>) -> Vec<&'static Json> {
    gated_role_statements(role)
        .into_iter()
        .filter(|(condition, _)| match (condition, parameters) {
            (Some(condition), Some(parameters)) => condition_holds(condition, parameters),
            _ => true,
        })
        .filter(|(condition, s)| {
            s["Effect"] == "Allow" && *condition != Some("IsHub") && !is_spoke_assume(s)
        })
        .map(|(_, statement)| statement)
        .collect()
}

fn denies(role: &str) -> Vec<&'static Json> {
    role_statements(role, None)
        .into_iter()
        .filter(|s| s["Effect"] == "Deny")
        .collect()
}

fn actions(statement: &Json) -> Set {
    as_list(&statement["Action"])
        .into_iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn allowed_actions(role: &str, parameters: Option<&Parameters>) -> Set {
    allows(role, parameters)
        .into_iter()
        .flat_map(actions)
        .collect()
}

/// A statement's resource as comparable text: literal, `!Sub` template, or a reference.
fn resource_text(value: &Json) -> String {
    if let Some(text) = value.as_str() {
        return text.to_owned();
    }
    if let Some(sub) = value.get("Fn::Sub") {
        return sub.as_str().or_else(|| sub[0].as_str()).unwrap().to_owned();
    }
    if let Some(parts) = value.get("Fn::GetAtt").and_then(Json::as_array) {
        let parts: Vec<&str> = parts.iter().map(|p| p.as_str().unwrap()).collect();
        return format!("GetAtt:{}", parts.join("."));
    }
    if let Some(name) = value.get("Ref").and_then(Json::as_str) {
        return format!("Ref:{name}");
    }
    panic!("unexpected resource form {value}");
}

fn resource_texts(statement: &Json) -> Set {
    as_list(&statement["Resource"])
        .into_iter()
        .map(resource_text)
        .collect()
}

fn has_key(statement: &Json, key: &str) -> bool {
    statement.get(key).is_some()
}

/// Whether an action pattern can match an IAM action that is not a read: one the catalog
/// gives an access level other than List or Read, or one it does not know (so a misspelt
/// action never passes for a read).
fn is_iam_write(pattern: &str) -> bool {
    let service = pattern.split_once(':').map_or(pattern, |(s, _)| s);
    if !glob(service, "iam", true) {
        return false;
    }
    let mut matched = catalog::service("iam")
        .unwrap()
        .actions()
        .filter(|a| glob(pattern, &a.full_name(), true))
        .peekable();
    matched.peek().is_none()
        || matched.any(|a| !matches!(a.access_level(), AccessLevel::List | AccessLevel::Read))
}

fn assert_actions_scoped(role_package: &str, statement: &Json, action: &str, expected: &Set) {
    assert_eq!(
        &resource_texts(statement),
        expected,
        "{role_package}: resources of {action}"
    );
}

/// The role allows exactly these actions (besides its logs), each on exactly these resources.
fn assert_exact_allows(package: &str, expected: &[(&str, Set)], parameters: Option<&Parameters>) {
    let role = execution_role_logical_id(package);
    let logs = set(LOG_ACTIONS);
    let wanted: Set = expected.iter().map(|(a, _)| (*a).to_owned()).collect();
    let allowed: Set = allowed_actions(role, parameters)
        .difference(&logs)
        .cloned()
        .collect();
    assert_eq!(allowed, wanted, "{package} with {parameters:?}");
    for statement in allows(role, parameters) {
        for action in actions(statement).difference(&logs) {
            let (_, resources) = expected.iter().find(|(a, _)| a == action).unwrap();
            assert_actions_scoped(package, statement, action, resources);
        }
    }
}

fn scoped<'a>(actions: impl IntoIterator<Item = &'a str>, resources: &Set) -> Vec<(&'a str, Set)> {
    actions
        .into_iter()
        .map(|a| (a, resources.clone()))
        .collect()
}

fn requestor_scenarios() -> impl Iterator<Item = Parameters> {
    scenarios().into_iter().filter(|p| p.side() == "requestor")
}

// ---------------------------------------------------------------------------------------
// Reading: CloudFormation's short tags

#[test]
fn cloudformation_short_tags_are_read_in_their_long_form() {
    let yaml = r#"
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
"#;
    assert_eq!(
        long_form(&serde_yaml::from_str(yaml).unwrap()),
        json!({
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
        })
    );
}

// ---------------------------------------------------------------------------------------
// Function URLs and who may invoke them

#[test]
fn every_function_url_uses_aws_iam() {
    let functions = resources_of_type("AWS::Serverless::Function");
    let ids: BTreeSet<&str> = functions.keys().copied().collect();
    let expected: BTreeSet<&str> = FUNCTIONS
        .iter()
        .map(|f| function_logical_id(f.package))
        .collect();
    assert_eq!(ids, expected);
    for spec in &FUNCTIONS {
        let properties = &function(spec.package)["Properties"];
        if spec.url {
            assert_eq!(
                properties["FunctionUrlConfig"]["AuthType"], "AWS_IAM",
                "{}",
                spec.package
            );
        } else {
            // Reachable only through its schedule.
            assert!(
                !has_key(properties, "FunctionUrlConfig"),
                "{}",
                spec.package
            );
        }
    }
    for (id, url) in resources_of_type("AWS::Lambda::Url") {
        assert_eq!(url["Properties"]["AuthType"], "AWS_IAM", "{id}");
    }
    // Wherever an auth type is named at all (URL configs, permissions), it is AWS_IAM.
    for node in walk(template()) {
        for key in ["AuthType", "FunctionUrlAuthType"] {
            if let Some(value) = node.get(key) {
                assert_eq!(value, "AWS_IAM", "{key}");
            }
        }
    }
}

#[test]
fn every_function_has_an_invoke_permission_pair_for_every_invoker() {
    let permissions = resources_of_type("AWS::Lambda::Permission");
    for parameters in scenarios() {
        let mut deployed_pairs = BTreeSet::new();
        for (id, permission) in &permissions {
            if !deployed(id, &parameters) {
                continue;
            }
            let properties = &permission["Properties"];
            let target = properties["FunctionName"]["Ref"].as_str().unwrap();
            assert!(
                deployed(target, &parameters),
                "{id} is deployed without its function {target}"
            );
            deployed_pairs.insert((
                target.to_owned(),
                properties["Principal"]["Ref"].as_str().unwrap().to_owned(),
                properties["Action"].as_str().unwrap().to_owned(),
            ));
        }
        let mut expected = BTreeSet::new();
        for function in FUNCTIONS
            .iter()
            .filter(|f| f.url && f.deployed_with(&parameters))
        {
            for slot in parameters.filled_slots() {
                for action in ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"] {
                    expected.insert((
                        function_logical_id(function.package).to_owned(),
                        slot.to_owned(),
                        action.to_owned(),
                    ));
                }
            }
        }
        assert_eq!(deployed_pairs, expected, "{parameters:?}");
    }
}

#[test]
fn invoke_permissions_are_limited_to_iam_authorized_url_calls() {
    let permissions = resources_of_type("AWS::Lambda::Permission");
    assert!(!permissions.is_empty());
    let functions = resources_of_type("AWS::Serverless::Function");
    let invokers: Vec<Json> = INVOKER_SLOTS
        .iter()
        .map(|slot| json!({ "Ref": slot }))
        .collect();
    for (id, permission) in permissions {
        let properties = &permission["Properties"];
        let function_name = properties["FunctionName"].as_object().unwrap();
        assert!(
            function_name.len() == 1 && function_name.contains_key("Ref"),
            "{id}"
        );
        let target = function_name["Ref"].as_str().unwrap();
        assert!(functions.contains_key(target), "{id}: {target}");
        // Only an invoker parameter, never "*", an account or a service.
        assert!(invokers.contains(&properties["Principal"]), "{id}");
        for key in [
            "PrincipalOrgID",
            "SourceAccount",
            "SourceArn",
            "EventSourceToken",
        ] {
            assert!(!has_key(properties, key), "{id}: {key}");
        }
        if properties["Action"] == "lambda:InvokeFunctionUrl" {
            assert_eq!(properties["FunctionUrlAuthType"], "AWS_IAM", "{id}");
        } else {
            assert_eq!(properties["Action"], "lambda:InvokeFunction", "{id}");
            assert_eq!(properties["InvokedViaFunctionUrl"], true, "{id}");
        }
    }
}

/// The parameter's `AllowedPattern`, matching whole values as CloudFormation does.
fn allowed_pattern(parameter: &str) -> Regex {
    let pattern = template()["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .unwrap();
    Regex::new(&format!("^(?:{pattern})$")).unwrap()
}

/// The parameter's `AllowedPattern` accepts every value of `accepted` and none of `rejected`.
fn assert_pattern(parameter: &str, accepted: &[&str], rejected: &[&str]) {
    let pattern = allowed_pattern(parameter);
    for value in accepted {
        assert!(pattern.is_match(value), "{parameter} refuses {value}");
    }
    for value in rejected {
        assert!(!pattern.is_match(value), "{parameter} accepts {value}");
    }
}

#[test]
fn invoker_parameters_accept_only_iam_principal_arns() {
    let parameters = &template()["Parameters"];
    assert!(
        !has_key(&parameters["AllowedInvokerArn1"], "Default"),
        "the first invoker must be given explicitly"
    );
    for slot in INVOKER_SLOTS {
        assert_pattern(
            slot,
            &[
                "arn:aws:iam::000000000000:role/xacct-cli",
                "arn:aws:iam::000000000000:role/team/path/ci-deployer",
                "arn:aws-us-gov:iam::000000000000:user/alice",
                "arn:aws:iam::000000000000:root",
            ],
            &[
                "*",
                "000000000000",
                "arn:aws:iam::000000000000:*",
                "arn:aws:sts::000000000000:assumed-role/r/session",
                "arn:aws:iam::000000000000:role/a,arn:aws:iam::000000000000:role/b",
                "lambda.amazonaws.com",
                "arn:aws:iam::*:role/x",
            ],
        );
    }
    for slot in &INVOKER_SLOTS[1..] {
        assert_eq!(parameters[slot]["Default"], "", "{slot}");
        assert!(allowed_pattern(slot).is_match(""), "{slot}");
    }
}

#[test]
fn outputs_give_every_function_url_on_its_side() {
    let outputs = template()["Outputs"].as_object().unwrap();
    for function in FUNCTIONS.iter().filter(|f| f.url) {
        let url = format!("{}Url", function_logical_id(function.package));
        let value = json!({ "Fn::GetAtt": [url, "FunctionUrl"] });
        let matching: Vec<&Json> = outputs.values().filter(|o| o["Value"] == value).collect();
        let [output] = matching.as_slice() else {
            panic!("{}: {} outputs", function.package, matching.len());
        };
        let condition = output["Condition"].as_str().unwrap();
        for parameters in scenarios() {
            assert_eq!(
                condition_holds(condition, &parameters),
                function.deployed_with(&parameters),
                "{} {parameters:?}",
                function.package
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sides

#[test]
fn every_function_is_deployed_only_on_its_side() {
    for function in &FUNCTIONS {
        for parameters in scenarios() {
            assert_eq!(
                deployed(function_logical_id(function.package), &parameters),
                function.deployed_with(&parameters),
                "{} {parameters:?}",
                function.package
            );
        }
    }
}

#[test]
fn every_function_role_and_log_group_is_deployed_with_its_function() {
    for function in &FUNCTIONS {
        let package = function.package;
        for dependent in [
            execution_role_logical_id(package),
            log_group_logical_id(package),
        ] {
            for parameters in scenarios() {
                assert_eq!(
                    deployed(dependent, &parameters),
                    deployed(function_logical_id(package), &parameters),
                    "{dependent} {parameters:?}"
                );
            }
        }
    }
}

#[test]
fn permissions_boundary_is_created_on_both_sides() {
    assert_eq!(resource(BOUNDARY)["Type"], "AWS::IAM::ManagedPolicy");
    assert!(scenarios().iter().all(|p| deployed(BOUNDARY, p)));
}

// ---------------------------------------------------------------------------------------
// Functions: build, runtime, sizing, environment, logs

#[test]
fn every_function_is_a_rust_cargolambda_build_of_its_own_package() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for function in &FUNCTIONS {
        let package = function.package;
        let resource = self::function(package);
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{package}"
        );
        // In a workspace, the binary name tells SAM which target/lambda/<bin>/bootstrap is
        // this one.
        assert_eq!(
            resource["Metadata"]["BuildProperties"]["Binary"], package,
            "{package}"
        );
        let properties = &resource["Properties"];
        assert_eq!(properties["Handler"], "bootstrap", "{package}");
        assert_eq!(properties["Runtime"], "provided.al2023", "{package}");
        assert_eq!(properties["Architectures"], json!(["x86_64"]), "{package}");
        let path = root.join("functions").join(package).join("Cargo.toml");
        let manifest: Json = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let binaries: Vec<&Json> = match manifest["bin"].as_array() {
            Some(bins) if !bins.is_empty() => bins.iter().map(|b| &b["name"]).collect(),
            _ => vec![&manifest["package"]["name"]],
        };
        assert!(
            binaries.iter().any(|b| *b == package),
            "functions/{package}/Cargo.toml builds no binary named {package}"
        );
    }
}

#[test]
fn function_memory_and_timeout_match_the_sizing_table() {
    for function in &FUNCTIONS {
        let properties = &self::function(function.package)["Properties"];
        assert_eq!(
            (&properties["MemorySize"], &properties["Timeout"]),
            (&json!(function.memory), &json!(function.timeout)),
            "{}",
            function.package
        );
    }
}

#[test]
fn every_function_gets_the_boundary_arn_its_side_and_log_level() {
    for function in &FUNCTIONS {
        let package = function.package;
        let variables = &self::function(package)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            variables["PERMISSIONS_BOUNDARY_ARN"],
            boundary_ref(),
            "{package}"
        );
        assert_eq!(variables["XACCT_SIDE"], function.side, "{package}");
        assert_eq!(variables["RUST_LOG"], "info", "{package}");
    }
}

#[test]
fn every_function_logs_json_to_its_own_log_group_with_retention() {
    assert_eq!(template()["Parameters"]["LogRetentionDays"]["Default"], 30);
    let mut log_groups = BTreeSet::new();
    for function in &FUNCTIONS {
        let package = function.package;
        let logging = &self::function(package)["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{package}");
        assert_eq!(logging["ApplicationLogLevel"], "INFO", "{package}");
        let group_id = log_group_logical_id(package);
        let log_group = resource(group_id);
        assert_eq!(log_group["Type"], "AWS::Logs::LogGroup", "{package}");
        assert_eq!(
            log_group["Properties"]["RetentionInDays"],
            json!({"Ref": "LogRetentionDays"}),
            "{package}"
        );
        log_groups.insert(group_id);
        // The role writes logs to this group and nowhere else.
        for statement in allows(execution_role_logical_id(package), None) {
            if actions(statement).iter().any(|a| a.starts_with("logs:")) {
                assert_eq!(actions(statement), set(LOG_ACTIONS), "{package}");
                assert_eq!(
                    resource_texts(statement),
                    set([format!("GetAtt:{group_id}.Arn").as_str()]),
                    "{package}"
                );
            }
        }
    }
    assert_eq!(
        log_groups.len(),
        FUNCTIONS.len(),
        "each function needs a log group of its own"
    );
}

// ---------------------------------------------------------------------------------------
// Execution roles

#[test]
fn execution_roles_are_plain_roles_only_lambda_can_assume() {
    for function in &FUNCTIONS {
        let package = function.package;
        let role = &resource(execution_role_logical_id(package))["Properties"];
        // Not under /xacct/: the IAM-writing functions must not be able to change their own
        // role. A hub's are under /xacct-hub/, which `role/xacct/*` does not match.
        let path = role["Path"]
            .as_str()
            .or_else(|| role["Path"]["Fn::If"][1].as_str())
            .unwrap_or("/");
        assert!(path == "/" || path == "/xacct-hub/", "{package}: {path}");
        assert!(
            !has_key(role, "ManagedPolicyArns"),
            "{package}: write the policy out, no managed policies"
        );
        assert!(
            !has_key(role, "PermissionsBoundary") || role["PermissionsBoundary"] == boundary_ref(),
            "{package}"
        );
        let trust = statements(&role["AssumeRolePolicyDocument"]);
        assert_eq!(
            trust,
            [&json!({
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            })],
            "{package}"
        );
    }
    // Each function has a role of its own.
    let roles: BTreeSet<&str> = FUNCTIONS
        .iter()
        .map(|f| execution_role_logical_id(f.package))
        .collect();
    assert_eq!(roles.len(), FUNCTIONS.len());
}

#[test]
fn no_execution_role_allows_an_iam_write_action_on_every_resource() {
    let people = set([HUMAN_USERS, HUMAN_GROUPS]);
    let xacct = set([XACCT_ROLES, XACCT_INSTANCE_PROFILES]);
    for role in resources_of_type("AWS::IAM::Role").into_keys() {
        for (condition, statement) in gated_role_statements(role) {
            if statement["Effect"] != "Allow" {
                continue;
            }
            assert!(
                !has_key(statement, "NotAction"),
                "{role}: Allow with NotAction"
            );
            let actions = actions(statement);
            assert!(!actions.contains("*"), "{role}: Allow of every action");
            for action in &actions {
                let service = action.split_once(':').map_or(action.as_str(), |(s, _)| s);
                // No iam:*, iam:Get*, *:* ...: every IAM action is named.
                assert!(
                    !(action.contains('*') && glob(service, "iam", true)),
                    "{role}: wildcard {action}"
                );
            }
            let writes: Set = actions.into_iter().filter(|a| is_iam_write(a)).collect();
            if writes.is_empty() {
                continue;
            }
            let resources = resource_texts(statement);
            assert!(!has_key(statement, "NotResource"), "{role}: {writes:?}");
            assert!(!resources.contains("*"), "{role}: {writes:?}");
            match condition {
                None => assert!(resources.is_subset(&xacct), "{role}: {writes:?}"),
                Some(condition) => {
                    // Writes on people exist only behind the human-requestor switch.
                    assert_eq!(condition, HUMANS_CONDITION, "{role}");
                    assert!(writes.is_subset(&human_actions()), "{role}: {writes:?}");
                    assert!(resources.is_subset(&people), "{role}: {writes:?}");
                }
            }
        }
    }
}

#[test]
fn iam_actions_on_every_resource_are_only_those_without_resource_level_permissions() {
    // iam:GetAccountAuthorizationDetails supports no resource ARN; every other IAM action
    // names its resources.
    let unscoped = "iam:GetAccountAuthorizationDetails";
    let roles = resources_of_type("AWS::IAM::Role");
    for role in roles.keys() {
        for statement in allows(role, None) {
            let iam: Set = actions(statement)
                .into_iter()
                .filter(|a| a.starts_with("iam:"))
                .collect();
            if !iam.is_empty() && resource_texts(statement).contains("*") {
                assert_eq!(iam, set([unscoped]), "{role}");
            }
        }
    }
    let readers: BTreeSet<&str> = roles
        .into_keys()
        .filter(|role| allowed_actions(role, None).contains(unscoped))
        .collect();
    let expected: BTreeSet<&str> = ["list-grants"]
        .into_iter()
        .chain(SWEEPS)
        .map(execution_role_logical_id)
        .collect();
    assert_eq!(readers, expected);
}

#[test]
fn create_role_and_put_role_policy_require_the_stack_boundary() {
    let bounded = set(IAM_ROLE_BOUNDED_WRITES);
    let with_boundary = json!({"StringEquals": {"iam:PermissionsBoundary": boundary_ref()}});
    let without_boundary = json!({"StringNotEquals": {"iam:PermissionsBoundary": boundary_ref()}});
    for role in resources_of_type("AWS::IAM::Role").into_keys() {
        for statement in allows(role, None) {
            if !actions(statement).is_disjoint(&bounded) {
                assert_eq!(statement["Condition"], with_boundary, "{role}");
                assert_eq!(resource_texts(statement), set([XACCT_ROLES]), "{role}");
            }
        }
    }
    for package in IAM_WRITERS {
        let role = execution_role_logical_id(package);
        assert!(bounded.is_subset(&allowed_actions(role, None)), "{package}");
        // And explicitly denied without it, whatever else is attached to the role later.
        assert!(
            denies(role).iter().any(|s| actions(s).is_superset(&bounded)
                && resource_texts(s) == set(["*"])
                && s["Condition"] == without_boundary),
            "{package}"
        );
    }
}

#[test]
fn iam_writers_may_not_remove_or_replace_a_boundary() {
    let protection = set(BOUNDARY_PROTECTION);
    for package in IAM_WRITERS {
        let role = execution_role_logical_id(package);
        assert!(
            denies(role)
                .iter()
                .any(|s| actions(s).is_superset(&protection)
                    && resource_texts(s) == set(["*"])
                    && !has_key(s, "Condition")),
            "{package}"
        );
        assert!(
            allowed_actions(role, None).is_disjoint(&protection),
            "{package}"
        );
    }
}

#[test]
fn iam_writers_may_not_pass_roles_except_xacct_roles_to_instance_profiles() {
    let pass_role = set(["iam:PassRole"]);
    let owner = execution_role_logical_id("create-owner-role");
    assert!(
        denies(owner)
            .iter()
            .any(|s| actions(s) == pass_role && resource_texts(s) == set(["*"]))
    );
    assert!(!allowed_actions(owner, None).contains("iam:PassRole"));

    // iam:AddRoleToInstanceProfile requires iam:PassRole on the role being added.
    let requestor = execution_role_logical_id("create-requestor-resources");
    let passing: Vec<&Json> = allows(requestor, None)
        .into_iter()
        .filter(|s| actions(s).contains("iam:PassRole"))
        .collect();
    let [passing] = passing.as_slice() else {
        panic!("one statement allows iam:PassRole, not {}", passing.len());
    };
    assert_eq!(actions(passing), pass_role);
    assert_eq!(resource_texts(passing), set([XACCT_ROLES]));
    assert_eq!(
        passing["Condition"],
        json!({"StringEqualsIfExists": {"iam:PassedToService": "ec2.amazonaws.com"}})
    );
    assert!(
        denies(requestor).iter().any(|s| actions(s) == pass_role
            && has_key(s, "NotResource")
            && resource_text(&s["NotResource"]) == XACCT_ROLES),
        "passing any role outside /xacct/ must be denied"
    );
}

/// The hub's statement: `sts:AssumeRole` on the spoke role only, in the organization only.
fn is_spoke_assume(statement: &Json) -> bool {
    statement["Effect"] == "Allow"
        && actions(statement) == set(["sts:AssumeRole"])
        && resource_texts(statement) == set([SPOKE_ROLES])
        && statement["Condition"]
            == json!({"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}})
}

/// The hub's listing of its organization's accounts, which supports no resource ARN.
fn is_org_listing(statement: &Json) -> bool {
    statement["Effect"] == "Allow"
        && actions(statement) == set(["organizations:ListAccounts"])
        && statement["Resource"] == "*"
        && statement.get("Condition").is_none()
}

/// `!If [IsHub, <a policy of the spoke assume and, maybe, the organization's listing>, !Ref
/// AWS::NoValue]`.
fn is_hub_policy_switch(role: &str, entry: &Json) -> bool {
    switched(role, entry).is_some_and(|(condition, policy)| {
        let statements = statements(&policy["PolicyDocument"]);
        condition == "IsHub"
            && policy["PolicyName"] == "spoke"
            && statements.iter().any(|s| is_spoke_assume(s))
            && statements
                .iter()
                .all(|s| is_spoke_assume(s) || is_org_listing(s))
    })
}

/// `!If [IsRequestorAndAllowsHumans, <Allow of people's actions on people>, !Ref
/// AWS::NoValue]`.
fn is_human_switch(node: &Json) -> bool {
    let Some(map) = node.as_object().filter(|m| m.len() == 1) else {
        return false;
    };
    let Some([condition, statement, otherwise]) = map
        .get("Fn::If")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
    else {
        return false;
    };
    let Some(keys) = statement
        .as_object()
        .map(|s| set(s.keys().map(String::as_str)))
    else {
        return false;
    };
    let actions = actions(statement);
    let resources = resource_texts(statement);
    *condition == HUMANS_CONDITION
        && *otherwise == no_value()
        && statement["Effect"] == "Allow"
        && keys.is_subset(&set(["Sid", "Effect", "Action", "Resource"]))
        && !actions.is_empty()
        && actions.is_subset(&human_actions())
        && !resources.is_empty()
        && resources.is_subset(&set([HUMAN_USERS, HUMAN_GROUPS]))
}

/// Neither `Fn::If` (which can switch a rule off) nor `AWS::NoValue` (which drops a
/// property) anywhere in `value`.
fn assert_unconditional(value: &Json, context: &str) {
    for node in walk(value) {
        assert!(
            !has_key(node, "Fn::If"),
            "{context}: Fn::If can switch a rule off"
        );
        assert!(
            *node != no_value(),
            "{context}: AWS::NoValue drops a property"
        );
    }
}

#[test]
fn fn_if_only_adds_human_requestor_statements_and_novalue_drops_nothing_else() {
    // Fn::If can switch a rule off, and AWS::NoValue drops a property. The one use allowed:
    // a whole statement of a requestor role's policy that only the human-requestor switch
    // adds (an Allow on people's actions under HumanPrincipalPath); nothing else in the
    // template may depend on a parameter that way.
    // The hub's switches: an owner function role's path (`/xacct-hub/`, which the spoke's
    // trust names) and its `spoke` policy, which only an organization's hub has.
    let mut switches = 0;
    let mut hub_switches = 0;
    let hub_path = json!({"Fn::If": ["IsHub", "/xacct-hub/", no_value()]});
    for (id, resource) in resources() {
        let properties = resource["Properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut others = properties.clone();
        if resource["Type"] == "AWS::IAM::Role" {
            others.remove("Policies");
            if properties.get("Path") == Some(&hub_path) {
                assert_eq!(resource["Condition"], "IsOwner", "{id}");
                others.remove("Path");
            }
            for policy in as_list(&resource["Properties"]["Policies"]) {
                if is_hub_policy_switch(id, policy) {
                    hub_switches += 1;
                    assert_eq!(resource["Condition"], "IsOwner", "{id}");
                    continue;
                }
                let statement_list = policy["PolicyDocument"]["Statement"].as_array();
                for entry in
                    statement_list.unwrap_or_else(|| panic!("{id}: Statement must be a list"))
                {
                    if is_human_switch(entry) {
                        switches += 1;
                        assert_eq!(resource["Condition"], "IsRequestor", "{id}");
                    } else {
                        assert_unconditional(entry, id);
                    }
                }
                let mut rest = policy.as_object().unwrap().clone();
                rest.remove("PolicyDocument");
                assert_unconditional(&Json::Object(rest), id);
            }
        }
        assert_unconditional(
            &json!({"Condition": resource["Condition"], "Properties": others}),
            id,
        );
    }
    // Two per human function: users and groups.
    assert_eq!(switches, 2 * HUMAN_FUNCTIONS.len());
    // One per owner function that works in member accounts (list-accounts' whole role is
    // the hub's, so its policy needs no switch).
    assert_eq!(
        hub_switches,
        HUB_FUNCTIONS
            .iter()
            .filter(|f| **f != "list-accounts")
            .count()
    );
    for section in ["Outputs", "Conditions", "Parameters"] {
        assert!(
            walk(&template()[section])
                .iter()
                .all(|node| !has_key(node, "Fn::If")),
            "{section}"
        );
    }
}

#[test]
fn list_resources_role_allows_exactly_the_discovery_actions() {
    let everything = set(["*"]);
    let databases = set(DATABASES_OF_THIS_ACCOUNT);
    let mut expected = scoped(
        [
            "ec2:DescribeRegions",
            "ec2:DescribeInstances",
            "s3:ListAllMyBuckets",
            "lambda:ListFunctions",
            "tag:GetResources",
        ],
        &everything,
    );
    expected.push(("s3:GetBucketLocation", set([ALL_BUCKETS])));
    expected.extend(scoped(
        [
            "rds:DescribeDBInstances",
            "rds:DescribeDBClusters",
            "rds:ListTagsForResource",
        ],
        &databases,
    ));
    assert_exact_allows("list-resources", &expected, None);
}

#[test]
fn list_permissions_role_can_only_write_its_logs() {
    assert_eq!(
        allowed_actions(execution_role_logical_id("list-permissions"), None),
        set(LOG_ACTIONS)
    );
}

#[test]
fn create_owner_role_role_allows_exactly_role_writes_and_existence_checks() {
    let roles = set([XACCT_ROLES]);
    let mut expected = scoped(
        IAM_ROLE_READS
            .into_iter()
            .chain(IAM_ROLE_BOUNDED_WRITES)
            .chain(IAM_ROLE_UPDATES),
        &roles,
    );
    expected.extend([
        ("s3:ListBucket", set([ALL_BUCKETS])),
        ("ec2:DescribeInstances", set(["*"])),
        // Regions are checked before any call to them; it has no resource-level permission.
        ("ec2:DescribeRegions", set(["*"])),
        // Not lambda:GetFunction: it returns the function's environment variables.
        ("lambda:ListTags", set([FUNCTIONS_OF_THIS_ACCOUNT])),
        ("rds:DescribeDBInstances", set(DATABASES_OF_THIS_ACCOUNT)),
        ("rds:DescribeDBClusters", set(DATABASES_OF_THIS_ACCOUNT)),
    ]);
    expected.extend(resource_side_reads());
    assert_exact_allows("create-owner-role", &expected, None);
}

/// What the owner functions read of the granted resource's own side: the bucket's region,
/// encryption key and policy, the key's policy, the function's policy. Reads only, of this
/// account only.
fn resource_side_reads() -> Vec<(&'static str, Set)> {
    let mut reads = scoped(
        [
            "s3:GetBucketLocation",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketPolicy",
        ],
        &set([ALL_BUCKETS]),
    );
    reads.extend(scoped(
        ["kms:DescribeKey", "kms:GetKeyPolicy"],
        &set([KEYS_OF_THIS_ACCOUNT]),
    ));
    reads.push(("lambda:GetPolicy", set([FUNCTIONS_OF_THIS_ACCOUNT])));
    reads
}

#[test]
fn resource_side_bucket_reads_are_limited_to_this_accounts_buckets() {
    for package in ["create-owner-role", "check-owner-role"] {
        let role = execution_role_logical_id(package);
        let reads: Vec<&Json> = allows(role, None)
            .into_iter()
            .filter(|st| actions(st).contains("s3:GetBucketPolicy"))
            .collect();
        assert_eq!(reads.len(), 1, "{package}");
        let condition = &reads[0]["Condition"]["StringEquals"]["s3:ResourceAccount"];
        assert_eq!(condition["Ref"], "AWS::AccountId", "{package}");
    }
}

#[test]
fn create_requestor_resources_role_allows_exactly_role_and_instance_profile_writes() {
    let roles = set([XACCT_ROLES]);
    let mut services_only = scoped(
        IAM_ROLE_READS
            .into_iter()
            .chain(IAM_ROLE_BOUNDED_WRITES)
            .chain(IAM_ROLE_UPDATES)
            .chain(["iam:PassRole"]),
        &roles,
    );
    services_only.extend(scoped(
        IAM_INSTANCE_PROFILE_ACTIONS,
        &set([XACCT_INSTANCE_PROFILES]),
    ));
    // People's policies are read and written, never deleted, by the create function.
    let people: Vec<(&str, Set)> = scoped(
        HUMAN_USER_ACTIONS
            .into_iter()
            .filter(|a| *a != "iam:DeleteUserPolicy"),
        &set([HUMAN_USERS]),
    )
    .into_iter()
    .chain(scoped(
        HUMAN_GROUP_ACTIONS
            .into_iter()
            .filter(|a| *a != "iam:DeleteGroupPolicy"),
        &set([HUMAN_GROUPS]),
    ))
    .collect();
    for parameters in requestor_scenarios() {
        let mut expected = services_only.clone();
        if parameters.allows_humans() {
            expected.extend(people.iter().cloned());
        }
        assert_exact_allows("create-requestor-resources", &expected, Some(&parameters));
    }
}

/// What the check functions read: a role under /xacct/ and every policy that decides what it
/// may do.
fn check_reads() -> Vec<(&'static str, Set)> {
    let mut reads = scoped(
        [
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
        ],
        &set([XACCT_ROLES]),
    );
    reads.extend(scoped(
        ["iam:GetPolicy", "iam:GetPolicyVersion"],
        &set(MANAGED_POLICIES),
    ));
    reads
}

#[test]
fn list_grants_role_allows_exactly_the_authorization_details_read() {
    // One paged chain instead of a GetRole and a GetRolePolicy per role (no N+1).
    assert_exact_allows(
        "list-grants",
        &[("iam:GetAccountAuthorizationDetails", set(["*"]))],
        None,
    );
}

#[test]
fn check_owner_role_role_allows_exactly_reading_xacct_roles_managed_policies_and_the_resource_side()
{
    let mut expected = check_reads();
    expected.extend(resource_side_reads());
    expected.extend([
        ("rds:DescribeDBInstances", set(DATABASES_OF_THIS_ACCOUNT)),
        ("rds:DescribeDBClusters", set(DATABASES_OF_THIS_ACCOUNT)),
    ]);
    assert_exact_allows("check-owner-role", &expected, None);
}

#[test]
fn check_requestor_role_role_reads_people_only_when_human_requestors_are_allowed() {
    let mut people = scoped(["iam:GetUser", "iam:GetUserPolicy"], &set([HUMAN_USERS]));
    people.extend(scoped(
        ["iam:GetGroup", "iam:GetGroupPolicy"],
        &set([HUMAN_GROUPS]),
    ));
    for parameters in requestor_scenarios() {
        let mut expected = check_reads();
        if parameters.allows_humans() {
            expected.extend(people.iter().cloned());
        }
        assert_exact_allows("check-requestor-role", &expected, Some(&parameters));
    }
}

/// What revoking a role needs: reading it, and deleting it with its policies, attachments
/// and instance profile.
fn role_revocation() -> Vec<(&'static str, Set)> {
    let roles = set([XACCT_ROLES]);
    let profiles = set([XACCT_INSTANCE_PROFILES]);
    let mut expected = scoped(
        [
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
        ]
        .into_iter()
        .chain(ROLE_REMOVAL),
        &roles,
    );
    expected.extend(scoped(
        ["iam:GetInstanceProfile"]
            .into_iter()
            .chain(INSTANCE_PROFILE_REMOVAL),
        &profiles,
    ));
    expected
}

/// What removing a person's xacct policy needs, behind the human-requestor switch: reading
/// it again and deleting it, on users and groups under HumanPrincipalPath.
fn person_policy_removal() -> Vec<(&'static str, Set)> {
    let mut people = scoped(
        ["iam:GetUserPolicy", "iam:DeleteUserPolicy"],
        &set([HUMAN_USERS]),
    );
    people.extend(scoped(
        ["iam:GetGroupPolicy", "iam:DeleteGroupPolicy"],
        &set([HUMAN_GROUPS]),
    ));
    people
}

#[test]
fn revoke_roles_allow_exactly_reading_and_deleting_xacct_managed_roles() {
    let expected = role_revocation();
    assert_exact_allows("revoke-grant", &expected, None);
    for parameters in requestor_scenarios() {
        let mut wanted = expected.clone();
        if parameters.allows_humans() {
            wanted.extend(person_policy_removal());
        }
        assert_exact_allows("revoke-requestor-resources", &wanted, Some(&parameters));
    }
}

#[test]
fn sweeps_allow_exactly_listing_and_what_revoking_a_role_or_a_persons_policy_needs() {
    // The sweep finds expired grants in one paged listing, then removes each as the
    // revoke functions do; only the requestor side's, and only when human requestors are
    // allowed, touches a person's policy.
    let mut expected = role_revocation();
    expected.push(("iam:GetAccountAuthorizationDetails", set(["*"])));
    for package in SWEEPS {
        for parameters in scenarios() {
            if deployed(function_logical_id(package), &parameters) {
                let mut wanted = expected.clone();
                if package == "expire-requestor-grants" && parameters.allows_humans() {
                    wanted.extend(person_policy_removal());
                }
                assert_exact_allows(package, &wanted, Some(&parameters));
            }
        }
    }
}

/// The one schedule that invokes `package`: its logical ID and resource.
fn schedule_of(package: &str) -> (&'static str, &'static Json) {
    let function = function_logical_id(package);
    let arn = json!({"Fn::GetAtt": [function, "Arn"]});
    let schedules: Vec<(&str, &Json)> = resources_of_type("AWS::Scheduler::Schedule")
        .into_iter()
        .filter(|(_, s)| s["Properties"]["Target"]["Arn"] == arn)
        .collect();
    let [schedule] = schedules.as_slice() else {
        panic!("{package}: {} schedules", schedules.len());
    };
    *schedule
}

#[test]
fn every_sweep_runs_on_a_schedule_at_the_configured_rate_and_nothing_else_invokes_it() {
    let schedules = resources_of_type("AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), SWEEPS.len());
    for package in SWEEPS {
        let function = function_logical_id(package);
        let (id, schedule) = schedule_of(package);
        for parameters in scenarios() {
            assert_eq!(
                deployed(id, &parameters),
                deployed(function, &parameters),
                "{id} {parameters:?}"
            );
        }
        let properties = &schedule["Properties"];
        assert_eq!(
            properties["ScheduleExpression"],
            json!({"Fn::Sub": "rate(${ExpireGrantsRate})"}),
            "{package}"
        );
        assert_eq!(properties["State"], "ENABLED", "{package}");
        // The schedule's ARN is what the sweep logs as its caller.
        let input: Json =
            serde_json::from_str(properties["Target"]["Input"].as_str().unwrap()).unwrap();
        assert_eq!(
            input,
            json!({"schedule_arn": "<aws.scheduler.schedule-arn>"}),
            "{package}"
        );
        // Its role: only EventBridge Scheduler of this account may assume it, and it may
        // only invoke this function.
        let role_ref = &properties["Target"]["RoleArn"]["Fn::GetAtt"];
        assert_eq!(role_ref[1], "Arn", "{package}");
        let role = role_ref[0].as_str().unwrap();
        let trust = statements(&resource(role)["Properties"]["AssumeRolePolicyDocument"]);
        assert_eq!(
            trust,
            [&json!({
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            })],
            "{package}"
        );
        let allowed = allows(role, None);
        let [invoke] = allowed.as_slice() else {
            panic!("{role}: {} statements", allowed.len());
        };
        assert_eq!(actions(invoke), set(["lambda:InvokeFunction"]), "{role}");
        assert_eq!(
            resource_texts(invoke),
            set([format!("GetAtt:{function}.Arn").as_str()]),
            "{role}"
        );
        assert!(denies(role).is_empty(), "{role}");
        // How many grants a run removes comes from the stack.
        assert_eq!(
            self::function(package)["Properties"]["Environment"]["Variables"]["XACCT_SWEEP_LIMIT"],
            json!({"Ref": "ExpireGrantsPerRun"}),
            "{package}"
        );
    }
    // No other role of the stack may invoke a function directly.
    for role in resources_of_type("AWS::IAM::Role").into_keys() {
        let invokes = allowed_actions(role, None).contains("lambda:InvokeFunction");
        let scheduler = SWEEPS
            .iter()
            .any(|p| schedule_of(p).1["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0] == role);
        assert!(!invokes || scheduler, "{role}");
    }
}

#[test]
fn the_sweep_rate_is_hourly_by_default_and_only_a_scheduler_rate() {
    let parameters = &template()["Parameters"];
    assert_eq!(parameters["ExpireGrantsRate"]["Default"], "1 hour");
    assert_eq!(parameters["ExpireGrantsPerRun"]["Default"], 25);
    assert_pattern(
        "ExpireGrantsRate",
        &[
            "1 hour",
            "15 minutes",
            "1 minute",
            "2 hours",
            "1 day",
            "7 days",
        ],
        &[
            "",
            "0 hours",
            "1 week",
            "hour",
            "1 hour)",
            "1 hour) or cron(0 0 * * ? *",
            "cron(0 * * * ? *)",
            "01 hour",
        ],
    );
}

#[test]
fn revokers_delete_only_roles_and_instance_profiles_tagged_as_xacct_managed() {
    let role_removal = set(ROLE_REMOVAL);
    let profile_removal = set(INSTANCE_PROFILE_REMOVAL);
    let removal: Set = role_removal.union(&profile_removal).cloned().collect();
    for package in REVOKERS {
        let role = execution_role_logical_id(package);
        for statement in allows(role, None) {
            let actions = actions(statement);
            let removed: Set = actions.intersection(&removal).cloned().collect();
            if removed.is_empty() {
                continue;
            }
            // One kind of resource per statement, so each gets the tag key it supports.
            if removed.is_subset(&role_removal) {
                assert!(actions.is_subset(&role_removal), "{package}");
                assert_eq!(resource_texts(statement), set([XACCT_ROLES]), "{package}");
                assert_eq!(statement["Condition"], managed_tag_on_role(), "{package}");
            } else {
                assert!(actions.is_subset(&profile_removal), "{package}");
                assert_eq!(
                    resource_texts(statement),
                    set([XACCT_INSTANCE_PROFILES]),
                    "{package}"
                );
                assert_eq!(
                    statement["Condition"],
                    managed_tag_on_instance_profile(),
                    "{package}"
                );
            }
        }
        // Revoking creates, updates, tags, attaches and passes nothing.
        let verbs = [
            "iam:Create",
            "iam:Put",
            "iam:Update",
            "iam:Tag",
            "iam:Untag",
            "iam:Attach",
            "iam:Add",
            "iam:Pass",
        ];
        let writes: Vec<String> = allowed_actions(role, None)
            .into_iter()
            .filter(|a| verbs.iter().any(|v| a.starts_with(v)))
            .collect();
        assert!(writes.is_empty(), "{package}: {writes:?}");
    }
}

#[test]
fn every_role_deletion_is_conditioned_on_the_boundary() {
    let deletions = set([
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
    ]);
    let with_boundary = json!({"StringEquals": {"iam:PermissionsBoundary": boundary_ref()}});
    for role in resources_of_type("AWS::IAM::Role").into_keys() {
        for statement in allows(role, None) {
            if !actions(statement).is_disjoint(&deletions) {
                let condition = &statement["Condition"];
                assert!(
                    *condition == with_boundary || *condition == managed_tag_on_role(),
                    "{role}: {condition}"
                );
            }
        }
    }
}

#[test]
fn no_role_allows_get_caller_identity_which_needs_no_permission() {
    // The STS API reference: no permissions are required, and an explicit deny does not
    // stop it. The one STS permission any role has is the hub's assume of the spoke.
    for role in resources_of_type("AWS::IAM::Role").into_keys() {
        let sts: Vec<&Json> = allows(role, None)
            .into_iter()
            .filter(|st| {
                actions(st)
                    .iter()
                    .any(|a| a.to_lowercase().starts_with("sts:"))
            })
            .collect();
        assert!(sts.is_empty(), "{role}: {sts:?}");
    }
}

#[test]
fn only_the_hubs_owner_functions_assume_and_only_the_spoke_inside_the_organization() {
    for (id, _) in resources_of_type("AWS::IAM::Role") {
        let assumes: Vec<(Option<&str>, &Json)> = gated_role_statements(id)
            .into_iter()
            .filter(|(_, st)| actions(st).contains("sts:AssumeRole"))
            .collect();
        let hub_function = HUB_FUNCTIONS
            .iter()
            .any(|f| execution_role_logical_id(f) == id);
        if !hub_function {
            assert!(assumes.is_empty(), "{id}: {assumes:?}");
            continue;
        }
        assert_eq!(assumes.len(), 1, "{id}");
        let (gate, statement) = assumes[0];
        assert!(is_spoke_assume(statement), "{id}: {statement}");
        // list-accounts exists only in a hub; the others assume only when they are one.
        let whole_role_is_hub = resource(id)["Condition"] == "IsHub";
        assert!(whole_role_is_hub || gate == Some("IsHub"), "{id}");
        for parameters in scenarios() {
            let path = &resource(id)["Properties"]["Path"];
            if parameters.is_hub() && deployed(id, &parameters) {
                assert!(
                    path == "/xacct-hub/" || path["Fn::If"][1] == "/xacct-hub/",
                    "{id}: the spoke trusts only role/xacct-hub/*"
                );
            }
        }
    }
}

#[test]
fn only_the_functions_that_span_the_organization_list_its_accounts() {
    for (id, _) in resources_of_type("AWS::IAM::Role") {
        let listings: Vec<(Option<&str>, &Json)> = gated_role_statements(id)
            .into_iter()
            .filter(|(_, st)| {
                actions(st)
                    .iter()
                    .any(|a| a.to_lowercase().starts_with("organizations:"))
            })
            .collect();
        let lister = ORGANIZATION_LISTERS
            .iter()
            .any(|f| execution_role_logical_id(f) == id);
        if !lister {
            assert!(listings.is_empty(), "{id}: {listings:?}");
            continue;
        }
        assert_eq!(listings.len(), 1, "{id}");
        let (gate, statement) = listings[0];
        assert!(is_org_listing(statement), "{id}: {statement}");
        // Only in a hub: list-accounts' whole role, or the others' `spoke` policy.
        assert!(
            resource(id)["Condition"] == "IsHub" || gate == Some("IsHub"),
            "{id}"
        );
    }
}

#[test]
fn readers_make_no_iam_write() {
    for package in IAM_READERS {
        let writes: Vec<String> = allowed_actions(execution_role_logical_id(package), None)
            .into_iter()
            .filter(|a| is_iam_write(a))
            .collect();
        assert!(writes.is_empty(), "{package}: {writes:?}");
    }
}

#[test]
fn an_iam_write_is_any_iam_action_but_a_read_or_a_listing() {
    for write in [
        "iam:PassRole",
        "iam:TagRole",
        "iam:PutUserPolicy",
        "iam:*",
        "*",
        "iam:NoSuchAction",
    ] {
        assert!(is_iam_write(write), "{write}");
    }
    for read in [
        "iam:GetRole",
        "iam:ListInstanceProfilesForRole",
        "iam:GetAccountAuthorizationDetails",
        "s3:PutObject",
    ] {
        assert!(!is_iam_write(read), "{read}");
    }
}

// ---------------------------------------------------------------------------------------
// Human requestors (AllowHumanRequestors, HumanPrincipalPath)

#[test]
fn human_requestor_parameters_are_off_by_default_and_validated() {
    let parameters = &template()["Parameters"];
    let allow = &parameters["AllowHumanRequestors"];
    assert_eq!(allow["Type"], "String");
    assert_eq!(allow["Default"], "false");
    let values: Set = allow["AllowedValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(values, set(["false", "true"]));
    let path = &parameters["HumanPrincipalPath"];
    assert_eq!(path["Default"], "/");
    assert_pattern(
        "HumanPrincipalPath",
        &["/", "/people/", "/team/analysts/", "/a.b_c-d@e=f,g+h/"],
        &[
            "",
            "people/",
            "/people",
            "//",
            "/a//b/",
            "/*/",
            "/peo*ple/",
            "/?/",
            "/a b/",
            "/${x}/",
        ],
    );
}

#[test]
fn human_requestor_condition_is_true_only_on_the_requestor_side_when_allowed() {
    for parameters in scenarios() {
        assert_eq!(
            condition_holds(HUMANS_CONDITION, &parameters),
            parameters.side() == "requestor" && parameters.allows_humans(),
            "{parameters:?}"
        );
    }
}

#[test]
fn people_are_reachable_only_by_the_requestor_functions_and_only_when_allowed() {
    let human_roles: BTreeSet<&str> = HUMAN_FUNCTIONS
        .into_iter()
        .map(execution_role_logical_id)
        .collect();
    let people_action = Regex::new("^iam:[A-Za-z]*(User|Group)").unwrap();
    let people_resource = Regex::new(":(user|group)[/$]").unwrap();
    let roles = resources_of_type("AWS::IAM::Role");
    for role in roles.keys() {
        for (condition, statement) in gated_role_statements(role) {
            let people: Set = actions(statement)
                .into_iter()
                .filter(|a| people_action.is_match(a))
                .collect();
            let texts = as_list(&statement["Resource"])
                .into_iter()
                .chain(as_list(&statement["NotResource"]))
                .map(resource_text);
            let touches_people = texts.into_iter().any(|t| people_resource.is_match(&t));
            if people.is_empty() && !touches_people {
                continue;
            }
            assert_eq!(statement["Effect"], "Allow", "{role}");
            assert_eq!(
                condition,
                Some(HUMANS_CONDITION),
                "{role}: people's actions outside the human-requestor switch"
            );
            assert!(human_roles.contains(role), "{role}");
            assert!(people.is_subset(&human_actions()), "{role}: {people:?}");
            for action in &people {
                let expected = if HUMAN_USER_ACTIONS.contains(&action.as_str()) {
                    HUMAN_USERS
                } else {
                    HUMAN_GROUPS
                };
                assert_eq!(
                    resource_texts(statement),
                    set([expected]),
                    "{role}: {action}"
                );
            }
        }
    }
    for parameters in scenarios().iter().filter(|p| !p.allows_humans()) {
        for role in roles.keys().filter(|role| deployed(role, parameters)) {
            assert!(
                allowed_actions(role, Some(parameters)).is_disjoint(&human_actions()),
                "{role} {parameters:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The permissions boundary

fn boundary_statements() -> Vec<&'static Json> {
    statements(&resource(BOUNDARY)["Properties"]["PolicyDocument"])
}

#[test]
fn boundary_is_an_allow_list_not_an_allow_all() {
    let supported = ["s3:", "ec2:", "lambda:", "rds:", "rds-db:"];
    let describe = set(["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"]);
    for statement in boundary_statements() {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let sid = &statement["Sid"];
        assert!(
            !has_key(statement, "NotAction") && !has_key(statement, "NotResource"),
            "{sid}"
        );
        for action in actions(statement) {
            assert!(
                !action.contains('*'),
                "wildcard action {action} in the boundary"
            );
            assert!(
                supported.iter().any(|s| action.starts_with(s)) || action == "sts:AssumeRole",
                "{action}"
            );
            if action == "sts:AssumeRole" {
                assert_eq!(
                    resource_texts(statement),
                    set(["arn:${AWS::Partition}:iam::*:role/xacct/*"])
                );
            }
        }
        // "*" only where no resource-level permission exists (EC2 Describe*).
        if resource_texts(statement).contains("*") {
            assert!(actions(statement).is_subset(&describe), "{sid}");
        }
    }
}

#[test]
fn boundary_denies_iam_organizations_account_and_sts_except_assume_role() {
    let deny_statements: Vec<&Json> = boundary_statements()
        .into_iter()
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    let administration = set(["iam:*", "organizations:*", "account:*"]);
    assert!(deny_statements.iter().any(|s| {
        actions(s).is_superset(&administration)
            && resource_texts(s) == set(["*"])
            && !has_key(s, "Condition")
    }));
    let outside: Vec<&&Json> = deny_statements
        .iter()
        .filter(|s| has_key(s, "NotAction"))
        .collect();
    let [outside] = outside.as_slice() else {
        panic!("one Deny with NotAction, not {}", outside.len());
    };
    let not_denied: Vec<&str> = as_list(&outside["NotAction"])
        .into_iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(not_denied.contains(&"sts:AssumeRole"));
    assert_eq!(resource_texts(outside), set(["*"]));
    assert!(!has_key(outside, "Condition"));
    for exempt in not_denied {
        assert!(
            !["iam:", "organizations:", "account:"]
                .iter()
                .any(|p| exempt.starts_with(p)),
            "{exempt}"
        );
        assert!(
            exempt == "sts:AssumeRole" || !exempt.starts_with("sts:"),
            "{exempt}"
        );
    }
}

#[test]
fn iam_writers_create_roles_under_the_stack_boundary() {
    // The function learns the boundary from its environment and the role policy demands
    // exactly that ARN, so a role created without it (or with another) is refused by IAM.
    let bounded = set(IAM_ROLE_BOUNDED_WRITES);
    for package in IAM_WRITERS {
        let variables = &function(package)["Properties"]["Environment"]["Variables"];
        let demanded: BTreeSet<&str> = allows(execution_role_logical_id(package), None)
            .into_iter()
            .filter(|s| !actions(s).is_disjoint(&bounded))
            .map(|s| {
                s["Condition"]["StringEquals"]["iam:PermissionsBoundary"]["Ref"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        let given = variables["PERMISSIONS_BOUNDARY_ARN"]["Ref"].as_str();
        assert_eq!(demanded, BTreeSet::from([BOUNDARY]), "{package}");
        assert_eq!(given, Some(BOUNDARY), "{package}");
    }
}

// ---------------------------------------------------------------------------------------
// Nothing specific to one account, region or partition

#[test]
fn no_hard_coded_account_id_anywhere() {
    let account = Regex::new("(^|[^0-9])[0-9]{12}([^0-9]|$)").unwrap();
    for (number, line) in template::TEXT.lines().enumerate() {
        assert!(
            !account.is_match(line),
            "template.yaml:{}: {}",
            number + 1,
            line.trim()
        );
    }
}

#[test]
fn no_hard_coded_region_or_partition_in_resources_or_outputs() {
    let region = Regex::new(
        r"\b(af|ap|ca|cn|eu|il|me|mx|sa|us)(-gov|-iso[a-z]?)?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d\b",
    )
    .unwrap();
    for line in template::TEXT.lines() {
        assert!(!region.is_match(line), "{line}");
    }
    let partition = Regex::new("arn:aws(-[a-z-]+)?:").unwrap();
    for section in ["Resources", "Outputs"] {
        for text in walk(&template()[section])
            .into_iter()
            .filter_map(Json::as_str)
        {
            assert!(
                !partition.is_match(text),
                "{section}: partition written out in {text}"
            );
            assert!(!text.contains("amazonaws.com.cn"), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// samconfig.toml

#[test]
fn samconfig_environments_repeat_what_a_deploy_needs() {
    let config: Json = toml::from_str(include_str!("../../../samconfig.toml")).unwrap();
    assert_eq!(config["default"]["build"]["parameters"]["parallel"], true);
    let mut stack_names = BTreeSet::new();
    for side in ["owner", "requestor"] {
        let deploy = &config[side]["deploy"]["parameters"];
        let delete = &config[side]["delete"]["parameters"];
        let region = deploy["region"].as_str().unwrap_or_default();
        assert!(!region.is_empty(), "{side}");
        let words = |key: &str| -> Vec<String> {
            deploy[key]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        assert!(
            words("capabilities").contains(&"CAPABILITY_IAM".to_owned()),
            "{side}"
        );
        assert_eq!(deploy["resolve_s3"], true, "{side}");
        assert!(
            words("parameter_overrides").contains(&format!("Side={side}")),
            "{side}"
        );
        assert_eq!(deploy["stack_name"], delete["stack_name"], "{side}");
        assert_eq!(deploy["region"], delete["region"], "{side}");
        stack_names.insert(deploy["stack_name"].as_str().unwrap());
    }
    assert_eq!(
        stack_names.len(),
        2,
        "each side needs a stack name of its own"
    );
}
