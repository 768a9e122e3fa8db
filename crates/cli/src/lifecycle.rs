//! `xacct check`, `xacct grants` and `xacct revoke`: one verdict from both sides' checks,
//! the owner's grants, and taking a grant back (with a confirmation).

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde::Serialize;
use xacct_api::owner_lifecycle::{
    CheckOwnerRoleRequest, CheckOwnerRoleResponse, Grant, ListGrantsResponse, RevokeResponse,
    RevokeRoleRequest,
};
use xacct_api::requestor_lifecycle::{CheckRequestorResponse, RequestorTarget};
use xacct_policy::Arn;
use xacct_policy::check::{AssumeCall, assume};
use xacct_policy::eval::Labeled;

use crate::args::{CheckArgs, GrantsArgs, Output, RequestorSide, RevokeArgs};
use crate::client::{CallError, Client};
use crate::commands::json_out;
use crate::config::LocalStack;
use crate::output::{note, print, table};

/// The requestor-side target of a check or revoke of the grant of `owner_role_arn`, as the
/// functions take it.
fn requestor_target(side: &RequestorSide, owner_role_arn: &str) -> Option<RequestorTarget> {
    let target = RequestorTarget {
        owner_role_arn: Some(owner_role_arn.to_owned()),
        ..RequestorTarget::default()
    };
    match (&side.requestor_role, &side.group, &side.user) {
        (Some(r), _, _) => Some(RequestorTarget {
            role_arn: Some(r.clone()),
            ..target
        }),
        (None, Some(g), _) => Some(RequestorTarget {
            group_name: Some(g.clone()),
            ..target
        }),
        (None, None, Some(u)) => Some(RequestorTarget {
            user_name: Some(u.clone()),
            ..target
        }),
        _ => None,
    }
}

/// Both sides' checks combined: the owner's live trust policy and the requestor's live
/// policies, evaluated together as AWS would for the call.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub works: bool,
    pub reasons: Vec<String>,
    /// The call evaluated with the requestor's live policies, when they were read: what
    /// AWS would decide, and why. The owner side alone can only assume they allow it.
    pub both_sides: Option<String>,
}

