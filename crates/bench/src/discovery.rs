//! list-resources' discovery at scale: xacct's own `Discoverer`, given an SDK configuration
//! whose HTTP client is this module's generated AWS. Every call is answered after a fixed
//! delay with a deterministic page of buckets, instances, functions or DB instances, so the
//! measurement is xacct's (its concurrency, its chains of pages, its parsing) and never an
//! emulator's. Each point runs in a fresh process of this binary (`discovery-point`), as a
//! function's first request would, and reports its time against the call-chain floor: the
//! longest chain of calls that must follow one another × the delay.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use xacct_aws::discovery::{Concurrency, Discoverer, DiscoveryQuery, ServiceKind};

use crate::error::{BenchError, Context, Result};
use crate::events::{at, set};

/// The account at full size.
pub const FULL: Counts = Counts {
    buckets: 2000,
    instances: 4000,
    functions: 1000,
    db_instances: 200,
};
/// The sizes measured, as fractions of the full size: 360, 1,800, 3,600 and 7,200 resources.
pub const SCALES: [f64; 4] = [0.05, 0.25, 0.5, 1.0];
/// Where the resources are, spread evenly (the first regions get the remainder).
pub const SEED_REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
/// What DescribeRegions answers as enabled: the 24 regions moto lists (the earlier Python
/// bench's, so the numbers compare).
pub const ENABLED_REGIONS: [&str; 24] = [
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];
/// Listed by DescribeRegions but not opted in: discovery must leave them out.
pub const NOT_OPTED_IN: [&str; 2] = ["me-central-1", "il-central-1"];
const OWNER: &str = "111111111111";

/// The largest page each listing gives, as AWS documents it (and xacct asks for).
pub const LIST_BUCKETS_PAGE: usize = 1000;
pub const DESCRIBE_INSTANCES_PAGE: usize = 1000;
pub const LIST_FUNCTIONS_PAGE: usize = 50;
pub const RDS_PAGE: usize = 100;
pub const GET_RESOURCES_PAGE: usize = 100;

/// How many of each resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub buckets: usize,
    pub instances: usize,
    pub functions: usize,
    pub db_instances: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.buckets + self.instances + self.functions + self.db_instances
    }
}

/// `total` split over `parts`, the first ones getting the remainder.
pub fn spread(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// Calls to list `n` items `size` at a time: at least one, for an empty listing too.
pub fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

/// Tagged of `n` resources: every other one (the first, the third, ...).
pub fn tagged(n: usize) -> usize {
    n.div_ceil(2)
}

/// The generated account: per seed region, what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub per_region: BTreeMap<&'static str, Counts>,
}

impl Account {
    /// The full size times `scale`, spread over the seed regions.
    pub fn scaled(scale: f64) -> Self {
        let n = |full: usize| (full as f64 * scale).round() as usize;
        let parts = SEED_REGIONS.len();
        let columns = [
            spread(n(FULL.buckets), parts),
            spread(n(FULL.instances), parts),
            spread(n(FULL.functions), parts),
            spread(n(FULL.db_instances), parts),
        ];
        let at = |column: usize, i: usize| {
            columns
                .get(column)
                .and_then(|c| c.get(i))
                .copied()
                .unwrap_or(0)
        };
        let per_region = SEED_REGIONS
            .iter()
            .enumerate()
            .map(|(i, region)| {
                let counts = Counts {
                    buckets: at(0, i),
                    instances: at(1, i),
                    functions: at(2, i),
                    db_instances: at(3, i),
                };
                (*region, counts)
            })
            .collect();
        Self { per_region }
    }

    pub fn in_region(&self, region: &str) -> Counts {
        self.per_region.get(region).copied().unwrap_or_default()
    }

    pub fn total(&self) -> Counts {
        self.per_region
            .values()
            .fold(Counts::default(), |a, c| Counts {
                buckets: a.buckets + c.buckets,
                instances: a.instances + c.instances,
                functions: a.functions + c.functions,
                db_instances: a.db_instances + c.db_instances,
            })
    }

    /// Resources discovery must find.
    pub fn resources(&self) -> usize {
        self.total().total()
    }

    /// Resources a listing of `regions` only must find.
    pub fn resources_in(&self, regions: &[&str]) -> usize {
        self.resources_of(regions, &ServiceKind::ALL)
    }

    /// Resources a listing of `services` in `regions` must find.
    pub fn resources_of(&self, regions: &[&str], services: &[ServiceKind]) -> usize {
        let has = |s: ServiceKind| services.contains(&s);
        regions
            .iter()
            .map(|r| {
                let c = self.in_region(r);
                [
                    (ServiceKind::S3, c.buckets),
                    (ServiceKind::Ec2, c.instances),
                    (ServiceKind::Lambda, c.functions),
                    (ServiceKind::Rds, c.db_instances),
                ]
                .iter()
                .filter(|(s, _)| has(*s))
                .map(|(_, n)| n)
                .sum::<usize>()
            })
            .sum()
    }

    /// Every chain of calls that must follow one another (a paged listing), by job: S3's
    /// one (ListBuckets gives each bucket's region), and per enabled region its tags
    /// (GetResources: the tagged buckets and functions there), EC2, Lambda, RDS DB instances
    /// and clusters (none generated: one empty page).
    pub fn chains(&self) -> Vec<(String, usize)> {
        self.chains_in(&ENABLED_REGIONS)
    }

    /// The chains of a listing of `regions` only: S3's (ListBuckets lists every bucket),
    /// and each of those regions' own.
    pub fn chains_in(&self, regions: &[&str]) -> Vec<(String, usize)> {
        self.chains_of(regions, &ServiceKind::ALL)
    }

