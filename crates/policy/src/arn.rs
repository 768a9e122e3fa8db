//! Amazon Resource Names: `arn:partition:service:region:account:resource`, parsed into parts
//! and formatted back exactly as given (S3 with empty region and account, IAM with empty
//! region, `type/id`, `type:id`, nested paths).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{AccountId, Partition};

/// The longest ARN IAM accepts in a policy.
pub const MAX_ARN_LEN: usize = 2048;

/// What is wrong with a string that should be an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("an arn must start with `arn:`, got `{0}`")]
    MissingPrefix(String),
    #[error(
        "an arn has six parts `arn:partition:service:region:account:resource`, `{input}` has {found}"
    )]
    TooFewParts { input: String, found: usize },
    #[error("unknown partition `{partition}` in `{input}`")]
    UnknownPartition { input: String, partition: String },
    #[error("service `{service}` in `{input}` must be lowercase letters, digits and `-`")]
    InvalidService { input: String, service: String },
    #[error("region `{region}` in `{input}` must be lowercase letters, digits and `-`")]
    InvalidRegion { input: String, region: String },
    #[error("account `{account}` in `{input}` must be empty or 12 digits")]
    InvalidAccount { input: String, account: String },
    #[error("the resource part of `{0}` is empty")]
    EmptyResource(String),
    #[error("an arn may not contain whitespace or control characters, got `{0}`")]
    InvalidCharacter(String),
    #[error("an arn is at most {MAX_ARN_LEN} characters, got {0}")]
    TooLong(usize),
}

/// A parsed ARN. Fields keep the exact text so formatting returns the input unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arn {
    partition: Partition,
    service: String,
    region: String,
    account: String,
    resource: String,
}

