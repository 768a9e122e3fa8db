//! Cold start, warm latency, peak memory and zipped size of each function, and of the floor
//! binaries built in the same run (`crates/bench/floors`): each function's init and cold
//! start are reported as a ratio to its floor's, measured in the same run, interleaved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{BenchError, Context, Result};
use crate::events::{self, HttpAnswer, at, set};
use crate::launch::{Cold, Launch};
use crate::moto::{
    BENCH_BUCKET, BENCH_FUNCTIONS, BENCH_INSTANCES, OWNER_ACCOUNT, REGION, REQUESTOR_ACCOUNT,
    Seeded, SeededMoto, Side, bucket_arn, function_arn, role_arn,
};
use crate::stats::{Summary, median, ratio, round3};
use crate::system::{mib, peak_rss_mb, zipped_size};

/// A floor binary: what a function's start-up costs with nothing of xacct's in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Floor {
    /// lambda_http alone.
    Bare,
    /// aws-config, IAM and STS clients; one STS call per request.
    Iam,
    /// aws-config, IAM, STS, S3, EC2, Lambda and RDS clients; one STS call per request.
    Owner,
    /// aws-config, S3, EC2, Lambda, RDS and Tagging clients; one DescribeRegions per request.
    Discovery,
}

impl Floor {
    pub const ALL: [Self; 4] = [Self::Bare, Self::Iam, Self::Owner, Self::Discovery];

    pub fn binary(self) -> &'static str {
        match self {
            Self::Bare => "floor-bare",
            Self::Iam => "floor-iam",
            Self::Owner => "floor-owner",
            Self::Discovery => "floor-discovery",
        }
    }

    pub fn what(self) -> &'static str {
        match self {
            Self::Bare => "lambda_http with the runtime's default logging; no AWS client",
            Self::Iam => "aws-config with IAM and STS clients; each request: sts:GetCallerIdentity",
            Self::Owner => {
                "aws-config with IAM, STS, S3, EC2, Lambda and RDS clients; each request: sts:GetCallerIdentity"
            }
            Self::Discovery => {
                "aws-config with S3, EC2, Lambda, RDS and Tagging clients; each request: ec2:DescribeRegions"
            }
        }
    }
}

/// One of xacct's functions as the bench runs it.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    pub name: &'static str,
    /// Whose credentials it runs with.
    pub side: Side,
    /// template.yaml's MemorySize (lambda_runtime only reads it).
    pub memory_mb: u32,
    /// The floor with its SDK clients.
    pub floor: Floor,
}

const fn spec(name: &'static str, side: Side, memory_mb: u32, floor: Floor) -> FunctionSpec {
    FunctionSpec {
        name,
        side,
        memory_mb,
        floor,
    }
}

pub const FUNCTIONS: [FunctionSpec; 9] = [
    spec("list-resources", Side::Owner, 1769, Floor::Discovery),
    spec("list-permissions", Side::Owner, 128, Floor::Bare),
    spec("create-owner-role", Side::Owner, 128, Floor::Owner),
    spec("list-grants", Side::Owner, 128, Floor::Iam),
    spec("check-owner-role", Side::Owner, 128, Floor::Iam),
    spec("revoke-grant", Side::Owner, 128, Floor::Iam),
    spec(
        "create-requestor-resources",
        Side::Requestor,
        128,
        Floor::Iam,
    ),
    spec("check-requestor-role", Side::Requestor, 128, Floor::Iam),
    spec(
        "revoke-requestor-resources",
        Side::Requestor,
        128,
        Floor::Iam,
    ),
];

/// The External ID of the seeded grants (not a secret: moto's roles, named in the events).
pub const BENCH_EXTERNAL_ID: &str = "xacct-bench-external-id-0001";
const GRANT_ACTIONS: [&str; 2] = ["s3:GetObject", "s3:ListBucket"];
const OWNER_POLICY: &str = "xacct-grant";
const REQUESTOR_POLICY: &str = "xacct-assume-owner-role";

/// A role xacct's own create functions write before anything is measured, so that the
/// lifecycle functions have a real grant to list, check or revoke. The names differ from
/// those of the create events, so that the creates' first invocations still create.
#[derive(Debug, Clone, Copy)]
pub struct SeedRole {
    pub side: Side,
    pub name: &'static str,
}

