//! revoke-grant: deletes an owner grant's role and policies (xacct-managed roles only).

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let deps = IamDeps::load().await?;
    lambda_http::run(service_fn(|req| {
        xacct_api::owner_lifecycle::revoke_grant(&deps, req)
    }))
    .await
}
