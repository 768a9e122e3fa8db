//! `list-accounts` (hub only): the organization's accounts, and for each whether the hub can
//! work there through its spoke role, tried with the same session a request would open.

use futures::stream::{self, StreamExt};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use xacct_aws::organization::MemberAccount;
use xacct_policy::AccountId;

use crate::error::{ApiError, Failure};
use crate::http::serve_query;
use crate::hub::{Hub, Members};

/// The query parameters `list-accounts` takes: none.
pub const PARAMETERS: &[&str] = &[];

/// Whether the hub can work in an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpokeState {
    /// The spoke role was assumed and read itself.
    Reachable,
    /// The spoke role could not be assumed or is not there (the member stack is missing),
    /// or the account is not active.
    Unreachable,
    /// The hub's own account: requests there need no spoke role.
    Hub,
}

/// One account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountView {
    #[schema(value_type = crate::openapi::AccountId)]
    pub account_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// As Organizations reports it: `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...
    pub status: String,
    pub spoke: SpokeState,
    /// Why the spoke is unreachable: the error code of the failed call, or
    /// `AccountNotActive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The `list-accounts` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListAccountsResponse {
    #[schema(pattern = "^o-[a-z0-9]{10,32}$")]
    pub organization_id: String,
    /// Sorted by account ID.
    pub accounts: Vec<AccountView>,
}

/// The 409 for a deployment that is not a hub.
pub fn no_organization() -> ApiError {
    ApiError::new(
        Failure::Conflict,
        "NotAHub",
        "this deployment is not an organization hub (its OrganizationId is empty)",
    )
}

/// Every account of the organization with its spoke's reachability, tried
/// `MemberAccountConcurrency` accounts at a time.
pub async fn list_accounts_answer<D: Sync + 'static, M: Members<D>>(
    hub: &Hub<D, M>,
    caller: &str,
) -> Result<ListAccountsResponse, ApiError> {
    let org = hub.organization.as_ref().ok_or_else(no_organization)?;
    let home = hub.account.account().await?;
    let accounts = org.members.accounts().await?;
    let session = xacct_policy::organization::session_name(caller);
    // The futures are made first and the stream only polls them: a stream over a closure
    // that borrows would not be `Send` for every lifetime, which the runtime needs.
    let checks: Vec<_> = accounts
        .into_iter()
        .map(|account| view(&org.members, account, &home, &session))
        .collect();
    let mut views: Vec<AccountView> = stream::iter(checks)
        .buffer_unordered(org.concurrency.max(1))
        .collect()
        .await;
    views.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    tracing::info!(
        caller,
        accounts = views.len(),
        reachable = views
            .iter()
            .filter(|v| v.spoke == SpokeState::Reachable)
            .count(),
        "list-accounts"
    );
    Ok(ListAccountsResponse {
        organization_id: org.id.to_string(),
        accounts: views,
    })
}

/// One account with its spoke's reachability.
async fn view<D: Sync + 'static, M: Members<D>>(
    members: &M,
    account: MemberAccount,
    home: &AccountId,
    session: &str,
) -> AccountView {
    let (spoke, reason) = if &account.id == home {
        (SpokeState::Hub, None)
    } else if !account.is_active() {
        (SpokeState::Unreachable, Some("AccountNotActive".to_owned()))
    } else {
        match members.open(&account.id, session).await {
            Ok(_) => (SpokeState::Reachable, None),
            Err(e) => (SpokeState::Unreachable, Some(e.code)),
        }
    };
    AccountView {
        account_id: account.id.to_string(),
        name: account.name,
        email: account.email,
        status: account.status,
        spoke,
        reason,
    }
}

/// The Lambda handler.
pub async fn handle<D: Sync + 'static, M: Members<D>>(
    hub: &Hub<D, M>,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(
        serve_query(req, "list-accounts", PARAMETERS, |caller, _| async move {
            list_accounts_answer(hub, &caller).await
        })
        .await,
    )
}
