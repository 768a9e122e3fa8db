//! ARN templates from the service authorization reference
//! (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`): matching an ARN against one, and
//! filling one in to get the ARN pattern for a resource type.

use crate::arn::Arn;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    Literal(&'static str),
    /// A `${Name}` placeholder.
    Variable(&'static str),
}

/// A parsed ARN template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnTemplate {
    parts: Vec<TemplatePart>,
}

impl ArnTemplate {
    pub fn parse(template: &'static str) -> Self {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find("${") {
                Some(0) => match rest.find('}') {
                    Some(end) => {
                        parts.push(TemplatePart::Variable(rest.get(2..end).unwrap_or_default()));
                        rest = rest.get(end + 1..).unwrap_or_default();
                    }
                    None => {
                        parts.push(TemplatePart::Literal(rest));
                        rest = "";
                    }
                },
                Some(at) => {
                    parts.push(TemplatePart::Literal(rest.get(..at).unwrap_or_default()));
                    rest = rest.get(at..).unwrap_or_default();
                }
                None => {
                    parts.push(TemplatePart::Literal(rest));
                    rest = "";
                }
            }
        }
        Self { parts }
    }

    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// Characters matched literally, a measure of how specific the template is.
    pub fn literal_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(l) => l.len(),
                TemplatePart::Variable(_) => 0,
            })
            .sum()
    }

    /// Whether `text` (an ARN, possibly holding `*` wildcards) fits the template. Every
    /// variable takes at least one character; all but the last stop at `:` and `/`, the last
    /// takes the rest (object keys and role paths hold `/`).
    pub fn matches(&self, text: &str) -> bool {
        match_parts(&self.parts, text)
    }

    /// The template with `${Partition}`, `${Region}` and `${Account}` taken from `like` and
    /// every other variable replaced by `*`: the ARN pattern for all resources of this type
    /// next to `like`.
    pub fn fill_like(&self, like: &Arn) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(l) => out.push_str(l),
                TemplatePart::Variable(v) => out.push_str(match *v {
                    "Partition" => like.partition().as_str(),
                    "Region" if !like.region().is_empty() => like.region(),
                    "Account" | "AccountId" | "AccountID" if !like.account().is_empty() => {
                        like.account()
                    }
                    _ => "*",
                }),
            }
        }
        out
    }
}

fn match_parts(parts: &[TemplatePart], text: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    match first {
        TemplatePart::Literal(l) => text
            .strip_prefix(l)
            .is_some_and(|remaining| match_parts(rest, remaining)),
        TemplatePart::Variable(_) if rest.is_empty() => !text.is_empty(),
        TemplatePart::Variable(_) => {
            // Try every split point within the current segment, shortest first.
            let segment_end = text.find([':', '/']).unwrap_or(text.len());
            (1..=segment_end).any(|end| {
                text.get(end..)
                    .is_some_and(|remaining| match_parts(rest, remaining))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_variables() {
        let t = ArnTemplate::parse("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        assert_eq!(
            t.parts(),
            [
                TemplatePart::Literal("arn:"),
                TemplatePart::Variable("Partition"),
                TemplatePart::Literal(":s3:::"),
                TemplatePart::Variable("BucketName"),
                TemplatePart::Literal("/"),
                TemplatePart::Variable("ObjectName"),
            ]
        );
        assert_eq!(t.literal_len(), 4 + 6 + 1);
    }

    #[test]
    fn matching_respects_segments() {
        let bucket = ArnTemplate::parse("arn:${Partition}:s3:::${BucketName}");
        let object = ArnTemplate::parse("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        assert!(bucket.matches("arn:aws:s3:::b"));
        assert!(!object.matches("arn:aws:s3:::b"));
        assert!(object.matches("arn:aws:s3:::b/a/b/c"));
        assert!(object.matches("arn:aws:s3:::b/*"));
        let db =
            ArnTemplate::parse("arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}");
        assert!(db.matches("arn:aws:rds:us-east-1:111111111111:db:orders"));
        assert!(!db.matches("arn:aws:rds:us-east-1:111111111111:cluster:orders"));
        assert!(!db.matches("arn:aws:rds::111111111111:db:orders"));
    }

    #[test]
    fn fill_like_keeps_location_and_wildcards_names() {
        let like: Arn = "arn:aws:rds:eu-west-1:111111111111:db:orders"
            .parse()
            .unwrap();
        let snapshot = ArnTemplate::parse(
            "arn:${Partition}:rds:${Region}:${Account}:snapshot:${SnapshotName}",
        );
        assert_eq!(
            snapshot.fill_like(&like),
            "arn:aws:rds:eu-west-1:111111111111:snapshot:*"
        );
        let image = ArnTemplate::parse("arn:${Partition}:ec2:${Region}::image/${ImageId}");
        assert_eq!(image.fill_like(&like), "arn:aws:ec2:eu-west-1::image/*");
    }
}