pub fn combine(
    owner: &CheckOwnerRoleResponse,
    requestor: Option<&CheckRequestorResponse>,
    principal: &Arn,
    external_id: Option<&str>,
    mfa: bool,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut works = owner.can_assume;
    let mut both_sides = None;
    if !works {
        reasons.push(format!("owner side: {}", owner.reason));
    }
    if let Some(req) = requestor {
        for p in &req.problems {
            reasons.push(format!("requestor side: {} ({})", p.message, p.code));
        }
        let role: Option<Arn> = owner.role_arn.parse().ok();
        if let (Some(trust), Some(role)) = (&owner.trust_policy, role) {
            let now = xacct_policy::expiry::Expiry::from_epoch(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            )
            .to_string();
            let labeled: Vec<Labeled<'_>> = req
                .policies
                .iter()
                .map(|(label, document)| Labeled { label, document })
                .collect();
            let e = assume(&AssumeCall {
                role_arn: &role,
                trust_policy: trust,
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
            both_sides = Some(format!("{} ({})", e.decision, e.reason));
        }
        works = works && req.ok;
    }
    Verdict {
        works,
        reasons,
        both_sides,
    }
}

/// How long `--live` waits for IAM to make a new role assumable.
pub const PROPAGATION_DEADLINE: Duration = Duration::from_secs(150);

pub async fn check(client: &Client, args: &CheckArgs, output: Output) -> anyhow::Result<()> {
    let requestor: Option<CheckRequestorResponse> =
        match requestor_target(&args.requestor, &args.role_arn) {
            Some(body) => Some(client.post("check-requestor-role", &body).await?),
            None => None,
        };
    let principal = match (&args.principal, &requestor) {
        (Some(p), _) => p.clone(),
        (None, Some(r)) => r.principal_arn.clone(),
        (None, None) => bail!(
            "name the requestor principal: --principal ARN, or --requestor-role / --group / --user"
        ),
    };
    let body = CheckOwnerRoleRequest {
        role_arn: args.role_arn.clone(),
        principal_arn: principal.clone(),
        external_id: args.external_id.clone(),
        mfa: args.mfa,
        account_id: args.account.as_ref().map(ToString::to_string),
    };
    let owner: CheckOwnerRoleResponse = client.post("check-owner-role", &body).await?;
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
        Some(live_check(args, &owner, client.settings.local.as_ref()).await?)
    } else {
        None
    };
    let works = verdict.works && live.as_ref().is_none_or(|l| l.assumed);
    if output == Output::Json {
        json_out(&CheckOutput {
            works,
            reasons: &verdict.reasons,
            owner: &owner,
            requestor: requestor.as_ref(),
            live: live.as_ref(),
        });
    } else {
        print(&format!(
            "{}: {}",
            if works { "WORKS" } else { "DOES NOT WORK" },
            args.role_arn
        ));
        for r in &verdict.reasons {
            print(&format!("  - {r}"));
        }
        // With the requestor's policies read, their verdict is the one that counts; the
        // owner side's own cases stand in an allowing requestor policy for them.
        if let Some(both) = &verdict.both_sides {
            print(&format!(
                "assume with the requestor's live policies: {both}"
            ));
        }
        let owner_side = if verdict.both_sides.is_some() {
            ", owner side alone"
        } else {
            ""
        };
        for c in &owner.assume_checks {
            print(&format!(
                "assume {}{owner_side}: {} ({})",
                c.case, c.decision, c.reason
            ));
        }
        print(&format!(
            "allowed actions: {}",
            owner.allowed_actions.join(", ")
        ));
        for d in &owner.drift {
            print(&format!("drift: {}", d.message));
        }
        if let Some(l) = &live {
            print(&format!("live: {}", l.summary));
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

/// What `xacct check -o json` prints.
#[derive(Debug, Serialize)]
struct CheckOutput<'a> {
    works: bool,
    reasons: &'a [String],
    owner: &'a CheckOwnerRoleResponse,
    requestor: Option<&'a CheckRequestorResponse>,
    live: Option<&'a LiveCheck>,
}

/// What `--live` found: whether the role could be assumed, and the read-only call made
/// with it.
#[derive(Debug, Serialize)]
struct LiveCheck {
    assumed: bool,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    propagation_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read: Option<ReadCheck>,
    summary: String,
}

/// The read-only call `--live` made with the role, if it knows one for the resource.
#[derive(Debug, Serialize)]
struct ReadCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok: Option<bool>,
    summary: String,
}

impl ReadCheck {
    fn none(summary: &str) -> Self {
        Self {
            action: None,
            ok: None,
            summary: summary.to_owned(),
        }
    }
}

/// `--live`: assume the owner role with the user's own credentials, retrying while IAM
/// propagates, then make one read-only call on the resource.
async fn live_check(
    args: &CheckArgs,
    owner: &CheckOwnerRoleResponse,
    local: Option<&LocalStack>,
) -> anyhow::Result<LiveCheck> {
    let external_id = args
        .external_id
        .as_deref()
        .context("--live needs --external-id")?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    match (&args.profile, local) {
        (Some(p), _) => loader = loader.profile_name(p),
        // On the local stack, with no profile named, act as the requestor account in moto:
        // `make local` then `xacct check --live` works with nothing exported.
        (None, Some(stack)) => {
            if let (Some(moto), Some(c)) = (&stack.moto_url, &stack.requestor_credentials) {
                loader = loader
                    .endpoint_url(moto)
                    .region(aws_config::Region::new(stack.region.clone()))
                    .credentials_provider(aws_credential_types::Credentials::new(
                        &c.access_key_id,
                        &c.secret_access_key,
                        Some(c.session_token.clone()),
                        None,
                        "xacct-local-stack",
                    ));
            }
        }
        (None, None) => {}
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
                    let summary = format!(
                        "sts:AssumeRole failed with `{code}` after {attempts} attempts over {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(LiveCheck {
                        assumed: false,
                        attempts,
                        error_code: Some(code),
                        propagation_seconds: None,
                        read: None,
                        summary,
                    });
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    };
    let propagation = started.elapsed().as_secs_f64();
    // The role's session: the same region and endpoint, the role's credentials.
    let session = base
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_sdk_sts::config::Credentials::new(
                    creds.access_key_id(),
                    creds.secret_access_key(),
                    Some(creds.session_token().to_owned()),
                    None,
                    "xacct-check",
                ),
            ),
        )
        .build();
    let allowed: Vec<&str> = owner.allowed_actions.iter().map(String::as_str).collect();
    let read = read_only_call(&session, &owner.resource_arn, &allowed).await;
    Ok(LiveCheck {
        assumed: true,
        attempts,
        error_code: None,
        propagation_seconds: Some(propagation),
        summary: format!(
            "assumed after {attempts} attempt(s), {propagation:.1} s; {}",
            read.summary
        ),
        read: Some(read),
    })
}

