//! The floor of a function without AWS clients (list-permissions): lambda_http alone.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_bench_floors::serve(|| async { Ok(()) }).await
}
