//! Trust policies: who may assume a role. Cross-account trust names the requestor account's
//! root with conditions (the requestor role through `aws:PrincipalArn`, so the role need not
//! exist yet; `sts:ExternalId`; optionally MFA and an organization); requestor roles trust a
//! service principal. Also the requestor role's own permissions: `sts:AssumeRole` on exactly
//! the owner role.

use crate::arn::Arn;
use crate::document::{PolicyDocument, Principal, Statement};
use crate::expiry::Expiry;
use crate::ids::{AccountId, ExternalId, OrganizationId, Partition, ServicePrincipal};

/// Why a trust relationship cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error(
        "`{0}` is not an IAM role arn; it should look like `arn:aws:iam::222222222222:role/name`"
    )]
    NotARole(String),
    #[error(
        "role `{role}` is in account `{role_account}`, not the requestor account `{requestor}`"
    )]
    RoleAccountMismatch {
        role: String,
        role_account: String,
        requestor: String,
    },
    #[error(
        "the requestor account `{0}` is the owner account; xacct builds cross-account access only"
    )]
    SameAccount(String),
}

/// What the owner role's trust policy requires of whoever assumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossAccountTrust {
    pub partition: Partition,
    pub requestor_account: AccountId,
    /// The requestor role; it may not exist yet.
    pub requestor_role: Option<Arn>,
    pub external_id: ExternalId,
    pub require_mfa: bool,
    pub principal_org_id: Option<OrganizationId>,
    /// When the grant ends: AWS refuses `sts:AssumeRole` from then on.
    pub expires_at: Option<Expiry>,
}

/// Checks that `arn` names exactly one IAM role: `role/`, an optional path of
/// `/`-separated segments, and a valid role name. Not a user or a session, and no wildcard:
/// `role/*` would stand for every role of the account.
pub fn require_role_arn(arn: &Arn) -> Result<(), TrustError> {
    let not_a_role = || TrustError::NotARole(arn.to_string());
    if arn.service() != "iam" || arn.account_id().is_none() {
        return Err(not_a_role());
    }
    let path_and_name = arn
        .resource()
        .strip_prefix("role/")
        .ok_or_else(not_a_role)?;
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    name.parse::<crate::ids::RoleName>()
        .map_err(|_| not_a_role())?;
    // IAM paths: at most 512 characters, segments of printable ASCII; no wildcards here.
    let path_ok = path.len() <= 510
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'?')
        });
    if path.is_empty() || path_ok {
        Ok(())
    } else {
        Err(not_a_role())
    }
}

