//! check-owner-role: may a requestor principal assume an owner role, what may the role do, and has it drifted. Read-only.

use lambda_http::{Error, service_fn};
use xacct_api::hub::hub_from_env;
use xacct_api::lifecycle::IamDeps;
use xacct_api::owner_lifecycle::CheckDeps;
use xacct_aws::resources::SdkResourceDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let home = CheckDeps {
        iam: IamDeps::from_config(&config)?,
        resources: SdkResourceDirectory::new(config.clone()),
    };
    let hub = hub_from_env(
        &config,
        home,
        Box::new(|session, account| CheckDeps {
            iam: IamDeps::in_member(session, account),
            resources: SdkResourceDirectory::new(session.config.clone()),
        }),
    )?;
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::check_owner_role(&hub, req)
    }))
    .await
}
