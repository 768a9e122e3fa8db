//! The resource's own side on the local stack: each test seeds in moto what it needs (a KMS
//! key with its policy, a bucket's encryption and policy, a database with or without IAM
//! logins), makes a grant through the owner's functions and checks what xacct read there.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_sdk_s3::types::ServerSideEncryption;
use serde_json::{Value, json};
use xacct_e2e::{Stack, encrypted_bucket as bucket, kms_key as key, unique};

const REQUESTOR_ROLE: &str = "arn:aws:iam::222222222222:role/app";

async fn grant(stack: &Stack, body: Value) -> Value {
    let answer = stack.post("create-owner-role", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

fn bucket_grant(name: &str, actions: &[&str]) -> Value {
    json!({"resource_arn": format!("arn:aws:s3:::{name}"), "actions": actions, "requestor_account_id": "222222222222", "requestor_role_arn": REQUESTOR_ROLE, "role_name": unique("e2e-side")})
}

fn kms_statement(answer: &Value) -> Option<&Value> {
    answer["permissions_policy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "KmsKeyViaS3")
}

fn finding<'a>(answer: &'a Value, code: &str) -> Option<&'a Value> {
    answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

async fn check(stack: &Stack, answer: &Value) -> Value {
    let checked = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": answer["role_arn"], "principal_arn": REQUESTOR_ROLE, "external_id": answer["external_id"]}),
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    checked.body
}

fn decision<'a>(checked: &'a Value, action: &str) -> &'a Value {
    &checked["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == action)
        .unwrap()["decision"]
}

#[tokio::test]
async fn sse_kms_bucket_read_and_write_grants_carry_the_key_named_by_its_alias() {
    let stack = Stack::load();
    let (key_arn, alias) = key(&stack, None).await;
    let name = bucket(&stack, ServerSideEncryption::AwsKms, Some(&alias), None).await;
    let read = grant(&stack, bucket_grant(&name, &["s3:GetObject"])).await;
    let kms = kms_statement(&read).unwrap();
    assert_eq!(kms["Action"], "kms:Decrypt");
    assert_eq!(kms["Resource"], key_arn.as_str());
    assert_eq!(
        kms["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.us-east-1.amazonaws.com"
    );
    assert!(
        finding(&read, "KMS_KEY_POLICY_DOES_NOT_ALLOW").is_none(),
        "{read}"
    );
    let write = grant(&stack, bucket_grant(&name, &["s3:PutObject"])).await;
    assert_eq!(
        kms_statement(&write).unwrap()["Action"],
        json!(["kms:Decrypt", "kms:GenerateDataKey"])
    );
    let checked = check(&stack, &write).await;
    assert_eq!(decision(&checked, "s3:PutObject"), "allow", "{checked}");
    assert_eq!(checked["drift"], json!([]), "{checked}");
}

#[tokio::test]
async fn sse_s3_bucket_grant_has_no_kms_statement() {
    let stack = Stack::load();
    let name = bucket(&stack, ServerSideEncryption::Aes256, None, None).await;
    let answer = grant(
        &stack,
        bucket_grant(&name, &["s3:GetObject", "s3:PutObject"]),
    )
    .await;
    assert!(kms_statement(&answer).is_none(), "{answer}");
    assert!(!answer["permissions_policy"].to_string().contains("kms:"));
}

#[tokio::test]
async fn a_key_policy_without_iam_delegation_is_a_finding_and_the_check_says_objects_do_not_work() {
    let stack = Stack::load();
    let admin_only = r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeyAdmins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}"#;
    let (key_arn, _) = key(&stack, Some(admin_only)).await;
    let name = bucket(&stack, ServerSideEncryption::AwsKms, Some(&key_arn), None).await;
    let answer = grant(
        &stack,
        bucket_grant(&name, &["s3:GetObject", "s3:ListBucket"]),
    )
    .await;
    let f = finding(&answer, "KMS_KEY_POLICY_DOES_NOT_ALLOW").unwrap();
    let message = f["message"].as_str().unwrap();
    assert!(message.contains(&key_arn), "{message}");
    assert!(
        message.contains(r#""Sid":"AllowXacctGrantViaS3""#),
        "{message}"
    );
    assert!(
        message.contains(answer["role_arn"].as_str().unwrap()),
        "{message}"
    );
    let checked = check(&stack, &answer).await;
    assert_eq!(
        decision(&checked, "s3:GetObject"),
        "implicit_deny",
        "{checked}"
    );
    assert_eq!(decision(&checked, "s3:ListBucket"), "allow", "{checked}");
}

#[tokio::test]
async fn a_bucket_policy_deny_on_the_org_is_a_finding_naming_its_sid() {
    let stack = Stack::load();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOurOrg","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET","arn:aws:s3:::BUCKET/*"],"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#;
    let name = bucket(&stack, ServerSideEncryption::Aes256, None, Some(policy)).await;
    let answer = grant(
        &stack,
        bucket_grant(&name, &["s3:GetObject", "s3:ListBucket"]),
    )
    .await;
    let f = finding(&answer, "RESOURCE_POLICY_DENIES").unwrap();
    assert_eq!(f["statement"], "DenyOutsideOurOrg");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("`s3:GetObject`, `s3:ListBucket`")
            && message.contains("`aws:PrincipalOrgID` StringEquals `o-abcdefghij`"),
        "{message}"
    );
    let checked = check(&stack, &answer).await;
    assert_eq!(
        decision(&checked, "s3:GetObject"),
        "explicit_deny",
        "{checked}"
    );
}

/// A DB instance (or a cluster) with IAM database authentication on or off; its ARN and
/// resource ID.
async fn database(stack: &Stack, cluster: bool, iam_auth: bool) -> (String, String) {
    let rds = aws_sdk_rds::Client::new(&stack.sdk("owner").await);
    let id = unique("xacct-e2e-db");
    if cluster {
        let out = rds
            .create_db_cluster()
            .db_cluster_identifier(&id)
            .engine("aurora-postgresql")
            .master_username("xacct_demo")
            .master_user_password("xacct-local-demo-only")
            .enable_iam_database_authentication(iam_auth)
            .send()
            .await
            .unwrap()
            .db_cluster
            .unwrap();
        (
            out.db_cluster_arn.unwrap(),
            out.db_cluster_resource_id.unwrap(),
        )
    } else {
        let out = rds
            .create_db_instance()
            .db_instance_identifier(&id)
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .allocated_storage(20)
            .master_username("xacct_demo")
            .master_user_password("xacct-local-demo-only")
            .enable_iam_database_authentication(iam_auth)
            .send()
            .await
            .unwrap()
            .db_instance
            .unwrap();
        (out.db_instance_arn.unwrap(), out.dbi_resource_id.unwrap())
    }
}

fn login_grant(arn: &str) -> Value {
    json!({"resource_arn": arn, "actions": ["rds-db:connect"], "db_user": "app_reader", "requestor_account_id": "222222222222", "requestor_role_arn": REQUESTOR_ROLE, "role_name": unique("e2e-login")})
}

#[tokio::test]
async fn rds_db_connect_with_db_user_on_an_instance_and_a_cluster() {
    let stack = Stack::load();
    for cluster in [false, true] {
        let (arn, resource_id) = database(&stack, cluster, true).await;
        let answer = grant(&stack, login_grant(&arn)).await;
        let statement = &answer["permissions_policy"]["Statement"][0];
        assert_eq!(statement["Action"], "rds-db:connect");
        assert_eq!(
            statement["Resource"],
            format!("arn:aws:rds-db:us-east-1:111111111111:dbuser:{resource_id}/app_reader")
        );
        assert!(
            finding(&answer, "IAM_DATABASE_AUTHENTICATION_OFF").is_none(),
            "{answer}"
        );
        let command = answer["handoff"]["db_auth_token_command"]
            .as_str()
            .unwrap_or_else(|| panic!("no token command: {answer}"));
        assert!(
            command.starts_with("aws rds generate-db-auth-token --hostname ")
                && command.contains(" --region us-east-1 --username app_reader --profile "),
            "{command}"
        );
        let checked = check(&stack, &answer).await;
        assert_eq!(decision(&checked, "rds-db:connect"), "allow", "{checked}");
    }
}

#[tokio::test]
async fn a_database_without_iam_logins_is_a_finding() {
    let stack = Stack::load();
    let (arn, _) = database(&stack, false, false).await;
    let answer = grant(&stack, login_grant(&arn)).await;
    let f = finding(&answer, "IAM_DATABASE_AUTHENTICATION_OFF").unwrap();
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("--enable-iam-database-authentication"),
        "{f}"
    );
}
