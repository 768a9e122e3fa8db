//! Writes the seeds of the `evaluate` fuzz target into fuzz/corpus/evaluate/ (one `.bin` file
//! each, named after the seed), in `arbitrary`'s byte layout. `cargo +nightly fuzz fmt
//! evaluate <file>` shows how a file decodes; the crate's tests check the same without nightly.

use std::path::Path;
use std::process::ExitCode;

use xacct_fuzz_seeds::{encode, evaluate_seeds};

fn main() -> ExitCode {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/evaluate");
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("gen-evaluate-seeds: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for (name, seed) in evaluate_seeds() {
        let data = match encode(&seed) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("gen-evaluate-seeds: {name}: {e:?}");
                return ExitCode::FAILURE;
            }
        };
        let file = out.join(format!("{name}.bin"));
        if let Err(e) = std::fs::write(&file, &data) {
            eprintln!("gen-evaluate-seeds: {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
        println!("{name}.bin {} bytes", data.len());
    }
    ExitCode::SUCCESS
}
