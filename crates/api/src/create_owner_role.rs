//! `create-owner-role`: in the owner account, a role that trusts only the requestor (with an
//! External ID) and grants exactly the chosen actions on exactly the right ARNs. Input is
//! checked completely before any AWS call; repeats change nothing; changes are made in place.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::identity::AccountLookup;
use xacct_aws::resources::{Existence, ResourceDirectory};
use xacct_aws::roles::{
    RoleOutcome, RoleSpec, RoleState, RoleStore, description, ensure_role_converging,
};
use xacct_policy::access_diff::AccessDiff;
use xacct_policy::database::{self, accepts_logins, dbuser_arn, is_connect};
use xacct_policy::deployment::Deployment;
use xacct_policy::expiry::Expiry;
use xacct_policy::grant::{GrantError, GrantOptions, least_privilege_policy};
use xacct_policy::handoff::{
    Access, DbLogin, HandOff, IamResource, SourceCredentials, db_auth_token_command,
};
use xacct_policy::naming::{ROLE_PATH, owner_role_name};
use xacct_policy::permissions::permissions_for;
use xacct_policy::resource_side::{self, ResourceSide, extra_statements, grant_policy};
use xacct_policy::trust::{CrossAccountTrust, TrustError, Widening, require_role_arn, widening};
use xacct_policy::validate::{self, Finding, Severity};
use xacct_policy::{AccountId, Arn, DbUser, ExternalId, OrganizationId, PolicyDocument, RoleName};

use crate::error::{ApiError, Failure};
use crate::handoff::{hand_off, role_access_diff};
use crate::http::serve_json;
use crate::hub::{Hub, Members};
use crate::lifecycle::{OwnerGrant, caller_tag, same_partition, tags};

/// Inline policy name on every owner role.
pub const POLICY_NAME: &str = crate::lifecycle::OWNER_POLICY_NAME;
/// Most actions one request may name.
pub const MAX_ACTIONS: usize = 250;
pub const MIN_SESSION: i64 = 3600;
pub const MAX_SESSION: i64 = 43_200;

/// The request body.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOwnerRoleRequest {
    /// The resource to share, in the owner account (or with no account, as S3 buckets); any
    /// service in the catalog. Blanks around it are ignored.
    pub resource_arn: String,
    #[schema(schema_with = crate::openapi::requested_actions)]
    pub actions: Vec<String>,
    #[schema(value_type = crate::openapi::AccountId)]
    pub requestor_account_id: String,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::requestor_role_arn)]
    pub requestor_role_arn: Option<String>,
    /// Omitted or `null`, one is generated, and a repeat keeps the role's current one.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::ExternalId>)]
    pub external_id: Option<String>,
    /// Require `aws:MultiFactorAuthPresent` in the trust policy.
    #[serde(default)]
    #[schema(default = false)]
    pub require_mfa: bool,
    /// The role's maximum session duration in seconds; `null` or omitted is 3600.
    #[serde(default)]
    #[schema(minimum = 3600, maximum = 43200)]
    pub max_session_duration: Option<i64>,
    /// Omitted or `null`, a name derived from the resource and the requestor.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::RoleName>)]
    pub role_name: Option<String>,
    /// Allow actions at the `Permissions management` access level.
    #[serde(default)]
    #[schema(default = false)]
    pub allow_permissions_management: bool,
    /// Also require `aws:PrincipalOrgID` in the trust policy.
    #[serde(default)]
    #[schema(pattern = "^o-[a-z0-9]{10,32}$")]
    pub principal_org_id: Option<String>,
    /// For an RDS DB instance or cluster: the database user `rds-db:connect` (chosen in
    /// `actions`) logs in as with IAM database authentication; required with it, refused
    /// without it.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    pub db_user: Option<String>,
    /// When the grant ends (RFC 3339 with a zone, such as `2026-12-31T18:00:00Z`): the trust
    /// policy gets `DateLessThan aws:CurrentTime`, so AWS itself refuses to assume the role
    /// afterwards, and the role the tag `xacct:expires-at`. Not in the past, at most the
    /// deployment's maximum (`MaxGrantDays`, default 90 days) away. Omitted, the grant is
    /// permanent.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The same as a duration from now: `7d`, `12h`, `90m`. A repeat with it extends the
    /// grant (a new expiry is asked for); a repeat without an expiry of a grant that has one
    /// drops it, which is a widening (409 `TrustWouldWiden` unless `widen_trust`).
    #[serde(default)]
    #[schema(pattern = "^[0-9]+[dhm]$")]
    pub expires_in: Option<String>,
    /// Allow a repeat to trust more principals than the existing grant: drop or change
    /// `requestor_role_arn`, `require_mfa` or `principal_org_id`, or drop the expiry. Without
    /// it such a repeat is refused with 409 `TrustWouldWiden` and nothing is written.
    #[serde(default)]
    #[schema(default = false)]
    pub widen_trust: bool,
    /// Compute the answer, write nothing.
    #[serde(default)]
    #[schema(default = false)]
    pub dry_run: bool,
    /// The member account to create the grant in (hub only), where the resource is; the
    /// role gets that account's spoke boundary. Omitted, the hub's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::AccountId>)]
    pub account_id: Option<String>,
}

