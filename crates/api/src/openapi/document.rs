//! The OpenAPI document itself: info, servers, tags, the nine operations (declared on
//! documentation-only functions, as the handlers are Lambda services rather than routes) with
//! their parameters and every answer, and the shared responses.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::server::{ServerBuilder, ServerVariableBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToResponse, ToSchema};

use xacct_aws::discovery::ServiceKind;

use super::{
    AccessLevelFilter, AccountId, Region, absent_property, alternative, constant,
    described_reference, null, one_of_shapes, present, reference, untyped,
};
use crate::create_owner_role::{CreateOwnerRoleRequest, CreateOwnerRoleResponse};
use crate::create_requestor_resources::{CreateRequestorRequest, CreateRequestorResponse};
use crate::list_accounts::ListAccountsResponse;
use crate::list_permissions::PermissionsResponse;
use crate::list_resources::ResourcesResponse;
use crate::owner_lifecycle::{
    CheckOwnerRoleRequest, CheckOwnerRoleResponse, ListGrantsResponse, RevokeResponse,
    RevokeRoleRequest,
};
use crate::requestor_lifecycle::{CheckRequestorResponse, RequestorTarget};

/// The document's introduction.
const DESCRIPTION: &str =
    "Least-privilege cross-account IAM roles between an owner and a requestor AWS account.

xacct is ten Lambda functions behind Function URLs: on the owner side (the account with the
resource) `list-resources`, `list-permissions`, `create-owner-role`, `list-grants`,
`check-owner-role`, `revoke-grant` and, in an organization hub only, `list-accounts`; on the requestor side (the account that needs
access) `create-requestor-resources`, `check-requestor-role` and
`revoke-requestor-resources`. This document describes each of them exactly as implemented
in `crates/api/src/`, from whose types it is generated (`make openapi`): JSON in and out,
errors everywhere as the `Error` schema.

**Hosts and paths.** Deployed, every function has a Function URL of its own, one host per
function (`https://<url-id>.lambda-url.<region>.on.aws/`), and answers at the root path `/`
of that host: send the request of an operation below to that function's own URL, without
the `/lambda-url/<name>/` prefix. The paths below are those of the local stack
(`make local`), where `cargo lambda watch` serves every function of the workspace under
`/lambda-url/<name>/` on one port per side: the owner functions (tag `owner`) on the owner
port (`XACCT_OWNER_PORT`, 9000) and the requestor functions (tag `requestor`) on the
requestor port (`XACCT_REQUESTOR_PORT`, 9001), each port running with that side's
credentials. Every function also answers on the other side's port, but there it acts in
the other account: use the server declared on its path (the requestor functions declare
the requestor server). `.local/stack.json` names the URLs of a running stack.

**Compatibility.** Fields may be added to answers; the ones listed here hold. Requests are
checked completely before any write (a few checks need reads: the caller's account ID,
the group or user, a policy already there), so a refused request changes nothing. Request
bodies are read as JSON whatever their `Content-Type`; unknown body fields, and unknown
query parameters of the GET operations, are refused with 400 (`UnknownField`,
`UnknownParameter`).

**Lifecycle.** What xacct creates it can list (`list-grants`), check (`check-owner-role`,
`check-requestor-role`: may the principal assume the role, what may the role do, has it
drifted from what xacct wrote) and take back (`revoke-grant`,
`revoke-requestor-resources`). xacct manages only roles under the path `/xacct/` tagged
`xacct:managed=true`, and on a group or user only an inline policy of its own name and
document; a revoke of anything else is refused with 409 and changes nothing. A revoke of
what is already gone is a 200 with `changed: false`.

**Organizations.** Deployed as an organization hub (`OrganizationId` set), every owner
operation but `list-permissions` takes an optional `account_id` (a query parameter of the
GET operations, a body field of the POST ones): the hub assumes its spoke role in that
member account, with a session naming the caller, and works there exactly as in its own
account; roles it creates there get the member's boundary
(`policy/xacct-spoke/xacct-boundary`). Without `account_id`, or with the hub's own, nothing
changes. A spoke role that cannot be used is a 403 `SpokeRoleUnreachable` naming
`account_id`; another account outside hub mode is a 400 `NotAHub`.

**Errors.** 400 bad input (naming the field and the rule), 404 the role, group or user does
not exist in this account, 405 wrong method, 409 a role or policy of that name that xacct
does not manage or that belongs to another grant (`retryable: true` for a concurrent
change), 413 a body over 64 KiB, 502 AWS refused or failed (AWS's error code is the `code`;
`retryable: true` for throttling, time-outs and AWS-side failures).
";

/// How a deployed request is signed.
const SIGV4: &str =
    "AWS Signature Version 4. Every deployed Function URL uses `AuthType: AWS_IAM`: sign each
request with SigV4 for service `lambda` in the function's region (the `Authorization`
header, with `X-Amz-Date`, `X-Amz-Content-Sha256` and, for temporary credentials,
`X-Amz-Security-Token`), as an IAM principal named in the stack's
`AllowedInvokerArn1..3` parameters. Lambda checks the signature before the function
runs: an unsigned or unauthorized request gets Lambda's own 403, not an `Error` body.
The local stack (`cargo lambda watch`) checks no signature.
";

/// The document, with every operation, schema and shared answer.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "xacct",
        description = DESCRIPTION,
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((
        url = "http://{host}:{port}",
        description = "Local stack, owner side (`cargo lambda watch` with the owner account's credentials). Deployed, each function has its own Function URL host instead; see the description above.",
        variables(
            ("host" = (default = "127.0.0.1")),
            ("port" = (default = "9000", description = "XACCT_OWNER_PORT")),
        ),
    )),
    security(("SigV4" = [])),
    tags(
        (name = "owner", description = "Functions deployed in the owner account (the one with the resource)."),
        (name = "requestor", description = "Functions deployed in the requestor account (the one that needs access)."),
    ),
    paths(
        list_resources,
        list_permissions_by_query,
        list_permissions,
        create_owner_role,
        list_grants,
        list_accounts,
        check_owner_role,
        revoke_grant,
        create_requestor_resources,
        check_requestor_role,
        revoke_requestor_resources,
    ),
    components(
        schemas(
            crate::error::ErrorBody,
            super::FieldError,
            super::Arn,
            super::RoleArn,
            super::IamPrincipalArn,
            super::RoleName,
            super::GroupName,
            super::UserName,
            super::RoleId,
            super::ExternalId,
            super::AccountId,
            super::Region,
            super::SwitchRoleUrl,
            xacct_aws::discovery::ServiceKind,
            xacct_aws::discovery::ResourceKind,
            super::AccessLevel,
            super::AccessLevelFilter,
            super::AllowedServicePrincipal,
            xacct_policy::eval::Decision,
            super::Principal,
            xacct_policy::document::PolicyDocument,
            PermissionsResponse,
        ),
        responses(
            Permissions,
            MethodNotAllowed,
            PayloadTooLarge,
            Conflict,
            RoleNotFound,
            AwsFailure,
            SpokeRoleUnreachable,
        ),
    ),
    modifiers(&Finish),
)]
pub struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as YAML, as `openapi.yaml` holds it.
pub fn yaml() -> Result<String, String> {
    let text = document().to_yaml().map_err(|e| e.to_string())?;
    Ok(if text.ends_with('\n') {
        text
    } else {
        format!("{text}\n")
    })
}

