//! One error type for every AWS call: which operation failed, AWS's error code and message
//! (kept from `ProvideErrorMetadata`), and whether retrying later may help.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How the caller should treat an AWS failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The entity does not exist (`NoSuchEntity`, `ResourceNotFoundException`, ...).
    NotFound,
    /// It exists already (`EntityAlreadyExists`).
    AlreadyExists,
    /// AWS refused (`AccessDenied`, `MalformedPolicyDocument`, `LimitExceeded`, ...).
    Refused,
    /// Throttling, 5xx, time-outs or network failures that outlived the SDK's retries.
    Unavailable,
}

/// A failed AWS call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed with `{code}`: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// AWS's error code, or `NetworkError` / `Timeout` when no answer came.
    pub code: String,
    pub message: String,
    pub kind: AwsErrorKind,
}

const NOT_FOUND: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucket",
    "NotFound",
    "ResourceNotFoundException",
    "InvalidInstanceID.NotFound",
    "InvalidInstanceID.Malformed",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "DBClusterNotFoundFault",
    "DBClusterNotFound",
];

const UNAVAILABLE: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "ServiceFailure",
];

impl AwsError {
    pub fn new(operation: &'static str, code: &str, message: &str, kind: AwsErrorKind) -> Self {
        Self {
            operation,
            code: code.to_owned(),
            message: message.to_owned(),
            kind,
        }
    }

    /// Classifies an SDK error, keeping AWS's code and message.
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown").to_owned();
                let message = e.message().unwrap_or_default().to_owned();
                let kind = if NOT_FOUND.contains(&code.as_str()) {
                    AwsErrorKind::NotFound
                } else if code == "EntityAlreadyExists" || code == "BucketAlreadyOwnedByYou" {
                    AwsErrorKind::AlreadyExists
                } else if UNAVAILABLE.contains(&code.as_str()) {
                    AwsErrorKind::Unavailable
                } else {
                    AwsErrorKind::Refused
                };
                Self {
                    operation,
                    code,
                    message,
                    kind,
                }
            }
            SdkError::TimeoutError(_) => Self::new(
                operation,
                "Timeout",
                "AWS did not answer in time",
                AwsErrorKind::Unavailable,
            ),
            SdkError::DispatchFailure(_) => Self::new(
                operation,
                "NetworkError",
                "could not reach AWS",
                AwsErrorKind::Unavailable,
            ),
            SdkError::ResponseError(_) => Self::new(
                operation,
                "InvalidResponse",
                "AWS sent a response that could not be read",
                AwsErrorKind::Unavailable,
            ),
            SdkError::ConstructionFailure(_) => Self::new(
                operation,
                "InvalidRequest",
                "the request could not be built",
                AwsErrorKind::Refused,
            ),
            _ => Self::new(
                operation,
                "Unknown",
                "unexpected failure",
                AwsErrorKind::Unavailable,
            ),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == AwsErrorKind::NotFound
    }
}
