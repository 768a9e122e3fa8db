//! `xacct setup`: from `sam deploy` to a working CLI in one command. Reads the Function URLs
//! from the deployed stacks' outputs (`DescribeStacks`) and writes them as a named setup of
//! the config file, keeping everything else in the file as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_config::BehaviorVersion;
use clap::Args;
use serde::Serialize;

use crate::args::{GlobalArgs, Output};
use crate::config::{Side, default_path};
use crate::output::print;

/// Each Function URL output of `template.yaml`, the function it belongs to and its side.
/// `template_outputs_are_the_ones_setup_reads` keeps this table and the template in step.
pub const URL_OUTPUTS: [(&str, &str, Side); 9] = [
    ("ListResourcesUrl", "list-resources", Side::Owner),
    ("ListPermissionsUrl", "list-permissions", Side::Owner),
    ("CreateOwnerRoleUrl", "create-owner-role", Side::Owner),
    ("ListGrantsUrl", "list-grants", Side::Owner),
    ("CheckOwnerRoleUrl", "check-owner-role", Side::Owner),
    ("RevokeGrantUrl", "revoke-grant", Side::Owner),
    (
        "CreateRequestorResourcesUrl",
        "create-requestor-resources",
        Side::Requestor,
    ),
    (
        "CheckRequestorRoleUrl",
        "check-requestor-role",
        Side::Requestor,
    ),
    (
        "RevokeRequestorResourcesUrl",
        "revoke-requestor-resources",
        Side::Requestor,
    ),
];

/// The Function URL outputs only an organization hub's owner stack has (`Condition: IsHub`):
/// taken when there, and their absence is no error.
pub const HUB_OUTPUTS: [(&str, &str, Side); 1] =
    [("ListAccountsUrl", crate::config::HUB_FUNCTION, Side::Owner)];

/// The output that says which side a stack deploys (`template.yaml`'s `Side` parameter).
const SIDE_OUTPUT: &str = "Side";

#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    /// The owner side's CloudFormation stack (the `stack_name` of `sam deploy --config-env owner`).
    #[arg(long)]
    pub owner_stack: Option<String>,
    /// The requestor side's CloudFormation stack.
    #[arg(long)]
    pub requestor_stack: Option<String>,
    /// Name of the setup to write (re-running updates it).
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Region of the owner stack (default: the profile's region).
    #[arg(long)]
    pub owner_region: Option<String>,
    /// Region of the requestor stack (default: the profile's region).
    #[arg(long)]
    pub requestor_region: Option<String>,
}

/// Why a setup cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("name at least one stack: --owner-stack, --requestor-stack or both")]
    NoStack,
    #[error("the setup name `{0}` is not valid: use letters, digits, `-` and `_`")]
    InvalidName(String),
    #[error("cannot read stack `{stack}`: {reason}")]
    Describe { stack: String, reason: String },
    #[error("no stack `{0}` (check the name, the profile and the region)")]
    NoSuchStack(String),
    #[error("stack `{stack}` deploys the {found} side, but was given as --{wanted}-stack")]
    WrongSide {
        stack: String,
        found: String,
        wanted: &'static str,
    },
    #[error("stack `{stack}` has no output `{output}`: is it an xacct stack, fully deployed?")]
    MissingOutput { stack: String, output: &'static str },
    #[error("stack `{stack}`: output `{output}` is `{url}`, not an https or loopback http URL")]
    InvalidUrl {
        stack: String,
        output: &'static str,
        url: String,
    },
    #[error("cannot read the config file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write the config file `{path}`: {reason}")]
    Write { path: String, reason: String },
}

