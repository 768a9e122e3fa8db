//! `list-permissions`: the actions that apply to a resource, grouped by access level, each
//! with the exact ARN it would be granted on, what it carries on a KMS-encrypted bucket, and
//! for a database the login (`rds-db:connect`). No AWS call: the catalog is compiled in.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_policy::Arn;
use xacct_policy::catalog::AccessLevel;
use xacct_policy::database::{self, accepts_logins};
use xacct_policy::encryption::key_actions_for;
use xacct_policy::permissions::{ActionPermission, ResourcePermissions, permissions_for};

use crate::error::ApiError;
use crate::http::{Methods, caller_arn, json_body, ok, query, require_method, respond};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ListPermissionsRequest)]
struct Body_ {
    /// The resource's ARN; blanks around it are ignored.
    arn: String,
    /// Only actions at these levels; `null`, absent or empty: every level. Each item may also
    /// be a comma-separated list, matched loosely as the `access_levels` query parameter.
    #[serde(default)]
    #[schema(value_type = Option<Vec<crate::openapi::AccessLevelFilter>>)]
    access_levels: Option<Vec<String>>,
}

/// The POST body's schema, named `ListPermissionsRequest`, for the OpenAPI document.
pub fn request_schema() -> (
    std::borrow::Cow<'static, str>,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
) {
    use utoipa::{PartialSchema, ToSchema};
    (Body_::name(), Body_::schema())
}

/// One action in the answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ActionEntry {
    /// `service:ActionName`
    #[schema(pattern = "^[a-z0-9-]+:[A-Za-z0-9_-]+$")]
    pub action: String,
    #[schema(value_type = crate::openapi::AccessLevel)]
    pub access_level: AccessLevel,
    pub description: String,
    /// The ARN the action is granted on; `*` when it has no resource-level support.
    #[schema(min_length = 1)]
    pub resource: String,
    /// Every ARN a grant of it includes (qualified versions, other required resources).
    #[schema(schema_with = crate::openapi::action_resources)]
    pub resources: Vec<String>,
    /// Whether the action can be scoped to the resource rather than `*`.
    pub resource_level: bool,
    /// On a bucket whose default encryption is SSE-KMS with a customer managed key, a
    /// grant of this action also grants these on the key (through S3 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_actions: Vec<String>,
    /// Request fields a grant of this action needs (`db_user` for `rds-db:connect`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
}

/// The answer of `list-permissions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PermissionsResponse {
    #[schema(value_type = crate::openapi::Arn)]
    pub arn: String,
    /// The service prefix, such as `s3`.
    #[schema(pattern = "^[a-z0-9-]+$")]
    pub service: String,
    /// The service's name, such as `Amazon S3`.
    pub service_name: String,
    /// The catalog resource type the ARN was recognized as, such as `bucket`.
    pub resource_type: String,
    pub actions: Vec<ActionEntry>,
}

fn entry(a: &ActionPermission) -> ActionEntry {
    ActionEntry {
        action: a.action.full_name(),
        access_level: a.action.access_level(),
        description: a.action.description().to_owned(),
        resource: a.resource().to_owned(),
        resources: a.targets.iter().map(|t| t.arn.clone()).collect(),
        resource_level: a.resource_level(),
        key_actions: key_actions_for(&a.action.full_name())
            .iter()
            .map(|k| (*k).to_owned())
            .collect(),
        requires: Vec::new(),
    }
}

/// The database login: `rds-db:connect` on a dbuser ARN, shown as the catalog's template
/// (`...:dbuser:${DbiResourceId}/${DbUserName}`): the grant fills in the database's resource
/// ID and `db_user`.
fn login_entry() -> Option<ActionEntry> {
    let def = database::connect_action()?;
    let dbuser = def.resource_types().next()?.0.arn_template().to_owned();
    Some(ActionEntry {
        action: def.full_name(),
        access_level: def.access_level(),
        description: def.description().to_owned(),
        resource: dbuser.clone(),
        resources: vec![dbuser],
        resource_level: true,
        key_actions: Vec::new(),
        requires: vec!["db_user".to_owned()],
    })
}

/// The response body for one ARN, optionally only some access levels.
pub fn permissions_response(
    p: &ResourcePermissions,
    levels: Option<&[AccessLevel]>,
) -> PermissionsResponse {
    let mut actions: Vec<ActionEntry> = p
        .actions
        .iter()
        .filter(|a| levels.is_none_or(|l| l.contains(&a.action.access_level())))
        .map(entry)
        .chain(
            accepts_logins(&p.arn)
                .then(login_entry)
                .flatten()
                .filter(|e| levels.is_none_or(|l| l.contains(&e.access_level))),
        )
        .collect();
    actions.sort_by(|a, b| (a.access_level, &a.action).cmp(&(b.access_level, &b.action)));
    PermissionsResponse {
        arn: p.arn.to_string(),
        service: p.service.prefix().to_owned(),
        service_name: p.service.name().to_owned(),
        resource_type: p.resource_type().to_owned(),
        actions,
    }
}

fn parse_levels(raw: &[String]) -> Result<Vec<AccessLevel>, ApiError> {
    raw.iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            AccessLevel::parse_loose(v).ok_or_else(|| {
                ApiError::invalid("access_levels", "InvalidAccessLevel", format!("access_levels must be among `list`, `read`, `write`, `permissions-management`, `tagging`, got `{}`", crate::error::shorten(v)))
            })
        })
        .collect()
}

/// The query parameters of the GET form.
pub const PARAMETERS: &[&str] = &["arn", "access_levels"];

/// The actions of the ARN in the query (GET) or body (POST).
async fn run(req: &Request) -> Result<PermissionsResponse, ApiError> {
    require_method(req, Methods::GetOrPost)?;
    let (raw_arn, raw_levels) = if req.method() == "GET" {
        let q = query(req, PARAMETERS)?;
        let arn = q
            .get("arn")
            .and_then(|v| v.first())
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid(
                    "arn",
                    "MissingArn",
                    "arn is required, e.g. `?arn=arn:aws:s3:::my-bucket`",
                )
            })?;
        (arn, q.get("access_levels").cloned())
    } else {
        let body: Body_ = json_body(req)?;
        (body.arn, body.access_levels)
    };
    let arn: Arn = raw_arn
        .trim()
        .parse()
        .map_err(|e| ApiError::arn("arn", &e))?;
    let levels = raw_levels.as_deref().map(parse_levels).transpose()?;
    let permissions = permissions_for(&arn).map_err(|e| ApiError::from(e).on("arn"))?;
    Ok(permissions_response(
        &permissions,
        levels.as_deref().filter(|l| !l.is_empty()),
    ))
}

/// The Lambda handler.
pub async fn handle(req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    let caller = caller_arn(&req);
    let answer = run(&req).await.map(|a| ok(&a));
    Ok(respond(&caller, "list-permissions", answer))
}
