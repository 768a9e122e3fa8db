//! The owner side of a grant after creation: `list-grants` (every grant xacct manages),
//! `check-owner-role` (does it work, what may it do, has it drifted) and `revoke-grant`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::roles::{ListedRole, RoleListing, RoleState, RoleStore, remove_role};
use xacct_policy::check::{ActionCheck, AssumeCase};
use xacct_policy::drift::{Drift, allowed_actions};
use xacct_policy::expiry::Expiry;
use xacct_policy::naming::ROLE_PATH;
use xacct_policy::{AccountId, Arn, PolicyDocument};
// What `check-owner-role` needs besides: it reads the resource's side, so it is built with
// the owner's resource clients.
#[cfg(feature = "owner")]
use {
    crate::http::request_epoch,
    crate::lifecycle::role_not_found,
    xacct_aws::resources::ResourceDirectory,
    xacct_aws::roles::read_role_policies,
    xacct_policy::ExternalId,
    xacct_policy::check::{AssumeCall, action_checks, assume_cases},
    xacct_policy::eval::{Decision, Labeled},
    xacct_policy::owner_grant::LiveRole,
    xacct_policy::permissions::permissions_for,
    xacct_policy::resource_side::side_checks,
};

use crate::error::{ApiError, Failure};
use crate::http::{serve_json, serve_query};
use crate::hub::{Hub, Members};
use crate::lifecycle::OWNER_POLICY_NAME as POLICY_NAME;
use crate::lifecycle::{IamDeps, OwnerGrant, is_xacct_role, not_managed, role_here};

/// One grant as `list-grants` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(description = "One grant, as its owner role and the role's tags record it.")]
pub struct Grant {
    #[schema(pattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/xacct/[A-Za-z0-9_+=,.@-]{1,64}$")]
    pub role_arn: String,
    #[schema(value_type = crate::openapi::RoleName)]
    pub role_name: String,
    #[schema(value_type = crate::openapi::Arn)]
    pub resource_arn: String,
    #[schema(value_type = crate::openapi::AccountId)]
    pub requestor_account_id: String,
    /// The requestor role the trust policy names; `null` when any principal the requestor
    /// account allows may assume the role.
    #[schema(value_type = Option<crate::openapi::RoleArn>, required = true)]
    pub requestor_role_arn: Option<String>,
    #[schema(schema_with = crate::openapi::live_actions)]
    pub actions: Vec<String>,
    /// The External ID the live trust policy requires; `null` when it requires none.
    #[schema(required = true)]
    pub external_id: Option<String>,
    pub require_mfa: bool,
    /// When the grant ends (RFC 3339, UTC), as its trust policy's `DateLessThan
    /// aws:CurrentTime` enforces it; `null` for a permanent grant.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    /// Whether the grant has ended (AWS refuses every `sts:AssumeRole` on its role).
    pub expired: bool,
    /// When IAM created the role (RFC 3339).
    #[schema(required = true)]
    pub created: Option<String>,
    /// When the role was last assumed (IAM's `RoleLastUsed`, RFC 3339); `null` when never.
    #[schema(required = true)]
    pub last_used: Option<String>,
}

/// The `list-grants` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListGrantsResponse {
    #[schema(max_items = 1000)]
    pub grants: Vec<Grant>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true, pattern = "^[A-Za-z0-9_-]+$")]
    pub next_cursor: Option<String>,
}

fn grant_view(role: &ListedRole, grant: &OwnerGrant, now: i64) -> Grant {
    Grant {
        role_arn: role.arn.clone(),
        role_name: role.name.clone(),
        resource_arn: grant.resource.to_string(),
        requestor_account_id: grant.requestor.to_string(),
        requestor_role_arn: grant.requestor_role.as_ref().map(ToString::to_string),
        actions: role
            .inline
            .get(POLICY_NAME)
            .map(allowed_actions)
            .unwrap_or_default(),
        external_id: role.external_id().map(str::to_owned),
        require_mfa: grant.require_mfa,
        expires_at: grant.expires_at.map(|e| e.to_string()),
        expired: grant.expires_at.is_some_and(|e| e.is_past(now)),
        created: role.created.clone(),
        last_used: role.last_used.clone(),
    }
}

