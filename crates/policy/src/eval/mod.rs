//! A policy evaluator following AWS's documented evaluation logic
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//! an explicit deny in any policy wins; otherwise within one account an allow from the
//! identity policies (inside the permissions boundary, if any) or from a resource policy
//! that names the principal is enough, while across accounts both the identity policies and
//! the resource policy must allow. The result names the statements that decided it.

mod condition;
mod matching;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use condition::{Operator, parse_date};
pub use matching::{action_matches, arn_matches, glob};

use crate::arn::Arn;
use crate::document::{Effect, PolicyDocument, Principal, Statement};

/// The request context: condition keys (compared case-insensitively) and their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, vec![value.into()]);
        self
    }

    /// Adds a multivalued key (such as `aws:TagKeys`).
    pub fn with_values(mut self, key: &str, values: Vec<String>) -> Self {
        self.insert(key, values);
        self
    }

    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    fn contains(&self, key: &str) -> bool {
        self.values.contains_key(&key.to_ascii_lowercase())
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// An IAM identity: a user, a role, an assumed-role session, or an account root.
    Aws(Arn),
    /// An AWS service acting on its own behalf (`lambda.amazonaws.com`).
    Service(String),
    Anonymous,
}

impl RequestPrincipal {
    fn account(&self) -> Option<&str> {
        match self {
            Self::Aws(arn) => Some(arn.account()),
            _ => None,
        }
    }

    /// For an assumed-role session `arn:aws:sts::A:assumed-role/Name/session`, the role name.
    fn session_role_name(&self) -> Option<&str> {
        match self {
            Self::Aws(arn) if arn.service() == "sts" => arn
                .resource()
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next()),
            _ => None,
        }
    }
}

/// One request to authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: RequestPrincipal,
    /// `service:Action`.
    pub action: String,
    /// The ARN of the resource the action touches (`*` for actions without one).
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(principal: RequestPrincipal, action: &str, resource: &str) -> Self {
        Self {
            principal,
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: Context::new(),
        }
    }

    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// The context plus the keys AWS always sets from the principal
    /// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`).
    fn full_context(&self) -> Context {
        let mut ctx = self.context.clone();
        if let RequestPrincipal::Aws(arn) = &self.principal {
            if !ctx.contains("aws:PrincipalAccount") {
                ctx.insert("aws:PrincipalAccount", vec![arn.account().to_owned()]);
            }
            if !ctx.contains("aws:PrincipalArn") {
                // An assumed-role session's principal ARN is its role's ARN (the path is
                // not in the session ARN; callers that know it set the key themselves).
                let principal_arn = match self.principal.session_role_name() {
                    Some(name) => format!(
                        "arn:{}:iam::{}:role/{}",
                        arn.partition(),
                        arn.account(),
                        name
                    ),
                    None => arn.to_string(),
                };
                ctx.insert("aws:PrincipalArn", vec![principal_arn]);
            }
            if !ctx.contains("aws:PrincipalType") {
                let kind = if self.principal.session_role_name().is_some() {
                    "AssumedRole"
                } else if arn.resource() == "root" {
                    "Account"
                } else if arn.resource().starts_with("user/") {
                    "User"
                } else {
                    "Role"
                };
                ctx.insert("aws:PrincipalType", vec![kind.to_owned()]);
            }
        }
        ctx
    }
}

/// What AWS would decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "allow",
            Self::ExplicitDeny => "explicit_deny",
            Self::ImplicitDeny => "implicit_deny",
        })
    }
}

/// A statement that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedStatement {
    /// The label the caller gave the policy (`trust policy`, `permissions`).
    pub policy: String,
    /// Position in the policy, from 0.
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for MatchedStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "{} statement `{sid}`", self.policy),
            None => write!(f, "{} statement #{}", self.policy, self.index + 1),
        }
    }
}

/// The decision, the statements that decided it, and why in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub statements: Vec<MatchedStatement>,
    pub reason: String,
}

