//! The one mapping from every failure to an HTTP status and a JSON error body:
//! `{"error": {"code", "message", "field"}}`. Messages are for the caller; internal details
//! stay in the logs.

use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use xacct_aws::AwsError;
use xacct_aws::error::AwsErrorKind;
use xacct_aws::humans::HumanError;
use xacct_aws::roles::RoleError;
use xacct_policy::expiry::ExpiryError;
use xacct_policy::grant::GrantError;
use xacct_policy::permissions::PermissionsError;
use xacct_policy::trust::TrustError;
use xacct_policy::{ArnError, IdError};

/// What went wrong, in the caller's terms. [`Failure::status`] is the one place that knows
/// HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failure {
    /// The input breaks a rule; nothing was done.
    Invalid,
    /// What the input names does not exist.
    NotFound,
    /// The input conflicts with what exists (or with a concurrent change).
    Conflict,
    /// The endpoint takes other methods: these, as the `Allow` header lists them.
    MethodNotAllowed(&'static str),
    /// The body is over the limit.
    TooLarge,
    /// The account the request names cannot be worked in: its spoke role cannot be assumed
    /// or is not there.
    Unreachable,
    /// AWS refused or failed.
    Upstream,
    /// xacct itself failed; details stay in the logs.
    #[default]
    Internal,
}

impl Failure {
    /// The HTTP status of an answer with this failure.
    pub fn status(self) -> u16 {
        match self {
            Self::Invalid => 400,
            Self::Unreachable => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::Internal => 500,
            Self::Upstream => 502,
        }
    }
}

/// An error answer.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema,
)]
#[error("{code}: {message}")]
pub struct ApiError {
    #[serde(skip)]
    pub failure: Failure,
    /// Stable, for machines; for 502 and some 409, AWS's own error code.
    #[schema(min_length = 1)]
    pub code: String,
    /// For people; names the field and the rule for bad input.
    #[schema(min_length = 1)]
    pub message: String,
    /// The request field or query parameter at fault, when there is one: a body field
    /// (`role_name`), a path into the body for a wrongly typed value (`actions[1]`), or for
    /// `UnknownParameter` the query key as sent (which may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub field: Option<String>,
    /// Whether the same request may succeed later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schema(schema_with = crate::openapi::retryable, required = false)]
    pub retryable: bool,
}

/// The body of every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(
    as = Error,
    description = "Every error answer.",
    example = json!({"error": {
        "code": "InvalidAccountId",
        "message": "requestor_account_id must be 12 digits, got `12345`",
        "field": "requestor_account_id",
    }})
)]
pub struct ErrorBody {
    #[schema(inline)]
    pub error: ApiError,
}

impl ApiError {
    pub fn new(failure: Failure, code: &str, message: impl Into<String>) -> Self {
        Self {
            failure,
            code: code.to_owned(),
            message: message.into(),
            field: None,
            retryable: false,
        }
    }

    /// The HTTP status of this answer.
    pub fn status(&self) -> u16 {
        self.failure.status()
    }

    /// A 400 about one input field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(Failure::Invalid, code, message).on(field)
    }

    /// A 409: the request conflicts with what exists, about one input field.
    pub fn conflict(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(Failure::Conflict, code, message).on(field)
    }

    pub fn on(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// A 400 for an expiry (or a duration) that is not a time, is past, or is too far away.
    pub fn expiry(field: &str, err: &ExpiryError) -> Self {
        let code = match err {
            ExpiryError::Invalid(_) => "InvalidExpiry",
            ExpiryError::Past(_) => "ExpiryInPast",
            ExpiryError::TooFar { .. } => "ExpiryTooFar",
        };
        Self::invalid(field, code, format!("{field}: {err}"))
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
            IdError::DbUser(v) => (
                "InvalidDbUser",
                "must be 1 to 63 characters of letters, digits and `_`, starting with a letter",
                v,
            ),
        };
        Self::invalid(
            field,
            code,
            format!("{field} {rule}, got `{}`", shorten(value)),
        )
    }

    /// A 400 for an `account_id` of another account when this deployment is no hub.
    pub fn not_a_hub(account: &xacct_policy::AccountId) -> Self {
        Self::invalid(
            "account_id",
            "NotAHub",
            format!(
                "account_id `{account}` is another account, and this deployment is not an organization hub (its OrganizationId is empty)"
            ),
        )
    }

    /// The answer when the spoke role of a member account cannot be used: a 403 naming
    /// `account_id` when AWS refused or the role is not there, a retryable 502 when AWS did
    /// not answer.
    pub fn spoke_unreachable(account: &xacct_policy::AccountId, role: &str, e: &AwsError) -> Self {
        tracing::info!(account = %account, operation = e.operation, code = %e.code, message = %e.message, "spoke role unreachable");
        if e.kind == AwsErrorKind::Unavailable {
            return Self::from(e.clone()).on("account_id");
        }
        Self::new(
            Failure::Unreachable,
            "SpokeRoleUnreachable",
            format!(
                "account_id `{account}`: xacct cannot work through the spoke role `{role}` ({} returned `{}`); deploy xacct's member stack to that account",
                e.operation, e.code
            ),
        )
        .on("account_id")
    }

    /// Parses an optional identifier field (`ExternalId`, `RoleName`, ...), naming the field
    /// and its rule when it is wrong.
    pub fn optional_id<T>(field: &str, raw: Option<&str>) -> Result<Option<T>, Self>
    where
        T: std::str::FromStr<Err = IdError>,
    {
        raw.map(|r| r.parse::<T>().map_err(|e| Self::id(field, &e)))
            .transpose()
    }

    /// The HTTP response carrying this error.
    pub fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder()
            .status(self.status())
            .header("content-type", "application/json");
        if let Failure::MethodNotAllowed(allow) = self.failure {
            builder = builder.header("allow", allow);
        }
        // Serializing strings and a bool cannot fail; the fallback keeps the answer JSON.
        const INTERNAL: &str = r#"{"error":{"code":"InternalError","message":"internal error"}}"#;
        let body = serde_json::to_string(&ErrorBody { error: self })
            .unwrap_or_else(|_| INTERNAL.to_owned());
        builder
            .body(Body::Text(body))
            .unwrap_or_else(|_| Response::new(Body::Text(INTERNAL.to_owned())))
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

