//! AWS for the function benches: a moto server of this run's own on a free loopback port,
//! the owner and requestor accounts in it (moto's `sts:AssumeRole` files the issued keys
//! under the role's account), the resources the functions work on, and every read API
//! called once before anything is measured (moto loads a service on its first call, up to
//! ~250 ms for RDS, which would otherwise count as a function's first request).

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use tokio::process::{Child, Command};
use xacct_aws::error::AwsError;
use xacct_policy::{AccountId, Arn, Partition};

use crate::error::{BenchError, Context, Result};

pub const REGION: &str = "us-east-1";
pub const OTHER_REGION: &str = "eu-west-1";
pub const OWNER_ACCOUNT: &str = "111111111111";
pub const REQUESTOR_ACCOUNT: &str = "222222222222";
/// The bucket the recorded events name.
pub const BENCH_BUCKET: &str = "xacct-bench-bucket";
/// A second bucket, in the other region (the load run grants on it).
pub const EU_BUCKET: &str = "xacct-bench-logs-eu";
/// The seeded Lambda functions: (region, name).
pub const BENCH_FUNCTIONS: [(&str, &str); 2] = [
    (REGION, "xacct-bench-fn-1"),
    (OTHER_REGION, "xacct-bench-fn-2"),
];
/// EC2 instances seeded per region.
pub const BENCH_INSTANCES: [(&str, i32); 2] = [(REGION, 2), (OTHER_REGION, 1)];
/// Where xacct puts every role it writes.
pub const ROLE_PATH: &str = "/xacct/";
/// Ports a developer's local stack may use.
const RESERVED_PORTS: [u16; 4] = [5000, 5001, 9000, 9001];
// Static keys only for moto's sts:AssumeRole; moto accepts any key. Not credentials.
const BOOTSTRAP_KEY_ID: &str = "AKIAXACCTBENCHEXAMPLE";
const BOOTSTRAP_SECRET: &str = "xacct-bench-bootstrap-secret-EXAMPLE";
/// moto's account for keys it does not know.
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

/// The owner or the requestor side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Owner,
    Requestor,
}

impl Side {
    pub fn account(self) -> &'static str {
        match self {
            Self::Owner => OWNER_ACCOUNT,
            Self::Requestor => REQUESTOR_ACCOUNT,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Requestor => "requestor",
        }
    }
}

/// An xacct role's ARN: `arn:aws:iam::<account>:role/xacct/<name>`.
pub fn role_arn(side: Side, name: &str) -> Result<Arn> {
    let account: AccountId = side
        .account()
        .parse()
        .context(|| format!("account {}", side.account()))?;
    Arn::iam(Partition::Aws, &account, "role", ROLE_PATH, name)
        .context(|| format!("a role ARN for `{name}`"))
}

/// A bucket's ARN.
pub fn bucket_arn(name: &str) -> Result<Arn> {
    Arn::from_parts(Partition::Aws, "s3", "", None, name)
        .context(|| format!("a bucket ARN for `{name}`"))
}

/// A Lambda function's ARN in `side`'s account.
pub fn function_arn(side: Side, region: &str, name: &str) -> Result<Arn> {
    let account: AccountId = side
        .account()
        .parse()
        .context(|| format!("account {}", side.account()))?;
    Arn::from_parts(
        Partition::Aws,
        "lambda",
        region,
        Some(&account),
        &["function:", name].concat(),
    )
    .context(|| format!("a function ARN for `{name}`"))
}

/// A moto server, stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    _child: Child,
    pub endpoint: String,
}

/// A free loopback port (not one of a local stack's).
pub fn free_port() -> Result<u16> {
    for _ in 0..20 {
        let listener =
            StdListener::bind("127.0.0.1:0").context(|| "find a free port".to_owned())?;
        let port = listener
            .local_addr()
            .context(|| "find a free port".to_owned())?
            .port();
        if !RESERVED_PORTS.contains(&port) {
            return Ok(port);
        }
    }
    Err(BenchError::new("no free loopback port"))
}

