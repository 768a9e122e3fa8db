//! One function per command: call the functions, print tables or JSON. No IAM logic lives
//! here; it is all in the functions and `xacct-policy`.

use serde::Serialize;
use xacct_api::create_owner_role::{CreateOwnerRoleRequest, CreateOwnerRoleResponse};
use xacct_api::create_requestor_resources::{CreateRequestorRequest, CreateRequestorResponse};
use xacct_api::list_accounts::{ListAccountsResponse, SpokeState};
use xacct_api::list_permissions::PermissionsResponse;
use xacct_api::list_resources::ResourcesResponse;
use xacct_aws::discovery::{DiscoveredResource, PartialFailure};
use xacct_policy::PolicyDocument;
use xacct_policy::access_diff::AccessDiff;
use xacct_policy::catalog::AccessLevel;
use xacct_policy::handoff::HandOff;
use xacct_policy::validate::Finding;

use crate::args::{
    GrantArgs, Output, PermissionsArgs, RequestorArgs, ResourcesArgs, accounts_query,
};
use crate::client::{CallError, Client};
use crate::output::{note, print, spinner, table};

async fn with_spinner<T>(label: &str, f: impl std::future::Future<Output = T>) -> T {
    let bar = spinner(label);
    let out = f.await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}

pub(crate) fn json_out(value: &impl Serialize) {
    print(&serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Every page of `list-resources` together, as `-o json` prints it.
#[derive(Debug, Serialize)]
pub struct AllResources {
    pub resources: Vec<DiscoveredResource>,
    pub partial_failures: Vec<PartialFailure>,
}

/// All resources, following `next_cursor` up to `limit`.
pub async fn fetch_resources(
    client: &Client,
    args: &ResourcesArgs,
) -> Result<AllResources, CallError> {
    let mut resources = Vec::new();
    let mut failures = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query: Vec<(&str, String)> = Vec::new();
        if !args.service.is_empty() {
            query.push(("service", args.service.join(",")));
        }
        if !args.region.is_empty() {
            query.push(("region", args.region.join(",")));
        }
        if let Some(p) = &args.prefix {
            query.push(("name_prefix", p.clone()));
        }
        if let Some(a) = args.account.as_ref().and_then(accounts_query) {
            query.push(("account_id", a));
        }
        query.push(("limit", args.limit.clamp(1, 1000).to_string()));
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page: ResourcesResponse = client.get("list-resources", &query).await?;
        resources.extend(page.resources);
        if failures.is_empty() {
            failures = page.partial_failures;
        }
        cursor = page.next_cursor;
        if cursor.is_none() || resources.len() >= args.limit {
            break;
        }
    }
    resources.truncate(args.limit);
    Ok(AllResources {
        resources,
        partial_failures: failures,
    })
}

pub async fn resources(
    client: &Client,
    args: &ResourcesArgs,
    output: Output,
) -> Result<(), CallError> {
    let all = with_spinner(
        "discovering resources in every region",
        fetch_resources(client, args),
    )
    .await?;
    for f in &all.partial_failures {
        note(&format!(
            "warning: {} could not be listed: {} ({})",
            f.what(),
            f.message,
            f.code
        ));
    }
    if output == Output::Json {
        json_out(&all);
        return Ok(());
    }
    print(&resources_table(&all.resources));
    Ok(())
}

/// The resources as a table; with an ACCOUNT column when they span more than one account.
pub fn resources_table(resources: &[DiscoveredResource]) -> String {
    let accounts: std::collections::BTreeSet<_> =
        resources.iter().map(|r| r.account_id.as_ref()).collect();
    let by_account = accounts.len() > 1;
    let rows: Vec<Vec<String>> = resources
        .iter()
        .map(|r| {
            let tags = r
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let account = r
                .account_id
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            Some(account)
                .filter(|_| by_account)
                .into_iter()
                .chain([
                    r.service.to_string(),
                    r.resource_type.to_string(),
                    r.region.clone(),
                    r.name.clone(),
                    r.arn.clone(),
                    tags,
                ])
                .collect()
        })
        .collect();
    let headers = [
        "ACCOUNT", "SERVICE", "TYPE", "REGION", "NAME", "ARN", "TAGS",
    ];
    let headers = if by_account {
        headers.as_slice()
    } else {
        headers.get(1..).unwrap_or_default()
    };
    table(headers, &rows, 70)
}

/// The organization's accounts (`list-accounts`); a clear error for a setup that is no hub.
pub async fn fetch_accounts(client: &Client) -> Result<ListAccountsResponse, CallError> {
    client.settings.hub_url()?;
    client.get(crate::config::HUB_FUNCTION, &[]).await
}

/// How a spoke state reads in the table: the word `-o json` gives.
fn spoke_word(state: SpokeState) -> &'static str {
    match state {
        SpokeState::Hub => "hub",
        SpokeState::Reachable => "reachable",
        SpokeState::Unreachable => "unreachable",
    }
}

