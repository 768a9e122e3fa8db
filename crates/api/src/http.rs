//! Function URL glue: methods, body size, JSON decoding with the failing field named, query
//! strings, the caller's identity for logs, and JSON responses.

use std::collections::BTreeMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Failure};

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// HTTP methods a handler accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    Get,
    Post,
    GetOrPost,
}

/// Refuses any other method with 405.
pub fn require_method(req: &Request, allowed: Methods) -> Result<(), ApiError> {
    let m = req.method().as_str();
    let ok = match allowed {
        Methods::Get => m == "GET",
        Methods::Post => m == "POST",
        Methods::GetOrPost => m == "GET" || m == "POST",
    };
    if ok {
        Ok(())
    } else {
        // In words for the message, and as the `Allow` header lists them.
        let (wanted, allow) = match allowed {
            Methods::Get => ("GET", "GET"),
            Methods::Post => ("POST", "POST"),
            Methods::GetOrPost => ("GET or POST", "GET, POST"),
        };
        Err(ApiError::new(
            Failure::MethodNotAllowed(allow),
            "MethodNotAllowed",
            format!(
                "this endpoint takes {wanted}, not `{}`",
                crate::error::shorten(m)
            ),
        ))
    }
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Decodes a JSON body into `T`, naming the field that is wrong.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY {
        return Err(ApiError::new(
            Failure::TooLarge,
            "PayloadTooLarge",
            format!(
                "the request body is {} bytes; the limit is {MAX_BODY}",
                bytes.len()
            ),
        ));
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(ApiError::new(
                Failure::Invalid,
                "MissingBody",
                "the request needs a JSON object body",
            ));
        }
        // serde would read a struct from an array by position; only objects are accepted.
        Some(b'{') => {}
        Some(_) => {
            return Err(ApiError::new(
                Failure::Invalid,
                "InvalidType",
                "the body must be a JSON object",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                Failure::Invalid,
                "InvalidJson",
                format!("the body is not valid JSON: {message}"),
            );
        }
        // serde names the field in backticks for unknown and missing fields.
        let quoted = message.split('`').nth(1).map(str::to_owned);
        let (code, field) = if message.starts_with("unknown field") {
            ("UnknownField", quoted)
        } else if message.starts_with("duplicate field") {
            ("DuplicateField", quoted)
        } else if message.starts_with("missing field") {
            ("MissingField", quoted)
        } else {
            (
                "InvalidType",
                Some(path).filter(|p| p != "." && p != "?" && !p.is_empty()),
            )
        };
        // Say "a whole number", not Rust's `i64`; no type names reach the caller.
        let message = message
            .replace("expected i64", "expected a whole number")
            .replace("expected i32", "expected a whole number");
        let message = match &field {
            Some(f) if code == "InvalidType" => format!("{f}: {message}"),
            None if code == "InvalidType" => "the body must be a JSON object".to_owned(),
            _ => message,
        };
        let mut err = ApiError::new(Failure::Invalid, code, message);
        err.field = field;
        err
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            Failure::Invalid,
            "InvalidJson",
            "trailing characters after the JSON body",
        )
    })?;
    Ok(value)
}

/// Query string parameters; repeated keys keep every value. Unknown keys are refused.
pub fn query(req: &Request, known: &[&str]) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let params = req.query_string_parameters();
    for (key, _) in params.iter() {
        if !known.contains(&key) {
            return Err(ApiError::invalid(
                key,
                "UnknownParameter",
                format!(
                    "unknown query parameter `{}`; expected one of {}",
                    crate::error::shorten(key),
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(values) = params.all(key) {
            out.insert(
                key.to_owned(),
                values.into_iter().map(str::to_owned).collect(),
            );
        }
    }
    Ok(out)
}

/// The IAM identity that signed the request (Function URLs with `AWS_IAM` auth), for logs.
pub fn caller_arn(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .and_then(|iam| iam.user_arn.clone())
            .unwrap_or_else(|| "unknown".to_owned()),
        _ => "unknown".to_owned(),
    }
}

/// When the Function URL received the request (`requestContext.timeEpoch`), in whole
/// seconds since the epoch: the time AWS would evaluate `aws:CurrentTime` at.
pub fn request_epoch(req: &Request) -> Option<i64> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) if ctx.time_epoch > 0 => {
            Some(ctx.time_epoch.div_euclid(1000))
        }
        _ => None,
    }
}

/// A 200 JSON response.
pub fn ok<T: Serialize>(body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(text))
            .unwrap_or_else(|_| {
                ApiError::new(Failure::Internal, "InternalError", "internal error").into_response()
            }),
        Err(_) => {
            ApiError::new(Failure::Internal, "InternalError", "internal error").into_response()
        }
    }
}

/// Turns a handler's result into a response, logging failures.
pub fn respond(
    caller: &str,
    operation: &str,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    match result {
        Ok(r) => r,
        Err(e) => {
            // The caller is logged on every refused or failed request, writes included, so
            // the log says who tried what even when nothing was written.
            if matches!(e.failure, Failure::Upstream | Failure::Internal) {
                tracing::warn!(caller, operation, status = e.status(), code = %e.code, "request failed");
            } else {
                tracing::info!(caller, operation, status = e.status(), code = %e.code, field = ?e.field, "request refused");
            }
            e.into_response()
        }
    }
}

/// Serves an operation that takes a JSON body: POST only, the body limit and JSON decoding
/// (the failing field named), the answer as JSON, every failure as the one error answer,
/// and the caller logged on refusals and failures. The operation itself sees only the
/// caller and its typed input.
pub async fn serve_json<I, O, Op, Fut>(req: Request, operation: &str, op: Op) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    Op: FnOnce(String, I) -> Fut,
    Fut: std::future::Future<Output = Result<O, ApiError>>,
{
    let caller = caller_arn(&req);
    let result = async {
        require_method(&req, Methods::Post)?;
        let input: I = json_body(&req)?;
        op(caller.clone(), input).await
    }
    .await;
    respond(&caller, operation, result.map(|answer| ok(&answer)))
}

/// Serves an operation that reads its input from the query string (GET only; parameters
/// outside `known` refused), answering as [`serve_json`] does.
pub async fn serve_query<O, Op, Fut>(
    req: Request,
    operation: &str,
    known: &[&str],
    op: Op,
) -> Response<Body>
where
    O: Serialize,
    Op: FnOnce(String, BTreeMap<String, Vec<String>>) -> Fut,
    Fut: std::future::Future<Output = Result<O, ApiError>>,
{
    let caller = caller_arn(&req);
    let result = async {
        require_method(&req, Methods::Get)?;
        let params = query(&req, known)?;
        op(caller.clone(), params).await
    }
    .await;
    respond(&caller, operation, result.map(|answer| ok(&answer)))
}
