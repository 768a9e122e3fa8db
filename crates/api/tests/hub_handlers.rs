//! The owner handlers as an organization hub, over in-memory member accounts: without
//! `account_id` nothing changes and nothing is assumed; with it the same code runs in the
//! member with its boundary; a member whose spoke is unreachable is a 403 naming
//! `account_id` (or, across accounts, a partial failure); discovery across accounts is
//! bounded, marks each resource with its account and pages as one account does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{FakeOrg, alone, deps_in, json_of, lookup};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use xacct_api::create_owner_role::{Deps, handle as create};
use xacct_api::hub::{Hub, Organization};
use xacct_api::lifecycle::IamDeps;
use xacct_api::list_accounts::handle as list_accounts;
use xacct_api::list_resources::{Deps as DiscoveryDeps, handle as list_resources};
use xacct_api::owner_lifecycle::{list_grants, revoke_grant};
use xacct_aws::AwsError;
use xacct_aws::discovery::{
    Discover, DiscoveredResource, Discovery, DiscoveryQuery, ResourceKind, ServiceKind,
};
use xacct_aws::fake::{FakeIam, FakeResources};
use xacct_aws::roles::{RoleState, RoleStore};
use xacct_policy::AccountId;
use xacct_policy::deployment::Deployment;
use xacct_policy::resource_side::ResourceSide;

const HUB: &str = "111111111111";
const MEMBER: &str = "333333333333";
const OTHER: &str = "444444444444";
/// In the organization, without the spoke role.
const BARE: &str = "555555555555";
/// Outside the listed organization, its spoke role assumed but unproven.
const GHOST: &str = "666666666666";
const BOUNDARY: &str = "arn:aws:iam::333333333333:policy/xacct-spoke/xacct-boundary";

/// The dependencies of [`MEMBER`] in a test hub.
fn member_of<D>(hub: &Hub<D, FakeOrg<D>>) -> &D {
    &hub.organization.as_ref().unwrap().members.members[&MEMBER.parse::<AccountId>().unwrap()]
}

fn hub<D>(home: D, members: Vec<(&str, D)>) -> Hub<D, FakeOrg<D>> {
    Hub {
        home,
        account: lookup(HUB),
        organization: Some(Organization {
            id: "o-abcdefghij".parse().unwrap(),
            members: FakeOrg::new(&[HUB, MEMBER, OTHER, BARE], members),
            concurrency: 2,
        }),
    }
}

const CALLER: &str = "arn:aws:sts::111111111111:assumed-role/admin/alice";

/// A request signed by [`CALLER`].
fn signed(req: Request) -> Request {
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription,
        ApiGatewayV2httpRequestContext,
    };
    use lambda_http::request::RequestContext;
    let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
    iam.user_arn = Some(CALLER.into());
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.iam = Some(iam);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    req.with_request_context(RequestContext::ApiGatewayV2(context))
}

fn get(query: &[(&str, &str)]) -> Request {
    let params: HashMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    signed(
        lambda_http::http::Request::builder()
            .method("GET")
            .uri("/")
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(params),
    )
}

fn post(body: &Value) -> Request {
    signed(
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::Text(body.to_string()))
            .unwrap(),
    )
}

fn create_deps(account: &str, boundary: Option<&str>) -> Deps<FakeIam, FakeResources> {
    Deps {
        roles: FakeIam::new(account),
        resources: FakeResources::with_side(ResourceSide::default()),
        account: lookup(account),
        permissions_boundary: boundary.map(|b| b.parse().unwrap()),
        external_ids: Box::new(|| "ext-0123456789".parse().unwrap()),
        deployment: Deployment::new(None),
        clock: Box::new(|| 1_800_000_000),
        max_grant_days: 90,
    }
}

fn grant_request(resource: &str, account_id: Option<&str>) -> Value {
    let mut body = json!({
        "resource_arn": resource,
        "actions": ["s3:GetObject"],
        "requestor_account_id": "222222222222",
    });
    if let Some(account) = account_id {
        body["account_id"] = json!(account);
    }
    body
}

