//! `xacct check`, `xacct grants` and `xacct revoke`: one verdict from both sides' checks,
//! the owner's grants, and taking a grant back (with a confirmation).

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};
use xacct_policy::check::{AssumeCall, assume};
use xacct_policy::eval::Labeled;
use xacct_policy::{Arn, PolicyDocument};

use crate::args::{CheckArgs, GrantsArgs, Output, RequestorSide, RevokeArgs};
use crate::client::{CallError, Client};
use crate::commands::{set, str_of};
use crate::output::{note, print, table};

/// The requestor-side target of a check or revoke, as the functions take it.
fn requestor_target(side: &RequestorSide) -> Option<Value> {
    match (&side.requestor_role, &side.group, &side.user) {
        (Some(r), _, _) => Some(json!({"role_arn": r})),
        (None, Some(g), _) => Some(json!({"group_name": g})),
        (None, None, Some(u)) => Some(json!({"user_name": u})),
        _ => None,
    }
}

/// Both sides' checks combined: the owner's live trust policy and the requestor's live
/// policies, evaluated together as AWS would for the call.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub works: bool,
    pub reasons: Vec<String>,
}

pub fn combine(
    owner: &Value,
    requestor: Option<&Value>,
    principal: &Arn,
    external_id: Option<&str>,
    mfa: bool,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut works = owner["can_assume"] == true;
    if !works {
        reasons.push(format!("owner side: {}", str_of(owner, "reason")));
    }
    if let Some(req) = requestor {
        for p in req["problems"].as_array().into_iter().flatten() {
            reasons.push(format!(
                "requestor side: {} ({})",
                str_of(p, "message"),
                str_of(p, "code")
            ));
        }
        let trust: Option<PolicyDocument> =
            serde_json::from_value(owner["trust_policy"].clone()).ok();
        let docs: Vec<(String, PolicyDocument)> = req["policies"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), serde_json::from_value(v.clone()).ok()?)))
            .collect();
        let role: Option<Arn> = str_of(owner, "role_arn").parse().ok();
        if let (Some(trust), Some(role)) = (trust, role) {
            let now = xacct_policy::expiry::Expiry::from_epoch(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            )
            .to_string();
            let labeled: Vec<Labeled<'_>> = docs
                .iter()
                .map(|(label, document)| Labeled { label, document })
                .collect();
            let e = assume(&AssumeCall {
                role_arn: &role,
                trust_policy: &trust,
                principal,
                external_id,
                mfa,
                requestor_policies: &labeled,
                current_time: Some(&now),
            });
            if !e.allowed() {
                works = false;
                reasons.push(format!("both sides together: {}", e.reason));
            }
        }
        works = works && req["ok"] == true;
    }
    Verdict { works, reasons }
}

/// How long `--live` waits for IAM to make a new role assumable.
pub const PROPAGATION_DEADLINE: Duration = Duration::from_secs(150);

