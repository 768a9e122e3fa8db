//! The resource's own side of a grant, which an identity policy alone cannot fix: the KMS key
//! an S3 bucket encrypts with, the bucket or Lambda function policy (a `Deny` there beats any
//! grant), and an RDS database's IAM logins. The facts are read by crates/aws; here they
//! become the extra statements a grant needs, findings, and per-action verdicts.

use std::collections::{BTreeMap, BTreeSet};

use crate::arn::Arn;
use crate::check::{ActionCheck, session_arn};
use crate::database::{self, DatabaseFacts};
use crate::document::{Effect, PolicyDocument, Statement};
use crate::encryption::{self, BucketEncryption, KeyPolicy};
use crate::eval::{Context, Decision, Evaluation, Labeled, PolicySet, Request, RequestPrincipal};
use crate::grant::{GrantError, GrantOptions, least_privilege_policy};
use crate::permissions::ResourcePermissions;
use crate::validate::{Finding, Severity};

/// What the owner account says about the resource of a grant. Only what applies to its kind
/// is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSide {
    /// The bucket's region (an S3 ARN names none).
    pub region: Option<String>,
    /// The bucket's default encryption.
    pub encryption: Option<BucketEncryption>,
    /// The bucket policy or the Lambda function policy, if it has one.
    pub policy: Option<PolicyDocument>,
    /// The DB instance or cluster.
    pub database: Option<DatabaseFacts>,
    /// What could not be read, each as `Operation (why)`.
    pub unread: Vec<String>,
}

impl ResourceSide {
    /// The region the resource's service works in for it.
    fn region<'a>(&'a self, resource: &'a Arn) -> &'a str {
        self.region.as_deref().unwrap_or(resource.region())
    }
}

/// What the resource policy of this kind of resource is called.
pub fn policy_label(resource: &Arn) -> &'static str {
    match resource.service() {
        "s3" => "bucket policy",
        "lambda" => "function policy",
        _ => "resource policy",
    }
}

/// The statements a grant of `granted` (the resource's own actions) needs besides them: the
/// bucket's KMS key for object reads and writes, and the login as `dbuser`.
pub fn extra_statements<S: AsRef<str>>(
    resource: &Arn,
    side: &ResourceSide,
    granted: &[S],
    dbuser: Option<&Arn>,
) -> Vec<Statement> {
    let mut out = Vec::new();
    if let Some(BucketEncryption::CustomerKey(key)) = &side.encryption
        && let Some(arn) = &key.arn
    {
        let actions = encryption::key_actions(granted.iter().map(AsRef::as_ref));
        if !actions.is_empty() {
            out.push(encryption::key_statement(
                arn,
                side.region(resource),
                actions,
            ));
        }
    }
    out.extend(dbuser.map(database::connect_statement));
    out
}

/// The grant's permissions policy: the least-privilege statements for the resource's own
/// `requested` actions (none when the grant only logs in to a database) and `extra`.
pub fn grant_policy<S: AsRef<str>>(
    permissions: &ResourcePermissions,
    requested: &[S],
    options: GrantOptions,
    extra: Vec<Statement>,
) -> Result<PolicyDocument, GrantError> {
    let mut statements = if requested.is_empty() && !extra.is_empty() {
        Vec::new()
    } else {
        least_privilege_policy(permissions, requested, options)?.statements
    };
    statements.extend(extra);
    let document = PolicyDocument::new(statements);
    let size = document.size();
    if size > crate::document::INLINE_ROLE_POLICY_LIMIT {
        return Err(GrantError::TooLarge {
            size,
            limit: crate::document::INLINE_ROLE_POLICY_LIMIT,
        });
    }
    Ok(document)
}

/// The request context a session of the owner role has when the requestor uses it: its role
/// and account, over TLS as every SDK sends. Keys xacct cannot know (the owner's
/// organization, the caller's IP or VPC endpoint) are absent, as AWS leaves them when they
/// do not apply.
fn requestor_context(role: &Arn) -> Context {
    Context::new()
        .with("aws:PrincipalArn", role.to_string())
        .with("aws:SecureTransport", "true")
}

