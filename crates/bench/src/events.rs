//! Function URL events (payload format 2.0) as Lambda hands them to a function: the
//! recorded ones in `crates/api/tests/events/`, with another query or body, and a fresh
//! request id and time for each invocation; and the function's answer read back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Value, json};

use crate::error::{BenchError, Context, Result};

/// Where the recorded events are, from the repository's root.
pub const EVENTS_DIR: &str = "crates/api/tests/events";

/// The value at a path of object keys; `Null` when any is missing.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .unwrap_or(&Value::Null)
}

/// Sets a key of an object (nothing when `value` is not one).
pub fn set(value: &mut Value, key: &str, to: Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert(key.to_owned(), to);
    }
}

/// The recorded event of a function (`<dir>/<name>.json`).
pub fn load(dir: &Path, name: &str) -> Result<Value> {
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).context(|| format!("read {}", path.display()))?;
    let event: Value =
        serde_json::from_str(&text).context(|| format!("parse {}", path.display()))?;
    if event.get("version").and_then(Value::as_str) != Some("2.0")
        || event.get("requestContext").is_none()
    {
        return Err(BenchError::new(format!(
            "{} is not a Function URL event (payload format 2.0)",
            path.display()
        )));
    }
    Ok(event)
}

/// The event with another JSON body (compact, as recorded) and its content-length.
pub fn with_body(event: &Value, body: &Value) -> Value {
    let mut out = event.clone();
    let text = body.to_string();
    if let Some(headers) = out.get_mut("headers").and_then(Value::as_object_mut) {
        headers.insert("content-length".to_owned(), json!(text.len().to_string()));
    }
    if let Some(map) = out.as_object_mut() {
        map.insert("body".to_owned(), json!(text));
        map.insert("isBase64Encoded".to_owned(), json!(false));
    }
    out
}

/// The event with another query: `rawQueryString` encoded, `queryStringParameters` with
/// the values of a repeated key joined by commas, as Function URLs send them.
pub fn with_query(event: &Value, pairs: &[(&str, &str)]) -> Value {
    let mut out = event.clone();
    let raw = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut params: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, value) in pairs {
        params.entry(key).or_default().push(value);
    }
    let params: serde_json::Map<String, Value> = params
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v.join(","))))
        .collect();
    if let Some(map) = out.as_object_mut() {
        map.insert("rawQueryString".to_owned(), json!(raw));
        if params.is_empty() {
            map.remove("queryStringParameters");
        } else {
            map.insert("queryStringParameters".to_owned(), Value::Object(params));
        }
    }
    out
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// The event as sent for one invocation: a request id of its own and the time of now.
pub fn payload(event: &Value) -> Vec<u8> {
    let mut out = event.clone();
    let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if let Some(context) = out.get_mut("requestContext").and_then(Value::as_object_mut) {
        context.insert(
            "requestId".to_owned(),
            json!(format!("00000000-0000-4000-9000-{n:012x}")),
        );
        context.insert("timeEpoch".to_owned(), json!(now_ms));
    }
    out.to_string().into_bytes()
}

/// A function's answer: the HTTP status and the JSON body (`Null` when it is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: Value,
}

/// Reads the Function URL response a function posted.
pub fn http_answer(posted: &[u8]) -> Result<HttpAnswer> {
    let response: Value = serde_json::from_slice(posted).context(|| {
        format!(
            "the response is not JSON: {}",
            String::from_utf8_lossy(posted)
                .chars()
                .take(500)
                .collect::<String>()
        )
    })?;
    let status = response
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .context(|| format!("not a Function URL response (no statusCode): {response}"))?;
    let text = response.get("body").and_then(Value::as_str).unwrap_or("");
    let text = if response.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .context(|| "a base64 body that does not decode".to_owned())?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text.to_owned()
    };
    Ok(HttpAnswer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/tests/events")
    }

    #[test]
    fn every_function_has_a_recorded_event() {
        for name in crate::functions::FUNCTIONS.iter().map(|f| f.name) {
            let event = load(&dir(), name).unwrap();
            assert_eq!(
                event["requestContext"]["apiId"],
                event["requestContext"]["domainPrefix"]
            );
        }
    }

    #[test]
    fn another_body_replaces_body_and_length_only() {
        let event = load(&dir(), "revoke-grant").unwrap();
        let body = json!({"role_arn": "arn:aws:iam::111111111111:role/xacct/x"});
        let out = with_body(&event, &body);
        assert_eq!(out["body"], body.to_string());
        assert_eq!(
            out["headers"]["content-length"],
            body.to_string().len().to_string()
        );
        assert_eq!(out["requestContext"], event["requestContext"]);
    }

    #[test]
    fn a_query_is_encoded_raw_and_joined_by_key() {
        let event = load(&dir(), "list-resources").unwrap();
        let out = with_query(
            &event,
            &[
                ("service", "rds"),
                ("region", "us-east-1"),
                ("service", "lambda"),
            ],
        );
        assert_eq!(
            out["rawQueryString"],
            "service=rds&region=us-east-1&service=lambda"
        );
        assert_eq!(
            out["queryStringParameters"],
            json!({"region": "us-east-1", "service": "rds,lambda"})
        );
        let out = with_query(&event, &[]);
        assert_eq!(out["rawQueryString"], "");
        assert!(out.get("queryStringParameters").is_none());
    }

    #[test]
    fn each_payload_has_its_own_request_id() {
        let event = load(&dir(), "list-permissions").unwrap();
        let a: Value = serde_json::from_slice(&payload(&event)).unwrap();
        let b: Value = serde_json::from_slice(&payload(&event)).unwrap();
        assert_ne!(
            a["requestContext"]["requestId"],
            b["requestContext"]["requestId"]
        );
    }

    #[test]
    fn answers_are_read_plain_or_base64() {
        let plain = br#"{"statusCode":400,"body":"{\"error\":{\"code\":\"UnknownService\"}}"}"#;
        let answer = http_answer(plain).unwrap();
        assert_eq!(answer.status, 400);
        assert_eq!(answer.body["error"]["code"], "UnknownService");
        let encoded = br#"{"statusCode":200,"isBase64Encoded":true,"body":"eyJvayI6dHJ1ZX0="}"#;
        assert_eq!(http_answer(encoded).unwrap().body, json!({"ok": true}));
        assert!(http_answer(b"{}").is_err());
    }
}
