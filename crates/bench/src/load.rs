//! A load run: a fixed mix of requests across the nine functions (creates, repeats, dry
//! runs, checks, listings, revokes of what the run created, deliberate 400s) at a bounded
//! concurrency, against pools of release processes of each function polling one Runtime
//! API per function (no emulator in between), with moto as AWS. Every answer is checked
//! against the status it must have and a fact or two of its body; latency is from the
//! request queued to its answer read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{BenchError, Context, Result};
use crate::events::{self, HttpAnswer, at, set};
use crate::functions::FUNCTIONS;
use crate::launch::{Launch, Running};
use crate::moto::{
    BENCH_BUCKET, BENCH_FUNCTIONS, EU_BUCKET, REGION, REQUESTOR_ACCOUNT, Seeded, SeededMoto, Side,
    bucket_arn, function_arn, role_arn,
};
use crate::runtime_api::{Answer, RuntimeApi};
use crate::stats::{Summary, round3};

const BLOCK: [&str; 20] = [
    "list-permissions",
    "list-resources",
    "check-owner-role",
    "create-owner-role",
    "list-permissions",
    "check-requestor-role",
    "list-grants",
    "create-requestor-resources",
    "list-permissions",
    "revoke-grant",
    "list-resources",
    "check-owner-role",
    "list-permissions",
    "create-owner-role",
    "check-requestor-role",
    "revoke-requestor-resources",
    "list-grants",
    "list-resources",
    "create-requestor-resources",
    "list-permissions",
];
const SERVICES: [&str; 3] = [
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
];

/// What an answer must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// 200 with actions.
    Permissions,
    /// 200 with resources and no partial failure.
    Resources,
    /// 200 listing these grants (on its last page).
    Grants(Vec<String>),
    /// 200, assumable, no drift.
    Assumable,
    /// 200, ok.
    RequestorOk,
    /// 200 with a role; `changed` and `dry_run` as given (`None`: either, for the setup).
    Created {
        changed: Option<bool>,
        dry_run: bool,
    },
    /// 200 with `changed` as given.
    Revoked { changed: bool },
    /// 400 with this error code.
    Refused(&'static str),
}

impl Expect {
    /// `None` when the answer is what was expected, else what is wrong.
    pub fn verify(&self, answer: &HttpAnswer) -> Option<String> {
        let body = &answer.body;
        let want = if matches!(self, Self::Refused(_)) {
            400
        } else {
            200
        };
        if answer.status != want {
            let text: String = body.to_string().chars().take(300).collect();
            return Some(format!("HTTP {}, expected {want}: {text}", answer.status));
        }
        let non_empty = |key: &str| {
            body.get(key)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        let is = |key: &str, value: Value| body.get(key) == Some(&value);
        match self {
            Self::Permissions => (!non_empty("actions")).then(|| "no actions".to_owned()),
            Self::Resources => {
                if non_empty("partial_failures") {
                    Some(format!(
                        "partial failures: {}",
                        body.get("partial_failures").unwrap_or(&Value::Null)
                    ))
                } else {
                    (!non_empty("resources")).then(|| "no resources".to_owned())
                }
            }
            Self::Grants(include) => {
                let listed: BTreeSet<&str> = body
                    .get("grants")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.get("role_arn").and_then(Value::as_str))
                    .collect();
                let last_page = body.get("next_cursor").is_none_or(Value::is_null);
                let missing: Vec<&String> = include
                    .iter()
                    .filter(|a| !listed.contains(a.as_str()))
                    .collect();
                (last_page && !missing.is_empty())
                    .then(|| format!("stable grants missing: {missing:?}"))
            }
            Self::Assumable => {
                if !is("can_assume", json!(true)) {
                    Some(format!(
                        "can_assume false: {}",
                        body.get("reason").unwrap_or(&Value::Null)
                    ))
                } else {
                    (!is("drift", json!([])))
                        .then(|| format!("drift: {}", body.get("drift").unwrap_or(&Value::Null)))
                }
            }
            Self::RequestorOk => (!is("ok", json!(true)))
                .then(|| format!("not ok: {}", body.get("problems").unwrap_or(&Value::Null))),
            Self::Created { changed, dry_run } => {
                if body.get("role_arn").is_none_or(Value::is_null)
                    && body.get("principal_arn").is_none_or(Value::is_null)
                {
                    Some("no role_arn".to_owned())
                } else if changed.is_some_and(|c| !is("changed", json!(c))) {
                    Some(format!(
                        "changed {}, expected {changed:?}",
                        body.get("changed").unwrap_or(&Value::Null)
                    ))
                } else if changed.is_some() && !is("dry_run", json!(dry_run)) {
                    Some(format!(
                        "dry_run {}, expected {dry_run}",
                        body.get("dry_run").unwrap_or(&Value::Null)
                    ))
                } else {
                    None
                }
            }
            Self::Revoked { changed } => (!is("changed", json!(changed))).then(|| {
                format!(
                    "changed {}, expected {changed}",
                    body.get("changed").unwrap_or(&Value::Null)
                )
            }),
            Self::Refused(code) => {
                let got = body
                    .get("error")
                    .and_then(|e| e.get("code"))
                    .and_then(Value::as_str);
                (got != Some(code)).then(|| format!("error code {got:?}, expected {code}"))
            }
        }
    }
}

