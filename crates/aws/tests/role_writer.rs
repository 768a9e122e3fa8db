//! The role writer against an in-memory IAM: write counts, idempotency, update in place,
//! rollback, conflicts, dry runs, instance profiles and concurrent creates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use xacct_aws::fake::FakeIam;
use xacct_aws::roles::{
    MANAGED_TAG, RoleError, RoleSpec, RoleState, RoleStore, ensure_role, ensure_role_converging,
    remove_role,
};
use xacct_policy::{PolicyDocument, Statement};

fn spec(actions: &[&str]) -> RoleSpec {
    RoleSpec {
        name: "xacct-s3-222222222222-reports-1a2b3c4d".parse().unwrap(),
        path: "/xacct/".into(),
        description: "xacct grant".into(),
        trust_policy: PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#).unwrap(),
        policy_name: "xacct-grant".into(),
        policy: PolicyDocument::new(vec![Statement::allow("S3Object", actions.iter().map(|a| (*a).to_owned()).collect(), vec!["arn:aws:s3:::reports/*".into()])]),
        max_session_duration: 3600,
        tags: BTreeMap::from([(MANAGED_TAG.into(), "true".into()), ("xacct:resource".into(), "arn:aws:s3:::reports".into())]),
        identity_tags: vec!["xacct:resource".into()],
        permissions_boundary: Some("arn:aws:iam::111111111111:policy/xacct-boundary".parse().unwrap()),
        instance_profile: false,
    }
}

const ARN: &str = "arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b3c4d";

async fn ensure(
    iam: &FakeIam,
    spec: &RoleSpec,
    dry_run: bool,
) -> Result<xacct_aws::roles::RoleOutcome, RoleError> {
    let existing = iam.get_role(spec.name.as_str()).await.unwrap();
    ensure_role(iam, spec, existing, ARN, dry_run).await
}

#[tokio::test]
async fn first_create_makes_two_writes() {
    let iam = FakeIam::new("111111111111");
    let out = ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    assert!(out.created && out.changed);
    assert_eq!(out.writes, ["CreateRole", "PutRolePolicy"]);
    assert_eq!(iam.writes(), ["CreateRole", "PutRolePolicy"]);
    assert_eq!(out.arn, ARN);
}

#[tokio::test]
async fn repeat_create_makes_no_write_call() {
    let iam = FakeIam::new("111111111111");
    let first = ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    iam.clear_writes();
    let again = ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    assert!(!again.changed);
    assert!(iam.writes().is_empty());
    assert_eq!(again.role_id, first.role_id);
}

#[tokio::test]
async fn changed_actions_update_in_place_with_one_write() {
    let iam = FakeIam::new("111111111111");
    let first = ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    iam.clear_writes();
    let updated = ensure(&iam, &spec(&["s3:GetObject", "s3:PutObject"]), false)
        .await
        .unwrap();
    assert!(updated.changed && !updated.created);
    assert_eq!(iam.writes(), ["PutRolePolicy"]);
    assert_eq!(updated.role_id, first.role_id, "the role keeps its RoleId");
}

#[tokio::test]
async fn changed_trust_is_one_write() {
    let iam = FakeIam::new("111111111111");
    ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    iam.clear_writes();
    let mut s = spec(&["s3:GetObject"]);
    s.trust_policy.statements[0].condition.insert(
        "Bool",
        "aws:MultiFactorAuthPresent",
        vec!["true".into()],
    );
    ensure(&iam, &s, false).await.unwrap();
    assert_eq!(iam.writes(), ["UpdateAssumeRolePolicy"]);
}

/// `spec` for a grant that ends at `at`: the trust's `DateLessThan aws:CurrentTime` and the
/// `xacct:expires-at` tag, as `create-owner-role` writes them.
fn expiring(at: &str) -> RoleSpec {
    let mut s = spec(&["s3:GetObject"]);
    s.trust_policy.statements[0].condition.insert(
        "DateLessThan",
        "aws:CurrentTime",
        vec![at.to_owned()],
    );
    s.tags
        .insert(xacct_policy::tags::EXPIRES_AT.into(), at.to_owned());
    s
}