    /// The chains of a listing of `services` in `regions`, as discovery runs only the jobs
    /// of the services asked: a region's tags when S3 or Lambda is asked (GetResources of
    /// those services' resource types only), RDS's two listings for `rds`.
    pub fn chains_of(&self, regions: &[&str], services: &[ServiceKind]) -> Vec<(String, usize)> {
        let has = |s: ServiceKind| services.contains(&s);
        let mut out = Vec::new();
        if has(ServiceKind::S3) {
            out.push((
                "s3".to_owned(),
                pages(self.total().buckets, LIST_BUCKETS_PAGE),
            ));
        }
        for region in regions.iter().copied() {
            let c = self.in_region(region);
            let tagged_here = [
                (ServiceKind::S3, c.buckets),
                (ServiceKind::Lambda, c.functions),
            ]
            .iter()
            .filter(|(s, _)| has(*s))
            .map(|(_, n)| tagged(*n))
            .sum::<usize>();
            let chains = [
                (
                    has(ServiceKind::S3) || has(ServiceKind::Lambda),
                    "tags",
                    pages(tagged_here, GET_RESOURCES_PAGE),
                ),
                (
                    has(ServiceKind::Ec2),
                    "ec2",
                    pages(c.instances, DESCRIBE_INSTANCES_PAGE),
                ),
                (
                    has(ServiceKind::Lambda),
                    "lambda",
                    pages(c.functions, LIST_FUNCTIONS_PAGE),
                ),
                (
                    has(ServiceKind::Rds),
                    "rds",
                    pages(c.db_instances, RDS_PAGE),
                ),
                (has(ServiceKind::Rds), "rds-clusters", pages(0, RDS_PAGE)),
            ];
            out.extend(
                chains
                    .into_iter()
                    .filter(|(wanted, ..)| *wanted)
                    .map(|(_, job, n)| (format!("{job} {region}"), n)),
            );
        }
        out
    }

    /// The floor in calls: DescribeRegions, then the longest chain.
    pub fn floor_calls(&self) -> usize {
        1 + self.chains().iter().map(|(_, n)| *n).max().unwrap_or(0)
    }

    /// Every call discovery makes: DescribeRegions and every page of every chain.
    pub fn expected_calls(&self) -> usize {
        1 + self.chains().iter().map(|(_, n)| *n).sum::<usize>()
    }
}

/// One AWS API the generated account answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Action {
    DescribeRegions,
    DescribeInstances,
    DescribeDbInstances,
    DescribeDbClusters,
    ListBuckets,
    ListFunctions,
    GetResources,
}

impl Action {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::DescribeRegions => "ec2:DescribeRegions",
            Self::DescribeInstances => "ec2:DescribeInstances",
            Self::DescribeDbInstances => "rds:DescribeDBInstances",
            Self::DescribeDbClusters => "rds:DescribeDBClusters",
            Self::ListBuckets => "s3:ListBuckets",
            Self::ListFunctions => "lambda:ListFunctions",
            Self::GetResources => "tagging:GetResources",
        }
    }

    /// The largest page AWS gives, and the default when the request names none.
    fn max_page(self) -> usize {
        match self {
            Self::DescribeRegions => usize::MAX,
            Self::DescribeInstances => DESCRIBE_INSTANCES_PAGE,
            Self::DescribeDbInstances | Self::DescribeDbClusters => RDS_PAGE,
            Self::ListBuckets => LIST_BUCKETS_PAGE,
            Self::ListFunctions => LIST_FUNCTIONS_PAGE,
            Self::GetResources => GET_RESOURCES_PAGE,
        }
    }
}

/// A call, as read from the SDK's request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Call {
    action: Action,
    region: String,
    /// The first item of the page (the pagination token is this offset).
    start: usize,
    size: usize,
}

/// The service and region of an AWS endpoint's host (`ec2.eu-west-1.amazonaws.com`;
/// `s3.amazonaws.com` is us-east-1).
pub(crate) fn service_and_region(host: &str) -> Option<(&str, &str)> {
    let mut labels = host.split('.');
    let service = labels.next()?;
    let region = labels.next()?;
    Some((
        service,
        if region == "amazonaws" {
            "us-east-1"
        } else {
            region
        },
    ))
}

fn route(request: &HttpRequest) -> std::result::Result<Call, String> {
    let uri: http::Uri = request.uri().parse().map_err(|e| format!("uri: {e}"))?;
    let host = uri.host().unwrap_or_default();
    let (service, region) =
        service_and_region(host).ok_or_else(|| format!("unknown host `{host}`"))?;
    let body = request.body().bytes().unwrap_or_default();
    let query: HashMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let form: HashMap<String, String> = if service == "ec2" || service == "rds" {
        form_urlencoded::parse(body).into_owned().collect()
    } else {
        HashMap::new()
    };
    let json: serde_json::Value = if service == "tagging" {
        serde_json::from_slice(body).map_err(|e| format!("GetResources body: {e}"))?
    } else {
        serde_json::Value::Null
    };
    let number = |v: Option<&String>| v.and_then(|s| s.parse::<usize>().ok());
    let (action, start, size) = match (service, form.get("Action").map(String::as_str)) {
        ("ec2", Some("DescribeRegions")) => (Action::DescribeRegions, 0, None),
        ("ec2", Some("DescribeInstances")) => (
            Action::DescribeInstances,
            number(form.get("NextToken")).unwrap_or(0),
            number(form.get("MaxResults")),
        ),
        ("rds", Some(action @ ("DescribeDBInstances" | "DescribeDBClusters"))) => (
            if action == "DescribeDBInstances" {
                Action::DescribeDbInstances
            } else {
                Action::DescribeDbClusters
            },
            number(form.get("Marker")).unwrap_or(0),
            number(form.get("MaxRecords")),
        ),
        ("s3", _) if uri.path() == "/" => (
            Action::ListBuckets,
            number(query.get("continuation-token")).unwrap_or(0),
            number(query.get("max-buckets")),
        ),
        ("lambda", _) if uri.path().starts_with("/2015-03-31/functions") => (
            Action::ListFunctions,
            number(query.get("Marker")).unwrap_or(0),
            number(query.get("MaxItems")),
        ),
        ("tagging", _)
            if request.headers().get("x-amz-target")
                == Some("ResourceGroupsTaggingAPI_20170126.GetResources") =>
        {
            let field = |k: &str| json.get(k).and_then(serde_json::Value::as_str);
            let size = json
                .get("ResourcesPerPage")
                .and_then(serde_json::Value::as_u64);
            (
                Action::GetResources,
                field("PaginationToken")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0),
                size.and_then(|s| usize::try_from(s).ok()),
            )
        }
        _ => {
            return Err(format!(
                "unknown call {} {}",
                request.method(),
                request.uri()
            ));
        }
    };
    let size = size
        .unwrap_or(action.max_page())
        .clamp(1, action.max_page());
    Ok(Call {
        action,
        region: region.to_owned(),
        start,
        size,
    })
}

