//! `xacct console`: the web console on 127.0.0.1. It serves the single-page app compiled into
//! the binary and forwards `/api/<function>` to the Function URLs, signing on the way, so the
//! browser never sees AWS credentials. Only loopback `Host`s are answered (no DNS
//! rebinding) and writes need a JSON body from the console's own origin (no cross-site
//! form posts).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::client::{CallError, Client};
use crate::output::print;

const INDEX: &str = include_str!("../assets/index.html");
const APP: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// Functions the console may call, with the method each takes.
const FUNCTIONS: &[(&str, &str)] = &[
    ("list-resources", "GET"),
    ("list-permissions", "GET"),
    ("create-owner-role", "POST"),
    ("create-requestor-resources", "POST"),
    ("list-grants", "GET"),
    ("check-owner-role", "POST"),
    ("revoke-grant", "POST"),
    ("check-requestor-role", "POST"),
    ("revoke-requestor-resources", "POST"),
];

struct Console {
    client: Client,
    port: u16,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn forbidden_host() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "ForbiddenHost",
        "the console answers only on 127.0.0.1 and localhost",
    )
}

impl Console {
    /// Only requests addressed to this server on loopback are answered.
    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let port = self.port;
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h == format!("127.0.0.1:{port}") || h == format!("localhost:{port}"))
    }

    fn origin_ok(&self, headers: &HeaderMap) -> bool {
        let port = self.port;
        match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            None => true,
            Some(o) => {
                o == format!("http://127.0.0.1:{port}") || o == format!("http://localhost:{port}")
            }
        }
    }
}

async fn page(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    match file.as_str() {
        "app.js" => asset("text/javascript; charset=utf-8", APP),
        "style.css" => asset("text/css; charset=utf-8", STYLE),
        _ => error(StatusCode::NOT_FOUND, "NotFound", "no such page"),
    }
}

async fn index(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    asset("text/html; charset=utf-8", INDEX)
}

async fn setup(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    let s = &c.client.settings;
    let sides = json!({
        "owner": s.function_url("create-owner-role").is_ok(),
        "requestor": s.function_url("create-requestor-resources").is_ok(),
    });
    let body = json!({"setup": s.setup.clone().unwrap_or_else(|| "(flags and environment)".to_owned()), "owner_account": null, "requestor_account": null, "sides": sides});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn forward(
    State(c): State<Arc<Console>>,
    method: Method,
    headers: HeaderMap,
    Path(function): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    let Some((name, allowed)) = FUNCTIONS.iter().find(|(f, _)| *f == function) else {
        return error(StatusCode::NOT_FOUND, "UnknownFunction", "no such function");
    };
    if method.as_str() != *allowed {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("{name} takes {allowed}"),
        );
    }
    if method == Method::POST {
        let json_body = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json_body || !c.origin_ok(&headers) {
            return error(
                StatusCode::FORBIDDEN,
                "ForbiddenOrigin",
                "writes need a JSON body sent by the console itself",
            );
        }
    }
    match c
        .client
        .forward(name, method.as_str(), query.as_deref(), body.to_vec())
        .await
    {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                answer.body,
            )
                .into_response()
        }
        Err(CallError::Unreachable { url, reason }) => error(
            StatusCode::BAD_GATEWAY,
            "Unreachable",
            &format!("could not reach {url} ({reason})"),
        ),
        Err(e) => error(StatusCode::BAD_GATEWAY, "ConsoleError", &e.to_string()),
    }
}

/// The console's routes.
pub fn router(client: Client, port: u16) -> Router {
    let state = Arc::new(Console { client, port });
    Router::new()
        .route("/", get(index))
        .route("/api/setup", get(setup))
        .route("/api/{function}", get(forward).post(forward))
        .route("/{file}", get(page))
        .with_state(state)
}

/// Serves the console until Ctrl-C.
pub async fn serve(client: Client, port: u16) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr()?.port();
    print(&format!(
        "xacct console: http://127.0.0.1:{port}/  (Ctrl-C stops it)"
    ));
    axum::serve(listener, router(client, port))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