/// The answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateOwnerRoleResponse {
    #[schema(pattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/xacct/[A-Za-z0-9_+=,.@-]{1,64}$")]
    pub role_arn: String,
    #[schema(value_type = crate::openapi::RoleName)]
    pub role_name: String,
    /// IAM's RoleId; `null` for a dry run of a role that does not exist yet.
    #[schema(value_type = Option<crate::openapi::RoleId>, required = true)]
    pub role_id: Option<String>,
    #[schema(value_type = crate::openapi::ExternalId)]
    pub external_id: String,
    #[schema(value_type = crate::openapi::Arn)]
    pub resource_arn: String,
    #[schema(value_type = crate::openapi::AccountId)]
    pub requestor_account_id: String,
    #[schema(value_type = Option<crate::openapi::RoleArn>, required = true)]
    pub requestor_role_arn: Option<String>,
    /// When the grant ends (RFC 3339, UTC); `null` for a permanent grant.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    #[schema(schema_with = crate::openapi::granted_actions)]
    pub actions: Vec<String>,
    pub trust_policy: PolicyDocument,
    pub permissions_policy: PolicyDocument,
    pub findings: Vec<Finding>,
    /// Whether the request changed (or, for a dry run, would change) anything.
    pub changed: bool,
    pub dry_run: bool,
    /// What was (or would be) done, such as `create role`, `put inline policy `xacct-grant``.
    pub changes: Vec<String>,
    /// What the change does to access: pairs granted and revoked, principals and
    /// conditions added and dropped, and whether it widens or narrows.
    pub access_diff: AccessDiff,
    /// What the requestor needs to use the role, and the role as infrastructure code.
    pub handoff: HandOff,
}

/// Makes External IDs; a function so tests can fix them.
pub type ExternalIdSource = Box<dyn Fn() -> ExternalId + Send + Sync>;

/// A cryptographically secure External ID generator (the thread-local ChaCha RNG, seeded
/// from the OS).
pub fn random_external_ids() -> ExternalIdSource {
    Box::new(|| ExternalId::generate(&mut rand::rng()))
}

/// What the handler needs, built once at start-up.
pub struct Deps<R, D> {
    pub roles: R,
    pub resources: D,
    pub account: AccountLookup,
    /// The permissions boundary every created role gets (`PERMISSIONS_BOUNDARY_ARN`).
    pub permissions_boundary: Option<Arn>,
    pub external_ids: ExternalIdSource,
    /// xacct's own deployment, whose resources are never granted.
    pub deployment: Deployment,
    /// The current time, in seconds since the epoch; a function so tests can fix it.
    pub clock: Clock,
    /// The longest a grant may last (`XACCT_MAX_GRANT_DAYS`, default 90).
    pub max_grant_days: u32,
}

