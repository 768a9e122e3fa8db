//! Layered configuration: flags, then `XACCT_*` environment variables (clap reads both into
//! [`GlobalArgs`]), then a named setup in the config file. Every value remembers where it
//! came from, for `xacct config`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::args::GlobalArgs;

/// Which account a function runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Owner,
    Requestor,
}

impl Side {
    /// The side a function is deployed on.
    pub fn of(function: &str) -> Self {
        if function.contains("requestor") {
            Self::Requestor
        } else {
            Self::Owner
        }
    }
}

/// The function only an organization hub deploys.
pub const HUB_FUNCTION: &str = "list-accounts";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("the config file `{path}` is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("no setup `{0}` in the config file")]
    UnknownSetup(String),
    #[error(
        "this setup has no URL for `list-accounts`, which only an organization hub deploys (the owner stack's OrganizationId): deploy the hub, then run `xacct setup` again"
    )]
    NotAHub,
    #[error(
        "no URL for `{function}`: set --{side}-url, XACCT_{upper}_URL, or `{side}_url` in a setup of the config file"
    )]
    NoUrl {
        function: String,
        side: &'static str,
        upper: &'static str,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_setup: Option<String>,
    #[serde(default)]
    setups: BTreeMap<String, SetupFile>,
}

/// One named setup in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupFile {
    owner_url: Option<String>,
    requestor_url: Option<String>,
    owner_profile: Option<String>,
    requestor_profile: Option<String>,
    region: Option<String>,
    sign: Option<bool>,
    /// Per-function URLs (deployed Function URLs differ per function).
    #[serde(default)]
    urls: BTreeMap<String, String>,
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced {
    pub value: String,
    pub source: String,
}

/// The configuration in effect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Settings {
    pub config_file: String,
    pub setup: Option<String>,
    pub values: BTreeMap<String, Sourced>,
    pub urls: BTreeMap<String, Sourced>,
    pub no_sign_flag: bool,
    /// The local stack, when its file is what names the URLs.
    #[serde(skip)]
    pub local: Option<LocalStack>,
}

/// The default config file: `$XDG_CONFIG_HOME/xacct/config.toml` or `~/.config/xacct/config.toml`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("xacct").join("config.toml")
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.message().to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// A running local stack's base URLs, from the file `make local` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStack {
    pub path: PathBuf,
    pub owner: String,
    pub requestor: String,
    /// moto's endpoint, and the requestor account's credentials in it: what `xacct check
    /// --live` acts with on the local stack when no profile is named.
    pub moto_url: Option<String>,
    pub region: String,
    pub requestor_credentials: Option<LocalCredentials>,
}

/// Credentials of one side of the local stack (moto's, valid nowhere else).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct LocalCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl std::fmt::Debug for LocalCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The local stack file: `XACCT_STACK_FILE` when set, else `.local/stack.json` in `start` or
/// the nearest folder above it; `None` when there is none or it names no URLs.
pub fn local_stack(start: &Path, env_file: Option<std::ffi::OsString>) -> Option<LocalStack> {
    let path = match env_file {
        Some(file) => PathBuf::from(file),
        None => start
            .ancestors()
            .map(|dir| dir.join(".local").join("stack.json"))
            .find(|candidate| candidate.is_file())?,
    };
    let text = std::fs::read_to_string(&path).ok()?;
    let file: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = |key: &str| file.get(key)?.as_str().map(str::to_owned);
    let requestor_credentials = file
        .get("credentials")
        .and_then(|c| c.get("requestor"))
        .and_then(|c| LocalCredentials::deserialize(c).ok());
    Some(LocalStack {
        owner: url("owner_url_base")?,
        requestor: url("requestor_url_base")?,
        moto_url: url("moto_url"),
        region: url("region").unwrap_or_else(|| "us-east-1".to_owned()),
        requestor_credentials,
        path,
    })
}

