//! An in-memory IAM for tests: behaves like IAM for the calls the role writer makes, counts
//! write calls, and can be told to fail one operation.

use std::collections::BTreeMap;
use std::sync::Mutex;

use xacct_policy::PolicyDocument;

use crate::error::{AwsError, AwsErrorKind};
use crate::humans::{Human, HumanStore};
use crate::roles::{
    AuthorizationDetails, InstanceProfileState, ListedHuman, ListedRole, RoleListing, RoleSpec,
    RoleState, RoleStore,
};

#[derive(Debug, Default)]
struct State {
    roles: BTreeMap<String, (RoleState, BTreeMap<String, PolicyDocument>)>,
    profiles: BTreeMap<String, InstanceProfileState>,
    attached: BTreeMap<String, Vec<String>>,
    managed: BTreeMap<String, PolicyDocument>,
    humans: BTreeMap<(String, String), BTreeMap<String, PolicyDocument>>,
    writes: Vec<&'static str>,
    /// Every call, reads included.
    calls: Vec<&'static str>,
    fail: Vec<(&'static str, String)>,
    next_id: u64,
}

/// An in-memory [`RoleStore`].
#[derive(Debug)]
pub struct FakeIam {
    account: String,
    state: Mutex<State>,
}

impl FakeIam {
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_owned(),
            state: Mutex::new(State::default()),
        }
    }

    /// Makes the next call of `operation` fail with `code` (several may be queued).
    pub fn fail_next(&self, operation: &'static str, code: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.fail.push((operation, code.to_owned()));
        }
    }

    /// The write calls made so far.
    pub fn writes(&self) -> Vec<&'static str> {
        self.state
            .lock()
            .map(|s| s.writes.clone())
            .unwrap_or_default()
    }

    /// Every call made so far, reads included (failed ones too).
    pub fn calls(&self) -> Vec<&'static str> {
        self.state
            .lock()
            .map(|s| s.calls.clone())
            .unwrap_or_default()
    }

    pub fn clear_writes(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.writes.clear();
        }
    }

    pub fn role_names(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.roles.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn profile_names(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.profiles.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Puts a role there as if someone created it by hand.
    pub fn insert_role(&self, state: RoleState, policies: BTreeMap<String, PolicyDocument>) {
        if let Ok(mut s) = self.state.lock() {
            s.roles.insert(state.name.clone(), (state, policies));
        }
    }

    /// Attaches a managed policy to a role as if by hand.
    pub fn attach(&self, role: &str, arn: &str, document: PolicyDocument) {
        if let Ok(mut s) = self.state.lock() {
            s.attached
                .entry(role.to_owned())
                .or_default()
                .push(arn.to_owned());
            s.managed.insert(arn.to_owned(), document);
        }
    }

    /// Adds an IAM group (`group`) or user (`user`) with no policies.
    pub fn insert_human(&self, who: &Human) {
        if let Ok(mut s) = self.state.lock() {
            s.humans.insert(
                (who.kind().to_owned(), who.name().to_owned()),
                BTreeMap::new(),
            );
        }
    }

    /// A group's or user's inline policies.
    pub fn human_policies(&self, who: &Human) -> BTreeMap<String, PolicyDocument> {
        self.state
            .lock()
            .ok()
            .and_then(|s| {
                s.humans
                    .get(&(who.kind().to_owned(), who.name().to_owned()))
                    .cloned()
            })
            .unwrap_or_default()
    }

    fn call<T>(
        &self,
        operation: &'static str,
        write: bool,
        f: impl FnOnce(&mut State) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let mut s = self.state.lock().map_err(|_| {
            AwsError::new(
                operation,
                "InternalFailure",
                "poisoned",
                AwsErrorKind::Unavailable,
            )
        })?;
        if let Some(at) = s.fail.iter().position(|(op, _)| *op == operation) {
            let (_, code) = s.fail.remove(at);
            let kind = if code == "Throttling" {
                AwsErrorKind::Unavailable
            } else {
                AwsErrorKind::Refused
            };
            return Err(AwsError::new(operation, &code, "injected failure", kind));
        }
        s.calls.push(operation);
        let out = f(&mut s)?;
        if write {
            s.writes.push(operation);
        }
        Ok(out)
    }
}

fn no_such(operation: &'static str, what: &str) -> AwsError {
    AwsError::new(
        operation,
        "NoSuchEntity",
        &format!("{what} not found"),
        AwsErrorKind::NotFound,
    )
}

/// A user's or group's ARN in the fake's account (people have no path here).
fn person_arn(account: &str, kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}/{name}")
}

