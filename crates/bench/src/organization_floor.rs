//! The SDK floor of the organization bench: the AWS calls list-resources makes across the
//! member accounts (the same actions, accounts, regions and pages), made with bare SDK
//! clients and nothing of xacct's, every one as soon as it can be, against the same
//! generated organization. What any SDK-based implementation costs on this machine.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
use aws_sdk_sts::config::Credentials;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_types::sdk_config::SharedCredentialsProvider;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use xacct_aws::discovery::ServiceKind;
use xacct_policy::AccountId;
use xacct_policy::organization::Spoke;

use crate::discovery::{
    Account, DESCRIBE_INSTANCES_PAGE, GET_RESOURCES_PAGE, LIST_BUCKETS_PAGE, LIST_FUNCTIONS_PAGE,
    RDS_PAGE,
};
use crate::error::{BenchError, Context, Result};
use crate::organization::{
    GeneratedOrganization, Point, Regions, check_calls, expected_calls, expected_resources,
    generated,
};

/// What the SDK floor, in a fresh process, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FloorRun {
    pub wall_ms: f64,
    pub calls: usize,
    pub calls_by_action: BTreeMap<String, usize>,
    pub max_in_flight: usize,
    /// Resources the listings found (buckets of the listed regions only, as xacct keeps).
    pub resources: usize,
    pub peak_rss_mb: Option<f64>,
    /// The rendered answers this process holds.
    pub answers_mb: f64,
    /// CPU time of the calls (user and system, all threads; 10 ms ticks).
    pub cpu_ms: Option<u64>,
}

/// An SDK error, with its source chain.
fn failed<E: std::error::Error>(operation: &str) -> impl FnOnce(E) -> BenchError + '_ {
    move |e| BenchError::new(format!("{operation}: {}", DisplayErrorContext(e)))
}

/// The calls of `members` accounts of size `scale` for `point`, in this process: the SDK's
/// default configuration from the clean environment the parent gives, the generated
/// organization as its HTTP client; every member a task, every listing a task.
pub async fn point(members: usize, scale: f64, delay: Duration, point: &Point) -> Result<FloorRun> {
    let account = Account::scaled(scale);
    let (org, rendered, config) = generated(members, &account, delay, false).await?;
    let mut run = calls(&org, &account, &config, point).await?;
    run.answers_mb = crate::system::mib(rendered as u64);
    Ok(run)
}

/// Every member's calls at once, with `config` (its HTTP client `org`), measured.
async fn calls(
    org: &GeneratedOrganization,
    account: &Account,
    config: &SdkConfig,
    point: &Point,
) -> Result<FloorRun> {
    let members = org.members().len();
    let named = match &point.regions {
        Regions::Enabled => None,
        Regions::Only(listed) => Some(listed.clone()),
    };
    let cpu_before = crate::system::own_cpu_ms();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for member in org.members() {
        tasks.spawn(member_calls(
            config.clone(),
            org.spoke().clone(),
            member,
            named.clone(),
            point.services.listed(),
        ));
    }
    let mut found = 0;
    while let Some(done) = tasks.join_next().await {
        found += done.context(|| "a member's task".to_owned())??;
    }
    let ended = Instant::now();
    let total = check_calls(org, expected_calls(members, account, point))?;
    let expected = expected_resources(members, account, point);
    if found != expected {
        return Err(BenchError::new(format!(
            "found {found} resources of {expected}"
        )));
    }
    Ok(FloorRun {
        wall_ms: crate::stats::round3((ended - started).as_secs_f64() * 1000.0),
        calls: total,
        calls_by_action: org
            .calls()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        max_in_flight: org.max_in_flight(),
        resources: found,
        peak_rss_mb: crate::system::own_peak_rss_mb(),
        answers_mb: 0.0,
        cpu_ms: crate::system::own_cpu_ms()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before)),
    })
}

