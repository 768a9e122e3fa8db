//! The two accounts in moto: credentials for each (moto's `sts:AssumeRole` maps a role ARN
//! into its account), demo resources in the owner account, a group and a user in the
//! requestor account, and a check that each account sees only its own.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::{Filter, ResourceType, TagSpecification};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tagging};
use aws_sdk_sts::config::Credentials;
use serde::{Deserialize, Serialize};
use xacct_policy::{AccountId, Arn, Partition};

use crate::stack::{HOME_REGION, SEED_REGIONS, Side, SideCredentials};

/// Keys used only to call moto's `sts:AssumeRole`; moto takes any. Not credentials for
/// anything: the stack uses the keys AssumeRole returns.
const BOOTSTRAP_KEY: &str = "AKIAXACCTLOCALEXAMPLE";
const BOOTSTRAP_SECRET: &str = "xacct-local-bootstrap-secret-EXAMPLE";
/// 12 h, so a long local session keeps working (moto does not enforce it).
const SESSION_SECONDS: i32 = 43_200;
/// The account an unknown key silently lands in.
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";
/// moto stores but never uses it: a fixed demo value, not a secret.
const DEMO_DB_PASSWORD: &str = "xacct-local-demo-only";
const LAMBDA_EXEC_ROLE: &str = "xacct-demo-lambda-exec";
const REQUESTOR_GROUP: &str = "xacct-demo-analysts";
const REQUESTOR_USER: &str = "xacct-demo-alice";
/// The code of the demo functions (moto stores it; nothing runs it).
const DEMO_FUNCTION_ZIP: &[u8] = include_bytes!("../assets/demo-function.zip");

/// One account as moto sees it.
#[derive(Debug, Clone)]
pub struct Account {
    pub side: Side,
    pub credentials: SideCredentials,
    config: SdkConfig,
}

impl Account {
    fn config(&self, region: &str) -> SdkConfig {
        self.config
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }

    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        s3_client(&self.config(region))
    }

    /// The configuration with the side's credentials.
    pub fn sdk(&self) -> &SdkConfig {
        &self.config
    }
}

/// S3 with path-style addressing (moto's host serves every bucket).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

async fn sdk_config(moto_url: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(HOME_REGION))
        .endpoint_url(moto_url)
        .credentials_provider(credentials)
        .load()
        .await
}

/// Credentials in `account` from moto's `sts:AssumeRole` on `role_arn` (moto maps any role
/// ARN into its account), and the configuration that uses them, checked to act in that
/// account.
pub async fn session_in(
    account: &AccountId,
    role_arn: &Arn,
    moto_url: &str,
) -> Result<(SideCredentials, SdkConfig)> {
    let role_arn = role_arn.to_string();
    let bootstrap = Credentials::new(BOOTSTRAP_KEY, BOOTSTRAP_SECRET, None, None, "xacct-local");
    let sts = aws_sdk_sts::Client::new(&sdk_config(moto_url, bootstrap).await);
    let issued = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("xacct-local")
        .duration_seconds(SESSION_SECONDS)
        .send()
        .await
        .with_context(|| format!("sts:AssumeRole on {role_arn} at {moto_url}"))?;
    let c = issued
        .credentials()
        .context("sts:AssumeRole returned no credentials")?;
    let credentials = SideCredentials {
        account: account.to_string(),
        role_arn,
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: c.secret_access_key().to_owned(),
        session_token: c.session_token().to_owned(),
    };
    let config = sdk_config(
        moto_url,
        Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            Some(credentials.session_token.clone()),
            None,
            "xacct-local",
        ),
    )
    .await;
    let seen = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .context("sts:GetCallerIdentity")?;
    let seen = seen.account().unwrap_or_default();
    if seen != account.as_str() {
        let why = if seen == MOTO_DEFAULT_ACCOUNT {
            " (moto's default account: the keys were not recognised)"
        } else {
            ""
        };
        bail!("the credentials of {account} act in account {seen}{why}");
    }
    Ok((credentials, config))
}

