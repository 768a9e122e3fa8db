//! The floor of create-owner-role: aws-config with the clients of IAM, STS and the resource
//! services whose existence it checks (S3, EC2, Lambda, RDS); each request asks STS who it is.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = xacct_bench_floors::sdk_config().await;
    let _clients = (
        aws_sdk_iam::Client::new(&config),
        aws_sdk_s3::Client::new(&config),
        aws_sdk_ec2::Client::new(&config),
        aws_sdk_lambda::Client::new(&config),
        aws_sdk_rds::Client::new(&config),
    );
    let sts = aws_sdk_sts::Client::new(&config);
    xacct_bench_floors::serve(|| async {
        sts.get_caller_identity().send().await?;
        Ok(())
    })
    .await
}