/// The current time in seconds since the epoch.
pub type Clock = Box<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Box::new(crate::runtime::now_epoch)
}

/// The maximum when `XACCT_MAX_GRANT_DAYS` is unset.
pub const DEFAULT_MAX_GRANT_DAYS: u32 = 90;

impl<R, D> std::fmt::Debug for Deps<R, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps")
            .field("permissions_boundary", &self.permissions_boundary)
            .finish_non_exhaustive()
    }
}

/// Checked input, ready to build policies from.
struct Input {
    resource: Arn,
    requestor: AccountId,
    requestor_role: Option<Arn>,
    external_id: Option<ExternalId>,
    max_session: i32,
    role_name: Option<RoleName>,
    org: Option<OrganizationId>,
    expires_at: Option<Expiry>,
    /// The resource's own actions chosen (all but `rds-db:connect`).
    resource_actions: Vec<String>,
    /// The database user a login grant (`rds-db:connect`) logs in as.
    db_user: Option<DbUser>,
}

/// The requested expiry, checked against now and the deployment's maximum.
fn expiry(
    body: &CreateOwnerRoleRequest,
    now: i64,
    max_days: u32,
) -> Result<Option<Expiry>, ApiError> {
    let (field, parsed) = match (&body.expires_at, &body.expires_in) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "expires_in",
                "OneExpiry",
                "give expires_at or expires_in, not both",
            ));
        }
        (Some(at), None) => ("expires_at", Expiry::parse(at)),
        (None, Some(d)) => ("expires_in", Expiry::after(now, d)),
    };
    parsed
        .and_then(|e| e.check(now, max_days))
        .map(Some)
        .map_err(|e| ApiError::expiry(field, &e))
}

fn check(body: &CreateOwnerRoleRequest, now: i64, max_days: u32) -> Result<Input, ApiError> {
    let resource: Arn = body
        .resource_arn
        .trim()
        .parse()
        .map_err(|e| ApiError::arn("resource_arn", &e))?;
    if resource.is_pattern() {
        return Err(GrantError::PatternResource(resource.to_string()).into());
    }
    let requestor: AccountId = body
        .requestor_account_id
        .parse()
        .map_err(|e| ApiError::id("requestor_account_id", &e))?;
    let requestor_role = match body.requestor_role_arn.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let arn: Arn = raw
                .parse()
                .map_err(|e| ApiError::arn("requestor_role_arn", &e))?;
            require_role_arn(&arn).map_err(ApiError::from)?;
            Some(arn)
        }
    };
    let external_id =
        ApiError::optional_id::<ExternalId>("external_id", body.external_id.as_deref())?;
    let max_session = body.max_session_duration.unwrap_or(MIN_SESSION);
    if !(MIN_SESSION..=MAX_SESSION).contains(&max_session) {
        return Err(ApiError::invalid(
            "max_session_duration",
            "InvalidMaxSessionDuration",
            format!(
                "max_session_duration must be from {MIN_SESSION} to {MAX_SESSION} seconds, got `{max_session}`"
            ),
        ));
    }
    let role_name = ApiError::optional_id::<RoleName>("role_name", body.role_name.as_deref())?;
    let org = ApiError::optional_id::<OrganizationId>(
        "principal_org_id",
        body.principal_org_id.as_deref(),
    )?;
    if body.actions.len() > MAX_ACTIONS {
        return Err(ApiError::invalid(
            "actions",
            "TooManyActions",
            format!(
                "actions may list at most {MAX_ACTIONS} actions, got {}",
                body.actions.len()
            ),
        ));
    }
    let expires_at = expiry(body, now, max_days)?;
    let (resource_actions, db_user) = login(&resource, body)?;
    Ok(Input {
        resource,
        requestor,
        requestor_role,
        external_id,
        max_session: i32::try_from(max_session).unwrap_or(3600),
        role_name,
        org,
        expires_at,
        resource_actions,
        db_user,
    })
}

