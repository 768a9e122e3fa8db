//! The HTTP contract of the four functions, end to end against the local stack: answers,
//! every error code, idempotency, update in place, dry runs and conflicts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use reqwest::Method;
use serde_json::{Value, json};
use xacct_e2e::{Stack, unique, unique_account};

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

#[tokio::test]
async fn list_resources_finds_every_kind_in_both_regions_tagged_or_not() {
    let stack = Stack::load();
    let a = stack.get("list-resources", &[]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["partial_failures"], json!([]));
    assert!(a.body["next_cursor"].is_null());
    let resources = a.body["resources"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<(String, String)> = resources
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_owned(),
                r["region"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("bucket", "us-east-1"),
        ("bucket", "eu-west-1"),
        ("instance", "us-east-1"),
        ("instance", "eu-west-1"),
        ("function", "us-east-1"),
        ("function", "eu-west-1"),
        ("db", "us-east-1"),
        ("db", "eu-west-1"),
        ("cluster", "us-east-1"),
    ] {
        assert!(
            kinds.contains(&(want.0.to_owned(), want.1.to_owned())),
            "missing {want:?} in {kinds:?}"
        );
    }
    let untagged = resources
        .iter()
        .find(|r| r["name"] == "xacct-demo-untagged")
        .unwrap();
    assert_eq!(untagged["tags"], json!({}));
    let tagged = resources.iter().find(|r| r["arn"] == BUCKET).unwrap();
    assert_eq!(tagged["tags"]["project"], "xacct-demo");
    for r in resources {
        assert!(
            r["arn"]
                .as_str()
                .unwrap()
                .parse::<xacct_policy::Arn>()
                .is_ok()
        );
        assert!(r["arn"].as_str().unwrap().contains(":111111111111:") || r["service"] == "s3");
    }
    // Every seeded resource, of every kind and region, is there with exactly its tags (S3
    // and Lambda tags come from the Tagging API, EC2 and RDS tags from their listings).
    let by_arn: std::collections::BTreeMap<&str, &Value> = resources
        .iter()
        .map(|r| (r["arn"].as_str().unwrap(), &r["tags"]))
        .collect();
    let mut seeded = 0;
    for (region, kinds) in stack.file["seed"]["regions"].as_object().unwrap() {
        for (kind, entries) in kinds.as_object().unwrap() {
            if kind == "s3_objects" {
                continue; // not resources xacct lists
            }
            for entry in entries.as_array().into_iter().flatten() {
                let (Some(arn), Some(tags)) = (entry["arn"].as_str(), entry.get("tags")) else {
                    continue;
                };
                assert_eq!(by_arn.get(arn), Some(&tags), "{kind} {arn} in {region}");
                seeded += 1;
            }
        }
    }
    assert!(seeded >= 9, "the seed lists every kind: {seeded}");
}

#[tokio::test]
async fn list_resources_filters_and_pages_with_a_cursor() {
    let stack = Stack::load();
    let eu = stack
        .get(
            "list-resources",
            &[("service", "s3,ec2"), ("region", "eu-west-1")],
        )
        .await;
    assert_eq!(eu.status, 200);
    let eu = eu.body["resources"].as_array().unwrap().clone();
    assert!(!eu.is_empty());
    assert!(
        eu.iter()
            .all(|r| r["region"] == "eu-west-1" && (r["service"] == "s3" || r["service"] == "ec2"))
    );

    let prefix = stack
        .get("list-resources", &[("name_prefix", "XACCT-DEMO-R")])
        .await;
    let names: Vec<&str> = prefix.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"xacct-demo-reports")
            && names.iter().all(|n| n.starts_with("xacct-demo-r")),
        "{names:?}"
    );

    let all = stack.get("list-resources", &[]).await.body["resources"]
        .as_array()
        .unwrap()
        .clone();
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut q = vec![("limit", "3")];
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let page = stack.get("list-resources", &q).await;
        assert_eq!(page.status, 200, "{}", page.body);
        walked.extend(
            page.body["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["arn"].clone()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        walked,
        all.iter().map(|r| r["arn"].clone()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn list_resources_refuses_bad_input() {
    let stack = Stack::load();
    stack
        .get("list-resources", &[("service", "sqs")])
        .await
        .assert_error(400, "InvalidService", Some("service"));
    stack
        .get("list-resources", &[("region", "../etc")])
        .await
        .assert_error(400, "InvalidRegion", Some("region"));
    stack
        .get("list-resources", &[("limit", "0")])
        .await
        .assert_error(400, "InvalidLimit", Some("limit"));
    stack
        .get("list-resources", &[("limit", "1001")])
        .await
        .assert_error(400, "InvalidLimit", Some("limit"));
    stack
        .get("list-resources", &[("cursor", "garbage")])
        .await
        .assert_error(400, "InvalidCursor", Some("cursor"));
    stack
        .get("list-resources", &[("colour", "red")])
        .await
        .assert_error(400, "UnknownParameter", Some("colour"));
    stack
        .request(Method::POST, "list-resources")
        .await
        .assert_error(405, "MethodNotAllowed", None);
}

#[tokio::test]
async fn list_permissions_by_get_and_post() {
    let stack = Stack::load();
    let get = stack.get("list-permissions", &[("arn", BUCKET)]).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.body["resource_type"], "bucket");
    let actions = get.body["actions"].as_array().unwrap();
    let find = |name: &str| {
        actions
            .iter()
            .find(|a| a["action"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        find("s3:GetObject")["resource"],
        "arn:aws:s3:::xacct-demo-reports/*"
    );
    assert_eq!(find("s3:ListBucket")["resource"], BUCKET);
    assert_eq!(find("s3:ListAllMyBuckets")["resource_level"], false);
    assert_eq!(
        find("s3:PutBucketPolicy")["access_level"],
        "Permissions management"
    );
    let post = stack
        .post("list-permissions", &json!({"arn": BUCKET}))
        .await;
    assert_eq!(post.body, get.body);
    let read = stack
        .get(
            "list-permissions",
            &[("arn", BUCKET), ("access_levels", "read,list")],
        )
        .await;
    assert!(
        read.body["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["access_level"] == "Read" || a["access_level"] == "List")
    );

    let any = stack
        .get(
            "list-permissions",
            &[(
                "arn",
                "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
            )],
        )
        .await;
    assert_eq!(any.status, 200);
    assert_eq!(any.body["resource_type"], "table");
    let rds = stack
        .get(
            "list-permissions",
            &[("arn", "arn:aws:rds:us-east-1:111111111111:db:orders")],
        )
        .await;
    let snap = rds.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "rds:CreateDBSnapshot")
        .unwrap()
        .clone();
    assert_eq!(
        snap["resources"],
        json!([
            "arn:aws:rds:us-east-1:111111111111:db:orders",
            "arn:aws:rds:us-east-1:111111111111:snapshot:*"
        ])
    );
}

#[tokio::test]
async fn list_permissions_refuses_bad_input() {
    let stack = Stack::load();
    stack
        .get("list-permissions", &[])
        .await
        .assert_error(400, "MissingArn", Some("arn"));
    stack
        .get("list-permissions", &[("arn", "not-an-arn")])
        .await
        .assert_error(400, "InvalidArn", Some("arn"));
    stack
        .get(
            "list-permissions",
            &[("arn", "arn:aws:nosuch:us-east-1:111111111111:thing/x")],
        )
        .await
        .assert_error(400, "UnknownService", Some("arn"));
    stack
        .get(
            "list-permissions",
            &[("arn", "arn:aws:ec2:us-east-1:111111111111:gizmo/x")],
        )
        .await
        .assert_error(400, "UnknownResourceType", Some("arn"));
    stack
        .get(
            "list-permissions",
            &[("arn", BUCKET), ("access_levels", "admin")],
        )
        .await
        .assert_error(400, "InvalidAccessLevel", Some("access_levels"));
    stack
        .post("list-permissions", &json!({"arn": 5}))
        .await
        .assert_error(400, "InvalidType", Some("arn"));
    stack
        .request(Method::DELETE, "list-permissions")
        .await
        .assert_error(405, "MethodNotAllowed", None);
}

fn owner_body(role_name: &str, actions: &[&str]) -> Value {
    json!({"resource_arn": BUCKET, "actions": actions, "requestor_account_id": "222222222222", "role_name": role_name})
}

#[tokio::test]
async fn create_owner_role_is_idempotent_and_updates_in_place() {
    let stack = Stack::load();
    let iam = stack.iam("owner").await;
    let name = unique("e2e-idem");
    let first = stack
        .post("create-owner-role", &owner_body(&name, &["s3:GetObject"]))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["changed"], true);
    assert_eq!(
        first.body["role_arn"],
        format!("arn:aws:iam::111111111111:role/xacct/{name}")
    );
    let external_id = first.body["external_id"].as_str().unwrap().to_owned();
    assert!(external_id.len() >= 32);
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.path(), "/xacct/");
    let tags: std::collections::BTreeMap<_, _> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    assert_eq!(tags["xacct:managed"], "true");
    assert_eq!(tags["xacct:resource"], BUCKET);
    assert_eq!(tags["xacct:requestor"], "222222222222");

    let again = stack
        .post("create-owner-role", &owner_body(&name, &["s3:GetObject"]))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["changed"], false);
    assert_eq!(
        again.body["external_id"],
        external_id.as_str(),
        "a repeat keeps the generated External ID"
    );
    assert_eq!(again.body["role_id"], first.body["role_id"]);

    let updated = stack
        .post(
            "create-owner-role",
            &owner_body(&name, &["s3:GetObject", "s3:ListBucket"]),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["changed"], true);
    assert_eq!(
        updated.body["changes"],
        json!(["put inline policy `xacct-grant`"])
    );
    let after = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        after.role_id(),
        role.role_id(),
        "update in place keeps the RoleId"
    );
    let policy = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("xacct-grant")
        .send()
        .await
        .unwrap();
    let doc = xacct_e2e::decode_policy(policy.policy_document());
    assert_eq!(
        serde_json::to_value(&doc).unwrap(),
        updated.body["permissions_policy"]
    );
}

