//! `xacct console`: the web console on 127.0.0.1. It serves the single-page app compiled into
//! the binary and forwards `/api/<function>` to the Function URLs, signing on the way, so the
//! browser never sees AWS credentials. Only loopback `Host`s are answered (no DNS
//! rebinding); every API call needs the per-run secret token (printed in the URL the console
//! opens, as Jupyter does, then kept in an HttpOnly cookie), so another program on the
//! machine cannot use the console's credentials; writes also need a JSON body from the
//! console's own origin (no cross-site form posts), and no page may frame the console.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use xacct_api::error::{ApiError, ErrorBody, Failure};

use crate::client::{CallError, Client};
use crate::output::print;
use crate::simulate::{Inputs, Named, decide};
use xacct_policy::eval::RequestPrincipal;

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
    (crate::config::HUB_FUNCTION, "GET"),
];

struct Console {
    client: Client,
    port: u16,
    /// The per-run secret every API call must carry.
    token: String,
}

/// The header a script may send the token in instead of the cookie.
pub const TOKEN_HEADER: &str = "x-xacct-console-token";

/// A fresh secret for one run of the console: 40 characters from the OS-seeded RNG.
pub fn new_token() -> String {
    xacct_policy::ExternalId::generate(&mut rand::rng()).to_string()
}

/// Compares without stopping at the first difference, so the time taken says nothing about
/// how much of a guess was right.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The console's own refusals, in the functions' error body. The console picks the status
/// itself: it answers for itself, not for a function.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ApiError::new(Failure::default(), code, message),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).unwrap_or_default(),
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

    /// The cookie's name: one per port, so two consoles on one machine do not overwrite
    /// each other's (cookies are not kept apart by port).
    fn cookie_name(&self) -> String {
        format!("xacct_console_{}", self.port)
    }

    /// The request carries this run's token, in the cookie or the header.
    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let from_header = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
        let name = self.cookie_name();
        let from_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v);
        [from_header, from_cookie]
            .into_iter()
            .flatten()
            .any(|given| same_secret(given, &self.token))
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

fn forbidden_token() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "MissingToken",
        "open the console with the URL `xacct console` printed: it carries this run's token",
    )
}

#[derive(serde::Deserialize)]
struct IndexQuery {
    token: Option<String>,
}

/// The page. Opened with the run's token (`/?token=...`), it keeps the token in an HttpOnly,
/// SameSite=Strict cookie and sends the browser to `/`, so the token leaves the address bar.
async fn index(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    Query(query): Query<IndexQuery>,
) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    match query.token {
        Some(given) if same_secret(&given, &c.token) => {
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; SameSite=Strict",
                c.cookie_name(),
                c.token
            );
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/".to_owned()),
                    (header::SET_COOKIE, cookie),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
            )
                .into_response()
        }
        Some(_) => forbidden_token(),
        None => asset("text/html; charset=utf-8", INDEX),
    }
}

