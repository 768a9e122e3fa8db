//! list-resources: discovers the resources of the owner account, or of member accounts of
//! the organization.

use lambda_http::{Error, service_fn};
use xacct_api::hub::hub_from_env;
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
    let home = Deps {
        discoverer: Discoverer::new(config.clone()).with_concurrency(concurrency),
    };
    let hub = hub_from_env(
        &config,
        home,
        Box::new(move |session, _| Deps {
            discoverer: Discoverer::new(session.config.clone()).with_concurrency(concurrency),
        }),
    )?;
    lambda_http::run(service_fn(|req| handle(&hub, req))).await
}
