//! Buckets encrypted with a customer managed KMS key: which object actions use the key and
//! which KMS actions they need, the statement granting them (through S3 only), and whether
//! the key's own policy lets IAM policies grant the key. SSE-S3 and the AWS managed `aws/s3`
//! key need nothing.

use crate::arn::Arn;
use crate::check::session_arn;
use crate::document::{Condition, Effect, PolicyDocument, Principal, Statement};
use crate::eval::{Context, Evaluation, Labeled, PolicySet, Request, RequestPrincipal};
use crate::ids::Partition;
use crate::validate::{Finding, Severity};

pub const DECRYPT: &str = "kms:Decrypt";
pub const GENERATE_DATA_KEY: &str = "kms:GenerateDataKey";

/// A bucket's default encryption, as far as a grant is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketEncryption {
    /// SSE-S3 (or no default encryption read): S3 holds the keys, nothing to grant.
    S3Managed,
    /// SSE-KMS with AWS's managed `aws/s3` key, whose policy lets every principal of the
    /// account that may use S3 use it: nothing to grant.
    AwsManagedKey,
    /// SSE-KMS (or DSSE-KMS) with a customer managed key.
    CustomerKey(KmsKey),
}

/// A customer managed key a bucket encrypts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    /// As the bucket's settings name it: a key ID, key ARN, alias name or alias ARN.
    pub configured: String,
    /// The key's ARN (an alias resolved); `None` when it could not be resolved.
    pub arn: Option<Arn>,
    pub policy: KeyPolicy,
}

/// The key's policy, when it could be read (`kms:GetKeyPolicy` works only in the key's
/// account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPolicy {
    Read(PolicyDocument),
    NotRead(String),
}

/// Object actions that use the bucket's key, and the KMS actions each needs: reads decrypt;
/// writes make a data key, and decrypt too for multipart uploads (S3 User Guide, "Using
/// server-side encryption with AWS KMS keys").
const KEY_USE: &[(&str, &[&str])] = &[
    ("s3:GetObject", &[DECRYPT]),
    ("s3:GetObjectVersion", &[DECRYPT]),
    ("s3:PutObject", &[DECRYPT, GENERATE_DATA_KEY]),
];

/// The KMS actions an S3 action needs on the bucket's key (none for most actions).
pub fn key_actions_for(s3_action: &str) -> &'static [&'static str] {
    KEY_USE
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(s3_action))
        .map_or(&[], |(_, kms)| kms)
}

