//! `template-member.yaml`, the spoke a StackSet deploys to each member account: its role
//! does exactly what the hub's owner functions do in their own account, with this
//! account's boundary; only the hub's owner functions, inside the organization, may assume
//! it; and it cannot change itself or its stack. Checked on the template's text and with
//! xacct's own evaluator. Intrinsics are resolved for member `333333333333`, hub
//! `111111111111`, organization `o-exampleorg1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod template;

use serde_json::Value as Json;
use xacct_policy::PolicyDocument;
use xacct_policy::eval::{
    Context, Decision, Labeled, PolicySet, Request, RequestPrincipal, evaluate,
};

use template::{member_template, resource};

const MEMBER: &str = "333333333333";
const HUB: &str = "111111111111";
const ORG: &str = "o-exampleorg1";
const SPOKE_ROLE: &str = "arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke";
const SPOKE_BOUNDARY: &str = "arn:aws:iam::333333333333:policy/xacct-spoke/xacct-boundary";
const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:333333333333:stack/StackSet-xacct-spoke-1a2b/0a1b";

/// The owner functions whose statements the spoke carries, by the execution role of each
/// in `template.yaml`.
const OWNER_FUNCTIONS: [(&str, &str); 5] = [
    ("list-resources", "ListResourcesRole"),
    ("create-owner-role", "CreateOwnerRoleRole"),
    ("list-grants", "ListGrantsRole"),
    ("check-owner-role", "CheckOwnerRoleRole"),
    ("revoke-grant", "RevokeGrantRole"),
];

fn member_resource(logical_id: &str) -> &'static Json {
    member_template()["Resources"]
        .get(logical_id)
        .unwrap_or_else(|| panic!("no resource {logical_id} in template-member.yaml"))
}

/// The role's inline policies, name and document, in the template's order. A policy
/// switched by `Fn::If` is left out: in template.yaml that is the hub-only `spoke` policy,
/// how the hub reaches a member, not what it does there.
fn policies_of(role: &Json) -> Vec<(String, Json)> {
    role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("Fn::If").is_none())
        .map(|p| {
            (
                p["PolicyName"].as_str().unwrap().to_owned(),
                p["PolicyDocument"].clone(),
            )
        })
        .collect()
}

/// Replaces every `{"Ref": from}` in `value` by `{"Ref": to}`.
fn rename_ref(value: &Json, from: &str, to: &str) -> Json {
    match value {
        Json::Object(map) if map.len() == 1 && map.get("Ref") == Some(&Json::from(from)) => {
            serde_json::json!({ "Ref": to })
        }
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), rename_ref(v, from, to)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(|v| rename_ref(v, from, to)).collect()),
        other => other.clone(),
    }
}

fn sub(text: &str) -> String {
    text.replace("${AWS::Partition}", "aws")
        .replace("${AWS::AccountId}", MEMBER)
        .replace("${HubAccountId}", HUB)
        .replace("${SpokeRoleName}", "xacct-spoke")
}

/// The member template's intrinsics resolved to plain JSON.
fn resolve(value: &Json) -> Json {
    match value {
        Json::Array(items) => Json::Array(items.iter().map(resolve).collect()),
        Json::Object(map) if map.len() == 1 => {
            let (function, argument) = map.iter().next().unwrap();
            match (function.as_str(), argument) {
                ("Fn::Sub", Json::String(s)) => Json::String(sub(s)),
                ("Ref", Json::String(name)) => Json::String(
                    match name.as_str() {
                        "AWS::AccountId" => MEMBER,
                        "AWS::StackId" => STACK_ID,
                        "OrganizationId" => ORG,
                        "SpokeBoundaryPolicy" => SPOKE_BOUNDARY,
                        other => panic!("unexpected Ref {other} in a policy"),
                    }
                    .to_owned(),
                ),
                (function, _) if function.starts_with("Fn::") => {
                    panic!("unexpected intrinsic {function} in a policy")
                }
                _ => Json::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect()),
            }
        }
        Json::Object(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect())
        }
        other => other.clone(),
    }
}

fn document(value: &Json) -> PolicyDocument {
    serde_json::from_value(resolve(value)).expect("a policy document")
}

fn spoke_policies() -> Vec<PolicyDocument> {
    policies_of(member_resource("SpokeRole"))
        .iter()
        .map(|(_, doc)| document(doc))
        .collect()
}