/// One request and what its answer must be.
#[derive(Debug, Clone)]
pub struct Planned {
    pub function: &'static str,
    /// A GET with this query, or a POST with this body.
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub expect: Expect,
    /// A request that must have answered first (a revoke waits for its create).
    pub after: Option<usize>,
}

impl Planned {
    fn get(function: &'static str, query: &[(&str, &str)], expect: Expect) -> Self {
        Self {
            function,
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: None,
            expect,
            after: None,
        }
    }

    fn post(function: &'static str, body: Value, expect: Expect) -> Self {
        Self {
            function,
            query: Vec::new(),
            body: Some(body),
            expect,
            after: None,
        }
    }
}

/// A grant that lives through the whole run: checked, listed and repeated.
#[derive(Debug, Clone)]
struct Stable {
    role: String,
    requestor_role: String,
    resource_arn: String,
    actions: Vec<&'static str>,
    service: &'static str,
}

impl Stable {
    fn external_id(&self) -> String {
        [self.role.as_str(), "-external-id"].concat()
    }

    fn role_arn(&self) -> Result<String> {
        Ok(role_arn(Side::Owner, &self.role)?.to_string())
    }

    fn requestor_role_arn(&self) -> Result<String> {
        Ok(role_arn(Side::Requestor, &self.requestor_role)?.to_string())
    }

    fn owner_body(&self) -> Result<Value> {
        Ok(json!({
            "resource_arn": self.resource_arn,
            "actions": self.actions,
            "requestor_account_id": REQUESTOR_ACCOUNT,
            "requestor_role_arn": self.requestor_role_arn()?,
            "external_id": self.external_id(),
            "role_name": self.role,
        }))
    }

    fn requestor_body(&self) -> Result<Value> {
        Ok(json!({
            "owner_role_arn": self.role_arn()?,
            "service_principal": self.service,
            "external_id": self.external_id(),
            "role_name": self.requestor_role,
        }))
    }

    fn check_owner(&self) -> Result<Value> {
        Ok(json!({
            "role_arn": self.role_arn()?,
            "principal_arn": self.requestor_role_arn()?,
            "external_id": self.external_id(),
        }))
    }

    fn check_requestor(&self) -> Result<Value> {
        Ok(json!({"role_arn": self.requestor_role_arn()?, "owner_role_arn": self.role_arn()?}))
    }
}

/// The resources the mix names: seeded in moto (the instance's id is moto's).
#[derive(Debug, Clone)]
pub struct Targets {
    pub bucket: String,
    pub eu_bucket: String,
    pub function: String,
    pub instance: String,
}

impl Targets {
    pub fn new(seeded: &Seeded) -> Result<Self> {
        let (region, name) = BENCH_FUNCTIONS
            .first()
            .copied()
            .context(|| "no function".to_owned())?;
        Ok(Self {
            bucket: bucket_arn(BENCH_BUCKET)?.to_string(),
            eu_bucket: bucket_arn(EU_BUCKET)?.to_string(),
            function: function_arn(Side::Owner, region, name)?.to_string(),
            instance: seeded.instance_arn()?.to_string(),
        })
    }
}

/// The plan of a run: setup (one at a time), warm-up, the measured load, clean-up.
#[derive(Debug, Clone)]
pub struct Plan {
    pub setup: Vec<Planned>,
    pub warm: Vec<Planned>,
    pub load: Vec<Planned>,
    pub cleanup: Vec<Planned>,
}

fn grant_name(block: usize) -> String {
    format!("xacct-load-g{block}")
}

fn requestor_name(block: usize) -> String {
    format!("xacct-load-r{block}")
}

fn early_grant_name(i: usize) -> String {
    format!("xacct-load-eg{i}")
}