pub const GRANT: SeedRole = SeedRole {
    side: Side::Owner,
    name: "xacct-bench-grant",
};
pub const GRANT_TO_REVOKE: SeedRole = SeedRole {
    side: Side::Owner,
    name: "xacct-bench-revoke",
};
pub const REQUESTOR_ROLE: SeedRole = SeedRole {
    side: Side::Requestor,
    name: "xacct-bench-req-check",
};
pub const REQUESTOR_ROLE_TO_REVOKE: SeedRole = SeedRole {
    side: Side::Requestor,
    name: "xacct-bench-req-revoke",
};

impl SeedRole {
    pub fn arn(self) -> Result<String> {
        Ok(role_arn(self.side, self.name)?.to_string())
    }

    /// The create request that writes it.
    pub fn body(self) -> Result<Value> {
        Ok(match self.side {
            Side::Owner => json!({
                "resource_arn": bucket_arn(BENCH_BUCKET)?.to_string(),
                "actions": GRANT_ACTIONS,
                "requestor_account_id": REQUESTOR_ACCOUNT,
                "external_id": BENCH_EXTERNAL_ID,
                "role_name": self.name,
            }),
            Side::Requestor => json!({
                "owner_role_arn": GRANT.arn()?,
                "service_principal": "lambda.amazonaws.com",
                "external_id": BENCH_EXTERNAL_ID,
                "role_name": self.name,
            }),
        })
    }

    fn creator(self) -> &'static str {
        match self.side {
            Side::Owner => "create-owner-role",
            Side::Requestor => "create-requestor-resources",
        }
    }
}

/// A check of an answer's body; `first` is the very first invocation of the run (a create
/// creates, a revoke revokes; later ones change nothing).
pub fn check(name: &str, first: bool, answer: &HttpAnswer) -> Result<Option<String>> {
    let body = &answer.body;
    if answer.status != 200 {
        return Ok(Some(format!("HTTP {}: {body}", answer.status)));
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let problem = match name {
        "list-resources" => {
            let mut found: BTreeMap<&str, usize> = BTreeMap::new();
            for r in at(body, &["resources"]).as_array().into_iter().flatten() {
                *found
                    .entry(at(r, &["service"]).as_str().unwrap_or_default())
                    .or_default() += 1;
            }
            let seeded = [
                ("s3", 2),
                (
                    "ec2",
                    BENCH_INSTANCES.iter().map(|(_, n)| *n as usize).sum(),
                ),
                ("lambda", BENCH_FUNCTIONS.len()),
            ];
            if seeded
                .iter()
                .any(|(s, n)| found.get(s).copied().unwrap_or(0) < *n)
            {
                Some(format!(
                    "fewer resources than seeded: found {found:?}, seeded {seeded:?}"
                ))
            } else if at(body, &["partial_failures"])
                .as_array()
                .is_some_and(|f| !f.is_empty())
            {
                Some(format!(
                    "partial failures: {}",
                    at(body, &["partial_failures"])
                ))
            } else {
                None
            }
        }
        "list-permissions" => {
            let listed = at(body, &["actions"]).as_array().into_iter().flatten();
            let actions: Vec<&str> = listed.filter_map(|a| at(a, &["action"]).as_str()).collect();
            (!actions.contains(&"s3:ListBucket")).then(|| "actions lack s3:ListBucket".to_owned())
        }
        "create-owner-role" | "create-requestor-resources" => {
            if text("role_arn").is_empty() {
                Some("no role_arn".to_owned())
            } else if *at(body, &["changed"]) != json!(first) {
                Some(format!(
                    "changed={} (only the first create changes)",
                    at(body, &["changed"])
                ))
            } else {
                None
            }
        }
        "list-grants" => {
            let grant = GRANT.arn()?;
            let grants = at(body, &["grants"]).as_array();
            let mine: Vec<&Value> = grants
                .into_iter()
                .flatten()
                .filter(|g| *at(g, &["role_arn"]) == json!(grant))
                .collect();
            match mine.as_slice() {
                [g] if *at(g, &["actions"]) == json!(GRANT_ACTIONS)
                    && *at(g, &["external_id"]) == json!(BENCH_EXTERNAL_ID)
                    && *at(g, &["requestor_account_id"]) == json!(REQUESTOR_ACCOUNT) =>
                {
                    None
                }
                [g] => Some(format!("the seeded grant is listed as {g}")),
                _ => Some(format!(
                    "the seeded grant {grant} is listed {} times",
                    mine.len()
                )),
            }
        }
        "check-owner-role" => {
            let decisions: Vec<&str> = at(body, &["assume_checks"])
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| at(c, &["decision"]).as_str())
                .collect();
            if text("role_arn") != GRANT.arn()? {
                Some(format!("a verdict on {}", text("role_arn")))
            } else if *at(body, &["can_assume"]) != json!(true) {
                Some(format!("can_assume false: {}", text("reason")))
            } else if decisions != ["allow", "implicit_deny", "implicit_deny"] {
                Some(format!("assume_checks decide {decisions:?}"))
            } else if *at(body, &["drift"]) != json!([]) {
                Some(format!(
                    "drift on a role nobody edited: {}",
                    at(body, &["drift"])
                ))
            } else if at(body, &["permissions_policies"])
                .get(OWNER_POLICY)
                .is_none()
            {
                Some(format!("permissions_policies lack {OWNER_POLICY}"))
            } else {
                None
            }
        }
        "check-requestor-role" => {
            if text("principal_arn") != REQUESTOR_ROLE.arn()? {
                Some(format!("a verdict on {}", text("principal_arn")))
            } else if *at(body, &["ok"]) != json!(true) {
                Some(format!("not ok: {}", at(body, &["problems"])))
            } else if at(body, &["policies"]).get(REQUESTOR_POLICY).is_none() {
                Some(format!("policies lack {REQUESTOR_POLICY}"))
            } else {
                None
            }
        }
        "revoke-grant" | "revoke-requestor-resources" => {
            let removed = at(body, &["removed"]).as_array().map_or(0, Vec::len);
            match (at(body, &["changed"]).as_bool(), first) {
                (Some(true), true) if removed > 0 => None,
                (Some(false), false) if removed == 0 => None,
                _ => Some(format!(
                    "changed={} with {removed} removed; only the first revoke removes",
                    at(body, &["changed"])
                )),
            }
        }
        // Floors answer anything with 200.
        _ => None,
    };
    Ok(problem)
}

