//! A grant's life after creation, end to end over HTTP on the local stack: check both sides,
//! list, drift after hand edits, hand-off, people as requestors, and revoke.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use xacct_e2e::{Stack, unique, unique_account};

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

async fn grant(stack: &Stack, requestor: &str, actions: &[&str]) -> Value {
    let a = stack
        .post(
            "create-owner-role",
            &json!({"resource_arn": BUCKET, "actions": actions, "requestor_account_id": requestor}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

#[tokio::test]
async fn a_grant_is_checked_listed_and_revoked_on_both_sides() {
    let stack = Stack::load();
    let owner = grant(&stack, "222222222222", &["s3:GetObject", "s3:ListBucket"]).await;
    let role = str_of(&owner, "role_arn");
    let ext = str_of(&owner, "external_id");
    let req = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": role, "service_principal": "lambda.amazonaws.com", "external_id": ext}),
        )
        .await;
    assert_eq!(req.status, 200, "{}", req.body);
    let requestor_role = str_of(&req.body, "role_arn");

    // Owner side: the requestor role may assume it with the External ID, not without.
    let check = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": role, "principal_arn": requestor_role, "external_id": ext}),
        )
        .await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert_eq!(check.body["can_assume"], true, "{}", check.body);
    assert_eq!(check.body["drift"], json!([]));
    let cases = check.body["assume_checks"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in &cases[1..] {
        assert_eq!(case["decision"], "implicit_deny", "{case}");
        assert!(
            case["reason"].as_str().unwrap().contains("sts:ExternalId"),
            "{case}"
        );
    }
    assert_eq!(
        check.body["allowed_actions"],
        json!(["s3:GetObject", "s3:ListBucket"])
    );
    let actions = check.body["actions"].as_array().unwrap();
    assert!(actions.len() > 50, "every catalog action is checked");
    let get = actions
        .iter()
        .find(|a| a["action"] == "s3:GetObject")
        .unwrap();
    assert_eq!(get["resource"], format!("{BUCKET}/*"));
    assert!(
        get["statement"].as_str().unwrap().contains("xacct-grant"),
        "{get}"
    );
    let delete = actions
        .iter()
        .find(|a| a["action"] == "s3:DeleteObject")
        .unwrap();
    assert_eq!(delete["decision"], "implicit_deny");

    // A wrong principal is refused by the trust policy.
    let stranger = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": role, "principal_arn": "arn:aws:iam::333333333333:role/x", "external_id": ext}),
        )
        .await;
    assert_eq!(stranger.body["can_assume"], false, "{}", stranger.body);

    // Requestor side: assume that one role and nothing else; trust names Lambda.
    let rcheck = stack
        .post(
            "check-requestor-role",
            &json!({"role_arn": requestor_role, "owner_role_arn": role}),
        )
        .await;
    assert_eq!(rcheck.status, 200, "{}", rcheck.body);
    assert_eq!(rcheck.body["ok"], true, "{}", rcheck.body);
    let other_owner = stack
        .post(
            "check-requestor-role",
            &json!({"role_arn": requestor_role, "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/other"}),
        )
        .await;
    assert_eq!(other_owner.body["ok"], false);
    let codes: Vec<&str> = other_owner.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"ASSUME_NOT_ALLOWED") && codes.contains(&"EXTRA_PERMISSION"),
        "{codes:?}"
    );

    // Listed, with filters.
    let listed = stack
        .get(
            "list-grants",
            &[
                ("resource_arn", BUCKET),
                ("requestor_account_id", "222222222222"),
            ],
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let mine = listed.body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role_arn"] == role)
        .unwrap_or_else(|| panic!("{role} not in {}", listed.body))
        .clone();
    assert_eq!(mine["actions"], json!(["s3:GetObject", "s3:ListBucket"]));
    assert_eq!(mine["external_id"], ext);
    assert!(mine["created"].is_string());
    let none = stack
        .get("list-grants", &[("requestor_account_id", "999999999999")])
        .await;
    assert_eq!(none.body["grants"], json!([]), "{}", none.body);

    // Revoke both sides; again is no change; afterwards check finds no access.
    let revoked = stack.post("revoke-grant", &json!({"role_arn": role})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["changed"], true);
    assert_eq!(
        revoked.body["removed"],
        json!(["inline policy `xacct-grant`", format!("role `{role}`")])
    );
    let again = stack.post("revoke-grant", &json!({"role_arn": role})).await;
    assert_eq!(again.body, json!({"removed": [], "changed": false}));
    stack
        .post(
            "check-owner-role",
            &json!({"role_arn": role, "principal_arn": requestor_role, "external_id": ext}),
        )
        .await
        .assert_error(404, "RoleNotFound", Some("role_arn"));
    let gone = stack.get("list-grants", &[("resource_arn", BUCKET)]).await;
    assert!(
        !gone.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role_arn"] == role)
    );

    let rrevoked = stack
        .post(
            "revoke-requestor-resources",
            &json!({"role_arn": requestor_role}),
        )
        .await;
    assert_eq!(rrevoked.status, 200, "{}", rrevoked.body);
    assert_eq!(rrevoked.body["changed"], true);
    assert_eq!(
        rrevoked.body["removed"].as_array().unwrap().len(),
        2,
        "{}",
        rrevoked.body
    );
    stack
        .post(
            "check-requestor-role",
            &json!({"role_arn": requestor_role, "owner_role_arn": role}),
        )
        .await
        .assert_error(404, "RoleNotFound", Some("role_arn"));
}