/// The URLs one stack's outputs give, by function, checked against the side it was named for.
pub fn urls_from_outputs(
    stack: &str,
    wanted: Side,
    outputs: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, String>, SetupError> {
    let side_name = match wanted {
        Side::Owner => "owner",
        Side::Requestor => "requestor",
    };
    let found = outputs.get(SIDE_OUTPUT).ok_or(SetupError::MissingOutput {
        stack: stack.to_owned(),
        output: SIDE_OUTPUT,
    })?;
    if found != side_name {
        return Err(SetupError::WrongSide {
            stack: stack.to_owned(),
            found: found.clone(),
            wanted: side_name,
        });
    }
    let mut urls = BTreeMap::new();
    let hub = HUB_OUTPUTS.iter().map(|o| (*o, false));
    for ((output, function, side), required) in URL_OUTPUTS.iter().map(|o| (*o, true)).chain(hub) {
        if side != wanted {
            continue;
        }
        let Some(url) = outputs.get(output) else {
            if required {
                return Err(SetupError::MissingOutput {
                    stack: stack.to_owned(),
                    output,
                });
            }
            continue;
        };
        if !acceptable_url(url) {
            return Err(SetupError::InvalidUrl {
                stack: stack.to_owned(),
                output,
                url: url.clone(),
            });
        }
        urls.insert(function, url.clone());
    }
    Ok(urls)
}

/// A deployed Function URL is https; plain http only to this machine (a local emulator).
fn acceptable_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    match parsed.scheme() {
        "https" => !host.is_empty(),
        "http" => {
            host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// What goes into the setup: the URLs of each side, and the profiles that sign for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetupValues {
    pub urls: BTreeMap<&'static str, String>,
    pub owner_profile: Option<String>,
    pub requestor_profile: Option<String>,
}

/// Writes `values` as setup `name` of the config file `text` (empty for a new file): the
/// setup's profiles and the URLs of the sides given are replaced, the rest of the file
/// (comments, other setups, the other side's URLs) is kept. The first setup written becomes
/// the default.
pub fn write_setup(text: &str, name: &str, values: &SetupValues) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let setups = doc
        .entry("setups")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or("`setups` is not a table")?;
    let setup = setups
        .entry(name)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
        .as_table_mut()
        .ok_or_else(|| format!("`setups.{name}` is not a table"))?;
    for (key, value) in [
        ("owner_profile", &values.owner_profile),
        ("requestor_profile", &values.requestor_profile),
    ] {
        if let Some(v) = value {
            setup.insert(key, toml_edit::value(v.as_str()));
        }
    }
    let urls = setup
        .entry("urls")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
        .as_table_mut()
        .ok_or_else(|| format!("`setups.{name}.urls` is not a table"))?;
    // A side written again loses the functions its stack no longer has.
    let sides: Vec<Side> = values.urls.keys().map(|f| Side::of(f)).collect();
    let stale: Vec<String> = urls
        .iter()
        .map(|(k, _)| k.to_owned())
        .filter(|k| sides.contains(&Side::of(k)) && !values.urls.contains_key(k.as_str()))
        .collect();
    for key in stale {
        urls.remove(&key);
    }
    for (function, url) in &values.urls {
        urls.insert(function, toml_edit::value(url.as_str()));
    }
    if !doc.contains_key("default_setup") {
        doc.insert("default_setup", toml_edit::value(name));
    }
    Ok(doc.to_string())
}

/// The outputs of a stack, read with the profile's credentials.
async fn stack_outputs(
    stack: &str,
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<BTreeMap<String, String>, SetupError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let config = loader.load().await;
    let client = aws_sdk_cloudformation::Client::new(&config);
    let answer = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            let service = e.as_service_error();
            let message = service.and_then(|s| s.meta().message()).unwrap_or_default();
            if message.contains("does not exist") {
                SetupError::NoSuchStack(stack.to_owned())
            } else {
                SetupError::Describe {
                    stack: stack.to_owned(),
                    reason: service
                        .and_then(|s| s.meta().code())
                        .map_or_else(|| format!("{e}"), |code| format!("{code}: {message}")),
                }
            }
        })?;
    let found = answer
        .stacks()
        .first()
        .ok_or_else(|| SetupError::NoSuchStack(stack.to_owned()))?;
    Ok(found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Reads the stacks, writes the setup, and shows what it wrote.
pub async fn run(global: &GlobalArgs, args: &SetupArgs, output: Output) -> anyhow::Result<()> {
    if args.owner_stack.is_none() && args.requestor_stack.is_none() {
        return Err(SetupError::NoStack.into());
    }
    if !valid_name(&args.name) {
        return Err(SetupError::InvalidName(args.name.clone()).into());
    }
    let mut values = SetupValues {
        owner_profile: global.owner_profile.clone(),
        requestor_profile: global.requestor_profile.clone(),
        ..SetupValues::default()
    };
    for (stack, side, profile, region) in [
        (
            &args.owner_stack,
            Side::Owner,
            &global.owner_profile,
            &args.owner_region,
        ),
        (
            &args.requestor_stack,
            Side::Requestor,
            &global.requestor_profile,
            &args.requestor_region,
        ),
    ] {
        let Some(stack) = stack else { continue };
        let outputs = stack_outputs(stack, profile.as_deref(), region.as_deref()).await?;
        values
            .urls
            .extend(urls_from_outputs(stack, side, &outputs)?);
    }
    let path = global.config.clone().unwrap_or_else(default_path);
    save(&path, &args.name, &values)?;
    match output {
        Output::Json => {
            /// What `--output json` shows: where the setup went, and what it holds.
            #[derive(Serialize)]
            struct Written<'a> {
                config_file: String,
                setup: &'a str,
                #[serde(flatten)]
                values: &'a SetupValues,
            }
            let written = Written {
                config_file: path.display().to_string(),
                setup: &args.name,
                values: &values,
            };
            print(&serde_json::to_string_pretty(&written)?);
        }
        Output::Table => {
            print(&format!(
                "wrote setup `{}` to {}",
                args.name,
                path.display()
            ));
            for (key, value) in [
                ("owner_profile", &values.owner_profile),
                ("requestor_profile", &values.requestor_profile),
            ] {
                if let Some(v) = value {
                    print(&format!("  {key:<28} {v}"));
                }
            }
            for (function, url) in &values.urls {
                print(&format!("  {function:<28} {url}"));
            }
        }
    }
    Ok(())
}