impl CrossAccountTrust {
    /// Checks the parts fit together for an owner account.
    pub fn check(&self, owner: &AccountId) -> Result<(), TrustError> {
        if &self.requestor_account == owner {
            return Err(TrustError::SameAccount(owner.to_string()));
        }
        if let Some(role) = &self.requestor_role {
            require_role_arn(role)?;
            if role.account() != self.requestor_account.as_str() {
                return Err(TrustError::RoleAccountMismatch {
                    role: role.to_string(),
                    role_account: role.account().to_owned(),
                    requestor: self.requestor_account.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The trust policy document.
    pub fn document(&self) -> PolicyDocument {
        let root = Arn::account_root(self.partition, &self.requestor_account);
        let sid = if self.requestor_role.is_some() {
            "TrustRequestorRole"
        } else {
            "TrustRequestorAccount"
        };
        let mut statement = Statement {
            sid: Some(sid.to_owned()),
            principal: Some(Principal::aws(root.to_string())),
            action: Some(vec!["sts:AssumeRole".to_owned()]),
            ..Statement::default()
        };
        let c = &mut statement.condition;
        c.insert(
            "StringEquals",
            "sts:ExternalId",
            vec![self.external_id.to_string()],
        );
        if let Some(org) = &self.principal_org_id {
            c.insert("StringEquals", "aws:PrincipalOrgID", vec![org.to_string()]);
        }
        if let Some(role) = &self.requestor_role {
            c.insert("ArnLike", "aws:PrincipalArn", vec![role.to_string()]);
        }
        if self.require_mfa {
            c.insert(
                "Bool",
                "aws:MultiFactorAuthPresent",
                vec!["true".to_owned()],
            );
        }
        if let Some(at) = self.expires_at {
            at.limit(c);
        }
        PolicyDocument::new(vec![statement])
    }
}

/// The External ID a trust policy requires (`StringEquals sts:ExternalId`), if any.
pub fn external_id(trust: &PolicyDocument) -> Option<&str> {
    trust.statements.iter().find_map(|st| {
        st.condition
            .get("StringEquals", "sts:ExternalId")
            .and_then(|v| v.first())
            .map(String::as_str)
    })
}

/// How xacct builds the trust for one service principal, and the AWS page that decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTrustRule {
    pub principal: &'static str,
    /// The service sets `aws:SourceAccount` when it assumes the role, so the trust can
    /// require it to be this account (the confused-deputy guard). Where the service does
    /// not set it, requiring it would make the role unusable.
    pub sets_source_account: bool,
    /// The AWS documentation page that says so.
    pub documented_at: &'static str,
}

/// Every service principal a requestor role may trust. `s3.amazonaws.com` is not here: S3
/// assumes customer roles only for replication and Batch Operations, which act with that
/// role's own permissions and never chain into another account's role.
pub const SERVICE_TRUST: &[ServiceTrustRule] = &[
    ServiceTrustRule {
        principal: "lambda.amazonaws.com",
        sets_source_account: false,
        documented_at: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    },
    ServiceTrustRule {
        principal: "ec2.amazonaws.com",
        sets_source_account: false,
        documented_at: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html",
    },
    ServiceTrustRule {
        principal: "ecs-tasks.amazonaws.com",
        sets_source_account: true,
        documented_at: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    },
    ServiceTrustRule {
        principal: "states.amazonaws.com",
        sets_source_account: true,
        documented_at: "https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html",
    },
    ServiceTrustRule {
        principal: "codebuild.amazonaws.com",
        sets_source_account: true,
        documented_at: "https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html",
    },
    ServiceTrustRule {
        principal: "glue.amazonaws.com",
        sets_source_account: false,
        documented_at: "https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html",
    },
    ServiceTrustRule {
        principal: "batch.amazonaws.com",
        sets_source_account: true,
        documented_at: "https://docs.aws.amazon.com/batch/latest/userguide/cross-service-confused-deputy-prevention.html",
    },
];

/// The rule for a service principal, `None` for one xacct does not allow.
pub fn service_trust_rule(principal: &ServicePrincipal) -> Option<&'static ServiceTrustRule> {
    SERVICE_TRUST
        .iter()
        .find(|r| r.principal == principal.as_str())
}

/// A trust policy that lets one AWS service assume the role, acting for `account` only
/// where the service says which account it acts for (see [`SERVICE_TRUST`]).
pub fn service_trust(principal: &ServicePrincipal, account: &AccountId) -> PolicyDocument {
    let mut statement = Statement {
        sid: Some("TrustService".to_owned()),
        principal: Some(Principal::service(principal.to_string())),
        action: Some(vec!["sts:AssumeRole".to_owned()]),
        ..Statement::default()
    };
    if service_trust_rule(principal).is_some_and(|r| r.sets_source_account) {
        statement.condition.insert(
            "StringEquals",
            "aws:SourceAccount",
            vec![account.to_string()],
        );
    }
    PolicyDocument::new(vec![statement])
}

/// Who a cross-account trust policy admits beyond what it admitted before: each entry
/// names the narrowing condition the new policy drops or changes (`aws:PrincipalArn`,
/// `aws:MultiFactorAuthPresent`, `aws:PrincipalOrgID`), with the old and new values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widening {
    pub condition_key: &'static str,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// The narrowing conditions of xacct's owner trust, with the operator each is written with.
const NARROWING: &[(&str, &str)] = &[
    ("ArnLike", "aws:PrincipalArn"),
    ("Bool", "aws:MultiFactorAuthPresent"),
    ("StringEquals", "aws:PrincipalOrgID"),
    ("DateLessThan", "aws:CurrentTime"),
];

fn narrowing_values(doc: &PolicyDocument, operator: &str, key: &str) -> Vec<String> {
    let mut values: Vec<String> = doc
        .statements
        .iter()
        .filter_map(|st| st.condition.get(operator, key))
        .flatten()
        .cloned()
        .collect();
    values.sort();
    values.dedup();
    values
}

/// How `after` admits more principals than `before`: a narrowing condition that `before`
/// had and `after` drops or changes. Changing the External ID or the actions is not a
/// widening of who is trusted; the requestor account itself is part of the grant's identity.
pub fn widening(before: &PolicyDocument, after: &PolicyDocument) -> Vec<Widening> {
    NARROWING
        .iter()
        .filter_map(|(operator, key)| {
            let old = narrowing_values(before, operator, key);
            let new = narrowing_values(after, operator, key);
            (!old.is_empty() && old != new).then_some(Widening {
                condition_key: key,
                before: old,
                after: new,
            })
        })
        .collect()
}

/// The requestor role's permissions: `sts:AssumeRole` on the owner role and nothing else.
pub fn assume_owner_role_policy(owner_role: &Arn) -> Result<PolicyDocument, TrustError> {
    require_role_arn(owner_role)?;
    Ok(PolicyDocument::new(vec![Statement::allow(
        "AssumeOwnerRole",
        vec!["sts:AssumeRole".to_owned()],
        vec![owner_role.to_string()],
    )]))
}

/// The policy for a requestor group or user: `sts:AssumeRole` on exactly the owner role,
/// when `require_mfa` only from an MFA-signed session, and with an `expires_at` only before
/// then (`DateLessThan aws:CurrentTime`, so AWS stops honouring it with no cleanup run).
pub fn human_assume_policy(
    owner_role: &Arn,
    require_mfa: bool,
    expires_at: Option<Expiry>,
) -> Result<PolicyDocument, TrustError> {
    let mut doc = assume_owner_role_policy(owner_role)?;
    for st in &mut doc.statements {
        if require_mfa {
            st.condition.insert(
                "Bool",
                "aws:MultiFactorAuthPresent",
                vec!["true".to_owned()],
            );
        }
        if let Some(at) = expires_at {
            at.limit(&mut st.condition);
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(role: Option<&str>, mfa: bool) -> CrossAccountTrust {
        CrossAccountTrust {
            partition: Partition::Aws,
            requestor_account: "222222222222".parse().unwrap(),
            requestor_role: role.map(|r| r.parse().unwrap()),
            external_id: "ext-123456".parse().unwrap(),
            require_mfa: mfa,
            principal_org_id: None,
            expires_at: None,
        }
    }

    #[test]
    fn role_trust_uses_root_with_principal_arn_and_external_id() {
        let t = trust(Some("arn:aws:iam::222222222222:role/app"), true);
        assert_eq!(t.check(&"111111111111".parse().unwrap()), Ok(()));
        assert_eq!(
            t.document().to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"TrustRequestorRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/app"},"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"sts:ExternalId":"ext-123456"}}}]}"#
        );
    }

    #[test]
    fn account_trust_always_has_external_id() {
        let doc = trust(None, false).document();
        assert_eq!(
            doc.statements[0]
                .condition
                .get("StringEquals", "sts:ExternalId"),
            Some(&["ext-123456".to_owned()][..])
        );
        assert_eq!(
            doc.statements[0].sid.as_deref(),
            Some("TrustRequestorAccount")
        );
    }

    #[test]
    fn checks_role_and_accounts() {
        let owner: AccountId = "111111111111".parse().unwrap();
        assert!(matches!(
            trust(Some("arn:aws:iam::333333333333:role/app"), false).check(&owner),
            Err(TrustError::RoleAccountMismatch { .. })
        ));
        assert!(matches!(
            trust(Some("arn:aws:iam::222222222222:user/bob"), false).check(&owner),
            Err(TrustError::NotARole(_))
        ));
        assert!(matches!(
            trust(None, false).check(&"222222222222".parse().unwrap()),
            Err(TrustError::SameAccount(_))
        ));
    }

    #[test]
    fn a_role_arn_names_exactly_one_role() {
        for ok in [
            "arn:aws:iam::111111111111:role/app",
            "arn:aws:iam::111111111111:role/xacct/app",
            "arn:aws:iam::111111111111:role/a/b/c/app+x=y,z.w@v-u_t",
        ] {
            assert_eq!(require_role_arn(&ok.parse().unwrap()), Ok(()), "{ok}");
        }
        for bad in [
            "arn:aws:iam::111111111111:role/*",
            "arn:aws:iam::111111111111:role/",
            "arn:aws:iam::111111111111:role/xacct/",
            "arn:aws:iam::111111111111:role//",
            "arn:aws:iam::111111111111:role/a*b",
            "arn:aws:iam::111111111111:role/x?",
            "arn:aws:iam::111111111111:role/*/app",
            "arn:aws:iam::111111111111:role/\u{e9}",
            "arn:aws:iam::111111111111:user/app",
            "arn:aws:iam:::role/app",
            "arn:aws:sts::111111111111:assumed-role/app/s",
        ] {
            assert!(require_role_arn(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn requestor_side_documents() {
        let sp: ServicePrincipal = "lambda.amazonaws.com".parse().unwrap();
        let account: AccountId = "222222222222".parse().unwrap();
        assert_eq!(
            service_trust(&sp, &account).to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"TrustService","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        );
        let owner: Arn = "arn:aws:iam::111111111111:role/xacct/r".parse().unwrap();
        assert_eq!(
            assume_owner_role_policy(&owner).unwrap().to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"AssumeOwnerRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/xacct/r"}]}"#
        );
        assert!(assume_owner_role_policy(&"arn:aws:s3:::b".parse().unwrap()).is_err());
    }

    #[test]
    fn a_persons_policy_with_an_expiry_allows_only_before_it() {
        let owner: Arn = "arn:aws:iam::111111111111:role/xacct/r".parse().unwrap();
        let at = Expiry::parse("2026-12-31T18:00:00Z").unwrap();
        let doc = human_assume_policy(&owner, true, Some(at)).unwrap();
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"AssumeOwnerRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/xacct/r","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"DateLessThan":{"aws:CurrentTime":"2026-12-31T18:00:00Z"}}}]}"#
        );
        assert_eq!(Expiry::of_document(&doc), Some(at));
        let permanent = human_assume_policy(&owner, false, None).unwrap();
        assert_eq!(permanent, assume_owner_role_policy(&owner).unwrap());
        assert_eq!(Expiry::of_document(&permanent), None);
    }

    #[test]
    fn the_evaluator_lets_a_person_assume_before_the_expiry_and_not_after() {
        use crate::eval::{Context, Labeled, PolicySet, Request, RequestPrincipal};
        let owner: Arn = "arn:aws:iam::111111111111:role/xacct/r".parse().unwrap();
        let at = Expiry::parse("2026-12-31T18:00:00Z").unwrap();
        let doc = human_assume_policy(&owner, false, Some(at)).unwrap();
        let set = PolicySet {
            identity: vec![Labeled {
                label: "xacct-assume",
                document: &doc,
            }],
            ..PolicySet::default()
        };
        let call = |now: &str| {
            let request = Request::new(
                RequestPrincipal::Aws("arn:aws:iam::222222222222:user/ana".parse().unwrap()),
                "sts:AssumeRole",
                &owner.to_string(),
            )
            .with_context(Context::new().with("aws:CurrentTime", now));
            crate::eval::evaluate_principal_side(&set, &request)
        };
        assert!(call("2026-12-31T17:59:59Z").allowed());
        let after = call("2026-12-31T18:00:00Z");
        assert!(!after.allowed(), "{after:?}");
        // No boundary is involved: nothing allows it any more.
        assert_eq!(after.reason, "no statement allows it");
        assert!(!call("2027-01-01T00:00:00Z").allowed());
    }

    #[test]
    fn services_that_set_source_account_get_the_confused_deputy_guard() {
        let account: AccountId = "222222222222".parse().unwrap();
        for (principal, guarded) in [
            ("ecs-tasks.amazonaws.com", true),
            ("states.amazonaws.com", true),
            ("codebuild.amazonaws.com", true),
            ("batch.amazonaws.com", true),
            ("lambda.amazonaws.com", false),
            ("ec2.amazonaws.com", false),
            ("glue.amazonaws.com", false),
        ] {
            let sp: ServicePrincipal = principal.parse().unwrap();
            let doc = service_trust(&sp, &account);
            assert_eq!(
                doc.statements[0]
                    .condition
                    .get("StringEquals", "aws:SourceAccount"),
                guarded.then_some(&["222222222222".to_owned()][..]),
                "{principal}"
            );
        }
    }

    #[test]
    fn every_allowed_service_cites_its_aws_page_and_s3_is_not_allowed() {
        for rule in SERVICE_TRUST {
            assert!(
                rule.documented_at
                    .starts_with("https://docs.aws.amazon.com/"),
                "{}",
                rule.principal
            );
        }
        let s3: ServicePrincipal = "s3.amazonaws.com".parse().unwrap();
        assert!(service_trust_rule(&s3).is_none());
    }

    #[test]
    fn dropping_or_changing_a_narrowing_condition_is_a_widening() {
        let narrow = trust(Some("arn:aws:iam::222222222222:role/app"), true).document();
        let wide = trust(None, false).document();
        let keys: Vec<&str> = widening(&narrow, &wide)
            .iter()
            .map(|w| w.condition_key)
            .collect();
        assert_eq!(keys, ["aws:PrincipalArn", "aws:MultiFactorAuthPresent"]);
        let other_role = trust(Some("arn:aws:iam::222222222222:role/other"), true).document();
        assert_eq!(widening(&narrow, &other_role).len(), 1);
        // Narrowing, or the same trust with a new External ID, is no widening.
        assert!(widening(&wide, &narrow).is_empty());
        let mut new_id = trust(Some("arn:aws:iam::222222222222:role/app"), true);
        new_id.external_id = "ext-999999".parse().unwrap();
        assert!(widening(&narrow, &new_id.document()).is_empty());
    }
}