#[tokio::test]
async fn hand_edits_through_iam_show_as_drift_and_in_the_decisions() {
    let stack = Stack::load();
    let owner = grant(&stack, &unique_account(), &["s3:GetObject"]).await;
    let role = str_of(&owner, "role_arn");
    let name = str_of(&owner, "role_name");
    let ext = str_of(&owner, "external_id");
    let iam = stack.iam("owner").await;
    iam.put_role_policy()
        .role_name(name)
        .policy_name("xacct-grant")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "S3Object", "Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": "*"}
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(name)
        .policy_name("added-by-hand")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let check = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": role, "principal_arn": format!("arn:aws:iam::{}:root", str_of(&owner, "requestor_account_id")), "external_id": ext}),
        )
        .await;
    assert_eq!(check.status, 200, "{}", check.body);
    let drift = check.body["drift"].as_array().unwrap();
    let kinds: Vec<(String, String)> = drift
        .iter()
        .map(|d| {
            (
                d["document"].as_str().unwrap().to_owned(),
                d["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("inline_policies".into(), "added".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(doc, _)| doc == "permissions_policy"),
        "{kinds:?}"
    );
    let delete = check.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "s3:DeleteObject")
        .unwrap()
        .clone();
    assert_eq!(delete["decision"], "allow", "{delete}");

    // The trust policy loses its External ID: drift, and the call without one now works.
    iam.update_assume_role_policy()
        .role_name(name)
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{}:root", str_of(&owner, "requestor_account_id"))},
                "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let check = stack
        .post(
            "check-owner-role",
            &json!({"role_arn": role, "principal_arn": format!("arn:aws:iam::{}:root", str_of(&owner, "requestor_account_id"))}),
        )
        .await;
    assert_eq!(check.body["can_assume"], true, "{}", check.body);
    assert!(
        check.body["drift"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["document"] == "trust_policy"),
        "{}",
        check.body
    );
    // Revoke removes the hand-added policy too.
    let revoked = stack.post("revoke-grant", &json!({"role_arn": role})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(
        revoked.body["removed"].as_array().unwrap().len(),
        3,
        "{}",
        revoked.body
    );
}

#[tokio::test]
async fn revoke_refuses_roles_xacct_does_not_manage_and_validates_input() {
    let stack = Stack::load();
    let iam = stack.iam("owner").await;
    let name = unique("hand-made");
    iam.create_role()
        .role_name(&name)
        .path("/xacct/")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:iam::111111111111:role/xacct/{name}");
    stack
        .post("revoke-grant", &json!({"role_arn": arn}))
        .await
        .assert_error(409, "RoleNotManaged", Some("role_arn"));
    assert!(
        iam.get_role().role_name(&name).send().await.is_ok(),
        "untouched"
    );
    stack
        .post(
            "check-owner-role",
            &json!({"role_arn": arn, "principal_arn": "arn:aws:iam::222222222222:root"}),
        )
        .await
        .assert_error(409, "RoleNotManaged", Some("role_arn"));
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": "arn:aws:iam::222222222222:role/xacct/x"}),
        )
        .await
        .assert_error(400, "RoleInOtherAccount", Some("role_arn"));
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": "arn:aws:iam::111111111111:role/../../admin*"}),
        )
        .await
        .assert_error(400, "InvalidRoleArn", Some("role_arn"));
    stack
        .post(
            "revoke-grant",
            &json!({"role_arn": "arn:aws:iam::111111111111:role/xacct/never-existed"}),
        )
        .await;
    let missing = stack
        .post(
            "revoke-grant",
            &json!({"role_arn": "arn:aws:iam::111111111111:role/xacct/never-existed"}),
        )
        .await;
    assert_eq!(missing.body, json!({"removed": [], "changed": false}));
    stack
        .post("revoke-grant", &json!({"role_arn": arn, "force": true}))
        .await
        .assert_error(400, "UnknownField", Some("force"));
    stack
        .get("list-grants", &[("cursor", "not-a-cursor!")])
        .await
        .assert_error(400, "InvalidCursor", Some("cursor"));
    stack
        .get("list-grants", &[("resource_arn", "bucket")])
        .await
        .assert_error(400, "InvalidArn", Some("resource_arn"));
    stack
        .post(
            "check-owner-role",
            &json!({"role_arn": arn, "principal_arn": "*"}),
        )
        .await
        .assert_error(400, "InvalidArn", Some("principal_arn"));
    stack
        .post("check-requestor-role", &json!({"owner_role_arn": arn}))
        .await
        .assert_error(400, "OnePrincipalRequired", Some("role_arn"));
    stack
        .post(
            "revoke-requestor-resources",
            &json!({"group_name": "a/../b", "owner_role_arn": arn}),
        )
        .await
        .assert_error(400, "InvalidName", Some("group_name"));
}

