//! Grants that expire, on the local stack: the sweep (the library function the scheduled
//! `expire-grants` / `expire-requestor-grants` run, called here with a clock passed in, since
//! the local stack serves Function URLs only) removes exactly the expired grants on each side
//! and nothing else, a bounded run finishes on the next, and extending a grant is an update.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use xacct_api::expire_grants::{Side, SweepReport, sweep};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;
use xacct_e2e::{Stack, unique};
use xacct_policy::expiry::Expiry;

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

/// The sweeps judge the whole stack at a clock each test picks: one test's run would remove
/// what another just made to expire at its own clock. The tests of this file take turns.
static SWEEPS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn deps(stack: &Stack, side: &str) -> IamDeps<IamRoleStore> {
    let config = stack.sdk(side).await;
    IamDeps {
        roles: IamRoleStore::new(aws_sdk_iam::Client::new(&config)),
        account: AccountLookup::new(&config),
        permissions_boundary: None,
    }
}

/// An owner grant through `create-owner-role`; its answer.
async fn grant(stack: &Stack, name: &str, expires_in: Option<&str>) -> Value {
    let mut body = json!({"resource_arn": BUCKET, "actions": ["s3:ListBucket"],
        "requestor_account_id": stack.requestor_account(), "role_name": name});
    if let Some(d) = expires_in {
        body["expires_in"] = json!(d);
    }
    let created = stack.post("create-owner-role", &body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.body
}

async fn role_exists(stack: &Stack, side: &str, name: &str) -> bool {
    match stack
        .iam(side)
        .await
        .get_role()
        .role_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            false
        }
        Err(e) => panic!("{e:?}"),
    }
}

fn revoked(report: &SweepReport) -> Vec<String> {
    let mut arns: Vec<String> = report
        .revoked
        .iter()
        .map(|g| g.principal_arn.clone())
        .collect();
    arns.sort();
    arns
}

