//! `xacct`: parse the command line, run the command, map failures to exit codes.

use clap::Parser;
use xacct_cli::args::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match xacct_cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let code = xacct_cli::exit_code(&err);
            // A denied simulation already printed its verdict; the exit code says the rest.
            if err.downcast_ref::<xacct_cli::simulate::Denied>().is_none() {
                eprintln!("error: {}", xacct_cli::describe(&err));
            }
            std::process::ExitCode::from(code)
        }
    }
}
