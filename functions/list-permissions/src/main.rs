//! list-permissions: the actions that apply to a resource. No AWS clients: the catalog is
//! compiled into the binary.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    lambda_http::run(service_fn(xacct_api::list_permissions::handle)).await
}