fn early_requestor_name(i: usize) -> String {
    format!("xacct-load-er{i}")
}

impl Plan {
    /// `requests` in blocks of 20; block `b` revokes what block `b - lag` created (the first
    /// `lag` blocks revoke what the setup created); `per_function` warm-up requests.
    pub fn new(t: &Targets, requests: usize, lag: usize, per_function: usize) -> Result<Self> {
        let stable = [
            (
                &t.bucket,
                vec!["s3:GetObject", "s3:ListBucket"],
                SERVICES[0],
            ),
            (&t.eu_bucket, vec!["s3:GetObject"], SERVICES[1]),
            (&t.function, vec!["lambda:GetFunction"], SERVICES[2]),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (resource, actions, service))| Stable {
            role: format!("xacct-load-stable-{i}"),
            requestor_role: format!("xacct-load-stable-req-{i}"),
            resource_arn: resource.clone(),
            actions,
            service,
        })
        .collect::<Vec<_>>();
        let stable_at = |i: usize| {
            stable
                .get(i % stable.len())
                .context(|| "no stable grant".to_owned())
        };
        let targets: [(&String, [&str; 2]); 4] = [
            (&t.bucket, ["s3:GetObject", "s3:ListBucket"]),
            (&t.eu_bucket, ["s3:GetObject", "s3:PutObject"]),
            (&t.instance, ["ec2:StartInstances", "ec2:StopInstances"]),
            (&t.function, ["lambda:GetFunction", "lambda:InvokeFunction"]),
        ];
        let new_grant = |block: usize, name: String, with_requestor: bool| -> Result<Value> {
            let (resource, actions) = targets
                .get(block % targets.len())
                .context(|| "no target".to_owned())?;
            let mut body = json!({
                "resource_arn": resource,
                "actions": actions,
                "requestor_account_id": REQUESTOR_ACCOUNT,
                "role_name": name,
            });
            if block.is_multiple_of(2) {
                set(
                    &mut body,
                    "external_id",
                    json!(format!("xacct-load-external-id-{block}")),
                );
            } else if with_requestor {
                let requestor = role_arn(Side::Requestor, &requestor_name(block))?;
                set(
                    &mut body,
                    "requestor_role_arn",
                    json!(requestor.to_string()),
                );
            }
            if block.is_multiple_of(3) {
                set(&mut body, "require_mfa", json!(true));
            }
            if block % 4 == 1 {
                set(&mut body, "max_session_duration", json!(7200));
            }
            Ok(body)
        };
        let new_requestor = |block: usize, name: String| -> Result<Value> {
            let mut body = json!({
                "owner_role_arn": role_arn(Side::Owner, &grant_name(block))?.to_string(),
                "service_principal": SERVICES.get(block % SERVICES.len()).copied().unwrap_or("lambda.amazonaws.com"),
                "role_name": name,
            });
            if block.is_multiple_of(2) {
                set(
                    &mut body,
                    "external_id",
                    json!(format!("xacct-load-external-id-{block}")),
                );
            }
            Ok(body)
        };

        let any = Expect::Created {
            changed: None,
            dry_run: false,
        };
        let fresh = Expect::Created {
            changed: Some(true),
            dry_run: false,
        };
        let mut setup = Vec::new();
        for s in &stable {
            setup.push(Planned::post(
                "create-owner-role",
                s.owner_body()?,
                any.clone(),
            ));
            setup.push(Planned::post(
                "create-requestor-resources",
                s.requestor_body()?,
                any.clone(),
            ));
        }
        for i in 0..lag {
            setup.push(Planned::post(
                "create-owner-role",
                new_grant(i, early_grant_name(i), false)?,
                fresh.clone(),
            ));
            setup.push(Planned::post(
                "create-requestor-resources",
                new_requestor(i, early_requestor_name(i))?,
                fresh.clone(),
            ));
        }

