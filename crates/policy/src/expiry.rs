//! When a grant ends: an instant in UTC, written into the trust policy (and a person's
//! inline policy) as `DateLessThan aws:CurrentTime` so AWS itself refuses the call
//! afterwards, whether or not a cleanup job ever runs.

use std::fmt;

use crate::document::{Condition, PolicyDocument};
use crate::eval::parse_date;

/// The condition operator and key that end a statement's effect at an instant.
pub const EXPIRY_OPERATOR: &str = "DateLessThan";
pub const EXPIRY_KEY: &str = "aws:CurrentTime";

/// Why an expiry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error(
        "`{0}` is not a time; give RFC 3339 such as `2026-12-31T18:00:00Z`, or a duration such as `7d` or `12h`"
    )]
    Invalid(String),
    #[error("`{0}` is in the past")]
    Past(String),
    #[error("`{at}` is more than {max_days} days away, the most this deployment allows")]
    TooFar { at: String, max_days: u32 },
}

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(i64);

impl Expiry {
    /// From epoch seconds.
    pub fn from_epoch(seconds: i64) -> Self {
        Self(seconds)
    }

    pub fn epoch(self) -> i64 {
        self.0
    }

    /// From RFC 3339 with a time and a zone (`2026-12-31T18:00:00Z`, `...+01:00`).
    pub fn parse(text: &str) -> Result<Self, ExpiryError> {
        let t = text.trim();
        let has_time = t.contains(['T', 't']);
        let has_zone = t.ends_with(['Z', 'z'])
            || t.rsplit(['T', 't'])
                .next()
                .is_some_and(|time| time.contains(['+', '-']));
        match parse_date(t) {
            Some(seconds) if has_time && has_zone && seconds.is_finite() => {
                Ok(Self(seconds.floor() as i64))
            }
            _ => Err(ExpiryError::Invalid(text.to_owned())),
        }
    }

    /// `now` plus a duration such as `7d`, `12h` or `90m`.
    pub fn after(now: i64, duration: &str) -> Result<Self, ExpiryError> {
        let d = duration.trim();
        let invalid = || ExpiryError::Invalid(duration.to_owned());
        let unit = d.chars().last().ok_or_else(invalid)?;
        let count: i64 = d
            .get(..d.len() - unit.len_utf8())
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(invalid)?;
        let seconds = match unit {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            _ => return Err(invalid()),
        };
        count
            .checked_mul(seconds)
            .and_then(|s| now.checked_add(s))
            .map(Self)
            .ok_or_else(invalid)
    }

    /// Refuses an expiry in the past or more than `max_days` after `now`.
    pub fn check(self, now: i64, max_days: u32) -> Result<Self, ExpiryError> {
        if self.0 <= now {
            return Err(ExpiryError::Past(self.to_string()));
        }
        if self.0 > now + i64::from(max_days) * 86_400 {
            return Err(ExpiryError::TooFar {
                at: self.to_string(),
                max_days,
            });
        }
        Ok(self)
    }

    /// Whether the grant has ended at `now`.
    pub fn is_past(self, now: i64) -> bool {
        self.0 <= now
    }

    /// Limits `condition` to calls before this instant (`DateLessThan aws:CurrentTime`).
    pub fn limit(self, condition: &mut Condition) {
        condition.insert(EXPIRY_OPERATOR, EXPIRY_KEY, vec![self.to_string()]);
    }

    /// The instant a condition ends at: exactly one `DateLessThan aws:CurrentTime` value
    /// in RFC 3339, as [`Expiry::limit`] writes it.
    pub fn of_condition(condition: &Condition) -> Option<Self> {
        match condition.get(EXPIRY_OPERATOR, EXPIRY_KEY)? {
            [at] => Self::parse(at).ok(),
            _ => None,
        }
    }

    /// The instant a whole document ends at: every statement limited to the same one.
    /// `None` for a document with a statement that never ends, or with two different ends.
    pub fn of_document(document: &PolicyDocument) -> Option<Self> {
        let mut ends = document
            .statements
            .iter()
            .map(|st| Self::of_condition(&st.condition));
        let first = ends.next()??;
        ends.all(|e| e == Some(first)).then_some(first)
    }
}

