//! expire-grants: run by the owner stack's schedule, revokes the owner grants whose expiry
//! has passed (xacct-managed roles only), a bounded number per run.

use lambda_http::{Error, LambdaEvent, service_fn};
use xacct_api::expire_grants::{Side, SweepEvent, handle, sweep_limit};
use xacct_api::lifecycle::IamDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let deps = IamDeps::load().await?;
    let limit = sweep_limit()?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<SweepEvent>| {
        handle(&deps, Side::Owner, limit, event)
    }))
    .await
}
