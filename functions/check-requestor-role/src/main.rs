//! check-requestor-role: the requestor side may assume the owner role and nothing else. Read-only.

use lambda_http::{Error, service_fn};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let deps = IamDeps::load().await?;
    lambda_http::run(service_fn(|req| {
        xacct_api::requestor_lifecycle::check_requestor_role(&deps, req)
    }))
    .await
}