#[tokio::test]
async fn create_owner_role_default_name_is_deterministic() {
    let stack = Stack::load();
    let requestor = unique_account();
    let body = json!({"resource_arn": "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg", "actions": ["rds:DescribeDBInstances", "rds:CreateDBSnapshot"], "requestor_account_id": requestor, "dry_run": true});
    let a = stack.post("create-owner-role", &body).await;
    let b = stack.post("create-owner-role", &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["role_name"], b.body["role_name"]);
    assert!(a.body["role_name"].as_str().unwrap().len() <= 64);
    let statements = a.body["permissions_policy"]["Statement"]
        .as_array()
        .unwrap();
    // CreateDBSnapshot needs the database and the snapshot: one statement holds both.
    assert!(
        statements
            .iter()
            .any(|s| s["Action"] == "rds:CreateDBSnapshot"
                && s["Resource"]
                    == json!([
                        "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg",
                        "arn:aws:rds:us-east-1:111111111111:snapshot:*"
                    ])),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let stack = Stack::load();
    let iam = stack.iam("owner").await;
    let name = unique("e2e-dry");
    let mut body = owner_body(&name, &["s3:GetObject"]);
    body["dry_run"] = json!(true);
    let a = stack.post("create-owner-role", &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.body["dry_run"].clone(), a.body["changed"].clone()),
        (json!(true), json!(true))
    );
    assert!(a.body["role_id"].is_null());
    let err = iam.get_role().role_name(&name).send().await.unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("NoSuchEntity")
    );
}

