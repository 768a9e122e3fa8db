//! The HTTP adapter (`http.rs`: `serve_json`, `serve_query`, `respond`) on real Function URL
//! events, one recorded per function in `tests/events/` (the bench replays the same files):
//! each becomes a `lambda_http` request signed by its caller, reaches its operation as the
//! operation's typed input, and the adapter refuses what no operation should see (other
//! methods, bodies over the limit, malformed JSON, unknown fields and parameters) with the
//! one JSON error answer, naming the field and the rule, before the operation runs. The
//! operations are closures here: the handlers' own logic is tested in `lifecycle_handlers.rs`
//! and the end-to-end tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use base64::Engine;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use xacct_api::ApiError;
use xacct_api::create_owner_role::CreateOwnerRoleRequest;
use xacct_api::create_requestor_resources::CreateRequestorRequest;
use xacct_api::http::{MAX_BODY, serve_json, serve_query};
use xacct_api::owner_lifecycle::{
    CheckOwnerRoleRequest, LIST_GRANTS_PARAMETERS, RevokeRoleRequest,
};
use xacct_api::requestor_lifecycle::RequestorTarget;

/// The recorded events, by function.
const EVENTS: [(&str, &str); 9] = [
    ("list-resources", include_str!("events/list-resources.json")),
    (
        "list-permissions",
        include_str!("events/list-permissions.json"),
    ),
    (
        "create-owner-role",
        include_str!("events/create-owner-role.json"),
    ),
    ("list-grants", include_str!("events/list-grants.json")),
    (
        "check-owner-role",
        include_str!("events/check-owner-role.json"),
    ),
    ("revoke-grant", include_str!("events/revoke-grant.json")),
    (
        "create-requestor-resources",
        include_str!("events/create-requestor-resources.json"),
    ),
    (
        "check-requestor-role",
        include_str!("events/check-requestor-role.json"),
    ),
    (
        "revoke-requestor-resources",
        include_str!("events/revoke-requestor-resources.json"),
    ),
];

/// The functions that take a JSON body.
const JSON_FUNCTIONS: [&str; 6] = [
    "create-owner-role",
    "check-owner-role",
    "revoke-grant",
    "create-requestor-resources",
    "check-requestor-role",
    "revoke-requestor-resources",
];

fn event(function: &str) -> Json {
    let (_, text) = EVENTS.iter().find(|(f, _)| *f == function).unwrap();
    serde_json::from_str(text).unwrap()
}

fn request(event: &Json) -> Request {
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The recorded event of `function` with another body.
fn with_body(function: &str, body: &str) -> Request {
    let mut event = event(function);
    event["body"] = json!(body);
    request(&event)
}

/// The recorded event of `function` with another method.
fn with_method(function: &str, method: &str) -> Request {
    let mut event = event(function);
    event["requestContext"]["http"]["method"] = json!(method);
    request(&event)
}

fn caller(function: &str) -> String {
    event(function)["requestContext"]["authorizer"]["iam"]["userArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn answer(response: &Response<Body>) -> (u16, Json) {
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("not a text body: {other:?}"),
    };
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{body}"
    );
    (response.status().as_u16(), body)
}

/// The operation's answer: who called and what it received.
fn echo<I: Serialize>(caller: String, input: I) -> Json {
    json!({"caller": caller, "input": input})
}

/// Serves `req` as `function`'s JSON operation, which echoes its caller and typed input.
async fn serve_echo(function: &str, req: Request) -> Response<Body> {
    async fn with<I: DeserializeOwned + Serialize>(function: &str, req: Request) -> Response<Body> {
        serve_json(req, function, |caller, input: I| async move {
            Ok::<_, ApiError>(echo(caller, input))
        })
        .await
    }
    match function {
        "create-owner-role" => with::<CreateOwnerRoleRequest>(function, req).await,
        "create-requestor-resources" => with::<CreateRequestorRequest>(function, req).await,
        "check-owner-role" => with::<CheckOwnerRoleRequest>(function, req).await,
        "revoke-grant" => with::<RevokeRoleRequest>(function, req).await,
        "check-requestor-role" | "revoke-requestor-resources" => {
            with::<RequestorTarget>(function, req).await
        }
        other => panic!("{other} takes no JSON body"),
    }
}

/// An operation that must never run: the adapter refuses the request first.
fn never<I>(_caller: String, _input: I) -> std::future::Ready<Result<Json, ApiError>> {
    panic!("the operation ran")
}

/// Serves `req` as `function`'s JSON operation, which must never run.
async fn serve_refusing(function: &str, req: Request) -> Response<Body> {
    serve_json(req, function, never::<Json>).await
}

