//! AWS's service authorization data (every service, action, resource type and condition key)
//! as static tables generated at build time from `data/catalog.json`, with lookups.

mod template;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use template::{ArnTemplate, TemplatePart};

use crate::arn::Arn;

/// IAM's access levels, from the service authorization reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    #[serde(rename = "Permissions management")]
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 5] = [
        Self::List,
        Self::Read,
        Self::Write,
        Self::PermissionsManagement,
        Self::Tagging,
    ];

    /// The level as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "List",
            Self::Read => "Read",
            Self::Write => "Write",
            Self::PermissionsManagement => "Permissions management",
            Self::Tagging => "Tagging",
        }
    }

    /// Parses `read`, `Read`, `permissions-management`, `Permissions management`, ...
    pub fn parse_loose(s: &str) -> Option<Self> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Self::ALL.into_iter().find(|l| {
            let own: String = l
                .as_str()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            own == norm
        })
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string of the catalog: its offset and length in [`TEXT`].
#[derive(Clone, Copy)]
pub(crate) struct Str(u32, u32);

/// Every string of the catalog, once; the tables point into it (see build.rs for why).
static TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog_text.txt"));

impl Str {
    fn get(self) -> &'static str {
        let start = self.0 as usize;
        TEXT.get(start..start + self.1 as usize).unwrap_or_default()
    }
}

pub(crate) struct ServiceRecord {
    prefix: Str,
    name: Str,
    resource_types: (u32, u32),
    actions: (u32, u32),
    condition_keys: (u32, u32),
}

pub(crate) struct ResourceTypeRecord {
    service: Str,
    name: Str,
    arn: Str,
}

pub(crate) struct ActionRecord {
    name: Str,
    access_level: AccessLevel,
    description: Str,
    resource_types: (u32, u32),
    condition_keys: (u32, u32),
    dependent_actions: (u32, u32),
}

pub(crate) struct ActionResourceRecord {
    resource_type: u32,
    required: bool,
}

mod data {
    use super::{
        AccessLevel, ActionRecord, ActionResourceRecord, ResourceTypeRecord, ServiceRecord, Str,
    };
    include!(concat!(env!("OUT_DIR"), "/catalog_data.rs"));
}

fn slice<T>(table: &'static [T], (start, end): (u32, u32)) -> &'static [T] {
    table.get(start as usize..end as usize).unwrap_or_default()
}

/// Every service in the catalog, sorted by prefix.
pub fn services() -> impl ExactSizeIterator<Item = Service> {
    data::SERVICES.iter().map(Service)
}

/// The service with this prefix (`s3`, `ec2`), compared case-insensitively.
pub fn service(prefix: &str) -> Option<Service> {
    let prefix = prefix.to_ascii_lowercase();
    data::SERVICES
        .binary_search_by(|s| s.prefix.get().cmp(prefix.as_str()))
        .ok()
        .and_then(|i| data::SERVICES.get(i))
        .map(Service)
}

/// The action `service:Name`, compared case-insensitively as IAM does.
pub fn action(service_prefix: &str, name: &str) -> Option<ActionDef> {
    service(service_prefix)?.action(name)
}

/// How many services and actions the catalog holds.
pub fn counts() -> (usize, usize, usize) {
    (
        data::SERVICES.len(),
        data::ACTIONS.len(),
        data::RESOURCE_TYPES.len(),
    )
}

/// A service of the catalog.
#[derive(Clone, Copy)]
pub struct Service(&'static ServiceRecord);

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Service")
            .field(&self.0.prefix.get())
            .finish()
    }
}

