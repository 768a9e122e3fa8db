//! The OpenAPI schemas of IAM's vocabulary (enabled by the `openapi` feature): named strings
//! (ARNs, IDs, names), the policy document's JSON shape, and the helpers that build them.
//! Types of this crate and of `xacct-aws` that answers carry derive their schemas where they
//! are defined, with these as the types of their string fields; `xacct-api` assembles the
//! document.

use std::borrow::Cow;

use serde_json::{Value, json};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::document::PolicyDocument;

/// A `$ref` to the component schema `name`.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// A `$ref` to `name` with a description beside it (OpenAPI 3.1 allows both).
pub fn described_reference(name: &str, description: &str) -> RefOr<Schema> {
    let mut reference = Ref::from_schema_name(name);
    reference.description = description.to_owned();
    RefOr::Ref(reference)
}

/// `{"type": "null"}`: the other choice of a nullable reference.
pub fn null() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Null).into()
}

/// A schema of no particular type, to constrain a part of one defined elsewhere.
pub fn untyped() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue)
}

/// Exactly one value (JSON Schema's `const`, which utoipa writes as a one-value `enum`).
pub fn constant(value: Value) -> ObjectBuilder {
    untyped().enum_values(Some([value]))
}

/// A string with a pattern.
pub fn pattern(pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
}

/// A schema no value matches: a property that must be absent.
pub fn absent() -> RefOr<Schema> {
    untyped().enum_values(Some(Vec::<Value>::new())).into()
}

/// A named string schema with a pattern and its other rules.
macro_rules! named_string {
    ($(#[doc = $doc:literal])* $name:ident, $description:expr, $pattern:expr $(, $method:ident($value:expr))* $(,)?) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let schema = pattern($pattern)$(.$method($value))*;
                let description: Option<&str> = $description;
                schema.description(description).into()
            }
        }
        impl ToSchema for $name {}
    };
}

/// A named string schema with an enumeration.
macro_rules! named_enum {
    ($(#[doc = $doc:literal])* $name:ident, $description:expr, [$($value:literal),+ $(,)?]) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let description: Option<&str> = $description;
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(description)
                    .enum_values(Some([$($value),+]))
                    .into()
            }
        }
        impl ToSchema for $name {}
    };
}

named_string!(
    /// Any ARN.
    Arn,
    None,
    "^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:[^\\s]+$",
    max_length(Some(2048)),
);
named_string!(
    /// A role ARN.
    RoleArn,
    Some(
        "An IAM role ARN: a 12-digit account, an optional path, and a role name (1 to 64 \
         characters of letters, digits and `_+=,.@-`). No wildcards."
    ),
    "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@/-]*/)?[A-Za-z0-9_+=,.@-]{1,64}$",
);
named_string!(
    /// A role, group or user ARN.
    IamPrincipalArn,
    Some("An IAM role, group or user ARN."),
    "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|group|user)/([A-Za-z0-9_+=,.@/-]*/)?[A-Za-z0-9_+=,.@-]{1,128}$",
);
named_string!(
    /// A role name.
    RoleName,
    Some("An IAM role name without its path."),
    "^[A-Za-z0-9_+=,.@-]{1,64}$",
);
named_string!(
    /// A group name.
    GroupName,
    Some("An IAM group name without its path."),
    "^[A-Za-z0-9_+=,.@-]{1,128}$",
);
named_string!(
    /// A user name.
    UserName,
    Some("An IAM user name without its path."),
    "^[A-Za-z0-9_+=,.@-]{1,64}$",
);
named_string!(
    /// IAM's RoleId.
    RoleId,
    None,
    "^[A-Za-z0-9_]{16,128}$",
);
named_string!(
    /// An External ID.
    ExternalId,
    Some(
        "The `sts:ExternalId` the requestor presents; 2 to 1,224 characters of letters, \
         digits and `_+=,.@:/-`."
    ),
    "^[A-Za-z0-9_+=,.@:/-]{2,1224}$",
);
named_string!(
    /// A 12-digit account ID.
    AccountId,
    None,
    "^[0-9]{12}$",
);
named_string!(
    /// A region name.
    Region,
    None,
    "^[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)*-[0-9]+$",
    max_length(Some(32)),
);
named_string!(
    /// The console's switch-role link.
    SwitchRoleUrl,
    Some(
        "The AWS console's switch-role link for the owner role, filled in: account, role \
         name with its path, and a display name."
    ),
    "^https://signin\\.(aws\\.amazon\\.com|amazonaws\\.cn|amazonaws-us-gov\\.com)/switchrole\\?account=[0-9]{12}&roleName=[A-Za-z0-9._~%-]+&displayName=[A-Za-z0-9._~%-]*$",
);

