//! The `xacct` command line and web console. Thin by design: commands call the Function
//! URLs (signed with SigV4) and print what they answer; the IAM knowledge is in the
//! functions.

pub mod args;
pub mod client;
pub mod commands;
pub mod config;
pub mod console;
pub mod lifecycle;
pub mod output;
pub mod setup;
pub mod simulate;
pub mod wizard;

use clap::CommandFactory;

use crate::args::{Cli, Command};
use crate::client::{CallError, Client};
use crate::config::Settings;

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let output = cli.global.output;
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "xacct", &mut std::io::stdout());
        return Ok(());
    }
    // Offline: no setup, no Function URL.
    if let Command::Simulate(a) = &cli.command {
        return simulate::run(a, output).await;
    }
    // Writes the config file the other commands read: no setup needed yet.
    if let Command::Setup(a) = &cli.command {
        return setup::run(&cli.global, a, output).await;
    }
    let settings = Settings::load(&cli.global).map_err(CallError::from)?;
    let client = Client::new(settings)?;
    match cli.command {
        Command::Resources(a) => commands::resources(&client, &a, output).await?,
        Command::Accounts => commands::accounts(&client, output).await?,
        Command::Permissions(a) => commands::permissions(&client, &a, output).await?,
        Command::Grant(a) => commands::grant(&client, &a, output).await?,
        Command::RequestorSetup(a) => commands::requestor_setup(&client, &a, output).await?,
        Command::Check(a) => lifecycle::check(&client, &a, output).await?,
        Command::Grants(a) => lifecycle::grants(&client, &a, output).await?,
        Command::Revoke(a) => lifecycle::revoke(&client, &a, output).await?,
        Command::Wizard => wizard::run(&client).await?,
        Command::Console(a) => console::serve(client, a.port).await?,
        Command::Config => commands::show_config(&client, output),
        Command::Completions { .. } | Command::Simulate(_) | Command::Setup(_) => {}
    }
    Ok(())
}

/// The exit code for a failure: 1 a simulation denied (or another failure), 2 bad input or
/// not found, 3 refused, 4 unreachable.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<simulate::Denied>().is_some() {
        return 1;
    }
    if let Some(e) = err.downcast_ref::<setup::SetupError>() {
        return match e {
            setup::SetupError::Describe { .. } => 3,
            setup::SetupError::Read { .. } | setup::SetupError::Write { .. } => 1,
            _ => 2,
        };
    }
    match err.downcast_ref::<CallError>() {
        Some(CallError::Api { status, .. }) if *status == 409 || *status >= 500 => 3,
        Some(CallError::Api { .. }) => 2,
        Some(CallError::Config(_)) => 2,
        Some(CallError::Unreachable { .. }) => 4,
        Some(CallError::Credentials { .. }) => 3,
        _ => 1,
    }
}

/// The failure in words, naming the field that is wrong.
pub fn describe(err: &anyhow::Error) -> String {
    match err.downcast_ref::<CallError>() {
        Some(CallError::Api {
            message,
            field: Some(field),
            code,
            ..
        }) => format!("{message} (field `{field}`, {code})"),
        Some(CallError::Api { message, code, .. }) => format!("{message} ({code})"),
        _ => format!("{err:#}"),
    }
}
