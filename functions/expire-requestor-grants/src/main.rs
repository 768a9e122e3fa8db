//! expire-requestor-grants: run by the requestor stack's schedule, revokes the requestor roles
//! whose recorded expiry has passed (xacct-managed roles only), a bounded number per run.

use xacct_api::expire_grants::{Side, serve};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    serve(Side::Requestor).await
}
