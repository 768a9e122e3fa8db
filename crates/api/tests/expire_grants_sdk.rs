//! The sweep through the SDK's own IAM client, answered in process by `aws-smithy-mocks`
//! with IAM's real error bodies: a grant whose `DeleteRole` IAM refuses is reported and
//! retried by the next run, while the other expired grant is removed in the same run; a
//! person's policy extended since the listing is read again and left alone. The rules are
//! the whole of IAM the sweep may reach: a call no rule answers fails the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::delete_role::DeleteRoleOutput;
use aws_sdk_iam::operation::delete_role_policy::DeleteRolePolicyOutput;
use aws_sdk_iam::operation::delete_user_policy::DeleteUserPolicyOutput;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::get_user_policy::GetUserPolicyOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_instance_profiles_for_role::ListInstanceProfilesForRoleOutput;
use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
use aws_sdk_iam::types::{PolicyDetail, Role, RoleDetail, Tag, UserDetail};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use xacct_api::expire_grants::{Side, sweep};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::config::retry_config;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;

/// 2026-12-06T...: after both grants ended.
const NOW: i64 = 1_796_500_000;

fn arn(name: &str) -> String {
    format!("arn:aws:iam::111111111111:role/xacct/{name}")
}

fn tags() -> Vec<Tag> {
    [
        ("xacct:managed", "true"),
        ("xacct:resource", "arn:aws:s3:::reports"),
        ("xacct:requestor", "222222222222"),
        ("xacct:expires-at", "2026-12-01T00:00:00Z"),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap())
    .collect()
}

fn role(name: &str) -> Role {
    Role::builder()
        .path("/xacct/")
        .role_name(name)
        .role_id(format!("AROA{}", name.to_uppercase()))
        .arn(arn(name))
        .create_date(DateTime::from_secs(0))
        .set_tags(Some(tags()))
        .build()
        .unwrap()
}

fn detail(name: &str) -> RoleDetail {
    RoleDetail::builder()
        .path("/xacct/")
        .role_name(name)
        .arn(arn(name))
        .set_tags(Some(tags()))
        .build()
}

/// IAM's error answer, as the Query protocol sends it.
fn iam_error(status: u16, code: &str) -> Response {
    let body = format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#
    );
    Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

fn deps(rules: &[&Rule]) -> IamDeps<IamRoleStore> {
    let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules, |c| c
        .retry_config(retry_config()));
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    IamDeps {
        roles: IamRoleStore::new(client),
        account: AccountLookup::known(&config, "111111111111".parse().unwrap()),
        permissions_boundary: None,
    }
}

