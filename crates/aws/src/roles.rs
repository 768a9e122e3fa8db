//! The role writer: makes an IAM role (and, for EC2, an instance profile) match a spec with
//! the fewest writes. A new role costs two writes (CreateRole with trust, tags, boundary,
//! path and description on it, then PutRolePolicy); an unchanged one none; a change only the
//! writes it needs, in place, keeping the RoleId. A failure after CreateRole removes what was
//! created. It works through [`RoleStore`], a narrow trait over IAM, so tests run without AWS.

use std::collections::BTreeMap;
use std::future::Future;

use xacct_policy::PolicyDocument;

use crate::error::{AwsError, AwsErrorKind};

/// Tag that marks a role or instance profile as created and managed by xacct.
pub use xacct_policy::tags::MANAGED as MANAGED_TAG;
/// A tag value within IAM's 256-character limit.
pub use xacct_policy::tags::value as tag_value;

/// A description within IAM's characters and 1,000-character limit.
pub fn description(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (' '..='~').contains(&c) || ('\u{a1}'..='\u{ff}').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .take(1000)
        .collect()
}

pub use xacct_policy::role::RoleSpec;

/// A role as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    pub role_id: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: i32,
    pub trust_policy: Option<PolicyDocument>,
    pub tags: BTreeMap<String, String>,
    pub permissions_boundary: Option<String>,
    pub created: Option<String>,
    pub last_used: Option<String>,
}

impl RoleState {
    pub fn is_managed(&self) -> bool {
        self.tags.get(MANAGED_TAG).map(String::as_str) == Some("true")
    }

    /// The External ID the trust policy requires, if any.
    pub fn external_id(&self) -> Option<&str> {
        xacct_policy::trust::external_id(self.trust_policy.as_ref()?)
    }
}

/// A role as one page of `GetAccountAuthorizationDetails` lists it, with its inline
/// policies: everything `list-grants` shows, without a read per role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRole {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub trust_policy: Option<PolicyDocument>,
    pub tags: BTreeMap<String, String>,
    pub permissions_boundary: Option<String>,
    pub created: Option<String>,
    pub last_used: Option<String>,
    /// Inline policies by name.
    pub inline: BTreeMap<String, PolicyDocument>,
}

impl ListedRole {
    pub fn is_managed(&self) -> bool {
        self.tags.get(MANAGED_TAG).map(String::as_str) == Some("true")
    }

    /// The External ID the trust policy requires, if any.
    pub fn external_id(&self) -> Option<&str> {
        xacct_policy::trust::external_id(self.trust_policy.as_ref()?)
    }
}

/// A user or group as one page of `GetAccountAuthorizationDetails` lists it, with its
/// inline policies (where xacct's policies for people live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedHuman {
    pub who: crate::humans::Human,
    pub arn: String,
    pub path: String,
    /// Inline policies by name.
    pub inline: BTreeMap<String, PolicyDocument>,
}

/// One page of `GetAccountAuthorizationDetails`: roles, and users and groups when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationDetails {
    pub roles: Vec<ListedRole>,
    pub people: Vec<ListedHuman>,
}

/// Lists the account's roles with their tags, inline policies and last use (and, when
/// asked, its users and groups with their inline policies), a page at a time: one paged
/// chain instead of a `GetRole` and a `GetRolePolicy` per role.
pub trait RoleListing: Sync {
    /// One page of roles, with users and groups when `people`, and the marker of the next
    /// page (a marker continues the same selection).
    fn list_details(
        &self,
        marker: Option<&str>,
        people: bool,
    ) -> impl Future<Output = Result<(AuthorizationDetails, Option<String>), AwsError>> + Send;

    /// One page of roles and the marker of the next page.
    fn list_role_details(
        &self,
        marker: Option<&str>,
    ) -> impl Future<Output = Result<(Vec<ListedRole>, Option<String>), AwsError>> + Send {
        async move {
            let (page, next) = self.list_details(marker, false).await?;
            Ok((page.roles, next))
        }
    }
}

/// An instance profile as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfileState {
    pub name: String,
    pub arn: String,
    pub roles: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The IAM operations the role writer needs. Reads return `Ok(None)` for a missing entity.
