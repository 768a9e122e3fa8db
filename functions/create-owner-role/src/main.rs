//! create-owner-role: the owner-side role that grants the requestor exactly the chosen
//! actions, in this account or in a member account of the organization.

use lambda_http::{Error, service_fn};
use xacct_api::create_owner_role::{
    DEFAULT_MAX_GRANT_DAYS, Deps, handle, random_external_ids, system_clock,
};
use xacct_api::hub::hub_from_env;
use xacct_api::runtime::env;
use xacct_aws::iam::IamRoleStore;
use xacct_aws::identity::AccountLookup;
use xacct_aws::resources::SdkResourceDirectory;
use xacct_policy::deployment::Deployment;

#[tokio::main]
async fn main() -> Result<(), Error> {
    xacct_api::runtime::init_tracing();
    let config = xacct_aws::config::load().await;
    let max_grant_days = match env("XACCT_MAX_GRANT_DAYS") {
        Some(days) => days.trim().parse()?,
        None => DEFAULT_MAX_GRANT_DAYS,
    };
    let stack_name = env("XACCT_STACK_NAME");
    let home = Deps {
        roles: IamRoleStore::from_config(&config),
        resources: SdkResourceDirectory::new(config.clone()),
        account: AccountLookup::new(&config),
        permissions_boundary: xacct_api::runtime::permissions_boundary()?,
        external_ids: random_external_ids(),
        deployment: Deployment::new(stack_name.clone()),
        clock: system_clock(),
        max_grant_days,
    };
    let hub = hub_from_env(
        &config,
        home,
        Box::new(move |session, account| Deps {
            roles: IamRoleStore::from_config(&session.config),
            resources: SdkResourceDirectory::new(session.config.clone()),
            account,
            permissions_boundary: Some(session.boundary.clone()),
            external_ids: random_external_ids(),
            deployment: Deployment::new(stack_name.clone()),
            clock: system_clock(),
            max_grant_days,
        }),
    )?;
    lambda_http::run(service_fn(|req| handle(&hub, req))).await
}
