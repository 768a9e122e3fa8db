//! revoke-requestor-resources: deletes the requestor role (or a person's xacct policy).

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let deps = IamDeps::load().await?;
    lambda_http::run(service_fn(|req| {
        xacct_api::requestor_lifecycle::revoke_requestor_resources(&deps, req)
    }))
    .await
}
