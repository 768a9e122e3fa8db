//! What a requestor needs to use a grant: an `~/.aws/config` profile, the `aws sts
//! assume-role` command, the console switch-role link, and the grant as infrastructure code
//! (CloudFormation and Terraform) that creates the same roles and policies.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arn::Arn;
use crate::document::PolicyDocument;
use crate::ids::{DbUser, ServicePrincipal};
use crate::role::RoleSpec;

/// Where the SDK or CLI gets the credentials it assumes the role with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceCredentials {
    /// A person's own profile (`source_profile`).
    Profile(String),
    /// `credential_source` for code running on AWS: `Environment`, `Ec2InstanceMetadata`,
    /// `EcsContainer`.
    Platform(&'static str),
}

impl SourceCredentials {
    /// The `credential_source` code of a service principal runs with, if it has one (S3 does
    /// not run code, so it has none).
    pub fn for_service(principal: &ServicePrincipal) -> Option<Self> {
        match principal.as_str() {
            "lambda.amazonaws.com" => Some(Self::Platform("Environment")),
            "ec2.amazonaws.com" => Some(Self::Platform("Ec2InstanceMetadata")),
            "ecs-tasks.amazonaws.com" => Some(Self::Platform("EcsContainer")),
            _ => None,
        }
    }
}

/// How to assume one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub role_arn: Arn,
    pub external_id: Option<String>,
    pub duration_seconds: i32,
    /// The MFA device to sign with, when the trust policy requires MFA.
    pub mfa_serial: Option<String>,
    pub source: Option<SourceCredentials>,
}

/// Everything handed to the requestor, as text ready to paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "What the requestor needs to use the grant, as text ready to paste, and what \
        the request made as infrastructure code."
    )
)]
pub struct HandOff {
    /// The profile name xacct suggests, `xacct-` and the owner role's name, at most 64
    /// characters.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = "^xacct-[A-Za-z0-9_+=,.@-]*$")
    )]
    pub profile_name: String,
    /// An `~/.aws/config` section (`[profile <profile_name>]` with `role_arn`,
    /// `source_profile` or `credential_source`, `external_id`, `mfa_serial`, ...); `null` for
    /// a service that runs no code reading one (such as `states.amazonaws.com`).
    #[cfg_attr(feature = "openapi", schema(required = true, pattern = "^\\[profile "))]
    pub aws_config: Option<String>,
    /// The `aws sts assume-role` command for the owner role, shell-quoted.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^aws sts assume-role --role-arn ")
    )]
    pub assume_role_command: String,
    /// For people, the console's switch-role link into the owner role (the console has no
    /// External ID field: with one, use the profile or the command); `null` for a service.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<crate::openapi::SwitchRoleUrl>))]
    pub switch_role_url: Option<String>,
    /// A CloudFormation template (JSON) that makes the same role or policy.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub cloudformation: String,
    /// Terraform (HCL) that makes the same role or policy.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub terraform: String,
    /// For a database login grant, the `aws rds generate-db-auth-token` command (host, port,
    /// region, user) that gets the password for one connection; absent otherwise. The token
    /// it prints is the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = false, pattern = "^aws rds generate-db-auth-token "))]
    pub db_auth_token_command: Option<String>,
    /// What is left to do by hand, such as adding the External ID or an MFA device.
    pub notes: Vec<String>,
}

/// The profile name xacct suggests for a role: `xacct-<role name>`, at most 64 characters.
pub fn profile_name(role_arn: &Arn) -> String {
    let name = role_arn.resource_name();
    let name = name.strip_prefix("xacct-").unwrap_or(name);
    format!("xacct-{name}").chars().take(64).collect()
}