#[tokio::test]
async fn people_get_an_inline_policy_a_switch_role_link_and_can_be_revoked() {
    let stack = Stack::load();
    let people = &stack.file["seed"]["requestor_people"];
    let group = str_of(people, "group_name");
    let user = str_of(people, "user_name");
    let owner_role = format!("arn:aws:iam::111111111111:role/xacct/{}", unique("people"));

    let created = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "group_name": group}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["principal_type"], "group");
    assert_eq!(created.body["role_arn"], Value::Null);
    let link = str_of(&created.body, "switch_role_url");
    assert!(
        link.starts_with(
            "https://signin.aws.amazon.com/switchrole?account=111111111111&roleName=xacct%2Fpeople-"
        ),
        "{link}"
    );
    let policy_name = str_of(&created.body, "policy_name").to_owned();
    let iam = stack.iam("requestor").await;
    let live = iam
        .get_group_policy()
        .group_name(group)
        .policy_name(&policy_name)
        .send()
        .await
        .unwrap();
    let doc = xacct_e2e::decode_policy(live.policy_document());
    assert_eq!(doc.statements.len(), 1);
    assert_eq!(doc.statements[0].resource, Some(vec![owner_role.clone()]));
    let again = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "group_name": group}),
        )
        .await;
    assert_eq!(again.body["changed"], false, "{}", again.body);
    let check = stack
        .post(
            "check-requestor-role",
            &json!({"owner_role_arn": owner_role, "group_name": group}),
        )
        .await;
    assert_eq!(check.body["ok"], true, "{}", check.body);

    // A user with MFA: the policy requires it and the profile names the device.
    let mfa = stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "user_name": user, "require_mfa": true, "external_id": "ext-people-1"}),
        )
        .await;
    assert_eq!(mfa.status, 200, "{}", mfa.body);
    assert_eq!(
        mfa.body["policy"]["Statement"][0]["Condition"]["Bool"]["aws:MultiFactorAuthPresent"],
        "true"
    );
    let profile = str_of(&mfa.body["handoff"], "aws_config");
    assert!(
        profile.contains(&format!(
            "mfa_serial = arn:aws:iam::222222222222:mfa/{user}\n"
        )),
        "{profile}"
    );
    assert!(
        profile.contains("external_id = ext-people-1\n"),
        "{profile}"
    );

    // A hand-written policy under xacct's name is not taken over or deleted.
    iam.put_user_policy()
        .user_name(user)
        .policy_name(&policy_name)
        .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "user_name": user}),
        )
        .await
        .assert_error(409, "PolicyNotManaged", Some("user_name"));
    stack
        .post(
            "revoke-requestor-resources",
            &json!({"owner_role_arn": owner_role, "user_name": user}),
        )
        .await
        .assert_error(409, "PolicyNotManaged", Some("user_name"));
    iam.delete_user_policy()
        .user_name(user)
        .policy_name(&policy_name)
        .send()
        .await
        .unwrap();

    let revoked = stack
        .post(
            "revoke-requestor-resources",
            &json!({"owner_role_arn": owner_role, "group_name": group}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["changed"], true);
    let again = stack
        .post(
            "revoke-requestor-resources",
            &json!({"owner_role_arn": owner_role, "group_name": group}),
        )
        .await;
    assert_eq!(again.body, json!({"removed": [], "changed": false}));
    stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "user_name": "nobody-here"}),
        )
        .await
        .assert_error(404, "PrincipalNotFound", Some("user_name"));
    stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "service_principal": "lambda.amazonaws.com", "require_mfa": true}),
        )
        .await
        .assert_error(400, "MfaNotForServices", Some("require_mfa"));
    stack
        .post(
            "create-requestor-resources",
            &json!({"owner_role_arn": owner_role, "service_principal": "lambda.amazonaws.com", "user_name": user}),
        )
        .await
        .assert_error(400, "OnePrincipalRequired", Some("service_principal"));
}

