//! expire-grants: run by the owner stack's schedule, revokes the owner grants whose expiry
//! has passed (xacct-managed roles only), a bounded number per run per account, in this
//! account and, in an organization's hub, in every member account through its spoke role.

use xacct_api::expire_grants::{Side, serve};
use xacct_api::hub::hub_from_env;
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let hub = hub_from_env(
        &config,
        IamDeps::from_config(&config)?,
        Box::new(IamDeps::in_member),
    )?;
    serve(Side::Owner, hub).await
}
