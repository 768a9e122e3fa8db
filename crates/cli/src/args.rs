//! The command line: global options (which setup, URLs, profiles, output) and one
//! subcommand per task.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use xacct_api::list_resources::Accounts;
use xacct_policy::AccountId;

const EXAMPLES: &str = "\
Examples:
  xacct setup --owner-stack xacct-owner --owner-profile owner --requestor-stack xacct-requestor --requestor-profile requestor
  xacct resources --service s3,ec2 --region us-east-1
  xacct accounts
  xacct resources --account all --service s3
  xacct grant arn:aws:s3:::reports --to 222222222222 --actions s3:GetObject --account 333333333333
  xacct permissions arn:aws:s3:::reports --level read,list
  xacct grant arn:aws:s3:::reports --to 222222222222 --actions s3:GetObject,s3:ListBucket --dry-run
  xacct grant arn:aws:s3:::reports --to 222222222222 --role arn:aws:iam::222222222222:role/app --level read --expires-in 7d
  xacct requestor-setup arn:aws:iam::111111111111:role/xacct/NAME --service lambda.amazonaws.com --external-id ID --expires-at 2026-12-31T18:00:00Z
  xacct check arn:aws:iam::111111111111:role/xacct/NAME --requestor-role arn:aws:iam::222222222222:role/xacct/APP --external-id ID
  xacct check arn:aws:iam::111111111111:role/xacct/NAME --external-id ID --live --profile requestor
  xacct grants --resource arn:aws:s3:::reports
  xacct revoke arn:aws:iam::111111111111:role/xacct/NAME --requestor-role arn:aws:iam::222222222222:role/xacct/APP --yes
  xacct wizard
  xacct console
  xacct simulate --principal arn:aws:iam::222222222222:user/ana --action s3:GetObject \
      --resource arn:aws:s3:::reports/q4.csv --identity-policy ana.json --resource-policy bucket.json
  xacct simulate --role arn:aws:iam::111111111111:role/xacct/NAME --action s3:ListBucket --resource arn:aws:s3:::reports

Configuration comes from flags, then XACCT_* environment variables, then the config file
(~/.config/xacct/config.toml, named setups). `xacct config` shows what is in effect.

Exit codes: 0 done, 1 other failure, 2 bad input or not found, 3 refused (AWS refused,
or a conflict), 4 a Function URL was unreachable.";

