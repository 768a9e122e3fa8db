//! The local stack under concurrent load: 1,000 mixed requests (reads, dry runs, repeated
//! creates, checks, deliberate 400s) 32 at a time, each sent once, and not one 5xx. Before
//! the stack served built binaries, `cargo lambda watch` answered about one request in 200
//! with its own 500 at concurrency 16, and the clients retried.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use xacct_e2e::{Stack, unique};

const REQUESTS: usize = 1_000;
const CONCURRENCY: usize = 32;
const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

/// One request of the mix: function, method, query and body.
type Request = (
    &'static str,
    Method,
    Vec<(&'static str, String)>,
    Option<Value>,
);

fn mix(role: &str, role_arn: &str) -> Vec<Request> {
    let grant = json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": role});
    vec![
        (
            "list-permissions",
            Method::GET,
            vec![("arn", BUCKET.to_owned())],
            None,
        ),
        (
            "create-owner-role",
            Method::POST,
            vec![],
            Some(
                json!({"resource_arn": BUCKET, "actions": ["s3:GetObject", "s3:ListBucket"], "requestor_account_id": "222222222222", "dry_run": true}),
            ),
        ),
        // A repeat of the grant made before the load: no write call.
        ("create-owner-role", Method::POST, vec![], Some(grant)),
        (
            "create-requestor-resources",
            Method::POST,
            vec![],
            Some(
                json!({"owner_role_arn": role_arn, "service_principal": "lambda.amazonaws.com", "dry_run": true}),
            ),
        ),
        ("list-grants", Method::GET, vec![], None),
        (
            "check-owner-role",
            Method::POST,
            vec![],
            Some(json!({"role_arn": role_arn})),
        ),
        (
            "list-resources",
            Method::GET,
            vec![
                ("service", "s3".to_owned()),
                ("region", "us-east-1".to_owned()),
            ],
            None,
        ),
        // Deliberate 400s.
        (
            "create-owner-role",
            Method::POST,
            vec![],
            Some(
                json!({"resource_arn": "arn:aws:s3:::*", "actions": ["s3:GetObject"], "requestor_account_id": "222222222222"}),
            ),
        ),
        (
            "list-permissions",
            Method::GET,
            vec![("arn", "not-an-arn".to_owned())],
            None,
        ),
        (
            "check-requestor-role",
            Method::POST,
            vec![],
            Some(
                json!({"role_arn": "arn:aws:iam::222222222222:role/xacct/none", "owner_role_arn": role_arn}),
            ),
        ),
    ]
}

#[tokio::test]
async fn the_stack_answers_a_thousand_concurrent_requests_without_a_5xx() {
    let stack = Stack::load();
    let role = unique("e2e-load");
    let made = stack
        .post(
            "create-owner-role",
            &json!({"resource_arn": BUCKET, "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": role}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let role_arn = made.body["role_arn"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let requests = mix(&role, &role_arn);

    let answers: Vec<(&str, u16)> = futures::stream::iter((0..REQUESTS).map(|i| {
        let (function, method, query, body) = requests[i % requests.len()].clone();
        let mut request = http.request(method, stack.url(function)).query(&query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let (status, body) = match request.send().await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            };
            if status == 0 || status >= 500 {
                eprintln!("{function}: {status} {body}");
            }
            (function, status)
        }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect()
    .await;

    let mut counts: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for answer in &answers {
        *counts.entry(*answer).or_default() += 1;
    }
    eprintln!("{REQUESTS} requests at concurrency {CONCURRENCY}: {counts:?}");
    let failed: Vec<_> = counts
        .iter()
        .filter(|((_, status), _)| *status == 0 || *status >= 500)
        .collect();
    assert!(failed.is_empty(), "5xx or no answer: {failed:?}");
    assert_eq!(answers.len(), REQUESTS);
    assert!(
        counts.keys().any(|(_, s)| *s == 400),
        "the deliberate 400s were answered"
    );
    stack
        .post("revoke-grant", &json!({"role_arn": role_arn}))
        .await;
}
