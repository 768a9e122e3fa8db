//! A stack instance of `template-member.yaml` in a member account of the local organization,
//! created from the template itself as the member StackSet would create it: every resource
//! with its name, path, description, trust, inline policies and boundary document, the
//! template's intrinsics resolved for that account. moto has no CloudFormation StackSets;
//! reading the template (not a copy of it) keeps the local spoke what AWS would deploy.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use xacct_policy::{AccountId, Arn, OrganizationId, Partition, PolicyDocument};

/// The member template, as the StackSet deploys it.
const TEMPLATE: &str = include_str!("../../../template-member.yaml");
/// The region the local StackSet instance runs in.
const REGION: &str = "us-east-1";

/// What a stack instance is made from: its account and the StackSet's parameters.
#[derive(Debug, Clone)]
pub struct Instance<'a> {
    pub member: &'a AccountId,
    pub hub: &'a AccountId,
    pub organization: &'a OrganizationId,
    /// The StackSet's name; the instance's stack is `StackSet-<name>-<id>`, as AWS names it.
    pub stack_set: &'a str,
}

/// The values `Ref` and `${...}` resolve to: parameters, pseudo parameters, and each
/// resource's physical id as CloudFormation returns it for `Ref`.
struct Names(BTreeMap<String, String>);

impl Names {
    fn get(&self, name: &str) -> Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("template-member.yaml refers to `{name}`, which the local stack instance does not know"))
    }

    /// `Fn::Sub`'s string form: each `${Name}` replaced by its value.
    fn sub(&self, text: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            out.push_str(before);
            let end = after
                .find('}')
                .with_context(|| format!("an unclosed `${{` in !Sub `{text}`"))?;
            let name = after.get(2..end).unwrap_or_default();
            out.push_str(self.get(name)?);
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A template value with its intrinsics resolved: `!Ref` and `!Sub`, the only ones the
    /// member template's resources use; any other is refused rather than guessed.
    fn resolve(&self, value: &Yaml) -> Result<Json> {
        Ok(match value {
            Yaml::Null => Json::Null,
            Yaml::Bool(b) => Json::Bool(*b),
            Yaml::Number(n) => serde_json::to_value(n)?,
            Yaml::String(s) => Json::String(s.clone()),
            Yaml::Sequence(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_>>()?,
            ),
            Yaml::Mapping(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    let key = k.as_str().context("a key that is not text")?;
                    out.insert(key.to_owned(), self.resolve(v)?);
                }
                Json::Object(out)
            }
            Yaml::Tagged(tagged) => match (tagged.tag.to_string().as_str(), &tagged.value) {
                ("!Ref", Yaml::String(name)) => Json::String(self.get(name)?.to_owned()),
                ("!Sub", Yaml::String(text)) => Json::String(self.sub(text)?),
                (tag, _) => bail!("the local stack instance does not resolve {tag}"),
            },
        })
    }
}

/// One resource's properties, resolved, and read one by one so that a property the local
/// instance does not create is an error, not silently left out.
struct Properties(serde_json::Map<String, Json>);

impl Properties {
    fn take(&mut self, name: &str) -> Option<Json> {
        self.0.remove(name)
    }

    fn text(&mut self, name: &str) -> Result<String> {
        match self.take(name) {
            Some(Json::String(s)) => Ok(s),
            other => bail!("property {name}: expected text, got {other:?}"),
        }
    }

    fn document(&mut self, name: &str) -> Result<String> {
        let value = self
            .take(name)
            .with_context(|| format!("property {name} is missing"))?;
        document(value, name)
    }

    fn done(self, logical_id: &str) -> Result<()> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(left) => {
                bail!("{logical_id}: the local stack instance does not create property {left}")
            }
        }
    }
}

/// A policy document checked as xacct's typed document, in IAM's JSON.
fn document(value: Json, what: &str) -> Result<String> {
    let typed: PolicyDocument =
        serde_json::from_value(value).with_context(|| format!("{what} is no policy document"))?;
    Ok(typed.to_json())
}

