//! Nothing beyond what was asked: every path to more access than a request names, tried as an
//! allowed invoker would, against the local stack. Each is a 4xx naming the field, and moto
//! holds nothing new afterwards. `docs/security.md` lists each path with its test here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use xacct_e2e::{Stack, unique};

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

/// The names of the roles under `/xacct/` on one side whose name starts with `marker`.
async fn roles_with(stack: &Stack, side: &str, marker: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut marker_page: Option<String> = None;
    loop {
        let page = stack
            .iam(side)
            .await
            .list_roles()
            .path_prefix("/xacct/")
            .set_marker(marker_page.clone())
            .send()
            .await
            .unwrap();
        names.extend(
            page.roles()
                .iter()
                .map(|r| r.role_name().to_owned())
                .filter(|n| n.starts_with(marker)),
        );
        match page.marker() {
            Some(m) if page.is_truncated() => marker_page = Some(m.to_owned()),
            _ => break,
        }
    }
    names
}

/// An owner role's tags, as moto has them.
async fn owner_role_tags(stack: &Stack, name: &str) -> std::collections::BTreeMap<String, String> {
    stack
        .iam("owner")
        .await
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

async fn refused(
    stack: &Stack,
    function: &str,
    body: &Value,
    status: u16,
    code: &str,
    field: &str,
) {
    stack
        .post(function, body)
        .await
        .assert_error(status, code, Some(field));
}

/// Asks for a grant on each `(resource_arn, action)` with `extra` fields, expects 400 `code`
/// on `resource_arn` for each, then that no role of the run's marker exists.
async fn each_resource_refused(
    stack: &Stack,
    marker: &str,
    cases: &[(String, &str)],
    extra: &[Value],
    code: &str,
) {
    for (arn, action) in cases {
        for options in extra {
            let mut body = json!({"resource_arn": arn, "actions": [action], "requestor_account_id": "222222222222", "role_name": format!("{marker}-x")});
            for (k, v) in options.as_object().unwrap() {
                body[k] = v.clone();
            }
            refused(stack, "create-owner-role", &body, 400, code, "resource_arn").await;
        }
    }
    assert_eq!(
        roles_with(stack, "owner", marker).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn pattern_resources_of_every_discovered_service_are_refused_whatever_the_options() {
    let stack = Stack::load();
    let marker = unique("pattern");
    let cases: Vec<(String, &str)> = [
        ("arn:aws:s3:::*/*", "s3:GetObject"),
        ("arn:aws:s3:::*", "s3:ListBucket"),
        ("arn:aws:s3:::rep?rts/x", "s3:GetObject"),
        ("arn:aws:s3:::xacct-demo-reports/*", "s3:GetObject"),
        ("arn:aws:s3:::xacct-demo-*", "s3:ListBucket"),
        (
            "arn:aws:ec2:us-east-1:111111111111:instance/*",
            "ec2:StartInstances",
        ),
        (
            "arn:aws:ec2:us-east-1:111111111111:instance/i-?",
            "ec2:StartInstances",
        ),
        (
            "arn:aws:lambda:us-east-1:111111111111:function:*",
            "lambda:InvokeFunction",
        ),
        (
            "arn:aws:lambda:us-east-1:111111111111:function:xacct-demo-?",
            "lambda:InvokeFunction",
        ),
        (
            "arn:aws:rds:us-east-1:111111111111:db:*",
            "rds:DescribeDBInstances",
        ),
        (
            "arn:aws:rds:us-east-1:111111111111:cluster:xacct-*",
            "rds:DescribeDBClusters",
        ),
        (
            "arn:aws:rds-db:us-east-1:111111111111:dbuser:*/*",
            "rds-db:connect",
        ),
        (
            "arn:aws:rds-db:us-east-1:111111111111:dbuser:db-ABC/*",
            "rds-db:connect",
        ),
    ]
    .into_iter()
    .map(|(arn, action)| (arn.to_owned(), action))
    .collect();
    let options = [
        json!({}),
        json!({"dry_run": true}),
        json!({"allow_permissions_management": true, "widen_trust": true}),
    ];
    each_resource_refused(&stack, &marker, &cases, &options, "PatternResource").await;
}

#[tokio::test]
async fn the_deployments_own_resources_are_never_grant_targets() {
    let stack = Stack::load();
    let marker = unique("own");
    let name = stack.file["stack_name"].as_str().unwrap().to_owned();
    let cases = [
        (
            format!("arn:aws:lambda:us-east-1:111111111111:function:{name}-create-owner-role"),
            "lambda:InvokeFunction",
        ),
        (
            format!("arn:aws:lambda:us-east-1:111111111111:function:{name}-list-resources"),
            "lambda:InvokeFunction",
        ),
        (
            format!(
                "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/{name}/create-owner-role"
            ),
            "logs:GetLogEvents",
        ),
        (
            format!("arn:aws:cloudformation:us-east-1:111111111111:stack/{name}/0a1b2c"),
            "cloudformation:DeleteStack",
        ),
        (
            "arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-0a1b2c".to_owned(),
            "s3:GetObject",
        ),
        (
            "arn:aws:iam::111111111111:role/xacct/some-grant".to_owned(),
            "iam:GetRole",
        ),
        (
            "arn:aws:iam::111111111111:policy/xacct/xacct-PermissionsBoundaryPolicy-1".to_owned(),
            "iam:GetPolicy",
        ),
    ];
    each_resource_refused(&stack, &marker, &cases, &[json!({})], "OwnResource").await;
}

#[tokio::test]
async fn people_and_services_may_be_pointed_only_at_xacct_roles() {
    let stack = Stack::load();
    let marker = unique("foreign");
    let people = &stack.file["seed"]["requestor_people"];
    let foreign = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole";
    for who in [
        json!({"user_name": people["user_name"]}),
        json!({"group_name": people["group_name"]}),
        json!({"service_principal": "lambda.amazonaws.com", "role_name": format!("{marker}-svc")}),
    ] {
        for owner_role in [foreign, "arn:aws:iam::111111111111:role/admin/xacct/x"] {
            let mut body = who.clone();
            body["owner_role_arn"] = json!(owner_role);
            refused(
                &stack,
                "create-requestor-resources",
                &body,
                400,
                "NotAnXacctRole",
                "owner_role_arn",
            )
            .await;
        }
    }
    // Nothing written: no role, and no inline policy on the seeded user or group.
    assert_eq!(
        roles_with(&stack, "requestor", &marker).await,
        Vec::<String>::new()
    );
    let iam = stack.iam("requestor").await;
    let user_policies = iam
        .list_user_policies()
        .user_name(people["user_name"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .policy_names()
        .to_vec();
    let group_policies = iam
        .list_group_policies()
        .group_name(people["group_name"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .policy_names()
        .to_vec();
    for names in [user_policies, group_policies] {
        assert!(
            !names
                .iter()
                .any(|p| p.contains("OrganizationAccountAccess")),
            "{names:?}"
        );
    }
}

#[tokio::test]
async fn a_repeat_without_the_narrowing_fields_is_refused_unless_it_says_widen_trust() {
    let stack = Stack::load();
    let name = unique("widen");
    let role = format!("arn:aws:iam::222222222222:role/xacct/{name}-app");
    let narrow = json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "requestor_role_arn": role, "require_mfa": true, "role_name": name});
    let created = stack.post("create-owner-role", &narrow).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let role_arn = created.body["role_arn"].as_str().unwrap().to_owned();
    let iam = stack.iam("owner").await;
    let trust_now = || async {
        let r = iam
            .get_role()
            .role_name(&name)
            .send()
            .await
            .unwrap()
            .role
            .unwrap();
        let tags = owner_role_tags(&stack, &name).await;
        (
            xacct_e2e::decode_policy(r.assume_role_policy_document().unwrap()),
            tags,
        )
    };
    let before = trust_now().await;

    // Dropping the role restriction, MFA, or both; a dry run too.
    for (body, field) in [
        (
            json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "require_mfa": true, "role_name": name}),
            "requestor_role_arn",
        ),
        (
            json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "requestor_role_arn": role, "role_name": name}),
            "require_mfa",
        ),
        (
            json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": name, "dry_run": true}),
            "requestor_role_arn",
        ),
        (
            json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "requestor_role_arn": format!("arn:aws:iam::222222222222:role/xacct/{name}-other"), "require_mfa": true, "role_name": name}),
            "requestor_role_arn",
        ),
    ] {
        refused(
            &stack,
            "create-owner-role",
            &body,
            409,
            "TrustWouldWiden",
            field,
        )
        .await;
    }
    assert_eq!(trust_now().await, before, "nothing changed");

    // Said explicitly, it widens, and the tags say what the trust now is.
    let wide = json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": name, "widen_trust": true});
    let widened = stack.post("create-owner-role", &wide).await;
    assert_eq!(widened.status, 200, "{}", widened.body);
    assert_eq!(widened.body["changed"], true);
    let (trust, tags) = trust_now().await;
    let condition = &trust.statements[0].condition;
    assert!(condition.get("ArnLike", "aws:PrincipalArn").is_none());
    assert!(
        condition
            .get("Bool", "aws:MultiFactorAuthPresent")
            .is_none()
    );
    assert!(!tags.contains_key("xacct:requestor-role"), "{tags:?}");
    assert_eq!(
        tags.get("xacct:mfa").map(String::as_str),
        Some("false"),
        "{tags:?}"
    );
    let grants = stack.get("list-grants", &[("resource_arn", BUCKET)]).await;
    let grant = grants.body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role_arn"] == json!(role_arn))
        .unwrap()
        .clone();
    assert_eq!(grant["requestor_role_arn"], Value::Null, "{grant}");
    assert_eq!(grant["require_mfa"], false, "{grant}");
    // Narrowing again needs no flag.
    assert_eq!(stack.post("create-owner-role", &narrow).await.status, 200);
    stack
        .post("revoke-grant", &json!({"role_arn": role_arn}))
        .await;
}

