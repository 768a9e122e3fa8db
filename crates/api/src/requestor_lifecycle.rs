//! The requestor side after creation: `check-requestor-role` (may it assume the owner role,
//! and nothing else; does its trust name the expected service) and
//! `revoke-requestor-resources`.

use std::collections::BTreeMap;

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::humans::{Human, HumanError, HumanStore, remove_human_policy};
use xacct_aws::roles::{RoleState, RoleStore, read_role_policies};
use xacct_policy::check::session_arn;
use xacct_policy::eval::{
    Context, Labeled, PolicySet, Request as EvalRequest, RequestPrincipal, evaluate_principal_side,
};
use xacct_policy::naming::human_policy_name;
use xacct_policy::trust::human_assume_policy;
use xacct_policy::{Arn, Effect, PolicyDocument};

use crate::error::{ApiError, Failure};
use crate::http::serve_json;
use crate::lifecycle::{IamDeps, is_xacct_role, role_arn, role_here, role_not_found, tags};
use crate::owner_lifecycle::{RevokeResponse, revoke_role};

/// Who on the requestor side: a role (for a service) or an existing group or user.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = RevokeRequestorRequest,
    description = "Exactly one of `role_arn`, `group_name` and `user_name` (a `null` one counts \
        as absent); `owner_role_arn` with a group or user."
)]
pub struct RequestorTarget {
    /// A requestor role of this account. Blanks around it are ignored.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::RoleArn>)]
    pub role_arn: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::GroupName>)]
    pub group_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::UserName>)]
    pub user_name: Option<String>,
    /// With a group or user, the owner role whose policy to delete; not read with a role.
    /// Blanks around it are ignored.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::RoleArn>)]
    pub owner_role_arn: Option<String>,
}

enum Target {
    Role(String),
    Person(Human),
}

/// A group or user name as IAM allows it: 1 to `max` characters of `[A-Za-z0-9+=,.@_-]`.
pub fn human_name(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= max
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::invalid(
            field,
            "InvalidName",
            format!(
                "{field} must be 1 to {max} characters of letters, digits and `+=,.@-_`, got `{}`",
                crate::error::shorten(raw)
            ),
        ))
    }
}

/// Exactly one of `role_arn`, `group_name`, `user_name`.
fn target(body: &RequestorTarget) -> Result<Target, ApiError> {
    match (&body.role_arn, &body.group_name, &body.user_name) {
        (Some(r), None, None) => Ok(Target::Role(r.clone())),
        (None, Some(g), None) => Ok(Target::Person(Human::Group(human_name(
            "group_name",
            g,
            128,
        )?))),
        (None, None, Some(u)) => Ok(Target::Person(Human::User(human_name("user_name", u, 64)?))),
        _ => Err(ApiError::invalid(
            "role_arn",
            "OnePrincipalRequired",
            "give exactly one of role_arn, group_name and user_name",
        )),
    }
}

fn owner_role(raw: Option<&str>) -> Result<Arn, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::invalid(
            "owner_role_arn",
            "MissingField",
            "missing field `owner_role_arn`",
        )
    })?;
    role_arn("owner_role_arn", raw)
}

/// What kind of problem a `check-requestor-role` problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProblemCode {
    AssumeNotAllowed,
    ExtraPermission,
    NotManaged,
    OtherOwnerRole,
    PolicyMissing,
    NoServicePrincipal,
    TrustMissing,
    TrustExtra,
    TrustPrincipal,
}

impl std::fmt::Display for ProblemCode {
    /// The code as the answer spells it: one spelling, serde's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(code)) => f.write_str(&code),
            _ => Err(std::fmt::Error),
        }
    }
}

/// One thing that stops the requestor side from working, or makes it grant more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(description = "One thing that stops the requestor side from working, or lets it do more.")]
pub struct Problem {
    #[schema(inline)]
    pub code: ProblemCode,
    pub message: String,
}

/// The `check-requestor-role` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckRequestorResponse {
    /// `true` when `problems` is empty.
    pub ok: bool,
    pub problems: Vec<Problem>,
    /// The role, group or user checked.
    #[schema(value_type = crate::openapi::IamPrincipalArn)]
    pub principal_arn: String,
    #[schema(value_type = crate::openapi::RoleArn)]
    pub owner_role_arn: String,
    #[schema(schema_with = crate::openapi::principal_policies)]
    pub policies: BTreeMap<String, PolicyDocument>,
    /// A role's trust policy; `null` for a group or user.
    #[schema(required = true)]
    pub trust_policy: Option<PolicyDocument>,
}

