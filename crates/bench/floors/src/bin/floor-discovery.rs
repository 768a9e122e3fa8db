//! The floor of list-resources: aws-config with the clients discovery uses (S3, EC2, Lambda,
//! RDS, the Tagging API); each request lists the account's regions, discovery's first call.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = xacct_bench_floors::sdk_config().await;
    let _clients = (
        aws_sdk_s3::Client::new(&config),
        aws_sdk_lambda::Client::new(&config),
        aws_sdk_rds::Client::new(&config),
        aws_sdk_resourcegroupstagging::Client::new(&config),
    );
    let ec2 = aws_sdk_ec2::Client::new(&config);
    xacct_bench_floors::serve(|| async {
        ec2.describe_regions().send().await?;
        Ok(())
    })
    .await
}