/// Splits the database login (`rds-db:connect`, granted on one dbuser ARN) from the
/// resource's own actions, and checks `db_user` goes with it.
fn login(
    resource: &Arn,
    body: &CreateOwnerRoleRequest,
) -> Result<(Vec<String>, Option<DbUser>), ApiError> {
    let user = body.db_user.as_deref().filter(|u| !u.is_empty());
    if !accepts_logins(resource) {
        if user.is_some() {
            return Err(ApiError::invalid(
                "db_user",
                "DbUserNotApplicable",
                format!("db_user applies only to an RDS DB instance or cluster, not `{resource}`"),
            ));
        }
        // `rds-db:connect` on anything else is refused as another service's action.
        return Ok((body.actions.clone(), None));
    }
    let (connect, own): (Vec<&String>, Vec<&String>) =
        body.actions.iter().partition(|a| is_connect(a.trim()));
    let own = own.into_iter().cloned().collect();
    match (connect.is_empty(), user) {
        (true, None) => Ok((own, None)),
        (true, Some(_)) => Err(ApiError::invalid(
            "db_user",
            "DbUserWithoutConnect",
            format!(
                "db_user names the database user `{}` logs in as; add `{}` to actions, or leave db_user out",
                database::CONNECT,
                database::CONNECT
            ),
        )),
        (false, None) => Err(ApiError::invalid(
            "db_user",
            "MissingDbUser",
            format!(
                "`{}` needs db_user, the database user it logs in as with IAM database authentication",
                database::CONNECT
            ),
        )),
        (false, Some(raw)) => {
            let user = raw.parse().map_err(|e| ApiError::id("db_user", &e))?;
            Ok((own, Some(user)))
        }
    }
}

/// The 409 for a repeat that would trust more principals than the grant does, naming the
/// request field behind each widening.
fn refuse_widening(widened: &[Widening]) -> Result<(), ApiError> {
    let Some(first) = widened.first() else {
        return Ok(());
    };
    let field = |w: &Widening| match w.condition_key {
        "aws:PrincipalArn" => "requestor_role_arn",
        "aws:MultiFactorAuthPresent" => "require_mfa",
        "aws:CurrentTime" => "expires_in",
        _ => "principal_org_id",
    };
    let what: Vec<String> = widened
        .iter()
        .map(|w| {
            format!(
                "{} (`{}` from `{}` to `{}`)",
                field(w),
                w.condition_key,
                w.before.join(", "),
                if w.after.is_empty() {
                    "none".to_owned()
                } else {
                    w.after.join(", ")
                }
            )
        })
        .collect();
    Err(ApiError::conflict(
        field(first),
        "TrustWouldWiden",
        format!(
            "this grant's role would trust more principals than it does now: {}; repeat with the narrowing fields, or set widen_trust to true to widen it",
            what.join("; ")
        ),
    ))
}

