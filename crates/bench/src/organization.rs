//! list-resources across an AWS Organization at scale: xacct's hub (`SdkMembers`, each member
//! reached through its spoke role) over member accounts that are the discovery bench's
//! generated accounts, every call answered after the same fixed delay. STS answers
//! `AssumeRole` of a member's spoke role with credentials whose access key names the member,
//! and every later call goes to the member its SigV4 access key names.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use xacct_api::hub::{Hub, MAX_MEMBER_CONCURRENCY, Organization, SdkMembers};
use xacct_api::list_resources::{Deps, ResourcesResponse, list_resources};
use xacct_aws::discovery::{Concurrency, Discoverer, ServiceKind};
use xacct_aws::identity::AccountLookup;
use xacct_aws::organization::{OrganizationAccounts, SpokeSessions};
use xacct_policy::organization::{DEFAULT_SPOKE_ROLE_NAME, Spoke};
use xacct_policy::{AccountId, Arn, Partition};

use crate::discovery::{
    Account, Action, Answers, ENABLED_REGIONS, GeneratedAws, respond, service_and_region,
};
use crate::error::{BenchError, Context, Result};
use crate::events::at;

/// The hub's own account (the discovery bench's account).
pub const HUB_ACCOUNT: &str = "111111111111";
/// The organization's id, as `XACCT_ORGANIZATION_ID` would give it.
pub const ORGANIZATION_ID: &str = "o-xacctbench1";
/// Who asks: the `RoleSessionName` in each member is made from it.
pub const CALLER: &str = "arn:aws:sts::111111111111:assumed-role/admin/bench";
/// Each member's size, as a fraction of the discovery bench's full account: 360 resources,
/// and the calls of a whole account (every listing of every enabled region, 122 calls).
pub const DEFAULT_SCALE: f64 = 0.05;

/// The regions a request lists: every enabled one (discovery asks `DescribeRegions` first),
/// or only those its `region` parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    Enabled,
    Only(Vec<String>),
}

impl Regions {
    /// `all`, or regions separated by commas.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "all" => Self::Enabled,
            list => Self::Only(
                list.split(',')
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty())
                    .collect(),
            ),
        }
    }

    /// As `parse` reads it.
    pub fn arg(&self) -> String {
        match self {
            Self::Enabled => "all".to_owned(),
            Self::Only(regions) => regions.join(","),
        }
    }

    /// The regions listed: the generated account's enabled ones, or the named ones.
    pub fn listed(&self) -> Vec<&str> {
        match self {
            Self::Enabled => ENABLED_REGIONS.to_vec(),
            Self::Only(regions) => regions.iter().map(String::as_str).collect(),
        }
    }

    /// `DescribeRegions` calls per account: none when the request names its regions.
    pub fn describe_calls(&self) -> usize {
        usize::from(*self == Self::Enabled)
    }

    /// In words, for the results.
    pub fn describe(&self) -> String {
        match self {
            Self::Enabled => format!("every enabled region ({})", ENABLED_REGIONS.len()),
            Self::Only(regions) => regions.join(", "),
        }
    }
}

/// The services a request lists: all four, or only those its `service` parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Services {
    All,
    Only(Vec<ServiceKind>),
}

impl Services {
    /// `all`, or services (`s3`, `ec2`, `lambda`, `rds`) separated by commas.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "all" => Ok(Self::All),
            list => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<ServiceKind>().map_err(|_| {
                        BenchError::new(format!(
                            "service must be among `s3`, `ec2`, `lambda`, `rds`, got `{s}`"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(Self::Only),
        }
    }

    /// As `parse` reads it.
    pub fn arg(&self) -> String {
        match self {
            Self::All => "all".to_owned(),
            Self::Only(services) => join(services),
        }
    }

    /// The services listed.
    pub fn listed(&self) -> Vec<ServiceKind> {
        match self {
            Self::All => ServiceKind::ALL.to_vec(),
            Self::Only(services) => services.clone(),
        }
    }
}

/// Services separated by commas, as the `service` parameter takes them.
fn join(services: &[ServiceKind]) -> String {
    services
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// What one point's request lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub regions: Regions,
    pub services: Services,
}

impl Point {
    /// Every service of `regions`.
    pub fn all_services(regions: Regions) -> Self {
        Self {
            regions,
            services: Services::All,
        }
    }

    /// The arguments a point's process reads (`--regions`, `--services`).
    fn args(&self) -> [String; 4] {
        [
            "--regions".to_owned(),
            self.regions.arg(),
            "--services".to_owned(),
            self.services.arg(),
        ]
    }

    /// The discovery chains of one member account of `account`.
    fn chains(&self, account: &Account) -> Vec<(String, usize)> {
        account.chains_of(&self.regions.listed(), &self.services.listed())
    }
}

/// The `n`th member account (from 0): `200000000001`, `200000000002`, ...
pub fn member_id(n: usize) -> Result<AccountId> {
    format!("{:012}", 200_000_000_001_usize + n)
        .parse()
        .map_err(|e| BenchError::new(format!("member account {n}: {e}")))
}

/// The access key of a session in `member`'s spoke role: `ASIA`, the account, `XACT`.
pub fn session_key(member: &AccountId) -> String {
    ["ASIA", member.as_str(), "XACT"].concat()
}

/// The access key a SigV4 `Authorization` header signs with
/// (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`).
pub fn signing_key(authorization: &str) -> Option<&str> {
    let (_, credential) = authorization.split_once("Credential=")?;
    credential.split('/').next().filter(|k| !k.is_empty())
}

/// A call the organization answers itself, for the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum HubAction {
    AssumeRole,
    GetRole,
}

impl HubAction {
    fn name(self) -> &'static str {
        match self {
            Self::AssumeRole => "sts:AssumeRole",
            Self::GetRole => "iam:GetRole",
        }
    }
}