/// A failed scheduled run (a function with no Function URL) as the Lambda runtime reports
/// it: the error's code as the type, its message as the message.
impl From<ApiError> for lambda_http::lambda_runtime::Diagnostic {
    fn from(e: ApiError) -> Self {
        Self {
            error_type: e.code,
            error_message: e.message,
        }
    }
}

impl From<PermissionsError> for ApiError {
    fn from(e: PermissionsError) -> Self {
        let code = match e {
            PermissionsError::UnknownService { .. } => "UnknownService",
            PermissionsError::UnknownResourceType { .. } => "UnknownResourceType",
        };
        Self::new(Failure::Invalid, code, e.to_string())
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
            AwsErrorKind::Unavailable => Self::new(Failure::Upstream, &e.code, message).retryable(),
            AwsErrorKind::AlreadyExists => {
                Self::new(Failure::Conflict, &e.code, message).retryable()
            }
            _ => Self::new(Failure::Upstream, &e.code, message),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(e: RoleError) -> Self {
        match &e {
            RoleError::NotManaged { .. } => {
                Self::new(Failure::Conflict, "RoleNotManaged", e.to_string()).on("role_name")
            }
            RoleError::OtherGrant { .. } => {
                Self::new(Failure::Conflict, "RoleInUse", e.to_string()).on("role_name")
            }
            RoleError::BoundaryMismatch { .. } => Self::new(
                Failure::Conflict,
                "PermissionsBoundaryMismatch",
                e.to_string(),
            ),
            RoleError::Concurrent { .. } => {
                Self::new(Failure::Conflict, "ConcurrentModification", e.to_string()).retryable()
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
                    Failure::Upstream,
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
                Self::new(Failure::Upstream, &source.code, format!("aws refused or failed: {} returned `{}`, and removing the partly created role `{name}` failed too; revoke it", source.operation, source.code)).retryable()
            }
        }
    }
}

impl From<HumanError> for ApiError {
    fn from(e: HumanError) -> Self {
        match &e {
            HumanError::NotFound { kind, .. } => {
                Self::new(Failure::NotFound, "PrincipalNotFound", e.to_string())
                    .on(&format!("{kind}_name"))
            }
            HumanError::NotManaged { kind, .. } => {
                Self::new(Failure::Conflict, "PolicyNotManaged", e.to_string())
                    .on(&format!("{kind}_name"))
            }
            HumanError::Aws(aws) => Self::from(aws.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_scheduled_run_reports_its_code_and_message_to_the_runtime() {
        let d = lambda_http::lambda_runtime::Diagnostic::from(ApiError::new(
            Failure::Upstream,
            "Throttling",
            "aws refused or failed",
        ));
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("Throttling", "aws refused or failed")
        );
    }

    #[test]
    fn each_failure_maps_to_one_status_and_method_not_allowed_names_the_methods() {
        let statuses: Vec<u16> = [
            Failure::Invalid,
            Failure::NotFound,
            Failure::MethodNotAllowed("GET"),
            Failure::Conflict,
            Failure::TooLarge,
            Failure::Internal,
            Failure::Upstream,
        ]
        .into_iter()
        .map(Failure::status)
        .collect();
        assert_eq!(statuses, [400, 404, 405, 409, 413, 500, 502]);
        let response = ApiError::new(
            Failure::MethodNotAllowed("GET, POST"),
            "MethodNotAllowed",
            "no",
        )
        .into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
    }

    #[test]
    fn a_rolled_back_create_is_a_502_with_aws_code_saying_nothing_was_left_behind() {
        let source = AwsError::new(
            "PutRolePolicy",
            "MalformedPolicyDocument",
            "internal detail",
            AwsErrorKind::Refused,
        );
        let e = ApiError::from(RoleError::RolledBack {
            source: Box::new(source),
            removed: vec!["role".to_owned()],
        });
        assert_eq!(e.status(), 502);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"code": "MalformedPolicyDocument", "message": "aws refused or failed: PutRolePolicy returned `MalformedPolicyDocument`; nothing was left behind"})
        );
    }

    #[test]
    fn an_error_body_names_code_message_and_field_but_never_the_status() {
        let e = ApiError::conflict("require_mfa", "TrustWouldWiden", "wider");
        assert_eq!(e.status(), 409);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"code": "TrustWouldWiden", "message": "wider", "field": "require_mfa"})
        );
    }
}