/// `create-owner-role` as a plain operation: the checked request in, the role as it now is
/// (or would be, on a dry run) out.
pub async fn create_owner_role<R: RoleStore, D: ResourceDirectory>(
    deps: &Deps<R, D>,
    caller: &str,
    body: CreateOwnerRoleRequest,
) -> Result<CreateOwnerRoleResponse, ApiError> {
    let input = check(&body, (deps.clock)(), deps.max_grant_days)?;
    if let Some(what) = deps.deployment.owns(&input.resource) {
        return Err(ApiError::invalid(
            "resource_arn",
            "OwnResource",
            format!(
                "resource_arn `{}` is {what}; xacct never grants access to itself",
                input.resource
            ),
        ));
    }
    let permissions =
        permissions_for(&input.resource).map_err(|e| ApiError::from(e).on("resource_arn"))?;
    let options = GrantOptions {
        allow_permissions_management: body.allow_permissions_management,
    };
    // Every action is checked before any AWS call; a grant may be only the login.
    if !(input.resource_actions.is_empty() && input.db_user.is_some()) {
        least_privilege_policy(&permissions, &input.resource_actions, options)?;
    }
    let (owner, mut findings) = locate(deps, &input, permissions.resource_type()).await?;
    let side = deps
        .resources
        .resource_side(&input.resource, permissions.resource_type())
        .await;
    let dbuser = input
        .db_user
        .as_ref()
        .map(|user| database_user(&input.resource, &side, user))
        .transpose()?;
    let extra = extra_statements(
        &input.resource,
        &side,
        &input.resource_actions,
        dbuser.as_ref(),
    );
    let policy = grant_policy(&permissions, &input.resource_actions, options, extra)?;

    let role_name = input
        .role_name
        .clone()
        .unwrap_or_else(|| owner_role_name(&input.resource, &input.requestor));
    let planned_role = Arn::iam(
        input.resource.partition(),
        &owner,
        "role",
        ROLE_PATH,
        role_name.as_str(),
    )
    .map_err(|e| ApiError::arn("role_name", &e))?;
    let planned_arn = planned_role.to_string();
    let generated = std::sync::OnceLock::new();
    let plan = Plan {
        deps,
        caller,
        body: &body,
        input: &input,
        owner: &owner,
        role_name: &role_name,
        policy: &policy,
        generated: &generated,
    };
    let (spec, outcome) = ensure_role_converging(
        &deps.roles,
        role_name.as_str(),
        &planned_arn,
        body.dry_run,
        |existing| plan.spec(existing),
    )
    .await?;

    findings.extend(validate::permissions_policy(&spec.policy));
    findings.extend(validate::trust_policy(&spec.trust_policy));
    findings.extend(resource_side::findings(
        &input.resource,
        &side,
        &planned_role,
        &spec.policy,
        input.db_user.is_some(),
    ));
    tracing::info!(caller, role = %outcome.arn, resource = %input.resource, requestor = %input.requestor, changed = outcome.changed, dry_run = body.dry_run, writes = ?outcome.writes, "create-owner-role");
    let login = login_command(&input, &side);
    let mut response = answer(&body, input, spec, outcome, findings)?;
    response.handoff.db_auth_token_command = login.map(|(host, port, region, user)| {
        db_auth_token_command(
            &response.handoff.profile_name,
            &DbLogin {
                host: &host,
                port,
                region: &region,
                user: &user,
            },
        )
    });
    Ok(response)
}

/// The dbuser ARN a login grant is made on, from the database's resource ID.
fn database_user(resource: &Arn, side: &ResourceSide, user: &DbUser) -> Result<Arn, ApiError> {
    let facts = side.database.as_ref().ok_or_else(|| {
        ApiError::new(
            Failure::Upstream,
            "DatabaseNotRead",
            format!(
                "xacct cannot read the resource ID of `{resource}` ({}), which the `{}` grant is made on",
                side.unread.join(", "),
                database::CONNECT
            ),
        )
    })?;
    dbuser_arn(resource, &facts.resource_id, user).ok_or_else(|| {
        ApiError::new(
            Failure::Upstream,
            "InvalidResourceId",
            format!(
                "`{resource}` has resource ID `{}`, which names no dbuser",
                facts.resource_id
            ),
        )
    })
}

/// Host, port, region and user of a login grant, when AWS reports the endpoint.
fn login_command(input: &Input, side: &ResourceSide) -> Option<(String, i32, String, DbUser)> {
    let user = input.db_user.clone()?;
    let db = side.database.as_ref()?;
    Some((
        db.endpoint.clone()?,
        db.port?,
        input.resource.region().to_owned(),
        user,
    ))
}

