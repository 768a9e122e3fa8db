//! Where an owner operation runs: the hub's own account (no `account_id`, or the hub's),
//! or a member account of the organization, through its spoke role, with the same handler
//! code and clients made from the spoke's credentials. Without `account_id` nothing changes;
//! a deployment that is no hub refuses another account.

use std::future::Future;
use std::ops::Deref;

use futures::future::BoxFuture;

use xacct_aws::AwsError;
use xacct_aws::identity::AccountLookup;
use xacct_aws::organization::MemberAccount;
use xacct_policy::organization::Scope;
use xacct_policy::{AccountId, OrganizationId};

use crate::error::ApiError;

/// The dependencies of one request: the hub's own, or a member account's.
#[derive(Debug)]
pub enum InAccount<'a, D> {
    /// Built once at start-up (the hub's, or a test's member).
    Shared(&'a D),
    /// Built for this request from a spoke session.
    Session(D),
}

impl<D> Deref for InAccount<'_, D> {
    type Target = D;
    fn deref(&self) -> &D {
        match self {
            Self::Shared(d) => d,
            Self::Session(d) => d,
        }
    }
}

/// The organization as the hub reaches it: its accounts, and a member's dependencies.
pub trait Members<D: 'static>: Sync {
    /// Every account of the organization, the hub's own included.
    fn accounts(&self) -> impl Future<Output = Result<Vec<MemberAccount>, AwsError>> + Send;

    /// The dependencies in `account`, through its spoke role, as the session `session`;
    /// a 403 naming `account_id` when the spoke role cannot be used.
    fn open(
        &self,
        account: &AccountId,
        session: &str,
    ) -> impl Future<Output = Result<InAccount<'_, D>, ApiError>> + Send;

    /// As [`Self::open`], for a request that only reads: the dependencies as soon as the
    /// spoke role is assumed, and the proof that the role is there still to be awaited, so
    /// the reads run alongside it (and are dropped when it fails) instead of after it.
    fn open_reading(
        &self,
        account: &AccountId,
        session: &str,
    ) -> impl Future<Output = Result<(InAccount<'_, D>, Proof<'_>), ApiError>> + Send {
        async move { Ok((self.open(account, session).await?, proven())) }
    }
}

/// That a member's spoke role is there, still to be awaited.
pub type Proof<'a> = BoxFuture<'a, Result<(), ApiError>>;

/// A proof that needs no call: the hub's own account, or a member opened and proven.
fn proven<'a>() -> Proof<'a> {
    Box::pin(std::future::ready(Ok(())))
}

/// No organization: a deployment that is not a hub.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOrganization;

impl<D: Sync + 'static> Members<D> for NoOrganization {
    async fn accounts(&self) -> Result<Vec<MemberAccount>, AwsError> {
        Ok(Vec::new())
    }

    async fn open(&self, account: &AccountId, _: &str) -> Result<InAccount<'_, D>, ApiError> {
        Err(ApiError::not_a_hub(account))
    }
}

/// The organization a hub serves.
#[derive(Debug)]
pub struct Organization<M> {
    pub id: OrganizationId,
    pub members: M,
    /// Member accounts worked in at once by a request that spans accounts
    /// (`MemberAccountConcurrency`).
    pub concurrency: usize,
}

/// Accounts worked in at once when `XACCT_MEMBER_ACCOUNT_CONCURRENCY` is unset.
pub const DEFAULT_MEMBER_CONCURRENCY: usize = 8;
/// The most accounts worked in at once (template.yaml's `MemberAccountConcurrency` MaxValue):
/// enough for a hundred-account organization's discovery in one wave, while each account's
/// own discovery keeps its bound on calls in flight.
pub const MAX_MEMBER_CONCURRENCY: usize = 128;

/// An owner function's dependencies in its own account, and in hub mode the organization.
/// Derefs to the home dependencies.
#[derive(Debug)]
pub struct Hub<D, M = NoOrganization> {
    pub home: D,
    /// The hub's own account, to tell it from a member.
    pub account: AccountLookup,
    /// `None` outside hub mode.
    pub organization: Option<Organization<M>>,
}

impl<D, M> Deref for Hub<D, M> {
    type Target = D;
    fn deref(&self) -> &D {
        &self.home
    }
}

impl<D> Hub<D> {
    /// A deployment that is not a hub: every request runs in `account`.
    pub fn alone(home: D, account: AccountLookup) -> Self {
        Self {
            home,
            account,
            organization: None,
        }
    }
}