/// A page's items and the offset of the next page, if any.
fn window(total: usize, start: usize, size: usize) -> (std::ops::Range<usize>, Option<usize>) {
    let end = start.saturating_add(size).min(total);
    let start = start.min(end);
    (start..end, (end < total).then_some(end))
}

/// The generated answers of one account.
#[derive(Debug)]
pub struct Answers {
    account: Account,
    /// The account's id, in its ARNs and owner ids.
    owner: String,
    /// Bucket names start with it: they are global, so in an organization each member's
    /// carry its account id.
    bucket_prefix: String,
}

fn function_name(region: &str, n: usize) -> String {
    format!("bench-fn-{region}-{n:05}")
}

fn region_index(region: &str) -> usize {
    ENABLED_REGIONS
        .iter()
        .position(|r| *r == region)
        .unwrap_or(99)
}

impl Answers {
    pub fn new(account: Account) -> Self {
        Self {
            account,
            owner: OWNER.to_owned(),
            bucket_prefix: "bench".to_owned(),
        }
    }

    /// The answers of a member account `owner` of an organization.
    pub fn of_member(account: Account, owner: &str) -> Self {
        Self {
            account,
            owner: owner.to_owned(),
            bucket_prefix: ["bench-", owner].concat(),
        }
    }

    fn bucket_name(&self, region: &str, n: usize) -> String {
        format!("{}-{region}-{n:05}", self.bucket_prefix)
    }

    /// Every bucket of the account, in ListBuckets' order: (name, region, its number).
    fn buckets(&self) -> Vec<(String, &'static str, usize)> {
        let mut all: Vec<_> = self
            .account
            .per_region
            .iter()
            .flat_map(|(region, c)| {
                (0..c.buckets).map(|n| (self.bucket_name(region, n), *region, n))
            })
            .collect();
        all.sort();
        all
    }

    /// The tagged buckets and functions of a region, as GetResources lists them.
    fn tagged_arns(&self, region: &str) -> Vec<(String, usize)> {
        let c = self.account.in_region(region);
        let buckets = (0..c.buckets)
            .step_by(2)
            .map(|n| (format!("arn:aws:s3:::{}", self.bucket_name(region, n)), n));
        let functions = (0..c.functions).step_by(2).map(|n| {
            let name = function_name(region, n);
            (
                format!("arn:aws:lambda:{region}:{}:function:{name}", self.owner),
                n,
            )
        });
        buckets.chain(functions).collect()
    }

    /// The answer to a call: content type and body.
    fn render(&self, call: &Call) -> (&'static str, String) {
        let region = call.region.as_str();
        let c = self.account.in_region(region);
        let mut out = String::new();
        match call.action {
            Action::DescribeRegions => {
                out.push_str(EC2_HEAD_REGIONS);
                let listed = ENABLED_REGIONS
                    .iter()
                    .map(|r| (r, "opt-in-not-required"))
                    .chain(NOT_OPTED_IN.iter().map(|r| (r, "not-opted-in")));
                for (r, status) in listed {
                    let _ = write!(
                        out,
                        "<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint><optInStatus>{status}</optInStatus></item>"
                    );
                }
                out.push_str("</regionInfo></DescribeRegionsResponse>");
                ("text/xml", out)
            }
            Action::DescribeInstances => {
                let (items, next) = window(c.instances, call.start, call.size);
                out.push_str(EC2_HEAD_INSTANCES);
                let ri = region_index(region);
                let ids: Vec<usize> = items.collect();
                // Ten instances a reservation, as a launch of several makes.
                for reservation in ids.chunks(10) {
                    let first = reservation.first().copied().unwrap_or(0);
                    let _ = write!(
                        out,
                        "<item><reservationId>r-{ri:02x}{first:015x}</reservationId><ownerId>{}</ownerId><groupSet/><instancesSet>",
                        self.owner
                    );
                    for n in reservation {
                        instance_xml(&mut out, &self.owner, region, ri, *n);
                    }
                    out.push_str("</instancesSet></item>");
                }
                out.push_str("</reservationSet>");
                if let Some(next) = next {
                    let _ = write!(out, "<nextToken>{next}</nextToken>");
                }
                out.push_str("</DescribeInstancesResponse>");
                ("text/xml", out)
            }
            Action::DescribeDbInstances | Action::DescribeDbClusters => {
                let (name, total) = if call.action == Action::DescribeDbInstances {
                    ("DBInstances", c.db_instances)
                } else {
                    ("DBClusters", 0)
                };
                let (items, next) = window(total, call.start, call.size);
                let _ = write!(
                    out,
                    "<Describe{name}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Describe{name}Result><{name}>"
                );
                for n in items {
                    db_instance_xml(&mut out, &self.owner, region, n);
                }
                let _ = write!(out, "</{name}>");
                if let Some(next) = next {
                    let _ = write!(out, "<Marker>{next}</Marker>");
                }
                let _ = write!(
                    out,
                    "</Describe{name}Result><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></Describe{name}Response>"
                );
                ("text/xml", out)
            }
            Action::ListBuckets => {
                let buckets = self.buckets();
                let (items, next) = window(buckets.len(), call.start, call.size);
                out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>bench</ID><DisplayName>bench</DisplayName></Owner><Buckets>");
                for (name, region, _) in buckets.get(items).unwrap_or_default() {
                    let _ = write!(
                        out,
                        "<Bucket><Name>{name}</Name><CreationDate>2026-11-01T00:00:00.000Z</CreationDate><BucketRegion>{region}</BucketRegion></Bucket>"
                    );
                }
                out.push_str("</Buckets>");
                if let Some(next) = next {
                    let _ = write!(out, "<ContinuationToken>{next}</ContinuationToken>");
                }
                out.push_str("</ListAllMyBucketsResult>");
                ("application/xml", out)
            }
            Action::ListFunctions => {
                let (items, next) = window(c.functions, call.start, call.size);
                let functions: Vec<serde_json::Value> = items
                    .map(|n| function_json(&self.owner, region, n))
                    .collect();
                let mut answer = serde_json::json!({ "Functions": functions });
                if let Some(next) = next {
                    set(
                        &mut answer,
                        "NextMarker",
                        serde_json::json!(next.to_string()),
                    );
                }
                ("application/json", answer.to_string())
            }
            Action::GetResources => {
                let arns = self.tagged_arns(region);
                let (items, next) = window(arns.len(), call.start, call.size);
                let list: Vec<serde_json::Value> = arns
                    .get(items)
                    .unwrap_or_default()
                    .iter()
                    .map(|(arn, n)| {
                        serde_json::json!({
                            "ResourceARN": arn,
                            "Tags": [
                                {"Key": "team", "Value": format!("team-{}", n % 7)},
                                {"Key": "env", "Value": "bench"},
                            ],
                        })
                    })
                    .collect();
                let mut answer = serde_json::json!({ "ResourceTagMappingList": list });
                if let Some(next) = next {
                    set(
                        &mut answer,
                        "PaginationToken",
                        serde_json::json!(next.to_string()),
                    );
                }
                ("application/x-amz-json-1.1", answer.to_string())
            }
        }
    }
}