        let first = stable_at(0)?;
        let absent =
            |side| -> Result<String> { Ok(role_arn(side, "xacct-load-absent")?.to_string()) };
        let mut warm = Vec::new();
        for _ in 0..per_function {
            warm.extend([
                Planned::get(
                    "list-permissions",
                    &[("arn", &t.bucket)],
                    Expect::Permissions,
                ),
                Planned::get("list-resources", &[("region", REGION)], Expect::Resources),
                Planned::get("list-grants", &[], Expect::Grants(vec![first.role_arn()?])),
                Planned::post("check-owner-role", first.check_owner()?, Expect::Assumable),
                Planned::post(
                    "create-owner-role",
                    first.owner_body()?,
                    Expect::Created {
                        changed: Some(false),
                        dry_run: false,
                    },
                ),
                Planned::post(
                    "revoke-grant",
                    json!({"role_arn": absent(Side::Owner)?}),
                    Expect::Revoked { changed: false },
                ),
                Planned::post(
                    "create-requestor-resources",
                    first.requestor_body()?,
                    Expect::Created {
                        changed: Some(false),
                        dry_run: false,
                    },
                ),
                Planned::post(
                    "check-requestor-role",
                    first.check_requestor()?,
                    Expect::RequestorOk,
                ),
                Planned::post(
                    "revoke-requestor-resources",
                    json!({"role_arn": absent(Side::Requestor)?}),
                    Expect::Revoked { changed: false },
                ),
            ]);
        }

        let mut load = Vec::with_capacity(requests);
        let mut created: BTreeMap<(&str, usize), usize> = BTreeMap::new();
        let all_stable: Vec<String> = stable.iter().map(Stable::role_arn).collect::<Result<_>>()?;
        for i in 0..requests {
            let (block, slot) = (i / BLOCK.len(), i % BLOCK.len());
            let function = BLOCK.get(slot).copied().context(|| "block".to_owned())?;
            let k = BLOCK.iter().take(slot).filter(|f| **f == function).count();
            let s = stable_at(block * 2 + k)?;
            let planned = match function {
                "list-permissions" => match (block * 5 + k) % 8 {
                    0 => Planned::get(function, &[("arn", &t.bucket)], Expect::Permissions),
                    1 => Planned::get(
                        function,
                        &[("arn", &t.function), ("access_levels", "read,list")],
                        Expect::Permissions,
                    ),
                    2 => Planned::get(
                        function,
                        &[("arn", &format!("{}/reports/q4.csv", t.bucket))],
                        Expect::Permissions,
                    ),
                    3 => Planned::post(
                        function,
                        json!({"arn": t.function, "access_levels": ["read", "write"]}),
                        Expect::Permissions,
                    ),
                    4 => Planned::get(function, &[("arn", &t.instance)], Expect::Permissions),
                    5 => Planned::get(
                        function,
                        &[
                            ("arn", &t.eu_bucket),
                            ("access_levels", "list"),
                            ("access_levels", "read"),
                        ],
                        Expect::Permissions,
                    ),
                    6 => Planned::get(
                        function,
                        &[(
                            "arn",
                            "arn:aws:dynamodb:us-east-1:111111111111:table/xacct-load-orders",
                        )],
                        Expect::Permissions,
                    ),
                    // A typo'd service: the client error is the expected answer.
                    _ => Planned::get(
                        function,
                        &[(
                            "arn",
                            "arn:aws:nosuchservice:us-east-1:111111111111:thing/x",
                        )],
                        Expect::Refused("UnknownService"),
                    ),
                },
                "list-resources" => {
                    let query: &[(&str, &str)] = if k == 0 && block % 5 == 4 {
                        // Every enabled region, every service: what a console shows first.
                        &[]
                    } else {
                        match (block * 3 + k) % 5 {
                            0 => &[("region", "us-east-1")],
                            1 => &[("region", "eu-west-1"), ("service", "s3,ec2")],
                            2 => &[
                                ("region", "us-east-1"),
                                ("service", "rds"),
                                ("service", "lambda"),
                            ],
                            3 => &[
                                ("region", "us-east-1,eu-west-1"),
                                ("name_prefix", "xacct-bench"),
                            ],
                            _ => &[("region", "eu-west-1"), ("limit", "2")],
                        }
                    };
                    Planned::get(function, query, Expect::Resources)
                }
                "list-grants" => match (block * 2 + k) % 3 {
                    0 => Planned::get(function, &[], Expect::Grants(all_stable.clone())),
                    1 => Planned::get(
                        function,
                        &[("requestor_account_id", REQUESTOR_ACCOUNT)],
                        Expect::Grants(all_stable.clone()),
                    ),
                    _ => Planned::get(
                        function,
                        &[("resource_arn", &t.bucket)],
                        Expect::Grants(vec![first.role_arn()?]),
                    ),
                },
                "check-owner-role" => Planned::post(function, s.check_owner()?, Expect::Assumable),
                "check-requestor-role" => {
                    Planned::post(function, s.check_requestor()?, Expect::RequestorOk)
                }
                "create-owner-role" => {
                    if k == 0 {
                        created.insert(("grant", block), i);
                        Planned::post(
                            function,
                            new_grant(block, grant_name(block), true)?,
                            fresh.clone(),
                        )
                    } else if block.is_multiple_of(2) {
                        Planned::post(
                            function,
                            s.owner_body()?,
                            Expect::Created {
                                changed: Some(false),
                                dry_run: false,
                            },
                        )
                    } else {
                        let mut body =
                            new_grant(block, format!("{}-dry", grant_name(block)), true)?;
                        set(&mut body, "dry_run", json!(true));
                        Planned::post(
                            function,
                            body,
                            Expect::Created {
                                changed: Some(true),
                                dry_run: true,
                            },
                        )
                    }
                }
                "create-requestor-resources" => {
                    if k == 0 {
                        created.insert(("requestor", block), i);
                        Planned::post(
                            function,
                            new_requestor(block, requestor_name(block))?,
                            fresh.clone(),
                        )
                    } else if block.is_multiple_of(2) {
                        Planned::post(
                            function,
                            s.requestor_body()?,
                            Expect::Created {
                                changed: Some(false),
                                dry_run: false,
                            },
                        )
                    } else {
                        let mut body =
                            new_requestor(block, format!("{}-dry", requestor_name(block)))?;
                        set(&mut body, "dry_run", json!(true));
                        Planned::post(
                            function,
                            body,
                            Expect::Created {
                                changed: Some(true),
                                dry_run: true,
                            },
                        )
                    }
                }
                "revoke-grant" | "revoke-requestor-resources" => {
                    let (kind, side) = if function == "revoke-grant" {
                        ("grant", Side::Owner)
                    } else {
                        ("requestor", Side::Requestor)
                    };
                    let (name, after) = match block.checked_sub(lag) {
                        Some(earlier) => (
                            if side == Side::Owner {
                                grant_name(earlier)
                            } else {
                                requestor_name(earlier)
                            },
                            created.get(&(kind, earlier)).copied(),
                        ),
                        None => (
                            if side == Side::Owner {
                                early_grant_name(block)
                            } else {
                                early_requestor_name(block)
                            },
                            None,
                        ),
                    };
                    let mut p = Planned::post(
                        function,
                        json!({"role_arn": role_arn(side, &name)?.to_string()}),
                        Expect::Revoked { changed: true },
                    );
                    p.after = after;
                    p
                }
                other => return Err(BenchError::new(format!("no plan for {other}"))),
            };
            load.push(planned);
        }