#[tokio::test]
async fn a_resource_in_a_region_that_does_not_exist_or_is_not_enabled_is_refused() {
    let stack = Stack::load();
    let marker = unique("region");
    let cases = [
        (
            "arn:aws:ec2:xx-fake-9:111111111111:instance/i-0abc1234".to_owned(),
            "ec2:StartInstances",
        ),
        (
            "arn:aws:lambda:us-east-99:111111111111:function:reports".to_owned(),
            "lambda:InvokeFunction",
        ),
        (
            "arn:aws:rds:mars-north-1:111111111111:db:orders".to_owned(),
            "rds:DescribeDBInstances",
        ),
    ];
    each_resource_refused(&stack, &marker, &cases, &[json!({})], "RegionNotEnabled").await;
}

#[tokio::test]
async fn the_grant_records_its_creator_in_a_tag_that_a_repeat_keeps() {
    let stack = Stack::load();
    let name = unique("creator");
    let body = json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": name});
    let created = stack.post("create-owner-role", &body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let tags = owner_role_tags(&stack, &name).await;
    assert!(
        tags.get("xacct:created-by").is_some_and(|v| !v.is_empty()),
        "{tags:?}"
    );
    let again = stack.post("create-owner-role", &body).await;
    assert_eq!(again.body["changed"], false, "{}", again.body);
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": created.body["role_arn"]}),
        )
        .await;
}

