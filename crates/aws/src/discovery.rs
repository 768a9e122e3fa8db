//! Discovery of the owner account's resources: S3 buckets (with their region), EC2 instances
//! (not terminated), Lambda functions, RDS DB instances and Aurora DB clusters, tagged or
//! not, in every enabled region. Every (service, region) listing runs at once, every API is
//! paginated to the end, and a failing region or service becomes a partial failure instead of
//! failing the whole discovery.
//!
//! Tags: EC2 and RDS listings carry them. S3 and Lambda listings don't, and reading them per
//! bucket and per function would cost one call per resource; instead each region's tags are
//! read in pages through the Resource Groups Tagging API (`GetResources`, which returns the
//! resources that are or were tagged), alongside the listings, and joined by ARN.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use aws_config::SdkConfig;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use xacct_policy::{AccountId, Arn, Partition};

use crate::config::{in_region, region as default_region};
use crate::error::{AwsError, AwsErrorKind};

/// Calls in flight at once by default: jobs (a listing of one service in one region, or one
/// region's tags), enough for every job of every AWS region at once, and per-item calls
/// within a job (a bucket's location when ListBuckets gives none).
pub const JOB_CONCURRENCY: usize = 256;
pub const ITEM_CONCURRENCY: usize = 32;

/// Resources per `GetResources` page: the API's largest.
const TAGS_PAGE: i32 = 100;

/// How many calls discovery keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// Jobs at once: listings of one service in one region, and regions' tag reads.
    pub jobs: usize,
    /// Per-item calls (a bucket's location) at once within a job.
    pub items: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            jobs: JOB_CONCURRENCY,
            items: ITEM_CONCURRENCY,
        }
    }
}

impl Concurrency {
    /// One call at a time: the strategy of a script that walks regions one by one.
    pub const SEQUENTIAL: Self = Self { jobs: 1, items: 1 };

    /// `"jobs,items"` or one number for both (`XACCT_DISCOVERY_CONCURRENCY`); each from 1 to
    /// 256; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
        };
        match text.split_once(',') {
            Some((jobs, items)) => Some(Self {
                jobs: number(jobs)?,
                items: number(items)?,
            }),
            None => number(text).map(|n| Self { jobs: n, items: n }),
        }
    }
}

/// A service `list-resources` discovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    S3,
    Ec2,
    Lambda,
    Rds,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 4] = [Self::S3, Self::Ec2, Self::Lambda, Self::Rds];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Ec2 => "ec2",
            Self::Lambda => "lambda",
            Self::Rds => "rds",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| s.to_owned())
    }
}

/// The catalog resource type of a discovered resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ResourceType))]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Bucket,
    Instance,
    Function,
    Db,
    Cluster,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bucket => "bucket",
            Self::Instance => "instance",
            Self::Function => "function",
            Self::Db => "db",
            Self::Cluster => "cluster",
        })
    }
}

/// One discovered resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "A resource `list-resources` found.")
)]
pub struct DiscoveredResource {
    #[cfg_attr(feature = "openapi", schema(value_type = xacct_policy::openapi::Arn))]
    pub arn: String,
    pub service: ServiceKind,
    #[serde(rename = "type")]
    pub resource_type: ResourceKind,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = xacct_policy::openapi::Region))]
    pub region: String,
    /// The resource's tags; `{}` when it has none.
    pub tags: BTreeMap<String, String>,
    /// The account it is in; present when the request named `account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<xacct_policy::openapi::AccountId>, required = false)
    )]
    pub account_id: Option<AccountId>,
}

/// A service or region that could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A service in a region, or (across accounts) a whole account, that could not be listed."
    )
)]
pub struct PartialFailure {
    /// The account that failed; present when the request named `account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<xacct_policy::openapi::AccountId>, required = false)
    )]
    pub account_id: Option<AccountId>,
    /// The service and region that could not be listed; absent when a whole account
    /// could not be reached or listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub service: Option<ServiceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<xacct_policy::openapi::Region>, required = false)
    )]
    pub region: Option<String>,
    /// AWS's error code, or xacct's for an account that could not be reached.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub code: String,
    pub message: String,
}

