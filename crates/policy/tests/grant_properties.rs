//! Properties of every policy xacct builds: no `ERROR` finding, and the evaluator allows
//! exactly the chosen actions on their ARNs and nothing else of the service; plus snapshots
//! of the generated policies for the four resource kinds.

// Test helpers outside #[test] functions may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use xacct_policy::eval::{Context, Labeled, PolicySet, Request, RequestPrincipal, evaluate};
use xacct_policy::grant::{GrantError, GrantOptions, least_privilege_policy, shares_access};
use xacct_policy::permissions::{ResourcePermissions, permissions_for};
use xacct_policy::trust::CrossAccountTrust;
use xacct_policy::validate::{self, Severity};
use xacct_policy::{Arn, PolicyDocument};

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::reports",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc1234",
    "arn:aws:lambda:eu-west-1:111111111111:function:resize",
    "arn:aws:rds:us-east-1:111111111111:db:orders",
    "arn:aws:rds:us-east-1:111111111111:cluster:orders-aurora",
    "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
    "arn:aws-cn:s3:::cn-reports",
];

fn perms(arn: &str) -> ResourcePermissions {
    permissions_for(&arn.parse::<Arn>().unwrap()).unwrap()
}

/// A concrete ARN inside a granted pattern (`bucket/*` -> `bucket/example`).
fn concrete(pattern: &str, fallback: &str) -> String {
    if pattern == "*" {
        fallback.to_owned()
    } else {
        pattern.replace('*', "example")
    }
}

fn owner_session() -> RequestPrincipal {
    RequestPrincipal::Aws(
        "arn:aws:sts::111111111111:assumed-role/xacct-grant/requestor"
            .parse()
            .unwrap(),
    )
}

fn check_exactness(
    p: &ResourcePermissions,
    chosen: &[String],
    doc: &PolicyDocument,
) -> Result<(), TestCaseError> {
    let findings = validate::permissions_policy(doc);
    prop_assert!(
        findings.iter().all(|f| f.severity != Severity::Error),
        "{findings:?}\n{}",
        doc.to_json()
    );
    let set = PolicySet {
        identity: vec![Labeled {
            label: "permissions",
            document: doc,
        }],
        ..PolicySet::default()
    };
    let arn = p.arn.to_string();
    for entry in &p.actions {
        let name = entry.action.full_name();
        let is_chosen = chosen.iter().any(|c| c.eq_ignore_ascii_case(&name));
        for target in &entry.targets {
            let request = Request::new(owner_session(), &name, &concrete(&target.arn, &arn))
                .with_context(Context::new());
            let got = evaluate(&set, &request);
            prop_assert_eq!(
                got.allowed(),
                is_chosen,
                "{} on {}: {}\n{}",
                name,
                target.arn,
                got.reason,
                doc.to_json()
            );
        }
    }
    Ok(())
}

