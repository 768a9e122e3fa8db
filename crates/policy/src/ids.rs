//! Identifier newtypes that validate on construction: account IDs, External IDs, role names,
//! actions and service principals. Each parses with `FromStr`, prints with `Display` and
//! (de)serializes as a plain string.

use std::fmt;
use std::str::FromStr;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused. Messages are lowercase and quote the input in backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("account id must be 12 digits, got `{0}`")]
    AccountId(String),
    #[error(
        "external id must be 2 to 1224 characters of letters, digits and `+=,.@:/-_`, got `{0}`"
    )]
    ExternalId(String),
    #[error("role name must be 1 to 64 characters of letters, digits and `+=,.@-_`, got `{0}`")]
    RoleName(String),
    #[error("action must look like `service:ActionName`, got `{0}`")]
    Action(String),
    #[error("service principal must look like `name.amazonaws.com`, got `{0}`")]
    ServicePrincipal(String),
    #[error(
        "unknown partition `{0}`; expected one of `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`, `aws-eusc`"
    )]
    Partition(String),
    #[error(
        "organization id must look like `o-` followed by 10 to 32 lowercase letters or digits, got `{0}`"
    )]
    OrganizationId(String),
    #[error(
        "database user must be 1 to 63 characters of letters, digits and `_`, starting with a letter, got `{0}`"
    )]
    DbUser(String),
}

/// Implements `Display`, `FromStr`, `AsRef<str>` and string serde for a validated newtype.
macro_rules! string_newtype {
    ($name:ident, $validate:expr) => {
        impl $name {
            /// The identifier as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let check: fn(&str) -> Result<(), IdError> = $validate;
                check(s)?;
                Ok(Self(s.to_owned()))
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A 12-digit AWS account ID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);
string_newtype!(AccountId, |s| {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(IdError::AccountId(s.to_owned()))
    }
});

/// The `sts:ExternalId` a requestor must present; AWS allows 2 to 1,224 characters of
/// `[\w+=,.@:/-]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);
string_newtype!(ExternalId, |s| {
    let ok = (2..=1224).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdError::ExternalId(s.to_owned()))
    }
});

impl fmt::Debug for ExternalId {
    // An External ID is not a secret, but it is not for logs either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(..)")
    }
}

impl ExternalId {
    /// Length of a generated External ID: 40 characters of 62 symbols, about 238 bits.
    pub const GENERATED_LEN: usize = 40;

    /// A fresh External ID from a cryptographically secure generator (callers pass one in
    /// so tests can fix it).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        const ALPHABET: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(Self::GENERATED_LEN);
        while out.len() < Self::GENERATED_LEN {
            // Rejection sampling keeps the distribution uniform: 248 = 4 * 62.
            let byte = (rng.next_u32() & 0xff) as u8;
            if byte < 248 {
                let symbol = ALPHABET
                    .get(usize::from(byte % 62))
                    .copied()
                    .unwrap_or(b'A');
                out.push(char::from(symbol));
            }
        }
        Self(out)
    }
}

/// A database user that IAM database authentication logs in as: the last part of the
/// `rds-db:connect` dbuser ARN. 1 to 63 letters, digits and `_`, starting with a letter
/// (what both MySQL and PostgreSQL accept unquoted); never a pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DbUser(String);
string_newtype!(DbUser, |s| {
    let ok = (1..=63).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(IdError::DbUser(s.to_owned()))
    }
});

/// An IAM role name (without path): 1 to 64 characters of `[\w+=,.@-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(String);
string_newtype!(RoleName, |s| {
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdError::RoleName(s.to_owned()))
    }
});

/// An IAM action such as `s3:GetObject`, or a pattern with `*`/`?` as policies allow
/// (`s3:Get*`, `*`). Service prefixes and action names compare case-insensitively in IAM;
/// this keeps the spelling it was given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Action(String);
string_newtype!(Action, |s| {
    if s == "*" {
        return Ok(());
    }
    let Some((service, name)) = s.split_once(':') else {
        return Err(IdError::Action(s.to_owned()));
    };
    let service_ok = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'?');
    let name_ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_*?".contains(&b));
    if service_ok && name_ok {
        Ok(())
    } else {
        Err(IdError::Action(s.to_owned()))
    }
});

