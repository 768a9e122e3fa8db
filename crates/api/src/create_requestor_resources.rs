//! `create-requestor-resources`: in the requestor account, either a role that one AWS
//! service may assume and whose only permission is `sts:AssumeRole` on the owner role (for
//! EC2 also an instance profile holding it), or, for people, an inline policy allowing the
//! same on an existing IAM group or user, optionally only with MFA.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::humans::{Human, HumanStore, ensure_human_policy};
use xacct_aws::roles::{
    MANAGED_TAG, RoleSpec, RoleStore, description, ensure_role_converging, tag_value,
};
use xacct_policy::access_diff::{AccessDiff, RoleAccess};
use xacct_policy::expiry::{Expiry, ExpiryError};
use xacct_policy::handoff::{Access, HandOff, IamResource, SourceCredentials};
use xacct_policy::naming::{ROLE_PATH, human_policy_name, requestor_role_name};
use xacct_policy::trust::{assume_owner_role_policy, human_assume_policy, service_trust};
use xacct_policy::validate::{self, Finding};
use xacct_policy::{AccountId, Arn, ExternalId, PolicyDocument, RoleName, ServicePrincipal};

use crate::error::ApiError;
use crate::handoff::{hand_off, role_access_diff};
use crate::http::serve_json;
use crate::lifecycle::{IamDeps, require_xacct_role, role_arn, same_partition, tags};
use crate::requestor_lifecycle::{human_name, is_xacct_human_policy};

/// Inline policy name on every requestor role.
pub const POLICY_NAME: &str = "xacct-assume-owner-role";

/// The request body: exactly one of `service_principal`, `group_name`, `user_name`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Exactly one of `service_principal`, `group_name` and `user_name` (a `null` one \
        counts as absent); `require_mfa` only for people, `role_name` only for a service."
)]
pub struct CreateRequestorRequest {
    /// The owner role to assume, in another account. Blanks around it are ignored.
    #[schema(value_type = crate::openapi::RoleArn)]
    pub owner_role_arn: String,
    /// The service that will run as the new role; blanks around it are ignored.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::AllowedServicePrincipal>)]
    pub service_principal: Option<String>,
    /// An existing IAM group of this account; its members get access.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::GroupName>)]
    pub group_name: Option<String>,
    /// An existing IAM user of this account, who gets access.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::UserName>)]
    pub user_name: Option<String>,
    /// People only. Allow the call only from an MFA-signed session
    /// (`aws:MultiFactorAuthPresent`).
    #[serde(default)]
    #[schema(default = false)]
    pub require_mfa: bool,
    /// Checked and echoed, and written into the hand-off.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::ExternalId>)]
    pub external_id: Option<String>,
    /// A service only. Omitted or `null`, a name derived from the owner role and the
    /// principal.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::RoleName>)]
    pub role_name: Option<String>,
    /// Service roles only: when the owner's grant ends (its `expires_at`, RFC 3339). It is
    /// recorded in the role's `xacct:expires-at` tag, and this side's `expire-requestor-grants`
    /// removes the role afterwards.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    #[schema(default = false)]
    pub dry_run: bool,
}

/// Who on the requestor side may assume the owner role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    Service,
    Group,
    User,
}

impl From<&Human> for PrincipalType {
    fn from(human: &Human) -> Self {
        match human {
            Human::Group(_) => Self::Group,
            Human::User(_) => Self::User,
        }
    }
}

