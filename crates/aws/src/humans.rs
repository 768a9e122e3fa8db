//! Requestor people: an inline policy on an existing IAM group or user allowing
//! `sts:AssumeRole` on one owner role. Inline policies carry no tags, so "managed by xacct"
//! means the policy has xacct's name for that owner role *and* a document xacct writes for
//! it; anything else under that name is left alone.

use std::future::Future;

use xacct_policy::PolicyDocument;

use crate::error::AwsError;
use crate::roles::Removal;

/// An existing IAM group or user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Human {
    Group(String),
    User(String),
}

impl Human {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Group(_) => "group",
            Self::User(_) => "user",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Group(n) | Self::User(n) => n,
        }
    }
}

/// The IAM calls for a group's or user's inline policies. Reads return `Ok(None)` for a
/// missing entity.
pub trait HumanStore: Sync {
    fn human_arn(
        &self,
        who: &Human,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    fn get_human_policy(
        &self,
        who: &Human,
        policy: &str,
    ) -> impl Future<Output = Result<Option<PolicyDocument>, AwsError>> + Send;
    fn put_human_policy(
        &self,
        who: &Human,
        policy: &str,
        document: &PolicyDocument,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_human_policy(
        &self,
        who: &Human,
        policy: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Why a person's policy could not be written or removed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HumanError {
    #[error("{kind} `{name}` does not exist in this account")]
    NotFound { kind: &'static str, name: String },
    #[error(
        "{kind} `{name}` has an inline policy `{policy}` that xacct did not write; xacct leaves it untouched"
    )]
    NotManaged {
        kind: &'static str,
        name: String,
        policy: String,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// What `ensure_human_policy` did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanOutcome {
    /// The group's or user's ARN.
    pub arn: String,
    pub changed: bool,
    pub changes: Vec<String>,
    pub writes: Vec<&'static str>,
    /// The policy as it was before, for an access diff; `None` when there was none.
    pub previous: Option<PolicyDocument>,
}

/// Makes the person's inline policy `name` equal `wanted`: one write when missing or
/// different, none when equal. A policy of that name that `is_ours` rejects is refused.
pub async fn ensure_human_policy<S: HumanStore>(
    store: &S,
    who: &Human,
    name: &str,
    wanted: &PolicyDocument,
    is_ours: impl Fn(&PolicyDocument) -> bool,
    dry_run: bool,
) -> Result<HumanOutcome, HumanError> {
    let arn = store
        .human_arn(who)
        .await?
        .ok_or_else(|| HumanError::NotFound {
            kind: who.kind(),
            name: who.name().to_owned(),
        })?;
    let existing = store.get_human_policy(who, name).await?;
    let mut outcome = HumanOutcome {
        arn,
        changed: false,
        changes: Vec::new(),
        writes: Vec::new(),
        previous: existing.clone(),
    };
    match &existing {
        Some(doc) if doc == wanted => return Ok(outcome),
        Some(doc) if !is_ours(doc) => {
            return Err(HumanError::NotManaged {
                kind: who.kind(),
                name: who.name().to_owned(),
                policy: name.to_owned(),
            });
        }
        _ => {}
    }
    outcome.changed = true;
    outcome.changes.push(format!(
        "put inline policy `{name}` on {} `{}`",
        who.kind(),
        who.name()
    ));
    if !dry_run {
        store.put_human_policy(who, name, wanted).await?;
        outcome.writes.push(match who {
            Human::Group(_) => "PutGroupPolicy",
            Human::User(_) => "PutUserPolicy",
        });
    }
    Ok(outcome)
}

/// Deletes the person's inline policy `name` if `is_ours` accepts it; already gone is no
/// change; a group or user that does not exist is no change either.
pub async fn remove_human_policy<S: HumanStore>(
    store: &S,
    who: &Human,
    name: &str,
    is_ours: impl Fn(&PolicyDocument) -> bool,
) -> Result<Removal, HumanError> {
    remove_human_policy_if(store, who, name, |doc| {
        if is_ours(doc) {
            Ok(())
        } else {
            Err(HumanError::NotManaged {
                kind: who.kind(),
                name: who.name().to_owned(),
                policy: name.to_owned(),
            })
        }
    })
    .await
}

/// Deletes the person's inline policy `name` after reading it again and `check` accepting
/// it (its error is returned as is, and nothing is deleted); already gone, or a group or
/// user that does not exist, is no change.
pub async fn remove_human_policy_if<S: HumanStore, E: From<AwsError>>(
    store: &S,
    who: &Human,
    name: &str,
    check: impl Fn(&PolicyDocument) -> Result<(), E>,
) -> Result<Removal, E> {
    let Some(doc) = store.get_human_policy(who, name).await? else {
        return Ok(Removal::default());
    };
    check(&doc)?;
    match store.delete_human_policy(who, name).await {
        Ok(()) => Ok(Removal {
            removed: vec![format!(
                "inline policy `{name}` of {} `{}`",
                who.kind(),
                who.name()
            )],
            changed: true,
        }),
        Err(e) if e.is_not_found() => Ok(Removal::default()),
        Err(e) => Err(e.into()),
    }
}
