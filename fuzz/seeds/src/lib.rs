//! The input of the `evaluate` fuzz target and its seeds, written in `arbitrary`'s byte layout
//! so that libFuzzer starts from requests and policies that reach deep into the evaluator.
//!
//! `arbitrary` 1.5 decodes a derived struct field by field: integers, flags and string
//! contents from the front, each string's length from the back (1 byte while at most 256
//! bytes remain, else 2, big endian), `Vec` elements each after a byte with the low bit set
//! and ended by one without, `Option` after a flag byte, and the last field (`policy`) takes
//! whatever is left. [`encode`] writes a seed in that layout; the tests decode every seed back
//! with `arbitrary` itself, so a change of the struct or of `arbitrary` that breaks the
//! layout fails here rather than silently leaving libFuzzer with useless seeds.

use arbitrary::Arbitrary;

/// Fields in the order [`encode`] writes them; `policy` last, so it takes the rest of the
/// input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Arbitrary)]
pub struct EvaluateInput {
    /// An ARN (`Aws`), a service principal (`*.amazonaws.com`) or `*` (anonymous).
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// At most four keys of four values each are used.
    pub context: Vec<(String, Vec<String>)>,
    /// The policy is the resource's policy (else the principal's identity policy).
    pub resource_policy: bool,
    /// The account owning the resource; `None` means the principal's own account.
    pub resource_account: Option<String>,
    pub glob_pattern: String,
    pub glob_text: String,
    pub glob_ignore_case: bool,
    /// Policy JSON.
    pub policy: String,
}

/// Why a seed cannot be written in `arbitrary`'s layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A string length would need 4 bytes (more than 65,537 bytes left); no seed is that big.
    TooLarge,
    /// The lengths' widths depend on each other and did not settle.
    Unsettled,
}

/// One step of the front of the input: a flag or a string's contents.
enum Part<'a> {
    Byte(u8),
    Text(&'a [u8]),
}

fn text(s: &str) -> Part<'_> {
    Part::Text(s.as_bytes())
}

/// Every field but `policy`, in declaration order.
fn parts(input: &EvaluateInput) -> Vec<Part<'_>> {
    let mut out = vec![
        text(&input.principal),
        text(&input.action),
        text(&input.resource),
    ];
    for (key, values) in &input.context {
        out.extend([Part::Byte(1), text(key)]);
        for value in values {
            out.extend([Part::Byte(1), text(value)]);
        }
        out.push(Part::Byte(0));
    }
    out.push(Part::Byte(0));
    out.push(Part::Byte(input.resource_policy.into()));
    match &input.resource_account {
        Some(account) => out.extend([Part::Byte(1), text(account)]),
        None => out.push(Part::Byte(0)),
    }
    out.extend([text(&input.glob_pattern), text(&input.glob_text)]);
    out.push(Part::Byte(input.glob_ignore_case.into()));
    out
}

/// The bytes that `EvaluateInput::arbitrary_take_rest` decodes into `input`.
pub fn encode(input: &EvaluateInput) -> Result<Vec<u8>, EncodeError> {
    let parts = parts(input);
    let policy = input.policy.as_bytes();
    let texts: Vec<&[u8]> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(*t),
            Part::Byte(_) => None,
        })
        .collect();
    let flags = parts.len() - texts.len();
    let content: usize = texts.iter().map(|t| t.len()).sum::<usize>() + policy.len() + flags;
    // A length's width depends on how many bytes remain when it is read, which depends on
    // every length's width: start from 1 byte each and widen until nothing changes (the
    // least widths that fit).
    let mut widths = vec![1; texts.len()];
    let mut settled = None;
    for _ in 0..10 {
        let mut remaining = content + widths.iter().sum::<usize>();
        let mut new_widths = Vec::with_capacity(texts.len());
        let mut sizes: Vec<Vec<u8>> = Vec::with_capacity(texts.len());
        for part in &parts {
            let data = match part {
                Part::Byte(_) => {
                    remaining -= 1;
                    continue;
                }
                Part::Text(data) => data,
            };
            let width = match remaining {
                // arbitrary reads no length at all from fewer than 2 bytes.
                0..=1 => return Err(EncodeError::Unsettled),
                2..=256 => 1,
                257..=65_537 => 2,
                _ => return Err(EncodeError::TooLarge),
            };
            remaining -= width;
            if data.len() > remaining {
                return Err(EncodeError::Unsettled);
            }
            new_widths.push(width);
            let len = data.len();
            // With exactly 257 bytes left arbitrary would read only the first of two length
            // bytes; the least widths never leave a length there, as a 1-byte one fits.
            sizes.push(match width {
                1 => vec![len as u8],
                _ => (len as u16).to_be_bytes().to_vec(),
            });
            remaining -= len;
        }
        if new_widths == widths {
            settled = Some(sizes);
            break;
        }
        widths = new_widths;
    }
    let sizes = settled.ok_or(EncodeError::Unsettled)?;
    let mut out = Vec::with_capacity(content + widths.iter().sum::<usize>());
    for part in &parts {
        match part {
            Part::Byte(b) => out.push(*b),
            Part::Text(t) => out.extend_from_slice(t),
        }
    }
    out.extend_from_slice(policy);
    // Lengths are read from the end: the first string's length is the last bytes.
    for size in sizes.iter().rev() {
        out.extend_from_slice(size);
    }
    Ok(out)
}

