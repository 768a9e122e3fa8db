//! What the local stack is: its fixed facts, its settings, and the file that describes a
//! running one (`.local/stack.json`, read by the end-to-end tests, the CLI and the console).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::seed::Inventory;

pub const OWNER_ACCOUNT: &str = "111111111111";
pub const REQUESTOR_ACCOUNT: &str = "222222222222";
pub const HOME_REGION: &str = "us-east-1";
pub const SEED_REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
/// The CloudFormation stack name the local functions act as (`XACCT_STACK_NAME`).
pub const LOCAL_STACK_NAME: &str = "xacct-local";
/// Never `localhost`: the S3 SDKs switch to `bucket.localhost` with it.
pub const LOOPBACK: &str = "127.0.0.1";
const STACK_FILE_VERSION: u32 = 2;

/// An account of the stack, with the functions that run with its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Owner,
    Requestor,
}

impl Side {
    pub const BOTH: [Self; 2] = [Self::Owner, Self::Requestor];

    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Requestor => "requestor",
        }
    }

    pub fn account(self) -> &'static str {
        match self {
            Self::Owner => OWNER_ACCOUNT,
            Self::Requestor => REQUESTOR_ACCOUNT,
        }
    }

    /// The role moto's `sts:AssumeRole` maps into the account (it need not exist).
    pub fn role_name(self) -> &'static str {
        match self {
            Self::Owner => "xacct-local-owner",
            Self::Requestor => "xacct-local-requestor",
        }
    }

    /// The functions each side deploys (template.yaml's `Side`).
    pub fn functions(self) -> &'static [&'static str] {
        match self {
            Self::Owner => &[
                "list-resources",
                "list-permissions",
                "create-owner-role",
                "list-grants",
                "check-owner-role",
                "revoke-grant",
                "list-accounts",
            ],
            Self::Requestor => &[
                "create-requestor-resources",
                "check-requestor-role",
                "revoke-requestor-resources",
            ],
        }
    }
}

/// Where things are and how many of them, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    pub moto_port: u16,
    pub owner_port: u16,
    pub requestor_port: u16,
    /// Processes per function: requests to one function are served this many at a time.
    pub instances: usize,
    /// How long `up` waits for everything to answer.
    pub timeout: Duration,
    pub rust_log: String,
    pub target_dir: PathBuf,
    pub moto_server: PathBuf,
}

fn env_number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    name: &str,
    default: T,
    low: T,
    high: T,
) -> Result<T> {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => match text.trim().parse::<T>() {
            Ok(n) if n >= low && n <= high => Ok(n),
            _ => bail!("{name}={text}: expected a number from {low} to {high}"),
        },
        _ => Ok(default),
    }
}