/// Roles per page of the fake's `GetAccountAuthorizationDetails` (and `ListRoles`): small, so
/// tests page.
pub const FAKE_DETAILS_PAGE: usize = 2;

impl RoleListing for FakeIam {
    async fn list_details(
        &self,
        marker: Option<&str>,
        people: bool,
    ) -> Result<(AuthorizationDetails, Option<String>), AwsError> {
        let account = self.account.clone();
        self.call("GetAccountAuthorizationDetails", false, |s| {
            // Roles first, then users and groups, paged as one list as IAM pages them.
            let start: usize = marker.and_then(|m| m.parse().ok()).unwrap_or(0);
            let humans = if people { s.humans.len() } else { 0 };
            let total = s.roles.len() + humans;
            let end = (start + FAKE_DETAILS_PAGE).min(total);
            let roles = s
                .roles
                .values()
                .skip(start)
                .take(end.saturating_sub(start))
                .map(|(r, inline)| ListedRole {
                    name: r.name.clone(),
                    arn: r.arn.clone(),
                    path: r.path.clone(),
                    trust_policy: r.trust_policy.clone(),
                    tags: r.tags.clone(),
                    permissions_boundary: r.permissions_boundary.clone(),
                    created: r.created.clone(),
                    last_used: r.last_used.clone(),
                    inline: inline.clone(),
                })
                .collect();
            let skip_people = start.saturating_sub(s.roles.len());
            let people = s
                .humans
                .iter()
                .take(humans)
                .skip(skip_people)
                .take(end.saturating_sub(start.max(s.roles.len())))
                .map(|((kind, name), inline)| ListedHuman {
                    who: if kind == "user" {
                        Human::User(name.clone())
                    } else {
                        Human::Group(name.clone())
                    },
                    arn: person_arn(&account, kind, name),
                    path: "/".to_owned(),
                    inline: inline.clone(),
                })
                .collect();
            let next = (end < total).then(|| end.to_string());
            Ok((AuthorizationDetails { roles, people }, next))
        })
    }
}

impl RoleStore for FakeIam {
    async fn get_role(&self, name: &str) -> Result<Option<RoleState>, AwsError> {
        self.call("GetRole", false, |s| {
            Ok(s.roles.get(name).map(|(r, _)| r.clone()))
        })
    }

