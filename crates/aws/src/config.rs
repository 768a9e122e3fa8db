//! The one place that builds the SDK configuration: region, bounded retries with backoff,
//! time-outs, one shared HTTPS client, and the endpoint (`AWS_ENDPOINT_URL`, which the local
//! stack points at moto).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Retry attempts per AWS call (the first try included), with exponential backoff.
pub const MAX_ATTEMPTS: u32 = 5;

/// Every AWS call's retries: at most `MAX_ATTEMPTS` tries, with exponential backoff.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5))
}

/// Loads the shared configuration once, at start-up.
pub async fn load() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(25))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(retry_config())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The SDK's default HTTPS stack (rustls with aws-lc, the system's CA certificates), made
/// once. Left unset in the configuration, every service client builds its own, with its own
/// connection pool and its own read of the CA certificates: discovery builds one client per
/// service and region, about 120, and paid that CPU and memory each time. Shared, it builds
/// one connector per time-out setting and its pool serves every client. (Unlike the SDK's
/// default it doesn't read `HTTPS_PROXY`: the functions reach AWS directly or through VPC
/// endpoints.)
fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn every_client_of_the_configuration_shares_one_https_client() {
        let config = super::load().await;
        assert!(config.http_client().is_some());
        let regional = super::in_region(&config, "eu-west-1");
        assert!(regional.http_client().is_some());
        assert_eq!(super::region(&regional), "eu-west-1");
    }
}
