//! Discovery through the SDK's own clients when part of AWS fails, answered in process by
//! an HTTP client that plays two regions of an account (EC2, S3, Lambda and the Tagging
//! API, in each service's own wire format): a failing region or tag read becomes a partial
//! failure and leaves everything else listed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use aws_types::sdk_config::SharedCredentialsProvider;
use xacct_aws::config::retry_config;
use xacct_aws::discovery::{Discoverer, Discovery, DiscoveryQuery, ServiceKind};

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// What the fake AWS refuses: (service as in the host name, region).
type Refusals = Vec<(&'static str, &'static str)>;

fn ec2(region: &str) -> String {
    format!(
        r#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId><ownerId>111111111111</ownerId><instancesSet><item><instanceId>i-{region}</instanceId><tagSet><item><key>Name</key><value>web-{region}</value></item></tagSet></item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#
    )
}

fn s3() -> String {
    let buckets: String = REGIONS
        .iter()
        .map(|r| format!("<Bucket><Name>reports-{r}</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate><BucketRegion>{r}</BucketRegion></Bucket>"))
        .collect();
    format!(
        r#"<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner><Buckets>{buckets}</Buckets></ListAllMyBucketsResult>"#
    )
}

fn lambda_arn(region: &str) -> String {
    format!("arn:aws:lambda:{region}:111111111111:function:builder-{region}")
}

fn lambda(region: &str) -> String {
    serde_json::json!({"Functions": [{"FunctionName": format!("builder-{region}"), "FunctionArn": lambda_arn(region)}]}).to_string()
}

fn tagging(region: &str) -> String {
    serde_json::json!({
        "PaginationToken": "",
        "ResourceTagMappingList": [
            {"ResourceARN": lambda_arn(region), "Tags": [{"Key": "project", "Value": "xacct-demo"}]},
            {"ResourceARN": format!("arn:aws:s3:::reports-{region}"), "Tags": [{"Key": "project", "Value": "xacct-demo"}]}
        ]
    })
    .to_string()
}

/// The error each protocol sends for a refusal.
fn refusal(service: &str) -> (u16, String) {
    match service {
        "ec2" => (
            403,
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>injected</Message></Error></Errors><RequestID>r</RequestID></Response>".to_owned(),
        ),
        _ => (
            400,
            r#"{"__type":"AccessDeniedException","Message":"injected"}"#.to_owned(),
        ),
    }
}

/// Runs a discovery of both regions against the fake AWS; returns it with the calls made.
async fn discover(services: Vec<ServiceKind>, refused: Refusals) -> (Discovery, Vec<String>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
        let host = req.uri().host().unwrap_or_default().to_owned();
        let mut parts = host.split('.');
        let service = parts.next().unwrap_or_default().to_owned();
        let region = match parts.next() {
            Some(r) if r != "amazonaws" => r.to_owned(),
            _ => "us-east-1".to_owned(),
        };
        seen.lock().unwrap().push(format!("{service} {region}"));
        let (status, body) = if refused.contains(&(service.as_str(), region.as_str())) {
            refusal(&service)
        } else {
            let body = match service.as_str() {
                "ec2" => ec2(&region),
                "s3" => s3(),
                "lambda" => lambda(&region),
                "tagging" => tagging(&region),
                other => panic!("no fake for {other}"),
            };
            (200, body)
        };
        http::Response::builder()
            .status(status)
            .body(SdkBody::from(body))
            .unwrap()
    });
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .retry_config(retry_config())
        .http_client(http)
        .build();
    let query = DiscoveryQuery {
        services,
        regions: Some(REGIONS.map(str::to_owned).to_vec()),
    };
    let found = Discoverer::new(config).discover(&query).await.unwrap();
    let mut calls = calls.lock().unwrap().clone();
    calls.sort();
    (found, calls)
}

fn listed(d: &Discovery, service: ServiceKind, region: &str) -> bool {
    d.resources
        .iter()
        .any(|r| r.service == service && r.region == region)
}

fn failures(d: &Discovery) -> Vec<(ServiceKind, &str, &str)> {
    d.partial_failures
        .iter()
        .filter_map(|f| Some((f.service?, f.region.as_deref()?, f.code.as_str())))
        .collect()
}

#[tokio::test]
async fn failing_region_becomes_a_partial_failure() {
    let (found, calls) = discover(
        vec![ServiceKind::Ec2, ServiceKind::S3],
        vec![("ec2", "eu-west-1")],
    )
    .await;

    assert_eq!(
        failures(&found),
        [(ServiceKind::Ec2, "eu-west-1", "UnauthorizedOperation")]
    );
    assert!(
        listed(&found, ServiceKind::Ec2, "us-east-1"),
        "the other region's instances are there"
    );
    assert!(!listed(&found, ServiceKind::Ec2, "eu-west-1"));
    assert!(
        listed(&found, ServiceKind::S3, "eu-west-1"),
        "other services of that region are there"
    );
    assert_eq!(
        calls.iter().filter(|c| *c == "ec2 eu-west-1").count(),
        1,
        "an access error is not retried"
    );
}

#[tokio::test]
async fn failing_tag_read_keeps_the_resources_and_names_what_lacks_tags() {
    let (found, _) = discover(
        vec![ServiceKind::S3, ServiceKind::Lambda, ServiceKind::Ec2],
        vec![("tagging", "eu-west-1")],
    )
    .await;

    assert_eq!(
        failures(&found),
        [
            (ServiceKind::S3, "eu-west-1", "AccessDeniedException"),
            (ServiceKind::Lambda, "eu-west-1", "AccessDeniedException")
        ]
    );
    for service in [ServiceKind::S3, ServiceKind::Lambda, ServiceKind::Ec2] {
        assert!(
            listed(&found, service, "eu-west-1"),
            "{service} in eu-west-1 is still listed"
        );
    }
    let tags = |name: &str| {
        found
            .resources
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.tags.get("project").cloned())
            .unwrap()
    };
    assert_eq!(
        tags("builder-us-east-1").as_deref(),
        Some("xacct-demo"),
        "the other region's tags are there"
    );
    assert_eq!(tags("builder-eu-west-1"), None);
}
