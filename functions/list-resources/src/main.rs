//! list-resources: discovers the owner account's resources.

use lambda_http::{Error, service_fn};
use xacct_api::list_resources::{Deps, handle};
use xacct_aws::discovery::Discoverer;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let deps = Deps {
        discoverer: Discoverer::new(config),
    };
    lambda_http::run(service_fn(|req| handle(&deps, req))).await
}
