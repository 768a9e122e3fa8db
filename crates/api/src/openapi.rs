//! The schemas of the HTTP contract that are not request or response types of this crate:
//! named strings (ARNs, IDs, names), the error body, and the answers' parts defined in
//! `xacct-policy` and `xacct-aws`. The types refer to them with `#[schema(value_type = ...)]`;
//! [`document`] assembles the whole OpenAPI document (`make openapi` writes `openapi.yaml`).

use serde_json::{Value, json};
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

#[cfg(all(feature = "owner", feature = "requestor", feature = "discovery"))]
pub mod document;
#[cfg(all(feature = "owner", feature = "requestor", feature = "discovery"))]
pub use document::{ApiDoc, OPERATIONS, Operation, document, query_parameters, yaml};

/// `service:ActionName`, as answers write actions.
pub const ACTION: &str = "^[a-z0-9-]+:[A-Za-z0-9_-]+$";

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
fn absent() -> RefOr<Schema> {
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
    /// A service `list-resources` discovers.
    ServiceKind,
    Some("A service `list-resources` discovers."),
    ["s3", "ec2", "lambda", "rds"]
);
named_enum!(
    /// A discovered resource's catalog type.
    ResourceType,
    Some("The catalog resource type of a discovered resource."),
    ["bucket", "instance", "function", "db", "cluster"]
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
named_enum!(
    /// What AWS would decide.
    Decision,
    Some("What AWS would decide."),
    ["allow", "implicit_deny", "explicit_deny"]
);

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

/// A discovered resource (`xacct-aws`'s `DiscoveredResource`).
#[derive(Debug, ToSchema)]
#[schema(as = DiscoveredResource, description = "A resource `list-resources` found.")]
pub struct DiscoveredResourceSchema {
    #[schema(value_type = Arn)]
    pub arn: String,
    #[schema(value_type = ServiceKind)]
    pub service: String,
    #[schema(value_type = ResourceType, rename = "type")]
    pub resource_type: String,
    pub name: String,
    #[schema(value_type = Region)]
    pub region: String,
    /// The resource's tags; `{}` when it has none.
    pub tags: std::collections::BTreeMap<String, String>,
    /// The account it is in; present when the request named `account_id`.
    #[schema(value_type = Option<AccountId>, required = false)]
    pub account_id: Option<String>,
}

/// A service in a region that could not be listed (`xacct-aws`'s `PartialFailure`).
#[derive(Debug, ToSchema)]
#[schema(
    as = PartialFailure,
    description = "A service in a region, or (across accounts) a whole account, that could not be listed."
)]
pub struct PartialFailureSchema {
    /// The account; present when the request named `account_id`.
    #[schema(value_type = Option<AccountId>, required = false)]
    pub account_id: Option<String>,
    /// Absent when a whole account could not be reached or listed.
    #[schema(value_type = Option<ServiceKind>, required = false)]
    pub service: Option<String>,
    #[schema(value_type = Option<Region>, required = false)]
    pub region: Option<String>,
    /// AWS's error code.
    #[schema(min_length = 1)]
    pub code: String,
    pub message: String,
}

/// A policy check result (`xacct-policy`'s `Finding`).
#[derive(Debug, ToSchema)]
#[schema(
    as = Finding,
    description = "A policy check result, in the spirit of IAM Access Analyzer's policy validation."
)]
pub struct FindingSchema {
    #[schema(inline)]
    pub severity: Severity,
    /// Stable, for machines, such as `WILDCARD_ACTION`, `RESOURCE_NOT_VERIFIED`.
    #[schema(pattern = "^[A-Z][A-Z0-9_]*$")]
    pub code: String,
    pub message: String,
    /// The statement it is about, its Sid or `#n` counting from 1; absent when about the
    /// whole document.
    #[schema(required = false)]
    pub statement: String,
}

#[derive(Debug, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum Severity {
    ERROR,
    #[allow(non_camel_case_types)]
    SECURITY_WARNING,
    WARNING,
    SUGGESTION,
}

/// What a change does to access (`xacct-policy`'s `AccessDiff`).
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = AccessDiff,
    description = "What the change does to access, in access terms: the action and resource \
        pairs it grants and revokes, the principals that may now or no longer assume the role \
        (for a person's policy, always empty), and the conditions on them added or dropped. \
        `change` labels it: `new` (nothing existed), `none`, `narrows` (only less access), \
        `widens` (only more), `mixed`, or `replaces` (a condition replaced by one on the same \
        key, such as a new External ID). In every dry run too. A widening of who may assume is \
        refused unless the request says `widen_trust` (409 `TrustWouldWiden`)."
)]
pub struct AccessDiffSchema {
    #[schema(inline)]
    pub change: ChangeKind,
    pub granted: Vec<AccessPair>,
    pub revoked: Vec<AccessPair>,
    pub principals_added: Vec<String>,
    pub principals_removed: Vec<String>,
    pub conditions_added: Vec<TrustCondition>,
    pub conditions_removed: Vec<TrustCondition>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    New,
    None,
    Narrows,
    Widens,
    Mixed,
    Replaces,
}

/// An action on a resource.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessPair {
    pub action: String,
    pub resource: String,
}

