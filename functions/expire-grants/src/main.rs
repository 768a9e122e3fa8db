//! expire-grants: run by the owner stack's schedule, revokes the owner grants whose expiry
//! has passed (xacct-managed roles only), a bounded number per run per account, in this
//! account and, in an organization's hub, in every member account through its spoke role.

use xacct_api::expire_grants::{Side, serve};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xacct_api::runtime::init_tracing();
    let hub = IamDeps::hub(&xacct_aws::config::load().await)?;
    serve(Side::Owner, hub).await
}