#[tokio::test]
async fn every_create_answer_says_what_the_change_does_to_access() {
    let stack = Stack::load();
    let name = unique("diff");
    let grant = |actions: &[&str], extra: Value| {
        let mut body = json!({"resource_arn": BUCKET, "actions": actions, "requestor_account_id": "222222222222", "role_name": name});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let diff_of = |a: &xacct_e2e::Answer| a.body["access_diff"].clone();

    let dry = stack
        .post(
            "create-owner-role",
            &grant(&["s3:ListBucket"], json!({"dry_run": true})),
        )
        .await;
    assert_eq!(diff_of(&dry)["change"], "new", "{}", dry.body);
    let created = stack
        .post("create-owner-role", &grant(&["s3:ListBucket"], json!({})))
        .await;
    assert_eq!(diff_of(&created)["change"], "new");
    assert_eq!(
        diff_of(&created)["granted"],
        json!([{"action": "s3:ListBucket", "resource": BUCKET}])
    );
    assert_eq!(
        diff_of(&created)["principals_added"],
        json!(["arn:aws:iam::222222222222:root"])
    );

    let same = stack
        .post("create-owner-role", &grant(&["s3:ListBucket"], json!({})))
        .await;
    assert_eq!(diff_of(&same)["change"], "none", "{}", same.body);

    let more = stack
        .post(
            "create-owner-role",
            &grant(&["s3:ListBucket", "s3:GetObject"], json!({"dry_run": true})),
        )
        .await;
    assert_eq!(diff_of(&more)["change"], "widens", "{}", more.body);
    assert_eq!(
        diff_of(&more)["granted"],
        json!([{"action": "s3:GetObject", "resource": format!("{BUCKET}/*")}])
    );
    assert_eq!(more.body["changed"], true);

    let role = format!("arn:aws:iam::222222222222:role/xacct/{name}-app");
    let narrower = stack
        .post(
            "create-owner-role",
            &grant(
                &["s3:ListBucket"],
                json!({"requestor_role_arn": role, "require_mfa": true}),
            ),
        )
        .await;
    assert_eq!(diff_of(&narrower)["change"], "narrows", "{}", narrower.body);
    assert_eq!(diff_of(&narrower)["principals_added"], json!([role]));
    assert_eq!(
        diff_of(&narrower)["conditions_added"],
        json!([{"operator": "Bool", "key": "aws:MultiFactorAuthPresent", "values": ["true"]}])
    );

    let requestor = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": created.body["role_arn"], "service_principal": "lambda.amazonaws.com", "role_name": format!("{name}-req"), "dry_run": true}),
        )
        .await;
    assert_eq!(diff_of(&requestor)["change"], "new", "{}", requestor.body);
    assert_eq!(
        diff_of(&requestor)["granted"],
        json!([{"action": "sts:AssumeRole", "resource": created.body["role_arn"]}])
    );
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": created.body["role_arn"]}),
        )
        .await;
}