/// The query parameters each GET function knows.
fn known_parameters(function: &str) -> &'static [&'static str] {
    match function {
        "list-grants" => LIST_GRANTS_PARAMETERS,
        "list-resources" => xacct_api::list_resources::PARAMETERS,
        other => panic!("{other} is not served by serve_query"),
    }
}

async fn serve_query_echo(function: &str, req: Request) -> Response<Body> {
    serve_query(
        req,
        function,
        known_parameters(function),
        |caller, params: BTreeMap<String, Vec<String>>| async move {
            Ok::<_, ApiError>(echo(caller, params))
        },
    )
    .await
}

fn assert_error(response: &Response<Body>, status: u16, code: &str, field: Option<&str>) -> Json {
    let (got, body) = answer(response);
    assert_eq!(got, status, "{body}");
    let error = body["error"].clone();
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["field"].as_str(), field, "{body}");
    // The one error answer: code, message and maybe field, nothing else (no status, no
    // internals).
    let keys: Vec<&String> = error.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| ["code", "message", "field"].contains(&k.as_str())),
        "{body}"
    );
    error
}

#[test]
fn every_recorded_event_is_a_request_signed_by_its_caller() {
    for (function, _) in EVENTS {
        let event = event(function);
        let req = request(&event);
        assert_eq!(
            req.method().as_str(),
            event["requestContext"]["http"]["method"],
            "{function}"
        );
        assert_eq!(
            xacct_api::http::caller_arn(&req),
            caller(function),
            "{function}"
        );
        let has_body = !matches!(req.body(), Body::Empty);
        assert_eq!(has_body, JSON_FUNCTIONS.contains(&function), "{function}");
    }
}

#[tokio::test]
async fn every_recorded_body_reaches_its_operation_as_the_typed_input() {
    for function in JSON_FUNCTIONS {
        let (status, body) = answer(&serve_echo(function, request(&event(function))).await);
        assert_eq!(status, 200, "{function}: {body}");
        assert_eq!(body["caller"], caller(function).as_str(), "{function}");
        let sent: Json = serde_json::from_str(event(function)["body"].as_str().unwrap()).unwrap();
        for (field, value) in sent.as_object().unwrap() {
            assert_eq!(&body["input"][field], value, "{function}: {field}");
        }
    }
}

#[tokio::test]
async fn a_base64_body_reaches_the_operation_like_a_text_body() {
    // Function URLs encode a body whose content type is not text (none given, say).
    for function in JSON_FUNCTIONS {
        let text = request(&event(function));
        let mut encoded = event(function);
        let body = encoded["body"].as_str().unwrap().to_owned();
        encoded["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        encoded["isBase64Encoded"] = json!(true);
        assert_eq!(
            answer(&serve_echo(function, request(&encoded)).await),
            answer(&serve_echo(function, text).await),
            "{function}"
        );
    }
}

#[tokio::test]
async fn every_recorded_query_reaches_its_operation_with_every_value() {
    for function in ["list-grants", "list-resources"] {
        let event = event(function);
        let (status, body) = answer(&serve_query_echo(function, request(&event)).await);
        assert_eq!(status, 200, "{function}: {body}");
        assert_eq!(body["caller"], caller(function).as_str(), "{function}");
        let sent: BTreeMap<String, Vec<String>> = event["queryStringParameters"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), vec![v.as_str().unwrap().to_owned()]))
            .collect();
        assert_eq!(body["input"], json!(sent), "{function}");
    }
    // A repeated key keeps every value, in order.
    let mut event = event("list-resources");
    event["rawQueryString"] = json!("service=s3&service=ec2&region=us-east-1");
    let (_, body) = answer(&serve_query_echo("list-resources", request(&event)).await);
    assert_eq!(
        body["input"],
        json!({"region": ["us-east-1"], "service": ["s3", "ec2"]})
    );
}

#[tokio::test]
async fn list_permissions_answers_its_recorded_event() {
    let response = xacct_api::list_permissions::handle(request(&event("list-permissions")))
        .await
        .unwrap();
    let (status, body) = answer(&response);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["arn"], "arn:aws:s3:::xacct-bench-bucket");
    assert_eq!(body["resource_type"], "bucket");
    let actions = body["actions"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["action"] == "s3:ListBucket"),
        "{body}"
    );
}