/// One operation of the document: the function that serves it, its method and its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub function: &'static str,
    pub method: &'static str,
    pub tag: &'static str,
}

const fn op(function: &'static str, method: &'static str, tag: &'static str) -> Operation {
    Operation {
        function,
        method,
        tag,
    }
}

/// Every operation, as the document declares them.
pub const OPERATIONS: &[Operation] = &[
    op("list-resources", "get", "owner"),
    op("list-permissions", "get", "owner"),
    op("list-permissions", "post", "owner"),
    op("create-owner-role", "post", "owner"),
    op("list-grants", "get", "owner"),
    op("list-accounts", "get", "owner"),
    op("check-owner-role", "post", "owner"),
    op("revoke-grant", "post", "owner"),
    op("create-requestor-resources", "post", "requestor"),
    op("check-requestor-role", "post", "requestor"),
    op("revoke-requestor-resources", "post", "requestor"),
];

/// The query parameters each GET operation documents, by function.
pub fn query_parameters() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("list-resources", names::<ListResourcesQuery>()),
        ("list-permissions", names::<ListPermissionsQuery>()),
        ("list-grants", names::<ListGrantsQuery>()),
        ("list-accounts", names::<ListAccountsQuery>()),
    ]
}

fn names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| None)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// What the derives cannot say: the dialect, the SigV4 scheme, the requestor server on the
/// requestor paths, the shapes of the request and response bodies that take exactly one of
/// several fields, and the `check-requestor-role` request.
#[derive(Debug)]
struct Finish;

impl Modify for Finish {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.json_schema_dialect =
            Some("https://spec.openapis.org/oas/3.1/dialect/base".to_owned());
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "SigV4",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Authorization",
                    SIGV4,
                ))),
            );
            let schemas = &mut components.schemas;
            // Answers' parts whose every field is listed: nothing else may appear in them.
            for name in ["AccessDiff", "AccessPair", "TrustCondition"] {
                if let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(name) {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
            let (name, schema) = crate::list_permissions::request_schema();
            schemas.insert(name.into_owned(), schema);
            if let Some(revoke) = schemas.get("RevokeRequestorRequest").cloned() {
                schemas.insert(
                    "CheckRequestorRequest".to_owned(),
                    check_requestor_request(revoke),
                );
            }
            for (name, shapes) in [
                ("CreateRequestorRequest", create_requestor_shapes()),
                ("CreateRequestorResponse", created_requestor_shapes()),
                ("CheckRequestorRequest", principal_shapes(false)),
                ("RevokeRequestorRequest", principal_shapes(true)),
                ("CheckRequestorResponse", check_requestor_shapes()),
            ] {
                if let Some(schema) = schemas.remove(name) {
                    schemas.insert(name.to_owned(), one_of_shapes(schema, shapes));
                }
            }
        }
        for operation in OPERATIONS.iter().filter(|o| o.tag == "requestor") {
            if let Some(item) = openapi.paths.paths.get_mut(&path(operation.function)) {
                item.servers = Some(vec![requestor_server(operation.function)]);
            }
        }
    }
}

/// The local path of a function.
pub fn path(function: &str) -> String {
    format!("/lambda-url/{function}/")
}

fn requestor_server(function: &str) -> utoipa::openapi::server::Server {
    ServerBuilder::new()
        .url("http://{host}:{port}")
        .description(Some(format!(
            "Local stack, requestor side (`cargo lambda watch` with the requestor account's \
             credentials). Deployed: the Function URL of `{function}` in the requestor \
             account, at its root path."
        )))
        .parameter(
            "host",
            ServerVariableBuilder::new().default_value("127.0.0.1"),
        )
        .parameter(
            "port",
            ServerVariableBuilder::new()
                .default_value("9001")
                .description(Some("XACCT_REQUESTOR_PORT")),
        )
        .build()
}

/// `check-requestor-role` reads the same fields as `revoke-requestor-resources`, and always
/// needs `owner_role_arn`.
fn check_requestor_request(revoke: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = revoke else {
        return revoke;
    };
    object.description = Some(
        "Exactly one of `role_arn`, `group_name` and `user_name` (a `null` one counts as \
         absent)."
            .to_owned(),
    );
    object.properties.insert(
        "role_arn".to_owned(),
        utoipa::openapi::schema::OneOfBuilder::new()
            .description(Some(
                "A role of this account, such as one `create-requestor-resources` made. Blanks \
                 around it are ignored.",
            ))
            .item(reference("RoleArn"))
            .item(null())
            .into(),
    );
    object.properties.insert(
        "owner_role_arn".to_owned(),
        described_reference(
            "RoleArn",
            "The owner role the principal should be able to assume, and nothing else. Blanks \
             around it are ignored.",
        ),
    );
    object.required = vec!["owner_role_arn".to_owned()];
    RefOr::T(Schema::Object(object))
}

fn null_or_string(present_field: &str, fields: &[&str]) -> Vec<(String, RefOr<Schema>)> {
    fields
        .iter()
        .map(|field| {
            let schema = if *field == present_field {
                present()
            } else {
                null()
            };
            ((*field).to_owned(), schema)
        })
        .collect()
}

fn shape(
    title: Option<&str>,
    required: &[&str],
    properties: Vec<(String, RefOr<Schema>)>,
) -> RefOr<Schema> {
    let properties: Vec<(&str, RefOr<Schema>)> = properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    alternative(title, required, &properties)
}

/// A role, a group or a user: exactly one of them; with `owner_role_arn` for people on a
/// revoke.
fn principal_shapes(revoke: bool) -> Vec<RefOr<Schema>> {
    let fields = ["role_arn", "group_name", "user_name"];
    ["role", "group", "user"]
        .into_iter()
        .zip(fields)
        .map(|(title, field)| {
            let mut properties = null_or_string(field, &fields);
            let mut required = vec![field];
            if revoke && title != "role" {
                properties.push(("owner_role_arn".to_owned(), present()));
                required.push("owner_role_arn");
            }
            shape(Some(title), &required, properties)
        })
        .collect()
}

/// A service (no MFA), a group or a user (no role name).
fn create_requestor_shapes() -> Vec<RefOr<Schema>> {
    let fields = ["service_principal", "group_name", "user_name"];
    ["service", "group", "user"]
        .into_iter()
        .zip(fields)
        .map(|(title, field)| {
            let mut properties = null_or_string(field, &fields);
            if title == "service" {
                properties.push(("require_mfa".to_owned(), constant(json!(false)).into()));
            } else {
                properties.push(("role_name".to_owned(), null()));
            }
            shape(Some(title), &[field], properties)
        })
        .collect()
}

/// A service's role, or a group's or user's policy.
fn created_requestor_shapes() -> Vec<RefOr<Schema>> {
    let people = ["service_principal", "group_name", "user_name"];
    ["service", "group", "user"]
        .into_iter()
        .zip(people)
        .map(|(kind, field)| {
            let mut properties = null_or_string(field, &people);
            properties.push(("principal_type".to_owned(), constant(json!(kind)).into()));
            let service = kind == "service";
            let arn_kind = if service { "role" } else { kind };
            properties.push((
                "principal_arn".to_owned(),
                untyped().pattern(Some(format!(":{arn_kind}/"))).into(),
            ));
            let role = if service { present() } else { null() };
            properties.push(("role_arn".to_owned(), role.clone()));
            properties.push(("role_name".to_owned(), role));
            if service {
                properties.push((
                    "trust_policy".to_owned(),
                    ObjectBuilder::new().schema_type(Type::Object).into(),
                ));
                properties.push(("switch_role_url".to_owned(), absent_property()));
                shape(None, &[], properties)
            } else {
                properties.push(("role_id".to_owned(), null()));
                properties.push(("trust_policy".to_owned(), null()));
                properties.push(("instance_profile_arn".to_owned(), absent_property()));
                shape(None, &["switch_role_url"], properties)
            }
        })
        .collect()
}