/// How the run goes.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub events_dir: PathBuf,
    pub moto: PathBuf,
    pub moto_port: u16,
    pub log_dir: PathBuf,
    /// Warm invocations after the first, in the first process.
    pub warm: usize,
    /// Fresh processes per binary; the reported init and cold start are their medians.
    pub cold_runs: usize,
    pub timeout: Duration,
    /// Only these functions (all nine when empty); every floor is measured.
    pub only: Vec<String>,
}

/// A measured binary: a function or a floor.
#[derive(Debug, Clone)]
struct Target {
    name: &'static str,
    floor: Option<Floor>,
    launch: Launch,
    event: Value,
}

#[derive(Debug, Default)]
struct Measured {
    colds: Vec<Cold>,
    warm_ms: Vec<f64>,
    peak_rss_mb: Option<f64>,
}

fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(BenchError::new(format!(
            "no binary {} (make bench builds the functions and floors with --release)",
            path.display()
        )))
    }
}

/// The whole run; returns the results' `functions`, `floors` and `harness` keys.
pub async fn run(options: &Options) -> Result<Value> {
    let specs: Vec<FunctionSpec> = FUNCTIONS
        .into_iter()
        .filter(|f| options.only.is_empty() || options.only.iter().any(|o| o == f.name))
        .collect();
    if specs.is_empty() {
        return Err(BenchError::new(format!(
            "no such function: {:?}",
            options.only
        )));
    }
    let mut binaries = BTreeMap::new();
    for name in FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(Floor::ALL.iter().map(|f| f.binary()))
    {
        binaries.insert(name, binary(&options.bin_dir, name)?);
    }
    let aws = SeededMoto::start(&options.moto, options.moto_port, &options.log_dir).await?;
    crate::progress(&format!(
        "seeded and pre-warmed moto in {:.1} s",
        aws.prewarm.as_secs_f64()
    ));
    let seeded = &aws.seeded;
    let launch = |label: &str, name: &str, side: Side, memory_mb: u32| -> Result<Launch> {
        Ok(Launch {
            label: label.to_owned(),
            binary: binaries
                .get(name)
                .cloned()
                .context(|| format!("no binary for {name}"))?,
            function_name: name.to_owned(),
            function_arn: function_arn(side, REGION, name)?.to_string(),
            memory_mb,
            aws_env: aws.account(side).environment(),
            log_dir: options.log_dir.clone(),
            timeout: options.timeout,
        })
    };
    seed_roles(options, &launch).await?;
    crate::progress("seeded the grants and requestor roles through xacct's create functions");

    let floor_event = events::load(&options.events_dir, "list-permissions")?;
    let mut targets: Vec<Target> = Vec::new();
    for floor in Floor::ALL {
        targets.push(Target {
            name: floor.binary(),
            floor: None,
            launch: launch(floor.binary(), floor.binary(), Side::Owner, 128)?,
            event: floor_event.clone(),
        });
    }
    for spec in &specs {
        targets.push(Target {
            name: spec.name,
            floor: Some(spec.floor),
            launch: launch(spec.name, spec.name, spec.side, spec.memory_mb)?,
            event: events::load(&options.events_dir, spec.name)?,
        });
    }
    let mut measured: BTreeMap<&str, Measured> = BTreeMap::new();
    // Round by round, every binary once per round, so that a busier moment of the machine
    // falls on the floors and the functions alike.
    for round in 0..options.cold_runs.max(1) {
        for target in &targets {
            let m = measured.entry(target.name).or_default();
            measure(target, round, options.warm, m).await?;
        }
        crate::progress(&format!(
            "round {} of {} done",
            round + 1,
            options.cold_runs.max(1)
        ));
    }
    report(&targets, &measured, seeded, options)
}