/// Where a call goes.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// `AssumeRole` of the spoke role of member `Some(n)`; `None`: of any other role.
    AssumeRole(Option<usize>),
    /// `GetRole` of the spoke role, with member `Some(n)`'s session; `None`: anything else.
    GetRole(Option<usize>),
    /// A call of member `n`'s session to its account.
    Member(usize),
    Unknown(String),
}

#[derive(Debug)]
struct Member {
    account: AccountId,
    key: String,
    aws: GeneratedAws,
}

/// What the organization answered itself.
#[derive(Debug, Default)]
struct Seen {
    calls: BTreeMap<&'static str, usize>,
    unknown: Vec<String>,
    /// Every answered hub call: what, for which member, when sent, when answered.
    log: Vec<(HubAction, usize, Instant, Instant)>,
}

#[derive(Debug)]
struct Inner {
    members: Vec<Member>,
    by_key: HashMap<String, usize>,
    spoke: Spoke,
    delay: Duration,
    seen: Mutex<Seen>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// An SDK HTTP client that is a whole organization: STS and IAM for the hub, and each
/// member's generated account behind its session's access key.
#[derive(Debug, Clone)]
pub struct GeneratedOrganization {
    inner: Arc<Inner>,
}

impl GeneratedOrganization {
    /// `members` accounts, each `account` with its own id in its ARNs and owner ids.
    pub fn new(members: usize, account: &Account, delay: Duration) -> Result<Self> {
        let role_name = DEFAULT_SPOKE_ROLE_NAME
            .parse()
            .map_err(|e| BenchError::new(format!("spoke role name: {e}")))?;
        let members = (0..members)
            .map(|n| {
                let id = member_id(n)?;
                Ok(Member {
                    key: session_key(&id),
                    aws: GeneratedAws::answering(
                        Answers::of_member(account.clone(), id.as_str()),
                        delay,
                    ),
                    account: id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let by_key = members
            .iter()
            .enumerate()
            .map(|(n, m)| (m.key.clone(), n))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                members,
                by_key,
                spoke: Spoke {
                    partition: Partition::Aws,
                    role_name,
                },
                delay,
                seen: Mutex::new(Seen::default()),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
            }),
        })
    }

    pub fn members(&self) -> Vec<AccountId> {
        self.inner
            .members
            .iter()
            .map(|m| m.account.clone())
            .collect()
    }

    pub fn spoke(&self) -> &Spoke {
        &self.inner.spoke
    }

    /// Renders every member's pages beforehand (see `GeneratedAws::prerender`); their bytes.
    pub fn prerender(&self) -> usize {
        self.inner.members.iter().map(|m| m.aws.prerender()).sum()
    }

    /// Calls by action, every member's together.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        let mut all = self
            .inner
            .seen
            .lock()
            .map(|s| s.calls.clone())
            .unwrap_or_default();
        for member in &self.inner.members {
            for (action, n) in member.aws.calls() {
                *all.entry(action).or_default() += n;
            }
        }
        all
    }

    /// Calls by action of member `n` alone (its `AssumeRole` and `GetRole` included).
    pub fn calls_of(&self, n: usize) -> BTreeMap<&'static str, usize> {
        let mut calls = self
            .inner
            .members
            .get(n)
            .map(|m| m.aws.calls())
            .unwrap_or_default();
        if let Ok(seen) = self.inner.seen.lock() {
            for (action, ..) in seen.log.iter().filter(|(_, m, ..)| *m == n) {
                *calls.entry(action.name()).or_default() += 1;
            }
        }
        calls
    }

    /// Calls nobody could answer (a bug of the bench or a new call of xacct's).
    pub fn unknown(&self) -> Vec<String> {
        let mut all = self
            .inner
            .seen
            .lock()
            .map(|s| s.unknown.clone())
            .unwrap_or_default();
        for member in &self.inner.members {
            all.extend(member.aws.unknown());
        }
        all
    }

    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::Relaxed)
    }

    pub fn shared(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// Where the time went, from `started` (the request's start) to `ended`.
    fn timeline(&self, started: Instant, ended: Instant) -> Timeline {
        let ms = |t: Instant| {
            crate::stats::round3(crate::runtime_api::ms(t.saturating_duration_since(started)))
        };
        let gap = |from: Instant, to: Instant| {
            crate::stats::round3(crate::runtime_api::ms(to.saturating_duration_since(from)))
        };
        let hub_log = self
            .inner
            .seen
            .lock()
            .map(|s| s.log.clone())
            .unwrap_or_default();
        let mut calls: BTreeMap<&'static str, Vec<(Instant, Instant)>> = BTreeMap::new();
        let mut note = |name: &'static str, sent: Instant, answered: Instant| {
            calls.entry(name).or_default().push((sent, answered));
        };
        let mut to_regions = Vec::new();
        let mut spans = Vec::new();
        for (n, member) in self.inner.members.iter().enumerate() {
            let hub_calls = hub_log.iter().filter(|(_, m, ..)| *m == n);
            let mut assumed = None;
            let mut first_sent = None;
            for (action, _, sent, answered) in hub_calls {
                note(action.name(), *sent, *answered);
                if *action == HubAction::AssumeRole {
                    assumed = Some(*answered);
                    first_sent = Some(*sent);
                }
            }
            let log = member.aws.log();
            let mut last = None;
            for (action, sent, answered) in &log {
                note(action.name(), *sent, *answered);
                last = last.max(Some(*answered));
            }
            let regions_sent = log
                .iter()
                .find(|(a, ..)| *a == Action::DescribeRegions)
                .map(|(_, sent, _)| *sent);
            if let (Some(assumed), Some(regions)) = (assumed, regions_sent) {
                to_regions.push(gap(assumed, regions));
            }
            if let (Some(first), Some(last)) = (first_sent, last) {
                spans.push(gap(first, last));
            }
        }
        let phases = calls
            .into_iter()
            .filter_map(|(name, intervals)| {
                let phase = Phase {
                    first_sent_ms: ms(intervals.iter().map(|(s, _)| *s).min()?),
                    last_sent_ms: ms(intervals.iter().map(|(s, _)| *s).max()?),
                    last_answered_ms: ms(intervals.iter().map(|(_, e)| *e).max()?),
                    max_in_flight: max_overlap(&intervals),
                };
                Some((name.to_owned(), phase))
            })
            .collect();
        Timeline {
            phases,
            assume_answered_to_regions_sent_ms: Spread::of(&to_regions),
            account_span_ms: Spread::of(&spans),
            end_ms: ms(ended),
        }
    }
}

