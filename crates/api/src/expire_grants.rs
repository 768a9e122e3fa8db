//! `expire-grants` (owner side) and `expire-requestor-grants` (requestor side): the scheduled
//! sweep that revokes the grants whose `xacct:expires-at` tag (or, for a person's inline
//! policy, whose `DateLessThan aws:CurrentTime`) has passed. AWS already refuses an expired
//! grant through that condition; the sweep removes what is left, through the same removal as
//! `revoke-grant` / `revoke-requestor-resources`. In an organization's hub the owner sweep
//! also runs in every member account, through its spoke role.

use futures::stream::{self, StreamExt};
use lambda_http::LambdaEvent;
use serde::{Deserialize, Serialize};
use xacct_aws::humans::{Human, HumanError, HumanStore, remove_human_policy_if};
use xacct_aws::roles::{ListedHuman, ListedRole, Removal, RoleListing, RoleState, RoleStore};
use xacct_policy::expiry::Expiry;
use xacct_policy::naming::ROLE_PATH;
use xacct_policy::organization::Scope;
use xacct_policy::{AccountId, Arn, PolicyDocument};

use crate::error::{ApiError, Failure};
use crate::hub::{Hub, Members};
use crate::lifecycle::{IamDeps, OwnerGrant, tags};
use crate::owner_lifecycle::{RevokeResponse, owner_grant_role, revoke_role};
use crate::requestor_lifecycle::{is_xacct_human_policy, requestor_role, xacct_human_grant};

/// Expired grants revoked per run when `XACCT_SWEEP_LIMIT` is unset: the rest wait for the
/// next run, so one run stays well inside the function's time-out.
pub const DEFAULT_SWEEP_LIMIT: usize = 25;

/// Pages of `GetAccountAuthorizationDetails` one run reads at most: a page holds up to
/// 1,000 entities and IAM's highest quotas are 5,000 roles, 5,000 users and 300 groups, so
/// this covers any account's roles and people.
const MAX_PAGES: usize = 11;

/// Which side's grants a sweep removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Owner roles (`xacct:resource` and `xacct:requestor` tags).
    Owner,
    /// Requestor roles (`xacct:owner-role` tag) and people's xacct inline policies.
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
    /// The role, or the user or group whose policy it is.
    pub principal_arn: String,
    /// A person's inline policy; absent for a role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
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
    /// Roles (and, on the requestor side, users and groups) read from IAM.
    pub examined: usize,
    pub revoked: Vec<SweptGrant>,
    /// Failed this run; the next run tries again.
    pub failed: Vec<SweptGrant>,
    /// No longer expired when read again (extended since the listing), or not xacct's.
    pub skipped: Vec<SweptGrant>,
    /// Whether the run stopped at its limit, so more expired grants may be left for the
    /// next run.
    pub more: bool,
    /// In an organization's hub: the run in each other active account, by account ID.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberSweep>,
}

/// The run in one member account: its report, or why its spoke could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberSweep {
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<SweepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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

/// A person's xacct inline policy and when it ends, if it has ended at `now`.
struct PersonGrant {
    who: Human,
    arn: String,
    policy_name: String,
    owner: Arn,
    at: Expiry,
}

fn expired_person_grants(person: &ListedHuman, now: i64) -> impl Iterator<Item = PersonGrant> {
    person.inline.iter().filter_map(move |(name, doc)| {
        let owner = xacct_human_grant(name, doc)?;
        let at = Expiry::of_document(doc).filter(|e| e.is_past(now))?;
        Some(PersonGrant {
            who: person.who.clone(),
            arn: person.arn.clone(),
            policy_name: name.clone(),
            owner,
            at,
        })
    })
}

/// An expired grant found by the listing.
enum Expired {
    Role(String, Expiry),
    Person(PersonGrant),
}