/// The KMS actions a set of granted S3 actions needs, sorted, each once.
pub fn key_actions<'a>(granted: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = granted
        .into_iter()
        .flat_map(key_actions_for)
        .map(|a| (*a).to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn dns_suffix(partition: Partition) -> &'static str {
    match partition {
        Partition::AwsCn => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

/// `kms:ViaService` for S3 in the bucket's region (`s3.us-east-1.amazonaws.com`).
pub fn via_s3(partition: Partition, region: &str) -> String {
    ["s3.", region, ".", dns_suffix(partition)].concat()
}

fn via_s3_condition(partition: Partition, region: &str) -> Condition {
    let mut c = Condition::default();
    c.insert(
        "StringEquals",
        "kms:ViaService",
        vec![via_s3(partition, region)],
    );
    c
}

/// The role's statement for the key: only the KMS actions its object actions need, only
/// through S3 in the bucket's region.
pub fn key_statement(key: &Arn, region: &str, actions: Vec<String>) -> Statement {
    Statement {
        condition: via_s3_condition(key.partition(), region),
        ..Statement::allow("KmsKeyViaS3", actions, vec![key.to_string()])
    }
}

/// The statement a key's administrator adds to the key policy so the role may use the key
/// through S3 (and nothing else): it names the role, so no other IAM policy of the account
/// gains the key.
pub fn key_policy_statement(role: &Arn, region: &str, actions: Vec<String>) -> Statement {
    Statement {
        sid: Some("AllowXacctGrantViaS3".to_owned()),
        effect: Effect::Allow,
        principal: Some(Principal::aws(role.to_string())),
        action: Some(actions),
        resource: Some(vec!["*".to_owned()]),
        condition: via_s3_condition(role.partition(), region),
        ..Statement::default()
    }
}

/// How AWS decides one use of the key by a session of the role through S3: the key policy
/// must allow it, itself or by letting IAM policies (the role's) grant it.
pub fn key_use(
    key: &Arn,
    key_policy: &PolicyDocument,
    role: &Arn,
    identity: &[Labeled<'_>],
    region: &str,
    action: &str,
) -> Option<Evaluation> {
    let session = session_arn(role, "xacct-check")?;
    let set = PolicySet {
        identity: identity.to_vec(),
        resource: Some(Labeled {
            label: "key policy",
            document: key_policy,
        }),
        resource_account: Some(key.account().to_owned()),
        ..PolicySet::default()
    };
    let context = Context::new()
        .with("aws:PrincipalArn", role.to_string())
        .with("kms:ViaService", via_s3(key.partition(), region))
        .with("kms:CallerAccount", role.account());
    let request = Request::new(RequestPrincipal::Aws(session), action, &key.to_string())
        .with_context(context);
    Some(crate::eval::evaluate(&set, &request))
}

fn statement_json(st: Statement) -> String {
    serde_json::to_string(&st).unwrap_or_default()
}

/// What a grant of `granted` S3 actions on a bucket encrypted as `encryption` must be told:
/// a key in another account, a key policy that does not let the role use the key, a key
/// xacct cannot resolve or read. `identity` is the role's policy as it will be.
pub fn findings<'a>(
    encryption: &BucketEncryption,
    granted: impl IntoIterator<Item = &'a str>,
    role: &Arn,
    identity: &[Labeled<'_>],
    region: &str,
) -> Vec<Finding> {
    let BucketEncryption::CustomerKey(key) = encryption else {
        return Vec::new();
    };
    let needed = key_actions(granted);
    if needed.is_empty() {
        return Vec::new();
    }
    let warning = |code: &'static str, message| Finding {
        severity: Severity::Warning,
        code: code.into(),
        message,
        statement: None,
    };
    let Some(arn) = &key.arn else {
        return vec![warning(
            "KMS_KEY_NOT_RESOLVED",
            format!(
                "the bucket encrypts objects with KMS key `{}`, which xacct cannot resolve to a key ARN: no KMS statement is granted, so {} will fail until the role may use the key",
                key.configured,
                needed.join(", ")
            ),
        )];
    };
    let add = statement_json(key_policy_statement(role, region, needed.clone()));
    if arn.account() != role.account() {
        return vec![warning(
            "KMS_KEY_IN_OTHER_ACCOUNT",
            format!(
                "the bucket encrypts objects with KMS key `{arn}` of account `{}`: the role's policy grants {} on it, and the key's owner must also allow the role in the key policy, for example with {add}",
                arn.account(),
                needed.join(", ")
            ),
        )];
    }
    match &key.policy {
        KeyPolicy::NotRead(why) => vec![warning(
            "KMS_KEY_POLICY_NOT_READ",
            format!(
                "xacct cannot read the key policy of `{arn}` ({why}): if it does not let IAM policies grant the key, add {add}"
            ),
        )],
        KeyPolicy::Read(policy) => {
            let refused: Vec<String> = needed
                .iter()
                .filter(|action| {
                    key_use(arn, policy, role, identity, region, action)
                        .is_some_and(|e| !e.allowed())
                })
                .map(|action| format!("`{action}`"))
                .collect();
            if refused.is_empty() {
                return Vec::new();
            }
            vec![warning(
                "KMS_KEY_POLICY_DOES_NOT_ALLOW",
                format!(
                    "the key policy of `{arn}` neither allows the role nor lets IAM policies grant the key (no statement for the account root or the role), so it refuses {}: object reads and writes fail with AccessDenied until the key's administrator adds {add}",
                    refused.join(", ")
                ),
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Arn {
        "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            .parse()
            .unwrap()
    }

    fn role() -> Arn {
        "arn:aws:iam::111111111111:role/xacct/grant"
            .parse()
            .unwrap()
    }

    fn role_policy(actions: &[&str]) -> PolicyDocument {
        PolicyDocument::new(vec![key_statement(
            &key(),
            "us-east-1",
            actions.iter().map(|a| (*a).to_owned()).collect(),
        )])
    }

    fn encrypted(policy: &str) -> BucketEncryption {
        BucketEncryption::CustomerKey(KmsKey {
            configured: "alias/reports".into(),
            arn: Some(key()),
            policy: KeyPolicy::Read(PolicyDocument::from_json(policy).unwrap()),
        })
    }

    const DELEGATING: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}"#;
    const ADMIN_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeyAdmins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}"#;

    #[test]
    fn reads_decrypt_and_writes_also_make_data_keys() {
        assert_eq!(key_actions(["s3:GetObject"]), [DECRYPT]);
        assert_eq!(
            key_actions(["s3:PutObject", "s3:GetObject"]),
            [DECRYPT, GENERATE_DATA_KEY]
        );
        assert!(key_actions(["s3:ListBucket", "s3:GetBucketTagging"]).is_empty());
    }

    #[test]
    fn the_key_statement_works_only_through_s3_in_the_buckets_region() {
        let doc = role_policy(&[DECRYPT, GENERATE_DATA_KEY]);
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"KmsKeyViaS3","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}"#
        );
        assert!(crate::validate::permissions_policy(&doc).is_empty());
        assert_eq!(
            via_s3(Partition::AwsCn, "cn-north-1"),
            "s3.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_key_policy_that_delegates_to_iam_lets_the_role_use_the_key() {
        let policy = role_policy(&[DECRYPT]);
        let identity = [Labeled {
            label: "xacct-grant",
            document: &policy,
        }];
        let f = findings(
            &encrypted(DELEGATING),
            ["s3:GetObject"],
            &role(),
            &identity,
            "us-east-1",
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_key_policy_without_delegation_is_a_finding_with_the_statement_to_add() {
        let policy = role_policy(&[DECRYPT, GENERATE_DATA_KEY]);
        let identity = [Labeled {
            label: "xacct-grant",
            document: &policy,
        }];
        let f = findings(
            &encrypted(ADMIN_ONLY),
            ["s3:GetObject", "s3:PutObject"],
            &role(),
            &identity,
            "us-east-1",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "KMS_KEY_POLICY_DOES_NOT_ALLOW");
        let add = r#"{"Sid":"AllowXacctGrantViaS3","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/xacct/grant"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}"#;
        assert!(f[0].message.contains(add), "{}", f[0].message);
        assert!(f[0].message.contains(&key().to_string()));
        // The statement it asks for is enough on its own.
        let fixed = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, add);
        let fixed = PolicyDocument::from_json(&fixed).unwrap();
        assert!(
            key_use(&key(), &fixed, &role(), &identity, "us-east-1", DECRYPT)
                .unwrap()
                .allowed()
        );
        // ... and only through S3 in the bucket's region.
        assert!(
            !key_use(&key(), &fixed, &role(), &identity, "eu-west-1", DECRYPT)
                .unwrap()
                .allowed()
        );
    }

    #[test]
    fn sse_s3_aws_managed_keys_and_non_object_actions_need_nothing() {
        let policy = PolicyDocument::new(Vec::new());
        let identity = [Labeled {
            label: "xacct-grant",
            document: &policy,
        }];
        for enc in [BucketEncryption::S3Managed, BucketEncryption::AwsManagedKey] {
            assert!(findings(&enc, ["s3:GetObject"], &role(), &identity, "us-east-1").is_empty());
        }
        assert!(
            findings(
                &encrypted(ADMIN_ONLY),
                ["s3:ListBucket"],
                &role(),
                &identity,
                "us-east-1"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_key_in_another_account_or_unresolved_is_reported() {
        let policy = PolicyDocument::new(Vec::new());
        let identity = [Labeled {
            label: "xacct-grant",
            document: &policy,
        }];
        let other = BucketEncryption::CustomerKey(KmsKey {
            configured: "arn:aws:kms:us-east-1:333333333333:key/abc".into(),
            arn: Some(
                "arn:aws:kms:us-east-1:333333333333:key/abc"
                    .parse()
                    .unwrap(),
            ),
            policy: KeyPolicy::NotRead("AccessDeniedException".into()),
        });
        let f = findings(&other, ["s3:GetObject"], &role(), &identity, "us-east-1");
        assert_eq!(f[0].code, "KMS_KEY_IN_OTHER_ACCOUNT");
        assert!(f[0].message.contains("`333333333333`"), "{}", f[0].message);
        let unresolved = BucketEncryption::CustomerKey(KmsKey {
            configured: "alias/gone".into(),
            arn: None,
            policy: KeyPolicy::NotRead("NotFoundException".into()),
        });
        let f = findings(
            &unresolved,
            ["s3:PutObject"],
            &role(),
            &identity,
            "us-east-1",
        );
        assert_eq!(f[0].code, "KMS_KEY_NOT_RESOLVED");
    }
}