/// `ok` exactly when there is no problem.
fn check_requestor_shapes() -> Vec<RefOr<Schema>> {
    let problems = |ok: bool| -> RefOr<Schema> {
        let array = utoipa::openapi::schema::ArrayBuilder::new().items(untyped());
        if ok {
            array.max_items(Some(0)).into()
        } else {
            array.min_items(Some(1)).into()
        }
    };
    [true, false]
        .into_iter()
        .map(|ok| {
            shape(
                None,
                &[],
                vec![
                    ("ok".to_owned(), constant(json!(ok)).into()),
                    ("problems".to_owned(), problems(ok)),
                ],
            )
        })
        .collect()
}

// --- errors --------------------------------------------------------------------------

/// Which field an error names.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// Maybe none.
    Any,
    /// Always one.
    Some,
    /// Always this one.
    Is(&'static str),
    /// Always one of these.
    OneOf(&'static [&'static str]),
}

/// The codes an error answer may carry.
#[derive(Debug, Clone, Copy)]
enum Codes {
    One(&'static str),
    OneOf(&'static [&'static str]),
}

fn error_schema(codes: Codes, field: Field) -> Schema {
    let mut all = AllOfBuilder::new().item(reference("Error"));
    if !matches!(field, Field::Any) {
        all = all.item(reference("FieldError"));
    }
    let code: RefOr<Schema> = match codes {
        Codes::One(code) => constant(json!(code)).into(),
        Codes::OneOf(codes) => untyped().enum_values(Some(codes.iter().copied())).into(),
    };
    let mut error = untyped().property("code", code);
    match field {
        Field::Is(name) => error = error.property("field", constant(json!(name))),
        Field::OneOf(names) => {
            error = error.property("field", untyped().enum_values(Some(names.iter().copied())));
        }
        Field::Any | Field::Some => {}
    }
    all.item(untyped().property("error", error)).into()
}

fn json_response(description: &str, schema: impl Into<RefOr<Schema>>) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(schema)).build(),
    )
}

/// An error answer of one operation.
fn error(status: u16, description: &str, codes: Codes, field: Field) -> (String, RefOr<Response>) {
    (
        status.to_string(),
        json_response(description, error_schema(codes, field))
            .build()
            .into(),
    )
}

/// A shared answer, by reference.
fn shared(status: u16, name: &str) -> (String, RefOr<Response>) {
    (
        status.to_string(),
        RefOr::Ref(Ref::from_response_name(name)),
    )
}

/// The error answers of one operation.
macro_rules! errors {
    ($(#[doc = $doc:literal])* $name:ident: [$($entry:expr),* $(,)?]) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                [$($entry),*].into_iter().collect()
            }
        }
    };
}

/// A shared answer (`components/responses`).
macro_rules! shared_response {
    ($(#[doc = $doc:literal])* $name:ident => $response:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $name;
        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), $response.into())
            }
        }
    };
}

shared_response!(
    /// The `list-permissions` answer.
    Permissions => json_response(
        "The actions that apply to the resource.",
        reference("PermissionsResponse"),
    )
    .build()
);
shared_response!(
    /// 405.
    MethodNotAllowed => json_response(
        "Any other HTTP method than the ones this path documents (`MethodNotAllowed`). OpenAPI \
         cannot attach a response to an undocumented method, so it is listed on each operation.",
        error_schema(Codes::One("MethodNotAllowed"), Field::Any),
    )
    .header(
        "Allow",
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(
                "The methods the path takes, as this document lists them: `GET`, `POST`, or \
                 `GET, POST`.",
            ))
            .build(),
    )
    .build()
);
shared_response!(
    /// 413.
    PayloadTooLarge => json_response(
        "The request body is over 64 KiB (65,536 bytes) (`PayloadTooLarge`).",
        error_schema(Codes::One("PayloadTooLarge"), Field::Any),
    )
    .build()
);
shared_response!(
    /// 409 of the creates.
    Conflict => json_response(
        "A role of that name exists that xacct does not manage (`RoleNotManaged`, field \
         `role_name`) or that belongs to another grant (`RoleInUse`, field `role_name`), or whose \
         permissions boundary differs (`PermissionsBoundaryMismatch`); a repeat of \
         `create-owner-role` that would trust more principals than the grant does now \
         (`TrustWouldWiden`: it drops or changes `requestor_role_arn`, `require_mfa` or \
         `principal_org_id`, the field named; send `widen_trust: true` to mean it); for a group \
         or user, an inline policy of that name that xacct did not write (`PolicyNotManaged`, \
         field `group_name` or `user_name`); or a concurrent change (`ConcurrentModification`, \
         or AWS's `EntityAlreadyExists`), with `retryable: true`.",
        reference("Error"),
    )
    .build()
);
shared_response!(
    /// 404 of a role.
    RoleNotFound => json_response(
        "The role does not exist in this account (`RoleNotFound`, field `role_arn`).",
        error_schema(Codes::One("RoleNotFound"), Field::Is("role_arn")),
    )
    .build()
);
shared_response!(
    /// 403 of the owner operations in hub mode.
    SpokeRoleUnreachable => json_response(
        "Hub only: the member account `account_id` names cannot be worked in: its spoke role \
         cannot be assumed or is not there (the member stack is not deployed to it, or its \
         trust refuses the hub) (`SpokeRoleUnreachable`, field `account_id`). Nothing was done.",
        error_schema(Codes::One("SpokeRoleUnreachable"), Field::Is("account_id")),
    )
    .build()
);
shared_response!(
    /// 502.
    AwsFailure => json_response(
        "AWS refused or failed; `code` is AWS's error code (or `NetworkError`, `Timeout`, \
         `InvalidResponse`, `Unknown` when no usable answer came). `retryable: true` for \
         throttling, time-outs and AWS-side failures, when removing a partly created role \
         failed too (the message names the role to revoke), and when a revoke stopped part-way \
         (the message names what was removed; the same request finishes the job).",
        reference("Error"),
    )
    .build()
);

/// Body decoding failures, first among the 400 codes of every POST.
macro_rules! body_codes {
    ($($code:literal),* $(,)?) => {
        &[
            "MissingBody",
            "InvalidJson",
            "UnknownField",
            "DuplicateField",
            "MissingField",
            "InvalidType",
            $($code),*
        ]
    };
}

