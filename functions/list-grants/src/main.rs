//! list-grants: every grant (owner role) xacct manages in this account, with its resource, requestor, actions and last use.

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let deps = IamDeps {
        roles: IamRoleStore::new(aws_sdk_iam::Client::new(&config)),
        account: AccountLookup::new(&config),
        permissions_boundary: xacct_api::runtime::permissions_boundary()?,
    };
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::list_grants(&deps, req)
    }))
    .await
}
