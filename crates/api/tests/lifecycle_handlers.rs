//! The lifecycle handlers called directly over the in-memory IAM: list-grants walks every
//! page once, revoke is idempotent and reports exactly what it removed, a failure part-way
//! is a retryable 502 naming what is gone, and a second call finishes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;

use common::{alone, deps, json_of};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use xacct_api::lifecycle::OwnerGrant;
use xacct_api::owner_lifecycle::{CheckDeps, check_owner_role, list_grants, revoke_grant};
use xacct_aws::fake::{FakeIam, FakeResources};
use xacct_aws::roles::{RoleSpec, RoleStore, ensure_role};
use xacct_policy::{PolicyDocument, Statement};

async fn add_grant(iam: &FakeIam, i: usize) -> String {
    add_grant_ending(iam, i, None).await
}

/// A grant on `bucket-{i}` that ends `ends_in` seconds from now (negative: already ended).
async fn add_grant_ending(iam: &FakeIam, i: usize, ends_in: Option<i64>) -> String {
    let now = xacct_api::runtime::now_epoch();
    let grant = OwnerGrant {
        resource: format!("arn:aws:s3:::bucket-{i}").parse().unwrap(),
        requestor: "222222222222".parse().unwrap(),
        requestor_role: None,
        require_mfa: false,
        org: None,
        expires_at: ends_in.map(|s| xacct_policy::expiry::Expiry::from_epoch(now + s)),
        db_user: None,
    };
    let spec = RoleSpec {
        name: format!("grant-{i}").parse().unwrap(),
        path: "/xacct/".into(),
        description: "d".into(),
        trust_policy: grant.trust("ext-0123456789".parse().unwrap()).document(),
        policy_name: "xacct-grant".into(),
        policy: PolicyDocument::new(vec![Statement::allow(
            "S3Bucket",
            vec!["s3:ListBucket".into()],
            vec![format!("arn:aws:s3:::bucket-{i}")],
        )]),
        max_session_duration: 3600,
        tags: grant.tags(),
        identity_tags: vec![],
        permissions_boundary: None,
        instance_profile: false,
    };
    ensure_role(iam, &spec, None, "", false).await.unwrap().arn
}

fn get(query: &[(&str, &str)]) -> Request {
    let params: std::collections::HashMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    lambda_http::http::Request::builder()
        .method("GET")
        .uri("/")
        .body(Body::Empty)
        .unwrap()
        .with_query_string_parameters(params)
}