#[tokio::test]
async fn the_sweep_removes_exactly_the_expired_grants_on_each_side_a_bounded_run_at_a_time() {
    let _turn = SWEEPS.lock().await;
    let stack = Stack::load();
    let names: Vec<String> = (0..3)
        .map(|i| unique(&format!("sweep-ended-{i}")))
        .collect();
    let mut ended = Vec::new();
    for name in &names {
        ended.push(grant(&stack, name, Some("1m")).await);
    }
    let running = unique("sweep-running");
    grant(&stack, &running, Some("2h")).await;
    let permanent = unique("sweep-permanent");
    grant(&stack, &permanent, None).await;
    // Someone else's role under /xacct/ that looks like an expired grant but is not
    // tagged as xacct's.
    let foreign = unique("sweep-foreign");
    stack
        .iam("owner")
        .await
        .create_role()
        .role_name(&foreign)
        .path("/xacct/")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .tags(aws_sdk_iam::types::Tag::builder().key("xacct:managed").value("false").build().unwrap())
        .tags(aws_sdk_iam::types::Tag::builder().key("xacct:resource").value(BUCKET).build().unwrap())
        .tags(aws_sdk_iam::types::Tag::builder().key("xacct:requestor").value(stack.requestor_account()).build().unwrap())
        .tags(aws_sdk_iam::types::Tag::builder().key("xacct:expires-at").value("2020-01-01T00:00:00Z").build().unwrap())
        .send()
        .await
        .unwrap();
    // The requestor side records the owner grant's expiry on its role.
    let requestor = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": ended[0]["role_arn"], "service_principal": "lambda.amazonaws.com",
                "role_name": unique("sweep-req-ended"), "expires_at": ended[0]["expires_at"]}),
        )
        .await;
    assert_eq!(requestor.status, 200, "{}", requestor.body);
    assert_eq!(requestor.body["expires_at"], ended[0]["expires_at"]);
    let requestor_running = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": ended[1]["role_arn"], "service_principal": "lambda.amazonaws.com",
                "role_name": unique("sweep-req-permanent")}),
        )
        .await;
    assert_eq!(requestor_running.status, 200, "{}", requestor_running.body);

    // The clock: one second after the short grants end, long before the others do.
    let last_end = ended
        .iter()
        .map(|g| {
            Expiry::parse(g["expires_at"].as_str().unwrap())
                .unwrap()
                .epoch()
        })
        .max()
        .unwrap();
    let now = last_end + 1;
    let owner = deps(&stack, "owner").await;
    // Before the expiry, nothing is removed.
    let early = sweep(&owner, Side::Owner, "e2e", now - 61, 2)
        .await
        .unwrap();
    assert!(early.revoked.is_empty(), "{early:?}");

    let first = sweep(&owner, Side::Owner, "e2e", now, 2).await.unwrap();
    assert_eq!((first.revoked.len(), first.more), (2, true), "{first:?}");
    let second = sweep(&owner, Side::Owner, "e2e", now, 2).await.unwrap();
    assert_eq!(
        (second.revoked.len(), second.more),
        (1, false),
        "{second:?}"
    );
    assert!(first.failed.is_empty() && second.failed.is_empty());
    let mut both = revoked(&first);
    both.extend(revoked(&second));
    both.sort();
    let mut expected: Vec<String> = ended
        .iter()
        .map(|g| g["role_arn"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(both, expected);
    // Idempotent: nothing left to do.
    let third = sweep(&owner, Side::Owner, "e2e", now, 2).await.unwrap();
    assert!(
        third.revoked.is_empty() && third.failed.is_empty(),
        "{third:?}"
    );
    for name in &names {
        assert!(!role_exists(&stack, "owner", name).await, "{name}");
    }
    for name in [&running, &permanent, &foreign] {
        assert!(role_exists(&stack, "owner", name).await, "{name}");
    }

    let requestor_side = deps(&stack, "requestor").await;
    let swept = sweep(&requestor_side, Side::Requestor, "e2e", now, 25)
        .await
        .unwrap();
    assert_eq!(
        revoked(&swept),
        [requestor.body["role_arn"].as_str().unwrap().to_owned()]
    );
    assert!(
        role_exists(
            &stack,
            "requestor",
            requestor_running.body["role_name"].as_str().unwrap()
        )
        .await
    );

    // Extending a grant is an update in place: its trust and its tag, nothing else.
    let extended = grant(&stack, &running, Some("3h")).await;
    assert_eq!(
        extended["changes"],
        json!(["update trust policy", "update tags"]),
        "{extended}"
    );
    assert_eq!(extended["access_diff"]["change"], "replaces", "{extended}");

    for name in [&running, &permanent] {
        let arn = format!("arn:aws:iam::{}:role/xacct/{name}", stack.owner_account());
        stack.post("revoke-grant", &json!({"role_arn": arn})).await;
    }
}

/// A new user (or group, with `group`) in the requestor account.
async fn person(stack: &Stack, prefix: &str, group: bool) -> String {
    let iam = stack.iam("requestor").await;
    let name = unique(prefix);
    if group {
        iam.create_group().group_name(&name).send().await.unwrap();
    } else {
        iam.create_user().user_name(&name).send().await.unwrap();
    }
    name
}

/// xacct's inline policy for `owner_role` on a person, as IAM holds it, if any.
async fn person_policy(
    stack: &Stack,
    key: &str,
    name: &str,
    policy: &str,
) -> Option<xacct_policy::PolicyDocument> {
    let iam = stack.iam("requestor").await;
    let text = if key == "group_name" {
        iam.get_group_policy()
            .group_name(name)
            .policy_name(policy)
            .send()
            .await
            .ok()
            .map(|o| o.policy_document)
    } else {
        iam.get_user_policy()
            .user_name(name)
            .policy_name(policy)
            .send()
            .await
            .ok()
            .map(|o| o.policy_document)
    };
    text.map(|t| xacct_e2e::decode_policy(&t))
}

#[tokio::test]
async fn a_persons_policy_ends_with_the_owner_grant_and_the_requestor_sweep_removes_it() {
    let _turn = SWEEPS.lock().await;
    let stack = Stack::load();
    let ending = grant(&stack, &unique("people-ending"), Some("1m")).await;
    let running = grant(&stack, &unique("people-running"), Some("2h")).await;
    let ends = Expiry::parse(ending["expires_at"].as_str().unwrap()).unwrap();
    // Two people whose grant ends in a minute, one whose grant runs on, one permanent.
    let cases = [
        (
            "user_name",
            person(&stack, "ana", false).await,
            &ending,
            true,
        ),
        (
            "group_name",
            person(&stack, "team", true).await,
            &ending,
            true,
        ),
        (
            "user_name",
            person(&stack, "bob", false).await,
            &running,
            true,
        ),
        (
            "user_name",
            person(&stack, "carl", false).await,
            &running,
            false,
        ),
    ];
    let mut policy_names = Vec::new();
    for (key, name, owner, ends_too) in &cases {
        let mut body = json!({"owner_role_arn": owner["role_arn"], *key: name});
        if *ends_too {
            body["expires_at"] = owner["expires_at"].clone();
        }
        let created = stack.post("create-requestor-resources", &body).await;
        assert_eq!(created.status, 200, "{}", created.body);
        let policy_name = created.body["policy_name"].as_str().unwrap().to_owned();
        // The written policy carries the expiry as AWS reads it, and the answer says so.
        let live = person_policy(&stack, key, name, &policy_name)
            .await
            .unwrap();
        let expected =
            ends_too.then(|| Expiry::parse(owner["expires_at"].as_str().unwrap()).unwrap());
        assert_eq!(Expiry::of_document(&live), expected, "{name}");
        assert_eq!(
            created.body["handoff"]["expires_at"].as_str(),
            expected.map(|e| e.to_string()).as_deref()
        );
        policy_names.push(policy_name);
    }
    // Someone else's expired copy of xacct's policy under their own name stays.
    let ana = &cases[0].1;
    let copy = person_policy(&stack, "user_name", ana, &policy_names[0])
        .await
        .unwrap();
    stack
        .iam("requestor")
        .await
        .put_user_policy()
        .user_name(ana)
        .policy_name("their-own")
        .policy_document(copy.to_json())
        .send()
        .await
        .unwrap();
    // check-requestor-role, now (before the end): the person may assume the owner role.
    let check = stack
        .post(
            "check-requestor-role",
            &json!({"user_name": ana, "owner_role_arn": ending["role_arn"]}),
        )
        .await;
    assert_eq!(check.body["ok"], true, "{}", check.body);

    let requestor_side = deps(&stack, "requestor").await;
    let early = sweep(
        &requestor_side,
        Side::Requestor,
        "e2e",
        ends.epoch() - 1,
        25,
    )
    .await
    .unwrap();
    let ours = |report: &SweepReport| -> Vec<String> {
        revoked(report)
            .into_iter()
            .filter(|arn| {
                cases
                    .iter()
                    .any(|(_, name, _, _)| arn.ends_with(&format!("/{name}")))
            })
            .collect()
    };
    assert!(ours(&early).is_empty(), "{early:?}");
    let swept = sweep(&requestor_side, Side::Requestor, "e2e", ends.epoch(), 25)
        .await
        .unwrap();
    let account = stack.requestor_account();
    let mut expected = vec![
        format!("arn:aws:iam::{account}:user/{}", cases[0].1),
        format!("arn:aws:iam::{account}:group/{}", cases[1].1),
    ];
    expected.sort();
    assert_eq!(ours(&swept), expected, "{swept:?}");
    for ((key, name, _, _), policy_name) in cases.iter().zip(&policy_names) {
        let left = person_policy(&stack, key, name, policy_name).await;
        assert_eq!(
            left.is_none(),
            name == &cases[0].1 || name == &cases[1].1,
            "{name}"
        );
    }
    assert!(
        person_policy(&stack, "user_name", ana, "their-own")
            .await
            .is_some()
    );

    for owner in [&ending, &running] {
        stack
            .post("revoke-grant", &json!({"role_arn": owner["role_arn"]}))
            .await;
    }
}