    async fn get_role_policy(
        &self,
        role: &str,
        policy: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        self.call("GetRolePolicy", false, |s| {
            Ok(s.roles.get(role).and_then(|(_, p)| p.get(policy).cloned()))
        })
    }

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        self.call("ListRolePolicies", false, |s| {
            s.roles
                .get(role)
                .map(|(_, p)| p.keys().cloned().collect())
                .ok_or_else(|| no_such("ListRolePolicies", role))
        })
    }

    async fn create_role(&self, spec: &RoleSpec) -> Result<RoleState, AwsError> {
        let account = self.account.clone();
        self.call("CreateRole", true, |s| {
            if s.roles.contains_key(spec.name.as_str()) {
                return Err(AwsError::new(
                    "CreateRole",
                    "EntityAlreadyExists",
                    "exists",
                    AwsErrorKind::AlreadyExists,
                ));
            }
            s.next_id += 1;
            let state = RoleState {
                name: spec.name.to_string(),
                arn: format!("arn:aws:iam::{account}:role{}{}", spec.path, spec.name),
                role_id: format!("AROA{:016}", s.next_id),
                path: spec.path.clone(),
                description: Some(spec.description.clone()),
                max_session_duration: spec.max_session_duration,
                trust_policy: Some(spec.trust_policy.clone()),
                tags: spec.tags.clone(),
                permissions_boundary: spec.permissions_boundary.as_ref().map(ToString::to_string),
                created: Some("2026-11-22T00:00:00Z".to_owned()),
                last_used: None,
            };
            s.roles
                .insert(spec.name.to_string(), (state.clone(), BTreeMap::new()));
            Ok(state)
        })
    }

    async fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        policy: &PolicyDocument,
    ) -> Result<(), AwsError> {
        self.call("PutRolePolicy", true, |s| {
            let (_, p) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("PutRolePolicy", role))?;
            p.insert(name.to_owned(), policy.clone());
            Ok(())
        })
    }

    async fn update_assume_role_policy(
        &self,
        role: &str,
        policy: &PolicyDocument,
    ) -> Result<(), AwsError> {
        self.call("UpdateAssumeRolePolicy", true, |s| {
            let (r, _) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("UpdateAssumeRolePolicy", role))?;
            r.trust_policy = Some(policy.clone());
            Ok(())
        })
    }

    async fn update_role(
        &self,
        role: &str,
        description: &str,
        max_session_duration: i32,
    ) -> Result<(), AwsError> {
        self.call("UpdateRole", true, |s| {
            let (r, _) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("UpdateRole", role))?;
            r.description = Some(description.to_owned());
            r.max_session_duration = max_session_duration;
            Ok(())
        })
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
        self.call("TagRole", true, |s| {
            let (r, _) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("TagRole", role))?;
            r.tags.extend(tags.clone());
            Ok(())
        })
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), AwsError> {
        self.call("UntagRole", true, |s| {
            let (r, _) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("UntagRole", role))?;
            r.tags.retain(|k, _| !keys.contains(k));
            Ok(())
        })
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), AwsError> {
        self.call("DeleteRolePolicy", true, |s| {
            let (_, p) = s
                .roles
                .get_mut(role)
                .ok_or_else(|| no_such("DeleteRolePolicy", role))?;
            p.remove(name)
                .map(|_| ())
                .ok_or_else(|| no_such("DeleteRolePolicy", name))
        })
    }

    async fn delete_role(&self, role: &str) -> Result<(), AwsError> {
        self.call("DeleteRole", true, |s| {
            if s.roles.get(role).is_some_and(|(_, p)| !p.is_empty()) {
                return Err(AwsError::new(
                    "DeleteRole",
                    "DeleteConflict",
                    "role has policies",
                    AwsErrorKind::Refused,
                ));
            }
            if s.attached.get(role).is_some_and(|a| !a.is_empty())
                || s.profiles
                    .values()
                    .any(|p| p.roles.iter().any(|r| r == role))
            {
                return Err(AwsError::new(
                    "DeleteRole",
                    "DeleteConflict",
                    "role is in an instance profile",
                    AwsErrorKind::Refused,
                ));
            }
            s.roles
                .remove(role)
                .map(|_| ())
                .ok_or_else(|| no_such("DeleteRole", role))
        })
    }

    async fn get_instance_profile(
        &self,
        name: &str,
    ) -> Result<Option<InstanceProfileState>, AwsError> {
        self.call("GetInstanceProfile", false, |s| {
            Ok(s.profiles.get(name).cloned())
        })
    }

    async fn create_instance_profile(
        &self,
        name: &str,
        path: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<InstanceProfileState, AwsError> {
        let account = self.account.clone();
        self.call("CreateInstanceProfile", true, |s| {
            if s.profiles.contains_key(name) {
                return Err(AwsError::new(
                    "CreateInstanceProfile",
                    "EntityAlreadyExists",
                    "exists",
                    AwsErrorKind::AlreadyExists,
                ));
            }
            let p = InstanceProfileState {
                name: name.to_owned(),
                arn: format!("arn:aws:iam::{account}:instance-profile{path}{name}"),
                roles: Vec::new(),
                tags: tags.clone(),
            };
            s.profiles.insert(name.to_owned(), p.clone());
            Ok(p)
        })
    }

    async fn add_role_to_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> Result<(), AwsError> {
        self.call("AddRoleToInstanceProfile", true, |s| {
            let p = s
                .profiles
                .get_mut(profile)
                .ok_or_else(|| no_such("AddRoleToInstanceProfile", profile))?;
            p.roles.push(role.to_owned());
            Ok(())
        })
    }

    async fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> Result<(), AwsError> {
        self.call("RemoveRoleFromInstanceProfile", true, |s| {
            let p = s
                .profiles
                .get_mut(profile)
                .ok_or_else(|| no_such("RemoveRoleFromInstanceProfile", profile))?;
            p.roles.retain(|r| r != role);
            Ok(())
        })
    }

    async fn delete_instance_profile(&self, profile: &str) -> Result<(), AwsError> {
        self.call("DeleteInstanceProfile", true, |s| {
            s.profiles
                .remove(profile)
                .map(|_| ())
                .ok_or_else(|| no_such("DeleteInstanceProfile", profile))
        })
    }

    async fn list_instance_profiles_for_role(
        &self,
        role: &str,
    ) -> Result<Vec<InstanceProfileState>, AwsError> {
        self.call("ListInstanceProfilesForRole", false, |s| {
            Ok(s.profiles
                .values()
                .filter(|p| p.roles.iter().any(|r| r == role))
                .cloned()
                .collect())
        })
    }

    async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        self.call("ListAttachedRolePolicies", false, |s| {
            Ok(s.attached.get(role).cloned().unwrap_or_default())
        })
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.call("DetachRolePolicy", true, |s| {
            let list = s
                .attached
                .get_mut(role)
                .ok_or_else(|| no_such("DetachRolePolicy", role))?;
            list.retain(|a| a != policy_arn);
            Ok(())
        })
    }

    async fn get_managed_policy(
        &self,
        policy_arn: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        self.call("GetPolicyVersion", false, |s| {
            Ok(s.managed.get(policy_arn).cloned())
        })
    }
}

