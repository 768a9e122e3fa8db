//! The hand-off every create answer carries: what the requestor needs to use the grant
//! (profile, command, switch-role link) and the grant as infrastructure code.

use xacct_aws::roles::PreviousRole;
use xacct_policy::access_diff::{AccessDiff, RoleAccess};
use xacct_policy::handoff::{
    Access, HandOff, IamResource, assume_role_command, aws_config, cloudformation, expiry_note,
    profile_name, switch_role_url, terraform,
};
use xacct_policy::role::RoleSpec;
use xacct_policy::{Arn, PolicyDocument};

/// The note every hand-off for a person carries about the console and External IDs.
pub const CONSOLE_NOTE: &str = "the console's switch-role page has no External ID field: a person uses this role through the profile or the command; the link opens the page filled in";

/// Builds the hand-off for assuming `access.role_arn`, with `code` as the infrastructure
/// that creates the grant's side.
pub fn hand_off(
    access: &Access,
    for_person: bool,
    description: &str,
    code: &[IamResource],
    mut notes: Vec<String>,
) -> HandOff {
    let profile = profile_name(&access.role_arn);
    let aws_config = aws_config(&profile, access);
    if aws_config.is_none() {
        notes.push(
            "this service principal runs no code that reads an AWS profile; use the command's arguments in the service's own settings".to_owned(),
        );
    }
    let switch_role_url = for_person.then(|| {
        if access.external_id.is_some() {
            notes.push(CONSOLE_NOTE.to_owned());
        }
        switch_role_url(&access.role_arn, &display_name(&access.role_arn))
    });
    if let Some(at) = access.expires_at {
        notes.push(expiry_note(at));
    }
    HandOff {
        aws_config,
        assume_role_command: assume_role_command(&profile, access),
        profile_name: profile,
        switch_role_url,
        cloudformation: cloudformation(description, code),
        terraform: terraform(code),
        db_auth_token_command: None,
        expires_at: access.expires_at.map(|at| at.to_string()),
        notes,
    }
}

fn display_name(role: &Arn) -> String {
    format!("{} @ {}", role.resource_name(), role.account())
}

/// What writing `spec` does to access, against the role as it was (`None`: a new role).
pub fn role_access_diff(previous: Option<&PreviousRole>, spec: &RoleSpec) -> AccessDiff {
    let empty = PolicyDocument::new(Vec::new());
    AccessDiff::between(
        previous.map(|p| RoleAccess {
            trust: p.trust_policy.as_ref(),
            permissions: p.policy.as_ref().unwrap_or(&empty),
        }),
        RoleAccess {
            trust: Some(&spec.trust_policy),
            permissions: &spec.policy,
        },
    )
}
