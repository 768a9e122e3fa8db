//! The local stack's AWS Organization: the owner account as its management account and the
//! hub, three member accounts (`create_account`), the spoke role and its boundary in two of
//! them as the member StackSet creates them (name, path, trust, boundary), the third left
//! without one on purpose, and a demo bucket in each member with a spoke.

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use serde::{Deserialize, Serialize};
use xacct_policy::organization::{DEFAULT_SPOKE_ROLE_NAME, SPOKE_BOUNDARY_NAME, SPOKE_PATH, Spoke};
use xacct_policy::{AccountId, Arn, OrganizationId, Partition, PolicyDocument, Statement};

use crate::seed::{Account, s3_client, session_in};

/// The role moto maps a member session into (Organizations' own name for it).
const MEMBER_ADMIN_ROLE: &str = "OrganizationAccountAccessRole";
/// The members: name, and whether the StackSet reached it.
const MEMBERS: [(&str, bool); 3] = [
    ("xacct-member-a", true),
    ("xacct-member-b", true),
    ("xacct-member-without-spoke", false),
];

/// One member account as the end-to-end tests read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub account: String,
    pub name: String,
    /// Whether the spoke role is there.
    pub spoke: bool,
    /// The demo buckets seeded in it (us-east-1).
    pub buckets: Vec<String>,
}

/// The organization in `.local/stack.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub hub_account: String,
    pub spoke_role_name: String,
    pub members: Vec<Member>,
}

/// Creates the organization with the owner as its management account (the hub), its
/// members, and in each member what the member template creates.
pub async fn seed(owner: &Account, moto_url: &str) -> Result<Organization> {
    let orgs = aws_sdk_organizations::Client::new(owner.sdk());
    let created = orgs
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .context("organizations:CreateOrganization")?;
    let id: OrganizationId = created
        .organization()
        .and_then(|o| o.id())
        .context("CreateOrganization returned no id")?
        .parse()?;
    let hub: AccountId = owner.credentials.account.parse()?;
    let spoke = Spoke {
        partition: Partition::Aws,
        role_name: DEFAULT_SPOKE_ROLE_NAME.parse()?,
    };
    let mut members = Vec::new();
    for (name, with_spoke) in MEMBERS {
        let status = orgs
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .with_context(|| format!("organizations:CreateAccount {name}"))?;
        let account: AccountId = status
            .create_account_status()
            .and_then(|s| s.account_id())
            .with_context(|| format!("CreateAccount {name} returned no account id"))?
            .parse()?;
        let admin = Arn::iam(Partition::Aws, &account, "role", "/", MEMBER_ADMIN_ROLE)?;
        let (_, config) = session_in(&account, &admin, moto_url).await?;
        let mut buckets = Vec::new();
        if with_spoke {
            stack_instance(&config, &spoke, &hub, &id, &account).await?;
            buckets.push(demo_bucket(&config, name, &account).await?);
        }
        members.push(Member {
            account: account.to_string(),
            name: name.to_owned(),
            spoke: with_spoke,
            buckets,
        });
    }
    Ok(Organization {
        id: id.to_string(),
        hub_account: hub.to_string(),
        spoke_role_name: spoke.role_name.to_string(),
        members,
    })
}

/// What the member StackSet's stack instance creates: the boundary of the roles xacct
/// creates there, and the spoke role the hub's functions assume, trusting only them inside
/// the organization, which may read itself. (moto enforces no IAM: the spoke's permissions
/// are the member template's to prove, with xacct's evaluator; here the role's identity,
/// trust and boundary are what the hub relies on.)
async fn stack_instance(
    config: &SdkConfig,
    spoke: &Spoke,
    hub: &AccountId,
    organization: &OrganizationId,
    member: &AccountId,
) -> Result<()> {
    let iam = aws_sdk_iam::Client::new(config);
    let boundary = PolicyDocument::new(vec![Statement::allow(
        "SupportedServicesOnly",
        [
            "s3:*",
            "ec2:*",
            "lambda:*",
            "rds:*",
            "rds-db:connect",
            "kms:*",
        ]
        .map(str::to_owned)
        .to_vec(),
        vec!["*".to_owned()],
    )]);
    iam.create_policy()
        .policy_name(SPOKE_BOUNDARY_NAME)
        .path(SPOKE_PATH)
        .policy_document(boundary.to_json())
        .send()
        .await
        .context("iam:CreatePolicy xacct-boundary")?;
    iam.create_role()
        .role_name(spoke.role_name.as_str())
        .path(SPOKE_PATH)
        .assume_role_policy_document(spoke.trust(hub, organization)?.to_json())
        .description("xacct spoke: the hub's owner functions work in this account through it")
        .send()
        .await
        .context("iam:CreateRole xacct-spoke")?;
    let itself = spoke.role_arn(member)?;
    let read_itself = PolicyDocument::new(vec![Statement::allow(
        "ReadItself",
        vec!["iam:GetRole".to_owned()],
        vec![itself.to_string()],
    )]);
    iam.put_role_policy()
        .role_name(spoke.role_name.as_str())
        .policy_name("spoke")
        .policy_document(read_itself.to_json())
        .send()
        .await
        .context("iam:PutRolePolicy spoke")?;
    Ok(())
}

/// A tagged demo bucket in the member, named after it (bucket names are global).
async fn demo_bucket(config: &SdkConfig, name: &str, account: &AccountId) -> Result<String> {
    let bucket = format!("{name}-reports-{account}");
    let s3 = s3_client(config);
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .with_context(|| format!("s3:CreateBucket {bucket}"))?;
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("project").value("xacct-demo").build()?)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("s3:PutBucketTagging {bucket}"))?;
    Ok(bucket)
}
