//! Inputs that once made a fuzz target (`fuzz/fuzz_targets/`, `make fuzz`) fail, one test
//! each, with the input inline and the target named.

// A failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use xacct_policy::PolicyDocument;
use xacct_policy::eval::{self, Context, Labeled, PolicySet, Request, RequestPrincipal};

/// Target `evaluate`: a `Date...` condition on a date whose year is near `i64::MAX`
/// overflowed `i64` in the days-since-epoch arithmetic (a panic with overflow checks, a
/// wrong date without them).
#[test]
fn date_condition_with_a_huge_year_does_not_overflow() {
    let far = eval::parse_date("9223372036854775807-01-01").expect("a date");
    let now = eval::parse_date("2026-11-22T12:00:00Z").expect("a date");
    assert!(far > now);
    assert!(eval::parse_date("+9223372036854775807-12-31T23:59:59Z").is_some());

    let policy = PolicyDocument::from_json(
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:CurrentTime":"9223372036854775807-01-01"}}}]}"#,
    )
    .unwrap();
    let principal = RequestPrincipal::Aws("arn:aws:iam::111111111111:user/bob".parse().unwrap());
    let request = Request::new(principal, "s3:GetObject", "*")
        .with_context(Context::new().with("aws:CurrentTime", "2026-01-01"));
    let set = PolicySet {
        identity: vec![Labeled {
            label: "identity",
            document: &policy,
        }],
        ..PolicySet::default()
    };
    assert!(eval::evaluate(&set, &request).allowed());
}