pub trait RoleStore: Sync {
    fn get_role(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<RoleState>, AwsError>> + Send;
    fn get_role_policy(
        &self,
        role: &str,
        policy: &str,
    ) -> impl Future<Output = Result<Option<PolicyDocument>, AwsError>> + Send;
    fn list_role_policies(
        &self,
        role: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    fn create_role(
        &self,
        spec: &RoleSpec,
    ) -> impl Future<Output = Result<RoleState, AwsError>> + Send;
    fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        policy: &PolicyDocument,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn update_assume_role_policy(
        &self,
        role: &str,
        policy: &PolicyDocument,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn update_role(
        &self,
        role: &str,
        description: &str,
        max_session_duration: i32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn tag_role(
        &self,
        role: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn untag_role(
        &self,
        role: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_role_policy(
        &self,
        role: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_role(&self, role: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn get_instance_profile(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<InstanceProfileState>, AwsError>> + Send;
    fn create_instance_profile(
        &self,
        name: &str,
        path: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<InstanceProfileState, AwsError>> + Send;
    fn add_role_to_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_instance_profile(
        &self,
        profile: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The instance profiles that hold the role (read through the role, which IAM authorizes
    /// by its real ARN, unlike a by-name read of a profile that may not exist).
    fn list_instance_profiles_for_role(
        &self,
        role: &str,
    ) -> impl Future<Output = Result<Vec<InstanceProfileState>, AwsError>> + Send;
    /// The ARNs of the managed policies attached to the role.
    fn list_attached_role_policies(
        &self,
        role: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    fn detach_role_policy(
        &self,
        role: &str,
        policy_arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The default version of a managed policy.
    fn get_managed_policy(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<Option<PolicyDocument>, AwsError>> + Send;
}

/// A role's permissions as IAM has them: inline policies by name, attached managed policies
/// by ARN (with their documents where readable) and the boundary's document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicies {
    pub inline: BTreeMap<String, PolicyDocument>,
    pub attached: Vec<(String, Option<PolicyDocument>)>,
    pub boundary: Option<PolicyDocument>,
}

/// Reads every policy that decides what the role may do.
pub async fn read_role_policies<S: RoleStore>(
    store: &S,
    role: &RoleState,
) -> Result<RolePolicies, AwsError> {
    let mut out = RolePolicies::default();
    for name in store.list_role_policies(&role.name).await? {
        if let Some(doc) = store.get_role_policy(&role.name, &name).await? {
            out.inline.insert(name, doc);
        }
    }
    for arn in store.list_attached_role_policies(&role.name).await? {
        let doc = store.get_managed_policy(&arn).await?;
        out.attached.push((arn, doc));
    }
    if let Some(b) = &role.permissions_boundary {
        out.boundary = store.get_managed_policy(b).await?;
    }
    Ok(out)
}

/// Why a role could not be made to match its spec.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RoleError {
    #[error("role `{name}` exists and is not managed by xacct; xacct leaves it untouched")]
    NotManaged { name: String },
    #[error(
        "role `{name}` is xacct's grant for another {tag} (`{existing}`); choose another role_name"
    )]
    OtherGrant {
        name: String,
        tag: String,
        existing: String,
    },
    #[error(
        "role `{name}` has permissions boundary `{existing}`, not `{wanted}`; revoke the grant and create it again"
    )]
    BoundaryMismatch {
        name: String,
        existing: String,
        wanted: String,
    },
    #[error("another request is changing role `{name}` at the same time; try again")]
    Concurrent { name: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{source}; the partly created role was removed")]
    RolledBack {
        source: Box<AwsError>,
        removed: Vec<String>,
    },
    #[error(
        "{source}; the role `{name}` is partly removed ({}); call again to finish",
        removed.join(", ")
    )]
    RemovalIncomplete {
        name: String,
        source: Box<AwsError>,
        removed: Vec<String>,
    },
    #[error(
        "{source}; removing the partly created role also failed ({rollback}), so `{name}` may be left behind"
    )]
    RollbackFailed {
        name: String,
        source: Box<AwsError>,
        rollback: Box<AwsError>,
    },
}

/// What `ensure_role` did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOutcome {
    pub arn: String,
    /// `None` for a role a dry run has not created.
    pub role_id: Option<String>,
    pub changed: bool,
    pub created: bool,
    /// The changes, in words: `create role`, `update trust policy`, ...
    pub changes: Vec<String>,
    /// The IAM write calls made, in order.
    pub writes: Vec<&'static str>,
    pub instance_profile_arn: Option<String>,
    /// The role's trust and inline policy as they were before, for an access diff; `None`
    /// for a role that did not exist.
    pub previous: Option<PreviousRole>,
}

/// A role's documents as they were before a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousRole {
    pub trust_policy: Option<PolicyDocument>,
    pub policy: Option<PolicyDocument>,
}

fn differs(spec: &RoleSpec, state: &RoleState) -> Vec<&'static str> {
    let mut out = Vec::new();
    if state.trust_policy.as_ref() != Some(&spec.trust_policy) {
        out.push("trust");
    }
    if state.description.as_deref().unwrap_or_default() != spec.description
        || state.max_session_duration != spec.max_session_duration
    {
        out.push("settings");
    }
    if spec.tags.iter().any(|(k, v)| state.tags.get(k) != Some(v)) {
        out.push("tags");
    }
    out
}

/// xacct's tags on the role that the spec no longer has (a `xacct:requestor-role` after the
/// grant was widened to the whole account): left in place they would describe a trust the
/// role no longer has. Tags outside `xacct:` belong to others and are kept.
fn stale_tags(spec: &RoleSpec, state: &RoleState) -> Vec<String> {
    state
        .tags
        .keys()
        .filter(|k| k.starts_with(XACCT_TAG_PREFIX) && !spec.tags.contains_key(*k))
        .cloned()
        .collect()
}

/// The prefix of every tag xacct writes.
pub use xacct_policy::tags::PREFIX as XACCT_TAG_PREFIX;

async fn rollback<S: RoleStore>(
    store: &S,
    spec: &RoleSpec,
    profile_created: bool,
    profile_has_role: bool,
    policy_put: bool,
    source: AwsError,
) -> RoleError {
    let mut removed = Vec::new();
    let mut steps: Vec<Result<&'static str, AwsError>> = Vec::new();
    if profile_has_role {
        steps.push(
            store
                .remove_role_from_instance_profile(spec.name.as_str(), spec.name.as_str())
                .await
                .map(|()| "role from instance profile"),
        );
    }
    if profile_created {
        steps.push(
            store
                .delete_instance_profile(spec.name.as_str())
                .await
                .map(|()| "instance profile"),
        );
    }
    if policy_put {
        steps.push(
            store
                .delete_role_policy(spec.name.as_str(), &spec.policy_name)
                .await
                .map(|()| "inline policy"),
        );
    }
    steps.push(store.delete_role(spec.name.as_str()).await.map(|()| "role"));
    for step in steps {
        match step {
            Ok(what) => removed.push(what.to_owned()),
            Err(e) if e.is_not_found() => {}
            Err(rollback) => {
                tracing::error!(role = %spec.name, code = %rollback.code, "rollback after a failed create failed");
                return RoleError::RollbackFailed {
                    name: spec.name.to_string(),
                    source: Box::new(source),
                    rollback: Box::new(rollback),
                };
            }
        }
    }
    tracing::warn!(role = %spec.name, code = %source.code, ?removed, "create failed; rolled back");
    RoleError::RolledBack {
        source: Box::new(source),
        removed,
    }
}

/// Makes the role (and instance profile) match `spec`. `existing` is the role as just read
/// (callers read it first to reuse its External ID). A concurrent create of the same name
/// surfaces as `RoleError::Aws` with `AwsErrorKind::AlreadyExists`: read again and retry.
pub async fn ensure_role<S: RoleStore>(
    store: &S,
    spec: &RoleSpec,
    existing: Option<RoleState>,
    planned_arn: &str,
    dry_run: bool,
) -> Result<RoleOutcome, RoleError> {
    let mut outcome = RoleOutcome {
        arn: planned_arn.to_owned(),
        role_id: None,
        changed: false,
        created: false,
        changes: Vec::new(),
        writes: Vec::new(),
        instance_profile_arn: None,
        previous: None,
    };
    let Some(state) = existing else {
        outcome.changed = true;
        outcome.created = true;
        outcome.changes.push("create role".to_owned());
        outcome
            .changes
            .push(format!("put inline policy `{}`", spec.policy_name));
        if spec.instance_profile {
            outcome.changes.push("create instance profile".to_owned());
        }
        if dry_run {
            return Ok(outcome);
        }
        let created = store.create_role(spec).await?;
        outcome.writes.push("CreateRole");
        outcome.arn = created.arn;
        outcome.role_id = Some(created.role_id);
        if let Err(e) = store
            .put_role_policy(spec.name.as_str(), &spec.policy_name, &spec.policy)
            .await
        {
            return Err(rollback(store, spec, false, false, false, e).await);
        }
        outcome.writes.push("PutRolePolicy");
        if spec.instance_profile {
            let profile = match store
                .create_instance_profile(spec.name.as_str(), &spec.path, &spec.tags)
                .await
            {
                Ok(p) => p,
                Err(e) => return Err(rollback(store, spec, false, false, true, e).await),
            };
            outcome.writes.push("CreateInstanceProfile");
            if let Err(e) = store
                .add_role_to_instance_profile(spec.name.as_str(), spec.name.as_str())
                .await
            {
                return Err(rollback(store, spec, true, false, true, e).await);
            }
            outcome.writes.push("AddRoleToInstanceProfile");
            outcome.instance_profile_arn = Some(profile.arn);
        }
        return Ok(outcome);
    };

    if !state.is_managed() || state.path != spec.path {
        return Err(RoleError::NotManaged {
            name: spec.name.to_string(),
        });
    }
    for tag in &spec.identity_tags {
        if let (Some(existing), Some(wanted)) = (state.tags.get(tag), spec.tags.get(tag))
            && existing != wanted
        {
            return Err(RoleError::OtherGrant {
                name: spec.name.to_string(),
                tag: tag.clone(),
                existing: existing.clone(),
            });
        }
    }
    let wanted_boundary = spec.permissions_boundary.as_ref().map(ToString::to_string);
    if state.permissions_boundary != wanted_boundary {
        return Err(RoleError::BoundaryMismatch {
            name: spec.name.to_string(),
            existing: state
                .permissions_boundary
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
            wanted: wanted_boundary.unwrap_or_else(|| "none".to_owned()),
        });
    }
    outcome.arn = state.arn.clone();
    outcome.role_id = Some(state.role_id.clone());
    let diffs = differs(spec, &state);
    let stale = stale_tags(spec, &state);
    let live_policy = store
        .get_role_policy(spec.name.as_str(), &spec.policy_name)
        .await?;
    let policy_differs = live_policy.as_ref() != Some(&spec.policy);
    outcome.previous = Some(PreviousRole {
        trust_policy: state.trust_policy.clone(),
        policy: live_policy,
    });
    let stray_policies: Vec<String> = store
        .list_role_policies(spec.name.as_str())
        .await?
        .into_iter()
        .filter(|p| *p != spec.policy_name)
        .collect();
    let profile = if spec.instance_profile {
        store.get_instance_profile(spec.name.as_str()).await?
    } else {
        None
    };
    let profile_missing = spec.instance_profile && profile.is_none();
    let role_missing_from_profile = spec.instance_profile
        && profile
            .as_ref()
            .is_some_and(|p| !p.roles.iter().any(|r| r == spec.name.as_str()));
    outcome.instance_profile_arn = profile.as_ref().map(|p| p.arn.clone());

    for d in &diffs {
        outcome.changes.push(match *d {
            "trust" => "update trust policy".to_owned(),
            "settings" => "update description and maximum session duration".to_owned(),
            _ => "update tags".to_owned(),
        });
    }
    if !stale.is_empty() {
        outcome
            .changes
            .push(format!("remove tags {}", stale.join(", ")));
    }
    if policy_differs {
        outcome
            .changes
            .push(format!("put inline policy `{}`", spec.policy_name));
    }
    for p in &stray_policies {
        outcome
            .changes
            .push(format!("delete inline policy `{p}` added outside xacct"));
    }
    if profile_missing {
        outcome.changes.push("create instance profile".to_owned());
    }
    if profile_missing || role_missing_from_profile {
        outcome
            .changes
            .push("add role to instance profile".to_owned());
    }
    outcome.changed = !outcome.changes.is_empty();
    if dry_run || !outcome.changed {
        return Ok(outcome);
    }
    if diffs.contains(&"trust") {
        store
            .update_assume_role_policy(spec.name.as_str(), &spec.trust_policy)
            .await?;
        outcome.writes.push("UpdateAssumeRolePolicy");
    }
    if policy_differs {
        store
            .put_role_policy(spec.name.as_str(), &spec.policy_name, &spec.policy)
            .await?;
        outcome.writes.push("PutRolePolicy");
    }
    for p in &stray_policies {
        store.delete_role_policy(spec.name.as_str(), p).await?;
        outcome.writes.push("DeleteRolePolicy");
    }
    if diffs.contains(&"settings") {
        store
            .update_role(
                spec.name.as_str(),
                &spec.description,
                spec.max_session_duration,
            )
            .await?;
        outcome.writes.push("UpdateRole");
    }
    if diffs.contains(&"tags") {
        store.tag_role(spec.name.as_str(), &spec.tags).await?;
        outcome.writes.push("TagRole");
    }
    if !stale.is_empty() {
        store.untag_role(spec.name.as_str(), &stale).await?;
        outcome.writes.push("UntagRole");
    }
    if profile_missing {
        let created = store
            .create_instance_profile(spec.name.as_str(), &spec.path, &spec.tags)
            .await?;
        outcome.writes.push("CreateInstanceProfile");
        outcome.instance_profile_arn = Some(created.arn);
    }
    if profile_missing || role_missing_from_profile {
        store
            .add_role_to_instance_profile(spec.name.as_str(), spec.name.as_str())
            .await?;
        outcome.writes.push("AddRoleToInstanceProfile");
    }
    Ok(outcome)
}

/// Reads the role, builds the spec from what exists (so a generated External ID is reused),
/// and ensures it; when a concurrent request creates the same role first, reads again and
/// converges on it (at most three rounds).
pub async fn ensure_role_converging<S, F, E>(
    store: &S,
    name: &str,
    planned_arn: &str,
    dry_run: bool,
    mut build: F,
) -> Result<(RoleSpec, RoleOutcome), E>
where
    S: RoleStore,
    F: FnMut(Option<&RoleState>) -> Result<RoleSpec, E>,
    E: From<RoleError>,
{
    for _ in 0..3 {
        let existing = store.get_role(name).await.map_err(RoleError::from)?;
        let spec = build(existing.as_ref())?;
        match ensure_role(store, &spec, existing, planned_arn, dry_run).await {
            Err(RoleError::Aws(e)) if e.kind == AwsErrorKind::AlreadyExists => continue,
            Err(other) => return Err(other.into()),
            Ok(outcome) => return Ok((spec, outcome)),
        }
    }
    Err(RoleError::Concurrent {
        name: name.to_owned(),
    }
    .into())
}

/// What `remove_role` deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Removal {
    pub removed: Vec<String>,
    pub changed: bool,
}

/// Deletes an xacct-managed role with its inline policies, managed-policy attachments and
/// instance profile. Permissions go first, so a failure part-way leaves a role that can do
/// nothing, and `RoleError::RemovalIncomplete` says what was removed; calling again
/// finishes. Refuses a role xacct does not manage; an already missing role is no change.
pub async fn remove_role<S: RoleStore>(store: &S, name: &str) -> Result<Removal, RoleError> {
    let Some(state) = store.get_role(name).await? else {
        return Ok(Removal::default());
    };
    if !state.is_managed() {
        return Err(RoleError::NotManaged {
            name: name.to_owned(),
        });
    }
    let mut removed = Vec::new();
    match remove_parts(store, &state, &mut removed).await {
        Ok(()) => Ok(Removal {
            removed,
            changed: true,
        }),
        Err(source) if removed.is_empty() => Err(RoleError::Aws(source)),
        Err(source) => Err(RoleError::RemovalIncomplete {
            name: name.to_owned(),
            source: Box::new(source),
            removed,
        }),
    }
}

async fn remove_parts<S: RoleStore>(
    store: &S,
    state: &RoleState,
    removed: &mut Vec<String>,
) -> Result<(), AwsError> {
    let name = state.name.as_str();
    let gone = |r: Result<(), AwsError>| match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    };
    for policy in store.list_role_policies(name).await? {
        gone(store.delete_role_policy(name, &policy).await)?;
        removed.push(format!("inline policy `{policy}`"));
    }
    // Managed policies someone attached by hand would make DeleteRole fail; they are
    // detached (not deleted) so the grant can still be taken back.
    for arn in store.list_attached_role_policies(name).await? {
        gone(store.detach_role_policy(name, &arn).await)?;
        removed.push(format!("attachment of managed policy `{arn}`"));
    }
    for profile in store.list_instance_profiles_for_role(name).await? {
        gone(
            store
                .remove_role_from_instance_profile(&profile.name, name)
                .await,
        )?;
        // xacct's own profile goes with the role; anyone else's only loses the role. Listings
        // carry no tags, so the profile (which exists) is read for them.
        let ours = profile.name == name
            && store
                .get_instance_profile(&profile.name)
                .await?
                .is_some_and(|p| p.tags.get(MANAGED_TAG).map(String::as_str) == Some("true"));
        if ours {
            gone(store.delete_instance_profile(&profile.name).await)?;
            removed.push(format!("instance profile `{}`", profile.arn));
        } else {
            removed.push(format!("role from instance profile `{}`", profile.arn));
        }
    }
    gone(store.delete_role(name).await)?;
    removed.push(format!("role `{}`", state.arn));
    Ok(())
}