/// The most intervals (sent, answered) that overlap at one instant.
fn max_overlap(intervals: &[(Instant, Instant)]) -> usize {
    // An answer at the instant of a send ends first: the two were not in flight together.
    let mut events: Vec<(Instant, bool)> = intervals
        .iter()
        .flat_map(|(s, e)| [(*s, true), (*e, false)])
        .collect();
    events.sort();
    let (mut now, mut max) = (0usize, 0usize);
    for (_, starts) in events {
        if starts {
            now += 1;
            max = max.max(now);
        } else {
            now = now.saturating_sub(1);
        }
    }
    max
}

/// When the calls of one action were made, across every account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phase {
    pub first_sent_ms: f64,
    pub last_sent_ms: f64,
    pub last_answered_ms: f64,
    /// The most of them in flight at once.
    pub max_in_flight: usize,
}

/// The median and the largest of per-account times.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Self> {
        Some(Self {
            median: crate::stats::median(values)?,
            max: values.iter().copied().reduce(f64::max)?,
        })
    }
}

/// Where a request across the organization spent its time, in ms from its start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeline {
    /// By action (`sts:AssumeRole`, `iam:GetRole`, `ec2:DescribeRegions`, each listing).
    pub phases: BTreeMap<String, Phase>,
    /// Per account, from its `AssumeRole` answered to its `DescribeRegions` sent: about the
    /// delay when the spoke's `GetRole` proof comes first, about 0 when it runs alongside.
    pub assume_answered_to_regions_sent_ms: Option<Spread>,
    /// Per account, from its `AssumeRole` sent to its last answer.
    pub account_span_ms: Option<Spread>,
    /// list-resources answered.
    pub end_ms: f64,
}

/// The field `key` of a Query API request's form body.
fn form_field(body: &[u8], key: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl Inner {
    fn route(&self, request: &HttpRequest) -> Route {
        let Ok(uri) = request.uri().parse::<http::Uri>() else {
            return Route::Unknown(format!("uri `{}`", request.uri()));
        };
        let service = service_and_region(uri.host().unwrap_or_default()).map(|(s, _)| s);
        let body = request.body().bytes().unwrap_or_default();
        let key = request
            .headers()
            .get("authorization")
            .and_then(signing_key)
            .and_then(|k| self.by_key.get(k))
            .copied();
        match (service, form_field(body, "Action").as_deref()) {
            (Some("sts"), Some("AssumeRole")) => {
                let member = form_field(body, "RoleArn")
                    .and_then(|arn| arn.parse::<Arn>().ok())
                    .and_then(|arn| {
                        let account = arn.account_id()?;
                        let n = self.members.iter().position(|m| m.account == account)?;
                        (self.spoke.role_arn(&account).ok()? == arn).then_some(n)
                    });
                Route::AssumeRole(member)
            }
            (Some("iam"), Some("GetRole")) => Route::GetRole(key.filter(|_| {
                form_field(body, "RoleName").as_deref() == Some(self.spoke.role_name.as_str())
            })),
            _ => match key {
                Some(n) => Route::Member(n),
                None => Route::Unknown(format!(
                    "{} {} signed by no member's session",
                    request.method(),
                    request.uri()
                )),
            },
        }
    }

    /// STS's answer to `AssumeRole` of member `n`'s spoke role.
    fn assume_role_answer(&self, member: &Member, session: &str) -> (u16, String) {
        let assumed = Arn::from_parts(
            self.spoke.partition,
            "sts",
            "",
            Some(&member.account),
            &["assumed-role/", self.spoke.role_name.as_str(), "/", session].concat(),
        )
        .map(|a| a.to_string())
        .unwrap_or_default();
        let mut out = String::from(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser>",
        );
        let _ = write!(
            out,
            "<Arn>{assumed}</Arn><AssumedRoleId>AROAXACCTBENCHSPOKE:{session}</AssumedRoleId></AssumedRoleUser>\
<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>xacct-bench-not-a-secret</SecretAccessKey>\
<SessionToken>xacct-bench-session-{}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
</AssumeRoleResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></AssumeRoleResponse>",
            member.key, member.account
        );
        (200, out)
    }

    /// IAM's answer to the spoke role reading itself.
    fn get_role_answer(&self, member: &Member) -> (u16, String) {
        let arn = self
            .spoke
            .role_arn(&member.account)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut out = String::from(
            "<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetRoleResult><Role>",
        );
        let _ = write!(
            out,
            "<Path>{}</Path><RoleName>{}</RoleName><RoleId>AROAXACCTBENCHSPOKE</RoleId><Arn>{arn}</Arn>\
<CreateDate>2026-11-01T00:00:00Z</CreateDate><MaxSessionDuration>3600</MaxSessionDuration></Role></GetRoleResult>\
<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></GetRoleResponse>",
            xacct_policy::organization::SPOKE_PATH,
            self.spoke.role_name
        );
        (200, out)
    }

    async fn answer(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, ConnectorError> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        let answer = self.answer_routed(request).await;
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        answer
    }

    async fn answer_routed(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, ConnectorError> {
        let route = self.route(&request);
        let hub_call = match &route {
            Route::Member(n) => {
                return match self.members.get(*n) {
                    Some(member) => member.aws.call(request).await,
                    None => Err(ConnectorError::other("no such member".into(), None)),
                };
            }
            Route::AssumeRole(member) => (HubAction::AssumeRole, *member),
            Route::GetRole(member) => (HubAction::GetRole, *member),
            Route::Unknown(e) => {
                if let Ok(mut seen) = self.seen.lock() {
                    seen.unknown.push(e.clone());
                }
                return respond(400, "text/plain", Bytes::from(e.clone()));
            }
        };
        let sent = Instant::now();
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let (action, member) = hub_call;
        let found = member.and_then(|n| Some((n, self.members.get(n)?)));
        let (status, body) = match (action, found) {
            (HubAction::AssumeRole, Some((_, member))) => {
                let body = request.body().bytes().unwrap_or_default();
                let session = form_field(body, "RoleSessionName").unwrap_or_default();
                self.assume_role_answer(member, &session)
            }
            (HubAction::GetRole, Some((_, member))) => self.get_role_answer(member),
            (HubAction::AssumeRole, None) => error_answer(
                403,
                "sts",
                "2011-06-15",
                "AccessDenied",
                "not a spoke role of the organization",
            ),
            (HubAction::GetRole, None) => error_answer(
                404,
                "iam",
                "2010-05-08",
                "NoSuchEntity",
                "the role cannot be found",
            ),
        };
        if let Ok(mut seen) = self.seen.lock() {
            *seen.calls.entry(action.name()).or_default() += 1;
            if let Some((n, _)) = found {
                seen.log.push((action, n, sent, Instant::now()));
            }
        }
        respond(status, "text/xml", Bytes::from(body))
    }
}

/// A Query API's error, as STS and IAM answer it.
fn error_answer(
    status: u16,
    service: &str,
    version: &str,
    code: &str,
    message: &str,
) -> (u16, String) {
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/{version}/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
        ),
    )
}

