//! `template.yaml` as data, for the template tests: CloudFormation's short tags in their long
//! form (`!Ref x` is `{"Ref": "x"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`) as JSON,
//! and the template's conditions evaluated for every combination of the parameters that
//! change what a stack deploys.

// Each test file that reads the template uses part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json, json};
use serde_yaml::Value as Yaml;

/// The template's text.
pub const TEXT: &str = include_str!("../../../../template.yaml");

/// The short tags CloudFormation defines; any other tag is a mistake in the template.
const SHORT_TAGS: [&str; 17] = [
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "Join",
    "FindInMap",
    "ImportValue",
    "Base64",
    "Cidr",
    "GetAZs",
];

/// A YAML value with CloudFormation's short tags in their long form.
pub fn long_form(value: &Yaml) -> Json {
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => Json::Array(items.iter().map(long_form).collect()),
        Yaml::Mapping(map) => Json::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = k
                        .as_str()
                        .unwrap_or_else(|| panic!("a key that is not text: {k:?}"));
                    (key.to_owned(), long_form(v))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            assert!(SHORT_TAGS.contains(&name), "unknown tag {tag}");
            match (name, long_form(&tagged.value)) {
                ("Ref" | "Condition", value) => json!({ name: value }),
                // `!GetAtt Resource.Attribute` is `Fn::GetAtt: [Resource, Attribute]`.
                ("GetAtt", Json::String(dotted)) => {
                    let (resource, attribute) = dotted
                        .split_once('.')
                        .unwrap_or_else(|| panic!("!GetAtt {dotted} names no attribute"));
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                (_, value) => json!({ format!("Fn::{name}"): value }),
            }
        }
    }
}

/// The whole template in long form.
pub fn template() -> &'static Json {
    static TEMPLATE: OnceLock<Json> = OnceLock::new();
    TEMPLATE.get_or_init(|| long_form(&serde_yaml::from_str(TEXT).unwrap()))
}

/// The member accounts' template (deployed by a StackSet), in long form.
pub fn member_template() -> &'static Json {
    static MEMBER: OnceLock<Json> = OnceLock::new();
    MEMBER.get_or_init(|| {
        long_form(&serde_yaml::from_str(include_str!("../../../../template-member.yaml")).unwrap())
    })
}

pub fn resources() -> &'static Map<String, Json> {
    template()["Resources"].as_object().unwrap()
}

pub fn resource(logical_id: &str) -> &'static Json {
    resources()
        .get(logical_id)
        .unwrap_or_else(|| panic!("no resource {logical_id}"))
}

/// The resources of one type, by logical id.
pub fn resources_of_type(type_name: &str) -> BTreeMap<&'static str, &'static Json> {
    resources()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

pub const INVOKER_SLOTS: [&str; 3] = [
    "AllowedInvokerArn1",
    "AllowedInvokerArn2",
    "AllowedInvokerArn3",
];

/// The parameters of one deployment.
#[derive(Debug, Clone)]
pub struct Parameters(BTreeMap<&'static str, String>);

impl Parameters {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    }

    pub fn side(&self) -> &str {
        self.get("Side")
    }

    /// An owner stack with an organization: the organization's hub.
    pub fn is_hub(&self) -> bool {
        self.side() == "owner" && !self.get("OrganizationId").is_empty()
    }

    pub fn allows_humans(&self) -> bool {
        self.get("AllowHumanRequestors") == "true"
    }

    /// The invoker slots given a value.
    pub fn filled_slots(&self) -> Vec<&'static str> {
        INVOKER_SLOTS
            .into_iter()
            .filter(|slot| !self.get(slot).is_empty())
            .collect()
    }
}

/// Every side with every combination of the optional invoker slots filled or empty, human
/// requestors allowed or not, and an organization or none.
pub fn scenarios() -> Vec<Parameters> {
    let invoker = "arn:aws:iam::000000000000:role/invoker";
    let mut out = Vec::new();
    for side in ["owner", "requestor"] {
        for second in [String::new(), format!("{invoker}2")] {
            for third in [String::new(), format!("{invoker}3")] {
                for humans in ["false", "true"] {
                    for organization in ["", "o-exampleorg1"] {
                        out.push(Parameters(BTreeMap::from([
                            ("Side", side.to_owned()),
                            ("AllowedInvokerArn1", invoker.to_owned()),
                            ("AllowedInvokerArn2", second.clone()),
                            ("AllowedInvokerArn3", third.clone()),
                            ("AllowHumanRequestors", humans.to_owned()),
                            ("HumanPrincipalPath", "/".to_owned()),
                            ("OrganizationId", organization.to_owned()),
                        ])));
                    }
                }
            }
        }
    }
    out
}

fn operand(expression: &Json, parameters: &Parameters) -> String {
    match expression {
        Json::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            parameters.get(map["Ref"].as_str().unwrap()).to_owned()
        }
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        other => panic!("unsupported operand {other}"),
    }
}

/// Whether a condition expression (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, or a
/// `Condition` naming one of the template's conditions) holds for these parameters.
pub fn holds(expression: &Json, parameters: &Parameters) -> bool {
    let (function, argument) = expression
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
        .unwrap_or_else(|| panic!("unsupported condition {expression}"));
    let arguments = || argument.as_array().unwrap().iter();
    match function.as_str() {
        "Fn::Equals" => {
            let [left, right] = argument.as_array().unwrap().as_slice() else {
                panic!("Fn::Equals takes two operands: {argument}");
            };
            operand(left, parameters) == operand(right, parameters)
        }
        "Fn::Not" => !holds(&argument[0], parameters),
        "Fn::And" => arguments().all(|a| holds(a, parameters)),
        "Fn::Or" => arguments().any(|a| holds(a, parameters)),
        "Condition" => condition_holds(argument.as_str().unwrap(), parameters),
        other => panic!("unsupported condition function {other}"),
    }
}

/// Whether the template's condition of this name holds.
pub fn condition_holds(name: &str, parameters: &Parameters) -> bool {
    let condition = &template()["Conditions"][name];
    assert!(!condition.is_null(), "no condition {name}");
    holds(condition, parameters)
}

/// Whether the resource is part of a deployment with these parameters.
pub fn deployed(logical_id: &str, parameters: &Parameters) -> bool {
    match resource(logical_id)["Condition"].as_str() {
        None => true,
        Some(condition) => condition_holds(condition, parameters),
    }
}

/// Every node of a value, depth first.
pub fn walk(value: &Json) -> Vec<&Json> {
    let mut out = vec![value];
    match value {
        Json::Object(map) => out.extend(map.values().flat_map(walk)),
        Json::Array(items) => out.extend(items.iter().flat_map(walk)),
        _ => {}
    }
    out
}