/// The `~/.aws/config` section for `access`, or `None` without a credential source.
pub fn aws_config(profile: &str, access: &Access) -> Option<String> {
    let source = access.source.as_ref()?;
    let mut out = format!("[profile {profile}]\nrole_arn = {}\n", access.role_arn);
    match source {
        SourceCredentials::Profile(p) => {
            let _ = writeln!(out, "source_profile = {p}");
        }
        SourceCredentials::Platform(s) => {
            let _ = writeln!(out, "credential_source = {s}");
        }
    }
    if let Some(e) = &access.external_id {
        let _ = writeln!(out, "external_id = {e}");
    }
    if let Some(m) = &access.mfa_serial {
        let _ = writeln!(out, "mfa_serial = {m}");
    }
    let _ = writeln!(out, "duration_seconds = {}", access.duration_seconds);
    let _ = writeln!(out, "role_session_name = {profile}");
    Some(out)
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `aws sts assume-role` command for `access`.
pub fn assume_role_command(session_name: &str, access: &Access) -> String {
    let mut words = vec![
        "aws".to_owned(),
        "sts".to_owned(),
        "assume-role".to_owned(),
        "--role-arn".to_owned(),
        shell_word(&access.role_arn.to_string()),
        "--role-session-name".to_owned(),
        shell_word(session_name),
    ];
    if let Some(e) = &access.external_id {
        words.extend(["--external-id".to_owned(), shell_word(e)]);
    }
    words.extend([
        "--duration-seconds".to_owned(),
        access.duration_seconds.to_string(),
    ]);
    if let Some(m) = &access.mfa_serial {
        words.extend([
            "--serial-number".to_owned(),
            shell_word(m),
            "--token-code".to_owned(),
            "\"$MFA_CODE\"".to_owned(),
        ]);
    }
    words.join(" ")
}

/// Where and as whom a grant logs in to a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbLogin<'a> {
    pub host: &'a str,
    pub port: i32,
    pub region: &'a str,
    pub user: &'a DbUser,
}

/// `aws rds generate-db-auth-token` for `login`, signed with the role's profile: a token
/// is valid for 15 minutes and works only when the role signs it.
pub fn db_auth_token_command(profile: &str, login: &DbLogin<'_>) -> String {
    [
        "aws",
        "rds",
        "generate-db-auth-token",
        "--hostname",
        &shell_word(login.host),
        "--port",
        &login.port.to_string(),
        "--region",
        &shell_word(login.region),
        "--username",
        &shell_word(login.user.as_str()),
        "--profile",
        &shell_word(profile),
    ]
    .join(" ")
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The console's switch-role link for a role: its partition's sign-in host, the account,
/// the role name with its path (as the console wants it), and a display name of at most 64
/// characters.
pub fn switch_role_url(role_arn: &Arn, display_name: &str) -> String {
    let path_and_name = role_arn
        .resource()
        .strip_prefix("role/")
        .unwrap_or(role_arn.resource());
    let display: String = display_name.chars().take(64).collect();
    format!(
        "https://{}/switchrole?account={}&roleName={}&displayName={}",
        role_arn.partition().signin_host(),
        query_value(role_arn.account()),
        query_value(path_and_name),
        query_value(&display)
    )
}

/// One IAM resource of a grant, as infrastructure code describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamResource {
    /// A role with one inline policy (and, for EC2, an instance profile of the same name).
    Role(Box<RoleSpec>),
    /// An inline policy on an existing group.
    GroupPolicy {
        group: String,
        policy_name: String,
        policy: PolicyDocument,
    },
    /// An inline policy on an existing user.
    UserPolicy {
        user: String,
        policy_name: String,
        policy: PolicyDocument,
    },
}