impl HttpConnector for GeneratedOrganization {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = Arc::clone(&self.inner);
        HttpConnectorFuture::new(async move { inner.answer(request).await })
    }
}

impl HttpClient for GeneratedOrganization {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// list-resources' dependencies in hub mode.
pub type OrganizationHub = Hub<Deps, SdkMembers<Deps>>;

/// The hub list-resources' `main` builds with `hub_from_env` (`XACCT_ORGANIZATION_ID` set),
/// from `config` (the hub's credentials; its HTTP client is the generated organization),
/// with `accounts` member accounts at once, each discovered with `discovery`. The hub knows
/// its own account, as a warm function has looked it up (one `GetCallerIdentity` per
/// process, not per request).
pub fn hub(
    config: &SdkConfig,
    spoke: Spoke,
    accounts: usize,
    discovery: Concurrency,
) -> Result<OrganizationHub> {
    if !(1..=MAX_MEMBER_CONCURRENCY).contains(&accounts) {
        return Err(BenchError::new(format!(
            "member accounts at once `{accounts}`: a deployment sets 1 to {MAX_MEMBER_CONCURRENCY}"
        )));
    }
    let home: AccountId = HUB_ACCOUNT
        .parse()
        .map_err(|e| BenchError::new(format!("hub account: {e}")))?;
    let id = ORGANIZATION_ID
        .parse()
        .map_err(|e| BenchError::new(format!("organization id: {e}")))?;
    Ok(Hub {
        home: Deps {
            discoverer: Discoverer::new(config.clone()).with_concurrency(discovery),
        },
        account: AccountLookup::known(config, home),
        organization: Some(Organization {
            id,
            members: SdkMembers {
                accounts: OrganizationAccounts::new(config),
                sessions: SpokeSessions::new(config, spoke),
                build: Box::new(move |session, _| Deps {
                    discoverer: Discoverer::new(session.config.clone()).with_concurrency(discovery),
                }),
            },
            concurrency: accounts,
        }),
    })
}

/// list-resources with `account_id` the members, an explicit list (so that no
/// `ListAccounts` page is in the time), of the point's services in its regions, `limit`
/// resources a page.
pub async fn list_members(
    hub: &OrganizationHub,
    members: &[AccountId],
    point: &Point,
    limit: usize,
) -> Result<ResourcesResponse> {
    let ids: Vec<&str> = members.iter().map(AccountId::as_str).collect();
    let mut query = BTreeMap::from([
        ("account_id".to_owned(), vec![ids.join(",")]),
        ("limit".to_owned(), vec![limit.to_string()]),
    ]);
    if let Regions::Only(listed) = &point.regions {
        query.insert("region".to_owned(), vec![listed.join(",")]);
    }
    if let Services::Only(listed) = &point.services {
        query.insert("service".to_owned(), vec![join(listed)]);
    }
    list_resources(hub, CALLER, query)
        .await
        .map_err(|e| BenchError::new(format!("list-resources: {} {}", e.code, e.message)))
}

/// The calls one request across `members` accounts of `account` for `point` makes: per
/// member one `AssumeRole`, one `GetRole` and a whole discovery (`DescribeRegions` unless
/// the regions are named, and every page of every listing of the services asked).
pub fn expected_calls(members: usize, account: &Account, point: &Point) -> usize {
    let chains: usize = point.chains(account).iter().map(|(_, n)| *n).sum();
    members * (2 + point.regions.describe_calls() + chains)
}

/// The floor in calls: one `AssumeRole`, then the longest chain of one account's discovery
/// (`DescribeRegions` unless the regions are named, then its longest paged listing of the
/// services asked); every account at once.
pub fn floor_calls(account: &Account, point: &Point) -> usize {
    let longest = point
        .chains(account)
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    1 + point.regions.describe_calls() + longest
}

/// Resources a request across `members` accounts of `account` for `point` finds.
pub fn expected_resources(members: usize, account: &Account, point: &Point) -> usize {
    members * account.resources_of(&point.regions.listed(), &point.services.listed())
}

/// What one request across the organization, in a fresh process, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointRun {
    pub wall_ms: f64,
    pub calls: usize,
    pub calls_by_action: BTreeMap<String, usize>,
    pub max_in_flight: usize,
    /// Resources in the answer's page (the first `limit` of every account's, sorted).
    pub returned: usize,
    pub peak_rss_mb: Option<f64>,
    /// The rendered answers this process holds (part of its peak memory, not xacct's).
    pub answers_mb: f64,
    /// CPU time of the request (user and system, all threads; 10 ms ticks).
    pub cpu_ms: Option<u64>,
    pub timeline: Timeline,
}