/// Where the grant lands: the owner account, with the resource checked to be in it, in this
/// partition, in an enabled region, and there. A resource xacct cannot check is a finding.
async fn locate<R, D: ResourceDirectory>(
    deps: &Deps<R, D>,
    input: &Input,
    resource_type: &str,
) -> Result<(AccountId, Vec<Finding>), ApiError> {
    let owner = deps.account.account().await?;
    let partition = deps.account.partition().await?;
    same_partition("resource_arn", &input.resource, partition)?;
    if let Some(role) = &input.requestor_role {
        same_partition("requestor_role_arn", role, partition)?;
    }
    if !input.resource.account().is_empty() && input.resource.account() != owner.as_str() {
        return Err(ApiError::invalid(
            "resource_arn",
            "ResourceInOtherAccount",
            format!(
                "resource_arn `{}` is in account `{}`, not this owner account `{owner}`",
                input.resource,
                input.resource.account()
            ),
        ));
    }
    if input.requestor == owner {
        return Err(TrustError::SameAccount(owner.to_string()).into());
    }
    // Before any call to the resource's region: one that does not exist or is not enabled
    // would otherwise wait on an endpoint that is not there.
    let region = input.resource.region();
    if !region.is_empty() && !deps.resources.region_enabled(region).await? {
        return Err(ApiError::invalid(
            "resource_arn",
            "RegionNotEnabled",
            format!(
                "resource_arn `{}` is in region `{region}`, which does not exist or is not enabled in account `{owner}`",
                input.resource
            ),
        ));
    }
    let mut findings = Vec::new();
    match deps
        .resources
        .exists(&input.resource, resource_type, &owner)
        .await?
    {
        Existence::Exists => {}
        Existence::Missing => {
            return Err(ApiError::new(
                Failure::NotFound,
                "ResourceNotFound",
                format!(
                    "resource_arn `{}` does not exist in account `{owner}`",
                    input.resource
                ),
            )
            .on("resource_arn"));
        }
        Existence::NotChecked => findings.push(Finding {
            severity: Severity::Warning,
            code: "RESOURCE_NOT_VERIFIED".into(),
            message: format!(
                "xacct cannot check that `{}` exists; the role is created anyway",
                input.resource
            ),
            statement: None,
        }),
    }
    Ok((owner, findings))
}

/// Everything the role's spec is built from; the spec itself depends on the role as it
/// exists (its External ID, its trust, its creator are kept).
struct Plan<'a, R, D> {
    deps: &'a Deps<R, D>,
    caller: &'a str,
    body: &'a CreateOwnerRoleRequest,
    input: &'a Input,
    owner: &'a AccountId,
    role_name: &'a RoleName,
    policy: &'a PolicyDocument,
    /// The External ID generated for a new role, once per request.
    generated: &'a std::sync::OnceLock<ExternalId>,
}

impl<R, D> Plan<'_, R, D> {
    fn spec(&self, existing: Option<&RoleState>) -> Result<RoleSpec, ApiError> {
        let (input, body) = (self.input, self.body);
        // Keep the External ID a role already has unless the caller names a new one, so a
        // repeated request changes nothing.
        let kept = existing
            .and_then(|r| r.external_id())
            .and_then(|e| e.parse::<ExternalId>().ok());
        let external_id = match (&input.external_id, kept) {
            (Some(given), _) => given.clone(),
            (None, Some(kept)) => kept,
            (None, None) => self
                .generated
                .get_or_init(|| (self.deps.external_ids)())
                .clone(),
        };
        let trust = CrossAccountTrust {
            partition: input.resource.partition(),
            requestor_account: input.requestor.clone(),
            requestor_role: input.requestor_role.clone(),
            external_id,
            require_mfa: body.require_mfa,
            principal_org_id: input.org.clone(),
            expires_at: input.expires_at,
        };
        trust.check(self.owner)?;
        let trust_policy = trust.document();
        // Only a grant xacct manages has a trust to keep; another role is refused as
        // not xacct's by the role writer.
        if let Some(before) = existing
            .filter(|r| r.is_managed())
            .and_then(|r| r.trust_policy.as_ref())
            && !body.widen_trust
        {
            // A new expiry the request names is asked for (extending a grant); dropping
            // the expiry, or any other widening, must be said with widen_trust.
            let widened: Vec<Widening> = widening(before, &trust_policy)
                .into_iter()
                .filter(|w| !(w.condition_key == "aws:CurrentTime" && input.expires_at.is_some()))
                .collect();
            refuse_widening(&widened)?;
        }
        let mut tags = OwnerGrant {
            resource: input.resource.clone(),
            requestor: input.requestor.clone(),
            requestor_role: input.requestor_role.clone(),
            require_mfa: body.require_mfa,
            org: input.org.clone(),
            expires_at: input.expires_at,
            db_user: input.db_user.clone(),
        }
        .tags();
        // Who created the grant stays as first written, so a repeat by someone else is
        // still no write.
        let created_by = existing
            .and_then(|r| r.tags.get(tags::CREATED_BY).cloned())
            .unwrap_or_else(|| caller_tag(self.caller));
        tags.insert(tags::CREATED_BY.to_owned(), created_by);
        Ok(RoleSpec {
            name: self.role_name.clone(),
            path: ROLE_PATH.to_owned(),
            // Nothing here depends on the actions, so changing them is a single write.
            description: description(&format!(
                "xacct grant on {} for account {}",
                input.resource, input.requestor
            )),
            trust_policy,
            policy_name: POLICY_NAME.to_owned(),
            policy: self.policy.clone(),
            max_session_duration: input.max_session,
            tags,
            identity_tags: vec![tags::RESOURCE.to_owned(), tags::REQUESTOR.to_owned()],
            permissions_boundary: self.deps.permissions_boundary.clone(),
            instance_profile: false,
        })
    }
}