impl<D: Sync + 'static, M: Members<D>> Hub<D, M> {
    /// The scope `account_id` names: none, or the hub's own account, is home (and asks AWS
    /// nothing when absent); another account is a member, refused outside hub mode.
    pub async fn scope(&self, account_id: Option<&str>) -> Result<Scope, ApiError> {
        let Some(raw) = account_id else {
            return Ok(Scope::Home);
        };
        let requested: AccountId = raw
            .trim()
            .parse()
            .map_err(|e| ApiError::id("account_id", &e))?;
        let scope = Scope::of(Some(requested), &self.account.account().await?);
        match (&scope, &self.organization) {
            (Scope::Member(account), None) => Err(ApiError::not_a_hub(account)),
            _ => Ok(scope),
        }
    }

    /// The dependencies to serve a request in `scope` with, for `caller`.
    pub async fn enter_scope(
        &self,
        scope: &Scope,
        caller: &str,
    ) -> Result<InAccount<'_, D>, ApiError> {
        match (scope, &self.organization) {
            (Scope::Home, _) => Ok(InAccount::Shared(&self.home)),
            (Scope::Member(account), Some(org)) => {
                let session = xacct_policy::organization::session_name(caller);
                let deps = org.members.open(account, &session).await?;
                tracing::info!(caller, account = %account, session, "working in member account");
                Ok(deps)
            }
            (Scope::Member(account), None) => Err(ApiError::not_a_hub(account)),
        }
    }

    /// As [`Self::enter_scope`], for a request that only reads: the proof that a member's
    /// spoke role is there comes alongside, to be awaited together with the reads.
    pub async fn enter_scope_reading(
        &self,
        scope: &Scope,
        caller: &str,
    ) -> Result<(InAccount<'_, D>, Proof<'_>), ApiError> {
        match (scope, &self.organization) {
            (Scope::Home, _) => Ok((InAccount::Shared(&self.home), proven())),
            (Scope::Member(account), Some(org)) => {
                let session = xacct_policy::organization::session_name(caller);
                let opened = org.members.open_reading(account, &session).await?;
                tracing::info!(caller, account = %account, session, "reading in member account");
                Ok(opened)
            }
            (Scope::Member(account), None) => Err(ApiError::not_a_hub(account)),
        }
    }

    /// The dependencies for a request's `account_id`.
    pub async fn enter(
        &self,
        account_id: Option<&str>,
        caller: &str,
    ) -> Result<InAccount<'_, D>, ApiError> {
        let scope = self.scope(account_id).await?;
        self.enter_scope(&scope, caller).await
    }
}

#[cfg(feature = "hub")]
pub use sdk::{HubSettingError, SdkMembers, SessionDeps, hub_from_env};

#[cfg(feature = "hub")]
mod sdk {
    use aws_config::SdkConfig;
    use xacct_aws::organization::{OrganizationAccounts, SpokeSession, SpokeSessions};
    use xacct_policy::organization::{DEFAULT_SPOKE_ROLE_NAME, Spoke};
    use xacct_policy::{Partition, RoleName};

    use super::*;
    use crate::runtime::env;

    /// Builds a function's dependencies in a member account from a spoke session (its SDK
    /// configuration and the member's boundary) and the member's account.
    pub type SessionDeps<D> = Box<dyn Fn(&SpokeSession, AccountLookup) -> D + Send + Sync>;

    /// The organization through the SDK: `ListAccounts` with the hub's credentials, and
    /// a session per request in a member account.
    pub struct SdkMembers<D> {
        pub accounts: OrganizationAccounts,
        pub sessions: SpokeSessions,
        pub build: SessionDeps<D>,
    }

