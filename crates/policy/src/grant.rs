//! The least-privilege permissions policy for a grant: the chosen actions on exactly the ARNs
//! they need, one statement per group of ARNs that share the same actions, a separate
//! statement for actions that only work on `*`, in a deterministic order.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{AccessLevel, ActionDef};
use crate::document::{INLINE_ROLE_POLICY_LIMIT, PolicyDocument, Statement};
use crate::ids::Action;
use crate::permissions::{ActionPermission, GrantScope, ResourcePermissions};

/// Why the chosen actions cannot become a policy. Each names the action at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("choose at least one action")]
    NoActions,
    #[error(
        "xacct does not grant access to `{service}` resources: a grant there could change who has access to the account"
    )]
    SensitiveService { service: String },
    #[error(
        "`{0}` is a pattern (`*` or `?`), not one resource; a grant names exactly one resource"
    )]
    PatternResource(String),
    #[error("`{0}` is not an action; actions look like `s3:GetObject`")]
    InvalidAction(String),
    #[error("`{0}` is a wildcard; choose the actions one by one")]
    Wildcard(String),
    #[error("`{action}` is not an action of `{service}`, the resource's service")]
    OtherService { action: String, service: String },
    #[error("`{0}` is not in AWS's action catalog")]
    UnknownAction(String),
    #[error("`{action}` does not apply to `{arn}`")]
    NotApplicable { action: String, arn: String },
    #[error("`{0}` is listed more than once")]
    Duplicate(String),
    #[error(
        "`{0}` is a permissions management action: it would let the requestor change who has access; set allow_permissions_management to grant it"
    )]
    PermissionsManagement(String),
    #[error(
        "the permissions policy would be {size} characters, over IAM's limit of {limit} for an inline role policy; choose fewer actions"
    )]
    TooLarge { size: usize, limit: usize },
}

impl GrantError {
    /// The action the error is about, if any.
    pub fn action(&self) -> Option<&str> {
        match self {
            Self::InvalidAction(a)
            | Self::Wildcard(a)
            | Self::UnknownAction(a)
            | Self::Duplicate(a)
            | Self::PermissionsManagement(a)
            | Self::OtherService { action: a, .. }
            | Self::NotApplicable { action: a, .. } => Some(a),
            Self::NoActions
            | Self::TooLarge { .. }
            | Self::SensitiveService { .. }
            | Self::PatternResource(_) => None,
        }
    }
}

/// Services whose resources control identity and access itself. A cross-account grant on
/// them (`iam:UpdateAssumeRolePolicy` on a role, say) would let the requestor escalate, so
/// xacct refuses them whatever the options.
pub const SENSITIVE_SERVICES: &[&str] = &[
    "iam",
    "sts",
    "organizations",
    "account",
    "sso",
    "sso-directory",
    "identitystore",
    "identity-sync",
];

/// Options of a grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantOptions {
    /// Permit `Permissions management` actions (such as `s3:PutBucketPolicy`).
    pub allow_permissions_management: bool,
}

/// The chosen actions, checked against the resource's permissions, in catalog order.
pub fn select_actions<'p, S: AsRef<str>>(
    permissions: &'p ResourcePermissions,
    requested: &[S],
    options: GrantOptions,
) -> Result<Vec<&'p ActionPermission>, GrantError> {
    // Only xacct widens a resource to what AWS requires (`bucket/*` for objects), from the
    // catalog; a pattern given as the resource would grant everything it matches.
    if permissions.arn.is_pattern() {
        return Err(GrantError::PatternResource(permissions.arn.to_string()));
    }
    let service = permissions.service.prefix();
    if SENSITIVE_SERVICES.contains(&service) {
        return Err(GrantError::SensitiveService {
            service: service.to_owned(),
        });
    }
    if requested.is_empty() {
        return Err(GrantError::NoActions);
    }
    let mut seen = BTreeSet::new();
    let mut chosen = Vec::with_capacity(requested.len());
    for raw in requested {
        let raw = raw.as_ref();
        let action: Action = raw
            .parse()
            .map_err(|_| GrantError::InvalidAction(raw.to_owned()))?;
        if action.is_wildcard() {
            return Err(GrantError::Wildcard(raw.to_owned()));
        }
        if !action.service().eq_ignore_ascii_case(service) {
            return Err(GrantError::OtherService {
                action: raw.to_owned(),
                service: service.to_owned(),
            });
        }
        let Some(def) = permissions.service.action(action.name()) else {
            return Err(GrantError::UnknownAction(raw.to_owned()));
        };
        if !seen.insert(def.name()) {
            return Err(GrantError::Duplicate(raw.to_owned()));
        }
        let Some(entry) = permissions.find(service, def.name()) else {
            return Err(GrantError::NotApplicable {
                action: raw.to_owned(),
                arn: permissions.arn.to_string(),
            });
        };
        if shares_access(service, def) && !options.allow_permissions_management {
            return Err(GrantError::PermissionsManagement(raw.to_owned()));
        }
        chosen.push(entry);
    }
    chosen.sort_by_key(|a| a.action.name().to_ascii_lowercase());
    Ok(chosen)
}

