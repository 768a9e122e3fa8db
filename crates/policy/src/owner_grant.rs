//! An owner grant as xacct records it on its role: its inputs (resource, requestor,
//! narrowing conditions) read from and written to the role's tags, the trust it implies,
//! and how a live role has drifted from what xacct would build for it.

use std::collections::BTreeMap;

use crate::arn::Arn;
use crate::database::dbuser_arn;
use crate::document::PolicyDocument;
use crate::drift::{Drift, DriftChange, DriftDocument, allowed_actions, compare};
use crate::expiry::Expiry;
use crate::grant::GrantOptions;
use crate::ids::{AccountId, DbUser, ExternalId, OrganizationId};
use crate::permissions::ResourcePermissions;
use crate::resource_side::{ResourceSide, extra_statements, grant_policy};
use crate::tags;
use crate::trust::{CrossAccountTrust, external_id};

/// Inline policy name on every owner role.
pub const OWNER_POLICY_NAME: &str = "xacct-grant";

/// An owner grant's inputs, as recorded in its role's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerGrant {
    pub resource: Arn,
    pub requestor: AccountId,
    pub requestor_role: Option<Arn>,
    pub require_mfa: bool,
    pub org: Option<OrganizationId>,
    /// When the grant ends, as its trust policy enforces it.
    pub expires_at: Option<Expiry>,
    /// The database user an RDS grant logs in as.
    pub db_user: Option<DbUser>,
}

/// A role as IAM has it, as far as drift is concerned.
#[derive(Debug, Clone, Copy)]
pub struct LiveRole<'a> {
    pub trust_policy: Option<&'a PolicyDocument>,
    /// Inline policies by name.
    pub inline: &'a BTreeMap<String, PolicyDocument>,
    /// ARNs of the attached managed policies.
    pub attached: &'a [String],
    pub permissions_boundary: Option<&'a str>,
}

impl OwnerGrant {
    /// Reads the grant from an xacct role's tags; `None` for a role that is not an owner grant.
    pub fn from_tags(role_tags: &BTreeMap<String, String>) -> Option<Self> {
        Some(Self {
            resource: role_tags.get(tags::RESOURCE)?.parse().ok()?,
            requestor: role_tags.get(tags::REQUESTOR)?.parse().ok()?,
            requestor_role: role_tags
                .get(tags::REQUESTOR_ROLE)
                .and_then(|r| r.parse().ok()),
            require_mfa: role_tags.get(tags::MFA).map(String::as_str) == Some("true"),
            org: role_tags.get(tags::ORG).and_then(|o| o.parse().ok()),
            expires_at: role_tags
                .get(tags::EXPIRES_AT)
                .and_then(|e| Expiry::parse(e).ok()),
            db_user: role_tags.get(tags::DB_USER).and_then(|u| u.parse().ok()),
        })
    }

