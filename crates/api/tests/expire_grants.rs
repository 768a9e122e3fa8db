//! The expiry sweep over the in-memory IAM with a clock passed in (never sleeping): it
//! revokes exactly the expired grants of its side, is bounded per run and idempotent, and a
//! grant that fails does not stop the others; the next run finishes it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use common::{FakeOrg, deps, deps_in, lookup};
use xacct_api::expire_grants::{Side, sweep, sweep_all};
use xacct_api::hub::{Hub, Organization};
use xacct_api::lifecycle::{OwnerGrant, tags};
use xacct_aws::fake::FakeIam;
use xacct_aws::humans::{Human, HumanStore};
use xacct_aws::roles::{RoleSpec, ensure_role};
use xacct_policy::expiry::Expiry;
use xacct_policy::naming::human_policy_name;
use xacct_policy::trust::human_assume_policy;
use xacct_policy::{Arn, PolicyDocument, Statement};

/// 2026-12-06T...: the clock every test passes in.
const NOW: i64 = 1_796_500_000;
const SCHEDULE: &str = "arn:aws:scheduler:us-east-1:111111111111:schedule/default/xacct-expire";

fn policy(resource: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(
        "Grant",
        vec!["s3:ListBucket".into()],
        vec![resource.into()],
    )])
}

/// An owner grant named `name` that ends `ends_in` seconds after [`NOW`] (`None`: never).
async fn owner_grant(iam: &FakeIam, name: &str, ends_in: Option<i64>) {
    let grant = OwnerGrant {
        resource: format!("arn:aws:s3:::{name}").parse().unwrap(),
        requestor: "222222222222".parse().unwrap(),
        requestor_role: None,
        require_mfa: false,
        org: None,
        expires_at: ends_in.map(|s| Expiry::from_epoch(NOW + s)),
        db_user: None,
    };
    let spec = RoleSpec {
        name: name.parse().unwrap(),
        path: "/xacct/".into(),
        description: "d".into(),
        trust_policy: grant.trust("ext-0123456789".parse().unwrap()).document(),
        policy_name: "xacct-grant".into(),
        policy: policy(&format!("arn:aws:s3:::{name}")),
        max_session_duration: 3600,
        tags: grant.tags(),
        identity_tags: vec![],
        permissions_boundary: None,
        instance_profile: false,
    };
    ensure_role(iam, &spec, None, "", false).await.unwrap();
}

/// Any role: `path` and `role_tags` as given, with an inline policy.
async fn role(iam: &FakeIam, name: &str, path: &str, role_tags: &[(&str, String)]) {
    let spec = RoleSpec {
        name: name.parse().unwrap(),
        path: path.into(),
        description: "d".into(),
        trust_policy: policy("arn:aws:s3:::x"),
        policy_name: "p".into(),
        policy: policy("arn:aws:s3:::x"),
        max_session_duration: 3600,
        tags: role_tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        identity_tags: vec![],
        permissions_boundary: None,
        instance_profile: false,
    };
    ensure_role(iam, &spec, None, "", false).await.unwrap();
}

fn ended(seconds_ago: i64) -> String {
    Expiry::from_epoch(NOW - seconds_ago).to_string()
}

/// A requestor role for a service, recording the owner grant's expiry.
async fn requestor_role(iam: &FakeIam, name: &str, ends_in: Option<i64>) {
    let mut t = vec![
        (tags::MANAGED, "true".to_owned()),
        (
            tags::OWNER_ROLE,
            "arn:aws:iam::111111111111:role/xacct/g".to_owned(),
        ),
    ];
    if let Some(s) = ends_in {
        t.push((tags::EXPIRES_AT, Expiry::from_epoch(NOW + s).to_string()));
    }
    role(iam, name, "/xacct/", &t).await;
}

fn arns(grants: &[xacct_api::expire_grants::SweptGrant]) -> Vec<String> {
    grants.iter().map(|g| g.principal_arn.clone()).collect()
}

fn arn(name: &str) -> String {
    format!("arn:aws:iam::111111111111:role/xacct/{name}")
}