impl HumanStore for FakeIam {
    async fn human_arn(&self, who: &Human) -> Result<Option<String>, AwsError> {
        let account = self.account.clone();
        let op = if matches!(who, Human::User(_)) {
            "GetUser"
        } else {
            "GetGroup"
        };
        self.call(op, false, |s| {
            Ok(s.humans
                .contains_key(&(who.kind().to_owned(), who.name().to_owned()))
                .then(|| person_arn(&account, who.kind(), who.name())))
        })
    }

    async fn get_human_policy(
        &self,
        who: &Human,
        policy: &str,
    ) -> Result<Option<PolicyDocument>, AwsError> {
        self.call("GetHumanPolicy", false, |s| {
            Ok(s.humans
                .get(&(who.kind().to_owned(), who.name().to_owned()))
                .and_then(|p| p.get(policy).cloned()))
        })
    }

    async fn put_human_policy(
        &self,
        who: &Human,
        policy: &str,
        document: &PolicyDocument,
    ) -> Result<(), AwsError> {
        let op = if matches!(who, Human::User(_)) {
            "PutUserPolicy"
        } else {
            "PutGroupPolicy"
        };
        self.call(op, true, |s| {
            s.humans
                .get_mut(&(who.kind().to_owned(), who.name().to_owned()))
                .ok_or_else(|| no_such(op, who.name()))?
                .insert(policy.to_owned(), document.clone());
            Ok(())
        })
    }

    async fn delete_human_policy(&self, who: &Human, policy: &str) -> Result<(), AwsError> {
        let op = if matches!(who, Human::User(_)) {
            "DeleteUserPolicy"
        } else {
            "DeleteGroupPolicy"
        };
        self.call(op, true, |s| {
            s.humans
                .get_mut(&(who.kind().to_owned(), who.name().to_owned()))
                .and_then(|p| p.remove(policy))
                .map(|_| ())
                .ok_or_else(|| no_such(op, policy))
        })
    }
}

/// An in-memory [`ResourceDirectory`](crate::resources::ResourceDirectory): every resource
/// exists (or as set), every region is enabled, and the resource's side is what the test
/// gives.
#[cfg(all(
    feature = "s3",
    feature = "ec2",
    feature = "lambda",
    feature = "rds",
    feature = "kms"
))]
#[derive(Debug, Clone)]
pub struct FakeResources {
    pub existence: crate::resources::Existence,
    pub side: xacct_policy::resource_side::ResourceSide,
}

#[cfg(all(
    feature = "s3",
    feature = "ec2",
    feature = "lambda",
    feature = "rds",
    feature = "kms"
))]
impl FakeResources {
    /// Resources that exist, with this side.
    pub fn with_side(side: xacct_policy::resource_side::ResourceSide) -> Self {
        Self {
            existence: crate::resources::Existence::Exists,
            side,
        }
    }
}

#[cfg(all(
    feature = "s3",
    feature = "ec2",
    feature = "lambda",
    feature = "rds",
    feature = "kms"
))]
impl crate::resources::ResourceDirectory for FakeResources {
    async fn exists(
        &self,
        _arn: &xacct_policy::Arn,
        _resource_type: &str,
        _owner: &xacct_policy::AccountId,
    ) -> Result<crate::resources::Existence, AwsError> {
        Ok(self.existence)
    }

    async fn region_enabled(&self, _region: &str) -> Result<bool, AwsError> {
        Ok(true)
    }

    async fn resource_side(
        &self,
        _arn: &xacct_policy::Arn,
        _resource_type: &str,
    ) -> xacct_policy::resource_side::ResourceSide {
        self.side.clone()
    }
}