#[tokio::test]
async fn without_account_id_the_hub_works_in_its_own_account_and_assumes_nothing() {
    let hub = hub(
        create_deps(HUB, None),
        vec![(MEMBER, create_deps(MEMBER, Some(BOUNDARY)))],
    );
    let (status, body) = json_of(
        create(&hub, post(&grant_request("arn:aws:s3:::hub-reports", None)))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body["role_arn"]
            .as_str()
            .unwrap()
            .contains(":111111111111:")
    );
    let org = &hub.organization.as_ref().unwrap().members;
    assert_eq!(org.opened(), []);
    assert_eq!(member_of(&hub).roles.role_names().len(), 0);
    // The hub's own account named is the same: no session.
    let (status, _) = json_of(
        create(
            &hub,
            post(&grant_request("arn:aws:s3:::hub-reports", Some(HUB))),
        )
        .await
        .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(org.opened(), []);
}

#[tokio::test]
async fn a_grant_in_a_member_lands_there_with_the_members_boundary_and_names_the_caller() {
    let hub = hub(
        create_deps(HUB, None),
        vec![(MEMBER, create_deps(MEMBER, Some(BOUNDARY)))],
    );
    let (status, body) = json_of(
        create(
            &hub,
            post(&grant_request("arn:aws:s3:::member-reports", Some(MEMBER))),
        )
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let role_arn = body["role_arn"].as_str().unwrap();
    assert!(
        role_arn.starts_with("arn:aws:iam::333333333333:role/xacct/"),
        "{role_arn}"
    );
    assert_eq!(hub.home.roles.role_names().len(), 0);
    let org = &hub.organization.as_ref().unwrap().members;
    let member = member_of(&hub);
    let name = member.roles.role_names().pop().unwrap();
    let state: RoleState = member.roles.get_role(&name).await.unwrap().unwrap();
    assert_eq!(state.permissions_boundary.as_deref(), Some(BOUNDARY));
    assert_eq!(
        org.opened(),
        [(
            MEMBER.to_owned(),
            "xacct@assumed-role.admin.alice".to_owned()
        )]
    );
    // A resource of another account than the one named is refused as before.
    let mut of_the_hub = grant_request(
        "arn:aws:lambda:us-east-1:111111111111:function:f",
        Some(MEMBER),
    );
    of_the_hub["actions"] = json!(["lambda:InvokeFunction"]);
    let (status, body) = json_of(create(&hub, post(&of_the_hub)).await.unwrap());
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("ResourceInOtherAccount"))
    );
}

#[tokio::test]
async fn the_spoke_role_and_its_boundary_are_never_granted_in_a_member() {
    let hub = hub(
        create_deps(HUB, None),
        vec![(MEMBER, create_deps(MEMBER, Some(BOUNDARY)))],
    );
    for resource in [
        "arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke",
        BOUNDARY,
        "arn:aws:s3:::*",
    ] {
        let (status, body) = json_of(
            create(&hub, post(&grant_request(resource, Some(MEMBER))))
                .await
                .unwrap(),
        );
        assert_eq!(status, 400, "{resource}: {body}");
        assert_eq!(body["error"]["field"], "resource_arn", "{body}");
    }
    assert!(member_of(&hub).roles.writes().is_empty());
}

#[tokio::test]
async fn a_member_whose_spoke_role_is_missing_is_a_403_naming_account_id() {
    let hub = hub(deps_in(HUB), vec![(MEMBER, deps_in(MEMBER))]);
    let (status, body) = json_of(
        list_grants(&hub, get(&[("account_id", BARE)]))
            .await
            .unwrap(),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "SpokeRoleUnreachable");
    assert_eq!(body["error"]["field"], "account_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`555555555555`"),
        "{body}"
    );
}

#[tokio::test]
async fn another_account_outside_hub_mode_or_a_bad_one_is_a_400_naming_account_id() {
    let hub = alone(deps_in(HUB));
    for (account, code) in [(MEMBER, "NotAHub"), ("3333", "InvalidAccountId")] {
        let (status, body) = json_of(
            list_grants(&hub, get(&[("account_id", account)]))
                .await
                .unwrap(),
        );
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            (&body["error"]["code"], &body["error"]["field"]),
            (&json!(code), &json!("account_id"))
        );
        let (status, body) = json_of(
            revoke_grant(
                &hub,
                post(&json!({"role_arn": "arn:aws:iam::333333333333:role/xacct/g", "account_id": account})),
            )
            .await
            .unwrap(),
        );
        assert_eq!((status, &body["error"]["code"]), (400, &json!(code)));
    }
}