/// The generated organization of `members` accounts of `account`, its pages rendered
/// (their bytes), and an SDK configuration from the process's environment whose HTTP
/// client it is: xacct's (`xacct_aws::config::load`) or the SDK's own defaults.
pub(crate) async fn generated(
    members: usize,
    account: &Account,
    delay: Duration,
    xacct_config: bool,
) -> Result<(GeneratedOrganization, usize, SdkConfig)> {
    let org = GeneratedOrganization::new(members, account, delay)?;
    let rendered = org.prerender();
    let base = if xacct_config {
        xacct_aws::config::load().await
    } else {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await
    };
    let config = base.to_builder().http_client(org.shared()).build();
    Ok((org, rendered, config))
}

/// Fails when the organization was asked anything it could not answer, or a call other
/// than the `expected` number.
pub(crate) fn check_calls(org: &GeneratedOrganization, expected: usize) -> Result<usize> {
    let unknown = org.unknown();
    if !unknown.is_empty() {
        return Err(BenchError::new(format!(
            "calls the bench cannot answer: {unknown:?}"
        )));
    }
    let total: usize = org.calls().values().sum();
    if total != expected {
        return Err(BenchError::new(format!("{total} calls of {expected}")));
    }
    Ok(total)
}

/// One list-resources across `members` accounts of size `scale` for `point`, in this
/// process: xacct's configuration (`xacct_aws::config::load`, from the clean environment
/// the parent gives) with the generated organization as its HTTP client, the hub with
/// `accounts` members at once and xacct's default discovery concurrency in each.
pub async fn point(
    members: usize,
    scale: f64,
    delay: Duration,
    accounts: usize,
    point: &Point,
) -> Result<PointRun> {
    let account = Account::scaled(scale);
    let (org, rendered, config) = generated(members, &account, delay, true).await?;
    let hub = hub(
        &config,
        org.spoke().clone(),
        accounts,
        Concurrency::default(),
    )?;
    let ids = org.members();
    let limit = xacct_api::list_resources::DEFAULT_LIMIT;
    let cpu_before = crate::system::own_cpu_ms();
    let started = Instant::now();
    let answer = list_members(&hub, &ids, point, limit).await?;
    let ended = Instant::now();
    let total = check_calls(&org, expected_calls(members, &account, point))?;
    let resources = expected_resources(members, &account, point);
    if !answer.partial_failures.is_empty()
        || answer.resources.len() != resources.min(limit)
        || answer.next_cursor.is_some() != (resources > limit)
    {
        return Err(BenchError::new(format!(
            "{} resources returned of {resources}; partial failures: {:?}",
            answer.resources.len(),
            answer.partial_failures
        )));
    }
    Ok(PointRun {
        wall_ms: crate::stats::round3((ended - started).as_secs_f64() * 1000.0),
        calls: total,
        calls_by_action: org
            .calls()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        max_in_flight: org.max_in_flight(),
        returned: answer.resources.len(),
        peak_rss_mb: crate::system::own_peak_rss_mb(),
        answers_mb: crate::system::mib(rendered as u64),
        cpu_ms: crate::system::own_cpu_ms()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before)),
        timeline: org.timeline(started, ended),
    })
}

/// How the organization bench runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub members: usize,
    pub scale: f64,
    pub delay: Duration,
    /// Member accounts at once (`MemberAccountConcurrency`).
    pub accounts: usize,
    /// One point per entry: the regions and services its request lists.
    pub points: Vec<Point>,
    /// Fresh processes of xacct and of the SDK floor per point; medians are reported.
    pub runs: usize,
}

/// The points measured unless told otherwise, every service of: every enabled region, one
/// region (the common "this region in every account"), and the four regions that hold
/// resources; then each service alone in that one region, where the work of a hundred
/// accounts is a few hundred calls and the latency floor can be judged.
pub fn default_points() -> Vec<Point> {
    let one = || Regions::Only(vec!["us-east-1".to_owned()]);
    let mut points = vec![
        Point::all_services(Regions::Enabled),
        Point::all_services(one()),
        Point::all_services(Regions::Only(
            crate::discovery::SEED_REGIONS
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        )),
    ];
    points.extend(ServiceKind::ALL.into_iter().map(|service| Point {
        regions: one(),
        services: Services::Only(vec![service]),
    }));
    points
}

/// The run of median wall time.
fn median_run<T: Clone>(runs: &[T], wall: impl Fn(&T) -> f64) -> Result<T> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| wall(a).total_cmp(&wall(b)));
    sorted
        .get(sorted.len() / 2)
        .cloned()
        .context(|| "no run".to_owned())
}