#[tokio::test]
async fn a_grant_with_an_expiry_is_refused_by_aws_afterwards_and_dropping_it_must_be_said() {
    let stack = Stack::load();
    let name = unique("expiry");
    let base = json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": name});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    // Bad expiries: 400 naming the field, nothing written.
    for (field, value, code) in [
        ("expires_in", "0d", "InvalidExpiry"),
        ("expires_in", "7 weeks", "InvalidExpiry"),
        ("expires_in", "91d", "ExpiryTooFar"),
        ("expires_at", "2020-01-01T00:00:00Z", "ExpiryInPast"),
        ("expires_at", "2026-12-31", "InvalidExpiry"),
    ] {
        let body = with(field, json!(value));
        refused(&stack, "create-owner-role", &body, 400, code, field).await;
    }
    let mut both = with("expires_in", json!("7d"));
    both["expires_at"] = json!("2099-01-01T00:00:00Z");
    refused(
        &stack,
        "create-owner-role",
        &both,
        400,
        "OneExpiry",
        "expires_in",
    )
    .await;
    assert_eq!(
        roles_with(&stack, "owner", &name).await,
        Vec::<String>::new()
    );

    let created = stack
        .post("create-owner-role", &with("expires_in", json!("3d")))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let at = created.body["expires_at"].as_str().unwrap().to_owned();
    let condition = &created.body["trust_policy"]["Statement"][0]["Condition"];
    assert_eq!(condition["DateLessThan"]["aws:CurrentTime"], json!(at));
    let tags = owner_role_tags(&stack, &name).await;
    assert_eq!(tags.get("xacct:expires-at"), Some(&at), "{tags:?}");
    let grants = stack.get("list-grants", &[("resource_arn", BUCKET)]).await;
    let listed = grants.body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role_arn"] == created.body["role_arn"])
        .unwrap()
        .clone();
    assert_eq!(listed["expires_at"], json!(at));
    assert_eq!(listed["expired"], false);

    // Dropping the expiry widens the trust in time: said explicitly, or refused.
    refused(
        &stack,
        "create-owner-role",
        &base,
        409,
        "TrustWouldWiden",
        "expires_in",
    )
    .await;
    // Extending is asked for by naming a new expiry: one write, shown in the access diff.
    let extended = stack
        .post("create-owner-role", &with("expires_in", json!("5d")))
        .await;
    assert_eq!(extended.status, 200, "{}", extended.body);
    assert_eq!(extended.body["access_diff"]["change"], "replaces");
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": created.body["role_arn"]}),
        )
        .await;
}
