//! [`RoleStore`] over the AWS SDK's IAM client. IAM returns policy documents URL-encoded;
//! they are decoded and parsed here so the rest of xacct only sees typed documents.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use xacct_policy::PolicyDocument;

use crate::error::{AwsError, AwsErrorKind};
use crate::humans::{Human, HumanStore};
use crate::roles::{
    AuthorizationDetails, InstanceProfileState, ListedHuman, ListedRole, RoleListing, RoleSpec,
    RoleState, RoleStore,
};

/// IAM through the SDK.
#[derive(Debug, Clone)]
pub struct IamRoleStore {
    client: Client,
}

impl IamRoleStore {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// With an IAM client of the one SDK configuration ([`crate::config::load`]).
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(config))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Decodes a policy document as IAM returns it (URL-encoded JSON).
pub fn decode_policy(text: &str) -> Option<PolicyDocument> {
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    PolicyDocument::from_json(&decoded).ok()
}

fn tags(map: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    map.iter()
        .map(|(k, v)| {
            Tag::builder().key(k).value(v).build().map_err(|_| {
                AwsError::new(
                    "TagRole",
                    "InvalidInput",
                    "a tag needs a key and a value",
                    AwsErrorKind::Refused,
                )
            })
        })
        .collect()
}

fn ok_or_none<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn fmt_time(t: &aws_smithy_types::DateTime) -> Option<String> {
    t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn boundary_arn(b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>) -> Option<String> {
    b.and_then(|b| b.permissions_boundary_arn())
        .map(str::to_owned)
}

fn last_used(u: Option<&aws_sdk_iam::types::RoleLastUsed>) -> Option<String> {
    u.and_then(|u| u.last_used_date()).and_then(fmt_time)
}

/// Converts the SDK's role into xacct's view of it.
pub fn role_state(role: &aws_sdk_iam::types::Role) -> RoleState {
    RoleState {
        name: role.role_name().to_owned(),
        arn: role.arn().to_owned(),
        role_id: role.role_id().to_owned(),
        path: role.path().to_owned(),
        description: role.description().map(str::to_owned),
        max_session_duration: role.max_session_duration().unwrap_or(3600),
        trust_policy: role.assume_role_policy_document().and_then(decode_policy),
        tags: tag_map(role.tags()),
        permissions_boundary: boundary_arn(role.permissions_boundary()),
        created: fmt_time(role.create_date()),
        last_used: last_used(role.role_last_used()),
    }
}

/// Roles per `GetAccountAuthorizationDetails` page: IAM's maximum, so an account of 1,000
/// roles is one call.
const DETAILS_PAGE: i32 = 1000;

fn inline_policies(list: &[aws_sdk_iam::types::PolicyDetail]) -> BTreeMap<String, PolicyDocument> {
    list.iter()
        .filter_map(|p| {
            Some((
                p.policy_name()?.to_owned(),
                decode_policy(p.policy_document()?)?,
            ))
        })
        .collect()
}

fn listed_role(role: &aws_sdk_iam::types::RoleDetail) -> Option<ListedRole> {
    Some(ListedRole {
        name: role.role_name()?.to_owned(),
        arn: role.arn()?.to_owned(),
        path: role.path()?.to_owned(),
        trust_policy: role.assume_role_policy_document().and_then(decode_policy),
        tags: tag_map(role.tags()),
        permissions_boundary: boundary_arn(role.permissions_boundary()),
        created: role.create_date().and_then(fmt_time),
        last_used: last_used(role.role_last_used()),
        inline: inline_policies(role.role_policy_list()),
    })
}

fn listed_user(user: &aws_sdk_iam::types::UserDetail) -> Option<ListedHuman> {
    Some(ListedHuman {
        who: Human::User(user.user_name()?.to_owned()),
        arn: user.arn()?.to_owned(),
        path: user.path()?.to_owned(),
        inline: inline_policies(user.user_policy_list()),
    })
}

fn listed_group(group: &aws_sdk_iam::types::GroupDetail) -> Option<ListedHuman> {
    Some(ListedHuman {
        who: Human::Group(group.group_name()?.to_owned()),
        arn: group.arn()?.to_owned(),
        path: group.path()?.to_owned(),
        inline: inline_policies(group.group_policy_list()),
    })
}

impl RoleListing for IamRoleStore {
    async fn list_details(
        &self,
        marker: Option<&str>,
        people: bool,
    ) -> Result<(AuthorizationDetails, Option<String>), AwsError> {
        use aws_sdk_iam::types::EntityType;
        let filters = if people {
            vec![EntityType::Role, EntityType::User, EntityType::Group]
        } else {
            vec![EntityType::Role]
        };
        let out = self
            .client
            .get_account_authorization_details()
            .set_filter(Some(filters))
            .max_items(DETAILS_PAGE)
            .set_marker(marker.map(str::to_owned))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetAccountAuthorizationDetails", e))?;
        let details = AuthorizationDetails {
            roles: out
                .role_detail_list()
                .iter()
                .filter_map(listed_role)
                .collect(),
            people: out
                .user_detail_list()
                .iter()
                .filter_map(listed_user)
                .chain(out.group_detail_list().iter().filter_map(listed_group))
                .collect(),
        };
        let next = out
            .is_truncated()
            .then(|| out.marker().map(str::to_owned))
            .flatten();
        Ok((details, next))
    }
}

impl RoleStore for IamRoleStore {
    async fn get_role(&self, name: &str) -> Result<Option<RoleState>, AwsError> {
        let out = ok_or_none(
            self.client
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetRole", e)),
        )?;
        Ok(out.and_then(|o| o.role().map(role_state)))
    }

    async fn get_role_policy(
        &self,
        role: &str,
        policy: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        let out = ok_or_none(
            self.client
                .get_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetRolePolicy", e)),
        )?;
        Ok(out.and_then(|o| decode_policy(o.policy_document())))
    }

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_role_policies()
            .role_name(role)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListRolePolicies", e))?;
            names.extend(page.policy_names().iter().cloned());
        }
        Ok(names)
    }

    async fn create_role(&self, spec: &RoleSpec) -> Result<RoleState, AwsError> {
        let out = self
            .client
            .create_role()
            .role_name(spec.name.as_str())
            .path(&spec.path)
            .description(&spec.description)
            .assume_role_policy_document(spec.trust_policy.to_json())
            .max_session_duration(spec.max_session_duration)
            .set_permissions_boundary(spec.permissions_boundary.as_ref().map(ToString::to_string))
            .set_tags(Some(tags(&spec.tags)?))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateRole", e))?;
        out.role().map(role_state).ok_or_else(|| {
            AwsError::new(
                "CreateRole",
                "InvalidResponse",
                "CreateRole returned no role",
                AwsErrorKind::Unavailable,
            )
        })
    }

    async fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        policy: &PolicyDocument,
    ) -> Result<(), AwsError> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(policy.to_json())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("PutRolePolicy", e))
    }

    async fn update_assume_role_policy(
        &self,
        role: &str,
        policy: &PolicyDocument,
    ) -> Result<(), AwsError> {
        self.client
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(policy.to_json())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("UpdateAssumeRolePolicy", e))
    }

    async fn update_role(
        &self,
        role: &str,
        description: &str,
        max_session_duration: i32,
    ) -> Result<(), AwsError> {
        self.client
            .update_role()
            .role_name(role)
            .description(description)
            .max_session_duration(max_session_duration)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("UpdateRole", e))
    }

    async fn tag_role(&self, role: &str, map: &BTreeMap<String, String>) -> Result<(), AwsError> {
        self.client
            .tag_role()
            .role_name(role)
            .set_tags(Some(tags(map)?))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("TagRole", e))
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("UntagRole", e))
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteRolePolicy", e))
    }

    async fn delete_role(&self, role: &str) -> Result<(), AwsError> {
        self.client
            .delete_role()
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteRole", e))
    }

    async fn get_instance_profile(
        &self,
        name: &str,
    ) -> Result<Option<InstanceProfileState>, AwsError> {
        let out = ok_or_none(
            self.client
                .get_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetInstanceProfile", e)),
        )?;
        Ok(out.and_then(|o| {
            o.instance_profile().map(|p| InstanceProfileState {
                name: p.instance_profile_name().to_owned(),
                arn: p.arn().to_owned(),
                roles: p.roles().iter().map(|r| r.role_name().to_owned()).collect(),
                tags: tag_map(p.tags()),
            })
        }))
    }

    async fn create_instance_profile(
        &self,
        name: &str,
        path: &str,
        map: &BTreeMap<String, String>,
    ) -> Result<InstanceProfileState, AwsError> {
        let out = self
            .client
            .create_instance_profile()
            .instance_profile_name(name)
            .path(path)
            .set_tags(Some(tags(map)?))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateInstanceProfile", e))?;
        out.instance_profile()
            .map(|p| InstanceProfileState {
                name: p.instance_profile_name().to_owned(),
                arn: p.arn().to_owned(),
                roles: Vec::new(),
                tags: map.clone(),
            })
            .ok_or_else(|| {
                AwsError::new(
                    "CreateInstanceProfile",
                    "InvalidResponse",
                    "no instance profile returned",
                    AwsErrorKind::Unavailable,
                )
            })
    }

    async fn add_role_to_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> Result<(), AwsError> {
        self.client
            .add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("AddRoleToInstanceProfile", e))
    }

    async fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> Result<(), AwsError> {
        self.client
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("RemoveRoleFromInstanceProfile", e))
    }

    async fn delete_instance_profile(&self, profile: &str) -> Result<(), AwsError> {
        self.client
            .delete_instance_profile()
            .instance_profile_name(profile)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteInstanceProfile", e))
    }

    async fn list_instance_profiles_for_role(
        &self,
        role: &str,
    ) -> Result<Vec<InstanceProfileState>, AwsError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_instance_profiles_for_role()
            .role_name(role)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListInstanceProfilesForRole", e))?;
            out.extend(
                page.instance_profiles()
                    .iter()
                    .map(|p| InstanceProfileState {
                        name: p.instance_profile_name().to_owned(),
                        arn: p.arn().to_owned(),
                        roles: p.roles().iter().map(|r| r.role_name().to_owned()).collect(),
                        tags: BTreeMap::new(),
                    }),
            );
        }
        Ok(out)
    }

    async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListAttachedRolePolicies", e))?;
            arns.extend(
                page.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned)),
            );
        }
        Ok(arns)
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.client
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DetachRolePolicy", e))
    }

    async fn get_managed_policy(
        &self,
        policy_arn: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        let Some(policy) = ok_or_none(
            self.client
                .get_policy()
                .policy_arn(policy_arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetPolicy", e)),
        )?
        .and_then(|o| o.policy) else {
            return Ok(None);
        };
        let Some(version) = policy.default_version_id() else {
            return Ok(None);
        };
        let out = ok_or_none(
            self.client
                .get_policy_version()
                .policy_arn(policy_arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetPolicyVersion", e)),
        )?;
        Ok(out
            .and_then(|o| o.policy_version)
            .and_then(|v| v.document().and_then(decode_policy)))
    }
}

impl HumanStore for IamRoleStore {
    async fn human_arn(&self, who: &Human) -> Result<Option<String>, AwsError> {
        match who {
            Human::User(name) => Ok(ok_or_none(
                self.client
                    .get_user()
                    .user_name(name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetUser", e)),
            )?
            .and_then(|o| o.user.map(|u| u.arn))),
            Human::Group(name) => Ok(ok_or_none(
                self.client
                    .get_group()
                    .group_name(name)
                    .max_items(1)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetGroup", e)),
            )?
            .and_then(|o| o.group.map(|g| g.arn))),
        }
    }

    async fn get_human_policy(
        &self,
        who: &Human,
        policy: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        let text = match who {
            Human::User(name) => ok_or_none(
                self.client
                    .get_user_policy()
                    .user_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetUserPolicy", e)),
            )?
            .map(|o| o.policy_document),
            Human::Group(name) => ok_or_none(
                self.client
                    .get_group_policy()
                    .group_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetGroupPolicy", e)),
            )?
            .map(|o| o.policy_document),
        };
        Ok(text.as_deref().and_then(decode_policy))
    }

    async fn put_human_policy(
        &self,
        who: &Human,
        policy: &str,
        document: &PolicyDocument,
    ) -> Result<(), AwsError> {
        match who {
            Human::User(name) => self
                .client
                .put_user_policy()
                .user_name(name)
                .policy_name(policy)
                .policy_document(document.to_json())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("PutUserPolicy", e)),
            Human::Group(name) => self
                .client
                .put_group_policy()
                .group_name(name)
                .policy_name(policy)
                .policy_document(document.to_json())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("PutGroupPolicy", e)),
        }
    }

    async fn delete_human_policy(&self, who: &Human, policy: &str) -> Result<(), AwsError> {
        match who {
            Human::User(name) => self
                .client
                .delete_user_policy()
                .user_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("DeleteUserPolicy", e)),
            Human::Group(name) => self
                .client
                .delete_group_policy()
                .group_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("DeleteGroupPolicy", e)),
        }
    }
}