errors!(
    /// `list-resources`.
    ListResourcesErrors: [
        error(
            400,
            "Bad query parameter. Codes: `UnknownParameter`, `InvalidService`, `InvalidRegion`, \
             `InvalidLimit`, `InvalidCursor`, `InvalidNamePrefix`, `InvalidAccountId`, \
             `NotAHub` (another account outside hub mode); `field` names the parameter.",
            Codes::OneOf(&[
                "UnknownParameter",
                "InvalidService",
                "InvalidRegion",
                "InvalidLimit",
                "InvalidCursor",
                "InvalidNamePrefix",
                "InvalidAccountId",
                "NotAHub",
            ]),
            Field::Some,
        ),
        shared(403, "SpokeRoleUnreachable"),
        shared(405, "MethodNotAllowed"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `list-permissions`, GET.
    ListPermissionsByQueryErrors: [
        error(
            400,
            "Bad query parameter. Codes: `UnknownParameter`, `MissingArn`, `InvalidArn`, \
             `UnknownService`, `UnknownResourceType` (field `arn`), `InvalidAccessLevel`.",
            Codes::OneOf(&[
                "UnknownParameter",
                "MissingArn",
                "InvalidArn",
                "UnknownService",
                "UnknownResourceType",
                "InvalidAccessLevel",
            ]),
            Field::Some,
        ),
        shared(405, "MethodNotAllowed"),
    ]
);

errors!(
    /// `list-permissions`, POST.
    ListPermissionsErrors: [
        error(
            400,
            "Bad body. Codes: `MissingBody`, `InvalidJson`, `UnknownField`, `MissingField`, \
             `InvalidType`, `InvalidArn`, `UnknownService`, `UnknownResourceType`, \
             `InvalidAccessLevel`.",
            Codes::OneOf(body_codes!(
                "InvalidArn",
                "UnknownService",
                "UnknownResourceType",
                "InvalidAccessLevel",
            )),
            Field::Any,
        ),
        shared(405, "MethodNotAllowed"),
        shared(413, "PayloadTooLarge"),
    ]
);

errors!(
    /// `create-owner-role`.
    CreateOwnerRoleErrors: [
        error(
            400,
            "Bad input, refused before any write. `field` names the field when there is one: \
             body decoding (`MissingBody`, `InvalidJson`, `UnknownField`, `MissingField`, \
             `InvalidType`), identifiers (`InvalidArn`, `InvalidAccountId`, `InvalidRoleArn`, \
             `RoleAccountMismatch`, `InvalidExternalId`, `InvalidMaxSessionDuration`, \
             `InvalidRoleName`, `InvalidOrganizationId`), the resource (`UnknownService`, \
             `UnknownResourceType`, `ResourceInOtherAccount`, `OtherPartition`: an ARN of \
             another partition than xacct's, `PatternResource`: a `*` or `?` anywhere in it, \
             `OwnResource`: one of xacct's own functions, roles, log groups, stack or SAM's \
             artifact bucket, `RegionNotEnabled`: a region that does not exist or is not \
             enabled in the account, decided before any call to it), the expiry (`OneExpiry`: \
             both `expires_at` and `expires_in`, `InvalidExpiry`, `ExpiryInPast`, \
             `ExpiryTooFar`), the requestor (`SameAccount`), the actions (`TooManyActions`, \
             `NoActions`, `InvalidAction`, `WildcardAction`, `ActionOfOtherService`, \
             `UnknownAction`, `ActionNotApplicable`, `DuplicateAction`, \
             `PermissionsManagementNotAllowed`, `PolicyTooLarge`), the database login \
             (`InvalidDbUser`, `MissingDbUser`: `rds-db:connect` without `db_user`, \
             `DbUserWithoutConnect`, `DbUserNotApplicable`: a `db_user` for a resource that is \
             not a DB instance or cluster), the account (`InvalidAccountId`, `NotAHub`: \
             another `account_id` outside hub mode).",
            Codes::OneOf(body_codes!(
                "InvalidArn",
                "InvalidAccountId",
                "InvalidRoleArn",
                "RoleAccountMismatch",
                "InvalidExternalId",
                "InvalidMaxSessionDuration",
                "InvalidRoleName",
                "InvalidOrganizationId",
                "UnknownService",
                "UnknownResourceType",
                "ResourceInOtherAccount",
                "OtherPartition",
                "SameAccount",
                "TooManyActions",
                "SensitiveService",
                "PatternResource",
                "OwnResource",
                "RegionNotEnabled",
                "OneExpiry",
                "InvalidExpiry",
                "ExpiryInPast",
                "ExpiryTooFar",
                "NoActions",
                "InvalidAction",
                "WildcardAction",
                "ActionOfOtherService",
                "UnknownAction",
                "ActionNotApplicable",
                "DuplicateAction",
                "PermissionsManagementNotAllowed",
                "PolicyTooLarge",
                "InvalidDbUser",
                "MissingDbUser",
                "DbUserWithoutConnect",
                "DbUserNotApplicable",
                "NotAHub",
            )),
            Field::Any,
        ),
        shared(403, "SpokeRoleUnreachable"),
        error(
            404,
            "The resource does not exist in the owner account (`ResourceNotFound`, field \
             `resource_arn`).",
            Codes::One("ResourceNotFound"),
            Field::Is("resource_arn"),
        ),
        shared(405, "MethodNotAllowed"),
        shared(409, "Conflict"),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `list-grants`.
    ListGrantsErrors: [
        error(
            400,
            "Bad query parameter. Codes: `UnknownParameter`, `InvalidArn` (field \
             `resource_arn`), `InvalidAccountId` (field `requestor_account_id`), \
             `InvalidExpired` (field `expired`), `InvalidExpiry` (field `expiring_within`), \
             `InvalidCursor` (field `cursor`), `InvalidAccountId` / `NotAHub` (field \
             `account_id`: another account outside hub mode); `field` names the parameter.",
            Codes::OneOf(&[
                "UnknownParameter",
                "InvalidArn",
                "InvalidAccountId",
                "InvalidExpired",
                "InvalidExpiry",
                "InvalidCursor",
                "NotAHub",
            ]),
            Field::Some,
        ),
        shared(403, "SpokeRoleUnreachable"),
        shared(405, "MethodNotAllowed"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `list-accounts`.
    ListAccountsErrors: [
        error(
            400,
            "A query parameter: `list-accounts` takes none (`UnknownParameter`).",
            Codes::One("UnknownParameter"),
            Field::Some,
        ),
        shared(405, "MethodNotAllowed"),
        error(
            409,
            "This deployment is not an organization hub: its `OrganizationId` is empty \
             (`NotAHub`).",
            Codes::One("NotAHub"),
            Field::Any,
        ),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `check-owner-role`.
    CheckOwnerRoleErrors: [
        error(
            400,
            "Bad input: body decoding (`MissingBody`, `InvalidJson`, `UnknownField`, \
             `MissingField`, `InvalidType`), `InvalidArn` / `InvalidPrincipalArn` (field \
             `principal_arn`: it must name a principal of an account), `InvalidExternalId`, \
             `InvalidArn` / `InvalidRoleArn` / `RoleInOtherAccount` (field `role_arn`: a role of \
             this account), `UnknownService` / `UnknownResourceType` (field `role_arn`: the \
             grant's resource is not in the catalog), `InvalidAccountId` / `NotAHub` (field \
             `account_id`: another account outside hub mode).",
            Codes::OneOf(body_codes!(
                "InvalidArn",
                "InvalidPrincipalArn",
                "InvalidExternalId",
                "InvalidRoleArn",
                "RoleInOtherAccount",
                "OtherPartition",
                "UnknownService",
                "UnknownResourceType",
                "InvalidAccountId",
                "NotAHub",
            )),
            Field::Any,
        ),
        shared(403, "SpokeRoleUnreachable"),
        shared(404, "RoleNotFound"),
        shared(405, "MethodNotAllowed"),
        error(
            409,
            "The role is not xacct's (`RoleNotManaged`: not under `/xacct/` or not tagged \
             `xacct:managed=true`), or is an xacct role that records no grant (`NotAGrant`, such \
             as a requestor role); field `role_arn`.",
            Codes::OneOf(&["RoleNotManaged", "NotAGrant"]),
            Field::Is("role_arn"),
        ),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `revoke-grant`.
    RevokeGrantErrors: [
        error(
            400,
            "Bad input, refused before any write: body decoding (`MissingBody`, `InvalidJson`, \
             `UnknownField`, `MissingField`, `InvalidType`), `InvalidArn` / `InvalidRoleArn` / \
             `RoleInOtherAccount` / `OtherPartition` (field `role_arn`: a role of this account \
             and partition), `InvalidAccountId` / `NotAHub` (field `account_id`: another account \
             outside hub mode).",
            Codes::OneOf(body_codes!(
                "InvalidArn",
                "InvalidRoleArn",
                "RoleInOtherAccount",
                "OtherPartition",
                "InvalidAccountId",
                "NotAHub",
            )),
            Field::Any,
        ),
        shared(403, "SpokeRoleUnreachable"),
        shared(405, "MethodNotAllowed"),
        error(
            409,
            "Nothing was removed: the role is not xacct's (`RoleNotManaged`: not under \
             `/xacct/` or not tagged `xacct:managed=true`), or is an xacct role that records no \
             grant (`NotAGrant`, such as a requestor role); field `role_arn`.",
            Codes::OneOf(&["RoleNotManaged", "NotAGrant"]),
            Field::Is("role_arn"),
        ),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `create-requestor-resources`.
    CreateRequestorErrors: [
        error(
            400,
            "Bad input, refused before any write: body decoding (`MissingBody`, `InvalidJson`, \
             `UnknownField`, `InvalidType`), `InvalidArn` / `InvalidRoleArn` / `SameAccount` / \
             `OtherPartition` / `NotAnXacctRole` (a role outside `role/xacct/`: services, groups \
             and users may be pointed only at roles xacct made) (field `owner_role_arn`), \
             `MissingField` (none of `service_principal`, `group_name`, `user_name`; also for a \
             missing `owner_role_arn`), `OnePrincipalRequired` (more than one of them; field \
             `service_principal`), `InvalidServicePrincipal` / `ServicePrincipalNotAllowed` \
             (field `service_principal`), `InvalidName` (field `group_name` or `user_name`), \
             `MfaNotForServices` (field `require_mfa`: only people sign in with MFA), \
             `RoleNameNotForPeople` (field `role_name`: people get no role), \
             `InvalidExternalId`, `InvalidRoleName`, the expiry (field `expires_at`: \
             `InvalidExpiry`, `ExpiryInPast`).",
            Codes::OneOf(body_codes!(
                "InvalidArn",
                "InvalidRoleArn",
                "SameAccount",
                "OtherPartition",
                "OnePrincipalRequired",
                "InvalidServicePrincipal",
                "ServicePrincipalNotAllowed",
                "NotAnXacctRole",
                "InvalidName",
                "MfaNotForServices",
                "RoleNameNotForPeople",
                "InvalidExternalId",
                "InvalidRoleName",
                "InvalidExpiry",
                "ExpiryInPast",
            )),
            Field::Any,
        ),
        error(
            404,
            "The group or user does not exist in this account (`PrincipalNotFound`, field \
             `group_name` or `user_name`).",
            Codes::One("PrincipalNotFound"),
            Field::OneOf(&["group_name", "user_name"]),
        ),
        shared(405, "MethodNotAllowed"),
        shared(409, "Conflict"),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

/// The 400 codes of the requestor side's checks and revokes.
const REQUESTOR_TARGET_CODES: &[&str] = body_codes!(
    "OnePrincipalRequired",
    "InvalidName",
    "InvalidArn",
    "InvalidRoleArn",
    "RoleInOtherAccount",
    "OtherPartition",
);

errors!(
    /// `check-requestor-role`.
    CheckRequestorErrors: [
        error(
            400,
            "Bad input: body decoding (`MissingBody`, `InvalidJson`, `UnknownField`, \
             `InvalidType`), `OnePrincipalRequired` (not exactly one of `role_arn`, \
             `group_name`, `user_name`; field `role_arn`), `InvalidName` (field `group_name` or \
             `user_name`), `MissingField` / `InvalidArn` / `InvalidRoleArn` (field \
             `owner_role_arn`), `InvalidArn` / `InvalidRoleArn` / `RoleInOtherAccount` / \
             `OtherPartition` (field `role_arn`: a role of this account and partition).",
            Codes::OneOf(REQUESTOR_TARGET_CODES),
            Field::Any,
        ),
        error(
            404,
            "The role does not exist in this account (`RoleNotFound`, field `role_arn`), or the \
             group or user does not (`PrincipalNotFound`, field `group_name` or `user_name`).",
            Codes::OneOf(&["RoleNotFound", "PrincipalNotFound"]),
            Field::OneOf(&["role_arn", "group_name", "user_name"]),
        ),
        shared(405, "MethodNotAllowed"),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

errors!(
    /// `revoke-requestor-resources`.
    RevokeRequestorErrors: [
        error(
            400,
            "Bad input, refused before any write: body decoding (`MissingBody`, `InvalidJson`, \
             `UnknownField`, `InvalidType`), `OnePrincipalRequired` (not exactly one of \
             `role_arn`, `group_name`, `user_name`; field `role_arn`), `InvalidName` (field \
             `group_name` or `user_name`), `MissingField` / `InvalidArn` / `InvalidRoleArn` \
             (field `owner_role_arn`, for a group or user), `InvalidArn` / `InvalidRoleArn` / \
             `RoleInOtherAccount` / `OtherPartition` (field `role_arn`: a role of this account \
             and partition).",
            Codes::OneOf(REQUESTOR_TARGET_CODES),
            Field::Any,
        ),
        shared(405, "MethodNotAllowed"),
        error(
            409,
            "Nothing was removed: the role is not xacct's (`RoleNotManaged`: not under \
             `/xacct/` or not tagged `xacct:managed=true`) or is an xacct role that is not a \
             requestor role (`NotARequestorRole`), field `role_arn`; or the group's or user's \
             policy of that name is not one xacct writes (`PolicyNotManaged`, field \
             `group_name` or `user_name`).",
            Codes::OneOf(&["RoleNotManaged", "NotARequestorRole", "PolicyNotManaged"]),
            Field::OneOf(&["role_arn", "group_name", "user_name"]),
        ),
        shared(413, "PayloadTooLarge"),
        shared(502, "AwsFailure"),
    ]
);

// --- query parameters ----------------------------------------------------------------

#[derive(Debug, ToSchema)]
pub enum QueryBool {
    #[serde(rename = "true")]
    True,
    #[serde(rename = "false")]
    False,
}

/// The query of `list-resources`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListResourcesQuery {
    /// Services to list, comma-separated (the key may also be repeated); case-insensitive,
    /// blanks around values and empty values are ignored, duplicates are removed. Absent or
    /// empty: all four.
    #[param(style = Form, explode = false, value_type = Option<Vec<ServiceKind>>, example = json!(["s3", "ec2"]))]
    pub service: Option<Vec<String>>,
    /// Regions to list, comma-separated (the key may also be repeated); each must look like
    /// `us-east-1` (lowercase letters and digits in three or more `-`-separated parts, the
    /// last one digits, at most 32 characters). Absent or empty: every region enabled in the
    /// account.
    #[param(style = Form, explode = false, value_type = Option<Vec<Region>>, example = json!(["us-east-1"]))]
    pub region: Option<Vec<String>>,
    /// Only resources whose name starts with this, compared case-insensitively. Empty means
    /// no filter.
    #[param(max_length = 256)]
    pub name_prefix: Option<String>,
    /// Most resources in one page.
    #[param(minimum = 1, maximum = 1000, default = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, unchanged (opaque). Anything else is refused
    /// with 400 `InvalidCursor`; empty means the first page.
    pub cursor: Option<String>,
    /// Hub only: the accounts to list, comma-separated (the key may also be repeated), or
    /// `all` for every active account of the organization. Absent: the hub's own account,
    /// as without an organization. One account: it is listed through its spoke role, and a
    /// spoke that cannot be used is a 403 `SpokeRoleUnreachable`. Several, or `all`: they
    /// are listed `MemberAccountConcurrency` at a time, each resource carries its
    /// `account_id`, and an account that cannot be reached or listed is a partial failure
    /// with its `account_id`. Outside hub mode another account is a 400 `NotAHub`.
    #[param(style = Form, explode = false, value_type = Option<Vec<String>>, example = json!(["333333333333", "444444444444"]))]
    pub account_id: Option<Vec<String>>,
}

/// The query of `list-permissions`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPermissionsQuery {
    /// The resource's ARN; blanks around it are ignored. Missing: 400 `MissingArn`. When the
    /// key is repeated, the first value counts.
    #[param(example = "arn:aws:s3:::xacct-demo-reports")]
    pub arn: String,
    /// Only actions at these access levels, comma-separated (the key may also be repeated).
    /// Matched loosely: case, blanks and punctuation are ignored, so `read`, `Read`,
    /// `permissions-management` and `Permissions management` all work. Absent or empty:
    /// every level.
    #[param(style = Form, explode = false, value_type = Option<Vec<AccessLevelFilter>>, example = json!(["read", "list"]))]
    pub access_levels: Option<Vec<String>>,
}

/// The query of `list-grants`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListGrantsQuery {
    /// Only grants on this resource (the ARN as `create-owner-role` answered it); blanks
    /// around it are ignored. A value that is not an ARN, an empty one too, is refused with
    /// 400 `InvalidArn`.
    #[param(example = "arn:aws:s3:::xacct-demo-reports")]
    pub resource_arn: Option<String>,
    /// Only grants to this account. Anything but 12 digits is refused with 400
    /// `InvalidAccountId`.
    #[param(value_type = Option<AccountId>, example = "222222222222")]
    pub requestor_account_id: Option<String>,
    /// `true`: only grants that have ended (their trust refuses every `sts:AssumeRole`);
    /// `false`: only grants that have not (permanent ones included). Anything else is refused
    /// with 400 `InvalidExpired`.
    #[param(inline)]
    pub expired: Option<QueryBool>,
    /// Only grants that end within this long from now (`7d`, `12h`, `90m`), ended ones
    /// included (combine with `expired=false` for those still running). A value that is not
    /// such a duration is refused with 400 `InvalidExpiry`.
    #[param(pattern = "^[0-9]+[dhm]$")]
    pub expiring_within: Option<String>,
    /// The `next_cursor` of the previous page, unchanged (opaque: IAM's marker,
    /// base64url-encoded). A value that is not base64url of some text, an empty one too, is
    /// refused with 400 `InvalidCursor`; one that decodes but is not a marker IAM gave is
    /// refused by IAM (502).
    pub cursor: Option<String>,
    /// Hub only: the member account whose grants to list, through its spoke role (403
    /// `SpokeRoleUnreachable` when it cannot be used). Absent, or the hub's own: the hub's
    /// account. Outside hub mode another account is a 400 `NotAHub`.
    #[param(value_type = Option<AccountId>, example = "333333333333")]
    pub account_id: Option<String>,
}

/// The query of `list-accounts`: none.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsQuery {}

// --- operations ----------------------------------------------------------------------

/// The owner account's S3 buckets, EC2 instances, Lambda functions, RDS instances and Aurora clusters.
///
/// Every enabled region by default (`DescribeRegions`: opted in or needing no opt-in),
/// tagged or not. Regions and services are queried concurrently and paginated to the end;
/// a failing service or region lands in `partial_failures` instead of failing the answer.
/// EC2 and RDS tags come with their listings; S3 and Lambda tags come from each region's
/// Resource Groups Tagging API (`GetResources`), so a tag changed in the last minutes may
/// not show yet, and a region whose tags can't be read still lists its buckets and
/// functions, without tags, with `GetResources` failures for `s3` and `lambda` in
/// `partial_failures`. Results are sorted by (service, region, name, arn); a page holds at
/// most `limit` resources and at most 4 MB. Any query parameter not listed here is refused
/// with 400 `UnknownParameter`.
#[utoipa::path(
    get,
    path = "/lambda-url/list-resources/",
    operation_id = "listResources",
    tag = "owner",
    params(ListResourcesQuery),
    responses(
        (status = 200, description = "One page of resources.", body = ResourcesResponse),
        ListResourcesErrors,
    ),
)]
pub fn list_resources() {}

/// Every IAM action that applies to a resource, with the ARN each is granted on.
///
/// Any ARN of any service in AWS's service authorization data, grouped by access level
/// (sorted by access level, then action). No AWS call. Any query parameter not listed here
/// is refused with 400 `UnknownParameter`.
#[utoipa::path(
    get,
    path = "/lambda-url/list-permissions/",
    operation_id = "listPermissionsByQuery",
    tag = "owner",
    params(ListPermissionsQuery),
    responses(
        (status = 200, response = Permissions),
        ListPermissionsByQueryErrors,
    ),
)]
pub fn list_permissions_by_query() {}

/// The same as the GET form, with the ARN in a JSON body.
///
/// The query string is not read in this form.
#[utoipa::path(
    post,
    path = "/lambda-url/list-permissions/",
    operation_id = "listPermissions",
    tag = "owner",
    request_body(
        content = inline(ListPermissionsRequestRef),
        examples(
            ("bucket" = (
                summary = "Read and list actions on a bucket",
                value = json!({"arn": "arn:aws:s3:::xacct-demo-reports", "access_levels": ["read", "list"]}),
            )),
            ("database" = (
                summary = "Every action on an RDS instance",
                value = json!({"arn": "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg"}),
            )),
        ),
    ),
    responses(
        (status = 200, response = Permissions),
        ListPermissionsErrors,
    ),
)]
pub fn list_permissions() {}

/// A role that trusts only the requestor (with an External ID) and grants exactly the chosen actions.
///
/// In the owner account, under the path `/xacct/`, tagged `xacct:managed=true`,
/// `xacct:resource`, `xacct:requestor` and `xacct:mfa` (and `xacct:requestor-role`,
/// `xacct:org` when given: the grant's inputs, which `list-grants`, `check-owner-role` and
/// `revoke-grant` read back), with the permissions boundary when the function has one. Its
/// trust policy names the requestor account root (with an `aws:PrincipalArn` condition when
/// `requestor_role_arn` is given) and always an `sts:ExternalId` condition; its inline
/// policy `xacct-grant` grants the actions on the ARNs AWS authorizes them on.
///
/// A new role costs two IAM writes (`CreateRole` with everything on it, `PutRolePolicy`),
/// a repeat none (`changed: false`), changing the actions one; changes are made in place
/// (the role keeps its RoleId). A failure after `CreateRole` removes the role again. Without
/// `external_id` one is generated (40 characters from a cryptographic RNG) and kept on
/// repeats. `dry_run` computes the same answer and writes nothing. The answer's `handoff`
/// is what the requestor needs to use the role (a profile, the `aws sts assume-role`
/// command, the console link) and the role as CloudFormation and Terraform.
#[utoipa::path(
    post,
    path = "/lambda-url/create-owner-role/",
    operation_id = "createOwnerRole",
    tag = "owner",
    request_body(
        content = CreateOwnerRoleRequest,
        examples(
            ("dry_run" = (
                summary = "Plan a read-only grant on a bucket, write nothing",
                value = json!({
                    "resource_arn": "arn:aws:s3:::xacct-demo-reports",
                    "actions": ["s3:GetObject", "s3:ListBucket"],
                    "requestor_account_id": "222222222222",
                    "requestor_role_arn": "arn:aws:iam::222222222222:role/xacct/reports-reader",
                    "dry_run": true,
                }),
            )),
            ("create" = (
                summary = "Create (or keep) a named grant on a database",
                value = json!({
                    "resource_arn": "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg",
                    "actions": ["rds:DescribeDBInstances", "rds:CreateDBSnapshot"],
                    "requestor_account_id": "222222222222",
                    "role_name": "xacct-openapi-example-db",
                    "external_id": "xacct-openapi-example-external-id",
                    "max_session_duration": 7200,
                    "require_mfa": true,
                }),
            )),
        ),
    ),
    responses(
        (status = 200, description = "The role as it is now (or would be, for a dry run).", body = CreateOwnerRoleResponse),
        CreateOwnerRoleErrors,
    ),
)]
pub fn create_owner_role() {}

/// Every grant (owner role) xacct manages in the owner account.
///
/// The roles under `/xacct/` tagged `xacct:managed=true` that record a grant (a resource
/// and a requestor), each with its resource, requestor, granted actions (the `Allow`
/// actions of its inline policy `xacct-grant`), External ID (from its trust policy),
/// creation and last use. Reads only: one `iam:GetAccountAuthorizationDetails` page (up to
/// 1,000 roles of the account, with their tags, inline policies and last use) per answer,
/// no read per role, in IAM's order: a page may hold fewer grants than roles read, or
/// none, and still have a `next_cursor`. Any query parameter not listed here is refused
/// with 400 `UnknownParameter`; when a key is repeated, the first value counts.
#[utoipa::path(
    get,
    path = "/lambda-url/list-grants/",
    operation_id = "listGrants",
    tag = "owner",
    params(ListGrantsQuery),
    responses(
        (status = 200, description = "One page of grants.", body = ListGrantsResponse),
        ListGrantsErrors,
    ),
)]
pub fn list_grants() {}