/// Secure cross-account access in AWS: least-privilege roles between an owner and a
/// requestor account.
#[derive(Debug, Parser)]
#[command(name = "xacct", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Named setup from the config file.
    #[arg(long, global = true, env = "XACCT_SETUP")]
    pub setup: Option<String>,
    /// Config file (default: ~/.config/xacct/config.toml).
    #[arg(long, global = true, env = "XACCT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Owner side base URL (`http://127.0.0.1:9000` for the local stack) or a template with `{function}`.
    #[arg(long, global = true, env = "XACCT_OWNER_URL")]
    pub owner_url: Option<String>,
    /// Requestor side base URL or template.
    #[arg(long, global = true, env = "XACCT_REQUESTOR_URL")]
    pub requestor_url: Option<String>,
    /// AWS profile that signs owner-side calls.
    #[arg(long, global = true, env = "XACCT_OWNER_PROFILE")]
    pub owner_profile: Option<String>,
    /// AWS profile that signs requestor-side calls.
    #[arg(long, global = true, env = "XACCT_REQUESTOR_PROFILE")]
    pub requestor_profile: Option<String>,
    /// Region for SigV4 when the URL does not show it.
    #[arg(long, global = true, env = "XACCT_REGION")]
    pub region: Option<String>,
    /// Do not sign requests (the local stack does not check signatures).
    #[arg(long, global = true)]
    pub no_sign: bool,
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table, env = "XACCT_OUTPUT")]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the owner account's resources (S3, EC2, Lambda, RDS) in every enabled region.
    Resources(ResourcesArgs),
    /// The organization's accounts and whether the hub reaches each (organization hub only).
    Accounts,
    /// List the IAM actions that apply to a resource, grouped by access level.
    Permissions(PermissionsArgs),
    /// Create (or update) the owner role that grants a requestor access to a resource.
    Grant(GrantArgs),
    /// Create the requestor-side role a service assumes to reach an owner role.
    RequestorSetup(RequestorArgs),
    /// Does a grant work? Both sides' live policies evaluated together; `--live` really
    /// assumes the role.
    Check(CheckArgs),
    /// Every grant xacct manages in the owner account.
    Grants(GrantsArgs),
    /// Delete a grant's owner role (and, if named, the requestor side).
    Revoke(RevokeArgs),
    /// The whole flow, interactively.
    Wizard,
    /// Serve the web console on 127.0.0.1.
    Console(ConsoleArgs),
    /// Evaluate a request against policies, offline (files, or a live role with --role):
    /// the decision and the statements that decide it. Exit code 0 allowed, 1 denied.
    Simulate(crate::simulate::SimulateArgs),
    /// Write a named setup of the config file from the deployed stacks' outputs (the
    /// Function URLs), so the other commands work right after `sam deploy`.
    Setup(crate::setup::SetupArgs),
    /// Show the configuration in effect and where each value comes from.
    Config,
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ResourcesArgs {
    /// Services, comma-separated: s3, ec2, lambda, rds.
    #[arg(long, value_delimiter = ',')]
    pub service: Vec<String>,
    /// Regions, comma-separated (default: every enabled region).
    #[arg(long, value_delimiter = ',')]
    pub region: Vec<String>,
    /// Only names starting with this (case-insensitive).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Most resources to show.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Organization hub: the member account to list (12 digits), several comma-separated,
    /// or `all` of the organization's accounts (default: the hub's own).
    #[arg(long, value_name = "all|ACCOUNT_ID[,...]", value_parser = parse_accounts)]
    pub account: Option<Accounts>,
}

/// `--account` of `resources`: `all`, or account ids, read as the function reads
/// `account_id`, so the CLI refuses what the function would, before sending anything.
fn parse_accounts(raw: &str) -> Result<Accounts, String> {
    let query = std::collections::BTreeMap::from([("account_id".to_owned(), vec![raw.to_owned()])]);
    xacct_api::list_resources::accounts(&query).map_err(|e| e.message)
}