#[tokio::test]
async fn other_methods_are_405_naming_the_allowed_ones_before_the_operation_runs() {
    for function in JSON_FUNCTIONS {
        for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
            let response = serve_refusing(function, with_method(function, method)).await;
            let error = assert_error(&response, 405, "MethodNotAllowed", None);
            assert_eq!(response.headers()["allow"], "POST", "{function} {method}");
            assert!(
                error["message"].as_str().unwrap().contains(method),
                "{error}"
            );
        }
    }
    for function in ["list-grants", "list-resources"] {
        let response = serve_query(
            with_method(function, "POST"),
            function,
            known_parameters(function),
            never,
        )
        .await;
        assert_error(&response, 405, "MethodNotAllowed", None);
        assert_eq!(response.headers()["allow"], "GET", "{function}");
    }
    // list-permissions takes both.
    let response = xacct_api::list_permissions::handle(with_method("list-permissions", "DELETE"))
        .await
        .unwrap();
    assert_error(&response, 405, "MethodNotAllowed", None);
    assert_eq!(response.headers()["allow"], "GET, POST");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_one_at_the_limit_is_served() {
    for function in JSON_FUNCTIONS {
        let recorded = event(function)["body"].as_str().unwrap().to_owned();
        // JSON allows whitespace after the value: the recorded body padded to the limit.
        let at_limit = format!("{recorded}{}", " ".repeat(MAX_BODY - recorded.len()));
        let (status, body) = answer(&serve_echo(function, with_body(function, &at_limit)).await);
        assert_eq!(status, 200, "{function}: {body}");
        let over = format!("{at_limit} ");
        let error = assert_error(
            &serve_refusing(function, with_body(function, &over)).await,
            413,
            "PayloadTooLarge",
            None,
        );
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(&MAX_BODY.to_string()), "{message}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field_and_the_rule() {
    let function = "create-owner-role";
    let recorded: Json = serde_json::from_str(event(function)["body"].as_str().unwrap()).unwrap();
    let with = |key: &str, value: Json| {
        let mut body = recorded.clone();
        body[key] = value;
        body.to_string()
    };
    let without = |key: &str| {
        let mut body = recorded.clone();
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    for (body, code, field, rule) in [
        (
            with("resource_arn", json!(42)),
            "InvalidType",
            Some("resource_arn"),
            "invalid type: integer `42`, expected a string",
        ),
        // The element is named, not just the array.
        (
            with("actions", json!(["s3:GetObject", 2])),
            "InvalidType",
            Some("actions[1]"),
            "expected a string",
        ),
        // No Rust type names reach the caller.
        (
            with("max_session_duration", json!(3600.5)),
            "InvalidType",
            Some("max_session_duration"),
            "expected a whole number",
        ),
        (
            without("requestor_account_id"),
            "MissingField",
            Some("requestor_account_id"),
            "missing field `requestor_account_id`",
        ),
        (
            r#"{"resource_arn": "a", "resource_arn": "b"}"#.to_owned(),
            "DuplicateField",
            Some("resource_arn"),
            "duplicate field `resource_arn`",
        ),
        (
            r#"{"resource_arn": "a""#.to_owned(),
            "InvalidJson",
            None,
            "the body is not valid JSON",
        ),
        (
            format!("{recorded} {{}}"),
            "InvalidJson",
            None,
            "trailing characters after the JSON body",
        ),
        // serde would read a struct from an array by position; only objects are accepted.
        (
            r#"["arn:aws:s3:::xacct-bench-bucket", ["s3:GetObject"], "222222222222"]"#.to_owned(),
            "InvalidType",
            None,
            "the body must be a JSON object",
        ),
        (
            " \n".to_owned(),
            "MissingBody",
            None,
            "the request needs a JSON object body",
        ),
    ] {
        let error = assert_error(
            &serve_echo(function, with_body(function, &body)).await,
            400,
            code,
            field,
        );
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(rule), "{body}: {message}");
    }
}

#[tokio::test]
async fn unknown_fields_are_400_naming_the_field_on_every_json_operation() {
    for function in JSON_FUNCTIONS {
        let mut body: Json =
            serde_json::from_str(event(function)["body"].as_str().unwrap()).unwrap();
        body["colour"] = json!("red");
        let error = assert_error(
            &serve_echo(function, with_body(function, &body.to_string())).await,
            400,
            "UnknownField",
            Some("colour"),
        );
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with("unknown field `colour`"), "{message}");
    }
}

#[tokio::test]
async fn unknown_query_parameters_are_400_naming_the_parameter() {
    for function in ["list-grants", "list-resources"] {
        let mut event = event(function);
        let raw = event["rawQueryString"].as_str().unwrap().to_owned();
        event["rawQueryString"] = json!(format!("{raw}&colour=red"));
        let error = assert_error(
            &serve_query_echo(function, request(&event)).await,
            400,
            "UnknownParameter",
            Some("colour"),
        );
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("unknown query parameter `colour`"),
            "{message}"
        );
    }
}
