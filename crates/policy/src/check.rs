//! Whether a grant works, from its live policies: may a principal assume the owner role (and
//! is it refused without the right External ID), and what a session of the role may do on
//! its resource. Every answer names the statement that decided it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::arn::Arn;
use crate::document::{PolicyDocument, Statement};
use crate::eval::{Context, Decision, Evaluation, Labeled, PolicySet, Request, RequestPrincipal};
use crate::permissions::ResourcePermissions;

/// The label of the stand-in requestor policy used when the requestor's own policies are not
/// known (the owner side cannot read them).
pub const ASSUMED_REQUESTOR: &str = "requestor policy (assumed to allow; check the requestor side)";

/// Who calls `sts:AssumeRole`, and how.
#[derive(Debug, Clone)]
pub struct AssumeCall<'a> {
    pub role_arn: &'a Arn,
    pub trust_policy: &'a PolicyDocument,
    pub principal: &'a Arn,
    pub external_id: Option<&'a str>,
    /// Whether the caller signed in with MFA (`aws:MultiFactorAuthPresent`).
    pub mfa: bool,
    /// The principal's identity policies; empty means "assume they allow the call".
    pub requestor_policies: &'a [Labeled<'a>],
    /// When the call is made (`aws:CurrentTime`, RFC 3339): an expired grant's trust
    /// refuses it.
    pub current_time: Option<&'a str>,
}

/// Which way of calling `sts:AssumeRole` a case tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AssumeVariant {
    #[serde(rename = "as given")]
    AsGiven,
    #[serde(rename = "without an external id")]
    WithoutExternalId,
    #[serde(rename = "with a wrong external id")]
    WrongExternalId,
}

impl fmt::Display for AssumeVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AsGiven => "as given",
            Self::WithoutExternalId => "without an external id",
            Self::WrongExternalId => "with a wrong external id",
        })
    }
}

/// One way of calling `sts:AssumeRole` and what AWS would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AssumeCheck,
    description = "One way of calling `sts:AssumeRole` on the role, and what AWS would decide."))]
pub struct AssumeCase {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub case: AssumeVariant,
    pub decision: Decision,
    /// The statement that decided, as `<policy> statement <Sid or #n>`; `null` when none did
    /// (an implicit deny).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub statement: Option<String>,
    /// Why, for people; for a denial it names the condition that was not met.
    pub reason: String,
}

/// Evaluates one `sts:AssumeRole` call across both accounts.
pub fn assume(call: &AssumeCall<'_>) -> Evaluation {
    let role = call.role_arn.to_string();
    let stand_in = PolicyDocument::new(vec![Statement::allow(
        "AssumeOwnerRole",
        vec!["sts:AssumeRole".to_owned()],
        vec![role.clone()],
    )]);
    let identity = if call.requestor_policies.is_empty() {
        vec![Labeled {
            label: ASSUMED_REQUESTOR,
            document: &stand_in,
        }]
    } else {
        call.requestor_policies.to_vec()
    };
    let set = PolicySet {
        identity,
        boundary: None,
        resource: Some(Labeled {
            label: "trust policy",
            document: call.trust_policy,
        }),
        resource_account: Some(call.role_arn.account().to_owned()),
        ..PolicySet::default()
    };
    let mut context = Context::new().with(
        "aws:MultiFactorAuthPresent",
        if call.mfa { "true" } else { "false" },
    );
    if let Some(e) = call.external_id {
        context = context.with("sts:ExternalId", e);
    }
    if let Some(now) = call.current_time {
        context = context.with("aws:CurrentTime", now);
    }
    let request = Request::new(
        RequestPrincipal::Aws(call.principal.clone()),
        "sts:AssumeRole",
        &role,
    )
    .with_context(context);
    let mut e = crate::eval::evaluate(&set, &request);
    if !e.allowed()
        && let Some(unmet) = crate::eval::unmet_condition(call.trust_policy, &request, true)
    {
        e.reason = format!("{}; trust policy: {unmet}", e.reason);
    }
    e
}

/// The condition keys that make a statement depend on when the call is made.
const TIME_KEYS: [&str; 2] = ["aws:CurrentTime", "aws:EpochTime"];

/// Whether the grant has expired for this call: the trust refuses it at `current_time`, and
/// the same trust without its time conditions would allow it, so the time alone decides.
/// `false` without a `current_time`, and for a call refused for another reason too.
pub fn expired(call: &AssumeCall<'_>) -> bool {
    if call.current_time.is_none() || assume(call).allowed() {
        return false;
    }
    let mut timeless = call.trust_policy.clone();
    for statement in &mut timeless.statements {
        for keys in statement.condition.0.values_mut() {
            keys.retain(|key, _| !TIME_KEYS.iter().any(|t| t.eq_ignore_ascii_case(key)));
        }
        statement.condition.0.retain(|_, keys| !keys.is_empty());
    }
    assume(&AssumeCall {
        trust_policy: &timeless,
        current_time: None,
        ..call.clone()
    })
    .allowed()
}