#[tokio::test]
async fn extending_a_grant_updates_the_trust_and_the_tag_in_place_and_nothing_else() {
    let iam = FakeIam::new("111111111111");
    let first = ensure(&iam, &expiring("2026-12-13T18:00:00Z"), false)
        .await
        .unwrap();
    iam.clear_writes();
    let later = expiring("2026-12-20T18:00:00Z");
    let out = ensure(&iam, &later, false).await.unwrap();
    // IAM has no call that writes a trust policy and a tag together: two writes is the least.
    assert_eq!(iam.writes(), ["UpdateAssumeRolePolicy", "TagRole"]);
    assert_eq!(out.changes, ["update trust policy", "update tags"]);
    assert_eq!(out.role_id, first.role_id, "updated in place");
    let previous = out.previous.unwrap().trust_policy.unwrap();
    assert_eq!(
        previous.statements[0]
            .condition
            .get("DateLessThan", "aws:CurrentTime"),
        Some(&["2026-12-13T18:00:00Z".to_owned()][..])
    );
    let role = iam.get_role(later.name.as_str()).await.unwrap().unwrap();
    assert_eq!(role.trust_policy.as_ref(), Some(&later.trust_policy));
    assert_eq!(
        role.tags
            .get(xacct_policy::tags::EXPIRES_AT)
            .map(String::as_str),
        Some("2026-12-20T18:00:00Z")
    );
    // The same extension again is no write.
    iam.clear_writes();
    ensure(&iam, &later, false).await.unwrap();
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn failure_after_create_role_deletes_the_role() {
    let iam = FakeIam::new("111111111111");
    iam.fail_next("PutRolePolicy", "MalformedPolicyDocument");
    let err = ensure(&iam, &spec(&["s3:GetObject"]), false)
        .await
        .unwrap_err();
    match err {
        RoleError::RolledBack { source, removed } => {
            assert_eq!(source.code, "MalformedPolicyDocument");
            assert_eq!(removed, ["role"]);
        }
        other => panic!("{other}"),
    }
    assert!(iam.role_names().is_empty(), "no orphan role");
    assert_eq!(iam.writes(), ["CreateRole", "DeleteRole"]);
}

#[tokio::test]
async fn failed_rollback_is_reported_not_hidden() {
    let iam = FakeIam::new("111111111111");
    iam.fail_next("PutRolePolicy", "LimitExceeded");
    iam.fail_next("DeleteRole", "ServiceFailure");
    let err = ensure(&iam, &spec(&["s3:GetObject"]), false)
        .await
        .unwrap_err();
    match &err {
        RoleError::RollbackFailed {
            source, rollback, ..
        } => {
            assert_eq!(
                (source.code.as_str(), rollback.code.as_str()),
                ("LimitExceeded", "ServiceFailure")
            );
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("may be left behind"));
}

#[tokio::test]
async fn unmanaged_role_is_a_conflict_and_untouched() {
    let iam = FakeIam::new("111111111111");
    let s = spec(&["s3:GetObject"]);
    iam.insert_role(
        RoleState {
            name: s.name.to_string(),
            arn: ARN.into(),
            role_id: "AROAHANDMADE".into(),
            path: "/xacct/".into(),
            description: None,
            max_session_duration: 3600,
            trust_policy: None,
            tags: BTreeMap::new(),
            permissions_boundary: None,
            created: None,
            last_used: None,
        },
        BTreeMap::new(),
    );
    let err = ensure(&iam, &s, false).await.unwrap_err();
    assert!(matches!(err, RoleError::NotManaged { .. }), "{err}");
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn role_of_another_grant_is_not_taken_over() {
    let iam = FakeIam::new("111111111111");
    ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    iam.clear_writes();
    let mut other = spec(&["s3:GetObject"]);
    other
        .tags
        .insert("xacct:resource".into(), "arn:aws:s3:::other".into());
    let err = ensure(&iam, &other, false).await.unwrap_err();
    assert!(matches!(err, RoleError::OtherGrant { .. }), "{err}");
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let iam = FakeIam::new("111111111111");
    let out = ensure(&iam, &spec(&["s3:GetObject"]), true).await.unwrap();
    assert!(out.changed && out.created && out.role_id.is_none());
    assert_eq!(
        out.changes,
        ["create role", "put inline policy `xacct-grant`"]
    );
    assert!(iam.writes().is_empty() && iam.role_names().is_empty());
    ensure(&iam, &spec(&["s3:GetObject"]), false).await.unwrap();
    iam.clear_writes();
    let out = ensure(&iam, &spec(&["s3:PutObject"]), true).await.unwrap();
    assert_eq!(out.changes, ["put inline policy `xacct-grant`"]);
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn ec2_gets_an_instance_profile_and_rolls_it_back_on_failure() {
    let iam = FakeIam::new("222222222222");
    let mut s = spec(&["s3:GetObject"]);
    s.instance_profile = true;
    let out = ensure(&iam, &s, false).await.unwrap();
    assert_eq!(
        out.writes,
        [
            "CreateRole",
            "PutRolePolicy",
            "CreateInstanceProfile",
            "AddRoleToInstanceProfile"
        ]
    );
    assert!(
        out.instance_profile_arn
            .unwrap()
            .contains(":instance-profile/xacct/")
    );
    iam.clear_writes();
    assert!(!ensure(&iam, &s, false).await.unwrap().changed);
    assert!(iam.writes().is_empty());

    let fresh = FakeIam::new("222222222222");
    fresh.fail_next("AddRoleToInstanceProfile", "LimitExceeded");
    let err = ensure(&fresh, &s, false).await.unwrap_err();
    assert!(matches!(err, RoleError::RolledBack { .. }), "{err}");
    assert!(
        fresh.role_names().is_empty() && fresh.profile_names().is_empty(),
        "no role or instance profile left behind"
    );
}

#[tokio::test]
async fn concurrent_identical_creates_make_one_role() {
    let iam = FakeIam::new("111111111111");
    let s = spec(&["s3:GetObject"]);
    let tasks = (0..20).map(|_| {
        let s = s.clone();
        let iam = &iam;
        async move {
            ensure_role_converging::<_, _, RoleError>(iam, s.name.as_str(), ARN, false, |_| {
                Ok(s.clone())
            })
            .await
        }
    });
    let results = futures::future::join_all(tasks).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(iam.role_names().len(), 1);
    assert_eq!(
        iam.writes().iter().filter(|w| **w == "CreateRole").count(),
        1
    );
}

#[tokio::test]
async fn remove_role_deletes_everything_once() {
    let iam = FakeIam::new("222222222222");
    let mut s = spec(&["s3:GetObject"]);
    s.instance_profile = true;
    ensure(&iam, &s, false).await.unwrap();
    let removal = remove_role(&iam, s.name.as_str()).await.unwrap();
    assert!(removal.changed);
    assert_eq!(removal.removed.len(), 3, "{:?}", removal.removed);
    assert!(iam.role_names().is_empty() && iam.profile_names().is_empty());
    let again = remove_role(&iam, s.name.as_str()).await.unwrap();
    assert!(!again.changed && again.removed.is_empty());
}
