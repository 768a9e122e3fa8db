//! Wildcard matching as IAM does it: `*` any run of characters, `?` one character; actions
//! case-insensitive, ARNs case-sensitive and segment by segment; policy variables
//! (`${aws:username}`, `${*}`) substituted from the request context, their values (and
//! `${*}`, `${?}`, `${$}`) matched as literal characters, never as wildcards.

use super::Context;

/// One element of a wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

fn tokens(pattern: &str) -> Vec<Token> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Token::Any,
            '?' => Token::One,
            c => Token::Char(c),
        })
        .collect()
}

/// Whether `text` fits `pattern` with `*` and `?` wildcards.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    glob_tokens(&tokens(pattern), text, ignore_case)
}

fn glob_tokens(p: &[Token], text: &str, ignore_case: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // Iterative matching with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some(Token::Any), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some(Token::One), Some(_)) => {
                pi += 1;
                ti += 1;
            }
            (Some(&Token::Char(pc)), Some(&tc)) if eq(pc, tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .unwrap_or_default()
        .iter()
        .all(|c| *c == Token::Any)
}

/// Whether an action fits an `Action`/`NotAction` entry (case-insensitive).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern, action, true)
}

/// Whether an ARN fits an ARN pattern: `*` alone matches anything; otherwise the first five
/// segments match one by one and the resource part as a whole.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    arn_tokens_match(&tokens(pattern), arn)
}

fn arn_tokens_match(pattern: &[Token], arn: &str) -> bool {
    if pattern == [Token::Any] {
        return true;
    }
    let p: Vec<&[Token]> = pattern.splitn(6, |t| *t == Token::Char(':')).collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    let is_arn = |p: &[Token]| p.starts_with(&tokens("arn:"));
    if a.len() != 6 {
        return !is_arn(pattern) && !arn.starts_with("arn:") && glob_tokens(pattern, arn, false);
    }
    if p.len() < 6 {
        // Fewer segments: a `*` that ends the last one expands beyond the colons
        // (`arn:aws:sqs:*` is every SQS ARN); without one the pattern matches nothing (IAM
        // User Guide, Resource element, wildcards in resource ARNs).
        let Some((last, head)) = p.split_last() else {
            return false;
        };
        if last.last() != Some(&Token::Any) {
            return false;
        }
        let rest = a.get(head.len()..).unwrap_or_default().join(":");
        return head
            .iter()
            .zip(a.iter())
            .all(|(p, a)| glob_tokens(p, a, false))
            && glob_tokens(last, &rest, false);
    }
    p.iter()
        .zip(a.iter())
        .all(|(p, a)| glob_tokens(p, a, false))
}

/// Whether a `Resource` or `NotResource` entry fits the request's resource. Policy variables
/// are substituted in the resource part only (after the fifth colon); before it they are
/// text that matches nothing (IAM User Guide, policy variables, Resource element). `None`
/// when a variable there has no value.
pub(crate) fn resource_matches(pattern: &str, arn: &str, context: &Context) -> Option<bool> {
    let mut at = 0;
    for _ in 0..5 {
        match pattern.get(at..).and_then(|rest| rest.find(':')) {
            Some(i) => at += i + 1,
            None => return Some(arn_matches(pattern, arn)),
        }
    }
    let (head, resource) = pattern.split_at(at);
    let mut all = tokens(head);
    all.extend(substitute_tokens(resource, context)?);
    Some(arn_tokens_match(&all, arn))
}

/// `StringLike` and the ARN operators: whether `value` fits the policy value, with its
/// variables substituted. `None` when a variable has no value.
pub(crate) fn like(policy: &str, value: &str, context: &Context) -> Option<bool> {
    Some(glob_tokens(
        &substitute_tokens(policy, context)?,
        value,
        false,
    ))
}

/// The ARN operators (`ArnLike`, `ArnEquals`): segment by segment, variables substituted.
pub(crate) fn arn_like(policy: &str, value: &str, context: &Context) -> Option<bool> {
    Some(arn_tokens_match(
        &substitute_tokens(policy, context)?,
        value,
    ))
}

/// Replaces `${key}` policy variables with context values, for comparisons without
/// wildcards. `None` when a variable has no value: then the element cannot match, as in IAM.
pub fn substitute(text: &str, context: &Context) -> Option<String> {
    Some(
        substitute_tokens(text, context)?
            .into_iter()
            .map(|t| match t {
                Token::Char(c) => c,
                Token::Any => '*',
                Token::One => '?',
            })
            .collect(),
    )
}