/// The `account_id` a selection of accounts is sent as; `None` for the hub's own.
pub fn accounts_query(accounts: &Accounts) -> Option<String> {
    match accounts {
        Accounts::Home => None,
        Accounts::All => Some("all".to_owned()),
        Accounts::One(id) => Some(id.to_string()),
        Accounts::Several(ids) => Some(
            ids.iter()
                .map(AccountId::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}

#[derive(Debug, Clone, Args)]
pub struct PermissionsArgs {
    /// The resource's ARN (any service).
    pub arn: String,
    /// Only these access levels: list, read, write, permissions-management, tagging.
    #[arg(long, value_delimiter = ',')]
    pub level: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct GrantArgs {
    /// The resource's ARN.
    pub arn: String,
    /// The requestor account id.
    #[arg(long = "to")]
    pub to: String,
    /// The requestor role (it may not exist yet).
    #[arg(long)]
    pub role: Option<String>,
    /// Actions, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "level",
        conflicts_with = "level"
    )]
    pub actions: Vec<String>,
    /// Every action at these access levels (list, read, write, tagging).
    #[arg(long, value_delimiter = ',')]
    pub level: Vec<String>,
    /// External ID (default: generated and shown).
    #[arg(long)]
    pub external_id: Option<String>,
    /// Require MFA to assume the role.
    #[arg(long)]
    pub mfa: bool,
    /// Longest session, in seconds (3600 to 43200).
    #[arg(long)]
    pub max_session: Option<i64>,
    /// Role name (default: derived from the resource and the requestor).
    #[arg(long)]
    pub role_name: Option<String>,
    /// Permit permissions-management actions such as s3:PutBucketPolicy.
    #[arg(long)]
    pub allow_permissions_management: bool,
    /// Only principals of this AWS Organization.
    #[arg(long)]
    pub org: Option<String>,
    /// For an RDS DB instance or cluster: the database user a granted `rds-db:connect` logs
    /// in as (IAM database authentication).
    #[arg(long)]
    pub db_user: Option<String>,
    /// End the grant after this long (`7d`, `12h`, `90m`): AWS refuses to assume the role
    /// afterwards.
    #[arg(long, conflicts_with = "expires_at")]
    pub expires_in: Option<String>,
    /// End the grant at this time (RFC 3339, `2026-12-31T18:00:00Z`).
    #[arg(long)]
    pub expires_at: Option<String>,
    /// Allow a repeat to trust more principals than the grant does now (drop the role
    /// restriction, MFA, the organization or the expiry).
    #[arg(long)]
    pub widen_trust: bool,
    /// Organization hub: the member account to work in (default: the hub's own).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<AccountId>,
    /// Show what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RequestorArgs {
    /// The owner role's ARN.
    pub owner_role_arn: String,
    /// The service principal that runs the code (lambda.amazonaws.com, ec2.amazonaws.com, ...).
    #[arg(long, required_unless_present_any = ["group", "user"], conflicts_with_all = ["group", "user"])]
    pub service: Option<String>,
    /// An existing IAM group whose members may assume the owner role.
    #[arg(long, conflicts_with = "user")]
    pub group: Option<String>,
    /// An existing IAM user who may assume the owner role.
    #[arg(long)]
    pub user: Option<String>,
    /// People only: allow it only from an MFA-signed session.
    #[arg(long)]
    pub mfa: bool,
    /// The External ID of the owner role (kept for the hand-off).
    #[arg(long)]
    pub external_id: Option<String>,
    /// Role name (default: derived).
    #[arg(long)]
    pub role_name: Option<String>,
    /// When the owner's grant ends (its `expires_at`, RFC 3339): a service role is removed
    /// by the requestor side's sweep afterwards, a person's policy allows only until then.
    #[arg(long)]
    pub expires_at: Option<String>,
    /// Show what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    #[arg(long, default_value_t = 0, env = "XACCT_CONSOLE_PORT")]
    pub port: u16,
}

/// Who on the requestor side: the role `requestor-setup` made, or a group or user.
#[derive(Debug, Clone, Args, Default)]
pub struct RequestorSide {
    /// The requestor role (created by `requestor-setup`).
    #[arg(long, conflicts_with_all = ["group", "user"])]
    pub requestor_role: Option<String>,
    /// The requestor group (xacct's inline policy on it).
    #[arg(long, conflicts_with = "user")]
    pub group: Option<String>,
    /// The requestor user (xacct's inline policy on it).
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The owner role's ARN.
    pub role_arn: String,
    /// Who calls sts:AssumeRole (default: the requestor role, group or user named below).
    #[arg(long)]
    pub principal: Option<String>,
    /// The External ID the caller passes.
    #[arg(long)]
    pub external_id: Option<String>,
    /// The caller signs in with MFA.
    #[arg(long)]
    pub mfa: bool,
    #[command(flatten)]
    pub requestor: RequestorSide,
    /// Really call sts:AssumeRole with your own credentials (retrying while IAM propagates,
    /// up to 150 s), then one read-only call on the resource.
    #[arg(long)]
    pub live: bool,
    /// AWS profile whose credentials are the requestor principal (with --live).
    #[arg(long, requires = "live")]
    pub profile: Option<String>,
    /// MFA device ARN (with --live, for roles that require MFA).
    #[arg(long, requires = "mfa_code")]
    pub mfa_serial: Option<String>,
    /// Current MFA code (with --mfa-serial).
    #[arg(long, requires = "mfa_serial")]
    pub mfa_code: Option<String>,
    /// Organization hub: the member account the role is in (default: the hub's own).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<AccountId>,
}

#[derive(Debug, Clone, Args)]
pub struct GrantsArgs {
    /// Only grants on this resource ARN.
    #[arg(long)]
    pub resource: Option<String>,
    /// Only grants to this requestor account.
    #[arg(long)]
    pub requestor: Option<String>,
    /// Only grants that have ended.
    #[arg(long, conflicts_with = "running")]
    pub expired: bool,
    /// Only grants that have not ended.
    #[arg(long)]
    pub running: bool,
    /// Only grants that end within this long (`7d`, `12h`).
    #[arg(long)]
    pub expiring_within: Option<String>,
    /// Organization hub: the member account whose grants to list (default: the hub's own).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<AccountId>,
}

#[derive(Debug, Clone, Args)]
pub struct RevokeArgs {
    /// The owner role's ARN.
    pub role_arn: String,
    /// Also remove the requestor side named here.
    #[command(flatten)]
    pub requestor: RequestorSide,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Organization hub: the member account the owner role is in (default: the hub's own).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<AccountId>,
}

#[cfg(test)]
pub(crate) mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("xacct").chain(args.iter().copied())).map(|c| c.command)
    }

    const ROLE: &str = "arn:aws:iam::333333333333:role/xacct/r";

    /// A grant's command line, without the account.
    pub(crate) const GRANT: &[&str] = &[
        "grant",
        "arn:aws:s3:::b",
        "--to",
        "222222222222",
        "--actions",
        "s3:GetObject",
    ];

    #[test]
    fn every_owner_command_takes_the_account_as_a_typed_account_id() {
        let member: AccountId = "333333333333".parse().unwrap();
        let account = |args: &[&str]| match parse(&[args, &["--account", "333333333333"]].concat())
            .unwrap()
        {
            Command::Grant(a) => a.account,
            Command::Grants(a) => a.account,
            Command::Check(a) => a.account,
            Command::Revoke(a) => a.account,
            other => panic!("{other:?}"),
        };
        for args in [
            GRANT,
            &["grants"],
            &[
                "check",
                ROLE,
                "--principal",
                "arn:aws:iam::222222222222:root",
            ],
            &["revoke", ROLE, "--yes"],
        ] {
            assert_eq!(account(args), Some(member.clone()), "{args:?}");
        }
        let Command::Grants(none) = parse(&["grants"]).unwrap() else {
            panic!("grants")
        };
        assert_eq!(none.account, None);
    }

    #[test]
    fn a_bad_account_is_refused_by_the_flag_before_anything_is_sent() {
        for args in [
            &["grants", "--account", "12345"][..],
            &["revoke", ROLE, "--account", "all"],
            &["resources", "--account", "33333333333x"],
            &["resources", "--account", "all,333333333333"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
            let text = err.to_string();
            assert!(text.contains("--account"), "{text}");
        }
        let text = parse(&["grants", "--account", "12345"])
            .unwrap_err()
            .to_string();
        assert!(text.contains("must be 12 digits, got `12345`"), "{text}");
    }

    #[test]
    fn resources_take_all_or_a_list_of_accounts() {
        let accounts = |value: &str| match parse(&["resources", "--account", value]).unwrap() {
            Command::Resources(a) => a.account,
            other => panic!("{other:?}"),
        };
        assert_eq!(accounts("all"), Some(Accounts::All));
        let one = accounts("333333333333").unwrap();
        assert_eq!(accounts_query(&one).as_deref(), Some("333333333333"));
        let several = accounts("333333333333, 444444444444,333333333333").unwrap();
        assert!(matches!(&several, Accounts::Several(ids) if ids.len() == 2));
        assert_eq!(
            accounts_query(&several).as_deref(),
            Some("333333333333,444444444444")
        );
        assert_eq!(accounts_query(&Accounts::All).as_deref(), Some("all"));
        assert_eq!(accounts_query(&Accounts::Home), None);
    }
}
