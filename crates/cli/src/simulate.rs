//! `xacct simulate`: xacct's evaluator in the user's hands, offline. Policies come from
//! files (identity, resource, boundary, session, SCPs, RCPs) or, with `--role`, from a live
//! role read through IAM; the answer is the decision and the statements that decided it,
//! each with its file (or policy) and `Sid`. Exit code 0 when allowed, 1 when denied.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::roles::{RoleStore, read_role_policies};
use xacct_policy::eval::{
    Context, Decision, Labeled, PolicySet, Request, RequestPrincipal, evaluate,
};
use xacct_policy::{Arn, PolicyDocument};

use crate::args::Output;
use crate::output::print;

/// `xacct simulate` options.
#[derive(Debug, Clone, Args, Default)]
pub struct SimulateArgs {
    /// Who makes the request: a user, role, role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`)
    /// or account root ARN. With `--role`, defaults to a session of that role.
    #[arg(long)]
    pub principal: Option<String>,
    /// The action, `service:Action`.
    #[arg(long)]
    pub action: String,
    /// The resource ARN (`*` for actions without one).
    #[arg(long)]
    pub resource: String,
    /// A request context value, `key=value`; repeat a key for a multivalued key.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// An identity-based policy of the principal (JSON file); repeatable.
    #[arg(long = "identity-policy", value_name = "FILE")]
    pub identity_policies: Vec<PathBuf>,
    /// The resource's resource-based policy (a bucket policy, a role's trust policy, a key
    /// policy).
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// The account that owns the resource (default: the resource ARN's, else the principal's).
    #[arg(long)]
    pub resource_account: Option<String>,
    /// The principal's permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// The session policy passed when the role was assumed.
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// A service control policy, one file per level of the organization; repeatable.
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// A resource control policy, one file per level; repeatable.
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,
    /// Read this live role's inline and managed policies and boundary (and, for
    /// `sts:AssumeRole` on it, its trust policy) instead of files, with the usual credentials.
    #[arg(long, value_name = "ROLE_ARN")]
    pub role: Option<String>,
    /// AWS profile for `--role`.
    #[arg(long)]
    pub profile: Option<String>,
}

/// The request was denied: the verdict is printed, and the exit code is 1.
#[derive(Debug, thiserror::Error)]
#[error("denied")]
pub struct Denied;

/// One statement that decided, with where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct DecidingStatement {
    /// The file (or live policy) it is in.
    pub policy: String,
    pub sid: Option<String>,
    /// Position in its policy, from 1.
    pub number: usize,
}

/// What `simulate` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub allowed: bool,
    pub reason: String,
    pub statements: Vec<DecidingStatement>,
    pub principal: String,
    pub action: String,
    pub resource: String,
}

/// A policy with the label it is reported under.
#[derive(Debug, Clone)]
pub struct Named {
    pub label: String,
    pub document: PolicyDocument,
}

/// Every policy of one simulation, owned.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub identity: Vec<Named>,
    pub resource: Option<Named>,
    pub boundary: Option<Named>,
    pub session: Option<Named>,
    pub scps: Vec<Named>,
    pub rcps: Vec<Named>,
}

fn read(path: &PathBuf) -> anyhow::Result<Named> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy file `{}`", path.display()))?;
    let document = PolicyDocument::from_json(&text)
        .map_err(|e| anyhow::anyhow!("`{}` is not a policy document: {e}", path.display()))?;
    Ok(Named {
        label: path.display().to_string(),
        document,
    })
}

fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Named>> {
    paths.iter().map(read).collect()
}

/// The request context from `key=value` pairs; a repeated key collects several values.
pub fn context(pairs: &[String]) -> anyhow::Result<Context> {
    let mut values: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--context takes `key=value`, got `{pair}`"))?;
        values
            .entry(key.trim().to_owned())
            .or_default()
            .push(value.to_owned());
    }
    let mut out = Context::new();
    for (key, v) in values {
        out.insert(&key, v);
    }
    Ok(out)
}

