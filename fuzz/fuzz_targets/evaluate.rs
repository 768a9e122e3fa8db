//! `eval::evaluate` on a fuzzed policy and request: it does not panic and decides the same
//! way twice; `eval::parse_date` does not panic; `eval::glob` on a fuzzed pattern and text does not panic, ends quickly (runs of
//! `*` included) and agrees with a few properties any wildcard match has.
//!
//! The input is an `Arbitrary` struct (`xacct_fuzz_seeds::EvaluateInput`): `cargo fuzz fmt
//! evaluate <file>` shows one decoded, and `cargo run --manifest-path fuzz/Cargo.toml -p
//! xacct-fuzz-seeds` writes the seeds in `fuzz/corpus/evaluate/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xacct_fuzz_seeds::EvaluateInput as Input;
use xacct_policy::eval::{self, Context, Labeled, PolicySet, Request, RequestPrincipal};
use xacct_policy::{Arn, PolicyDocument};

fn check_glob(pattern: &str, text: &str, ignore_case: bool) {
    let matched = eval::glob(pattern, text, ignore_case);
    // A case-sensitive match is also a case-insensitive one.
    if eval::glob(pattern, text, false) {
        assert!(eval::glob(pattern, text, true), "{pattern:?} {text:?}");
    }
    // A run of `*` means the same as one `*`.
    let mut collapsed = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && collapsed.ends_with('*')) {
            collapsed.push(c);
        }
    }
    assert_eq!(
        eval::glob(&collapsed, text, ignore_case),
        matched,
        "{pattern:?} vs {collapsed:?} on {text:?}"
    );
    // Without wildcards a pattern matches only itself.
    if !pattern.contains(['*', '?']) && !ignore_case {
        assert_eq!(matched, pattern == text, "{pattern:?} {text:?}");
    }
    // A long run of `*` before the text matches the text (and does not take long).
    let stars = "*".repeat(pattern.len().clamp(1, 4096));
    assert!(eval::glob(&format!("{stars}{text}"), text, ignore_case));
    assert!(eval::glob(&format!("{text}{stars}"), text, ignore_case));
}

fuzz_target!(|input: Input| {
    check_glob(
        &input.glob_pattern,
        &input.glob_text,
        input.glob_ignore_case,
    );
    // Date condition values reach this only through a `Date...` operator; try it directly.
    let _ = eval::parse_date(&input.glob_text);
    let _ = eval::parse_date(&input.resource);

    let Ok(policy) = PolicyDocument::from_json(&input.policy) else {
        return;
    };
    let principal = if input.principal == "*" {
        RequestPrincipal::Anonymous
    } else if let Ok(arn) = input.principal.parse::<Arn>() {
        RequestPrincipal::Aws(arn)
    } else if input.principal.ends_with(".amazonaws.com") {
        RequestPrincipal::Service(input.principal.clone())
    } else {
        return;
    };
    let mut context = Context::new();
    for (key, values) in input.context.iter().take(4) {
        context.insert(key, values.iter().take(4).cloned().collect());
    }
    let request = Request::new(principal, &input.action, &input.resource).with_context(context);
    let labeled = Labeled {
        label: "fuzzed policy",
        document: &policy,
    };
    let set = if input.resource_policy {
        PolicySet {
            resource: Some(labeled),
            resource_account: input.resource_account.clone(),
            ..PolicySet::default()
        }
    } else {
        PolicySet {
            identity: vec![labeled],
            resource_account: input.resource_account.clone(),
            ..PolicySet::default()
        }
    };
    let first = eval::evaluate(&set, &request);
    let second = eval::evaluate(&set, &request);
    assert_eq!(first, second, "evaluate is not deterministic");
    let _ = eval::unmet_condition(&policy, &request, input.resource_policy);
});
