//! Calls to the Function URLs: one HTTP client, requests signed with SigV4 (service
//! `lambda`) using credentials from the standard AWS chain, a profile per side.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use xacct_api::error::ErrorBody;

use crate::config::{ConfigError, Settings};

/// A failed call, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("could not reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    #[error("no AWS credentials for {what}: {reason}")]
    Credentials { what: String, reason: String },
    #[error("{url} answered {status} with a body that is not xacct's JSON")]
    InvalidResponse { url: String, status: u16 },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not sign the request: {0}")]
    Signing(String),
    #[error("could not encode the request: {0}")]
    Encoding(String),
}

/// The answer of a forwarded call: status, content type and body, unchanged.
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Calls xacct's functions as configured.
#[derive(Debug)]
pub struct Client {
    pub settings: Settings,
    http: reqwest::Client,
    providers: Mutex<BTreeMap<Option<String>, SharedCredentialsProvider>>,
}

/// The region in a Function URL host (`<id>.lambda-url.<region>.on.aws`).
pub fn region_of(url: &str) -> Option<String> {
    let host = reqwest::Url::parse(url).ok()?.host_str()?.to_owned();
    let rest = host.split(".lambda-url.").nth(1)?;
    rest.split('.').next().map(str::to_owned)
}

impl Client {
    pub fn new(settings: Settings) -> Result<Self, CallError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CallError::Signing(e.to_string()))?;
        Ok(Self {
            settings,
            http,
            providers: Mutex::new(BTreeMap::new()),
        })
    }

    async fn provider(
        &self,
        profile: Option<&str>,
    ) -> Result<SharedCredentialsProvider, CallError> {
        let key = profile.map(str::to_owned);
        let mut cache = self.providers.lock().await;
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let config = loader.load().await;
        let provider = config
            .credentials_provider()
            .ok_or_else(|| CallError::Credentials {
                what: profile.map_or_else(
                    || "the default profile".to_owned(),
                    |p| format!("profile `{p}`"),
                ),
                reason: "no credentials provider is configured".to_owned(),
            })?;
        cache.insert(key, provider.clone());
        Ok(provider)
    }

    async fn sign(
        &self,
        function: &str,
        request: &mut http::Request<Vec<u8>>,
    ) -> Result<(), CallError> {
        let url = request.uri().to_string();
        let profile = self.settings.profile(function);
        let what = profile.map_or_else(
            || "the default credential chain".to_owned(),
            |p| format!("profile `{p}`"),
        );
        let provider = self.provider(profile).await?;
        let credentials =
            provider
                .provide_credentials()
                .await
                .map_err(|e| CallError::Credentials {
                    what: what.clone(),
                    reason: e.to_string(),
                })?;
        let identity = credentials.into();
        let region = region_of(&url)
            .or_else(|| self.settings.get("region").map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CallError::Signing(e.to_string()))?
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            url.clone(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(request.body()),
        )
        .map_err(|e| CallError::Signing(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| CallError::Signing(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }

    /// Sends a request to a function and returns its answer unchanged. A 5xx that is not
    /// xacct's JSON error comes from in front of the function (the Function URL service):
    /// it is sent again, freshly signed, at most twice more with a short backoff. Every
    /// xacct operation is idempotent, so a repeat is safe.
    pub async fn forward(
        &self,
        function: &str,
        method: &str,
        query: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Forwarded, CallError> {
        let mut attempt: u32 = 1;
        loop {
            let answer = self
                .forward_once(function, method, query, body.clone())
                .await?;
            if attempt >= FORWARD_ATTEMPTS || !not_from_xacct(&answer) {
                return Ok(answer);
            }
            tokio::time::sleep(std::time::Duration::from_millis(250 * u64::from(attempt))).await;
            attempt += 1;
        }
    }

    async fn forward_once(
        &self,
        function: &str,
        method: &str,
        query: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Forwarded, CallError> {
        let base = self.settings.function_url(function)?;
        let url = match query.filter(|q| !q.is_empty()) {
            Some(q) => format!("{base}?{q}"),
            None => base,
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .map_err(|e| CallError::Signing(e.to_string()))?;
        if self.settings.sign(&url) {
            self.sign(function, &mut request).await?;
        }
        let request =
            reqwest::Request::try_from(request).map_err(|e| CallError::Signing(e.to_string()))?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| CallError::Unreachable {
                url: url.clone(),
                reason: if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "connection refused or no route".to_owned()
                } else {
                    e.to_string()
                },
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| CallError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?
            .to_vec();
        Ok(Forwarded { status, body })
    }

    /// Calls a function with a GET and reads its answer as `T`, or the error it gave.
    pub async fn get<T: DeserializeOwned>(
        &self,
        function: &str,
        query: &[(&str, String)],
    ) -> Result<T, CallError> {
        let query = serde_urlencoded_pairs(query);
        self.call(function, "GET", Some(&query), Vec::new()).await
    }

    /// Calls a function with `body` as its JSON request and reads its answer as `T`, or
    /// the error it gave.
    pub async fn post<T: DeserializeOwned>(
        &self,
        function: &str,
        body: &impl Serialize,
    ) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::Encoding(e.to_string()))?;
        self.call(function, "POST", None, bytes).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        function: &str,
        method: &str,
        query: Option<&str>,
        body: Vec<u8>,
    ) -> Result<T, CallError> {
        let answer = self.forward(function, method, query, body).await?;
        let invalid = CallError::InvalidResponse {
            url: self.settings.function_url(function)?,
            status: answer.status,
        };
        if (200..300).contains(&answer.status) {
            return serde_json::from_slice(&answer.body).map_err(|_| invalid);
        }
        match serde_json::from_slice::<ErrorBody>(&answer.body) {
            Ok(ErrorBody { error }) => Err(CallError::Api {
                status: answer.status,
                code: error.code,
                message: error.message,
                field: error.field,
            }),
            Err(_) => Err(invalid),
        }
    }
}

/// Tries of one request, the first included (see `Client::forward`).
const FORWARD_ATTEMPTS: u32 = 3;

/// A 5xx whose body is not xacct's JSON error: an answer from in front of the function.
fn not_from_xacct(answer: &Forwarded) -> bool {
    (500..600).contains(&answer.status)
        && serde_json::from_slice::<ErrorBody>(&answer.body).is_err()
}

/// `a=1&b=2`, percent-encoded.
fn serde_urlencoded_pairs(pairs: &[(&str, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_5xx_without_xacct_error_is_sent_again() {
        let answer = |status: u16, body: &str| Forwarded {
            status,
            body: body.as_bytes().to_vec(),
        };
        assert!(not_from_xacct(&answer(500, "Internal Server Error")));
        assert!(not_from_xacct(&answer(
            502,
            r#"{"message":"Internal Server Error"}"#
        )));
        assert!(!not_from_xacct(&answer(
            502,
            r#"{"error":{"code":"Throttling","message":"m"}}"#
        )));
        assert!(!not_from_xacct(&answer(400, "not json")));
        assert!(!not_from_xacct(&answer(200, "{}")));
    }

    #[test]
    fn region_from_function_url_host() {
        assert_eq!(
            region_of("https://abcdefg.lambda-url.eu-west-1.on.aws/").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("http://127.0.0.1:9000/lambda-url/x/"), None);
    }

    #[test]
    fn query_is_encoded() {
        assert_eq!(
            serde_urlencoded_pairs(&[("arn", "arn:aws:s3:::b".into()), ("x", "a b".into())]),
            "arn=arn%3Aaws%3As3%3A%3A%3Ab&x=a+b"
        );
    }
}
