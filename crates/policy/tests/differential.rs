//! Differential test: xacct's evaluator against an independent one,
//! `@cloud-copilot/iam-simulate` (npm, pinned in tests/oracle/package-lock.json; AGPL, so a
//! test tool only: installed by `tests/oracle/setup.sh`, never vendored, never a dependency of
//! a shipped crate). A fixed-seed generator writes 12,000 (policies, request) cases covering
//! `Action`/`NotAction`, `Resource`/`NotResource`, `Deny`, every condition operator family
//! with `...IfExists`, `ForAnyValue:`/`ForAllValues:`, `Null`, policy variables (with and
//! without defaults), absent keys, case differences, resource policies within and across
//! accounts (trust and key policies among them), permissions boundaries, session policies,
//! SCPs and RCPs. One `node tests/oracle/simulate.mjs` process decides them all; every
//! decision must agree with xacct's, except in the classes of
//! `tests/differential/exclusions.json`, where AWS's documentation shows the other
//! evaluator is wrong (each class names the page).
//!
//! Not generated, because AWS documents no result for them: a single-valued operator on a
//! multivalued key, a multivalued key present with no values, an empty string as a value, a
//! resource policy naming everyone (`*`) for a session that has a session policy.
//!
//! Without Node or the package the test is skipped, except under CI (`CI=true`), where it
//! fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use xacct_policy::PolicyDocument;
use xacct_policy::eval::{
    Context, Decision, Labeled, PolicySet, Request, RequestPrincipal, evaluate,
};

const SEED: u64 = 15;
const CASES: usize = 12_000;

/// The principal's account, and another one.
const HOME: &str = "111111111111";
const OTHER: &str = "222222222222";

// ---------------------------------------------------------------------------------------
// The cases

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Case {
    /// An ARN, a service principal's name, or `None` for an anonymous request.
    principal: Option<String>,
    action: String,
    resource: String,
    resource_account: String,
    context: BTreeMap<String, Value>,
    identity: Vec<Value>,
    boundary: Option<Value>,
    resource_policy: Option<Value>,
    session: Option<Value>,
    scps: Vec<Value>,
    rcps: Vec<Value>,
}

/// Who may make a request, with what AWS puts in the request context for them.
struct Who {
    arn: &'static str,
    account: &'static str,
    /// `aws:PrincipalArn`: a session's role.
    principal_arn: &'static str,
    username: Option<&'static str>,
    session: bool,
}

const PRINCIPALS: &[Who] = &[
    Who {
        arn: "arn:aws:iam::111111111111:user/ana",
        account: HOME,
        principal_arn: "arn:aws:iam::111111111111:user/ana",
        username: Some("ana"),
        session: false,
    },
    Who {
        arn: "arn:aws:sts::111111111111:assumed-role/app/s1",
        account: HOME,
        principal_arn: "arn:aws:iam::111111111111:role/app",
        username: None,
        session: true,
    },
    Who {
        arn: "arn:aws:iam::222222222222:user/bo",
        account: OTHER,
        principal_arn: "arn:aws:iam::222222222222:user/bo",
        username: Some("bo"),
        session: false,
    },
    Who {
        arn: "arn:aws:sts::222222222222:assumed-role/partner/s2",
        account: OTHER,
        principal_arn: "arn:aws:iam::222222222222:role/partner",
        username: None,
        session: true,
    },
];

/// What a request may target: the action, its resource (`{account}` and `{key}` filled in),
/// and what resource policy the resource can have.
struct Target {
    action: &'static str,
    resource: &'static str,
    policy: ResourcePolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourcePolicy {
    /// None can be attached (EC2 instances, actions without a resource).
    None,
    /// Optional (bucket, queue, table, function, secret policies).
    Optional,
    /// Always there: a role's trust policy, a KMS key's key policy.
    Required,
}

const TARGETS: &[Target] = &[
    Target {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::reports/{key}",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::reports/{key}",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::reports",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "s3:ListAllMyBuckets",
        resource: "*",
        policy: ResourcePolicy::None,
    },
    Target {
        action: "sqs:SendMessage",
        resource: "arn:aws:sqs:us-east-1:{account}:orders",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "dynamodb:GetItem",
        resource: "arn:aws:dynamodb:us-east-1:{account}:table/Orders",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "ec2:StartInstances",
        resource: "arn:aws:ec2:us-east-1:{account}:instance/i-0abc",
        policy: ResourcePolicy::None,
    },
    Target {
        action: "ec2:DescribeInstances",
        resource: "*",
        policy: ResourcePolicy::None,
    },
    Target {
        action: "kms:Decrypt",
        resource: "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab",
        policy: ResourcePolicy::Required,
    },
    Target {
        action: "sts:AssumeRole",
        resource: "arn:aws:iam::{account}:role/target",
        policy: ResourcePolicy::Required,
    },
    Target {
        action: "lambda:InvokeFunction",
        resource: "arn:aws:lambda:us-east-1:{account}:function:resize",
        policy: ResourcePolicy::Optional,
    },
    Target {
        action: "secretsmanager:GetSecretValue",
        resource: "arn:aws:secretsmanager:us-east-1:{account}:secret:db-AbCdEf",
        policy: ResourcePolicy::Optional,
    },
];

const OBJECT_KEYS: &[&str] = &[
    "q4/Data.csv",
    "home/ana/notes.txt",
    "home/bo/notes.txt",
    "ops/run.log",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    String,
    Arn,
    Bool,
    Numeric,
    Date,
    Ip,
    /// A multivalued key (`ArrayOfString`).
    Strings,
}

struct Key {
    name: &'static str,
    kind: KeyType,
    /// Values a request may carry (for the principal's own keys, filled from the principal).
    request: &'static [&'static str],
    /// Values a policy may compare with, besides the request values.
    policy: &'static [&'static str],
}