#[tokio::test]
async fn create_owner_role_error_codes() {
    let stack = Stack::load();
    let name = unique("e2e-err");
    let post = |body: Value| {
        let stack = stack.clone();
        async move { stack.post("create-owner-role", &body).await }
    };
    post(json!({"resource_arn": "arn:aws:s3:::no-such-bucket-xacct", "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": name})).await.assert_error(404, "ResourceNotFound", Some("resource_arn"));
    post(json!({"resource_arn": "arn:aws:ec2:us-east-1:333333333333:instance/i-0abc", "actions": ["ec2:StartInstances"], "requestor_account_id": "222222222222"})).await.assert_error(400, "ResourceInOtherAccount", Some("resource_arn"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "111111111111"})).await.assert_error(400, "SameAccount", Some("requestor_account_id"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "12345"})).await.assert_error(400, "InvalidAccountId", Some("requestor_account_id"));
    post(json!({"resource_arn": "bucket", "actions": ["s3:GetObject"], "requestor_account_id": "222222222222"})).await.assert_error(400, "InvalidArn", Some("resource_arn"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:*"], "requestor_account_id": "222222222222"})).await.assert_error(400, "WildcardAction", Some("actions"));
    post(json!({"resource_arn": BUCKET, "actions": ["ec2:StartInstances"], "requestor_account_id": "222222222222"})).await.assert_error(400, "ActionOfOtherService", Some("actions"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:PutBucketPolicy"], "requestor_account_id": "222222222222"})).await.assert_error(400, "PermissionsManagementNotAllowed", Some("actions"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject", "s3:GetObject"], "requestor_account_id": "222222222222"})).await.assert_error(400, "DuplicateAction", Some("actions"));
    post(json!({"resource_arn": BUCKET, "actions": [], "requestor_account_id": "222222222222"}))
        .await
        .assert_error(400, "NoActions", Some("actions"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "requestor_role_arn": "arn:aws:iam::333333333333:role/x"})).await.assert_error(400, "RoleAccountMismatch", Some("requestor_role_arn"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": "../../admin"})).await.assert_error(400, "InvalidRoleName", Some("role_name"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "max_session_duration": 60})).await.assert_error(400, "InvalidMaxSessionDuration", Some("max_session_duration"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "external_id": "a"})).await.assert_error(400, "InvalidExternalId", Some("external_id"));
    post(json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "surprise": true})).await.assert_error(400, "UnknownField", Some("surprise"));
    post(json!({"actions": ["s3:GetObject"], "requestor_account_id": "222222222222"}))
        .await
        .assert_error(400, "MissingField", Some("resource_arn"));
    post(json!({"resource_arn": "arn:aws:iam::111111111111:role/Admin", "actions": ["iam:UpdateAssumeRolePolicy"], "requestor_account_id": "222222222222", "allow_permissions_management": true}))
        .await
        .assert_error(400, "SensitiveService", Some("resource_arn"));
    stack
        .post_raw("create-owner-role", b"{not json".to_vec())
        .await
        .assert_error(400, "InvalidJson", None);
    stack
        .post_raw("create-owner-role", vec![b' '; 70 * 1024])
        .await
        .assert_error(413, "PayloadTooLarge", None);
    stack
        .request(Method::GET, "create-owner-role")
        .await
        .assert_error(405, "MethodNotAllowed", None);
    let iam = stack.iam("owner").await;
    assert!(
        iam.get_role().role_name(&name).send().await.is_err(),
        "bad input wrote nothing"
    );
}

