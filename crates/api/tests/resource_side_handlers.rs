//! create-owner-role, check-owner-role and list-permissions over in-memory IAM and a resource
//! directory that answers what the resource's side says: a bucket's KMS key and policy, a
//! database's IAM logins.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use xacct_api::create_owner_role::{CreateOwnerRoleRequest, Deps, create_owner_role};
use xacct_api::lifecycle::IamDeps;
use xacct_api::list_permissions::permissions_response;
use xacct_api::owner_lifecycle::{CheckOwnerRoleRequest, check_grant};
use xacct_aws::fake::{FakeIam, FakeResources};
use xacct_aws::identity::AccountLookup;
use xacct_aws::roles::RoleStore;
use xacct_policy::PolicyDocument;
use xacct_policy::database::DatabaseFacts;
use xacct_policy::deployment::Deployment;
use xacct_policy::encryption::{BucketEncryption, KeyPolicy, KmsKey};
use xacct_policy::eval::Decision;
use xacct_policy::permissions::permissions_for;
use xacct_policy::resource_side::ResourceSide;

const OWNER: &str = "111111111111";
const BUCKET: &str = "arn:aws:s3:::reports";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const DB: &str = "arn:aws:rds:us-east-1:111111111111:db:orders";

fn account() -> AccountLookup {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    AccountLookup::known(&config, OWNER.parse().unwrap())
}

fn deps(side: ResourceSide) -> Deps<FakeIam, FakeResources> {
    Deps {
        roles: FakeIam::new(OWNER),
        resources: FakeResources::with_side(side),
        account: account(),
        permissions_boundary: None,
        external_ids: Box::new(|| "ext-0123456789".parse().unwrap()),
        deployment: Deployment::new(None),
        clock: Box::new(|| 1_800_000_000),
        max_grant_days: 90,
    }
}

fn request(resource: &str, actions: &[&str]) -> CreateOwnerRoleRequest {
    CreateOwnerRoleRequest {
        resource_arn: resource.into(),
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        requestor_account_id: "222222222222".into(),
        requestor_role_arn: Some("arn:aws:iam::222222222222:role/app".into()),
        ..CreateOwnerRoleRequest::default()
    }
}

fn kms_bucket(key_policy: &str) -> ResourceSide {
    ResourceSide {
        region: Some("us-east-1".into()),
        encryption: Some(BucketEncryption::CustomerKey(KmsKey {
            configured: "alias/reports".into(),
            arn: Some(KEY.parse().unwrap()),
            policy: KeyPolicy::Read(PolicyDocument::from_json(key_policy).unwrap()),
        })),
        ..ResourceSide::default()
    }
}

const DELEGATING: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}"#;
const ADMIN_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeyAdmins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}"#;

fn kms_statement(policy: &PolicyDocument) -> Option<&xacct_policy::Statement> {
    policy
        .statements
        .iter()
        .find(|s| s.sid.as_deref() == Some("KmsKeyViaS3"))
}

async fn check(
    deps: &Deps<FakeIam, FakeResources>,
    role_arn: &str,
) -> xacct_api::owner_lifecycle::CheckOwnerRoleResponse {
    // The role as create-owner-role wrote it, in an IAM of the check's own.
    let name = role_arn.rsplit('/').next().unwrap();
    let state = deps.roles.get_role(name).await.unwrap().unwrap();
    let policy = deps
        .roles
        .get_role_policy(name, "xacct-grant")
        .await
        .unwrap()
        .unwrap();
    let roles = FakeIam::new(OWNER);
    roles.insert_role(state, BTreeMap::from([("xacct-grant".to_owned(), policy)]));
    let iam = IamDeps {
        roles,
        account: account(),
        permissions_boundary: None,
    };
    check_grant(
        &iam,
        &deps.resources,
        "test",
        xacct_api::runtime::now_epoch(),
        CheckOwnerRoleRequest {
            role_arn: role_arn.into(),
            principal_arn: "arn:aws:iam::222222222222:role/app".into(),
            external_id: Some("ext-0123456789".into()),
            mfa: false,
            account_id: None,
        },
    )
    .await
    .unwrap()
}

fn decision(
    checked: &xacct_api::owner_lifecycle::CheckOwnerRoleResponse,
    action: &str,
) -> Decision {
    checked
        .actions
        .iter()
        .find(|a| a.action == action)
        .unwrap()
        .decision
}