fn post(body: &Value) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("/")
        .body(Body::Text(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn list_grants_reads_each_page_in_one_call_without_a_read_per_role() {
    let deps = alone(deps());
    for i in 0..100 {
        add_grant(&deps.roles, i).await;
    }
    let before = deps.roles.calls().len();
    let mut cursor: Option<String> = None;
    let mut listed = 0;
    loop {
        let q: Vec<(&str, &str)> = cursor.iter().map(|c| ("cursor", c.as_str())).collect();
        let (_, body) = json_of(list_grants(&deps, get(&q)).await.unwrap());
        listed += body["grants"].as_array().unwrap().len();
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(listed, 100);
    let calls = &deps.roles.calls()[before..];
    // One GetAccountAuthorizationDetails per page (the fake's pages hold 2 roles, AWS's
    // 1,000) and nothing else: before, each page was a ListRoles plus a GetRole and a
    // GetRolePolicy per role.
    assert!(
        calls.iter().all(|c| *c == "GetAccountAuthorizationDetails"),
        "{calls:?}"
    );
    assert_eq!(calls.len(), 100 / xacct_aws::fake::FAKE_DETAILS_PAGE);
}

#[tokio::test]
async fn list_grants_filters_expired_and_expiring_grants() {
    let deps = alone(deps());
    add_grant_ending(&deps.roles, 0, None).await;
    add_grant_ending(&deps.roles, 1, Some(-3_600)).await;
    add_grant_ending(&deps.roles, 2, Some(2 * 86_400)).await;
    add_grant_ending(&deps.roles, 3, Some(30 * 86_400)).await;
    let names = |query: &[(&str, &str)]| {
        let deps = &deps;
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        async move {
            let mut out = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut q: Vec<(&str, &str)> = query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                if let Some(c) = &cursor {
                    q.push(("cursor", c));
                }
                let (status, body) = json_of(list_grants(deps, get(&q)).await.unwrap());
                assert_eq!(status, 200, "{body}");
                for g in body["grants"].as_array().unwrap() {
                    out.push(g["role_name"].as_str().unwrap().to_owned());
                }
                match body["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            out.sort();
            out
        }
    };
    assert_eq!(names(&[("expired", "true")]).await, ["grant-1"]);
    assert_eq!(
        names(&[("expired", "false")]).await,
        ["grant-0", "grant-2", "grant-3"]
    );
    assert_eq!(
        names(&[("expired", "false"), ("expiring_within", "7d")]).await,
        ["grant-2"]
    );
    let (status, body) = json_of(
        list_grants(&deps, get(&[("expired", "maybe")]))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("expired"))
    );
}

#[tokio::test]
async fn list_grants_walks_every_page_once_and_filters() {
    let deps = alone(deps());
    let mut arns = BTreeSet::new();
    for i in 0..5 {
        arns.insert(add_grant(&deps.roles, i).await);
    }
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q: Vec<(&str, &str)> = cursor.iter().map(|c| ("cursor", c.as_str())).collect();
        let (status, body) = json_of(list_grants(&deps, get(&q)).await.unwrap());
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for g in body["grants"].as_array().unwrap() {
            assert!(
                seen.insert(g["role_arn"].as_str().unwrap().to_owned()),
                "twice: {g}"
            );
            assert_eq!(g["actions"], json!(["s3:ListBucket"]));
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, arns);
    assert_eq!(pages, 3, "the fake pages two roles at a time");
    let (_, one) = json_of(
        list_grants(&deps, get(&[("resource_arn", "arn:aws:s3:::bucket-3")]))
            .await
            .unwrap(),
    );
    let listed = one["grants"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .all(|g| g["resource_arn"] == "arn:aws:s3:::bucket-3")
    );
    let (status, bad) = json_of(
        list_grants(&deps, get(&[("cursor", "eHl6")]))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("InvalidCursor"))
    );
}

#[tokio::test]
async fn revoke_reports_what_it_removed_and_finishes_after_a_failure() {
    let deps = alone(deps());
    let arn = add_grant(&deps.roles, 7).await;
    deps.roles.attach(
        "grant-7",
        "arn:aws:iam::111111111111:policy/by-hand",
        PolicyDocument::new(vec![]),
    );
    deps.roles.fail_next("DeleteRole", "ServiceFailure");
    deps.roles.clear_writes();
    let (status, body) = json_of(
        revoke_grant(&deps, post(&json!({"role_arn": arn})))
            .await
            .unwrap(),
    );
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["retryable"], true);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("inline policy `xacct-grant`"), "{message}");
    assert!(message.contains("no permissions left"), "{message}");
    assert_eq!(
        deps.roles.writes(),
        vec!["DeleteRolePolicy", "DetachRolePolicy"]
    );
    // The role is still there, without permissions; calling again finishes.
    assert!(deps.roles.get_role("grant-7").await.unwrap().is_some());
    let (status, body) = json_of(
        revoke_grant(&deps, post(&json!({"role_arn": arn})))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"removed": [format!("role `{arn}`")], "changed": true})
    );
    let (_, again) = json_of(
        revoke_grant(&deps, post(&json!({"role_arn": arn})))
            .await
            .unwrap(),
    );
    assert_eq!(again, json!({"removed": [], "changed": false}));
}

/// A `check-owner-role` request received by the Function URL at `epoch` (seconds).
fn check_at(epoch: i64, role_arn: &str) -> Request {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.time_epoch = epoch * 1000;
    post(
        &json!({"role_arn": role_arn, "principal_arn": "arn:aws:iam::222222222222:role/app",
        "external_id": "ext-0123456789"}),
    )
    .with_request_context(RequestContext::ApiGatewayV2(context))
}