/// What the spoke role may do, as a session the hub holds.
fn as_spoke(action: &str, resource: &str, context: Context) -> Decision {
    let policies = spoke_policies();
    let set = PolicySet {
        identity: policies
            .iter()
            .map(|document| Labeled {
                label: "spoke",
                document,
            })
            .collect(),
        ..PolicySet::default()
    };
    let principal = RequestPrincipal::Aws(
        format!("arn:aws:sts::{MEMBER}:assumed-role/xacct-spoke/hub")
            .parse()
            .unwrap(),
    );
    evaluate(
        &set,
        &Request::new(principal, action, resource).with_context(context),
    )
    .decision
}

/// Whether `principal` (a role ARN) of an organization may assume the spoke role, its own
/// policies allowing `sts:AssumeRole` on everything.
fn may_assume(principal_role: &str, org: &str) -> Decision {
    let trust = document(&member_resource("SpokeRole")["Properties"]["AssumeRolePolicyDocument"]);
    let allow: PolicyDocument = serde_json::from_str(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
    )
    .unwrap();
    let (account, name) = principal_role
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .unwrap();
    let set = PolicySet {
        identity: vec![Labeled {
            label: "caller",
            document: &allow,
        }],
        resource: Some(Labeled {
            label: "trust",
            document: &trust,
        }),
        resource_account: Some(MEMBER.to_owned()),
        ..PolicySet::default()
    };
    let leaf = name.rsplit('/').next().unwrap();
    let principal = RequestPrincipal::Aws(
        format!("arn:aws:sts::{account}:assumed-role/{leaf}/caller")
            .parse()
            .unwrap(),
    );
    let context = Context::new()
        .with("aws:PrincipalArn", principal_role)
        .with("aws:PrincipalAccount", account)
        .with("aws:PrincipalOrgID", org);
    evaluate(
        &set,
        &Request::new(principal, "sts:AssumeRole", SPOKE_ROLE).with_context(context),
    )
    .decision
}

#[test]
fn spoke_carries_exactly_the_owner_functions_statements_with_this_accounts_boundary() {
    let spoke = policies_of(member_resource("SpokeRole"));
    let mut expected_names: Vec<&str> = OWNER_FUNCTIONS.iter().map(|(f, _)| *f).collect();
    expected_names.push("spoke");
    expected_names.sort_unstable();
    let mut names: Vec<&str> = spoke.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, expected_names);
    for (function, role) in OWNER_FUNCTIONS {
        let statements: Vec<Json> = policies_of(resource(role))
            .iter()
            .filter(|(name, _)| *name != "logs")
            .flat_map(|(_, doc)| doc["Statement"].as_array().unwrap().clone())
            .map(|st| rename_ref(&st, "PermissionsBoundaryPolicy", "SpokeBoundaryPolicy"))
            .collect();
        let (_, policy) = spoke.iter().find(|(name, _)| name == function).unwrap();
        assert_eq!(
            policy["Statement"].as_array().unwrap(),
            &statements,
            "the spoke's `{function}` policy differs from {role}'s statements in template.yaml"
        );
    }
}

#[test]
fn list_permissions_needs_nothing_in_a_member_account() {
    // It reads the bundled catalog only, so the spoke carries nothing for it.
    let policies = policies_of(resource("ListPermissionsRole"));
    let names: Vec<&str> = policies.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["logs"]);
}

#[test]
fn spoke_boundary_is_the_hub_boundary_under_the_spoke_path() {
    let hub = &resource("PermissionsBoundaryPolicy")["Properties"];
    let spoke = &member_resource("SpokeBoundaryPolicy")["Properties"];
    assert_eq!(spoke["PolicyDocument"], hub["PolicyDocument"]);
    assert_eq!(spoke["ManagedPolicyName"], "xacct-boundary");
    assert_eq!(spoke["Path"], "/xacct-spoke/");
    let role = &member_resource("SpokeRole")["Properties"];
    assert_eq!(role["Path"], "/xacct-spoke/");
    assert_eq!(
        role["RoleName"],
        serde_json::json!({"Ref": "SpokeRoleName"})
    );
}

#[test]
fn spoke_inline_policies_fit_iams_size_limit() {
    // IAM counts a role's inline policies together, without whitespace: 10,240 characters.
    let total: usize = spoke_policies()
        .iter()
        .map(|doc| serde_json::to_string(doc).unwrap().len())
        .sum();
    assert!(total < 10_240, "{total} characters");
}

