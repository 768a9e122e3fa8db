//! xacct's IAM knowledge, with no I/O: ARNs and identifiers, policy documents, AWS's action
//! catalog, least-privilege permission and trust policy builders, validation findings and a
//! policy evaluator that follows AWS's documented evaluation logic.

pub mod access_diff;
pub mod arn;
pub mod catalog;
pub mod check;
pub mod database;
pub mod deployment;
pub mod document;
pub mod drift;
pub mod encryption;
pub mod eval;
pub mod expiry;
pub mod grant;
pub mod handoff;
pub mod ids;
pub mod naming;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod organization;
pub mod owner_grant;
pub mod permissions;
pub mod resource_side;
pub mod role;
pub mod tags;
pub mod trust;
pub mod validate;

pub use arn::{Arn, ArnError};
pub use document::{Condition, Effect, PolicyDocument, Principal, Statement};
pub use ids::{
    AccountId, Action, DbUser, ExternalId, IdError, OrganizationId, Partition, RoleName,
    ServicePrincipal,
};