/// One read-only call on the resource that the grant allows, if there is one.
async fn read_only_call(
    session: &aws_config::SdkConfig,
    resource: &str,
    allowed: &[&str],
) -> ReadCheck {
    let arn: Option<Arn> = resource.parse().ok();
    let Some(arn) = arn else {
        return ReadCheck::none("no resource to read");
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
            return ReadCheck::none(
                "the grant has no read-only call xacct knows for this resource; only the assume was tried",
            );
        }
    };
    let (ok, summary) = match result {
        Ok(()) => (true, format!("{action} on `{resource}` succeeded")),
        Err(e) => (false, format!("{action} on `{resource}` failed: {e}")),
    };
    ReadCheck {
        action: Some(action),
        ok: Some(ok),
        summary,
    }
}

/// Every grant, all pages.
pub async fn fetch_grants(client: &Client, args: &GrantsArgs) -> Result<Vec<Grant>, CallError> {
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
    if let Some(a) = &args.account {
        query.push(("account_id", a.to_string()));
    }
    let mut grants = Vec::new();
    let mut cursor: Option<String> = None;
    // Bounded: 200 pages of 100 roles is twice IAM's largest role quota (5,000 by default).
    for _ in 0..200 {
        let mut q = query.clone();
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page: ListGrantsResponse = client.get("list-grants", &q).await?;
        grants.extend(page.grants);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(grants)
}

/// What `xacct grants -o json` prints.
#[derive(Debug, Serialize)]
struct GrantsOutput<'a> {
    grants: &'a [Grant],
}

/// What `xacct revoke -o json` prints: each side's answer.
#[derive(Debug, Serialize)]
struct RevokeOutput<'a> {
    owner: &'a RevokeResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    requestor: Option<&'a RevokeResponse>,
}

pub async fn grants(client: &Client, args: &GrantsArgs, output: Output) -> anyhow::Result<()> {
    let grants = fetch_grants(client, args).await?;
    if output == Output::Json {
        json_out(&GrantsOutput { grants: &grants });
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
                g.role_name.clone(),
                g.resource_arn.clone(),
                g.requestor_account_id.clone(),
                g.actions.len().to_string(),
                g.created
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(10)
                    .collect(),
                g.last_used
                    .as_deref()
                    .map_or("never".to_owned(), |s| s.chars().take(10).collect()),
                match (g.expires_at.as_deref(), g.expired) {
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
    let owner: RevokeResponse = client
        .post(
            "revoke-grant",
            &RevokeRoleRequest {
                role_arn: args.role_arn.clone(),
                account_id: args.account.as_ref().map(ToString::to_string),
            },
        )
        .await?;
    let requestor: Option<RevokeResponse> = match requestor_target(&args.requestor, &args.role_arn)
    {
        Some(body) => Some(client.post("revoke-requestor-resources", &body).await?),
        None => None,
    };
    if output == Output::Json {
        json_out(&RevokeOutput {
            owner: &owner,
            requestor: requestor.as_ref(),
        });
        return Ok(());
    }
    let answers =
        std::iter::once(("owner", &owner)).chain(requestor.iter().map(|r| ("requestor", r)));
    for (side, answer) in answers {
        if answer.changed {
            for r in &answer.removed {
                print(&format!("{side}: removed {r}"));
            }
        } else {
            print(&format!("{side}: nothing to remove (already gone)"));
        }
    }
    Ok(())
}