/// `list-grants`' filters on when grants end.
#[derive(Debug, Clone, Copy, Default)]
struct ExpiryFilter {
    /// Only grants that have (`true`) or have not (`false`) ended.
    expired: Option<bool>,
    /// Only grants that end before this instant.
    ends_before: Option<Expiry>,
}

impl ExpiryFilter {
    fn parse(expired: Option<&str>, within: Option<&str>, now: i64) -> Result<Self, ApiError> {
        let expired = expired
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(ApiError::invalid(
                    "expired",
                    "InvalidExpired",
                    format!(
                        "expired must be `true` or `false`, got `{}`",
                        crate::error::shorten(other)
                    ),
                )),
            })
            .transpose()?;
        let ends_before = within
            .map(|d| Expiry::after(now, d).map_err(|e| ApiError::expiry("expiring_within", &e)))
            .transpose()?;
        Ok(Self {
            expired,
            ends_before,
        })
    }

    fn admits(self, expires_at: Option<Expiry>, now: i64) -> bool {
        let ended = expires_at.is_some_and(|e| e.is_past(now));
        self.expired.is_none_or(|want| want == ended)
            && self
                .ends_before
                .is_none_or(|limit| expires_at.is_some_and(|e| e <= limit))
    }
}

/// Marks xacct's cursors, so a made-up one is refused before it reaches IAM.
const CURSOR_PREFIX: &str = "xacct-grants:";

/// The query parameters `list-grants` takes.
pub const LIST_GRANTS_PARAMETERS: &[&str] = &[
    "resource_arn",
    "requestor_account_id",
    "expired",
    "expiring_within",
    "cursor",
    "account_id",
];

/// One page of grants: the filters and cursor from the query in, the grants out.
pub async fn list_grants_page<R: RoleListing>(
    deps: &IamDeps<R>,
    caller: &str,
    q: BTreeMap<String, Vec<String>>,
) -> Result<ListGrantsResponse, ApiError> {
    let first = |k: &str| q.get(k).and_then(|v| v.first()).map(String::as_str);
    let now = crate::runtime::now_epoch();
    let expiry = ExpiryFilter::parse(first("expired"), first("expiring_within"), now)?;
    let resource: Option<Arn> = first("resource_arn")
        .map(|raw| {
            raw.trim()
                .parse()
                .map_err(|e| ApiError::arn("resource_arn", &e))
        })
        .transpose()?;
    let requestor: Option<AccountId> = first("requestor_account_id")
        .map(|raw| {
            raw.parse()
                .map_err(|e| ApiError::id("requestor_account_id", &e))
        })
        .transpose()?;
    let marker = first("cursor")
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|m| m.strip_prefix(CURSOR_PREFIX).map(str::to_owned))
                // IAM's marker rule: 1 to 320 printable characters.
                .filter(|m| {
                    !m.is_empty()
                        && m.len() <= 320
                        && m.chars().all(|c| (' '..='\u{ff}').contains(&c))
                })
                .ok_or_else(|| {
                    ApiError::invalid(
                        "cursor",
                        "InvalidCursor",
                        "cursor must be a next_cursor value from an earlier answer",
                    )
                })
        })
        .transpose()?;

    // One GetAccountAuthorizationDetails page holds every role of it with tags, inline
    // policies and last use: no read per role.
    let (roles, next) = deps.roles.list_role_details(marker.as_deref()).await?;
    let grants: Vec<Grant> = roles
        .iter()
        .filter(|role| role.is_managed() && role.path == ROLE_PATH)
        .filter_map(|role| Some((role, OwnerGrant::from_tags(&role.tags)?)))
        .filter(|(_, grant)| {
            resource.as_ref().is_none_or(|r| &grant.resource == r)
                && requestor.as_ref().is_none_or(|a| &grant.requestor == a)
                && expiry.admits(grant.expires_at, now)
        })
        .map(|(role, grant)| grant_view(role, &grant, now))
        .collect();
    tracing::info!(
        caller,
        grants = grants.len(),
        more = next.is_some(),
        "list-grants"
    );
    Ok(ListGrantsResponse {
        grants,
        next_cursor: next.map(|m| URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{m}"))),
    })
}