    /// The tags that record this grant.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::from([
            (tags::MANAGED.to_owned(), "true".to_owned()),
            (
                tags::RESOURCE.to_owned(),
                tags::value(&self.resource.to_string()),
            ),
            (tags::REQUESTOR.to_owned(), self.requestor.to_string()),
            (tags::MFA.to_owned(), self.require_mfa.to_string()),
        ]);
        if let Some(r) = &self.requestor_role {
            out.insert(tags::REQUESTOR_ROLE.to_owned(), tags::value(&r.to_string()));
        }
        if let Some(o) = &self.org {
            out.insert(tags::ORG.to_owned(), o.to_string());
        }
        if let Some(at) = self.expires_at {
            out.insert(tags::EXPIRES_AT.to_owned(), at.to_string());
        }
        if let Some(user) = &self.db_user {
            out.insert(tags::DB_USER.to_owned(), user.to_string());
        }
        out
    }

    /// The dbuser ARN the grant logs in as, when it names a user and the database's
    /// resource ID is known.
    pub fn dbuser(&self, side: &ResourceSide) -> Option<Arn> {
        let user = self.db_user.as_ref()?;
        dbuser_arn(&self.resource, &side.database.as_ref()?.resource_id, user)
    }

    /// The trust policy xacct writes for this grant with this External ID.
    pub fn trust(&self, external_id: ExternalId) -> CrossAccountTrust {
        CrossAccountTrust {
            partition: self.resource.partition(),
            requestor_account: self.requestor.clone(),
            requestor_role: self.requestor_role.clone(),
            external_id,
            require_mfa: self.require_mfa,
            principal_org_id: self.org.clone(),
            expires_at: self.expires_at,
        }
    }

    /// How the live role differs from what xacct would build for this grant: the trust
    /// rebuilt with the live External ID, the live actions that apply to the resource granted
    /// the way xacct grants them (with what the resource's `side` makes them need: the
    /// bucket's key, the database login), policies added outside xacct, and the boundary.
    pub fn drift(
        &self,
        live: &LiveRole<'_>,
        permissions: &ResourcePermissions,
        side: &ResourceSide,
        boundary: Option<&Arn>,
    ) -> Vec<Drift> {
        let mut out = Vec::new();
        let empty = PolicyDocument::new(Vec::new());
        let live_trust = live.trust_policy.unwrap_or(&empty);
        match external_id(live_trust).and_then(|e| e.parse::<ExternalId>().ok()) {
            Some(ext) => out.extend(compare(
                DriftDocument::TrustPolicy,
                &self.trust(ext).document(),
                live_trust,
            )),
            None => out.push(Drift {
                document: DriftDocument::TrustPolicy,
                change: DriftChange::Changed,
                message: "trust_policy no longer requires an External ID (`sts:ExternalId`)"
                    .to_owned(),
                expected: None,
                actual: serde_json::to_value(live_trust).ok(),
            }),
        }
        let live_policy = live.inline.get(OWNER_POLICY_NAME);
        let applicable: Vec<String> = live_policy
            .map(allowed_actions)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| {
                a.split_once(':').is_some_and(|(svc, name)| {
                    !a.contains('*') && permissions.find(svc, name).is_some()
                })
            })
            .collect();
        let dbuser = self.dbuser(side);
        let expected = grant_policy(
            permissions,
            &applicable,
            GrantOptions {
                allow_permissions_management: true,
            },
            extra_statements(&self.resource, side, &applicable, dbuser.as_ref()),
        )
        .unwrap_or_else(|_| empty.clone());
        match live_policy {
            Some(doc) => out.extend(compare(DriftDocument::PermissionsPolicy, &expected, doc)),
            None => out.push(Drift {
                document: DriftDocument::InlinePolicies,
                change: DriftChange::Removed,
                message: format!("inline policy `{OWNER_POLICY_NAME}` was removed outside xacct"),
                expected: None,
                actual: None,
            }),
        }
        for (name, doc) in live.inline.iter().filter(|(n, _)| *n != OWNER_POLICY_NAME) {
            out.push(Drift {
                document: DriftDocument::InlinePolicies,
                change: DriftChange::Added,
                message: format!("inline policy `{name}` was added outside xacct"),
                expected: None,
                actual: serde_json::to_value(doc).ok(),
            });
        }
        for arn in live.attached {
            out.push(Drift {
                document: DriftDocument::AttachedPolicies,
                change: DriftChange::Added,
                message: format!("managed policy `{arn}` was attached outside xacct"),
                expected: None,
                actual: Some(serde_json::Value::String(arn.clone())),
            });
        }
        let wanted = boundary.map(ToString::to_string);
        if live.permissions_boundary != wanted.as_deref() {
            out.push(Drift {
                document: DriftDocument::PermissionsBoundary,
                change: DriftChange::Changed,
                message: "the permissions boundary differs from the one xacct sets".to_owned(),
                expected: wanted.map(serde_json::Value::String),
                actual: live
                    .permissions_boundary
                    .map(|b| serde_json::Value::String(b.to_owned())),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::DatabaseFacts;
    use crate::grant::least_privilege_policy;
    use crate::permissions::permissions_for;

    fn grant() -> OwnerGrant {
        OwnerGrant {
            resource: "arn:aws:s3:::reports".parse().unwrap(),
            requestor: "222222222222".parse().unwrap(),
            requestor_role: Some("arn:aws:iam::222222222222:role/xacct/app".parse().unwrap()),
            require_mfa: true,
            org: None,
            expires_at: Some(Expiry::parse("2026-12-31T18:00:00Z").unwrap()),
            db_user: None,
        }
    }

    #[test]
    fn a_grant_round_trips_through_its_tags() {
        let g = grant();
        assert_eq!(OwnerGrant::from_tags(&g.tags()), Some(g));
        assert_eq!(OwnerGrant::from_tags(&BTreeMap::new()), None);
    }

    #[test]
    fn a_role_as_xacct_built_it_has_no_drift_and_a_hand_edit_shows() {
        let g = grant();
        let permissions = permissions_for(&g.resource).unwrap();
        let policy =
            least_privilege_policy(&permissions, &["s3:GetObject"], GrantOptions::default())
                .unwrap();
        let trust = g.trust("ext-0123456789".parse().unwrap()).document();
        let boundary: Arn = "arn:aws:iam::111111111111:policy/xacct/b".parse().unwrap();
        let boundary_text = boundary.to_string();
        let inline = BTreeMap::from([(OWNER_POLICY_NAME.to_owned(), policy)]);
        let live = LiveRole {
            trust_policy: Some(&trust),
            inline: &inline,
            attached: &[],
            permissions_boundary: Some(&boundary_text),
        };
        assert_eq!(
            g.drift(
                &live,
                &permissions,
                &ResourceSide::default(),
                Some(&boundary)
            ),
            Vec::new()
        );
        let attached = ["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()];
        let edited = LiveRole {
            attached: &attached,
            permissions_boundary: None,
            ..live
        };
        let documents: Vec<DriftDocument> = g
            .drift(
                &edited,
                &permissions,
                &ResourceSide::default(),
                Some(&boundary),
            )
            .into_iter()
            .map(|d| d.document)
            .collect();
        assert_eq!(
            documents,
            [
                DriftDocument::AttachedPolicies,
                DriftDocument::PermissionsBoundary
            ]
        );
    }

    #[test]
    fn a_db_login_and_a_bucket_key_as_xacct_grants_them_are_no_drift() {
        let g = OwnerGrant {
            resource: "arn:aws:rds:us-east-1:111111111111:db:orders"
                .parse()
                .unwrap(),
            db_user: Some("app".parse().unwrap()),
            ..grant()
        };
        assert_eq!(OwnerGrant::from_tags(&g.tags()), Some(g.clone()));
        let side = ResourceSide {
            database: Some(DatabaseFacts {
                resource_id: "db-ABC".into(),
                iam_auth: true,
                endpoint: None,
                port: None,
            }),
            ..ResourceSide::default()
        };
        let permissions = permissions_for(&g.resource).unwrap();
        let dbuser = g.dbuser(&side).unwrap();
        let actions = ["rds:DescribeDBInstances"];
        let policy = grant_policy(
            &permissions,
            &actions,
            GrantOptions::default(),
            extra_statements(&g.resource, &side, &actions, Some(&dbuser)),
        )
        .unwrap();
        let trust = g.trust("ext-0123456789".parse().unwrap()).document();
        let inline = BTreeMap::from([(OWNER_POLICY_NAME.to_owned(), policy)]);
        let live = LiveRole {
            trust_policy: Some(&trust),
            inline: &inline,
            attached: &[],
            permissions_boundary: None,
        };
        assert_eq!(g.drift(&live, &permissions, &side, None), Vec::new());
        // Without the login the same policy has drifted.
        let other = OwnerGrant {
            db_user: None,
            ..g.clone()
        };
        assert_eq!(other.drift(&live, &permissions, &side, None).len(), 1);
    }
}