impl PartialFailure {
    /// What could not be listed, in words: `s3 in us-east-1`, `account 333333333333`, or
    /// both.
    pub fn what(&self) -> String {
        let listing = match (self.service, &self.region) {
            (Some(service), Some(region)) => Some(format!("{service} in {region}")),
            (Some(service), None) => Some(service.to_string()),
            (None, Some(region)) => Some(region.clone()),
            (None, None) => None,
        };
        match (listing, &self.account_id) {
            (Some(listing), Some(account)) => format!("{listing} of account {account}"),
            (Some(listing), None) => listing,
            (None, Some(account)) => format!("account {account}"),
            (None, None) => "discovery".to_owned(),
        }
    }
}

/// What to discover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryQuery {
    /// Empty means all four.
    pub services: Vec<ServiceKind>,
    /// `None` means every region enabled in the account.
    pub regions: Option<Vec<String>>,
}

/// Everything found, sorted by (service, region, name, arn), and what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub resources: Vec<DiscoveredResource>,
    pub partial_failures: Vec<PartialFailure>,
}

/// What `list-resources` needs of discovery, so its handler can be tested without AWS.
pub trait Discover: Sync {
    /// Runs a discovery; fails only when the enabled regions cannot be listed.
    fn discover(
        &self,
        query: &DiscoveryQuery,
    ) -> impl std::future::Future<Output = Result<Discovery, AwsError>> + Send;
}

impl Discover for Discoverer {
    async fn discover(&self, query: &DiscoveryQuery) -> Result<Discovery, AwsError> {
        Discoverer::discover(self, query).await
    }
}

/// Discovers resources with one shared SDK configuration.
#[derive(Debug, Clone)]
pub struct Discoverer {
    config: SdkConfig,
    concurrency: Concurrency,
}

/// One unit of discovery work: a listing of one service in one region (S3: of the account),
/// or one region's S3 and Lambda tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Job {
    Buckets,
    Instances(String),
    Functions(String),
    DbInstances(String),
    DbClusters(String),
    Tags(String),
}

impl Job {
    /// The service and region a failure of this job is reported under (a failed tag read
    /// itself is reported under each service whose tags it reads).
    fn scope(&self, config: &SdkConfig) -> (ServiceKind, String) {
        match self {
            Self::Buckets => (ServiceKind::S3, default_region(config)),
            Self::Instances(r) => (ServiceKind::Ec2, r.clone()),
            Self::Functions(r) | Self::Tags(r) => (ServiceKind::Lambda, r.clone()),
            Self::DbInstances(r) | Self::DbClusters(r) => (ServiceKind::Rds, r.clone()),
        }
    }
}

/// A job of one region, given the region.
type RegionJob = fn(String) -> Job;

/// What every job reads.
#[derive(Debug)]
struct JobContext {
    discoverer: Discoverer,
    regions: BTreeSet<String>,
    types: Vec<(ServiceKind, &'static str)>,
}

/// Tags by resource ARN.
type TagsByArn = HashMap<String, BTreeMap<String, String>>;

/// What a job brought back.
#[derive(Debug, Default)]
struct Harvest {
    resources: Vec<DiscoveredResource>,
    tags: TagsByArn,
    failures: Vec<PartialFailure>,
}

impl Harvest {
    fn listed(result: Result<Vec<DiscoveredResource>, PartialFailure>) -> Self {
        match result {
            Ok(resources) => Self {
                resources,
                ..Self::default()
            },
            Err(f) => Self {
                failures: vec![f],
                ..Self::default()
            },
        }
    }
}

/// The Tagging API's resource types for the services whose listings have no tags.
fn tag_types(services: &BTreeSet<ServiceKind>) -> Vec<(ServiceKind, &'static str)> {
    [
        (ServiceKind::S3, "s3:bucket"),
        (ServiceKind::Lambda, "lambda:function"),
    ]
    .into_iter()
    .filter(|(service, _)| services.contains(service))
    .collect()
}

/// Per-item results split into what was found and what failed.
fn split<T>(results: Vec<Result<T, PartialFailure>>) -> (Vec<T>, Vec<PartialFailure>) {
    let mut found = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(t) => found.push(t),
            Err(f) => failures.push(f),
        }
    }
    (found, failures)
}