impl Settings {
    /// Resolves flags and environment (`args`) over the config file, and, when neither
    /// names a URL, the local stack found from the current folder (or `XACCT_STACK_FILE`).
    pub fn load(args: &GlobalArgs) -> Result<Self, ConfigError> {
        let stack = std::env::current_dir()
            .ok()
            .and_then(|dir| local_stack(&dir, std::env::var_os("XACCT_STACK_FILE")));
        Self::load_with(args, stack)
    }

    /// [`Settings::load`] with the local stack given, so tests do not depend on the folder
    /// they run in.
    pub fn load_with(args: &GlobalArgs, stack: Option<LocalStack>) -> Result<Self, ConfigError> {
        let path = args.config.clone().unwrap_or_else(default_path);
        let file = read_file(&path)?;
        let setup_name = args.setup.clone().or(file.default_setup.clone());
        let setup = match &setup_name {
            Some(name) => Some(
                file.setups
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ConfigError::UnknownSetup(name.clone()))?,
            ),
            None => None,
        };
        let mut settings = Settings {
            config_file: path.display().to_string(),
            setup: setup_name.clone(),
            no_sign_flag: args.no_sign,
            ..Settings::default()
        };
        let from_file = |v: &Option<String>| {
            v.clone().map(|value| Sourced {
                value,
                source: format!(
                    "config file, setup `{}`",
                    setup_name.clone().unwrap_or_default()
                ),
            })
        };
        let from_args = |v: &Option<String>, flag: &str| {
            v.clone().map(|value| Sourced {
                value,
                source: format!(
                    "--{flag} or XACCT_{}",
                    flag.to_uppercase().replace('-', "_")
                ),
            })
        };
        let s = setup.clone().unwrap_or_default();
        for (key, arg, file_value) in [
            ("owner-url", &args.owner_url, &s.owner_url),
            ("requestor-url", &args.requestor_url, &s.requestor_url),
            ("owner-profile", &args.owner_profile, &s.owner_profile),
            (
                "requestor-profile",
                &args.requestor_profile,
                &s.requestor_profile,
            ),
            ("region", &args.region, &s.region),
        ] {
            if let Some(v) = from_args(arg, key).or_else(|| from_file(file_value)) {
                settings.values.insert(key.to_owned(), v);
            }
        }
        if let Some(sign) = s.sign {
            settings.values.insert(
                "sign".to_owned(),
                Sourced {
                    value: sign.to_string(),
                    source: format!(
                        "config file, setup `{}`",
                        setup_name.clone().unwrap_or_default()
                    ),
                },
            );
        }
        if args.no_sign {
            settings.values.insert(
                "sign".to_owned(),
                Sourced {
                    value: "false".to_owned(),
                    source: "--no-sign".to_owned(),
                },
            );
        }
        for (function, url) in s.urls {
            settings.urls.insert(
                function,
                Sourced {
                    value: url,
                    source: "config file".to_owned(),
                },
            );
        }
        // Nothing configured: the local stack, when there is one (`make local` writes its
        // file), so `make local` followed by `xacct resources` works with nothing exported.
        let configured = settings.values.contains_key("owner-url")
            || settings.values.contains_key("requestor-url")
            || !settings.urls.is_empty();
        if !configured && let Some(stack) = stack {
            let source = format!("local stack file {}", stack.path.display());
            for (key, value) in [
                ("owner-url", stack.owner.clone()),
                ("requestor-url", stack.requestor.clone()),
            ] {
                settings.values.insert(
                    key.to_owned(),
                    Sourced {
                        value,
                        source: source.clone(),
                    },
                );
            }
            settings.local = Some(stack);
        }
        Ok(settings)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|s| s.value.as_str())
    }

    /// The URL of one function.
    pub fn function_url(&self, function: &str) -> Result<String, ConfigError> {
        if let Some(url) = self.urls.get(function) {
            return Ok(url.value.clone());
        }
        let (key, side, upper) = match Side::of(function) {
            Side::Owner => ("owner-url", "owner", "OWNER"),
            Side::Requestor => ("requestor-url", "requestor", "REQUESTOR"),
        };
        let base = self.get(key).ok_or_else(|| ConfigError::NoUrl {
            function: function.to_owned(),
            side,
            upper,
        })?;
        Ok(if base.contains("{function}") {
            base.replace("{function}", function)
        } else {
            // A `cargo lambda watch` base such as the local stack's.
            format!("{}/lambda-url/{function}/", base.trim_end_matches('/'))
        })
    }

    /// The URL of `list-accounts`, which only an organization hub has: a setup written from
    /// stacks that are no hub has none.
    pub fn hub_url(&self) -> Result<String, ConfigError> {
        self.function_url(HUB_FUNCTION).map_err(|e| match e {
            ConfigError::NoUrl { .. } => ConfigError::NotAHub,
            other => other,
        })
    }

    /// The profile that signs calls to one function.
    pub fn profile(&self, function: &str) -> Option<&str> {
        match Side::of(function) {
            Side::Owner => self.get("owner-profile"),
            Side::Requestor => self.get("requestor-profile"),
        }
    }

    /// Whether calls to this URL are signed: as configured, else for every URL that is not
    /// on this machine.
    pub fn sign(&self, url: &str) -> bool {
        match self.get("sign") {
            Some(v) => v == "true",
            None => !is_loopback(url),
        }
    }
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> GlobalArgs {
        GlobalArgs::default()
    }

    #[test]
    fn the_local_stack_file_is_found_from_any_folder_below_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".local").join("stack.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            r#"{"owner_url_base": "http://127.0.0.1:9000", "requestor_url_base": "http://127.0.0.1:9001"}"#,
        )
        .unwrap();
        let below = dir.path().join("crates").join("cli");
        std::fs::create_dir_all(&below).unwrap();
        let found = local_stack(&below, None).unwrap();
        assert_eq!(
            (found.owner.as_str(), found.requestor.as_str()),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9001")
        );
        assert_eq!(found.path, file);
        // XACCT_STACK_FILE wins; a file without URLs is no stack.
        let other = dir.path().join("other.json");
        std::fs::write(&other, "{}").unwrap();
        assert_eq!(local_stack(&below, Some(other.into_os_string())), None);
        assert_eq!(
            local_stack(&std::env::temp_dir().join("nowhere-xacct"), None),
            None
        );
    }

    #[test]
    fn flags_win_over_the_file_and_urls_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "default_setup = \"prod\"\n[setups.prod]\nowner_url = \"https://owner.example/{function}\"\nregion = \"eu-west-1\"\n[setups.prod.urls]\ncreate-requestor-resources = \"https://req.lambda-url.eu-west-1.on.aws/\"\n").unwrap();
        let mut a = args();
        a.config = Some(path.clone());
        let s = Settings::load_with(&a, None).unwrap();
        assert_eq!(
            s.function_url("list-resources").unwrap(),
            "https://owner.example/list-resources"
        );
        assert_eq!(
            s.function_url("create-requestor-resources").unwrap(),
            "https://req.lambda-url.eu-west-1.on.aws/"
        );
        assert!(s.sign("https://owner.example/list-resources"));
        assert_eq!(s.values["region"].source, "config file, setup `prod`");
        a.owner_url = Some("http://127.0.0.1:9000".into());
        let s = Settings::load_with(&a, None).unwrap();
        assert_eq!(
            s.function_url("list-permissions").unwrap(),
            "http://127.0.0.1:9000/lambda-url/list-permissions/"
        );
        assert!(!s.sign("http://127.0.0.1:9000/lambda-url/list-permissions/"));
        assert!(s.values["owner-url"].source.starts_with("--owner-url"));
    }

    #[test]
    fn missing_url_and_unknown_setup_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args();
        a.config = Some(dir.path().join("none.toml"));
        let s = Settings::load_with(&a, None).unwrap();
        assert_eq!(
            s.function_url("create-owner-role").unwrap_err().to_string(),
            "no URL for `create-owner-role`: set --owner-url, XACCT_OWNER_URL, or `owner_url` in a setup of the config file"
        );
        assert!(matches!(s.hub_url(), Err(ConfigError::NotAHub)));
        a.setup = Some("nope".into());
        assert_eq!(
            Settings::load_with(&a, None).unwrap_err().to_string(),
            "no setup `nope` in the config file"
        );
    }
}
