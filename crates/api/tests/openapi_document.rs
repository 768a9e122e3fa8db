//! `openapi.yaml` is generated from the request and response types (`make openapi`): the
//! committed file must be what the types generate, every operation must be served by a
//! function of the workspace, and the GET operations document exactly the parameters the
//! handlers take.

use std::collections::BTreeSet;
use std::path::Path;

use xacct_api::openapi::{OPERATIONS, query_parameters};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn committed_openapi_yaml_is_generated_from_the_types() {
    let generated = xacct_api::openapi::yaml().unwrap();
    let committed = std::fs::read_to_string(root().join("openapi.yaml")).unwrap();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "openapi.yaml differs from what crates/api's types generate (first at line {line}): \
             run `make openapi` and commit openapi.yaml"
        );
    }
}

#[test]
fn every_operation_is_a_function_of_the_workspace_on_its_documented_path() {
    let document = xacct_api::openapi::document();
    let mut documented = BTreeSet::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [("get", &item.get), ("post", &item.post)] {
            if let Some(operation) = operation {
                documented.insert((path.clone(), method, operation.tags.clone()));
            }
        }
        assert!(
            item.put.is_none() && item.delete.is_none() && item.patch.is_none(),
            "{path}: only GET and POST are served"
        );
    }
    let declared: BTreeSet<_> = OPERATIONS
        .iter()
        .map(|o| {
            (
                format!("/lambda-url/{}/", o.function),
                o.method,
                Some(vec![o.tag.to_owned()]),
            )
        })
        .collect();
    assert_eq!(documented, declared);
    let functions: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| {
            root()
                .join("functions")
                .join(name)
                .join("Cargo.toml")
                .exists()
        })
        // The scheduled sweeps have no Function URL: only their schedule invokes them.
        .filter(|name| !["expire-grants", "expire-requestor-grants"].contains(&name.as_str()))
        .collect();
    let served: BTreeSet<String> = OPERATIONS.iter().map(|o| o.function.to_owned()).collect();
    assert_eq!(
        served, functions,
        "every function with a Function URL has operations, and only they do"
    );
}

#[test]
fn each_get_operation_documents_exactly_the_query_parameters_its_handler_takes() {
    let taken: [(&str, &[&str]); 4] = [
        ("list-resources", xacct_api::list_resources::PARAMETERS),
        ("list-permissions", xacct_api::list_permissions::PARAMETERS),
        (
            "list-grants",
            xacct_api::owner_lifecycle::LIST_GRANTS_PARAMETERS,
        ),
        ("list-accounts", xacct_api::list_accounts::PARAMETERS),
    ];
    let documented = query_parameters();
    assert_eq!(documented.len(), taken.len());
    for (function, names) in documented {
        let (_, expected) = taken.iter().find(|(f, _)| *f == function).unwrap();
        let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        let documented: BTreeSet<String> = names.into_iter().collect();
        assert_eq!(documented, expected, "{function}");
    }
}

#[test]
fn every_operation_documents_the_statuses_every_handler_can_answer() {
    let document = xacct_api::openapi::document();
    for operation in OPERATIONS {
        let item = &document.paths.paths[&format!("/lambda-url/{}/", operation.function)];
        let op = match operation.method {
            "get" => item.get.as_ref(),
            _ => item.post.as_ref(),
        }
        .unwrap();
        let statuses: BTreeSet<&str> = op.responses.responses.keys().map(String::as_str).collect();
        // Every handler refuses other methods and bad input; a POST reads a bounded body;
        // every function but list-permissions calls AWS.
        let mut expected = vec!["200", "400", "405"];
        if operation.method == "post" {
            expected.push("413");
        }
        if operation.function != "list-permissions" {
            expected.push("502");
        }
        for status in expected {
            assert!(
                statuses.contains(status),
                "{} {}: {status} is not documented",
                operation.method,
                operation.function
            );
        }
    }
}
