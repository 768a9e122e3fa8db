//! The one mapping from every failure to an HTTP status and a JSON error body:
//! `{"error": {"code", "message", "field"}}`. Messages are for the caller; internal details
//! stay in the logs.

use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use xacct_aws::AwsError;
use xacct_aws::error::AwsErrorKind;
use xacct_aws::humans::HumanError;
use xacct_aws::roles::RoleError;
use xacct_policy::grant::GrantError;
use xacct_policy::permissions::PermissionsError;
use xacct_policy::trust::TrustError;
use xacct_policy::{ArnError, IdError};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether the same request may succeed later.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
    /// The methods a 405 answer names in its `Allow` header.
    #[serde(skip)]
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            field: None,
            retryable: false,
            allow: None,
        }
    }

    /// A 400 about one input field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message).on(field)
    }

    /// A 409: the request conflicts with what exists, about one input field.
    pub fn conflict(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message).on(field)
    }

    pub fn on(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// A 400 for an ARN that does not parse.
    pub fn arn(field: &str, err: &ArnError) -> Self {
        Self::invalid(
            field,
            "InvalidArn",
            format!("{field} is not a valid arn: {err}"),
        )
    }

    /// A 400 for an identifier that does not validate, worded with the field's name.
    pub fn id(field: &str, err: &IdError) -> Self {
        let (code, rule, value) = match err {
            IdError::AccountId(v) => ("InvalidAccountId", "must be 12 digits", v),
            IdError::ExternalId(v) => (
                "InvalidExternalId",
                "must be 2 to 1224 characters of letters, digits and `+=,.@:/-_`",
                v,
            ),
            IdError::RoleName(v) => (
                "InvalidRoleName",
                "must be 1 to 64 characters of letters, digits and `+=,.@-_`",
                v,
            ),
            IdError::Action(v) => ("InvalidAction", "must look like `service:ActionName`", v),
            IdError::ServicePrincipal(v) => (
                "InvalidServicePrincipal",
                "must look like `name.amazonaws.com`",
                v,
            ),
            IdError::Partition(v) => ("InvalidPartition", "must be an aws partition", v),
            IdError::OrganizationId(v) => (
                "InvalidOrganizationId",
                "must look like `o-` and 10 to 32 lowercase letters or digits",
                v,
            ),
        };
        Self::invalid(
            field,
            code,
            format!("{field} {rule}, got `{}`", shorten(value)),
        )
    }

    /// The HTTP response carrying this error.
    /// Parses an optional identifier field (`ExternalId`, `RoleName`, ...), naming the field
    /// and its rule when it is wrong.
    pub fn optional_id<T>(field: &str, raw: Option<&str>) -> Result<Option<T>, Self>
    where
        T: std::str::FromStr<Err = IdError>,
    {
        raw.map(|r| r.parse::<T>().map_err(|e| Self::id(field, &e)))
            .transpose()
    }

    pub fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder()
            .status(self.status)
            .header("content-type", "application/json");
        if let Some(allow) = self.allow {
            builder = builder.header("allow", allow);
        }
        let body = json!({ "error": &self }).to_string();
        builder.body(Body::Text(body)).unwrap_or_else(|_| {
            Response::new(Body::Text(
                r#"{"error":{"code":"InternalError","message":"internal error"}}"#.to_owned(),
            ))
        })
    }
}

/// Quotes long user input only in part, so errors stay readable and small.
pub fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}...")
    }
}