/// The repository: the first folder from the current one up that holds this crate.
fn repository_root() -> Result<PathBuf> {
    let here = std::env::current_dir().context("the current folder is unreadable")?;
    here.ancestors()
        .find(|dir| dir.join("crates/devstack/Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "{} is not inside the xacct repository; run `make local` there",
                here.display()
            )
        })
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        let root = repository_root()?;
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/xacct-target"))
            })
            .context("neither CARGO_TARGET_DIR nor HOME is set")?;
        let venv_bin = root.join(".venv/bin");
        Ok(Self {
            moto_port: env_number("XACCT_MOTO_PORT", 5000, 1024, 65535)?,
            owner_port: env_number("XACCT_OWNER_PORT", 9000, 1024, 65535)?,
            requestor_port: env_number("XACCT_REQUESTOR_PORT", 9001, 1024, 65535)?,
            instances: env_number("XACCT_INSTANCES", 4, 1, 32)?,
            timeout: Duration::from_secs(env_number("XACCT_STACK_TIMEOUT", 120, 10, 3600)?),
            rust_log: std::env::var("XACCT_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            target_dir,
            moto_server: venv_bin.join("moto_server"),
            root,
        })
    }

    pub fn moto_url(&self) -> String {
        format!("http://{LOOPBACK}:{}", self.moto_port)
    }

    pub fn port(&self, side: Side) -> u16 {
        match side {
            Side::Owner => self.owner_port,
            Side::Requestor => self.requestor_port,
        }
    }

    pub fn url_base(&self, side: Side) -> String {
        format!("http://{LOOPBACK}:{}", self.port(side))
    }

    pub fn function_url(&self, side: Side, function: &str) -> String {
        format!("{}/lambda-url/{function}/", self.url_base(side))
    }

    /// A function's binary, as `cargo build --workspace --bins` leaves it.
    pub fn binary(&self, function: &str) -> PathBuf {
        self.target_dir.join("debug").join(function)
    }

    pub fn local_dir(&self) -> PathBuf {
        self.root.join(".local")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.local_dir().join("logs")
    }

    pub fn stack_file(&self) -> PathBuf {
        self.local_dir().join("stack.json")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Starting,
    Ready,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Foreground,
    Background,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ports {
    pub moto: u16,
    pub owner: u16,
    pub requestor: u16,
}

/// One side's credentials, from moto's `sts:AssumeRole`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SideCredentials {
    pub account: String,
    pub role_arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// `.local/stack.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackFile {
    pub version: u32,
    pub state: State,
    pub mode: Mode,
    /// The process that started everything and stops it: `down` signals it.
    pub supervisor_pid: u32,
    pub moto_url: String,
    pub ports: Ports,
    pub region: String,
    pub regions: Vec<String>,
    pub owner_account: String,
    pub requestor_account: String,
    pub stack_name: String,
    pub owner_url_base: String,
    pub requestor_url_base: String,
    /// Every function's URL, on its own side's port.
    pub functions: BTreeMap<String, String>,
    pub instances_per_function: usize,
    pub credentials: BTreeMap<String, SideCredentials>,
    /// What runs, by name (`moto`, `owner`, `requestor`, `list-resources#1`, ...).
    pub pids: BTreeMap<String, u32>,
    pub seed: Option<Inventory>,
    /// The organization the owner functions serve as its hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<crate::organization::Organization>,
    pub logs: PathBuf,
    /// Why a stack that failed to start failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StackFile {
    pub fn new(settings: &Settings, mode: Mode) -> Self {
        let functions = Side::BOTH
            .iter()
            .flat_map(|side| {
                side.functions()
                    .iter()
                    .map(move |f| ((*f).to_owned(), settings.function_url(*side, f)))
            })
            .collect();
        Self {
            version: STACK_FILE_VERSION,
            state: State::Starting,
            mode,
            supervisor_pid: std::process::id(),
            moto_url: settings.moto_url(),
            ports: Ports {
                moto: settings.moto_port,
                owner: settings.owner_port,
                requestor: settings.requestor_port,
            },
            region: HOME_REGION.to_owned(),
            regions: SEED_REGIONS.map(str::to_owned).to_vec(),
            owner_account: OWNER_ACCOUNT.to_owned(),
            requestor_account: REQUESTOR_ACCOUNT.to_owned(),
            stack_name: LOCAL_STACK_NAME.to_owned(),
            owner_url_base: settings.url_base(Side::Owner),
            requestor_url_base: settings.url_base(Side::Requestor),
            functions,
            instances_per_function: settings.instances,
            credentials: BTreeMap::new(),
            pids: BTreeMap::new(),
            seed: None,
            organization: None,
            logs: settings.logs_dir(),
            error: None,
        }
    }

    pub fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is not a stack file of this version", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file whole (a reader never sees half of it), readable by its owner only:
    /// it holds the sides' credentials.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn settings(root: &Path) -> Settings {
        Settings {
            root: root.to_path_buf(),
            moto_port: 5000,
            owner_port: 9000,
            requestor_port: 9001,
            instances: 4,
            timeout: Duration::from_secs(60),
            rust_log: "info".into(),
            target_dir: root.join("target"),
            moto_server: root.join("moto_server"),
        }
    }

    #[test]
    fn each_function_is_served_on_its_own_sides_port() {
        let dir = tempfile::tempdir().unwrap();
        let stack = StackFile::new(&settings(dir.path()), Mode::Background);
        assert_eq!(stack.functions.len(), 10);
        assert_eq!(
            stack.functions["list-accounts"],
            "http://127.0.0.1:9000/lambda-url/list-accounts/"
        );
        assert_eq!(
            stack.functions["create-requestor-resources"],
            "http://127.0.0.1:9001/lambda-url/create-requestor-resources/"
        );
        assert_eq!(
            stack.functions["revoke-grant"],
            "http://127.0.0.1:9000/lambda-url/revoke-grant/"
        );
    }

    #[test]
    fn the_stack_file_round_trips_and_only_its_owner_may_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.json");
        let stack = StackFile::new(&settings(dir.path()), Mode::Foreground);
        stack.save(&path).unwrap();
        let back = StackFile::load(&path).unwrap().unwrap();
        assert_eq!(back.owner_url_base, "http://127.0.0.1:9000");
        assert_eq!(back.state, State::Starting);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            StackFile::load(&dir.path().join("none.json"))
                .unwrap()
                .is_none()
        );
    }
}
