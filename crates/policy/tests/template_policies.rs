//! `template.yaml`'s permissions boundary and the functions' execution-role policies,
//! evaluated with xacct's own evaluator: what the boundary guarantees for every role xacct
//! creates (never xacct's own deployment, never IAM), and what each function may write.
//! CloudFormation's intrinsics are resolved for one deployment: stack `xacct` in account
//! `111111111111`, partition `aws`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod template;

use serde_json::{Value as Json, json};
use xacct_policy::PolicyDocument;
use xacct_policy::eval::{
    Context, Decision, Labeled, PolicySet, Request, RequestPrincipal, evaluate,
};

use template::{resource, resources_of_type};

const ACCOUNT: &str = "111111111111";
const STACK: &str = "xacct";
const BOUNDARY_ARN: &str =
    "arn:aws:iam::111111111111:policy/xacct/xacct-PermissionsBoundaryPolicy-1";

fn sub(text: &str) -> String {
    text.replace("${AWS::Partition}", "aws")
        .replace("${AWS::AccountId}", ACCOUNT)
        .replace("${AWS::StackName}", STACK)
        .replace("${AWS::Region}", "us-east-1")
        .replace("${HumanPrincipalPath}", "/")
}

/// The template's intrinsics (in long form) resolved to plain JSON; `None` for
/// `AWS::NoValue`. `Fn::If` takes its true branch, so optional statements are checked too.
fn resolve(value: &Json) -> Option<Json> {
    let object = |map: &serde_json::Map<String, Json>| {
        Json::Object(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), resolve(v)?)))
                .collect(),
        )
    };
    Some(match value {
        Json::Array(items) => Json::Array(items.iter().filter_map(resolve).collect()),
        Json::Object(map) if map.len() == 1 => {
            let (function, argument) = map.iter().next().unwrap();
            match (function.as_str(), argument) {
                ("Fn::Sub", Json::String(s)) => Json::String(sub(s)),
                ("Ref", Json::String(name)) => match name.as_str() {
                    "AWS::NoValue" => return None,
                    "AWS::AccountId" => Json::String(ACCOUNT.to_owned()),
                    "AWS::StackName" => Json::String(STACK.to_owned()),
                    "PermissionsBoundaryPolicy" => Json::String(BOUNDARY_ARN.to_owned()),
                    other => Json::String(format!("ref-{other}")),
                },
                ("Fn::GetAtt", Json::Array(parts)) => {
                    let group = parts[0].as_str().unwrap();
                    Json::String(format!(
                        "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{STACK}/{group}"
                    ))
                }
                ("Fn::If", Json::Array(branches)) => return resolve(&branches[1]),
                (function, _) if function.starts_with("Fn::") => {
                    panic!("unexpected intrinsic {function} in a policy")
                }
                _ => object(map),
            }
        }
        Json::Object(map) => object(map),
        other => other.clone(),
    })
}

fn boundary() -> PolicyDocument {
    let doc = resolve(&resource("PermissionsBoundaryPolicy")["Properties"]["PolicyDocument"]);
    serde_json::from_value(doc.unwrap()).expect("the boundary is a policy document")
}

/// The inline policies of one execution role.
fn role_policies(logical_id: &str) -> Vec<PolicyDocument> {
    let role = resource(logical_id);
    role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        // `resolve` takes the true branch of a policy switched by `Fn::If` (the hub's).
        .filter_map(resolve)
        .map(|p| serde_json::from_value(p["PolicyDocument"].clone()).unwrap())
        .collect()
}