const EC2_HEAD_REGIONS: &str = "<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>00000000-0000-4000-8000-000000000000</requestId><regionInfo>";
const EC2_HEAD_INSTANCES: &str = "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>00000000-0000-4000-8000-000000000000</requestId><reservationSet>";

/// One instance, with about the fields (and the size, ~2.5 KB) of AWS's own answer.
fn instance_xml(out: &mut String, owner: &str, region: &str, ri: usize, n: usize) {
    let (a, b) = (n / 250 % 250, n % 250 + 4);
    let _ = write!(
        out,
        "<item><instanceId>i-{ri:02x}{n:015x}</instanceId><imageId>ami-0abcdef1234567890</imageId>\
<instanceState><code>16</code><name>running</name></instanceState>\
<privateDnsName>ip-10-0-{a}-{b}.{region}.compute.internal</privateDnsName><dnsName/><reason/>\
<amiLaunchIndex>0</amiLaunchIndex><productCodes/><instanceType>t3.micro</instanceType>\
<launchTime>2026-11-01T00:00:00.000Z</launchTime>\
<placement><availabilityZone>{region}a</availabilityZone><groupName/><tenancy>default</tenancy></placement>\
<monitoring><state>disabled</state></monitoring><subnetId>subnet-0123456789abcdef0</subnetId>\
<vpcId>vpc-0123456789abcdef0</vpcId><privateIpAddress>10.0.{a}.{b}</privateIpAddress>\
<sourceDestCheck>true</sourceDestCheck>\
<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>default</groupName></item></groupSet>\
<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>\
<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-{ri:02x}{n:015x}</volumeId>\
<status>attached</status><attachTime>2026-11-01T00:00:01.000Z</attachTime><deleteOnTermination>true</deleteOnTermination>\
</ebs></item></blockDeviceMapping><virtualizationType>hvm</virtualizationType><clientToken/>\
<tagSet><item><key>Name</key><value>bench-{n}</value></item><item><key>team</key><value>team-{t}</value></item>\
<item><key>env</key><value>bench</value></item></tagSet><hypervisor>xen</hypervisor>\
<networkInterfaceSet><item><networkInterfaceId>eni-{ri:02x}{n:015x}</networkInterfaceId>\
<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId><description/>\
<ownerId>{owner}</ownerId><status>in-use</status><macAddress>0a:00:00:00:{a:02x}:{b:02x}</macAddress>\
<privateIpAddress>10.0.{a}.{b}</privateIpAddress><sourceDestCheck>true</sourceDestCheck>\
<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>default</groupName></item></groupSet>\
<attachment><attachmentId>eni-attach-{ri:02x}{n:015x}</attachmentId><deviceIndex>0</deviceIndex>\
<status>attached</status><attachTime>2026-11-01T00:00:00.000Z</attachTime><deleteOnTermination>true</deleteOnTermination>\
<networkCardIndex>0</networkCardIndex></attachment>\
<privateIpAddressesSet><item><privateIpAddress>10.0.{a}.{b}</privateIpAddress><primary>true</primary></item></privateIpAddressesSet>\
<ipv6AddressesSet/><interfaceType>interface</interfaceType></item></networkInterfaceSet>\
<ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport>\
<cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>\
<capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference></capacityReservationSpecification>\
<hibernationOptions><configured>false</configured></hibernationOptions>\
<metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit>\
<httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions>\
<enclaveOptions><enabled>false</enabled></enclaveOptions><bootMode>uefi-preferred</bootMode>\
<platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>\
<maintenanceOptions><autoRecovery>default</autoRecovery></maintenanceOptions><currentInstanceBootMode>uefi</currentInstanceBootMode></item>",
        t = n % 7
    );
}

fn db_instance_xml(out: &mut String, owner: &str, region: &str, n: usize) {
    let _ = write!(
        out,
        "<DBInstance><DBInstanceIdentifier>bench-db-{n:04}</DBInstanceIdentifier>\
<DBInstanceArn>arn:aws:rds:{region}:{owner}:db:bench-db-{n:04}</DBInstanceArn>\
<DBInstanceClass>db.t3.micro</DBInstanceClass><Engine>postgres</Engine><EngineVersion>16.4</EngineVersion>\
<DBInstanceStatus>available</DBInstanceStatus><MasterUsername>bench</MasterUsername><DBName>bench</DBName>\
<Endpoint><Address>bench-db-{n:04}.abcdefghijkl.{region}.rds.amazonaws.com</Address><Port>5432</Port></Endpoint>\
<AllocatedStorage>20</AllocatedStorage><InstanceCreateTime>2026-11-01T00:00:00.000Z</InstanceCreateTime>\
<AvailabilityZone>{region}a</AvailabilityZone><MultiAZ>false</MultiAZ><StorageType>gp3</StorageType>\
<DbiResourceId>db-{n:026}</DbiResourceId><IAMDatabaseAuthenticationEnabled>false</IAMDatabaseAuthenticationEnabled>\
<TagList><Tag><Key>team</Key><Value>team-{t}</Value></Tag><Tag><Key>env</Key><Value>bench</Value></Tag></TagList>\
</DBInstance>",
        t = n % 7
    );
}