#[tokio::test]
async fn the_hand_off_profile_works_with_the_sdk_profile_loader() {
    use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
    use aws_sdk_sts::config::ProvideCredentials as _;

    let stack = Stack::load();
    // Another requestor account than the other tests', so the default role name is this
    // test's own (moto does not check the trust policy, so any account assumes it).
    let owner = grant(&stack, &unique_account(), &["s3:ListBucket"]).await;
    let handoff = &owner["handoff"];
    let dir = std::env::temp_dir().join(unique("xacct-profile"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    // The hand-off profile as given, plus the test's source profile; `endpoint_url` (in a
    // second section of the same name, which the parser merges) only points the SDK at moto.
    std::fs::write(
        &config,
        format!(
            "{}\n[default]\nendpoint_url = {moto}\n[profile {}]\nendpoint_url = {moto}\n",
            str_of(handoff, "aws_config"),
            str_of(handoff, "profile_name"),
            moto = str_of(&stack.file, "moto_url")
        ),
    )
    .unwrap();
    let c = &stack.file["credentials"]["requestor"];
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            str_of(c, "access_key_id"),
            str_of(c, "secret_access_key"),
            str_of(c, "session_token")
        ),
    )
    .unwrap();
    let files = EnvConfigFiles::builder()
        .with_file(EnvConfigFileKind::Config, &config)
        .with_file(EnvConfigFileKind::Credentials, &credentials)
        .build();
    let profile = str_of(handoff, "profile_name");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(stack.file["moto_url"].as_str().unwrap())
        .profile_files(files)
        .profile_name(profile)
        .load()
        .await;
    // The SDK parses the profile, assumes the role with its External ID, and the session is
    // in the owner account.
    let creds = sdk
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(!creds.access_key_id().is_empty());
    let who = aws_sdk_sts::Client::new(&sdk)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some("111111111111"));
    assert!(
        who.arn().unwrap().contains(str_of(&owner, "role_name")),
        "{who:?}"
    );
    // The command carries the same role and External ID.
    let command = str_of(handoff, "assume_role_command");
    assert!(command.contains(&format!("--external-id {}", str_of(&owner, "external_id"))));
    // The CloudFormation export is a template with the same documents.
    let cfn: Value = serde_json::from_str(str_of(handoff, "cloudformation")).unwrap();
    let props = &cfn["Resources"]["Role"]["Properties"];
    assert_eq!(props["AssumeRolePolicyDocument"], owner["trust_policy"]);
    assert_eq!(
        props["Policies"][0]["PolicyDocument"],
        owner["permissions_policy"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