#[tokio::test]
async fn role_not_managed_by_xacct_is_a_conflict_and_untouched() {
    let stack = Stack::load();
    let iam = stack.iam("owner").await;
    let name = unique("e2e-handmade");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name(&name)
        .path("/xacct/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let a = stack
        .post("create-owner-role", &owner_body(&name, &["s3:GetObject"]))
        .await;
    a.assert_error(409, "RoleNotManaged", Some("role_name"));
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert!(
        xacct_e2e::decode_policy(role.assume_role_policy_document().unwrap())
            .to_json()
            .contains("ec2.amazonaws.com")
    );
    assert!(
        iam.list_role_policies()
            .role_name(&name)
            .send()
            .await
            .unwrap()
            .policy_names()
            .is_empty()
    );
}

#[tokio::test]
async fn requestor_roles_for_services_carry_source_account_where_the_service_sets_it() {
    let stack = Stack::load();
    let iam = stack.iam("requestor").await;
    let owner_role = format!(
        "arn:aws:iam::111111111111:role/xacct/{}",
        unique("e2e-owner")
    );
    // ECS tasks and Step Functions set aws:SourceAccount when they assume a role (the
    // confused-deputy guard); Lambda execution roles and EC2 instance profiles do not, so
    // requiring it there would break the role.
    for (principal, guarded) in [
        ("lambda.amazonaws.com", false),
        ("ecs-tasks.amazonaws.com", true),
        ("ec2.amazonaws.com", false),
        ("states.amazonaws.com", true),
    ] {
        let body = json!({"owner_role_arn": owner_role, "service_principal": principal});
        let a = stack.post("create-requestor-resources", &body).await;
        assert_eq!(a.status, 200, "{principal}: {}", a.body);
        assert_eq!(
            a.body["policy"]["Statement"],
            json!([{"Sid": "AssumeOwnerRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": owner_role}])
        );
        assert_eq!(
            a.body["trust_policy"]["Statement"][0]["Principal"]["Service"],
            principal
        );
        let condition = &a.body["trust_policy"]["Statement"][0]["Condition"];
        if guarded {
            assert_eq!(
                condition,
                &json!({"StringEquals": {"aws:SourceAccount": "222222222222"}}),
                "{principal}"
            );
        } else {
            assert!(condition.is_null(), "{principal}: {condition}");
        }
        let name = a.body["role_name"].as_str().unwrap();
        let role = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .unwrap()
            .role
            .unwrap();
        assert!(
            role.arn()
                .starts_with("arn:aws:iam::222222222222:role/xacct/")
        );
        if principal == "ec2.amazonaws.com" {
            let profile = iam
                .get_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .unwrap()
                .instance_profile
                .unwrap();
            assert_eq!(profile.roles()[0].role_name(), name);
            assert_eq!(a.body["instance_profile_arn"], profile.arn());
        } else {
            assert!(a.body.get("instance_profile_arn").is_none());
        }
        let again = stack.post("create-requestor-resources", &body).await;
        assert_eq!(again.body["changed"], false, "{principal}");
    }
}

#[tokio::test]
async fn create_requestor_resources_refuses_bad_input() {
    let stack = Stack::load();
    let post = |body: Value| {
        let stack = stack.clone();
        async move { stack.post("create-requestor-resources", &body).await }
    };
    let owner = "arn:aws:iam::111111111111:role/xacct/x";
    post(json!({"owner_role_arn": owner, "service_principal": "iam.amazonaws.com"}))
        .await
        .assert_error(400, "ServicePrincipalNotAllowed", Some("service_principal"));
    // S3 never chains into another account's role: not a requestor principal.
    post(json!({"owner_role_arn": owner, "service_principal": "s3.amazonaws.com"}))
        .await
        .assert_error(400, "ServicePrincipalNotAllowed", Some("service_principal"));
    post(json!({"owner_role_arn": owner, "service_principal": "lambda"}))
        .await
        .assert_error(400, "InvalidServicePrincipal", Some("service_principal"));
    post(json!({"owner_role_arn": "arn:aws:iam::222222222222:role/xacct/x", "service_principal": "lambda.amazonaws.com"})).await.assert_error(400, "SameAccount", Some("owner_role_arn"));
    post(json!({"owner_role_arn": "arn:aws:s3:::bucket", "service_principal": "lambda.amazonaws.com"})).await.assert_error(400, "InvalidRoleArn", Some("owner_role_arn"));
    post(json!({"owner_role_arn": "arn:aws:iam::111111111111:user/bob", "service_principal": "lambda.amazonaws.com"})).await.assert_error(400, "InvalidRoleArn", Some("owner_role_arn"));
    stack
        .request(Method::GET, "create-requestor-resources")
        .await
        .assert_error(405, "MethodNotAllowed", None);
    // A wildcard would allow sts:AssumeRole on every role of the owner account.
    for wildcard in [
        "arn:aws:iam::111111111111:role/*",
        "arn:aws:iam::111111111111:role/xacct/",
        "arn:aws:iam::111111111111:role/a*b",
    ] {
        post(json!({"owner_role_arn": wildcard, "service_principal": "lambda.amazonaws.com"}))
            .await
            .assert_error(400, "InvalidRoleArn", Some("owner_role_arn"));
    }
}

#[tokio::test]
async fn bodies_must_be_objects_and_405_names_the_allowed_methods() {
    let stack = Stack::load();
    stack
        .post_raw(
            "list-permissions",
            br#"["arn:aws:s3:::xacct-demo-reports", ["read"]]"#.to_vec(),
        )
        .await
        .assert_error(400, "InvalidType", None);
    stack
        .post_raw(
            "create-owner-role",
            br#"["arn:aws:s3:::xacct-demo-reports", ["s3:GetObject"], "222222222222"]"#.to_vec(),
        )
        .await
        .assert_error(400, "InvalidType", None);
    stack
        .post_raw(
            "create-owner-role",
            br#"{"resource_arn": "a", "resource_arn": "b"}"#.to_vec(),
        )
        .await
        .assert_error(400, "DuplicateField", Some("resource_arn"));
    stack.post(
        "create-owner-role",
        &json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "requestor_role_arn": "arn:aws:iam::222222222222:role/*"}),
    )
    .await
    .assert_error(400, "InvalidRoleArn", Some("requestor_role_arn"));
    let http = reqwest::Client::new();
    for (function, allow) in [
        ("create-owner-role", "POST"),
        ("list-resources", "GET"),
        ("list-permissions", "GET, POST"),
    ] {
        let r = http
            .request(Method::OPTIONS, stack.url(function))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()["allow"], allow, "{function}");
    }
}