/// The trust policy's deciding statement first: it is the owner's side of the answer.
fn case(name: AssumeVariant, e: Evaluation) -> AssumeCase {
    let statement = e
        .statements
        .iter()
        .find(|s| s.policy == "trust policy")
        .or_else(|| e.statements.first())
        .map(ToString::to_string);
    AssumeCase {
        case: name,
        decision: e.decision,
        statement,
        reason: e.reason,
    }
}

/// The call as given, and, when the trust policy requires an External ID, the same call
/// without one and with a wrong one (both must be denied).
pub fn assume_cases(call: &AssumeCall<'_>) -> Vec<AssumeCase> {
    let mut out = vec![case(AssumeVariant::AsGiven, assume(call))];
    if crate::trust::external_id(call.trust_policy).is_some() {
        let without = AssumeCall {
            external_id: None,
            ..call.clone()
        };
        out.push(case(AssumeVariant::WithoutExternalId, assume(&without)));
        let wrong_value = format!("{}-wrong", call.external_id.unwrap_or("xacct"));
        let wrong = AssumeCall {
            external_id: Some(&wrong_value),
            ..call.clone()
        };
        out.push(case(AssumeVariant::WrongExternalId, assume(&wrong)));
    }
    out
}

/// What a session of the role may do with one action on one ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionCheck {
    /// `service:ActionName`
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9-]+:[A-Za-z0-9_-]+$"))]
    pub action: String,
    /// The ARN the action was evaluated on; `*` when it has no resource-level support.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub resource: String,
    pub decision: Decision,
    /// The statement that decided; `null` when none did.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub statement: Option<String>,
}

/// The ARN of a session of `role` (`arn:aws:sts::A:assumed-role/Name/session`).
pub fn session_arn(role: &Arn, session: &str) -> Option<Arn> {
    format!(
        "arn:{}:sts::{}:assumed-role/{}/{session}",
        role.partition(),
        role.account(),
        role.resource_name()
    )
    .parse()
    .ok()
}

