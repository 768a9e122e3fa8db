//! xacct's benchmarks, in Rust: cold start and memory of each function against floor
//! binaries measured in the same run (`functions`), list-resources' discovery at scale
//! against generated AWS answers (`discovery`) and across an organization's member accounts
//! (`organization`, against an SDK floor of the same calls), and a load run (`load`). `make bench` and
//! `make bench-discovery` run them on release builds; nothing here runs in CI but the unit
//! tests, which time nothing.

pub mod discovery;
pub mod error;
pub mod events;
pub mod functions;
pub mod launch;
pub mod load;
pub mod moto;
pub mod organization;
pub mod organization_floor;
pub mod results;
pub mod runtime_api;
pub mod stats;
pub mod system;

/// A line of progress on stderr.
pub fn progress(message: &str) {
    eprintln!("xacct-bench: {message}");
}