impl Evaluation {
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// A policy with a label for explanations.
#[derive(Debug, Clone, Copy)]
pub struct Labeled<'a> {
    pub label: &'a str,
    pub document: &'a PolicyDocument,
}

/// The policies that apply to one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity-based policies.
    pub identity: Vec<Labeled<'a>>,
    /// The principal's permissions boundary, if it has one.
    pub boundary: Option<Labeled<'a>>,
    /// The resource's resource-based policy (a role's trust policy for `sts:AssumeRole`).
    pub resource: Option<Labeled<'a>>,
    /// The account that owns the resource; `None` means the principal's own account.
    pub resource_account: Option<String>,
    /// The session policy passed when the role was assumed: it limits what the identity
    /// policies and a resource policy naming the role allow (not one naming the session).
    pub session: Option<Labeled<'a>>,
    /// Service control policies of the principal's account, one per level of the
    /// organization (root, OUs, account): each must allow.
    pub scps: Vec<Labeled<'a>>,
    /// Resource control policies of the resource's account, one per level. AWS attaches
    /// `RCPFullAWSAccess` to every level and it cannot be detached, so only their denies
    /// count (AWS Organizations User Guide, RCP evaluation).
    pub rcps: Vec<Labeled<'a>>,
}

/// How a resource policy's principal matched the request's principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    No,
    /// Through its account (`123456789012`, `arn:...:root`): the account's identity
    /// policies must allow too.
    Account,
    /// A session through its role's ARN: enough without an identity policy, but still
    /// limited by the role's permissions boundary.
    Role,
    /// The principal itself (its user or session ARN, `*`, its service).
    Direct,
}

fn principal_value_matches(
    kind: &str,
    value: &str,
    principal: &RequestPrincipal,
) -> PrincipalMatch {
    match (kind, principal) {
        (_, _) if value == "*" && kind == "AWS" => PrincipalMatch::Direct,
        ("AWS", RequestPrincipal::Aws(arn)) => {
            if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
                return if value == arn.account() {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::No
                };
            }
            let Ok(named) = value.parse::<Arn>() else {
                return PrincipalMatch::No;
            };
            if named.service() == "iam" && named.resource() == "root" {
                return if named.account() == arn.account() {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::No
                };
            }
            if &named == arn {
                return PrincipalMatch::Direct;
            }
            // A role ARN also names every session of that role.
            let role_name = named
                .resource()
                .strip_prefix("role/")
                .and_then(|r| r.rsplit('/').next());
            match (role_name, principal.session_role_name()) {
                (Some(role), Some(session_role))
                    if role == session_role && named.account() == arn.account() =>
                {
                    PrincipalMatch::Role
                }
                _ => PrincipalMatch::No,
            }
        }
        ("Service", RequestPrincipal::Service(service)) if value.eq_ignore_ascii_case(service) => {
            PrincipalMatch::Direct
        }
        _ => PrincipalMatch::No,
    }
}

fn principal_matches(p: &Principal, principal: &RequestPrincipal) -> PrincipalMatch {
    match p {
        Principal::Any => PrincipalMatch::Direct,
        Principal::Map(map) => map
            .iter()
            .flat_map(|(kind, values)| {
                values
                    .iter()
                    .map(move |v| principal_value_matches(kind, v, principal))
            })
            .max()
            .unwrap_or(PrincipalMatch::No),
    }
}

