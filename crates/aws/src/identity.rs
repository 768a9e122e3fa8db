//! Which account the function runs in, asked of STS once and remembered.

use aws_config::SdkConfig;
use tokio::sync::OnceCell;
use xacct_policy::AccountId;

use crate::error::{AwsError, AwsErrorKind};

/// The caller's account, looked up on first use (not at start-up, to keep cold starts short).
#[derive(Debug)]
pub struct AccountLookup {
    client: aws_sdk_sts::Client,
    account: OnceCell<AccountId>,
}

impl AccountLookup {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: aws_sdk_sts::Client::new(config),
            account: OnceCell::new(),
        }
    }

    /// An already known account (tests, or a deployment that sets it).
    pub fn known(config: &SdkConfig, account: AccountId) -> Self {
        Self {
            client: aws_sdk_sts::Client::new(config),
            account: OnceCell::new_with(Some(account)),
        }
    }

    pub async fn account(&self) -> Result<AccountId, AwsError> {
        self.account
            .get_or_try_init(|| async {
                let out = self
                    .client
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
                out.account().and_then(|a| a.parse().ok()).ok_or_else(|| {
                    AwsError::new(
                        "GetCallerIdentity",
                        "InvalidResponse",
                        "no account in the caller identity",
                        AwsErrorKind::Unavailable,
                    )
                })
            })
            .await
            .cloned()
    }
}