impl From<PermissionsError> for ApiError {
    fn from(e: PermissionsError) -> Self {
        let code = match e {
            PermissionsError::UnknownService { .. } => "UnknownService",
            PermissionsError::UnknownResourceType { .. } => "UnknownResourceType",
        };
        Self::new(400, code, e.to_string())
    }
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        let code = match e {
            GrantError::NoActions => "NoActions",
            GrantError::SensitiveService { .. } => {
                return Self::invalid("resource_arn", "SensitiveService", e.to_string());
            }
            GrantError::PatternResource(_) => {
                return Self::invalid("resource_arn", "PatternResource", e.to_string());
            }
            GrantError::InvalidAction(_) => "InvalidAction",
            GrantError::Wildcard(_) => "WildcardAction",
            GrantError::OtherService { .. } => "ActionOfOtherService",
            GrantError::UnknownAction(_) => "UnknownAction",
            GrantError::NotApplicable { .. } => "ActionNotApplicable",
            GrantError::Duplicate(_) => "DuplicateAction",
            GrantError::PermissionsManagement(_) => "PermissionsManagementNotAllowed",
            GrantError::TooLarge { .. } => "PolicyTooLarge",
        };
        Self::invalid("actions", code, e.to_string())
    }
}

impl From<TrustError> for ApiError {
    fn from(e: TrustError) -> Self {
        let (code, field) = match e {
            TrustError::NotARole(_) => ("InvalidRoleArn", "requestor_role_arn"),
            TrustError::RoleAccountMismatch { .. } => ("RoleAccountMismatch", "requestor_role_arn"),
            TrustError::SameAccount(_) => ("SameAccount", "requestor_account_id"),
        };
        Self::invalid(field, code, e.to_string())
    }
}

impl From<AwsError> for ApiError {
    fn from(e: AwsError) -> Self {
        tracing::warn!(operation = e.operation, code = %e.code, message = %e.message, "aws call failed");
        let message = format!(
            "aws refused or failed: {} returned `{}`",
            e.operation, e.code
        );
        match e.kind {
            AwsErrorKind::Unavailable => Self::new(502, &e.code, message).retryable(),
            AwsErrorKind::AlreadyExists => Self::new(409, &e.code, message).retryable(),
            _ => Self::new(502, &e.code, message),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(e: RoleError) -> Self {
        match &e {
            RoleError::NotManaged { .. } => {
                Self::new(409, "RoleNotManaged", e.to_string()).on("role_name")
            }
            RoleError::OtherGrant { .. } => {
                Self::new(409, "RoleInUse", e.to_string()).on("role_name")
            }
            RoleError::BoundaryMismatch { .. } => {
                Self::new(409, "PermissionsBoundaryMismatch", e.to_string())
            }
            RoleError::Concurrent { .. } => {
                Self::new(409, "ConcurrentModification", e.to_string()).retryable()
            }
            RoleError::Aws(aws) => Self::from(aws.clone()),
            RoleError::RolledBack { source, .. } => {
                tracing::warn!(code = %source.code, "create rolled back");
                let mut out = Self::from((**source).clone());
                out.message = format!("{}; nothing was left behind", out.message);
                out
            }
            RoleError::RemovalIncomplete {
                name,
                source,
                removed,
            } => {
                tracing::error!(role = %name, code = %source.code, ?removed, "revoke stopped part-way");
                Self::new(
                    502,
                    &source.code,
                    format!(
                        "aws refused or failed: {} returned `{}` after removing {}; the role has no permissions left; call again to finish",
                        source.operation,
                        source.code,
                        removed.join(", ")
                    ),
                )
                .retryable()
            }
            RoleError::RollbackFailed {
                name,
                source,
                rollback,
            } => {
                tracing::error!(role = %name, code = %source.code, rollback = %rollback.code, "rollback failed");
                Self::new(502, &source.code, format!("aws refused or failed: {} returned `{}`, and removing the partly created role `{name}` failed too; revoke it", source.operation, source.code)).retryable()
            }
        }
    }
}

impl From<HumanError> for ApiError {
    fn from(e: HumanError) -> Self {
        match &e {
            HumanError::NotFound { kind, .. } => {
                Self::new(404, "PrincipalNotFound", e.to_string()).on(&format!("{kind}_name"))
            }
            HumanError::NotManaged { kind, .. } => {
                Self::new(409, "PolicyNotManaged", e.to_string()).on(&format!("{kind}_name"))
            }
            HumanError::Aws(aws) => Self::from(aws.clone()),
        }
    }
}