named_enum!(
    /// An access level, as answers write it.
    AccessLevel,
    Some("IAM's access level of an action, as AWS writes it."),
    ["List", "Read", "Write", "Permissions management", "Tagging"]
);
named_enum!(
    /// An access level, as requests write it.
    AccessLevelFilter,
    Some(
        "An access level in a request; see the `access_levels` parameter for the loose \
         matching."
    ),
    ["list", "read", "write", "permissions-management", "tagging"]
);
named_enum!(
    /// The service principals a requestor role may trust.
    AllowedServicePrincipal,
    Some("Service principals a requestor role may trust."),
    [
        "lambda.amazonaws.com",
        "ec2.amazonaws.com",
        "ecs-tasks.amazonaws.com",
        "states.amazonaws.com",
        "codebuild.amazonaws.com",
        "glue.amazonaws.com",
        "batch.amazonaws.com",
    ]
);

/// The JSON shape of [`PolicyDocument`], which serializes itself by hand.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = PolicyDocument,
    description = "An IAM policy document in the JSON IAM uses. xacct writes `Statement` as an \
        array and a single value of `Action`, `Resource`, a principal kind or a condition key as \
        a string."
)]
pub struct PolicyDocumentSchema {
    #[serde(rename = "Version")]
    #[schema(inline, required = false)]
    pub version: PolicyVersion,
    #[serde(rename = "Id")]
    #[schema(required = false)]
    pub id: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

#[derive(Debug, ToSchema)]
pub enum PolicyVersion {
    #[serde(rename = "2012-10-17")]
    Current,
    #[serde(rename = "2008-10-17")]
    Old,
}

/// One statement of a policy document.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Statement {
    #[schema(required = false)]
    pub sid: String,
    #[schema(inline)]
    pub effect: Effect,
    #[schema(required = false)]
    pub principal: Principal,
    #[schema(required = false)]
    pub not_principal: Principal,
    #[schema(required = false)]
    pub action: StringOrList,
    #[schema(required = false)]
    pub not_action: StringOrList,
    #[schema(required = false)]
    pub resource: StringOrList,
    #[schema(required = false)]
    pub not_resource: StringOrList,
    #[schema(schema_with = condition, required = false)]
    pub condition: Value,
}

#[derive(Debug, ToSchema)]
pub enum Effect {
    Allow,
    Deny,
}

/// One value or several.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Several(Vec<String>),
}

fn condition() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Operator, then condition key, then one value or several.",
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(reference("StringOrList"))),
        ))
}

/// `*`, or principal kinds with their values.
#[derive(Debug)]
pub struct Principal;
impl PartialSchema for Principal {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "`*`, or principal kinds (`AWS`, `Service`, `Federated`, `CanonicalUser`) with \
                 one value or several.",
            ))
            .item(constant(json!("*")).schema_type(Type::String))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .min_properties(Some(1))
                    .additional_properties(Some(reference("StringOrList"))),
            )
            .into()
    }
}
impl ToSchema for Principal {}

impl PartialSchema for PolicyDocument {
    fn schema() -> RefOr<Schema> {
        PolicyDocumentSchema::schema()
    }
}

impl ToSchema for PolicyDocument {
    fn name() -> Cow<'static, str> {
        PolicyDocumentSchema::name()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        PolicyDocumentSchema::schemas(schemas);
    }
}
