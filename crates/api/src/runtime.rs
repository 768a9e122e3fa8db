//! Start-up shared by every function: JSON logs with `tracing`, and reading configuration.

use tracing_subscriber::EnvFilter;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Already initialized (tests) is fine.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .try_init();
}

/// An environment variable, `None` when unset or empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The permissions boundary every created role gets (`PERMISSIONS_BOUNDARY_ARN`; unset means
/// none). A value that is not an ARN stops the function at start-up rather than at the first
/// role it writes.
pub fn permissions_boundary() -> Result<Option<xacct_policy::Arn>, xacct_policy::ArnError> {
    env("PERMISSIONS_BOUNDARY_ARN")
        .map(|raw| raw.trim().parse())
        .transpose()
}

/// The system clock, in whole seconds since the epoch.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