fn function_json(owner: &str, region: &str, n: usize) -> serde_json::Value {
    let name = function_name(region, n);
    serde_json::json!({
        "FunctionName": name,
        "FunctionArn": format!("arn:aws:lambda:{region}:{owner}:function:{name}"),
        "Runtime": "python3.12",
        "Role": format!("arn:aws:iam::{owner}:role/service-role/bench"),
        "Handler": "index.handler",
        "CodeSize": 299,
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": "2026-11-01T00:00:00.000+0000",
        "CodeSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": "00000000-0000-4000-8000-000000000000",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": format!("/aws/lambda/{name}")},
    })
}

/// What the generated AWS saw.
#[derive(Debug, Default)]
struct Seen {
    calls: BTreeMap<&'static str, usize>,
    unknown: Vec<String>,
    /// Every answered call: what, where, when sent, when answered.
    log: Vec<(Action, String, Instant, Instant)>,
}

#[derive(Debug)]
struct Inner {
    answers: Answers,
    delay: Duration,
    /// Answers rendered before the run, so that rendering takes no CPU from discovery.
    rendered: Mutex<HashMap<Call, (&'static str, Bytes)>>,
    seen: Mutex<Seen>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// An SDK HTTP client that is the generated account: every call is answered after the
/// delay, from pages rendered beforehand.
#[derive(Debug, Clone)]
pub struct GeneratedAws {
    inner: Arc<Inner>,
}

impl GeneratedAws {
    pub fn new(account: Account, delay: Duration) -> Self {
        Self::answering(Answers::new(account), delay)
    }

    /// The generated AWS of given answers (a member account's).
    pub fn answering(answers: Answers, delay: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                answers,
                delay,
                rendered: Mutex::new(HashMap::new()),
                seen: Mutex::new(Seen::default()),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
            }),
        }
    }

    /// Renders every page xacct asks for at AWS's page sizes; returns their bytes.
    pub fn prerender(&self) -> usize {
        let mut calls = vec![
            (Action::DescribeRegions, "us-east-1", 0),
            (
                Action::ListBuckets,
                "us-east-1",
                self.inner.answers.buckets().len(),
            ),
        ];
        for region in ENABLED_REGIONS {
            let c = self.inner.answers.account.in_region(region);
            calls.extend([
                (Action::DescribeInstances, region, c.instances),
                (Action::ListFunctions, region, c.functions),
                (Action::DescribeDbInstances, region, c.db_instances),
                (Action::DescribeDbClusters, region, 0),
                (
                    Action::GetResources,
                    region,
                    self.inner.answers.tagged_arns(region).len(),
                ),
            ]);
        }
        let mut bytes = 0;
        for (action, region, total) in calls {
            let size = action.max_page();
            let mut start = 0;
            loop {
                let call = Call {
                    action,
                    region: region.to_owned(),
                    start,
                    size,
                };
                bytes += self.inner.rendered_answer(&call).1.len();
                match window(total, start, size).1 {
                    Some(next) => start = next,
                    None => break,
                }
            }
        }
        bytes
    }

    /// Calls by action.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.inner
            .seen
            .lock()
            .map(|s| s.calls.clone())
            .unwrap_or_default()
    }

    /// Calls it could not answer (a bug of the bench or a new call of discovery's).
    pub fn unknown(&self) -> Vec<String> {
        self.inner
            .seen
            .lock()
            .map(|s| s.unknown.clone())
            .unwrap_or_default()
    }

    /// Every answered call: what, when sent, when answered.
    pub(crate) fn log(&self) -> Vec<(Action, Instant, Instant)> {
        self.inner
            .seen
            .lock()
            .map(|s| s.log.iter().map(|(a, _, s, e)| (*a, *s, *e)).collect())
            .unwrap_or_default()
    }

    /// Where the time went, from `started` (the discovery's start) to `ended`.
    fn timeline(&self, started: Instant, ended: Instant) -> Timeline {
        let log = self
            .inner
            .seen
            .lock()
            .map(|s| s.log.clone())
            .unwrap_or_default();
        let at = |t: Instant| {
            crate::stats::round3(crate::runtime_api::ms(t.saturating_duration_since(started)))
        };
        let regions = log.iter().find(|(a, ..)| *a == Action::DescribeRegions);
        let listings = log.iter().filter(|(a, ..)| *a != Action::DescribeRegions);
        // The longest chain: ListFunctions in the region with the most functions.
        let busiest = self
            .inner
            .answers
            .account
            .per_region
            .iter()
            .max_by_key(|(_, c)| c.functions)
            .map(|(r, _)| *r)
            .unwrap_or("us-east-1");
        let mut chain: Vec<(Instant, Instant)> = log
            .iter()
            .filter(|(a, r, ..)| *a == Action::ListFunctions && r == busiest)
            .map(|(_, _, s, e)| (*s, *e))
            .collect();
        chain.sort();
        let mut waits = Vec::new();
        let mut previous = regions.map(|(.., answered)| *answered);
        for (sent, answered) in &chain {
            if let Some(p) = previous {
                waits.push(crate::stats::round3(crate::runtime_api::ms(
                    sent.saturating_duration_since(p),
                )));
            }
            previous = Some(*answered);
        }
        Timeline {
            regions_answered_ms: regions.map(|(.., e)| at(*e)),
            first_listing_sent_ms: listings.clone().map(|(_, _, s, _)| at(*s)).reduce(f64::min),
            last_listing_sent_ms: listings.clone().map(|(_, _, s, _)| at(*s)).reduce(f64::max),
            last_answer_ms: listings.map(|(.., e)| at(*e)).reduce(f64::max),
            chain: ["lambda ", busiest].concat(),
            chain_calls_ms: chain.iter().map(|(s, e)| [at(*s), at(*e)]).collect(),
            chain_waits_ms: waits,
            end_ms: at(ended),
        }
    }

    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::Relaxed)
    }

    pub fn shared(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }
}