/// `list-grants`: every owner role xacct manages, one IAM page (up to 100 roles) per answer;
/// an answer may hold fewer grants than roles read, or none, and still have a `next_cursor`.
/// With `account_id`, those of that account.
pub async fn list_grants<R: RoleListing + 'static, M: Members<IamDeps<R>>>(
    hub: &Hub<IamDeps<R>, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(serve_query(
        req,
        "list-grants",
        LIST_GRANTS_PARAMETERS,
        |caller, q| async move {
            let account = q.get("account_id").and_then(|v| v.first());
            let deps = hub.enter(account.map(String::as_str), &caller).await?;
            list_grants_page(&deps, &caller, q).await
        },
    )
    .await)
}

/// The `check-owner-role` request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOwnerRoleRequest {
    /// The grant's role, in this account. Blanks around it are ignored.
    #[schema(value_type = crate::openapi::RoleArn)]
    pub role_arn: String,
    /// Who would call `sts:AssumeRole`: a role, user, role session
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or the root of an account;
    /// any ARN that names an account. Blanks around it are ignored.
    #[schema(pattern = "^arn:aws(-[a-z]+)*:(iam|sts)::[0-9]{12}:[!-~]+$")]
    pub principal_arn: String,
    /// The External ID the caller presents; omitted or `null`, none.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::ExternalId>)]
    pub external_id: Option<String>,
    /// Whether the caller signed in with MFA (`aws:MultiFactorAuthPresent`).
    #[serde(default)]
    #[schema(default = false)]
    pub mfa: bool,
    /// The member account the role is in (hub only); omitted, the hub's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::AccountId>)]
    pub account_id: Option<String>,
}

/// The `check-owner-role` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckOwnerRoleResponse {
    #[schema(pattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/xacct/[A-Za-z0-9_+=,.@-]{1,64}$")]
    pub role_arn: String,
    #[schema(value_type = crate::openapi::Arn)]
    pub resource_arn: String,
    #[schema(value_type = crate::openapi::AccountId)]
    pub requestor_account_id: String,
    /// Whether the call as given is allowed (the first of `assume_checks`).
    pub can_assume: bool,
    /// When the grant ends (RFC 3339, UTC); `null` for a permanent grant.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    /// Whether the call is refused only because the grant has ended: the trust's
    /// `aws:CurrentTime` condition, evaluated at the time of the request, decides it.
    pub expired: bool,
    pub reason: String,
    #[schema(required = true)]
    pub statement: Option<String>,
    /// The call as given first; then, when the trust policy requires an External ID, the
    /// call without one and with a wrong one.
    #[schema(min_items = 1, max_items = 3)]
    pub assume_checks: Vec<AssumeCase>,
    /// Every action the catalog has for the resource, on every ARN it needs.
    pub actions: Vec<ActionCheck>,
    #[schema(schema_with = crate::openapi::allowed_actions)]
    pub allowed_actions: Vec<String>,
    pub drift: Vec<Drift>,
    /// The live trust policy; `null` when IAM returned none that could be read.
    #[schema(required = true)]
    pub trust_policy: Option<PolicyDocument>,
    #[schema(schema_with = crate::openapi::role_policies)]
    pub permissions_policies: std::collections::BTreeMap<String, PolicyDocument>,
}

