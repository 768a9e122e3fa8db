//! `expire-grants` (owner side) and `expire-requestor-grants` (requestor side): the scheduled
//! sweep that revokes the grants whose `xacct:expires-at` tag has passed. AWS already refuses
//! an expired owner grant (its trust's `DateLessThan aws:CurrentTime`); the sweep removes
//! what is left, through the same removal as `revoke-grant` / `revoke-requestor-resources`.

use lambda_http::LambdaEvent;
use serde::{Deserialize, Serialize};
use xacct_aws::roles::{ListedRole, RoleListing, RoleState, RoleStore};
use xacct_policy::expiry::Expiry;
use xacct_policy::naming::ROLE_PATH;

use crate::error::{ApiError, Failure};
use crate::lifecycle::{IamDeps, OwnerGrant, tags};
use crate::owner_lifecycle::{owner_grant_role, revoke_role};
use crate::requestor_lifecycle::requestor_role;

/// Expired grants revoked per run when `XACCT_SWEEP_LIMIT` is unset: the rest wait for the
/// next run, so one run stays well inside the function's time-out.
pub const DEFAULT_SWEEP_LIMIT: usize = 25;

/// Pages of `GetAccountAuthorizationDetails` one run reads at most: a page holds up to
/// 1,000 roles and IAM's highest role quota is 5,000, so this covers any account twice.
const MAX_PAGES: usize = 10;

/// Which side's grants a sweep removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Owner roles (`xacct:resource` and `xacct:requestor` tags).
    Owner,
    /// Requestor roles (`xacct:owner-role` tag).
    Requestor,
}

impl Side {
    fn operation(self) -> &'static str {
        match self {
            Self::Owner => "expire-grants",
            Self::Requestor => "expire-requestor-grants",
        }
    }

    /// Whether the role is a grant of this side (refused as the revoke functions refuse it).
    fn kind(self, state: &RoleState) -> Result<(), ApiError> {
        match self {
            Self::Owner => owner_grant_role(state),
            Self::Requestor => requestor_role(state),
        }
    }
}

/// The scheduled event. The schedule sends its own ARN (EventBridge Scheduler's context
/// attribute `<aws.scheduler.schedule-arn>`), logged as the caller; other keys are ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SweepEvent {
    #[serde(default)]
    pub schedule_arn: Option<String>,
}

/// One expired grant and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweptGrant {
    pub role_arn: String,
    pub expires_at: String,
    /// What was removed; empty when it was already gone (or nothing was done).
    pub removed: Vec<String>,
    /// The error code when it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub side: Side,
    /// The time the run judged expiry at (RFC 3339, UTC).
    pub now: String,
    /// Roles read from IAM.
    pub examined: usize,
    pub revoked: Vec<SweptGrant>,
    /// Failed this run; the next run tries again.
    pub failed: Vec<SweptGrant>,
    /// No longer expired when read again (extended since the listing), or not xacct's.
    pub skipped: Vec<SweptGrant>,
    /// Whether the run stopped at its limit, so more expired grants may be left for the
    /// next run.
    pub more: bool,
}

/// When the role's grant ended, if it is an xacct grant of `side` that has ended at `now`.
fn ended(role_tags: &std::collections::BTreeMap<String, String>, side: Side) -> Option<Expiry> {
    let of_side = match side {
        Side::Owner => OwnerGrant::from_tags(role_tags).is_some(),
        Side::Requestor => role_tags.contains_key(tags::OWNER_ROLE),
    };
    if !of_side {
        return None;
    }
    Expiry::parse(role_tags.get(tags::EXPIRES_AT)?).ok()
}

fn expired_grant(role: &ListedRole, side: Side, now: i64) -> Option<Expiry> {
    if !(role.is_managed() && role.path == ROLE_PATH) {
        return None;
    }
    ended(&role.tags, side).filter(|e| e.is_past(now))
}