fn save(path: &Path, name: &str, values: &SetupValues) -> Result<(), SetupError> {
    let shown = |p: &Path| p.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(SetupError::Read {
                path: shown(path),
                reason: e.to_string(),
            });
        }
    };
    let updated = write_setup(&text, name, values).map_err(|reason| SetupError::Read {
        path: shown(path),
        reason,
    })?;
    let write = |e: std::io::Error| SetupError::Write {
        path: shown(path),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    // Written beside and renamed, so an interrupted write never leaves half a file.
    let temporary: PathBuf = path.with_extension("toml.tmp");
    std::fs::write(&temporary, updated).map_err(write)?;
    std::fs::rename(&temporary, path).map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(side: &str, https: bool) -> BTreeMap<String, String> {
        let mut o: BTreeMap<String, String> = URL_OUTPUTS
            .iter()
            .map(|(key, function, _)| {
                let url = if https {
                    format!("https://{function}.lambda-url.eu-west-1.on.aws/")
                } else {
                    format!("http://{function}.example/")
                };
                ((*key).to_owned(), url)
            })
            .collect();
        o.insert("Side".to_owned(), side.to_owned());
        o
    }

    #[test]
    fn template_outputs_are_the_ones_setup_reads() {
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"),
        )
        .unwrap();
        let outputs = template.split("\nOutputs:\n").nth(1).unwrap();
        let lines: Vec<&str> = outputs.lines().collect();
        // An organization hub's own outputs are the optional ones.
        let hub_only = |at: usize| lines.get(at + 1) == Some(&"    Condition: IsHub");
        let url_outputs = |hub: bool| {
            let mut found: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(at, _)| hub_only(*at) == hub)
                .filter_map(|(_, l)| l.strip_prefix("  ")?.strip_suffix(':'))
                .filter(|k| !k.starts_with(' ') && k.ends_with("Url"))
                .collect();
            found.sort_unstable();
            found
        };
        let known = |table: &[(&'static str, &str, Side)]| {
            let mut keys: Vec<&str> = table.iter().map(|(k, _, _)| *k).collect();
            keys.sort_unstable();
            keys
        };
        assert_eq!(url_outputs(false), known(&URL_OUTPUTS));
        assert_eq!(url_outputs(true), known(&HUB_OUTPUTS));
        assert!(outputs.lines().any(|l| l == format!("  {SIDE_OUTPUT}:")));
    }

    #[test]
    fn each_side_takes_only_its_functions_urls() {
        let owner = urls_from_outputs("o", Side::Owner, &outputs("owner", true)).unwrap();
        assert_eq!(owner.len(), 6);
        assert!(owner.keys().all(|f| Side::of(f) == Side::Owner));
        let requestor =
            urls_from_outputs("r", Side::Requestor, &outputs("requestor", true)).unwrap();
        assert_eq!(
            requestor.keys().copied().collect::<Vec<_>>(),
            [
                "check-requestor-role",
                "create-requestor-resources",
                "revoke-requestor-resources"
            ]
        );
    }

    #[test]
    fn a_hub_stack_gives_list_accounts_and_another_owner_stack_needs_none() {
        let mut hub = outputs("owner", true);
        hub.insert(
            "ListAccountsUrl".to_owned(),
            "https://list-accounts.lambda-url.eu-west-1.on.aws/".to_owned(),
        );
        let urls = urls_from_outputs("hub", Side::Owner, &hub).unwrap();
        assert_eq!(urls.len(), 7);
        assert_eq!(
            urls.get("list-accounts").map(String::as_str),
            Some("https://list-accounts.lambda-url.eu-west-1.on.aws/")
        );
        let alone = urls_from_outputs("o", Side::Owner, &outputs("owner", true)).unwrap();
        assert!(!alone.contains_key("list-accounts"));
        hub.insert("ListAccountsUrl".to_owned(), "http://10.0.0.1/".to_owned());
        let err = urls_from_outputs("hub", Side::Owner, &hub).unwrap_err();
        assert!(err.to_string().contains("`ListAccountsUrl`"), "{err}");
    }

    #[test]
    fn a_stack_of_the_other_side_is_refused_by_name() {
        let err =
            urls_from_outputs("xacct-req", Side::Owner, &outputs("requestor", true)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stack `xacct-req` deploys the requestor side, but was given as --owner-stack"
        );
    }

    #[test]
    fn a_missing_or_non_https_output_is_refused() {
        let mut o = outputs("owner", true);
        o.remove("RevokeGrantUrl");
        let err = urls_from_outputs("s", Side::Owner, &o).unwrap_err();
        assert!(
            err.to_string().contains("no output `RevokeGrantUrl`"),
            "{err}"
        );
        let err = urls_from_outputs("s", Side::Owner, &outputs("owner", false)).unwrap_err();
        assert!(err.to_string().contains("not an https"), "{err}");
        assert!(acceptable_url(
            "http://127.0.0.1:9000/lambda-url/list-resources/"
        ));
        assert!(!acceptable_url("http://10.0.0.1/"));
    }

    #[test]
    fn writing_a_setup_keeps_the_rest_of_the_file_and_updates_on_rerun() {
        let before = "# mine\ndefault_setup = \"prod\"\n\n[setups.prod]\nowner_url = \"https://x/{function}\"\n";
        let mut values = SetupValues {
            urls: urls_from_outputs("o", Side::Owner, &outputs("owner", true)).unwrap(),
            owner_profile: Some("owner-admin".to_owned()),
            requestor_profile: None,
        };
        let first = write_setup(before, "dev", &values).unwrap();
        assert!(
            first.starts_with("# mine\ndefault_setup = \"prod\"\n"),
            "{first}"
        );
        assert!(first.contains("owner_url = \"https://x/{function}\""));
        let parsed: toml::Table = toml::from_str(&first).unwrap();
        let dev = &parsed["setups"]["dev"];
        assert_eq!(dev["owner_profile"].as_str(), Some("owner-admin"));
        assert_eq!(dev["urls"].as_table().unwrap().len(), 6);

        // Re-run with the requestor side: the owner URLs stay, the requestor ones join.
        values.urls = urls_from_outputs("r", Side::Requestor, &outputs("requestor", true)).unwrap();
        values.owner_profile = None;
        let second = write_setup(&first, "dev", &values).unwrap();
        let parsed: toml::Table = toml::from_str(&second).unwrap();
        assert_eq!(parsed["setups"]["dev"]["urls"].as_table().unwrap().len(), 9);
        assert_eq!(
            parsed["setups"]["dev"]["owner_profile"].as_str(),
            Some("owner-admin")
        );
        // The same again changes nothing.
        assert_eq!(write_setup(&second, "dev", &values).unwrap(), second);
    }

    #[test]
    fn the_first_setup_becomes_the_default() {
        let values = SetupValues::default();
        let text = write_setup("", "dev", &values).unwrap();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["default_setup"].as_str(), Some("dev"));
    }

    #[test]
    fn setup_names_are_plain() {
        assert!(valid_name("prod-eu_1"));
        assert!(!valid_name("a.b"));
        assert!(!valid_name(""));
    }
}
