//! Proof that a grant works: both roles are read back from moto and evaluated with xacct's
//! own evaluator (moto enforces no IAM), then the owner role is really assumed with the
//! External ID and an object is read from the shared bucket with those credentials.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::json;
use xacct_e2e::{Stack, decode_policy, unique};
use xacct_policy::eval::{Context, Labeled, PolicySet, Request, RequestPrincipal, evaluate};
use xacct_policy::permissions::permissions_for;

const BUCKET: &str = "arn:aws:s3:::xacct-demo-reports";

#[tokio::test]
async fn grant_works_end_to_end() {
    let stack = Stack::load();
    let requestor_role_name = unique("e2e-app");
    let requestor_role_arn = format!("arn:aws:iam::222222222222:role/xacct/{requestor_role_name}");
    let chosen = ["s3:GetObject", "s3:ListBucket"];

    // Owner side first: the requestor role does not exist yet, and need not.
    let owner = stack
        .post("create-owner-role", &json!({"resource_arn": BUCKET, "actions": chosen, "requestor_account_id": "222222222222", "requestor_role_arn": requestor_role_arn, "role_name": unique("e2e-grant")}))
        .await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    assert!(
        owner.body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "ERROR"),
        "{}",
        owner.body
    );
    let owner_role_arn = owner.body["role_arn"].as_str().unwrap().to_owned();
    let owner_role_name = owner.body["role_name"].as_str().unwrap().to_owned();
    let external_id = owner.body["external_id"].as_str().unwrap().to_owned();

    let requestor = stack
        .post("create-requestor-resources", &json!({"owner_role_arn": owner_role_arn, "service_principal": "lambda.amazonaws.com", "role_name": requestor_role_name, "external_id": external_id}))
        .await;
    assert_eq!(requestor.status, 200, "{}", requestor.body);
    assert_eq!(requestor.body["role_arn"], requestor_role_arn);
    assert!(
        requestor.body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "ERROR"),
        "{}",
        requestor.body
    );

    // Read back what AWS (moto) holds, not what the functions answered.
    let owner_iam = stack.iam("owner").await;
    let requestor_iam = stack.iam("requestor").await;
    let trust = decode_policy(
        owner_iam
            .get_role()
            .role_name(&owner_role_name)
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .assume_role_policy_document()
            .unwrap(),
    );
    let permissions = decode_policy(
        owner_iam
            .get_role_policy()
            .role_name(&owner_role_name)
            .policy_name("xacct-grant")
            .send()
            .await
            .unwrap()
            .policy_document(),
    );
    let requestor_role = requestor_iam
        .get_role()
        .role_name(&requestor_role_name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let requestor_trust = decode_policy(requestor_role.assume_role_policy_document().unwrap());
    let requestor_policy = decode_policy(
        requestor_iam
            .get_role_policy()
            .role_name(&requestor_role_name)
            .policy_name("xacct-assume-owner-role")
            .send()
            .await
            .unwrap()
            .policy_document(),
    );

    // 1. Lambda may assume the requestor role.
    let lambda_assumes = evaluate(
        &PolicySet {
            resource: Some(Labeled {
                label: "requestor trust policy",
                document: &requestor_trust,
            }),
            resource_account: Some("222222222222".into()),
            ..PolicySet::default()
        },
        &Request::new(
            RequestPrincipal::Service("lambda.amazonaws.com".into()),
            "sts:AssumeRole",
            &requestor_role_arn,
        ),
    );
    assert!(lambda_assumes.allowed(), "{}", lambda_assumes.reason);

    // 2. A session of the requestor role may assume the owner role, only with the External ID.
    let set = PolicySet {
        identity: vec![Labeled {
            label: "requestor role policy",
            document: &requestor_policy,
        }],
        resource: Some(Labeled {
            label: "owner trust policy",
            document: &trust,
        }),
        resource_account: Some("111111111111".into()),
        ..PolicySet::default()
    };
    let session: xacct_policy::Arn =
        format!("arn:aws:sts::222222222222:assumed-role/{requestor_role_name}/fn")
            .parse()
            .unwrap();
    let assume = |ext: Option<&str>, principal_arn: &str| {
        let mut ctx = Context::new().with("aws:PrincipalArn", principal_arn);
        if let Some(e) = ext {
            ctx = ctx.with("sts:ExternalId", e);
        }
        evaluate(
            &set,
            &Request::new(
                RequestPrincipal::Aws(session.clone()),
                "sts:AssumeRole",
                &owner_role_arn,
            )
            .with_context(ctx),
        )
    };
    let right = assume(Some(&external_id), &requestor_role_arn);
    assert!(right.allowed(), "{}", right.reason);
    assert!(!assume(Some("wrong-external-id"), &requestor_role_arn).allowed());
    assert!(!assume(None, &requestor_role_arn).allowed());
    assert!(
        !assume(
            Some(&external_id),
            "arn:aws:iam::222222222222:role/xacct/someone-else"
        )
        .allowed()
    );
    // The requestor role may assume nothing else.
    let other = evaluate(
        &set,
        &Request::new(
            RequestPrincipal::Aws(session.clone()),
            "sts:AssumeRole",
            "arn:aws:iam::111111111111:role/Admin",
        )
        .with_context(
            Context::new()
                .with("sts:ExternalId", external_id.as_str())
                .with("aws:PrincipalArn", requestor_role_arn.as_str()),
        ),
    );
    assert!(!other.allowed());

    // 3. The owner role allows exactly the chosen actions on the bucket, nothing else.
    let owner_session: xacct_policy::Arn =
        format!("arn:aws:sts::111111111111:assumed-role/{owner_role_name}/s")
            .parse()
            .unwrap();
    let owner_set = PolicySet {
        identity: vec![Labeled {
            label: "owner role policy",
            document: &permissions,
        }],
        ..PolicySet::default()
    };
    let catalog = permissions_for(&BUCKET.parse().unwrap()).unwrap();
    let mut allowed = Vec::new();
    for entry in &catalog.actions {
        let name = entry.action.full_name();
        let target = entry.resource().replace('*', "reports/2026-q3.csv");
        let decision = evaluate(
            &owner_set,
            &Request::new(RequestPrincipal::Aws(owner_session.clone()), &name, &target),
        );
        if decision.allowed() {
            allowed.push(name);
        }
    }
    allowed.sort();
    assert_eq!(allowed, chosen);

    // 4. Really assume the owner role in moto with the External ID and read an object.
    let config = assume_from_requestor(&stack, &owner_role_arn, &external_id, "e2e").await;
    let who = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some("111111111111"));
    let object = aws_sdk_s3::Client::new(&config)
        .get_object()
        .bucket("xacct-demo-reports")
        .key("reports/2026-q3.csv")
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert!(!bytes.is_empty());
}

