//! What a change does to access, in access terms rather than JSON: the action and resource
//! pairs granted or no longer granted, the principals that may now or no longer assume the
//! role, and the conditions on them added or dropped. Every create answer carries one, dry
//! runs included, so a reviewer sees what a change adds before it is made.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::document::{Effect, PolicyDocument, Principal, Statement};

/// One action allowed on one resource pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AccessPair))]
pub struct Access {
    pub action: String,
    pub resource: String,
}

/// One condition on who may assume: operator, key and values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustCondition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// The kind of a change, for a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A role (or policy) that does not exist yet.
    New,
    /// The same access.
    None,
    /// Only less access.
    Narrows,
    /// Only more access.
    Widens,
    /// More in one way, less in another.
    Mixed,
    /// A condition replaced by another on the same key (a new External ID): different,
    /// neither wider nor narrower.
    Replaces,
}

/// What a change does to access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "What the change does to access, in access terms: the action and resource \
        pairs it grants and revokes, the principals that may now or no longer assume the role \
        (for a person's policy, always empty), and the conditions on them added or dropped. \
        `change` labels it: `new` (nothing existed), `none`, `narrows` (only less access), \
        `widens` (only more), `mixed`, or `replaces` (a condition replaced by one on the same \
        key, such as a new External ID). In every dry run too. A widening of who may assume is \
        refused unless the request says `widen_trust` (409 `TrustWouldWiden`)."
    )
)]
pub struct AccessDiff {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub change: ChangeKind,
    /// Action and resource pairs the change grants that were not granted before.
    pub granted: Vec<Access>,
    /// Pairs granted before and no longer.
    pub revoked: Vec<Access>,
    /// Principals (and principal ARN patterns) that may now assume the role.
    pub principals_added: Vec<String>,
    pub principals_removed: Vec<String>,
    /// Conditions on assuming it that the change adds (narrower) or drops (wider).
    pub conditions_added: Vec<TrustCondition>,
    pub conditions_removed: Vec<TrustCondition>,
}

/// A role's access as its two documents state it.
#[derive(Debug, Clone, Copy)]
pub struct RoleAccess<'a> {
    /// `None` for a person's policy, which has no trust.
    pub trust: Option<&'a PolicyDocument>,
    pub permissions: &'a PolicyDocument,
}

