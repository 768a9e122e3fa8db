//! Does a resource exist in this account? One read call per resource kind xacct knows
//! (S3 bucket, EC2 instance, Lambda function, RDS DB instance and cluster), made in the
//! resource's own region.

use std::future::Future;

use aws_config::SdkConfig;
use xacct_policy::{AccountId, Arn};

use tokio::sync::OnceCell;

use crate::config::in_region;
use crate::error::AwsError;

/// The answer of an existence check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existence {
    Exists,
    Missing,
    /// xacct has no check for this kind of resource.
    NotChecked,
}

/// Checks that resources exist; a trait so handlers can be tested without AWS.
pub trait ResourceDirectory: Sync {
    fn exists(
        &self,
        arn: &Arn,
        resource_type: &str,
        owner: &AccountId,
    ) -> impl Future<Output = Result<Existence, AwsError>> + Send;

    /// Whether `region` exists and is enabled for this account: resources elsewhere are
    /// refused before any call is sent to a region that is not there.
    fn region_enabled(&self, region: &str) -> impl Future<Output = Result<bool, AwsError>> + Send;
}

/// The SDK-backed directory.
#[derive(Debug)]
pub struct SdkResourceDirectory {
    config: SdkConfig,
    /// The account's enabled regions, read once (`ec2:DescribeRegions` in the home region).
    regions: OnceCell<Vec<String>>,
}

impl SdkResourceDirectory {
    pub fn new(config: SdkConfig) -> Self {
        Self {
            config,
            regions: OnceCell::new(),
        }
    }
}

fn found<T>(
    result: Result<T, AwsError>,
    present: impl FnOnce(T) -> bool,
) -> Result<Existence, AwsError> {
    match result {
        Ok(v) => Ok(if present(v) {
            Existence::Exists
        } else {
            Existence::Missing
        }),
        Err(e) if e.is_not_found() => Ok(Existence::Missing),
        Err(e) => Err(e),
    }
}

impl ResourceDirectory for SdkResourceDirectory {
    async fn exists(
        &self,
        arn: &Arn,
        resource_type: &str,
        owner: &AccountId,
    ) -> Result<Existence, AwsError> {
        let region = arn.region();
        let id = arn
            .resource_type_and_id()
            .map_or(arn.resource(), |(_, id)| id);
        match (arn.service(), resource_type) {
            ("s3", "bucket") => {
                let client = aws_sdk_s3::Client::new(&self.config);
                // ExpectedBucketOwner makes a bucket of another account answer 403, not 200.
                let out = client
                    .head_bucket()
                    .bucket(arn.resource())
                    .expected_bucket_owner(owner.as_str())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("HeadBucket", e));
                match out {
                    Err(e) if e.code == "Forbidden" || e.code == "403" => Ok(Existence::Missing),
                    other => found(other, |_| true),
                }
            }
            ("ec2", "instance") => {
                let client = aws_sdk_ec2::Client::new(&in_region(&self.config, region));
                let out = client
                    .describe_instances()
                    .instance_ids(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeInstances", e));
                found(out, |o| {
                    o.reservations()
                        .iter()
                        .flat_map(|r| r.instances())
                        .any(|i| {
                            i.state()
                                .and_then(|s| s.name())
                                .is_none_or(|n| n.as_str() != "terminated")
                        })
                })
            }
            ("lambda", "function") => {
                // ListTags, not GetFunction: GetFunction returns the function's environment
                // variables (often secrets) and a link to its code.
                let client = aws_sdk_lambda::Client::new(&in_region(&self.config, region));
                let out = client
                    .list_tags()
                    .resource(arn.to_string())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListTags", e));
                found(out, |_| true)
            }
            ("rds", "db") => {
                let client = aws_sdk_rds::Client::new(&in_region(&self.config, region));
                let out = client
                    .describe_db_instances()
                    .db_instance_identifier(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeDBInstances", e));
                found(out, |o| !o.db_instances().is_empty())
            }
            ("rds", "cluster") => {
                let client = aws_sdk_rds::Client::new(&in_region(&self.config, region));
                let out = client
                    .describe_db_clusters()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeDBClusters", e));
                found(out, |o| !o.db_clusters().is_empty())
            }
            _ => Ok(Existence::NotChecked),
        }
    }

    async fn region_enabled(&self, region: &str) -> Result<bool, AwsError> {
        let regions = self
            .regions
            .get_or_try_init(|| async {
                let out = aws_sdk_ec2::Client::new(&self.config)
                    .describe_regions()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeRegions", e))?;
                // Without AllRegions AWS lists only enabled regions; emulators list every
                // region, so the opt-in status decides.
                Ok::<_, AwsError>(
                    out.regions()
                        .iter()
                        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
                        .filter_map(|r| r.region_name().map(str::to_owned))
                        .collect(),
                )
            })
            .await?;
        Ok(regions.iter().any(|r| r == region))
    }
}