/// The answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(
    description = "For a service, the role (`principal_type: service`); for people, the policy \
        on the group or user (`principal_type: group` or `user`), with no role."
)]
pub struct CreateRequestorResponse {
    #[schema(inline)]
    pub principal_type: PrincipalType,
    /// The role (for a service), or the group or user.
    #[schema(value_type = crate::openapi::IamPrincipalArn)]
    pub principal_arn: String,
    /// The role, for a service; `null` for people.
    #[schema(
        required = true,
        pattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/xacct/[A-Za-z0-9_+=,.@-]{1,64}$"
    )]
    pub role_arn: Option<String>,
    #[schema(value_type = Option<crate::openapi::RoleName>, required = true)]
    pub role_name: Option<String>,
    /// IAM's RoleId; `null` for people, and for a dry run of a role that does not exist yet.
    #[schema(value_type = Option<crate::openapi::RoleId>, required = true)]
    pub role_id: Option<String>,
    #[schema(value_type = crate::openapi::RoleArn)]
    pub owner_role_arn: String,
    #[schema(value_type = Option<crate::openapi::AllowedServicePrincipal>, required = true)]
    pub service_principal: Option<String>,
    #[schema(value_type = Option<crate::openapi::GroupName>, required = true)]
    pub group_name: Option<String>,
    #[schema(value_type = Option<crate::openapi::UserName>, required = true)]
    pub user_name: Option<String>,
    /// The request's `external_id`, or `null`.
    #[schema(value_type = Option<crate::openapi::ExternalId>, required = true)]
    pub external_id: Option<String>,
    /// When the role is removed by the requestor side's sweep (RFC 3339, UTC); `null` for
    /// never, and for people.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    /// The inline policy: `xacct-assume-owner-role` on a role,
    /// `xacct-assume-<owner account>-<owner role name>` (at most 128 characters) on a group
    /// or user.
    #[schema(max_length = 128, pattern = "^xacct-assume-[A-Za-z0-9_+=,.@-]+$")]
    pub policy_name: String,
    pub policy: PolicyDocument,
    /// The role's trust policy; `null` for people.
    #[schema(required = true)]
    pub trust_policy: Option<PolicyDocument>,
    /// Only for `ec2.amazonaws.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        value_type = String,
        required = false,
        pattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:instance-profile/xacct/[A-Za-z0-9_+=,.@-]{1,64}$"
    )]
    pub instance_profile_arn: Option<String>,
    /// Only for people, as `handoff.switch_role_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::SwitchRoleUrl, required = false)]
    pub switch_role_url: Option<String>,
    pub findings: Vec<Finding>,
    pub changed: bool,
    pub dry_run: bool,
    pub changes: Vec<String>,
    /// What the change does to access (see `create-owner-role`).
    pub access_diff: AccessDiff,
    pub handoff: HandOff,
}

/// What the handler needs, built once at start-up.
pub type Deps<R> = IamDeps<R>;

enum Who {
    Service(ServicePrincipal),
    Person(Human),
}