#[test]
fn only_the_hubs_owner_functions_inside_the_organization_may_assume_the_spoke() {
    let hub_function = "arn:aws:iam::111111111111:role/xacct-hub/xacct-CreateOwnerRoleRole-1";
    assert_eq!(may_assume(hub_function, ORG), Decision::Allow);
    // The same role once its account has left the organization.
    assert_ne!(may_assume(hub_function, "o-otherorgxyz"), Decision::Allow);
    // Another role of the hub account, outside /xacct-hub/.
    assert_ne!(
        may_assume("arn:aws:iam::111111111111:role/admin", ORG),
        Decision::Allow
    );
    // A /xacct-hub/ role of another account of the same organization.
    assert_ne!(
        may_assume("arn:aws:iam::444444444444:role/xacct-hub/impostor", ORG),
        Decision::Allow
    );
}

#[test]
fn spoke_cannot_change_its_role_its_boundary_or_its_stack() {
    for action in [
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:PutRolePermissionsBoundary",
    ] {
        assert_eq!(
            as_spoke(action, SPOKE_ROLE, Context::new()),
            Decision::ExplicitDeny,
            "{action} on the spoke role"
        );
    }
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
    ] {
        assert_eq!(
            as_spoke(action, SPOKE_BOUNDARY, Context::new()),
            Decision::ExplicitDeny,
            "{action} on the boundary"
        );
    }
    for action in ["cloudformation:DeleteStack", "cloudformation:UpdateStack"] {
        assert_eq!(
            as_spoke(action, STACK_ID, Context::new()),
            Decision::ExplicitDeny,
            "{action} on the spoke's stack"
        );
    }
    // A role under /xacct-spoke/ cannot be created either, boundary or not.
    let boundary = Context::new().with("iam:PermissionsBoundary", SPOKE_BOUNDARY);
    assert_ne!(
        as_spoke(
            "iam:CreateRole",
            "arn:aws:iam::333333333333:role/xacct-spoke/other",
            boundary
        ),
        Decision::Allow
    );
}

#[test]
fn spoke_may_read_itself_and_create_only_bounded_roles_under_xacct() {
    assert_eq!(
        as_spoke("iam:GetRole", SPOKE_ROLE, Context::new()),
        Decision::Allow
    );
    let grant = "arn:aws:iam::333333333333:role/xacct/grant";
    let boundary = Context::new().with("iam:PermissionsBoundary", SPOKE_BOUNDARY);
    assert_eq!(as_spoke("iam:CreateRole", grant, boundary), Decision::Allow);
    let hub_boundary = Context::new().with(
        "iam:PermissionsBoundary",
        "arn:aws:iam::111111111111:policy/xacct/xacct-PermissionsBoundaryPolicy-1",
    );
    assert_eq!(
        as_spoke("iam:CreateRole", grant, hub_boundary),
        Decision::ExplicitDeny
    );
    assert_eq!(
        as_spoke("iam:CreateRole", grant, Context::new()),
        Decision::ExplicitDeny
    );
}

#[test]
fn spoke_allows_everything_the_expiry_sweep_does_in_its_own_account() {
    // In a hub, expire-grants sweeps every member through the spoke, which carries no policy
    // of its own for it: list-grants' and revoke-grant's statements must cover each action
    // the sweep may take at home, on the same resources, under the same conditions.
    let sweep = policies_of(resource("ExpireGrantsRole"));
    let mut checked = 0;
    for (name, doc) in sweep.iter().filter(|(name, _)| name != "logs") {
        for statement in doc["Statement"].as_array().unwrap() {
            let statement = resolve(&rename_ref(
                statement,
                "PermissionsBoundaryPolicy",
                "SpokeBoundaryPolicy",
            ));
            assert_eq!(statement["Effect"], "Allow", "{name}: {statement}");
            let mut context = Context::new();
            for (_, keys) in statement["Condition"].as_object().into_iter().flatten() {
                for (key, value) in keys.as_object().unwrap() {
                    context = context.with(key, value.as_str().unwrap());
                }
            }
            let resources: Vec<&Json> = match &statement["Resource"] {
                Json::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            let actions: Vec<&Json> = match &statement["Action"] {
                Json::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            for action in actions {
                for arn in &resources {
                    // A concrete resource the statement covers: `role/xacct/*` is a grant.
                    let concrete = arn.as_str().unwrap().replace('*', "grant");
                    assert_eq!(
                        as_spoke(action.as_str().unwrap(), &concrete, context.clone()),
                        Decision::Allow,
                        "the spoke does not allow the sweep's {action} on {concrete}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "{checked} actions checked");
}