impl Service {
    pub fn prefix(self) -> &'static str {
        self.0.prefix.get()
    }
    pub fn name(self) -> &'static str {
        self.0.name.get()
    }
    /// Its actions, sorted case-insensitively by name.
    pub fn actions(self) -> impl ExactSizeIterator<Item = ActionDef> {
        slice(data::ACTIONS, self.0.actions)
            .iter()
            .map(move |record| ActionDef {
                service: self,
                record,
            })
    }
    /// Its resource types.
    pub fn resource_types(self) -> impl ExactSizeIterator<Item = ResourceType> {
        slice(data::RESOURCE_TYPES, self.0.resource_types)
            .iter()
            .map(ResourceType)
    }
    /// The resource type with this name.
    pub fn resource_type(self, name: &str) -> Option<ResourceType> {
        self.resource_types().find(|r| r.name() == name)
    }
    /// The action with this name, compared case-insensitively.
    pub fn action(self, name: &str) -> Option<ActionDef> {
        let actions = slice(data::ACTIONS, self.0.actions);
        let lower = name.to_ascii_lowercase();
        actions
            .binary_search_by(|a| {
                a.name
                    .get()
                    .bytes()
                    .map(|b| b.to_ascii_lowercase())
                    .cmp(lower.bytes())
            })
            .ok()
            .and_then(|i| actions.get(i))
            .map(|record| ActionDef {
                service: self,
                record,
            })
    }
    /// The type of a condition key this service defines (`String`, `ARN`, `Bool`, ...).
    pub fn condition_key_type(self, key: &str) -> Option<&'static str> {
        slice(data::SERVICE_CONDITION_KEYS, self.0.condition_keys)
            .iter()
            .find(|(k, _)| k.get().eq_ignore_ascii_case(key))
            .map(|(_, t)| t.get())
    }
}

/// One action of the catalog.
#[derive(Clone, Copy)]
pub struct ActionDef {
    service: Service,
    record: &'static ActionRecord,
}

impl fmt::Debug for ActionDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ActionDef({}:{})",
            self.service.prefix(),
            self.record.name.get()
        )
    }
}

impl PartialEq for ActionDef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.record, other.record)
    }
}
impl Eq for ActionDef {}

impl ActionDef {
    pub fn service(self) -> Service {
        self.service
    }
    /// The action name as AWS spells it (`GetObject`).
    pub fn name(self) -> &'static str {
        self.record.name.get()
    }
    /// `service:Name`.
    pub fn full_name(self) -> String {
        format!("{}:{}", self.service.prefix(), self.name())
    }
    pub fn access_level(self) -> AccessLevel {
        self.record.access_level
    }
    pub fn description(self) -> &'static str {
        self.record.description.get()
    }
    /// The resource types the action can be scoped to, each with whether AWS marks it
    /// required. Empty means the action supports no resource-level permissions (`*` only).
    pub fn resource_types(self) -> impl ExactSizeIterator<Item = (ResourceType, bool)> {
        slice(data::ACTION_RESOURCES, self.record.resource_types)
            .iter()
            .filter_map(|r| {
                data::RESOURCE_TYPES
                    .get(r.resource_type as usize)
                    .map(|t| (ResourceType(t), r.required))
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
    /// Whether the action can be scoped to a resource rather than `*`.
    pub fn has_resource_types(self) -> bool {
        self.record.resource_types.0 != self.record.resource_types.1
    }
    /// Condition keys the action supports besides its resource types' keys.
    pub fn condition_keys(self) -> impl ExactSizeIterator<Item = &'static str> {
        slice(data::STRINGS, self.record.condition_keys)
            .iter()
            .map(|s| s.get())
    }
    /// Other actions AWS says this one may also need.
    pub fn dependent_actions(self) -> impl ExactSizeIterator<Item = &'static str> {
        slice(data::STRINGS, self.record.dependent_actions)
            .iter()
            .map(|s| s.get())
    }
}

/// A resource type of a service, with its ARN template.
#[derive(Clone, Copy)]
pub struct ResourceType(&'static ResourceTypeRecord);

impl fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceType({}:{})", self.service(), self.name())
    }
}

impl PartialEq for ResourceType {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for ResourceType {}

impl ResourceType {
    /// The prefix of the service that defines it.
    pub fn service(self) -> &'static str {
        self.0.service.get()
    }
    pub fn name(self) -> &'static str {
        self.0.name.get()
    }
    /// The ARN template, such as `arn:${Partition}:s3:::${BucketName}`.
    pub fn arn_template(self) -> &'static str {
        self.0.arn.get()
    }
    pub fn template(self) -> ArnTemplate {
        ArnTemplate::parse(self.arn_template())
    }
}

/// A resource type an ARN was recognized as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognized {
    pub resource_type: ResourceType,
    /// Characters of the template matched literally: the more, the more specific.
    pub specificity: usize,
}

/// Which catalog resource types `arn` is, most specific first, by matching the catalog's ARN
/// templates. Only the most specific matches are returned (several when templates tie, such
/// as a Lambda function's alias and version).
pub fn recognize(arn: &Arn) -> Vec<Recognized> {
    let text = arn.to_string();
    recognize_str(arn.service(), &text)
}

