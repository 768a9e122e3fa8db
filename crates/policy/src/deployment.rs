//! xacct's own deployment as a grant target: its functions, execution roles, boundary
//! policy, log groups, CloudFormation stack and SAM's artifact bucket are never granted.
//! A requestor who could invoke a create function directly would bypass its Function URL's
//! authentication and forge the logged caller. `template.yaml`'s permissions boundary
//! denies the same resources, so a bug here still cannot grant them.

use crate::arn::Arn;

/// The bucket prefix of SAM's managed artifact buckets (`sam deploy --resolve-s3`), which
/// hold every deployed function's code.
pub const SAM_ARTIFACT_BUCKET_PREFIX: &str = "aws-sam-cli-managed-";

/// Which deployment this is: the CloudFormation stack name every resource of the stack is
/// named after (`XACCT_STACK_NAME`, set by `template.yaml`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deployment {
    stack_name: Option<String>,
}

impl Deployment {
    /// A deployment whose resources are named after `stack_name`; `None` when unknown, in
    /// which case only the resources every deployment shares (SAM's bucket, xacct's roles
    /// and boundary) are recognized.
    pub fn new(stack_name: Option<String>) -> Self {
        Self {
            stack_name: stack_name.filter(|s| !s.is_empty()),
        }
    }

    /// What part of the deployment `arn` is, or `None` for a resource that is not xacct's.
    pub fn owns(&self, arn: &Arn) -> Option<&'static str> {
        let resource = arn.resource();
        match arn.service() {
            "s3" if resource.starts_with(SAM_ARTIFACT_BUCKET_PREFIX) => {
                Some("SAM's artifact bucket, which holds xacct's code")
            }
            "iam" if resource.starts_with("policy/xacct/") => Some("xacct's permissions boundary"),
            "iam" if resource.starts_with("role/xacct/") => Some("a role xacct manages"),
            "iam" if resource.starts_with("role/xacct-spoke/") => {
                Some("xacct's spoke role, through which the hub works in this account")
            }
            "iam" if resource.starts_with("policy/xacct-spoke/") => {
                Some("the spoke's permissions boundary")
            }
            "iam" if resource.starts_with("role/xacct-hub/") => {
                Some("one of the hub's execution roles")
            }
            _ => self.stack_name.as_deref().and_then(|stack| {
                let named = |prefix: &str, sep: &str| {
                    resource
                        .strip_prefix(prefix)
                        .and_then(|rest| rest.strip_prefix(stack))
                        .is_some_and(|rest| rest.starts_with(sep))
                };
                match arn.service() {
                    "lambda" if named("function:", "-") => Some("one of xacct's functions"),
                    "logs" if named("log-group:/aws/lambda/", "/") => {
                        Some("one of xacct's log groups")
                    }
                    "iam" if named("role/", "-") => Some("one of xacct's execution roles"),
                    "cloudformation" if named("stack/", "/") => Some("xacct's stack"),
                    _ => None,
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owns(stack: Option<&str>, arn: &str) -> Option<&'static str> {
        Deployment::new(stack.map(str::to_owned)).owns(&arn.parse().unwrap())
    }

    #[test]
    fn the_deployments_own_resources_are_recognized() {
        for arn in [
            "arn:aws:lambda:us-east-1:111111111111:function:xacct-create-owner-role",
            "arn:aws:lambda:eu-west-1:111111111111:function:xacct-list-resources:1",
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/xacct/create-owner-role",
            "arn:aws:iam::111111111111:role/xacct-CreateOwnerRoleRole-ABC",
            "arn:aws:iam::111111111111:policy/xacct/xacct-PermissionsBoundaryPolicy-X",
            "arn:aws:iam::111111111111:role/xacct/grant",
            "arn:aws:cloudformation:us-east-1:111111111111:stack/xacct/0a1b",
            "arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-abc",
            "arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-abc/xacct/code.zip",
        ] {
            assert!(owns(Some("xacct"), arn).is_some(), "{arn}");
        }
    }

    #[test]
    fn the_spoke_role_its_boundary_and_the_hubs_roles_are_never_granted() {
        for arn in [
            "arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke",
            "arn:aws:iam::333333333333:policy/xacct-spoke/xacct-boundary",
            "arn:aws:iam::111111111111:role/xacct-hub/xacct-CreateOwnerRoleRole-ABC",
        ] {
            assert!(owns(None, arn).is_some(), "{arn}");
        }
    }

    #[test]
    fn other_resources_and_lookalike_names_are_not_the_deployments() {
        for arn in [
            "arn:aws:lambda:us-east-1:111111111111:function:reports",
            "arn:aws:lambda:us-east-1:111111111111:function:xacctish-create",
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/xacct-other",
            "arn:aws:s3:::xacct-demo-reports",
            "arn:aws:cloudformation:us-east-1:111111111111:stack/xacct-other/0a1b",
        ] {
            assert_eq!(owns(Some("xacct"), arn), None, "{arn}");
        }
    }

    #[test]
    fn without_a_stack_name_the_shared_resources_are_still_recognized() {
        assert!(owns(None, "arn:aws:s3:::aws-sam-cli-managed-default-x").is_some());
        assert!(owns(None, "arn:aws:iam::111111111111:role/xacct/grant").is_some());
        assert_eq!(
            owns(
                None,
                "arn:aws:lambda:us-east-1:111111111111:function:xacct-x"
            ),
            None
        );
    }
}