async fn setup(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    if !c.token_ok(&headers) {
        return forbidden_token();
    }
    let s = &c.client.settings;
    let body = SetupBody {
        setup: s.setup.as_deref().unwrap_or("(flags and environment)"),
        owner_account: None,
        requestor_account: None,
        sides: Sides {
            owner: s.function_url("create-owner-role").is_ok(),
            requestor: s.function_url("create-requestor-resources").is_ok(),
        },
        hub: s.hub_url().is_ok(),
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// `GET /api/setup`: which setup the console runs with and which sides it can reach.
#[derive(Debug, Serialize)]
struct SetupBody<'a> {
    setup: &'a str,
    /// Not looked up: always `null`, and the page shows none.
    owner_account: Option<String>,
    requestor_account: Option<String>,
    sides: Sides,
    /// Whether the setup has `list-accounts` (an organization hub): the page then asks it
    /// for the accounts to pick from, and shows no picker when it answers `NotAHub`.
    hub: bool,
}

/// Whether the owner's and the requestor's functions are configured.
#[derive(Debug, Serialize)]
struct Sides {
    owner: bool,
    requestor: bool,
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
    if !c.token_ok(&headers) {
        return forbidden_token();
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

/// What the console's simulate page sends: the request and the policies as JSON documents.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateBody {
    principal: String,
    action: String,
    resource: String,
    #[serde(default)]
    resource_account: Option<String>,
    #[serde(default)]
    context: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    identity_policies: Vec<xacct_policy::PolicyDocument>,
    #[serde(default)]
    resource_policy: Option<xacct_policy::PolicyDocument>,
    #[serde(default)]
    boundary: Option<xacct_policy::PolicyDocument>,
    #[serde(default)]
    session_policy: Option<xacct_policy::PolicyDocument>,
    #[serde(default)]
    scps: Vec<xacct_policy::PolicyDocument>,
    #[serde(default)]
    rcps: Vec<xacct_policy::PolicyDocument>,
}

/// `POST /api/simulate`: xacct's evaluator on the page's policies, in the console itself
/// (no Function URL, no AWS call); the same answer as `xacct simulate -o json`.
async fn simulate(State(c): State<Arc<Console>>, headers: HeaderMap, body: Bytes) -> Response {
    if !c.host_ok(&headers) {
        return forbidden_host();
    }
    if !c.token_ok(&headers) {
        return forbidden_token();
    }
    let body: SimulateBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidSimulation",
                &format!("the simulation is not valid: {e}"),
            );
        }
    };
    let principal = match body.principal.trim().parse() {
        Ok(arn) => RequestPrincipal::Aws(arn),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidPrincipal",
                &format!("principal is not a valid arn: {e}"),
            );
        }
    };
    let named = |label: String, document| Named { label, document };
    let many = |kind: &str, docs: Vec<xacct_policy::PolicyDocument>| -> Vec<Named> {
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| named(format!("{kind} {}", i + 1), d))
            .collect()
    };
    let inputs = Inputs {
        identity: many("identity policy", body.identity_policies),
        resource: body
            .resource_policy
            .map(|d| named("resource policy".to_owned(), d)),
        boundary: body.boundary.map(|d| named("boundary".to_owned(), d)),
        session: body
            .session_policy
            .map(|d| named("session policy".to_owned(), d)),
        scps: many("SCP", body.scps),
        rcps: many("RCP", body.rcps),
    };
    let mut context = xacct_policy::eval::Context::new();
    for (key, values) in body.context {
        context.insert(&key, values);
    }
    let resource_account = body.resource_account.filter(|a| !a.is_empty());
    let verdict = decide(
        &inputs,
        principal,
        body.action.trim(),
        body.resource.trim(),
        resource_account,
        context,
    );
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&verdict).unwrap_or_default(),
    )
        .into_response()
}

