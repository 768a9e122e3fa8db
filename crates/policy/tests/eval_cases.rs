//! Evaluation cases taken from the AWS documentation, one data file per case (each names the
//! page it comes from) and one test per file.

// Test helpers outside #[test] functions may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use serde::Deserialize;
use xacct_policy::PolicyDocument;
use xacct_policy::eval::{Context, Labeled, PolicySet, Request, RequestPrincipal, evaluate};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    source: String,
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    identity: Vec<PolicyDocument>,
    boundary: Option<PolicyDocument>,
    resource_policy: Option<PolicyDocument>,
    resource_account: Option<String>,
    session_policy: Option<PolicyDocument>,
    #[serde(default)]
    scps: Vec<PolicyDocument>,
    #[serde(default)]
    rcps: Vec<PolicyDocument>,
    requests: Vec<CaseRequest>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Value {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    principal: Option<String>,
    service: Option<String>,
    action: String,
    resource: String,
    #[serde(default)]
    context: BTreeMap<String, Value>,
    want: String,
    want_statements: Option<Vec<String>>,
}

fn run(text: &str) {
    let case: Case = serde_json::from_str(text).expect("case file parses");
    assert!(case.source.starts_with("https://docs.aws.amazon.com/"));
    let identity_labels: Vec<String> = (0..case.identity.len())
        .map(|i| format!("identity policy {i}"))
        .collect();
    let set = PolicySet {
        identity: case
            .identity
            .iter()
            .zip(&identity_labels)
            .map(|(document, label)| Labeled { label, document })
            .collect(),
        boundary: case.boundary.as_ref().map(|document| Labeled {
            label: "boundary",
            document,
        }),
        resource: case.resource_policy.as_ref().map(|document| Labeled {
            label: "resource policy",
            document,
        }),
        resource_account: case.resource_account.clone(),
        session: case.session_policy.as_ref().map(|document| Labeled {
            label: "session policy",
            document,
        }),
        scps: case
            .scps
            .iter()
            .map(|document| Labeled {
                label: "scp",
                document,
            })
            .collect(),
        rcps: case
            .rcps
            .iter()
            .map(|document| Labeled {
                label: "rcp",
                document,
            })
            .collect(),
    };
    for (i, r) in case.requests.iter().enumerate() {
        let principal = match (&r.principal, &r.service) {
            (Some(arn), None) => RequestPrincipal::Aws(arn.parse().expect("principal arn")),
            (None, Some(service)) => RequestPrincipal::Service(service.clone()),
            _ => RequestPrincipal::Anonymous,
        };
        let mut context = Context::new();
        for (k, v) in &r.context {
            match v {
                Value::One(s) => context.insert(k, vec![s.clone()]),
                Value::Many(m) => context.insert(k, m.clone()),
            }
        }
        let request = Request::new(principal, &r.action, &r.resource).with_context(context);
        let got = evaluate(&set, &request);
        assert_eq!(
            got.decision.to_string(),
            r.want,
            "request {i} ({} on {}): {}",
            r.action,
            r.resource,
            got.reason
        );
        if let Some(want) = &r.want_statements {
            let sids: Vec<String> = got
                .statements
                .iter()
                .filter_map(|s| s.sid.clone())
                .collect();
            assert_eq!(&sids, want, "request {i}: deciding statements");
        }
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            run(include_str!(concat!("eval_cases/", stringify!($name), ".json")));
        }
    )*};
}

cases!(
    explicit_deny_overrides_allow,
    cross_account_needs_both_policies,
    same_account_resource_policy_alone,
    permissions_boundary_limits_identity_policy,
    external_id_in_trust_policy,
    mfa_bool_and_null,
    not_action_and_not_resource,
    policy_variables_home_folder,
    multivalued_keys_for_all_for_any,
    dates_and_source_ip,
    service_principal_trust,
    principal_arn_condition_with_account_root,
    short_arn_patterns_expand_past_colons,
    unresolvable_policy_variables_never_apply,
    role_trust_must_allow_even_in_the_same_account,
    kms_key_policy_must_allow,
    kms_key_policy_delegating_to_the_account,
    resource_policy_naming_the_role_is_limited_by_the_boundary,
    resource_policy_naming_the_role_without_a_boundary,
    not_principal_deny_applies_to_every_bounded_principal,
    get_caller_identity_needs_no_permission,
    for_any_value_if_exists_with_the_key_absent,
    single_valued_operator_on_a_multivalued_key,
    null_false_on_an_empty_multivalued_key,
    session_policy_limits_the_session,
    organization_policies_must_allow_at_every_level,
    expired_grant_trust_refuses_assume_role,
    resource_control_policies_only_deny,
    resource_variables_only_in_the_resource_part,
    special_character_variables_are_literal,
    if_exists_without_the_key_ignores_variables_without_value,
);

#[test]
fn every_case_file_has_a_test() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval_cases");
    let count = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(count, 31, "add the new case file to cases!()");
}