/// Actions that change who may reach a resource although AWS's service reference files
/// them under `Write`: sharing a DB snapshot or an AMI with other accounts (or everyone),
/// and a Lambda Function URL, which may be created with `AuthType: NONE`.
const SHARES_ACCESS_AS_WRITE: &[(&str, &str)] = &[
    ("ec2", "ModifyImageAttribute"),
    ("lambda", "CreateFunctionUrlConfig"),
    ("lambda", "UpdateFunctionUrlConfig"),
    ("rds", "ModifyDBClusterSnapshotAttribute"),
    ("rds", "ModifyDBSnapshotAttribute"),
];

/// Whether granting the action lets the requestor change who has access: AWS's
/// permissions management level, or one of the actions above. Such actions are granted only
/// with `allow_permissions_management`.
pub fn shares_access(service: &str, def: ActionDef) -> bool {
    def.access_level() == AccessLevel::PermissionsManagement
        || SHARES_ACCESS_AS_WRITE
            .iter()
            .any(|(s, a)| s.eq_ignore_ascii_case(service) && *a == def.name())
}

fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The least-privilege permissions policy for `requested` actions on the resource.
pub fn least_privilege_policy<S: AsRef<str>>(
    permissions: &ResourcePermissions,
    requested: &[S],
    options: GrantOptions,
) -> Result<PolicyDocument, GrantError> {
    let chosen = select_actions(permissions, requested, options)?;

    // Each action with the exact set of ARNs it needs; actions needing the same set share a
    // statement. An action that needs several resources (`rds:CreateDBSnapshot`: the
    // database and `snapshot:*`) so gets one statement holding all of them, the shape
    // linters such as parliament read as one request's resources (two statements mean the
    // same to AWS, but parliament reports RESOURCE_MISMATCH for them).
    type Target<'a> = (GrantScope, &'a str, &'a str);
    let mut groups: BTreeMap<Vec<Target<'_>>, BTreeSet<String>> = BTreeMap::new();
    for entry in &chosen {
        let mut targets: Vec<Target<'_>> = entry
            .targets
            .iter()
            .map(|t| {
                (
                    t.scope,
                    t.arn.as_str(),
                    t.resource_type.map_or("", |rt| rt.name()),
                )
            })
            .collect();
        targets.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        targets.dedup_by(|a, b| a.1 == b.1);
        groups
            .entry(targets)
            .or_default()
            .insert(entry.action.full_name());
    }
    let mut statements: Vec<(GrantScope, String, Statement)> = Vec::new();
    let mut used_sids = BTreeSet::new();
    let service = camel(permissions.service.prefix());
    for (targets, actions) in groups {
        let Some(&(scope, first_arn, _)) = targets.first() else {
            continue;
        };
        let base = if scope == GrantScope::AllResources {
            format!("{service}WithoutResourceLevel")
        } else {
            // Named after the resource and the other resources it needs; a function's
            // versions and aliases (`:*`) are the function's, and add no name.
            let mut types: Vec<&str> = Vec::new();
            for (target_scope, _, type_name) in &targets {
                if *target_scope != GrantScope::Qualifiers && !types.contains(type_name) {
                    types.push(type_name);
                }
            }
            // Only the qualified forms (`lambda:GetProvisionedConcurrencyConfig`).
            let qualifiers = if types.is_empty() { "Qualifiers" } else { "" };
            if types.is_empty() {
                types.push(permissions.resource_type());
            }
            format!(
                "{service}{}{qualifiers}",
                types.iter().map(|t| camel(t)).collect::<String>()
            )
        };
        let mut sid = base.clone();
        let mut n = 2;
        while !used_sids.insert(sid.clone()) {
            sid = format!("{base}{n}");
            n += 1;
        }
        let resources = targets.iter().map(|(_, a, _)| (*a).to_owned()).collect();
        statements.push((
            scope,
            first_arn.to_owned(),
            Statement::allow(sid, actions.into_iter().collect(), resources),
        ));
    }
    statements.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let document = PolicyDocument::new(statements.into_iter().map(|(_, _, s)| s).collect());
    let size = document.size();
    if size > INLINE_ROLE_POLICY_LIMIT {
        return Err(GrantError::TooLarge {
            size,
            limit: INLINE_ROLE_POLICY_LIMIT,
        });
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::permissions_for;

    fn perms(arn: &str) -> ResourcePermissions {
        permissions_for(&arn.parse().unwrap()).unwrap()
    }

    #[test]
    fn object_read_on_bucket_star_list_on_bucket() {
        let p = perms("arn:aws:s3:::reports");
        let doc = least_privilege_policy(
            &p,
            &["s3:GetObject", "s3:ListBucket"],
            GrantOptions::default(),
        )
        .unwrap();
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3Bucket","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::reports"},{"Sid":"S3Object","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}"#
        );
    }

    #[test]
    fn star_only_actions_get_their_own_statement() {
        let p = perms("arn:aws:ec2:us-east-1:111111111111:instance/i-0abc");
        let doc = least_privilege_policy(
            &p,
            &[
                "ec2:DescribeInstances",
                "ec2:StartInstances",
                "ec2:StopInstances",
            ],
            GrantOptions::default(),
        )
        .unwrap();
        let st = &doc.statements;
        assert_eq!(st.len(), 2);
        assert_eq!(
            st[0].resource.as_deref().unwrap(),
            ["arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"]
        );
        assert_eq!(
            st[0].action.as_deref().unwrap(),
            ["ec2:StartInstances", "ec2:StopInstances"]
        );
        assert_eq!(st[1].sid.as_deref(), Some("Ec2WithoutResourceLevel"));
        assert_eq!(st[1].resource.as_deref().unwrap(), ["*"]);
    }

    #[test]
    fn multi_resource_action_holds_all_its_resources_in_one_statement() {
        let p = perms("arn:aws:rds:us-east-1:111111111111:db:orders");
        let doc = least_privilege_policy(
            &p,
            &["rds:CreateDBSnapshot", "rds:DescribeDBInstances"],
            GrantOptions::default(),
        )
        .unwrap();
        let json = doc.to_json();
        // One statement with both resources (what AWS authorizes and parliament can match),
        // and the database-only action in its own.
        assert!(json.contains(r#"{"Sid":"RdsDbSnapshot","Effect":"Allow","Action":"rds:CreateDBSnapshot","Resource":["arn:aws:rds:us-east-1:111111111111:db:orders","arn:aws:rds:us-east-1:111111111111:snapshot:*"]}"#), "{json}");
        assert!(json.contains(r#"{"Sid":"RdsDb","Effect":"Allow","Action":"rds:DescribeDBInstances","Resource":"arn:aws:rds:us-east-1:111111111111:db:orders"}"#), "{json}");
    }

    #[test]
    fn qualified_only_action_is_granted_on_the_versions_and_aliases() {
        let p = perms("arn:aws:lambda:us-east-1:111111111111:function:resize");
        let doc = least_privilege_policy(
            &p,
            &[
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:GetFunction",
            ],
            GrantOptions::default(),
        )
        .unwrap();
        let json = doc.to_json();
        assert!(json.contains(r#"{"Sid":"LambdaFunctionQualifiers","Effect":"Allow","Action":"lambda:GetProvisionedConcurrencyConfig","Resource":"arn:aws:lambda:us-east-1:111111111111:function:resize:*"}"#), "{json}");
        assert!(json.contains(r#""Action":"lambda:GetFunction","Resource":["arn:aws:lambda:us-east-1:111111111111:function:resize","arn:aws:lambda:us-east-1:111111111111:function:resize:*"]"#), "{json}");
    }

    #[test]
    fn refuses_what_it_must() {
        let p = perms("arn:aws:s3:::reports");
        let o = GrantOptions::default();
        let err = |actions: &[&str]| least_privilege_policy(&p, actions, o).unwrap_err();
        assert_eq!(err(&[]), GrantError::NoActions);
        assert_eq!(err(&["s3:*"]), GrantError::Wildcard("s3:*".into()));
        assert_eq!(err(&["*"]), GrantError::Wildcard("*".into()));
        assert_eq!(err(&["s3:Get*"]), GrantError::Wildcard("s3:Get*".into()));
        assert_eq!(
            err(&["s3:GetObjekt"]),
            GrantError::UnknownAction("s3:GetObjekt".into())
        );
        assert_eq!(
            err(&["ec2:StartInstances"]).to_string(),
            "`ec2:StartInstances` is not an action of `s3`, the resource's service"
        );
        assert_eq!(
            err(&["s3:GetObject", "s3:getobject"]),
            GrantError::Duplicate("s3:getobject".into())
        );
        assert_eq!(err(&["s3:CreateJob"]).action(), Some("s3:CreateJob"));
        assert_eq!(
            err(&["s3:PutBucketPolicy"]),
            GrantError::PermissionsManagement("s3:PutBucketPolicy".into())
        );
        assert_eq!(
            err(&["not an action"]),
            GrantError::InvalidAction("not an action".into())
        );
        let snapshot = perms("arn:aws:rds:us-east-1:111111111111:snapshot:nightly");
        assert_eq!(
            least_privilege_policy(
                &snapshot,
                &["rds:ModifyDBSnapshotAttribute"],
                GrantOptions::default()
            )
            .unwrap_err(),
            GrantError::PermissionsManagement("rds:ModifyDBSnapshotAttribute".into()),
            "sharing a snapshot is permissions management whatever AWS's level says"
        );
        let allowed = least_privilege_policy(
            &p,
            &["s3:PutBucketPolicy"],
            GrantOptions {
                allow_permissions_management: true,
            },
        );
        assert!(allowed.is_ok());
    }

    #[test]
    fn identity_resources_are_refused_whatever_the_options() {
        let p = perms("arn:aws:iam::111111111111:role/Admin");
        let all = GrantOptions {
            allow_permissions_management: true,
        };
        assert_eq!(
            least_privilege_policy(&p, &["iam:UpdateAssumeRolePolicy"], all),
            Err(GrantError::SensitiveService {
                service: "iam".into()
            })
        );
        assert!(least_privilege_policy(&p, &["iam:GetRole"], GrantOptions::default()).is_err());
    }

    #[test]
    fn output_is_deterministic_whatever_the_input_order() {
        let p = perms("arn:aws:s3:::reports");
        let a = least_privilege_policy(
            &p,
            &["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
            GrantOptions::default(),
        )
        .unwrap();
        let b = least_privilege_policy(
            &p,
            &["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
            GrantOptions::default(),
        )
        .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn every_applicable_action_fits_or_says_too_large() {
        let p = perms("arn:aws:ec2:us-east-1:111111111111:instance/i-0abc");
        let all: Vec<String> = p.actions.iter().map(|a| a.action.full_name()).collect();
        match least_privilege_policy(
            &p,
            &all,
            GrantOptions {
                allow_permissions_management: true,
            },
        ) {
            Ok(doc) => assert!(doc.size() <= INLINE_ROLE_POLICY_LIMIT),
            Err(GrantError::TooLarge { size, limit }) => assert!(size > limit),
            Err(other) => panic!("{other}"),
        }
    }
}