/// One member: `AssumeRole` of its spoke role; with the session, `GetRole` of the spoke
/// role, `DescribeRegions` (unless `named`), and the listings of `services` (`ListBuckets`,
/// every region's own), each a task at once. Returns the resources found.
async fn member_calls(
    hub: SdkConfig,
    spoke: Spoke,
    member: AccountId,
    named: Option<Vec<String>>,
    services: Vec<ServiceKind>,
) -> Result<usize> {
    let role = spoke
        .role_arn(&member)
        .map_err(|e| BenchError::new(format!("spoke role of {member}: {e}")))?;
    let assumed = aws_sdk_sts::Client::new(&hub)
        .assume_role()
        .role_arn(role.to_string())
        .role_session_name("xacct-bench-floor")
        .send()
        .await
        .map_err(failed("AssumeRole"))?;
    let keys = assumed
        .credentials()
        .context(|| "AssumeRole gave no credentials".to_owned())?;
    let session = hub
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            keys.access_key_id(),
            keys.secret_access_key(),
            Some(keys.session_token().to_owned()),
            None,
            "assume-role",
        )))
        .build();
    let mut tasks: JoinSet<Result<usize>> = JoinSet::new();
    let iam = aws_sdk_iam::Client::new(&session);
    let role_name = spoke.role_name.to_string();
    tasks.spawn(async move {
        iam.get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(failed("GetRole"))?;
        Ok(0)
    });
    let regions = match named {
        Some(listed) => listed,
        None => enabled_regions(&session).await?,
    };
    let has = |s: ServiceKind| services.contains(&s);
    if has(ServiceKind::S3) {
        tasks.spawn(buckets(session.clone(), regions.iter().cloned().collect()));
    }
    // The Tagging API's types of the services whose listings have no tags.
    let types: Vec<&'static str> = [
        (ServiceKind::S3, "s3:bucket"),
        (ServiceKind::Lambda, "lambda:function"),
    ]
    .into_iter()
    .filter(|(s, _)| has(*s))
    .map(|(_, t)| t)
    .collect();
    for region in regions {
        let config = session.to_builder().region(Region::new(region)).build();
        if has(ServiceKind::Ec2) {
            tasks.spawn(instances(config.clone()));
        }
        if has(ServiceKind::Lambda) {
            tasks.spawn(functions(config.clone()));
        }
        if has(ServiceKind::Rds) {
            tasks.spawn(db_instances(config.clone()));
            tasks.spawn(db_clusters(config.clone()));
        }
        if !types.is_empty() {
            tasks.spawn(tags(config, types.clone()));
        }
    }
    let mut found = 0;
    while let Some(done) = tasks.join_next().await {
        found += done.context(|| "a listing's task".to_owned())??;
    }
    Ok(found)
}

async fn enabled_regions(config: &SdkConfig) -> Result<Vec<String>> {
    let out = aws_sdk_ec2::Client::new(config)
        .describe_regions()
        .send()
        .await
        .map_err(failed("DescribeRegions"))?;
    Ok(out
        .regions()
        .iter()
        .filter(|r| {
            matches!(
                r.opt_in_status(),
                None | Some("opt-in-not-required" | "opted-in")
            )
        })
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect())
}

/// Reads every page of `pages` (an SDK paginator's stream), the items `count` counts.
macro_rules! every_page {
    ($pages:expr, $operation:literal, $count:expr) => {{
        let mut pages = $pages;
        let mut found = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed($operation))?;
            found += $count(&page);
        }
        Ok(found)
    }};
}

