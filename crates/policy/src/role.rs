//! A role as xacct defines it: name, path, trust, one inline policy, boundary and tags. The
//! role writer makes IAM match it and the hand-off writes it as CloudFormation and
//! Terraform, so both read the same typed value.

use std::collections::BTreeMap;

use crate::arn::{Arn, ArnError};
use crate::document::PolicyDocument;
use crate::ids::{AccountId, Partition, RoleName};

/// What a role should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: RoleName,
    /// The IAM path, `/` or `/segment/.../`.
    pub path: String,
    pub description: String,
    pub trust_policy: PolicyDocument,
    pub policy_name: String,
    pub policy: PolicyDocument,
    pub max_session_duration: i32,
    /// Tags to set; xacct's managed tag is always among them.
    pub tags: BTreeMap<String, String>,
    /// Tags that identify the grant: an existing role with other values belongs to another
    /// grant and is not taken over.
    pub identity_tags: Vec<String>,
    pub permissions_boundary: Option<Arn>,
    /// Also keep an instance profile of the same name holding the role (EC2).
    pub instance_profile: bool,
}

impl RoleSpec {
    /// The role's ARN in `account`.
    pub fn arn(&self, partition: Partition, account: &AccountId) -> Result<Arn, ArnError> {
        Arn::iam(partition, account, "role", &self.path, self.name.as_str())
    }

    /// The ARN of the instance profile of the same name in `account`.
    pub fn instance_profile_arn(
        &self,
        partition: Partition,
        account: &AccountId,
    ) -> Result<Arn, ArnError> {
        Arn::iam(
            partition,
            account,
            "instance-profile",
            &self.path,
            self.name.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RoleSpec {
        RoleSpec {
            name: "grant".parse().unwrap(),
            path: "/xacct/".to_owned(),
            description: String::new(),
            trust_policy: PolicyDocument::new(Vec::new()),
            policy_name: "p".to_owned(),
            policy: PolicyDocument::new(Vec::new()),
            max_session_duration: 3600,
            tags: BTreeMap::new(),
            identity_tags: Vec::new(),
            permissions_boundary: None,
            instance_profile: true,
        }
    }

    #[test]
    fn a_roles_arns_are_built_from_its_parts() {
        let account: AccountId = "111111111111".parse().unwrap();
        let s = spec();
        assert_eq!(
            s.arn(Partition::Aws, &account).unwrap().to_string(),
            "arn:aws:iam::111111111111:role/xacct/grant"
        );
        assert_eq!(
            s.instance_profile_arn(Partition::AwsCn, &account)
                .unwrap()
                .to_string(),
            "arn:aws-cn:iam::111111111111:instance-profile/xacct/grant"
        );
        assert_eq!(
            Arn::iam(Partition::Aws, &account, "mfa", "/", "alice")
                .unwrap()
                .to_string(),
            "arn:aws:iam::111111111111:mfa/alice"
        );
    }
}
