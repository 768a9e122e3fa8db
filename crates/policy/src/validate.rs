//! Policy checks in the spirit of IAM Access Analyzer's policy validation: findings with a
//! severity, a stable code and a message. Everything xacct's builders produce has no `ERROR`.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{self, AccessLevel};
use crate::document::{
    Effect, INLINE_ROLE_POLICY_LIMIT, PolicyDocument, Statement, TRUST_POLICY_LIMIT,
};
use crate::eval::Operator;

/// How serious a finding is, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Error,
    SecurityWarning,
    Warning,
    Suggestion,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "ERROR",
            Self::SecurityWarning => "SECURITY_WARNING",
            Self::Warning => "WARNING",
            Self::Suggestion => "SUGGESTION",
        })
    }
}

/// One finding about a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A policy check result, in the spirit of IAM Access Analyzer's policy validation."
    )
)]
pub struct Finding {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub severity: Severity,
    /// Stable, for machines, such as `WILDCARD_ACTION`, `RESOURCE_NOT_VERIFIED`.
    // Borrowed when xacct makes the finding, owned when it is read back from an answer.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Z][A-Z0-9_]*$"))]
    pub code: Cow<'static, str>,
    pub message: String,
    /// The statement it is about, its Sid or `#n` counting from 1; absent when about the
    /// whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = false))]
    pub statement: Option<String>,
}

fn statement_label(st: &Statement, index: usize) -> String {
    st.sid.clone().unwrap_or_else(|| format!("#{}", index + 1))
}

fn finding(
    severity: Severity,
    code: &'static str,
    message: String,
    statement: Option<String>,
) -> Finding {
    Finding {
        severity,
        code: Cow::Borrowed(code),
        message,
        statement,
    }
}

/// Global condition keys that carry several values in one request.
const MULTIVALUED_KEYS: &[&str] = &[
    "aws:TagKeys",
    "aws:CalledVia",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceNamesList",
];

fn check_conditions(st: &Statement, label: &str, out: &mut Vec<Finding>) {
    for (op, keys) in &st.condition.0 {
        if Operator::parse(op).is_none() {
            out.push(finding(
                Severity::Error,
                "UNKNOWN_CONDITION_OPERATOR",
                format!("`{op}` is not a condition operator"),
                Some(label.to_owned()),
            ));
            continue;
        }
        let set_operator =
            op.starts_with("ForAnyValue:") || op.starts_with("ForAllValues:") || op == "Null";
        for key in keys.keys() {
            if !set_operator && MULTIVALUED_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                out.push(finding(
                    Severity::Warning,
                    "SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY",
                    format!(
                        "`{op}` compares `{key}`, which can hold several values, as one value; use `ForAnyValue:{op}` or `ForAllValues:{op}` to say which"
                    ),
                    Some(label.to_owned()),
                ));
            }
        }
    }
}