impl Moto {
    /// Starts `program` (moto_server) on `port` (0: a free one) and waits until it answers.
    pub async fn start(program: &Path, port: u16, log: &Path) -> Result<Self> {
        let port = if port == 0 { free_port()? } else { port };
        let log_file =
            std::fs::File::create(log).context(|| format!("create {}", log.display()))?;
        let err_file = log_file
            .try_clone()
            .context(|| format!("open {}", log.display()))?;
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .kill_on_drop(true)
            .spawn()
            .context(|| format!("start {} (make venv installs it)", program.display()))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Self {
                    _child: child,
                    endpoint,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(BenchError::new(format!(
                    "moto exited at start ({status}); see {}",
                    log.display()
                )));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(BenchError::new(format!(
                    "moto did not answer within 60 s; see {}",
                    log.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One account's credentials in moto, and a configuration that uses them.
#[derive(Debug, Clone)]
pub struct Account {
    pub side: Side,
    pub credentials: Credentials,
    pub endpoint: String,
    pub config: SdkConfig,
}

async fn sdk_config(endpoint: &str, credentials: Credentials, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

impl Account {
    /// Assumes a role in `side`'s account and checks that moto files the keys there.
    pub async fn assume(endpoint: &str, side: Side) -> Result<Self> {
        let bootstrap = Credentials::new(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, None, None, "bench");
        let sts = aws_sdk_sts::Client::new(&sdk_config(endpoint, bootstrap, REGION).await);
        let role = Arn::iam(
            Partition::Aws,
            &side.account().parse().context(|| "account".to_owned())?,
            "role",
            "/",
            "x",
        )
        .context(|| "role ARN".to_owned())?;
        let issued = sts
            .assume_role()
            .role_arn(role.to_string())
            .role_session_name("xacct-bench")
            .duration_seconds(43_200)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AssumeRole", e))
            .context(|| format!("assume a role in the {} account", side.as_str()))?;
        let issued = issued
            .credentials()
            .context(|| "AssumeRole returned no credentials".to_owned())?;
        let credentials = Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            None,
            "moto",
        );
        let config = sdk_config(endpoint, credentials.clone(), REGION).await;
        let seen = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))
            .context(|| format!("check the {} account", side.as_str()))?;
        let seen = seen.account().unwrap_or_default();
        if seen != side.account() {
            let hint = if seen == MOTO_DEFAULT_ACCOUNT {
                " (moto's default account: the keys were not recognised)"
            } else {
                ""
            };
            return Err(BenchError::new(format!(
                "the {} credentials act in account {seen}, not {}{hint}",
                side.as_str(),
                side.account()
            )));
        }
        Ok(Self {
            side,
            credentials,
            endpoint: endpoint.to_owned(),
            config,
        })
    }

    /// The same configuration in another region.
    pub fn in_region(&self, region: &str) -> SdkConfig {
        xacct_aws::config::in_region(&self.config, region)
    }

    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.in_region(region))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The AWS variables a function runs with: these keys, the region, moto as endpoint.
    pub fn environment(&self) -> Vec<(String, String)> {
        let c = &self.credentials;
        [
            ("AWS_ACCESS_KEY_ID", c.access_key_id().to_owned()),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key().to_owned()),
            (
                "AWS_SESSION_TOKEN",
                c.session_token().unwrap_or_default().to_owned(),
            ),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// What the owner account holds after seeding.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub buckets: usize,
    pub instances: Vec<(String, String)>,
    pub functions: usize,
}

impl Seeded {
    /// The first instance's ARN (the load run grants on it).
    pub fn instance_arn(&self) -> Result<Arn> {
        let (region, id) = self
            .instances
            .first()
            .context(|| "no EC2 instance was seeded".to_owned())?;
        let owner: AccountId = OWNER_ACCOUNT.parse().context(|| "account".to_owned())?;
        Arn::from_parts(
            Partition::Aws,
            "ec2",
            region,
            Some(&owner),
            &["instance/", id].concat(),
        )
        .context(|| format!("an instance ARN for `{id}`"))
    }
}

/// The owner's buckets, EC2 instances and Lambda functions.
pub async fn seed_owner(owner: &Account) -> Result<Seeded> {
    let mut seeded = Seeded::default();
    owner
        .s3(REGION)
        .create_bucket()
        .bucket(BENCH_BUCKET)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateBucket", e))
        .context(|| format!("create {BENCH_BUCKET}"))?;
    let eu = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
            OTHER_REGION,
        ))
        .build();
    owner
        .s3(OTHER_REGION)
        .create_bucket()
        .bucket(EU_BUCKET)
        .create_bucket_configuration(eu)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateBucket", e))
        .context(|| format!("create {EU_BUCKET}"))?;
    seeded.buckets = 2;
    for (region, count) in BENCH_INSTANCES {
        let ec2 = aws_sdk_ec2::Client::new(&owner.in_region(region));
        let x86 = aws_sdk_ec2::types::Filter::builder()
            .name("architecture")
            .values("x86_64")
            .build();
        let images = ec2
            .describe_images()
            .owners("amazon")
            .filters(x86)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeImages", e))
            .context(|| format!("list AMIs in {region}"))?;
        let image = images
            .images()
            .iter()
            .find_map(|i| i.image_id())
            .context(|| format!("moto lists no x86_64 Amazon AMI in {region}"))?;
        let name = aws_sdk_ec2::types::Tag::builder()
            .key("Name")
            .value("xacct-bench")
            .build();
        let run = ec2
            .run_instances()
            .image_id(image)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(count)
            .max_count(count)
            .tag_specifications(
                aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                    .tags(name)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("RunInstances", e))
            .context(|| format!("start instances in {region}"))?;
        seeded.instances.extend(
            run.instances()
                .iter()
                .filter_map(|i| i.instance_id())
                .map(|id| (region.to_owned(), id.to_owned())),
        );
    }
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws_sdk_iam::Client::new(&owner.config)
        .create_role()
        .role_name("xacct-bench-lambda-exec")
        .path("/service-role/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateRole", e))
        .context(|| "create the functions' execution role".to_owned())?;
    let role_arn = role
        .role()
        .map(|r| r.arn().to_owned())
        .context(|| "CreateRole returned no role".to_owned())?;
    let code = stored_zip("index.py", b"def handler(event, context):\n    return {}\n");
    for (region, name) in BENCH_FUNCTIONS {
        aws_sdk_lambda::Client::new(&owner.in_region(region))
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(&role_arn)
            .handler("index.handler")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_smithy_types::Blob::new(code.clone()))
                    .build(),
            )
            .tags("project", "xacct-bench")
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateFunction", e))
            .context(|| format!("create the function {name}"))?;
        seeded.functions += 1;
    }
    Ok(seeded)
}