/// A resource that exists, with no key, resource policy or database login to weigh.
fn no_resource_side() -> FakeResources {
    FakeResources::with_side(xacct_policy::resource_side::ResourceSide::default())
}

#[tokio::test]
async fn check_owner_role_says_expired_from_the_trust_at_the_time_of_the_request() {
    let deps = alone(CheckDeps {
        iam: deps(),
        resources: no_resource_side(),
    });
    let arn = add_grant_ending(&deps.iam.roles, 9, Some(60)).await;
    let now = xacct_api::runtime::now_epoch();
    let (status, before) = json_of(check_owner_role(&deps, check_at(now, &arn)).await.unwrap());
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        (&before["can_assume"], &before["expired"]),
        (&json!(true), &json!(false))
    );
    assert!(before["expires_at"].is_string());
    let (_, after) = json_of(
        check_owner_role(&deps, check_at(now + 120, &arn))
            .await
            .unwrap(),
    );
    assert_eq!(
        (&after["can_assume"], &after["expired"]),
        (&json!(false), &json!(true)),
        "{after}"
    );
    let reason = after["reason"].as_str().unwrap();
    assert!(reason.contains("aws:CurrentTime"), "{reason}");
    // A permanent grant never says expired.
    let permanent = add_grant(&deps.iam.roles, 10).await;
    let (_, forever) = json_of(
        check_owner_role(&deps, check_at(now + 10 * 365 * 86_400, &permanent))
            .await
            .unwrap(),
    );
    assert_eq!(
        (&forever["can_assume"], &forever["expired"]),
        (&json!(true), &json!(false))
    );
}

/// The answer reads back into `T` and writes out as the same JSON: the CLI and console
/// read it typed and lose nothing.
fn reads_back<T: serde::de::DeserializeOwned + serde::Serialize>(answer: &Value) -> T {
    let typed: T = serde_json::from_value(answer.clone()).unwrap();
    assert_eq!(&serde_json::to_value(&typed).unwrap(), answer);
    typed
}

#[tokio::test]
async fn check_answers_read_back_into_their_types_unchanged() {
    use xacct_api::owner_lifecycle::{CheckOwnerRoleResponse, check_owner_role};
    use xacct_api::requestor_lifecycle::{CheckRequestorResponse, check_requestor_role};

    let hub = alone(CheckDeps {
        iam: deps(),
        resources: no_resource_side(),
    });
    let deps = &hub.iam;
    let role = add_grant(&deps.roles, 1).await;
    let (status, owner) = json_of(
        check_owner_role(
            &hub,
            post(&json!({
                "role_arn": role,
                "principal_arn": "arn:aws:iam::222222222222:role/app",
            })),
        )
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{owner}");
    let owner: CheckOwnerRoleResponse = reads_back(&owner);
    assert_eq!(owner.assume_checks.len(), 3, "{owner:?}");

    // An xacct role of this account checked against another owner role: problems.
    let (status, requestor) = json_of(
        check_requestor_role(
            deps,
            post(&json!({
                "role_arn": role,
                "owner_role_arn": "arn:aws:iam::333333333333:role/xacct/other",
            })),
        )
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{requestor}");
    let requestor: CheckRequestorResponse = reads_back(&requestor);
    assert!(
        !requestor.ok && !requestor.problems.is_empty(),
        "{requestor:?}"
    );
}

#[cfg(feature = "requestor")]
#[tokio::test]
async fn create_requestor_answer_reads_back_into_its_type_unchanged() {
    use xacct_api::create_requestor_resources::{CreateRequestorResponse, PrincipalType, handle};

    let deps = deps();
    let (status, created) = json_of(
        handle(
            &deps,
            post(&json!({
                "owner_role_arn": "arn:aws:iam::333333333333:role/xacct/grant",
                "service_principal": "lambda.amazonaws.com",
                "external_id": "ext-0123456789",
            })),
        )
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["principal_type"], "service");
    let created: CreateRequestorResponse = reads_back(&created);
    assert_eq!(created.principal_type, PrincipalType::Service);
}