/// Hub only: the organization's accounts, and whether the hub can work in each.
///
/// Every account `organizations:ListAccounts` lists, sorted by account ID, with `spoke`:
/// `hub` for the hub's own account, `reachable` when the spoke role was assumed (with a
/// session naming the caller) and read itself (`iam:GetRole`), `unreachable` otherwise,
/// with `reason` (the failed call's error code, or `AccountNotActive` for an account that
/// is not `ACTIVE`, which is not tried). Accounts are tried `MemberAccountConcurrency` at a
/// time. Changes nothing. Any query parameter is refused with 400 `UnknownParameter`.
#[utoipa::path(
    get,
    path = "/lambda-url/list-accounts/",
    operation_id = "listAccounts",
    tag = "owner",
    params(ListAccountsQuery),
    responses(
        (status = 200, description = "The organization's accounts.", body = ListAccountsResponse),
        ListAccountsErrors,
    ),
)]
pub fn list_accounts() {}

/// Whether a grant works, what its role may do, and how it drifted from what xacct wrote; changes nothing.
///
/// Reads the live role `role_arn` (an xacct grant in this account), its inline and attached
/// policies and its permissions boundary, and evaluates them with AWS's documented policy
/// evaluation logic. Every decision names the statement that made it.
///
/// - `assume_checks`: `sts:AssumeRole` on the role by `principal_arn` as given (with
///   `external_id` and `mfa`), and, when the trust policy requires an External ID, the same
///   call without one and with a wrong one (both should be denied). The requestor's own
///   policies cannot be read from the owner account; they are taken to allow the call
///   (`check-requestor-role` checks them). `can_assume`, `reason` and `statement` repeat the
///   first case.
/// - `actions`: every action the catalog has for the grant's resource, on every ARN it
///   needs, for a session of the role; `allowed_actions` names the allowed ones.
/// - `drift`: how the role differs from what xacct would write for the grant its tags
///   record, with its live External ID and the live actions that apply: trust policy and
///   `xacct-grant` statements added, removed or changed, inline policies added or removed,
///   managed policies attached, a different permissions boundary. Empty when nothing
///   drifted.
#[utoipa::path(
    post,
    path = "/lambda-url/check-owner-role/",
    operation_id = "checkOwnerRole",
    tag = "owner",
    request_body(
        content = CheckOwnerRoleRequest,
        examples(
            ("requestor_role" = (
                summary = "May the requestor's role assume the grant, with the External ID and MFA?",
                value = json!({
                    "role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                    "principal_arn": "arn:aws:iam::222222222222:role/xacct/xacct-openapi-example-ec2",
                    "external_id": "xacct-openapi-example-external-id",
                    "mfa": true,
                }),
            )),
        ),
    ),
    responses(
        (status = 200, description = "The evaluation of the live role.", body = CheckOwnerRoleResponse),
        CheckOwnerRoleErrors,
    ),
)]
pub fn check_owner_role() {}

