//! The `xacct` binary against the local stack: each command, JSON output, exit codes, and
//! the console's forwarding and guards. They need `make local-up`; `make test-e2e` runs them
//! (`cargo test -p xacct-cli --test local_stack -- --ignored`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn stack() -> Value {
    let path = std::env::var("XACCT_STACK_FILE").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../.local/stack.json").to_owned()
    });
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no local stack at {path}: {e}")),
    )
    .unwrap()
}

fn xacct(args: &[&str]) -> Output {
    xacct_env(args, &[])
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&text(out)).unwrap()
}

/// The standard output of a command that must have succeeded.
fn text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{:x}", nanos % 0xffff_ffff_ffff)
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn resources_lists_seeded_buckets_as_json_and_table() {
    let out = json(&xacct(&["resources", "--service", "s3", "-o", "json"]));
    let names: Vec<&str> = out["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"xacct-demo-reports") && names.contains(&"xacct-demo-logs-eu"),
        "{names:?}"
    );
    let table = xacct(&["resources", "--service", "s3", "--region", "eu-west-1"]);
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("SERVICE"), "{text}");
    assert!(
        text.contains("xacct-demo-logs-eu") && !text.contains("xacct-demo-reports"),
        "{text}"
    );
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn permissions_shows_where_each_action_is_granted() {
    let out = xacct(&[
        "permissions",
        "arn:aws:s3:::xacct-demo-reports",
        "--level",
        "read",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("s3:GetObject") && l.contains("arn:aws:s3:::xacct-demo-reports/*")),
        "{text}"
    );
    assert!(!text.contains("s3:PutObject "), "only read actions");
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn grant_and_requestor_setup() {
    let role = unique("cli-grant");
    let dry = json(&xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "222222222222",
        "--actions",
        "s3:GetObject,s3:ListBucket",
        "--role-name",
        &role,
        "--dry-run",
        "-o",
        "json",
    ]));
    assert_eq!(dry["dry_run"], true);
    let created = json(&xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "222222222222",
        "--level",
        "list",
        "--role-name",
        &role,
        "-o",
        "json",
    ]));
    assert_eq!(created["changed"], true);
    assert!(
        created["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "s3:ListBucket")
    );
    let owner_role = created["role_arn"].as_str().unwrap();
    let ext = created["external_id"].as_str().unwrap();
    let req = json(&xacct(&[
        "requestor-setup",
        owner_role,
        "--service",
        "ecs-tasks.amazonaws.com",
        "--external-id",
        ext,
        "-o",
        "json",
    ]));
    assert_eq!(req["policy"]["Statement"][0]["Resource"], owner_role);
    let text = xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "222222222222",
        "--level",
        "list",
        "--role-name",
        &role,
    ]);
    assert!(
        String::from_utf8(text.stdout)
            .unwrap()
            .contains("already up to date")
    );
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn exit_codes_tell_bad_input_from_refused_and_unreachable() {
    let bad = xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "123",
        "--actions",
        "s3:GetObject",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(
        err.contains("requestor_account_id must be 12 digits")
            && err.contains("field `requestor_account_id`"),
        "{err}"
    );
    let missing = xacct(&[
        "grant",
        "arn:aws:s3:::no-such-bucket-xacct",
        "--to",
        "222222222222",
        "--actions",
        "s3:GetObject",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let handmade = unique("cli-conflict");
    // A role of that name that xacct does not manage: refused (409).
    let first = xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "222222222222",
        "--actions",
        "s3:GetObject",
        "--role-name",
        &handmade,
        "-o",
        "json",
    ]);
    assert!(first.status.success());
    let other_grant = xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-untagged",
        "--to",
        "222222222222",
        "--actions",
        "s3:GetObject",
        "--role-name",
        &handmade,
    ]);
    assert_eq!(
        other_grant.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&other_grant.stderr)
    );
    let unreachable = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["--owner-url", "http://127.0.0.1:1", "resources"])
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(4));
    assert!(
        String::from_utf8(unreachable.stderr)
            .unwrap()
            .contains("could not reach http://127.0.0.1:1/lambda-url/list-resources/")
    );
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn config_shows_values_and_their_sources() {
    let out = json(&xacct(&["config", "-o", "json"]));
    assert_eq!(
        out["values"]["owner-url"]["source"],
        "--owner-url or XACCT_OWNER_URL"
    );
    let f = out["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "create-requestor-resources")
        .unwrap()
        .clone();
    assert!(
        f["url"]
            .as_str()
            .unwrap()
            .ends_with("/lambda-url/create-requestor-resources/")
    );
    assert_eq!(f["signed"], false);
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn console_forwards_and_guards() {
    let s = stack();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["console", "--port", "0"])
        .env("XACCT_OWNER_URL", s["owner_url_base"].as_str().unwrap())
        .env(
            "XACCT_REQUESTOR_URL",
            s["requestor_url_base"].as_str().unwrap(),
        )
        .env("HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let (base, token) = url.split_once("/?token=").unwrap();
    let (base, token) = (base.to_owned(), token.to_owned());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Without the run's token even a read is refused: it would be signed with the
        // console's credentials.
        let anonymous = reqwest::Client::new()
            .get(format!(
                "{base}/api/list-permissions?arn=arn:aws:s3:::xacct-demo-reports"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 403);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-xacct-console-token",
            reqwest::header::HeaderValue::from_str(&token).unwrap(),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let index = http.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(index.status(), 200);
        assert!(index.text().await.unwrap().contains("<html"));
        let perms = http
            .get(format!(
                "{base}/api/list-permissions?arn=arn:aws:s3:::xacct-demo-reports"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(perms.status(), 200);
        let bad = http
            .get(format!("{base}/api/list-permissions?arn=nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400, "errors pass through");
        let form = http
            .post(format!("{base}/api/create-owner-role"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("a=b")
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 403, "no cross-site form posts");
        let foreign = http
            .post(format!("{base}/api/create-owner-role"))
            .header("content-type", "application/json")
            .header("origin", "http://evil.example")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);
        let rebinding = http
            .get(format!("{base}/api/list-resources"))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(rebinding.status(), 403, "no DNS rebinding");
        let unknown = http
            .get(format!("{base}/api/delete-everything"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
    });
    child.kill().unwrap();
    let _ = child.wait();
}

/// `xacct` in a clean environment pointed at the local stack, plus `env` (e.g. an AWS
/// config of the requestor's own credentials).
fn xacct_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let s = stack();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("XACCT_OWNER_URL", s["owner_url_base"].as_str().unwrap())
        .env(
            "XACCT_REQUESTOR_URL",
            s["requestor_url_base"].as_str().unwrap(),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn check_grants_and_revoke_through_the_cli() {
    let role_name = unique("cli-life");
    let owner = grant_list_bucket(&role_name);
    let role = owner["role_arn"].as_str().unwrap();
    let ext = owner["external_id"].as_str().unwrap();
    let requestor = json(&xacct(&[
        "requestor-setup",
        role,
        "--service",
        "lambda.amazonaws.com",
        "--external-id",
        ext,
        "-o",
        "json",
    ]));
    let requestor_role = requestor["role_arn"].as_str().unwrap();

    // One verdict from both sides.
    let verdict = json(&xacct(&[
        "check",
        role,
        "--requestor-role",
        requestor_role,
        "--external-id",
        ext,
        "-o",
        "json",
    ]));
    assert_eq!(verdict["works"], true, "{verdict}");
    let wrong = xacct(&[
        "check",
        role,
        "--requestor-role",
        requestor_role,
        "--external-id",
        "wrong-external-id",
    ]);
    assert!(!wrong.status.success());
    let text = String::from_utf8(wrong.stdout).unwrap();
    assert!(text.starts_with("DOES NOT WORK"), "{text}");
    assert!(text.contains("sts:ExternalId"), "{text}");
    // The requestor's live policies were read: their verdict is shown, and the owner side's
    // own cases say they stand alone.
    assert!(
        text.contains("assume with the requestor's live policies: implicit_deny"),
        "{text}"
    );
    assert!(
        text.contains("assume as given, owner side alone:"),
        "{text}"
    );

    // --live with the requestor's own credentials in a profile: assume, then read.
    let dir = tempfile::tempdir().unwrap();
    let env = profile_env(dir.path(), "requestor");
    let live = xacct_env(
        &[
            "check",
            role,
            "--principal",
            "arn:aws:iam::222222222222:root",
            "--external-id",
            ext,
            "--live",
            "--profile",
            "requestor",
            "-o",
            "json",
        ],
        &env,
    );
    let live = json(&live);
    assert_eq!(live["live"]["assumed"], true, "{live}");
    assert!(live["live"]["propagation_seconds"].is_number());
    assert_eq!(live["live"]["read"]["ok"], true, "{live}");
    assert_eq!(live["live"]["read"]["action"], "s3:ListBucket");

    // Listed, then revoked on both sides (no terminal: --yes is required).
    let grants = json(&xacct(&[
        "grants",
        "--resource",
        "arn:aws:s3:::xacct-demo-reports",
        "-o",
        "json",
    ]));
    assert!(
        grants["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role_arn"] == role),
        "{grants}"
    );
    let refused = xacct(&["revoke", role]);
    assert_eq!(refused.status.code(), Some(1));
    let revoked = json(&xacct(&[
        "revoke",
        role,
        "--requestor-role",
        requestor_role,
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(revoked["owner"]["changed"], true, "{revoked}");
    assert_eq!(revoked["requestor"]["changed"], true, "{revoked}");
    let after = xacct(&[
        "check",
        role,
        "--principal",
        "arn:aws:iam::222222222222:root",
    ]);
    assert_eq!(after.status.code(), Some(2), "the role is gone: 404");
}

/// `xacct grant` of `s3:ListBucket` on the demo bucket to the requestor account, as JSON.
fn grant_list_bucket(role_name: &str) -> Value {
    json(&xacct(&[
        "grant",
        "arn:aws:s3:::xacct-demo-reports",
        "--to",
        "222222222222",
        "--actions",
        "s3:ListBucket",
        "--role-name",
        role_name,
        "-o",
        "json",
    ]))
}

/// An AWS config file with one side's moto credentials as profile `side`.
fn profile_env(dir: &std::path::Path, side: &str) -> Vec<(&'static str, String)> {
    let s = stack();
    let c = &s["credentials"][side];
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile {side}]\nregion = us-east-1\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c["access_key_id"].as_str().unwrap(),
            c["secret_access_key"].as_str().unwrap(),
            c["session_token"].as_str().unwrap()
        ),
    )
    .unwrap();
    vec![
        ("AWS_CONFIG_FILE", config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("none").display().to_string(),
        ),
        (
            "AWS_ENDPOINT_URL",
            s["moto_url"].as_str().unwrap().to_owned(),
        ),
    ]
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn simulate_reads_a_live_role_and_its_trust() {
    let role_name = unique("cli-sim");
    let owner = grant_list_bucket(&role_name);
    let role = owner["role_arn"].as_str().unwrap();
    let ext = owner["external_id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = profile_env(dir.path(), "owner");
    let sim = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--role",
            role,
            "--profile",
            "owner",
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        xacct_env(&args, &env)
    };
    // What the role may do: its inline policy, read live.
    let allowed = sim(&[
        "--action",
        "s3:ListBucket",
        "--resource",
        "arn:aws:s3:::xacct-demo-reports",
    ]);
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let v: Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(v["decision"], "allow");
    assert!(
        v["statements"][0]["policy"]
            .as_str()
            .unwrap()
            .contains("xacct-grant"),
        "{v}"
    );
    let denied = sim(&[
        "--action",
        "s3:DeleteBucket",
        "--resource",
        "arn:aws:s3:::xacct-demo-reports",
    ]);
    assert_eq!(denied.status.code(), Some(1));
    // Who may assume it: its trust policy, read live, with and without the External ID.
    let assume = |context: &[&str]| {
        let mut extra = vec![
            "--action",
            "sts:AssumeRole",
            "--resource",
            role,
            "--principal",
            "arn:aws:iam::222222222222:role/xacct/app",
            "--identity-policy",
        ];
        let identity = dir.path().join("assume.json");
        std::fs::write(
            &identity,
            format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role}"}}]}}"#),
        )
        .unwrap();
        let identity = identity.display().to_string();
        extra.push(&identity);
        let context: Vec<String> = context.iter().map(|c| (*c).to_owned()).collect();
        let mut all: Vec<&str> = extra.clone();
        for c in &context {
            all.push("--context");
            all.push(c);
        }
        sim(&all).status.code()
    };
    let with_id = format!("sts:ExternalId={ext}");
    assert_eq!(assume(&[&with_id]), Some(0));
    assert_eq!(assume(&[]), Some(1));
    xacct(&["revoke", role, "--yes"]);
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn inside_the_repository_the_cli_finds_the_local_stack_with_nothing_exported() {
    // A checkout with the stack's file, and the CLI run two folders below it.
    let s = stack();
    let repo = tempfile::tempdir().unwrap();
    let local = repo.path().join(".local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("stack.json"), s.to_string()).unwrap();
    let below = repo.path().join("crates").join("cli");
    std::fs::create_dir_all(&below).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "permissions",
            "arn:aws:s3:::xacct-demo-reports",
            "--level",
            "read",
            "-o",
            "json",
        ])
        .current_dir(&below)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", repo.path())
        .output()
        .unwrap();
    let answer = json(&out);
    assert_eq!(answer["arn"], "arn:aws:s3:::xacct-demo-reports", "{answer}");
    let config = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["config", "-o", "json"])
        .current_dir(&below)
        .env_clear()
        .env("HOME", repo.path())
        .output()
        .unwrap();
    let text = String::from_utf8(config.stdout).unwrap();
    assert!(text.contains("local stack file"), "{text}");
}

/// The stack's organization: the members with the spoke role (account, first demo bucket),
/// and the account of the one without.
fn organization_members(s: &Value) -> (Vec<(String, String)>, String) {
    let members = s["organization"]["members"].as_array().unwrap();
    let with: Vec<(String, String)> = members
        .iter()
        .filter(|m| m["spoke"] == true)
        .map(|m| {
            (
                m["account"].as_str().unwrap().to_owned(),
                m["buckets"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let without = members
        .iter()
        .find(|m| m["spoke"] == false)
        .and_then(|m| m["account"].as_str())
        .unwrap()
        .to_owned();
    assert!(with.len() >= 2, "{members:?}");
    (with, without)
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn accounts_lists_the_members_and_the_one_without_a_spoke_is_unreachable() {
    let s = stack();
    let (with, without) = organization_members(&s);
    let listed = json(&xacct(&["accounts", "-o", "json"]));
    assert_eq!(listed["organization_id"], s["organization"]["id"]);
    let state = |account: &str| {
        listed["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_id"] == account)
            .unwrap_or_else(|| panic!("{account} not listed: {listed}"))
            .clone()
    };
    assert_eq!(state(s["owner_account"].as_str().unwrap())["spoke"], "hub");
    for (account, _) in &with {
        assert_eq!(state(account)["spoke"], "reachable", "{listed}");
    }
    let missing = state(&without);
    assert_eq!(missing["spoke"], "unreachable", "{listed}");
    let reason = missing["reason"].as_str().unwrap().to_owned();
    assert!(!reason.is_empty());

    let table = text(&xacct(&["accounts"]));
    assert!(
        table.contains("ACCOUNT") && table.contains("SPOKE"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with(&without))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("xacct-member-without-spoke")
            && row.contains("unreachable")
            && row.contains(&reason),
        "{row}"
    );

    // A setup written from stacks that are no hub has no list-accounts: a clear error.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[setups.alone.urls]\nlist-resources = \"{}\"\n",
            s["functions"]["list-resources"].as_str().unwrap()
        ),
    )
    .unwrap();
    let alone = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["accounts", "--setup", "alone", "--config"])
        .arg(&config)
        .env_clear()
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(2));
    let err = String::from_utf8_lossy(&alone.stderr);
    assert!(err.contains("only an organization hub deploys"), "{err}");
}

#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn a_grant_in_a_member_account_with_account_is_listed_there_and_revoked() {
    let s = stack();
    let (with, without) = organization_members(&s);
    let (member, bucket) = with.first().unwrap();

    // The member's resources, and across the organization an ACCOUNT column and the
    // account without a spoke reported on its own.
    let mine = json(&xacct(&[
        "resources",
        "--service",
        "s3",
        "--account",
        member,
        "-o",
        "json",
    ]));
    assert!(
        mine["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == bucket.as_str() && r["account_id"] == member.as_str()),
        "{mine}"
    );
    let all = xacct(&[
        "resources",
        "--service",
        "s3",
        "--region",
        "us-east-1",
        "--account",
        "all",
    ]);
    let table = text(&all);
    assert!(table.starts_with("ACCOUNT"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(member.as_str()) && l.contains(bucket.as_str())),
        "{table}"
    );
    let warnings = String::from_utf8_lossy(&all.stderr);
    assert!(
        warnings.contains(&format!("account {without} could not be listed")),
        "{warnings}"
    );

    let role_name = unique("cli-member");
    let arn = format!("arn:aws:s3:::{bucket}");
    let created = json(&xacct(&[
        "grant",
        &arn,
        "--to",
        "222222222222",
        "--actions",
        "s3:ListBucket",
        "--role-name",
        &role_name,
        "--account",
        member,
        "-o",
        "json",
    ]));
    let role = created["role_arn"].as_str().unwrap().to_owned();
    assert!(
        role.contains(&format!(":{member}:role/xacct/{role_name}")),
        "{role}"
    );

    let names = |args: &[&str]| -> Vec<String> {
        json(&xacct(&[&["grants", "-o", "json"][..], args].concat()))["grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["role_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(names(&["--account", member]).contains(&role_name));
    assert!(
        !names(&[]).contains(&role_name),
        "the hub's own grants do not hold it"
    );

    let check = json(&xacct(&[
        "check",
        &role,
        "--principal",
        "arn:aws:iam::222222222222:root",
        "--external-id",
        created["external_id"].as_str().unwrap(),
        "--account",
        member,
        "-o",
        "json",
    ]));
    assert_eq!(check["owner"]["role_arn"], role.as_str(), "{check}");

    let revoked = json(&xacct(&[
        "revoke",
        &role,
        "--account",
        member,
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(revoked["owner"]["changed"], true, "{revoked}");
    assert!(!names(&["--account", member]).contains(&role_name));

    // A bad account is refused by the flag, before anything is sent.
    let bad = xacct(&["grants", "--account", "123"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--account") && err.contains("12 digits"),
        "{err}"
    );
}

/// The Function URL outputs of `template.yaml`, each with the function it names
/// (`ListResourcesUrl` -> `list-resources`), read from the template itself so the stacks
/// below carry exactly the outputs a deployed stack has.
fn template_url_outputs() -> Vec<(String, String)> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
            .unwrap();
    let outputs = template.split("\nOutputs:\n").nth(1).unwrap();
    outputs
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|k| !k.starts_with(' ') && k.ends_with("Url"))
        .map(|key| {
            let mut function = String::new();
            for c in key.trim_end_matches("Url").chars() {
                if c.is_ascii_uppercase() && !function.is_empty() {
                    function.push('-');
                }
                function.push(c.to_ascii_lowercase());
            }
            (key.to_owned(), function)
        })
        .collect()
}

/// Creates a stack in moto whose outputs are those of an xacct stack of `side`, pointing at
/// the local stack's functions of that side.
async fn deploy_outputs_only_stack(s: &Value, side: &str, name: &str) {
    let creds = &s["credentials"][side];
    let credentials = aws_credential_types::Credentials::new(
        creds["access_key_id"].as_str().unwrap(),
        creds["secret_access_key"].as_str().unwrap(),
        creds["session_token"].as_str().map(str::to_owned),
        None,
        "local-stack",
    );
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(credentials)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(s["moto_url"].as_str().unwrap())
        .build();
    let mut outputs = serde_json::Map::new();
    outputs.insert("Side".into(), serde_json::json!({ "Value": side }));
    for (key, function) in template_url_outputs() {
        if let Some(url) = s["functions"][&function].as_str()
            && function.contains("requestor") == (side == "requestor")
        {
            outputs.insert(key, serde_json::json!({ "Value": url }));
        }
    }
    let template = serde_json::json!({
        "Resources": { "Handle": { "Type": "AWS::CloudFormation::WaitConditionHandle" } },
        "Outputs": outputs,
    });
    aws_sdk_cloudformation::Client::from_conf(config)
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs the local stack: make test-e2e runs it"]
async fn setup_from_the_stacks_outputs_is_all_the_cli_needs() {
    let s = stack();
    let owner_stack = unique("xacct-owner");
    let requestor_stack = unique("xacct-requestor");
    deploy_outputs_only_stack(&s, "owner", &owner_stack).await;
    deploy_outputs_only_stack(&s, "requestor", &requestor_stack).await;

    // Two profiles, as a user who deployed each side with its own credentials has.
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = String::new();
    for side in ["owner", "requestor"] {
        let c = &s["credentials"][side];
        profiles.push_str(&format!(
            "[{side}]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c["access_key_id"].as_str().unwrap(),
            c["secret_access_key"].as_str().unwrap(),
            c["session_token"].as_str().unwrap(),
        ));
    }
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, profiles).unwrap();
    let config_file = dir.path().join("xacct.toml");
    std::fs::write(&config_file, "# my notes\n").unwrap();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
        cmd.args(args)
            .arg("--config")
            .arg(&config_file)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", s["moto_url"].as_str().unwrap());
        cmd.output().unwrap()
    };
    let setup_args = [
        "setup",
        "--owner-stack",
        &owner_stack,
        "--owner-profile",
        "owner",
        "--requestor-stack",
        &requestor_stack,
        "--requestor-profile",
        "requestor",
        "--name",
        "local",
    ];
    let written = json(&run(&[&setup_args[..], &["-o", "json"]].concat()));
    assert_eq!(written["setup"], "local");
    assert_eq!(written["urls"].as_object().unwrap().len(), 10, "{written}");
    // The local stack is an organization hub: its owner stack has list-accounts too.
    assert_eq!(
        written["urls"]["list-accounts"],
        s["functions"]["list-accounts"]
    );
    assert_eq!(
        written["urls"]["list-resources"],
        s["functions"]["list-resources"]
    );
    let text = std::fs::read_to_string(&config_file).unwrap();
    assert!(
        text.contains("# my notes\n"),
        "the rest of the file is kept: {text}"
    );
    assert!(text.contains("default_setup = \"local\""), "{text}");

    // Re-running updates the same setup: the file is the same.
    let table = run(&setup_args);
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    assert!(String::from_utf8_lossy(&table.stdout).starts_with("wrote setup `local` to "));
    assert_eq!(std::fs::read_to_string(&config_file).unwrap(), text);

    // The written setup is all the other commands need: no URL in the environment.
    let listed = json(&run(&["resources", "--service", "s3", "-o", "json"]));
    assert!(
        listed["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "xacct-demo-reports"),
        "{listed}"
    );

    // A stack given for the wrong side is refused by name, and the file is unchanged.
    let wrong = run(&[
        "setup",
        "--owner-stack",
        &requestor_stack,
        "--owner-profile",
        "requestor",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("deploys the requestor side"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config_file).unwrap(), text);
}

/// The README's first-grant walk-through, run as written: each `$ xacct ...` line of its
/// console block runs in order, with nothing exported (the CLI finds the local stack itself),
/// and must print the lines shown under it. `{name}` in the README stands for a value that
/// differs per run: it is taken from the first output that shows it, and must be the same
/// wherever it appears again (commands included). The role names get a suffix of this run,
/// so the walk-through can run again against the same stack.
#[test]
#[ignore = "needs the local stack: make test-e2e runs it"]
fn the_readme_walkthrough_runs_as_written() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("<!-- walkthrough: run by crates/cli/tests/local_stack.rs -->\n```console\n")
        .nth(1)
        .expect("the README has the walk-through block")
        .split("\n```")
        .next()
        .unwrap();
    let suffix = unique("r");
    let rename = |s: &str| s.replace("reports-reader", &format!("reports-reader-{suffix}"));
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in block.lines() {
        match line.strip_prefix("$ ") {
            Some(command) => steps.push((rename(command), Vec::new())),
            None => steps.last_mut().unwrap().1.push(rename(line)),
        }
    }
    let (first, _) = steps.remove(0);
    assert!(
        first.starts_with("make local"),
        "the walk-through starts the stack: {first}"
    );
    assert!(steps.len() >= 3, "{steps:?}");

    let stack_file = std::env::var("XACCT_STACK_FILE")
        .unwrap_or_else(|_| root.join(".local/stack.json").display().to_string());
    let home = tempfile::tempdir().unwrap();
    let mut vars: std::collections::BTreeMap<String, String> = Default::default();
    for (command, expected) in &steps {
        let words: Vec<String> = command
            .split_whitespace()
            .map(|w| substitute(w, &vars))
            .collect();
        assert_eq!(words[0], "xacct", "{command}");
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .args(&words[1..])
            .current_dir(root)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XACCT_STACK_FILE", &stack_file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "`{command}` failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let actual: Vec<&str> = stdout.lines().map(str::trim_end).collect();
        let shown = || {
            format!(
                "`{command}` printed\n{stdout}\nthe README shows\n{}",
                expected.join("\n")
            )
        };
        // A line `...` in the README stands for lines left out there.
        let mut at = 0;
        let mut wanted = expected.iter().map(|l| l.trim_end()).peekable();
        while let Some(want) = wanted.next() {
            if want == "..." {
                match wanted.peek() {
                    None => at = actual.len(),
                    Some(next) => {
                        while !actual
                            .get(at)
                            .is_some_and(|got| line_matches(next, got, &mut vars.clone()))
                        {
                            assert!(at < actual.len(), "{}", shown());
                            at += 1;
                        }
                    }
                }
                continue;
            }
            let got = actual.get(at).unwrap_or_else(|| panic!("{}", shown()));
            assert!(
                line_matches(want, got, &mut vars),
                "`{command}`: the README shows\n  {want}\nthe CLI printed\n  {got}\n\n{}",
                shown()
            );
            at += 1;
        }
        assert_eq!(at, actual.len(), "{}", shown());
    }
}

/// `word` with every known `{name}` replaced by its value.
fn substitute(word: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = word.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    assert!(
        !out.contains('{'),
        "`{word}` uses a value no output showed yet"
    );
    out
}

/// Whether `actual` is `pattern` with each `{name}` filled in: a known name must be its
/// value, a new one takes what stands there (up to the next literal text) and is remembered.
fn line_matches(
    pattern: &str,
    actual: &str,
    vars: &mut std::collections::BTreeMap<String, String>,
) -> bool {
    let mut rest = actual;
    let mut parts = pattern.split('{').enumerate().peekable();
    while let Some((i, part)) = parts.next() {
        let (name, literal) = if i == 0 {
            (None, part)
        } else {
            let (name, literal) = part.split_once('}').unwrap();
            (Some(name), literal)
        };
        if let Some(name) = name {
            let value = match vars.get(name) {
                Some(known) => known.clone(),
                None => {
                    let end = if literal.is_empty() {
                        if parts.peek().is_some() {
                            return false;
                        }
                        rest.len()
                    } else {
                        match rest.find(literal) {
                            Some(end) => end,
                            None => return false,
                        }
                    };
                    let value = rest[..end].to_owned();
                    if value.is_empty() {
                        return false;
                    }
                    vars.insert(name.to_owned(), value.clone());
                    value
                }
            };
            match rest.strip_prefix(value.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(literal) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}