/// One point: `runs` fresh processes of xacct and of the SDK floor, interleaved, each
/// against the latency floor and xacct against the SDK floor.
fn measure(options: &Options, point: &Point) -> Result<serde_json::Value> {
    let account = Account::scaled(options.scale);
    let delay_ms = options.delay.as_secs_f64() * 1000.0;
    let common = [
        "--members".to_owned(),
        options.members.to_string(),
        "--scale".to_owned(),
        options.scale.to_string(),
        "--delay-ms".to_owned(),
        options.delay.as_millis().to_string(),
    ];
    let mut xacct_args = vec!["organization-point".to_owned()];
    xacct_args.extend(common.iter().cloned());
    xacct_args.extend(point.args());
    xacct_args.extend(["--accounts".to_owned(), options.accounts.to_string()]);
    let mut floor_args = vec!["organization-sdk-floor-point".to_owned()];
    floor_args.extend(common.iter().cloned());
    floor_args.extend(point.args());
    let mut runs: Vec<PointRun> = Vec::new();
    let mut floors: Vec<crate::organization_floor::FloorRun> = Vec::new();
    for _ in 0..options.runs.max(1) {
        floors.push(crate::discovery::fresh_point(&floor_args)?);
        runs.push(crate::discovery::fresh_point(&xacct_args)?);
    }
    let median = median_run(&runs, |r| r.wall_ms)?;
    let floor = median_run(&floors, |r| r.wall_ms)?;
    let floor_ms = floor_calls(&account, point) as f64 * delay_ms;
    crate::progress(&format!(
        "{} accounts, {}, services {}: xacct {} ms, SDK floor {} ms, latency floor {floor_ms} ms",
        options.members,
        point.regions.describe(),
        point.services.arg(),
        median.wall_ms,
        floor.wall_ms
    ));
    Ok(serde_json::json!({
        "regions": point.regions.describe(),
        "regions_listed": point.regions.listed().len(),
        "services": point.services.arg(),
        "resources": expected_resources(options.members, &account, point),
        "expected_calls": expected_calls(options.members, &account, point),
        "floor_calls": floor_calls(&account, point),
        "floor_ms": floor_ms,
        "sdk_floor": {
            "wall_ms": floor.wall_ms,
            "ratio": crate::stats::ratio(floor.wall_ms, floor_ms),
            "runs_ms": floors.iter().map(|r| r.wall_ms).collect::<Vec<_>>(),
            "calls": floor.calls,
            "max_in_flight": floor.max_in_flight,
            "resources": floor.resources,
            "peak_rss_mb": floor.peak_rss_mb,
            "answers_mb": floor.answers_mb,
            "cpu_ms": floor.cpu_ms,
            "cpu_runs_ms": floors.iter().map(|r| r.cpu_ms).collect::<Vec<_>>(),
        },
        "xacct": {
            "wall_ms": median.wall_ms,
            "ratio": crate::stats::ratio(median.wall_ms, floor_ms),
            "ratio_to_sdk_floor": crate::stats::ratio(median.wall_ms, floor.wall_ms),
            "runs_ms": runs.iter().map(|r| r.wall_ms).collect::<Vec<_>>(),
            "calls": median.calls,
            "calls_by_action": median.calls_by_action,
            "max_in_flight": median.max_in_flight,
            "returned": median.returned,
            "peak_rss_mb": median.peak_rss_mb,
            "answers_mb": median.answers_mb,
            "cpu_ms": median.cpu_ms,
            "cpu_runs_ms": runs.iter().map(|r| r.cpu_ms).collect::<Vec<_>>(),
            "timeline": median.timeline,
        },
    }))
}

/// Every point of `options`. Returns the results' `organization_at_scale` key.
pub fn run(options: &Options) -> Result<serde_json::Value> {
    let account = Account::scaled(options.scale);
    let points = options
        .points
        .iter()
        .map(|point| measure(options, point))
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({
        "tool": "crates/bench: xacct-bench organization",
        "delay_ms": options.delay.as_secs_f64() * 1000.0,
        "members": options.members,
        "member_account_concurrency": options.accounts,
        "scale": options.scale,
        "resources_per_account": account.resources(),
        "floor_formula": "floor_ms = delay_ms x (1 + floor_calls(one account)); 1 = the member's AssumeRole; floor_calls(one account) = 1 DescribeRegions (none when the request names its regions) + the longest chain of its discovery of the listed services in the listed regions (as discovery_at_scale's floor); every account at once, the spoke's GetRole proof alongside its discovery",
        "sdk_floor": "the same AWS calls (same actions, accounts, regions and pages: per member AssumeRole, then GetRole, DescribeRegions unless the regions are named, ListBuckets and every page of each listed region's DescribeInstances, ListFunctions, DescribeDBInstances, DescribeDBClusters and GetResources, of the listed services only: GetResources of their resource types) made with bare SDK clients (aws-config's defaults from the same environment, one client per service and region, the SDK's paginators) and nothing of xacct's, every member and every listing a task of its own at once with no bound, in a fresh process, against the same generated organization; it counts what it finds",
        "emulation": "list_resources of xacct-api with account_id = every member (an explicit list: no ListAccounts) and, for a point with named regions or services, region = them and service = them, through a Hub whose organization is SdkMembers (SpokeSessions: AssumeRole of role/xacct-spoke/xacct-spoke, GetRole as proof; a Discoverer per member session with xacct's default discovery concurrency), xacct's SdkConfig (xacct_aws::config::load) whose HTTP client is the bench's generated organization: STS and IAM answer the hub, every other call goes to the generated account (discovery_at_scale's, its own account id in ARNs and owner ids, bucket names prefixed with it) of the member whose session's access key signed it; every call answered after delay_ms; the hub's own account known (a warm function's); one fresh process per run, xacct's and the SDK floor's interleaved; peak_rss_mb includes the rendered answers (answers_mb)",
        "machine": crate::system::Machine::read(),
        "points": points,
    }))
}

/// The Markdown table of an `organization_at_scale` result.
pub fn markdown(result: &serde_json::Value) -> String {
    let mut out = String::from(
        "| regions | services | resources | AWS calls | latency floor | SDK floor | xacct | × latency floor | × SDK floor | CPU: SDK floor / xacct | peak RSS: SDK floor / xacct |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let empty = Vec::new();
    for point in at(result, &["points"]).as_array().unwrap_or(&empty) {
        let x = at(point, &["xacct"]);
        let f = at(point, &["sdk_floor"]);
        let ms = |v: &serde_json::Value, key: &str| at(v, &[key]).as_f64().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} ms | {:.0} ms | {:.0} ms | {} | {} | {} / {} ms | {} / {} MB |",
            at(point, &["regions"]).as_str().unwrap_or_default(),
            at(point, &["services"]).as_str().unwrap_or("all"),
            at(point, &["resources"]),
            at(x, &["calls"]),
            at(point, &["floor_ms"]),
            ms(f, "wall_ms"),
            ms(x, "wall_ms"),
            at(x, &["ratio"]),
            at(x, &["ratio_to_sdk_floor"]),
            at(f, &["cpu_ms"]),
            at(x, &["cpu_ms"]),
            at(f, &["peak_rss_mb"]),
            at(x, &["peak_rss_mb"]),
        );
    }
    out
}

