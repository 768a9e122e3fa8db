//! The floor of the IAM functions (the creates, checks, revokes and list-grants): aws-config
//! with an IAM and an STS client; each request asks STS who it is.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = xacct_bench_floors::sdk_config().await;
    let _iam = aws_sdk_iam::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    xacct_bench_floors::serve(|| async {
        sts.get_caller_identity().send().await?;
        Ok(())
    })
    .await
}