/// A zip of one file, stored (not deflated): a Lambda function's code for moto.
pub fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let crc = crc.sum();
    let (size, name_len) = (data.len() as u32, name.len() as u16);
    let mut out = Vec::new();
    // Local file header: version 2.0, no flags, stored, no time.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for field in [crc, size, size] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let central = out.len() as u32;
    // Central directory entry.
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for field in [crc, size, size] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    out.extend_from_slice(name.as_bytes());
    let central_size = out.len() as u32 - central;
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A moto for one bench run: started, both accounts assumed, the owner seeded, every read
/// API the functions use called once. moto stops when it is dropped.
#[derive(Debug)]
pub struct SeededMoto {
    pub moto: Moto,
    pub owner: Account,
    pub requestor: Account,
    pub seeded: Seeded,
    /// How long the pre-warming took.
    pub prewarm: Duration,
}

impl SeededMoto {
    pub async fn start(program: &Path, port: u16, log_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(log_dir).context(|| format!("create {}", log_dir.display()))?;
        let moto = Moto::start(program, port, &log_dir.join("moto.log")).await?;
        crate::progress(&format!("moto answers at {}", moto.endpoint));
        let owner = Account::assume(&moto.endpoint, Side::Owner).await?;
        let requestor = Account::assume(&moto.endpoint, Side::Requestor).await?;
        let seeded = seed_owner(&owner).await?;
        let prewarm = prewarm(&[&owner, &requestor]).await;
        Ok(Self {
            moto,
            owner,
            requestor,
            seeded,
            prewarm,
        })
    }

    /// The account a side's functions run in.
    pub fn account(&self, side: Side) -> &Account {
        match side {
            Side::Owner => &self.owner,
            Side::Requestor => &self.requestor,
        }
    }
}

/// Calls every read API the functions use once, in each account and region; absent
/// entities are fine. Returns how long it took.
pub async fn prewarm(accounts: &[&Account]) -> Duration {
    let started = Instant::now();
    for account in accounts {
        let config = &account.config;
        let (sts, iam, s3) = (
            aws_sdk_sts::Client::new(config),
            aws_sdk_iam::Client::new(config),
            account.s3(REGION),
        );
        let _ = sts.get_caller_identity().send().await;
        let _ = s3.list_buckets().send().await;
        let _ = s3.head_bucket().bucket(BENCH_BUCKET).send().await;
        let _ = s3.get_bucket_location().bucket(BENCH_BUCKET).send().await;
        let _ = s3.get_bucket_tagging().bucket(BENCH_BUCKET).send().await;
        let absent = "xacct-bench-prewarm";
        let _ = iam.get_role().role_name(absent).send().await;
        let _ = iam.list_role_policies().role_name(absent).send().await;
        let _ = iam
            .get_instance_profile()
            .instance_profile_name(absent)
            .send()
            .await;
        let _ = iam.list_roles().path_prefix(ROLE_PATH).send().await;
        let _ = iam
            .list_attached_role_policies()
            .role_name(absent)
            .send()
            .await;
        let _ = iam
            .list_instance_profiles_for_role()
            .role_name(absent)
            .send()
            .await;
        for region in [REGION, OTHER_REGION] {
            let config = account.in_region(region);
            let ec2 = aws_sdk_ec2::Client::new(&config);
            let _ = ec2.describe_regions().send().await;
            let _ = ec2.describe_instances().send().await;
            let lambda = aws_sdk_lambda::Client::new(&config);
            let _ = lambda.list_functions().send().await;
            let _ = lambda.get_function().function_name(absent).send().await;
            let rds = aws_sdk_rds::Client::new(&config);
            let _ = rds.describe_db_instances().send().await;
            let _ = rds.describe_db_clusters().send().await;
            let _ = aws_sdk_resourcegroupstagging::Client::new(&config)
                .get_resources()
                .send()
                .await;
        }
    }
    started.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_zip_has_its_headers_where_readers_look() {
        let zip = stored_zip("index.py", b"hello");
        assert_eq!(zip.len(), 30 + 8 + 5 + 46 + 8 + 22);
        assert_eq!(&zip[..4], b"PK\x03\x04");
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        // The central directory starts where the end record says.
        let start = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&zip[start..start + 4], b"PK\x01\x02");
    }

    #[test]
    fn role_arns_are_built_from_parts() {
        assert_eq!(
            role_arn(Side::Requestor, "xacct-bench-req")
                .unwrap()
                .to_string(),
            "arn:aws:iam::222222222222:role/xacct/xacct-bench-req"
        );
    }
}