#[tokio::test]
async fn the_sweep_removes_exactly_the_expired_xacct_grants_of_its_side() {
    let deps = deps();
    let iam = &deps.roles;
    owner_grant(iam, "ended-an-hour-ago", Some(-3600)).await;
    owner_grant(iam, "ends-this-second", Some(0)).await;
    owner_grant(iam, "ends-in-a-second", Some(1)).await;
    owner_grant(iam, "permanent", None).await;
    // Someone else's roles carrying xacct's expiry tag: not under /xacct/, or not tagged
    // as managed.
    let grant_tags = |managed: &str| {
        vec![
            (tags::MANAGED, managed.to_owned()),
            (tags::RESOURCE, "arn:aws:s3:::x".to_owned()),
            (tags::REQUESTOR, "222222222222".to_owned()),
            (tags::EXPIRES_AT, ended(60)),
        ]
    };
    role(iam, "outside-the-path", "/", &grant_tags("true")).await;
    role(iam, "not-managed", "/xacct/", &grant_tags("false")).await;
    requestor_role(iam, "requestor-ended", Some(-60)).await;
    requestor_role(iam, "requestor-running", Some(60)).await;
    requestor_role(iam, "requestor-permanent", None).await;

    let report = sweep(&deps, Side::Owner, SCHEDULE, NOW, 25).await.unwrap();
    assert_eq!(
        arns(&report.revoked),
        [arn("ended-an-hour-ago"), arn("ends-this-second")]
    );
    assert_eq!(report.revoked[0].expires_at, ended(3600));
    assert_eq!(
        report.revoked[0].removed,
        [
            "inline policy `xacct-grant`".to_owned(),
            format!("role `{}`", arn("ended-an-hour-ago"))
        ]
    );
    assert!(report.failed.is_empty() && report.skipped.is_empty() && !report.more);
    assert_eq!(report.examined, 9);
    let mut left = iam.role_names();
    left.sort();
    assert_eq!(
        left,
        [
            "ends-in-a-second",
            "not-managed",
            "outside-the-path",
            "permanent",
            "requestor-ended",
            "requestor-permanent",
            "requestor-running"
        ]
    );

    // The requestor side's sweep takes its own expired roles and nothing of the owner's.
    let report = sweep(&deps, Side::Requestor, SCHEDULE, NOW, 25)
        .await
        .unwrap();
    assert_eq!(arns(&report.revoked), [arn("requestor-ended")]);
    assert!(!iam.role_names().contains(&"requestor-ended".to_owned()));
    assert_eq!(iam.role_names().len(), 6);

    // A second later, the grant that ended then goes too.
    let later = sweep(&deps, Side::Owner, SCHEDULE, NOW + 1, 25)
        .await
        .unwrap();
    assert_eq!(arns(&later.revoked), [arn("ends-in-a-second")]);
}

#[tokio::test]
async fn a_sweep_stopped_at_its_limit_finishes_on_the_next_runs_and_then_changes_nothing() {
    let deps = deps();
    for i in 0..5 {
        owner_grant(&deps.roles, &format!("ended-{i}"), Some(-10)).await;
    }
    owner_grant(&deps.roles, "running", Some(10)).await;
    let mut revoked = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let report = sweep(&deps, Side::Owner, SCHEDULE, NOW, 2).await.unwrap();
        runs.push((report.revoked.len(), report.more));
        revoked.extend(arns(&report.revoked));
    }
    assert_eq!(runs, [(2, true), (2, true), (1, false)]);
    assert_eq!(
        revoked,
        (0..5)
            .map(|i| arn(&format!("ended-{i}")))
            .collect::<Vec<_>>()
    );
    assert_eq!(deps.roles.role_names(), ["running"]);
    // Idempotent: a run with nothing expired lists and writes nothing.
    deps.roles.clear_writes();
    let again = sweep(&deps, Side::Owner, SCHEDULE, NOW, 2).await.unwrap();
    assert!(again.revoked.is_empty() && again.failed.is_empty() && !again.more);
    assert!(deps.roles.writes().is_empty(), "{:?}", deps.roles.writes());
}

#[tokio::test]
async fn one_grant_failing_does_not_stop_the_others_and_the_next_run_finishes_it() {
    let deps = deps();
    for name in ["a", "b", "c"] {
        owner_grant(&deps.roles, name, Some(-10)).await;
    }
    // The first DeleteRole fails after the grant's policy is gone: `a` is left powerless
    // and half-removed.
    deps.roles.fail_next("DeleteRole", "ServiceFailure");
    let report = sweep(&deps, Side::Owner, SCHEDULE, NOW, 25).await.unwrap();
    assert_eq!(arns(&report.failed), [arn("a")]);
    assert_eq!(report.failed[0].code.as_deref(), Some("ServiceFailure"));
    assert_eq!(arns(&report.revoked), [arn("b"), arn("c")]);
    assert_eq!(deps.roles.role_names(), ["a"]);

    let next = sweep(&deps, Side::Owner, SCHEDULE, NOW, 25).await.unwrap();
    assert_eq!(arns(&next.revoked), [arn("a")]);
    assert_eq!(next.revoked[0].removed, [format!("role `{}`", arn("a"))]);
    assert!(next.failed.is_empty());
    assert!(deps.roles.role_names().is_empty());
}