/// `xacct accounts`: the organization's accounts, and whether the hub reaches each.
pub async fn accounts(client: &Client, output: Output) -> Result<(), CallError> {
    let answer = with_spinner("reading the organization", fetch_accounts(client)).await?;
    if output == Output::Json {
        json_out(&answer);
        return Ok(());
    }
    print(&format!("organization {}", answer.organization_id));
    let rows: Vec<Vec<String>> = answer
        .accounts
        .iter()
        .map(|a| {
            vec![
                a.account_id.clone(),
                a.name.clone(),
                a.status.clone(),
                spoke_word(a.spoke).to_owned(),
                a.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print(&table(
        &["ACCOUNT", "NAME", "STATUS", "SPOKE", "REASON"],
        &rows,
        60,
    ));
    Ok(())
}

pub async fn fetch_permissions(
    client: &Client,
    arn: &str,
    levels: &[String],
) -> Result<PermissionsResponse, CallError> {
    let mut query = vec![("arn", arn.to_owned())];
    if !levels.is_empty() {
        query.push(("access_levels", levels.join(",")));
    }
    client.get("list-permissions", &query).await
}

pub async fn permissions(
    client: &Client,
    args: &PermissionsArgs,
    output: Output,
) -> Result<(), CallError> {
    let answer = fetch_permissions(client, &args.arn, &args.level).await?;
    if output == Output::Json {
        json_out(&answer);
        return Ok(());
    }
    print(&format!(
        "{} ({}, {})",
        answer.arn, answer.service_name, answer.resource_type
    ));
    let rows: Vec<Vec<String>> = answer
        .actions
        .iter()
        .map(|a| {
            vec![
                a.access_level.to_string(),
                a.action.clone(),
                a.resource.clone(),
                a.description.clone(),
            ]
        })
        .collect();
    print(&table(
        &["LEVEL", "ACTION", "GRANTED ON", "DESCRIPTION"],
        &rows,
        80,
    ));
    Ok(())
}

/// The actions at `levels` that apply to the resource (for `grant --level`).
async fn actions_at_levels(
    client: &Client,
    arn: &str,
    levels: &[String],
) -> Result<Vec<String>, CallError> {
    let answer = fetch_permissions(client, arn, levels).await?;
    Ok(answer
        .actions
        .into_iter()
        .filter(|a| a.access_level != AccessLevel::PermissionsManagement)
        .map(|a| a.action)
        .collect())
}

/// The `create-owner-role` request for a grant.
pub fn grant_body(args: &GrantArgs, actions: &[String]) -> CreateOwnerRoleRequest {
    CreateOwnerRoleRequest {
        resource_arn: args.arn.clone(),
        actions: actions.to_vec(),
        requestor_account_id: args.to.clone(),
        requestor_role_arn: args.role.clone(),
        external_id: args.external_id.clone(),
        require_mfa: args.mfa,
        max_session_duration: args.max_session,
        role_name: args.role_name.clone(),
        allow_permissions_management: args.allow_permissions_management,
        principal_org_id: args.org.clone(),
        db_user: args.db_user.clone(),
        expires_at: args.expires_at.clone(),
        expires_in: args.expires_in.clone(),
        widen_trust: args.widen_trust,
        dry_run: args.dry_run,
        account_id: args.account.as_ref().map(ToString::to_string),
    }
}

/// A create answer: the owner role's or the requestor side's.
#[derive(Debug)]
pub enum Created {
    Owner(Box<CreateOwnerRoleResponse>),
    Requestor(Box<CreateRequestorResponse>),
}

/// What every create answer says, whichever side made it.
struct Outcome<'a> {
    what: String,
    dry_run: bool,
    changed: bool,
    changes: &'a [String],
    access_diff: &'a AccessDiff,
    external_id: Option<&'a str>,
    /// When the grant ends; `None` for a permanent one.
    expires_at: Option<&'a str>,
    findings: &'a [Finding],
    handoff: &'a HandOff,
}

impl Created {
    fn outcome(&self) -> Outcome<'_> {
        match self {
            Self::Owner(a) => Outcome {
                what: format!("role {}", a.role_arn),
                dry_run: a.dry_run,
                changed: a.changed,
                changes: &a.changes,
                access_diff: &a.access_diff,
                external_id: Some(&a.external_id),
                expires_at: a.expires_at.as_deref(),
                findings: &a.findings,
                handoff: &a.handoff,
            },
            Self::Requestor(a) => Outcome {
                what: match &a.role_arn {
                    Some(role) => format!("role {role}"),
                    None => format!("policy `{}` on {}", a.policy_name, a.principal_arn),
                },
                dry_run: a.dry_run,
                changed: a.changed,
                changes: &a.changes,
                access_diff: &a.access_diff,
                external_id: a.external_id.as_deref(),
                expires_at: a.expires_at.as_deref(),
                findings: &a.findings,
                handoff: &a.handoff,
            },
        }
    }

    /// The documents the answer holds, by the key it holds them under.
    fn documents(&self) -> Vec<(&'static str, &PolicyDocument)> {
        match self {
            Self::Owner(a) => vec![
                ("trust_policy", &a.trust_policy),
                ("permissions_policy", &a.permissions_policy),
            ],
            Self::Requestor(a) => a
                .trust_policy
                .iter()
                .map(|t| ("trust_policy", t))
                .chain([("policy", &a.policy)])
                .collect(),
        }
    }
}

/// Prints a create answer: what was (or would be) done, findings, the hand-off.
pub fn show_created(answer: &Created, output: Output) {
    if output == Output::Json {
        match answer {
            Created::Owner(a) => json_out(a),
            Created::Requestor(a) => json_out(a),
        }
        return;
    }
    let o = answer.outcome();
    let verb = match (o.dry_run, o.changed) {
        (true, true) => "would change",
        (true, false) => "is already up to date",
        (false, true) => "created or updated",
        (false, false) => "already up to date",
    };
    print(&format!("{} {verb}", o.what));
    for c in o.changes {
        print(&format!("  - {c}"));
    }
    for line in o.access_diff.lines() {
        print(&line);
    }
    if let Some(ext) = o.external_id {
        print(&format!("external id: {ext}"));
    }
    if let Some(at) = o.expires_at {
        print(&format!(
            "expires: {at} (AWS refuses to assume the role from then on)"
        ));
    }
    if let Created::Requestor(a) = answer
        && let Some(p) = &a.instance_profile_arn
    {
        print(&format!("instance profile: {p}"));
    }
    for f in o.findings {
        print(&format!("{}: {} {}", f.severity, f.code, f.message));
    }
    for (key, doc) in answer.documents() {
        print(&format!(
            "\n{key}:\n{}",
            serde_json::to_string_pretty(doc).unwrap_or_default()
        ));
    }
    show_handoff(o.handoff);
}

/// Prints the hand-off: profile, command, link; the infrastructure code is in the JSON
/// output (`-o json`).
pub fn show_handoff(handoff: &HandOff) {
    print("\nfor the requestor:");
    if let Some(profile) = &handoff.aws_config {
        print(&format!("~/.aws/config:\n{profile}"));
    }
    print(&format!("command:\n  {}", handoff.assume_role_command));
    if let Some(url) = &handoff.switch_role_url {
        print(&format!("console: {url}"));
    }
    for n in &handoff.notes {
        print(&format!("note: {n}"));
    }
    note(
        "CloudFormation and Terraform for this grant: -o json, keys handoff.cloudformation and handoff.terraform",
    );
}

pub async fn grant(client: &Client, args: &GrantArgs, output: Output) -> Result<(), CallError> {
    let actions = if args.actions.is_empty() {
        actions_at_levels(client, &args.arn, &args.level).await?
    } else {
        args.actions.clone()
    };
    let answer: CreateOwnerRoleResponse = with_spinner(
        "creating the owner role",
        client.post("create-owner-role", &grant_body(args, &actions)),
    )
    .await?;
    show_created(&Created::Owner(Box::new(answer)), output);
    Ok(())
}

/// The `create-requestor-resources` request.
pub fn requestor_body(args: &RequestorArgs) -> CreateRequestorRequest {
    CreateRequestorRequest {
        owner_role_arn: args.owner_role_arn.clone(),
        service_principal: args.service.clone(),
        group_name: args.group.clone(),
        user_name: args.user.clone(),
        require_mfa: args.mfa,
        external_id: args.external_id.clone(),
        role_name: args.role_name.clone(),
        expires_at: args.expires_at.clone(),
        dry_run: args.dry_run,
    }
}

pub async fn requestor_setup(
    client: &Client,
    args: &RequestorArgs,
    output: Output,
) -> Result<(), CallError> {
    let answer: CreateRequestorResponse = with_spinner(
        "creating the requestor role",
        client.post("create-requestor-resources", &requestor_body(args)),
    )
    .await?;
    show_created(&Created::Requestor(Box::new(answer)), output);
    Ok(())
}

/// How the CLI reaches one function, or why it cannot (`xacct config -o json`).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum FunctionUrl<'a> {
    Found {
        function: &'a str,
        url: String,
        signed: bool,
        profile: Option<&'a str>,
    },
    Missing {
        function: &'a str,
        error: String,
    },
}

