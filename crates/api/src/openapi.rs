//! The schemas of the HTTP contract that no type derives: the error body and the field
//! schemas some request and response fields take with `#[schema(schema_with = ...)]`. The
//! answers' parts defined in `xacct-policy` and `xacct-aws` derive their own schemas there
//! (their `openapi` feature), as do IAM's named strings (re-exported here);
//! [`document`] assembles the whole OpenAPI document (`make openapi` writes `openapi.yaml`).

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};
pub use xacct_policy::openapi::{
    AccessLevel, AccessLevelFilter, AccountId, AllowedServicePrincipal, Arn, ExternalId, GroupName,
    IamPrincipalArn, Principal, Region, RoleArn, RoleId, RoleName, SwitchRoleUrl, UserName, absent,
    constant, described_reference, null, pattern, reference, untyped,
};

#[cfg(all(feature = "owner", feature = "requestor", feature = "discovery"))]
pub mod document;
#[cfg(all(feature = "owner", feature = "requestor", feature = "discovery"))]
pub use document::{ApiDoc, OPERATIONS, Operation, document, query_parameters, yaml};

/// `service:ActionName`, as answers write actions.
pub const ACTION: &str = "^[a-z0-9-]+:[A-Za-z0-9_-]+$";

/// An error that always names the field at fault.
#[derive(Debug)]
pub struct FieldError;
impl PartialSchema for FieldError {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("An error that always names the field at fault."))
            .required("error")
            .property("error", ObjectBuilder::new().required("field"))
            .into()
    }
}
impl ToSchema for FieldError {}

/// `retryable`: present only as `true`.
pub fn retryable() -> Schema {
    constant(json!(true))
        .schema_type(Type::Boolean)
        .description(Some(
            "Present, and `true`, only when the same request may succeed later.",
        ))
        .into()
}

/// An array of strings.
pub fn strings(items: ObjectBuilder) -> ArrayBuilder {
    ArrayBuilder::new().items(items.schema_type(Type::String))
}

/// A map of policy documents by name (`additionalProperties: PolicyDocument`).
pub fn policies_by_name(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(reference("PolicyDocument")))
}

/// An object schema of `properties`, for the `oneOf` alternatives that say which fields go
/// together.
pub fn alternative(
    title: Option<&str>,
    required: &[&str],
    properties: &[(&str, RefOr<Schema>)],
) -> RefOr<Schema> {
    let mut object = untyped().title(title);
    for field in required {
        object = object.required(*field);
    }
    for (name, schema) in properties {
        object = object.property(*name, schema.clone());
    }
    object.into()
}

/// `{"type": "string"}` / `{"type": "null"}` for the alternatives.
pub fn present() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// `schema` together with exactly one of `alternatives` (JSON Schema's `properties` and
/// `oneOf` side by side, which utoipa writes as `allOf`).
pub fn one_of_shapes(schema: RefOr<Schema>, alternatives: Vec<RefOr<Schema>>) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new();
    for alternative in alternatives {
        one_of = one_of.item(alternative);
    }
    AllOfBuilder::new().item(schema).item(one_of).into()
}

/// The property must be absent (JSON Schema's `false`).
pub fn absent_property() -> RefOr<Schema> {
    absent()
}

/// `CreateOwnerRoleRequest.actions`.
#[cfg(feature = "owner")]
pub fn requested_actions() -> ArrayBuilder {
    strings(pattern("^[A-Za-z0-9-]+:[A-Za-z0-9_-]{1,128}$"))
        .description(Some(
            "The actions to grant, each `service:ActionName` of the resource's service and \
             applicable to it; no wildcards, no duplicates, no permissions-management actions \
             unless `allow_permissions_management`.",
        ))
        .min_items(Some(1))
        .max_items(Some(crate::create_owner_role::MAX_ACTIONS))
        .unique_items(true)
}

/// `CreateOwnerRoleRequest.requestor_role_arn`: a role ARN, empty, or `null`.
pub fn requestor_role_arn() -> OneOfBuilder {
    OneOfBuilder::new()
        .description(Some(
            "The requestor role that may assume this one (it may not exist yet); a role ARN in \
             `requestor_account_id`. Without it (`null` or empty), any principal of the \
             requestor account that the requestor allows may.",
        ))
        .item(reference("RoleArn"))
        .item(constant(json!("")).schema_type(Type::String))
        .item(null())
}

/// `CreateOwnerRoleResponse.actions`.
pub fn granted_actions() -> ArrayBuilder {
    strings(pattern("^[A-Za-z0-9-]+:[A-Za-z0-9_-]+$"))
        .description(Some("The actions granted, sorted."))
}

/// `ActionEntry.resources`.
pub fn action_resources() -> ArrayBuilder {
    strings(ObjectBuilder::new().min_length(Some(1))).description(Some(
        "Every ARN a grant of it includes: a Lambda function's `:*` versions and aliases, the \
         snapshot of `CreateDBSnapshot`, ...",
    ))
}

/// `Grant.actions`.
pub fn live_actions() -> ArrayBuilder {
    strings(ObjectBuilder::new().min_length(Some(1))).description(Some(
        "The actions the live `xacct-grant` policy allows, sorted; empty when that policy is \
         gone.",
    ))
}

/// `CheckOwnerRoleResponse.allowed_actions`.
pub fn allowed_actions() -> ArrayBuilder {
    strings(pattern(ACTION)).description(Some(
        "The actions of `actions` that are allowed, without duplicates.",
    ))
}

/// `CheckOwnerRoleResponse.permissions_policies`.
pub fn role_policies() -> ObjectBuilder {
    policies_by_name("The role's inline policies, by name.")
}

/// `CheckRequestorResponse.policies`.
pub fn principal_policies() -> ObjectBuilder {
    policies_by_name(
        "The policies that decide what the principal may do, by name: a role's inline \
         policies and its attached managed policies (by ARN); a group's or user's xacct \
         policy, when it has one.",
    )
}
