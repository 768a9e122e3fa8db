//! Which actions apply to a resource, and on exactly which ARNs each would be granted.
//!
//! Everything comes from the catalog: the ARN is recognized by template; actions on its type
//! are granted on the ARN itself (plus `:*` where the type has qualifier children, such as a
//! Lambda function's versions and aliases); actions only on those qualified forms
//! (`lambda:GetProvisionedConcurrencyConfig`) on `arn:*` alone; actions on its `/` children
//! (an S3 bucket's objects) on `arn/*`; List/Read actions without resource-level support that
//! name the type on `*`. Other resource types an action requires (the snapshot `rds:CreateDBSnapshot`
//! creates) are added as patterns next to the resource.

use std::collections::BTreeSet;

use crate::arn::Arn;
use crate::catalog::{self, AccessLevel, ActionDef, ResourceType, TemplatePart};

/// Why the permissions of a resource cannot be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionsError {
    #[error("the action catalog has no service `{service}` (from `{arn}`)")]
    UnknownService { service: String, arn: String },
    #[error("`{arn}` matches no resource type the action catalog knows for `{service}`")]
    UnknownResourceType { service: String, arn: String },
}

/// What part a granted ARN plays for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantScope {
    /// The chosen resource itself.
    Resource,
    /// Its qualified forms (`function:f:*`: versions and aliases).
    Qualifiers,
    /// Resources inside it (`bucket/*`: its objects).
    Children,
    /// Another resource type the request also touches and AWS authorizes separately.
    Required,
    /// `*`: the action supports no resource-level permissions.
    AllResources,
}

/// One ARN (or ARN pattern) an action would be granted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTarget {
    pub arn: String,
    pub scope: GrantScope,
    /// The catalog resource type the ARN stands for; `None` for `*`.
    pub resource_type: Option<ResourceType>,
}

/// An action that applies to the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPermission {
    pub action: ActionDef,
    /// Where it is granted; the first entry is the one on (or inside) the resource, or `*`.
    pub targets: Vec<GrantTarget>,
}

impl ActionPermission {
    /// Whether the action can be scoped to the resource (as opposed to `*`).
    pub fn resource_level(&self) -> bool {
        self.targets
            .first()
            .is_some_and(|t| t.scope != GrantScope::AllResources)
    }

    /// The primary ARN the action would be granted on.
    pub fn resource(&self) -> &str {
        self.targets.first().map_or("*", |t| t.arn.as_str())
    }
}

/// Every action that applies to one resource.
#[derive(Debug, Clone)]
pub struct ResourcePermissions {
    pub arn: Arn,
    pub service: catalog::Service,
    /// The resource type(s) the ARN was recognized as (several when templates tie).
    pub resource_types: Vec<ResourceType>,
    pub actions: Vec<ActionPermission>,
}

impl ResourcePermissions {
    /// The primary resource type name (`bucket`, `db`, `function`).
    pub fn resource_type(&self) -> &'static str {
        self.resource_types.first().map_or("", |t| t.name())
    }

    /// The entry for `service:Name`, compared case-insensitively.
    pub fn find(&self, service: &str, name: &str) -> Option<&ActionPermission> {
        self.actions.iter().find(|a| {
            a.action.service().prefix().eq_ignore_ascii_case(service)
                && a.action.name().eq_ignore_ascii_case(name)
        })
    }

    /// The actions at one access level.
    pub fn at_level(&self, level: AccessLevel) -> impl Iterator<Item = &ActionPermission> {
        self.actions
            .iter()
            .filter(move |a| a.action.access_level() == level)
    }
}

/// A resource type whose template is the resource's template plus a separator and one
/// variable: a child (`/`) or a qualifier (`:`).
fn child_separator(parent: ResourceType, candidate: ResourceType) -> Option<char> {
    let parent_t = parent.arn_template();
    let rest = candidate.arn_template().strip_prefix(parent_t)?;
    let sep = rest.chars().next().filter(|c| *c == '/' || *c == ':')?;
    let tail = catalog::ArnTemplate::parse(candidate.arn_template());
    let last_is_single_var = matches!(tail.parts().last(), Some(TemplatePart::Variable(_)))
        && rest.matches("${").count() == 1
        && rest
            .get(1..)
            .is_some_and(|r| r.starts_with("${") && r.ends_with('}'));
    last_is_single_var.then_some(sep)
}