/// Whether `docs` allow `sts:AssumeRole` on `owner` for `principal`, and nothing else.
fn assume_only(
    principal: &Arn,
    owner: &Arn,
    docs: &BTreeMap<String, PolicyDocument>,
    boundary: Option<&PolicyDocument>,
    problems: &mut Vec<Problem>,
) {
    let identity: Vec<Labeled<'_>> = docs
        .iter()
        .map(|(label, document)| Labeled { label, document })
        .collect();
    let set = PolicySet {
        identity,
        boundary: boundary.map(|document| Labeled {
            label: "permissions boundary",
            document,
        }),
        ..PolicySet::default()
    };
    let request = EvalRequest::new(
        RequestPrincipal::Aws(principal.clone()),
        "sts:AssumeRole",
        &owner.to_string(),
    )
    .with_context(Context::new().with("aws:MultiFactorAuthPresent", "true"));
    // The requestor's own side: the owner's trust policy is the owner's to check.
    let e = evaluate_principal_side(&set, &request);
    if !e.allowed() {
        problems.push(Problem {
            code: ProblemCode::AssumeNotAllowed,
            message: format!(
                "the policies do not allow sts:AssumeRole on `{owner}`: {}",
                e.reason
            ),
        });
    }
    let owner_text = owner.to_string();
    for (name, doc) in docs {
        for (i, st) in doc.statements.iter().enumerate() {
            if st.effect != Effect::Allow {
                continue;
            }
            let exact = st.not_action.is_none()
                && st.not_resource.is_none()
                && st.action.as_deref() == Some(&["sts:AssumeRole".to_owned()][..])
                && st.resource.as_deref() == Some(std::slice::from_ref(&owner_text));
            if !exact {
                let which = st.sid.clone().unwrap_or_else(|| format!("#{}", i + 1));
                problems.push(Problem {
                    code: ProblemCode::ExtraPermission,
                    message: format!(
                        "policy `{name}` statement `{which}` allows more than sts:AssumeRole on `{owner}`"
                    ),
                });
            }
        }
    }
}

/// Whether the requestor side works: the role or person in, the verdict out. Reads only.
pub async fn check_requestor_side<R: RoleStore + HumanStore>(
    deps: &IamDeps<R>,
    caller: &str,
    body: RequestorTarget,
) -> Result<CheckRequestorResponse, ApiError> {
    let who = target(&body)?;
    let owner = owner_role(body.owner_role_arn.as_deref())?;
    let account = deps.account.account().await?;
    let partition = deps.account.partition().await?;
    let mut problems = Vec::new();
    let response = match who {
        Target::Role(raw) => {
            let (arn, name) = role_here("role_arn", &raw, &account, partition)?;
            let state = deps
                .roles
                .get_role(&name)
                .await?
                .ok_or_else(|| role_not_found("role_arn", &arn))?;
            if !is_xacct_role(&state) {
                problems.push(Problem {
                    code: ProblemCode::NotManaged,
                    message: format!("role `{arn}` is not managed by xacct"),
                });
            }
            if state.tags.get(tags::OWNER_ROLE) != Some(&owner.to_string()) {
                problems.push(Problem {
                    code: ProblemCode::OtherOwnerRole,
                    message: format!("role `{arn}` was not created for owner role `{owner}`"),
                });
            }
            let live = read_role_policies(&deps.roles, &state).await?;
            let mut docs = live.inline.clone();
            for (attached, doc) in &live.attached {
                problems.push(Problem {
                    code: ProblemCode::ExtraPermission,
                    message: format!("managed policy `{attached}` is attached to the role"),
                });
                if let Some(doc) = doc {
                    docs.insert(attached.clone(), doc.clone());
                }
            }
            let session = session_arn(&arn, "xacct-check").unwrap_or_else(|| arn.clone());
            assume_only(
                &session,
                &owner,
                &docs,
                live.boundary.as_ref(),
                &mut problems,
            );
            let expected = state.tags.get(tags::SERVICE_PRINCIPAL).cloned();
            trust_names_service(
                state.trust_policy.as_ref(),
                expected.as_deref(),
                &mut problems,
            );
            CheckRequestorResponse {
                ok: false,
                problems: Vec::new(),
                principal_arn: state.arn.clone(),
                owner_role_arn: owner.to_string(),
                policies: docs,
                trust_policy: state.trust_policy.clone(),
            }
        }
        Target::Person(human) => {
            // The same 404 as a create for a person who does not exist.
            let principal_arn = deps.roles.human_arn(&human).await?.ok_or_else(|| {
                ApiError::from(HumanError::NotFound {
                    kind: human.kind(),
                    name: human.name().to_owned(),
                })
            })?;
            let policy_name = human_policy_name(&owner);
            let mut docs = BTreeMap::new();
            match deps.roles.get_human_policy(&human, &policy_name).await? {
                None => problems.push(Problem {
                    code: ProblemCode::PolicyMissing,
                    message: format!(
                        "{} `{}` has no inline policy `{policy_name}`",
                        human.kind(),
                        human.name()
                    ),
                }),
                Some(doc) => {
                    docs.insert(policy_name, doc);
                }
            }
            if !docs.is_empty() {
                let principal: Arn = principal_arn
                    .parse()
                    .map_err(|e| ApiError::arn("principal_arn", &e))?;
                assume_only(&principal, &owner, &docs, None, &mut problems);
            }
            CheckRequestorResponse {
                ok: false,
                problems: Vec::new(),
                principal_arn,
                owner_role_arn: owner.to_string(),
                policies: docs,
                trust_policy: None,
            }
        }
    };
    let response = CheckRequestorResponse {
        ok: problems.is_empty(),
        problems,
        ..response
    };
    tracing::info!(caller, principal = %response.principal_arn, ok = response.ok, "check-requestor-role");
    Ok(response)
}