/// Evaluates one request against `inputs`. The resource's account is `resource_account`,
/// else the resource ARN's, else (an ARN without one, such as a bucket's) the principal's.
pub fn decide(
    inputs: &Inputs,
    principal: RequestPrincipal,
    action: &str,
    resource: &str,
    resource_account: Option<String>,
    context: Context,
) -> Verdict {
    fn lab(n: &Named) -> Labeled<'_> {
        Labeled {
            label: n.label.as_str(),
            document: &n.document,
        }
    }
    let resource_account = resource_account.or_else(|| {
        resource
            .parse::<Arn>()
            .ok()
            .and_then(|a| a.account_id())
            .map(|a| a.to_string())
    });
    let set = PolicySet {
        identity: inputs.identity.iter().map(lab).collect(),
        boundary: inputs.boundary.as_ref().map(lab),
        resource: inputs.resource.as_ref().map(lab),
        resource_account,
        session: inputs.session.as_ref().map(lab),
        scps: inputs.scps.iter().map(lab).collect(),
        rcps: inputs.rcps.iter().map(lab).collect(),
    };
    let who = match &principal {
        RequestPrincipal::Aws(arn) => arn.to_string(),
        RequestPrincipal::Service(s) => s.clone(),
        RequestPrincipal::Anonymous => "anonymous".to_owned(),
    };
    let e = evaluate(
        &set,
        &Request::new(principal, action, resource).with_context(context),
    );
    Verdict {
        allowed: e.allowed(),
        decision: e.decision,
        reason: e.reason,
        statements: e
            .statements
            .into_iter()
            .map(|s| DecidingStatement {
                policy: s.policy,
                sid: s.sid,
                number: s.index + 1,
            })
            .collect(),
        principal: who,
        action: action.to_owned(),
        resource: resource.to_owned(),
    }
}

/// Reads a live role's policies (inline, managed, boundary) and trust policy.
async fn live_role(role: &Arn, profile: Option<&str>) -> anyhow::Result<(Inputs, Option<Named>)> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let config = loader.load().await;
    let store = IamRoleStore::new(aws_sdk_iam::Client::new(&config));
    let name = role.resource_name();
    let state = store
        .get_role(name)
        .await
        .map_err(|e| anyhow::anyhow!("reading role `{role}` failed: {}", e.code))?
        .with_context(|| format!("role `{role}` does not exist"))?;
    let policies = read_role_policies(&store, &state)
        .await
        .map_err(|e| anyhow::anyhow!("reading the policies of `{role}` failed: {}", e.code))?;
    let mut inputs = Inputs::default();
    for (policy, document) in policies.inline {
        inputs.identity.push(Named {
            label: format!("inline policy {policy}"),
            document,
        });
    }
    for (arn, document) in policies.attached {
        if let Some(document) = document {
            inputs.identity.push(Named {
                label: format!("managed policy {arn}"),
                document,
            });
        }
    }
    inputs.boundary = policies.boundary.map(|document| Named {
        label: format!(
            "permissions boundary {}",
            state.permissions_boundary.clone().unwrap_or_default()
        ),
        document,
    });
    let trust = state.trust_policy.map(|document| Named {
        label: format!("trust policy of {}", state.name),
        document,
    });
    Ok((inputs, trust))
}

fn file_inputs(args: &SimulateArgs) -> anyhow::Result<Inputs> {
    Ok(Inputs {
        identity: read_all(&args.identity_policies)?,
        resource: args.resource_policy.as_ref().map(read).transpose()?,
        boundary: args.boundary.as_ref().map(read).transpose()?,
        session: args.session_policy.as_ref().map(read).transpose()?,
        scps: read_all(&args.scps)?,
        rcps: read_all(&args.rcps)?,
    })
}

fn parse_arn(what: &str, raw: &str) -> anyhow::Result<Arn> {
    raw.trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("{what} is not a valid arn: {e}"))
}