/// Assumes the side's role in moto, checked to act in the side's account.
pub async fn assume(side: Side, moto_url: &str) -> Result<Account> {
    let account = side.account().parse::<AccountId>()?;
    let role_arn = Arn::iam(Partition::Aws, &account, "role", "/", side.role_name())?;
    let (credentials, config) = session_in(&account, &role_arn, moto_url)
        .await
        .with_context(|| format!("the {} side", side.name()))?;
    Ok(Account {
        side,
        credentials,
        config,
    })
}

/// A seeded resource, as the end-to-end tests read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub arn: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegionSeed {
    pub s3_buckets: Vec<Entry>,
    pub s3_objects: Vec<Entry>,
    pub ec2_instances: Vec<Entry>,
    pub lambda_functions: Vec<Entry>,
    pub rds_db_clusters: Vec<Entry>,
    pub rds_db_instances: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct People {
    pub group_name: String,
    pub user_name: String,
}

/// Everything seeded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    pub account: String,
    pub regions: BTreeMap<String, RegionSeed>,
    pub iam_roles: Vec<Entry>,
    pub requestor_people: People,
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn demo(more: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut all = tags(&[("project", "xacct-demo"), ("owner-team", "platform")]);
    all.extend(tags(more));
    all
}

fn entry(
    arn: String,
    name: &str,
    tags: &BTreeMap<String, String>,
    extra: &[(&str, &str)],
) -> Entry {
    Entry {
        arn,
        name: name.to_owned(),
        tags: tags.clone(),
        extra: self::tags(extra),
    }
}

struct Seeder<'a> {
    owner: &'a Account,
    account: AccountId,
    regions: BTreeMap<String, RegionSeed>,
    iam_roles: Vec<Entry>,
}