/// A session of the role doing `action` on `target`, with the resource's policy in the
/// evaluation.
fn with_resource_policy(
    resource: &Arn,
    policy: &PolicyDocument,
    role: &Arn,
    identity: &[Labeled<'_>],
    action: &str,
    target: &str,
) -> Option<Evaluation> {
    let session = session_arn(role, "xacct-check")?;
    let set = PolicySet {
        identity: identity.to_vec(),
        resource: Some(Labeled {
            label: policy_label(resource),
            document: policy,
        }),
        resource_account: Some(role.account().to_owned()),
        ..PolicySet::default()
    };
    let request = Request::new(RequestPrincipal::Aws(session), action, target)
        .with_context(requestor_context(role));
    Some(crate::eval::evaluate(&set, &request))
}

/// The opposite of a condition operator, for saying what a request must meet to escape a
/// `Deny`: `StringNotEquals` -> `StringEquals`, `IpAddress` -> `NotIpAddress`.
fn opposite(operator: &str) -> String {
    let (set, rest) = operator
        .split_once(':')
        .map_or(("", operator), |(s, r)| (s, r));
    let prefix = if set.is_empty() {
        String::new()
    } else {
        format!("{set}:")
    };
    let (name, if_exists) = match rest.strip_suffix("IfExists") {
        Some(n) => (n, "IfExists"),
        None => (rest, ""),
    };
    let flipped = if name == "NotIpAddress" {
        "IpAddress".to_owned()
    } else if name == "IpAddress" {
        "NotIpAddress".to_owned()
    } else if name.contains("Not") {
        name.replacen("Not", "", 1)
    } else if let Some(kind) = ["String", "Numeric", "Date", "Arn"]
        .iter()
        .find(|k| name.starts_with(**k))
    {
        format!("{kind}Not{}", name.strip_prefix(kind).unwrap_or_default())
    } else {
        return format!("not {operator}");
    };
    format!("{prefix}{flipped}{if_exists}")
}

/// What the requestor must meet so a `Deny` statement does not apply: one of its conditions
/// failing (they are ANDed), each said the other way round.
fn escape(st: &Statement) -> String {
    let mut ways = Vec::new();
    for (operator, keys) in &st.condition.0 {
        for (key, values) in keys {
            let (op, values) = match operator.as_str() {
                "Bool" | "Null" => (
                    operator.clone(),
                    values
                        .iter()
                        .map(|v| {
                            if v.eq_ignore_ascii_case("true") {
                                "false".to_owned()
                            } else {
                                "true".to_owned()
                            }
                        })
                        .collect(),
                ),
                _ => (opposite(operator), values.clone()),
            };
            let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            ways.push(format!("`{key}` {op} {}", values.join(" or ")));
        }
    }
    match ways.len() {
        0 => "nothing the requestor can meet: the statement has no condition".to_owned(),
        1 => ways.concat(),
        _ => format!("one of {}", ways.join("; ")),
    }
}

/// Every (action, ARN) the role's policy allows on the resource itself, the pairs a resource
/// policy can block.
fn granted_pairs(resource: &Arn, role_policy: &PolicyDocument) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for st in &role_policy.statements {
        if st.effect != Effect::Allow {
            continue;
        }
        for action in st.action.iter().flatten() {
            let same_service = action
                .split_once(':')
                .is_some_and(|(service, _)| service.eq_ignore_ascii_case(resource.service()));
            for target in st.resource.iter().flatten() {
                if same_service && target != "*" {
                    out.push((action.clone(), target.clone()));
                }
            }
        }
    }
    out
}

/// Each statement of the resource policy that denies the role something it is granted: one
/// finding naming the statement, the actions it blocks and the condition to meet.
pub fn resource_policy_findings(
    resource: &Arn,
    policy: &PolicyDocument,
    role: &Arn,
    role_policy: &PolicyDocument,
) -> Vec<Finding> {
    let identity = [Labeled {
        label: "xacct-grant",
        document: role_policy,
    }];
    let label = policy_label(resource);
    let mut blocked: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (action, target) in granted_pairs(resource, role_policy) {
        let Some(e) = with_resource_policy(resource, policy, role, &identity, &action, &target)
        else {
            continue;
        };
        if e.decision != Decision::ExplicitDeny {
            continue;
        }
        for matched in e.statements.iter().filter(|s| s.policy == label) {
            blocked
                .entry(matched.index)
                .or_default()
                .insert(action.clone());
        }
    }
    blocked
        .into_iter()
        .filter_map(|(index, actions)| {
            let st = policy.statements.get(index)?;
            let name = st.sid.clone().unwrap_or_else(|| format!("#{}", index + 1));
            let actions: Vec<String> = actions.iter().map(|a| format!("`{a}`")).collect();
            Some(Finding {
                severity: Severity::Warning,
                code: "RESOURCE_POLICY_DENIES".into(),
                message: format!(
                    "the {label} of `{resource}` denies the role {} in statement `{name}`: the grant does not work for them unless the requestor's calls meet {}",
                    actions.join(", "),
                    escape(st)
                ),
                statement: Some(name),
            })
        })
        .collect()
}