fn normalized(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a List/Read action without resource-level support is one a person needs to find
/// or use a resource of this type: `DescribeInstances` for an instance, `ListAllMyBuckets`
/// for a bucket, `ListFunctions` for a function.
fn is_discovery_action_for(action: ActionDef, resource_type: ResourceType) -> bool {
    if !matches!(action.access_level(), AccessLevel::List | AccessLevel::Read)
        || action.has_resource_types()
    {
        return false;
    }
    let name = normalized(action.name());
    let Some(rest) = ["describe", "list", "get"]
        .iter()
        .find_map(|verb| name.strip_prefix(verb))
    else {
        return false;
    };
    let t = normalized(resource_type.name());
    [
        t.clone(),
        format!("{t}s"),
        format!("allmy{t}s"),
        format!("{t}status"),
    ]
    .iter()
    .any(|candidate| rest == candidate)
}

/// Every action that applies to the resource `arn`, with the ARNs each would be granted on.
pub fn permissions_for(arn: &Arn) -> Result<ResourcePermissions, PermissionsError> {
    let recognized = catalog::recognize(arn);
    let Some(first) = recognized.first() else {
        return Err(if catalog::service(arn.service()).is_none() {
            PermissionsError::UnknownService {
                service: arn.service().to_owned(),
                arn: arn.to_string(),
            }
        } else {
            PermissionsError::UnknownResourceType {
                service: arn.service().to_owned(),
                arn: arn.to_string(),
            }
        });
    };
    let service = catalog::service(first.resource_type.service()).ok_or_else(|| {
        PermissionsError::UnknownService {
            service: arn.service().to_owned(),
            arn: arn.to_string(),
        }
    })?;
    let own_types: Vec<ResourceType> = recognized.iter().map(|r| r.resource_type).collect();

    let mut qualifier_types = Vec::new();
    let mut child_types = Vec::new();
    for candidate in service.resource_types() {
        for own in &own_types {
            match child_separator(*own, candidate) {
                Some(':') => qualifier_types.push(candidate),
                Some(_) => child_types.push(candidate),
                None => {}
            }
        }
    }

    let mut actions = Vec::new();
    for action in service.actions() {
        let types: Vec<(ResourceType, bool)> = action.resource_types().collect();
        let on_resource = types.iter().any(|(t, _)| own_types.contains(t));
        let on_child = types
            .iter()
            .find(|(t, _)| child_types.contains(t))
            .map(|(t, _)| *t);
        let on_qualified = types
            .iter()
            .find(|(t, _)| qualifier_types.contains(t))
            .map(|(t, _)| *t);
        let mut targets = Vec::new();
        let mut covered: BTreeSet<&'static str> = BTreeSet::new();
        if on_resource {
            targets.push(GrantTarget {
                arn: arn.to_string(),
                scope: GrantScope::Resource,
                resource_type: own_types.first().copied(),
            });
            covered.extend(own_types.iter().map(|t| t.name()));
            if let Some(q) = qualifier_types.first() {
                targets.push(GrantTarget {
                    arn: arn.with_resource_suffix(":*").to_string(),
                    scope: GrantScope::Qualifiers,
                    resource_type: Some(*q),
                });
                covered.extend(qualifier_types.iter().map(|t| t.name()));
            }
        } else if let Some(child) = on_child {
            let sep = own_types
                .iter()
                .find_map(|own| child_separator(*own, child))
                .unwrap_or('/');
            targets.push(GrantTarget {
                arn: arn.with_resource_suffix(&format!("{sep}*")).to_string(),
                scope: GrantScope::Children,
                resource_type: Some(child),
            });
            covered.insert(child.name());
        } else if let Some(qualified) = on_qualified {
            // Only a qualified ARN names what the action works on (a function's version or
            // alias): granted on the qualified forms, not on the resource itself.
            targets.push(GrantTarget {
                arn: arn.with_resource_suffix(":*").to_string(),
                scope: GrantScope::Qualifiers,
                resource_type: Some(qualified),
            });
            covered.extend(qualifier_types.iter().map(|t| t.name()));
        } else if own_types
            .iter()
            .any(|t| is_discovery_action_for(action, *t))
        {
            targets.push(GrantTarget {
                arn: "*".to_owned(),
                scope: GrantScope::AllResources,
                resource_type: None,
            });
        } else {
            continue;
        }
        if targets
            .first()
            .is_some_and(|t| t.scope != GrantScope::AllResources)
        {
            // AWS authorizes every resource a request touches: add each other required type.
            for (t, required) in &types {
                if *required && !covered.contains(t.name()) {
                    targets.push(GrantTarget {
                        arn: t.template().fill_like(arn),
                        scope: GrantScope::Required,
                        resource_type: Some(*t),
                    });
                    covered.insert(t.name());
                }
            }
        }
        actions.push(ActionPermission { action, targets });
    }
    Ok(ResourcePermissions {
        arn: arn.clone(),
        service,
        resource_types: own_types,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(arn: &str) -> ResourcePermissions {
        permissions_for(&arn.parse().unwrap()).unwrap()
    }

    #[test]
    fn bucket_object_actions_go_on_bucket_star() {
        let p = perms("arn:aws:s3:::reports");
        assert_eq!(p.resource_type(), "bucket");
        let get = p.find("s3", "GetObject").unwrap();
        assert_eq!(get.resource(), "arn:aws:s3:::reports/*");
        assert!(get.resource_level());
        assert_eq!(
            p.find("s3", "ListBucket").unwrap().resource(),
            "arn:aws:s3:::reports"
        );
        let all = p.find("s3", "ListAllMyBuckets").unwrap();
        assert_eq!(all.resource(), "*");
        assert!(!all.resource_level());
        assert!(p.find("ec2", "DescribeInstances").is_none());
    }

    #[test]
    fn describe_instances_goes_on_star() {
        let p = perms("arn:aws:ec2:us-east-1:111111111111:instance/i-0abc");
        let d = p.find("ec2", "DescribeInstances").unwrap();
        assert_eq!(d.resource(), "*");
        assert!(!d.resource_level());
        assert_eq!(
            p.find("ec2", "StopInstances").unwrap().resource(),
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"
        );
        assert!(p.find("ec2", "DescribeReservedInstances").is_none());
    }

    #[test]
    fn lambda_function_includes_versions_and_aliases() {
        let p = perms("arn:aws:lambda:us-east-1:111111111111:function:resize");
        let invoke = p.find("lambda", "InvokeFunction").unwrap();
        let arns: Vec<_> = invoke.targets.iter().map(|t| t.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:lambda:us-east-1:111111111111:function:resize",
                "arn:aws:lambda:us-east-1:111111111111:function:resize:*"
            ]
        );
        assert_eq!(p.find("lambda", "ListFunctions").unwrap().resource(), "*");
    }

    #[test]
    fn qualified_only_actions_go_on_the_functions_versions_and_aliases() {
        let p = perms("arn:aws:lambda:us-east-1:111111111111:function:resize");
        for name in [
            "GetProvisionedConcurrencyConfig",
            "PutProvisionedConcurrencyConfig",
            "DeleteProvisionedConcurrencyConfig",
        ] {
            let a = p.find("lambda", name).unwrap();
            let targets: Vec<_> = a
                .targets
                .iter()
                .map(|t| (t.arn.as_str(), t.scope, t.resource_type.map(|t| t.name())))
                .collect();
            assert_eq!(
                targets,
                [(
                    "arn:aws:lambda:us-east-1:111111111111:function:resize:*",
                    GrantScope::Qualifiers,
                    Some("function alias")
                )],
                "{name}"
            );
            assert!(a.resource_level(), "{name}");
        }
    }

    #[test]
    fn create_db_snapshot_covers_the_snapshot_too() {
        let p = perms("arn:aws:rds:us-east-1:111111111111:db:orders");
        let c = p.find("rds", "CreateDBSnapshot").unwrap();
        let arns: Vec<_> = c
            .targets
            .iter()
            .map(|t| (t.arn.as_str(), t.scope))
            .collect();
        assert_eq!(
            arns,
            [
                (
                    "arn:aws:rds:us-east-1:111111111111:db:orders",
                    GrantScope::Resource
                ),
                (
                    "arn:aws:rds:us-east-1:111111111111:snapshot:*",
                    GrantScope::Required
                ),
            ]
        );
    }

    #[test]
    fn aurora_cluster_actions() {
        let p = perms("arn:aws:rds:us-east-1:111111111111:cluster:orders-aurora");
        assert_eq!(p.resource_type(), "cluster");
        assert!(p.find("rds", "DescribeDBClusters").is_some());
        assert!(
            p.find("rds", "CreateDBClusterSnapshot")
                .unwrap()
                .targets
                .iter()
                .any(|t| t.arn.ends_with(":cluster-snapshot:*"))
        );
    }

    #[test]
    fn any_service_arn_gets_its_actions() {
        let p = perms("arn:aws:dynamodb:us-east-1:111111111111:table/orders");
        assert!(p.find("dynamodb", "GetItem").is_some());
        assert!(p.actions.len() > 10);
    }

    #[test]
    fn unknown_service_and_type_are_errors() {
        let e = permissions_for(
            &"arn:aws:nosuchservice:us-east-1:111111111111:thing/x"
                .parse()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the action catalog has no service `nosuchservice` (from `arn:aws:nosuchservice:us-east-1:111111111111:thing/x`)"
        );
        let e = permissions_for(
            &"arn:aws:ec2:us-east-1:111111111111:nothing/x"
                .parse()
                .unwrap(),
        )
        .unwrap_err();
        assert!(
            matches!(e, PermissionsError::UnknownResourceType { .. }),
            "{e}"
        );
    }
}