const KEYS: &[Key] = &[
    Key {
        name: "aws:PrincipalTag/team",
        kind: KeyType::String,
        request: &["ops", "dev", "Ops"],
        policy: &[
            "qa",
            "o*",
            "d?v",
            "*",
            "${aws:username}",
            "${aws:PrincipalTag/owner}",
        ],
    },
    Key {
        name: "aws:PrincipalTag/owner",
        kind: KeyType::String,
        request: &["ana", "bo", "ops"],
        policy: &["${aws:username}", "${aws:PrincipalTag/team}", "an?", "b*"],
    },
    Key {
        name: "aws:RequestedRegion",
        kind: KeyType::String,
        request: &["us-east-1", "eu-west-1"],
        policy: &["us-*", "US-EAST-1", "eu-west-?"],
    },
    Key {
        name: "aws:PrincipalOrgID",
        kind: KeyType::String,
        request: &["o-abc123def4", "o-zzz999yyy8"],
        policy: &["o-abc*"],
    },
    Key {
        name: "aws:SourceVpce",
        kind: KeyType::String,
        request: &["vpce-1a2b3c", "vpce-9z8y7x"],
        policy: &["vpce-1*"],
    },
    Key {
        name: "aws:username",
        kind: KeyType::String,
        request: &[],
        policy: &["ana", "bo", "Ana", "a*", "${aws:PrincipalTag/owner}"],
    },
    Key {
        name: "aws:PrincipalAccount",
        kind: KeyType::String,
        request: &[],
        policy: &[HOME, OTHER, "1111*"],
    },
    Key {
        name: "aws:PrincipalArn",
        kind: KeyType::Arn,
        request: &[],
        policy: &[
            "arn:aws:iam::111111111111:user/ana",
            "arn:aws:iam::111111111111:role/app",
            "arn:aws:iam::222222222222:*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::111111111111:user/${aws:username}",
            "arn:aws:iam::${aws:PrincipalAccount}:role/app",
        ],
    },
    Key {
        name: "aws:SourceArn",
        kind: KeyType::Arn,
        request: &[
            "arn:aws:sns:us-east-1:111111111111:alerts",
            "arn:aws:s3:::logs-bucket",
        ],
        policy: &["arn:aws:sns:*:111111111111:*", "arn:aws:s3:::logs-*"],
    },
    Key {
        name: "aws:SecureTransport",
        kind: KeyType::Bool,
        request: &["true", "false"],
        policy: &["True"],
    },
    Key {
        name: "aws:MultiFactorAuthPresent",
        kind: KeyType::Bool,
        request: &["true", "false"],
        policy: &[],
    },
    Key {
        name: "aws:MultiFactorAuthAge",
        kind: KeyType::Numeric,
        request: &["30", "3600", "7200", "86400.5"],
        policy: &["100", "3600.0", "-1", "90000"],
    },
    Key {
        name: "aws:CurrentTime",
        kind: KeyType::Date,
        request: &[
            "2026-11-22T12:00:00Z",
            "2027-03-01T00:00:00Z",
            "2025-06-30T23:59:59Z",
        ],
        policy: &["2026-11-22", "2027-01-01T00:00:00Z", "1795000000"],
    },
    Key {
        name: "aws:EpochTime",
        kind: KeyType::Date,
        request: &["1795000000", "1800000000"],
        policy: &["1790000000", "2026-11-22T12:00:00Z"],
    },
    Key {
        name: "aws:SourceIp",
        kind: KeyType::Ip,
        request: &["203.0.113.9", "10.1.2.3", "192.168.0.7", "2001:db8::1"],
        policy: &[
            "203.0.113.0/24",
            "10.0.0.0/8",
            "192.168.0.0/16",
            "2001:db8::/32",
            "0.0.0.0/0",
        ],
    },
    Key {
        name: "aws:TagKeys",
        kind: KeyType::Strings,
        request: &["team", "cost", "owner", "Team"],
        policy: &["t*", "*", "${aws:username}"],
    },
    Key {
        name: "aws:PrincipalOrgPaths",
        kind: KeyType::Strings,
        request: &[
            "o-abc123def4/r-ab12/ou-ab12-11111111/",
            "o-abc123def4/r-ab12/ou-ab12-22222222/",
        ],
        policy: &[
            "o-abc123def4/r-ab12/*",
            "o-abc123def4/r-ab12/ou-ab12-11111111/*",
        ],
    },
    Key {
        name: "aws:CalledVia",
        kind: KeyType::Strings,
        request: &["athena.amazonaws.com", "cloudformation.amazonaws.com"],
        policy: &["*.amazonaws.com"],
    },
];

// ---------------------------------------------------------------------------------------
// The generator

struct Gen {
    rng: StdRng,
}

