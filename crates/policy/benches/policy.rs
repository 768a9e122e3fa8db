//! `cargo bench -p xacct-policy`: catalog load time (first touch in a fresh process, as in a
//! Lambda cold start), lookups, permissions for a resource, policy building and evaluation.
//! Prints one JSON object per measurement.

#![allow(clippy::print_stdout)] // a bench binary reports on stdout

use std::hint::black_box;
use std::time::{Duration, Instant};

use xacct_policy::eval::{Context, Labeled, PolicySet, Request, RequestPrincipal, evaluate};
use xacct_policy::grant::{GrantOptions, least_privilege_policy};
use xacct_policy::permissions::permissions_for;
use xacct_policy::{Arn, catalog};

fn report(name: &str, per_op: Duration, iterations: u32) {
    println!(
        "{{\"bench\":\"{name}\",\"ns_per_op\":{},\"iterations\":{iterations}}}",
        per_op.as_nanos()
    );
}

fn measure<T>(name: &str, iterations: u32, mut f: impl FnMut() -> T) {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    report(name, start.elapsed() / iterations, iterations);
}

fn main() {
    // First touch of the static tables in this process: what a cold start pays.
    let start = Instant::now();
    let (services, actions, types) = catalog::counts();
    let s3 = catalog::action("s3", "GetObject").map(|a| a.access_level());
    let first = start.elapsed();
    black_box(s3);
    println!(
        "{{\"bench\":\"catalog_load_first_touch\",\"ns\":{},\"services\":{services},\"actions\":{actions},\"resource_types\":{types}}}",
        first.as_nanos()
    );
    let start = Instant::now();
    let total: usize = catalog::services().map(|s| s.actions().len()).sum();
    black_box(total);
    println!(
        "{{\"bench\":\"catalog_walk_all_actions\",\"ns\":{},\"actions\":{total}}}",
        start.elapsed().as_nanos()
    );

    let bucket: Arn = "arn:aws:s3:::reports"
        .parse()
        .unwrap_or_else(|_| std::process::exit(1));
    let instance: Arn = "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"
        .parse()
        .unwrap_or_else(|_| std::process::exit(1));
    measure("action_lookup", 100_000, || {
        catalog::action("ec2", "DescribeInstances")
    });
    measure("recognize_ec2_instance", 10_000, || {
        catalog::recognize(&instance)
    });
    measure("permissions_for_s3_bucket", 2_000, || {
        permissions_for(&bucket)
    });
    measure("permissions_for_ec2_instance", 2_000, || {
        permissions_for(&instance)
    });
    let Ok(p) = permissions_for(&bucket) else {
        std::process::exit(1)
    };
    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:ListAllMyBuckets",
    ];
    measure("least_privilege_policy_s3", 20_000, || {
        least_privilege_policy(&p, &actions, GrantOptions::default())
    });
    let Ok(doc) = least_privilege_policy(&p, &actions, GrantOptions::default()) else {
        std::process::exit(1)
    };
    let set = PolicySet {
        identity: vec![Labeled {
            label: "permissions",
            document: &doc,
        }],
        ..PolicySet::default()
    };
    let Ok(principal) = "arn:aws:sts::111111111111:assumed-role/r/s".parse() else {
        std::process::exit(1)
    };
    let request = Request::new(
        RequestPrincipal::Aws(principal),
        "s3:GetObject",
        "arn:aws:s3:::reports/a/b.csv",
    )
    .with_context(Context::new());
    measure("evaluate_s3_get_object", 100_000, || {
        evaluate(&set, &request)
    });
}