/// Whether a grant works and has drifted: the role, the caller and the time (`now`, seconds
/// since the epoch) to evaluate at in, the verdict out, with the resource's side (bucket key
/// and policy, function policy, database login) in each action's verdict. Reads only.
#[cfg(feature = "owner")]
pub async fn check_grant<R: RoleStore, D: ResourceDirectory>(
    deps: &IamDeps<R>,
    resources: &D,
    caller: &str,
    now: i64,
    body: CheckOwnerRoleRequest,
) -> Result<CheckOwnerRoleResponse, ApiError> {
    let principal: Arn = body
        .principal_arn
        .trim()
        .parse()
        .map_err(|e| ApiError::arn("principal_arn", &e))?;
    if principal.account_id().is_none() {
        return Err(ApiError::invalid(
            "principal_arn",
            "InvalidPrincipalArn",
            format!("principal_arn `{principal}` must name a role, user or session of an account"),
        ));
    }
    let external_id =
        ApiError::optional_id::<ExternalId>("external_id", body.external_id.as_deref())?;
    let account = deps.account.account().await?;
    let partition = deps.account.partition().await?;
    let (role_arn, name) = role_here("role_arn", &body.role_arn, &account, partition)?;
    let state = deps
        .roles
        .get_role(&name)
        .await?
        .ok_or_else(|| role_not_found("role_arn", &role_arn))?;
    if !is_xacct_role(&state) {
        return Err(not_managed("role_arn", &role_arn));
    }
    let grant = OwnerGrant::from_tags(&state.tags).ok_or_else(|| not_a_grant(&role_arn))?;
    let live = read_role_policies(&deps.roles, &state).await?;
    let live_role: Arn = state.arn.parse().unwrap_or(role_arn);
    let empty = PolicyDocument::new(Vec::new());
    let trust = state.trust_policy.clone().unwrap_or_else(|| empty.clone());
    // The request's time, as AWS sees it: an expired grant's trust refuses the call.
    let now = Expiry::from_epoch(now).to_string();
    let call = AssumeCall {
        role_arn: &live_role,
        trust_policy: &trust,
        principal: &principal,
        external_id: external_id.as_ref().map(ExternalId::as_str),
        mfa: body.mfa,
        requestor_policies: &[],
        current_time: Some(&now),
    };
    let cases = assume_cases(&call);
    let expired = xacct_policy::check::expired(&call);
    let permissions =
        permissions_for(&grant.resource).map_err(|e| ApiError::from(e).on("role_arn"))?;
    let attached: Vec<(String, &PolicyDocument)> = live
        .attached
        .iter()
        .map(|(arn, doc)| {
            (
                format!("managed policy {arn}"),
                doc.as_ref().unwrap_or(&empty),
            )
        })
        .collect();
    let mut identity: Vec<Labeled<'_>> = live
        .inline
        .iter()
        .map(|(label, document)| Labeled { label, document })
        .collect();
    identity.extend(
        attached
            .iter()
            .map(|(label, document)| Labeled { label, document }),
    );
    // A boundary that cannot be read allows nothing, as in AWS.
    let boundary_doc = state
        .permissions_boundary
        .as_ref()
        .map(|_| live.boundary.clone().unwrap_or_else(|| empty.clone()));
    let boundary = boundary_doc.as_ref().map(|document| Labeled {
        label: "permissions boundary",
        document,
    });
    let mut actions = action_checks(&live_role, &identity, boundary, &permissions);
    let side = resources
        .resource_side(&grant.resource, permissions.resource_type())
        .await;
    let dbuser = grant.dbuser(&side);
    side_checks(
        &grant.resource,
        &side,
        &live_role,
        &identity,
        &mut actions,
        dbuser.as_ref(),
    );
    let mut allowed_names: Vec<String> = actions
        .iter()
        .filter(|a| a.decision == Decision::Allow)
        .map(|a| a.action.clone())
        .collect();
    allowed_names.dedup();
    let attached: Vec<String> = live.attached.iter().map(|(arn, _)| arn.clone()).collect();
    let drift = grant.drift(
        &LiveRole {
            trust_policy: state.trust_policy.as_ref(),
            inline: &live.inline,
            attached: &attached,
            permissions_boundary: state.permissions_boundary.as_deref(),
        },
        &permissions,
        &side,
        deps.permissions_boundary.as_ref(),
    );
    let (can_assume, reason, statement) = cases
        .first()
        .map(|c| {
            (
                c.decision == Decision::Allow,
                c.reason.clone(),
                c.statement.clone(),
            )
        })
        .unwrap_or_default();
    tracing::info!(caller, role = %state.arn, can_assume, expired, drift = drift.len(), "check-owner-role");
    Ok(CheckOwnerRoleResponse {
        role_arn: state.arn.clone(),
        resource_arn: grant.resource.to_string(),
        requestor_account_id: grant.requestor.to_string(),
        can_assume,
        expires_at: grant.expires_at.map(|e| e.to_string()),
        expired,
        reason,
        statement,
        assume_checks: cases,
        actions,
        allowed_actions: allowed_names,
        drift,
        trust_policy: state.trust_policy.clone(),
        permissions_policies: live.inline.clone(),
    })
}

fn not_a_grant(role: &impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Failure::Conflict,
        "NotAGrant",
        format!("role_arn `{role}` is an xacct role but not an owner grant (it records no resource and requestor)"),
    )
    .on("role_arn")
}

