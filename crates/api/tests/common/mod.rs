//! What the handler tests share: the handlers' dependencies over the in-memory IAM of
//! account 111111111111, alone or as a hub, an organization of in-memory member accounts,
//! and reading an answer.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use lambda_http::Body;
use serde_json::Value;
use xacct_api::ApiError;
use xacct_api::hub::{Hub, InAccount, Members, Proof};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::AwsError;
use xacct_aws::error::AwsErrorKind;
use xacct_aws::fake::FakeIam;
use xacct_aws::identity::AccountLookup;
use xacct_aws::organization::MemberAccount;
use xacct_policy::AccountId;

/// A configuration that is never called: every account is known.
pub fn config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

/// Account `id`, known without asking STS.
pub fn lookup(id: &str) -> AccountLookup {
    AccountLookup::known(&config(), id.parse().unwrap())
}

/// The IAM-only dependencies in `account`.
pub fn deps_in(account: &str) -> IamDeps<FakeIam> {
    IamDeps {
        roles: FakeIam::new(account),
        account: lookup(account),
        permissions_boundary: None,
    }
}

pub fn deps() -> IamDeps<FakeIam> {
    deps_in("111111111111")
}

/// `home` served by a deployment that is not a hub, in account 111111111111.
pub fn alone<D>(home: D) -> Hub<D> {
    Hub::alone(home, lookup("111111111111"))
}

/// An answer's status and JSON body (`null` when it has no text body).
pub fn json_of(r: lambda_http::Response<Body>) -> (u16, Value) {
    let status = r.status().as_u16();
    let body = match r.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (status, body)
}

/// An organization of in-memory members: each reachable member's dependencies, the sessions
/// opened, and the accounts `ListAccounts` lists.
pub struct FakeOrg<D> {
    pub members: BTreeMap<AccountId, D>,
    /// Assumed, never proven: as the local stack's STS assumes any role, but the role
    /// cannot read itself, so it is not there.
    pub unproven: BTreeMap<AccountId, D>,
    listed: Vec<MemberAccount>,
    opened: Mutex<Vec<(String, String)>>,
}

impl<D> FakeOrg<D> {
    /// The organization `ListAccounts` lists as `listed`, with `members` reachable.
    pub fn new(listed: &[&str], members: Vec<(&str, D)>) -> Self {
        let listed = listed
            .iter()
            .map(|id| MemberAccount {
                id: id.parse().unwrap(),
                name: format!("account {id}"),
                email: Some(format!("{id}@example.com")),
                status: "ACTIVE".into(),
            })
            .collect();
        Self {
            members: members
                .into_iter()
                .map(|(id, d)| (id.parse().unwrap(), d))
                .collect(),
            listed,
            unproven: BTreeMap::new(),
            opened: Mutex::new(Vec::new()),
        }
    }

    pub fn opened(&self) -> Vec<(String, String)> {
        self.opened.lock().unwrap().clone()
    }
}

impl<D: Send + Sync + 'static> Members<D> for FakeOrg<D> {
    async fn accounts(&self) -> Result<Vec<MemberAccount>, AwsError> {
        Ok(self.listed.clone())
    }

    async fn open(&self, account: &AccountId, session: &str) -> Result<InAccount<'_, D>, ApiError> {
        self.opened
            .lock()
            .unwrap()
            .push((account.to_string(), session.to_owned()));
        self.members
            .get(account)
            .map(InAccount::Shared)
            .ok_or_else(|| {
                let missing = AwsError::new(
                    "GetRole",
                    "NoSuchEntity",
                    "the role xacct-spoke cannot be found",
                    AwsErrorKind::NotFound,
                );
                ApiError::spoke_unreachable(account, "xacct-spoke", &missing)
            })
    }

    async fn open_reading(
        &self,
        account: &AccountId,
        session: &str,
    ) -> Result<(InAccount<'_, D>, Proof<'_>), ApiError> {
        let Some(deps) = self.unproven.get(account) else {
            return Ok((
                self.open(account, session).await?,
                Box::pin(async { Ok(()) }),
            ));
        };
        let account = account.clone();
        let proof: Proof<'_> = Box::pin(async move {
            // Fails after the reads have started, as a GetRole answered later than them.
            tokio::task::yield_now().await;
            let missing = AwsError::new(
                "GetRole",
                "NoSuchEntity",
                "the role xacct-spoke cannot be found",
                AwsErrorKind::NotFound,
            );
            Err(ApiError::spoke_unreachable(
                &account,
                "xacct-spoke",
                &missing,
            ))
        });
        Ok((InAccount::Shared(deps), proof))
    }
}