/// Proof that a grant on an SSE-KMS bucket works: the owner role's policy carries the key,
/// xacct's evaluator allows `kms:Decrypt` through S3 under the key's own policy, and the
/// requestor really assumes the owner role in moto and reads an object of the bucket.
#[tokio::test]
async fn grant_on_an_sse_kms_bucket_reads_an_object_with_the_assumed_role() {
    use aws_sdk_s3::types::ServerSideEncryption;
    use xacct_e2e::{encrypted_bucket, kms_key, path_style_s3};

    let stack = Stack::load();
    let (key_arn, alias) = kms_key(&stack, None).await;
    let bucket = encrypted_bucket(&stack, ServerSideEncryption::AwsKms, Some(&alias), None).await;
    let owner = stack
        .post("create-owner-role", &json!({"resource_arn": format!("arn:aws:s3:::{bucket}"), "actions": ["s3:GetObject"], "requestor_account_id": "222222222222", "role_name": unique("e2e-kms")}))
        .await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    let role_arn = owner.body["role_arn"].as_str().unwrap().to_owned();
    let role_name = owner.body["role_name"].as_str().unwrap().to_owned();
    let external_id = owner.body["external_id"].as_str().unwrap().to_owned();

    // The policy as moto holds it, and the key policy as KMS holds it.
    let permissions = decode_policy(
        stack
            .iam("owner")
            .await
            .get_role_policy()
            .role_name(&role_name)
            .policy_name("xacct-grant")
            .send()
            .await
            .unwrap()
            .policy_document(),
    );
    let key_policy = xacct_policy::PolicyDocument::from_json(
        &aws_sdk_kms::Client::new(&stack.sdk("owner").await)
            .get_key_policy()
            .key_id(&key_arn)
            .policy_name("default")
            .send()
            .await
            .unwrap()
            .policy
            .unwrap(),
    )
    .unwrap();
    let role: xacct_policy::Arn = role_arn.parse().unwrap();
    let identity = [Labeled {
        label: "xacct-grant",
        document: &permissions,
    }];
    let decrypt = xacct_policy::encryption::key_use(
        &key_arn.parse().unwrap(),
        &key_policy,
        &role,
        &identity,
        "us-east-1",
        "kms:Decrypt",
    )
    .unwrap();
    assert!(decrypt.allowed(), "{}", decrypt.reason);

    // Assume the owner role from the requestor account and read the object.
    let config = assume_from_requestor(&stack, &role_arn, &external_id, "e2e-kms").await;
    let object = path_style_s3(&config)
        .get_object()
        .bucket(&bucket)
        .key("data.csv")
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], b"a,b\n1,2\n");
}

/// An SDK configuration acting as `role_arn` in moto, assumed from the requestor account
/// with the External ID.
async fn assume_from_requestor(
    stack: &Stack,
    role_arn: &str,
    external_id: &str,
    session: &str,
) -> aws_config::SdkConfig {
    let creds = aws_sdk_sts::Client::new(&stack.sdk("requestor").await)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .external_id(external_id)
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(stack.file["moto_url"].as_str().unwrap())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            None,
            "assumed",
        ))
        .load()
        .await
}