/// What `check-owner-role` reads through: IAM, and the resource's side.
#[cfg(feature = "owner")]
#[derive(Debug)]
pub struct CheckDeps<R, D> {
    pub iam: IamDeps<R>,
    pub resources: D,
}

/// `check-owner-role`: reads the live role and evaluates it at the time the Function URL
/// received the request; changes nothing.
#[cfg(feature = "owner")]
pub async fn check_owner_role<
    R: RoleStore + 'static,
    D: ResourceDirectory + 'static,
    M: Members<CheckDeps<R, D>>,
>(
    hub: &Hub<CheckDeps<R, D>, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    let now = request_epoch(&req).unwrap_or_else(crate::runtime::now_epoch);
    Ok(serve_json(
        req,
        "check-owner-role",
        |caller, body: CheckOwnerRoleRequest| async move {
            let deps = hub.enter(body.account_id.as_deref(), &caller).await?;
            check_grant(&deps.iam, &deps.resources, &caller, now, body).await
        },
    )
    .await)
}

/// The `revoke-grant` and `revoke-requestor-resources` request for a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRoleRequest {
    /// The role to delete, in this account. Blanks around it are ignored.
    #[schema(value_type = crate::openapi::RoleArn)]
    pub role_arn: String,
    /// The member account the role is in (hub only); omitted, the hub's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::AccountId>)]
    pub account_id: Option<String>,
}

/// What a revoke removed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokeResponse {
    /// What was deleted, in order, such as ``inline policy `xacct-grant` ``, ``instance
    /// profile `arn:...` ``, ``role `arn:...` ``; empty when it was already gone.
    pub removed: Vec<String>,
    /// Whether anything was deleted.
    pub changed: bool,
}

/// Revokes an xacct role of this account that `is_kind` accepts: 200 with what was removed,
/// 200 with `changed: false` when it is already gone, 409 when xacct does not manage it.
pub(crate) async fn revoke_role<R: RoleStore>(
    deps: &IamDeps<R>,
    role_arn: &str,
    is_kind: impl Fn(&RoleState) -> Result<(), ApiError>,
) -> Result<RevokeResponse, ApiError> {
    let account = deps.account.account().await?;
    let partition = deps.account.partition().await?;
    let (arn, name) = role_here("role_arn", role_arn, &account, partition)?;
    if let Some(state) = deps.roles.get_role(&name).await? {
        if !is_xacct_role(&state) {
            return Err(not_managed("role_arn", &arn));
        }
        is_kind(&state)?;
    }
    let removal = remove_role(&deps.roles, &name).await.map_err(|e| match e {
        xacct_aws::roles::RoleError::NotManaged { .. } => not_managed("role_arn", &arn),
        other => ApiError::from(other),
    })?;
    Ok(RevokeResponse {
        removed: removal.removed,
        changed: removal.changed,
    })
}

/// Refuses a role that is xacct's but not an owner grant.
pub(crate) fn owner_grant_role(state: &RoleState) -> Result<(), ApiError> {
    OwnerGrant::from_tags(&state.tags)
        .map(|_| ())
        .ok_or_else(|| not_a_grant(&state.arn))
}

/// Revokes an owner grant: its role in, what was removed out.
pub async fn revoke_owner_grant<R: RoleStore>(
    deps: &IamDeps<R>,
    caller: &str,
    body: RevokeRoleRequest,
) -> Result<RevokeResponse, ApiError> {
    let out = revoke_role(deps, &body.role_arn, owner_grant_role).await?;
    tracing::info!(caller, role = %body.role_arn, changed = out.changed, removed = ?out.removed, "revoke-grant");
    Ok(out)
}

/// `revoke-grant`: deletes an owner grant's role and policies.
pub async fn revoke_grant<R: RoleStore + 'static, M: Members<IamDeps<R>>>(
    hub: &Hub<IamDeps<R>, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(serve_json(
        req,
        "revoke-grant",
        |caller, body: RevokeRoleRequest| async move {
            let deps = hub.enter(body.account_id.as_deref(), &caller).await?;
            revoke_owner_grant(&deps, &caller, body).await
        },
    )
    .await)
}