/// A condition on assuming a role.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustCondition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// What the requestor needs (`xacct-policy`'s `HandOff`).
#[derive(Debug, ToSchema)]
#[schema(
    as = HandOff,
    description = "What the requestor needs to use the grant, as text ready to paste, and what \
        the request made as infrastructure code."
)]
pub struct HandOffSchema {
    /// The profile name xacct suggests, `xacct-` and the owner role's name, at most 64
    /// characters.
    #[schema(max_length = 64, pattern = "^xacct-[A-Za-z0-9_+=,.@-]*$")]
    pub profile_name: String,
    /// An `~/.aws/config` section (`[profile <profile_name>]` with `role_arn`,
    /// `source_profile` or `credential_source`, `external_id`, `mfa_serial`, ...); `null` for
    /// a service that runs no code reading one (such as `states.amazonaws.com`).
    #[schema(required = true, pattern = "^\\[profile ")]
    pub aws_config: Option<String>,
    /// The `aws sts assume-role` command for the owner role, shell-quoted.
    #[schema(pattern = "^aws sts assume-role --role-arn ")]
    pub assume_role_command: String,
    /// For people, the console's switch-role link into the owner role (the console has no
    /// External ID field: with one, use the profile or the command); `null` for a service.
    #[schema(required = true, value_type = Option<SwitchRoleUrl>)]
    pub switch_role_url: Option<String>,
    /// A CloudFormation template (JSON) that makes the same role or policy.
    #[schema(min_length = 1)]
    pub cloudformation: String,
    /// Terraform (HCL) that makes the same role or policy.
    #[schema(min_length = 1)]
    pub terraform: String,
    /// For a database login grant, the `aws rds generate-db-auth-token` command (host, port,
    /// region, user) that gets the password for one connection; absent otherwise.
    #[schema(required = false, pattern = "^aws rds generate-db-auth-token ")]
    pub db_auth_token_command: String,
    /// What is left to do by hand, such as adding the External ID or an MFA device.
    pub notes: Vec<String>,
}

/// One `sts:AssumeRole` case (`xacct-policy`'s `AssumeCase`).
#[derive(Debug, ToSchema)]
#[schema(
    as = AssumeCheck,
    description = "One way of calling `sts:AssumeRole` on the role, and what AWS would decide."
)]
pub struct AssumeCheckSchema {
    #[schema(inline)]
    pub case: AssumeCaseKind,
    #[schema(value_type = Decision)]
    pub decision: String,
    /// The statement that decided, as `<policy> statement <Sid or #n>`; `null` when none did
    /// (an implicit deny).
    #[schema(required = true)]
    pub statement: Option<String>,
    /// Why, for people; for a denial it names the condition that was not met.
    pub reason: String,
}

#[derive(Debug, ToSchema)]
pub enum AssumeCaseKind {
    #[serde(rename = "as given")]
    AsGiven,
    #[serde(rename = "without an external id")]
    WithoutExternalId,
    #[serde(rename = "with a wrong external id")]
    WrongExternalId,
}

/// One action on one ARN (`xacct-policy`'s `ActionCheck`).
#[derive(Debug, ToSchema)]
#[schema(
    as = ActionCheck,
    description = "What a session of the role may do with one action on one ARN."
)]
pub struct ActionCheckSchema {
    /// `service:ActionName`
    #[schema(pattern = "^[a-z0-9-]+:[A-Za-z0-9_-]+$")]
    pub action: String,
    /// The ARN the action was evaluated on; `*` when it has no resource-level support.
    #[schema(min_length = 1)]
    pub resource: String,
    #[schema(value_type = Decision)]
    pub decision: String,
    /// The statement that decided; `null` when none did.
    #[schema(required = true)]
    pub statement: Option<String>,
}

/// How a role drifted (`xacct-policy`'s `Drift`).
#[derive(Debug, ToSchema)]
#[schema(
    as = Drift,
    description = "How one part of the role differs from what xacct would write for its grant."
)]
pub struct DriftSchema {
    #[schema(inline)]
    pub document: DriftDocument,
    #[schema(inline)]
    pub change: DriftChange,
    pub message: String,
    /// What xacct would have there (a statement, a boundary ARN, ...); absent when nothing.
    #[schema(value_type = Option<Value>)]
    pub expected: Option<Value>,
    /// What the role has there (a statement, a policy document, an ARN, ...); absent when
    /// nothing.
    #[schema(value_type = Option<Value>)]
    pub actual: Option<Value>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftDocument {
    TrustPolicy,
    PermissionsPolicy,
    InlinePolicies,
    AttachedPolicies,
    PermissionsBoundary,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftChange {
    Added,
    Removed,
    Changed,
}

/// An IAM policy document (`xacct-policy`'s `PolicyDocument`).
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

/// `CreateRequestorResponse.principal_type`.
pub fn principal_type() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["service", "group", "user"]))
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

/// `Problem.code`.
pub fn problem_code() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "NOT_MANAGED",
            "OTHER_OWNER_ROLE",
            "ASSUME_NOT_ALLOWED",
            "EXTRA_PERMISSION",
            "NO_SERVICE_PRINCIPAL",
            "TRUST_MISSING",
            "TRUST_EXTRA",
            "TRUST_PRINCIPAL",
            "POLICY_MISSING",
        ]))
}
