//! list-resources: discovers the owner account's resources.

use lambda_http::{Error, service_fn};
use xacct_api::list_resources::{Deps, handle};
use xacct_aws::discovery::{Concurrency, Discoverer};

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    // XACCT_DISCOVERY_CONCURRENCY ("jobs,items" or one number) tunes calls in flight.
    let concurrency = xacct_api::runtime::env("XACCT_DISCOVERY_CONCURRENCY")
        .map(|v| {
            Concurrency::parse(&v).ok_or(format!(
                "XACCT_DISCOVERY_CONCURRENCY `{v}`: expected `jobs,items` or one number, 1 to 256"
            ))
        })
        .transpose()?
        .unwrap_or_default();
    let deps = Deps {
        discoverer: Discoverer::new(config).with_concurrency(concurrency),
    };
    lambda_http::run(service_fn(|req| handle(&deps, req))).await
}