fn substitute_tokens(text: &str, context: &Context) -> Option<Vec<Token>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.extend(tokens(rest.get(..start).unwrap_or_default()));
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after.find('}')?;
        let inner = after.get(..end).unwrap_or_default();
        match inner {
            // The characters themselves, never wildcards (IAM User Guide, policy variables,
            // special characters).
            "*" | "?" | "$" => out.extend(inner.chars().map(Token::Char)),
            _ => {
                // `${aws:username, 'default'}` carries a default value.
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (inner.trim(), None),
                };
                let value = match context.get(key).and_then(|v| v.first()) {
                    Some(value) => value.as_str(),
                    None => default?,
                };
                out.extend(value.chars().map(Token::Char));
            }
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.extend(tokens(rest));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_basics() {
        assert!(glob("s3:Get*", "s3:GetObject", false));
        assert!(glob("*", "", false));
        assert!(glob("a?c", "abc", false));
        assert!(!glob("a?c", "ac", false));
        assert!(glob("*Object*", "s3:GetObjectAcl", false));
        assert!(!glob("s3:get*", "s3:GetObject", false));
        assert!(glob("s3:get*", "s3:GetObject", true));
        assert!(glob("a*b*c", "axxbyyc", false));
        assert!(!glob("a*b*c", "axxbyy", false));
    }

    #[test]
    fn arn_segments_do_not_run_into_each_other() {
        assert!(arn_matches(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b"
        ));
        assert!(!arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        assert!(arn_matches(
            "arn:aws:ec2:*:111111111111:instance/*",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-1"
        ));
        assert!(!arn_matches(
            "arn:aws:ec2:*:instance/i-1",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-1"
        ));
        assert!(!arn_matches("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket"));
        assert!(arn_matches(
            "arn:aws:lambda:us-east-1:111111111111:function:f:*",
            "arn:aws:lambda:us-east-1:111111111111:function:f:PROD"
        ));
        assert!(!arn_matches(
            "arn:aws:lambda:us-east-1:111111111111:function:f",
            "arn:aws:lambda:us-east-1:111111111111:function:f:PROD"
        ));
    }

    #[test]
    fn policy_variables() {
        let ctx = Context::new().with("aws:username", "bob");
        assert_eq!(
            substitute("arn:aws:s3:::home/${aws:username}/*", &ctx).as_deref(),
            Some("arn:aws:s3:::home/bob/*")
        );
        assert_eq!(substitute("a${*}b", &ctx).as_deref(), Some("a*b"));
        assert_eq!(substitute("${aws:userid}", &ctx), None);
        assert_eq!(
            substitute("${aws:userid, 'none'}", &ctx).as_deref(),
            Some("none")
        );
    }

    #[test]
    fn special_character_variables_and_values_are_literal() {
        let ctx = Context::new().with("aws:username", "b*");
        assert_eq!(like("q4/${*}", "q4/*", &ctx), Some(true));
        assert_eq!(like("q4/${*}", "q4/Data.csv", &ctx), Some(false));
        assert_eq!(like("q${?}", "qx", &ctx), Some(false));
        assert_eq!(like("home/${aws:username}", "home/bob", &ctx), Some(false));
        assert_eq!(like("home/${aws:username}", "home/b*", &ctx), Some(true));
        assert_eq!(like("${aws:userid}", "x", &ctx), None);
    }

    #[test]
    fn resource_variables_are_substituted_after_the_fifth_colon_only() {
        let ctx = Context::new()
            .with("aws:PrincipalAccount", "111111111111")
            .with("aws:username", "ana");
        let queue = "arn:aws:sqs:us-east-1:111111111111:ana";
        assert_eq!(
            resource_matches(
                "arn:aws:sqs:us-east-1:111111111111:${aws:username}",
                queue,
                &ctx
            ),
            Some(true)
        );
        assert_eq!(
            resource_matches(
                "arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:ana",
                queue,
                &ctx
            ),
            Some(false)
        );
        assert_eq!(
            resource_matches(
                "arn:aws:sqs:us-east-1:111111111111:${aws:userid}",
                queue,
                &ctx
            ),
            None
        );
        assert_eq!(resource_matches("*", queue, &ctx), Some(true));
    }

    #[test]
    fn a_star_ending_a_short_pattern_expands_beyond_the_colons() {
        let queue = "arn:aws:sqs:us-east-1:111111111111:orders";
        assert!(arn_matches("arn:aws:sqs:*", queue));
        assert!(arn_matches("arn:aws:sqs:us-east-1:*", queue));
        assert!(arn_matches("arn:aws:*", queue));
        assert!(!arn_matches("arn:aws:dynamodb:*", queue));
        assert!(!arn_matches("arn:aws:sqs:eu-west-1:*", queue));
        assert!(!arn_matches("arn:aws:sqs", queue));
        // The expanding segment stands where it stands: here for the account, which
        // `instance/*` does not fit.
        assert!(!arn_matches(
            "arn:aws:ec2:*:instance/*",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-1"
        ));
    }
}