/// Runs `xacct simulate`.
pub async fn run(args: &SimulateArgs, output: Output) -> anyhow::Result<()> {
    let mut inputs = file_inputs(args)?;
    let mut context = context(&args.context)?;
    let principal = match (&args.role, &args.principal) {
        (Some(raw), principal) => {
            let role = parse_arn("--role", raw)?;
            let (live, trust) = live_role(&role, args.profile.as_deref()).await?;
            let assuming_it = args.action.eq_ignore_ascii_case("sts:AssumeRole")
                && args.resource.trim() == role.to_string();
            if assuming_it {
                // Who assumes the role is the principal; the role's trust decides for it.
                inputs.resource = trust.or(inputs.resource);
                let raw = principal
                    .as_deref()
                    .context("sts:AssumeRole on --role needs --principal: who assumes it")?;
                parse_arn("--principal", raw)?
            } else {
                inputs.identity.extend(live.identity);
                inputs.boundary = live.boundary.or(inputs.boundary);
                if context.get("aws:PrincipalArn").is_none() {
                    context.insert("aws:PrincipalArn", vec![role.to_string()]);
                }
                match principal {
                    Some(raw) => parse_arn("--principal", raw)?,
                    None => Arn::from_parts(
                        role.partition(),
                        "sts",
                        "",
                        role.account_id().as_ref(),
                        &["assumed-role/", role.resource_name(), "/xacct-simulate"].concat(),
                    )
                    .map_err(|e| anyhow::anyhow!("cannot name a session of `{role}`: {e}"))?,
                }
            }
        }
        (None, Some(raw)) => parse_arn("--principal", raw)?,
        (None, None) => anyhow::bail!("give --principal (or --role)"),
    };
    let verdict = decide(
        &inputs,
        RequestPrincipal::Aws(principal),
        &args.action,
        args.resource.trim(),
        args.resource_account.clone(),
        context,
    );
    show(&verdict, output);
    if verdict.allowed {
        Ok(())
    } else {
        Err(Denied.into())
    }
}

fn show(v: &Verdict, output: Output) {
    if output == Output::Json {
        print(&serde_json::to_string_pretty(v).unwrap_or_default());
        return;
    }
    let title = match v.decision {
        Decision::Allow => "ALLOWED",
        Decision::ExplicitDeny => "DENIED (explicit deny)",
        Decision::ImplicitDeny => "DENIED (implicit deny: nothing allows it)",
    };
    print(&format!(
        "{title}: {} on {} by {}",
        v.action, v.resource, v.principal
    ));
    print(&format!("  {}", v.reason));
    for s in &v.statements {
        let which = s.sid.as_ref().map_or_else(
            || format!("statement #{}", s.number),
            |sid| format!("Sid `{sid}`"),
        );
        print(&format!("  - {}: {which}", s.policy));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, json: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        path
    }

    #[tokio::test]
    async fn a_file_simulation_names_the_deciding_statement_and_exits_by_decision() {
        let dir = tempfile::tempdir().unwrap();
        let identity = write(
            dir.path(),
            "identity.json",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}"#,
        );
        let scp = write(
            dir.path(),
            "scp.json",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoEurope","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
        );
        let mut args = SimulateArgs {
            principal: Some("arn:aws:iam::111111111111:user/ana".to_owned()),
            action: "s3:GetObject".to_owned(),
            resource: "arn:aws:s3:::reports/q4.csv".to_owned(),
            identity_policies: vec![identity],
            scps: vec![scp.clone()],
            ..SimulateArgs::default()
        };
        assert!(run(&args, Output::Json).await.is_ok());
        let inputs = file_inputs(&args).unwrap();
        let v = decide(
            &inputs,
            RequestPrincipal::Aws("arn:aws:iam::111111111111:user/ana".parse().unwrap()),
            "s3:GetObject",
            "arn:aws:s3:::reports/q4.csv",
            None,
            context(&["aws:RequestedRegion=eu-west-1".to_owned()]).unwrap(),
        );
        assert_eq!(v.decision, Decision::ExplicitDeny);
        assert_eq!(v.statements[0].sid.as_deref(), Some("NoEurope"));
        assert_eq!(v.statements[0].policy, scp.display().to_string());
        args.context = vec!["aws:RequestedRegion=eu-west-1".to_owned()];
        let denied = run(&args, Output::Table).await.unwrap_err();
        assert!(denied.downcast_ref::<Denied>().is_some());
    }

    #[test]
    fn context_pairs_collect_repeated_keys_and_refuse_other_text() {
        let c = context(&["aws:TagKeys=a".to_owned(), "aws:TagKeys=b".to_owned()]).unwrap();
        assert_eq!(c.get("aws:TagKeys").unwrap(), ["a", "b"]);
        assert!(context(&["no-equals".to_owned()]).is_err());
    }

    #[tokio::test]
    async fn a_bad_policy_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.json", "{\"Statement\": 3}");
        let args = SimulateArgs {
            principal: Some("arn:aws:iam::111111111111:user/ana".to_owned()),
            action: "s3:GetObject".to_owned(),
            resource: "*".to_owned(),
            identity_policies: vec![bad.clone()],
            ..SimulateArgs::default()
        };
        let err = run(&args, Output::Json).await.unwrap_err();
        assert!(format!("{err}").contains("bad.json"), "{err}");
    }
}