fn who(body: &CreateRequestorRequest) -> Result<Who, ApiError> {
    let who = match (&body.service_principal, &body.group_name, &body.user_name) {
        (Some(raw), None, None) => {
            let principal: ServicePrincipal = raw
                .trim()
                .parse()
                .map_err(|e| ApiError::id("service_principal", &e))?;
            if !principal.is_allowed() {
                return Err(ApiError::invalid(
                    "service_principal",
                    "ServicePrincipalNotAllowed",
                    format!(
                        "service_principal `{principal}` is not allowed; use one of {}",
                        ServicePrincipal::allowed()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if body.require_mfa {
                return Err(ApiError::invalid(
                    "require_mfa",
                    "MfaNotForServices",
                    "require_mfa applies to group_name and user_name; a service cannot sign in with MFA",
                ));
            }
            Who::Service(principal)
        }
        (None, Some(g), None) => Who::Person(Human::Group(human_name("group_name", g, 128)?)),
        (None, None, Some(u)) => Who::Person(Human::User(human_name("user_name", u, 64)?)),
        (None, None, None) => {
            return Err(ApiError::invalid(
                "service_principal",
                "MissingField",
                "missing field `service_principal` (or `group_name` or `user_name`)",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "service_principal",
                "OnePrincipalRequired",
                "give exactly one of service_principal, group_name and user_name",
            ));
        }
    };
    if matches!(who, Who::Person(_)) && body.expires_at.is_some() {
        return Err(ApiError::invalid(
            "expires_at",
            "ExpiryNotForPeople",
            "expires_at applies to service principals; a person's inline policy carries no tag to record it",
        ));
    }
    if matches!(who, Who::Person(_)) && body.role_name.is_some() {
        return Err(ApiError::invalid(
            "role_name",
            "RoleNameNotForPeople",
            "role_name applies to service principals; a group or user gets an inline policy",
        ));
    }
    Ok(who)
}

fn access(
    owner_role: &Arn,
    external_id: Option<&ExternalId>,
    mfa_serial: Option<String>,
    source: Option<SourceCredentials>,
) -> Access {
    Access {
        role_arn: owner_role.clone(),
        external_id: external_id.map(ToString::to_string),
        duration_seconds: 3600,
        mfa_serial,
        source,
    }
}

/// The owner grant's expiry as the request gives it: RFC 3339, not in the past. The most a
/// grant may last is the owner side's rule, which its trust policy enforces.
fn expiry(raw: Option<&str>, now: i64) -> Result<Option<Expiry>, ApiError> {
    raw.map(|at| {
        let e = Expiry::parse(at).map_err(|e| ApiError::expiry("expires_at", &e))?;
        if e.is_past(now) {
            return Err(ApiError::expiry(
                "expires_at",
                &ExpiryError::Past(e.to_string()),
            ));
        }
        Ok(e)
    })
    .transpose()
}

/// `create-requestor-resources` as a plain operation: the checked request in, the role (or
/// the person's policy) as it now is out.
pub async fn create_requestor_resources<R: RoleStore + HumanStore>(
    deps: &Deps<R>,
    caller: &str,
    body: CreateRequestorRequest,
) -> Result<CreateRequestorResponse, ApiError> {
    let owner_role = role_arn("owner_role_arn", &body.owner_role_arn)?;
    require_xacct_role("owner_role_arn", &owner_role)?;
    let who = who(&body)?;
    let external_id =
        ApiError::optional_id::<ExternalId>("external_id", body.external_id.as_deref())?;
    let role_name = ApiError::optional_id::<RoleName>("role_name", body.role_name.as_deref())?;
    let expires_at = expiry(body.expires_at.as_deref(), crate::runtime::now_epoch())?;

    let account = deps.account.account().await?;
    same_partition(
        "owner_role_arn",
        &owner_role,
        deps.account.partition().await?,
    )?;
    if owner_role.account() == account.as_str() {
        return Err(ApiError::invalid(
            "owner_role_arn",
            "SameAccount",
            format!(
                "owner_role_arn `{owner_role}` is in this account `{account}`; the owner role must be in another account"
            ),
        ));
    }
    match who {
        Who::Service(principal) => {
            service_side(
                deps,
                caller,
                &body,
                &owner_role,
                principal,
                role_name,
                external_id,
                expires_at,
                &account,
            )
            .await
        }
        Who::Person(human) => {
            person_side(
                deps,
                caller,
                &body,
                &owner_role,
                human,
                external_id,
                &account,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn service_side<R: RoleStore>(
    deps: &Deps<R>,
    caller: &str,
    body: &CreateRequestorRequest,
    owner_role: &Arn,
    principal: ServicePrincipal,
    role_name: Option<RoleName>,
    external_id: Option<ExternalId>,
    expires_at: Option<Expiry>,
    account: &AccountId,
) -> Result<CreateRequestorResponse, ApiError> {
    let role_name = role_name.unwrap_or_else(|| requestor_role_name(owner_role, &principal));
    let policy = assume_owner_role_policy(owner_role)
        .map_err(|e| ApiError::invalid("owner_role_arn", "InvalidRoleArn", e.to_string()))?;
    let trust = service_trust(&principal, account);
    let partition = owner_role.partition();
    let planned_arn = Arn::iam(partition, account, "role", ROLE_PATH, role_name.as_str())
        .map_err(|e| ApiError::arn("role_name", &e))?
        .to_string();
    let ec2 = principal.as_str() == "ec2.amazonaws.com";
    let build = |_: Option<&xacct_aws::roles::RoleState>| -> Result<RoleSpec, ApiError> {
        Ok(RoleSpec {
            name: role_name.clone(),
            path: ROLE_PATH.to_owned(),
            description: description(&format!(
                "xacct requestor role: {principal} may assume {owner_role}"
            )),
            trust_policy: trust.clone(),
            policy_name: POLICY_NAME.to_owned(),
            policy: policy.clone(),
            max_session_duration: 3600,
            tags: std::collections::BTreeMap::from([
                (MANAGED_TAG.to_owned(), "true".to_owned()),
                (
                    tags::OWNER_ROLE.to_owned(),
                    tag_value(&owner_role.to_string()),
                ),
                (tags::SERVICE_PRINCIPAL.to_owned(), principal.to_string()),
            ])
            .into_iter()
            .chain(expires_at.map(|e| (tags::EXPIRES_AT.to_owned(), e.to_string())))
            .collect(),
            identity_tags: vec![
                tags::OWNER_ROLE.to_owned(),
                tags::SERVICE_PRINCIPAL.to_owned(),
            ],
            permissions_boundary: deps.permissions_boundary.clone(),
            instance_profile: ec2,
        })
    };
    let (spec, outcome) = ensure_role_converging(
        &deps.roles,
        role_name.as_str(),
        &planned_arn,
        body.dry_run,
        build,
    )
    .await?;
    let mut findings = validate::permissions_policy(&spec.policy);
    findings.extend(validate::trust_policy(&spec.trust_policy));
    tracing::info!(caller, role = %outcome.arn, owner_role = %owner_role, principal = %principal, changed = outcome.changed, dry_run = body.dry_run, writes = ?outcome.writes, "create-requestor-resources");
    let instance_profile_arn = if ec2 && outcome.instance_profile_arn.is_none() {
        Some(
            spec.instance_profile_arn(partition, account)
                .map_err(|e| ApiError::arn("role_name", &e))?
                .to_string(),
        )
    } else {
        outcome.instance_profile_arn
    };
    let access_diff = role_access_diff(outcome.previous.as_ref(), &spec);
    let mut notes = Vec::new();
    if external_id.is_none() {
        notes.push(
            "add the owner's External ID (external_id) to the profile and the command".to_owned(),
        );
    }
    let handoff = hand_off(
        &access(
            owner_role,
            external_id.as_ref(),
            None,
            SourceCredentials::for_service(&principal),
        ),
        false,
        &format!("xacct requestor role: {principal} may assume {owner_role}"),
        &[IamResource::Role(Box::new(spec.clone()))],
        notes,
    );
    Ok(CreateRequestorResponse {
        principal_type: PrincipalType::Service,
        principal_arn: outcome.arn.clone(),
        role_arn: Some(outcome.arn),
        role_name: Some(role_name.to_string()),
        role_id: outcome.role_id,
        owner_role_arn: owner_role.to_string(),
        service_principal: Some(principal.to_string()),
        group_name: None,
        user_name: None,
        external_id: external_id.map(|e| e.to_string()),
        expires_at: expires_at.map(|e| e.to_string()),
        policy_name: POLICY_NAME.to_owned(),
        policy: spec.policy,
        trust_policy: Some(spec.trust_policy),
        instance_profile_arn,
        switch_role_url: None,
        findings,
        changed: outcome.changed,
        dry_run: body.dry_run,
        changes: outcome.changes,
        access_diff,
        handoff,
    })
}

async fn person_side<R: HumanStore>(
    deps: &Deps<R>,
    caller: &str,
    body: &CreateRequestorRequest,
    owner_role: &Arn,
    human: Human,
    external_id: Option<ExternalId>,
    account: &AccountId,
) -> Result<CreateRequestorResponse, ApiError> {
    let policy_name = human_policy_name(owner_role);
    let policy = human_assume_policy(owner_role, body.require_mfa)
        .map_err(|e| ApiError::invalid("owner_role_arn", "InvalidRoleArn", e.to_string()))?;
    let outcome = ensure_human_policy(
        &deps.roles,
        &human,
        &policy_name,
        &policy,
        |d| is_xacct_human_policy(owner_role, d),
        body.dry_run,
    )
    .await?;
    tracing::info!(caller, principal = %outcome.arn, owner_role = %owner_role, changed = outcome.changed, dry_run = body.dry_run, writes = ?outcome.writes, "create-requestor-resources");
    let mut notes = Vec::new();
    if external_id.is_none() {
        notes.push(
            "add the owner's External ID (external_id) to the profile and the command".to_owned(),
        );
    }
    let mfa_serial = match (&human, body.require_mfa) {
        (Human::User(name), true) => Some(
            Arn::iam(owner_role.partition(), account, "mfa", "/", name)
                .map_err(|e| ApiError::arn("user_name", &e))?
                .to_string(),
        ),
        (Human::Group(_), true) => {
            notes.push("set mfa_serial in the profile to your own MFA device's ARN".to_owned());
            None
        }
        _ => None,
    };
    if matches!(human, Human::User(_)) && body.require_mfa {
        notes.push("mfa_serial assumes a virtual MFA device named after the user; use your device's ARN if it differs".to_owned());
    }
    let code = match &human {
        Human::Group(g) => IamResource::GroupPolicy {
            group: g.clone(),
            policy_name: policy_name.clone(),
            policy: policy.clone(),
        },
        Human::User(u) => IamResource::UserPolicy {
            user: u.clone(),
            policy_name: policy_name.clone(),
            policy: policy.clone(),
        },
    };
    let handoff = hand_off(
        &access(
            owner_role,
            external_id.as_ref(),
            mfa_serial,
            Some(SourceCredentials::Profile("default".to_owned())),
        ),
        true,
        &format!(
            "xacct: {} {} may assume {owner_role}",
            human.kind(),
            human.name()
        ),
        &[code],
        notes,
    );
    let findings = validate::permissions_policy(&policy);
    let person_diff = AccessDiff::between(
        outcome.previous.as_ref().map(|before| RoleAccess {
            trust: None,
            permissions: before,
        }),
        RoleAccess {
            trust: None,
            permissions: &policy,
        },
    );
    Ok(CreateRequestorResponse {
        principal_type: PrincipalType::from(&human),
        principal_arn: outcome.arn,
        role_arn: None,
        role_name: None,
        role_id: None,
        owner_role_arn: owner_role.to_string(),
        service_principal: None,
        group_name: matches!(human, Human::Group(_)).then(|| human.name().to_owned()),
        user_name: matches!(human, Human::User(_)).then(|| human.name().to_owned()),
        external_id: external_id.map(|e| e.to_string()),
        expires_at: None,
        policy_name,
        policy,
        trust_policy: None,
        instance_profile_arn: None,
        switch_role_url: handoff.switch_role_url.clone(),
        findings,
        changed: outcome.changed,
        dry_run: body.dry_run,
        changes: outcome.changes,
        access_diff: person_diff,
        handoff,
    })
}

/// The Lambda handler.
pub async fn handle<R: RoleStore + HumanStore>(
    deps: &Deps<R>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(serve_json(
        req,
        "create-requestor-resources",
        |caller, body| async move { create_requestor_resources(deps, &caller, body).await },
    )
    .await)
}