fn is_label(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Arn {
    /// An ARN from its parts; the same rules as parsing apply.
    pub fn from_parts(
        partition: Partition,
        service: &str,
        region: &str,
        account: Option<&AccountId>,
        resource: &str,
    ) -> Result<Self, ArnError> {
        let arn = Self {
            partition,
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            resource: resource.to_owned(),
        };
        // Validate through the one parser so both paths share the rules.
        arn.to_string().parse()
    }

    /// An IAM entity's ARN from its kind (`role`, `instance-profile`, `user`, ...), path
    /// (`/` or `/segment/.../`) and name: `arn:<partition>:iam::<account>:<kind><path><name>`.
    pub fn iam(
        partition: Partition,
        account: &AccountId,
        kind: &str,
        path: &str,
        name: &str,
    ) -> Result<Self, ArnError> {
        Self::from_parts(
            partition,
            "iam",
            "",
            Some(account),
            &[kind, path, name].concat(),
        )
    }

    /// `arn:<partition>:iam::<account>:root`, the principal that stands for a whole account.
    pub fn account_root(partition: Partition, account: &AccountId) -> Self {
        Self {
            partition,
            service: "iam".to_owned(),
            region: String::new(),
            account: account.as_str().to_owned(),
            resource: "root".to_owned(),
        }
    }

    pub fn partition(&self) -> Partition {
        self.partition
    }
    pub fn service(&self) -> &str {
        &self.service
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The account field as written (empty for S3 buckets, `aws` for AWS managed policies).
    pub fn account(&self) -> &str {
        &self.account
    }
    /// The account as an [`AccountId`] when the field holds one.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account.parse().ok()
    }
    /// Everything after the fifth colon: `bucket`, `instance/i-0abc`, `db:orders`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource split into its type and id at the first `/` or `:`
    /// (`instance/i-0abc` -> (`instance`, `i-0abc`)); `None` for a bare id like an S3 bucket.
    pub fn resource_type_and_id(&self) -> Option<(&str, &str)> {
        let at = self.resource.find(['/', ':'])?;
        let (kind, rest) = self.resource.split_at(at);
        Some((kind, rest.get(1..).unwrap_or_default()))
    }

    /// The last path component of the resource: the name a person knows it by.
    pub fn resource_name(&self) -> &str {
        self.resource
            .rsplit(['/', ':'])
            .find(|s| !s.is_empty())
            .unwrap_or(&self.resource)
    }

    /// Whether the ARN is a pattern rather than a name: IAM reads `*` and `?` anywhere in a
    /// policy's `Resource` as wildcards, so an ARN holding one stands for every resource it
    /// matches (`arn:aws:s3:::*/*` is every object of every bucket).
    pub fn is_pattern(&self) -> bool {
        self.to_string().contains(['*', '?'])
    }

    /// The same ARN with `suffix` appended to the resource, such as `/*` for a bucket's
    /// objects or `:*` for a function's versions and aliases.
    pub fn with_resource_suffix(&self, suffix: &str) -> Self {
        let mut out = self.clone();
        out.resource.push_str(suffix);
        out
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.len() > MAX_ARN_LEN {
            return Err(ArnError::TooLong(input.len()));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ArnError::InvalidCharacter(input.to_owned()));
        }
        let Some(rest) = input.strip_prefix("arn:") else {
            return Err(ArnError::MissingPrefix(input.to_owned()));
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts.as_slice() else {
            return Err(ArnError::TooFewParts {
                input: input.to_owned(),
                found: parts.len() + 1,
            });
        };
        let partition: Partition = partition.parse().map_err(|_| ArnError::UnknownPartition {
            input: input.to_owned(),
            partition: (*partition).to_owned(),
        })?;
        if service.is_empty() || !is_label(service) {
            return Err(ArnError::InvalidService {
                input: input.to_owned(),
                service: (*service).to_owned(),
            });
        }
        if !is_label(region) {
            return Err(ArnError::InvalidRegion {
                input: input.to_owned(),
                region: (*region).to_owned(),
            });
        }
        // AWS managed policies use the pseudo-account `aws`.
        let account_ok = account.is_empty()
            || *account == "aws"
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        if !account_ok {
            return Err(ArnError::InvalidAccount {
                input: input.to_owned(),
                account: (*account).to_owned(),
            });
        }
        if resource.is_empty() {
            return Err(ArnError::EmptyResource(input.to_owned()));
        }
        Ok(Self {
            partition,
            service: (*service).to_owned(),
            region: (*region).to_owned(),
            account: (*account).to_owned(),
            resource: (*resource).to_owned(),
        })
    }
}

impl Serialize for Arn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Arn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_arn_shape() {
        let cases = [
            ("arn:aws:s3:::my-bucket", "s3", "", "", "my-bucket"),
            (
                "arn:aws:s3:::my-bucket/path/to/key.txt",
                "s3",
                "",
                "",
                "my-bucket/path/to/key.txt",
            ),
            (
                "arn:aws:iam::111111111111:role/xacct/reader",
                "iam",
                "",
                "111111111111",
                "role/xacct/reader",
            ),
            (
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "iam",
                "",
                "aws",
                "policy/ReadOnlyAccess",
            ),
            (
                "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc",
                "ec2",
                "us-east-1",
                "111111111111",
                "instance/i-0abc",
            ),
            (
                "arn:aws:rds:eu-west-1:111111111111:db:orders",
                "rds",
                "eu-west-1",
                "111111111111",
                "db:orders",
            ),
            (
                "arn:aws:lambda:us-east-1:111111111111:function:f:PROD",
                "lambda",
                "us-east-1",
                "111111111111",
                "function:f:PROD",
            ),
            ("arn:aws-cn:s3:::cn-bucket", "s3", "", "", "cn-bucket"),
            (
                "arn:aws-us-gov:ec2:us-gov-west-1:111111111111:volume/vol-1",
                "ec2",
                "us-gov-west-1",
                "111111111111",
                "volume/vol-1",
            ),
            (
                "arn:aws:sts::222222222222:assumed-role/app/session",
                "sts",
                "",
                "222222222222",
                "assumed-role/app/session",
            ),
            (
                "arn:aws:ec2:us-east-1::image/ami-123",
                "ec2",
                "us-east-1",
                "",
                "image/ami-123",
            ),
        ];
        for (input, service, region, account, resource) in cases {
            let arn: Arn = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (arn.service(), arn.region(), arn.account(), arn.resource()),
                (service, region, account, resource),
                "{input}"
            );
            assert_eq!(arn.to_string(), input);
        }
    }

    #[test]
    fn resource_type_and_name() {
        let arn: Arn = "arn:aws:rds:us-east-1:111111111111:db:orders"
            .parse()
            .unwrap();
        assert_eq!(arn.resource_type_and_id(), Some(("db", "orders")));
        assert_eq!(arn.resource_name(), "orders");
        let bucket: Arn = "arn:aws:s3:::b".parse().unwrap();
        assert_eq!(bucket.resource_type_and_id(), None);
        assert_eq!(bucket.resource_name(), "b");
        let role: Arn = "arn:aws:iam::111111111111:role/xacct/reader"
            .parse()
            .unwrap();
        assert_eq!(role.resource_type_and_id(), Some(("role", "xacct/reader")));
        assert_eq!(role.resource_name(), "reader");
    }

    #[test]
    fn malformed_arns_say_what_is_wrong() {
        let cases = [
            ("s3:::b", "an arn must start with `arn:`, got `s3:::b`"),
            (
                "arn:aws:s3",
                "an arn has six parts `arn:partition:service:region:account:resource`, `arn:aws:s3` has 3",
            ),
            (
                "arn:aws-moon:s3:::b",
                "unknown partition `aws-moon` in `arn:aws-moon:s3:::b`",
            ),
            (
                "arn:aws:S3:::b",
                "service `S3` in `arn:aws:S3:::b` must be lowercase letters, digits and `-`",
            ),
            (
                "arn:aws::::b",
                "service `` in `arn:aws::::b` must be lowercase letters, digits and `-`",
            ),
            (
                "arn:aws:ec2:US_EAST:111111111111:instance/i",
                "region `US_EAST` in `arn:aws:ec2:US_EAST:111111111111:instance/i` must be lowercase letters, digits and `-`",
            ),
            (
                "arn:aws:ec2:us-east-1:1234:instance/i",
                "account `1234` in `arn:aws:ec2:us-east-1:1234:instance/i` must be empty or 12 digits",
            ),
            (
                "arn:aws:s3:::",
                "the resource part of `arn:aws:s3:::` is empty",
            ),
            (
                "arn:aws:s3:::a b",
                "an arn may not contain whitespace or control characters, got `arn:aws:s3:::a b`",
            ),
        ];
        for (input, message) in cases {
            let err = input.parse::<Arn>().unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        let long = format!("arn:aws:s3:::{}", "a".repeat(MAX_ARN_LEN));
        assert!(matches!(long.parse::<Arn>(), Err(ArnError::TooLong(_))));
    }

    #[test]
    fn from_parts_and_suffix() {
        let account: AccountId = "111111111111".parse().unwrap();
        let arn = Arn::from_parts(
            Partition::Aws,
            "lambda",
            "us-east-1",
            Some(&account),
            "function:f",
        )
        .unwrap();
        assert_eq!(
            arn.to_string(),
            "arn:aws:lambda:us-east-1:111111111111:function:f"
        );
        assert_eq!(
            arn.with_resource_suffix(":*").to_string(),
            "arn:aws:lambda:us-east-1:111111111111:function:f:*"
        );
        assert_eq!(
            Arn::account_root(Partition::AwsCn, &account).to_string(),
            "arn:aws-cn:iam::111111111111:root"
        );
        assert!(Arn::from_parts(Partition::Aws, "s3", "", None, "").is_err());
    }

    fn arn_strategy() -> impl Strategy<Value = String> {
        (
            prop::sample::select(Partition::ALL.to_vec()),
            "[a-z][a-z0-9-]{0,15}",
            prop_oneof![Just(String::new()), "[a-z]{2}-[a-z]{3,9}-[1-9]"],
            prop_oneof![Just(String::new()), "[0-9]{12}"],
            "[A-Za-z0-9_.:/*?+=,@-]{1,60}",
        )
            .prop_map(|(p, s, r, a, res)| format!("arn:{p}:{s}:{r}:{a}:{res}"))
    }

    proptest! {
        #[test]
        fn format_of_parse_is_identity(input in arn_strategy()) {
            let arn: Arn = input.parse().unwrap();
            prop_assert_eq!(arn.to_string(), input);
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,80}") {
            let _ = input.parse::<Arn>();
        }
    }
}
