//! `list-resources`: the owner account's S3 buckets, EC2 instances, Lambda functions, RDS
//! instances and Aurora clusters across enabled regions, filtered, paged with an opaque
//! cursor, and kept well under the 6 MB Function URL response limit.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::stream::{self, StreamExt};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use xacct_aws::discovery::{
    Discover, DiscoveredResource, Discoverer, Discovery, DiscoveryQuery, PartialFailure,
    ServiceKind,
};
use xacct_policy::AccountId;
use xacct_policy::organization::Scope;

use crate::error::{ApiError, shorten};
use crate::http::serve_query;
use crate::hub::{Hub, Members};

pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: usize = 1000;
/// Bytes of resources per page at most; the Function URL limit is 6 MB.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Clients built once at start-up (and per request in a member account).
#[derive(Debug)]
pub struct Deps<X = Discoverer> {
    pub discoverer: X,
}

/// The answer of `list-resources`.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ResourcesResponse {
    #[schema(max_items = 1000)]
    pub resources: Vec<DiscoveredResource>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true, pattern = "^[A-Za-z0-9_-]+$")]
    pub next_cursor: Option<String>,
    pub partial_failures: Vec<PartialFailure>,
}

/// Parsed and checked query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params {
    pub query: DiscoveryQuery,
    pub name_prefix: Option<String>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Where the previous page ended: the sort key of its last resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Cursor(String, String, String, String);

impl Cursor {
    fn of(r: &DiscoveredResource) -> Self {
        Self(
            r.service.as_str().to_owned(),
            r.region.clone(),
            r.name.clone(),
            r.arn.clone(),
        )
    }

    fn key(r: &DiscoveredResource) -> (ServiceKind, &str, &str, &str) {
        (r.service, &r.region, &r.name, &r.arn)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let cursor: Self = serde_json::from_slice(&bytes).ok()?;
        cursor.0.parse::<ServiceKind>().ok()?;
        Some(cursor)
    }

    fn after(&self, r: &DiscoveredResource) -> bool {
        let Ok(service) = self.0.parse::<ServiceKind>() else {
            return false;
        };
        Self::key(r) > (service, self.1.as_str(), self.2.as_str(), self.3.as_str())
    }
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && s.len() <= 32
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn list(values: Option<&Vec<String>>) -> Vec<String> {
    values
        .into_iter()
        .flatten()
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The query parameters `list-resources` takes.
pub const PARAMETERS: &[&str] = &[
    "service",
    "region",
    "name_prefix",
    "limit",
    "cursor",
    "account_id",
];

/// The accounts one request spans (`account_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// No `account_id`: the hub's own account, answered exactly as before organizations.
    Home,
    /// One account: its failure to be reached is the answer's error.
    One(AccountId),
    /// Several accounts, or `all` of the organization's active ones: each one's failure is
    /// a partial failure.
    Several(Vec<AccountId>),
    All,
}

/// Reads `account_id`: absent, `all`, or account IDs, comma-separated (the key may also be
/// repeated).
pub fn accounts(q: &BTreeMap<String, Vec<String>>) -> Result<Accounts, ApiError> {
    let values = list(q.get("account_id"));
    if values.iter().any(|v| v == "all") {
        return if values.len() == 1 {
            Ok(Accounts::All)
        } else {
            Err(ApiError::invalid(
                "account_id",
                "InvalidAccountId",
                "account_id is `all` or account ids, not both",
            ))
        };
    }
    let mut ids: Vec<AccountId> = Vec::new();
    for v in values {
        let id: AccountId = v.parse().map_err(|e| ApiError::id("account_id", &e))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(match ids.len() {
        0 => Accounts::Home,
        1 => ids.pop().map_or(Accounts::Home, Accounts::One),
        _ => Accounts::Several(ids),
    })
}

/// A discovery of one account, each resource and failure marked with it.
fn in_account(mut discovery: Discovery, account: &AccountId) -> Discovery {
    for r in &mut discovery.resources {
        r.account_id = Some(account.clone());
    }
    for f in &mut discovery.partial_failures {
        f.account_id = Some(account.clone());
    }
    discovery
}

/// One account's discovery in `scope`, its reads alongside the spoke's proof: a failed
/// proof is the error, whatever the reads found.
async fn discover_in<X: Discover + 'static, M: Members<Deps<X>>>(
    hub: &Hub<Deps<X>, M>,
    scope: &Scope,
    caller: &str,
    query: &DiscoveryQuery,
) -> Result<Discovery, ApiError> {
    let (deps, proof) = hub.enter_scope_reading(scope, caller).await?;
    let (found, proved) = futures::join!(deps.discoverer.discover(query), proof);
    proved?;
    Ok(found?)
}

/// Discovers `accounts` at most `MemberAccountConcurrency` at a time; an account that cannot
/// be reached or listed is one partial failure, not a failed answer. Sorted as one account's
/// discovery is (the ARN tells accounts apart; bucket names are global).
async fn across<X: Discover + 'static, M: Members<Deps<X>>>(
    hub: &Hub<Deps<X>, M>,
    caller: &str,
    accounts: Vec<AccountId>,
    query: &DiscoveryQuery,
) -> Result<Discovery, ApiError> {
    let home = hub.account.account().await?;
    let concurrency = hub
        .organization
        .as_ref()
        .map_or(1, |o| o.concurrency.max(1));
    let one = |account: AccountId| {
        let home = &home;
        async move {
            let scope = Scope::of(Some(account.clone()), home);
            match discover_in(hub, &scope, caller, query).await {
                Ok(d) => in_account(d, &account),
                Err(e) => Discovery {
                    resources: Vec::new(),
                    partial_failures: vec![PartialFailure {
                        account_id: Some(account),
                        service: None,
                        region: None,
                        code: e.code,
                        message: e.message,
                    }],
                },
            }
        }
    };
    let parts: Vec<Discovery> = stream::iter(accounts)
        .map(one)
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut out = Discovery::default();
    for part in parts {
        out.resources.extend(part.resources);
        out.partial_failures.extend(part.partial_failures);
    }
    out.resources
        .sort_by(|a, b| Cursor::key(a).cmp(&Cursor::key(b)));
    out.partial_failures.sort_by(|a, b| {
        (&a.account_id, a.service, &a.region, &a.code).cmp(&(
            &b.account_id,
            b.service,
            &b.region,
            &b.code,
        ))
    });
    Ok(out)
}

