//! xacct across an AWS Organization: where an owner operation runs (the hub's own account,
//! or a member account through the spoke role the StackSet puts there), the spoke role's and
//! its boundary's ARNs, and the `sts:AssumeRole` session name that names the caller.

use crate::arn::{Arn, ArnError};
use crate::ids::{AccountId, Partition, RoleName};

/// The IAM path of the spoke role and its boundary in every member account.
pub const SPOKE_PATH: &str = "/xacct-spoke/";
/// The spoke role's name when the deployment does not set `SpokeRoleName`.
pub const DEFAULT_SPOKE_ROLE_NAME: &str = "xacct-spoke";
/// The managed policy every role xacct creates in a member account gets as its boundary.
pub const SPOKE_BOUNDARY_NAME: &str = "xacct-boundary";

/// Where an owner operation runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The account the functions run in, with their own credentials: today's behaviour.
    Home,
    /// A member account of the organization, through its spoke role.
    Member(AccountId),
}

impl Scope {
    /// The scope of a request: no account, or the hub's own, is home.
    pub fn of(requested: Option<AccountId>, home: &AccountId) -> Self {
        match requested {
            Some(account) if &account != home => Self::Member(account),
            _ => Self::Home,
        }
    }
}

/// The spoke role of one deployment: its name (`SpokeRoleName`) in the partition xacct runs
/// in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoke {
    pub partition: Partition,
    pub role_name: RoleName,
}

impl Spoke {
    /// `arn:<partition>:iam::<member>:role/xacct-spoke/<name>`.
    pub fn role_arn(&self, member: &AccountId) -> Result<Arn, ArnError> {
        Arn::iam(
            self.partition,
            member,
            "role",
            SPOKE_PATH,
            self.role_name.as_str(),
        )
    }

    /// `arn:<partition>:iam::<member>:policy/xacct-spoke/xacct-boundary`, the boundary of
    /// every role xacct creates in that account.
    pub fn boundary_arn(&self, member: &AccountId) -> Result<Arn, ArnError> {
        Arn::iam(
            self.partition,
            member,
            "policy",
            SPOKE_PATH,
            SPOKE_BOUNDARY_NAME,
        )
    }
}

/// Longest session name STS accepts.
const MAX_SESSION_NAME: usize = 64;

/// The `RoleSessionName` the hub assumes a spoke role with: `xacct@` and the caller's
/// identity (the resource part of its ARN, `assumed-role/admin/alice`), every character
/// STS refuses (outside `[\w+=,.@-]`) replaced by `.`, cut to 64 characters keeping the end,
/// where the session or user name is. CloudTrail in the member account then names who
/// asked.
pub fn session_name(caller: &str) -> String {
    let who = caller
        .parse::<Arn>()
        .map_or_else(|_| caller.to_owned(), |arn| arn.resource().to_owned());
    let clean: String = who
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    let prefix = "xacct@";
    let room = MAX_SESSION_NAME - prefix.len();
    let tail: String = clean
        .chars()
        .skip(clean.chars().count().saturating_sub(room))
        .collect();
    format!("{prefix}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> AccountId {
        id.parse().unwrap()
    }

    #[test]
    fn no_account_or_the_hubs_own_is_home() {
        let home = account("111111111111");
        assert_eq!(Scope::of(None, &home), Scope::Home);
        assert_eq!(Scope::of(Some(home.clone()), &home), Scope::Home);
        assert_eq!(
            Scope::of(Some(account("333333333333")), &home),
            Scope::Member(account("333333333333"))
        );
    }

    #[test]
    fn spoke_role_and_boundary_sit_under_the_spoke_path_of_the_member() {
        let spoke = Spoke {
            partition: Partition::AwsUsGov,
            role_name: "xacct-spoke".parse().unwrap(),
        };
        let member = account("333333333333");
        assert_eq!(
            spoke.role_arn(&member).unwrap().to_string(),
            "arn:aws-us-gov:iam::333333333333:role/xacct-spoke/xacct-spoke"
        );
        assert_eq!(
            spoke.boundary_arn(&member).unwrap().to_string(),
            "arn:aws-us-gov:iam::333333333333:policy/xacct-spoke/xacct-boundary"
        );
    }

    fn sts_accepts(name: &str) -> bool {
        (2..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    }

    #[test]
    fn session_name_names_the_caller_within_sts_rules() {
        assert_eq!(
            session_name("arn:aws:sts::111111111111:assumed-role/admin/alice"),
            "xacct@assumed-role.admin.alice"
        );
        assert_eq!(session_name("unknown"), "xacct@unknown");
        let long = format!(
            "arn:aws:sts::111111111111:assumed-role/{}/bob",
            "r".repeat(60)
        );
        let name = session_name(&long);
        assert!(name.ends_with("/bob".replace('/', ".").as_str()), "{name}");
        for caller in [
            long.as_str(),
            "",
            "arn:aws:iam::111111111111:user/team/ünïcode name",
            "a b\u{0}c",
        ] {
            let name = session_name(caller);
            assert!(sts_accepts(&name), "{name}");
        }
    }
}