impl Action {
    /// `service:name` from parts already known to be valid (for example from the catalog).
    pub fn new(service: &str, name: &str) -> Result<Self, IdError> {
        let mut joined = String::with_capacity(service.len() + name.len() + 1);
        joined.push_str(service);
        joined.push(':');
        joined.push_str(name);
        joined.parse()
    }

    /// The service prefix (`s3`), or `*` for the all-actions wildcard.
    pub fn service(&self) -> &str {
        self.0.split_once(':').map_or("*", |(s, _)| s)
    }

    /// The action name (`GetObject`), or `*` for the all-actions wildcard.
    pub fn name(&self) -> &str {
        self.0.split_once(':').map_or("*", |(_, n)| n)
    }

    /// Whether this is a pattern rather than one action.
    pub fn is_wildcard(&self) -> bool {
        self.0.contains(['*', '?'])
    }
}

/// An AWS service principal that may assume a role, such as `lambda.amazonaws.com`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePrincipal(String);
string_newtype!(ServicePrincipal, |s| {
    let ok = s.len() <= 128
        && (s.ends_with(".amazonaws.com") || s.ends_with(".amazonaws.com.cn"))
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(IdError::ServicePrincipal(s.to_owned()))
    }
});

impl ServicePrincipal {
    /// Service principals xacct lets a requestor role trust: compute services that run code
    /// which then assumes the owner role. How each one's trust is built (and the AWS page
    /// that decides it) is [`crate::trust::SERVICE_TRUST`].
    pub fn allowed() -> impl Iterator<Item = &'static str> {
        crate::trust::SERVICE_TRUST.iter().map(|s| s.principal)
    }

    /// Whether xacct's allow-list contains this principal.
    pub fn is_allowed(&self) -> bool {
        crate::trust::service_trust_rule(self).is_some()
    }
}

/// An AWS Organizations ID (`o-` and 10 to 32 lowercase letters or digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrganizationId(String);
string_newtype!(OrganizationId, |s| {
    let ok = s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(IdError::OrganizationId(s.to_owned()))
    }
});

/// An AWS partition: a group of regions with its own ARN prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
    AwsIso,
    AwsIsoB,
    AwsIsoE,
    AwsIsoF,
    AwsEusc,
}

impl Partition {
    /// Every partition, in the order AWS lists them.
    pub const ALL: [Partition; 8] = [
        Self::Aws,
        Self::AwsCn,
        Self::AwsUsGov,
        Self::AwsIso,
        Self::AwsIsoB,
        Self::AwsIsoE,
        Self::AwsIsoF,
        Self::AwsEusc,
    ];

    /// The partition as it appears in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::AwsCn => "aws-cn",
            Self::AwsUsGov => "aws-us-gov",
            Self::AwsIso => "aws-iso",
            Self::AwsIsoB => "aws-iso-b",
            Self::AwsIsoE => "aws-iso-e",
            Self::AwsIsoF => "aws-iso-f",
            Self::AwsEusc => "aws-eusc",
        }
    }

    /// The partition a region belongs to (`cn-north-1` -> `aws-cn`).
    pub fn for_region(region: &str) -> Self {
        if region.starts_with("cn-") {
            Self::AwsCn
        } else if region.starts_with("us-gov-") {
            Self::AwsUsGov
        } else if region.starts_with("us-isob-") {
            Self::AwsIsoB
        } else if region.starts_with("us-iso-") {
            Self::AwsIso
        } else if region.starts_with("eu-isoe-") {
            Self::AwsIsoE
        } else if region.starts_with("us-isof-") {
            Self::AwsIsoF
        } else if region.starts_with("eusc-") {
            Self::AwsEusc
        } else {
            Self::Aws
        }
    }

    /// The console sign-in host, for switch-role links.
    pub fn signin_host(self) -> &'static str {
        match self {
            Self::AwsCn => "signin.amazonaws.cn",
            Self::AwsUsGov => "signin.amazonaws-us-gov.com",
            _ => "signin.aws.amazon.com",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Partition {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| IdError::Partition(s.to_owned()))
    }
}