impl Seeder<'_> {
    fn region(&mut self, region: &str) -> &mut RegionSeed {
        self.regions.entry(region.to_owned()).or_default()
    }

    async fn bucket(
        &mut self,
        name: &str,
        region: &str,
        tags: BTreeMap<String, String>,
        objects: &[(&str, &str)],
    ) -> Result<()> {
        let s3 = self.owner.s3(region);
        let mut create = s3.create_bucket().bucket(name);
        if region != "us-east-1" {
            // us-east-1 takes no LocationConstraint
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        create
            .send()
            .await
            .with_context(|| format!("s3:CreateBucket {name}"))?;
        if !tags.is_empty() {
            let set = tags
                .iter()
                .map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()?;
            s3.put_bucket_tagging()
                .bucket(name)
                .tagging(Tagging::builder().set_tag_set(Some(set)).build()?)
                .send()
                .await
                .with_context(|| format!("s3:PutBucketTagging {name}"))?;
        }
        let arn = Arn::from_parts(Partition::Aws, "s3", "", None, name)?;
        self.region(region)
            .s3_buckets
            .push(entry(arn.to_string(), name, &tags, &[]));
        for (key, body) in objects {
            s3.put_object()
                .bucket(name)
                .key(*key)
                .body(ByteStream::from(body.as_bytes().to_vec()))
                .send()
                .await
                .with_context(|| format!("s3:PutObject {name}/{key}"))?;
            let object = arn.with_resource_suffix(&["/", key].concat());
            self.region(region).s3_objects.push(entry(
                object.to_string(),
                key,
                &BTreeMap::new(),
                &[("bucket", name)],
            ));
        }
        Ok(())
    }

    /// An Amazon Linux 2023 x86_64 image from moto's catalogue for the region.
    async fn image(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<String> {
        let arch = Filter::builder()
            .name("architecture")
            .values("x86_64")
            .build();
        let named = Filter::builder()
            .name("name")
            .values("al2023-ami-2023*")
            .build();
        for filters in [vec![arch.clone(), named], vec![arch]] {
            let images = ec2
                .describe_images()
                .owners("amazon")
                .set_filters(Some(filters))
                .send()
                .await
                .context("ec2:DescribeImages")?;
            if let Some(id) = images
                .images()
                .iter()
                .max_by_key(|i| i.name().unwrap_or_default().to_owned())
                .and_then(|i| i.image_id())
            {
                return Ok(id.to_owned());
            }
        }
        bail!("moto lists no x86_64 Amazon image in {region}")
    }

    async fn instance(
        &mut self,
        region: &str,
        instance_type: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let ec2 = aws_sdk_ec2::Client::new(&self.owner.config(region));
        let mut run = ec2
            .run_instances()
            .image_id(Self::image(&ec2, region).await?)
            .instance_type(instance_type.into())
            .min_count(1)
            .max_count(1);
        if !tags.is_empty() {
            run = run.tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .set_tags(Some(
                        tags.iter()
                            .map(|(k, v)| {
                                aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()
                            })
                            .collect(),
                    ))
                    .build(),
            );
        }
        let out = run.send().await.context("ec2:RunInstances")?;
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .context("ec2:RunInstances returned no instance")?
            .to_owned();
        let arn = Arn::from_parts(
            Partition::Aws,
            "ec2",
            region,
            Some(&self.account),
            &["instance/", &id].concat(),
        )?;
        let name = tags.get("Name").cloned().unwrap_or_else(|| id.clone());
        self.region(region).ec2_instances.push(entry(
            arn.to_string(),
            &name,
            &tags,
            &[("instance_id", &id), ("instance_type", instance_type)],
        ));
        Ok(())
    }

    /// The execution role moto requires before it creates a function.
    async fn lambda_role(&mut self) -> Result<String> {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let tags = demo(&[]);
        let role = aws_sdk_iam::Client::new(&self.owner.config)
            .create_role()
            .role_name(LAMBDA_EXEC_ROLE)
            .path("/service-role/")
            .assume_role_policy_document(trust)
            .description("execution role of the demo functions")
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()?,
            ))
            .send()
            .await
            .context("iam:CreateRole")?;
        let arn = role.role().map(|r| r.arn().to_owned()).context("no role")?;
        self.iam_roles
            .push(entry(arn.clone(), LAMBDA_EXEC_ROLE, &tags, &[]));
        Ok(arn)
    }

    async fn function(
        &mut self,
        name: &str,
        region: &str,
        tags: BTreeMap<String, String>,
        description: &str,
        role: &str,
    ) -> Result<()> {
        let out = aws_sdk_lambda::Client::new(&self.owner.config(region))
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(role)
            .handler("index.handler")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(DEMO_FUNCTION_ZIP))
                    .build(),
            )
            .description(description)
            .timeout(10)
            .memory_size(128)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .with_context(|| format!("lambda:CreateFunction {name}"))?;
        let arn = out.function_arn().context("no function ARN")?.to_owned();
        self.region(region)
            .lambda_functions
            .push(entry(arn, name, &tags, &[]));
        Ok(())
    }

    fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
        tags.iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
            .collect()
    }

    async fn db_cluster(&mut self, id: &str, region: &str, engine: &str) -> Result<()> {
        let tags = demo(&[]);
        let out = aws_sdk_rds::Client::new(&self.owner.config(region))
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine(engine)
            .master_username("xacct_demo")
            .master_user_password(DEMO_DB_PASSWORD)
            .set_tags(Some(Self::rds_tags(&tags)))
            .send()
            .await
            .with_context(|| format!("rds:CreateDBCluster {id}"))?;
        let arn = out
            .db_cluster()
            .and_then(|c| c.db_cluster_arn())
            .context("no cluster ARN")?
            .to_owned();
        self.region(region)
            .rds_db_clusters
            .push(entry(arn, id, &tags, &[("engine", engine)]));
        Ok(())
    }

    async fn db_instance(
        &mut self,
        id: &str,
        region: &str,
        engine: &str,
        class: &str,
        tags: BTreeMap<String, String>,
        cluster: Option<&str>,
    ) -> Result<()> {
        let mut create = aws_sdk_rds::Client::new(&self.owner.config(region))
            .create_db_instance()
            .db_instance_identifier(id)
            .db_instance_class(class)
            .engine(engine)
            .set_tags(Some(Self::rds_tags(&tags)));
        create = match cluster {
            // storage and credentials come from the cluster
            Some(c) => create.db_cluster_identifier(c),
            None => create
                .allocated_storage(20)
                .master_username("xacct_demo")
                .master_user_password(DEMO_DB_PASSWORD),
        };
        let out = create
            .send()
            .await
            .with_context(|| format!("rds:CreateDBInstance {id}"))?;
        let arn = out
            .db_instance()
            .and_then(|d| d.db_instance_arn())
            .context("no DB instance ARN")?
            .to_owned();
        let mut extra = vec![("engine", engine)];
        extra.extend(cluster.map(|c| ("cluster", c)));
        self.region(region)
            .rds_db_instances
            .push(entry(arn, id, &tags, &extra));
        Ok(())
    }
}

