//! xacct as an organization hub, end to end over HTTP on the local stack: the owner account
//! is the management account and the hub of three members, two with the spoke role the
//! member StackSet creates and one without. Discovery of two members in one call, a grant
//! created in a member and revoked, the accounts with their spokes' reachability, and a
//! member without the spoke role refused with a 403 (or a partial failure), never a 500.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use xacct_e2e::Stack;

/// A member of the stack's organization: its account, and its demo bucket when it has one.
struct Member {
    account: String,
    bucket: Option<String>,
}

/// The members with the spoke role, and the one without.
fn members(stack: &Stack) -> (Vec<Member>, Member) {
    let org = &stack.file["organization"];
    assert!(
        org.is_object(),
        "the stack has no organization: {}",
        stack.file
    );
    let all: Vec<(bool, Member)> = org["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["spoke"].as_bool().unwrap(),
                Member {
                    account: m["account"].as_str().unwrap().to_owned(),
                    bucket: m["buckets"][0].as_str().map(str::to_owned),
                },
            )
        })
        .collect();
    let (with, without): (Vec<_>, Vec<_>) = all.into_iter().partition(|(spoke, _)| *spoke);
    assert!(with.len() >= 2 && without.len() == 1);
    (
        with.into_iter().map(|(_, m)| m).collect(),
        without.into_iter().map(|(_, m)| m).next().unwrap(),
    )
}

fn arns_by_account(body: &Value) -> Vec<(String, String)> {
    body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap_or_default().to_owned(),
                r["arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn one_call_discovers_the_resources_of_two_member_accounts() {
    let stack = Stack::load();
    let (with, _) = members(&stack);
    let (a, b) = (&with[0], &with[1]);
    let accounts = format!("{},{}", a.account, b.account);
    let answer = stack
        .get(
            "list-resources",
            &[
                ("account_id", accounts.as_str()),
                ("service", "s3"),
                ("region", "us-east-1"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["partial_failures"],
        json!([]),
        "{}",
        answer.body
    );
    let found = arns_by_account(&answer.body);
    for m in [a, b] {
        let bucket = format!("arn:aws:s3:::{}", m.bucket.as_ref().unwrap());
        assert!(
            found.contains(&(m.account.clone(), bucket.clone())),
            "{bucket} in {}: {found:?}",
            m.account
        );
    }
    // Each account sees only its own: the owner's demo buckets are not in the answer.
    assert!(
        found
            .iter()
            .all(|(account, _)| account == &a.account || account == &b.account),
        "{found:?}"
    );
}

#[tokio::test]
async fn discovery_of_all_accounts_reports_the_member_without_a_spoke_as_a_partial_failure() {
    let stack = Stack::load();
    let (with, without) = members(&stack);
    let answer = stack
        .get(
            "list-resources",
            &[
                ("account_id", "all"),
                ("service", "s3"),
                ("region", "us-east-1"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let found = arns_by_account(&answer.body);
    let owner = stack.owner_account();
    for account in with.iter().map(|m| &m.account).chain([&owner]) {
        assert!(
            found.iter().any(|(a, _)| a == account),
            "{account}: {found:?}"
        );
    }
    assert_eq!(
        answer.body["partial_failures"],
        json!([{
            "account_id": without.account,
            "code": "SpokeRoleUnreachable",
            "message": answer.body["partial_failures"][0]["message"],
        }]),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_grant_in_a_member_account_is_created_there_with_its_boundary_and_revoked() {
    let stack = Stack::load();
    let (with, _) = members(&stack);
    let member = &with[0];
    let bucket = format!("arn:aws:s3:::{}", member.bucket.as_ref().unwrap());
    let created = stack
        .post(
            "create-owner-role",
            &json!({
                "account_id": member.account,
                "resource_arn": bucket,
                "actions": ["s3:GetObject", "s3:ListBucket"],
                "requestor_account_id": stack.requestor_account(),
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let role_arn = created.body["role_arn"].as_str().unwrap().to_owned();
    assert!(
        role_arn.starts_with(&format!("arn:aws:iam::{}:role/xacct/", member.account)),
        "{role_arn}"
    );
    // The role is in the member, with the member's spoke boundary; the hub has none.
    let grants = stack
        .get("list-grants", &[("account_id", member.account.as_str())])
        .await;
    assert_eq!(grants.status, 200, "{}", grants.body);
    let listed: Vec<&str> = grants.body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["role_arn"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&role_arn.as_str()), "{listed:?}");
    let at_home = stack.get("list-grants", &[]).await;
    assert!(
        at_home.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["role_arn"] != role_arn.as_str())
    );
    let checked = stack
        .post(
            "check-owner-role",
            &json!({
                "account_id": member.account,
                "role_arn": role_arn,
                "principal_arn": format!("arn:aws:iam::{}:root", stack.requestor_account()),
                "external_id": created.body["external_id"],
            }),
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!(checked.body["can_assume"], true, "{}", checked.body);
    assert_eq!(checked.body["drift"], json!([]), "{}", checked.body);

    let revoked = stack
        .post(
            "revoke-grant",
            &json!({"account_id": member.account, "role_arn": role_arn}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["changed"], true);
    let again = stack
        .post(
            "revoke-grant",
            &json!({"account_id": member.account, "role_arn": role_arn}),
        )
        .await;
    assert_eq!((again.status, &again.body["changed"]), (200, &json!(false)));
}

#[tokio::test]
async fn list_accounts_says_for_each_account_whether_its_spoke_is_reachable() {
    let stack = Stack::load();
    let (with, without) = members(&stack);
    let answer = stack.get("list-accounts", &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["organization_id"],
        stack.file["organization"]["id"]
    );
    let spoke_of = |account: &str| -> String {
        answer.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_id"] == account)
            .unwrap_or_else(|| panic!("{account} not listed: {}", answer.body))["spoke"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(spoke_of(&stack.owner_account()), "hub");
    for m in &with {
        assert_eq!(spoke_of(&m.account), "reachable");
    }
    assert_eq!(spoke_of(&without.account), "unreachable");
}

#[tokio::test]
async fn a_member_without_the_spoke_role_is_refused_with_a_403_naming_account_id() {
    let stack = Stack::load();
    let (_, without) = members(&stack);
    let grants = stack
        .get("list-grants", &[("account_id", without.account.as_str())])
        .await;
    grants.assert_error(403, "SpokeRoleUnreachable", Some("account_id"));
    let created = stack
        .post(
            "create-owner-role",
            &json!({
                "account_id": without.account,
                "resource_arn": "arn:aws:s3:::xacct-anything",
                "actions": ["s3:GetObject"],
                "requestor_account_id": stack.requestor_account(),
                "dry_run": true,
            }),
        )
        .await;
    created.assert_error(403, "SpokeRoleUnreachable", Some("account_id"));
    // An account outside the organization (the requestor's) has no spoke either.
    let outside = stack
        .get(
            "list-resources",
            &[
                ("account_id", stack.requestor_account().as_str()),
                ("region", "us-east-1"),
            ],
        )
        .await;
    outside.assert_error(403, "SpokeRoleUnreachable", Some("account_id"));
}