/// Takes a grant back; deletes its role.
///
/// Deletes the owner role `role_arn` (an xacct grant in this account): its inline policies,
/// the attachments of managed policies someone attached by hand (the managed policies
/// themselves stay), and the role. `removed` lists what went, in that order. A role that
/// is already gone is a 200 with `changed: false` and nothing removed. A role that is not
/// xacct's, or not a grant, is refused with 409 and left as it is. When AWS fails after
/// the first deletion, the answer is a 502 with `retryable: true` whose message names what
/// was removed: the role has no permissions left, and the same request finishes the job.
#[utoipa::path(
    post,
    path = "/lambda-url/revoke-grant/",
    operation_id = "revokeGrant",
    tag = "owner",
    request_body(
        content = RevokeRoleRequest,
        examples(
            ("grant" = (
                summary = "Take back a grant on a database",
                value = json!({"role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db"}),
            )),
        ),
    ),
    responses(
        (status = 200, description = "What was removed; nothing when it was already gone.", body = RevokeResponse),
        RevokeGrantErrors,
    ),
)]
pub fn revoke_grant() {}

/// What lets a service, or an existing group or user, assume the owner role, and nothing else.
///
/// Exactly one of `service_principal`, `group_name` and `user_name` names who gets access.
///
/// A service (`service_principal`): a role in the requestor account, under the path
/// `/xacct/`, tagged `xacct:managed=true`, `xacct:owner-role` and
/// `xacct:service-principal`, that only that service may assume; its inline policy
/// `xacct-assume-owner-role` allows `sts:AssumeRole` on `owner_role_arn` and nothing else.
/// For `ec2.amazonaws.com` also an instance profile of the same name holding the role.
///
/// People (`group_name` or `user_name`, an existing IAM group or user; a missing one is a
/// 404): an inline policy `xacct-assume-<owner account>-<owner role name>` on it that
/// allows the same, and with `require_mfa` only from an MFA-signed session. No role is
/// made, so `role_name` is refused; a policy of that name that xacct did not write is left
/// as it is (409 `PolicyNotManaged`). `switch_role_url` is the console link into the owner
/// role.
///
/// Repeats change nothing; `dry_run` writes nothing. `external_id` is checked and echoed
/// (the requestor presents it when it assumes the owner role; the hand-off carries it);
/// it is not stored. `handoff` is what the requestor needs to use the grant (a profile,
/// the `aws sts assume-role` command, for people the console link) and what was made here
/// as CloudFormation and Terraform.
#[utoipa::path(
    post,
    path = "/lambda-url/create-requestor-resources/",
    operation_id = "createRequestorResources",
    tag = "requestor",
    request_body(
        content = CreateRequestorRequest,
        examples(
            ("dry_run" = (
                summary = "Plan a Lambda execution role, write nothing",
                value = json!({
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                    "service_principal": "lambda.amazonaws.com",
                    "dry_run": true,
                }),
            )),
            ("ec2" = (
                summary = "Create (or keep) an EC2 role with its instance profile",
                value = json!({
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                    "service_principal": "ec2.amazonaws.com",
                    "external_id": "xacct-openapi-example-external-id",
                    "role_name": "xacct-openapi-example-ec2",
                }),
            )),
            ("group" = (
                summary = "Let a group's members assume the owner role, only with MFA",
                value = json!({
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                    "group_name": "xacct-demo-analysts",
                    "external_id": "xacct-openapi-example-external-id",
                    "require_mfa": true,
                }),
            )),
            ("user" = (
                summary = "Plan the same for one user, write nothing",
                value = json!({
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                    "user_name": "xacct-demo-alice",
                    "dry_run": true,
                }),
            )),
        ),
    ),
    responses(
        (
            status = 200,
            description = "The role (and instance profile), or the group's or user's policy, as it is now, or would be for a dry run.",
            body = CreateRequestorResponse,
        ),
        CreateRequestorErrors,
    ),
)]
pub fn create_requestor_resources() {}

