//! The `Condition` element: operators (String, Arn, Bool, Null, Numeric, Date, IpAddress,
//! Binary), `...IfExists`, `ForAnyValue:`/`ForAllValues:`, several values (OR) and several
//! keys and operators (AND), following "IAM JSON policy elements: Condition operators"
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

use std::net::IpAddr;

use super::Context;
use super::matching::{arn_like, like, substitute};
use crate::document::Condition;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(std::cmp::Ordering, bool),
    Date(std::cmp::Ordering, bool),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    AnyValue,
    AllValues,
}

/// A parsed condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    base: Base,
    negated: bool,
    if_exists: bool,
    set: SetOp,
}

impl Operator {
    /// Parses `StringEquals`, `ForAllValues:StringLike`, `ArnNotLikeIfExists`, ... `None` for
    /// an operator IAM does not have.
    pub fn parse(text: &str) -> Option<Self> {
        let (set, rest) = if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (SetOp::AnyValue, r)
        } else if let Some(r) = text.strip_prefix("ForAllValues:") {
            (SetOp::AllValues, r)
        } else {
            (SetOp::Single, text)
        };
        let (if_exists, name) = match rest.strip_suffix("IfExists") {
            Some(n) if n != "Null" => (true, n),
            _ => (false, rest),
        };
        use std::cmp::Ordering::{Equal, Greater, Less};
        let (base, negated) = match name {
            "StringEquals" => (Base::StringEquals, false),
            "StringNotEquals" => (Base::StringEquals, true),
            "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
            "StringLike" => (Base::StringLike, false),
            "StringNotLike" => (Base::StringLike, true),
            "NumericEquals" => (Base::Numeric(Equal, false), false),
            "NumericNotEquals" => (Base::Numeric(Equal, false), true),
            "NumericLessThan" => (Base::Numeric(Less, false), false),
            "NumericLessThanEquals" => (Base::Numeric(Less, true), false),
            "NumericGreaterThan" => (Base::Numeric(Greater, false), false),
            "NumericGreaterThanEquals" => (Base::Numeric(Greater, true), false),
            "DateEquals" => (Base::Date(Equal, false), false),
            "DateNotEquals" => (Base::Date(Equal, false), true),
            "DateLessThan" => (Base::Date(Less, false), false),
            "DateLessThanEquals" => (Base::Date(Less, true), false),
            "DateGreaterThan" => (Base::Date(Greater, false), false),
            "DateGreaterThanEquals" => (Base::Date(Greater, true), false),
            "Bool" => (Base::Bool, false),
            "BinaryEquals" => (Base::Binary, false),
            "IpAddress" => (Base::Ip, false),
            "NotIpAddress" => (Base::Ip, true),
            "ArnEquals" | "ArnLike" => (Base::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Base::Arn, true),
            "Null" => (Base::Null, false),
            _ => return None,
        };
        if base == Base::Null && (if_exists || set != SetOp::Single) {
            return None;
        }
        Some(Self {
            base,
            negated,
            if_exists,
            set,
        })
    }

    /// Whether the operator holds for the request's values of one key.
    fn holds(
        self,
        policy_values: &[String],
        request_values: Option<&[String]>,
        context: &Context,
    ) -> bool {
        let present = request_values.filter(|v| !v.is_empty());
        if self.base == Base::Null {
            // `Null: true` means the key is absent.
            return policy_values
                .iter()
                .any(|p| p.eq_ignore_ascii_case("true") == present.is_none());
        }
        // `...IfExists` with the key absent holds whatever its values: AWS recommends it
        // precisely so that variables without a value do not invalidate the statement (IAM
        // User Guide, policy variables).
        if present.is_none() && self.if_exists {
            return true;
        }
        // Otherwise a policy variable with no value in the request makes the condition false,
        // for negated operators too: it is not "differs from nothing" (IAM User Guide, policy
        // variables: no value, no match).
        if policy_values
            .iter()
            .any(|p| self.substitutes() && substitute(p, context).is_none())
        {
            return false;
        }
        let Some(values) = present else {
            return match self.set {
                // A missing key makes positive operators false and negated ones true, except
                // that `...IfExists` is true either way.
                SetOp::Single => self.if_exists || self.negated,
                SetOp::AnyValue => self.if_exists,
                SetOp::AllValues => true,
            };
        };
        let one = |value: &String| -> bool {
            let any = policy_values
                .iter()
                .any(|p| self.positive(p, value, context).unwrap_or(false));
            any != self.negated
        };
        match self.set {
            SetOp::Single => {
                if self.negated {
                    values.iter().all(one)
                } else {
                    values.iter().any(one)
                }
            }
            SetOp::AnyValue => values.iter().any(one),
            SetOp::AllValues => values.iter().all(one),
        }
    }

    /// Whether policy values of this operator may hold policy variables.
    fn substitutes(self) -> bool {
        matches!(
            self.base,
            Base::StringEquals | Base::StringEqualsIgnoreCase | Base::StringLike | Base::Arn
        )
    }

    /// The operator without negation, for one policy value and one request value; `None` when
    /// a value cannot be read as the operator's type.
    fn positive(self, policy: &str, value: &str, context: &Context) -> Option<bool> {
        Some(match self.base {
            Base::StringEquals => substitute(policy, context)? == value,
            Base::StringEqualsIgnoreCase => {
                substitute(policy, context)?.to_lowercase() == value.to_lowercase()
            }
            Base::StringLike => like(policy, value, context)?,
            Base::Numeric(ord, or_equal) => {
                let (p, v) = (
                    policy.trim().parse::<f64>().ok()?,
                    value.trim().parse::<f64>().ok()?,
                );
                let c = v.partial_cmp(&p)?;
                c == ord || (or_equal && c.is_eq())
            }
            Base::Date(ord, or_equal) => {
                let (p, v) = (parse_date(policy)?, parse_date(value)?);
                let c = v.partial_cmp(&p)?;
                c == ord || (or_equal && c.is_eq())
            }
            Base::Bool => policy.eq_ignore_ascii_case(value),
            Base::Binary => policy == value,
            Base::Ip => cidr_contains(policy, value)?,
            Base::Arn => arn_like(policy, value, context)?,
            Base::Null => false,
        })
    }
}