/// Seeds a fresh moto: the owner's demo resources in two regions, a group with a user in
/// the requestor account; then checks that each account sees only its own.
pub async fn seed(owner: &Account, requestor: &Account) -> Result<Inventory> {
    let mut s = Seeder {
        owner,
        account: owner.side.account().parse::<AccountId>()?,
        regions: SEED_REGIONS
            .iter()
            .map(|r| ((*r).to_owned(), RegionSeed::default()))
            .collect(),
        iam_roles: Vec::new(),
    };
    s.bucket(
        "xacct-demo-reports",
        "us-east-1",
        demo(&[("data-classification", "internal")]),
        &[
            ("reports/2026-q2.csv", "quarter,revenue\n2026-q2,1000\n"),
            ("reports/2026-q3.csv", "quarter,revenue\n2026-q3,1250\n"),
            ("README.txt", "Demo bucket of xacct's local stack\n"),
        ],
    )
    .await?;
    s.bucket("xacct-demo-untagged", "us-east-1", BTreeMap::new(), &[])
        .await?;
    s.bucket(
        "xacct-demo-logs-eu",
        "eu-west-1",
        demo(&[("retention", "90d")]),
        &[],
    )
    .await?;
    s.instance("us-east-1", "t3.micro", demo(&[("Name", "xacct-demo-web")]))
        .await?;
    s.instance("us-east-1", "t3.nano", BTreeMap::new()).await?;
    s.instance(
        "eu-west-1",
        "t3.micro",
        demo(&[("Name", "xacct-demo-worker-eu")]),
    )
    .await?;
    s.instance("eu-west-1", "t3.nano", BTreeMap::new()).await?;
    let role = s.lambda_role().await?;
    s.function(
        "xacct-demo-report-builder",
        "us-east-1",
        demo(&[]),
        "builds the quarterly reports",
        &role,
    )
    .await?;
    s.function(
        "xacct-demo-log-shipper",
        "eu-west-1",
        BTreeMap::new(),
        "ships logs to xacct-demo-logs-eu",
        &role,
    )
    .await?;
    s.db_cluster("xacct-demo-analytics", "us-east-1", "aurora-postgresql")
        .await?;
    s.db_instance(
        "xacct-demo-orders-pg",
        "us-east-1",
        "postgres",
        "db.t3.micro",
        demo(&[]),
        None,
    )
    .await?;
    s.db_instance(
        "xacct-demo-analytics-1",
        "us-east-1",
        "aurora-postgresql",
        "db.r6g.large",
        demo(&[]),
        Some("xacct-demo-analytics"),
    )
    .await?;
    s.db_instance(
        "xacct-demo-inventory-mysql",
        "eu-west-1",
        "mysql",
        "db.t3.micro",
        BTreeMap::new(),
        None,
    )
    .await?;
    let inventory = Inventory {
        account: owner.side.account().to_owned(),
        regions: s.regions,
        iam_roles: s.iam_roles,
        requestor_people: seed_people(requestor).await?,
    };
    verify(owner, requestor, &inventory).await?;
    Ok(inventory)
}

