//! Shared helpers for the end-to-end tests: the running local stack (from the file
//! `make local-up` writes), HTTP calls to the functions, and AWS clients for each account
//! that talk to moto directly, to check what the functions wrote.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use serde_json::Value;

/// The running local stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub file: Value,
    http: reqwest::Client,
}

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// Asserts an error answer: status, code and field.
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
        match field {
            Some(f) => assert_eq!(self.body["error"]["field"], f, "{}", self.body),
            None => assert!(self.body["error"].get("field").is_none(), "{}", self.body),
        }
    }
}

impl Stack {
    /// Reads `XACCT_STACK_FILE` (default `../.local/stack.json`).
    pub fn load() -> Self {
        let path = std::env::var("XACCT_STACK_FILE").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.local/stack.json").to_owned()
        });
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("no local stack at {path} ({e}); run `make local-up` first")
        });
        let file: Value = serde_json::from_str(&text).unwrap();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .unwrap();
        Self { file, http }
    }

    pub fn url(&self, function: &str) -> String {
        self.file["functions"][function]
            .as_str()
            .unwrap_or_else(|| panic!("no function {function} in the stack file"))
            .to_owned()
    }

    pub fn owner_account(&self) -> String {
        self.file["owner_account"].as_str().unwrap().to_owned()
    }

    pub fn requestor_account(&self) -> String {
        self.file["requestor_account"].as_str().unwrap().to_owned()
    }

    /// The fault-injecting proxy in front of moto, when the stack runs one.
    pub fn fault_proxy(&self) -> Option<String> {
        self.file["fault_proxy_url"].as_str().map(str::to_owned)
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text}"));
        Answer { status, body }
    }

    pub async fn post(&self, function: &str, body: &Value) -> Answer {
        Self::answer(
            self.http
                .post(self.url(function))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post_raw(&self, function: &str, body: Vec<u8>) -> Answer {
        Self::answer(
            self.http
                .post(self.url(function))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, function: &str, query: &[(&str, &str)]) -> Answer {
        Self::answer(
            self.http
                .get(self.url(function))
                .query(query)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn request(&self, method: reqwest::Method, function: &str) -> Answer {
        Self::answer(
            self.http
                .request(method, self.url(function))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Raw access to the proxy's admin API.
    pub async fn proxy(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let base = self
            .fault_proxy()
            .expect("the stack runs without the fault proxy; start it with XACCT_FAULT_PROXY=1");
        let mut req = self.http.request(method, format!("{base}{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let text = req.send().await.unwrap().text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// SDK configuration with one side's credentials, straight to moto.
    pub async fn sdk(&self, side: &str) -> SdkConfig {
        let c = &self.file["credentials"][side];
        let creds = Credentials::new(
            c["access_key_id"].as_str().unwrap(),
            c["secret_access_key"].as_str().unwrap(),
            c["session_token"].as_str().map(str::to_owned),
            None,
            "xacct-local-stack",
        );
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.file["moto_url"].as_str().unwrap())
            .credentials_provider(creds)
            .load()
            .await
    }

    pub async fn iam(&self, side: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk(side).await)
    }
}

/// A name no earlier run against the same moto used.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{:x}", nanos % 0xffff_ffff_ffff)
}

/// A 12-digit requestor account no earlier run used, for tests of default role names.
pub fn unique_account() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("3{:011}", nanos % 100_000_000_000)
}

/// Decodes a URL-encoded policy document as IAM returns it.
pub fn decode_policy(text: &str) -> xacct_policy::PolicyDocument {
    xacct_aws::iam::decode_policy(text).unwrap_or_else(|| panic!("not a policy document: {text}"))
}