/// No page of another origin may frame the console (clickjacking of its write buttons).
async fn no_framing(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The console's routes.
pub fn router(client: Client, port: u16, token: String) -> Router {
    let state = Arc::new(Console {
        client,
        port,
        token,
    });
    Router::new()
        .route("/", get(index))
        .route("/api/setup", get(setup))
        .route("/api/simulate", axum::routing::post(simulate))
        .route("/api/{function}", get(forward).post(forward))
        .route("/{file}", get(page))
        .layer(axum::middleware::map_response(no_framing))
        .with_state(state)
}

/// Serves the console until Ctrl-C.
pub async fn serve(client: Client, port: u16) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr()?.port();
    let token = new_token();
    print(&format!(
        "xacct console: http://127.0.0.1:{port}/?token={token}  (open this URL; Ctrl-C stops it)"
    ));
    axum::serve(listener, router(client, port, token))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// A console on a free loopback port with no Function URLs configured; its base URL
    /// and token.
    async fn console() -> (String, String) {
        console_with(Settings::default()).await
    }

    /// A console with `settings`; its base URL and token.
    async fn console_with(settings: Settings) -> (String, String) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let token = new_token();
        let client = Client::new(settings).unwrap();
        let app = router(client, port, token.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://127.0.0.1:{port}"), token)
    }

    fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn console_write_without_token_is_forbidden() {
        let (base, _) = console().await;
        let answer = http()
            .post(format!("{base}/api/create-owner-role"))
            .header("content-type", "application/json")
            .header("origin", &base)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 403);
        let body: ErrorBody = answer.json().await.unwrap();
        assert_eq!(body.error.code, "MissingToken");
        // A wrong token, and a signed read, are refused the same way.
        for request in [
            http()
                .post(format!("{base}/api/revoke-grant"))
                .header("content-type", "application/json")
                .header(TOKEN_HEADER, "not-the-token")
                .body("{}"),
            http().get(format!("{base}/api/list-resources")),
            http().get(format!("{base}/api/setup")),
        ] {
            assert_eq!(request.send().await.unwrap().status(), 403);
        }
    }

    #[tokio::test]
    async fn console_url_with_token_sets_an_http_only_cookie_that_admits_api_calls() {
        let (base, token) = console().await;
        let opened = http()
            .get(format!("{base}/?token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(opened.status(), 303);
        let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let pair = cookie.split(';').next().unwrap().to_owned();
        let setup = http()
            .get(format!("{base}/api/setup"))
            .header("cookie", pair)
            .send()
            .await
            .unwrap();
        assert_eq!(setup.status(), 200);
        let by_header = http()
            .get(format!("{base}/api/setup"))
            .header(TOKEN_HEADER, &token)
            .send()
            .await
            .unwrap();
        assert_eq!(by_header.status(), 200);
    }

    #[tokio::test]
    async fn console_simulates_in_process_and_only_with_the_token() {
        let (base, token) = console().await;
        let body = r#"{
            "principal": "arn:aws:iam::111111111111:user/ana",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::reports/q4.csv",
            "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}],
            "boundary": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
        }"#;
        let post = |token: Option<&str>| {
            let mut r = http()
                .post(format!("{base}/api/simulate"))
                .header("content-type", "application/json")
                .body(body);
            if let Some(t) = token {
                r = r.header(TOKEN_HEADER, t);
            }
            r.send()
        };
        assert_eq!(post(None).await.unwrap().status(), 403);
        let answer: serde_json::Value = post(Some(&token)).await.unwrap().json().await.unwrap();
        assert_eq!(answer["decision"], "implicit_deny", "{answer}");
        assert_eq!(
            answer["reason"],
            "the permissions boundary does not allow it"
        );
    }

    #[tokio::test]
    async fn the_page_is_told_a_hub_only_when_the_setup_has_list_accounts() {
        let hub = |settings: Settings| async move {
            let (base, token) = console_with(settings).await;
            let setup: serde_json::Value = http()
                .get(format!("{base}/api/setup"))
                .header(TOKEN_HEADER, token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            setup["hub"].clone()
        };
        assert_eq!(hub(Settings::default()).await, false);
        let mut settings = Settings::default();
        settings.urls.insert(
            crate::config::HUB_FUNCTION.to_owned(),
            crate::config::Sourced {
                value: "https://hub.lambda-url.eu-west-1.on.aws/".to_owned(),
                source: "config file".to_owned(),
            },
        );
        assert_eq!(hub(settings).await, true);
    }

    #[tokio::test]
    async fn console_pages_forbid_framing() {
        let (base, _) = console().await;
        for path in ["/", "/app.js", "/api/setup"] {
            let answer = http().get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(
                answer.headers()["content-security-policy"],
                "frame-ancestors 'none'",
                "{path}"
            );
            assert_eq!(answer.headers()["x-frame-options"], "DENY", "{path}");
        }
    }

    #[test]
    fn tokens_differ_per_run_and_compare_exactly() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.len() >= 32);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..a.len() - 1]));
    }
}
