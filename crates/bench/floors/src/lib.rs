//! What every floor binary shares: the runtime's default logging and a handler that answers
//! 200 with a fixed body, after at most one AWS call. The floors are what the functions'
//! start-up would cost with nothing of xacct's in it; the bench reports each function's init
//! and cold start as a ratio to its floor.

use std::future::Future;

use lambda_http::{Body, Error, Request, Response, service_fn};

/// Runs the runtime loop; `first_call` is made on every request (the SDK floors make one
/// cheap read, so that their first request pays the SDK's first connection, credentials and
/// signing, as a function's first request does).
pub async fn serve<F, Fut>(first_call: F) -> Result<(), Error>
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = Result<(), Error>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let first_call = &first_call;
    lambda_http::run(service_fn(move |_request: Request| async move {
        first_call().await?;
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from("{\"floor\":true}"))?,
        )
    }))
    .await
}

/// The SDK configuration as aws-config builds it by default.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