/// What `xacct config -o json` prints.
#[derive(Debug, Serialize)]
struct ConfigOutput<'a> {
    config_file: &'a str,
    setup: &'a Option<String>,
    values: &'a std::collections::BTreeMap<String, crate::config::Sourced>,
    functions: &'a [FunctionUrl<'a>],
}

pub fn show_config(client: &Client, output: Output) {
    let s = &client.settings;
    let functions = [
        "list-resources",
        "list-permissions",
        "create-owner-role",
        "create-requestor-resources",
        "list-grants",
        "check-owner-role",
        "revoke-grant",
        "check-requestor-role",
        "revoke-requestor-resources",
        crate::config::HUB_FUNCTION,
    ];
    let urls: Vec<FunctionUrl<'_>> = functions
        .iter()
        .map(|function| {
            let url = if *function == crate::config::HUB_FUNCTION {
                s.hub_url()
            } else {
                s.function_url(function)
            };
            (function, url)
        })
        .map(|(function, url)| match url {
            Ok(url) => FunctionUrl::Found {
                function,
                signed: s.sign(&url),
                url,
                profile: s.profile(function),
            },
            Err(e) => FunctionUrl::Missing {
                function,
                error: e.to_string(),
            },
        })
        .collect();
    if output == Output::Json {
        json_out(&ConfigOutput {
            config_file: &s.config_file,
            setup: &s.setup,
            values: &s.values,
            functions: &urls,
        });
        return;
    }
    print(&format!("config file: {}", s.config_file));
    print(&format!(
        "setup: {}",
        s.setup.as_deref().unwrap_or("(none)")
    ));
    let rows: Vec<Vec<String>> = s
        .values
        .iter()
        .map(|(k, v)| vec![k.clone(), v.value.clone(), v.source.clone()])
        .collect();
    print(&table(&["SETTING", "VALUE", "FROM"], &rows, 90));
    let rows: Vec<Vec<String>> = urls
        .iter()
        .map(|u| match u {
            FunctionUrl::Found {
                function,
                url,
                signed,
                profile,
            } => vec![
                (*function).to_owned(),
                url.clone(),
                if *signed {
                    format!("signed ({})", profile.unwrap_or("default chain"))
                } else {
                    "unsigned".to_owned()
                },
            ],
            FunctionUrl::Missing { function, error } => {
                vec![(*function).to_owned(), error.clone(), "unsigned".to_owned()]
            }
        })
        .collect();
    print(&table(&["FUNCTION", "URL", "SIGNING"], &rows, 90));
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn requestor_args(args: &[&str]) -> RequestorArgs {
        let cli = Cli::try_parse_from(
            [
                "xacct",
                "requestor-setup",
                "arn:aws:iam::111111111111:role/xacct/g",
            ]
            .iter()
            .chain(args),
        )
        .unwrap();
        match cli.command {
            Command::RequestorSetup(a) => a,
            other => panic!("{other:?}"),
        }
    }

    fn bucket(name: &str, account: Option<&str>) -> DiscoveredResource {
        DiscoveredResource {
            arn: format!("arn:aws:s3:::{name}"),
            service: xacct_aws::discovery::ServiceKind::S3,
            resource_type: xacct_aws::discovery::ResourceKind::Bucket,
            name: name.to_owned(),
            region: "us-east-1".to_owned(),
            tags: std::collections::BTreeMap::new(),
            account_id: account.map(|a| a.parse().unwrap()),
        }
    }

    #[test]
    fn resources_show_the_account_column_only_when_they_span_accounts() {
        let home = resources_table(&[bucket("a", None), bucket("b", None)]);
        assert!(home.starts_with("SERVICE"), "{home}");
        let one = resources_table(&[bucket("a", Some("333333333333"))]);
        assert!(one.starts_with("SERVICE"), "{one}");
        let two = resources_table(&[
            bucket("a", Some("333333333333")),
            bucket("b", Some("444444444444")),
        ]);
        let lines: Vec<&str> = two.lines().collect();
        assert!(lines[0].starts_with("ACCOUNT       SERVICE"), "{two}");
        assert!(lines[1].starts_with("333333333333  s3"), "{two}");
        assert!(lines[2].starts_with("444444444444  s3"), "{two}");
    }

    #[test]
    fn grant_sends_the_member_account_it_is_given() {
        let grant = |extra: &[&str]| {
            let cli = Cli::try_parse_from(
                std::iter::once(&"xacct")
                    .chain(crate::args::tests::GRANT)
                    .chain(extra),
            )
            .unwrap();
            match cli.command {
                Command::Grant(a) => grant_body(&a, &a.actions),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            grant(&["--account", "333333333333"]).account_id.as_deref(),
            Some("333333333333")
        );
        let home = serde_json::to_value(grant(&[])).unwrap();
        assert!(home.get("account_id").is_none(), "{home}");
    }

    #[test]
    fn requestor_setup_sends_the_owner_grants_expiry_it_is_given() {
        let body = requestor_body(&requestor_args(&[
            "--user",
            "ana",
            "--expires-at",
            "2026-12-31T18:00:00Z",
        ]));
        assert_eq!(body.expires_at.as_deref(), Some("2026-12-31T18:00:00Z"));
        assert_eq!(body.user_name.as_deref(), Some("ana"));
        let permanent = requestor_body(&requestor_args(&["--service", "lambda.amazonaws.com"]));
        assert_eq!(permanent.expires_at, None);
        assert!(
            serde_json::to_value(&permanent)
                .unwrap()
                .get("expires_at")
                .is_none_or(serde_json::Value::is_null)
        );
    }
}
