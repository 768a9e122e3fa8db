//! What the handlers after creation share: their dependencies, the tags that record a grant
//! on its role, and reading a role ARN of this account from a request.

use xacct_aws::identity::AccountLookup;
use xacct_aws::roles::RoleState;
use xacct_policy::naming::{ROLE_PATH, ROLE_RESOURCE_PREFIX};
pub use xacct_policy::owner_grant::OwnerGrant;
pub use xacct_policy::tags::{self, caller_tag};
use xacct_policy::trust::require_role_arn;
use xacct_policy::{AccountId, Arn, Partition};

use crate::error::{ApiError, Failure};

pub use xacct_policy::owner_grant::OWNER_POLICY_NAME;

/// What the IAM-only handlers need, built once at start-up.
pub struct IamDeps<R> {
    pub roles: R,
    pub account: AccountLookup,
    /// The permissions boundary every created role gets (`PERMISSIONS_BOUNDARY_ARN`).
    pub permissions_boundary: Option<Arn>,
}

impl IamDeps<xacct_aws::iam::IamRoleStore> {
    /// What the lifecycle functions need, built once at start-up from the one SDK
    /// configuration and the environment. A `PERMISSIONS_BOUNDARY_ARN` that is not an ARN
    /// stops the function here rather than at the first role it writes.
    pub async fn load() -> Result<Self, xacct_policy::ArnError> {
        Self::from_config(&xacct_aws::config::load().await)
    }

    /// The same from an SDK configuration already loaded (a function that needs more
    /// clients of it).
    pub fn from_config(config: &aws_config::SdkConfig) -> Result<Self, xacct_policy::ArnError> {
        Ok(Self {
            roles: xacct_aws::iam::IamRoleStore::from_config(config),
            account: AccountLookup::new(config),
            permissions_boundary: crate::runtime::permissions_boundary()?,
        })
    }
}

#[cfg(feature = "hub")]
impl IamDeps<xacct_aws::iam::IamRoleStore> {
    /// The same in a member account, from the hub's session there: every role created
    /// gets the member's spoke boundary.
    pub fn in_member(
        session: &xacct_aws::organization::SpokeSession,
        account: AccountLookup,
    ) -> Self {
        Self {
            roles: xacct_aws::iam::IamRoleStore::from_config(&session.config),
            account,
            permissions_boundary: Some(session.boundary.clone()),
        }
    }
}

#[cfg(feature = "hub")]
impl IamDeps<xacct_aws::iam::IamRoleStore> {
    /// An IAM-only owner function's dependencies as a hub: this account's IAM and, in an
    /// organization's hub, each member's through its spoke role (`hub_from_env`).
    pub fn hub(
        config: &aws_config::SdkConfig,
    ) -> Result<
        crate::hub::Hub<Self, crate::hub::SdkMembers<Self>>,
        Box<dyn std::error::Error + Send + Sync>,
    > {
        Ok(crate::hub::hub_from_env(
            config,
            Self::from_config(config)?,
            Box::new(Self::in_member),
        )?)
    }
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
