//! Which account (and partition) the function runs in, asked of STS once and remembered.

use aws_config::SdkConfig;
use tokio::sync::OnceCell;
use xacct_policy::{AccountId, Arn, Partition};

use crate::error::{AwsError, AwsErrorKind};

/// The caller's account and partition, looked up on first use (not at start-up, to keep
/// cold starts short).
#[derive(Debug)]
pub struct AccountLookup {
    client: aws_sdk_sts::Client,
    identity: OnceCell<(AccountId, Partition)>,
}

impl AccountLookup {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: aws_sdk_sts::Client::new(config),
            identity: OnceCell::new(),
        }
    }

    /// An already known account in the `aws` partition (tests, or a deployment that sets it).
    pub fn known(config: &SdkConfig, account: AccountId) -> Self {
        Self {
            client: aws_sdk_sts::Client::new(config),
            identity: OnceCell::new_with(Some((account, Partition::Aws))),
        }
    }

    /// An account and partition known without asking (a member account the hub has just
    /// assumed its spoke role in).
    pub fn known_in(config: &SdkConfig, account: AccountId, partition: Partition) -> Self {
        Self {
            client: aws_sdk_sts::Client::new(config),
            identity: OnceCell::new_with(Some((account, partition))),
        }
    }

    async fn identity(&self) -> Result<&(AccountId, Partition), AwsError> {
        self.identity
            .get_or_try_init(|| async {
                let out = self
                    .client
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
                let invalid = || {
                    AwsError::new(
                        "GetCallerIdentity",
                        "InvalidResponse",
                        "no account or arn in the caller identity",
                        AwsErrorKind::Unavailable,
                    )
                };
                let account: AccountId = out
                    .account()
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(invalid)?;
                let partition = out
                    .arn()
                    .and_then(|a| a.parse::<Arn>().ok())
                    .map(|a| a.partition())
                    .ok_or_else(invalid)?;
                Ok((account, partition))
            })
            .await
    }

    pub async fn account(&self) -> Result<AccountId, AwsError> {
        Ok(self.identity().await?.0.clone())
    }

    /// The partition the function runs in (`aws`, `aws-cn`, `aws-us-gov`, ...).
    pub async fn partition(&self) -> Result<Partition, AwsError> {
        Ok(self.identity().await?.1)
    }
}