#[tokio::test]
async fn an_sse_kms_bucket_grant_carries_the_key_for_reads_and_writes_and_works() {
    let deps = deps(kms_bucket(DELEGATING));
    let read = create_owner_role(&deps, "test", request(BUCKET, &["s3:GetObject"]))
        .await
        .unwrap();
    let kms = kms_statement(&read.permissions_policy).unwrap();
    assert_eq!(kms.action.as_deref().unwrap(), ["kms:Decrypt"]);
    assert_eq!(kms.resource.as_deref().unwrap(), [KEY]);
    assert_eq!(
        kms.condition.get("StringEquals", "kms:ViaService"),
        Some(&["s3.us-east-1.amazonaws.com".to_owned()][..])
    );
    assert!(read.findings.is_empty(), "{:?}", read.findings);
    let write = create_owner_role(
        &deps,
        "test",
        request(BUCKET, &["s3:GetObject", "s3:PutObject"]),
    )
    .await
    .unwrap();
    assert_eq!(
        kms_statement(&write.permissions_policy)
            .unwrap()
            .action
            .as_deref()
            .unwrap(),
        ["kms:Decrypt", "kms:GenerateDataKey"]
    );
    let checked = check(&deps, &write.role_arn).await;
    assert_eq!(decision(&checked, "s3:GetObject"), Decision::Allow);
    assert_eq!(decision(&checked, "s3:PutObject"), Decision::Allow);
    assert!(checked.drift.is_empty(), "{:?}", checked.drift);
}

#[tokio::test]
async fn sse_s3_and_aws_managed_key_buckets_get_no_kms_statement() {
    for encryption in [BucketEncryption::S3Managed, BucketEncryption::AwsManagedKey] {
        let deps = deps(ResourceSide {
            encryption: Some(encryption),
            ..ResourceSide::default()
        });
        let answer = create_owner_role(&deps, "test", request(BUCKET, &["s3:GetObject"]))
            .await
            .unwrap();
        assert!(
            !answer.permissions_policy.to_json().contains("kms:"),
            "{}",
            answer.permissions_policy.to_json()
        );
    }
}

#[tokio::test]
async fn a_key_policy_without_delegation_is_a_finding_and_the_check_says_objects_do_not_work() {
    let deps = deps(kms_bucket(ADMIN_ONLY));
    let answer = create_owner_role(
        &deps,
        "test",
        request(BUCKET, &["s3:GetObject", "s3:PutObject", "s3:ListBucket"]),
    )
    .await
    .unwrap();
    let finding = answer
        .findings
        .iter()
        .find(|f| f.code == "KMS_KEY_POLICY_DOES_NOT_ALLOW")
        .unwrap();
    assert!(finding.message.contains(KEY), "{}", finding.message);
    assert!(
        finding.message.contains(&format!(
            r#"{{"Sid":"AllowXacctGrantViaS3","Effect":"Allow","Principal":{{"AWS":"{}"}}"#,
            answer.role_arn
        )),
        "{}",
        finding.message
    );
    let checked = check(&deps, &answer.role_arn).await;
    assert_eq!(decision(&checked, "s3:GetObject"), Decision::ImplicitDeny);
    assert_eq!(decision(&checked, "s3:PutObject"), Decision::ImplicitDeny);
    assert_eq!(decision(&checked, "s3:ListBucket"), Decision::Allow);
}

#[tokio::test]
async fn a_bucket_policy_deny_on_the_org_is_a_finding_naming_its_sid_and_in_the_check() {
    let deps = deps(ResourceSide {
        region: Some("us-east-1".into()),
        encryption: Some(BucketEncryption::S3Managed),
        policy: Some(
            PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#)
                .unwrap(),
        ),
        ..ResourceSide::default()
    });
    let answer = create_owner_role(
        &deps,
        "test",
        request(BUCKET, &["s3:GetObject", "s3:ListBucket"]),
    )
    .await
    .unwrap();
    let finding = answer
        .findings
        .iter()
        .find(|f| f.code == "RESOURCE_POLICY_DENIES")
        .unwrap();
    assert_eq!(finding.statement.as_deref(), Some("DenyOutsideOrg"));
    assert!(
        finding.message.contains("`s3:GetObject`")
            && !finding.message.contains("s3:ListBucket")
            && finding
                .message
                .contains("`aws:PrincipalOrgID` StringEquals `o-abcdefghij`"),
        "{}",
        finding.message
    );
    let checked = check(&deps, &answer.role_arn).await;
    let get = checked
        .actions
        .iter()
        .find(|a| a.action == "s3:GetObject")
        .unwrap();
    assert_eq!(get.decision, Decision::ExplicitDeny);
    assert_eq!(
        get.statement.as_deref(),
        Some("bucket policy statement `DenyOutsideOrg`")
    );
    assert_eq!(decision(&checked, "s3:ListBucket"), Decision::Allow);
}

fn database(iam_auth: bool) -> ResourceSide {
    ResourceSide {
        database: Some(DatabaseFacts {
            resource_id: "db-ABCDEFGHIJKL".into(),
            iam_auth,
            endpoint: Some("orders.abc.us-east-1.rds.amazonaws.com".into()),
            port: Some(5432),
        }),
        ..ResourceSide::default()
    }
}