/// The answer: the role as written, its documents, the findings and the hand-off.
fn answer(
    body: &CreateOwnerRoleRequest,
    input: Input,
    spec: RoleSpec,
    outcome: RoleOutcome,
    findings: Vec<Finding>,
) -> Result<CreateOwnerRoleResponse, ApiError> {
    let external_id = xacct_policy::trust::external_id(&spec.trust_policy)
        .unwrap_or_default()
        .to_owned();
    let mut actions: Vec<String> = spec
        .policy
        .statements
        .iter()
        .flat_map(|s| s.action.iter().flatten().cloned())
        .collect();
    actions.sort();
    actions.dedup();
    let role_arn: Arn = outcome
        .arn
        .parse()
        .map_err(|e| ApiError::arn("role_name", &e))?;
    let access_diff = role_access_diff(outcome.previous.as_ref(), &spec);
    let notes = if body.require_mfa {
        vec![
            "add mfa_serial (your MFA device's ARN) to the profile: the role requires MFA"
                .to_owned(),
        ]
    } else {
        Vec::new()
    };
    let handoff = hand_off(
        &Access {
            role_arn,
            external_id: Some(external_id.clone()),
            duration_seconds: input.max_session,
            mfa_serial: None,
            source: Some(SourceCredentials::Profile("default".to_owned())),
            expires_at: input.expires_at,
        },
        true,
        &spec.description,
        &[IamResource::Role(Box::new(spec.clone()))],
        notes,
    );
    Ok(CreateOwnerRoleResponse {
        role_arn: outcome.arn,
        role_name: spec.name.to_string(),
        role_id: outcome.role_id,
        external_id,
        resource_arn: input.resource.to_string(),
        requestor_account_id: input.requestor.to_string(),
        requestor_role_arn: input.requestor_role.map(|a| a.to_string()),
        expires_at: input.expires_at.map(|e| e.to_string()),
        actions,
        trust_policy: spec.trust_policy,
        permissions_policy: spec.policy,
        findings,
        changed: outcome.changed,
        dry_run: body.dry_run,
        changes: outcome.changes,
        access_diff,
        handoff,
    })
}

/// The Lambda handler.
pub async fn handle<
    R: RoleStore + 'static,
    D: ResourceDirectory + 'static,
    M: Members<Deps<R, D>>,
>(
    hub: &Hub<Deps<R, D>, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(serve_json(
        req,
        "create-owner-role",
        |caller, body: CreateOwnerRoleRequest| async move {
            let deps = hub.enter(body.account_id.as_deref(), &caller).await?;
            create_owner_role(&deps, &caller, body).await
        },
    )
    .await)
}