/// Everything the resource's side says about a grant whose role will hold `role_policy`.
pub fn findings(
    resource: &Arn,
    side: &ResourceSide,
    role: &Arn,
    role_policy: &PolicyDocument,
    connects: bool,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = side
        .unread
        .iter()
        .map(|what| Finding {
            severity: Severity::Warning,
            code: "RESOURCE_SIDE_NOT_READ".into(),
            message: format!(
                "xacct cannot read {what} of `{resource}`: what it would say about the grant is not checked"
            ),
            statement: None,
        })
        .collect();
    if let Some(enc) = &side.encryption {
        let identity = [Labeled {
            label: "xacct-grant",
            document: role_policy,
        }];
        let granted = granted_pairs(resource, role_policy);
        out.extend(encryption::findings(
            enc,
            granted.iter().map(|(a, _)| a.as_str()),
            role,
            &identity,
            side.region(resource),
        ));
    }
    if let Some(policy) = &side.policy {
        out.extend(resource_policy_findings(
            resource,
            policy,
            role,
            role_policy,
        ));
    }
    if connects && side.database.as_ref().is_some_and(|d| !d.iam_auth) {
        out.push(database::iam_auth_off(resource));
    }
    out
}

/// The per-action verdicts of `check-owner-role` with the resource's side in them: the
/// resource policy's denies, the KMS key for object reads and writes, and the database login.
pub fn side_checks(
    resource: &Arn,
    side: &ResourceSide,
    role: &Arn,
    identity: &[Labeled<'_>],
    checks: &mut Vec<ActionCheck>,
    dbuser: Option<&Arn>,
) {
    for check in checks.iter_mut() {
        if check.decision != Decision::Allow {
            continue;
        }
        if let Some(policy) = &side.policy
            && let Some(e) = with_resource_policy(
                resource,
                policy,
                role,
                identity,
                &check.action,
                &check.resource,
            )
            && !e.allowed()
        {
            check.decision = e.decision;
            check.statement = e.statements.first().map(ToString::to_string);
            continue;
        }
        if let Some(BucketEncryption::CustomerKey(key)) = &side.encryption
            && let (Some(arn), KeyPolicy::Read(policy)) = (&key.arn, &key.policy)
        {
            for kms_action in encryption::key_actions_for(&check.action) {
                let refused = encryption::key_use(
                    arn,
                    policy,
                    role,
                    identity,
                    side.region(resource),
                    kms_action,
                )
                .filter(|e| !e.allowed());
                if let Some(e) = refused {
                    check.decision = e.decision;
                    check.statement = Some(format!(
                        "`{kms_action}` on the bucket's key `{arn}`: {}",
                        e.reason
                    ));
                    break;
                }
            }
        }
    }
    if let Some(dbuser) = dbuser {
        let session = session_arn(role, "xacct-check");
        let e = session.map(|session| {
            let set = PolicySet {
                identity: identity.to_vec(),
                ..PolicySet::default()
            };
            let request = Request::new(
                RequestPrincipal::Aws(session),
                database::CONNECT,
                &dbuser.to_string(),
            )
            .with_context(Context::new().with("aws:PrincipalArn", role.to_string()));
            crate::eval::evaluate(&set, &request)
        });
        let auth_off = side.database.as_ref().is_some_and(|d| !d.iam_auth);
        checks.push(ActionCheck {
            action: database::CONNECT.to_owned(),
            resource: dbuser.to_string(),
            decision: match &e {
                Some(e) if e.allowed() && auth_off => Decision::ImplicitDeny,
                Some(e) => e.decision,
                None => Decision::ImplicitDeny,
            },
            statement: if auth_off {
                Some(format!(
                    "IAM database authentication is off on `{resource}`"
                ))
            } else {
                e.and_then(|e| e.statements.first().map(ToString::to_string))
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::KmsKey;
    use crate::permissions::permissions_for;

    fn bucket() -> Arn {
        "arn:aws:s3:::reports".parse().unwrap()
    }

    fn role() -> Arn {
        "arn:aws:iam::111111111111:role/xacct/grant"
            .parse()
            .unwrap()
    }

    fn key() -> Arn {
        "arn:aws:kms:us-east-1:111111111111:key/k-1"
            .parse()
            .unwrap()
    }

    fn kms_side(key_policy: &str) -> ResourceSide {
        ResourceSide {
            region: Some("us-east-1".into()),
            encryption: Some(BucketEncryption::CustomerKey(KmsKey {
                configured: "alias/reports".into(),
                arn: Some(key()),
                policy: KeyPolicy::Read(PolicyDocument::from_json(key_policy).unwrap()),
            })),
            ..ResourceSide::default()
        }
    }

    fn policy_for(side: &ResourceSide, actions: &[&str]) -> PolicyDocument {
        let p = permissions_for(&bucket()).unwrap();
        let extra = extra_statements(&bucket(), side, actions, None);
        grant_policy(&p, actions, GrantOptions::default(), extra).unwrap()
    }

    const ORG_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"],"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}},{"Sid":"DenyPlainHttp","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::reports/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

    #[test]
    fn object_reads_and_writes_on_an_sse_kms_bucket_carry_the_key() {
        let side = kms_side(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        let read = policy_for(&side, &["s3:GetObject", "s3:ListBucket"]);
        let kms = read.statements.last().unwrap();
        assert_eq!(kms.action.as_deref().unwrap(), ["kms:Decrypt"]);
        assert_eq!(kms.resource.as_deref().unwrap(), [key().to_string()]);
        let write = policy_for(&side, &["s3:PutObject"]);
        assert_eq!(
            write.statements.last().unwrap().action.as_deref().unwrap(),
            ["kms:Decrypt", "kms:GenerateDataKey"]
        );
        assert!(findings(&bucket(), &side, &role(), &write, false).is_empty());
        // A grant without object actions carries no key.
        assert_eq!(policy_for(&side, &["s3:ListBucket"]).statements.len(), 1);
    }

    #[test]
    fn sse_s3_and_the_aws_managed_key_add_no_kms_statement() {
        for enc in [BucketEncryption::S3Managed, BucketEncryption::AwsManagedKey] {
            let side = ResourceSide {
                encryption: Some(enc),
                ..ResourceSide::default()
            };
            let doc = policy_for(&side, &["s3:GetObject", "s3:PutObject"]);
            assert!(!doc.to_json().contains("kms:"), "{}", doc.to_json());
        }
    }

    #[test]
    fn a_key_policy_without_delegation_makes_object_actions_not_work_in_the_check() {
        let side = kms_side(
            r#"{"Statement":[{"Sid":"Admins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        let doc = policy_for(&side, &["s3:GetObject", "s3:ListBucket"]);
        let found = findings(&bucket(), &side, &role(), &doc, false);
        let codes: Vec<&str> = found.iter().map(|f| f.code.as_ref()).collect();
        assert_eq!(codes, ["KMS_KEY_POLICY_DOES_NOT_ALLOW"]);
        let checks = bucket_checks(&side, &doc);
        let get = checks.iter().find(|c| c.action == "s3:GetObject").unwrap();
        assert_eq!(get.decision, Decision::ImplicitDeny);
        assert!(
            get.statement.as_deref().unwrap().contains("kms:Decrypt"),
            "{get:?}"
        );
        let list = checks.iter().find(|c| c.action == "s3:ListBucket").unwrap();
        assert_eq!(list.decision, Decision::Allow);
    }

    /// Each action's verdict on the bucket for the role with `doc`, the resource's side
    /// weighed in.
    fn bucket_checks(side: &ResourceSide, doc: &PolicyDocument) -> Vec<crate::check::ActionCheck> {
        let identity = [Labeled {
            label: "xacct-grant",
            document: doc,
        }];
        let mut checks = crate::check::action_checks(
            &role(),
            &identity,
            None,
            &permissions_for(&bucket()).unwrap(),
        );
        side_checks(&bucket(), side, &role(), &identity, &mut checks, None);
        checks
    }

    #[test]
    fn a_bucket_policy_deny_names_its_sid_the_blocked_actions_and_the_condition() {
        let side = ResourceSide {
            policy: Some(PolicyDocument::from_json(ORG_DENY).unwrap()),
            ..ResourceSide::default()
        };
        let doc = policy_for(&side, &["s3:GetObject", "s3:ListBucket"]);
        let f = findings(&bucket(), &side, &role(), &doc, false);
        // DenyPlainHttp does not apply: the requestor's SDK calls over TLS.
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, "RESOURCE_POLICY_DENIES");
        assert_eq!(f[0].statement.as_deref(), Some("DenyOutsideOrg"));
        assert_eq!(
            f[0].message,
            "the bucket policy of `arn:aws:s3:::reports` denies the role `s3:GetObject`, `s3:ListBucket` in statement `DenyOutsideOrg`: the grant does not work for them unless the requestor's calls meet `aws:PrincipalOrgID` StringEquals `o-abcdefghij`"
        );
        let checks = bucket_checks(&side, &doc);
        let get = checks.iter().find(|c| c.action == "s3:GetObject").unwrap();
        assert_eq!(get.decision, Decision::ExplicitDeny);
        assert_eq!(
            get.statement.as_deref(),
            Some("bucket policy statement `DenyOutsideOrg`")
        );
    }

    #[test]
    fn a_function_policy_deny_is_read_the_same_way() {
        let function: Arn = "arn:aws:lambda:us-east-1:111111111111:function:resize"
            .parse()
            .unwrap();
        let policy = PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111111111111:function:resize","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#).unwrap();
        let p = permissions_for(&function).unwrap();
        let doc = least_privilege_policy(
            &p,
            &["lambda:InvokeFunction", "lambda:GetFunction"],
            GrantOptions::default(),
        )
        .unwrap();
        let f = resource_policy_findings(&function, &policy, &role(), &doc);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].statement.as_deref(), Some("#1"));
        assert!(
            f[0].message
                .contains("`lambda:InvokeFunction` in statement `#1`"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message
                .contains("`aws:SourceIp` IpAddress `10.0.0.0/8`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn conditions_are_said_the_other_way_round() {
        assert_eq!(opposite("StringNotEquals"), "StringEquals");
        assert_eq!(opposite("StringEquals"), "StringNotEquals");
        assert_eq!(opposite("NotIpAddress"), "IpAddress");
        assert_eq!(opposite("ArnNotLikeIfExists"), "ArnLikeIfExists");
        assert_eq!(
            opposite("ForAnyValue:StringLike"),
            "ForAnyValue:StringNotLike"
        );
        assert_eq!(opposite("DateGreaterThan"), "DateNotGreaterThan");
    }

    #[test]
    fn a_db_login_is_granted_alone_and_reported_when_iam_auth_is_off() {
        let db: Arn = "arn:aws:rds:us-east-1:111111111111:db:orders"
            .parse()
            .unwrap();
        let side = ResourceSide {
            database: Some(DatabaseFacts {
                resource_id: "db-ABC".into(),
                iam_auth: false,
                endpoint: Some("orders.x.us-east-1.rds.amazonaws.com".into()),
                port: Some(5432),
            }),
            ..ResourceSide::default()
        };
        let dbuser = database::dbuser_arn(&db, "db-ABC", &"app".parse().unwrap()).unwrap();
        let p = permissions_for(&db).unwrap();
        let none: [&str; 0] = [];
        let doc = grant_policy(
            &p,
            &none,
            GrantOptions::default(),
            extra_statements(&db, &side, &none, Some(&dbuser)),
        )
        .unwrap();
        assert_eq!(doc.statements.len(), 1);
        let found = findings(&db, &side, &role(), &doc, true);
        let codes: Vec<&str> = found.iter().map(|f| f.code.as_ref()).collect();
        assert_eq!(codes, ["IAM_DATABASE_AUTHENTICATION_OFF"]);
        let identity = [Labeled {
            label: "xacct-grant",
            document: &doc,
        }];
        let mut checks = Vec::new();
        side_checks(&db, &side, &role(), &identity, &mut checks, Some(&dbuser));
        assert_eq!(checks[0].action, "rds-db:connect");
        assert_eq!(checks[0].decision, Decision::ImplicitDeny);
        let on = ResourceSide {
            database: side.database.clone().map(|d| DatabaseFacts {
                iam_auth: true,
                ..d
            }),
            ..side
        };
        let mut checks = Vec::new();
        side_checks(&db, &on, &role(), &identity, &mut checks, Some(&dbuser));
        assert_eq!(checks[0].decision, Decision::Allow);
        assert!(
            grant_policy(&p, &none, GrantOptions::default(), Vec::new()).is_err(),
            "no actions at all is still refused"
        );
    }
}
