//! The tags xacct writes on the roles it manages: they record a grant's inputs, so a grant
//! can be listed, checked for drift and revoked without any other store.

/// Marks a role or instance profile as created and managed by xacct.
pub const MANAGED: &str = "xacct:managed";
/// The prefix of every tag xacct writes.
pub const PREFIX: &str = "xacct:";
pub const RESOURCE: &str = "xacct:resource";
pub const REQUESTOR: &str = "xacct:requestor";
pub const REQUESTOR_ROLE: &str = "xacct:requestor-role";
pub const MFA: &str = "xacct:mfa";
pub const ORG: &str = "xacct:org";
/// The database user an RDS grant logs in as (`rds-db:connect`).
pub const DB_USER: &str = "xacct:db-user";
/// On a requestor role: the owner role it may assume, and the service that assumes it.
pub const OWNER_ROLE: &str = "xacct:owner-role";
pub const SERVICE_PRINCIPAL: &str = "xacct:service-principal";
/// When the grant ends (RFC 3339, UTC); the trust policy enforces it.
pub const EXPIRES_AT: &str = "xacct:expires-at";
/// The caller (as the Function URL's IAM authorizer saw it) that created the role.
pub const CREATED_BY: &str = "xacct:created-by";

/// A tag value within IAM's 256-character limit.
pub fn value(s: &str) -> String {
    s.chars().take(256).collect()
}

/// A caller ARN as an IAM tag value: tag values allow letters, digits, spaces and
/// `_.:/=+-@`; anything else (a `,` in a session name) becomes `_`.
pub fn caller_tag(caller: &str) -> String {
    value(
        &caller
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_tags_keep_only_what_iam_allows_in_a_tag_value() {
        assert_eq!(
            caller_tag("arn:aws:sts::111111111111:assumed-role/Admin/a,b"),
            "arn:aws:sts::111111111111:assumed-role/Admin/a_b"
        );
        assert_eq!(value(&"x".repeat(300)).len(), 256);
    }
}
