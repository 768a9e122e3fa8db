//! The role writer through the SDK's own IAM client under faults, answered in process by
//! `aws-smithy-mocks` with IAM's real error bodies: a failure after `CreateRole` removes
//! what was made, throttling and server errors are retried within xacct's bound, and a
//! first create is exactly two write calls. Each test's rules are the whole of IAM it may
//! reach: a call no rule answers fails the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::create_instance_profile::CreateInstanceProfileOutput;
use aws_sdk_iam::operation::create_role::CreateRoleOutput;
use aws_sdk_iam::operation::delete_instance_profile::DeleteInstanceProfileOutput;
use aws_sdk_iam::operation::delete_role::DeleteRoleOutput;
use aws_sdk_iam::operation::delete_role_policy::DeleteRolePolicyOutput;
use aws_sdk_iam::operation::put_role_policy::PutRolePolicyOutput;
use aws_sdk_iam::types::{InstanceProfile, Role};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use xacct_aws::config::{MAX_ATTEMPTS, retry_config};
use xacct_aws::iam::IamRoleStore;
use xacct_aws::roles::{MANAGED_TAG, RoleError, RoleOutcome, RoleSpec, ensure_role};
use xacct_policy::{PolicyDocument, Statement};

const NAME: &str = "xacct-s3-222222222222-reports-1a2b3c4d";
const ARN: &str = "arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b3c4d";

fn spec(instance_profile: bool) -> RoleSpec {
    RoleSpec {
        name: NAME.parse().unwrap(),
        path: "/xacct/".into(),
        description: "xacct grant".into(),
        trust_policy: PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#).unwrap(),
        policy_name: "xacct-grant".into(),
        policy: PolicyDocument::new(vec![Statement::allow(
            "S3Object",
            vec!["s3:GetObject".to_owned()],
            vec!["arn:aws:s3:::reports/*".into()],
        )]),
        max_session_duration: 3600,
        tags: BTreeMap::from([(MANAGED_TAG.into(), "true".into())]),
        identity_tags: Vec::new(),
        permissions_boundary: None,
        instance_profile,
    }
}

/// IAM's error answer, as the Query protocol sends it.
fn iam_error(status: u16, code: &str) -> Response {
    let body = format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#
    );
    Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