/// Writes the seeded roles with xacct's own create functions, one process per creator.
async fn seed_roles(
    options: &Options,
    launch: &impl Fn(&str, &str, Side, u32) -> Result<Launch>,
) -> Result<()> {
    for roles in [
        [GRANT, GRANT_TO_REVOKE],
        [REQUESTOR_ROLE, REQUESTOR_ROLE_TO_REVOKE],
    ] {
        let [first, second] = roles;
        let creator = first.creator();
        let template = events::load(&options.events_dir, creator)?;
        let label = format!("seed-{creator}");
        let launch = launch(&label, creator, first.side, 128)?;
        let event = |role: SeedRole| -> Result<Vec<u8>> {
            Ok(events::payload(&events::with_body(
                &template,
                &role.body()?,
            )))
        };
        let (api, mut running, outcome, _) = launch
            .cold_start(event(first)?, &format!("{label}.log"))
            .await?;
        let outcomes = [
            (first, outcome),
            (second, {
                let pending = api.submit(event(second)?);
                running.wait(&api, pending).await?
            }),
        ];
        for (role, outcome) in outcomes {
            let answer = events::http_answer(&outcome.body)?;
            let body = &answer.body;
            if answer.status != 200
                || *at(body, &["role_arn"]) != json!(role.arn()?)
                || *at(body, &["changed"]) != json!(true)
            {
                return Err(running.failure(&format!("seeding {}: {body}", role.name)));
            }
        }
        running.stop().await;
    }
    Ok(())
}

/// One process of a target: round 0 measures the cold start, the warm invocations and the
/// peak memory; later rounds the cold start only.
async fn measure(target: &Target, round: usize, warm: usize, into: &mut Measured) -> Result<()> {
    let log = if round == 0 {
        format!("{}.log", target.name)
    } else {
        format!("{}.cold{round}.log", target.name)
    };
    let (api, mut running, outcome, cold) = target
        .launch
        .cold_start(events::payload(&target.event), &log)
        .await?;
    let problem = check(
        target.name,
        round == 0,
        &events::http_answer(&outcome.body)?,
    )?;
    if let Some(problem) = problem {
        return Err(running.failure(&format!("cold invocation: {problem}")));
    }
    into.colds.push(cold);
    if round == 0 {
        for i in 1..=warm {
            let pending = api.submit(events::payload(&target.event));
            let outcome = running.wait(&api, pending).await?;
            if let Some(problem) = check(target.name, false, &events::http_answer(&outcome.body)?)?
            {
                return Err(running.failure(&format!("warm invocation {i}: {problem}")));
            }
            into.warm_ms.push(outcome.in_function_ms());
        }
        let pid = running
            .child
            .id()
            .context(|| format!("{}: exited", target.name))?;
        into.peak_rss_mb = peak_rss_mb(pid);
    }
    running.stop().await;
    Ok(())
}

