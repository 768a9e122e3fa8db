//! What the handler tests share: the handlers' dependencies over the in-memory IAM of
//! account 111111111111.

use xacct_api::lifecycle::IamDeps;
use xacct_aws::fake::FakeIam;
use xacct_aws::identity::AccountLookup;

pub fn deps() -> IamDeps<FakeIam> {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    IamDeps {
        roles: FakeIam::new("111111111111"),
        account: AccountLookup::known(&config, "111111111111".parse().unwrap()),
        permissions_boundary: None,
    }
}