/// Whether the requestor side may assume the owner role, and nothing else; changes nothing.
///
/// Exactly one of `role_arn`, `group_name` and `user_name` names who is checked. A
/// requestor role (`role_arn`, any role of this account): its inline and attached
/// policies, within its permissions boundary, must allow a session of it `sts:AssumeRole`
/// on `owner_role_arn`, and no `Allow` statement may allow anything else; xacct must
/// manage it, for that owner role; its trust policy must let exactly the service recorded
/// at creation (tag `xacct:service-principal`) assume it. A group or user: its inline
/// policy xacct names for the owner role (`xacct-assume-<owner account>-<owner role
/// name>`) must be there and allow exactly that. The owner role's trust policy is in the
/// other account and is not read (`check-owner-role` checks it).
///
/// `ok` is `true` when `problems` is empty. Problem codes: `NOT_MANAGED`,
/// `OTHER_OWNER_ROLE`, `ASSUME_NOT_ALLOWED`, `EXTRA_PERMISSION`, `NO_SERVICE_PRINCIPAL`,
/// `TRUST_MISSING`, `TRUST_EXTRA`, `TRUST_PRINCIPAL` (roles), `POLICY_MISSING` (groups
/// and users). A role xacct does not manage is checked too (`NOT_MANAGED`), not refused.
#[utoipa::path(
    post,
    path = "/lambda-url/check-requestor-role/",
    operation_id = "checkRequestorRole",
    tag = "requestor",
    request_body(
        content = inline(CheckRequestorRequestRef),
        examples(
            ("role" = (
                summary = "Check an EC2 role made by create-requestor-resources",
                value = json!({
                    "role_arn": "arn:aws:iam::222222222222:role/xacct/xacct-openapi-example-ec2",
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                }),
            )),
            ("group" = (
                summary = "Check a group's policy",
                value = json!({
                    "group_name": "xacct-demo-analysts",
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                }),
            )),
        ),
    ),
    responses(
        (
            status = 200,
            description = "The principal's policies and what is wrong with them, if anything.",
            body = CheckRequestorResponse,
        ),
        CheckRequestorErrors,
    ),
)]
pub fn check_requestor_role() {}

