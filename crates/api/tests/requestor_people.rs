//! A person's grant that expires, over the in-memory IAM: create-requestor-resources writes
//! the owner grant's expiry into the person's inline policy as `DateLessThan
//! aws:CurrentTime` (and into the hand-off), check-requestor-role judges it at the time it
//! is given, and an extended or revoked one is still recognised as xacct's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::deps;
use xacct_api::create_requestor_resources::{CreateRequestorRequest, create_requestor_resources};
use xacct_api::requestor_lifecycle::{
    RequestorTarget, check_requestor_side, revoke_requestor_side,
};
use xacct_aws::humans::Human;
use xacct_policy::PolicyDocument;
use xacct_policy::expiry::Expiry;
use xacct_policy::handoff::expiry_note;

const OWNER: &str = "arn:aws:iam::222222222222:role/xacct/xacct-s3-111111111111-reports";
const POLICY: &str = "xacct-assume-222222222222-xacct-s3-111111111111-reports";

fn in_days(days: i64) -> Expiry {
    Expiry::from_epoch(xacct_api::runtime::now_epoch() + days * 86_400)
}

fn request(user: &str, expires_at: Option<Expiry>) -> CreateRequestorRequest {
    CreateRequestorRequest {
        owner_role_arn: OWNER.to_owned(),
        user_name: Some(user.to_owned()),
        expires_at: expires_at.map(|e| e.to_string()),
        ..CreateRequestorRequest::default()
    }
}

fn target(user: &str) -> RequestorTarget {
    RequestorTarget {
        user_name: Some(user.to_owned()),
        owner_role_arn: Some(OWNER.to_owned()),
        ..RequestorTarget::default()
    }
}

#[tokio::test]
async fn a_persons_policy_allows_only_until_the_owner_grants_expiry() {
    let deps = deps();
    let ana = Human::User("ana".to_owned());
    deps.roles.insert_human(&ana);
    let at = in_days(3);
    let answer = create_requestor_resources(&deps, "test", request("ana", Some(at)))
        .await
        .unwrap();
    assert_eq!(answer.expires_at, Some(at.to_string()));
    let written = &deps.roles.human_policies(&ana)[POLICY];
    assert_eq!(written, &answer.policy);
    for statement in &written.statements {
        assert_eq!(
            statement.condition.get("DateLessThan", "aws:CurrentTime"),
            Some(&[at.to_string()][..]),
            "every statement ends at the expiry"
        );
    }
    // The hand-off says when access ends, and its code writes the same policy.
    assert_eq!(answer.handoff.expires_at, Some(at.to_string()));
    assert!(answer.handoff.notes.contains(&expiry_note(at)));
    let template: serde_json::Value = serde_json::from_str(&answer.handoff.cloudformation).unwrap();
    let in_code: PolicyDocument = serde_json::from_value(
        template["Resources"]["UserPolicy"]["Properties"]["PolicyDocument"].clone(),
    )
    .unwrap();
    assert_eq!(&in_code, written);
    assert!(answer.handoff.terraform.contains(&at.to_string()));

    // check-requestor-role: allowed the second before, not from the expiry on.
    let before = check_requestor_side(&deps, "test", target("ana"), at.epoch() - 1)
        .await
        .unwrap();
    assert!(before.ok, "{:?}", before.problems);
    let after = check_requestor_side(&deps, "test", target("ana"), at.epoch())
        .await
        .unwrap();
    assert!(!after.ok);
    assert_eq!(
        after.problems[0].code,
        xacct_api::requestor_lifecycle::ProblemCode::AssumeNotAllowed
    );
    assert!(
        after.problems[0].message.contains("aws:CurrentTime"),
        "{}",
        after.problems[0].message
    );
}

#[tokio::test]
async fn extending_a_persons_grant_is_one_write_and_a_permanent_one_stays_permanent() {
    let deps = deps();
    let team = Human::Group("team".to_owned());
    deps.roles.insert_human(&team);
    let group = |at: Option<Expiry>| CreateRequestorRequest {
        owner_role_arn: OWNER.to_owned(),
        group_name: Some("team".to_owned()),
        expires_at: at.map(|e| e.to_string()),
        ..CreateRequestorRequest::default()
    };
    create_requestor_resources(&deps, "test", group(Some(in_days(1))))
        .await
        .unwrap();
    deps.roles.clear_writes();
    // The earlier policy is recognised as xacct's despite its expiry, and replaced.
    let later = in_days(5);
    let extended = create_requestor_resources(&deps, "test", group(Some(later)))
        .await
        .unwrap();
    assert!(extended.changed);
    assert_eq!(deps.roles.writes(), ["PutGroupPolicy"]);
    assert_eq!(
        Expiry::of_document(&deps.roles.human_policies(&team)[POLICY]),
        Some(later)
    );
    deps.roles.clear_writes();
    let again = create_requestor_resources(&deps, "test", group(Some(later)))
        .await
        .unwrap();
    assert!(!again.changed && deps.roles.writes().is_empty());
    // Without an expiry the grant is permanent, and the hand-off names no end.
    let permanent = create_requestor_resources(&deps, "test", group(None))
        .await
        .unwrap();
    assert_eq!(permanent.expires_at, None);
    assert_eq!(permanent.handoff.expires_at, None);
    assert_eq!(
        Expiry::of_document(&deps.roles.human_policies(&team)[POLICY]),
        None
    );
}

#[tokio::test]
async fn a_persons_expiry_in_the_past_is_refused_before_any_write() {
    let deps = deps();
    let ana = Human::User("ana".to_owned());
    deps.roles.insert_human(&ana);
    let err = create_requestor_resources(&deps, "test", request("ana", Some(in_days(-1))))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code.as_str(), err.field.as_deref()),
        (400, "ExpiryInPast", Some("expires_at"))
    );
    assert!(deps.roles.writes().is_empty());
    assert!(deps.roles.human_policies(&ana).is_empty());
}

#[tokio::test]
async fn revoking_a_person_removes_a_policy_that_carries_an_expiry() {
    let deps = deps();
    let ana = Human::User("ana".to_owned());
    deps.roles.insert_human(&ana);
    create_requestor_resources(&deps, "test", request("ana", Some(in_days(2))))
        .await
        .unwrap();
    let out = revoke_requestor_side(&deps, "test", target("ana"))
        .await
        .unwrap();
    assert_eq!(
        out.removed,
        [format!("inline policy `{POLICY}` of user `ana`")]
    );
    assert!(deps.roles.human_policies(&ana).is_empty());
}