#[tokio::test]
async fn a_grant_iam_refuses_to_delete_does_not_stop_the_other_and_the_next_run_retries_it() {
    let listing = mock!(Client::get_account_authorization_details).then_output(|| {
        GetAccountAuthorizationDetailsOutput::builder()
            .role_detail_list(detail("stuck"))
            .role_detail_list(detail("ended"))
            .is_truncated(false)
            .build()
    });
    let get_stuck = mock!(Client::get_role)
        .match_requests(|r| r.role_name() == Some("stuck"))
        .then_output(|| GetRoleOutput::builder().role(role("stuck")).build());
    let get_ended = mock!(Client::get_role)
        .match_requests(|r| r.role_name() == Some("ended"))
        .then_output(|| GetRoleOutput::builder().role(role("ended")).build());
    let list_policies = mock!(Client::list_role_policies).then_output(|| {
        ListRolePoliciesOutput::builder()
            .policy_names("xacct-grant")
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let delete_policy =
        mock!(Client::delete_role_policy).then_output(|| DeleteRolePolicyOutput::builder().build());
    let list_attached = mock!(Client::list_attached_role_policies)
        .then_output(|| ListAttachedRolePoliciesOutput::builder().build());
    let list_profiles = mock!(Client::list_instance_profiles_for_role).then_output(|| {
        ListInstanceProfilesForRoleOutput::builder()
            .set_instance_profiles(Some(Vec::new()))
            .build()
            .unwrap()
    });
    // IAM refuses to delete `stuck` (someone attached something IAM will not let go of).
    let delete_stuck = mock!(Client::delete_role)
        .match_requests(|r| r.role_name() == Some("stuck"))
        .then_http_response(|| iam_error(409, "DeleteConflict"));
    let delete_ended = mock!(Client::delete_role)
        .match_requests(|r| r.role_name() == Some("ended"))
        .then_output(|| DeleteRoleOutput::builder().build());
    let deps = deps(&[
        &listing,
        &get_stuck,
        &get_ended,
        &list_policies,
        &delete_policy,
        &list_attached,
        &list_profiles,
        &delete_stuck,
        &delete_ended,
    ]);

    let report = sweep(&deps, Side::Owner, "schedule", NOW, 25)
        .await
        .unwrap();

    let failed: Vec<(&str, Option<&str>)> = report
        .failed
        .iter()
        .map(|g| (g.principal_arn.as_str(), g.code.as_deref()))
        .collect();
    assert_eq!(failed, [(arn("stuck").as_str(), Some("DeleteConflict"))]);
    let revoked: Vec<&str> = report
        .revoked
        .iter()
        .map(|g| g.principal_arn.as_str())
        .collect();
    assert_eq!(revoked, [arn("ended").as_str()]);
    assert_eq!(
        report.revoked[0].removed,
        [
            "inline policy `xacct-grant`".to_owned(),
            format!("role `{}`", arn("ended"))
        ]
    );
    assert_eq!(listing.num_calls(), 1, "one page, one call");
    assert_eq!(delete_stuck.num_calls(), 1, "a client error is not retried");
    assert_eq!(delete_ended.num_calls(), 1);

    // The next run lists `stuck` again (it is still there) and tries it once more.
    let next = sweep(&deps, Side::Owner, "schedule", NOW, 25)
        .await
        .unwrap();
    assert_eq!(next.failed[0].principal_arn, arn("stuck"));
    assert_eq!(delete_stuck.num_calls(), 2);
}

/// xacct's policy on a person for owner role `g` of 222222222222, ending at `at`.
fn person_policy(at: &str) -> String {
    let owner: xacct_policy::Arn = "arn:aws:iam::222222222222:role/xacct/g".parse().unwrap();
    let at = xacct_policy::expiry::Expiry::parse(at).unwrap();
    xacct_policy::trust::human_assume_policy(&owner, false, Some(at))
        .unwrap()
        .to_json()
}

#[tokio::test]
async fn a_persons_policy_extended_since_the_listing_is_read_again_and_left_alone() {
    let name = "xacct-assume-222222222222-g";
    let listing = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.filter().len() == 3)
        .then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .user_detail_list(
                    UserDetail::builder()
                        .user_name("ana")
                        .arn("arn:aws:iam::111111111111:user/ana")
                        .path("/")
                        .user_policy_list(
                            PolicyDetail::builder()
                                .policy_name(name)
                                .policy_document(person_policy("2026-12-01T00:00:00Z"))
                                .build(),
                        )
                        .build(),
                )
                .is_truncated(false)
                .build()
        });
    // Between the listing and the delete, the owner's grant was extended and the
    // requestor's policy with it.
    let read_again = mock!(Client::get_user_policy)
        .match_requests(move |r| r.user_name() == Some("ana") && r.policy_name() == Some(name))
        .then_output(move || {
            GetUserPolicyOutput::builder()
                .user_name("ana")
                .policy_name(name)
                .policy_document(person_policy("2027-01-01T00:00:00Z"))
                .build()
                .unwrap()
        });
    let delete =
        mock!(Client::delete_user_policy).then_output(|| DeleteUserPolicyOutput::builder().build());
    let deps = deps(&[&listing, &read_again, &delete]);
    let report = sweep(&deps, Side::Requestor, "test", NOW, 25)
        .await
        .unwrap();
    assert!(
        report.revoked.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(report.skipped[0].code.as_deref(), Some("NotExpired"));
    assert_eq!(report.skipped[0].policy_name.as_deref(), Some(name));
    assert_eq!(
        (
            listing.num_calls(),
            read_again.num_calls(),
            delete.num_calls()
        ),
        (1, 1, 0)
    );
}
