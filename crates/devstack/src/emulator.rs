//! Function URLs and the Lambda Runtime API for one side of the stack, on one port.
//!
//! A request to `/lambda-url/<function>/<path>` becomes the event a Function URL sends
//! (payload format 2.0) and waits in the function's queue; the function's processes poll
//! `/.rt/<function>/2018-06-01/runtime/invocation/next` for it, as a custom runtime polls
//! Lambda, and post the answer back, which becomes the HTTP answer. Nothing is started here:
//! the supervisor runs the built binaries. `cargo lambda watch --only-lambda-apis` did the
//! same, but under load it now and then answered with its own 500 or never answered (an
//! event handed to a poll whose connection had gone was lost); here an event leaves its
//! queue only in the same step that answers the poll.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use xacct_policy::{AccountId, Arn, Partition};

/// A Function URL's payload limit.
const MAX_BODY: usize = 6 * 1024 * 1024;
/// How long a caller waits for a function: xacct's longest function timeout is 60 s.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(120);
/// Events waiting for a process, per function.
const QUEUE: usize = 1024;

/// How the function's process answered.
#[derive(Debug)]
enum Outcome {
    Response(Bytes),
    /// The handler failed (the API logs why).
    Error,
}

#[derive(Debug)]
struct Invocation {
    id: String,
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Debug)]
struct Queue {
    /// The function's ARN, as the runtime is told it.
    arn: String,
    tx: mpsc::Sender<Invocation>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
}

#[derive(Debug)]
struct Emulator {
    account: String,
    region: String,
    queues: BTreeMap<String, Queue>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    next_id: AtomicU64,
}

type Shared = Arc<Emulator>;

fn problem(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"Message": message}))).into_response()
}

/// Serves the functions of one side on `listener` until the process ends.
pub async fn serve(
    listener: TcpListener,
    functions: &[&str],
    account: &str,
    region: &str,
) -> Result<()> {
    let account_id = account.parse::<AccountId>()?;
    let mut queues = BTreeMap::new();
    for function in functions {
        let arn = Arn::from_parts(
            Partition::Aws,
            "lambda",
            region,
            Some(&account_id),
            &["function:", function].concat(),
        )?;
        let (tx, rx) = mpsc::channel(QUEUE);
        queues.insert(
            (*function).to_owned(),
            Queue {
                arn: arn.to_string(),
                tx,
                rx: tokio::sync::Mutex::new(rx),
            },
        );
    }
    let state = Arc::new(Emulator {
        account: account.to_owned(),
        region: region.to_owned(),
        queues,
        in_flight: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    });
    let runtime = "/.rt/{function}/2018-06-01/runtime";
    let app = Router::new()
        .route("/lambda-url/{function}", any(invoke_url))
        .route("/lambda-url/{function}/", any(invoke_url))
        .route("/lambda-url/{function}/{*path}", any(invoke_url))
        .route(&[runtime, "/invocation/next"].concat(), get(next))
        .route(
            &[runtime, "/invocation/{id}/response"].concat(),
            post(respond),
        )
        .route(&[runtime, "/invocation/{id}/error"].concat(), post(fail))
        .route(&[runtime, "/init/error"].concat(), post(init_error))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Any request to a Function URL: `{function}`, and `{path}` after it when there is one.
async fn invoke_url(
    State(state): State<Shared>,
    Path(mut params): Path<HashMap<String, String>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let function = params.remove("function").unwrap_or_default();
    let request = Incoming {
        path: params.remove("path").unwrap_or_default(),
        method,
        query: query.unwrap_or_default(),
        headers,
        body,
    };
    invoke(state, function, request).await
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// A request to a Function URL, as received.
#[derive(Debug, Default)]
struct Incoming {
    /// After `/lambda-url/<function>/`.
    path: String,
    method: Method,
    query: String,
    headers: HeaderMap,
    body: Bytes,
}

/// The Function URL event (payload format 2.0) for a request.
fn event(state: &Emulator, function: &str, id: &str, request: &Incoming) -> Value {
    let Incoming {
        path,
        method,
        query,
        headers,
        body,
    } = request;
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(value.split("; ").map(str::to_owned));
            continue;
        }
        joined
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let mut parameters: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        parameters
            .entry(k.into_owned())
            .and_modify(|all| {
                all.push(',');
                all.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    // Text reaches the function as it is, anything else base64-encoded, as Lambda does.
    let (body, encoded) = match std::str::from_utf8(body.as_ref()) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (BASE64.encode(body), true),
    };
    let raw_path = ["/", path].concat();
    let domain = [function, ".lambda-url.", &state.region, ".on.aws"].concat();
    let agent = joined.get("user-agent").cloned().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": state.account,
            "apiId": function,
            "domainName": domain,
            "domainPrefix": function,
            "http": {
                "method": method.as_str(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": agent,
            },
            "requestId": id,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": epoch_ms(),
        },
        "isBase64Encoded": encoded,
    });
    if let Some(map) = event.as_object_mut() {
        if !parameters.is_empty() {
            map.insert("queryStringParameters".into(), json!(parameters));
        }
        if !cookies.is_empty() {
            map.insert("cookies".into(), json!(cookies));
        }
        if !body.is_empty() {
            map.insert("body".into(), Value::String(body));
        }
    }
    event
}