fn medians(colds: &[Cold]) -> Option<Cold> {
    let of = |f: fn(&Cold) -> f64| median(&colds.iter().map(f).collect::<Vec<_>>()).map(round3);
    Some(Cold {
        init_ms: of(|c| c.init_ms)?,
        cold_start_ms: of(|c| c.cold_start_ms)?,
        first_request_ms: of(|c| c.first_request_ms)?,
    })
}

fn report(
    targets: &[Target],
    measured: &BTreeMap<&str, Measured>,
    seeded: &Seeded,
    options: &Options,
) -> Result<Value> {
    let mut functions = serde_json::Map::new();
    let mut floors = serde_json::Map::new();
    for target in targets {
        let m = measured
            .get(target.name)
            .context(|| format!("{} was not measured", target.name))?;
        let cold = medians(&m.colds).context(|| format!("{}: no cold start", target.name))?;
        let first = m
            .colds
            .first()
            .copied()
            .context(|| "no first run".to_owned())?;
        let size = std::fs::metadata(&target.launch.binary)
            .context(|| format!("stat {}", target.launch.binary.display()))?
            .len();
        let mut entry = json!({
            "init_ms": cold.init_ms,
            "cold_start_ms": cold.cold_start_ms,
            "first_request_ms": cold.first_request_ms,
            "first_run": {
                "init_ms": round3(first.init_ms),
                "cold_start_ms": round3(first.cold_start_ms),
                "first_request_ms": round3(first.first_request_ms),
            },
            "cold_runs": m.colds.len(),
            "warm_ms": Summary::of(&m.warm_ms),
            "peak_rss_mb": m.peak_rss_mb,
            "binary_mb": mib(size),
            "zipped_mb": mib(zipped_size(&target.launch.binary)?),
            "memory_size_mb": target.launch.memory_mb,
        });
        match target.floor {
            None => {
                if let Some(floor) = Floor::ALL.iter().find(|f| f.binary() == target.name) {
                    set(&mut entry, "what", json!(floor.what()));
                }
                floors.insert(target.name.to_owned(), entry);
            }
            Some(floor) => {
                let floor_m = measured
                    .get(floor.binary())
                    .and_then(|m| medians(&m.colds))
                    .context(|| format!("{} was not measured", floor.binary()))?;
                set(&mut entry, "floor", json!(floor.binary()));
                set(
                    &mut entry,
                    "init_ratio",
                    json!(ratio(cold.init_ms, floor_m.init_ms)),
                );
                set(
                    &mut entry,
                    "cold_start_ratio",
                    json!(ratio(cold.cold_start_ms, floor_m.cold_start_ms)),
                );
                if let Some(note) = note(target.name) {
                    set(&mut entry, "note", json!(note));
                }
                functions.insert(target.name.to_owned(), entry);
            }
        }
    }
    Ok(json!({
        "functions": functions,
        "floors": floors,
        "harness": {
            "tool": "crates/bench: xacct-bench functions",
            "warm": options.warm,
            "cold_runs": options.cold_runs,
            "reported": "init_ms, cold_start_ms and first_request_ms are medians over cold_runs fresh processes (first_run: the first process, whose first request is the run's first); warm_ms over the first process's warm invocations; ratios are a function's median over its floor's, same run, interleaved round by round",
            "aws": "moto on loopback, pre-warmed (every read API called once before the first spawn)",
            "seeded": {
                "buckets": seeded.buckets,
                "instances": seeded.instances.len(),
                "functions": seeded.functions,
                "owner_account": OWNER_ACCOUNT,
            },
            "goal": "each function's init within 1.3x its floor's",
        },
    }))
}

fn note(name: &str) -> Option<&'static str> {
    match name {
        "revoke-grant" | "revoke-requestor-resources" => Some(
            "the first run revokes the seeded role (200, changed: true); the warm invocations and later cold runs find it gone (200, changed: false): warm_ms and the median cold start measure the already-revoked path",
        ),
        "create-owner-role" | "create-requestor-resources" => Some(
            "the first run creates the role; the warm invocations and later cold runs are repeats (200, changed: false, no IAM write)",
        ),
        _ => None,
    }
}