/// A proleptic Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Expiry {
    /// RFC 3339 in UTC, to the second: `2026-12-31T18:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, secs) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3_600,
            secs % 3_600 / 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_500_000; // 2026-12-06T...

    #[test]
    fn an_expiry_round_trips_through_rfc_3339() {
        let e = Expiry::parse("2026-12-31T18:00:00Z").unwrap();
        assert_eq!(e.to_string(), "2026-12-31T18:00:00Z");
        assert_eq!(
            Expiry::parse("2026-12-31T19:00:00+01:00").unwrap(),
            e,
            "a zone offset is folded into UTC"
        );
        assert_eq!(Expiry::from_epoch(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Expiry::parse("2028-02-29T00:00:00Z").unwrap().to_string(),
            "2028-02-29T00:00:00Z"
        );
    }

    #[test]
    fn durations_count_days_hours_and_minutes() {
        assert_eq!(Expiry::after(NOW, "7d").unwrap().epoch(), NOW + 7 * 86_400);
        assert_eq!(Expiry::after(NOW, "12h").unwrap().epoch(), NOW + 12 * 3_600);
        assert_eq!(Expiry::after(NOW, "90m").unwrap().epoch(), NOW + 90 * 60);
        for bad in [
            "",
            "7",
            "d",
            "0d",
            "-1d",
            "7w",
            "1.5d",
            "99999999999999999d",
        ] {
            assert!(Expiry::after(NOW, bad).is_err(), "{bad}");
        }
        for bad in [
            "2026-12-31",
            "2026-12-31T18:00:00",
            "tomorrow",
            "31/12/2026",
        ] {
            assert!(Expiry::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_past_and_beyond_the_maximum_are_refused() {
        let e = |s: i64| Expiry::from_epoch(NOW + s);
        assert!(matches!(e(-1).check(NOW, 90), Err(ExpiryError::Past(_))));
        assert!(matches!(e(0).check(NOW, 90), Err(ExpiryError::Past(_))));
        assert!(e(90 * 86_400).check(NOW, 90).is_ok());
        assert!(matches!(
            e(90 * 86_400 + 1).check(NOW, 90),
            Err(ExpiryError::TooFar { .. })
        ));
        assert!(e(10).is_past(NOW + 10) && !e(10).is_past(NOW + 9));
    }

    fn statement(sid: &str) -> crate::Statement {
        crate::Statement::allow(
            sid,
            vec!["sts:AssumeRole".to_owned()],
            vec!["arn:aws:iam::111111111111:role/xacct/r".to_owned()],
        )
    }

    #[test]
    fn a_limited_document_reads_back_its_expiry() {
        let at = Expiry::parse("2026-12-31T18:00:00Z").unwrap();
        let mut doc = PolicyDocument::new(vec![statement("A"), statement("B")]);
        for st in &mut doc.statements {
            at.limit(&mut st.condition);
        }
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/xacct/r","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-12-31T18:00:00Z"}}},{"Sid":"B","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/xacct/r","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-12-31T18:00:00Z"}}}]}"#
        );
        let parsed: PolicyDocument = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(Expiry::of_document(&parsed), Some(at));
    }

    #[test]
    fn a_document_with_a_statement_that_never_ends_has_no_expiry() {
        let at = Expiry::parse("2026-12-31T18:00:00Z").unwrap();
        let mut doc = PolicyDocument::new(vec![statement("A"), statement("B")]);
        assert_eq!(Expiry::of_document(&doc), None, "no statement ends");
        if let Some(first) = doc.statements.first_mut() {
            at.limit(&mut first.condition);
        }
        assert_eq!(Expiry::of_document(&doc), None, "the second never ends");
        if let Some(second) = doc.statements.get_mut(1) {
            Expiry::from_epoch(at.epoch() + 1).limit(&mut second.condition);
        }
        assert_eq!(Expiry::of_document(&doc), None, "two different ends");
        assert_eq!(Expiry::of_document(&PolicyDocument::new(vec![])), None);
        // Not a time, or two values: not an expiry xacct wrote.
        let mut odd = statement("A");
        odd.condition
            .insert(EXPIRY_OPERATOR, EXPIRY_KEY, vec!["soon".to_owned()]);
        assert_eq!(Expiry::of_condition(&odd.condition), None);
        odd.condition.insert(
            EXPIRY_OPERATOR,
            EXPIRY_KEY,
            vec![at.to_string(), at.to_string()],
        );
        assert_eq!(Expiry::of_condition(&odd.condition), None);
    }
}