/// Creates in `config`'s account (the member's) what the member template creates there:
/// the managed policies, then the roles, which refer to them.
pub async fn deploy(config: &SdkConfig, instance: &Instance<'_>) -> Result<()> {
    let template: Yaml = serde_yaml::from_str(TEMPLATE).context("template-member.yaml")?;
    let stack_name = format!("StackSet-{}-0a1b2c3d", instance.stack_set);
    let stack_id = Arn::from_parts(
        Partition::Aws,
        "cloudformation",
        REGION,
        Some(instance.member),
        &[
            "stack/",
            &stack_name,
            "/0a1b2c3d-0000-4000-8000-000000000000",
        ]
        .concat(),
    )?;
    let mut names = Names(BTreeMap::from([
        ("AWS::Partition".to_owned(), Partition::Aws.to_string()),
        ("AWS::AccountId".to_owned(), instance.member.to_string()),
        ("AWS::Region".to_owned(), REGION.to_owned()),
        ("AWS::StackName".to_owned(), stack_name),
        ("AWS::StackId".to_owned(), stack_id.to_string()),
        ("HubAccountId".to_owned(), instance.hub.to_string()),
        (
            "OrganizationId".to_owned(),
            instance.organization.to_string(),
        ),
    ]));
    // Parameters the StackSet leaves at their defaults.
    let parameters = template
        .get("Parameters")
        .and_then(Yaml::as_mapping)
        .context("template-member.yaml has no Parameters")?;
    for (name, parameter) in parameters {
        let (Some(name), Some(default)) = (
            name.as_str(),
            parameter.get("Default").and_then(Yaml::as_str),
        ) else {
            continue;
        };
        names.0.entry(name.to_owned()).or_insert(default.to_owned());
    }
    for (name, _) in parameters {
        let name = name.as_str().context("a parameter name that is not text")?;
        names.get(name)?;
    }

    let resources = template
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .context("template-member.yaml has no Resources")?;
    let mut policies = Vec::new();
    let mut roles = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().context("a logical id that is not text")?;
        match resource.get("Type").and_then(Yaml::as_str) {
            Some("AWS::IAM::ManagedPolicy") => policies.push((id, resource)),
            Some("AWS::IAM::Role") => roles.push((id, resource)),
            other => bail!("{id}: the local stack instance does not create {other:?}"),
        }
    }
    let iam = aws_sdk_iam::Client::new(config);
    for (id, resource) in policies {
        let arn = managed_policy(&iam, &names, id, resource, instance.member).await?;
        names.0.insert(id.to_owned(), arn.to_string());
    }
    for (id, resource) in roles {
        let name = role(&iam, &names, id, resource).await?;
        names.0.insert(id.to_owned(), name);
    }
    Ok(())
}

fn properties(names: &Names, id: &str, resource: &Yaml) -> Result<Properties> {
    let value = resource
        .get("Properties")
        .with_context(|| format!("{id} has no Properties"))?;
    match names.resolve(value)? {
        Json::Object(map) => Ok(Properties(map)),
        _ => bail!("{id}: Properties is not a mapping"),
    }
}

/// An `AWS::IAM::ManagedPolicy`; its ARN is what `Ref` gives.
async fn managed_policy(
    iam: &aws_sdk_iam::Client,
    names: &Names,
    id: &str,
    resource: &Yaml,
    member: &AccountId,
) -> Result<Arn> {
    let mut p = properties(names, id, resource)?;
    let name = p.text("ManagedPolicyName")?;
    let path = p.text("Path")?;
    let description = p.text("Description")?;
    let document = p.document("PolicyDocument")?;
    p.done(id)?;
    iam.create_policy()
        .policy_name(&name)
        .path(&path)
        .description(description)
        .policy_document(document)
        .send()
        .await
        .with_context(|| format!("iam:CreatePolicy {name} ({id})"))?;
    Ok(Arn::iam(Partition::Aws, member, "policy", &path, &name)?)
}