/// The trust policy lets exactly the expected service assume the role, and nobody else.
fn trust_names_service(
    trust: Option<&PolicyDocument>,
    expected: Option<&str>,
    problems: &mut Vec<Problem>,
) {
    let Some(expected) = expected else {
        problems.push(Problem {
            code: ProblemCode::NoServicePrincipal,
            message: "the role records no service principal (tag `xacct:service-principal`)"
                .to_owned(),
        });
        return;
    };
    let Some(trust) = trust else {
        problems.push(Problem {
            code: ProblemCode::TrustMissing,
            message: "the role has no readable trust policy".to_owned(),
        });
        return;
    };
    let mut names_expected = false;
    for st in trust
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let Some(p) = &st.principal else {
            problems.push(Problem {
                code: ProblemCode::TrustExtra,
                message: "a trust statement allows principals by exclusion (NotPrincipal)"
                    .to_owned(),
            });
            continue;
        };
        let services = p.values("Service");
        let others =
            p.values("AWS").len() + p.values("Federated").len() + p.values("CanonicalUser").len();
        if others > 0 || matches!(p, xacct_policy::Principal::Any) {
            problems.push(Problem {
                code: ProblemCode::TrustExtra,
                message: format!(
                    "the trust policy lets principals other than `{expected}` assume the role"
                ),
            });
        }
        for s in services {
            if s == expected {
                names_expected = true;
            } else {
                problems.push(Problem {
                    code: ProblemCode::TrustExtra,
                    message: format!("the trust policy also lets `{s}` assume the role"),
                });
            }
        }
    }
    if !names_expected {
        problems.push(Problem {
            code: ProblemCode::TrustPrincipal,
            message: format!("the trust policy does not let `{expected}` assume the role"),
        });
    }
}

/// `check-requestor-role`: reads the requestor side and checks it; changes nothing.
pub async fn check_requestor_role<R: RoleStore + HumanStore>(
    deps: &IamDeps<R>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(
        serve_json(req, "check-requestor-role", |caller, body| async move {
            check_requestor_side(deps, &caller, body).await
        })
        .await,
    )
}

/// Whether a person's policy is one xacct writes for this owner role.
pub fn is_xacct_human_policy(owner: &Arn, doc: &PolicyDocument) -> bool {
    [false, true]
        .iter()
        .any(|mfa| human_assume_policy(owner, *mfa).is_ok_and(|d| &d == doc))
}

/// Refuses a role that is xacct's but not a requestor role.
pub(crate) fn requestor_role(state: &RoleState) -> Result<(), ApiError> {
    if state.tags.contains_key(tags::OWNER_ROLE) {
        Ok(())
    } else {
        Err(ApiError::new(
            Failure::Conflict,
            "NotARequestorRole",
            format!(
                "role_arn `{}` is an xacct role but not a requestor role",
                state.arn
            ),
        )
        .on("role_arn"))
    }
}

/// Revokes the requestor side: the role or person in, what was removed out.
pub async fn revoke_requestor_side<R: RoleStore + HumanStore>(
    deps: &IamDeps<R>,
    caller: &str,
    body: RequestorTarget,
) -> Result<RevokeResponse, ApiError> {
    let out = match target(&body)? {
        Target::Role(raw) => revoke_role(deps, &raw, requestor_role).await?,
        Target::Person(human) => {
            let owner = owner_role(body.owner_role_arn.as_deref())?;
            let removal =
                remove_human_policy(&deps.roles, &human, &human_policy_name(&owner), |d| {
                    is_xacct_human_policy(&owner, d)
                })
                .await?;
            RevokeResponse {
                removed: removal.removed,
                changed: removal.changed,
            }
        }
    };
    tracing::info!(caller, changed = out.changed, removed = ?out.removed, "revoke-requestor-resources");
    Ok(out)
}

/// `revoke-requestor-resources`: deletes the requestor role (with its policy and instance
/// profile) or a person's xacct policy.
pub async fn revoke_requestor_resources<R: RoleStore + HumanStore>(
    deps: &IamDeps<R>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(serve_json(
        req,
        "revoke-requestor-resources",
        |caller, body| async move { revoke_requestor_side(deps, &caller, body).await },
    )
    .await)
}
