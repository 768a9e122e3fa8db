//! Faults injected between the functions and moto (tests/faultproxy.py): a failure in the
//! middle of a create leaves nothing behind, transient errors are retried, a failing region
//! of discovery leaves the others intact, and the IAM write calls per create are counted.
//! Rules are narrowed to each test's own role name, so tests can run side by side.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use reqwest::Method;
use serde_json::{Value, json};
use xacct_e2e::{Stack, unique};

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

/// Discovery fault tests inject rules every list-resources call meets: one at a time.
static DISCOVERY_FAULTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn add_rule(stack: &Stack, rule: Value) -> String {
    let added = stack
        .proxy(Method::POST, "/__xacct/faults", Some(rule.clone()))
        .await;
    added["id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| added["id"].as_u64().map(|n| n.to_string()))
        .unwrap_or_else(|| panic!("rule {rule} refused: {added}"))
}

async fn hits(stack: &Stack, id: &str) -> u64 {
    let all = stack.proxy(Method::GET, "/__xacct/faults", None).await;
    all["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].to_string().trim_matches('"') == id)
        .map(|r| r["hits"].as_u64().unwrap())
        .unwrap_or_else(|| panic!("no rule {id} in {all}"))
}

async fn remove_rule(stack: &Stack, id: &str) {
    stack
        .proxy(Method::DELETE, &format!("/__xacct/faults/{id}"), None)
        .await;
}

fn grant(role_name: &str, actions: &[&str]) -> Value {
    json!({"resource_arn": BUCKET, "actions": actions, "requestor_account_id": "222222222222", "role_name": role_name})
}

#[tokio::test]
async fn failure_after_create_role_leaves_no_role() {
    let stack = Stack::load();
    let name = unique("e2e-rollback");
    let rule = add_rule(&stack, json!({"action": "iam:PutRolePolicy", "fault": "error", "status": 400, "code": "MalformedPolicyDocument", "contains": format!("RoleName={name}")})).await;
    let a = stack
        .post("create-owner-role", &grant(&name, &["s3:GetObject"]))
        .await;
    remove_rule(&stack, &rule).await;
    a.assert_error(502, "MalformedPolicyDocument", None);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was left behind"),
        "{}",
        a.body
    );
    let iam = stack.iam("owner").await;
    let err = iam.get_role().role_name(&name).send().await.unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("NoSuchEntity"),
        "no orphan role"
    );
}