        // What the load created and did not revoke itself.
        let revoked: BTreeSet<String> = load
            .iter()
            .filter(|p| p.function.starts_with("revoke"))
            .filter_map(|p| {
                p.body
                    .as_ref()?
                    .get("role_arn")?
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        let mut cleanup = Vec::new();
        for p in load.iter().filter(|p| p.expect == fresh) {
            let (Some(name), revoke, side) = (
                p.body
                    .as_ref()
                    .and_then(|b| b.get("role_name"))
                    .and_then(Value::as_str),
                if p.function == "create-owner-role" {
                    "revoke-grant"
                } else {
                    "revoke-requestor-resources"
                },
                if p.function == "create-owner-role" {
                    Side::Owner
                } else {
                    Side::Requestor
                },
            ) else {
                continue;
            };
            let arn = role_arn(side, name)?.to_string();
            if !revoked.contains(&arn) {
                cleanup.push(Planned::post(
                    revoke,
                    json!({"role_arn": arn}),
                    Expect::Revoked { changed: true },
                ));
            }
        }
        Ok(Self {
            setup,
            warm,
            load,
            cleanup,
        })
    }
}

/// One function's pool: a Runtime API and the processes polling it.
#[derive(Debug)]
struct Pool {
    api: RuntimeApi,
    processes: Vec<Running>,
    event_get: Value,
    event_post: Value,
}

/// What one request got.
#[derive(Debug, Clone)]
struct Sent {
    function: &'static str,
    status: Option<u16>,
    total_ms: f64,
    in_function_ms: Option<f64>,
    error: Option<String>,
}

/// How the run goes.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub events_dir: PathBuf,
    pub moto: PathBuf,
    pub moto_port: u16,
    pub log_dir: PathBuf,
    pub requests: usize,
    pub concurrency: usize,
    /// Processes per function.
    pub instances: usize,
    pub timeout: Duration,
}

/// Revokes wait this many blocks for their creates.
const LAG: usize = 3;