impl Inner {
    fn rendered_answer(&self, call: &Call) -> (&'static str, Bytes) {
        if let Some(found) = self.rendered.lock().ok().and_then(|r| r.get(call).cloned()) {
            return found;
        }
        let (content_type, body) = self.answers.render(call);
        let answer = (content_type, Bytes::from(body));
        if let Ok(mut rendered) = self.rendered.lock() {
            rendered.insert(call.clone(), answer.clone());
        }
        answer
    }

    async fn answer(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, ConnectorError> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        let routed = route(&request);
        let sent = Instant::now();
        if let Ok(mut seen) = self.seen.lock() {
            match &routed {
                Ok(call) => *seen.calls.entry(call.action.name()).or_default() += 1,
                Err(e) => seen.unknown.push(e.clone()),
            }
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let (status, content_type, body) = match routed {
            Ok(call) => {
                let (content_type, body) = self.rendered_answer(&call);
                if let Ok(mut seen) = self.seen.lock() {
                    seen.log
                        .push((call.action, call.region, sent, Instant::now()));
                }
                (200, content_type, body)
            }
            Err(e) => (400, "text/plain", Bytes::from(e)),
        };
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        respond(status, content_type, body)
    }
}

/// An HTTP answer of the generated AWS.
pub(crate) fn respond(
    status: u16,
    content_type: &'static str,
    body: Bytes,
) -> std::result::Result<HttpResponse, ConnectorError> {
    let status = StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    response.headers_mut().insert("content-type", content_type);
    response
        .headers_mut()
        .insert("x-amzn-requestid", "00000000-0000-4000-8000-000000000000");
    Ok(response)
}

impl HttpConnector for GeneratedAws {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = Arc::clone(&self.inner);
        HttpConnectorFuture::new(async move { inner.answer(request).await })
    }
}

impl HttpClient for GeneratedAws {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// What one discovery in a fresh process measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointRun {
    pub wall_ms: f64,
    pub calls: usize,
    pub calls_by_action: BTreeMap<String, usize>,
    pub max_in_flight: usize,
    pub resources: usize,
    pub peak_rss_mb: Option<f64>,
    /// The rendered answers this process holds (part of its peak memory, not xacct's).
    pub answers_mb: f64,
    /// CPU time of the discovery (user and system, all threads; 10 ms ticks).
    pub cpu_ms: Option<u64>,
    pub timeline: Timeline,
}

/// Where a discovery's time went, in ms from its start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeline {
    /// DescribeRegions answered: the listings may start.
    pub regions_answered_ms: Option<f64>,
    pub first_listing_sent_ms: Option<f64>,
    pub last_listing_sent_ms: Option<f64>,
    pub last_answer_ms: Option<f64>,
    /// The longest chain of calls (ListFunctions in the region with the most functions).
    pub chain: String,
    /// Its calls: [sent, answered].
    pub chain_calls_ms: Vec<[f64; 2]>,
    /// Before each of its calls, the wait since the answer it followed (DescribeRegions'
    /// for the first): time the chain spent on something else than AWS.
    pub chain_waits_ms: Vec<f64>,
    /// The discovery returned.
    pub end_ms: f64,
}

/// One discovery against the generated account of `scale`, in this process: xacct's
/// configuration (`xacct_aws::config::load`, from a clean environment the parent gives)
/// with the generated AWS as its HTTP client, xacct's `Discoverer` with `concurrency`.
pub async fn point(scale: f64, delay: Duration, concurrency: Concurrency) -> Result<PointRun> {
    let account = Account::scaled(scale);
    let expected = account.resources();
    let aws = GeneratedAws::new(account, delay);
    let rendered = aws.prerender();
    let config = xacct_aws::config::load()
        .await
        .to_builder()
        .http_client(aws.shared())
        .build();
    let discoverer = Discoverer::new(config).with_concurrency(concurrency);
    let cpu_before = crate::system::own_cpu_ms();
    let started = Instant::now();
    let found = discoverer
        .discover(&DiscoveryQuery::default())
        .await
        .context(|| "discovery failed".to_owned())?;
    let ended = Instant::now();
    let wall = ended - started;
    let unknown = aws.unknown();
    if !unknown.is_empty() {
        return Err(BenchError::new(format!(
            "calls the bench cannot answer: {unknown:?}"
        )));
    }
    if !found.partial_failures.is_empty() || found.resources.len() != expected {
        return Err(BenchError::new(format!(
            "found {} of {expected} resources; partial failures: {:?}",
            found.resources.len(),
            found.partial_failures
        )));
    }
    let calls = aws.calls();
    Ok(PointRun {
        wall_ms: crate::stats::round3(wall.as_secs_f64() * 1000.0),
        calls: calls.values().sum(),
        calls_by_action: calls.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        max_in_flight: aws.max_in_flight(),
        resources: found.resources.len(),
        peak_rss_mb: crate::system::own_peak_rss_mb(),
        answers_mb: crate::system::mib(rendered as u64),
        cpu_ms: crate::system::own_cpu_ms()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before)),
        timeline: aws.timeline(started, ended),
    })
}

/// How the discovery bench runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Fresh processes per size with xacct's defaults; the median is reported.
    pub runs: usize,
    pub delay: Duration,
    /// Also one run per size with one call at a time.
    pub sequential: bool,
}

/// One point in a fresh process of this binary, with a clean environment (static keys that
/// no AWS knows, us-east-1, no profile files): `concurrency` as `XACCT_DISCOVERY_CONCURRENCY`
/// takes it, `None` for xacct's defaults.
fn run_point(scale: f64, delay: Duration, concurrency: Option<&str>) -> Result<PointRun> {
    let mut args = vec![
        "discovery-point".to_owned(),
        "--scale".to_owned(),
        scale.to_string(),
        "--delay-ms".to_owned(),
        delay.as_millis().to_string(),
    ];
    if let Some(c) = concurrency {
        args.extend(["--concurrency".to_owned(), c.to_owned()]);
    }
    fresh_point(&args)
}

