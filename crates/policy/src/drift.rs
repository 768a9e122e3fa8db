//! Drift: how a live policy differs from the one xacct would write, statement by statement.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::{Effect, PolicyDocument, Statement};

/// The part of a role that drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DriftDocument {
    TrustPolicy,
    PermissionsPolicy,
    InlinePolicies,
    AttachedPolicies,
    PermissionsBoundary,
}

impl fmt::Display for DriftDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TrustPolicy => "trust_policy",
            Self::PermissionsPolicy => "permissions_policy",
            Self::InlinePolicies => "inline_policies",
            Self::AttachedPolicies => "attached_policies",
            Self::PermissionsBoundary => "permissions_boundary",
        })
    }
}

/// What happened to a part of a role outside xacct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DriftChange {
    Added,
    Removed,
    Changed,
}

/// How one part of a role differs from what xacct would build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "How one part of the role differs from what xacct would write for its grant."
    )
)]
pub struct Drift {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub document: DriftDocument,
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub change: DriftChange,
    pub message: String,
    /// What xacct would have there (a statement, a boundary ARN, ...); absent when nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// What the role has there (a statement, a policy document, an ARN, ...); absent when
    /// nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
}

fn value(st: &Statement) -> Option<Value> {
    serde_json::to_value(st).ok()
}

fn name(st: &Statement, index: usize) -> String {
    match &st.sid {
        Some(sid) => format!("statement `{sid}`"),
        None => format!("statement #{}", index + 1),
    }
}

/// The differences between the document xacct would write and the live one.
pub fn compare(
    document: DriftDocument,
    expected: &PolicyDocument,
    actual: &PolicyDocument,
) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut matched = vec![false; expected.statements.len()];
    for (i, st) in actual.statements.iter().enumerate() {
        if let Some(j) = expected
            .statements
            .iter()
            .enumerate()
            .position(|(j, e)| !matched.get(j).copied().unwrap_or(true) && e == st)
        {
            if let Some(m) = matched.get_mut(j) {
                *m = true;
            }
            continue;
        }
        let same_sid = st.sid.as_ref().and_then(|sid| {
            expected.statements.iter().enumerate().position(|(j, e)| {
                !matched.get(j).copied().unwrap_or(true) && e.sid.as_ref() == Some(sid)
            })
        });
        match same_sid {
            Some(j) => {
                if let Some(m) = matched.get_mut(j) {
                    *m = true;
                }
                out.push(Drift {
                    document,
                    change: DriftChange::Changed,
                    message: format!("{document} {} was changed outside xacct", name(st, i)),
                    expected: expected.statements.get(j).and_then(value),
                    actual: value(st),
                });
            }
            None => out.push(Drift {
                document,
                change: DriftChange::Added,
                message: format!(
                    "{document} {} was added outside xacct{}",
                    name(st, i),
                    if st.effect == Effect::Deny {
                        " (a Deny)"
                    } else {
                        ""
                    }
                ),
                expected: None,
                actual: value(st),
            }),
        }
    }
    for (j, st) in expected.statements.iter().enumerate() {
        if !matched.get(j).copied().unwrap_or(true) {
            out.push(Drift {
                document,
                change: DriftChange::Removed,
                message: format!("{document} {} was removed outside xacct", name(st, j)),
                expected: value(st),
                actual: None,
            });
        }
    }
    out
}

/// The actions a policy allows by name (`Allow` statements' `Action`), sorted, once each.
pub fn allowed_actions(doc: &PolicyDocument) -> Vec<String> {
    let mut out: Vec<String> = doc
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .flat_map(|s| s.action.iter().flatten().cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(statements: Vec<Statement>) -> PolicyDocument {
        PolicyDocument::new(statements)
    }

    #[test]
    fn identical_documents_have_no_drift() {
        let d = doc(vec![Statement::allow(
            "A",
            vec!["s3:GetObject".into()],
            vec!["*".into()],
        )]);
        assert!(compare(DriftDocument::PermissionsPolicy, &d, &d.clone()).is_empty());
    }

    #[test]
    fn changed_added_and_removed_statements_are_named() {
        let expected = doc(vec![
            Statement::allow(
                "Objects",
                vec!["s3:GetObject".into()],
                vec!["arn:aws:s3:::b/*".into()],
            ),
            Statement::allow(
                "Bucket",
                vec!["s3:ListBucket".into()],
                vec!["arn:aws:s3:::b".into()],
            ),
        ]);
        let actual = doc(vec![
            Statement::allow("Objects", vec!["s3:GetObject".into()], vec!["*".into()]),
            Statement::allow("Extra", vec!["s3:*".into()], vec!["*".into()]),
        ]);
        let drift = compare(DriftDocument::PermissionsPolicy, &expected, &actual);
        let changes: Vec<(DriftChange, &str)> = drift
            .iter()
            .map(|d| (d.change, d.message.as_str()))
            .collect();
        assert_eq!(
            changes,
            vec![
                (
                    DriftChange::Changed,
                    "permissions_policy statement `Objects` was changed outside xacct"
                ),
                (
                    DriftChange::Added,
                    "permissions_policy statement `Extra` was added outside xacct"
                ),
                (
                    DriftChange::Removed,
                    "permissions_policy statement `Bucket` was removed outside xacct"
                ),
            ]
        );
        assert_eq!(drift[0].actual.as_ref().unwrap()["Resource"], "*");
    }

    #[test]
    fn drift_reads_back_as_written_with_its_change_as_a_word() {
        let expected = doc(vec![Statement::allow(
            "Bucket",
            vec!["s3:ListBucket".into()],
            vec!["arn:aws:s3:::b".into()],
        )]);
        let drift = compare(
            DriftDocument::PermissionsPolicy,
            &expected,
            &doc(Vec::new()),
        );
        let json = serde_json::to_value(&drift).unwrap();
        assert_eq!(json[0]["change"], "removed");
        assert_eq!(serde_json::from_value::<Vec<Drift>>(json).unwrap(), drift);
    }

    #[test]
    fn allowed_actions_are_sorted_and_unique() {
        let d = doc(vec![
            Statement::allow(
                "A",
                vec!["s3:PutObject".into(), "s3:GetObject".into()],
                vec!["*".into()],
            ),
            Statement::allow("B", vec!["s3:GetObject".into()], vec!["*".into()]),
        ]);
        assert_eq!(allowed_actions(&d), vec!["s3:GetObject", "s3:PutObject"]);
    }
}
