//! IAM policy documents as typed values: `Version`, `Statement` (one or many), `Principal`,
//! `Action`/`NotAction`, `Resource`/`NotResource` and `Condition`, read from and written to
//! the JSON IAM uses. Documents are built from these types and serialized once.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The only policy language version xacct writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Largest inline role policy IAM accepts, in characters not counting white space.
pub const INLINE_ROLE_POLICY_LIMIT: usize = 10_240;
/// Largest role trust policy by default, in characters not counting white space.
pub const TRUST_POLICY_LIMIT: usize = 2_048;

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "Statement", deserialize_with = "one_or_many")]
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// A `2012-10-17` document with these statements.
    pub fn new(statements: Vec<Statement>) -> Self {
        Self {
            version: Some(POLICY_VERSION.to_owned()),
            id: None,
            statements,
        }
    }

    /// Compact JSON, the form xacct sends to IAM.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The size IAM counts against its quotas: characters, white space excluded.
    pub fn size(&self) -> usize {
        self.to_json()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }

    /// Parses a document as IAM returns it (already URL-decoded).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Effect {
    /// The default only so statements can be built with `..Default::default()`; parsing
    /// still requires `Effect`.
    #[default]
    Allow,
    Deny,
}

/// One statement. At most one of each pair (`Action`/`NotAction` ...) is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    #[serde(
        rename = "NotPrincipal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_principal: Option<Principal>,
    #[serde(
        rename = "Action",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_one_or_many"
    )]
    pub action: Option<Vec<String>>,
    #[serde(
        rename = "NotAction",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_one_or_many"
    )]
    pub not_action: Option<Vec<String>>,
    #[serde(
        rename = "Resource",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_one_or_many"
    )]
    pub resource: Option<Vec<String>>,
    #[serde(
        rename = "NotResource",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_one_or_many"
    )]
    pub not_resource: Option<Vec<String>>,
    #[serde(
        rename = "Condition",
        default,
        skip_serializing_if = "Condition::is_empty"
    )]
    pub condition: Condition,
}

impl Statement {
    /// An `Allow` statement for these actions on these resources.
    pub fn allow(sid: impl Into<String>, actions: Vec<String>, resources: Vec<String>) -> Self {
        Self {
            sid: Some(sid.into()),
            effect: Effect::Allow,
            action: Some(actions),
            resource: Some(resources),
            ..Self::default()
        }
    }
}

/// `Principal` / `NotPrincipal`: `"*"` or a map of principal kinds to values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": [...], "Service": [...], ...}`; kinds are kept as written.
    Map(BTreeMap<String, Vec<String>>),
}

impl Principal {
    /// `{"AWS": value}`.
    pub fn aws(value: impl Into<String>) -> Self {
        Self::Map(BTreeMap::from([("AWS".to_owned(), vec![value.into()])]))
    }

    /// `{"Service": value}`.
    pub fn service(value: impl Into<String>) -> Self {
        Self::Map(BTreeMap::from([("Service".to_owned(), vec![value.into()])]))
    }

    /// The values given for one kind (`AWS`, `Service`, `Federated`, `CanonicalUser`).
    pub fn values(&self, kind: &str) -> &[String] {
        match self {
            Self::Any => &[],
            Self::Map(map) => map.get(kind).map(Vec::as_slice).unwrap_or_default(),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Any => s.serialize_str("*"),
            Self::Map(map) => {
                let mut out = s.serialize_map(Some(map.len()))?;
                for (kind, values) in map {
                    out.serialize_entry(kind, &OneOrMany(values))?;
                }
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Star(String),
            Map(BTreeMap<String, StringOrMany>),
        }
        match Raw::deserialize(d)? {
            Raw::Star(s) if s == "*" => Ok(Self::Any),
            Raw::Star(s) => Err(de::Error::custom(format!(
                "principal must be `*` or an object, got `{s}`"
            ))),
            Raw::Map(map) => Ok(Self::Map(map.into_iter().map(|(k, v)| (k, v.0)).collect())),
        }
    }
}

/// `Condition`: operator -> condition key -> values. Values are kept as strings, as IAM
/// compares them (`true`, `3600`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Condition(pub BTreeMap<String, BTreeMap<String, Vec<String>>>);

impl Condition {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `key` with `values` under `operator`, keeping earlier keys of that operator.
    pub fn insert(&mut self, operator: &str, key: &str, values: Vec<String>) {
        self.0
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), values);
    }

    /// The values of `key` under `operator`, if present.
    pub fn get(&self, operator: &str, key: &str) -> Option<&[String]> {
        self.0.get(operator)?.get(key).map(Vec::as_slice)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(self.0.len()))?;
        for (operator, keys) in &self.0 {
            let keys: BTreeMap<&String, OneOrMany<'_>> =
                keys.iter().map(|(k, v)| (k, OneOrMany(v))).collect();
            out.serialize_entry(operator, &keys)?;
        }
        out.end()
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: BTreeMap<String, BTreeMap<String, ScalarOrMany>> = BTreeMap::deserialize(d)?;
        Ok(Self(
            raw.into_iter()
                .map(|(op, keys)| (op, keys.into_iter().map(|(k, v)| (k, v.0)).collect()))
                .collect(),
        ))
    }
}

