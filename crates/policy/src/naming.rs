//! Deterministic names for the roles xacct creates: readable, unique per grant, and within
//! IAM's 64-character limit.

use crate::arn::Arn;
use crate::ids::{AccountId, RoleName, ServicePrincipal};

/// The IAM path every role xacct creates lives under.
pub const ROLE_PATH: &str = "/xacct/";
/// The start of the resource part of every role ARN xacct makes: `role` and [`ROLE_PATH`].
pub const ROLE_RESOURCE_PREFIX: &str = "role/xacct/";

/// FNV-1a, 64 bits: stable across platforms and releases (unlike `std`'s hasher).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(max)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn assemble(words: &[&str], hash: u64) -> RoleName {
    let tail = format!("{:08x}", hash >> 32);
    let fixed: usize = words.iter().map(|w| w.len() + 1).sum::<usize>() + tail.len();
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        // The last word (the resource's name) takes whatever room is left.
        let word = if i + 1 == words.len() {
            sanitize(
                w,
                64usize
                    .saturating_sub(fixed - w.len() - 1)
                    .saturating_sub(1),
            )
        } else {
            sanitize(w, 20)
        };
        if !word.is_empty() {
            out.push_str(&word);
            out.push('-');
        }
    }
    out.push_str(&tail);
    // Built from `[A-Za-z0-9-]` only and at most 64 characters, so always valid.
    out.parse().unwrap_or_else(|_| RoleName::fallback(hash))
}

impl RoleName {
    fn fallback(hash: u64) -> Self {
        format!("xacct-{hash:016x}")
            .parse()
            .unwrap_or_else(|_| Self::fallback(0))
    }
}

/// The owner role's name for one (resource, requestor) pair:
/// `xacct-<service>-<requestor>-<name>-<hash>`.
pub fn owner_role_name(resource: &Arn, requestor: &AccountId) -> RoleName {
    let hash = fnv1a(&[&resource.to_string(), requestor.as_str()]);
    assemble(
        &[
            "xacct",
            resource.service(),
            requestor.as_str(),
            resource.resource_name(),
        ],
        hash,
    )
}

/// The requestor role's name for one (owner role, service principal) pair:
/// `xacct-<service>-<owner role name>-<hash>`.
pub fn requestor_role_name(owner_role: &Arn, principal: &ServicePrincipal) -> RoleName {
    let hash = fnv1a(&[&owner_role.to_string(), principal.as_str()]);
    let service = principal.as_str().split('.').next().unwrap_or("svc");
    let owner_name = owner_role.resource_name();
    let owner_name = owner_name.strip_prefix("xacct-").unwrap_or(owner_name);
    assemble(&["xacct", service, owner_name], hash)
}

/// The inline policy xacct puts on a requestor group or user for one owner role:
/// `xacct-assume-<owner account>-<owner role name>`, at most 128 characters (IAM's limit),
/// so one group can hold grants to several owner roles.
pub fn human_policy_name(owner_role: &Arn) -> String {
    format!(
        "xacct-assume-{}-{}",
        owner_role.account(),
        owner_role.resource_name()
    )
    .chars()
    .take(128)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_resource_prefix_is_role_and_the_path() {
        assert_eq!(ROLE_RESOURCE_PREFIX, format!("role{ROLE_PATH}"));
    }

    #[test]
    fn owner_role_name_is_readable_deterministic_and_short() {
        let arn: Arn = "arn:aws:s3:::reports".parse().unwrap();
        let req: AccountId = "222222222222".parse().unwrap();
        let name = owner_role_name(&arn, &req);
        assert!(
            name.as_str().starts_with("xacct-s3-222222222222-reports-"),
            "{name}"
        );
        assert_eq!(name, owner_role_name(&arn, &req));
        let other: AccountId = "333333333333".parse().unwrap();
        assert_ne!(name, owner_role_name(&arn, &other));
    }

    #[test]
    fn long_names_are_truncated_but_stay_unique() {
        let a: Arn = format!("arn:aws:s3:::{}", "x".repeat(63)).parse().unwrap();
        let b: Arn = format!("arn:aws:s3:::{}y", "x".repeat(62)).parse().unwrap();
        let req: AccountId = "222222222222".parse().unwrap();
        let (na, nb) = (owner_role_name(&a, &req), owner_role_name(&b, &req));
        assert!(na.as_str().len() <= 64 && nb.as_str().len() <= 64);
        assert_ne!(na, nb);
    }

    #[test]
    fn requestor_role_name_names_service_and_owner_role() {
        let owner: Arn =
            "arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b3c4d"
                .parse()
                .unwrap();
        let sp: ServicePrincipal = "lambda.amazonaws.com".parse().unwrap();
        let name = requestor_role_name(&owner, &sp);
        assert!(
            name.as_str()
                .starts_with("xacct-lambda-s3-222222222222-reports-"),
            "{name}"
        );
        assert!(name.as_str().len() <= 64);
    }

    #[test]
    fn human_policy_name_names_the_owner_role() {
        let owner: Arn = "arn:aws:iam::111111111111:role/xacct/xacct-s3-2-r-1a2b"
            .parse()
            .unwrap();
        assert_eq!(
            human_policy_name(&owner),
            "xacct-assume-111111111111-xacct-s3-2-r-1a2b"
        );
    }
}