#[tokio::test]
async fn revoke_in_a_member_leaves_the_spoke_role_alone() {
    let member = deps_in(MEMBER);
    member.roles.insert_role(
        // Even tagged as xacct's, a role outside `/xacct/` is not one xacct revokes.
        RoleState {
            name: "xacct-spoke".into(),
            arn: "arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke".into(),
            role_id: "AROASPOKE".into(),
            path: "/xacct-spoke/".into(),
            description: None,
            max_session_duration: 3600,
            trust_policy: None,
            tags: BTreeMap::from([("xacct:managed".to_owned(), "true".to_owned())]),
            permissions_boundary: None,
            created: None,
            last_used: None,
        },
        BTreeMap::new(),
    );
    let hub = hub(deps_in(HUB), vec![(MEMBER, member)]);
    let (status, body) = json_of(
        revoke_grant(
            &hub,
            post(&json!({
                "role_arn": "arn:aws:iam::333333333333:role/xacct-spoke/xacct-spoke",
                "account_id": MEMBER,
            })),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("RoleNotManaged")),
        "{body}"
    );
    assert!(member_of(&hub).roles.writes().is_empty());
}

#[tokio::test]
async fn list_grants_in_a_member_reads_that_members_roles() {
    let hub = hub(deps_in(HUB), vec![(MEMBER, deps_in(MEMBER))]);
    let (status, body) = json_of(
        list_grants(&hub, get(&[("account_id", MEMBER)]))
            .await
            .unwrap(),
    );
    assert_eq!((status, &body["grants"]), (200, &json!([])), "{body}");
    assert!(!member_of(&hub).roles.calls().is_empty());
    assert!(hub.home.roles.calls().is_empty());
}

/// One account's resources, found after a short wait, counting discoveries in flight.
struct FakeDiscover {
    account: &'static str,
    buckets: usize,
    /// Discoveries started, of this account.
    started: AtomicUsize,
    in_flight: &'static AtomicUsize,
    most: &'static AtomicUsize,
}

impl Discover for FakeDiscover {
    async fn discover(&self, _: &DiscoveryQuery) -> Result<Discovery, AwsError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(Discovery {
            resources: (0..self.buckets)
                .map(|i| DiscoveredResource {
                    arn: format!("arn:aws:s3:::{}-bucket-{i:02}", self.account),
                    service: ServiceKind::S3,
                    resource_type: ResourceKind::Bucket,
                    name: format!("{}-bucket-{i:02}", self.account),
                    region: "us-east-1".into(),
                    tags: BTreeMap::new(),
                    account_id: None,
                })
                .collect(),
            partial_failures: Vec::new(),
        })
    }
}

fn discovery_hub() -> Hub<DiscoveryDeps<FakeDiscover>, FakeOrg<DiscoveryDeps<FakeDiscover>>> {
    let in_flight: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let most: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let deps = |account: &'static str, buckets| DiscoveryDeps {
        discoverer: FakeDiscover {
            account,
            buckets,
            started: AtomicUsize::new(0),
            in_flight,
            most,
        },
    };
    let mut hub = hub(
        deps(HUB, 2),
        vec![(MEMBER, deps(MEMBER, 3)), (OTHER, deps(OTHER, 4))],
    );
    if let Some(org) = hub.organization.as_mut() {
        org.members
            .unproven
            .insert(GHOST.parse().unwrap(), deps(GHOST, 5));
    }
    hub
}