/// RDS tags (`TagList`) as a map.
fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn failure(service: ServiceKind, region: &str, e: &AwsError) -> PartialFailure {
    PartialFailure {
        account_id: None,
        service: Some(service),
        region: Some(region.to_owned()),
        code: e.code.clone(),
        message: format!(
            "{} failed: {}",
            e.operation,
            if e.message.is_empty() {
                &e.code
            } else {
                &e.message
            }
        ),
    }
}

/// The runtime EC2 listings run on, apart from the caller's: as many workers as CPUs, for
/// every EC2 listing of the process (each account's, each region's) at once. Its threads
/// parse EC2's pages while the caller's workers keep the other listings' chains going. A
/// blocking thread per listing did that too, but sat idle through each call's wait, and
/// tokio has at most 512: across a hundred accounts (2,400 EC2 listings) they ran 512 at
/// a time, in some 500 threads. `None` if it cannot start: the caller's runtime then.
fn ec2_runtime() -> Option<&'static tokio::runtime::Handle> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let workers = std::thread::available_parallelism().map_or(1, usize::from);
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("xacct-ec2")
                .enable_all()
                .build()
                .map_err(|e| tracing::warn!(error = %e, "EC2 listings share the runtime"))
                .ok()
        })
        .as_ref()
        .map(tokio::runtime::Runtime::handle)
}

impl Discoverer {
    pub fn new(config: SdkConfig) -> Self {
        Self {
            config,
            concurrency: Concurrency::default(),
        }
    }