/// A configuration of static credentials `key` in us-east-1 whose HTTP client is `org`.
#[cfg(test)]
pub(crate) fn test_config(org: &GeneratedOrganization, key: &str) -> SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new(key, "secret", None, None, "test"),
        ))
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .http_client(org.shared())
        .build()
}

#[cfg(test)]
mod tests {
    use super::test_config as config;
    use super::*;
    use aws_sdk_sts::config::ProvideCredentials as _;

    fn small(members: usize) -> (GeneratedOrganization, Account) {
        let account = Account::scaled(0.01);
        let org = GeneratedOrganization::new(members, &account, Duration::ZERO).unwrap();
        (org, account)
    }

    #[test]
    fn the_signing_key_is_read_from_the_authorization_header() {
        let header = "AWS4-HMAC-SHA256 Credential=ASIA200000000001XACT/20261207/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signing_key(header), Some("ASIA200000000001XACT"));
        assert_eq!(signing_key("AWS4-HMAC-SHA256 Credential=/x"), None);
        assert_eq!(signing_key("Basic abc"), None);
        let member = member_id(0).unwrap();
        assert_eq!(member.as_str(), "200000000001");
        assert_eq!(session_key(&member), "ASIA200000000001XACT");
        assert_eq!(member_id(99).unwrap().as_str(), "200000000100");
    }

    /// Each member's session key reaches that member's account: its EC2 instances carry its
    /// account id as owner; a key of no member reaches nothing.
    #[tokio::test]
    async fn calls_are_routed_to_the_member_their_access_key_names() {
        let (org, _) = small(3);
        for member in org.members() {
            let ec2 = aws_sdk_ec2::Client::new(&config(&org, &session_key(&member)));
            let page = ec2.describe_instances().send().await.unwrap();
            let owners: Vec<&str> = page
                .reservations()
                .iter()
                .filter_map(|r| r.owner_id())
                .collect();
            assert!(!owners.is_empty());
            assert!(owners.iter().all(|o| *o == member.as_str()), "{owners:?}");
        }
        let stranger = aws_sdk_ec2::Client::new(&config(&org, "AKIAXACCTBENCHEXAMPLE"));
        assert!(stranger.describe_instances().send().await.is_err());
        assert_eq!(org.unknown().len(), 1);
        assert_eq!(org.calls().get("ec2:DescribeInstances"), Some(&3));
    }

    /// xacct's own `SpokeSessions::open` through the SDK: the AssumeRole answer parses, its
    /// credentials are the member's session key, and the spoke's GetRole proof is answered
    /// for that member; a role of an account outside the organization is refused.
    #[tokio::test]
    async fn a_spoke_session_is_opened_from_the_assume_role_answer() {
        let (org, _) = small(2);
        let members = org.members();
        let hub_config = config(&org, "AKIAXACCTBENCHEXAMPLE");
        let sessions = SpokeSessions::new(&hub_config, org.spoke().clone());
        let second = members.get(1).unwrap();
        let session = sessions.open(second, "xacct@bench").await.unwrap();
        let identity = session
            .config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(identity.access_key_id(), session_key(second));
        assert_eq!(
            identity.session_token(),
            Some(["xacct-bench-session-", second.as_str()].concat().as_str())
        );
        assert_eq!(
            session.boundary.to_string(),
            "arn:aws:iam::200000000002:policy/xacct-spoke/xacct-boundary"
        );
        assert_eq!(
            org.calls_of(1),
            BTreeMap::from([("iam:GetRole", 1), ("sts:AssumeRole", 1)])
        );
        assert_eq!(org.calls_of(0), BTreeMap::new());

        let outsider: AccountId = "999999999999".parse().unwrap();
        let refused = sessions.open(&outsider, "xacct@bench").await.unwrap_err();
        assert_eq!(refused.code, "AccessDenied");
        assert_eq!(org.unknown(), Vec::<String>::new());
    }