#[tokio::test]
async fn a_failed_listing_fails_the_run_and_removes_nothing() {
    let deps = deps();
    owner_grant(&deps.roles, "a", Some(-10)).await;
    deps.roles
        .fail_next("GetAccountAuthorizationDetails", "Throttling");
    let err = sweep(&deps, Side::Owner, SCHEDULE, NOW, 25)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 502, "{err:?}");
    assert_eq!(deps.roles.role_names(), ["a"]);
}

#[tokio::test]
async fn a_scheduled_run_takes_the_schedule_from_its_event_and_now_from_the_clock() {
    let deps = deps();
    // Against the real clock: ended a minute ago, and ending in a day.
    let real_now = xacct_api::runtime::now_epoch();
    owner_grant(&deps.roles, "ended", Some(real_now - NOW - 60)).await;
    owner_grant(&deps.roles, "running", Some(real_now - NOW + 86_400)).await;
    // EventBridge Scheduler's input as template.yaml writes it, with the context attribute
    // filled in; keys the sweep does not know are ignored.
    let event: xacct_api::expire_grants::SweepEvent = serde_json::from_value(serde_json::json!(
        {"schedule_arn": SCHEDULE, "detail-type": "Scheduled Event"}
    ))
    .unwrap();
    assert_eq!(event.schedule_arn.as_deref(), Some(SCHEDULE));
    let hub = common::alone(deps);
    let report = xacct_api::expire_grants::handle(
        &hub,
        Side::Owner,
        25,
        lambda_http::LambdaEvent::new(event, lambda_http::Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(arns(&report.revoked), [arn("ended")]);
    assert_eq!(hub.home.roles.role_names(), ["running"]);
    // Not a hub: no member account is swept, and the report says nothing of members.
    assert!(report.members.is_empty());
    assert!(
        serde_json::to_value(&report)
            .unwrap()
            .get("members")
            .is_none()
    );
}

const OWNER: &str = "arn:aws:iam::222222222222:role/xacct/g";

/// A person's inline policy named `policy` allowing the assume of [`OWNER`], ending
/// `ends_in` seconds after [`NOW`] (`None`: never); `extra` adds an action xacct never
/// writes.
async fn person_policy(
    iam: &FakeIam,
    who: &Human,
    policy: &str,
    ends_in: Option<i64>,
    extra: bool,
) {
    iam.insert_human(who);
    let owner: Arn = OWNER.parse().unwrap();
    let mut doc =
        human_assume_policy(&owner, false, ends_in.map(|s| Expiry::from_epoch(NOW + s))).unwrap();
    if extra {
        doc.statements[0]
            .action
            .as_mut()
            .unwrap()
            .push("sts:TagSession".into());
    }
    iam.put_human_policy(who, policy, &doc).await.unwrap();
}

fn xacct_policy_name() -> String {
    human_policy_name(&OWNER.parse().unwrap())
}

#[tokio::test]
async fn the_requestor_sweep_removes_exactly_the_expired_xacct_policies_of_people() {
    let deps = deps();
    let iam = &deps.roles;
    let name = xacct_policy_name();
    let user = |n: &str| Human::User(n.to_owned());
    let group = |n: &str| Human::Group(n.to_owned());
    person_policy(iam, &user("ended"), &name, Some(-60), false).await;
    person_policy(iam, &group("ended-team"), &name, Some(0), false).await;
    person_policy(iam, &user("running"), &name, Some(60), false).await;
    person_policy(iam, &group("permanent-team"), &name, None, false).await;
    // Expired, but not xacct's: a document xacct never writes under its name, and its
    // document under another name.
    person_policy(iam, &user("edited"), &name, Some(-60), true).await;
    person_policy(iam, &user("renamed"), "their-own", Some(-60), false).await;
    // A requestor role that ended too: the same run takes both kinds.
    requestor_role(iam, "requestor-ended", Some(-60)).await;

    // The owner side reads no person.
    let owner_side = sweep(&deps, Side::Owner, SCHEDULE, NOW, 25).await.unwrap();
    assert!(owner_side.revoked.is_empty(), "{owner_side:?}");
    assert_eq!(owner_side.examined, 1);

    let report = sweep(&deps, Side::Requestor, SCHEDULE, NOW, 25)
        .await
        .unwrap();
    assert_eq!(
        arns(&report.revoked),
        [
            arn("requestor-ended"),
            "arn:aws:iam::111111111111:group/ended-team".to_owned(),
            "arn:aws:iam::111111111111:user/ended".to_owned(),
        ]
    );
    assert_eq!(report.examined, 7);
    let person = &report.revoked[2];
    assert_eq!(person.policy_name.as_deref(), Some(name.as_str()));
    assert_eq!(person.expires_at, ended(60));
    assert_eq!(
        person.removed,
        [format!("inline policy `{name}` of user `ended`")]
    );
    assert!(report.failed.is_empty() && report.skipped.is_empty() && !report.more);
    assert!(iam.human_policies(&user("ended")).is_empty());
    assert!(iam.human_policies(&group("ended-team")).is_empty());
    for (who, policy) in [
        (user("running"), name.as_str()),
        (group("permanent-team"), name.as_str()),
        (user("edited"), name.as_str()),
        (user("renamed"), "their-own"),
    ] {
        assert!(
            iam.human_policies(&who).contains_key(policy),
            "{who:?} lost {policy}"
        );
    }
    // Idempotent: the next run at the same time writes nothing.
    iam.clear_writes();
    let again = sweep(&deps, Side::Requestor, SCHEDULE, NOW, 25)
        .await
        .unwrap();
    assert!(again.revoked.is_empty() && iam.writes().is_empty());
}

#[tokio::test]
async fn a_persons_policy_that_fails_to_go_is_removed_by_the_next_run_and_others_go_meanwhile() {
    let deps = deps();
    let iam = &deps.roles;
    let name = xacct_policy_name();
    for n in ["a", "b", "c"] {
        person_policy(iam, &Human::User(n.to_owned()), &name, Some(-10), false).await;
    }
    iam.fail_next("DeleteUserPolicy", "ServiceFailure");
    let report = sweep(&deps, Side::Requestor, SCHEDULE, NOW, 2)
        .await
        .unwrap();
    assert_eq!(arns(&report.failed), ["arn:aws:iam::111111111111:user/a"]);
    assert_eq!(report.failed[0].code.as_deref(), Some("ServiceFailure"));
    assert_eq!(arns(&report.revoked), ["arn:aws:iam::111111111111:user/b"]);
    assert!(report.more, "bounded: the limit counts people too");
    let next = sweep(&deps, Side::Requestor, SCHEDULE, NOW, 2)
        .await
        .unwrap();
    assert_eq!(
        arns(&next.revoked),
        [
            "arn:aws:iam::111111111111:user/a",
            "arn:aws:iam::111111111111:user/c"
        ]
    );
    for n in ["a", "b", "c"] {
        assert!(iam.human_policies(&Human::User(n.to_owned())).is_empty());
    }
}

#[tokio::test]
async fn a_hubs_sweep_runs_in_each_member_through_its_spoke_and_reports_one_it_cannot_reach() {
    const HUB: &str = "111111111111";
    const MEMBER: &str = "333333333333";
    const BARE: &str = "555555555555";
    let (home, member) = (deps_in(HUB), deps_in(MEMBER));
    owner_grant(&home.roles, "hub-ended", Some(-60)).await;
    owner_grant(&member.roles, "member-ended", Some(-60)).await;
    owner_grant(&member.roles, "member-running", Some(86_400)).await;
    let hub = Hub {
        home,
        account: lookup(HUB),
        organization: Some(Organization {
            id: "o-abcdefghij".parse().unwrap(),
            members: FakeOrg::new(&[HUB, MEMBER, BARE], vec![(MEMBER, member)]),
            concurrency: 2,
        }),
    };
    let report = sweep_all(&hub, Side::Owner, SCHEDULE, NOW, 25)
        .await
        .unwrap();
    assert_eq!(arns(&report.revoked), [arn("hub-ended")]);
    let org = &hub.organization.as_ref().unwrap().members;
    let in_member = &org.members[&MEMBER.parse().unwrap()];
    assert_eq!(in_member.roles.role_names(), ["member-running"]);
    // The hub's own account is swept with its own credentials, each member once, with a
    // session named after the schedule.
    let session = xacct_policy::organization::session_name(SCHEDULE);
    let mut opened = org.opened();
    opened.sort();
    assert_eq!(
        opened,
        [
            (MEMBER.to_owned(), session.clone()),
            (BARE.to_owned(), session)
        ]
    );
    /// A member's account, the grants revoked there, and why it could not be swept.
    type Outcome<'a> = (&'a str, Option<Vec<String>>, Option<&'a str>);
    let members: Vec<Outcome> = report
        .members
        .iter()
        .map(|m| {
            (
                m.account_id.as_str(),
                m.report
                    .as_ref()
                    .map(|r| r.revoked.iter().map(|g| g.principal_arn.clone()).collect()),
                m.code.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            (
                MEMBER,
                Some(vec![
                    "arn:aws:iam::333333333333:role/xacct/member-ended".to_owned()
                ]),
                None
            ),
            (BARE, None, Some("SpokeRoleUnreachable")),
        ]
    );
}