/// The discovery the request's `account_id` asks for.
async fn discover<X: Discover + 'static, M: Members<Deps<X>>>(
    hub: &Hub<Deps<X>, M>,
    caller: &str,
    accounts: Accounts,
    query: &DiscoveryQuery,
) -> Result<Discovery, ApiError> {
    match accounts {
        Accounts::Home => Ok(hub.discoverer.discover(query).await?),
        Accounts::One(account) => {
            let scope = hub.scope(Some(account.as_str())).await?;
            Ok(in_account(
                discover_in(hub, &scope, caller, query).await?,
                &account,
            ))
        }
        Accounts::Several(accounts) => {
            // Outside hub mode, another account is bad input, as for one account.
            for account in &accounts {
                hub.scope(Some(account.as_str())).await?;
            }
            across(hub, caller, accounts, query).await
        }
        Accounts::All => {
            let org = hub.organization.as_ref().ok_or_else(|| {
                ApiError::invalid(
                    "account_id",
                    "NotAHub",
                    "account_id `all` needs an organization hub, and this deployment's OrganizationId is empty",
                )
            })?;
            let accounts = org
                .members
                .accounts()
                .await?
                .into_iter()
                .filter(|a| a.is_active())
                .map(|a| a.id)
                .collect();
            across(hub, caller, accounts, query).await
        }
    }
}

/// Checks `list-resources`' query parameters.
pub fn params(q: &BTreeMap<String, Vec<String>>) -> Result<Params, ApiError> {
    let mut services = Vec::new();
    for s in list(q.get("service")) {
        let kind = s.parse::<ServiceKind>().map_err(|bad| {
            ApiError::invalid(
                "service",
                "InvalidService",
                format!(
                    "service must be among `s3`, `ec2`, `lambda`, `rds`, got `{}`",
                    shorten(&bad)
                ),
            )
        })?;
        if !services.contains(&kind) {
            services.push(kind);
        }
    }
    let regions = list(q.get("region"));
    if let Some(bad) = regions.iter().find(|r| !is_region(r)) {
        return Err(ApiError::invalid(
            "region",
            "InvalidRegion",
            format!("region must look like `us-east-1`, got `{}`", shorten(bad)),
        ));
    }
    let limit = match q.get("limit").and_then(|v| v.first()) {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    "limit",
                    "InvalidLimit",
                    format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT}, got `{}`",
                        shorten(raw)
                    ),
                ));
            }
        },
    };
    let cursor = match q.get("cursor").and_then(|v| v.first()) {
        None => None,
        Some(raw) if raw.is_empty() => None,
        Some(raw) => Some(Cursor::decode(raw).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "InvalidCursor",
                "cursor must be a next_cursor value from an earlier answer",
            )
        })?),
    };
    let name_prefix = q
        .get("name_prefix")
        .and_then(|v| v.first())
        .filter(|p| !p.is_empty())
        .cloned();
    if name_prefix
        .as_ref()
        .is_some_and(|p| p.chars().count() > 256)
    {
        return Err(ApiError::invalid(
            "name_prefix",
            "InvalidNamePrefix",
            "name_prefix must be at most 256 characters",
        ));
    }
    Ok(Params {
        query: DiscoveryQuery {
            services,
            regions: if regions.is_empty() {
                None
            } else {
                Some(regions)
            },
        },
        name_prefix,
        limit,
        cursor,
    })
}

