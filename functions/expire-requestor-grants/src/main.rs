//! expire-requestor-grants: run by the requestor stack's schedule, revokes the requestor roles
//! whose recorded expiry has passed (xacct-managed roles only), a bounded number per run.

use xacct_api::expire_grants::{Side, serve};
use xacct_api::hub::Hub;
use xacct_api::lifecycle::IamDeps;
use xacct_aws::identity::AccountLookup;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let home = IamDeps::from_config(&config)?;
    serve(
        Side::Requestor,
        Hub::alone(home, AccountLookup::new(&config)),
    )
    .await
}
