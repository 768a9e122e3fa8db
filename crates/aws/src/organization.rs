//! The organization seen from the hub: its accounts (`organizations:ListAccounts`), and a
//! session in a member account through its spoke role (`sts:AssumeRole`, then the role
//! reading itself to prove it is there), as an SDK configuration with those credentials.

use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use xacct_policy::organization::Spoke;
use xacct_policy::{AccountId, Arn};

use crate::error::{AwsError, AwsErrorKind};

/// One account of the organization, as `ListAccounts` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccount {
    pub id: AccountId,
    pub name: String,
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...
    pub status: String,
}

impl MemberAccount {
    /// Whether xacct can work in it: AWS refuses calls into a suspended or closing account.
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// The organization's accounts, read with the hub's own credentials.
#[cfg(feature = "organizations")]
#[derive(Debug, Clone)]
pub struct OrganizationAccounts {
    client: aws_sdk_organizations::Client,
}

#[cfg(feature = "organizations")]
impl OrganizationAccounts {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: aws_sdk_organizations::Client::new(config),
        }
    }

    /// Every account, all pages, in AWS's order.
    pub async fn list(&self) -> Result<Vec<MemberAccount>, AwsError> {
        let mut out = Vec::new();
        let mut pages = self.client.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListAccounts", e))?;
            for account in page.accounts() {
                let Some(id) = account.id().and_then(|id| id.parse().ok()) else {
                    return Err(AwsError::new(
                        "ListAccounts",
                        "InvalidResponse",
                        "an account without a 12-digit id",
                        AwsErrorKind::Unavailable,
                    ));
                };
                out.push(MemberAccount {
                    id,
                    name: account.name().unwrap_or_default().to_owned(),
                    email: account.email().map(str::to_owned),
                    status: account
                        .state()
                        .map(|s| s.as_str().to_owned())
                        .or_else(|| account.status().map(|s| s.as_str().to_owned()))
                        .unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }
}

/// Opens sessions in member accounts through their spoke role.
#[derive(Debug, Clone)]
pub struct SpokeSessions {
    config: SdkConfig,
    sts: aws_sdk_sts::Client,
    spoke: Spoke,
}

/// A session in a member account: the configuration with its credentials, and the
/// boundary every role xacct creates there gets.
#[derive(Debug, Clone)]
pub struct SpokeSession {
    pub config: SdkConfig,
    pub boundary: Arn,
}

impl SpokeSessions {
    /// Sessions made from the hub's configuration (its retries, time-outs and HTTP client
    /// are kept; only the credentials change).
    pub fn new(config: &SdkConfig, spoke: Spoke) -> Self {
        Self {
            config: config.clone(),
            sts: aws_sdk_sts::Client::new(config),
            spoke,
        }
    }

    pub fn spoke(&self) -> &Spoke {
        &self.spoke
    }

    /// Assumes the spoke role of `member` as `session_name`, then has the role read itself
    /// ([`Self::prove`]) before anything is done with it.
    pub async fn open(
        &self,
        member: &AccountId,
        session_name: &str,
    ) -> Result<SpokeSession, AwsError> {
        let session = self.assume(member, session_name).await?;
        self.prove(&session).await?;
        Ok(session)
    }

    /// Assumes the spoke role of `member` as `session_name`: a session not yet proven.
    pub async fn assume(
        &self,
        member: &AccountId,
        session_name: &str,
    ) -> Result<SpokeSession, AwsError> {
        let invalid = |e: xacct_policy::ArnError| {
            AwsError::new(
                "AssumeRole",
                "InvalidRoleArn",
                &e.to_string(),
                AwsErrorKind::Refused,
            )
        };
        let role = self.spoke.role_arn(member).map_err(invalid)?;
        let boundary = self.spoke.boundary_arn(member).map_err(invalid)?;
        let out = self
            .sts
            .assume_role()
            .role_arn(role.to_string())
            .role_session_name(session_name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AssumeRole", e))?;
        let credentials = out.credentials().ok_or_else(|| {
            AwsError::new(
                "AssumeRole",
                "InvalidResponse",
                "no credentials in the answer",
                AwsErrorKind::Unavailable,
            )
        })?;
        let provider = Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            std::time::SystemTime::try_from(*credentials.expiration()).ok(),
            "xacct-spoke",
        );
        let config = self
            .config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Ok(SpokeSession { config, boundary })
    }

    /// Has the assumed spoke role read itself (`iam:GetRole`): an assumed session alone
    /// does not prove the role is there (the local stack's STS answers for any role), the
    /// read does, and costs one cheap call.
    pub async fn prove(&self, session: &SpokeSession) -> Result<(), AwsError> {
        aws_sdk_iam::Client::new(&session.config)
            .get_role()
            .role_name(self.spoke.role_name.as_str())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetRole", e))?;
        Ok(())
    }
}