fn created_role() -> CreateRoleOutput {
    CreateRoleOutput::builder()
        .role(
            Role::builder()
                .path("/xacct/")
                .role_name(NAME)
                .role_id("AROAEXAMPLE")
                .arn(ARN)
                .create_date(DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
}

/// The IAM adapter over a client that only these rules answer, with xacct's retries.
fn store(rules: &[&Rule]) -> IamRoleStore {
    IamRoleStore::new(mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules, |c| c
        .retry_config(retry_config())))
}

async fn create(store: &IamRoleStore, spec: &RoleSpec) -> Result<RoleOutcome, RoleError> {
    ensure_role(store, spec, None, ARN, false).await
}

#[tokio::test]
async fn failure_after_create_role_deletes_the_role_through_the_sdk() {
    let create_role = mock!(Client::create_role).then_output(created_role);
    let put_policy = mock!(Client::put_role_policy)
        .then_http_response(|| iam_error(400, "MalformedPolicyDocument"));
    let delete_role = mock!(Client::delete_role)
        .match_requests(|r| r.role_name() == Some(NAME))
        .then_output(|| DeleteRoleOutput::builder().build());
    let iam = store(&[&create_role, &put_policy, &delete_role]);

    let err = create(&iam, &spec(false)).await.unwrap_err();

    match err {
        RoleError::RolledBack { source, removed } => {
            assert_eq!(
                (source.operation, source.code.as_str()),
                ("PutRolePolicy", "MalformedPolicyDocument")
            );
            assert_eq!(removed, ["role"]);
        }
        other => panic!("{other}"),
    }
    assert_eq!(put_policy.num_calls(), 1, "a client error is not retried");
    assert_eq!(delete_role.num_calls(), 1, "no orphan role");
}

#[tokio::test]
async fn failure_after_create_removes_the_instance_profile_and_the_role() {
    let create_role = mock!(Client::create_role).then_output(created_role);
    let put_policy =
        mock!(Client::put_role_policy).then_output(|| PutRolePolicyOutput::builder().build());
    let create_profile = mock!(Client::create_instance_profile).then_output(|| {
        CreateInstanceProfileOutput::builder()
            .instance_profile(
                InstanceProfile::builder()
                    .path("/xacct/")
                    .instance_profile_name(NAME)
                    .instance_profile_id("AIPAEXAMPLE")
                    .arn("arn:aws:iam::111111111111:instance-profile/xacct/x")
                    .create_date(DateTime::from_secs(0))
                    .set_roles(Some(Vec::new()))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let add_role = mock!(Client::add_role_to_instance_profile)
        .then_http_response(|| iam_error(409, "LimitExceeded"));
    let delete_profile = mock!(Client::delete_instance_profile)
        .match_requests(|r| r.instance_profile_name() == Some(NAME))
        .then_output(|| DeleteInstanceProfileOutput::builder().build());
    let delete_policy =
        mock!(Client::delete_role_policy).then_output(|| DeleteRolePolicyOutput::builder().build());
    let delete_role =
        mock!(Client::delete_role).then_output(|| DeleteRoleOutput::builder().build());
    let iam = store(&[
        &create_role,
        &put_policy,
        &create_profile,
        &add_role,
        &delete_profile,
        &delete_policy,
        &delete_role,
    ]);

    let err = create(&iam, &spec(true)).await.unwrap_err();

    match err {
        RoleError::RolledBack { source, removed } => {
            assert_eq!(source.code, "LimitExceeded");
            assert_eq!(removed, ["instance profile", "inline policy", "role"]);
        }
        other => panic!("{other}"),
    }
    let removals = [&delete_profile, &delete_policy, &delete_role].map(|r| r.num_calls());
    assert_eq!(removals, [1, 1, 1], "no orphan profile, policy or role");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let create_role = mock!(Client::create_role)
        .sequence()
        .http_response(|| iam_error(400, "Throttling"))
        .times(2)
        .output(created_role)
        .build();
    let put_policy = mock!(Client::put_role_policy)
        .sequence()
        .http_response(|| iam_error(500, "ServiceFailure"))
        .output(|| PutRolePolicyOutput::builder().build())
        .build();
    let iam = store(&[&create_role, &put_policy]);

    let out = create(&iam, &spec(false)).await.unwrap();

    assert!(out.created);
    assert_eq!((create_role.num_calls(), put_policy.num_calls()), (3, 2));
}

#[tokio::test]
async fn retries_stop_at_the_bound() {
    let create_role = mock!(Client::create_role)
        .sequence()
        .http_response(|| iam_error(400, "Throttling"))
        .repeatedly()
        .build();
    let iam = store(&[&create_role]);

    let err = create(&iam, &spec(false)).await.unwrap_err();

    assert!(
        matches!(&err, RoleError::Aws(e) if e.code == "Throttling"),
        "{err}"
    );
    assert_eq!(create_role.num_calls(), MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_first_create_is_exactly_two_write_calls() {
    // Any other call (TagRole, UpdateRole, a second PutRolePolicy...) matches no rule and
    // fails the create.
    let create_role = mock!(Client::create_role)
        .match_requests(|r| {
            r.role_name() == Some(NAME)
                && r.path() == Some("/xacct/")
                && r.tags().iter().any(|t| t.key() == MANAGED_TAG)
        })
        .then_output(created_role);
    let put_policy = mock!(Client::put_role_policy)
        .match_requests(|r| r.policy_name() == Some("xacct-grant"))
        .then_output(|| PutRolePolicyOutput::builder().build());
    let iam = store(&[&create_role, &put_policy]);

    let out = create(&iam, &spec(false)).await.unwrap();

    assert_eq!(out.writes, ["CreateRole", "PutRolePolicy"]);
    assert_eq!((create_role.num_calls(), put_policy.num_calls()), (1, 1));
}