/// Runs this binary with `args` (a hidden `*-point` command) in a fresh process with a
/// clean environment, as a function's first request would run, and reads the JSON it
/// prints.
pub(crate) fn fresh_point<T: serde::de::DeserializeOwned>(args: &[String]) -> Result<T> {
    let what = args.first().map_or("", String::as_str);
    let exe = std::env::current_exe().context(|| "find this binary".to_owned())?;
    let mut command = std::process::Command::new(exe);
    command.args(args).env_clear().envs([
        ("AWS_ACCESS_KEY_ID", "AKIAXACCTBENCHEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "xacct-bench-not-a-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/xacct-bench"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/xacct-bench"),
    ]);
    let out = command.output().context(|| format!("run {what}"))?;
    if !out.status.success() {
        return Err(BenchError::new(format!(
            "{} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    serde_json::from_slice(&out.stdout).context(|| format!("read {what}'s answer"))
}

/// Every size: its floor, xacct's median of `runs` fresh processes, and one call at a time.
/// Returns the results' `discovery_at_scale` key.
pub fn run(options: &Options) -> Result<serde_json::Value> {
    let delay_ms = options.delay.as_secs_f64() * 1000.0;
    let mut points = Vec::new();
    for scale in SCALES {
        let account = Account::scaled(scale);
        let mut runs = Vec::new();
        for _ in 0..options.runs.max(1) {
            runs.push(run_point(scale, options.delay, None)?);
        }
        runs.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
        let median = runs
            .get(runs.len() / 2)
            .cloned()
            .context(|| "no run".to_owned())?;
        let floor_ms = account.floor_calls() as f64 * delay_ms;
        let sequential = if options.sequential {
            Some(run_point(scale, options.delay, Some("1"))?)
        } else {
            None
        };
        crate::progress(&format!(
            "{} resources: {} ms, floor {floor_ms} ms",
            account.resources(),
            median.wall_ms
        ));
        points.push(serde_json::json!({
            "resources": account.resources(),
            "counts": account.total(),
            "per_region": account.per_region,
            "floor_calls": account.floor_calls(),
            "floor_ms": floor_ms,
            "expected_calls": account.expected_calls(),
            "xacct": {
                "wall_ms": median.wall_ms,
                "ratio": crate::stats::ratio(median.wall_ms, floor_ms),
                "runs_ms": runs.iter().map(|r| r.wall_ms).collect::<Vec<_>>(),
                "calls": median.calls,
                "calls_by_action": median.calls_by_action,
                "max_in_flight": median.max_in_flight,
                "peak_rss_mb": median.peak_rss_mb,
                "answers_mb": median.answers_mb,
                "cpu_ms": median.cpu_ms,
                "timeline": median.timeline,
            },
            "sequential": sequential.map(|s| serde_json::json!({
                "wall_ms": s.wall_ms,
                "calls": s.calls,
            })),
        }));
    }
    Ok(serde_json::json!({
        "tool": "crates/bench: xacct-bench discovery",
        "delay_ms": delay_ms,
        "full_size": FULL,
        "seed_regions": SEED_REGIONS,
        "enabled_regions": ENABLED_REGIONS.len(),
        "page_sizes": {
            "ListBuckets": LIST_BUCKETS_PAGE,
            "DescribeInstances": DESCRIBE_INSTANCES_PAGE,
            "ListFunctions": LIST_FUNCTIONS_PAGE,
            "DescribeDBInstances/DescribeDBClusters": RDS_PAGE,
            "GetResources": GET_RESOURCES_PAGE,
        },
        "floor_formula": "floor_ms = delay_ms x (1 + max over jobs of chain(job)); chain(S3) = pages(B,1000) (ListBuckets gives BucketRegion), chain(tags r) = pages(T_r,100) (GetResources; T_r = tagged buckets and functions in r, every other one), chain(EC2 r) = pages(I_r,1000), chain(Lambda r) = pages(F_r,50), chain(RDS r) = pages(D_r,100), chain(clusters r) = 1; pages(n,s) = max(1, ceil(n/s)); 1 = DescribeRegions; every enabled region",
        "emulation": "xacct's Discoverer with xacct's SdkConfig (xacct_aws::config::load) whose HTTP client is the bench's generated account: every call answered after delay_ms from pages rendered before the run (about 2.5 KB of XML per EC2 instance, as AWS's), paged as AWS pages them; one fresh process per run; peak_rss_mb includes the rendered answers (answers_mb)",
        "machine": crate::system::Machine::read(),
        "points": points,
    }))
}

/// The Markdown table of a `discovery_at_scale` result.
pub fn markdown(result: &serde_json::Value) -> String {
    let mut out = String::from(
        "| resources | floor | xacct | × floor | one call at a time | peak RSS | AWS calls |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for p in at(result, &["points"]).as_array().into_iter().flatten() {
        let x = &at(p, &["xacct"]);
        let sequential = at(p, &["sequential", "wall_ms"])
            .as_f64()
            .map_or_else(|| "".to_owned(), |ms| format!("{:.1} s", ms / 1000.0));
        let _ = writeln!(
            out,
            "| {} | {} ms | {:.0} ms | {} | {sequential} | {} MB | {} |",
            at(p, &["resources"]),
            at(p, &["floor_ms"]),
            at(x, &["wall_ms"]).as_f64().unwrap_or(0.0),
            at(x, &["ratio"]),
            at(x, &["peak_rss_mb"]),
            at(x, &["calls"])
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use xacct_aws::discovery::{ResourceKind, ServiceKind};

    #[test]
    fn the_four_sizes_are_the_python_benchs() {
        let sizes: Vec<usize> = SCALES
            .iter()
            .map(|s| Account::scaled(*s).resources())
            .collect();
        assert_eq!(sizes, [360, 1800, 3600, 7200]);
        let small = Account::scaled(0.05);
        assert_eq!(
            small.in_region("us-east-1"),
            Counts {
                buckets: 25,
                instances: 50,
                functions: 13,
                db_instances: 3
            }
        );
        assert_eq!(small.in_region("ap-southeast-2").functions, 12);
        assert_eq!(small.in_region("eu-north-1"), Counts::default());
    }

    #[test]
    fn a_spread_is_even_and_loses_nothing() {
        assert_eq!(spread(50, 4), [13, 13, 12, 12]);
        assert_eq!(spread(3, 4), [1, 1, 1, 0]);
        assert_eq!(spread(1000, 4).iter().sum::<usize>(), 1000);
    }

    #[test]
    fn pages_count_one_call_for_an_empty_listing() {
        assert_eq!(pages(0, 50), 1);
        assert_eq!(pages(50, 50), 1);
        assert_eq!(pages(51, 50), 2);
        assert_eq!(tagged(25), 13);
    }

    #[test]
    fn the_floor_is_the_lambda_chain_at_every_size() {
        let floors: Vec<usize> = SCALES
            .iter()
            .map(|s| Account::scaled(*s).floor_calls())
            .collect();
        // DescribeRegions, then ListFunctions' pages of 50 in a seeded region.
        assert_eq!(floors, [2, 3, 4, 6]);
        let full = Account::scaled(1.0);
        let longest = full.chains().into_iter().max_by_key(|(_, n)| *n).unwrap();
        assert!(longest.0.starts_with("lambda "), "{longest:?}");
        assert_eq!(longest.1, 5);
    }

    #[test]
    fn expected_calls_are_every_page_of_every_chain() {
        // 1 DescribeRegions + 1 ListBuckets + 24 regions x 5 listings, one page each.
        assert_eq!(Account::scaled(0.05).expected_calls(), 122);
        // Full: 2 ListBuckets pages; per seeded region 4 DescribeInstances... (1000 each: 1),
        // 5 ListFunctions, 3 DescribeDBInstances (50: 1), 4 GetResources (250 + 125).
        let full = Account::scaled(1.0);
        let seeded = 4 * (1 + 5 + 1 + 1 + 4);
        assert_eq!(full.expected_calls(), 1 + 2 + seeded + 20 * 5);
    }

    #[test]
    fn windows_page_to_the_end() {
        assert_eq!(window(120, 0, 50), (0..50, Some(50)));
        assert_eq!(window(120, 100, 50), (100..120, None));
        assert_eq!(window(0, 0, 50), (0..0, None));
        assert_eq!(window(10, 99, 50), (10..10, None));
    }

    #[test]
    fn hosts_name_service_and_region() {
        assert_eq!(
            service_and_region("ec2.eu-west-1.amazonaws.com"),
            Some(("ec2", "eu-west-1"))
        );
        assert_eq!(
            service_and_region("s3.amazonaws.com"),
            Some(("s3", "us-east-1"))
        );
        assert_eq!(service_and_region("localhost"), None);
    }

    #[test]
    fn tags_are_listed_in_the_resources_own_region() {
        let answers = Answers::new(Account::scaled(0.05));
        let arns = answers.tagged_arns("eu-west-1");
        assert_eq!(arns.len(), tagged(25) + tagged(12));
        assert!(arns.iter().all(|(a, _)| a.contains("eu-west-1")));
        assert!(answers.tagged_arns("eu-north-1").is_empty());
    }

    /// Static credentials in us-east-1, `aws` as the HTTP client.
    fn config_of(aws: &GeneratedAws) -> aws_config::SdkConfig {
        let credentials =
            aws_sdk_sts::config::Credentials::new("AKIDBENCH", "secret", None, None, "test");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
                credentials,
            ))
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
            .http_client(aws.shared())
            .build()
    }

    /// The generated answers parse with the SDK and page as xacct's discovery pages them:
    /// the whole discovery, without delay, finds every resource in the expected calls.
    async fn discovery_finds_every_generated_resource() {
        let account = Account::scaled(0.05);
        let expected_calls = account.expected_calls();
        let aws = GeneratedAws::new(account, Duration::ZERO);
        let config = config_of(&aws);
        let found = Discoverer::new(config)
            .discover(&DiscoveryQuery::default())
            .await
            .unwrap();
        assert_eq!(aws.unknown(), Vec::<String>::new());
        assert_eq!(found.partial_failures, []);
        assert_eq!(found.resources.len(), 360);
        assert_eq!(aws.calls().values().sum::<usize>(), expected_calls);
        let tagged_buckets = found
            .resources
            .iter()
            .filter(|r| r.resource_type == ResourceKind::Bucket && r.tags.contains_key("team"))
            .count();
        assert_eq!(tagged_buckets, 4 * tagged(25));
        let instance = found
            .resources
            .iter()
            .find(|r| r.resource_type == ResourceKind::Instance)
            .unwrap();
        assert!(instance.name.starts_with("bench-"), "{instance:?}");
    }

    // Discovery lists EC2 on a runtime of its own: from either kind of runtime.
    #[tokio::test]
    async fn discovery_finds_every_generated_resource_on_one_thread() {
        discovery_finds_every_generated_resource().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discovery_finds_every_generated_resource_on_two_workers() {
        discovery_finds_every_generated_resource().await;
    }

    /// Thirty accounts' discoveries at once (720 EC2 listings, as a hub runs them) have
    /// every EC2 listing in flight together: none waits for a thread (tokio's blocking
    /// pool, where they ran before, has at most 512).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ec2_listings_of_many_discoveries_are_in_flight_at_once() {
        let accounts = 30;
        let aws = GeneratedAws::new(Account::scaled(0.01), Duration::from_secs(3));
        let config = config_of(&aws);
        let query = DiscoveryQuery {
            services: vec![ServiceKind::Ec2],
            regions: None,
        };
        let discoveries = (0..accounts).map(|_| {
            let discoverer = Discoverer::new(config.clone());
            let query = query.clone();
            async move { discoverer.discover(&query).await }
        });
        for found in futures::future::join_all(discoveries).await {
            assert_eq!(found.unwrap().partial_failures, []);
        }
        let listings = accounts * ENABLED_REGIONS.len();
        assert_eq!(aws.calls().get("ec2:DescribeInstances"), Some(&listings));
        assert_eq!(aws.max_in_flight(), listings);
    }
}