/// Whether every operator, key and value list of a `Condition` element holds. Returns the
/// first block that does not, for explanations.
pub fn evaluate(condition: &Condition, context: &Context) -> Result<(), String> {
    for (operator_text, keys) in &condition.0 {
        let Some(operator) = Operator::parse(operator_text) else {
            return Err(format!("unknown condition operator `{operator_text}`"));
        };
        for (key, values) in keys {
            if !operator.holds(values, context.get(key), context) {
                return Err(format!("condition `{operator_text}` on `{key}` is not met"));
            }
        }
    }
    Ok(())
}

/// Seconds since the epoch from ISO 8601 (`2026-11-22`, `2026-11-22T10:00:00Z`,
/// `...T10:00:00.5+01:00`) or a number of epoch seconds.
pub fn parse_date(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(epoch) = text.parse::<f64>() {
        return Some(epoch);
    }
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, 0.0)
        } else if let Some(at) = time.rfind(['+', '-']) {
            let (c, off) = time.split_at(at);
            let sign = if off.starts_with('-') { -1.0 } else { 1.0 };
            let (h, m) = off
                .get(1..)?
                .split_once(':')
                .unwrap_or((off.get(1..)?, "0"));
            (
                c,
                sign * (h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0),
            )
        } else {
            (time, 0.0)
        };
        let mut hms = clock.splitn(3, ':');
        let h: f64 = hms.next()?.parse().ok()?;
        let m: f64 = hms.next().unwrap_or("0").parse().ok()?;
        let s: f64 = hms.next().unwrap_or("0").parse().ok()?;
        seconds += h * 3600.0 + m * 60.0 + s - offset;
    }
    Some(seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). In
/// `i128`: a year is any `i64` a policy writes, and `era * 146_097` overflows `i64` for
/// years past about 2.5e16.
fn days_from_civil(y: i64, m: i64, d: i64) -> i128 {
    let (y, m, d) = (i128::from(y), i128::from(m), i128::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether `ip` lies in `cidr` (`203.0.113.0/24`, `2001:db8::/32`, or one address).
fn cidr_contains(cidr: &str, ip: &str) -> Option<bool> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
        None => (cidr.parse::<IpAddr>().ok()?, None),
    };
    let ip: IpAddr = ip.parse().ok()?;
    Some(match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(json: &str) -> Condition {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn operators_parse() {
        assert!(Operator::parse("ForAllValues:StringLikeIfExists").is_some());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringSortOf").is_none());
    }

    #[test]
    fn missing_key_rules() {
        let ctx = Context::new();
        assert!(
            evaluate(
                &cond(r#"{"StringEquals":{"aws:PrincipalTag/team":"a"}}"#),
                &ctx
            )
            .is_err()
        );
        assert!(
            evaluate(
                &cond(r#"{"StringNotEquals":{"aws:PrincipalTag/team":"a"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(
            evaluate(
                &cond(r#"{"StringEqualsIfExists":{"aws:PrincipalTag/team":"a"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(
            evaluate(
                &cond(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}"#),
                &ctx
            )
            .is_err()
        );
        assert!(
            evaluate(
                &cond(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":"a"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(evaluate(&cond(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#), &ctx).is_ok());
    }

    #[test]
    fn dates_and_numbers_and_ips() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(1_577_836_800.0));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            Some(1_577_836_800.0)
        );
        let ctx = Context::new()
            .with("aws:CurrentTime", "2026-11-22T12:00:00Z")
            .with("aws:SourceIp", "203.0.113.9")
            .with("s3:max-keys", "5");
        assert!(
            evaluate(
                &cond(r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(
            evaluate(
                &cond(r#"{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#),
                &ctx
            )
            .is_err()
        );
        assert!(
            evaluate(
                &cond(r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(
            evaluate(
                &cond(r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#),
                &ctx
            )
            .is_err()
        );
        assert!(
            evaluate(
                &cond(r#"{"NumericLessThanEquals":{"s3:max-keys":"5"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(evaluate(&cond(r#"{"NumericLessThan":{"s3:max-keys":"5"}}"#), &ctx).is_err());
        assert!(evaluate(&cond(r#"{"NumericLessThan":{"s3:max-keys":"five"}}"#), &ctx).is_err());
    }

    #[test]
    fn keys_are_case_insensitive_values_are_not() {
        let ctx = Context::new().with("sts:ExternalId", "Secret-1");
        assert!(
            evaluate(
                &cond(r#"{"StringEquals":{"STS:EXTERNALID":"Secret-1"}}"#),
                &ctx
            )
            .is_ok()
        );
        assert!(
            evaluate(
                &cond(r#"{"StringEquals":{"sts:ExternalId":"secret-1"}}"#),
                &ctx
            )
            .is_err()
        );
        assert!(
            evaluate(
                &cond(r#"{"StringEqualsIgnoreCase":{"sts:ExternalId":"secret-1"}}"#),
                &ctx
            )
            .is_ok()
        );
    }
}