/// Takes the requestor side back; deletes the role, or a group's or user's policy.
///
/// Exactly one of `role_arn`, `group_name` and `user_name` names what is revoked. A
/// requestor role (`role_arn`, in this account; `owner_role_arn` is not read): its inline
/// policies, the attachments of managed policies someone attached by hand, its instance
/// profile when xacct made one, and the role are deleted; a role xacct does not manage
/// (409 `RoleNotManaged`) or an xacct role that is not a requestor role (409
/// `NotARequestorRole`, such as an owner grant) is left as it is. A group or user
/// (`owner_role_arn` required): its inline policy xacct names for the owner role is
/// deleted when it holds a document xacct writes; another document under that name is
/// left as it is (409 `PolicyNotManaged`); the group or user itself always stays.
///
/// What is already gone (the role, the policy, the group or user) is a 200 with
/// `changed: false` and nothing removed. When AWS fails after the first deletion of a
/// role, the answer is a 502 with `retryable: true` naming what was removed; the same
/// request finishes the job.
#[utoipa::path(
    post,
    path = "/lambda-url/revoke-requestor-resources/",
    operation_id = "revokeRequestorResources",
    tag = "requestor",
    request_body(
        content = RequestorTarget,
        examples(
            ("role" = (
                summary = "Delete an EC2 role and its instance profile",
                value = json!({"role_arn": "arn:aws:iam::222222222222:role/xacct/xacct-openapi-example-ec2"}),
            )),
            ("user" = (
                summary = "Delete a user's policy for one owner role",
                value = json!({
                    "user_name": "xacct-demo-alice",
                    "owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-openapi-example-db",
                }),
            )),
        ),
    ),
    responses(
        (status = 200, description = "What was removed; nothing when it was already gone.", body = RevokeResponse),
        RevokeRequestorErrors,
    ),
)]
pub fn revoke_requestor_resources() {}

/// A reference to a component schema this crate does not name as a type: the private
/// `list-permissions` body, and the `check-requestor-role` body made from the revoke's.
macro_rules! schema_reference {
    ($name:ident, $component:literal) => {
        #[doc = concat!("`#/components/schemas/", $component, "`.")]
        #[derive(Debug)]
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                reference($component)
            }
        }
        impl ToSchema for $name {}
    };
}

schema_reference!(ListPermissionsRequestRef, "ListPermissionsRequest");
schema_reference!(CheckRequestorRequestRef, "CheckRequestorRequest");
