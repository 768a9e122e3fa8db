//! The one place that builds the SDK configuration: region, bounded retries with backoff,
//! time-outs, and the endpoint (`AWS_ENDPOINT_URL`, which the local stack points at moto).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Retry attempts per AWS call (the first try included), with exponential backoff.
pub const MAX_ATTEMPTS: u32 = 5;

/// Loads the shared configuration once, at start-up.
pub async fn load() -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(25))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts)
        .load()
        .await
}

/// The configured region, `us-east-1` when none is set (AWS's default for global services).
pub fn region(config: &SdkConfig) -> String {
    config
        .region()
        .map_or_else(|| "us-east-1".to_owned(), Region::to_string)
}

/// The same configuration in another region, for per-region clients sharing one HTTP client.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build()
}
