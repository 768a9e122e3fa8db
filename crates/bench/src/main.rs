//! `xacct-bench`: the benchmarks' command line (see the crate's documentation and `make
//! bench`). Markdown tables go to stdout, progress to stderr, numbers into the results file.

#![allow(clippy::print_stdout)] // a bench binary reports on stdout

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use xacct_aws::discovery::Concurrency;
use xacct_bench::error::{BenchError, Result};
use xacct_bench::events::set;
use xacct_bench::{discovery, functions, load, organization, organization_floor, results, system};

#[derive(Debug, Parser)]
#[command(about = "xacct's benchmarks (release builds; run from the repository's root)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Stack {
    /// Where the release binaries of the functions and floors are [default:
    /// $CARGO_TARGET_DIR/release, else target/release]
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The recorded Function URL events.
    #[arg(long, default_value = xacct_bench::events::EVENTS_DIR)]
    events_dir: PathBuf,
    /// moto's server (`make venv` installs it).
    #[arg(long, default_value = ".venv/bin/moto_server")]
    moto: PathBuf,
    /// moto's port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    moto_port: u16,
    /// Where the processes' logs go [default: a new directory under the system's temp].
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

impl Stack {
    fn bin_dir(&self) -> PathBuf {
        self.bin_dir.clone().unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| PathBuf::from("target"), PathBuf::from)
                .join("release")
        })
    }

    fn log_dir(&self, what: &str) -> PathBuf {
        self.log_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("xacct-bench-{what}-{}", std::process::id()))
        })
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cold start, init, warm latency, peak memory and zipped size of each function and of
    /// the floor binaries, in the same run.
    Functions {
        #[command(flatten)]
        stack: Stack,
        /// Warm invocations after the first, in the first process.
        #[arg(long, default_value_t = 200)]
        warm: usize,
        /// Fresh processes per binary (init and cold start are their medians).
        #[arg(long, default_value_t = 7)]
        cold_runs: usize,
        /// Only these functions (comma-separated); the floors are always measured.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// The results file to merge into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A load run: a fixed mix of requests across the nine functions at a bounded
    /// concurrency, against pools of processes of each function.
    Load {
        #[command(flatten)]
        stack: Stack,
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Processes per function.
        #[arg(long, default_value_t = 4)]
        instances: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// list-resources' discovery at 360 to 7,200 resources, every AWS call answered after a
    /// fixed delay by generated pages, against the call-chain floor.
    Discovery {
        /// Fresh processes per size with xacct's defaults (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 50)]
        delay_ms: u64,
        /// Skip the one-call-at-a-time run of each size.
        #[arg(long)]
        no_sequential: bool,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// list-resources across an organization's member accounts through the hub (each a
    /// generated account, every AWS call answered after a fixed delay), against the floor:
    /// one AssumeRole, then one account's longest chain of calls.
    Organization {
        #[arg(long, default_value_t = 100)]
        members: usize,
        /// Each member's size, as a fraction of the discovery bench's full account.
        #[arg(long, default_value_t = organization::DEFAULT_SCALE)]
        scale: f64,
        #[arg(long, default_value_t = 50)]
        delay_ms: u64,
        /// Member accounts at once (`MemberAccountConcurrency`).
        #[arg(long, default_value_t = 100)]
        accounts: usize,
        /// A point's regions: `all` (every enabled one) or a comma-separated list; once per
        /// point [default: all, us-east-1, and the four regions that hold resources, every
        /// service; then us-east-1 with each service alone].
        #[arg(long)]
        regions: Vec<String>,
        /// A point's services: `all` or a comma-separated list of `s3`, `ec2`, `lambda`,
        /// `rds`; once per `--regions`, in the same order [default: all for each].
        #[arg(long)]
        services: Vec<String>,
        /// Fresh processes of xacct and of the SDK floor per point (medians are reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One request across the organization in this process (`organization` runs it fresh).
    #[command(hide = true)]
    OrganizationPoint {
        #[arg(long)]
        members: usize,
        #[arg(long)]
        scale: f64,
        #[arg(long)]
        delay_ms: u64,
        #[arg(long)]
        accounts: usize,
        #[arg(long)]
        regions: String,
        #[arg(long)]
        services: String,
    },
    /// The SDK floor of one organization point in this process (`organization` runs it
    /// fresh).
    #[command(hide = true)]
    OrganizationSdkFloorPoint {
        #[arg(long)]
        members: usize,
        #[arg(long)]
        scale: f64,
        #[arg(long)]
        delay_ms: u64,
        #[arg(long)]
        regions: String,
        #[arg(long)]
        services: String,
    },
    /// One discovery in this process (the `discovery` command runs it fresh for each point).
    #[command(hide = true)]
    DiscoveryPoint {
        #[arg(long)]
        scale: f64,
        #[arg(long)]
        delay_ms: u64,
        /// `jobs,items` or one number, as XACCT_DISCOVERY_CONCURRENCY [default: xacct's].
        #[arg(long)]
        concurrency: Option<String>,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("xacct-bench: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::new(format!("start the async runtime: {e}")))
}

/// Runs `work` until it ends or the bench is interrupted (SIGINT, SIGTERM): then it is
/// dropped, which stops the processes it started (moto, the functions).
async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| BenchError::new(format!("listen for SIGTERM: {e}")))?;
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(BenchError::new("interrupted")),
        _ = term.recv() => Err(BenchError::new("terminated")),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Functions {
            stack,
            warm,
            cold_runs,
            only,
            out,
        } => {
            let options = functions::Options {
                bin_dir: stack.bin_dir(),
                events_dir: stack.events_dir.clone(),
                moto: stack.moto.clone(),
                moto_port: stack.moto_port,
                log_dir: stack.log_dir("functions"),
                warm,
                cold_runs,
                timeout: Duration::from_secs(stack.timeout),
                only,
            };
            let mut measured = runtime()?.block_on(interruptible(functions::run(&options)))?;
            if let Some(harness) = measured.get_mut("harness") {
                set(
                    harness,
                    "machine",
                    serde_json::json!(system::Machine::read()),
                );
            }
            print!("{}", functions::markdown(&measured));
            if let Some(out) = out {
                let keys = ["functions", "floors", "harness"];
                results::write(
                    &out,
                    keys.iter()
                        .map(|k| {
                            (
                                *k,
                                measured
                                    .get_mut(*k)
                                    .map(serde_json::Value::take)
                                    .unwrap_or_default(),
                            )
                        })
                        .collect(),
                )?;
            }
        }
        Command::Load {
            stack,
            requests,
            concurrency,
            instances,
            out,
        } => {
            let options = load::Options {
                bin_dir: stack.bin_dir(),
                events_dir: stack.events_dir.clone(),
                moto: stack.moto.clone(),
                moto_port: stack.moto_port,
                log_dir: stack.log_dir("load"),
                requests,
                concurrency,
                instances,
                timeout: Duration::from_secs(stack.timeout),
            };
            let mut report = runtime()?.block_on(interruptible(load::run(&options)))?;
            set(
                &mut report,
                "machine",
                serde_json::json!(system::Machine::read()),
            );
            print!("{}", load::markdown(&report));
            if let Some(out) = out {
                results::write(&out, vec![("load", report)])?;
            }
        }
        Command::Discovery {
            runs,
            delay_ms,
            no_sequential,
            out,
        } => {
            let options = discovery::Options {
                runs,
                delay: Duration::from_millis(delay_ms),
                sequential: !no_sequential,
            };
            let result = discovery::run(&options)?;
            print!("{}", discovery::markdown(&result));
            if let Some(out) = out {
                results::write(&out, vec![("discovery_at_scale", result)])?;
            }
        }
        Command::Organization {
            members,
            scale,
            delay_ms,
            accounts,
            regions,
            services,
            runs,
            out,
        } => {
            let points = if regions.is_empty() && services.is_empty() {
                organization::default_points()
            } else if services.is_empty() {
                regions
                    .iter()
                    .map(|r| organization::Point::all_services(organization::Regions::parse(r)))
                    .collect()
            } else if services.len() == regions.len() {
                regions
                    .iter()
                    .zip(&services)
                    .map(|(r, s)| point_of(r, s))
                    .collect::<Result<Vec<_>>>()?
            } else {
                return Err(BenchError::new(format!(
                    "--services is given once per --regions: {} for {}",
                    services.len(),
                    regions.len()
                )));
            };
            let options = organization::Options {
                members,
                scale,
                delay: Duration::from_millis(delay_ms),
                accounts,
                points,
                runs,
            };
            let result = organization::run(&options)?;
            print!("{}", organization::markdown(&result));
            if let Some(out) = out {
                results::write(&out, vec![("organization_at_scale", result)])?;
            }
        }
        Command::OrganizationPoint {
            members,
            scale,
            delay_ms,
            accounts,
            regions,
            services,
        } => {
            let delay = Duration::from_millis(delay_ms);
            let point = point_of(&regions, &services)?;
            let point = runtime()?
                .block_on(organization::point(members, scale, delay, accounts, &point))?;
            print_json(&point)?;
        }
        Command::OrganizationSdkFloorPoint {
            members,
            scale,
            delay_ms,
            regions,
            services,
        } => {
            let delay = Duration::from_millis(delay_ms);
            let point = point_of(&regions, &services)?;
            let point =
                runtime()?.block_on(organization_floor::point(members, scale, delay, &point))?;
            print_json(&point)?;
        }
        Command::DiscoveryPoint {
            scale,
            delay_ms,
            concurrency,
        } => {
            let concurrency = match concurrency {
                Some(text) => Concurrency::parse(&text)
                    .ok_or_else(|| BenchError::new(format!("--concurrency `{text}`")))?,
                None => Concurrency::default(),
            };
            let delay = Duration::from_millis(delay_ms);
            let point = runtime()?.block_on(discovery::point(scale, delay, concurrency))?;
            print_json(&point)?;
        }
    }
    Ok(())
}

/// A point's measurement, for the parent process to read.
/// A point of the organization bench from its `--regions` and `--services`.
fn point_of(regions: &str, services: &str) -> Result<organization::Point> {
    Ok(organization::Point {
        regions: organization::Regions::parse(regions),
        services: organization::Services::parse(services)?,
    })
}

fn print_json(point: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(point)
        .map_err(|e| BenchError::new(format!("serialize the point: {e}")))?;
    println!("{text}");
    Ok(())
}