/// Serializes one value as a string and several as an array, as IAM's own documents do.
struct OneOrMany<'a>(&'a [String]);

impl Serialize for OneOrMany<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

/// A string or an array of strings.
struct StringOrMany(Vec<String>);

impl<'de> Deserialize<'de> for StringOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(Self(match Raw::deserialize(d)? {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
        }))
    }
}

/// A condition value or array of them; booleans and numbers become their text.
struct ScalarOrMany(Vec<String>);

impl<'de> Deserialize<'de> for ScalarOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean or an array of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(vec![v.to_owned()])
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(vec![v.to_string()])
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(ScalarOrMany(mut one)) = seq.next_element()? {
                    out.append(&mut one);
                }
                Ok(out)
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::custom("a condition value may not be an object"))
            }
        }
        d.deserialize_any(V).map(Self)
    }
}

fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Many(Vec<T>),
        One(T),
    }
    Ok(match Raw::<T>::deserialize(d)? {
        Raw::Many(v) => v,
        Raw::One(t) => vec![t],
    })
}

mod opt_one_or_many {
    use super::{OneOrMany, StringOrMany};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => serde::Serialize::serialize(&OneOrMany(v), s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        Ok(Some(StringOrMany::deserialize(d)?.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_and_many_forms() {
        let doc = PolicyDocument::from_json(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],
               "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}}"#,
        )
        .unwrap();
        let st = &doc.statements[0];
        assert_eq!(st.action.as_deref(), Some(&["s3:GetObject".to_owned()][..]));
        assert_eq!(
            st.condition.get("Bool", "aws:SecureTransport"),
            Some(&["true".to_owned()][..])
        );
        assert_eq!(
            st.condition.get("NumericLessThan", "s3:max-keys"),
            Some(&["10".to_owned()][..])
        );
    }

    #[test]
    fn writes_compact_iam_style_json() {
        let mut st = Statement::allow(
            "Read",
            vec!["s3:GetObject".into()],
            vec!["arn:aws:s3:::b/*".into()],
        );
        st.principal = Some(Principal::aws("arn:aws:iam::222222222222:root"));
        st.condition
            .insert("StringEquals", "sts:ExternalId", vec!["abc".into()]);
        let doc = PolicyDocument::new(vec![st]);
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}"#
        );
        assert_eq!(PolicyDocument::from_json(&doc.to_json()).unwrap(), doc);
    }

    #[test]
    fn principal_star_and_map() {
        let any: Principal = serde_json::from_str("\"*\"").unwrap();
        assert_eq!(any, Principal::Any);
        let map: Principal =
            serde_json::from_str(r#"{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]}"#)
                .unwrap();
        assert_eq!(map.values("Service").len(), 2);
        assert!(serde_json::from_str::<Principal>("\"someone\"").is_err());
    }

    #[test]
    fn unknown_elements_are_rejected() {
        assert!(
            PolicyDocument::from_json(
                r#"{"Statement":[{"Effect":"Allow","Actions":"s3:*","Resource":"*"}]}"#
            )
            .is_err()
        );
        assert!(
            PolicyDocument::from_json(
                r#"{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn size_ignores_white_space() {
        let doc = PolicyDocument::new(vec![Statement::allow(
            "A",
            vec!["s3:GetObject".into()],
            vec!["arn:aws:s3:::b/*".into()],
        )]);
        assert_eq!(doc.size(), doc.to_json().len());
    }
}