async fn send(pools: &BTreeMap<&'static str, Pool>, p: &Planned, timeout: Duration) -> Sent {
    let failed = |error: String| Sent {
        function: p.function,
        status: None,
        total_ms: 0.0,
        in_function_ms: None,
        error: Some(error),
    };
    let Some(pool) = pools.get(p.function) else {
        return failed(format!("no pool for {}", p.function));
    };
    let event = match &p.body {
        Some(body) => events::with_body(&pool.event_post, body),
        None => {
            let pairs: Vec<(&str, &str)> = p
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            events::with_query(&pool.event_get, &pairs)
        }
    };
    let pending = pool.api.submit(events::payload(&event));
    let outcome = match tokio::time::timeout(timeout, pending).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => return failed("the Runtime API stopped".to_owned()),
        Err(_) => return failed(format!("timeout after {} s", timeout.as_secs())),
    };
    let (total_ms, in_function_ms) = (outcome.total_ms(), Some(outcome.in_function_ms()));
    if outcome.answer == Answer::Error {
        let text: String = String::from_utf8_lossy(&outcome.body)
            .chars()
            .take(300)
            .collect();
        return Sent {
            total_ms,
            in_function_ms,
            ..failed(format!("function error: {text}"))
        };
    }
    match events::http_answer(&outcome.body) {
        Ok(answer) => Sent {
            function: p.function,
            status: Some(answer.status),
            total_ms,
            in_function_ms,
            error: p.expect.verify(&answer),
        },
        Err(e) => Sent {
            total_ms,
            in_function_ms,
            ..failed(e.to_string())
        },
    }
}

/// Sends `plan` with at most `concurrency` requests in flight; a request with `after` waits
/// for that one's answer first.
async fn run_plan(
    pools: &BTreeMap<&'static str, Pool>,
    plan: &[Planned],
    concurrency: usize,
    timeout: Duration,
) -> Vec<Sent> {
    let done: Arc<Vec<watch::Sender<bool>>> =
        Arc::new(plan.iter().map(|_| watch::channel(false).0).collect());
    stream::iter(plan.iter().enumerate())
        .map(|(i, p)| {
            let done = Arc::clone(&done);
            async move {
                if let Some(mut waiting) = p
                    .after
                    .and_then(|a| done.get(a))
                    .map(watch::Sender::subscribe)
                {
                    let _ = waiting.wait_for(|answered| *answered).await;
                }
                let sent = send(pools, p, timeout).await;
                if let Some(me) = done.get(i) {
                    me.send_replace(true);
                }
                sent
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

fn first_errors(sent: &[Sent], step: &str) -> Result<()> {
    let errors: Vec<String> = sent
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.function)))
        .take(5)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BenchError::new(format!("{step} failed: {errors:#?}")))
    }
}

/// The whole run; returns the results' `load` key.
pub async fn run(options: &Options) -> Result<Value> {
    let aws = SeededMoto::start(&options.moto, options.moto_port, &options.log_dir).await?;
    let targets = Targets::new(&aws.seeded)?;
    let plan = Plan::new(&targets, options.requests, LAG, options.instances)?;

    let mut pools = BTreeMap::new();
    for spec in FUNCTIONS {
        let account = aws.account(spec.side);
        let launch = Launch {
            label: spec.name.to_owned(),
            binary: options.bin_dir.join(spec.name),
            function_name: spec.name.to_owned(),
            function_arn: function_arn(spec.side, REGION, spec.name)?.to_string(),
            memory_mb: spec.memory_mb,
            aws_env: account.environment(),
            log_dir: options.log_dir.clone(),
            timeout: options.timeout,
        };
        let api = RuntimeApi::start(launch.function_arn.clone(), options.timeout).await?;
        let mut processes = Vec::new();
        for n in 0..options.instances {
            processes.push(launch.spawn(&api, &format!("load-{}-{n}.log", spec.name))?);
        }
        let recorded = events::load(&options.events_dir, spec.name)?;
        let (event_get, event_post) = if recorded.get("body").is_some() {
            (
                events::load(&options.events_dir, "list-permissions")?,
                recorded,
            )
        } else {
            (
                recorded,
                events::load(&options.events_dir, "create-owner-role")?,
            )
        };
        pools.insert(
            spec.name,
            Pool {
                api,
                processes,
                event_get,
                event_post,
            },
        );
    }
    crate::progress(&format!(
        "{} processes of each function started",
        options.instances
    ));

    let setup = run_plan(&pools, &plan.setup, 1, options.timeout).await;
    first_errors(&setup, "the setup")?;
    let warm = run_plan(&pools, &plan.warm, options.concurrency, options.timeout).await;
    first_errors(&warm, "the warm-up")?;
    crate::progress(&format!(
        "setup and warm-up done; {} requests at concurrency {}",
        plan.load.len(),
        options.concurrency
    ));
    let started = Instant::now();
    let sent = run_plan(&pools, &plan.load, options.concurrency, options.timeout).await;
    let wall = started.elapsed().as_secs_f64();
    let cleanup = run_plan(&pools, &plan.cleanup, options.concurrency, options.timeout).await;
    for pool in pools.into_values() {
        for process in pool.processes {
            process.stop().await;
        }
    }
    let report = summarize(&plan, &sent, wall, options);
    first_errors(&cleanup, "the clean-up")?;
    Ok(report)
}