/// Whether a statement applies to the request; for resource policies also how the
/// principal matched.
fn statement_applies(
    st: &Statement,
    request: &Request,
    context: &Context,
    resource_policy: bool,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    let principal = if resource_policy {
        match (&st.principal, &st.not_principal) {
            (Some(p), _) => principal_matches(p, &request.principal),
            // A `Deny` with `NotPrincipal` denies every principal that has a permissions
            // boundary, whatever `NotPrincipal` lists (IAM User Guide, permissions
            // boundaries).
            (None, Some(_)) if has_boundary && st.effect == Effect::Deny => PrincipalMatch::Direct,
            (None, Some(np)) => {
                if principal_matches(np, &request.principal) == PrincipalMatch::No {
                    PrincipalMatch::Direct
                } else {
                    PrincipalMatch::No
                }
            }
            (None, None) => PrincipalMatch::No,
        }
    } else {
        PrincipalMatch::Direct
    };
    if principal == PrincipalMatch::No {
        return None;
    }
    let action_ok = match (&st.action, &st.not_action) {
        (Some(a), _) => a.iter().any(|p| action_matches(p, &request.action)),
        (None, Some(na)) => !na.iter().any(|p| action_matches(p, &request.action)),
        (None, None) => false,
    };
    if !action_ok {
        return None;
    }
    let fit = |pattern: &String| matching::resource_matches(pattern, &request.resource, context);
    let resource_fits = |pattern: &String| fit(pattern) == Some(true);
    // A policy variable with no value in the request makes its element not apply: an entry
    // of `Resource` matches nothing, and a `NotResource` holding one never applies (it is
    // not read as "every resource but nothing").
    let resolvable = |pattern: &String| fit(pattern).is_some();
    let resource_ok = match (&st.resource, &st.not_resource) {
        (Some(r), _) => r.iter().any(resource_fits),
        (None, Some(nr)) => nr.iter().all(resolvable) && !nr.iter().any(resource_fits),
        // A resource policy's resource is the resource it is attached to.
        (None, None) => resource_policy,
    };
    if !resource_ok {
        return None;
    }
    condition::evaluate(&st.condition, context).ok()?;
    Some(principal)
}

struct Matches {
    allows: Vec<(MatchedStatement, PrincipalMatch)>,
    denies: Vec<MatchedStatement>,
}

fn matching_statements(
    policy: &Labeled<'_>,
    request: &Request,
    context: &Context,
    resource_policy: bool,
    has_boundary: bool,
) -> Matches {
    let mut out = Matches {
        allows: Vec::new(),
        denies: Vec::new(),
    };
    for (index, st) in policy.document.statements.iter().enumerate() {
        if let Some(how) = statement_applies(st, request, context, resource_policy, has_boundary) {
            let matched = MatchedStatement {
                policy: policy.label.to_owned(),
                index,
                sid: st.sid.clone(),
            };
            match st.effect {
                Effect::Allow => out.allows.push((matched, how)),
                Effect::Deny => out.denies.push(matched),
            }
        }
    }
    out
}

/// Why a condition of a statement that otherwise applies is not met: the first such
/// explanation across the policies, for "denied because ..." messages.
pub fn unmet_condition(
    policy: &PolicyDocument,
    request: &Request,
    resource_policy: bool,
) -> Option<String> {
    let context = request.full_context();
    policy.statements.iter().find_map(|st| {
        let mut unconditional = st.clone();
        unconditional.condition = Default::default();
        statement_applies(&unconditional, request, &context, resource_policy, false)?;
        condition::evaluate(&st.condition, &context).err()
    })
}

/// Whether the resource's own policy must allow the request even within one account: a
/// role's trust policy for assuming it, a KMS key's key policy for using the key (IAM User
/// Guide, policy evaluation logic: "role trust policies and KMS key policies").
fn resource_policy_required(request: &Request) -> Option<&'static str> {
    let action = request.action.to_ascii_lowercase();
    let resource: Option<Arn> = request.resource.parse().ok();
    let service = resource.as_ref().map(Arn::service);
    let resource_part = resource.as_ref().map_or("", Arn::resource);
    if matches!(
        action.as_str(),
        "sts:assumerole" | "sts:assumerolewithsaml" | "sts:assumerolewithwebidentity"
    ) && service == Some("iam")
        && resource_part.starts_with("role/")
    {
        Some("the role's trust policy")
    } else if action.starts_with("kms:")
        && service == Some("kms")
        && resource_part.starts_with("key/")
    {
        Some("the key's key policy")
    } else {
        None
    }
}

