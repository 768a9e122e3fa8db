//! expire-grants: run by the owner stack's schedule, revokes the owner grants whose expiry
//! has passed (xacct-managed roles only), a bounded number per run.

use xacct_api::expire_grants::{Side, serve};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    serve(Side::Owner).await
}
