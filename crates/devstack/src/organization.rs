//! The local stack's AWS Organization: the owner account as its management account and the
//! hub, three member accounts (`create_account`), in two of them a stack instance of
//! `template-member.yaml` (the spoke role and its boundary, from the template itself), the
//! third left without one on purpose, and a demo bucket in each member with a spoke.

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use serde::{Deserialize, Serialize};
use xacct_policy::organization::DEFAULT_SPOKE_ROLE_NAME;
use xacct_policy::{AccountId, Arn, OrganizationId, Partition, RoleName};

use crate::member_stack;
use crate::seed::{Account, s3_client, session_in};

/// The member StackSet's name, as docs/organization.md creates it.
const STACK_SET: &str = "xacct-spoke";
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
    let spoke_role_name: RoleName = DEFAULT_SPOKE_ROLE_NAME.parse()?;
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
            let instance = member_stack::Instance {
                member: &account,
                hub: &hub,
                organization: &id,
                stack_set: STACK_SET,
            };
            member_stack::deploy(&config, &instance)
                .await
                .with_context(|| format!("the member stack instance in {name}"))?;
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
        spoke_role_name: spoke_role_name.to_string(),
        members,
    })
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