/// Authorizes one request against a set of policies.
pub fn evaluate(policies: &PolicySet<'_>, request: &Request) -> Evaluation {
    // sts:GetCallerIdentity needs no permission and cannot be denied (STS API reference).
    if request.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Evaluation {
            decision: Decision::Allow,
            statements: Vec::new(),
            reason: "sts:GetCallerIdentity needs no permission and cannot be denied".to_owned(),
        };
    }
    let context = request.full_context();
    let has_boundary = policies.boundary.is_some();
    let identity: Vec<Matches> = policies
        .identity
        .iter()
        .map(|p| matching_statements(p, request, &context, false, has_boundary))
        .collect();
    let boundary = policies
        .boundary
        .as_ref()
        .map(|p| matching_statements(p, request, &context, false, has_boundary));
    let resource = policies
        .resource
        .as_ref()
        .map(|p| matching_statements(p, request, &context, true, has_boundary));
    let session = policies
        .session
        .as_ref()
        .map(|p| matching_statements(p, request, &context, false, has_boundary));
    // Organization policies name no principal; read like identity policies.
    let scps: Vec<Matches> = policies
        .scps
        .iter()
        .map(|p| matching_statements(p, request, &context, false, has_boundary))
        .collect();
    let rcps: Vec<Matches> = policies
        .rcps
        .iter()
        .map(|p| matching_statements(p, request, &context, false, has_boundary))
        .collect();

    let denies: Vec<MatchedStatement> = identity
        .iter()
        .chain(boundary.iter())
        .chain(resource.iter())
        .chain(session.iter())
        .chain(scps.iter())
        .chain(rcps.iter())
        .flat_map(|m| m.denies.iter().cloned())
        .collect();
    if !denies.is_empty() {
        let reason = format!(
            "explicitly denied by {}",
            denies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Evaluation {
            decision: Decision::ExplicitDeny,
            statements: denies,
            reason,
        };
    }

    // Every level of SCPs must allow; they grant nothing themselves. RCPs always allow
    // through `RCPFullAWSAccess`: only their denies, above, count.
    let ceiling = |levels: &[Matches], policies: &[Labeled<'_>], kind: &str| {
        levels
            .iter()
            .zip(policies)
            .find(|(m, _)| m.allows.is_empty())
            .map(|(_, p)| format!("{kind} `{}` does not allow it", p.label))
    };
    if let Some(reason) = ceiling(&scps, &policies.scps, "the service control policy") {
        return Evaluation {
            decision: Decision::ImplicitDeny,
            statements: Vec::new(),
            reason,
        };
    }

    let identity_allows: Vec<MatchedStatement> = identity
        .iter()
        .flat_map(|m| m.allows.iter().map(|(s, _)| s.clone()))
        .collect();
    let session_ok = session.as_ref().is_none_or(|m| !m.allows.is_empty());
    let boundary_ok = boundary.as_ref().is_none_or(|b| !b.allows.is_empty()) && session_ok;
    // What limits an allow, when something does.
    let limit = if session_ok {
        "the permissions boundary does not allow it"
    } else {
        "the session policy does not allow it"
    };
    let identity_ok = !identity_allows.is_empty() && boundary_ok;
    let resource_allows: Vec<&(MatchedStatement, PrincipalMatch)> =
        resource.iter().flat_map(|m| m.allows.iter()).collect();
    let resource_names =
        |level: PrincipalMatch| resource_allows.iter().any(|(_, how)| *how == level);
    // A resource policy naming the user or session itself is enough on its own, even past
    // a permissions boundary; one naming the session's role is limited by the boundary.
    let resource_alone = resource_names(PrincipalMatch::Direct)
        || (resource_names(PrincipalMatch::Role) && boundary_ok);
    let resource_any = !resource_allows.is_empty();

    let same_account = match (&policies.resource_account, request.principal.account()) {
        (Some(owner), Some(account)) => owner == account,
        (None, _) => true,
        (Some(_), None) => false,
    };
    let required = resource_policy_required(request);
    let (allowed, why_not) = if let (Some(what), true) = (required, same_account) {
        (
            resource_alone || (identity_ok && resource_any),
            if resource_any {
                limit
            } else {
                match what {
                    "the role's trust policy" => {
                        "the role's trust policy does not allow this principal; an identity policy alone never lets a principal assume a role"
                    }
                    _ => {
                        "the key's key policy does not allow this principal; IAM policies grant nothing on a KMS key unless its key policy allows it"
                    }
                }
            },
        )
    } else if same_account {
        (
            identity_ok || resource_alone,
            if !identity_allows.is_empty() && !boundary_ok {
                limit
            } else {
                "no statement allows it"
            },
        )
    } else if matches!(
        request.principal,
        RequestPrincipal::Service(_) | RequestPrincipal::Anonymous
    ) {
        (
            resource_any,
            "the resource policy does not allow this principal",
        )
    } else {
        (
            identity_ok && resource_any,
            match (identity_ok, resource_any) {
                (false, false) => {
                    "across accounts both the identity policy and the resource policy must allow it; neither does"
                }
                (false, true) if !boundary_ok && !identity_allows.is_empty() => limit,
                (false, true) => {
                    "across accounts the principal's identity policy must allow it too, and does not"
                }
                _ => "across accounts the resource policy must allow the principal, and does not",
            },
        )
    };
    if allowed {
        let mut statements: Vec<MatchedStatement> = Vec::new();
        if identity_ok {
            statements.extend(identity_allows);
        }
        statements.extend(resource_allows.iter().map(|(s, _)| s.clone()));
        let reason = format!(
            "allowed by {}",
            statements
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        Evaluation {
            decision: Decision::Allow,
            statements,
            reason,
        }
    } else {
        Evaluation {
            decision: Decision::ImplicitDeny,
            statements: Vec::new(),
            reason: why_not.to_owned(),
        }
    }
}

/// Authorizes only the principal's side of a request: its identity policies within its
/// permissions boundary, as its own account decides them. The resource's side (a trust or
/// key policy, a bucket policy) is not part of it; callers evaluate that separately.
pub fn evaluate_principal_side(policies: &PolicySet<'_>, request: &Request) -> Evaluation {
    let identity_only = PolicySet {
        identity: policies.identity.clone(),
        boundary: policies.boundary,
        session: policies.session,
        scps: policies.scps.clone(),
        ..PolicySet::default()
    };
    if resource_policy_required(request).is_none() {
        return evaluate(&identity_only, request);
    }
    // Stand in for the resource's side with a policy that trusts the principal's account,
    // so only the identity policies and the boundary decide.
    let RequestPrincipal::Aws(principal) = &request.principal else {
        return evaluate(&identity_only, request);
    };
    let Some(account) = principal.account_id() else {
        return evaluate(&identity_only, request);
    };
    let root = Arn::account_root(principal.partition(), &account);
    let trusting = PolicyDocument::new(vec![Statement {
        effect: Effect::Allow,
        principal: Some(Principal::aws(root.to_string())),
        action: Some(vec!["*".to_owned()]),
        ..Statement::default()
    }]);
    evaluate(
        &PolicySet {
            resource: Some(Labeled {
                label: "the resource's side (not evaluated)",
                document: &trusting,
            }),
            ..identity_only
        },
        request,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_of_a_role_matches_the_role_principal() {
        let role = "arn:aws:iam::222222222222:role/team/app";
        let session = RequestPrincipal::Aws(
            "arn:aws:sts::222222222222:assumed-role/app/s1"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            principal_value_matches("AWS", role, &session),
            PrincipalMatch::Role
        );
        assert_eq!(
            principal_value_matches("AWS", "222222222222", &session),
            PrincipalMatch::Account
        );
        assert_eq!(
            principal_value_matches("AWS", "arn:aws:iam::333333333333:root", &session),
            PrincipalMatch::No
        );
        let ctx = Request::new(session, "sts:AssumeRole", "*").full_context();
        assert_eq!(
            ctx.get("aws:PrincipalArn").unwrap(),
            ["arn:aws:iam::222222222222:role/app"]
        );
        assert_eq!(ctx.get("aws:PrincipalType").unwrap(), ["AssumedRole"]);
    }
}