/// An `AWS::IAM::Role` with its inline policies; its name is what `Ref` gives.
async fn role(
    iam: &aws_sdk_iam::Client,
    names: &Names,
    id: &str,
    resource: &Yaml,
) -> Result<String> {
    let mut p = properties(names, id, resource)?;
    let name = p.text("RoleName")?;
    let mut create = iam
        .create_role()
        .role_name(&name)
        .path(p.text("Path")?)
        .description(p.text("Description")?)
        .assume_role_policy_document(p.document("AssumeRolePolicyDocument")?);
    if let Some(seconds) = p.take("MaxSessionDuration") {
        let seconds = seconds
            .as_i64()
            .and_then(|s| i32::try_from(s).ok())
            .with_context(|| format!("{id}: MaxSessionDuration is no number of seconds"))?;
        create = create.max_session_duration(seconds);
    }
    if let Some(boundary) = p.take("PermissionsBoundary") {
        let boundary = boundary
            .as_str()
            .with_context(|| format!("{id}: PermissionsBoundary is no ARN"))?
            .parse::<Arn>()?;
        create = create.permissions_boundary(boundary.to_string());
    }
    let inline = match p.take("Policies") {
        Some(Json::Array(items)) => items,
        None => Vec::new(),
        Some(other) => bail!("{id}: Policies is not a list: {other}"),
    };
    p.done(id)?;
    create
        .send()
        .await
        .with_context(|| format!("iam:CreateRole {name} ({id})"))?;
    for policy in inline {
        let Json::Object(policy) = policy else {
            bail!("{id}: an inline policy that is not a mapping");
        };
        let mut policy = Properties(policy);
        let policy_name = policy.text("PolicyName")?;
        let document = policy.document("PolicyDocument")?;
        policy.done(id)?;
        iam.put_role_policy()
            .role_name(&name)
            .policy_name(&policy_name)
            .policy_document(document)
            .send()
            .await
            .with_context(|| format!("iam:PutRolePolicy {name} {policy_name}"))?;
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn names() -> Names {
        Names(BTreeMap::from([
            ("AWS::Partition".to_owned(), "aws".to_owned()),
            ("AWS::AccountId".to_owned(), "333333333333".to_owned()),
        ]))
    }

    #[test]
    fn sub_replaces_each_name_and_refuses_an_unknown_one() {
        let names = names();
        assert_eq!(
            names
                .sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x")
                .unwrap(),
            "arn:aws:iam::333333333333:role/x"
        );
        assert!(names.sub("${Nope}").is_err());
        assert!(names.sub("${AWS::Partition").is_err());
    }

    #[test]
    fn only_ref_and_sub_are_resolved() {
        let names = names();
        let yaml: Yaml =
            serde_yaml::from_str("a: !Ref AWS::AccountId\nb: [!Sub 'x-${AWS::Partition}']")
                .unwrap();
        assert_eq!(
            names.resolve(&yaml).unwrap(),
            serde_json::json!({"a": "333333333333", "b": ["x-aws"]})
        );
        let getatt: Yaml = serde_yaml::from_str("a: !GetAtt R.Arn").unwrap();
        assert!(names.resolve(&getatt).is_err());
    }

    #[test]
    fn every_resource_of_the_member_template_is_one_the_local_instance_creates() {
        let template: Yaml = serde_yaml::from_str(TEMPLATE).unwrap();
        let member: AccountId = "333333333333".parse().unwrap();
        let mut names = names();
        names.0.extend([
            (
                "AWS::StackName".to_owned(),
                "StackSet-xacct-spoke-1".to_owned(),
            ),
            (
                "AWS::StackId".to_owned(),
                "arn:aws:cloudformation:us-east-1:333333333333:stack/StackSet-xacct-spoke-1/1"
                    .to_owned(),
            ),
            ("AWS::Region".to_owned(), REGION.to_owned()),
            ("HubAccountId".to_owned(), "111111111111".to_owned()),
            ("OrganizationId".to_owned(), "o-abcdefghij".to_owned()),
            ("SpokeRoleName".to_owned(), "xacct-spoke".to_owned()),
            (
                "SpokeBoundaryPolicy".to_owned(),
                Arn::iam(
                    Partition::Aws,
                    &member,
                    "policy",
                    "/xacct-spoke/",
                    "xacct-boundary",
                )
                .unwrap()
                .to_string(),
            ),
        ]);
        let resources = template["Resources"].as_mapping().unwrap();
        assert!(!resources.is_empty());
        for (id, resource) in resources {
            let id = id.as_str().unwrap();
            let mut p = properties(&names, id, resource).unwrap();
            match resource["Type"].as_str().unwrap() {
                "AWS::IAM::ManagedPolicy" => {
                    for key in ["ManagedPolicyName", "Path", "Description"] {
                        p.text(key).unwrap();
                    }
                    p.document("PolicyDocument").unwrap();
                }
                "AWS::IAM::Role" => {
                    for key in ["RoleName", "Path", "Description"] {
                        p.text(key).unwrap();
                    }
                    p.document("AssumeRolePolicyDocument").unwrap();
                    p.take("MaxSessionDuration");
                    p.take("PermissionsBoundary");
                    for policy in p.take("Policies").unwrap().as_array().unwrap() {
                        document(policy["PolicyDocument"].clone(), id).unwrap();
                    }
                }
                other => panic!("{id}: {other}"),
            }
            p.done(id).unwrap();
        }
    }
}