fn latency(values: &[f64]) -> Value {
    match Summary::of(values) {
        Some(s) => {
            json!({"p50_ms": s.p50, "p90_ms": s.p90, "p99_ms": s.p99, "max_ms": s.max, "mean_ms": s.mean})
        }
        None => Value::Null,
    }
}

fn summarize(plan: &Plan, sent: &[Sent], wall_s: f64, options: &Options) -> Value {
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for s in sent {
        let status = s
            .status
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        *statuses.entry(status.clone()).or_default() += 1;
        if let Some(e) = &s.error {
            let kind = match s.status {
                Some(_) if e.starts_with("HTTP") => format!("status {status}"),
                Some(_) => "body check".to_owned(),
                None if e.starts_with("timeout") => "timeout".to_owned(),
                None => "no answer".to_owned(),
            };
            *errors_by_kind.entry(kind).or_default() += 1;
        }
    }
    let mut functions = serde_json::Map::new();
    for spec in FUNCTIONS {
        let mine: Vec<&Sent> = sent.iter().filter(|s| s.function == spec.name).collect();
        let totals: Vec<f64> = mine.iter().map(|s| s.total_ms).collect();
        let inside: Vec<f64> = mine.iter().filter_map(|s| s.in_function_ms).collect();
        let mut entry = latency(&totals);
        set(&mut entry, "count", json!(mine.len()));
        set(
            &mut entry,
            "errors",
            json!(mine.iter().filter(|s| s.error.is_some()).count()),
        );
        set(
            &mut entry,
            "in_function_p50_ms",
            json!(Summary::of(&inside).map(|s| s.p50)),
        );
        set(
            &mut entry,
            "in_function_p99_ms",
            json!(Summary::of(&inside).map(|s| s.p99)),
        );
        functions.insert(spec.name.to_owned(), entry);
    }
    let totals: Vec<f64> = sent.iter().map(|s| s.total_ms).collect();
    let examples: Vec<String> = sent
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.function)))
        .take(10)
        .collect();
    let mut report = json!({
        "tool": "crates/bench: xacct-bench load",
        "server": "release processes of each function polling one Runtime API per function (the bench's), moto as AWS; latency from the event queued to its answer read",
        "instances_per_function": options.instances,
        "concurrency": options.concurrency,
        "requests": sent.len(),
        "expected_400": plan.load.iter().filter(|p| matches!(p.expect, Expect::Refused(_))).count(),
        "statuses": statuses,
        "errors": sent.iter().filter(|s| s.error.is_some()).count(),
        "errors_by_kind": errors_by_kind,
        "error_examples": examples,
        "wall_s": round3(wall_s),
        "throughput_rps": round3(sent.len() as f64 / wall_s.max(0.001)),
        "functions": functions,
    });
    if let (Some(map), Value::Object(overall)) = (report.as_object_mut(), latency(&totals)) {
        map.extend(overall);
    }
    report
}

