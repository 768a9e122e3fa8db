//! `xacct-devstack`: xacct's local stack on one machine. moto (emulated AWS holding an
//! owner and a requestor account, seeded with demo resources, and an organization whose
//! management account, the owner, is the hub of three member accounts), and the ten
//! functions' built binaries behind Function URLs (`emulator.rs`), one port per side, each side with
//! its own credentials. Everything it writes is in `.local/`
//! (git-ignored): `stack.json` (what runs, where, with which credentials), `aws/` (empty AWS
//! files for the functions) and `logs/`.
//!
//! Environment: `XACCT_MOTO_PORT` (5000), `XACCT_OWNER_PORT` (9000), `XACCT_REQUESTOR_PORT`
//! (9001), `XACCT_INSTANCES` (processes per function, 4), `XACCT_STACK_TIMEOUT` (seconds
//! `up` waits for the functions, 120), `XACCT_RUST_LOG` (the functions' `RUST_LOG`, info),
//! `CARGO_TARGET_DIR` (where the binaries are;
//! default `~/.cache/xacct-target`).
//!
//! moto maps an unknown access key to its default account without an error, so every `up`
//! starts a fresh moto, assumes each side's role afresh and checks the account it lands in.

mod emulator;
mod member_stack;
mod organization;
mod run;
mod seed;
mod stack;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::stack::{Mode, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "xacct-devstack",
    about = "xacct's local stack: moto and the functions"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start moto, seed it, start the functions and wait until each answers.
    Up {
        /// Return once the stack answers; `down` stops it.
        #[arg(long, conflicts_with = "detached")]
        background: bool,
        /// Internal: the supervisor `--background` starts.
        #[arg(long, hide = true)]
        detached: bool,
    },
    /// Stop everything the stack file records.
    Down,
    /// Show what runs (exit 0 healthy, 1 degraded, 3 none).
    Status,
    /// A fresh moto, seeded again, new credentials: `down`, then `up --background`.
    Reset,
}

async fn main_result() -> Result<i32> {
    let args = Args::parse();
    let settings = Settings::from_env()?;
    match args.command {
        Command::Up {
            background: true, ..
        } => run::up_in_background(&settings).await,
        Command::Up { detached, .. } => {
            let mode = if detached {
                Mode::Background
            } else {
                Mode::Foreground
            };
            run::up(&settings, mode).await
        }
        Command::Down => run::down(&settings).await,
        Command::Status => run::status(&settings).await,
        Command::Reset => {
            run::down(&settings).await?;
            run::up_in_background(&settings).await
        }
    }
}

#[tokio::main]
async fn main() {
    let code = match main_result().await {
        Ok(code) => code,
        Err(e) => {
            run::log(&format!("error: {e:#}"));
            1
        }
    };
    std::process::exit(code);
}
