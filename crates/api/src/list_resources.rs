//! `list-resources`: the owner account's S3 buckets, EC2 instances, Lambda functions, RDS
//! instances and Aurora clusters across enabled regions, filtered, paged with an opaque
//! cursor, and kept well under the 6 MB Function URL response limit.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use xacct_aws::discovery::{
    DiscoveredResource, Discoverer, DiscoveryQuery, PartialFailure, ServiceKind,
};

use crate::error::{ApiError, shorten};
use crate::http::serve_query;

pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: usize = 1000;
/// Bytes of resources per page at most; the Function URL limit is 6 MB.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Clients built once at start-up.
#[derive(Debug)]
pub struct Deps {
    pub discoverer: Discoverer,
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

/// Reads and checks the query string.
/// The query parameters `list-resources` takes.
pub const PARAMETERS: &[&str] = &["service", "region", "name_prefix", "limit", "cursor"];

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

/// Discovers the account's resources and answers one page of them.
pub async fn list_resources(
    deps: &Deps,
    caller: &str,
    q: BTreeMap<String, Vec<String>>,
) -> Result<ResourcesResponse, ApiError> {
    let params = params(&q)?;
    let started = std::time::Instant::now();
    let discovery = deps.discoverer.discover(&params.query).await?;
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
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(
        serve_query(req, "list-resources", PARAMETERS, |caller, q| async move {
            list_resources(deps, &caller, q).await
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
