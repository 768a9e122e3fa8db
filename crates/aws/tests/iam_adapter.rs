//! The IAM adapter against the SDK's own client, answered in process by `aws-smithy-mocks`:
//! what IAM returns (URL-encoded policy documents, pages) becomes xacct's typed view, with
//! the calls counted. No network, no moto.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::{EntityType, GroupDetail, PolicyDetail, RoleDetail, Tag, UserDetail};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use xacct_aws::humans::Human;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::roles::RoleListing;

/// IAM returns every policy document URL-encoded.
fn encoded(json: &str) -> String {
    percent_encoding::utf8_percent_encode(json, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn role(name: &str) -> RoleDetail {
    RoleDetail::builder()
        .role_name(name)
        .arn(format!("arn:aws:iam::111111111111:role/xacct/{name}"))
        .path("/xacct/")
        .assume_role_policy_document(encoded(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-0123456789"}}}]}"#,
        ))
        .tags(Tag::builder().key("xacct:managed").value("true").build().unwrap())
        .role_policy_list(
            PolicyDetail::builder()
                .policy_name("xacct-grant")
                .policy_document(encoded(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::reports"}]}"#,
                ))
                .build(),
        )
        .build()
}

#[tokio::test]
async fn role_details_are_decoded_and_paged_one_call_a_page() {
    let first = mock!(Client::get_account_authorization_details)
        .match_requests(|r| {
            r.marker().is_none() && r.filter() == [EntityType::Role] && r.max_items() == Some(1000)
        })
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("a"))
                .role_detail_list(role("b"))
                .is_truncated(true)
                .marker("page-2")
                .build()
        });
    let second = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("c"))
                .is_truncated(false)
                .build()
        });
    let store = IamRoleStore::new(mock_client!(
        aws_sdk_iam,
        RuleMode::MatchAny,
        [&first, &second]
    ));

    let (roles, next) = store.list_role_details(None).await.unwrap();
    assert_eq!(next.as_deref(), Some("page-2"));
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let a = &roles[0];
    assert!(a.is_managed());
    assert_eq!(a.external_id(), Some("ext-0123456789"));
    assert_eq!(
        a.inline["xacct-grant"].statements[0].action,
        Some(vec!["s3:ListBucket".to_owned()])
    );

    let (rest, next) = store.list_role_details(next.as_deref()).await.unwrap();
    assert_eq!((rest.len(), next), (1, None));
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

fn assume_policy() -> PolicyDetail {
    PolicyDetail::builder()
        .policy_name("xacct-assume-222222222222-g")
        .policy_document(encoded(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"AssumeOwnerRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/xacct/g","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-12-31T18:00:00Z"}}}]}"#,
        ))
        .build()
}

#[tokio::test]
async fn people_are_listed_with_their_inline_policies_only_when_asked() {
    let with_people = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.filter() == [EntityType::Role, EntityType::User, EntityType::Group])
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("a"))
                .user_detail_list(
                    UserDetail::builder()
                        .user_name("ana")
                        .arn("arn:aws:iam::111111111111:user/people/ana")
                        .path("/people/")
                        .user_policy_list(assume_policy())
                        .build(),
                )
                .group_detail_list(
                    GroupDetail::builder()
                        .group_name("team")
                        .arn("arn:aws:iam::111111111111:group/team")
                        .path("/")
                        .group_policy_list(assume_policy())
                        .build(),
                )
                .is_truncated(false)
                .build()
        });
    let roles_only = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.filter() == [EntityType::Role])
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("a"))
                .is_truncated(false)
                .build()
        });
    let store = IamRoleStore::new(mock_client!(
        aws_sdk_iam,
        RuleMode::MatchAny,
        [&with_people, &roles_only]
    ));
    let (page, next) = store.list_details(None, true).await.unwrap();
    assert_eq!(next, None);
    assert_eq!(page.roles.len(), 1);
    let people: Vec<(&Human, &str, &str)> = page
        .people
        .iter()
        .map(|p| (&p.who, p.arn.as_str(), p.path.as_str()))
        .collect();
    assert_eq!(
        people,
        [
            (
                &Human::User("ana".into()),
                "arn:aws:iam::111111111111:user/people/ana",
                "/people/"
            ),
            (
                &Human::Group("team".into()),
                "arn:aws:iam::111111111111:group/team",
                "/"
            ),
        ]
    );
    let condition = &page.people[0].inline["xacct-assume-222222222222-g"].statements[0].condition;
    assert_eq!(
        condition.get("DateLessThan", "aws:CurrentTime"),
        Some(&["2026-12-31T18:00:00Z".to_owned()][..])
    );
    let (roles, _) = store.list_role_details(None).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!((with_people.num_calls(), roles_only.num_calls()), (1, 1));
}
