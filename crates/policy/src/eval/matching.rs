//! Wildcard matching as IAM does it: `*` any run of characters, `?` one character; actions
//! case-insensitive, ARNs case-sensitive and segment by segment; policy variables
//! (`${aws:username}`, `${*}`) substituted from the request context.

use super::Context;

/// Whether `text` fits `pattern` with `*` and `?` wildcards.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
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
            (Some('*'), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some('?'), Some(_)) => {
                pi += 1;
                ti += 1;
            }
            (Some(&pc), Some(&tc)) if eq(pc, tc) => {
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
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// Whether an action fits an `Action`/`NotAction` entry (case-insensitive).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern, action, true)
}

/// Whether an ARN fits an ARN pattern: `*` alone matches anything; otherwise the first five
/// segments match one by one and the resource part as a whole.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if a.len() != 6 {
        return !pattern.starts_with("arn:")
            && !arn.starts_with("arn:")
            && glob(pattern, arn, false);
    }
    if p.len() < 6 {
        // Fewer segments: a `*` that ends the last one expands beyond the colons
        // (`arn:aws:sqs:*` is every SQS ARN); without one the pattern matches nothing (IAM
        // User Guide, Resource element, wildcards in resource ARNs).
        let Some((last, head)) = p.split_last() else {
            return false;
        };
        if !last.ends_with('*') {
            return false;
        }
        let rest = a.get(head.len()..).unwrap_or_default().join(":");
        return head.iter().zip(a.iter()).all(|(p, a)| glob(p, a, false))
            && glob(last, &rest, false);
    }
    p.iter().zip(a.iter()).all(|(p, a)| glob(p, a, false))
}

/// Replaces `${key}` policy variables with context values. `None` when a variable has no
/// value: then the element cannot match, as in IAM.
pub fn substitute(text: &str, context: &Context) -> Option<String> {
    if !text.contains("${") {
        return Some(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after.find('}')?;
        let inner = after.get(..end).unwrap_or_default();
        match inner {
            "*" | "?" | "$" => out.push_str(inner),
            _ => {
                // `${aws:username, 'default'}` carries a default value.
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (inner.trim(), None),
                };
                match context.get(key).and_then(|v| v.first()) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(default?),
                }
            }
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
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