fn doc_value(doc: &PolicyDocument) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// A CloudFormation template (pretty JSON) creating `resources`, with the role's ARN as an
/// output.
pub fn cloudformation(description: &str, resources: &[IamResource]) -> String {
    let mut out = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for (i, resource) in resources.iter().enumerate() {
        let suffix = if i == 0 { String::new() } else { i.to_string() };
        match resource {
            IamResource::Role(role) => {
                let logical = format!("Role{suffix}");
                let mut props = json!({
                    "RoleName": role.name,
                    "Path": role.path,
                    "Description": role.description,
                    "AssumeRolePolicyDocument": doc_value(&role.trust_policy),
                    "MaxSessionDuration": role.max_session_duration,
                    "Policies": [{
                        "PolicyName": role.policy_name,
                        "PolicyDocument": doc_value(&role.policy),
                    }],
                    "Tags": role.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
                });
                if let (Some(b), Some(map)) = (&role.permissions_boundary, props.as_object_mut()) {
                    map.insert("PermissionsBoundary".to_owned(), json!(b));
                }
                out.insert(
                    logical.clone(),
                    json!({"Type": "AWS::IAM::Role", "Properties": props}),
                );
                outputs.insert(
                    format!("{logical}Arn"),
                    json!({"Value": {"Fn::GetAtt": [logical, "Arn"]}}),
                );
                if role.instance_profile {
                    let profile = format!("InstanceProfile{suffix}");
                    out.insert(
                        profile.clone(),
                        json!({"Type": "AWS::IAM::InstanceProfile", "Properties": {
                            "InstanceProfileName": role.name,
                            "Path": role.path,
                            "Roles": [{"Ref": logical}],
                        }}),
                    );
                    outputs.insert(
                        format!("{profile}Arn"),
                        json!({"Value": {"Fn::GetAtt": [profile, "Arn"]}}),
                    );
                }
            }
            IamResource::GroupPolicy {
                group,
                policy_name,
                policy,
            } => {
                out.insert(
                    format!("GroupPolicy{suffix}"),
                    json!({"Type": "AWS::IAM::GroupPolicy", "Properties": {
                        "GroupName": group,
                        "PolicyName": policy_name,
                        "PolicyDocument": doc_value(policy),
                    }}),
                );
            }
            IamResource::UserPolicy {
                user,
                policy_name,
                policy,
            } => {
                out.insert(
                    format!("UserPolicy{suffix}"),
                    json!({"Type": "AWS::IAM::UserPolicy", "Properties": {
                        "UserName": user,
                        "PolicyName": policy_name,
                        "PolicyDocument": doc_value(policy),
                    }}),
                );
            }
        }
    }
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description.chars().take(1024).collect::<String>(),
        "Resources": out,
    });
    if !outputs.is_empty()
        && let Some(map) = template.as_object_mut()
    {
        map.insert("Outputs".to_owned(), Value::Object(outputs));
    }
    serde_json::to_string_pretty(&template).unwrap_or_default()
}

/// A quoted HCL string: JSON escapes plus `$${` and `%%{` so Terraform does not interpolate.
fn hcl_string(s: &str) -> String {
    let json = Value::String(s.to_owned()).to_string();
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if (c == '$' || c == '%') && chars.peek() == Some(&'{') {
            out.push(c);
        }
    }
    out
}

/// A JSON value as an HCL expression (for `jsonencode(...)`).
fn hcl_value(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&hcl_string(s)),
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                hcl_value(item, indent + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&"  ".repeat(indent));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (k, item) in map {
                out.push_str(&pad);
                out.push_str(&hcl_string(k));
                out.push_str(" = ");
                hcl_value(item, indent + 1, out);
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
        }
    }
}

fn hcl_policy(doc: &PolicyDocument) -> String {
    let mut out = String::from("jsonencode(");
    hcl_value(&doc_value(doc), 1, &mut out);
    out.push(')');
    out
}