/// The expired grants of `side` at `now`, at most `limit`, how many entities were read, and
/// whether more may be left. Only the requestor side reads people.
async fn expired_grants<R: RoleListing>(
    roles: &R,
    side: Side,
    now: i64,
    limit: usize,
) -> Result<(Vec<Expired>, usize, bool), ApiError> {
    let mut found = Vec::new();
    let mut examined = 0;
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (page, next) = roles
            .list_details(marker.as_deref(), side == Side::Requestor)
            .await?;
        examined += page.roles.len() + page.people.len();
        let of_roles = page.roles.iter().filter_map(|role| {
            Some(Expired::Role(
                role.arn.clone(),
                expired_grant(role, side, now)?,
            ))
        });
        let of_people = page
            .people
            .iter()
            .flat_map(|person| expired_person_grants(person, now))
            .map(Expired::Person);
        for grant in of_roles.chain(of_people) {
            if found.len() == limit {
                return Ok((found, examined, true));
            }
            found.push(grant);
        }
        match next {
            Some(m) => marker = Some(m),
            None => return Ok((found, examined, false)),
        }
    }
    Ok((found, examined, true))
}

/// Removes a person's expired xacct policy as `revoke-requestor-resources` does, after
/// reading it again: one no longer xacct's, or extended since the listing, stays.
async fn remove_person_grant<R: HumanStore>(
    store: &R,
    grant: &PersonGrant,
    now: i64,
) -> Result<Removal, ApiError> {
    remove_human_policy_if(
        store,
        &grant.who,
        &grant.policy_name,
        |doc: &PolicyDocument| {
            if !is_xacct_human_policy(&grant.owner, doc) {
                return Err(ApiError::from(HumanError::NotManaged {
                    kind: grant.who.kind(),
                    name: grant.who.name().to_owned(),
                    policy: grant.policy_name.clone(),
                }));
            }
            match Expiry::of_document(doc) {
                Some(e) if e.is_past(now) => Ok(()),
                _ => Err(ApiError::conflict(
                    "policy_name",
                    "NotExpired",
                    format!(
                        "inline policy `{}` of {} `{}` has not expired at {}",
                        grant.policy_name,
                        grant.who.kind(),
                        grant.who.name(),
                        Expiry::from_epoch(now)
                    ),
                )),
            }
        },
    )
    .await
}

