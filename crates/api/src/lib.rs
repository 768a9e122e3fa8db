//! xacct's HTTP contract: request and response types shared by the functions, the CLI and
//! the console; the one error-to-status mapping; Function URL glue; and one handler module
//! per function. Handlers are generic over the narrow traits of `xacct-aws`, so tests can
//! call them without AWS.

pub mod error;
pub mod http;
pub mod list_permissions;
pub mod openapi;
pub mod runtime;

#[cfg(feature = "owner")]
pub mod create_owner_role;
#[cfg(feature = "requestor")]
pub mod create_requestor_resources;
#[cfg(feature = "iam")]
pub mod expire_grants;
#[cfg(feature = "iam")]
pub mod handoff;
#[cfg(feature = "iam")]
pub mod hub;
#[cfg(feature = "iam")]
pub mod lifecycle;
#[cfg(feature = "hub")]
pub mod list_accounts;
#[cfg(feature = "discovery")]
pub mod list_resources;
#[cfg(feature = "iam")]
pub mod owner_lifecycle;
#[cfg(feature = "iam")]
pub mod requestor_lifecycle;

pub use error::ApiError;