fn grants(doc: &PolicyDocument) -> BTreeSet<Access> {
    doc.statements
        .iter()
        .filter(|st| st.effect == Effect::Allow)
        .flat_map(|st| {
            let resources = st.resource.clone().unwrap_or_default();
            st.action
                .iter()
                .flatten()
                .flat_map(move |action| {
                    resources.clone().into_iter().map(move |resource| Access {
                        action: action.clone(),
                        resource,
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `Allow` statements of a trust policy (none for a person's policy, which has none).
fn trust_allows(trust: Option<&PolicyDocument>) -> impl Iterator<Item = &Statement> {
    trust
        .into_iter()
        .flat_map(|t| t.statements.iter())
        .filter(|st| st.effect == Effect::Allow)
}

/// Who the trust lets in: the principals of its `Allow` statements, and the principal ARN
/// patterns its `aws:PrincipalArn` conditions narrow them to.
fn principals(trust: Option<&PolicyDocument>) -> BTreeSet<String> {
    trust_allows(trust)
        .flat_map(|st| {
            let named: Vec<String> = match &st.principal {
                Some(Principal::Any) => vec!["*".to_owned()],
                Some(Principal::Map(map)) => map.values().flatten().cloned().collect(),
                None => Vec::new(),
            };
            let narrowed: Vec<String> = st
                .condition
                .0
                .values()
                .flat_map(|keys| keys.iter())
                .filter(|(key, _)| key.eq_ignore_ascii_case("aws:PrincipalArn"))
                .flat_map(|(_, values)| values.iter().cloned())
                .collect();
            if narrowed.is_empty() { named } else { narrowed }
        })
        .collect()
}

fn conditions(trust: Option<&PolicyDocument>) -> BTreeSet<TrustCondition> {
    trust_allows(trust)
        .flat_map(|st| {
            st.condition.0.iter().flat_map(|(operator, keys)| {
                keys.iter()
                    // The principal ARN is part of who, not a condition on them.
                    .filter(|(key, _)| !key.eq_ignore_ascii_case("aws:PrincipalArn"))
                    .map(|(key, values)| TrustCondition {
                        operator: operator.clone(),
                        key: key.clone(),
                        values: values.clone(),
                    })
            })
        })
        .collect()
}

/// Whether principal `a` admits everything principal `b` does: `*`, or the root of `b`'s
/// account.
fn covers(a: &str, b: &str) -> bool {
    if a == "*" {
        return true;
    }
    let account = |p: &str| {
        p.parse::<crate::arn::Arn>()
            .ok()
            .map(|arn| arn.account().to_owned())
    };
    a.ends_with(":root") && account(a).is_some_and(|acc| Some(acc) == account(b))
}

fn minus<T: Ord + Clone>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Vec<T> {
    a.difference(b).cloned().collect()
}

impl ChangeKind {
    /// In words, for a label.
    pub fn describe(self) -> &'static str {
        match self {
            Self::New => "new: everything below is granted",
            Self::None => "no change to access",
            Self::Narrows => "narrows access only",
            Self::Widens => "widens access",
            Self::Mixed => "widens access in one way and narrows it in another",
            Self::Replaces => {
                "replaces a condition (a new External ID): neither wider nor narrower"
            }
        }
    }
}

impl AccessDiff {
    /// The diff as lines for a terminal: the label, then `+` for what is added and `-` for
    /// what is taken away.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("access: {}", self.change.describe())];
        out.extend(
            self.granted
                .iter()
                .map(|a| format!("  + {} on {}", a.action, a.resource)),
        );
        out.extend(
            self.revoked
                .iter()
                .map(|a| format!("  - {} on {}", a.action, a.resource)),
        );
        out.extend(
            self.principals_added
                .iter()
                .map(|p| format!("  + may assume: {p}")),
        );
        out.extend(
            self.principals_removed
                .iter()
                .map(|p| format!("  - may no longer assume: {p}")),
        );
        let condition =
            |c: &TrustCondition| format!("{} {} = {}", c.operator, c.key, c.values.join(", "));
        out.extend(
            self.conditions_added
                .iter()
                .map(|c| format!("  + condition {}", condition(c))),
        );
        out.extend(
            self.conditions_removed
                .iter()
                .map(|c| format!("  - condition {}", condition(c))),
        );
        out
    }

    /// The change from `before` (`None` for a role that does not exist yet) to `after`.
    pub fn between(before: Option<RoleAccess<'_>>, after: RoleAccess<'_>) -> Self {
        let (old_grants, old_principals, old_conditions) = match before {
            Some(b) => (
                grants(b.permissions),
                principals(b.trust),
                conditions(b.trust),
            ),
            None => Default::default(),
        };
        let (new_grants, new_principals, new_conditions) = (
            grants(after.permissions),
            principals(after.trust),
            conditions(after.trust),
        );
        let mut diff = Self {
            change: ChangeKind::None,
            granted: minus(&new_grants, &old_grants),
            revoked: minus(&old_grants, &new_grants),
            principals_added: minus(&new_principals, &old_principals),
            principals_removed: minus(&old_principals, &new_principals),
            conditions_added: minus(&new_conditions, &old_conditions),
            conditions_removed: minus(&old_conditions, &new_conditions),
        };
        diff.change = match before {
            None => ChangeKind::New,
            Some(_) => {
                // A condition replaced by one on the same key (a new External ID) changes who
                // may assume without making the trust wider or narrower.
                let replaced = |c: &TrustCondition, others: &[TrustCondition]| {
                    others
                        .iter()
                        .any(|o| o.key == c.key && o.operator == c.operator)
                };
                let dropped = diff
                    .conditions_removed
                    .iter()
                    .any(|c| !replaced(c, &diff.conditions_added));
                let added = diff
                    .conditions_added
                    .iter()
                    .any(|c| !replaced(c, &diff.conditions_removed));
                // A principal replaced by one that admits it too (a role by its account's root)
                // is wider, not narrower; the other way round, narrower.
                let admits_more = diff
                    .principals_added
                    .iter()
                    .any(|a| !diff.principals_removed.iter().any(|r| covers(r, a)));
                let admits_fewer = diff
                    .principals_removed
                    .iter()
                    .any(|r| !diff.principals_added.iter().any(|a| covers(a, r)));
                let wider = !diff.granted.is_empty() || admits_more || dropped;
                let narrower = !diff.revoked.is_empty() || admits_fewer || added;
                let replaced_only =
                    !diff.conditions_added.is_empty() || !diff.conditions_removed.is_empty();
                match (wider, narrower) {
                    (false, false) if replaced_only => ChangeKind::Replaces,
                    (false, false) => ChangeKind::None,
                    (false, true) => ChangeKind::Narrows,
                    (true, false) => ChangeKind::Widens,
                    (true, true) => ChangeKind::Mixed,
                }
            }
        };
        diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> PolicyDocument {
        serde_json::from_str(json).unwrap()
    }

    fn permissions(actions: &[&str]) -> PolicyDocument {
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{},"Resource":"arn:aws:s3:::reports/*"}}]}}"#,
            serde_json::to_string(actions).unwrap()
        ))
    }

    fn trust(condition: &str) -> PolicyDocument {
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:root"}},"Action":"sts:AssumeRole","Condition":{condition}}}]}}"#
        ))
    }

    /// The diff of a trust change with the same permissions.
    fn trust_change(before: &PolicyDocument, after: &PolicyDocument) -> AccessDiff {
        let p = permissions(&["s3:GetObject"]);
        AccessDiff::between(
            Some(RoleAccess {
                trust: Some(before),
                permissions: &p,
            }),
            RoleAccess {
                trust: Some(after),
                permissions: &p,
            },
        )
    }

    const NARROW: &str = r#"{"StringEquals":{"sts:ExternalId":"ext-1"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/app"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#;
    const WIDE: &str = r#"{"StringEquals":{"sts:ExternalId":"ext-1"}}"#;

    #[test]
    fn a_new_role_grants_everything_it_has() {
        let (t, p) = (trust(WIDE), permissions(&["s3:GetObject"]));
        let d = AccessDiff::between(
            None,
            RoleAccess {
                trust: Some(&t),
                permissions: &p,
            },
        );
        assert_eq!(d.change, ChangeKind::New);
        assert_eq!(d.granted.len(), 1);
        assert_eq!(d.principals_added, ["arn:aws:iam::222222222222:root"]);
    }

    #[test]
    fn the_same_role_is_no_change() {
        let (t, p) = (trust(NARROW), permissions(&["s3:GetObject"]));
        let same = RoleAccess {
            trust: Some(&t),
            permissions: &p,
        };
        let d = AccessDiff::between(Some(same), same);
        assert_eq!(d.change, ChangeKind::None);
        assert!(d.granted.is_empty() && d.revoked.is_empty());
    }

    #[test]
    fn adding_an_action_widens_and_removing_one_narrows() {
        let t = trust(WIDE);
        let (one, two) = (
            permissions(&["s3:GetObject"]),
            permissions(&["s3:GetObject", "s3:PutObject"]),
        );
        let with = |p| RoleAccess {
            trust: Some(&t),
            permissions: p,
        };
        let up = AccessDiff::between(Some(with(&one)), with(&two));
        assert_eq!(up.change, ChangeKind::Widens);
        assert_eq!(up.granted[0].action, "s3:PutObject");
        let down = AccessDiff::between(Some(with(&two)), with(&one));
        assert_eq!(down.change, ChangeKind::Narrows);
        assert_eq!(down.revoked[0].action, "s3:PutObject");
    }

    #[test]
    fn dropping_the_role_restriction_and_mfa_widens_who_may_assume() {
        let d = trust_change(&trust(NARROW), &trust(WIDE));
        assert_eq!(d.change, ChangeKind::Widens);
        assert_eq!(d.principals_added, ["arn:aws:iam::222222222222:root"]);
        assert_eq!(d.principals_removed, ["arn:aws:iam::222222222222:role/app"]);
        assert_eq!(d.conditions_removed[0].key, "aws:MultiFactorAuthPresent");
    }

    #[test]
    fn naming_the_role_again_narrows() {
        let d = trust_change(&trust(WIDE), &trust(NARROW));
        assert_eq!(d.change, ChangeKind::Narrows);
    }

    #[test]
    fn a_new_external_id_is_a_change_that_neither_widens_nor_narrows() {
        let d = trust_change(
            &trust(WIDE),
            &trust(r#"{"StringEquals":{"sts:ExternalId":"ext-2"}}"#),
        );
        assert_eq!(d.change, ChangeKind::Replaces);
        assert_eq!(d.conditions_added[0].values, ["ext-2"]);
        assert_eq!(d.conditions_removed[0].values, ["ext-1"]);
    }
}
