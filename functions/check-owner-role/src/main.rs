//! check-owner-role: may a requestor principal assume an owner role, what may the role do, and has it drifted. Read-only.

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;
use xacct_aws::resources::SdkResourceDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let deps = IamDeps::from_config(&config)?;
    let resources = SdkResourceDirectory::new(config);
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::check_owner_role(&deps, &resources, req)
    }))
    .await
}
