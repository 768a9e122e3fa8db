//! What the handlers after creation share: their dependencies, the tags that record a grant
//! on its role, and reading a role ARN of this account from a request.

use std::collections::BTreeMap;

use xacct_aws::identity::AccountLookup;
use xacct_aws::roles::{MANAGED_TAG, RoleState, tag_value};
use xacct_policy::naming::{ROLE_PATH, ROLE_RESOURCE_PREFIX};
use xacct_policy::trust::{CrossAccountTrust, require_role_arn};
use xacct_policy::{AccountId, Arn, ExternalId, OrganizationId, Partition};

use crate::error::{ApiError, Failure};

/// Inline policy name on every owner role.
pub const OWNER_POLICY_NAME: &str = "xacct-grant";

/// Tags xacct writes on an owner role: the grant's inputs, so it can be listed, checked for
/// drift and revoked without any other store.
pub mod tags {
    pub const RESOURCE: &str = "xacct:resource";
    pub const REQUESTOR: &str = "xacct:requestor";
    pub const REQUESTOR_ROLE: &str = "xacct:requestor-role";
    pub const MFA: &str = "xacct:mfa";
    pub const ORG: &str = "xacct:org";
    /// On a requestor role: the owner role it may assume, and the service that assumes it.
    pub const OWNER_ROLE: &str = "xacct:owner-role";
    pub const SERVICE_PRINCIPAL: &str = "xacct:service-principal";
    /// The caller (as the Function URL's IAM authorizer saw it) that created the role.
    pub const CREATED_BY: &str = "xacct:created-by";
}

/// A caller ARN as an IAM tag value: tag values allow letters, digits, spaces and
/// `_.:/=+-@`; anything else (a `,` in a session name) becomes `_`.
pub fn caller_tag(caller: &str) -> String {
    tag_value(
        &caller
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>(),
    )
}

/// What the IAM-only handlers need, built once at start-up.
pub struct IamDeps<R> {
    pub roles: R,
    pub account: AccountLookup,
    /// The permissions boundary every created role gets (`PERMISSIONS_BOUNDARY_ARN`).
    pub permissions_boundary: Option<Arn>,
}

impl<R> std::fmt::Debug for IamDeps<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamDeps")
            .field("permissions_boundary", &self.permissions_boundary)
            .finish_non_exhaustive()
    }
}

/// Refuses an ARN of another partition than the one xacct runs in.
pub fn same_partition(field: &str, arn: &Arn, here: Partition) -> Result<(), ApiError> {
    if arn.partition() == here {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "OtherPartition",
            format!(
                "{field} `{arn}` is in partition `{}`, but xacct runs in `{here}`",
                arn.partition()
            ),
        ))
    }
}

/// A role ARN from the request (any account), refused with `InvalidArn` / `InvalidRoleArn`.
pub fn role_arn(field: &str, raw: &str) -> Result<Arn, ApiError> {
    let arn: Arn = raw.trim().parse().map_err(|e| ApiError::arn(field, &e))?;
    require_role_arn(&arn)
        .map_err(|e| ApiError::invalid(field, "InvalidRoleArn", e.to_string()))?;
    Ok(arn)
}

/// Refuses a role outside xacct's path (`role/xacct/...`): a requestor (a service, a group
/// or a user) may be pointed only at roles xacct made, never at an account's other roles
/// such as `OrganizationAccountAccessRole`.
pub fn require_xacct_role(field: &str, arn: &Arn) -> Result<(), ApiError> {
    if arn.resource().starts_with(ROLE_RESOURCE_PREFIX) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "NotAnXacctRole",
            format!(
                "{field} `{arn}` is not under xacct's path; it must look like `arn:aws:iam::111111111111:role{ROLE_PATH}NAME`"
            ),
        ))
    }
}

/// A role ARN from the request that must name a role in this account; returns its name.
pub fn role_here(
    field: &str,
    raw: &str,
    account: &AccountId,
    partition: Partition,
) -> Result<(Arn, String), ApiError> {
    let arn = role_arn(field, raw)?;
    same_partition(field, &arn, partition)?;
    if arn.account() != account.as_str() {
        return Err(ApiError::invalid(
            field,
            "RoleInOtherAccount",
            format!(
                "{field} `{arn}` is in account `{}`, not this account `{account}`",
                arn.account()
            ),
        ));
    }
    let name = arn.resource_name().to_owned();
    Ok((arn, name))
}

/// The 404 for a role that does not exist.
pub fn role_not_found(field: &str, arn: &Arn) -> ApiError {
    ApiError::new(
        Failure::NotFound,
        "RoleNotFound",
        format!("{field} `{arn}` does not exist"),
    )
    .on(field)
}

/// The 409 for a role xacct does not manage.
pub fn not_managed(field: &str, arn: &Arn) -> ApiError {
    ApiError::new(
        Failure::Conflict,
        "RoleNotManaged",
        format!("{field} `{arn}` is not managed by xacct; xacct leaves it untouched"),
    )
    .on(field)
}

/// Whether xacct manages the role (tag and path).
pub fn is_xacct_role(state: &RoleState) -> bool {
    state.is_managed() && state.path == ROLE_PATH
}

/// An owner grant's inputs, as recorded in its role's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerGrant {
    pub resource: Arn,
    pub requestor: AccountId,
    pub requestor_role: Option<Arn>,
    pub require_mfa: bool,
    pub org: Option<OrganizationId>,
}

impl OwnerGrant {
    /// Reads the grant from an xacct role's tags; `None` for a role that is not an owner grant.
    pub fn from_tags(tags: &BTreeMap<String, String>) -> Option<Self> {
        Some(Self {
            resource: tags.get(tags::RESOURCE)?.parse().ok()?,
            requestor: tags.get(tags::REQUESTOR)?.parse().ok()?,
            requestor_role: tags.get(tags::REQUESTOR_ROLE).and_then(|r| r.parse().ok()),
            require_mfa: tags.get(tags::MFA).map(String::as_str) == Some("true"),
            org: tags.get(tags::ORG).and_then(|o| o.parse().ok()),
        })
    }

    /// The tags that record this grant.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::from([
            (MANAGED_TAG.to_owned(), "true".to_owned()),
            (
                tags::RESOURCE.to_owned(),
                tag_value(&self.resource.to_string()),
            ),
            (tags::REQUESTOR.to_owned(), self.requestor.to_string()),
            (tags::MFA.to_owned(), self.require_mfa.to_string()),
        ]);
        if let Some(r) = &self.requestor_role {
            out.insert(tags::REQUESTOR_ROLE.to_owned(), tag_value(&r.to_string()));
        }
        if let Some(o) = &self.org {
            out.insert(tags::ORG.to_owned(), o.to_string());
        }
        out
    }

    /// The trust policy xacct writes for this grant with this External ID.
    pub fn trust(&self, external_id: ExternalId) -> CrossAccountTrust {
        CrossAccountTrust {
            partition: self.resource.partition(),
            requestor_account: self.requestor.clone(),
            requestor_role: self.requestor_role.clone(),
            external_id,
            require_mfa: self.require_mfa,
            principal_org_id: self.org.clone(),
        }
    }
}
