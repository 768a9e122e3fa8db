//! create-requestor-resources: the requestor-side role a service assumes to reach the owner
//! role.

use lambda_http::{Error, service_fn};
use xacct_api::create_requestor_resources::{Deps, handle};
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let deps = Deps {
        roles: IamRoleStore::from_config(&config),
        account: AccountLookup::new(&config),
        permissions_boundary: xacct_api::runtime::permissions_boundary()?,
    };
    lambda_http::run(service_fn(|req| handle(&deps, req))).await
}