    /// The same discoverer with other limits on calls in flight.
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Regions enabled in the account: opted in, or needing no opt-in.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        let client = aws_sdk_ec2::Client::new(&self.config);
        let out = client
            .describe_regions()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeRegions", e))?;
        let mut regions: Vec<String> = out
            .regions()
            .iter()
            .filter(|r| {
                matches!(
                    r.opt_in_status(),
                    None | Some("opt-in-not-required" | "opted-in")
                )
            })
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect();
        regions.sort();
        Ok(regions)
    }

    /// Runs a discovery. Fails only when the enabled regions cannot be listed.
    pub async fn discover(&self, query: &DiscoveryQuery) -> Result<Discovery, AwsError> {
        let regions = match &query.regions {
            Some(r) => r.clone(),
            None => self.enabled_regions().await?,
        };
        let services: BTreeSet<ServiceKind> = if query.services.is_empty() {
            ServiceKind::ALL.into_iter().collect()
        } else {
            query.services.iter().copied().collect()
        };
        let types = tag_types(&services);
        // Jobs start in the order of their listings' page sizes, smallest first: those
        // have the longest chains of pages for their number of resources (ListFunctions
        // pages 50 at a time; GetResources, DescribeDBInstances and DescribeDBClusters 100;
        // ListBuckets and DescribeInstances 1,000), so they should not wait for the others.
        let per_region: [(bool, RegionJob); 4] = [
            (services.contains(&ServiceKind::Lambda), Job::Functions),
            (!types.is_empty(), Job::Tags),
            (services.contains(&ServiceKind::Rds), Job::DbInstances),
            (services.contains(&ServiceKind::Rds), Job::DbClusters),
        ];
        let mut jobs = Vec::new();
        for (wanted, job) in per_region {
            if wanted {
                jobs.extend(regions.iter().cloned().map(job));
            }
        }
        if services.contains(&ServiceKind::S3) {
            jobs.push(Job::Buckets);
        }
        if services.contains(&ServiceKind::Ec2) {
            jobs.extend(regions.iter().cloned().map(Job::Instances));
        }
        // Each job is a task of its own, so that parsing the answers (thousands of
        // instances of XML) spreads over the runtime's threads instead of delaying, in one
        // task, the next page of every other listing. An EC2 page (up to 1,000 instances,
        // a few MB of XML) is parsed in one go inside the SDK call, tens of ms of CPU: on the
        // runtime's workers, the first pages of a few regions hold every worker of a 2-vCPU
        // machine while the longest chain of calls (Lambda's pages of 50) waits to send its
        // next page. On the threads of `ec2_runtime`, the OS shares the CPU between that
        // parsing and the chain, whose turns are short.
        let context = Arc::new(JobContext {
            discoverer: self.clone(),
            regions: regions.iter().cloned().collect(),
            types,
        });
        let harvests: Vec<Harvest> = stream::iter(jobs)
            .map(|job| {
                let context = Arc::clone(&context);
                let (service, region) = job.scope(&context.discoverer.config);
                async move {
                    let heavy = matches!(job, Job::Instances(_));
                    let run = async move {
                        context
                            .discoverer
                            .run(job, &context.regions, &context.types)
                            .await
                    };
                    let task = match ec2_runtime() {
                        Some(ec2) if heavy => ec2.spawn(run),
                        _ => tokio::spawn(run),
                    };
                    task.await.unwrap_or_else(|e| {
                        tracing::error!(%service, region, error = %e, "discovery job failed");
                        Harvest::listed(Err(PartialFailure {
                            account_id: None,
                            service: Some(service),
                            region: Some(region),
                            code: "InternalError".to_owned(),
                            message: "the listing stopped unexpectedly".to_owned(),
                        }))
                    })
                }
            })
            .buffer_unordered(self.concurrency.jobs)
            .collect()
            .await;
        let mut out = Discovery::default();
        let mut tags = TagsByArn::new();
        for harvest in harvests {
            out.resources.extend(harvest.resources);
            out.partial_failures.extend(harvest.failures);
            // The Tagging API is regional; a resource it lists in several regions has the
            // same tags in each.
            tags.extend(harvest.tags);
        }
        for resource in &mut out.resources {
            if matches!(resource.service, ServiceKind::S3 | ServiceKind::Lambda)
                && let Some(found) = tags.remove(&resource.arn)
            {
                resource.tags = found;
            }
        }
        out.resources.sort_by(|a, b| {
            (a.service, &a.region, &a.name, &a.arn).cmp(&(b.service, &b.region, &b.name, &b.arn))
        });
        out.partial_failures
            .sort_by(|a, b| (a.service, &a.region, &a.code).cmp(&(b.service, &b.region, &b.code)));
        out.partial_failures.dedup();
        Ok(out)
    }

    async fn run(
        &self,
        job: Job,
        regions: &BTreeSet<String>,
        types: &[(ServiceKind, &'static str)],
    ) -> Harvest {
        let (service, region) = job.scope(&self.config);
        let listed = match job {
            Job::Buckets => return self.s3(regions).await,
            Job::Tags(r) => {
                return match self.tags(&r, types).await {
                    Ok(tags) => Harvest {
                        tags,
                        ..Harvest::default()
                    },
                    // The resources are still listed, without their tags.
                    Err(e) => Harvest {
                        failures: types
                            .iter()
                            .map(|(service, _)| failure(*service, &r, &e))
                            .collect(),
                        ..Harvest::default()
                    },
                };
            }
            Job::Instances(r) => self.ec2(&r).await,
            Job::Functions(r) => self.lambda(&r).await,
            Job::DbInstances(r) => self.rds_instances(&r).await,
            Job::DbClusters(r) => self.rds_clusters(&r).await,
        };
        Harvest::listed(listed.map_err(|e| failure(service, &region, &e)))
    }

    /// One region's tags of the given resource types, every page, by ARN.
    async fn tags(
        &self,
        region: &str,
        types: &[(ServiceKind, &'static str)],
    ) -> Result<TagsByArn, AwsError> {
        let client = aws_sdk_resourcegroupstagging::Client::new(&in_region(&self.config, region));
        let mut found = TagsByArn::new();
        let mut pages = client
            .get_resources()
            .set_resource_type_filters(Some(types.iter().map(|(_, t)| (*t).to_owned()).collect()))
            .resources_per_page(TAGS_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("GetResources", e))?;
            for mapping in page.resource_tag_mapping_list() {
                let Some(arn) = mapping.resource_arn() else {
                    continue;
                };
                let tags = mapping
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
                found.insert(arn.to_owned(), tags);
            }
        }
        Ok(found)
    }

    async fn s3(&self, regions: &BTreeSet<String>) -> Harvest {
        let home = default_region(&self.config);
        let client = aws_sdk_s3::Client::new(&self.config);
        let mut buckets: Vec<(String, Option<String>)> = Vec::new();
        let mut pages = client
            .list_buckets()
            .max_buckets(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    return Harvest::listed(Err(failure(
                        ServiceKind::S3,
                        &home,
                        &AwsError::from_sdk("ListBuckets", e),
                    )));
                }
            };
            buckets.extend(page.buckets().iter().filter_map(|b| {
                b.name()
                    .map(|n| (n.to_owned(), b.bucket_region().map(str::to_owned)))
            }));
        }
        let found: Vec<Result<DiscoveredResource, PartialFailure>> = stream::iter(buckets)
            .map(|(name, known_region)| {
                let client = &client;
                let home = &home;
                async move {
                    let region = match known_region {
                        Some(r) => r,
                        None => {
                            let loc = client
                                .get_bucket_location()
                                .bucket(&name)
                                .send()
                                .await
                                .map_err(|e| {
                                    failure(
                                        ServiceKind::S3,
                                        home,
                                        &AwsError::from_sdk("GetBucketLocation", e),
                                    )
                                })?;
                            match loc.location_constraint().map(|c| c.as_str().to_owned()) {
                                None => "us-east-1".to_owned(),
                                Some(c) if c.is_empty() => "us-east-1".to_owned(),
                                Some(c) if c == "EU" => "eu-west-1".to_owned(),
                                Some(c) => c,
                            }
                        }
                    };
                    let arn =
                        Arn::from_parts(Partition::for_region(&region), "s3", "", None, &name)
                            .map_err(|e| {
                                failure(
                                    ServiceKind::S3,
                                    home,
                                    &AwsError::new(
                                        "ListBuckets",
                                        "InvalidResponse",
                                        &e.to_string(),
                                        AwsErrorKind::Unavailable,
                                    ),
                                )
                            })?;
                    Ok(DiscoveredResource {
                        arn: arn.to_string(),
                        service: ServiceKind::S3,
                        resource_type: ResourceKind::Bucket,
                        name,
                        region,
                        tags: BTreeMap::new(),
                        account_id: None,
                    })
                }
            })
            .buffer_unordered(self.concurrency.items)
            .collect()
            .await;
        let (mut resources, failures) = split(found);
        resources.retain(|b| regions.contains(&b.region));
        Harvest {
            resources,
            tags: TagsByArn::new(),
            failures,
        }
    }

    async fn ec2(&self, region: &str) -> Result<Vec<DiscoveredResource>, AwsError> {
        let client = aws_sdk_ec2::Client::new(&in_region(&self.config, region));
        let live = aws_sdk_ec2::types::Filter::builder()
            .name("instance-state-name")
            .set_values(Some(
                ["pending", "running", "shutting-down", "stopping", "stopped"]
                    .map(String::from)
                    .to_vec(),
            ))
            .build();
        let mut out = Vec::new();
        let mut pages = client
            .describe_instances()
            .filters(live)
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("DescribeInstances", e))?;
            for reservation in page.reservations() {
                let owner = reservation.owner_id().unwrap_or_default();
                for instance in reservation.instances() {
                    let Some(id) = instance.instance_id() else {
                        continue;
                    };
                    let tags: BTreeMap<String, String> = instance
                        .tags()
                        .iter()
                        .filter_map(|t| {
                            Some((
                                t.key()?.to_owned(),
                                t.value().unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect();
                    let account = owner.parse::<AccountId>().ok();
                    let Ok(arn) = Arn::from_parts(
                        Partition::for_region(region),
                        "ec2",
                        region,
                        account.as_ref(),
                        &["instance/", id].concat(),
                    ) else {
                        tracing::warn!(region, id, "an instance without a valid ARN is left out");
                        continue;
                    };
                    out.push(DiscoveredResource {
                        arn: arn.to_string(),
                        service: ServiceKind::Ec2,
                        resource_type: ResourceKind::Instance,
                        name: tags.get("Name").cloned().unwrap_or_else(|| id.to_owned()),
                        region: region.to_owned(),
                        tags,
                        account_id: None,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn lambda(&self, region: &str) -> Result<Vec<DiscoveredResource>, AwsError> {
        let client = aws_sdk_lambda::Client::new(&in_region(&self.config, region));
        let mut out = Vec::new();
        let mut pages = client
            .list_functions()
            .max_items(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListFunctions", e))?;
            for f in page.functions() {
                if let (Some(name), Some(arn)) = (f.function_name(), f.function_arn()) {
                    out.push(DiscoveredResource {
                        arn: arn.to_owned(),
                        service: ServiceKind::Lambda,
                        resource_type: ResourceKind::Function,
                        name: name.to_owned(),
                        region: region.to_owned(),
                        tags: BTreeMap::new(),
                        account_id: None,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn rds_instances(&self, region: &str) -> Result<Vec<DiscoveredResource>, AwsError> {
        let client = aws_sdk_rds::Client::new(&in_region(&self.config, region));
        let mut out = Vec::new();
        let mut pages = client
            .describe_db_instances()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("DescribeDBInstances", e))?;
            for db in page.db_instances() {
                let (Some(arn), Some(name)) = (db.db_instance_arn(), db.db_instance_identifier())
                else {
                    continue;
                };
                out.push(DiscoveredResource {
                    arn: arn.to_owned(),
                    service: ServiceKind::Rds,
                    resource_type: ResourceKind::Db,
                    name: name.to_owned(),
                    region: region.to_owned(),
                    tags: rds_tags(db.tag_list()),
                    account_id: None,
                });
            }
        }
        Ok(out)
    }

    async fn rds_clusters(&self, region: &str) -> Result<Vec<DiscoveredResource>, AwsError> {
        let client = aws_sdk_rds::Client::new(&in_region(&self.config, region));
        let mut out = Vec::new();
        let mut pages = client
            .describe_db_clusters()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("DescribeDBClusters", e))?;
            for c in page.db_clusters() {
                let (Some(arn), Some(name)) = (c.db_cluster_arn(), c.db_cluster_identifier())
                else {
                    continue;
                };
                out.push(DiscoveredResource {
                    arn: arn.to_owned(),
                    service: ServiceKind::Rds,
                    resource_type: ResourceKind::Cluster,
                    name: name.to_owned(),
                    region: region.to_owned(),
                    tags: rds_tags(c.tag_list()),
                    account_id: None,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{Concurrency, ResourceKind};

    #[test]
    fn resource_kinds_read_back_and_show_as_the_catalog_names_them() {
        for kind in [
            ResourceKind::Bucket,
            ResourceKind::Instance,
            ResourceKind::Function,
            ResourceKind::Db,
            ResourceKind::Cluster,
        ] {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.to_string());
            assert_eq!(serde_json::from_value::<ResourceKind>(json).unwrap(), kind);
        }
    }

    #[test]
    fn concurrency_parses_one_number_or_a_pair_within_bounds() {
        assert_eq!(Concurrency::parse("1"), Some(Concurrency::SEQUENTIAL));
        assert_eq!(
            Concurrency::parse(" 8 , 64 "),
            Some(Concurrency { jobs: 8, items: 64 })
        );
        for bad in ["0", "257", "x", "4,", ",4", "1,2,3", ""] {
            assert_eq!(Concurrency::parse(bad), None, "{bad}");
        }
    }
}