/// Revokes the expired grants of `side` at `now`, at most `limit` of them: each through the
/// removal the revoke functions use, after reading the role (or the person's policy) again
/// (a grant extended since the listing is skipped). One grant failing does not stop the
/// others; what failed is tried again by the next run. Only a failure to list fails the run.
pub async fn sweep<R: RoleListing + RoleStore + HumanStore>(
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
        members: Vec::new(),
    };
    for found in expired {
        let (mut grant, result) = match found {
            Expired::Role(role_arn, at) => {
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
                let result = revoke_role(deps, &role_arn, still_expired).await;
                (swept(role_arn, None, at), result)
            }
            Expired::Person(person) => {
                let result = remove_person_grant(&deps.roles, &person, now)
                    .await
                    .map(|r| RevokeResponse {
                        removed: r.removed,
                        changed: r.changed,
                    });
                (
                    swept(person.arn, Some(person.policy_name), person.at),
                    result,
                )
            }
        };
        let principal = grant.principal_arn.as_str();
        let policy = grant.policy_name.as_deref().unwrap_or_default();
        match result {
            Ok(out) => {
                tracing::info!(caller, operation, principal, policy, expires_at = %grant.expires_at, changed = out.changed, removed = ?out.removed, "expired grant revoked");
                grant.removed = out.removed;
                report.revoked.push(grant);
            }
            Err(e) => {
                let skipped = e.failure == Failure::Conflict;
                if skipped {
                    tracing::info!(caller, operation, principal, policy, code = %e.code, "expired grant skipped");
                } else {
                    tracing::warn!(caller, operation, principal, policy, code = %e.code, message = %e.message, "expired grant not revoked; the next run tries again");
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

/// A scheduled run: the deployment's own account and, in an organization's hub, every
/// other active account of the organization through its spoke role,
/// `MemberAccountConcurrency` at a time, each with its own bound of `limit` grants (IAM's
/// limits are per account). A member whose spoke cannot be used, or whose listing fails,
/// is reported in `members` and does not fail the run; only the own account's listing or
/// the organization's does.
pub async fn sweep_all<R, M>(
    hub: &Hub<IamDeps<R>, M>,
    side: Side,
    caller: &str,
    now: i64,
    limit: usize,
) -> Result<SweepReport, ApiError>
where
    R: RoleListing + RoleStore + HumanStore + Sync + 'static,
    M: Members<IamDeps<R>>,
{
    let mut report = sweep(&hub.home, side, caller, now, limit).await?;
    let Some(org) = &hub.organization else {
        return Ok(report);
    };
    let home = hub.account.account().await?;
    let members: Vec<AccountId> = org
        .members
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.is_active() && a.id != home)
        .map(|a| a.id)
        .collect();
    // The futures are made first and the stream only polls them (see list-accounts).
    let runs: Vec<_> = members
        .into_iter()
        .map(|account| in_member(hub, account, side, caller, now, limit))
        .collect();
    report.members = stream::iter(runs)
        .buffer_unordered(org.concurrency.max(1))
        .collect()
        .await;
    report
        .members
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok(report)
}

/// The run in one member account, through its spoke role.
async fn in_member<R, M>(
    hub: &Hub<IamDeps<R>, M>,
    account: AccountId,
    side: Side,
    caller: &str,
    now: i64,
    limit: usize,
) -> MemberSweep
where
    R: RoleListing + RoleStore + HumanStore + Sync + 'static,
    M: Members<IamDeps<R>>,
{
    let result = match hub
        .enter_scope(&Scope::Member(account.clone()), caller)
        .await
    {
        Ok(deps) => sweep(&deps, side, caller, now, limit).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => MemberSweep {
            account_id: account.to_string(),
            report: Some(report),
            code: None,
            message: None,
        },
        Err(e) => {
            tracing::warn!(caller, operation = side.operation(), account = %account, code = %e.code, message = %e.message, "member account not swept; the next run tries again");
            MemberSweep {
                account_id: account.to_string(),
                report: None,
                code: Some(e.code),
                message: Some(e.message),
            }
        }
    }
}

fn swept(principal_arn: String, policy_name: Option<String>, at: Expiry) -> SweptGrant {
    SweptGrant {
        principal_arn,
        policy_name,
        expires_at: at.to_string(),
        removed: Vec::new(),
        code: None,
        message: None,
    }
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
pub async fn handle<R, M>(
    hub: &Hub<IamDeps<R>, M>,
    side: Side,
    limit: usize,
    event: LambdaEvent<SweepEvent>,
) -> Result<SweepReport, ApiError>
where
    R: RoleListing + RoleStore + HumanStore + Sync + 'static,
    M: Members<IamDeps<R>>,
{
    let caller = event
        .payload
        .schedule_arn
        .unwrap_or_else(|| "unknown".to_owned());
    sweep_all(hub, side, &caller, crate::runtime::now_epoch(), limit).await
}

/// The whole `main` of a sweep function (`expire-grants`, `expire-requestor-grants`) once
/// `hub` (its account's IAM, and an owner hub's organization) is built: the bound, read
/// once at start, then one sweep of `side` per scheduled event.
pub async fn serve<M: Members<IamDeps<xacct_aws::iam::IamRoleStore>>>(
    side: Side,
    hub: Hub<IamDeps<xacct_aws::iam::IamRoleStore>, M>,
) -> Result<(), lambda_http::Error> {
    let limit = sweep_limit()?;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(|event: LambdaEvent<SweepEvent>| {
        handle(&hub, side, limit, event)
    }))
    .await
}