/// Like [`recognize`] for an ARN pattern that may hold wildcards (`arn:aws:s3:::b/*`).
pub fn recognize_pattern(pattern: &str) -> Vec<Recognized> {
    let service = pattern.split(':').nth(2).unwrap_or_default();
    recognize_str(service, pattern)
}

fn recognize_str(service: &str, text: &str) -> Vec<Recognized> {
    let index = data::ARN_SERVICE_INDEX;
    let start = index.partition_point(|(s, _)| s.get() < service);
    let mut found: Vec<Recognized> = index
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|(s, _)| s.get() == service)
        .filter_map(|(_, i)| data::RESOURCE_TYPES.get(*i as usize))
        .filter_map(|record| {
            let template = ArnTemplate::parse(record.arn.get());
            template.matches(text).then(|| Recognized {
                resource_type: ResourceType(record),
                specificity: template.literal_len(),
            })
        })
        .collect();
    // Other services sometimes define types in a namespace they do not own (SSM has an `s3`
    // bucket type): the service whose prefix is the ARN's service wins, then specificity.
    let rank = |r: &Recognized| (r.resource_type.service() == service, r.specificity);
    let best = found.iter().map(rank).max();
    found.retain(|r| Some(rank(r)) == best);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(arn: &str) -> Vec<(&'static str, &'static str)> {
        recognize(&arn.parse().unwrap())
            .into_iter()
            .map(|r| (r.resource_type.service(), r.resource_type.name()))
            .collect()
    }

    #[test]
    fn catalog_holds_every_service() {
        let (services, actions, resource_types) = counts();
        assert!(services >= 440, "{services}");
        assert!(actions >= 20_000, "{actions}");
        assert!(resource_types >= 2_000, "{resource_types}");
    }

    #[test]
    fn action_lookup_is_case_insensitive() {
        let a = action("S3", "getobject").unwrap();
        assert_eq!(a.full_name(), "s3:GetObject");
        assert_eq!(a.access_level(), AccessLevel::Read);
        assert!(a.resource_types().any(|(t, _)| t.name() == "object"));
        assert!(action("s3", "GetObjectz").is_none());
        assert!(action("nope", "GetObject").is_none());
    }

    #[test]
    fn describe_instances_has_no_resource_types() {
        let a = action("ec2", "DescribeInstances").unwrap();
        assert!(!a.has_resource_types());
        assert_eq!(a.access_level(), AccessLevel::List);
    }

    #[test]
    fn create_db_snapshot_requires_db_and_snapshot() {
        let a = action("rds", "CreateDBSnapshot").unwrap();
        let required: Vec<_> = a
            .resource_types()
            .filter(|(_, req)| *req)
            .map(|(t, _)| t.name())
            .collect();
        assert_eq!(required, ["db", "snapshot"]);
    }

    #[test]
    fn recognizes_the_four_resource_kinds() {
        assert_eq!(types("arn:aws:s3:::b"), [("s3", "bucket")]);
        assert_eq!(types("arn:aws:s3:::b/some/key"), [("s3", "object")]);
        assert_eq!(
            types("arn:aws:rds:us-east-1:111111111111:db:orders"),
            [("rds", "db")]
        );
        assert_eq!(
            types("arn:aws:rds:us-east-1:111111111111:cluster:orders-aurora"),
            [("rds", "cluster")]
        );
        assert_eq!(
            types("arn:aws:lambda:us-east-1:111111111111:function:f"),
            [("lambda", "function")]
        );
        assert_eq!(
            types("arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"),
            [("ec2", "instance")]
        );
        assert_eq!(
            types("arn:aws-cn:ec2:cn-north-1:111111111111:instance/i-0abc"),
            [("ec2", "instance")]
        );
    }

    #[test]
    fn recognizes_other_services_from_templates() {
        assert_eq!(
            types("arn:aws:dynamodb:us-east-1:111111111111:table/orders"),
            [("dynamodb", "table")]
        );
        assert_eq!(
            types("arn:aws:sqs:us-east-1:111111111111:queue1"),
            [("sqs", "queue")]
        );
        assert_eq!(
            types("arn:aws:iam::111111111111:role/xacct/r"),
            [("iam", "role")]
        );
        let qualified = types("arn:aws:lambda:us-east-1:111111111111:function:f:PROD");
        assert!(
            qualified.contains(&("lambda", "function alias")),
            "{qualified:?}"
        );
        assert!(types("arn:aws:s3:us-east-1:111111111111:nothing-like-this/x").is_empty());
    }
}