#[tokio::test]
async fn rds_db_connect_is_granted_on_exactly_the_dbuser_and_the_hand_off_gets_a_token() {
    let deps = deps(database(true));
    let answer = create_owner_role(
        &deps,
        "test",
        CreateOwnerRoleRequest {
            db_user: Some("app_reader".into()),
            ..request(DB, &["rds-db:connect", "rds:DescribeDBInstances"])
        },
    )
    .await
    .unwrap();
    let connect = answer
        .permissions_policy
        .statements
        .iter()
        .find(|s| s.sid.as_deref() == Some("RdsDbConnect"))
        .unwrap();
    assert_eq!(
        connect.resource.as_deref().unwrap(),
        ["arn:aws:rds-db:us-east-1:111111111111:dbuser:db-ABCDEFGHIJKL/app_reader"]
    );
    assert!(answer.actions.contains(&"rds-db:connect".to_owned()));
    assert!(answer.findings.is_empty(), "{:?}", answer.findings);
    assert_eq!(
        answer.handoff.db_auth_token_command.as_deref(),
        Some(
            format!(
                "aws rds generate-db-auth-token --hostname orders.abc.us-east-1.rds.amazonaws.com --port 5432 --region us-east-1 --username app_reader --profile {}",
                answer.handoff.profile_name
            )
            .as_str()
        )
    );
    let checked = check(&deps, &answer.role_arn).await;
    assert_eq!(decision(&checked, "rds-db:connect"), Decision::Allow);
    assert!(checked.drift.is_empty(), "{:?}", checked.drift);
    // The login alone is a grant too.
    let alone = create_owner_role(
        &deps,
        "test",
        CreateOwnerRoleRequest {
            db_user: Some("app_reader".into()),
            role_name: Some("login-only".into()),
            ..request(DB, &["rds-db:connect"])
        },
    )
    .await
    .unwrap();
    assert_eq!(alone.actions, ["rds-db:connect"]);
}

#[tokio::test]
async fn iam_auth_off_is_a_finding_saying_how_to_turn_it_on() {
    let deps = deps(database(false));
    let answer = create_owner_role(
        &deps,
        "test",
        CreateOwnerRoleRequest {
            db_user: Some("app_reader".into()),
            ..request(DB, &["rds-db:connect"])
        },
    )
    .await
    .unwrap();
    let finding = answer
        .findings
        .iter()
        .find(|f| f.code == "IAM_DATABASE_AUTHENTICATION_OFF")
        .unwrap();
    assert!(
        finding
            .message
            .contains("--enable-iam-database-authentication"),
        "{}",
        finding.message
    );
    let checked = check(&deps, &answer.role_arn).await;
    assert_eq!(decision(&checked, "rds-db:connect"), Decision::ImplicitDeny);
}

#[tokio::test]
async fn db_user_mistakes_are_400s_naming_db_user_and_write_nothing() {
    let cases = [
        (request(DB, &["rds-db:connect"]), "MissingDbUser"),
        (
            CreateOwnerRoleRequest {
                db_user: Some("app".into()),
                ..request(DB, &["rds:DescribeDBInstances"])
            },
            "DbUserWithoutConnect",
        ),
        (
            CreateOwnerRoleRequest {
                db_user: Some("app*".into()),
                ..request(DB, &["rds-db:connect"])
            },
            "InvalidDbUser",
        ),
        (
            CreateOwnerRoleRequest {
                db_user: Some("app".into()),
                ..request(BUCKET, &["s3:GetObject"])
            },
            "DbUserNotApplicable",
        ),
    ];
    for (body, code) in cases {
        let deps = deps(database(true));
        let err = create_owner_role(&deps, "test", body).await.unwrap_err();
        assert_eq!(
            (err.status(), err.code.as_str(), err.field.as_deref()),
            (400, code, Some("db_user")),
            "{err}"
        );
        assert!(deps.roles.writes().is_empty());
    }
}

#[test]
fn list_permissions_names_the_login_and_the_actions_that_carry_the_key() {
    let db = permissions_response(&permissions_for(&DB.parse().unwrap()).unwrap(), None);
    let login = db
        .actions
        .iter()
        .find(|a| a.action == "rds-db:connect")
        .unwrap();
    assert_eq!(login.requires, ["db_user"]);
    assert!(login.resource.contains(":dbuser:"), "{}", login.resource);
    let bucket = permissions_response(&permissions_for(&BUCKET.parse().unwrap()).unwrap(), None);
    let key = |name: &str| {
        bucket
            .actions
            .iter()
            .find(|a| a.action == name)
            .unwrap()
            .key_actions
            .clone()
    };
    assert_eq!(key("s3:GetObject"), ["kms:Decrypt"]);
    assert_eq!(key("s3:PutObject"), ["kms:Decrypt", "kms:GenerateDataKey"]);
    assert!(key("s3:ListBucket").is_empty());
    assert!(!bucket.actions.iter().any(|a| a.action == "rds-db:connect"));
}