/// The Markdown table of a `functions` result.
pub fn markdown(results: &Value) -> String {
    let mut out = String::from(
        "| function | init | × floor | cold start | × floor | warm p50 | peak RSS | zipped |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let floors = at(results, &["floors"]);
    for floor in Floor::ALL {
        let f = at(floors, &[floor.binary()]);
        if f.is_null() {
            continue;
        }
        out.push_str(&format!(
            "| {} (floor) | {} ms | | {} ms | | {} ms | {} MB | {} MB |\n",
            floor.binary(),
            at(f, &["init_ms"]),
            at(f, &["cold_start_ms"]),
            at(f, &["warm_ms", "p50"]),
            at(f, &["peak_rss_mb"]),
            at(f, &["zipped_mb"]),
        ));
    }
    for spec in FUNCTIONS {
        let f = at(results, &["functions", spec.name]);
        if f.is_null() {
            continue;
        }
        out.push_str(&format!(
            "| {} | {} ms | {} | {} ms | {} | {} ms | {} MB | {} MB |\n",
            spec.name,
            at(f, &["init_ms"]),
            at(f, &["init_ratio"]),
            at(f, &["cold_start_ms"]),
            at(f, &["cold_start_ratio"]),
            at(f, &["warm_ms", "p50"]),
            at(f, &["peak_rss_mb"]),
            at(f, &["zipped_mb"]),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: Value) -> HttpAnswer {
        HttpAnswer { status: 200, body }
    }

    #[test]
    fn every_function_has_a_floor_of_its_clients() {
        let floor = |name: &str| FUNCTIONS.iter().find(|f| f.name == name).unwrap().floor;
        assert_eq!(floor("list-permissions"), Floor::Bare);
        assert_eq!(floor("list-resources"), Floor::Discovery);
        assert_eq!(floor("create-owner-role"), Floor::Owner);
        assert_eq!(
            FUNCTIONS.iter().filter(|f| f.floor == Floor::Iam).count(),
            6
        );
        // Every floor serves some function.
        assert!(
            Floor::ALL
                .iter()
                .all(|f| FUNCTIONS.iter().any(|s| s.floor == *f))
        );
    }

    #[test]
    fn every_function_matches_its_package_in_the_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for f in FUNCTIONS {
            assert!(
                root.join("functions")
                    .join(f.name)
                    .join("Cargo.toml")
                    .is_file(),
                "{}",
                f.name
            );
        }
        for f in Floor::ALL {
            let bin = root
                .join("crates/bench/floors/src/bin")
                .join(format!("{}.rs", f.binary()));
            assert!(bin.is_file(), "{}", bin.display());
        }
    }

    #[test]
    fn every_function_url_function_runs_with_the_memory_template_yaml_gives_it() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let template: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let deployed: BTreeMap<String, u64> = template["Resources"]
            .as_mapping()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::Serverless::Function")
            // The bench serves Function URL requests; the scheduled sweeps have no URL.
            .filter(|r| !r["Properties"]["FunctionUrlConfig"].is_null())
            // Nor does it run an organization: the hub's list-accounts is not benched yet.
            .filter(|r| r["Condition"] != "IsHub")
            .map(|r| {
                let p = &r["Properties"];
                let code = p["CodeUri"].as_str().unwrap();
                (
                    code.trim_start_matches("functions/").to_owned(),
                    p["MemorySize"].as_u64().unwrap(),
                )
            })
            .collect();
        let benched: BTreeMap<String, u64> = FUNCTIONS
            .iter()
            .map(|f| (f.name.to_owned(), u64::from(f.memory_mb)))
            .collect();
        assert_eq!(benched, deployed);
    }

    #[test]
    fn seeded_roles_are_written_by_the_create_of_their_side() {
        assert_eq!(GRANT.creator(), "create-owner-role");
        assert_eq!(REQUESTOR_ROLE.creator(), "create-requestor-resources");
        let body = REQUESTOR_ROLE.body().unwrap();
        assert_eq!(
            body["owner_role_arn"],
            "arn:aws:iam::111111111111:role/xacct/xacct-bench-grant"
        );
        assert_eq!(
            GRANT_TO_REVOKE.body().unwrap()["resource_arn"],
            "arn:aws:s3:::xacct-bench-bucket"
        );
    }

    #[test]
    fn the_events_name_the_seeded_roles() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/tests/events");
        let body = |name: &str| -> Value {
            let event = events::load(&dir, name).unwrap();
            serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
        };
        assert_eq!(body("check-owner-role")["role_arn"], GRANT.arn().unwrap());
        assert_eq!(
            body("check-owner-role")["principal_arn"],
            REQUESTOR_ROLE.arn().unwrap()
        );
        assert_eq!(body("check-owner-role")["external_id"], BENCH_EXTERNAL_ID);
        assert_eq!(
            body("revoke-grant")["role_arn"],
            GRANT_TO_REVOKE.arn().unwrap()
        );
        assert_eq!(
            body("check-requestor-role")["role_arn"],
            REQUESTOR_ROLE.arn().unwrap()
        );
        assert_eq!(
            body("revoke-requestor-resources")["role_arn"],
            REQUESTOR_ROLE_TO_REVOKE.arn().unwrap()
        );
        // The creates' own roles are not the seeded ones: their first invocation creates.
        assert_ne!(body("create-owner-role")["role_name"], GRANT.name);
    }

    #[test]
    fn a_revoke_changes_only_the_first_time() {
        let revoked = answer(json!({"removed": ["role `x`"], "changed": true}));
        let nothing = answer(json!({"removed": [], "changed": false}));
        assert_eq!(check("revoke-grant", true, &revoked).unwrap(), None);
        assert_eq!(check("revoke-grant", false, &nothing).unwrap(), None);
        assert!(check("revoke-grant", false, &revoked).unwrap().is_some());
        assert!(
            check("revoke-requestor-resources", true, &nothing)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn checks_refuse_wrong_answers() {
        let grant = json!({
            "role_arn": GRANT.arn().unwrap(), "actions": GRANT_ACTIONS,
            "external_id": BENCH_EXTERNAL_ID, "requestor_account_id": REQUESTOR_ACCOUNT,
        });
        let listing = |grants: Value| answer(json!({"grants": grants, "next_cursor": null}));
        assert_eq!(
            check("list-grants", false, &listing(json!([grant.clone()]))).unwrap(),
            None
        );
        let twice = listing(json!([grant.clone(), grant.clone()]));
        assert!(
            check("list-grants", false, &twice)
                .unwrap()
                .unwrap()
                .contains("2 times")
        );
        let mut other = grant.clone();
        other["actions"] = json!(["s3:GetObject"]);
        assert!(
            check("list-grants", false, &listing(json!([other])))
                .unwrap()
                .is_some()
        );
        let created =
            answer(json!({"role_arn": "arn:aws:iam::111111111111:role/xacct/x", "changed": true}));
        assert_eq!(check("create-owner-role", true, &created).unwrap(), None);
        assert!(
            check("create-owner-role", false, &created)
                .unwrap()
                .is_some()
        );
        let refused = HttpAnswer {
            status: 400,
            body: json!({}),
        };
        assert!(
            check("floor-bare", true, &refused)
                .unwrap()
                .unwrap()
                .starts_with("HTTP 400")
        );
    }

    #[test]
    fn the_table_has_floors_first_and_ratios() {
        let results = json!({
            "floors": {"floor-bare": {"init_ms": 2.0, "cold_start_ms": 3.0, "warm_ms": {"p50": 0.1}, "peak_rss_mb": 5.0, "zipped_mb": 1.0}},
            "functions": {"list-permissions": {"init_ms": 2.4, "init_ratio": 1.2, "cold_start_ms": 4.0, "cold_start_ratio": 1.33, "warm_ms": {"p50": 0.4}, "peak_rss_mb": 9.3, "zipped_mb": 2.5}},
        });
        let table = markdown(&results);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[2],
            "| floor-bare (floor) | 2.0 ms | | 3.0 ms | | 0.1 ms | 5.0 MB | 1.0 MB |"
        );
        assert_eq!(
            lines[3],
            "| list-permissions | 2.4 ms | 1.2 | 4.0 ms | 1.33 | 0.4 ms | 9.3 MB | 2.5 MB |"
        );
    }
}