    impl<D> std::fmt::Debug for SdkMembers<D> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SdkMembers")
                .field("spoke", self.sessions.spoke())
                .finish_non_exhaustive()
        }
    }

    impl<D: Send + Sync + 'static> Members<D> for SdkMembers<D> {
        async fn accounts(&self) -> Result<Vec<MemberAccount>, AwsError> {
            self.accounts.list().await
        }

        async fn open(
            &self,
            account: &AccountId,
            session: &str,
        ) -> Result<InAccount<'_, D>, ApiError> {
            let opened = self
                .sessions
                .open(account, session)
                .await
                .map_err(|e| self.unreachable(account, &e))?;
            Ok(InAccount::Session(self.deps(&opened, account)))
        }

        async fn open_reading(
            &self,
            account: &AccountId,
            session: &str,
        ) -> Result<(InAccount<'_, D>, Proof<'_>), ApiError> {
            let opened = self
                .sessions
                .assume(account, session)
                .await
                .map_err(|e| self.unreachable(account, &e))?;
            let deps = InAccount::Session(self.deps(&opened, account));
            let account = account.clone();
            let proof: Proof<'_> = Box::pin(async move {
                self.sessions
                    .prove(&opened)
                    .await
                    .map_err(|e| self.unreachable(&account, &e))
            });
            Ok((deps, proof))
        }
    }

    impl<D> SdkMembers<D> {
        /// The function's dependencies in `account` from its spoke session.
        fn deps(&self, opened: &SpokeSession, account: &AccountId) -> D {
            let partition = self.sessions.spoke().partition;
            let lookup = AccountLookup::known_in(&opened.config, account.clone(), partition);
            (self.build)(opened, lookup)
        }

        /// The 403 for a spoke role that cannot be assumed or read, naming the role.
        fn unreachable(&self, account: &AccountId, e: &AwsError) -> ApiError {
            let spoke = self.sessions.spoke();
            let role = spoke
                .role_arn(account)
                .map_or_else(|_| spoke.role_name.to_string(), |a| a.to_string());
            ApiError::spoke_unreachable(account, &role, e)
        }
    }

    /// Why a hub cannot start: a setting that is wrong.
    #[derive(Debug, thiserror::Error)]
    pub enum HubSettingError {
        #[error("XACCT_ORGANIZATION_ID: {0}")]
        Organization(xacct_policy::IdError),
        #[error("XACCT_SPOKE_ROLE_NAME: {0}")]
        SpokeRole(xacct_policy::IdError),
        #[error(
            "XACCT_MEMBER_ACCOUNT_CONCURRENCY `{0}`: expected a whole number from 1 to {MAX_MEMBER_CONCURRENCY}"
        )]
        Concurrency(String),
    }

    /// `XACCT_MEMBER_ACCOUNT_CONCURRENCY`: unset is the default, else 1 to the most.
    pub(crate) fn member_concurrency(raw: Option<String>) -> Result<usize, HubSettingError> {
        match raw {
            None => Ok(DEFAULT_MEMBER_CONCURRENCY),
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_MEMBER_CONCURRENCY).contains(n))
                .ok_or(HubSettingError::Concurrency(raw)),
        }
    }

    /// The hub from the environment, built once at start-up: `XACCT_ORGANIZATION_ID`
    /// (unset or empty: not a hub, `home` serves every request), `XACCT_SPOKE_ROLE_NAME`
    /// (default `xacct-spoke`), `XACCT_MEMBER_ACCOUNT_CONCURRENCY` (default 8). `build`
    /// makes the function's dependencies from a member's spoke session.
    pub fn hub_from_env<D>(
        config: &SdkConfig,
        home: D,
        build: SessionDeps<D>,
    ) -> Result<Hub<D, SdkMembers<D>>, HubSettingError> {
        let account = AccountLookup::new(config);
        let Some(id) = env("XACCT_ORGANIZATION_ID") else {
            return Ok(Hub {
                home,
                account,
                organization: None,
            });
        };
        let id: OrganizationId = id.trim().parse().map_err(HubSettingError::Organization)?;
        let role_name: RoleName = env("XACCT_SPOKE_ROLE_NAME")
            .unwrap_or_else(|| DEFAULT_SPOKE_ROLE_NAME.to_owned())
            .trim()
            .parse()
            .map_err(HubSettingError::SpokeRole)?;
        let concurrency = member_concurrency(env("XACCT_MEMBER_ACCOUNT_CONCURRENCY"))?;
        // The spoke role is in the partition the hub runs in, which its region tells.
        let partition = Partition::for_region(&xacct_aws::config::region(config));
        Ok(Hub {
            home,
            account,
            organization: Some(Organization {
                id,
                members: SdkMembers {
                    accounts: OrganizationAccounts::new(config),
                    sessions: SpokeSessions::new(
                        config,
                        Spoke {
                            partition,
                            role_name,
                        },
                    ),
                    build,
                },
                concurrency,
            }),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn member_concurrency_is_one_to_the_most_or_the_default() {
            assert_eq!(
                member_concurrency(None).ok(),
                Some(DEFAULT_MEMBER_CONCURRENCY)
            );
            assert_eq!(member_concurrency(Some(" 128 ".into())).ok(), Some(128));
            for bad in ["0", "129", "-1", "eight", ""] {
                let err = member_concurrency(Some(bad.into()))
                    .err()
                    .map(|e| e.to_string());
                assert_eq!(
                    err,
                    Some(format!(
                        "XACCT_MEMBER_ACCOUNT_CONCURRENCY `{bad}`: expected a whole number from 1 to 128"
                    ))
                );
            }
        }
    }
}
