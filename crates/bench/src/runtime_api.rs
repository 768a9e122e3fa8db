//! A minimal Lambda Runtime API (the `2018-06-01` protocol a custom runtime speaks): events
//! are queued, handed out on `GET /invocation/next` one at a time (a poll waits, as Lambda's
//! does, until there is one), and the runtime's `POST /invocation/<id>/response` or `/error`
//! completes the caller's invocation. Any number of processes may poll one API: the load
//! run serves each function with a pool of processes this way.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Context, Result};

const PREFIX: &str = "/2018-06-01/runtime";
/// X-Ray is off here; the runtime only passes the header on.
const TRACE_ID: &str = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";

/// How a runtime answered an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `POST /invocation/<id>/response`
    Response,
    /// `POST /invocation/<id>/error`: the handler failed (or panicked)
    Error,
}

/// One completed invocation, with the times the API saw.
#[derive(Debug)]
pub struct Outcome {
    pub answer: Answer,
    pub body: Bytes,
    /// The event was queued.
    pub queued: Instant,
    /// A runtime took it (its `/next` answered).
    pub handed: Instant,
    /// Its answer was read in full.
    pub received: Instant,
}

impl Outcome {
    /// Queued to answered, in ms: the caller's latency.
    pub fn total_ms(&self) -> f64 {
        ms(self.received - self.queued)
    }

    /// Handed to answered, in ms: the function's own time.
    pub fn in_function_ms(&self) -> f64 {
        ms(self.received - self.handed)
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Queued {
    id: String,
    payload: Bytes,
    queued: Instant,
    reply: oneshot::Sender<Outcome>,
}

struct InFlight {
    queued: Instant,
    handed: Instant,
    reply: oneshot::Sender<Outcome>,
}

struct State {
    function_arn: String,
    sender: mpsc::UnboundedSender<Queued>,
    /// One poller at a time takes the next event; the others wait their turn here.
    receiver: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    first_next: OnceLock<Instant>,
    problems: Mutex<Vec<String>>,
    ids: AtomicU64,
    timeout: Duration,
}

impl State {
    fn problem(&self, what: String) {
        if let Ok(mut problems) = self.problems.lock() {
            problems.push(what);
        }
    }
}

/// A Runtime API on a free loopback port, served until dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    address: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("function_arn", &self.function_arn)
            .finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// `function_arn` is what the runtime is told it is; `timeout` sets each event's
    /// deadline.
    pub async fn start(function_arn: String, timeout: Duration) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context(|| "bind the Runtime API".to_owned())?;
        let address = listener
            .local_addr()
            .context(|| "the Runtime API's address".to_owned())?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            function_arn,
            sender,
            receiver: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_next: OnceLock::new(),
            problems: Mutex::new(Vec::new()),
            ids: AtomicU64::new(0),
            timeout,
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        Ok(Self {
            address,
            state,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event; the receiver gets its outcome (or is dropped with the API).
    pub fn submit(&self, payload: Vec<u8>) -> oneshot::Receiver<Outcome> {
        let (reply, outcome) = oneshot::channel();
        let n = self.state.ids.fetch_add(1, Ordering::Relaxed);
        let queued = Queued {
            id: format!("00000000-0000-4000-8000-{n:012x}"),
            payload: Bytes::from(payload),
            queued: Instant::now(),
            reply,
        };
        // The receiver lives in the state as long as the API does.
        let _ = self.state.sender.send(queued);
        outcome
    }

    /// When a runtime first asked for an event: the end of its init.
    pub fn first_next(&self) -> Option<Instant> {
        self.state.first_next.get().copied()
    }

    /// What a runtime did wrong (an init error, an unknown path or request id), if anything.
    pub fn problems(&self) -> Vec<String> {
        self.state
            .problems
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Small writes must not wait for a delayed ACK.
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&state), request));
            // A runtime stopped while its connection idles is expected.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = path.strip_prefix(PREFIX).unwrap_or_default();
    if method == Method::GET && route == "/invocation/next" {
        return Ok(next(&state).await);
    }
    if method != Method::POST {
        state.problem(format!("{method} {path}"));
        return Ok(reply(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path"}"#,
        ));
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            state.problem(format!("POST {path}: unreadable body: {e}"));
            return Ok(reply(
                StatusCode::BAD_REQUEST,
                r#"{"errorMessage":"bad body"}"#,
            ));
        }
    };
    let received = Instant::now();
    if route == "/init/error" {
        state.problem(format!(
            "init error: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(2000)
                .collect::<String>()
        ));
        return Ok(accepted());
    }
    let answered = route
        .strip_prefix("/invocation/")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(id, kind)| match kind {
            "response" => Some((id, Answer::Response)),
            "error" => Some((id, Answer::Error)),
            _ => None,
        });
    let Some((id, answer)) = answered else {
        state.problem(format!("POST {path}"));
        return Ok(reply(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path"}"#,
        ));
    };
    let in_flight = state.in_flight.lock().ok().and_then(|mut m| m.remove(id));
    let Some(in_flight) = in_flight else {
        state.problem(format!("POST {path}: unknown or answered request id"));
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            r#"{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}"#,
        ));
    };
    // The caller may have given up (a time-out); nothing to do then.
    let _ = in_flight.reply.send(Outcome {
        answer,
        body,
        queued: in_flight.queued,
        handed: in_flight.handed,
        received,
    });
    Ok(accepted())
}

/// Waits for an event and hands it out with the headers the runtime client reads.
async fn next(state: &State) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let _ = state.first_next.set(arrived);
    let event = {
        let mut receiver = state.receiver.lock().await;
        receiver.recv().await
    };
    let Some(event) = event else {
        return reply(StatusCode::GONE, r#"{"errorMessage":"stopping"}"#);
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| (d + state.timeout).as_millis());
    let handed = Instant::now();
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(
            event.id.clone(),
            InFlight {
                queued: event.queued,
                handed,
                reply: event.reply,
            },
        );
    }
    let mut response = reply(StatusCode::OK, event.payload);
    let headers = response.headers_mut();
    let pairs = [
        ("lambda-runtime-aws-request-id", event.id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            state.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", TRACE_ID.to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}