    /// The whole path at small size: list-resources across three members through the hub
    /// finds every member's resources, each marked with its account, in the expected calls.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_resources_across_members_finds_each_members_resources() {
        let (org, account) = small(3);
        let members = org.members();
        let hub_config = config(&org, "AKIAXACCTBENCHEXAMPLE");
        let hub = hub(&hub_config, org.spoke().clone(), 3, Concurrency::default()).unwrap();
        let answer = list_members(&hub, &members, &Point::all_services(Regions::Enabled), 1000)
            .await
            .unwrap();
        assert_eq!(org.unknown(), Vec::<String>::new());
        assert_eq!(answer.partial_failures, []);
        assert_eq!(answer.next_cursor, None);
        assert_eq!(answer.resources.len(), 3 * account.resources());
        for member in &members {
            let mine: Vec<_> = answer
                .resources
                .iter()
                .filter(|r| r.account_id.as_ref() == Some(member))
                .collect();
            assert_eq!(mine.len(), account.resources(), "{member}");
            // Every ARN but a bucket's (S3's have no account) names the member.
            for r in mine {
                let arn: Arn = r.arn.parse().unwrap();
                if r.service == ServiceKind::S3 {
                    assert!(r.name.contains(member.as_str()), "{r:?}");
                } else {
                    assert_eq!(arn.account(), member.as_str(), "{r:?}");
                }
            }
        }
        let one = account.expected_calls();
        for n in 0..members.len() {
            let calls = org.calls_of(n);
            assert_eq!(calls.get("sts:AssumeRole"), Some(&1));
            assert_eq!(calls.get("iam:GetRole"), Some(&1));
            assert_eq!(calls.values().sum::<usize>(), 2 + one);
        }
        assert_eq!(
            org.calls().values().sum::<usize>(),
            expected_calls(3, &account, &Point::all_services(Regions::Enabled))
        );
    }

    /// A service asked alone: list-resources through the hub makes the calls and finds the
    /// resources the expectations of that service give, and no other service's listings.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_resources_of_one_service_makes_that_services_calls_only() {
        let (org, account) = small(3);
        let hub_config = config(&org, "AKIAXACCTBENCHEXAMPLE");
        let hub = hub(&hub_config, org.spoke().clone(), 3, Concurrency::default()).unwrap();
        let point = Point {
            regions: Regions::parse("us-east-1"),
            services: Services::parse("lambda").unwrap(),
        };
        let answer = list_members(&hub, &org.members(), &point, 1000)
            .await
            .unwrap();
        assert_eq!(org.unknown(), Vec::<String>::new());
        assert_eq!(answer.partial_failures, []);
        assert_eq!(
            answer.resources.len(),
            expected_resources(3, &account, &point)
        );
        assert!(
            answer
                .resources
                .iter()
                .all(|r| r.service == ServiceKind::Lambda)
        );
        let calls = org.calls();
        assert_eq!(
            calls.values().sum::<usize>(),
            expected_calls(3, &account, &point)
        );
        assert_eq!(
            calls.keys().copied().collect::<Vec<_>>(),
            [
                "iam:GetRole",
                "lambda:ListFunctions",
                "sts:AssumeRole",
                "tagging:GetResources"
            ]
        );
    }

    #[test]
    fn calls_in_flight_at_once_are_counted_where_they_overlap() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        assert_eq!(max_overlap(&[]), 0);
        // [0,50] [10,60] [50,100]: two at once; the third is sent as the first is answered.
        assert_eq!(
            max_overlap(&[(at(0), at(50)), (at(10), at(60)), (at(50), at(100))]),
            2
        );
        assert_eq!(max_overlap(&[(at(0), at(50)), (at(0), at(50))]), 2);
    }

    #[test]
    fn the_floor_is_one_assume_role_then_one_accounts_longest_chain() {
        let account = Account::scaled(DEFAULT_SCALE);
        let all = Point::all_services(Regions::Enabled);
        // AssumeRole, DescribeRegions, one page of each listing.
        assert_eq!(floor_calls(&account, &all), 3);
        assert_eq!(expected_calls(100, &account, &all), 100 * (2 + 122));
        // A named region: no DescribeRegions; ListBuckets and that region's five listings.
        let one = Regions::parse("us-east-1");
        assert_eq!(one, Regions::Only(vec!["us-east-1".to_owned()]));
        let one_all = Point::all_services(one.clone());
        assert_eq!(floor_calls(&account, &one_all), 2);
        assert_eq!(expected_calls(100, &account, &one_all), 100 * (2 + 1 + 5));
        assert_eq!(
            expected_resources(100, &account, &one_all),
            100 * account.in_region("us-east-1").total()
        );
        assert_eq!(Regions::parse("all"), Regions::Enabled);
        assert_eq!(Regions::parse(&one.arg()), one);
    }

    /// One service asked: only its listings are called and counted, and its resources.
    #[test]
    fn the_calls_and_resources_follow_the_services_asked() {
        let account = Account::scaled(DEFAULT_SCALE);
        let here = account.in_region("us-east-1");
        let only = |text: &str| Point {
            regions: Regions::parse("us-east-1"),
            services: Services::parse(text).unwrap(),
        };
        // S3: ListBuckets and the region's tags of buckets.
        let s3 = only("s3");
        assert_eq!(floor_calls(&account, &s3), 2);
        assert_eq!(expected_calls(100, &account, &s3), 100 * (2 + 2));
        assert_eq!(expected_resources(100, &account, &s3), 100 * here.buckets);
        // Lambda: ListFunctions' pages of 50 and the region's tags of functions; at full
        // size (250 functions here) the floor is its chain of pages.
        let full = Account::scaled(1.0);
        let lambda = only("lambda");
        let functions = full.in_region("us-east-1").functions;
        assert_eq!(functions, 250);
        assert_eq!(floor_calls(&full, &lambda), 1 + 5);
        // 125 tagged functions: 2 GetResources pages of 100.
        assert_eq!(expected_calls(1, &full, &lambda), 2 + 5 + 2);
        assert_eq!(expected_resources(100, &full, &lambda), 100 * functions);
        assert_eq!(expected_calls(1, &account, &lambda), 2 + 1 + 1);
        // EC2: DescribeInstances alone, no tags; RDS: its two listings.
        assert_eq!(expected_calls(100, &account, &only("ec2")), 100 * (2 + 1));
        assert_eq!(expected_calls(100, &account, &only("rds")), 100 * (2 + 2));
        assert_eq!(
            expected_resources(100, &account, &only("rds")),
            100 * here.db_instances
        );
        // Every region listed still asks DescribeRegions first.
        let every = Point {
            regions: Regions::Enabled,
            services: Services::parse("s3").unwrap(),
        };
        assert_eq!(floor_calls(&account, &every), 3);
        assert_eq!(expected_calls(1, &account, &every), 2 + 1 + 1 + 24);
        // Two services: both listings, one tags chain for both.
        assert_eq!(
            expected_calls(1, &account, &only("s3,lambda")),
            2 + 1 + 1 + 1
        );
        // At full size: 2 ListBuckets pages; 250 buckets of the region tagged (3 pages),
        // and 125 functions (4 pages of both).
        assert_eq!(expected_calls(1, &full, &only("s3")), 2 + 2 + 3);
        assert_eq!(expected_calls(1, &full, &only("s3,lambda")), 2 + 2 + 4 + 5);
        assert_eq!(Services::parse("all").unwrap(), Services::All);
        assert_eq!(
            Services::parse(&only("s3,lambda").services.arg()).unwrap(),
            only("s3,lambda").services
        );
        assert!(Services::parse("s3,dynamodb").is_err());
    }
}