fn seed(principal: &str, action: &str, resource: &str, policy: &str) -> EvaluateInput {
    EvaluateInput {
        principal: principal.to_owned(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        policy: policy.to_owned(),
        ..EvaluateInput::default()
    }
}

fn context(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pairs
        .iter()
        .map(|(key, values)| {
            (
                (*key).to_owned(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            )
        })
        .collect()
}

/// The seeds of `fuzz/corpus/evaluate/`, by file name (without `.bin`): identity and
/// resource policies, trust policies with an External ID, `NotAction`/`NotResource`/
/// `NotPrincipal`, every kind of condition operator, policy variables, service and anonymous
/// principals, other partitions, and globs from trivial to pathological.
pub fn evaluate_seeds() -> Vec<(&'static str, EvaluateInput)> {
    vec![
        (
            "identity_allow_get_object",
            EvaluateInput {
                glob_pattern: "s3:Get*".into(),
                glob_text: "s3:GetObject".into(),
                ..seed(
                    "arn:aws:iam::111111111111:user/bob",
                    "s3:GetObject",
                    "arn:aws:s3:::amzn-s3-demo-bucket/x",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
                )
            },
        ),
        (
            "cross_account_resource_policy",
            EvaluateInput {
                resource_policy: true,
                resource_account: Some("222222222222".into()),
                glob_pattern: "arn:aws:s3:::*/x".into(),
                glob_text: "arn:aws:s3:::amzn-s3-demo-bucket/x".into(),
                ..seed(
                    "arn:aws:iam::111111111111:user/bob",
                    "s3:PutObject",
                    "arn:aws:s3:::amzn-s3-demo-bucket/x",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"TrustAccountA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
                )
            },
        ),
        (
            "trust_policy_external_id",
            EvaluateInput {
                context: context(&[("sts:ExternalId", &["abc-123"])]),
                resource_policy: true,
                resource_account: Some("111111111111".into()),
                glob_pattern: "STS:assume*".into(),
                glob_text: "sts:AssumeRole".into(),
                glob_ignore_case: true,
                ..seed(
                    "arn:aws:sts::222222222222:assumed-role/requestor/session",
                    "sts:AssumeRole",
                    "arn:aws:iam::111111111111:role/xacct/grant",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/requestor"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc-123"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/*"}}}]}"#,
                )
            },
        ),
        (
            "deny_not_action_not_resource",
            EvaluateInput {
                // A long run of `*` against a text it cannot match: the glob must stay fast.
                glob_pattern: format!("{}x", "*".repeat(65)),
                glob_text: format!("{}y", "a".repeat(65)),
                ..seed(
                    "arn:aws-cn:iam::111111111111:role/app",
                    "iam:CreateUser",
                    "arn:aws-cn:iam::111111111111:user/eve",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"},{"Sid":"NoOthers","Effect":"Deny","Action":"*","NotResource":["arn:aws-cn:s3:::b","arn:aws-cn:s3:::b/*"]}]}"#,
                )
            },
        ),
        (
            "dates_ips_numbers",
            EvaluateInput {
                context: context(&[
                    ("aws:CurrentTime", &["2026-11-22T12:00:00Z"]),
                    ("aws:SourceIp", &["203.0.113.9"]),
                    ("s3:max-keys", &["5"]),
                    ("aws:MultiFactorAuthAge", &["120"]),
                ]),
                glob_pattern: "a*b*c?".into(),
                glob_text: "axxbyycz".into(),
                ..seed(
                    "arn:aws:iam::111111111111:user/alice",
                    "s3:ListBucket",
                    "arn:aws:s3:::b",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00+01:00"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24","2001:db8::/32"]},"NumericLessThanEquals":{"s3:max-keys":10},"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"},"Bool":{"aws:SecureTransport":true},"Null":{"aws:TokenIssueTime":"true"}}}]}"#,
                )
            },
        ),
        (
            "policy_variables_home_folder",
            EvaluateInput {
                context: context(&[("aws:username", &["bob"])]),
                glob_pattern: "${*}".into(),
                glob_text: "${*}".into(),
                ..seed(
                    "arn:aws:iam::111111111111:user/bob",
                    "s3:PutObject",
                    "arn:aws:s3:::home/bob/notes.txt",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":["arn:aws:s3:::home/${aws:username}/*","arn:aws:s3:::home/${aws:userid, 'none'}/${*}"]}]}"#,
                )
            },
        ),
        (
            "service_principal_lambda",
            EvaluateInput {
                resource_policy: true,
                resource_account: Some("111111111111".into()),
                ..seed(
                    "lambda.amazonaws.com",
                    "sts:AssumeRole",
                    "arn:aws:iam::111111111111:role/fn",
                    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}}"#,
                )
            },
        ),
        (
            "multivalued_tag_keys",
            EvaluateInput {
                context: context(&[
                    ("aws:TagKeys", &["team", "cost-center"]),
                    ("aws:RequestTag/team", &["red"]),
                ]),
                glob_pattern: "?".into(),
                glob_text: "é".into(),
                ..seed(
                    "arn:aws-us-gov:iam::111111111111:role/tagger",
                    "ec2:CreateTags",
                    "arn:aws-us-gov:ec2:us-gov-west-1:111111111111:instance/i-0abc",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws-us-gov:ec2:*:111111111111:instance/*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["team","cost-*"]},"ForAnyValue:StringEqualsIgnoreCase":{"aws:RequestTag/team":["RED","blue"]},"StringNotEqualsIfExists":{"aws:ResourceTag/owner":"other"}}}]}"#,
                )
            },
        ),
        (
            "anonymous_not_principal",
            EvaluateInput {
                resource_policy: true,
                resource_account: Some("111111111111".into()),
                glob_pattern: "*.html".into(),
                glob_text: "index.HTML".into(),
                glob_ignore_case: true,
                ..seed(
                    "*",
                    "s3:GetObject",
                    "arn:aws:s3:::public/index.html",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public/*"},{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111","arn:aws:iam::111111111111:role/admin"]},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::public/*"}]}"#,
                )
            },
        ),
        (
            "lambda_qualified_boundary_like",
            EvaluateInput {
                context: context(&[("aws:PrincipalTag/team", &["platform"])]),
                glob_pattern: "function:f:*".into(),
                glob_text: "function:f:PROD".into(),
                ..seed(
                    "arn:aws:sts::111111111111:assumed-role/deployer/ci",
                    "lambda:InvokeFunction",
                    "arn:aws:lambda:us-east-1:111111111111:function:f:PROD",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:Invoke*","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"platform"},"DateGreaterThan":{"aws:CurrentTime":"1700000000"}}}]}"#,
                )
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::Unstructured;
    use std::path::Path;

    fn decode(bytes: &[u8]) -> EvaluateInput {
        // What libfuzzer-sys's `fuzz_target!` does with the bytes it is given.
        EvaluateInput::arbitrary_take_rest(Unstructured::new(bytes)).unwrap()
    }

    #[test]
    fn every_seed_decodes_back_into_itself_through_arbitrary() {
        for (name, seed) in evaluate_seeds() {
            assert_eq!(decode(&encode(&seed).unwrap()), seed, "{name}");
        }
    }

    #[test]
    fn lengths_of_one_and_two_bytes_decode_at_every_size() {
        // Lengths of 2 bytes while more than 256 bytes remain, of 1 byte after: the widths
        // change in the middle of an input, at every position.
        let mut unsettled = 0;
        for principal in 0..12 {
            for size in 0..700 {
                let seed = EvaluateInput {
                    context: context(&[("aws:username", &["bob", ""])]),
                    resource_account: Some("111111111111".into()),
                    glob_pattern: "*".repeat(size % 300),
                    ..seed(
                        &"p".repeat(principal),
                        "s3:GetObject",
                        "r",
                        &"x".repeat(size),
                    )
                };
                match encode(&seed) {
                    Ok(bytes) => assert_eq!(decode(&bytes), seed, "{principal} {size}"),
                    Err(EncodeError::Unsettled) => unsettled += 1,
                    Err(e) => panic!("{principal} {size}: {e:?}"),
                }
            }
        }
        assert_eq!(unsettled, 0, "sizes that could not be written");
        let large = seed("p", "a", "r", &"x".repeat(60_000));
        assert_eq!(decode(&encode(&large).unwrap()), large);
        let too_large = EvaluateInput {
            principal: "p".repeat(70_000),
            ..EvaluateInput::default()
        };
        assert_eq!(encode(&too_large), Err(EncodeError::TooLarge));
    }

    #[test]
    fn the_committed_corpus_is_what_the_generator_writes() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/evaluate");
        let mut committed: Vec<String> = std::fs::read_dir(&corpus)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        committed.sort();
        let mut written: Vec<String> = evaluate_seeds()
            .iter()
            .map(|(name, _)| format!("{name}.bin"))
            .collect();
        written.sort();
        assert_eq!(committed, written);
        for (name, seed) in evaluate_seeds() {
            let file = corpus.join(format!("{name}.bin"));
            assert_eq!(
                std::fs::read(&file).unwrap(),
                encode(&seed).unwrap(),
                "{} differs from the generator's: cargo run --manifest-path fuzz/Cargo.toml -p xacct-fuzz-seeds",
                file.display()
            );
        }
    }
}
