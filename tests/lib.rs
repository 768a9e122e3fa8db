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

    /// Sends `request` once and checks the answer against `openapi.yaml`. The stack serves
    /// built binaries: every answer is the function's own.
    async fn send(request: reqwest::RequestBuilder, function: &str, method: &str) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text}"));
        contract().check(function, method, status, &body);
        Answer { status, body }
    }

    pub async fn post(&self, function: &str, body: &Value) -> Answer {
        let request = self.http.post(self.url(function)).json(body);
        Self::send(request, function, "post").await
    }

    pub async fn post_raw(&self, function: &str, body: Vec<u8>) -> Answer {
        let request = self
            .http
            .post(self.url(function))
            .header("content-type", "application/json")
            .body(body);
        Self::send(request, function, "post").await
    }

    pub async fn get(&self, function: &str, query: &[(&str, &str)]) -> Answer {
        let request = self.http.get(self.url(function)).query(query);
        Self::send(request, function, "get").await
    }

    pub async fn request(&self, method: reqwest::Method, function: &str) -> Answer {
        let name = method.as_str().to_ascii_lowercase();
        let request = self.http.request(method, self.url(function));
        Self::send(request, function, &name).await
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

/// `openapi.yaml`, against which every answer the tests receive is validated: status and
/// body must be documented for the operation, so the contract cannot drift from the code.
#[derive(Debug)]
pub struct Contract {
    document: Value,
}

static CONTRACT: std::sync::OnceLock<Contract> = std::sync::OnceLock::new();

/// The contract, read once per test binary.
pub fn contract() -> &'static Contract {
    CONTRACT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let document: Value = serde_yaml::from_str(&text).unwrap();
        Contract { document }
    })
}

impl Contract {
    /// The schema documented for `status` of `function`'s `method` operation (another
    /// method's operation on the same path for an undocumented method, whose answer is a
    /// 405), with `components` alongside so its `$ref`s resolve.
    pub fn schema(&self, function: &str, method: &str, status: u16) -> Value {
        let path = &self.document["paths"][format!("/lambda-url/{function}/")];
        assert!(
            path.is_object(),
            "openapi.yaml documents no /lambda-url/{function}/"
        );
        let operation = match path.get(method) {
            Some(op) => op,
            None => path
                .as_object()
                .unwrap()
                .values()
                .find(|v| v.get("responses").is_some())
                .unwrap(),
        };
        let responses = &operation["responses"];
        let class = format!("{}XX", status / 100);
        let response = [status.to_string(), class, "default".to_owned()]
            .iter()
            .find_map(|k| responses.get(k))
            .unwrap_or_else(|| {
                panic!("openapi.yaml: {method} {function} documents no {status} answer")
            });
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => self.pointer(r),
            None => response.clone(),
        };
        let mut schema = response["content"]["application/json"]["schema"].clone();
        assert!(
            schema.is_object(),
            "openapi.yaml: {method} {function} {status} has no JSON schema"
        );
        schema
            .as_object_mut()
            .unwrap()
            .insert("components".to_owned(), self.document["components"].clone());
        schema
    }

    fn pointer(&self, reference: &str) -> Value {
        self.document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("openapi.yaml: dangling $ref {reference}"))
            .clone()
    }

    /// Panics, naming every violation, unless `body` is what the contract says `function`
    /// answers with `status`.
    pub fn check(&self, function: &str, method: &str, status: u16, body: &Value) {
        let schema = self.schema(function, method, status);
        let validator = jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("openapi.yaml: bad schema for {function} {status}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {function} answered {status} outside openapi.yaml:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }
}

// Seeding for the resource-side tests: a KMS key and a bucket encrypted with it.

use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};

/// An S3 client that addresses buckets by path, as moto needs on 127.0.0.1.
pub fn path_style_s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// A customer managed key in the owner account (with `policy`, or moto's default, which lets
/// IAM policies grant it), under an alias; its ARN and the alias.
pub async fn kms_key(stack: &Stack, policy: Option<&str>) -> (String, String) {
    let kms = aws_sdk_kms::Client::new(&stack.sdk("owner").await);
    let key = kms
        .create_key()
        .set_policy(policy.map(str::to_owned))
        .send()
        .await
        .unwrap();
    let arn = key.key_metadata.unwrap().arn.unwrap();
    let alias = format!("alias/{}", unique("xacct-e2e"));
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&arn)
        .send()
        .await
        .unwrap();
    (arn, alias)
}

/// A bucket of the owner's with default encryption `algorithm` (and `key`), one object, and
/// `policy` if given (written after the object: moto applies a bucket policy's Deny).
pub async fn encrypted_bucket(
    stack: &Stack,
    algorithm: ServerSideEncryption,
    key: Option<&str>,
    policy: Option<&str>,
) -> String {
    let s3 = path_style_s3(&stack.sdk("owner").await);
    let name = unique("xacct-e2e-side");
    s3.create_bucket().bucket(&name).send().await.unwrap();
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(algorithm)
        .set_kms_master_key_id(key.map(str::to_owned))
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(&name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(default)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&name)
        .key("data.csv")
        .body(b"a,b\n1,2\n".to_vec().into())
        .send()
        .await
        .unwrap();
    if let Some(policy) = policy {
        s3.put_bucket_policy()
            .bucket(&name)
            .policy(policy.replace("BUCKET", &name))
            .send()
            .await
            .unwrap();
    }
    name
}