fn chosen_strategy() -> impl Strategy<Value = (usize, Vec<prop::sample::Index>)> {
    (
        0..RESOURCES.len(),
        prop::collection::vec(any::<prop::sample::Index>(), 1..12),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn built_policies_validate_and_allow_exactly_the_chosen_actions((resource, picks) in chosen_strategy()) {
        let p = perms(RESOURCES[resource]);
        let eligible: Vec<String> = p.actions.iter()
            .filter(|a| !shares_access(a.action.service().prefix(), a.action))
            .map(|a| a.action.full_name())
            .collect();
        let mut chosen: Vec<String> = picks.iter().map(|i| eligible[i.index(eligible.len())].clone()).collect();
        chosen.sort();
        chosen.dedup();
        match least_privilege_policy(&p, &chosen, GrantOptions::default()) {
            Ok(doc) => check_exactness(&p, &chosen, &doc)?,
            Err(GrantError::TooLarge { .. }) => {}
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn trust_admits_only_the_requestor_role_with_the_external_id(ext in "[A-Za-z0-9+=,.@:/_-]{2,64}", wrong in "[A-Za-z0-9]{2,64}", mfa in any::<bool>()) {
        prop_assume!(ext != wrong);
        let trust = CrossAccountTrust {
            partition: xacct_policy::Partition::Aws,
            requestor_account: "222222222222".parse().unwrap(),
            requestor_role: Some("arn:aws:iam::222222222222:role/app".parse().unwrap()),
            external_id: ext.parse().unwrap(),
            require_mfa: mfa,
            principal_org_id: None,
            expires_at: None,
        };
        let doc = trust.document();
        prop_assert!(validate::trust_policy(&doc).iter().all(|f| f.severity != Severity::Error));
        let identity = PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/xacct/grant"}]}"#).unwrap();
        let set = PolicySet {
            identity: vec![Labeled { label: "requestor role policy", document: &identity }],
            resource: Some(Labeled { label: "trust policy", document: &doc }),
            resource_account: Some("111111111111".into()),
            ..PolicySet::default()
        };
        let ask = |principal: &str, ext: Option<&str>, with_mfa: bool| {
            let mut ctx = Context::new();
            if let Some(e) = ext { ctx = ctx.with("sts:ExternalId", e); }
            if with_mfa { ctx = ctx.with("aws:MultiFactorAuthPresent", "true"); }
            let request = Request::new(RequestPrincipal::Aws(principal.parse().unwrap()), "sts:AssumeRole", "arn:aws:iam::111111111111:role/xacct/grant").with_context(ctx);
            evaluate(&set, &request).allowed()
        };
        let session = "arn:aws:sts::222222222222:assumed-role/app/s";
        prop_assert!(ask(session, Some(&ext), true));
        prop_assert_eq!(ask(session, Some(&ext), false), !mfa);
        prop_assert!(!ask(session, Some(&wrong), true));
        prop_assert!(!ask(session, None, true));
        prop_assert!(!ask("arn:aws:sts::222222222222:assumed-role/other/s", Some(&ext), true));
        prop_assert!(!ask("arn:aws:sts::333333333333:assumed-role/app/s", Some(&ext), true));
    }
}

fn snapshot(arn: &str, actions: &[&str]) -> String {
    let doc = least_privilege_policy(&perms(arn), actions, GrantOptions::default()).unwrap();
    serde_json::to_string_pretty(&doc).unwrap()
}

#[test]
fn snapshot_s3_bucket_read_write() {
    insta::assert_snapshot!(snapshot(
        "arn:aws:s3:::reports",
        &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:ListAllMyBuckets"
        ]
    ));
}

#[test]
fn snapshot_ec2_instance_operator() {
    insta::assert_snapshot!(snapshot(
        "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc1234",
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeInstanceStatus",
            "ec2:StartInstances",
            "ec2:StopInstances",
            "ec2:RebootInstances"
        ]
    ));
}

#[test]
fn snapshot_lambda_function_invoker() {
    insta::assert_snapshot!(snapshot(
        "arn:aws:lambda:eu-west-1:111111111111:function:resize",
        &[
            "lambda:InvokeFunction",
            "lambda:GetFunction",
            "lambda:ListFunctions"
        ]
    ));
}

#[test]
fn snapshot_rds_instance_backup() {
    insta::assert_snapshot!(snapshot(
        "arn:aws:rds:us-east-1:111111111111:db:orders",
        &[
            "rds:DescribeDBInstances",
            "rds:CreateDBSnapshot",
            "rds:RebootDBInstance"
        ]
    ));
}

#[test]
fn snapshot_aurora_cluster_backup() {
    insta::assert_snapshot!(snapshot(
        "arn:aws:rds:us-east-1:111111111111:cluster:orders-aurora",
        &[
            "rds:DescribeDBClusters",
            "rds:CreateDBClusterSnapshot",
            "rds:FailoverDBCluster"
        ]
    ));
}
