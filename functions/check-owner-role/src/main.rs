//! check-owner-role: may a requestor principal assume an owner role, what may the role do, and has it drifted. Read-only.

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;
use xacct_aws::resources::SdkResourceDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let deps = IamDeps {
        roles: IamRoleStore::new(aws_sdk_iam::Client::new(&config)),
        account: AccountLookup::new(&config),
        permissions_boundary: xacct_api::runtime::permissions_boundary()?,
    };
    let resources = SdkResourceDirectory::new(config.clone());
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::check_owner_role(&deps, &resources, req)
    }))
    .await
}