/// Allows everything: the widest grant a bug could write on a role xacct creates.
fn allow_all() -> PolicyDocument {
    serde_json::from_str(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap()
}

/// A role xacct created, granted `allow_all` under the boundary.
fn as_created_role(action: &str, resource: &str, context: Context) -> Decision {
    let grant = allow_all();
    let boundary = boundary();
    let set = PolicySet {
        identity: vec![Labeled {
            label: "grant",
            document: &grant,
        }],
        boundary: Some(Labeled {
            label: "boundary",
            document: &boundary,
        }),
        resource: None,
        resource_account: None,
        ..PolicySet::default()
    };
    let principal = RequestPrincipal::Aws(
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/grant/session")
            .parse()
            .unwrap(),
    );
    let context = context.with(
        "aws:PrincipalArn",
        format!("arn:aws:iam::{ACCOUNT}:role/xacct/grant"),
    );
    evaluate(
        &set,
        &Request::new(principal, action, resource).with_context(context),
    )
    .decision
}

/// A function's execution role with its own inline policies.
fn as_function(role: &str, action: &str, resource: &str, context: Context) -> Decision {
    let policies = role_policies(role);
    let set = PolicySet {
        identity: policies
            .iter()
            .map(|document| Labeled {
                label: role,
                document,
            })
            .collect(),
        boundary: None,
        resource: None,
        resource_account: None,
        ..PolicySet::default()
    };
    let principal = RequestPrincipal::Aws(
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/function")
            .parse()
            .unwrap(),
    );
    evaluate(
        &set,
        &Request::new(principal, action, resource).with_context(context),
    )
    .decision
}

#[test]
fn boundary_denies_invoking_the_stacks_own_functions_whatever_the_grant() {
    for function in [
        "xacct-create-owner-role",
        "xacct-list-resources",
        "xacct-revoke-grant",
        "xacct-create-owner-role:live",
    ] {
        let arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}");
        for action in [
            "lambda:InvokeFunction",
            "lambda:InvokeFunctionUrl",
            "lambda:GetFunction",
        ] {
            assert_eq!(
                as_created_role(action, &arn, Context::new()),
                Decision::ExplicitDeny,
                "{action} on {arn}"
            );
        }
    }
}

#[test]
fn boundary_denies_the_stacks_logs_stack_and_code_bucket() {
    for (action, arn) in [
        (
            "logs:GetLogEvents",
            format!(
                "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/xacct/create-owner-role:log-stream:x"
            ),
        ),
        (
            "cloudformation:DeleteStack",
            format!("arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/xacct/0a1b"),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-1a2b/xacct/code.zip"
                .to_owned(),
        ),
    ] {
        let context = Context::new().with("s3:ResourceAccount", ACCOUNT);
        assert_eq!(
            as_created_role(action, &arn, context),
            Decision::ExplicitDeny,
            "{action} on {arn}"
        );
    }
}

#[test]
fn boundary_denies_iam_for_every_role_xacct_creates() {
    for (action, arn) in [
        ("iam:CreateRole", format!("arn:aws:iam::{ACCOUNT}:role/x")),
        (
            "iam:PassRole",
            format!("arn:aws:iam::{ACCOUNT}:role/xacct/grant"),
        ),
        ("iam:DeletePolicy", BOUNDARY_ARN.to_owned()),
        (
            "iam:DeleteRolePermissionsBoundary",
            format!("arn:aws:iam::{ACCOUNT}:role/xacct/grant"),
        ),
    ] {
        assert_eq!(
            as_created_role(action, &arn, Context::new()),
            Decision::ExplicitDeny,
            "{action}"
        );
    }
}

#[test]
fn boundary_allows_object_reads_on_a_bucket_of_the_account_and_other_functions() {
    let context = Context::new().with("s3:ResourceAccount", ACCOUNT);
    assert_eq!(
        as_created_role(
            "s3:GetObject",
            "arn:aws:s3:::xacct-demo-reports/2026/q4.csv",
            context
        ),
        Decision::Allow
    );
    assert_eq!(
        as_created_role(
            "lambda:InvokeFunction",
            &format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:reports-export"),
            Context::new()
        ),
        Decision::Allow
    );
    // A bucket of another account is outside the boundary.
    let elsewhere = Context::new().with("s3:ResourceAccount", "333333333333");
    assert_eq!(
        as_created_role("s3:GetObject", "arn:aws:s3:::theirs/x", elsewhere),
        Decision::ImplicitDeny
    );
}