/// One page of sorted resources after the cursor, and the cursor of the next page.
pub fn page(
    resources: Vec<DiscoveredResource>,
    params: &Params,
) -> (Vec<DiscoveredResource>, Option<String>) {
    let prefix = params.name_prefix.as_deref().map(str::to_lowercase);
    let mut selected = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    for r in resources {
        if prefix
            .as_deref()
            .is_some_and(|p| !r.name.to_lowercase().starts_with(p))
        {
            continue;
        }
        if params.cursor.as_ref().is_some_and(|c| !c.after(&r)) {
            continue;
        }
        let size = serde_json::to_vec(&r).map_or(0, |v| v.len());
        if selected.len() >= params.limit || bytes + size > MAX_PAGE_BYTES {
            more = true;
            break;
        }
        bytes += size;
        selected.push(r);
    }
    let next = if more {
        selected.last().map(|r| Cursor::of(r).encode())
    } else {
        None
    };
    (selected, next)
}

/// Discovers the resources of the accounts asked for and answers one page of them.
pub async fn list_resources<X: Discover + 'static, M: Members<Deps<X>>>(
    hub: &Hub<Deps<X>, M>,
    caller: &str,
    q: BTreeMap<String, Vec<String>>,
) -> Result<ResourcesResponse, ApiError> {
    let params = params(&q)?;
    let accounts = accounts(&q)?;
    let started = std::time::Instant::now();
    let discovery = discover(hub, caller, accounts, &params.query).await?;
    let found = discovery.resources.len();
    let (resources, next_cursor) = page(discovery.resources, &params);
    tracing::info!(
        caller,
        found,
        returned = resources.len(),
        failures = discovery.partial_failures.len(),
        ms = started.elapsed().as_millis() as u64,
        "listed resources"
    );
    Ok(ResourcesResponse {
        resources,
        next_cursor,
        partial_failures: discovery.partial_failures,
    })
}

/// The Lambda handler.
pub async fn handle<X: Discover + 'static, M: Members<Deps<X>>>(
    hub: &Hub<Deps<X>, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(
        serve_query(req, "list-resources", PARAMETERS, |caller, q| async move {
            list_resources(hub, &caller, q).await
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn res(service: ServiceKind, region: &str, name: &str) -> DiscoveredResource {
        DiscoveredResource {
            arn: format!("arn:aws:{service}:{region}:111111111111:x/{name}"),
            service,
            resource_type: xacct_aws::discovery::ResourceKind::Instance,
            name: name.to_owned(),
            region: region.to_owned(),
            tags: BTreeMap::new(),
            account_id: None,
        }
    }

    #[test]
    fn cursor_pages_walk_everything_once() {
        let all: Vec<_> = (0..25)
            .map(|i| res(ServiceKind::Ec2, "us-east-1", &format!("n{i:02}")))
            .collect();
        let mut params = Params {
            limit: 10,
            ..Params::default()
        };
        let mut seen = Vec::new();
        loop {
            let (page, next) = page(all.clone(), &params);
            seen.extend(page.into_iter().map(|r| r.name));
            match next {
                Some(c) => params.cursor = Some(Cursor::decode(&c).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, all.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn name_prefix_is_case_insensitive() {
        let all = vec![
            res(ServiceKind::S3, "us-east-1", "Reports"),
            res(ServiceKind::S3, "us-east-1", "logs"),
        ];
        let params = Params {
            limit: 10,
            name_prefix: Some("rep".into()),
            ..Params::default()
        };
        assert_eq!(page(all, &params).0.len(), 1);
    }

    #[test]
    fn regions_are_checked() {
        assert!(
            is_region("us-east-1") && is_region("us-gov-west-1") && is_region("ap-southeast-4")
        );
        assert!(!is_region("us_east_1") && !is_region("../../etc") && !is_region("east-1"));
    }

    #[test]
    fn garbage_cursor_is_refused() {
        assert!(Cursor::decode("not-a-cursor").is_none());
        let c = Cursor("ec2".into(), "us-east-1".into(), "n".into(), "arn".into());
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
    }
}