impl Serialize for Partition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Partition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn account_id_must_be_twelve_digits() {
        assert!("111111111111".parse::<AccountId>().is_ok());
        for bad in [
            "12345",
            "1111111111111",
            "11111111111a",
            "",
            " 111111111111",
        ] {
            let err = bad.parse::<AccountId>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("account id must be 12 digits, got `{bad}`")
            );
        }
    }

    #[test]
    fn external_id_follows_aws_rules() {
        assert!("ab".parse::<ExternalId>().is_ok());
        assert!("a+=,.@:/-_9".parse::<ExternalId>().is_ok());
        assert!("a".repeat(1224).parse::<ExternalId>().is_ok());
        assert!("a".parse::<ExternalId>().is_err());
        assert!("a".repeat(1225).parse::<ExternalId>().is_err());
        assert!("has space".parse::<ExternalId>().is_err());
        assert!("ünïcode".parse::<ExternalId>().is_err());
    }

    #[test]
    fn generated_external_id_is_long_random_and_valid() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = ExternalId::generate(&mut rng);
        let b = ExternalId::generate(&mut rng);
        assert_eq!(a.as_str().len(), ExternalId::GENERATED_LEN);
        assert!(a.as_str().len() >= 32);
        assert_ne!(a, b);
        assert!(a.as_str().parse::<ExternalId>().is_ok());
        assert_eq!(format!("{a:?}"), "ExternalId(..)");
    }

    #[test]
    fn role_name_limits() {
        assert!("xacct-s3-reports".parse::<RoleName>().is_ok());
        assert!("r".repeat(64).parse::<RoleName>().is_ok());
        assert!("r".repeat(65).parse::<RoleName>().is_err());
        assert!("../admin".parse::<RoleName>().is_err());
        assert!("a/b".parse::<RoleName>().is_err());
        assert!("".parse::<RoleName>().is_err());
    }

    #[test]
    fn action_parts_and_wildcards() {
        let a: Action = "s3:GetObject".parse().unwrap();
        assert_eq!(
            (a.service(), a.name(), a.is_wildcard()),
            ("s3", "GetObject", false)
        );
        assert!("s3:Get*".parse::<Action>().unwrap().is_wildcard());
        assert!("*".parse::<Action>().unwrap().is_wildcard());
        for bad in [
            "s3",
            "s3:",
            ":Get",
            "s3:Get Object",
            "s3:Get:Object",
            "s3:Get/Object",
        ] {
            assert!(bad.parse::<Action>().is_err(), "{bad}");
        }
    }

    #[test]
    fn service_principals() {
        let p: ServicePrincipal = "lambda.amazonaws.com".parse().unwrap();
        assert!(p.is_allowed());
        let other: ServicePrincipal = "iam.amazonaws.com".parse().unwrap();
        assert!(!other.is_allowed());
        assert!("lambda.example.com".parse::<ServicePrincipal>().is_err());
        assert!("LAMBDA.amazonaws.com".parse::<ServicePrincipal>().is_err());
    }

    #[test]
    fn partitions_round_trip() {
        for p in Partition::ALL {
            assert_eq!(p.as_str().parse::<Partition>().unwrap(), p);
        }
        assert!("aws-moon".parse::<Partition>().is_err());
    }

    #[test]
    fn ids_serde_as_strings() {
        let id: AccountId = serde_json::from_str("\"222222222222\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"222222222222\"");
        assert!(serde_json::from_str::<AccountId>("\"2\"").is_err());
    }
}