/// An IAM group with one user in the requestor account, for grants to people.
async fn seed_people(requestor: &Account) -> Result<People> {
    let iam = aws_sdk_iam::Client::new(&requestor.config);
    iam.create_group()
        .group_name(REQUESTOR_GROUP)
        .send()
        .await
        .context("iam:CreateGroup")?;
    iam.create_user()
        .user_name(REQUESTOR_USER)
        .send()
        .await
        .context("iam:CreateUser")?;
    iam.add_user_to_group()
        .group_name(REQUESTOR_GROUP)
        .user_name(REQUESTOR_USER)
        .send()
        .await
        .context("iam:AddUserToGroup")?;
    Ok(People {
        group_name: REQUESTOR_GROUP.to_owned(),
        user_name: REQUESTOR_USER.to_owned(),
    })
}

/// The names one account sees in one region, by kind (buckets are global).
async fn view(account: &Account, region: &str) -> Result<BTreeMap<&'static str, BTreeSet<String>>> {
    let config = account.config(region);
    let instances = aws_sdk_ec2::Client::new(&config)
        .describe_instances()
        .send()
        .await
        .context("ec2:DescribeInstances")?
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    let functions = aws_sdk_lambda::Client::new(&config)
        .list_functions()
        .send()
        .await
        .context("lambda:ListFunctions")?
        .functions()
        .iter()
        .filter_map(|f| f.function_name().map(str::to_owned))
        .collect();
    let rds = aws_sdk_rds::Client::new(&config);
    let dbs = rds
        .describe_db_instances()
        .send()
        .await
        .context("rds:DescribeDBInstances")?
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_owned))
        .collect();
    let clusters = rds
        .describe_db_clusters()
        .send()
        .await
        .context("rds:DescribeDBClusters")?
        .db_clusters()
        .iter()
        .filter_map(|c| c.db_cluster_identifier().map(str::to_owned))
        .collect();
    let buckets = account
        .s3(region)
        .list_buckets()
        .send()
        .await
        .context("s3:ListBuckets")?
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    Ok(BTreeMap::from([
        ("ec2_instances", instances),
        ("lambda_functions", functions),
        ("rds_db_instances", dbs),
        ("rds_db_clusters", clusters),
        ("s3_buckets", buckets),
    ]))
}

fn seeded(region: &RegionSeed) -> BTreeMap<&'static str, BTreeSet<String>> {
    let names = |entries: &[Entry]| entries.iter().map(|e| e.name.clone()).collect();
    let ids = region
        .ec2_instances
        .iter()
        .filter_map(|e| e.extra.get("instance_id").cloned())
        .collect();
    BTreeMap::from([
        ("ec2_instances", ids),
        ("lambda_functions", names(&region.lambda_functions)),
        ("rds_db_instances", names(&region.rds_db_instances)),
        ("rds_db_clusters", names(&region.rds_db_clusters)),
        ("s3_buckets", names(&region.s3_buckets)),
    ])
}

/// The owner sees every seeded resource; the requestor sees none of them.
async fn verify(owner: &Account, requestor: &Account, inventory: &Inventory) -> Result<()> {
    let mut problems = Vec::new();
    for (region, seed) in &inventory.regions {
        let (mine, theirs) = (view(owner, region).await?, view(requestor, region).await?);
        for (kind, names) in seeded(seed) {
            let empty = BTreeSet::new();
            let missing: Vec<_> = names.difference(mine.get(kind).unwrap_or(&empty)).collect();
            let leaked: Vec<_> = names
                .intersection(theirs.get(kind).unwrap_or(&empty))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("the owner misses {kind} {missing:?} in {region}"));
            }
            if !leaked.is_empty() {
                problems.push(format!(
                    "the requestor sees the owner's {kind} {leaked:?} in {region}"
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "seeded resources are not where they belong: {}",
            problems.join("; ")
        );
    }
    Ok(())
}