/// For every action in the catalog for the resource and every ARN it needs, the decision for
/// a session of `role` holding `identity` (and `boundary`).
pub fn action_checks(
    role: &Arn,
    identity: &[Labeled<'_>],
    boundary: Option<Labeled<'_>>,
    permissions: &ResourcePermissions,
) -> Vec<ActionCheck> {
    let Some(session) = session_arn(role, "xacct-check") else {
        return Vec::new();
    };
    let set = PolicySet {
        identity: identity.to_vec(),
        boundary,
        resource: None,
        resource_account: None,
        ..PolicySet::default()
    };
    let context = Context::new().with("aws:PrincipalArn", role.to_string());
    let mut out = Vec::new();
    for entry in &permissions.actions {
        let action = entry.action.full_name();
        for target in &entry.targets {
            let request =
                Request::new(RequestPrincipal::Aws(session.clone()), &action, &target.arn)
                    .with_context(context.clone());
            let e = crate::eval::evaluate(&set, &request);
            out.push(ActionCheck {
                action: action.clone(),
                resource: target.arn.clone(),
                decision: e.decision,
                statement: e.statements.first().map(ToString::to_string),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::{GrantOptions, least_privilege_policy};
    use crate::permissions::permissions_for;
    use crate::trust::CrossAccountTrust;

    #[test]
    fn assume_variants_read_back_and_show_as_the_answer_names_them() {
        for v in [
            AssumeVariant::AsGiven,
            AssumeVariant::WithoutExternalId,
            AssumeVariant::WrongExternalId,
        ] {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json, v.to_string());
            assert_eq!(serde_json::from_value::<AssumeVariant>(json).unwrap(), v);
        }
    }

    fn role() -> Arn {
        "arn:aws:iam::111111111111:role/xacct/grant"
            .parse()
            .unwrap()
    }

    fn trust(mfa: bool) -> PolicyDocument {
        CrossAccountTrust {
            partition: crate::Partition::Aws,
            requestor_account: "222222222222".parse().unwrap(),
            requestor_role: None,
            external_id: "ext-0123456789".parse().unwrap(),
            require_mfa: mfa,
            principal_org_id: None,
            expires_at: None,
        }
        .document()
    }

    #[test]
    fn the_right_external_id_assumes_and_others_are_refused() {
        let (role, trust) = (role(), trust(false));
        let principal: Arn = "arn:aws:iam::222222222222:role/app".parse().unwrap();
        let call = AssumeCall {
            role_arn: &role,
            trust_policy: &trust,
            principal: &principal,
            external_id: Some("ext-0123456789"),
            mfa: false,
            requestor_policies: &[],
            current_time: None,
        };
        let cases = assume_cases(&call);
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].decision, Decision::Allow, "{}", cases[0].reason);
        assert_eq!(cases[1].decision, Decision::ImplicitDeny);
        assert!(
            cases[1].reason.contains("sts:ExternalId"),
            "{}",
            cases[1].reason
        );
        assert_eq!(cases[2].decision, Decision::ImplicitDeny);
        let other: Arn = "arn:aws:iam::333333333333:role/app".parse().unwrap();
        let stranger = AssumeCall {
            principal: &other,
            ..call.clone()
        };
        assert!(!assume(&stranger).allowed());
    }

    #[test]
    fn the_evaluator_allows_the_assume_before_the_expiry_and_denies_it_after() {
        let role = role();
        let expiring = CrossAccountTrust {
            partition: crate::Partition::Aws,
            requestor_account: "222222222222".parse().unwrap(),
            requestor_role: None,
            external_id: "ext-0123456789".parse().unwrap(),
            require_mfa: false,
            principal_org_id: None,
            expires_at: Some(crate::expiry::Expiry::parse("2026-12-13T18:00:00Z").unwrap()),
        }
        .document();
        let principal: Arn = "arn:aws:iam::222222222222:role/app".parse().unwrap();
        let at = |now: &'static str| AssumeCall {
            role_arn: &role,
            trust_policy: &expiring,
            principal: &principal,
            external_id: Some("ext-0123456789"),
            mfa: false,
            requestor_policies: &[],
            current_time: Some(now),
        };
        let before = at("2026-12-13T17:59:59Z");
        assert!(assume(&before).allowed());
        assert!(!expired(&before));
        for after in ["2026-12-13T18:00:00Z", "2027-01-01T00:00:00Z"] {
            let denied = assume(&at(after));
            assert_eq!(denied.decision, Decision::ImplicitDeny, "{after}");
            assert!(
                denied.reason.contains("aws:CurrentTime"),
                "{}",
                denied.reason
            );
            assert!(expired(&at(after)), "{after}");
        }
        // Refused for another reason as well (no External ID): not "expired", since a
        // later expiry would not make it work.
        let without_id = AssumeCall {
            external_id: None,
            ..at("2027-01-01T00:00:00Z")
        };
        assert!(!expired(&without_id));
        // A permanent grant never expires.
        let permanent = trust(false);
        let forever = AssumeCall {
            trust_policy: &permanent,
            ..at("2099-01-01T00:00:00Z")
        };
        assert!(assume(&forever).allowed() && !expired(&forever));
    }

    #[test]
    fn mfa_is_required_when_the_trust_says_so() {
        let (role, trust) = (role(), trust(true));
        let principal: Arn = "arn:aws:iam::222222222222:user/alice".parse().unwrap();
        let mut call = AssumeCall {
            role_arn: &role,
            trust_policy: &trust,
            principal: &principal,
            external_id: Some("ext-0123456789"),
            mfa: false,
            requestor_policies: &[],
            current_time: None,
        };
        let denied = assume(&call);
        assert!(!denied.allowed());
        assert!(
            denied.reason.contains("aws:MultiFactorAuthPresent"),
            "{}",
            denied.reason
        );
        call.mfa = true;
        assert!(assume(&call).allowed());
    }

    #[test]
    fn requestor_policies_that_do_not_allow_the_call_deny_it() {
        let (role, trust) = (role(), trust(false));
        let principal: Arn = "arn:aws:iam::222222222222:role/app".parse().unwrap();
        let elsewhere = PolicyDocument::new(vec![Statement::allow(
            "Other",
            vec!["sts:AssumeRole".into()],
            vec!["arn:aws:iam::111111111111:role/other".into()],
        )]);
        let policies = [Labeled {
            label: "requestor role policy",
            document: &elsewhere,
        }];
        let call = AssumeCall {
            role_arn: &role,
            trust_policy: &trust,
            principal: &principal,
            external_id: Some("ext-0123456789"),
            mfa: false,
            requestor_policies: &policies,
            current_time: None,
        };
        assert_eq!(assume(&call).decision, Decision::ImplicitDeny);
    }

    #[test]
    fn every_catalog_action_is_checked_with_the_deciding_statement() {
        let bucket: Arn = "arn:aws:s3:::reports".parse().unwrap();
        let perms = permissions_for(&bucket).unwrap();
        let policy = least_privilege_policy(
            &perms,
            &["s3:GetObject", "s3:ListBucket"],
            GrantOptions::default(),
        )
        .unwrap();
        let identity = [Labeled {
            label: "xacct-grant",
            document: &policy,
        }];
        let checks = action_checks(&role(), &identity, None, &perms);
        assert!(checks.len() >= perms.actions.len());
        let allowed: Vec<(&str, &str)> = checks
            .iter()
            .filter(|c| c.decision == Decision::Allow)
            .map(|c| (c.action.as_str(), c.resource.as_str()))
            .collect();
        assert_eq!(
            allowed,
            vec![
                ("s3:GetObject", "arn:aws:s3:::reports/*"),
                ("s3:ListBucket", "arn:aws:s3:::reports")
            ]
        );
        let get = checks.iter().find(|c| c.action == "s3:GetObject").unwrap();
        assert!(
            get.statement
                .as_deref()
                .unwrap()
                .starts_with("xacct-grant statement")
        );
    }
}
