//! Does a resource exist in this account? One read call per resource kind xacct knows
//! (S3 bucket, EC2 instance, Lambda function, RDS DB instance and cluster), made in the
//! resource's own region. And what the resource's own side says about a grant: a bucket's
//! encryption key and policy, a function's policy, a database's IAM logins.

use std::future::Future;

use aws_config::SdkConfig;
use xacct_policy::database::DatabaseFacts;
use xacct_policy::encryption::{BucketEncryption, KeyPolicy, KmsKey};
use xacct_policy::resource_side::ResourceSide;
use xacct_policy::{AccountId, Arn, PolicyDocument};

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

    /// What the resource's own side says about a grant on it. Reads only; what cannot be
    /// read is listed in the answer's `unread`, never an error, so a grant is still made.
    fn resource_side(
        &self,
        arn: &Arn,
        resource_type: &str,
    ) -> impl Future<Output = ResourceSide> + Send;
}

/// Records a read that failed, as `Operation (code)`.
fn unread<T>(list: &mut Vec<String>, e: &AwsError) -> Option<T> {
    list.push(format!("`{}` (`{}`)", e.operation, e.code));
    None
}

/// A policy document AWS returned as text; one that does not parse is recorded as unread.
fn parsed(text: Option<&str>, operation: &str, list: &mut Vec<String>) -> Option<PolicyDocument> {
    let text = text?;
    match PolicyDocument::from_json(text) {
        Ok(doc) => Some(doc),
        Err(e) => {
            list.push(format!("`{operation}` (the policy does not parse: {e})"));
            None
        }
    }
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

impl SdkResourceDirectory {
    /// A bucket's region, default encryption (its KMS key resolved and its policy read) and
    /// bucket policy.
    async fn bucket_side(&self, bucket: &str, side: &mut ResourceSide) {
        let home = aws_sdk_s3::Client::new(&self.config);
        let located = home
            .get_bucket_location()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetBucketLocation", e));
        let region = match located {
            // An empty constraint is us-east-1; `EU` is eu-west-1's old name.
            Ok(o) => match o.location_constraint().map(|c| c.as_str()) {
                None | Some("") => "us-east-1".to_owned(),
                Some("EU") => "eu-west-1".to_owned(),
                Some(r) => r.to_owned(),
            },
            Err(e) => {
                unread::<()>(&mut side.unread, &e);
                crate::config::region(&self.config)
            }
        };
        let regional = in_region(&self.config, &region);
        let s3 = aws_sdk_s3::Client::new(&regional);
        let encryption = s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetBucketEncryption", e));
        side.encryption = match encryption {
            Ok(o) => {
                let default = o
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .and_then(|r| r.apply_server_side_encryption_by_default());
                match default {
                    Some(d) if d.sse_algorithm().as_str().starts_with("aws:kms") => {
                        Some(match d.kms_master_key_id() {
                            None | Some("") => BucketEncryption::AwsManagedKey,
                            Some(key) => self.key(&regional, key).await,
                        })
                    }
                    _ => Some(BucketEncryption::S3Managed),
                }
            }
            Err(e) if e.code == "ServerSideEncryptionConfigurationNotFoundError" => {
                Some(BucketEncryption::S3Managed)
            }
            Err(e) => unread(&mut side.unread, &e),
        };
        let policy = s3
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetBucketPolicy", e));
        side.policy = match policy {
            Ok(o) => parsed(o.policy(), "GetBucketPolicy", &mut side.unread),
            Err(e) if e.code == "NoSuchBucketPolicy" => None,
            Err(e) => unread(&mut side.unread, &e),
        };
        side.region = Some(region);
    }

    /// The key a bucket names (ID, ARN, alias name or alias ARN): resolved with DescribeKey,
    /// AWS managed or not, and its key policy. A key of another account usually cannot be
    /// described; named by its ARN it is still known.
    async fn key(&self, config: &SdkConfig, configured: &str) -> BucketEncryption {
        let kms = aws_sdk_kms::Client::new(config);
        let described = kms
            .describe_key()
            .key_id(configured)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeKey", e));
        let (arn, why) = match described {
            Ok(o) => {
                let meta = o.key_metadata();
                if meta.and_then(|m| m.key_manager())
                    == Some(&aws_sdk_kms::types::KeyManagerType::Aws)
                {
                    return BucketEncryption::AwsManagedKey;
                }
                (
                    meta.and_then(|m| m.arn())
                        .and_then(|a| a.parse::<Arn>().ok()),
                    None,
                )
            }
            Err(e) => (
                configured
                    .parse::<Arn>()
                    .ok()
                    .filter(|a| a.resource().starts_with("key/")),
                Some(format!("`DescribeKey` (`{}`)", e.code)),
            ),
        };
        let policy = match (&arn, why) {
            (_, Some(why)) => KeyPolicy::NotRead(why),
            (None, None) => KeyPolicy::NotRead("no key ARN".to_owned()),
            (Some(arn), None) => {
                let out = kms
                    .get_key_policy()
                    .key_id(arn.to_string())
                    .policy_name("default")
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetKeyPolicy", e));
                match out {
                    Ok(o) => match o.policy().map(PolicyDocument::from_json) {
                        Some(Ok(doc)) => KeyPolicy::Read(doc),
                        Some(Err(e)) => {
                            KeyPolicy::NotRead(format!("the key policy does not parse: {e}"))
                        }
                        None => KeyPolicy::NotRead("`GetKeyPolicy` returned no policy".to_owned()),
                    },
                    Err(e) => KeyPolicy::NotRead(format!("`GetKeyPolicy` (`{}`)", e.code)),
                }
            }
        };
        BucketEncryption::CustomerKey(KmsKey {
            configured: configured.to_owned(),
            arn,
            policy,
        })
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

    async fn resource_side(&self, arn: &Arn, resource_type: &str) -> ResourceSide {
        let mut side = ResourceSide::default();
        let id = arn
            .resource_type_and_id()
            .map_or(arn.resource(), |(_, id)| id);
        match (arn.service(), resource_type) {
            ("s3", "bucket") => self.bucket_side(arn.resource(), &mut side).await,
            ("lambda", "function") => {
                let client = aws_sdk_lambda::Client::new(&in_region(&self.config, arn.region()));
                let out = client
                    .get_policy()
                    .function_name(arn.to_string())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetPolicy", e));
                side.policy = match out {
                    Ok(o) => parsed(o.policy(), "GetPolicy", &mut side.unread),
                    // A function without a policy answers ResourceNotFoundException.
                    Err(e) if e.is_not_found() => None,
                    Err(e) => unread(&mut side.unread, &e),
                };
            }
            ("rds", "db") => {
                let client = aws_sdk_rds::Client::new(&in_region(&self.config, arn.region()));
                let out = client
                    .describe_db_instances()
                    .db_instance_identifier(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeDBInstances", e));
                match out {
                    Ok(o) => {
                        side.database = o.db_instances().first().and_then(|d| {
                            Some(DatabaseFacts {
                                resource_id: d.dbi_resource_id()?.to_owned(),
                                iam_auth: d.iam_database_authentication_enabled().unwrap_or(false),
                                endpoint: d.endpoint().and_then(|e| e.address()).map(str::to_owned),
                                port: d.endpoint().and_then(|e| e.port()),
                            })
                        });
                    }
                    Err(e) => side.database = unread(&mut side.unread, &e),
                }
            }
            ("rds", "cluster") => {
                let client = aws_sdk_rds::Client::new(&in_region(&self.config, arn.region()));
                let out = client
                    .describe_db_clusters()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeDBClusters", e));
                match out {
                    Ok(o) => {
                        side.database = o.db_clusters().first().and_then(|c| {
                            Some(DatabaseFacts {
                                resource_id: c.db_cluster_resource_id()?.to_owned(),
                                iam_auth: c.iam_database_authentication_enabled().unwrap_or(false),
                                endpoint: c.endpoint().map(str::to_owned),
                                port: c.port(),
                            })
                        });
                    }
                    Err(e) => side.database = unread(&mut side.unread, &e),
                }
            }
            _ => {}
        }
        side
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
