//! The organization adapters through the SDK's own clients, answered in process by an HTTP
//! client that plays STS, IAM and Organizations: a spoke session assumes exactly the spoke
//! role with the caller's session name and then reads the role with the spoke's
//! credentials; a member without the role fails there; every page of accounts is read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use aws_types::sdk_config::SharedCredentialsProvider;
use xacct_aws::error::AwsErrorKind;
use xacct_aws::organization::{OrganizationAccounts, SpokeSessions};
use xacct_policy::Partition;
use xacct_policy::organization::Spoke;

const ASSUMED: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIASPOKE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::333333333333:assumed-role/xacct-spoke/s</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"#;

const ROLE: &str = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/xacct-spoke/</Path><RoleName>xacct-spoke</RoleName><RoleId>AROASPOKE</RoleId><Arn>arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></GetRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetRoleResponse>"#;

const NO_ROLE: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name xacct-spoke cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

/// One request as the fake AWS saw it: host, the access key that signed it, and the body.
#[derive(Debug, Clone)]
struct Seen {
    host: String,
    key: String,
    body: String,
}

fn config(role_exists: bool) -> (SdkConfig, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
        let host = req.uri().host().unwrap_or_default().to_owned();
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let key = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let body = String::from_utf8_lossy(req.body().bytes().unwrap_or_default()).into_owned();
        log.lock().unwrap().push(Seen {
            host: host.clone(),
            key,
            body: body.clone(),
        });
        let (status, answer) = if host.starts_with("sts") {
            (200, ASSUMED.to_owned())
        } else if host.starts_with("iam") {
            if role_exists {
                (200, ROLE.to_owned())
            } else {
                (404, NO_ROLE.to_owned())
            }
        } else if host.starts_with("organizations") {
            let page = if body.contains("\"NextToken\"") {
                serde_json::json!({"Accounts": [
                    {"Id": "444444444444", "Name": "b", "Email": "b@example.com", "Status": "SUSPENDED"}
                ]})
            } else {
                serde_json::json!({"Accounts": [
                    {"Id": "111111111111", "Name": "hub", "Email": "hub@example.com", "Status": "ACTIVE"},
                    {"Id": "333333333333", "Name": "a", "Status": "ACTIVE"}
                ], "NextToken": "page-2"})
            };
            (200, page.to_string())
        } else {
            panic!("no fake for {host}")
        };
        http::Response::builder()
            .status(status)
            .body(SdkBody::from(answer))
            .unwrap()
    });
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDHUB", "secret", None, None, "test",
        )))
        .http_client(http)
        .build();
    (config, seen)
}

fn spoke() -> Spoke {
    Spoke {
        partition: Partition::Aws,
        role_name: "xacct-spoke".parse().unwrap(),
    }
}

#[tokio::test]
async fn a_spoke_session_assumes_the_spoke_role_and_reads_it_with_the_spokes_credentials() {
    let (config, seen) = config(true);
    let session = SpokeSessions::new(&config, spoke())
        .open(
            &"333333333333".parse().unwrap(),
            "xacct@assumed-role.admin.alice",
        )
        .await
        .unwrap();
    assert_eq!(
        session.boundary.to_string(),
        "arn:aws:iam::333333333333:policy/xacct-spoke/xacct-boundary"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let (assume, read) = (&seen[0], &seen[1]);
    assert!(assume.host.starts_with("sts"));
    assert_eq!(assume.key, "AKIDHUB");
    assert!(
        assume.body.contains(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A333333333333%3Arole%2Fxacct-spoke%2Fxacct-spoke"
        ),
        "{}",
        assume.body
    );
    assert!(
        assume
            .body
            .contains("RoleSessionName=xacct%40assumed-role.admin.alice"),
        "{}",
        assume.body
    );
    assert!(read.host.starts_with("iam"));
    assert_eq!(read.key, "ASIASPOKE");
    assert!(read.body.contains("RoleName=xacct-spoke"), "{}", read.body);
}

#[tokio::test]
async fn a_member_without_the_spoke_role_fails_at_reading_it() {
    let (config, _) = config(false);
    let err = SpokeSessions::new(&config, spoke())
        .open(&"555555555555".parse().unwrap(), "xacct@x")
        .await
        .unwrap_err();
    assert_eq!(
        (err.operation, err.code.as_str(), err.kind),
        ("GetRole", "NoSuchEntity", AwsErrorKind::NotFound)
    );
}

#[tokio::test]
async fn every_page_of_the_organizations_accounts_is_read() {
    let (config, seen) = config(true);
    let accounts = OrganizationAccounts::new(&config).list().await.unwrap();
    let ids: Vec<(String, bool)> = accounts
        .iter()
        .map(|a| (a.id.to_string(), a.is_active()))
        .collect();
    assert_eq!(
        ids,
        [
            ("111111111111".to_owned(), true),
            ("333333333333".to_owned(), true),
            ("444444444444".to_owned(), false)
        ]
    );
    assert_eq!(accounts[0].email.as_deref(), Some("hub@example.com"));
    assert_eq!(seen.lock().unwrap().len(), 2);
}