#[tokio::test]
async fn discovery_reads_alongside_the_spoke_proof_and_drops_an_unproven_accounts_reads() {
    let hub = discovery_hub();
    let accounts = format!("{MEMBER},{GHOST}");
    let (status, body) = json_of(
        list_resources(&hub, get(&[("account_id", accounts.as_str())]))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let org = &hub.organization.as_ref().unwrap().members;
    let ghost = &org.unproven[&GHOST.parse::<AccountId>().unwrap()];
    // The ghost's discovery ran (it did not wait for the proof), and none of it is answered.
    assert_eq!(ghost.discoverer.started.load(Ordering::SeqCst), 1);
    let resources = body["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 3, "{body}");
    assert!(
        resources.iter().all(|r| r["account_id"] == MEMBER),
        "{body}"
    );
    assert_eq!(
        (
            &body["partial_failures"][0]["account_id"],
            &body["partial_failures"][0]["code"]
        ),
        (&json!(GHOST), &json!("SpokeRoleUnreachable"))
    );
    // Alone, the unproven account is the answer's 403, with nothing of it answered.
    let (status, body) = json_of(
        list_resources(&hub, get(&[("account_id", GHOST)]))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, &body["error"]["field"], body.get("resources")),
        (403, &json!("account_id"), None),
        "{body}"
    );
}

#[tokio::test]
async fn discovery_of_all_accounts_marks_each_resource_and_reports_the_unreachable_one() {
    let hub = discovery_hub();
    let (status, body) = json_of(
        list_resources(&hub, get(&[("account_id", "all")]))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let mut per_account: BTreeMap<String, usize> = BTreeMap::new();
    for r in body["resources"].as_array().unwrap() {
        let account = r["account_id"].as_str().unwrap();
        assert!(r["name"].as_str().unwrap().starts_with(account), "{r}");
        *per_account.entry(account.to_owned()).or_default() += 1;
    }
    assert_eq!(
        per_account,
        BTreeMap::from([
            (HUB.to_owned(), 2),
            (MEMBER.to_owned(), 3),
            (OTHER.to_owned(), 4)
        ])
    );
    assert_eq!(
        body["partial_failures"],
        json!([{
            "account_id": BARE,
            "code": "SpokeRoleUnreachable",
            "message": body["partial_failures"][0]["message"],
        }])
    );
    // Two accounts at a time, as configured; the hub's own needs no session.
    assert_eq!(hub.home.discoverer.most.load(Ordering::SeqCst), 2);
    let org = &hub.organization.as_ref().unwrap().members;
    assert!(org.opened().iter().all(|(a, _)| a != HUB));
}

#[tokio::test]
async fn discovery_across_accounts_pages_walk_everything_once() {
    let hub = discovery_hub();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![
            ("account_id", format!("{MEMBER},{OTHER}")),
            ("limit", "2".into()),
        ];
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = json_of(list_resources(&hub, get(&q)).await.unwrap());
        assert_eq!(status, 200, "{body}");
        seen.extend(
            body["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["arn"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (7, 7), "{seen:?}");
}

#[tokio::test]
async fn discovery_without_account_id_is_the_hubs_own_unmarked() {
    let hub = discovery_hub();
    let (status, body) = json_of(list_resources(&hub, get(&[])).await.unwrap());
    assert_eq!(status, 200, "{body}");
    let resources = body["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    assert!(resources.iter().all(|r| r.get("account_id").is_none()));
    assert!(
        hub.organization
            .as_ref()
            .unwrap()
            .members
            .opened()
            .is_empty()
    );
    // One unreachable account asked for alone is the answer's error.
    let (status, body) = json_of(
        list_resources(&hub, get(&[("account_id", BARE)]))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, &body["error"]["field"]),
        (403, &json!("account_id"))
    );
}

#[tokio::test]
async fn list_accounts_says_which_spokes_are_reachable() {
    let hub = hub((), vec![(MEMBER, ()), (OTHER, ())]);
    let (status, body) = json_of(list_accounts(&hub, get(&[])).await.unwrap());
    assert_eq!(status, 200, "{body}");
    let spokes: Vec<(&str, &str)> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap(),
                a["spoke"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spokes,
        [
            (HUB, "hub"),
            (MEMBER, "reachable"),
            (OTHER, "reachable"),
            (BARE, "unreachable")
        ]
    );
    assert_eq!(body["accounts"][3]["reason"], "SpokeRoleUnreachable");
    assert_eq!(body["organization_id"], "o-abcdefghij");
    // Not a hub: a 409 that says so.
    let (status, body) = json_of(list_accounts(&alone(()), get(&[])).await.unwrap());
    assert_eq!((status, &body["error"]["code"]), (409, &json!("NotAHub")));
}

#[test]
fn member_dependencies_get_the_members_boundary() {
    // What the functions build in a member from its session (no network: nothing is called).
    let session = xacct_aws::organization::SpokeSession {
        config: common::config(),
        boundary: BOUNDARY.parse().unwrap(),
    };
    let deps = IamDeps::in_member(&session, lookup(MEMBER));
    assert_eq!(
        deps.permissions_boundary.map(|b| b.to_string()).as_deref(),
        Some(BOUNDARY)
    );
}