/// Where a statement goes, which decides the elements it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Identity,
    Boundary,
    Session,
    Scp,
    Rcp,
    Resource,
    /// A role's trust policy: no `Resource` element.
    Trust,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("a non-empty list")
    }

    /// The text with one letter's case flipped (`Data` -> `DAta`), or unchanged when it has
    /// no letter.
    fn flip_case(&mut self, text: &str) -> String {
        let letters: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| c.is_ascii_alphabetic())
            .map(|(i, _)| i)
            .collect();
        let Some(&at) = letters.choose(&mut self.rng) else {
            return text.to_owned();
        };
        text.char_indices()
            .map(|(i, c)| {
                if i != at {
                    c
                } else if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    }

    /// One or several values, as a string or a list.
    fn one_or_many(&mut self, mut values: Vec<String>) -> Value {
        values.dedup();
        if values.len() == 1 && self.chance(0.7) {
            Value::String(values.remove(0))
        } else {
            json!(values)
        }
    }

    fn action_pattern(&mut self, action: &str) -> String {
        let (service, name) = action.split_once(':').unwrap();
        let other = self.pick(TARGETS).action;
        match self.rng.random_range(0..10) {
            0 | 1 => action.to_owned(),
            2 => self.flip_case(action),
            3 => action.to_ascii_uppercase(),
            4 => format!("{service}:{}*", &name[..3]),
            5 => format!("{service}:*"),
            6 => "*".to_owned(),
            7 => format!("{service}:{}?", &name[..name.len() - 1]),
            _ => other.to_owned(),
        }
    }

    fn action_element(&mut self, action: &str, place: Place) -> (&'static str, Value) {
        let n = self.rng.random_range(1..=2);
        let mut values: Vec<String> = (0..n).map(|_| self.action_pattern(action)).collect();
        if place == Place::Rcp {
            // An RCP names actions with `Action`, never `*` (only RCPFullAWSAccess does).
            values.retain(|v| v != "*");
            if values.is_empty() {
                values.push(action.to_owned());
            }
            return ("Action", self.one_or_many(values));
        }
        let key = if self.chance(0.2) {
            "NotAction"
        } else {
            "Action"
        };
        (key, self.one_or_many(values))
    }

    fn resource_pattern(&mut self, resource: &str, place: Place) -> String {
        if resource == "*" || self.chance(0.15) {
            return if self.chance(0.7) {
                "*".to_owned()
            } else {
                "arn:aws:s3:::reports/*".to_owned()
            };
        }
        let (head, tail) = split_resource(resource);
        let service = resource.split(':').nth(2).unwrap();
        let short_ok = matches!(place, Place::Identity | Place::Boundary | Place::Session);
        match self.rng.random_range(0..12) {
            0..=2 => resource.to_owned(),
            3 => format!("{head}{}", self.flip_case(tail)),
            4 => {
                let cut = self.rng.random_range(0..=tail.len());
                format!("{head}{}*", &tail[..cut])
            }
            5 if !tail.is_empty() => {
                let at = self.rng.random_range(0..tail.len());
                format!("{head}{}?{}", &tail[..at], &tail[at + 1..])
            }
            6 => swap_accounts(resource),
            7 if short_ok => {
                if self.chance(0.5) {
                    format!("arn:aws:{service}:*")
                } else {
                    format!("arn:aws:{service}:us-east-1:*")
                }
            }
            8 if service == "s3" => self
                .pick(&[
                    "arn:aws:s3:::reports/home/${aws:username}/*",
                    "arn:aws:s3:::reports/${aws:PrincipalTag/team}/*",
                    "arn:aws:s3:::reports/home/${aws:username, 'ana'}/*",
                    "arn:aws:s3:::reports/q4/${*}",
                    "arn:aws:s3:::reports/home/${aws:PrincipalTag/owner}/notes.txt",
                ])
                .to_string(),
            8 => resource.replace(HOME, "${aws:PrincipalAccount}"),
            _ => format!("{head}{}", self.pick(&["*", "other", "o*"])),
        }
    }

    fn resource_element(&mut self, resource: &str, place: Place) -> Option<(&'static str, Value)> {
        if place == Place::Trust {
            return None;
        }
        let n = self.rng.random_range(1..=2);
        let values = (0..n)
            .map(|_| self.resource_pattern(resource, place))
            .collect();
        // SCPs and RCPs are written with `Resource`, as AWS's examples do.
        let not = !matches!(place, Place::Rcp) && self.chance(0.2);
        Some((
            if not { "NotResource" } else { "Resource" },
            self.one_or_many(values),
        ))
    }

    fn condition_value(&mut self, key: &Key, who: &Who) -> String {
        let own: Vec<String> = own_values(key, who)
            .into_iter()
            .chain(key.request.iter().map(|v| (*v).to_owned()))
            .collect();
        let from_policy = key.policy.is_empty() || (!own.is_empty() && self.chance(0.55));
        let value = if from_policy && !own.is_empty() {
            self.pick(&own).clone()
        } else if key.policy.is_empty() {
            self.pick(key.request).to_string()
        } else {
            self.pick(key.policy).to_string()
        };
        if key.kind == KeyType::String && self.chance(0.1) {
            self.flip_case(&value)
        } else {
            value
        }
    }

    fn operator(&mut self, key: &Key) -> String {
        let string_ops = [
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ];
        let base = match key.kind {
            KeyType::String | KeyType::Strings => self.pick(&string_ops).to_string(),
            KeyType::Arn => self
                .pick(&[
                    "ArnEquals",
                    "ArnLike",
                    "ArnNotEquals",
                    "ArnNotLike",
                    "StringLike",
                    "StringNotEquals",
                ])
                .to_string(),
            KeyType::Bool => "Bool".to_owned(),
            KeyType::Numeric => self
                .pick(&[
                    "NumericEquals",
                    "NumericNotEquals",
                    "NumericLessThan",
                    "NumericLessThanEquals",
                    "NumericGreaterThan",
                    "NumericGreaterThanEquals",
                ])
                .to_string(),
            KeyType::Date => self
                .pick(&[
                    "DateEquals",
                    "DateNotEquals",
                    "DateLessThan",
                    "DateLessThanEquals",
                    "DateGreaterThan",
                    "DateGreaterThanEquals",
                ])
                .to_string(),
            KeyType::Ip => self.pick(&["IpAddress", "NotIpAddress"]).to_string(),
        };
        let set = match key.kind {
            // A multivalued key always with a set operator (AWS requires one).
            KeyType::Strings => {
                if self.chance(0.5) {
                    "ForAnyValue:"
                } else {
                    "ForAllValues:"
                }
            }
            // A set operator on a single-valued key reads its value as a one-element set.
            KeyType::String | KeyType::Arn if self.chance(0.08) => {
                if self.chance(0.5) {
                    "ForAnyValue:"
                } else {
                    "ForAllValues:"
                }
            }
            _ => "",
        };
        let if_exists = if self.chance(0.25) { "IfExists" } else { "" };
        format!("{set}{base}{if_exists}")
    }

    fn condition(&mut self, who: &Who) -> Value {
        let mut block: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let operators = self.rng.random_range(1..=2);
        for _ in 0..operators {
            let key = self.pick(KEYS);
            let (operator, values) = if self.chance(0.1) {
                let v = if self.chance(0.5) { "true" } else { "false" };
                ("Null".to_owned(), vec![v.to_owned()])
            } else if key.name == "aws:PrincipalTag/team" && self.chance(0.1) {
                // BinaryEquals compares base64 text as it is.
                let v = self.pick(&["b3Bz", "ZGV2"]).to_string();
                ("BinaryEquals".to_owned(), vec![v])
            } else {
                let n = self.rng.random_range(1..=3);
                let values = (0..n).map(|_| self.condition_value(key, who)).collect();
                (self.operator(key), values)
            };
            let name = if self.chance(0.15) {
                key.name.to_ascii_lowercase()
            } else {
                key.name.to_owned()
            };
            let value = self.one_or_many(values);
            block.entry(operator).or_default().insert(name, value);
        }
        json!(block)
    }

    fn principal_element(&mut self, who: &Who, everyone: bool) -> (&'static str, Value) {
        let other_user = if who.account == HOME {
            "arn:aws:iam::222222222222:user/bo"
        } else {
            "arn:aws:iam::111111111111:user/ana"
        };
        let first = if everyone { 0 } else { 2 };
        let value = match self.rng.random_range(first..10) {
            0 => json!("*"),
            1 => json!({"AWS": "*"}),
            2 | 3 => json!({"AWS": who.arn}),
            4 => json!({"AWS": who.principal_arn}),
            5 => json!({"AWS": who.account}),
            6 => json!({"AWS": format!("arn:aws:iam::{}:root", who.account)}),
            7 => json!({"AWS": [other_user, who.principal_arn]}),
            8 => json!({"Service": "lambda.amazonaws.com"}),
            _ => json!({"AWS": other_user}),
        };
        let not = self.chance(0.1);
        (if not { "NotPrincipal" } else { "Principal" }, value)
    }

    fn statement(&mut self, case: &Case, who: &Who, place: Place, sid: usize) -> Value {
        let mut st = serde_json::Map::new();
        st.insert("Sid".into(), json!(format!("S{sid}")));
        let deny = match place {
            Place::Rcp => true,
            Place::Scp | Place::Boundary | Place::Session => self.chance(0.2),
            _ => self.chance(0.3),
        };
        st.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
        match place {
            Place::Resource | Place::Trust => {
                // Whether `*` names a session past its session policy AWS does not say.
                let (key, value) = self.principal_element(who, case.session.is_none());
                // AWS advises against `NotPrincipal` with `Allow`; it is generated with `Deny`.
                let key = if key == "NotPrincipal" && !deny {
                    "Principal"
                } else {
                    key
                };
                st.insert(key.into(), value);
            }
            Place::Rcp => {
                st.insert("Principal".into(), json!("*"));
            }
            _ => {}
        }
        let (key, value) = self.action_element(&case.action, place);
        st.insert(key.into(), value);
        if let Some((key, value)) = self.resource_element(&case.resource, place) {
            st.insert(key.into(), value);
        }
        let conditions = match place {
            Place::Rcp => 0.8,
            _ => 0.45,
        };
        if self.chance(conditions) {
            st.insert("Condition".into(), self.condition(who));
        }
        Value::Object(st)
    }

    fn policy(&mut self, case: &Case, who: &Who, place: Place, statements: usize) -> Value {
        let statements: Vec<Value> = (0..statements)
            .map(|i| self.statement(case, who, place, i))
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// An allow-everything statement, so guardrails (boundaries, SCPs) are not only
    /// refusals.
    fn with_allow_all(mut policy: Value) -> Value {
        policy["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}));
        policy
    }

    fn context(&mut self, who: Option<&Who>) -> BTreeMap<String, Value> {
        let mut context = BTreeMap::new();
        if let Some(who) = who {
            // What AWS always puts in the request context for an IAM principal.
            context.insert("aws:PrincipalArn".into(), json!(who.principal_arn));
            context.insert("aws:PrincipalAccount".into(), json!(who.account));
            if let Some(name) = who.username {
                context.insert("aws:username".into(), json!(name));
            }
        }
        for key in KEYS {
            if key.request.is_empty() || self.chance(0.45) {
                continue;
            }
            let value = if key.kind == KeyType::Strings {
                let n = self.rng.random_range(1..=3);
                let mut values: Vec<&str> = (0..n).map(|_| *self.pick(key.request)).collect();
                values.sort_unstable();
                values.dedup();
                json!(values)
            } else {
                json!(self.pick(key.request))
            };
            context.insert(key.name.to_owned(), value);
        }
        context
    }

    fn case(&mut self) -> Case {
        let target = self.pick(TARGETS);
        let who_index = self.rng.random_range(0..PRINCIPALS.len() + 1);
        // Most requests come from an IAM principal; some from a service or anonymously, for
        // resource policies alone.
        let who = PRINCIPALS.get(who_index);
        let (principal, who) = match who {
            Some(who) => (Some(who.arn.to_owned()), who),
            None if target.policy == ResourcePolicy::Optional => {
                let principal = self.chance(0.5).then(|| "lambda.amazonaws.com".to_owned());
                (principal, &PRINCIPALS[0])
            }
            None => (Some(PRINCIPALS[0].arn.to_owned()), &PRINCIPALS[0]),
        };
        let iam_principal = principal.as_deref().is_some_and(|p| p.starts_with("arn:"));
        let resource_account = if target.resource == "*" || self.chance(0.6) {
            who.account
        } else if who.account == HOME {
            OTHER
        } else {
            HOME
        };
        let key = self.pick(OBJECT_KEYS);
        let resource = target
            .resource
            .replace("{account}", resource_account)
            .replace("{key}", key);
        let mut case = Case {
            principal,
            action: target.action.to_owned(),
            resource,
            resource_account: resource_account.to_owned(),
            context: self.context(iam_principal.then_some(who)),
            identity: Vec::new(),
            boundary: None,
            resource_policy: None,
            session: None,
            scps: Vec::new(),
            rcps: Vec::new(),
        };
        if iam_principal {
            let policies = self.rng.random_range(0..=2);
            for _ in 0..policies {
                let n = self.rng.random_range(1..=3);
                case.identity
                    .push(self.policy(&case, who, Place::Identity, n));
            }
            if self.chance(0.25) {
                let n = self.rng.random_range(1..=2);
                let boundary = self.policy(&case, who, Place::Boundary, n);
                case.boundary = Some(if self.chance(0.5) {
                    Self::with_allow_all(boundary)
                } else {
                    boundary
                });
            }
            if who.session && self.chance(0.3) {
                let n = self.rng.random_range(1..=2);
                case.session = Some(self.policy(&case, who, Place::Session, n));
            }
            if self.chance(0.2) {
                let levels = self.rng.random_range(1..=2);
                for _ in 0..levels {
                    let scp = self.policy(&case, who, Place::Scp, 1);
                    case.scps.push(if self.chance(0.7) {
                        Self::with_allow_all(scp)
                    } else {
                        scp
                    });
                }
            }
        }
        if self.chance(0.15) {
            let levels = self.rng.random_range(1..=2);
            for _ in 0..levels {
                let rcp = self.policy(&case, who, Place::Rcp, 1);
                case.rcps.push(rcp);
            }
        }
        let resource_policy = match target.policy {
            ResourcePolicy::None => false,
            ResourcePolicy::Optional => !iam_principal || self.chance(0.5),
            ResourcePolicy::Required => true,
        };
        if resource_policy {
            let place = if target.action == "sts:AssumeRole" {
                Place::Trust
            } else {
                Place::Resource
            };
            let n = self.rng.random_range(1..=3);
            case.resource_policy = Some(self.policy(&case, who, place, n));
        }
        case
    }
}

/// The text with the two accounts exchanged.
fn swap_accounts(text: &str) -> String {
    text.replace(HOME, "#")
        .replace(OTHER, HOME)
        .replace('#', OTHER)
}

/// Values of a key that come from the principal itself, which policies often compare with.
fn own_values(key: &Key, who: &Who) -> Vec<String> {
    match key.name {
        "aws:username" => who.username.map(str::to_owned).into_iter().collect(),
        "aws:PrincipalAccount" => vec![who.account.to_owned()],
        "aws:PrincipalArn" => vec![who.principal_arn.to_owned()],
        _ => Vec::new(),
    }
}

/// An ARN split before its resource id: `arn:aws:sqs:us-east-1:1:` + `orders`,
/// `arn:aws:dynamodb:...:table/` + `Orders`, `arn:aws:s3:::` + `reports/key`. Wildcards go
/// in the id only: a `*` inside the resource type (`tab*/Orders`) is not generated.
fn split_resource(resource: &str) -> (&str, &str) {
    let prefix_end = resource
        .match_indices(':')
        .nth(4)
        .map_or(resource.len(), |(i, _)| i + 1);
    let (prefix, rest) = resource.split_at(prefix_end);
    if prefix.starts_with("arn:aws:s3:::") {
        return (prefix, rest);
    }
    match rest.find(['/', ':']) {
        Some(i) => resource.split_at(prefix_end + i + 1),
        None => (prefix, rest),
    }
}

fn generate() -> Vec<Case> {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(SEED),
    };
    let mut cases: Vec<Case> = (0..CASES).map(|_| g.case()).collect();
    // The self-check: a case both evaluators must deny explicitly.
    cases.push(self_check_case());
    cases
}

fn self_check_case() -> Case {
    let allow_and_deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/*"}
    ]});
    Case {
        principal: Some("arn:aws:iam::111111111111:user/ana".into()),
        action: "s3:GetObject".into(),
        resource: "arn:aws:s3:::reports/q4/Data.csv".into(),
        resource_account: HOME.into(),
        context: BTreeMap::from([
            (
                "aws:PrincipalArn".to_owned(),
                json!("arn:aws:iam::111111111111:user/ana"),
            ),
            ("aws:PrincipalAccount".to_owned(), json!(HOME)),
        ]),
        identity: vec![allow_and_deny],
        boundary: None,
        resource_policy: None,
        session: None,
        scps: Vec::new(),
        rcps: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// xacct's side

fn document(value: &Value) -> PolicyDocument {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"))
}

fn xacct_decision(case: &Case) -> Decision {
    let identity: Vec<PolicyDocument> = case.identity.iter().map(document).collect();
    let boundary = case.boundary.as_ref().map(document);
    let resource = case.resource_policy.as_ref().map(document);
    let session = case.session.as_ref().map(document);
    let scps: Vec<PolicyDocument> = case.scps.iter().map(document).collect();
    let rcps: Vec<PolicyDocument> = case.rcps.iter().map(document).collect();
    let labeled = |document| Labeled {
        label: "policy",
        document,
    };
    let set = PolicySet {
        identity: identity.iter().map(labeled).collect(),
        boundary: boundary.as_ref().map(labeled),
        resource: resource.as_ref().map(labeled),
        resource_account: Some(case.resource_account.clone()),
        session: session.as_ref().map(labeled),
        scps: scps.iter().map(labeled).collect(),
        rcps: rcps.iter().map(labeled).collect(),
    };
    let principal = match &case.principal {
        Some(p) if p.starts_with("arn:") => RequestPrincipal::Aws(p.parse().unwrap()),
        Some(service) => RequestPrincipal::Service(service.clone()),
        None => RequestPrincipal::Anonymous,
    };
    let mut context = Context::new();
    for (key, value) in &case.context {
        match value {
            Value::String(s) => context.insert(key, vec![s.clone()]),
            Value::Array(items) => context.insert(
                key,
                items
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect(),
            ),
            other => panic!("context value {other}"),
        }
    }
    let request = Request::new(principal, &case.action, &case.resource).with_context(context);
    evaluate(&set, &request).decision
}

// ---------------------------------------------------------------------------------------
// The exclusion classes

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exclusion {
    class: String,
    reason: String,
    source: String,
}

fn all_policies(case: &Case) -> impl Iterator<Item = &Value> {
    case.identity
        .iter()
        .chain(case.boundary.iter())
        .chain(case.resource_policy.iter())
        .chain(case.session.iter())
        .chain(case.scps.iter())
        .chain(case.rcps.iter())
}

/// The policy variables of a value: (key, default).
fn variables(value: &str) -> Vec<(String, Option<String>)> {
    value
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(inner, _)| match inner.split_once(", ") {
            Some((key, default)) => (key.to_owned(), Some(default.to_owned())),
            None => (inner.to_owned(), None),
        })
        .filter(|(key, _)| !matches!(key.as_str(), "*" | "?" | "$"))
        .collect()
}

/// Every condition block of every policy of the case: (operator, key, values).
fn conditions(case: &Case) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for policy in all_policies(case) {
        for st in policy["Statement"].as_array().unwrap() {
            let Some(block) = st.get("Condition").and_then(Value::as_object) else {
                continue;
            };
            for (operator, keys) in block {
                for (key, values) in keys.as_object().unwrap() {
                    let values = match values {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => {
                            a.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
                        }
                        other => panic!("condition value {other}"),
                    };
                    out.push((operator.clone(), key.clone(), values));
                }
            }
        }
    }
    out
}

fn context_value<'a>(case: &'a Case, key: &str) -> Option<&'a Value> {
    case.context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn is_epoch(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The exclusion classes the case falls in (see tests/differential/exclusions.json).
fn classes(case: &Case) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (operator, key, values) in conditions(case) {
        let request = context_value(case, &key);
        let request_text = request.and_then(Value::as_str);
        if operator.contains("IpAddress") {
            if values.iter().any(|v| v == "0.0.0.0/0") {
                out.insert("ip-zero-prefix");
            }
            let v6 = |ip: &str| ip.contains(':');
            if let Some(r) = request_text
                && values.iter().any(|v| !v.contains('/') && v6(v) != v6(r))
            {
                out.insert("bare-ip-against-the-other-family");
            }
        }
        if operator.starts_with("ForAnyValue:")
            && operator.ends_with("IfExists")
            && request.is_none()
        {
            out.insert("for-any-value-if-exists-without-the-key");
        }
        if operator.starts_with("Date")
            && let Some(r) = request_text
            && values.iter().any(|v| is_epoch(v) != is_epoch(r))
        {
            out.insert("date-epoch-against-iso-8601");
        }
    }
    for policy in all_policies(case) {
        for st in policy["Statement"].as_array().unwrap() {
            let short = |v: &Value| {
                v.as_str()
                    .is_some_and(|r| r.starts_with("arn:") && r.split(':').count() < 6)
            };
            match st.get("NotResource") {
                Some(Value::Array(items)) if items.iter().any(short) => {
                    out.insert("short-arn-in-not-resource");
                }
                Some(v) if short(v) => {
                    out.insert("short-arn-in-not-resource");
                }
                _ => {}
            }
        }
    }
    for (operator, key, values) in conditions(case) {
        // A variable before the resource part of an ARN condition value.
        let early_variable = |v: &String| {
            let fifth_colon = v.match_indices(':').nth(4).map_or(v.len(), |(i, _)| i);
            v.find("${").is_some_and(|i| i < fifth_colon)
        };
        if operator.contains("Arn") && values.iter().any(early_variable) {
            out.insert("variable-before-the-resource-in-an-arn-condition");
        }
        let unresolvable = |v: &String| {
            variables(v)
                .iter()
                .any(|(name, default)| default.is_none() && context_value(case, name).is_none())
        };
        if !values.iter().any(unresolvable) {
            continue;
        }
        let holds_without_the_key = (operator.contains("Not")
            || operator.starts_with("ForAllValues:"))
            && !operator.ends_with("IfExists");
        if context_value(case, &key).is_none() && holds_without_the_key {
            out.insert("unresolvable-variable-with-the-key-absent");
        }
        if values.iter().any(|v| !unresolvable(v)) {
            out.insert("unresolvable-variable-among-other-values");
        }
    }
    if case.session.is_some() {
        let names_the_session = case.resource_policy.as_ref().is_some_and(|p| {
            p["Statement"].as_array().unwrap().iter().any(|st| {
                let named = |v: &Value| v.as_str() == case.principal.as_deref();
                st["Effect"] == "Allow"
                    && st
                        .get("Principal")
                        .and_then(|p| p.get("AWS"))
                        .is_some_and(|aws| match aws {
                            Value::Array(a) => a.iter().any(named),
                            v => named(v),
                        })
            })
        });
        if names_the_session {
            out.insert("resource-policy-naming-the-session-past-its-session-policy");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Coverage: what the cases exercise, counted and required.

const FEATURES: &[&str] = &[
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Deny",
    "String",
    "Numeric",
    "Date",
    "Bool",
    "Binary",
    "IpAddress",
    "Arn",
    "Null",
    "IfExists",
    "ForAnyValue",
    "ForAllValues",
    "policy variable",
    "absent key",
    "case difference",
    "resource policy",
    "cross-account resource policy",
    "trust policy",
    "key policy",
    "permissions boundary",
    "session policy",
    "SCP",
    "RCP",
    "service principal",
    "anonymous",
];

fn features(case: &Case) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for policy in all_policies(case) {
        for st in policy["Statement"].as_array().unwrap() {
            for element in ["Action", "NotAction", "Resource", "NotResource"] {
                if st.get(element).is_some() {
                    out.insert(element);
                }
            }
            if st["Effect"] == "Deny" {
                out.insert("Deny");
            }
            let differs_in_case = |v: &Value| {
                v.as_str()
                    .is_some_and(|a| a != case.action && a.eq_ignore_ascii_case(&case.action))
            };
            match st.get("Action") {
                Some(Value::Array(items)) if items.iter().any(differs_in_case) => {
                    out.insert("case difference");
                }
                Some(v) if differs_in_case(v) => {
                    out.insert("case difference");
                }
                _ => {}
            }
            if st.to_string().contains("${") {
                out.insert("policy variable");
            }
        }
    }
    for (operator, key, _) in conditions(case) {
        let base = operator
            .trim_start_matches("ForAnyValue:")
            .trim_start_matches("ForAllValues:");
        for family in ["String", "Numeric", "Date", "Bool", "Binary", "Arn", "Null"] {
            if base.starts_with(family) {
                out.insert(family);
            }
        }
        if base.contains("IpAddress") {
            out.insert("IpAddress");
        }
        if operator.ends_with("IfExists") {
            out.insert("IfExists");
        }
        for set in ["ForAnyValue", "ForAllValues"] {
            if operator.starts_with(set) {
                out.insert(set);
            }
        }
        if context_value(case, &key).is_none() {
            out.insert("absent key");
        }
    }
    let principal_account = case.principal.as_deref().and_then(|p| p.split(':').nth(4));
    if case.resource_policy.is_some() {
        out.insert("resource policy");
        if principal_account.is_some_and(|a| a != case.resource_account) {
            out.insert("cross-account resource policy");
        }
        match case.action.as_str() {
            "sts:AssumeRole" => out.insert("trust policy"),
            "kms:Decrypt" => out.insert("key policy"),
            _ => false,
        };
    }
    if case.boundary.is_some() {
        out.insert("permissions boundary");
    }
    if case.session.is_some() {
        out.insert("session policy");
    }
    if !case.scps.is_empty() {
        out.insert("SCP");
    }
    if !case.rcps.is_empty() {
        out.insert("RCP");
    }
    match case.principal.as_deref() {
        None => {
            out.insert("anonymous");
        }
        Some(p) if !p.starts_with("arn:") => {
            out.insert("service principal");
        }
        _ => {}
    }
    out
}

// ---------------------------------------------------------------------------------------
// Shrinking (XACCT_DIFFERENTIAL_SHRINK=1; `=all` for the excluded cases too): each
// disagreeing case reduced, one element at a time, to the smallest case that still
// disagrees, for reading; written to CARGO_TARGET_TMPDIR/differential/shrunk.json.

/// Every case with one element less: a policy, a statement, a list entry, a condition, a
/// context key.
fn reductions(case: &Case) -> Vec<Case> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::Array(items) => {
                let removable = items.len() > 1
                    || matches!(
                        path.last().map(String::as_str),
                        Some("identity" | "scps" | "rcps")
                    );
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    if removable {
                        out.push(path.clone());
                    }
                    walk(item, path, out);
                    path.pop();
                }
            }
            Value::Object(map) => {
                let parent = path.last().cloned().unwrap_or_default();
                let grandparent = path.iter().rev().nth(1).cloned().unwrap_or_default();
                for (key, item) in map {
                    path.push(key.clone());
                    // The keys AWS always sets for an IAM principal stay.
                    let always =
                        matches!(key.as_str(), "aws:PrincipalArn" | "aws:PrincipalAccount");
                    let removable = (parent == "context" && !always)
                        || key == "Condition"
                        || parent == "Condition"
                        || (grandparent == "Condition" && map.len() > 1)
                        || (path.len() == 1
                            && matches!(key.as_str(), "boundary" | "resource_policy" | "session")
                            && !item.is_null());
                    if removable {
                        out.push(path.clone());
                    }
                    walk(item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    fn remove(value: &mut Value, path: &[String]) {
        let Some((last, head)) = path.split_last() else {
            return;
        };
        let mut at = value;
        for step in head {
            at = match at {
                Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
                Value::Object(map) => map.get_mut(step).unwrap(),
                _ => return,
            };
        }
        match at {
            Value::Array(items) => {
                items.remove(last.parse::<usize>().unwrap());
            }
            Value::Object(map) if head.is_empty() => {
                map.insert(last.clone(), Value::Null);
            }
            Value::Object(map) => {
                map.remove(last);
            }
            _ => {}
        }
    }
    let value = serde_json::to_value(case).unwrap();
    let mut paths = Vec::new();
    walk(&value, &mut Vec::new(), &mut paths);
    paths
        .iter()
        .filter_map(|path| {
            let mut reduced = value.clone();
            remove(&mut reduced, path);
            serde_json::from_value(reduced).ok()
        })
        .collect()
}

fn disagrees(case: &Case, answer: &Answer) -> bool {
    answer.error.is_none()
        && answer.ignored.is_none()
        && answer.decision.as_deref() != Some(xacct_decision(case).to_string().as_str())
}

fn shrink(mut failing: Vec<Case>) {
    loop {
        let candidates: Vec<Vec<Case>> = failing.iter().map(reductions).collect();
        let flat: Vec<Case> = candidates.iter().flatten().cloned().collect();
        let Some(answers) = simulate(&flat) else {
            return;
        };
        let mut answers = answers.into_iter();
        let mut progressed = false;
        for (case, reduced) in failing.iter_mut().zip(candidates) {
            let mut replacement = None;
            for candidate in reduced {
                let answer = answers.next().unwrap();
                if replacement.is_none() && disagrees(&candidate, &answer) {
                    replacement = Some(candidate);
                }
            }
            if let Some(smaller) = replacement {
                *case = smaller;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let shown: Vec<Value> = failing
        .iter()
        .map(|c| json!({"xacct": xacct_decision(c).to_string(), "classes": classes(c), "case": c}))
        .collect();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("differential/shrunk.json");
    std::fs::write(&path, serde_json::to_string_pretty(&shown).unwrap()).unwrap();
    eprintln!("shrunk cases: {}", path.display());
}

// ---------------------------------------------------------------------------------------
// The run

#[derive(Debug, Deserialize)]
struct Answer {
    decision: Option<String>,
    error: Option<Value>,
    ignored: Option<Value>,
}

fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracle")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The other evaluator's answers, or `None` (test skipped) when it is not installed outside CI.
fn simulate(cases: &[Case]) -> Option<Vec<Answer>> {
    let oracle = oracle_dir();
    let installed = oracle
        .join("node_modules/@cloud-copilot/iam-simulate/package.json")
        .is_file();
    let node = Command::new("node").arg("--version").output().is_ok();
    if !(installed && node) {
        assert!(
            !in_ci(),
            "node or @cloud-copilot/iam-simulate is missing: run tests/oracle/setup.sh (make test does)"
        );
        eprintln!(
            "skipped: node or @cloud-copilot/iam-simulate is missing (tests/oracle/setup.sh)"
        );
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("differential");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.json");
    let output = dir.join("answers.json");
    std::fs::write(&input, serde_json::to_vec(cases).unwrap()).unwrap();
    let status = Command::new("node")
        .arg(oracle.join("simulate.mjs"))
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "tests/oracle/simulate.mjs failed: {status}"
    );
    let answers: Vec<Answer> = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    Some(answers)
}

#[test]
fn xacct_agrees_with_iam_simulate_outside_the_documented_exclusions() {
    let exclusions: Vec<Exclusion> =
        serde_json::from_str(include_str!("differential/exclusions.json")).unwrap();
    for e in &exclusions {
        assert!(!e.reason.is_empty(), "{}: a reason", e.class);
        assert!(
            e.source.starts_with("https://docs.aws.amazon.com/"),
            "{}: an AWS documentation link",
            e.class
        );
    }
    let listed: BTreeSet<&str> = exclusions.iter().map(|e| e.class.as_str()).collect();

    let cases = generate();
    // The generator is deterministic: the same seed gives the same cases.
    assert_eq!(
        serde_json::to_string(&cases[..50]).unwrap(),
        serde_json::to_string(&generate()[..50]).unwrap()
    );
    let mut coverage: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        for feature in features(case) {
            *coverage.entry(feature).or_default() += 1;
        }
    }
    println!("differential coverage (cases per feature): {coverage:?}");
    for feature in FEATURES {
        let n = coverage.get(feature).copied().unwrap_or(0);
        assert!(n >= 100, "only {n} cases exercise {feature}");
    }
    let Some(answers) = simulate(&cases) else {
        return;
    };

    let mut agreed = 0usize;
    let mut excluded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut decisions: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut failing: Vec<Case> = Vec::new();
    for (i, (case, answer)) in cases.iter().zip(&answers).enumerate() {
        if let Some(error) = &answer.error {
            failures.push(format!(
                "case {i}: iam-simulate refused it: {error}\n{}",
                json!(case)
            ));
            continue;
        }
        if let Some(ignored) = &answer.ignored {
            failures.push(format!(
                "case {i}: iam-simulate ignored context keys {ignored}"
            ));
            continue;
        }
        let theirs = answer.decision.clone().unwrap_or_default();
        let ours = xacct_decision(case).to_string();
        *decisions.entry(ours.clone()).or_default() += 1;
        if ours == theirs {
            agreed += 1;
            continue;
        }
        let classes = classes(case);
        match classes.iter().find(|c| listed.contains(*c)) {
            Some(class) => {
                *excluded.entry(class).or_default() += 1;
                if std::env::var("XACCT_DIFFERENTIAL_SHRINK").as_deref() == Ok("all") {
                    failing.push(case.clone());
                }
            }
            None => {
                failing.push(case.clone());
                failures.push(format!(
                    "case {i}: xacct says {ours}, iam-simulate {theirs} (classes {classes:?})\n{}",
                    serde_json::to_string_pretty(case).unwrap()
                ));
            }
        }
    }
    if std::env::var_os("XACCT_DIFFERENTIAL_SHRINK").is_some() && !failing.is_empty() {
        shrink(failing);
    }
    let total = cases.len();
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("differential/failures.txt");
    std::fs::write(&report, failures.join("\n\n")).unwrap();
    println!(
        "differential: {total} cases, {agreed} agreed, {} excluded {excluded:?}, {} disagreed; xacct's decisions {decisions:?}",
        excluded.values().sum::<usize>(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases disagree outside the exclusions; the first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // The comparison really ran, over a spread of outcomes, and the self-check was denied by
    // both.
    assert_eq!(total, CASES + 1);
    assert_eq!(
        answers.last().and_then(|a| a.decision.as_deref()),
        Some("explicit_deny")
    );
    assert_eq!(
        xacct_decision(cases.last().unwrap()),
        Decision::ExplicitDeny
    );
    for decision in ["allow", "explicit_deny", "implicit_deny"] {
        let n = decisions.get(decision).copied().unwrap_or(0);
        assert!(n * 10 >= total, "only {n} cases decided {decision}");
    }
    for class in excluded.keys() {
        assert!(listed.contains(class));
    }
}