async fn invoke(state: Shared, function: String, request: Incoming) -> Response {
    let Some(queue) = state.queues.get(&function) else {
        return problem(
            StatusCode::NOT_FOUND,
            "no such function on this port (each side serves its own)",
        );
    };
    let n = state.next_id.fetch_add(1, Ordering::Relaxed);
    let id = format!("{:08x}-0000-4000-8000-{n:012x}", std::process::id());
    let event = event(&state, &function, &id, &request);
    let (reply, answer) = oneshot::channel();
    let invocation = Invocation {
        id,
        event: Bytes::from(event.to_string()),
        reply,
    };
    if queue.tx.send(invocation).await.is_err() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the function's queue is closed",
        );
    }
    match tokio::time::timeout(INVOKE_TIMEOUT, answer).await {
        Ok(Ok(Outcome::Response(bytes))) => function_response(&bytes),
        // As Lambda answers when the function fails: the function's fault, not the front's.
        Ok(Ok(Outcome::Error)) => problem(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        Ok(Err(_)) => problem(StatusCode::BAD_GATEWAY, "the function's process went away"),
        Err(_) => problem(
            StatusCode::GATEWAY_TIMEOUT,
            "the function did not answer in time",
        ),
    }
}

/// The HTTP answer a Function URL makes of the function's response object.
fn function_response(bytes: &[u8]) -> Response {
    let Ok(Value::Object(answer)) = serde_json::from_slice::<Value>(bytes) else {
        return problem(
            StatusCode::BAD_GATEWAY,
            "the function's response is not an object",
        );
    };
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let text = answer
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let body = if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        match BASE64.decode(text) {
            Ok(b) => b,
            Err(_) => return problem(StatusCode::BAD_GATEWAY, "the function's body is not base64"),
        }
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let out = response.headers_mut();
    if let Some(Value::Object(headers)) = answer.get("headers") {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                out.append(name, value);
            }
        }
    }
    if let Some(Value::Array(cookies)) = answer.get("cookies") {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                out.append(axum::http::header::SET_COOKIE, value);
            }
        }
    }
    response
}

/// A process asks for its next event and waits until there is one.
async fn next(State(state): State<Shared>, Path(function): Path<String>) -> Response {
    let Some(queue) = state.queues.get(&function) else {
        return problem(StatusCode::NOT_FOUND, "no such function");
    };
    let mut rx = queue.rx.lock().await;
    let Some(invocation) = rx.recv().await else {
        return problem(StatusCode::GONE, "shutting down");
    };
    drop(rx);
    // From here to the answer there is no await: the event cannot be dropped in between.
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(invocation.id.clone(), invocation.reply);
    }
    let deadline = epoch_ms() + INVOKE_TIMEOUT.as_millis();
    let mut response = Response::new(Body::from(invocation.event));
    let headers = response.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", invocation.id.as_str()),
        ("lambda-runtime-deadline-ms", &deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", &queue.arn),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0",
        ),
        ("content-type", "application/json"),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

fn complete(state: &Emulator, id: &str, outcome: Outcome) -> StatusCode {
    let reply = state.in_flight.lock().ok().and_then(|mut m| m.remove(id));
    match reply {
        Some(reply) => {
            // The caller may have given up; nothing to do then.
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn respond(
    State(state): State<Shared>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    complete(&state, &id, Outcome::Response(body))
}

async fn fail(
    State(state): State<Shared>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    crate::run::log(&format!(
        "invocation {id} failed: {}",
        String::from_utf8_lossy(&body)
    ));
    complete(&state, &id, Outcome::Error)
}

async fn init_error(Path(function): Path<String>, body: Bytes) -> StatusCode {
    crate::run::log(&format!(
        "{function} failed to start: {}",
        String::from_utf8_lossy(&body)
    ));
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn emulator() -> Emulator {
        Emulator {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            queues: BTreeMap::new(),
            in_flight: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    #[test]
    fn a_request_becomes_a_function_url_event() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-many", HeaderValue::from_static("a"));
        headers.append("x-many", HeaderValue::from_static("b"));
        let request = Incoming {
            path: "rest".into(),
            method: Method::POST,
            query: "region=us-east-1&region=eu-west-1&x=%20y".into(),
            headers,
            body: Bytes::from_static(b"{\"a\":1}"),
        };
        let e = event(&emulator(), "list-resources", "req-1", &request);
        assert_eq!(e["rawPath"], "/rest");
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        assert_eq!(e["queryStringParameters"]["region"], "us-east-1,eu-west-1");
        assert_eq!(e["queryStringParameters"]["x"], " y");
        assert_eq!(e["headers"]["x-many"], "a,b");
        assert_eq!(e["body"], "{\"a\":1}");
        assert_eq!(e["isBase64Encoded"], false);
        // lambda_http reads it as a Function URL request.
        let request: lambda_http::request::LambdaRequest = serde_json::from_value(e).unwrap();
        assert!(matches!(
            request,
            lambda_http::request::LambdaRequest::ApiGatewayV2(_)
        ));
    }

    #[test]
    fn a_body_that_is_not_text_reaches_the_function_base64_encoded() {
        let request = Incoming {
            method: Method::POST,
            body: Bytes::from_static(&[0xff, 0xfe]),
            ..Incoming::default()
        };
        let e = event(&emulator(), "f", "r", &request);
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], BASE64.encode([0xff, 0xfe]));
    }

    #[test]
    fn the_functions_response_object_becomes_the_http_answer() {
        let r = function_response(
            br#"{"statusCode":409,"headers":{"content-type":"application/json"},"cookies":["a=b"],"body":"{\"error\":{}}","isBase64Encoded":false}"#,
        );
        assert_eq!(r.status(), 409);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["set-cookie"], "a=b");
        assert_eq!(
            function_response(b"not json").status(),
            StatusCode::BAD_GATEWAY
        );
    }
}