#[tokio::test]
async fn failure_after_create_leaves_no_instance_profile() {
    let stack = Stack::load();
    let name = unique("e2e-profile-rb");
    let rule = add_rule(&stack, json!({"action": "iam:AddRoleToInstanceProfile", "fault": "error", "status": 409, "code": "LimitExceeded", "contains": format!("RoleName={name}")})).await;
    let a = stack.post("create-requestor-resources", &json!({"owner_role_arn": "arn:aws:iam::111111111111:role/xacct/x", "service_principal": "ec2.amazonaws.com", "role_name": name})).await;
    remove_rule(&stack, &rule).await;
    a.assert_error(502, "LimitExceeded", None);
    let iam = stack.iam("requestor").await;
    assert!(
        iam.get_role().role_name(&name).send().await.is_err(),
        "no orphan role"
    );
    assert!(
        iam.get_instance_profile()
            .instance_profile_name(&name)
            .send()
            .await
            .is_err(),
        "no orphan instance profile"
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let stack = Stack::load();
    let name = unique("e2e-retry");
    let throttle = add_rule(&stack, json!({"action": "iam:CreateRole", "fault": "throttle", "count": 2, "contains": format!("RoleName={name}")})).await;
    let failing = add_rule(&stack, json!({"action": "iam:PutRolePolicy", "fault": "error", "status": 500, "code": "ServiceFailure", "count": 1, "contains": format!("RoleName={name}")})).await;
    let a = stack
        .post("create-owner-role", &grant(&name, &["s3:GetObject"]))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(hits(&stack, &throttle).await, 2);
    assert_eq!(hits(&stack, &failing).await, 1);
    remove_rule(&stack, &throttle).await;
    remove_rule(&stack, &failing).await;
}

#[tokio::test]
async fn iam_write_calls_per_create_are_two_zero_one() {
    let stack = Stack::load();
    let name = unique("e2e-count");
    let mut rules = Vec::new();
    for action in [
        "CreateRole",
        "PutRolePolicy",
        "UpdateAssumeRolePolicy",
        "UpdateRole",
        "TagRole",
        "DeleteRolePolicy",
        "DeleteRole",
    ] {
        let id = add_rule(&stack, json!({"action": format!("iam:{action}"), "fault": "observe", "count": -1, "contains": format!("RoleName={name}")})).await;
        rules.push((action, id));
    }
    let writes = |stack: Stack, rules: Vec<(&'static str, String)>| async move {
        let mut total = Vec::new();
        for (action, id) in &rules {
            for _ in 0..hits(&stack, id).await {
                total.push(*action);
            }
        }
        total
    };
    assert_eq!(
        stack
            .post("create-owner-role", &grant(&name, &["s3:GetObject"]))
            .await
            .status,
        200
    );
    let first = writes(stack.clone(), rules.clone()).await;
    assert_eq!(first, ["CreateRole", "PutRolePolicy"]);
    assert_eq!(
        stack
            .post("create-owner-role", &grant(&name, &["s3:GetObject"]))
            .await
            .body["changed"],
        false
    );
    assert_eq!(
        writes(stack.clone(), rules.clone()).await,
        first,
        "a repeat makes no write call"
    );
    assert_eq!(
        stack
            .post(
                "create-owner-role",
                &grant(&name, &["s3:GetObject", "s3:ListBucket"])
            )
            .await
            .body["changed"],
        true
    );
    assert_eq!(
        writes(stack.clone(), rules.clone()).await,
        ["CreateRole", "PutRolePolicy", "PutRolePolicy"],
        "an update is one write"
    );
    for (_, id) in rules {
        remove_rule(&stack, &id).await;
    }
}

#[tokio::test]
async fn failing_region_becomes_a_partial_failure() {
    let _one_at_a_time = DISCOVERY_FAULTS.lock().await;
    let stack = Stack::load();
    let rule = add_rule(&stack, json!({"service": "ec2", "action": "DescribeInstances", "region": "eu-west-1", "fault": "error", "status": 403, "code": "UnauthorizedOperation", "count": -1})).await;
    let a = stack
        .get("list-resources", &[("region", "us-east-1,eu-west-1")])
        .await;
    remove_rule(&stack, &rule).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let failures = a.body["partial_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (
            failures[0]["service"].as_str(),
            failures[0]["region"].as_str(),
            failures[0]["code"].as_str()
        ),
        (
            Some("ec2"),
            Some("eu-west-1"),
            Some("UnauthorizedOperation")
        )
    );
    let resources = a.body["resources"].as_array().unwrap();
    assert!(
        resources
            .iter()
            .any(|r| r["service"] == "ec2" && r["region"] == "us-east-1"),
        "the other region's instances are there"
    );
    assert!(
        !resources
            .iter()
            .any(|r| r["service"] == "ec2" && r["region"] == "eu-west-1")
    );
    assert!(
        resources
            .iter()
            .any(|r| r["service"] == "s3" && r["region"] == "eu-west-1"),
        "other services of that region are there"
    );
}

#[tokio::test]
async fn failing_tag_read_keeps_the_resources_and_names_what_lacks_tags() {
    let _one_at_a_time = DISCOVERY_FAULTS.lock().await;
    let stack = Stack::load();
    let rule = add_rule(&stack, json!({"service": "tagging", "action": "GetResources", "region": "eu-west-1", "fault": "error", "status": 400, "code": "AccessDeniedException", "count": -1})).await;
    let a = stack
        .get("list-resources", &[("region", "us-east-1,eu-west-1")])
        .await;
    remove_rule(&stack, &rule).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let failures: Vec<(&str, &str, &str)> = a.body["partial_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["service"].as_str().unwrap(),
                f["region"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            ("s3", "eu-west-1", "AccessDeniedException"),
            ("lambda", "eu-west-1", "AccessDeniedException")
        ]
    );
    let resources = a.body["resources"].as_array().unwrap();
    for service in ["s3", "lambda", "ec2"] {
        assert!(
            resources
                .iter()
                .any(|r| r["service"] == service && r["region"] == "eu-west-1"),
            "{service} in eu-west-1 is still listed"
        );
    }
    let tagged = resources
        .iter()
        .find(|r| r["name"] == "xacct-demo-report-builder")
        .unwrap();
    assert_eq!(
        tagged["tags"]["project"], "xacct-demo",
        "the other region's tags are there"
    );
}