/// The expired grants of `side` at `now`, at most `limit`, and whether more may be left.
async fn expired_grants<R: RoleListing>(
    roles: &R,
    side: Side,
    now: i64,
    limit: usize,
) -> Result<(Vec<(String, Expiry)>, usize, bool), ApiError> {
    let mut found = Vec::new();
    let mut examined = 0;
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (page, next) = roles.list_role_details(marker.as_deref()).await?;
        examined += page.len();
        for role in &page {
            if let Some(at) = expired_grant(role, side, now) {
                if found.len() == limit {
                    return Ok((found, examined, true));
                }
                found.push((role.arn.clone(), at));
            }
        }
        match next {
            Some(m) => marker = Some(m),
            None => return Ok((found, examined, false)),
        }
    }
    Ok((found, examined, true))
}

/// Revokes the expired grants of `side` at `now`, at most `limit` of them: each through the
/// removal the revoke functions use, after reading the role again (a grant extended since
/// the listing is skipped). One grant failing does not stop the others; what failed is
/// tried again by the next run. Only a failure to list the roles fails the run.
pub async fn sweep<R: RoleListing + RoleStore>(
    deps: &IamDeps<R>,
    side: Side,
    caller: &str,
    now: i64,
    limit: usize,
) -> Result<SweepReport, ApiError> {
    let operation = side.operation();
    let (expired, examined, more) = expired_grants(&deps.roles, side, now, limit).await?;
    let mut report = SweepReport {
        side,
        now: Expiry::from_epoch(now).to_string(),
        examined,
        revoked: Vec::new(),
        failed: Vec::new(),
        skipped: Vec::new(),
        more,
    };
    for (role_arn, at) in expired {
        let still_expired = |state: &RoleState| {
            side.kind(state)?;
            match ended(&state.tags, side) {
                Some(e) if e.is_past(now) => Ok(()),
                _ => Err(ApiError::conflict(
                    "role_arn",
                    "NotExpired",
                    format!("role_arn `{}` has not expired at {}", state.arn, report.now),
                )),
            }
        };
        let mut grant = SweptGrant {
            role_arn,
            expires_at: at.to_string(),
            removed: Vec::new(),
            code: None,
            message: None,
        };
        match revoke_role(deps, &grant.role_arn, still_expired).await {
            Ok(out) => {
                tracing::info!(caller, operation, role = %grant.role_arn, expires_at = %grant.expires_at, changed = out.changed, removed = ?out.removed, "expired grant revoked");
                grant.removed = out.removed;
                report.revoked.push(grant);
            }
            Err(e) => {
                let skipped = e.failure == Failure::Conflict;
                if skipped {
                    tracing::info!(caller, operation, role = %grant.role_arn, code = %e.code, "expired grant skipped");
                } else {
                    tracing::warn!(caller, operation, role = %grant.role_arn, code = %e.code, message = %e.message, "expired grant not revoked; the next run tries again");
                }
                grant.code = Some(e.code);
                grant.message = Some(e.message);
                if skipped {
                    report.skipped.push(grant);
                } else {
                    report.failed.push(grant);
                }
            }
        }
    }
    tracing::info!(
        caller,
        operation,
        examined,
        revoked = report.revoked.len(),
        failed = report.failed.len(),
        skipped = report.skipped.len(),
        more,
        "sweep done"
    );
    Ok(report)
}

/// The most grants one run revokes (`XACCT_SWEEP_LIMIT`, default [`DEFAULT_SWEEP_LIMIT`]).
pub fn sweep_limit() -> Result<usize, ApiError> {
    match crate::runtime::env("XACCT_SWEEP_LIMIT") {
        None => Ok(DEFAULT_SWEEP_LIMIT),
        Some(raw) => raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::new(
                Failure::Internal,
                "InvalidSweepLimit",
                format!(
                    "XACCT_SWEEP_LIMIT must be a whole number above 0, got `{}`",
                    crate::error::shorten(&raw)
                ),
            )
        }),
    }
}

/// The Lambda handler of a scheduled run: now from the system clock, the caller from the
/// event.
pub async fn handle<R: RoleListing + RoleStore>(
    deps: &IamDeps<R>,
    side: Side,
    limit: usize,
    event: LambdaEvent<SweepEvent>,
) -> Result<SweepReport, ApiError> {
    let caller = event
        .payload
        .schedule_arn
        .unwrap_or_else(|| "unknown".to_owned());
    sweep(deps, side, &caller, crate::runtime::now_epoch(), limit).await
}
