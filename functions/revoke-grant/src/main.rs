//! revoke-grant: deletes an owner grant's role and policies (xacct-managed roles only), in
//! this account or in a member account of the organization.

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let hub = IamDeps::hub(&xacct_aws::config::load().await)?;
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::revoke_grant(&hub, req)
    }))
    .await
}