/// Checks an identity-based permissions policy.
pub fn permissions_policy(doc: &PolicyDocument) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, st) in doc.statements.iter().enumerate() {
        let label = statement_label(st, i);
        let at = || Some(label.clone());
        check_conditions(st, &label, &mut out);
        if st.principal.is_some() || st.not_principal.is_some() {
            out.push(finding(
                Severity::Error,
                "PRINCIPAL_IN_IDENTITY_POLICY",
                "an identity-based policy may not name a principal".into(),
                at(),
            ));
        }
        let resources = st.resource.clone().unwrap_or_default();
        if st.resource.is_none() && st.not_resource.is_none() {
            out.push(finding(
                Severity::Error,
                "MISSING_RESOURCE",
                "the statement has neither `Resource` nor `NotResource`".into(),
                at(),
            ));
        }
        if st.effect == Effect::Allow && st.not_action.is_some() {
            out.push(finding(
                Severity::SecurityWarning,
                "ALLOW_WITH_NOT_ACTION",
                "`Allow` with `NotAction` grants every action not listed, including future ones"
                    .into(),
                at(),
            ));
        }
        if st.effect == Effect::Allow && st.not_resource.is_some() {
            out.push(finding(
                Severity::SecurityWarning,
                "ALLOW_WITH_NOT_RESOURCE",
                "`Allow` with `NotResource` grants every resource not listed".into(),
                at(),
            ));
        }
        let star_resource = resources.iter().any(|r| r == "*");
        for action in st.action.iter().flatten() {
            let (service, name) = action.split_once(':').unwrap_or((action.as_str(), ""));
            if action == "*" || name == "*" {
                let severity = if st.effect == Effect::Allow {
                    Severity::SecurityWarning
                } else {
                    Severity::Suggestion
                };
                out.push(finding(
                    severity,
                    "WILDCARD_ACTION",
                    format!(
                        "`{action}` grants every action{}",
                        if action == "*" { "" } else { " of the service" }
                    ),
                    at(),
                ));
                continue;
            }
            if action.contains(['*', '?']) {
                if st.effect == Effect::Allow {
                    out.push(finding(Severity::Warning, "PARTIAL_WILDCARD_ACTION", format!("`{action}` matches actions added to AWS later; list the actions instead"), at()));
                }
                continue;
            }
            let Some(def) = catalog::action(service, name) else {
                out.push(finding(
                    Severity::Error,
                    "UNKNOWN_ACTION",
                    format!("`{action}` is not in AWS's action catalog"),
                    at(),
                ));
                continue;
            };
            if st.effect != Effect::Allow {
                continue;
            }
            // AWS files `rds-db:connect` under permissions management, but it logs in to a
            // database as one user; it changes nobody's access.
            if def.access_level() == AccessLevel::PermissionsManagement
                && !crate::database::is_connect(action)
            {
                out.push(finding(Severity::SecurityWarning, "PERMISSIONS_MANAGEMENT_ACTION", format!("`{action}` is a permissions management action: it lets the holder change who has access"), at()));
            }
            if star_resource && def.has_resource_types() {
                out.push(finding(
                    Severity::Warning,
                    "RESOURCE_LEVEL_ACTION_ON_STAR",
                    format!("`{action}` supports resource-level permissions but is granted on `*`"),
                    at(),
                ));
            }
            // Each action must apply to at least one listed resource, or AWS never allows it.
            let concrete: Vec<&String> = resources.iter().filter(|r| *r != "*").collect();
            if !concrete.is_empty() && def.has_resource_types() {
                let fits = concrete.iter().any(|r| {
                    let recognized = catalog::recognize_pattern(r);
                    recognized.is_empty()
                        // By template, not by type: IAM and STS both define `role`
                        // with the same template.
                        || recognized.iter().any(|rec| {
                            def.resource_types()
                                .any(|(t, _)| t.arn_template() == rec.resource_type.arn_template())
                        })
                });
                if !fits {
                    out.push(finding(Severity::Error, "ACTION_RESOURCE_MISMATCH", format!("`{action}` does not apply to any resource in the statement ({}); AWS will never allow it there", concrete.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")), at()));
                }
            }
            if !star_resource && !def.has_resource_types() && !resources.is_empty() {
                out.push(finding(
                    Severity::Error,
                    "ACTION_NEEDS_STAR",
                    format!(
                        "`{action}` supports no resource-level permissions; it only works on `*`"
                    ),
                    at(),
                ));
            }
        }
        if star_resource
            && st.effect == Effect::Allow
            && st.action.iter().flatten().any(|a| a.contains('*'))
        {
            out.push(finding(
                Severity::SecurityWarning,
                "WILDCARD_RESOURCE",
                "wildcard actions on `*` grant far more than a grant needs".into(),
                at(),
            ));
        }
    }
    let size = doc.size();
    if size > INLINE_ROLE_POLICY_LIMIT {
        out.push(finding(Severity::Error, "POLICY_TOO_LARGE", format!("the policy is {size} characters; IAM's limit for an inline role policy is {INLINE_ROLE_POLICY_LIMIT}"), None));
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// Checks a role trust policy for cross-account access.
pub fn trust_policy(doc: &PolicyDocument) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, st) in doc.statements.iter().enumerate() {
        let label = statement_label(st, i);
        let at = || Some(label.clone());
        check_conditions(st, &label, &mut out);
        if st.effect != Effect::Allow {
            continue;
        }
        let Some(principal) = &st.principal else {
            out.push(finding(
                Severity::Error,
                "MISSING_PRINCIPAL",
                "a trust policy statement must name a `Principal`".into(),
                at(),
            ));
            continue;
        };
        let aws = principal.values("AWS");
        if matches!(principal, crate::document::Principal::Any) || aws.iter().any(|v| v == "*") {
            out.push(finding(
                Severity::SecurityWarning,
                "TRUST_ANYONE",
                "the role trusts every AWS principal".into(),
                at(),
            ));
        }
        let has_external_id = st.condition.0.iter().any(|(op, keys)| {
            op.starts_with("String")
                && keys
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("sts:ExternalId"))
        });
        let narrows_principal = st.condition.0.values().any(|keys| {
            keys.keys().any(|k| {
                k.eq_ignore_ascii_case("aws:PrincipalArn")
                    || k.eq_ignore_ascii_case("aws:PrincipalOrgID")
            })
        });
        let trusts_root = aws.iter().any(|v| {
            v.ends_with(":root") || (v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()))
        });
        if trusts_root && st.condition.is_empty() {
            out.push(finding(Severity::SecurityWarning, "TRUST_ACCOUNT_ROOT_WITHOUT_CONDITION", "the role trusts a whole account with no condition: any principal there that is allowed `sts:AssumeRole` can assume it".into(), at()));
        } else if trusts_root && !narrows_principal {
            out.push(finding(Severity::Warning, "TRUST_ACCOUNT_ROOT", "the role trusts every principal of the account that has the External ID; name the requestor role with `aws:PrincipalArn` to narrow it".into(), at()));
        }
        if !aws.is_empty() && !has_external_id {
            out.push(finding(Severity::SecurityWarning, "MISSING_EXTERNAL_ID", "cross-account trust without an `sts:ExternalId` condition is open to the confused deputy problem".into(), at()));
        }
    }
    let size = doc.size();
    if size > TRUST_POLICY_LIMIT {
        out.push(finding(
            Severity::Error,
            "POLICY_TOO_LARGE",
            format!(
                "the trust policy is {size} characters; IAM's default limit is {TRUST_POLICY_LIMIT}"
            ),
            None,
        ));
    }
    out.sort_by_key(|f| f.severity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.code.as_ref()).collect()
    }

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::from_json(json).unwrap()
    }

    #[test]
    fn object_action_on_bucket_arn_is_an_error() {
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"}]}"#,
        ));
        assert_eq!(codes(&f), ["ACTION_RESOURCE_MISMATCH"]);
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn describe_instances_on_an_instance_is_an_error() {
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"arn:aws:ec2:us-east-1:111111111111:instance/i-1"}]}"#,
        ));
        assert_eq!(codes(&f), ["ACTION_NEEDS_STAR"]);
    }

    #[test]
    fn assume_role_on_a_role_arn_is_clean() {
        let owner: crate::Arn = "arn:aws:iam::111111111111:role/xacct/grant"
            .parse()
            .unwrap();
        let d = crate::trust::assume_owner_role_policy(&owner).unwrap();
        assert!(
            permissions_policy(&d).is_empty(),
            "{:?}",
            permissions_policy(&d)
        );
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"}]}"#,
        ));
        assert_eq!(codes(&f), ["ACTION_RESOURCE_MISMATCH"]);
    }

    #[test]
    fn wildcards_and_star_resources() {
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        ));
        assert_eq!(codes(&f), ["WILDCARD_ACTION", "WILDCARD_RESOURCE"]);
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        ));
        assert_eq!(codes(&f), ["RESOURCE_LEVEL_ACTION_ON_STAR"]);
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}"#,
        ));
        assert_eq!(codes(&f), ["PARTIAL_WILDCARD_ACTION"]);
    }

    #[test]
    fn unknown_and_permissions_management_actions() {
        let f = permissions_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObjekt","s3:PutBucketPolicy"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#,
        ));
        assert_eq!(
            codes(&f),
            ["UNKNOWN_ACTION", "PERMISSIONS_MANAGEMENT_ACTION"]
        );
    }

    #[test]
    fn a_single_valued_operator_on_a_multivalued_key_is_reported() {
        let d = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"T","Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"team"},"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}}]}"#,
        );
        let findings = permissions_policy(&d);
        let found = codes(&findings);
        assert_eq!(
            found
                .iter()
                .filter(|c| **c == "SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY")
                .count(),
            1,
            "{found:?}"
        );
    }

    #[test]
    fn oversize_policy() {
        let resources: Vec<String> = (0..400)
            .map(|i| format!("arn:aws:s3:::bucket-number-{i}/*"))
            .collect();
        let d = PolicyDocument::new(vec![Statement::allow(
            "Big",
            vec!["s3:GetObject".into()],
            resources,
        )]);
        assert!(codes(&permissions_policy(&d)).contains(&"POLICY_TOO_LARGE"));
    }

    #[test]
    fn trust_findings() {
        let f = trust_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}"#,
        ));
        assert_eq!(
            codes(&f),
            [
                "TRUST_ACCOUNT_ROOT_WITHOUT_CONDITION",
                "MISSING_EXTERNAL_ID"
            ]
        );
        let f = trust_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}"#,
        ));
        assert_eq!(codes(&f), ["TRUST_ACCOUNT_ROOT"]);
        let f = trust_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
        ));
        assert_eq!(codes(&f), ["TRUST_ANYONE"]);
        let f = trust_policy(&doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/app"}}}]}"#,
        ));
        assert!(f.is_empty(), "{f:?}");
    }
}
