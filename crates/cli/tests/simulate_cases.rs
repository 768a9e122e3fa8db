//! `xacct simulate` over the evaluator's AWS-cited case files: every request of every case,
//! its policies written to files and passed as a user would, gets the case's decision, in
//! the JSON answer and in the exit code (0 allowed, 1 denied).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn simulate_gives_every_case_files_decision() {
    let cases = concat!(env!("CARGO_MANIFEST_DIR"), "/../policy/tests/eval_cases");
    let mut checked = 0;
    for entry in std::fs::read_dir(cases).unwrap() {
        let path = entry.unwrap().path();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut policy_args: Vec<String> = Vec::new();
        for (i, doc) in case["identity"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            policy_args.push("--identity-policy".into());
            policy_args.push(write(dir.path(), &format!("identity-{i}.json"), doc));
        }
        for (key, flag) in [
            ("boundary", "--boundary"),
            ("resource_policy", "--resource-policy"),
            ("session_policy", "--session-policy"),
        ] {
            if let Some(doc) = case.get(key).filter(|d| !d.is_null()) {
                policy_args.push(flag.into());
                policy_args.push(write(dir.path(), &format!("{key}.json"), doc));
            }
        }
        for (key, flag) in [("scps", "--scp"), ("rcps", "--rcp")] {
            for (i, doc) in case[key].as_array().into_iter().flatten().enumerate() {
                policy_args.push(flag.into());
                policy_args.push(write(dir.path(), &format!("{key}-{i}.json"), doc));
            }
        }
        if let Some(account) = case["resource_account"].as_str() {
            policy_args.push("--resource-account".into());
            policy_args.push(account.into());
        }
        for (n, request) in case["requests"].as_array().unwrap().iter().enumerate() {
            // The CLI simulates IAM principals; service-principal cases stay with the
            // evaluator's own tests.
            let Some(principal) = request["principal"].as_str() else {
                continue;
            };
            let mut args: Vec<String> = vec![
                "simulate".into(),
                "--principal".into(),
                principal.into(),
                "--action".into(),
                request["action"].as_str().unwrap().into(),
                "--resource".into(),
                request["resource"].as_str().unwrap().into(),
                "-o".into(),
                "json".into(),
            ];
            for (key, value) in request["context"].as_object().into_iter().flatten() {
                let values: Vec<String> = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect(),
                    other => vec![other.as_str().unwrap().to_owned()],
                };
                if values.is_empty() {
                    // An empty multivalued key cannot be said with key=value pairs.
                    args.clear();
                    break;
                }
                for v in values {
                    args.push("--context".into());
                    args.push(format!("{key}={v}"));
                }
            }
            if args.is_empty() {
                continue;
            }
            args.extend(policy_args.iter().cloned());
            let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
                .args(&args)
                .env_clear()
                .env("HOME", dir.path())
                .output()
                .unwrap();
            let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
            let want = request["want"].as_str().unwrap();
            assert_eq!(
                verdict["decision"],
                want,
                "{} request {n}: {verdict}",
                path.display()
            );
            assert_eq!(
                out.status.code(),
                Some(if want == "allow" { 0 } else { 1 }),
                "{} request {n}",
                path.display()
            );
            if let Some(sids) = request["want_statements"].as_array() {
                let got: Vec<&Value> = verdict["statements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| &s["sid"])
                    .collect();
                assert_eq!(
                    got,
                    sids.iter().collect::<Vec<_>>(),
                    "{} request {n}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} requests simulated");
}
