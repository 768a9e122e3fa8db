//! xacct's adapters over the AWS SDK: the one SDK configuration, errors that keep AWS's
//! code, the role writer (idempotent, in place, rolled back on failure), resource existence
//! checks and resource discovery. Each SDK crate sits behind a feature so every function
//! links only the clients it uses.

pub mod config;
pub mod error;
pub mod humans;
pub mod roles;

#[cfg(any(test, feature = "test-util"))]
pub mod fake;

#[cfg(all(
    feature = "s3",
    feature = "ec2",
    feature = "lambda",
    feature = "rds",
    feature = "tagging"
))]
pub mod discovery;
#[cfg(feature = "iam")]
pub mod iam;
#[cfg(feature = "sts")]
pub mod identity;
#[cfg(all(feature = "sts", feature = "iam"))]
pub mod organization;
#[cfg(all(
    feature = "s3",
    feature = "ec2",
    feature = "lambda",
    feature = "rds",
    feature = "kms"
))]
pub mod resources;

pub use error::{AwsError, AwsErrorKind};
