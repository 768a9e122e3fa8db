//! Prints the OpenAPI document generated from crates/api's types: `make openapi` writes it
//! to `openapi.yaml`, which `tests/openapi_document.rs` holds to the types.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let written = xacct_api::openapi::yaml().and_then(|text| {
        std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_openapi: {e}");
            ExitCode::FAILURE
        }
    }
}
