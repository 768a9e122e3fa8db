//! list-accounts (hub only): the organization's accounts and whether the spoke role is
//! reachable in each.

use lambda_http::{Error, service_fn};
use xacct_api::hub::hub_from_env;
use xacct_api::list_accounts::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    // Reaching an account needs only the session; nothing is built in it.
    let hub = hub_from_env(&config, (), Box::new(|_, _| ()))?;
    lambda_http::run(service_fn(|req| handle(&hub, req))).await
}
