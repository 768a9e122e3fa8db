//! `xacct wizard`: the whole flow in the terminal: pick a resource from a filterable list,
//! pick actions grouped by access level, review both policies and the findings, create,
//! then set up the requestor side.

use std::io::IsTerminal;

use dialoguer::{Confirm, FuzzySelect, Input, MultiSelect, Select};
use serde_json::{Value, json};

use crate::args::{Output, ResourcesArgs};
use crate::client::{CallError, Client};
use crate::commands::{fetch_permissions, fetch_resources, set, show_created};
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

pub async fn run(client: &Client) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the wizard needs a terminal; use `xacct grant` and `xacct requestor-setup` in scripts"
        );
    }
    let all = fetch_resources(
        client,
        &ResourcesArgs {
            service: vec![],
            region: vec![],
            prefix: None,
            limit: 1000,
        },
    )
    .await?;
    let resources: Vec<Value> = all["resources"].as_array().cloned().unwrap_or_default();
    let mut items: Vec<String> = resources
        .iter()
        .map(|r| {
            format!(
                "{:<7} {:<9} {:<14} {}",
                r["service"].as_str().unwrap_or_default(),
                r["type"].as_str().unwrap_or_default(),
                r["region"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default()
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
        Some(r) => r["arn"].as_str().unwrap_or_default().to_owned(),
        None => Input::new()
            .with_prompt("ARN")
            .interact_text()
            .map_err(prompt_err)?,
    };

    let permissions = fetch_permissions(client, &arn, &[]).await?;
    let actions: Vec<&Value> = permissions["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["access_level"] != "Permissions management")
        .collect();
    let labels: Vec<String> = actions
        .iter()
        .map(|a| {
            format!(
                "[{}] {}  on {}",
                a["access_level"].as_str().unwrap_or_default(),
                a["action"].as_str().unwrap_or_default(),
                a["resource"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let chosen = MultiSelect::new()
        .with_prompt("Actions (space to pick, enter to go on)")
        .items(&labels)
        .interact()
        .map_err(prompt_err)?;
    let chosen: Vec<String> = chosen
        .into_iter()
        .filter_map(|i| actions.get(i))
        .filter_map(|a| a["action"].as_str().map(str::to_owned))
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
    let mut body = json!({"resource_arn": arn, "actions": chosen, "requestor_account_id": requestor, "require_mfa": mfa, "dry_run": true});
    if !role.is_empty() {
        set(&mut body, "requestor_role_arn", json!(role));
    }
    let preview = client
        .call("create-owner-role", "POST", &[], Some(&body))
        .await?;
    show_created(&preview, Output::Table);
    if !Confirm::new()
        .with_prompt("Create this role?")
        .default(true)
        .interact()
        .map_err(prompt_err)?
    {
        return Ok(());
    }
    set(&mut body, "dry_run", json!(false));
    let created = client
        .call("create-owner-role", "POST", &[], Some(&body))
        .await?;
    show_created(&created, Output::Table);
    let owner_role = created["role_arn"].as_str().unwrap_or_default().to_owned();
    let external_id = created["external_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

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
        let body = json!({"owner_role_arn": owner_role, "service_principal": PRINCIPALS.get(p).copied().unwrap_or("lambda.amazonaws.com"), "external_id": external_id});
        let answer = client
            .call("create-requestor-resources", "POST", &[], Some(&body))
            .await
            .map_err(|e: CallError| anyhow::anyhow!(e))?;
        show_created(&answer, Output::Table);
    }
    print(&format!(
        "\nhand-off: role {owner_role}, external id {external_id}\n  aws sts assume-role --role-arn {owner_role} --role-session-name xacct --external-id {external_id}"
    ));
    Ok(())
}