pub async fn check(client: &Client, args: &CheckArgs, output: Output) -> anyhow::Result<()> {
    let target = requestor_target(&args.requestor);
    let requestor = match target {
        Some(mut body) => {
            set(&mut body, "owner_role_arn", json!(args.role_arn));
            Some(
                client
                    .call("check-requestor-role", "POST", &[], Some(&body))
                    .await?,
            )
        }
        None => None,
    };
    let principal = match (&args.principal, &requestor) {
        (Some(p), _) => p.clone(),
        (None, Some(r)) => str_of(r, "principal_arn").to_owned(),
        (None, None) => bail!(
            "name the requestor principal: --principal ARN, or --requestor-role / --group / --user"
        ),
    };
    let mut body = json!({"role_arn": args.role_arn, "principal_arn": principal, "mfa": args.mfa});
    if let Some(e) = &args.external_id {
        set(&mut body, "external_id", json!(e));
    }
    let owner = client
        .call("check-owner-role", "POST", &[], Some(&body))
        .await?;
    let principal_arn: Arn = principal
        .parse()
        .map_err(|e| anyhow!("--principal `{principal}`: {e}"))?;
    let verdict = combine(
        &owner,
        requestor.as_ref(),
        &principal_arn,
        args.external_id.as_deref(),
        args.mfa,
    );
    let live = if args.live {
        Some(live_check(args, &owner).await?)
    } else {
        None
    };
    let works = verdict.works && live.as_ref().is_none_or(|l| l["assumed"] == true);
    if output == Output::Json {
        print(&serde_json::to_string_pretty(&json!({
            "works": works, "reasons": verdict.reasons, "owner": owner, "requestor": requestor, "live": live,
        }))?);
    } else {
        print(&format!(
            "{}: {}",
            if works { "WORKS" } else { "DOES NOT WORK" },
            args.role_arn
        ));
        for r in &verdict.reasons {
            print(&format!("  - {r}"));
        }
        for c in owner["assume_checks"].as_array().into_iter().flatten() {
            print(&format!(
                "assume {}: {} ({})",
                str_of(c, "case"),
                str_of(c, "decision"),
                str_of(c, "reason")
            ));
        }
        print(&format!(
            "allowed actions: {}",
            owner["allowed_actions"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ));
        for d in owner["drift"].as_array().into_iter().flatten() {
            print(&format!("drift: {}", str_of(d, "message")));
        }
        if let Some(l) = &live {
            print(&format!("live: {}", str_of(l, "summary")));
        }
    }
    if works {
        Ok(())
    } else {
        Err(anyhow!(
            "the grant does not work: {}",
            verdict.reasons.join("; ")
        ))
    }
}

/// `--live`: assume the owner role with the user's own credentials, retrying while IAM
/// propagates, then make one read-only call on the resource.
async fn live_check(args: &CheckArgs, owner: &Value) -> anyhow::Result<Value> {
    let external_id = args
        .external_id
        .as_deref()
        .context("--live needs --external-id")?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    let base = loader.load().await;
    let sts = aws_sdk_sts::Client::new(&base);
    let started = Instant::now();
    let mut delay = Duration::from_secs(1);
    let mut attempts = 0_u32;
    let creds = loop {
        attempts += 1;
        let mut call = sts
            .assume_role()
            .role_arn(&args.role_arn)
            .role_session_name("xacct-check")
            .external_id(external_id);
        if let (Some(serial), Some(code)) = (&args.mfa_serial, &args.mfa_code) {
            call = call.serial_number(serial).token_code(code);
        }
        match call.send().await {
            Ok(out) => {
                break out
                    .credentials
                    .context("sts:AssumeRole returned no credentials")?;
            }
            Err(e) => {
                let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("unknown")
                    .to_owned();
                if code != "AccessDenied" || started.elapsed() + delay > PROPAGATION_DEADLINE {
                    return Ok(
                        json!({"assumed": false, "attempts": attempts, "error_code": code,
                        "summary": format!("sts:AssumeRole failed with `{code}` after {attempts} attempts over {:.1} s", started.elapsed().as_secs_f64())}),
                    );
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    };
    let propagation = started.elapsed().as_secs_f64();
    let session = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(base.region().cloned())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            None,
            "xacct-check",
        ))
        .load()
        .await;
    let resource = str_of(owner, "resource_arn");
    let allowed: Vec<&str> = owner["allowed_actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let read = read_only_call(&session, resource, &allowed).await;
    Ok(json!({
        "assumed": true,
        "attempts": attempts,
        "propagation_seconds": propagation,
        "read": read,
        "summary": format!("assumed after {attempts} attempt(s), {propagation:.1} s; {}", str_of(&read, "summary")),
    }))
}

/// One read-only call on the resource that the grant allows, if there is one.
async fn read_only_call(
    session: &aws_config::SdkConfig,
    resource: &str,
    allowed: &[&str],
) -> Value {
    let arn: Option<Arn> = resource.parse().ok();
    let Some(arn) = arn else {
        return json!({"summary": "no resource to read"});
    };
    let name = arn.resource_name().to_owned();
    let region_config = |region: &str| {
        let mut b = aws_sdk_s3::config::Builder::from(session);
        if !region.is_empty() {
            b = b.region(aws_config::Region::new(region.to_owned()));
        }
        b
    };
    let (action, result): (&str, Result<(), String>) = match arn.service() {
        "s3" if allowed.contains(&"s3:ListBucket") => (
            "s3:ListBucket",
            aws_sdk_s3::Client::from_conf(region_config("").build())
                .list_objects_v2()
                .bucket(&name)
                .max_keys(1)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_s3::error::DisplayErrorContext(e))),
        ),
        "lambda" if allowed.contains(&"lambda:GetFunction") => {
            let mut b = aws_sdk_lambda::config::Builder::from(session);
            b = b.region(aws_config::Region::new(arn.region().to_owned()));
            (
                "lambda:GetFunction",
                aws_sdk_lambda::Client::from_conf(b.build())
                    .get_function()
                    .function_name(arn.to_string())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}", aws_sdk_lambda::error::DisplayErrorContext(e))),
            )
        }
        "ec2" if allowed.contains(&"ec2:DescribeInstances") => {
            let b = aws_sdk_ec2::config::Builder::from(session)
                .region(aws_config::Region::new(arn.region().to_owned()));
            (
                "ec2:DescribeInstances",
                aws_sdk_ec2::Client::from_conf(b.build())
                    .describe_instances()
                    .instance_ids(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}", aws_sdk_ec2::error::DisplayErrorContext(e))),
            )
        }
        "rds" if allowed.contains(&"rds:DescribeDBInstances") => {
            let b = aws_sdk_rds::config::Builder::from(session)
                .region(aws_config::Region::new(arn.region().to_owned()));
            (
                "rds:DescribeDBInstances",
                aws_sdk_rds::Client::from_conf(b.build())
                    .describe_db_instances()
                    .db_instance_identifier(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}", aws_sdk_rds::error::DisplayErrorContext(e))),
            )
        }
        _ => {
            return json!({"summary": "the grant has no read-only call xacct knows for this resource; only the assume was tried"});
        }
    };
    match result {
        Ok(()) => {
            json!({"action": action, "ok": true, "summary": format!("{action} on `{resource}` succeeded")})
        }
        Err(e) => {
            json!({"action": action, "ok": false, "summary": format!("{action} on `{resource}` failed: {e}")})
        }
    }
}

