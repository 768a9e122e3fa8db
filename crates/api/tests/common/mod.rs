//! What the handler tests share: the handlers' dependencies over the in-memory IAM of
//! account 111111111111, alone or as a hub, and reading an answer.

#![allow(dead_code)]

use lambda_http::Body;
use serde_json::Value;
use xacct_api::hub::Hub;
use xacct_api::lifecycle::IamDeps;
use xacct_aws::fake::FakeIam;
use xacct_aws::identity::AccountLookup;

/// A configuration that is never called: every account is known.
pub fn config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

/// Account `id`, known without asking STS.
pub fn lookup(id: &str) -> AccountLookup {
    AccountLookup::known(&config(), id.parse().unwrap())
}

/// The IAM-only dependencies in `account`.
pub fn deps_in(account: &str) -> IamDeps<FakeIam> {
    IamDeps {
        roles: FakeIam::new(account),
        account: lookup(account),
        permissions_boundary: None,
    }
}

pub fn deps() -> IamDeps<FakeIam> {
    deps_in("111111111111")
}

/// `home` served by a deployment that is not a hub, in account 111111111111.
pub fn alone<D>(home: D) -> Hub<D> {
    Hub::alone(home, lookup("111111111111"))
}

/// An answer's status and JSON body (`null` when it has no text body).
pub fn json_of(r: lambda_http::Response<Body>) -> (u16, Value) {
    let status = r.status().as_u16();
    let body = match r.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (status, body)
}
