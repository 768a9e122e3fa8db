//! `create-requestor-resources`: in the requestor account, a role that one AWS service may
//! assume and whose only permission is `sts:AssumeRole` on the owner role; for EC2 also an
//! instance profile holding it.

use std::collections::BTreeMap;

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::identity::AccountLookup;
use xacct_aws::roles::{
    MANAGED_TAG, RoleSpec, RoleStore, description, ensure_role_converging, tag_value,
};
use xacct_policy::naming::{ROLE_PATH, requestor_role_name};
use xacct_policy::trust::{assume_owner_role_policy, require_role_arn, service_trust};
use xacct_policy::validate::{self, Finding};
use xacct_policy::{Arn, ExternalId, PolicyDocument, RoleName, ServicePrincipal};

use crate::error::ApiError;
use crate::http::{Methods, caller_arn, json_body, ok, require_method, respond};

/// Inline policy name on every requestor role.
pub const POLICY_NAME: &str = "xacct-assume-owner-role";

/// The request body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestorRequest {
    pub owner_role_arn: String,
    pub service_principal: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct CreateRequestorResponse {
    pub role_arn: String,
    pub role_name: String,
    pub role_id: Option<String>,
    pub owner_role_arn: String,
    pub service_principal: String,
    pub external_id: Option<String>,
    pub policy: PolicyDocument,
    pub trust_policy: PolicyDocument,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_profile_arn: Option<String>,
    pub findings: Vec<Finding>,
    pub changed: bool,
    pub dry_run: bool,
    pub changes: Vec<String>,
}

/// What the handler needs, built once at start-up.
pub struct Deps<R> {
    pub roles: R,
    pub account: AccountLookup,
    pub permissions_boundary: Option<String>,
}

impl<R> std::fmt::Debug for Deps<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps")
            .field("permissions_boundary", &self.permissions_boundary)
            .finish_non_exhaustive()
    }
}

async fn run<R: RoleStore>(deps: &Deps<R>, req: Request) -> Result<Response<Body>, ApiError> {
    require_method(&req, Methods::Post)?;
    let body: CreateRequestorRequest = json_body(&req)?;
    let owner_role: Arn = body
        .owner_role_arn
        .trim()
        .parse()
        .map_err(|e| ApiError::arn("owner_role_arn", &e))?;
    require_role_arn(&owner_role)
        .map_err(|e| ApiError::invalid("owner_role_arn", "InvalidRoleArn", e.to_string()))?;
    let principal: ServicePrincipal = body
        .service_principal
        .trim()
        .parse()
        .map_err(|e| ApiError::id("service_principal", &e))?;
    if !principal.is_allowed() {
        return Err(ApiError::invalid(
            "service_principal",
            "ServicePrincipalNotAllowed",
            format!(
                "service_principal `{principal}` is not allowed; use one of {}",
                ServicePrincipal::ALLOWED
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let external_id = body
        .external_id
        .as_deref()
        .map(|raw| {
            raw.parse::<ExternalId>()
                .map_err(|e| ApiError::id("external_id", &e))
        })
        .transpose()?;
    let role_name = match body.role_name.as_deref() {
        Some(raw) => raw
            .parse::<RoleName>()
            .map_err(|e| ApiError::id("role_name", &e))?,
        None => requestor_role_name(&owner_role, &principal),
    };
    let policy = assume_owner_role_policy(&owner_role)
        .map_err(|e| ApiError::invalid("owner_role_arn", "InvalidRoleArn", e.to_string()))?;
    let trust = service_trust(&principal);

    let account = deps.account.account().await?;
    if owner_role.account() == account.as_str() {
        return Err(ApiError::invalid(
            "owner_role_arn",
            "SameAccount",
            format!(
                "owner_role_arn `{owner_role}` is in this account `{account}`; the owner role must be in another account"
            ),
        ));
    }
    let planned_arn = format!(
        "arn:{}:iam::{account}:role{ROLE_PATH}{role_name}",
        owner_role.partition()
    );
    let ec2 = principal.as_str() == "ec2.amazonaws.com";
    let build = |_: Option<&xacct_aws::roles::RoleState>| -> Result<RoleSpec, ApiError> {
        Ok(RoleSpec {
            name: role_name.to_string(),
            path: ROLE_PATH.to_owned(),
            description: description(&format!(
                "xacct requestor role: {principal} may assume {owner_role}"
            )),
            trust_policy: trust.clone(),
            policy_name: POLICY_NAME.to_owned(),
            policy: policy.clone(),
            max_session_duration: 3600,
            tags: BTreeMap::from([
                (MANAGED_TAG.to_owned(), "true".to_owned()),
                (
                    "xacct:owner-role".to_owned(),
                    tag_value(&owner_role.to_string()),
                ),
                ("xacct:service-principal".to_owned(), principal.to_string()),
            ]),
            identity_tags: vec![
                "xacct:owner-role".to_owned(),
                "xacct:service-principal".to_owned(),
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
    tracing::info!(caller = %caller_arn(&req), role = %outcome.arn, owner_role = %owner_role, principal = %principal, changed = outcome.changed, dry_run = body.dry_run, writes = ?outcome.writes, "create-requestor-resources");
    let instance_profile_arn = if ec2 && outcome.instance_profile_arn.is_none() {
        Some(format!(
            "arn:{}:iam::{account}:instance-profile{ROLE_PATH}{role_name}",
            owner_role.partition()
        ))
    } else {
        outcome.instance_profile_arn
    };
    Ok(ok(&CreateRequestorResponse {
        role_arn: outcome.arn,
        role_name: role_name.to_string(),
        role_id: outcome.role_id,
        owner_role_arn: owner_role.to_string(),
        service_principal: principal.to_string(),
        external_id: external_id.map(|e| e.to_string()),
        policy: spec.policy,
        trust_policy: spec.trust_policy,
        instance_profile_arn,
        findings,
        changed: outcome.changed,
        dry_run: body.dry_run,
        changes: outcome.changes,
    }))
}

/// The Lambda handler.
pub async fn handle<R: RoleStore>(
    deps: &Deps<R>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(respond(run(deps, req).await))
}