#[tokio::test]
async fn twenty_identical_creates_at_once_make_one_role() {
    let stack = Stack::load();
    let name = unique("e2e-race");
    let body = owner_body(&name, &["s3:GetObject", "s3:ListBucket"]);
    let answers =
        futures::future::join_all((0..20).map(|_| stack.post("create-owner-role", &body))).await;
    let mut external_ids = std::collections::BTreeSet::new();
    for a in &answers {
        match a.status {
            200 => {
                external_ids.insert(a.body["external_id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(a.body["error"]["retryable"], true, "{}", a.body),
            _ => panic!("unexpected answer {} {}", a.status, a.body),
        }
    }
    assert_eq!(
        external_ids.len(),
        1,
        "every answer names the one External ID the role has: {external_ids:?}"
    );
    let iam = stack.iam("owner").await;
    let roles = iam
        .list_roles()
        .path_prefix("/xacct/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name() == name)
            .count(),
        1
    );
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust = xacct_e2e::decode_policy(role.assume_role_policy_document().unwrap());
    assert_eq!(
        trust.statements[0]
            .condition
            .get("StringEquals", "sts:ExternalId")
            .unwrap()[0],
        *external_ids.iter().next().unwrap()
    );
    let policy = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("xacct-grant")
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(xacct_e2e::decode_policy(policy.policy_document())).unwrap(),
        answers.iter().find(|a| a.status == 200).unwrap().body["permissions_policy"]
    );
}

#[test]
fn the_contract_check_refuses_what_openapi_yaml_does_not_document() {
    let contract = xacct_e2e::contract();
    // A documented answer passes...
    contract.check(
        "revoke-grant",
        "post",
        200,
        &json!({"removed": [], "changed": false}),
    );
    // ...a missing field, an undocumented status and a wrong type do not.
    for (status, body) in [
        (200, json!({"removed": []})),
        (200, json!({"removed": "role", "changed": true})),
        (418, json!({"error": {"code": "Teapot", "message": "no"}})),
    ] {
        let caught =
            std::panic::catch_unwind(|| contract.check("revoke-grant", "post", status, &body));
        assert!(caught.is_err(), "{status} {body} passed");
    }
}