/// The Markdown table of a `load` result.
pub fn markdown(load: &Value) -> String {
    let mut out = String::from(
        "| function | requests | errors | p50 | p99 | in function p50 |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for spec in FUNCTIONS {
        let f = at(load, &["functions", spec.name]);
        out.push_str(&format!(
            "| {} | {} | {} | {} ms | {} ms | {} ms |\n",
            spec.name,
            at(f, &["count"]),
            at(f, &["errors"]),
            at(f, &["p50_ms"]),
            at(f, &["p99_ms"]),
            at(f, &["in_function_p50_ms"])
        ));
    }
    out.push_str(&format!(
        "| all | {} | {} | {} ms | {} ms | |\n",
        at(load, &["requests"]),
        at(load, &["errors"]),
        at(load, &["p50_ms"]),
        at(load, &["p99_ms"])
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Targets {
        Targets {
            bucket: "arn:aws:s3:::xacct-bench-bucket".to_owned(),
            eu_bucket: "arn:aws:s3:::xacct-bench-logs-eu".to_owned(),
            function: "arn:aws:lambda:us-east-1:111111111111:function:xacct-bench-fn-1".to_owned(),
            instance: "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0".to_owned(),
        }
    }

    #[test]
    fn the_mix_of_1000_requests() {
        let plan = Plan::new(&targets(), 1000, LAG, 4).unwrap();
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &plan.load {
            *count.entry(p.function).or_default() += 1;
        }
        assert_eq!(count["list-permissions"], 250);
        assert_eq!(count["list-resources"], 150);
        assert_eq!(count["revoke-grant"], 50);
        assert_eq!(count.values().sum::<usize>(), 1000);
        let refused = plan
            .load
            .iter()
            .filter(|p| matches!(p.expect, Expect::Refused(_)))
            .count();
        assert_eq!(refused, 31);
        assert_eq!(plan.warm.len(), 9 * 4);
        assert_eq!(plan.setup.len(), 6 + 2 * LAG);
    }

    #[test]
    fn every_revoke_targets_a_role_created_before_it() {
        let plan = Plan::new(&targets(), 1000, LAG, 1).unwrap();
        let early: BTreeSet<String> = plan
            .setup
            .iter()
            .filter_map(|p| p.body.as_ref()?["role_name"].as_str().map(str::to_owned))
            .collect();
        for (i, p) in plan
            .load
            .iter()
            .enumerate()
            .filter(|(_, p)| p.function.starts_with("revoke"))
        {
            let arn = p.body.as_ref().unwrap()["role_arn"].as_str().unwrap();
            let name = arn.rsplit('/').next().unwrap();
            match p.after {
                Some(a) => {
                    assert!(a < i);
                    assert_eq!(plan.load[a].body.as_ref().unwrap()["role_name"], name);
                }
                None => assert!(early.contains(name), "{name}"),
            }
        }
        // Everything created is revoked, by the load or the clean-up.
        let created = plan
            .load
            .iter()
            .filter(|p| {
                matches!(
                    p.expect,
                    Expect::Created {
                        changed: Some(true),
                        dry_run: false
                    }
                )
            })
            .count();
        let revokes = plan
            .load
            .iter()
            .filter(|p| p.function.starts_with("revoke"))
            .count()
            - 2 * LAG;
        assert_eq!(created, revokes + plan.cleanup.len());
    }

    #[test]
    fn role_names_are_valid_and_unique() {
        let plan = Plan::new(&targets(), 1000, LAG, 1).unwrap();
        let names: Vec<&str> = plan
            .setup
            .iter()
            .chain(&plan.load)
            .filter(|p| {
                matches!(
                    p.expect,
                    Expect::Created {
                        changed: Some(true),
                        dry_run: false
                    }
                )
            })
            .filter_map(|p| p.body.as_ref()?["role_name"].as_str())
            .collect();
        let unique: BTreeSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        for name in names {
            assert!(name.parse::<xacct_policy::RoleName>().is_ok(), "{name}");
        }
    }

    #[test]
    fn answers_are_checked_for_status_and_body() {
        let ok = |body: Value| HttpAnswer { status: 200, body };
        assert_eq!(
            Expect::Revoked { changed: true }.verify(&ok(json!({"changed": true}))),
            None
        );
        assert!(
            Expect::Revoked { changed: true }
                .verify(&ok(json!({"changed": false})))
                .is_some()
        );
        let refused = HttpAnswer {
            status: 400,
            body: json!({"error": {"code": "UnknownService"}}),
        };
        assert_eq!(Expect::Refused("UnknownService").verify(&refused), None);
        assert!(
            Expect::Permissions
                .verify(&refused)
                .unwrap()
                .starts_with("HTTP 400")
        );
        let listing = ok(json!({"grants": [{"role_arn": "a"}], "next_cursor": null}));
        assert_eq!(Expect::Grants(vec!["a".to_owned()]).verify(&listing), None);
        assert!(
            Expect::Grants(vec!["b".to_owned()])
                .verify(&listing)
                .is_some()
        );
        let dry = ok(json!({"role_arn": "r", "changed": true, "dry_run": true}));
        assert_eq!(
            Expect::Created {
                changed: Some(true),
                dry_run: true
            }
            .verify(&dry),
            None
        );
        assert!(
            Expect::Created {
                changed: Some(true),
                dry_run: false
            }
            .verify(&dry)
            .is_some()
        );
        assert_eq!(
            Expect::Created {
                changed: None,
                dry_run: false
            }
            .verify(&dry),
            None
        );
    }
}