/// Every bucket; those of `regions` count.
async fn buckets(config: SdkConfig, regions: BTreeSet<String>) -> Result<usize> {
    let pages = aws_sdk_s3::Client::new(&config)
        .list_buckets()
        .max_buckets(LIST_BUCKETS_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(pages, "ListBuckets", |page: &ListBucketsOutput| {
        page.buckets()
            .iter()
            .filter(|b| b.bucket_region().is_some_and(|r| regions.contains(r)))
            .count()
    })
}

async fn instances(config: SdkConfig) -> Result<usize> {
    let live = aws_sdk_ec2::types::Filter::builder()
        .name("instance-state-name")
        .set_values(Some(
            ["pending", "running", "shutting-down", "stopping", "stopped"]
                .map(String::from)
                .to_vec(),
        ))
        .build();
    let pages = aws_sdk_ec2::Client::new(&config)
        .describe_instances()
        .filters(live)
        .max_results(DESCRIBE_INSTANCES_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(
        pages,
        "DescribeInstances",
        |page: &DescribeInstancesOutput| {
            page.reservations()
                .iter()
                .map(|r| r.instances().len())
                .sum::<usize>()
        }
    )
}

async fn functions(config: SdkConfig) -> Result<usize> {
    let pages = aws_sdk_lambda::Client::new(&config)
        .list_functions()
        .max_items(LIST_FUNCTIONS_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(pages, "ListFunctions", |page: &ListFunctionsOutput| page
        .functions()
        .len())
}

async fn db_instances(config: SdkConfig) -> Result<usize> {
    let pages = aws_sdk_rds::Client::new(&config)
        .describe_db_instances()
        .max_records(RDS_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(
        pages,
        "DescribeDBInstances",
        |page: &DescribeDbInstancesOutput| page.db_instances().len()
    )
}

async fn db_clusters(config: SdkConfig) -> Result<usize> {
    let pages = aws_sdk_rds::Client::new(&config)
        .describe_db_clusters()
        .max_records(RDS_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(
        pages,
        "DescribeDBClusters",
        |page: &DescribeDbClustersOutput| page.db_clusters().len()
    )
}

/// A region's tags of resources of `types` (S3's and Lambda's): every page is read; tags
/// are not resources.
async fn tags(config: SdkConfig, types: Vec<&'static str>) -> Result<usize> {
    let pages = aws_sdk_resourcegroupstagging::Client::new(&config)
        .get_resources()
        .set_resource_type_filters(Some(types.into_iter().map(str::to_owned).collect()))
        .resources_per_page(GET_RESOURCES_PAGE as i32)
        .into_paginator()
        .send();
    every_page!(pages, "GetResources", |_: &GetResourcesOutput| 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor makes exactly the calls list-resources makes and finds every resource,
    /// for every enabled region and for named ones (no `DescribeRegions` then), of every
    /// service or of those named.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sdk_floor_makes_the_same_calls_and_finds_every_resource() {
        let two = || Regions::Only(vec!["us-east-1".to_owned(), "eu-west-1".to_owned()]);
        let only = |regions, services: &str| Point {
            regions,
            services: crate::organization::Services::parse(services).unwrap(),
        };
        for point in [
            Point::all_services(Regions::Enabled),
            Point::all_services(two()),
            only(two(), "s3"),
            only(two(), "lambda"),
            only(Regions::Enabled, "ec2,rds"),
        ] {
            let account = Account::scaled(0.01);
            let org = GeneratedOrganization::new(3, &account, Duration::ZERO).unwrap();
            let config = crate::organization::test_config(&org, "AKIAXACCTBENCHEXAMPLE");
            let run = calls(&org, &account, &config, &point).await.unwrap();
            assert_eq!(org.unknown(), Vec::<String>::new());
            assert_eq!(run.calls, expected_calls(3, &account, &point));
            assert_eq!(run.resources, expected_resources(3, &account, &point));
            assert_eq!(
                run.calls_by_action.get("ec2:DescribeRegions").copied(),
                (point.regions == Regions::Enabled).then_some(3),
                "{point:?}"
            );
            assert_eq!(run.calls_by_action.get("sts:AssumeRole"), Some(&3));
            for (action, service) in [
                ("s3:ListBuckets", ServiceKind::S3),
                ("ec2:DescribeInstances", ServiceKind::Ec2),
                ("lambda:ListFunctions", ServiceKind::Lambda),
                ("rds:DescribeDBClusters", ServiceKind::Rds),
            ] {
                assert_eq!(
                    run.calls_by_action.contains_key(action),
                    point.services.listed().contains(&service),
                    "{action} {point:?}"
                );
            }
        }
    }
}
