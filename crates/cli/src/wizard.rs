//! `xacct wizard`: the whole flow in the terminal: pick a resource from a filterable list,
//! pick actions grouped by access level, review both policies and the findings, create,
//! then set up the requestor side.

use std::io::IsTerminal;

use dialoguer::{Confirm, FuzzySelect, Input, MultiSelect, Select};
use xacct_api::create_owner_role::{CreateOwnerRoleRequest, CreateOwnerRoleResponse};
use xacct_api::create_requestor_resources::{CreateRequestorRequest, CreateRequestorResponse};
use xacct_api::list_accounts::{AccountView, SpokeState};
use xacct_api::list_permissions::ActionEntry;
use xacct_api::list_resources::Accounts;
use xacct_policy::AccountId;
use xacct_policy::catalog::AccessLevel;

use crate::args::{Output, ResourcesArgs};
use crate::client::{CallError, Client};
use crate::commands::{Created, fetch_accounts, fetch_permissions, fetch_resources, show_created};
use crate::output::print;

const PRINCIPALS: &[&str] = &[
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "states.amazonaws.com",
];

fn prompt_err(e: dialoguer::Error) -> anyhow::Error {
    anyhow::anyhow!("prompt failed: {e}")
}

/// In an organization hub, the account to share from: the hub's own or a member the hub
/// reaches. A setup that is no hub is not asked.
async fn pick_account(client: &Client) -> anyhow::Result<Option<AccountId>> {
    if client.settings.hub_url().is_err() {
        return Ok(None);
    }
    let organization = match fetch_accounts(client).await {
        Ok(o) => o,
        // A deployment that is no hub (a base URL serves every function): nothing to choose.
        Err(CallError::Api { code, .. }) if code == "NotAHub" => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let choices: Vec<&AccountView> = organization
        .accounts
        .iter()
        .filter(|a| a.spoke != SpokeState::Unreachable)
        .collect();
    let labels: Vec<String> = choices
        .iter()
        .map(|a| {
            let hub = if a.spoke == SpokeState::Hub {
                " (hub)"
            } else {
                ""
            };
            format!("{}  {}{hub}", a.account_id, a.name)
        })
        .collect();
    let at = Select::new()
        .with_prompt("Account the resource is in")
        .items(&labels)
        .default(0)
        .interact()
        .map_err(prompt_err)?;
    match choices.get(at) {
        Some(a) if a.spoke != SpokeState::Hub => Ok(Some(a.account_id.parse()?)),
        _ => Ok(None),
    }
}

pub async fn run(client: &Client) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the wizard needs a terminal; use `xacct grant` and `xacct requestor-setup` in scripts"
        );
    }
    let account = pick_account(client).await?;
    let all = fetch_resources(
        client,
        &ResourcesArgs {
            service: vec![],
            region: vec![],
            prefix: None,
            limit: 1000,
            account: account.clone().map(Accounts::One),
        },
    )
    .await?;
    let resources = all.resources;
    let mut items: Vec<String> = resources
        .iter()
        .map(|r| {
            format!(
                "{:<7} {:<9} {:<14} {}",
                r.service.to_string(),
                r.resource_type.to_string(),
                r.region,
                r.name
            )
        })
        .collect();
    items.push("(type an ARN)".to_owned());
    let pick = FuzzySelect::new()
        .with_prompt("Resource (type to filter)")
        .items(&items)
        .default(0)
        .interact()
        .map_err(prompt_err)?;
    let arn: String = match resources.get(pick) {
        Some(r) => r.arn.clone(),
        None => Input::new()
            .with_prompt("ARN")
            .interact_text()
            .map_err(prompt_err)?,
    };

    let permissions = fetch_permissions(client, &arn, &[]).await?;
    let actions: Vec<ActionEntry> = permissions
        .actions
        .into_iter()
        .filter(|a| a.access_level != AccessLevel::PermissionsManagement)
        .collect();
    let labels: Vec<String> = actions
        .iter()
        .map(|a| format!("[{}] {}  on {}", a.access_level, a.action, a.resource))
        .collect();
    let chosen = MultiSelect::new()
        .with_prompt("Actions (space to pick, enter to go on)")
        .items(&labels)
        .interact()
        .map_err(prompt_err)?;
    let chosen: Vec<String> = chosen
        .into_iter()
        .filter_map(|i| actions.get(i))
        .map(|a| a.action.clone())
        .collect();
    if chosen.is_empty() {
        anyhow::bail!("no action chosen");
    }
    let requestor: String = Input::new()
        .with_prompt("Requestor account id")
        .validate_with(|s: &String| {
            if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                Err("12 digits")
            }
        })
        .interact_text()
        .map_err(prompt_err)?;
    let role: String = Input::new()
        .with_prompt(
            "Requestor role ARN (empty: any principal of the account with the External ID)",
        )
        .allow_empty(true)
        .interact_text()
        .map_err(prompt_err)?;
    let mfa = Confirm::new()
        .with_prompt("Require MFA?")
        .default(false)
        .interact()
        .map_err(prompt_err)?;
    let mut body = CreateOwnerRoleRequest {
        resource_arn: arn,
        actions: chosen,
        requestor_account_id: requestor,
        requestor_role_arn: Some(role).filter(|r| !r.is_empty()),
        require_mfa: mfa,
        dry_run: true,
        account_id: account.as_ref().map(ToString::to_string),
        ..CreateOwnerRoleRequest::default()
    };
    let preview: CreateOwnerRoleResponse = client.post("create-owner-role", &body).await?;
    show_created(&Created::Owner(Box::new(preview)), Output::Table);
    if !Confirm::new()
        .with_prompt("Create this role?")
        .default(true)
        .interact()
        .map_err(prompt_err)?
    {
        return Ok(());
    }
    body.dry_run = false;
    let created: CreateOwnerRoleResponse = client.post("create-owner-role", &body).await?;
    let owner_role = created.role_arn.clone();
    let external_id = created.external_id.clone();
    // The requestor side ends with the owner's grant.
    let expires_at = created.expires_at.clone();
    show_created(&Created::Owner(Box::new(created)), Output::Table);

    if Confirm::new()
        .with_prompt("Set up the requestor side now?")
        .default(true)
        .interact()
        .map_err(prompt_err)?
    {
        let p = Select::new()
            .with_prompt("Service that runs the requestor's code")
            .items(PRINCIPALS)
            .default(0)
            .interact()
            .map_err(prompt_err)?;
        let body = CreateRequestorRequest {
            owner_role_arn: owner_role.clone(),
            service_principal: Some(
                PRINCIPALS
                    .get(p)
                    .copied()
                    .unwrap_or("lambda.amazonaws.com")
                    .to_owned(),
            ),
            external_id: Some(external_id.clone()),
            expires_at,
            ..CreateRequestorRequest::default()
        };
        let answer: CreateRequestorResponse = client
            .post("create-requestor-resources", &body)
            .await
            .map_err(|e: CallError| anyhow::anyhow!(e))?;
        show_created(&Created::Requestor(Box::new(answer)), Output::Table);
    }
    print(&format!(
        "\nhand-off: role {owner_role}, external id {external_id}\n  aws sts assume-role --role-arn {owner_role} --role-session-name xacct --external-id {external_id}"
    ));
    Ok(())
}
