//! One function per command: call the functions, print tables or JSON. No IAM logic lives
//! here; it is all in the functions and `xacct-policy`.

use serde_json::{Value, json};
use xacct_policy::access_diff::AccessDiff;

use crate::args::{GrantArgs, Output, PermissionsArgs, RequestorArgs, ResourcesArgs};
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

/// Sets `key` on a JSON object (a no-op on anything else).
pub fn set(body: &mut Value, key: &str, value: Value) {
    if let Some(map) = body.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

fn json_out(value: &Value) {
    print(&serde_json::to_string_pretty(value).unwrap_or_default());
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// All resources, following `next_cursor` up to `limit`.
pub async fn fetch_resources(client: &Client, args: &ResourcesArgs) -> Result<Value, CallError> {
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
        query.push(("limit", args.limit.clamp(1, 1000).to_string()));
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = client.call("list-resources", "GET", &query, None).await?;
        resources.extend(page["resources"].as_array().cloned().unwrap_or_default());
        if failures.is_empty() {
            failures = page["partial_failures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() || resources.len() >= args.limit {
            break;
        }
    }
    resources.truncate(args.limit);
    Ok(json!({"resources": resources, "partial_failures": failures}))
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
    for f in all["partial_failures"].as_array().into_iter().flatten() {
        note(&format!(
            "warning: {} in {} could not be listed: {} ({})",
            str_of(f, "service"),
            str_of(f, "region"),
            str_of(f, "message"),
            str_of(f, "code")
        ));
    }
    if output == Output::Json {
        json_out(&all);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let tags = r["tags"]
                .as_object()
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            vec![
                str_of(r, "service").to_owned(),
                str_of(r, "type").to_owned(),
                str_of(r, "region").to_owned(),
                str_of(r, "name").to_owned(),
                str_of(r, "arn").to_owned(),
                tags,
            ]
        })
        .collect();
    print(&table(
        &["SERVICE", "TYPE", "REGION", "NAME", "ARN", "TAGS"],
        &rows,
        70,
    ));
    Ok(())
}

pub async fn fetch_permissions(
    client: &Client,
    arn: &str,
    levels: &[String],
) -> Result<Value, CallError> {
    let mut query = vec![("arn", arn.to_owned())];
    if !levels.is_empty() {
        query.push(("access_levels", levels.join(",")));
    }
    client.call("list-permissions", "GET", &query, None).await
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
        str_of(&answer, "arn"),
        str_of(&answer, "service_name"),
        str_of(&answer, "resource_type")
    ));
    let rows: Vec<Vec<String>> = answer["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            vec![
                str_of(a, "access_level").to_owned(),
                str_of(a, "action").to_owned(),
                str_of(a, "resource").to_owned(),
                str_of(a, "description").to_owned(),
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
    Ok(answer["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["access_level"] != "Permissions management")
        .filter_map(|a| a["action"].as_str().map(str::to_owned))
        .collect())
}

/// The `create-owner-role` request body for a grant.
pub fn grant_body(args: &GrantArgs, actions: &[String]) -> Value {
    let mut body = json!({
        "resource_arn": args.arn,
        "actions": actions,
        "requestor_account_id": args.to,
        "require_mfa": args.mfa,
        "allow_permissions_management": args.allow_permissions_management,
        "widen_trust": args.widen_trust,
        "dry_run": args.dry_run,
    });
    for (key, value) in [
        ("requestor_role_arn", &args.role),
        ("external_id", &args.external_id),
        ("role_name", &args.role_name),
        ("principal_org_id", &args.org),
        ("expires_in", &args.expires_in),
        ("expires_at", &args.expires_at),
    ] {
        if let Some(v) = value {
            set(&mut body, key, json!(v));
        }
    }
    if let Some(s) = args.max_session {
        set(&mut body, "max_session_duration", json!(s));
    }
    body
}

/// Prints a create answer: what was (or would be) done, findings, the hand-off.
pub fn show_created(answer: &Value, output: Output) {
    if output == Output::Json {
        json_out(answer);
        return;
    }
    let dry = answer["dry_run"] == true;
    let verb = match (dry, answer["changed"] == true) {
        (true, true) => "would change",
        (true, false) => "is already up to date",
        (false, true) => "created or updated",
        (false, false) => "already up to date",
    };
    let what = match answer["role_arn"].as_str() {
        Some(role) => format!("role {role}"),
        None => format!(
            "policy `{}` on {}",
            str_of(answer, "policy_name"),
            str_of(answer, "principal_arn")
        ),
    };
    print(&format!("{what} {verb}"));
    for c in answer["changes"].as_array().into_iter().flatten() {
        print(&format!("  - {}", c.as_str().unwrap_or_default()));
    }
    if let Some(diff) = answer
        .get("access_diff")
        .and_then(|d| serde_json::from_value::<AccessDiff>(d.clone()).ok())
    {
        for line in diff.lines() {
            print(&line);
        }
    }
    if let Some(ext) = answer["external_id"].as_str() {
        print(&format!("external id: {ext}"));
    }
    if let Some(at) = answer["expires_at"].as_str() {
        print(&format!(
            "expires: {at} (AWS refuses to assume the role from then on)"
        ));
    }
    if let Some(p) = answer["instance_profile_arn"].as_str() {
        print(&format!("instance profile: {p}"));
    }
    for f in answer["findings"].as_array().into_iter().flatten() {
        print(&format!(
            "{}: {} {}",
            str_of(f, "severity"),
            str_of(f, "code"),
            str_of(f, "message")
        ));
    }
    for key in ["trust_policy", "permissions_policy", "policy"] {
        if let Some(doc) = answer.get(key).filter(|d| !d.is_null()) {
            print(&format!(
                "\n{key}:\n{}",
                serde_json::to_string_pretty(doc).unwrap_or_default()
            ));
        }
    }
    show_handoff(&answer["handoff"]);
}

/// Prints the hand-off: profile, command, link; the infrastructure code is in the JSON
/// output (`-o json`).
pub fn show_handoff(handoff: &Value) {
    if handoff.is_null() {
        return;
    }
    print("\nfor the requestor:");
    if let Some(profile) = handoff["aws_config"].as_str() {
        print(&format!("~/.aws/config:\n{profile}"));
    }
    print(&format!(
        "command:\n  {}",
        str_of(handoff, "assume_role_command")
    ));
    if let Some(url) = handoff["switch_role_url"].as_str() {
        print(&format!("console: {url}"));
    }
    for n in handoff["notes"].as_array().into_iter().flatten() {
        print(&format!("note: {}", n.as_str().unwrap_or_default()));
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
    let answer = with_spinner(
        "creating the owner role",
        client.call(
            "create-owner-role",
            "POST",
            &[],
            Some(&grant_body(args, &actions)),
        ),
    )
    .await?;
    show_created(&answer, output);
    Ok(())
}

pub fn requestor_body(args: &RequestorArgs) -> Value {
    let mut body = json!({"owner_role_arn": args.owner_role_arn, "dry_run": args.dry_run});
    for (key, value) in [
        ("service_principal", &args.service),
        ("group_name", &args.group),
        ("user_name", &args.user),
    ] {
        if let Some(v) = value {
            set(&mut body, key, json!(v));
        }
    }
    if args.mfa {
        set(&mut body, "require_mfa", json!(true));
    }
    if let Some(e) = &args.external_id {
        set(&mut body, "external_id", json!(e));
    }
    if let Some(n) = &args.role_name {
        set(&mut body, "role_name", json!(n));
    }
    body
}

pub async fn requestor_setup(
    client: &Client,
    args: &RequestorArgs,
    output: Output,
) -> Result<(), CallError> {
    let answer = with_spinner(
        "creating the requestor role",
        client.call(
            "create-requestor-resources",
            "POST",
            &[],
            Some(&requestor_body(args)),
        ),
    )
    .await?;
    show_created(&answer, output);
    Ok(())
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
    ];
    let urls: Vec<Value> = functions
        .iter()
        .map(|f| match s.function_url(f) {
            Ok(url) => {
                json!({"function": f, "url": url, "signed": s.sign(&url), "profile": s.profile(f)})
            }
            Err(e) => json!({"function": f, "error": e.to_string()}),
        })
        .collect();
    if output == Output::Json {
        json_out(
            &json!({"config_file": s.config_file, "setup": s.setup, "values": s.values, "functions": urls}),
        );
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
        .map(|u| {
            vec![
                str_of(u, "function").to_owned(),
                u["url"]
                    .as_str()
                    .or(u["error"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                if u["signed"] == true {
                    format!(
                        "signed ({})",
                        u["profile"].as_str().unwrap_or("default chain")
                    )
                } else {
                    "unsigned".to_owned()
                },
            ]
        })
        .collect();
    print(&table(&["FUNCTION", "URL", "SIGNING"], &rows, 90));
}