/// Every grant, all pages.
pub async fn fetch_grants(client: &Client, args: &GrantsArgs) -> Result<Vec<Value>, CallError> {
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(r) = &args.resource {
        query.push(("resource_arn", r.clone()));
    }
    if let Some(a) = &args.requestor {
        query.push(("requestor_account_id", a.clone()));
    }
    if args.expired || args.running {
        query.push(("expired", args.expired.to_string()));
    }
    if let Some(w) = &args.expiring_within {
        query.push(("expiring_within", w.clone()));
    }
    let mut grants = Vec::new();
    let mut cursor: Option<String> = None;
    // Bounded: 200 pages of 100 roles is twice IAM's largest role quota (5,000 by default).
    for _ in 0..200 {
        let mut q = query.clone();
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page = client.call("list-grants", "GET", &q, None).await?;
        grants.extend(page["grants"].as_array().cloned().unwrap_or_default());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    Ok(grants)
}

pub async fn grants(client: &Client, args: &GrantsArgs, output: Output) -> anyhow::Result<()> {
    let grants = fetch_grants(client, args).await?;
    if output == Output::Json {
        print(&serde_json::to_string_pretty(&json!({"grants": grants}))?);
        return Ok(());
    }
    if grants.is_empty() {
        note("no grants");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = grants
        .iter()
        .map(|g| {
            vec![
                str_of(g, "role_name").to_owned(),
                str_of(g, "resource_arn").to_owned(),
                str_of(g, "requestor_account_id").to_owned(),
                g["actions"]
                    .as_array()
                    .map(|a| a.len())
                    .unwrap_or(0)
                    .to_string(),
                str_of(g, "created").chars().take(10).collect(),
                g["last_used"]
                    .as_str()
                    .map_or("never".to_owned(), |s| s.chars().take(10).collect()),
                match (g["expires_at"].as_str(), g["expired"] == true) {
                    (None, _) => "never".to_owned(),
                    (Some(at), true) => format!("{at} (ended)"),
                    (Some(at), false) => at.to_owned(),
                },
            ]
        })
        .collect();
    print(&table(
        &[
            "ROLE",
            "RESOURCE",
            "REQUESTOR",
            "ACTIONS",
            "CREATED",
            "LAST USED",
            "EXPIRES",
        ],
        &rows,
        120,
    ));
    Ok(())
}

pub async fn revoke(client: &Client, args: &RevokeArgs, output: Output) -> anyhow::Result<()> {
    if !args.yes {
        let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
        if !interactive {
            bail!("revoking deletes roles; confirm with --yes when not at a terminal");
        }
        let confirmed = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Delete {} and everything xacct created for it?",
                args.role_arn
            ))
            .default(false)
            .interact()?;
        if !confirmed {
            bail!("not revoked");
        }
    }
    let mut answers = vec![(
        "owner",
        client
            .call(
                "revoke-grant",
                "POST",
                &[],
                Some(&json!({"role_arn": args.role_arn})),
            )
            .await?,
    )];
    if let Some(mut body) = requestor_target(&args.requestor) {
        set(&mut body, "owner_role_arn", json!(args.role_arn));
        answers.push((
            "requestor",
            client
                .call("revoke-requestor-resources", "POST", &[], Some(&body))
                .await?,
        ));
    }
    if output == Output::Json {
        let map: serde_json::Map<String, Value> = answers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        print(&serde_json::to_string_pretty(&Value::Object(map))?);
        return Ok(());
    }
    for (side, answer) in &answers {
        if answer["changed"] == true {
            for r in answer["removed"].as_array().into_iter().flatten() {
                print(&format!(
                    "{side}: removed {}",
                    r.as_str().unwrap_or_default()
                ));
            }
        } else {
            print(&format!("{side}: nothing to remove (already gone)"));
        }
    }
    Ok(())
}