#[test]
fn create_functions_write_roles_only_with_the_boundary_and_only_xacct_tags() {
    let role = format!("arn:aws:iam::{ACCOUNT}:role/xacct/grant");
    for function in ["CreateOwnerRoleRole", "CreateRequestorResourcesRole"] {
        let bounded = Context::new().with("iam:PermissionsBoundary", BOUNDARY_ARN);
        assert_eq!(
            as_function(function, "iam:CreateRole", &role, bounded),
            Decision::Allow,
            "{function}"
        );
        assert_eq!(
            as_function(function, "iam:CreateRole", &role, Context::new()),
            Decision::ExplicitDeny,
            "{function}: no boundary"
        );
        assert_eq!(
            as_function(
                function,
                "iam:CreateRole",
                &format!("arn:aws:iam::{ACCOUNT}:role/Admin"),
                Context::new().with("iam:PermissionsBoundary", BOUNDARY_ARN)
            ),
            Decision::ImplicitDeny,
            "{function}: outside /xacct/"
        );
        let xacct_tags = Context::new().with_values(
            "aws:TagKeys",
            vec!["xacct:managed".to_owned(), "xacct:resource".to_owned()],
        );
        assert_eq!(
            as_function(function, "iam:TagRole", &role, xacct_tags),
            Decision::Allow,
            "{function}"
        );
        let other_tags = Context::new().with_values(
            "aws:TagKeys",
            vec!["xacct:managed".to_owned(), "owner".to_owned()],
        );
        assert_eq!(
            as_function(function, "iam:TagRole", &role, other_tags),
            Decision::ImplicitDeny,
            "{function}: a tag key outside xacct:"
        );
        assert_eq!(
            as_function(
                function,
                "iam:DeleteRolePermissionsBoundary",
                &role,
                Context::new()
            ),
            Decision::ExplicitDeny,
            "{function}"
        );
    }
}

#[test]
fn revoke_deletes_only_roles_with_both_the_managed_tag_and_the_boundary() {
    let role = format!("arn:aws:iam::{ACCOUNT}:role/xacct/grant");
    let tagged = || Context::new().with("iam:ResourceTag/xacct:managed", "true");
    for function in [
        "RevokeGrantRole",
        "RevokeRequestorResourcesRole",
        "ExpireGrantsRole",
        "ExpireRequestorGrantsRole",
    ] {
        assert_eq!(
            as_function(
                function,
                "iam:DeleteRole",
                &role,
                tagged().with("iam:PermissionsBoundary", BOUNDARY_ARN)
            ),
            Decision::Allow,
            "{function}"
        );
        // A role someone tagged as xacct's without xacct's boundary stays.
        assert_eq!(
            as_function(function, "iam:DeleteRole", &role, tagged()),
            Decision::ImplicitDeny,
            "{function}"
        );
    }
}

#[test]
fn no_function_reads_a_functions_environment() {
    let function = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:reports-export");
    for role in [
        "ListResourcesRole",
        "CreateOwnerRoleRole",
        "CheckOwnerRoleRole",
        "ListGrantsRole",
    ] {
        for action in ["lambda:GetFunction", "lambda:GetFunctionConfiguration"] {
            assert_eq!(
                as_function(role, action, &function, Context::new()),
                Decision::ImplicitDeny,
                "{role} {action}"
            );
        }
    }
    assert_eq!(
        as_function(
            "CreateOwnerRoleRole",
            "lambda:ListTags",
            &function,
            Context::new()
        ),
        Decision::Allow
    );
}

#[test]
fn every_function_has_reserved_concurrency_and_a_name_the_boundary_knows() {
    let functions = resources_of_type("AWS::Serverless::Function");
    assert_eq!(functions.len(), 12);
    for (id, function) in functions {
        let properties = &function["Properties"];
        assert_eq!(
            properties["ReservedConcurrentExecutions"],
            json!({"Ref": "FunctionConcurrency"}),
            "{id} has no reserved concurrency"
        );
        let name = resolve(&properties["FunctionName"]).unwrap();
        let name = name.as_str().unwrap();
        assert!(name.starts_with("xacct-"), "{id}: {name}");
        assert_eq!(
            properties["Environment"]["Variables"]["XACCT_STACK_NAME"],
            json!({"Ref": "AWS::StackName"}),
            "{id}"
        );
    }
}
