//! Hostile input on every endpoint that takes a body: wrong JSON types, huge arrays, 1 MB
//! bodies, unicode and control characters in names, ARNs of other accounts and partitions,
//! path tricks, wildcard and foreign actions, duplicates. Each gets a 4xx naming the field
//! (every answer is also validated against openapi.yaml by the test client), and nothing
//! is written: no role with the run's marker appears, and a canary grant survives.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use xacct_e2e::{Stack, unique};

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

/// Sends `body` and expects a 4xx naming `field` (or no field for body-level errors).
async fn refused(stack: &Stack, function: &str, body: &Value, field: Option<&str>) {
    let a = stack.post(function, body).await;
    assert!(
        (400..500).contains(&a.status),
        "{function} {body}: {} {}",
        a.status,
        a.body
    );
    assert_eq!(
        a.body["error"]["field"].as_str(),
        field,
        "{function} {body}: {}",
        a.body
    );
}

fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut out = base.clone();
    out.as_object_mut().unwrap().insert(key.to_owned(), value);
    out
}

#[tokio::test]
async fn hostile_bodies_are_refused_with_the_field_named_and_change_nothing() {
    let stack = Stack::load();
    let marker = unique("hostile");
    // A canary grant and requestor role the revoke endpoints must not touch.
    let canary = stack
        .post(
            "create-owner-role",
            &json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": format!("{marker}-canary")}),
        )
        .await;
    assert_eq!(canary.status, 200, "{}", canary.body);
    let canary_role = canary.body["role_arn"].as_str().unwrap().to_owned();

    let control = format!("{marker}\u{0}\u{7}\n");
    let unicode = format!("{marker}-\u{1F600}-\u{202E}");
    let owner = json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": format!("{marker}-owner")});
    let requestor = json!({"owner_role_arn": canary_role, "service_principal": "lambda.amazonaws.com", "role_name": format!("{marker}-req")});

    // Wrong JSON types, field by field.
    for (key, value, field) in [
        ("resource_arn", json!(42), "resource_arn"),
        ("actions", json!("s3:GetObject"), "actions"),
        // The element is named, not just the array.
        ("actions", json!(["s3:GetObject", 2]), "actions[1]"),
        (
            "requestor_account_id",
            json!(222_222_222_222_u64),
            "requestor_account_id",
        ),
        ("require_mfa", json!("yes"), "require_mfa"),
        (
            "max_session_duration",
            json!(3600.5),
            "max_session_duration",
        ),
        ("role_name", json!({"a": 1}), "role_name"),
        ("dry_run", json!(null), "dry_run"),
    ] {
        refused(
            &stack,
            "create-owner-role",
            &with(&owner, key, value),
            Some(field),
        )
        .await;
    }
    for (key, value) in [
        ("owner_role_arn", json!([])),
        ("service_principal", json!(true)),
        ("require_mfa", json!(1)),
        ("external_id", json!(7)),
    ] {
        refused(
            &stack,
            "create-requestor-resources",
            &with(&requestor, key, value),
            Some(key),
        )
        .await;
    }
    for (function, body, field) in [
        (
            "check-owner-role",
            json!({"role_arn": 1, "principal_arn": "arn:aws:iam::222222222222:root"}),
            "role_arn",
        ),
        (
            "check-owner-role",
            json!({"role_arn": canary_role, "principal_arn": "arn:aws:iam::222222222222:root", "mfa": "true"}),
            "mfa",
        ),
        (
            "revoke-grant",
            json!({"role_arn": [canary_role]}),
            "role_arn",
        ),
        (
            "check-requestor-role",
            json!({"role_arn": canary_role, "owner_role_arn": {}}),
            "owner_role_arn",
        ),
        (
            "revoke-requestor-resources",
            json!({"group_name": 5, "owner_role_arn": canary_role}),
            "group_name",
        ),
    ] {
        refused(&stack, function, &body, Some(field)).await;
    }

    // Huge arrays and bodies.
    let many: Vec<String> = (0..300).map(|i| format!("s3:GetObject{i}")).collect();
    refused(
        &stack,
        "create-owner-role",
        &with(&owner, "actions", json!(many)),
        Some("actions"),
    )
    .await;
    let megabyte = vec![b' '; 1024 * 1024];
    for function in [
        "create-owner-role",
        "check-owner-role",
        "revoke-grant",
        "create-requestor-resources",
        "check-requestor-role",
        "revoke-requestor-resources",
    ] {
        stack
            .post_raw(function, megabyte.clone())
            .await
            .assert_error(413, "PayloadTooLarge", None);
        let mut padded = serde_json::to_vec(&json!({"role_arn": canary_role})).unwrap();
        padded.extend(std::iter::repeat_n(b' ', 1024 * 1024));
        stack
            .post_raw(function, padded)
            .await
            .assert_error(413, "PayloadTooLarge", None);
    }

    // Unicode, control characters and path tricks in names.
    for name in [
        control.as_str(),
        unicode.as_str(),
        "../../admin",
        "xacct/../x",
        "a*",
        "",
    ] {
        refused(
            &stack,
            "create-owner-role",
            &with(&owner, "role_name", json!(name)),
            Some("role_name"),
        )
        .await;
        refused(
            &stack,
            "create-requestor-resources",
            &with(&requestor, "role_name", json!(name)),
            Some("role_name"),
        )
        .await;
        let person = json!({"owner_role_arn": canary_role, "user_name": name});
        refused(
            &stack,
            "create-requestor-resources",
            &person,
            Some("user_name"),
        )
        .await;
        let group = json!({"owner_role_arn": canary_role, "group_name": name});
        refused(
            &stack,
            "revoke-requestor-resources",
            &group,
            Some("group_name"),
        )
        .await;
    }
    for arn in [
        format!("arn:aws:iam::111111111111:role/{control}"),
        "arn:aws:iam::111111111111:role/xacct/../Admin*".to_owned(),
        "arn:aws:iam::111111111111:role/xacct/*".to_owned(),
        "arn:aws:iam::111111111111:user/admin".to_owned(),
    ] {
        refused(
            &stack,
            "revoke-grant",
            &json!({"role_arn": arn}),
            Some("role_arn"),
        )
        .await;
        refused(
            &stack,
            "check-owner-role",
            &json!({"role_arn": arn, "principal_arn": "arn:aws:iam::222222222222:root"}),
            Some("role_arn"),
        )
        .await;
    }

    // ARNs of other accounts and partitions.
    let other_account = json!({"resource_arn": "arn:aws:ec2:us-east-1:333333333333:instance/i-0abc", "actions": ["ec2:StartInstances"], "requestor_account_id": "222222222222"});
    refused(
        &stack,
        "create-owner-role",
        &other_account,
        Some("resource_arn"),
    )
    .await;
    refused(
        &stack,
        "create-owner-role",
        &with(
            &owner,
            "resource_arn",
            json!("arn:aws-cn:s3:::xacct-demo-reports"),
        ),
        Some("resource_arn"),
    )
    .await;
    refused(
        &stack,
        "create-owner-role",
        &with(
            &owner,
            "requestor_role_arn",
            json!("arn:aws-us-gov:iam::222222222222:role/x"),
        ),
        Some("requestor_role_arn"),
    )
    .await;
    let other = canary_role.replace("111111111111", "333333333333");
    refused(
        &stack,
        "revoke-grant",
        &json!({"role_arn": other}),
        Some("role_arn"),
    )
    .await;
    refused(
        &stack,
        "check-owner-role",
        &json!({"role_arn": other, "principal_arn": "arn:aws:iam::222222222222:root"}),
        Some("role_arn"),
    )
    .await;
    refused(
        &stack,
        "revoke-requestor-resources",
        &json!({"role_arn": canary_role}),
        Some("role_arn"),
    )
    .await;
    refused(
        &stack,
        "create-requestor-resources",
        &with(
            &requestor,
            "owner_role_arn",
            json!("arn:aws:iam::222222222222:role/xacct/mine"),
        ),
        Some("owner_role_arn"),
    )
    .await;

    let cn_owner = json!({"owner_role_arn": "arn:aws-cn:iam::111111111111:role/xacct/x", "service_principal": "lambda.amazonaws.com"});
    stack
        .post("create-requestor-resources", &cn_owner)
        .await
        .assert_error(400, "OtherPartition", Some("owner_role_arn"));
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": "arn:aws-us-gov:iam::111111111111:role/xacct/x"}),
        )
        .await
        .assert_error(400, "OtherPartition", Some("role_arn"));

    // Wildcards, other services' actions, duplicates.
    for (actions, field) in [
        (json!(["s3:*"]), "actions"),
        (json!(["*"]), "actions"),
        (json!(["s3:Get*"]), "actions"),
        (json!(["iam:PassRole"]), "actions"),
        (json!(["s3:GetObject", "S3:getobject"]), "actions"),
    ] {
        refused(
            &stack,
            "create-owner-role",
            &with(&owner, "actions", actions),
            Some(field),
        )
        .await;
    }

    // Nothing was written: no role with the marker but the canary, which is intact.
    for side in ["owner", "requestor"] {
        let roles = stack
            .iam(side)
            .await
            .list_roles()
            .path_prefix("/xacct/")
            .send()
            .await
            .unwrap();
        let written: Vec<&str> = roles
            .roles()
            .iter()
            .map(|r| r.role_name())
            .filter(|n| n.starts_with(&marker) && !n.ends_with("-canary"))
            .collect();
        assert!(written.is_empty(), "{side}: {written:?}");
    }
    let check = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": canary_role, "principal_arn": "arn:aws:iam::222222222222:root", "external_id": canary.body["external_id"]}),
        )
        .await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert_eq!(check.body["drift"], json!([]), "canary untouched");
    let revoked = stack
        .post("revoke-grant", &json!({"role_arn": canary_role}))
        .await;
    assert_eq!(revoked.body["changed"], true);
}