/// Terraform (HCL, AWS provider) creating `resources`, with the role's ARN as an output.
pub fn terraform(resources: &[IamResource]) -> String {
    let mut out = String::new();
    for (i, resource) in resources.iter().enumerate() {
        let label = if i == 0 {
            "xacct".to_owned()
        } else {
            format!("xacct_{i}")
        };
        match resource {
            IamResource::Role(role) => {
                let _ = writeln!(out, "resource \"aws_iam_role\" \"{label}\" {{");
                let _ = writeln!(
                    out,
                    "  name                 = {}",
                    hcl_string(role.name.as_str())
                );
                let _ = writeln!(out, "  path                 = {}", hcl_string(&role.path));
                let _ = writeln!(
                    out,
                    "  description          = {}",
                    hcl_string(&role.description)
                );
                let _ = writeln!(
                    out,
                    "  max_session_duration = {}",
                    role.max_session_duration
                );
                if let Some(b) = &role.permissions_boundary {
                    let _ = writeln!(
                        out,
                        "  permissions_boundary = {}",
                        hcl_string(&b.to_string())
                    );
                }
                let _ = writeln!(
                    out,
                    "  assume_role_policy   = {}",
                    hcl_policy(&role.trust_policy)
                );
                let tags = serde_json::to_value(&role.tags).unwrap_or(Value::Null);
                let mut t = String::new();
                hcl_value(&tags, 1, &mut t);
                let _ = writeln!(out, "  tags                 = {t}\n}}\n");
                let _ = writeln!(out, "resource \"aws_iam_role_policy\" \"{label}\" {{");
                let _ = writeln!(out, "  name   = {}", hcl_string(&role.policy_name));
                let _ = writeln!(out, "  role   = aws_iam_role.{label}.id");
                let _ = writeln!(out, "  policy = {}\n}}\n", hcl_policy(&role.policy));
                if role.instance_profile {
                    let _ = writeln!(out, "resource \"aws_iam_instance_profile\" \"{label}\" {{");
                    let _ = writeln!(out, "  name = {}", hcl_string(role.name.as_str()));
                    let _ = writeln!(out, "  path = {}", hcl_string(&role.path));
                    let _ = writeln!(out, "  role = aws_iam_role.{label}.name\n}}\n");
                }
                let _ = writeln!(
                    out,
                    "output \"{label}_role_arn\" {{\n  value = aws_iam_role.{label}.arn\n}}\n"
                );
            }
            IamResource::GroupPolicy {
                group,
                policy_name,
                policy,
            } => {
                let _ = writeln!(out, "resource \"aws_iam_group_policy\" \"{label}\" {{");
                let _ = writeln!(out, "  name   = {}", hcl_string(policy_name));
                let _ = writeln!(out, "  group  = {}", hcl_string(group));
                let _ = writeln!(out, "  policy = {}\n}}\n", hcl_policy(policy));
            }
            IamResource::UserPolicy {
                user,
                policy_name,
                policy,
            } => {
                let _ = writeln!(out, "resource \"aws_iam_user_policy\" \"{label}\" {{");
                let _ = writeln!(out, "  name   = {}", hcl_string(policy_name));
                let _ = writeln!(out, "  user   = {}", hcl_string(user));
                let _ = writeln!(out, "  policy = {}\n}}\n", hcl_policy(policy));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Statement;
    use std::collections::BTreeMap;

    fn access(source: Option<SourceCredentials>, mfa: Option<&str>) -> Access {
        Access {
            role_arn: "arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b"
                .parse()
                .unwrap(),
            external_id: Some("ext-0123456789".to_owned()),
            duration_seconds: 3600,
            mfa_serial: mfa.map(str::to_owned),
            source,
        }
    }

    #[test]
    fn profile_for_a_person_names_source_profile_and_mfa() {
        let a = access(
            Some(SourceCredentials::Profile("default".into())),
            Some("arn:aws:iam::222222222222:mfa/alice"),
        );
        let name = profile_name(&a.role_arn);
        assert_eq!(name, "xacct-s3-222222222222-reports-1a2b");
        assert_eq!(
            aws_config(&name, &a).unwrap(),
            "[profile xacct-s3-222222222222-reports-1a2b]\n\
             role_arn = arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b\n\
             source_profile = default\n\
             external_id = ext-0123456789\n\
             mfa_serial = arn:aws:iam::222222222222:mfa/alice\n\
             duration_seconds = 3600\n\
             role_session_name = xacct-s3-222222222222-reports-1a2b\n"
        );
    }

    #[test]
    fn profile_for_code_uses_its_platform_credentials() {
        let sp: ServicePrincipal = "ecs-tasks.amazonaws.com".parse().unwrap();
        let a = access(SourceCredentials::for_service(&sp), None);
        let text = aws_config("p", &a).unwrap();
        assert!(
            text.contains("credential_source = EcsContainer\n"),
            "{text}"
        );
        assert!(!text.contains("source_profile"));
        let states: ServicePrincipal = "states.amazonaws.com".parse().unwrap();
        assert_eq!(SourceCredentials::for_service(&states), None);
        assert_eq!(aws_config("p", &access(None, None)), None);
    }

    #[test]
    fn command_quotes_what_a_shell_would_split() {
        let mut a = access(None, Some("arn:aws:iam::222222222222:mfa/alice"));
        a.external_id = Some("it's here".into());
        assert_eq!(
            assume_role_command("xacct", &a),
            "aws sts assume-role --role-arn arn:aws:iam::111111111111:role/xacct/xacct-s3-222222222222-reports-1a2b \
             --role-session-name xacct --external-id 'it'\\''s here' --duration-seconds 3600 \
             --serial-number arn:aws:iam::222222222222:mfa/alice --token-code \"$MFA_CODE\""
        );
    }

    #[test]
    fn switch_role_link_is_partition_aware_and_encoded() {
        let arn: Arn = "arn:aws-cn:iam::111111111111:role/xacct/app"
            .parse()
            .unwrap();
        let url = switch_role_url(&arn, &"d".repeat(80));
        assert!(
            url.starts_with(
                "https://signin.amazonaws.cn/switchrole?account=111111111111&roleName=xacct%2Fapp"
            ),
            "{url}"
        );
        assert!(url.ends_with(&format!("displayName={}", "d".repeat(64))));
    }

    fn role() -> RoleSpec {
        RoleSpec {
            name: "r".parse().unwrap(),
            path: "/xacct/".into(),
            description: "d".into(),
            trust_policy: PolicyDocument::new(vec![Statement::allow(
                "T",
                vec!["sts:AssumeRole".into()],
                vec!["*".into()],
            )]),
            policy_name: "p".into(),
            policy: PolicyDocument::new(vec![Statement::allow(
                "S",
                vec!["s3:GetObject".into()],
                vec!["arn:aws:s3:::b/${aws:username}/*".into()],
            )]),
            max_session_duration: 3600,
            permissions_boundary: Some("arn:aws:iam::111111111111:policy/b".parse().unwrap()),
            tags: BTreeMap::from([("xacct:managed".into(), "true".into())]),
            identity_tags: Vec::new(),
            instance_profile: true,
        }
    }

    #[test]
    fn cloudformation_round_trips_the_documents() {
        let text = cloudformation("grant", &[IamResource::Role(Box::new(role()))]);
        let v: Value = serde_json::from_str(&text).unwrap();
        let props = &v["Resources"]["Role"]["Properties"];
        let policy: PolicyDocument =
            serde_json::from_value(props["Policies"][0]["PolicyDocument"].clone()).unwrap();
        assert_eq!(policy, role().policy);
        assert_eq!(
            props["PermissionsBoundary"],
            "arn:aws:iam::111111111111:policy/b"
        );
        assert_eq!(
            v["Resources"]["InstanceProfile"]["Properties"]["Roles"][0]["Ref"],
            "Role"
        );
    }

    #[test]
    fn terraform_escapes_interpolation() {
        let text = terraform(&[IamResource::Role(Box::new(role()))]);
        assert!(
            text.contains("\"arn:aws:s3:::b/$${aws:username}/*\""),
            "{text}"
        );
        assert!(text.contains("resource \"aws_iam_instance_profile\" \"xacct\""));
        assert!(text.contains("role   = aws_iam_role.xacct.id"));
        assert_eq!(hcl_string("100%{x} \"q\""), "\"100%%{x} \\\"q\\\"\"");
    }

    #[test]
    fn the_db_token_command_names_host_port_region_user_and_the_roles_profile() {
        let user: DbUser = "app_reader".parse().unwrap();
        let login = DbLogin {
            host: "orders.abc.us-east-1.rds.amazonaws.com",
            port: 5432,
            region: "us-east-1",
            user: &user,
        };
        assert_eq!(
            db_auth_token_command("xacct-grant", &login),
            "aws rds generate-db-auth-token --hostname orders.abc.us-east-1.rds.amazonaws.com --port 5432 --region us-east-1 --username app_reader --profile xacct-grant"
        );
    }
}
